/* interp - a small register bytecode interpreter with switch dispatch running a program
 * (LCG updates, table loads and stores, data-dependent branches, a subroutine call) for
 * n loop iterations: unpredictable indirect branches, as in any interpreter. */
#define BENCH_N 22500000
#define BENCH_N_QUICK 2250000
#include "kernel.h"

enum {
  OP_HALT, OP_LOADI, OP_MOV, OP_ADD, OP_SUB, OP_MUL, OP_XOR, OP_AND, OP_OR, OP_SHL, OP_SHR,
  OP_ADDI, OP_MULI, OP_ANDI, OP_SHRI, OP_SHLI, OP_LOAD, OP_STORE, OP_JMP, OP_JZ, OP_JNZ,
  OP_JLT, OP_CALL, OP_RET,
};

#define CODE_MAX 256
static uint32_t code[CODE_MAX];
static uint32_t code_len;
static uint32_t mem[256];

static void emit(uint32_t op, uint32_t a, uint32_t b, uint32_t c) {
  code[code_len++] = op | a << 8 | b << 16 | c << 24;
}
static void emit_imm(uint32_t op, uint32_t a, uint32_t b, uint32_t imm) {
  emit(op, a, b, 0);
  code[code_len++] = imm;
}
/* a jump whose target is patched later: returns the slot of the target word */
static uint32_t emit_jump(uint32_t op, uint32_t a, uint32_t b) {
  emit(op, a, b, 0);
  code[code_len++] = 0;
  return code_len - 1;
}

/* r0 = n, r1 = i, r2 = x (LCG state), r3 = accumulator, r4..r7 temporaries */
static void assemble(void) {
  code_len = 0;
  emit_imm(OP_LOADI, 1, 0, 0);
  emit_imm(OP_LOADI, 2, 0, 12345);
  emit_imm(OP_LOADI, 3, 0, 0);
  uint32_t to_mix = emit_jump(OP_JMP, 0, 0); /* jump over the subroutine */
  uint32_t mix = code_len;                   /* subroutine: r3 = (r3 << 5 | r3 >> 27) + r4 */
  emit_imm(OP_SHLI, 6, 3, 5);
  emit_imm(OP_SHRI, 7, 3, 27);
  emit(OP_OR, 3, 6, 7);
  emit(OP_ADD, 3, 3, 4);
  emit(OP_RET, 0, 0, 0);
  code[to_mix] = code_len;
  uint32_t loop = code_len;
  emit_imm(OP_MULI, 2, 2, 1103515245u);
  emit_imm(OP_ADDI, 2, 2, 12345);
  emit_imm(OP_SHRI, 4, 2, 16);
  emit_imm(OP_ANDI, 4, 4, 255);
  emit(OP_LOAD, 5, 4, 0);
  emit(OP_ADD, 5, 5, 1);
  emit(OP_STORE, 5, 4, 0);
  emit_imm(OP_ANDI, 6, 2, 16);
  uint32_t to_else = emit_jump(OP_JZ, 6, 0);
  emit(OP_XOR, 3, 3, 2);
  uint32_t to_join = emit_jump(OP_JMP, 0, 0);
  code[to_else] = code_len;
  emit_imm(OP_SHRI, 7, 2, 3);
  emit(OP_SUB, 3, 3, 7);
  code[to_join] = code_len;
  emit_imm(OP_ANDI, 6, 2, 0x300);
  uint32_t to_skip = emit_jump(OP_JNZ, 6, 0);
  uint32_t call = emit_jump(OP_CALL, 0, 0);
  code[call] = mix;
  code[to_skip] = code_len;
  emit_imm(OP_ADDI, 1, 1, 1);
  uint32_t back = emit_jump(OP_JLT, 1, 0);
  code[back] = loop;
  /* fold the table into the accumulator */
  emit_imm(OP_LOADI, 1, 0, 0);
  emit_imm(OP_LOADI, 0, 0, 256);
  uint32_t fold = code_len;
  emit(OP_LOAD, 4, 1, 0);
  emit(OP_MUL, 3, 3, 4);
  emit(OP_XOR, 3, 3, 4);
  emit_imm(OP_ADDI, 1, 1, 1);
  back = emit_jump(OP_JLT, 1, 0);
  code[back] = fold;
  emit(OP_HALT, 3, 0, 0);
}

static uint32_t execute(uint32_t n) {
  uint32_t r[8] = {n, 0, 0, 0, 0, 0, 0, 0};
  uint32_t stack[16];
  uint32_t pc = 0, sp = 0;
  for (;;) {
    uint32_t w = code[pc++];
    uint32_t a = w >> 8 & 7, b = w >> 16 & 7, c = w >> 24 & 7;
    switch (w & 255) {
    case OP_HALT: return r[a];
    case OP_LOADI: r[a] = code[pc++]; break;
    case OP_MOV: r[a] = r[b]; break;
    case OP_ADD: r[a] = r[b] + r[c]; break;
    case OP_SUB: r[a] = r[b] - r[c]; break;
    case OP_MUL: r[a] = r[b] * r[c]; break;
    case OP_XOR: r[a] = r[b] ^ r[c]; break;
    case OP_AND: r[a] = r[b] & r[c]; break;
    case OP_OR: r[a] = r[b] | r[c]; break;
    case OP_SHL: r[a] = r[b] << (r[c] & 31); break;
    case OP_SHR: r[a] = r[b] >> (r[c] & 31); break;
    case OP_ADDI: r[a] = r[b] + code[pc++]; break;
    case OP_MULI: r[a] = r[b] * code[pc++]; break;
    case OP_ANDI: r[a] = r[b] & code[pc++]; break;
    case OP_SHRI: r[a] = r[b] >> (code[pc++] & 31); break;
    case OP_SHLI: r[a] = r[b] << (code[pc++] & 31); break;
    case OP_LOAD: r[a] = mem[r[b] & 255]; break;
    case OP_STORE: mem[r[b] & 255] = r[a]; break;
    case OP_JMP: pc = code[pc]; break;
    case OP_JZ: pc = r[a] == 0 ? code[pc] : pc + 1; break;
    case OP_JNZ: pc = r[a] != 0 ? code[pc] : pc + 1; break;
    case OP_JLT: pc = r[a] < r[b] ? code[pc] : pc + 1; break;
    case OP_CALL: stack[sp++ & 15] = pc + 1; pc = code[pc]; break;
    case OP_RET: pc = stack[--sp & 15]; break;
    default: return 0xdeadbeefu;
    }
    pc &= CODE_MAX - 1;
  }
}

static uint32_t run(uint32_t n) {
  for (int i = 0; i < 256; i++) mem[i] = (uint32_t)i * 2654435761u;
  assemble();
  return execute(n);
}

KERNEL_MAIN(BENCH_N)
