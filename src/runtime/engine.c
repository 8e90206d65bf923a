/* engine.c - engines: their configuration and the registry of canonical function types. */
#include <stdlib.h>
#include <string.h>

#include "native/signals.h"
#include "runtime.h"
#include "runtime/cache.h"

void engine_config_defaults(kiln_config *config) {
  memset(config, 0, sizeof *config);
  config->max_memory_bytes = 65536ull * KILN_PAGE_SIZE;
  config->max_table_elements = 10000000;
  config->max_call_depth = 20000;
  config->value_stack_bytes = 8u << 20;
}

kiln_engine *engine_create(const kiln_config *config) {
  kiln_engine *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  engine_config_defaults(&e->config);
  if (config) {
    if (config->max_memory_bytes && config->max_memory_bytes < e->config.max_memory_bytes)
      e->config.max_memory_bytes = config->max_memory_bytes;
    if (config->max_table_elements) e->config.max_table_elements = config->max_table_elements;
    if (config->max_call_depth) e->config.max_call_depth = config->max_call_depth;
    if (config->value_stack_bytes) e->config.value_stack_bytes = config->value_stack_bytes;
    e->config.tier = config->tier;
    e->config.compiler = config->compiler;
    e->config.portable = config->portable;
    e->config.compile_threads = config->compile_threads;
    e->config.consume_fuel = config->consume_fuel;
    e->config.explicit_bounds_checks = config->explicit_bounds_checks;
    e->config.tierup_threshold = config->tierup_threshold;
    e->config.tierup_threads = config->tierup_threads;
    e->config.tierup_wait = config->tierup_wait;
  }
  /* guarded memories where they can be: compiled code then checks no bounds */
  if (e->config.tier != KILN_TIER_INTERP && !e->config.explicit_bounds_checks) {
    kiln_error ignored;
    e->guarded = signals_supported() && signals_install(&ignored) == KILN_OK;
    e->config.explicit_bounds_checks = !e->guarded;
  }
  if (config) e->config.cache = config->cache;
  /* the cache's directory, resolved once and owned by the engine (NULL: none to use) */
  if (e->config.cache) {
    e->cache_dir = config->cache_dir ? strdup(config->cache_dir) : cache_default_dir();
    if (config->cache_dir && !e->cache_dir) {
      free(e);
      return NULL;
    }
  }
  e->config.cache_dir = e->cache_dir;
  pthread_mutex_init(&e->types.lock, NULL);
  pthread_mutex_init(&e->memories.lock, NULL);
  pthread_mutex_init(&e->stacks.lock, NULL);
  pthread_mutex_init(&e->tierup_lock, NULL);
  e->handlers = interp_handlers();
  return e;
}

void engine_destroy(kiln_engine *engine) {
  tierup_stop(engine);
  pthread_mutex_destroy(&engine->tierup_lock);
  pool_drain(&engine->memories);
  pool_drain(&engine->stacks);
  free(engine->cache_dir);
  pthread_mutex_destroy(&engine->memories.lock);
  pthread_mutex_destroy(&engine->stacks.lock);
  for (uint32_t i = 0; i < engine->types.count; i++) free(engine->types.types[i].types);
  free(engine->types.types);
  free(engine->types.refs);
  free(engine->types.free_ids);
  free(engine->types.index);
  pthread_mutex_destroy(&engine->types.lock);
  free(engine);
}

static bool same_type(const functype *a, const functype *b) {
  size_t n = (size_t)a->param_count + a->result_count;
  return a->param_count == b->param_count && a->result_count == b->result_count &&
         (n == 0 || memcmp(a->types, b->types, n) == 0);
}

static uint64_t type_hash(const functype *t) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  h = (h ^ t->param_count) * 1099511628211ull;
  h = (h ^ t->result_count) * 1099511628211ull;
  size_t n = (size_t)t->param_count + t->result_count;
  for (size_t i = 0; i < n; i++) h = (h ^ t->types[i]) * 1099511628211ull;
  return h;
}

#define INDEX_GONE UINT32_MAX /* an index slot whose type was released */

/* Put id in the index (which has room). */
static void index_insert(type_registry *r, uint32_t id) {
  uint32_t mask = r->index_size - 1;
  uint32_t i = (uint32_t)type_hash(&r->types[id]) & mask;
  while (r->index[i] && r->index[i] != INDEX_GONE) i = (i + 1) & mask;
  if (!r->index[i]) r->index_used++;
  r->index[i] = id + 1;
}

/* Keep the index at most half full (live and removed slots), so that lookups stay short.
 * When it fills, it is rebuilt without its removed slots at a size that leaves it at most a
 * quarter full: at least as many insertions again before the next rebuild. */
static bool index_reserve(type_registry *r, uint32_t adding) {
  if ((uint64_t)(r->index_used + adding) * 2 < r->index_size) return true;
  uint32_t size = 64;
  while ((uint64_t)(r->live + adding) * 4 > size) size *= 2;
  uint32_t *index = calloc(size, sizeof *index);
  if (!index) return false;
  free(r->index);
  r->index = index;
  r->index_size = size;
  r->index_used = 0;
  for (uint32_t id = 0; id < r->count; id++)
    if (r->types[id].types) index_insert(r, id);
  return true;
}

kiln_status registry_intern(type_registry *r, const functype *t, uint32_t *id) {
  kiln_status st = KILN_OK;
  pthread_mutex_lock(&r->lock);
  if (r->index_size) {
    uint32_t mask = r->index_size - 1;
    for (uint32_t i = (uint32_t)type_hash(t) & mask; r->index[i]; i = (i + 1) & mask)
      if (r->index[i] != INDEX_GONE && same_type(&r->types[r->index[i] - 1], t)) {
        *id = r->index[i] - 1;
        r->refs[*id]++;
        goto out;
      }
  }
  if (!index_reserve(r, 1)) { st = KILN_ERR_NOMEM; goto out; }
  uint32_t new_id;
  if (r->free_count) {
    new_id = r->free_ids[--r->free_count];
  } else {
    if (r->count == UINT32_MAX - 1) { st = KILN_ERR_LIMIT; goto out; }
    if (r->count == r->capacity) {
      uint32_t cap = r->capacity ? r->capacity * 2 : 32;
      functype *n = realloc(r->types, cap * sizeof *n);
      if (n) r->types = n;
      uint32_t *refs = n ? realloc(r->refs, cap * sizeof *refs) : NULL;
      if (refs) r->refs = refs;
      uint32_t *free_ids = refs ? realloc(r->free_ids, cap * sizeof *free_ids) : NULL;
      if (free_ids) r->free_ids = free_ids;
      if (!free_ids) { st = KILN_ERR_NOMEM; goto out; }
      r->capacity = cap;
    }
    new_id = r->count++;
    r->types[new_id].types = NULL;
  }
  size_t n = (size_t)t->param_count + t->result_count;
  functype *copy = &r->types[new_id];
  *copy = *t;
  copy->types = malloc(n ? n : 1);
  if (!copy->types) {
    r->free_ids[r->free_count++] = new_id; /* (room: one slot per id) */
    st = KILN_ERR_NOMEM;
    goto out;
  }
  if (n) memcpy(copy->types, t->types, n);
  copy->type_id = new_id;
  r->refs[new_id] = 1;
  r->live++;
  *id = new_id;
  index_insert(r, new_id);
out:
  pthread_mutex_unlock(&r->lock);
  return st;
}

void registry_release(type_registry *r, uint32_t id) {
  pthread_mutex_lock(&r->lock);
  if (id < r->count && r->types[id].types && --r->refs[id] == 0) {
    uint32_t mask = r->index_size - 1;
    for (uint32_t i = (uint32_t)type_hash(&r->types[id]) & mask; r->index[i]; i = (i + 1) & mask)
      if (r->index[i] == id + 1) {
        r->index[i] = INDEX_GONE;
        break;
      }
    free(r->types[id].types);
    r->types[id].types = NULL;
    r->free_ids[r->free_count++] = id;
    r->live--;
  }
  pthread_mutex_unlock(&r->lock);
}

uint32_t kiln_engine_type_count(const kiln_engine *engine) {
  type_registry *r = (type_registry *)&engine->types;
  pthread_mutex_lock(&r->lock);
  uint32_t live = r->live;
  pthread_mutex_unlock(&r->lock);
  return live;
}
