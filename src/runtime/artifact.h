/* artifact.h - the file format of a compiled module. A precompiled artifact (`kiln compile`,
 * .cwasm) and an entry of the compiled-code cache are the same bytes: the wasm module itself,
 * the relocatable objects of its native code, which functions have native code, and a header
 * naming everything the code depends on, so that a file made for another CPU, compiler or
 * kiln is refused with the reason rather than run.
 *
 * Layout (integers little-endian, strings as a u32 length and the bytes, no NUL):
 *   offset  size
 *   0       8     magic "\0kiln-cw" (ARTIFACT_MAGIC)
 *   8       4     format version (ARTIFACT_VERSION)
 *   12      4     flags: bit 0, the code is portable (the target's baseline CPU)
 *   16      8     the size of the whole file
 *   24      32    SHA-256 of the file without this field (bytes [0, 24) then [56, size))
 *   56            the key: 32 bytes, the SHA-256 of the wasm module; u32 NATIVE_ABI_VERSION;
 *                 u64 native_abi_hash(); strings compiler, triple, cpu, features, options
 *                 (compiler_target)
 *                 the payload: u32 defined functions N, then (N + 7) / 8 bytes with bit i set
 *                 when function i has native code; u64 wasm size and the wasm bytes; u32
 *                 object count, then per object a u64 size and its bytes (an ELF relocatable
 *                 object for native/codeload.c, loaded in order)
 */
#ifndef KILN_ARTIFACT_H
#define KILN_ARTIFACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sha256.h"
#include "runtime/runtime.h"

#define ARTIFACT_MAGIC "\0kiln-cw"
#define ARTIFACT_MAGIC_SIZE 8
#define ARTIFACT_VERSION 1u
#define ARTIFACT_HEADER_SIZE 56u /* the fixed part: magic to checksum */
#define ARTIFACT_FLAG_PORTABLE 1u

/* What compiled code depends on: equal keys mean interchangeable code. */
typedef struct artifact_key {
  uint8_t module_hash[SHA256_BYTES]; /* SHA-256 of the wasm bytes */
  uint32_t abi_version;              /* NATIVE_ABI_VERSION */
  uint64_t abi_hash;                 /* native_abi_hash() */
  bool portable;
  compiler_target target;            /* from kiln_compiler.describe */
} artifact_key;

typedef struct artifact_object {
  const uint8_t *bytes;
  size_t size;
} artifact_object;

/* A parsed artifact. The pointers point into the bytes given to artifact_read, except
 * objects, which artifact_free frees. */
typedef struct artifact {
  artifact_key key;
  uint32_t func_count;               /* defined functions */
  const uint8_t *native_bits;        /* (func_count + 7) / 8 bytes */
  const uint8_t *wasm;
  size_t wasm_size;
  uint32_t object_count;
  artifact_object *objects;
} artifact;

/* Whether bytes start with ARTIFACT_MAGIC. */
bool artifact_is(const uint8_t *bytes, size_t size);

/* The key of wasm[0..size) as engine's compiler would compile it (portable: its baseline CPU).
 * wasm NULL: the module hash is left zero for the caller to fill in (a precompiled module,
 * whose checksum covers its wasm and the hash together, need not hash its wasm again).
 * Fails when there is no compiler or it cannot describe its target. */
kiln_status artifact_key_make(const kiln_engine *engine, bool portable, const uint8_t *wasm, size_t size,
                              artifact_key *key, kiln_error *err);
/* The SHA-256 of every field of key as 64 hex digits: the name of its cache entry. */
void artifact_key_name(const artifact_key *key, char name[2 * SHA256_BYTES + 1]);
/* If have and want differ, describe the first difference ("CPU 'skylake' (this machine:
 * 'znver3')") into what and return true; the order is: module, kiln ABI, compiler, target,
 * CPU, CPU features, options. */
bool artifact_key_differs(const artifact_key *have, const artifact_key *want, char *what, size_t size);

/* Lay out an artifact (malloc'd into *out). native[i]: defined function i has native code. */
kiln_status artifact_write(const artifact_key *key, const bool *native, uint32_t func_count, const uint8_t *wasm,
                           size_t wasm_size, const artifact_object *objects, uint32_t object_count, uint8_t **out,
                           size_t *out_size, kiln_error *err);
/* Parse and check bytes (which may be hostile). KILN_ERR_MALFORMED says what is wrong:
 * truncated, not a kiln artifact, another format version, checksum mismatch, bad layout. */
kiln_status artifact_read(const uint8_t *bytes, size_t size, artifact *out, kiln_error *err);
void artifact_free(artifact *a);
/* Whether defined function i has native code in a. */
static inline bool artifact_native(const artifact *a, uint32_t i) { return (a->native_bits[i / 8] >> (i % 8)) & 1; }

#endif
