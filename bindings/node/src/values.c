/* values.c - wasm values to and from JavaScript, following the WebAssembly JS API: i32,
 * f32 and f64 are Numbers, i64 a BigInt, externref any value (kept alive by the store),
 * funcref a function of the store or null; v128 cannot cross. kiln's own API is strict
 * (a wrong type is a TypeError naming the argument); the WebAssembly facade coerces as the
 * standard does (store->lenient). */
#include <stdlib.h>

#include "addon.h"

struct externref_box {
  napi_ref value;   /* the value, or for a primitive an object holding it as .value */
  bool primitive;   /* Node-API references only objects and functions */
  externref_box *next;
};

static bool type_error(napi_env env, const char *fn, uint32_t index, kiln_valtype type, const char *why) {
  addon_throw_type(env, "%s: argument %u (%s) %s", fn, index + 1, kiln_valtype_string(type), why);
  return false;
}

/* The standard's ToBigInt for i64 in the facade: an object is first made a primitive
 * (valueOf, then toString, as ToPrimitive with hint number), then a string goes through
 * BigInt(), which parses it as StringToBigInt does (a SyntaxError if it is not an integer).
 * Numbers, null, undefined and symbols stay as they are, for the caller's TypeError. False
 * when an exception is pending. */
static bool lenient_bigint(napi_env env, napi_value *v, napi_valuetype *t) {
  if (*t == napi_object || *t == napi_function) {
    static const char *const methods[] = {"valueOf", "toString"};
    bool done = false;
    for (int i = 0; i < 2 && !done; i++) {
      napi_value method, result;
      napi_valuetype mt, rt;
      if (napi_get_named_property(env, *v, methods[i], &method) != napi_ok) return false;
      napi_typeof(env, method, &mt);
      if (mt != napi_function) continue;
      if (napi_call_function(env, *v, method, 0, NULL, &result) != napi_ok) return false;
      napi_typeof(env, result, &rt);
      if (rt != napi_object && rt != napi_function) {
        *v = result;
        *t = rt;
        done = true;
      }
    }
    if (!done) {
      napi_throw_type_error(env, NULL, "cannot convert the object to a primitive value");
      return false;
    }
  }
  if (*t == napi_string) {
    napi_value global, bigint;
    napi_get_global(env, &global);
    napi_get_named_property(env, global, "BigInt", &bigint);
    if (napi_call_function(env, global, bigint, 1, v, v) != napi_ok) return false;
    napi_typeof(env, *v, t);
  }
  return true;
}

bool value_to_wasm(napi_env env, addon *a, node_store *s, napi_value v, kiln_valtype type,
                   kiln_val *out, const char *fn, uint32_t index) {
  (void)a;
  /* The common cases first, one Node-API call each: a Number for i32/f64, a BigInt for i64. */
  out->type = type;
  out->of.i64 = 0;
  if (type == KILN_I32 && napi_get_value_int32(env, v, &out->of.i32) == napi_ok) return true;
  if (type == KILN_F64 && napi_get_value_double(env, v, &out->of.f64) == napi_ok) return true;
  if (type == KILN_I64) {
    bool lossless;
    if (napi_get_value_bigint_int64(env, v, &out->of.i64, &lossless) == napi_ok) return true;
  }
  napi_valuetype t;
  napi_typeof(env, v, &t);
  out->type = type;
  out->of.i64 = 0;
  switch (type) {
    case KILN_I32:
    case KILN_F32:
    case KILN_F64: {
      if (t != napi_number) {
        if (!s->lenient || t == napi_bigint || t == napi_symbol)
          return type_error(env, fn, index, type, t == napi_bigint ? "must be a Number, not a BigInt"
                                                                   : "must be a number");
        if (napi_coerce_to_number(env, v, &v) != napi_ok) return false;
      }
      double d;
      napi_get_value_double(env, v, &d);
      if (type == KILN_I32) napi_get_value_int32(env, v, &out->of.i32);
      else if (type == KILN_F32) out->of.f32 = (float)d;
      else out->of.f64 = d;
      return true;
    }
    case KILN_I64: {
      if (t == napi_boolean && s->lenient) {
        bool b;
        napi_get_value_bool(env, v, &b);
        out->of.i64 = b;
        return true;
      }
      if (t != napi_bigint && s->lenient && !lenient_bigint(env, &v, &t)) return false;
      if (t != napi_bigint)
        return type_error(env, fn, index, type, "must be a BigInt (e.g. 5n or BigInt(x))");
      bool lossless;
      napi_get_value_bigint_int64(env, v, &out->of.i64, &lossless); /* wraps modulo 2^64 */
      return true;
    }
    case KILN_EXTERNREF: {
      if (t == napi_null) {
        out->of.externref = NULL;
        return true;
      }
      externref_box *box = malloc(sizeof *box);
      napi_value held = v;
      bool primitive = t != napi_object && t != napi_function;
      if (primitive) {
        napi_create_object(env, &held);
        addon_set(env, held, "value", v);
      }
      if (box) box->primitive = primitive;
      if (!box || napi_create_reference(env, held, 1, &box->value) != napi_ok) {
        free(box);
        addon_throw_error(env, "kiln: out of memory");
        return false;
      }
      box->next = s->externrefs;
      s->externrefs = box;
      out->of.externref = box;
      return true;
    }
    case KILN_FUNCREF: {
      if (t == napi_null) {
        out->of.funcref = NULL;
        return true;
      }
      node_store *owner = NULL;
      kiln_func *f = t == napi_function ? function_unwrap(env, v, &owner) : NULL;
      if (!f) return type_error(env, fn, index, type, "must be null or a function exported by wasm");
      if (owner != s) { /* another instance's: through JavaScript (function_foreign) */
        if (!owner->store) return type_error(env, fn, index, type, "is a function of a closed instance");
        f = function_foreign(env, s, v, f);
        if (!f) return false;
      }
      out->of.funcref = f;
      return true;
    }
    default:
      return type_error(env, fn, index, type, "cannot be passed from JavaScript");
  }
}

napi_value value_from_wasm(napi_env env, addon *a, node_store *s, const kiln_val *v) {
  napi_value r;
  switch (v->type) {
    case KILN_I32: napi_create_int32(env, v->of.i32, &r); return r;
    case KILN_I64: napi_create_bigint_int64(env, v->of.i64, &r); return r;
    case KILN_F32: napi_create_double(env, (double)v->of.f32, &r); return r;
    case KILN_F64: napi_create_double(env, v->of.f64, &r); return r;
    case KILN_EXTERNREF: {
      externref_box *box = v->of.externref;
      if (!box || napi_get_reference_value(env, box->value, &r) != napi_ok) napi_get_null(env, &r);
      else if (box->primitive) r = addon_get(env, r, "value");
      return r;
    }
    case KILN_FUNCREF: {
      if (!v->of.funcref) {
        napi_get_null(env, &r);
        return r;
      }
      napi_value owner = NULL;
      if (s->owner) napi_get_reference_value(env, s->owner, &owner);
      return function_to_js(env, a, s, owner, v->of.funcref, "");
    }
    default:
      addon_throw_type(env, "a %s value cannot be passed to JavaScript", kiln_valtype_string(v->type));
      return NULL;
  }
}

void externrefs_free(napi_env env, node_store *s) {
  (void)env;
  while (s->externrefs) {
    externref_box *box = s->externrefs;
    s->externrefs = box->next;
    addon_release_ref(s->a, box->value); /* (in a finalizer too) */
    free(box);
  }
}
