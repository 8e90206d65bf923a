/* store.c - kiln_store: ownership of runtime objects, the execution stack, host functions,
 * calls from the host, interruption and fuel. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/error.h"
#include "runtime.h"


bool object_list_push(object_list *l, void *item) {
  if (l->count == l->capacity) {
    uint32_t cap = l->capacity ? l->capacity * 2 : 16;
    void **n = realloc(l->items, cap * sizeof(void *));
    if (!n) return false;
    l->items = n;
    l->capacity = cap;
  }
  l->items[l->count++] = item;
  return true;
}

kiln_store *kiln_store_new(kiln_engine *engine) {
  kiln_store *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->engine = engine;
  /* The value stack and the frames are mapped, not malloc'd: pages are touched only as
   * calls go deep, and freeing the store gives them back to the system at once (large
   * malloc blocks may stay in the heap after free, so many short-lived stores grew RSS). */
  size_t bytes = (engine->config.value_stack_bytes + 63) & ~(size_t)63;
  s->max_depth = engine->config.max_call_depth;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  s->stack_mapping = (bytes + (size_t)s->max_depth * sizeof(frame) + page - 1) & ~(page - 1);
  void *base = mmap(NULL, s->stack_mapping, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                    -1, 0);
  if (base == MAP_FAILED) {
    free(s);
    return NULL;
  }
  s->stack = base;
  s->frames = (frame *)(s->stack + bytes);
  s->stack_end = s->stack + bytes;
  s->stack_top = s->stack;
  atomic_init(&s->interrupt, 0);
  s->fuel = INT64_MAX;
  return s;
}

void kiln_store_free(kiln_store *store) {
  if (!store) return;
  for (uint32_t i = 0; i < store->instances.count; i++) instance_destroy(store->instances.items[i]);
  for (uint32_t i = 0; i < store->funcs.count; i++) {
    kiln_func *f = store->funcs.items[i];
    if (f->finalizer) f->finalizer(f->user_data);
    free(f->host_valtypes);
    free(f->host_type.types);
    free(f);
  }
  for (uint32_t i = 0; i < store->memories.count; i++) memory_destroy(store->memories.items[i]);
  for (uint32_t i = 0; i < store->tables.count; i++) table_destroy(store->tables.items[i]);
  for (uint32_t i = 0; i < store->globals.count; i++) free(store->globals.items[i]);
  free(store->instances.items);
  free(store->funcs.items);
  free(store->memories.items);
  free(store->tables.items);
  free(store->globals.items);
  munmap(store->stack, store->stack_mapping);
  free(store);
}

void kiln_store_set_memory_limit(kiln_store *store, uint64_t max_bytes) {
  store->memory_limit_pages = max_bytes / KILN_PAGE_SIZE;
  if (max_bytes && !store->memory_limit_pages) store->memory_limit_pages = 1;
}

void kiln_store_interrupt(kiln_store *store) { atomic_store(&store->interrupt, 1); }
void kiln_store_clear_interrupt(kiln_store *store) { atomic_store(&store->interrupt, 0); }
bool kiln_store_interrupt_pending(const kiln_store *store) {
  return atomic_load(&((kiln_store *)store)->interrupt) != 0;
}

void kiln_store_set_fuel(kiln_store *store, uint64_t fuel) {
  store->fuel_limited = fuel != UINT64_MAX;
  store->fuel = fuel >= (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)fuel;
}

uint64_t kiln_store_fuel(const kiln_store *store) {
  if (!store->fuel_limited) return UINT64_MAX;
  return store->fuel < 0 ? 0 : (uint64_t)store->fuel;
}

/* ------------------------------------------------------------------ objects */

kiln_memory *kiln_memory_new(kiln_store *store, kiln_limits limits, kiln_error *err) {
  kiln_memory *m = memory_create(store->engine, store->memory_limit_pages, limits, err);
  if (m && !object_list_push(&store->memories, m)) {
    memory_destroy(m);
    error_set(err, KILN_ERR_NOMEM, "out of memory");
    return NULL;
  }
  return m;
}

kiln_table *kiln_table_new(kiln_store *store, kiln_valtype elem_type, kiln_limits limits, kiln_val init,
                           kiln_error *err) {
  if ((elem_type != KILN_FUNCREF && elem_type != KILN_EXTERNREF) || init.type != elem_type ||
      (limits.has_max && limits.min > limits.max) || limits.min > UINT32_MAX) {
    error_set(err, KILN_ERR_ARGUMENT, "kiln_table_new: bad element type, initial value or limits");
    return NULL;
  }
  kiln_table *t = table_create(store->engine, (uint8_t)elem_type, limits, init.of.externref, err);
  if (t && !object_list_push(&store->tables, t)) {
    table_destroy(t);
    error_set(err, KILN_ERR_NOMEM, "out of memory");
    return NULL;
  }
  return t;
}

kiln_global *kiln_global_new(kiln_store *store, kiln_valtype type, bool is_mutable, kiln_val value) {
  if (value.type != type) return NULL;
  kiln_global *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->type = (uint8_t)type;
  g->is_mutable = is_mutable;
  memcpy(g->value, &value.of, type == KILN_V128 ? 16 : 8);
  if (type == KILN_I32 || type == KILN_F32) g->value[0] &= 0xFFFFFFFFu;
  if (!object_list_push(&store->globals, g)) {
    free(g);
    return NULL;
  }
  return g;
}

static bool valid_valtype(kiln_valtype t) {
  return t == KILN_I32 || t == KILN_I64 || t == KILN_F32 || t == KILN_F64 || t == KILN_V128 ||
         t == KILN_FUNCREF || t == KILN_EXTERNREF;
}

kiln_func *kiln_func_new(kiln_store *store, const kiln_functype *type, kiln_host_callback callback,
                         void *user_data, void (*finalizer)(void *)) {
  if (!store || !type || !callback) return NULL;
  uint32_t n = type->param_count + type->result_count;
  for (uint32_t i = 0; i < type->param_count; i++) if (!valid_valtype(type->params[i])) return NULL;
  for (uint32_t i = 0; i < type->result_count; i++) if (!valid_valtype(type->results[i])) return NULL;
  kiln_func *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->host_type.param_count = type->param_count;
  f->host_type.result_count = type->result_count;
  f->host_type.types = malloc(n ? n : 1);
  f->host_valtypes = malloc((n ? n : 1) * sizeof(kiln_valtype));
  if (!f->host_type.types || !f->host_valtypes) goto fail;
  for (uint32_t i = 0; i < type->param_count; i++) f->host_type.types[i] = (uint8_t)type->params[i];
  for (uint32_t i = 0; i < type->result_count; i++) f->host_type.types[type->param_count + i] = (uint8_t)type->results[i];
  for (uint32_t i = 0; i < n; i++) f->host_valtypes[i] = (kiln_valtype)f->host_type.types[i];
  functype_layout(&f->host_type);
  if (registry_intern(&store->engine->types, &f->host_type, &f->type_id)) goto fail;
  f->host_type.type_id = f->type_id;
  f->type = &f->host_type;
  f->callback = callback;
  f->user_data = user_data;
  f->finalizer = finalizer;
  if (!object_list_push(&store->funcs, f)) goto fail;
  return f;
fail:
  free(f->host_type.types);
  free(f->host_valtypes);
  free(f);
  return NULL;
}

kiln_functype kiln_func_type(const kiln_func *func) {
  if (!func->callback) { /* a wasm function */
    const kiln_module *m = func->instance->module;
    return module_functype(m, (uint32_t)(func->type - m->decl.types));
  }
  kiln_functype t;
  t.params = func->host_valtypes;
  t.param_count = func->type->param_count;
  t.results = t.params + t.param_count;
  t.result_count = func->type->result_count;
  return t;
}

/* Run func with its params already at store->stack_top (which it restores); the results
 * are left there. Checks the nesting of calls made from host callbacks. */
static kiln_status call_at_top(kiln_store *store, kiln_func *func, kiln_error *err) {
  uint8_t *base = store->stack_top;
  uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  if (store->host_entries == 0) {
    store->native_stack_base = here;
  } else {
    uintptr_t used = store->native_stack_base > here ? store->native_stack_base - here : here - store->native_stack_base;
    if (used > MAX_NESTED_NATIVE_STACK)
      return error_trap(err, KILN_TRAP_STACK_EXHAUSTED,
                        "call stack exhausted: %u nested calls from host functions use %zu KiB of native stack",
                        store->host_entries, (size_t)(used >> 10));
  }
  err->status = KILN_OK;
  store->host_entries++;
  kiln_status st = interp_call(store, func, err);
  store->host_entries--;
  store->stack_top = base;
  return st;
}

/* Room on the value stack for the call's params and results. */
static bool call_fits(const kiln_store *store, const functype *t) {
  return (size_t)(store->stack_end - store->stack_top) >= 8 * (size_t)functype_call_slots(t);
}

kiln_status kiln_func_call(kiln_store *store, kiln_func *func, const kiln_val *args, size_t arg_count,
                           kiln_val *results, size_t result_count, kiln_error *err) {
  kiln_error scratch;
  if (!err) err = &scratch;
  if (!store || !func) return error_set(err, KILN_ERR_ARGUMENT, "kiln_func_call: no store or function");
  const functype *t = func->type;
  if (arg_count != t->param_count)
    return error_set(err, KILN_ERR_ARGUMENT, "expected %u arguments, got %zu", t->param_count, arg_count);
  if (result_count < t->result_count)
    return error_set(err, KILN_ERR_ARGUMENT, "room for %zu results given, the function returns %u", result_count,
                     t->result_count);
  if (!call_fits(store, t)) return error_trap(err, KILN_TRAP_STACK_EXHAUSTED, "call stack exhausted");
  uint64_t *p = (uint64_t *)(void *)store->stack_top;
  for (uint32_t i = 0; i < t->param_count; i++) {
    uint8_t ty = t->types[i];
    if ((uint8_t)args[i].type != ty)
      return error_set(err, KILN_ERR_ARGUMENT, "argument %u: expected %s, got %s", i,
                       kiln_valtype_string((kiln_valtype)ty), kiln_valtype_string(args[i].type));
    if (ty == VT_I32 || ty == VT_F32) {
      *p++ = args[i].of.f32_bits;
    } else if (ty == VT_V128) {
      memcpy(p, args[i].of.v128, 16);
      p += 2;
    } else {
      memcpy(p++, &args[i].of, 8);
    }
  }
  kiln_status st = call_at_top(store, func, err);
  if (st != KILN_OK) return st;
  p = (uint64_t *)(void *)store->stack_top;
  for (uint32_t i = 0; i < t->result_count; i++) {
    uint8_t ty = t->types[t->param_count + i];
    results[i].type = (kiln_valtype)ty;
    if (ty == VT_V128) {
      memcpy(results[i].of.v128, p, 16);
      p += 2;
    } else { /* i32 and f32 results were stored as 4 bytes: read as many */
      memset(&results[i].of, 0, sizeof results[i].of);
      memcpy(&results[i].of, p++, ty == VT_I32 || ty == VT_F32 ? 4 : 8);
    }
  }
  return KILN_OK;
}

kiln_status kiln_func_call_raw(kiln_store *store, kiln_func *func, uint64_t *slots, kiln_error *err) {
  kiln_error scratch;
  if (!err) err = &scratch;
  if (!store || !func || (!slots && (func->type->param_slots || func->type->result_slots)))
    return error_set(err, KILN_ERR_ARGUMENT, "kiln_func_call_raw: no store, function or slots");
  const functype *t = func->type;
  if (!t->numeric)
    return error_set(err, KILN_ERR_ARGUMENT,
                     "kiln_func_call_raw: the function has reference-typed params or results; use kiln_func_call");
  if (!call_fits(store, t)) return error_trap(err, KILN_TRAP_STACK_EXHAUSTED, "call stack exhausted");
  /* Slot by slot, not memcpy: a wide load of slots the caller has just stored one by one
   * misses store forwarding and stalls, which cost more than the rest of the call. */
  uint64_t *top = (uint64_t *)(void *)store->stack_top;
  for (uint32_t i = 0; i < t->param_slots; i++) top[i] = slots[i];
  kiln_status st = call_at_top(store, func, err);
  if (st != KILN_OK) return st;
  /* An i32 or f32 result was stored as 4 bytes: read it as 4 bytes, for the same reason. */
  const uint8_t *types = t->types + t->param_count;
  for (uint32_t i = 0, k = 0; i < t->result_count; i++, k++) {
    uint32_t low;
    switch (types[i]) {
    case VT_I32:
    case VT_F32:
      memcpy(&low, &top[k], 4);
      slots[k] = low;
      break;
    case VT_V128:
      slots[k] = top[k];
      k++;
      slots[k] = top[k];
      break;
    default:
      slots[k] = top[k];
    }
  }
  return KILN_OK;
}

uint32_t kiln_func_raw_slots(const kiln_func *func) {
  const functype *t = func->type;
  if (!t->numeric) return 0;
  uint32_t n = functype_call_slots(t);
  return n ? n : 1;
}

/* ------------------------------------------------------------------ callers */

kiln_memory *kiln_caller_memory(kiln_caller *caller) {
  return caller->instance ? caller->instance->memory : NULL;
}
kiln_store *kiln_caller_store(kiln_caller *caller) { return caller->store; }
kiln_instance *kiln_caller_instance(kiln_caller *caller) { return caller->instance; }

kiln_status kiln_caller_trap(kiln_caller *caller, const char *format, ...) {
  kiln_error *err = caller->err;
  error_trap(err, KILN_TRAP_HOST, "%s", "");
  va_list ap;
  va_start(ap, format);
  vsnprintf(err->message, sizeof err->message, format, ap);
  va_end(ap);
  return KILN_ERR_TRAP;
}

kiln_status kiln_caller_exit(kiln_caller *caller, int32_t code) {
  error_trap(caller->err, KILN_TRAP_EXIT, "exit with code %d", code);
  caller->err->exit_code = code;
  return KILN_ERR_TRAP;
}
