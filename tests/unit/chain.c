/* chain.c - see chain.h. */
#include "chain.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_put(buf *b, const void *data, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->n + n) cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) {
      fprintf(stderr, "out of memory building a module\n");
      exit(2);
    }
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
}
static void byte_(buf *b, uint8_t v) { buf_put(b, &v, 1); }
static void uleb(buf *b, uint64_t v) {
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    byte_(b, c | (v ? 0x80 : 0));
  } while (v);
}
static void sleb(buf *b, int64_t v) {
  for (;;) {
    uint8_t c = v & 0x7f;
    v >>= 7;
    bool done = (v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40));
    byte_(b, c | (done ? 0 : 0x80));
    if (done) return;
  }
}
static void section(buf *module, uint8_t id, buf *content) {
  byte_(module, id);
  uleb(module, content->n);
  buf_put(module, content->p, content->n);
  content->n = 0;
}

buf chain_module(uint32_t n, const uint32_t *invalid, size_t invalid_count, uint32_t pad) {
  buf m = {0}, s = {0}, body = {0};
  buf_put(&m, "\0asm\1\0\0\0", 8);
  uleb(&s, 1); /* types */
  byte_(&s, 0x60), uleb(&s, 1), byte_(&s, 0x7f), uleb(&s, 1), byte_(&s, 0x7f);
  section(&m, 1, &s);
  uleb(&s, n);
  for (uint32_t i = 0; i < n; i++) uleb(&s, 0);
  section(&m, 3, &s);
  uleb(&s, n);
  for (uint32_t i = 0; i < n; i++) {
    char name[16];
    int len = snprintf(name, sizeof name, "f%u", i);
    uleb(&s, (uint64_t)len), buf_put(&s, name, (size_t)len), byte_(&s, 0x00), uleb(&s, i);
  }
  section(&m, 7, &s);
  uleb(&s, n);
  for (uint32_t i = 0; i < n; i++) {
    bool bad = false;
    for (size_t k = 0; k < invalid_count; k++) bad |= invalid[k] == i;
    /* locals: 2 x i32 (counter, sum) */
    uleb(&body, 1), uleb(&body, 2), byte_(&body, 0x7f);
    for (uint32_t k = 0; k + 3 <= pad; k += 3) byte_(&body, 0x41), byte_(&body, 0x00), byte_(&body, 0x1a);
    if (bad) {
      byte_(&body, 0x6a); /* i32.add with nothing on the stack */
    } else if (i == 0) {
      byte_(&body, 0x20), uleb(&body, 0), byte_(&body, 0x41), sleb(&body, 1), byte_(&body, 0x6a);
    } else {
      /* loop: sum += counter % 5; counter++; br_if counter < i */
      byte_(&body, 0x03), byte_(&body, 0x40);
      byte_(&body, 0x20), uleb(&body, 2), byte_(&body, 0x20), uleb(&body, 1), byte_(&body, 0x41), sleb(&body, 5);
      byte_(&body, 0x70), byte_(&body, 0x6a), byte_(&body, 0x21), uleb(&body, 2); /* rem_u, add, set sum */
      byte_(&body, 0x20), uleb(&body, 1), byte_(&body, 0x41), sleb(&body, 1), byte_(&body, 0x6a);
      byte_(&body, 0x22), uleb(&body, 1); /* tee counter */
      byte_(&body, 0x41), sleb(&body, (int32_t)(i % 8 + 1)), byte_(&body, 0x49), byte_(&body, 0x0d), uleb(&body, 0);
      byte_(&body, 0x0b);
      byte_(&body, 0x20), uleb(&body, 0), byte_(&body, 0x10), uleb(&body, i / 2); /* call f(i/2) */
      byte_(&body, 0x20), uleb(&body, 2), byte_(&body, 0x6a);
    }
    byte_(&body, 0x0b);
    uleb(&s, body.n), buf_put(&s, body.p, body.n);
    body.n = 0;
  }
  section(&m, 10, &s);
  free(s.p);
  free(body.p);
  return m;
}

int32_t chain_expected(uint32_t i, int32_t x) {
  if (i == 0) return (int32_t)((uint32_t)x + 1);
  uint32_t r = (uint32_t)chain_expected(i / 2, x);
  for (uint32_t c = 0; c <= i % 8; c++) r += c % 5;
  return (int32_t)r;
}

