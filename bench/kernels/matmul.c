/* matmul - dense 128x128 double matrix product (i-k-j loop order), n times, perturbing
 * an input between products: multiply-add streams over rows. */
#define BENCH_N 1000
#define BENCH_N_QUICK 100
#include "kernel.h"

#define N 128
static double A[N][N], B[N][N], C[N][N];

KERNEL_EXPORT uint32_t run(uint32_t n) {
  double trace_sum = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      A[i][j] = (double)((i * 7 + j * 3) % 17) * 0.125 - 1.0;
      B[i][j] = (double)((i * 5 + j * 11) % 13) * 0.25 - 1.5;
    }
  for (uint32_t round = 0; round < n; round++) {
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N; j++) C[i][j] = 0;
      for (int k = 0; k < N; k++) {
        double a = A[i][k];
        for (int j = 0; j < N; j++) C[i][j] += a * B[k][j];
      }
    }
    double trace = 0;
    for (int i = 0; i < N; i++) trace += C[i][i] + C[i][N - 1 - i] * 0.5;
    trace_sum += trace;
    A[round % N][(round * 7) % N] += 0.5; /* the next product differs */
  }
  return kernel_double_bits(trace_sum);
}

#ifndef __wasm__
KERNEL_NATIVE_MAIN(BENCH_N)
#endif
