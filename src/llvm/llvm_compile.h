/* llvm_compile.h - the LLVM backend: a validated module in, a relocatable object out, with
 * the "f<N>"/"e<N>" functions that native/native.c loads. Built only when LLVM 19 is
 * present (libkiln_llvm); the core library never includes this header. */
#ifndef KILN_LLVM_COMPILE_H
#define KILN_LLVM_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

typedef struct llvm_options {
  const char *triple;     /* NULL: the host's */
  bool portable;          /* the target's baseline CPU instead of the host's */
  bool bounds_checks;     /* explicit bounds checks on every memory access */
  unsigned opt_level;     /* 0-3 */
  bool fuel;              /* count fuel at function entries and loop iterations */
} llvm_options;

typedef struct kiln_module kiln_module;

/* Compile the defined functions [first, first + count) of km into an ELF object (malloc'd
 * into *object); those too large or too deeply nested are left to the interpreter. With
 * osr_loop other than UINT32_MAX (and count 1), the object also has o<first>: the function
 * entered at its loop of that ordinal (func_osr_loop) with its locals in slots. */
kiln_status llvm_compile_module(const kiln_module *km, const llvm_options *opts, uint32_t first, uint32_t count,
                                uint32_t osr_loop, uint8_t **object, size_t *size, kiln_error *err);

/* What the code is compiled for under opts: LLVM's version and the compiler's build, the
 * triple, the CPU and its features, the options (the compiled-code cache key). */
struct compiler_target;
kiln_status llvm_describe_target(const llvm_options *opts, struct compiler_target *out, kiln_error *err);

#endif
