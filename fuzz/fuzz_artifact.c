/* fuzz_artifact.c - libFuzzer target: artifact_read (runtime/artifact.h, the format of .cwasm
 * files and cache entries) on arbitrary bytes. Inputs of at least a header's size get a right
 * magic, version, size and checksum first, so that the fuzzer reaches the layout behind them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/artifact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *bytes = malloc(size ? size : 1);
  if (!bytes) return 0;
  memcpy(bytes, data, size);
  if (size >= ARTIFACT_HEADER_SIZE && (data[0] & 1)) { /* half the inputs keep their header */
    uint32_t version = ARTIFACT_VERSION;
    uint64_t total = size;
    memcpy(bytes, ARTIFACT_MAGIC, ARTIFACT_MAGIC_SIZE);
    for (int i = 0; i < 4; i++) bytes[8 + i] = (uint8_t)(version >> (8 * i));
    for (int i = 0; i < 8; i++) bytes[16 + i] = (uint8_t)(total >> (8 * i));
    sha256_state s;
    sha256_init(&s);
    sha256_update(&s, bytes, ARTIFACT_HEADER_SIZE - SHA256_BYTES);
    sha256_update(&s, bytes + ARTIFACT_HEADER_SIZE, size - ARTIFACT_HEADER_SIZE);
    sha256_final(&s, bytes + ARTIFACT_HEADER_SIZE - SHA256_BYTES);
  }
  artifact a;
  kiln_error err = {0};
  if (artifact_read(bytes, size, &a, &err) == KILN_OK) {
    const uint8_t *end = bytes + size;
    if (a.wasm + a.wasm_size > end || a.native_bits > end) __builtin_trap();
    for (uint32_t i = 0; i < a.object_count; i++)
      if (a.objects[i].bytes < bytes || a.objects[i].bytes + a.objects[i].size > end) __builtin_trap();
    for (uint32_t i = 0; i < a.func_count; i++) (void)artifact_native(&a, i);
    char what[256];
    if (artifact_key_differs(&a.key, &a.key, what, sizeof what)) __builtin_trap();
    artifact_free(&a);
  } else if (!err.message[0]) {
    __builtin_trap(); /* errors must have a message */
  }
  free(bytes);
  return 0;
}
