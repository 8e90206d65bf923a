/*
 * spec_runner.c - runs the WebAssembly 2.0 spec test suite against kiln.
 *
 * The suite is the wast2json output described in /work/shared/spec/README.md: one
 * <name>/<name>.json per .wast file, naming the .wasm binaries next to it.
 *
 *   spec_runner [-v] [-k] DIR_OR_FILE...
 *
 * DIR is the json root (every <name>/<name>.json below it, in sorted order) or one test's
 * directory (DIR/<basename of DIR>.json); FILE is one .json file. Per file it prints
 * "name: P passed, F failed, S skipped", at the end "N passed, N failed, N skipped", and
 * exits with 1 if anything failed, else 0.
 *   -v  one line per failing command: wast file:line, command type, what was expected and
 *       what happened (with kiln's error message).
 *   -k  keep going after a crash: run each file in a child process, so that a crash (or a
 *       hang: FILE_TIMEOUT_SECONDS) counts as a failure of that file and the run goes on.
 *
 * Only the public API (kiln.h) is used. Each file gets a fresh kiln_store holding the
 * `spectest` host module, the instances it creates and the modules it registers; one
 * kiln_engine serves the whole run.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kiln.h"

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* With -k, a file whose child process runs longer than this is killed and counted as failed. */
#ifndef FILE_TIMEOUT_SECONDS
#define FILE_TIMEOUT_SECONDS 300
#endif

/* Arrays of at most this many values live on the stack; larger ones on the heap. */
#define SMALL_VALS 16

/* ---------------------------------------------------------------- string builder */

typedef struct sbuf {
  char buf[4096];
  size_t len;
} sbuf;

static void sb_init(sbuf *sb) {
  sb->len = 0;
  sb->buf[0] = '\0';
}

static void PRINTF_LIKE(2, 3) sb_printf(sbuf *sb, const char *format, ...) {
  size_t room = sizeof sb->buf - sb->len;
  if (room <= 1) return;
  va_list ap;
  va_start(ap, format);
  int n = vsnprintf(sb->buf + sb->len, room, format, ap);
  va_end(ap);
  if (n < 0) {
    sb->buf[sb->len] = '\0';
    return;
  }
  sb->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* A string in double quotes, with control bytes escaped (export names can hold anything). */
static void sb_quoted(sbuf *sb, const char *s) {
  sb_printf(sb, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
      sb_printf(sb, "\\%02x", *p);
    else
      sb_printf(sb, "%c", *p);
  }
  sb_printf(sb, "\"");
}

/* "trap (integer divide by zero): <message>" */
static void sb_error(sbuf *sb, kiln_status status, const kiln_error *err) {
  const char *s = kiln_status_string(status);
  sb_printf(sb, "%s", s ? s : "unknown status");
  if (status == KILN_ERR_TRAP) {
    const char *t = kiln_trap_string(err->trap);
    sb_printf(sb, " (%s)", t ? t : "unknown trap");
  }
  if (err->message[0]) sb_printf(sb, ": %.*s", (int)sizeof err->message - 1, err->message);
}

static const char *status_name(kiln_status status) {
  const char *s = kiln_status_string(status);
  return s ? s : "unknown status";
}

static void error_clear(kiln_error *err) {
  err->status = KILN_OK;
  err->trap = KILN_TRAP_NONE;
  err->exit_code = 0;
  err->frame_count = 0;
  err->message[0] = '\0';
}

/* ---------------------------------------------------------------- JSON helpers */

static const cJSON *json_get(const cJSON *object, const char *key) {
  return cJSON_GetObjectItemCaseSensitive(object, key);
}

/* The string member `key` of object, or NULL. */
static const char *json_str(const cJSON *object, const char *key) {
  const cJSON *item = json_get(object, key);
  return cJSON_IsString(item) && item->valuestring ? item->valuestring : NULL;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* ---------------------------------------------------------------- values */

typedef enum shape {
  SHAPE_NONE = 0,
  SHAPE_I8,
  SHAPE_I16,
  SHAPE_I32,
  SHAPE_I64,
  SHAPE_F32,
  SHAPE_F64,
} shape;

static const struct {
  const char *name;
  unsigned lanes, bytes;
  bool is_float;
} shapes[] = {
    [SHAPE_NONE] = {"?", 0, 0, false},   [SHAPE_I8] = {"i8", 16, 1, false},
    [SHAPE_I16] = {"i16", 8, 2, false},  [SHAPE_I32] = {"i32", 4, 4, false},
    [SHAPE_I64] = {"i64", 2, 8, false},  [SHAPE_F32] = {"f32", 4, 4, true},
    [SHAPE_F64] = {"f64", 2, 8, true},
};

static shape shape_from_name(const char *name) {
  if (!name) return SHAPE_NONE;
  for (int s = SHAPE_I8; s <= SHAPE_F64; s++)
    if (strcmp(shapes[s].name, name) == 0) return (shape)s;
  return SHAPE_NONE;
}

typedef enum match_kind {
  MATCH_EXACT = 0,
  MATCH_NAN_CANONICAL,  /* NaN with exactly the quiet bit as payload, either sign */
  MATCH_NAN_ARITHMETIC, /* NaN with the quiet bit set, either sign */
  MATCH_NONNULL,        /* any non-null reference */
} match_kind;

/* A parsed argument or expected result. match[] applies per lane for v128 (match[0] for
 * scalars); arguments are always MATCH_EXACT. */
typedef struct expect {
  kiln_val val;
  shape shape;
  uint8_t match[16];
} expect;

#define F32_CANONICAL_NAN UINT32_C(0x7fc00000)
#define F64_CANONICAL_NAN UINT64_C(0x7ff8000000000000)

/* Unsigned decimal of a `bits`-wide bit pattern (a leading '-' is accepted as two's
 * complement for robustness). */
static bool parse_bits(const char *s, unsigned bits, uint64_t *out) {
  if (!s || !*s) return false;
  uint64_t max = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
  char *end = NULL;
  errno = 0;
  if (s[0] == '-') {
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return false;
    int64_t min = bits >= 64 ? INT64_MIN : -(int64_t)(UINT64_C(1) << (bits - 1));
    if (v < min) return false;
    *out = (uint64_t)v & max;
    return true;
  }
  if (s[0] < '0' || s[0] > '9') return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v > max) return false;
  *out = v;
  return true;
}

/* A float bit pattern or, when allowed, "nan:canonical" / "nan:arithmetic". */
static bool parse_float_bits(const char *s, unsigned bits, bool allow_nan, uint64_t *out,
                             uint8_t *match) {
  *match = MATCH_EXACT;
  if (s && strncmp(s, "nan:", 4) == 0) {
    if (!allow_nan) return false;
    if (strcmp(s + 4, "canonical") == 0)
      *match = MATCH_NAN_CANONICAL;
    else if (strcmp(s + 4, "arithmetic") == 0)
      *match = MATCH_NAN_ARITHMETIC;
    else
      return false;
    *out = bits == 32 ? F32_CANONICAL_NAN : F64_CANONICAL_NAN;
    return true;
  }
  return parse_bits(s, bits, out);
}

static void lane_set(uint8_t *bytes, unsigned width, unsigned lane, uint64_t v) {
  for (unsigned b = 0; b < width; b++) bytes[lane * width + b] = (uint8_t)(v >> (8 * b));
}

static uint64_t lane_get(const uint8_t *bytes, unsigned width, unsigned lane) {
  uint64_t v = 0;
  for (unsigned b = 0; b < width; b++) v |= (uint64_t)bytes[lane * width + b] << (8 * b);
  return v;
}

/* Parse a JSON value {"type": T, "value": V}. expected allows NaN patterns and non-null
 * funcrefs. On failure says why in *why. */
static bool parse_value(const cJSON *json, bool expected, expect *e, sbuf *why) {
  memset(e, 0, sizeof *e);
  const char *type = json_str(json, "type");
  const cJSON *value = json_get(json, "value");
  const char *text = cJSON_IsString(value) ? value->valuestring : NULL;
  uint64_t bits = 0;
  if (!type) {
    sb_printf(why, "value without a type");
    return false;
  }
  if (strcmp(type, "i32") == 0) {
    e->val.type = KILN_I32;
    if (!parse_bits(text, 32, &bits)) goto bad;
    e->val.of.f32_bits = (uint32_t)bits; /* the bits of i32 */
    return true;
  }
  if (strcmp(type, "i64") == 0) {
    e->val.type = KILN_I64;
    if (!parse_bits(text, 64, &bits)) goto bad;
    e->val.of.f64_bits = bits; /* the bits of i64 */
    return true;
  }
  if (strcmp(type, "f32") == 0) {
    e->val.type = KILN_F32;
    if (!parse_float_bits(text, 32, expected, &bits, &e->match[0])) goto bad;
    e->val.of.f32_bits = (uint32_t)bits;
    return true;
  }
  if (strcmp(type, "f64") == 0) {
    e->val.type = KILN_F64;
    if (!parse_float_bits(text, 64, expected, &bits, &e->match[0])) goto bad;
    e->val.of.f64_bits = bits;
    return true;
  }
  if (strcmp(type, "v128") == 0) {
    e->val.type = KILN_V128;
    const char *lane_type = json_str(json, "lane_type");
    e->shape = shape_from_name(lane_type);
    if (e->shape == SHAPE_NONE) {
      sb_printf(why, "v128 value with bad lane_type %s", lane_type ? lane_type : "(none)");
      return false;
    }
    if (!cJSON_IsArray(value)) goto bad;
    unsigned width = shapes[e->shape].bytes, lanes = shapes[e->shape].lanes, n = 0;
    const cJSON *lane;
    cJSON_ArrayForEach(lane, value) {
      const char *ls = cJSON_IsString(lane) ? lane->valuestring : NULL;
      bool ok = n < lanes && (shapes[e->shape].is_float
                                  ? parse_float_bits(ls, width * 8, expected, &bits, &e->match[n])
                                  : parse_bits(ls, width * 8, &bits));
      if (!ok) {
        sb_printf(why, "bad v128 lane %u (%s) of type %s", n, ls ? ls : "not a string",
                  lane_type);
        return false;
      }
      lane_set(e->val.of.v128, width, n, bits);
      n++;
    }
    if (n != lanes) {
      sb_printf(why, "v128 %s value has %u lanes, wants %u", lane_type, n, lanes);
      return false;
    }
    return true;
  }
  if (strcmp(type, "funcref") == 0 || strcmp(type, "externref") == 0) {
    bool func = type[0] == 'f';
    e->val.type = func ? KILN_FUNCREF : KILN_EXTERNREF;
    if (text && strcmp(text, "null") == 0) return true; /* NULL, exact */
    if (!text) {                                        /* (ref.func) / (ref.extern) */
      if (!expected) goto bad;
      e->match[0] = MATCH_NONNULL;
      return true;
    }
    if (!parse_bits(text, 64, &bits)) goto bad;
    if (func) {
      if (!expected) {
        sb_printf(why, "a non-null funcref argument (%s) cannot be made", text);
        return false;
      }
      e->match[0] = MATCH_NONNULL;
      return true;
    }
    if (bits >= UINTPTR_MAX) goto bad;
    e->val.of.externref = (void *)(uintptr_t)(bits + 1); /* host reference N */
    return true;
  }
  sb_printf(why, "unknown value type %s", type);
  return false;
bad:
  sb_printf(why, "bad %s value %s", type, text ? text : "(missing)");
  return false;
}

static bool match_f32(uint8_t match, uint32_t want, uint32_t got) {
  switch (match) {
    case MATCH_NAN_CANONICAL: return (got & UINT32_C(0x7fffffff)) == F32_CANONICAL_NAN;
    case MATCH_NAN_ARITHMETIC: return (got & F32_CANONICAL_NAN) == F32_CANONICAL_NAN;
    default: return got == want;
  }
}

static bool match_f64(uint8_t match, uint64_t want, uint64_t got) {
  switch (match) {
    case MATCH_NAN_CANONICAL: return (got & UINT64_C(0x7fffffffffffffff)) == F64_CANONICAL_NAN;
    case MATCH_NAN_ARITHMETIC: return (got & F64_CANONICAL_NAN) == F64_CANONICAL_NAN;
    default: return got == want;
  }
}

static bool match_value(const expect *e, const kiln_val *got) {
  if (got->type != e->val.type) return false;
  switch (e->val.type) {
    case KILN_I32: return (uint32_t)got->of.i32 == (uint32_t)e->val.of.i32;
    case KILN_I64: return (uint64_t)got->of.i64 == (uint64_t)e->val.of.i64;
    case KILN_F32: return match_f32(e->match[0], e->val.of.f32_bits, got->of.f32_bits);
    case KILN_F64: return match_f64(e->match[0], e->val.of.f64_bits, got->of.f64_bits);
    case KILN_V128: {
      unsigned width = shapes[e->shape].bytes, lanes = shapes[e->shape].lanes;
      if (!shapes[e->shape].is_float) return memcmp(got->of.v128, e->val.of.v128, 16) == 0;
      for (unsigned i = 0; i < lanes; i++) {
        uint64_t want = lane_get(e->val.of.v128, width, i);
        uint64_t have = lane_get(got->of.v128, width, i);
        bool ok = width == 4 ? match_f32(e->match[i], (uint32_t)want, (uint32_t)have)
                             : match_f64(e->match[i], want, have);
        if (!ok) return false;
      }
      return true;
    }
    case KILN_FUNCREF:
      return e->match[0] == MATCH_NONNULL ? got->of.funcref != NULL : got->of.funcref == NULL;
    case KILN_EXTERNREF:
      return e->match[0] == MATCH_NONNULL ? got->of.externref != NULL
                                          : got->of.externref == e->val.of.externref;
  }
  return false;
}

static void sb_f32(sbuf *sb, uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  sb_printf(sb, "0x%08" PRIx32 " (%.9g)", bits, (double)f);
}

static void sb_f64(sbuf *sb, uint64_t bits) {
  double d;
  memcpy(&d, &bits, sizeof d);
  sb_printf(sb, "0x%016" PRIx64 " (%.17g)", bits, d);
}

/* A value as "i32:4294967295 (-1)", "f32:0x7fc00000 (nan)", "v128:i32x4[1 2 3 4]"...
 * v128 lanes are shown in shape sh (i32 when unknown). */
static void sb_val(sbuf *sb, const kiln_val *v, shape sh) {
  switch (v->type) {
    case KILN_I32: {
      uint32_t u = (uint32_t)v->of.i32;
      sb_printf(sb, "i32:%" PRIu32, u);
      if (v->of.i32 < 0) sb_printf(sb, " (%" PRId32 ")", v->of.i32);
      return;
    }
    case KILN_I64: {
      uint64_t u = (uint64_t)v->of.i64;
      sb_printf(sb, "i64:%" PRIu64, u);
      if (v->of.i64 < 0) sb_printf(sb, " (%" PRId64 ")", v->of.i64);
      return;
    }
    case KILN_F32: sb_printf(sb, "f32:"); sb_f32(sb, v->of.f32_bits); return;
    case KILN_F64: sb_printf(sb, "f64:"); sb_f64(sb, v->of.f64_bits); return;
    case KILN_V128: {
      if (sh == SHAPE_NONE) sh = SHAPE_I32;
      unsigned width = shapes[sh].bytes, lanes = shapes[sh].lanes;
      sb_printf(sb, "v128:%sx%u[", shapes[sh].name, lanes);
      for (unsigned i = 0; i < lanes; i++) {
        uint64_t lane = lane_get(v->of.v128, width, i);
        if (i) sb_printf(sb, " ");
        if (sh == SHAPE_F32)
          sb_f32(sb, (uint32_t)lane);
        else if (sh == SHAPE_F64)
          sb_f64(sb, lane);
        else
          sb_printf(sb, "%" PRIu64, lane);
      }
      sb_printf(sb, "]");
      return;
    }
    case KILN_FUNCREF:
      if (v->of.funcref)
        sb_printf(sb, "funcref:%p", (void *)v->of.funcref);
      else
        sb_printf(sb, "funcref:null");
      return;
    case KILN_EXTERNREF:
      if (v->of.externref)
        sb_printf(sb, "externref:%" PRIuPTR, (uintptr_t)v->of.externref - 1);
      else
        sb_printf(sb, "externref:null");
      return;
  }
  sb_printf(sb, "<bad type 0x%x>", (unsigned)v->type);
}

/* A JSON value as written: "i32:97", "f32:nan:canonical", "v128:i32[1 2 3 4]". */
static void sb_json_value(sbuf *sb, const cJSON *json) {
  const char *type = json_str(json, "type");
  const cJSON *value = json_get(json, "value");
  sb_printf(sb, "%s", type ? type : "?");
  if (cJSON_IsString(value)) {
    sb_printf(sb, ":%s", value->valuestring);
  } else if (cJSON_IsArray(value)) {
    const char *lane_type = json_str(json, "lane_type");
    sb_printf(sb, ":%s[", lane_type ? lane_type : "?");
    const cJSON *lane;
    bool first = true;
    cJSON_ArrayForEach(lane, value) {
      sb_printf(sb, "%s%s", first ? "" : " ", cJSON_IsString(lane) ? lane->valuestring : "?");
      first = false;
    }
    sb_printf(sb, "]");
  }
}

static void sb_json_values(sbuf *sb, const cJSON *array) {
  const cJSON *item;
  bool first = true;
  sb_printf(sb, "(");
  cJSON_ArrayForEach(item, array) {
    if (!first) sb_printf(sb, ", ");
    sb_json_value(sb, item);
    first = false;
  }
  sb_printf(sb, ")");
}

/* 'invoke $M."field"(i32:1, i32:2)' or 'get "field"' */
static void sb_action(sbuf *sb, const cJSON *action) {
  const char *type = json_str(action, "type");
  const char *module = json_str(action, "module");
  const char *field = json_str(action, "field");
  sb_printf(sb, "%s ", type ? type : "?");
  if (module) sb_printf(sb, "%s.", module);
  sb_quoted(sb, field ? field : "?");
  if (type && strcmp(type, "invoke") == 0) sb_json_values(sb, json_get(action, "args"));
}

/* ---------------------------------------------------------------- per-file state */

typedef struct counts {
  unsigned long passed, failed, skipped;
  long line; /* line of the command in progress (for -k crash reports) */
  int done;  /* set when the file ran to the end (for -k) */
} counts;

typedef struct runner {
  kiln_engine *engine;
  bool verbose;
  bool isolate; /* -k */
  counts *shared; /* -k: counts shared with the child process */
  unsigned long passed, failed, skipped;
} runner;

/* A name bound to an instance (NULL when that module failed). Later bindings shadow earlier
 * ones. Names point into the file's cJSON tree. */
typedef struct binding {
  const char *name;
  kiln_instance *instance;
} binding;

typedef struct bindings {
  binding *items;
  size_t count, cap;
} bindings;

static bool bindings_put(bindings *b, const char *name, kiln_instance *instance) {
  if (b->count == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 8;
    binding *items = realloc(b->items, cap * sizeof *items);
    if (!items) return false;
    b->items = items;
    b->cap = cap;
  }
  b->items[b->count].name = name;
  b->items[b->count].instance = instance;
  b->count++;
  return true;
}

static bool bindings_get(const bindings *b, const char *name, kiln_instance **out) {
  for (size_t i = b->count; i-- > 0;) {
    if (strcmp(b->items[i].name, name) == 0) {
      *out = b->items[i].instance;
      return true;
    }
  }
  return false;
}

#define SPECTEST_EXPORTS 13

typedef struct file_ctx {
  runner *r;
  const char *wast; /* name used in messages */
  const char *dir;  /* directory of the .json, for the .wasm paths */
  counts *c;
  kiln_store *store;
  kiln_import spectest[SPECTEST_EXPORTS];
  size_t spectest_count;
  bindings names;      /* `name` of module commands */
  bindings registered; /* `as` of register commands */
  kiln_instance *current;
  long line;
  const char *cmd_type;
} file_ctx;

static void pass(file_ctx *f) { f->c->passed++; }

static void skip(file_ctx *f) { f->c->skipped++; }

static void PRINTF_LIKE(2, 3) fail(file_ctx *f, const char *format, ...) {
  f->c->failed++;
  if (!f->r->verbose) return;
  printf("%s:%ld: %s: ", f->wast, f->line, f->cmd_type);
  va_list ap;
  va_start(ap, format);
  vprintf(format, ap);
  va_end(ap);
  putchar('\n');
  if (f->r->isolate) fflush(stdout);
}

/* ---------------------------------------------------------------- spectest */

static kiln_status spectest_print(kiln_caller *caller, void *user_data, const kiln_val *args,
                                  kiln_val *results) {
  (void)caller;
  (void)user_data;
  (void)args;
  (void)results;
  return KILN_OK;
}

static const struct {
  const char *name;
  kiln_valtype params[2];
  uint32_t param_count;
} spectest_funcs[] = {
    {"print", {KILN_I32, KILN_I32}, 0},
    {"print_i32", {KILN_I32, KILN_I32}, 1},
    {"print_i64", {KILN_I64, KILN_I64}, 1},
    {"print_f32", {KILN_F32, KILN_F32}, 1},
    {"print_f64", {KILN_F64, KILN_F64}, 1},
    {"print_i32_f32", {KILN_I32, KILN_F32}, 2},
    {"print_f64_f64", {KILN_F64, KILN_F64}, 2},
};

static void spectest_add(file_ctx *f, const char *name, kiln_externkind kind, void *object) {
  if (!object) {
    fail(f, "cannot create spectest.%s", name);
    return;
  }
  kiln_import *imp = &f->spectest[f->spectest_count++];
  imp->module = "spectest";
  imp->name = name;
  imp->value.kind = kind;
  switch (kind) {
    case KILN_EXTERN_FUNC: imp->value.of.func = object; break;
    case KILN_EXTERN_TABLE: imp->value.of.table = object; break;
    case KILN_EXTERN_MEMORY: imp->value.of.memory = object; break;
    case KILN_EXTERN_GLOBAL: imp->value.of.global = object; break;
  }
}

static void spectest_create(file_ctx *f) {
  const char *saved_type = f->cmd_type;
  f->cmd_type = "spectest";
  for (size_t i = 0; i < sizeof spectest_funcs / sizeof spectest_funcs[0]; i++) {
    kiln_functype type;
    type.params = spectest_funcs[i].params;
    type.param_count = spectest_funcs[i].param_count;
    type.results = NULL;
    type.result_count = 0;
    kiln_func *func = kiln_func_new(f->store, &type, spectest_print, NULL, NULL);
    spectest_add(f, spectest_funcs[i].name, KILN_EXTERN_FUNC, func);
  }
  spectest_add(f, "global_i32", KILN_EXTERN_GLOBAL,
               kiln_global_new(f->store, KILN_I32, false, kiln_val_i32(666)));
  spectest_add(f, "global_i64", KILN_EXTERN_GLOBAL,
               kiln_global_new(f->store, KILN_I64, false, kiln_val_i64(666)));
  spectest_add(f, "global_f32", KILN_EXTERN_GLOBAL,
               kiln_global_new(f->store, KILN_F32, false, kiln_val_f32(666.6f)));
  spectest_add(f, "global_f64", KILN_EXTERN_GLOBAL,
               kiln_global_new(f->store, KILN_F64, false, kiln_val_f64(666.6)));

  kiln_error err;
  error_clear(&err);
  kiln_val null_ref;
  memset(&null_ref, 0, sizeof null_ref);
  null_ref.type = KILN_FUNCREF;
  null_ref.of.funcref = NULL;
  kiln_limits table_limits = {10, 20, true, false};
  kiln_table *table = kiln_table_new(f->store, KILN_FUNCREF, table_limits, null_ref, &err);
  spectest_add(f, "table", KILN_EXTERN_TABLE, table);

  error_clear(&err);
  kiln_limits memory_limits = {1, 2, true, false};
  kiln_memory *memory = kiln_memory_new(f->store, memory_limits, &err);
  spectest_add(f, "memory", KILN_EXTERN_MEMORY, memory);
  f->cmd_type = saved_type;
}

/* ---------------------------------------------------------------- modules */

static char *path_join(const char *dir, const char *name) {
  size_t n = strlen(dir), m = strlen(name);
  char *path = malloc(n + m + 2);
  if (!path) return NULL;
  memcpy(path, dir, n);
  path[n] = '/';
  memcpy(path + n + 1, name, m + 1);
  return path;
}

/* Read a whole file, NUL-terminated (the NUL is not counted in *size). */
static char *read_file(const char *path, size_t *size, sbuf *why) {
  FILE *file = fopen(path, "rb");
  if (!file) {
    sb_printf(why, "cannot open %s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  char *data = malloc(cap);
  while (data) {
    len += fread(data + len, 1, cap - len - 1, file);
    if (ferror(file)) {
      sb_printf(why, "cannot read %s: %s", path, strerror(errno));
      free(data);
      data = NULL;
      break;
    }
    if (feof(file)) break;
    if (len + 1 == cap) {
      char *more = realloc(data, cap * 2);
      if (!more) free(data);
      data = more;
      cap *= 2;
    }
  }
  fclose(file);
  if (!data) {
    if (why->len == 0) sb_printf(why, "out of memory reading %s", path);
    return NULL;
  }
  data[len] = '\0';
  *size = len;
  return data;
}

static bool is_text_module(const cJSON *cmd) {
  const char *module_type = json_str(cmd, "module_type");
  const char *filename = json_str(cmd, "filename");
  return (module_type && strcmp(module_type, "text") == 0) ||
         (filename && ends_with(filename, ".wat"));
}

/* Read and decode the command's `filename`. False when the file cannot be read (why says
 * so); else *status is kiln_module_new's result. */
static bool decode_module(file_ctx *f, const cJSON *cmd, kiln_status *status, kiln_module **module,
                          kiln_error *err, sbuf *why) {
  *module = NULL;
  const char *filename = json_str(cmd, "filename");
  if (!filename) {
    sb_printf(why, "command without a filename");
    return false;
  }
  char *path = path_join(f->dir, filename);
  if (!path) {
    sb_printf(why, "out of memory");
    return false;
  }
  size_t size = 0;
  char *bytes = read_file(path, &size, why);
  free(path);
  if (!bytes) return false;
  error_clear(err);
  *status = kiln_module_new(f->r->engine, (const uint8_t *)bytes, size, module, err);
  free(bytes);
  if (*status != KILN_OK && *module) { /* the API says *out is NULL on failure; be safe */
    kiln_module_free(*module);
    *module = NULL;
  }
  if (*status == KILN_OK && !*module) {
    *status = KILN_ERR_ARGUMENT;
    snprintf(err->message, sizeof err->message, "kiln_module_new returned OK but no module");
  }
  return true;
}

#define NUL_STANDIN "\xEE\x80\x80" /* U+E000 in UTF-8 */

/* Copy text with each JSON escape \u0000 replaced by \uE000 (same length). */
static char *escape_nul(const char *text, size_t *size) {
  char *out = malloc(*size + 1);
  if (!out) return NULL;
  memcpy(out, text, *size);
  out[*size] = 0;
  for (size_t i = 0; i + 6 <= *size; i++)
    if (memcmp(out + i, "\\u0000", 6) == 0 && (i == 0 || out[i - 1] != '\\')) memcpy(out + i, "\\uE000", 6);
  return out;
}

/* Look up an export by its JSON name, restoring NUL bytes (see escape_nul). */
static kiln_status export_lookup(kiln_instance *instance, const char *field, kiln_extern *out) {
  size_t n = strlen(field);
  char *name = malloc(n + 1);
  if (!name) return KILN_ERR_NOMEM;
  size_t len = 0;
  for (size_t i = 0; i < n;) {
    if (i + 3 <= n && memcmp(field + i, NUL_STANDIN, 3) == 0) {
      name[len++] = 0;
      i += 3;
    } else {
      name[len++] = field[i++];
    }
  }
  kiln_status st = kiln_instance_export_n(instance, name, len, out);
  free(name);
  return st;
}

/* Find the import (module_name, field): a registered instance's export, else spectest. */
static bool resolve_import(file_ctx *f, const char *module_name, const char *field,
                           kiln_extern *out) {
  kiln_instance *instance = NULL;
  if (bindings_get(&f->registered, module_name, &instance))
    return instance && export_lookup(instance, field, out) == KILN_OK;
  if (strcmp(module_name, "spectest") == 0) {
    for (size_t i = 0; i < f->spectest_count; i++) {
      if (strcmp(f->spectest[i].name, field) == 0) {
        *out = f->spectest[i].value;
        return true;
      }
    }
  }
  return false;
}

/* Instantiate with every import we can resolve; the ones we cannot are left out, so that
 * kiln_instantiate reports the link error. */
static kiln_status instantiate(file_ctx *f, kiln_module *module, kiln_instance **out,
                               kiln_error *err) {
  *out = NULL;
  error_clear(err);
  uint32_t n = kiln_module_import_count(module);
  kiln_import small[SMALL_VALS];
  kiln_import *imports = small;
  if (n > SMALL_VALS) {
    imports = malloc(n * sizeof *imports);
    if (!imports) {
      snprintf(err->message, sizeof err->message, "spec runner: out of memory");
      return KILN_ERR_NOMEM;
    }
  }
  size_t count = 0;
  for (uint32_t i = 0; i < n; i++) {
    const char *module_name = NULL, *field = NULL;
    kiln_externtype type;
    if (kiln_module_import(module, i, &module_name, &field, &type) != KILN_OK) continue;
    if (!module_name || !field) continue;
    if (resolve_import(f, module_name, field, &imports[count].value)) {
      imports[count].module = module_name;
      imports[count].name = field;
      count++;
    }
  }
  kiln_status status = kiln_instantiate(f->store, module, imports, count, out, err);
  if (imports != small) free(imports);
  if (status != KILN_OK) *out = NULL;
  if (status == KILN_OK && !*out) {
    status = KILN_ERR_ARGUMENT;
    snprintf(err->message, sizeof err->message, "kiln_instantiate returned OK but no instance");
  }
  return status;
}

/* ---------------------------------------------------------------- actions */

typedef struct action_result {
  kiln_status status; /* of the call */
  kiln_error err;
  kiln_val *results;
  size_t count;
  kiln_val small[SMALL_VALS];
} action_result;

static void action_result_free(action_result *a) {
  if (a->results && a->results != a->small) free(a->results);
  a->results = NULL;
}

/* The instance named by the action (or the current one). */
static kiln_instance *action_instance(file_ctx *f, const cJSON *action, sbuf *why) {
  const char *name = json_str(action, "module");
  kiln_instance *instance = NULL;
  if (name) {
    if (!bindings_get(&f->names, name, &instance))
      sb_printf(why, "no module named %s", name);
    else if (!instance)
      sb_printf(why, "module %s failed to instantiate", name);
    return instance;
  }
  if (!f->current) sb_printf(why, "no current module (none yet, or the last one failed)");
  return f->current;
}

/* Perform an invoke or get. False when it could not even be attempted (why says why);
 * else out->status is the call's result and out->results its values. */
static bool run_action(file_ctx *f, const cJSON *action, action_result *out, sbuf *why) {
  out->results = out->small;
  out->count = 0;
  out->status = KILN_OK;
  error_clear(&out->err);
  const char *type = json_str(action, "type");
  const char *field = json_str(action, "field");
  if (!cJSON_IsObject(action) || !type || !field) {
    sb_printf(why, "malformed action");
    return false;
  }
  bool invoke = strcmp(type, "invoke") == 0;
  if (!invoke && strcmp(type, "get") != 0) {
    sb_printf(why, "unknown action type %s", type);
    return false;
  }
  kiln_instance *instance = action_instance(f, action, why);
  if (!instance) return false;
  kiln_extern ext;
  memset(&ext, 0, sizeof ext);
  kiln_status status = export_lookup(instance, field, &ext);
  if (status != KILN_OK) {
    sb_printf(why, "export ");
    sb_quoted(why, field);
    sb_printf(why, ": %s", status_name(status));
    return false;
  }

  if (!invoke) {
    if (ext.kind != KILN_EXTERN_GLOBAL || !ext.of.global) {
      sb_printf(why, "export ");
      sb_quoted(why, field);
      sb_printf(why, " is not a global");
      return false;
    }
    out->small[0] = kiln_global_get(ext.of.global);
    out->count = 1;
    return true;
  }

  if (ext.kind != KILN_EXTERN_FUNC || !ext.of.func) {
    sb_printf(why, "export ");
    sb_quoted(why, field);
    sb_printf(why, " is not a function");
    return false;
  }
  const cJSON *args_json = json_get(action, "args");
  if (args_json && !cJSON_IsArray(args_json)) {
    sb_printf(why, "args is not an array");
    return false;
  }
  size_t nargs = (size_t)cJSON_GetArraySize(args_json);
  kiln_val small_args[SMALL_VALS];
  kiln_val *args = nargs > SMALL_VALS ? malloc(nargs * sizeof *args) : small_args;
  if (!args) {
    sb_printf(why, "out of memory");
    return false;
  }
  size_t i = 0;
  const cJSON *arg;
  cJSON_ArrayForEach(arg, args_json) {
    expect e;
    if (!parse_value(arg, false, &e, why)) {
      if (args != small_args) free(args);
      return false;
    }
    args[i++] = e.val;
  }

  kiln_functype ft = kiln_func_type(ext.of.func);
  size_t nres = ft.result_count;
  if (nres > SMALL_VALS) {
    out->results = malloc(nres * sizeof *out->results);
    if (!out->results) {
      if (args != small_args) free(args);
      sb_printf(why, "out of memory");
      return false;
    }
  }
  for (size_t r = 0; r < nres; r++) {
    memset(&out->results[r], 0, sizeof out->results[r]);
    out->results[r].type = ft.results ? ft.results[r] : (kiln_valtype)0;
  }
  out->status = kiln_func_call(f->store, ext.of.func, args, nargs, out->results, nres, &out->err);
  out->count = out->status == KILN_OK ? nres : 0;
  if (args != small_args) free(args);
  return true;
}

/* "(i32:1, f32:...)" of actual results, shaped like the expected values where known. */
static void sb_results(sbuf *sb, const action_result *a, const expect *want, size_t nwant) {
  sb_printf(sb, "(");
  for (size_t i = 0; i < a->count; i++) {
    if (i) sb_printf(sb, ", ");
    sb_val(sb, &a->results[i], i < nwant ? want[i].shape : SHAPE_NONE);
  }
  sb_printf(sb, ")");
}

static void cmd_action(file_ctx *f, const cJSON *cmd) {
  const cJSON *action = json_get(cmd, "action");
  action_result a;
  sbuf why;
  sb_init(&why);
  if (!run_action(f, action, &a, &why)) {
    sb_printf(&why, ": ");
    sb_action(&why, action);
    fail(f, "%s", why.buf);
  } else if (a.status != KILN_OK) {
    sb_action(&why, action);
    sb_printf(&why, ": ");
    sb_error(&why, a.status, &a.err);
    fail(f, "%s", why.buf);
  } else {
    pass(f);
  }
  action_result_free(&a);
}

static void cmd_assert_return(file_ctx *f, const cJSON *cmd) {
  const cJSON *action = json_get(cmd, "action");
  const cJSON *expected = json_get(cmd, "expected");
  action_result a;
  sbuf why;
  sb_init(&why);
  if (!run_action(f, action, &a, &why)) {
    sb_printf(&why, ": ");
    sb_action(&why, action);
    fail(f, "%s", why.buf);
    action_result_free(&a);
    return;
  }
  if (a.status != KILN_OK) {
    sb_action(&why, action);
    sb_printf(&why, ": expected ");
    sb_json_values(&why, expected);
    sb_printf(&why, ", got ");
    sb_error(&why, a.status, &a.err);
    fail(f, "%s", why.buf);
    action_result_free(&a);
    return;
  }

  size_t nwant = (size_t)cJSON_GetArraySize(expected);
  expect small_want[SMALL_VALS];
  expect *want = nwant > SMALL_VALS ? malloc(nwant * sizeof *want) : small_want;
  if (!want) {
    fail(f, "out of memory");
    action_result_free(&a);
    return;
  }
  bool ok = cJSON_IsArray(expected), parsed = ok;
  size_t i = 0;
  const cJSON *item;
  if (ok) {
    cJSON_ArrayForEach(item, expected) {
      if (!parse_value(item, true, &want[i], &why)) {
        ok = parsed = false;
        break;
      }
      i++;
    }
  } else {
    sb_printf(&why, "expected is not an array");
  }
  if (ok && a.count != nwant) ok = false;
  for (i = 0; ok && i < nwant; i++) ok = match_value(&want[i], &a.results[i]);
  if (ok) {
    pass(f);
  } else {
    if (parsed) {
      sb_action(&why, action);
      sb_printf(&why, ": expected ");
      sb_json_values(&why, expected);
      sb_printf(&why, ", got ");
      sb_results(&why, &a, want, nwant);
    } else {
      sb_printf(&why, ": ");
      sb_action(&why, action);
    }
    fail(f, "%s", why.buf);
  }
  if (want != small_want) free(want);
  action_result_free(&a);
}

/* assert_trap (action form) and assert_exhaustion. */
static void cmd_assert_trap_action(file_ctx *f, const cJSON *cmd, bool exhaustion) {
  const cJSON *action = json_get(cmd, "action");
  const char *text = json_str(cmd, "text");
  action_result a;
  sbuf why;
  sb_init(&why);
  if (!run_action(f, action, &a, &why)) {
    sb_printf(&why, ": ");
    sb_action(&why, action);
    fail(f, "%s", why.buf);
    action_result_free(&a);
    return;
  }
  bool ok = a.status == KILN_ERR_TRAP && (!exhaustion || a.err.trap == KILN_TRAP_STACK_EXHAUSTED);
  if (ok) {
    pass(f);
  } else {
    sb_action(&why, action);
    sb_printf(&why, ": expected %s \"%s\", got ", exhaustion ? "call stack exhaustion" : "trap",
              text ? text : "");
    if (a.status == KILN_OK) {
      sb_printf(&why, "results ");
      sb_results(&why, &a, NULL, 0);
    } else {
      sb_error(&why, a.status, &a.err);
    }
    fail(f, "%s", why.buf);
  }
  action_result_free(&a);
}

/* ---------------------------------------------------------------- module commands */

static void cmd_module(file_ctx *f, const cJSON *cmd) {
  const char *name = json_str(cmd, "name");
  kiln_instance *instance = NULL;
  f->current = NULL;
  if (is_text_module(cmd)) {
    skip(f);
  } else {
    kiln_status status = KILN_OK;
    kiln_module *module = NULL;
    kiln_error err;
    sbuf why;
    sb_init(&why);
    if (!decode_module(f, cmd, &status, &module, &err, &why)) {
      fail(f, "%s", why.buf);
    } else if (status != KILN_OK) {
      sb_error(&why, status, &err);
      fail(f, "%s: kiln_module_new failed: %s", json_str(cmd, "filename"), why.buf);
    } else {
      status = instantiate(f, module, &instance, &err);
      kiln_module_free(module);
      if (status != KILN_OK) {
        sb_error(&why, status, &err);
        fail(f, "%s: kiln_instantiate failed: %s", json_str(cmd, "filename"), why.buf);
      } else {
        pass(f);
      }
    }
  }
  f->current = instance;
  if (name && !bindings_put(&f->names, name, instance)) fail(f, "out of memory");
}

static void cmd_register(file_ctx *f, const cJSON *cmd) {
  const char *as = json_str(cmd, "as");
  const char *name = json_str(cmd, "name");
  kiln_instance *instance = f->current;
  if (!as) {
    fail(f, "register without \"as\"");
    return;
  }
  if (name) {
    if (!bindings_get(&f->names, name, &instance)) {
      fail(f, "register %s as \"%s\": no module named %s", name, as, name);
      return;
    }
  }
  if (!instance) {
    fail(f, "register %s as \"%s\": the module failed to instantiate", name ? name : "current module",
         as);
    return;
  }
  if (!bindings_put(&f->registered, as, instance)) {
    fail(f, "out of memory");
    return;
  }
  pass(f);
}

/* assert_invalid, assert_malformed (want_decode != OK), assert_unlinkable,
 * assert_uninstantiable and the module form of assert_trap (want_decode == OK: the module
 * must decode, and instantiating must fail with want_instantiate). */
static void cmd_assert_module(file_ctx *f, const cJSON *cmd, kiln_status want_decode,
                              kiln_status want_instantiate) {
  const char *text = json_str(cmd, "text");
  const char *filename = json_str(cmd, "filename");
  kiln_status want = want_decode != KILN_OK ? want_decode : want_instantiate;
  if (!text) text = "";
  if (is_text_module(cmd)) {
    if (want_decode == KILN_ERR_MALFORMED)
      skip(f);
    else
      fail(f, "%s: text modules are not supported", filename ? filename : "?");
    return;
  }
  kiln_status status = KILN_OK;
  kiln_module *module = NULL;
  kiln_error err;
  sbuf why;
  sb_init(&why);
  if (!decode_module(f, cmd, &status, &module, &err, &why)) {
    fail(f, "%s", why.buf);
    return;
  }
  if (want_decode != KILN_OK) {
    if (module) kiln_module_free(module);
    if (status == want_decode) {
      pass(f);
    } else if (status == KILN_OK) {
      fail(f, "%s: expected %s \"%s\", but the module decoded and validated", filename,
           status_name(want), text);
    } else {
      sb_error(&why, status, &err);
      fail(f, "%s: expected %s \"%s\", got %s", filename, status_name(want), text, why.buf);
    }
    return;
  }
  if (status != KILN_OK) {
    sb_error(&why, status, &err);
    fail(f, "%s: expected %s \"%s\" when instantiating, but kiln_module_new failed: %s", filename,
         status_name(want), text, why.buf);
    return;
  }
  kiln_instance *instance = NULL;
  status = instantiate(f, module, &instance, &err);
  kiln_module_free(module);
  if (status == want_instantiate) {
    pass(f);
  } else if (status == KILN_OK) {
    fail(f, "%s: expected %s \"%s\", but instantiation succeeded", filename, status_name(want),
         text);
  } else {
    sb_error(&why, status, &err);
    fail(f, "%s: expected %s \"%s\", got %s", filename, status_name(want), text, why.buf);
  }
}

static void run_command(file_ctx *f, const cJSON *cmd) {
  const char *type = json_str(cmd, "type");
  const cJSON *line = json_get(cmd, "line");
  f->line = cJSON_IsNumber(line) ? (long)line->valuedouble : 0;
  f->c->line = f->line;
  f->cmd_type = type ? type : "?";
  if (!type) {
    fail(f, "command without a type");
  } else if (strcmp(type, "assert_return") == 0) {
    cmd_assert_return(f, cmd);
  } else if (strcmp(type, "assert_trap") == 0) {
    if (json_get(cmd, "action"))
      cmd_assert_trap_action(f, cmd, false);
    else
      cmd_assert_module(f, cmd, KILN_OK, KILN_ERR_TRAP);
  } else if (strcmp(type, "module") == 0) {
    cmd_module(f, cmd);
  } else if (strcmp(type, "assert_invalid") == 0) {
    cmd_assert_module(f, cmd, KILN_ERR_INVALID, KILN_OK);
  } else if (strcmp(type, "assert_malformed") == 0) {
    cmd_assert_module(f, cmd, KILN_ERR_MALFORMED, KILN_OK);
  } else if (strcmp(type, "action") == 0) {
    cmd_action(f, cmd);
  } else if (strcmp(type, "assert_unlinkable") == 0) {
    cmd_assert_module(f, cmd, KILN_OK, KILN_ERR_LINK);
  } else if (strcmp(type, "assert_uninstantiable") == 0) {
    cmd_assert_module(f, cmd, KILN_OK, KILN_ERR_TRAP);
  } else if (strcmp(type, "register") == 0) {
    cmd_register(f, cmd);
  } else if (strcmp(type, "assert_exhaustion") == 0) {
    cmd_assert_trap_action(f, cmd, true);
  } else {
    fail(f, "unknown command type");
  }
}

/* ---------------------------------------------------------------- files */

/* A failure of the whole file (unreadable, bad JSON...). Shown even without -v, on stderr. */
static void PRINTF_LIKE(4, 5) file_fail(runner *r, counts *c, const char *path,
                                        const char *format, ...) {
  c->failed++;
  FILE *out = r->verbose ? stdout : stderr;
  fprintf(out, "%s: ", path);
  va_list ap;
  va_start(ap, format);
  vfprintf(out, format, ap);
  va_end(ap);
  fputc('\n', out);
  fflush(out);
}

/* Run every command of one .json file, adding to *c. */
static void run_file(runner *r, const char *path, const char *name, counts *c) {
  sbuf why;
  sb_init(&why);
  size_t size = 0;
  char *text = read_file(path, &size, &why);
  if (!text) {
    file_fail(r, c, path, "%s", why.buf);
    return;
  }
  /* cJSON strings end at a NUL byte, but export names may contain "\u0000": parse them as
   * U+E000 (never used by the suite) and turn that back into NUL in export_lookup. */
  char *escaped = escape_nul(text, &size);
  free(text);
  if (!escaped) {
    file_fail(r, c, path, "out of memory");
    return;
  }
  cJSON *root = cJSON_ParseWithLength(escaped, size);
  free(escaped);
  const cJSON *commands = json_get(root, "commands");
  if (!root || !cJSON_IsArray(commands)) {
    file_fail(r, c, path, "%s", root ? "no \"commands\" array" : "bad JSON");
    cJSON_Delete(root);
    return;
  }

  const char *slash = strrchr(path, '/');
  char *dir = malloc(slash ? (size_t)(slash - path) + 2 : 2);
  /* message prefix: the .wast's base name, as the line numbers refer to it */
  const char *source = json_str(root, "source_filename");
  char *wast = NULL;
  if (source) {
    const char *base = strrchr(source, '/');
    base = base ? base + 1 : source;
    wast = malloc(strlen(base) + 1);
    if (wast) strcpy(wast, base);
  } else {
    wast = malloc(strlen(name) + sizeof ".wast");
    if (wast) sprintf(wast, "%s.wast", name);
  }
  kiln_store *store = kiln_store_new(r->engine);
  if (!dir || !wast || !store) {
    file_fail(r, c, path, "%s", !store ? "kiln_store_new failed" : "out of memory");
    if (store) kiln_store_free(store);
    free(dir);
    free(wast);
    cJSON_Delete(root);
    return;
  }
  if (slash) {
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    if (slash == path) strcpy(dir, "/");
  } else {
    strcpy(dir, ".");
  }

  file_ctx f;
  memset(&f, 0, sizeof f);
  f.r = r;
  f.wast = wast;
  f.dir = dir;
  f.c = c;
  f.store = store;
  f.cmd_type = "?";
  spectest_create(&f);

  const cJSON *cmd;
  cJSON_ArrayForEach(cmd, commands) run_command(&f, cmd);

  kiln_store_free(store);
  free(f.names.items);
  free(f.registered.items);
  free(dir);
  free(wast);
  cJSON_Delete(root);
}

static void print_counts(const char *name, const counts *c) {
  printf("%s: %lu passed, %lu failed, %lu skipped\n", name, c->passed, c->failed, c->skipped);
}

static void add_counts(runner *r, const counts *c) {
  r->passed += c->passed;
  r->failed += c->failed;
  r->skipped += c->skipped;
}

/* -k: run the file in a child process; a crash or a hang is a failure of the file. */
static bool run_isolated(runner *r, const char *path, const char *name) {
  counts *c = r->shared;
  memset(c, 0, sizeof *c);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    alarm(FILE_TIMEOUT_SECONDS);
    run_file(r, path, name, c);
    c->done = 1;
    fflush(stdout);
    fflush(stderr);
    _exit(0);
  }
  int status = 0;
  pid_t got;
  do got = waitpid(pid, &status, 0);
  while (got < 0 && errno == EINTR);
  if (!c->done) {
    char how[128];
    if (got < 0)
      snprintf(how, sizeof how, "lost the child process: %s", strerror(errno));
    else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
      snprintf(how, sizeof how, "timed out after %d s", FILE_TIMEOUT_SECONDS);
    else if (WIFSIGNALED(status))
      snprintf(how, sizeof how, "crashed with signal %d (%s)", WTERMSIG(status),
               strsignal(WTERMSIG(status)));
    else
      snprintf(how, sizeof how, "exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    file_fail(r, c, path, "%s in the command at line %ld", how, c->line);
  }
  print_counts(name, c);
  add_counts(r, c);
  return true;
}

static void run_one(runner *r, const char *path) {
  /* the name: base name without .json */
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (n > 5 && strcmp(base + n - 5, ".json") == 0) n -= 5;
  char name[256];
  if (n == 0) { /* "dir/": name it by the whole argument */
    base = path;
    n = strlen(path);
  }
  snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), base);

  if (r->isolate && r->shared && run_isolated(r, path, name)) return;
  counts c;
  memset(&c, 0, sizeof c);
  run_file(r, path, name, &c);
  print_counts(name, &c);
  add_counts(r, &c);
}

static bool is_regular_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *test_json_path(const char *dir, const char *name) {
  char *sub = path_join(dir, name);
  if (!sub) return NULL;
  size_t n = strlen(sub), m = strlen(name);
  char *path = malloc(n + m + sizeof "/.json");
  if (path) sprintf(path, "%s/%s.json", sub, name);
  free(sub);
  return path;
}

/* A directory: one test's directory (DIR/<base>.json), or the root of all of them. */
static void run_dir(runner *r, const char *dir) {
  char *trimmed = malloc(strlen(dir) + 1);
  if (!trimmed) {
    counts c = {0, 0, 0, 0, 0};
    file_fail(r, &c, dir, "out of memory");
    add_counts(r, &c);
    return;
  }
  strcpy(trimmed, dir);
  size_t len = strlen(trimmed);
  while (len > 1 && trimmed[len - 1] == '/') trimmed[--len] = '\0';
  const char *base = strrchr(trimmed, '/');
  base = base ? base + 1 : trimmed;
  char *own = malloc(len + strlen(base) + sizeof "/.json");
  if (own) sprintf(own, "%s/%s.json", trimmed, base);
  if (own && is_regular_file(own)) {
    run_one(r, own);
    free(own);
    free(trimmed);
    return;
  }
  free(own);

  char **paths = NULL;
  size_t count = 0, cap = 0;
  DIR *d = opendir(trimmed);
  if (!d) {
    counts c = {0, 0, 0, 0, 0};
    file_fail(r, &c, trimmed, "cannot open directory: %s", strerror(errno));
    print_counts(base, &c);
    add_counts(r, &c);
    free(trimmed);
    return;
  }
  struct dirent *entry;
  while ((entry = readdir(d)) != NULL) {
    if (entry->d_name[0] == '.') continue;
    char *path = test_json_path(trimmed, entry->d_name);
    if (!path) continue;
    if (!is_regular_file(path)) {
      free(path);
      continue;
    }
    if (count == cap) {
      size_t new_cap = cap ? cap * 2 : 256;
      char **more = realloc(paths, new_cap * sizeof *more);
      if (!more) {
        free(path);
        continue;
      }
      paths = more;
      cap = new_cap;
    }
    paths[count++] = path;
  }
  closedir(d);
  if (count == 0) {
    counts c = {0, 0, 0, 0, 0};
    file_fail(r, &c, trimmed, "no <name>/<name>.json files in this directory");
    print_counts(base, &c);
    add_counts(r, &c);
  }
  if (count > 1) qsort(paths, count, sizeof *paths, compare_strings);
  for (size_t i = 0; i < count; i++) {
    run_one(r, paths[i]);
    free(paths[i]);
  }
  free(paths);
  free(trimmed);
}

static void run_path(runner *r, const char *path) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    run_dir(r, path);
  else
    run_one(r, path); /* a missing file is reported by run_file */
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: spec_runner [-v] [-k] DIR_OR_FILE...\n"
          "  DIR   the spec json root (runs every <name>/<name>.json, sorted) or one test's dir\n"
          "  FILE  one wast2json .json file\n"
          "  --tier=interp|compiled|auto|auto-osr|auto-never|auto-background\n"
          "        where the modules run (default: the interpreter); auto: every function\n"
          "        compiled on its first call, which waits for it; auto-osr: a function's\n"
          "        first call runs interpreted and moves to native code at its first loop\n"
          "        (on-stack replacement, compiled then, waited for); auto-never: the auto\n"
          "        tier with a threshold never reached; auto-background: compiled on its first\n"
          "        call by a background thread, installed while the tests run\n"
          "  -v    one line per failing command\n"
          "  -k    run each file in a child process: a crash or hang fails that file only\n");
}

int main(int argc, char **argv) {
  runner r;
  memset(&r, 0, sizeof r);
  int first_path = argc;
  kiln_tier tier = KILN_TIER_INTERP;
  uint32_t threshold = 0;
  bool wait = false;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--") == 0) {
      first_path = i + 1;
      break;
    }
    if (strncmp(arg, "--tier=", 7) == 0) {
      if (strcmp(arg + 7, "interp") == 0) {
        tier = KILN_TIER_INTERP;
      } else if (strcmp(arg + 7, "compiled") == 0 || strncmp(arg + 7, "auto", 4) == 0) {
#ifdef KILN_HAVE_LLVM
        const char *t = arg + 7;
        tier = strcmp(t, "compiled") == 0 ? KILN_TIER_COMPILED : KILN_TIER_AUTO;
        if (strcmp(t, "auto") == 0) {
          threshold = 1;
          wait = true;
        } else if (strcmp(t, "auto-osr") == 0) {
          threshold = 2; /* the call counts 1, the loop's first header the second */
          wait = true;
        } else if (strcmp(t, "auto-never") == 0) {
          threshold = UINT32_MAX;
        } else if (strcmp(t, "auto-background") == 0) {
          threshold = 1;
        } else if (tier == KILN_TIER_AUTO) {
          fprintf(stderr, "spec_runner: unknown tier '%s'\n", t);
          return 2;
        }
#else
        fprintf(stderr, "spec_runner: built without the LLVM tier: skipping %s\n", arg);
        printf("0 passed, 0 failed, 0 skipped\n");
        return 0;
#endif
      } else {
        fprintf(stderr, "spec_runner: unknown tier '%s' (interp, compiled, auto, auto-osr, auto-never, auto-background)\n",
                arg + 7);
        return 2;
      }
      continue;
    }
    if (arg[0] != '-' || arg[1] == '\0') {
      first_path = i;
      break;
    }
    for (const char *p = arg + 1; *p; p++) {
      if (*p == 'v') {
        r.verbose = true;
      } else if (*p == 'k') {
        r.isolate = true;
      } else if (*p == 'h') {
        usage(stdout);
        return 0;
      } else {
        fprintf(stderr, "spec_runner: unknown option -%c\n", *p);
        usage(stderr);
        return 2;
      }
    }
  }
  if (first_path >= argc) {
    usage(stderr);
    return 2;
  }

  if (r.isolate) {
    void *shared = mmap(NULL, sizeof(counts), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                        -1, 0);
    if (shared == MAP_FAILED)
      fprintf(stderr, "spec_runner: -k unavailable (mmap: %s), running in-process\n",
              strerror(errno));
    else
      r.shared = shared;
  }

  kiln_config config;
  kiln_config_init(&config);
  config.tier = tier;
  config.tierup_threshold = threshold;
  config.tierup_wait = wait;
#ifdef KILN_HAVE_LLVM
  config.compiler = kiln_llvm_compiler();
#endif
  r.engine = kiln_engine_new(&config);
  if (!r.engine) {
    fprintf(stderr, "spec_runner: kiln_engine_new failed\n");
    printf("0 passed, 1 failed, 0 skipped\n");
    return 1;
  }
  for (int i = first_path; i < argc; i++) run_path(&r, argv[i]);
  kiln_engine_free(r.engine);
  if (r.shared) munmap(r.shared, sizeof(counts));

  printf("%lu passed, %lu failed, %lu skipped\n", r.passed, r.failed, r.skipped);
  return r.failed ? 1 : 0;
}
