/* module.h - the decoded form of a WebAssembly module: plain structs filled by decode.c,
 * checked by validate/, compiled by compile/, instantiated by runtime/. */
#ifndef KILN_MODULE_H
#define KILN_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

/* Value type bytes as in the binary format (same numbers as kiln_valtype). */
enum {
  VT_I32 = 0x7F,
  VT_I64 = 0x7E,
  VT_F32 = 0x7D,
  VT_F64 = 0x7C,
  VT_V128 = 0x7B,
  VT_FUNCREF = 0x70,
  VT_EXTERNREF = 0x6F,
};

/* Byte range [start, end) inside module->bytes. */
typedef struct byte_range {
  uint32_t start;
  uint32_t end;
} byte_range;

typedef struct functype {
  uint32_t param_count;
  uint32_t result_count;
  uint8_t *types;        /* param_count params then result_count results (VT_*); never NULL */
  uint32_t type_id;      /* canonical id in the engine's type registry (set after decode) */
  /* Set by functype_layout() once the types are known: the 8-byte value-stack slots the
   * params and the results take (v128 two), and whether every type is numeric. */
  uint32_t param_slots, result_slots;
  bool numeric;
} functype;

/* Number of 8-byte slots a value of this type takes. */
static inline uint32_t valtype_slots(uint8_t t) { return t == VT_V128 ? 2 : 1; }

static inline void functype_layout(functype *t) {
  t->param_slots = t->result_slots = 0;
  t->numeric = true;
  for (uint32_t i = 0; i < t->param_count + t->result_count; i++) {
    uint8_t v = t->types[i];
    uint32_t slots = valtype_slots(v);
    if (i < t->param_count) t->param_slots += slots;
    else t->result_slots += slots;
    if (v == VT_FUNCREF || v == VT_EXTERNREF) t->numeric = false;
  }
}

/* The slots a call of this type needs where its frame starts: its params go in, its
 * results come back in the same place. */
static inline uint32_t functype_call_slots(const functype *t) {
  return t->param_slots > t->result_slots ? t->param_slots : t->result_slots;
}

typedef struct limits {
  uint64_t min;
  uint64_t max;
  bool has_max;
  bool shared; /* a shared memory (flags 0x03) */
} limits;

typedef struct tabletype {
  uint8_t elem_type;     /* VT_FUNCREF or VT_EXTERNREF */
  limits lim;
} tabletype;

typedef struct globaltype {
  uint8_t type;
  bool is_mutable;
} globaltype;

typedef struct import_desc {
  char *module;          /* NUL-terminated, validated UTF-8 (may contain NUL: see the lengths) */
  char *name;
  uint32_t module_len, name_len;
  uint8_t kind;          /* KILN_EXTERN_* */
  uint32_t type_index;   /* KILN_EXTERN_FUNC: index into types */
  tabletype table;       /* KILN_EXTERN_TABLE */
  limits memory;         /* KILN_EXTERN_MEMORY */
  globaltype global;     /* KILN_EXTERN_GLOBAL */
} import_desc;

typedef struct export_desc {
  char *name;
  uint32_t name_len;
  uint8_t kind;          /* KILN_EXTERN_* */
  uint32_t index;        /* in the space of that kind (imports first) */
} export_desc;

/* A constant expression (global initialiser, segment offset, element), decoded once here,
 * checked by validate_const_expr and evaluated at instantiation. WebAssembly 2.0 allows one
 * instruction before the end; the fields after `kind` say what validation must reject. */
enum { CONST_VALUE = 0, CONST_GLOBAL_GET = 1, CONST_REF_FUNC = 2 };

typedef struct const_expr {
  uint8_t kind;          /* CONST_*: of the first instruction */
  uint8_t type;          /* CONST_VALUE: VT_* of bits (ref.null: its reference type) */
  uint8_t value_count;   /* instructions that push a value (saturating): valid only when 1 */
  uint32_t at;           /* offset of the expression's first byte, for messages */
  uint32_t non_const_at; /* offset of an instruction that is not constant (i32.add, ...), or 0 */
  uint32_t index;        /* CONST_GLOBAL_GET: the global; CONST_REF_FUNC: the function */
  uint64_t bits[2];      /* CONST_VALUE: the value as a global holds it (ref.null: 0) */
} const_expr;

typedef struct global_def {
  globaltype type;
  const_expr init;
} global_def;

typedef struct local_run {
  uint32_t count;
  uint8_t type;
} local_run;

typedef struct func_body {
  uint32_t local_run_count;
  local_run *local_runs; /* compressed local declarations, as in the binary */
  uint64_t local_count;  /* total declared locals (excluding params); decode rejects > UINT32_MAX */
  byte_range code;       /* instructions after the locals, up to and including the final end */
  uint32_t body_start;   /* offset of the body's size field, for messages */
} func_body;

enum { SEG_ACTIVE = 0, SEG_PASSIVE = 1, SEG_DECLARATIVE = 2 };

typedef struct elem_segment {
  uint8_t mode;          /* SEG_* */
  uint32_t table_index;  /* SEG_ACTIVE */
  const_expr offset;     /* SEG_ACTIVE */
  uint8_t elem_type;     /* VT_FUNCREF or VT_EXTERNREF */
  uint32_t count;
  /* Exactly one of these is non-NULL when count > 0: */
  uint32_t *func_indices;  /* encodings 0-3: plain function indices */
  const_expr *exprs;       /* encodings 4-7: one constant expression per element */
} elem_segment;

typedef struct data_segment {
  uint8_t mode;          /* SEG_ACTIVE or SEG_PASSIVE */
  uint32_t memory_index; /* SEG_ACTIVE */
  const_expr offset;     /* SEG_ACTIVE */
  byte_range bytes;
} data_segment;

typedef struct custom_section {
  char *name;
  byte_range contents;   /* after the name */
} custom_section;

/* Everything decode produces. Index spaces: imported items come first, in import order,
 * then the module's own definitions. */
typedef struct module_decl {
  const uint8_t *bytes;  /* the binary: a private copy, or the embedder's when borrowed */
  size_t size;
  bool borrowed;         /* bytes belong to the embedder (kiln_module_new_borrowed) */

  uint32_t type_count;
  functype *types;

  uint32_t import_count;
  import_desc *imports;

  /* Function index space: func_types[i] is the type index of function i, imports first. */
  uint32_t func_count;
  uint32_t imported_func_count;
  uint32_t *func_types;

  uint32_t table_count;
  uint32_t imported_table_count;
  tabletype *tables;     /* all tables, imports first */

  uint32_t memory_count;
  uint32_t imported_memory_count;
  limits *memories;      /* all memories, imports first */

  uint32_t global_count;
  uint32_t imported_global_count;
  globaltype *global_types; /* all globals, imports first */
  global_def *globals;      /* defined globals only: globals[i] is global imported_global_count + i */

  uint32_t export_count;
  export_desc *exports;

  bool has_start;
  uint32_t start_func;

  uint32_t elem_count;
  elem_segment *elems;

  bool has_data_count;
  uint32_t data_count;   /* from the data count section, when present */

  uint32_t body_count;   /* == func_count - imported_func_count once decoded */
  func_body *bodies;

  uint32_t data_segment_count;
  data_segment *datas;

  uint32_t custom_count;
  custom_section *customs;

  /* From the "name" custom section, best effort (a bad name section is ignored):
   * func_names[i] is NULL or a NUL-terminated name for function i. */
  char **func_names;
} module_decl;

/* Decode bytes into *m (which decode zero-initialises); m keeps a copy of them, or with
 * borrow the bytes themselves (which must then outlive m, unchanged). On failure returns
 * KILN_ERR_MALFORMED (or KILN_ERR_NOMEM) with err->message naming the section and offset;
 * *m is left freed. */
kiln_status decode_module(const uint8_t *bytes, size_t size, bool borrow, module_decl *m, kiln_error *err);

/* Free everything decode_module allocated. Safe on a zeroed or partly filled decl. */
void module_decl_free(module_decl *m);

#endif
