/* instance.c - the public instance functions: instantiation and exports. */
#include <string.h>

#include "base/error.h"
#include "runtime/runtime.h"

kiln_status kiln_instantiate(kiln_store *store, kiln_module *module, const kiln_import *imports, size_t import_count,
                             kiln_instance **out, kiln_error *err) {
  kiln_error scratch;
  if (!err) err = &scratch;
  *out = NULL;
  if (!store || !module) return error_set(err, KILN_ERR_ARGUMENT, "kiln_instantiate: no store or module");
  if (import_count && !imports) return error_set(err, KILN_ERR_ARGUMENT, "kiln_instantiate: imports is NULL");
  return instance_create(store, module, imports, import_count, out, err);
}

kiln_status kiln_instance_export(kiln_instance *instance, const char *name, kiln_extern *out) {
  return kiln_instance_export_n(instance, name, strlen(name), out);
}

kiln_status kiln_instance_export_n(kiln_instance *instance, const char *name, size_t len, kiln_extern *out) {
  const module_decl *m = &instance->module->decl;
  for (uint32_t i = 0; i < m->export_count; i++)
    if (m->exports[i].name_len == len && memcmp(m->exports[i].name, name, len) == 0) {
      *out = instance->exports[i];
      return KILN_OK;
    }
  return KILN_ERR_NOT_FOUND;
}

uint32_t kiln_instance_export_count(const kiln_instance *instance) { return instance->module->decl.export_count; }

kiln_status kiln_instance_export_at(kiln_instance *instance, uint32_t i, const char **name, kiln_extern *out) {
  if (i >= instance->module->decl.export_count) return KILN_ERR_ARGUMENT;
  if (name) *name = instance->module->decl.exports[i].name;
  if (out) *out = instance->exports[i];
  return KILN_OK;
}

const kiln_module *kiln_instance_module(const kiln_instance *instance) { return instance->module; }

const char *kiln_instance_func_name(const kiln_instance *instance, uint32_t func_index) {
  return instance_func_name(instance, func_index);
}
