/* compile.h - one pass over a function body that validates it and emits interpreter code. */
#ifndef KILN_COMPILE_H
#define KILN_COMPILE_H

#include "runtime/runtime.h"

/* Validate and compile defined function `defined_index` of mod into *out. Errors are
 * KILN_ERR_MALFORMED (bad encoding inside the body) or KILN_ERR_INVALID (type errors),
 * with a message naming the function and the byte offset. */
kiln_status compile_function(kiln_module *mod, uint32_t defined_index, compiled_func *out,
                             kiln_error *err);

void compiled_func_free(compiled_func *f);

#endif
