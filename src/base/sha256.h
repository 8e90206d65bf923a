/* sha256.h - SHA-256 (FIPS 180-4), libc only: the compiled-code cache keys modules by it and
 * checks the integrity of its entries with it. */
#ifndef KILN_SHA256_H
#define KILN_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32

typedef struct sha256_state {
  uint32_t h[8];
  uint64_t length;           /* bytes hashed so far */
  uint8_t block[64];
  uint32_t used;             /* bytes in block */
} sha256_state;

void sha256_init(sha256_state *s);
void sha256_update(sha256_state *s, const void *data, size_t size);
void sha256_final(sha256_state *s, uint8_t digest[SHA256_BYTES]);
/* The digest of data[0..size) in one call. */
void sha256(const void *data, size_t size, uint8_t digest[SHA256_BYTES]);
/* Whether the blocks go through the CPU's SHA instructions (x86-64 SHA-NI). */
bool sha256_accelerated(void);
/* Tests: hash with the portable code even where the CPU has SHA instructions. */
void sha256_use_portable(bool portable);
/* The digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(const uint8_t digest[SHA256_BYTES], char hex[2 * SHA256_BYTES + 1]);

#endif
