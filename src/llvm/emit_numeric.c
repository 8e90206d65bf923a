/* emit_numeric.c - constants, locals, select and every generic row of opcodes.def (numeric
 * and SIMD) in LLVM IR. A generic row becomes a call of its ops.c function on allocas; the
 * function is inlined, so the IR is the row's own expression. */
#include "llvm/llvm_internal.h"

#include <stdio.h>
#include <string.h>

#include "instr/iop.h"

static const char *const row_names[] = {
#define OP(name, prefix, code, text, kind, out, in1, in2, size, impl) #name,
#include "instr/opcodes.def"
#undef OP
};

/* Store v in a fresh alloca; its address. */
static LLVMValueRef spill(lfunc *f, LLVMValueRef v) {
  LLVMValueRef a = lf_alloca(f, LLVMTypeOf(v), "arg");
  LLVMBuildStore(f->b, v, a);
  return a;
}

LLVMValueRef emit_op_call(lfunc *f, int iop, LLVMValueRef *args, unsigned nargs, uint8_t out_type,
                          bool may_trap, LLVMValueRef mem_ptr, int lane) {
  lmod *lm = f->lm;
  char name[64];
  snprintf(name, sizeof name, "kiln_op_%s", row_names[iop]);
  LLVMValueRef call_args[6];
  unsigned n = 0;
  LLVMValueRef result = NULL;
  if (out_type != T_NONE) {
    result = lf_alloca(f, lm_valtype(lm, out_type), "res");
    call_args[n++] = result;
  }
  if (mem_ptr) call_args[n++] = mem_ptr;
  for (unsigned i = 0; i < nargs; i++) call_args[n++] = spill(f, args[i]);
  if (lane >= 0) call_args[n++] = lf_const_i32(f, (uint64_t)lane);
  /* declared here, defined when ops.bc is linked in (compile.c, link_ops) */
  LLVMValueRef fn = LLVMGetNamedFunction(lm->mod, name);
  if (!fn) {
    LLVMTypeRef params[6];
    for (unsigned i = 0; i < n; i++) params[i] = LLVMTypeOf(call_args[i]);
    for (unsigned i = 0; i < n; i++)
      if (LLVMGetTypeKind(params[i]) == LLVMPointerTypeKind) params[i] = lm->ptr;
    fn = LLVMAddFunction(lm->mod, name, LLVMFunctionType(may_trap ? lm->i32 : lm->void_t, params, n, false));
  }
  LLVMValueRef k = LLVMBuildCall2(f->b, LLVMGlobalGetValueType(fn), fn, call_args, n, "");
  if (may_trap) {
    LLVMValueRef trapped = LLVMBuildICmp(f->b, LLVMIntNE, k, lf_const_i32(f, 0), "");
    LLVMBasicBlockRef trap = LLVMAppendBasicBlockInContext(lm->ctx, f->fn, "op_trap");
    LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(lm->ctx, f->fn, "op_ok");
    LLVMBuildCondBr(f->b, trapped, trap, cont);
    LLVMPositionBuilderAtEnd(f->b, trap);
    LLVMTypeRef params[3] = {lm->ptr, lm->i32, lm->i32};
    LLVMValueRef hargs[3] = {f->vm, k, lf_const_i32(f, f->offset)};
    lf_call_helper(f, offsetof(vm_helpers, trap), LLVMFunctionType(lm->void_t, params, 3, false), hargs, 3);
    LLVMBuildUnreachable(f->b);
    LLVMPositionBuilderAtEnd(f->b, cont);
  }
  if (!result) return NULL;
  return LLVMBuildLoad2(f->b, lm_valtype(lm, out_type), result, "");
}

static LLVMValueRef v128_const(lfunc *f, const uint64_t imm[2]) {
  LLVMValueRef lanes[2] = {lf_const_i64(f, imm[0]), lf_const_i64(f, imm[1])};
  return LLVMConstVector(lanes, 2);
}

static LLVMValueRef shuffle(lfunc *f, LLVMValueRef a, LLVMValueRef b, const uint64_t imm[2]) {
  lmod *lm = f->lm;
  LLVMTypeRef bytes = LLVMVectorType(lm->i8, 16);
  uint8_t lanes[16];
  memcpy(lanes, imm, 16);
  LLVMValueRef mask[16];
  for (int i = 0; i < 16; i++) mask[i] = lf_const_i32(f, lanes[i]);
  LLVMValueRef r = LLVMBuildShuffleVector(f->b, LLVMBuildBitCast(f->b, a, bytes, ""), LLVMBuildBitCast(f->b, b, bytes, ""),
                                          LLVMConstVector(mask, 16), "");
  return LLVMBuildBitCast(f->b, r, lm->v128, "");
}

/* Whether a is a float constant of magnitude 0 or 1. */
static bool is_identity_constant(LLVMValueRef a) {
  if (!LLVMIsAConstantFP(a)) return false;
  LLVMBool lost;
  double d = LLVMConstRealGetDouble(a, &lost);
  return d == 0.0 || d == 1.0 || d == -1.0;
}

/* LLVM folds x - 0, -0 - x, x * ±1, x / ±1 and demote(promote(x)) to x (or -x), which keeps
 * a signalling NaN signalling where WebAssembly's arithmetic must quiet it. Such results
 * are canonicalized: the same value, with a NaN quieted, whatever LLVM folds. */
static bool folds_to_operand(int iop, LLVMValueRef *args) {
  switch (iop) {
    case IOP_f32_add: case IOP_f32_sub: case IOP_f32_mul: case IOP_f32_div:
    case IOP_f64_add: case IOP_f64_sub: case IOP_f64_mul: case IOP_f64_div:
      return is_identity_constant(args[0]) || is_identity_constant(args[1]);
    case IOP_f32_demote_f64:
    case IOP_f64_promote_f32:
      return true;
  }
  return false;
}

/* v * 1.0 with a 1.0 that LLVM cannot see (read from the helpers table). */
static LLVMValueRef canonicalize(lfunc *f, LLVMValueRef v, uint8_t type) {
  lmod *lm = f->lm;
  LLVMValueRef helpers = lf_load_field(f, lm->ptr, f->vm, VM_HELPERS, "helpers");
  bool wide = type == VT_F64;
  LLVMValueRef one = lf_load_field(f, wide ? lm->f64 : lm->f32, helpers,
                                   wide ? offsetof(vm_helpers, one_f64) : offsetof(vm_helpers, one_f32), "one");
  return LLVMBuildFMul(f->b, v, one, "");
}

static bool emit_generic(lfunc *f, const func_instr *in) {
  const op_info *o = &op_infos[in->iop];
  LLVMValueRef args[3];
  unsigned n = 0;
  int lane = -1;
  switch (o->kind) {
    case K_UNARY:
    case K_UNARY_TRAP:
      n = 1;
      break;
    case K_BINARY:
    case K_BINARY_TRAP:
      n = 2;
      break;
    case K_TERNARY:
      n = 3;
      break;
    case K_EXTRACT_LANE:
      n = 1;
      lane = in->lane;
      break;
    case K_REPLACE_LANE:
      n = 2;
      lane = in->lane;
      break;
    default:
      return lf_fail(f, KILN_ERR_INVALID, "internal: %s has no generic form", o->text);
  }
  for (unsigned i = n; i-- > 0;) args[i] = lf_pop(f).v;
  bool traps = o->kind == K_UNARY_TRAP || o->kind == K_BINARY_TRAP;
  LLVMValueRef r = emit_op_call(f, in->iop, args, n, o->out, traps, NULL, lane);
  if (r && folds_to_operand(in->iop, args)) r = canonicalize(f, r, o->out);
  return r && lf_push(f, r, o->out);
}

bool emit_numeric(lfunc *f, const func_instr *in) {
  lmod *lm = f->lm;
  switch (in->iop) {
    case IOP_i32_const:
      return lf_push(f, lf_const_i32(f, in->imm[0]), VT_I32);
    case IOP_i64_const:
      return lf_push(f, lf_const_i64(f, in->imm[0]), VT_I64);
    case IOP_f32_const:
      return lf_push(f, LLVMConstBitCast(lf_const_i32(f, in->imm[0]), lm->f32), VT_F32);
    case IOP_f64_const:
      return lf_push(f, LLVMConstBitCast(lf_const_i64(f, in->imm[0]), lm->f64), VT_F64);
    case IOP_v128_const:
      return lf_push(f, v128_const(f, in->imm), VT_V128);
    case IOP_local_get:
      return lf_push(f, LLVMBuildLoad2(f->b, lm_valtype(lm, in->type), f->locals[in->index], ""), in->type);
    case IOP_local_set:
      LLVMBuildStore(f->b, lf_pop(f).v, f->locals[in->index]);
      return true;
    case IOP_local_tee:
      LLVMBuildStore(f->b, f->stack[f->sp - 1].v, f->locals[in->index]);
      return true;
    case IOP_drop:
      lf_pop(f);
      return true;
    case IOP_select:
    case IOP_select_t: {
      LLVMValueRef cond = lf_pop(f).v;
      lval b = lf_pop(f), a = lf_pop(f);
      LLVMValueRef c = LLVMBuildICmp(f->b, LLVMIntNE, cond, lf_const_i32(f, 0), "");
      return lf_push(f, LLVMBuildSelect(f->b, c, a.v, b.v, ""), a.type);
    }
    case IOP_i8x16_shuffle: {
      LLVMValueRef b = lf_pop(f).v, a = lf_pop(f).v;
      return lf_push(f, shuffle(f, a, b, in->imm), VT_V128);
    }
  }
  return emit_generic(f, in);
}
