/* spectral - spectral norm of the infinite matrix A(i,j) = 1/((i+j)(i+j+1)/2+i+1),
 * truncated to 300x300, by n steps of the power method on A^T A: double divides and
 * dot products. */
#define BENCH_N 1560
#define BENCH_N_QUICK 156
#include "kernel.h"

#define N 300
static double u[N], v[N], tmp[N];

static inline double a(int i, int j) { return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1); }

static void mul_av(const double *x, double *y) {
  for (int i = 0; i < N; i++) {
    double sum = 0;
    for (int j = 0; j < N; j++) sum += a(i, j) * x[j];
    y[i] = sum;
  }
}

static void mul_atv(const double *x, double *y) {
  for (int i = 0; i < N; i++) {
    double sum = 0;
    for (int j = 0; j < N; j++) sum += a(j, i) * x[j];
    y[i] = sum;
  }
}

static void mul_atav(const double *x, double *y) {
  mul_av(x, tmp);
  mul_atv(tmp, y);
}

static uint32_t run(uint32_t n) {
  uint32_t checksum = 0;
  for (int i = 0; i < N; i++) u[i] = 1.0;
  for (uint32_t step = 0; step < n; step++) {
    mul_atav(u, v);
    mul_atav(v, u);
    /* renormalise so the values stay in range however many steps run */
    double vbv = 0, vv = 0;
    for (int i = 0; i < N; i++) { vbv += u[i] * v[i]; vv += v[i] * v[i]; }
    double norm = __builtin_sqrt(vbv / vv);
    double scale = (norm * norm) * (norm * norm); /* two A^T A products: lambda^2 */
    for (int i = 0; i < N; i++) u[i] /= scale;
    checksum = kernel_mix(checksum, kernel_double_bits(norm));
  }
  return checksum;
}

KERNEL_MAIN(BENCH_N)
