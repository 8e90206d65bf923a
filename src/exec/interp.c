/* interp.c - the interpreter: threaded code dispatched by computed goto over slot-addressed
 * instructions (see compile.c). The handlers of the generic instructions are generated from
 * opcodes.def; control flow, calls, variables, tables and bulk memory are written here.
 * Wasm-to-wasm calls never recurse on the C stack: frames live in the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "exec/bulk.h"
#include "exec/numeric.h"
#include "exec/simd.h"
#include "instr/iop.h"
#include "native/native.h"
#include "runtime/runtime.h"

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)


#define CT_I32 u32
#define CT_I64 u64
#define CT_F32 f32
#define CT_F64 f64
#define CT_V128 v128

#define SL(off) (*(slot *)(fp + (off)))
#define GET_I32(off) SL(off).i32
#define GET_I64(off) SL(off).i64
#define GET_F32(off) SL(off).f32
#define GET_F64(off) SL(off).f64
#define GET_V128(off) get_v128(fp + (off))
#define PUT_I32(off, v) (SL(off).i32 = (v))
#define PUT_I64(off, v) (SL(off).i64 = (v))
#define PUT_F32(off, v) (SL(off).f32 = (v))
#define PUT_F64(off, v) (SL(off).f64 = (v))
#define PUT_V128(off, v) put_v128(fp + (off), (v))

static inline v128 get_v128(const uint8_t *p) {
  v128 v;
  memcpy(&v, p, 16);
  return v;
}
static inline void put_v128(uint8_t *p, v128 v) { memcpy(p, &v, 16); }

/* ------------------------------------------------------------------ host calls */

static void slots_to_vals(const uint8_t *fp, const uint8_t *types, uint32_t n, kiln_val *vals) {
  for (uint32_t i = 0; i < n; i++) {
    vals[i].type = (kiln_valtype)types[i];
    memset(&vals[i].of, 0, sizeof vals[i].of);
    memcpy(&vals[i].of, fp, types[i] == VT_V128 ? 16 : 8);
    fp += 8 * valtype_slots(types[i]);
  }
}

static void vals_to_slots(uint8_t *fp, const uint8_t *types, uint32_t n, const kiln_val *vals) {
  for (uint32_t i = 0; i < n; i++) {
    memcpy(fp, &vals[i].of, types[i] == VT_V128 ? 16 : 8);
    fp += 8 * valtype_slots(types[i]);
  }
}

/* Call host function f with arguments at args; its results replace them. */
kiln_status interp_call_host(kiln_store *store, kiln_func *f, uint8_t *args, kiln_instance *caller_inst,
                             kiln_error *err) {
  const functype *t = f->type;
  kiln_val small[16];
  uint32_t n = t->param_count + t->result_count;
  kiln_val *vals = n <= 16 ? small : malloc(n * sizeof(kiln_val));
  if (!vals) return error_trap(err, KILN_TRAP_HOST, "out of memory calling a host function");
  kiln_val *params = vals, *results = vals + t->param_count;
  slots_to_vals(args, t->types, t->param_count, params);
  for (uint32_t i = 0; i < t->result_count; i++) {
    results[i].type = (kiln_valtype)t->types[t->param_count + i];
    memset(&results[i].of, 0, sizeof results[i].of);
  }
  uint8_t *saved_top = store->stack_top;
  store->stack_top = args + 8 * functype_call_slots(t);
  kiln_caller caller = {store, caller_inst, err};
  err->status = KILN_OK;
  kiln_status st = f->callback(&caller, f->user_data, params, results);
  store->stack_top = saved_top;
  if (st == KILN_OK) vals_to_slots(args, t->types + t->param_count, t->result_count, results);
  else if (err->status != KILN_ERR_TRAP)
    error_trap(err, KILN_TRAP_HOST, "host function failed: %s", kiln_status_string(st));
  if (vals != small) free(vals);
  return st == KILN_OK ? KILN_OK : KILN_ERR_TRAP;
}

/* Call a function that the interpreter does not run: a host function or compiled code. */
static kiln_status call_outside(kiln_store *store, kiln_func *f, uint8_t *args, kiln_instance *caller_inst,
                                kiln_error *err) {
  if (!f->native_entry) return interp_call_host(store, f, args, caller_inst, err);
  uint8_t *saved_top = store->stack_top;
  store->stack_top = args + 8 * functype_call_slots(f->type);
  kiln_status st = native_call(store, f, (uint64_t *)(void *)args, err);
  store->stack_top = saved_top;
  return st;
}

/* KILN_TIER_AUTO: whether the store may run native code (not when it has a fuel budget that
 * compiled code does not count). */
static inline bool native_usable(const kiln_store *store) {
  return !store->fuel_limited || store->engine->config.consume_fuel;
}

/* f (a kiln_func of fn) runs fn's tier-up code from now on: compiled callers then call it
 * directly. A kiln_func belongs to one store, used by one thread at a time. */
static inline void adopt_native(kiln_func *f, const compiled_func *fn) {
  if (f->native) return;
  f->native_entry = compiled_func_native(fn);
  f->native = __atomic_load_n(&fn->native_func, __ATOMIC_RELAXED);
}

/* Count n calls or loop iterations of fn towards its tier-up (tierup.c). Relaxed loads and
 * stores, not a read-modify-write: a count lost to a race only delays tier-up. */
#define COUNT(fn, n, on_hot)                                                                \
  do {                                                                                      \
    compiled_func *h_f_ = (compiled_func *)(uintptr_t)(fn);                                 \
    int32_t h_ = __atomic_load_n(&h_f_->hotness, __ATOMIC_RELAXED) - (n);                   \
    __atomic_store_n(&h_f_->hotness, h_, __ATOMIC_RELAXED);                                 \
    if (UNLIKELY(h_ <= 0)) on_hot;                                                          \
  } while (0)
#define HOT(fn, n, mod) COUNT(fn, n, tierup_hot((mod), h_f_))

/* ------------------------------------------------------------------ traps */

static uint32_t wasm_offset_of(const compiled_func *fn, const cell *pc) {
  uint32_t at = (uint32_t)(pc - fn->code), lo = 0, hi = fn->offset_count;
  if (hi == 0) return 0;
  while (hi - lo > 1) {
    uint32_t mid = (lo + hi) / 2;
    if (fn->offsets[mid].cell <= at) lo = mid;
    else hi = mid;
  }
  return fn->offsets[lo].wasm_offset;
}

static void add_frame(kiln_error *err, const kiln_instance *inst, const compiled_func *fn, const cell *pc) {
  err->frame_total++;
  if (err->frame_count >= KILN_BACKTRACE_MAX) return;
  kiln_frame *f = &err->backtrace[err->frame_count++];
  f->func_index = fn->func_index;
  f->code_offset = wasm_offset_of(fn, pc);
  const char *name = instance_func_name(inst, fn->func_index);
  snprintf(f->name, sizeof f->name, "%s", name);
}

/* ------------------------------------------------------------------ the loop */

#define NEXT() goto *(const void *)(uintptr_t)pc[0]
#define TRAP(kind) do { trap_kind = (kind); goto trap; } while (0)
#define RELOAD_MEMORY()                          \
  do {                                           \
    kiln_memory *m_ = inst->memory;              \
    mem = m_ ? m_->base : NULL;                  \
    mem_size = m_ ? m_->size : 0;                \
  } while (0)
/* Poll the interrupt flag and charge `cost` units of fuel (see FUEL_CELLS). */
#ifndef KILN_BENCH_NO_CHECKS
#define POLL(cost)                                                                          \
  do {                                                                                      \
    if (UNLIKELY(atomic_load_explicit(&store->interrupt, memory_order_relaxed)))            \
      TRAP(KILN_TRAP_INTERRUPTED);                                                          \
    CHARGE(cost);                                                                           \
  } while (0)
#else
/* Benchmarking only (bench/build.sh builds a kiln with -DKILN_BENCH_NO_CHECKS to measure
 * what the checks cost): no interrupt poll and no fuel at function entries, and the
 * compiler emits no loop_check. Interrupts, --timeout and fuel do not work in that build. */
#define POLL(cost) ((void)0)
#endif
#define CHARGE(cost)                                                                        \
  do {                                                                                      \
    if (UNLIKELY((fuel -= (int64_t)(cost)) < 0)) { fuel = 0; TRAP(KILN_TRAP_OUT_OF_FUEL); } \
  } while (0)
/* A bulk instruction (exec/bulk.c) of `cells` cells: trap if it says so. */
#define BULK(call, cells)                                                                   \
  do {                                                                                      \
    kiln_trap_kind k_ = (call);                                                             \
    if (UNLIKELY(k_ != KILN_TRAP_NONE)) TRAP(k_);                                           \
    pc += (cells);                                                                          \
    NEXT();                                                                                 \
  } while (0)

/* Zero a function's declared locals on entry: most functions have none or a few, for which
 * a call of memset costs more than the stores. */
static inline void zero_locals(uint8_t *p, uint32_t slots) {
  if (slots > 8) {
    memset(p, 0, 8 * (size_t)slots);
    return;
  }
  uint64_t *q = (uint64_t *)(void *)p;
  switch (slots) {
  case 8: q[7] = 0; /* fall through */
  case 7: q[6] = 0; /* fall through */
  case 6: q[5] = 0; /* fall through */
  case 5: q[4] = 0; /* fall through */
  case 4: q[3] = 0; /* fall through */
  case 3: q[2] = 0; /* fall through */
  case 2: q[1] = 0; /* fall through */
  case 1: q[0] = 0; /* fall through */
  default: break;
  }
}

/* Call kiln_func f outside the interpreter (host function or native code), returning to
 * retpc. */
#define CALL_OUTSIDE(f, nfp, retpc)                                                         \
  do {                                                                                      \
    store->fuel = fuel;                                                                     \
    if (call_outside(store, (f), (nfp), inst, err) != KILN_OK) {                            \
      fuel = store->fuel;                                                                   \
      trap_kind = err->trap;                                                                \
      host_trap = true;                                                                     \
      goto trap;                                                                            \
    }                                                                                       \
    fuel = store->fuel;                                                                     \
    pc = (retpc);                                                                           \
    RELOAD_MEMORY();                                                                        \
    NEXT();                                                                                 \
  } while (0)

/* Enter wasm function `callee` with its frame at nfp, returning to retpc; its native code
 * instead once tier-up has compiled it. */
#define ENTER(callee, nfp, ninst, retpc)                                                    \
  do {                                                                                      \
    const compiled_func *c_ = (callee);                                                     \
    if (UNLIKELY(compiled_func_native(c_) != NULL) && native_usable(store)) {              \
      kiln_func *k_ = (ninst)->funcs[c_->func_index];                                       \
      adopt_native(k_, c_);                                                                 \
      CALL_OUTSIDE(k_, (nfp), (retpc));                                                     \
    }                                                                                       \
    HOT(c_, 1, (ninst)->module);                                                            \
    const cell *code_ = compiled_func_code(c_); /* first: the fields below follow it */    \
    if (UNLIKELY(!code_)) { /* its first call: translate it */                              \
      if (module_translate((ninst)->module, c_, err) != KILN_OK) goto failed;               \
      code_ = c_->code;                                                                     \
    }                                                                                       \
    uint8_t *nfp_ = (nfp);                                                                  \
    if (UNLIKELY(store->depth >= store->max_depth ||                                        \
                 nfp_ + 8 * (size_t)c_->frame_slots > store->stack_end))                    \
      TRAP(KILN_TRAP_STACK_EXHAUSTED);                                                      \
    frame *fr_ = &store->frames[store->depth++];                                            \
    fr_->ret_pc = (retpc);                                                                  \
    fr_->fp = fp;                                                                           \
    fr_->instance = inst;                                                                   \
    fr_->func = fn;                                                                         \
    kiln_instance *ni_ = (ninst);                                                           \
    fp = nfp_;                                                                              \
    fn = c_;                                                                                \
    zero_locals(fp + 8 * c_->param_slots, c_->local_slots);                                 \
    pc = code_;                                                                             \
    if (ni_ != inst) { inst = ni_; RELOAD_MEMORY(); }                                       \
    POLL(c_->entry_fuel);                                                                   \
    NEXT();                                                                                 \
  } while (0)

#define CALL_FUNC(f, nfp, retpc)                                                            \
  do {                                                                                      \
    kiln_func *f_ = (f);                                                                    \
    if (LIKELY(f_->code != NULL)) ENTER(f_->code, (nfp), f_->instance, (retpc));            \
    CALL_OUTSIDE(f_, (nfp), (retpc));                                                       \
  } while (0)

#define MEM_CHECK(ea, n) if (UNLIKELY((ea) + (n) > mem_size)) TRAP(KILN_TRAP_MEMORY_OUT_OF_BOUNDS)

/* Generated handlers, one per generic row of opcodes.def. */
#define GEN_K_SPECIAL(name, out, in1, in2, size, impl)
#define GEN_K_UNARY_TRAP(name, out, in1, in2, size, impl)                                   \
  L_##name: {                                                                               \
    CT_##in1 a = GET_##in1(pc[2]);                                                          \
    kiln_trap_kind trap = KILN_TRAP_NONE;                                                   \
    CT_##out r_ = (impl);                                                                   \
    if (UNLIKELY(trap != KILN_TRAP_NONE)) TRAP(trap);                                       \
    PUT_##out(pc[1], r_);                                                                   \
    pc += 3;                                                                                \
    NEXT();                                                                                 \
  }
#define GEN_K_BINARY_TRAP(name, out, in1, in2, size, impl)                                  \
  L_##name: {                                                                               \
    CT_##in1 a = GET_##in1(pc[2]);                                                          \
    CT_##in2 b = GET_##in2(pc[3]);                                                          \
    kiln_trap_kind trap = KILN_TRAP_NONE;                                                   \
    CT_##out r_ = (impl);                                                                   \
    if (UNLIKELY(trap != KILN_TRAP_NONE)) TRAP(trap);                                       \
    PUT_##out(pc[1], r_);                                                                   \
    pc += 4;                                                                                \
    NEXT();                                                                                 \
  }
/* Rows that cannot trap use the same handlers: their impl never sets `trap`, so the test
 * folds away. */
#define GEN_K_UNARY GEN_K_UNARY_TRAP
#define GEN_K_BINARY GEN_K_BINARY_TRAP
#define GEN_K_TERNARY(name, out, in1, in2, size, impl)                                      \
  L_##name: {                                                                               \
    v128 a = GET_V128(pc[2]), b = GET_V128(pc[3]), c = GET_V128(pc[4]);                     \
    CT_##out r_ = (impl);                                                                   \
    PUT_##out(pc[1], r_);                                                                   \
    pc += 5;                                                                                \
    NEXT();                                                                                 \
  }
#define GEN_K_LOAD(name, out, in1, in2, size, impl)                                         \
  L_##name: {                                                                               \
    u64 ea_ = (u64)GET_I32(pc[2]) + pc[3];                                                  \
    MEM_CHECK(ea_, size);                                                                   \
    uint8_t *p = mem + ea_;                                                                 \
    CT_##out r_ = (impl);                                                                   \
    PUT_##out(pc[1], r_);                                                                   \
    pc += 4;                                                                                \
    NEXT();                                                                                 \
  }
#define GEN_K_STORE(name, out, in1, in2, size, impl)                                        \
  L_##name: {                                                                               \
    u64 ea_ = (u64)GET_I32(pc[1]) + pc[3];                                                  \
    MEM_CHECK(ea_, size);                                                                   \
    uint8_t *p = mem + ea_;                                                                 \
    CT_##in2 b = GET_##in2(pc[2]);                                                          \
    impl;                                                                                   \
    pc += 4;                                                                                \
    NEXT();                                                                                 \
  }
#define GEN_K_EXTRACT_LANE(name, out, in1, in2, size, impl)                                 \
  L_##name: {                                                                               \
    v128 a = GET_V128(pc[2]);                                                               \
    unsigned lane = (unsigned)pc[3];                                                        \
    CT_##out r_ = (impl);                                                                   \
    PUT_##out(pc[1], r_);                                                                   \
    pc += 4;                                                                                \
    NEXT();                                                                                 \
  }
#define GEN_K_REPLACE_LANE(name, out, in1, in2, size, impl)                                 \
  L_##name: {                                                                               \
    v128 a = GET_V128(pc[2]);                                                               \
    CT_##in2 b = GET_##in2(pc[3]);                                                          \
    unsigned lane = (unsigned)pc[4];                                                        \
    v128 r_ = (impl);                                                                       \
    PUT_V128(pc[1], r_);                                                                    \
    pc += 5;                                                                                \
    NEXT();                                                                                 \
  }
#define GEN_K_LOAD_LANE(name, out, in1, in2, size, impl)                                    \
  L_##name: {                                                                               \
    u64 ea_ = (u64)GET_I32(pc[2]) + pc[4];                                                  \
    MEM_CHECK(ea_, size);                                                                   \
    uint8_t *p = mem + ea_;                                                                 \
    v128 b = GET_V128(pc[3]);                                                               \
    unsigned lane = (unsigned)pc[5];                                                        \
    v128 r_ = (impl);                                                                       \
    PUT_V128(pc[1], r_);                                                                    \
    pc += 6;                                                                                \
    NEXT();                                                                                 \
  }
#define GEN_K_STORE_LANE(name, out, in1, in2, size, impl)                                   \
  L_##name: {                                                                               \
    u64 ea_ = (u64)GET_I32(pc[1]) + pc[3];                                                  \
    MEM_CHECK(ea_, size);                                                                   \
    uint8_t *p = mem + ea_;                                                                 \
    v128 b = GET_V128(pc[2]);                                                               \
    unsigned lane = (unsigned)pc[4];                                                        \
    impl;                                                                                   \
    pc += 5;                                                                                \
    NEXT();                                                                                 \
  }

/* Immediates in code cells, for the _imm forms. */
#define IMM_I32(x) ((u32)(x))
#define IMM_I64(x) ((u64)(x))
#define IMM_F32(x) f32_from_bits((u32)(x))
#define IMM_F64(x) f64_from_bits((u64)(x))

#define TARGET(x) ((const cell *)(uintptr_t)(x))

/* _imm forms: binary rows with a scalar second operand. */
#define GEN_IMM_BIN_TRAP(name, out, in1, in2, size, impl)                                         \
  L_##name##_imm: {                                                                         \
    CT_##in1 a = GET_##in1(pc[2]);                                                          \
    CT_##in2 b = IMM_##in2(pc[3]);                                                          \
    kiln_trap_kind trap = KILN_TRAP_NONE;                                                   \
    CT_##out r_ = (impl);                                                                   \
    if (UNLIKELY(trap != KILN_TRAP_NONE)) TRAP(trap);                                       \
    PUT_##out(pc[1], r_);                                                                   \
    pc += 4;                                                                                \
    NEXT();                                                                                 \
  }
#define GEN_IMM_BIN GEN_IMM_BIN_TRAP
#define GEN_IMM_K_BINARY_I32(n, o, i1, i2, sz, impl) GEN_IMM_BIN(n, o, i1, i2, sz, impl)
#define GEN_IMM_K_BINARY_I64(n, o, i1, i2, sz, impl) GEN_IMM_BIN(n, o, i1, i2, sz, impl)
#define GEN_IMM_K_BINARY_F32(n, o, i1, i2, sz, impl) GEN_IMM_BIN(n, o, i1, i2, sz, impl)
#define GEN_IMM_K_BINARY_F64(n, o, i1, i2, sz, impl) GEN_IMM_BIN(n, o, i1, i2, sz, impl)
#define GEN_IMM_K_BINARY_TRAP_I32(n, o, i1, i2, sz, impl) GEN_IMM_BIN_TRAP(n, o, i1, i2, sz, impl)
#define GEN_IMM_K_BINARY_TRAP_I64(n, o, i1, i2, sz, impl) GEN_IMM_BIN_TRAP(n, o, i1, i2, sz, impl)
#define LBL_IMM(n) [IOP_##n##_imm] = &&L_##n##_imm,
#define LBL_IMM_K_BINARY_I32(n) LBL_IMM(n)
#define LBL_IMM_K_BINARY_I64(n) LBL_IMM(n)
#define LBL_IMM_K_BINARY_F32(n) LBL_IMM(n)
#define LBL_IMM_K_BINARY_F64(n) LBL_IMM(n)
#define LBL_IMM_K_BINARY_TRAP_I32(n) LBL_IMM(n)
#define LBL_IMM_K_BINARY_TRAP_I64(n) LBL_IMM(n)
/* _imm forms of stores: the stored value is an immediate ([handler, addr, imm, offset]). */
#define GEN_IMM_STORE(name, out, in1, in2, size, impl)                                      \
  L_##name##_imm: {                                                                         \
    u64 ea_ = (u64)GET_I32(pc[1]) + pc[3];                                                  \
    MEM_CHECK(ea_, size);                                                                   \
    uint8_t *p = mem + ea_;                                                                 \
    CT_##in2 b = IMM_##in2(pc[2]);                                                          \
    impl;                                                                                   \
    pc += 4;                                                                                \
    NEXT();                                                                                 \
  }
#define GEN_IMM_K_STORE_I32 GEN_IMM_STORE
#define GEN_IMM_K_STORE_I64 GEN_IMM_STORE
#define GEN_IMM_K_STORE_F32 GEN_IMM_STORE
#define GEN_IMM_K_STORE_F64 GEN_IMM_STORE
#define LBL_IMM_K_STORE_I32(n) LBL_IMM(n)
#define LBL_IMM_K_STORE_I64(n) LBL_IMM(n)
#define LBL_IMM_K_STORE_F32(n) LBL_IMM(n)
#define LBL_IMM_K_STORE_F64(n) LBL_IMM(n)

/* _jnz/_jz forms: rows with an i32 result, fused with the branch that tests it. */
#define GEN_BR_BIN(name, in1, in2, impl, suffix, test, GETB)                                \
  L_##name##suffix: {                                                                       \
    CT_##in1 a = GET_##in1(pc[2]);                                                          \
    CT_##in2 b = GETB(pc[3]);                                                               \
    if ((impl) test) pc = TARGET(pc[1]);                                                    \
    else pc += 4;                                                                           \
    NEXT();                                                                                 \
  }
#define GEN_BR_K_BINARY_I32(n, o, i1, i2, sz, impl)                                             \
  GEN_BR_BIN(n, i1, i2, impl, _jnz, != 0, GET_##i2)                                         \
  GEN_BR_BIN(n, i1, i2, impl, _jz, == 0, GET_##i2)                                          \
  GEN_BR_BIN(n, i1, i2, impl, _imm_jnz, != 0, IMM_##i2)                                     \
  GEN_BR_BIN(n, i1, i2, impl, _imm_jz, == 0, IMM_##i2)
#define GEN_BR_UN(name, in1, impl, suffix, test)                                            \
  L_##name##suffix: {                                                                       \
    CT_##in1 a = GET_##in1(pc[2]);                                                          \
    if ((impl) test) pc = TARGET(pc[1]);                                                    \
    else pc += 3;                                                                           \
    NEXT();                                                                                 \
  }
#define GEN_BR_K_UNARY_I32(n, o, i1, i2, sz, impl)                                              \
  GEN_BR_UN(n, i1, impl, _jnz, != 0)                                                        \
  GEN_BR_UN(n, i1, impl, _jz, == 0)
#define LBL_BR_K_BINARY_I32(n)                                                              \
  [IOP_##n##_jnz] = &&L_##n##_jnz, [IOP_##n##_jz] = &&L_##n##_jz,                           \
  [IOP_##n##_imm_jnz] = &&L_##n##_imm_jnz, [IOP_##n##_imm_jz] = &&L_##n##_imm_jz,
#define LBL_BR_K_UNARY_I32(n) [IOP_##n##_jnz] = &&L_##n##_jnz, [IOP_##n##_jz] = &&L_##n##_jz,

/* Every other (kind, type) pair has no specialised form. */
#define NO_GEN(n, o, i1, i2, sz, impl)
#define NO_LBL(n)
#define GEN_IMM_K_SPECIAL_NONE NO_GEN
#define LBL_IMM_K_SPECIAL_NONE NO_LBL
#define GEN_IMM_K_BINARY_V128 NO_GEN
#define LBL_IMM_K_BINARY_V128 NO_LBL
#define GEN_IMM_K_EXTRACT_LANE_NONE NO_GEN
#define LBL_IMM_K_EXTRACT_LANE_NONE NO_LBL
#define GEN_IMM_K_LOAD_NONE NO_GEN
#define LBL_IMM_K_LOAD_NONE NO_LBL
#define GEN_IMM_K_LOAD_LANE_V128 NO_GEN
#define LBL_IMM_K_LOAD_LANE_V128 NO_LBL
#define GEN_IMM_K_REPLACE_LANE_F32 NO_GEN
#define LBL_IMM_K_REPLACE_LANE_F32 NO_LBL
#define GEN_IMM_K_REPLACE_LANE_F64 NO_GEN
#define LBL_IMM_K_REPLACE_LANE_F64 NO_LBL
#define GEN_IMM_K_REPLACE_LANE_I32 NO_GEN
#define LBL_IMM_K_REPLACE_LANE_I32 NO_LBL
#define GEN_IMM_K_REPLACE_LANE_I64 NO_GEN
#define LBL_IMM_K_REPLACE_LANE_I64 NO_LBL
#define GEN_IMM_K_STORE_V128 NO_GEN
#define LBL_IMM_K_STORE_V128 NO_LBL
#define GEN_IMM_K_STORE_LANE_V128 NO_GEN
#define LBL_IMM_K_STORE_LANE_V128 NO_LBL
#define GEN_IMM_K_TERNARY_V128 NO_GEN
#define LBL_IMM_K_TERNARY_V128 NO_LBL
#define GEN_IMM_K_UNARY_NONE NO_GEN
#define LBL_IMM_K_UNARY_NONE NO_LBL
#define GEN_IMM_K_UNARY_TRAP_NONE NO_GEN
#define LBL_IMM_K_UNARY_TRAP_NONE NO_LBL
#define GEN_BR_K_BINARY_F32 NO_GEN
#define LBL_BR_K_BINARY_F32 NO_LBL
#define GEN_BR_K_BINARY_F64 NO_GEN
#define LBL_BR_K_BINARY_F64 NO_LBL
#define GEN_BR_K_BINARY_I64 NO_GEN
#define LBL_BR_K_BINARY_I64 NO_LBL
#define GEN_BR_K_BINARY_V128 NO_GEN
#define LBL_BR_K_BINARY_V128 NO_LBL
#define GEN_BR_K_BINARY_TRAP_I32 NO_GEN
#define LBL_BR_K_BINARY_TRAP_I32 NO_LBL
#define GEN_BR_K_BINARY_TRAP_I64 NO_GEN
#define LBL_BR_K_BINARY_TRAP_I64 NO_LBL
#define GEN_BR_K_EXTRACT_LANE_F32 NO_GEN
#define LBL_BR_K_EXTRACT_LANE_F32 NO_LBL
#define GEN_BR_K_EXTRACT_LANE_F64 NO_GEN
#define LBL_BR_K_EXTRACT_LANE_F64 NO_LBL
#define GEN_BR_K_EXTRACT_LANE_I32 NO_GEN
#define LBL_BR_K_EXTRACT_LANE_I32 NO_LBL
#define GEN_BR_K_EXTRACT_LANE_I64 NO_GEN
#define LBL_BR_K_EXTRACT_LANE_I64 NO_LBL
#define GEN_BR_K_LOAD_F32 NO_GEN
#define LBL_BR_K_LOAD_F32 NO_LBL
#define GEN_BR_K_LOAD_F64 NO_GEN
#define LBL_BR_K_LOAD_F64 NO_LBL
#define GEN_BR_K_LOAD_I32 NO_GEN
#define LBL_BR_K_LOAD_I32 NO_LBL
#define GEN_BR_K_LOAD_I64 NO_GEN
#define LBL_BR_K_LOAD_I64 NO_LBL
#define GEN_BR_K_LOAD_V128 NO_GEN
#define LBL_BR_K_LOAD_V128 NO_LBL
#define GEN_BR_K_LOAD_LANE_V128 NO_GEN
#define LBL_BR_K_LOAD_LANE_V128 NO_LBL
#define GEN_BR_K_REPLACE_LANE_V128 NO_GEN
#define LBL_BR_K_REPLACE_LANE_V128 NO_LBL
#define GEN_BR_K_SPECIAL_NONE NO_GEN
#define LBL_BR_K_SPECIAL_NONE NO_LBL
#define GEN_BR_K_STORE_NONE NO_GEN
#define LBL_BR_K_STORE_NONE NO_LBL
#define GEN_BR_K_STORE_LANE_NONE NO_GEN
#define LBL_BR_K_STORE_LANE_NONE NO_LBL
#define GEN_BR_K_TERNARY_V128 NO_GEN
#define LBL_BR_K_TERNARY_V128 NO_LBL
#define GEN_BR_K_UNARY_F32 NO_GEN
#define LBL_BR_K_UNARY_F32 NO_LBL
#define GEN_BR_K_UNARY_F64 NO_GEN
#define LBL_BR_K_UNARY_F64 NO_LBL
#define GEN_BR_K_UNARY_I64 NO_GEN
#define LBL_BR_K_UNARY_I64 NO_LBL
#define GEN_BR_K_UNARY_V128 NO_GEN
#define LBL_BR_K_UNARY_V128 NO_LBL
#define GEN_BR_K_UNARY_TRAP_I32 NO_GEN
#define LBL_BR_K_UNARY_TRAP_I32 NO_LBL
#define GEN_BR_K_UNARY_TRAP_I64 NO_GEN
#define LBL_BR_K_UNARY_TRAP_I64 NO_LBL

#define LABEL_K_SPECIAL(name)
#define LABEL_GENERIC(name) [IOP_##name] = &&L_##name,
#define LABEL_K_UNARY LABEL_GENERIC
#define LABEL_K_UNARY_TRAP LABEL_GENERIC
#define LABEL_K_BINARY LABEL_GENERIC
#define LABEL_K_BINARY_TRAP LABEL_GENERIC
#define LABEL_K_TERNARY LABEL_GENERIC
#define LABEL_K_LOAD LABEL_GENERIC
#define LABEL_K_STORE LABEL_GENERIC
#define LABEL_K_EXTRACT_LANE LABEL_GENERIC
#define LABEL_K_REPLACE_LANE LABEL_GENERIC
#define LABEL_K_LOAD_LANE LABEL_GENERIC
#define LABEL_K_STORE_LANE LABEL_GENERIC

/* Run from (fn, fp) in inst until the entry frame returns. With handlers_out set, only
 * report the handler table. */
static kiln_status run(kiln_store *store, kiln_instance *inst, const compiled_func *fn, uint8_t *fp,
                       kiln_error *err, const void *const **handlers_out) {
  static const void *const labels[IOP_COUNT] = {
#define OP(name, prefix, code, text, kind, out, in1, in2, size, impl) \
  LABEL_##kind(name) LBL_IMM_##kind##_##in2(name) LBL_BR_##kind##_##out(name)
#include "instr/opcodes.def"
#undef OP
      [IOP_unreachable] = &&L_unreachable,
      [IOP_br_table] = &&L_br_table,
      [IOP_return_] = &&L_return,
      [IOP_call_indirect] = &&L_call_indirect,
      [IOP_select] = &&L_select,
      [IOP_global_get] = &&L_global_get,
      [IOP_global_set] = &&L_global_set,
      [IOP_table_get] = &&L_table_get,
      [IOP_table_set] = &&L_table_set,
      [IOP_memory_size] = &&L_memory_size,
      [IOP_memory_grow] = &&L_memory_grow,
      [IOP_ref_is_null] = &&L_ref_is_null,
      [IOP_ref_func] = &&L_ref_func,
      [IOP_memory_init] = &&L_memory_init,
      [IOP_data_drop] = &&L_data_drop,
      [IOP_memory_copy] = &&L_memory_copy,
      [IOP_memory_fill] = &&L_memory_fill,
      [IOP_table_init] = &&L_table_init,
      [IOP_elem_drop] = &&L_elem_drop,
      [IOP_table_copy] = &&L_table_copy,
      [IOP_table_grow] = &&L_table_grow,
      [IOP_table_size] = &&L_table_size,
      [IOP_table_fill] = &&L_table_fill,
      [IOP_i8x16_shuffle] = &&L_i8x16_shuffle,
      [IOP_copy64] = &&L_copy64,
      [IOP_copy128] = &&L_copy128,
      [IOP_const64] = &&L_const64,
      [IOP_const128] = &&L_const128,
      [IOP_jump] = &&L_jump,
      [IOP_jump_if] = &&L_jump_if,
      [IOP_jump_unless] = &&L_jump_unless,
      [IOP_call_local] = &&L_call_local,
      [IOP_call_import] = &&L_call_import,
      [IOP_loop_check] = &&L_loop_check,
      [IOP_loop_osr] = &&L_loop_osr,
      [IOP_select128] = &&L_select128,
      [IOP_global_get128] = &&L_global_get128,
      [IOP_global_set128] = &&L_global_set128,
  };
  if (handlers_out) {
    *handlers_out = labels;
    return KILN_OK;
  }

  const uint32_t base_depth = store->depth;
  int64_t fuel = store->fuel;
  kiln_trap_kind trap_kind = KILN_TRAP_NONE;
  bool host_trap = false, osr_trap = false;
  const cell *pc = fn->code;
  uint8_t *mem;
  u64 mem_size;
  RELOAD_MEMORY();
  POLL(fn->entry_fuel);
  NEXT();

#define OP(name, prefix, code, text, kind, out, in1, in2, size, impl) \
  GEN_##kind(name, out, in1, in2, size, impl)                          \
  GEN_IMM_##kind##_##in2(name, out, in1, in2, size, impl)              \
  GEN_BR_##kind##_##out(name, out, in1, in2, size, impl)
#include "instr/opcodes.def"
#undef OP

L_unreachable:
  TRAP(KILN_TRAP_UNREACHABLE);

L_copy64:
  SL(pc[1]).i64 = SL(pc[2]).i64;
  pc += 3;
  NEXT();
L_copy128:
  memmove(fp + pc[1], fp + pc[2], 16);
  pc += 3;
  NEXT();
L_const64:
  SL(pc[1]).i64 = pc[2];
  pc += 3;
  NEXT();
L_const128:
  SL(pc[1]).i64 = pc[2];
  SL(pc[1] + 8).i64 = pc[3];
  pc += 4;
  NEXT();
L_jump:
  pc = (const cell *)(uintptr_t)pc[1];
  NEXT();
L_jump_if:
  if (GET_I32(pc[1])) pc = (const cell *)(uintptr_t)pc[2];
  else pc += 3;
  NEXT();
L_jump_unless:
  if (!GET_I32(pc[1])) pc = (const cell *)(uintptr_t)pc[2];
  else pc += 3;
  NEXT();
L_br_table: {
  u32 i = GET_I32(pc[1]);
  u64 n = pc[2];
  if (i > n) i = (u32)n;
  pc = (const cell *)(uintptr_t)pc[3 + i];
  NEXT();
}
L_loop_check:
  POLL(pc[1]);
  HOT(fn, 1, inst->module);
  pc += 2;
  NEXT();
L_loop_osr: { /* a loop the running call may leave for native code (on-stack replacement) */
  POLL(pc[1]);
  COUNT(fn, 1, tierup_hot_loop(inst->module, h_f_, (uint32_t)pc[2]));
  void (*osr)(kiln_instance *, uint64_t *) = __atomic_load_n(&fn->osr_entry, __ATOMIC_ACQUIRE);
  if (UNLIKELY(osr != NULL) && fn->osr_loop == (uint32_t)pc[2] && native_usable(store)) {
    /* the frame's locals are the whole state here: o<N> takes them, runs the rest of the
     * call and leaves its results where a return leaves them */
    uint8_t *saved_top = store->stack_top;
    store->stack_top = fp + 8 * (size_t)fn->frame_slots;
    store->fuel = fuel;
    kiln_status st = native_enter(store, inst, osr, (uint64_t *)(void *)fp, err);
    fuel = store->fuel;
    store->stack_top = saved_top;
    if (st != KILN_OK) {
      trap_kind = err->trap;
      host_trap = true;
      osr_trap = true; /* its native frames include this call */
      goto trap;
    }
    goto L_return;
  }
  pc += 3;
  NEXT();
}

L_call_local:
  ENTER((const compiled_func *)(uintptr_t)pc[1], fp + pc[2], inst, pc + 3);
L_call_import:
  CALL_FUNC(inst->funcs[pc[1]], fp + pc[2], pc + 3);
L_call_indirect: {
  kiln_table *t = inst->tables[pc[2]];
  u32 i = GET_I32(pc[3]);
  if (UNLIKELY(i >= t->size)) TRAP(KILN_TRAP_UNDEFINED_ELEMENT);
  kiln_func *f = (kiln_func *)t->elems[i];
  if (UNLIKELY(!f)) TRAP(KILN_TRAP_UNINITIALIZED_ELEMENT);
  if (UNLIKELY(f->type_id != (uint32_t)pc[1])) TRAP(KILN_TRAP_INDIRECT_CALL_TYPE);
  CALL_FUNC(f, fp + pc[4], pc + 5);
}
L_return:
  if (store->depth == base_depth) goto done;
  {
    frame *fr = &store->frames[--store->depth];
    pc = fr->ret_pc;
    fp = fr->fp;
    fn = fr->func;
    if (fr->instance != inst) inst = fr->instance;
    RELOAD_MEMORY();
  }
  NEXT();

L_select:
  SL(pc[1]).i64 = GET_I32(pc[4]) ? SL(pc[2]).i64 : SL(pc[3]).i64;
  pc += 5;
  NEXT();
L_select128:
  memmove(fp + pc[1], fp + (GET_I32(pc[4]) ? pc[2] : pc[3]), 16);
  pc += 5;
  NEXT();
L_global_get:
  SL(pc[1]).i64 = inst->globals[pc[2]]->value[0];
  pc += 3;
  NEXT();
L_global_set:
  inst->globals[pc[1]]->value[0] = SL(pc[2]).i64;
  pc += 3;
  NEXT();
L_global_get128:
  memcpy(fp + pc[1], inst->globals[pc[2]]->value, 16);
  pc += 3;
  NEXT();
L_global_set128:
  memcpy(inst->globals[pc[1]]->value, fp + pc[2], 16);
  pc += 3;
  NEXT();

L_memory_size:
  PUT_I32(pc[1], (u32)(mem_size / KILN_PAGE_SIZE));
  pc += 2;
  NEXT();
L_memory_grow: {
  uint64_t old;
  kiln_status st = memory_grow(inst->memory, GET_I32(pc[2]), &old);
  PUT_I32(pc[1], st == KILN_OK ? (u32)old : 0xFFFFFFFFu);
  RELOAD_MEMORY();
  pc += 3;
  NEXT();
}
L_memory_init:
  BULK(bulk_memory_init(inst, (u32)pc[1], GET_I32(pc[2]), GET_I32(pc[3]), GET_I32(pc[4]), &fuel), 5);
L_data_drop:
  inst->data_sizes[pc[1]] = 0;
  pc += 2;
  NEXT();
L_memory_copy:
  BULK(bulk_memory_copy(inst, GET_I32(pc[1]), GET_I32(pc[2]), GET_I32(pc[3]), &fuel), 4);
L_memory_fill:
  BULK(bulk_memory_fill(inst, GET_I32(pc[1]), GET_I32(pc[2]), GET_I32(pc[3]), &fuel), 4);

L_ref_is_null:
  PUT_I32(pc[1], SL(pc[2]).ref == NULL);
  pc += 3;
  NEXT();
L_ref_func:
  SL(pc[1]).i64 = 0;
  SL(pc[1]).ref = inst->funcs[pc[2]];
  pc += 3;
  NEXT();

L_table_get: {
  kiln_table *t = inst->tables[pc[2]];
  u32 i = GET_I32(pc[3]);
  if (i >= t->size) TRAP(KILN_TRAP_TABLE_OUT_OF_BOUNDS);
  SL(pc[1]).i64 = 0;
  SL(pc[1]).ref = t->elems[i];
  pc += 4;
  NEXT();
}
L_table_set: {
  kiln_table *t = inst->tables[pc[1]];
  u32 i = GET_I32(pc[2]);
  if (i >= t->size) TRAP(KILN_TRAP_TABLE_OUT_OF_BOUNDS);
  t->elems[i] = SL(pc[3]).ref;
  pc += 4;
  NEXT();
}
L_table_size:
  PUT_I32(pc[1], inst->tables[pc[2]]->size);
  pc += 3;
  NEXT();
L_table_grow: {
  u32 r_;
  kiln_trap_kind k_ = bulk_table_grow(inst, (u32)pc[2], SL(pc[3]).ref, GET_I32(pc[4]), &r_, &fuel);
  if (UNLIKELY(k_ != KILN_TRAP_NONE)) TRAP(k_);
  PUT_I32(pc[1], r_);
  pc += 5;
  NEXT();
}
L_table_fill:
  BULK(bulk_table_fill(inst, (u32)pc[1], GET_I32(pc[2]), SL(pc[3]).ref, GET_I32(pc[4]), &fuel), 5);
L_table_copy:
  BULK(bulk_table_copy(inst, (u32)pc[1], (u32)pc[2], GET_I32(pc[3]), GET_I32(pc[4]), GET_I32(pc[5]), &fuel), 6);
L_table_init:
  BULK(bulk_table_init(inst, (u32)pc[1], (u32)pc[2], GET_I32(pc[3]), GET_I32(pc[4]), GET_I32(pc[5]), &fuel), 6);
L_elem_drop:
  inst->elem_sizes[pc[1]] = 0;
  pc += 2;
  NEXT();

L_i8x16_shuffle: {
  uint8_t lanes[16];
  memcpy(lanes, &pc[4], 8);
  memcpy(lanes + 8, &pc[5], 8);
  v128 r_ = simd_i8x16_shuffle(GET_V128(pc[2]), GET_V128(pc[3]), lanes);
  PUT_V128(pc[1], r_);
  pc += 6;
  NEXT();
}

done:
  store->fuel = fuel;
  return KILN_OK;

failed: /* not a trap: translating a function failed (err says why) */
  store->fuel = fuel;
  store->depth = base_depth;
  return err->status;
trap:
  store->fuel = fuel;
  if (!host_trap) error_trap(err, trap_kind, "%s", kiln_trap_string(trap_kind));
  if (trap_kind != KILN_TRAP_EXIT) {
    /* a trap in native code has its frames, and its location in the message, already */
    bool located = err->frame_count > 0;
    if (!osr_trap) add_frame(err, inst, fn, pc);
    for (uint32_t d = store->depth; d-- > base_depth;) {
      const frame *fr = &store->frames[d];
      if (fr->func) add_frame(err, fr->instance, fr->func, fr->ret_pc - 1);
    }
    if (err->frame_count && !located) {
      const kiln_frame *top = &err->backtrace[0];
      size_t len = strlen(err->message);
      snprintf(err->message + len, sizeof err->message - len, " (in function %u%s%s%s at offset 0x%x)",
               top->func_index, top->name[0] ? " '" : "", top->name, top->name[0] ? "'" : "",
               top->code_offset);
    }
  }
  store->depth = base_depth;
  return KILN_ERR_TRAP;
}

const void *const *interp_handlers(void) {
  const void *const *h = NULL;
  run(NULL, NULL, NULL, NULL, NULL, &h);
  return h;
}

kiln_status interp_call(kiln_store *store, kiln_func *func, kiln_error *err) {
  uint8_t *fp = store->stack_top;
  if (!func->code) return call_outside(store, func, fp, NULL, err);
  const compiled_func *fn = func->code;
  if (UNLIKELY(compiled_func_native(fn) != NULL) && native_usable(store)) {
    adopt_native(func, fn);
    return call_outside(store, func, fp, NULL, err);
  }
  HOT(fn, 1, func->instance->module);
  if (!compiled_func_code(fn)) {
    kiln_status st = module_translate(func->instance->module, fn, err);
    if (st != KILN_OK) return st;
  }
  if (store->depth >= store->max_depth || fp + 8 * (size_t)fn->frame_slots > store->stack_end)
    return error_trap(err, KILN_TRAP_STACK_EXHAUSTED, "call stack exhausted");
  zero_locals(fp + 8 * fn->param_slots, fn->local_slots);
  return run(store, func->instance, fn, fp, err, NULL);
}
