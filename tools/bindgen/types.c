/* bindgen_types.c - the types `kiln bindgen` understands: decoding wasm-bindgen's descriptor
 * stream (crates/shared/src/tys.rs names the words; their numbers depend on the release,
 * 0.2.83 to 0.2.127), parsing the kiln.exports section of C guests, reading the
 * __wasm_bindgen_unstable section in the layout of the release that wrote it, and how each
 * type is passed through wasm values (wasm-bindgen's ABI on wasm32, and include/kiln/guest.h's). */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bindgen.h"

/* The words of wasm-bindgen's descriptor stream, in the order of its newest version (0.2.121+;
 * crates/shared/src/tys.rs). Each version numbers the words it has from 0 in this order:
 * since[] says from which 0.2.<minor> on a word exists (0: in all). */
enum {
  D_I8, D_U8, D_I16, D_U16, D_I32, D_U32, D_I64, D_U64, D_I64_AS_F64, D_U64_AS_F64, D_I128,
  D_U128, D_F32, D_F64, D_BOOLEAN, D_FUNCTION, D_CLOSURE, D_CACHED_STRING, D_STRING, D_REF,
  D_REFMUT, D_LONGREF, D_SLICE, D_VECTOR, D_EXTERNREF, D_NAMED_EXTERNREF, D_ENUM, D_STRING_ENUM,
  D_DYNAMIC_UNION, D_RUST_STRUCT, D_CHAR, D_OPTIONAL, D_RESULT, D_UNIT, D_CLAMPED, D_NONNULL,
  D_RAW_POINTER, D_COUNT
};

static const uint8_t since[D_COUNT] = {
    [D_I64_AS_F64] = 119, [D_U64_AS_F64] = 119, [D_I128] = 96, [D_U128] = 96, [D_LONGREF] = 84,
    [D_STRING_ENUM] = 93, [D_DYNAMIC_UNION] = 121, [D_NONNULL] = 92, [D_RAW_POINTER] = 119,
};

/* The word of version 0.2.<minor> numbered raw, as one of the above (D_COUNT: none). */
static uint32_t canonical_word(unsigned minor, uint32_t raw) {
  for (uint32_t c = 0; c < D_COUNT; c++) {
    if (since[c] > minor) continue;
    if (raw == 0) return c;
    raw--;
  }
  return D_COUNT;
}

#define MAX_DEPTH 24

const char *bg_word_name(unsigned minor, uint32_t raw) {
  static const char *const names[D_COUNT] = {
      "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "I64_AS_F64", "U64_AS_F64", "I128",
      "U128", "F32", "F64", "BOOLEAN", "FUNCTION", "CLOSURE", "CACHED_STRING", "STRING", "REF",
      "REFMUT", "LONGREF", "SLICE", "VECTOR", "EXTERNREF", "NAMED_EXTERNREF", "ENUM", "STRING_ENUM",
      "DYNAMIC_UNION", "RUST_STRUCT", "CHAR", "OPTIONAL", "RESULT", "UNIT", "CLAMPED", "NONNULL",
      "RAW_POINTER",
  };
  uint32_t c = canonical_word(minor, raw);
  return c < D_COUNT ? names[c] : NULL;
}

typedef struct decoder {
  unsigned minor; /* wasm-bindgen 0.2.<minor> */
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
  uint32_t raw = next_word(d);
  if (d->failed) return -1;
  uint32_t word = canonical_word(d->minor, raw);
  static const uint8_t simple[D_COUNT] = {
      [D_I8] = BG_I8, [D_U8] = BG_U8, [D_I16] = BG_I16, [D_U16] = BG_U16, [D_I32] = BG_I32,
      [D_U32] = BG_U32, [D_I64] = BG_I64, [D_U64] = BG_U64, [D_F32] = BG_F32, [D_F64] = BG_F64,
      [D_BOOLEAN] = BG_BOOL, [D_CHAR] = BG_CHAR, [D_STRING] = BG_STRING, [D_UNIT] = BG_UNIT,
      [D_EXTERNREF] = BG_JSVALUE, [D_CACHED_STRING] = BG_CACHED_STRING, [D_I128] = BG_I128,
      [D_U128] = BG_U128,
      /* raw pointers and NonNull<T> travel as their address (wasm32) */
      [D_NONNULL] = BG_U32, [D_RAW_POINTER] = BG_U32,
  };
  int node;
  switch (word) {
  case D_I8: case D_I16: case D_I32: case D_U16: case D_U32: case D_I64: case D_U64:
  case D_F32: case D_F64: case D_BOOLEAN: case D_CHAR: case D_STRING: case D_UNIT:
  case D_EXTERNREF: case D_CACHED_STRING: case D_I128: case D_U128: case D_NONNULL: case D_RAW_POINTER:
    return new_node(d, (bg_kind)simple[word]);
  case D_I64_AS_F64: case D_U64_AS_F64:
    fail(d, "a wasm64 type (isize or usize as f64): only wasm32 modules are supported");
    return -1;
  case D_U8:
    return new_node(d, clamped ? BG_U8_CLAMPED : BG_U8);
  case D_CLAMPED:
    return decode_type(d, depth + 1, true);
  case D_REF: case D_REFMUT: case D_LONGREF: case D_SLICE: case D_VECTOR: case D_OPTIONAL: case D_RESULT: {
    /* LONGREF: the &T of an async export's argument, passed as &T is */
    static const uint8_t wrap[D_COUNT] = {[D_REF] = BG_REF, [D_REFMUT] = BG_REFMUT, [D_LONGREF] = BG_REF,
                                          [D_SLICE] = BG_SLICE, [D_VECTOR] = BG_VECTOR,
                                          [D_OPTIONAL] = BG_OPTION, [D_RESULT] = BG_RESULT};
    node = new_node(d, (bg_kind)wrap[word]);
    int inner = decode_type(d, depth + 1, clamped);
    if (node >= 0) d->func->nodes[node].inner = (int8_t)inner;
    return node;
  }
  case D_ENUM:
    node = new_node(d, BG_ENUM);
    if (d->minor >= 88) { /* its name, then the hole */
      if (node >= 0) decode_name(d, d->func->nodes[node].name);
      else decode_name(d, (char[BG_NAME_MAX]){0});
    }
    if (node >= 0) d->func->nodes[node].value = next_word(d);
    return node;
  case D_STRING_ENUM: {
    /* name, variant count (and in 0.2.93 the variants' strings) */
    node = new_node(d, BG_STRING_ENUM);
    char name[BG_NAME_MAX];
    decode_name(d, node >= 0 ? d->func->nodes[node].name : name);
    uint32_t count = next_word(d);
    if (node >= 0) d->func->nodes[node].value = count;
    for (uint32_t i = 0; d->minor == 93 && i < count && !d->failed; i++) decode_name(d, name);
    return node;
  }
  case D_DYNAMIC_UNION: {
    node = new_node(d, BG_DYNAMIC_UNION);
    char name[BG_NAME_MAX];
    decode_name(d, node >= 0 ? d->func->nodes[node].name : name);
    uint32_t count = next_word(d);
    for (uint32_t i = 0; i < count && !d->failed; i++) decode_type(d, depth + 1, false);
    return node;
  }
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
    /* 0.2.83-0.2.100: invoke shim, destructor, REF or REFMUT; 0.2.101-0.2.114: destructor,
     * mutable; 0.2.115+: owned, mutable; then the function */
    next_word(d);
    next_word(d);
    if (d->minor < 101) next_word(d);
    if (canonical_word(d->minor, next_word(d)) != D_FUNCTION && !d->failed) fail(d, "a closure without its function");
    decode_function(d, depth + 1, false);
    return node;
  default:
    fail(d, "unknown descriptor word %u (of wasm-bindgen 0.2.%u)", raw, d->minor);
    return -1;
  }
}

static void start_func(const bg_protocol *protocol, bg_func *func) {
  func->param_count = 0;
  func->node_count = 0;
  func->result = -1;
  func->option_sentinel = protocol->option_sentinel;
  func->copies_back = protocol->copies_back;
}

bool bg_decode_descriptor(const bg_protocol *protocol, const uint32_t *words, size_t count,
                          bg_func *func, char *error, size_t error_size) {
  decoder d = {protocol->minor, words, words + count, func, error, error_size, false};
  start_func(protocol, func);
  if (canonical_word(d.minor, next_word(&d)) != D_FUNCTION) {
    fail(&d, "not a function descriptor");
    return false;
  }
  decode_function(&d, 0, true);
  if (!d.failed && d.at != d.end) fail(&d, "%zu words after the function's descriptor", (size_t)(d.end - d.at));
  for (uint32_t i = 0; i < func->param_count; i++) snprintf(func->param_names[i], BG_NAME_MAX, "arg%u", i);
  return !d.failed;
}

bool bg_decode_field(const bg_protocol *protocol, const uint32_t *words, size_t count,
                     bg_func *func, char *error, size_t error_size) {
  decoder d = {protocol->minor, words, words + count, func, error, error_size, false};
  start_func(protocol, func);
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
    [BG_CACHED_STRING] = "cached String", [BG_ENUM] = "enum", [BG_I128] = "i128", [BG_U128] = "u128",
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
  case BG_STRING_ENUM: case BG_DYNAMIC_UNION:
    put(t, n->kind == BG_STRING_ENUM ? "string enum " : "union ");
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
    /* 0.2.84+: a &mut [T] also passes its JS typed array, which Rust copies the slice back
     * into (__wbindgen_copy_to_typed_array) before it frees the slice */
    if (n->kind == BG_REFMUT && f->copies_back) push(vs, KILN_I32);
    return;
  case BG_OPTION: {
    const bg_node *in = node_at(f, n->inner);
    bg_kind ik = in ? (bg_kind)in->kind : BG_UNIT;
    if ((ik == BG_I32 || ik == BG_U32 || ik == BG_F32) && f->option_sentinel != 0) {
      push(vs, KILN_F64); /* 0.2.96+: the value as an f64, None a value no such number has */
    } else if (ik == BG_I32 || ik == BG_U32 || ik == BG_I64 || ik == BG_U64 || ik == BG_F32 || ik == BG_F64) {
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

/* The records of the section grew fields along the versions: m is 0.2.<m>. */

static void skip_option_str(bytes_reader *r) {
  if (read_u8(r)) read_str(r, NULL, 0);
}

static void skip_str_vec(bytes_reader *r) {
  uint32_t n = read_leb(r);
  for (uint32_t i = 0; i < n && !r->bad; i++) read_str(r, NULL, 0);
}

static void skip_option_str_vec(bytes_reader *r) {
  if (read_u8(r)) skip_str_vec(r);
}

/* Function: argument names, asyncness, name, flags; into info (names, name). */
static void read_function(bytes_reader *r, unsigned m, char (*arg_names)[BG_NAME_MAX], uint32_t *arg_count,
                          char *name, size_t name_size) {
  uint32_t args = read_leb(r);
  for (uint32_t i = 0; i < args && !r->bad; i++) {
    if (arg_names && i < BG_MAX_PARAMS) read_str(r, arg_names[i], BG_NAME_MAX);
    else read_str(r, NULL, 0);
    if (m >= 100) { /* FunctionArgumentData: ty_override, (optional,) desc */
      skip_option_str(r);
      if (m >= 114) read_u8(r);
      skip_option_str(r);
    }
  }
  if (arg_count) *arg_count = args < BG_MAX_PARAMS ? args : BG_MAX_PARAMS;
  read_u8(r); /* asyncness */
  read_str(r, name, name_size);
  read_u8(r); /* generate_typescript */
  if (m >= 85) read_u8(r); /* generate_jsdoc */
  read_u8(r); /* variadic */
  if (m >= 100) { /* ret_ty_override, ret_desc */
    skip_option_str(r);
    skip_option_str(r);
  }
}

/* MethodKind: 0 Constructor, 1 Operation {is_static, kind}. Returns the member and the
 * property name (getters and setters) into prop; refused names a kind kiln lacks. */
static uint8_t read_method_kind(bytes_reader *r, unsigned m, char *prop, size_t prop_size, const char **refused) {
  if (read_u8(r) == 0) return BG_CONSTRUCTOR;
  bool is_static = read_u8(r) == 1;
  uint8_t kind = read_u8(r); /* Regular, (RegularThis 0.2.106+,) Getter(name), Setter(name), Indexing* */
  if (m >= 106) {
    if (kind == 1) {
      if (refused) *refused = "a method with a JavaScript this";
      return BG_METHOD;
    }
    if (kind > 1) kind--;
  }
  if (kind == 1 || kind == 2) read_str(r, prop, prop_size);
  else if (kind > 5) r->bad = true;
  if (refused && kind >= 3) *refused = "an indexing getter, setter or deleter";
  else if (refused && is_static && kind != 0) *refused = "a static getter or setter";
  return kind == 1 ? BG_GETTER : kind == 2 ? BG_SETTER : is_static ? BG_STATIC : BG_METHOD;
}

static bool read_export(bytes_reader *r, unsigned m, bg_export_info *info) {
  memset(info, 0, sizeof *info);
  bool method = read_u8(r) == 1; /* class: Option<&str> */
  if (method) read_str(r, info->class_name, sizeof info->class_name);
  read_comments(r, info->doc, sizeof info->doc);
  info->consumed = read_u8(r) == 1;
  read_function(r, m, info->arg_names, &info->arg_count, info->name, sizeof info->name);
  if (m >= 106) skip_option_str_vec(r); /* js_namespace */
  snprintf(info->prop, sizeof info->prop, "%s", info->name);
  info->member = read_method_kind(r, m, info->prop, sizeof info->prop, &info->refused);
  if (!method) {
    info->member = BG_FREE_FUNCTION;
    info->refused = NULL;
  }
  info->start = read_u8(r) != 0; /* bool; 0.2.118+: StartKind None, Public, Private */
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
static void skip_enum(bytes_reader *r, unsigned m) {
  char doc[8];
  read_str(r, NULL, 0); /* name */
  if (m >= 96) read_u8(r); /* signed */
  uint32_t variants = read_leb(r);
  for (uint32_t i = 0; i < variants && !r->bad; i++) {
    read_str(r, NULL, 0); /* name */
    read_leb(r);          /* value */
    read_comments(r, doc, sizeof doc);
  }
  read_comments(r, doc, sizeof doc);
  read_u8(r); /* generate_typescript */
  if (m >= 106) skip_option_str_vec(r); /* js_namespace */
  if (m >= 107) read_u8(r);             /* private */
}

static void read_struct(bytes_reader *r, unsigned m, bg_struct_info *info) {
  memset(info, 0, sizeof *info);
  read_str(r, info->name, sizeof info->name);
  if (m >= 114 && m < 122) read_str(r, NULL, 0); /* rust_name */
  uint32_t fields = read_leb(r);
  for (uint32_t i = 0; i < fields && !r->bad; i++) {
    static char name[BG_NAME_MAX], doc[BG_DOC_MAX];
    read_str(r, name, sizeof name);
    bool readonly = read_u8(r) == 1;
    read_comments(r, doc, sizeof doc);
    read_u8(r); /* generate_typescript */
    if (m >= 85) read_u8(r); /* generate_jsdoc */
    if (info->field_count < BG_MAX_FIELDS) {
      memcpy(info->fields[info->field_count].name, name, sizeof name);
      memcpy(info->fields[info->field_count].doc, doc, sizeof doc);
      info->fields[info->field_count++].readonly = readonly;
    }
  }
  read_comments(r, info->doc, sizeof info->doc);
  read_u8(r); /* is_inspectable */
  read_u8(r); /* generate_typescript */
  if (m >= 106) skip_option_str_vec(r); /* js_namespace */
  if (m >= 107) read_u8(r);             /* private */
  if (m >= 121) skip_option_str(r);     /* extends */
  if (m >= 122) {                       /* extends_js_class, extends_js_namespace */
    skip_option_str(r);
    skip_option_str_vec(r);
  }
}

/* ImportModule: 0 Named(str), 1 RawNamed(str), 2 Inline(u32). */
static void read_import_module(bytes_reader *r, bg_import_info *info) {
  uint8_t kind = read_u8(r);
  if (kind == 0 || kind == 1) {
    read_str(r, info ? info->module : NULL, BG_NAME_MAX);
    if (info) info->raw_module = kind == 1;
  } else if (kind == 2) {
    read_leb(r);
    if (info) snprintf(info->module, sizeof info->module, "(inline JavaScript)");
  } else
    r->bad = true;
}

/* The enum an import names: a string enum (0.2.93+; fields per version). */
static void skip_string_enum(bytes_reader *r, unsigned m) {
  char doc[8];
  if (m < 94) return; /* ImportEnum {}, StringEnum {} */
  read_str(r, NULL, 0); /* name */
  if (m == 94) read_u8(r); /* public */
  skip_str_vec(r);      /* variant_values */
  if (m == 95) return;
  read_comments(r, doc, sizeof doc);
  read_u8(r); /* generate_typescript */
  if (m >= 121) read_u8(r); /* private */
  if (m >= 106) skip_option_str_vec(r); /* js_namespace */
}

static void read_import(bytes_reader *r, unsigned m, bg_import_info *info) {
  memset(info, 0, sizeof *info);
  if (read_u8(r)) read_import_module(r, info);
  if (read_u8(r)) {                      /* js_namespace: Option<Vec<String>> */
    info->namespaced = true;
    skip_str_vec(r);
  }
  if (m >= 106) skip_option_str(r);      /* reexport */
  if (m >= 115) read_u8(r);              /* generate_typescript */
  uint8_t kind = read_u8(r);
  /* 0 Function, 1 Static, then 0.2.93+: 2 String, 3 Type, 4 Enum, (0.2.121+) 5 DynamicUnion;
   * before: 2 Type, 3 Enum */
  if (m < 93 && kind >= 2) kind++;
  switch (kind) {
  case 0: { /* ImportFunction */
    info->function = true;
    read_str(r, info->shim, sizeof info->shim);
    read_u8(r); /* catch */
    read_u8(r); /* variadic */
    read_u8(r); /* assert_no_shim */
    if (read_u8(r)) { /* method: MethodData {class, kind} */
      info->has_class = true;
      read_str(r, NULL, 0);
      char prop[8];
      read_method_kind(r, m, prop, sizeof prop, NULL);
    }
    read_u8(r); /* structural */
    read_function(r, m, NULL, NULL, info->function_name, sizeof info->function_name);
    break;
  }
  case 1: /* ImportStatic {name, shim} */
    read_str(r, info->function_name, sizeof info->function_name);
    read_str(r, info->shim, sizeof info->shim);
    break;
  case 2: /* ImportString {shim, string} */
    read_str(r, info->shim, sizeof info->shim);
    read_str(r, NULL, 0);
    break;
  case 3: /* ImportType {name, instanceof_shim, vendor_prefixes} */
    read_str(r, info->function_name, sizeof info->function_name);
    read_str(r, info->shim, sizeof info->shim);
    skip_str_vec(r);
    break;
  case 4:
    skip_string_enum(r, m);
    break;
  case 5: { /* DynamicUnion (0.2.121+) */
    char doc[8];
    read_str(r, info->function_name, sizeof info->function_name);
    skip_str_vec(r);
    read_leb(r);
    read_comments(r, doc, sizeof doc);
    read_u8(r);
    read_u8(r);
    read_u8(r);
    if (m < 121) r->bad = true;
    break;
  }
  default:
    r->bad = true;
  }
}

/* The schema each version writes: (first minor of a run, its schema's minor). */
static unsigned schema_of(unsigned minor) {
  static const uint8_t runs[][2] = {
      {83, 83}, {84, 84}, {85, 85}, {87, 87}, {88, 88}, {92, 92}, {93, 93}, {94, 94}, {95, 95},
      {96, 96}, {99, 98}, {100, 100}, {101, 101}, {102, 102}, {105, 105}, {106, 106}, {107, 107},
      {114, 114}, {115, 115}, {118, 118}, {119, 119}, {121, 121}, {122, 122},
  };
  unsigned schema = 0;
  for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
    if (minor >= runs[i][0]) schema = runs[i][1];
  return schema;
}

void bg_protocol_default(bg_protocol *p) {
  char ignored[8];
  bg_protocol_of("0.2.83", "0.2.83", p, ignored, sizeof ignored);
}

bool bg_protocol_of(const char *version, const char *schema, bg_protocol *p, char *error, size_t error_size) {
  memset(p, 0, sizeof *p);
  snprintf(p->version, sizeof p->version, "%s", version);
  unsigned major = 9, mid = 9, minor = 0;
  int used = 0;
  bool parsed = sscanf(version, "%u.%u.%u%n", &major, &mid, &minor, &used) == 3 &&
                (version[used] == 0 || version[used] == ' ' || version[used] == '-');
  if (!parsed || major != 0 || mid != 2 || minor < BG_WBG_OLDEST || minor > BG_WBG_NEWEST) {
    snprintf(error, error_size,
             "built with wasm-bindgen %s (schema %s), which kiln bindgen does not read: it reads the modules of "
             "wasm-bindgen 0.2.%d to 0.2.%d (use one of those in Cargo.toml, e.g. wasm-bindgen = \"=0.2.%d\")",
             version, schema, BG_WBG_OLDEST, BG_WBG_NEWEST, BG_WBG_NEWEST);
    return false;
  }
  char want[16];
  snprintf(want, sizeof want, "0.2.%u", schema_of(minor));
  if (strcmp(schema, want) != 0) {
    snprintf(error, error_size,
             "built with wasm-bindgen %s, but its schema is %s where that release's is %s: a modified or "
             "unreleased wasm-bindgen, which kiln bindgen does not read", version, schema, want);
    return false;
  }
  p->minor = minor;
  p->heap_offset = minor < 84 ? 32 : minor < 109 ? 128 : 1024;
  p->malloc_align = minor >= 87;
  p->free_delayed = minor >= 93;
  p->copies_back = minor >= 84;
  p->option_sentinel = minor < 96 ? 0 : minor < 119 ? 4294967297.0 : 9007199254740991.0;
  p->casts = minor >= 102;
  p->bool_none = minor >= 102 ? 0xFFFFFF : 2;
  return true;
}

/* The value of "key":"..." in a JSON object (flat, as wasm-bindgen writes it) into out. */
static bool json_string(const uint8_t *json, size_t len, const char *key, char *out, size_t size) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  const uint8_t *at = memmem(json, len, pattern, strlen(pattern));
  if (!at) return false;
  at += strlen(pattern);
  size_t n = 0;
  while (at < json + len && *at != '"' && n < size - 1) out[n++] = (char)(*at >= 0x20 && *at < 0x7F ? *at : '?'), at++;
  out[n] = 0;
  return at < json + len && *at == '"';
}

bool bg_parse_wbg_section(const uint8_t *data, size_t size, const bg_section_reader *reader,
                          bg_protocol *protocol, char *error, size_t error_size) {
  static bg_export_info info;
  static bg_struct_info struct_info;
  static bg_import_info import_info;
  bytes_reader all = {data, data + size, false};
  bool known = false;
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
        /* {"schema_version":"0.2.100","version":"0.2.100"} */
        char schema[40], version[40];
        if (!json_string(all.at, len, "schema_version", schema, sizeof schema)) {
          snprintf(error, error_size, "__wasm_bindgen_unstable: not wasm-bindgen's format (%.*s)",
                   (int)(len < 80 ? len : 80), (const char *)all.at);
          return false;
        }
        if (!json_string(all.at, len, "version", version, sizeof version)) snprintf(version, sizeof version, "%s", schema);
        bg_protocol p;
        char why[300];
        if (!bg_protocol_of(version, schema, &p, why, sizeof why)) {
          snprintf(error, error_size, "%s", why);
          return false;
        }
        if (known && p.minor != protocol->minor) {
          snprintf(error, error_size, "__wasm_bindgen_unstable: parts built with wasm-bindgen %s and %s (one module "
                   "needs one version: cargo update -p wasm-bindgen)", protocol->version, p.version);
          return false;
        }
        *protocol = p;
        known = true;
      } else {
        unsigned m = protocol->minor;
        bytes_reader r = {all.at, all.at + len, false};
        uint32_t exports = read_leb(&r);
        for (uint32_t i = 0; i < exports && !r.bad; i++) {
          read_export(&r, m, &info);
          if (!r.bad) reader->found(reader->user, &info);
        }
        uint32_t enums = read_leb(&r);
        for (uint32_t i = 0; i < enums && !r.bad; i++) skip_enum(&r, m);
        uint32_t imports = read_leb(&r);
        for (uint32_t i = 0; i < imports && !r.bad; i++) {
          read_import(&r, m, &import_info);
          if (!r.bad && reader->found_import) reader->found_import(reader->user, &import_info);
        }
        uint32_t structs = read_leb(&r);
        for (uint32_t i = 0; i < structs && !r.bad; i++) {
          read_struct(&r, m, &struct_info);
          if (!r.bad && reader->found_struct) reader->found_struct(reader->user, &struct_info);
        }
        if (r.bad) {
          snprintf(error, error_size, "__wasm_bindgen_unstable: malformed program at offset %zu (wasm-bindgen %s)",
                   (size_t)(all.at - data), protocol->version);
          return false;
        }
      }
      all.at += len;
    }
  }
  return true;
}
