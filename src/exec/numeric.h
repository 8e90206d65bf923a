/* numeric.h - exact WebAssembly semantics of the scalar numeric instructions that C does not
 * give directly: bit counts, rotations, trapping division and conversion, NaN-aware min/max,
 * saturating conversion, bit reinterpretation and little-endian memory access. */
#ifndef KILN_NUMERIC_H
#define KILN_NUMERIC_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kiln.h"

typedef uint32_t u32;
typedef uint64_t u64;
typedef float f32;
typedef double f64;

static inline u32 clz32(u32 a) { return a ? (u32)__builtin_clz(a) : 32; }
static inline u32 ctz32(u32 a) { return a ? (u32)__builtin_ctz(a) : 32; }
static inline u64 clz64(u64 a) { return a ? (u64)__builtin_clzll(a) : 64; }
static inline u64 ctz64(u64 a) { return a ? (u64)__builtin_ctzll(a) : 64; }
static inline u32 rotl32(u32 a, u32 b) { b &= 31; return (a << b) | (a >> ((32 - b) & 31)); }
static inline u32 rotr32(u32 a, u32 b) { b &= 31; return (a >> b) | (a << ((32 - b) & 31)); }
static inline u64 rotl64(u64 a, u64 b) { b &= 63; return (a << b) | (a >> ((64 - b) & 63)); }
static inline u64 rotr64(u64 a, u64 b) { b &= 63; return (a >> b) | (a << ((64 - b) & 63)); }

/* ---- trapping integer division: set *trap and return 0 on a trap */
static inline u32 i32_div_s(u32 a, u32 b, kiln_trap_kind *trap) {
  if (b == 0) { *trap = KILN_TRAP_INTEGER_DIVIDE_BY_ZERO; return 0; }
  if (a == 0x80000000u && b == 0xFFFFFFFFu) { *trap = KILN_TRAP_INTEGER_OVERFLOW; return 0; }
  return (u32)((int32_t)a / (int32_t)b);
}
static inline u32 i32_div_u(u32 a, u32 b, kiln_trap_kind *trap) {
  if (b == 0) { *trap = KILN_TRAP_INTEGER_DIVIDE_BY_ZERO; return 0; }
  return a / b;
}
static inline u32 i32_rem_s(u32 a, u32 b, kiln_trap_kind *trap) {
  if (b == 0) { *trap = KILN_TRAP_INTEGER_DIVIDE_BY_ZERO; return 0; }
  if (b == 0xFFFFFFFFu) return 0;
  return (u32)((int32_t)a % (int32_t)b);
}
static inline u32 i32_rem_u(u32 a, u32 b, kiln_trap_kind *trap) {
  if (b == 0) { *trap = KILN_TRAP_INTEGER_DIVIDE_BY_ZERO; return 0; }
  return a % b;
}
static inline u64 i64_div_s(u64 a, u64 b, kiln_trap_kind *trap) {
  if (b == 0) { *trap = KILN_TRAP_INTEGER_DIVIDE_BY_ZERO; return 0; }
  if (a == 0x8000000000000000ull && b == ~0ull) { *trap = KILN_TRAP_INTEGER_OVERFLOW; return 0; }
  return (u64)((int64_t)a / (int64_t)b);
}
static inline u64 i64_div_u(u64 a, u64 b, kiln_trap_kind *trap) {
  if (b == 0) { *trap = KILN_TRAP_INTEGER_DIVIDE_BY_ZERO; return 0; }
  return a / b;
}
static inline u64 i64_rem_s(u64 a, u64 b, kiln_trap_kind *trap) {
  if (b == 0) { *trap = KILN_TRAP_INTEGER_DIVIDE_BY_ZERO; return 0; }
  if (b == ~0ull) return 0;
  return (u64)((int64_t)a % (int64_t)b);
}
static inline u64 i64_rem_u(u64 a, u64 b, kiln_trap_kind *trap) {
  if (b == 0) { *trap = KILN_TRAP_INTEGER_DIVIDE_BY_ZERO; return 0; }
  return a % b;
}

/* ---- bit reinterpretation */
static inline u32 bits_f32(f32 f) { u32 u; memcpy(&u, &f, 4); return u; }
static inline u64 bits_f64(f64 f) { u64 u; memcpy(&u, &f, 8); return u; }
static inline f32 f32_from_bits(u32 u) { f32 f; memcpy(&f, &u, 4); return f; }
static inline f64 f64_from_bits(u64 u) { f64 f; memcpy(&f, &u, 8); return f; }

/* ---- sign operations are pure bit operations (NaN payloads survive) */
static inline f32 f32_abs(f32 a) { return f32_from_bits(bits_f32(a) & 0x7FFFFFFFu); }
static inline f32 f32_neg(f32 a) { return f32_from_bits(bits_f32(a) ^ 0x80000000u); }
static inline f32 f32_copysign(f32 a, f32 b) {
  return f32_from_bits((bits_f32(a) & 0x7FFFFFFFu) | (bits_f32(b) & 0x80000000u));
}
static inline f64 f64_abs(f64 a) { return f64_from_bits(bits_f64(a) & 0x7FFFFFFFFFFFFFFFull); }
static inline f64 f64_neg(f64 a) { return f64_from_bits(bits_f64(a) ^ 0x8000000000000000ull); }
static inline f64 f64_copysign(f64 a, f64 b) {
  return f64_from_bits((bits_f64(a) & 0x7FFFFFFFFFFFFFFFull) | (bits_f64(b) & 0x8000000000000000ull));
}

/* ---- rounding: a NaN input must come out quiet (libm may pass a signalling NaN through) */
static inline f32 f32_ceil(f32 a) { return a != a ? a + a : ceilf(a); }
static inline f32 f32_floor(f32 a) { return a != a ? a + a : floorf(a); }
static inline f32 f32_trunc(f32 a) { return a != a ? a + a : truncf(a); }
static inline f32 f32_nearest(f32 a) { return a != a ? a + a : nearbyintf(a); }
static inline f64 f64_ceil(f64 a) { return a != a ? a + a : ceil(a); }
static inline f64 f64_floor(f64 a) { return a != a ? a + a : floor(a); }
static inline f64 f64_trunc(f64 a) { return a != a ? a + a : trunc(a); }
static inline f64 f64_nearest(f64 a) { return a != a ? a + a : nearbyint(a); }

/* ---- min/max: NaN if either is NaN; -0 < +0 */
static inline f32 f32_min(f32 a, f32 b) {
  if (a != a || b != b) return a + b;
  if (a == b) return f32_from_bits(bits_f32(a) | bits_f32(b)); /* -0 wins */
  return a < b ? a : b;
}
static inline f32 f32_max(f32 a, f32 b) {
  if (a != a || b != b) return a + b;
  if (a == b) return f32_from_bits(bits_f32(a) & bits_f32(b)); /* +0 wins */
  return a > b ? a : b;
}
static inline f64 f64_min(f64 a, f64 b) {
  if (a != a || b != b) return a + b;
  if (a == b) return f64_from_bits(bits_f64(a) | bits_f64(b));
  return a < b ? a : b;
}
static inline f64 f64_max(f64 a, f64 b) {
  if (a != a || b != b) return a + b;
  if (a == b) return f64_from_bits(bits_f64(a) & bits_f64(b));
  return a > b ? a : b;
}

/* ---- trapping float-to-int conversion. The bounds are exact: a value converts when
 * lo < trunc(a) < hi, written with the exactly representable limits. */
#define KILN_TRUNC(name, ftype, itype, lo, hi)                          \
  static inline itype name(ftype a, kiln_trap_kind *trap) {             \
    if (a != a) { *trap = KILN_TRAP_INVALID_CONVERSION; return 0; }     \
    if (!(a > (ftype)(lo) && a < (ftype)(hi))) {                        \
      *trap = KILN_TRAP_INTEGER_OVERFLOW;                               \
      return 0;                                                         \
    }                                                                   \
    return (itype)a;                                                    \
  }
/* For signed targets the lower bound is MIN-1 (exclusive); with floats MIN-1 is not always
 * representable, so compare a > MIN-1 as a >= MIN when MIN-1 rounds to MIN. */
static inline u32 i32_trunc_f32_s(f32 a, kiln_trap_kind *trap) {
  if (a != a) { *trap = KILN_TRAP_INVALID_CONVERSION; return 0; }
  if (!(a >= -2147483648.0f && a < 2147483648.0f)) { *trap = KILN_TRAP_INTEGER_OVERFLOW; return 0; }
  return (u32)(int32_t)a;
}
static inline u32 i32_trunc_f64_s(f64 a, kiln_trap_kind *trap) {
  if (a != a) { *trap = KILN_TRAP_INVALID_CONVERSION; return 0; }
  if (!(a > -2147483649.0 && a < 2147483648.0)) { *trap = KILN_TRAP_INTEGER_OVERFLOW; return 0; }
  return (u32)(int32_t)a;
}
static inline u64 i64_trunc_f32_s(f32 a, kiln_trap_kind *trap) {
  if (a != a) { *trap = KILN_TRAP_INVALID_CONVERSION; return 0; }
  if (!(a >= -9223372036854775808.0f && a < 9223372036854775808.0f)) { *trap = KILN_TRAP_INTEGER_OVERFLOW; return 0; }
  return (u64)(int64_t)a;
}
static inline u64 i64_trunc_f64_s(f64 a, kiln_trap_kind *trap) {
  if (a != a) { *trap = KILN_TRAP_INVALID_CONVERSION; return 0; }
  if (!(a >= -9223372036854775808.0 && a < 9223372036854775808.0)) { *trap = KILN_TRAP_INTEGER_OVERFLOW; return 0; }
  return (u64)(int64_t)a;
}
KILN_TRUNC(i32_trunc_f32_u, f32, u32, -1.0f, 4294967296.0f)
KILN_TRUNC(i32_trunc_f64_u, f64, u32, -1.0, 4294967296.0)
KILN_TRUNC(i64_trunc_f32_u, f32, u64, -1.0f, 18446744073709551616.0f)
KILN_TRUNC(i64_trunc_f64_u, f64, u64, -1.0, 18446744073709551616.0)
#undef KILN_TRUNC

/* ---- saturating conversion: NaN -> 0, out of range -> the nearest bound */
static inline u32 i32_trunc_sat_f32_s(f32 a) {
  if (a != a) return 0;
  if (a < -2147483648.0f) return 0x80000000u;
  if (a >= 2147483648.0f) return 0x7FFFFFFFu;
  return (u32)(int32_t)a;
}
static inline u32 i32_trunc_sat_f64_s(f64 a) {
  if (a != a) return 0;
  if (a <= -2147483649.0) return 0x80000000u;
  if (a >= 2147483648.0) return 0x7FFFFFFFu;
  return (u32)(int32_t)a;
}
static inline u32 i32_trunc_sat_f32_u(f32 a) {
  if (a != a || a <= -1.0f) return 0;
  if (a >= 4294967296.0f) return 0xFFFFFFFFu;
  return (u32)a;
}
static inline u32 i32_trunc_sat_f64_u(f64 a) {
  if (a != a || a <= -1.0) return 0;
  if (a >= 4294967296.0) return 0xFFFFFFFFu;
  return (u32)a;
}
static inline u64 i64_trunc_sat_f32_s(f32 a) {
  if (a != a) return 0;
  if (a < -9223372036854775808.0f) return 0x8000000000000000ull;
  if (a >= 9223372036854775808.0f) return 0x7FFFFFFFFFFFFFFFull;
  return (u64)(int64_t)a;
}
static inline u64 i64_trunc_sat_f64_s(f64 a) {
  if (a != a) return 0;
  if (a < -9223372036854775808.0) return 0x8000000000000000ull;
  if (a >= 9223372036854775808.0) return 0x7FFFFFFFFFFFFFFFull;
  return (u64)(int64_t)a;
}
static inline u64 i64_trunc_sat_f32_u(f32 a) {
  if (a != a || a <= -1.0f) return 0;
  if (a >= 18446744073709551616.0f) return ~0ull;
  return (u64)a;
}
static inline u64 i64_trunc_sat_f64_u(f64 a) {
  if (a != a || a <= -1.0) return 0;
  if (a >= 18446744073709551616.0) return ~0ull;
  return (u64)a;
}

/* ---- little-endian memory access at any alignment */
static inline uint16_t load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline u32 load_u32(const uint8_t *p) { u32 v; memcpy(&v, p, 4); return v; }
static inline u64 load_u64(const uint8_t *p) { u64 v; memcpy(&v, p, 8); return v; }
static inline f32 load_f32(const uint8_t *p) { f32 v; memcpy(&v, p, 4); return v; }
static inline f64 load_f64(const uint8_t *p) { f64 v; memcpy(&v, p, 8); return v; }
static inline void store_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void store_u32(uint8_t *p, u32 v) { memcpy(p, &v, 4); }
static inline void store_u64(uint8_t *p, u64 v) { memcpy(p, &v, 8); }
static inline void store_f32(uint8_t *p, f32 v) { memcpy(p, &v, 4); }
static inline void store_f64(uint8_t *p, f64 v) { memcpy(p, &v, 8); }

#endif
