/* runtime.h - the runtime objects behind kiln.h's opaque types, and the compiled code that
 * the interpreter runs. The instance keeps its hot data (memory, globals, tables, functions,
 * type ids) in flat arrays so that compiled code, interpreted or native, addresses it directly. */
#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "decode/module.h"
#include "kiln.h"
#include "runtime/vmctx.h"

/* One cell of interpreter code: a handler address, a frame byte offset or an immediate. */
typedef uint64_t cell;

/* A value in a frame slot. v128 values take two consecutive slots. */
typedef union slot {
  uint32_t i32;
  uint64_t i64;
  float f32;
  double f64;
  void *ref;
} slot;

/* Fuel (kiln_store_set_fuel) measures work: a function entry or a loop iteration costs one
 * unit plus one per FUEL_CELLS cells of the function's or loop body's code (and per
 * FUEL_BYTES of locals zeroed on entry); bulk memory and table instructions cost one unit per
 * FUEL_BYTES they write. So a budget bounds the time a call can take, whatever the sizes. */
#define FUEL_CELLS 1024u
#define FUEL_BYTES 16384u

/* Maps a code cell index to the byte offset in the module of the instruction it came from. */
typedef struct code_offset {
  uint32_t cell;
  uint32_t wasm_offset;
} code_offset;

/* A function body compiled to interpreter code. Owned by its kiln_module; immutable. */
typedef struct compiled_func {
  /* NULL until the function is first called (module_translate); then the other fields below
   * are final. Read it with acquire ordering (compiled_func_code) before them. */
  cell *code;
  uint32_t code_cells;
  uint32_t func_index;       /* in the module's function index space */
  uint32_t type_id;          /* canonical id of its type */
  const functype *type;
  uint32_t param_slots;      /* slots taken by the parameters (v128 = 2) */
  uint32_t local_slots;      /* slots of declared locals, zeroed on entry */
  uint32_t frame_slots;      /* params + locals + deepest operand stack; >= result slots */
  uint32_t entry_fuel;       /* fuel charged per entry, see FUEL_CELLS */
  uint32_t offset_count;
  code_offset *offsets;      /* sorted by cell */
  /* known from validation, before translation (how hard the body is for a compiler) */
  uint32_t max_depth;        /* deepest block nesting */
  uint32_t max_operands;     /* deepest operand stack, in values */
  uint32_t body_bytes;       /* size of the body's code */
  /* KILN_TIER_AUTO (runtime/tierup.c) */
  int32_t hotness;           /* calls + loop iterations left before tier-up (relaxed atomics) */
  uint8_t tier_state;        /* TIER_COLD, ... (atomic) */
  void *native_func;         /* f<N> once compiled; read after native_entry */
  void (*native_entry)(kiln_instance *vm, uint64_t *slots); /* e<N> once compiled (acquire) */
  /* On-stack replacement: a call looping in the interpreter at the loop of ordinal osr_loop
   * (func_osr_loop) continues in o<N>, which takes the frame's locals in slots and leaves the
   * results there (acquire; osr_loop is written before). osr_request: the ordinal of the loop
   * that made the function hot, for the compile (UINT32_MAX: none). */
  void (*osr_entry)(kiln_instance *vm, uint64_t *slots);
  uint32_t osr_loop;
  uint32_t osr_request;
  uint8_t osr_state;         /* OSR_NONE, OSR_QUEUED (a compile for osr_request), OSR_DONE */
} compiled_func;

enum { OSR_NONE, OSR_QUEUED, OSR_DONE };

/* COLD -> QUEUED (hot, a compile job is queued) -> BUSY (being compiled, or loaded from the
 * cache, which may also take a COLD or QUEUED function) -> NATIVE, or STAYS when the compiler
 * does not take it on; a failed cache load puts it back where it was. */
enum { TIER_COLD, TIER_QUEUED, TIER_BUSY, TIER_NATIVE, TIER_STAYS };
enum { TIER_CACHE_UNKNOWN, TIER_CACHE_ON, TIER_CACHE_OFF };

/* The function's interpreter code, NULL when it is not translated yet. */
static inline const cell *compiled_func_code(const compiled_func *f) {
  return __atomic_load_n(&f->code, __ATOMIC_ACQUIRE);
}

/* The function's native code compiled by tier-up (its slots entry), or NULL. */
static inline void (*compiled_func_native(const compiled_func *f))(kiln_instance *, uint64_t *) {
  return __atomic_load_n(&f->native_entry, __ATOMIC_ACQUIRE);
}

/* The engine's canonical function types, shared by its modules and host functions, so that
 * type checks of call_indirect across modules are one integer comparison; each counted: a type whose last module or host function is freed gives its id back for reuse,
 * so a long-running process compiling a stream of modules keeps it bounded. */
typedef struct type_registry {
  pthread_mutex_t lock;
  uint32_t count, capacity;  /* ids handed out (live or free), slots allocated */
  functype *types;           /* owned copies; types[id].types is NULL for a free id */
  uint32_t *refs;            /* per id: its modules' type indexes and host functions */
  uint32_t *free_ids;        /* ids given back, to reuse */
  uint32_t free_count;
  uint32_t live;             /* ids in use */
  uint32_t *index;           /* hash table of id + 1 (0: empty, INDEX_GONE: removed) */
  uint32_t index_size;       /* a power of two, or 0 */
  uint32_t index_used;       /* slots not empty (live and removed), at most half of them */
} type_registry;

/* Address-space reservations of freed memories, kept for reuse: creating a memory then
 * costs one mprotect instead of mmap + mprotect + fresh page tables. */
#define MEMORY_POOL_SIZE 32
#define STACK_POOL_SIZE 16
typedef struct memory_pool {
  pthread_mutex_t lock;
  uint32_t count;
  struct { uint8_t *base; uint64_t reserved; } items[MEMORY_POOL_SIZE]; /* (STACK_POOL_SIZE <= MEMORY_POOL_SIZE) */
} memory_pool;

struct kiln_engine {
  kiln_config config;
  type_registry types;
  memory_pool memories;
  memory_pool stacks; /* stores' value stacks and frames (store.c), each `reserved` bytes, empty */
  const void *const *handlers; /* interpreter handler addresses, indexed by iop */
  bool guarded;              /* memories are guarded for compiled code (native/signals.h) */
  char *cache_dir;           /* config.cache: the cache's directory (NULL: no home to put it in) */
  pthread_mutex_t tierup_lock; /* creates tierup */
  struct tierup *tierup;     /* KILN_TIER_AUTO: the compile queue and its threads, once needed */
};

/* What a compiler's code is made for and depends on, as text: the fields of a compiled-code
 * cache key and of a precompiled artifact's header (artifact.h), compared one by one so that
 * a mismatch can say what differs. */
typedef struct compiler_target {
  char compiler[96];         /* the compiler and its build: "LLVM 19.1.7, build 1a2b3c4d5e6f7a8b" */
  char triple[64];           /* "x86_64-pc-linux-gnu" */
  char cpu[64];              /* "znver3", or the baseline ("x86-64") for portable code */
  char features[4096];       /* "+avx2,+bmi,-avx512f,..." */
  char options[128];         /* code generation options: "O2 bounds-checks" (+ " portable") */
} compiler_target;

/* A compiler for the compiled tier (kiln.h's kiln_compiler): module in, relocatable object
 * out, with the symbols native/native.h names. */
struct kiln_compiler {
  const char *name;
  /* What compile() makes under config (its portable flag and the rest), for the cache key. */
  kiln_status (*describe)(const kiln_config *config, compiler_target *target, kiln_error *err);
  /* Compile the defined functions [first, first + count) (those it takes on: the others
   * run in the interpreter) into one object. Calls to functions outside the range go
   * through the instance's function table. */
  kiln_status (*compile)(const kiln_module *module, const kiln_config *config, uint32_t first, uint32_t count,
                         uint8_t **object, size_t *size, kiln_error *err);
  /* Compile defined function func as compile() does, plus its entry at loop `loop` for a
   * running call (native.h's o<N>). May be NULL: no on-stack replacement. */
  kiln_status (*compile_osr)(const kiln_module *module, const kiln_config *config, uint32_t func, uint32_t loop,
                             uint8_t **object, size_t *size, kiln_error *err);
};

struct native_code;

struct kiln_module {
  kiln_engine *engine;
  module_decl decl;
  uint32_t *type_ids;        /* canonical id of each type index */
  uint32_t interned_types;   /* type_ids[0..interned_types) hold a registry reference */
  compiled_func *funcs;      /* one per defined function */
  atomic_uint refcount;      /* the embedder's reference plus one per instance */
  bool *declared_refs;       /* per function: may be named by ref.func in bodies */
  kiln_valtype *valtype_pool;/* each type's params then results, for kiln_functype */
  uint32_t *pool_offsets;    /* per type index: where its entries start in valtype_pool */
  struct native_code *native;/* compiled tier: the loaded native code, else NULL */
  /* where the native code came from (kiln_module_stats) */
  bool precompiled, cache_hit, cache_stored;
  double compile_seconds;
  char cache_note[320];
  pthread_mutex_t translate_lock; /* module_translate */
  pthread_mutex_t native_lock;    /* adding to native (tier-up) and reading its ranges */
  /* KILN_TIER_AUTO with the cache on (tierup.c): one cache entry per compiled function, in
   * the directory tier_cache_dir ("<cache dir>/<artifact key name>.d"), found once */
  pthread_mutex_t tier_cache_lock;
  uint8_t tier_cache;             /* TIER_CACHE_UNKNOWN, TIER_CACHE_ON or TIER_CACHE_OFF */
  char *tier_cache_dir;
  struct artifact_key *tier_key;
  atomic_uint cached_functions;   /* functions whose native code came from the cache */
  /* borrowed bytes (kiln_module_new_borrowed): called when the module is destroyed */
  void (*release)(void *);
  void *release_data;
};

struct kiln_func {
  /* read by compiled code (vmctx.h) */
  uint32_t type_id;
  void *native;              /* compiled wasm functions: entry of the wasm signature, else NULL */
  kiln_instance *instance;   /* wasm functions: the owning instance */
  /* the same function taking its params and results in slots (native_entry_fn) */
  void (*native_entry)(kiln_instance *vm, uint64_t *slots);
  const functype *type;
  const compiled_func *code; /* interpreted wasm functions; NULL for host and compiled ones */
  kiln_host_callback callback;
  void *user_data;
  void (*finalizer)(void *);
  functype host_type;        /* host functions: owned type */
  kiln_valtype *host_valtypes;
  uint32_t index;            /* wasm functions: index in the module's function index space */
};

struct kiln_memory {
  uint8_t *base;             /* start of the reservation */
  uint64_t size;             /* accessible bytes */
  kiln_engine *engine;       /* whose pool takes the reservation back */
  uint64_t reserved;         /* bytes of address space reserved (grow in place up to here) */
  uint64_t max_pages;        /* effective maximum: declared max, capped by the engine limit */
  kiln_limits limits;        /* as declared */
  kiln_store *owner;         /* told when a limit refuses a grow (NULL: nobody is) */
  bool shareable;            /* a shared memory whose pages (max_pages of them, shared anonymous
                              * ones) kiln_memory_alias can map elsewhere too */
};

struct kiln_table {
  void **elems;              /* kiln_func* for funcref, host pointers for externref */
  uint32_t size;
  uint32_t max;              /* effective maximum */
  uint8_t elem_type;
  kiln_limits limits;
};

struct kiln_global {
  uint64_t value[2];         /* v128 uses both words; others the first */
  uint8_t type;
  bool is_mutable;
};

struct kiln_instance {
  /* the instance context (vmctx.h): hot data at fixed offsets, addressed by the
   * interpreter and by compiled code */
  kiln_memory *memory;       /* memory 0 or NULL */
  kiln_global **globals;
  kiln_table **tables;
  kiln_func **funcs;
  uint32_t *type_ids;        /* per type index */
  uint32_t *data_sizes;      /* per data segment; 0 once dropped */
  void ***elem_items;        /* per element segment: evaluated references */
  uint32_t *elem_sizes;      /* 0 once dropped */
  uint8_t *mem0_base;        /* memory->base, or NULL */
  kiln_memory **memories;    /* every memory, imports first */
  kiln_store *store;
  const vm_helpers *helpers;
  /* cold */
  kiln_module *module;
  kiln_extern *exports;      /* in module export order */
};

/* A saved caller while a callee runs. */
typedef struct frame {
  const cell *ret_pc;        /* NULL marks the entry from the host */
  uint8_t *fp;
  kiln_instance *instance;
  const compiled_func *func;
} frame;

typedef struct object_list {
  void **items;
  uint32_t count, capacity;
} object_list;

struct kiln_store {
  /* read by compiled code (vmctx.h) */
  atomic_int interrupt;
  int64_t fuel;              /* remaining fuel; INT64_MAX when unlimited */
  uintptr_t native_stack_limit; /* compiled code traps below this native stack address
                                 * (UINTPTR_MAX while an interrupt is pending) */
  kiln_engine *engine;
  object_list instances, funcs, memories, tables, globals;
  /* kiln_store_on_interrupt: called by store_interrupt (any thread); filled slots first */
  struct {
    void (*callback)(void *user);
    void *user;
  } interrupt_hooks[4];
  atomic_int interrupt_hook_count;
  /* execution */
  uint8_t *stack;            /* value stack; it and frames share one mapping */
  size_t stack_mapping;      /* bytes mapped for stack and frames */
  uint8_t *stack_end;
  uint8_t *stack_top;        /* where the next entry from the host places its frame */
  frame *frames;
  uint32_t depth;            /* frames in use */
  uint32_t max_depth;
  uint32_t host_entries;     /* kiln_func_call()s in progress (re-entry from host callbacks) */
  uintptr_t native_stack_base; /* native stack address at the outermost of them */
  struct native_entry *native_top; /* the innermost call into compiled code, or NULL */
  uintptr_t native_stack_floor; /* the real limit while compiled code runs (set by the
                                 * outermost entry, kept between calls) */
  uint64_t memory_limit_pages; /* cap on memories made in this store; 0: the engine's */
  /* the last memory.grow a limit refused since the outermost call began (memory_grow): the
   * pages it asked for and the limit; 0 when none was */
  uint64_t memory_refused_pages;
  uint64_t memory_refused_limit;
  bool fuel_limited;
};

struct kiln_caller {
  kiln_store *store;
  kiln_instance *instance;
  kiln_error *err;           /* where a trap message goes */
};

/* Internal helpers shared by runtime/ and exec/. */
/* The canonical id of t, counted once more (registry_release gives it back). */
kiln_status registry_intern(type_registry *r, const functype *t, uint32_t *id);
void registry_release(type_registry *r, uint32_t id);

/* Run func with its arguments already in slots at store->stack_top; results replace them. */
kiln_status interp_call(kiln_store *store, kiln_func *func, kiln_error *err);
/* Call host function f with its params at args (results replace them); caller_inst is
 * what kiln_caller_instance reports. Compiled functions run through native_call. */
kiln_status interp_call_host(kiln_store *store, kiln_func *f, uint8_t *args, kiln_instance *caller_inst,
                             kiln_error *err);
/* The interpreter's handler table (indexed by enum iop). */
const void *const *interp_handlers(void);

/* Each entry from the host (kiln_func_call) nests the interpreter on the native stack (a few
 * KiB per level, tens of KiB with sanitizers); nested entries that would take more than this
 * below the outermost one trap as stack exhaustion instead of overflowing the native stack. */
#define MAX_NESTED_NATIVE_STACK (1u << 20)

bool object_list_push(object_list *l, void *item);

/* The objects behind the public functions of src/api/, which check the arguments first. */

/* engine.c */
void engine_config_defaults(kiln_config *config);
kiln_engine *engine_create(const kiln_config *config); /* config may be NULL */
void engine_destroy(kiln_engine *engine);

/* module.c: decode, validate and compile bytes (engine set; bytes set unless size is 0): a
 * binary module, or a precompiled one (artifact.h). */
/* Translate a function of m for the interpreter on its first call (thread-safe: one thread
 * translates, the others wait and use its code). KILN_ERR_NOMEM, or KILN_ERR_LIMIT if the code
 * would exceed the interpreter's limits. */
kiln_status module_translate(kiln_module *m, const compiled_func *func, kiln_error *err);

/* KILN_TIER_AUTO (tierup.c): function func of m reached its threshold: queue it for the
 * background compiler (or, with tierup_wait, compile it now). Any tier: resets the count. */
void tierup_hot(kiln_module *m, const compiled_func *func);
/* The same, counted at loop `loop` (IOP_loop_osr): the compile also makes an entry at that
 * loop for the call that is running it. */
void tierup_hot_loop(kiln_module *m, const compiled_func *func, uint32_t loop);
/* KILN_TIER_AUTO with the cache on: install the native code the cache has for m's functions
 * (compiled by earlier runs), now for a small module, on a compile thread for a large one
 * (finding its entries needs the SHA-256 of its bytes). */
void tierup_load_cached(kiln_module *m);
/* m is being destroyed: drop its queued compile jobs and wait for the one running, if any. */
void tierup_forget(kiln_module *m);
/* Stop the engine's compile threads (waiting for the compile in progress) and drop the queue. */
void tierup_stop(kiln_engine *engine);
/* The count a function of m starts with. */
int32_t tierup_initial_hotness(const kiln_module *m);

/* A module from bytes (a .wasm, or a precompiled module). Without release, the module keeps
 * a copy; with it, the bytes themselves, and calls release(release_data) when the module is
 * destroyed (or at once if this fails). */
kiln_status module_create(kiln_engine *engine, const uint8_t *bytes, size_t size, void (*release)(void *),
                          void *release_data, kiln_module **out, kiln_error *err);
/* Compile a binary module to native code and lay it out as a precompiled module (*out
 * malloc'd); uses the engine's cache when it is on. */
kiln_status module_precompile(kiln_engine *engine, const uint8_t *bytes, size_t size, uint8_t **out,
                              size_t *out_size, kiln_error *err);
void module_release(kiln_module *m);
/* How the module runs: its tier, functions and native code. */
void module_stats(const kiln_module *module, kiln_module_stats *stats);
/* The kiln_functype of the module's type `type_index` (arrays owned by the module). */
kiln_functype module_functype(const kiln_module *m, uint32_t type_index);
/* The type of item `index` of the index space of `kind` (KILN_EXTERN_*). */
void module_describe(const kiln_module *m, uint8_t kind, uint32_t index, kiln_externtype *t);

/* instance.c: instantiate module in store (imports set when import_count > 0). */
kiln_status instance_create(kiln_store *store, kiln_module *module, const kiln_import *imports, size_t import_count,
                            kiln_instance **out, kiln_error *err);
void instance_destroy(kiln_instance *inst);
/* The name section's name of a function, or "" (also for no instance). */
const char *instance_func_name(const kiln_instance *instance, uint32_t func_index);

/* store.c: stores, the objects they own, and calls into them. */
kiln_store *store_create(kiln_engine *engine);
/* Interruption (kiln_store_interrupt): the flag, and the stack limit compiled code checks at
 * every function entry raised out of reach, so the next entry traps. Async-signal-safe. */
void store_interrupt(kiln_store *store);
void store_clear_interrupt(kiln_store *store);
/* Have store_interrupt call callback(user) too (kiln_store_on_interrupt); false when the
 * store's four slots are taken. */
bool store_on_interrupt(kiln_store *store, void (*callback)(void *user), void *user);
/* Set the stack limit compiled code checks to floor, or out of reach while an interrupt is
 * pending. */
void store_set_stack_floor(kiln_store *store, uintptr_t floor);
void store_destroy(kiln_store *store);
kiln_memory *store_add_memory(kiln_store *store, kiln_limits limits, kiln_error *err);
/* elem_type, init and limits already checked. */
kiln_table *store_add_table(kiln_store *store, kiln_valtype elem_type, kiln_limits limits, kiln_val init,
                            kiln_error *err);
/* value.type == type. */
kiln_global *store_add_global(kiln_store *store, kiln_valtype type, bool is_mutable, kiln_val value);
/* type's value types already checked. */
kiln_func *store_add_host_func(kiln_store *store, const kiln_functype *type, kiln_host_callback callback,
                               void *user_data, void (*finalizer)(void *));
/* Where a call of type t takes its params and leaves its results (store->stack_top), or NULL
 * when the value stack has no room for them. */
uint64_t *store_call_slots(kiln_store *store, const functype *t);
/* The outermost call of a function with native code from the host (no host call in
 * progress, and native code may run in the store): straight into its entry with the
 * caller's slots, which hold the params and receive the results. */
kiln_status store_call_native(kiln_store *store, kiln_func *func, uint64_t *slots, kiln_error *err);
/* Run func with its params already in store_call_slots (stack_top, which it restores); the
 * results are left there. Checks the nesting of calls made from host callbacks. err may be NULL. */
kiln_status store_call(kiln_store *store, kiln_func *func, kiln_error *err);
/* A failed call's err gets the memory.grow a limit refused during it (kiln_error's
 * memory_requested and memory_limit), if one did. */
void store_note_memory_refusal(kiln_store *store, kiln_error *err);

/* memory.c: memories and tables. cap_pages: the store's limit on a memory's size (0: the engine's). */
kiln_memory *memory_create(kiln_engine *engine, uint64_t cap_pages, kiln_limits limits, kiln_error *err);
void memory_destroy(kiln_memory *m);
/* Grow by delta pages in place; KILN_ERR_LIMIT beyond the maximum. */
kiln_status memory_grow(kiln_memory *memory, uint64_t delta, uint64_t *old_pages);
/* kiln_memory_alias (kiln.h) */
kiln_status memory_alias(kiln_memory *memory, void *at, uint64_t offset, uint64_t length, kiln_error *err);
/* The engine's pools of mappings (memories' reservations, stores' stacks): a mapping of
 * exactly `bytes` the pool kept, or NULL; keep one (false when the pool holds `limit` already:
 * the caller unmaps it); unmap every one it keeps (engine teardown). */
uint8_t *pool_take(memory_pool *pool, uint64_t bytes);
bool pool_put(memory_pool *pool, uint32_t limit, uint8_t *base, uint64_t bytes);
void pool_drain(memory_pool *pool);
kiln_table *table_create(kiln_engine *engine, uint8_t elem_type, kiln_limits limits, void *init, kiln_error *err);
void table_destroy(kiln_table *t);
/* Grow by delta elements set to init (a reference of the table's type). */
kiln_status table_grow(kiln_table *table, uint32_t delta, void *init, uint32_t *old_size);

/* The vmctx offsets that compiled code uses are the structs' offsets. */
_Static_assert(offsetof(kiln_instance, memory) == VM_MEMORY, "vmctx");
_Static_assert(offsetof(kiln_instance, globals) == VM_GLOBALS, "vmctx");
_Static_assert(offsetof(kiln_instance, tables) == VM_TABLES, "vmctx");
_Static_assert(offsetof(kiln_instance, funcs) == VM_FUNCS, "vmctx");
_Static_assert(offsetof(kiln_instance, type_ids) == VM_TYPE_IDS, "vmctx");
_Static_assert(offsetof(kiln_instance, data_sizes) == VM_DATA_SIZES, "vmctx");
_Static_assert(offsetof(kiln_instance, elem_items) == VM_ELEM_ITEMS, "vmctx");
_Static_assert(offsetof(kiln_instance, elem_sizes) == VM_ELEM_SIZES, "vmctx");
_Static_assert(offsetof(kiln_instance, mem0_base) == VM_MEM0_BASE, "vmctx");
_Static_assert(offsetof(kiln_instance, memories) == VM_MEMORIES, "vmctx");
_Static_assert(offsetof(kiln_instance, store) == VM_STORE, "vmctx");
_Static_assert(offsetof(kiln_instance, helpers) == VM_HELPERS, "vmctx");
_Static_assert(offsetof(kiln_memory, base) == VM_MEMORY_BASE, "vmctx");
_Static_assert(offsetof(kiln_memory, size) == VM_MEMORY_SIZE, "vmctx");
_Static_assert(offsetof(kiln_table, elems) == VM_TABLE_ELEMS, "vmctx");
_Static_assert(offsetof(kiln_table, size) == VM_TABLE_SIZE, "vmctx");
_Static_assert(offsetof(kiln_func, type_id) == VM_FUNC_TYPE_ID, "vmctx");
_Static_assert(offsetof(kiln_func, native) == VM_FUNC_NATIVE, "vmctx");
_Static_assert(offsetof(kiln_func, instance) == VM_FUNC_INSTANCE, "vmctx");
_Static_assert(offsetof(kiln_global, value) == VM_GLOBAL_VALUE, "vmctx");
_Static_assert(offsetof(kiln_store, interrupt) == VM_STORE_INTERRUPT, "vmctx");
_Static_assert(offsetof(kiln_store, fuel) == VM_STORE_FUEL, "vmctx");
_Static_assert(offsetof(kiln_store, native_stack_limit) == VM_STORE_STACK_LIMIT, "vmctx");

#endif
