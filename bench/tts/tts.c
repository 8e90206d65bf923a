/* tts.c - the guest of bench/time_to_speed.py: a long-running mixed workload that records
 * when each of its iterations ends.
 *
 *   tts SECONDS [SPAWN_REALTIME_NS [MAX_ITERATIONS]]
 *
 * One iteration calls five kernels of bench/kernels/ (each linked in from its own
 * translation unit by kernel.c, so each is a function called once per iteration, which is
 * what a tier-up without on-stack replacement needs) with a fixed n each, and mixes their
 * results into a running checksum. The program iterates until SECONDS have passed since
 * SPAWN_REALTIME_NS (CLOCK_REALTIME, in ns: the harness reads it just before it spawns the
 * process; without it, since main() began) or MAX_ITERATIONS are done (default 2^20); at
 * least one iteration runs.
 *
 * Clocks: the end of every iteration is read from CLOCK_MONOTONIC (kept in memory; nothing
 * is printed while iterating). CLOCK_REALTIME is read once, at the start of main(), so the
 * harness can place main() relative to its spawn; the iteration ends are then offsets from
 * that point on the monotonic clock. Output, after the last iteration:
 *
 *   tts work=coremark(30)+interp(6000)+... main_realtime_ns=R main_monotonic_ns=M iterations=K
 *   check@1=... check@10=... (the running checksum after 1, 10, 100, ... iterations)
 *   end NS          one line per iteration: ns from main() to its end (monotonic)
 *
 * The same file builds natively (gcc -O2) and for wasm32-wasi (clang-19 -O2, wasi-libc):
 * clock_gettime is then WASI's clock_time_get. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernel.h" /* bench/kernels/kernel.h: kernel_mix */

uint32_t tts_coremark(uint32_t n);
uint32_t tts_interp(uint32_t n);
uint32_t tts_nbody(uint32_t n);
uint32_t tts_sha256(uint32_t n);
uint32_t tts_lz(uint32_t n);

/* The work of one iteration: about 10 ms in kiln's interpreter, 1 ms natively. */
static const struct {
  const char *name;
  uint32_t (*run)(uint32_t);
  uint32_t n;
} stages[] = {
  {"coremark", tts_coremark, 30}, {"interp", tts_interp, 6000}, {"nbody", tts_nbody, 2000},
  {"sha256", tts_sha256, 2},      {"lz", tts_lz, 1},
};
#define STAGES (sizeof stages / sizeof stages[0])

static uint64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  uint64_t main_real = now_ns(CLOCK_REALTIME);
  uint64_t main_mono = now_ns(CLOCK_MONOTONIC);
  double seconds = argc > 1 ? strtod(argv[1], NULL) : 5.0;
  uint64_t spawn_real = argc > 2 ? strtoull(argv[2], NULL, 10) : main_real;
  uint32_t max_iterations = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 1u << 20;
  if (spawn_real > main_real) spawn_real = main_real; /* clocks disagree: count from main */
  /* the deadline on the monotonic clock: SECONDS after the spawn */
  uint64_t deadline = main_mono + (uint64_t)(seconds * 1e9) - (main_real - spawn_real);

  size_t capacity = 4096;
  uint64_t *ends = malloc(capacity * sizeof *ends);
  uint32_t checks[8], nchecks = 0, next_check = 1;
  uint32_t checksum = 0, count = 0;
  if (!ends) return 1;
  for (;;) {
    for (uint32_t s = 0; s < STAGES; s++) checksum = kernel_mix(checksum, stages[s].run(stages[s].n));
    uint64_t t = now_ns(CLOCK_MONOTONIC);
    if (count == capacity) {
      uint64_t *grown = realloc(ends, 2 * capacity * sizeof *ends);
      if (!grown) break;
      ends = grown;
      capacity *= 2;
    }
    ends[count++] = t;
    if (count == next_check && nchecks < 8) {
      checks[nchecks++] = checksum;
      next_check *= 10;
    }
    if (t >= deadline || count >= max_iterations) break;
  }

  printf("tts work=");
  for (uint32_t s = 0; s < STAGES; s++) printf("%s%s(%u)", s ? "+" : "", stages[s].name, (unsigned)stages[s].n);
  printf(" main_realtime_ns=%llu main_monotonic_ns=%llu iterations=%u\n", (unsigned long long)main_real,
         (unsigned long long)main_mono, (unsigned)count);
  uint32_t at = 1;
  for (uint32_t i = 0; i < nchecks; i++, at *= 10) printf("%scheck@%u=%u", i ? " " : "", (unsigned)at, (unsigned)checks[i]);
  printf("\n");
  for (uint32_t i = 0; i < count; i++) printf("end %llu\n", (unsigned long long)(ends[i] - main_mono));
  free(ends);
  return 0;
}
