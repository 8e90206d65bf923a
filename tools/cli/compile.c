/* compile.c - `kiln compile`: compile a module to native code ahead of time and write it as a
 * precompiled module (.cwasm) that `kiln run` (and kiln_module_new) loads without compiling. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* app.wasm -> app.cwasm; anything else gets .cwasm appended. */
static char *default_output(const char *input) {
  size_t n = strlen(input);
  if (n > 5 && strcmp(input + n - 5, ".wasm") == 0) n -= 5;
  char *out = malloc(n + sizeof ".cwasm");
  if (out) {
    memcpy(out, input, n);
    memcpy(out + n, ".cwasm", sizeof ".cwasm");
  }
  return out;
}

static bool write_output(const char *path, const uint8_t *bytes, size_t size) {
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite(bytes, 1, size, f) == size;
  int saved = errno;
  if (f && fclose(f) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (!ok) cli_error("cannot write '%s': %s", path, strerror(saved));
  return ok;
}

int cli_compile(const char *label, int argc, char **argv) {
  static const struct option options[] = {
      {"output", required_argument, NULL, 'o'},
      {"portable", no_argument, NULL, 'p'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *output = NULL;
  bool portable = false;
  int c;
  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":ho:", options, NULL)) != -1) { /* options may follow the module */
    switch (c) {
      case 'h':
        cli_help(stdout, "compile");
        return 0;
      case 'o':
        output = optarg;
        break;
      case 'p':
        portable = true;
        break;
      case ':':
        return cli_usage_error(label, "option '%s' needs a value (see 'kiln help compile')", argv[optind - 1]);
      default:
        return cli_usage_error(label, "unknown option '%s' (see 'kiln help compile')", argv[optind - 1]);
    }
  }
  if (optind != argc - 1)
    return cli_usage_error(label, "%s (usage: kiln compile [-o app.cwasm] app.wasm)",
                           optind == argc ? "missing module path" : "give one module");
  const char *input = argv[optind];
  char *own_output = output ? NULL : default_output(input);
  if (!output) output = own_output;
  int status = output ? cli_precompile(input, output, portable) : CLI_EXIT_ERROR;
  if (!output) cli_error("out of memory");
  free(own_output);
  return status;
}

int cli_precompile(const char *input, const char *output, bool portable) {
#ifndef KILN_HAVE_LLVM
  (void)portable, (void)output, (void)input, (void)write_output;
  cli_error("compile: this kiln was built without the compiled tier (it needs LLVM 19: apt-get install "
            "llvm-19-dev, then rebuild)");
  return CLI_EXIT_ERROR;
#else
  cli_file file;
  if (!cli_file_read(input, &file)) return CLI_EXIT_ERROR;
  kiln_config config;
  kiln_config_init(&config);
  config.tier = KILN_TIER_COMPILED;
  config.compiler = kiln_llvm_compiler();
  config.portable = portable;
  kiln_engine *engine = kiln_engine_new(&config);
  uint8_t *bytes = NULL;
  size_t size = 0;
  kiln_error err;
  int status = CLI_EXIT_ERROR;
  if (!engine)
    cli_error("out of memory");
  else if (kiln_engine_precompile(engine, file.bytes, file.size, &bytes, &size, &err) != KILN_OK)
    cli_error("%s: %s: %s", input, kiln_status_string(err.status), err.message);
  else if (write_output(output, bytes, size))
    status = 0;
  kiln_bytes_free(bytes);
  kiln_engine_free(engine);
  cli_file_free(&file);
  return status;
#endif
}
