/*
 * kiln.h - the whole embedding API of kiln, a WebAssembly 2.0 runtime.
 *
 * Object model (all types are opaque):
 *   kiln_engine   configuration and the shared function-type registry. Thread-safe.
 *   kiln_module   a decoded, validated and compiled module. Immutable; may be shared by
 *                 many stores and threads.
 *   kiln_store    owns every runtime object (instances, functions, memories, tables,
 *                 globals) and the execution stack. A store is used by one thread at a
 *                 time; kiln_store_interrupt() is the one call allowed from any thread.
 *                 Freeing the store frees everything it owns.
 *
 * Errors are values: every fallible call returns a kiln_status (KILN_OK == 0) and, when
 * given a kiln_error, fills it with a message that says what failed and where. The library
 * never prints, never exits and never aborts on bad input.
 */
#ifndef KILN_H
#define KILN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

typedef enum kiln_status {
  KILN_OK = 0,
  KILN_ERR_MALFORMED,    /* the bytes are not a well-formed binary module */
  KILN_ERR_INVALID,      /* the module is well-formed but fails validation */
  KILN_ERR_LINK,         /* an import is missing or has the wrong type */
  KILN_ERR_TRAP,         /* execution trapped; see kiln_error.trap */
  KILN_ERR_LIMIT,        /* an implementation or configured limit was exceeded */
  KILN_ERR_NOMEM,        /* the host is out of memory */
  KILN_ERR_ARGUMENT,     /* the embedder passed a wrong argument (type, count, index) */
  KILN_ERR_NOT_FOUND,    /* no export / import of that name */
  KILN_ERR_INCOMPATIBLE, /* a precompiled module was made for another CPU, compiler or kiln */
} kiln_status;

typedef enum kiln_trap_kind {
  KILN_TRAP_NONE = 0,
  KILN_TRAP_UNREACHABLE,          /* the unreachable instruction */
  KILN_TRAP_MEMORY_OUT_OF_BOUNDS, /* out of bounds memory access */
  KILN_TRAP_TABLE_OUT_OF_BOUNDS,  /* out of bounds table access */
  KILN_TRAP_UNDEFINED_ELEMENT,    /* call_indirect through an out of range index */
  KILN_TRAP_UNINITIALIZED_ELEMENT,/* call_indirect through a null entry */
  KILN_TRAP_INDIRECT_CALL_TYPE,   /* call_indirect signature mismatch */
  KILN_TRAP_INTEGER_DIVIDE_BY_ZERO,
  KILN_TRAP_INTEGER_OVERFLOW,
  KILN_TRAP_INVALID_CONVERSION,   /* float to int of NaN */
  KILN_TRAP_STACK_EXHAUSTED,      /* call stack exhausted */
  KILN_TRAP_INTERRUPTED,          /* kiln_store_interrupt() stopped the call */
  KILN_TRAP_OUT_OF_FUEL,          /* the fuel budget ran out */
  KILN_TRAP_HOST,                 /* a host function reported an error */
  KILN_TRAP_EXIT,                 /* a host function asked to end the program (WASI proc_exit) */
} kiln_trap_kind;

#define KILN_BACKTRACE_MAX 16

/* One frame of a trap's backtrace, innermost first. */
typedef struct kiln_frame {
  uint32_t func_index;   /* index in its module's function index space */
  uint32_t code_offset;  /* byte offset in the module of the instruction, 0 when unknown (compiled
                          * code knows it only for the innermost frame of an explicit trap:
                          * division, unreachable, call_indirect, stack and interrupt checks) */
  char name[64];         /* from the name section, or "" */
} kiln_frame;

/* Filled by fallible calls. Zero-initialise it or leave it untouched: calls overwrite it. */
typedef struct kiln_error {
  kiln_status status;
  kiln_trap_kind trap;        /* KILN_TRAP_NONE unless status == KILN_ERR_TRAP */
  int32_t exit_code;          /* with KILN_TRAP_EXIT: the code passed to proc_exit */
  uint32_t frame_count;       /* frames in backtrace[] */
  uint32_t frame_total;       /* frames the trapping call had: more than frame_count when the
                                 backtrace keeps only the innermost KILN_BACKTRACE_MAX */
  kiln_frame backtrace[KILN_BACKTRACE_MAX];
  char message[512];          /* e.g. "code section, function 12, offset 0x3f2: type mismatch: ..." */
  /* A failed call during which a memory limit refused a memory.grow (the store's,
   * kiln_store_set_memory_limit, or the engine's max_memory_bytes, where the memory's own
   * maximum allowed it): the size the memory would have had, in bytes; else 0. A guest that
   * fails after such a refusal (Rust's abort on allocation failure, a C guest whose malloc
   * returned NULL) most likely failed because of the limit. */
  uint64_t memory_requested;
  uint64_t memory_limit;      /* with memory_requested: the limit, in bytes */
} kiln_error;

/* A short constant description of a status ("malformed module", "trap", ...). */
const char *kiln_status_string(kiln_status status);
/* A short constant description of a trap kind ("integer divide by zero", ...). */
const char *kiln_trap_string(kiln_trap_kind kind);

/* ---------------------------------------------------------------- values */

typedef enum kiln_valtype {
  KILN_I32 = 0x7F,
  KILN_I64 = 0x7E,
  KILN_F32 = 0x7D,
  KILN_F64 = 0x7C,
  KILN_V128 = 0x7B,
  KILN_FUNCREF = 0x70,
  KILN_EXTERNREF = 0x6F,
} kiln_valtype;

typedef struct kiln_func kiln_func;
typedef struct kiln_memory kiln_memory;
typedef struct kiln_table kiln_table;
typedef struct kiln_global kiln_global;
typedef struct kiln_instance kiln_instance;

/* A typed value. Floats are carried as bit patterns (f32_bits/f64_bits) so NaN payloads
 * survive; the float members alias them for convenience. A null reference is NULL. */
typedef struct kiln_val {
  kiln_valtype type;
  union {
    int32_t i32;
    int64_t i64;
    uint32_t f32_bits;
    uint64_t f64_bits;
    float f32;
    double f64;
    uint8_t v128[16];
    kiln_func *funcref;
    void *externref;
  } of;
} kiln_val;

/* Constructors for the common cases. */
static inline kiln_val kiln_val_i32(int32_t v) { kiln_val r; r.type = KILN_I32; r.of.i64 = 0; r.of.i32 = v; return r; }
static inline kiln_val kiln_val_i64(int64_t v) { kiln_val r; r.type = KILN_I64; r.of.i64 = v; return r; }
static inline kiln_val kiln_val_f32(float v) { kiln_val r; r.type = KILN_F32; r.of.i64 = 0; r.of.f32 = v; return r; }
static inline kiln_val kiln_val_f64(double v) { kiln_val r; r.type = KILN_F64; r.of.f64 = v; return r; }

/* The name of a value type ("i32", "funcref", ...). */
const char *kiln_valtype_string(kiln_valtype type);

/* ---------------------------------------------------------------- engine */

/* Where code runs. */
typedef enum kiln_tier {
  KILN_TIER_INTERP = 0,   /* the interpreter: starts at once, runs every function */
  KILN_TIER_COMPILED = 1, /* native code, compiled when the module is made */
  KILN_TIER_AUTO = 2,     /* the interpreter first; functions that run often are compiled on
                             background threads and run natively from their next call */
} kiln_tier;

/* A code generator for the compiled tier (opaque). */
typedef struct kiln_compiler kiln_compiler;

/* The LLVM compiler. Defined in libkiln_llvm (built when LLVM 19 is present): link it, and
 * LLVM, to use KILN_TIER_COMPILED. */
const kiln_compiler *kiln_llvm_compiler(void);

typedef struct kiln_config {
  /* Upper bound on any one linear memory, in bytes (rounded down to 64 KiB pages).
   * 0 means the WebAssembly maximum of 4 GiB. memory.grow beyond it fails (returns -1)
   * and instantiating a module that needs more fails with KILN_ERR_LIMIT. */
  uint64_t max_memory_bytes;
  /* Upper bound on table sizes, in elements. 0 means 10,000,000. */
  uint32_t max_table_elements;
  /* Maximum depth of nested wasm calls before "call stack exhausted". 0 means 20,000. */
  uint32_t max_call_depth;
  /* Size of each store's value stack in bytes. 0 means 8 MiB. */
  size_t value_stack_bytes;
  /* How modules run: KILN_TIER_INTERP (the default), KILN_TIER_COMPILED (every function
   * compiled to native code by `compiler` when the module is made) or KILN_TIER_AUTO (the
   * interpreter, and native code for the functions that turn out hot: see tierup_*). */
  kiln_tier tier;
  /* The code generator for KILN_TIER_COMPILED and KILN_TIER_AUTO: kiln_llvm_compiler() from
   * libkiln_llvm. */
  const kiln_compiler *compiler;
  /* Compiled tier: code for the target's baseline CPU instead of this machine's (portable
   * between machines of the same architecture, slower). */
  bool portable;
  /* Compiled tier: threads that compile one module at once (the caller's thread is one of
   * them). 0 means one per CPU. */
  uint32_t compile_threads;
  /* Compiled tier: count fuel (kiln_store_set_fuel) in compiled code. Off by default: the
   * count costs compiled code a memory update at every call and loop iteration (about 30%
   * on call-heavy code). Calling compiled code built without it in a store that has a fuel
   * budget fails with KILN_ERR_ARGUMENT rather than run unmetered. The interpreter always
   * counts fuel. */
  bool consume_fuel;
  /* Compiled tier: check the bounds of every memory access in code, and install no signal
   * handler (for embedders that forbid them). Off by default: each memory then reserves
   * 6 GiB of address space (its 4 GiB range plus a 2 GiB guard; only what it uses is
   * memory) and an out-of-bounds access faults, which kiln's SIGSEGV handler turns into
   * KILN_TRAP_MEMORY_OUT_OF_BOUNDS (faults that are not kiln's go to the handler installed
   * before it). Where that is not possible, kiln checks explicitly. */
  bool explicit_bounds_checks;
  /* Compiled tier: keep compiled code in a cache directory, so that making the same module
   * again (in this process or a later one) loads its code instead of compiling it. Off by
   * default (`kiln run` turns it on). An entry is keyed by the module's SHA-256, kiln's native
   * ABI version, the compiler (LLVM's version and the compiler's build), the target triple,
   * the CPU and its features, and the code generation options (portable, ...); it carries a
   * checksum, and one that is truncated, corrupt, not kiln's or made for anything else is
   * refused (kiln_module_stats.cache_note says why) and replaced. Entries are written
   * atomically (a temporary file, fsync, rename), so processes may share the directory.
   * Failing to read or write the cache never fails kiln_module_new. With KILN_TIER_AUTO,
   * each function tier-up compiles is stored as its own entry as it is made, and a module
   * made again starts with the native code the cache has for its functions (see
   * kiln_module_stats.cached_functions). */
  bool cache;
  /* The cache's directory (created if missing, private to the user). NULL means
   * $XDG_CACHE_HOME/kiln, else $HOME/.cache/kiln. Entries are native code that kiln checks for
   * integrity and fit, not authenticity: a directory (or entry) another user can write to is
   * not used. The string is copied. */
  const char *cache_dir;
  /* KILN_TIER_AUTO: a function is compiled once its calls plus loop iterations in the
   * interpreter reach tierup_threshold (0 means 50,000; UINT32_MAX never). Its next call runs
   * its native code, in every instance and thread; a call already running moves into it at
   * its next pass through a loop header with nothing on the operand stack (on-stack
   * replacement; kiln_module_stats.osr_functions), else finishes in the interpreter. A
   * function the compiler does not take on (too large) stays in the interpreter. */
  uint32_t tierup_threshold;
  /* KILN_TIER_AUTO: background threads that compile (0 means 1), each with its own compiler
   * context, shared by the engine's modules. */
  uint32_t tierup_threads;
  /* KILN_TIER_AUTO, for tests and measurements: the call that reaches the threshold compiles
   * the function itself, waits, and runs the native code at once. */
  bool tierup_wait;
} kiln_config;

typedef struct kiln_engine kiln_engine;

/* Fill *config with the defaults described above. */
void kiln_config_init(kiln_config *config);

/* Create an engine. config may be NULL for defaults. Returns NULL only when out of memory. */
kiln_engine *kiln_engine_new(const kiln_config *config);
/* Free an engine. Every module and store made from it must have been freed first. */
void kiln_engine_free(kiln_engine *engine);

/* ---------------------------------------------------------------- types */

typedef enum kiln_externkind {
  KILN_EXTERN_FUNC = 0,
  KILN_EXTERN_TABLE = 1,
  KILN_EXTERN_MEMORY = 2,
  KILN_EXTERN_GLOBAL = 3,
} kiln_externkind;

typedef struct kiln_limits {
  uint64_t min;
  uint64_t max;      /* valid when has_max */
  bool has_max;
  bool shared;       /* memories: a shared memory (the threads proposal; always has a max) */
} kiln_limits;

/* A function type. Arrays are owned by whoever produced the descriptor and stay valid as
 * long as it (the module, or the function's store) lives. */
typedef struct kiln_functype {
  const kiln_valtype *params;
  uint32_t param_count;
  const kiln_valtype *results;
  uint32_t result_count;
} kiln_functype;

/* The type of an import or export. */
typedef struct kiln_externtype {
  kiln_externkind kind;
  kiln_functype func;       /* KILN_EXTERN_FUNC */
  kiln_valtype elem_type;   /* KILN_EXTERN_TABLE */
  kiln_limits limits;       /* KILN_EXTERN_TABLE (elements), KILN_EXTERN_MEMORY (64 KiB pages) */
  kiln_valtype global_type; /* KILN_EXTERN_GLOBAL */
  bool global_mutable;      /* KILN_EXTERN_GLOBAL */
} kiln_externtype;

/* ---------------------------------------------------------------- modules */

typedef struct kiln_module kiln_module;

/* Decode, validate and compile a binary module. The bytes are copied only as needed and
 * may be freed after the call. On failure *out is NULL and err says what and where, e.g.
 * KILN_ERR_MALFORMED "type section, offset 0x1c: unexpected end of section".
 *
 * bytes may also be a precompiled module (kiln_engine_precompile, `kiln compile`'s .cwasm,
 * recognised by its magic): then its native code is loaded, whatever the engine's tier, and
 * the engine needs a compiler (kiln_config.compiler) to tell what this machine runs. One that
 * is truncated or corrupt fails with KILN_ERR_MALFORMED; one made for another CPU, compiler,
 * kiln ABI or set of options fails with KILN_ERR_INCOMPATIBLE naming what differs, e.g.
 * "compiled for a different CPU 'skylake' (this machine: 'znver3')". These checks catch
 * accidents (a damaged file, another machine), not malice: the native code in a precompiled
 * module runs as it is, so load only those from a source you trust. Implementation
 * limits, reported as KILN_ERR_LIMIT: at most 1000 parameters and 1000 results per function
 * type, 2^20 8-byte slots per function frame (parameters, locals, operands), and compiled
 * code at most proportional to the size of each function body. */
kiln_status kiln_module_new(kiln_engine *engine, const uint8_t *bytes, size_t size,
                            kiln_module **out, kiln_error *err);
/* kiln_module_new without a copy of bytes: the module reads them where they are, so a large
 * module takes its size in memory once, not twice. They must stay valid and unchanged until
 * the module and every instance made from it are freed; then release(user_data) is called
 * (at once when this fails). release may be NULL when the caller frees the bytes only after
 * the module and its instances. "Unchanged" matters: functions are translated when first
 * called and data segments copied at instantiation, from these bytes, so bytes that change
 * (a file mapped with mmap that someone writes to) make calls fail or instances differ
 * (never unsafe: a body is validated again as it is translated); read files instead. */
kiln_status kiln_module_new_borrowed(kiln_engine *engine, const uint8_t *bytes, size_t size,
                                     void (*release)(void *user_data), void *user_data, kiln_module **out,
                                     kiln_error *err);
/* Free a module. Instances made from it keep what they need alive. */
void kiln_module_free(kiln_module *module);

/* Compile a binary module with the engine's compiler (kiln_config.compiler; the engine's
 * tier does not matter) and lay it out as a precompiled module: the wasm bytes, the native
 * code and what it was compiled for, with a checksum. kiln_module_new takes those bytes back
 * on a machine where the same kiln and compiler make the same code (`kiln compile` writes
 * them to a .cwasm file). The engine's cache is used when it is on. *out is malloc'd: free it
 * with kiln_bytes_free. */
kiln_status kiln_engine_precompile(kiln_engine *engine, const uint8_t *bytes, size_t size, uint8_t **out,
                                   size_t *out_size, kiln_error *err);
/* Free bytes that kiln returned (kiln_engine_precompile). NULL is ignored. */
void kiln_bytes_free(uint8_t *bytes);

/* How a module runs. In the compiled tier, functions too large or too deeply nested for
 * the compiler (thousands of nested blocks or locals) run in the interpreter. */
typedef struct kiln_module_stats {
  kiln_tier tier;            /* KILN_TIER_COMPILED when it has native code */
  uint32_t functions;        /* defined functions (imports excluded) */
  uint32_t native_functions; /* of those, the ones with native code */
  size_t native_code_bytes;  /* machine code loaded for it */
  /* Where the native code came from (compiled tier): */
  bool precompiled;          /* bytes given to kiln_module_new were a precompiled module */
  bool cache_hit;            /* loaded from the compiled-code cache (kiln_config.cache) */
  bool cache_stored;         /* compiled now and written to the cache */
  double compile_seconds;    /* spent making the native code: compiling, or finding and loading it */
  /* With the cache on and no hit, why: "no entry", "entry rejected: checksum mismatch: the
   * file is corrupt", "cannot write cache entry ...: Permission denied"; else "". Owned by
   * the module. */
  const char *cache_note;
  /* The interpreter translates a function to its own code when the function is first called
   * (validation is all done by kiln_module_new): how many are translated so far, and the
   * size of their code. A function that might exceed the interpreter's limits is translated
   * by kiln_module_new, so that the limit is its error. */
  uint32_t translated_functions;
  size_t translated_code_bytes;
  /* KILN_TIER_AUTO with the cache on: of native_functions, those whose code an earlier run
   * compiled (each compiled function is written to the cache as it is made, and a module
   * made again starts with the code the cache has for it). */
  uint32_t cached_functions;
  /* KILN_TIER_AUTO: functions with an entry at a loop, by which a call running in the
   * interpreter continues in native code (on-stack replacement) */
  uint32_t osr_functions;
} kiln_module_stats;

void kiln_module_get_stats(const kiln_module *module, kiln_module_stats *stats);

/* Imports, in the module's order. */
uint32_t kiln_module_import_count(const kiln_module *module);
/* Describe import i: module name, field name and type. Returns KILN_ERR_ARGUMENT if i is
 * out of range. The strings are owned by the module. */
kiln_status kiln_module_import(const kiln_module *module, uint32_t i, const char **module_name,
                               const char **field_name, kiln_externtype *type);
/* Exports, in the module's order. */
uint32_t kiln_module_export_count(const kiln_module *module);
kiln_status kiln_module_export(const kiln_module *module, uint32_t i, const char **name,
                               kiln_externtype *type);
/* Whether the module is within the implementation limits the WebAssembly JavaScript API
 * sets for every JS embedding (types, functions, imports, exports and globals 1,000,000
 * each; data segments 100,000; element segments 10,000,000; tables 100,000; one memory;
 * function bodies 7,654,321 bytes; 50,000 locals, params included; 1,000 params and 1,000
 * results per type): KILN_OK, or KILN_ERR_INVALID with err naming the first limit exceeded.
 * The Node.js package applies them to every module, as V8 does. */
kiln_status kiln_module_check_js_limits(const kiln_module *module, kiln_error *err);
/* Custom sections, in order, by name; data points into the module. */
uint32_t kiln_module_custom_section_count(const kiln_module *module);
kiln_status kiln_module_custom_section(const kiln_module *module, uint32_t i, const char **name,
                                       const uint8_t **data, size_t *size);

/* ---------------------------------------------------------------- stores */

typedef struct kiln_store kiln_store;

/* Create a store. Returns NULL only when out of memory. */
kiln_store *kiln_store_new(kiln_engine *engine);
/* Free a store and every object it owns. */
void kiln_store_free(kiln_store *store);

/* Limit each memory made from now on in this store (by instantiation or kiln_memory_new) to
 * max_bytes, rounded down to 64 KiB pages (at least one page): memory.grow beyond it fails
 * and instantiating a module whose memory needs more fails with KILN_ERR_LIMIT. 0 means the
 * engine's limit (kiln_config.max_memory_bytes). */
void kiln_store_set_memory_limit(kiln_store *store, uint64_t max_bytes);
/* The bytes the store's linear memories span now (the sum of their sizes): what they may
 * hold resident, for embedders that account memory to a garbage collector. */
uint64_t kiln_store_memory_bytes(const kiln_store *store);

/* Stop the call running in this store as soon as it reaches a loop back-edge or a function
 * entry: it traps with KILN_TRAP_INTERRUPTED. Safe to call from any thread (and from a
 * signal handler). A request made while nothing runs stops the next call; clear it with
 * kiln_store_clear_interrupt(). */
void kiln_store_interrupt(kiln_store *store);
void kiln_store_clear_interrupt(kiln_store *store);

/* Have kiln_store_interrupt() also call callback(user), on the thread that interrupts: for
 * host functions that block outside wasm (an inference, a wait) and can be told to stop
 * (they then return kiln_caller_interrupted()). The callback must be quick and, if interrupts
 * come from a signal handler, async-signal-safe (an atomic store). Registrations last as long
 * as the store; KILN_ERR_LIMIT after four. */
kiln_status kiln_store_on_interrupt(kiln_store *store, void (*callback)(void *user), void *user);

/* Give the store a fuel budget: each function entry and each loop iteration costs one unit
 * (plus one per 1024 cells of compiled code of the function or loop body, and per 16 KiB of
 * locals, so that a unit is a bounded amount of work); memory.fill/copy/init and
 * table.fill/copy/init/grow cost one unit per 16 KiB they write. When it is spent the call
 * traps with KILN_TRAP_OUT_OF_FUEL. UINT64_MAX (the default) means unlimited.
 * kiln_store_fuel() tells what is left. */
void kiln_store_set_fuel(kiln_store *store, uint64_t fuel);
uint64_t kiln_store_fuel(const kiln_store *store);

/* ---------------------------------------------------------------- instances */

typedef struct kiln_extern {
  kiln_externkind kind;
  union {
    kiln_func *func;
    kiln_table *table;
    kiln_memory *memory;
    kiln_global *global;
  } of;
} kiln_extern;

/* One provided import: matched to the module's imports by (module, name). */
typedef struct kiln_import {
  const char *module;
  const char *name;
  kiln_extern value;
} kiln_import;

/* Instantiate module in store. Every import of the module must be found in imports[] (by
 * module and field name) with a matching type, else KILN_ERR_LINK naming the import.
 * Runs data and element initialisers and the start function; a trap there returns
 * KILN_ERR_TRAP. On failure *out is NULL. */
kiln_status kiln_instantiate(kiln_store *store, kiln_module *module, const kiln_import *imports,
                             size_t import_count, kiln_instance **out, kiln_error *err);

/* Look up an export by name. KILN_ERR_NOT_FOUND if there is none. */
kiln_status kiln_instance_export(kiln_instance *instance, const char *name, kiln_extern *out);
/* The same for a name of len bytes, which may contain NUL bytes. */
kiln_status kiln_instance_export_n(kiln_instance *instance, const char *name, size_t len, kiln_extern *out);
/* Exports by position, in the module's order. */
uint32_t kiln_instance_export_count(const kiln_instance *instance);
kiln_status kiln_instance_export_at(kiln_instance *instance, uint32_t i, const char **name,
                                    kiln_extern *out);
/* The module the instance was made from. */
const kiln_module *kiln_instance_module(const kiln_instance *instance);
/* The name of a function of the instance's module, from its name section ("" if none). */
const char *kiln_instance_func_name(const kiln_instance *instance, uint32_t func_index);

/* ---------------------------------------------------------------- functions */

typedef struct kiln_caller kiln_caller;

/* A host function. args holds the parameters, results receives the results (types are
 * pre-set). Return KILN_OK, or report a trap with kiln_caller_trap() and return its
 * result. */
typedef kiln_status (*kiln_host_callback)(kiln_caller *caller, void *user_data,
                                          const kiln_val *args, kiln_val *results);

/* Create a host function in store. finalizer (may be NULL) is called with user_data when
 * the store is freed. Returns NULL on out of memory or a bad type. */
kiln_func *kiln_func_new(kiln_store *store, const kiln_functype *type, kiln_host_callback callback,
                         void *user_data, void (*finalizer)(void *));

/* The function's type; the arrays are owned by the function's store. */
kiln_functype kiln_func_type(const kiln_func *func);

/* The function types the engine holds now: one per distinct signature among its live
 * modules and host functions (those of freed ones are given back). */
uint32_t kiln_engine_type_count(const kiln_engine *engine);

/* A wasm function's index in its module's function index space (imports first), as the
 * WebAssembly JS API names exported functions; UINT32_MAX for a host function. */
uint32_t kiln_func_index(const kiln_func *func);

/* Call func with args (types must match the parameters) and receive its results. On a trap
 * returns KILN_ERR_TRAP with err->trap, the message and a backtrace. Re-entrant: a host
 * callback may call back into wasm of the same store. Each such nesting takes native stack;
 * once nested calls use 1 MiB of it below the outermost call, the next one traps with
 * KILN_TRAP_STACK_EXHAUSTED (so the thread needs that much stack to spare). */
kiln_status kiln_func_call(kiln_store *store, kiln_func *func, const kiln_val *args, size_t arg_count,
                           kiln_val *results, size_t result_count, kiln_error *err);

/* The fast form of kiln_func_call for bindings that know the function's type (from
 * kiln_func_type) and call it often: no type tags, no checks of the values. slots holds the
 * params in order, one 8-byte slot each (little-endian; an i32 or f32 in the low 4 bytes
 * with the high 4 zero; a v128 in two slots); on KILN_OK the results replace them, laid out
 * the same way (the high 4 bytes of an i32 or f32 result are unspecified). Only for
 * functions whose params and results are all numeric (i32, i64, f32, f64, v128): others
 * fail with KILN_ERR_ARGUMENT. kiln_func_raw_slots tells how many slots slots must hold
 * (the larger of the params' and the results'; at least 1), or 0 for a function with
 * reference-typed params or results. Traps and re-entry behave as in kiln_func_call. */
kiln_status kiln_func_call_raw(kiln_store *store, kiln_func *func, uint64_t *slots, kiln_error *err);
uint32_t kiln_func_raw_slots(const kiln_func *func);

/* Inside a host callback: the calling instance's memory 0 (NULL if it has none), the store,
 * and a way to trap. kiln_caller_trap formats a message (printf style) and returns
 * KILN_ERR_TRAP for the callback to return. kiln_caller_exit ends the whole call with
 * KILN_TRAP_EXIT carrying code (used by WASI proc_exit). */
kiln_memory *kiln_caller_memory(kiln_caller *caller);
kiln_store *kiln_caller_store(kiln_caller *caller);
kiln_instance *kiln_caller_instance(kiln_caller *caller);
kiln_status kiln_caller_trap(kiln_caller *caller, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
kiln_status kiln_caller_exit(kiln_caller *caller, int32_t code);
/* End the call as kiln_store_interrupt() would (KILN_TRAP_INTERRUPTED): for a host function
 * that stopped its work because the store was interrupted. */
kiln_status kiln_caller_interrupted(kiln_caller *caller);

/* ---------------------------------------------------------------- memories */

#define KILN_PAGE_SIZE 65536u

/* Create a memory of min pages (at most max pages if has_max). */
kiln_memory *kiln_memory_new(kiln_store *store, kiln_limits limits, kiln_error *err);
/* Base address of the memory's bytes. Valid until the next grow (kiln never moves memory
 * today, but embedders must not rely on that). */
uint8_t *kiln_memory_data(kiln_memory *memory);
/* Size in bytes. */
uint64_t kiln_memory_size(const kiln_memory *memory);
/* Grow by delta pages; *old_pages receives the previous size. KILN_ERR_LIMIT if the max or
 * the configured limit would be exceeded (the memory is unchanged). */
kiln_status kiln_memory_grow(kiln_memory *memory, uint64_t delta, uint64_t *old_pages);
kiln_limits kiln_memory_limits(const kiln_memory *memory);
/* Show a shared memory's bytes also at `at`, for another runtime that must hand them out as
 * its own (Node's SharedArrayBuffers: see bindings/node): the `length` bytes of address space
 * from `at` (page-aligned, the caller's, such as that runtime's pages for a memory of the same
 * size) are replaced by a readable and writable view of the memory's bytes from `offset`;
 * [offset, offset + length) must lie within its current size (as it grows, alias the new
 * part). Both views read and write the same bytes, and a view stays valid after the memory is
 * freed (the pages live while either is mapped). A shared memory's pages are shared anonymous
 * memory, so a process that forks shares them with its child, where other memories are copied.
 * KILN_ERR_ARGUMENT for a memory that is not shared or a range that is unaligned or outside
 * it; KILN_ERR_LIMIT where the platform cannot map pages twice (it needs Linux's mremap);
 * KILN_ERR_NOMEM if the mapping fails (the range is then inaccessible). */
kiln_status kiln_memory_alias(kiln_memory *memory, void *at, uint64_t offset, uint64_t length, kiln_error *err);

/* ---------------------------------------------------------------- tables */

kiln_table *kiln_table_new(kiln_store *store, kiln_valtype elem_type, kiln_limits limits,
                           kiln_val init, kiln_error *err);
uint32_t kiln_table_size(const kiln_table *table);
kiln_valtype kiln_table_elem_type(const kiln_table *table);
kiln_limits kiln_table_limits(const kiln_table *table);
kiln_status kiln_table_get(const kiln_table *table, uint32_t index, kiln_val *out);
kiln_status kiln_table_set(kiln_table *table, uint32_t index, kiln_val value);
kiln_status kiln_table_grow(kiln_table *table, uint32_t delta, kiln_val init, uint32_t *old_size);

/* ---------------------------------------------------------------- globals */

kiln_global *kiln_global_new(kiln_store *store, kiln_valtype type, bool is_mutable, kiln_val value);
kiln_val kiln_global_get(const kiln_global *global);
/* KILN_ERR_ARGUMENT if the global is immutable or the value's type differs. */
kiln_status kiln_global_set(kiln_global *global, kiln_val value);
kiln_valtype kiln_global_type(const kiln_global *global);
bool kiln_global_mutable(const kiln_global *global);

/* ---------------------------------------------------------------- WASI preview1 */
/*
 * kiln's implementation of wasi_snapshot_preview1: what a WASI program sees of the host.
 * A kiln_wasi belongs to one store and holds one program's arguments, environment, stdio
 * and preopened directories, and its table of open file descriptors. The guest reaches
 * nothing outside its preopens: path resolution refuses absolute paths, ".." and symlinks
 * that lead outside them (openat2 RESOLVE_BENEATH where the kernel has it, a component-wise
 * walk elsewhere), and a read-only preopen refuses every write through it.
 *
 *   kiln_wasi_config *cfg = kiln_wasi_config_new();
 *   kiln_wasi_config_set_args(cfg, argc, argv);
 *   kiln_wasi_config_preopen(cfg, "./data", "/data", 0, &err);
 *   kiln_wasi *wasi;  kiln_wasi_new(store, cfg, &wasi, &err);  kiln_wasi_config_free(cfg);
 *   const kiln_import *imports; size_t n;  kiln_wasi_imports(wasi, module, &imports, &n);
 *   kiln_instantiate(store, module, imports, n, &instance, &err);
 *   int32_t code;  kiln_wasi_run(wasi, instance, &code, &err);
 */

typedef struct kiln_wasi_config kiln_wasi_config;
typedef struct kiln_wasi kiln_wasi;

/* A configuration starts with no arguments, an empty environment, no preopens and the
 * host's stdin, stdout and stderr. Returns NULL only when out of memory. */
kiln_wasi_config *kiln_wasi_config_new(void);
void kiln_wasi_config_free(kiln_wasi_config *config);

/* The program's arguments, argv[0] being its name. Copied; replaces earlier arguments. */
kiln_status kiln_wasi_config_set_args(kiln_wasi_config *config, size_t argc,
                                      const char *const *argv);
/* Set one environment variable (a later value for the same name replaces the earlier one).
 * KILN_ERR_ARGUMENT if name is empty or contains '='. */
kiln_status kiln_wasi_config_set_env(kiln_wasi_config *config, const char *name,
                                     const char *value);
/* Copy the host process's whole environment into the configuration. */
kiln_status kiln_wasi_config_inherit_env(kiln_wasi_config *config);

/* Flags of kiln_wasi_config_preopen. */
#define KILN_WASI_READONLY 1u /* the guest may read but not create, write, rename or delete */

/* Give the guest the host directory host_dir under the name guest_path (e.g. "/" or
 * "/data"). The directory is opened now: KILN_ERR_NOT_FOUND / KILN_ERR_ARGUMENT with a
 * message naming it if it is missing or not a directory. Preopens become guest file
 * descriptors 3, 4, ... in the order they were added. */
kiln_status kiln_wasi_config_preopen(kiln_wasi_config *config, const char *host_dir,
                                     const char *guest_path, uint32_t flags, kiln_error *err);

/* Give the guest a listening socket (a host file descriptor, e.g. from socket(), bind()
 * and listen()) as its next preopened descriptor, for sock_accept. kiln does not close it. */
kiln_status kiln_wasi_config_preopen_socket(kiln_wasi_config *config, int host_fd);

/* Host file descriptors to serve as the guest's fds 0, 1 and 2 (default: 0, 1, 2). -1
 * stands for an empty input / a discarding output. kiln does not close them; they must
 * stay open while the WASI context lives. */
void kiln_wasi_config_set_stdio(kiln_wasi_config *config, int stdin_fd, int stdout_fd,
                                int stderr_fd);

/* Create a WASI context in store from config (which may be freed right after). The
 * context is freed with the store, closing every file the guest left open. */
kiln_status kiln_wasi_new(kiln_store *store, const kiln_wasi_config *config, kiln_wasi **out,
                          kiln_error *err);

/* The host functions for module's imports from "wasi_snapshot_preview1" whose names and
 * types kiln implements (all 46 functions of preview1), as an array to pass to
 * kiln_instantiate, alone or after merging it with the embedder's own imports. Imports
 * kiln does not know are left out, so instantiation names them as missing. The array is
 * owned by the context and valid until the next call. */
kiln_status kiln_wasi_imports(kiln_wasi *wasi, const kiln_module *module,
                              const kiln_import **imports, size_t *count);

/* Run a WASI command: call instance's "_start" export. *exit_code receives the code given
 * to proc_exit, or 0 if _start returns. A trap returns KILN_ERR_TRAP with err filled in;
 * a module without "_start" gives KILN_ERR_NOT_FOUND. */
kiln_status kiln_wasi_run(kiln_wasi *wasi, kiln_instance *instance, int32_t *exit_code,
                          kiln_error *err);

/* ---------------------------------------------------------------- WASI-NN */
/*
 * The host module wasi_ephemeral_nn: machine-learning inference for guests, in the witx ABI of
 * wasi-nn that WasmEdge and Wasmtime implement (load, load_by_name, load_by_name_with_config,
 * init_execution_context, set_input, compute, get_output, and WasmEdge's unload and
 * finalize_execution_context). Models are ONNX (graph encoding 1; autodetect 5 is taken as
 * ONNX) run on the CPU (targets cpu 0 and WasmEdge's auto 3; gpu and tpu get
 * unsupported_operation) by ONNX Runtime, whose library (libonnxruntime.so.1) is loaded at
 * run time with dlopen: kiln links nothing of it, and where it is missing only load fails.
 * Tensor types as WasmEdge (0.15+) and Wasmtime number them: f16 0, f32 1, f64 2, u8 3, i32 4,
 * i64 5. Every guest pointer and length is checked and tensors are copied, so bad input gets an
 * error code (invalid_argument, too_large, not_found, busy at a limit), never a crash;
 * kiln_nn_last_error says why. kiln_store_interrupt() (a timeout) stops a compute under way,
 * and the call traps with KILN_TRAP_INTERRUPTED.
 *
 *   kiln_nn_config *cfg = kiln_nn_config_new();
 *   kiln_nn_config_preload_spec(cfg, "det:onnx:cpu:det.onnx", &err);
 *   kiln_nn *nn;  kiln_nn_new(store, cfg, &nn, &err);  kiln_nn_config_free(cfg);
 *   const kiln_import *imports; size_t n;  kiln_nn_imports(nn, module, &imports, &n);
 *   (merged with kiln_wasi_imports' array, then kiln_instantiate)
 */

typedef struct kiln_nn_config kiln_nn_config;
typedef struct kiln_nn kiln_nn;

/* A configuration: no preloaded models, ONNX Runtime's default threads, at most 16 graphs
 * and 64 execution contexts per instance. NULL only when out of memory. */
kiln_nn_config *kiln_nn_config_new(void);
void kiln_nn_config_free(kiln_nn_config *config);

/* Where ONNX Runtime's library is: a file, or a directory holding libonnxruntime.so.1.
 * Without it: $KILN_ONNXRUNTIME, then the dynamic loader's search (LD_LIBRARY_PATH, ...). */
kiln_status kiln_nn_config_set_onnxruntime(kiln_nn_config *config, const char *path);
/* Intra-op threads of each model's session (0: ONNX Runtime's default, one per core). */
void kiln_nn_config_set_threads(kiln_nn_config *config, uint32_t threads);
/* The graphs and execution contexts one instance may hold at once (beyond: busy). */
void kiln_nn_config_set_limits(kiln_nn_config *config, uint32_t max_graphs, uint32_t max_contexts);

/* A model load_by_name finds under name: encoding "onnx" (or "autodetect"), target "cpu" (or
 * "auto"), case-insensitive, and the path of the .onnx file (read at the guest's first
 * load_by_name of it; later ones get the same graph). Instances that load the same file (the
 * same device, inode, size and modification time) with the same threads share one ONNX
 * Runtime session, which runs their computes side by side: a pool holds each model once.
 * KILN_ERR_ARGUMENT for another encoding or target, KILN_ERR_NOT_FOUND when the file is not
 * there; err names it. */
kiln_status kiln_nn_config_preload(kiln_nn_config *config, const char *name, const char *encoding,
                                   const char *target, const char *path, kiln_error *err);
/* The same from WasmEdge's spelling NAME:ENCODING:TARGET:PATH (--nn-preload). */
kiln_status kiln_nn_config_preload_spec(kiln_nn_config *config, const char *spec, kiln_error *err);

/* Load ONNX Runtime now (config may be NULL): KILN_ERR_NOT_FOUND, err saying where it was
 * looked for and how to get it, when it cannot be loaded. */
kiln_status kiln_nn_check(const kiln_nn_config *config, kiln_error *err);

/* Create the module's state in store from config (which may be freed right after; NULL for
 * the defaults). Freed with the store. */
kiln_status kiln_nn_new(kiln_store *store, const kiln_nn_config *config, kiln_nn **out, kiln_error *err);

/* The host functions for module's imports from "wasi_ephemeral_nn", as kiln_wasi_imports
 * gives WASI's (owned by nn, valid until the next call). */
kiln_status kiln_nn_imports(kiln_nn *nn, const kiln_module *module, const kiln_import **imports,
                            size_t *count);

/* Why the last WASI-NN call that failed failed ("set_input: input 0 ('x') has the shape
 * [1, 3], given [1, 4]"), or "". */
const char *kiln_nn_last_error(const kiln_nn *nn);

/* Whether an interrupt is pending for store (kiln_store_interrupt() since the last
 * clear). Host functions that block (WASI's poll_oneoff sleeps) poll it to stop early. */
bool kiln_store_interrupt_pending(const kiln_store *store);

#ifdef __cplusplus
}
#endif

#endif /* KILN_H */
