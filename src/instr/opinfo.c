/* opinfo.c - the facts of opcodes.def as data, for the decoder of instructions and validator. */
#include "iop.h"

#define NONE T_NONE
#define I32 T_I32
#define I64 T_I64
#define F32 T_F32
#define F64 T_F64
#define V128 T_V128

const op_info op_infos[IOP_copy64] = {
#define OP(name, prefix, code, text, kind, out, in1, in2, size, impl) \
  [IOP_##name] = {text, prefix, code, kind, out, in1, in2, size},
#include "opcodes.def"
#undef OP
};
