/* test_cache.c - the compiled-code cache and precompiled modules (kiln_config.cache,
 * kiln_engine_precompile), end to end through kiln.h with the LLVM tier: a miss stores an
 * entry and the next module takes its code from it; truncated, corrupt, foreign and
 * mismatched entries are refused with the reason and replaced; the cache off; a directory
 * that cannot be written or that others can write; stale temporary files cleaned up; two
 * processes storing the same entry at once; precompiled modules loaded, and refused when damaged or made for something else.
 * Built and registered only with the LLVM tier. Every cache lives under a fresh temporary
 * directory, never in ~/.cache. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "runtime/artifact.h"

/* wat2wasm --debug-names:
 * (module
 *   (memory (export "mem") 1)
 *   (func $fib (export "fib") (param i32) (result i32)
 *     (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
 *       (then (local.get 0))
 *       (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
 *                      (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
 *   (func $boom (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
 *   (func $divide (export "divide") (param i32) (result i32) (call $boom (local.get 0)))
 *   (func (export "sum") (param i32) (result i32) (local $i i32) (local $s i32)
 *     (block $done (loop $next
 *       (br_if $done (i32.ge_u (local.get $i) (local.get 0)))
 *       (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $i))
 *       (local.set $s (i32.add (local.get $s) (i32.load (i32.shl (local.get $i) (i32.const 2)))))
 *       (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *       (br $next)))
 *     (local.get $s))) */
static const uint8_t cache_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x03, 0x05, 0x04, 0x00, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x1c, 0x04, 0x03,
    0x6d, 0x65, 0x6d, 0x02, 0x00, 0x03, 0x66, 0x69, 0x62, 0x00, 0x00, 0x06, 0x64, 0x69, 0x76, 0x69,
    0x64, 0x65, 0x00, 0x02, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x03, 0x0a, 0x61, 0x04, 0x1c, 0x00, 0x20,
    0x00, 0x41, 0x02, 0x49, 0x04, 0x7f, 0x20, 0x00, 0x05, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x00,
    0x20, 0x00, 0x41, 0x02, 0x6b, 0x10, 0x00, 0x6a, 0x0b, 0x0b, 0x07, 0x00, 0x41, 0x01, 0x20, 0x00,
    0x6e, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x01, 0x0b, 0x33, 0x01, 0x02, 0x7f, 0x02, 0x40, 0x03,
    0x40, 0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01, 0x20, 0x01, 0x41, 0x02, 0x74, 0x20, 0x01, 0x36,
    0x02, 0x00, 0x20, 0x02, 0x20, 0x01, 0x41, 0x02, 0x74, 0x28, 0x02, 0x00, 0x6a, 0x21, 0x02, 0x20,
    0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x02, 0x0b, 0x00, 0x2c, 0x04,
    0x6e, 0x61, 0x6d, 0x65, 0x01, 0x14, 0x03, 0x00, 0x03, 0x66, 0x69, 0x62, 0x01, 0x04, 0x62, 0x6f,
    0x6f, 0x6d, 0x02, 0x06, 0x64, 0x69, 0x76, 0x69, 0x64, 0x65, 0x02, 0x0f, 0x04, 0x00, 0x00, 0x01,
    0x00, 0x02, 0x00, 0x03, 0x02, 0x01, 0x01, 0x69, 0x02, 0x01, 0x73,
};

/* (module (func (export "answer") (result i32) (i32.const 42))) */
static const uint8_t other_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03,
    0x02, 0x01, 0x00, 0x07, 0x0a, 0x01, 0x06, 0x61, 0x6e, 0x73, 0x77, 0x65, 0x72, 0x00, 0x00, 0x0a,
    0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b,
};

static char root[256]; /* the temporary directory of this run */

/* root/name, in a static buffer of its own per call site slot */
static const char *under(const char *name) {
  static char paths[8][512];
  static int next;
  char *p = paths[next++ % 8];
  snprintf(p, 512, "%s/%s", root, name);
  return p;
}

static kiln_engine *engine_with(bool cache, const char *dir, bool portable) {
  kiln_config c;
  kiln_config_init(&c);
  c.tier = KILN_TIER_COMPILED;
  c.compiler = kiln_llvm_compiler();
  c.cache = cache;
  c.cache_dir = dir;
  c.portable = portable;
  return kiln_engine_new(&c);
}

/* Make cache_wasm in engine; stats receives its kiln_module_stats (note copied). */
static kiln_module *make(kiln_engine *engine, const uint8_t *bytes, size_t size, kiln_module_stats *stats,
                         char *note, size_t note_size) {
  kiln_module *m = NULL;
  kiln_error err = {0};
  CHECK_STATUS(kiln_module_new(engine, bytes, size, &m, &err), KILN_OK, err);
  if (m) {
    kiln_module_get_stats(m, stats);
    snprintf(note, note_size, "%s", stats->cache_note);
  } else {
    memset(stats, 0, sizeof *stats);
    note[0] = 0;
  }
  return m;
}

/* fib(20), sum(100) and the trap of divide(0) with its backtrace: the module's code works. */
static bool module_works(kiln_engine *engine, kiln_module *m) {
  if (!m) return false;
  kiln_store *store = kiln_store_new(engine);
  kiln_instance *inst = NULL;
  kiln_error err = {0};
  kiln_extern fib, sum, divide;
  kiln_val arg, result = {0};
  bool ok = kiln_instantiate(store, m, NULL, 0, &inst, &err) == KILN_OK &&
            kiln_instance_export(inst, "fib", &fib) == KILN_OK && kiln_instance_export(inst, "sum", &sum) == KILN_OK &&
            kiln_instance_export(inst, "divide", &divide) == KILN_OK;
  arg = kiln_val_i32(20);
  ok = ok && kiln_func_call(store, fib.of.func, &arg, 1, &result, 1, &err) == KILN_OK && result.of.i32 == 6765;
  arg = kiln_val_i32(100);
  ok = ok && kiln_func_call(store, sum.of.func, &arg, 1, &result, 1, &err) == KILN_OK && result.of.i32 == 4950;
  arg = kiln_val_i32(0);
  ok = ok && kiln_func_call(store, divide.of.func, &arg, 1, &result, 1, &err) == KILN_ERR_TRAP &&
       err.trap == KILN_TRAP_INTEGER_DIVIDE_BY_ZERO && err.frame_count >= 2 &&
       strcmp(err.backtrace[0].name, "boom") == 0 && strcmp(err.backtrace[1].name, "divide") == 0;
  kiln_store_free(store);
  return ok;
}

/* The entries (*.cwasm) and other files (temporaries) in dir. */
static void count_files(const char *dir, int *entries, int *others) {
  *entries = *others = 0;
  DIR *d = opendir(dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
    size_t n = strlen(e->d_name);
    if (n > 6 && strcmp(e->d_name + n - 6, ".cwasm") == 0 && e->d_name[0] != '.') ++*entries;
    else ++*others;
  }
  closedir(d);
}

/* The path of the one entry in dir. */
static bool entry_path(const char *dir, char *path, size_t size) {
  DIR *d = opendir(dir);
  bool found = false;
  if (!d) return false;
  for (struct dirent *e; !found && (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n > 6 && strcmp(e->d_name + n - 6, ".cwasm") == 0 && e->d_name[0] != '.') {
      snprintf(path, size, "%s/%s", dir, e->d_name);
      found = true;
    }
  }
  closedir(d);
  return found;
}

static uint8_t *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *bytes = malloc(n > 0 ? (size_t)n : 1);
  *size = bytes && n > 0 ? fread(bytes, 1, (size_t)n, f) : 0;
  fclose(f);
  return bytes;
}

static void write_file(const char *path, const void *bytes, size_t size) {
  FILE *f = fopen(path, "wb");
  if (f) {
    fwrite(bytes, 1, size, f);
    fclose(f);
  }
}

/* Make the module through a cache in dir: whether it was a hit, and the note. */
static bool hit_in(const char *dir, char *note, size_t note_size, bool *stored) {
  kiln_engine *engine = engine_with(true, dir, false);
  kiln_module_stats stats;
  kiln_module *m = make(engine, cache_wasm, sizeof cache_wasm, &stats, note, note_size);
  CHECK(module_works(engine, m));
  CHECK(stats.tier == KILN_TIER_COMPILED && stats.native_functions == 4);
  if (stored) *stored = stats.cache_stored;
  kiln_module_free(m);
  kiln_engine_free(engine);
  return stats.cache_hit;
}

static void test_hit_and_miss(void) {
  group("cache: a miss compiles and stores, the next module is a hit");
  const char *dir = under("c1/nested");
  char note[512];
  bool stored = false;
  CHECK(!hit_in(dir, note, sizeof note, &stored));
  CHECK(stored);
  CHECK_CONTAINS(note, "no entry");
  int entries, others;
  count_files(dir, &entries, &others);
  CHECK(entries == 1 && others == 0);
  struct stat st;
  CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
  CHECK(hit_in(dir, note, sizeof note, &stored));
  CHECK(!stored && note[0] == 0);

  /* a hit in the same engine too, and the stats of each */
  kiln_engine *engine = engine_with(true, dir, false);
  kiln_module_stats a, b;
  kiln_module *m1 = make(engine, cache_wasm, sizeof cache_wasm, &a, note, sizeof note);
  kiln_module *m2 = make(engine, cache_wasm, sizeof cache_wasm, &b, note, sizeof note);
  CHECK(a.cache_hit && b.cache_hit && !a.precompiled);
  CHECK(a.compile_seconds > 0 && a.native_code_bytes > 0 && a.native_code_bytes == b.native_code_bytes);
  CHECK(module_works(engine, m1) && module_works(engine, m2));
  kiln_module_free(m1);
  kiln_module_free(m2);
  /* another module is another entry */
  kiln_module_stats o;
  kiln_module *m3 = make(engine, other_wasm, sizeof other_wasm, &o, note, sizeof note);
  CHECK(!o.cache_hit && o.cache_stored);
  kiln_module_free(m3);
  count_files(dir, &entries, &others);
  CHECK(entries == 2 && others == 0);
  kiln_engine_free(engine);

  /* portable code is another entry */
  engine = engine_with(true, dir, true);
  m1 = make(engine, cache_wasm, sizeof cache_wasm, &a, note, sizeof note);
  CHECK(!a.cache_hit && a.cache_stored && module_works(engine, m1));
  kiln_module_free(m1);
  m1 = make(engine, cache_wasm, sizeof cache_wasm, &a, note, sizeof note);
  CHECK(a.cache_hit);
  kiln_module_free(m1);
  kiln_engine_free(engine);
  count_files(dir, &entries, &others);
  CHECK(entries == 3 && others == 0);
}

/* Damage the one entry of a fresh cache with damage(), then check that the module is
 * compiled again with a note holding `reason`, the entry replaced, and the next one a hit. */
static void check_damaged(const char *name, void (*damage)(const char *path, uint8_t *bytes, size_t size),
                          const char *reason) {
  const char *dir = under(name);
  char note[512], path[1024];
  CHECK(!hit_in(dir, note, sizeof note, NULL));
  if (!CHECK(entry_path(dir, path, sizeof path))) return;
  size_t size;
  uint8_t *bytes = read_file(path, &size);
  if (!CHECK(bytes && size > 0)) return;
  damage(path, bytes, size);
  free(bytes);
  bool stored = false;
  CHECK(!hit_in(dir, note, sizeof note, &stored));
  CHECK(stored);
  CHECK_CONTAINS(note, "entry rejected");
  CHECK_CONTAINS(note, reason);
  CHECK(hit_in(dir, note, sizeof note, NULL));
  int entries, others;
  count_files(dir, &entries, &others);
  CHECK(entries == 1 && others == 0);
}

static void truncate_half(const char *path, uint8_t *bytes, size_t size) { write_file(path, bytes, size / 2); }
static void truncate_empty(const char *path, uint8_t *bytes, size_t size) {
  (void)bytes, (void)size;
  write_file(path, "", 0);
}
static void flip_middle(const char *path, uint8_t *bytes, size_t size) {
  bytes[size / 2] ^= 0x40;
  write_file(path, bytes, size);
}
static void flip_last(const char *path, uint8_t *bytes, size_t size) {
  bytes[size - 1] ^= 1;
  write_file(path, bytes, size);
}
static void foreign(const char *path, uint8_t *bytes, size_t size) {
  (void)bytes, (void)size;
  write_file(path, cache_wasm, sizeof cache_wasm);
}
static void other_version(const char *path, uint8_t *bytes, size_t size) {
  bytes[8] = 99;
  write_file(path, bytes, size);
}

/* Rewrite the entry with one field of its key changed and a valid checksum. */
static void rewrite_key(const char *path, uint8_t *bytes, size_t size, void (*change)(artifact_key *key)) {
  artifact a;
  kiln_error err = {0};
  if (!CHECK(artifact_read(bytes, size, &a, &err) == KILN_OK)) return;
  change(&a.key);
  bool native[8];
  for (uint32_t i = 0; i < a.func_count && i < 8; i++) native[i] = artifact_native(&a, i);
  uint8_t *out;
  size_t out_size;
  if (CHECK(artifact_write(&a.key, native, a.func_count, a.wasm, a.wasm_size, a.objects, a.object_count, &out,
                           &out_size, &err) == KILN_OK)) {
    write_file(path, out, out_size);
    free(out);
  }
  artifact_free(&a);
}
static void bump_abi(artifact_key *key) { key->abi_version++; }
static void other_cpu(artifact_key *key) { snprintf(key->target.cpu, sizeof key->target.cpu, "other-cpu"); }
static void other_llvm(artifact_key *key) {
  snprintf(key->target.compiler, sizeof key->target.compiler, "LLVM 18.1.8, build 0000000000000000");
}
static void wrong_abi(const char *path, uint8_t *bytes, size_t size) { rewrite_key(path, bytes, size, bump_abi); }
static void wrong_cpu(const char *path, uint8_t *bytes, size_t size) { rewrite_key(path, bytes, size, other_cpu); }
static void wrong_llvm(const char *path, uint8_t *bytes, size_t size) { rewrite_key(path, bytes, size, other_llvm); }
/* another module's valid entry under this module's name */
static void other_module(const char *path, uint8_t *bytes, size_t size) {
  (void)bytes, (void)size;
  kiln_engine *engine = engine_with(false, NULL, false);
  uint8_t *out = NULL;
  size_t out_size = 0;
  kiln_error err = {0};
  CHECK_STATUS(kiln_engine_precompile(engine, other_wasm, sizeof other_wasm, &out, &out_size, &err), KILN_OK, err);
  write_file(path, out, out_size);
  kiln_bytes_free(out);
  kiln_engine_free(engine);
}

static void test_damaged_entries(void) {
  group("cache: damaged, foreign and mismatched entries are refused, recompiled and replaced");
  check_damaged("truncated", truncate_half, "truncated");
  check_damaged("empty", truncate_empty, "truncated");
  check_damaged("flipped", flip_middle, "checksum mismatch");
  check_damaged("flipped-last", flip_last, "checksum mismatch");
  check_damaged("foreign", foreign, "not a kiln compiled module");
  check_damaged("version", other_version, "format version 99");
  check_damaged("abi", wrong_abi, "made for a different kiln ABI");
  check_damaged("cpu", wrong_cpu, "made for a different CPU 'other-cpu'");
  check_damaged("llvm", wrong_llvm, "made for a different compiler 'LLVM 18.1.8");
  check_damaged("other-module", other_module, "made for a different module");
}

static void test_cache_off_and_unusable(void) {
  group("cache: off, an unwritable directory, a directory others can write");
  const char *dir = under("off");
  kiln_engine *engine = engine_with(false, dir, false);
  kiln_module_stats stats;
  char note[512];
  kiln_module *m = make(engine, cache_wasm, sizeof cache_wasm, &stats, note, sizeof note);
  CHECK(module_works(engine, m));
  CHECK(!stats.cache_hit && !stats.cache_stored && note[0] == 0);
  struct stat st;
  CHECK(stat(dir, &st) != 0); /* nothing created */
  kiln_module_free(m);
  kiln_engine_free(engine);

  /* a path through a regular file: cannot be created (root or not) */
  write_file(under("file"), "x", 1);
  bool stored = true;
  CHECK(!hit_in(under("file/cache"), note, sizeof note, &stored));
  CHECK(!stored);
  CHECK_CONTAINS(note, "cannot create cache directory");
  CHECK(!hit_in(under("file/cache"), note, sizeof note, &stored));
  if (geteuid() != 0) { /* root writes anywhere */
    mkdir(under("readonly"), 0500);
    CHECK(!hit_in(under("readonly"), note, sizeof note, &stored));
    CHECK(!stored);
    CHECK_CONTAINS(note, "Permission denied");
  }
  /* world-writable: not used at all */
  mkdir(under("shared"), 0700);
  chmod(under("shared"), 0777);
  CHECK(!hit_in(under("shared"), note, sizeof note, &stored));
  CHECK(!stored);
  CHECK_CONTAINS(note, "another user can write to it");
  int entries, others;
  count_files(under("shared"), &entries, &others);
  CHECK(entries == 0 && others == 0);
}

/* A file in root/dir with its modification time `age` seconds ago. */
static void make_file_aged(const char *dir, const char *name, time_t age) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  write_file(path, "partial", 7);
  struct timespec times[2] = {{time(NULL) - age, 0}, {time(NULL) - age, 0}};
  utimensat(AT_FDCWD, path, times, 0);
}

static void test_stale_temporaries(void) {
  group("cache: a write removes temporary files that dead writers left over an hour ago");
  const char *dir = under("stale");
  char note[512], path[1024];
  mkdir(dir, 0700);
  const char *old_temp = ".0000000000000000000000000000000000000000000000000000000000000000.cwasm.aB3dE9";
  const char *new_temp = ".1111111111111111111111111111111111111111111111111111111111111111.cwasm.Zz0yY1";
  make_file_aged(dir, old_temp, 7200);
  make_file_aged(dir, new_temp, 60); /* maybe a live writer's: kept */
  make_file_aged(dir, "notes.txt", 7200); /* not kiln's: kept */
  CHECK(!hit_in(dir, note, sizeof note, NULL));
  snprintf(path, sizeof path, "%s/%s", dir, old_temp);
  CHECK(access(path, F_OK) != 0);
  snprintf(path, sizeof path, "%s/%s", dir, new_temp);
  CHECK(access(path, F_OK) == 0);
  snprintf(path, sizeof path, "%s/notes.txt", dir);
  CHECK(access(path, F_OK) == 0);
}

/* Two processes storing the same entry at once, many times: every module they make works,
 * no entry is ever seen half-written, and the entry left behind loads and runs. */
#define RACE_ROUNDS 12
static void test_concurrent_writers(void) {
  group("cache: two processes compiling and storing the same entry at once");
  const char *dir = under("race");
  pid_t pids[2];
  fflush(stdout); /* or the children print it again */
  for (int c = 0; c < 2; c++) {
    pids[c] = fork();
    if (pids[c] == 0) {
      int bad = 0;
      for (int round = 0; round < RACE_ROUNDS; round++) {
        char path[1024];
        if (entry_path(dir, path, sizeof path)) unlink(path); /* so that both keep writing */
        kiln_engine *engine = engine_with(true, dir, false);
        kiln_module *m = NULL;
        kiln_error err = {0};
        kiln_module_stats stats;
        if (kiln_module_new(engine, cache_wasm, sizeof cache_wasm, &m, &err) != KILN_OK) {
          bad++;
        } else {
          kiln_module_get_stats(m, &stats);
          if (strstr(stats.cache_note, "rejected") || strstr(stats.cache_note, "cannot") || !module_works(engine, m)) {
            printf("     child %d, round %d: %s\n", c, round, stats.cache_note);
            bad++;
          }
        }
        kiln_module_free(m);
        kiln_engine_free(engine);
      }
      fflush(stdout);
      _exit(bad ? 1 : 0);
    }
  }
  for (int c = 0; c < 2; c++) {
    int status = 0;
    CHECK(pids[c] > 0 && waitpid(pids[c], &status, 0) == pids[c]);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  char note[512];
  CHECK(hit_in(dir, note, sizeof note, NULL));
  int entries, others;
  count_files(dir, &entries, &others);
  CHECK(entries == 1 && others == 0);
}

static void test_precompiled(void) {
  group("precompiled modules: made, loaded in any tier, refused when damaged or made for another CPU");
  kiln_engine *engine = engine_with(false, NULL, false);
  uint8_t *bytes = NULL;
  size_t size = 0;
  kiln_error err = {0};
  CHECK_STATUS(kiln_engine_precompile(engine, cache_wasm, sizeof cache_wasm, &bytes, &size, &err), KILN_OK, err);
  kiln_engine_free(engine);
  if (!bytes) return;

  /* an interpreter engine with a compiler loads the native code */
  kiln_config c;
  kiln_config_init(&c);
  c.compiler = kiln_llvm_compiler();
  engine = kiln_engine_new(&c);
  kiln_module_stats stats;
  char note[512];
  kiln_module *m = make(engine, bytes, size, &stats, note, sizeof note);
  CHECK(stats.precompiled && !stats.cache_hit && stats.tier == KILN_TIER_COMPILED && stats.native_functions == 4);
  CHECK(module_works(engine, m));
  kiln_module_free(m);
  /* a precompiled module is not precompiled again */
  uint8_t *again = NULL;
  size_t again_size;
  CHECK_STATUS(kiln_engine_precompile(engine, bytes, size, &again, &again_size, &err), KILN_ERR_ARGUMENT, err);
  CHECK(again == NULL);

  /* damaged */
  m = NULL;
  CHECK_STATUS(kiln_module_new(engine, bytes, size - 10, &m, &err), KILN_ERR_MALFORMED, err);
  CHECK_CONTAINS(err.message, "precompiled module: truncated");
  bytes[size / 3] ^= 4;
  CHECK_STATUS(kiln_module_new(engine, bytes, size, &m, &err), KILN_ERR_MALFORMED, err);
  CHECK_CONTAINS(err.message, "checksum mismatch");
  bytes[size / 3] ^= 4;
  /* made for another CPU, or another kiln ABI */
  char path[1024];
  snprintf(path, sizeof path, "%s", under("app.cwasm"));
  write_file(path, bytes, size);
  size_t n;
  uint8_t *changed;
  wrong_cpu(path, bytes, size);
  changed = read_file(path, &n);
  CHECK_STATUS(kiln_module_new(engine, changed, n, &m, &err), KILN_ERR_INCOMPATIBLE, err);
  CHECK_CONTAINS(err.message, "compiled for a different CPU 'other-cpu' (this machine: '");
  free(changed);
  wrong_abi(path, bytes, size);
  changed = read_file(path, &n);
  CHECK_STATUS(kiln_module_new(engine, changed, n, &m, &err), KILN_ERR_INCOMPATIBLE, err);
  CHECK_CONTAINS(err.message, "compiled for a different kiln ABI");
  free(changed);
  CHECK(m == NULL);
  kiln_engine_free(engine);

  /* without a compiler, a precompiled module cannot be checked against this machine */
  engine = kiln_engine_new(NULL);
  CHECK_STATUS(kiln_module_new(engine, bytes, size, &m, &err), KILN_ERR_ARGUMENT, err);
  CHECK_CONTAINS(err.message, "needs a compiler");
  kiln_engine_free(engine);
  kiln_bytes_free(bytes);

  /* portable code loads on an engine that is not portable, and the cache serves precompile */
  engine = engine_with(true, under("precompile-cache"), true);
  CHECK_STATUS(kiln_engine_precompile(engine, cache_wasm, sizeof cache_wasm, &bytes, &size, &err), KILN_OK, err);
  kiln_bytes_free(bytes);
  bytes = NULL;
  CHECK_STATUS(kiln_engine_precompile(engine, cache_wasm, sizeof cache_wasm, &bytes, &size, &err), KILN_OK, err);
  kiln_engine_free(engine);
  engine = engine_with(false, NULL, false);
  m = bytes ? make(engine, bytes, size, &stats, note, sizeof note) : NULL;
  CHECK(stats.precompiled && module_works(engine, m));
  int entries, others;
  count_files(under("precompile-cache"), &entries, &others);
  CHECK(entries == 1 && others == 0);
  kiln_module_free(m);
  kiln_engine_free(engine);
  kiln_bytes_free(bytes);
}

static void remove_tree(const char *path) {
  char command[600];
  snprintf(command, sizeof command, "rm -rf '%s'", path);
  if (system(command) != 0) printf("could not remove %s\n", path);
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(root, sizeof root, "%s/kiln-cache-test-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (!mkdtemp(root)) {
    perror("mkdtemp");
    return 1;
  }
  test_hit_and_miss();
  test_damaged_entries();
  test_cache_off_and_unusable();
  test_stale_temporaries();
  test_concurrent_writers();
  test_precompiled();
  remove_tree(root);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
