/* fib - naive doubly recursive Fibonacci: call and return overhead. run(n) sums
 * fib(28), fib(29), fib(30), fib(31), fib(28), ... over n calls, so the work is linear in n
 * (a call tree of about 2.4 million calls each, 31 deep at most). */
#define BENCH_N 364
#define BENCH_N_QUICK 36
#include "kernel.h"

/* noinline: gcc would otherwise inline the recursion into itself a few levels deep and
 * make fewer calls than the wasm build; the kernel is about calls. */
__attribute__((noinline)) static uint32_t fib(uint32_t n) {
  if (n < 2) return n;
  return fib(n - 1) + fib(n - 2);
}

static uint32_t run(uint32_t n) {
  uint32_t checksum = 0;
  for (uint32_t i = 0; i < n; i++) checksum = kernel_mix(checksum, fib(28 + (i & 3)));
  return checksum;
}

KERNEL_MAIN(BENCH_N)
