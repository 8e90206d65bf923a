/* validate.h - module-level validation (everything but function bodies). */
#ifndef KILN_VALIDATE_H
#define KILN_VALIDATE_H

#include <stdbool.h>

#include "decode/module.h"

/* Validate m. declared_refs (func_count entries, zeroed) receives the functions that
 * ref.func may name inside bodies. */
kiln_status validate_module(const module_decl *m, bool *declared_refs, kiln_error *err);

/* Check a decoded constant expression yields one value of type `expected`; `where` opens
 * any message ("global section, global 3"). */
kiln_status validate_const_expr(const module_decl *m, const const_expr *e, uint8_t expected,
                                bool *declared_refs, const char *where, kiln_error *err);

#endif
