/* fuzz_decode.c - libFuzzer target: kiln_module_new only (decode, validate, compile). Cheaper
 * than fuzz_module, so it explores the parsers faster. See fuzz_common.h. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static kiln_engine *engine;
  if (!engine) engine = fuzz_engine_new();
  if (!engine) return 0;
  fuzz_outcome o;
  fuzz_run(engine, data, size, false, &o);
  return 0;
}
