/* fib - naive doubly recursive Fibonacci: call and return overhead. Work grows as
 * 1.618^n, so BENCH_N_QUICK is 5 less (about 11x less work). */
#define BENCH_N 41
#define BENCH_N_QUICK 36
#include "kernel.h"

/* noinline: gcc would otherwise inline the recursion into itself a few levels deep and
 * make fewer calls than the wasm build; the kernel is about calls. */
__attribute__((noinline)) static uint32_t fib(uint32_t n) {
  if (n < 2) return n;
  return fib(n - 1) + fib(n - 2);
}

KERNEL_EXPORT uint32_t run(uint32_t n) {
  return fib(n);
}

#ifndef __wasm__
KERNEL_NATIVE_MAIN(BENCH_N)
#endif
