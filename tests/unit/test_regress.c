/* test_regress.c - replays the fuzzer's reproducers: every .wasm file in tests/regress goes
 * through the routine of fuzz/fuzz_module.c (decode, instantiate with every import provided,
 * call every export with zero arguments under fuel; see fuzz/fuzz_common.h), first decode
 * only, then in full. Under build-asan a crash, leak or UB report fails the test; the table
 * below adds the expected outcome where it is meaningful.
 *
 * Finds tests/regress via $KILN_SOURCE_DIR (set by CTest), else relative to the working
 * directory. Prints one line per failed check and ends with "N passed, N failed"; exits
 * non-zero if any check failed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../fuzz/fuzz_common.h"

static int passed, failed;

static void check_(bool ok, const char *file, const char *what, int line) {
  if (ok) {
    passed++;
  } else {
    failed++;
    printf("FAIL %s (line %d): %s\n", file, line, what);
  }
}
#define CHECK(file, cond) check_((cond), (file), #cond, __LINE__)

#define ANY (-1)

/* The expected outcome of one reproducer. ANY means "whatever, as long as nothing crashes". */
typedef struct expectation {
  const char *file;
  int module_status;      /* kiln_module_new */
  int instantiate_status; /* kiln_instantiate */
  int instantiate_trap;   /* with KILN_ERR_TRAP */
  int calls;              /* exported functions called */
  int last_trap;          /* the trap of the last call that trapped (KILN_TRAP_NONE: none trapped) */
  long max_host_calls;    /* at most this many calls of imported functions (fuel accounting) */
} expectation;

/* Time allowed per file (decode-only and full run together), as the fuzzer's -timeout. */
#define TIME_BUDGET_SECONDS 10.0

static const expectation expectations[] = {
  /* type [] -> [] decoded with types == NULL; the compiler computed NULL + 0 (UBSan) */
  {"empty_functype_null_types.wasm", KILN_OK, KILN_OK, ANY, 0, KILN_TRAP_NONE, ANY},
  /* 70 nested `block (result i32)`: frames pointed into the control stack, which moved */
  {"block_result_ctrl_realloc.wasm", KILN_OK, KILN_OK, ANY, 1, KILN_TRAP_NONE, ANY},
  /* br_table with 1500 targets, each carrying 400 values: 3 KiB asked for 14 MiB of code
   * (10000 x 30000 took GiBs and 20 s); compiled code is now bounded per body byte */
  {"branch_copies_code_blowup.wasm", KILN_ERR_LIMIT, ANY, ANY, ANY, ANY, ANY},
  /* Fuel measures work. Each loop below calls the host once per iteration; with one unit per
   * iteration, 100000 units allowed 100000 iterations: 1.6 TB of memory.fill (30 s), 10^10
   * table stores, 4 * 10^8 instructions, 48 GB of zeroed locals. */
  {"fuel_memory_fill_loop.wasm", KILN_OK, KILN_OK, ANY, 1, KILN_TRAP_OUT_OF_FUEL, 200},
  {"fuel_table_fill_loop.wasm", KILN_OK, KILN_OK, ANY, 1, KILN_TRAP_OUT_OF_FUEL, 4000},
  {"fuel_large_loop_body.wasm", KILN_OK, KILN_OK, ANY, 1, KILN_TRAP_OUT_OF_FUEL, 10000},
  {"fuel_many_locals_calls.wasm", KILN_OK, KILN_OK, ANY, 1, KILN_TRAP_OUT_OF_FUEL, 4000},
};

static const expectation *find_expectation(const char *file) {
  for (size_t i = 0; i < sizeof expectations / sizeof expectations[0]; i++)
    if (strcmp(expectations[i].file, file) == 0) return &expectations[i];
  return NULL;
}

static uint8_t *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? cap * 2 : 4096;
      uint8_t *b = realloc(buf, cap);
      if (!b) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = b;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    if (got == 0) break;
    n += got;
  }
  fclose(f);
  *size = n;
  return buf;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void run_file(kiln_engine *engine, const char *dir, const char *file) {
  char path[8192];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  size_t size = 0;
  uint8_t *bytes = read_file(path, &size);
  CHECK(file, bytes != NULL);
  if (!bytes) return;

  fuzz_outcome decode_only, full;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  fuzz_run(engine, bytes, size, false, &decode_only);
  fuzz_run(engine, bytes, size, true, &full);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  free(bytes);
  /* reaching here means no crash */
  double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  CHECK(file, seconds < TIME_BUDGET_SECONDS);
  CHECK(file, decode_only.module_status == full.module_status);

  const expectation *e = find_expectation(file);
  if (!e) return;
  if (e->module_status != ANY) CHECK(file, (int)full.module_status == e->module_status);
  if (e->instantiate_status != ANY) {
    CHECK(file, full.instantiated_tried);
    CHECK(file, (int)full.instantiate_status == e->instantiate_status);
  }
  if (e->instantiate_trap != ANY) CHECK(file, (int)full.instantiate_trap == e->instantiate_trap);
  if (e->calls != ANY) CHECK(file, (int)full.calls == e->calls);
  if (e->last_trap != ANY) CHECK(file, (int)full.last_trap == e->last_trap);
  if (e->max_host_calls != ANY) CHECK(file, full.host_calls <= (uint64_t)e->max_host_calls);
}

int main(void) {
  char dir[4096];
  const char *source = getenv("KILN_SOURCE_DIR");
  if (source && *source) snprintf(dir, sizeof dir, "%s/tests/regress", source);
  else snprintf(dir, sizeof dir, "tests/regress");
  DIR *d = opendir(dir);
  if (!d && !(source && *source)) {
    snprintf(dir, sizeof dir, "../tests/regress"); /* run from build/ */
    d = opendir(dir);
  }
  if (!d) {
    printf("cannot open %s (set KILN_SOURCE_DIR to the repository root)\n", dir);
    printf("0 passed, 1 failed\n");
    return 1;
  }
  char **names = NULL;
  size_t count = 0, cap = 0;
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    if (!has_suffix(ent->d_name, ".wasm")) continue;
    if (count == cap) {
      cap = cap ? cap * 2 : 64;
      char **n = realloc(names, cap * sizeof *n);
      if (!n) break;
      names = n;
    }
    names[count++] = strdup(ent->d_name);
  }
  closedir(d);
  if (count) qsort(names, count, sizeof *names, compare_names);

  kiln_engine *engine = fuzz_engine_new();
  CHECK("engine", engine != NULL);
  if (engine)
    for (size_t i = 0; i < count; i++) run_file(engine, dir, names[i]);
  kiln_engine_free(engine);

  /* every expectation names a file that exists */
  for (size_t i = 0; i < sizeof expectations / sizeof expectations[0]; i++) {
    bool found = false;
    for (size_t k = 0; k < count && !found; k++) found = strcmp(names[k], expectations[i].file) == 0;
    CHECK(expectations[i].file, found);
  }
  for (size_t i = 0; i < count; i++) free(names[i]);
  free(names);

  printf("%zu reproducers in %s\n", count, dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
