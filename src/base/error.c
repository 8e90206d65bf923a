/* error.c - formatting of kiln_error values and the fixed strings for statuses and traps. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void reset(kiln_error *err, kiln_status status) {
  err->status = status;
  err->trap = KILN_TRAP_NONE;
  err->exit_code = 0;
  err->frame_count = 0;
  err->frame_total = 0;
  err->memory_requested = 0;
  err->memory_limit = 0;
}

kiln_status error_set(kiln_error *err, kiln_status status, const char *format, ...) {
  if (!err) return status;
  reset(err, status);
  va_list ap;
  va_start(ap, format);
  vsnprintf(err->message, sizeof err->message, format, ap);
  va_end(ap);
  return status;
}

kiln_status error_trap(kiln_error *err, kiln_trap_kind kind, const char *format, ...) {
  if (!err) return KILN_ERR_TRAP;
  reset(err, KILN_ERR_TRAP);
  err->trap = kind;
  va_list ap;
  va_start(ap, format);
  vsnprintf(err->message, sizeof err->message, format, ap);
  va_end(ap);
  return KILN_ERR_TRAP;
}

void error_prefix(kiln_error *err, const char *format, ...) {
  if (!err) return;
  char prefix[192];
  va_list ap;
  va_start(ap, format);
  vsnprintf(prefix, sizeof prefix, format, ap);
  va_end(ap);
  char old[sizeof err->message];
  memcpy(old, err->message, sizeof old);
  size_t n = strlen(prefix);
  if (n > sizeof err->message - 3) n = sizeof err->message - 3;
  memcpy(err->message, prefix, n);
  memcpy(err->message + n, ": ", 2);
  size_t room = sizeof err->message - n - 2;
  size_t m = 0;
  while (m < room - 1 && old[m]) m++;
  memcpy(err->message + n + 2, old, m);
  err->message[n + 2 + m] = 0;
}

const char *kiln_status_string(kiln_status status) {
  switch (status) {
    case KILN_OK: return "ok";
    case KILN_ERR_MALFORMED: return "malformed module";
    case KILN_ERR_INVALID: return "invalid module";
    case KILN_ERR_LINK: return "link error";
    case KILN_ERR_TRAP: return "trap";
    case KILN_ERR_LIMIT: return "limit exceeded";
    case KILN_ERR_NOMEM: return "out of memory";
    case KILN_ERR_ARGUMENT: return "bad argument";
    case KILN_ERR_NOT_FOUND: return "not found";
    case KILN_ERR_INCOMPATIBLE: return "incompatible compiled code";
  }
  return "unknown status";
}

const char *kiln_trap_string(kiln_trap_kind kind) {
  switch (kind) {
    case KILN_TRAP_NONE: return "no trap";
    case KILN_TRAP_UNREACHABLE: return "unreachable";
    case KILN_TRAP_MEMORY_OUT_OF_BOUNDS: return "out of bounds memory access";
    case KILN_TRAP_TABLE_OUT_OF_BOUNDS: return "out of bounds table access";
    case KILN_TRAP_UNDEFINED_ELEMENT: return "undefined element";
    case KILN_TRAP_UNINITIALIZED_ELEMENT: return "uninitialized element";
    case KILN_TRAP_INDIRECT_CALL_TYPE: return "indirect call type mismatch";
    case KILN_TRAP_INTEGER_DIVIDE_BY_ZERO: return "integer divide by zero";
    case KILN_TRAP_INTEGER_OVERFLOW: return "integer overflow";
    case KILN_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case KILN_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case KILN_TRAP_INTERRUPTED: return "interrupted";
    case KILN_TRAP_OUT_OF_FUEL: return "out of fuel";
    case KILN_TRAP_HOST: return "host error";
    case KILN_TRAP_EXIT: return "exit";
  }
  return "unknown trap";
}

const char *kiln_valtype_string(kiln_valtype type) {
  switch (type) {
    case KILN_I32: return "i32";
    case KILN_I64: return "i64";
    case KILN_F32: return "f32";
    case KILN_F64: return "f64";
    case KILN_V128: return "v128";
    case KILN_FUNCREF: return "funcref";
    case KILN_EXTERNREF: return "externref";
  }
  return "unknown type";
}
