/* instance.c - stores, the Instance class and calls. A call runs either synchronously on
 * the JS thread or, through f.async(), on libuv's thread pool with the result delivered to
 * a Promise; one store runs one call at a time, so async calls queue per store. JS host
 * functions run on the JS thread: directly from synchronous calls, through a thread-safe
 * function (the worker waits for the answer) from asynchronous ones. Timeouts are enforced
 * by the watchdog thread (addon.c) through kiln_store_interrupt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

/* ---------------------------------------------------------------- stores */

/* A thread-safe function can end two ways: the store releases it (close, GC), or Node
 * finalizes it itself when the environment is torn down (at exit, before the stores'
 * finalizers run). The link between them, freed by the finalizer, lets the store see the
 * second case and not release a function that is gone. */
typedef struct tsfn_link {
  node_store *store; /* NULL once the store has released the function */
} tsfn_link;

static void tsfn_finalized(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  tsfn_link *link = data;
  if (link->store) {
    link->store->tsfn = NULL;
    link->store->tsfn_link = NULL;
  }
  free(link);
}


/* What one store holds outside the JS heap besides its memories: its value stack and frames
 * as touched, instances and functions (about 9 KB measured for an instance of a one-function
 * module, called once). */
enum { STORE_BASE_COST = 32 << 10 };

node_store *store_new(napi_env env, kiln_engine *engine) {
  node_store *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->engine = engine;
  s->store = kiln_store_new(engine);
  if (!s->store) {
    free(s);
    return NULL;
  }
  s->env = env;
  s->a = addon_of(env);
  s->refs = 1;
  addon_drain(env, s->a);
  store_account(env, s);
  return s;
}

void store_account(napi_env env, node_store *s) {
  int64_t now = s->store ? STORE_BASE_COST + (int64_t)kiln_store_memory_bytes(s->store) : 0, total;
  if (now != s->external) napi_adjust_external_memory(env, now - s->external, &total);
  s->external = now;
}

/* ---------------------------------------------------------------- wrappers */

typedef struct wrapper_entry {
  const void *key;     /* NULL: empty; WRAPPER_GONE: removed */
  const void *wrapper; /* the native side of the object (node_func, node_memory, ...) */
  napi_ref ref;        /* weak: the object */
} wrapper_entry;

#define WRAPPER_GONE ((const void *)1)

static uint32_t wrapper_slot(const node_store *s, const void *key) {
  uint64_t h = (uint64_t)(uintptr_t)key * 0x9e3779b97f4a7c15ull;
  return (uint32_t)(h >> 32) & (s->wrappers_size - 1);
}

static wrapper_entry *wrapper_lookup(node_store *s, const void *key) {
  if (!s->wrappers_size) return NULL;
  uint32_t mask = s->wrappers_size - 1;
  for (uint32_t i = wrapper_slot(s, key); s->wrappers[i].key; i = (i + 1) & mask)
    if (s->wrappers[i].key == key) return &s->wrappers[i];
  return NULL;
}

napi_value wrapper_find(napi_env env, node_store *s, const void *key) {
  wrapper_entry *e = wrapper_lookup(s, key);
  napi_value obj = NULL;
  if (e && napi_get_reference_value(env, e->ref, &obj) != napi_ok) obj = NULL;
  return obj;
}

void wrapper_remember(napi_env env, node_store *s, const void *key, const void *wrapper, napi_value obj) {
  wrapper_entry *e = wrapper_lookup(s, key);
  if (!e) {
    if ((uint64_t)(s->wrappers_used + 1) * 2 >= s->wrappers_size) { /* rebuild, without removed slots */
      uint32_t live = 0;
      for (uint32_t i = 0; i < s->wrappers_size; i++) live += s->wrappers[i].key > WRAPPER_GONE;
      uint32_t size = 16;
      while ((uint64_t)(live + 1) * 4 > size) size *= 2;
      wrapper_entry *table = calloc(size, sizeof *table);
      if (!table) return; /* out of memory: this object is just not found again */
      wrapper_entry *old = s->wrappers;
      uint32_t old_size = s->wrappers_size;
      s->wrappers = table;
      s->wrappers_size = size;
      s->wrappers_used = 0;
      for (uint32_t i = 0; i < old_size; i++) {
        if (old[i].key <= WRAPPER_GONE) continue;
        uint32_t j = wrapper_slot(s, old[i].key);
        while (table[j].key) j = (j + 1) & (size - 1);
        table[j] = old[i];
        s->wrappers_used++;
      }
      free(old);
    }
    uint32_t i = wrapper_slot(s, key);
    while (s->wrappers[i].key > WRAPPER_GONE) i = (i + 1) & (s->wrappers_size - 1);
    if (!s->wrappers[i].key) s->wrappers_used++;
    e = &s->wrappers[i];
    e->key = key;
  } else {
    addon_release_ref(s->a, e->ref); /* a newer object for the same key (the old one died) */
  }
  e->wrapper = wrapper;
  e->ref = NULL;
  napi_create_reference(env, obj, 0, &e->ref);
}

void wrapper_forget(node_store *s, const void *key, const void *wrapper) {
  wrapper_entry *e = wrapper_lookup(s, key);
  if (!e || e->wrapper != wrapper) return;
  addon_release_ref(s->a, e->ref);
  e->key = WRAPPER_GONE;
  e->wrapper = NULL;
  e->ref = NULL;
}

static void wrappers_free(node_store *s) {
  for (uint32_t i = 0; i < s->wrappers_size; i++)
    if (s->wrappers[i].key > WRAPPER_GONE) addon_release_ref(s->a, s->wrappers[i].ref);
  free(s->wrappers);
  s->wrappers = NULL;
  s->wrappers_size = s->wrappers_used = 0;
}

node_store *store_loose(napi_env env) {
  addon *a = addon_of(env);
  if (a->loose) {
    store_ref(a->loose);
    return a->loose;
  }
  kiln_engine *engine = addon_engine(a->tier, a->portable, false);
  a->loose = engine ? store_new(env, engine) : NULL;
  if (a->loose) a->loose->loose = true;
  return a->loose;
}

void store_ref(node_store *s) { s->refs++; }

void store_close(napi_env env, node_store *s) {
  if (!s->store) return;
  memories_detach(env, s, false);
  twins_free(s); /* (their SharedArrayBuffers keep the bytes) */
  kiln_store_free(s->store); /* host functions' finalizers release their JS functions */
  s->store = NULL;
  addon_release_external(s->a, s->external); /* (in a finalizer too) */
  s->external = 0;
  externrefs_free(env, s);
  if (s->tsfn) {
    s->tsfn_link->store = NULL;
    napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
    s->tsfn = NULL;
    s->tsfn_link = NULL;
  }
  /* (store_close runs in finalizers too: references go through the graveyard) */
  addon_release_ref(s->a, s->pending_exception);
  s->pending_exception = NULL;
  addon_release_ref(s->a, s->owner);
  s->owner = NULL;
}

void store_unref(napi_env env, node_store *s) {
  if (--s->refs > 0) return;
  store_close(env, s);
  if (s->a && s->a->loose == s) s->a->loose = NULL;
  wrappers_free(s);
  free(s);
}

/* Throw (or return, for a promise) the error of a failed call. */
static napi_value call_error(napi_env env, node_store *s, const kiln_error *err, uint64_t timed_out_ms) {
  if (s->pending_exception) { /* a host function threw: that exception travels on */
    napi_value e;
    napi_get_reference_value(env, s->pending_exception, &e);
    napi_delete_reference(env, s->pending_exception);
    s->pending_exception = NULL;
    /* thrown after limits.memory refused memory.grow (a C guest's kiln_fail("out of memory")) */
    if (e && err->memory_requested) return addon_memory_error(env, s->a, err, e);
    if (e) return e;
  }
  return addon_error_value(env, s->a, err, timed_out_ms);
}

static bool store_usable(napi_env env, node_store *s, bool sync) {
  if (!s->store || s->close_requested) {
    addon_throw_error(env, "kiln: the instance is closed");
    return false;
  }
  if (sync && (s->running || s->queue_head) && s->sync_depth == 0) {
    addon_throw_error(env, "kiln: the instance is running an asynchronous call; await it, or use a "
                           "kiln.Pool for concurrent calls");
    return false;
  }
  return true;
}

/* ---------------------------------------------------------------- host functions */

typedef struct host_import {
  node_store *s;
  napi_ref fn; /* weak: the JS function, kept alive by its instance's list of imports */
  kiln_functype type;
  char name[128];
} host_import;

/* A host call made from a worker thread, answered on the JS thread. */
typedef struct host_request {
  host_import *h;
  const kiln_val *args;
  kiln_val *results;
  bool failed;
  char message[256];
  bool done;
  pthread_mutex_t lock;
  pthread_cond_t cond;
} host_request;

static void host_import_free(void *user) {
  host_import *h = user;
  addon_release_ref(h->s->a, h->fn); /* (kiln_store_free calls this, in a finalizer too) */
  free(h);
}

/* Call the JS function of h with args; false (with message, and the JS exception saved in
 * the store) if it threw or returned something that does not convert. */
static bool call_js_host(napi_env env, host_import *h, const kiln_val *args, kiln_val *results,
                         char *message, size_t message_size) {
  node_store *s = h->s;
  napi_value fn = NULL, undefined, ret;
  if (napi_get_reference_value(env, h->fn, &fn) != napi_ok || !fn) {
    snprintf(message, message_size, "the host function %s is gone (its instance was collected)", h->name);
    return false;
  }
  napi_get_undefined(env, &undefined);
  uint32_t n = h->type.param_count;
  napi_value stack_argv[16], *argv = n <= 16 ? stack_argv : malloc(n * sizeof *argv);
  if (!argv) return snprintf(message, message_size, "out of memory"), false;
  bool ok = true;
  for (uint32_t i = 0; ok && i < n; i++) ok = (argv[i] = value_from_wasm(env, s->a, s, &args[i])) != NULL;
  ok = ok && napi_call_function(env, undefined, fn, n, argv, &ret) == napi_ok;
  if (argv != stack_argv) free(argv);
  bool saved = s->lenient;
  s->lenient = true; /* results convert as in the WebAssembly JS API */
  if (ok && h->type.result_count == 1) {
    ok = value_to_wasm(env, s->a, s, ret, h->type.results[0], &results[0], h->name, 0);
  } else if (ok && h->type.result_count > 1) {
    bool is_array = false;
    napi_is_array(env, ret, &is_array);
    if (!is_array && addon_is_object(env, ret)) {
      /* any iterable, as the standard allows: its values through Array.from */
      napi_value from;
      ok = napi_get_reference_value(env, s->a->array_from, &from) == napi_ok &&
           napi_call_function(env, from, from, 1, &ret, &ret) == napi_ok;
      if (ok) napi_is_array(env, ret, &is_array);
    }
    uint32_t len = 0;
    if (is_array) napi_get_array_length(env, ret, &len);
    if (ok && (!is_array || len != h->type.result_count)) {
      addon_throw_type(env, "%s must return an array or an iterable of %u values", h->name, h->type.result_count);
      ok = false;
    }
    for (uint32_t i = 0; ok && i < h->type.result_count; i++) {
      napi_value v;
      napi_get_element(env, ret, i, &v);
      ok = value_to_wasm(env, s->a, s, v, h->type.results[i], &results[i], h->name, i);
    }
  }
  s->lenient = saved;
  if (!ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      if (s->pending_exception) napi_delete_reference(env, s->pending_exception);
      napi_create_reference(env, e, 1, &s->pending_exception);
    }
    snprintf(message, message_size, "the host function %s threw", h->name);
  }
  return ok;
}

/* The thread-safe function's callback, on the JS thread. env is NULL when Node is tearing
 * the function down: the worker then gets an error instead of an answer. */
static void host_request_on_js_thread(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb, (void)context;
  host_request *r = data;
  bool ok = false;
  if (env) ok = call_js_host(env, r->h, r->args, r->results, r->message, sizeof r->message);
  else snprintf(r->message, sizeof r->message, "the host function %s cannot run: Node is shutting down", r->h->name);
  pthread_mutex_lock(&r->lock);
  r->failed = !ok;
  r->done = true;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

static kiln_status host_callback(kiln_caller *caller, void *user, const kiln_val *args, kiln_val *results) {
  host_import *h = user;
  node_store *s = h->s;
  if (pthread_equal(pthread_self(), s->a->js_thread)) {
    char message[256];
    if (call_js_host(s->env, h, args, results, message, sizeof message)) return KILN_OK;
    return kiln_caller_trap(caller, "%s", message);
  }
  if (!s->tsfn) return kiln_caller_trap(caller, "the host function %s cannot be called from a worker", h->name);
  host_request r = {.h = h, .args = args, .results = results};
  pthread_mutex_init(&r.lock, NULL);
  pthread_cond_init(&r.cond, NULL);
  if (napi_call_threadsafe_function(s->tsfn, &r, napi_tsfn_blocking) != napi_ok) {
    r.failed = true;
    snprintf(r.message, sizeof r.message, "the host function %s cannot run: Node is shutting down", h->name);
  } else {
    pthread_mutex_lock(&r.lock);
    while (!r.done) pthread_cond_wait(&r.cond, &r.lock);
    pthread_mutex_unlock(&r.lock);
  }
  pthread_mutex_destroy(&r.lock);
  pthread_cond_destroy(&r.cond);
  return r.failed ? kiln_caller_trap(caller, "%s", r.message) : KILN_OK;
}

/* ---------------------------------------------------------------- functions */

typedef struct node_func {
  node_store *s;
  napi_ref self; /* weak: the sync function; f.async keeps it alive while its call runs */
  kiln_func *f;
  kiln_functype type;
  uint32_t raw_slots; /* kiln_func_raw_slots: > 0 when the call can go through kiln_func_call_raw */
  bool has_v128;      /* a v128 param or result: JavaScript cannot call it (a TypeError first) */
  char name[128];
} node_func;

static const napi_type_tag func_tag = {0x6b696c6e66756e63ULL, 0x0000000000000001ULL};

static void func_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  node_func *nf = data;
  addon_release_ref(nf->s->a, nf->self);
  wrapper_forget(nf->s, nf->f, nf);
  store_unref(env, nf->s);
  free(nf);
}

kiln_func *function_unwrap(napi_env env, napi_value v, node_store **store) {
  bool tagged = false;
  node_func *nf = NULL;
  if (napi_check_object_type_tag(env, v, &func_tag, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, v, (void **)&nf) != napi_ok || !nf)
    return NULL;
  *store = nf->s;
  return nf->f;
}

/* A call with another number of arguments than the function has params is an error, except
 * in the lenient mode of the WebAssembly facade (missing ones are undefined). */
static bool arity_ok(napi_env env, node_func *nf, size_t argc) {
  if (nf->has_v128) { /* as the standard: before any argument is converted or anything runs */
    addon_throw_type(env, "%s has a v128 parameter or result, which JavaScript cannot pass or receive", nf->name);
    return false;
  }
  if (argc == nf->type.param_count || nf->s->lenient) return true;
  addon_throw_type(env, "%s expects %u argument%s, got %zu", nf->name, nf->type.param_count,
                   nf->type.param_count == 1 ? "" : "s", argc);
  return false;
}

/* Convert the JS arguments of a call of nf into vals (param_count of them). */
static bool convert_args(napi_env env, node_func *nf, size_t argc, napi_value *argv, kiln_val *vals) {
  node_store *s = nf->s;
  if (!arity_ok(env, nf, argc)) return false;
  napi_value undefined = NULL;
  for (uint32_t i = 0; i < nf->type.param_count; i++) {
    kiln_valtype type = nf->type.params[i];
    if (i < argc && type == KILN_I32) { /* the common case, inline */
      vals[i].type = KILN_I32;
      vals[i].of.i64 = 0;
      if (napi_get_value_int32(env, argv[i], &vals[i].of.i32) == napi_ok) continue;
    }
    if (i >= argc && !undefined) napi_get_undefined(env, &undefined);
    if (!value_to_wasm(env, s->a, s, i < argc ? argv[i] : undefined, type, &vals[i], nf->name, i)) return false;
  }
  return true;
}

static napi_value results_to_js(napi_env env, node_func *nf, const kiln_val *results) {
  napi_value r;
  uint32_t n = nf->type.result_count;
  if (n == 0) {
    napi_get_undefined(env, &r);
    return r;
  }
  if (n == 1) {
    if (results[0].type == KILN_I32) return napi_create_int32(env, results[0].of.i32, &r) == napi_ok ? r : NULL;
    return value_from_wasm(env, nf->s->a, nf->s, &results[0]);
  }
  napi_create_array_with_length(env, n, &r);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v = value_from_wasm(env, nf->s->a, nf->s, &results[i]);
    if (!v) return NULL;
    napi_set_element(env, r, i, v);
  }
  return r;
}

/* Gather a call's arguments. An exported function is a JavaScript method made once per
 * function (function_to_js) that calls one of the addon's callbacks with its handle (its
 * node_func's address, a Number) and its arguments when it was given as many as it has
 * parameters (want: 0 to 4), else (and for more parameters, and f.async) with its handle,
 * the argument count and the arguments (counted): up to 16 on the stack, more on the heap. */
typedef struct call_args {
  node_func *nf;
  size_t argc;                       /* how many arguments the function was called with */
  napi_value stack[18], *all, *argv; /* argv: the arguments */
} call_args;

static bool get_call_args(napi_env env, napi_callback_info info, call_args *c, size_t want, bool counted) {
  /* Ask for exactly what the method passes (Node pads what is asked beyond it, at a cost) */
  size_t head = counted ? 2 : 1, n = want + head;
  c->all = c->stack;
  napi_get_cb_info(env, info, &n, c->all, NULL, NULL);
  if (n > want + head) { /* a method passing more arguments */
    if (n > sizeof c->stack / sizeof c->stack[0]) {
      c->all = malloc(n * sizeof *c->all);
      if (!c->all) return addon_throw_error(env, "kiln: out of memory"), false;
    }
    napi_get_cb_info(env, info, &n, c->all, NULL, NULL);
  }
  double handle = 0;
  uint32_t argc = (uint32_t)want;
  if (n < head || napi_get_value_double(env, c->all[0], &handle) != napi_ok || !(handle > 0) ||
      (counted && napi_get_value_uint32(env, c->all[1], &argc) != napi_ok)) {
    if (c->all != c->stack) free(c->all);
    return addon_throw_type(env, "kiln: not a call of an exported function"), false;
  }
  c->nf = (node_func *)(uintptr_t)handle;
  c->argc = argc;
  c->argv = c->all + head;
  return true;
}

static void free_call_args(call_args *c) {
  if (c->all != c->stack) free(c->all);
}

/* A kiln_val of a numeric type into the untagged slots of kiln_func_call_raw; the number of
 * slots it took. */
static uint32_t val_to_slots(const kiln_val *v, uint64_t *slots) {
  switch (v->type) {
  case KILN_I32:
  case KILN_F32:
    slots[0] = v->of.f32_bits;
    return 1;
  case KILN_V128:
    memcpy(slots, v->of.v128, 16);
    return 2;
  default:
    slots[0] = v->of.f64_bits;
    return 1;
  }
}

static uint32_t val_from_slots(kiln_valtype type, const uint64_t *slots, kiln_val *v) {
  v->type = type;
  v->of.i64 = 0;
  switch (type) {
  case KILN_I32:
  case KILN_F32:
    v->of.f32_bits = (uint32_t)slots[0];
    return 1;
  case KILN_V128:
    memcpy(v->of.v128, slots, 16);
    return 2;
  default:
    v->of.f64_bits = slots[0];
    return 1;
  }
}

/* The JS arguments of a numeric-only function straight into raw slots (nf->raw_slots <= 16). */
static bool convert_args_raw(napi_env env, node_func *nf, size_t argc, napi_value *argv, uint64_t *slots) {
  node_store *s = nf->s;
  if (!arity_ok(env, nf, argc)) return false;
  napi_value undefined = NULL;
  uint32_t k = 0;
  for (uint32_t i = 0; i < nf->type.param_count; i++) {
    kiln_valtype type = nf->type.params[i];
    int32_t i32;
    if (i < argc && type == KILN_I32 && napi_get_value_int32(env, argv[i], &i32) == napi_ok) {
      slots[k++] = (uint32_t)i32; /* the common case, inline */
      continue;
    }
    kiln_val v;
    if (i >= argc && !undefined) napi_get_undefined(env, &undefined);
    if (!value_to_wasm(env, s->a, s, i < argc ? argv[i] : undefined, type, &v, nf->name, i)) return false;
    k += val_to_slots(&v, slots + k);
  }
  return true;
}

static napi_value results_from_slots(napi_env env, node_func *nf, const uint64_t *slots) {
  napi_value r;
  uint32_t n = nf->type.result_count;
  if (n == 1 && nf->type.results[0] == KILN_I32)
    return napi_create_int32(env, (int32_t)(uint32_t)slots[0], &r) == napi_ok ? r : NULL;
  kiln_val vals[16];
  for (uint32_t i = 0, k = 0; i < n; i++) k += val_from_slots(nf->type.results[i], slots + k, &vals[i]);
  return results_to_js(env, nf, vals);
}

/* A synchronous call of nf: vals (params, then room for the results) through kiln_func_call,
 * or slots through kiln_func_call_raw when vals is NULL; with the instance's timeout. */
static kiln_status call_sync(node_store *s, node_func *nf, kiln_val *vals, uint64_t *slots, kiln_error *err,
                             bool *timed_out) {
  uint64_t token = s->timeout_ms && s->sync_depth == 0 ? watchdog_arm(s, s->timeout_ms) : 0;
  s->sync_depth++;
  kiln_status status = vals ? kiln_func_call(s->store, nf->f, vals, nf->type.param_count,
                                             vals + nf->type.param_count, nf->type.result_count, err)
                            : kiln_func_call_raw(s->store, nf->f, slots, err);
  s->sync_depth--;
  if (token) watchdog_disarm(token);
  *timed_out = token && atomic_load(&s->timed_out);
  /* a stale interrupt must not stop the next call; reading it is cheaper than clearing */
  if (s->sync_depth == 0 && s->store && kiln_store_interrupt_pending(s->store)) kiln_store_clear_interrupt(s->store);
  return status;
}

static inline napi_value func_call_sync(napi_env env, napi_callback_info info, size_t want, bool counted) {
  call_args c;
  if (!get_call_args(env, info, &c, want, counted)) return NULL;
  node_func *nf = c.nf;
  node_store *s = nf->s;
  napi_value result = NULL;
  uint32_t np = nf->type.param_count, nr = nf->type.result_count;
  bool raw = nf->raw_slots && nf->raw_slots <= 16;
  uint64_t slots[16];
  kiln_val stack_vals[16], *vals = raw ? NULL : np + nr <= 16 ? stack_vals : malloc((np + nr) * sizeof *vals);
  if (!raw && !vals) {
    free_call_args(&c);
    return addon_throw_error(env, "kiln: out of memory"), NULL;
  }
  if (store_usable(env, s, true) &&
      (raw ? convert_args_raw(env, nf, c.argc, c.argv, slots) : convert_args(env, nf, c.argc, c.argv, vals))) {
    kiln_error err;
    bool timed_out;
    kiln_status status = call_sync(s, nf, vals, slots, &err, &timed_out);
    if (s->store && s->memories) memories_detach(env, s, true);
    if (status != KILN_OK) napi_throw(env, call_error(env, s, &err, timed_out ? s->timeout_ms : 0));
    else result = raw ? results_from_slots(env, nf, slots) : results_to_js(env, nf, vals + np);
  }
  if (vals && vals != stack_vals) free(vals);
  free_call_args(&c);
  return result;
}

/* One callback per param count up to 4, called with as many arguments (each asks Node for
 * exactly that many), and one for the others, counted. */
static napi_value func_call_sync0(napi_env env, napi_callback_info info) { return func_call_sync(env, info, 0, false); }
static napi_value func_call_sync1(napi_env env, napi_callback_info info) { return func_call_sync(env, info, 1, false); }
static napi_value func_call_sync2(napi_env env, napi_callback_info info) { return func_call_sync(env, info, 2, false); }
static napi_value func_call_sync3(napi_env env, napi_callback_info info) { return func_call_sync(env, info, 3, false); }
static napi_value func_call_sync4(napi_env env, napi_callback_info info) { return func_call_sync(env, info, 4, false); }
static napi_value func_call_sync_counted(napi_env env, napi_callback_info info) {
  return func_call_sync(env, info, 16, true);
}

/* ---------------------------------------------------------------- async calls */

struct async_call {
  node_func *nf;          /* NULL for runWasiAsync */
  kiln_wasi *wasi;        /* runWasiAsync */
  kiln_instance *instance;
  node_store *s;
  napi_ref keep;          /* the function or instance object, alive until done */
  kiln_val *vals;         /* params then results */
  uint64_t timeout_ms;
  kiln_status status;
  kiln_error err;
  int32_t exit_code;
  bool timed_out;
  napi_deferred deferred;
  napi_async_work work;
  async_call *next;
};

static void start_next(napi_env env, node_store *s);

static void async_execute(napi_env env, void *data) {
  (void)env;
  async_call *job = data;
  node_store *s = job->s;
  uint64_t token = job->timeout_ms ? watchdog_arm(s, job->timeout_ms) : 0;
  if (job->nf) {
    uint32_t np = job->nf->type.param_count;
    job->status = kiln_func_call(s->store, job->nf->f, job->vals, np, job->vals + np, job->nf->type.result_count,
                                 &job->err);
  } else {
    job->status = kiln_wasi_run(job->wasi, job->instance, &job->exit_code, &job->err);
  }
  watchdog_disarm(token);
  job->timed_out = token && atomic_load(&s->timed_out);
}

static void async_complete(napi_env env, napi_status status, void *data) {
  async_call *job = data;
  node_store *s = job->s;
  s->running = false;
  addon_async_ended(s->a, s);
  s->queue_head = job->next;
  if (!s->queue_head) s->queue_tail = NULL;
  if (s->store) {
    kiln_store_clear_interrupt(s->store);
    memories_detach(env, s, true);
  }
  napi_value value = NULL;
  if (status == napi_ok && job->status == KILN_OK) {
    if (job->nf) value = results_to_js(env, job->nf, job->vals + job->nf->type.param_count);
    else napi_create_int32(env, job->exit_code, &value);
  }
  if (value) {
    napi_resolve_deferred(env, job->deferred, value);
  } else {
    napi_value error;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) napi_get_and_clear_last_exception(env, &error);
    else if (status != napi_ok) error = addon_string(env, "kiln: the call was cancelled");
    else error = call_error(env, s, &job->err, job->timed_out ? job->timeout_ms : 0);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  napi_delete_reference(env, job->keep);
  free(job->vals);
  free(job);
  if (s->close_requested && !s->queue_head) {
    store_close(env, s);
    s->close_requested = false;
  }
  if (s->queue_head) start_next(env, s);
  store_unref(env, s); /* the job's reference */
}

/* Take the job at the head of s's queue off it and reject its promise with message. */
static void reject_head(napi_env env, node_store *s, const char *message) {
  async_call *job = s->queue_head;
  s->queue_head = job->next;
  if (!s->queue_head) s->queue_tail = NULL;
  napi_value error;
  napi_create_error(env, NULL, addon_string(env, message), &error);
  napi_reject_deferred(env, job->deferred, error);
  if (job->work) napi_delete_async_work(env, job->work);
  napi_delete_reference(env, job->keep);
  free(job->vals);
  free(job);
  store_unref(env, s);
}

static void start_next(napi_env env, node_store *s) {
  while (s->queue_head && !s->running) {
    async_call *job = s->queue_head;
    if (!s->store || s->close_requested) { /* closed while queued: reject everything */
      while (s->queue_head) reject_head(env, s, "kiln: the instance was closed before the call ran");
      if (s->close_requested) store_close(env, s), s->close_requested = false;
      return;
    }
    napi_value name = addon_string(env, "kiln.call");
    if (!addon_async_started(env, s->a, s)) {
      reject_head(env, s, "kiln: out of memory while starting the call");
      continue;
    }
    if (napi_create_async_work(env, NULL, name, async_execute, async_complete, job, &job->work) != napi_ok ||
        napi_queue_async_work(env, job->work) != napi_ok) {
      addon_async_ended(s->a, s);
      reject_head(env, s, "kiln: Node could not queue the call on its thread pool");
      continue;
    }
    s->running = true;
  }
}

/* Queue job and return its promise. */
static napi_value enqueue(napi_env env, node_store *s, async_call *job, napi_value keep) {
  napi_value promise;
  job->s = s;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) return NULL;
  napi_create_reference(env, keep, 1, &job->keep);
  store_ref(s);
  if (s->queue_tail) s->queue_tail->next = job;
  else s->queue_head = job;
  s->queue_tail = job;
  start_next(env, s);
  return promise;
}

static napi_value call_async(napi_env env, node_func *nf, napi_value fn, size_t argc, napi_value *argv,
                             uint64_t timeout_ms) {
  node_store *s = nf->s;
  if (!store_usable(env, s, false)) return NULL;
  async_call *job = calloc(1, sizeof *job);
  uint32_t n = nf->type.param_count + nf->type.result_count;
  if (job) job->vals = calloc(n ? n : 1, sizeof *job->vals);
  if (!job || !job->vals) {
    if (job) free(job);
    return addon_throw_error(env, "kiln: out of memory"), NULL;
  }
  if (!convert_args(env, nf, argc, argv, job->vals)) {
    free(job->vals);
    free(job);
    return NULL;
  }
  job->nf = nf;
  job->timeout_ms = timeout_ms;
  return enqueue(env, s, job, fn);
}

/* A Promise-returning call rejects rather than throws: turn a pending exception (a wrong
 * argument, a closed instance) into a rejected promise. */
static napi_value rejected_if_thrown(napi_env env, napi_value promise) {
  bool pending = false;
  if (promise || napi_is_exception_pending(env, &pending) != napi_ok || !pending) return promise;
  napi_value error, p;
  napi_deferred deferred;
  napi_get_and_clear_last_exception(env, &error);
  if (napi_create_promise(env, &deferred, &p) != napi_ok) return NULL;
  napi_reject_deferred(env, deferred, error);
  return p;
}

static napi_value func_call_async(napi_env env, napi_callback_info info) {
  call_args c;
  if (!get_call_args(env, info, &c, 16, true)) return NULL;
  node_func *nf = c.nf;
  /* The sync function (which owns f.async and nf) is alive: the async one, being called,
   * holds it. The job keeps it so while the call runs, however f.async was called. */
  napi_value fn = NULL;
  napi_get_reference_value(env, nf->self, &fn);
  napi_value r = call_async(env, nf, fn, c.argc, c.argv, nf->s->timeout_ms);
  free_call_args(&c);
  return rejected_if_thrown(env, r);
}

/* A host function of s of type calling the JS function fn (named name in messages); the store
 * holds fn weakly (a JS import: its instance's list of imports keeps it alive) or strongly.
 * NULL after throwing. */
static kiln_func *host_import_new(napi_env env, node_store *s, napi_value fn, const kiln_functype *type,
                                  const char *name, bool strong) {
  host_import *h = calloc(1, sizeof *h);
  if (!h) return addon_throw_error(env, "kiln: out of memory"), NULL;
  h->s = s;
  snprintf(h->name, sizeof h->name, "%s", name);
  napi_create_reference(env, fn, strong ? 1 : 0, &h->fn);
  kiln_func *f = kiln_func_new(s->store, type, host_callback, h, host_import_free);
  if (!f) {
    napi_delete_reference(env, h->fn);
    free(h);
    return addon_throw_error(env, "kiln: out of memory"), NULL;
  }
  h->type = kiln_func_type(f);
  return f;
}

/* A function of another store (f, whose JS function is fn) made usable in s, for a table,
 * a funcref global or an argument there: kiln's stores do not share functions, so it is a
 * host function of s that calls fn through JavaScript, as a JS import would; read back, it is
 * fn itself. One per foreign function and store; s holds fn (strongly) while it lives. NULL
 * after throwing. */
kiln_func *function_foreign(napi_env env, node_store *s, napi_value fn, kiln_func *f) {
  wrapper_entry *known = wrapper_lookup(s, f);
  if (known && known->wrapper) return (kiln_func *)known->wrapper;
  kiln_functype type = kiln_func_type(f);
  kiln_func *hf = host_import_new(env, s, fn, &type, "a function of another instance", true);
  if (!hf) return NULL;
  wrapper_remember(env, s, hf, hf, fn); /* read back: fn */
  wrapper_remember(env, s, f, hf, fn); /* set again: this host function */
  return hf;
}

napi_value function_to_js(napi_env env, addon *a, node_store *s, napi_value owner, kiln_func *f, const char *name) {
  napi_value known = wrapper_find(env, s, f);
  if (known) return known; /* the function already handed out: the same object */
  node_func *nf = calloc(1, sizeof *nf);
  if (!nf) return addon_throw_error(env, "kiln: out of memory"), NULL;
  nf->s = s;
  nf->f = f;
  nf->type = kiln_func_type(f);
  nf->raw_slots = kiln_func_raw_slots(f);
  for (uint32_t i = 0; i < nf->type.param_count; i++) nf->has_v128 |= nf->type.params[i] == KILN_V128;
  for (uint32_t i = 0; i < nf->type.result_count; i++) nf->has_v128 |= nf->type.results[i] == KILN_V128;
  snprintf(nf->name, sizeof nf->name, "%s", name && *name ? name : "wasm function");
  /* The facade names a wasm function by its index, as the standard does; kiln's own API by
   * its export name */
  char index_name[16];
  uint32_t index = kiln_func_index(f);
  if (s->lenient && index != UINT32_MAX) {
    snprintf(index_name, sizeof index_name, "%u", index);
    name = index_name;
  }
  napi_value args[4], fn, maker;
  uint32_t np = nf->type.param_count;
  args[1] = addon_string(env, name ? name : "");
  napi_create_uint32(env, np, &args[2]);
  if (owner) args[3] = owner;
  else napi_get_undefined(env, &args[3]);
  /* the handle: nf's address as a Number (exact below 2^53; user space addresses are) */
  if ((uintptr_t)nf >= ((uintptr_t)1 << 52)) {
    addon_throw_error(env, "kiln: cannot hand out the function %s: its native address does not fit a JavaScript "
                           "Number", nf->name);
    free(nf);
    return NULL;
  }
  if (napi_create_double(env, (double)(uintptr_t)nf, &args[0]) != napi_ok ||
      napi_get_reference_value(env, a->function_makers[np <= 4 ? np : 5], &maker) != napi_ok ||
      napi_call_function(env, maker, maker, 4, args, &fn) != napi_ok) {
    free(nf);
    return NULL;
  }
  store_ref(s);
  napi_create_reference(env, fn, 0, &nf->self);
  napi_type_tag_object(env, fn, &func_tag);
  addon_wrap(env, a, fn, nf, func_finalize);
  wrapper_remember(env, s, f, nf, fn);
  return fn;
}

/* The makers of exported functions, made once per environment. An exported function is a
 * JavaScript method (not a constructor, as the standard's exported functions are not) that
 * passes its node_func's handle, its argument count and its arguments to one of the addon's
 * callbacks: per function, no Node-API function (whose internal data Node frees only on a
 * later turn of the event loop) and nothing to free but what its own finalizer frees.
 * maker(handle, name, length, owner) -> f, named and sized as the standard's exported
 * functions are, with f.async (the same call on the thread pool); the owner (an instance,
 * if any) is kept alive by f, and f by f.async, under the addon's owner key. Then two more
 * helpers: a null-prototype object (instance exports) and Array.from (multi-value results). */
bool js_helpers_init(napi_env env, addon *a) {
  /* (the name comes from the method's computed key and the length from its parameters: a
   * function whose name or length is redefined afterwards is a slow dictionary object) */
  static const char source[] =
      "'use strict';"
      "(function (t0, t1, t2, t3, t4, tn, ta, key) {"
      /* (the built-ins as they are now: a program may replace them later) */
      "  const define = Object.defineProperty, create = Object.create, from = Array.from;"
      "  const dress = (f, h, name, length, owner) => {"
      "    const g = ({ [name]() { return ta(h, arguments.length, ...arguments); } })[name];"
      "    define(g, key, { __proto__: null, value: f });"
      "    if (f.length !== length) define(f, 'length', { __proto__: null, value: length });"
      "    define(f, 'async', { __proto__: null, value: g });"
      "    if (owner !== undefined) define(f, key, { __proto__: null, value: owner });"
      "    return f;"
      "  };"
      "  return ["
      "    (h, n, l, o) => dress(({ [n]() {"
      "      return arguments.length === 0 ? t0(h) : tn(h, arguments.length); } })[n], h, n, l, o),"
      "    (h, n, l, o) => dress(({ [n](a) {"
      "      return arguments.length === 1 ? t1(h, a) : tn(h, arguments.length, a); } })[n], h, n, l, o),"
      "    (h, n, l, o) => dress(({ [n](a, b) {"
      "      return arguments.length === 2 ? t2(h, a, b) : tn(h, arguments.length, a, b); } })[n], h, n, l, o),"
      "    (h, n, l, o) => dress(({ [n](a, b, c) {"
      "      return arguments.length === 3 ? t3(h, a, b, c) : tn(h, arguments.length, a, b, c); } })[n], h, n, l, o),"
      "    (h, n, l, o) => dress(({ [n](a, b, c, d) {"
      "      return arguments.length === 4 ? t4(h, a, b, c, d) : tn(h, arguments.length, a, b, c, d); } })[n], h, n, l, o),"
      "    (h, n, l, o) => dress(({ [n]() { return tn(h, arguments.length, ...arguments); } })[n], h, n, l, o),"
      "    () => create(null),"
      "    (x) => from(x),"
      "  ];"
      "})";
  static const napi_callback callbacks[7] = {func_call_sync0, func_call_sync1, func_call_sync2, func_call_sync3,
                                             func_call_sync4, func_call_sync_counted, func_call_async};
  napi_value script, outer, list, targets[8];
  if (napi_create_string_utf8(env, source, sizeof source - 1, &script) != napi_ok ||
      napi_run_script(env, script, &outer) != napi_ok ||
      napi_get_reference_value(env, a->owner_key, &targets[7]) != napi_ok)
    return false;
  for (int i = 0; i < 7; i++)
    if (napi_create_function(env, "wasm function", NAPI_AUTO_LENGTH, callbacks[i], NULL, &targets[i]) != napi_ok)
      return false;
  if (napi_call_function(env, outer, outer, 8, targets, &list) != napi_ok) return false;
  napi_ref *refs[8] = {&a->function_makers[0], &a->function_makers[1], &a->function_makers[2],
                       &a->function_makers[3], &a->function_makers[4], &a->function_makers[5],
                       &a->null_object,         &a->array_from};
  for (uint32_t i = 0; i < 8; i++) {
    napi_value helper;
    if (napi_get_element(env, list, i, &helper) != napi_ok || napi_create_reference(env, helper, 1, refs[i]) != napi_ok)
      return false;
  }
  return true;
}

/* ---------------------------------------------------------------- instances */

typedef struct node_instance {
  node_store *s;
  kiln_instance *instance;
  kiln_wasi *wasi;
  kiln_nn *nn;      /* WASI-NN (options.nn), or NULL */
  bool counts_fuel; /* its code counts fuel (addon_module_counts_fuel) */
} node_instance;

static const napi_type_tag instance_tag = {0x6b696c6e696e7374ULL, 0x616e636500000001ULL};

static void instance_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  node_instance *inst = data;
  store_unref(env, inst->s);
  free(inst);
}

static node_instance *this_instance(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv,
                                    napi_value *self_out) {
  napi_value self;
  napi_get_cb_info(env, info, argc, argv, &self, NULL);
  bool tagged = false;
  node_instance *inst = NULL;
  if (napi_check_object_type_tag(env, self, &instance_tag, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, self, (void **)&inst) != napi_ok) {
    addon_throw_type(env, "not a kiln Instance");
    return NULL;
  }
  if (self_out) *self_out = self;
  return inst;
}

/* Options of new Instance: numbers that must be non-negative. */
static bool option_number(napi_env env, napi_value options, const char *key, double max, double *out, bool *present) {
  napi_value v = addon_get(env, options, key);
  *present = !addon_is(env, v, napi_undefined);
  if (!*present) return true;
  if (addon_is(env, v, napi_bigint)) {
    bool lossless;
    uint64_t u;
    napi_get_value_bigint_uint64(env, v, &u, &lossless);
    *out = (double)u;
  } else if (napi_get_value_double(env, v, out) != napi_ok) {
    addon_throw_type(env, "options.%s must be a number", key);
    return false;
  }
  if (!(*out >= 0) || *out > max) {
    addon_throw_type(env, "options.%s must be a number from 0 to %.0f", key, max);
    return false;
  }
  return true;
}

static bool string_prop(napi_env env, napi_value v, char **out, const char *what) {
  size_t len;
  if (!addon_is(env, v, napi_string) || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    addon_throw_type(env, "%s must be a string", what);
    return false;
  }
  *out = malloc(len + 1);
  if (!*out) return addon_throw_error(env, "kiln: out of memory"), false;
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  return true;
}

/* Fill a WASI-NN configuration from options.nn, as lib/index.js normalized it:
 * {preload: [[name, path]], onnxruntime: path|null, threads, maxGraphs, maxContexts}. */
static bool nn_config_from(napi_env env, napi_value nn, kiln_nn_config *cfg) {
  napi_value lib = addon_get(env, nn, "onnxruntime");
  if (addon_is(env, lib, napi_string)) {
    char *path;
    if (!string_prop(env, lib, &path, "options.nn.onnxruntime")) return false;
    kiln_status s = kiln_nn_config_set_onnxruntime(cfg, path);
    free(path);
    if (s != KILN_OK) return addon_throw_error(env, "kiln: out of memory"), false;
  }
  double threads = 0, graphs = 16, contexts = 64;
  bool present;
  if (!option_number(env, nn, "threads", 1024, &threads, &present) ||
      !option_number(env, nn, "maxGraphs", 1e6, &graphs, &present) ||
      !option_number(env, nn, "maxContexts", 1e6, &contexts, &present))
    return false;
  kiln_nn_config_set_threads(cfg, (uint32_t)threads);
  kiln_nn_config_set_limits(cfg, (uint32_t)graphs, (uint32_t)contexts);
  napi_value list = addon_get(env, nn, "preload");
  uint32_t n = 0;
  bool is_array = false;
  napi_is_array(env, list, &is_array);
  if (is_array) napi_get_array_length(env, list, &n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value pair, name_v, path_v;
    napi_get_element(env, list, i, &pair);
    napi_get_element(env, pair, 0, &name_v);
    napi_get_element(env, pair, 1, &path_v);
    char *name = NULL, *path = NULL;
    bool ok = string_prop(env, name_v, &name, "options.nn.preload's name") &&
              string_prop(env, path_v, &path, "options.nn.preload's path");
    kiln_error err;
    if (ok && kiln_nn_config_preload(cfg, name, "onnx", "cpu", path, &err) != KILN_OK) {
      addon_throw_type(env, "options.nn.preload: %s", err.message);
      ok = false;
    }
    free(name);
    free(path);
    if (!ok) return false;
  }
  return true;
}

static bool wasi_fd_option(napi_env env, napi_value wasi, const char *key, int fallback, int *out) {
  napi_value v = addon_get(env, wasi, key);
  *out = fallback;
  if (addon_is(env, v, napi_undefined)) return true;
  if (addon_is(env, v, napi_null)) return *out = -1, true;
  int32_t fd;
  if (napi_get_value_int32(env, v, &fd) != napi_ok || fd < 0) {
    addon_throw_type(env, "options.wasi.%s must be a file descriptor (a number) or null", key);
    return false;
  }
  *out = fd;
  return true;
}

/* Fill a WASI configuration from options.wasi. */
static bool wasi_config_from(napi_env env, napi_value wasi, kiln_wasi_config *cfg) {
  if (!addon_is(env, wasi, napi_object)) {
    addon_throw_type(env, "options.wasi must be an object like {args: [], env: {}, preopens: {}}");
    return false;
  }
  napi_value args = addon_get(env, wasi, "args");
  if (!addon_is(env, args, napi_undefined)) {
    bool is_array = false;
    napi_is_array(env, args, &is_array);
    if (!is_array) return addon_throw_type(env, "options.wasi.args must be an array of strings"), false;
    uint32_t n;
    napi_get_array_length(env, args, &n);
    char **argv = calloc(n ? n : 1, sizeof *argv);
    bool ok = argv != NULL;
    for (uint32_t i = 0; ok && i < n; i++) {
      napi_value v;
      napi_get_element(env, args, i, &v);
      ok = string_prop(env, v, &argv[i], "options.wasi.args[i]");
    }
    if (ok) kiln_wasi_config_set_args(cfg, n, (const char *const *)argv);
    for (uint32_t i = 0; argv && i < n; i++) free(argv[i]);
    free(argv);
    if (!ok) return false;
  }
  static const char *const maps[] = {"env", "preopens", "readonlyPreopens"};
  for (int m = 0; m < 3; m++) {
    napi_value map = addon_get(env, wasi, maps[m]);
    if (addon_is(env, map, napi_undefined)) continue;
    if (!addon_is(env, map, napi_object)) return addon_throw_type(env, "options.wasi.%s must be an object", maps[m]), false;
    napi_value keys;
    napi_get_property_names(env, map, &keys);
    uint32_t n;
    napi_get_array_length(env, keys, &n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value k, v;
      napi_get_element(env, keys, i, &k);
      napi_get_property(env, map, k, &v);
      char *key = NULL, *value = NULL;
      bool ok = string_prop(env, k, &key, "a key") && string_prop(env, v, &value, maps[m]);
      if (ok && m == 0) {
        if (kiln_wasi_config_set_env(cfg, key, value) != KILN_OK) {
          addon_throw_type(env, "options.wasi.env: '%s' is not a valid variable name", key);
          ok = false;
        }
      } else if (ok) {
        kiln_error err;
        if (kiln_wasi_config_preopen(cfg, value, key, m == 2 ? KILN_WASI_READONLY : 0, &err) != KILN_OK) {
          addon_throw_type(env, "options.wasi.%s['%s']: %s", maps[m], key, err.message);
          ok = false;
        }
      }
      free(key);
      free(value);
      if (!ok) return false;
    }
  }
  int in, out, err_fd;
  if (!wasi_fd_option(env, wasi, "stdin", 0, &in) || !wasi_fd_option(env, wasi, "stdout", 1, &out) ||
      !wasi_fd_option(env, wasi, "stderr", 2, &err_fd))
    return false;
  kiln_wasi_config_set_stdio(cfg, in, out, err_fd);
  return true;
}

typedef struct import_list {
  kiln_import *items;
  size_t count, cap;
} import_list;

static bool import_add(import_list *l, kiln_import item) {
  if (l->count == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    kiln_import *items = realloc(l->items, cap * sizeof *items);
    if (!items) return false;
    l->items = items;
    l->cap = cap;
  }
  l->items[l->count++] = item;
  return true;
}

static void link_error(napi_env env, addon *a, const char *fmt, const char *m, const char *n, const char *extra) {
  kiln_error err = {.status = KILN_ERR_LINK};
  snprintf(err.message, sizeof err.message, fmt, m, n, extra);
  addon_throw_kiln(env, a, &err, 0);
}

/* Choose the store: the one of any Memory, Table, Global or wasm function given as an import
 * (values: one per import of the module, NULL where none is given; all must share it, and
 * be of the module's engine), else a new one. */
static node_store *pick_store(napi_env env, addon *a, const napi_value *values, uint32_t count, kiln_engine *engine) {
  node_store *found = NULL;
  for (uint32_t i = 0; i < count; i++) {
    napi_value v = values[i];
    if (!v) continue;
    kiln_extern e;
    node_store *s = NULL;
    if (!extern_from_js(env, v, &e, &s)) {
      kiln_func *fn = addon_is(env, v, napi_function) ? function_unwrap(env, v, &s) : NULL;
      if (!fn) continue;
    }
    if (!s->store) {
      link_error(env, a, "an imported object (%s%s%s) belongs to a closed instance", "", "", "");
      return NULL;
    }
    if (found && s != found) {
      link_error(env, a, "imported memories, tables, globals and functions come from different "
                         "instances' stores%s%s%s; kiln links objects of one store only", "", "", "");
      return NULL;
    }
    found = s;
  }
  if (found && found->engine != engine) {
    link_error(env, a, "the module runs in the %s tier, but its imported memories, tables, globals or "
                       "functions belong to the %s tier%s; objects linked together must share a tier "
                       "(the tier option of kiln.compile, or KILN_TIER for Memory, Table and Global)",
               addon_engine_name(engine), addon_engine_name(found->engine), "");
    return NULL;
  }
  if (found) {
    store_ref(found);
    return found;
  }
  node_store *s = store_new(env, engine);
  if (!s) addon_throw_error(env, "kiln: out of memory");
  return s;
}

/* Whether WASI or WASI-NN provides imports of module mod (when the imports object does not). */
static bool provided(const char *mod, bool have_wasi, bool have_nn) {
  return (have_wasi && strcmp(mod, "wasi_snapshot_preview1") == 0) || (have_nn && strcmp(mod, "wasi_ephemeral_nn") == 0);
}

/* The imports object's value for each import of module, read once each, in order, as the
 * standard reads them: importObject[module], then its field. values[i] is NULL where no value
 * is given (undefined). The facade (js_api) throws the standard's TypeError when
 * importObject[module] is not an object (unless WASI or WASI-NN provides that module); kiln's
 * own API leaves it to resolve_imports' LinkError. False with an exception pending (a getter
 * that threw, too). */
static bool read_imports(napi_env env, kiln_module *module, napi_value imports, bool have_wasi, bool have_nn,
                         bool js_api, napi_value *values) {
  uint32_t n = kiln_module_import_count(module);
  for (uint32_t i = 0; i < n; i++) {
    const char *mod, *name;
    kiln_externtype type;
    kiln_module_import(module, i, &mod, &name, &type);
    values[i] = NULL;
    napi_value ns = NULL, v;
    if (addon_is_object(env, imports) && napi_get_named_property(env, imports, mod, &ns) != napi_ok) return false;
    if (!ns || !addon_is_object(env, ns)) {
      if (js_api && !provided(mod, have_wasi, have_nn)) {
        addon_throw_type(env, "import %s.%s (%s): the imports object has no module '%s' (importObject.%s must be "
                              "an object)", mod, name, addon_kind_name(type.kind), mod, mod);
        return false;
      }
      continue;
    }
    if (napi_get_named_property(env, ns, name, &v) != napi_ok) return false;
    if (!addon_is(env, v, napi_undefined)) values[i] = v;
  }
  return true;
}

/* Resolve each import of module from its value (read_imports) into list. */
static bool resolve_imports(napi_env env, addon *a, node_store *s, kiln_module *module, const napi_value *values,
                            bool have_wasi, bool have_nn, bool js_api, napi_value hosts, import_list *list) {
  uint32_t n = kiln_module_import_count(module), host_count = 0;
  for (uint32_t i = 0; i < n; i++) {
    const char *mod, *name;
    kiln_externtype type;
    kiln_module_import(module, i, &mod, &name, &type);
    napi_value v = values[i];
    if (!v) {
      if (provided(mod, have_wasi, have_nn)) continue; /* WASI and WASI-NN provide these */
      link_error(env, a, "import %s.%s (%s) is missing from the imports object", mod, name,
                 addon_kind_name(type.kind));
      return false;
    }
    kiln_import item = {.module = mod, .name = name};
    kiln_extern e;
    node_store *owner;
    if (type.kind == KILN_EXTERN_FUNC && addon_is(env, v, napi_function)) {
      kiln_func *wasm_fn = function_unwrap(env, v, &owner);
      if (wasm_fn) {
        item.value = (kiln_extern){.kind = KILN_EXTERN_FUNC, .of.func = wasm_fn};
      } else {
        char host_name[sizeof ((host_import *)0)->name];
        snprintf(host_name, sizeof host_name, "%s.%s", mod, name);
        napi_set_element(env, hosts, host_count++, v);
        kiln_func *f = host_import_new(env, s, v, &type.func, host_name, false);
        if (!f) return false;
        item.value = (kiln_extern){.kind = KILN_EXTERN_FUNC, .of.func = f};
      }
    } else if (extern_from_js(env, v, &e, &owner) && e.kind == type.kind) {
      item.value = e;
    } else if (type.kind == KILN_EXTERN_GLOBAL && !type.global_mutable &&
               (addon_is(env, v, napi_number) || addon_is(env, v, napi_bigint))) {
      if (js_api && (type.global_type == KILN_I64) != addon_is(env, v, napi_bigint)) {
        link_error(env, a, "import %s.%s must be a %s", mod, name,
                   type.global_type == KILN_I64 ? "BigInt (an i64 global)" : "Number (an i32, f32 or f64 global)");
        return false;
      }
      kiln_val val;
      char what[300];
      snprintf(what, sizeof what, "global import %s.%s", mod, name);
      if (!value_to_wasm(env, a, s, v, type.global_type, &val, what, 0)) return false;
      item.value = (kiln_extern){.kind = KILN_EXTERN_GLOBAL, .of.global = kiln_global_new(s->store, type.global_type, false, val)};
    } else {
      link_error(env, a, "import %s.%s must be a %s", mod, name,
                 type.kind == KILN_EXTERN_FUNC ? "function" : type.kind == KILN_EXTERN_MEMORY ? "kiln Memory"
                 : type.kind == KILN_EXTERN_TABLE ? "kiln Table" : "kiln Global, a number or a BigInt");
      return false;
    }
    if (!import_add(list, item)) return addon_throw_error(env, "kiln: out of memory"), false;
  }
  return true;
}

static napi_value instance_new(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3], self;
  napi_get_cb_info(env, info, &argc, args, &self, NULL);
  addon *a = addon_of(env);
  addon_drain(env, a);
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  for (size_t i = argc; i < 3; i++) args[i] = undefined;
  kiln_engine *engine;
  kiln_module *module = module_unwrap(env, args[0], &engine);
  if (!module) return NULL;
  napi_value imports = args[1], options = args[2];
  if (!addon_is(env, imports, napi_undefined) && !addon_is_object(env, imports)) {
    addon_throw_type(env, "new Instance(module, imports, options): imports must be an object");
    return NULL;
  }
  if (addon_is(env, options, napi_undefined)) napi_create_object(env, &options);
  if (!addon_is(env, options, napi_object)) {
    addon_throw_type(env, "new Instance(module, imports, options): options must be an object");
    return NULL;
  }
  double memory_limit = 0, fuel = 0, timeout = 0;
  bool has_memory, has_fuel, has_timeout;
  if (!option_number(env, options, "memoryLimit", 18446744073709551615.0, &memory_limit, &has_memory) ||
      !option_number(env, options, "fuel", 18446744073709551615.0, &fuel, &has_fuel) ||
      !option_number(env, options, "timeoutMs", 1e12, &timeout, &has_timeout))
    return NULL;
  napi_value wasi_opt = addon_get(env, options, "wasi");
  bool have_wasi = !addon_is(env, wasi_opt, napi_undefined) && !addon_is(env, wasi_opt, napi_null);
  napi_value nn_opt = addon_get(env, options, "nn");
  bool have_nn = addon_is(env, nn_opt, napi_object);
  bool lenient = false;
  napi_get_value_bool(env, addon_get(env, options, "jsApi"), &lenient);

  bool counts_fuel = addon_module_counts_fuel(module, engine);
  if (has_fuel && fuel < 18446744073709551615.0 && !counts_fuel) {
    addon_throw_type(env, "new Instance(module, imports, options): options.fuel needs a module compiled with "
                          "{ fuel: true } (compiled code counts fuel only then; a precompiled .cwasm does not: "
                          "use the .wasm)");
    return NULL;
  }
  uint32_t import_count = kiln_module_import_count(module);
  napi_value *values = calloc(import_count + 1, sizeof *values);
  if (!values) return addon_throw_error(env, "kiln: out of memory"), NULL;
  if (!read_imports(env, module, imports, have_wasi, have_nn, lenient, values)) return free(values), NULL;
  node_store *s = pick_store(env, a, values, import_count, engine);
  if (!s) return free(values), NULL;
  node_instance *inst = calloc(1, sizeof *inst);
  if (inst) inst->counts_fuel = counts_fuel;
  import_list list = {0};
  kiln_wasi_config *cfg = NULL;
  napi_value hosts;
  napi_create_array(env, &hosts);
  bool ok = inst != NULL;
  if (!ok) addon_throw_error(env, "kiln: out of memory");
  if (ok) {
    inst->s = s;
    s->lenient = lenient;
    if (has_memory) kiln_store_set_memory_limit(s->store, (uint64_t)memory_limit);
    if (has_fuel) kiln_store_set_fuel(s->store, (uint64_t)fuel);
    if (has_timeout) s->timeout_ms = (uint64_t)timeout;
    ok = resolve_imports(env, a, s, module, values, have_wasi, have_nn, lenient, hosts, &list);
  }
  if (ok && have_wasi) {
    cfg = kiln_wasi_config_new();
    kiln_error err;
    ok = cfg && wasi_config_from(env, wasi_opt, cfg);
    if (ok && kiln_wasi_new(s->store, cfg, &inst->wasi, &err) != KILN_OK) {
      addon_throw_kiln(env, a, &err, 0);
      ok = false;
    }
    const kiln_import *wasi_imports;
    size_t wasi_count;
    if (ok && kiln_wasi_imports(inst->wasi, module, &wasi_imports, &wasi_count) == KILN_OK) {
      for (size_t i = 0; ok && i < wasi_count; i++) ok = import_add(&list, wasi_imports[i]);
    }
  }
  if (ok && have_nn) {
    kiln_nn_config *nn_cfg = kiln_nn_config_new();
    kiln_error err;
    ok = nn_cfg && nn_config_from(env, nn_opt, nn_cfg);
    if (!nn_cfg) addon_throw_error(env, "kiln: out of memory");
    if (ok && kiln_nn_new(s->store, nn_cfg, &inst->nn, &err) != KILN_OK) {
      addon_throw_kiln(env, a, &err, 0);
      ok = false;
    }
    kiln_nn_config_free(nn_cfg);
    const kiln_import *nn_imports;
    size_t nn_count;
    if (ok && kiln_nn_imports(inst->nn, module, &nn_imports, &nn_count) == KILN_OK) {
      for (size_t i = 0; ok && i < nn_count; i++) ok = import_add(&list, nn_imports[i]);
    }
  }
  if (ok) {
    uint32_t host_count;
    napi_get_array_length(env, hosts, &host_count);
    if (host_count && !s->tsfn) {
      napi_value name = addon_string(env, "kiln.host");
      tsfn_link *link = malloc(sizeof *link);
      if (link && napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, link, tsfn_finalized, s,
                                                  host_request_on_js_thread, &s->tsfn) == napi_ok) {
        link->store = s;
        s->tsfn_link = link;
        napi_unref_threadsafe_function(env, s->tsfn);
      } else {
        free(link);
        s->tsfn = NULL;
      }
    }
    kiln_error err;
    s->sync_depth++; /* the start function runs here, synchronously */
    kiln_status status = kiln_instantiate(s->store, module, list.items, list.count, &inst->instance, &err);
    s->sync_depth--;
    if (status != KILN_OK) {
      napi_throw(env, call_error(env, s, &err, 0));
      ok = false;
    }
  }
  free(list.items);
  free(values);
  kiln_wasi_config_free(cfg);
  if (!ok) {
    free(inst);
    store_unref(env, s);
    return NULL;
  }
  store_account(env, s); /* its memories */
  napi_type_tag_object(env, self, &instance_tag);
  addon_wrap(env, a, self, inst, instance_finalize);
  addon_set_owner(env, a, self, hosts); /* the JS host functions live as long as the instance */
  if (!s->owner) napi_create_reference(env, self, 0, &s->owner);

  /* exports: a frozen object with a null prototype, as the standard's */
  napi_value exports, make;
  if (napi_get_reference_value(env, a->null_object, &make) != napi_ok ||
      napi_call_function(env, make, make, 0, NULL, &exports) != napi_ok)
    return NULL;
  uint32_t n = kiln_instance_export_count(inst->instance);
  for (uint32_t i = 0; i < n; i++) {
    const char *name;
    kiln_extern e;
    kiln_instance_export_at(inst->instance, i, &name, &e);
    napi_value v = extern_to_js(env, a, s, self, &e, name);
    if (!v) return NULL;
    addon_set(env, exports, name, v);
  }
  napi_object_freeze(env, exports);
  napi_property_descriptor d = {.utf8name = "exports", .value = exports, .attributes = napi_enumerable};
  napi_define_properties(env, self, 1, &d);
  return self;
}

static napi_value instance_call_async(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3], self;
  node_instance *inst = this_instance(env, info, &argc, args, &self);
  if (!inst) return NULL;
  char name[256];
  size_t len;
  if (argc < 1 || napi_get_value_string_utf8(env, args[0], name, sizeof name, &len) != napi_ok) {
    addon_throw_type(env, "callAsync(name, args, timeoutMs): name must be a string");
    return NULL;
  }
  bool is_array = false;
  if (argc >= 2 && !addon_is(env, args[1], napi_undefined)) napi_is_array(env, args[1], &is_array);
  if (argc >= 2 && !addon_is(env, args[1], napi_undefined) && !is_array) {
    addon_throw_type(env, "callAsync(name, args, timeoutMs): args must be an array");
    return NULL;
  }
  double timeout = (double)inst->s->timeout_ms;
  if (argc >= 3 && !addon_is(env, args[2], napi_undefined) &&
      (napi_get_value_double(env, args[2], &timeout) != napi_ok || !(timeout >= 0))) {
    addon_throw_type(env, "callAsync(name, args, timeoutMs): timeoutMs must be a non-negative number");
    return NULL;
  }
  napi_value exports = addon_get(env, self, "exports"), fn = addon_get(env, exports, name);
  node_store *s;
  if (!addon_is(env, fn, napi_function) || !function_unwrap(env, fn, &s)) {
    addon_throw_type(env, "callAsync: the instance exports no function '%s'", name);
    return NULL;
  }
  node_func *nf;
  napi_unwrap(env, fn, (void **)&nf);
  uint32_t n = 0;
  if (is_array) napi_get_array_length(env, args[1], &n);
  napi_value stack[16], *argv = n <= 16 ? stack : malloc(n * sizeof *argv);
  if (!argv) return addon_throw_error(env, "kiln: out of memory"), NULL;
  for (uint32_t i = 0; i < n; i++) napi_get_element(env, args[1], i, &argv[i]);
  napi_value r = call_async(env, nf, fn, n, argv, (uint64_t)timeout);
  if (argv != stack) free(argv);
  return rejected_if_thrown(env, r);
}

static napi_value instance_run_wasi(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value self;
  node_instance *inst = this_instance(env, info, &argc, NULL, &self);
  if (!inst || !store_usable(env, inst->s, true)) return NULL;
  if (!inst->wasi) return addon_throw_error(env, "runWasi: the instance was made without options.wasi"), NULL;
  node_store *s = inst->s;
  uint64_t token = s->timeout_ms ? watchdog_arm(s, s->timeout_ms) : 0;
  kiln_error err;
  int32_t code;
  s->sync_depth++;
  kiln_status status = kiln_wasi_run(inst->wasi, inst->instance, &code, &err);
  s->sync_depth--;
  watchdog_disarm(token);
  bool timed_out = token && atomic_load(&s->timed_out);
  if (s->store) {
    kiln_store_clear_interrupt(s->store);
    memories_detach(env, s, true);
  }
  if (status != KILN_OK) return napi_throw(env, call_error(env, s, &err, timed_out ? s->timeout_ms : 0)), NULL;
  napi_value r;
  napi_create_int32(env, code, &r);
  return r;
}

static napi_value instance_run_wasi_async(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value self;
  node_instance *inst = this_instance(env, info, &argc, NULL, &self);
  if (!inst || !store_usable(env, inst->s, false)) return rejected_if_thrown(env, NULL);
  if (!inst->wasi)
    return addon_throw_error(env, "runWasiAsync: the instance was made without options.wasi"), rejected_if_thrown(env, NULL);
  async_call *job = calloc(1, sizeof *job);
  if (!job) return addon_throw_error(env, "kiln: out of memory"), NULL;
  job->wasi = inst->wasi;
  job->instance = inst->instance;
  job->timeout_ms = inst->s->timeout_ms;
  return enqueue(env, inst->s, job, self);
}

static napi_value instance_interrupt(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  node_instance *inst = this_instance(env, info, &argc, NULL, NULL);
  if (inst && inst->s->store && (inst->s->running || inst->s->sync_depth)) kiln_store_interrupt(inst->s->store);
  return NULL;
}

static napi_value instance_fuel(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  node_instance *inst = this_instance(env, info, &argc, NULL, NULL);
  if (!inst || !store_usable(env, inst->s, false)) return NULL;
  uint64_t fuel = kiln_store_fuel(inst->s->store);
  napi_value r;
  napi_create_double(env, fuel == UINT64_MAX ? 1.0 / 0.0 : (double)fuel, &r);
  return r;
}

static napi_value instance_set_fuel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  node_instance *inst = this_instance(env, info, &argc, &arg, NULL);
  if (!inst || !store_usable(env, inst->s, true)) return NULL;
  double fuel;
  if (argc < 1 || napi_get_value_double(env, arg, &fuel) != napi_ok || !(fuel >= 0)) {
    addon_throw_type(env, "setFuel(n): n must be a non-negative number (Infinity: unlimited)");
    return NULL;
  }
  if (fuel < 18446744073709551615.0 && !inst->counts_fuel) {
    addon_throw_type(env, "setFuel(n): fuel needs a module compiled with { fuel: true } (compiled code counts "
                          "fuel only then; a precompiled .cwasm does not: use the .wasm)");
    return NULL;
  }
  kiln_store_set_fuel(inst->s->store, fuel >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)fuel);
  return NULL;
}

static napi_value instance_busy(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  node_instance *inst = this_instance(env, info, &argc, NULL, NULL);
  if (!inst) return NULL;
  napi_value r;
  napi_get_boolean(env, inst->s->running || inst->s->queue_head, &r);
  return r;
}

static napi_value instance_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  node_instance *inst = this_instance(env, info, &argc, NULL, NULL);
  if (!inst) return NULL;
  node_store *s = inst->s;
  if (!s->store) return NULL;
  if (s->sync_depth) {
    addon_throw_error(env, "kiln: close() cannot run inside a call of the same instance");
    return NULL;
  }
  if (s->loose) return NULL; /* shared with JS-made objects: freed when they all are */
  if (s->running) { /* finish (quickly) first, then close */
    s->close_requested = true;
    kiln_store_interrupt(s->store);
  } else {
    store_close(env, s);
  }
  return NULL;
}

napi_value instance_class(napi_env env, addon *a) {
  (void)a;
  napi_property_descriptor props[] = {
      {.utf8name = "callAsync", .method = instance_call_async, .attributes = napi_default_method},
      {.utf8name = "runWasi", .method = instance_run_wasi, .attributes = napi_default_method},
      {.utf8name = "runWasiAsync", .method = instance_run_wasi_async, .attributes = napi_default_method},
      {.utf8name = "interrupt", .method = instance_interrupt, .attributes = napi_default_method},
      {.utf8name = "setFuel", .method = instance_set_fuel, .attributes = napi_default_method},
      {.utf8name = "close", .method = instance_close, .attributes = napi_default_method},
      {.utf8name = "fuel", .getter = instance_fuel, .attributes = napi_configurable},
      {.utf8name = "busy", .getter = instance_busy, .attributes = napi_configurable},
  };
  napi_value cls;
  napi_define_class(env, "Instance", NAPI_AUTO_LENGTH, instance_new, NULL, sizeof props / sizeof props[0], props,
                    &cls);
  return cls;
}
