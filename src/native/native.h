/* native.h - compiled code at run time: the image of a module's native code, calls into it
 * from the host and the interpreter, the helpers it calls back (vmctx.h), traps and their
 * backtraces. Depends on libc only: loading a compiled object needs no LLVM. */
#ifndef KILN_NATIVE_H
#define KILN_NATIVE_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"

/* Symbol names in a compiled object: "f<N>" is defined function N (the wasm signature with
 * the instance first), "e<N>" the same taking its params and results in 8-byte slots. */
#define NATIVE_FUNC_PREFIX "f"
#define NATIVE_ENTRY_PREFIX "e"
/* "o<N>": function N entered at a loop by a call running in the interpreter (on-stack
 * replacement): takes the frame's locals in slots (the interpreter's layout), leaves the
 * results there. */
#define NATIVE_OSR_PREFIX "o"

typedef struct native_range {
  uintptr_t start, end;      /* [start, end) of one function's code */
  uint32_t func_index;       /* in the module's function index space; UINT32_MAX: not wasm */
} native_range;

/* A module's loaded native code (one image per compiled chunk). Owned by its kiln_module. */
typedef struct native_code {
  struct codeload_image **images;
  uint32_t image_count;
  void **funcs;              /* per defined function: f<N>, or NULL if it was not compiled */
  void **entries;            /* per defined function: e<N>, or NULL */
  void **osr;                /* per defined function: o<N> (the latest loaded), or NULL */
  native_range *ranges;      /* sorted by start */
  uint32_t range_count;
} native_code;

/* One call from C into compiled code: where a trap unwinds to. */
typedef struct native_entry {
  jmp_buf unwind;
  struct native_entry *prev;
  kiln_error *err;
} native_entry;

/* An empty native_code for mod (every function in the interpreter until objects are added). */
kiln_status native_code_new(const kiln_module *mod, native_code **out, kiln_error *err);
/* Load an object made by a compiler (the "f<N>"/"e<N>" symbols of the defined functions it
 * compiled) into memory that kiln owns. KILN_ERR_MALFORMED names what is wrong with it. */
kiln_status native_code_add(const kiln_module *mod, native_code *code, const uint8_t *object, size_t size,
                            kiln_error *err);
void native_code_free(native_code *code);
/* How many wasm functions have native code, and the bytes of code loaded. */
void native_code_stats(const native_code *code, uint32_t *functions, size_t *code_bytes, uint32_t body_count);

/* Call compiled function f with its params in slots (results replace them), on the native
 * stack. A trap returns KILN_ERR_TRAP with err filled, backtrace included. */
kiln_status native_call(kiln_store *store, kiln_func *f, uint64_t *slots, kiln_error *err);
/* The same for any entry of instance's compiled code taking slots (e<N>, o<N>). */
kiln_status native_enter(kiln_store *store, kiln_instance *instance, void (*code)(kiln_instance *, uint64_t *),
                         uint64_t *slots, kiln_error *err);

/* The helpers compiled code calls (vmctx.h). */
extern const vm_helpers native_helpers;

/* The version of the contract between compiled code and this runtime: bump it whenever the
 * meaning of compiled code changes (the helpers, the calling convention, the symbols) in a
 * way the layout hash below would not notice. Part of the compiled-code cache key, and
 * checked when a precompiled artifact is loaded. */
#define NATIVE_ABI_VERSION 1u

/* A hash of NATIVE_ABI_VERSION and every offset and constant compiled code depends on
 * (vmctx.h, the trap kinds): part of the compiled-code cache key. */
uint64_t native_abi_hash(void);

#endif
