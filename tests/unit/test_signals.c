/* test_signals.c - out-of-bounds traps of compiled code with guarded memories (faults turned
 * into traps by native/signals.c) against explicit bounds checks and the interpreter: loads
 * whose value is unused must still trap, on the main thread and on others; after kiln has
 * trapped, a fault in host code still kills the process (checked in child processes). */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "tier.h"

/* tests/unit/test_signals.c's module (wat2wasm of); sum_loads and drop_loads are loops LLVM
 * vectorises (loads of whole vectors, unused ones in drop_loads):
 * (module
 *   (memory (export "mem") 1)
 *   (func (export "drop_load") (param i32) (drop (i32.load (local.get 0))))
 *   (func (export "drop_load8") (param i32) (drop (i64.load8_s offset=3 (local.get 0))))
 *   (func (export "mul0_load") (param i32) (result i32) (i32.mul (i32.load (local.get 0)) (i32.const 0)))
 *   (func (export "cmp_self") (param i32) (result i32)
 *     (f64.eq (f64.const 1) (f64.add (f64.const 1) (f64.mul (f64.const 0) (f64.promote_f32 (f32.load (local.get 0)))))))
 *   (func (export "loop_load") (param i32) (loop (drop (i64.load (local.get 0))) (br 0)))
 *   (func (export "dead_local") (param i32) (local f64)
 *     (local.set 1 (f64.load (local.get 0))) (local.set 1 (f64.const 0)))
 *   (func (export "v128_load") (param i32) (drop (v128.load offset=8 (local.get 0))))
 *   (func (export "store") (param i32) (i32.store (local.get 0) (i32.const 7)))
 *   (func (export "store_then_load") (param i32) (i32.store (i32.const 0) (i32.const 42)) (drop (i32.load (local.get 0))))
 *   (func (export "grow_then_load") (param i32) (result i32) (drop (memory.grow (i32.const 1))) (i32.load (local.get 0)))
 *   (func (export "big_offset") (param i32) (result i32) (i32.load offset=2147483647 (local.get 0)))
 *   (func (export "sum_loads") (param $p i32) (param $n i32) (result i32) (local $i i32) (local $s i32)
 *     (block $done (loop $l
 *       (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
 *       (local.set $s (i32.add (local.get $s) (i32.load16_s (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 1))))))
 *       (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *       (br $l)))
 *     (local.get $s))
 *   (func (export "drop_loads") (param $p i32) (param $n i32) (result i32) (local $i i32)
 *     (block $done (loop $l
 *       (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
 *       (drop (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
 *       (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *       (br $l)))
 *     (local.get $i)))
 */
static const uint8_t sig_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x10, 0x03, 0x60,
  0x01, 0x7f, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f,
  0x01, 0x7f, 0x03, 0x0e, 0x0d, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x01, 0x01, 0x02, 0x02, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07,
  0xad, 0x01, 0x0e, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x09, 0x64, 0x72,
  0x6f, 0x70, 0x5f, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x00, 0x0a, 0x64, 0x72,
  0x6f, 0x70, 0x5f, 0x6c, 0x6f, 0x61, 0x64, 0x38, 0x00, 0x01, 0x09, 0x6d,
  0x75, 0x6c, 0x30, 0x5f, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x02, 0x08, 0x63,
  0x6d, 0x70, 0x5f, 0x73, 0x65, 0x6c, 0x66, 0x00, 0x03, 0x09, 0x6c, 0x6f,
  0x6f, 0x70, 0x5f, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x04, 0x0a, 0x64, 0x65,
  0x61, 0x64, 0x5f, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x00, 0x05, 0x09, 0x76,
  0x31, 0x32, 0x38, 0x5f, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x06, 0x05, 0x73,
  0x74, 0x6f, 0x72, 0x65, 0x00, 0x07, 0x0f, 0x73, 0x74, 0x6f, 0x72, 0x65,
  0x5f, 0x74, 0x68, 0x65, 0x6e, 0x5f, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x08,
  0x0e, 0x67, 0x72, 0x6f, 0x77, 0x5f, 0x74, 0x68, 0x65, 0x6e, 0x5f, 0x6c,
  0x6f, 0x61, 0x64, 0x00, 0x09, 0x0a, 0x62, 0x69, 0x67, 0x5f, 0x6f, 0x66,
  0x66, 0x73, 0x65, 0x74, 0x00, 0x0a, 0x09, 0x73, 0x75, 0x6d, 0x5f, 0x6c,
  0x6f, 0x61, 0x64, 0x73, 0x00, 0x0b, 0x0a, 0x64, 0x72, 0x6f, 0x70, 0x5f,
  0x6c, 0x6f, 0x61, 0x64, 0x73, 0x00, 0x0c, 0x0a, 0xfd, 0x01, 0x0d, 0x08,
  0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x1a, 0x0b, 0x08, 0x00, 0x20, 0x00,
  0x30, 0x00, 0x03, 0x1a, 0x0b, 0x0a, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00,
  0x41, 0x00, 0x6c, 0x0b, 0x26, 0x00, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0xf0, 0x3f, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f,
  0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x2a,
  0x02, 0x00, 0xbb, 0xa2, 0xa0, 0x61, 0x0b, 0x0d, 0x00, 0x03, 0x40, 0x20,
  0x00, 0x29, 0x03, 0x00, 0x1a, 0x0c, 0x00, 0x0b, 0x0b, 0x16, 0x01, 0x01,
  0x7c, 0x20, 0x00, 0x2b, 0x03, 0x00, 0x21, 0x01, 0x44, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x01, 0x0b, 0x09, 0x00, 0x20, 0x00,
  0xfd, 0x00, 0x04, 0x08, 0x1a, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x41, 0x07,
  0x36, 0x02, 0x00, 0x0b, 0x0f, 0x00, 0x41, 0x00, 0x41, 0x2a, 0x36, 0x02,
  0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x1a, 0x0b, 0x0c, 0x00, 0x41, 0x01,
  0x40, 0x00, 0x1a, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b, 0x0b, 0x00, 0x20,
  0x00, 0x28, 0x02, 0xff, 0xff, 0xff, 0xff, 0x07, 0x0b, 0x2c, 0x01, 0x02,
  0x7f, 0x02, 0x40, 0x03, 0x40, 0x20, 0x02, 0x20, 0x01, 0x4f, 0x0d, 0x01,
  0x20, 0x03, 0x20, 0x00, 0x20, 0x02, 0x41, 0x01, 0x74, 0x6a, 0x2e, 0x01,
  0x00, 0x6a, 0x21, 0x03, 0x20, 0x02, 0x41, 0x01, 0x6a, 0x21, 0x02, 0x0c,
  0x00, 0x0b, 0x0b, 0x20, 0x03, 0x0b, 0x28, 0x01, 0x01, 0x7f, 0x02, 0x40,
  0x03, 0x40, 0x20, 0x02, 0x20, 0x01, 0x4f, 0x0d, 0x01, 0x20, 0x00, 0x20,
  0x02, 0x41, 0x02, 0x74, 0x6a, 0x2a, 0x02, 0x00, 0x1a, 0x20, 0x02, 0x41,
  0x01, 0x6a, 0x21, 0x02, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x02, 0x0b
};


typedef enum { INTERP, COMPILED_GUARDED, COMPILED_CHECKS } mode;
static const char *const mode_names[] = {"interpreter", "compiled, guarded memories", "compiled, explicit checks"};

static kiln_engine *engine_for(mode m) {
  kiln_config c;
  kiln_config_init(&c);
#ifdef KILN_HAVE_LLVM
  if (m != INTERP) {
    c.tier = KILN_TIER_COMPILED;
    c.compiler = kiln_llvm_compiler();
    c.explicit_bounds_checks = m == COMPILED_CHECKS;
  }
#endif
  return kiln_engine_new(&c);
}

typedef struct world {
  kiln_engine *engine;
  kiln_module *module;
  kiln_store *store;
  kiln_instance *inst;
} world;

static bool world_new(world *w, mode m) {
  memset(w, 0, sizeof *w);
  kiln_error err = {0};
  w->engine = engine_for(m);
  if (!w->engine || kiln_module_new(w->engine, sig_wasm, sizeof sig_wasm, &w->module, &err) != KILN_OK) return false;
  w->store = kiln_store_new(w->engine);
  return w->store && kiln_instantiate(w->store, w->module, NULL, 0, &w->inst, &err) == KILN_OK;
}

static void world_free(world *w) {
  kiln_store_free(w->store);
  kiln_module_free(w->module);
  kiln_engine_free(w->engine);
}

/* Call export `name` with one i32; the status, with the trap in *err. */
static kiln_status call1(world *w, const char *name, uint32_t arg, kiln_error *err) {
  kiln_extern e;
  if (kiln_instance_export(w->inst, name, &e) != KILN_OK || e.kind != KILN_EXTERN_FUNC) return KILN_ERR_NOT_FOUND;
  kiln_val a = kiln_val_i32((int32_t)arg), r[1];
  size_t nr = kiln_func_type(e.of.func).result_count;
  memset(err, 0, sizeof *err);
  return kiln_func_call(w->store, e.of.func, &a, 1, r, nr, err);
}

/* Call export `name` with two i32s; the status, the result in *result, the trap in *err. */
static kiln_status call2(world *w, const char *name, uint32_t a0, uint32_t a1, int32_t *result, kiln_error *err) {
  kiln_extern e;
  if (kiln_instance_export(w->inst, name, &e) != KILN_OK || e.kind != KILN_EXTERN_FUNC) return KILN_ERR_NOT_FOUND;
  kiln_val a[2] = {kiln_val_i32((int32_t)a0), kiln_val_i32((int32_t)a1)}, r[1];
  memset(err, 0, sizeof *err);
  kiln_status st = kiln_func_call(w->store, e.of.func, a, 2, r, 1, err);
  *result = st == KILN_OK ? r[0].of.i32 : 0;
  return st;
}

static const char *const exports[] = {"drop_load", "drop_load8", "mul0_load", "cmp_self", "loop_load", "dead_local",
                                      "v128_load", "store", "store_then_load", "grow_then_load", "big_offset",
                                      "sum_loads", "drop_loads"};

/* The function index of an export (they are in function order). */
static uint32_t export_index(const char *name) {
  for (uint32_t i = 0; i < sizeof exports / sizeof exports[0]; i++)
    if (strcmp(exports[i], name) == 0) return i;
  return UINT32_MAX;
}

static const char *const loads[] = {"drop_load", "drop_load8", "mul0_load", "cmp_self", "loop_load",
                                    "dead_local", "v128_load", "store", "store_then_load", "big_offset"};
static const uint32_t bad_addresses[] = {65536 - 3, 65536, 70000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff};

/* Every access out of bounds traps as out of bounds, with its function in the backtrace. */
static int oob_failures(world *w) {
  int bad = 0;
  for (size_t i = 0; i < sizeof loads / sizeof loads[0]; i++)
    for (size_t k = 0; k < sizeof bad_addresses / sizeof bad_addresses[0]; k++) {
      kiln_error err;
      kiln_status st = call1(w, loads[i], bad_addresses[k], &err);
      if (st != KILN_ERR_TRAP || err.trap != KILN_TRAP_MEMORY_OUT_OF_BOUNDS || err.frame_count != 1 ||
          err.backtrace[0].func_index != export_index(loads[i])) {
        if (bad++ < 5)
          printf("     %s(0x%x): %s %s\n", loads[i], bad_addresses[k], kiln_status_string(st), err.message);
      }
    }
  return bad;
}

static void test_traps(mode m) {
  printf("-- %s: out-of-bounds loads and stores trap, used or not\n", mode_names[m]);
  world w;
  if (!CHECK(world_new(&w, m))) return world_free(&w);
  CHECK(oob_failures(&w) == 0);
  kiln_error err;
  /* in bounds: no trap */
  for (size_t i = 0; i < sizeof loads / sizeof loads[0]; i++)
    if (strcmp(loads[i], "loop_load") != 0 && strcmp(loads[i], "big_offset") != 0)
      CHECK(call1(&w, loads[i], 65536 - 24, &err) == KILN_OK);
  /* the store before the trapping load happened */
  kiln_extern mem;
  CHECK(kiln_instance_export(w.inst, "mem", &mem) == KILN_OK);
  uint8_t *data = kiln_memory_data(mem.of.memory);
  memset(data, 0, 4);
  CHECK(call1(&w, "store_then_load", 65536, &err) == KILN_ERR_TRAP);
  CHECK(data[0] == 42);
  /* vectorised loops: whole vectors loaded at once, the last one out of bounds; unused too */
  for (uint32_t i = 0; i < 65536; i++) data[i] = (uint8_t)(i * 7 + 3);
  int32_t sum = 0, expected = 0, r = 0;
  for (uint32_t i = 0; i < 1000; i++) expected += (int16_t)(data[2 * i + 100] | data[2 * i + 101] << 8);
  CHECK(call2(&w, "sum_loads", 100, 1000, &sum, &err) == KILN_OK && sum == expected);
  CHECK(call2(&w, "drop_loads", 0, 16000, &r, &err) == KILN_OK && r == 16000);
  CHECK(call2(&w, "drop_loads", 4, 16000, &r, &err) == KILN_OK && r == 16000);
  const uint32_t starts[] = {65536 - 1000, 65536 - 998, 65536 - 130, 65536 - 2, 65536, 0x80000000};
  for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
    CHECK(call2(&w, "sum_loads", starts[i], 600, &sum, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(call2(&w, "drop_loads", starts[i], 600, &r, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(call2(&w, "drop_loads", starts[i] & ~3u, 4000, &r, &err) == KILN_ERR_TRAP);
  }
  /* a memory that grew: the new page is accessible, the one after it is not */
  CHECK(call1(&w, "grow_then_load", 65536 + 100, &err) == KILN_OK);
  CHECK(call1(&w, "grow_then_load", 3 * 65536, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_MEMORY_OUT_OF_BOUNDS);
  /* the store works after all of that */
  CHECK(call1(&w, "drop_load", 0, &err) == KILN_OK);
  world_free(&w);
}

static void *thread_traps(void *arg) {
  mode m = *(const mode *)arg;
  world w;
  intptr_t bad = 1;
  if (world_new(&w, m)) {
    bad = 0;
    for (int round = 0; round < 20; round++) bad += oob_failures(&w);
  }
  world_free(&w);
  return (void *)bad;
}

static void test_threads(mode m) {
  printf("-- %s: traps on 4 threads at once, 20 rounds each\n", mode_names[m]);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, thread_traps, &m) == 0);
  for (int i = 0; i < 4; i++) {
    void *bad = NULL;
    pthread_join(t[i], &bad);
    CHECK(bad == NULL);
  }
}

/* In a child: trap in kiln, then fault in host code (a NULL write, or a write into the
 * memory's reservation beyond its size): the child must die of SIGSEGV. */
static void test_host_fault(mode m, bool in_reservation) {
  printf("-- %s: after a kiln trap, a host %s still kills the process\n", mode_names[m],
         in_reservation ? "write past the memory's end (inside kiln's reservation)" : "NULL write");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    world w;
    kiln_error err;
    if (!world_new(&w, m) || call1(&w, "drop_load", 70000, &err) != KILN_ERR_TRAP) _exit(3);
    kiln_extern mem;
    kiln_instance_export(w.inst, "mem", &mem);
    volatile uint8_t *p = in_reservation ? kiln_memory_data(mem.of.memory) + (3ull << 30) : NULL;
    *p = 1;
    _exit(0);
  }
  int status = 0;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  /* killed by the fault; under AddressSanitizer, whose handler was there before kiln's, the
   * fault is reported and the child exits with its error status (1) instead */
  bool killed = WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
  bool sanitizer = WIFEXITED(status) && WEXITSTATUS(status) == 1;
  CHECK(killed || sanitizer);
  if (!WIFSIGNALED(status)) printf("     child exit status %d\n", WEXITSTATUS(status));
}

int main(void) {
  mode modes[3] = {INTERP, COMPILED_GUARDED, COMPILED_CHECKS};
#ifdef KILN_HAVE_LLVM
  int n = 3;
#else
  int n = 1;
  printf("-- built without the LLVM tier: the interpreter only\n");
#endif
  for (int i = 0; i < n; i++) {
    test_traps(modes[i]);
    test_threads(modes[i]);
  }
  for (int i = 0; i < n; i++) {
    test_host_fault(modes[i], false);
    if (modes[i] == COMPILED_GUARDED) test_host_fault(modes[i], true);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
