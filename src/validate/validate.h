/* validate.h - module-level validation (everything but function bodies). */
#ifndef KILN_VALIDATE_H
#define KILN_VALIDATE_H

#include <stdbool.h>

#include "decode/module.h"

/* Validate m. declared_refs (func_count entries, zeroed) receives the functions that
 * ref.func may name inside bodies. */
kiln_status validate_module(const module_decl *m, bool *declared_refs, kiln_error *err);

/* Check a constant expression yields one value of type `expected`. */
kiln_status validate_const_expr(const module_decl *m, byte_range range, uint8_t expected,
                                bool *declared_refs, const char *where, kiln_error *err);

#endif
