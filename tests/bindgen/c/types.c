/* types.c - every type of kiln/guest.h, for tests/bindgen/types.test.mjs. */
#include <kiln/guest.h>
#include <unistd.h>

#define ECHO(type, ctype) \
  KILN_EXPORT(type, echo_##type, (type, x)) \
  ctype echo_##type(ctype x) { return x; }
ECHO(i8, int8_t)
ECHO(u8, uint8_t)
ECHO(i16, int16_t)
ECHO(u16, uint16_t)
ECHO(i32, int32_t)
ECHO(u32, uint32_t)
ECHO(i64, int64_t)
ECHO(u64, uint64_t)
ECHO(f32, float)
ECHO(f64, double)
ECHO(bool, bool)

/* Sequences are lent: a result must be a copy made with kiln_alloc. */
#define ECHO_SEQ(type)                                                        \
  KILN_EXPORT(type, echo_##type, (type, x))                                   \
  kiln_##type echo_##type(kiln_##type x) {                                    \
    kiln_##type r = KILN_ARRAY_NEW(kiln_##type, x.len);                       \
    if (x.len) memcpy(r.ptr, x.ptr, x.len * sizeof *x.ptr);                   \
    return r;                                                                 \
  }
ECHO_SEQ(bytes)
ECHO_SEQ(i8s)
ECHO_SEQ(u8s)
ECHO_SEQ(i16s)
ECHO_SEQ(u16s)
ECHO_SEQ(i32s)
ECHO_SEQ(u32s)
ECHO_SEQ(i64s)
ECHO_SEQ(u64s)
ECHO_SEQ(f32s)
ECHO_SEQ(f64s)

KILN_EXPORT(string, echo_string, (string, x))
kiln_string echo_string(kiln_string x) { return kiln_string_copy(x.ptr, x.len); }

KILN_EXPORT(string, say, (string, name))
kiln_string say(kiln_string name) {
  return kiln_string_printf("hello %.*s", (int)name.len, name.ptr);
}

KILN_EXPORT(u32, str_len, (string, s))
uint32_t str_len(kiln_string s) { return (uint32_t)s.len; }

KILN_EXPORT(u64, sum_bytes, (bytes, b))
uint64_t sum_bytes(kiln_bytes b) {
  uint64_t sum = 0;
  for (size_t i = 0; i < b.len; i++) sum += b.ptr[i];
  return sum;
}

KILN_EXPORT(f64, sum_f64, (f64s, v))
double sum_f64(kiln_f64s v) {
  double sum = 0;
  for (size_t i = 0; i < v.len; i++) sum += v.ptr[i];
  return sum;
}

KILN_EXPORT(bytes, invert, (bytes, b))
kiln_bytes invert(kiln_bytes b) {
  kiln_bytes r = kiln_bytes_new(b.len);
  for (size_t i = 0; i < b.len; i++) r.ptr[i] = (uint8_t)~b.ptr[i];
  return r;
}

KILN_EXPORT(string, mix, (i32, a), (f64, b), (string, c), (bool, d), (u64, e), (bytes, f))
kiln_string mix(int32_t a, double b, kiln_string c, bool d, uint64_t e, kiln_bytes f) {
  return kiln_string_printf("%d %g %.*s %s %llu %zu", a, b, (int)c.len, c.ptr, d ? "true" : "false",
                            (unsigned long long)e, f.len);
}

KILN_EXPORT0(void, nothing)
void nothing(void) {}

KILN_EXPORT0(string, empty)
kiln_string empty(void) { return (kiln_string){NULL, 0}; }

KILN_EXPORT(i32, checked_div, (i32, a), (i32, b))
int32_t checked_div(int32_t a, int32_t b) {
  if (b == 0) kiln_fail("division by zero");
  return a / b;
}

KILN_EXPORT(i32, fail_with_frame, (i32, n))
int32_t fail_with_frame(int32_t n) {
  char message[256]; /* on the C stack: a failing call must not leave it allocated */
  snprintf(message, sizeof message, "failed with %d", (int)n);
  kiln_fail(message);
}

KILN_EXPORT0(i32, traps)
int32_t traps(void) { __builtin_trap(); }

KILN_EXPORT(u32, spin, (u32, n))
uint32_t spin(uint32_t n) {
  uint32_t x = 0;
  for (uint32_t i = 0; i < n; i++) x = x * 31 + i;
  return x;
}

/* The guest heap in use, to check that calls leak nothing: sbrk(0) is its top. */
KILN_EXPORT0(u32, heap_top)
uint32_t heap_top(void) { return (uint32_t)(uintptr_t)sbrk(0); }
