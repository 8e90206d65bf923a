/*
 * kernel.h - shared by every benchmark kernel in bench/kernels/.
 *
 * A kernel is one C file, a whole program: `static uint32_t run(uint32_t n)` does work
 * proportional to n (fib: exponential in n) and returns a checksum that depends on all of
 * it, and KERNEL_MAIN(BENCH_N) adds the main() that reads n from argv[1] (BENCH_N without
 * one) and prints `checksum=<u32>`. The same file builds natively (gcc -O2, clang-19 -O2)
 * and as a WASI command (clang-19 --target=wasm32-wasi -O2 with wasi-libc), so every runner
 * runs the same program: a native binary, or the same .wasm file in kiln, V8 and the peers.
 *
 * Each kernel defines, before including this header:
 *   BENCH_N        the fixed workload: a native gcc -O2 run of about 0.52 s on the
 *                  reference machine (bench/README.md), 0.05 s for BENCH_SIMD kernels;
 *   BENCH_N_QUICK  about a tenth of the work (`make bench QUICK=1`);
 *   BENCH_SIMD 1   (optional) the loops are meant for auto-vectorisation: bench/build.sh
 *                  also builds NAME-simd.wasm with -msimd128. Natively they are
 *                  vectorised, so interpreters take 40-150 times as long as native on
 *                  them; hence the smaller workload (see bench/README.md).
 * bench/bench.py reads them from the source. Computations use fixed-width integer types so
 * that wasm32 (32-bit long and pointers) and x86-64 compute the same checksum, and float
 * code never depends on the order a vectoriser might choose (no float reductions across
 * loop iterations in SIMD kernels), so every build prints the same checksum.
 */
#ifndef KILN_BENCH_KERNEL_H
#define KILN_BENCH_KERNEL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

/* main(): `kernel [n]` prints the checksum of run(n); n defaults to default_n. */
#define KERNEL_MAIN(default_n)                                               \
  int main(int argc, char **argv) {                                         \
    uint32_t n = (default_n);                                               \
    if (argc > 1) n = (uint32_t)strtoul(argv[1], NULL, 0);                  \
    printf("checksum=%u\n", (unsigned)run(n));                              \
    return 0;                                                               \
  }

#endif /* KILN_BENCH_KERNEL_H */
