/* compile.c - the interpreter backend: compiles each validated function body to
 * slot-addressed threaded code. validate/func.c decodes and checks every instruction; this
 * file only decides where values live and what to emit.
 *
 * Every operand-stack position has a fixed frame slot (locals first, then the stack), so
 * instructions name their inputs and output by slot and need no runtime stack pointer.
 * local.get is deferred: the operand refers to the local's slot until something forces a
 * copy (a block boundary, a call, or a write to that local). An instruction whose result
 * is immediately stored by local.set writes straight into the local. */
#include "compile.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/error.h"
#include "instr/iop.h"
#include "validate/func.h"

#define MAX_FRAME_SLOTS (1u << 20)
/* Bound on the compiled code of one function, in cells: CODE_CELLS_BASE plus
 * CODE_CELLS_PER_BYTE per byte of its body. Ordinary instructions take a few cells per byte,
 * but branches copy the values they carry, so code grows with values x branches: unbounded,
 * a 64 KiB body could ask for gigabytes. */
#define CODE_CELLS_BASE (1u << 20)
#define CODE_CELLS_PER_BYTE 64u
#define NO_PATCH UINT32_MAX
/* Loop headers poll for interrupts and charge fuel (IOP_loop_check). A benchmarking build
 * with -DKILN_BENCH_NO_CHECKS leaves them out to measure what they cost (exec/interp.c). */
#ifdef KILN_BENCH_NO_CHECKS
#define EMIT_LOOP_CHECKS 0
#else
#define EMIT_LOOP_CHECKS 1
#endif

/* ------------------------------------------------------------------ state */

enum { W_OWN, W_LOCAL, W_CONST };

typedef struct operand {
  uint8_t type;
  uint8_t where;     /* W_OWN: in its slot; W_LOCAL: still in a local's slot (deferred
                        local.get); W_CONST: not yet anywhere (deferred constant, imm) */
  uint32_t slot;     /* its own stack slot (byte offset) */
  uint32_t loc;      /* where the value is now (byte offset), unless W_CONST */
  uint64_t imm;      /* W_CONST: the value's bits */
} operand;

/* The backend's view of a block: where its values live and which cells wait for its end.
 * The validator keeps the types; kind, params and results mirror its frame. */
typedef struct ctrl_frame {
  uint8_t kind;          /* CTRL_* */
  bool unreachable;      /* the rest of the block is unreachable: nothing is emitted */
  bool dead;             /* the whole block is inside unreachable code */
  uint32_t nparams, nresults;
  const uint8_t *params, *results;
  uint32_t height;       /* operands below the block's params */
  uint32_t slot_base;    /* slot of the first param / result */
  uint32_t loop_pc;      /* CTRL_LOOP: cell of the loop header */
  uint32_t fuel_cell;    /* CTRL_LOOP: the loop header's fuel cost cell, or NO_PATCH */
  uint32_t patch_head;   /* forward branches to the end, a list through patches[] */
  uint32_t else_patch;   /* CTRL_IF: the cell holding the jump_unless target */
} ctrl_frame;

typedef struct patch {
  uint32_t cell;
  uint32_t next;
} patch;

typedef struct compiler {
  kiln_module *mod;
  const module_decl *m;
  const void *const *h;
  func_validator *v;     /* reports errors at the current instruction */
  kiln_status status;

  uint32_t local_count;
  const uint8_t *local_types;
  uint32_t *local_slots;
  uint32_t locals_end;   /* first stack slot */
  uint32_t zero_slot;    /* a slot that is always 0 (after the locals), or NO_PATCH */
  uint32_t result_bytes;
  uint32_t *local_refs;  /* per local slot: W_LOCAL operands on the stack that read it */
  uint32_t deferred;     /* operands on the stack that are not W_OWN */

  operand *stack;
  uint32_t sp, stack_cap;
  ctrl_frame *ctrls;
  uint32_t csp, ctrl_cap;
  patch *patches;
  uint32_t patch_count, patch_cap;
  uint32_t *relocs;      /* cells holding a target cell index, made absolute at the end */
  uint32_t reloc_count, reloc_cap;

  cell *code;
  uint32_t ncode, code_cap;
  uint32_t max_code;     /* see CODE_CELLS_BASE */
  code_offset *offsets;
  uint32_t offset_count, offset_cap;
  uint32_t instr_offset; /* byte offset of the instruction being compiled */

  uint32_t max_slot;
  uint32_t max_depth;    /* deepest control nesting */
  uint32_t last_dst_cell; /* dst cell of the last instruction, when it produced the top */
  uint32_t last_dst_end;  /* ncode right after that instruction; else UINT32_MAX */
  uint32_t last_op_cell;  /* handler cell of that instruction */
  int last_iop;           /* and its iop */
  uint32_t osr_loops;     /* loops of IOP_loop_osr so far: the next one's ordinal */
} compiler;

/* ------------------------------------------------------------------ errors */

/* The backend's own failures (limits, memory); the message names the function and offset. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool fail(compiler *c, kiln_status status, const char *format, ...) {
  if (c->status != KILN_OK) return false;
  char msg[320];
  va_list ap;
  va_start(ap, format);
  vsnprintf(msg, sizeof msg, format, ap);
  va_end(ap);
  c->status = func_validator_fail(c->v, status, "%s", msg);
  return false;
}

#define TRY(x) do { if (!(x)) return false; } while (0)

static bool nomem(compiler *c) { return fail(c, KILN_ERR_NOMEM, "out of memory"); }

static bool grow(compiler *c, void **items, uint32_t *cap, uint32_t need, size_t size) {
  return array_reserve(items, cap, need, size) || nomem(c);
}

/* ------------------------------------------------------------------ emission */

static bool emitting(const compiler *c) {
  const ctrl_frame *f = &c->ctrls[c->csp - 1];
  return !f->unreachable && !f->dead;
}

static bool emit(compiler *c, cell v) {
  if (c->ncode >= c->max_code)
    return fail(c, KILN_ERR_LIMIT, "function too large: compiled code exceeds %u cells", c->max_code);
  TRY(grow(c, (void **)&c->code, &c->code_cap, c->ncode + 1, sizeof(cell)));
  c->code[c->ncode++] = v;
  return true;
}

static bool emit_op(compiler *c, int iop) {
  TRY(grow(c, (void **)&c->offsets, &c->offset_cap, c->offset_count + 1, sizeof(code_offset)));
  c->offsets[c->offset_count].cell = c->ncode;
  c->offsets[c->offset_count].wasm_offset = (uint32_t)c->instr_offset;
  c->offset_count++;
  return emit(c, (cell)(uintptr_t)c->h[iop]);
}

/* Make cell pos hold the absolute address of code cell `target` (fixed up at the end). */
static bool mark_target(compiler *c, uint32_t pos, uint32_t target) {
  TRY(grow(c, (void **)&c->relocs, &c->reloc_cap, c->reloc_count + 1, sizeof(uint32_t)));
  c->relocs[c->reloc_count++] = pos;
  c->code[pos] = target;
  return true;
}

/* Make cell pos a forward branch to the end of ctrl f, patched when the end is reached. */
static bool mark_forward(compiler *c, ctrl_frame *f, uint32_t pos) {
  TRY(grow(c, (void **)&c->patches, &c->patch_cap, c->patch_count + 1, sizeof(patch)));
  c->patches[c->patch_count].cell = pos;
  c->patches[c->patch_count].next = f->patch_head;
  f->patch_head = c->patch_count++;
  return mark_target(c, pos, 0);
}

static bool emit_target(compiler *c, uint32_t target) {
  TRY(emit(c, 0));
  return mark_target(c, c->ncode - 1, target);
}

static bool emit_forward(compiler *c, ctrl_frame *f) {
  TRY(emit(c, 0));
  return mark_forward(c, f, c->ncode - 1);
}

/* A label is placed here: the previous instruction's result can no longer be retargeted. */
static void place_label(compiler *c) { c->last_dst_end = UINT32_MAX; }

static bool emit_copy(compiler *c, uint8_t type, uint32_t dst, uint32_t src) {
  if (dst == src) return true;
  TRY(emit_op(c, type == VT_V128 ? IOP_copy128 : IOP_copy64));
  TRY(emit(c, dst));
  return emit(c, src);
}

/* ------------------------------------------------------------------ operand stack */

static uint32_t next_slot(const compiler *c) {
  if (c->sp == 0) return c->locals_end;
  const operand *top = &c->stack[c->sp - 1];
  return top->slot + 8 * valtype_slots(top->type);
}

static operand *push(compiler *c, uint8_t type) {
  if (!grow(c, (void **)&c->stack, &c->stack_cap, c->sp + 1, sizeof(operand))) return NULL;
  operand *o = &c->stack[c->sp];
  o->type = type;
  o->where = W_OWN;
  o->imm = 0;
  o->slot = next_slot(c);
  o->loc = o->slot;
  c->sp++;
  uint32_t end = o->slot + 8 * valtype_slots(type);
  if (end > c->max_slot) c->max_slot = end;
  if (c->max_slot > MAX_FRAME_SLOTS * 8u) {
    fail(c, KILN_ERR_LIMIT, "operand stack too deep");
    return NULL;
  }
  return o;
}

/* The counts of deferred operands, kept as operands enter and leave the stack or get their
 * own slot, spare the scans below from walking a deep stack that holds none. */
static void count_deferred(compiler *c, const operand *o, int delta) {
  if (o->where == W_OWN) return;
  c->deferred += delta;
  if (o->where == W_LOCAL) c->local_refs[o->loc / 8] += delta;
}

/* Push a deferred local.get of the local in slot local_slot. */
static bool push_local(compiler *c, uint8_t type, uint32_t local_slot) {
  operand *o = push(c, type);
  if (!o) return false;
  o->where = W_LOCAL;
  o->loc = local_slot;
  count_deferred(c, o, 1);
  return true;
}

/* Drop the operands above height. */
static void drop_to(compiler *c, uint32_t height) {
  for (uint32_t i = c->sp; i-- > height && c->deferred > 0;) count_deferred(c, &c->stack[i], -1);
  c->sp = height;
}

/* Pop an operand, leaving a deferred constant deferred: the caller must use its imm or call
 * place_const. The validator has checked its type. */
static void pop_raw(compiler *c, operand *out) {
  assert(c->sp > c->ctrls[c->csp - 1].height);
  *out = c->stack[--c->sp];
  count_deferred(c, out, -1);
}

static bool emit_const(compiler *c, uint32_t dst, uint64_t imm) {
  TRY(emit_op(c, IOP_const64));
  TRY(emit(c, dst));
  return emit(c, imm);
}

/* Give a popped deferred constant a location: its own (now free) slot. */
static bool place_const(compiler *c, operand *o) {
  if (o->where != W_CONST) return true;
  if (emitting(c)) TRY(emit_const(c, o->slot, o->imm));
  o->where = W_OWN;
  o->loc = o->slot;
  return true;
}

/* Pop an operand whose location the caller will read. */
static bool pop(compiler *c, operand *out) {
  pop_raw(c, out);
  return place_const(c, out);
}

/* Give operand o its own slot if it still refers to a local or is a deferred constant. For
 * operands already popped; materialize() is for operands on the stack. */
static bool materialize_popped(compiler *c, operand *o) {
  if (o->where == W_OWN) return true;
  if (emitting(c)) {
    if (o->where == W_CONST) TRY(emit_const(c, o->slot, o->imm));
    else TRY(emit_copy(c, o->type, o->slot, o->loc));
  }
  o->where = W_OWN;
  o->loc = o->slot;
  return true;
}

static bool materialize(compiler *c, uint32_t i) {
  count_deferred(c, &c->stack[i], -1);
  return materialize_popped(c, &c->stack[i]);
}

/* The scans go from the top down and stop once the counts say nothing is left to find. */
static bool materialize_all(compiler *c) {
  for (uint32_t i = c->sp; i-- > 0 && c->deferred > 0;) TRY(materialize(c, i));
  return true;
}

static bool materialize_local(compiler *c, uint32_t local_slot) {
  for (uint32_t i = c->sp; i-- > 0 && c->local_refs[local_slot / 8] > 0;)
    if (c->stack[i].where == W_LOCAL && c->stack[i].loc == local_slot) TRY(materialize(c, i));
  return true;
}

static bool local_referenced(const compiler *c, uint32_t local_slot) {
  return c->local_refs[local_slot / 8] > 0;
}

/* ------------------------------------------------------------------ control */

static bool push_ctrl(compiler *c, const func_instr *in, uint8_t kind, bool dead) {
  TRY(grow(c, (void **)&c->ctrls, &c->ctrl_cap, c->csp + 1, sizeof(ctrl_frame)));
  ctrl_frame *f = &c->ctrls[c->csp];
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->dead = dead;
  f->nparams = in->nparams;
  f->params = in->params;
  f->nresults = in->nresults;
  f->results = in->results;
  f->height = c->sp;
  f->slot_base = next_slot(c);
  f->patch_head = NO_PATCH;
  f->else_patch = NO_PATCH;
  f->fuel_cell = NO_PATCH;
  c->csp++;
  if (c->csp > c->max_depth) c->max_depth = c->csp;
  return true;
}

static uint32_t label_arity(const ctrl_frame *f) { return f->kind == CTRL_LOOP ? f->nparams : f->nresults; }
static const uint8_t *label_types(const ctrl_frame *f) { return f->kind == CTRL_LOOP ? f->params : f->results; }

/* True when o was produced by the instruction just emitted (whose dst may be retargeted). */
static bool is_fresh(const compiler *c, const operand *o) {
  return o->where == W_OWN && c->last_dst_end == c->ncode && c->code[c->last_dst_cell] == o->slot;
}

/* Put the value of stack operand o into slot dst (o itself is unchanged). */
static bool emit_move(compiler *c, const operand *o, uint32_t dst) {
  if (o->where == W_CONST) return emit_const(c, dst, o->imm);
  return emit_copy(c, o->type, dst, o->loc);
}

/* Emit the moves and jump (or return) that take the top values to the label at `depth`. */
static bool emit_branch(compiler *c, uint32_t depth) {
  ctrl_frame *target = &c->ctrls[c->csp - 1 - depth];
  uint32_t n = label_arity(target);
  const uint8_t *types = label_types(target);
  uint32_t first = c->sp - n;
  if (target->kind == CTRL_FUNC) {
    if (n == 1 && is_fresh(c, &c->stack[first])) {
      c->code[c->last_dst_cell] = 0; /* the producer writes the result in place */
      return emit_op(c, IOP_return_);
    }
    uint32_t dst = 0;
    /* with several results, a local read after an earlier result overwrote it must be
     * copied out first */
    for (uint32_t k = 0; n > 1 && k < n; k++) {
      operand *o = &c->stack[first + k];
      if (o->where == W_LOCAL && o->loc < c->result_bytes) TRY(materialize(c, first + k));
    }
    for (uint32_t k = 0; k < n; k++) {
      TRY(emit_move(c, &c->stack[first + k], dst));
      dst += 8 * valtype_slots(types[k]);
    }
    return emit_op(c, IOP_return_);
  }
  uint32_t dst = target->slot_base;
  for (uint32_t k = 0; k < n; k++) {
    TRY(emit_move(c, &c->stack[first + k], dst));
    dst += 8 * valtype_slots(types[k]);
  }
  TRY(emit_op(c, IOP_jump));
  if (target->kind == CTRL_LOOP) return emit_target(c, target->loop_pc);
  return emit_forward(c, target);
}

/* True when branching to depth needs no moves: the values already sit in the label's slots. */
static bool branch_is_plain(const compiler *c, uint32_t depth) {
  const ctrl_frame *target = &c->ctrls[c->csp - 1 - depth];
  if (target->kind == CTRL_FUNC) return false;
  uint32_t n = label_arity(target);
  uint32_t dst = target->slot_base;
  for (uint32_t k = 0; k < n; k++) {
    const operand *o = &c->stack[c->sp - n + k];
    if (o->where == W_CONST || o->loc != dst) return false;
    dst += 8 * valtype_slots(o->type);
  }
  return true;
}

/* Make cell pos a branch target for the label at depth (taken with no moves). */
static bool plain_target_at(compiler *c, uint32_t depth, uint32_t pos) {
  ctrl_frame *target = &c->ctrls[c->csp - 1 - depth];
  if (target->kind == CTRL_LOOP) return mark_target(c, pos, target->loop_pc);
  return mark_forward(c, target, pos);
}

static bool emit_plain_target(compiler *c, uint32_t depth) {
  TRY(emit(c, 0));
  return plain_target_at(c, depth, c->ncode - 1);
}

#define NO_IOP INT32_MIN

/* When cond is the result of the instruction just emitted and that instruction has a
 * compare-and-branch form, switch it to that form (branching when the result is non-zero,
 * or zero) and return the cell that receives the target; else UINT32_MAX. */
static uint32_t fuse_branch(compiler *c, const operand *cond, bool when_nonzero) {
  if (cond->where != W_OWN || c->last_iop == NO_IOP || c->last_dst_end != c->ncode ||
      c->code[c->last_dst_cell] != cond->slot)
    return UINT32_MAX;
  bool imm = c->last_iop < 0;
  int row = imm ? -1 - c->last_iop : c->last_iop;
  enum variant v = imm ? (when_nonzero ? V_IMM_JNZ : V_IMM_JZ) : (when_nonzero ? V_JNZ : V_JZ);
  const void *h = c->h[iop_variant(row, v)];
  if (!h) return UINT32_MAX;
  c->code[c->last_op_cell] = (cell)(uintptr_t)h;
  place_label(c);
  return c->last_dst_cell;
}

static void set_unreachable(compiler *c) {
  ctrl_frame *f = &c->ctrls[c->csp - 1];
  drop_to(c, f->height);
  f->unreachable = true;
}

static bool push_types(compiler *c, uint32_t n, const uint8_t *types) {
  for (uint32_t k = 0; k < n; k++)
    if (!push(c, types[k])) return false;
  return true;
}

static void patch_list(compiler *c, uint32_t head, uint32_t target) {
  for (uint32_t p = head; p != NO_PATCH; p = c->patches[p].next) c->code[c->patches[p].cell] = target;
}

/* The values left at a fallthrough end or else must be in their own slots. */
static bool materialize_results(compiler *c) {
  ctrl_frame *f = &c->ctrls[c->csp - 1];
  uint32_t n = f->nresults;
  for (uint32_t k = 0; k < n; k++) TRY(materialize(c, c->sp - n + k));
  return true;
}

static bool compile_block(compiler *c, const func_instr *in) {
  uint8_t kind = in->iop == IOP_block ? CTRL_BLOCK : in->iop == IOP_loop ? CTRL_LOOP : CTRL_IF;
  if (!in->reachable) return push_ctrl(c, in, kind, true);
  operand cond = {0}, a;
  if (in->iop == IOP_if_) TRY(pop(c, &cond));
  /* params stay where they are (materialized in their own slots); the frame starts below them */
  TRY(materialize_all(c));
  for (uint32_t k = in->nparams; k-- > 0;) TRY(pop(c, &a));
  TRY(push_ctrl(c, in, kind, false));
  ctrl_frame *f = &c->ctrls[c->csp - 1];
  TRY(push_types(c, in->nparams, in->params));
  place_label(c);
  if (kind == CTRL_LOOP) {
    f->loop_pc = c->ncode;
    if (EMIT_LOOP_CHECKS) {
      bool osr = func_osr_loop(c->v, in);
      TRY(emit_op(c, osr ? IOP_loop_osr : IOP_loop_check));
      f->fuel_cell = c->ncode;
      TRY(emit(c, 1)); /* the iteration's cost, known at the loop's end */
      if (osr) TRY(emit(c, c->osr_loops++));
    }
  } else if (kind == CTRL_IF) {
    uint32_t at = fuse_branch(c, &cond, false);
    if (at != UINT32_MAX) {
      TRY(mark_target(c, at, 0));
    } else {
      TRY(emit_op(c, IOP_jump_unless));
      TRY(emit(c, cond.loc));
      at = c->ncode;
      TRY(emit_target(c, 0));
    }
    f->else_patch = at;
  }
  return true;
}

static bool compile_else(compiler *c, const func_instr *in) {
  ctrl_frame *f = &c->ctrls[c->csp - 1];
  f->kind = CTRL_ELSE;
  if (f->dead) return true;
  if (in->reachable) {
    TRY(materialize_results(c));
    TRY(emit_op(c, IOP_jump));
    TRY(emit_forward(c, f));
  }
  if (f->else_patch != NO_PATCH) c->code[f->else_patch] = c->ncode;
  f->else_patch = NO_PATCH;
  f->unreachable = false;
  drop_to(c, f->height);
  TRY(push_types(c, f->nparams, f->params));
  place_label(c);
  return true;
}

static bool compile_end(compiler *c, const func_instr *in) {
  ctrl_frame f = c->ctrls[c->csp - 1];
  if (f.kind == CTRL_FUNC) {
    /* falling off the end is a return (branches to this label return directly) */
    if (in->reachable) TRY(emit_branch(c, 0));
    drop_to(c, f.height);
    c->csp--;
    return true;
  }
  if (f.dead) {
    c->csp--;
    return true;
  }
  if (in->reachable) TRY(materialize_results(c));
  /* re-push: the results are in their own slots */
  drop_to(c, f.height);
  TRY(push_types(c, f.nresults, f.results));
  c->csp--;
  if (f.fuel_cell != NO_PATCH) c->code[f.fuel_cell] = 1 + (c->ncode - f.loop_pc) / FUEL_CELLS;
  patch_list(c, f.patch_head, c->ncode);
  if (f.else_patch != NO_PATCH) c->code[f.else_patch] = c->ncode;
  place_label(c);
  return true;
}

static bool compile_br_if(compiler *c, const func_instr *in) {
  operand a;
  uint32_t x = in->index;
  TRY(pop(c, &a));
  uint32_t at;
  if (branch_is_plain(c, x) && (at = fuse_branch(c, &a, true)) != UINT32_MAX) {
    TRY(plain_target_at(c, x, at));
  } else if (branch_is_plain(c, x)) {
    TRY(emit_op(c, IOP_jump_if));
    TRY(emit(c, a.loc));
    TRY(emit_plain_target(c, x));
  } else {
    TRY(emit_op(c, IOP_jump_unless));
    TRY(emit(c, a.loc));
    uint32_t skip = c->ncode;
    TRY(emit_target(c, 0));
    TRY(emit_branch(c, x));
    c->code[skip] = c->ncode;
  }
  place_label(c);
  return true;
}

static bool compile_br_table(compiler *c, const func_instr *in) {
  uint32_t count = in->target_count;
  const uint32_t *depths = in->targets;
  operand idx;
  TRY(pop(c, &idx));
  TRY(emit_op(c, IOP_br_table) && emit(c, idx.loc) && emit(c, count));
  uint32_t table = c->ncode;
  for (uint32_t i = 0; i <= count; i++) TRY(emit(c, 0));
  for (uint32_t i = 0; i <= count; i++) {
    if (branch_is_plain(c, depths[i])) {
      TRY(plain_target_at(c, depths[i], table + i));
    } else {
      /* a trampoline after the table moves the values, then jumps */
      TRY(mark_target(c, table + i, c->ncode) && emit_branch(c, depths[i]));
    }
  }
  set_unreachable(c);
  return true;
}

/* ------------------------------------------------------------------ instructions */

/* Pop a memory address. A constant address folds into the offset and the access reads the
 * frame's zero slot as its base. */
static bool pop_address(compiler *c, operand *a, uint64_t *offset) {
  pop_raw(c, a);
  if (a->where == W_CONST && c->zero_slot != NO_PATCH) {
    *offset += (uint32_t)a->imm;
    a->where = W_OWN;
    a->loc = c->zero_slot;
    return true;
  }
  return place_const(c, a);
}

/* Record that the instruction just completed produced the top operand into dst_cell. */
static void produced(compiler *c, uint32_t dst_cell) {
  c->last_dst_cell = dst_cell;
  c->last_dst_end = c->ncode;
  c->last_iop = NO_IOP; /* compile_generic sets it for fusable instructions */
}

/* The generic kinds of opcodes.def. */
static bool compile_generic(compiler *c, const func_instr *in) {
  int iop = in->iop;
  const op_info *o = &op_infos[iop];
  operand a = {0}, b = {0}, v = {0};
  bool use_imm = false;
  uint64_t offset = in->mem_offset;
  uint8_t lane = in->lane;
  switch (o->kind) {
    case K_UNARY:
    case K_UNARY_TRAP:
      TRY(pop(c, &a));
      break;
    case K_BINARY:
    case K_BINARY_TRAP:
      pop_raw(c, &b);
      if (b.where == W_CONST && c->h[iop_variant(iop, V_IMM)]) use_imm = true;
      else TRY(place_const(c, &b));
      TRY(pop(c, &a));
      break;
    case K_TERNARY:
      TRY(pop(c, &v));
      TRY(pop(c, &b));
      TRY(pop(c, &a));
      break;
    case K_LOAD:
      TRY(pop_address(c, &a, &offset));
      break;
    case K_STORE:
      pop_raw(c, &b);
      if (b.where == W_CONST && c->h[iop_variant(iop, V_IMM)]) use_imm = true;
      else TRY(place_const(c, &b));
      TRY(pop_address(c, &a, &offset));
      break;
    case K_EXTRACT_LANE:
    case K_REPLACE_LANE:
      if (o->kind == K_REPLACE_LANE) TRY(pop(c, &b));
      TRY(pop(c, &a));
      break;
    case K_LOAD_LANE:
    case K_STORE_LANE:
      TRY(pop(c, &b));
      TRY(pop_address(c, &a, &offset));
      break;
  }
  bool has_out = o->out != T_NONE;
  operand *r = NULL;
  if (has_out && !(r = push(c, o->out))) return false;
  uint32_t op_cell = c->ncode;
  TRY(emit_op(c, use_imm ? iop_variant(iop, V_IMM) : iop));
  uint32_t dst_cell = c->ncode;
  if (has_out) TRY(emit(c, r->slot));
  switch (o->kind) {
    case K_UNARY: case K_UNARY_TRAP: TRY(emit(c, a.loc)); break;
    case K_BINARY: case K_BINARY_TRAP: TRY(emit(c, a.loc)); TRY(emit(c, use_imm ? b.imm : b.loc)); break;
    case K_TERNARY: TRY(emit(c, a.loc)); TRY(emit(c, b.loc)); TRY(emit(c, v.loc)); break;
    case K_LOAD: TRY(emit(c, a.loc)); TRY(emit(c, offset)); break;
    case K_STORE: TRY(emit(c, a.loc)); TRY(emit(c, use_imm ? b.imm : b.loc)); TRY(emit(c, offset)); break;
    case K_EXTRACT_LANE: TRY(emit(c, a.loc)); TRY(emit(c, lane)); break;
    case K_REPLACE_LANE: TRY(emit(c, a.loc)); TRY(emit(c, b.loc)); TRY(emit(c, lane)); break;
    case K_LOAD_LANE: TRY(emit(c, a.loc)); TRY(emit(c, b.loc)); TRY(emit(c, offset)); TRY(emit(c, lane)); break;
    case K_STORE_LANE: TRY(emit(c, a.loc)); TRY(emit(c, b.loc)); TRY(emit(c, offset)); TRY(emit(c, lane)); break;
  }
  if (has_out) {
    produced(c, dst_cell);
    c->last_op_cell = op_cell;
    c->last_iop = use_imm ? -1 - iop : iop; /* negative: the _imm form of row -1 - last_iop */
  }
  return true;
}

static bool compile_call(compiler *c, const functype *t, int iop, cell imm1, cell imm2,
                         const operand *index) {
  operand o;
  for (uint32_t k = t->param_count; k-- > 0;) pop_raw(c, &o);
  uint32_t first = c->sp;
  /* the arguments must sit in consecutive slots: the callee's frame starts there */
  for (uint32_t k = 0; k < t->param_count; k++) TRY(materialize_popped(c, &c->stack[first + k]));
  uint32_t argbase = next_slot(c);
  /* room for the results and the callee's arguments in our frame */
  uint32_t need = functype_call_slots(t);
  if (argbase + 8 * need > c->max_slot) c->max_slot = argbase + 8 * need;
  TRY(emit_op(c, iop));
  TRY(emit(c, imm1));
  if (index) {
    TRY(emit(c, imm2));
    TRY(emit(c, index->loc));
  }
  TRY(emit(c, argbase));
  return push_types(c, t->result_count, t->types + t->param_count);
}

static bool compile_local(compiler *c, const func_instr *in) {
  uint8_t t = in->type;
  uint32_t ls = c->local_slots[in->index];
  if (in->iop == IOP_local_get) /* defer */
    return push_local(c, t, ls);
  operand v;
  pop_raw(c, &v);
  if (is_fresh(c, &v) && !local_referenced(c, ls)) {
    c->code[c->last_dst_cell] = ls; /* the producer writes straight into the local */
  } else {
    TRY(materialize_local(c, ls));
    TRY(emit_move(c, &v, ls));
  }
  place_label(c);
  if (in->iop == IOP_local_tee) return push_local(c, t, ls);
  return true;
}

static bool compile_select(compiler *c) {
  operand cond, b, a;
  TRY(pop(c, &cond));
  TRY(pop(c, &b));
  TRY(pop(c, &a));
  operand *r = push(c, a.type);
  if (!r) return false;
  TRY(emit_op(c, a.type == VT_V128 ? IOP_select128 : IOP_select));
  uint32_t dst_cell = c->ncode;
  TRY(emit(c, r->slot) && emit(c, a.loc) && emit(c, b.loc) && emit(c, cond.loc));
  produced(c, dst_cell);
  return true;
}

/* Emit an op with a result slot and the given operand cells. */
static bool emit_with_dst(compiler *c, int iop, uint8_t out_type, int n, const cell *cells) {
  operand *r = push(c, out_type);
  if (!r) return false;
  TRY(emit_op(c, iop));
  uint32_t dst_cell = c->ncode;
  TRY(emit(c, r->slot));
  for (int i = 0; i < n; i++) TRY(emit(c, cells[i]));
  produced(c, dst_cell);
  return true;
}

/* A constant is not emitted until something needs it in a slot. */
static bool push_const(compiler *c, uint8_t type, uint64_t imm) {
  operand *o = push(c, type);
  if (!o) return false;
  o->where = W_CONST;
  o->imm = imm;
  count_deferred(c, o, 1);
  return true;
}

static bool emit_plain(compiler *c, int iop, int n, const cell *cells) {
  TRY(emit_op(c, iop));
  for (int i = 0; i < n; i++) TRY(emit(c, cells[i]));
  return true;
}

/* Pop the three i32 operands of a bulk memory or table instruction. */
static bool pop3(compiler *c, operand *a, operand *b, operand *d) {
  return pop(c, d) && pop(c, b) && pop(c, a);
}

static bool compile_instruction(compiler *c, const func_instr *in) {
  int iop = in->iop;
  switch (iop) {
    case IOP_block:
    case IOP_loop:
    case IOP_if_:
      return compile_block(c, in);
    case IOP_else_:
      return compile_else(c, in);
    case IOP_end:
      return compile_end(c, in);
  }
  if (!in->reachable) return true; /* validated; nothing runs it */
  if (op_infos[iop].kind != K_SPECIAL) return compile_generic(c, in);

  operand a, b, d;
  uint32_t x = in->index, y = in->index2;
  switch (iop) {
    case IOP_unreachable:
      TRY(emit_op(c, IOP_unreachable));
      set_unreachable(c);
      return true;
    case IOP_nop:
      return true;
    case IOP_br:
      TRY(emit_branch(c, x));
      set_unreachable(c);
      return true;
    case IOP_br_if:
      return compile_br_if(c, in);
    case IOP_br_table:
      return compile_br_table(c, in);
    case IOP_return_:
      TRY(emit_branch(c, c->csp - 1));
      set_unreachable(c);
      return true;
    case IOP_call: {
      const functype *t = &c->m->types[c->m->func_types[x]];
      if (x >= c->m->imported_func_count)
        return compile_call(c, t, IOP_call_local,
                            (cell)(uintptr_t)&c->mod->funcs[x - c->m->imported_func_count], 0, NULL);
      return compile_call(c, t, IOP_call_import, x, 0, NULL);
    }
    case IOP_call_indirect:
      TRY(pop(c, &a));
      return compile_call(c, &c->m->types[y], IOP_call_indirect, c->mod->type_ids[y], x, &a);
    case IOP_drop:
      pop_raw(c, &a);
      return true;
    case IOP_select:
    case IOP_select_t:
      return compile_select(c);
    case IOP_local_get:
    case IOP_local_set:
    case IOP_local_tee:
      return compile_local(c, in);
    case IOP_global_get:
      return emit_with_dst(c, in->type == VT_V128 ? IOP_global_get128 : IOP_global_get, in->type, 1, (cell[]){x});
    case IOP_global_set:
      TRY(pop(c, &a));
      return emit_plain(c, in->type == VT_V128 ? IOP_global_set128 : IOP_global_set, 2, (cell[]){x, a.loc});
    case IOP_table_get:
      TRY(pop(c, &a));
      return emit_with_dst(c, iop, in->type, 2, (cell[]){x, a.loc});
    case IOP_table_set:
      TRY(pop(c, &b) && pop(c, &a));
      return emit_plain(c, iop, 3, (cell[]){x, a.loc, b.loc});
    case IOP_memory_size:
      return emit_with_dst(c, iop, VT_I32, 0, NULL);
    case IOP_memory_grow:
      TRY(pop(c, &a));
      return emit_with_dst(c, iop, VT_I32, 1, (cell[]){a.loc});
    case IOP_i32_const: return push_const(c, VT_I32, in->imm[0]);
    case IOP_i64_const: return push_const(c, VT_I64, in->imm[0]);
    case IOP_f32_const: return push_const(c, VT_F32, in->imm[0]);
    case IOP_f64_const: return push_const(c, VT_F64, in->imm[0]);
    case IOP_ref_null:
      return emit_with_dst(c, IOP_const64, in->type, 1, (cell[]){0});
    case IOP_ref_is_null:
      TRY(pop(c, &a));
      return emit_with_dst(c, iop, VT_I32, 1, (cell[]){a.loc});
    case IOP_ref_func:
      return emit_with_dst(c, iop, VT_FUNCREF, 1, (cell[]){x});
    case IOP_v128_const:
      return emit_with_dst(c, IOP_const128, VT_V128, 2, (cell[]){in->imm[0], in->imm[1]});
    case IOP_i8x16_shuffle:
      TRY(pop(c, &b) && pop(c, &a));
      return emit_with_dst(c, iop, VT_V128, 4, (cell[]){a.loc, b.loc, in->imm[0], in->imm[1]});
    /* 0xFC prefix */
    case IOP_memory_init:
      TRY(pop3(c, &a, &b, &d));
      return emit_plain(c, iop, 4, (cell[]){x, a.loc, b.loc, d.loc});
    case IOP_data_drop:
    case IOP_elem_drop:
      return emit_plain(c, iop, 1, (cell[]){x});
    case IOP_memory_copy:
    case IOP_memory_fill:
      TRY(pop3(c, &a, &b, &d));
      return emit_plain(c, iop, 3, (cell[]){a.loc, b.loc, d.loc});
    case IOP_table_init:
      TRY(pop3(c, &a, &b, &d));
      return emit_plain(c, iop, 5, (cell[]){y, x, a.loc, b.loc, d.loc});
    case IOP_table_copy:
      TRY(pop3(c, &a, &b, &d));
      return emit_plain(c, iop, 5, (cell[]){x, y, a.loc, b.loc, d.loc});
    case IOP_table_grow:
      TRY(pop(c, &b) && pop(c, &a));
      return emit_with_dst(c, iop, VT_I32, 3, (cell[]){x, a.loc, b.loc});
    case IOP_table_size:
      return emit_with_dst(c, iop, VT_I32, 1, (cell[]){x});
    case IOP_table_fill:
      TRY(pop3(c, &a, &b, &d));
      return emit_plain(c, iop, 4, (cell[]){x, a.loc, b.loc, d.loc});
  }
  return fail(c, KILN_ERR_INVALID, "internal: no interpreter form for %s", op_infos[iop].text);
}

/* ------------------------------------------------------------------ driver */

static void compiler_free(compiler *c) {
  free(c->local_slots);
  free(c->local_refs);
  free(c->stack);
  free(c->ctrls);
  free(c->patches);
  free(c->relocs);
  free(c->code);
  free(c->offsets);
}

/* Give each local its slot: params first, then declared locals, then the zero slot. */
static bool setup_locals(compiler *c, const functype *t) {
  uint32_t total = c->local_count;
  c->local_slots = malloc((total ? total : 1) * sizeof(uint32_t));
  if (!c->local_slots) return nomem(c);
  uint32_t slot = 0;
  for (uint32_t i = 0; i < total; i++) {
    c->local_slots[i] = slot * 8;
    slot += valtype_slots(c->local_types[i]);
  }
  c->zero_slot = NO_PATCH;
  if (c->m->memory_count) { /* zeroed on entry with the locals; nothing writes it */
    c->zero_slot = slot * 8;
    slot++;
  }
  if (slot > MAX_FRAME_SLOTS) return fail(c, KILN_ERR_LIMIT, "too many locals");
  c->locals_end = slot * 8;
  c->max_slot = c->locals_end;
  c->local_refs = calloc(slot ? slot : 1, sizeof(uint32_t));
  if (!c->local_refs) return nomem(c);
  c->result_bytes = 8 * t->result_slots;
  if (c->result_bytes > c->max_slot) c->max_slot = c->result_bytes;
  return true;
}

kiln_status compile_function(kiln_module *mod, uint32_t defined_index, compiled_func *out,
                             kiln_error *err) {
  const module_decl *m = &mod->decl;
  const func_body *body = &m->bodies[defined_index];
  func_validator v;
  kiln_status st = func_validator_init(&v, m, mod->declared_refs, defined_index, err);
  if (st != KILN_OK) {
    func_validator_free(&v);
    return st;
  }
  const functype *t = v.type;

  compiler cc;
  memset(&cc, 0, sizeof cc);
  compiler *c = &cc;
  c->mod = mod;
  c->m = m;
  c->h = mod->engine->handlers;
  c->v = &v;
  c->status = KILN_OK;
  c->local_count = v.local_count;
  c->local_types = v.local_types;
  c->last_dst_end = UINT32_MAX;
  c->last_iop = NO_IOP;
  uint64_t max_code = CODE_CELLS_BASE + (uint64_t)CODE_CELLS_PER_BYTE * (body->code.end - body->code.start);
  c->max_code = max_code < UINT32_MAX / 2 ? (uint32_t)max_code : UINT32_MAX / 2;

  func_instr in = {.nresults = t->result_count, .results = t->types + t->param_count};
  bool ok = setup_locals(c, t) && push_ctrl(c, &in, CTRL_FUNC, false);
  while (ok && !v.done) {
    if (func_validator_next(&v, &in) != KILN_OK) ok = false;
    else {
      c->instr_offset = in.offset;
      ok = compile_instruction(c, &in);
    }
  }
  assert(!ok || c->deferred == 0); /* every deferred operand was counted out */
  if (!ok) {
    st = v.status != KILN_OK ? v.status : c->status;
    compiler_free(c);
    func_validator_free(&v);
    return st == KILN_OK ? KILN_ERR_INVALID : st;
  }
  for (uint32_t i = 0; i < c->reloc_count; i++)
    c->code[c->relocs[i]] = (cell)(uintptr_t)(c->code + c->code[c->relocs[i]]);

  memset(out, 0, sizeof *out);
  out->code = c->code;
  out->code_cells = c->ncode;
  out->func_index = v.func_index;
  out->type = t;
  out->type_id = t->type_id;
  out->param_slots = t->param_slots;
  out->local_slots = c->locals_end / 8 - t->param_slots;
  out->frame_slots = c->max_slot / 8;
  out->entry_fuel = 1 + c->ncode / FUEL_CELLS + (uint32_t)(8 * (uint64_t)out->local_slots / FUEL_BYTES);
  out->offsets = c->offsets;
  out->offset_count = c->offset_count;
  out->max_depth = c->max_depth;
  c->code = NULL;
  c->offsets = NULL;
  compiler_free(c);
  func_validator_free(&v);
  return KILN_OK;
}

/* The frame's declared locals as setup_locals lays them out: a slot more where the module has
 * a memory (the zero slot). */
static uint32_t pending_local_slots(const kiln_module *mod, const func_facts *facts) {
  return facts->local_slots + (mod->decl.memory_count ? 1 : 0);
}

kiln_status compile_function_pending(kiln_module *mod, uint32_t defined_index, const func_facts *facts,
                                     compiled_func *out, kiln_error *err) {
  const module_decl *m = &mod->decl;
  uint32_t func_index = m->imported_func_count + defined_index;
  const functype *t = &m->types[m->func_types[func_index]];
  memset(out, 0, sizeof *out);
  out->func_index = func_index;
  out->type = t;
  out->type_id = t->type_id;
  out->param_slots = t->param_slots;
  out->local_slots = pending_local_slots(mod, facts);
  if ((uint64_t)out->param_slots + out->local_slots > MAX_FRAME_SLOTS)
    return error_set(err, KILN_ERR_LIMIT, "function %u: too many locals (%u slots, the limit is %u)", func_index,
                     out->param_slots + out->local_slots, MAX_FRAME_SLOTS);
  /* until translated: a lower bound (module_translate raises it before publishing code) */
  out->frame_slots = out->param_slots + out->local_slots;
  if (out->frame_slots < t->result_slots) out->frame_slots = t->result_slots;
  out->max_depth = facts->max_depth;
  out->max_operands = facts->max_operands;
  out->body_bytes = facts->body_bytes;
  return KILN_OK;
}

bool compile_may_exceed_limits(const kiln_module *mod, uint32_t defined_index, const func_facts *facts) {
  const module_decl *m = &mod->decl;
  const functype *t = &m->types[m->func_types[m->imported_func_count + defined_index]];
  /* every operand takes at most two slots beyond the locals */
  uint64_t bound = (uint64_t)t->param_slots + pending_local_slots(mod, facts) + 2 * (uint64_t)facts->max_operands +
                   t->result_slots + 16;
  /* each value a branch carries is a copy of a few cells; ordinary code carries at most one
   * value per branch of two bytes or more, far below half the code bound */
  uint64_t code_bound = CODE_CELLS_BASE + (uint64_t)CODE_CELLS_PER_BYTE * facts->body_bytes;
  return bound > MAX_FRAME_SLOTS || 4 * facts->branch_values > code_bound / 2;
}

void compiled_func_free(compiled_func *f) {
  free(f->code);
  free(f->offsets);
  f->code = NULL;
  f->offsets = NULL;
}
