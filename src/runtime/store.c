/* store.c - stores: ownership of runtime objects, the execution stack, host functions and
 * calls from the host (interruption and fuel are fields the API sets and the tiers read). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/error.h"
#include "native/native.h"
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

/* The value stack and the frames are mapped, not malloc'd: pages are touched only as calls go
 * deep, and freeing the store gives them back to the system at once (large malloc blocks may
 * stay in the heap after free, so many short-lived stores grew RSS). The engine keeps a few
 * mappings for the next stores, their pages given back (MADV_DONTNEED: they read as zeros
 * again): mapping and unmapping 9 MiB took a third of a small module's instantiation. */
static uint8_t *stack_take(kiln_engine *e, size_t bytes) {
  uint8_t *base = pool_take(&e->stacks, bytes);
  if (base) return base;
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void stack_give(kiln_engine *e, uint8_t *base, size_t bytes) {
  if (madvise(base, bytes, MADV_DONTNEED) != 0 || !pool_put(&e->stacks, STACK_POOL_SIZE, base, bytes))
    munmap(base, bytes);
}

kiln_store *store_create(kiln_engine *engine) {
  kiln_store *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->engine = engine;
  size_t bytes = (engine->config.value_stack_bytes + 63) & ~(size_t)63;
  s->max_depth = engine->config.max_call_depth;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  s->stack_mapping = (bytes + (size_t)s->max_depth * sizeof(frame) + page - 1) & ~(page - 1);
  uint8_t *base = stack_take(engine, s->stack_mapping);
  if (!base) {
    free(s);
    return NULL;
  }
  s->stack = base;
  s->frames = (frame *)(s->stack + bytes);
  s->stack_end = s->stack + bytes;
  s->stack_top = s->stack;
  atomic_init(&s->interrupt, 0);
  atomic_init(&s->interrupt_hook_count, 0);
  s->fuel = INT64_MAX;
  return s;
}

void store_interrupt(kiln_store *store) {
  atomic_store(&store->interrupt, 1);
  __atomic_store_n(&store->native_stack_limit, UINTPTR_MAX, __ATOMIC_SEQ_CST);
  /* then what host functions run outside wasm (an inference) and can be stopped */
  int hooks = atomic_load_explicit(&store->interrupt_hook_count, memory_order_acquire);
  for (int i = 0; i < hooks; i++) store->interrupt_hooks[i].callback(store->interrupt_hooks[i].user);
}

bool store_on_interrupt(kiln_store *store, void (*callback)(void *user), void *user) {
  int n = atomic_load_explicit(&store->interrupt_hook_count, memory_order_relaxed);
  if (n >= (int)(sizeof store->interrupt_hooks / sizeof store->interrupt_hooks[0])) return false;
  store->interrupt_hooks[n].callback = callback;
  store->interrupt_hooks[n].user = user;
  atomic_store_explicit(&store->interrupt_hook_count, n + 1, memory_order_release);
  return true;
}

void store_clear_interrupt(kiln_store *store) {
  atomic_store(&store->interrupt, 0);
  __atomic_store_n(&store->native_stack_limit, __atomic_load_n(&store->native_stack_floor, __ATOMIC_SEQ_CST),
                   __ATOMIC_SEQ_CST);
}

/* Limit first, flag second: an interrupt made at any point leaves the limit out of reach
 * (store_interrupt writes the flag, then the limit). The exchange is the one full barrier
 * (it orders the limit's store before the flag's load); the rest needs none. native_enter
 * calls this only when the floor moves (another thread, or another depth of the stack). */
void store_set_stack_floor(kiln_store *store, uintptr_t floor) {
  __atomic_store_n(&store->native_stack_floor, floor, __ATOMIC_RELAXED);
  __atomic_exchange_n(&store->native_stack_limit, floor, __ATOMIC_SEQ_CST);
  if (atomic_load_explicit(&store->interrupt, memory_order_relaxed))
    __atomic_store_n(&store->native_stack_limit, UINTPTR_MAX, __ATOMIC_RELAXED);
}

void store_destroy(kiln_store *store) {
  for (uint32_t i = 0; i < store->instances.count; i++) instance_destroy(store->instances.items[i]);
  for (uint32_t i = 0; i < store->funcs.count; i++) {
    kiln_func *f = store->funcs.items[i];
    if (f->finalizer) f->finalizer(f->user_data);
    if (f->host_type.types) registry_release(&store->engine->types, f->type_id); /* a host function's */
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
  stack_give(store->engine, store->stack, store->stack_mapping);
  free(store);
}

/* ------------------------------------------------------------------ objects and calls */

kiln_memory *store_add_memory(kiln_store *store, kiln_limits limits, kiln_error *err) {
  kiln_memory *m = memory_create(store->engine, store->memory_limit_pages, limits, err);
  if (m) m->owner = store;
  if (m && !object_list_push(&store->memories, m)) {
    memory_destroy(m);
    error_set(err, KILN_ERR_NOMEM, "out of memory");
    return NULL;
  }
  return m;
}

kiln_table *store_add_table(kiln_store *store, kiln_valtype elem_type, kiln_limits limits, kiln_val init,
                            kiln_error *err) {
  kiln_table *t = table_create(store->engine, (uint8_t)elem_type, limits, init.of.externref, err);
  if (t && !object_list_push(&store->tables, t)) {
    table_destroy(t);
    error_set(err, KILN_ERR_NOMEM, "out of memory");
    return NULL;
  }
  return t;
}

kiln_global *store_add_global(kiln_store *store, kiln_valtype type, bool is_mutable, kiln_val value) {
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

kiln_func *store_add_host_func(kiln_store *store, const kiln_functype *type, kiln_host_callback callback,
                               void *user_data, void (*finalizer)(void *)) {
  uint32_t n = type->param_count + type->result_count;
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
  if (!object_list_push(&store->funcs, f)) {
    registry_release(&store->engine->types, f->type_id);
    goto fail;
  }
  return f;
fail:
  free(f->host_type.types);
  free(f->host_valtypes);
  free(f);
  return NULL;
}

kiln_status store_call(kiln_store *store, kiln_func *func, kiln_error *err) {
  kiln_error scratch;
  if (!err) err = &scratch;
  uint8_t *base = store->stack_top;
  uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  if (store->host_entries == 0) {
    store->native_stack_base = here;
    store->memory_refused_pages = 0;
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
  if (st != KILN_OK) store_note_memory_refusal(store, err);
  return st;
}

kiln_status store_call_native(kiln_store *store, kiln_func *func, uint64_t *slots, kiln_error *err) {
  store->native_stack_base = (uintptr_t)__builtin_frame_address(0);
  store->memory_refused_pages = 0;
  store->host_entries++;
  kiln_status st = native_call(store, func, slots, err);
  store->host_entries--;
  if (st != KILN_OK) store_note_memory_refusal(store, err);
  return st;
}

void store_note_memory_refusal(kiln_store *store, kiln_error *err) {
  if (!err || !store->memory_refused_pages) return;
  err->memory_requested = store->memory_refused_pages * KILN_PAGE_SIZE;
  err->memory_limit = store->memory_refused_limit * KILN_PAGE_SIZE;
}

uint64_t *store_call_slots(kiln_store *store, const functype *t) {
  if ((size_t)(store->stack_end - store->stack_top) < 8 * (size_t)functype_call_slots(t)) return NULL;
  return (uint64_t *)(void *)store->stack_top;
}
