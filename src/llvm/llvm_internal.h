/* llvm_internal.h - the LLVM backend's shared state: one emitter per function body, driven by
 * the validator (validate/func.h) one instruction at a time, and the per-family emitters
 * (emit_control.c, emit_memory.c, emit_numeric.c, emit_table.c) it dispatches to. */
#ifndef KILN_LLVM_INTERNAL_H
#define KILN_LLVM_INTERNAL_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>
#include <stdbool.h>
#include <stdint.h>

#include "llvm/llvm_compile.h"
#include "runtime/runtime.h"
#include "validate/func.h"

/* Module-wide state: types, the ops bitcode functions, one declaration per wasm function. */
typedef struct lmod {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  const kiln_module *km;
  const module_decl *m;
  const llvm_options *opts;
  LLVMTypeRef i1, i8, i32, i64, f32, f64, v128, ptr, void_t;
  LLVMValueRef *funcs;          /* per defined function: f<N>, or NULL (left to the interpreter) */
  LLVMTypeRef *func_types;      /* per type index: the native signature */
  unsigned tbaa_kind;
  LLVMValueRef tbaa_memory, tbaa_vm, tbaa_global;  /* access tags */
  LLVMValueRef keep_markers[5]; /* markers.c: kiln.keep.{i32,i64,f32,f64,v128} */
  LLVMValueRef poll_marker;     /* llvm.sideeffect, a loop poll until markers_lower */
  LLVMValueRef markers_used;    /* llvm.compiler.used, holding the keep markers' vector variants */
  unsigned vector_bits;         /* the target's widest vector register: 128, 256 or 512 */
} lmod;

/* A block, loop, if or the function body, as the emitter sees it. */
typedef struct lctrl {
  uint8_t kind;                 /* CTRL_* */
  bool unreachable;             /* no code is emitted until the end */
  bool dead;                    /* began in unreachable code */
  uint32_t nparams, nresults;
  const uint8_t *params, *results;
  uint32_t height;              /* operands below its params */
  LLVMBasicBlockRef end_bb;     /* where br goes (a loop: the header) and where end continues */
  LLVMBasicBlockRef else_bb;    /* CTRL_IF: the else branch */
  LLVMValueRef *vars;           /* allocas carrying the label's values (loop: params) */
  LLVMValueRef *if_params;      /* CTRL_IF: the params, for the else branch */
  LLVMBasicBlockRef after_loop; /* CTRL_LOOP: where the code after it continues */
  LLVMValueRef *result_vars;    /* CTRL_LOOP: allocas for the values left at its end */
} lctrl;

typedef struct lval {
  LLVMValueRef v;
  uint8_t type;                 /* VT_* */
} lval;

typedef struct lfunc {
  lmod *lm;
  func_validator *v;
  kiln_status status;
  LLVMBuilderRef b;
  LLVMValueRef fn;
  LLVMValueRef vm;              /* the instance: first parameter */
  LLVMBasicBlockRef entry_bb;   /* allocas go here */
  uint32_t func_index;
  const functype *type;
  LLVMValueRef *locals;         /* allocas */
  const uint8_t *local_types;
  lval *stack;
  uint32_t sp, stack_cap;
  lctrl *ctrls;
  uint32_t csp, ctrl_cap;
  LLVMBasicBlockRef trap_bbs[KILN_TRAP_EXIT + 1]; /* one per kind, made when first needed */
  LLVMValueRef trap_offsets[KILN_TRAP_EXIT + 1];  /* their phis: the trapping instruction */
  uint32_t offset;              /* byte offset of the instruction being compiled */
  LLVMValueRef store;           /* vm->store, loaded in the entry block */
  LLVMValueRef mem_base;        /* vm->mem0_base, loaded in the entry block (or NULL) */
  /* o<N>, the entry at a loop for a call running in the interpreter: the slots holding the
   * locals (the second parameter; results go there too), the ordinal of that loop among the
   * func_osr_loop loops, the count of those seen so far, and the loop's header once seen */
  LLVMValueRef osr_slots;
  uint32_t osr_loop, osr_seen;
  LLVMBasicBlockRef osr_header;
} lfunc;

/* ---- shared helpers (compile.c) */
bool lf_fail(lfunc *f, kiln_status status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
LLVMTypeRef lm_valtype(const lmod *lm, uint8_t t);
/* A multi-value function returns a struct whose float members are integers of their width:
 * x86-64 returns a third float or double in x87 st(0), and its load quiets a signalling NaN.
 * lm_result_type is a member's type; result_pack/result_unpack convert a value to and from it. */
LLVMTypeRef lm_result_type(const lmod *lm, uint8_t t);
LLVMValueRef lm_result_pack(const lmod *lm, LLVMBuilderRef b, LLVMValueRef v, uint8_t t);
LLVMValueRef lm_result_unpack(const lmod *lm, LLVMBuilderRef b, LLVMValueRef v, uint8_t t);
bool lf_push(lfunc *f, LLVMValueRef v, uint8_t type);
lval lf_pop(lfunc *f);
LLVMValueRef lf_alloca(lfunc *f, LLVMTypeRef t, const char *name);
/* A load or store of vm data (tagged so wasm memory accesses do not alias it). */
LLVMValueRef lf_load_field(lfunc *f, LLVMTypeRef t, LLVMValueRef base, uint64_t offset, const char *name);
void lf_store_field(lfunc *f, LLVMValueRef value, LLVMValueRef base, uint64_t offset);
LLVMValueRef lf_gep(lfunc *f, LLVMValueRef base, LLVMValueRef offset);
/* Branch to a trap of this kind when cond is true; continue in a new block otherwise. */
void lf_trap_if(lfunc *f, LLVMValueRef cond, kiln_trap_kind kind);
void lf_trap(lfunc *f, kiln_trap_kind kind);
/* A call of a vm_helpers entry (offset in vm_helpers), of type t. */
LLVMValueRef lf_call_helper(lfunc *f, size_t offset, LLVMTypeRef t, LLVMValueRef *args, unsigned n);
/* The same for a helper taking (vm, args...) and returning i32 (returns) or nothing; n <= 7. */
LLVMValueRef lf_call_vm_helper(lfunc *f, size_t offset, bool returns, LLVMValueRef *args, unsigned n);
/* Guarded memories (no bounds checks): a memory access that faults is the trap, so LLVM must
 * not delete a load whose value is unused: each loaded value is kept (markers.c). Measured
 * against the other ways on the bench kernels: an `or` of every loaded value into a sink let
 * LLVM vectorise the sink with gathers (matmul 3.6x slower); volatile loads cost 4x on
 * vectorisable loops; an empty inline asm per load stops the loop vectoriser. */
void lf_keep_load(lfunc *f, LLVMValueRef loaded);
/* Interrupt and fuel check (function entries: entry, loop headers). */
void lf_poll(lfunc *f, bool entry);
/* The check itself: the interrupt flag (and fuel), a cold call of the poll helper. */
void lf_poll_check(lfunc *f);

/* ---- markers.c: kept loads and loop polls, as calls the optimiser sees through */
void markers_declare(lmod *lm);
void markers_keep(lfunc *f, LLVMValueRef loaded);
void markers_poll(lfunc *f);
/* After optimisation: each marker replaced by what it stands for. */
kiln_status markers_lower(lmod *lm, LLVMTargetMachineRef tm, kiln_error *err);
LLVMValueRef lf_const_i32(const lfunc *f, uint64_t v);
/* A call of the overloaded LLVM intrinsic `name` instantiated on types[0..ntypes). */
LLVMValueRef lf_intrinsic(lfunc *f, const char *name, LLVMTypeRef *types, unsigned ntypes, LLVMValueRef *args,
                          unsigned nargs);
LLVMValueRef lf_const_i64(const lfunc *f, uint64_t v);

/* ---- per family */
bool emit_control(lfunc *f, const func_instr *in);   /* blocks, branches, calls */
bool emit_memory(lfunc *f, const func_instr *in);    /* loads, stores, memory.*, globals */
bool emit_table(lfunc *f, const func_instr *in);     /* tables, references, bulk table ops */
bool emit_numeric(lfunc *f, const func_instr *in);   /* constants, numeric and SIMD rows, locals, select */
/* Call the ops bitcode function of row iop with pointer operands (ops.c). Returns the
 * result value (or NULL for stores), with a trap check for rows that may trap. */
LLVMValueRef emit_op_call(lfunc *f, int iop, LLVMValueRef *args, unsigned nargs, uint8_t out_type,
                          bool may_trap, LLVMValueRef mem_ptr, int lane);

#endif
