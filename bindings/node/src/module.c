/* module.c - the Module class: a compiled module, validated once and shareable by any
 * number of instances (and threads), in the interpreter's tier or the compiled one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

typedef struct node_module {
  kiln_module *module; /* NULL after close() */
  kiln_engine *engine; /* of its tier: its instances' stores are made from it */
  kiln_tier tier;
  size_t cost_bytes;   /* the binary's size, for module_cost */
  addon *a;            /* whose drain takes module_cost back */
} node_module;

static const napi_type_tag module_tag = {0x6b696c6e6d6f6475ULL, 0x6c65000000000001ULL};

/* What a compiled module costs outside V8's heap, as V8 is told (napi_adjust_external_memory),
 * so that it collects dropped modules in time: a fixed part and the binary's size. */
static int64_t module_cost(const node_module *m) { return 64 * 1024 + (int64_t)m->cost_bytes; }

/* (it runs during garbage collection (addon_wrap), so it touches no JavaScript) */
static void module_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  node_module *m = data;
  addon_release_external(m->a, module_cost(m));
  if (m->module) kiln_module_free(m->module);
  free(m);
}

static void wrap(napi_env env, napi_value self, node_module *m) {
  napi_type_tag_object(env, self, &module_tag);
  m->a = addon_of(env);
  addon_drain(env, m->a);
  int64_t total;
  napi_adjust_external_memory(env, module_cost(m), &total);
  addon_wrap(env, m->a, self, m, module_finalize);
}

/* Read new Module's or compileAsync's (bytes, options): the node_module to fill (engine and
 * tier set) and the bytes; NULL after throwing. */
static node_module *module_args(napi_env env, const char *where, size_t argc, napi_value *args, const uint8_t **bytes,
                                size_t *size) {
  char what[64];
  snprintf(what, sizeof what, "%s: bytes", where);
  if (argc < 1) {
    addon_throw_type(env, "%s is missing", what);
    return NULL;
  }
  if (!addon_get_bytes(env, args[0], what, bytes, size)) return NULL;
  addon *a = addon_of(env);
  kiln_tier tier = a->tier;
  bool portable = a->portable, fuel = false;
  if (argc >= 2 && !addon_tier_option(env, args[1], &tier, &portable, &fuel)) return NULL;
  node_module *m = calloc(1, sizeof *m);
  kiln_engine *engine = addon_engine(tier, portable, fuel);
  if (!m || !engine) {
    free(m);
    addon_throw_error(env, "kiln: out of memory");
    return NULL;
  }
  m->engine = engine;
  m->tier = tier;
  return m;
}

static napi_value module_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], self;
  napi_get_cb_info(env, info, &argc, args, &self, NULL);
  if (!addon_require_new(env, info, "Module")) return NULL;
  /* compileAsync's result: an external holding the compiled module */
  if (argc == 1 && addon_is(env, args[0], napi_external)) {
    void *data = NULL;
    napi_get_value_external(env, args[0], &data);
    node_module **slot = data;
    if (slot && *slot) {
      wrap(env, self, *slot);
      *slot = NULL; /* taken */
      return self;
    }
  }
  const uint8_t *bytes;
  size_t size;
  node_module *m = module_args(env, "new Module(bytes)", argc, args, &bytes, &size);
  if (!m) return NULL;
  m->cost_bytes = size;
  kiln_error err;
  /* the JS API's limits, as V8 applies them to every module (kiln_module_check_js_limits) */
  kiln_status status = kiln_module_new(m->engine, bytes, size, &m->module, &err);
  if (status == KILN_OK && (status = kiln_module_check_js_limits(m->module, &err)) != KILN_OK) {
    kiln_module_free(m->module);
  }
  if (status != KILN_OK) {
    free(m);
    addon_throw_kiln(env, addon_of(env), &err, 0);
    return NULL;
  }
  wrap(env, self, m);
  return self;
}

/* ---------------------------------------------------------------- compileAsync */

typedef struct compile_job {
  napi_async_work work;
  napi_deferred deferred;
  node_module *m;
  uint8_t *bytes;      /* a copy, lent to the module (freed with it) */
  size_t size;
  kiln_status status;
  kiln_error err;
} compile_job;

static void compile_execute(napi_env env, void *data) {
  (void)env;
  compile_job *job = data;
  job->m->cost_bytes = job->size;
  job->status = kiln_module_new_borrowed(job->m->engine, job->bytes, job->size, free, job->bytes, &job->m->module,
                                         &job->err);
  job->bytes = NULL; /* the module owns (or has freed) them */
  if (job->status == KILN_OK && (job->status = kiln_module_check_js_limits(job->m->module, &job->err)) != KILN_OK) {
    kiln_module_free(job->m->module);
    job->m->module = NULL;
  }
}

static void compile_complete(napi_env env, napi_status status, void *data) {
  compile_job *job = data;
  addon *a = addon_of(env);
  free(job->bytes);
  napi_value result = NULL, ctor, external;
  if (status != napi_ok) {
    if (job->m->module) kiln_module_free(job->m->module);
    napi_reject_deferred(env, job->deferred, addon_string(env, "kiln: the compile was cancelled"));
  } else if (job->status != KILN_OK) {
    napi_reject_deferred(env, job->deferred, addon_error_value(env, a, &job->err, 0));
  } else {
    node_module *slot = job->m;
    if (napi_get_reference_value(env, a->module_ctor, &ctor) == napi_ok &&
        napi_create_external(env, &slot, NULL, NULL, &external) == napi_ok)
      napi_new_instance(env, ctor, 1, &external, &result);
    if (result && !slot) {
      job->m = NULL; /* the Module object has it */
      napi_resolve_deferred(env, job->deferred, result);
    } else {
      bool pending = false;
      napi_value exception = NULL;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &exception);
      kiln_module_free(job->m->module);
      napi_reject_deferred(env, job->deferred, exception ? exception : addon_string(env, "kiln: out of memory"));
    }
  }
  if (job->m) free(job->m);
  napi_delete_async_work(env, job->work);
  free(job);
}

napi_value module_compile_async(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], promise;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  const uint8_t *bytes;
  size_t size;
  node_module *m = module_args(env, "compileAsync(bytes)", argc, args, &bytes, &size);
  if (!m) return NULL;
  compile_job *job = calloc(1, sizeof *job);
  uint8_t *copy = job ? malloc(size ? size : 1) : NULL;
  if (!copy) {
    free(job);
    free(m);
    addon_throw_error(env, "kiln: out of memory");
    return NULL;
  }
  if (size) memcpy(copy, bytes, size);
  *job = (compile_job){.m = m, .bytes = copy, .size = size};
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_async_work(env, NULL, addon_string(env, "kiln.compileAsync"), compile_execute, compile_complete, job,
                             &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    free(copy);
    free(m);
    free(job);
    addon_throw_error(env, "kiln: Node could not queue the compile on its thread pool");
    return NULL;
  }
  return promise;
}

static node_module *unwrap(napi_env env, napi_value obj) {
  bool tagged = false;
  void *data = NULL;
  if (napi_check_object_type_tag(env, obj, &module_tag, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, obj, &data) != napi_ok)
    return NULL;
  return data;
}

kiln_module *module_unwrap(napi_env env, napi_value obj, kiln_engine **engine) {
  node_module *m = addon_is(env, obj, napi_object) ? unwrap(env, obj) : NULL;
  if (!m) {
    addon_throw_type(env, "expected a kiln Module (from kiln.compile or new Module(bytes))");
    return NULL;
  }
  if (!m->module) {
    addon_throw_error(env, "the module is closed");
    return NULL;
  }
  if (engine) *engine = m->engine;
  return m->module;
}

static kiln_module *this_module(napi_env env, napi_callback_info info, size_t *argc, napi_value *args) {
  napi_value self;
  napi_get_cb_info(env, info, argc, args, &self, NULL);
  return module_unwrap(env, self, NULL);
}

/* {module?, name, kind, type}: one entry of imports() or exports(). */
static napi_value extern_entry(napi_env env, const char *module_name, const char *name, const kiln_externtype *type) {
  napi_value entry;
  napi_create_object(env, &entry);
  if (module_name) addon_set(env, entry, "module", addon_string(env, module_name));
  addon_set(env, entry, "name", addon_string(env, name));
  addon_set(env, entry, "kind", addon_string(env, addon_kind_name(type->kind)));
  addon_set(env, entry, "type", addon_externtype(env, type));
  return entry;
}

/* imports() and exports(): the module's list of either. */
static napi_value extern_list(napi_env env, napi_callback_info info, bool imports) {
  size_t argc = 0;
  kiln_module *m = this_module(env, info, &argc, NULL);
  if (!m) return NULL;
  uint32_t n = imports ? kiln_module_import_count(m) : kiln_module_export_count(m);
  napi_value list;
  napi_create_array_with_length(env, n, &list);
  for (uint32_t i = 0; i < n; i++) {
    const char *module_name = NULL, *name;
    kiln_externtype type;
    if (imports) kiln_module_import(m, i, &module_name, &name, &type);
    else kiln_module_export(m, i, &name, &type);
    napi_set_element(env, list, i, extern_entry(env, module_name, name, &type));
  }
  return list;
}

static napi_value module_imports(napi_env env, napi_callback_info info) { return extern_list(env, info, true); }
static napi_value module_exports(napi_env env, napi_callback_info info) { return extern_list(env, info, false); }

static napi_value module_custom_sections(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  kiln_module *m = this_module(env, info, &argc, &arg);
  if (!m) return NULL;
  size_t wanted_len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, arg, NULL, 0, &wanted_len) != napi_ok) {
    addon_throw_type(env, "customSections(name): name must be a string");
    return NULL;
  }
  /* the whole name, NULs and all, compared byte for byte */
  char *wanted = malloc(wanted_len + 1);
  if (!wanted) return addon_throw_error(env, "kiln: out of memory"), NULL;
  napi_get_value_string_utf8(env, arg, wanted, wanted_len + 1, &wanted_len);
  napi_value list;
  napi_create_array(env, &list);
  uint32_t found = 0, n = kiln_module_custom_section_count(m);
  for (uint32_t i = 0; i < n; i++) {
    const char *name;
    const uint8_t *data;
    size_t size;
    kiln_module_custom_section(m, i, &name, &data, &size);
    if (strlen(name) != wanted_len || memcmp(name, wanted, wanted_len) != 0) continue;
    void *copy;
    napi_value buffer;
    if (napi_create_arraybuffer(env, size, &copy, &buffer) != napi_ok) return free(wanted), NULL;
    if (size) memcpy(copy, data, size);
    napi_set_element(env, list, found++, buffer);
  }
  free(wanted);
  return list;
}

static const char *tier_name(kiln_tier tier) {
  return tier == KILN_TIER_COMPILED ? "compiled" : tier == KILN_TIER_AUTO ? "auto" : "interp";
}

/* .tier: the tier it was compiled for (also after close()). */
static napi_value module_tier(napi_env env, napi_callback_info info) {
  napi_value self;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, NULL, &self, NULL);
  node_module *m = unwrap(env, self);
  if (!m) {
    addon_throw_type(env, "expected a kiln Module (from kiln.compile or new Module(bytes))");
    return NULL;
  }
  return addon_string(env, tier_name(m->tier));
}

/* .stats(): how it runs: the tier with native code, and how much of it is native. */
static napi_value module_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  kiln_module *m = this_module(env, info, &argc, NULL);
  if (!m) return NULL;
  kiln_module_stats stats;
  kiln_module_get_stats(m, &stats);
  napi_value obj, bytes;
  napi_create_object(env, &obj);
  addon_set(env, obj, "tier", addon_string(env, tier_name(stats.tier)));
  addon_set(env, obj, "functions", addon_u32(env, stats.functions));
  addon_set(env, obj, "nativeFunctions", addon_u32(env, stats.native_functions));
  napi_create_double(env, (double)stats.native_code_bytes, &bytes);
  addon_set(env, obj, "nativeCodeBytes", bytes);
  addon_set(env, obj, "translatedFunctions", addon_u32(env, stats.translated_functions));
  napi_create_double(env, (double)stats.translated_code_bytes, &bytes);
  addon_set(env, obj, "translatedCodeBytes", bytes);
  addon_set(env, obj, "cachedFunctions", addon_u32(env, stats.cached_functions));
  napi_value flag;
  napi_get_boolean(env, stats.cache_hit, &flag);
  addon_set(env, obj, "cacheHit", flag);
  napi_get_boolean(env, stats.precompiled, &flag);
  addon_set(env, obj, "precompiled", flag);
  return obj;
}

static napi_value module_close(napi_env env, napi_callback_info info) {
  napi_value self;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, NULL, &self, NULL);
  node_module *m = unwrap(env, self);
  if (m && m->module) {
    kiln_module_free(m->module); /* instances keep what they need */
    m->module = NULL;
  }
  return NULL;
}

napi_value module_class(napi_env env, addon *a) {
  napi_property_descriptor methods[] = {
      {.utf8name = "imports", .method = module_imports, .attributes = napi_default_method},
      {.utf8name = "exports", .method = module_exports, .attributes = napi_default_method},
      {.utf8name = "customSections", .method = module_custom_sections, .attributes = napi_default_method},
      {.utf8name = "close", .method = module_close, .attributes = napi_default_method},
      {.utf8name = "stats", .method = module_stats, .attributes = napi_default_method},
      {.utf8name = "tier", .getter = module_tier, .attributes = napi_configurable},
  };
  napi_value cls;
  napi_define_class(env, "Module", NAPI_AUTO_LENGTH, module_new, NULL,
                    sizeof methods / sizeof methods[0], methods, &cls);
  napi_create_reference(env, cls, 1, &a->module_ctor);
  return cls;
}
