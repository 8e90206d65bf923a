/* module.c - kiln_module: decode, validate and compile a binary once; describe its imports,
 * exports and custom sections. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "compile/compile.h"
#include "native/native.h"
#include "runtime.h"
#include "validate/validate.h"

static void module_destroy(kiln_module *m) {
  if (m->funcs)
    for (uint32_t i = 0; i < m->decl.body_count; i++) compiled_func_free(&m->funcs[i]);
  free(m->funcs);
  free(m->type_ids);
  free(m->declared_refs);
  free(m->valtype_pool);
  free(m->pool_offsets);
  native_code_free(m->native);
  module_decl_free(&m->decl);
  free(m);
}

static bool build_pool(kiln_module *m);

/* The compiled tier compiles a module in chunks of functions, each its own object: LLVM's
 * memory grows with what it compiles at once, and chunks can be compiled independently. */
#define CHUNK_FUNCS 1000u
#define CHUNK_CELLS (1u << 20)

/* The compiled tier: the engine's compiler makes objects, native/ loads them. */
static kiln_status compile_native(kiln_module *m, kiln_error *err) {
  const kiln_config *config = &m->engine->config;
  if (!config->compiler)
    return error_set(err, KILN_ERR_ARGUMENT,
                     "the compiled tier needs a compiler (kiln_config.compiler = kiln_llvm_compiler())");
  kiln_status st = native_code_new(m, &m->native, err);
  uint32_t n = m->decl.body_count;
  for (uint32_t first = 0; st == KILN_OK && first < n;) {
    uint32_t count = 0;
    uint64_t cells = 0;
    while (first + count < n && count < CHUNK_FUNCS && (count == 0 || cells < CHUNK_CELLS))
      cells += m->funcs[first + count++].code_cells;
    uint8_t *object = NULL;
    size_t size = 0;
    st = config->compiler->compile(m, config, first, count, &object, &size, err);
    if (st == KILN_OK) st = native_code_add(m, m->native, object, size, err);
    free(object);
    first += count;
  }
  return st;
}

void module_release(kiln_module *m) {
  if (m && atomic_fetch_sub(&m->refcount, 1) == 1) module_destroy(m);
}

void kiln_module_free(kiln_module *module) { module_release(module); }

kiln_status kiln_module_new(kiln_engine *engine, const uint8_t *bytes, size_t size, kiln_module **out,
                            kiln_error *err) {
  *out = NULL;
  if (!engine || (!bytes && size)) return error_set(err, KILN_ERR_ARGUMENT, "kiln_module_new: no engine or no bytes");
  kiln_module *m = calloc(1, sizeof *m);
  if (!m) return error_set(err, KILN_ERR_NOMEM, "out of memory");
  m->engine = engine;
  atomic_init(&m->refcount, 1);
  kiln_status st = decode_module(bytes, size, &m->decl, err);
  if (st) {
    free(m);
    return st;
  }
  module_decl *d = &m->decl;
  m->type_ids = calloc(d->type_count + 1, sizeof(uint32_t));
  m->declared_refs = calloc(d->func_count + 1, sizeof(bool));
  m->funcs = calloc(d->body_count + 1, sizeof(compiled_func));
  if (!m->type_ids || !m->declared_refs || !m->funcs) {
    st = error_set(err, KILN_ERR_NOMEM, "out of memory");
    goto fail;
  }
  for (uint32_t i = 0; i < d->type_count; i++) {
    if ((st = registry_intern(&engine->types, &d->types[i], &m->type_ids[i]))) {
      error_set(err, st, "out of memory");
      goto fail;
    }
    d->types[i].type_id = m->type_ids[i];
  }
  if (!build_pool(m)) {
    st = error_set(err, KILN_ERR_NOMEM, "out of memory");
    goto fail;
  }
  if ((st = validate_module(d, m->declared_refs, err))) goto fail;
  /* every function gets interpreter code: it validates the body, and a function the
   * compiler leaves out (too large or too deeply nested for it) runs in the interpreter */
  for (uint32_t i = 0; i < d->body_count; i++)
    if ((st = compile_function(m, i, &m->funcs[i], err))) goto fail;
  if (engine->config.tier == KILN_TIER_COMPILED && (st = compile_native(m, err))) goto fail;
  *out = m;
  return KILN_OK;
fail:
  module_destroy(m);
  return st;
}

static void describe(const kiln_module *m, uint8_t kind, uint32_t index, kiln_externtype *t) {
  const module_decl *d = &m->decl;
  memset(t, 0, sizeof *t);
  t->kind = (kiln_externkind)kind;
  switch (kind) {
    case KILN_EXTERN_FUNC: {
      t->func = module_functype(m, d->func_types[index]);
      break;
    }
    case KILN_EXTERN_TABLE:
      t->elem_type = (kiln_valtype)d->tables[index].elem_type;
      t->limits.min = d->tables[index].lim.min;
      t->limits.max = d->tables[index].lim.max;
      t->limits.has_max = d->tables[index].lim.has_max;
      break;
    case KILN_EXTERN_MEMORY:
      t->limits.min = d->memories[index].min;
      t->limits.max = d->memories[index].max;
      t->limits.has_max = d->memories[index].has_max;
      break;
    case KILN_EXTERN_GLOBAL:
      t->global_type = (kiln_valtype)d->global_types[index].type;
      t->global_mutable = d->global_types[index].is_mutable;
      break;
  }
}

/* Lay out every type's value types as kiln_valtype once, for the descriptors. */
static bool build_pool(kiln_module *m) {
  size_t n = 0;
  for (uint32_t i = 0; i < m->decl.type_count; i++) n += m->decl.types[i].param_count + m->decl.types[i].result_count;
  m->valtype_pool = malloc((n + 1) * sizeof *m->valtype_pool);
  m->pool_offsets = malloc(((size_t)m->decl.type_count + 1) * sizeof *m->pool_offsets);
  if (!m->valtype_pool || !m->pool_offsets) return false;
  size_t k = 0;
  for (uint32_t i = 0; i < m->decl.type_count; i++) {
    m->pool_offsets[i] = (uint32_t)k;
    for (uint32_t j = 0; j < m->decl.types[i].param_count + m->decl.types[i].result_count; j++)
      m->valtype_pool[k++] = (kiln_valtype)m->decl.types[i].types[j];
  }
  return true;
}

kiln_functype module_functype(const kiln_module *m, uint32_t type_index) {
  const functype *ft = &m->decl.types[type_index];
  kiln_functype t;
  t.params = m->valtype_pool + m->pool_offsets[type_index];
  t.param_count = ft->param_count;
  t.results = t.params + ft->param_count;
  t.result_count = ft->result_count;
  return t;
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
    describe(module, im->kind, idx, type);
  }
  return KILN_OK;
}

uint32_t kiln_module_export_count(const kiln_module *module) { return module->decl.export_count; }

kiln_status kiln_module_export(const kiln_module *module, uint32_t i, const char **name, kiln_externtype *type) {
  if (i >= module->decl.export_count) return KILN_ERR_ARGUMENT;
  const export_desc *e = &module->decl.exports[i];
  if (name) *name = e->name;
  if (type) describe(module, e->kind, e->index, type);
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
