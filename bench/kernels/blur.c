/* blur - a separable 5-tap binomial blur ([1 4 6 4 1] horizontally, then vertically) of a
 * 512x512 8-bit image, n passes, ping-ponging between two images and flipping one pixel
 * between passes: widening byte loads, 16-bit adds and shifts over contiguous rows, the
 * kind of loop a compiler auto-vectorises. Built twice for wasm: without SIMD and with
 * -msimd128 (blur-simd). */
#define BENCH_N 330
#define BENCH_N_QUICK 33
#define BENCH_SIMD 1
#include "kernel.h"

#define W 512
#define H 512

static uint8_t image[2][H][W];
static uint16_t rows[H][W]; /* the horizontal pass: at most 16 * 255 */

static void blur_rows(const uint8_t (*restrict src)[W], uint16_t (*restrict dst)[W]) {
  for (int y = 0; y < H; y++) {
    const uint8_t *restrict s = src[y];
    uint16_t *restrict d = dst[y];
    d[0] = (uint16_t)(16 * s[0]);
    d[1] = (uint16_t)(16 * s[1]);
    for (int x = 2; x < W - 2; x++)
      d[x] = (uint16_t)(s[x - 2] + 4 * s[x - 1] + 6 * s[x] + 4 * s[x + 1] + s[x + 2]);
    d[W - 2] = (uint16_t)(16 * s[W - 2]);
    d[W - 1] = (uint16_t)(16 * s[W - 1]);
  }
}

static void blur_columns(const uint16_t (*restrict src)[W], uint8_t (*restrict dst)[W]) {
  for (int y = 0; y < H; y++) {
    uint8_t *restrict d = dst[y];
    if (y < 2 || y >= H - 2) {
      for (int x = 0; x < W; x++) d[x] = (uint8_t)((src[y][x] + 8) >> 4);
      continue;
    }
    const uint16_t *restrict a = src[y - 2], *restrict b = src[y - 1], *restrict c = src[y];
    const uint16_t *restrict e = src[y + 1], *restrict f = src[y + 2];
    for (int x = 0; x < W; x++)
      d[x] = (uint8_t)((a[x] + 4 * b[x] + 6 * c[x] + 4 * e[x] + f[x] + 128) >> 8);
  }
}

static uint32_t run(uint32_t n) {
  uint32_t s = 0x2468ace1u, checksum = 0;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      s ^= s << 13; s ^= s >> 17; s ^= s << 5;
      image[0][y][x] = (uint8_t)((x ^ y) + (s >> 29)); /* a pattern with some noise */
    }
  for (uint32_t pass = 0; pass < n; pass++) {
    uint8_t (*src)[W] = image[pass & 1], (*dst)[W] = image[(pass & 1) ^ 1];
    blur_rows((const uint8_t (*)[W])src, rows);
    blur_columns((const uint16_t (*)[W])rows, dst);
    uint32_t at = pass * 7919u % (W * H);
    dst[at / W][at % W] ^= 0xff; /* keep the image from going flat */
    checksum = kernel_mix(checksum, dst[(pass * 31u) % H][(pass * 17u) % W]);
  }
  const uint8_t *last = &image[n & 1][0][0];
  for (uint32_t i = 0; i < W * H; i++) checksum = checksum * 31u + last[i];
  return checksum;
}

KERNEL_MAIN(BENCH_N)
