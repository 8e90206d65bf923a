/* mandelbrot - escape-time iteration over a 256x256 grid (double precision, at most 100
 * iterations a point), n frames each shifted a little: tight float loops with an early
 * exit. */
#define BENCH_N 143
#define BENCH_N_QUICK 14
#include "kernel.h"

#define SIZE 256
#define MAX_ITER 100

static uint32_t run(uint32_t n) {
  uint32_t checksum = 0;
  for (uint32_t frame = 0; frame < n; frame++) {
    double shift = (double)frame * 1e-3;
    uint32_t total = 0, inside = 0;
    for (int py = 0; py < SIZE; py++) {
      double ci = -1.25 + 2.5 * (double)py / SIZE + shift;
      for (int px = 0; px < SIZE; px++) {
        double cr = -2.0 + 2.5 * (double)px / SIZE - shift;
        double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
        int it = 0;
        while (it < MAX_ITER && zr2 + zi2 <= 4.0) {
          zi = 2.0 * zr * zi + ci;
          zr = zr2 - zi2 + cr;
          zr2 = zr * zr;
          zi2 = zi * zi;
          it++;
        }
        total += (uint32_t)it;
        inside += it == MAX_ITER;
      }
    }
    checksum = kernel_mix(checksum, total ^ (inside << 20));
  }
  return checksum;
}

KERNEL_MAIN(BENCH_N)
