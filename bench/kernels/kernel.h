/*
 * kernel.h - shared by every benchmark kernel in bench/kernels/.
 *
 * A kernel is one C file that defines `uint32_t run(uint32_t n)`: it does work proportional
 * to n (fib: exponential in n) and returns a checksum that depends on all of it. The same
 * file builds two ways:
 *   - to wasm (clang --target=wasm32...): run is exported as "run"; no imports, no libc calls;
 *   - natively (gcc -O2): KERNEL_NATIVE_MAIN adds a main() that times run(n) and prints
 *     `checksum=<u32> seconds=<float>`, the line every runner prints.
 * Each kernel defines BENCH_N (native run of roughly 0.3-1 s) and BENCH_N_QUICK (about a
 * tenth of the work) before including this header; bench/bench.py reads both from the
 * source. Only fixed-width integer types are used in computations so that wasm32 (32-bit
 * long and pointers) and x86-64 compute the same checksum.
 */
#ifndef KILN_BENCH_KERNEL_H
#define KILN_BENCH_KERNEL_H

#include <stdint.h>

#ifdef __wasm__
#define KERNEL_EXPORT __attribute__((export_name("run")))
#else
#define KERNEL_EXPORT
#endif

KERNEL_EXPORT uint32_t run(uint32_t n);

/* The low and high halves of a double's bits, folded: a checksum of a float result that
 * is exact (the same IEEE operations give the same bits everywhere). */
static inline uint32_t kernel_double_bits(double d) {
  union { double d; uint64_t u; } v;
  v.d = d;
  return (uint32_t)v.u ^ (uint32_t)(v.u >> 32);
}

/* A 32-bit mix step for checksums. */
static inline uint32_t kernel_mix(uint32_t h, uint32_t v) {
  h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
  return h;
}

#ifndef __wasm__
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* main(): `kernel [n]` runs run(n) once (n defaults to BENCH_N) and prints its checksum and
 * the time the call took. */
#define KERNEL_NATIVE_MAIN(default_n)                                                    \
  int main(int argc, char **argv) {                                                     \
    uint32_t n = (default_n);                                                           \
    struct timespec t0, t1;                                                             \
    uint32_t checksum;                                                                  \
    if (argc > 1) n = (uint32_t)strtoul(argv[1], NULL, 0);                              \
    clock_gettime(CLOCK_MONOTONIC, &t0);                                                \
    checksum = run(n);                                                                  \
    clock_gettime(CLOCK_MONOTONIC, &t1);                                                \
    printf("checksum=%u seconds=%.6f\n", (unsigned)checksum,                            \
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9); \
    return 0;                                                                           \
  }
#endif

#endif /* KILN_BENCH_KERNEL_H */
