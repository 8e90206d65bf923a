/* array.h - growing a heap array to hold `need` items (doubling), for the compile stages. */
#ifndef KILN_ARRAY_H
#define KILN_ARRAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Make *items (capacity *cap) hold at least `need` items of `size` bytes. False when out of
 * memory (the array is left as it was). */
static inline bool array_reserve(void **items, uint32_t *cap, uint32_t need, size_t size) {
  if (need <= *cap) return true;
  uint64_t n = *cap ? *cap : 64;
  while (n < need) n *= 2;
  if (n > UINT32_MAX) n = need;
  void *p = realloc(*items, (size_t)n * size);
  if (!p) return false;
  *items = p;
  *cap = (uint32_t)n;
  return true;
}

#endif
