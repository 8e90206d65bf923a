/* coremark - a mixed workload in the manner of CoreMark (not CoreMark itself): per
 * iteration a linked list is searched, reversed and merge-sorted two ways, small integer
 * matrices are multiplied and summed, a state machine scans a string of numbers, and
 * every result feeds a CRC-16. n iterations. */
#define BENCH_N 43000
#define BENCH_N_QUICK 4300
#include "kernel.h"

/* ---------------------------------------------------------------- crc16 */
static uint16_t crc16_byte(uint8_t data, uint16_t crc) {
  for (int i = 0; i < 8; i++) {
    uint8_t x = (uint8_t)((data & 1) ^ (crc & 1));
    data >>= 1;
    crc = x ? (uint16_t)((crc ^ 0x4002) >> 1 | 0x8000) : (uint16_t)(crc >> 1);
  }
  return crc;
}
static uint16_t crc16(uint16_t value, uint16_t crc) {
  crc = crc16_byte((uint8_t)value, crc);
  return crc16_byte((uint8_t)(value >> 8), crc);
}

/* ---------------------------------------------------------------- list */
#define LIST_NODES 128
typedef struct item {
  struct item *next;
  int16_t data;
  int16_t idx;
} item;
static item items[LIST_NODES];

static item *list_init(uint32_t seed) {
  for (int i = 0; i < LIST_NODES; i++) {
    seed = seed * 1103515245u + 12345u;
    items[i].next = i + 1 < LIST_NODES ? &items[i + 1] : 0;
    items[i].idx = (int16_t)i;
    items[i].data = (int16_t)(seed >> 16 & 0x7fff);
  }
  return &items[0];
}

static item *list_reverse(item *list) {
  item *prev = 0;
  while (list) {
    item *next = list->next;
    list->next = prev;
    prev = list;
    list = next;
  }
  return prev;
}

static item *list_find(item *list, int16_t idx) {
  while (list && list->idx != idx) list = list->next;
  return list;
}

static int cmp_data(const item *a, const item *b) { return a->data - b->data; }
static int cmp_idx(const item *a, const item *b) { return a->idx - b->idx; }

/* bottom-up merge sort of a singly linked list */
static item *list_sort(item *list, int (*cmp)(const item *, const item *)) {
  int insize = 1;
  for (;;) {
    item *p = list, *tail = 0;
    int merges = 0;
    list = 0;
    while (p) {
      item *q = p;
      int psize = 0, qsize = insize;
      merges++;
      for (int i = 0; i < insize && q; i++) { psize++; q = q->next; }
      while (psize > 0 || (qsize > 0 && q)) {
        item *e;
        if (psize == 0) { e = q; q = q->next; qsize--; }
        else if (qsize == 0 || !q || cmp(p, q) <= 0) { e = p; p = p->next; psize--; }
        else { e = q; q = q->next; qsize--; }
        if (tail) tail->next = e; else list = e;
        tail = e;
      }
      p = q;
    }
    tail->next = 0;
    if (merges <= 1) return list;
    insize *= 2;
  }
}

static uint16_t bench_list(uint32_t iteration, uint16_t crc) {
  item *list = list_init(iteration);
  for (int i = 0; i < 8; i++) {
    item *found = list_find(list, (int16_t)((iteration + (uint32_t)i * 37) % LIST_NODES));
    crc = crc16(found ? (uint16_t)found->data : 0xffff, crc);
    list = list_reverse(list);
  }
  list = list_sort(list, cmp_data);
  for (item *p = list; p; p = p->next) crc = crc16((uint16_t)p->data, crc);
  list = list_sort(list, cmp_idx);
  return crc16((uint16_t)list->data, crc);
}

/* ---------------------------------------------------------------- matrix */
#define M 16
static int16_t ma[M * M], mb[M * M];
static int32_t mc[M * M];

static uint16_t bench_matrix(uint32_t iteration, uint16_t crc) {
  int16_t k = (int16_t)(iteration & 0xff);
  for (int i = 0; i < M * M; i++) {
    ma[i] = (int16_t)((i * 13 + (int)iteration) & 0xff);
    mb[i] = (int16_t)((i * 7 - (int)iteration) & 0x7f);
  }
  for (int i = 0; i < M * M; i++) ma[i] = (int16_t)(ma[i] + k); /* add constant */
  for (int i = 0; i < M; i++)                                   /* matrix times matrix */
    for (int j = 0; j < M; j++) {
      int32_t sum = 0;
      for (int x = 0; x < M; x++) sum += (int32_t)ma[i * M + x] * (int32_t)mb[x * M + j];
      mc[i * M + j] = sum;
    }
  int32_t total = 0, prev = 0;
  int16_t ret = 0;
  for (int i = 0; i < M * M; i++) { /* thresholded sum */
    int32_t v = mc[i];
    total += v;
    if (total > 2000000) { ret += 10; total = 0; }
    else ret += v > prev ? 1 : 0;
    prev = v;
  }
  for (int i = 0; i < M * M; i++) mc[i] = (int32_t)ma[i] * k; /* matrix times constant */
  for (int i = 0; i < M * M; i += 17) crc = crc16((uint16_t)mc[i], crc);
  return crc16((uint16_t)ret, crc);
}

/* ---------------------------------------------------------------- state machine */
enum { S_START, S_INT, S_FLOAT, S_EXP, S_EXP_SIGN, S_SCI, S_INVALID, S_COUNT };

static const char input_text[] =
  "5012,1234,-874,+122,35.54,-0.0,+1.5e10,-2.25e-3,0x1F,abc,12e,7.7.7,314159,"
  "-1,2.71828,6.02e23,1e-9,--5,+.5,.25,99999,0,-0.125,3e+8,12a4,4.5E6,";
static uint8_t input[sizeof input_text];

static int next_state(int state, uint8_t c) {
  int digit = c >= '0' && c <= '9';
  switch (state) {
  case S_START:
    if (digit) return S_INT;
    if (c == '+' || c == '-') return S_START;
    if (c == '.') return S_FLOAT;
    return S_INVALID;
  case S_INT:
    if (digit) return S_INT;
    if (c == '.') return S_FLOAT;
    if (c == 'e' || c == 'E') return S_EXP;
    return S_INVALID;
  case S_FLOAT:
    if (digit) return S_FLOAT;
    if (c == 'e' || c == 'E') return S_EXP;
    return S_INVALID;
  case S_EXP:
    if (c == '+' || c == '-') return S_EXP_SIGN;
    return digit ? S_SCI : S_INVALID;
  case S_EXP_SIGN:
  case S_SCI:
    return digit ? S_SCI : S_INVALID;
  default:
    return S_INVALID;
  }
}

static uint16_t bench_state(uint32_t iteration, uint16_t crc) {
  uint32_t counts[S_COUNT] = {0};
  /* corrupt a few characters, differently each iteration */
  for (uint32_t i = 0; i < sizeof input; i++) input[i] = (uint8_t)input_text[i];
  for (uint32_t i = iteration % 11; i < sizeof input - 1; i += 23)
    if (input[i] != ',') input[i] ^= 0x01;
  int state = S_START;
  for (uint32_t i = 0; i < sizeof input - 1; i++) {
    if (input[i] == ',') { counts[state]++; state = S_START; continue; }
    state = next_state(state, input[i]);
  }
  for (int s = 0; s < S_COUNT; s++) crc = crc16((uint16_t)counts[s], crc);
  return crc;
}

static uint32_t run(uint32_t n) {
  uint16_t crc = 0;
  uint32_t checksum = 0;
  for (uint32_t i = 0; i < n; i++) {
    crc = bench_list(i, crc);
    crc = bench_matrix(i, crc);
    crc = bench_state(i, crc);
    checksum = kernel_mix(checksum, crc);
  }
  return checksum;
}

KERNEL_MAIN(BENCH_N)
