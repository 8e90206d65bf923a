/* fuzz_diff.c - libFuzzer target: differential testing of the compiled tier against the
 * interpreter. An input that is a valid module runs in both tiers with the same imports and
 * calls (fuzz/diff_common.h); any disagreement prints what differs and aborts, so libFuzzer
 * keeps the input. Inputs that are not valid modules are skipped: seed the corpus with valid
 * ones (scripts/diff_fuzz.sh makes them with wasm-opt -ttf). Built only with the LLVM tier.
 *
 * DIFF_STATS=1 in the environment prints the verdict counts every 1000 inputs;
 * DIFF_STRICT_NAN=1 compares NaNs bit for bit, DIFF_TIER=auto runs the auto tier against the
 * interpreter (see diff_common.h). */
#include "diff_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t verdicts[4], nans;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static diff_engines engines;
  static bool ready, stats;
  if (!ready) {
    if (!diff_engines_init(&engines)) abort();
    stats = getenv("DIFF_STATS") != NULL;
    ready = true;
  }
  diff_result r;
  diff_module(&engines, data, size, &r);
  verdicts[r.verdict]++;
  nans += r.nans;
  if (r.verdict == DIFF_MISMATCH) {
    fprintf(stderr, "== fuzz_diff: the compiled tier disagrees with the interpreter\n%s\n", r.what);
    abort();
  }
  uint64_t total = verdicts[0] + verdicts[1] + verdicts[2] + verdicts[3];
  if (stats && total % 1000 == 0)
    fprintf(stderr, "fuzz_diff: %llu inputs: %llu same, %llu skipped (invalid), %llu inconclusive; %llu NaN differences let through\n",
            (unsigned long long)total, (unsigned long long)verdicts[DIFF_SAME],
            (unsigned long long)verdicts[DIFF_SKIPPED], (unsigned long long)verdicts[DIFF_INCONCLUSIVE],
            (unsigned long long)nans);
  return 0;
}
