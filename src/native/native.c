/* native.c - running compiled code: loading a module's object (codeload.c), entering it from
 * C with a place to unwind to, the helpers it calls (vm_helpers), traps with backtraces read
 * off the frame-pointer chain, and the native stack limit. See native.h. */
#define _GNU_SOURCE
#include "native/native.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "exec/bulk.h"
#include "native/codeload.h"
#include "native/signals.h"

/* Compiled code may use this much native stack below the outermost entry, and never comes
 * closer than NATIVE_STACK_MARGIN to the end of the thread's stack (room for helpers, host
 * functions and sanitizers). */
#define NATIVE_STACK_BUDGET (4u << 20)
#define NATIVE_STACK_MARGIN (256u << 10)

/* ------------------------------------------------------------------ loading */

/* What an object may call besides kiln's helpers: the library calls LLVM emits for memory
 * intrinsics and float rounding on targets without the instructions. */
static const codeload_symbol allowed_imports[] = {
    {"memcpy", (void *)memcpy},       {"memmove", (void *)memmove},     {"memset", (void *)memset},
    {"floor", (void *)floor},         {"floorf", (void *)floorf},       {"ceil", (void *)ceil},
    {"ceilf", (void *)ceilf},         {"trunc", (void *)trunc},         {"truncf", (void *)truncf},
    {"nearbyint", (void *)nearbyint}, {"nearbyintf", (void *)nearbyintf}, {"rint", (void *)rint},
    {"rintf", (void *)rintf},         {"sqrt", (void *)sqrt},           {"sqrtf", (void *)sqrtf},
    {"fmin", (void *)fmin},           {"fminf", (void *)fminf},         {"fmax", (void *)fmax},
    {"fmaxf", (void *)fmaxf},         {"roundeven", (void *)nearbyint}, {"roundevenf", (void *)nearbyintf},
    {"fmod", (void *)fmod},           {"fmodf", (void *)fmodf},
};

static int compare_ranges(const void *a, const void *b) {
  const native_range *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

kiln_status native_code_new(const kiln_module *mod, native_code **out, kiln_error *err) {
  native_code *nc = calloc(1, sizeof *nc);
  if (nc) {
    nc->funcs = calloc(mod->decl.body_count + 1, sizeof(void *));
    nc->entries = calloc(mod->decl.body_count + 1, sizeof(void *));
    nc->osr = calloc(mod->decl.body_count + 1, sizeof(void *));
  }
  if (!nc || !nc->funcs || !nc->entries || !nc->osr) {
    native_code_free(nc);
    *out = NULL;
    return error_set(err, KILN_ERR_NOMEM, "out of memory loading compiled code");
  }
  *out = nc;
  return KILN_OK;
}

/* The index of defined function "f<N>" or "e<N>" named `name` with prefix p, or UINT32_MAX. */
static uint32_t symbol_index(const char *name, char p, uint32_t body_count) {
  if (name[0] != p || name[1] < '0' || name[1] > '9') return UINT32_MAX;
  char *end;
  unsigned long k = strtoul(name + 1, &end, 10);
  return *end == 0 && k < body_count ? (uint32_t)k : UINT32_MAX;
}

kiln_status native_code_add(const kiln_module *mod, native_code *nc, const uint8_t *object, size_t size,
                            kiln_error *err) {
  const module_decl *m = &mod->decl;
  codeload_image *img;
  char why[256];
  if (codeload_image_load(object, size, allowed_imports, sizeof allowed_imports / sizeof allowed_imports[0],
                          &img, why, sizeof why) != 0)
    return error_set(err, KILN_ERR_MALFORMED, "compiled code: %s", why);
  size_t nfn = codeload_image_function_count(img);
  codeload_image **images = realloc(nc->images, (nc->image_count + 1) * sizeof *images);
  native_range *ranges = images ? realloc(nc->ranges, (nc->range_count + nfn + 1) * sizeof *ranges) : NULL;
  if (images) nc->images = images;
  if (ranges) nc->ranges = ranges;
  if (!images || !ranges) {
    codeload_image_free(img);
    return error_set(err, KILN_ERR_NOMEM, "out of memory loading compiled code");
  }
  const void *code_start, *code_end;
  codeload_image_code_range(img, &code_start, &code_end);
  if (!signals_add(SIGNALS_CODE, (uintptr_t)code_start, (uintptr_t)code_end)) {
    codeload_image_free(img);
    return error_set(err, KILN_ERR_LIMIT, "too many compiled code images loaded at once");
  }
  nc->images[nc->image_count++] = img;
  for (size_t i = 0; i < nfn; i++) {
    const codeload_function *fn = codeload_image_function(img, i);
    native_range *r = &nc->ranges[nc->range_count++];
    r->start = (uintptr_t)fn->addr;
    r->end = r->start + (fn->size ? fn->size : 1);
    uint32_t k = symbol_index(fn->name, NATIVE_FUNC_PREFIX[0], m->body_count);
    r->func_index = k == UINT32_MAX ? UINT32_MAX : m->imported_func_count + k;
    if (k != UINT32_MAX) nc->funcs[k] = fn->addr;
    k = symbol_index(fn->name, NATIVE_ENTRY_PREFIX[0], m->body_count);
    if (k != UINT32_MAX) nc->entries[k] = fn->addr;
    k = symbol_index(fn->name, NATIVE_OSR_PREFIX[0], m->body_count);
    if (k != UINT32_MAX) { /* a frame of o<N> is one of function N */
      nc->osr[k] = fn->addr;
      r->func_index = m->imported_func_count + k;
    }
  }
  qsort(nc->ranges, nc->range_count, sizeof *nc->ranges, compare_ranges);
  for (uint32_t i = 0; i < m->body_count; i++)
    if (!nc->funcs[i] != !nc->entries[i]) /* absent both: the function runs in the interpreter */
      return error_set(err, KILN_ERR_MALFORMED, "compiled code: function %u has half its symbols",
                       m->imported_func_count + i);
  return KILN_OK;
}

void native_code_stats(const native_code *nc, uint32_t *functions, size_t *code_bytes, uint32_t body_count) {
  *functions = 0;
  *code_bytes = 0;
  for (uint32_t i = 0; i < body_count; i++)
    if (nc->funcs[i]) ++*functions;
  for (uint32_t i = 0; i < nc->image_count; i++) {
    const void *start, *end;
    codeload_image_code_range(nc->images[i], &start, &end);
    *code_bytes += (size_t)((const uint8_t *)end - (const uint8_t *)start);
  }
}

void native_code_free(native_code *nc) {
  if (!nc) return;
  for (uint32_t i = 0; i < nc->image_count; i++) {
    const void *start, *end;
    codeload_image_code_range(nc->images[i], &start, &end);
    signals_remove(SIGNALS_CODE, (uintptr_t)start);
    codeload_image_free(nc->images[i]);
  }
  free(nc->images);
  free(nc->funcs);
  free(nc->entries);
  free(nc->osr);
  free(nc->ranges);
  free(nc);
}

/* ------------------------------------------------------------------ backtraces */

static const native_range *range_at(const native_code *nc, uintptr_t pc) {
  uint32_t lo = 0, hi = nc->range_count;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (nc->ranges[mid].end <= pc) lo = mid + 1;
    else hi = mid;
  }
  if (lo < nc->range_count && nc->ranges[lo].start <= pc && pc < nc->ranges[lo].end) return &nc->ranges[lo];
  return NULL;
}

/* Whether pc is in the compiled code of one of the store's modules: then *mod is that module
 * and *func_index the function (UINT32_MAX: code that is not a wasm function). The ranges
 * are read under the module's native_lock: tier-up adds to them while others run. */
static bool find_code(kiln_store *store, uintptr_t pc, const kiln_module **mod, uint32_t *func_index) {
  for (uint32_t i = 0; i < store->instances.count; i++) {
    kiln_module *m = ((const kiln_instance *)store->instances.items[i])->module;
    if (!m->native) continue;
    pthread_mutex_lock(&m->native_lock);
    const native_range *r = range_at(m->native, pc);
    if (r) *func_index = r->func_index;
    pthread_mutex_unlock(&m->native_lock);
    if (r) {
      *mod = m;
      return true;
    }
  }
  return false;
}

static void add_frame(kiln_error *err, const kiln_module *mod, uint32_t func_index) {
  err->frame_total++;
  if (err->frame_count >= KILN_BACKTRACE_MAX) return;
  kiln_frame *fr = &err->backtrace[err->frame_count++];
  fr->func_index = func_index;
  fr->code_offset = 0;
  const module_decl *m = &mod->decl;
  const char *name = m->func_names && func_index < m->func_count && m->func_names[func_index]
                         ? m->func_names[func_index] : "";
  snprintf(fr->name, sizeof fr->name, "%s", name);
}

/* Add the compiled frames above the C frame `fp` (a frame-pointer chain) up to the entry. */
static void add_native_frames(kiln_store *store, kiln_error *err, uintptr_t fp, uintptr_t top) {
  while (fp && fp < top && (fp & 7) == 0) {
    const uintptr_t *frame = (const uintptr_t *)fp;
    uintptr_t ret = frame[1];
    const kiln_module *mod = NULL;
    uint32_t func_index;
    if (!find_code(store, ret - 1, &mod, &func_index)) break; /* back in C: the entry */
    if (func_index != UINT32_MAX) add_frame(err, mod, func_index);
    if (frame[0] <= fp) break;
    fp = frame[0];
  }
}

/* Append " (in function N 'name' at offset 0x..)" for the innermost frame, as the
 * interpreter does; a memory fault has no offset (0: the module's first bytes are never an
 * instruction). */
static void describe_top(kiln_error *err) {
  if (!err->frame_count) return;
  const kiln_frame *top = &err->backtrace[0];
  size_t len = strlen(err->message);
  char at[32] = "";
  if (top->code_offset) snprintf(at, sizeof at, " at offset 0x%x", top->code_offset);
  snprintf(err->message + len, sizeof err->message - len, " (in function %u%s%s%s%s)", top->func_index,
           top->name[0] ? " '" : "", top->name, top->name[0] ? "'" : "", at);
}

/* ------------------------------------------------------------------ entry and unwinding */

/* Per thread, in one place: in a shared library (the Node addon) each thread-local access
 * is a call to __tls_get_addr, and a call into compiled code needs these on entry and exit. */
typedef struct native_thread {
  uintptr_t stack_low;       /* the lowest address of the thread's stack; 0: not known yet */
  kiln_store *running_store; /* the store of the innermost native_enter: where a memory fault traps */
  bool signals_ready;        /* signals_thread_init done */
} native_thread;
static __thread native_thread this_thread;

static uintptr_t stack_low(native_thread *t) {
  if (t->stack_low) return t->stack_low;
  pthread_attr_t attr;
  void *addr = NULL;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
  }
  t->stack_low = addr ? (uintptr_t)addr : 1;
  return t->stack_low;
}

/* Unwind to the innermost entry: the trap is in entry->err already. */
__attribute__((noreturn)) static void unwind(kiln_store *store) {
  native_entry *e = store->native_top;
  longjmp(e->unwind, 1);
}

kiln_status native_call(kiln_store *store, kiln_func *f, uint64_t *slots, kiln_error *err) {
  return native_enter(store, f->instance, f->native_entry, slots, err);
}

__attribute__((noinline)) kiln_status native_enter(kiln_store *store, kiln_instance *instance,
                                                   void (*code)(kiln_instance *, uint64_t *), uint64_t *slots,
                                                   kiln_error *err) {
  native_entry entry;
  entry.prev = store->native_top;
  entry.err = err;
  if (store->fuel_limited && !instance->module->engine->config.consume_fuel)
    return error_set(err, KILN_ERR_ARGUMENT,
                     "the store has a fuel budget, but compiled code counts fuel only with kiln_config.consume_fuel");
  native_thread *t = &this_thread;
  if (!t->signals_ready && store->engine->guarded) {
    signals_thread_init();
    t->signals_ready = true;
  }
  kiln_store *saved_store = t->running_store;
  t->running_store = store;
  if (!entry.prev) {
    /* the floor stays set between calls: calls from the same depth of the same thread find
     * it right and need no write (and no barrier) */
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    uintptr_t low = stack_low(t) + NATIVE_STACK_MARGIN;
    uintptr_t limit = here > NATIVE_STACK_BUDGET ? here - NATIVE_STACK_BUDGET : 0;
    if (limit < low) limit = low;
    if (limit != store->native_stack_floor) store_set_stack_floor(store, limit);
  }
  store->native_top = &entry;
  err->status = KILN_OK;
  volatile kiln_status st = KILN_OK;
  if (setjmp(entry.unwind) == 0) code(instance, slots);
  else st = KILN_ERR_TRAP;
  store->native_top = entry.prev;
  t->running_store = saved_store;
  return st;
}

/* A trap raised by compiled code (or one of its helpers): fill the entry's error with the
 * compiled frames above `fp` and unwind. */
__attribute__((noreturn, noinline)) static void trap_at(kiln_store *store, kiln_trap_kind kind, uintptr_t fp,
                                                        uint32_t offset) {
  native_entry *e = store->native_top;
  kiln_error *err = e->err;
  error_trap(err, kind, "%s", kiln_trap_string(kind));
  if (kind != KILN_TRAP_EXIT) {
    uint32_t first = err->frame_count;
    add_native_frames(store, err, fp, (uintptr_t)e);
    if (err->frame_count > first) err->backtrace[first].code_offset = offset;
    describe_top(err);
  }
  unwind(store);
}

/* A memory access of compiled code faulted (signals.c moved the thread here, as if the
 * faulting code had called this). */
__attribute__((noreturn, noinline)) void native_fault_landing(uintptr_t pc) {
  (void)pc;
  trap_at(this_thread.running_store, KILN_TRAP_MEMORY_OUT_OF_BOUNDS, (uintptr_t)__builtin_frame_address(0), 0);
}

static void helper_trap(kiln_instance *vm, int32_t kind, uint32_t offset) {
  /* a pending interrupt fails the stack check of function entries (store_interrupt) */
  if (kind == KILN_TRAP_STACK_EXHAUSTED && atomic_load_explicit(&vm->store->interrupt, memory_order_relaxed))
    kind = KILN_TRAP_INTERRUPTED;
  trap_at(vm->store, (kiln_trap_kind)kind, (uintptr_t)__builtin_frame_address(0), offset);
}

/* A helper's own failure (bulk instructions): trap with the caller's frames. */
#define HELPER_TRAP(vm, kind) trap_at((vm)->store, (kind), (uintptr_t)__builtin_frame_address(0), 0)

/* The callee runs on the store's value stack, never on the native one: a host function that
 * calls back into kiln places that call's frame above it. */
static void helper_call_slow(kiln_instance *vm, kiln_func *f, uint64_t *slots) {
  kiln_store *store = vm->store;
  native_entry *e = store->native_top;
  const functype *t = f->type;
  uint32_t n = functype_call_slots(t);
  uint8_t *top = store->stack_top;
  if ((size_t)(store->stack_end - top) < 8 * (size_t)n) HELPER_TRAP(vm, KILN_TRAP_STACK_EXHAUSTED);
  memcpy(top, slots, 8 * (size_t)t->param_slots);
  kiln_status st = f->code ? interp_call(store, f, e->err) : interp_call_host(store, f, top, vm, e->err);
  store->stack_top = top;
  if (st == KILN_OK) {
    memcpy(slots, top, 8 * (size_t)t->result_slots);
    return;
  }
  kiln_error *err = e->err;
  if (err->status != KILN_ERR_TRAP) error_trap(err, KILN_TRAP_HOST, "call failed: %s", kiln_status_string(st));
  if (err->trap != KILN_TRAP_EXIT) add_native_frames(store, err, (uintptr_t)__builtin_frame_address(0), (uintptr_t)e);
  unwind(store);
}

static uint32_t helper_memory_grow(kiln_instance *vm, uint32_t delta) {
  uint64_t old;
  kiln_status st = memory_grow(vm->memory, delta, &old);
  return st == KILN_OK ? (uint32_t)old : 0xFFFFFFFFu;
}

#define BULK_HELPER(vm, call)                                   \
  do {                                                          \
    kiln_trap_kind k_ = (call);                                 \
    if (k_ != KILN_TRAP_NONE) HELPER_TRAP(vm, k_);              \
  } while (0)

static void helper_memory_init(kiln_instance *vm, uint32_t seg, uint32_t d, uint32_t s, uint32_t n) {
  BULK_HELPER(vm, bulk_memory_init(vm, seg, d, s, n, &vm->store->fuel));
}
static void helper_data_drop(kiln_instance *vm, uint32_t seg) { vm->data_sizes[seg] = 0; }
static void helper_memory_copy(kiln_instance *vm, uint32_t d, uint32_t s, uint32_t n) {
  BULK_HELPER(vm, bulk_memory_copy(vm, d, s, n, &vm->store->fuel));
}
static void helper_memory_fill(kiln_instance *vm, uint32_t d, uint32_t value, uint32_t n) {
  BULK_HELPER(vm, bulk_memory_fill(vm, d, value, n, &vm->store->fuel));
}
static void helper_table_init(kiln_instance *vm, uint32_t table, uint32_t seg, uint32_t d, uint32_t s, uint32_t n) {
  BULK_HELPER(vm, bulk_table_init(vm, table, seg, d, s, n, &vm->store->fuel));
}
static void helper_elem_drop(kiln_instance *vm, uint32_t seg) { vm->elem_sizes[seg] = 0; }
static void helper_table_copy(kiln_instance *vm, uint32_t dst, uint32_t src, uint32_t d, uint32_t s, uint32_t n) {
  BULK_HELPER(vm, bulk_table_copy(vm, dst, src, d, s, n, &vm->store->fuel));
}
static uint32_t helper_table_grow(kiln_instance *vm, uint32_t table, void *init, uint32_t delta) {
  uint32_t r;
  BULK_HELPER(vm, bulk_table_grow(vm, table, init, delta, &r, &vm->store->fuel));
  return r;
}
static void helper_table_fill(kiln_instance *vm, uint32_t table, uint32_t i, void *value, uint32_t n) {
  BULK_HELPER(vm, bulk_table_fill(vm, table, i, value, n, &vm->store->fuel));
}

static void helper_poll(kiln_instance *vm) {
  kiln_store *store = vm->store;
  if (atomic_load_explicit(&store->interrupt, memory_order_relaxed)) HELPER_TRAP(vm, KILN_TRAP_INTERRUPTED);
  if (store->fuel < 0) {
    store->fuel = 0;
    HELPER_TRAP(vm, KILN_TRAP_OUT_OF_FUEL);
  }
}

const vm_helpers native_helpers = {
    .trap = helper_trap,
    .call_slow = helper_call_slow,
    .memory_grow = helper_memory_grow,
    .memory_init = helper_memory_init,
    .data_drop = helper_data_drop,
    .memory_copy = helper_memory_copy,
    .memory_fill = helper_memory_fill,
    .table_init = helper_table_init,
    .elem_drop = helper_elem_drop,
    .table_copy = helper_table_copy,
    .table_grow = helper_table_grow,
    .table_fill = helper_table_fill,
    .poll = helper_poll,
    .one_f64 = 1.0,
    .one_f32 = 1.0f,
};

/* ------------------------------------------------------------------ ABI */

uint64_t native_abi_hash(void) {
  static const uint64_t facts[] = {
      NATIVE_ABI_VERSION,
      VM_MEMORY, VM_GLOBALS, VM_TABLES, VM_FUNCS, VM_TYPE_IDS, VM_DATA_SIZES, VM_ELEM_ITEMS,
      VM_ELEM_SIZES, VM_MEM0_BASE, VM_MEMORIES, VM_STORE, VM_HELPERS, VM_MEMORY_BASE, VM_MEMORY_SIZE,
      VM_TABLE_ELEMS, VM_TABLE_SIZE, VM_FUNC_TYPE_ID, VM_FUNC_NATIVE, VM_FUNC_INSTANCE, VM_GLOBAL_VALUE,
      VM_STORE_INTERRUPT, VM_STORE_FUEL, VM_STORE_STACK_LIMIT, sizeof(vm_helpers), KILN_TRAP_EXIT,
      KILN_TRAP_OUT_OF_FUEL, KILN_TRAP_STACK_EXHAUSTED,
  };
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
    h ^= facts[i];
    h *= 0x100000001b3ull;
  }
  return h;
}
