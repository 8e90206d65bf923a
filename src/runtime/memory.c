/* memory.c - linear memories (a virtual-memory reservation that grows in place) and tables. */
#define _GNU_SOURCE /* mremap */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/error.h"
#include "native/signals.h"
#include "runtime.h"

/* ------------------------------------------------------------------ memories */

static uint64_t engine_max_pages(const kiln_engine *e) { return e->config.max_memory_bytes / KILN_PAGE_SIZE; }

uint8_t *pool_take(memory_pool *pool, uint64_t bytes) {
  uint8_t *base = NULL;
  pthread_mutex_lock(&pool->lock);
  for (uint32_t i = pool->count; i-- > 0;)
    if (pool->items[i].reserved == bytes) {
      base = pool->items[i].base;
      pool->items[i] = pool->items[--pool->count];
      break;
    }
  pthread_mutex_unlock(&pool->lock);
  return base;
}

bool pool_put(memory_pool *pool, uint32_t limit, uint8_t *base, uint64_t bytes) {
  bool kept = false;
  pthread_mutex_lock(&pool->lock);
  if (pool->count < limit) {
    pool->items[pool->count].base = base;
    pool->items[pool->count].reserved = bytes;
    pool->count++;
    kept = true;
  }
  pthread_mutex_unlock(&pool->lock);
  return kept;
}

/* Take a cached reservation of exactly `reserved` bytes, or make a new one. */
static uint8_t *reserve(kiln_engine *e, uint64_t reserved) {
  uint8_t *base = pool_take(&e->memories, reserved);
  if (base) return base;
  void *p = mmap(NULL, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* Return a reservation whose first `used` bytes were accessible: zero and protect them and
 * keep the range for reuse, or unmap it when the pool is full. */
static void unreserve(kiln_engine *e, uint8_t *base, uint64_t reserved, uint64_t used) {
  if ((used && (madvise(base, used, MADV_DONTNEED) != 0 || mprotect(base, used, PROT_NONE) != 0)) ||
      !pool_put(&e->memories, MEMORY_POOL_SIZE, base, reserved))
    munmap(base, reserved);
}

void pool_drain(memory_pool *pool) {
  for (uint32_t i = 0; i < pool->count; i++) munmap(pool->items[i].base, pool->items[i].reserved);
  pool->count = 0;
}

/* Make [p, p + bytes) inaccessible private anonymous pages again (after a failed MAP_FIXED,
 * which may have unmapped the range, or when a shared memory's storage leaves): false if even
 * that fails, and the range must not be used. */
static bool plug(uint8_t *p, uint64_t bytes) {
  return mmap(p, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) != MAP_FAILED;
}

/* A shared memory's storage: shared anonymous pages of its maximum's bytes mapped
 * (inaccessible, like the rest of the reservation) over the start of its reservation, so that
 * mremap can show the same pages at other addresses too (memory_alias), no descriptor held.
 * Where that is impossible the memory keeps private pages and cannot be aliased (!shareable);
 * false if the reservation could not even be restored. */
static bool share_storage(kiln_memory *m) {
  m->shareable = false;
#if defined(__linux__) && defined(MREMAP_FIXED)
  uint64_t bytes = m->max_pages * KILN_PAGE_SIZE;
  if (!bytes) return true;
  if (mmap(m->base, bytes, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
    return plug(m->base, bytes);
  m->shareable = true;
#endif
  return true;
}

/* Give the reservation back, private anonymous pages again (a shared memory's storage lives on
 * only in its aliases), or unmap it. */
static void release_reservation(kiln_memory *m, uint64_t used) {
  if (!m->shareable)
    unreserve(m->engine, m->base, m->reserved, used);
  else if (plug(m->base, m->max_pages * KILN_PAGE_SIZE))
    unreserve(m->engine, m->base, m->reserved, 0);
  else
    munmap(m->base, m->reserved);
}

kiln_memory *memory_create(kiln_engine *engine, uint64_t cap_pages, kiln_limits limits, kiln_error *err) {
  uint64_t cap = engine_max_pages(engine);
  if (cap_pages && cap_pages < cap) cap = cap_pages;
  if (limits.min > 65536 || (limits.has_max && limits.max > 65536) || (limits.has_max && limits.min > limits.max)) {
    error_set(err, KILN_ERR_ARGUMENT, "memory limits out of range");
    return NULL;
  }
  if (limits.shared && !limits.has_max) {
    error_set(err, KILN_ERR_ARGUMENT, "a shared memory needs a maximum");
    return NULL;
  }
  if (limits.min > cap) {
    error_set(err, KILN_ERR_LIMIT, "memory of %llu pages exceeds the configured limit of %llu pages",
              (unsigned long long)limits.min, (unsigned long long)cap);
    return NULL;
  }
  kiln_memory *m = calloc(1, sizeof *m);
  if (!m) {
    error_set(err, KILN_ERR_NOMEM, "out of memory");
    return NULL;
  }
  m->limits = limits;
  m->max_pages = limits.has_max && limits.max < cap ? limits.max : cap;
  /* reserve the whole reachable range plus a guard page, commit only min; in a guarded
   * engine, 4 GiB plus the guard region whatever the maximum (compiled code does not check
   * the bounds: signals.h) */
  m->reserved = engine->guarded ? SIGNALS_RESERVATION : m->max_pages * KILN_PAGE_SIZE + KILN_PAGE_SIZE;
  m->engine = engine;
  uint8_t *p = reserve(engine, m->reserved);
  if (!p) {
    error_set(err, KILN_ERR_NOMEM, "cannot reserve %llu bytes of address space for a memory",
              (unsigned long long)m->reserved);
    free(m);
    return NULL;
  }
  m->base = p;
  m->size = 0;
  if (limits.shared && !share_storage(m)) {
    munmap(p, m->reserved);
    free(m);
    error_set(err, KILN_ERR_NOMEM, "cannot map the storage of a shared memory");
    return NULL;
  }
  if (engine->guarded && !signals_add(SIGNALS_MEMORY, (uintptr_t)p, (uintptr_t)p + m->reserved)) {
    release_reservation(m, 0);
    free(m);
    error_set(err, KILN_ERR_LIMIT, "too many guarded memories at once (kiln_config.explicit_bounds_checks has no limit)");
    return NULL;
  }
  uint64_t old;
  if (limits.min && memory_grow(m, limits.min, &old) != KILN_OK) {
    if (engine->guarded) signals_remove(SIGNALS_MEMORY, (uintptr_t)m->base);
    release_reservation(m, 0);
    free(m);
    error_set(err, KILN_ERR_NOMEM, "cannot commit %llu pages of memory", (unsigned long long)limits.min);
    return NULL;
  }
  return m;
}

void memory_destroy(kiln_memory *m) {
  if (!m) return;
  if (m->engine->guarded) signals_remove(SIGNALS_MEMORY, (uintptr_t)m->base);
  release_reservation(m, m->size);
  free(m);
}

kiln_status memory_alias(kiln_memory *m, void *at, uint64_t offset, uint64_t length, kiln_error *err) {
  long page = sysconf(_SC_PAGESIZE);
  if (!m->limits.shared) {
    error_set(err, KILN_ERR_ARGUMENT, "kiln_memory_alias: only a shared memory's bytes can be shown elsewhere");
    return KILN_ERR_ARGUMENT;
  }
  if (!at || page <= 0 || (uintptr_t)at % (uintptr_t)page || offset % (uint64_t)page || length % (uint64_t)page) {
    error_set(err, KILN_ERR_ARGUMENT, "kiln_memory_alias: the address, offset and length must be page-aligned");
    return KILN_ERR_ARGUMENT;
  }
  if (offset > m->size || length > m->size - offset) {
    error_set(err, KILN_ERR_ARGUMENT,
              "kiln_memory_alias: bytes %llu to %llu are outside the memory (%llu bytes)", (unsigned long long)offset,
              (unsigned long long)(offset + length), (unsigned long long)m->size);
    return KILN_ERR_ARGUMENT;
  }
  if (!m->shareable) {
    error_set(err, KILN_ERR_LIMIT, "kiln_memory_alias: this memory's pages cannot be mapped twice here "
              "(it needs Linux's mremap)");
    return KILN_ERR_LIMIT;
  }
#if defined(__linux__) && defined(MREMAP_FIXED)
  /* (mremap with no old size maps the same shared pages again, at `at`) */
  if (length && mremap(m->base + offset, 0, length, MREMAP_MAYMOVE | MREMAP_FIXED, at) == MAP_FAILED) {
    plug(at, length);
    error_set(err, KILN_ERR_NOMEM, "kiln_memory_alias: cannot map %llu bytes of the memory",
              (unsigned long long)length);
    return KILN_ERR_NOMEM;
  }
#endif
  return KILN_OK;
}

kiln_status memory_grow(kiln_memory *memory, uint64_t delta, uint64_t *old_pages) {
  uint64_t pages = memory->size / KILN_PAGE_SIZE;
  if (old_pages) *old_pages = pages;
  if (delta == 0) return KILN_OK;
  if (delta > memory->max_pages || pages + delta > memory->max_pages) {
    /* refused by a limit of the store or engine rather than the memory's own maximum */
    uint64_t declared = memory->limits.has_max ? memory->limits.max : 65536;
    if (memory->owner && delta <= declared && pages + delta <= declared) {
      memory->owner->memory_refused_pages = pages + delta;
      memory->owner->memory_refused_limit = memory->max_pages;
    }
    return KILN_ERR_LIMIT;
  }
  if (mprotect(memory->base + memory->size, delta * KILN_PAGE_SIZE, PROT_READ | PROT_WRITE) != 0)
    return KILN_ERR_NOMEM;
  memory->size += delta * KILN_PAGE_SIZE;
  return KILN_OK;
}

/* ------------------------------------------------------------------ tables */

kiln_table *table_create(kiln_engine *engine, uint8_t elem_type, kiln_limits limits, void *init, kiln_error *err) {
  uint64_t cap = engine->config.max_table_elements;
  if (limits.min > cap) {
    error_set(err, KILN_ERR_LIMIT, "table of %llu elements exceeds the limit of %llu",
              (unsigned long long)limits.min, (unsigned long long)cap);
    return NULL;
  }
  kiln_table *t = calloc(1, sizeof *t);
  if (!t) goto nomem;
  t->elem_type = elem_type;
  t->limits = limits;
  t->max = (uint32_t)(limits.has_max && limits.max < cap ? limits.max : cap);
  t->size = (uint32_t)limits.min;
  t->elems = calloc(t->size ? t->size : 1, sizeof(void *));
  if (!t->elems) goto nomem;
  for (uint32_t i = 0; i < t->size; i++) t->elems[i] = init;
  return t;
nomem:
  if (t) free(t);
  error_set(err, KILN_ERR_NOMEM, "out of memory for a table");
  return NULL;
}

void table_destroy(kiln_table *t) {
  if (!t) return;
  free(t->elems);
  free(t);
}

kiln_status table_grow(kiln_table *table, uint32_t delta, void *init, uint32_t *old_size) {
  if (old_size) *old_size = table->size;
  if ((uint64_t)table->size + delta > table->max) return KILN_ERR_LIMIT;
  if (delta == 0) return KILN_OK;
  void **n = realloc(table->elems, ((size_t)table->size + delta) * sizeof(void *));
  if (!n) return KILN_ERR_NOMEM;
  for (uint32_t i = 0; i < delta; i++) n[table->size + i] = init;
  table->elems = n;
  table->size += delta;
  return KILN_OK;
}
