/* call.c - the public call functions: host functions, calls with kiln_vals and with raw
 * slots, and what a host function may ask of its caller. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "runtime/runtime.h"

static bool valid_valtype(kiln_valtype t) {
  return t == KILN_I32 || t == KILN_I64 || t == KILN_F32 || t == KILN_F64 || t == KILN_V128 ||
         t == KILN_FUNCREF || t == KILN_EXTERNREF;
}

kiln_func *kiln_func_new(kiln_store *store, const kiln_functype *type, kiln_host_callback callback,
                         void *user_data, void (*finalizer)(void *)) {
  if (!store || !type || !callback) return NULL;
  for (uint32_t i = 0; i < type->param_count; i++) if (!valid_valtype(type->params[i])) return NULL;
  for (uint32_t i = 0; i < type->result_count; i++) if (!valid_valtype(type->results[i])) return NULL;
  return store_add_host_func(store, type, callback, user_data, finalizer);
}

uint32_t kiln_func_index(const kiln_func *func) { return func->instance ? func->index : UINT32_MAX; }

kiln_functype kiln_func_type(const kiln_func *func) {
  if (!func->callback) { /* a wasm function */
    const kiln_module *m = func->instance->module;
    return module_functype(m, (uint32_t)(func->type - m->decl.types));
  }
  kiln_functype t;
  t.params = func->host_valtypes;
  t.param_count = func->type->param_count;
  t.results = t.params + t.param_count;
  t.result_count = func->type->result_count;
  return t;
}

kiln_status kiln_func_call(kiln_store *store, kiln_func *func, const kiln_val *args, size_t arg_count,
                           kiln_val *results, size_t result_count, kiln_error *err) {
  kiln_error scratch;
  if (!err) err = &scratch;
  if (!store || !func) return error_set(err, KILN_ERR_ARGUMENT, "kiln_func_call: no store or function");
  const functype *t = func->type;
  if (arg_count != t->param_count)
    return error_set(err, KILN_ERR_ARGUMENT, "expected %u arguments, got %zu", t->param_count, arg_count);
  if (result_count < t->result_count)
    return error_set(err, KILN_ERR_ARGUMENT, "room for %zu results given, the function returns %u", result_count,
                     t->result_count);
  uint64_t *p = store_call_slots(store, t);
  if (!p) return error_trap(err, KILN_TRAP_STACK_EXHAUSTED, "call stack exhausted");
  for (uint32_t i = 0; i < t->param_count; i++) {
    uint8_t ty = t->types[i];
    if ((uint8_t)args[i].type != ty)
      return error_set(err, KILN_ERR_ARGUMENT, "argument %u: expected %s, got %s", i,
                       kiln_valtype_string((kiln_valtype)ty), kiln_valtype_string(args[i].type));
    if (ty == VT_I32 || ty == VT_F32) {
      *p++ = args[i].of.f32_bits;
    } else if (ty == VT_V128) {
      memcpy(p, args[i].of.v128, 16);
      p += 2;
    } else {
      memcpy(p++, &args[i].of, 8);
    }
  }
  kiln_status st = store_call(store, func, err);
  if (st != KILN_OK) return st;
  p = store_call_slots(store, t);
  for (uint32_t i = 0; i < t->result_count; i++) {
    uint8_t ty = t->types[t->param_count + i];
    results[i].type = (kiln_valtype)ty;
    if (ty == VT_V128) {
      memcpy(results[i].of.v128, p, 16);
      p += 2;
    } else { /* i32 and f32 results were stored as 4 bytes: read as many */
      memset(&results[i].of, 0, sizeof results[i].of);
      memcpy(&results[i].of, p++, ty == VT_I32 || ty == VT_F32 ? 4 : 8);
    }
  }
  return KILN_OK;
}

/* The results of a call of type t, from the slots the callee left them in into `to` (which
 * may be the same): an i32 or f32 result was stored as 4 bytes, so it is read as 4 bytes (a
 * wide load of a narrow store misses store forwarding and stalls) and zero-extended. */
static void results_to_slots(const functype *t, const uint64_t *from, uint64_t *to) {
  const uint8_t *types = t->types + t->param_count;
  for (uint32_t i = 0, k = 0; i < t->result_count; i++, k++) {
    uint32_t low;
    switch (types[i]) {
    case VT_I32:
    case VT_F32:
      memcpy(&low, &from[k], 4);
      to[k] = low;
      break;
    case VT_V128:
      to[k] = from[k];
      k++;
      to[k] = from[k];
      break;
    default:
      to[k] = from[k];
    }
  }
}

kiln_status kiln_func_call_raw(kiln_store *store, kiln_func *func, uint64_t *slots, kiln_error *err) {
  kiln_error scratch;
  if (!err) err = &scratch;
  if (!store || !func || (!slots && (func->type->param_slots || func->type->result_slots)))
    return error_set(err, KILN_ERR_ARGUMENT, "kiln_func_call_raw: no store, function or slots");
  const functype *t = func->type;
  if (!t->numeric)
    return error_set(err, KILN_ERR_ARGUMENT,
                     "kiln_func_call_raw: the function has reference-typed params or results; use kiln_func_call");
  if (func->native_entry && store->host_entries == 0 &&
      (!store->fuel_limited || store->engine->config.consume_fuel)) {
    /* compiled code takes the slots as they are */
    kiln_status st = store_call_native(store, func, slots, err);
    if (st == KILN_OK) results_to_slots(t, slots, slots);
    return st;
  }
  uint64_t *top = store_call_slots(store, t);
  if (!top) return error_trap(err, KILN_TRAP_STACK_EXHAUSTED, "call stack exhausted");
  /* Slot by slot, not memcpy: a wide load of slots the caller has just stored one by one
   * misses store forwarding and stalls, which cost more than the rest of the call. */
  for (uint32_t i = 0; i < t->param_slots; i++) top[i] = slots[i];
  kiln_status st = store_call(store, func, err);
  if (st == KILN_OK) results_to_slots(t, top, slots);
  return st;
}

uint32_t kiln_func_raw_slots(const kiln_func *func) {
  const functype *t = func->type;
  if (!t->numeric) return 0;
  uint32_t n = functype_call_slots(t);
  return n ? n : 1;
}

/* ------------------------------------------------------------------ callers */

kiln_memory *kiln_caller_memory(kiln_caller *caller) {
  return caller->instance ? caller->instance->memory : NULL;
}
kiln_store *kiln_caller_store(kiln_caller *caller) { return caller->store; }
kiln_instance *kiln_caller_instance(kiln_caller *caller) { return caller->instance; }

kiln_status kiln_caller_trap(kiln_caller *caller, const char *format, ...) {
  kiln_error *err = caller->err;
  error_trap(err, KILN_TRAP_HOST, "%s", "");
  va_list ap;
  va_start(ap, format);
  vsnprintf(err->message, sizeof err->message, format, ap);
  va_end(ap);
  return KILN_ERR_TRAP;
}

kiln_status kiln_caller_interrupted(kiln_caller *caller) {
  error_trap(caller->err, KILN_TRAP_INTERRUPTED, "%s", "interrupted");
  return KILN_ERR_TRAP;
}

kiln_status kiln_caller_exit(kiln_caller *caller, int32_t code) {
  error_trap(caller->err, KILN_TRAP_EXIT, "exit with code %d", code);
  caller->err->exit_code = code;
  return KILN_ERR_TRAP;
}
