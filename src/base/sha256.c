/* sha256.c - SHA-256 as FIPS 180-4 describes it, one 64-byte block at a time; on x86-64
 * CPUs with the SHA extensions (Intel since Goldmont and Ice Lake, AMD since Zen) the blocks go
 * through those instructions instead, about five times faster: loading a cached module hashes
 * its wasm and checks the entry's checksum, and that was a third of `kiln run` of a cached
 * hello world. */
#include "base/sha256.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void compress(uint32_t h[8], const uint8_t block[64]) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 |
           block[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + round_constants[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

static void compress_blocks_portable(uint32_t h[8], const uint8_t *blocks, size_t count) {
  for (size_t i = 0; i < count; i++) compress(h, blocks + 64 * i);
}

#ifdef SHA256_X86
/* The same rounds with SHA-NI: the state is kept as the register pairs ABEF and CDGH that
 * sha256rnds2 works on, two rounds per instruction; sha256msg1 and sha256msg2 extend the
 * message schedule four words at a time. */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_blocks_shani(uint32_t h[8], const uint8_t *blocks,
                                                                             size_t count) {
  const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i dcba = _mm_loadu_si128((const __m128i *)&h[0]);
  __m128i hgfe = _mm_loadu_si128((const __m128i *)&h[4]);
  __m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
  __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
  for (size_t b = 0; b < count; b++) {
    const uint8_t *block = blocks + 64 * b;
    __m128i abef_in = abef, cdgh_in = cdgh;
    __m128i w[4]; /* w[g % 4]: message words 4g .. 4g+3 */
    for (int g = 0; g < 4; g++) w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16 * g)), byteswap);
#if defined(__clang__)
#pragma clang loop unroll(full)
#else
#pragma GCC unroll 16
#endif
    for (int g = 0; g < 16; g++) {
      __m128i wk = _mm_add_epi32(w[g % 4], _mm_loadu_si128((const __m128i *)&round_constants[4 * g]));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
      if (g < 12) { /* words 4g+16 .. 4g+19 replace 4g .. 4g+3 */
        __m128i t = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
        t = _mm_add_epi32(t, _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
        w[g % 4] = _mm_sha256msg2_epu32(t, w[(g + 3) % 4]);
      }
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }
  __m128i feba = _mm_shuffle_epi32(abef, 0x1b);
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
  _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, dchg, 0xf0));
  _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}

static bool cpu_has_shani(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3)) return false;
  if (__get_cpuid_max(0, NULL) < 7) return false;
  __cpuid_count(7, 0, a, b, c, d);
  return (b >> 29) & 1; /* SHA */
}
#endif

/* 0: not decided yet, 1: portable, 2: SHA-NI */
static atomic_int implementation;
static atomic_bool force_portable;

void sha256_use_portable(bool portable) { atomic_store(&force_portable, portable); }

bool sha256_accelerated(void) {
  int impl = atomic_load_explicit(&implementation, memory_order_relaxed);
  if (!impl) {
#ifdef SHA256_X86
    impl = cpu_has_shani() ? 2 : 1;
#else
    impl = 1;
#endif
    atomic_store_explicit(&implementation, impl, memory_order_relaxed);
  }
  return impl == 2 && !atomic_load_explicit(&force_portable, memory_order_relaxed);
}

static void compress_blocks(uint32_t h[8], const uint8_t *blocks, size_t count) {
#ifdef SHA256_X86
  if (sha256_accelerated()) {
    compress_blocks_shani(h, blocks, count);
    return;
  }
#endif
  compress_blocks_portable(h, blocks, count);
}

void sha256_init(sha256_state *s) {
  static const uint32_t initial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, initial, sizeof initial);
  s->length = 0;
  s->used = 0;
}

void sha256_update(sha256_state *s, const void *data, size_t size) {
  const uint8_t *p = data;
  s->length += size;
  if (s->used) {
    size_t take = 64 - s->used < size ? 64 - s->used : size;
    memcpy(s->block + s->used, p, take);
    s->used += (uint32_t)take;
    p += take;
    size -= take;
    if (s->used < 64) return;
    compress_blocks(s->h, s->block, 1);
    s->used = 0;
  }
  if (size >= 64) {
    compress_blocks(s->h, p, size / 64);
    p += size / 64 * 64;
    size %= 64;
  }
  memcpy(s->block, p, size);
  s->used = (uint32_t)size;
}

void sha256_final(sha256_state *s, uint8_t digest[SHA256_BYTES]) {
  uint64_t bits = s->length * 8;
  s->block[s->used++] = 0x80;
  if (s->used > 56) {
    memset(s->block + s->used, 0, 64 - s->used);
    compress_blocks(s->h, s->block, 1);
    s->used = 0;
  }
  memset(s->block + s->used, 0, 56 - s->used);
  for (int i = 0; i < 8; i++) s->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
  compress_blocks(s->h, s->block, 1);
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++) digest[4 * i + j] = (uint8_t)(s->h[i] >> (24 - 8 * j));
}

void sha256(const void *data, size_t size, uint8_t digest[SHA256_BYTES]) {
  sha256_state s;
  sha256_init(&s);
  sha256_update(&s, data, size);
  sha256_final(&s, digest);
}

void sha256_hex(const uint8_t digest[SHA256_BYTES], char hex[2 * SHA256_BYTES + 1]) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < SHA256_BYTES; i++) {
    hex[2 * i] = digits[digest[i] >> 4];
    hex[2 * i + 1] = digits[digest[i] & 15];
  }
  hex[2 * SHA256_BYTES] = 0;
}
