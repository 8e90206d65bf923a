/* validate.c - module-level validation: index spaces, limits, exports, segments, start
 * function and constant expressions. Function bodies are validated by compile/. */
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/reader.h"
#include <stdio.h>

#define MAX_PAGES 65536u
/* Implementation limits on function types, those of the JS API and most engines: validating
 * and compiling a block, branch or call costs work per value, so without a bound a few bytes
 * of nested blocks of one huge type would cost billions of steps. */
#define MAX_FUNC_PARAMS 1000u
#define MAX_FUNC_RESULTS 1000u

static kiln_status check_limits(const limits *l, uint64_t bound, const char *what, uint32_t index,
                                kiln_error *err) {
  if (l->min > bound)
    return error_set(err, KILN_ERR_INVALID, "%s %u: size minimum must be at most %llu", what, index,
                     (unsigned long long)bound);
  if (l->has_max && l->max > bound)
    return error_set(err, KILN_ERR_INVALID, "%s %u: size maximum must be at most %llu", what, index,
                     (unsigned long long)bound);
  if (l->has_max && l->min > l->max)
    return error_set(err, KILN_ERR_INVALID, "%s %u: size minimum must not be greater than maximum", what, index);
  return KILN_OK;
}

static int compare_export_names(const void *a, const void *b) {
  const export_desc *x = *(const export_desc *const *)a, *y = *(const export_desc *const *)b;
  if (x->name_len != y->name_len) return x->name_len < y->name_len ? -1 : 1;
  return x->name_len ? memcmp(x->name, y->name, x->name_len) : 0;
}

/* Export names must be unique: sorted, equal names are neighbours (n log n, not n^2). */
static kiln_status check_export_names(const module_decl *m, kiln_error *err) {
  if (m->export_count < 2) return KILN_OK;
  const export_desc **sorted = malloc(m->export_count * sizeof *sorted);
  if (!sorted) return error_set(err, KILN_ERR_NOMEM, "out of memory checking export names");
  for (uint32_t i = 0; i < m->export_count; i++) sorted[i] = &m->exports[i];
  qsort(sorted, m->export_count, sizeof *sorted, compare_export_names);
  kiln_status st = KILN_OK;
  for (uint32_t i = 1; i < m->export_count && !st; i++)
    if (compare_export_names(&sorted[i - 1], &sorted[i]) == 0)
      st = error_set(err, KILN_ERR_INVALID, "export section: duplicate export name \"%s\"", sorted[i]->name);
  free(sorted);
  return st;
}

kiln_status validate_const_expr(const module_decl *m, const const_expr *e, uint8_t expected,
                                bool *declared_refs, const char *where, kiln_error *err) {
  if (e->non_const_at)
    return error_set(err, KILN_ERR_INVALID, "%s, offset 0x%x: constant expression required", where, e->non_const_at);
  uint8_t type = e->type;
  if (e->value_count == 1 && e->kind == CONST_REF_FUNC) {
    if (e->index >= m->func_count) return error_set(err, KILN_ERR_INVALID, "%s: unknown function %u", where, e->index);
    if (declared_refs) declared_refs[e->index] = true;
  } else if (e->value_count == 1 && e->kind == CONST_GLOBAL_GET) {
    uint32_t g = e->index;
    if (g >= m->global_count) return error_set(err, KILN_ERR_INVALID, "%s: unknown global %u", where, g);
    if (g >= m->imported_global_count)
      return error_set(err, KILN_ERR_INVALID, "%s: unknown global %u (constant expressions may only read imported globals)", where, g);
    if (m->global_types[g].is_mutable)
      return error_set(err, KILN_ERR_INVALID, "%s: constant expression required (global %u is mutable)", where, g);
    type = m->global_types[g].type;
  }
  if (e->value_count != 1 || type != expected)
    return error_set(err, KILN_ERR_INVALID, "%s: type mismatch in constant expression (expected one %s)", where,
                     kiln_valtype_string((kiln_valtype)expected));
  return KILN_OK;
}

static bool func_type_ok(const module_decl *m, uint32_t type_index) { return type_index < m->type_count; }

kiln_status validate_module(const module_decl *m, bool *declared_refs, kiln_error *err) {
  kiln_status st;
  char where[96];
  for (uint32_t t = 0; t < m->type_count; t++)
    if (m->types[t].param_count > MAX_FUNC_PARAMS || m->types[t].result_count > MAX_FUNC_RESULTS)
      return error_set(err, KILN_ERR_LIMIT, "type section, type %u: %u parameters and %u results (the limit is %u each)",
                       t, m->types[t].param_count, m->types[t].result_count, MAX_FUNC_PARAMS);
  for (uint32_t i = 0; i < m->import_count; i++) {
    const import_desc *im = &m->imports[i];
    if (im->kind == KILN_EXTERN_FUNC && !func_type_ok(m, im->type_index))
      return error_set(err, KILN_ERR_INVALID, "import section, import %u: unknown type %u", i, im->type_index);
  }
  for (uint32_t f = m->imported_func_count; f < m->func_count; f++)
    if (!func_type_ok(m, m->func_types[f]))
      return error_set(err, KILN_ERR_INVALID, "function section, function %u: unknown type %u", f, m->func_types[f]);
  for (uint32_t t = 0; t < m->table_count; t++)
    if ((st = check_limits(&m->tables[t].lim, UINT32_MAX, "table", t, err))) return st;
  if (m->memory_count > 1) return error_set(err, KILN_ERR_INVALID, "multiple memories are not supported");
  for (uint32_t i = 0; i < m->memory_count; i++)
    if ((st = check_limits(&m->memories[i], MAX_PAGES, "memory", i, err))) {
      snprintf(err->message, sizeof err->message, "memory %u: memory size must be at most 65536 pages (4GiB)", i);
      if (m->memories[i].min <= MAX_PAGES && (!m->memories[i].has_max || m->memories[i].max <= MAX_PAGES))
        snprintf(err->message, sizeof err->message, "memory %u: size minimum must not be greater than maximum", i);
      return st;
    }

  /* exports: unique names, indices in range; exported functions count as declared refs */
  for (uint32_t i = 0; i < m->export_count; i++) {
    const export_desc *e = &m->exports[i];
    uint32_t limit = e->kind == KILN_EXTERN_FUNC ? m->func_count
                   : e->kind == KILN_EXTERN_TABLE ? m->table_count
                   : e->kind == KILN_EXTERN_MEMORY ? m->memory_count : m->global_count;
    if (e->index >= limit)
      return error_set(err, KILN_ERR_INVALID, "export section, export \"%s\": unknown index %u", e->name, e->index);
    if (e->kind == KILN_EXTERN_FUNC) declared_refs[e->index] = true;
  }
  if ((st = check_export_names(m, err))) return st;

  for (uint32_t g = 0; g < m->global_count - m->imported_global_count; g++) {
    snprintf(where, sizeof where, "global section, global %u", m->imported_global_count + g);
    if ((st = validate_const_expr(m, &m->globals[g].init, m->globals[g].type.type, declared_refs, where, err))) return st;
  }

  if (m->has_start) {
    if (m->start_func >= m->func_count)
      return error_set(err, KILN_ERR_INVALID, "start section: unknown function %u", m->start_func);
    const functype *t = &m->types[m->func_types[m->start_func]];
    if (t->param_count || t->result_count)
      return error_set(err, KILN_ERR_INVALID, "start section: start function %u must take and return nothing", m->start_func);
  }

  for (uint32_t s = 0; s < m->elem_count; s++) {
    const elem_segment *e = &m->elems[s];
    if (e->mode == SEG_ACTIVE) {
      if (e->table_index >= m->table_count)
        return error_set(err, KILN_ERR_INVALID, "element section, segment %u: unknown table %u", s, e->table_index);
      if (m->tables[e->table_index].elem_type != e->elem_type)
        return error_set(err, KILN_ERR_INVALID, "element section, segment %u: type mismatch between segment and table", s);
      snprintf(where, sizeof where, "element section, segment %u offset", s);
      if ((st = validate_const_expr(m, &e->offset, VT_I32, declared_refs, where, err))) return st;
    }
    for (uint32_t k = 0; k < e->count; k++) {
      if (e->func_indices) {
        if (e->func_indices[k] >= m->func_count)
          return error_set(err, KILN_ERR_INVALID, "element section, segment %u: unknown function %u", s, e->func_indices[k]);
        declared_refs[e->func_indices[k]] = true;
      } else {
        snprintf(where, sizeof where, "element section, segment %u, element %u", s, k);
        if ((st = validate_const_expr(m, &e->exprs[k], e->elem_type, declared_refs, where, err))) return st;
      }
    }
  }

  for (uint32_t s = 0; s < m->data_segment_count; s++) {
    const data_segment *d = &m->datas[s];
    if (d->mode != SEG_ACTIVE) continue;
    if (d->memory_index >= m->memory_count)
      return error_set(err, KILN_ERR_INVALID, "data section, segment %u: unknown memory %u", s, d->memory_index);
    snprintf(where, sizeof where, "data section, segment %u offset", s);
    if ((st = validate_const_expr(m, &d->offset, VT_I32, declared_refs, where, err))) return st;
  }
  return KILN_OK;
}
