/* engine.c - the public engine functions. */
#include "runtime/runtime.h"

void kiln_config_init(kiln_config *config) { engine_config_defaults(config); }

kiln_engine *kiln_engine_new(const kiln_config *config) { return engine_create(config); }

void kiln_engine_free(kiln_engine *engine) {
  if (engine) engine_destroy(engine);
}
