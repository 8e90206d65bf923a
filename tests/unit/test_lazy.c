/* test_lazy.c - the interpreter translates a function on its first call, not in
 * kiln_module_new (also from bytes the module borrows, kiln_module_new_borrowed): validation errors still come from kiln_module_new (also when large
 * modules are validated on several threads, where the error is still the first function's),
 * only what runs is translated, and many threads calling the same untranslated functions of
 * one module at once each get them translated exactly once and run correctly (run under
 * ASan in build-asan; the race itself is what the test provokes).
 *
 * The modules are built here, in C. Uses kiln.h only. Prints one line per group and one per
 * failed check, ends with "N passed, N failed"; exits non-zero if any check failed. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "check.h"
#include "kiln.h"
#include "tier.h"

static kiln_engine *engine;

static kiln_status call_export(kiln_store *store, kiln_instance *inst, uint32_t i, int32_t x, int32_t *out,
                               kiln_error *err) {
  char name[16];
  snprintf(name, sizeof name, "f%u", i);
  kiln_extern ext;
  if (kiln_instance_export(inst, name, &ext) != KILN_OK) return KILN_ERR_NOT_FOUND;
  kiln_val arg = kiln_val_i32(x), res;
  kiln_status st = kiln_func_call(store, ext.of.func, &arg, 1, &res, 1, err);
  if (st == KILN_OK) *out = res.of.i32;
  return st;
}

/* ---------------------------------------------------------------- validation stays eager */

static void test_validation_errors(void) {
  group("validation errors come from kiln_module_new, naming the function");
  kiln_error err;
  kiln_module *mod = NULL;
  uint32_t bad[] = {37};
  buf b = chain_module(60, bad, 1, 0);
  CHECK_STATUS(kiln_module_new(engine, b.p, b.n, &mod, &err), KILN_ERR_INVALID, err);
  CHECK(mod == NULL);
  CHECK_CONTAINS(err.message, "function 37");
  free(b.p);

  /* over 1 MiB of bodies: validated on several threads; two bad functions, the first named */
  group("a large module validated on several threads reports its first bad function");
  uint32_t two_bad[] = {1900, 1201};
  b = chain_module(2000, two_bad, 2, 900);
  CHECK(b.n > (1u << 20));
  for (int round = 0; round < 4; round++) {
    err.message[0] = 0;
    CHECK_STATUS(kiln_module_new(engine, b.p, b.n, &mod, &err), KILN_ERR_INVALID, err);
    CHECK_CONTAINS(err.message, "function 1201");
  }
  free(b.p);

  b = chain_module(2000, NULL, 0, 900);
  CHECK_STATUS(kiln_module_new(engine, b.p, b.n, &mod, &err), KILN_OK, err);
  if (mod) {
    kiln_module_stats stats;
    kiln_module_get_stats(mod, &stats);
    CHECK(stats.functions == 2000);
    if (!test_tier_compiled()) CHECK(stats.translated_functions == 0);
    kiln_store *store = kiln_store_new(engine);
    kiln_instance *inst = NULL;
    CHECK_STATUS(kiln_instantiate(store, mod, NULL, 0, &inst, &err), KILN_OK, err);
    int32_t r = 0;
    if (inst) {
      CHECK_STATUS(call_export(store, inst, 1999, 3, &r, &err), KILN_OK, err);
      CHECK(r == chain_expected(1999, 3));
    }
    kiln_store_free(store);
    kiln_module_free(mod);
  }
  free(b.p);
}

/* ---------------------------------------------------------------- only what runs */

static void test_translated_on_first_call(void) {
  group("functions are translated on their first call, once");
  if (test_tier_compiled()) {
    printf("   (compiled tier: functions run native code; nothing to translate)\n");
    return;
  }
  kiln_error err;
  kiln_module *mod = NULL;
  buf b = chain_module(100, NULL, 0, 0);
  CHECK_STATUS(kiln_module_new(engine, b.p, b.n, &mod, &err), KILN_OK, err);
  free(b.p);
  if (!mod) return;
  kiln_module_stats stats;
  kiln_module_get_stats(mod, &stats);
  CHECK(stats.translated_functions == 0);
  CHECK(stats.translated_code_bytes == 0);

  kiln_store *store = kiln_store_new(engine);
  kiln_instance *inst = NULL;
  CHECK_STATUS(kiln_instantiate(store, mod, NULL, 0, &inst, &err), KILN_OK, err);
  int32_t r = 0;
  /* f9 calls f4, f2, f1, f0: five functions */
  CHECK_STATUS(call_export(store, inst, 9, 100, &r, &err), KILN_OK, err);
  CHECK(r == chain_expected(9, 100));
  kiln_module_get_stats(mod, &stats);
  CHECK(stats.translated_functions == 5);
  CHECK(stats.translated_code_bytes > 0);
  size_t bytes = stats.translated_code_bytes;
  /* again: nothing new */
  CHECK_STATUS(call_export(store, inst, 9, -7, &r, &err), KILN_OK, err);
  CHECK(r == chain_expected(9, -7));
  kiln_module_get_stats(mod, &stats);
  CHECK(stats.translated_functions == 5);
  CHECK(stats.translated_code_bytes == bytes);
  /* f5 calls f2, f1, f0, all translated: one more */
  CHECK_STATUS(call_export(store, inst, 5, 4, &r, &err), KILN_OK, err);
  CHECK(r == chain_expected(5, 4));
  kiln_module_get_stats(mod, &stats);
  CHECK(stats.translated_functions == 6);
  /* a second instance shares the module's translations: f12 adds f12, f6, f3 */
  kiln_store *store2 = kiln_store_new(engine);
  kiln_instance *inst2 = NULL;
  CHECK_STATUS(kiln_instantiate(store2, mod, NULL, 0, &inst2, &err), KILN_OK, err);
  CHECK_STATUS(call_export(store2, inst2, 12, 1, &r, &err), KILN_OK, err);
  CHECK(r == chain_expected(12, 1));
  kiln_module_get_stats(mod, &stats);
  CHECK(stats.translated_functions == 9);
  kiln_store_free(store2);
  kiln_store_free(store);
  kiln_module_free(mod);
}

/* ---------------------------------------------------------------- borrowed bytes */

typedef struct borrowed {
  uint8_t *bytes;
  int releases;
} borrowed;

static void release_bytes(void *user_data) {
  borrowed *b = user_data;
  b->releases++;
  free(b->bytes); /* ASan reports any later read of them */
  b->bytes = NULL;
}

static void test_borrowed(void) {
  group("kiln_module_new_borrowed: bytes read in place until the module and its instances are gone");
  kiln_error err;
  kiln_module *mod = NULL;
  buf b = chain_module(50, NULL, 0, 0);
  borrowed bb = {b.p, 0};
  CHECK_STATUS(kiln_module_new_borrowed(engine, b.p, b.n, release_bytes, &bb, &mod, &err), KILN_OK, err);
  CHECK(bb.releases == 0);
  if (mod) {
    kiln_store *store = kiln_store_new(engine);
    kiln_instance *inst = NULL;
    CHECK_STATUS(kiln_instantiate(store, mod, NULL, 0, &inst, &err), KILN_OK, err);
    kiln_module_free(mod); /* the instance keeps the module, and so the bytes */
    CHECK(bb.releases == 0);
    int32_t r = 0;
    if (inst) {
      /* translated now, from the borrowed bytes */
      CHECK_STATUS(call_export(store, inst, 49, 5, &r, &err), KILN_OK, err);
      CHECK(r == chain_expected(49, 5));
    }
    kiln_store_free(store);
    CHECK(bb.releases == 1);
  }
  /* a failure releases them at once */
  uint32_t bad[] = {3};
  b = chain_module(10, bad, 1, 0);
  bb = (borrowed){b.p, 0};
  CHECK_STATUS(kiln_module_new_borrowed(engine, b.p, b.n, release_bytes, &bb, &mod, &err), KILN_ERR_INVALID, err);
  CHECK(mod == NULL && bb.releases == 1);
  CHECK_CONTAINS(err.message, "function 3");
  b = chain_module(10, NULL, 0, 0);
  bb = (borrowed){b.p, 0};
  CHECK_STATUS(kiln_module_new_borrowed(NULL, b.p, b.n, release_bytes, &bb, &mod, &err), KILN_ERR_ARGUMENT, err);
  CHECK(mod == NULL && bb.releases == 1);
  /* no release: the caller frees the bytes after the module */
  b = chain_module(10, NULL, 0, 0);
  CHECK_STATUS(kiln_module_new_borrowed(engine, b.p, b.n, NULL, NULL, &mod, &err), KILN_OK, err);
  if (mod) {
    kiln_store *store = kiln_store_new(engine);
    kiln_instance *inst = NULL;
    int32_t r = 0;
    CHECK_STATUS(kiln_instantiate(store, mod, NULL, 0, &inst, &err), KILN_OK, err);
    if (inst) CHECK_STATUS(call_export(store, inst, 9, 1, &r, &err), KILN_OK, err);
    CHECK(r == chain_expected(9, 1));
    kiln_store_free(store);
    kiln_module_free(mod);
  }
  free(b.p);
}

/* ---------------------------------------------------------------- many threads at once */

#define THREADS 8
#define FUNCS 400

typedef struct racer {
  kiln_module *module;
  pthread_barrier_t *start;
  uint32_t seed;
  int wrong;     /* results that differ from chain_expected */
  int errors;    /* calls that failed */
  char first_error[600];
} racer;

static void *race(void *arg) {
  racer *r = arg;
  kiln_store *store = kiln_store_new(engine);
  kiln_instance *inst = NULL;
  kiln_error err;
  if (!store || kiln_instantiate(store, r->module, NULL, 0, &inst, &err) != KILN_OK) {
    r->errors++;
    snprintf(r->first_error, sizeof r->first_error, "instantiate: %s", store ? err.message : "no store");
    pthread_barrier_wait(r->start);
    kiln_store_free(store);
    return NULL;
  }
  pthread_barrier_wait(r->start);
  /* every thread walks all functions, starting at a different place and stride, so that
   * several threads reach the same untranslated functions, directly and through calls */
  uint32_t x = r->seed;
  for (uint32_t k = 0; k < FUNCS; k++) {
    uint32_t i = (r->seed * 53 + k * (r->seed % 2 ? 7 : 13)) % FUNCS;
    x = x * 1103515245u + 12345u;
    int32_t got = 0;
    if (call_export(store, inst, i, (int32_t)(x >> 8), &got, &err) != KILN_OK) {
      if (!r->errors++) snprintf(r->first_error, sizeof r->first_error, "f%u: %s", i, err.message);
    } else if (got != chain_expected(i, (int32_t)(x >> 8))) {
      r->wrong++;
    }
  }
  kiln_store_free(store);
  return NULL;
}

static void test_threads(void) {
  group("8 threads call the same untranslated functions of one module at once");
  buf b = chain_module(FUNCS, NULL, 0, 0);
  for (int round = 0; round < 6; round++) {
    kiln_error err;
    kiln_module *mod = NULL;
    CHECK_STATUS(kiln_module_new(engine, b.p, b.n, &mod, &err), KILN_OK, err);
    if (!mod) break;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    racer racers[THREADS];
    pthread_t tids[THREADS];
    for (int t = 0; t < THREADS; t++) {
      racers[t] = (racer){.module = mod, .start = &start, .seed = (uint32_t)(round * THREADS + t + 1)};
      pthread_create(&tids[t], NULL, race, &racers[t]);
    }
    int wrong = 0, errors = 0;
    for (int t = 0; t < THREADS; t++) {
      pthread_join(tids[t], NULL);
      wrong += racers[t].wrong;
      errors += racers[t].errors;
      if (racers[t].errors) printf("     thread %d: %s\n", t, racers[t].first_error);
    }
    pthread_barrier_destroy(&start);
    CHECK(errors == 0);
    CHECK(wrong == 0);
    kiln_module_stats stats;
    kiln_module_get_stats(mod, &stats);
    /* every function ran (each thread calls all of them) */
    if (!test_tier_compiled()) CHECK(stats.translated_functions == FUNCS);
    kiln_module_free(mod);
  }
  free(b.p);
}

int main(void) {
  engine = test_engine_new(NULL);
  test_validation_errors();
  test_translated_on_first_call();
  test_borrowed();
  test_threads();
  kiln_engine_free(engine);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
