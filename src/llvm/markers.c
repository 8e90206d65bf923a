/* markers.c - what the optimiser must keep but should not see: the loads of guarded memories
 * (a fault is the trap, so an unused load must stay) and the interrupt polls of loop headers.
 *
 * While LLVM optimises, a kept value is an argument of a marker function declared here: it
 * touches only memory nothing else can reach (inaccessiblemem), so LLVM keeps it and still
 * moves wasm memory accesses around it, and it names vector variants of itself
 * ("vector-function-abi-variant"), so the loop vectoriser widens a loop that has it (an
 * inline asm or a branch to a helper in the loop body stops it). A poll is llvm.sideeffect,
 * which keeps a loop a loop and which the vectoriser takes as free: a marker call with its
 * call's cost made it widen loops whose accesses it could only scalarise (sieve's strided
 * store, 64 stores an iteration, 5x slower), to spread the call. A vectorised loop body
 * loses its poll (its trip count is known: the loop around it or its scalar rest polls).
 * After the optimisation pipeline, markers_lower replaces each: a kept value becomes an
 * operand of an empty inline asm (no instruction; codegen cannot drop the load), a poll the
 * real check (a load of the interrupt flag and a cold branch to the poll helper), one per
 * basic block, inlined. */
#include "llvm/llvm_internal.h"

#include <llvm-c/Transforms/PassBuilder.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

#define KEEP_PREFIX "kiln.keep."
#define POLL_NAME "llvm.sideeffect"
#define POLL_IMPL "kiln.poll.impl"

/* the widths the loop vectoriser may choose; each has an unmasked and a masked variant */
static const unsigned vector_widths[] = {2, 4, 8, 16, 32, 64};
#define N_WIDTHS (sizeof vector_widths / sizeof vector_widths[0])

static LLVMAttributeRef enum_attr(lmod *lm, const char *name, uint64_t value) {
  return LLVMCreateEnumAttribute(lm->ctx, LLVMGetEnumAttributeKindForName(name, strlen(name)), value);
}

/* memory(inaccessiblemem: readwrite): the encoding of LLVM 19's MemoryEffects, two bits
 * (read 1, write 2) per location, inaccessible memory being location 1 */
#define MEMORY_INACCESSIBLE_READWRITE (3u << 2)

static void marker_attrs(lmod *lm, LLVMValueRef fn) {
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, enum_attr(lm, "nounwind", 0));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, enum_attr(lm, "willreturn", 0));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, enum_attr(lm, "memory", MEMORY_INACCESSIBLE_READWRITE));
}

/* Declare marker `name` taking `arg` (a value or, uniform, the store pointer), and its
 * vector variants when `widen`: name.vN(<N x arg>) and name.mN(<N x arg>, <N x i1>). */
static LLVMValueRef declare_marker(lmod *lm, const char *name, LLVMTypeRef arg, bool widen, bool uniform,
                                   LLVMValueRef *used, unsigned *nused) {
  LLVMValueRef fn = LLVMAddFunction(lm->mod, name, LLVMFunctionType(lm->void_t, &arg, 1, false));
  marker_attrs(lm, fn);
  if (!widen) return fn;
  char mappings[2048] = "";
  size_t len = 0;
  for (size_t i = 0; i < N_WIDTHS; i++) {
    unsigned n = vector_widths[i];
    for (int masked = 0; masked < 2; masked++) {
      char vname[64];
      snprintf(vname, sizeof vname, "%s.%c%u", name, masked ? 'm' : 'v', n);
      LLVMTypeRef params[2] = {uniform ? arg : LLVMVectorType(arg, n), LLVMVectorType(lm->i1, n)};
      LLVMValueRef v = LLVMAddFunction(lm->mod, vname, LLVMFunctionType(lm->void_t, params, 1 + masked, false));
      marker_attrs(lm, v);
      used[(*nused)++] = v;
      len += (size_t)snprintf(mappings + len, sizeof mappings - len, "%s_ZGV_LLVM_%c%u%c_%s(%s)", len ? "," : "",
                              masked ? 'M' : 'N', n, uniform ? 'u' : 'v', name, vname);
    }
  }
  static const char key[] = "vector-function-abi-variant";
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                          LLVMCreateStringAttribute(lm->ctx, key, sizeof key - 1, mappings, (unsigned)len));
  return fn;
}

void markers_declare(lmod *lm) {
  LLVMValueRef used[4 * 2 * N_WIDTHS + 2 * N_WIDTHS];
  unsigned nused = 0;
  LLVMTypeRef scalars[4] = {lm->i32, lm->i64, lm->f32, lm->f64};
  static const char *const names[4] = {KEEP_PREFIX "i32", KEEP_PREFIX "i64", KEEP_PREFIX "f32", KEEP_PREFIX "f64"};
  for (int i = 0; i < 4; i++) lm->keep_markers[i] = declare_marker(lm, names[i], scalars[i], true, false, used, &nused);
  lm->keep_markers[4] = declare_marker(lm, KEEP_PREFIX "v128", lm->v128, false, false, used, &nused);
  lm->poll_marker = LLVMGetIntrinsicDeclaration(lm->mod, LLVMLookupIntrinsicID(POLL_NAME, strlen(POLL_NAME)), NULL, 0);
  /* the variants are called by nothing until the vectoriser calls them: llvm.compiler.used
   * keeps them declared (the vectoriser looks them up) */
  LLVMTypeRef at = LLVMArrayType(lm->ptr, nused);
  lm->markers_used = LLVMAddGlobal(lm->mod, at, "llvm.compiler.used");
  LLVMSetLinkage(lm->markers_used, LLVMAppendingLinkage);
  LLVMSetSection(lm->markers_used, "llvm.metadata");
  LLVMSetInitializer(lm->markers_used, LLVMConstArray2(lm->ptr, used, nused));
}

void markers_keep(lfunc *f, LLVMValueRef loaded) {
  lmod *lm = f->lm;
  LLVMTypeRef t = LLVMTypeOf(loaded);
  LLVMValueRef marker = t == lm->i32   ? lm->keep_markers[0]
                        : t == lm->i64 ? lm->keep_markers[1]
                        : t == lm->f32 ? lm->keep_markers[2]
                        : t == lm->f64 ? lm->keep_markers[3]
                                       : lm->keep_markers[4];
  if (marker == lm->keep_markers[4] && t != lm->v128) loaded = LLVMBuildBitCast(f->b, loaded, lm->v128, "");
  LLVMBuildCall2(f->b, LLVMGlobalGetValueType(marker), marker, &loaded, 1, "");
}

void markers_poll(lfunc *f) {
  LLVMValueRef m = f->lm->poll_marker;
  LLVMBuildCall2(f->b, LLVMGlobalGetValueType(m), m, NULL, 0, "");
}

/* ---- lowering */

static bool is_aarch64(lmod *lm) { return strncmp(LLVMGetTarget(lm->mod), "aarch64", 7) == 0; }

/* An empty inline asm that takes v in a register: the value must exist, so the load that
 * made it stays. */
static void asm_use(lmod *lm, LLVMBuilderRef b, LLVMValueRef v) {
  LLVMTypeRef type = LLVMTypeOf(v);
  LLVMTypeRef t = LLVMFunctionType(lm->void_t, &type, 1, false);
  const char *reg = LLVMGetTypeKind(type) == LLVMIntegerTypeKind ? "r" : is_aarch64(lm) ? "w" : "x";
  LLVMValueRef use = LLVMGetInlineAsm(t, "", 0, reg, 1, true, false, LLVMInlineAsmDialectATT, false);
  LLVMValueRef call = LLVMBuildCall2(b, t, use, &v, 1, "");
  LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex, enum_attr(lm, "nounwind", 0));
  LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex, enum_attr(lm, "memory", 0));
}

/* Keep v. A scalar: the loaded value itself, not its extension (no instruction). A vector
 * (of a vectorised loop): as it is, extension included, since codegen folds the extension
 * into the load (vpmovsxwd from memory) and a use of the plain load would be a second load;
 * in one register when it fits the target's widest vector register, else in register-sized
 * pieces (as the extension is made), else element by element (odd vectors). */
static void lower_keep(lmod *lm, LLVMBuilderRef b, LLVMValueRef v) {
  LLVMTypeRef t = LLVMTypeOf(v);
  if (LLVMGetTypeKind(t) != LLVMVectorTypeKind) {
    while (LLVMIsACastInst(v)) v = LLVMGetOperand(v, 0);
    asm_use(lm, b, v);
    return;
  }
  unsigned n = LLVMGetVectorSize(t);
  LLVMTypeRef et = LLVMGetElementType(t);
  unsigned ebits = LLVMGetTypeKind(et) == LLVMIntegerTypeKind ? LLVMGetIntTypeWidth(et)
                   : LLVMGetTypeKind(et) == LLVMFloatTypeKind  ? 32
                   : LLVMGetTypeKind(et) == LLVMDoubleTypeKind ? 64
                                                               : 0;
  unsigned bits = n * ebits, reg = lm->vector_bits;
  if (ebits >= 8 && bits <= reg && (bits & (bits - 1)) == 0) {
    asm_use(lm, b, v);
  } else if (ebits >= 8 && bits % reg == 0) {
    unsigned per = reg / 64;
    LLVMValueRef wide = LLVMBuildBitCast(b, v, LLVMVectorType(lm->i64, bits / 64), "");
    LLVMValueRef lanes[8];
    for (unsigned i = 0; i < bits / reg; i++) {
      for (unsigned k = 0; k < per; k++) lanes[k] = LLVMConstInt(lm->i32, per * i + k, false);
      asm_use(lm, b, LLVMBuildShuffleVector(b, wide, LLVMGetPoison(LLVMTypeOf(wide)), LLVMConstVector(lanes, per), ""));
    }
  } else {
    for (unsigned i = 0; i < n; i++) asm_use(lm, b, LLVMBuildExtractElement(b, v, LLVMConstInt(lm->i32, i, false), ""));
  }
}

/* kiln.poll.impl(vm): the check of lf_poll, made once and inlined where polls were (the
 * store pointer is invariant: codegen hoists its load out of the loop) */
static LLVMValueRef poll_impl(lmod *lm) {
  LLVMValueRef fn = LLVMGetNamedFunction(lm->mod, POLL_IMPL);
  if (fn) return fn;
  fn = LLVMAddFunction(lm->mod, POLL_IMPL, LLVMFunctionType(lm->void_t, &lm->ptr, 1, false));
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, enum_attr(lm, "alwaysinline", 0));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, enum_attr(lm, "nounwind", 0));
  lfunc f;
  memset(&f, 0, sizeof f);
  f.lm = lm;
  f.fn = fn;
  f.vm = LLVMGetParam(fn, 0);
  f.b = LLVMCreateBuilderInContext(lm->ctx);
  LLVMPositionBuilderAtEnd(f.b, LLVMAppendBasicBlockInContext(lm->ctx, fn, "entry"));
  f.store = lf_load_field(&f, lm->ptr, f.vm, VM_STORE, "store");
  LLVMSetMetadata(f.store, LLVMGetMDKindIDInContext(lm->ctx, "invariant.load", 14),
                  LLVMMetadataAsValue(lm->ctx, LLVMMDNodeInContext2(lm->ctx, NULL, 0)));
  lf_poll_check(&f);
  LLVMBuildRetVoid(f.b);
  LLVMDisposeBuilder(f.b);
  return fn;
}

static bool has_prefix(LLVMValueRef fn, const char *prefix) {
  size_t len, n = strlen(prefix);
  const char *name = LLVMGetValueName2(fn, &len);
  return len >= n && memcmp(name, prefix, n) == 0;
}

kiln_status markers_lower(lmod *lm, LLVMTargetMachineRef tm, kiln_error *err) {
  LLVMBuilderRef b = LLVMCreateBuilderInContext(lm->ctx);
  bool polls = false;
  for (LLVMValueRef fn = LLVMGetFirstFunction(lm->mod); fn; fn = LLVMGetNextFunction(fn)) {
    if (LLVMIsDeclaration(fn) || has_prefix(fn, "kiln.")) continue;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
      bool polled = false; /* one poll per block is enough: every cycle passes through it */
      for (LLVMValueRef in = LLVMGetFirstInstruction(bb), next; in; in = next) {
        next = LLVMGetNextInstruction(in);
        if (!LLVMIsACallInst(in)) continue;
        LLVMValueRef callee = LLVMGetCalledValue(in);
        if (!LLVMIsAFunction(callee)) continue;
        if (has_prefix(callee, KEEP_PREFIX)) {
          LLVMPositionBuilderBefore(b, in);
          lower_keep(lm, b, LLVMGetOperand(in, 0));
        } else if (has_prefix(callee, POLL_NAME)) {
          if (!polled) {
            LLVMPositionBuilderBefore(b, in);
            LLVMValueRef impl = poll_impl(lm);
            LLVMValueRef vm = LLVMGetParam(fn, 0);
            LLVMBuildCall2(b, LLVMGlobalGetValueType(impl), impl, &vm, 1, "");
            polled = polls = true;
          }
        } else {
          continue;
        }
        LLVMInstructionEraseFromParent(in);
      }
    }
  }
  LLVMDisposeBuilder(b);
  /* the optimiser may have made a new llvm.compiler.used: find it by name */
  LLVMValueRef used = LLVMGetNamedGlobal(lm->mod, "llvm.compiler.used");
  if (used) LLVMDeleteGlobal(used);
  lm->markers_used = NULL;
  for (LLVMValueRef fn = LLVMGetFirstFunction(lm->mod), next; fn; fn = next) {
    next = LLVMGetNextFunction(fn);
    if (LLVMIsDeclaration(fn) && (has_prefix(fn, KEEP_PREFIX) || has_prefix(fn, POLL_NAME))) LLVMDeleteFunction(fn);
  }
  if (!polls) return KILN_OK;
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMErrorRef e = LLVMRunPasses(lm->mod, "always-inline,globaldce", tm, po);
  LLVMDisposePassBuilderOptions(po);
  if (!e) return KILN_OK;
  char *msg = LLVMGetErrorMessage(e);
  kiln_status st = error_set(err, KILN_ERR_INVALID, "LLVM: inlining the interrupt checks failed: %s", msg);
  LLVMDisposeErrorMessage(msg);
  return st;
}
