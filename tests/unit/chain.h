/* chain.h - modules the unit tests build in C: a byte buffer with LEB128, and "chain" modules of
 * many small functions that call each other (chain.c). */
#ifndef KILN_TEST_CHAIN_H
#define KILN_TEST_CHAIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct buf {
  uint8_t *p;
  size_t n, cap;
} buf;

void buf_put(buf *b, const void *data, size_t n);

/* A module of n functions of type (i32) -> i32, each exported as "f<i>":
 *   f0(x) = x + 1
 *   fi(x) = f(i/2)(x) + loop_sum(i)   where a loop sums c % 5 for c in 0 .. i % 8.
 * Functions listed in `invalid` get a body that fails validation (i32.add on an empty
 * stack); with `pad`, each body also carries `pad` bytes of (i32.const 0, drop) pairs, to make
 * the module large. The caller frees .p. */
buf chain_module(uint32_t n, const uint32_t *invalid, size_t invalid_count, uint32_t pad);
/* What fi(x) returns in a chain module. */
int32_t chain_expected(uint32_t i, int32_t x);

#endif
