/* fuzz_module.c - libFuzzer target: decode, validate and compile an input as a module; if
 * that succeeds, instantiate it (every import provided) and call every exported function
 * with zero arguments under a fuel budget. See fuzz_common.h. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static kiln_engine *engine;
  if (!engine) engine = fuzz_engine_new();
  if (!engine) return 0;
  fuzz_outcome o;
  fuzz_run(engine, data, size, true, &o);
  return 0;
}
