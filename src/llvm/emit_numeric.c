/* emit_numeric.c - constants, locals, select and every generic row of opcodes.def (numeric
 * and SIMD) in LLVM IR. Rows whose semantics are one LLVM instruction or intrinsic (integer
 * arithmetic, comparisons, conversions, float arithmetic) are emitted directly (direct());
 * every other row becomes a call of its ops.c function on allocas, which LLVM inlines, so
 * the IR is the row's own expression. Direct rows keep the compiler's work small: the ops
 * route costs LLVM an inlining and an alloca promotion per instruction. */
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

/* Which operands of a row go through opaque_operand (below): for scalar float arithmetic
 * the non-constant ones (folds_to_operand deals with constants), for the rows whose ops.c
 * expression LLVM could fold the same way (min/max return a + b for a NaN operand, the SIMD
 * lanes' arithmetic, demote of promote) all of them. */
enum { OPAQUE_NONE, OPAQUE_VARIABLES, OPAQUE_ALL };

static int opaque_operands(int iop) {
  switch (iop) {
    case IOP_f32_add: case IOP_f32_sub: case IOP_f32_mul: case IOP_f32_div:
    case IOP_f64_add: case IOP_f64_sub: case IOP_f64_mul: case IOP_f64_div:
      return OPAQUE_VARIABLES;
    case IOP_f32_min: case IOP_f32_max: case IOP_f64_min: case IOP_f64_max:
    case IOP_f32x4_add: case IOP_f32x4_sub: case IOP_f32x4_mul: case IOP_f32x4_div:
    case IOP_f32x4_min: case IOP_f32x4_max:
    case IOP_f64x2_add: case IOP_f64x2_sub: case IOP_f64x2_mul: case IOP_f64x2_div:
    case IOP_f64x2_min: case IOP_f64x2_max:
    case IOP_f32x4_demote_f64x2_zero: case IOP_f64x2_promote_low_f32x4:
      return OPAQUE_ALL;
  }
  return OPAQUE_NONE;
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

/* v itself, through an empty inline asm that LLVM cannot see into: an operand of float
 * arithmetic that only becomes ±0 or ±1 during optimisation (a local, a select, a value
 * forwarded from a store) would otherwise be folded as above, after the check of
 * folds_to_operand (found by difftest: x * a local set to 1.0 returned a signalling NaN).
 * Costs no instruction (a constant is loaded into a register). */
static LLVMValueRef opaque_operand(lfunc *f, LLVMValueRef v, int which) {
  if (which == OPAQUE_NONE || (which == OPAQUE_VARIABLES && LLVMIsAConstant(v))) return v;
  LLVMTypeRef type = LLVMTypeOf(v);
  LLVMTypeRef t = LLVMFunctionType(type, &type, 1, false);
  LLVMValueRef same = LLVMGetInlineAsm(t, "", 0, "=x,0", 4, false, false, LLVMInlineAsmDialectATT, false);
  LLVMValueRef call = LLVMBuildCall2(f->b, t, same, &v, 1, "");
  LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                           LLVMCreateEnumAttribute(f->lm->ctx, LLVMGetEnumAttributeKindForName("nounwind", 8), 0));
  LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                           LLVMCreateEnumAttribute(f->lm->ctx, LLVMGetEnumAttributeKindForName("memory", 6), 0));
  return call;
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

/* A call of the overloaded LLVM intrinsic `name` on types[0..ntypes). */
LLVMValueRef lf_intrinsic(lfunc *f, const char *name, LLVMTypeRef *types, unsigned ntypes, LLVMValueRef *args,
                          unsigned nargs) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(f->lm->mod, id, types, ntypes);
  return LLVMBuildCall2(f->b, LLVMIntrinsicGetType(f->lm->ctx, id, types, ntypes), fn, args, nargs, "");
}

static LLVMValueRef bool_i32(lfunc *f, LLVMValueRef c) { return LLVMBuildZExt(f->b, c, f->lm->i32, ""); }

static LLVMValueRef int_cmp(lfunc *f, LLVMIntPredicate p, LLVMValueRef *a) {
  return bool_i32(f, LLVMBuildICmp(f->b, p, a[0], a[1], ""));
}

static LLVMValueRef float_cmp(lfunc *f, LLVMRealPredicate p, LLVMValueRef *a) {
  return bool_i32(f, LLVMBuildFCmp(f->b, p, a[0], a[1], ""));
}

/* A shift by b modulo the width, as WebAssembly defines it. */
static LLVMValueRef shift_amount(lfunc *f, LLVMValueRef b) {
  LLVMTypeRef t = LLVMTypeOf(b);
  return LLVMBuildAnd(f->b, b, LLVMConstInt(t, LLVMGetIntTypeWidth(t) - 1, false), "");
}

/* Integer division and remainder with WebAssembly's traps: division by zero, and for signed
 * division INT_MIN / -1. A signed remainder by -1 is 0 (the divisor becomes 1 so LLVM's srem
 * stays defined). */
static LLVMValueRef divide(lfunc *f, LLVMOpcode op, LLVMValueRef *a) {
  LLVMTypeRef t = LLVMTypeOf(a[0]);
  LLVMValueRef zero = LLVMConstInt(t, 0, false), minus1 = LLVMConstAllOnes(t);
  lf_trap_if(f, LLVMBuildICmp(f->b, LLVMIntEQ, a[1], zero, ""), KILN_TRAP_INTEGER_DIVIDE_BY_ZERO);
  LLVMValueRef b = a[1];
  if (op == LLVMSDiv) {
    unsigned w = LLVMGetIntTypeWidth(t);
    LLVMValueRef min = LLVMConstInt(t, 1ull << (w - 1), false);
    LLVMValueRef overflow = LLVMBuildAnd(f->b, LLVMBuildICmp(f->b, LLVMIntEQ, a[0], min, ""),
                                         LLVMBuildICmp(f->b, LLVMIntEQ, b, minus1, ""), "");
    lf_trap_if(f, overflow, KILN_TRAP_INTEGER_OVERFLOW);
  } else if (op == LLVMSRem) {
    b = LLVMBuildSelect(f->b, LLVMBuildICmp(f->b, LLVMIntEQ, b, minus1, ""), LLVMConstInt(t, 1, false), b, "");
  }
  return LLVMBuildBinOp(f->b, op, a[0], b, "");
}

static LLVMValueRef sign_extend_low(lfunc *f, LLVMValueRef a, unsigned bits) {
  LLVMTypeRef t = LLVMTypeOf(a);
  return LLVMBuildSExt(f->b, LLVMBuildTrunc(f->b, a, LLVMIntTypeInContext(f->lm->ctx, bits), ""), t, "");
}

/* The row's value in one LLVM instruction or intrinsic, or NULL when it takes the ops route.
 * Float min, max, rounding and trapping conversions stay in ops.c: their NaN and range rules
 * are more than one instruction. */
static LLVMValueRef direct(lfunc *f, int iop, LLVMValueRef *a) {
  lmod *lm = f->lm;
  LLVMBuilderRef b = f->b;
  LLVMTypeRef t0 = LLVMTypeOf(a[0]);
  switch (iop) {
#define INT_PAIR(op) case IOP_i32_##op: case IOP_i64_##op
    INT_PAIR(eqz): return bool_i32(f, LLVMBuildICmp(b, LLVMIntEQ, a[0], LLVMConstInt(t0, 0, false), ""));
    INT_PAIR(eq): return int_cmp(f, LLVMIntEQ, a);
    INT_PAIR(ne): return int_cmp(f, LLVMIntNE, a);
    INT_PAIR(lt_s): return int_cmp(f, LLVMIntSLT, a);
    INT_PAIR(lt_u): return int_cmp(f, LLVMIntULT, a);
    INT_PAIR(gt_s): return int_cmp(f, LLVMIntSGT, a);
    INT_PAIR(gt_u): return int_cmp(f, LLVMIntUGT, a);
    INT_PAIR(le_s): return int_cmp(f, LLVMIntSLE, a);
    INT_PAIR(le_u): return int_cmp(f, LLVMIntULE, a);
    INT_PAIR(ge_s): return int_cmp(f, LLVMIntSGE, a);
    INT_PAIR(ge_u): return int_cmp(f, LLVMIntUGE, a);
    INT_PAIR(clz): return lf_intrinsic(f, "llvm.ctlz", &t0, 1, (LLVMValueRef[]){a[0], LLVMConstInt(lm->i1, 0, false)}, 2);
    INT_PAIR(ctz): return lf_intrinsic(f, "llvm.cttz", &t0, 1, (LLVMValueRef[]){a[0], LLVMConstInt(lm->i1, 0, false)}, 2);
    INT_PAIR(popcnt): return lf_intrinsic(f, "llvm.ctpop", &t0, 1, a, 1);
    INT_PAIR(add): return LLVMBuildAdd(b, a[0], a[1], "");
    INT_PAIR(sub): return LLVMBuildSub(b, a[0], a[1], "");
    INT_PAIR(mul): return LLVMBuildMul(b, a[0], a[1], "");
    INT_PAIR(div_s): return divide(f, LLVMSDiv, a);
    INT_PAIR(div_u): return divide(f, LLVMUDiv, a);
    INT_PAIR(rem_s): return divide(f, LLVMSRem, a);
    INT_PAIR(rem_u): return divide(f, LLVMURem, a);
    INT_PAIR(and): return LLVMBuildAnd(b, a[0], a[1], "");
    INT_PAIR(or): return LLVMBuildOr(b, a[0], a[1], "");
    INT_PAIR(xor): return LLVMBuildXor(b, a[0], a[1], "");
    INT_PAIR(shl): return LLVMBuildShl(b, a[0], shift_amount(f, a[1]), "");
    INT_PAIR(shr_s): return LLVMBuildAShr(b, a[0], shift_amount(f, a[1]), "");
    INT_PAIR(shr_u): return LLVMBuildLShr(b, a[0], shift_amount(f, a[1]), "");
    INT_PAIR(rotl): return lf_intrinsic(f, "llvm.fshl", &t0, 1, (LLVMValueRef[]){a[0], a[0], a[1]}, 3);
    INT_PAIR(rotr): return lf_intrinsic(f, "llvm.fshr", &t0, 1, (LLVMValueRef[]){a[0], a[0], a[1]}, 3);
#undef INT_PAIR
#define FLOAT_PAIR(op) case IOP_f32_##op: case IOP_f64_##op
    FLOAT_PAIR(eq): return float_cmp(f, LLVMRealOEQ, a);
    FLOAT_PAIR(ne): return float_cmp(f, LLVMRealUNE, a);
    FLOAT_PAIR(lt): return float_cmp(f, LLVMRealOLT, a);
    FLOAT_PAIR(gt): return float_cmp(f, LLVMRealOGT, a);
    FLOAT_PAIR(le): return float_cmp(f, LLVMRealOLE, a);
    FLOAT_PAIR(ge): return float_cmp(f, LLVMRealOGE, a);
    FLOAT_PAIR(abs): return lf_intrinsic(f, "llvm.fabs", &t0, 1, a, 1);
    FLOAT_PAIR(neg): return LLVMBuildFNeg(b, a[0], "");
    FLOAT_PAIR(copysign): return lf_intrinsic(f, "llvm.copysign", &t0, 1, a, 2);
    FLOAT_PAIR(sqrt): return lf_intrinsic(f, "llvm.sqrt", &t0, 1, a, 1);
    FLOAT_PAIR(add): return LLVMBuildFAdd(b, a[0], a[1], "");
    FLOAT_PAIR(sub): return LLVMBuildFSub(b, a[0], a[1], "");
    FLOAT_PAIR(mul): return LLVMBuildFMul(b, a[0], a[1], "");
    FLOAT_PAIR(div): return LLVMBuildFDiv(b, a[0], a[1], "");
#undef FLOAT_PAIR
    case IOP_i32_wrap_i64: return LLVMBuildTrunc(b, a[0], lm->i32, "");
    case IOP_i64_extend_i32_s: return LLVMBuildSExt(b, a[0], lm->i64, "");
    case IOP_i64_extend_i32_u: return LLVMBuildZExt(b, a[0], lm->i64, "");
    case IOP_i32_extend8_s: case IOP_i64_extend8_s: return sign_extend_low(f, a[0], 8);
    case IOP_i32_extend16_s: case IOP_i64_extend16_s: return sign_extend_low(f, a[0], 16);
    case IOP_i64_extend32_s: return sign_extend_low(f, a[0], 32);
    case IOP_f32_convert_i32_s: case IOP_f32_convert_i64_s: return LLVMBuildSIToFP(b, a[0], lm->f32, "");
    case IOP_f32_convert_i32_u: case IOP_f32_convert_i64_u: return LLVMBuildUIToFP(b, a[0], lm->f32, "");
    case IOP_f64_convert_i32_s: case IOP_f64_convert_i64_s: return LLVMBuildSIToFP(b, a[0], lm->f64, "");
    case IOP_f64_convert_i32_u: case IOP_f64_convert_i64_u: return LLVMBuildUIToFP(b, a[0], lm->f64, "");
    case IOP_f32_demote_f64: return LLVMBuildFPTrunc(b, a[0], lm->f32, "");
    case IOP_f64_promote_f32: return LLVMBuildFPExt(b, a[0], lm->f64, "");
    case IOP_i32_reinterpret_f32: return LLVMBuildBitCast(b, a[0], lm->i32, "");
    case IOP_i64_reinterpret_f64: return LLVMBuildBitCast(b, a[0], lm->i64, "");
    case IOP_f32_reinterpret_i32: return LLVMBuildBitCast(b, a[0], lm->f32, "");
    case IOP_f64_reinterpret_i64: return LLVMBuildBitCast(b, a[0], lm->f64, "");
#define SAT(name, to, how)                                                                   \
  case IOP_##name: {                                                                         \
    LLVMTypeRef types[2] = {lm->to, t0};                                                     \
    return lf_intrinsic(f, how, types, 2, a, 1);                                             \
  }
    SAT(i32_trunc_sat_f32_s, i32, "llvm.fptosi.sat") SAT(i32_trunc_sat_f64_s, i32, "llvm.fptosi.sat")
    SAT(i32_trunc_sat_f32_u, i32, "llvm.fptoui.sat") SAT(i32_trunc_sat_f64_u, i32, "llvm.fptoui.sat")
    SAT(i64_trunc_sat_f32_s, i64, "llvm.fptosi.sat") SAT(i64_trunc_sat_f64_s, i64, "llvm.fptosi.sat")
    SAT(i64_trunc_sat_f32_u, i64, "llvm.fptoui.sat") SAT(i64_trunc_sat_f64_u, i64, "llvm.fptoui.sat")
#undef SAT
  }
  return NULL;
}

/* ---- SIMD: v128 is <2 x i64>; a row's shape (i8x16 ... f64x2) is the prefix of its name */

typedef struct shape {
  LLVMTypeRef vec;   /* the lanes' vector type */
  LLVMTypeRef lane;  /* one lane */
  unsigned lanes, bits;
  bool is_float;
  const char *op;    /* the row name after the shape: "add", "extend_low_i16x8_u", ... */
} shape;

static bool shape_of(lmod *lm, const char *name, shape *s) {
  static const struct { const char *prefix; unsigned lanes, bits; bool is_float; } shapes[] = {
      {"i8x16_", 16, 8, false}, {"i16x8_", 8, 16, false}, {"i32x4_", 4, 32, false},
      {"i64x2_", 2, 64, false}, {"f32x4_", 4, 32, true},  {"f64x2_", 2, 64, true}};
  for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    size_t n = strlen(shapes[i].prefix);
    if (strncmp(name, shapes[i].prefix, n) != 0) continue;
    s->lanes = shapes[i].lanes;
    s->bits = shapes[i].bits;
    s->is_float = shapes[i].is_float;
    s->lane = s->is_float ? (s->bits == 32 ? lm->f32 : lm->f64) : LLVMIntTypeInContext(lm->ctx, s->bits);
    s->vec = LLVMVectorType(s->lane, s->lanes);
    s->op = name + n;
    return true;
  }
  return false;
}

static bool op_is(const shape *s, const char *op) { return strcmp(s->op, op) == 0; }
static bool op_starts(const shape *s, const char *prefix) { return strncmp(s->op, prefix, strlen(prefix)) == 0; }
static bool op_signed(const shape *s) {
  size_t n = strlen(s->op);
  return n >= 2 && strcmp(s->op + n - 2, "_s") == 0;
}

static LLVMValueRef as(lfunc *f, LLVMValueRef v, LLVMTypeRef t) { return LLVMBuildBitCast(f->b, v, t, ""); }
static LLVMValueRef as_v128(lfunc *f, LLVMValueRef v) { return LLVMBuildBitCast(f->b, v, f->lm->v128, ""); }

static LLVMValueRef splat(lfunc *f, LLVMValueRef scalar, unsigned lanes) {
  LLVMTypeRef t = LLVMVectorType(LLVMTypeOf(scalar), lanes);
  LLVMValueRef one = LLVMBuildInsertElement(f->b, LLVMGetPoison(t), scalar, lf_const_i32(f, 0), "");
  return LLVMBuildShuffleVector(f->b, one, LLVMGetPoison(t), LLVMConstNull(LLVMVectorType(f->lm->i32, lanes)), "");
}

/* Lanes [first, first + n) of v. */
static LLVMValueRef lanes_of(lfunc *f, LLVMValueRef v, unsigned first, unsigned n) {
  LLVMValueRef mask[16];
  for (unsigned i = 0; i < n; i++) mask[i] = lf_const_i32(f, first + i);
  return LLVMBuildShuffleVector(f->b, v, LLVMGetPoison(LLVMTypeOf(v)), LLVMConstVector(mask, n), "");
}

/* The half (low or high) of a narrower-shaped v, extended to s's lanes. */
static LLVMValueRef extend_half(lfunc *f, const shape *s, LLVMValueRef v, bool high, bool sign) {
  LLVMTypeRef narrow = LLVMVectorType(LLVMIntTypeInContext(f->lm->ctx, s->bits / 2), s->lanes * 2);
  LLVMValueRef half = lanes_of(f, as(f, v, narrow), high ? s->lanes : 0, s->lanes);
  return sign ? LLVMBuildSExt(f->b, half, s->vec, "") : LLVMBuildZExt(f->b, half, s->vec, "");
}

static LLVMValueRef vec_intrinsic(lfunc *f, const char *name, LLVMTypeRef t, LLVMValueRef *args, unsigned n) {
  return lf_intrinsic(f, name, &t, 1, args, n);
}

/* Rows of lane-wise integer and float arithmetic, comparisons, shifts, splats, lane access,
 * extensions and narrowing, as LLVM vector instructions. NULL: the ops route (float min/max
 * and rounding, whose NaN rules are more than an instruction, and the rarer rows). */
static LLVMValueRef direct_simd(lfunc *f, int iop, LLVMValueRef *a, int lane) {
  lmod *lm = f->lm;
  LLVMBuilderRef b = f->b;
  const char *name = row_names[iop];
  if (strncmp(name, "v128_", 5) == 0) {
    LLVMValueRef r = NULL;
    if (strcmp(name, "v128_not") == 0) r = LLVMBuildNot(b, a[0], "");
    else if (strcmp(name, "v128_and") == 0) r = LLVMBuildAnd(b, a[0], a[1], "");
    else if (strcmp(name, "v128_or") == 0) r = LLVMBuildOr(b, a[0], a[1], "");
    else if (strcmp(name, "v128_xor") == 0) r = LLVMBuildXor(b, a[0], a[1], "");
    else if (strcmp(name, "v128_andnot") == 0) r = LLVMBuildAnd(b, a[0], LLVMBuildNot(b, a[1], ""), "");
    else if (strcmp(name, "v128_bitselect") == 0)
      r = LLVMBuildOr(b, LLVMBuildAnd(b, a[0], a[2], ""), LLVMBuildAnd(b, a[1], LLVMBuildNot(b, a[2], ""), ""), "");
    else if (strcmp(name, "v128_any_true") == 0) {
      LLVMValueRef any = LLVMBuildOr(b, LLVMBuildExtractElement(b, a[0], lf_const_i32(f, 0), ""),
                                     LLVMBuildExtractElement(b, a[0], lf_const_i32(f, 1), ""), "");
      return bool_i32(f, LLVMBuildICmp(b, LLVMIntNE, any, lf_const_i64(f, 0), ""));
    }
    return r;
  }
  shape s;
  if (!shape_of(lm, name, &s)) return NULL;
  const op_info *o = &op_infos[iop];
  /* operands in the shape (scalars stay scalars) */
  LLVMValueRef x = o->in1 == VT_V128 ? as(f, a[0], s.vec) : a[0];
  LLVMValueRef y = o->in2 == VT_V128 ? as(f, a[1], s.vec) : a[1];
  LLVMValueRef r = NULL;
  if (op_is(&s, "splat")) {
    LLVMValueRef v = s.is_float || s.bits >= 32 ? x : LLVMBuildTrunc(b, x, s.lane, "");
    r = splat(f, v, s.lanes);
  } else if (op_starts(&s, "extract_lane")) {
    LLVMValueRef v = LLVMBuildExtractElement(b, x, lf_const_i32(f, (uint64_t)lane), "");
    if (s.is_float || s.bits >= 32) return v;
    return op_signed(&s) ? LLVMBuildSExt(b, v, lm->i32, "") : LLVMBuildZExt(b, v, lm->i32, "");
  } else if (op_is(&s, "replace_lane")) {
    LLVMValueRef v = s.is_float || s.bits >= 32 ? y : LLVMBuildTrunc(b, y, s.lane, "");
    r = LLVMBuildInsertElement(b, x, v, lf_const_i32(f, (uint64_t)lane), "");
  } else if (s.is_float) {
    /* the operands of float arithmetic are opaque (opaque_operands): LLVM cannot fold
     * x + -0 or x * 1 to x and keep a signalling NaN signalling */
    if (op_is(&s, "add")) r = LLVMBuildFAdd(b, x, y, "");
    else if (op_is(&s, "sub")) r = LLVMBuildFSub(b, x, y, "");
    else if (op_is(&s, "mul")) r = LLVMBuildFMul(b, x, y, "");
    else if (op_is(&s, "div")) r = LLVMBuildFDiv(b, x, y, "");
    else if (op_is(&s, "sqrt")) r = vec_intrinsic(f, "llvm.sqrt", s.vec, &x, 1);
    else if (op_is(&s, "neg")) r = LLVMBuildFNeg(b, x, "");
    else if (op_is(&s, "abs")) r = vec_intrinsic(f, "llvm.fabs", s.vec, &x, 1);
    else if (op_is(&s, "pmin")) r = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, y, x, ""), y, x, "");
    else if (op_is(&s, "pmax")) r = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, x, y, ""), y, x, "");
    else {
      static const struct { const char *op; LLVMRealPredicate p; } cmps[] = {
          {"eq", LLVMRealOEQ}, {"ne", LLVMRealUNE}, {"lt", LLVMRealOLT},
          {"gt", LLVMRealOGT}, {"le", LLVMRealOLE}, {"ge", LLVMRealOGE}};
      for (unsigned i = 0; i < sizeof cmps / sizeof cmps[0]; i++)
        if (op_is(&s, cmps[i].op)) {
          LLVMTypeRef ints = LLVMVectorType(LLVMIntTypeInContext(lm->ctx, s.bits), s.lanes);
          r = LLVMBuildSExt(b, LLVMBuildFCmp(b, cmps[i].p, x, y, ""), ints, "");
        }
      if (op_is(&s, "convert_i32x4_s") && s.bits == 32) r = LLVMBuildSIToFP(b, as(f, a[0], LLVMVectorType(lm->i32, 4)), s.vec, "");
      if (op_is(&s, "convert_i32x4_u") && s.bits == 32) r = LLVMBuildUIToFP(b, as(f, a[0], LLVMVectorType(lm->i32, 4)), s.vec, "");
    }
  } else {
    unsigned w = s.bits;
    if (op_is(&s, "add")) r = LLVMBuildAdd(b, x, y, "");
    else if (op_is(&s, "sub")) r = LLVMBuildSub(b, x, y, "");
    else if (op_is(&s, "mul")) r = LLVMBuildMul(b, x, y, "");
    else if (op_is(&s, "neg")) r = LLVMBuildNeg(b, x, "");
    else if (op_is(&s, "abs")) r = vec_intrinsic(f, "llvm.abs", s.vec, (LLVMValueRef[]){x, LLVMConstInt(lm->i1, 0, false)}, 2);
    else if (op_is(&s, "popcnt")) r = vec_intrinsic(f, "llvm.ctpop", s.vec, &x, 1);
    else if (op_is(&s, "shl") || op_is(&s, "shr_s") || op_is(&s, "shr_u")) {
      LLVMValueRef n = LLVMBuildAnd(b, y, lf_const_i32(f, w - 1), "");
      n = w == 32 ? n : w == 64 ? LLVMBuildZExt(b, n, s.lane, "") : LLVMBuildTrunc(b, n, s.lane, "");
      n = splat(f, n, s.lanes);
      r = op_is(&s, "shl") ? LLVMBuildShl(b, x, n, "") : op_is(&s, "shr_s") ? LLVMBuildAShr(b, x, n, "") : LLVMBuildLShr(b, x, n, "");
    } else if (op_is(&s, "min_s")) r = vec_intrinsic(f, "llvm.smin", s.vec, (LLVMValueRef[]){x, y}, 2);
    else if (op_is(&s, "min_u")) r = vec_intrinsic(f, "llvm.umin", s.vec, (LLVMValueRef[]){x, y}, 2);
    else if (op_is(&s, "max_s")) r = vec_intrinsic(f, "llvm.smax", s.vec, (LLVMValueRef[]){x, y}, 2);
    else if (op_is(&s, "max_u")) r = vec_intrinsic(f, "llvm.umax", s.vec, (LLVMValueRef[]){x, y}, 2);
    else if (op_is(&s, "add_sat_s")) r = vec_intrinsic(f, "llvm.sadd.sat", s.vec, (LLVMValueRef[]){x, y}, 2);
    else if (op_is(&s, "add_sat_u")) r = vec_intrinsic(f, "llvm.uadd.sat", s.vec, (LLVMValueRef[]){x, y}, 2);
    else if (op_is(&s, "sub_sat_s")) r = vec_intrinsic(f, "llvm.ssub.sat", s.vec, (LLVMValueRef[]){x, y}, 2);
    else if (op_is(&s, "sub_sat_u")) r = vec_intrinsic(f, "llvm.usub.sat", s.vec, (LLVMValueRef[]){x, y}, 2);
    else if (op_starts(&s, "extend_low_") || op_starts(&s, "extend_high_"))
      r = extend_half(f, &s, a[0], op_starts(&s, "extend_high_"), op_signed(&s));
    else if (op_starts(&s, "extmul_low_") || op_starts(&s, "extmul_high_")) {
      bool high = op_starts(&s, "extmul_high_"), sign = op_signed(&s);
      r = LLVMBuildMul(b, extend_half(f, &s, a[0], high, sign), extend_half(f, &s, a[1], high, sign), "");
    } else if (op_starts(&s, "narrow_")) {
      /* two vectors of twice the width, each lane saturated to this width (signed input) */
      LLVMTypeRef wide_lane = LLVMIntTypeInContext(lm->ctx, 2 * w);
      LLVMTypeRef wide = LLVMVectorType(wide_lane, s.lanes / 2);
      LLVMValueRef mask[16];
      for (unsigned i = 0; i < s.lanes; i++) mask[i] = lf_const_i32(f, i);
      LLVMValueRef both = LLVMBuildShuffleVector(b, as(f, a[0], wide), as(f, a[1], wide), LLVMConstVector(mask, s.lanes), "");
      LLVMTypeRef wide_all = LLVMVectorType(wide_lane, s.lanes);
      bool sign = op_signed(&s);
      uint64_t lo = sign ? (uint64_t)-(int64_t)(1ull << (w - 1)) : 0, hi = sign ? (1ull << (w - 1)) - 1 : (1ull << w) - 1;
      LLVMValueRef vlo = splat(f, LLVMConstInt(wide_lane, lo, true), s.lanes);
      LLVMValueRef vhi = splat(f, LLVMConstInt(wide_lane, hi, false), s.lanes);
      LLVMValueRef clamped = vec_intrinsic(f, "llvm.smax", wide_all, (LLVMValueRef[]){both, vlo}, 2);
      clamped = vec_intrinsic(f, "llvm.smin", wide_all, (LLVMValueRef[]){clamped, vhi}, 2);
      r = LLVMBuildTrunc(b, clamped, s.vec, "");
    } else if (op_is(&s, "all_true")) {
      LLVMValueRef nonzero = LLVMBuildICmp(b, LLVMIntNE, x, LLVMConstNull(s.vec), "");
      LLVMValueRef bits = as(f, nonzero, LLVMIntTypeInContext(lm->ctx, s.lanes));
      return bool_i32(f, LLVMBuildICmp(b, LLVMIntEQ, bits, LLVMConstAllOnes(LLVMTypeOf(bits)), ""));
    } else if (op_is(&s, "bitmask")) {
      LLVMValueRef negative = LLVMBuildICmp(b, LLVMIntSLT, x, LLVMConstNull(s.vec), "");
      return LLVMBuildZExt(b, as(f, negative, LLVMIntTypeInContext(lm->ctx, s.lanes)), lm->i32, "");
    } else if (op_is(&s, "trunc_sat_f32x4_s") || op_is(&s, "trunc_sat_f32x4_u")) {
      LLVMTypeRef types[2] = {s.vec, LLVMVectorType(lm->f32, 4)};
      LLVMValueRef v = as(f, a[0], types[1]);
      r = lf_intrinsic(f, op_signed(&s) ? "llvm.fptosi.sat" : "llvm.fptoui.sat", types, 2, &v, 1);
    } else {
      static const struct { const char *op; LLVMIntPredicate p; } cmps[] = {
          {"eq", LLVMIntEQ},    {"ne", LLVMIntNE},    {"lt_s", LLVMIntSLT}, {"lt_u", LLVMIntULT}, {"gt_s", LLVMIntSGT},
          {"gt_u", LLVMIntUGT}, {"le_s", LLVMIntSLE}, {"le_u", LLVMIntULE}, {"ge_s", LLVMIntSGE}, {"ge_u", LLVMIntUGE}};
      for (unsigned i = 0; i < sizeof cmps / sizeof cmps[0]; i++)
        if (op_is(&s, cmps[i].op)) r = LLVMBuildSExt(b, LLVMBuildICmp(b, cmps[i].p, x, y, ""), s.vec, "");
    }
  }
  return r ? as_v128(f, r) : NULL;
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
  int opaque = opaque_operands(in->iop);
  for (unsigned i = 0; i < n; i++) args[i] = opaque_operand(f, args[i], opaque);
  LLVMValueRef r = o->out == VT_V128 || o->in1 == VT_V128 ? direct_simd(f, in->iop, args, lane)
                   : lane < 0                              ? direct(f, in->iop, args)
                                                           : NULL;
  if (!r) r = emit_op_call(f, in->iop, args, n, o->out, traps, NULL, lane);
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
