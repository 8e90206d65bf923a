/* tts.c - the guest of bench/time_to_speed.py: a long-running mixed workload that records
 * when each of its iterations ends.
 *
 *   tts SECONDS [SPAWN_REALTIME_NS [WORK]]
 *
 * WORK lists kernels of bench/kernels/ with their n, default
 * "coremark:30,interp:6000,nbody:2000,sha256:2,lz:1": one iteration calls each kernel's
 * run(n) once (kernel.c links each in from its own translation unit) and mixes the results
 * into a running checksum. The program iterates until SECONDS have passed since
 * SPAWN_REALTIME_NS (CLOCK_REALTIME in ns, which the harness reads just before it spawns the
 * process; without it, since main() began); at least one iteration runs.
 *
 * The kernels are called through function pointers chosen at run time from WORK, so the
 * work of an iteration stays in functions called once per iteration, which is what a
 * tier-up without on-stack replacement needs: neither clang nor wasm-opt can inline them
 * into main() (clang-19 runs binaryen's `wasm-opt -O2` after linking whenever wasm-opt is
 * on PATH, as scripts/deps.sh makes it; wasm-opt inlines a function that has one call site,
 * and main() into _start).
 *
 * Clocks: the end of every iteration is read from CLOCK_MONOTONIC and kept in memory
 * (nothing is printed while iterating). CLOCK_REALTIME is read once, at the start of main(),
 * so the harness can place main() relative to its spawn; the iteration ends are offsets from
 * that point on the monotonic clock. Output, after the last iteration:
 *
 *   tts work=coremark:30,... main_realtime_ns=R main_monotonic_ns=M iterations=K
 *   check@1=C1 check@10=C10 ...   the running checksum after 1, 10, 100, ... iterations
 *   end NS                        one line per iteration: ns from main() to its end
 *
 * The same file builds natively (gcc -O2) and for wasm32-wasi (clang-19 -O2, wasi-libc):
 * clock_gettime is then WASI's clock_time_get. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel.h" /* bench/kernels/kernel.h: kernel_mix */

uint32_t tts_coremark(uint32_t n);
uint32_t tts_interp(uint32_t n);
uint32_t tts_nbody(uint32_t n);
uint32_t tts_sha256(uint32_t n);
uint32_t tts_lz(uint32_t n);

static const struct {
  const char *name;
  uint32_t (*run)(uint32_t);
} kernels[] = {
  {"coremark", tts_coremark}, {"interp", tts_interp}, {"nbody", tts_nbody},
  {"sha256", tts_sha256},     {"lz", tts_lz},
};
#define KERNELS (sizeof kernels / sizeof kernels[0])

/* The default work of one iteration: about 14 ms in kiln's interpreter, 2 ms natively. */
#define DEFAULT_WORK "coremark:30,interp:6000,nbody:2000,sha256:2,lz:1"
#define MAX_STAGES 16

static struct {
  uint32_t (*run)(uint32_t);
  uint32_t n;
} stages[MAX_STAGES];
static uint32_t stage_count;

/* Parse "name:n,name:n,..." into stages; 0 (with a message) if it is not that. */
static int parse_work(const char *work) {
  const char *p = work;
  while (*p) {
    size_t len = strcspn(p, ":");
    uint32_t k = 0;
    while (k < KERNELS && !(strlen(kernels[k].name) == len && strncmp(kernels[k].name, p, len) == 0)) k++;
    char *next = (char *)p + len;
    if (k < KERNELS && *next == ':' && stage_count < MAX_STAGES) {
      stages[stage_count].run = kernels[k].run;
      stages[stage_count].n = (uint32_t)strtoul(next + 1, &next, 10);
      stage_count++;
    }
    if (k == KERNELS || (*next && *next != ',') || next == p + len) {
      fprintf(stderr, "tts: bad WORK '%s': name:n,... (kernels: coremark interp nbody sha256 lz)\n", work);
      return 0;
    }
    p = *next ? next + 1 : next;
  }
  return stage_count > 0;
}

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
  const char *work = argc > 3 ? argv[3] : DEFAULT_WORK;
  if (!parse_work(work)) return 2;
  if (spawn_real > main_real || main_real - spawn_real > 60000000000u)
    spawn_real = main_real; /* not a spawn time of this run: count from main() */
  /* the deadline on the monotonic clock: SECONDS after the spawn */
  uint64_t deadline = main_mono + (uint64_t)(seconds * 1e9) - (main_real - spawn_real);

  size_t capacity = 4096;
  uint64_t *ends = malloc(capacity * sizeof *ends);
  uint32_t checks[8], nchecks = 0, next_check = 1;
  uint32_t checksum = 0, count = 0;
  if (!ends) return 1;
  for (;;) {
    for (uint32_t s = 0; s < stage_count; s++) /* an indirect call: see above */
      checksum = kernel_mix(checksum, stages[s].run(stages[s].n));
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
    if (t >= deadline) break;
  }

  printf("tts work=%s main_realtime_ns=%llu main_monotonic_ns=%llu iterations=%u\n", work,
         (unsigned long long)main_real, (unsigned long long)main_mono, (unsigned)count);
  uint32_t at = 1;
  for (uint32_t i = 0; i < nchecks; i++, at *= 10)
    printf("%scheck@%u=%u", i ? " " : "", (unsigned)at, (unsigned)checks[i]);
  printf("\n");
  for (uint32_t i = 0; i < count; i++) printf("end %llu\n", (unsigned long long)(ends[i] - main_mono));
  free(ends);
  return 0;
}
