/* bulk.h - the bulk memory and table instructions (memory.init/copy/fill, table.init/copy/
 * fill/grow, data.drop, elem.drop), shared by the interpreter and compiled code. Each returns
 * KILN_TRAP_NONE or the trap to raise, and charges *fuel one unit per FUEL_BYTES written. */
#ifndef KILN_BULK_H
#define KILN_BULK_H

#include "runtime/runtime.h"

kiln_trap_kind bulk_memory_init(kiln_instance *inst, uint32_t seg, uint32_t d, uint32_t s, uint32_t n, int64_t *fuel);
kiln_trap_kind bulk_memory_copy(kiln_instance *inst, uint32_t d, uint32_t s, uint32_t n, int64_t *fuel);
kiln_trap_kind bulk_memory_fill(kiln_instance *inst, uint32_t d, uint32_t value, uint32_t n, int64_t *fuel);
kiln_trap_kind bulk_table_init(kiln_instance *inst, uint32_t table, uint32_t seg, uint32_t d, uint32_t s,
                               uint32_t n, int64_t *fuel);
kiln_trap_kind bulk_table_copy(kiln_instance *inst, uint32_t dst, uint32_t src, uint32_t d, uint32_t s,
                               uint32_t n, int64_t *fuel);
kiln_trap_kind bulk_table_fill(kiln_instance *inst, uint32_t table, uint32_t i, void *value, uint32_t n,
                               int64_t *fuel);
/* table.grow: the old size, or 0xFFFFFFFF when the table cannot grow (never traps but for fuel). */
kiln_trap_kind bulk_table_grow(kiln_instance *inst, uint32_t table, void *init, uint32_t delta,
                               uint32_t *result, int64_t *fuel);

#endif
