/* test_simd.c - the SIMD instruction table (instr/opcodes_simd.def) and its helpers (exec/simd.h).
 *
 *   1. the table: every 0xFD row of opcodes.def is counted, codes are unique and in the
 *      WebAssembly 2.0 set, names/text/kinds/types/sizes are consistent, and for every
 *      non-special row a function generated from the row (a, b, c, p, lane declared with the
 *      row's types, `res = impl`) compiles, has the declared result type and calls simd_<name>
 *      with exactly the signature the row's kind implies;
 *   2. hand-written edge cases for every instruction family;
 *   3. when the spec suite is present ($KILN_SHARED/spec/wasm-2.0/wast, ../shared/..., or the
 *      directory given as argv[1]), every assert_return of simd_*.wast whose function body is
 *      a single folded expression of SIMD rows, constants and local.get is evaluated through
 *      the generated row functions and compared with the expected value.
 *
 * Build: cc -std=c11 -Wall -Wextra -ffp-contract=off -Isrc tests/unit/test_simd.c -lm
 * (or via CMake: build/test_simd). The last line printed is "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L /* strdup, opendir */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/simd.h"

static int n_passed, n_failed;

static void report(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int ok, const char *fmt, ...) {
  if (ok) { n_passed++; return; }
  n_failed++;
  va_list ap;
  va_start(ap, fmt);
  fputs("FAIL: ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
}

/* ================================================================== the table */

enum kind {
  K_SPECIAL, K_UNARY, K_UNARY_TRAP, K_BINARY, K_BINARY_TRAP, K_TERNARY, K_LOAD, K_STORE,
  K_EXTRACT_LANE, K_REPLACE_LANE, K_LOAD_LANE, K_STORE_LANE
};
enum vtype { NONE, I32, I64, F32, F64, V128 };
static const char *const type_names[] = {"none", "i32", "i64", "f32", "f64", "v128"};

/* a value of any row type; member names match the row type tokens */
typedef union val { uint32_t I32; uint64_t I64; float F32; double F64; v128 V128; } val;

#define T_I32 uint32_t
#define T_I64 uint64_t
#define T_F32 float
#define T_F64 double
#define T_V128 v128
#define HAS_TYPE(e, T) _Generic((e), T: 1, default: 0)

/* memory for the memory kinds: p = g_base + args[0].I32 */
static uint8_t g_mem[64];
static uint8_t *g_base = g_mem;

/* gen_<name>(args, lane, res): the row's impl evaluated with a, b, c, p, lane of the row's
 * declared types. Returns bit 0: impl has the declared result type; bit 1: simd_<name> has
 * the signature the kind implies. */
typedef int (*gen_fn)(const val *args, uint32_t lane, val *res);

#define GEN_K_SPECIAL(name, out, in1, in2, impl)
#define GEN_K_UNARY(name, out, in1, in2, impl) \
  static int gen_##name(const val *args, uint32_t lane, val *res) { \
    T_##in1 a = args[0].in1; (void)lane; \
    res->out = impl; \
    return HAS_TYPE(impl, T_##out) | HAS_TYPE(&simd_##name, T_##out (*)(T_##in1)) << 1; \
  }
#define GEN_K_BINARY(name, out, in1, in2, impl) \
  static int gen_##name(const val *args, uint32_t lane, val *res) { \
    T_##in1 a = args[0].in1; T_##in2 b = args[1].in2; (void)lane; \
    res->out = impl; \
    return HAS_TYPE(impl, T_##out) | \
           HAS_TYPE(&simd_##name, T_##out (*)(T_##in1, T_##in2)) << 1; \
  }
#define GEN_K_TERNARY(name, out, in1, in2, impl) \
  static int gen_##name(const val *args, uint32_t lane, val *res) { \
    T_##in1 a = args[0].in1; T_##in2 b = args[1].in2; v128 c = args[2].V128; (void)lane; \
    res->out = impl; \
    return HAS_TYPE(impl, T_##out) | \
           HAS_TYPE(&simd_##name, T_##out (*)(T_##in1, T_##in2, v128)) << 1; \
  }
#define GEN_K_LOAD(name, out, in1, in2, impl) \
  static int gen_##name(const val *args, uint32_t lane, val *res) { \
    uint8_t *p = g_base + args[0].in1; (void)lane; \
    res->out = impl; \
    return HAS_TYPE(impl, T_##out) | HAS_TYPE(&simd_##name, T_##out (*)(const uint8_t *)) << 1; \
  }
#define GEN_K_STORE(name, out, in1, in2, impl) \
  static int gen_##name(const val *args, uint32_t lane, val *res) { \
    uint8_t *p = g_base + args[0].in1; T_##in2 b = args[1].in2; (void)lane; (void)res; \
    impl; \
    return 1 | HAS_TYPE(&simd_##name, void (*)(uint8_t *, T_##in2)) << 1; \
  }
#define GEN_K_EXTRACT_LANE(name, out, in1, in2, impl) \
  static int gen_##name(const val *args, uint32_t lane, val *res) { \
    T_##in1 a = args[0].in1; \
    res->out = impl; \
    return HAS_TYPE(impl, T_##out) | HAS_TYPE(&simd_##name, T_##out (*)(T_##in1, uint32_t)) << 1; \
  }
#define GEN_K_REPLACE_LANE(name, out, in1, in2, impl) \
  static int gen_##name(const val *args, uint32_t lane, val *res) { \
    T_##in1 a = args[0].in1; T_##in2 b = args[1].in2; \
    res->out = impl; \
    return HAS_TYPE(impl, T_##out) | \
           HAS_TYPE(&simd_##name, T_##out (*)(T_##in1, uint32_t, T_##in2)) << 1; \
  }
#define GEN_K_LOAD_LANE(name, out, in1, in2, impl) \
  static int gen_##name(const val *args, uint32_t lane, val *res) { \
    uint8_t *p = g_base + args[0].in1; T_##in2 b = args[1].in2; \
    res->out = impl; \
    return HAS_TYPE(impl, T_##out) | \
           HAS_TYPE(&simd_##name, T_##out (*)(const uint8_t *, T_##in2, uint32_t)) << 1; \
  }
#define GEN_K_STORE_LANE(name, out, in1, in2, impl) \
  static int gen_##name(const val *args, uint32_t lane, val *res) { \
    uint8_t *p = g_base + args[0].in1; T_##in2 b = args[1].in2; (void)res; \
    impl; \
    return 1 | HAS_TYPE(&simd_##name, void (*)(uint8_t *, T_##in2, uint32_t)) << 1; \
  }

#define OP(name, prefix, code, text, kind, out, in1, in2, size, impl) \
  GEN_##kind(name, out, in1, in2, impl)
#include "instr/opcodes_simd.def"
#undef OP

#define GENPTR_K_SPECIAL(name) NULL
#define GENPTR_K_UNARY(name) gen_##name
#define GENPTR_K_BINARY(name) gen_##name
#define GENPTR_K_TERNARY(name) gen_##name
#define GENPTR_K_LOAD(name) gen_##name
#define GENPTR_K_STORE(name) gen_##name
#define GENPTR_K_EXTRACT_LANE(name) gen_##name
#define GENPTR_K_REPLACE_LANE(name) gen_##name
#define GENPTR_K_LOAD_LANE(name) gen_##name
#define GENPTR_K_STORE_LANE(name) gen_##name

struct row {
  const char *name, *text;
  unsigned prefix, code;
  int kind, out, in1, in2, size;
  const char *impl;
  gen_fn gen;
};

/* the SIMD rows, with their generated functions */
static const struct row simd_rows[] = {
#define OP(name, prefix, code, text, kind, out, in1, in2, size, impl) \
  {#name, text, prefix, code, kind, out, in1, in2, size, #impl, GENPTR_##kind(name)},
#include "instr/opcodes_simd.def"
#undef OP
};
#define N_SIMD_ROWS ((int)(sizeof simd_rows / sizeof simd_rows[0]))

/* the whole instruction table, as the rest of kiln sees it (data only) */
static const struct row all_rows[] = {
#define OP(name, prefix, code, text, kind, out, in1, in2, size, impl) \
  {#name, text, prefix, code, kind, out, in1, in2, size, #impl, NULL},
#include "instr/opcodes.def"
#undef OP
};
#define N_ALL_ROWS ((int)(sizeof all_rows / sizeof all_rows[0]))

static const struct row *find_row(const char *text, size_t len) {
  for (int i = 0; i < N_SIMD_ROWS; i++)
    if (strlen(simd_rows[i].text) == len && memcmp(simd_rows[i].text, text, len) == 0)
      return &simd_rows[i];
  return NULL;
}

static int shape_lanes(const char *text) {
  if (!strncmp(text, "i8x16.", 6)) return 16;
  if (!strncmp(text, "i16x8.", 6)) return 8;
  if (!strncmp(text, "i32x4.", 6) || !strncmp(text, "f32x4.", 6)) return 4;
  if (!strncmp(text, "i64x2.", 6) || !strncmp(text, "f64x2.", 6)) return 2;
  return 0;
}
static int shape_scalar(const char *text) {
  if (text[0] == 'i') return text[1] == '6' ? I64 : I32;
  if (text[0] == 'f') return text[1] == '3' ? F32 : F64;
  return NONE;
}

static void test_table(void) {
  /* the 0xFD rows of opcodes.def are exactly opcodes_simd.def, in order */
  int n = 0;
  for (int i = 0; i < N_ALL_ROWS; i++) {
    if (all_rows[i].prefix != 0xFD) continue;
    report(n < N_SIMD_ROWS && !strcmp(all_rows[i].name, simd_rows[n].name),
           "opcodes.def 0xFD row %d (%s) is not opcodes_simd.def row %d", i, all_rows[i].name, n);
    n++;
  }
  report(n == 236, "opcodes.def has %d rows with prefix 0xFD, expected 236", n);
  report(N_SIMD_ROWS == 236, "opcodes_simd.def has %d rows, expected 236", N_SIMD_ROWS);

  /* the sub-opcodes: 0..255 except the 20 unassigned ones, each once */
  static const unsigned unassigned[] = {154, 162, 165, 166, 175, 176, 178, 179, 180, 187,
                                        194, 197, 198, 207, 208, 210, 211, 212, 226, 238};
  int seen[256] = {0};
  for (int i = 0; i < N_SIMD_ROWS; i++) {
    const struct row *r = &simd_rows[i];
    report(r->prefix == 0xFD, "%s: prefix 0x%X", r->name, r->prefix);
    report(r->code < 256, "%s: code %u out of range", r->name, r->code);
    if (r->code < 256) seen[r->code]++;
    int dup = 0;
    for (int j = 0; j < i; j++)
      dup |= !strcmp(simd_rows[j].name, r->name) || !strcmp(simd_rows[j].text, r->text);
    report(!dup, "%s (%s): duplicate name or text", r->name, r->text);
  }
  for (unsigned c = 0; c < 256; c++) {
    int reserved = 0;
    for (size_t j = 0; j < sizeof unassigned / sizeof unassigned[0]; j++)
      reserved |= unassigned[j] == c;
    report(seen[c] == (reserved ? 0 : 1), "sub-opcode %u appears %d times", c, seen[c]);
  }

  /* spot checks against the binary format appendix */
  static const struct { const char *text; unsigned code; } spot[] = {
      {"v128.load", 0}, {"v128.load64_splat", 10}, {"v128.store", 11}, {"v128.const", 12},
      {"i8x16.shuffle", 13}, {"i8x16.swizzle", 14}, {"f64x2.splat", 20},
      {"i8x16.extract_lane_s", 21}, {"f64x2.replace_lane", 34}, {"i8x16.eq", 35},
      {"f64x2.ge", 76}, {"v128.not", 77}, {"v128.bitselect", 82}, {"v128.any_true", 83},
      {"v128.load8_lane", 84}, {"v128.store64_lane", 91}, {"v128.load32_zero", 92},
      {"v128.load64_zero", 93}, {"f32x4.demote_f64x2_zero", 94}, {"f64x2.promote_low_f32x4", 95},
      {"i8x16.popcnt", 98}, {"f32x4.nearest", 106}, {"i8x16.add", 110}, {"f64x2.ceil", 116},
      {"f64x2.trunc", 122}, {"i8x16.avgr_u", 123}, {"i16x8.extadd_pairwise_i8x16_s", 124},
      {"i16x8.q15mulr_sat_s", 130}, {"f64x2.nearest", 148}, {"i16x8.avgr_u", 155},
      {"i32x4.dot_i16x8_s", 186}, {"i64x2.eq", 214}, {"i64x2.ge_s", 219},
      {"i64x2.extmul_high_i32x4_u", 223}, {"f32x4.pmax", 235}, {"f64x2.pmax", 247},
      {"i32x4.trunc_sat_f32x4_s", 248}, {"i32x4.trunc_sat_f64x2_u_zero", 253},
      {"f64x2.convert_low_i32x4_u", 255},
  };
  for (size_t i = 0; i < sizeof spot / sizeof spot[0]; i++) {
    const struct row *r = find_row(spot[i].text, strlen(spot[i].text));
    report(r && r->code == spot[i].code, "%s: code %d, expected %u", spot[i].text,
           r ? (int)r->code : -1, spot[i].code);
  }

  /* per-row consistency */
  for (int i = 0; i < N_SIMD_ROWS; i++) {
    const struct row *r = &simd_rows[i];
    char want[96];
    size_t k;
    for (k = 0; r->text[k] && k < sizeof want - 1; k++) want[k] = r->text[k] == '.' ? '_' : r->text[k];
    want[k] = 0;
    report(!strcmp(want, r->name), "%s: name does not match text %s", r->name, r->text);

    if (r->kind == K_SPECIAL) {
      report(!strcmp(r->name, "v128_const") || !strcmp(r->name, "i8x16_shuffle"),
             "%s: unexpected K_SPECIAL", r->name);
      report(!strcmp(r->impl, "0"), "%s: K_SPECIAL impl is not 0", r->name);
      continue;
    }
    /* impl is simd_<name>(<the kind's operands>) */
    static const char *const operands[] = {
        [K_UNARY] = "(a)", [K_BINARY] = "(a, b)", [K_TERNARY] = "(a, b, c)", [K_LOAD] = "(p)",
        [K_STORE] = "(p, b)", [K_EXTRACT_LANE] = "(a, lane)", [K_REPLACE_LANE] = "(a, lane, b)",
        [K_LOAD_LANE] = "(p, b, lane)", [K_STORE_LANE] = "(p, b, lane)"};
    char impl[128];
    snprintf(impl, sizeof impl, "simd_%s%s", r->name,
             r->kind < (int)(sizeof operands / sizeof operands[0]) && operands[r->kind]
                 ? operands[r->kind] : "?");
    report(!strcmp(impl, r->impl), "%s: impl is `%s`, expected `%s`", r->name, r->impl, impl);

    /* types and sizes by kind */
    const char *op = strchr(r->text, '.') + 1;
    int lanes = shape_lanes(r->text), scalar = shape_scalar(r->text);
    int ok = 1, size_ok = 1;
    switch (r->kind) {
      case K_LOAD: {
        ok = r->out == V128 && r->in1 == I32 && r->in2 == NONE;
        int bits = 0;
        if (!strcmp(op, "load")) size_ok = r->size == 16;
        else if (strchr(op, 'x')) size_ok = r->size == 8;
        else if (sscanf(op, "load%d_", &bits) == 1) size_ok = r->size == bits / 8;
        else size_ok = 0;
        break;
      }
      case K_STORE: ok = r->out == NONE && r->in1 == I32 && r->in2 == V128; size_ok = r->size == 16; break;
      case K_LOAD_LANE:
      case K_STORE_LANE: {
        int bits = 0;
        ok = r->out == (r->kind == K_LOAD_LANE ? V128 : NONE) && r->in1 == I32 && r->in2 == V128;
        size_ok = (sscanf(op, "load%d_lane", &bits) == 1 || sscanf(op, "store%d_lane", &bits) == 1) &&
                  r->size == bits / 8;
        break;
      }
      case K_EXTRACT_LANE:
        ok = r->out == scalar && r->in1 == V128 && r->in2 == NONE;
        size_ok = r->size == lanes;
        break;
      case K_REPLACE_LANE:
        ok = r->out == V128 && r->in1 == V128 && r->in2 == scalar;
        size_ok = r->size == lanes;
        break;
      case K_TERNARY: ok = r->out == V128 && r->in1 == V128 && r->in2 == V128; size_ok = !r->size; break;
      case K_UNARY:
        size_ok = !r->size;
        if (!strcmp(op, "splat")) ok = r->out == V128 && r->in1 == scalar;
        else if (!strcmp(op, "any_true") || !strcmp(op, "all_true") || !strcmp(op, "bitmask"))
          ok = r->out == I32 && r->in1 == V128;
        else ok = r->out == V128 && r->in1 == V128;
        ok = ok && r->in2 == NONE;
        break;
      case K_BINARY:
        size_ok = !r->size;
        ok = r->out == V128 && r->in1 == V128 &&
             r->in2 == (!strcmp(op, "shl") || !strncmp(op, "shr_", 4) ? I32 : V128);
        break;
      default: ok = 0; break;
    }
    report(ok, "%s: types %s %s %s do not fit its kind", r->name, type_names[r->out],
           type_names[r->in1], type_names[r->in2]);
    report(size_ok, "%s: size %d", r->name, r->size);

    /* the generated function: types, signature, and one run on zeros */
    val args[3], res;
    memset(args, 0, sizeof args);
    memset(g_mem, 0, sizeof g_mem);
    uint32_t lane = r->kind == K_EXTRACT_LANE || r->kind == K_REPLACE_LANE ? (uint32_t)r->size - 1
                    : r->kind == K_LOAD_LANE || r->kind == K_STORE_LANE ? 16u / (uint32_t)r->size - 1
                                                                          : 0;
    report(r->gen != NULL, "%s: no generated function", r->name);
    if (!r->gen) continue;
    int bits = r->gen(args, lane, &res);
    report(bits & 1, "%s: impl does not have the declared result type %s", r->name,
           type_names[r->out]);
    report(bits & 2, "%s: simd_%s does not have the signature its kind and types imply", r->name,
           r->name);
  }
}

/* ================================================================== hand-written cases */

static v128 mk8(const int64_t v[16]) { v128 r; for (int i = 0; i < 16; i++) r.u8[i] = (uint8_t)v[i]; return r; }
static v128 mk16(const int64_t v[8]) { v128 r; for (int i = 0; i < 8; i++) r.u16[i] = (uint16_t)v[i]; return r; }
static v128 mk32(const int64_t v[4]) { v128 r; for (int i = 0; i < 4; i++) r.u32[i] = (uint32_t)v[i]; return r; }
static v128 mk64(const int64_t v[2]) { v128 r; for (int i = 0; i < 2; i++) r.u64[i] = (uint64_t)v[i]; return r; }
static v128 mkf32(const float v[4]) { v128 r; for (int i = 0; i < 4; i++) r.f32[i] = v[i]; return r; }
static v128 mkf64(const double v[2]) { v128 r; for (int i = 0; i < 2; i++) r.f64[i] = v[i]; return r; }
#define V8(...) mk8((const int64_t[16]){__VA_ARGS__})
#define V16(...) mk16((const int64_t[8]){__VA_ARGS__})
#define V32(...) mk32((const int64_t[4]){__VA_ARGS__})
#define V64(...) mk64((const int64_t[2]){__VA_ARGS__})
#define VF32(...) mkf32((const float[4]){__VA_ARGS__})
#define VF64(...) mkf64((const double[2]){__VA_ARGS__})

static float f32b(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static double f64b(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }
static uint32_t bf32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static uint64_t bf64(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }

static void hex(char *buf, v128 v) {
  for (int i = 0; i < 16; i++) sprintf(buf + 3 * i, "%02x ", v.u8[i]);
  buf[47] = 0;
}

/* exact bytes */
static void eqv(const char *what, v128 got, v128 want) {
  char g[64], w[64];
  hex(g, got);
  hex(w, want);
  report(!memcmp(got.u8, want.u8, 16), "%s: got %s, want %s", what, g, w);
}
/* float lanes: a NaN in want means "any NaN"; everything else bit-exact (so -0 != +0) */
static void eqf32(const char *what, v128 got, v128 want) {
  int ok = 1;
  for (int i = 0; i < 4; i++)
    ok &= isnan(want.f32[i]) ? isnan(got.f32[i]) : got.u32[i] == want.u32[i];
  report(ok, "%s: got %a %a %a %a, want %a %a %a %a", what, got.f32[0], got.f32[1], got.f32[2],
         got.f32[3], want.f32[0], want.f32[1], want.f32[2], want.f32[3]);
}
static void eqf64(const char *what, v128 got, v128 want) {
  int ok = 1;
  for (int i = 0; i < 2; i++)
    ok &= isnan(want.f64[i]) ? isnan(got.f64[i]) : got.u64[i] == want.u64[i];
  report(ok, "%s: got %a %a, want %a %a", what, got.f64[0], got.f64[1], want.f64[0], want.f64[1]);
}
static void equ(const char *what, uint64_t got, uint64_t want) {
  report(got == want, "%s: got 0x%llx, want 0x%llx", what, (unsigned long long)got,
         (unsigned long long)want);
}

static const v128 ZERO = {{0}};

static void test_integer(void) {
  /* wrapping */
  eqv("i8x16.add wraps", simd_i8x16_add(V8(127, -128, 255, 1), V8(1, -1, 1, 255)), V8(-128, 127, 0, 0));
  eqv("i16x8.sub wraps", simd_i16x8_sub(V16(0, -32768), V16(1, 1)), V16(0xFFFF, 32767));
  eqv("i16x8.mul wraps", simd_i16x8_mul(V16(0xFFFF, 0x8000, 300), V16(0xFFFF, 2, 300)), V16(1, 0, 90000 & 0xFFFF));
  eqv("i32x4.mul wraps", simd_i32x4_mul(V32(0x10000, -1, 0x7FFFFFFF), V32(0x10000, -1, 2)), V32(0, 1, -2));
  eqv("i64x2.add wraps", simd_i64x2_add(V64(INT64_MAX, -1), V64(1, 1)), V64(INT64_MIN, 0));
  eqv("i64x2.mul wraps", simd_i64x2_mul(V64(INT64_MIN, 0x100000001), V64(-1, 0x100000001)), V64(INT64_MIN, 0x200000001));
  eqv("i8x16.neg -128", simd_i8x16_neg(V8(-128, 1, 0, 127)), V8(-128, -1, 0, -127));
  eqv("i64x2.neg min", simd_i64x2_neg(V64(INT64_MIN, 5)), V64(INT64_MIN, -5));

  /* abs: abs(MIN) = MIN */
  eqv("i8x16.abs", simd_i8x16_abs(V8(-128, -127, -1, 0, 1, 127)), V8(-128, 127, 1, 0, 1, 127));
  eqv("i16x8.abs", simd_i16x8_abs(V16(-32768, -32767, -1, 0, 32767)), V16(-32768, 32767, 1, 0, 32767));
  eqv("i32x4.abs", simd_i32x4_abs(V32(INT32_MIN, -5, 5, 0)), V32(INT32_MIN, 5, 5, 0));
  eqv("i64x2.abs", simd_i64x2_abs(V64(INT64_MIN, -7)), V64(INT64_MIN, 7));

  /* saturation bounds */
  eqv("i8x16.add_sat_s", simd_i8x16_add_sat_s(V8(127, -128, 100, -100, 1), V8(1, -1, 27, -28, -1)),
      V8(127, -128, 127, -128, 0));
  eqv("i8x16.add_sat_u", simd_i8x16_add_sat_u(V8(255, 128, 254, 0), V8(1, 128, 1, 0)), V8(255, 255, 255, 0));
  eqv("i8x16.sub_sat_s", simd_i8x16_sub_sat_s(V8(-128, 127, 0, -1), V8(1, -1, -128, 127)),
      V8(-128, 127, 127, -128));
  eqv("i8x16.sub_sat_u", simd_i8x16_sub_sat_u(V8(0, 1, 255, 128), V8(1, 2, 1, 255)), V8(0, 0, 254, 0));
  eqv("i16x8.add_sat_s", simd_i16x8_add_sat_s(V16(32767, -32768, -32768), V16(1, -1, 32767)),
      V16(32767, -32768, -1));
  eqv("i16x8.add_sat_u", simd_i16x8_add_sat_u(V16(65535, 32768, 1), V16(1, 32768, 1)), V16(65535, 65535, 2));
  eqv("i16x8.sub_sat_s", simd_i16x8_sub_sat_s(V16(-32768, 32767, -2), V16(32767, -1, -32768)),
      V16(-32768, 32767, 32766));
  eqv("i16x8.sub_sat_u", simd_i16x8_sub_sat_u(V16(0, 65535, 5), V16(65535, 0, 6)), V16(0, 65535, 0));

  /* min/max signed vs unsigned */
  eqv("i8x16.min_s", simd_i8x16_min_s(V8(-1, 127, -128), V8(1, -128, 127)), V8(-1, -128, -128));
  eqv("i8x16.min_u", simd_i8x16_min_u(V8(-1, 127, -128), V8(1, -128, 127)), V8(1, 127, 127));
  eqv("i8x16.max_s", simd_i8x16_max_s(V8(-1, 127, -128), V8(1, -128, 127)), V8(1, 127, 127));
  eqv("i8x16.max_u", simd_i8x16_max_u(V8(-1, 127, -128), V8(1, -128, 127)), V8(-1, -128, -128));
  eqv("i16x8.min_u", simd_i16x8_min_u(V16(-1, 0x8000), V16(1, 0x7FFF)), V16(1, 0x7FFF));
  eqv("i32x4.max_s", simd_i32x4_max_s(V32(INT32_MIN, -1, 3, 0), V32(1, 0, -3, 0)), V32(1, 0, 3, 0));
  eqv("i32x4.min_u", simd_i32x4_min_u(V32(INT32_MIN, -1, 3, 0), V32(1, 0, -3, 0)), V32(1, 0, 3, 0));

  /* rounding average */
  eqv("i8x16.avgr_u", simd_i8x16_avgr_u(V8(255, 0, 1, 0, 254), V8(255, 1, 2, 0, 255)), V8(255, 1, 2, 0, 255));
  eqv("i16x8.avgr_u", simd_i16x8_avgr_u(V16(65535, 65534, 0, 3), V16(65535, 65535, 1, 4)),
      V16(65535, 65535, 1, 4));

  /* shifts: count modulo lane width, arithmetic vs logical */
  eqv("i8x16.shl 9", simd_i8x16_shl(V8(0x81, 1, 0x40), 9), V8(2, 2, 0x80));
  eqv("i8x16.shr_s 7", simd_i8x16_shr_s(V8(-128, 127, -1), 7), V8(-1, 0, -1));
  eqv("i8x16.shr_u 7", simd_i8x16_shr_u(V8(-128, 127, -1), 7), V8(1, 0, 1));
  eqv("i8x16.shr_s 8", simd_i8x16_shr_s(V8(-128, 5), 8), V8(-128, 5));
  eqv("i16x8.shl 17", simd_i16x8_shl(V16(0x8001, 1), 17), V16(2, 2));
  eqv("i16x8.shr_s 15", simd_i16x8_shr_s(V16(-32768, 32767), 15), V16(-1, 0));
  eqv("i32x4.shr_u 33", simd_i32x4_shr_u(V32(INT32_MIN, -1, 4, 1), 33), V32(0x40000000, 0x7FFFFFFF, 2, 0));
  eqv("i32x4.shr_s 0xFFFFFFFF", simd_i32x4_shr_s(V32(INT32_MIN, 4), 0xFFFFFFFFu), V32(-1, 0));
  eqv("i64x2.shl 64", simd_i64x2_shl(V64(3, INT64_MIN), 64), V64(3, INT64_MIN));
  eqv("i64x2.shr_s 65", simd_i64x2_shr_s(V64(INT64_MIN, 6), 65), V64(INT64_MIN / 2, 3));
  eqv("i64x2.shr_u 63", simd_i64x2_shr_u(V64(INT64_MIN, -1), 63), V64(1, 1));

  /* popcnt */
  eqv("i8x16.popcnt", simd_i8x16_popcnt(V8(0, 0xFF, 0x55, 0x80, 0x7F, 1)), V8(0, 8, 4, 1, 7, 1));

  /* comparisons: all-ones / all-zeros, signed vs unsigned */
  eqv("i8x16.lt_s", simd_i8x16_lt_s(V8(-128, 0, 5), V8(0, -128, 5)), V8(-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
  eqv("i8x16.lt_u", simd_i8x16_lt_u(V8(-128, 0, 5), V8(0, -128, 5)), V8(0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
  eqv("i8x16.ge_u", simd_i8x16_ge_u(V8(-128, 0, 5), V8(0, -128, 5)), V8(-1, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  eqv("i16x8.gt_s", simd_i16x8_gt_s(V16(0x7FFF, 0x8000), V16(0x8000, 0x7FFF)), V16(-1, 0));
  eqv("i16x8.le_u", simd_i16x8_le_u(V16(0x7FFF, 0x8000), V16(0x8000, 0x7FFF)), V16(-1, 0, -1, -1, -1, -1, -1, -1));
  eqv("i32x4.ne", simd_i32x4_ne(V32(1, 2, 3, 4), V32(1, 0, 3, 0)), V32(0, -1, 0, -1));
  eqv("i32x4.gt_u", simd_i32x4_gt_u(V32(-1, 1), V32(1, -1)), V32(-1, 0));
  eqv("i64x2.lt_s", simd_i64x2_lt_s(V64(INT64_MIN, 0), V64(0, INT64_MIN)), V64(-1, 0));
  eqv("i64x2.ge_s", simd_i64x2_ge_s(V64(INT64_MIN, 0), V64(INT64_MIN, -1)), V64(-1, -1));
  eqv("i64x2.eq", simd_i64x2_eq(V64(5, 0x100000000), V64(5, 0)), V64(-1, 0));

  /* narrow with saturation (a low, b high) */
  v128 n16 = V16(-32768, -129, -128, 127, 128, 255, 256, 32767);
  eqv("i8x16.narrow_i16x8_s", simd_i8x16_narrow_i16x8_s(n16, V16(0, -1, 1)),
      V8(-128, -128, -128, 127, 127, 127, 127, 127, 0, -1, 1, 0, 0, 0, 0, 0));
  eqv("i8x16.narrow_i16x8_u", simd_i8x16_narrow_i16x8_u(n16, V16(0, -1, 1)),
      V8(0, 0, 0, 127, 128, 255, 255, 255, 0, 0, 1, 0, 0, 0, 0, 0));
  v128 n32 = V32(INT32_MIN, -32769, 32768, 65536);
  eqv("i16x8.narrow_i32x4_s", simd_i16x8_narrow_i32x4_s(n32, V32(-32768, 32767, -1, 65535)),
      V16(-32768, -32768, 32767, 32767, -32768, 32767, -1, 32767));
  eqv("i16x8.narrow_i32x4_u", simd_i16x8_narrow_i32x4_u(n32, V32(-32768, 32767, -1, 65535)),
      V16(0, 0, 32768, 65535, 0, 32767, 0, 65535));

  /* extend */
  v128 e8 = V8(-1, -128, 127, 0, 1, 2, 3, 4, 0x80, 0xFF, 5, 6, 7, 8, 9, 10);
  eqv("i16x8.extend_low_i8x16_s", simd_i16x8_extend_low_i8x16_s(e8), V16(-1, -128, 127, 0, 1, 2, 3, 4));
  eqv("i16x8.extend_low_i8x16_u", simd_i16x8_extend_low_i8x16_u(e8), V16(255, 128, 127, 0, 1, 2, 3, 4));
  eqv("i16x8.extend_high_i8x16_s", simd_i16x8_extend_high_i8x16_s(e8), V16(-128, -1, 5, 6, 7, 8, 9, 10));
  eqv("i16x8.extend_high_i8x16_u", simd_i16x8_extend_high_i8x16_u(e8), V16(128, 255, 5, 6, 7, 8, 9, 10));
  eqv("i32x4.extend_high_i16x8_s", simd_i32x4_extend_high_i16x8_s(V16(0, 0, 0, 0, -32768, -1, 1, 32767)),
      V32(-32768, -1, 1, 32767));
  eqv("i32x4.extend_low_i16x8_u", simd_i32x4_extend_low_i16x8_u(V16(-32768, -1, 1, 32767)),
      V32(32768, 65535, 1, 32767));
  eqv("i64x2.extend_low_i32x4_s", simd_i64x2_extend_low_i32x4_s(V32(INT32_MIN, -1, 7, 7)), V64(INT32_MIN, -1));
  eqv("i64x2.extend_high_i32x4_u", simd_i64x2_extend_high_i32x4_u(V32(7, 7, INT32_MIN, -1)),
      V64(0x80000000, 0xFFFFFFFF));

  /* extmul: signed extremes */
  eqv("i16x8.extmul_low_i8x16_s",
      simd_i16x8_extmul_low_i8x16_s(V8(-128, -128, 127, -1, 0, 0, 0, 0, 9), V8(-128, 127, 127, -1, 0, 0, 0, 0, 9)),
      V16(16384, -16256, 16129, 1));
  eqv("i16x8.extmul_high_i8x16_u",
      simd_i16x8_extmul_high_i8x16_u(V8(0, 0, 0, 0, 0, 0, 0, 0, 255, 128), V8(0, 0, 0, 0, 0, 0, 0, 0, 255, 2)),
      V16(65025, 256));
  eqv("i32x4.extmul_low_i16x8_s", simd_i32x4_extmul_low_i16x8_s(V16(-32768, -32768, 32767), V16(-32768, 32767, 32767)),
      V32(0x40000000, -1073709056, 1073676289, 0));
  eqv("i32x4.extmul_high_i16x8_u",
      simd_i32x4_extmul_high_i16x8_u(V16(0, 0, 0, 0, 65535, 2), V16(0, 0, 0, 0, 65535, 3)),
      V32(0xFFFE0001, 6, 0, 0));
  eqv("i64x2.extmul_low_i32x4_s", simd_i64x2_extmul_low_i32x4_s(V32(INT32_MIN, INT32_MIN), V32(INT32_MIN, INT32_MAX)),
      V64(0x4000000000000000, -0x3FFFFFFF80000000));
  eqv("i64x2.extmul_high_i32x4_u", simd_i64x2_extmul_high_i32x4_u(V32(0, 0, -1, 2), V32(0, 0, -1, 3)),
      V64(-0x1FFFFFFFF, 6));

  /* extadd_pairwise */
  eqv("i16x8.extadd_pairwise_i8x16_s", simd_i16x8_extadd_pairwise_i8x16_s(V8(-128, -128, 127, 127, -1, 1)),
      V16(-256, 254, 0));
  eqv("i16x8.extadd_pairwise_i8x16_u", simd_i16x8_extadd_pairwise_i8x16_u(V8(255, 255, 128, 1)), V16(510, 129));
  eqv("i32x4.extadd_pairwise_i16x8_s", simd_i32x4_extadd_pairwise_i16x8_s(V16(-32768, -32768, 32767, 32767)),
      V32(-65536, 65534));
  eqv("i32x4.extadd_pairwise_i16x8_u", simd_i32x4_extadd_pairwise_i16x8_u(V16(65535, 65535, 1, 0)),
      V32(131070, 1));

  /* q15mulr_sat_s: 0x8000 * 0x8000 is the only saturating case; rounding is +0x4000 then >> 15 */
  eqv("i16x8.q15mulr_sat_s",
      simd_i16x8_q15mulr_sat_s(V16(-32768, -32768, 32767, 16383, -16384, 1, -1, 3),
                               V16(-32768, 32767, 32767, 16384, -16384, 16384, 16384, 16384)),
      V16(32767, -32767, 32766, 8192, 8192, 1, 0, 2));

  /* dot: -32768 * -32768 * 2 wraps to INT32_MIN (spec vector: -16384 * -16384 * 2 = 536870912) */
  eqv("i32x4.dot_i16x8_s",
      simd_i32x4_dot_i16x8_s(V16(-32768, -32768, -16384, -16384, 32767, 1, 3, -4),
                             V16(-32768, -32768, -16384, -16384, 1, 1, 5, 6)),
      V32(INT32_MIN, 536870912, 32768, -9));

  /* bitmask / all_true / any_true */
  equ("i8x16.bitmask", simd_i8x16_bitmask(V8(-1, 0, -128, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80)), 0x8005);
  equ("i16x8.bitmask", simd_i16x8_bitmask(V16(0x8000, 0x7FFF, 0, 0, 0, 0, 0, -1)), 0x81);
  equ("i32x4.bitmask", simd_i32x4_bitmask(V32(0, INT32_MIN, -1, 0x7FFFFFFF)), 6);
  equ("i64x2.bitmask", simd_i64x2_bitmask(V64(1, INT64_MIN)), 2);
  equ("i8x16.all_true 0", simd_i8x16_all_true(V8(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0)), 0);
  equ("i8x16.all_true 1", simd_i8x16_all_true(V8(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0x80)), 1);
  equ("i16x8.all_true", simd_i16x8_all_true(V16(0x100, 1, 1, 1, 1, 1, 1, 0)), 0);
  equ("i32x4.all_true", simd_i32x4_all_true(V32(0x10000, 1, 1, INT32_MIN)), 1);
  equ("i64x2.all_true 0", simd_i64x2_all_true(V64(0x100000000, 0)), 0);
  equ("i64x2.all_true 1", simd_i64x2_all_true(V64(0x100000000, 1)), 1);
  equ("v128.any_true 0", simd_v128_any_true(ZERO), 0);
  equ("v128.any_true 1", simd_v128_any_true(V64(0, INT64_MIN)), 1);

  /* bitwise */
  v128 x = V64(0x00FF00FF00FF00FF, 0x0123456789ABCDEF), y = V64(0x0F0F0F0F0F0F0F0F, -1);
  eqv("v128.not", simd_v128_not(x), V64(~0x00FF00FF00FF00FFll, ~0x0123456789ABCDEFll));
  eqv("v128.and", simd_v128_and(x, y), V64(0x000F000F000F000F, 0x0123456789ABCDEF));
  eqv("v128.andnot", simd_v128_andnot(x, y), V64(0x00F000F000F000F0, 0));
  eqv("v128.or", simd_v128_or(x, y), V64(0x0FFF0FFF0FFF0FFF, -1));
  eqv("v128.xor", simd_v128_xor(x, y), V64(0x0FF00FF00FF00FF0, ~0x0123456789ABCDEFll));
  eqv("v128.bitselect", simd_v128_bitselect(V64(-1, 0x1111), V64(0, 0x2222), V64(0xF0F0, 0xFF00)),
      V64(0xF0F0, 0x1122));
}

static void test_lanes(void) {
  v128 a = V8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  v128 b = V8(16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
  eqv("i8x16.swizzle", simd_i8x16_swizzle(V8(10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160),
                                          V8(15, 0, 16, 255, 0x80, 1, 17, 14, 32, 3, 3, 2, 0x7F, 0x10, 0x0F, 5)),
      V8(160, 10, 0, 0, 0, 20, 0, 150, 0, 40, 40, 30, 0, 0, 160, 60));
  static const uint8_t sel[16] = {0, 31, 16, 15, 1, 30, 2, 29, 17, 14, 8, 24, 7, 23, 0, 31};
  eqv("i8x16.shuffle", simd_i8x16_shuffle(a, b, sel),
      V8(0, 31, 16, 15, 1, 30, 2, 29, 17, 14, 8, 24, 7, 23, 0, 31));

  eqv("i8x16.splat", simd_i8x16_splat(0x1234), V8(0x34, 0x34, 0x34, 0x34, 0x34, 0x34, 0x34, 0x34, 0x34, 0x34,
                                                     0x34, 0x34, 0x34, 0x34, 0x34, 0x34));
  eqv("i16x8.splat", simd_i16x8_splat(0xABCD1234), V16(0x1234, 0x1234, 0x1234, 0x1234, 0x1234, 0x1234, 0x1234, 0x1234));
  eqv("i32x4.splat", simd_i32x4_splat(0x80000001), V32(0x80000001, 0x80000001, 0x80000001, 0x80000001));
  eqv("i64x2.splat", simd_i64x2_splat(0x8000000000000001), V64(INT64_MIN + 1, INT64_MIN + 1));
  eqv("f32x4.splat nan payload", simd_f32x4_splat(f32b(0x7FA00001)), V32(0x7FA00001, 0x7FA00001, 0x7FA00001, 0x7FA00001));
  eqv("f64x2.splat", simd_f64x2_splat(-0.0), V64(INT64_MIN, INT64_MIN));

  v128 c = V8(0x80, 0x7F, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81);
  equ("i8x16.extract_lane_s", simd_i8x16_extract_lane_s(c, 0), 0xFFFFFF80u);
  equ("i8x16.extract_lane_u", simd_i8x16_extract_lane_u(c, 0), 0x80);
  equ("i8x16.extract_lane_s 15", simd_i8x16_extract_lane_s(c, 15), 0xFFFFFF81u);
  equ("i8x16.extract_lane_s 1", simd_i8x16_extract_lane_s(c, 1), 0x7F);
  v128 d = V16(0x8000, 0x7FFF, 0, 0, 0, 0, 0, 0xFFFF);
  equ("i16x8.extract_lane_s", simd_i16x8_extract_lane_s(d, 7), 0xFFFFFFFFu);
  equ("i16x8.extract_lane_u", simd_i16x8_extract_lane_u(d, 0), 0x8000);
  equ("i32x4.extract_lane", simd_i32x4_extract_lane(V32(1, 2, 3, -4), 3), 0xFFFFFFFCu);
  equ("i64x2.extract_lane", simd_i64x2_extract_lane(V64(1, INT64_MIN), 1), 0x8000000000000000ull);
  equ("f32x4.extract_lane nan bits", bf32(simd_f32x4_extract_lane(V32(0, 0, 0xFFA00001, 0), 2)), 0xFFA00001);
  equ("f64x2.extract_lane", bf64(simd_f64x2_extract_lane(VF64(1.5, -0.0), 1)), 0x8000000000000000ull);
  eqv("i8x16.replace_lane truncates", simd_i8x16_replace_lane(ZERO, 15, 0x1FF),
      V8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF));
  eqv("i16x8.replace_lane", simd_i16x8_replace_lane(ZERO, 0, 0x12345), V16(0x2345));
  eqv("i32x4.replace_lane", simd_i32x4_replace_lane(V32(1, 2, 3, 4), 2, 0xDEADBEEF), V32(1, 2, 0xDEADBEEF, 4));
  eqv("i64x2.replace_lane", simd_i64x2_replace_lane(V64(1, 2), 1, 0xFEDCBA9876543210), V64(1, -0x123456789ABCDF0));
  eqv("f32x4.replace_lane nan bits", simd_f32x4_replace_lane(ZERO, 1, f32b(0x7F800001)), V32(0, 0x7F800001));
  eqv("f64x2.replace_lane", simd_f64x2_replace_lane(ZERO, 0, 1.0), V64(0x3FF0000000000000));
}

static void test_memory(void) {
  uint8_t m[40];
  for (int i = 0; i < 40; i++) m[i] = (uint8_t)(0x80 + i * 7);
  const uint8_t *p = m + 3; /* unaligned */
  v128 whole;
  memcpy(whole.u8, p, 16);
  eqv("v128.load unaligned", simd_v128_load(p), whole);
  eqv("v128.load8x8_s", simd_v128_load8x8_s(p),
      V16((int8_t)p[0], (int8_t)p[1], (int8_t)p[2], (int8_t)p[3], (int8_t)p[4], (int8_t)p[5], (int8_t)p[6], (int8_t)p[7]));
  eqv("v128.load8x8_u", simd_v128_load8x8_u(p), V16(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]));
  static const uint8_t q[16] = {0x00, 0x80, 0xFF, 0x7F, 0x01, 0x00, 0x00, 0x80,
                                0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x11, 0x22};
  eqv("v128.load16x4_s", simd_v128_load16x4_s(q), V32(-32768, 0x7FFF, 1, -32768));
  eqv("v128.load16x4_u", simd_v128_load16x4_u(q), V32(0x8000, 0x7FFF, 1, 0x8000));
  eqv("v128.load32x2_s", simd_v128_load32x2_s(q), V64((int32_t)0x7FFF8000, (int32_t)0x80000001));
  eqv("v128.load32x2_u", simd_v128_load32x2_u(q + 4), V64(0x80000001, 0xDDCCBBAA));
  eqv("v128.load8_splat", simd_v128_load8_splat(q + 1), simd_i8x16_splat(0x80));
  eqv("v128.load16_splat", simd_v128_load16_splat(q + 1), simd_i16x8_splat(0xFF80));
  eqv("v128.load32_splat", simd_v128_load32_splat(q + 8), simd_i32x4_splat(0xDDCCBBAA));
  eqv("v128.load64_splat", simd_v128_load64_splat(q + 8), simd_i64x2_splat(0x2211FFEEDDCCBBAA));
  eqv("v128.load32_zero", simd_v128_load32_zero(q + 8), V32(0xDDCCBBAA, 0, 0, 0));
  eqv("v128.load64_zero", simd_v128_load64_zero(q + 8), V64(0x2211FFEEDDCCBBAA, 0));

  v128 base = V64(-1, -1);
  eqv("v128.load8_lane", simd_v128_load8_lane(q + 1, base, 15), V64(-1, 0x80FFFFFFFFFFFFFF));
  eqv("v128.load16_lane", simd_v128_load16_lane(q + 1, base, 0), V64(-128, -1));
  eqv("v128.load32_lane", simd_v128_load32_lane(q + 8, base, 3), V32(-1, -1, -1, 0xDDCCBBAA));
  eqv("v128.load64_lane", simd_v128_load64_lane(q + 8, base, 1), V64(-1, 0x2211FFEEDDCCBBAA));

  uint8_t out[24];
  memset(out, 0x55, sizeof out);
  simd_v128_store(out + 1, whole);
  report(out[0] == 0x55 && !memcmp(out + 1, p, 16) && out[17] == 0x55, "v128.store unaligned");
  v128 s = V8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  memset(out, 0x55, sizeof out);
  simd_v128_store8_lane(out + 1, s, 15);
  report(out[0] == 0x55 && out[1] == 15 && out[2] == 0x55, "v128.store8_lane");
  memset(out, 0x55, sizeof out);
  simd_v128_store16_lane(out + 1, s, 7);
  report(out[1] == 14 && out[2] == 15 && out[3] == 0x55, "v128.store16_lane");
  memset(out, 0x55, sizeof out);
  simd_v128_store32_lane(out + 3, s, 1);
  report(out[3] == 4 && out[6] == 7 && out[7] == 0x55 && out[2] == 0x55, "v128.store32_lane");
  memset(out, 0x55, sizeof out);
  simd_v128_store64_lane(out + 5, s, 1);
  report(out[5] == 8 && out[12] == 15 && out[13] == 0x55 && out[4] == 0x55, "v128.store64_lane");
}

static void test_float(void) {
  const float fnan = f32b(0x7FC00000), finf = INFINITY;
  const double dnan = f64b(0x7FF8000000000000ull), dinf = INFINITY;

  /* min/max: NaN from either side; -0 < +0 in both operand orders */
  eqf32("f32x4.min nan", simd_f32x4_min(VF32(fnan, 1, -0.0f, 0.0f), VF32(1, fnan, 0.0f, -0.0f)),
        VF32(fnan, fnan, -0.0f, -0.0f));
  eqf32("f32x4.max nan", simd_f32x4_max(VF32(fnan, 1, -0.0f, 0.0f), VF32(1, fnan, 0.0f, -0.0f)),
        VF32(fnan, fnan, 0.0f, 0.0f));
  eqf32("f32x4.min values", simd_f32x4_min(VF32(-finf, 2, -3, f32b(0x7F800001)), VF32(finf, 1, -2, -finf)),
        VF32(-finf, 1, -3, fnan));
  eqf32("f32x4.max values", simd_f32x4_max(VF32(-finf, 2, -3, 7), VF32(finf, 1, -2, f32b(0xFFC00000))),
        VF32(finf, 2, -2, fnan));
  eqf64("f64x2.min nan", simd_f64x2_min(VF64(dnan, 1), VF64(1, dnan)), VF64(dnan, dnan));
  eqf64("f64x2.min zeros", simd_f64x2_min(VF64(-0.0, 0.0), VF64(0.0, -0.0)), VF64(-0.0, -0.0));
  eqf64("f64x2.max zeros", simd_f64x2_max(VF64(-0.0, 0.0), VF64(0.0, -0.0)), VF64(0.0, 0.0));
  eqf64("f64x2.max nan", simd_f64x2_max(VF64(dinf, f64b(0x7FF0000000000001ull)), VF64(dnan, 0)), VF64(dnan, dnan));

  /* pmin/pmax: b < a ? b : a and a < b ? b : a, bits moved unchanged */
  eqv("f32x4.pmin", simd_f32x4_pmin(V32(0x7FA00001, bf32(1), bf32(-0.0f), bf32(0.0f)),
                                    V32(bf32(1), 0xFFA00002, bf32(0.0f), bf32(-0.0f))),
      V32(0x7FA00001, bf32(1), bf32(-0.0f), bf32(0.0f)));
  eqv("f32x4.pmax", simd_f32x4_pmax(V32(0x7FA00001, bf32(1), bf32(-0.0f), bf32(2)),
                                    V32(bf32(1), 0xFFA00002, bf32(0.0f), bf32(3))),
      V32(0x7FA00001, bf32(1), bf32(-0.0f), bf32(3)));
  eqv("f64x2.pmin", simd_f64x2_pmin(V64(0x7FF4000000000001, bf64(2)), V64(bf64(1), bf64(-1))),
      V64(0x7FF4000000000001, bf64(-1)));
  eqv("f64x2.pmax", simd_f64x2_pmax(V64(bf64(1), bf64(-0.0)), V64(0x7FF4000000000001, bf64(0.0))),
      V64(bf64(1), bf64(-0.0)));

  /* neg/abs: sign bit only, NaN payloads intact */
  eqv("f32x4.neg", simd_f32x4_neg(V32(0x7FA00001, 0, 0x80000000, bf32(1))), V32(0xFFA00001, 0x80000000, 0, bf32(-1)));
  eqv("f32x4.abs", simd_f32x4_abs(V32(0xFFA00001, 0x80000000, bf32(-2), 0x7F800000)),
      V32(0x7FA00001, 0, bf32(2), 0x7F800000));
  eqv("f64x2.neg", simd_f64x2_neg(V64(0x7FF4000000000001, 0)), V64(0xFFF4000000000001, INT64_MIN));
  eqv("f64x2.abs", simd_f64x2_abs(V64(0xFFF4000000000001, INT64_MIN)), V64(0x7FF4000000000001, 0));

  /* arithmetic */
  eqf32("f32x4.add", simd_f32x4_add(VF32(1, finf, 0.0f, 3e38f), VF32(2, -finf, -0.0f, 1e38f)), VF32(3, fnan, 0.0f, finf));
  eqf32("f32x4.sub", simd_f32x4_sub(VF32(0.0f, -0.0f, 1, finf), VF32(0.0f, 0.0f, 0x1p-30f, finf)),
        VF32(0.0f, -0.0f, 1 - 0x1p-30f, fnan));
  eqf32("f32x4.mul", simd_f32x4_mul(VF32(-0.0f, 0, 0x1p-100f, 3), VF32(5, finf, 0x1p-100f, -0.5f)),
        VF32(-0.0f, fnan, 0.0f, -1.5f));
  eqf32("f32x4.div", simd_f32x4_div(VF32(1, -1, 0, 1), VF32(0.0f, 0.0f, 0.0f, 3)), VF32(finf, -finf, fnan, 1.0f / 3.0f));
  eqf32("f32x4.sqrt", simd_f32x4_sqrt(VF32(4, -0.0f, -1, 2)), VF32(2, -0.0f, fnan, 0x1.6a09e6p+0f));
  eqf64("f64x2.div", simd_f64x2_div(VF64(1, 1), VF64(-0.0, 3)), VF64(-dinf, 1.0 / 3.0));
  eqf64("f64x2.sqrt", simd_f64x2_sqrt(VF64(-0.0, 2)), VF64(-0.0, 0x1.6a09e667f3bcdp+0));

  /* rounding: nearest ties to even, signed zeros */
  eqf32("f32x4.nearest ties", simd_f32x4_nearest(VF32(0.5f, 1.5f, 2.5f, -0.5f)), VF32(0.0f, 2, 2, -0.0f));
  eqf32("f32x4.nearest big", simd_f32x4_nearest(VF32(-1.5f, 8388609.0f, 0x1.fffffep-2f, -3.5f)),
        VF32(-2, 8388609.0f, 0.0f, -4));
  eqf32("f32x4.ceil", simd_f32x4_ceil(VF32(-0.5f, 0.1f, -1.5f, finf)), VF32(-0.0f, 1, -1, finf));
  eqf32("f32x4.floor", simd_f32x4_floor(VF32(-0.5f, 0.1f, -0.0f, fnan)), VF32(-1, 0, -0.0f, fnan));
  eqf32("f32x4.trunc", simd_f32x4_trunc(VF32(-0.7f, 1.9f, -1.9f, -finf)), VF32(-0.0f, 1, -1, -finf));
  eqf64("f64x2.nearest", simd_f64x2_nearest(VF64(2.5, -0.5)), VF64(2, -0.0));
  eqf64("f64x2.nearest 2^52+1", simd_f64x2_nearest(VF64(4503599627370497.0, 4503599627370495.5)),
        VF64(4503599627370497.0, 4503599627370496.0));
  eqf64("f64x2.ceil", simd_f64x2_ceil(VF64(-0.9, 1.0000001)), VF64(-0.0, 2));
  eqf64("f64x2.floor", simd_f64x2_floor(VF64(-0.1, 0.9)), VF64(-1, 0));
  eqf64("f64x2.trunc", simd_f64x2_trunc(VF64(-0.9, 1e300)), VF64(-0.0, 1e300));
  /* a signalling NaN comes out quiet (an arithmetic NaN) */
  v128 snan32 = V32(0x7FA00000, 0xFF800001, 0x7FA00000, 0x7FA00000);
  v128 (*const round32[])(v128) = {simd_f32x4_ceil, simd_f32x4_floor, simd_f32x4_trunc, simd_f32x4_nearest,
                                   simd_f32x4_sqrt};
  for (size_t i = 0; i < sizeof round32 / sizeof round32[0]; i++) {
    v128 r = round32[i](snan32);
    report((r.u32[0] & 0x7FC00000) == 0x7FC00000 && (r.u32[1] & 0x7FC00000) == 0x7FC00000,
           "f32x4 rounding #%zu of a signalling NaN: %08x %08x", i, r.u32[0], r.u32[1]);
  }
  v128 snan64 = V64(0x7FF4000000000000, 0xFFF0000000000001);
  v128 (*const round64[])(v128) = {simd_f64x2_ceil, simd_f64x2_floor, simd_f64x2_trunc, simd_f64x2_nearest,
                                   simd_f64x2_sqrt};
  for (size_t i = 0; i < sizeof round64 / sizeof round64[0]; i++) {
    v128 r = round64[i](snan64);
    report((r.u64[0] & 0x7FF8000000000000) == 0x7FF8000000000000 &&
               (r.u64[1] & 0x7FF8000000000000) == 0x7FF8000000000000,
           "f64x2 rounding #%zu of a signalling NaN: %016llx %016llx", i,
           (unsigned long long)r.u64[0], (unsigned long long)r.u64[1]);
  }

  /* comparisons: NaN unordered, -0 == +0 */
  eqv("f32x4.eq", simd_f32x4_eq(VF32(fnan, -0.0f, 1, 2), VF32(fnan, 0.0f, 1, 3)), V32(0, -1, -1, 0));
  eqv("f32x4.ne", simd_f32x4_ne(VF32(fnan, -0.0f, 1, 2), VF32(fnan, 0.0f, 1, 3)), V32(-1, 0, 0, -1));
  eqv("f32x4.lt", simd_f32x4_lt(VF32(fnan, -0.0f, 1, -finf), VF32(1, 0.0f, 2, finf)), V32(0, 0, -1, -1));
  eqv("f32x4.ge", simd_f32x4_ge(VF32(fnan, -0.0f, 1, 3), VF32(1, 0.0f, 2, 2)), V32(0, -1, 0, -1));
  eqv("f64x2.le", simd_f64x2_le(VF64(dnan, -0.0), VF64(dnan, 0.0)), V64(0, -1));
  eqv("f64x2.gt", simd_f64x2_gt(VF64(dinf, 1), VF64(1e308, dnan)), V64(-1, 0));

  /* trunc_sat: NaN -> 0, saturate */
  eqv("i32x4.trunc_sat_f32x4_s a", simd_i32x4_trunc_sat_f32x4_s(VF32(fnan, finf, -finf, 2147483648.0f)),
      V32(0, INT32_MAX, INT32_MIN, INT32_MAX));
  eqv("i32x4.trunc_sat_f32x4_s b", simd_i32x4_trunc_sat_f32x4_s(VF32(-2147483904.0f, 2147483520.0f, -1.9f, 1.9f)),
      V32(INT32_MIN, 2147483520, -1, 1));
  eqv("i32x4.trunc_sat_f32x4_s c", simd_i32x4_trunc_sat_f32x4_s(VF32(-2147483648.0f, -0.0f, f32b(0xFFC00001), 0x1p-149f)),
      V32(INT32_MIN, 0, 0, 0));
  eqv("i32x4.trunc_sat_f32x4_u a", simd_i32x4_trunc_sat_f32x4_u(VF32(fnan, -1.0f, -0.9f, 4294967296.0f)),
      V32(0, 0, 0, -1));
  eqv("i32x4.trunc_sat_f32x4_u b", simd_i32x4_trunc_sat_f32x4_u(VF32(4294967040.0f, finf, -finf, 2147483648.0f)),
      V32(4294967040u, -1, 0, 0x80000000));
  eqv("i32x4.trunc_sat_f64x2_s_zero", simd_i32x4_trunc_sat_f64x2_s_zero(VF64(2147483647.9, -2147483648.9)),
      V32(INT32_MAX, INT32_MIN, 0, 0));
  eqv("i32x4.trunc_sat_f64x2_s_zero nan", simd_i32x4_trunc_sat_f64x2_s_zero(VF64(dnan, -2147483649.0)),
      V32(0, INT32_MIN, 0, 0));
  eqv("i32x4.trunc_sat_f64x2_u_zero", simd_i32x4_trunc_sat_f64x2_u_zero(VF64(4294967295.5, 4294967296.0)),
      V32(-1, -1, 0, 0));
  eqv("i32x4.trunc_sat_f64x2_u_zero nan", simd_i32x4_trunc_sat_f64x2_u_zero(VF64(dnan, -dinf)), V32(0, 0, 0, 0));
  eqv("i32x4.trunc_sat_f64x2_u_zero small", simd_i32x4_trunc_sat_f64x2_u_zero(VF64(-0.99, 1.99)), V32(0, 1, 0, 0));

  /* int -> float: ties to even */
  eqf32("f32x4.convert_i32x4_u", simd_f32x4_convert_i32x4_u(V32(-1, 16777217, 0x80000080, 0x80000180)),
        VF32(4294967296.0f, 16777216.0f, 2147483648.0f, 2147484160.0f));
  eqf32("f32x4.convert_i32x4_s", simd_f32x4_convert_i32x4_s(V32(INT32_MIN, 16777217, -16777219, -1)),
        VF32(-2147483648.0f, 16777216.0f, -16777220.0f, -1));
  eqf64("f64x2.convert_low_i32x4_s", simd_f64x2_convert_low_i32x4_s(V32(INT32_MIN, -1, 5, 5)), VF64(-2147483648.0, -1));
  eqf64("f64x2.convert_low_i32x4_u", simd_f64x2_convert_low_i32x4_u(V32(-1, INT32_MIN, 5, 5)),
        VF64(4294967295.0, 2147483648.0));

  /* demote/promote */
  eqf32("f32x4.demote_f64x2_zero", simd_f32x4_demote_f64x2_zero(VF64(1e300, 0x1.000001p0)), VF32(finf, 1.0f, 0, 0));
  eqf32("f32x4.demote_f64x2_zero b", simd_f32x4_demote_f64x2_zero(VF64(dnan, 0x1.0000030000000p0)),
        VF32(fnan, 0x1.000004p0f, 0, 0));
  eqf32("f32x4.demote_f64x2_zero c", simd_f32x4_demote_f64x2_zero(VF64(-0x1p-1000, 0x1.fffffefffffffp127)),
        VF32(-0.0f, 0x1.fffffep127f, 0, 0));
  eqf64("f64x2.promote_low_f32x4", simd_f64x2_promote_low_f32x4(VF32(0x1p-149f, -finf, 9, 9)), VF64(0x1p-149, -dinf));
  eqf64("f64x2.promote_low_f32x4 nan", simd_f64x2_promote_low_f32x4(VF32(fnan, -0.0f, 9, 9)), VF64(dnan, -0.0));
}

/* ================================================================== the spec suite */

typedef struct node { int list, first, next; const char *s; int len; } node;
typedef struct wast { const char *text; node *nodes; int n, cap; } wast;

static int new_node(wast *w, int list, const char *s, int len) {
  if (w->n == w->cap) {
    w->cap = w->cap ? w->cap * 2 : 4096;
    w->nodes = realloc(w->nodes, (size_t)w->cap * sizeof(node));
    if (!w->nodes) { perror("realloc"); exit(2); }
  }
  w->nodes[w->n] = (node){list, -1, -1, s, len};
  return w->n++;
}

static const char *skip_space(const char *p) {
  for (;;) {
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    else if (p[0] == ';' && p[1] == ';') { while (*p && *p != '\n') p++; }
    else if (p[0] == '(' && p[1] == ';') {
      int depth = 1;
      p += 2;
      while (*p && depth) {
        if (p[0] == '(' && p[1] == ';') { depth++; p += 2; }
        else if (p[0] == ';' && p[1] == ')') { depth--; p += 2; }
        else p++;
      }
    } else return p;
  }
}

/* parse one s-expression at *pp; -1 at ')' or the end */
static int parse_sexpr(wast *w, const char **pp) {
  const char *p = skip_space(*pp);
  if (!*p || *p == ')') { *pp = p; return -1; }
  if (*p == '(') {
    int n = new_node(w, 1, p, 1), last = -1;
    p++;
    for (;;) {
      int k = parse_sexpr(w, &p);
      if (k < 0) break;
      if (last < 0) w->nodes[n].first = k;
      else w->nodes[last].next = k;
      last = k;
    }
    if (*p == ')') p++;
    *pp = p;
    return n;
  }
  const char *s = p;
  if (*p == '"') {
    p++;
    while (*p && *p != '"') p += (*p == '\\' && p[1]) ? 2 : 1;
    if (*p) p++;
  } else {
    while (*p && !strchr(" \t\r\n()\";", *p)) p++;
  }
  *pp = p;
  return new_node(w, 0, s, (int)(p - s));
}

static node *N(wast *w, int i) { return i < 0 ? NULL : &w->nodes[i]; }
static int atom_is(wast *w, int i, const char *s) {
  return i >= 0 && !w->nodes[i].list && w->nodes[i].len == (int)strlen(s) &&
         !memcmp(w->nodes[i].s, s, strlen(s));
}
static int head_is(wast *w, int i, const char *s) { return i >= 0 && w->nodes[i].list && atom_is(w, w->nodes[i].first, s); }
static int kid(wast *w, int i, int k) {
  int c = w->nodes[i].first;
  while (c >= 0 && k--) c = w->nodes[c].next;
  return c;
}

/* literals: underscores dropped; integers wrap to 64 bits */
static void copy_literal(const char *s, int len, char *buf, size_t size) {
  size_t k = 0;
  for (int j = 0; j < len && k < size - 1; j++)
    if (s[j] != '_') buf[k++] = s[j];
  buf[k] = 0;
}
static int copy_atom(wast *w, int i, char *buf, size_t size) {
  node *n = N(w, i);
  if (!n || n->list) return 0;
  copy_literal(n->s, n->len, buf, size);
  return 1;
}
static int parse_int_text(const char *text, int len, uint64_t *out) {
  char buf[128], *end;
  copy_literal(text, len, buf, sizeof buf);
  const char *s = buf;
  int neg = *s == '-';
  if (*s == '-' || *s == '+') s++;
  if (!*s) return 0;
  uint64_t v = strncmp(s, "0x", 2) ? strtoull(s, &end, 10) : strtoull(s + 2, &end, 16);
  if (*end) return 0;
  *out = neg ? 0 - v : v;
  return 1;
}
static int parse_int(wast *w, int i, uint64_t *out) {
  node *n = N(w, i);
  return n && !n->list && parse_int_text(n->s, n->len, out);
}
/* nan_kind: 0 exact, 1 nan:canonical, 2 nan:arithmetic */
static int parse_float(wast *w, int i, int is64, uint64_t *bits, int *nan_kind) {
  char buf[128], *end;
  if (!copy_atom(w, i, buf, sizeof buf)) return 0;
  const char *s = buf;
  int neg = *s == '-';
  if (*s == '-' || *s == '+') s++;
  uint64_t sign = neg ? (is64 ? 1ull << 63 : 1ull << 31) : 0;
  uint64_t expo = is64 ? 0x7FF0000000000000ull : 0x7F800000ull;
  uint64_t quiet = is64 ? 0x0008000000000000ull : 0x00400000ull;
  *nan_kind = 0;
  if (!strcmp(s, "inf")) { *bits = sign | expo; return 1; }
  if (!strcmp(s, "nan")) { *bits = sign | expo | quiet; return 1; }
  if (!strcmp(s, "nan:canonical")) { *bits = expo | quiet; *nan_kind = 1; return 1; }
  if (!strcmp(s, "nan:arithmetic")) { *bits = expo | quiet; *nan_kind = 2; return 1; }
  if (!strncmp(s, "nan:0x", 6)) { *bits = sign | expo | strtoull(s + 6, NULL, 16); return 1; }
  if (is64) {
    double d = strtod(s, &end);
    *bits = bf64(d) | sign;
  } else {
    float f = strtof(s, &end);
    *bits = bf32(f) | sign;
  }
  return !*end;
}

typedef struct expect { int type; val v; int fshape; int nan[4]; } expect; /* fshape: 0, 32, 64 */

/* (i32.const x) (f32.const x) (v128.const shape x...) -> value (+ NaN patterns) */
static int parse_const(wast *w, int n, expect *e) {
  memset(e, 0, sizeof *e);
  uint64_t u;
  int nk;
  if (!N(w, n) || !N(w, n)->list) return 0;
  if (head_is(w, n, "i32.const")) { e->type = I32; if (!parse_int(w, kid(w, n, 1), &u)) return 0; e->v.I32 = (uint32_t)u; return 1; }
  if (head_is(w, n, "i64.const")) { e->type = I64; if (!parse_int(w, kid(w, n, 1), &u)) return 0; e->v.I64 = u; return 1; }
  if (head_is(w, n, "f32.const")) {
    e->type = F32; e->fshape = 32;
    if (!parse_float(w, kid(w, n, 1), 0, &u, &e->nan[0])) return 0;
    uint32_t b32 = (uint32_t)u; memcpy(&e->v.F32, &b32, 4);
    return 1;
  }
  if (head_is(w, n, "f64.const")) {
    e->type = F64; e->fshape = 64;
    if (!parse_float(w, kid(w, n, 1), 1, &u, &e->nan[0])) return 0;
    memcpy(&e->v.F64, &u, 8);
    return 1;
  }
  if (!head_is(w, n, "v128.const")) return 0;
  e->type = V128;
  int sh = kid(w, n, 1), lanes, bits;
  if (atom_is(w, sh, "i8x16")) lanes = 16, bits = 8;
  else if (atom_is(w, sh, "i16x8")) lanes = 8, bits = 16;
  else if (atom_is(w, sh, "i32x4")) lanes = 4, bits = 32;
  else if (atom_is(w, sh, "i64x2")) lanes = 2, bits = 64;
  else if (atom_is(w, sh, "f32x4")) lanes = 4, bits = 32, e->fshape = 32;
  else if (atom_is(w, sh, "f64x2")) lanes = 2, bits = 64, e->fshape = 64;
  else return 0;
  int x = N(w, sh)->next;
  for (int i = 0; i < lanes; i++, x = N(w, x)->next) {
    if (x < 0) return 0;
    if (e->fshape) { if (!parse_float(w, x, bits == 64, &u, &nk)) return 0; e->nan[i] = nk; }
    else if (!parse_int(w, x, &u)) return 0;
    for (int b = 0; b < bits / 8; b++) e->v.V128.u8[i * bits / 8 + b] = (uint8_t)(u >> (8 * b));
  }
  return x < 0;
}

/* exported functions of the current module whose body is one folded expression */
typedef struct func { int name; int params[8]; int ptypes[8]; int nparams; int body; } func;
typedef struct wctx {
  wast *w;
  func funcs[512];
  int nfuncs;
  uint8_t *mem; /* the module's memory (at most 4 pages), for the load rows */
  uint64_t mem_size;
  int tainted; /* something not evaluated here may have written the memory: no more loads */
  int covered[256];
} wctx;

/* the bytes of a string literal's escapes: \hh \n \t \r \\ \' \" (no \u{...}) */
static uint64_t decode_string(const char *s, int len, uint8_t *out, uint64_t room) {
  uint64_t n = 0;
  for (int i = 1; i < len - 1; i++) {
    int ch = (unsigned char)s[i];
    if (ch == '\\' && i + 1 < len - 1) {
      char e = s[++i];
      if (e == 'n') ch = '\n';
      else if (e == 't') ch = '\t';
      else if (e == 'r') ch = '\r';
      else if (e == '\\' || e == '\'' || e == '"') ch = e;
      else if (i + 1 < len - 1) { char h[3] = {e, s[i + 1], 0}; ch = (int)strtoul(h, NULL, 16); i++; }
    }
    if (n < room) out[n] = (uint8_t)ch;
    n++;
  }
  return n;
}

static int type_of(wast *w, int i) {
  return atom_is(w, i, "i32") ? I32 : atom_is(w, i, "i64") ? I64 : atom_is(w, i, "f32") ? F32
       : atom_is(w, i, "f64") ? F64 : atom_is(w, i, "v128") ? V128 : NONE;
}

static void load_module(wctx *c, int m) {
  wast *w = c->w;
  c->nfuncs = 0;
  free(c->mem);
  c->mem = NULL;
  c->mem_size = 0;
  c->tainted = 0;
  for (int f = N(w, m)->first; f >= 0; f = N(w, f)->next) {
    if (head_is(w, f, "memory")) { /* (memory pages) */
      uint64_t pages;
      if (parse_int(w, kid(w, f, 1), &pages) && pages <= 4) {
        c->mem_size = pages * 65536;
        c->mem = calloc(1, (size_t)c->mem_size + 1);
      }
      continue;
    }
    if (head_is(w, f, "data")) { /* (data [(offset] (i32.const offset)[)] "bytes"...) */
      int o = kid(w, f, 1), first = o >= 0 ? N(w, o)->next : -1;
      uint64_t off;
      if (head_is(w, o, "offset")) o = kid(w, o, 1);
      if (!head_is(w, o, "i32.const") || !parse_int(w, kid(w, o, 1), &off) || !c->mem) continue;
      for (int k = first; k >= 0; k = N(w, k)->next) {
        if (N(w, k)->list || N(w, k)->s[0] != '"') break;
        uint64_t room = off < c->mem_size ? c->mem_size - off : 0;
        off += decode_string(N(w, k)->s, N(w, k)->len, c->mem + (off < c->mem_size ? off : 0), room);
      }
      continue;
    }
    if (!head_is(w, f, "func")) continue;
    func fn = {-1, {0}, {0}, 0, -1};
    int ok = 1, nbody = 0;
    for (int k = N(w, N(w, f)->first)->next; k >= 0; k = N(w, k)->next) {
      if (!N(w, k)->list) { if (N(w, k)->s[0] != '$') ok = 0; continue; } /* $name */
      if (head_is(w, k, "export")) { fn.name = kid(w, k, 1); continue; }
      if (head_is(w, k, "param")) {
        int a = kid(w, k, 1);
        if (a >= 0 && N(w, a)->s[0] == '$') { /* (param $x t) */
          if (fn.nparams < 8) { fn.params[fn.nparams] = a; fn.ptypes[fn.nparams++] = type_of(w, N(w, a)->next); }
        } else {
          for (; a >= 0; a = N(w, a)->next)
            if (fn.nparams < 8) { fn.params[fn.nparams] = -1; fn.ptypes[fn.nparams++] = type_of(w, a); }
        }
        continue;
      }
      if (head_is(w, k, "result") || head_is(w, k, "type")) continue;
      if (head_is(w, k, "local")) ok = 0;
      fn.body = k;
      nbody++;
    }
    if (ok && nbody == 1 && fn.name >= 0 && c->nfuncs < 512) c->funcs[c->nfuncs++] = fn;
  }
}

/* evaluate a folded expression; 0 if it uses anything but SIMD rows, constants, local.get */
static int eval(wctx *c, const func *fn, const val *params, int e, val *out, int *type) {
  wast *w = c->w;
  if (!N(w, e) || !N(w, e)->list) return 0;
  int h = N(w, e)->first;
  if (h < 0 || N(w, h)->list) return 0;
  expect k;
  if (parse_const(w, e, &k)) { *out = k.v; *type = k.type; return 1; }
  if (atom_is(w, h, "local.get")) {
    int x = N(w, h)->next;
    uint64_t idx;
    for (int i = 0; i < fn->nparams; i++) {
      node *pn = N(w, fn->params[i]), *xn = N(w, x);
      if (fn->params[i] >= 0 && xn && !xn->list && xn->len == pn->len && !memcmp(xn->s, pn->s, (size_t)pn->len)) {
        *out = params[i]; *type = fn->ptypes[i]; return 1;
      }
    }
    if (!parse_int(w, x, &idx) || idx >= (uint64_t)fn->nparams) return 0;
    *out = params[idx]; *type = fn->ptypes[idx];
    return 1;
  }
  int x = N(w, h)->next;
  if (atom_is(w, h, "i8x16.shuffle")) {
    uint8_t lanes[16];
    for (int i = 0; i < 16; i++, x = N(w, x)->next) {
      uint64_t v;
      if (!parse_int(w, x, &v) || v > 31) return 0;
      lanes[i] = (uint8_t)v;
    }
    val a, b; int ta, tb;
    int y = x >= 0 ? N(w, x)->next : -1;
    if (!eval(c, fn, params, x, &a, &ta) || !eval(c, fn, params, y, &b, &tb)) return 0;
    if (ta != V128 || tb != V128 || N(w, y)->next >= 0) return 0;
    out->V128 = simd_i8x16_shuffle(a.V128, b.V128, lanes);
    *type = V128;
    c->covered[13] = 1;
    return 1;
  }
  const struct row *r = find_row(N(w, h)->s, (size_t)N(w, h)->len);
  if (!r || !r->gen) return 0;
  int nargs, lanes = r->size;
  uint64_t lane = 0, offset = 0;
  switch (r->kind) {
    case K_UNARY: nargs = 1; break;
    case K_BINARY: nargs = 2; break;
    case K_TERNARY: nargs = 3; break;
    case K_EXTRACT_LANE: nargs = 1; break;
    case K_REPLACE_LANE: nargs = 2; break;
    case K_LOAD: nargs = 1; break;
    case K_STORE: nargs = 2; break;
    case K_LOAD_LANE: nargs = 2; lanes = 16 / r->size; break;
    case K_STORE_LANE: nargs = 2; lanes = 16 / r->size; break;
    default: return 0;
  }
  int mem_kind = r->kind == K_LOAD || r->kind == K_STORE || r->kind == K_LOAD_LANE ||
                 r->kind == K_STORE_LANE;
  if (mem_kind) { /* memarg: offset=N align=N */
    if (!c->mem || c->tainted) return 0;
    for (; x >= 0 && !N(w, x)->list; x = N(w, x)->next) {
      node *a = N(w, x);
      if (a->len > 7 && !memcmp(a->s, "offset=", 7)) {
        if (!parse_int_text(a->s + 7, a->len - 7, &offset)) return 0;
      } else if (!(a->len > 6 && !memcmp(a->s, "align=", 6))) break;
    }
  }
  if (r->kind == K_EXTRACT_LANE || r->kind == K_REPLACE_LANE || r->kind == K_LOAD_LANE ||
      r->kind == K_STORE_LANE) {
    if (!parse_int(w, x, &lane) || lane >= (uint64_t)lanes) return 0;
    x = N(w, x)->next;
  }
  val args[3];
  int want[3] = {r->in1, r->in2, V128};
  for (int i = 0; i < nargs; i++, x = N(w, x)->next) {
    int t;
    if (x < 0 || !eval(c, fn, params, x, &args[i], &t) || t != want[i]) return 0;
  }
  if (x >= 0) return 0;
  if (mem_kind) {
    uint64_t ea = (uint64_t)args[0].I32 + offset, size = (uint64_t)r->size;
    if (ea + size > c->mem_size) return 0; /* would trap */
    args[0].I32 = 0;
    g_base = c->mem + ea;
    r->gen(args, (uint32_t)lane, out);
    g_base = g_mem;
  } else {
    r->gen(args, (uint32_t)lane, out);
  }
  *type = r->out;
  c->covered[r->code] = 1;
  return 1;
}

static int nan_ok(uint64_t bits, int is64, int kind) {
  uint64_t expo = is64 ? 0x7FF0000000000000ull : 0x7F800000ull;
  uint64_t quiet = is64 ? 0x0008000000000000ull : 0x00400000ull;
  uint64_t mag = bits & (is64 ? ~(1ull << 63) : 0x7FFFFFFFull);
  return kind == 1 ? mag == (expo | quiet) : (mag & (expo | quiet)) == (expo | quiet);
}

static int matches(const expect *e, int type, const val *got) {
  if (type != e->type) return 0;
  switch (type) {
    case I32: return got->I32 == e->v.I32;
    case I64: return got->I64 == e->v.I64;
    case F32: return e->nan[0] ? nan_ok(bf32(got->F32), 0, e->nan[0]) : bf32(got->F32) == bf32(e->v.F32);
    case F64: return e->nan[0] ? nan_ok(bf64(got->F64), 1, e->nan[0]) : bf64(got->F64) == bf64(e->v.F64);
    case V128:
      if (e->fshape == 32) {
        for (int i = 0; i < 4; i++)
          if (e->nan[i] ? !nan_ok(got->V128.u32[i], 0, e->nan[i]) : got->V128.u32[i] != e->v.V128.u32[i]) return 0;
        return 1;
      }
      if (e->fshape == 64) {
        for (int i = 0; i < 2; i++)
          if (e->nan[i] ? !nan_ok(got->V128.u64[i], 1, e->nan[i]) : got->V128.u64[i] != e->v.V128.u64[i]) return 0;
        return 1;
      }
      return !memcmp(got->V128.u8, e->v.V128.u8, 16);
    default: return 0;
  }
}

static void run_wast(wctx *c, const char *path, int *checked, int *skipped) {
  FILE *f = fopen(path, "rb");
  if (!f) { report(0, "cannot open %s", path); return; }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)size + 1);
  if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) { report(0, "cannot read %s", path); fclose(f); free(text); return; }
  fclose(f);
  text[size] = 0;
  wast w = {text, NULL, 0, 0};
  c->w = &w;
  c->nfuncs = 0;
  const char *p = text;
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  for (int top; (top = parse_sexpr(&w, &p)) >= 0;) {
    if (head_is(&w, top, "module")) { load_module(c, top); continue; }
    if (!head_is(&w, top, "assert_return")) {
      if (head_is(&w, top, "invoke") || head_is(&w, top, "assert_trap") ||
          head_is(&w, top, "assert_exhaustion"))
        c->tainted = 1;
      continue;
    }
    int inv = kid(&w, top, 1), res = kid(&w, top, 2);
    int name = head_is(&w, inv, "invoke") ? kid(&w, inv, 1) : -1;
    const func *fn = NULL;
    for (int i = 0; name >= 0 && i < c->nfuncs && !fn; i++) {
      node *a = N(&w, c->funcs[i].name), *b = N(&w, name);
      if (a->len == b->len && !memcmp(a->s, b->s, (size_t)a->len)) fn = &c->funcs[i];
    }
    expect want;
    val params[8], got;
    int ok = fn && (res < 0 || (N(&w, res)->next < 0 && parse_const(&w, res, &want)));
    int np = 0, type = NONE;
    if (res < 0) want.type = NONE;
    for (int a = name >= 0 ? N(&w, name)->next : -1; ok && a >= 0; a = N(&w, a)->next) {
      expect arg;
      ok = np < 8 && parse_const(&w, a, &arg) && np < fn->nparams && arg.type == fn->ptypes[np];
      if (ok) params[np++] = arg.v;
    }
    ok = ok && np == fn->nparams && eval(c, fn, params, fn->body, &got, &type);
    if (!ok) { (*skipped)++; c->tainted = 1; continue; }
    (*checked)++;
    if (type == NONE ? want.type == NONE : matches(&want, type, &got)) {
      report(1, "spec vector");
      continue;
    }
    int line = 1;
    for (const char *q = text; q < N(&w, top)->s; q++) line += *q == '\n';
    char g[64] = "(scalar)", e[64] = "(scalar)";
    if (type == V128) hex(g, got.V128);
    if (want.type == V128) hex(e, want.v.V128);
    report(0, "%s:%d: %.*s: got %s, want %s", base, line, N(&w, name)->len, N(&w, name)->s, g, e);
  }
  free(w.nodes);
  free(text);
  free(c->mem);
  c->mem = NULL;
  c->mem_size = 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_spec(const char *dir_arg) {
  char dir[4096];
  const char *shared = getenv("KILN_SHARED");
  DIR *d = NULL;
  if (dir_arg) { snprintf(dir, sizeof dir, "%s", dir_arg); d = opendir(dir); }
  if (!d && shared) { snprintf(dir, sizeof dir, "%s/spec/wasm-2.0/wast", shared); d = opendir(dir); }
  if (!d) { snprintf(dir, sizeof dir, "../shared/spec/wasm-2.0/wast"); d = opendir(dir); }
  if (!d) { printf("spec suite not found: skipping the simd_*.wast vectors\n"); return; }
  char *names[256];
  int n = 0;
  for (struct dirent *de; (de = readdir(d)) && n < 256;) {
    size_t len = strlen(de->d_name);
    if (!strncmp(de->d_name, "simd_", 5) && len > 5 && !strcmp(de->d_name + len - 5, ".wast"))
      names[n++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], cmp_str);
  static wctx c;
  memset(&c, 0, sizeof c);
  int checked = 0, skipped = 0;
  for (int i = 0; i < n; i++) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    run_wast(&c, path, &checked, &skipped);
    free(names[i]);
  }
  int covered = 0;
  for (int i = 0; i < N_SIMD_ROWS; i++) covered += c.covered[simd_rows[i].code];
  printf("spec vectors: %d files, %d assert_return checked, %d skipped (memory, control or "
         "non-SIMD bodies), %d of %d rows exercised\n", n, checked, skipped, covered, N_SIMD_ROWS);
  report(n == 0 || checked > 0, "no spec vectors could be checked in %s", dir);
}

int main(int argc, char **argv) {
  test_table();
  test_integer();
  test_lanes();
  test_memory();
  test_float();
  test_spec(argc > 1 ? argv[1] : NULL);
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
