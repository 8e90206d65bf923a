/* module.c - the public module functions: compiling a binary (or precompiling it), its
 * imports, exports and custom sections. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "runtime/runtime.h"

kiln_status kiln_module_new(kiln_engine *engine, const uint8_t *bytes, size_t size, kiln_module **out,
                            kiln_error *err) {
  *out = NULL;
  if (!engine || (!bytes && size)) return error_set(err, KILN_ERR_ARGUMENT, "kiln_module_new: no engine or no bytes");
  return module_create(engine, bytes, size, NULL, NULL, out, err);
}

/* Bytes left where they are: a release that does nothing stands for "the caller keeps them". */
static void keep_bytes(void *user_data) { (void)user_data; }

kiln_status kiln_module_new_borrowed(kiln_engine *engine, const uint8_t *bytes, size_t size,
                                     void (*release)(void *user_data), void *user_data, kiln_module **out,
                                     kiln_error *err) {
  *out = NULL;
  if (!engine || (!bytes && size)) {
    if (release) release(user_data);
    return error_set(err, KILN_ERR_ARGUMENT, "kiln_module_new_borrowed: no engine or no bytes");
  }
  return module_create(engine, bytes, size, release ? release : keep_bytes, user_data, out, err);
}

void kiln_module_free(kiln_module *module) { module_release(module); }

void kiln_module_get_stats(const kiln_module *module, kiln_module_stats *stats) {
  if (module) {
    module_stats(module, stats);
  } else {
    memset(stats, 0, sizeof *stats);
    stats->cache_note = "";
  }
}

uint32_t kiln_module_import_count(const kiln_module *module) { return module->decl.import_count; }

kiln_status kiln_module_import(const kiln_module *module, uint32_t i, const char **module_name,
                               const char **field_name, kiln_externtype *type) {
  if (i >= module->decl.import_count) return KILN_ERR_ARGUMENT;
  const import_desc *im = &module->decl.imports[i];
  if (module_name) *module_name = im->module;
  if (field_name) *field_name = im->name;
  if (type) {
    /* the index of this import within its kind's space */
    uint32_t idx = 0;
    for (uint32_t k = 0; k < i; k++) idx += module->decl.imports[k].kind == im->kind;
    module_describe(module, im->kind, idx, type);
  }
  return KILN_OK;
}

uint32_t kiln_module_export_count(const kiln_module *module) { return module->decl.export_count; }

kiln_status kiln_module_export(const kiln_module *module, uint32_t i, const char **name, kiln_externtype *type) {
  if (i >= module->decl.export_count) return KILN_ERR_ARGUMENT;
  const export_desc *e = &module->decl.exports[i];
  if (name) *name = e->name;
  if (type) module_describe(module, e->kind, e->index, type);
  return KILN_OK;
}

kiln_status kiln_module_check_js_limits(const kiln_module *module, kiln_error *err) {
  const module_decl *m = &module->decl;
  static const char *const what = "the module is over the WebAssembly JS API's limit of";
#define JS_LIMIT(count, max, name)                                                                         \
  if ((uint64_t)(count) > (max))                                                                         \
    return error_set(err, KILN_ERR_INVALID, "%s %llu %s (it has %llu)", what, (unsigned long long)(max), name, \
                     (unsigned long long)(count));
  JS_LIMIT(m->type_count, 1000000, "types")
  JS_LIMIT(m->func_count, 1000000, "functions")
  JS_LIMIT(m->import_count, 1000000, "imports")
  JS_LIMIT(m->export_count, 1000000, "exports")
  JS_LIMIT(m->global_count, 1000000, "globals")
  JS_LIMIT(m->data_segment_count, 100000, "data segments")
  JS_LIMIT(m->elem_count, 10000000, "element segments")
  JS_LIMIT(m->table_count, 100000, "tables")
  JS_LIMIT(m->memory_count, 1, "memory")
  for (uint32_t i = 0; i < m->type_count; i++) {
    JS_LIMIT(m->types[i].param_count, 1000, "params per function type")
    JS_LIMIT(m->types[i].result_count, 1000, "results per function type")
  }
  for (uint32_t i = 0; i < m->body_count; i++) {
    const func_body *b = &m->bodies[i];
    /* the body's size, as its size field says (an unsigned LEB128 at body_start) */
    uint64_t size = 0;
    for (uint32_t at = b->body_start, shift = 0; at < m->size && shift < 35; at++, shift += 7) {
      size |= (uint64_t)(m->bytes[at] & 0x7f) << shift;
      if (!(m->bytes[at] & 0x80)) break;
    }
    const functype *t = &m->types[m->func_types[m->imported_func_count + i]];
    JS_LIMIT(size, 7654321, "bytes per function body")
    JS_LIMIT(b->local_count + t->param_count, 50000, "locals (params included) per function")
  }
#undef JS_LIMIT
  return KILN_OK;
}

uint32_t kiln_module_custom_section_count(const kiln_module *module) { return module->decl.custom_count; }

kiln_status kiln_module_custom_section(const kiln_module *module, uint32_t i, const char **name,
                                       const uint8_t **data, size_t *size) {
  if (i >= module->decl.custom_count) return KILN_ERR_ARGUMENT;
  const custom_section *c = &module->decl.customs[i];
  if (name) *name = c->name;
  if (data) *data = module->decl.bytes + c->contents.start;
  if (size) *size = c->contents.end - c->contents.start;
  return KILN_OK;
}

kiln_status kiln_engine_precompile(kiln_engine *engine, const uint8_t *bytes, size_t size, uint8_t **out,
                                   size_t *out_size, kiln_error *err) {
  if (!out || !out_size) return error_set(err, KILN_ERR_ARGUMENT, "kiln_engine_precompile: no place for the result");
  *out = NULL;
  *out_size = 0;
  if (!engine || (!bytes && size))
    return error_set(err, KILN_ERR_ARGUMENT, "kiln_engine_precompile: no engine or no bytes");
  return module_precompile(engine, bytes, size, out, out_size, err);
}

void kiln_bytes_free(uint8_t *bytes) { free(bytes); }
