/* hashtable - open addressing (linear probing) hash table of u32 -> u32: n rounds of 96 Ki
 * inserts (with updates of repeated keys) and 192 Ki lookups, half of them misses. */
#define BENCH_N 195
#define BENCH_N_QUICK 20
#include "kernel.h"

#define SLOTS (1u << 18) /* power of two; load factor stays under 0.4 */
#define INSERTS (96u << 10)
static uint32_t keys[SLOTS];   /* 0 = empty; keys are made non-zero */
static uint32_t values[SLOTS];

static inline uint32_t hash(uint32_t k) {
  k ^= k >> 16; k *= 0x7feb352du; k ^= k >> 15; k *= 0x846ca68bu; k ^= k >> 16;
  return k;
}

static void insert(uint32_t key, uint32_t value) {
  uint32_t i = hash(key) & (SLOTS - 1);
  while (keys[i] != 0 && keys[i] != key) i = (i + 1) & (SLOTS - 1);
  if (keys[i] == key) values[i] += value;
  else { keys[i] = key; values[i] = value; }
}

static int lookup(uint32_t key, uint32_t *value) {
  uint32_t i = hash(key) & (SLOTS - 1);
  while (keys[i] != 0) {
    if (keys[i] == key) { *value = values[i]; return 1; }
    i = (i + 1) & (SLOTS - 1);
  }
  return 0;
}

static uint32_t run(uint32_t n) {
  uint32_t checksum = 0;
  for (uint32_t round = 0; round < n; round++) {
    uint32_t s = 0x1234567u + round, hits = 0, sum = 0;
    for (uint32_t i = 0; i < SLOTS; i++) keys[i] = 0;
    for (uint32_t i = 0; i < INSERTS; i++) {
      s = s * 1664525u + 1013904223u;
      insert((s >> 8 & 0x1ffff) * 2 + 2, i); /* even keys, with repeats */
    }
    for (uint32_t i = 0; i < 2 * INSERTS; i++) {
      uint32_t v;
      s = s * 1664525u + 1013904223u;
      if (lookup((s >> 8 & 0x1ffff) + 2, &v)) { hits++; sum += v; }
    }
    checksum = kernel_mix(checksum, hits ^ sum);
  }
  return checksum;
}

KERNEL_MAIN(BENCH_N)
