/* compile.h - one pass over a function body that validates it and emits interpreter code. */
#ifndef KILN_COMPILE_H
#define KILN_COMPILE_H

#include "runtime/runtime.h"
#include "validate/func.h"

/* Validate and compile defined function `defined_index` of mod into *out. Errors are
 * KILN_ERR_MALFORMED (bad encoding inside the body) or KILN_ERR_INVALID (type errors),
 * with a message naming the function and the byte offset. */
kiln_status compile_function(kiln_module *mod, uint32_t defined_index, compiled_func *out,
                             kiln_error *err);

/* Functions are translated on their first call, not when the module is made. This fills the
 * part of *out that validation gave (facts, from func_validate) and leaves out->code NULL:
 * module_translate() runs compile_function when the function is first called. KILN_ERR_LIMIT
 * when its locals alone exceed a frame. */
kiln_status compile_function_pending(kiln_module *mod, uint32_t defined_index, const func_facts *facts,
                                     compiled_func *out, kiln_error *err);

/* Whether translating a function of these facts could exceed the frame or code limits (deep
 * operand stacks, branches carrying many values): such a function is translated when the
 * module is made, so that the limit is an error then. */
bool compile_may_exceed_limits(const kiln_module *mod, uint32_t defined_index, const func_facts *facts);

void compiled_func_free(compiled_func *f);

#endif
