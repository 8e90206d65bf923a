/* bindgen_types.c - the types `kiln bindgen` understands: decoding wasm-bindgen's descriptor
 * stream (crates/cli-support/src/descriptor.rs of wasm-bindgen 0.2.83 documents the words),
 * parsing the kiln.exports section of C guests, and how each type is passed through wasm
 * values (the ABI of wasm-bindgen 0.2.83 on wasm32, and of include/kiln/guest.h). */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bindgen.h"

/* The words of wasm-bindgen's descriptor stream, in its order. */
enum {
  D_I8, D_U8, D_I16, D_U16, D_I32, D_U32, D_I64, D_U64, D_F32, D_F64, D_BOOLEAN, D_FUNCTION,
  D_CLOSURE, D_CACHED_STRING, D_STRING, D_REF, D_REFMUT, D_SLICE, D_VECTOR, D_EXTERNREF,
  D_NAMED_EXTERNREF, D_ENUM, D_RUST_STRUCT, D_CHAR, D_OPTIONAL, D_RESULT, D_UNIT, D_CLAMPED,
};

#define MAX_DEPTH 24

typedef struct decoder {
  const uint32_t *at, *end;
  bg_func *func;
  char *error;
  size_t error_size;
  bool failed;
} decoder;

static void fail(decoder *d, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void fail(decoder *d, const char *format, ...) {
  if (d->failed) return;
  d->failed = true;
  va_list ap;
  va_start(ap, format);
  vsnprintf(d->error, d->error_size, format, ap);
  va_end(ap);
}

static uint32_t next_word(decoder *d) {
  if (d->at >= d->end) {
    fail(d, "the descriptor ends early");
    return D_UNIT;
  }
  return *d->at++;
}

static int new_node(decoder *d, bg_kind kind) {
  if (d->func->node_count >= BG_MAX_NODES) {
    fail(d, "the descriptor has more than %d types", BG_MAX_NODES);
    return -1;
  }
  int i = (int)d->func->node_count++;
  bg_node *n = &d->func->nodes[i];
  memset(n, 0, sizeof *n);
  n->kind = (uint8_t)kind;
  n->inner = -1;
  return i;
}

/* A name: a count, then one word per character (a Unicode scalar value). */
static void decode_name(decoder *d, char *out) {
  uint32_t count = next_word(d);
  size_t len = 0;
  for (uint32_t i = 0; i < count && !d->failed; i++) {
    uint32_t c = next_word(d);
    if (c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) fail(d, "a name has the invalid character %#x", c);
    if (len < BG_NAME_MAX - 1) out[len++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
  }
  out[len] = 0;
}

static int decode_type(decoder *d, int depth, bool clamped);

/* A function's words after its tag: shim index, argument count, arguments, result and the
 * inner result. params/result may be NULL for a nested function (a closure's signature). */
static void decode_function(decoder *d, int depth, bool top) {
  next_word(d); /* shim index */
  uint32_t count = next_word(d);
  if (top && count > BG_MAX_PARAMS) fail(d, "more than %d parameters", BG_MAX_PARAMS);
  for (uint32_t i = 0; i < count && !d->failed; i++) {
    int node = decode_type(d, depth + 1, false);
    if (top && !d->failed) d->func->params[d->func->param_count++] = (int8_t)node;
  }
  int result = decode_type(d, depth + 1, false);
  if (top) d->func->result = (int8_t)result;
  decode_type(d, depth + 1, false); /* the inner result: the Rust-level type, same shape */
}

static int decode_type(decoder *d, int depth, bool clamped) {
  if (depth > MAX_DEPTH) {
    fail(d, "types nested more than %d deep", MAX_DEPTH);
    return -1;
  }
  uint32_t word = next_word(d);
  if (d->failed) return -1;
  static const uint8_t simple[] = {
      [D_I8] = BG_I8, [D_U8] = BG_U8, [D_I16] = BG_I16, [D_U16] = BG_U16, [D_I32] = BG_I32,
      [D_U32] = BG_U32, [D_I64] = BG_I64, [D_U64] = BG_U64, [D_F32] = BG_F32, [D_F64] = BG_F64,
      [D_BOOLEAN] = BG_BOOL, [D_CHAR] = BG_CHAR, [D_STRING] = BG_STRING, [D_UNIT] = BG_UNIT,
      [D_EXTERNREF] = BG_JSVALUE, [D_CACHED_STRING] = BG_CACHED_STRING,
  };
  int node;
  switch (word) {
  case D_I8: case D_I16: case D_I32: case D_U16: case D_U32: case D_I64: case D_U64:
  case D_F32: case D_F64: case D_BOOLEAN: case D_CHAR: case D_STRING: case D_UNIT:
  case D_EXTERNREF: case D_CACHED_STRING:
    return new_node(d, (bg_kind)simple[word]);
  case D_U8:
    return new_node(d, clamped ? BG_U8_CLAMPED : BG_U8);
  case D_CLAMPED:
    return decode_type(d, depth + 1, true);
  case D_REF: case D_REFMUT: case D_SLICE: case D_VECTOR: case D_OPTIONAL: case D_RESULT: {
    static const uint8_t wrap[] = {[D_REF] = BG_REF, [D_REFMUT] = BG_REFMUT, [D_SLICE] = BG_SLICE,
                                   [D_VECTOR] = BG_VECTOR, [D_OPTIONAL] = BG_OPTION,
                                   [D_RESULT] = BG_RESULT};
    node = new_node(d, (bg_kind)wrap[word]);
    int inner = decode_type(d, depth + 1, clamped);
    if (node >= 0) d->func->nodes[node].inner = (int8_t)inner;
    return node;
  }
  case D_ENUM:
    node = new_node(d, BG_ENUM);
    if (node >= 0) d->func->nodes[node].value = next_word(d);
    return node;
  case D_RUST_STRUCT: case D_NAMED_EXTERNREF:
    node = new_node(d, word == D_RUST_STRUCT ? BG_RUST_STRUCT : BG_NAMED_JSVALUE);
    if (node >= 0) decode_name(d, d->func->nodes[node].name);
    return node;
  case D_FUNCTION:
    node = new_node(d, BG_FUNCTION);
    decode_function(d, depth + 1, false);
    return node;
  case D_CLOSURE:
    node = new_node(d, BG_CLOSURE);
    next_word(d); /* shim */
    next_word(d); /* destructor */
    next_word(d); /* mutable: REFMUT or not */
    if (next_word(d) != D_FUNCTION && !d->failed) fail(d, "a closure without its function");
    decode_function(d, depth + 1, false);
    return node;
  default:
    fail(d, "unknown descriptor word %u", word);
    return -1;
  }
}

bool bg_decode_descriptor(const uint32_t *words, size_t count, bg_func *func, char *error,
                          size_t error_size) {
  decoder d = {words, words + count, func, error, error_size, false};
  func->param_count = 0;
  func->node_count = 0;
  func->result = -1;
  if (next_word(&d) != D_FUNCTION) {
    fail(&d, "not a function descriptor");
    return false;
  }
  decode_function(&d, 0, true);
  if (!d.failed && d.at != d.end) fail(&d, "%zu words after the function's descriptor", (size_t)(d.end - d.at));
  for (uint32_t i = 0; i < func->param_count; i++) snprintf(func->param_names[i], BG_NAME_MAX, "arg%u", i);
  return !d.failed;
}

bool bg_decode_field(const uint32_t *words, size_t count, bg_func *func, char *error,
                     size_t error_size) {
  decoder d = {words, words + count, func, error, error_size, false};
  func->param_count = 0;
  func->node_count = 0;
  func->result = (int8_t)decode_type(&d, 0, false);
  if (!d.failed && d.at != d.end) fail(&d, "%zu words after the field's descriptor", (size_t)(d.end - d.at));
  return !d.failed;
}

bool bg_add_receiver(bg_func *func, const char *class_name, bool consumed) {
  if (func->param_count >= BG_MAX_PARAMS || func->node_count + 2 > BG_MAX_NODES) return false;
  int strukt = (int)func->node_count++;
  func->nodes[strukt] = (bg_node){.kind = BG_RUST_STRUCT, .inner = -1};
  snprintf(func->nodes[strukt].name, BG_NAME_MAX, "%s", class_name);
  int self = strukt;
  if (!consumed) {
    self = (int)func->node_count++;
    func->nodes[self] = (bg_node){.kind = BG_SELF, .inner = (int8_t)strukt};
  }
  memmove(func->params + 1, func->params, func->param_count * sizeof func->params[0]);
  memmove(func->param_names + 1, func->param_names, func->param_count * sizeof func->param_names[0]);
  func->params[0] = (int8_t)self;
  snprintf(func->param_names[0], BG_NAME_MAX, "self");
  func->param_count++;
  return true;
}

bool bg_make_setter(bg_func *func) {
  if (func->param_count != 1 || func->node_count >= BG_MAX_NODES) return false;
  int unit = (int)func->node_count++;
  func->nodes[unit] = (bg_node){.kind = BG_UNIT, .inner = -1};
  func->params[1] = func->result;
  snprintf(func->param_names[1], BG_NAME_MAX, "value");
  func->param_count = 2;
  func->result = (int8_t)unit;
  return true;
}

/* ---------------------------------------------------------------- names */

typedef struct text {
  char *buf;
  size_t size, len;
} text;

static void put(text *t, const char *s) {
  size_t n = strlen(s);
  if (t->size == 0) return;
  if (t->len + n >= t->size) n = t->size - 1 - t->len;
  memcpy(t->buf + t->len, s, n);
  t->len += n;
  t->buf[t->len] = 0;
}

static const char *const scalar_names[] = {
    [BG_I8] = "i8", [BG_U8] = "u8", [BG_I16] = "i16", [BG_U16] = "u16", [BG_I32] = "i32",
    [BG_U32] = "u32", [BG_I64] = "i64", [BG_U64] = "u64", [BG_F32] = "f32", [BG_F64] = "f64",
    [BG_U8_CLAMPED] = "u8c", [BG_BOOL] = "bool", [BG_CHAR] = "char", [BG_STRING] = "String",
    [BG_UNIT] = "()", [BG_JSVALUE] = "JsValue", [BG_FUNCTION] = "fn", [BG_CLOSURE] = "closure",
    [BG_CACHED_STRING] = "cached String", [BG_ENUM] = "enum",
};

static void name_node(const bg_func *f, int i, text *t, int depth) {
  if (i < 0 || i >= (int)f->node_count || depth > MAX_DEPTH + 2) {
    put(t, "?");
    return;
  }
  const bg_node *n = &f->nodes[i];
  switch ((bg_kind)n->kind) {
  case BG_REF: case BG_REFMUT:
    put(t, n->kind == BG_REF ? "&" : "&mut ");
    if (n->inner >= 0 && f->nodes[n->inner].kind == BG_STRING) {
      put(t, "str");
      return;
    }
    name_node(f, n->inner, t, depth + 1);
    return;
  case BG_SLICE:
    put(t, "[");
    name_node(f, n->inner, t, depth + 1);
    put(t, "]");
    return;
  case BG_VECTOR: case BG_OPTION: case BG_RESULT:
    put(t, n->kind == BG_VECTOR ? "Vec<" : n->kind == BG_OPTION ? "Option<" : "Result<");
    name_node(f, n->inner, t, depth + 1);
    put(t, ">");
    return;
  case BG_RUST_STRUCT: case BG_NAMED_JSVALUE:
    put(t, n->kind == BG_RUST_STRUCT ? "struct " : "JsValue ");
    put(t, n->name);
    return;
  case BG_SELF: /* "self struct Counter": the glue's name of a borrowed receiver */
    put(t, "self ");
    name_node(f, n->inner, t, depth + 1);
    return;
  default:
    put(t, n->kind < sizeof scalar_names / sizeof scalar_names[0] && scalar_names[n->kind]
               ? scalar_names[n->kind] : "?");
  }
}

void bg_type_name(const bg_func *func, int node, char *buf, size_t size) {
  text t = {buf, size, 0};
  if (size) buf[0] = 0;
  name_node(func, node, &t, 0);
}

/* ---------------------------------------------------------------- support */

static bool is_number(bg_kind k) { return k <= BG_F64; }
static bool is_element(bg_kind k) { return k <= BG_U8_CLAMPED; }

static const bg_node *node_at(const bg_func *f, int i) {
  return i >= 0 && i < (int)f->node_count ? &f->nodes[i] : NULL;
}

/* A slice or vector of numbers: Vec<T>, &[T], &mut [T] (mutable: arguments only). */
static bool numeric_sequence(const bg_func *f, const bg_node *n, bool allow_ref, bool allow_mut) {
  if (n->kind == BG_VECTOR) {
    const bg_node *e = node_at(f, n->inner);
    return e && is_element((bg_kind)e->kind);
  }
  if ((n->kind == BG_REF && allow_ref) || (n->kind == BG_REFMUT && allow_mut)) {
    const bg_node *s = node_at(f, n->inner);
    const bg_node *e = s && s->kind == BG_SLICE ? node_at(f, s->inner) : NULL;
    return e && is_element((bg_kind)e->kind);
  }
  return false;
}

static bool is_str_ref(const bg_func *f, const bg_node *n) {
  const bg_node *s = n->kind == BG_REF ? node_at(f, n->inner) : NULL;
  return s && s->kind == BG_STRING;
}

/* &T or &mut T of a kind passed as one index or pointer: JsValue (&only), an exported struct. */
static bool is_handle_ref(const bg_func *f, const bg_node *n) {
  const bg_node *in = n->kind == BG_REF || n->kind == BG_REFMUT ? node_at(f, n->inner) : NULL;
  return in && (in->kind == BG_RUST_STRUCT || (in->kind == BG_JSVALUE && n->kind == BG_REF));
}

/* The struct behind an exported-struct type (Counter, &Counter, &mut Counter, Option<Counter>,
 * a receiver), else NULL. */
static const bg_node *struct_of(const bg_func *f, const bg_node *n) {
  for (int depth = 0; n && depth < 2; depth++) {
    if (n->kind == BG_RUST_STRUCT) return n;
    if (n->kind != BG_REF && n->kind != BG_REFMUT && n->kind != BG_OPTION && n->kind != BG_SELF) return NULL;
    n = node_at(f, n->inner);
  }
  return n && n->kind == BG_RUST_STRUCT ? n : NULL;
}

static bool supported(const bg_func *f, int i, bool result, int depth, char *what, size_t size) {
  const bg_node *n = node_at(f, i);
  if (!n || depth > MAX_DEPTH) {
    snprintf(what, size, "?");
    return false;
  }
  bg_kind k = (bg_kind)n->kind;
  bool ok;
  if (is_number(k) || k == BG_BOOL || k == BG_CHAR || k == BG_ENUM || k == BG_STRING ||
      k == BG_JSVALUE || k == BG_RUST_STRUCT)
    ok = true;
  else if (k == BG_UNIT)
    ok = result;
  else if (k == BG_SELF)
    ok = !result && struct_of(f, n) != NULL;
  else if (k == BG_REF)
    ok = !result && (is_str_ref(f, n) || numeric_sequence(f, n, true, false) || is_handle_ref(f, n));
  else if (k == BG_REFMUT || k == BG_VECTOR)
    ok = numeric_sequence(f, n, !result, !result) || (!result && is_handle_ref(f, n));
  else if (k == BG_OPTION) {
    const bg_node *in = node_at(f, n->inner);
    bg_kind ik = in ? (bg_kind)in->kind : BG_FUNCTION;
    ok = in && (is_number(ik) || ik == BG_BOOL || ik == BG_CHAR || ik == BG_ENUM ||
                ik == BG_STRING || ik == BG_JSVALUE || ik == BG_RUST_STRUCT ||
                numeric_sequence(f, in, false, false));
  } else if (k == BG_RESULT) {
    const bg_node *in = node_at(f, n->inner);
    ok = result && in && in->kind != BG_RESULT && supported(f, n->inner, true, depth + 1, what, size);
    if (!ok && in && in->kind != BG_RESULT) return false; /* what names the inner type */
  } else
    ok = false;
  if (!ok) bg_type_name(f, i, what, size);
  return ok;
}

bool bg_type_supported(const bg_func *func, int node, bool result, char *what, size_t size) {
  return supported(func, node, result, 0, what, size);
}

/* ---------------------------------------------------------------- the ABI */

typedef struct values {
  kiln_valtype *v;
  uint32_t count, max;
  bool overflow;
} values;

static void push(values *vs, kiln_valtype t) {
  if (vs->count >= vs->max) {
    vs->overflow = true;
    return;
  }
  vs->v[vs->count++] = t;
}

static kiln_valtype number_valtype(bg_kind k) {
  return k == BG_I64 || k == BG_U64 ? KILN_I64 : k == BG_F32 ? KILN_F32 : k == BG_F64 ? KILN_F64 : KILN_I32;
}

/* The wasm values one supported type takes, in order (wasm-bindgen flattens structs such as
 * its slices (ptr, len) and options (is_some, value) into consecutive values). */
static void flatten(const bg_func *f, int i, values *vs) {
  const bg_node *n = node_at(f, i);
  if (!n) return;
  switch ((bg_kind)n->kind) {
  case BG_UNIT:
    return;
  case BG_STRING: case BG_REF: case BG_REFMUT: case BG_VECTOR:
    if (is_handle_ref(f, n)) {
      push(vs, KILN_I32); /* a heap index, a struct's pointer */
      return;
    }
    push(vs, KILN_I32);
    push(vs, KILN_I32);
    return;
  case BG_OPTION: {
    const bg_node *in = node_at(f, n->inner);
    bg_kind ik = in ? (bg_kind)in->kind : BG_UNIT;
    if (ik == BG_I32 || ik == BG_U32 || ik == BG_I64 || ik == BG_U64 || ik == BG_F32 || ik == BG_F64) {
      push(vs, KILN_I32); /* is_some */
      push(vs, number_valtype(ik));
    } else
      flatten(f, n->inner, vs); /* sentinels (small integers, bool, char, enum), null pointers */
    return;
  }
  case BG_RESULT:
    flatten(f, n->inner, vs);
    push(vs, KILN_I32); /* the error's heap index */
    push(vs, KILN_I32); /* is_err */
    return;
  default:
    push(vs, number_valtype((bg_kind)n->kind));
  }
}

uint32_t bg_result_values(const bg_func *func, kiln_valtype *out, uint32_t max) {
  values rv = {out, 0, max, false};
  flatten(func, func->result, &rv);
  return rv.count;
}

bool bg_wasm_signature(const bg_func *func, kiln_valtype *params, uint32_t *param_count,
                       kiln_valtype *results, uint32_t *result_count, uint32_t max,
                       uint32_t *retptr_size) {
  kiln_valtype ret[8];
  values rv = {ret, 0, 8, false};
  flatten(func, func->result, &rv);
  values pv = {params, 0, max, false};
  *retptr_size = 0;
  *result_count = 0;
  /* C guests return strings and arrays through a pointer too (guest.h's wrappers). */
  if (rv.count > 1) {
    push(&pv, KILN_I32);
    uint32_t size = 0;
    for (uint32_t i = 0; i < rv.count; i++) {
      uint32_t bytes = ret[i] == KILN_I64 || ret[i] == KILN_F64 ? 8 : 4;
      size = (size + bytes - 1) / bytes * bytes + bytes; /* C struct layout */
    }
    *retptr_size = (size + 15) & ~15u;
  } else if (rv.count == 1) {
    if (max < 1) return false;
    results[0] = ret[0];
    *result_count = 1;
  }
  for (uint32_t i = 0; i < func->param_count; i++) flatten(func, func->params[i], &pv);
  *param_count = pv.count;
  return !pv.overflow && !rv.overflow;
}

/* ---------------------------------------------------------------- TypeScript */

static const char *element_array(bg_kind k) {
  static const char *const arrays[] = {
      [BG_I8] = "Int8Array", [BG_U8] = "Uint8Array", [BG_I16] = "Int16Array",
      [BG_U16] = "Uint16Array", [BG_I32] = "Int32Array", [BG_U32] = "Uint32Array",
      [BG_I64] = "BigInt64Array", [BG_U64] = "BigUint64Array", [BG_F32] = "Float32Array",
      [BG_F64] = "Float64Array", [BG_U8_CLAMPED] = "Uint8ClampedArray"};
  return k <= BG_U8_CLAMPED ? arrays[k] : "never";
}

static void ts_node(const bg_func *f, int i, bool result, text *t, int depth) {
  const bg_node *n = node_at(f, i);
  if (!n || depth > MAX_DEPTH) {
    put(t, "never");
    return;
  }
  bg_kind k = (bg_kind)n->kind;
  if (k == BG_I64 || k == BG_U64) put(t, "bigint");
  else if (is_number(k) || k == BG_ENUM) put(t, "number");
  else if (k == BG_BOOL) put(t, "boolean");
  else if (k == BG_CHAR || k == BG_STRING || is_str_ref(f, n)) put(t, "string");
  else if (k == BG_UNIT) put(t, "void");
  else if (k == BG_JSVALUE) put(t, "any");
  else if (k == BG_REF && node_at(f, n->inner) && node_at(f, n->inner)->kind == BG_JSVALUE) put(t, "any");
  else if (k != BG_OPTION && struct_of(f, n)) put(t, struct_of(f, n)->name);
  else if (k == BG_OPTION) {
    ts_node(f, n->inner, result, t, depth + 1);
    put(t, result ? " | undefined" : " | null | undefined");
  } else if (k == BG_RESULT) ts_node(f, n->inner, result, t, depth + 1);
  else if (k == BG_VECTOR || k == BG_REF || k == BG_REFMUT) {
    const bg_node *e = node_at(f, n->inner);
    if (e && e->kind == BG_SLICE) e = node_at(f, e->inner);
    bg_kind ek = e ? (bg_kind)e->kind : BG_UNIT;
    put(t, element_array(ek));
    /* Arguments also take plain arrays (and 8-bit ones Buffers, which are Uint8Arrays). */
    if (!result && k != BG_REFMUT) put(t, ek == BG_I64 || ek == BG_U64 ? " | bigint[]" : " | number[]");
  } else put(t, "never");
}

void bg_ts_type(const bg_func *func, int node, bool result, char *buf, size_t size) {
  text t = {buf, size, 0};
  if (size) buf[0] = 0;
  ts_node(func, node, result, &t, 0);
}

/* ---------------------------------------------------------------- C guests */

/* The type names of guest.h and the types they stand for. */
static const struct {
  const char *name;
  bg_kind kind;   /* BG_STRING, BG_VECTOR of elem, or a number */
  bg_kind elem;
} c_types[] = {
    {"i8", BG_I8, 0}, {"u8", BG_U8, 0}, {"i16", BG_I16, 0}, {"u16", BG_U16, 0},
    {"i32", BG_I32, 0}, {"u32", BG_U32, 0}, {"i64", BG_I64, 0}, {"u64", BG_U64, 0},
    {"f32", BG_F32, 0}, {"f64", BG_F64, 0}, {"bool", BG_BOOL, 0}, {"_Bool", BG_BOOL, 0}, {"void", BG_UNIT, 0},
    {"string", BG_STRING, 0}, {"bytes", BG_VECTOR, BG_U8},
    {"i8s", BG_VECTOR, BG_I8}, {"u8s", BG_VECTOR, BG_U8}, {"i16s", BG_VECTOR, BG_I16},
    {"u16s", BG_VECTOR, BG_U16}, {"i32s", BG_VECTOR, BG_I32}, {"u32s", BG_VECTOR, BG_U32},
    {"i64s", BG_VECTOR, BG_I64}, {"u64s", BG_VECTOR, BG_U64}, {"f32s", BG_VECTOR, BG_F32},
    {"f64s", BG_VECTOR, BG_F64},
};

typedef struct cursor {
  const char *at, *end;
} cursor;

static void skip_spaces(cursor *c) {
  while (c->at < c->end && (*c->at == ' ' || *c->at == '\t')) c->at++;
}

static bool is_ident_char(char ch, bool first) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || (!first && ch >= '0' && ch <= '9');
}

/* An identifier into out (at most BG_NAME_MAX - 1 characters). */
static bool read_ident(cursor *c, char *out) {
  skip_spaces(c);
  size_t n = 0;
  while (c->at < c->end && is_ident_char(*c->at, n == 0)) {
    if (n >= BG_NAME_MAX - 1) return false;
    out[n++] = *c->at++;
  }
  out[n] = 0;
  return n > 0;
}

static bool expect(cursor *c, const char *token) {
  skip_spaces(c);
  size_t n = strlen(token);
  if ((size_t)(c->end - c->at) < n || memcmp(c->at, token, n) != 0) return false;
  c->at += n;
  return true;
}

/* A type name of guest.h into a new node of f; -1 if there is no such type. */
static int c_type_node(bg_func *f, const char *name, bool result) {
  for (size_t i = 0; i < sizeof c_types / sizeof c_types[0]; i++) {
    if (strcmp(c_types[i].name, name) != 0) continue;
    if (c_types[i].kind == BG_UNIT && !result) return -1;
    if (f->node_count + 2 > BG_MAX_NODES) return -1;
    int node = (int)f->node_count++;
    f->nodes[node] = (bg_node){.kind = (uint8_t)c_types[i].kind, .inner = -1};
    if (c_types[i].kind == BG_VECTOR) {
      int elem = (int)f->node_count++;
      f->nodes[elem] = (bg_node){.kind = (uint8_t)c_types[i].elem, .inner = -1};
      f->nodes[node].inner = (int8_t)elem;
    }
    return node;
  }
  return -1;
}

/* One record: name(p: type, ...) -> type */
static bool parse_c_record(cursor *c, bg_func *f, char *error, size_t error_size) {
  char type[BG_NAME_MAX];
  memset(f, 0, sizeof *f);
  f->abi = BG_ABI_KILN_C;
  f->result = -1;
  if (!read_ident(c, f->name)) {
    snprintf(error, error_size, "expected a function name");
    return false;
  }
  if (!expect(c, "(")) {
    snprintf(error, error_size, "%s: expected '(' after the name", f->name);
    return false;
  }
  skip_spaces(c);
  if (!expect(c, ")")) {
    for (;;) {
      if (f->param_count >= BG_MAX_PARAMS) {
        snprintf(error, error_size, "%s: more than %d parameters", f->name, BG_MAX_PARAMS);
        return false;
      }
      char *pname = f->param_names[f->param_count];
      if (!read_ident(c, pname) || !expect(c, ":") || !read_ident(c, type)) {
        snprintf(error, error_size, "%s: parameter %u: expected 'name: type'", f->name, f->param_count + 1);
        return false;
      }
      for (uint32_t i = 0; i < f->param_count; i++) {
        if (strcmp(f->param_names[i], pname) == 0) {
          snprintf(error, error_size, "%s: two parameters are called '%s'", f->name, pname);
          return false;
        }
      }
      int node = c_type_node(f, type, false);
      if (node < 0) {
        snprintf(error, error_size, "%s: parameter '%s' has the unsupported type '%s'", f->name, pname, type);
        return false;
      }
      f->params[f->param_count++] = (int8_t)node;
      if (expect(c, ")")) break;
      if (!expect(c, ",")) {
        snprintf(error, error_size, "%s: expected ',' or ')' after parameter '%s'", f->name, pname);
        return false;
      }
    }
  }
  if (!expect(c, "->") || !read_ident(c, type)) {
    snprintf(error, error_size, "%s: expected '-> type' after the parameters", f->name);
    return false;
  }
  f->result = (int8_t)c_type_node(f, type, true);
  if (f->result < 0) {
    snprintf(error, error_size, "%s: the result has the unsupported type '%s'", f->name, type);
    return false;
  }
  skip_spaces(c);
  if (c->at != c->end) {
    snprintf(error, error_size, "%s: unexpected text after the result type", f->name);
    return false;
  }
  return true;
}

bool bg_parse_c_section(const uint8_t *data, size_t size,
                        bool (*add)(void *user, const bg_func *func), void *user, char *error,
                        size_t error_size) {
  static bg_func func; /* large: kept off the stack */
  const char *at = (const char *)data, *end = at + size;
  unsigned record = 0;
  while (at < end) {
    const char *stop = at;
    while (stop < end && *stop != '\n' && *stop != 0) stop++;
    cursor c = {at, stop};
    skip_spaces(&c);
    if (c.at < c.end) {
      record++;
      char why[200];
      if (!parse_c_record(&c, &func, why, sizeof why)) {
        snprintf(error, error_size, "kiln.exports record %u: %s", record, why);
        return false;
      }
      if (!add(user, &func)) {
        snprintf(error, error_size, "kiln.exports record %u (%s) refused", record, func.name);
        return false;
      }
    }
    at = stop + 1;
  }
  return true;
}

/* ---------------------------------------------------------------- wasm-bindgen's section */

typedef struct bytes_reader {
  const uint8_t *at, *end;
  bool bad;
} bytes_reader;

static uint32_t read_leb(bytes_reader *r) {
  uint32_t v = 0;
  for (unsigned shift = 0; shift < 35; shift += 7) {
    if (r->at >= r->end) break;
    uint8_t b = *r->at++;
    v |= (uint32_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) return v;
  }
  r->bad = true;
  return 0;
}

static uint8_t read_u8(bytes_reader *r) {
  if (r->at >= r->end) {
    r->bad = true;
    return 0;
  }
  return *r->at++;
}

/* A string: its length, then its bytes, copied (cut to size - 1 bytes) into out when out is
 * not NULL. Returns its whole length. */
static size_t read_str(bytes_reader *r, char *out, size_t size) {
  uint32_t n = read_leb(r);
  if (r->bad || n > (size_t)(r->end - r->at)) {
    r->bad = true;
    return 0;
  }
  if (out && size) {
    size_t k = n < size - 1 ? n : size - 1;
    memcpy(out, r->at, k);
    out[k] = 0;
  }
  r->at += n;
  return n;
}

/* Doc comments: a count, then the lines, joined with spaces into doc (a longer text ends at
 * a word, with "..."). */
static void read_comments(bytes_reader *r, char *doc, size_t size) {
  uint32_t comments = read_leb(r);
  size_t doc_len = 0;
  bool cut = false;
  doc[0] = 0;
  for (uint32_t i = 0; i < comments && !r->bad; i++) {
    char line[BG_DOC_MAX];
    line[0] = 0;
    size_t len = read_str(r, line, sizeof line);
    if (cut) continue;
    const char *text = line[0] == ' ' ? line + 1 : line;
    int n = snprintf(doc + doc_len, size - doc_len, "%s%s", doc_len ? " " : "", text);
    if (n < 0) continue;
    if (doc_len + (size_t)n < size && len < sizeof line) {
      doc_len += (size_t)n;
      continue;
    }
    /* Too long: end at the last space that leaves room for "...". */
    cut = true;
    if (size < 8) continue;
    size_t end = size - 4;
    while (end > 0 && doc[end] != ' ') end--;
    snprintf(doc + end, size - end, "...");
    doc_len = end + 3;
  }
}

static bool read_export(bytes_reader *r, bg_export_info *info) {
  memset(info, 0, sizeof *info);
  bool method = read_u8(r) == 1; /* class: Option<&str> */
  if (method) read_str(r, info->class_name, sizeof info->class_name);
  read_comments(r, info->doc, sizeof info->doc);
  info->consumed = read_u8(r) == 1;
  uint32_t args = read_leb(r);
  for (uint32_t i = 0; i < args && !r->bad; i++) {
    if (i < BG_MAX_PARAMS) read_str(r, info->arg_names[i], BG_NAME_MAX);
    else read_str(r, NULL, 0);
  }
  info->arg_count = args < BG_MAX_PARAMS ? args : BG_MAX_PARAMS;
  read_u8(r); /* asyncness */
  read_str(r, info->name, sizeof info->name);
  read_u8(r); /* generate_typescript */
  read_u8(r); /* variadic */
  snprintf(info->prop, sizeof info->prop, "%s", info->name);
  if (read_u8(r) == 0) { /* MethodKind::Constructor */
    info->member = BG_CONSTRUCTOR;
  } else {               /* MethodKind::Operation */
    bool is_static = read_u8(r) == 1;
    uint8_t kind = read_u8(r); /* Regular, Getter(name), Setter(name), Indexing* */
    info->member = kind == 1 ? BG_GETTER : kind == 2 ? BG_SETTER : is_static ? BG_STATIC : BG_METHOD;
    if (kind == 1 || kind == 2) read_str(r, info->prop, sizeof info->prop);
    else if (kind > 5) r->bad = true;
    if (kind >= 3) info->refused = "an indexing getter, setter or deleter";
    else if (is_static && kind != 0) info->refused = "a static getter or setter";
  }
  if (!method) info->member = BG_FREE_FUNCTION;
  info->start = read_u8(r) == 1;
  if (method) { /* its wasm export: lower-case struct name, '_', method name */
    char export_name[BG_NAME_MAX];
    size_t n = 0;
    for (const char *c = info->class_name; *c && n < BG_NAME_MAX - 1; c++)
      export_name[n++] = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
    export_name[n] = 0;
    char full[BG_NAME_MAX * 2 + 2];
    snprintf(full, sizeof full, "%s_%s", export_name, info->name);
    snprintf(info->name, sizeof info->name, "%.*s", BG_NAME_MAX - 1, full);
  }
  return true;
}

/* An enum of the program: read past it (kiln passes C-style enums as numbers). */
static void skip_enum(bytes_reader *r) {
  char doc[8];
  read_str(r, NULL, 0); /* name */
  uint32_t variants = read_leb(r);
  for (uint32_t i = 0; i < variants && !r->bad; i++) {
    read_str(r, NULL, 0); /* name */
    read_leb(r);          /* value */
    read_comments(r, doc, sizeof doc);
  }
  read_comments(r, doc, sizeof doc);
  read_u8(r); /* generate_typescript */
}

static void read_struct(bytes_reader *r, bg_struct_info *info) {
  memset(info, 0, sizeof *info);
  read_str(r, info->name, sizeof info->name);
  uint32_t fields = read_leb(r);
  for (uint32_t i = 0; i < fields && !r->bad; i++) {
    static char name[BG_NAME_MAX], doc[BG_DOC_MAX];
    read_str(r, name, sizeof name);
    bool readonly = read_u8(r) == 1;
    read_comments(r, doc, sizeof doc);
    read_u8(r); /* generate_typescript */
    if (info->field_count < BG_MAX_FIELDS) {
      memcpy(info->fields[info->field_count].name, name, sizeof name);
      memcpy(info->fields[info->field_count].doc, doc, sizeof doc);
      info->fields[info->field_count++].readonly = readonly;
    }
  }
  read_comments(r, info->doc, sizeof info->doc);
  read_u8(r); /* is_inspectable */
  read_u8(r); /* generate_typescript */
}

bool bg_parse_wbg_section(const uint8_t *data, size_t size,
                          void (*found)(void *user, const bg_export_info *info),
                          void (*found_struct)(void *user, const bg_struct_info *info), void *user,
                          char *error, size_t error_size) {
  static bg_export_info info;
  static bg_struct_info struct_info;
  bytes_reader all = {data, data + size, false};
  while (all.at < all.end) {
    /* [u32 length][JSON version prefix][u32 length][program] */
    for (int part = 0; part < 2; part++) {
      if (all.end - all.at < 4) {
        snprintf(error, error_size, "__wasm_bindgen_unstable: truncated at offset %zu", (size_t)(all.at - data));
        return false;
      }
      uint32_t len = (uint32_t)all.at[0] | (uint32_t)all.at[1] << 8 | (uint32_t)all.at[2] << 16 | (uint32_t)all.at[3] << 24;
      all.at += 4;
      if (len > (size_t)(all.end - all.at)) {
        snprintf(error, error_size, "__wasm_bindgen_unstable: a blob of %u bytes at offset %zu runs past the end",
                 len, (size_t)(all.at - data));
        return false;
      }
      if (part == 0) {
        static const char want[] = "\"schema_version\":\"0.2.83\"";
        bool match = len >= sizeof want - 1 && memmem(all.at, len, want, sizeof want - 1) != NULL;
        if (!match) {
          snprintf(error, error_size, "__wasm_bindgen_unstable: not wasm-bindgen 0.2.83's format (%.*s)",
                   (int)(len < 80 ? len : 80), (const char *)all.at);
          return false;
        }
      } else {
        bytes_reader r = {all.at, all.at + len, false};
        uint32_t exports = read_leb(&r);
        for (uint32_t i = 0; i < exports && !r.bad; i++) {
          read_export(&r, &info);
          if (!r.bad) found(user, &info);
        }
        uint32_t enums = read_leb(&r);
        for (uint32_t i = 0; i < enums && !r.bad; i++) skip_enum(&r);
        /* The structs come after the imports; a program with imports (refused elsewhere
         * when they are used) is not read further. */
        if (read_leb(&r) == 0 && !r.bad) {
          uint32_t structs = read_leb(&r);
          for (uint32_t i = 0; i < structs && !r.bad; i++) {
            read_struct(&r, &struct_info);
            if (!r.bad && found_struct) found_struct(user, &struct_info);
          }
        }
        if (r.bad) {
          snprintf(error, error_size, "__wasm_bindgen_unstable: malformed program at offset %zu", (size_t)(all.at - data));
          return false;
        }
      }
      all.at += len;
    }
  }
  return true;
}
