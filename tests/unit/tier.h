/* tier.h - engines for the unit tests in the tier KILN_TEST_TIER names (tier.c). */
#ifndef KILN_TEST_TIER_H
#define KILN_TEST_TIER_H

#include <stdbool.h>

#include "kiln.h"

/* kiln_engine_new(config), in the compiled tier when KILN_TEST_TIER=compiled. */
kiln_engine *test_engine_new(const kiln_config *config);
bool test_tier_compiled(void);

#endif
