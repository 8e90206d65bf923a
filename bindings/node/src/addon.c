/* addon.c - the entry point of kiln's Node-API addon: module registration, the shared
 * engine, errors as JS exceptions of the classes lib/index.js gives to init(), small
 * helpers, validate(), bareAdd() and the watchdog thread that enforces timeouts. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addon.h"

/* ---------------------------------------------------------------- the engines */

/* One engine per way of running code: the interpreter; compiled code for this CPU or the
 * baseline CPU (portable), counting fuel or not; and the same four for the auto tier. */
#define ENGINE_COUNT 9
static kiln_engine *engines[ENGINE_COUNT];
static pthread_mutex_t engines_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const engine_names[ENGINE_COUNT] = {
    "interp", "compiled", "compiled (portable)", "compiled", "compiled (portable)",
    "auto",   "auto (portable)", "auto", "auto (portable)"};

bool addon_has_compiled_tier(void) {
#ifdef KILN_HAVE_LLVM
  return true;
#else
  return false;
#endif
}

static int engine_index(kiln_tier tier, bool portable, bool fuel) {
  if (tier == KILN_TIER_INTERP) return 0;
  return (tier == KILN_TIER_COMPILED ? 1 : 5) + portable + 2 * fuel;
}

kiln_engine *addon_engine(kiln_tier tier, bool portable, bool fuel) {
  int which = engine_index(tier, portable, fuel);
  pthread_mutex_lock(&engines_lock);
  if (!engines[which]) {
    kiln_config config;
    kiln_config_init(&config);
    config.tier = tier;
    config.portable = portable;
    config.consume_fuel = fuel;
    /* compiled code is cached (KILN_CACHE=off: not; KILN_CACHE_DIR: where) */
    const char *cache = getenv("KILN_CACHE"), *dir = getenv("KILN_CACHE_DIR");
    config.cache = tier != KILN_TIER_INTERP &&
                   !(cache && (strcmp(cache, "off") == 0 || strcmp(cache, "0") == 0 || strcmp(cache, "false") == 0));
    if (dir && dir[0]) config.cache_dir = dir;
    /* auto: KILN_TIERUP_THRESHOLD (calls plus loop iterations before a function is compiled;
     * tests set 1 so that code changes tier while they run) */
    const char *threshold = getenv("KILN_TIERUP_THRESHOLD");
    if (threshold && threshold[0]) {
      char *end;
      unsigned long t = strtoul(threshold, &end, 10);
      if (!*end && t > 0) config.tierup_threshold = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
    }
#ifdef KILN_HAVE_LLVM
    config.compiler = kiln_llvm_compiler();
#endif
    engines[which] = kiln_engine_new(&config);
  }
  kiln_engine *engine = engines[which];
  pthread_mutex_unlock(&engines_lock);
  return engine;
}

bool addon_module_counts_fuel(const kiln_module *module, const kiln_engine *engine) {
  kiln_module_stats stats;
  kiln_module_get_stats(module, &stats);
  if (!stats.precompiled) return addon_engine_counts_fuel(engine);
  /* a precompiled module's code was made for the engine's consume_fuel (else it is refused) */
  pthread_mutex_lock(&engines_lock);
  bool counts = false;
  for (int i = 1; i < ENGINE_COUNT; i++)
    if (engines[i] == engine) counts = i == 3 || i == 4 || i == 7 || i == 8;
  pthread_mutex_unlock(&engines_lock);
  return counts;
}

const char *addon_engine_name(const kiln_engine *engine) {
  const char *name = "unknown";
  pthread_mutex_lock(&engines_lock);
  for (int i = 0; i < ENGINE_COUNT; i++)
    if (engines[i] == engine) name = engine_names[i];
  pthread_mutex_unlock(&engines_lock);
  return name;
}

bool addon_engine_counts_fuel(const kiln_engine *engine) {
  pthread_mutex_lock(&engines_lock);
  /* the auto tier keeps a store with a fuel budget in the interpreter unless its compiled
   * code counts fuel: either way fuel is counted */
  bool counts = engine == engines[0] || engine == engines[3] || engine == engines[4];
  for (int i = 5; i < ENGINE_COUNT; i++) counts = counts || engine == engines[i];
  pthread_mutex_unlock(&engines_lock);
  return counts;
}

/* ---------------------------------------------------------------- helpers */

napi_value addon_string(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value addon_u32(napi_env env, uint32_t n) {
  napi_value v;
  napi_create_uint32(env, n, &v);
  return v;
}

void addon_set(napi_env env, napi_value obj, const char *key, napi_value value) {
  napi_set_named_property(env, obj, key, value);
}

napi_value addon_get(napi_env env, napi_value obj, const char *key) {
  /* [[Get]] alone, as the standard reads dictionaries (no [[HasProperty]] before it) */
  napi_value v;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) napi_get_undefined(env, &v);
  return v;
}

bool addon_is(napi_env env, napi_value v, napi_valuetype type) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == type;
}

bool addon_is_object(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_object || t == napi_function);
}

void addon_set_owner(napi_env env, addon *a, napi_value obj, napi_value owner) {
  napi_value key;
  if (napi_get_reference_value(env, a->owner_key, &key) != napi_ok) return;
  napi_property_descriptor d = {.name = key, .value = owner, .attributes = napi_default};
  napi_define_properties(env, obj, 1, &d);
}

static void throw_with(napi_env env, napi_status (*make)(napi_env, napi_value, napi_value, napi_value *),
                       const char *fmt, va_list ap) {
  char msg[600];
  vsnprintf(msg, sizeof msg, fmt, ap);
  napi_value error;
  make(env, NULL, addon_string(env, msg), &error);
  napi_throw(env, error);
}

void addon_throw_type(napi_env env, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  throw_with(env, napi_create_type_error, fmt, ap);
  va_end(ap);
}

bool addon_enforce_u32(napi_env env, napi_value v, const char *what, uint32_t *out) {
  napi_value number;
  double d;
  if (!v) napi_get_undefined(env, &v);
  if (napi_coerce_to_number(env, v, &number) != napi_ok) return false; /* valueOf threw */
  napi_get_value_double(env, number, &d);
  d = trunc(d);
  if (!(d >= 0 && d <= 4294967295.0)) {
    addon_throw_type(env, "%s must be an integer from 0 to 2^32-1", what);
    return false;
  }
  *out = (uint32_t)d;
  return true;
}

void addon_throw_range(napi_env env, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  throw_with(env, napi_create_range_error, fmt, ap);
  va_end(ap);
}

bool addon_require_new(napi_env env, napi_callback_info info, const char *class_name) {
  napi_value target = NULL;
  if (napi_get_new_target(env, info, &target) == napi_ok && target) return true;
  addon_throw_type(env, "%s: a constructor, to be called with new", class_name);
  return false;
}

void addon_throw_error(napi_env env, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  throw_with(env, napi_create_error, fmt, ap);
  va_end(ap);
}

bool addon_get_bytes(napi_env env, napi_value value, const char *what, const uint8_t **data, size_t *size) {
  bool is;
  void *p = NULL;
  if (napi_is_arraybuffer(env, value, &is) == napi_ok && is) {
    napi_get_arraybuffer_info(env, value, &p, size);
  } else if (napi_is_typedarray(env, value, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t length, offset;
    napi_value buffer;
    napi_get_typedarray_info(env, value, &type, &length, &p, &buffer, &offset);
    static const size_t element_size[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
    *size = length * (type < sizeof element_size / sizeof *element_size ? element_size[type] : 1);
  } else if (napi_is_dataview(env, value, &is) == napi_ok && is) {
    napi_value buffer;
    size_t offset;
    napi_get_dataview_info(env, value, size, &p, &buffer, &offset);
  } else {
    addon_throw_type(env, "%s must be an ArrayBuffer, a typed array, a DataView or a Buffer", what);
    return false;
  }
  *data = p ? p : (const uint8_t *)"";
  return true;
}

/* "a string (\"fast\")", "a number (3)", "a boolean", ...: what a wrong option was. */
static void describe(napi_env env, napi_value v, char *out, size_t size) {
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  char text[48];
  size_t len = 0;
  double number;
  switch (t) {
    case napi_string:
      napi_get_value_string_utf8(env, v, text, sizeof text, &len);
      snprintf(out, size, "a string (\"%s%s\")", text, len == sizeof text - 1 ? "..." : "");
      break;
    case napi_number:
      napi_get_value_double(env, v, &number);
      snprintf(out, size, "a number (%g)", number);
      break;
    case napi_null: snprintf(out, size, "null"); break;
    case napi_undefined: snprintf(out, size, "undefined"); break;
    case napi_boolean: snprintf(out, size, "a boolean"); break;
    case napi_object: snprintf(out, size, "an object"); break;
    case napi_function: snprintf(out, size, "a function"); break;
    default: snprintf(out, size, "a %s", t == napi_bigint ? "bigint" : "symbol"); break;
  }
}

bool addon_tier_option(napi_env env, napi_value options, kiln_tier *tier, bool *portable, bool *fuel) {
  if (!addon_is(env, options, napi_object)) return true;
  char got[80];
  napi_value v = addon_get(env, options, "tier");
  if (!addon_is(env, v, napi_undefined)) {
    char name[16] = "";
    size_t len = 0;
    if (addon_is(env, v, napi_string)) napi_get_value_string_utf8(env, v, name, sizeof name, &len);
    if (strcmp(name, "interp") == 0) {
      *tier = KILN_TIER_INTERP;
    } else if (strcmp(name, "compiled") == 0) {
      *tier = KILN_TIER_COMPILED;
    } else if (strcmp(name, "auto") == 0) {
      *tier = KILN_TIER_AUTO;
    } else {
      describe(env, v, got, sizeof got);
      addon_throw_type(env, "options.tier must be \"auto\", \"interp\" or \"compiled\", got %s", got);
      return false;
    }
  }
  v = addon_get(env, options, "portable");
  if (!addon_is(env, v, napi_undefined)) {
    if (napi_get_value_bool(env, v, portable) != napi_ok) {
      describe(env, v, got, sizeof got);
      addon_throw_type(env, "options.portable must be a boolean, got %s", got);
      return false;
    }
  }
  v = addon_get(env, options, "fuel");
  if (fuel && !addon_is(env, v, napi_undefined)) {
    if (napi_get_value_bool(env, v, fuel) != napi_ok) {
      describe(env, v, got, sizeof got);
      addon_throw_type(env, "options.fuel must be a boolean, got %s", got);
      return false;
    }
  }
  if (*tier != KILN_TIER_INTERP && !addon_has_compiled_tier()) {
    addon_throw_error(env, "kiln: the %s tier is not built into this addon: it needs LLVM 19 "
                           "(apt-get install llvm-19-dev clang-19, then rebuild: make)",
                      *tier == KILN_TIER_AUTO ? "auto" : "compiled");
    return false;
  }
  return true;
}

const char *addon_kind_name(kiln_externkind kind) {
  switch (kind) {
    case KILN_EXTERN_FUNC: return "function";
    case KILN_EXTERN_TABLE: return "table";
    case KILN_EXTERN_MEMORY: return "memory";
    default: return "global";
  }
}

static napi_value type_list(napi_env env, const kiln_valtype *types, uint32_t n) {
  napi_value list;
  napi_create_array_with_length(env, n, &list);
  for (uint32_t i = 0; i < n; i++) napi_set_element(env, list, i, addon_string(env, kiln_valtype_string(types[i])));
  return list;
}

static void set_limits(napi_env env, napi_value obj, kiln_limits limits) {
  napi_value v;
  napi_create_double(env, (double)limits.min, &v);
  addon_set(env, obj, "initial", v);
  if (limits.has_max) {
    napi_create_double(env, (double)limits.max, &v);
    addon_set(env, obj, "maximum", v);
  }
  if (limits.shared) {
    napi_get_boolean(env, true, &v);
    addon_set(env, obj, "shared", v);
  }
}

napi_value addon_externtype(napi_env env, const kiln_externtype *t) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  switch (t->kind) {
    case KILN_EXTERN_FUNC:
      addon_set(env, obj, "params", type_list(env, t->func.params, t->func.param_count));
      addon_set(env, obj, "results", type_list(env, t->func.results, t->func.result_count));
      break;
    case KILN_EXTERN_TABLE:
      addon_set(env, obj, "element", addon_string(env, t->elem_type == KILN_FUNCREF ? "funcref" : "externref"));
      set_limits(env, obj, t->limits);
      break;
    case KILN_EXTERN_MEMORY:
      set_limits(env, obj, t->limits);
      break;
    case KILN_EXTERN_GLOBAL:
      addon_set(env, obj, "value", addon_string(env, kiln_valtype_string(t->global_type)));
      napi_get_boolean(env, t->global_mutable, &v);
      addon_set(env, obj, "mutable", v);
      break;
  }
  return obj;
}

/* ---------------------------------------------------------------- errors */

static napi_value error_of_class(napi_env env, addon *a, int cls, const char *message) {
  napi_value ctor, error, arg = addon_string(env, message);
  if (!a->error_class[cls] || napi_get_reference_value(env, a->error_class[cls], &ctor) != napi_ok ||
      napi_new_instance(env, ctor, 1, &arg, &error) != napi_ok)
    napi_create_error(env, NULL, arg, &error);
  return error;
}

napi_value addon_error_value(napi_env env, addon *a, const kiln_error *err, uint64_t timed_out_ms) {
  int cls;
  switch (err->status) {
    case KILN_ERR_MALFORMED:
    case KILN_ERR_INVALID:
    case KILN_ERR_INCOMPATIBLE: /* a precompiled module made for another CPU or kiln */
      cls = ERR_COMPILE;
      break;
    case KILN_ERR_LINK: cls = ERR_LINK; break;
    case KILN_ERR_TRAP:
      cls = err->trap == KILN_TRAP_EXIT ? ERR_EXIT
            : (timed_out_ms && err->trap == KILN_TRAP_INTERRUPTED) ? ERR_TIMEOUT
            : err->memory_requested ? ERR_MEMORY /* it failed after limits.memory refused to grow */
                                    : ERR_RUNTIME;
      break;
    default: cls = ERR_RUNTIME; break;
  }
  char message[sizeof err->message + 256];
  if (cls == ERR_TIMEOUT)
    snprintf(message, sizeof message, "timed out after %llu ms (the call's timeoutMs): %s", (unsigned long long)timed_out_ms,
             err->message);
  else if (cls == ERR_EXIT) snprintf(message, sizeof message, "the program exited with code %d", err->exit_code);
  else if (cls == ERR_MEMORY) addon_memory_message(err, err->message, message, sizeof message);
  else snprintf(message, sizeof message, "%s", err->message[0] ? err->message : kiln_status_string(err->status));
  napi_value error = error_of_class(env, a, cls, message);
  if (err->status == KILN_ERR_TRAP) {
    addon_set(env, error, "trap", addon_string(env, kiln_trap_string(err->trap)));
    if (cls == ERR_EXIT) {
      napi_value code;
      napi_create_int32(env, err->exit_code, &code);
      addon_set(env, error, "code", code);
    }
    napi_value stack;
    napi_create_array_with_length(env, err->frame_count, &stack);
    for (uint32_t i = 0; i < err->frame_count; i++) {
      napi_value frame;
      napi_create_object(env, &frame);
      addon_set(env, frame, "index", addon_u32(env, err->backtrace[i].func_index));
      addon_set(env, frame, "name", addon_string(env, err->backtrace[i].name));
      addon_set(env, frame, "offset", addon_u32(env, err->backtrace[i].code_offset));
      napi_set_element(env, stack, i, frame);
    }
    addon_set(env, error, "wasmStack", stack);
    if (cls == ERR_MEMORY) addon_set_memory_refusal(env, error, err);
  } else if (err->status == KILN_ERR_LIMIT) {
    addon_set(env, error, "limit", addon_string(env, kiln_status_string(err->status)));
  }
  return error;
}

void addon_memory_message(const kiln_error *err, const char *then, char *out, size_t size) {
  snprintf(out, size,
           "out of memory: the guest asked for %.1f MiB of linear memory, over the instance's limit of %.1f MiB "
           "(limits.memory), and then failed: %s",
           (double)err->memory_requested / 1048576.0, (double)err->memory_limit / 1048576.0, then);
}

void addon_set_memory_refusal(napi_env env, napi_value error, const kiln_error *err) {
  napi_value v;
  napi_create_double(env, (double)err->memory_limit, &v);
  addon_set(env, error, "limit", v);
  napi_create_double(env, (double)err->memory_requested, &v);
  addon_set(env, error, "requested", v);
}

napi_value addon_memory_error(napi_env env, addon *a, const kiln_error *err, napi_value cause) {
  napi_value message_value;
  char then[1024] = "";
  size_t len = 0;
  napi_value ignored;
  if (napi_coerce_to_string(env, cause, &message_value) == napi_ok)
    napi_get_value_string_utf8(env, message_value, then, sizeof then, &len);
  else
    napi_get_and_clear_last_exception(env, &ignored); /* a value whose toString throws */
  char message[sizeof then + 256];
  addon_memory_message(err, then, message, sizeof message);
  napi_value error = error_of_class(env, a, ERR_MEMORY, message);
  addon_set(env, error, "cause", cause);
  addon_set_memory_refusal(env, error, err);
  return error;
}

void addon_throw_kiln(napi_env env, addon *a, const kiln_error *err, uint64_t timed_out_ms) {
  napi_throw(env, addon_error_value(env, a, err, timed_out_ms));
}

/* ---------------------------------------------------------------- the watchdog */

/* One thread for the whole process sleeps until the earliest deadline and interrupts that
 * store. Calls arm it before they start and disarm it when they end. */
typedef struct deadline {
  uint64_t token;
  uint64_t at_ns;
  node_store *store;
  struct deadline *next;
} deadline;

static pthread_mutex_t dog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dog_wake;
static deadline *dog_list;
static uint64_t dog_tokens;
static bool dog_started;

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *dog_main(void *unused) {
  (void)unused;
  pthread_mutex_lock(&dog_lock);
  for (;;) {
    uint64_t now = mono_ns();
    deadline **link = &dog_list, *earliest = NULL;
    for (deadline *d = dog_list; d; d = d->next)
      if (!earliest || d->at_ns < earliest->at_ns) earliest = d;
    if (earliest && earliest->at_ns <= now) {
      atomic_store(&earliest->store->timed_out, true);
      if (earliest->store->store) kiln_store_interrupt(earliest->store->store);
      for (link = &dog_list; *link != earliest; link = &(*link)->next) {}
      *link = earliest->next;
      free(earliest);
      continue;
    }
    if (!earliest) {
      pthread_cond_wait(&dog_wake, &dog_lock);
    } else {
      uint64_t at = earliest->at_ns;
      struct timespec ts = {.tv_sec = (time_t)(at / 1000000000u), .tv_nsec = (long)(at % 1000000000u)};
      pthread_cond_timedwait(&dog_wake, &dog_lock, &ts);
    }
  }
  return NULL;
}

uint64_t watchdog_arm(node_store *s, uint64_t ms) {
  deadline *d = malloc(sizeof *d);
  if (!d) return 0;
  pthread_mutex_lock(&dog_lock);
  if (!dog_started) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&dog_wake, &attr);
    pthread_t thread;
    if (pthread_create(&thread, NULL, dog_main, NULL) != 0) {
      pthread_mutex_unlock(&dog_lock);
      free(d);
      return 0;
    }
    pthread_detach(thread);
    dog_started = true;
  }
  atomic_store(&s->timed_out, false);
  d->token = ++dog_tokens;
  d->at_ns = mono_ns() + ms * 1000000u;
  d->store = s;
  d->next = dog_list;
  dog_list = d;
  pthread_cond_signal(&dog_wake);
  pthread_mutex_unlock(&dog_lock);
  return d->token;
}

void watchdog_disarm(uint64_t token) {
  if (!token) return;
  pthread_mutex_lock(&dog_lock);
  for (deadline **link = &dog_list; *link; link = &(*link)->next) {
    if ((*link)->token == token) {
      deadline *d = *link;
      *link = d->next;
      free(d);
      break;
    }
  }
  pthread_mutex_unlock(&dog_lock);
}

/* ---------------------------------------------------------------- exported functions */

addon *addon_of(napi_env env) {
  addon *a = NULL;
  napi_get_instance_data(env, (void **)&a);
  return a;
}

static napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  napi_value classes = args[0];
  addon *a = addon_of(env);
  if (argc < 1 || !addon_is(env, classes, napi_object)) {
    addon_throw_type(env, "init(classes): classes must be an object of error classes");
    return NULL;
  }
  static const char *const names[ERR_CLASS_COUNT] = {"CompileError", "LinkError", "RuntimeError",
                                                     "TimeoutError", "ExitError", "MemoryLimitError"};
  for (int i = 0; i < ERR_CLASS_COUNT; i++) {
    napi_value cls = addon_get(env, classes, names[i]);
    if (!addon_is(env, cls, napi_function)) {
      addon_throw_type(env, "init(classes): classes.%s must be a class", names[i]);
      return NULL;
    }
    if (a->error_class[i]) napi_delete_reference(env, a->error_class[i]);
    napi_create_reference(env, cls, 1, &a->error_class[i]);
  }
  if (argc >= 2) addon_tier_option(env, args[1], &a->tier, &a->portable, NULL);
  void *gc_env = NULL;
  if (argc >= 3 && napi_get_value_external(env, args[2], &gc_env) == napi_ok) a->gc_env = gc_env;
  return NULL;
}

static napi_value js_validate(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, result;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  const uint8_t *bytes;
  size_t size;
  if (argc < 1 || !addon_get_bytes(env, arg, "validate(bytes): bytes", &bytes, &size)) return NULL;
  kiln_module *m = NULL;
  kiln_status status = kiln_module_new(addon_engine(KILN_TIER_INTERP, false, false), bytes, size, &m, NULL);
  if (status == KILN_OK) status = kiln_module_check_js_limits(m, NULL);
  if (m) kiln_module_free(m);
  napi_get_boolean(env, status == KILN_OK, &result);
  return result;
}

/* A bare Node-API function of the same shape as a wasm add(i32, i32): what a call costs
 * without kiln, for the benchmarks. */
static napi_value js_bare_add(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], result;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t x = 0, y = 0;
  if (argc > 0) napi_get_value_int32(env, args[0], &x);
  if (argc > 1) napi_get_value_int32(env, args[1], &y);
  napi_create_int32(env, (int32_t)((uint32_t)x + (uint32_t)y), &result);
  return result;
}

/* ---------------------------------------------------------------- the sentry
 *
 * When a worker thread's environment stops (worker.terminate(), or the process exiting
 * while workers run), Node first waits for the thread-pool work it has queued to finish and
 * only then runs cleanup hooks. A wasm call that never ends (no timeoutMs) would hang it,
 * and process.exit() with it. So while async calls run, a timer on the environment's loop
 * (unreferenced: it never keeps the loop alive) asks Node-API whether JavaScript may still
 * run; once it may not, the environment is stopping, and the sentry interrupts every async
 * call of the environment, which then ends with a trap nobody will see. */

typedef struct sentry {
  uv_timer_t *timer; /* uv_handle_size(UV_TIMER) bytes, its data pointing back here */
  addon *a;          /* NULL once the addon's state is freed */
  napi_async_cleanup_hook_handle hook;
} sentry;

static void sentry_closed(uv_handle_t *handle) {
  sentry *sn = uv_handle_get_data(handle);
  /* the addon's state may outlive the sentry (its finalizer can run after the cleanup hooks):
   * it must not reach the freed sentry then */
  if (sn->a) sn->a->sentry = NULL;
  napi_remove_async_cleanup_hook(sn->hook);
  free(sn->timer);
  free(sn);
}

/* Node runs this during the environment's cleanup: close the timer. */
static void sentry_cleanup(napi_async_cleanup_hook_handle handle, void *data) {
  (void)handle;
  sentry *sn = data;
  uv_timer_stop(sn->timer);
  uv_close((uv_handle_t *)sn->timer, sentry_closed);
}

/* Whether JavaScript may still run in env: napi_strict_equals, like every Node-API call
 * that may run JavaScript, fails once the environment is stopping. */
static bool env_stopping(napi_env env) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return true;
  napi_value undefined;
  bool same = false;
  napi_get_undefined(env, &undefined);
  napi_status status = napi_strict_equals(env, undefined, undefined, &same);
  napi_close_handle_scope(env, scope);
  return status != napi_ok;
}

static void sentry_tick(uv_timer_t *timer) {
  addon *a = ((sentry *)uv_handle_get_data((uv_handle_t *)timer))->a;
  if (!a || a->stopping || !env_stopping(a->env)) return;
  a->stopping = true;
  for (size_t i = 0; i < a->running_count; i++)
    if (a->running[i]->store) kiln_store_interrupt(a->running[i]->store);
}

/* A sentry that failed to start: its timer closed (if it was initialised) and freed. */
static void sentry_discarded(uv_handle_t *handle) {
  sentry *sn = uv_handle_get_data(handle);
  free(sn->timer);
  free(sn);
}

bool addon_async_started(napi_env env, addon *a, node_store *s) {
  if (a->running_count == a->running_cap) {
    size_t cap = a->running_cap ? 2 * a->running_cap : 8;
    node_store **grown = realloc(a->running, cap * sizeof *grown);
    if (!grown) return false;
    a->running = grown;
    a->running_cap = cap;
  }
  if (!a->sentry) {
    uv_loop_t *loop;
    sentry *sn = calloc(1, sizeof *sn);
    if (sn) sn->timer = calloc(1, uv_handle_size(KILN_UV_TIMER));
    if (!sn || !sn->timer || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_timer_init(loop, sn->timer) != 0) {
      if (sn) free(sn->timer);
      free(sn);
      return false;
    }
    uv_handle_set_data((uv_handle_t *)sn->timer, sn);
    sn->a = a;
    uv_unref((uv_handle_t *)sn->timer);
    if (napi_add_async_cleanup_hook(env, sentry_cleanup, sn, &sn->hook) != napi_ok) {
      uv_close((uv_handle_t *)sn->timer, sentry_discarded);
      return false;
    }
    a->sentry = sn;
  }
  if (a->running_count == 0) uv_timer_start(a->sentry->timer, sentry_tick, 50, 50);
  a->running[a->running_count++] = s;
  if (a->stopping && s->store) kiln_store_interrupt(s->store);
  return true;
}

void addon_async_ended(addon *a, node_store *s) {
  for (size_t i = 0; i < a->running_count; i++)
    if (a->running[i] == s) {
      a->running[i] = a->running[--a->running_count];
      break;
    }
  if (a->running_count == 0 && a->sentry) uv_timer_stop(a->sentry->timer);
}

void addon_release_ref(addon *a, napi_ref ref) {
  if (!ref) return;
  if (a->graveyard_count == a->graveyard_cap) {
    size_t cap = a->graveyard_cap ? a->graveyard_cap * 2 : 64;
    napi_ref *grown = realloc(a->graveyard, cap * sizeof *grown);
    if (!grown) return; /* out of memory: the reference stays (a few bytes) */
    a->graveyard = grown;
    a->graveyard_cap = cap;
  }
  a->graveyard[a->graveyard_count++] = ref;
}

void addon_wrap(napi_env env, addon *a, napi_value obj, void *native, napi_finalize finalize) {
  napi_wrap(a->gc_env ? a->gc_env : env, obj, native, finalize, NULL, NULL);
}

void addon_release_external(addon *a, int64_t bytes) { a->external_released += bytes; }

void addon_drain(napi_env env, addon *a) {
  for (size_t i = 0; i < a->graveyard_count; i++) napi_delete_reference(env, a->graveyard[i]);
  a->graveyard_count = 0;
  if (a->external_released) {
    int64_t total;
    napi_adjust_external_memory(env, -a->external_released, &total);
    a->external_released = 0;
  }
}

static void addon_free(napi_env env, void *data, void *hint) {
  (void)hint;
  addon *a = data;
  for (int i = 0; i < ERR_CLASS_COUNT; i++)
    if (a->error_class[i]) napi_delete_reference(env, a->error_class[i]);
  napi_delete_reference(env, a->owner_key);
  if (a->module_ctor) napi_delete_reference(env, a->module_ctor);
  for (int i = 0; i < 6; i++)
    if (a->function_makers[i]) napi_delete_reference(env, a->function_makers[i]);
  if (a->null_object) napi_delete_reference(env, a->null_object);
  if (a->array_from) napi_delete_reference(env, a->array_from);
  if (a->twin_helpers) napi_delete_reference(env, a->twin_helpers);
  free(a->running);
  free(a->graveyard); /* (the environment is going: its references with it) */
  if (a->sentry) a->sentry->a = NULL; /* sentry_cleanup frees it */
  free(a);
}

NAPI_MODULE_INIT() {
  addon *a = calloc(1, sizeof *a);
  if (!a || !addon_engine(KILN_TIER_INTERP, false, false)) {
    addon_throw_error(env, "kiln: out of memory while loading the addon");
    free(a);
    return NULL;
  }
  a->js_thread = pthread_self();
  a->env = env;
  napi_set_instance_data(env, a, addon_free, NULL);
  napi_value key;
  napi_create_symbol(env, addon_string(env, "kiln.owner"), &key);
  napi_create_reference(env, key, 1, &a->owner_key);

  if (!js_helpers_init(env, a)) return NULL;
  twin_helpers_init(env, a);
  napi_value fn;
  napi_create_function(env, "init", NAPI_AUTO_LENGTH, js_init, NULL, &fn);
  addon_set(env, exports, "init", fn);
  napi_create_function(env, "validate", NAPI_AUTO_LENGTH, js_validate, NULL, &fn);
  addon_set(env, exports, "validate", fn);
  napi_create_function(env, "bareAdd", NAPI_AUTO_LENGTH, js_bare_add, NULL, &fn);
  addon_set(env, exports, "bareAdd", fn);
  addon_set(env, exports, "Module", module_class(env, a));
  napi_create_function(env, "compileAsync", NAPI_AUTO_LENGTH, module_compile_async, NULL, &fn);
  addon_set(env, exports, "compileAsync", fn);
  addon_set(env, exports, "Instance", instance_class(env, a));
  addon_set(env, exports, "Memory", memory_class(env, a));
  addon_set(env, exports, "Table", table_class(env, a));
  addon_set(env, exports, "Global", global_class(env, a));
  addon_set(env, exports, "version", addon_string(env, KILN_VERSION));
  napi_value tiers;
  napi_create_array(env, &tiers);
  napi_set_element(env, tiers, 0, addon_string(env, "interp"));
  if (addon_has_compiled_tier()) {
    napi_set_element(env, tiers, 1, addon_string(env, "compiled"));
    napi_set_element(env, tiers, 2, addon_string(env, "auto"));
  }
  addon_set(env, exports, "tiers", tiers);
  return exports;
}
