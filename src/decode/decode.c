/* decode.c - the binary format decoder: bytes -> module_decl.
 *
 * Strict about structure: every malformed-module rule of the WebAssembly 2.0 binary format
 * that can be checked without decoding the instructions of function bodies is enforced
 * here and reported as KILN_ERR_MALFORMED with a message "<section> section, offset 0x..:
 * <spec wording>". Index ranges, limits and types are validation and are left to
 * validate/; instructions inside function bodies are decoded by compile/.
 *
 * Memory use is bounded by the input: every count is checked against the bytes left in its
 * section (each element of every vector takes at least one byte) before anything is
 * allocated for it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/reader.h"
#include "decode/module.h"

/* ---------------------------------------------------------------- decoder state */

typedef struct decoder {
  module_decl *m;
  kiln_error *err;
  kiln_status status;   /* what the first failure was */
  char where[64];       /* "type section", "code section, function 3", ... */
  /* defined (non-imported) counts, from their sections */
  uint32_t defined_funcs;
  uint32_t custom_cap;
} decoder;

static bool fail_at(decoder *d, size_t offset, kiln_status status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static bool fail_at(decoder *d, size_t offset, kiln_status status, const char *format, ...) {
  char msg[384];
  va_list ap;
  va_start(ap, format);
  vsnprintf(msg, sizeof msg, format, ap);
  va_end(ap);
  d->status = status;
  error_set(d->err, status, "%s, offset 0x%zx: %s", d->where, offset, msg);
  return false;
}

#define MALFORMED(d, off, ...) fail_at((d), (off), KILN_ERR_MALFORMED, __VA_ARGS__)

static bool nomem(decoder *d, size_t offset) {
  return fail_at(d, offset, KILN_ERR_NOMEM, "out of memory");
}

/* A reader call failed: report its reason. `at` is where the failed item started. */
static bool read_failed(decoder *d, const reader *r, size_t at) {
  const char *msg = r->error ? r->error : "unexpected end";
  if (strcmp(msg, "unexpected end") == 0) {
    /* ran off the end of a section or function body rather than the whole module */
    if (r->end < d->m->size) msg = "unexpected end of section or function";
    return MALFORMED(d, r->pos, "%s", msg);
  }
  return MALFORMED(d, at, "%s", msg);
}

static void set_where(decoder *d, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void set_where(decoder *d, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vsnprintf(d->where, sizeof d->where, format, ap);
  va_end(ap);
}

/* calloc that treats n == 0 as "nothing to allocate" (returns NULL without failing). */
static void *alloc_array(decoder *d, size_t n, size_t elem_size, size_t offset, bool *ok) {
  *ok = true;
  if (n == 0) return NULL;
  void *p = calloc(n, elem_size);
  if (!p) *ok = nomem(d, offset);
  return p;
}

/* ---------------------------------------------------------------- primitive reads */

static bool get_u8(decoder *d, reader *r, uint8_t *out) {
  size_t at = r->pos;
  if (!read_u8(r, out)) {
    *out = 0;
    read_failed(d, r, at);
    return false;
  }
  return true;
}

static bool get_u32(decoder *d, reader *r, uint32_t *out) {
  size_t at = r->pos;
  if (!read_u32(r, out)) {
    *out = 0;
    read_failed(d, r, at);
    return false;
  }
  return true;
}

static size_t remaining(const reader *r) { return r->pos < r->end ? r->end - r->pos : 0; }

/* A vector length or byte count: a u32 checked, before anything is allocated for it,
 * against the bytes left, given that every element takes at least min_size bytes. */
static bool get_count(decoder *d, reader *r, uint32_t *out, uint32_t min_size) {
  size_t at = r->pos;
  if (!get_u32(d, r, out)) return false;
  if ((uint64_t)*out * min_size > remaining(r)) {
    if (min_size == 1) return MALFORMED(d, at, "length out of bounds (%u, %zu bytes left)", *out, remaining(r));
    return MALFORMED(d, at, "length out of bounds (%u entries of at least %u bytes, %zu bytes left)", *out,
                     min_size, remaining(r));
  }
  return true;
}

static bool get_len(decoder *d, reader *r, uint32_t *out) { return get_count(d, r, out, 1); }

static bool skip_bytes(decoder *d, reader *r, size_t n) {
  if (remaining(r) < n) {
    r->pos = r->end;
    r->error = "unexpected end";
    return read_failed(d, r, r->pos);
  }
  r->pos += n;
  return true;
}

/* n bytes copied to out, failing as skip_bytes does. */
static bool get_fixed(decoder *d, reader *r, void *out, size_t n) {
  size_t at = r->pos;
  if (!skip_bytes(d, r, n)) return false;
  memcpy(out, r->bytes + at, n);
  return true;
}

static bool utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false; /* continuation byte, overlong 2-byte lead, or beyond U+10FFFF */
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3Fu);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
    i += len;
  }
  return true;
}

/* A name: length, UTF-8 bytes. Returns a NUL-terminated copy. */
static bool get_name(decoder *d, reader *r, char **out, uint32_t *out_len) {
  size_t at = r->pos;
  uint32_t len;
  if (!get_len(d, r, &len)) return false;
  const uint8_t *s = r->bytes + r->pos;
  if (!utf8_valid(s, len)) return MALFORMED(d, at, "malformed UTF-8 encoding");
  char *copy = malloc((size_t)len + 1);
  if (!copy) return nomem(d, at);
  memcpy(copy, s, len);
  copy[len] = '\0';
  r->pos += len;
  *out = copy;
  if (out_len) *out_len = len;
  return true;
}

/* ---------------------------------------------------------------- types */

static bool is_valtype(uint8_t b) {
  switch (b) {
    case VT_I32: case VT_I64: case VT_F32: case VT_F64: case VT_V128:
    case VT_FUNCREF: case VT_EXTERNREF:
      return true;
    default:
      return false;
  }
}

/* Type bytes are one-byte signed LEB128 in the spec's grammar: a byte with the continuation
 * bit set is an over-long integer, anything else unknown is simply not a type. */
static bool get_valtype(decoder *d, reader *r, uint8_t *out) {
  size_t at = r->pos;
  if (!get_u8(d, r, out)) return false;
  if (is_valtype(*out)) return true;
  if (*out & 0x80) return MALFORMED(d, at, "malformed value type 0x%02x: integer representation too long", *out);
  return MALFORMED(d, at, "malformed value type 0x%02x", *out);
}

static bool get_reftype(decoder *d, reader *r, uint8_t *out) {
  size_t at = r->pos;
  if (!get_u8(d, r, out)) return false;
  if (*out == VT_FUNCREF || *out == VT_EXTERNREF) return true;
  return MALFORMED(d, at, "malformed reference type 0x%02x", *out);
}

/* Limits: flags 0x00 (min) or 0x01 (min, max); both u32. For a memory also 0x03, a shared
 * memory of the threads proposal (min, max), as Node's V8 and other engines accept it;
 * 0x02, shared without a maximum, is invalid there and malformed in WebAssembly 2.0. Other
 * flags are "integer too large" (the flags were a one-bit LEB128), a continuation bit
 * "integer representation too long". */
static bool get_limits(decoder *d, reader *r, limits *out, bool memory) {
  size_t at = r->pos;
  uint8_t flags;
  if (!get_u8(d, r, &flags)) return false;
  out->shared = memory && flags == 0x03;
  if (flags > 1 && !out->shared) {
    if (flags & 0x80) return MALFORMED(d, at, "malformed limits flags 0x%02x: integer representation too long", flags);
    if (memory && flags == 0x02)
      return MALFORMED(d, at, "malformed limits flags 0x02: integer too large (a shared memory needs a maximum)");
    return MALFORMED(d, at, "malformed limits flags 0x%02x: integer too large", flags);
  }
  uint32_t v;
  if (!get_u32(d, r, &v)) return false;
  out->min = v;
  out->has_max = flags & 1;
  out->max = 0;
  if (out->has_max) {
    if (!get_u32(d, r, &v)) return false;
    out->max = v;
  }
  return true;
}

static bool get_tabletype(decoder *d, reader *r, tabletype *out) {
  return get_reftype(d, r, &out->elem_type) && get_limits(d, r, &out->lim, false);
}

static bool get_globaltype(decoder *d, reader *r, globaltype *out) {
  if (!get_valtype(d, r, &out->type)) return false;
  size_t at = r->pos;
  uint8_t mut;
  if (!get_u8(d, r, &mut)) return false;
  if (mut > 1) return MALFORMED(d, at, "malformed mutability 0x%02x", mut);
  out->is_mutable = mut == 1;
  return true;
}

/* ---------------------------------------------------------------- constant expressions */

/* Is b a one-byte opcode (or prefix) of WebAssembly 2.0? */
static bool opcode_defined(uint8_t b) {
  return b <= 0x05 || (b >= 0x0B && b <= 0x11) || (b >= 0x1A && b <= 0x1C) ||
         (b >= 0x20 && b <= 0x26) || (b >= 0x28 && b <= 0xC4) || (b >= 0xD0 && b <= 0xD2) ||
         b == 0xFC || b == 0xFD;
}

static bool not_constant(decoder *d, size_t at, const char *what) {
  return fail_at(d, at, KILN_ERR_INVALID, "constant expression required (%s)", what);
}

/* One constant-expression instruction that pushes a value: the first one is the expression. */
static void const_push(const_expr *out, uint8_t kind, uint8_t type) {
  if (out->value_count++ == 0) {
    out->kind = kind;
    out->type = type;
  } else if (out->value_count == 0) {
    out->value_count = UINT8_MAX;
  }
}

/* A constant expression, up to and including its final end, into *out. Non-constant
 * instructions are a validation error (reported here because their extent is unknown);
 * undefined opcodes and bad immediates are malformed. Extended-constant arithmetic and
 * anything but one value are left in *out for validation to reject. */
static bool decode_const_expr(decoder *d, reader *r, const_expr *out) {
  memset(out, 0, sizeof *out);
  out->at = (uint32_t)r->pos;
  for (;;) {
    size_t at = r->pos;
    uint8_t op;
    if (!get_u8(d, r, &op)) return false;
    bool first = out->value_count == 0;
    switch (op) {
      case 0x0B: /* end */
        return true;
      case 0x41: { /* i32.const */
        int32_t v;
        if (!read_s32(r, &v)) return read_failed(d, r, at + 1);
        if (first) out->bits[0] = (uint32_t)v;
        const_push(out, CONST_VALUE, VT_I32);
        break;
      }
      case 0x42: { /* i64.const */
        int64_t v;
        if (!read_s64(r, &v)) return read_failed(d, r, at + 1);
        if (first) out->bits[0] = (uint64_t)v;
        const_push(out, CONST_VALUE, VT_I64);
        break;
      }
      case 0x43: { /* f32.const */
        uint32_t v;
        if (!get_fixed(d, r, &v, 4)) return false;
        if (first) out->bits[0] = v;
        const_push(out, CONST_VALUE, VT_F32);
        break;
      }
      case 0x44: { /* f64.const */
        uint64_t v;
        if (!get_fixed(d, r, &v, 8)) return false;
        if (first) out->bits[0] = v;
        const_push(out, CONST_VALUE, VT_F64);
        break;
      }
      case 0x23: /* global.get */
      case 0xD2: { /* ref.func */
        uint32_t x;
        if (!get_u32(d, r, &x)) return false;
        if (first) out->index = x;
        const_push(out, op == 0x23 ? CONST_GLOBAL_GET : CONST_REF_FUNC, op == 0x23 ? 0 : VT_FUNCREF);
        break;
      }
      case 0xD0: { /* ref.null t */
        uint8_t t;
        if (!get_reftype(d, r, &t)) return false;
        const_push(out, CONST_VALUE, t);
        break;
      }
      case 0x6A: case 0x6B: case 0x6C: /* i32.add/sub/mul (extended constant expressions) */
      case 0x7C: case 0x7D: case 0x7E: /* i64.add/sub/mul */
        if (!out->non_const_at) out->non_const_at = (uint32_t)at;
        break;
      case 0xFC: {
        uint32_t sub;
        if (!get_u32(d, r, &sub)) return false;
        if (sub <= 17) return not_constant(d, at, "0xfc prefixed instruction");
        return MALFORMED(d, at, "illegal opcode 0xfc %u", sub);
      }
      case 0xFD: {
        uint32_t sub;
        if (!get_u32(d, r, &sub)) return false;
        if (sub == 12) { /* v128.const */
          uint8_t bytes[16];
          if (!get_fixed(d, r, bytes, 16)) return false;
          if (first) memcpy(out->bits, bytes, 16);
          const_push(out, CONST_VALUE, VT_V128);
          break;
        }
        if (sub <= 0xFF) return not_constant(d, at, "SIMD instruction");
        return MALFORMED(d, at, "illegal opcode 0xfd %u", sub);
      }
      default:
        if (opcode_defined(op)) {
          char what[32];
          snprintf(what, sizeof what, "opcode 0x%02x", op);
          return not_constant(d, at, what);
        }
        return MALFORMED(d, at, "illegal opcode 0x%02x", op);
    }
  }
}

/* ---------------------------------------------------------------- index spaces */

/* Allocate the array of one index space (imports first, then `defined` own items) and
 * fill in the imported entries. */
static bool build_space(decoder *d, uint8_t kind, uint32_t defined, size_t at) {
  module_decl *m = d->m;
  uint32_t imported = 0;
  switch (kind) {
    case KILN_EXTERN_FUNC: imported = m->imported_func_count; break;
    case KILN_EXTERN_TABLE: imported = m->imported_table_count; break;
    case KILN_EXTERN_MEMORY: imported = m->imported_memory_count; break;
    default: imported = m->imported_global_count; break;
  }
  uint64_t total64 = (uint64_t)imported + defined;
  if (total64 > UINT32_MAX) return MALFORMED(d, at, "too many definitions");
  uint32_t total = (uint32_t)total64;
  bool ok = true;
  switch (kind) {
    case KILN_EXTERN_FUNC:
      m->func_types = alloc_array(d, total, sizeof *m->func_types, at, &ok);
      if (ok) m->func_count = total;
      break;
    case KILN_EXTERN_TABLE:
      m->tables = alloc_array(d, total, sizeof *m->tables, at, &ok);
      if (ok) m->table_count = total;
      break;
    case KILN_EXTERN_MEMORY:
      m->memories = alloc_array(d, total, sizeof *m->memories, at, &ok);
      if (ok) m->memory_count = total;
      break;
    default:
      m->global_types = alloc_array(d, total, sizeof *m->global_types, at, &ok);
      if (ok) m->global_count = total;
      break;
  }
  if (!ok) return false;
  uint32_t k = 0;
  for (uint32_t i = 0; i < m->import_count; i++) {
    const import_desc *im = &m->imports[i];
    if (im->kind != kind) continue;
    switch (kind) {
      case KILN_EXTERN_FUNC: m->func_types[k] = im->type_index; break;
      case KILN_EXTERN_TABLE: m->tables[k] = im->table; break;
      case KILN_EXTERN_MEMORY: m->memories[k] = im->memory; break;
      default: m->global_types[k] = im->global; break;
    }
    k++;
  }
  return true;
}

/* ---------------------------------------------------------------- sections */

static bool sec_type(decoder *d, reader *r) {
  module_decl *m = d->m;
  uint32_t n;
  if (!get_count(d, r, &n, 3)) return false;
  bool ok;
  m->types = alloc_array(d, n, sizeof *m->types, r->pos, &ok);
  if (!ok) return false;
  m->type_count = n;
  for (uint32_t i = 0; i < n; i++) {
    functype *ft = &m->types[i];
    size_t at = r->pos;
    uint8_t form;
    if (!get_u8(d, r, &form)) return false;
    if (form != 0x60) {
      if (form & 0x80) return MALFORMED(d, at, "malformed function type 0x%02x: integer representation too long", form);
      return MALFORMED(d, at, "malformed function type 0x%02x", form);
    }
    uint32_t np, nr;
    if (!get_len(d, r, &np)) return false;
    /* params are read before the result count is known: read them into a buffer sized
     * by the bytes they occupy, then the results, then assemble */
    uint8_t *params = alloc_array(d, np, 1, r->pos, &ok);
    if (!ok) return false;
    for (uint32_t k = 0; k < np; k++) {
      if (!get_valtype(d, r, &params[k])) {
        free(params);
        return false;
      }
    }
    if (!get_len(d, r, &nr)) {
      free(params);
      return false;
    }
    size_t total = (size_t)np + nr;
    /* one spare byte: types is never NULL, so types + param_count is a valid pointer even
     * for [] -> [] (the registry and host functions keep the same invariant) */
    uint8_t *types = alloc_array(d, total + 1, 1, r->pos, &ok);
    if (!ok) {
      free(params);
      return false;
    }
    if (np) memcpy(types, params, np);
    free(params);
    ft->types = types;
    ft->param_count = np;
    ft->result_count = nr;
    for (uint32_t k = 0; k < nr; k++) {
      if (!get_valtype(d, r, &types[np + k])) return false;
    }
    functype_layout(ft);
  }
  return true;
}

static bool sec_import(decoder *d, reader *r) {
  module_decl *m = d->m;
  uint32_t n;
  if (!get_count(d, r, &n, 4)) return false;
  bool ok;
  m->imports = alloc_array(d, n, sizeof *m->imports, r->pos, &ok);
  if (!ok) return false;
  m->import_count = n;
  for (uint32_t i = 0; i < n; i++) {
    import_desc *im = &m->imports[i];
    if (!get_name(d, r, &im->module, &im->module_len) || !get_name(d, r, &im->name, &im->name_len)) return false;
    size_t at = r->pos;
    if (!get_u8(d, r, &im->kind)) return false;
    switch (im->kind) {
      case KILN_EXTERN_FUNC:
        if (!get_u32(d, r, &im->type_index)) return false;
        m->imported_func_count++;
        break;
      case KILN_EXTERN_TABLE:
        if (!get_tabletype(d, r, &im->table)) return false;
        m->imported_table_count++;
        break;
      case KILN_EXTERN_MEMORY:
        if (!get_limits(d, r, &im->memory, true)) return false;
        m->imported_memory_count++;
        break;
      case KILN_EXTERN_GLOBAL:
        if (!get_globaltype(d, r, &im->global)) return false;
        m->imported_global_count++;
        break;
      default:
        return MALFORMED(d, at, "malformed import kind 0x%02x", im->kind);
    }
  }
  return true;
}

static bool sec_function(decoder *d, reader *r) {
  module_decl *m = d->m;
  uint32_t n;
  size_t at = r->pos;
  if (!get_len(d, r, &n)) return false;
  if (!build_space(d, KILN_EXTERN_FUNC, n, at)) return false;
  d->defined_funcs = n;
  for (uint32_t i = 0; i < n; i++) {
    if (!get_u32(d, r, &m->func_types[m->imported_func_count + i])) return false;
  }
  return true;
}

static bool sec_table(decoder *d, reader *r) {
  module_decl *m = d->m;
  uint32_t n;
  size_t at = r->pos;
  if (!get_count(d, r, &n, 3)) return false;
  if (!build_space(d, KILN_EXTERN_TABLE, n, at)) return false;
  for (uint32_t i = 0; i < n; i++) {
    if (!get_tabletype(d, r, &m->tables[m->imported_table_count + i])) return false;
  }
  return true;
}

static bool sec_memory(decoder *d, reader *r) {
  module_decl *m = d->m;
  uint32_t n;
  size_t at = r->pos;
  if (!get_count(d, r, &n, 2)) return false;
  if (!build_space(d, KILN_EXTERN_MEMORY, n, at)) return false;
  for (uint32_t i = 0; i < n; i++) {
    if (!get_limits(d, r, &m->memories[m->imported_memory_count + i], true)) return false;
  }
  return true;
}

static bool sec_global(decoder *d, reader *r) {
  module_decl *m = d->m;
  uint32_t n;
  size_t at = r->pos;
  if (!get_count(d, r, &n, 3)) return false;
  if (!build_space(d, KILN_EXTERN_GLOBAL, n, at)) return false;
  bool ok;
  m->globals = alloc_array(d, n, sizeof *m->globals, at, &ok);
  if (!ok) return false;
  for (uint32_t i = 0; i < n; i++) {
    global_def *g = &m->globals[i];
    if (!get_globaltype(d, r, &g->type)) return false;
    m->global_types[m->imported_global_count + i] = g->type;
    if (!decode_const_expr(d, r, &g->init)) return false;
  }
  return true;
}

static bool sec_export(decoder *d, reader *r) {
  module_decl *m = d->m;
  uint32_t n;
  if (!get_count(d, r, &n, 3)) return false;
  bool ok;
  m->exports = alloc_array(d, n, sizeof *m->exports, r->pos, &ok);
  if (!ok) return false;
  m->export_count = n;
  for (uint32_t i = 0; i < n; i++) {
    export_desc *ex = &m->exports[i];
    if (!get_name(d, r, &ex->name, &ex->name_len)) return false;
    size_t at = r->pos;
    if (!get_u8(d, r, &ex->kind)) return false;
    if (ex->kind > KILN_EXTERN_GLOBAL) return MALFORMED(d, at, "malformed export kind 0x%02x", ex->kind);
    if (!get_u32(d, r, &ex->index)) return false;
  }
  return true;
}

static bool sec_start(decoder *d, reader *r) {
  if (!get_u32(d, r, &d->m->start_func)) return false;
  d->m->has_start = true;
  return true;
}

static bool sec_element(decoder *d, reader *r) {
  module_decl *m = d->m;
  uint32_t n;
  if (!get_count(d, r, &n, 3)) return false;
  bool ok;
  m->elems = alloc_array(d, n, sizeof *m->elems, r->pos, &ok);
  if (!ok) return false;
  m->elem_count = n;
  for (uint32_t i = 0; i < n; i++) {
    elem_segment *seg = &m->elems[i];
    size_t at = r->pos;
    uint32_t flags;
    if (!get_u32(d, r, &flags)) return false;
    if (flags > 7) return MALFORMED(d, at, "malformed elements segment kind %u", flags);
    /* bit 0: passive or declarative; bit 1: explicit table index (active) or declarative
     * (passive); bit 2: expressions instead of function indices */
    bool uses_exprs = (flags & 4) != 0;
    if (flags & 1) {
      seg->mode = (flags & 2) ? SEG_DECLARATIVE : SEG_PASSIVE;
    } else {
      seg->mode = SEG_ACTIVE;
      seg->table_index = 0;
      if ((flags & 2) && !get_u32(d, r, &seg->table_index)) return false;
      if (!decode_const_expr(d, r, &seg->offset)) return false;
    }
    seg->elem_type = VT_FUNCREF;
    if (flags & 3) { /* encodings 1,2,3 have an element kind, 5,6,7 a reference type */
      if (uses_exprs) {
        if (!get_reftype(d, r, &seg->elem_type)) return false;
      } else {
        size_t kat = r->pos;
        uint8_t kind;
        if (!get_u8(d, r, &kind)) return false;
        if (kind != 0x00) return MALFORMED(d, kat, "malformed element kind 0x%02x", kind);
      }
    }
    uint32_t count;
    if (!get_len(d, r, &count)) return false;
    seg->count = count;
    if (uses_exprs) {
      seg->exprs = alloc_array(d, count, sizeof *seg->exprs, r->pos, &ok);
      if (!ok) return false;
      for (uint32_t k = 0; k < count; k++) {
        if (!decode_const_expr(d, r, &seg->exprs[k])) return false;
      }
    } else {
      seg->func_indices = alloc_array(d, count, sizeof *seg->func_indices, r->pos, &ok);
      if (!ok) return false;
      for (uint32_t k = 0; k < count; k++) {
        if (!get_u32(d, r, &seg->func_indices[k])) return false;
      }
    }
  }
  return true;
}

static bool sec_data_count(decoder *d, reader *r) {
  if (!get_u32(d, r, &d->m->data_count)) return false;
  d->m->has_data_count = true;
  return true;
}

static bool sec_code(decoder *d, reader *r) {
  module_decl *m = d->m;
  uint32_t n;
  if (!get_count(d, r, &n, 3)) return false;
  bool ok;
  m->bodies = alloc_array(d, n, sizeof *m->bodies, r->pos, &ok);
  if (!ok) return false;
  m->body_count = n;
  for (uint32_t i = 0; i < n; i++) {
    func_body *fb = &m->bodies[i];
    set_where(d, "code section, function %llu", (unsigned long long)m->imported_func_count + i);
    fb->body_start = (uint32_t)r->pos;
    uint32_t size;
    if (!get_u32(d, r, &size)) return false;
    if (size > remaining(r))
      return MALFORMED(d, fb->body_start, "unexpected end of section or function (body size %u, %zu bytes left)",
                       size, remaining(r));
    reader b = reader_make(r->bytes, r->pos, r->pos + size);
    r->pos += size;
    size_t at = b.pos;
    uint32_t runs;
    if (!get_count(d, &b, &runs, 2)) return false;
    fb->local_runs = alloc_array(d, runs, sizeof *fb->local_runs, at, &ok);
    if (!ok) return false;
    fb->local_run_count = runs;
    uint64_t total = 0;
    for (uint32_t k = 0; k < runs; k++) {
      local_run *lr = &fb->local_runs[k];
      if (!get_u32(d, &b, &lr->count) || !get_valtype(d, &b, &lr->type)) return false;
      total += lr->count;
    }
    if (total > UINT32_MAX) return MALFORMED(d, at, "too many locals (%llu)", (unsigned long long)total);
    fb->local_count = total;
    /* Every well-formed body ends with the end opcode of its instruction sequence. */
    if (b.pos >= b.end || b.bytes[b.end - 1] != 0x0B)
      return MALFORMED(d, b.end, "unexpected end of section or function (function body does not end with end)");
    fb->code.start = (uint32_t)b.pos;
    fb->code.end = (uint32_t)b.end;
  }
  set_where(d, "code section");
  return true;
}

static bool sec_data(decoder *d, reader *r) {
  module_decl *m = d->m;
  uint32_t n;
  if (!get_count(d, r, &n, 2)) return false;
  bool ok;
  m->datas = alloc_array(d, n, sizeof *m->datas, r->pos, &ok);
  if (!ok) return false;
  m->data_segment_count = n;
  for (uint32_t i = 0; i < n; i++) {
    data_segment *seg = &m->datas[i];
    size_t at = r->pos;
    uint32_t flags;
    if (!get_u32(d, r, &flags)) return false;
    if (flags > 2) return MALFORMED(d, at, "malformed data segment kind %u", flags);
    if (flags == 1) {
      seg->mode = SEG_PASSIVE;
    } else {
      seg->mode = SEG_ACTIVE;
      seg->memory_index = 0;
      if (flags == 2 && !get_u32(d, r, &seg->memory_index)) return false;
      if (!decode_const_expr(d, r, &seg->offset)) return false;
    }
    uint32_t len;
    if (!get_len(d, r, &len)) return false;
    seg->bytes.start = (uint32_t)r->pos;
    seg->bytes.end = (uint32_t)(r->pos + len);
    r->pos += len;
  }
  return true;
}

static bool sec_custom(decoder *d, reader *r) {
  module_decl *m = d->m;
  char *name;
  if (!get_name(d, r, &name, NULL)) return false;
  if (m->custom_count == d->custom_cap) {
    uint32_t cap = d->custom_cap ? d->custom_cap * 2 : 4;
    custom_section *grown = realloc(m->customs, (size_t)cap * sizeof *grown);
    if (!grown) {
      free(name);
      return nomem(d, r->pos);
    }
    m->customs = grown;
    d->custom_cap = cap;
  }
  custom_section *c = &m->customs[m->custom_count++];
  c->name = name;
  c->contents.start = (uint32_t)r->pos;
  c->contents.end = (uint32_t)r->end;
  r->pos = r->end;
  return true;
}

/* ---------------------------------------------------------------- name section */

/* Parse the function names of a "name" section, best effort: anything unexpected drops
 * the names and leaves the module as it is. */
static void parse_name_section(module_decl *m, byte_range contents) {
  if (m->func_count == 0 || m->func_names) return;
  reader r = reader_make(m->bytes, contents.start, contents.end);
  char **names = NULL;
  bool seen_any = false;
  uint8_t last_id = 0;
  while (!reader_at_end(&r)) {
    uint8_t id;
    uint32_t size;
    if (!read_u8(&r, &id) || !read_u32(&r, &size) || size > remaining(&r)) goto bad;
    if (seen_any && id <= last_id) goto bad;
    seen_any = true;
    last_id = id;
    reader s = reader_make(m->bytes, r.pos, r.pos + size);
    r.pos += size;
    if (id != 1) continue;
    uint32_t n;
    if (!read_u32(&s, &n) || n > remaining(&s)) goto bad;
    names = calloc(m->func_count, sizeof *names);
    if (!names) goto bad;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t index, len;
      if (!read_u32(&s, &index) || !read_u32(&s, &len) || len > remaining(&s)) goto bad;
      const uint8_t *str = s.bytes + s.pos;
      s.pos += len;
      if (!utf8_valid(str, len)) goto bad;
      if (index >= m->func_count || names[index]) continue;
      names[index] = malloc((size_t)len + 1);
      if (!names[index]) goto bad;
      memcpy(names[index], str, len);
      names[index][len] = '\0';
    }
    if (!reader_at_end(&s)) goto bad;
  }
  m->func_names = names;
  return;
bad:
  if (names) {
    for (uint32_t i = 0; i < m->func_count; i++) free(names[i]);
    free(names);
  }
}

/* ---------------------------------------------------------------- module */

static const char *section_name(uint8_t id) {
  static const char *const names[] = {"custom", "type",    "import", "function", "table",
                                      "memory", "global",  "export", "start",    "element",
                                      "code",   "data",    "data count"};
  return id < sizeof names / sizeof names[0] ? names[id] : "unknown";
}

/* Position of a non-custom section in the required order. */
static int section_rank(uint8_t id) {
  switch (id) {
    case 12: return 10;  /* data count: after element, before code */
    case 10: return 11;
    case 11: return 12;
    default: return id;  /* type 1 .. element 9 */
  }
}

static bool decode_sections(decoder *d) {
  module_decl *m = d->m;
  const uint8_t *b = m->bytes;
  size_t size = m->size;

  set_where(d, "module header");
  if (size < 4) return MALFORMED(d, size, "unexpected end");
  if (memcmp(b, "\0asm", 4) != 0) return MALFORMED(d, 0, "magic header not detected");
  if (size < 8) return MALFORMED(d, size, "unexpected end");
  if (memcmp(b + 4, "\1\0\0\0", 4) != 0) return MALFORMED(d, 4, "unknown binary version");

  reader top = reader_make(b, 8, size);
  int last_rank = 0;
  while (!reader_at_end(&top)) {
    size_t sec_at = top.pos;
    uint8_t id = b[top.pos++];
    if (id > 12) {
      set_where(d, "section id 0x%02x", id);
      return MALFORMED(d, sec_at, "malformed section id");
    }
    set_where(d, "%s section", section_name(id));
    uint32_t sec_size;
    if (!get_u32(d, &top, &sec_size)) return false;
    if (sec_size > remaining(&top))
      return MALFORMED(d, sec_at, "length out of bounds (section size %u, %zu bytes left)", sec_size,
                       remaining(&top));
    if (id != 0) {
      int rank = section_rank(id);
      if (rank <= last_rank)
        return MALFORMED(d, sec_at, "unexpected content after last section (section out of order or duplicated)");
      last_rank = rank;
    }
    reader r = reader_make(b, top.pos, top.pos + sec_size);
    top.pos += sec_size;
    bool ok;
    switch (id) {
      case 0: ok = sec_custom(d, &r); break;
      case 1: ok = sec_type(d, &r); break;
      case 2: ok = sec_import(d, &r); break;
      case 3: ok = sec_function(d, &r); break;
      case 4: ok = sec_table(d, &r); break;
      case 5: ok = sec_memory(d, &r); break;
      case 6: ok = sec_global(d, &r); break;
      case 7: ok = sec_export(d, &r); break;
      case 8: ok = sec_start(d, &r); break;
      case 9: ok = sec_element(d, &r); break;
      case 10: ok = sec_code(d, &r); break;
      case 11: ok = sec_data(d, &r); break;
      default: ok = sec_data_count(d, &r); break;
    }
    if (!ok) return false;
    if (r.pos != r.end) return MALFORMED(d, r.pos, "section size mismatch");
  }

  set_where(d, "module");
  if (d->defined_funcs != m->body_count)
    return MALFORMED(d, size, "function and code section have inconsistent lengths (%u functions, %u bodies)",
                     d->defined_funcs, m->body_count);
  if (m->has_data_count && m->data_count != m->data_segment_count)
    return MALFORMED(d, size, "data count and data section have inconsistent lengths (%u, %u)", m->data_count,
                     m->data_segment_count);

  /* index spaces with imports but no section of their own */
  if (!m->func_types && m->imported_func_count && !build_space(d, KILN_EXTERN_FUNC, 0, size)) return false;
  if (!m->tables && m->imported_table_count && !build_space(d, KILN_EXTERN_TABLE, 0, size)) return false;
  if (!m->memories && m->imported_memory_count && !build_space(d, KILN_EXTERN_MEMORY, 0, size)) return false;
  if (!m->global_types && m->imported_global_count && !build_space(d, KILN_EXTERN_GLOBAL, 0, size)) return false;

  for (uint32_t i = 0; i < m->custom_count; i++) {
    if (strcmp(m->customs[i].name, "name") == 0) {
      parse_name_section(m, m->customs[i].contents);
      break;
    }
  }
  return true;
}

kiln_status decode_module(const uint8_t *bytes, size_t size, bool borrow, module_decl *m, kiln_error *err) {
  memset(m, 0, sizeof *m);
  decoder d;
  memset(&d, 0, sizeof d);
  d.m = m;
  d.err = err;
  d.status = KILN_OK;
  set_where(&d, "module");
  if (size > UINT32_MAX)
    return error_set(err, KILN_ERR_LIMIT, "module, offset 0x0: module larger than 4 GiB (%zu bytes)", size);
  if (size > 0 && !bytes) return error_set(err, KILN_ERR_ARGUMENT, "module, offset 0x0: no bytes");
  if (borrow) {
    m->bytes = bytes;
    m->borrowed = true;
  } else {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return error_set(err, KILN_ERR_NOMEM, "module, offset 0x0: out of memory");
    if (size) memcpy(copy, bytes, size);
    m->bytes = copy;
  }
  m->size = size;
  if (!decode_sections(&d)) {
    module_decl_free(m);
    return d.status;
  }
  return KILN_OK;
}

void module_decl_free(module_decl *m) {
  if (!m) return;
  if (m->types)
    for (uint32_t i = 0; i < m->type_count; i++) free(m->types[i].types);
  free(m->types);
  if (m->imports)
    for (uint32_t i = 0; i < m->import_count; i++) {
      free(m->imports[i].module);
      free(m->imports[i].name);
    }
  free(m->imports);
  free(m->func_types);
  free(m->tables);
  free(m->memories);
  free(m->global_types);
  free(m->globals);
  if (m->exports)
    for (uint32_t i = 0; i < m->export_count; i++) free(m->exports[i].name);
  free(m->exports);
  if (m->elems)
    for (uint32_t i = 0; i < m->elem_count; i++) {
      free(m->elems[i].func_indices);
      free(m->elems[i].exprs);
    }
  free(m->elems);
  if (m->bodies)
    for (uint32_t i = 0; i < m->body_count; i++) free(m->bodies[i].local_runs);
  free(m->bodies);
  free(m->datas);
  if (m->customs)
    for (uint32_t i = 0; i < m->custom_count; i++) free(m->customs[i].name);
  free(m->customs);
  if (m->func_names)
    for (uint32_t i = 0; i < m->func_count; i++) free(m->func_names[i]);
  free(m->func_names);
  if (!m->borrowed) free((void *)m->bytes);
  memset(m, 0, sizeof *m);
}
