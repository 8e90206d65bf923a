/* instance.c - instantiation: link imports by name and type, create the module's own
 * functions, tables, memories and globals, run element and data initialisers and the start
 * function. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "native/native.h"
#include "runtime.h"


void instance_destroy(kiln_instance *inst) {
  if (!inst) return;
  if (inst->elem_items)
    for (uint32_t i = 0; i < inst->module->decl.elem_count; i++) free(inst->elem_items[i]);
  free(inst->elem_items);
  free(inst->elem_sizes);
  free(inst->data_sizes);
  free(inst->funcs);
  free(inst->tables);
  free(inst->globals);
  free(inst->exports);
  module_release(inst->module);
  free(inst);
}

/* The value of a validated constant expression, in a global's 16 bytes. */
static void eval_const(const kiln_instance *inst, const const_expr *e, uint64_t out[2]) {
  switch (e->kind) {
    case CONST_GLOBAL_GET: memcpy(out, inst->globals[e->index]->value, 16); break;
    case CONST_REF_FUNC: out[0] = (uint64_t)(uintptr_t)inst->funcs[e->index]; out[1] = 0; break;
    default: out[0] = e->bits[0]; out[1] = e->bits[1]; break;
  }
}

static const char *kind_name(uint8_t k) {
  static const char *names[] = {"function", "table", "memory", "global"};
  return k < 4 ? names[k] : "?";
}

static bool limits_match(uint64_t have_min, bool have_has_max, uint64_t have_max, const limits *want) {
  if (have_min < want->min) return false;
  if (want->has_max && (!have_has_max || have_max > want->max)) return false;
  return true;
}

/* Find import i among the given ones and check its type; *out receives the match. */
static kiln_status link_import(kiln_instance *inst, const import_desc *im, uint32_t i, const kiln_import *given,
                               size_t given_count, const kiln_extern **out, kiln_error *err) {
  const kiln_import *found = NULL;
  for (size_t k = 0; k < given_count; k++)
    if (given[k].module && given[k].name && strcmp(given[k].module, im->module) == 0 &&
        strcmp(given[k].name, im->name) == 0) {
      found = &given[k];
      break;
    }
  if (!found)
    return error_set(err, KILN_ERR_LINK, "unknown import: \"%s\" \"%s\" (%s import %u) was not provided",
                     im->module, im->name, kind_name(im->kind), i);
  const kiln_extern *v = &found->value;
  *out = v;
  if (v->kind != im->kind)
    return error_set(err, KILN_ERR_LINK, "incompatible import type: \"%s\" \"%s\" must be a %s, got a %s",
                     im->module, im->name, kind_name(im->kind), kind_name((uint8_t)v->kind));
  const module_decl *m = &inst->module->decl;
  bool ok = true;
  switch (im->kind) {
    case KILN_EXTERN_FUNC:
      ok = v->of.func && v->of.func->type_id == m->types[im->type_index].type_id;
      break;
    case KILN_EXTERN_TABLE: {
      const kiln_table *t = v->of.table;
      ok = t && t->elem_type == im->table.elem_type &&
           limits_match(t->size, t->limits.has_max, t->limits.max, &im->table.lim);
      break;
    }
    case KILN_EXTERN_MEMORY: {
      const kiln_memory *mem = v->of.memory;
      /* shared only for shared (the threads proposal) */
      ok = mem && mem->limits.shared == im->memory.shared &&
           limits_match(mem->size / KILN_PAGE_SIZE, mem->limits.has_max, mem->limits.max, &im->memory);
      break;
    }
    case KILN_EXTERN_GLOBAL:
      ok = v->of.global && v->of.global->type == im->global.type && v->of.global->is_mutable == im->global.is_mutable;
      break;
  }
  if (!ok)
    return error_set(err, KILN_ERR_LINK, "incompatible import type: \"%s\" \"%s\" (%s import %u) does not match its declaration",
                     im->module, im->name, kind_name(im->kind), i);
  return KILN_OK;
}

static kiln_status nomem(kiln_error *err) { return error_set(err, KILN_ERR_NOMEM, "out of memory while instantiating"); }

kiln_status instance_create(kiln_store *store, kiln_module *module, const kiln_import *imports, size_t import_count,
                            kiln_instance **out, kiln_error *err) {
  *out = NULL;
  const module_decl *m = &module->decl;
  kiln_instance *inst = calloc(1, sizeof *inst);
  if (!inst) return nomem(err);
  inst->store = store;
  inst->helpers = &native_helpers;
  inst->module = module;
  atomic_fetch_add(&module->refcount, 1);
  inst->type_ids = module->type_ids;
  inst->funcs = calloc(m->func_count + 1, sizeof(kiln_func *));
  inst->tables = calloc(m->table_count + 1, sizeof(kiln_table *));
  inst->globals = calloc(m->global_count + 1, sizeof(kiln_global *));
  inst->data_sizes = calloc(m->data_segment_count + 1, sizeof(uint32_t));
  inst->elem_items = calloc(m->elem_count + 1, sizeof(void **));
  inst->elem_sizes = calloc(m->elem_count + 1, sizeof(uint32_t));
  inst->exports = calloc(m->export_count + 1, sizeof(kiln_extern));
  if (!inst->funcs || !inst->tables || !inst->globals || !inst->data_sizes || !inst->elem_items ||
      !inst->elem_sizes || !inst->exports) {
    instance_destroy(inst);
    return nomem(err);
  }
  kiln_status st;
  /* imports */
  uint32_t nf = 0, nt = 0, ng = 0;
  for (uint32_t i = 0; i < m->import_count; i++) {
    const import_desc *im = &m->imports[i];
    const kiln_extern *v = NULL;
    if ((st = link_import(inst, im, i, imports, import_count, &v, err))) {
      instance_destroy(inst);
      return st;
    }
    switch (im->kind) {
      case KILN_EXTERN_FUNC: inst->funcs[nf++] = v->of.func; break;
      case KILN_EXTERN_TABLE: inst->tables[nt++] = v->of.table; break;
      case KILN_EXTERN_MEMORY: inst->memory = v->of.memory; break;
      case KILN_EXTERN_GLOBAL: inst->globals[ng++] = v->of.global; break;
    }
  }
  /* from here on the instance belongs to the store: its functions may end up in shared
   * tables even if initialisation traps */
  if (!object_list_push(&store->instances, inst)) {
    instance_destroy(inst);
    return nomem(err);
  }
  bool whole_native = module->engine->config.tier != KILN_TIER_AUTO || module->precompiled;
  for (uint32_t i = 0; i < m->body_count; i++) {
    kiln_func *f = calloc(1, sizeof *f);
    if (!f || !object_list_push(&store->funcs, f)) {
      free(f);
      return nomem(err);
    }
    const functype *t = &m->types[m->func_types[m->imported_func_count + i]];
    f->type = t;
    f->type_id = t->type_id;
    f->instance = inst;
    f->index = m->imported_func_count + i;
    /* whole-module native code (compiled tier, precompiled); the auto tier's comes to each
     * kiln_func when the interpreter first finds it installed (interp.c, adopt_native) */
    if (module->native && whole_native && module->native->funcs[i]) {
      f->native = module->native->funcs[i];
      f->native_entry = (void (*)(kiln_instance *, uint64_t *))module->native->entries[i];
    } else {
      f->code = &module->funcs[i];
    }
    inst->funcs[m->imported_func_count + i] = f;
  }
  for (uint32_t i = m->imported_table_count; i < m->table_count; i++) {
    kiln_limits l = {m->tables[i].lim.min, m->tables[i].lim.max, m->tables[i].lim.has_max, false};
    kiln_table *t = table_create(store->engine, m->tables[i].elem_type, l, NULL, err);
    if (!t) return err->status;
    if (!object_list_push(&store->tables, t)) {
      table_destroy(t);
      return nomem(err);
    }
    inst->tables[i] = t;
  }
  if (m->memory_count > m->imported_memory_count) {
    const limits *ml = &m->memories[0];
    kiln_limits l = {ml->min, ml->max, ml->has_max, ml->shared};
    kiln_memory *mem = memory_create(store->engine, store->memory_limit_pages, l, err);
    if (!mem) return err->status;
    mem->owner = store;
    if (!object_list_push(&store->memories, mem)) {
      memory_destroy(mem);
      return nomem(err);
    }
    inst->memory = mem;
  }
  inst->memories = &inst->memory; /* WebAssembly 2.0: at most one */
  inst->mem0_base = inst->memory ? inst->memory->base : NULL;
  for (uint32_t i = m->imported_global_count; i < m->global_count; i++) {
    kiln_global *g = calloc(1, sizeof *g);
    if (!g || !object_list_push(&store->globals, g)) {
      free(g);
      return nomem(err);
    }
    g->type = m->global_types[i].type;
    g->is_mutable = m->global_types[i].is_mutable;
    eval_const(inst, &m->globals[i - m->imported_global_count].init, g->value);
    inst->globals[i] = g;
  }
  for (uint32_t i = 0; i < m->export_count; i++) {
    const export_desc *e = &m->exports[i];
    kiln_extern *x = &inst->exports[i];
    x->kind = (kiln_externkind)e->kind;
    switch (e->kind) {
      case KILN_EXTERN_FUNC: x->of.func = inst->funcs[e->index]; break;
      case KILN_EXTERN_TABLE: x->of.table = inst->tables[e->index]; break;
      case KILN_EXTERN_MEMORY: x->of.memory = inst->memory; break;
      case KILN_EXTERN_GLOBAL: x->of.global = inst->globals[e->index]; break;
    }
  }
  /* segments: evaluate element items, keep passive data sizes */
  for (uint32_t s = 0; s < m->elem_count; s++) {
    const elem_segment *e = &m->elems[s];
    void **items = calloc(e->count + 1, sizeof(void *));
    if (!items) return nomem(err);
    for (uint32_t k = 0; k < e->count; k++) {
      if (e->func_indices) {
        items[k] = inst->funcs[e->func_indices[k]];
      } else {
        uint64_t v[2];
        eval_const(inst, &e->exprs[k], v);
        items[k] = (void *)(uintptr_t)v[0];
      }
    }
    inst->elem_items[s] = items;
    inst->elem_sizes[s] = e->mode == SEG_DECLARATIVE ? 0 : e->count;
  }
  for (uint32_t s = 0; s < m->data_segment_count; s++)
    inst->data_sizes[s] = m->datas[s].bytes.end - m->datas[s].bytes.start;

  for (uint32_t s = 0; s < m->elem_count; s++) {
    const elem_segment *e = &m->elems[s];
    if (e->mode != SEG_ACTIVE) continue;
    uint64_t off[2];
    eval_const(inst, &e->offset, off);
    kiln_table *t = inst->tables[e->table_index];
    uint32_t d = (uint32_t)off[0];
    if ((uint64_t)d + e->count > t->size)
      return error_trap(err, KILN_TRAP_TABLE_OUT_OF_BOUNDS,
                        "out of bounds table access: element segment %u at %u + %u exceeds table size %u", s, d,
                        e->count, t->size);
    memcpy(t->elems + d, inst->elem_items[s], e->count * sizeof(void *));
    inst->elem_sizes[s] = 0;
  }
  for (uint32_t s = 0; s < m->data_segment_count; s++) {
    const data_segment *ds = &m->datas[s];
    if (ds->mode != SEG_ACTIVE) continue;
    uint64_t off[2];
    eval_const(inst, &ds->offset, off);
    uint32_t d = (uint32_t)off[0], n = inst->data_sizes[s];
    uint64_t size = inst->memory ? inst->memory->size : 0;
    if ((uint64_t)d + n > size)
      return error_trap(err, KILN_TRAP_MEMORY_OUT_OF_BOUNDS,
                        "out of bounds memory access: data segment %u at %u + %u exceeds memory size %llu", s, d, n,
                        (unsigned long long)size);
    if (n) memcpy(inst->memory->base + d, m->bytes + ds->bytes.start, n);
    inst->data_sizes[s] = 0;
  }
  if (m->has_start) {
    st = store_call(store, inst->funcs[m->start_func], err);
    if (st) return st;
  }
  *out = inst;
  return KILN_OK;
}

const char *instance_func_name(const kiln_instance *instance, uint32_t func_index) {
  if (!instance) return "";
  const module_decl *m = &instance->module->decl;
  if (!m->func_names || func_index >= m->func_count || !m->func_names[func_index]) return "";
  return m->func_names[func_index];
}
