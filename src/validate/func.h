/* func.h - validation of function bodies, one instruction at a time, for every backend.
 *
 * A backend (the interpreter's compile/, the LLVM tier) drives a func_validator over a body:
 * each func_validator_next() decodes one instruction, checks it against the operand and
 * control stacks of the spec's validation algorithm, and hands the backend the instruction
 * with its immediates decoded. The backend then keeps only what it needs (slots, SSA values)
 * and never checks types: everything it is given is valid.
 *
 * Unreachable code (after br, br_table, return, unreachable, up to the end of the block) is
 * validated too but reported with reachable == false: a backend emits nothing for it and only
 * follows the block structure (block, loop, if, else, end). */
#ifndef KILN_VALIDATE_FUNC_H
#define KILN_VALIDATE_FUNC_H

#include <stdbool.h>
#include <stdint.h>

#include "base/reader.h"
#include "decode/module.h"
#include "instr/iop.h"

/* The type of a value of the polymorphic stack of unreachable code. */
#define VT_UNKNOWN 0

/* Limits on one function: locals (declared and params) and operand stack depth. */
#define FUNC_MAX_LOCALS (1u << 20)
#define FUNC_MAX_STACK (1u << 20)

enum ctrl_kind { CTRL_BLOCK, CTRL_LOOP, CTRL_IF, CTRL_ELSE, CTRL_FUNC };

typedef struct func_ctrl {
  uint8_t kind;            /* CTRL_* */
  bool unreachable;        /* the rest of the block is unreachable: its stack is polymorphic */
  bool dead;               /* the block began in unreachable code: none of it runs */
  uint32_t nparams, nresults;
  const uint8_t *params, *results;
  uint32_t height;         /* operands below the block's params */
} func_ctrl;

/* One decoded, validated instruction. Only the fields its opcode has are set. */
typedef struct func_instr {
  int iop;                 /* the opcodes.def row (enum iop) */
  uint32_t offset;         /* byte offset of the opcode in the module */
  bool reachable;          /* false: in unreachable code, or in a dead block */
  /* local.*: local; global.*: global; call, ref.func: function; br, br_if: label depth;
   * table.get/set/size/grow/fill, call_indirect: table; table.init, elem.drop: element
   * segment; memory.init, data.drop: data segment; table.copy: destination table */
  uint32_t index;
  /* call_indirect: type index; table.init: table; table.copy: source table */
  uint32_t index2;
  uint8_t type;            /* local.*, global.*: its value type; select, drop: the operand's
                            * (VT_UNKNOWN when unreachable); ref.null: the reference type;
                            * global.set: VT_* of the global */
  uint32_t align;          /* memory instructions: log2 of the alignment hint */
  uint64_t mem_offset;     /* memory instructions: the static offset */
  uint8_t lane;            /* lane instructions */
  uint64_t imm[2];         /* constants' bits (v128: low, high); i8x16.shuffle: lane bytes */
  /* block, loop, if: the block type; else and end: the frame's (before it ends) */
  uint32_t nparams, nresults;
  const uint8_t *params, *results;
  /* br_table: target_count labels, then the default (valid until the next instruction) */
  uint32_t target_count;
  const uint32_t *targets;
  /* end: true when it ends the function */
  bool function_end;
} func_instr;

typedef struct func_validator {
  const module_decl *m;
  const bool *declared_refs;  /* per function: may be named by ref.func */
  kiln_error *err;
  kiln_status status;
  uint32_t func_index;
  const functype *type;
  reader r;
  size_t instr_offset;
  bool done;                  /* the function's final end was read */

  uint32_t local_count;       /* params then declared locals */
  uint8_t *local_types;

  uint8_t *stack;             /* operand types */
  uint32_t sp, stack_cap;
  func_ctrl *ctrls;
  uint32_t csp, ctrl_cap;
  uint32_t *targets;          /* br_table labels */
  uint32_t target_cap;
  uint32_t max_sp, max_csp;   /* the deepest operand and control stacks so far */
  uint64_t branch_values;     /* values carried by the branches so far (br_table: per target) */
} func_validator;

/* Start validating defined function `defined_index` of m. On failure (malformed locals, too
 * many locals, out of memory) returns the status with err filled; free the validator anyway. */
kiln_status func_validator_init(func_validator *v, const module_decl *m, const bool *declared_refs,
                                uint32_t defined_index, kiln_error *err);

/* Decode and validate the next instruction into *out. Returns KILN_OK, or KILN_ERR_MALFORMED /
 * KILN_ERR_INVALID / KILN_ERR_NOMEM with err naming the function and the byte offset. After the
 * function's final end, v->done is true (and trailing bytes were rejected). */
kiln_status func_validator_next(func_validator *v, func_instr *out);

/* Report a backend's own failure (a limit, out of memory) in the same "function, offset"
 * form as validation errors, at the current instruction. Returns status. */
kiln_status func_validator_fail(func_validator *v, kiln_status status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

void func_validator_free(func_validator *v);

/* Whether `in`, just returned by func_validator_next, is a loop where a running call can move
 * from the interpreter into native code (on-stack replacement, runtime/tierup.c): reachable,
 * without params, with nothing on the operand stack, so the locals are the whole state. The
 * interpreter and the compiler number these loops alike, 0, 1, ... in body order. */
static inline bool func_osr_loop(const func_validator *v, const func_instr *in) {
  return in->iop == IOP_loop && in->reachable && in->nparams == 0 && v->sp == 0;
}

/* What validating a whole body tells a backend before it translates it. */
typedef struct func_facts {
  uint32_t local_slots;       /* 8-byte slots of the declared locals (v128: 2), params excluded */
  uint32_t max_operands;      /* the deepest operand stack, in values */
  uint32_t max_depth;         /* the deepest block nesting, the function's own block included */
  uint32_t body_bytes;        /* the size of the body's code */
  uint64_t branch_values;     /* values the branches carry, summed (a backend copies them) */
} func_facts;

/* Validate defined function `defined_index` of m from start to end, with no backend: KILN_OK and
 * *facts, or the error func_validator_next would give. */
kiln_status func_validate(const module_decl *m, const bool *declared_refs, uint32_t defined_index,
                          func_facts *facts, kiln_error *err);

/* The label at `depth` (0: the innermost block) as the validator sees it. */
static inline const func_ctrl *func_validator_label(const func_validator *v, uint32_t depth) {
  return &v->ctrls[v->csp - 1 - depth];
}

/* The values a branch to this frame carries: a loop's params, any other block's results. */
static inline uint32_t func_ctrl_label_arity(const func_ctrl *f) {
  return f->kind == CTRL_LOOP ? f->nparams : f->nresults;
}
static inline const uint8_t *func_ctrl_label_types(const func_ctrl *f) {
  return f->kind == CTRL_LOOP ? f->params : f->results;
}

/* A printable name of a value type ("i32", "funcref", "unknown"). */
const char *valtype_name(uint8_t t);

#endif
