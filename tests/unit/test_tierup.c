/* test_tierup.c - the auto tier (KILN_TIER_AUTO): functions that get hot in the interpreter are
 * compiled and installed while the program runs, and behave as they did in the interpreter.
 *
 * - every function compiled on its first call (tierup_wait): results, which functions are
 *   native, calls between native and interpreted functions;
 * - traps in tiered-up code: kind, message and backtrace names as in the interpreter
 *   (division by zero, a memory fault in a guarded memory, stack exhaustion); an interrupt
 *   stops a native loop; a store with a fuel budget that native code does not count stays
 *   in the interpreter and runs out of fuel there;
 * - on-stack replacement: a call looping in the interpreter moves into native code at its loop
 *   (locals of every type carried over, results back, a trap's backtrace without a doubled
 *   frame, a fuel budget keeps it interpreted, an interrupt stops an endless loop that moved);
 * - the cache: each function compiled is written to it as it is made, and the same module made
 *   again (another engine, as in a second run) starts with that native code before any call;
 *   a corrupt entry is refused with the reason and written again; a large module loads its
 *   entries on a compile thread;
 * - background compilation: 8 threads, each with its own store, call the same functions of
 *   one module while 2 compile threads install them; every result is checked (run under ASan
 *   in build-asan).
 *
 * - freeing: an engine freed with functions queued; a module freed with functions queued
 *   (its borrowed bytes freed right after, under ASan);
 * Uses kiln.h and kiln_llvm_compiler(). Prints one line per group and one per failed check,
 * ends with "N passed, N failed"; exits non-zero if any check failed. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "check.h"
#include "kiln.h"
#include <sys/stat.h>
#include <unistd.h>

/* wat2wasm --debug-names traps.wat:
 * (module
 *   (memory 1)
 *   (func $div (export "div") (param i32 i32) (result i32)
 *     (i32.div_s (local.get 0) (local.get 1)))
 *   (func $outer (export "outer") (param i32 i32) (result i32)
 *     (i32.add (call $div (local.get 0) (local.get 1)) (i32.const 1)))
 *   (func $load (export "load") (param i32) (result i32)
 *     (i32.load (local.get 0)))
 *   (func $spin (export "spin") (param i64) (result i64) (local i64)
 *     (loop $l
 *       (local.set 1 (i64.add (local.get 1) (i64.const 1)))
 *       (br_if $l (i64.ne (local.get 1) (local.get 0))))
 *     (local.get 1))
 *   (func $deep (export "deep") (param i32) (result i32)
 *     (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))) */
static const uint8_t traps_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x11, 0x03, 0x60,
  0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x01,
  0x7e, 0x01, 0x7e, 0x03, 0x06, 0x05, 0x00, 0x00, 0x01, 0x02, 0x01, 0x05,
  0x03, 0x01, 0x00, 0x01, 0x07, 0x24, 0x05, 0x03, 0x64, 0x69, 0x76, 0x00,
  0x00, 0x05, 0x6f, 0x75, 0x74, 0x65, 0x72, 0x00, 0x01, 0x04, 0x6c, 0x6f,
  0x61, 0x64, 0x00, 0x02, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x03, 0x04,
  0x64, 0x65, 0x65, 0x70, 0x00, 0x04, 0x0a, 0x42, 0x05, 0x07, 0x00, 0x20,
  0x00, 0x20, 0x01, 0x6d, 0x0b, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x10,
  0x00, 0x41, 0x01, 0x6a, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00,
  0x0b, 0x17, 0x01, 0x01, 0x7e, 0x03, 0x40, 0x20, 0x01, 0x42, 0x01, 0x7c,
  0x21, 0x01, 0x20, 0x01, 0x20, 0x00, 0x52, 0x0d, 0x00, 0x0b, 0x20, 0x01,
  0x0b, 0x0c, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x10, 0x04, 0x41, 0x01,
  0x6a, 0x0b, 0x00, 0x33, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x01, 0x1f, 0x05,
  0x00, 0x03, 0x64, 0x69, 0x76, 0x01, 0x05, 0x6f, 0x75, 0x74, 0x65, 0x72,
  0x02, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x03, 0x04, 0x73, 0x70, 0x69, 0x6e,
  0x04, 0x04, 0x64, 0x65, 0x65, 0x70, 0x02, 0x0b, 0x05, 0x00, 0x00, 0x01,
  0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00
};

/* wat2wasm --debug-names osr.wat:
 * (module (memory 1)
 *   (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
 *   ;; sum of leaf(i) for i in [0, n), with a v128 and an f64 local carried through the loop
 *   (func $sum (export "sum") (param $n i32) (result i64)
 *     (local $i i32) (local $acc i64) (local $v v128) (local $d f64)
 *     (local.set $v (v128.const i32x4 1 2 3 4)) (local.set $d (f64.const 0.5))
 *     (block $done (loop $next
 *       (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
 *       (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (call $leaf (local.get $i)))))
 *       (local.set $v (i32x4.add (local.get $v) (v128.const i32x4 1 1 1 1)))
 *       (local.set $d (f64.add (local.get $d) (f64.const 1)))
 *       (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *       (br $next)))
 *     (i64.add (local.get $acc) (i64.add (i64.extend_i32_u (i32x4.extract_lane 3 (local.get $v)))
 *                                        (i64.trunc_f64_u (local.get $d)))))
 *   ;; loops n times, then divides by zero
 *   (func $boom (export "boom") (param $n i32) (result i32) (local $i i32)
 *     (loop $next (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *                 (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
 *     (i32.div_u (local.get $i) (i32.const 0)))
 *   (func (export "callboom") (param i32) (result i32) (i32.add (call $boom (local.get 0)) (i32.const 1)))
 *   (func (export "forever") (loop $l (br $l)))) */
static const uint8_t osr_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0e, 0x03, 0x60,
  0x01, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7e, 0x60, 0x00, 0x00,
  0x03, 0x06, 0x05, 0x00, 0x01, 0x00, 0x00, 0x02, 0x05, 0x03, 0x01, 0x00,
  0x01, 0x07, 0x23, 0x04, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x01, 0x04, 0x62,
  0x6f, 0x6f, 0x6d, 0x00, 0x02, 0x08, 0x63, 0x61, 0x6c, 0x6c, 0x62, 0x6f,
  0x6f, 0x6d, 0x00, 0x03, 0x07, 0x66, 0x6f, 0x72, 0x65, 0x76, 0x65, 0x72,
  0x00, 0x04, 0x0a, 0xb4, 0x01, 0x05, 0x07, 0x00, 0x20, 0x00, 0x41, 0x01,
  0x6a, 0x0b, 0x7d, 0x04, 0x01, 0x7f, 0x01, 0x7e, 0x01, 0x7b, 0x01, 0x7c,
  0xfd, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00,
  0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x21, 0x03, 0x44, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0xe0, 0x3f, 0x21, 0x04, 0x02, 0x40, 0x03, 0x40, 0x20,
  0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01, 0x20, 0x02, 0x20, 0x01, 0x10, 0x00,
  0xad, 0x7c, 0x21, 0x02, 0x20, 0x03, 0xfd, 0x0c, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
  0xfd, 0xae, 0x01, 0x21, 0x03, 0x20, 0x04, 0x44, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0xf0, 0x3f, 0xa0, 0x21, 0x04, 0x20, 0x01, 0x41, 0x01, 0x6a,
  0x21, 0x01, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x02, 0x20, 0x03, 0xfd, 0x1b,
  0x03, 0xad, 0x20, 0x04, 0xb1, 0x7c, 0x7c, 0x0b, 0x1a, 0x01, 0x01, 0x7f,
  0x03, 0x40, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x20, 0x01, 0x20,
  0x00, 0x49, 0x0d, 0x00, 0x0b, 0x20, 0x01, 0x41, 0x00, 0x6e, 0x0b, 0x09,
  0x00, 0x20, 0x00, 0x10, 0x02, 0x41, 0x01, 0x6a, 0x0b, 0x07, 0x00, 0x03,
  0x40, 0x0c, 0x00, 0x0b, 0x0b, 0x00, 0x3d, 0x04, 0x6e, 0x61, 0x6d, 0x65,
  0x01, 0x12, 0x03, 0x00, 0x04, 0x6c, 0x65, 0x61, 0x66, 0x01, 0x03, 0x73,
  0x75, 0x6d, 0x02, 0x04, 0x62, 0x6f, 0x6f, 0x6d, 0x02, 0x22, 0x05, 0x00,
  0x00, 0x01, 0x05, 0x00, 0x01, 0x6e, 0x01, 0x01, 0x69, 0x02, 0x03, 0x61,
  0x63, 0x63, 0x03, 0x01, 0x76, 0x04, 0x01, 0x64, 0x02, 0x02, 0x00, 0x01,
  0x6e, 0x01, 0x01, 0x69, 0x03, 0x00, 0x04, 0x00
};

/* sum(n) of osr_wasm */
static int64_t osr_sum(int64_t n) { return n * (n + 1) / 2 + 4 + n + n; }

static void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* An auto-tier engine; cache_dir non-NULL: with the cache there. */
static kiln_engine *engine_with(uint32_t threshold, bool wait, uint32_t threads, const char *cache_dir) {
  kiln_config c;
  kiln_config_init(&c);
  c.tier = KILN_TIER_AUTO;
  c.compiler = kiln_llvm_compiler();
  c.tierup_threshold = threshold;
  c.tierup_wait = wait;
  c.tierup_threads = threads;
  c.cache = cache_dir != NULL;
  c.cache_dir = cache_dir;
  return kiln_engine_new(&c);
}

static kiln_engine *auto_engine(uint32_t threshold, bool wait, uint32_t threads) {
  return engine_with(threshold, wait, threads, NULL);
}

static kiln_status call(kiln_store *s, kiln_instance *inst, const char *name, const kiln_val *args, size_t n,
                        kiln_val *result, kiln_error *err) {
  kiln_extern ext;
  if (kiln_instance_export(inst, name, &ext) != KILN_OK) return KILN_ERR_NOT_FOUND;
  return kiln_func_call(s, ext.of.func, args, n, result, result ? 1 : 0, err);
}

static kiln_status call_chain(kiln_store *s, kiln_instance *inst, uint32_t i, int32_t x, int32_t *out,
                              kiln_error *err) {
  char name[16];
  snprintf(name, sizeof name, "f%u", i);
  kiln_val arg = kiln_val_i32(x), r;
  kiln_status st = call(s, inst, name, &arg, 1, &r, err);
  if (st == KILN_OK) *out = r.of.i32;
  return st;
}

static uint32_t native_functions(const kiln_module *m) {
  kiln_module_stats stats;
  kiln_module_get_stats(m, &stats);
  return stats.native_functions;
}

/* ---------------------------------------------------------------- at once */

static void test_first_call(void) {
  group("tierup_wait, threshold 1: each function compiled on its first call; native and interpreted calls mix");
  kiln_engine *e = auto_engine(1, true, 0);
  kiln_error err;
  kiln_module *m = NULL;
  buf b = chain_module(64, NULL, 0, 0);
  CHECK_STATUS(kiln_module_new(e, b.p, b.n, &m, &err), KILN_OK, err);
  free(b.p);
  if (!m) goto out;
  kiln_module_stats stats;
  kiln_module_get_stats(m, &stats);
  CHECK(stats.tier == KILN_TIER_AUTO);
  CHECK(stats.native_functions == 0);
  kiln_store *s = kiln_store_new(e);
  kiln_instance *inst = NULL;
  CHECK_STATUS(kiln_instantiate(s, m, NULL, 0, &inst, &err), KILN_OK, err);
  int32_t r = 0;
  if (inst) {
    /* f9 calls f4, f2, f1, f0: each is compiled as its first call begins (and that call
     * finishes in the interpreter) */
    CHECK_STATUS(call_chain(s, inst, 9, 5, &r, &err), KILN_OK, err);
    CHECK(r == chain_expected(9, 5));
    CHECK(native_functions(m) == 5);
    /* now native f9 calls native f4 (through the instance's function table) ... */
    CHECK_STATUS(call_chain(s, inst, 9, -3, &r, &err), KILN_OK, err);
    CHECK(r == chain_expected(9, -3));
    /* native f19 is new: compiled; it calls f9, native */
    CHECK_STATUS(call_chain(s, inst, 19, 100, &r, &err), KILN_OK, err);
    CHECK(r == chain_expected(19, 100));
    CHECK_STATUS(call_chain(s, inst, 19, 101, &r, &err), KILN_OK, err);
    CHECK(r == chain_expected(19, 101));
    CHECK(native_functions(m) == 6);
    /* a second instance runs the same native code */
    kiln_store *s2 = kiln_store_new(e);
    kiln_instance *inst2 = NULL;
    CHECK_STATUS(kiln_instantiate(s2, m, NULL, 0, &inst2, &err), KILN_OK, err);
    if (inst2) {
      CHECK_STATUS(call_chain(s2, inst2, 19, 7, &r, &err), KILN_OK, err);
      CHECK(r == chain_expected(19, 7));
    }
    CHECK(native_functions(m) == 6);
    kiln_store_free(s2);
  }
  kiln_store_free(s);
  kiln_module_free(m);
out:
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- on-stack replacement */

static kiln_status call_i32(kiln_store *s, kiln_instance *inst, const char *name, int32_t x, kiln_val *r,
                            kiln_error *err) {
  kiln_val arg = kiln_val_i32(x);
  return call(s, inst, name, &arg, 1, r, err);
}

static uint32_t osr_functions(const kiln_module *m) {
  kiln_module_stats stats;
  kiln_module_get_stats(m, &stats);
  return stats.osr_functions;
}

static void *interrupt_later(void *store);

static void test_osr(void) {
  group("on-stack replacement: a call looping in the interpreter continues in native code at its loop");
  kiln_error err;
  kiln_val r;
  /* threshold 2 and waiting: the call counts one, the loop's first header the second, and
   * the call moves to native code right there */
  kiln_engine *e = auto_engine(2, true, 0);
  kiln_module *m = NULL;
  CHECK_STATUS(kiln_module_new(e, osr_wasm, sizeof osr_wasm, &m, &err), KILN_OK, err);
  kiln_store *s = kiln_store_new(e);
  kiln_instance *inst = NULL;
  if (m) CHECK_STATUS(kiln_instantiate(s, m, NULL, 0, &inst, &err), KILN_OK, err);
  if (inst) {
    CHECK_STATUS(call_i32(s, inst, "sum", 1000, &r, &err), KILN_OK, err);
    CHECK(r.type == KILN_I64 && r.of.i64 == osr_sum(1000));
    CHECK(osr_functions(m) == 1);
    CHECK_STATUS(call_i32(s, inst, "sum", 7, &r, &err), KILN_OK, err); /* now a native call */
    CHECK(r.of.i64 == osr_sum(7));
    /* a trap in the native rest of a call: one frame for it, then its interpreted caller */
    CHECK_STATUS(call_i32(s, inst, "callboom", 10, &r, &err), KILN_ERR_TRAP, err);
    CHECK(err.trap == KILN_TRAP_INTEGER_DIVIDE_BY_ZERO);
    CHECK(err.frame_count == 2);
    if (err.frame_count == 2) {
      CHECK(strcmp(err.backtrace[0].name, "boom") == 0 && err.backtrace[0].func_index == 2);
      CHECK(err.backtrace[1].func_index == 3); /* callboom (unnamed) */
    }
    /* the location is said once */
    const char *at = strstr(err.message, " (in function 2 'boom'");
    CHECK(at && !strstr(at + 1, " (in function "));
    CHECK(osr_functions(m) == 2);
  }
  kiln_store_free(s);
  /* a store with a fuel budget (native code here does not count fuel) stays interpreted,
   * and is charged for every iteration */
  s = kiln_store_new(e);
  inst = NULL;
  if (m) CHECK_STATUS(kiln_instantiate(s, m, NULL, 0, &inst, &err), KILN_OK, err);
  if (inst) {
    kiln_store_set_fuel(s, 1000000);
    CHECK_STATUS(call_i32(s, inst, "boom", 5000, &r, &err), KILN_ERR_TRAP, err);
    CHECK(err.trap == KILN_TRAP_INTEGER_DIVIDE_BY_ZERO);
    CHECK(kiln_store_fuel(s) < 1000000 - 5000);
  }
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);

  /* in the background: a long call moves to native code once its compile is installed; an
   * endless loop that moved is stopped by an interrupt */
  e = auto_engine(1000, false, 1);
  m = NULL;
  CHECK_STATUS(kiln_module_new(e, osr_wasm, sizeof osr_wasm, &m, &err), KILN_OK, err);
  s = kiln_store_new(e);
  inst = NULL;
  if (m) CHECK_STATUS(kiln_instantiate(s, m, NULL, 0, &inst, &err), KILN_OK, err);
  if (inst) {
    CHECK_STATUS(call_i32(s, inst, "sum", 100000000, &r, &err), KILN_OK, err);
    CHECK(r.of.i64 == osr_sum(100000000));
    pthread_t t;
    pthread_create(&t, NULL, interrupt_later, s);
    kiln_extern ext;
    kiln_instance_export(inst, "forever", &ext);
    kiln_status st = kiln_func_call(s, ext.of.func, NULL, 0, NULL, 0, &err);
    pthread_join(t, NULL);
    CHECK(st == KILN_ERR_TRAP && err.trap == KILN_TRAP_INTERRUPTED);
    kiln_store_clear_interrupt(s);
    for (int waited = 0; osr_functions(m) < 2 && waited < 60000; waited += 10) sleep_ms(10);
    CHECK(osr_functions(m) == 2); /* sum's and forever's */
  }
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- the cache */

/* The entry file of function `index` under dir (whose only "*.d" directory is the module's). */
static bool entry_path(const char *dir, uint32_t index, char *out, size_t size) {
  char command[600];
  snprintf(command, sizeof command, "ls -d %s/*.d 2>/dev/null", dir);
  FILE *p = popen(command, "r");
  if (!p) return false;
  char d[512] = "";
  bool ok = fgets(d, sizeof d, p) != NULL;
  pclose(p);
  if (!ok) return false;
  d[strcspn(d, "\n")] = 0;
  snprintf(out, size, "%s/f%u.cwasm", d, index);
  return access(out, F_OK) == 0;
}

/* One "run": make the module in a new engine over dir, call f<index>(x) twice, return stats
 * taken before the first call in *before and after the calls in *after. */
static void cached_run(const char *dir, uint32_t funcs, uint32_t pad, uint32_t index, kiln_module_stats *before,
                       kiln_module_stats *after, char *note, size_t note_size) {
  kiln_engine *e = engine_with(1, true, 0, dir);
  kiln_error err;
  kiln_module *m = NULL;
  buf b = chain_module(funcs, NULL, 0, pad);
  CHECK_STATUS(kiln_module_new(e, b.p, b.n, &m, &err), KILN_OK, err);
  free(b.p);
  memset(before, 0, sizeof *before);
  memset(after, 0, sizeof *after);
  if (m) {
    kiln_module_get_stats(m, before);
    snprintf(note, note_size, "%s", before->cache_note);
    kiln_store *s = kiln_store_new(e);
    kiln_instance *inst = NULL;
    CHECK_STATUS(kiln_instantiate(s, m, NULL, 0, &inst, &err), KILN_OK, err);
    int32_t r = 0;
    for (int k = 0; inst && k < 2; k++) {
      CHECK_STATUS(call_chain(s, inst, index, 40 + k, &r, &err), KILN_OK, err);
      CHECK(r == chain_expected(index, 40 + k));
    }
    kiln_module_get_stats(m, after);
    kiln_store_free(s);
    kiln_module_free(m);
  }
  kiln_engine_free(e);
}

static void test_cache(void) {
  group("cache: functions compiled by tier-up are stored one by one and installed when the module is made again");
  char dir[] = "/tmp/kiln-tierup-cache-XXXXXX";
  if (!mkdtemp(dir)) {
    CHECK(!"mkdtemp");
    return;
  }
  kiln_module_stats before, after;
  char note[400], path[700];
  /* first run: f9 calls f4, f2, f1, f0; all five compiled and stored */
  cached_run(dir, 32, 0, 9, &before, &after, note, sizeof note);
  CHECK(before.native_functions == 0 && before.cached_functions == 0);
  CHECK(after.native_functions == 5 && after.cached_functions == 0);
  CHECK(entry_path(dir, 9, path, sizeof path));
  CHECK(entry_path(dir, 0, path, sizeof path));
  CHECK(!entry_path(dir, 3, path, sizeof path));
  /* second run: native before the first call; nothing more compiled for f9's chain */
  cached_run(dir, 32, 0, 9, &before, &after, note, sizeof note);
  CHECK(before.native_functions == 5 && before.cached_functions == 5);
  CHECK(after.native_functions == 5);
  CHECK(note[0] == 0);
  /* another function of the same module: the cached five plus f19 */
  cached_run(dir, 32, 0, 19, &before, &after, note, sizeof note);
  CHECK(before.cached_functions == 5 && after.native_functions == 6);
  /* a corrupt entry: refused with the reason, the function compiled again and rewritten */
  if (entry_path(dir, 9, path, sizeof path)) {
    FILE *f = fopen(path, "r+b");
    if (f) {
      fseek(f, 200, SEEK_SET);
      int c = fgetc(f);
      fseek(f, 200, SEEK_SET);
      fputc(c ^ 0x55, f);
      fclose(f);
    }
  }
  cached_run(dir, 32, 0, 9, &before, &after, note, sizeof note);
  CHECK(before.cached_functions == 5);   /* f0..f4 and f19; f9 refused */
  CHECK(strstr(note, "f9.cwasm") && strstr(note, "checksum"));
  if (!strstr(note, "checksum")) printf("    note: '%s'\n", note);
  CHECK(after.native_functions == 6);
  cached_run(dir, 32, 0, 9, &before, &after, note, sizeof note);
  CHECK(before.cached_functions == 6 && note[0] == 0);
  /* (from here on the cache has entries of other modules, each in its own directory) */
  /* a different module (33 functions) does not take them */
  cached_run(dir, 32 + 1, 0, 9, &before, &after, note, sizeof note);
  CHECK(before.native_functions == 0 && after.native_functions == 5);
  /* a large module (over 4 MiB): its entries are loaded on a compile thread, soon */
  cached_run(dir, 8, 600000, 7, &before, &after, note, sizeof note);
  CHECK(after.native_functions == 4);
  kiln_engine *e = engine_with(UINT32_MAX, false, 0, dir);
  kiln_error err;
  kiln_module *m = NULL;
  buf b = chain_module(8, NULL, 0, 600000);
  CHECK_STATUS(kiln_module_new(e, b.p, b.n, &m, &err), KILN_OK, err);
  free(b.p);
  if (m) {
    kiln_module_stats st;
    for (int waited = 0; waited < 20000; waited += 10) {
      kiln_module_get_stats(m, &st);
      if (st.cached_functions == 4) break;
      sleep_ms(10);
    }
    CHECK(st.cached_functions == 4 && st.native_functions == 4);
    kiln_module_free(m);
  }
  kiln_engine_free(e);
  char command[600];
  snprintf(command, sizeof command, "rm -rf %s", dir);
  CHECK(system(command) == 0);
}

/* ---------------------------------------------------------------- traps, interrupts, fuel */

static void *interrupt_later(void *store) {
  sleep_ms(50);
  kiln_store_interrupt(store);
  return NULL;
}

static void test_traps(void) {
  group("traps in tiered-up code: kinds, messages and backtraces as in the interpreter; interrupts; fuel");
  kiln_engine *e = auto_engine(1, true, 0);
  kiln_error err;
  kiln_module *m = NULL;
  CHECK_STATUS(kiln_module_new(e, traps_wasm, sizeof traps_wasm, &m, &err), KILN_OK, err);
  if (!m) goto out;
  kiln_store *s = kiln_store_new(e);
  kiln_instance *inst = NULL;
  CHECK_STATUS(kiln_instantiate(s, m, NULL, 0, &inst, &err), KILN_OK, err);
  if (!inst) goto done;
  kiln_val r;
  /* first calls: compiled, run in the interpreter */
  CHECK_STATUS(call(s, inst, "outer", (kiln_val[]){kiln_val_i32(7), kiln_val_i32(2)}, 2, &r, &err), KILN_OK, err);
  CHECK(r.of.i32 == 4);
  CHECK_STATUS(call(s, inst, "load", (kiln_val[]){kiln_val_i32(0)}, 1, &r, &err), KILN_OK, err);
  CHECK(r.of.i32 == 0);
  CHECK_STATUS(call(s, inst, "spin", (kiln_val[]){kiln_val_i64(10)}, 1, &r, &err), KILN_OK, err);
  CHECK(r.of.i64 == 10);
  CHECK(native_functions(m) == 4);
  /* native now */
  CHECK_STATUS(call(s, inst, "outer", (kiln_val[]){kiln_val_i32(1), kiln_val_i32(0)}, 2, &r, &err), KILN_ERR_TRAP,
               err);
  CHECK(err.trap == KILN_TRAP_INTEGER_DIVIDE_BY_ZERO);
  CHECK_CONTAINS(err.message, "integer divide by zero");
  CHECK(err.frame_count == 2 && strcmp(err.backtrace[0].name, "div") == 0 &&
        strcmp(err.backtrace[1].name, "outer") == 0);
  CHECK_STATUS(call(s, inst, "load", (kiln_val[]){kiln_val_i32(65534)}, 1, &r, &err), KILN_ERR_TRAP, err);
  CHECK(err.trap == KILN_TRAP_MEMORY_OUT_OF_BOUNDS);
  CHECK(err.frame_count == 1 && strcmp(err.backtrace[0].name, "load") == 0);
  CHECK_STATUS(call(s, inst, "deep", (kiln_val[]){kiln_val_i32(0)}, 1, &r, &err), KILN_ERR_TRAP, err);
  CHECK(err.trap == KILN_TRAP_STACK_EXHAUSTED);
  CHECK(err.frame_count > 0 && strcmp(err.backtrace[0].name, "deep") == 0);
  CHECK(native_functions(m) == 5);
  /* an endless native loop, interrupted from another thread */
  pthread_t t;
  CHECK(pthread_create(&t, NULL, interrupt_later, s) == 0);
  CHECK_STATUS(call(s, inst, "spin", (kiln_val[]){kiln_val_i64(0)}, 1, &r, &err), KILN_ERR_TRAP, err);
  pthread_join(t, NULL);
  CHECK(err.trap == KILN_TRAP_INTERRUPTED);
  CHECK(err.frame_count == 1 && strcmp(err.backtrace[0].name, "spin") == 0);
  kiln_store_clear_interrupt(s);
  CHECK_STATUS(call(s, inst, "spin", (kiln_val[]){kiln_val_i64(1000)}, 1, &r, &err), KILN_OK, err);
  CHECK(r.of.i64 == 1000);
done:
  kiln_store_free(s);
  /* a fuel budget: compiled code of this engine does not count fuel, so the store stays in
   * the interpreter, which does, and runs out */
  s = kiln_store_new(e);
  inst = NULL;
  CHECK_STATUS(kiln_instantiate(s, m, NULL, 0, &inst, &err), KILN_OK, err);
  if (inst) {
    kiln_store_set_fuel(s, 100000);
    CHECK_STATUS(call(s, inst, "spin", (kiln_val[]){kiln_val_i64(0)}, 1, &r, &err), KILN_ERR_TRAP, err);
    CHECK(err.trap == KILN_TRAP_OUT_OF_FUEL);
  }
  kiln_store_free(s);
  kiln_module_free(m);
out:
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- in the background */

#define THREADS 8
#define FUNCS 128

typedef struct runner {
  kiln_engine *engine;
  kiln_module *module;
  atomic_bool *stop;
  uint32_t seed;
  long calls, wrong, errors;
  char first_error[600];
} runner;

static void *run_calls(void *arg) {
  runner *r = arg;
  kiln_store *s = kiln_store_new(r->engine);
  kiln_instance *inst = NULL;
  kiln_error err;
  if (kiln_instantiate(s, r->module, NULL, 0, &inst, &err) != KILN_OK) {
    r->errors++;
    snprintf(r->first_error, sizeof r->first_error, "instantiate: %s", err.message);
    kiln_store_free(s);
    return NULL;
  }
  uint32_t x = r->seed;
  while (!atomic_load(r->stop)) {
    x = x * 1103515245u + 12345u;
    uint32_t i = (x >> 8) % FUNCS;
    int32_t got = 0;
    r->calls++;
    if (call_chain(s, inst, i, (int32_t)x, &got, &err) != KILN_OK) {
      if (!r->errors++) snprintf(r->first_error, sizeof r->first_error, "f%u: %s", i, err.message);
    } else if (got != chain_expected(i, (int32_t)x)) {
      r->wrong++;
    }
  }
  kiln_store_free(s);
  return NULL;
}

static void test_background(void) {
  group("8 threads call one module's functions while 2 background threads compile and install them");
  kiln_engine *e = auto_engine(20, false, 2);
  kiln_error err;
  kiln_module *m = NULL;
  buf b = chain_module(FUNCS, NULL, 0, 0);
  CHECK_STATUS(kiln_module_new(e, b.p, b.n, &m, &err), KILN_OK, err);
  free(b.p);
  if (!m) goto out;
  atomic_bool stop = false;
  runner runners[THREADS];
  pthread_t tids[THREADS];
  for (int t = 0; t < THREADS; t++) {
    runners[t] = (runner){.engine = e, .module = m, .stop = &stop, .seed = (uint32_t)t + 1};
    pthread_create(&tids[t], NULL, run_calls, &runners[t]);
  }
  /* until every function is native (each is called often), or a generous deadline that only a
   * broken tier-up reaches */
  uint32_t native = 0;
  for (int waited = 0; waited < 300000 && (native = native_functions(m)) < FUNCS; waited += 10) sleep_ms(10);
  sleep_ms(100); /* and some calls of native code from every thread */
  atomic_store(&stop, true);
  long calls = 0, wrong = 0, errors = 0;
  for (int t = 0; t < THREADS; t++) {
    pthread_join(tids[t], NULL);
    calls += runners[t].calls;
    wrong += runners[t].wrong;
    errors += runners[t].errors;
    if (runners[t].errors) printf("     thread %d: %s\n", t, runners[t].first_error);
  }
  printf("   (%ld calls; %u of %u functions native)\n", calls, native, FUNCS);
  CHECK(native == FUNCS);
  CHECK(errors == 0);
  CHECK(wrong == 0);
  kiln_module_free(m);
out:
  kiln_engine_free(e);
}

/* Instantiate m in a new store and call each of its FUNCS chain functions once with x. */
static void call_every(kiln_engine *e, kiln_module *m, int32_t x) {
  kiln_error err;
  kiln_store *s = kiln_store_new(e);
  kiln_instance *inst = NULL;
  CHECK_STATUS(kiln_instantiate(s, m, NULL, 0, &inst, &err), KILN_OK, err);
  int32_t r = 0;
  for (uint32_t i = 0; inst && i < FUNCS; i++) {
    CHECK_STATUS(call_chain(s, inst, i, x, &r, &err), KILN_OK, err);
    CHECK(r == chain_expected(i, x));
  }
  kiln_store_free(s);
}

/* An engine freed while its compile threads still have work: they stop, the queue is dropped
 * and the modules it held are freed (ASan reports a leak or a use after free). */
static void test_shutdown(void) {
  group("freeing the engine while functions are queued for compiling");
  kiln_engine *e = auto_engine(1, false, 1);
  kiln_error err;
  kiln_module *m = NULL;
  buf b = chain_module(FUNCS, NULL, 0, 0);
  CHECK_STATUS(kiln_module_new(e, b.p, b.n, &m, &err), KILN_OK, err);
  free(b.p);
  if (m) {
    call_every(e, m, 1);
    kiln_module_free(m); /* the queue still has its functions */
  }
  kiln_engine_free(e);
}

/* kiln_module_free with functions still queued: the module is gone when it returns, so bytes
 * it borrowed without a release callback may be freed at once (ASan reports a compile thread
 * that still reads them). */
static void test_free_while_queued(void) {
  group("kiln_module_free while its functions are queued: borrowed bytes can be freed when it returns");
  kiln_engine *e = auto_engine(1, false, 1);
  kiln_error err;
  for (int round = 0; round < 4; round++) {
    kiln_module *m = NULL;
    buf b = chain_module(FUNCS, NULL, 0, 64);
    CHECK_STATUS(kiln_module_new_borrowed(e, b.p, b.n, NULL, NULL, &m, &err), KILN_OK, err);
    if (m) {
      call_every(e, m, 3);
      kiln_module_free(m);
    }
    memset(b.p, 0xff, b.n);
    free(b.p);
  }
  sleep_ms(100);
  kiln_engine_free(e);
}

int main(void) {
  test_first_call();
  test_osr();
  test_cache();
  test_traps();
  test_background();
  test_shutdown();
  test_free_while_queued();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
