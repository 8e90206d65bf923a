/* bindgen.h - what `kiln bindgen` knows of a guest's interface: the types of its exported
 * functions (from wasm-bindgen's descriptor stream or from the custom section written by
 * include/kiln/guest.h), how those types travel through wasm values (the ABI), and the
 * readers of both sources. The readers take plain bytes and never run anything, so
 * fuzz/fuzz_bindgen.c drives them directly. */
#ifndef KILN_CLI_BINDGEN_H
#define KILN_CLI_BINDGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln.h"

/* The kinds of a type. The first group is what kiln supports; the rest are decoded so that
 * an error can name them. */
typedef enum bg_kind {
  BG_I8, BG_U8, BG_I16, BG_U16, BG_I32, BG_U32, BG_I64, BG_U64, BG_F32, BG_F64,
  BG_U8_CLAMPED, /* only as the element of a slice or vector (Clamped<Vec<u8>>) */
  BG_BOOL, BG_CHAR,
  BG_ENUM,      /* a C-style Rust enum: its u32 discriminant; a = the "hole" (None) value */
  BG_STRING,    /* String (owned) */
  BG_REF,       /* &T: inner is the referenced type */
  BG_REFMUT,    /* &mut T */
  BG_SLICE,     /* [T]: only behind a reference */
  BG_VECTOR,    /* Vec<T> / Box<[T]> */
  BG_OPTION, BG_RESULT, BG_UNIT,
  BG_JSVALUE,   /* JsValue (an index in the glue's heap of JS values) */
  BG_RUST_STRUCT, /* an exported #[wasm_bindgen] struct (name): a pointer to its WasmRefCell */
  BG_SELF,      /* the receiver of a method that borrows it (&self or &mut self: the
                 * descriptors do not say which); inner: the struct */
  /* decoded, not supported */
  BG_FUNCTION, BG_CLOSURE, BG_NAMED_JSVALUE, BG_CACHED_STRING, BG_I128, BG_U128,
  BG_STRING_ENUM, BG_DYNAMIC_UNION,
} bg_kind;

/* The wasm-bindgen versions whose modules kiln bindgen reads: 0.2.83 to 0.2.127. Along the
 * way the descriptor words were renumbered, the __wasm_bindgen_unstable section's records
 * grew fields, and the ABI changed (allocator alignment, optional numbers, the heap of JS
 * values, intrinsics as hashed imports with casts); bg_protocol says which applies. */
#define BG_WBG_OLDEST 83
#define BG_WBG_NEWEST 127

typedef struct bg_protocol {
  unsigned minor;        /* wasm-bindgen 0.2.<minor> */
  char version[48];      /* as the module names it ("0.2.100") */
  uint32_t heap_offset;  /* the reserved slots of the heap of JS values: 32, 128 or 1024 */
  bool malloc_align;     /* 0.2.87+: __wbindgen_malloc(size, align), free(ptr, size, align) */
  bool free_delayed;     /* 0.2.93+: __wbg_STRUCT_free(ptr, allow_delayed) */
  bool copies_back;      /* 0.2.84+: a &mut [T] also passes its JS typed array, which Rust
                          * copies the slice back into before freeing it */
  double option_sentinel; /* 0.2.96+: Option<i32|u32|f32> is one f64, None this value; 0: (is_some, value) */
  bool casts;            /* 0.2.102+: intrinsics are hashed imports the section names, and
                          * conversions to JsValue go through __wbindgen_describe_cast */
  uint32_t bool_none;    /* __wbindgen_boolean_get's "not a boolean": 2, 0xFFFFFF from 0.2.102 */
} bg_protocol;

/* The protocol of wasm-bindgen version (e.g. "0.2.100", "0.2.100 (abc123)"), whose section
 * names schema; false with a message naming the version when kiln does not read it. */
bool bg_protocol_of(const char *version, const char *schema, bg_protocol *protocol, char *error,
                    size_t error_size);

/* The protocol of the modules of Debian's wasm-bindgen (0.2.83), for modules without a section. */
void bg_protocol_default(bg_protocol *protocol);

/* The name of descriptor word raw of 0.2.<minor> ("I8", "FUNCTION", ...; wasm-bindgen's), NULL
 * past the last. */
const char *bg_word_name(unsigned minor, uint32_t raw);

#define BG_MAX_NODES 64   /* type nodes per function */
#define BG_MAX_PARAMS 32  /* parameters per function */
#define BG_NAME_MAX 64    /* function, parameter and struct names */
#define BG_DOC_MAX 1024   /* a doc comment, its lines joined (longer ones end at a word, with "...") */

typedef struct bg_node {
  uint8_t kind;   /* bg_kind */
  int8_t inner;   /* index of the inner node (REF, REFMUT, SLICE, VECTOR, OPTION, RESULT), else -1 */
  uint32_t value; /* BG_ENUM: the hole */
  char name[BG_NAME_MAX]; /* BG_RUST_STRUCT, BG_NAMED_JSVALUE */
} bg_node;

/* Which conventions a function follows. */
typedef enum bg_abi {
  BG_ABI_WASM_BINDGEN, /* #[wasm_bindgen]: Rust frees what JS allocates for arguments */
  BG_ABI_KILN_C,       /* include/kiln/guest.h: arguments are lent, results are given */
} bg_abi;

/* What an exported function is to JavaScript. */
typedef enum bg_member {
  BG_FREE_FUNCTION, /* a function of the module */
  BG_CONSTRUCTOR,   /* #[wasm_bindgen(constructor)]: `new Class(...)` */
  BG_METHOD,        /* a method with a receiver (params[0] is it) */
  BG_STATIC,        /* an associated function without a receiver: `Class.f(...)` */
  BG_GETTER,        /* a property read (a getter method or a pub field): params[0] is self */
  BG_SETTER,        /* a property write: params[0] is self, params[1] the value */
} bg_member;

/* One exported function: its name, parameters and result. */
typedef struct bg_func {
  char name[BG_NAME_MAX];       /* the wasm export */
  bg_abi abi;
  uint8_t member;               /* bg_member */
  char class_name[BG_NAME_MAX]; /* the struct of a member, "" for free functions */
  char prop[BG_NAME_MAX];       /* the member's JavaScript name */
  uint32_t param_count;
  int8_t params[BG_MAX_PARAMS]; /* node indexes */
  char param_names[BG_MAX_PARAMS][BG_NAME_MAX];
  char doc[BG_DOC_MAX];                /* the doc comment, first lines ("" if none) */
  bool start;                   /* #[wasm_bindgen(start)]: called once per instance, not bound */
  int8_t result;                /* node index */
  double option_sentinel;       /* bg_protocol.option_sentinel of it */
  bool copies_back;             /* bg_protocol.copies_back of it */
  uint32_t node_count;
  bg_node nodes[BG_MAX_NODES];
} bg_func;

/* Decode one function descriptor (the u32 words a __wbindgen_describe_NAME export reports)
 * into *func (name and abi are left as they are). On failure returns false with a message
 * in error. */
bool bg_decode_descriptor(const bg_protocol *protocol, const uint32_t *words, size_t count,
                          bg_func *func, char *error, size_t error_size);

/* Parse the "kiln.exports" custom section of a C guest: records "name(p: type, ...) -> type"
 * separated by newlines or NUL bytes. Calls add() for each; returns false with a message in
 * error (naming the record) at the first malformed one or when add() returns false. */
bool bg_parse_c_section(const uint8_t *data, size_t size,
                        bool (*add)(void *user, const bg_func *func), void *user, char *error,
                        size_t error_size);

/* Decode the descriptor of a pub field of an exported struct (what the export
 * __wbindgen_describe___wbg_get_STRUCT_FIELD reports: the field's type alone) into
 * func->result, with no parameters. */
bool bg_decode_field(const bg_protocol *protocol, const uint32_t *words, size_t count,
                     bg_func *func, char *error, size_t error_size);

/* Make func (decoded, its parameters named) a member of the struct class_name: with
 * consumed the receiver is taken by value (a struct parameter), else borrowed (BG_SELF);
 * either way it becomes params[0], named "self". False if there is no room. */
bool bg_add_receiver(bg_func *func, const char *class_name, bool consumed);

/* Turn the getter func of a field (bg_decode_field, then bg_add_receiver) into its setter:
 * (self, value: the field's type) -> (). False if there is no room. */
bool bg_make_setter(bg_func *func);

/* Read the __wasm_bindgen_unstable section wasm-bindgen writes (one blob per
 * #[wasm_bindgen] item: a JSON version prefix, then the item's program) for what the
 * descriptors do not say: parameter names, doc comments, which function is the start
 * function, and the exported structs with their methods and pub fields. Calls found() for
 * each function exported (methods of exported structs too, named by their wasm export,
 * with class_name set) and found_struct() (may be NULL) for each exported struct. Returns
 * false with a message in error if the bytes do not parse. */
typedef struct bg_export_info {
  char name[BG_NAME_MAX];
  uint32_t arg_count;
  char arg_names[BG_MAX_PARAMS][BG_NAME_MAX];
  char doc[BG_DOC_MAX];
  bool start;
  char class_name[BG_NAME_MAX]; /* a method of this exported struct ("" for free functions) */
  uint8_t member;               /* bg_member (BG_FREE_FUNCTION when class_name is "") */
  const char *refused;          /* a kind of member kiln does not support ("an indexing
                                 * getter", "a static setter"), else NULL */
  bool consumed;                /* the method takes self by value */
  char prop[BG_NAME_MAX];       /* the JavaScript name: the function's, or the property's */
} bg_export_info;

#define BG_MAX_FIELDS 32
typedef struct bg_struct_info {
  char name[BG_NAME_MAX];
  char doc[BG_DOC_MAX];
  uint32_t field_count;
  struct {
    char name[BG_NAME_MAX];
    bool readonly;
    char doc[BG_DOC_MAX];
  } fields[BG_MAX_FIELDS];
} bg_struct_info;

/* An import a program declares: the intrinsics of 0.2.102+ are such imports of the module
 * __wbindgen_placeholder__, named by a hashed shim, their intrinsic in function_name. */
typedef struct bg_import_info {
  char module[BG_NAME_MAX];        /* "" for none (a JS global), else the module named */
  bool raw_module;                 /* #[wasm_bindgen(raw_module = ...)] */
  bool function;                   /* an imported function (else a static, a type, ...) */
  char shim[BG_NAME_MAX * 2];      /* its wasm import's name */
  char function_name[BG_NAME_MAX]; /* the JS (or intrinsic) name */
  bool has_class;                  /* a method of an imported class */
  bool namespaced;                 /* js_namespace (JSON.parse: "parse" in JSON) */
} bg_import_info;

typedef struct bg_section_reader {
  void *user;
  void (*found)(void *user, const bg_export_info *info);
  void (*found_struct)(void *user, const bg_struct_info *info); /* may be NULL */
  void (*found_import)(void *user, const bg_import_info *info); /* may be NULL */
} bg_section_reader;

/* protocol receives the version the section names (all its records must agree). */
bool bg_parse_wbg_section(const uint8_t *data, size_t size, const bg_section_reader *reader,
                          bg_protocol *protocol, char *error, size_t error_size);

/* The name of node i in Rust syntax ("&str", "Option<Vec<u8>>", "struct Foo") into buf. */
void bg_type_name(const bg_func *func, int node, char *buf, size_t size);

/* Whether kiln can pass node as an argument (results: false) or return it. If not, the
 * name of the unsupported (sub)type goes to what. */
bool bg_type_supported(const bg_func *func, int node, bool result, char *what, size_t size);

/* The wasm signature a supported function must have: its parameters and results, with the
 * return pointer the ABI adds first when the result takes more than one value. retptr_size
 * receives the bytes that area needs (0 if none). Returns false when more than max values
 * would be needed. */
bool bg_wasm_signature(const bg_func *func, kiln_valtype *params, uint32_t *param_count,
                       kiln_valtype *results, uint32_t *result_count, uint32_t max,
                       uint32_t *retptr_size);

/* The wasm values the result of a supported function takes (at most max), in order: those
 * stored in the return area when there are several. Returns their count. */
uint32_t bg_result_values(const bg_func *func, kiln_valtype *out, uint32_t max);

/* The type in the notation the generated JavaScript reads ("&str", "Vec<f64>", "Option<i32>",
 * "Result<String>", "()") into buf; the same as bg_type_name for supported types. */
#define bg_glue_type bg_type_name

/* The TypeScript type of node (as an argument or a result) into buf. */
void bg_ts_type(const bg_func *func, int node, bool result, char *buf, size_t size);

#endif /* KILN_CLI_BINDGEN_H */
