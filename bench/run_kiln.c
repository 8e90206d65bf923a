/*
 * run_kiln.c - the kiln runner of `make bench`: run one exported function of a .wasm file
 * with kiln and time it. Uses only the public API (kiln.h).
 *
 *   run_kiln [--func NAME] FILE.wasm N
 *
 * Loads FILE.wasm (decode, validate, compile), instantiates it without imports, calls the
 * reactor initialiser `_initialize` if the module exports one, then calls NAME (default
 * "run"), of type (i32) -> i32, with N and prints the line every bench runner prints:
 *
 *   checksum=<u32> seconds=<call time> compile_seconds=<kiln_module_new time>
 *
 * Only the kiln_func_call of NAME is in `seconds` (CLOCK_MONOTONIC). Errors go to stderr
 * with exit status 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kiln.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fail(const char *what, const kiln_error *err) {
  fprintf(stderr, "run_kiln: %s: %s: %s", what, kiln_status_string(err->status), err->message);
  if (err->status == KILN_ERR_TRAP) fprintf(stderr, " (%s)", kiln_trap_string(err->trap));
  fputc('\n', stderr);
  return 1;
}

static uint8_t *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  uint8_t *data = NULL;
  long length;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (length = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    data = malloc(length > 0 ? (size_t)length : 1);
    if (data && fread(data, 1, (size_t)length, f) != (size_t)length) {
      free(data);
      data = NULL;
    }
    *size = (size_t)length;
  }
  fclose(f);
  return data;
}

int main(int argc, char **argv) {
  const char *func_name = "run", *path = NULL, *n_text = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--func") == 0 && i + 1 < argc) func_name = argv[++i];
    else if (!path) path = argv[i];
    else if (!n_text) n_text = argv[i];
    else path = NULL, i = argc; /* too many arguments */
  }
  if (!path || !n_text) {
    fprintf(stderr, "usage: run_kiln [--func NAME] FILE.wasm N\n");
    return 2;
  }
  char *end;
  errno = 0;
  unsigned long n = strtoul(n_text, &end, 0);
  if (errno || *end || n > UINT32_MAX) {
    fprintf(stderr, "run_kiln: bad N '%s'\n", n_text);
    return 2;
  }

  size_t size = 0;
  uint8_t *bytes = read_file(path, &size);
  if (!bytes) {
    fprintf(stderr, "run_kiln: cannot read %s: %s\n", path, strerror(errno));
    return 1;
  }

  kiln_error err = {0};
  kiln_engine *engine = kiln_engine_new(NULL);
  kiln_store *store = engine ? kiln_store_new(engine) : NULL;
  kiln_module *module = NULL;
  kiln_instance *instance = NULL;
  kiln_extern init, func;
  if (!store) {
    fprintf(stderr, "run_kiln: out of memory\n");
    return 1;
  }

  double t0 = now();
  if (kiln_module_new(engine, bytes, size, &module, &err) != KILN_OK) return fail(path, &err);
  double compile_seconds = now() - t0;
  free(bytes);
  if (kiln_instantiate(store, module, NULL, 0, &instance, &err) != KILN_OK)
    return fail("instantiate", &err);
  if (kiln_instance_export(instance, "_initialize", &init) == KILN_OK &&
      init.kind == KILN_EXTERN_FUNC &&
      kiln_func_call(store, init.of.func, NULL, 0, NULL, 0, &err) != KILN_OK)
    return fail("_initialize", &err);
  if (kiln_instance_export(instance, func_name, &func) != KILN_OK || func.kind != KILN_EXTERN_FUNC) {
    fprintf(stderr, "run_kiln: %s exports no function '%s'\n", path, func_name);
    return 1;
  }
  kiln_functype type = kiln_func_type(func.of.func);
  if (type.param_count != 1 || type.params[0] != KILN_I32 || type.result_count != 1 ||
      type.results[0] != KILN_I32) {
    fprintf(stderr, "run_kiln: '%s' is not of type (i32) -> i32\n", func_name);
    return 1;
  }

  kiln_val arg = kiln_val_i32((int32_t)(uint32_t)n), result;
  double t1 = now();
  kiln_status status = kiln_func_call(store, func.of.func, &arg, 1, &result, 1, &err);
  double t2 = now();
  if (status != KILN_OK) return fail(func_name, &err);
  printf("checksum=%u seconds=%.6f compile_seconds=%.6f\n", (unsigned)(uint32_t)result.of.i32,
         t2 - t1, compile_seconds);

  kiln_store_free(store);
  kiln_module_free(module);
  kiln_engine_free(engine);
  return 0;
}
