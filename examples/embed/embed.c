/* embed.c - the embedding demo (`make demo`): a host program that uses kiln through kiln.h
 * only. It loads a small module, fills its linear memory from the host, runs a CRC-32 over
 * it while a host import reports progress, shows a trap with its backtrace, and stops an
 * infinite loop from a watchdog thread with kiln_store_interrupt. Exits 0 when everything
 * behaved as expected. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kiln.h"

/* wat2wasm --debug-names demo.wat:
 * (module
 *   ;; the host is told how far the checksum has got
 *   (import "host" "progress" (func $progress (param $done i32) (param $total i32)))
 *   ;; page 0: the CRC-32 lookup table (1 KiB); pages 1-16: the data (1 MiB), filled by the host
 *   (memory (export "memory") 17)
 *
 *   ;; the start function builds the table of the reflected polynomial 0xEDB88320
 *   (func $make_table
 *     (local $n i32) (local $c i32) (local $k i32)
 *     (loop $entries
 *       (local.set $c (local.get $n))
 *       (local.set $k (i32.const 8))
 *       (loop $bits
 *         (local.set $c
 *           (if (result i32) (i32.and (local.get $c) (i32.const 1))
 *             (then (i32.xor (i32.const 0xEDB88320) (i32.shr_u (local.get $c) (i32.const 1))))
 *             (else (i32.shr_u (local.get $c) (i32.const 1)))))
 *         (br_if $bits (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
 *       (i32.store (i32.shl (local.get $n) (i32.const 2)) (local.get $c))
 *       (br_if $entries (i32.ne (local.tee $n (i32.add (local.get $n) (i32.const 1))) (i32.const 256)))))
 *   (start $make_table)
 *
 *   ;; crc32(ptr, len): CRC-32 of memory[ptr .. ptr + len), reporting progress every 64 KiB
 *   (func $crc32 (export "crc32") (param $ptr i32) (param $len i32) (result i32)
 *     (local $crc i32) (local $i i32)
 *     (local.set $crc (i32.const -1))
 *     (block $done
 *       (loop $bytes
 *         (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
 *         (local.set $crc
 *           (i32.xor
 *             (i32.load
 *               (i32.shl
 *                 (i32.and
 *                   (i32.xor (local.get $crc) (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
 *                   (i32.const 0xFF))
 *                 (i32.const 2)))
 *             (i32.shr_u (local.get $crc) (i32.const 8))))
 *         (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *         (if (i32.eqz (i32.and (local.get $i) (i32.const 0xFFFF)))
 *           (then (call $progress (local.get $i) (local.get $len))))
 *         (br $bytes)))
 *     (i32.xor (local.get $crc) (i32.const -1)))
 *
 *   ;; sum_bytes(ptr, len): a byte sum that reads through a helper, so that a bad range traps
 *   ;; two frames deep
 *   (func $read_byte (param $at i32) (result i32)
 *     (i32.load8_u (local.get $at)))
 *   (func $sum_bytes (export "sum_bytes") (param $ptr i32) (param $len i32) (result i32)
 *     (local $sum i32) (local $i i32)
 *     (block $done
 *       (loop $bytes
 *         (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
 *         (local.set $sum
 *           (i32.add (local.get $sum) (call $read_byte (i32.add (local.get $ptr) (local.get $i)))))
 *         (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *         (br $bytes)))
 *     (local.get $sum))
 *
 *   ;; spin(): never returns on its own
 *   (func $spin (export "spin") (result i32)
 *     (local $n i32)
 *     (loop $forever
 *       (local.set $n (i32.add (local.get $n) (i32.const 1)))
 *       (br $forever))
 *     (local.get $n)))
 */
static const uint8_t demo_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x18, 0x05, 0x60, 0x02, 0x7f, 0x7f, 0x00,
  0x60, 0x00, 0x00, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00,
  0x01, 0x7f, 0x02, 0x11, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x08, 0x70, 0x72, 0x6f, 0x67, 0x72,
  0x65, 0x73, 0x73, 0x00, 0x00, 0x03, 0x06, 0x05, 0x01, 0x02, 0x03, 0x02, 0x04, 0x05, 0x03, 0x01,
  0x00, 0x11, 0x07, 0x25, 0x04, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x05, 0x63,
  0x72, 0x63, 0x33, 0x32, 0x00, 0x02, 0x09, 0x73, 0x75, 0x6d, 0x5f, 0x62, 0x79, 0x74, 0x65, 0x73,
  0x00, 0x04, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x05, 0x08, 0x01, 0x01, 0x0a, 0xe6, 0x01, 0x05,
  0x4e, 0x01, 0x03, 0x7f, 0x03, 0x40, 0x20, 0x00, 0x21, 0x01, 0x41, 0x08, 0x21, 0x02, 0x03, 0x40,
  0x20, 0x01, 0x41, 0x01, 0x71, 0x04, 0x7f, 0x41, 0xa0, 0x86, 0xe2, 0xed, 0x7e, 0x20, 0x01, 0x41,
  0x01, 0x76, 0x73, 0x05, 0x20, 0x01, 0x41, 0x01, 0x76, 0x0b, 0x21, 0x01, 0x20, 0x02, 0x41, 0x01,
  0x6b, 0x22, 0x02, 0x0d, 0x00, 0x0b, 0x20, 0x00, 0x41, 0x02, 0x74, 0x20, 0x01, 0x36, 0x02, 0x00,
  0x20, 0x00, 0x41, 0x01, 0x6a, 0x22, 0x00, 0x41, 0x80, 0x02, 0x47, 0x0d, 0x00, 0x0b, 0x0b, 0x51,
  0x01, 0x02, 0x7f, 0x41, 0x7f, 0x21, 0x02, 0x02, 0x40, 0x03, 0x40, 0x20, 0x03, 0x20, 0x01, 0x4f,
  0x0d, 0x01, 0x20, 0x02, 0x20, 0x00, 0x20, 0x03, 0x6a, 0x2d, 0x00, 0x00, 0x73, 0x41, 0xff, 0x01,
  0x71, 0x41, 0x02, 0x74, 0x28, 0x02, 0x00, 0x20, 0x02, 0x41, 0x08, 0x76, 0x73, 0x21, 0x02, 0x20,
  0x03, 0x41, 0x01, 0x6a, 0x21, 0x03, 0x20, 0x03, 0x41, 0xff, 0xff, 0x03, 0x71, 0x45, 0x04, 0x40,
  0x20, 0x03, 0x20, 0x01, 0x10, 0x00, 0x0b, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x02, 0x41, 0x7f, 0x73,
  0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b, 0x28, 0x01, 0x02, 0x7f, 0x02, 0x40, 0x03,
  0x40, 0x20, 0x03, 0x20, 0x01, 0x4f, 0x0d, 0x01, 0x20, 0x02, 0x20, 0x00, 0x20, 0x03, 0x6a, 0x10,
  0x03, 0x6a, 0x21, 0x02, 0x20, 0x03, 0x41, 0x01, 0x6a, 0x21, 0x03, 0x0c, 0x00, 0x0b, 0x0b, 0x20,
  0x02, 0x0b, 0x12, 0x01, 0x01, 0x7f, 0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x21, 0x00, 0x0c,
  0x00, 0x0b, 0x20, 0x00, 0x0b, 0x00, 0x91, 0x01, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x01, 0x3a, 0x06,
  0x00, 0x08, 0x70, 0x72, 0x6f, 0x67, 0x72, 0x65, 0x73, 0x73, 0x01, 0x0a, 0x6d, 0x61, 0x6b, 0x65,
  0x5f, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x02, 0x05, 0x63, 0x72, 0x63, 0x33, 0x32, 0x03, 0x09, 0x72,
  0x65, 0x61, 0x64, 0x5f, 0x62, 0x79, 0x74, 0x65, 0x04, 0x09, 0x73, 0x75, 0x6d, 0x5f, 0x62, 0x79,
  0x74, 0x65, 0x73, 0x05, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x02, 0x4e, 0x06, 0x00, 0x02, 0x00, 0x04,
  0x64, 0x6f, 0x6e, 0x65, 0x01, 0x05, 0x74, 0x6f, 0x74, 0x61, 0x6c, 0x01, 0x03, 0x00, 0x01, 0x6e,
  0x01, 0x01, 0x63, 0x02, 0x01, 0x6b, 0x02, 0x04, 0x00, 0x03, 0x70, 0x74, 0x72, 0x01, 0x03, 0x6c,
  0x65, 0x6e, 0x02, 0x03, 0x63, 0x72, 0x63, 0x03, 0x01, 0x69, 0x03, 0x01, 0x00, 0x02, 0x61, 0x74,
  0x04, 0x04, 0x00, 0x03, 0x70, 0x74, 0x72, 0x01, 0x03, 0x6c, 0x65, 0x6e, 0x02, 0x03, 0x73, 0x75,
  0x6d, 0x03, 0x01, 0x69, 0x05, 0x01, 0x00, 0x01, 0x6e,
};

#define DATA_OFFSET 65536u      /* where the module expects its data: page 1 */
#define DATA_SIZE (1u << 20)    /* 1 MiB, pages 1-16 */

static bool all_ok = true;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fail(const char *what, const kiln_error *err) {
  printf("   FAILED: %s: %s: %s\n", what, kiln_status_string(err->status), err->message);
  all_ok = false;
}

/* "(i32, i32) -> i32" */
static void format_functype(const kiln_functype *t, char *out, size_t size) {
  size_t n = (size_t)snprintf(out, size, "(");
  for (uint32_t i = 0; i < t->param_count && n < size; i++)
    n += (size_t)snprintf(out + n, size - n, "%s%s", i ? ", " : "", kiln_valtype_string(t->params[i]));
  if (n < size) n += (size_t)snprintf(out + n, size - n, ") -> ");
  if (t->result_count == 0 && n < size) snprintf(out + n, size - n, "()");
  for (uint32_t i = 0; i < t->result_count && n < size; i++)
    n += (size_t)snprintf(out + n, size - n, "%s%s", i ? ", " : "", kiln_valtype_string(t->results[i]));
}

static void describe(const kiln_externtype *t, char *out, size_t size) {
  switch (t->kind) {
    case KILN_EXTERN_FUNC: {
      char sig[128];
      format_functype(&t->func, sig, sizeof sig);
      snprintf(out, size, "function %s", sig);
      break;
    }
    case KILN_EXTERN_MEMORY:
      snprintf(out, size, "memory of %" PRIu64 " pages (%" PRIu64 " KiB)", t->limits.min,
               t->limits.min * KILN_PAGE_SIZE / 1024);
      break;
    case KILN_EXTERN_TABLE: snprintf(out, size, "table of %" PRIu64 " %s", t->limits.min, kiln_valtype_string(t->elem_type)); break;
    case KILN_EXTERN_GLOBAL: snprintf(out, size, "global %s", kiln_valtype_string(t->global_type)); break;
  }
}

/* The host import host.progress(done, total), called by the wasm every 64 KiB. */
typedef struct progress_state {
  int calls;
  int last_quarter;
} progress_state;

static kiln_status host_progress(kiln_caller *caller, void *user_data, const kiln_val *args, kiln_val *results) {
  (void)caller, (void)results;
  progress_state *p = user_data;
  p->calls++;
  uint32_t done = (uint32_t)args[0].of.i32, total = (uint32_t)args[1].of.i32;
  int quarter = total ? (int)((uint64_t)done * 4 / total) : 4;
  if (quarter > p->last_quarter) { /* print at 25%, 50%, 75%, 100% */
    p->last_quarter = quarter;
    printf("   [host.progress] %3d%%: %u of %u bytes\n", quarter * 25, done, total);
  }
  return KILN_OK;
}

/* The reference CRC-32 (IEEE 802.3, reflected), computed by the host to check the wasm. */
static uint32_t host_crc32(const uint8_t *p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

static kiln_status call_crc32(kiln_store *store, kiln_func *crc32, uint32_t ptr, uint32_t len, uint32_t *out,
                              kiln_error *err) {
  kiln_val args[2] = {kiln_val_i32((int32_t)ptr), kiln_val_i32((int32_t)len)}, result;
  kiln_status st = kiln_func_call(store, crc32, args, 2, &result, 1, err);
  if (st == KILN_OK) *out = (uint32_t)result.of.i32;
  return st;
}

static void print_trap(const kiln_error *err) {
  printf("   status:    %s\n", kiln_status_string(err->status));
  printf("   trap kind: %s\n", kiln_trap_string(err->trap));
  printf("   message:   %s\n", err->message);
  printf("   backtrace (innermost first):\n");
  for (uint32_t i = 0; i < err->frame_count; i++) {
    const kiln_frame *f = &err->backtrace[i];
    printf("     #%u  %-10s (function %u) at module offset 0x%x\n", i, f->name[0] ? f->name : "?", f->func_index,
           f->code_offset);
  }
}

/* The watchdog: interrupt the store after a delay. */
typedef struct watchdog {
  kiln_store *store;
  long delay_ms;
  double fired_at;
} watchdog;

static void *watchdog_main(void *arg) {
  watchdog *w = arg;
  struct timespec ts = {w->delay_ms / 1000, (w->delay_ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  w->fired_at = now_ms();
  kiln_store_interrupt(w->store); /* the one kiln call allowed from any thread */
  return NULL;
}

int main(void) {
  printf("kiln %s embedding demo: a host program using kiln through kiln.h only\n\n", KILN_VERSION);
  kiln_error err = {0};

  /* 1. an engine (default limits) and the module */
  printf("1. Load the module (%zu bytes of wasm embedded in this program)\n", sizeof demo_wasm);
  kiln_engine *engine = kiln_engine_new(NULL);
  if (!engine) return 1;
  kiln_module *module = NULL;
  double t0 = now_ms();
  if (kiln_module_new(engine, demo_wasm, sizeof demo_wasm, &module, &err) != KILN_OK) {
    fail("kiln_module_new", &err);
    kiln_engine_free(engine);
    return 1;
  }
  printf("   decoded, validated and compiled in %.3f ms\n", now_ms() - t0);
  for (uint32_t i = 0; i < kiln_module_import_count(module); i++) {
    const char *mod, *name;
    kiln_externtype t;
    char desc[160];
    kiln_module_import(module, i, &mod, &name, &t);
    describe(&t, desc, sizeof desc);
    printf("   imports %s.%s: %s\n", mod, name, desc);
  }
  for (uint32_t i = 0; i < kiln_module_export_count(module); i++) {
    const char *name;
    kiln_externtype t;
    char desc[160];
    kiln_module_export(module, i, &name, &t);
    describe(&t, desc, sizeof desc);
    printf("   exports %s: %s\n", name, desc);
  }

  /* 2. a store, the host function, the instance */
  printf("\n2. Instantiate it, providing host.progress as a host function\n");
  kiln_store *store = kiln_store_new(engine);
  progress_state progress = {0, 0};
  const kiln_valtype two_i32[] = {KILN_I32, KILN_I32};
  const kiln_functype progress_type = {two_i32, 2, NULL, 0};
  kiln_func *progress_func = kiln_func_new(store, &progress_type, host_progress, &progress, NULL);
  kiln_import imports[] = {{"host", "progress", {KILN_EXTERN_FUNC, {.func = progress_func}}}};
  kiln_instance *instance = NULL;
  t0 = now_ms();
  if (kiln_instantiate(store, module, imports, 1, &instance, &err) != KILN_OK) {
    fail("kiln_instantiate", &err);
    goto out;
  }
  printf("   instantiated in %.3f ms (its start function built the CRC-32 table in linear memory)\n",
         now_ms() - t0);
  kiln_extern x;
  kiln_memory *memory = NULL;
  kiln_func *crc32 = NULL, *sum_bytes = NULL, *spin = NULL;
  if (kiln_instance_export(instance, "memory", &x) == KILN_OK) memory = x.of.memory;
  if (kiln_instance_export(instance, "crc32", &x) == KILN_OK) crc32 = x.of.func;
  if (kiln_instance_export(instance, "sum_bytes", &x) == KILN_OK) sum_bytes = x.of.func;
  if (kiln_instance_export(instance, "spin", &x) == KILN_OK) spin = x.of.func;
  if (!memory || !crc32 || !sum_bytes || !spin) {
    printf("   FAILED: missing exports\n");
    all_ok = false;
    goto out;
  }

  /* 3. the host writes the data straight into linear memory */
  printf("\n3. Fill %u KiB of the instance's linear memory from the host (kiln_memory_data)\n", DATA_SIZE / 1024);
  uint8_t *data = kiln_memory_data(memory) + DATA_OFFSET;
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  for (uint32_t i = 0; i < DATA_SIZE; i++) { /* xorshift64: reproducible pseudo-random bytes */
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    data[i] = (uint8_t)(seed >> 24);
  }
  printf("   memory is %" PRIu64 " KiB; data at offset %u, first bytes %02x %02x %02x %02x\n",
         kiln_memory_size(memory) / 1024, DATA_OFFSET, data[0], data[1], data[2], data[3]);

  /* 4. the computation */
  printf("\n4. Call crc32(%u, %u): the wasm reads the data and calls the host every 64 KiB\n", DATA_OFFSET, DATA_SIZE);
  uint32_t crc = 0;
  t0 = now_ms();
  if (call_crc32(store, crc32, DATA_OFFSET, DATA_SIZE, &crc, &err) != KILN_OK) {
    fail("crc32", &err);
  } else {
    double ms = now_ms() - t0;
    uint32_t expected = host_crc32(data, DATA_SIZE);
    printf("   crc32 = 0x%08x in %.2f ms (%.0f MB/s), %d progress calls\n", crc, ms,
           ms > 0 ? DATA_SIZE / 1e3 / ms : 0.0, progress.calls);
    printf("   the host's own CRC-32 of the same bytes: 0x%08x -> %s\n", expected, crc == expected ? "match" : "MISMATCH");
    if (crc != expected) all_ok = false;
  }
  memcpy(data, "123456789", 9);
  if (call_crc32(store, crc32, DATA_OFFSET, 9, &crc, &err) == KILN_OK) {
    printf("   crc32(\"123456789\") = 0x%08x (the standard check value is 0xcbf43926)\n", crc);
    if (crc != 0xCBF43926u) all_ok = false;
  } else {
    fail("crc32 of the check string", &err);
  }

  /* 5. a trap */
  uint32_t bad = (uint32_t)kiln_memory_size(memory) - 16;
  printf("\n5. A trap: sum_bytes(%u, 64) reads past the end of the %" PRIu64 "-byte memory\n", bad,
         kiln_memory_size(memory));
  kiln_val args[2] = {kiln_val_i32((int32_t)bad), kiln_val_i32(64)}, result;
  kiln_status st = kiln_func_call(store, sum_bytes, args, 2, &result, 1, &err);
  if (st == KILN_ERR_TRAP) {
    print_trap(&err);
    if (err.trap != KILN_TRAP_MEMORY_OUT_OF_BOUNDS) all_ok = false;
  } else {
    printf("   FAILED: expected a trap, got %s\n", kiln_status_string(st));
    all_ok = false;
  }
  args[1] = kiln_val_i32(16);
  if (kiln_func_call(store, sum_bytes, args, 2, &result, 1, &err) == KILN_OK)
    printf("   the instance is still usable: sum_bytes(%u, 16) = %d\n", bad, result.of.i32);
  else
    fail("sum_bytes after the trap", &err);

  /* 6. an interrupt from another thread */
  printf("\n6. An interrupt: spin() loops forever; a watchdog thread calls kiln_store_interrupt after 100 ms\n");
  watchdog w = {store, 100, 0};
  pthread_t thread;
  if (pthread_create(&thread, NULL, watchdog_main, &w) != 0) {
    printf("   FAILED: cannot start the watchdog thread\n");
    all_ok = false;
    goto out;
  }
  t0 = now_ms();
  st = kiln_func_call(store, spin, NULL, 0, &result, 1, &err);
  double stopped = now_ms();
  pthread_join(thread, NULL);
  if (st == KILN_ERR_TRAP && err.trap == KILN_TRAP_INTERRUPTED) {
    printf("   spin() stopped %.1f ms after the call began, %.3f ms after the interrupt\n", stopped - t0,
           stopped - w.fired_at);
    printf("   message: %s\n", err.message);
  } else {
    printf("   FAILED: expected an interrupt, got %s: %s\n", kiln_status_string(st), err.message);
    all_ok = false;
  }
  kiln_store_clear_interrupt(store);
  memcpy(data, "123456789", 9);
  if (call_crc32(store, crc32, DATA_OFFSET, 9, &crc, &err) == KILN_OK)
    printf("   after kiln_store_clear_interrupt the store runs again: crc32(\"123456789\") = 0x%08x\n", crc);
  else
    fail("crc32 after the interrupt", &err);

out:
  kiln_store_free(store); /* frees the instance, its memory and the host function */
  kiln_module_free(module);
  kiln_engine_free(engine);
  printf("\n%s\n", all_ok ? "demo finished: everything behaved as expected" : "demo finished WITH FAILURES");
  return all_ok ? 0 : 1;
}
