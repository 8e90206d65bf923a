/* fuzz_codeload.c - libFuzzer target: codeload_image_load on arbitrary bytes, then the accessors. */
#include "native/codeload.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Never called: the fuzzer only loads; the addresses just have to be distinct. */
static void stub(void) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const codeload_symbol imports[] = {
      {"memcpy", (void *)memcpy}, {"memset", (void *)memset}, {"floor", (void *)stub},
      {"sqrt", (void *)stub},     {"fmod", (void *)stub},     {"memmove", (void *)memmove},
  };
  codeload_image *img;
  char err[256];
  if (codeload_image_load(data, size, imports, sizeof imports / sizeof imports[0], &img, err,
                          sizeof err) != 0) {
    if (!memchr(err, 0, sizeof err) || !err[0]) __builtin_trap(); /* errors must have a message */
    return 0;
  }
  const void *start, *end;
  codeload_image_code_range(img, &start, &end);
  for (size_t i = 0; i < codeload_image_function_count(img); i++) {
    const codeload_function *f = codeload_image_function(img, i);
    (void)codeload_image_symbol(img, f->name);
    (void)codeload_image_function_at(img, f->addr);
    if (f->size && !codeload_image_has_pc(img, f->addr)) __builtin_trap();
  }
  (void)codeload_image_symbol(img, "add");
  codeload_image_free(img);
  return 0;
}
