/* ops.c - the semantics of every generic row of opcodes.def as small C functions, compiled to
 * LLVM bitcode at build time (clang -emit-llvm) and linked into each module the LLVM tier
 * compiles, where they are inlined. The compiled tier and the interpreter thus run the same
 * numeric.h / simd.h expressions: one source of truth for NaN bits, trapping and saturating
 * conversions and every SIMD lane rule.
 *
 * Every operand and result crosses by pointer (to a value of the row's C type), so that the
 * functions' signatures are the same on every target and no calling convention coerces a
 * v128; after inlining, the pointers are to allocas that LLVM removes. Functions of rows that
 * may trap return the kiln_trap_kind (0: none). Names: kiln_op_<row name>. This file is not
 * part of libkiln. */
#include "exec/numeric.h"
#include "exec/simd.h"

#define CT_I32 u32
#define CT_I64 u64
#define CT_F32 f32
#define CT_F64 f64
#define CT_V128 v128

#define IN(type, name, from) CT_##type name; memcpy(&name, from, sizeof name)
#define OUT(type, to, value) do { CT_##type r_ = (value); memcpy(to, &r_, sizeof r_); } while (0)

#define OPS_K_SPECIAL(name, out, in1, in2, size, impl)
#define OPS_K_UNARY(name, out, in1, in2, size, impl)                                        \
  void kiln_op_##name(void *r, const void *pa) {                                            \
    IN(in1, a, pa);                                                                         \
    OUT(out, r, impl);                                                                      \
  }
#define OPS_K_UNARY_TRAP(name, out, in1, in2, size, impl)                                   \
  int kiln_op_##name(void *r, const void *pa) {                                             \
    IN(in1, a, pa);                                                                         \
    kiln_trap_kind trap = KILN_TRAP_NONE;                                                   \
    OUT(out, r, impl);                                                                      \
    return (int)trap;                                                                       \
  }
#define OPS_K_BINARY(name, out, in1, in2, size, impl)                                       \
  void kiln_op_##name(void *r, const void *pa, const void *pb) {                            \
    IN(in1, a, pa);                                                                         \
    IN(in2, b, pb);                                                                         \
    OUT(out, r, impl);                                                                      \
  }
#define OPS_K_BINARY_TRAP(name, out, in1, in2, size, impl)                                  \
  int kiln_op_##name(void *r, const void *pa, const void *pb) {                             \
    IN(in1, a, pa);                                                                         \
    IN(in2, b, pb);                                                                         \
    kiln_trap_kind trap = KILN_TRAP_NONE;                                                   \
    OUT(out, r, impl);                                                                      \
    return (int)trap;                                                                       \
  }
#define OPS_K_TERNARY(name, out, in1, in2, size, impl)                                      \
  void kiln_op_##name(void *r, const void *pa, const void *pb, const void *pc) {            \
    IN(V128, a, pa);                                                                        \
    IN(V128, b, pb);                                                                        \
    IN(V128, c, pc);                                                                        \
    OUT(out, r, impl);                                                                      \
  }
/* Memory rows get the effective address p, already checked against the memory. */
#define OPS_K_LOAD(name, out, in1, in2, size, impl)                                         \
  void kiln_op_##name(void *r, uint8_t *p) { OUT(out, r, impl); }
#define OPS_K_STORE(name, out, in1, in2, size, impl)                                        \
  void kiln_op_##name(uint8_t *p, const void *pb) {                                         \
    IN(in2, b, pb);                                                                         \
    impl;                                                                                   \
  }
#define OPS_K_EXTRACT_LANE(name, out, in1, in2, size, impl)                                 \
  void kiln_op_##name(void *r, const void *pa, unsigned lane) {                             \
    IN(V128, a, pa);                                                                        \
    OUT(out, r, impl);                                                                      \
  }
#define OPS_K_REPLACE_LANE(name, out, in1, in2, size, impl)                                 \
  void kiln_op_##name(void *r, const void *pa, const void *pb, unsigned lane) {             \
    IN(V128, a, pa);                                                                        \
    IN(in2, b, pb);                                                                         \
    OUT(V128, r, impl);                                                                     \
  }
#define OPS_K_LOAD_LANE(name, out, in1, in2, size, impl)                                    \
  void kiln_op_##name(void *r, uint8_t *p, const void *pb, unsigned lane) {                 \
    IN(V128, b, pb);                                                                        \
    OUT(V128, r, impl);                                                                     \
  }
#define OPS_K_STORE_LANE(name, out, in1, in2, size, impl)                                   \
  void kiln_op_##name(uint8_t *p, const void *pb, unsigned lane) {                          \
    IN(V128, b, pb);                                                                        \
    impl;                                                                                   \
  }

#define OP(name, prefix, code, text, kind, out, in1, in2, size, impl) \
  OPS_##kind(name, out, in1, in2, size, impl)
#include "instr/opcodes.def"
#undef OP
