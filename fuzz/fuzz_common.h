/* fuzz_common.h - the routine shared by the fuzz targets (fuzz/fuzz_*.c) and the regression
 * test (tests/unit/test_regress.c): decode a module, instantiate it with every import it
 * asks for, call every exported function with zero arguments, free everything.
 *
 * Public API only (kiln.h). Everything is static: include it in one translation unit. */
#ifndef KILN_FUZZ_COMMON_H
#define KILN_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiln.h"

/* Small limits so that no input can ask for gigabytes or run for long. */
#define FUZZ_MAX_MEMORY_BYTES (16u << 20)
#define FUZZ_MAX_TABLE_ELEMENTS 100000u
#define FUZZ_MAX_CALL_DEPTH 2000u
#define FUZZ_VALUE_STACK_BYTES (1u << 20)
#define FUZZ_FUEL 100000u

/* What happened to one input. */
typedef struct fuzz_outcome {
  kiln_status module_status;      /* kiln_module_new */
  bool instantiated_tried;        /* imports could all be created */
  kiln_status instantiate_status; /* kiln_instantiate (KILN_OK if not tried) */
  kiln_trap_kind instantiate_trap;
  uint32_t calls;                 /* exported functions called */
  uint32_t call_traps;            /* of which trapped */
  kiln_trap_kind last_trap;       /* the trap of the last call that trapped */
  kiln_status last_call_status;   /* the last call's status that was not KILN_OK */
  uint64_t host_calls;            /* calls of imported functions (start function included) */
} fuzz_outcome;

/* Counts calls of fuzz_host_zero during one fuzz_run (single-threaded use). */
static uint64_t fuzz_host_calls;

static kiln_engine *fuzz_engine_new(void) {
  kiln_config config;
  kiln_config_init(&config);
  config.max_memory_bytes = FUZZ_MAX_MEMORY_BYTES;
  config.max_table_elements = FUZZ_MAX_TABLE_ELEMENTS;
  config.max_call_depth = FUZZ_MAX_CALL_DEPTH;
  config.value_stack_bytes = FUZZ_VALUE_STACK_BYTES;
  return kiln_engine_new(&config);
}

/* The zero value of a type (null for references). */
static kiln_val fuzz_zero(kiln_valtype type) {
  kiln_val v;
  memset(&v, 0, sizeof v);
  v.type = type;
  return v;
}

/* The host function behind every imported function: returns zeros. user_data carries the
 * result count (the types are pre-set by the runtime). */
static kiln_status fuzz_host_zero(kiln_caller *caller, void *user_data, const kiln_val *args, kiln_val *results) {
  (void)caller;
  (void)args;
  fuzz_host_calls++;
  uint32_t n = (uint32_t)(uintptr_t)user_data;
  for (uint32_t i = 0; i < n; i++) results[i] = fuzz_zero(results[i].type);
  return KILN_OK;
}

/* Create an object of the import's type in store. Returns false if it cannot be made (e.g. a
 * memory larger than the configured limit). */
static bool fuzz_make_import(kiln_store *store, const kiln_externtype *t, kiln_extern *out) {
  kiln_error err;
  out->kind = t->kind;
  switch (t->kind) {
    case KILN_EXTERN_FUNC:
      out->of.func = kiln_func_new(store, &t->func, fuzz_host_zero, (void *)(uintptr_t)t->func.result_count, NULL);
      return out->of.func != NULL;
    case KILN_EXTERN_TABLE:
      out->of.table = kiln_table_new(store, t->elem_type, t->limits, fuzz_zero(t->elem_type), &err);
      return out->of.table != NULL;
    case KILN_EXTERN_MEMORY:
      out->of.memory = kiln_memory_new(store, t->limits, &err);
      return out->of.memory != NULL;
    case KILN_EXTERN_GLOBAL:
      out->of.global = kiln_global_new(store, t->global_type, t->global_mutable, fuzz_zero(t->global_type));
      return out->of.global != NULL;
  }
  return false;
}

/* Call every exported function of inst with zero arguments, fuel reset before each call. */
static void fuzz_call_exports(kiln_store *store, kiln_instance *inst, fuzz_outcome *o) {
  uint32_t n = kiln_instance_export_count(inst);
  for (uint32_t i = 0; i < n; i++) {
    const char *name;
    kiln_extern x;
    if (kiln_instance_export_at(inst, i, &name, &x) != KILN_OK || x.kind != KILN_EXTERN_FUNC) continue;
    kiln_functype ft = kiln_func_type(x.of.func);
    kiln_val *args = calloc(ft.param_count + 1, sizeof *args);
    kiln_val *results = calloc(ft.result_count + 1, sizeof *results);
    if (args && results) {
      for (uint32_t k = 0; k < ft.param_count; k++) args[k] = fuzz_zero(ft.params[k]);
      kiln_error err;
      memset(&err, 0, sizeof err);
      kiln_store_set_fuel(store, FUZZ_FUEL);
      kiln_status st = kiln_func_call(store, x.of.func, args, ft.param_count, results, ft.result_count, &err);
      o->calls++;
      if (st != KILN_OK) {
        o->last_call_status = st;
        if (st == KILN_ERR_TRAP) {
          o->call_traps++;
          o->last_trap = err.trap;
        }
      }
    }
    free(args);
    free(results);
  }
}

/* Instantiate module in a fresh store with every import it asks for, then call its exports. */
static void fuzz_instantiate_and_call(kiln_engine *engine, kiln_module *module, fuzz_outcome *o) {
  kiln_store *store = kiln_store_new(engine);
  if (!store) return;
  uint32_t n = kiln_module_import_count(module);
  kiln_import *imports = calloc(n + 1, sizeof *imports);
  bool ok = imports != NULL;
  for (uint32_t i = 0; ok && i < n; i++) {
    kiln_externtype t;
    ok = kiln_module_import(module, i, &imports[i].module, &imports[i].name, &t) == KILN_OK &&
         fuzz_make_import(store, &t, &imports[i].value);
  }
  if (ok) {
    o->instantiated_tried = true;
    kiln_error err;
    memset(&err, 0, sizeof err);
    kiln_instance *inst = NULL;
    kiln_store_set_fuel(store, FUZZ_FUEL);
    o->instantiate_status = kiln_instantiate(store, module, imports, n, &inst, &err);
    if (o->instantiate_status == KILN_ERR_TRAP) o->instantiate_trap = err.trap;
    if (o->instantiate_status == KILN_OK && inst) fuzz_call_exports(store, inst, o);
  }
  free(imports);
  kiln_store_free(store);
}

/* The whole routine for one input. With instantiate false, only decode/validate/compile. */
static void fuzz_run(kiln_engine *engine, const uint8_t *data, size_t size, bool instantiate, fuzz_outcome *o) {
  memset(o, 0, sizeof *o);
  fuzz_host_calls = 0;
  kiln_module *module = NULL;
  kiln_error err;
  memset(&err, 0, sizeof err);
  o->module_status = kiln_module_new(engine, data, size, &module, &err);
  if (o->module_status != KILN_OK) return;
  if (instantiate) {
    /* exercise the descriptions too */
    uint32_t nc = kiln_module_custom_section_count(module);
    for (uint32_t i = 0; i < nc; i++) {
      const char *name;
      const uint8_t *bytes;
      size_t len;
      (void)kiln_module_custom_section(module, i, &name, &bytes, &len);
    }
    uint32_t ne = kiln_module_export_count(module);
    for (uint32_t i = 0; i < ne; i++) {
      const char *name;
      kiln_externtype t;
      (void)kiln_module_export(module, i, &name, &t);
    }
    fuzz_instantiate_and_call(engine, module, o);
    o->host_calls = fuzz_host_calls;
  }
  kiln_module_free(module);
}

#endif
