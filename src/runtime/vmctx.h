/* vmctx.h - the instance context ("vmctx") that compiled code reads directly, and the
 * runtime helpers it calls. The context is the hot prefix of struct kiln_instance: the
 * interpreter reads the same fields. Native code gets the instance pointer as its first
 * argument and reaches everything through the fixed offsets asserted below; a compiled
 * object therefore matches only a kiln whose layout hash (native_abi_hash) is the same.
 *
 *   offset  field            what
 *   0       memory           memory 0 (kiln_memory*: base at 0, size in bytes at 8), or NULL
 *   8       globals          kiln_global*[]: the value at offset 0 (16 bytes for v128)
 *   16      tables           kiln_table*[]: elems at 0, size (u32) at 8
 *   24      funcs            kiln_func*[] of the function index space (imports first)
 *   32      type_ids         canonical type id per type index (u32[])
 *   40      data_sizes       per data segment, 0 once dropped
 *   48      elem_items       per element segment: its references
 *   56      elem_sizes       per element segment, 0 once dropped
 *   64      mem0_base        memory 0's base address (it never moves), or NULL
 *   72      memories         kiln_memory*[] of every memory (for multi-memory)
 *   80      store            kiln_store*: interrupt flag, fuel, native stack limit
 *   88      helpers          const vm_helpers*
 *
 * A kiln_func starts with its canonical type id (u32 at 0), its native entry (8: a function
 * of the wasm signature taking the callee instance first, or NULL) and its instance (16). */
#ifndef KILN_VMCTX_H
#define KILN_VMCTX_H

#include <stdint.h>

typedef struct kiln_instance kiln_instance;
typedef struct kiln_func kiln_func;

/* What compiled code calls for what it does not do inline. A helper that traps does not
 * return: it unwinds to the native entry (native.c). */
typedef struct vm_helpers {
  /* trap of `kind` at byte `offset` of the module (the trapping instruction) */
  void (*trap)(kiln_instance *vm, int32_t kind, uint32_t offset);
  /* Call f (a host function, or wasm code without native code) with its params in slots;
   * the results replace them. */
  void (*call_slow)(kiln_instance *vm, kiln_func *f, uint64_t *slots);
  /* memory.grow of memory 0: the old size in pages, or -1 */
  uint32_t (*memory_grow)(kiln_instance *vm, uint32_t delta);
  void (*memory_init)(kiln_instance *vm, uint32_t seg, uint32_t d, uint32_t s, uint32_t n);
  void (*data_drop)(kiln_instance *vm, uint32_t seg);
  void (*memory_copy)(kiln_instance *vm, uint32_t d, uint32_t s, uint32_t n);
  void (*memory_fill)(kiln_instance *vm, uint32_t d, uint32_t value, uint32_t n);
  void (*table_init)(kiln_instance *vm, uint32_t table, uint32_t seg, uint32_t d, uint32_t s, uint32_t n);
  void (*elem_drop)(kiln_instance *vm, uint32_t seg);
  void (*table_copy)(kiln_instance *vm, uint32_t dst, uint32_t src, uint32_t d, uint32_t s, uint32_t n);
  uint32_t (*table_grow)(kiln_instance *vm, uint32_t table, void *init, uint32_t delta);
  void (*table_fill)(kiln_instance *vm, uint32_t table, uint32_t i, void *value, uint32_t n);
  /* Interrupt or fuel: trap if the store was interrupted or the fuel ran out (after
   * charging); otherwise return. Called when the inline checks see either. */
  void (*poll)(kiln_instance *vm);
  /* 1.0, for multiplications that must quiet a NaN and that LLVM may not fold away */
  double one_f64;
  float one_f32;
} vm_helpers;

/* Field offsets, for code generators (checked against the structs in runtime.h). */
enum {
  VM_MEMORY = 0,
  VM_GLOBALS = 8,
  VM_TABLES = 16,
  VM_FUNCS = 24,
  VM_TYPE_IDS = 32,
  VM_DATA_SIZES = 40,
  VM_ELEM_ITEMS = 48,
  VM_ELEM_SIZES = 56,
  VM_MEM0_BASE = 64,
  VM_MEMORIES = 72,
  VM_STORE = 80,
  VM_HELPERS = 88,
  /* in kiln_memory */
  VM_MEMORY_BASE = 0,
  VM_MEMORY_SIZE = 8,
  /* in kiln_table */
  VM_TABLE_ELEMS = 0,
  VM_TABLE_SIZE = 8,
  /* in kiln_func */
  VM_FUNC_TYPE_ID = 0,
  VM_FUNC_NATIVE = 8,
  VM_FUNC_INSTANCE = 16,
  /* in kiln_global */
  VM_GLOBAL_VALUE = 0,
  /* in kiln_store */
  VM_STORE_INTERRUPT = 0,   /* atomic int: non-zero once kiln_store_interrupt was called */
  VM_STORE_FUEL = 8,        /* int64: remaining fuel */
  VM_STORE_STACK_LIMIT = 16,/* uintptr: the lowest native stack address compiled code may use */
};

#endif
