/* fuzz_cli.c - the kiln command's own parsers: `kiln inspect` and `kiln validate`, which read
 * section headers, types and custom sections themselves, on arbitrary module bytes, and the
 * --invoke value syntax (cli_parse_value) on arbitrary text for every value type. The CLI's
 * main() is compiled in under another name so the whole command runs as it would. */
#define main kiln_cli_main
#include "../tools/cli/main.c"
#undef main

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static char module_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!module_path[0]) {
    /* What the command prints goes to /dev/null; libFuzzer and the sanitizers keep the
     * real descriptors (they do not use these FILE objects). */
    FILE *null_out = fopen("/dev/null", "w");
    if (!null_out) abort();
    stdout = null_out;
    stderr = null_out;
    snprintf(module_path, sizeof module_path, "/tmp/kiln-fuzz-cli-%d.wasm", (int)getpid());
  }
  int fd = open(module_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write(fd, data, size) != (ssize_t)size) abort();
  close(fd);
  char *inspect[] = {"kiln", "inspect", module_path, NULL};
  kiln_cli_main(3, inspect);
  char *validate[] = {"kiln", "validate", module_path, NULL};
  kiln_cli_main(3, validate);

  char text[256];
  size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
  memcpy(text, data, n);
  text[n] = 0;
  static const kiln_valtype types[] = {KILN_I32, KILN_I64, KILN_F32, KILN_F64, KILN_V128,
                                       KILN_FUNCREF, KILN_EXTERNREF};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    kiln_val v;
    if (cli_parse_value(text, types[i], &v)) {
      FILE *out = fopen("/dev/null", "w");
      if (out) {
        cli_print_value(out, &v);
        fclose(out);
      }
    }
  }
  return 0;
}
