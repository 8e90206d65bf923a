/* store.c - the public store functions: stores, their limits, interruption and fuel. */
#include "runtime/runtime.h"

kiln_store *kiln_store_new(kiln_engine *engine) { return engine ? store_create(engine) : NULL; }

void kiln_store_free(kiln_store *store) {
  if (store) store_destroy(store);
}

uint64_t kiln_store_memory_bytes(const kiln_store *store) {
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < store->memories.count; i++) bytes += ((const kiln_memory *)store->memories.items[i])->size;
  return bytes;
}

void kiln_store_set_memory_limit(kiln_store *store, uint64_t max_bytes) {
  store->memory_limit_pages = max_bytes / KILN_PAGE_SIZE;
  if (max_bytes && !store->memory_limit_pages) store->memory_limit_pages = 1;
}

void kiln_store_interrupt(kiln_store *store) { store_interrupt(store); }

void kiln_store_clear_interrupt(kiln_store *store) { store_clear_interrupt(store); }

kiln_status kiln_store_on_interrupt(kiln_store *store, void (*callback)(void *user), void *user) {
  if (!store || !callback) return KILN_ERR_ARGUMENT;
  return store_on_interrupt(store, callback, user) ? KILN_OK : KILN_ERR_LIMIT;
}

bool kiln_store_interrupt_pending(const kiln_store *store) {
  return atomic_load(&((kiln_store *)store)->interrupt) != 0;
}

void kiln_store_set_fuel(kiln_store *store, uint64_t fuel) {
  store->fuel_limited = fuel != UINT64_MAX;
  store->fuel = fuel >= (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)fuel;
}

uint64_t kiln_store_fuel(const kiln_store *store) {
  if (!store->fuel_limited) return UINT64_MAX;
  return store->fuel < 0 ? 0 : (uint64_t)store->fuel;
}
