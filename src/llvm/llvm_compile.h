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
 * into *object); those too large or too deeply nested are left to the interpreter. */
kiln_status llvm_compile_module(const kiln_module *km, const llvm_options *opts, uint32_t first, uint32_t count,
                                uint8_t **object, size_t *size, kiln_error *err);

/* "LLVM 19.1.7 x86_64-pc-linux-gnu skylake +avx2,..." : what the code is compiled for
 * (part of the cache key). */
kiln_status llvm_target_description(const llvm_options *opts, char *out, size_t len, kiln_error *err);

#endif
