/* tier.h - engines for the unit tests in the tier KILN_TEST_TIER names (tier.c). */
#ifndef KILN_TEST_TIER_H
#define KILN_TEST_TIER_H

#include <stdbool.h>

#include "kiln.h"

/* kiln_engine_new(config), in the compiled tier when KILN_TEST_TIER=compiled (guarded
 * memories) or compiled-checks (explicit bounds checks, no signal handler). */
kiln_engine *test_engine_new(const kiln_config *config);
bool test_tier_compiled(void);
/* Whether out-of-bounds accesses trap by faulting (compiled, guarded memories): the trap's
 * backtrace names the function but not the instruction (code_offset 0). */
bool test_tier_faults(void);

#endif
