/* func.c - validation of function bodies: the operand and control stacks of the spec's
 * validation algorithm, one instruction at a time (see func.h). Backends consume the decoded
 * instructions; no backend checks a type itself. */
#include "validate/func.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/error.h"
#include "instr/iop.h"

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

/* ------------------------------------------------------------------ errors */

const char *valtype_name(uint8_t t) {
  switch (t) {
    case VT_UNKNOWN: return "unknown";
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

static kiln_status vfail(func_validator *v, kiln_status status, const char *format, va_list ap) {
  if (v->status != KILN_OK) return v->status;
  char msg[320];
  vsnprintf(msg, sizeof msg, format, ap);
  v->status = status;
  if (status == KILN_ERR_NOMEM)
    error_set(v->err, status, "function %u: out of memory while compiling", v->func_index);
  else
    error_set(v->err, status, "code section, function %u, offset 0x%zx: %s", v->func_index,
              v->instr_offset, msg);
  return status;
}

kiln_status func_validator_fail(func_validator *v, kiln_status status, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  kiln_status st = vfail(v, status, format, ap);
  va_end(ap);
  return st;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool fail(func_validator *v, kiln_status status, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vfail(v, status, format, ap);
  va_end(ap);
  return false;
}

#define INVALID(...) fail(v, KILN_ERR_INVALID, __VA_ARGS__)
#define MALFORMED(...) fail(v, KILN_ERR_MALFORMED, __VA_ARGS__)
#define TRY(x) do { if (!(x)) return false; } while (0)

static bool read_fail(func_validator *v) {
  const char *why = v->r.error ? v->r.error : "unexpected end";
  if (strcmp(why, "unexpected end") == 0) why = "unexpected end of section or function";
  return MALFORMED("%s", why);
}

#define READ(x) do { if (!(x)) return read_fail(v); } while (0)

static bool nomem(func_validator *v) { return fail(v, KILN_ERR_NOMEM, "out of memory"); }

static bool grow(func_validator *v, void **items, uint32_t *cap, uint32_t need, size_t size) {
  return array_reserve(items, cap, need, size) || nomem(v);
}

/* ------------------------------------------------------------------ stacks */

static bool is_num_or_vec(uint8_t t) {
  return t == VT_I32 || t == VT_I64 || t == VT_F32 || t == VT_F64 || t == VT_V128;
}
static bool is_ref(uint8_t t) { return t == VT_FUNCREF || t == VT_EXTERNREF; }

static func_ctrl *top_ctrl(func_validator *v) { return &v->ctrls[v->csp - 1]; }

static bool push(func_validator *v, uint8_t type) {
  if (v->sp >= FUNC_MAX_STACK) return fail(v, KILN_ERR_LIMIT, "operand stack too deep");
  TRY(grow(v, (void **)&v->stack, &v->stack_cap, v->sp + 1, 1));
  v->stack[v->sp++] = type;
  if (v->sp > v->max_sp) v->max_sp = v->sp;
  return true;
}

static bool push_types(func_validator *v, uint32_t n, const uint8_t *types) {
  for (uint32_t k = 0; k < n; k++) TRY(push(v, types[k]));
  return true;
}

/* Pop an operand of type `expect` (VT_UNKNOWN accepts any) into *got. */
static bool pop(func_validator *v, uint8_t expect, uint8_t *got) {
  func_ctrl *f = top_ctrl(v);
  if (v->sp == f->height) {
    if (f->unreachable) {
      if (got) *got = expect;
      return true;
    }
    return INVALID("type mismatch: expected %s but the stack is empty",
                   expect == VT_UNKNOWN ? "a value" : valtype_name(expect));
  }
  uint8_t t = v->stack[--v->sp];
  if (expect != VT_UNKNOWN && t != VT_UNKNOWN && t != expect)
    return INVALID("type mismatch: expected %s, found %s", valtype_name(expect), valtype_name(t));
  if (got) *got = t == VT_UNKNOWN ? expect : t;
  return true;
}

static bool pop_n(func_validator *v, int n, uint8_t type) {
  for (int k = 0; k < n; k++) TRY(pop(v, type, NULL));
  return true;
}

static bool push_ctrl(func_validator *v, uint8_t kind, uint32_t np, const uint8_t *params,
                      uint32_t nr, const uint8_t *results) {
  TRY(grow(v, (void **)&v->ctrls, &v->ctrl_cap, v->csp + 1, sizeof(func_ctrl)));
  bool dead = v->csp > 0 && (top_ctrl(v)->unreachable || top_ctrl(v)->dead);
  func_ctrl *f = &v->ctrls[v->csp++];
  if (v->csp > v->max_csp) v->max_csp = v->csp;
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->dead = dead;
  f->nparams = np;
  f->params = params;
  f->nresults = nr;
  f->results = results;
  f->height = v->sp;
  return push_types(v, np, params);
}

static void set_unreachable(func_validator *v) {
  func_ctrl *f = top_ctrl(v);
  v->sp = f->height;
  f->unreachable = true;
}

/* Pop the frame's results at its end and check nothing else is left. */
static bool pop_results(func_validator *v, const func_ctrl *f) {
  for (uint32_t k = f->nresults; k-- > 0;) TRY(pop(v, f->results[k], NULL));
  if (v->sp != f->height)
    return INVALID("type mismatch: %u values left on the stack at end of block", v->sp - f->height);
  return true;
}

/* Check that the top of the stack matches the label's types, without popping. */
static bool check_label_values(func_validator *v, const func_ctrl *target) {
  uint32_t n = func_ctrl_label_arity(target);
  const uint8_t *types = func_ctrl_label_types(target);
  const func_ctrl *cur = top_ctrl(v);
  v->branch_values += n;
  for (uint32_t k = 0; k < n; k++) {
    uint8_t want = types[n - 1 - k];
    if (v->sp - cur->height <= k) {
      if (cur->unreachable) return true;
      return INVALID("type mismatch: branch expects %u values, the stack has %u", n, v->sp - cur->height);
    }
    uint8_t have = v->stack[v->sp - 1 - k];
    if (have != VT_UNKNOWN && have != want)
      return INVALID("type mismatch: branch expects %s, found %s", valtype_name(want), valtype_name(have));
  }
  return true;
}

/* ------------------------------------------------------------------ immediates */

/* The type lists of one-value block types: frames point into this table. */
static const uint8_t single_types[256] = {
    [VT_I32] = VT_I32, [VT_I64] = VT_I64, [VT_F32] = VT_F32, [VT_F64] = VT_F64,
    [VT_V128] = VT_V128, [VT_FUNCREF] = VT_FUNCREF, [VT_EXTERNREF] = VT_EXTERNREF,
};

/* Block types: 0x40 (none), a value type, or a type index (s33). */
static bool read_blocktype(func_validator *v, func_instr *in) {
  uint8_t b;
  READ(read_u8(&v->r, &b));
  in->nparams = 0;
  in->params = NULL;
  if (b == 0x40) {
    in->nresults = 0;
    in->results = NULL;
    return true;
  }
  if (is_num_or_vec(b) || is_ref(b)) {
    in->nresults = 1;
    in->results = &single_types[b];
    return true;
  }
  v->r.pos--;
  int64_t idx;
  READ(read_sleb(&v->r, 33, &idx));
  if (idx < 0) return MALFORMED("malformed block type");
  if ((uint64_t)idx >= v->m->type_count) return INVALID("unknown type %lld", (long long)idx);
  const functype *t = &v->m->types[idx];
  in->nparams = t->param_count;
  in->params = t->types;
  in->nresults = t->result_count;
  in->results = t->types + t->param_count;
  return true;
}

static bool read_label(func_validator *v, uint32_t *depth) {
  READ(read_u32(&v->r, depth));
  if (*depth >= v->csp) return INVALID("unknown label %u", *depth);
  return true;
}

static bool read_memarg(func_validator *v, uint32_t natural, func_instr *in) {
  uint32_t align, off;
  READ(read_u32(&v->r, &align));
  READ(read_u32(&v->r, &off));
  in->align = align;
  in->mem_offset = off;
  if (align >= 32) return MALFORMED("malformed memop flags");
  if (v->m->memory_count == 0) return INVALID("unknown memory 0");
  if ((1u << align) > natural) return INVALID("alignment must not be larger than natural");
  return true;
}

static bool need_memory(func_validator *v) {
  if (v->m->memory_count == 0) return INVALID("unknown memory 0");
  return true;
}

static bool read_zero_byte(func_validator *v) {
  uint8_t b;
  READ(read_u8(&v->r, &b));
  if (b != 0) return MALFORMED("zero byte expected");
  return true;
}

static bool read_table_index(func_validator *v, uint32_t *t) {
  READ(read_u32(&v->r, t));
  if (*t >= v->m->table_count) return INVALID("unknown table %u", *t);
  return true;
}

static bool read_elem_index(func_validator *v, uint32_t *e) {
  READ(read_u32(&v->r, e));
  if (*e >= v->m->elem_count) return INVALID("unknown elem segment %u", *e);
  return true;
}

static bool read_data_index(func_validator *v, uint32_t *d) {
  READ(read_u32(&v->r, d));
  if (*d >= v->m->data_segment_count) return INVALID("unknown data segment %u", *d);
  if (!v->m->has_data_count) return MALFORMED("data count section required");
  return true;
}

/* ------------------------------------------------------------------ instructions */

/* The generic kinds of opcodes.def: operands and immediates follow from the row. */
static bool validate_generic(func_validator *v, int iop, func_instr *in) {
  const op_info *o = &op_infos[iop];
  switch (o->kind) {
    case K_UNARY:
    case K_UNARY_TRAP:
      TRY(pop(v, o->in1, NULL));
      break;
    case K_BINARY:
    case K_BINARY_TRAP:
      TRY(pop(v, o->in2, NULL));
      TRY(pop(v, o->in1, NULL));
      break;
    case K_TERNARY:
      TRY(pop_n(v, 3, VT_V128));
      break;
    case K_LOAD:
      TRY(read_memarg(v, o->size, in));
      TRY(pop(v, VT_I32, NULL));
      break;
    case K_STORE:
      TRY(read_memarg(v, o->size, in));
      TRY(pop(v, o->in2, NULL));
      TRY(pop(v, VT_I32, NULL));
      break;
    case K_EXTRACT_LANE:
    case K_REPLACE_LANE:
      READ(read_u8(&v->r, &in->lane));
      if (in->lane >= o->size) return INVALID("invalid lane index %u", in->lane);
      if (o->kind == K_REPLACE_LANE) TRY(pop(v, o->in2, NULL));
      TRY(pop(v, VT_V128, NULL));
      break;
    case K_LOAD_LANE:
    case K_STORE_LANE:
      TRY(read_memarg(v, o->size, in));
      READ(read_u8(&v->r, &in->lane));
      if (in->lane >= 16 / o->size) return INVALID("invalid lane index %u", in->lane);
      TRY(pop(v, VT_V128, NULL));
      TRY(pop(v, VT_I32, NULL));
      break;
    default:
      return INVALID("internal: opcode %s has no generic form", o->text);
  }
  if (o->out != T_NONE) TRY(push(v, o->out));
  return true;
}

static bool validate_call(func_validator *v, const functype *t) {
  for (uint32_t k = t->param_count; k-- > 0;) TRY(pop(v, t->types[k], NULL));
  return push_types(v, t->result_count, t->types + t->param_count);
}

static bool validate_end(func_validator *v, func_instr *in) {
  func_ctrl f = *top_ctrl(v);
  in->nparams = f.nparams;
  in->params = f.params;
  in->nresults = f.nresults;
  in->results = f.results;
  if (f.kind == CTRL_IF &&
      (f.nparams != f.nresults || (f.nparams && memcmp(f.params, f.results, f.nparams))))
    return INVALID("type mismatch: if without else must leave its parameters as results");
  TRY(pop_results(v, &f));
  v->csp--;
  if (f.kind == CTRL_FUNC) {
    in->function_end = true;
    v->done = true;
    if (!reader_at_end(&v->r)) {
      v->instr_offset = v->r.pos;
      return MALFORMED("section size mismatch: code after the end of the function");
    }
    return true;
  }
  return push_types(v, f.nresults, f.results);
}

static bool validate_br_table(func_validator *v, func_instr *in) {
  uint32_t count;
  READ(read_u32(&v->r, &count));
  if (count > v->r.end - v->r.pos) return MALFORMED("unexpected end of section or function");
  TRY(grow(v, (void **)&v->targets, &v->target_cap, count + 1, sizeof(uint32_t)));
  for (uint32_t i = 0; i <= count; i++) TRY(read_label(v, &v->targets[i]));
  in->target_count = count;
  in->targets = v->targets;
  TRY(pop(v, VT_I32, NULL));
  uint32_t arity = func_ctrl_label_arity(func_validator_label(v, v->targets[count]));
  for (uint32_t i = 0; i <= count; i++) {
    const func_ctrl *t = func_validator_label(v, v->targets[i]);
    if (func_ctrl_label_arity(t) != arity) return INVALID("type mismatch: br_table targets differ in arity");
    TRY(check_label_values(v, t));
  }
  set_unreachable(v);
  return true;
}

static bool validate_br_if(func_validator *v, func_instr *in) {
  TRY(read_label(v, &in->index));
  TRY(pop(v, VT_I32, NULL));
  const func_ctrl *t = func_validator_label(v, in->index);
  TRY(check_label_values(v, t));
  /* the label's types replace the values' types (they matched) */
  uint32_t n = func_ctrl_label_arity(t);
  const uint8_t *types = func_ctrl_label_types(t);
  if (v->sp - top_ctrl(v)->height >= n) {
    for (uint32_t k = 0; k < n; k++)
      if (v->stack[v->sp - n + k] == VT_UNKNOWN) v->stack[v->sp - n + k] = types[k];
    return true;
  }
  /* unreachable code with a short stack: pop and push the label types */
  for (uint32_t k = n; k-- > 0;) TRY(pop(v, types[k], NULL));
  return push_types(v, n, types);
}

static bool validate_select(func_validator *v, bool typed, func_instr *in) {
  uint8_t t = VT_UNKNOWN;
  if (typed) {
    uint32_t n;
    READ(read_u32(&v->r, &n));
    if (n != 1) return INVALID("invalid result arity");
    READ(read_u8(&v->r, &t));
    if (!is_num_or_vec(t) && !is_ref(t)) return MALFORMED("malformed value type");
  }
  uint8_t a, b;
  TRY(pop(v, VT_I32, NULL));
  TRY(pop(v, t, &b));
  TRY(pop(v, t, &a));
  if (!typed) {
    if ((a != VT_UNKNOWN && !is_num_or_vec(a)) || (b != VT_UNKNOWN && !is_num_or_vec(b)))
      return INVALID("type mismatch: select without a type needs numeric or vector operands");
    if (a != VT_UNKNOWN && b != VT_UNKNOWN && a != b)
      return INVALID("type mismatch: select operands %s and %s", valtype_name(a), valtype_name(b));
    t = a != VT_UNKNOWN ? a : b;
  }
  in->type = t;
  return push(v, t);
}

static bool validate_prefixed_fc(func_validator *v, int iop, func_instr *in) {
  switch (iop) {
    case IOP_memory_init:
      TRY(read_data_index(v, &in->index));
      TRY(read_zero_byte(v));
      TRY(need_memory(v));
      return pop_n(v, 3, VT_I32);
    case IOP_data_drop:
      return read_data_index(v, &in->index);
    case IOP_memory_copy:
      TRY(read_zero_byte(v) && read_zero_byte(v));
      TRY(need_memory(v));
      return pop_n(v, 3, VT_I32);
    case IOP_memory_fill:
      TRY(read_zero_byte(v));
      TRY(need_memory(v));
      return pop_n(v, 3, VT_I32);
    case IOP_table_init:
      TRY(read_elem_index(v, &in->index));
      TRY(read_table_index(v, &in->index2));
      if (v->m->elems[in->index].elem_type != v->m->tables[in->index2].elem_type)
        return INVALID("type mismatch: table.init element type");
      return pop_n(v, 3, VT_I32);
    case IOP_elem_drop:
      return read_elem_index(v, &in->index);
    case IOP_table_copy:
      TRY(read_table_index(v, &in->index));
      TRY(read_table_index(v, &in->index2));
      if (v->m->tables[in->index].elem_type != v->m->tables[in->index2].elem_type)
        return INVALID("type mismatch: table.copy element types");
      return pop_n(v, 3, VT_I32);
    case IOP_table_grow:
      TRY(read_table_index(v, &in->index));
      in->type = v->m->tables[in->index].elem_type;
      TRY(pop(v, VT_I32, NULL) && pop(v, in->type, NULL));
      return push(v, VT_I32);
    case IOP_table_size:
      TRY(read_table_index(v, &in->index));
      return push(v, VT_I32);
    case IOP_table_fill:
      TRY(read_table_index(v, &in->index));
      in->type = v->m->tables[in->index].elem_type;
      TRY(pop(v, VT_I32, NULL) && pop(v, in->type, NULL) && pop(v, VT_I32, NULL));
      return true;
  }
  return validate_generic(v, iop, in); /* the saturating truncations */
}

static bool validate_special(func_validator *v, int iop, func_instr *in) {
  uint32_t x, y;
  switch (iop) {
    case IOP_unreachable:
      set_unreachable(v);
      return true;
    case IOP_nop:
      return true;
    case IOP_block:
    case IOP_loop:
    case IOP_if_:
      TRY(read_blocktype(v, in));
      if (iop == IOP_if_) TRY(pop(v, VT_I32, NULL));
      for (uint32_t k = in->nparams; k-- > 0;) TRY(pop(v, in->params[k], NULL));
      return push_ctrl(v, iop == IOP_block ? CTRL_BLOCK : iop == IOP_loop ? CTRL_LOOP : CTRL_IF,
                       in->nparams, in->params, in->nresults, in->results);
    case IOP_else_: {
      func_ctrl *f = top_ctrl(v);
      if (f->kind != CTRL_IF) return MALFORMED("else without if");
      in->nparams = f->nparams;
      in->params = f->params;
      in->nresults = f->nresults;
      in->results = f->results;
      TRY(pop_results(v, f));
      f->kind = CTRL_ELSE;
      f->unreachable = false;
      v->sp = f->height;
      return push_types(v, f->nparams, f->params);
    }
    case IOP_end:
      return validate_end(v, in);
    case IOP_br:
      TRY(read_label(v, &in->index));
      TRY(check_label_values(v, func_validator_label(v, in->index)));
      set_unreachable(v);
      return true;
    case IOP_br_if:
      return validate_br_if(v, in);
    case IOP_br_table:
      return validate_br_table(v, in);
    case IOP_return_:
      TRY(check_label_values(v, &v->ctrls[0]));
      set_unreachable(v);
      return true;
    case IOP_call:
      READ(read_u32(&v->r, &x));
      if (x >= v->m->func_count) return INVALID("unknown function %u", x);
      in->index = x;
      return validate_call(v, &v->m->types[v->m->func_types[x]]);
    case IOP_call_indirect:
      READ(read_u32(&v->r, &y));
      READ(read_u32(&v->r, &x));
      if (x >= v->m->table_count) return INVALID("unknown table %u", x);
      if (y >= v->m->type_count) return INVALID("unknown type %u", y);
      if (v->m->tables[x].elem_type != VT_FUNCREF)
        return INVALID("type mismatch: call_indirect on a table of externref");
      in->index = x;
      in->index2 = y;
      TRY(pop(v, VT_I32, NULL));
      return validate_call(v, &v->m->types[y]);
    case IOP_drop:
      return pop(v, VT_UNKNOWN, &in->type);
    case IOP_select:
    case IOP_select_t:
      return validate_select(v, iop == IOP_select_t, in);
    case IOP_local_get:
    case IOP_local_set:
    case IOP_local_tee:
      READ(read_u32(&v->r, &x));
      if (x >= v->local_count) return INVALID("unknown local %u", x);
      in->index = x;
      in->type = v->local_types[x];
      if (iop != IOP_local_get) TRY(pop(v, in->type, NULL));
      return iop == IOP_local_set ? true : push(v, in->type);
    case IOP_global_get:
    case IOP_global_set: {
      READ(read_u32(&v->r, &x));
      if (x >= v->m->global_count) return INVALID("unknown global %u", x);
      globaltype g = v->m->global_types[x];
      in->index = x;
      in->type = g.type;
      if (iop == IOP_global_get) return push(v, g.type);
      if (!g.is_mutable) return INVALID("global is immutable: global.set %u", x);
      return pop(v, g.type, NULL);
    }
    case IOP_table_get:
      TRY(read_table_index(v, &in->index));
      in->type = v->m->tables[in->index].elem_type;
      TRY(pop(v, VT_I32, NULL));
      return push(v, in->type);
    case IOP_table_set:
      TRY(read_table_index(v, &in->index));
      in->type = v->m->tables[in->index].elem_type;
      return pop(v, in->type, NULL) && pop(v, VT_I32, NULL);
    case IOP_memory_size:
      TRY(read_zero_byte(v));
      TRY(need_memory(v));
      return push(v, VT_I32);
    case IOP_memory_grow:
      TRY(read_zero_byte(v));
      TRY(need_memory(v));
      TRY(pop(v, VT_I32, NULL));
      return push(v, VT_I32);
    case IOP_i32_const: {
      int32_t c;
      READ(read_s32(&v->r, &c));
      in->imm[0] = (uint32_t)c;
      return push(v, VT_I32);
    }
    case IOP_i64_const: {
      int64_t c;
      READ(read_s64(&v->r, &c));
      in->imm[0] = (uint64_t)c;
      return push(v, VT_I64);
    }
    case IOP_f32_const: {
      uint32_t c;
      READ(read_f32_bits(&v->r, &c));
      in->imm[0] = c;
      return push(v, VT_F32);
    }
    case IOP_f64_const:
      READ(read_f64_bits(&v->r, &in->imm[0]));
      return push(v, VT_F64);
    case IOP_ref_null:
      READ(read_u8(&v->r, &in->type));
      if (!is_ref(in->type)) return MALFORMED("malformed reference type");
      return push(v, in->type);
    case IOP_ref_is_null: {
      uint8_t t;
      TRY(pop(v, VT_UNKNOWN, &t));
      if (t != VT_UNKNOWN && !is_ref(t)) return INVALID("type mismatch: ref.is_null of %s", valtype_name(t));
      in->type = t;
      return push(v, VT_I32);
    }
    case IOP_ref_func:
      READ(read_u32(&v->r, &x));
      if (x >= v->m->func_count) return INVALID("unknown function %u", x);
      if (!v->declared_refs[x]) return INVALID("undeclared function reference %u", x);
      in->index = x;
      return push(v, VT_FUNCREF);
    case IOP_v128_const:
      READ(read_fixed(&v->r, &in->imm[0], 8));
      READ(read_fixed(&v->r, &in->imm[1], 8));
      return push(v, VT_V128);
    case IOP_i8x16_shuffle: {
      uint8_t lanes[16];
      READ(read_fixed(&v->r, lanes, 16));
      for (int i = 0; i < 16; i++)
        if (lanes[i] >= 32) return INVALID("invalid lane index %u", lanes[i]);
      memcpy(in->imm, lanes, 16);
      TRY(pop_n(v, 2, VT_V128));
      return push(v, VT_V128);
    }
  }
  return MALFORMED("illegal opcode %s", op_infos[iop].text);
}

static bool validate_instruction(func_validator *v, func_instr *in) {
  v->instr_offset = v->r.pos;
  memset(in, 0, sizeof *in);
  in->offset = (uint32_t)v->r.pos;
  in->reachable = !top_ctrl(v)->unreachable && !top_ctrl(v)->dead;
  if (reader_at_end(&v->r)) return MALFORMED("unexpected end of section or function");
  uint8_t byte;
  READ(read_u8(&v->r, &byte));
  int iop;
  if (byte == 0xFC || byte == 0xFD) {
    uint32_t sub;
    READ(read_u32(&v->r, &sub));
    iop = byte == 0xFC ? (sub < 32 ? op_fc[sub] : -1) : (sub < 256 ? op_fd[sub] : -1);
    if (iop < 0) return MALFORMED("illegal opcode 0x%02x %u", byte, sub);
    in->iop = iop;
    if (byte == 0xFC) return validate_prefixed_fc(v, iop, in);
  } else {
    iop = op_plain[byte];
    if (iop < 0) return MALFORMED("illegal opcode 0x%02x", byte);
    in->iop = iop;
  }
  if (op_infos[iop].kind != K_SPECIAL) return validate_generic(v, iop, in);
  return validate_special(v, iop, in);
}

/* ------------------------------------------------------------------ driver */

kiln_status func_validator_next(func_validator *v, func_instr *out) {
  if (v->status != KILN_OK) return v->status;
  if (!validate_instruction(v, out) && v->status == KILN_OK) v->status = KILN_ERR_INVALID;
  return v->status;
}

kiln_status func_validator_init(func_validator *v, const module_decl *m, const bool *declared_refs,
                                uint32_t defined_index, kiln_error *err) {
  pthread_once(&op_lookup_once, build_op_lookup);
  memset(v, 0, sizeof *v);
  const func_body *body = &m->bodies[defined_index];
  v->m = m;
  v->declared_refs = declared_refs;
  v->err = err;
  v->func_index = m->imported_func_count + defined_index;
  v->type = &m->types[m->func_types[v->func_index]];
  v->instr_offset = body->code.start;
  v->r = reader_make(m->bytes, body->code.start, body->code.end);

  const functype *t = v->type;
  uint64_t total = (uint64_t)t->param_count + body->local_count;
  if (total > FUNC_MAX_LOCALS) {
    fail(v, KILN_ERR_LIMIT, "too many locals (%llu)", (unsigned long long)total);
    return v->status;
  }
  v->local_count = (uint32_t)total;
  v->local_types = malloc(total ? total : 1);
  if (!v->local_types) return nomem(v), v->status;
  uint32_t i = 0;
  for (uint32_t k = 0; k < t->param_count; k++) v->local_types[i++] = t->types[k];
  for (uint32_t run = 0; run < body->local_run_count; run++) {
    uint8_t type = body->local_runs[run].type;
    if (!is_num_or_vec(type) && !is_ref(type)) {
      MALFORMED("malformed value type");
      return v->status;
    }
    for (uint32_t k = 0; k < body->local_runs[run].count; k++) v->local_types[i++] = type;
  }
  push_ctrl(v, CTRL_FUNC, 0, NULL, t->result_count, t->types + t->param_count);
  return v->status;
}

void func_validator_free(func_validator *v) {
  free(v->local_types);
  free(v->stack);
  free(v->ctrls);
  free(v->targets);
  memset(v, 0, sizeof *v);
}

kiln_status func_validate(const module_decl *m, const bool *declared_refs, uint32_t defined_index,
                          func_facts *facts, kiln_error *err) {
  func_validator v;
  kiln_status st = func_validator_init(&v, m, declared_refs, defined_index, err);
  func_instr in;
  while (st == KILN_OK && !v.done) st = func_validator_next(&v, &in);
  if (st == KILN_OK) {
    const func_body *body = &m->bodies[defined_index];
    uint32_t slots = 0;
    for (uint32_t i = v.type->param_count; i < v.local_count; i++) slots += v.local_types[i] == VT_V128 ? 2 : 1;
    *facts = (func_facts){.local_slots = slots,
                          .max_operands = v.max_sp,
                          .max_depth = v.max_csp,
                          .branch_values = v.branch_values,
                          .body_bytes = (uint32_t)(body->code.end - body->code.start)};
  }
  func_validator_free(&v);
  return st;
}
