/*
 * kiln/guest.h - export C functions to JavaScript through `kiln bindgen`.
 *
 * Compile the guest for wasm (`kiln build hello.c`, or clang --target=wasm32-wasi
 * -mexec-model=reactor) and declare each export with KILN_EXPORT:
 *
 *   #include <kiln/guest.h>
 *
 *   KILN_EXPORT(string, say, (string, name))
 *   kiln_string say(kiln_string name) {
 *     return kiln_string_printf("hello %.*s", (int)name.len, name.ptr);
 *   }
 *
 *   KILN_EXPORT(f64, mean, (f64s, values))
 *   double mean(kiln_f64s values) { ... }
 *
 * KILN_EXPORT(result type, name, (type, parameter)...) declares `name` with C types and
 * defines a wrapper exported to wasm under that name; it also records "say(name: string)
 * -> string" in the custom section kiln.exports, which `kiln bindgen` reads to write the
 * JavaScript glue (say(name: string): string in JS).
 *
 * Types (JS type in brackets):
 *   i8 u8 i16 u16 i32 u32 f32 f64   int8_t ... double                [number]
 *   i64 u64                          int64_t, uint64_t                [bigint]
 *   bool                             bool                             [boolean]
 *   string                           kiln_string {char *ptr; size_t len}: UTF-8, not
 *                                    NUL-terminated                   [string]
 *   bytes                            kiln_bytes {uint8_t *ptr; size_t len}   [Uint8Array]
 *   i8s u8s i16s u16s i32s u32s i64s u64s f32s f64s
 *                                    kiln_i32s {int32_t *ptr; size_t len} (len counts
 *                                    elements), ...                   [Int32Array, ...]
 *   void                             (results only)                   [undefined]
 *
 * Memory across the boundary, all through kiln_alloc and kiln_free (exported by this
 * header; malloc and free underneath):
 *   - Arguments are lent: the glue allocates them with kiln_alloc, copies the JS value in,
 *     and frees them with kiln_free after the call. The function may read and modify them
 *     while it runs, and must not keep or return their pointers.
 *   - Results are given: a string, bytes or array result must be a buffer from kiln_alloc
 *     (kiln_string_new, kiln_bytes_new, kiln_string_copy, kiln_string_printf, ...), or
 *     {NULL, 0} for an empty one. The glue copies it out and frees it with kiln_free.
 * So a call leaks nothing on either side, whatever its types.
 *
 * Errors: kiln_fail("message") ends the call; in JS it throws an Error with that message.
 * (Memory the call allocated is not freed then.) A trap (__builtin_trap(), an out of bounds
 * access) is a kiln.RuntimeError.
 */
#ifndef KILN_GUEST_H
#define KILN_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__wasm__)
#error "kiln/guest.h is for code compiled to WebAssembly (clang --target=wasm32-wasi)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kiln_string { char *ptr; size_t len; } kiln_string;
typedef struct kiln_bytes { uint8_t *ptr; size_t len; } kiln_bytes;
typedef struct kiln_i8s { int8_t *ptr; size_t len; } kiln_i8s;
typedef struct kiln_u8s { uint8_t *ptr; size_t len; } kiln_u8s;
typedef struct kiln_i16s { int16_t *ptr; size_t len; } kiln_i16s;
typedef struct kiln_u16s { uint16_t *ptr; size_t len; } kiln_u16s;
typedef struct kiln_i32s { int32_t *ptr; size_t len; } kiln_i32s;
typedef struct kiln_u32s { uint32_t *ptr; size_t len; } kiln_u32s;
typedef struct kiln_i64s { int64_t *ptr; size_t len; } kiln_i64s;
typedef struct kiln_u64s { uint64_t *ptr; size_t len; } kiln_u64s;
typedef struct kiln_f32s { float *ptr; size_t len; } kiln_f32s;
typedef struct kiln_f64s { double *ptr; size_t len; } kiln_f64s;
typedef struct kiln__slice { void *ptr; size_t len; } kiln__slice; /* where results go */

/* ---------------------------------------------------------------- memory */

/* What the glue allocates arguments with and frees results with. Weak, so every file of a
 * guest may include this header. kiln_alloc(0) returns a valid pointer. */
__attribute__((weak, export_name("kiln_alloc"))) void *kiln_alloc(size_t size) {
  return malloc(size ? size : 1);
}
__attribute__((weak, export_name("kiln_free"))) void kiln_free(void *ptr) { free(ptr); }

/* The C stack pointer (the linker's __stack_pointer global), for the glue: a call that
 * ends in a trap or kiln_fail skips the epilogues that restore it, so after a failed call
 * the glue puts it back where it was between calls. Weak, like kiln_alloc. */
__attribute__((weak, export_name("kiln_stack_get"))) uintptr_t kiln_stack_get(void) {
  uintptr_t sp;
  __asm__ volatile(".globaltype __stack_pointer, i32\n\tglobal.get __stack_pointer\n\tlocal.set %0" : "=r"(sp));
  return sp;
}
__attribute__((weak, export_name("kiln_stack_set"))) void kiln_stack_set(uintptr_t sp) {
  __asm__ volatile(".globaltype __stack_pointer, i32\n\tlocal.get %0\n\tglobal.set __stack_pointer" : : "r"(sp));
}

/* ---------------------------------------------------------------- errors */

__attribute__((import_module("kiln"), import_name("fail"), noreturn))
void kiln__fail(const char *message, size_t len);

/* End the call: JavaScript gets an Error with message. */
static inline __attribute__((noreturn)) void kiln_fail(const char *message) {
  kiln__fail(message, strlen(message));
}

/* ---------------------------------------------------------------- results */

/* A string of len bytes to fill in (ptr has len + 1 bytes, the last one 0). */
static inline kiln_string kiln_string_new(size_t len) {
  kiln_string s = {(char *)kiln_alloc(len + 1), len};
  if (!s.ptr) kiln_fail("out of memory");
  s.ptr[len] = 0;
  return s;
}
/* A copy of len bytes at ptr, or of a NUL-terminated string with kiln_string_from. */
static inline kiln_string kiln_string_copy(const char *ptr, size_t len) {
  kiln_string s = kiln_string_new(len);
  if (len) memcpy(s.ptr, ptr, len);
  return s;
}
static inline kiln_string kiln_string_from(const char *text) {
  return kiln_string_copy(text, strlen(text));
}
/* printf into a new string. */
static inline __attribute__((format(printf, 1, 2))) kiln_string kiln_string_printf(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  int n = vsnprintf(NULL, 0, format, ap);
  va_end(ap);
  if (n < 0) kiln_fail("kiln_string_printf: bad format");
  kiln_string s = kiln_string_new((size_t)n);
  va_start(ap, format);
  vsnprintf(s.ptr, (size_t)n + 1, format, ap);
  va_end(ap);
  return s;
}
/* A byte array of len bytes to fill in. */
static inline kiln_bytes kiln_bytes_new(size_t len) {
  kiln_bytes b = {(uint8_t *)kiln_alloc(len), len};
  if (!b.ptr) kiln_fail("out of memory");
  return b;
}
/* An array of len elements to fill in: KILN_ARRAY_NEW(kiln_f64s, n). */
#define KILN_ARRAY_NEW(type, count) \
  ((type){(__typeof__(((type *)0)->ptr))kiln__alloc_array((count), sizeof *((type *)0)->ptr), (count)})
static inline void *kiln__alloc_array(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) kiln_fail("array too large");
  void *p = kiln_alloc(count * size);
  if (!p) kiln_fail("out of memory");
  return p;
}

/* ---------------------------------------------------------------- KILN_EXPORT */

/* Per type: the C type, the wrapper's wasm-level parameters, and the value passed on. */
#define KILN__CTYPE_i8 int8_t
#define KILN__CTYPE_u8 uint8_t
#define KILN__CTYPE_i16 int16_t
#define KILN__CTYPE_u16 uint16_t
#define KILN__CTYPE_i32 int32_t
#define KILN__CTYPE_u32 uint32_t
#define KILN__CTYPE_i64 int64_t
#define KILN__CTYPE_u64 uint64_t
#define KILN__CTYPE_f32 float
#define KILN__CTYPE_f64 double
#define KILN__CTYPE_bool bool
#define KILN__CTYPE__Bool bool /* bool is a macro of stdbool.h: expanded on the way here */
#define KILN__CTYPE_void void
#define KILN__CTYPE_string kiln_string
#define KILN__CTYPE_bytes kiln_bytes
#define KILN__CTYPE_i8s kiln_i8s
#define KILN__CTYPE_u8s kiln_u8s
#define KILN__CTYPE_i16s kiln_i16s
#define KILN__CTYPE_u16s kiln_u16s
#define KILN__CTYPE_i32s kiln_i32s
#define KILN__CTYPE_u32s kiln_u32s
#define KILN__CTYPE_i64s kiln_i64s
#define KILN__CTYPE_u64s kiln_u64s
#define KILN__CTYPE_f32s kiln_f32s
#define KILN__CTYPE_f64s kiln_f64s

/* Whether a type travels as a pointer and a length (1) or as one number (0). */
#define KILN__SEQ_i8 0
#define KILN__SEQ_u8 0
#define KILN__SEQ_i16 0
#define KILN__SEQ_u16 0
#define KILN__SEQ_i32 0
#define KILN__SEQ_u32 0
#define KILN__SEQ_i64 0
#define KILN__SEQ_u64 0
#define KILN__SEQ_f32 0
#define KILN__SEQ_f64 0
#define KILN__SEQ_bool 0
#define KILN__SEQ__Bool 0
#define KILN__SEQ_void 2
#define KILN__SEQ_string 1
#define KILN__SEQ_bytes 1
#define KILN__SEQ_i8s 1
#define KILN__SEQ_u8s 1
#define KILN__SEQ_i16s 1
#define KILN__SEQ_u16s 1
#define KILN__SEQ_i32s 1
#define KILN__SEQ_u32s 1
#define KILN__SEQ_i64s 1
#define KILN__SEQ_u64s 1
#define KILN__SEQ_f32s 1
#define KILN__SEQ_f64s 1

#define KILN__CAT(a, b) KILN__CAT_(a, b)
#define KILN__CAT_(a, b) a##b
#define KILN__FIRST(a, ...) a
#define KILN__SECOND(a, b) b

/* (type, name) pairs are split first (KILN__SPLIT), so that type and name are expanded
 * before they are pasted or stringified. */
#define KILN__SPLIT(M, pair) KILN__SPLIT_(M, KILN__FIRST pair, KILN__SECOND pair)
#define KILN__SPLIT_(M, type, name) M(type, name)
/* Wrapper parameter: "T name" for numbers, "void *name_ptr, size_t name_len" for sequences. */
#define KILN__PARAM(pair) KILN__SPLIT(KILN__PARAM_, pair)
#define KILN__PARAM_(type, name) KILN__CAT(KILN__PARAM_, KILN__SEQ_##type)(type, name)
#define KILN__PARAM_0(type, name) KILN__CTYPE_##type name
#define KILN__PARAM_1(type, name) void *name##_ptr, size_t name##_len
/* Argument of the user's function. */
#define KILN__ARG(pair) KILN__SPLIT(KILN__ARG_, pair)
#define KILN__ARG_(type, name) KILN__CAT(KILN__ARG_, KILN__SEQ_##type)(type, name)
#define KILN__ARG_0(type, name) name
#define KILN__ARG_1(type, name) \
  (KILN__CTYPE_##type){(__typeof__(((KILN__CTYPE_##type *)0)->ptr))name##_ptr, name##_len}
/* Prototype parameter of the user's function. */
#define KILN__PROTO(pair) KILN__SPLIT(KILN__PROTO_, pair)
#define KILN__PROTO_(type, name) KILN__CTYPE_##type name
/* Text of the record: "name: type". */
#define KILN__TEXT(pair) KILN__SPLIT(KILN__TEXT_, pair)
#define KILN__TEXT_(type, name) #name ": " #type

/* Apply M to each of up to 12 arguments, separated by commas (or by S for the text). */
#define KILN__NARGS(...) KILN__NARGS_(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define KILN__NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, n, ...) n
#define KILN__MAP(M, ...) KILN__CAT(KILN__MAP_, KILN__NARGS(__VA_ARGS__))(M, __VA_ARGS__)
#define KILN__MAP_1(M, a) M(a)
#define KILN__MAP_2(M, a, ...) M(a), KILN__MAP_1(M, __VA_ARGS__)
#define KILN__MAP_3(M, a, ...) M(a), KILN__MAP_2(M, __VA_ARGS__)
#define KILN__MAP_4(M, a, ...) M(a), KILN__MAP_3(M, __VA_ARGS__)
#define KILN__MAP_5(M, a, ...) M(a), KILN__MAP_4(M, __VA_ARGS__)
#define KILN__MAP_6(M, a, ...) M(a), KILN__MAP_5(M, __VA_ARGS__)
#define KILN__MAP_7(M, a, ...) M(a), KILN__MAP_6(M, __VA_ARGS__)
#define KILN__MAP_8(M, a, ...) M(a), KILN__MAP_7(M, __VA_ARGS__)
#define KILN__MAP_9(M, a, ...) M(a), KILN__MAP_8(M, __VA_ARGS__)
#define KILN__MAP_10(M, a, ...) M(a), KILN__MAP_9(M, __VA_ARGS__)
#define KILN__MAP_11(M, a, ...) M(a), KILN__MAP_10(M, __VA_ARGS__)
#define KILN__MAP_12(M, a, ...) M(a), KILN__MAP_11(M, __VA_ARGS__)
#define KILN__JOIN(M, ...) KILN__CAT(KILN__JOIN_, KILN__NARGS(__VA_ARGS__))(M, __VA_ARGS__)
#define KILN__JOIN_1(M, a) M(a)
#define KILN__JOIN_2(M, a, ...) M(a) ", " KILN__JOIN_1(M, __VA_ARGS__)
#define KILN__JOIN_3(M, a, ...) M(a) ", " KILN__JOIN_2(M, __VA_ARGS__)
#define KILN__JOIN_4(M, a, ...) M(a) ", " KILN__JOIN_3(M, __VA_ARGS__)
#define KILN__JOIN_5(M, a, ...) M(a) ", " KILN__JOIN_4(M, __VA_ARGS__)
#define KILN__JOIN_6(M, a, ...) M(a) ", " KILN__JOIN_5(M, __VA_ARGS__)
#define KILN__JOIN_7(M, a, ...) M(a) ", " KILN__JOIN_6(M, __VA_ARGS__)
#define KILN__JOIN_8(M, a, ...) M(a) ", " KILN__JOIN_7(M, __VA_ARGS__)
#define KILN__JOIN_9(M, a, ...) M(a) ", " KILN__JOIN_8(M, __VA_ARGS__)
#define KILN__JOIN_10(M, a, ...) M(a) ", " KILN__JOIN_9(M, __VA_ARGS__)
#define KILN__JOIN_11(M, a, ...) M(a) ", " KILN__JOIN_10(M, __VA_ARGS__)
#define KILN__JOIN_12(M, a, ...) M(a) ", " KILN__JOIN_11(M, __VA_ARGS__)

/* The wrapper by result kind: a number is returned, a sequence is stored through the return
 * pointer the glue passes first, void returns nothing. */
#define KILN__WRAP_0(result, name, params, args)                                          \
  __attribute__((export_name(#name))) KILN__CTYPE_##result kiln__export_##name params {     \
    return name args;                                                                     \
  }
#define KILN__WRAP_1(result, name, params, args)                                          \
  __attribute__((export_name(#name))) void kiln__export_##name(KILN__WRAP_OUT params) {     \
    KILN__CTYPE_##result r = name args;                                                   \
    out->ptr = (void *)r.ptr;                                                             \
    out->len = r.len;                                                                     \
  }
#define KILN__WRAP_2(result, name, params, args)                                          \
  __attribute__((export_name(#name))) void kiln__export_##name params { name args; }
#define KILN__WRAP_OUT kiln__slice *out, KILN__UNPAREN

#define KILN__UNPAREN(...) __VA_ARGS__
/* The record goes into the custom section by assembly: clang places a variable with a
 * section attribute in a data segment, not in a custom section. */
#define KILN__RECORD(text) \
  __asm__(".section .custom_section.kiln.exports,\"\",@\n.ascii \"" text "\\n\"\n.text\n");

/* Declare `result name(params)` and export it. Parameters: (type, name) pairs, at most 12;
 * for none, use KILN_EXPORT0. */
#define KILN_EXPORT(result, name, ...)                                                    \
  KILN__CTYPE_##result name(KILN__MAP(KILN__PROTO, __VA_ARGS__));                          \
  KILN__CAT(KILN__WRAP_, KILN__SEQ_##result)(result, name, (KILN__MAP(KILN__PARAM, __VA_ARGS__)), \
                                             (KILN__MAP(KILN__ARG, __VA_ARGS__)))          \
  KILN__RECORD(#name "(" KILN__JOIN(KILN__TEXT, __VA_ARGS__) ") -> " #result)

/* The same for a function without parameters. */
#define KILN_EXPORT0(result, name)                                                        \
  KILN__CTYPE_##result name(void);                                                        \
  KILN__CAT(KILN__WRAP0_, KILN__SEQ_##result)(result, name)                                \
  KILN__RECORD(#name "() -> " #result)
#define KILN__WRAP0_0(result, name) \
  __attribute__((export_name(#name))) KILN__CTYPE_##result kiln__export_##name(void) { return name(); }
#define KILN__WRAP0_1(result, name)                                                       \
  __attribute__((export_name(#name))) void kiln__export_##name(kiln__slice *out) { \
    KILN__CTYPE_##result r = name();                                                      \
    out->ptr = (void *)r.ptr;                                                             \
    out->len = r.len;                                                                     \
  }
#define KILN__WRAP0_2(result, name) \
  __attribute__((export_name(#name))) void kiln__export_##name(void) { name(); }

#ifdef __cplusplus
}
#endif

#endif /* KILN_GUEST_H */
