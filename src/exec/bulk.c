/* bulk.c - the bulk memory and table instructions for both tiers (see bulk.h). */
#include "exec/bulk.h"

#include <string.h>

/* One unit of fuel per FUEL_BYTES written; false when the fuel ran out. */
static bool charge_bytes(int64_t *fuel, uint64_t bytes) {
  *fuel -= (int64_t)(bytes / FUEL_BYTES);
  if (*fuel >= 0) return true;
  *fuel = 0;
  return false;
}

static uint64_t memory_size(const kiln_instance *inst) { return inst->memory ? inst->memory->size : 0; }

kiln_trap_kind bulk_memory_init(kiln_instance *inst, uint32_t seg, uint32_t d, uint32_t s, uint32_t n, int64_t *fuel) {
  if ((uint64_t)s + n > inst->data_sizes[seg] || (uint64_t)d + n > memory_size(inst))
    return KILN_TRAP_MEMORY_OUT_OF_BOUNDS;
  if (!charge_bytes(fuel, n)) return KILN_TRAP_OUT_OF_FUEL;
  const module_decl *m = &inst->module->decl;
  if (n) memcpy(inst->memory->base + d, m->bytes + m->datas[seg].bytes.start + s, n);
  return KILN_TRAP_NONE;
}

kiln_trap_kind bulk_memory_copy(kiln_instance *inst, uint32_t d, uint32_t s, uint32_t n, int64_t *fuel) {
  uint64_t size = memory_size(inst);
  if ((uint64_t)s + n > size || (uint64_t)d + n > size) return KILN_TRAP_MEMORY_OUT_OF_BOUNDS;
  if (!charge_bytes(fuel, n)) return KILN_TRAP_OUT_OF_FUEL;
  if (n) memmove(inst->memory->base + d, inst->memory->base + s, n);
  return KILN_TRAP_NONE;
}

kiln_trap_kind bulk_memory_fill(kiln_instance *inst, uint32_t d, uint32_t value, uint32_t n, int64_t *fuel) {
  if ((uint64_t)d + n > memory_size(inst)) return KILN_TRAP_MEMORY_OUT_OF_BOUNDS;
  if (!charge_bytes(fuel, n)) return KILN_TRAP_OUT_OF_FUEL;
  if (n) memset(inst->memory->base + d, (int)(uint8_t)value, n);
  return KILN_TRAP_NONE;
}

kiln_trap_kind bulk_table_init(kiln_instance *inst, uint32_t table, uint32_t seg, uint32_t d, uint32_t s,
                               uint32_t n, int64_t *fuel) {
  kiln_table *t = inst->tables[table];
  if ((uint64_t)s + n > inst->elem_sizes[seg] || (uint64_t)d + n > t->size) return KILN_TRAP_TABLE_OUT_OF_BOUNDS;
  if (!charge_bytes(fuel, (uint64_t)n * sizeof(void *))) return KILN_TRAP_OUT_OF_FUEL;
  if (n) memcpy(t->elems + d, inst->elem_items[seg] + s, n * sizeof(void *));
  return KILN_TRAP_NONE;
}

kiln_trap_kind bulk_table_copy(kiln_instance *inst, uint32_t dst, uint32_t src, uint32_t d, uint32_t s,
                               uint32_t n, int64_t *fuel) {
  kiln_table *dt = inst->tables[dst], *st = inst->tables[src];
  if ((uint64_t)s + n > st->size || (uint64_t)d + n > dt->size) return KILN_TRAP_TABLE_OUT_OF_BOUNDS;
  if (!charge_bytes(fuel, (uint64_t)n * sizeof(void *))) return KILN_TRAP_OUT_OF_FUEL;
  if (n) memmove(dt->elems + d, st->elems + s, n * sizeof(void *));
  return KILN_TRAP_NONE;
}

kiln_trap_kind bulk_table_fill(kiln_instance *inst, uint32_t table, uint32_t i, void *value, uint32_t n,
                               int64_t *fuel) {
  kiln_table *t = inst->tables[table];
  if ((uint64_t)i + n > t->size) return KILN_TRAP_TABLE_OUT_OF_BOUNDS;
  if (!charge_bytes(fuel, (uint64_t)n * sizeof(void *))) return KILN_TRAP_OUT_OF_FUEL;
  for (uint32_t k = 0; k < n; k++) t->elems[i + k] = value;
  return KILN_TRAP_NONE;
}

kiln_trap_kind bulk_table_grow(kiln_instance *inst, uint32_t table, void *init, uint32_t delta,
                               uint32_t *result, int64_t *fuel) {
  kiln_table *t = inst->tables[table];
  uint32_t old;
  kiln_status st = table_grow(t, delta, init, &old);
  *result = st == KILN_OK ? old : 0xFFFFFFFFu;
  if (st == KILN_OK && !charge_bytes(fuel, (uint64_t)delta * sizeof(void *))) return KILN_TRAP_OUT_OF_FUEL;
  return KILN_TRAP_NONE;
}
