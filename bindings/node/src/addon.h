/* addon.h - what the files of kiln's Node-API addon share. The addon is a client of kiln.h
 * only; lib/index.js builds the public JavaScript API (kiln.compile, kiln.instantiate, Pool,
 * the WebAssembly facade) on the native interface described here.
 *
 * The native interface (require('../build/kiln.node')):
 *
 *   init({CompileError, LinkError, RuntimeError, TimeoutError, ExitError}, {tier, portable}?)
 *       Call once first: native code throws and rejects with these classes; the second
 *       argument is the default tier of this environment (see Module). Errors carry
 *       extra properties: RuntimeError/TimeoutError .trap (the kind: "unreachable",
 *       "out of bounds memory access", "interrupted", "out of fuel", "host", ...) and
 *       .wasmStack ([{index, name, offset}], innermost first); ExitError .code (a WASI
 *       proc_exit from an exported function call).
 *   validate(bytes) -> boolean                 bytes: ArrayBuffer or any ArrayBufferView
 *   tiers                                      ["interp"], or ["interp", "compiled", "auto"]
 *                                              when the addon has the LLVM tier
 *   new Module(bytes, {tier, portable, fuel}?) throws CompileError naming what and where
 *       tier "auto" | "interp" | "compiled" (default: init's), portable: compiled code for
 *       the baseline CPU. TypeError for other values; Error if the compiled tier is not
 *       built. Compiled code is cached (kiln_config.cache) unless the environment has
 *       KILN_CACHE=off; KILN_CACHE_DIR is its directory. KILN_TIERUP_THRESHOLD: the auto
 *       tier's calls plus loop iterations before a function is compiled (default 50,000).
 *   compileAsync(bytes, {tier, portable, fuel}?) -> Promise<Module>   off the JS thread
 *     .tier                                      "auto" | "interp" | "compiled"
 *     .stats() -> {tier, functions, nativeFunctions, nativeCodeBytes, translatedFunctions,
 *        translatedCodeBytes, cachedFunctions, cacheHit, precompiled}
 *     .imports() -> [{module, name, kind, type}]   kind "function"|"table"|"memory"|"global"
 *     .exports() -> [{name, kind, type}]
 *         type: function {params: ["i32", ...], results: [...]}; memory {initial, maximum?}
 *         (pages); table {element: "funcref"|"externref", initial, maximum?};
 *         global {value: "i32"|..., mutable}
 *     .customSections(name) -> [ArrayBuffer]     copies
 *     .close()                                   instances made from it keep what they need
 *   new Instance(module, imports, options)
 *       imports: {moduleName: {field: value}}: a JS function (function imports), a Memory,
 *       Table or Global of this addon, or a number/bigint (an immutable global import).
 *       options: {wasi: {args, env: {NAME: value}, preopens: {guest: host},
 *       readonlyPreopens: {guest: host}, stdin, stdout, stderr (host fds; null: empty input
 *       or discarded output; default 0, 1, 2)}, memoryLimit (bytes, for memories the
 *       instance creates), fuel, timeoutMs, jsApi (true: coerce arguments as the WebAssembly
 *       JS API does instead of throwing TypeErrors; the facade sets it)}.
 *       Throws LinkError (the import named, or imported objects of another tier than the
 *       module's: a store and everything in it are of one engine), RuntimeError (the start
 *       function trapped), TypeError (a wrong argument, naming it).
 *     .exports: {name: function | Memory | Table | Global}. Each function f is native:
 *       f(...args) calls synchronously on the JS thread; f.async(...args) returns a Promise
 *       (rejected, never thrown, on wrong arguments) and runs the call on libuv's thread pool. Values follow the WebAssembly JS API:
 *       i32/f32/f64 Number, i64 BigInt, externref any value, funcref an exported function or
 *       null; several results come back as an array.
 *     .callAsync(name, args[], timeoutMs?) -> Promise     per-call timeout (else options')
 *     .runWasi() -> exit code; .runWasiAsync() -> Promise<exit code>    calls _start
 *     .interrupt()          stops the running call (from anywhere): it throws or rejects a
 *                           RuntimeError with trap "interrupted" (TimeoutError if a timeout
 *                           did it); the instance stays usable
 *     .fuel                 fuel left (Number; Infinity when unlimited); .setFuel(n)
 *     .busy                 an async call is running or queued
 *     .close()              frees the instance's store and memory now; its memory's views
 *                           are detached; later calls throw. An instance that imports
 *                           Memory/Table/Global objects made from JS shares their store
 *                           (one per thread): close() leaves it, GC frees it with them.
 *   One instance runs one call at a time: async calls queue in order; a synchronous call
 *   while async ones are pending throws an Error saying so (use a Pool).
 *   JS host functions called from an async call run on the JS thread (the worker waits
 *   for them through a thread-safe function), so the event loop must be free to run them.
 *   new Memory({initial, maximum}); .buffer (ArrayBuffer over linear memory, no copy;
 *       replaced after growth, the old one detached); .grow(delta) -> old pages; .size
 *   new Table({element, initial, maximum}, init); .length; .get(i); .set(i, v); .grow(n, v)
 *   new Global({value, mutable}, init); .value (get/set)
 *   bareAdd(a, b)         a bare Node-API function adding two int32s, for benchmarks
 */
#ifndef KILN_NODE_ADDON_H
#define KILN_NODE_ADDON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <node_api.h>

/* The few libuv functions the addon uses (the sentry's timer), declared here because
 * node-api-headers, which a build from the npm package compiles against, ships no uv.h. They
 * are libuv 1.x's stable ABI, which Node.js exports; handles are opaque and sized by
 * uv_handle_size, so no struct layout of libuv's is assumed. */
typedef struct uv_loop_s uv_loop_t;
typedef struct uv_handle_s uv_handle_t;
typedef struct uv_timer_s uv_timer_t;
typedef void (*uv_timer_cb)(uv_timer_t *handle);
typedef void (*uv_close_cb)(uv_handle_t *handle);
enum { KILN_UV_TIMER = 13 }; /* UV_TIMER in libuv 1.x's uv_handle_type */
size_t uv_handle_size(int type);
void *uv_handle_get_data(const uv_handle_t *handle);
void uv_handle_set_data(uv_handle_t *handle, void *data);
int uv_timer_init(uv_loop_t *loop, uv_timer_t *handle);
int uv_timer_start(uv_timer_t *handle, uv_timer_cb cb, uint64_t timeout, uint64_t repeat);
int uv_timer_stop(uv_timer_t *handle);
void uv_close(uv_handle_t *handle, uv_close_cb close_cb);
void uv_unref(uv_handle_t *handle);

#include "kiln.h"

/* ---------------------------------------------------------------- the addon */

enum { ERR_COMPILE, ERR_LINK, ERR_RUNTIME, ERR_TIMEOUT, ERR_EXIT, ERR_MEMORY, ERR_CLASS_COUNT };

/* Per-environment state (main thread and each worker thread have their own). */
typedef struct addon {
  napi_ref error_class[ERR_CLASS_COUNT];
  napi_ref owner_key; /* a symbol: the property by which exports keep their instance alive */
  napi_ref memory_ctor, table_ctor, global_ctor, module_ctor;
  napi_ref function_makers[6]; /* see js_helpers_init */
  napi_ref null_object, array_from; /* () => Object.create(null), (x) => Array.from(x), as at load */
  napi_ref twin_helpers; /* shared memories' SharedArrayBuffers (objects.c, twin_helpers_init), or NULL */
  pthread_t js_thread;
  kiln_tier tier;     /* the default tier (init's): modules, and objects made from JS */
  bool portable;
  struct node_store *loose; /* the store of Memory/Table/Global objects made from JS, if any */
  /* Async calls running on worker threads, and the sentry that interrupts them when the
   * environment stops (a worker's terminate()): Node waits for thread-pool work before
   * it runs any cleanup hook, so a call that never ended would hang it (see addon.c). */
  napi_env env;
  struct node_store **running;
  size_t running_count, running_cap;
  struct sentry *sentry;
  bool stopping;
  /* The environment of kiln_gc.node (gc/gc.c), given to init: objects are wrapped there so
   * that their finalizers run during garbage collection; NULL without it (then in this
   * environment, on a later turn of the event loop). */
  napi_env gc_env;
  /* What finalizers release: they run during garbage collection and may not touch
   * JavaScript, so the references they drop and the external memory they give back wait
   * here until the addon's next entry (addon_drain). */
  napi_ref *graveyard;
  size_t graveyard_count, graveyard_cap;
  int64_t external_released;
} addon;

/* From a finalizer (or anywhere): delete ref at the next addon_drain. */
void addon_release_ref(addon *a, napi_ref ref);
/* From a finalizer: tell V8 at the next addon_drain that bytes of external memory are gone. */
void addon_release_external(addon *a, int64_t bytes);
/* Apply what finalizers released; called where JavaScript makes modules, instances and
 * objects, so that a loop that never yields drains as it goes. */
void addon_drain(napi_env env, addon *a);

/* napi_wrap(obj, native) with finalize, in the environment whose finalizers run during
 * garbage collection (a->gc_env) where there is one. finalize may not touch JavaScript,
 * allocate on V8's heap or delete references (addon_release_ref); its env is that one. */
void addon_wrap(napi_env env, addon *a, napi_value obj, void *native, napi_finalize finalize);

/* An async call of s started on, or came back from, a worker thread. */
bool addon_async_started(napi_env env, addon *a, struct node_store *s);
void addon_async_ended(addon *a, struct node_store *s);

/* This environment's addon state. */
addon *addon_of(napi_env env);

/* The engine of a tier (compiled for this CPU, or portable): one per process for each,
 * made on first use, thread-safe. A store and the modules instantiated in it must come
 * from one engine (function types are interned per engine). NULL when out of memory. */
kiln_engine *addon_engine(kiln_tier tier, bool portable, bool fuel);
/* Whether code of the engine counts fuel: the interpreter always, compiled code when its
 * module was compiled with { fuel: true } (counting costs compiled code ~30% on calls). */
bool addon_engine_counts_fuel(const kiln_engine *engine);
/* Whether module's code counts fuel in engine: addon_engine_counts_fuel, except that a
 * precompiled module's native code runs whatever the engine's tier, and counts fuel only in
 * an engine with consume_fuel ({ fuel: true }). */
bool addon_module_counts_fuel(const kiln_module *module, const kiln_engine *engine);
/* "interp", "compiled" or "compiled (portable)": what an engine of addon_engine runs. */
const char *addon_engine_name(const kiln_engine *engine);
/* Whether this addon was built with the LLVM tier. */
bool addon_has_compiled_tier(void);
/* Read options.tier, options.portable and options.fuel (fuel may be NULL: not an option
 * there) (left as they are when absent or undefined); false
 * after throwing a TypeError naming the option and its values, or an Error saying how to get
 * the compiled tier when this addon was built without it. */
bool addon_tier_option(napi_env env, napi_value options, kiln_tier *tier, bool *portable, bool *fuel);

/* Throw a JS error. kiln_error_throw picks the class from the status and trap kind and
 * sets .trap and .wasmStack; timed_out turns an interruption into a TimeoutError. */
/* A failed call after limits.memory refused memory.grow (err->memory_requested): the message
 * of its MemoryLimitError, ending with what happened then; its limit and requested properties;
 * a MemoryLimitError whose cause is the exception a host function threw then. */
void addon_memory_message(const kiln_error *err, const char *then, char *out, size_t size);
void addon_set_memory_refusal(napi_env env, napi_value error, const kiln_error *err);
napi_value addon_memory_error(napi_env env, addon *a, const kiln_error *err, napi_value cause);
/* The JS error of a failed kiln call; timed_out_ms: the timeout that stopped it (0: none did). */
napi_value addon_error_value(napi_env env, addon *a, const kiln_error *err, uint64_t timed_out_ms);
void addon_throw_kiln(napi_env env, addon *a, const kiln_error *err, uint64_t timed_out_ms);
void addon_throw_type(napi_env env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v converted as WebIDL's [EnforceRange] unsigned long (ToNumber, which may throw; a
 * TypeError naming what for NaN, infinities and values outside 0..2^32-1). */
bool addon_enforce_u32(napi_env env, napi_value v, const char *what, uint32_t *out);
void addon_throw_range(napi_env env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether a constructor was called with new; throws the standard's TypeError when not. */
bool addon_require_new(napi_env env, napi_callback_info info, const char *class_name);
void addon_throw_error(napi_env env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Bytes of an ArrayBuffer or ArrayBufferView; false after throwing a TypeError naming what. */
bool addon_get_bytes(napi_env env, napi_value value, const char *what, const uint8_t **data, size_t *size);

/* Helpers over napi_* that ignore failures we cannot act on. */
napi_value addon_string(napi_env env, const char *s);
napi_value addon_u32(napi_env env, uint32_t v);
void addon_set(napi_env env, napi_value obj, const char *key, napi_value value);
napi_value addon_get(napi_env env, napi_value obj, const char *key); /* undefined if absent */
bool addon_is(napi_env env, napi_value v, napi_valuetype type);
/* Whether v is an Object in the standard's sense (functions too). */
bool addon_is_object(napi_env env, napi_value v);
/* Keep owner alive as long as obj is (a hidden symbol property: collectable cycles). */
void addon_set_owner(napi_env env, addon *a, napi_value obj, napi_value owner);

/* A JS description of a type: {params, results}, {initial, maximum}, ... */
napi_value addon_externtype(napi_env env, const kiln_externtype *t);
const char *addon_kind_name(kiln_externkind kind);

/* ---------------------------------------------------------------- stores */

typedef struct async_call async_call;
typedef struct node_memory node_memory;
typedef struct externref_box externref_box;

/* A kiln store shared by everything of one instance (and by the memories, tables and
 * globals imported into it). One call runs in it at a time: async calls queue here. */
typedef struct node_store {
  napi_env env;            /* the environment (thread) that owns it */
  addon *a;
  kiln_engine *engine;     /* whose modules it instantiates (one tier) */
  kiln_store *store;       /* NULL once closed */
  bool loose;              /* holds objects made from JS: shared, so close() leaves it */
  int refs;                /* JS objects and buffers that point here */
  int64_t external;        /* what V8 was told the store costs outside its heap (store_account) */
  bool lenient;            /* WebAssembly JS API argument coercion (the facade) */
  async_call *queue_head, *queue_tail; /* async calls waiting; head is running if running */
  bool running;            /* an async call is on a worker thread */
  bool close_requested;    /* close() came while running: finish, then close */
  int sync_depth;          /* synchronous calls on the JS thread (host functions may nest) */
  napi_ref owner;          /* weak: the Instance object, owner of funcref results */
  napi_threadsafe_function tsfn; /* host functions called from worker threads */
  struct tsfn_link *tsfn_link;   /* tells each side when the other is gone (see instance.c) */
  napi_ref pending_exception;    /* a JS exception thrown by a host function */
  node_memory *memories;   /* memory objects with an ArrayBuffer handed out */
  struct memory_twin *twins; /* the V8 twins of its shared memories (objects.c, shared_buffer) */
  uint32_t twin_count;
  externref_box *externrefs; /* JS values passed into wasm as externref */
  /* The JS object standing for each kiln function, memory, table and global handed out, so
   * that one read back (from another instance's exports, a table, a funcref global) is the
   * same object: an open-addressed table of weak references (wrapper_find). */
  struct wrapper_entry *wrappers;
  uint32_t wrappers_size, wrappers_used;
  uint64_t timeout_ms;     /* the instance's default per-call timeout (0: none) */
  atomic_bool timed_out;   /* the watchdog interrupted the current call */
} node_store;

/* The live JS object of s standing for the kiln object key, or NULL. */
napi_value wrapper_find(napi_env env, node_store *s, const void *key);
/* obj (whose native side is wrapper) stands for key from now on. */
void wrapper_remember(napi_env env, node_store *s, const void *key, const void *wrapper, napi_value obj);
/* From wrapper's finalizer: key's entry goes, if it is still wrapper's. */
void wrapper_forget(node_store *s, const void *key, const void *wrapper);

node_store *store_new(napi_env env, kiln_engine *engine);
/* The store for Memory, Table and Global objects made from JavaScript (new Memory(...)):
 * one per environment while any of them lives, so that they can be imported together by
 * one instance, as the WebAssembly JS API allows; in the default tier's engine. Returns a
 * new reference. */
node_store *store_loose(napi_env env);
void store_ref(node_store *s);
void store_unref(napi_env env, node_store *s);
/* Tell V8 what s costs outside its heap now (a fixed part and its memories' sizes), so that
 * garbage collection comes in time for programs that drop instances without close(). Where
 * JavaScript makes or grows what a store holds (instances, memories). */
void store_account(napi_env env, node_store *s);
/* Free the kiln store now (everything in it becomes unusable; buffers are detached). */
void store_close(napi_env env, node_store *s);
/* Detach the ArrayBuffers handed out for the store's memories: all of them, or those of
 * memories that have grown since (after every call). */
void memories_detach(napi_env env, node_store *s, bool only_grown);
/* Release the JS values passed into wasm as externref. */
void externrefs_free(napi_env env, node_store *s);

/* Values between JS and wasm. to_wasm throws a TypeError naming argument `index` of `fn`. */
bool value_to_wasm(napi_env env, addon *a, node_store *s, napi_value v, kiln_valtype type,
                   kiln_val *out, const char *fn, uint32_t index);
napi_value value_from_wasm(napi_env env, addon *a, node_store *s, const kiln_val *v);

/* The watchdog: interrupt store after ms unless disarmed first. */
uint64_t watchdog_arm(node_store *s, uint64_t ms);
void watchdog_disarm(uint64_t token);

/* ---------------------------------------------------------------- classes */

napi_value module_class(napi_env env, addon *a);
/* compileAsync(bytes, {tier, portable, fuel}?) -> Promise<Module>: new Module on libuv's thread
 * pool (the bytes are copied first, so the caller may reuse them at once). */
napi_value module_compile_async(napi_env env, napi_callback_info info);
napi_value instance_class(napi_env env, addon *a);
napi_value memory_class(napi_env env, addon *a);
/* The JavaScript behind shared memories' SharedArrayBuffers (objects.c); without it (no
 * WebAssembly or SharedArrayBuffer here) their buffers are frozen ArrayBuffers. */
void twin_helpers_init(napi_env env, addon *a);
/* Let go of s's twins (store_close; in a finalizer too). */
void twins_free(node_store *s);
napi_value table_class(napi_env env, addon *a);
napi_value global_class(napi_env env, addon *a);

/* The kiln module of a Module object and the engine it was compiled by (NULL after
 * throwing). */
kiln_module *module_unwrap(napi_env env, napi_value obj, kiln_engine **engine);
/* A JS object for an exported or imported extern of store s (owner kept alive by it). */
napi_value extern_to_js(napi_env env, addon *a, node_store *s, napi_value owner, const kiln_extern *e,
                        const char *name);
/* If v is a Memory, Table or Global object: its extern and its store. */
bool extern_from_js(napi_env env, napi_value v, kiln_extern *out, node_store **store);
/* The wasm function behind a JS function made by function_to_js (NULL if it is not one). */
kiln_func *function_unwrap(napi_env env, napi_value v, node_store **store);
/* f, a function of another store whose JS function is fn, made usable in s (a host function
 * of s calling fn); NULL after throwing. */
kiln_func *function_foreign(napi_env env, node_store *s, napi_value fn, kiln_func *f);
/* A function of store s as a JS function: f(...) and f.async(...). */
napi_value function_to_js(napi_env env, addon *a, node_store *s, napi_value owner, kiln_func *f,
                          const char *name);
/* Make the JavaScript the addon calls: the makers of exported functions, null-prototype
 * objects, Array.from (once per environment, at load, from the built-ins as they are then). */
bool js_helpers_init(napi_env env, addon *a);

#endif /* KILN_NODE_ADDON_H */
