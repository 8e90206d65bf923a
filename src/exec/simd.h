/* simd.h - exact WebAssembly 2.0 semantics of the fixed-width SIMD instructions (prefix 0xFD):
 * one static inline simd_<name> helper per row of instr/opcodes_simd.def, called from the
 * rows' impl expressions, plus simd_i8x16_shuffle for the hand-written i8x16.shuffle.
 *
 * v128 is a union of lane views in little-endian lane order, which is also the memory order
 * (the host must be little-endian). Scalar lanes cross the interface as the row's C types:
 * uint32_t for I32, uint64_t for I64, float for F32, double for F64. Memory pointers are
 * possibly unaligned and are only accessed with memcpy. Lane indices are validated by the
 * caller (lane < lane count); the helpers mask them anyway so they can never index out of
 * bounds.
 *
 * Everything is plain lane-by-lane C (compilers vectorize these loops): exact without
 * -ffast-math, with -ffp-contract=off, and free of undefined behaviour (unsigned arithmetic
 * for wrapping, guarded float-to-int conversions, unions rather than pointer casts for
 * type punning). Right shifts of negative signed lanes rely on arithmetic shifting, as gcc
 * and clang do. NaN results are the host's arithmetic NaNs; operations that only move bits
 * (neg, abs, pmin, pmax, lane moves) preserve NaN payloads exactly.
 */
#ifndef KILN_SIMD_H
#define KILN_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "numeric.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "simd.h: v128 lane order equals memory order only on a little-endian host"
#endif

typedef union v128 {
  uint8_t u8[16];
  int8_t i8[16];
  uint16_t u16[8];
  int16_t i16[8];
  uint32_t u32[4];
  int32_t i32[4];
  uint64_t u64[2];
  int64_t i64[2];
  float f32[4];
  double f64[2];
} v128;

_Static_assert(sizeof(v128) == 16, "v128 must be 16 bytes");

/* ------------------------------------------------------------------ internal helpers */

/* all-ones lane of unsigned type T when cond holds, else zero */
#define SIMD_MASK_(T, cond) ((T)((T)0 - (T)((cond) ? 1 : 0)))

/* a lane-wise function: r.RF[i] = EXPR for i < N, EXPR using a.F[i], b.F[i], c.F[i] */
#define SIMD_UNOP_(name, N, RF, EXPR) \
  static inline v128 simd_##name(v128 a) { \
    v128 r; \
    for (int i = 0; i < (N); i++) r.RF[i] = (EXPR); \
    return r; \
  }
#define SIMD_BINOP_(name, N, RF, EXPR) \
  static inline v128 simd_##name(v128 a, v128 b) { \
    v128 r; \
    for (int i = 0; i < (N); i++) r.RF[i] = (EXPR); \
    return r; \
  }
/* shift by a scalar count taken modulo the lane width */
#define SIMD_SHIFT_(name, N, RF, EXPR, MASK) \
  static inline v128 simd_##name(v128 a, uint32_t b) { \
    v128 r; \
    const unsigned s = (unsigned)(b & (MASK)); \
    for (int i = 0; i < (N); i++) r.RF[i] = (EXPR); \
    return r; \
  }
/* integer comparisons: unsigned result view RF of type RT, operand view F */
#define SIMD_CMP_(name, N, RF, RT, F, OPR) \
  SIMD_BINOP_(name, N, RF, SIMD_MASK_(RT, a.F[i] OPR b.F[i]))
/* all ten integer comparisons of one shape (S signed view, U unsigned view) */
#define SIMD_CMPS_(sh, N, S, U, RT) \
  SIMD_CMP_(sh##_eq, N, U, RT, U, ==) \
  SIMD_CMP_(sh##_ne, N, U, RT, U, !=) \
  SIMD_CMP_(sh##_lt_s, N, U, RT, S, <) \
  SIMD_CMP_(sh##_lt_u, N, U, RT, U, <) \
  SIMD_CMP_(sh##_gt_s, N, U, RT, S, >) \
  SIMD_CMP_(sh##_gt_u, N, U, RT, U, >) \
  SIMD_CMP_(sh##_le_s, N, U, RT, S, <=) \
  SIMD_CMP_(sh##_le_u, N, U, RT, U, <=) \
  SIMD_CMP_(sh##_ge_s, N, U, RT, S, >=) \
  SIMD_CMP_(sh##_ge_u, N, U, RT, U, >=)

static inline int32_t simd_clamp_(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

/* scalar semantics (bits, NaN-aware min/max, rounding) come from numeric.h */

/* saturating truncation (every f32 is exactly a double): NaN -> 0, out of range -> bound */
static inline int32_t simd_trunc_sat_s32_(double x) {
  if (x != x) return 0;
  if (x <= -2147483648.0) return INT32_MIN;
  if (x >= 2147483647.0) return INT32_MAX;
  return (int32_t)x;
}
static inline uint32_t simd_trunc_sat_u32_(double x) {
  if (!(x > 0.0)) return 0; /* NaN, negative, -0, +0; (-1, 0) truncates to 0 as well */
  if (x >= 4294967295.0) return UINT32_MAX;
  return (uint32_t)x;
}

/* ------------------------------------------------------------------ memory */

static inline v128 simd_v128_load(const uint8_t *p) { v128 r; memcpy(r.u8, p, 16); return r; }
static inline void simd_v128_store(uint8_t *p, v128 b) { memcpy(p, b.u8, 16); }

static inline v128 simd_v128_load8x8_s(const uint8_t *p) {
  int8_t t[8]; v128 r; memcpy(t, p, 8);
  for (int i = 0; i < 8; i++) r.i16[i] = t[i];
  return r;
}
static inline v128 simd_v128_load8x8_u(const uint8_t *p) {
  uint8_t t[8]; v128 r; memcpy(t, p, 8);
  for (int i = 0; i < 8; i++) r.u16[i] = t[i];
  return r;
}
static inline v128 simd_v128_load16x4_s(const uint8_t *p) {
  int16_t t[4]; v128 r; memcpy(t, p, 8);
  for (int i = 0; i < 4; i++) r.i32[i] = t[i];
  return r;
}
static inline v128 simd_v128_load16x4_u(const uint8_t *p) {
  uint16_t t[4]; v128 r; memcpy(t, p, 8);
  for (int i = 0; i < 4; i++) r.u32[i] = t[i];
  return r;
}
static inline v128 simd_v128_load32x2_s(const uint8_t *p) {
  int32_t t[2]; v128 r; memcpy(t, p, 8);
  for (int i = 0; i < 2; i++) r.i64[i] = t[i];
  return r;
}
static inline v128 simd_v128_load32x2_u(const uint8_t *p) {
  uint32_t t[2]; v128 r; memcpy(t, p, 8);
  for (int i = 0; i < 2; i++) r.u64[i] = t[i];
  return r;
}

static inline v128 simd_v128_load8_splat(const uint8_t *p) {
  v128 r; memset(r.u8, p[0], 16); return r;
}
static inline v128 simd_v128_load16_splat(const uint8_t *p) {
  uint16_t t; v128 r; memcpy(&t, p, 2);
  for (int i = 0; i < 8; i++) r.u16[i] = t;
  return r;
}
static inline v128 simd_v128_load32_splat(const uint8_t *p) {
  uint32_t t; v128 r; memcpy(&t, p, 4);
  for (int i = 0; i < 4; i++) r.u32[i] = t;
  return r;
}
static inline v128 simd_v128_load64_splat(const uint8_t *p) {
  uint64_t t; v128 r; memcpy(&t, p, 8);
  r.u64[0] = t; r.u64[1] = t;
  return r;
}

static inline v128 simd_v128_load32_zero(const uint8_t *p) {
  v128 r; memset(r.u8, 0, 16); memcpy(r.u8, p, 4); return r;
}
static inline v128 simd_v128_load64_zero(const uint8_t *p) {
  v128 r; memset(r.u8, 0, 16); memcpy(r.u8, p, 8); return r;
}

static inline v128 simd_v128_load8_lane(const uint8_t *p, v128 b, uint32_t lane) {
  b.u8[lane & 15] = p[0]; return b;
}
static inline v128 simd_v128_load16_lane(const uint8_t *p, v128 b, uint32_t lane) {
  memcpy(&b.u8[(lane & 7) * 2], p, 2); return b;
}
static inline v128 simd_v128_load32_lane(const uint8_t *p, v128 b, uint32_t lane) {
  memcpy(&b.u8[(lane & 3) * 4], p, 4); return b;
}
static inline v128 simd_v128_load64_lane(const uint8_t *p, v128 b, uint32_t lane) {
  memcpy(&b.u8[(lane & 1) * 8], p, 8); return b;
}
static inline void simd_v128_store8_lane(uint8_t *p, v128 b, uint32_t lane) {
  p[0] = b.u8[lane & 15];
}
static inline void simd_v128_store16_lane(uint8_t *p, v128 b, uint32_t lane) {
  memcpy(p, &b.u8[(lane & 7) * 2], 2);
}
static inline void simd_v128_store32_lane(uint8_t *p, v128 b, uint32_t lane) {
  memcpy(p, &b.u8[(lane & 3) * 4], 4);
}
static inline void simd_v128_store64_lane(uint8_t *p, v128 b, uint32_t lane) {
  memcpy(p, &b.u8[(lane & 1) * 8], 8);
}

/* ------------------------------------------------------------------ shuffles, splats, lanes */

/* i8x16.shuffle: lanes[i] < 32 selects byte lanes[i] of the 32-byte a:b */
static inline v128 simd_i8x16_shuffle(v128 a, v128 b, const uint8_t lanes[16]) {
  uint8_t t[32]; v128 r;
  memcpy(t, a.u8, 16); memcpy(t + 16, b.u8, 16);
  for (int i = 0; i < 16; i++) r.u8[i] = t[lanes[i] & 31];
  return r;
}
/* i8x16.swizzle: indices >= 16 give 0 */
SIMD_BINOP_(i8x16_swizzle, 16, u8, (uint8_t)(b.u8[i] < 16 ? a.u8[b.u8[i]] : 0))

static inline v128 simd_i8x16_splat(uint32_t a) { v128 r; memset(r.u8, (uint8_t)a, 16); return r; }
static inline v128 simd_i16x8_splat(uint32_t a) {
  v128 r; for (int i = 0; i < 8; i++) r.u16[i] = (uint16_t)a; return r;
}
static inline v128 simd_i32x4_splat(uint32_t a) {
  v128 r; for (int i = 0; i < 4; i++) r.u32[i] = a; return r;
}
static inline v128 simd_i64x2_splat(uint64_t a) { v128 r; r.u64[0] = a; r.u64[1] = a; return r; }
static inline v128 simd_f32x4_splat(float a) {
  v128 r; for (int i = 0; i < 4; i++) r.f32[i] = a; return r;
}
static inline v128 simd_f64x2_splat(double a) { v128 r; r.f64[0] = a; r.f64[1] = a; return r; }

static inline uint32_t simd_i8x16_extract_lane_s(v128 a, uint32_t lane) {
  return (uint32_t)(int32_t)a.i8[lane & 15];
}
static inline uint32_t simd_i8x16_extract_lane_u(v128 a, uint32_t lane) { return a.u8[lane & 15]; }
static inline uint32_t simd_i16x8_extract_lane_s(v128 a, uint32_t lane) {
  return (uint32_t)(int32_t)a.i16[lane & 7];
}
static inline uint32_t simd_i16x8_extract_lane_u(v128 a, uint32_t lane) { return a.u16[lane & 7]; }
static inline uint32_t simd_i32x4_extract_lane(v128 a, uint32_t lane) { return a.u32[lane & 3]; }
static inline uint64_t simd_i64x2_extract_lane(v128 a, uint32_t lane) { return a.u64[lane & 1]; }
static inline float simd_f32x4_extract_lane(v128 a, uint32_t lane) { return a.f32[lane & 3]; }
static inline double simd_f64x2_extract_lane(v128 a, uint32_t lane) { return a.f64[lane & 1]; }

static inline v128 simd_i8x16_replace_lane(v128 a, uint32_t lane, uint32_t b) {
  a.u8[lane & 15] = (uint8_t)b; return a;
}
static inline v128 simd_i16x8_replace_lane(v128 a, uint32_t lane, uint32_t b) {
  a.u16[lane & 7] = (uint16_t)b; return a;
}
static inline v128 simd_i32x4_replace_lane(v128 a, uint32_t lane, uint32_t b) {
  a.u32[lane & 3] = b; return a;
}
static inline v128 simd_i64x2_replace_lane(v128 a, uint32_t lane, uint64_t b) {
  a.u64[lane & 1] = b; return a;
}
static inline v128 simd_f32x4_replace_lane(v128 a, uint32_t lane, float b) {
  a.f32[lane & 3] = b; return a;
}
static inline v128 simd_f64x2_replace_lane(v128 a, uint32_t lane, double b) {
  a.f64[lane & 1] = b; return a;
}

/* ------------------------------------------------------------------ comparisons */

SIMD_CMPS_(i8x16, 16, i8, u8, uint8_t)
SIMD_CMPS_(i16x8, 8, i16, u16, uint16_t)
SIMD_CMPS_(i32x4, 4, i32, u32, uint32_t)

SIMD_CMP_(i64x2_eq, 2, u64, uint64_t, u64, ==)
SIMD_CMP_(i64x2_ne, 2, u64, uint64_t, u64, !=)
SIMD_CMP_(i64x2_lt_s, 2, u64, uint64_t, i64, <)
SIMD_CMP_(i64x2_gt_s, 2, u64, uint64_t, i64, >)
SIMD_CMP_(i64x2_le_s, 2, u64, uint64_t, i64, <=)
SIMD_CMP_(i64x2_ge_s, 2, u64, uint64_t, i64, >=)

/* float comparisons: ordered except ne, which holds when either operand is NaN */
SIMD_CMP_(f32x4_eq, 4, u32, uint32_t, f32, ==)
SIMD_CMP_(f32x4_ne, 4, u32, uint32_t, f32, !=)
SIMD_CMP_(f32x4_lt, 4, u32, uint32_t, f32, <)
SIMD_CMP_(f32x4_gt, 4, u32, uint32_t, f32, >)
SIMD_CMP_(f32x4_le, 4, u32, uint32_t, f32, <=)
SIMD_CMP_(f32x4_ge, 4, u32, uint32_t, f32, >=)
SIMD_CMP_(f64x2_eq, 2, u64, uint64_t, f64, ==)
SIMD_CMP_(f64x2_ne, 2, u64, uint64_t, f64, !=)
SIMD_CMP_(f64x2_lt, 2, u64, uint64_t, f64, <)
SIMD_CMP_(f64x2_gt, 2, u64, uint64_t, f64, >)
SIMD_CMP_(f64x2_le, 2, u64, uint64_t, f64, <=)
SIMD_CMP_(f64x2_ge, 2, u64, uint64_t, f64, >=)

/* ------------------------------------------------------------------ bitwise */

SIMD_UNOP_(v128_not, 2, u64, ~a.u64[i])
SIMD_BINOP_(v128_and, 2, u64, a.u64[i] & b.u64[i])
SIMD_BINOP_(v128_andnot, 2, u64, a.u64[i] & ~b.u64[i])
SIMD_BINOP_(v128_or, 2, u64, a.u64[i] | b.u64[i])
SIMD_BINOP_(v128_xor, 2, u64, a.u64[i] ^ b.u64[i])

/* bits of a where c is 1, bits of b where c is 0 */
static inline v128 simd_v128_bitselect(v128 a, v128 b, v128 c) {
  v128 r;
  for (int i = 0; i < 2; i++) r.u64[i] = (a.u64[i] & c.u64[i]) | (b.u64[i] & ~c.u64[i]);
  return r;
}
static inline uint32_t simd_v128_any_true(v128 a) { return (a.u64[0] | a.u64[1]) != 0; }

/* ------------------------------------------------------------------ lane-shape-generic integer ops */

#define SIMD_ALL_TRUE_(sh, N, U) \
  static inline uint32_t simd_##sh##_all_true(v128 a) { \
    uint32_t r = 1; \
    for (int i = 0; i < (N); i++) r &= a.U[i] != 0; \
    return r; \
  }
#define SIMD_BITMASK_(sh, N, U, BITS) \
  static inline uint32_t simd_##sh##_bitmask(v128 a) { \
    uint32_t r = 0; \
    for (int i = 0; i < (N); i++) r |= (uint32_t)(a.U[i] >> ((BITS) - 1)) << i; \
    return r; \
  }

SIMD_ALL_TRUE_(i8x16, 16, u8)
SIMD_ALL_TRUE_(i16x8, 8, u16)
SIMD_ALL_TRUE_(i32x4, 4, u32)
SIMD_ALL_TRUE_(i64x2, 2, u64)
SIMD_BITMASK_(i8x16, 16, u8, 8)
SIMD_BITMASK_(i16x8, 8, u16, 16)
SIMD_BITMASK_(i32x4, 4, u32, 32)
SIMD_BITMASK_(i64x2, 2, u64, 64)

/* abs and neg wrap: abs(INT_MIN) = INT_MIN */
SIMD_UNOP_(i8x16_abs, 16, u8, (uint8_t)(a.i8[i] < 0 ? 0u - a.u8[i] : a.u8[i]))
SIMD_UNOP_(i16x8_abs, 8, u16, (uint16_t)(a.i16[i] < 0 ? 0u - a.u16[i] : a.u16[i]))
SIMD_UNOP_(i32x4_abs, 4, u32, a.i32[i] < 0 ? 0u - a.u32[i] : a.u32[i])
SIMD_UNOP_(i64x2_abs, 2, u64, a.i64[i] < 0 ? 0ull - a.u64[i] : a.u64[i])
SIMD_UNOP_(i8x16_neg, 16, u8, (uint8_t)(0u - a.u8[i]))
SIMD_UNOP_(i16x8_neg, 8, u16, (uint16_t)(0u - a.u16[i]))
SIMD_UNOP_(i32x4_neg, 4, u32, 0u - a.u32[i])
SIMD_UNOP_(i64x2_neg, 2, u64, 0ull - a.u64[i])
SIMD_UNOP_(i8x16_popcnt, 16, u8, (uint8_t)__builtin_popcount(a.u8[i]))

/* shifts: count modulo the lane width; shr_s is arithmetic */
SIMD_SHIFT_(i8x16_shl, 16, u8, (uint8_t)((unsigned)a.u8[i] << s), 7)
SIMD_SHIFT_(i8x16_shr_s, 16, i8, (int8_t)(a.i8[i] >> s), 7)
SIMD_SHIFT_(i8x16_shr_u, 16, u8, (uint8_t)(a.u8[i] >> s), 7)
SIMD_SHIFT_(i16x8_shl, 8, u16, (uint16_t)((unsigned)a.u16[i] << s), 15)
SIMD_SHIFT_(i16x8_shr_s, 8, i16, (int16_t)(a.i16[i] >> s), 15)
SIMD_SHIFT_(i16x8_shr_u, 8, u16, (uint16_t)(a.u16[i] >> s), 15)
SIMD_SHIFT_(i32x4_shl, 4, u32, a.u32[i] << s, 31)
SIMD_SHIFT_(i32x4_shr_s, 4, i32, a.i32[i] >> s, 31)
SIMD_SHIFT_(i32x4_shr_u, 4, u32, a.u32[i] >> s, 31)
SIMD_SHIFT_(i64x2_shl, 2, u64, a.u64[i] << s, 63)
SIMD_SHIFT_(i64x2_shr_s, 2, i64, a.i64[i] >> s, 63)
SIMD_SHIFT_(i64x2_shr_u, 2, u64, a.u64[i] >> s, 63)

/* wrapping add/sub/mul (unsigned arithmetic, widened where int promotion could overflow) */
SIMD_BINOP_(i8x16_add, 16, u8, (uint8_t)(a.u8[i] + b.u8[i]))
SIMD_BINOP_(i8x16_sub, 16, u8, (uint8_t)(a.u8[i] - b.u8[i]))
SIMD_BINOP_(i16x8_add, 8, u16, (uint16_t)(a.u16[i] + b.u16[i]))
SIMD_BINOP_(i16x8_sub, 8, u16, (uint16_t)(a.u16[i] - b.u16[i]))
SIMD_BINOP_(i16x8_mul, 8, u16, (uint16_t)((uint32_t)a.u16[i] * b.u16[i]))
SIMD_BINOP_(i32x4_add, 4, u32, a.u32[i] + b.u32[i])
SIMD_BINOP_(i32x4_sub, 4, u32, a.u32[i] - b.u32[i])
SIMD_BINOP_(i32x4_mul, 4, u32, a.u32[i] * b.u32[i])
SIMD_BINOP_(i64x2_add, 2, u64, a.u64[i] + b.u64[i])
SIMD_BINOP_(i64x2_sub, 2, u64, a.u64[i] - b.u64[i])
SIMD_BINOP_(i64x2_mul, 2, u64, a.u64[i] * b.u64[i])

/* saturating add/sub */
SIMD_BINOP_(i8x16_add_sat_s, 16, i8, (int8_t)simd_clamp_(a.i8[i] + b.i8[i], INT8_MIN, INT8_MAX))
SIMD_BINOP_(i8x16_add_sat_u, 16, u8, (uint8_t)simd_clamp_(a.u8[i] + b.u8[i], 0, UINT8_MAX))
SIMD_BINOP_(i8x16_sub_sat_s, 16, i8, (int8_t)simd_clamp_(a.i8[i] - b.i8[i], INT8_MIN, INT8_MAX))
SIMD_BINOP_(i8x16_sub_sat_u, 16, u8, (uint8_t)simd_clamp_(a.u8[i] - b.u8[i], 0, UINT8_MAX))
SIMD_BINOP_(i16x8_add_sat_s, 8, i16,
            (int16_t)simd_clamp_(a.i16[i] + b.i16[i], INT16_MIN, INT16_MAX))
SIMD_BINOP_(i16x8_add_sat_u, 8, u16, (uint16_t)simd_clamp_(a.u16[i] + b.u16[i], 0, UINT16_MAX))
SIMD_BINOP_(i16x8_sub_sat_s, 8, i16,
            (int16_t)simd_clamp_(a.i16[i] - b.i16[i], INT16_MIN, INT16_MAX))
SIMD_BINOP_(i16x8_sub_sat_u, 8, u16, (uint16_t)simd_clamp_(a.u16[i] - b.u16[i], 0, UINT16_MAX))

/* min/max */
SIMD_BINOP_(i8x16_min_s, 16, i8, a.i8[i] < b.i8[i] ? a.i8[i] : b.i8[i])
SIMD_BINOP_(i8x16_min_u, 16, u8, a.u8[i] < b.u8[i] ? a.u8[i] : b.u8[i])
SIMD_BINOP_(i8x16_max_s, 16, i8, a.i8[i] > b.i8[i] ? a.i8[i] : b.i8[i])
SIMD_BINOP_(i8x16_max_u, 16, u8, a.u8[i] > b.u8[i] ? a.u8[i] : b.u8[i])
SIMD_BINOP_(i16x8_min_s, 8, i16, a.i16[i] < b.i16[i] ? a.i16[i] : b.i16[i])
SIMD_BINOP_(i16x8_min_u, 8, u16, a.u16[i] < b.u16[i] ? a.u16[i] : b.u16[i])
SIMD_BINOP_(i16x8_max_s, 8, i16, a.i16[i] > b.i16[i] ? a.i16[i] : b.i16[i])
SIMD_BINOP_(i16x8_max_u, 8, u16, a.u16[i] > b.u16[i] ? a.u16[i] : b.u16[i])
SIMD_BINOP_(i32x4_min_s, 4, i32, a.i32[i] < b.i32[i] ? a.i32[i] : b.i32[i])
SIMD_BINOP_(i32x4_min_u, 4, u32, a.u32[i] < b.u32[i] ? a.u32[i] : b.u32[i])
SIMD_BINOP_(i32x4_max_s, 4, i32, a.i32[i] > b.i32[i] ? a.i32[i] : b.i32[i])
SIMD_BINOP_(i32x4_max_u, 4, u32, a.u32[i] > b.u32[i] ? a.u32[i] : b.u32[i])

/* rounding average: (a + b + 1) / 2 without overflow */
SIMD_BINOP_(i8x16_avgr_u, 16, u8, (uint8_t)((a.u8[i] + b.u8[i] + 1u) >> 1))
SIMD_BINOP_(i16x8_avgr_u, 8, u16, (uint16_t)(((uint32_t)a.u16[i] + b.u16[i] + 1u) >> 1))

/* q15 rounding multiply: sat((a * b + 0x4000) >> 15); only 0x8000 * 0x8000 saturates */
SIMD_BINOP_(i16x8_q15mulr_sat_s, 8, i16,
            (int16_t)simd_clamp_((a.i16[i] * b.i16[i] + 0x4000) >> 15, INT16_MIN, INT16_MAX))

/* dot product: pairwise products summed, wrapping (only -0x8000^2 * 2 wraps) */
SIMD_BINOP_(i32x4_dot_i16x8_s, 4, u32,
            (uint32_t)(a.i16[2 * i] * b.i16[2 * i]) +
                (uint32_t)(a.i16[2 * i + 1] * b.i16[2 * i + 1]))

/* narrow: a gives the low lanes, b the high lanes, each saturated */
static inline v128 simd_i8x16_narrow_i16x8_s(v128 a, v128 b) {
  v128 r;
  for (int i = 0; i < 8; i++) {
    r.i8[i] = (int8_t)simd_clamp_(a.i16[i], INT8_MIN, INT8_MAX);
    r.i8[i + 8] = (int8_t)simd_clamp_(b.i16[i], INT8_MIN, INT8_MAX);
  }
  return r;
}
static inline v128 simd_i8x16_narrow_i16x8_u(v128 a, v128 b) {
  v128 r;
  for (int i = 0; i < 8; i++) {
    r.u8[i] = (uint8_t)simd_clamp_(a.i16[i], 0, UINT8_MAX);
    r.u8[i + 8] = (uint8_t)simd_clamp_(b.i16[i], 0, UINT8_MAX);
  }
  return r;
}
static inline v128 simd_i16x8_narrow_i32x4_s(v128 a, v128 b) {
  v128 r;
  for (int i = 0; i < 4; i++) {
    r.i16[i] = (int16_t)simd_clamp_(a.i32[i], INT16_MIN, INT16_MAX);
    r.i16[i + 4] = (int16_t)simd_clamp_(b.i32[i], INT16_MIN, INT16_MAX);
  }
  return r;
}
static inline v128 simd_i16x8_narrow_i32x4_u(v128 a, v128 b) {
  v128 r;
  for (int i = 0; i < 4; i++) {
    r.u16[i] = (uint16_t)simd_clamp_(a.i32[i], 0, UINT16_MAX);
    r.u16[i + 4] = (uint16_t)simd_clamp_(b.i32[i], 0, UINT16_MAX);
  }
  return r;
}

/* extend the low or high half of the lanes to twice their width */
SIMD_UNOP_(i16x8_extend_low_i8x16_s, 8, i16, a.i8[i])
SIMD_UNOP_(i16x8_extend_high_i8x16_s, 8, i16, a.i8[i + 8])
SIMD_UNOP_(i16x8_extend_low_i8x16_u, 8, u16, a.u8[i])
SIMD_UNOP_(i16x8_extend_high_i8x16_u, 8, u16, a.u8[i + 8])
SIMD_UNOP_(i32x4_extend_low_i16x8_s, 4, i32, a.i16[i])
SIMD_UNOP_(i32x4_extend_high_i16x8_s, 4, i32, a.i16[i + 4])
SIMD_UNOP_(i32x4_extend_low_i16x8_u, 4, u32, a.u16[i])
SIMD_UNOP_(i32x4_extend_high_i16x8_u, 4, u32, a.u16[i + 4])
SIMD_UNOP_(i64x2_extend_low_i32x4_s, 2, i64, a.i32[i])
SIMD_UNOP_(i64x2_extend_high_i32x4_s, 2, i64, a.i32[i + 2])
SIMD_UNOP_(i64x2_extend_low_i32x4_u, 2, u64, a.u32[i])
SIMD_UNOP_(i64x2_extend_high_i32x4_u, 2, u64, a.u32[i + 2])

/* extended multiplication: the products always fit the wide lane */
SIMD_BINOP_(i16x8_extmul_low_i8x16_s, 8, i16, (int16_t)(a.i8[i] * b.i8[i]))
SIMD_BINOP_(i16x8_extmul_high_i8x16_s, 8, i16, (int16_t)(a.i8[i + 8] * b.i8[i + 8]))
SIMD_BINOP_(i16x8_extmul_low_i8x16_u, 8, u16, (uint16_t)(a.u8[i] * b.u8[i]))
SIMD_BINOP_(i16x8_extmul_high_i8x16_u, 8, u16, (uint16_t)(a.u8[i + 8] * b.u8[i + 8]))
SIMD_BINOP_(i32x4_extmul_low_i16x8_s, 4, i32, (int32_t)a.i16[i] * b.i16[i])
SIMD_BINOP_(i32x4_extmul_high_i16x8_s, 4, i32, (int32_t)a.i16[i + 4] * b.i16[i + 4])
SIMD_BINOP_(i32x4_extmul_low_i16x8_u, 4, u32, (uint32_t)a.u16[i] * b.u16[i])
SIMD_BINOP_(i32x4_extmul_high_i16x8_u, 4, u32, (uint32_t)a.u16[i + 4] * b.u16[i + 4])
SIMD_BINOP_(i64x2_extmul_low_i32x4_s, 2, i64, (int64_t)a.i32[i] * b.i32[i])
SIMD_BINOP_(i64x2_extmul_high_i32x4_s, 2, i64, (int64_t)a.i32[i + 2] * b.i32[i + 2])
SIMD_BINOP_(i64x2_extmul_low_i32x4_u, 2, u64, (uint64_t)a.u32[i] * b.u32[i])
SIMD_BINOP_(i64x2_extmul_high_i32x4_u, 2, u64, (uint64_t)a.u32[i + 2] * b.u32[i + 2])

/* extended pairwise addition: adjacent lane pairs summed into a lane twice as wide */
SIMD_UNOP_(i16x8_extadd_pairwise_i8x16_s, 8, i16, (int16_t)(a.i8[2 * i] + a.i8[2 * i + 1]))
SIMD_UNOP_(i16x8_extadd_pairwise_i8x16_u, 8, u16, (uint16_t)(a.u8[2 * i] + a.u8[2 * i + 1]))
SIMD_UNOP_(i32x4_extadd_pairwise_i16x8_s, 4, i32, (int32_t)a.i16[2 * i] + a.i16[2 * i + 1])
SIMD_UNOP_(i32x4_extadd_pairwise_i16x8_u, 4, u32, (uint32_t)a.u16[2 * i] + a.u16[2 * i + 1])

/* ------------------------------------------------------------------ floating point */

/* abs and neg only touch the sign bit, NaN payloads included */
SIMD_UNOP_(f32x4_abs, 4, u32, a.u32[i] & 0x7FFFFFFFu)
SIMD_UNOP_(f32x4_neg, 4, u32, a.u32[i] ^ 0x80000000u)
SIMD_UNOP_(f64x2_abs, 2, u64, a.u64[i] & 0x7FFFFFFFFFFFFFFFull)
SIMD_UNOP_(f64x2_neg, 2, u64, a.u64[i] ^ 0x8000000000000000ull)

/* rounding: libm may hand a signalling NaN back unchanged, but the result must be an
 * arithmetic (quiet) NaN, so NaNs go through an addition instead. nearest uses the default
 * rounding mode: to nearest, ties to even. */
SIMD_UNOP_(f32x4_sqrt, 4, f32, sqrtf(a.f32[i]))
SIMD_UNOP_(f32x4_ceil, 4, f32, f32_ceil(a.f32[i]))
SIMD_UNOP_(f32x4_floor, 4, f32, f32_floor(a.f32[i]))
SIMD_UNOP_(f32x4_trunc, 4, f32, f32_trunc(a.f32[i]))
SIMD_UNOP_(f32x4_nearest, 4, f32, f32_nearest(a.f32[i]))
SIMD_UNOP_(f64x2_sqrt, 2, f64, sqrt(a.f64[i]))
SIMD_UNOP_(f64x2_ceil, 2, f64, f64_ceil(a.f64[i]))
SIMD_UNOP_(f64x2_floor, 2, f64, f64_floor(a.f64[i]))
SIMD_UNOP_(f64x2_trunc, 2, f64, f64_trunc(a.f64[i]))
SIMD_UNOP_(f64x2_nearest, 2, f64, f64_nearest(a.f64[i]))

SIMD_BINOP_(f32x4_add, 4, f32, a.f32[i] + b.f32[i])
SIMD_BINOP_(f32x4_sub, 4, f32, a.f32[i] - b.f32[i])
SIMD_BINOP_(f32x4_mul, 4, f32, a.f32[i] * b.f32[i])
SIMD_BINOP_(f32x4_div, 4, f32, a.f32[i] / b.f32[i])
SIMD_BINOP_(f32x4_min, 4, f32, f32_min(a.f32[i], b.f32[i]))
SIMD_BINOP_(f32x4_max, 4, f32, f32_max(a.f32[i], b.f32[i]))
SIMD_BINOP_(f64x2_add, 2, f64, a.f64[i] + b.f64[i])
SIMD_BINOP_(f64x2_sub, 2, f64, a.f64[i] - b.f64[i])
SIMD_BINOP_(f64x2_mul, 2, f64, a.f64[i] * b.f64[i])
SIMD_BINOP_(f64x2_div, 2, f64, a.f64[i] / b.f64[i])
SIMD_BINOP_(f64x2_min, 2, f64, f64_min(a.f64[i], b.f64[i]))
SIMD_BINOP_(f64x2_max, 2, f64, f64_max(a.f64[i], b.f64[i]))

/* pseudo-min/max: pmin = b < a ? b : a, pmax = a < b ? b : a, moving the chosen bits */
SIMD_BINOP_(f32x4_pmin, 4, u32, b.f32[i] < a.f32[i] ? b.u32[i] : a.u32[i])
SIMD_BINOP_(f32x4_pmax, 4, u32, a.f32[i] < b.f32[i] ? b.u32[i] : a.u32[i])
SIMD_BINOP_(f64x2_pmin, 2, u64, b.f64[i] < a.f64[i] ? b.u64[i] : a.u64[i])
SIMD_BINOP_(f64x2_pmax, 2, u64, a.f64[i] < b.f64[i] ? b.u64[i] : a.u64[i])

/* ------------------------------------------------------------------ conversions */

static inline v128 simd_f32x4_demote_f64x2_zero(v128 a) {
  v128 r;
  r.f32[0] = (float)a.f64[0];
  r.f32[1] = (float)a.f64[1];
  r.u32[2] = 0;
  r.u32[3] = 0;
  return r;
}
SIMD_UNOP_(f64x2_promote_low_f32x4, 2, f64, (double)a.f32[i])

SIMD_UNOP_(i32x4_trunc_sat_f32x4_s, 4, i32, simd_trunc_sat_s32_(a.f32[i]))
SIMD_UNOP_(i32x4_trunc_sat_f32x4_u, 4, u32, simd_trunc_sat_u32_(a.f32[i]))
static inline v128 simd_i32x4_trunc_sat_f64x2_s_zero(v128 a) {
  v128 r;
  r.i32[0] = simd_trunc_sat_s32_(a.f64[0]);
  r.i32[1] = simd_trunc_sat_s32_(a.f64[1]);
  r.u32[2] = 0;
  r.u32[3] = 0;
  return r;
}
static inline v128 simd_i32x4_trunc_sat_f64x2_u_zero(v128 a) {
  v128 r;
  r.u32[0] = simd_trunc_sat_u32_(a.f64[0]);
  r.u32[1] = simd_trunc_sat_u32_(a.f64[1]);
  r.u32[2] = 0;
  r.u32[3] = 0;
  return r;
}

/* int -> float conversions round to nearest, ties to even (the default rounding mode) */
SIMD_UNOP_(f32x4_convert_i32x4_s, 4, f32, (float)a.i32[i])
SIMD_UNOP_(f32x4_convert_i32x4_u, 4, f32, (float)a.u32[i])
SIMD_UNOP_(f64x2_convert_low_i32x4_s, 2, f64, (double)a.i32[i])
SIMD_UNOP_(f64x2_convert_low_i32x4_u, 2, f64, (double)a.u32[i])

#undef SIMD_ALL_TRUE_
#undef SIMD_BITMASK_
#undef SIMD_CMPS_
#undef SIMD_CMP_
#undef SIMD_SHIFT_
#undef SIMD_BINOP_
#undef SIMD_UNOP_
#undef SIMD_MASK_

#endif /* KILN_SIMD_H */
