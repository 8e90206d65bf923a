/* difftest.c - runs .wasm files in the interpreter and in the compiled tier and reports where
 * they disagree (fuzz/diff_common.h): the standalone form of fuzz/fuzz_diff.c, for turning
 * the fuzzer's finds into regression tests and for runs over generated modules.
 * DIFF_STRICT_NAN=1 compares NaNs bit for bit, DIFF_TIER=auto runs the auto tier against the
 * interpreter (see fuzz/diff_common.h).
 *
 *   difftest [-q] FILE.wasm|DIR...   (a directory: every *.wasm in it)
 *
 * Prints one line per file: "same", "skipped", "inconclusive" or "MISMATCH", with the
 * details; -q prints only mismatches and the summary. Exits 1 if any file mismatched, 2 on a
 * usage or I/O error, else 0. */
#include <dirent.h>
#include <sys/stat.h>

#include "../../fuzz/diff_common.h"

static bool quiet;
static unsigned long counts[4], io_errors;

static uint8_t *read_whole(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? cap * 2 : 65536;
      uint8_t *b = realloc(buf, cap);
      if (!b) break;
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

static void run_file(diff_engines *e, const char *path) {
  size_t size = 0;
  uint8_t *bytes = read_whole(path, &size);
  if (!bytes) {
    fprintf(stderr, "difftest: cannot read %s\n", path);
    io_errors++;
    return;
  }
  diff_result r;
  diff_module(e, bytes, size, &r);
  free(bytes);
  counts[r.verdict]++;
  if (!quiet || r.verdict == DIFF_MISMATCH)
    printf("%s: %s (%u calls, %u NaN differences let through)%s%s\n", path, diff_verdict_string(r.verdict),
           r.calls, r.nans, r.what[0] ? ": " : "", r.what);
  fflush(stdout);
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void run_dir(diff_engines *e, const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "difftest: cannot open %s\n", dir);
    io_errors++;
    return;
  }
  char **names = NULL;
  size_t count = 0, cap = 0;
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    size_t len = strlen(ent->d_name);
    if (len < 5 || strcmp(ent->d_name + len - 5, ".wasm") != 0) continue;
    if (count == cap) {
      cap = cap ? cap * 2 : 64;
      char **n = realloc(names, cap * sizeof *n);
      if (!n) break;
      names = n;
    }
    names[count] = malloc(strlen(dir) + len + 2);
    if (!names[count]) break;
    sprintf(names[count], "%s/%s", dir, ent->d_name);
    count++;
  }
  closedir(d);
  if (count) qsort(names, count, sizeof *names, compare_names);
  for (size_t i = 0; i < count; i++) {
    run_file(e, names[i]);
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv) {
  int first = 1;
  if (argc > 1 && strcmp(argv[1], "-q") == 0) {
    quiet = true;
    first = 2;
  }
  if (first >= argc) {
    fprintf(stderr, "usage: difftest [-q] FILE.wasm|DIR...\n");
    return 2;
  }
  diff_engines e;
  if (!diff_engines_init(&e)) {
    fprintf(stderr, "difftest: cannot create the engines\n");
    return 2;
  }
  for (int i = first; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) run_dir(&e, argv[i]);
    else run_file(&e, argv[i]);
  }
  diff_engines_free(&e);
  printf("difftest: %lu same, %lu skipped, %lu inconclusive, %lu mismatched\n", counts[DIFF_SAME],
         counts[DIFF_SKIPPED], counts[DIFF_INCONCLUSIVE], counts[DIFF_MISMATCH]);
  return counts[DIFF_MISMATCH] ? 1 : io_errors ? 2 : 0;
}
