/* crc32 - table-driven CRC-32 (IEEE) over a 64 KiB PRNG buffer, n passes: byte loads,
 * table lookups, shifts. */
#define BENCH_N 4400
#define BENCH_N_QUICK 440
#include "kernel.h"

#define BUF_SIZE (64u << 10)
static uint8_t buf[BUF_SIZE];
static uint32_t table[256];

static uint32_t run(uint32_t n) {
  uint32_t state = 0x12345678u, crc = 0;
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  for (uint32_t i = 0; i < BUF_SIZE; i++) {
    state ^= state << 13; state ^= state >> 17; state ^= state << 5;
    buf[i] = (uint8_t)state;
  }
  for (uint32_t pass = 0; pass < n; pass++) {
    uint32_t c = 0xffffffffu;
    for (uint32_t i = 0; i < BUF_SIZE; i++) c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
    crc = c ^ 0xffffffffu;
    buf[pass % BUF_SIZE] ^= (uint8_t)crc; /* each pass sees different data */
  }
  return crc;
}

KERNEL_MAIN(BENCH_N)
