/* compile.c - validates each function body and, in the same pass, compiles it to
 * slot-addressed threaded code for the interpreter.
 *
 * Every operand-stack position has a fixed frame slot (locals first, then the stack), so
 * instructions name their inputs and output by slot and need no runtime stack pointer.
 * local.get is deferred: the operand refers to the local's slot until something forces a
 * copy (a block boundary, a call, or a write to that local). An instruction whose result
 * is immediately stored by local.set writes straight into the local. */
#include "compile.h"

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/reader.h"
#include "instr/iop.h"

#define T_UNKNOWN 0 /* a value of the polymorphic stack of unreachable code */
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

/* ------------------------------------------------------------------ opcode lookup */

static int16_t op_plain[256];
static int16_t op_fc[32];
static int16_t op_fd[256];
static pthread_once_t op_lookup_once = PTHREAD_ONCE_INIT;

static void build_op_lookup(void) {
  for (int i = 0; i < 256; i++) op_plain[i] = op_fd[i] = -1;
  for (int i = 0; i < 32; i++) op_fc[i] = -1;
  for (int i = 0; i < IOP_copy64; i++) {
    const op_info *o = &op_infos[i];
    if (!o->text) continue;
    if (o->prefix == 0) op_plain[o->code] = (int16_t)i;
    else if (o->prefix == 0xFC && o->code < 32) op_fc[o->code] = (int16_t)i;
    else if (o->prefix == 0xFD && o->code < 256) op_fd[o->code] = (int16_t)i;
  }
}

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

enum { CF_BLOCK, CF_LOOP, CF_IF, CF_ELSE, CF_FUNC };

typedef struct ctrl_frame {
  uint8_t kind;
  bool unreachable;      /* the rest of the block is unreachable: its stack is polymorphic */
  bool dead;             /* the whole block is inside unreachable code: nothing is emitted */
  uint32_t nparams, nresults;
  const uint8_t *params, *results;
  uint32_t height;       /* operands below the block's params */
  uint32_t slot_base;    /* slot of the first param / result */
  uint32_t loop_pc;      /* CF_LOOP: cell of the loop header */
  uint32_t fuel_cell;    /* CF_LOOP: the loop header's fuel cost cell, or NO_PATCH */
  uint32_t patch_head;   /* forward branches to the end, a list through patches[] */
  uint32_t else_patch;   /* CF_IF: the cell holding the jump_unless target */
} ctrl_frame;

typedef struct patch {
  uint32_t cell;
  uint32_t next;
} patch;

typedef struct compiler {
  kiln_module *mod;
  const module_decl *m;
  const void *const *h;
  reader r;
  kiln_error *err;
  kiln_status status;
  uint32_t func_index;
  size_t instr_offset;

  uint32_t local_count;
  uint8_t *local_types;
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

  uint32_t max_slot;
  uint32_t last_dst_cell; /* dst cell of the last instruction, when it produced the top */
  uint32_t last_dst_end;  /* ncode right after that instruction; else UINT32_MAX */
  uint32_t last_op_cell;  /* handler cell of that instruction */
  int last_iop;           /* and its iop */
} compiler;

/* ------------------------------------------------------------------ errors */

static const char *type_name(uint8_t t) {
  switch (t) {
    case T_UNKNOWN: return "unknown";
    case VT_I32: return "i32";
    case VT_I64: return "i64";
    case VT_F32: return "f32";
    case VT_F64: return "f64";
    case VT_V128: return "v128";
    case VT_FUNCREF: return "funcref";
    case VT_EXTERNREF: return "externref";
  }
  return "?";
}

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
  c->status = status;
  error_set(c->err, status, "code section, function %u, offset 0x%zx: %s", c->func_index,
            c->instr_offset, msg);
  return false;
}

#define INVALID(...) fail(c, KILN_ERR_INVALID, __VA_ARGS__)
#define MALFORMED(...) fail(c, KILN_ERR_MALFORMED, __VA_ARGS__)
#define TRY(x) do { if (!(x)) return false; } while (0)

static bool read_fail(compiler *c) {
  const char *why = c->r.error ? c->r.error : "unexpected end";
  if (strcmp(why, "unexpected end") == 0) why = "unexpected end of section or function";
  return MALFORMED("%s", why);
}

#define READ(x) do { if (!(x)) return read_fail(c); } while (0)

static bool nomem(compiler *c) {
  if (c->status == KILN_OK) {
    c->status = KILN_ERR_NOMEM;
    error_set(c->err, KILN_ERR_NOMEM, "function %u: out of memory while compiling", c->func_index);
  }
  return false;
}

static bool grow(compiler *c, void **items, uint32_t *cap, uint32_t need, size_t size) {
  if (need <= *cap) return true;
  uint32_t n = *cap ? *cap * 2 : 64;
  while (n < need) n *= 2;
  void *p = realloc(*items, (size_t)n * size);
  if (!p) return nomem(c);
  *items = p;
  *cap = n;
  return true;
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

static bool is_num_or_vec(uint8_t t) {
  return t == VT_I32 || t == VT_I64 || t == VT_F32 || t == VT_F64 || t == VT_V128;
}
static bool is_ref(uint8_t t) { return t == VT_FUNCREF || t == VT_EXTERNREF; }

/* Pop an operand of type `expect` (T_UNKNOWN accepts any), leaving a deferred constant
 * deferred: the caller must use its imm or call place_const. */
static bool pop_raw(compiler *c, uint8_t expect, operand *out) {
  ctrl_frame *f = &c->ctrls[c->csp - 1];
  if (c->sp == f->height) {
    if (f->unreachable) {
      out->type = expect;
      out->where = W_OWN;
      out->imm = 0;
      out->slot = out->loc = next_slot(c);
      return true;
    }
    return INVALID("type mismatch: expected %s but the stack is empty",
                   expect == T_UNKNOWN ? "a value" : type_name(expect));
  }
  *out = c->stack[--c->sp];
  count_deferred(c, out, -1);
  if (expect != T_UNKNOWN && out->type != T_UNKNOWN && out->type != expect)
    return INVALID("type mismatch: expected %s, found %s", type_name(expect), type_name(out->type));
  if (out->type == T_UNKNOWN) out->type = expect;
  return true;
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
static bool pop(compiler *c, uint8_t expect, operand *out) {
  TRY(pop_raw(c, expect, out));
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

static bool push_ctrl(compiler *c, uint8_t kind, uint32_t np, const uint8_t *params, uint32_t nr,
                      const uint8_t *results) {
  TRY(grow(c, (void **)&c->ctrls, &c->ctrl_cap, c->csp + 1, sizeof(ctrl_frame)));
  ctrl_frame *f = &c->ctrls[c->csp];
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->nparams = np;
  f->params = params;
  f->nresults = nr;
  f->results = results;
  f->height = c->sp;
  f->slot_base = next_slot(c);
  f->patch_head = NO_PATCH;
  f->else_patch = NO_PATCH;
  f->fuel_cell = NO_PATCH;
  f->dead = c->csp > 0 && (c->ctrls[c->csp - 1].unreachable || c->ctrls[c->csp - 1].dead);
  c->csp++;
  return true;
}

/* The type lists of one-value block types. Frames point into this table rather than into
 * themselves: the control stack is reallocated as it grows. */
static const uint8_t single_types[256] = {
    [VT_I32] = VT_I32, [VT_I64] = VT_I64, [VT_F32] = VT_F32, [VT_F64] = VT_F64,
    [VT_V128] = VT_V128, [VT_FUNCREF] = VT_FUNCREF, [VT_EXTERNREF] = VT_EXTERNREF,
};

/* Block types: 0x40 (none), a value type, or a type index (s33). */
static bool read_blocktype(compiler *c, uint32_t *np, const uint8_t **params,
                           uint32_t *nr, const uint8_t **results) {
  uint8_t b;
  READ(read_u8(&c->r, &b));
  *np = 0;
  *params = NULL;
  if (b == 0x40) {
    *nr = 0;
    *results = NULL;
    return true;
  }
  if (is_num_or_vec(b) || is_ref(b)) {
    *nr = 1;
    *results = &single_types[b];
    return true;
  }
  c->r.pos--;
  int64_t idx;
  READ(read_sleb(&c->r, 33, &idx));
  if (idx < 0) return MALFORMED("malformed block type");
  if ((uint64_t)idx >= c->m->type_count) return INVALID("unknown type %lld", (long long)idx);
  const functype *t = &c->m->types[idx];
  *np = t->param_count;
  *params = t->types;
  *nr = t->result_count;
  *results = t->types + t->param_count;
  return true;
}

static uint32_t label_arity(const ctrl_frame *f) { return f->kind == CF_LOOP ? f->nparams : f->nresults; }
static const uint8_t *label_types(const ctrl_frame *f) { return f->kind == CF_LOOP ? f->params : f->results; }

/* Check that the top of the stack matches the label's types, without popping. */
static bool check_label_values(compiler *c, const ctrl_frame *target) {
  uint32_t n = label_arity(target);
  const uint8_t *types = label_types(target);
  const ctrl_frame *cur = &c->ctrls[c->csp - 1];
  for (uint32_t k = 0; k < n; k++) {
    uint8_t want = types[n - 1 - k];
    if (c->sp - cur->height <= k) {
      if (cur->unreachable) return true;
      return INVALID("type mismatch: branch expects %u values, the stack has %u", n, c->sp - cur->height);
    }
    uint8_t have = c->stack[c->sp - 1 - k].type;
    if (have != T_UNKNOWN && have != want)
      return INVALID("type mismatch: branch expects %s, found %s", type_name(want), type_name(have));
  }
  return true;
}

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
  if (target->kind == CF_FUNC) {
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
  if (target->kind == CF_LOOP) return emit_target(c, target->loop_pc);
  return emit_forward(c, target);
}

/* True when branching to depth needs no moves: the values already sit in the label's slots. */
static bool branch_is_plain(const compiler *c, uint32_t depth) {
  const ctrl_frame *target = &c->ctrls[c->csp - 1 - depth];
  if (target->kind == CF_FUNC) return false;
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
  if (target->kind == CF_LOOP) return mark_target(c, pos, target->loop_pc);
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

static bool read_label(compiler *c, uint32_t *depth) {
  READ(read_u32(&c->r, depth));
  if (*depth >= c->csp) return INVALID("unknown label %u", *depth);
  return true;
}

/* Pop the frame's results at its end and check nothing else is left. */
static bool pop_results(compiler *c, const ctrl_frame *f) {
  operand o;
  for (uint32_t k = f->nresults; k-- > 0;) TRY(pop(c, f->results[k], &o));
  if (c->sp != f->height) return INVALID("type mismatch: %u values left on the stack at end of block", c->sp - f->height);
  return true;
}

static bool push_types(compiler *c, uint32_t n, const uint8_t *types) {
  for (uint32_t k = 0; k < n; k++)
    if (!push(c, types[k])) return false;
  return true;
}

static void patch_list(compiler *c, uint32_t head, uint32_t target) {
  for (uint32_t p = head; p != NO_PATCH; p = c->patches[p].next) c->code[c->patches[p].cell] = target;
}

/* ------------------------------------------------------------------ instructions */

static bool read_memarg(compiler *c, uint32_t natural, uint64_t *offset) {
  uint32_t align, off;
  READ(read_u32(&c->r, &align));
  READ(read_u32(&c->r, &off));
  *offset = off;
  if (align >= 32) return MALFORMED("malformed memop flags");
  if (c->m->memory_count == 0) return INVALID("unknown memory 0");
  if ((1u << align) > natural) return INVALID("alignment must not be larger than natural");
  return true;
}

static bool need_memory(compiler *c) {
  if (c->m->memory_count == 0) return INVALID("unknown memory 0");
  return true;
}

static bool read_zero_byte(compiler *c) {
  uint8_t b;
  READ(read_u8(&c->r, &b));
  if (b != 0) return MALFORMED("zero byte expected");
  return true;
}

static bool read_table_index(compiler *c, uint32_t *t) {
  READ(read_u32(&c->r, t));
  if (*t >= c->m->table_count) return INVALID("unknown table %u", *t);
  return true;
}

static bool read_elem_index(compiler *c, uint32_t *e) {
  READ(read_u32(&c->r, e));
  if (*e >= c->m->elem_count) return INVALID("unknown elem segment %u", *e);
  return true;
}

static bool check_data_index(compiler *c, uint32_t d) {
  if (d >= c->m->data_segment_count) return INVALID("unknown data segment %u", d);
  if (!c->m->has_data_count) return MALFORMED("data count section required");
  return true;
}

/* Pop a memory address. A constant address folds into the offset and the access reads the
 * frame's zero slot as its base. */
static bool pop_address(compiler *c, operand *a, uint64_t *offset) {
  TRY(pop_raw(c, VT_I32, a));
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
  c->last_iop = INT32_MIN; /* compile_generic sets it for fusable instructions */
}

/* The generic kinds of opcodes.def. */
static bool compile_generic(compiler *c, int iop) {
  const op_info *o = &op_infos[iop];
  operand a = {0}, b = {0}, v = {0};
  bool use_imm = false;
  uint64_t offset = 0;
  uint8_t lane = 0;
  switch (o->kind) {
    case K_UNARY:
    case K_UNARY_TRAP:
      TRY(pop(c, o->in1, &a));
      break;
    case K_BINARY:
    case K_BINARY_TRAP:
      TRY(pop_raw(c, o->in2, &b));
      if (b.where == W_CONST && c->h[iop_variant(iop, V_IMM)]) {
        use_imm = true;
      } else {
        TRY(place_const(c, &b));
      }
      TRY(pop(c, o->in1, &a));
      break;
    case K_TERNARY: {
      operand x;
      TRY(pop(c, VT_V128, &x));
      TRY(pop(c, VT_V128, &b));
      TRY(pop(c, VT_V128, &a));
      v = x;
      break;
    }
    case K_LOAD:
      TRY(read_memarg(c, o->size, &offset));
      TRY(pop_address(c, &a, &offset));
      break;
    case K_STORE:
      TRY(read_memarg(c, o->size, &offset));
      TRY(pop_raw(c, o->in2, &b));
      if (b.where == W_CONST && c->h[iop_variant(iop, V_IMM)]) use_imm = true;
      else TRY(place_const(c, &b));
      TRY(pop_address(c, &a, &offset));
      break;
    case K_EXTRACT_LANE:
    case K_REPLACE_LANE:
      READ(read_u8(&c->r, &lane));
      if (lane >= o->size) return INVALID("invalid lane index %u", lane);
      if (o->kind == K_REPLACE_LANE) TRY(pop(c, o->in2, &b));
      TRY(pop(c, VT_V128, &a));
      break;
    case K_LOAD_LANE:
    case K_STORE_LANE:
      TRY(read_memarg(c, o->size, &offset));
      READ(read_u8(&c->r, &lane));
      if (lane >= 16 / o->size) return INVALID("invalid lane index %u", lane);
      TRY(pop(c, VT_V128, &b));
      TRY(pop_address(c, &a, &offset));
      break;
    default:
      return INVALID("internal: opcode %s has no generic form", o->text);
  }
  bool has_out = o->out != T_NONE;
  operand *r = NULL;
  if (has_out && !(r = push(c, o->out))) return false;
  if (!emitting(c)) return true;
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
  for (uint32_t k = t->param_count; k-- > 0;) TRY(pop_raw(c, t->types[k], &o));
  uint32_t first = c->sp;
  if (emitting(c)) {
    /* the arguments must sit in consecutive slots: the callee's frame starts there */
    for (uint32_t k = 0; k < t->param_count; k++) TRY(materialize_popped(c, &c->stack[first + k]));
  }
  uint32_t argbase = next_slot(c);
  /* room for the results and the callee's arguments in our frame */
  uint32_t need = functype_call_slots(t);
  if (argbase + 8 * need > c->max_slot) c->max_slot = argbase + 8 * need;
  if (emitting(c)) {
    TRY(emit_op(c, iop));
    TRY(emit(c, imm1));
    if (index) {
      TRY(emit(c, imm2));
      TRY(emit(c, index->loc));
    }
    TRY(emit(c, argbase));
  }
  return push_types(c, t->result_count, t->types + t->param_count);
}

static bool compile_local(compiler *c, uint8_t op) {
  uint32_t x;
  READ(read_u32(&c->r, &x));
  if (x >= c->local_count) return INVALID("unknown local %u", x);
  uint8_t t = c->local_types[x];
  uint32_t ls = c->local_slots[x];
  if (op == 0x20) /* local.get: defer */
    return push_local(c, t, ls);
  operand v;
  TRY(pop_raw(c, t, &v));
  if (emitting(c)) {
    if (is_fresh(c, &v) && !local_referenced(c, ls)) {
      c->code[c->last_dst_cell] = ls; /* the producer writes straight into the local */
    } else {
      TRY(materialize_local(c, ls));
      TRY(emit_move(c, &v, ls));
    }
    place_label(c);
  }
  if (op == 0x22) /* local.tee */
    return push_local(c, t, ls);
  return true;
}

/* The values being popped at a fallthrough end must be in their own slots: called before
 * compile_end/else with the frame still on top. */
static bool materialize_results(compiler *c) {
  ctrl_frame *f = &c->ctrls[c->csp - 1];
  if (f->unreachable) return true;
  uint32_t n = f->nresults;
  if (c->sp < f->height + n) return true; /* pop_results reports it */
  for (uint32_t k = 0; k < n; k++) TRY(materialize(c, c->sp - n + k));
  return true;
}

static bool compile_end(compiler *c, bool *function_done) {
  ctrl_frame f = c->ctrls[c->csp - 1];
  if (f.kind == CF_FUNC) {
    /* falling off the end is a return (branches to this label return directly) */
    if (!f.unreachable && c->sp == f.height + f.nresults) {
      TRY(check_label_values(c, &c->ctrls[c->csp - 1]));
      TRY(emit_branch(c, 0));
    }
    TRY(pop_results(c, &f));
    c->csp--;
    *function_done = true;
    return true;
  }
  if (f.kind == CF_IF) {
    /* no else: the params pass through as the results */
    if (f.nparams != f.nresults || (f.nparams && memcmp(f.params, f.results, f.nparams)))
      return INVALID("type mismatch: if without else must leave its parameters as results");
  }
  TRY(materialize_results(c));
  TRY(pop_results(c, &f));
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


static bool compile_br_table(compiler *c) {
  uint32_t count;
  READ(read_u32(&c->r, &count));
  if (count > c->r.end - c->r.pos) return MALFORMED("unexpected end of section or function");
  uint32_t *depths = malloc(((size_t)count + 1) * sizeof(uint32_t));
  if (!depths) return nomem(c);
  bool ok = true;
  for (uint32_t i = 0; ok && i <= count; i++) ok = read_label(c, &depths[i]);
  operand idx;
  if (ok) ok = pop(c, VT_I32, &idx);
  if (ok) {
    uint32_t arity = label_arity(&c->ctrls[c->csp - 1 - depths[count]]);
    for (uint32_t i = 0; ok && i <= count; i++) {
      const ctrl_frame *t = &c->ctrls[c->csp - 1 - depths[i]];
      if (label_arity(t) != arity) ok = INVALID("type mismatch: br_table targets differ in arity");
      else ok = check_label_values(c, t);
    }
  }
  if (ok && emitting(c)) {
    ok = emit_op(c, IOP_br_table) && emit(c, idx.loc) && emit(c, count);
    uint32_t table = c->ncode;
    for (uint32_t i = 0; ok && i <= count; i++) ok = emit(c, 0);
    for (uint32_t i = 0; ok && i <= count; i++) {
      if (branch_is_plain(c, depths[i])) {
        ok = plain_target_at(c, depths[i], table + i);
      } else {
        /* a trampoline after the table moves the values, then jumps */
        ok = mark_target(c, table + i, c->ncode) && emit_branch(c, depths[i]);
      }
    }
  }
  free(depths);
  if (ok) set_unreachable(c);
  return ok;
}

static bool compile_select(compiler *c, bool typed) {
  uint8_t t = T_UNKNOWN;
  if (typed) {
    uint32_t n;
    READ(read_u32(&c->r, &n));
    if (n != 1) return INVALID("invalid result arity");
    READ(read_u8(&c->r, &t));
    if (!is_num_or_vec(t) && !is_ref(t)) return MALFORMED("malformed value type");
  }
  operand cond, b, a;
  TRY(pop(c, VT_I32, &cond));
  TRY(pop(c, t, &b));
  TRY(pop(c, t, &a));
  uint8_t rt = t;
  if (!typed) {
    if ((a.type != T_UNKNOWN && !is_num_or_vec(a.type)) || (b.type != T_UNKNOWN && !is_num_or_vec(b.type)))
      return INVALID("type mismatch: select without a type needs numeric or vector operands");
    if (a.type != T_UNKNOWN && b.type != T_UNKNOWN && a.type != b.type)
      return INVALID("type mismatch: select operands %s and %s", type_name(a.type), type_name(b.type));
    rt = a.type != T_UNKNOWN ? a.type : b.type;
  }
  operand *r = push(c, rt);
  if (!r) return false;
  if (!emitting(c)) return true;
  TRY(emit_op(c, rt == VT_V128 ? IOP_select128 : IOP_select));
  uint32_t dst_cell = c->ncode;
  TRY(emit(c, r->slot) && emit(c, a.loc) && emit(c, b.loc) && emit(c, cond.loc));
  produced(c, dst_cell);
  return true;
}

/* Emit an op with a result slot and the given operand cells. */
static bool emit_with_dst(compiler *c, int iop, uint8_t out_type, int n, const cell *cells) {
  operand *r = push(c, out_type);
  if (!r) return false;
  if (!emitting(c)) return true;
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
  if (!emitting(c)) return true;
  TRY(emit_op(c, iop));
  for (int i = 0; i < n; i++) TRY(emit(c, cells[i]));
  return true;
}

static bool compile_prefixed_fc(compiler *c, int iop) {
  operand a, b, d;
  uint32_t x, y;
  switch (iop) {
    case IOP_memory_init:
      READ(read_u32(&c->r, &x));
      TRY(read_zero_byte(c));
      TRY(need_memory(c));
      TRY(check_data_index(c, x));
      TRY(pop(c, VT_I32, &d) && pop(c, VT_I32, &b) && pop(c, VT_I32, &a));
      return emit_plain(c, iop, 4, (cell[]){x, a.loc, b.loc, d.loc});
    case IOP_data_drop:
      READ(read_u32(&c->r, &x));
      TRY(check_data_index(c, x));
      return emit_plain(c, iop, 1, (cell[]){x});
    case IOP_memory_copy:
      TRY(read_zero_byte(c) && read_zero_byte(c));
      TRY(need_memory(c));
      TRY(pop(c, VT_I32, &d) && pop(c, VT_I32, &b) && pop(c, VT_I32, &a));
      return emit_plain(c, iop, 3, (cell[]){a.loc, b.loc, d.loc});
    case IOP_memory_fill:
      TRY(read_zero_byte(c));
      TRY(need_memory(c));
      TRY(pop(c, VT_I32, &d) && pop(c, VT_I32, &b) && pop(c, VT_I32, &a));
      return emit_plain(c, iop, 3, (cell[]){a.loc, b.loc, d.loc});
    case IOP_table_init:
      TRY(read_elem_index(c, &x));
      TRY(read_table_index(c, &y));
      if (c->m->elems[x].elem_type != c->m->tables[y].elem_type) return INVALID("type mismatch: table.init element type");
      TRY(pop(c, VT_I32, &d) && pop(c, VT_I32, &b) && pop(c, VT_I32, &a));
      return emit_plain(c, iop, 5, (cell[]){y, x, a.loc, b.loc, d.loc});
    case IOP_elem_drop:
      TRY(read_elem_index(c, &x));
      return emit_plain(c, iop, 1, (cell[]){x});
    case IOP_table_copy:
      TRY(read_table_index(c, &x));
      TRY(read_table_index(c, &y));
      if (c->m->tables[x].elem_type != c->m->tables[y].elem_type) return INVALID("type mismatch: table.copy element types");
      TRY(pop(c, VT_I32, &d) && pop(c, VT_I32, &b) && pop(c, VT_I32, &a));
      return emit_plain(c, iop, 5, (cell[]){x, y, a.loc, b.loc, d.loc});
    case IOP_table_grow:
      TRY(read_table_index(c, &x));
      TRY(pop(c, VT_I32, &b) && pop(c, c->m->tables[x].elem_type, &a));
      return emit_with_dst(c, iop, VT_I32, 3, (cell[]){x, a.loc, b.loc});
    case IOP_table_size:
      TRY(read_table_index(c, &x));
      return emit_with_dst(c, iop, VT_I32, 1, (cell[]){x});
    case IOP_table_fill:
      TRY(read_table_index(c, &x));
      TRY(pop(c, VT_I32, &d) && pop(c, c->m->tables[x].elem_type, &b) && pop(c, VT_I32, &a));
      return emit_plain(c, iop, 4, (cell[]){x, a.loc, b.loc, d.loc});
  }
  return compile_generic(c, iop);
}

static bool compile_instruction(compiler *c, bool *function_done) {
  c->instr_offset = c->r.pos;
  uint8_t byte;
  READ(read_u8(&c->r, &byte));
  int iop;
  if (byte == 0xFC || byte == 0xFD) {
    uint32_t sub;
    READ(read_u32(&c->r, &sub));
    iop = byte == 0xFC ? (sub < 32 ? op_fc[sub] : -1) : (sub < 256 ? op_fd[sub] : -1);
    if (iop < 0) return MALFORMED("illegal opcode 0x%02x %u", byte, sub);
    if (byte == 0xFC) return compile_prefixed_fc(c, iop);
  } else {
    iop = op_plain[byte];
    if (iop < 0) return MALFORMED("illegal opcode 0x%02x", byte);
  }
  if (op_infos[iop].kind != K_SPECIAL) return compile_generic(c, iop);

  operand a, b;
  uint32_t x, y;
  switch (iop) {
    case IOP_unreachable:
      if (emitting(c)) TRY(emit_op(c, IOP_unreachable));
      set_unreachable(c);
      return true;
    case IOP_nop:
      return true;
    case IOP_block:
    case IOP_loop:
    case IOP_if_: {
      uint32_t np = 0, nr = 0;
      const uint8_t *params = NULL, *results = NULL;
      TRY(read_blocktype(c, &np, &params, &nr, &results));
      operand cond = {0};
      if (iop == IOP_if_) TRY(pop(c, VT_I32, &cond));
      /* params stay where they are (materialized in their own slots); the frame starts
       * below them */
      TRY(materialize_all(c));
      for (uint32_t k = np; k-- > 0;) TRY(pop(c, params[k], &a));
      TRY(push_ctrl(c, iop == IOP_block ? CF_BLOCK : iop == IOP_loop ? CF_LOOP : CF_IF, np, params, nr, results));
      ctrl_frame *f = &c->ctrls[c->csp - 1];
      TRY(push_types(c, np, params));
      place_label(c);
      if (iop == IOP_loop) {
        f->loop_pc = c->ncode;
        if (EMIT_LOOP_CHECKS && emitting(c)) {
          TRY(emit_op(c, IOP_loop_check));
          f->fuel_cell = c->ncode;
          TRY(emit(c, 1)); /* the iteration's cost, known at the loop's end */
        }
      } else if (iop == IOP_if_ && emitting(c)) {
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
    case IOP_else_: {
      ctrl_frame *f = &c->ctrls[c->csp - 1];
      if (f->kind != CF_IF) return MALFORMED("else without if");
      TRY(materialize_results(c));
      TRY(pop_results(c, f));
      if (emitting(c)) {
        TRY(emit_op(c, IOP_jump));
        TRY(emit_forward(c, f));
      }
      if (f->else_patch != NO_PATCH) c->code[f->else_patch] = c->ncode;
      f->else_patch = NO_PATCH;
      f->kind = CF_ELSE;
      f->unreachable = false;
      drop_to(c, f->height);
      TRY(push_types(c, f->nparams, f->params));
      place_label(c);
      return true;
    }
    case IOP_end:
      return compile_end(c, function_done);
    case IOP_br:
      TRY(read_label(c, &x));
      TRY(check_label_values(c, &c->ctrls[c->csp - 1 - x]));
      if (emitting(c)) TRY(emit_branch(c, x));
      set_unreachable(c);
      return true;
    case IOP_br_if: {
      TRY(read_label(c, &x));
      TRY(pop(c, VT_I32, &a));
      ctrl_frame *t = &c->ctrls[c->csp - 1 - x];
      TRY(check_label_values(c, t));
      /* the label's types replace the values' types (they matched) */
      uint32_t n = label_arity(t);
      if (c->sp - c->ctrls[c->csp - 1].height >= n)
        for (uint32_t k = 0; k < n; k++) {
          operand *o = &c->stack[c->sp - n + k];
          if (o->type == T_UNKNOWN) o->type = label_types(t)[k];
        }
      else {
        /* unreachable code with a short stack: pop and push the label types */
        operand tmp;
        for (uint32_t k = n; k-- > 0;) TRY(pop(c, label_types(t)[k], &tmp));
        TRY(push_types(c, n, label_types(t)));
      }
      if (emitting(c)) {
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
      }
      return true;
    }
    case IOP_br_table:
      return compile_br_table(c);
    case IOP_return_:
      TRY(check_label_values(c, &c->ctrls[0]));
      if (emitting(c)) TRY(emit_branch(c, c->csp - 1));
      set_unreachable(c);
      return true;
    case IOP_call: {
      READ(read_u32(&c->r, &x));
      if (x >= c->m->func_count) return INVALID("unknown function %u", x);
      const functype *t = &c->m->types[c->m->func_types[x]];
      if (x >= c->m->imported_func_count)
        return compile_call(c, t, IOP_call_local,
                            (cell)(uintptr_t)&c->mod->funcs[x - c->m->imported_func_count], 0, NULL);
      return compile_call(c, t, IOP_call_import, x, 0, NULL);
    }
    case IOP_call_indirect: {
      READ(read_u32(&c->r, &y));
      READ(read_u32(&c->r, &x));
      if (x >= c->m->table_count) return INVALID("unknown table %u", x);
      if (y >= c->m->type_count) return INVALID("unknown type %u", y);
      if (c->m->tables[x].elem_type != VT_FUNCREF) return INVALID("type mismatch: call_indirect on a table of externref");
      TRY(pop(c, VT_I32, &a));
      return compile_call(c, &c->m->types[y], IOP_call_indirect, c->mod->type_ids[y], x, &a);
    }
    case IOP_drop:
      TRY(pop_raw(c, T_UNKNOWN, &a));
      return true;
    case IOP_select:
    case IOP_select_t:
      return compile_select(c, iop == IOP_select_t);
    case IOP_local_get:
    case IOP_local_set:
    case IOP_local_tee:
      return compile_local(c, byte);
    case IOP_global_get:
    case IOP_global_set: {
      READ(read_u32(&c->r, &x));
      if (x >= c->m->global_count) return INVALID("unknown global %u", x);
      globaltype g = c->m->global_types[x];
      bool wide = g.type == VT_V128;
      if (iop == IOP_global_get) return emit_with_dst(c, wide ? IOP_global_get128 : IOP_global_get, g.type, 1, (cell[]){x});
      if (!g.is_mutable) return INVALID("global is immutable: global.set %u", x);
      TRY(pop(c, g.type, &a));
      return emit_plain(c, wide ? IOP_global_set128 : IOP_global_set, 2, (cell[]){x, a.loc});
    }
    case IOP_table_get:
      TRY(read_table_index(c, &x));
      TRY(pop(c, VT_I32, &a));
      return emit_with_dst(c, iop, c->m->tables[x].elem_type, 2, (cell[]){x, a.loc});
    case IOP_table_set:
      TRY(read_table_index(c, &x));
      TRY(pop(c, c->m->tables[x].elem_type, &b));
      TRY(pop(c, VT_I32, &a));
      return emit_plain(c, iop, 3, (cell[]){x, a.loc, b.loc});
    case IOP_memory_size:
      TRY(read_zero_byte(c));
      TRY(need_memory(c));
      return emit_with_dst(c, iop, VT_I32, 0, NULL);
    case IOP_memory_grow:
      TRY(read_zero_byte(c));
      TRY(need_memory(c));
      TRY(pop(c, VT_I32, &a));
      return emit_with_dst(c, iop, VT_I32, 1, (cell[]){a.loc});
    case IOP_i32_const: {
      int32_t v;
      READ(read_s32(&c->r, &v));
      return push_const(c, VT_I32, (uint32_t)v);
    }
    case IOP_i64_const: {
      int64_t v;
      READ(read_s64(&c->r, &v));
      return push_const(c, VT_I64, (uint64_t)v);
    }
    case IOP_f32_const: {
      uint32_t v;
      READ(read_f32_bits(&c->r, &v));
      return push_const(c, VT_F32, v);
    }
    case IOP_f64_const: {
      uint64_t v;
      READ(read_f64_bits(&c->r, &v));
      return push_const(c, VT_F64, v);
    }
    case IOP_ref_null: {
      uint8_t t;
      READ(read_u8(&c->r, &t));
      if (!is_ref(t)) return MALFORMED("malformed reference type");
      return emit_with_dst(c, IOP_const64, t, 1, (cell[]){0});
    }
    case IOP_ref_is_null:
      TRY(pop(c, T_UNKNOWN, &a));
      if (a.type != T_UNKNOWN && !is_ref(a.type)) return INVALID("type mismatch: ref.is_null of %s", type_name(a.type));
      return emit_with_dst(c, iop, VT_I32, 1, (cell[]){a.loc});
    case IOP_ref_func:
      READ(read_u32(&c->r, &x));
      if (x >= c->m->func_count) return INVALID("unknown function %u", x);
      if (!c->mod->declared_refs[x]) return INVALID("undeclared function reference %u", x);
      return emit_with_dst(c, iop, VT_FUNCREF, 1, (cell[]){x});
  }
  /* SIMD specials */
  if (iop == IOP_v128_const) {
    uint64_t lo, hi;
    READ(read_fixed(&c->r, &lo, 8));
    READ(read_fixed(&c->r, &hi, 8));
    return emit_with_dst(c, IOP_const128, VT_V128, 2, (cell[]){lo, hi});
  }
  if (iop == IOP_i8x16_shuffle) {
    uint8_t lanes[16];
    READ(read_fixed(&c->r, lanes, 16));
    for (int i = 0; i < 16; i++)
      if (lanes[i] >= 32) return INVALID("invalid lane index %u", lanes[i]);
    TRY(pop(c, VT_V128, &b));
    TRY(pop(c, VT_V128, &a));
    uint64_t lo, hi;
    memcpy(&lo, lanes, 8);
    memcpy(&hi, lanes + 8, 8);
    return emit_with_dst(c, iop, VT_V128, 4, (cell[]){a.loc, b.loc, lo, hi});
  }
  return MALFORMED("illegal opcode %s", op_infos[iop].text);
}

/* ------------------------------------------------------------------ driver */

static void compiler_free(compiler *c) {
  free(c->local_types);
  free(c->local_slots);
  free(c->local_refs);
  free(c->stack);
  free(c->ctrls);
  free(c->patches);
  free(c->relocs);
  free(c->code);
  free(c->offsets);
}

static bool setup_locals(compiler *c, const functype *t, const func_body *body) {
  uint64_t total = (uint64_t)t->param_count + body->local_count;
  if (total > MAX_FRAME_SLOTS) return fail(c, KILN_ERR_LIMIT, "too many locals (%llu)", (unsigned long long)total);
  c->local_count = (uint32_t)total;
  c->local_types = malloc(total ? total : 1);
  c->local_slots = malloc((total ? total : 1) * sizeof(uint32_t));
  if (!c->local_types || !c->local_slots) return nomem(c);
  uint32_t i = 0, slot = 0;
  for (uint32_t k = 0; k < t->param_count; k++, i++) {
    c->local_types[i] = t->types[k];
    c->local_slots[i] = slot * 8;
    slot += valtype_slots(t->types[k]);
  }
  c->locals_end = slot; /* temporarily: param slots */
  for (uint32_t run = 0; run < body->local_run_count; run++) {
    uint8_t type = body->local_runs[run].type;
    if (!is_num_or_vec(type) && !is_ref(type)) return MALFORMED("malformed value type");
    for (uint32_t k = 0; k < body->local_runs[run].count; k++, i++) {
      c->local_types[i] = type;
      c->local_slots[i] = slot * 8;
      slot += valtype_slots(type);
    }
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
  uint32_t rs = 0;
  for (uint32_t k = 0; k < t->result_count; k++) rs += valtype_slots(t->types[t->param_count + k]);
  c->result_bytes = rs * 8;
  if (c->result_bytes > c->max_slot) c->max_slot = c->result_bytes;
  return true;
}

kiln_status compile_function(kiln_module *mod, uint32_t defined_index, compiled_func *out,
                             kiln_error *err) {
  pthread_once(&op_lookup_once, build_op_lookup);
  const module_decl *m = &mod->decl;
  const func_body *body = &m->bodies[defined_index];
  uint32_t func_index = m->imported_func_count + defined_index;
  const functype *t = &m->types[m->func_types[func_index]];

  compiler cc;
  memset(&cc, 0, sizeof cc);
  compiler *c = &cc;
  c->mod = mod;
  c->m = m;
  c->h = mod->engine->handlers;
  c->err = err;
  c->status = KILN_OK;
  c->func_index = func_index;
  c->instr_offset = body->code.start;
  c->r = reader_make(m->bytes, body->code.start, body->code.end);
  c->last_dst_end = UINT32_MAX;
  uint64_t max_code = CODE_CELLS_BASE + (uint64_t)CODE_CELLS_PER_BYTE * (body->code.end - body->code.start);
  c->max_code = max_code < UINT32_MAX / 2 ? (uint32_t)max_code : UINT32_MAX / 2;

  bool ok = setup_locals(c, t, body);
  if (ok) ok = push_ctrl(c, CF_FUNC, 0, NULL, t->result_count, t->types + t->param_count);
  bool done = false;
  while (ok && !done) {
    if (reader_at_end(&c->r)) {
      ok = MALFORMED("unexpected end of section or function");
      break;
    }
    ok = compile_instruction(c, &done);
  }
  assert(!ok || !done || c->deferred == 0); /* every deferred operand was counted out */
  if (ok && !reader_at_end(&c->r)) {
    c->instr_offset = c->r.pos;
    ok = MALFORMED("section size mismatch: code after the end of the function");
  }
  if (!ok) {
    kiln_status st = c->status;
    compiler_free(c);
    return st == KILN_OK ? KILN_ERR_INVALID : st;
  }
  for (uint32_t i = 0; i < c->reloc_count; i++)
    c->code[c->relocs[i]] = (cell)(uintptr_t)(c->code + c->code[c->relocs[i]]);

  memset(out, 0, sizeof *out);
  out->code = c->code;
  out->code_cells = c->ncode;
  out->func_index = func_index;
  out->type = t;
  out->type_id = t->type_id;
  uint32_t ps = 0;
  for (uint32_t k = 0; k < t->param_count; k++) ps += valtype_slots(t->types[k]);
  out->param_slots = ps;
  out->local_slots = c->locals_end / 8 - ps;
  out->frame_slots = c->max_slot / 8;
  out->entry_fuel = 1 + c->ncode / FUEL_CELLS + (uint32_t)(8 * (uint64_t)out->local_slots / FUEL_BYTES);
  out->offsets = c->offsets;
  out->offset_count = c->offset_count;
  c->code = NULL;
  c->offsets = NULL;
  compiler_free(c);
  return KILN_OK;
}

void compiled_func_free(compiled_func *f) {
  free(f->code);
  free(f->offsets);
  f->code = NULL;
  f->offsets = NULL;
}
