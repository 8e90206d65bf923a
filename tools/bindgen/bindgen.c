/* bindgen.c - `kiln bindgen app.wasm -o out/`: learns the interface of a guest and writes
 * typed JavaScript glue for the Node.js package (out/app.js, app.mjs, app.d.ts, a copy of
 * the module), with a JS class for each exported Rust struct. A #[wasm_bindgen] Rust module describes itself: each __wbindgen_describe_NAME
 * export, run here in kiln's interpreter, reports NAME's types word by word through the
 * import __wbindgen_placeholder__.__wbindgen_describe, as for wasm-bindgen's own CLI. A C
 * guest (include/kiln/guest.h) lists its exports in the custom section kiln.exports. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bindgen.h"
#include "cli/cli.h"

#define DESCRIBE_PREFIX "__wbindgen_describe_"
#define FIELD_GETTER_PREFIX "__wbg_get_" /* the getter of a pub field: __wbg_get_STRUCT_FIELD */
#define DESCRIBE_MAX_WORDS (1u << 20)
#define DESCRIBE_FUEL 100000000u

/* The placeholder imports the glue implements (bindgen_js.c, intrinsics()). */
static const char *const supported_intrinsics[] = {
    "__wbindgen_describe", "__wbindgen_throw", "__wbindgen_rethrow", "__wbindgen_string_new",
    "__wbindgen_error_new", "__wbindgen_object_drop_ref", "__wbindgen_object_clone_ref",
    "__wbindgen_number_new", "__wbindgen_bigint_from_i64", "__wbindgen_bigint_from_u64",
    "__wbindgen_is_undefined", "__wbindgen_is_null", "__wbindgen_is_string",
    "__wbindgen_is_object", "__wbindgen_is_function", "__wbindgen_is_bigint",
    "__wbindgen_boolean_get", "__wbindgen_jsval_eq", "__wbindgen_jsval_loose_eq",
    /* 0.2.105-0.2.112: raw; later through the section as __wbindgen_is_null_or_undefined */
    "__wbindgen_object_is_null_or_undefined", "__wbindgen_object_is_undefined",
    "__wbindgen_is_null_or_undefined",
    /* 0.2.102+: conversions (the glue runs the cast its describe words state) */
    "__wbindgen_describe_cast", "__wbindgen_copy_to_typed_array", "__wbindgen_as_number",
};

/* The intrinsics of wasm-bindgen 0.2.102+: hashed imports of __wbindgen_placeholder__ whose
 * intrinsic the section names. */
typedef struct intrinsic_shim {
  char shim[BG_NAME_MAX * 2];
  char name[BG_NAME_MAX];
} intrinsic_shim;

/* Names the generated module itself exports beside the guest's functions. */
static const char *const reserved_names[] = {"module", "instance", "instantiate", "createPool", "default"};

/* The interface found, in export order. */
typedef struct interface {
  bg_func *funcs;
  size_t count, cap;
  bg_abi abi;
  bool uses_wasi;
  bool uses_nn;         /* imports wasi_ephemeral_nn: the glue instantiates it with WASI-NN */
  bool failed;          /* an error was printed */
  bool skip_unsupported;
  const char *path;
  bg_export_info *infos; /* from __wasm_bindgen_unstable */
  size_t info_count, info_cap;
  bg_struct_info *structs; /* the exported structs it lists */
  size_t struct_count, struct_cap;
  char start[BG_NAME_MAX]; /* the #[wasm_bindgen(start)] function, "" if none */
  char (*classes)[BG_NAME_MAX]; /* the structs the bound functions use: the JS classes */
  size_t class_count, class_cap;
  bg_protocol protocol;          /* the wasm-bindgen version the module was built with */
  intrinsic_shim *shims;         /* 0.2.102+ */
  size_t shim_count, shim_cap;
} interface;

/* Grow *array (of *cap elements of size bytes) so that one more fits; false if out of memory. */
static bool reserve(void *array, size_t *cap, size_t count, size_t size) {
  if (count < *cap) return true;
  size_t bigger = *cap ? *cap * 2 : 16;
  void *grown = realloc(*(void **)array, bigger * size);
  if (!grown) return false;
  *(void **)array = grown;
  *cap = bigger;
  return true;
}

static void found_struct_info(void *user, const bg_struct_info *info) {
  interface *in = user;
  if (reserve(&in->structs, &in->struct_cap, in->struct_count, sizeof *in->structs))
    in->structs[in->struct_count++] = *info;
}

static const bg_struct_info *struct_info(const interface *in, const char *name) {
  for (size_t i = 0; i < in->struct_count; i++)
    if (strcmp(in->structs[i].name, name) == 0) return &in->structs[i];
  return NULL;
}

/* wasm-bindgen's name of a struct in its exports: lower case. */
static void lower_name(const char *name, char *out, size_t size) {
  size_t n = 0;
  for (; *name && n + 1 < size; name++) out[n++] = *name >= 'A' && *name <= 'Z' ? (char)(*name - 'A' + 'a') : *name;
  out[n] = 0;
}

static void found_export_info(void *user, const bg_export_info *info) {
  interface *in = user;
  if (!reserve(&in->infos, &in->info_cap, in->info_count, sizeof *in->infos)) return;
  in->infos[in->info_count++] = *info;
  if (info->start) snprintf(in->start, sizeof in->start, "%s", info->name);
}

static void found_import_info(void *user, const bg_import_info *info) {
  interface *in = user;
  if (!info->function || info->has_class) return;
  const char *name = info->function_name;
  if (!info->module[0] && !info->namespaced) {
    /* 0.2.101+: a few intrinsics became imports of JS globals */
    if (strcmp(name, "Error") == 0) name = "__wbindgen_error_new";
    else if (strcmp(name, "Number") == 0) name = "__wbindgen_as_number";
    else return;
  } else if (!info->raw_module || strcmp(info->module, "__wbindgen_placeholder__") != 0 ||
             strncmp(name, "__wbindgen_", 11) != 0)
    return;
  if (!reserve(&in->shims, &in->shim_cap, in->shim_count, sizeof *in->shims)) return;
  intrinsic_shim *s = &in->shims[in->shim_count++];
  snprintf(s->shim, sizeof s->shim, "%s", info->shim);
  snprintf(s->name, sizeof s->name, "%s", name);
}

/* The intrinsic an import of __wbindgen_placeholder__ stands for: its own name before
 * 0.2.102, else the one the section gives its shim (or its own name when none does). */
static const char *intrinsic_of(const interface *in, const char *name) {
  for (size_t i = 0; i < in->shim_count; i++)
    if (strcmp(in->shims[i].shim, name) == 0) return in->shims[i].name;
  return name;
}

static const bg_export_info *export_info(const interface *in, const char *name) {
  for (size_t i = 0; i < in->info_count; i++)
    if (strcmp(in->infos[i].name, name) == 0) return &in->infos[i];
  return NULL;
}

static bool add_func(void *user, const bg_func *func) {
  interface *in = user;
  if (!reserve(&in->funcs, &in->cap, in->count, sizeof *in->funcs)) return false;
  in->funcs[in->count++] = *func;
  return true;
}

static bool has_export(const kiln_module *module, const char *want, kiln_externtype *type);

/* Whether the struct's JS class is known; if not, and the module can free its objects,
 * it becomes one. False (with the reason in why) if it cannot be a class. */
static bool use_class(interface *in, const kiln_module *module, const char *name, char *why, size_t size) {
  for (size_t i = 0; i < in->class_count; i++)
    if (strcmp(in->classes[i], name) == 0) return true;
  char lower[BG_NAME_MAX], free_name[BG_NAME_MAX + 12];
  lower_name(name, lower, sizeof lower);
  snprintf(free_name, sizeof free_name, "__wbg_%s_free", lower);
  kiln_externtype type;
  uint32_t arity = in->protocol.free_delayed ? 2 : 1; /* 0.2.93+: (ptr, allow_delayed) */
  if (!has_export(module, free_name, &type) || type.kind != KILN_EXTERN_FUNC || type.func.param_count != arity ||
      type.func.params[0] != KILN_I32 || (arity == 2 && type.func.params[1] != KILN_I32) || type.func.result_count != 0) {
    snprintf(why, size, "its struct %s has no export %s: %s -> () to free its objects (wasm-bindgen %.20s)", name,
             free_name, arity == 2 ? "(i32, i32)" : "(i32)", in->protocol.version);
    return false;
  }
  if (!reserve(&in->classes, &in->class_cap, in->class_count, sizeof *in->classes)) {
    snprintf(why, size, "out of memory");
    return false;
  }
  snprintf(in->classes[in->class_count++], BG_NAME_MAX, "%s", name);
  return true;
}

/* A function kiln cannot bind: an error, or a warning with --skip-unsupported. */
static void unsupported(interface *in, const char *name, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void unsupported(interface *in, const char *name, const char *format, ...) {
  char message[400];
  va_list ap;
  va_start(ap, format);
  vsnprintf(message, sizeof message, format, ap);
  va_end(ap);
  if (in->skip_unsupported) {
    fprintf(stderr, "kiln: warning: %s: skipping function '%s': %s\n", in->path, name, message);
  } else {
    cli_error("%s: function '%s': %s", in->path, name, message);
    in->failed = true;
  }
}

static bool same_types(const kiln_valtype *a, uint32_t na, const kiln_valtype *b, uint32_t nb) {
  if (na != nb) return false;
  for (uint32_t i = 0; i < na; i++)
    if (a[i] != b[i]) return false;
  return true;
}

static void format_types(char *buf, size_t size, const kiln_valtype *params, uint32_t np,
                         const kiln_valtype *results, uint32_t nr) {
  kiln_functype type = {params, np, results, nr};
  cli_format_functype(buf, size, type);
}

/* Check that every type of func is supported and that its export has the wasm type the ABI
 * gives those types; keep it if so. */
static void check_and_add(interface *in, const kiln_module *module, bg_func *func) {
  char what[160], label[BG_NAME_MAX * 3 + 16];
  if (func->class_name[0]) /* "Counter.add (export counter_add)" */
    snprintf(label, sizeof label, "%s.%s (export %s)", func->class_name, func->prop, func->name);
  else
    snprintf(label, sizeof label, "%s", func->name);
  for (uint32_t i = 0; i < func->param_count; i++) {
    if (!bg_type_supported(func, func->params[i], false, what, sizeof what)) {
      unsupported(in, label, "parameter %u has the unsupported type %s", i + 1, what);
      return;
    }
  }
  if (!bg_type_supported(func, func->result, true, what, sizeof what)) {
    unsupported(in, label, "the result has the unsupported type %s", what);
    return;
  }
  kiln_externtype type;
  const char *name;
  bool found = false;
  for (uint32_t i = 0; i < kiln_module_export_count(module) && !found; i++) {
    found = kiln_module_export(module, i, &name, &type) == KILN_OK && strcmp(name, func->name) == 0 &&
            type.kind == KILN_EXTERN_FUNC;
  }
  if (!found) {
    unsupported(in, label, "described, but the module exports no function of that name");
    return;
  }
  kiln_valtype params[80], results[2];
  uint32_t np, nr, retptr;
  char want[300], have[300];
  if (!bg_wasm_signature(func, params, &np, results, &nr, 80, &retptr)) {
    unsupported(in, label, "too many wasm parameters");
    return;
  }
  if (!same_types(params, np, type.func.params, type.func.param_count) ||
      !same_types(results, nr, type.func.results, type.func.result_count)) {
    format_types(want, sizeof want, params, np, results, nr);
    format_types(have, sizeof have, type.func.params, type.func.param_count, type.func.results,
                 type.func.result_count);
    if (func->abi == BG_ABI_WASM_BINDGEN && in->uses_wasi)
      unsupported(in, label,
                  "its wasm type is %s, but its described types need %s: a wasm32-wasi build passes "
                  "strings, slices and other pairs by pointer (the C ABI), which wasm-bindgen's "
                  "descriptions do not cover; build for wasm32-unknown-unknown (kiln build does)",
                  have, want);
    else
      unsupported(in, label, "its wasm type is %s, but its described types need %s", have, want);
    return;
  }
  for (size_t i = 0; i < sizeof reserved_names / sizeof reserved_names[0] && !func->class_name[0]; i++) {
    if (strcmp(func->name, reserved_names[i]) == 0) {
      unsupported(in, label, "the glue's own export '%s' has that name", reserved_names[i]);
      return;
    }
  }
  for (size_t i = 0; i < in->count && func->class_name[0]; i++) { /* one member per JS name */
    const bg_func *o = &in->funcs[i];
    if (strcmp(o->class_name, func->class_name) != 0 || strcmp(o->prop, func->prop) != 0 ||
        (o->member == BG_CONSTRUCTOR) != (func->member == BG_CONSTRUCTOR) ||
        (o->member == BG_STATIC) != (func->member == BG_STATIC) ||
        (o->member == BG_GETTER && func->member == BG_SETTER) || (o->member == BG_SETTER && func->member == BG_GETTER))
      continue;
    unsupported(in, label, "%s.%s is bound already (by %s)", func->class_name, func->prop, o->name);
    return;
  }
  for (uint32_t i = 0; i < func->node_count; i++) {
    if (func->nodes[i].kind == BG_RUST_STRUCT && !use_class(in, module, func->nodes[i].name, what, sizeof what)) {
      unsupported(in, label, "%s", what);
      return;
    }
  }
  if (!add_func(in, func)) {
    cli_error("out of memory");
    in->failed = true;
  }
}

/* ---------------------------------------------------------------- wasm-bindgen modules */

typedef struct words {
  uint32_t *v;
  size_t count, cap;
  bool overflow;
} words;

static kiln_status describe_callback(kiln_caller *caller, void *user, const kiln_val *args,
                                     kiln_val *results) {
  (void)results;
  words *w = user;
  if (w->count == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 256;
    uint32_t *bigger = cap <= DESCRIBE_MAX_WORDS ? realloc(w->v, cap * sizeof *bigger) : NULL;
    if (!bigger) {
      w->overflow = true;
      return kiln_caller_trap(caller, "the descriptor is longer than %u words", DESCRIBE_MAX_WORDS);
    }
    w->v = bigger;
    w->cap = cap;
  }
  w->v[w->count++] = (uint32_t)args[0].of.i32;
  return KILN_OK;
}

/* A method, constructor, getter or setter of an exported struct: what it is to JS, and its
 * receiver (the descriptors leave it out: the export takes the pointer first). False (after
 * saying why) if kiln cannot bind it. */
static bool make_member(interface *in, bg_func *func, const bg_export_info *info) {
  snprintf(func->class_name, sizeof func->class_name, "%s", info->class_name);
  snprintf(func->prop, sizeof func->prop, "%s", info->prop);
  func->member = info->member;
  const char *kind = info->refused;
  if (!kind && func->member != BG_STATIC && func->member != BG_CONSTRUCTOR &&
      (strcmp(func->prop, "free") == 0 || strcmp(func->prop, "constructor") == 0))
    kind = "a member called free or constructor (the glue's own)";
  if (!kind && func->member == BG_STATIC && strcmp(func->prop, "prototype") == 0) kind = "a static called prototype";
  for (const char *c = func->prop; !kind && *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '$'))
      kind = "a member whose JavaScript name is not an identifier";
  if (kind) {
    unsupported(in, func->name, "%s of the exported struct %s is not supported", kind, info->class_name);
    return false;
  }
  if (func->member == BG_CONSTRUCTOR) { /* Result<Self, JsValue> or Self */
    const bg_node *r = &func->nodes[func->result];
    if (r->kind == BG_RESULT) r = &func->nodes[r->inner];
    if (r->kind != BG_RUST_STRUCT || strcmp(r->name, info->class_name) != 0) {
      unsupported(in, func->name, "the constructor of %s must return %s (or Result<%s, JsValue>)",
                  info->class_name, info->class_name, info->class_name);
      return false;
    }
    return true;
  }
  if (func->member == BG_STATIC) return true;
  if (!bg_add_receiver(func, info->class_name, info->consumed)) {
    unsupported(in, func->name, "too many parameters");
    return false;
  }
  return true;
}

/* A pub field of an exported struct, from its getter's description: the getter, and the
 * setter unless the field is readonly. The export's name, __wbg_get_STRUCT_FIELD, has the
 * struct's name in lower case; the struct list of __wasm_bindgen_unstable gives it back. */
static void add_field(interface *in, const kiln_module *module, bg_func *getter) {
  const char *rest = getter->name + strlen(FIELD_GETTER_PREFIX);
  const bg_struct_info *owner = NULL;
  uint32_t index = 0;
  for (size_t i = 0; i < in->struct_count && !owner; i++) {
    char lower[BG_NAME_MAX];
    lower_name(in->structs[i].name, lower, sizeof lower);
    size_t n = strlen(lower);
    if (strncmp(rest, lower, n) != 0 || rest[n] != '_') continue;
    for (uint32_t f = 0; f < in->structs[i].field_count && !owner; f++) {
      if (strcmp(rest + n + 1, in->structs[i].fields[f].name) == 0) {
        owner = &in->structs[i];
        index = f;
      }
    }
  }
  if (!owner) {
    unsupported(in, getter->name, "the getter of a field of a struct __wasm_bindgen_unstable does not list");
    return;
  }
  snprintf(getter->class_name, sizeof getter->class_name, "%s", owner->name);
  snprintf(getter->prop, sizeof getter->prop, "%s", owner->fields[index].name);
  snprintf(getter->doc, sizeof getter->doc, "%s", owner->fields[index].doc);
  getter->member = BG_GETTER;
  if (!bg_add_receiver(getter, owner->name, false)) return;
  static bg_func setter;
  setter = *getter;
  check_and_add(in, module, getter);
  if (owner->fields[index].readonly) return;
  memcpy(setter.name + strlen("__wbg_"), "set", 3); /* __wbg_set_STRUCT_FIELD */
  setter.member = BG_SETTER;
  if (bg_make_setter(&setter)) check_and_add(in, module, &setter);
}

static kiln_status refuse_callback(kiln_caller *caller, void *user, const kiln_val *args,
                                   kiln_val *results) {
  (void)args;
  (void)results;
  return kiln_caller_trap(caller, "%s was called while describing the module", (const char *)user);
}

static bool is_supported_intrinsic(const char *name) {
  for (size_t i = 0; i < sizeof supported_intrinsics / sizeof supported_intrinsics[0]; i++)
    if (strcmp(name, supported_intrinsics[i]) == 0) return true;
  return false;
}

/* Whether name is the import through which JsValue::from(a struct) wraps a pointer in a JS
 * object, __wbg_STRUCT_new: (i32) -> (i32); its struct's name (lower case) into lower. */
static bool struct_wrap_import(const char *name, const kiln_externtype *type, char *lower, size_t size) {
  size_t n = strlen(name);
  if (strncmp(name, "__wbg_", 6) != 0 || n <= 10 || strcmp(name + n - 4, "_new") != 0 ||
      type->kind != KILN_EXTERN_FUNC || type->func.param_count != 1 || type->func.result_count != 1 ||
      type->func.params[0] != KILN_I32 || type->func.results[0] != KILN_I32)
    return false;
  if (lower) snprintf(lower, size, "%.*s", (int)(n - 10), name + 6);
  return true;
}

/* Each __wbg_STRUCT_new import must name an exported struct, which then is a JS class. */
static void check_struct_imports(interface *in, const kiln_module *module) {
  for (uint32_t i = 0; i < kiln_module_import_count(module); i++) {
    const char *mod, *name;
    kiln_externtype type;
    char lower[BG_NAME_MAX], struct_lower[BG_NAME_MAX], why[400];
    kiln_module_import(module, i, &mod, &name, &type);
    if (strcmp(mod, "__wbindgen_placeholder__") != 0 || is_supported_intrinsic(intrinsic_of(in, name)) ||
        !struct_wrap_import(name, &type, lower, sizeof lower))
      continue;
    const char *found = NULL;
    for (size_t s = 0; s < in->struct_count && !found; s++) {
      lower_name(in->structs[s].name, struct_lower, sizeof struct_lower);
      if (strcmp(struct_lower, lower) == 0) found = in->structs[s].name;
    }
    if (!found) {
      cli_error("%s: imports %s.%s, but the module exports no struct '%s' for it to wrap", in->path, mod, name, lower);
      in->failed = true;
    } else if (!use_class(in, module, found, why, sizeof why)) {
      cli_error("%s: imports %s.%s: %s", in->path, mod, name, why);
      in->failed = true;
    }
  }
}

/* Check the imports: only wasm-bindgen's placeholders kiln implements (and the externref
 * ones, which only the __externref_* exports the CLI deletes use), and WASI's. */
static bool check_rust_imports(interface *in, const kiln_module *module) {
  bool ok = true;
  for (uint32_t i = 0; i < kiln_module_import_count(module); i++) {
    const char *mod, *name;
    kiln_externtype type;
    kiln_module_import(module, i, &mod, &name, &type);
    if (strcmp(mod, "__wbindgen_externref_xform__") == 0 && type.kind == KILN_EXTERN_FUNC) continue;
    if (strcmp(mod, "kiln") == 0 && strcmp(name, "panic") == 0 && type.kind == KILN_EXTERN_FUNC)
      continue; /* the panic hook kiln build links in (include/kiln/panic_hook.rs) */
    if (strcmp(mod, "wasi_snapshot_preview1") == 0 && type.kind == KILN_EXTERN_FUNC) {
      in->uses_wasi = true; /* a wasm32-wasi build: the glue instantiates it with kiln's WASI */
      continue;
    }
    if (strcmp(mod, "wasi_ephemeral_nn") == 0 && type.kind == KILN_EXTERN_FUNC) {
      in->uses_nn = true; /* WASI-NN (include/kiln/wasi_nn.rs): kiln's, given nn options */
      continue;
    }
    const char *intrinsic = strcmp(mod, "__wbindgen_placeholder__") == 0 ? intrinsic_of(in, name) : name;
    if (strcmp(mod, "__wbindgen_placeholder__") == 0 && type.kind == KILN_EXTERN_FUNC &&
        is_supported_intrinsic(intrinsic))
      continue;
    if (strcmp(mod, "__wbindgen_placeholder__") == 0 && struct_wrap_import(name, &type, NULL, 0))
      continue; /* checked once the structs are known (check_struct_imports) */
    if (intrinsic != name)
      cli_error("%s: imports the wasm-bindgen intrinsic %s (as %s.%s), which kiln bindgen does not support",
                in->path, intrinsic, mod, name);
    else if (strcmp(mod, "__wbindgen_placeholder__") == 0 && strncmp(name, "__wbg_", 6) == 0)
      cli_error("%s: imports the JavaScript function %s.%s (#[wasm_bindgen] extern \"C\"): "
                "kiln bindgen does not support imported JavaScript functions", in->path, mod, name);
    else if (strcmp(mod, "__wbindgen_placeholder__") == 0)
      cli_error("%s: imports the wasm-bindgen intrinsic %s.%s, which kiln bindgen does not support",
                in->path, mod, name);
    else
      cli_error("%s: imports %s.%s, which kiln bindgen does not provide (only wasm-bindgen's "
                "__wbindgen_placeholder__ intrinsics, WASI and WASI-NN)", in->path, mod, name);
    ok = false;
  }
  return ok;
}

/* __wbg_NAME_<16 hex digits>: the shim of an import (whose description stays when the
 * linker dropped an unused import; 0.2.102+ names some __wbg_get_<hash>), not an export such
 * as a field's getter. */
static bool is_hashed_shim(const char *name) {
  size_t n = strlen(name);
  if (n < 6 + 17 || name[n - 17] != '_') return false;
  for (size_t i = n - 16; i < n; i++)
    if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) return false;
  return true;
}

static bool describe_rust(interface *in, kiln_engine *engine, kiln_module *module) {
  bg_protocol_default(&in->protocol);
  bg_section_reader reader = {in, found_export_info, found_struct_info, found_import_info};
  for (uint32_t i = 0; i < kiln_module_custom_section_count(module); i++) {
    const char *name;
    const uint8_t *data;
    size_t size;
    char why[400];
    kiln_module_custom_section(module, i, &name, &data, &size);
    if (strcmp(name, "__wasm_bindgen_unstable") == 0 &&
        !bg_parse_wbg_section(data, size, &reader, &in->protocol, why, sizeof why)) {
      cli_error("%s: %s", in->path, why);
      return false;
    }
  }
  if (!check_rust_imports(in, module)) return false;
  kiln_store *store = kiln_store_new(engine);
  uint32_t n_imports = kiln_module_import_count(module);
  kiln_import *imports = calloc(n_imports ? n_imports : 1, sizeof *imports);
  words w = {0};
  bool ok = store && imports;
  /* A wasm32-wasi build runs its constructors (which ask WASI for the environment) in every
   * export, the describe functions too: give it a WASI without files, input or output. */
  const kiln_import *wasi_imports = NULL;
  size_t wasi_count = 0;
  if (ok && in->uses_wasi) {
    kiln_wasi_config *cfg = kiln_wasi_config_new();
    kiln_wasi *wasi = NULL;
    kiln_error werr;
    if (cfg) kiln_wasi_config_set_stdio(cfg, -1, -1, -1);
    ok = cfg && kiln_wasi_new(store, cfg, &wasi, &werr) == KILN_OK &&
         kiln_wasi_imports(wasi, module, &wasi_imports, &wasi_count) == KILN_OK;
    kiln_wasi_config_free(cfg);
  }
  for (uint32_t i = 0; ok && i < n_imports; i++) {
    kiln_externtype type;
    kiln_module_import(module, i, &imports[i].module, &imports[i].name, &type);
    const kiln_import *from_wasi = NULL;
    for (size_t k = 0; k < wasi_count && !from_wasi; k++)
      if (strcmp(wasi_imports[k].module, imports[i].module) == 0 && strcmp(wasi_imports[k].name, imports[i].name) == 0)
        from_wasi = &wasi_imports[k];
    if (from_wasi) {
      imports[i].value = from_wasi->value;
      continue;
    }
    bool describe = strcmp(imports[i].name, "__wbindgen_describe") == 0;
    kiln_func *f = kiln_func_new(store, &type.func, describe ? describe_callback : refuse_callback,
                                 describe ? (void *)&w : (void *)imports[i].name, NULL);
    imports[i].value.kind = KILN_EXTERN_FUNC;
    imports[i].value.of.func = f;
    ok = f != NULL;
  }
  kiln_instance *instance = NULL;
  kiln_error err;
  if (ok && kiln_instantiate(store, module, imports, n_imports, &instance, &err) != KILN_OK) {
    cli_error("%s: cannot instantiate it to read its descriptions: %s", in->path, err.message);
    ok = false;
    in->failed = true;
  } else if (!ok) {
    cli_error("out of memory");
    in->failed = true;
  }
  static bg_func func;
  size_t described = 0;
  for (uint32_t i = 0; ok && i < kiln_instance_export_count(instance); i++) {
    const char *name;
    kiln_extern ext;
    kiln_instance_export_at(instance, i, &name, &ext);
    if (strncmp(name, DESCRIBE_PREFIX, strlen(DESCRIBE_PREFIX)) != 0 || ext.kind != KILN_EXTERN_FUNC) continue;
    const char *target = name + strlen(DESCRIBE_PREFIX);
    bool field = strncmp(target, FIELD_GETTER_PREFIX, strlen(FIELD_GETTER_PREFIX)) == 0 && !is_hashed_shim(target);
    if (strncmp(target, "__wbg_", 6) == 0 && !field) continue; /* describes an import (refused above) */
    described++;
    memset(&func, 0, sizeof func);
    snprintf(func.name, sizeof func.name, "%s", target);
    func.abi = BG_ABI_WASM_BINDGEN;
    if (strlen(target) >= BG_NAME_MAX) {
      unsupported(in, target, "the name is longer than %d bytes", BG_NAME_MAX - 1);
      continue;
    }
    w.count = 0;
    kiln_store_set_fuel(store, DESCRIBE_FUEL);
    if (kiln_func_call(store, ext.of.func, NULL, 0, NULL, 0, &err) != KILN_OK) {
      unsupported(in, target, "its description %s failed: %s", name, err.message);
      continue;
    }
    char why[200];
    if (field) {
      if (!bg_decode_field(&in->protocol, w.v, w.count, &func, why, sizeof why)) unsupported(in, target, "cannot decode its description: %s", why);
      else add_field(in, module, &func);
      continue;
    }
    if (!bg_decode_descriptor(&in->protocol, w.v, w.count, &func, why, sizeof why)) {
      unsupported(in, target, "cannot decode its description: %s", why);
      continue;
    }
    const bg_export_info *info = export_info(in, target);
    if (info && info->start) continue; /* the glue calls it after instantiating */
    if (info) {
      for (uint32_t p = 0; p < func.param_count && p < info->arg_count; p++)
        snprintf(func.param_names[p], BG_NAME_MAX, "%s", info->arg_names[p]);
      snprintf(func.doc, sizeof func.doc, "%s", info->doc);
    }
    if (info && info->class_name[0] && !make_member(in, &func, info)) continue;
    check_and_add(in, module, &func);
  }
  if (ok && described == 0) {
    cli_error("%s: exports no %s* functions: not a #[wasm_bindgen] module", in->path, DESCRIBE_PREFIX);
    in->failed = true;
  }
  if (ok) check_struct_imports(in, module);
  free(w.v);
  free(imports);
  kiln_store_free(store);
  return ok && !in->failed;
}

/* ---------------------------------------------------------------- C guests */

typedef struct c_reader {
  interface *in;
  const kiln_module *module;
} c_reader;

static bool add_c_func(void *user, const bg_func *func) {
  c_reader *r = user;
  for (size_t i = 0; i < r->in->count; i++) {
    if (strcmp(r->in->funcs[i].name, func->name) == 0) {
      cli_error("%s: kiln.exports declares '%s' twice", r->in->path, func->name);
      r->in->failed = true;
      return true;
    }
  }
  static bg_func copy;
  copy = *func;
  check_and_add(r->in, r->module, &copy);
  return true;
}

static bool has_export(const kiln_module *module, const char *want, kiln_externtype *type) {
  const char *name;
  for (uint32_t i = 0; i < kiln_module_export_count(module); i++)
    if (kiln_module_export(module, i, &name, type) == KILN_OK && strcmp(name, want) == 0) return true;
  return false;
}

static bool describe_c(interface *in, const kiln_module *module) {
  c_reader r = {in, module};
  for (uint32_t i = 0; i < kiln_module_custom_section_count(module); i++) {
    const char *name;
    const uint8_t *data;
    size_t size;
    kiln_module_custom_section(module, i, &name, &data, &size);
    if (strcmp(name, "kiln.exports") != 0) continue;
    char why[300];
    if (!bg_parse_c_section(data, size, add_c_func, &r, why, sizeof why)) {
      cli_error("%s: %s", in->path, why);
      return false;
    }
  }
  kiln_externtype type;
  for (const char *const *need = (const char *const[]){"kiln_alloc", "kiln_free", "memory", NULL}; *need; need++) {
    if (!has_export(module, *need, &type)) {
      cli_error("%s: does not export '%s' (include kiln/guest.h in one of its files)", in->path, *need);
      return false;
    }
  }
  for (uint32_t i = 0; i < kiln_module_import_count(module); i++) {
    const char *mod, *name;
    kiln_module_import(module, i, &mod, &name, &type);
    if (strcmp(mod, "wasi_snapshot_preview1") == 0) in->uses_wasi = true;
    else if (strcmp(mod, "wasi_ephemeral_nn") == 0) in->uses_nn = true;
    else if (strcmp(mod, "kiln") != 0 || strcmp(name, "fail") != 0)
      fprintf(stderr, "kiln: note: %s imports %s.%s: pass it in instantiate({imports})\n", in->path, mod, name);
  }
  return !in->failed;
}

static bool has_custom_section(const kiln_module *module, const char *want) {
  for (uint32_t i = 0; i < kiln_module_custom_section_count(module); i++) {
    const char *name;
    const uint8_t *data;
    size_t size;
    if (kiln_module_custom_section(module, i, &name, &data, &size) == KILN_OK && strcmp(name, want) == 0)
      return true;
  }
  return false;
}

/* ---------------------------------------------------------------- output */

/* A JS string literal of s (double quotes, non-printable and non-ASCII escaped). */
static void put_js_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c < 0x20 || c >= 0x7F) fprintf(out, "\\x%02x", c);
    else fputc(c, out);
  }
  fputc('"', out);
}

static const char *valtype_name(kiln_valtype t) { return kiln_valtype_string(t); }

static void source_type_name(const bg_func *f, int node, char *buf, size_t size);

static void write_table(FILE *out, const interface *in, const char *wasm_name, const kiln_module *module) {
  fprintf(out, "const ABI = '%s';\n", in->abi == BG_ABI_KILN_C ? "c" : "rust");
  fprintf(out, "const USES_WASI = %s;\n", in->uses_wasi ? "true" : "false");
  fprintf(out, "const USES_NN = %s;\n", in->uses_nn ? "true" : "false");
  fputs("const START = ", out);
  if (in->start[0]) put_js_string(out, in->start);
  else fputs("null", out);
  fputs(";\n", out);
  fputs("const WASM_FILE = require('node:path').join(__dirname, ", out);
  put_js_string(out, wasm_name);
  fputs(");\n", out);
  /* the precompiled module `kiln build` writes beside it (NAME.cwasm for NAME.wasm) */
  char cwasm_name[300];
  size_t wn = strlen(wasm_name);
  snprintf(cwasm_name, sizeof cwasm_name, "%.*s.cwasm", (int)(wn > 5 ? wn - 5 : wn), wasm_name);
  fputs("const CWASM_FILE = require('node:path').join(__dirname, ", out);
  put_js_string(out, cwasm_name);
  fputs(");\n", out);
  uint32_t retptr_max = 16;
  fputs("const FUNCTIONS = [\n", out);
  for (size_t i = 0; i < in->count; i++) {
    const bg_func *f = &in->funcs[i];
    char type[200];
    fputs("  { name: ", out);
    put_js_string(out, f->name);
    fputs(", params: [", out);
    for (uint32_t p = 0; p < f->param_count; p++) {
      bg_glue_type(f, f->params[p], type, sizeof type);
      fputs(p ? ", [" : "[", out);
      put_js_string(out, f->param_names[p]);
      fputs(", ", out);
      put_js_string(out, type);
      /* the type as the guest's source spells it, for messages, when that differs (C) */
      char spelled[200];
      source_type_name(f, f->params[p], spelled, sizeof spelled);
      if (strcmp(spelled, type) != 0) {
        fputs(", ", out);
        put_js_string(out, spelled);
      }
      fputs("]", out);
    }
    bg_glue_type(f, f->result, type, sizeof type);
    fputs("], result: ", out);
    put_js_string(out, type);
    kiln_valtype params[80], results[2];
    uint32_t np, nr, retptr;
    bg_wasm_signature(f, params, &np, results, &nr, 80, &retptr);
    (void)np;
    (void)nr;
    /* The wasm values of the result, in the return area when there are several. */
    kiln_valtype comps[8];
    uint32_t nc = bg_result_values(f, comps, 8);
    fputs(", results: [", out);
    for (uint32_t c = 0; c < nc; c++) fprintf(out, "%s'%s'", c ? ", " : "", valtype_name(comps[c]));
    if (retptr > retptr_max) retptr_max = retptr;
    fprintf(out, "], retptr: %" PRIu32, retptr);
    if (f->class_name[0]) {
      static const char *const members[] = {"function", "constructor", "method", "static", "getter", "setter"};
      fputs(", class: ", out);
      put_js_string(out, f->class_name);
      fprintf(out, ", member: '%s', prop: ", members[f->member]);
      put_js_string(out, f->prop);
    }
    fputs(" },\n", out);
  }
  fputs("];\n", out);
  /* The exported structs: their JS classes and the exports that free their objects. */
  fputs("const STRUCTS = [\n", out);
  for (size_t i = 0; i < in->class_count; i++) {
    char lower[BG_NAME_MAX];
    lower_name(in->classes[i], lower, sizeof lower);
    fputs("  { name: ", out);
    put_js_string(out, in->classes[i]);
    fprintf(out, ", free: '__wbg_%s_free' },\n", lower);
  }
  fputs("];\n", out);
  fprintf(out, "const RETPTR_SIZE = %" PRIu32 ";\n", retptr_max);
  fputs("const IMPORTS = [\n", out);
  for (uint32_t i = 0; i < kiln_module_import_count(module); i++) {
    const char *mod, *name;
    kiln_externtype type;
    kiln_module_import(module, i, &mod, &name, &type);
    fputs("  { module: ", out);
    put_js_string(out, mod);
    fputs(", name: ", out);
    put_js_string(out, name);
    fputs(" },\n", out);
  }
  fputs("];\n", out);
  /* What differs between the wasm-bindgen versions the module may be built with. */
  if (in->abi == BG_ABI_WASM_BINDGEN) {
    const bg_protocol *p = &in->protocol;
    fputs("const WASM_BINDGEN = {\n  version: ", out);
    put_js_string(out, p->version);
    fprintf(out, ", minor: %u, heapOffset: %" PRIu32 ", mallocAlign: %s, freeDelayed: %s, optionSentinel: %.17g, boolNone: %" PRIu32
                 ",\n  copiesBack: %s, casts: %s,\n",
            p->minor, p->heap_offset, p->malloc_align ? "true" : "false", p->free_delayed ? "true" : "false", p->option_sentinel,
            p->bool_none, p->copies_back ? "true" : "false", p->casts ? "true" : "false");
    /* the intrinsics' hashed imports, and the describe words (the glue decodes casts) */
    fputs("  intrinsics: {", out);
    for (size_t i = 0; i < in->shim_count; i++) {
      fputs(i ? ", " : " ", out);
      put_js_string(out, in->shims[i].shim);
      fputs(": ", out);
      put_js_string(out, in->shims[i].name);
    }
    fputs(in->shim_count ? " },\n" : "},\n", out);
    fputs("  words: [", out);
    for (uint32_t w = 0;; w++) {
      const char *name = bg_word_name(p->minor, w);
      if (!name) break;
      fprintf(out, "%s'%s'", w ? ", " : "", name);
    }
    fputs("],\n};\n", out);
  } else
    fputs("const WASM_BINDGEN = null;\n", out);
  fputs("\n", out);
}

static bool is_identifier(const char *s) {
  static const char *const reserved[] = {
      "arguments", "await", "break", "case", "catch", "class", "const", "continue", "debugger",
      "default", "delete", "do", "else", "enum", "eval", "export", "extends", "false", "finally",
      "for", "function", "if", "implements", "import", "in", "instanceof", "interface", "let",
      "new", "null", "package", "private", "protected", "public", "return", "static", "super",
      "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield"};
  if (!*s || (*s >= '0' && *s <= '9')) return false;
  for (const char *c = s; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '$'))
      return false;
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strcmp(s, reserved[i]) == 0) return false;
  return true;
}

/* The JS classes of the structs are exports of the glue too: their names must be free. */
static bool check_classes(interface *in) {
  for (size_t c = 0; c < in->class_count; c++) {
    const char *name = in->classes[c];
    const char *clash = is_identifier(name) ? NULL : "is not a JavaScript identifier";
    for (size_t i = 0; i < sizeof reserved_names / sizeof reserved_names[0] && !clash; i++)
      if (strcmp(name, reserved_names[i]) == 0) clash = "is the name of one of the glue's own exports";
    for (size_t i = 0; i < in->count && !clash; i++)
      if (!in->funcs[i].class_name[0] && strcmp(in->funcs[i].name, name) == 0) clash = "is the name of an exported function";
    if (clash) {
      cli_error("%s: the exported struct %s cannot be a JavaScript class: its name %s", in->path, name, clash);
      return false;
    }
  }
  return true;
}

/* A parameter name usable in TypeScript. */
static void ts_param_name(const char *name, char *buf, size_t size) {
  snprintf(buf, size, "%s%s", name, is_identifier(name) ? "" : "_");
}

/* A type's name as its guest spelled it: Rust's, or guest.h's for C. */
static void source_type_name(const bg_func *f, int node, char *buf, size_t size) {
  bg_type_name(f, node, buf, size);
  if (f->abi != BG_ABI_KILN_C) { /* "&struct Counter" is &Counter in Rust */
    for (char *at; (at = strstr(buf, "struct ")) != NULL;) memmove(at, at + 7, strlen(at + 7) + 1);
    return;
  }
  const bg_node *n = &f->nodes[node];
  if (n->kind == BG_STRING) snprintf(buf, size, "string");
  else if (n->kind == BG_UNIT) snprintf(buf, size, "void");
  else if (n->kind == BG_VECTOR && f->nodes[n->inner].kind == BG_U8) snprintf(buf, size, "bytes");
  else if (n->kind == BG_VECTOR) {
    bg_type_name(f, n->inner, buf, size);
    if (strlen(buf) + 2 <= size) strcat(buf, "s");
  }
}

/* The receiver a member takes first (not a JS argument): 1 or 0. */
static uint32_t receiver_count(const bg_func *f) {
  return f->member == BG_METHOD || f->member == BG_GETTER || f->member == BG_SETTER;
}

static void write_doc_text(FILE *out, const char *doc, const char *indent) {
  if (!doc[0]) return;
  fprintf(out, "\n%s *\n%s * ", indent, indent);
  for (const char *c = doc; *c; c++) {
    if (c[0] == '*' && c[1] == '/') fputs("*\\/", out), c++;
    else fputc(*c, out);
  }
}

static void write_signature_comment(FILE *out, const bg_func *f, const char *indent) {
  char type[200];
  uint32_t first = receiver_count(f);
  if (f->member == BG_GETTER || f->member == BG_SETTER) { /* `Counter.n: u32` */
    source_type_name(f, f->member == BG_GETTER ? f->result : f->params[1], type, sizeof type);
    fprintf(out, "%s/** `%s.%s: %s` (%s)", indent, f->class_name, f->prop, type,
            f->member == BG_GETTER ? "read" : "written");
    write_doc_text(out, f->doc, indent);
    fputs(" */\n", out);
    return;
  }
  if (!f->class_name[0]) fprintf(out, "%s/** `%s(", indent, f->name);
  else fprintf(out, "%s/** `%s%s%s%s(", indent, f->member == BG_CONSTRUCTOR ? "new " : "", f->class_name,
               f->member == BG_CONSTRUCTOR ? "" : ".", f->member == BG_CONSTRUCTOR ? "" : f->prop);
  for (uint32_t p = first; p < f->param_count; p++) {
    source_type_name(f, f->params[p], type, sizeof type);
    fprintf(out, "%s%s: %s", p > first ? ", " : "", f->param_names[p], type);
  }
  source_type_name(f, f->result, type, sizeof type);
  fprintf(out, ") -> %s`%s", type,
          f->node_count && f->nodes[f->result].kind == BG_RESULT ? ": an Err is thrown as an Error" : "");
  if (first && f->nodes[f->params[0]].kind == BG_RUST_STRUCT)
    fputs(" (takes `self`: the object is moved into the call and cannot be used after it)", out);
  write_doc_text(out, f->doc, indent);
  fputs(" */\n", out);
}

static void write_ts_params(FILE *out, const bg_func *f) {
  char type[200], name[BG_NAME_MAX + 2];
  uint32_t first = receiver_count(f);
  for (uint32_t p = first; p < f->param_count; p++) {
    bg_ts_type(f, f->params[p], false, type, sizeof type);
    ts_param_name(f->param_names[p], name, sizeof name);
    fprintf(out, "%s%s: %s", p > first ? ", " : "", name, type);
  }
}

/* The type of a callable with its .async form: "{ (params): R; async(params): Promise<R>; }". */
static void write_callable_type(FILE *out, const bg_func *f, const char *indent) {
  char result[200];
  bg_ts_type(f, f->result, true, result, sizeof result);
  fputs("{\n", out);
  fprintf(out, "%s  (", indent);
  write_ts_params(out, f);
  fprintf(out, "): %s;\n%s  /** The same call on kiln's thread pool (calls on one instance run one at a time). */\n%s  async(",
          result, indent, indent);
  write_ts_params(out, f);
  fprintf(out, "): Promise<%s>;\n%s}", result, indent);
}

static void write_dts_class(FILE *out, const interface *in, const char *name) {
  const bg_struct_info *info = struct_info(in, name);
  fputs("/** ", out);
  fprintf(out, "An object of the Rust struct `%s`: its value lives in the guest's memory until free() "
               "(or until the object is garbage-collected).", name);
  write_doc_text(out, info ? info->doc : "", "");
  fprintf(out, " */\nexport declare class %s {\n", name);
  bool constructor = false;
  char type[200];
  for (size_t i = 0; i < in->count; i++) {
    const bg_func *f = &in->funcs[i];
    if (strcmp(f->class_name, name) != 0) continue;
    write_signature_comment(out, f, "  ");
    switch ((bg_member)f->member) {
    case BG_CONSTRUCTOR:
      constructor = true;
      fputs("  constructor(", out);
      write_ts_params(out, f);
      fputs(");\n", out);
      break;
    case BG_METHOD: case BG_STATIC:
      fprintf(out, "  %sreadonly %s: ", f->member == BG_STATIC ? "static " : "", f->prop);
      write_callable_type(out, f, "  ");
      fputs(";\n", out);
      break;
    case BG_GETTER:
      bg_ts_type(f, f->result, true, type, sizeof type);
      fprintf(out, "  get %s(): %s;\n", f->prop, type);
      break;
    case BG_SETTER:
      bg_ts_type(f, f->params[1], false, type, sizeof type);
      fprintf(out, "  set %s(value: %s);\n", f->prop, type);
      break;
    case BG_FREE_FUNCTION: break;
    }
  }
  if (!constructor)
    fprintf(out, "  /** %s has no #[wasm_bindgen(constructor)]: its objects come from the functions that return them. */\n"
                 "  private constructor();\n", name);
  fputs("  /** Drops the Rust value now; the object cannot be used after it. Calling it again does nothing. */\n"
        "  free(): void;\n  /** free(), for `using`. */\n  [Symbol.dispose](): void;\n}\n\n", out);
}

static void write_dts(FILE *out, const interface *in, const char *base, bool esm) {
  fprintf(out, "// %s.d%s - generated by kiln bindgen from %s.wasm: do not edit.\n\n", base,
          esm ? ".mts" : ".ts", base);
  fputs("import type { Instance, InstanceOptions, Module, PoolOptions } from 'kiln';\n\n", out);
  char result[200];
  for (size_t i = 0; i < in->class_count; i++) write_dts_class(out, in, in->classes[i]);
  for (size_t i = 0; i < in->count; i++) {
    const bg_func *f = &in->funcs[i];
    if (f->class_name[0]) continue;
    write_signature_comment(out, f, "");
    fprintf(out, "export declare const %s: ", f->name);
    write_callable_type(out, f, "");
    fputs(";\n\n", out);
  }
  fputs("/** The guest's functions and classes, bound to one instance (a class's constructor and\n"
        " * statics make objects in that instance; objects cannot move between instances). */\n"
        "export interface Functions {\n", out);
  for (size_t i = 0; i < in->count; i++)
    if (!in->funcs[i].class_name[0]) fprintf(out, "  %s: typeof %s;\n", in->funcs[i].name, in->funcs[i].name);
  for (size_t i = 0; i < in->class_count; i++) fprintf(out, "  %s: typeof %s;\n", in->classes[i], in->classes[i]);
  fputs("}\n\n/** The guest's functions on a pool of instances: each call runs on an idle one (a call\n"
        " * given an object runs on the instance that made it). */\n"
        "export interface PoolFunctions {\n", out);
  for (size_t i = 0; i < in->count; i++) {
    const bg_func *f = &in->funcs[i];
    if (f->class_name[0]) continue;
    bg_ts_type(f, f->result, true, result, sizeof result);
    fprintf(out, "  %s(", f->name);
    write_ts_params(out, f);
    fprintf(out, "): Promise<%s>;\n", result);
  }
  fputs("}\n\n"
        "/** The compiled module. */\n"
        "export declare const module: Module;\n"
        "/** The instance the exported functions call. */\n"
        "export declare const instance: Instance;\n"
        "/** The functions on a new instance of their own. */\n"
        "export declare function instantiate(options?: InstanceOptions): Functions & {\n"
        "  readonly instance: Instance;\n  close(): void;\n};\n"
        "/** The functions on `size` instances (default: one per core) that run calls in parallel. */\n"
        "export declare function createPool(options?: PoolOptions): PoolFunctions & {\n"
        "  readonly size: number;\n  readonly pending: number;\n  close(): Promise<void>;\n};\n", out);
  if (esm) {
    fputs("\ndeclare const glue: Functions & {\n  module: typeof module;\n  instance: typeof instance;\n"
          "  instantiate: typeof instantiate;\n  createPool: typeof createPool;\n};\nexport default glue;\n", out);
  }
}

static void write_mjs(FILE *out, const interface *in, const char *base) {
  fprintf(out, "// %s.mjs - generated by kiln bindgen from %s.wasm: do not edit.\n"
               "// The ES module face of %s.js (one instance for both).\n"
               "import { createRequire } from 'node:module';\n\n"
               "const require = createRequire(import.meta.url);\n"
               "const glue = require('./%s.js');\n\n"
               "export default glue;\n"
               "export const { module, instance, instantiate, createPool } = glue;\n",
          base, base, base, base);
  for (size_t i = 0; i < in->count; i++)
    if (!in->funcs[i].class_name[0] && is_identifier(in->funcs[i].name))
      fprintf(out, "export const %s = glue.%s;\n", in->funcs[i].name, in->funcs[i].name);
  for (size_t i = 0; i < in->class_count; i++)
    fprintf(out, "export const %s = glue.%s;\n", in->classes[i], in->classes[i]);
}

static void write_js(FILE *out, const interface *in, const char *base, const kiln_module *module) {
  fprintf(out, "// %s.js - generated by kiln bindgen from %s.wasm: do not edit.\n"
               "// JavaScript functions for the %s exports of %s.wasm, on kiln's Node.js package.\n"
               "'use strict';\n\n"
               "// The glue's runtime, from the npm package kiln of the project this file is in.\n"
               "let glue;\n"
               "try {\n"
               "  glue = require('kiln/glue');\n"
               "} catch (error) {\n"
               "  if (error.code !== 'MODULE_NOT_FOUND' || !/'kiln(\\/glue)?'/.test(error.message)) throw error;\n"
               "  throw new Error(`${__filename} was written by kiln bindgen and runs on the npm package kiln, "
               "which this project does not have: add it (npm install kiln)`, { cause: error });\n"
               "}\n\n",
          base, base, in->abi == BG_ABI_KILN_C ? "kiln/guest.h" : "#[wasm_bindgen]", base);
  char wasm_name[300];
  snprintf(wasm_name, sizeof wasm_name, "%s.wasm", base);
  write_table(out, in, wasm_name, module);
  fprintf(out, "\nmodule.exports = glue.bind({\n"
               "  format: %d, file: __filename, abi: ABI, usesWasi: USES_WASI, usesNn: USES_NN, start: START,\n"
               "  wasm: WASM_FILE, cwasm: CWASM_FILE, functions: FUNCTIONS, structs: STRUCTS, retptrSize: RETPTR_SIZE, imports: IMPORTS,\n"
               "  wasmBindgen: WASM_BINDGEN,\n"
               "});\n", BINDGEN_GLUE_FORMAT);
}

/* Write path with writer; false (after printing why) if it cannot be written. */
static bool write_file(const char *dir, const char *base, const char *suffix,
                       void (*writer)(FILE *, const interface *, const char *, const void *),
                       const interface *in, const void *extra) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s%s", dir, base, suffix);
  FILE *out = fopen(path, "w");
  if (!out) {
    cli_error("cannot write '%s': %s", path, strerror(errno));
    return false;
  }
  writer(out, in, base, extra);
  bool ok = !ferror(out);
  if (fclose(out) != 0) ok = false;
  if (!ok) cli_error("cannot write '%s': %s", path, strerror(errno));
  return ok;
}

static void js_writer(FILE *out, const interface *in, const char *base, const void *module) {
  write_js(out, in, base, module);
}
static void mjs_writer(FILE *out, const interface *in, const char *base, const void *unused) {
  (void)unused;
  write_mjs(out, in, base);
}
static void dts_writer(FILE *out, const interface *in, const char *base, const void *unused) {
  (void)unused;
  write_dts(out, in, base, false);
}
static void dmts_writer(FILE *out, const interface *in, const char *base, const void *unused) {
  (void)unused;
  write_dts(out, in, base, true);
}
static void wasm_writer(FILE *out, const interface *in, const char *base, const void *file) {
  (void)in;
  (void)base;
  const cli_file *f = file;
  fwrite(f->bytes, 1, f->size, out);
}

/* mkdir -p */
static bool make_dirs(const char *path) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return false;
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == 0) {
      char c = *p;
      *p = 0;
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) return false;
      *p = c;
      if (!c) break;
    }
  }
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether require('kiln') from a file in dir finds a package: node_modules/kiln/package.json
 * in dir or one of its parents (Node's resolution, without NODE_PATH and global folders). */
static bool kiln_package_reachable(const char *dir) {
  char path[PATH_MAX];
  if (!realpath(dir, path)) return true; /* cannot tell: say nothing */
  for (;;) {
    char probe[PATH_MAX + 32];
    struct stat st;
    snprintf(probe, sizeof probe, "%s/node_modules/kiln/package.json", strcmp(path, "/") == 0 ? "" : path);
    if (stat(probe, &st) == 0) return true;
    char *slash = strrchr(path, '/');
    if (!slash || slash == path) {
      if (strcmp(path, "/") == 0) return false;
      strcpy(path, "/");
      continue;
    }
    *slash = 0;
  }
}

int cli_bindgen_module(const char *path, const char *out_dir, const char *name, bool skip_unsupported) {
  char base[256];
  if (name) {
    snprintf(base, sizeof base, "%s", name);
  } else {
    const char *slash = strrchr(path, '/');
    snprintf(base, sizeof base, "%s", slash ? slash + 1 : path);
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".wasm") == 0) base[n - 5] = 0;
  }
  if (!base[0] || strchr(base, '/')) {
    cli_error("bad output name '%s'", base);
    return CLI_EXIT_USAGE;
  }
  cli_file file;
  if (!cli_file_read(path, &file)) return CLI_EXIT_ERROR;
  kiln_engine *engine = kiln_engine_new(NULL);
  kiln_module *module = engine ? cli_module_new(engine, path, &file) : NULL;
  interface in = {.path = path, .skip_unsupported = skip_unsupported};
  bool ok = module != NULL;
  if (ok && has_custom_section(module, "kiln.exports")) {
    in.abi = BG_ABI_KILN_C;
    ok = describe_c(&in, module);
  } else if (ok) {
    in.abi = BG_ABI_WASM_BINDGEN;
    ok = describe_rust(&in, engine, module);
  }
  if (ok && in.count == 0) {
    cli_error("%s: no functions to bind", path);
    ok = false;
  }
  ok = ok && check_classes(&in);
  if (ok && !make_dirs(out_dir)) {
    cli_error("cannot create the directory '%s': %s", out_dir, strerror(errno));
    ok = false;
  }
  ok = ok && write_file(out_dir, base, ".js", js_writer, &in, module) &&
       write_file(out_dir, base, ".mjs", mjs_writer, &in, NULL) &&
       write_file(out_dir, base, ".d.ts", dts_writer, &in, NULL) &&
       write_file(out_dir, base, ".d.mts", dmts_writer, &in, NULL);
  if (ok) {
    char copy[4096];
    snprintf(copy, sizeof copy, "%s/%s.wasm", out_dir, base);
    struct stat a, b;
    bool same = stat(path, &a) == 0 && stat(copy, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
    if (!same) ok = write_file(out_dir, base, ".wasm", wasm_writer, &in, &file);
  }
  if (ok) {
    size_t members = 0;
    for (size_t i = 0; i < in.count; i++) members += in.funcs[i].class_name[0] != 0;
    fprintf(stderr, "kiln: %s: %zu function%s", path, in.count - members, in.count - members == 1 ? "" : "s");
    if (in.class_count)
      fprintf(stderr, ", %zu class%s (%zu members)", in.class_count, in.class_count == 1 ? "" : "es", members);
    fprintf(stderr, " -> %s/%s.js, %s.mjs, %s.d.ts\n", out_dir, base, base, base);
    if (!kiln_package_reachable(out_dir))
      fprintf(stderr, "kiln: note: no node_modules/kiln in %s or above it: the glue needs the npm package kiln "
                      "in the project that uses it (npm install kiln)\n", out_dir);
  }
  free(in.funcs);
  free(in.infos);
  free(in.structs);
  free(in.classes);
  free(in.shims);
  kiln_module_free(module);
  if (engine) kiln_engine_free(engine);
  cli_file_free(&file);
  return ok ? 0 : CLI_EXIT_ERROR;
}

int cli_bindgen(const char *label, int argc, char **argv) {
  static const struct option options[] = {
      {"out-dir", required_argument, NULL, 'o'}, {"name", required_argument, NULL, 'n'},
      {"skip-unsupported", no_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *out_dir = NULL, *name = NULL;
  bool skip = false;
  opterr = 0;
  optind = 0;
  int c;
  while ((c = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
    switch (c) {
    case 'h': cli_help(stdout, "bindgen"); return 0;
    case 'o': out_dir = optarg; break;
    case 'n': name = optarg; break;
    case 's': skip = true; break;
    case ':': return cli_usage_error(label, "option '%s' needs a value", argv[optind - 1]);
    default: return cli_usage_error(label, "unknown option '%s' (see 'kiln help bindgen')", argv[optind - 1]);
    }
  }
  if (optind == argc) return cli_usage_error(label, "missing module path (usage: kiln bindgen app.wasm -o out/)");
  if (optind + 1 < argc) return cli_usage_error(label, "one module at a time (usage: kiln bindgen app.wasm -o out/)");
  if (!out_dir) return cli_usage_error(label, "missing -o DIR: where to write the glue");
  return cli_bindgen_module(argv[optind], out_dir, name, skip);
}
