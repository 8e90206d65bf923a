/* extern.c - the public functions of memories, tables and globals: making them in a store,
 * reading, writing and growing them. */
#include <string.h>

#include "base/error.h"
#include "runtime/runtime.h"

/* ------------------------------------------------------------------ memories */

kiln_memory *kiln_memory_new(kiln_store *store, kiln_limits limits, kiln_error *err) {
  return store_add_memory(store, limits, err);
}

uint8_t *kiln_memory_data(kiln_memory *memory) { return memory->base; }

uint64_t kiln_memory_size(const kiln_memory *memory) { return memory->size; }

kiln_limits kiln_memory_limits(const kiln_memory *memory) {
  kiln_limits l = memory->limits;
  l.min = memory->size / KILN_PAGE_SIZE;
  return l;
}

kiln_status kiln_memory_grow(kiln_memory *memory, uint64_t delta, uint64_t *old_pages) {
  if (!memory) return KILN_ERR_ARGUMENT;
  return memory_grow(memory, delta, old_pages);
}

kiln_status kiln_memory_alias(kiln_memory *memory, void *at, uint64_t offset, uint64_t length, kiln_error *err) {
  if (!memory) {
    error_set(err, KILN_ERR_ARGUMENT, "kiln_memory_alias: no memory");
    return KILN_ERR_ARGUMENT;
  }
  return memory_alias(memory, at, offset, length, err);
}

/* ------------------------------------------------------------------ tables */

kiln_table *kiln_table_new(kiln_store *store, kiln_valtype elem_type, kiln_limits limits, kiln_val init,
                           kiln_error *err) {
  if ((elem_type != KILN_FUNCREF && elem_type != KILN_EXTERNREF) || init.type != elem_type ||
      (limits.has_max && limits.min > limits.max) || limits.min > UINT32_MAX) {
    error_set(err, KILN_ERR_ARGUMENT, "kiln_table_new: bad element type, initial value or limits");
    return NULL;
  }
  return store_add_table(store, elem_type, limits, init, err);
}

uint32_t kiln_table_size(const kiln_table *table) { return table->size; }

kiln_valtype kiln_table_elem_type(const kiln_table *table) { return (kiln_valtype)table->elem_type; }

kiln_limits kiln_table_limits(const kiln_table *table) {
  kiln_limits l = table->limits;
  l.min = table->size;
  return l;
}

static bool ref_matches(const kiln_table *t, kiln_val v) { return (uint8_t)v.type == t->elem_type; }

kiln_status kiln_table_get(const kiln_table *table, uint32_t index, kiln_val *out) {
  if (index >= table->size) return KILN_ERR_ARGUMENT;
  out->type = (kiln_valtype)table->elem_type;
  out->of.i64 = 0;
  out->of.externref = table->elems[index];
  return KILN_OK;
}

kiln_status kiln_table_set(kiln_table *table, uint32_t index, kiln_val value) {
  if (index >= table->size || !ref_matches(table, value)) return KILN_ERR_ARGUMENT;
  table->elems[index] = value.of.externref;
  return KILN_OK;
}

kiln_status kiln_table_grow(kiln_table *table, uint32_t delta, kiln_val init, uint32_t *old_size) {
  if (!ref_matches(table, init)) {
    if (old_size) *old_size = table->size;
    return KILN_ERR_ARGUMENT;
  }
  return table_grow(table, delta, init.of.externref, old_size);
}

/* ------------------------------------------------------------------ globals */

kiln_global *kiln_global_new(kiln_store *store, kiln_valtype type, bool is_mutable, kiln_val value) {
  if (value.type != type) return NULL;
  return store_add_global(store, type, is_mutable, value);
}

kiln_val kiln_global_get(const kiln_global *global) {
  kiln_val v;
  v.type = (kiln_valtype)global->type;
  memset(&v.of, 0, sizeof v.of);
  memcpy(&v.of, global->value, global->type == VT_V128 ? 16 : 8);
  return v;
}

kiln_status kiln_global_set(kiln_global *global, kiln_val value) {
  if (!global->is_mutable || (uint8_t)value.type != global->type) return KILN_ERR_ARGUMENT;
  memcpy(global->value, &value.of, global->type == VT_V128 ? 16 : 8);
  return KILN_OK;
}

kiln_valtype kiln_global_type(const kiln_global *global) { return (kiln_valtype)global->type; }
bool kiln_global_mutable(const kiln_global *global) { return global->is_mutable; }
