/* test_decode.c - unit tests of the LEB128 reader and the binary decoder, over small
 * hand-written byte arrays.
 *
 * Build and run from the repository root:
 *   cc -std=c11 -Wall -Wextra -Iinclude -Isrc tests/unit/test_decode.c \
 *      src/decode/decode.c src/base/error.c -o test_decode && ./test_decode
 *
 * Prints one line per failed check and ends with "N passed, N failed"; exits non-zero if
 * any check failed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/reader.h"
#include "decode/module.h"

static int passed, failed;

static bool check_(bool ok, const char *what, int line) {
  if (ok) {
    passed++;
  } else {
    failed++;
    printf("FAIL line %d: %s\n", line, what);
  }
  return ok;
}
#define CHECK(cond) check_((cond), #cond, __LINE__)

/* A byte array literal and its size, as two arguments. */
#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})
#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

/* ---------------------------------------------------------------- LEB128 */

enum { U32, U64, S32, S33, S64 };

/* Read one integer of the given kind from bytes; returns success, the value and the
 * number of bytes consumed. */
static bool leb(int kind, const uint8_t *b, size_t n, int64_t *value, size_t *used, const char **error) {
  reader r = reader_make(b, 0, n);
  bool ok;
  uint64_t u = 0;
  int64_t s = 0;
  switch (kind) {
    case U32: ok = read_uleb(&r, 32, &u); s = (int64_t)u; break;
    case U64: ok = read_uleb(&r, 64, &u); s = (int64_t)u; break;
    case S32: ok = read_sleb(&r, 32, &s); break;
    case S33: ok = read_sleb(&r, 33, &s); break;
    default: ok = read_sleb(&r, 64, &s); break;
  }
  *value = s;
  *used = r.pos;
  *error = r.error;
  return ok;
}

static void leb_ok_(int kind, const uint8_t *b, size_t n, int64_t expect, int line) {
  int64_t v;
  size_t used;
  const char *error;
  bool ok = leb(kind, b, n, &v, &used, &error);
  char what[160];
  snprintf(what, sizeof what, "LEB kind %d: ok=%d value=%lld (want %lld) used=%zu (want %zu) error=%s", kind, ok,
           (long long)v, (long long)expect, used, n, error ? error : "-");
  check_(ok && v == expect && used == n, what, line);
}

static void leb_bad_(int kind, const uint8_t *b, size_t n, const char *expect_error, int line) {
  int64_t v;
  size_t used;
  const char *error;
  bool ok = leb(kind, b, n, &v, &used, &error);
  char what[160];
  snprintf(what, sizeof what, "LEB kind %d: want error \"%s\", got ok=%d error=%s", kind, expect_error, ok,
           error ? error : "-");
  check_(!ok && error && strcmp(error, expect_error) == 0, what, line);
}

#define LEB_OK(kind, expect, ...) leb_ok_(kind, BYTES(__VA_ARGS__), expect, __LINE__)
#define LEB_BAD(kind, error, ...) leb_bad_(kind, BYTES(__VA_ARGS__), error, __LINE__)

static const char *const TOO_LONG = "integer representation too long";
static const char *const TOO_LARGE = "integer too large";
static const char *const END = "unexpected end";

static void test_leb128(void) {
  /* unsigned 32 */
  LEB_OK(U32, 0, 0x00);
  LEB_OK(U32, 127, 0x7f);
  LEB_OK(U32, 128, 0x80, 0x01);
  LEB_OK(U32, 624485, 0xe5, 0x8e, 0x26);
  LEB_OK(U32, 0, 0x80, 0x00);                            /* padded */
  LEB_OK(U32, 3, 0x83, 0x80, 0x80, 0x80, 0x00);          /* padded to the full 5 bytes */
  LEB_OK(U32, 0xffffffff, 0xff, 0xff, 0xff, 0xff, 0x0f); /* max */
  LEB_BAD(U32, TOO_LONG, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
  LEB_BAD(U32, TOO_LONG, 0x83, 0x80, 0x80, 0x80, 0x80, 0x00);
  LEB_BAD(U32, TOO_LARGE, 0xff, 0xff, 0xff, 0xff, 0x1f); /* bit 32 set */
  LEB_BAD(U32, TOO_LARGE, 0x82, 0x80, 0x80, 0x80, 0x70); /* unused bits set */
  LEB_BAD(U32, TOO_LARGE, 0x82, 0x80, 0x80, 0x80, 0x40);
  LEB_BAD(U32, END, 0x80);
  LEB_BAD(U32, END, 0xff, 0xff);
  {
    reader r = reader_make(NULL, 0, 0);
    uint32_t v;
    CHECK(!read_u32(&r, &v) && r.error && strcmp(r.error, END) == 0);
  }
  /* unsigned 64 */
  LEB_OK(U64, (int64_t)UINT64_MAX, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
  LEB_OK(U64, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
  LEB_OK(U64, 0x100000000ll, 0x80, 0x80, 0x80, 0x80, 0x10);
  LEB_BAD(U64, TOO_LARGE, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02);
  LEB_BAD(U64, TOO_LONG, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
  /* signed 32 */
  LEB_OK(S32, 0, 0x00);
  LEB_OK(S32, -1, 0x7f);
  LEB_OK(S32, 63, 0x3f);
  LEB_OK(S32, -64, 0x40);
  LEB_OK(S32, 64, 0xc0, 0x00);
  LEB_OK(S32, -128, 0x80, 0x7f);
  LEB_OK(S32, INT32_MAX, 0xff, 0xff, 0xff, 0xff, 0x07);
  LEB_OK(S32, INT32_MIN, 0x80, 0x80, 0x80, 0x80, 0x78);
  LEB_OK(S32, -1, 0xff, 0xff, 0xff, 0xff, 0x7f); /* padded negative */
  LEB_OK(S32, 0, 0x80, 0x80, 0x80, 0x80, 0x00);  /* padded zero */
  LEB_BAD(S32, TOO_LARGE, 0xff, 0xff, 0xff, 0xff, 0x0f); /* unused bits differ from sign */
  LEB_BAD(S32, TOO_LARGE, 0x80, 0x80, 0x80, 0x80, 0x70);
  LEB_BAD(S32, TOO_LARGE, 0x80, 0x80, 0x80, 0x80, 0x1f);
  LEB_BAD(S32, TOO_LARGE, 0xff, 0xff, 0xff, 0xff, 0x4f);
  LEB_BAD(S32, TOO_LONG, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
  LEB_BAD(S32, TOO_LONG, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
  LEB_BAD(S32, END, 0xff);
  /* signed 33 (block types) */
  LEB_OK(S33, 0xffffffffll, 0xff, 0xff, 0xff, 0xff, 0x0f); /* max: 2^32 - 1 */
  LEB_OK(S33, -0x100000000ll, 0x80, 0x80, 0x80, 0x80, 0x70); /* min: -2^32 */
  LEB_OK(S33, -64, 0x40);
  LEB_BAD(S33, TOO_LARGE, 0xff, 0xff, 0xff, 0xff, 0x1f);
  LEB_BAD(S33, TOO_LARGE, 0x80, 0x80, 0x80, 0x80, 0x60);
  LEB_BAD(S33, TOO_LONG, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
  /* signed 64 */
  LEB_OK(S64, INT64_MAX, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00);
  LEB_OK(S64, INT64_MIN, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f);
  LEB_OK(S64, -1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
  LEB_OK(S64, 0x7fffffffll + 1, 0x80, 0x80, 0x80, 0x80, 0x08);
  LEB_BAD(S64, TOO_LARGE, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
  LEB_BAD(S64, TOO_LARGE, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7e);
  LEB_BAD(S64, TOO_LARGE, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x41);
  LEB_BAD(S64, TOO_LONG, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
  LEB_BAD(S64, TOO_LONG, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
  /* fixed-size reads */
  {
    const uint8_t b[] = {1, 2, 3};
    reader r = reader_make(b, 0, 3);
    uint32_t f;
    CHECK(!read_f32_bits(&r, &f) && strcmp(r.error, END) == 0);
    r = reader_make(b, 0, 3);
    uint8_t x;
    CHECK(read_u8(&r, &x) && x == 1 && r.pos == 1);
  }
}

/* ---------------------------------------------------------------- helpers */

static kiln_status dec(const uint8_t *b, size_t n, module_decl *m, kiln_error *e) {
  memset(e, 0, sizeof *e);
  return decode_module(b, n, false, m, e);
}

/* Expect decoding to fail with status and a message containing each of up to three
 * substrings (NULL to skip). Also checks that the decl was left zeroed. */
static void expect_fail_(const uint8_t *b, size_t n, kiln_status status, const char *s1, const char *s2,
                         const char *s3, int line) {
  module_decl m;
  kiln_error e;
  kiln_status st = dec(b, n, &m, &e);
  const char *subs[3] = {s1, s2, s3};
  bool ok = st == status && e.status == status;
  for (int i = 0; i < 3; i++)
    if (subs[i] && !strstr(e.message, subs[i])) ok = false;
  static const module_decl zero;
  bool zeroed = memcmp(&m, &zero, sizeof m) == 0;
  char what[700];
  snprintf(what, sizeof what, "want status %d with \"%s\" \"%s\" \"%s\", got %d \"%s\"%s", status, s1 ? s1 : "",
           s2 ? s2 : "", s3 ? s3 : "", st, st ? e.message : "", zeroed ? "" : " (decl not zeroed)");
  check_(ok && zeroed, what, line);
  if (st == KILN_OK) module_decl_free(&m);
}

#define MALFORMED(msg, where, ...) \
  expect_fail_(BYTES(__VA_ARGS__), KILN_ERR_MALFORMED, msg, where, "offset 0x", __LINE__)
#define INVALID(msg, where, ...) expect_fail_(BYTES(__VA_ARGS__), KILN_ERR_INVALID, msg, where, "offset 0x", __LINE__)

static bool decode_ok_(const uint8_t *b, size_t n, module_decl *m, int line) {
  kiln_error e;
  kiln_status st = dec(b, n, m, &e);
  char what[600];
  snprintf(what, sizeof what, "decode should succeed, got %d \"%s\"", st, st ? e.message : "");
  return check_(st == KILN_OK, what, line);
}
#define DECODE_OK(m, ...) decode_ok_(BYTES(__VA_ARGS__), (m), __LINE__)

static bool range_is(const module_decl *m, byte_range r, const uint8_t *want, size_t n) {
  return r.end >= r.start && r.end - r.start == n && r.end <= m->size && memcmp(m->bytes + r.start, want, n) == 0;
}
#define RANGE_IS(m, r, ...) range_is((m), (r), BYTES(__VA_ARGS__))

/* A decoded constant expression of one instruction: its kind, and its type and value
 * (CONST_VALUE) or its index (global.get, ref.func). */
static bool const_is(const const_expr *e, uint8_t kind, uint8_t type, uint64_t value) {
  if (e->value_count != 1 || e->non_const_at || e->kind != kind) return false;
  return kind == CONST_VALUE ? e->type == type && e->bits[0] == value : e->index == value;
}
#define I32_IS(e, v) const_is(&(e), CONST_VALUE, VT_I32, (v))
#define REF_FUNC_IS(e, f) const_is(&(e), CONST_REF_FUNC, 0, (f))

/* ---------------------------------------------------------------- module tests */

static void test_minimal(void) {
  module_decl m;
  if (DECODE_OK(&m, HDR)) {
    CHECK(m.size == 8 && m.bytes && memcmp(m.bytes, "\0asm\1\0\0\0", 8) == 0);
    CHECK(m.type_count == 0 && m.import_count == 0 && m.func_count == 0 && m.table_count == 0);
    CHECK(m.memory_count == 0 && m.global_count == 0 && m.export_count == 0 && !m.has_start);
    CHECK(m.elem_count == 0 && !m.has_data_count && m.body_count == 0 && m.data_segment_count == 0);
    CHECK(m.custom_count == 0 && m.func_names == NULL);
    module_decl_free(&m);
    CHECK(m.bytes == NULL && m.size == 0);
    module_decl_free(&m); /* freeing twice (a zeroed decl) is safe */
  }
  /* the input is copied */
  uint8_t in[] = {HDR};
  if (decode_ok_(in, sizeof in, &m, __LINE__)) {
    CHECK(m.bytes != in);
    in[0] = 0xff;
    CHECK(m.bytes[0] == 0);
    module_decl_free(&m);
  }
  /* err may be NULL */
  CHECK(decode_module((const uint8_t *)"\0asm", 4, false, &m, NULL) == KILN_ERR_MALFORMED);
  module_decl zero;
  memset(&zero, 0, sizeof zero);
  module_decl_free(&zero);
  CHECK(zero.bytes == NULL);
}

static void test_header(void) {
  expect_fail_((const uint8_t *)"", 0, KILN_ERR_MALFORMED, "unexpected end", "offset 0x0", NULL, __LINE__);
  MALFORMED("unexpected end", "offset 0x2", 0x00, 0x61);
  MALFORMED("magic header not detected", "offset 0x0", 0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00);
  MALFORMED("magic header not detected", NULL, 0x6d, 0x73, 0x61, 0x00, 0x01, 0x00, 0x00, 0x00);
  MALFORMED("unexpected end", "offset 0x6", 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00);
  MALFORMED("unknown binary version", "offset 0x4", 0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00);
  MALFORMED("unknown binary version", NULL, 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x00, 0x00);
  MALFORMED("unknown binary version", NULL, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x01);
}

static void test_types(void) {
  module_decl m;
  /* (type (func)) (type (func (param i32 i64 f32 f64 v128 funcref externref) (result i32 v128))) */
  if (DECODE_OK(&m, HDR, 0x01, 0x10, 0x02, 0x60, 0x00, 0x00, 0x60, 0x07, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f,
                0x02, 0x7f, 0x7b)) {
    CHECK(m.type_count == 2);
    CHECK(m.types[0].param_count == 0 && m.types[0].result_count == 0);
    CHECK(m.types[1].param_count == 7 && m.types[1].result_count == 2);
    const uint8_t want[] = {0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x7f, 0x7b};
    CHECK(m.types[1].types && memcmp(m.types[1].types, want, sizeof want) == 0);
    module_decl_free(&m);
  }
  MALFORMED("malformed function type", "type section", HDR, 0x01, 0x04, 0x01, 0x61, 0x00, 0x00);
  MALFORMED("integer representation too long", "type section", HDR, 0x01, 0x05, 0x01, 0xe0, 0x7f, 0x00, 0x00);
  MALFORMED("malformed value type", "type section, offset 0xd", HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7a, 0x00);
  MALFORMED("malformed value type", "type section, offset 0xe", HDR, 0x01, 0x06, 0x01, 0x60, 0x00, 0x01, 0x40, 0x00);
  MALFORMED("unexpected end", "type section, offset 0x11", HDR, 0x01, 0x07, 0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f);
  MALFORMED("section size mismatch", "type section, offset 0xe", HDR, 0x01, 0x05, 0x01, 0x60, 0x00, 0x00, 0x00);
}

static void test_imports(void) {
  module_decl m;
  /* type 0: (func); imports: "m" "f" func 0; "m" "t" table funcref 1..2; "m" "mem" memory 1;
   * "m" "g" global mut i64; "m" "h" func 0; "\u00e9" "" global i32 */
  if (DECODE_OK(&m, HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                0x02, 0x2d, 0x06,
                0x01, 'm', 0x01, 'f', 0x00, 0x00,
                0x01, 'm', 0x01, 't', 0x01, 0x70, 0x01, 0x01, 0x02,
                0x01, 'm', 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x01,
                0x01, 'm', 0x01, 'g', 0x03, 0x7e, 0x01,
                0x01, 'm', 0x01, 'h', 0x00, 0x00,
                0x02, 0xc3, 0xa9, 0x00, 0x03, 0x7f, 0x00)) {
    CHECK(m.import_count == 6);
    CHECK(strcmp(m.imports[0].module, "m") == 0 && strcmp(m.imports[0].name, "f") == 0);
    CHECK(m.imports[0].kind == KILN_EXTERN_FUNC && m.imports[0].type_index == 0);
    CHECK(m.imports[1].kind == KILN_EXTERN_TABLE && m.imports[1].table.elem_type == VT_FUNCREF);
    CHECK(m.imports[1].table.lim.min == 1 && m.imports[1].table.lim.has_max && m.imports[1].table.lim.max == 2);
    CHECK(m.imports[2].kind == KILN_EXTERN_MEMORY && m.imports[2].memory.min == 1 && !m.imports[2].memory.has_max);
    CHECK(strcmp(m.imports[2].name, "mem") == 0);
    CHECK(m.imports[3].kind == KILN_EXTERN_GLOBAL && m.imports[3].global.type == VT_I64 && m.imports[3].global.is_mutable);
    CHECK(strcmp(m.imports[5].module, "\xc3\xa9") == 0 && strcmp(m.imports[5].name, "") == 0);
    CHECK(m.imported_func_count == 2 && m.func_count == 2 && m.func_types && m.func_types[1] == 0);
    CHECK(m.imported_table_count == 1 && m.table_count == 1 && m.tables[0].lim.max == 2);
    CHECK(m.imported_memory_count == 1 && m.memory_count == 1 && m.memories[0].min == 1);
    CHECK(m.imported_global_count == 2 && m.global_count == 2 && m.global_types[0].type == VT_I64);
    CHECK(m.global_types[1].type == VT_I32 && !m.global_types[1].is_mutable && m.globals == NULL);
    module_decl_free(&m);
  }
  MALFORMED("malformed import kind", "import section, offset 0xd", HDR, 0x02, 0x05, 0x01, 0x00, 0x00, 0x04, 0x00);
  MALFORMED("malformed UTF-8 encoding", "import section, offset 0xb", HDR, 0x02, 0x06, 0x01, 0x01, 0xc0, 0x00, 0x00, 0x00);
  /* surrogate, overlong, beyond U+10FFFF, lone continuation, truncated sequence */
  MALFORMED("malformed UTF-8 encoding", NULL, HDR, 0x02, 0x08, 0x01, 0x03, 0xed, 0xa0, 0x80, 0x00, 0x00, 0x00);
  MALFORMED("malformed UTF-8 encoding", NULL, HDR, 0x02, 0x08, 0x01, 0x03, 0xe0, 0x80, 0xaf, 0x00, 0x00, 0x00);
  MALFORMED("malformed UTF-8 encoding", NULL, HDR, 0x02, 0x09, 0x01, 0x04, 0xf4, 0x90, 0x80, 0x80, 0x00, 0x00, 0x00);
  MALFORMED("malformed UTF-8 encoding", NULL, HDR, 0x02, 0x06, 0x01, 0x01, 0x80, 0x00, 0x00, 0x00);
  MALFORMED("malformed UTF-8 encoding", NULL, HDR, 0x02, 0x07, 0x01, 0x02, 0xe2, 0x82, 0x00, 0x00, 0x00);
  MALFORMED("malformed mutability", "import section", HDR, 0x02, 0x07, 0x01, 0x00, 0x00, 0x03, 0x7f, 0x02, 0x00);
  MALFORMED("length out of bounds", "import section", HDR, 0x02, 0x06, 0x01, 0x05, 'a', 0x00, 0x00, 0x00);
}

static void test_functions_and_code(void) {
  module_decl m;
  /* two functions of type 0; body 0: locals (2 i32) (1 v128), i32.const 1 drop end;
   * body 1: no locals, end */
  if (DECODE_OK(&m, HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                0x03, 0x03, 0x02, 0x00, 0x00,
                0x0a, 0x0e, 0x02,
                0x09, 0x02, 0x02, 0x7f, 0x01, 0x7b, 0x41, 0x01, 0x1a, 0x0b,
                0x02, 0x00, 0x0b)) {
    CHECK(m.func_count == 2 && m.imported_func_count == 0 && m.body_count == 2);
    CHECK(m.func_types[0] == 0 && m.func_types[1] == 0);
    const func_body *b = &m.bodies[0];
    CHECK(b->body_start == 0x16 && m.bytes[b->body_start] == 0x09);
    CHECK(b->local_run_count == 2 && b->local_count == 3);
    CHECK(b->local_runs[0].count == 2 && b->local_runs[0].type == VT_I32);
    CHECK(b->local_runs[1].count == 1 && b->local_runs[1].type == VT_V128);
    CHECK(RANGE_IS(&m, b->code, 0x41, 0x01, 0x1a, 0x0b));
    CHECK(m.bodies[1].local_run_count == 0 && m.bodies[1].local_runs == NULL && m.bodies[1].local_count == 0);
    CHECK(RANGE_IS(&m, m.bodies[1].code, 0x0b));
    module_decl_free(&m);
  }
  /* exactly UINT32_MAX locals is well-formed */
  if (DECODE_OK(&m, HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                0x0a, 0x10, 0x01, 0x0e, 0x02, 0xff, 0xff, 0xff, 0xff, 0x07, 0x7f, 0x80, 0x80, 0x80, 0x80, 0x08, 0x7e,
                0x0b)) {
    CHECK(m.bodies[0].local_count == UINT32_MAX);
    module_decl_free(&m);
  }
  MALFORMED("too many locals", "code section, function 0", HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01,
            0x00, 0x0a, 0x0c, 0x01, 0x0a, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x02, 0x7e, 0x0b);
  MALFORMED("function and code section have inconsistent lengths", NULL, HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
            0x03, 0x03, 0x02, 0x00, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b);
  MALFORMED("function and code section have inconsistent lengths", NULL, HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
            0x03, 0x02, 0x01, 0x00);
  MALFORMED("function and code section have inconsistent lengths", NULL, HDR, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b);
  /* body without its end; body size past the section */
  MALFORMED("unexpected end of section or function", "code section, function 0", HDR, 0x01, 0x04, 0x01, 0x60, 0x00,
            0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x01, 0x1a);
  MALFORMED("unexpected end", "code section, function 0", HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
            0x01, 0x00, 0x0a, 0x04, 0x01, 0x05, 0x00, 0x0b);
  MALFORMED("malformed value type", "code section, function 0", HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
            0x01, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x01, 0x01, 0x40, 0x0b);
  /* the function index in messages counts imported functions */
  MALFORMED("code section, function 1", "malformed value type", HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
            0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
            0x0a, 0x06, 0x01, 0x04, 0x01, 0x01, 0x40, 0x0b);
}

static void test_tables_memories(void) {
  module_decl m;
  /* tables: funcref min 0; externref 1..5. memories: min 1; 0..65537 (too big, but that is
   * validation, not decoding); min 0xffffffff */
  if (DECODE_OK(&m, HDR, 0x04, 0x08, 0x02, 0x70, 0x00, 0x00, 0x6f, 0x01, 0x01, 0x05,
                0x05, 0x0e, 0x03, 0x00, 0x01, 0x01, 0x00, 0x81, 0x80, 0x04, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f)) {
    CHECK(m.table_count == 2 && m.imported_table_count == 0);
    CHECK(m.tables[0].elem_type == VT_FUNCREF && m.tables[0].lim.min == 0 && !m.tables[0].lim.has_max);
    CHECK(m.tables[1].elem_type == VT_EXTERNREF && m.tables[1].lim.min == 1 && m.tables[1].lim.max == 5);
    CHECK(m.memory_count == 3 && m.memories[0].min == 1 && !m.memories[0].has_max);
    CHECK(m.memories[1].min == 0 && m.memories[1].has_max && m.memories[1].max == 65537);
    CHECK(m.memories[2].min == 0xffffffffu);
    module_decl_free(&m);
  }
  /* a shared memory (threads: flags 0x03, min 1, max 2), defined and imported */
  if (DECODE_OK(&m, HDR, 0x02, 0x07, 0x01, 0x00, 0x00, 0x02, 0x03, 0x01, 0x02, 0x05, 0x04, 0x01, 0x03, 0x01, 0x02)) {
    CHECK(m.memory_count == 2 && m.imported_memory_count == 1);
    CHECK(m.imports[0].memory.shared && m.imports[0].memory.has_max && m.imports[0].memory.max == 2);
    CHECK(m.memories[1].shared && m.memories[1].min == 1 && m.memories[1].has_max && m.memories[1].max == 2);
    module_decl_free(&m);
  }
  if (DECODE_OK(&m, HDR, 0x05, 0x04, 0x01, 0x01, 0x01, 0x02)) {
    CHECK(!m.memories[0].shared && m.memories[0].has_max);
    module_decl_free(&m);
  }
  /* shared without a maximum, a shared table, other flags: malformed */
  MALFORMED("a shared memory needs a maximum", "memory section, offset 0xb", HDR, 0x05, 0x04, 0x01, 0x02, 0x01, 0x01);
  MALFORMED("integer too large", "table section", HDR, 0x04, 0x05, 0x01, 0x70, 0x03, 0x01, 0x01);
  MALFORMED("integer representation too long", "memory section", HDR, 0x05, 0x05, 0x01, 0x81, 0x00, 0x00, 0x00);
  MALFORMED("integer too large", "table section", HDR, 0x04, 0x05, 0x01, 0x70, 0x02, 0x01, 0x01);
  MALFORMED("integer too large", "memory section", HDR, 0x05, 0x07, 0x01, 0x00, 0x82, 0x80, 0x80, 0x80, 0x10);
  MALFORMED("malformed reference type", "table section, offset 0xb", HDR, 0x04, 0x04, 0x01, 0x7f, 0x00, 0x00);
}

static void test_globals_and_const_exprs(void) {
  module_decl m;
  if (DECODE_OK(&m, HDR, 0x06, 0x4f, 0x09,
                0x7f, 0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x78, 0x0b,            /* i32.const INT32_MIN */
                0x7e, 0x01, 0x42, 0x7f, 0x0b,                                    /* mut i64.const -1 */
                0x7d, 0x00, 0x43, 0x00, 0x00, 0x80, 0x3f, 0x0b,                  /* f32.const 1 */
                0x7c, 0x00, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x0b,            /* f64.const 1 */
                0x7b, 0x00, 0xfd, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x0b, /* v128 */
                0x70, 0x00, 0xd0, 0x70, 0x0b,                                    /* ref.null func */
                0x70, 0x00, 0xd2, 0x00, 0x0b,                                    /* ref.func 0 */
                0x7f, 0x00, 0x23, 0x00, 0x41, 0x02, 0x6a, 0x0b,                  /* global.get 0 i32.const 2 i32.add */
                0x6f, 0x00, 0xd0, 0x6f, 0x0b)) {                                 /* ref.null extern */
    CHECK(m.global_count == 9 && m.imported_global_count == 0 && m.globals);
    CHECK(m.globals[0].type.type == VT_I32 && !m.globals[0].type.is_mutable);
    CHECK(const_is(&m.globals[0].init, CONST_VALUE, VT_I32, 0x80000000u));
    CHECK(m.globals[1].type.type == VT_I64 && m.globals[1].type.is_mutable && m.global_types[1].is_mutable);
    CHECK(const_is(&m.globals[1].init, CONST_VALUE, VT_I64, UINT64_MAX));
    CHECK(const_is(&m.globals[2].init, CONST_VALUE, VT_F32, 0x3f800000u));
    CHECK(const_is(&m.globals[3].init, CONST_VALUE, VT_F64, 0x3ff0000000000000u));
    CHECK(m.globals[4].type.type == VT_V128 && const_is(&m.globals[4].init, CONST_VALUE, VT_V128, 0x0807060504030201u) &&
          m.globals[4].init.bits[1] == 0x100f0e0d0c0b0a09u);
    CHECK(const_is(&m.globals[5].init, CONST_VALUE, VT_FUNCREF, 0));
    CHECK(REF_FUNC_IS(m.globals[6].init, 0));
    CHECK(m.globals[7].init.kind == CONST_GLOBAL_GET && m.globals[7].init.index == 0 &&
          m.globals[7].init.value_count == 2 && m.globals[7].init.non_const_at != 0);
    CHECK(m.global_types[8].type == VT_EXTERNREF && const_is(&m.globals[8].init, CONST_VALUE, VT_EXTERNREF, 0));
    module_decl_free(&m);
  }
  /* a global with an imported global before it */
  if (DECODE_OK(&m, HDR, 0x02, 0x07, 0x01, 0x00, 0x01, 'g', 0x03, 0x7d, 0x00,
                0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b)) {
    CHECK(m.global_count == 2 && m.imported_global_count == 1);
    CHECK(m.global_types[0].type == VT_F32 && m.global_types[1].type == VT_I32 && m.global_types[1].is_mutable);
    CHECK(m.globals[0].type.type == VT_I32);
    module_decl_free(&m);
  }
  MALFORMED("malformed mutability", "global section, offset 0xc", HDR, 0x06, 0x06, 0x01, 0x7f, 0x02, 0x41, 0x00, 0x0b);
  MALFORMED("integer too large", "global section", HDR, 0x06, 0x0a, 0x01, 0x7f, 0x00, 0x41, 0xff, 0xff, 0xff, 0xff,
            0x4f, 0x0b);
  MALFORMED("integer representation too long", "global section", HDR, 0x06, 0x0b, 0x01, 0x7f, 0x00, 0x41, 0x80, 0x80,
            0x80, 0x80, 0x80, 0x00, 0x0b);
  MALFORMED("unexpected end", "global section", HDR, 0x06, 0x05, 0x01, 0x7f, 0x00, 0x41, 0x00);
  MALFORMED("unexpected end", "global section", HDR, 0x06, 0x07, 0x01, 0x7d, 0x00, 0x43, 0x00, 0x00, 0x0b);
  MALFORMED("illegal opcode", "global section", HDR, 0x06, 0x04, 0x01, 0x7f, 0x00, 0x06);
  MALFORMED("illegal opcode", "global section", HDR, 0x06, 0x05, 0x01, 0x7f, 0x00, 0xfc, 0x7f);
  MALFORMED("malformed reference type", "global section", HDR, 0x06, 0x06, 0x01, 0x70, 0x00, 0xd0, 0x7f, 0x0b);
  /* well-formed but not constant: a validation error */
  INVALID("constant expression required", "global section", HDR, 0x06, 0x07, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x45, 0x0b);
  INVALID("constant expression required", "global section", HDR, 0x06, 0x05, 0x01, 0x7f, 0x00, 0x01, 0x0b);
  INVALID("constant expression required", "global section", HDR, 0x06, 0x06, 0x01, 0x7f, 0x00, 0x20, 0x00, 0x0b);
  INVALID("constant expression required", "global section", HDR, 0x06, 0x06, 0x01, 0x7b, 0x00, 0xfd, 0x0f, 0x0b);
}

static void test_exports_start(void) {
  module_decl m;
  if (DECODE_OK(&m, HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                0x07, 0x10, 0x04, 0x01, 'f', 0x00, 0x00, 0x01, 't', 0x01, 0x05, 0x01, 'm', 0x02, 0x00,
                0x00, 0x03, 0x07,
                0x08, 0x01, 0x00,
                0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b)) {
    CHECK(m.export_count == 4);
    CHECK(strcmp(m.exports[0].name, "f") == 0 && m.exports[0].kind == KILN_EXTERN_FUNC && m.exports[0].index == 0);
    CHECK(m.exports[1].kind == KILN_EXTERN_TABLE && m.exports[1].index == 5); /* index checks are validation */
    CHECK(m.exports[2].kind == KILN_EXTERN_MEMORY && strcmp(m.exports[2].name, "m") == 0);
    CHECK(m.exports[3].kind == KILN_EXTERN_GLOBAL && m.exports[3].name[0] == '\0' && m.exports[3].index == 7);
    CHECK(m.has_start && m.start_func == 0);
    module_decl_free(&m);
  }
  MALFORMED("malformed export kind", "export section, offset 0xd", HDR, 0x07, 0x05, 0x01, 0x01, 'f', 0x04, 0x00);
  MALFORMED("section size mismatch", "start section", HDR, 0x08, 0x02, 0x00, 0x00);
  MALFORMED("unexpected end", "start section", HDR, 0x08, 0x00);
}

static void test_elements(void) {
  module_decl m;
  /* one segment of each encoding 0..7 */
  if (DECODE_OK(&m, HDR, 0x09, 0x38, 0x08,
                0x00, 0x41, 0x01, 0x0b, 0x02, 0x00, 0x01,                   /* 0: active t0, funcs 0 1 */
                0x01, 0x00, 0x01, 0x02,                                     /* 1: passive funcref, func 2 */
                0x02, 0x03, 0x41, 0x02, 0x0b, 0x00, 0x01, 0x03,             /* 2: active t3, func 3 */
                0x03, 0x00, 0x00,                                           /* 3: declarative, no funcs */
                0x04, 0x41, 0x04, 0x0b, 0x02, 0xd2, 0x00, 0x0b, 0xd0, 0x70, 0x0b, /* 4: active t0, exprs */
                0x05, 0x6f, 0x01, 0xd0, 0x6f, 0x0b,                         /* 5: passive externref */
                0x06, 0x01, 0x41, 0x06, 0x0b, 0x70, 0x01, 0xd2, 0x01, 0x0b, /* 6: active t1, funcref */
                0x07, 0x70, 0x01, 0xd2, 0x02, 0x0b)) {                      /* 7: declarative funcref */
    CHECK(m.elem_count == 8);
    const elem_segment *e = m.elems;
    CHECK(e[0].mode == SEG_ACTIVE && e[0].table_index == 0 && I32_IS(e[0].offset, 1));
    CHECK(e[0].elem_type == VT_FUNCREF && e[0].count == 2 && e[0].func_indices && !e[0].exprs);
    CHECK(e[0].func_indices[0] == 0 && e[0].func_indices[1] == 1);
    CHECK(e[1].mode == SEG_PASSIVE && e[1].elem_type == VT_FUNCREF && e[1].count == 1 && e[1].func_indices[0] == 2);
    CHECK(e[2].mode == SEG_ACTIVE && e[2].table_index == 3 && I32_IS(e[2].offset, 2));
    CHECK(e[2].count == 1 && e[2].func_indices[0] == 3);
    CHECK(e[3].mode == SEG_DECLARATIVE && e[3].count == 0 && !e[3].func_indices && !e[3].exprs);
    CHECK(e[4].mode == SEG_ACTIVE && e[4].table_index == 0 && e[4].elem_type == VT_FUNCREF);
    CHECK(e[4].count == 2 && e[4].exprs && !e[4].func_indices);
    CHECK(REF_FUNC_IS(e[4].exprs[0], 0) && const_is(&e[4].exprs[1], CONST_VALUE, VT_FUNCREF, 0));
    CHECK(e[5].mode == SEG_PASSIVE && e[5].elem_type == VT_EXTERNREF && e[5].count == 1);
    CHECK(const_is(&e[5].exprs[0], CONST_VALUE, VT_EXTERNREF, 0));
    CHECK(e[6].mode == SEG_ACTIVE && e[6].table_index == 1 && I32_IS(e[6].offset, 6));
    CHECK(e[6].elem_type == VT_FUNCREF && REF_FUNC_IS(e[6].exprs[0], 1));
    CHECK(e[7].mode == SEG_DECLARATIVE && e[7].count == 1 && REF_FUNC_IS(e[7].exprs[0], 2));
    module_decl_free(&m);
  }
  MALFORMED("malformed elements segment kind", "element section, offset 0xb", HDR, 0x09, 0x04, 0x01, 0x08, 0x00, 0x00);
  MALFORMED("malformed element kind", "element section, offset 0xc", HDR, 0x09, 0x04, 0x01, 0x01, 0x70, 0x00);
  MALFORMED("malformed reference type", "element section", HDR, 0x09, 0x04, 0x01, 0x05, 0x7f, 0x00);
  MALFORMED("illegal opcode", "element section", HDR, 0x09, 0x07, 0x01, 0x05, 0x70, 0x01, 0xf3, 0x00, 0x0b);
  MALFORMED("unexpected end", "element section", HDR, 0x09, 0x07, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00);
  INVALID("constant expression required", "element section", HDR, 0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x68, 0x0b, 0x00);
}

static void test_data(void) {
  module_decl m;
  if (DECODE_OK(&m, HDR, 0x0c, 0x01, 0x03,
                0x0b, 0x13, 0x03,
                0x00, 0x41, 0x08, 0x0b, 0x02, 'h', 'i',    /* active memory 0 at 8 */
                0x01, 0x00,                                /* passive, empty */
                0x02, 0x01, 0x41, 0x00, 0x0b, 0x03, 1, 2, 3)) { /* active memory 1 */
    CHECK(m.has_data_count && m.data_count == 3 && m.data_segment_count == 3);
    CHECK(m.datas[0].mode == SEG_ACTIVE && m.datas[0].memory_index == 0);
    CHECK(I32_IS(m.datas[0].offset, 8) && RANGE_IS(&m, m.datas[0].bytes, 'h', 'i'));
    CHECK(m.datas[1].mode == SEG_PASSIVE && m.datas[1].bytes.start == m.datas[1].bytes.end);
    CHECK(m.datas[2].mode == SEG_ACTIVE && m.datas[2].memory_index == 1 && RANGE_IS(&m, m.datas[2].bytes, 1, 2, 3));
    module_decl_free(&m);
  }
  /* no data count section */
  if (DECODE_OK(&m, HDR, 0x0b, 0x03, 0x01, 0x01, 0x00)) {
    CHECK(!m.has_data_count && m.data_segment_count == 1);
    module_decl_free(&m);
  }
  MALFORMED("data count and data section have inconsistent lengths", NULL, HDR, 0x0c, 0x01, 0x02, 0x0b, 0x03, 0x01,
            0x01, 0x00);
  MALFORMED("data count and data section have inconsistent lengths", NULL, HDR, 0x0c, 0x01, 0x01);
  MALFORMED("malformed data segment kind", "data section, offset 0xb", HDR, 0x0b, 0x03, 0x01, 0x03, 0x00);
  MALFORMED("length out of bounds", "data section", HDR, 0x0b, 0x04, 0x01, 0x01, 0x03, 'a');
  MALFORMED("integer too large", "data count section", HDR, 0x0c, 0x05, 0x80, 0x80, 0x80, 0x80, 0x10);
}

static void test_customs_and_names(void) {
  module_decl m;
  /* custom "a" (payload 1 2) before the type section, "name" with function names after
   * the code section, custom "" (empty payload) last */
  if (DECODE_OK(&m, HDR, 0x00, 0x04, 0x01, 'a', 0x01, 0x02,
                0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                0x02, 0x07, 0x01, 0x01, 'm', 0x01, 'f', 0x00, 0x00,
                0x03, 0x03, 0x02, 0x00, 0x00,
                0x0a, 0x07, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b,
                0x00, 0x16, 0x04, 'n', 'a', 'm', 'e',
                0x00, 0x02, 0x01, 'M',                            /* module name */
                0x01, 0x0b, 0x03, 0x00, 0x01, 'i', 0x02, 0x02, 'd', '2', 0x09, 0x01, 'x', /* funcs 0, 2, 9 */
                0x00, 0x01, 0x00)) {
    CHECK(m.custom_count == 3);
    CHECK(strcmp(m.customs[0].name, "a") == 0 && RANGE_IS(&m, m.customs[0].contents, 0x01, 0x02));
    CHECK(strcmp(m.customs[1].name, "name") == 0);
    CHECK(strcmp(m.customs[2].name, "") == 0 && m.customs[2].contents.start == m.customs[2].contents.end);
    CHECK(m.func_count == 3 && m.func_names != NULL);
    if (m.func_names) {
      CHECK(m.func_names[0] && strcmp(m.func_names[0], "i") == 0);
      CHECK(m.func_names[1] == NULL);
      CHECK(m.func_names[2] && strcmp(m.func_names[2], "d2") == 0);
    }
    module_decl_free(&m);
  }
  /* a malformed name section (count runs past its subsection) is ignored */
  if (DECODE_OK(&m, HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
                0x00, 0x0b, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x04, 0x05, 0x00, 0x01, 'f')) {
    CHECK(m.custom_count == 1 && m.func_names == NULL);
    module_decl_free(&m);
  }
  /* name section with invalid UTF-8 in a function name: ignored */
  if (DECODE_OK(&m, HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
                0x00, 0x0b, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x04, 0x01, 0x00, 0x01, 0xff)) {
    CHECK(m.func_names == NULL);
    module_decl_free(&m);
  }
  MALFORMED("unexpected end", "custom section", HDR, 0x00);
  MALFORMED("unexpected end", "custom section", HDR, 0x00, 0x00);
  MALFORMED("length out of bounds", "custom section", HDR, 0x00, 0x05, 0x01, 'a');
  MALFORMED("length out of bounds", "custom section", HDR, 0x00, 0x02, 0x05, 'a');
  MALFORMED("malformed UTF-8 encoding", "custom section", HDR, 0x00, 0x03, 0x02, 0xc0, 0x80);
}

static void test_section_structure(void) {
  module_decl m;
  MALFORMED("malformed section id", "offset 0x8", HDR, 0x0d, 0x00);
  MALFORMED("malformed section id", NULL, HDR, 0x80, 0x00);
  /* duplicate and out of order sections */
  MALFORMED("unexpected content after last section", "type section, offset 0xb", HDR, 0x01, 0x01, 0x00, 0x01, 0x01,
            0x00);
  MALFORMED("unexpected content after last section", "import section", HDR, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00);
  /* data count goes between element and code */
  MALFORMED("unexpected content after last section", "data count section", HDR, 0x0a, 0x01, 0x00, 0x0c, 0x01, 0x00);
  MALFORMED("unexpected content after last section", "element section", HDR, 0x0c, 0x01, 0x00, 0x09, 0x01, 0x00);
  if (DECODE_OK(&m, HDR, 0x09, 0x01, 0x00, 0x0c, 0x01, 0x00, 0x0a, 0x01, 0x00, 0x0b, 0x01, 0x00)) {
    CHECK(m.has_data_count && m.data_count == 0);
    module_decl_free(&m);
  }
  /* custom sections may go anywhere, any number of times */
  if (DECODE_OK(&m, HDR, 0x00, 0x01, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x03, 0x01, 0x00, 0x00, 0x01, 0x00,
                0x0a, 0x01, 0x00, 0x00, 0x01, 0x00)) {
    CHECK(m.custom_count == 4);
    module_decl_free(&m);
  }
  MALFORMED("length out of bounds", "type section, offset 0x8", HDR, 0x01, 0x07, 0x02, 0x60, 0x00, 0x00);
  MALFORMED("section size mismatch", "type section", HDR, 0x01, 0x07, 0x01, 0x60, 0x00, 0x00, 0x60, 0x00, 0x00);
  MALFORMED("integer representation too long", "type section", HDR, 0x01, 0x85, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00);
  MALFORMED("unexpected end", "type section", HDR, 0x01);
  /* the exact message format */
  {
    kiln_error e;
    CHECK(dec(BYTES(HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x00, 0x00), &m, &e) == KILN_ERR_MALFORMED);
    CHECK(strcmp(e.message, "type section, offset 0xd: malformed value type 0x00") == 0);
    CHECK(e.status == KILN_ERR_MALFORMED && e.trap == KILN_TRAP_NONE);
  }
}

/* Hostile counts must fail at once, without allocating for them. */
static void test_huge_counts(void) {
  MALFORMED("length out of bounds", "type section", HDR, 0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "import section", HDR, 0x02, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
  MALFORMED("length out of bounds", "function section", HDR, 0x03, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "table section", HDR, 0x04, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "memory section", HDR, 0x05, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "global section", HDR, 0x06, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "export section", HDR, 0x07, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "element section", HDR, 0x09, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "element section", HDR, 0x09, 0x0a, 0x01, 0x00, 0x41, 0x00, 0x0b, 0xff, 0xff,
            0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "code section", HDR, 0x0a, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "code section, function 0", HDR, 0x0a, 0x08, 0x01, 0x06, 0xff, 0xff, 0xff, 0xff,
            0x0f, 0x0b);
  MALFORMED("length out of bounds", "data section", HDR, 0x0b, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "data section", HDR, 0x0b, 0x08, 0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "type section", HDR, 0x01, 0x08, 0x01, 0x60, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
  MALFORMED("length out of bounds", "custom section", HDR, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
  MALFORMED("length out of bounds", "offset 0x8", HDR, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f);
  /* counts that fit the bytes left but not the smallest possible entries */
  MALFORMED("length out of bounds", "import section", HDR, 0x02, 0x08, 0x02, 0x01, 'm', 0x01, 'f', 0x00, 0x00, 0x00);
  MALFORMED("length out of bounds", "code section", HDR, 0x0a, 0x05, 0x02, 0x02, 0x00, 0x0b, 0x00);
  /* many times over: each must be rejected without work proportional to the count */
  static const uint8_t hostile[] = {HDR, 0x0a, 0x08, 0x01, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0b};
  clock_t t0 = clock();
  int wrong = 0;
  for (int i = 0; i < 200000; i++) {
    module_decl m;
    if (decode_module(hostile, sizeof hostile, true, &m, NULL) != KILN_ERR_MALFORMED) wrong++;
  }
  double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  CHECK(wrong == 0);
  char what[80];
  snprintf(what, sizeof what, "200000 hostile decodes took %.2f s", secs);
  check_(secs < 5.0, what, __LINE__);
}

int main(void) {
  test_leb128();
  test_minimal();
  test_header();
  test_types();
  test_imports();
  test_functions_and_code();
  test_tables_memories();
  test_globals_and_const_exprs();
  test_exports_start();
  test_elements();
  test_data();
  test_customs_and_names();
  test_section_structure();
  test_huge_counts();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
