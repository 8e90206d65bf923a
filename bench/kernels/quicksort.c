/* quicksort - recursive quicksort (median of three, insertion sort for short ranges) of
 * 256 Ki PRNG words, n times: compares, swaps, recursion. */
#define BENCH_N 38
#define BENCH_N_QUICK 4
#include "kernel.h"

#define COUNT (256u << 10)
static uint32_t a[COUNT];

static void insertion(uint32_t *v, int32_t lo, int32_t hi) {
  for (int32_t i = lo + 1; i <= hi; i++) {
    uint32_t x = v[i];
    int32_t j = i - 1;
    while (j >= lo && v[j] > x) { v[j + 1] = v[j]; j--; }
    v[j + 1] = x;
  }
}

static void quicksort(uint32_t *v, int32_t lo, int32_t hi) {
  while (hi - lo > 16) {
    int32_t mid = lo + (hi - lo) / 2;
    uint32_t t;
    if (v[mid] < v[lo]) { t = v[mid]; v[mid] = v[lo]; v[lo] = t; }
    if (v[hi] < v[lo]) { t = v[hi]; v[hi] = v[lo]; v[lo] = t; }
    if (v[hi] < v[mid]) { t = v[hi]; v[hi] = v[mid]; v[mid] = t; }
    uint32_t pivot = v[mid];
    int32_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) { t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
    }
    /* recurse into the smaller side, loop on the larger */
    if (j - lo < hi - i) { quicksort(v, lo, j); lo = i; }
    else { quicksort(v, i, hi); hi = j; }
  }
  insertion(v, lo, hi);
}

static uint32_t run(uint32_t n) {
  uint32_t checksum = 0;
  for (uint32_t round = 0; round < n; round++) {
    uint32_t s = 0x2545f491u + round * 0x9e3779b9u;
    for (uint32_t i = 0; i < COUNT; i++) {
      s ^= s << 13; s ^= s >> 17; s ^= s << 5;
      a[i] = s;
    }
    quicksort(a, 0, (int32_t)COUNT - 1);
    uint32_t sorted = 1;
    for (uint32_t i = 1; i < COUNT; i++) sorted &= a[i - 1] <= a[i];
    checksum = kernel_mix(checksum, a[round % COUNT] ^ a[COUNT / 2] ^ sorted);
  }
  return checksum;
}

KERNEL_MAIN(BENCH_N)
