/* compile.c - the LLVM backend's driver: builds one LLVM module per wasm module (the ops
 * bitcode linked in, one function per defined wasm function, each with a slot-taking entry),
 * optimises it with the new pass manager and emits a relocatable object for the target. */
#include "llvm/llvm_internal.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "instr/iop.h"

/* ops.bc, embedded at build time (ops_bitcode.c, generated) */
extern const unsigned char kiln_ops_bitcode[];
extern const size_t kiln_ops_bitcode_size;

/* ------------------------------------------------------------------ targets */

static pthread_once_t targets_once = PTHREAD_ONCE_INIT;

/* The static CLI defers LLVM's C++ static constructors (cmake/llvm_deferred_init.ld): the
 * linker gathers them between these two symbols, and they run here, in their link order,
 * before LLVM is first used. Elsewhere (LLVM as a shared library, which runs its own) the weak
 * symbols are absent and there is nothing to run. */
typedef void (*init_fn)(void);
extern const init_fn kiln_llvm_init_start[] __attribute__((weak, visibility("hidden")));
extern const init_fn kiln_llvm_init_end[] __attribute__((weak, visibility("hidden")));

static void init_targets(void) {
  if (kiln_llvm_init_start && kiln_llvm_init_end)
    for (const init_fn *f = kiln_llvm_init_start; f < kiln_llvm_init_end; f++) (*f)();
  LLVMInitializeX86TargetInfo();
  LLVMInitializeX86Target();
  LLVMInitializeX86TargetMC();
  LLVMInitializeX86AsmPrinter();
  LLVMInitializeAArch64TargetInfo();
  LLVMInitializeAArch64Target();
  LLVMInitializeAArch64TargetMC();
  LLVMInitializeAArch64AsmPrinter();
}

/* What code for opts is made for: the triple, the CPU and its features (LLVM's strings). */
typedef struct target_spec {
  char *triple;
  char *host_cpu, *host_features; /* NULL unless compiling for this machine's CPU */
  char *features;                 /* the features code is made with (malloc'd, or NULL) */
  const char *cpu;                /* host_cpu, or the architecture's baseline */
} target_spec;

static void target_spec_make(const llvm_options *opts, target_spec *t) {
  t->triple = opts->triple ? LLVMNormalizeTargetTriple(opts->triple) : LLVMGetDefaultTargetTriple();
  bool host = !opts->triple && !opts->portable;
  t->host_cpu = host ? LLVMGetHostCPUName() : NULL;
  t->host_features = host ? LLVMGetHostCPUFeatures() : NULL;
  /* x86: no gathers and scatters (a strided loop vectorised with them ran 6x slower on
   * the sieve kernel than not vectorised, on AMD Zen 5; Intel's microcode makes them slow
   * too since Downfall) */
  const char *tuning = strncmp(t->triple, "x86_64", 6) == 0 ? "+prefer-no-gather,+prefer-no-scatter" : "";
  const char *base = t->host_features ? t->host_features : "";
  size_t n = strlen(base) + strlen(tuning) + 2;
  t->features = malloc(n);
  if (t->features) snprintf(t->features, n, "%s%s%s", base, *base && *tuning ? "," : "", tuning);
  t->cpu = t->host_cpu ? t->host_cpu : strncmp(t->triple, "x86_64", 6) == 0 ? "x86-64" : "generic";
}

static const char *target_spec_features(const target_spec *t) { return t->features ? t->features : ""; }

/* The widest vector registers code for t may use, in bits. */
static unsigned target_spec_vector_bits(const target_spec *t) {
  const char *features = target_spec_features(t);
  if (strncmp(t->triple, "x86_64", 6) != 0) return 128;
  if (strstr(features, "+avx512f")) return 512;
  return strstr(features, "+avx,") || strstr(features, "+avx2") ? 256 : 128;
}

static void target_spec_free(target_spec *t) {
  LLVMDisposeMessage(t->triple);
  LLVMDisposeMessage(t->host_cpu);
  LLVMDisposeMessage(t->host_features);
  free(t->features);
}

/* The target machine for opts; *triple_out (if given) receives the triple. */
static LLVMTargetMachineRef make_target_machine(const llvm_options *opts, char **triple_out, kiln_error *err) {
  pthread_once(&targets_once, init_targets);
  target_spec spec;
  target_spec_make(opts, &spec);
  LLVMTargetRef target;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(spec.triple, &target, &msg)) {
    error_set(err, KILN_ERR_ARGUMENT, "LLVM: no target for '%s': %s", spec.triple, msg ? msg : "?");
    LLVMDisposeMessage(msg);
    target_spec_free(&spec);
    return NULL;
  }
  LLVMCodeGenOptLevel level = opts->opt_level == 0 ? LLVMCodeGenLevelNone
                              : opts->opt_level == 1 ? LLVMCodeGenLevelLess
                              : opts->opt_level >= 3 ? LLVMCodeGenLevelAggressive
                                                     : LLVMCodeGenLevelDefault;
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, spec.triple, spec.cpu, target_spec_features(&spec), level,
                                                    LLVMRelocPIC, LLVMCodeModelSmall);
  if (!tm) error_set(err, KILN_ERR_ARGUMENT, "LLVM: cannot make a target machine for '%s'", spec.triple);
  if (tm && triple_out) {
    *triple_out = spec.triple;
    spec.triple = NULL;
  }
  target_spec_free(&spec);
  return tm;
}

/* the sources this compiler was built from (llvm_build_id.c, generated by cmake/build_id.cmake) */
extern const char kiln_llvm_build_id[];

/* Copy text into a field of a compiler_target; false if it does not fit. */
static bool target_field(char *field, size_t size, const char *text) {
  size_t n = strlen(text);
  if (n >= size) return false;
  memcpy(field, text, n + 1);
  return true;
}

kiln_status llvm_describe_target(const llvm_options *opts, compiler_target *out, kiln_error *err) {
  /* what make_target_machine would make the machine for, without making it (which takes
   * longer than loading a small module's cached code) */
  target_spec spec;
  target_spec_make(opts, &spec);
  unsigned major, minor, patch;
  LLVMGetVersion(&major, &minor, &patch);
  memset(out, 0, sizeof *out);
  snprintf(out->compiler, sizeof out->compiler, "LLVM %u.%u.%u, build %s", major, minor, patch, kiln_llvm_build_id);
#ifdef KILN_BENCH_NO_CHECKS
  const char *checks = " no-checks"; /* the benchmarking build's code differs from the same sources' */
#else
  const char *checks = "";
#endif
  snprintf(out->options, sizeof out->options, "O%u%s%s%s%s", opts->opt_level,
           opts->bounds_checks ? " bounds-checks" : " guarded", opts->portable ? " portable" : "",
           opts->fuel ? " fuel" : "", checks);
  bool fits = target_field(out->triple, sizeof out->triple, spec.triple) &&
              target_field(out->cpu, sizeof out->cpu, spec.cpu) &&
              target_field(out->features, sizeof out->features, target_spec_features(&spec));
  target_spec_free(&spec);
  return fits ? KILN_OK : error_set(err, KILN_ERR_LIMIT, "LLVM: the target's description is too long");
}

/* ------------------------------------------------------------------ shared helpers */

bool lf_fail(lfunc *f, kiln_status status, const char *format, ...) {
  if (f->status != KILN_OK) return false;
  char msg[320];
  va_list ap;
  va_start(ap, format);
  vsnprintf(msg, sizeof msg, format, ap);
  va_end(ap);
  f->status = func_validator_fail(f->v, status, "%s", msg);
  return false;
}

LLVMTypeRef lm_valtype(const lmod *lm, uint8_t t) {
  switch (t) {
    case VT_I32: return lm->i32;
    case VT_I64: return lm->i64;
    case VT_F32: return lm->f32;
    case VT_F64: return lm->f64;
    case VT_V128: return lm->v128;
    default: return lm->ptr; /* references */
  }
}

LLVMTypeRef lm_result_type(const lmod *lm, uint8_t t) {
  return t == VT_F32 ? lm->i32 : t == VT_F64 ? lm->i64 : lm_valtype(lm, t);
}

LLVMValueRef lm_result_pack(const lmod *lm, LLVMBuilderRef b, LLVMValueRef v, uint8_t t) {
  return t == VT_F32 || t == VT_F64 ? LLVMBuildBitCast(b, v, lm_result_type(lm, t), "") : v;
}

LLVMValueRef lm_result_unpack(const lmod *lm, LLVMBuilderRef b, LLVMValueRef v, uint8_t t) {
  return t == VT_F32 || t == VT_F64 ? LLVMBuildBitCast(b, v, lm_valtype(lm, t), "") : v;
}

bool lf_push(lfunc *f, LLVMValueRef v, uint8_t type) {
  if (f->sp == f->stack_cap) {
    uint32_t cap = f->stack_cap ? f->stack_cap * 2 : 64;
    lval *s = realloc(f->stack, cap * sizeof *s);
    if (!s) return lf_fail(f, KILN_ERR_NOMEM, "out of memory");
    f->stack = s;
    f->stack_cap = cap;
  }
  f->stack[f->sp].v = v;
  f->stack[f->sp].type = type;
  f->sp++;
  return true;
}

lval lf_pop(lfunc *f) { return f->stack[--f->sp]; }

LLVMValueRef lf_alloca(lfunc *f, LLVMTypeRef t, const char *name) {
  LLVMBasicBlockRef here = LLVMGetInsertBlock(f->b);
  LLVMValueRef first = LLVMGetFirstInstruction(f->entry_bb);
  if (first) LLVMPositionBuilderBefore(f->b, first);
  else LLVMPositionBuilderAtEnd(f->b, f->entry_bb);
  LLVMValueRef a = LLVMBuildAlloca(f->b, t, name);
  LLVMPositionBuilderAtEnd(f->b, here);
  return a;
}

LLVMValueRef lf_const_i32(const lfunc *f, uint64_t v) { return LLVMConstInt(f->lm->i32, v, false); }
LLVMValueRef lf_const_i64(const lfunc *f, uint64_t v) { return LLVMConstInt(f->lm->i64, v, false); }

LLVMValueRef lf_gep(lfunc *f, LLVMValueRef base, LLVMValueRef offset) {
  return LLVMBuildGEP2(f->b, f->lm->i8, base, &offset, 1, "");
}

static LLVMValueRef field_ptr(lfunc *f, LLVMValueRef base, uint64_t offset) {
  return offset ? lf_gep(f, base, lf_const_i64(f, offset)) : base;
}

LLVMValueRef lf_load_field(lfunc *f, LLVMTypeRef t, LLVMValueRef base, uint64_t offset, const char *name) {
  LLVMValueRef l = LLVMBuildLoad2(f->b, t, field_ptr(f, base, offset), name);
  LLVMSetMetadata(l, f->lm->tbaa_kind, f->lm->tbaa_vm);
  return l;
}

void lf_store_field(lfunc *f, LLVMValueRef value, LLVMValueRef base, uint64_t offset) {
  LLVMValueRef s = LLVMBuildStore(f->b, value, field_ptr(f, base, offset));
  LLVMSetMetadata(s, f->lm->tbaa_kind, f->lm->tbaa_vm);
}

LLVMValueRef lf_call_helper(lfunc *f, size_t offset, LLVMTypeRef t, LLVMValueRef *args, unsigned n) {
  LLVMValueRef helpers = lf_load_field(f, f->lm->ptr, f->vm, VM_HELPERS, "helpers");
  LLVMSetMetadata(helpers, LLVMGetMDKindIDInContext(f->lm->ctx, "invariant.load", 14),
                  LLVMMetadataAsValue(f->lm->ctx, LLVMMDNodeInContext2(f->lm->ctx, NULL, 0)));
  LLVMValueRef fp = lf_load_field(f, f->lm->ptr, helpers, offset, "helper");
  return LLVMBuildCall2(f->b, t, fp, args, n, "");
}

LLVMValueRef lf_call_vm_helper(lfunc *f, size_t offset, bool returns, LLVMValueRef *args, unsigned n) {
  lmod *lm = f->lm;
  LLVMTypeRef params[8];
  LLVMValueRef all[8];
  params[0] = lm->ptr;
  all[0] = f->vm;
  for (unsigned i = 0; i < n && i < 7; i++) {
    params[i + 1] = LLVMTypeOf(args[i]);
    all[i + 1] = args[i];
  }
  n = n < 7 ? n : 7;
  LLVMTypeRef t = LLVMFunctionType(returns ? lm->i32 : lm->void_t, params, n + 1, false);
  return lf_call_helper(f, offset, t, all, n + 1);
}

/* Branch weights for a branch that is almost never taken. */
static void cold_branch(lfunc *f, LLVMValueRef br) {
  LLVMValueRef w[3] = {LLVMMetadataAsValue(f->lm->ctx, LLVMMDStringInContext2(f->lm->ctx, "branch_weights", 14)),
                       lf_const_i32(f, 1), lf_const_i32(f, 1u << 20)};
  LLVMMetadataRef md[3] = {LLVMValueAsMetadata(w[0]), LLVMValueAsMetadata(w[1]), LLVMValueAsMetadata(w[2])};
  LLVMSetMetadata(br, LLVMGetMDKindIDInContext(f->lm->ctx, "prof", 4),
                  LLVMMetadataAsValue(f->lm->ctx, LLVMMDNodeInContext2(f->lm->ctx, md, 3)));
}

/* The function's trap block for `kind`: it calls the trap helper with the offset of the
 * instruction that branched to it (a phi over the branches). */
static LLVMBasicBlockRef trap_block(lfunc *f, kiln_trap_kind kind) {
  if (!f->trap_bbs[kind]) {
    LLVMBasicBlockRef here = LLVMGetInsertBlock(f->b);
    LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(f->lm->ctx, f->fn, "trap");
    LLVMPositionBuilderAtEnd(f->b, bb);
    f->trap_offsets[kind] = LLVMBuildPhi(f->b, f->lm->i32, "offset");
    LLVMTypeRef params[3] = {f->lm->ptr, f->lm->i32, f->lm->i32};
    LLVMTypeRef t = LLVMFunctionType(f->lm->void_t, params, 3, false);
    LLVMValueRef args[3] = {f->vm, lf_const_i32(f, (uint64_t)kind), f->trap_offsets[kind]};
    LLVMValueRef call = lf_call_helper(f, offsetof(vm_helpers, trap), t, args, 3);
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(f->lm->ctx, LLVMGetEnumAttributeKindForName("noreturn", 8), 0));
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(f->lm->ctx, LLVMGetEnumAttributeKindForName("cold", 4), 0));
    LLVMBuildUnreachable(f->b);
    LLVMPositionBuilderAtEnd(f->b, here);
    f->trap_bbs[kind] = bb;
  }
  LLVMValueRef off = lf_const_i32(f, f->offset);
  LLVMBasicBlockRef from = LLVMGetInsertBlock(f->b);
  LLVMAddIncoming(f->trap_offsets[kind], &off, &from, 1);
  return f->trap_bbs[kind];
}

void lf_trap_if(lfunc *f, LLVMValueRef cond, kiln_trap_kind kind) {
  LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(f->lm->ctx, f->fn, "ok");
  cold_branch(f, LLVMBuildCondBr(f->b, cond, trap_block(f, kind), cont)); /* traps are cold */
  LLVMPositionBuilderAtEnd(f->b, cont);
}

void lf_trap(lfunc *f, kiln_trap_kind kind) { LLVMBuildBr(f->b, trap_block(f, kind)); }

void lf_keep_load(lfunc *f, LLVMValueRef loaded) {
  if (!f->lm->opts->bounds_checks) markers_keep(f, loaded);
}

void lf_poll_check(lfunc *f) {
  lmod *lm = f->lm;
  bool fuel = lm->opts->fuel;
  LLVMValueRef flag = LLVMBuildLoad2(f->b, lm->i32, f->store, "interrupt");
  LLVMSetOrdering(flag, LLVMAtomicOrderingMonotonic);
  LLVMSetAlignment(flag, 4);
  LLVMValueRef stop = LLVMBuildICmp(f->b, LLVMIntNE, flag, lf_const_i32(f, 0), "");
  if (fuel) {
    LLVMValueRef units = lf_load_field(f, lm->i64, f->store, VM_STORE_FUEL, "fuel");
    units = LLVMBuildSub(f->b, units, lf_const_i64(f, 1), "fuel");
    lf_store_field(f, units, f->store, VM_STORE_FUEL);
    stop = LLVMBuildOr(f->b, stop, LLVMBuildICmp(f->b, LLVMIntSLT, units, lf_const_i64(f, 0), ""), "stop");
  }
  LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(lm->ctx, f->fn, "poll");
  LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(lm->ctx, f->fn, "polled");
  cold_branch(f, LLVMBuildCondBr(f->b, stop, slow, cont));
  LLVMPositionBuilderAtEnd(f->b, slow);
  LLVMTypeRef t = LLVMFunctionType(lm->void_t, &lm->ptr, 1, false);
  LLVMValueRef call = lf_call_helper(f, offsetof(vm_helpers, poll), t, &f->vm, 1);
  LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                           LLVMCreateEnumAttribute(lm->ctx, LLVMGetEnumAttributeKindForName("cold", 4), 0));
  LLVMBuildBr(f->b, cont);
  LLVMPositionBuilderAtEnd(f->b, cont);
}

/* Interrupt and fuel check. Without fuel, a function entry needs none: an interrupt also
 * raises the store's stack limit (store_interrupt), so the entry's stack check fails and the
 * trap helper reports the interrupt; a loop header reads the flag (a load and a branch, no
 * store in the loop), placed as a marker until optimisation is done (markers.c). With fuel,
 * both count one unit and read the flag. */
void lf_poll(lfunc *f, bool entry) {
#ifndef KILN_BENCH_NO_CHECKS
  if (f->lm->opts->fuel) lf_poll_check(f);
  else if (!entry) markers_poll(f);
#else
  (void)f;
  (void)entry;
#endif
}

static LLVMTypeRef native_type(lmod *lm, const functype *t) {
  LLVMTypeRef small[16];
  uint32_t np = t->param_count + 1;
  LLVMTypeRef *params = np <= 16 ? small : malloc(np * sizeof *params);
  if (!params) return NULL;
  params[0] = lm->ptr;
  for (uint32_t i = 0; i < t->param_count; i++) params[i + 1] = lm_valtype(lm, t->types[i]);
  LLVMTypeRef ret;
  if (t->result_count == 0) {
    ret = lm->void_t;
  } else if (t->result_count == 1) {
    ret = lm_valtype(lm, t->types[t->param_count]);
  } else {
    LLVMTypeRef rs[t->result_count];
    for (uint32_t i = 0; i < t->result_count; i++) rs[i] = lm_result_type(lm, t->types[t->param_count + i]);
    ret = LLVMStructTypeInContext(lm->ctx, rs, t->result_count, false);
  }
  LLVMTypeRef ft = LLVMFunctionType(ret, params, np, false);
  if (params != small) free(params);
  return ft;
}

static void add_fn_attr(lmod *lm, LLVMValueRef fn, const char *name) {
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(lm->ctx, LLVMGetEnumAttributeKindForName(name, strlen(name)), 0));
}

static void add_str_attr(lmod *lm, LLVMValueRef fn, const char *k, const char *v) {
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                             LLVMCreateStringAttribute(lm->ctx, k, (unsigned)strlen(k), v, (unsigned)strlen(v)));
}

static void function_attrs(lmod *lm, LLVMValueRef fn) {
  add_str_attr(lm, fn, "frame-pointer", "all");
  add_fn_attr(lm, fn, "nounwind");
  /* every wasm function keeps its frame: backtraces name each one, as in the interpreter */
  add_fn_attr(lm, fn, "noinline");
}

/* The stack check in the prologue: native stack below the store's limit traps. */
static void stack_check(lfunc *f) {
  lmod *lm = f->lm;
  LLVMTypeRef i32t = lm->i32;
  LLVMValueRef intr = LLVMGetIntrinsicDeclaration(lm->mod, LLVMLookupIntrinsicID("llvm.frameaddress", 17), &lm->ptr, 1);
  LLVMTypeRef it = LLVMIntrinsicGetType(lm->ctx, LLVMLookupIntrinsicID("llvm.frameaddress", 17), &lm->ptr, 1);
  LLVMValueRef zero = LLVMConstInt(i32t, 0, false);
  LLVMValueRef fa = LLVMBuildCall2(f->b, it, intr, &zero, 1, "fa");
  LLVMValueRef limit = lf_load_field(f, lm->i64, f->store, VM_STORE_STACK_LIMIT, "limit");
  LLVMValueRef low = LLVMBuildICmp(f->b, LLVMIntULT, LLVMBuildPtrToInt(f->b, fa, lm->i64, ""), limit, "");
  lf_trap_if(f, low, KILN_TRAP_STACK_EXHAUSTED);
}

static bool emit_instruction(lfunc *f, const func_instr *in) {
  int iop = in->iop;
  switch (iop) {
    case IOP_block: case IOP_loop: case IOP_if_: case IOP_else_: case IOP_end:
      return emit_control(f, in);
  }
  if (!in->reachable) return true;
  switch (iop) {
    case IOP_unreachable: case IOP_nop: case IOP_br: case IOP_br_if: case IOP_br_table:
    case IOP_return_: case IOP_call: case IOP_call_indirect:
      return emit_control(f, in);
    case IOP_global_get: case IOP_global_set: case IOP_memory_size: case IOP_memory_grow:
    case IOP_memory_init: case IOP_data_drop: case IOP_memory_copy: case IOP_memory_fill:
      return emit_memory(f, in);
    case IOP_table_get: case IOP_table_set: case IOP_table_size: case IOP_table_grow:
    case IOP_table_fill: case IOP_table_copy: case IOP_table_init: case IOP_elem_drop:
    case IOP_ref_null: case IOP_ref_is_null: case IOP_ref_func:
      return emit_table(f, in);
  }
  switch (op_infos[iop].kind) {
    case K_LOAD: case K_STORE: case K_LOAD_LANE: case K_STORE_LANE:
      return emit_memory(f, in);
  }
  return emit_numeric(f, in);
}

static void lfunc_free(lfunc *f) {
  free(f->locals);
  free(f->stack);
  for (uint32_t i = 0; i < f->ctrl_cap; i++) {
    free(f->ctrls[i].vars);
    free(f->ctrls[i].if_params);
    free(f->ctrls[i].result_vars);
  }
  free(f->ctrls);
  if (f->b) LLVMDisposeBuilder(f->b);
}

/* Emit the body of defined function `defined` into fn: f<N> (osr_slots NULL), or o<N>, which
 * starts with the locals read from osr_slots and goes straight to loop osr_loop, and leaves
 * its results in osr_slots. */
static kiln_status emit_body(lmod *lm, uint32_t defined, LLVMValueRef fn, LLVMValueRef osr_slots, uint32_t osr_loop,
                             kiln_error *err) {
  func_validator v;
  kiln_status st = func_validator_init(&v, lm->m, lm->km->declared_refs, defined, err);
  if (st != KILN_OK) {
    func_validator_free(&v);
    return st;
  }
  lfunc ff;
  memset(&ff, 0, sizeof ff);
  lfunc *f = &ff;
  f->lm = lm;
  f->v = &v;
  f->fn = fn;
  f->osr_slots = osr_slots;
  f->osr_loop = osr_loop;
  LLVMBasicBlockRef osr_from = NULL; /* o<N>: where the entry's checks end */
  f->func_index = v.func_index;
  f->type = v.type;
  f->local_types = v.local_types;
  f->b = LLVMCreateBuilderInContext(lm->ctx);
  f->entry_bb = LLVMAppendBasicBlockInContext(lm->ctx, f->fn, "entry");
  LLVMPositionBuilderAtEnd(f->b, f->entry_bb);
  f->vm = LLVMGetParam(f->fn, 0);
  f->locals = calloc(v.local_count ? v.local_count : 1, sizeof(LLVMValueRef));
  bool ok = f->locals != NULL;
  if (!ok) lf_fail(f, KILN_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0, slot = 0; ok && i < v.local_count; i++) {
    LLVMTypeRef t = lm_valtype(lm, v.local_types[i]);
    f->locals[i] = LLVMBuildAlloca(f->b, t, "local");
    LLVMValueRef init;
    if (osr_slots) { /* the interpreter's frame: every local in its slots, in order */
      LLVMValueRef off = LLVMConstInt(lm->i64, 8 * (uint64_t)slot, false);
      init = LLVMBuildLoad2(f->b, t, LLVMBuildGEP2(f->b, lm->i8, osr_slots, &off, 1, ""), "");
      LLVMSetAlignment(init, 8);
    } else {
      init = i < f->type->param_count ? LLVMGetParam(f->fn, i + 1) : LLVMConstNull(t);
    }
    LLVMBuildStore(f->b, init, f->locals[i]);
    slot += valtype_slots(v.local_types[i]);
  }
  f->offset = lm->m->bodies[defined].code.start;
  if (ok) {
    f->store = lf_load_field(f, lm->ptr, f->vm, VM_STORE, "store");
    if (lm->m->memory_count) f->mem_base = lf_load_field(f, lm->ptr, f->vm, VM_MEM0_BASE, "mem");
    stack_check(f);
    lf_poll(f, true);
    /* o<N>: the code before the loop is emitted into a block nothing reaches (LLVM drops it);
     * the entry branches to the loop's header below */
    if (osr_slots) {
      osr_from = LLVMGetInsertBlock(f->b);
      LLVMPositionBuilderAtEnd(f->b, LLVMAppendBasicBlockInContext(lm->ctx, f->fn, "skipped"));
    }
    func_instr fi = {.iop = IOP_block, .reachable = true, .nresults = f->type->result_count,
                     .results = f->type->types + f->type->param_count};
    ok = emit_control(f, &fi); /* the function body's frame: push it as a block */
    if (ok) f->ctrls[0].kind = CTRL_FUNC;
  }
  func_instr in;
  while (ok && !v.done) {
    if (func_validator_next(&v, &in) != KILN_OK) ok = false;
    else {
      f->offset = in.offset;
      ok = emit_instruction(f, &in);
    }
  }
  st = ok ? KILN_OK : (v.status != KILN_OK ? v.status : f->status);
  if (ok && st == KILN_OK && f->status != KILN_OK) st = f->status;
  if (st == KILN_OK && osr_slots) {
    if (f->osr_header && osr_from) {
      LLVMPositionBuilderAtEnd(f->b, osr_from);
      LLVMBuildBr(f->b, f->osr_header);
    } else {
      st = error_set(err, KILN_ERR_ARGUMENT, "function %u has no loop %u to enter", f->func_index, osr_loop);
    }
  }
  lfunc_free(f);
  func_validator_free(&v);
  return st == KILN_OK && !ok ? KILN_ERR_INVALID : st;
}

static kiln_status emit_function(lmod *lm, uint32_t defined, kiln_error *err) {
  return emit_body(lm, defined, lm->funcs[defined], NULL, UINT32_MAX, err);
}

/* o<N> (see emit_body). */
static kiln_status emit_osr(lmod *lm, uint32_t defined, uint32_t loop, kiln_error *err) {
  char name[32];
  snprintf(name, sizeof name, "o%u", defined); /* native.h: NATIVE_OSR_PREFIX */
  LLVMTypeRef params[2] = {lm->ptr, lm->ptr};
  LLVMValueRef fn = LLVMAddFunction(lm->mod, name, LLVMFunctionType(lm->void_t, params, 2, false));
  function_attrs(lm, fn);
  return emit_body(lm, defined, fn, LLVMGetParam(fn, 1), loop, err);
}

/* Bodies beyond these take LLVM minutes (its passes are superlinear in nesting, in size and
 * in the values live at once: 100,000 operands on the stack took 90 s, 1,000 functions of
 * 10,000 locals 30 s): they stay in the interpreter, which the compiled code calls. */
#define LLVM_MAX_DEPTH 4096
#define LLVM_MAX_BODY_BYTES (1u << 20)
#define LLVM_MAX_FRAME_SLOTS 5000

/* From what validation found (the interpreter translates on first call, so its code may not
 * exist): nesting, size, and locals plus the deepest operand stack. */
static bool worth_compiling(const compiled_func *cf) {
  return cf->max_depth <= LLVM_MAX_DEPTH && cf->body_bytes <= LLVM_MAX_BODY_BYTES &&
         (uint64_t)cf->param_slots + cf->local_slots + cf->max_operands <= LLVM_MAX_FRAME_SLOTS;
}

/* e<N>: params from slots, call f<N>, results back into the slots. */
static void emit_entry(lmod *lm, uint32_t defined, const functype *t) {
  char name[32];
  snprintf(name, sizeof name, "e%u", defined);
  LLVMTypeRef params[2] = {lm->ptr, lm->ptr};
  LLVMValueRef fn = LLVMAddFunction(lm->mod, name, LLVMFunctionType(lm->void_t, params, 2, false));
  function_attrs(lm, fn);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(lm->ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(lm->ctx, fn, "entry"));
  LLVMValueRef slots = LLVMGetParam(fn, 1);
  uint32_t n = t->param_count + 1;
  LLVMValueRef *args = malloc(n * sizeof *args);
  if (!args) {
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
    return;
  }
  args[0] = LLVMGetParam(fn, 0);
  uint32_t slot = 0;
  for (uint32_t i = 0; i < t->param_count; i++) {
    LLVMValueRef off = LLVMConstInt(lm->i64, 8 * slot, false);
    LLVMValueRef p = LLVMBuildGEP2(b, lm->i8, slots, &off, 1, "");
    LLVMValueRef l = LLVMBuildLoad2(b, lm_valtype(lm, t->types[i]), p, "");
    LLVMSetAlignment(l, 8);
    args[i + 1] = l;
    slot += valtype_slots(t->types[i]);
  }
  LLVMTypeRef ft = LLVMGlobalGetValueType(lm->funcs[defined]);
  LLVMValueRef r = LLVMBuildCall2(b, ft, lm->funcs[defined], args, n, "");
  free(args);
  slot = 0;
  for (uint32_t i = 0; i < t->result_count; i++) {
    uint8_t ty = t->types[t->param_count + i];
    LLVMValueRef v = t->result_count == 1 ? r : lm_result_unpack(lm, b, LLVMBuildExtractValue(b, r, i, ""), ty);
    LLVMValueRef off = LLVMConstInt(lm->i64, 8 * slot, false);
    LLVMValueRef p = LLVMBuildGEP2(b, lm->i8, slots, &off, 1, "");
    LLVMSetAlignment(LLVMBuildStore(b, v, p), 8);
    slot += valtype_slots(t->types[t->param_count + i]);
  }
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
}

static bool is_op_name(const char *name, size_t len) { return len > 8 && strncmp(name, "kiln_op_", 8) == 0; }

/* Link the functions of ops.bc that the module calls (declared by emit_op_call); they become
 * internal and always inlined. The bitcode is read lazily: only those are materialised. */
static kiln_status link_ops(lmod *lm, kiln_error *err) {
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange((const char *)kiln_ops_bitcode,
                                                                  kiln_ops_bitcode_size, "ops.bc", false);
  LLVMModuleRef ops;
  if (LLVMGetBitcodeModuleInContext2(lm->ctx, buf, &ops)) {
    LLVMDisposeMemoryBuffer(buf);
    return error_set(err, KILN_ERR_INVALID, "LLVM: the embedded ops bitcode does not load");
  }
  LLVMSetTarget(ops, LLVMGetTarget(lm->mod));
  LLVMSetDataLayout(ops, LLVMGetDataLayoutStr(lm->mod));
  for (LLVMValueRef fn = LLVMGetFirstFunction(ops), next; fn; fn = next) {
    next = LLVMGetNextFunction(fn);
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    if (is_op_name(name, len) && !LLVMGetNamedFunction(lm->mod, name)) {
      LLVMDeleteFunction(fn);
      continue;
    }
    if (LLVMIsDeclaration(fn)) continue;
    LLVMRemoveStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, "target-cpu", 10);
    LLVMRemoveStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, "target-features", 15);
    LLVMRemoveStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, "tune-cpu", 8);
  }
  if (LLVMLinkModules2(lm->mod, ops)) return error_set(err, KILN_ERR_INVALID, "LLVM: linking the ops bitcode failed");
  for (LLVMValueRef fn = LLVMGetFirstFunction(lm->mod); fn; fn = LLVMGetNextFunction(fn)) {
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    if (LLVMIsDeclaration(fn) || !is_op_name(name, len)) continue;
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    add_fn_attr(lm, fn, "alwaysinline");
  }
  return KILN_OK;
}

/* A TBAA access tag for a scalar type of its own under the root. */
static LLVMValueRef tbaa_tag(lmod *lm, LLVMMetadataRef root, const char *name) {
  LLVMMetadataRef i64_0 = LLVMValueAsMetadata(LLVMConstInt(lm->i64, 0, false));
  LLVMMetadataRef type_ops[3] = {LLVMMDStringInContext2(lm->ctx, name, strlen(name)), root, i64_0};
  LLVMMetadataRef type = LLVMMDNodeInContext2(lm->ctx, type_ops, 3);
  LLVMMetadataRef tag_ops[3] = {type, type, i64_0};
  return LLVMMetadataAsValue(lm->ctx, LLVMMDNodeInContext2(lm->ctx, tag_ops, 3));
}

static void lmod_types(lmod *lm) {
  LLVMContextRef c = lm->ctx;
  lm->i1 = LLVMInt1TypeInContext(c);
  lm->i8 = LLVMInt8TypeInContext(c);
  lm->i32 = LLVMInt32TypeInContext(c);
  lm->i64 = LLVMInt64TypeInContext(c);
  lm->f32 = LLVMFloatTypeInContext(c);
  lm->f64 = LLVMDoubleTypeInContext(c);
  lm->v128 = LLVMVectorType(lm->i64, 2);
  lm->ptr = LLVMPointerTypeInContext(c, 0);
  lm->void_t = LLVMVoidTypeInContext(c);
  lm->tbaa_kind = LLVMGetMDKindIDInContext(c, "tbaa", 4);
  LLVMMetadataRef root_name = LLVMMDStringInContext2(c, "kiln", 4);
  LLVMMetadataRef root = LLVMMDNodeInContext2(c, &root_name, 1);
  lm->tbaa_memory = tbaa_tag(lm, root, "wasm memory");
  lm->tbaa_vm = tbaa_tag(lm, root, "vm");
  lm->tbaa_global = tbaa_tag(lm, root, "wasm global");
}

/* For kiln's developers: with KILN_LLVM_DUMP=PREFIX in the environment, each compiled
 * batch of functions (FIRST is its first body) is written as PREFIX-FIRST.ll before
 * optimisation, PREFIX-FIRST.opt.ll after and PREFIX-FIRST.s as assembly. */
static void dump_module(lmod *lm, uint32_t first, const char *suffix) {
  const char *prefix = getenv("KILN_LLVM_DUMP");
  if (!prefix || !*prefix) return;
  char path[4096];
  char *msg = NULL;
  snprintf(path, sizeof path, "%s-%u.%s", prefix, first, suffix);
  if (LLVMPrintModuleToFile(lm->mod, path, &msg)) LLVMDisposeMessage(msg);
}

kiln_status llvm_compile_module(const kiln_module *km, const llvm_options *opts, uint32_t first, uint32_t count,
                                uint32_t osr_loop, uint8_t **object, size_t *size, kiln_error *err) {
  const module_decl *m = &km->decl;
  *object = NULL;
  *size = 0;
  char *triple = NULL;
  LLVMTargetMachineRef tm = make_target_machine(opts, &triple, err);
  if (!tm) return err->status;
  lmod lmm;
  memset(&lmm, 0, sizeof lmm);
  lmod *lm = &lmm;
  lm->km = km;
  lm->m = m;
  lm->opts = opts;
  lm->ctx = LLVMContextCreate();
  lm->mod = LLVMModuleCreateWithNameInContext("kiln", lm->ctx);
  LLVMSetTarget(lm->mod, triple);
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
  char *layout = LLVMCopyStringRepOfTargetData(td);
  LLVMSetDataLayout(lm->mod, layout);
  LLVMDisposeMessage(layout);
  LLVMDisposeTargetData(td);
  LLVMDisposeMessage(triple);
  lmod_types(lm);
  target_spec spec;
  target_spec_make(opts, &spec);
  lm->vector_bits = target_spec_vector_bits(&spec);
  target_spec_free(&spec);
  markers_declare(lm);
  kiln_status st = KILN_OK;

  lm->funcs = calloc(m->body_count + 1, sizeof(LLVMValueRef));
  lm->func_types = calloc(m->type_count + 1, sizeof(LLVMTypeRef));
  if (st == KILN_OK && (!lm->funcs || !lm->func_types)) st = error_set(err, KILN_ERR_NOMEM, "out of memory while compiling");
  for (uint32_t i = 0; st == KILN_OK && i < m->type_count; i++) {
    lm->func_types[i] = native_type(lm, &m->types[i]);
    if (!lm->func_types[i]) st = error_set(err, KILN_ERR_NOMEM, "out of memory while compiling");
  }
  for (uint32_t i = first; st == KILN_OK && i < first + count && i < m->body_count; i++) {
    if (!worth_compiling(&km->funcs[i])) continue;
    char name[32];
    snprintf(name, sizeof name, "f%u", i);
    lm->funcs[i] = LLVMAddFunction(lm->mod, name, lm->func_types[m->func_types[m->imported_func_count + i]]);
    function_attrs(lm, lm->funcs[i]);
  }
  for (uint32_t i = 0; st == KILN_OK && i < m->body_count; i++)
    if (lm->funcs[i]) st = emit_function(lm, i, err);
  for (uint32_t i = 0; st == KILN_OK && i < m->body_count; i++)
    if (lm->funcs[i]) emit_entry(lm, i, &m->types[m->func_types[m->imported_func_count + i]]);
  if (st == KILN_OK && osr_loop != UINT32_MAX && count == 1 && first < m->body_count && lm->funcs[first])
    st = emit_osr(lm, first, osr_loop, err);
  if (st == KILN_OK) st = link_ops(lm, err);

#ifndef NDEBUG
  char *vmsg = NULL;
  if (st == KILN_OK && LLVMVerifyModule(lm->mod, LLVMReturnStatusAction, &vmsg)) {
    st = error_set(err, KILN_ERR_INVALID, "LLVM: the generated module does not verify: %.200s", vmsg ? vmsg : "?");
  }
  LLVMDisposeMessage(vmsg);
#endif
  dump_module(lm, first, "ll");
  if (st == KILN_OK) {
    char passes[32];
    snprintf(passes, sizeof passes, "default<O%u>", opts->opt_level > 3 ? 3 : opts->opt_level);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMErrorRef e = LLVMRunPasses(lm->mod, passes, tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (e) {
      char *msg = LLVMGetErrorMessage(e);
      st = error_set(err, KILN_ERR_INVALID, "LLVM: optimisation failed: %s", msg);
      LLVMDisposeErrorMessage(msg);
    }
  }
  if (st == KILN_OK) st = markers_lower(lm, tm, err);
  dump_module(lm, first, "opt.ll");
  if (st == KILN_OK && getenv("KILN_LLVM_DUMP")) {
    char path[4096];
    char *msg = NULL;
    snprintf(path, sizeof path, "%s-%u.s", getenv("KILN_LLVM_DUMP"), first);
    if (LLVMTargetMachineEmitToFile(tm, lm->mod, path, LLVMAssemblyFile, &msg)) LLVMDisposeMessage(msg);
  }
  if (st == KILN_OK) {
    LLVMMemoryBufferRef out = NULL;
    char *msg = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, lm->mod, LLVMObjectFile, &msg, &out)) {
      st = error_set(err, KILN_ERR_INVALID, "LLVM: code generation failed: %s", msg ? msg : "?");
      LLVMDisposeMessage(msg);
    } else {
      size_t n = LLVMGetBufferSize(out);
      *object = malloc(n ? n : 1);
      if (!*object) {
        st = error_set(err, KILN_ERR_NOMEM, "out of memory while compiling");
      } else {
        memcpy(*object, LLVMGetBufferStart(out), n);
        *size = n;
      }
      LLVMDisposeMemoryBuffer(out);
    }
  }
  free(lm->funcs);
  free(lm->func_types);
  LLVMDisposeModule(lm->mod);
  LLVMContextDispose(lm->ctx);
  LLVMDisposeTargetMachine(tm);
  return st;
}

/* ------------------------------------------------------------------ kiln_compiler */

/* The options of the engine's compiled tier: everything here is part of the cache key. */
static llvm_options options_for_config(const kiln_config *config) {
  return (llvm_options){.triple = NULL,
                        .portable = config->portable,
                        .bounds_checks = config->explicit_bounds_checks,
                        .opt_level = 2,
                        .fuel = config->consume_fuel};
}

static kiln_status compile_for_config(const kiln_module *module, const kiln_config *config, uint32_t first,
                                      uint32_t count, uint8_t **object, size_t *size, kiln_error *err) {
  llvm_options o = options_for_config(config);
  return llvm_compile_module(module, &o, first, count, UINT32_MAX, object, size, err);
}

static kiln_status compile_osr_for_config(const kiln_module *module, const kiln_config *config, uint32_t func,
                                          uint32_t loop, uint8_t **object, size_t *size, kiln_error *err) {
  llvm_options o = options_for_config(config);
  return llvm_compile_module(module, &o, func, 1, loop, object, size, err);
}

static kiln_status describe_for_config(const kiln_config *config, compiler_target *target, kiln_error *err) {
  llvm_options o = options_for_config(config);
  return llvm_describe_target(&o, target, err);
}

static const kiln_compiler llvm_compiler = {
    .name = "llvm", .describe = describe_for_config, .compile = compile_for_config, .compile_osr = compile_osr_for_config};

const kiln_compiler *kiln_llvm_compiler(void) { return &llvm_compiler; }
