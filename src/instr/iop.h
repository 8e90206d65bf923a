/* iop.h - the interpreter's instruction set: one op per row of opcodes.def (generic rows
 * are executed as they are; special rows name hand-written handlers where one exists), plus
 * the internal ops the compiler lowers control flow and variables into. The operand layout
 * of each internal op is written next to it; cells are 64-bit, "slot" operands are byte
 * offsets from the frame pointer. */
#ifndef KILN_IOP_H
#define KILN_IOP_H

#include <stdint.h>

/* Kinds of opcodes.def rows. */
enum op_kind {
  K_SPECIAL, K_UNARY, K_UNARY_TRAP, K_BINARY, K_BINARY_TRAP, K_TERNARY, K_LOAD, K_STORE,
  K_EXTRACT_LANE, K_REPLACE_LANE, K_LOAD_LANE, K_STORE_LANE,
};

/* Operand types of opcodes.def rows. */
enum { T_NONE = 0, T_I32 = 0x7F, T_I64 = 0x7E, T_F32 = 0x7D, T_F64 = 0x7C, T_V128 = 0x7B };

enum iop {
#define OP(name, prefix, code, text, kind, out, in1, in2, size, impl) IOP_##name,
#include "opcodes.def"
#undef OP
  /* internal ops */
  IOP_copy64,        /* dst src */
  IOP_copy128,       /* dst src */
  IOP_const64,       /* dst imm */
  IOP_const128,      /* dst lo hi */
  IOP_jump,          /* target */
  IOP_jump_if,       /* cond target          (i32 cond != 0) */
  IOP_jump_unless,   /* cond target          (i32 cond == 0) */
  IOP_call_local,    /* compiled_func* argbase */
  IOP_call_import,   /* func_index argbase */
  IOP_loop_check,    /* poll interrupt and fuel:      fuel */
  IOP_loop_osr,      /* the same at a loop native code can be entered at (func_osr_loop):
                      *                               fuel ordinal */
  IOP_select128,     /* dst a b cond */
  IOP_global_get128, /* dst index */
  IOP_global_set128, /* index src */
  /* Specialised forms of generic rows, five per row in this order (only some rows have
   * handlers; see interp.c):
   *   _imm      binary op whose second operand is an immediate:  dst a imm
   *   _jnz/_jz  op with an i32 result fused with a branch taken when the result is non-zero
   *             / zero:                                          target a [b]
   *   _imm_jnz/_imm_jz  both:                                    target a imm */
#define OP(name, prefix, code, text, kind, out, in1, in2, size, impl) \
  IOP_##name##_imm, IOP_##name##_jnz, IOP_##name##_jz, IOP_##name##_imm_jnz, IOP_##name##_imm_jz,
#include "opcodes.def"
#undef OP
  IOP_COUNT
};

enum variant { V_IMM = 0, V_JNZ = 1, V_JZ = 2, V_IMM_JNZ = 3, V_IMM_JZ = 4 };

/* The iop of a specialised form of row `iop`. */
static inline int iop_variant(int iop, enum variant v) { return IOP_global_set128 + 1 + 5 * iop + (int)v; }

/* Static facts about each opcodes.def row, indexed by enum iop (< IOP_copy64). */
typedef struct op_info {
  const char *text;
  uint8_t prefix;
  uint32_t code;
  uint8_t kind;
  uint8_t out, in1, in2;
  uint8_t size;
} op_info;

extern const op_info op_infos[IOP_copy64];

#endif
