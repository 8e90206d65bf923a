/* dot - int16 dot products with int32 sums: a 512x512 int16 matrix times a vector, n
 * times, each result vector narrowed back to int16 to be the next input (the shape of
 * quantised neural-network inference): multiply-adds over contiguous arrays, the kind of
 * loop a compiler auto-vectorises. Built twice for wasm: without SIMD and with -msimd128
 * (dot-simd). */
#define BENCH_N 5200
#define BENCH_N_QUICK 520
#define BENCH_SIMD 1
#include "kernel.h"

#define ROWS 512
#define COLS 512

static int16_t matrix[ROWS][COLS];
static int16_t vector[COLS];
static int32_t result[ROWS];

static int32_t dot(const int16_t *restrict a, const int16_t *restrict b) {
  int32_t sum = 0;
  for (int i = 0; i < COLS; i++) sum += (int32_t)a[i] * (int32_t)b[i];
  return sum;
}

static uint32_t run(uint32_t n) {
  uint32_t s = 0x13579bdfu, checksum = 0;
  for (int r = 0; r < ROWS; r++)
    for (int c = 0; c < COLS; c++) {
      s ^= s << 13; s ^= s >> 17; s ^= s << 5;
      matrix[r][c] = (int16_t)((int32_t)(s >> 24) - 128);
    }
  for (int c = 0; c < COLS; c++) vector[c] = (int16_t)((c * 37) % 255 - 127);
  for (uint32_t round = 0; round < n; round++) {
    for (int r = 0; r < ROWS; r++) result[r] = dot(matrix[r], vector);
    uint32_t sum = 0;
    for (int r = 0; r < ROWS; r++) {
      sum += (uint32_t)result[r];
      vector[r] = (int16_t)(((result[r] >> 7) & 0xff) - 128); /* the next input */
    }
    checksum = kernel_mix(checksum, sum);
  }
  return checksum;
}

KERNEL_MAIN(BENCH_N)
