/* heavy.c - the heavy function of the offload example: the Mandelbrot set on a size x size
 * grid, returning the total number of iterations (a checksum of all the work). Built to
 * wasm with clang-19 --target=wasm32 -nostdlib by demo.mjs (or server.mjs). */
#include <stdint.h>

__attribute__((export_name("mandelbrot"))) uint32_t mandelbrot(uint32_t size, uint32_t max_iter) {
  uint32_t total = 0;
  for (uint32_t py = 0; py < size; py++) {
    double ci = -1.5 + 3.0 * py / size;
    for (uint32_t px = 0; px < size; px++) {
      double cr = -2.0 + 3.0 * px / size, zr = 0, zi = 0;
      uint32_t i = 0;
      while (i < max_iter && zr * zr + zi * zi <= 4.0) {
        double t = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = t;
        i++;
      }
      total += i;
    }
  }
  return total;
}
