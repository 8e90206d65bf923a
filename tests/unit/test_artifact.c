/* test_artifact.c - the pieces of the compiled-code cache that need no compiler: SHA-256
 * (FIPS 180-4 test vectors) and the file format of compiled modules (runtime/artifact.h):
 * a round trip, and every truncation, every flipped byte, a foreign file, another format
 * version, a hostile layout and each kind of key mismatch refused with its reason. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "check.h"
#include "runtime/artifact.h"

static void check_digest(const char *text, size_t repeat, size_t step, const char *want) {
  sha256_state s;
  uint8_t digest[SHA256_BYTES];
  char hex[2 * SHA256_BYTES + 1];
  size_t n = strlen(text);
  sha256_init(&s);
  for (size_t i = 0; i < repeat; i++)
    for (size_t at = 0; at < n; at += step) sha256_update(&s, text + at, at + step <= n ? step : n - at);
  sha256_final(&s, digest);
  sha256_hex(digest, hex);
  if (!CHECK(strcmp(hex, want) == 0)) printf("     sha256 of %zu x \"%.20s\": %s\n", repeat, text, hex);
}

static void check_vectors(void) {
  check_digest("", 1, 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  check_digest("abc", 1, 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  check_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, 7,
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  check_digest("a", 1000000, 1, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  check_digest("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
               10000, 13, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  uint8_t one[SHA256_BYTES];
  sha256("abc", 3, one);
  CHECK(one[0] == 0xba && one[31] == 0xad);
}

static void test_sha256(void) {
  group("SHA-256 test vectors");
  check_vectors();
  if (!sha256_accelerated()) {
    printf("     (this CPU has no SHA instructions: the portable code only)\n");
    return;
  }
  group("SHA-256 test vectors, portable code on a CPU with SHA instructions");
  sha256_use_portable(true);
  CHECK(!sha256_accelerated());
  check_vectors();
  /* both ways agree on every length around the block size and on large inputs */
  group("SHA-256: SHA instructions and portable code agree");
  static uint8_t data[70000];
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
  size_t sizes[] = {0, 1, 55, 56, 63, 64, 65, 119, 127, 128, 129, 1000, 4096, 65537, sizeof data};
  bool same = true;
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    uint8_t a[SHA256_BYTES], b[SHA256_BYTES];
    sha256_use_portable(true);
    sha256(data, sizes[i], a);
    sha256_use_portable(false);
    sha256(data, sizes[i], b);
    if (memcmp(a, b, sizeof a) != 0) {
      printf("     differ at %zu bytes\n", sizes[i]);
      same = false;
    }
  }
  CHECK(same);
  sha256_use_portable(false);
  CHECK(sha256_accelerated());
}

/* (module (func (export "answer") (result i32) (i32.const 42))) */
static const uint8_t answer_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03,
    0x02, 0x01, 0x00, 0x07, 0x0a, 0x01, 0x06, 0x61, 0x6e, 0x73, 0x77, 0x65, 0x72, 0x00, 0x00, 0x0a,
    0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b,
};

static artifact_key sample_key(void) {
  artifact_key key;
  memset(&key, 0, sizeof key);
  sha256(answer_wasm, sizeof answer_wasm, key.module_hash);
  key.abi_version = 7;
  key.abi_hash = 0x1122334455667788ull;
  snprintf(key.target.compiler, sizeof key.target.compiler, "LLVM 19.1.7, build 0123456789abcdef");
  snprintf(key.target.triple, sizeof key.target.triple, "x86_64-pc-linux-gnu");
  snprintf(key.target.cpu, sizeof key.target.cpu, "znver3");
  snprintf(key.target.features, sizeof key.target.features, "+avx2,+bmi,-avx512f");
  snprintf(key.target.options, sizeof key.target.options, "O2 bounds-checks");
  return key;
}

static const uint8_t object_a[] = "first object";
static const uint8_t object_b[] = "the second, longer object";

static uint8_t *sample_artifact(const artifact_key *key, size_t *size) {
  bool native[3] = {true, false, true};
  artifact_object objects[2] = {{object_a, sizeof object_a}, {object_b, sizeof object_b}};
  uint8_t *bytes = NULL;
  kiln_error err = {0};
  CHECK_STATUS(artifact_write(key, native, 3, answer_wasm, sizeof answer_wasm, objects, 2, &bytes, size, &err),
               KILN_OK, err);
  return bytes;
}

/* artifact_read of bytes fails with a message holding part. */
static void check_rejected(const uint8_t *bytes, size_t size, const char *part) {
  artifact a;
  kiln_error err = {0};
  CHECK_STATUS(artifact_read(bytes, size, &a, &err), KILN_ERR_MALFORMED, err);
  CHECK_CONTAINS(err.message, part);
}

static void test_round_trip(void) {
  group("artifact: write and read back");
  artifact_key key = sample_key();
  size_t size;
  uint8_t *bytes = sample_artifact(&key, &size);
  if (!bytes) return;
  CHECK(artifact_is(bytes, size));
  CHECK(!artifact_is(answer_wasm, sizeof answer_wasm));
  artifact a;
  kiln_error err = {0};
  CHECK_STATUS(artifact_read(bytes, size, &a, &err), KILN_OK, err);
  char what[256];
  CHECK(!artifact_key_differs(&a.key, &key, what, sizeof what));
  CHECK(a.func_count == 3 && artifact_native(&a, 0) && !artifact_native(&a, 1) && artifact_native(&a, 2));
  CHECK(a.wasm_size == sizeof answer_wasm && memcmp(a.wasm, answer_wasm, sizeof answer_wasm) == 0);
  CHECK(a.object_count == 2);
  if (a.object_count == 2) {
    CHECK(a.objects[0].size == sizeof object_a && memcmp(a.objects[0].bytes, object_a, sizeof object_a) == 0);
    CHECK(a.objects[1].size == sizeof object_b && memcmp(a.objects[1].bytes, object_b, sizeof object_b) == 0);
  }
  artifact_free(&a);

  char name[2 * SHA256_BYTES + 1], other[2 * SHA256_BYTES + 1];
  artifact_key_name(&key, name);
  CHECK(strlen(name) == 64);
  artifact_key changed = key;
  changed.portable = true;
  artifact_key_name(&changed, other);
  CHECK(strcmp(name, other) != 0);
  changed = key;
  changed.target.features[1] = 'A';
  artifact_key_name(&changed, other);
  CHECK(strcmp(name, other) != 0);
  free(bytes);
}

static void test_damage(void) {
  group("artifact: truncated, flipped, foreign, other version, hostile layout");
  artifact_key key = sample_key();
  size_t size;
  uint8_t *bytes = sample_artifact(&key, &size);
  if (!bytes) return;
  uint8_t *copy = malloc(size);
  int truncations_caught = 0, flips_caught = 0;
  for (size_t n = 0; n < size; n++) {
    artifact a;
    kiln_error err = {0};
    memcpy(copy, bytes, n);
    if (artifact_read(copy, n, &a, &err) == KILN_ERR_MALFORMED && strstr(err.message, "truncated")) truncations_caught++;
    else printf("     truncated to %zu bytes: %s\n", n, err.message);
  }
  CHECK(truncations_caught == (int)size);
  for (size_t i = 0; i < size; i++) {
    artifact a;
    kiln_error err = {0};
    memcpy(copy, bytes, size);
    copy[i] ^= 0x10;
    if (artifact_read(copy, size, &a, &err) == KILN_ERR_MALFORMED) flips_caught++;
    else printf("     byte %zu flipped: accepted\n", i);
  }
  CHECK(flips_caught == (int)size);
  memcpy(copy, bytes, size);
  copy[size / 2] ^= 1;
  check_rejected(copy, size, "checksum mismatch");
  check_rejected(answer_wasm, sizeof answer_wasm, "not a kiln compiled module");
  check_rejected((const uint8_t *)"#!/bin/sh\necho hello\n", 21, "not a kiln compiled module");
  memcpy(copy, bytes, size);
  copy[8] = 2;
  check_rejected(copy, size, "format version 2");
  /* a trailing byte */
  uint8_t *longer = malloc(size + 1);
  memcpy(longer, bytes, size);
  longer[size] = 0;
  check_rejected(longer, size + 1, "trailing bytes");
  free(longer);
  /* a valid checksum over a hostile layout: a function count that runs past the end */
  memcpy(copy, bytes, size);
  size_t count_at = ARTIFACT_HEADER_SIZE + SHA256_BYTES + 4 + 8;
  for (int i = 0; i < 5; i++) count_at += 4 + (copy[count_at] | copy[count_at + 1] << 8);
  memset(copy + count_at, 0xff, 4);
  sha256_state s;
  sha256_init(&s);
  sha256_update(&s, copy, ARTIFACT_HEADER_SIZE - SHA256_BYTES);
  sha256_update(&s, copy + ARTIFACT_HEADER_SIZE, size - ARTIFACT_HEADER_SIZE);
  sha256_final(&s, copy + ARTIFACT_HEADER_SIZE - SHA256_BYTES);
  check_rejected(copy, size, "bad layout");
  free(copy);
  free(bytes);
}

/* have differs from want, and the description holds part. */
static void check_differs(const artifact_key *have, const artifact_key *want, const char *part) {
  char what[512];
  CHECK(artifact_key_differs(have, want, what, sizeof what));
  CHECK_CONTAINS(what, part);
}

static void test_key_differences(void) {
  group("artifact: a key of another machine, compiler or kiln says what differs");
  const artifact_key want = sample_key();
  artifact_key have = want;
  have.abi_version = 8;
  check_differs(&have, &want, "kiln ABI");
  have = want;
  have.abi_hash++;
  check_differs(&have, &want, "kiln ABI");
  /* each text field of the target in turn */
  static const struct {
    size_t offset, size;
    const char *value, *part;
  } fields[] = {
      {offsetof(compiler_target, compiler), sizeof want.target.compiler, "LLVM 18.1.8, build 0123456789abcdef",
       "compiler 'LLVM 18.1.8"},
      {offsetof(compiler_target, cpu), sizeof want.target.cpu, "skylake", "CPU 'skylake' (this machine: 'znver3')"},
      {offsetof(compiler_target, features), sizeof want.target.features, "+avx2,+bmi,+avx512f",
       "CPU features (+avx512f"},
      {offsetof(compiler_target, triple), sizeof want.target.triple, "aarch64-unknown-linux-gnu", "target 'aarch64"},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    have = want;
    snprintf((char *)&have.target + fields[i].offset, fields[i].size, "%s", fields[i].value);
    check_differs(&have, &want, fields[i].part);
  }
  have = want;
  have.portable = true;
  check_differs(&have, &want, "code generation options");
  have = want;
  have.module_hash[0] ^= 1;
  check_differs(&have, &want, "module");
}

int main(void) {
  test_sha256();
  test_round_trip();
  test_damage();
  test_key_differences();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
