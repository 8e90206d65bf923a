/* lz - an LZ77-style compressor (4-byte hash, 64 KiB window, literal runs and
 * length/offset matches) and its decompressor, round trip over 128 KiB of generated
 * English-like text, n rounds with different text: byte loops, hashing, copies. */
#define BENCH_N 800
#define BENCH_N_QUICK 80
#include "kernel.h"

#define TEXT_SIZE (128u << 10)
#define HASH_BITS 13
#define MIN_MATCH 4
#define MAX_MATCH (MIN_MATCH + 127)

static uint8_t text[TEXT_SIZE];
static uint8_t packed[TEXT_SIZE + TEXT_SIZE / 128 + 16];
static uint8_t unpacked[TEXT_SIZE];
static uint32_t table[1u << HASH_BITS];

static const char *const words[] = {
  "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "a", "of", "to",
  "in", "is", "it", "that", "runtime", "module", "function", "memory", "table", "value",
  "stack", "interpreter", "compile", "validate", "instance", "export", "import", "global",
  "benchmark", "kiln",
};

static uint32_t generate(uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1, len = 0;
  while (len < TEXT_SIZE) {
    s ^= s << 13; s ^= s >> 17; s ^= s << 5;
    const char *w = words[s % (sizeof words / sizeof words[0])];
    while (*w && len < TEXT_SIZE) text[len++] = (uint8_t)*w++;
    if (len < TEXT_SIZE) text[len++] = (s >> 8 & 15) == 0 ? '.' : (s >> 12 & 31) == 0 ? '\n' : ' ';
  }
  return len;
}

static inline uint32_t load32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t flush_literals(uint32_t op, const uint8_t *in, uint32_t from, uint32_t to) {
  while (from < to) {
    uint32_t run_len = to - from > 128 ? 128 : to - from;
    packed[op++] = (uint8_t)(run_len - 1);
    for (uint32_t i = 0; i < run_len; i++) packed[op++] = in[from + i];
    from += run_len;
  }
  return op;
}

static uint32_t compress(const uint8_t *in, uint32_t len) {
  uint32_t ip = 0, op = 0, literal_start = 0;
  for (uint32_t i = 0; i < (1u << HASH_BITS); i++) table[i] = 0;
  while (ip + MIN_MATCH <= len) {
    uint32_t seq = load32(in + ip);
    uint32_t h = (seq * 2654435761u) >> (32 - HASH_BITS);
    uint32_t candidate = table[h]; /* position + 1; 0 = none */
    table[h] = ip + 1;
    if (candidate != 0 && ip - (candidate - 1) <= 0xffff && load32(in + candidate - 1) == seq) {
      uint32_t from = candidate - 1, match = MIN_MATCH;
      while (ip + match < len && match < MAX_MATCH && in[from + match] == in[ip + match]) match++;
      op = flush_literals(op, in, literal_start, ip);
      uint32_t offset = ip - from;
      packed[op++] = (uint8_t)(0x80 | (match - MIN_MATCH));
      packed[op++] = (uint8_t)offset;
      packed[op++] = (uint8_t)(offset >> 8);
      ip += match;
      literal_start = ip;
    } else {
      ip++;
    }
  }
  return flush_literals(op, in, literal_start, len);
}

static uint32_t decompress(uint32_t packed_len) {
  uint32_t ip = 0, op = 0;
  while (ip < packed_len) {
    uint32_t token = packed[ip++];
    if (token < 0x80) {
      for (uint32_t i = 0; i <= token; i++) unpacked[op++] = packed[ip++];
    } else {
      uint32_t match = (token & 0x7f) + MIN_MATCH;
      uint32_t offset = packed[ip] | (uint32_t)packed[ip + 1] << 8;
      ip += 2;
      for (uint32_t i = 0; i < match; i++, op++) unpacked[op] = unpacked[op - offset];
    }
  }
  return op;
}

static uint32_t run(uint32_t n) {
  uint32_t checksum = 0;
  for (uint32_t round = 0; round < n; round++) {
    uint32_t len = generate(round);
    uint32_t packed_len = compress(text, len);
    uint32_t unpacked_len = decompress(packed_len);
    uint32_t same = unpacked_len == len;
    for (uint32_t i = 0; i < len && same; i++) same = text[i] == unpacked[i];
    checksum = kernel_mix(checksum, packed_len ^ (same << 31) ^ packed[packed_len / 2]);
  }
  return checksum;
}

KERNEL_MAIN(BENCH_N)
