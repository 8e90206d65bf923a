/* test_hostile.c - hostile modules: each must get an error or a trap promptly and with
 * bounded memory, never a crash, a hang or an allocation as large as the numbers it claims.
 *
 * The modules are built in C with a small byte-buffer builder (LEB128 included), so that
 * sizes like 100,000 nested blocks or a 1 MB body need no files. Uses kiln.h only. Prints
 * one line per check ("ok" or "FAIL" and what it checks), ends with "N passed, N failed" and
 * exits non-zero if any check failed. There are no timing assertions, but every check is
 * meant to take well under a second. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kiln.h"
#include "tier.h"

static int passed, failed;

/* Report one check: what it checks and whether it held; `detail` explains a failure. */
static bool check(bool ok, const char *what, const char *detail_format, ...) {
  printf("%s  %s\n", ok ? "ok  " : "FAIL", what);
  if (ok) {
    passed++;
  } else {
    failed++;
    if (detail_format) {
      va_list ap;
      va_start(ap, detail_format);
      printf("      ");
      vprintf(detail_format, ap);
      printf("\n");
      va_end(ap);
    }
  }
  fflush(stdout);
  return ok;
}

/* ---------------------------------------------------------------- byte buffers */

typedef struct buf {
  uint8_t *p;
  size_t n, cap;
} buf;

static void put(buf *b, const void *data, size_t n) {
  if (n == 0) return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n) cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) {
      fprintf(stderr, "test_hostile: out of memory building a module\n");
      exit(2);
    }
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
}

static void put_u8(buf *b, uint8_t v) { put(b, &v, 1); }

static void put_repeat(buf *b, const void *unit, size_t unit_size, size_t times) {
  for (size_t i = 0; i < times; i++) put(b, unit, unit_size);
}

static void put_uleb(buf *b, uint64_t v) {
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    put_u8(b, byte | (v ? 0x80 : 0));
  } while (v);
}

static void put_sleb(buf *b, int64_t v) {
  for (;;) {
    uint8_t byte = v & 0x7f;
    v >>= 7; /* arithmetic shift */
    bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
    put_u8(b, byte | (done ? 0 : 0x80));
    if (done) return;
  }
}

static void put_name(buf *b, const char *s) {
  put_uleb(b, strlen(s));
  put(b, s, strlen(s));
}

/* A section: id, size, contents. */
static void put_section(buf *m, uint8_t id, const buf *contents) {
  put_u8(m, id);
  put_uleb(m, contents->n);
  put(m, contents->p, contents->n);
}

static void buf_free(buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

static buf module_header(void) {
  buf m = {0};
  put(&m, "\0asm\1\0\0\0", 8);
  return m;
}

/* Sections of a module by id (0..12); assemble() writes the present ones in the required
 * order (data count before code) and frees them. */
typedef struct parts {
  buf sec[13];
} parts;

static buf assemble(parts *p) {
  static const int order[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11};
  buf m = module_header();
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    buf *s = &p->sec[order[i]];
    if (s->p) put_section(&m, (uint8_t)order[i], s);
    buf_free(s);
  }
  return m;
}

/* The type section with one type: params and results as strings of value type bytes. */
static void one_type(parts *p, const char *params, const char *results) {
  buf *s = &p->sec[1];
  put_uleb(s, 1);
  put_u8(s, 0x60);
  put_uleb(s, strlen(params));
  put(s, params, strlen(params));
  put_uleb(s, strlen(results));
  put(s, results, strlen(results));
}

/* One function of type 0, exported as "f", with the given body (locals declaration and
 * instructions, ending with end). Optionally a memory of min pages exported as "mem". */
static buf func_module(const char *params, const char *results, const buf *body, int64_t memory_pages) {
  parts p = {0};
  one_type(&p, params, results);
  put_uleb(&p.sec[3], 1);
  put_uleb(&p.sec[3], 0);
  if (memory_pages >= 0) {
    put_uleb(&p.sec[5], 1);
    put_u8(&p.sec[5], 0x00);
    put_uleb(&p.sec[5], (uint64_t)memory_pages);
  }
  buf *e = &p.sec[7];
  put_uleb(e, memory_pages >= 0 ? 2 : 1);
  put_name(e, "f");
  put_u8(e, 0x00);
  put_uleb(e, 0);
  if (memory_pages >= 0) {
    put_name(e, "mem");
    put_u8(e, 0x02);
    put_uleb(e, 0);
  }
  put_uleb(&p.sec[10], 1);
  put_uleb(&p.sec[10], body->n);
  put(&p.sec[10], body->p, body->n);
  return assemble(&p);
}

/* ---------------------------------------------------------------- running */

static kiln_engine *engine; /* default configuration */
static uint64_t fuel_budget = UINT64_MAX; /* what run() gives each store */

/* Decode and compile m with engine e; *module is NULL on failure. */
static kiln_status compile(kiln_engine *e, const buf *m, kiln_module **module, kiln_error *err) {
  memset(err, 0, sizeof *err);
  return kiln_module_new(e, m->p, m->n, module, err);
}

/* Compile, instantiate and call "f" with args; results in r. Reports the first failing step
 * in err and *step ("compile", "instantiate", "call"). */
static kiln_status run(kiln_engine *e, const buf *m, const kiln_val *args, size_t nargs, kiln_val *r, size_t nr,
                       kiln_error *err, const char **step) {
  kiln_module *module = NULL;
  *step = "compile";
  kiln_status st = compile(e, m, &module, err);
  if (st) return st;
  kiln_store *store = kiln_store_new(e);
  kiln_store_set_fuel(store, fuel_budget);
  kiln_instance *inst = NULL;
  *step = "instantiate";
  st = kiln_instantiate(store, module, NULL, 0, &inst, err);
  if (st == KILN_OK) {
    *step = "call";
    kiln_extern f;
    st = kiln_instance_export(inst, "f", &f);
    if (st == KILN_OK && f.kind != KILN_EXTERN_FUNC) st = KILN_ERR_NOT_FOUND;
    if (st == KILN_OK) st = kiln_func_call(store, f.of.func, args, nargs, r, nr, err);
  }
  kiln_store_free(store);
  kiln_module_free(module);
  return st;
}

/* Expect kiln_module_new to fail with `want` (a clean refusal). */
static void expect_refused(const char *what, const buf *m, kiln_status want) {
  kiln_module *module = NULL;
  kiln_error err;
  kiln_status st = compile(engine, m, &module, &err);
  check(st == want && module == NULL, what, "got %s: %s", kiln_status_string(st), err.message);
  kiln_module_free(module);
}

/* ---------------------------------------------------------------- huge counts */

/* A module whose only section is `id` holding `count` as a LEB128 and then `tail`. */
static buf count_module(uint8_t id, uint64_t count, const void *tail, size_t tail_size) {
  buf s = {0};
  put_uleb(&s, count);
  put(&s, tail, tail_size);
  buf m = module_header();
  put_section(&m, id, &s);
  buf_free(&s);
  return m;
}

static void test_huge_counts(void) {
  printf("-- huge counts in sections, few bytes behind them\n");
  static const struct {
    uint8_t id;
    const char *name;
  } sections[] = {{1, "type"}, {2, "import"}, {3, "function"}, {4, "table"}, {5, "memory"}, {6, "global"},
                  {7, "export"}, {9, "element"}, {10, "code"}, {11, "data"}};
  for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
    buf m = count_module(sections[i].id, 0xFFFFFFFFu, "\x60\x00\x00\x00", 4);
    char what[128];
    snprintf(what, sizeof what, "%s section with count 0xFFFFFFFF and 4 bytes -> KILN_ERR_MALFORMED", sections[i].name);
    expect_refused(what, &m, KILN_ERR_MALFORMED);
    buf_free(&m);
  }
  /* a count that does not fit 32 bits */
  buf m = count_module(1, 0x1FFFFFFFFull, NULL, 0);
  expect_refused("type count needing 33 bits -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);

  /* a type with 0xFFFFFFFF params */
  buf s = {0};
  put_uleb(&s, 1);
  put_u8(&s, 0x60);
  put_uleb(&s, 0xFFFFFFFFu);
  put(&s, "\x7f\x7f", 2);
  m = module_header();
  put_section(&m, 1, &s);
  buf_free(&s);
  expect_refused("function type with 0xFFFFFFFF params -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);

  /* names: an export name of length 0xFFFFFFFF, a custom section name likewise */
  s = (buf){0};
  put_uleb(&s, 1);
  put_uleb(&s, 0xFFFFFFFFu);
  put(&s, "abc", 3);
  m = module_header();
  put_section(&m, 7, &s);
  buf_free(&s);
  expect_refused("export name of length 0xFFFFFFFF -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);
  m = count_module(0, 0xFFFFFFFFu, "abc", 3);
  expect_refused("custom section name of length 0xFFFFFFFF -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);

  /* a section size far past the end of the module */
  m = module_header();
  put_u8(&m, 1);
  put_uleb(&m, 0xFFFFFFF0u);
  put(&m, "\x01\x60\x00\x00", 4);
  expect_refused("section size 0xFFFFFFF0 with 4 bytes present -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);

  /* a data segment claiming 0xFFFFFFFF bytes */
  parts p = {0};
  put_uleb(&p.sec[5], 1);
  put(&p.sec[5], "\x00\x01", 2);
  put_uleb(&p.sec[11], 1);
  put(&p.sec[11], "\x00\x41\x00\x0b", 4);
  put_uleb(&p.sec[11], 0xFFFFFFFFu);
  put(&p.sec[11], "xyz", 3);
  m = assemble(&p);
  expect_refused("data segment of 0xFFFFFFFF bytes with 3 present -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);

  /* an element segment claiming 0xFFFFFFFF function indices */
  p = (parts){0};
  one_type(&p, "", "");
  put(&p.sec[3], "\x01\x00", 2);
  put(&p.sec[4], "\x01\x70\x00\x01", 4);
  put_uleb(&p.sec[9], 1);
  put(&p.sec[9], "\x00\x41\x00\x0b", 4);
  put_uleb(&p.sec[9], 0xFFFFFFFFu);
  put(&p.sec[9], "\x00\x00", 2);
  put(&p.sec[10], "\x01\x02\x00\x0b", 4);
  m = assemble(&p);
  expect_refused("element segment of 0xFFFFFFFF entries -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);

  /* locals: 0xFFFFFFFF i32 locals in one run (a limit), then two runs that overflow 32 bits */
  buf body = {0};
  put_uleb(&body, 1);
  put_uleb(&body, 0xFFFFFFFFu);
  put_u8(&body, 0x7f);
  put_u8(&body, 0x0b);
  m = func_module("", "", &body, -1);
  expect_refused("a body declaring 0xFFFFFFFF locals -> KILN_ERR_LIMIT", &m, KILN_ERR_LIMIT);
  buf_free(&m);
  buf_free(&body);
  put_uleb(&body, 2);
  put_uleb(&body, 0xFFFFFFFFu);
  put_u8(&body, 0x7f);
  put_uleb(&body, 0xFFFFFFFFu);
  put_u8(&body, 0x7e);
  put_u8(&body, 0x0b);
  m = func_module("", "", &body, -1);
  expect_refused("a body declaring 2 x 0xFFFFFFFF locals -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);
  buf_free(&body);
  /* a local run count of 0xFFFFFFFF */
  put_uleb(&body, 0xFFFFFFFFu);
  put(&body, "\x01\x7f\x0b", 3);
  m = func_module("", "", &body, -1);
  expect_refused("a body with 0xFFFFFFFF local runs -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);
  buf_free(&body);

  /* br_table with 0xFFFFFFFF targets in a few bytes */
  put(&body, "\x00\x02\x40\x41\x00\x0e", 6);
  put_uleb(&body, 0xFFFFFFFFu);
  put(&body, "\x00\x00\x0b\x0b", 4);
  m = func_module("", "", &body, -1);
  expect_refused("br_table claiming 0xFFFFFFFF targets -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);
  buf_free(&body);

  /* a name section whose function name map claims 0xFFFFFFFF entries: names are best effort,
   * the module is fine */
  p = (parts){0};
  one_type(&p, "", "");
  put(&p.sec[3], "\x01\x00", 2);
  put(&p.sec[7], "\x01\x01" "f" "\x00\x00", 5);
  put(&p.sec[10], "\x01\x02\x00\x0b", 4);
  m = assemble(&p);
  buf names = {0}, sub = {0};
  put_name(&names, "name");
  put_uleb(&sub, 0xFFFFFFFFu);
  put(&sub, "\x00\x01", 2);
  put_u8(&names, 1);
  put_uleb(&names, sub.n);
  put(&names, sub.p, sub.n);
  put_section(&m, 0, &names);
  buf_free(&names);
  buf_free(&sub);
  kiln_module *module = NULL;
  kiln_error err;
  kiln_status st = compile(engine, &m, &module, &err);
  check(st == KILN_OK, "name section claiming 0xFFFFFFFF names -> names dropped, module accepted", "got %s: %s",
        kiln_status_string(st), err.message);
  kiln_module_free(module);
  buf_free(&m);
}

/* ---------------------------------------------------------------- deep nesting */

static void test_deep_nesting(void) {
  printf("-- deep nesting: 100,000 nested blocks, loops, ifs\n");
  const size_t n = 100000;
  kiln_val r;
  kiln_error err;
  const char *step;

  /* (block (block ... (i32.const 42) (br N-1) ... end) end): the br leaves every block at once */
  buf body = {0};
  put_u8(&body, 0x00);
  put_u8(&body, 0x02);
  put_u8(&body, 0x7f); /* outermost block yields the i32 */
  put_repeat(&body, "\x02\x40", 2, n - 1);
  put(&body, "\x41\x2a\x0c", 3);
  put_uleb(&body, n - 1);
  put_repeat(&body, "\x0b", 1, n - 1);
  put(&body, "\x41\x00\x0b\x0b", 4); /* falling through would give 0 */
  buf m = func_module("", "\x7f", &body, -1);
  buf_free(&body);
  kiln_status st = run(engine, &m, NULL, 0, &r, 1, &err, &step);
  check(st == KILN_OK && r.of.i32 == 42, "100,000 nested blocks, br out of all of them -> 42",
        "%s: %s: %s", step, kiln_status_string(st), err.message);
  buf_free(&m);

  /* nested blocks each passing an i32 result out through its end */
  put_u8(&body, 0x00);
  put_repeat(&body, "\x02\x7f", 2, n);
  put(&body, "\x41\x07", 2);
  put_repeat(&body, "\x0b", 1, n);
  put_u8(&body, 0x0b);
  m = func_module("", "\x7f", &body, -1);
  buf_free(&body);
  st = run(engine, &m, NULL, 0, &r, 1, &err, &step);
  check(st == KILN_OK && r.of.i32 == 7, "100,000 nested (block (result i32)) -> 7", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  buf_free(&m);

  /* nested loops, each entered once */
  put_u8(&body, 0x00);
  put_repeat(&body, "\x03\x40", 2, n);
  put_repeat(&body, "\x0b", 1, n);
  put(&body, "\x41\x01\x0b", 3);
  m = func_module("", "\x7f", &body, -1);
  buf_free(&body);
  st = run(engine, &m, NULL, 0, &r, 1, &err, &step);
  check(st == KILN_OK && r.of.i32 == 1, "100,000 nested loops -> runs through", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  buf_free(&m);

  /* nested ifs on the parameter, with else arms */
  put_u8(&body, 0x00);
  for (size_t i = 0; i < n; i++) put(&body, "\x20\x00\x04\x40", 4);
  put_repeat(&body, "\x05\x0b", 2, n);
  put(&body, "\x41\x05\x0b", 3);
  m = func_module("\x7f", "\x7f", &body, -1);
  buf_free(&body);
  kiln_val a = kiln_val_i32(1);
  st = run(engine, &m, &a, 1, &r, 1, &err, &step);
  check(st == KILN_OK && r.of.i32 == 5, "100,000 nested if/else -> runs through", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  buf_free(&m);

  /* 100,000 blocks that never end: malformed, not a crash */
  put_u8(&body, 0x00);
  put_repeat(&body, "\x02\x40", 2, n);
  put_u8(&body, 0x0b);
  m = func_module("", "", &body, -1);
  buf_free(&body);
  expect_refused("100,000 unclosed blocks -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);

  /* a deep operand stack under deep nesting: 100,000 values, then 100,000 blocks (each block
   * start must not rescan the whole stack) */
  put_u8(&body, 0x00);
  put_repeat(&body, "\x41\x01", 2, n);
  put_repeat(&body, "\x02\x40", 2, n);
  put_repeat(&body, "\x0b", 1, n);
  put_repeat(&body, "\x6a", 1, n - 1);
  put_u8(&body, 0x0b);
  m = func_module("", "\x7f", &body, -1);
  buf_free(&body);
  st = run(engine, &m, NULL, 0, &r, 1, &err, &step);
  check(st == KILN_OK && r.of.i32 == (int32_t)n, "100,000 operands then 100,000 blocks, then add them up",
        "%s: %s: %s", step, kiln_status_string(st), err.message);
  buf_free(&m);

  /* a deep stack of local.gets, then local.sets that each must check what reads the local */
  put(&body, "\x01\x02\x7f", 3);
  put_repeat(&body, "\x20\x00", 2, n);
  for (size_t i = 0; i < n; i++) put(&body, "\x20\x00\x20\x01\x21\x01\x21\x00", 8);
  put_repeat(&body, "\x6a", 1, n - 1);
  put_u8(&body, 0x0b);
  m = func_module("", "\x7f", &body, -1);
  buf_free(&body);
  st = run(engine, &m, NULL, 0, &r, 1, &err, &step);
  check(st == KILN_OK && r.of.i32 == 0, "100,000 deferred local.gets, then 100,000 local.get/local.set pairs",
        "%s: %s: %s", step, kiln_status_string(st), err.message);
  buf_free(&m);
}

/* ---------------------------------------------------------------- locals */

static void test_many_locals(void) {
  printf("-- functions with very many locals\n");
  kiln_val r;
  kiln_error err;
  const char *step;
  /* (func (param i32) (result i32) (local i32 x 100000)
   *   (local.set 100000 (i32.add (local.get 0) (i32.const 1)))
   *   (i32.add (local.get 100000) (local.get 50000)))   ;; locals start zeroed */
  buf body = {0};
  put_uleb(&body, 1);
  put_uleb(&body, 100000);
  put_u8(&body, 0x7f);
  put(&body, "\x20\x00\x41\x01\x6a\x21", 6);
  put_uleb(&body, 100000);
  put_u8(&body, 0x20);
  put_uleb(&body, 100000);
  put_u8(&body, 0x20);
  put_uleb(&body, 50000);
  put(&body, "\x6a\x0b", 2);
  buf m = func_module("\x7f", "\x7f", &body, -1);
  buf_free(&body);
  kiln_val a = kiln_val_i32(41);
  kiln_status st = run(engine, &m, &a, 1, &r, 1, &err, &step);
  bool ran = st == KILN_OK && r.of.i32 == 42;
  bool refused = st == KILN_ERR_LIMIT && strcmp(step, "compile") == 0;
  check(ran || refused, "100,000 i32 locals: compiles and runs (or is refused with KILN_ERR_LIMIT)",
        "%s: %s: %s", step, kiln_status_string(st), err.message);
  printf("      (%s)\n", ran ? "compiled and ran" : refused ? "refused with KILN_ERR_LIMIT" : "neither");
  buf_free(&m);

  /* the same frame, recursing: the value stack runs out cleanly */
  put_uleb(&body, 1);
  put_uleb(&body, 100000);
  put_u8(&body, 0x7e);
  put(&body, "\x10\x00\x0b", 3);
  m = func_module("", "", &body, -1);
  buf_free(&body);
  st = run(engine, &m, NULL, 0, NULL, 0, &err, &step);
  check((st == KILN_ERR_TRAP && err.trap == KILN_TRAP_STACK_EXHAUSTED) ||
            (st == KILN_ERR_LIMIT && strcmp(step, "compile") == 0),
        "100,000 i64 locals, infinite recursion -> call stack exhausted", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  buf_free(&m);

  /* v128 locals take two slots each: 600,000 of them are over the frame limit */
  put_uleb(&body, 1);
  put_uleb(&body, 600000);
  put_u8(&body, 0x7b);
  put_u8(&body, 0x0b);
  m = func_module("", "", &body, -1);
  buf_free(&body);
  st = run(engine, &m, NULL, 0, NULL, 0, &err, &step);
  check(st == KILN_OK || (st == KILN_ERR_LIMIT && strcmp(step, "compile") == 0),
        "600,000 v128 locals -> KILN_ERR_LIMIT at compile (or runs)", "%s: %s: %s", step, kiln_status_string(st),
        err.message);
  buf_free(&m);

  /* 100,000 functions with 10,000 locals each would be 8 GB of frames if all were live at
   * once; one call at a time is fine. Here: 1,000 functions of 10,000 locals chained. */
  parts p = {0};
  one_type(&p, "", "\x7f");
  const uint32_t nf = 1000;
  put_uleb(&p.sec[3], nf);
  for (uint32_t i = 0; i < nf; i++) put_u8(&p.sec[3], 0);
  put(&p.sec[7], "\x01\x01" "f" "\x00\x00", 5);
  put_uleb(&p.sec[10], nf);
  for (uint32_t i = 0; i < nf; i++) {
    buf b = {0};
    put_uleb(&b, 1);
    put_uleb(&b, 10000);
    put_u8(&b, 0x7f);
    if (i + 1 < nf) {
      put_u8(&b, 0x10); /* call i + 1, add 1 */
      put_uleb(&b, i + 1);
      put(&b, "\x41\x01\x6a", 3);
    } else {
      put(&b, "\x41\x00", 2);
    }
    put_u8(&b, 0x0b);
    put_uleb(&p.sec[10], b.n);
    put(&p.sec[10], b.p, b.n);
    buf_free(&b);
  }
  m = assemble(&p);
  st = run(engine, &m, NULL, 0, &r, 1, &err, &step);
  check((st == KILN_OK && r.of.i32 == (int32_t)nf - 1) || (st == KILN_ERR_TRAP && err.trap == KILN_TRAP_STACK_EXHAUSTED),
        "1,000 chained calls of functions with 10,000 locals -> result or clean stack exhaustion", "%s: %s: %s",
        step, kiln_status_string(st), err.message);
  buf_free(&m);
}

/* ---------------------------------------------------------------- memory */

static void test_big_memory(void) {
  printf("-- a 4 GiB memory request (min 65536 pages)\n");
  /* (func (result i32) (i32.store (i32.const 0xFFFFFFFC) (i32.const 77))
   *                     (i32.add (i32.load (i32.const 0xFFFFFFFC)) (memory.grow (i32.const 1)))) */
  buf body = {0};
  put_u8(&body, 0x00);
  put_u8(&body, 0x41);
  put_sleb(&body, -4);
  put(&body, "\x41\xcd\x00\x36\x02\x00", 6);
  put_u8(&body, 0x41);
  put_sleb(&body, -4);
  put(&body, "\x28\x02\x00\x41\x01\x40\x00\x6a\x0b", 9);
  buf m = func_module("", "\x7f", &body, 65536);
  buf_free(&body);

  kiln_config c;
  kiln_config_init(&c);
  c.max_memory_bytes = 16u << 20;
  c.consume_fuel = true;
  kiln_engine *small = test_engine_new(&c);
  kiln_val r;
  kiln_error err;
  const char *step;
  kiln_status st = run(small, &m, NULL, 0, &r, 1, &err, &step);
  check(st == KILN_ERR_LIMIT && strcmp(step, "instantiate") == 0,
        "4 GiB minimum with max_memory_bytes = 16 MiB -> KILN_ERR_LIMIT at instantiation", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  kiln_engine_free(small);

  /* default config: the memory is only reserved, so it may succeed; if it does, the last
   * word works and growing past 4 GiB fails (77 + -1 = 76) */
  st = run(engine, &m, NULL, 0, &r, 1, &err, &step);
  bool ran = st == KILN_OK && r.of.i32 == 76;
  bool refused = (st == KILN_ERR_LIMIT || st == KILN_ERR_NOMEM) && strcmp(step, "instantiate") == 0;
  check(ran || refused, "4 GiB minimum with the default config -> works, or fails cleanly", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  printf("      (%s)\n", ran ? "instantiated; last word written and read" : refused ? err.message : "neither");
  buf_free(&m);

  /* memory.grow by huge amounts and memory.fill / memory.copy with huge lengths */
  put(&body, "\x00\x41\x7f\x40\x00\x1a", 6);                 /* grow by -1 pages: -1 */
  put(&body, "\x41\x00\x41\x00\x41\x7f\xfc\x0b\x00", 9);     /* fill 0xFFFFFFFF bytes */
  put_u8(&body, 0x0b);
  m = func_module("", "", &body, 1);
  buf_free(&body);
  st = run(engine, &m, NULL, 0, NULL, 0, &err, &step);
  check(st == KILN_ERR_TRAP && err.trap == KILN_TRAP_MEMORY_OUT_OF_BOUNDS,
        "memory.fill of 0xFFFFFFFF bytes in a 1-page memory -> out of bounds trap", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  buf_free(&m);
  put(&body, "\x00\x41\x00\x41\x01\x41\x7f\xfc\x0a\x00\x00\x0b", 12); /* copy 0xFFFFFFFF bytes */
  m = func_module("", "", &body, 1);
  buf_free(&body);
  st = run(engine, &m, NULL, 0, NULL, 0, &err, &step);
  check(st == KILN_ERR_TRAP && err.trap == KILN_TRAP_MEMORY_OUT_OF_BOUNDS,
        "memory.copy of 0xFFFFFFFF bytes -> out of bounds trap", "%s: %s: %s", step, kiln_status_string(st),
        err.message);
  buf_free(&m);

  /* a loop growing memory one page at a time until it fails, under a 64-page limit */
  /* (loop (br_if 0 (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) (memory.size) */
  put(&body, "\x00\x03\x40\x41\x01\x40\x00\x41\x7f\x47\x0d\x00\x0b\x3f\x00\x0b", 16);
  m = func_module("", "\x7f", &body, 1);
  buf_free(&body);
  c.max_memory_bytes = 64 * KILN_PAGE_SIZE;
  small = test_engine_new(&c);
  st = run(small, &m, NULL, 0, &r, 1, &err, &step);
  check(st == KILN_OK && r.of.i32 == 64, "memory.grow in a loop stops at the configured 64 pages", "%s: %s: %s",
        step, kiln_status_string(st), err.message);
  kiln_engine_free(small);
  buf_free(&m);
}

/* ---------------------------------------------------------------- tables */

static void test_big_tables(void) {
  printf("-- huge table requests\n");
  /* (table 0xFFFFFFFF funcref) */
  parts p = {0};
  put_uleb(&p.sec[4], 1);
  put(&p.sec[4], "\x70\x00", 2);
  put_uleb(&p.sec[4], 0xFFFFFFFFu);
  buf m = assemble(&p);
  kiln_module *module = NULL;
  kiln_error err;
  kiln_status st = compile(engine, &m, &module, &err);
  if (st == KILN_OK) {
    kiln_store *s = kiln_store_new(engine);
    kiln_instance *inst;
    st = kiln_instantiate(s, module, NULL, 0, &inst, &err);
    kiln_store_free(s);
  }
  check(st == KILN_ERR_LIMIT, "a table of 0xFFFFFFFF elements -> KILN_ERR_LIMIT", "%s: %s", kiln_status_string(st),
        err.message);
  kiln_module_free(module);
  buf_free(&m);

  /* table.grow by 0xFFFFFFFF returns -1 */
  p = (parts){0};
  one_type(&p, "", "\x7f");
  put(&p.sec[3], "\x01\x00", 2);
  put(&p.sec[4], "\x01\x70\x00\x01", 4);
  put(&p.sec[7], "\x01\x01" "f" "\x00\x00", 5);
  /* (table.grow 0 (ref.null func) (i32.const -1)) */
  put(&p.sec[10], "\x01\x09\x00\xd0\x70\x41\x7f\xfc\x0f\x00\x0b", 11);
  m = assemble(&p);
  kiln_val r;
  const char *step;
  st = run(engine, &m, NULL, 0, &r, 1, &err, &step);
  check(st == KILN_OK && r.of.i32 == -1, "table.grow by 0xFFFFFFFF -> -1", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  buf_free(&m);
}

/* ---------------------------------------------------------------- br_table, big bodies */

static void test_big_bodies(void) {
  printf("-- an enormous br_table and big function bodies\n");
  kiln_val a, r;
  kiln_error err;
  const char *step;

  /* (func (param i32) (result i32)
   *   (block (block (block
   *     (br_table <1,000,000 targets cycling 0 1 2> 2 (local.get 0)))
   *     (return (i32.const 10)))
   *   (return (i32.const 11)))
   *  (i32.const 12)) */
  const uint32_t targets = 1000000;
  buf body = {0};
  put(&body, "\x00\x02\x40\x02\x40\x02\x40\x20\x00\x0e", 10);
  put_uleb(&body, targets);
  for (uint32_t i = 0; i < targets; i++) put_u8(&body, (uint8_t)(i % 3));
  put_u8(&body, 2); /* default */
  put(&body, "\x0b\x41\x0a\x0f\x0b\x41\x0b\x0f\x0b\x41\x0c\x0b", 12);
  buf m = func_module("\x7f", "\x7f", &body, -1);
  buf_free(&body);
  kiln_module *module = NULL;
  kiln_status st = compile(engine, &m, &module, &err);
  check(st == KILN_OK || st == KILN_ERR_LIMIT, "br_table with 1,000,000 targets compiles (or hits a limit)",
        "%s: %s", kiln_status_string(st), err.message);
  if (module) {
    kiln_store *s = kiln_store_new(engine);
    kiln_instance *inst = NULL;
    st = kiln_instantiate(s, module, NULL, 0, &inst, &err);
    kiln_extern f = {0};
    if (inst) kiln_instance_export(inst, "f", &f);
    static const struct {
      int32_t index, want;
    } cases[] = {{0, 10}, {1, 11}, {2, 12}, {3, 10}, {999997, 11}, {999998, 12}, {999999, 10}, {1000000, 12}, {-1, 12}};
    bool all = inst != NULL;
    for (size_t i = 0; all && i < sizeof cases / sizeof cases[0]; i++) {
      a = kiln_val_i32(cases[i].index);
      all = kiln_func_call(s, f.of.func, &a, 1, &r, 1, &err) == KILN_OK && r.of.i32 == cases[i].want;
    }
    check(all, "br_table with 1,000,000 targets picks the right one (first, last, default)", "%s", err.message);
    kiln_store_free(s);
    kiln_module_free(module);
  }
  buf_free(&m);

  /* 1 MB of nops */
  put_u8(&body, 0x00);
  put_repeat(&body, "\x01", 1, 1 << 20);
  put(&body, "\x41\x03\x0b", 3);
  m = func_module("", "\x7f", &body, -1);
  buf_free(&body);
  st = run(engine, &m, NULL, 0, &r, 1, &err, &step);
  check(st == KILN_OK && r.of.i32 == 3, "a body of 1 MB of nops compiles and runs", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  buf_free(&m);

  /* 1 MB of nops inside an infinite loop, with fuel: stops */
  put(&body, "\x00\x03\x40", 3);
  put_repeat(&body, "\x01", 1, 1 << 20);
  put(&body, "\x0c\x00\x0b\x0b", 4);
  m = func_module("", "", &body, -1);
  buf_free(&body);
  module = NULL;
  st = compile(engine, &m, &module, &err);
  if (st == KILN_OK) {
    kiln_store *s = kiln_store_new(engine);
    kiln_instance *inst = NULL;
    st = kiln_instantiate(s, module, NULL, 0, &inst, &err);
    if (st == KILN_OK) {
      kiln_extern f;
      kiln_instance_export(inst, "f", &f);
      kiln_store_set_fuel(s, 50);
      st = kiln_func_call(s, f.of.func, NULL, 0, NULL, 0, &err);
    }
    kiln_store_free(s);
  }
  check(st == KILN_ERR_TRAP && err.trap == KILN_TRAP_OUT_OF_FUEL,
        "an infinite loop over 1 MB of nops with 50 units of fuel -> out of fuel", "%s: %s", kiln_status_string(st),
        err.message);
  kiln_module_free(module);
  buf_free(&m);

  /* nested blocks of a type with many results: each end checks and re-pushes every result,
   * so the work is (blocks x results); function types are limited to 1000 results */
  for (int round = 0; round < 2; round++) {
    const uint32_t arity = round ? 1001 : 1000, blocks = 20000;
    parts p = {0};
    buf *t = &p.sec[1];
    put_uleb(t, 2);
    put(t, "\x60\x00\x00", 3); /* type 0: () -> () */
    put(t, "\x60\x00", 2);      /* type 1: () -> i32 x arity */
    put_uleb(t, arity);
    put_repeat(t, "\x7f", 1, arity);
    put(&p.sec[3], "\x01\x00", 2);
    put(&p.sec[7], "\x01\x01" "f" "\x00\x00", 5);
    buf b = {0};
    put_u8(&b, 0x00);
    put_repeat(&b, "\x02\x01", 2, blocks); /* block (type 1) */
    put_u8(&b, 0x00);                       /* unreachable */
    put_repeat(&b, "\x0b", 1, blocks);
    put_repeat(&b, "\x1a", 1, arity);
    put_u8(&b, 0x0b);
    put_uleb(&p.sec[10], 1);
    put_uleb(&p.sec[10], b.n);
    put(&p.sec[10], b.p, b.n);
    buf_free(&b);
    m = assemble(&p);
    st = run(engine, &m, NULL, 0, NULL, 0, &err, &step);
    if (round == 0)
      check(st == KILN_ERR_TRAP && err.trap == KILN_TRAP_UNREACHABLE,
            "20,000 nested blocks of a 1,000-result type compile (and run into unreachable)", "%s: %s: %s", step,
            kiln_status_string(st), err.message);
    else
      check(st == KILN_ERR_LIMIT && strcmp(step, "compile") == 0,
            "a function type with 1,001 results -> KILN_ERR_LIMIT", "%s: %s: %s", step, kiln_status_string(st),
            err.message);
    buf_free(&m);
  }

  /* a label carrying many values, branched to many times: the compiled code would grow with
   * (values x branches); it must stay bounded (run, or a limit) */
  {
    const uint32_t arity = 1000, branches = 100000;
    parts p = {0};
    buf *t = &p.sec[1];
    put_uleb(t, 2);
    put(t, "\x60\x01\x7f\x01\x7f", 5); /* type 0: (i32) -> i32 */
    put_u8(t, 0x60);                    /* type 1: () -> i32 x arity */
    put_u8(t, 0x00);
    put_uleb(t, arity);
    put_repeat(t, "\x7f", 1, arity);
    put(&p.sec[3], "\x01\x00", 2);
    put(&p.sec[7], "\x01\x01" "f" "\x00\x00", 5);
    buf b = {0};
    put_u8(&b, 0x00);
    put(&b, "\x02\x01", 2); /* block (type 1) */
    put_repeat(&b, "\x20\x00", 2, arity);
    put_repeat(&b, "\x20\x00\x0d\x00", 4, branches); /* br_if 0 (local.get 0): the label's values stay */
    put_u8(&b, 0x0b);
    put_repeat(&b, "\x1a", 1, arity - 1);
    put_u8(&b, 0x0b);
    put_uleb(&p.sec[10], 1);
    put_uleb(&p.sec[10], b.n);
    put(&p.sec[10], b.p, b.n);
    buf_free(&b);
    m = assemble(&p);
    a = kiln_val_i32(0);
    st = run(engine, &m, &a, 1, &r, 1, &err, &step);
    check((st == KILN_OK && r.of.i32 == 0) || (st == KILN_ERR_LIMIT && strcmp(step, "compile") == 0),
          "100,000 br_ifs to a label of 1,000 values -> runs, or is refused with KILN_ERR_LIMIT", "%s: %s: %s",
          step, kiln_status_string(st), err.message);
    printf("      (%s)\n", st == KILN_OK ? "ran" : err.message);
    buf_free(&m);
  }
}

/* ---------------------------------------------------------------- segments */

static void test_segments(void) {
  printf("-- data and element segments beyond their memory or table\n");
  static const struct {
    const char *what;
    int64_t offset;
    uint32_t length;
  } cases[] = {
      {"data segment at 1,000,000 in a 1-page memory -> trap at instantiation", 1000000, 4},
      {"data segment at 65,535 of 2 bytes in a 1-page memory -> trap at instantiation", 65535, 2},
      {"data segment at 0xFFFFFFFF of 2 bytes (offset + length wraps) -> trap at instantiation", -1, 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    parts p = {0};
    put(&p.sec[5], "\x01\x00\x01", 3);
    put_uleb(&p.sec[11], 1);
    put(&p.sec[11], "\x00\x41", 2);
    put_sleb(&p.sec[11], cases[i].offset);
    put_u8(&p.sec[11], 0x0b);
    put_uleb(&p.sec[11], cases[i].length);
    put_repeat(&p.sec[11], "\xAA", 1, cases[i].length);
    buf m = assemble(&p);
    kiln_module *module = NULL;
    kiln_error err;
    kiln_status st = compile(engine, &m, &module, &err);
    if (st == KILN_OK) {
      kiln_store *s = kiln_store_new(engine);
      kiln_instance *inst = (kiln_instance *)(uintptr_t)1;
      st = kiln_instantiate(s, module, NULL, 0, &inst, &err);
      if (inst) st = KILN_OK; /* must be NULL on failure */
      kiln_store_free(s);
    }
    check(st == KILN_ERR_TRAP && err.trap == KILN_TRAP_MEMORY_OUT_OF_BOUNDS, cases[i].what, "%s: %s",
          kiln_status_string(st), err.message);
    kiln_module_free(module);
    buf_free(&m);
  }
  /* an element segment past the end of its table */
  parts p = {0};
  one_type(&p, "", "");
  put(&p.sec[3], "\x01\x00", 2);
  put(&p.sec[4], "\x01\x70\x00\x02", 4);
  put(&p.sec[9], "\x01\x00\x41\x02\x0b\x01\x00", 7); /* at 2, one entry, in a table of 2 */
  put(&p.sec[10], "\x01\x02\x00\x0b", 4);
  buf m = assemble(&p);
  kiln_module *module = NULL;
  kiln_error err;
  kiln_status st = compile(engine, &m, &module, &err);
  if (st == KILN_OK) {
    kiln_store *s = kiln_store_new(engine);
    kiln_instance *inst;
    st = kiln_instantiate(s, module, NULL, 0, &inst, &err);
    kiln_store_free(s);
  }
  check(st == KILN_ERR_TRAP && err.trap == KILN_TRAP_TABLE_OUT_OF_BOUNDS,
        "element segment at 2 in a table of 2 -> trap at instantiation", "%s: %s", kiln_status_string(st),
        err.message);
  kiln_module_free(module);
  buf_free(&m);
}

/* ---------------------------------------------------------------- recursion */

static void test_recursion(void) {
  printf("-- infinite recursion\n");
  kiln_error err;
  const char *step;
  /* (func $f (call $f)) */
  buf body = {0};
  put(&body, "\x00\x10\x00\x0b", 4);
  buf m = func_module("", "", &body, -1);
  buf_free(&body);
  kiln_status st = run(engine, &m, NULL, 0, NULL, 0, &err, &step);
  check(st == KILN_ERR_TRAP && err.trap == KILN_TRAP_STACK_EXHAUSTED, "(func $f (call $f)) -> call stack exhausted",
        "%s: %s: %s", step, kiln_status_string(st), err.message);
  buf_free(&m);

  /* through call_indirect, with many parameters per frame */
  parts p = {0};
  char params[101];
  memset(params, 0x7e, 100);
  params[100] = 0;
  one_type(&p, params, "");
  put(&p.sec[3], "\x01\x00", 2);
  put(&p.sec[4], "\x01\x70\x00\x01", 4);
  put(&p.sec[7], "\x01\x01" "f" "\x00\x00", 5);
  put(&p.sec[9], "\x01\x00\x41\x00\x0b\x01\x00", 7);
  buf b = {0};
  put_u8(&b, 0x00);
  for (int i = 0; i < 100; i++) put(&b, "\x20", 1), put_uleb(&b, (uint64_t)i);
  put(&b, "\x41\x00\x11\x00\x00\x0b", 6);
  put_uleb(&p.sec[10], 1);
  put_uleb(&p.sec[10], b.n);
  put(&p.sec[10], b.p, b.n);
  buf_free(&b);
  m = assemble(&p);
  kiln_val args[100];
  for (int i = 0; i < 100; i++) args[i] = kiln_val_i64(i);
  st = run(engine, &m, args, 100, NULL, 0, &err, &step);
  check(st == KILN_ERR_TRAP && err.trap == KILN_TRAP_STACK_EXHAUSTED,
        "recursion through call_indirect with 100 i64 parameters -> call stack exhausted", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  buf_free(&m);

  /* a start function that recurses forever: instantiation fails with the trap */
  p = (parts){0};
  one_type(&p, "", "");
  put(&p.sec[3], "\x01\x00", 2);
  put(&p.sec[8], "\x00", 1);
  put(&p.sec[10], "\x01\x04\x00\x10\x00\x0b", 6);
  m = assemble(&p);
  st = run(engine, &m, NULL, 0, NULL, 0, &err, &step);
  check(st == KILN_ERR_TRAP && err.trap == KILN_TRAP_STACK_EXHAUSTED && strcmp(step, "instantiate") == 0,
        "a start function recursing forever -> instantiation traps, stack exhausted", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  buf_free(&m);
}

/* ---------------------------------------------------------------- many things */

static void test_many_things(void) {
  printf("-- many functions, types, exports; long names\n");
  kiln_error err;
  const char *step;
  kiln_val r;
  /* 100,000 functions, each calling the next; "f" is function 0. The compiled tier takes
   * LLVM minutes for that many and limits native stack in bytes, not calls: 5,000 there,
   * which may run through (returning 9) or exhaust the stack. */
  const bool compiled = test_tier_compiled();
  const uint32_t n = compiled ? 5000 : 100000;
  parts p = {0};
  one_type(&p, "", "\x7f");
  put_uleb(&p.sec[3], n);
  for (uint32_t i = 0; i < n; i++) put_u8(&p.sec[3], 0);
  put(&p.sec[7], "\x01\x01" "f" "\x00\x00", 5);
  put_uleb(&p.sec[10], n);
  for (uint32_t i = 0; i < n; i++) {
    buf b = {0};
    put_u8(&b, 0x00);
    if (i + 1 < n) {
      put_u8(&b, 0x10);
      put_uleb(&b, i + 1);
    } else {
      put(&b, "\x41\x09", 2);
    }
    put_u8(&b, 0x0b);
    put_uleb(&p.sec[10], b.n);
    put(&p.sec[10], b.p, b.n);
    buf_free(&b);
  }
  buf m = assemble(&p);
  kiln_status st = run(engine, &m, NULL, 0, &r, 1, &err, &step);
  check((st == KILN_ERR_TRAP && err.trap == KILN_TRAP_STACK_EXHAUSTED) ||
            (compiled && st == KILN_OK && r.of.i32 == 9),
        compiled ? "5,000 functions calling each other in a chain -> 9 or stack exhausted"
                 : "100,000 functions calling each other in a chain deeper than max_call_depth -> stack exhausted",
        "%s: %s: %s", step, kiln_status_string(st), err.message);
  buf_free(&m);

  /* 200,000 identical types and 50,000 exports of one function with distinct names */
  p = (parts){0};
  put_uleb(&p.sec[1], 200000);
  for (int i = 0; i < 200000; i++) put(&p.sec[1], "\x60\x01\x7f\x01\x7f", 5);
  put(&p.sec[3], "\x01\x00", 2);
  put_uleb(&p.sec[7], 50000);
  for (int i = 0; i < 50000; i++) {
    char name[16];
    snprintf(name, sizeof name, i == 0 ? "f" : "e%d", i);
    put_name(&p.sec[7], name);
    put(&p.sec[7], "\x00\x00", 2);
  }
  put(&p.sec[10], "\x01\x04\x00\x20\x00\x0b", 6);
  m = assemble(&p);
  kiln_val a = kiln_val_i32(5);
  st = run(engine, &m, &a, 1, &r, 1, &err, &step);
  check(st == KILN_OK && r.of.i32 == 5, "200,000 types and 50,000 exports", "%s: %s: %s", step,
        kiln_status_string(st), err.message);
  buf_free(&m);

  /* 100,000 distinct function types (params spelling i in base 4), in two modules of one
   * engine: interning them must not be quadratic */
  for (int round = 0; round < 2; round++) {
    p = (parts){0};
    const int nt = 100000;
    put_uleb(&p.sec[1], nt);
    static const char vt[] = "\x7f\x7e\x7d\x7c";
    for (int i = 0; i < nt; i++) {
      char params[16];
      int np = 0;
      for (int v = i + 1; v > 0; v /= 4) params[np++] = vt[v % 4];
      put_u8(&p.sec[1], 0x60);
      put_uleb(&p.sec[1], (uint64_t)np);
      put(&p.sec[1], params, (size_t)np);
      put_uleb(&p.sec[1], round);
      if (round) put_u8(&p.sec[1], 0x7f);
    }
    m = assemble(&p);
    kiln_module *module = NULL;
    st = compile(engine, &m, &module, &err);
    check(st == KILN_OK, round ? "100,000 more distinct function types in the same engine" : "100,000 distinct function types",
          "%s: %s", kiln_status_string(st), err.message);
    kiln_module_free(module);
    buf_free(&m);
  }

  /* duplicate export names are invalid */
  p = (parts){0};
  one_type(&p, "", "");
  put(&p.sec[3], "\x01\x00", 2);
  put(&p.sec[7], "\x02\x01" "f" "\x00\x00\x01" "f" "\x00\x00", 9);
  put(&p.sec[10], "\x01\x02\x00\x0b", 4);
  m = assemble(&p);
  expect_refused("two exports named \"f\" -> KILN_ERR_INVALID", &m, KILN_ERR_INVALID);
  buf_free(&m);

  /* an import whose names are 1 MB long: missing import error, message bounded */
  p = (parts){0};
  one_type(&p, "", "");
  char *longname = malloc((1 << 20) + 1);
  memset(longname, 'x', 1 << 20);
  longname[1 << 20] = 0;
  put_uleb(&p.sec[2], 1);
  put_name(&p.sec[2], longname);
  put_name(&p.sec[2], longname);
  put(&p.sec[2], "\x00\x00", 2);
  free(longname);
  m = assemble(&p);
  st = run(engine, &m, NULL, 0, NULL, 0, &err, &step);
  check(st == KILN_ERR_LINK && strlen(err.message) < sizeof err.message,
        "an import named with 1 MB strings, not provided -> KILN_ERR_LINK with a bounded message", "%s: %s: %.80s",
        step, kiln_status_string(st), err.message);
  buf_free(&m);

  /* invalid UTF-8 in a name */
  p = (parts){0};
  one_type(&p, "", "");
  put(&p.sec[3], "\x01\x00", 2);
  put(&p.sec[7], "\x01\x02\xc0\x80\x00\x00", 6);
  put(&p.sec[10], "\x01\x02\x00\x0b", 4);
  m = assemble(&p);
  expect_refused("an export name that is not UTF-8 -> KILN_ERR_MALFORMED", &m, KILN_ERR_MALFORMED);
  buf_free(&m);
}

/* ---------------------------------------------------------------- garbage */

/* Every prefix of a valid module and every single-byte corruption of it must give a status,
 * never a crash. The module has one of most sections. */
static void test_truncations_and_flips(void) {
  printf("-- every truncation and many byte flips of a small valid module\n");
  parts p = {0};
  one_type(&p, "\x7f", "\x7f");
  put(&p.sec[3], "\x01\x00", 2);
  put(&p.sec[4], "\x01\x70\x00\x01", 4);
  put(&p.sec[5], "\x01\x00\x01", 3);
  put(&p.sec[6], "\x01\x7f\x01\x41\x05\x0b", 6);
  put(&p.sec[7], "\x01\x01" "f" "\x00\x00", 5);
  put(&p.sec[9], "\x01\x00\x41\x00\x0b\x01\x00", 7);
  put(&p.sec[12], "\x01", 1);
  /* (func (param i32) (result i32) (local i32)
   *   (block (loop (br_if 1 (i32.eqz (local.get 0)))
   *     (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br 0)))
   *   (i32.add (global.get 0) (i32.load8_u (local.get 0)))) */
  static const uint8_t code[] = {0x01, 0x01, 0x7f, 0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x45, 0x0d, 0x01,
                                 0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00, 0x0c, 0x00, 0x0b, 0x0b,
                                 0x23, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x6a, 0x0b};
  put_uleb(&p.sec[10], 1);
  put_uleb(&p.sec[10], sizeof code);
  put(&p.sec[10], code, sizeof code);
  put(&p.sec[11], "\x01\x00\x41\x00\x0b\x02\x07\x08", 8);
  buf m = assemble(&p);

  kiln_val a = kiln_val_i32(3), r;
  kiln_error err;
  const char *step;
  kiln_status st = run(engine, &m, &a, 1, &r, 1, &err, &step);
  check(st == KILN_OK && r.of.i32 == 12, "the module itself runs: 5 + mem[0] = 12", "%s: %s: %s", step,
        kiln_status_string(st), err.message);

  /* a prefix that ends at a section boundary can be a valid module (the header alone is) */
  size_t oks = 0, short_oks = 0;
  for (size_t len = 0; len < m.n; len++) {
    kiln_module *module = NULL;
    st = kiln_module_new(engine, m.p, len, &module, &err);
    if (st == KILN_OK) oks++, short_oks += len < 8;
    kiln_module_free(module);
  }
  check(short_oks == 0, "every prefix: a status, no crash; those shorter than the header are malformed",
        "%zu prefixes shorter than 8 bytes accepted", short_oks);
  printf("      (%zu of %zu prefixes are valid modules)\n", oks, m.n);
  /* with fuel: a flipped constant can make the loop infinite */
  fuel_budget = 100000;
  static const uint8_t values[] = {0x00, 0x01, 0x0b, 0x40, 0x7f, 0x80, 0xff};
  size_t runs = 0;
  for (size_t i = 8; i < m.n; i++) {
    uint8_t saved = m.p[i];
    for (size_t v = 0; v < sizeof values; v++) {
      m.p[i] = values[v];
      a = kiln_val_i32(1);
      if (getenv("KILN_HOSTILE_TRACE")) { /* to find the variant that crashes */
        printf("      byte %zu set to %02x\n", i, values[v]);
        fflush(stdout);
      }
      (void)run(engine, &m, &a, 1, &r, 1, &err, &step);
      runs++;
    }
    m.p[i] = saved;
  }
  fuel_budget = UINT64_MAX;
  check(true, "every byte set to 00 01 0b 40 7f 80 ff in turn: compiled and run when valid, no crash", NULL);
  printf("      (%zu variants)\n", runs);
  buf_free(&m);
}

int main(void) {
  /* every run has a fuel budget (fuel_budget): compiled code must count it */
  kiln_config config;
  kiln_config_init(&config);
  config.consume_fuel = true;
  engine = test_engine_new(&config);
  test_huge_counts();
  test_deep_nesting();
  test_many_locals();
  test_big_memory();
  test_big_tables();
  test_big_bodies();
  test_segments();
  test_recursion();
  test_many_things();
  test_truncations_and_flips();
  kiln_engine_free(engine);

  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  long peak_mib = ru.ru_maxrss / 1024;
  check(peak_mib < 2048, "peak resident memory of the whole run under 2 GiB (sanitizers included)", "peak %ld MiB", peak_mib);
  printf("      (peak %ld MiB)\n", peak_mib);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
