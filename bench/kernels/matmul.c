/* matmul - dense 128x128 double matrix product in the dot-product form (i-j-k, with B
 * stored transposed so both operands stream along rows), n times, perturbing an input
 * between products: double multiply-adds into one sum, loads, loop overhead. A sum is a
 * chain of dependent adds that no compiler reorders without -ffast-math, so every build is
 * scalar; the auto-vectorisable loop shapes (the i-k-j form of this product among them) are
 * the subject of blur and dot. */
#define BENCH_N 940
#define BENCH_N_QUICK 94
#include "kernel.h"

#define N 128
static double A[N][N], Bt[N][N], C[N][N];

static uint32_t run(uint32_t n) {
  double trace_sum = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      A[i][j] = (double)((i * 7 + j * 3) % 17) * 0.125 - 1.0;
      Bt[j][i] = (double)((i * 5 + j * 11) % 13) * 0.25 - 1.5;
    }
  for (uint32_t round = 0; round < n; round++) {
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) {
        double sum = 0;
        for (int k = 0; k < N; k++) sum += A[i][k] * Bt[j][k];
        C[i][j] = sum;
      }
    double trace = 0;
    for (int i = 0; i < N; i++) trace += C[i][i] + C[i][N - 1 - i] * 0.5;
    trace_sum += trace;
    A[round % N][(round * 7) % N] += 0.5; /* the next product differs */
  }
  return kernel_double_bits(trace_sum);
}

KERNEL_MAIN(BENCH_N)
