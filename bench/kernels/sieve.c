/* sieve - sieve of Eratosthenes over a 2 MB byte array, n times: byte stores and
 * strided loops. */
#define BENCH_N 180
#define BENCH_N_QUICK 18
#include "kernel.h"

#define SIEVE_SIZE (2u << 20)
static uint8_t composite[SIEVE_SIZE];

static uint32_t run(uint32_t n) {
  uint32_t checksum = 0;
  for (uint32_t round = 0; round < n; round++) {
    uint32_t limit = SIEVE_SIZE - (round & 15); /* vary a little between rounds */
    uint32_t count = 0, last = 0;
    for (uint32_t i = 0; i < limit; i++) composite[i] = 0;
    for (uint32_t i = 2; i < limit; i++) {
      if (composite[i]) continue;
      count++;
      last = i;
      if ((uint64_t)i * i >= limit) continue;
      for (uint32_t j = i * i; j < limit; j += i) composite[j] = 1;
    }
    checksum = kernel_mix(checksum, count ^ last);
  }
  return checksum;
}

KERNEL_MAIN(BENCH_N)
