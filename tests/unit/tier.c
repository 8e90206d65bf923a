/* tier.c - the engines of the unit tests: KILN_TEST_TIER=compiled runs every test on the LLVM
 * tier (when this build has it), anything else on the interpreter. The compiled-code cache
 * is off unless KILN_TEST_CACHE_DIR names a directory for it (test_api_cached). */
#include "tier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool test_tier_compiled(void) {
  const char *t = getenv("KILN_TEST_TIER");
  return t && (strcmp(t, "compiled") == 0 || strcmp(t, "compiled-checks") == 0);
}

static bool test_tier_checks(void) {
  const char *t = getenv("KILN_TEST_TIER");
  return t && strcmp(t, "compiled-checks") == 0;
}

bool test_tier_faults(void) { return test_tier_compiled() && !test_tier_checks(); }

kiln_engine *test_engine_new(const kiln_config *config) {
  kiln_config c;
  if (config) c = *config;
  else kiln_config_init(&c);
  if (test_tier_compiled()) {
#ifdef KILN_HAVE_LLVM
    c.tier = KILN_TIER_COMPILED;
    c.compiler = kiln_llvm_compiler();
    if (test_tier_checks()) c.explicit_bounds_checks = true;
    const char *cache_dir = getenv("KILN_TEST_CACHE_DIR");
    if (cache_dir && cache_dir[0]) {
      c.cache = true;
      c.cache_dir = cache_dir;
    }
#else
    fprintf(stderr, "KILN_TEST_TIER=compiled, but this build has no LLVM tier\n");
    exit(1);
#endif
  }
  return kiln_engine_new(&c);
}
