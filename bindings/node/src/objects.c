/* objects.c - the Memory, Table and Global classes. Each wraps a kiln object of a store
 * (its own store when made from JavaScript, an instance's when exported). A memory's
 * buffer is an ArrayBuffer over linear memory itself, no copy: after the memory grows the
 * next read of .buffer gives a new one and the old one is detached, as in the WebAssembly
 * JS API; closing the store detaches them all. A shared memory's buffers are
 * SharedArrayBuffers over its bytes, never detached (see twin_helpers_init). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

struct node_memory {
  node_store *s;
  kiln_memory *memory;
  napi_ref buffer;       /* weak: the ArrayBuffer handed out, if any */
  uint64_t buffer_size;
  node_memory *next;     /* in s->memories while a buffer is handed out */
  bool listed;
  bool refresh;          /* a shared memory's Memory.grow was called: the next buffer is a new one */
};

typedef struct node_table {
  node_store *s;
  kiln_table *table;
} node_table;

typedef struct node_global {
  node_store *s;
  kiln_global *global;
} node_global;

static const napi_type_tag memory_tag = {0x6b696c6e6d656d6fULL, 0x7279000000000001ULL};
static const napi_type_tag table_tag = {0x6b696c6e7461626cULL, 0x6500000000000001ULL};
static const napi_type_tag global_tag = {0x6b696c6e676c6f62ULL, 0x616c000000000001ULL};

static void *unwrap_tagged(napi_env env, napi_value obj, const napi_type_tag *tag) {
  bool tagged = false;
  void *data = NULL;
  if (!addon_is(env, obj, napi_object) || napi_check_object_type_tag(env, obj, tag, &tagged) != napi_ok ||
      !tagged || napi_unwrap(env, obj, &data) != napi_ok)
    return NULL;
  return data;
}

/* The wrapped object of `this`, or NULL after throwing (wrong receiver, closed store). */
static void *this_object(napi_env env, napi_callback_info info, const napi_type_tag *tag, size_t *argc,
                         napi_value *args, const char *what) {
  napi_value self;
  napi_get_cb_info(env, info, argc, args, &self, NULL);
  node_store **s = unwrap_tagged(env, self, tag);
  if (!s) {
    addon_throw_type(env, "not a kiln %s", what);
    return NULL;
  }
  if (!(*s)->store) {
    addon_throw_error(env, "the %s's instance is closed", what);
    return NULL;
  }
  return s;
}

/* A constructor called with an External wraps an existing object instead of making one. */
static bool wrapped_existing(napi_env env, size_t argc, napi_value *args, void **out) {
  if (argc >= 1 && addon_is(env, args[0], napi_external)) {
    napi_get_value_external(env, args[0], out);
    return true;
  }
  return false;
}

static bool get_u32_prop(napi_env env, napi_value obj, const char *key, bool required, uint64_t *out,
                         bool *present, const char *what) {
  napi_value v = addon_get(env, obj, key);
  *present = !addon_is(env, v, napi_undefined);
  if (!*present) {
    if (required) addon_throw_type(env, "%s: descriptor.%s is required", what, key);
    return !required;
  }
  double d;
  if (napi_coerce_to_number(env, v, &v) != napi_ok || napi_get_value_double(env, v, &d) != napi_ok ||
      !(d >= 0) || d > 4294967295.0) {
    addon_throw_type(env, "%s: descriptor.%s must be a number from 0 to 2^32-1", what, key);
    return false;
  }
  *out = (uint64_t)d;
  return true;
}

static bool get_limits(napi_env env, napi_value desc, kiln_limits *limits, const char *what, bool memory) {
  if (!addon_is(env, desc, napi_object)) {
    addon_throw_type(env, "%s: the descriptor must be an object like {initial: 1, maximum: 10}", what);
    return false;
  }
  bool present;
  memset(limits, 0, sizeof *limits);
  if (!get_u32_prop(env, desc, "initial", true, &limits->min, &present, what) ||
      !get_u32_prop(env, desc, "maximum", false, &limits->max, &limits->has_max, what))
    return false;
  if (memory) { /* a shared memory (the threads proposal): ToBoolean, and it needs a maximum */
    napi_value shared = addon_get(env, desc, "shared");
    if (napi_coerce_to_bool(env, shared, &shared) != napi_ok || napi_get_value_bool(env, shared, &limits->shared) != napi_ok)
      return false;
  }
  if (limits->has_max && limits->max < limits->min) {
    napi_throw_range_error(env, NULL, "the maximum is below the initial size");
    return false;
  }
  if (limits->shared && !limits->has_max) {
    addon_throw_type(env, "%s: a shared memory needs a maximum", what);
    return false;
  }
  return true;
}

/* ---------------------------------------------------------------- Memory */

static void memory_unlist(node_memory *m) {
  if (!m->listed) return;
  for (node_memory **link = &m->s->memories; *link; link = &(*link)->next) {
    if (*link == m) {
      *link = m->next;
      break;
    }
  }
  m->listed = false;
}

/* Detach m's buffer; or, for a shared memory that grew (keep: its old buffers stay valid,
 * as the standard's shared memories' do: the memory never moves), only forget it. A
 * SharedArrayBuffer (a twin's) is never detached: it holds its own reference to the bytes. */
static void detach_buffer(napi_env env, node_memory *m, bool keep) {
  if (!m->buffer) return;
  napi_value buffer;
  bool plain = false;
  if (!keep && napi_get_reference_value(env, m->buffer, &buffer) == napi_ok && buffer &&
      napi_is_arraybuffer(env, buffer, &plain) == napi_ok && plain)
    napi_detach_arraybuffer(env, buffer);
  napi_delete_reference(env, m->buffer);
  m->buffer = NULL;
}

static bool memory_shared(const node_memory *m) { return kiln_memory_limits(m->memory).shared; }

void memories_detach(napi_env env, node_store *s, bool only_grown) {
  for (node_memory **link = &s->memories; *link;) {
    node_memory *m = *link;
    if (!only_grown || !s->store || kiln_memory_size(m->memory) != m->buffer_size) {
      detach_buffer(env, m, only_grown && s->store && memory_shared(m));
      *link = m->next;
      m->listed = false;
    } else {
      link = &m->next;
    }
  }
}

static void memory_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  node_memory *m = data;
  addon_release_ref(m->s->a, m->buffer);
  wrapper_forget(m->s, m->memory, m);
  memory_unlist(m);
  store_unref(env, m->s);
  free(m);
}

static napi_value memory_new(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1], self;
  napi_get_cb_info(env, info, &argc, args, &self, NULL);
  if (!addon_require_new(env, info, "Memory")) return NULL;
  node_memory *m = calloc(1, sizeof *m);
  void *existing;
  if (!m) return addon_throw_error(env, "kiln: out of memory"), NULL;
  if (wrapped_existing(env, argc, args, &existing)) {
    node_memory *from = existing;
    m->s = from->s;
    m->memory = from->memory;
    store_ref(m->s);
  } else {
    kiln_limits limits;
    if (!get_limits(env, argc ? args[0] : NULL, &limits, "new Memory(descriptor)", true)) return free(m), NULL;
    m->s = store_loose(env); /* the reference is this object's */
    if (!m->s) return free(m), addon_throw_error(env, "kiln: out of memory"), NULL;
    kiln_error err;
    m->memory = kiln_memory_new(m->s->store, limits, &err);
    if (!m->memory) {
      napi_throw_range_error(env, NULL, err.message);
      store_unref(env, m->s);
      return free(m), NULL;
    }
  }
  store_account(env, m->s);
  napi_type_tag_object(env, self, &memory_tag);
  addon_wrap(env, addon_of(env), self, m, memory_finalize);
  wrapper_remember(env, m->s, m->memory, m, self); /* (read back later: this object) */
  return self;
}

/* A memory's ArrayBuffer was collected: the reference it held on its store goes. */
static void buffer_released(napi_env env, void *data, void *hint) {
  (void)data;
  store_unref(env, hint);
}

/* Shared memories' buffers. Node-API cannot make a SharedArrayBuffer over memory it did not
 * allocate (nodejs/node#62259), but V8 makes them for its own shared WebAssembly.Memory, and
 * a Uint8Array over one tells Node-API where its bytes are. So a shared memory gets a twin:
 * a V8 shared memory of its size and maximum whose pages kiln_memory_alias replaces with the
 * kiln memory's own bytes, the new ones each time the twin grows after it (V8 grows a shared
 * memory in place, so they are pages V8 reserved for it). V8 then hands out
 * SharedArrayBuffers over kiln's bytes as the standard wants them: frozen, never detached, an
 * old one keeping its length while the new one is longer. The helpers use the built-ins as
 * they were at load: [make(pages, maximum) -> [twin, Uint8Array over it],
 * grow(twin, pages, refresh) -> the twin's pages before it grew to `pages` (by 0 if it had
 * them and `refresh`: after Memory.grow(0) the buffer is a new one), buffer(twin) -> its
 * SharedArrayBuffer, empty() -> a frozen empty SharedArrayBuffer]. */
void twin_helpers_init(napi_env env, addon *a) {
  static const char source[] =
      "'use strict';"
      "(function () {"
      "  if (typeof WebAssembly !== 'object' || typeof WebAssembly.Memory !== 'function' ||"
      "      typeof SharedArrayBuffer !== 'function') return null;"
      "  const Memory = WebAssembly.Memory, grow = Memory.prototype.grow;"
      "  const buffer = Object.getOwnPropertyDescriptor(Memory.prototype, 'buffer').get;"
      "  const apply = Reflect.apply, U8 = Uint8Array, freeze = Object.freeze, SAB = SharedArrayBuffer;"
      "  return ["
      "    (initial, maximum) => {"
      "      const twin = new Memory({ __proto__: null, initial, maximum, shared: true });"
      "      return [twin, new U8(apply(buffer, twin, []))];"
      "    },"
      "    (twin, pages, refresh) => {"
      "      const have = apply(buffer, twin, []).byteLength / 65536;"
      "      if (have < pages || refresh) apply(grow, twin, [pages - have]);"
      "      return have;"
      "    },"
      "    (twin) => apply(buffer, twin, []),"
      "    () => freeze(new SAB(0)),"
      "  ];"
      "})()";
  napi_value script, helpers, ignored;
  napi_valuetype type;
  if (napi_create_string_utf8(env, source, sizeof source - 1, &script) != napi_ok ||
      napi_run_script(env, script, &helpers) != napi_ok || napi_typeof(env, helpers, &type) != napi_ok ||
      type != napi_object) {
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
    return;
  }
  napi_create_reference(env, helpers, 1, &a->twin_helpers);
}

enum { TWIN_MAKE, TWIN_GROW, TWIN_BUFFER, TWIN_EMPTY };

static bool twin_helper(napi_env env, addon *a, uint32_t which, size_t argc, napi_value *argv, napi_value *result) {
  napi_value helpers, fn, undefined;
  return napi_get_reference_value(env, a->twin_helpers, &helpers) == napi_ok &&
         napi_get_element(env, helpers, which, &fn) == napi_ok && napi_get_undefined(env, &undefined) == napi_ok &&
         napi_call_function(env, undefined, fn, argc, argv, result) == napi_ok;
}

/* A shared memory's twin, one per kiln memory for the life of its store (so that every
 * SharedArrayBuffer of the memory is over the same addresses, as Atomics.wait and notify
 * need), made on first use. */
struct memory_twin {
  kiln_memory *memory;
  napi_ref ref;    /* strong: the V8 WebAssembly.Memory */
  void *data;      /* where its bytes are */
  uint64_t size;   /* how many of them are the memory's (aliased) */
  bool failed;     /* making or growing it failed: frozen ArrayBuffers instead */
};

void twins_free(node_store *s) {
  for (uint32_t i = 0; i < s->twin_count; i++) addon_release_ref(s->a, s->twins[i].ref);
  free(s->twins);
  s->twins = NULL;
  s->twin_count = 0;
}

static struct memory_twin *twin_of(node_store *s, kiln_memory *memory) {
  for (uint32_t i = 0; i < s->twin_count; i++)
    if (s->twins[i].memory == memory) return &s->twins[i];
  struct memory_twin *grown = realloc(s->twins, (s->twin_count + 1) * sizeof *grown);
  if (!grown) return NULL;
  s->twins = grown;
  grown[s->twin_count] = (struct memory_twin){.memory = memory};
  return &grown[s->twin_count++];
}

/* A shared memory's SharedArrayBuffer of `size` bytes, from its twin (a new buffer if
 * `refresh`); NULL with nothing pending where there can be none (the caller falls back to
 * ArrayBuffers). */
static napi_value shared_buffer(napi_env env, node_memory *m, uint64_t size, bool refresh) {
  addon *a = m->s->a;
  struct memory_twin *t = a->twin_helpers ? twin_of(m->s, m->memory) : NULL;
  napi_value result = NULL, twin, pair, view, pages;
  kiln_error err;
  if (!t || t->failed) return NULL;
  if (!size && !t->ref) return twin_helper(env, a, TWIN_EMPTY, 0, NULL, &result) ? result : NULL;
  napi_create_double(env, (double)(size / KILN_PAGE_SIZE), &pages);
  if (!t->ref) {
    napi_value args[2] = {pages, NULL};
    napi_create_double(env, (double)kiln_memory_limits(m->memory).max, &args[1]);
    size_t length = 0;
    napi_typedarray_type type;
    if (!twin_helper(env, a, TWIN_MAKE, 2, args, &pair) || napi_get_element(env, pair, 0, &twin) != napi_ok ||
        napi_get_element(env, pair, 1, &view) != napi_ok ||
        napi_get_typedarray_info(env, view, &type, &length, &t->data, NULL, NULL) != napi_ok || length != size ||
        kiln_memory_alias(m->memory, t->data, 0, size, &err) != KILN_OK ||
        napi_create_reference(env, twin, 1, &t->ref) != napi_ok)
      goto fail;
    t->size = size;
  } else if (size != t->size || refresh) {
    napi_value args[3] = {NULL, pages, NULL}, had;
    uint32_t had_pages;
    if (napi_get_reference_value(env, t->ref, &args[0]) != napi_ok || !args[0]) goto fail;
    napi_get_boolean(env, refresh, &args[2]);
    if (!twin_helper(env, a, TWIN_GROW, 3, args, &had) || napi_get_value_uint32(env, had, &had_pages) != napi_ok ||
        (uint64_t)had_pages * KILN_PAGE_SIZE != t->size)
      goto fail;
    /* the pages V8 just opened become the memory's */
    if (kiln_memory_alias(m->memory, (uint8_t *)t->data + t->size, t->size, size - t->size, &err) != KILN_OK)
      goto fail;
    t->size = size;
  }
  if (napi_get_reference_value(env, t->ref, &twin) == napi_ok && twin &&
      twin_helper(env, a, TWIN_BUFFER, 1, &twin, &result))
    return result;
fail:
  /* (V8 refused: out of address space, say; the memory's buffers are ArrayBuffers from now,
   * and the twin goes: the buffers it gave keep what they hold) */
  t->failed = true;
  if (t->ref) napi_delete_reference(env, t->ref);
  t->ref = NULL;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &view);
  return NULL;
}

static napi_value memory_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  node_memory *m = this_object(env, info, &memory_tag, &argc, NULL, "Memory");
  if (!m) return NULL;
  uint64_t size = kiln_memory_size(m->memory);
  napi_value buffer;
  if (m->buffer) {
    if (napi_get_reference_value(env, m->buffer, &buffer) == napi_ok && buffer && m->buffer_size == size)
      return buffer;
    detach_buffer(env, m, memory_shared(m));
  }
  if (memory_shared(m) && (buffer = shared_buffer(env, m, size, m->refresh))) {
    m->refresh = false;
    /* (it holds kiln's storage, which outlives the memory: nothing to keep alive) */
  } else {
    /* The buffer keeps the store, and so the memory, alive until it is collected: a store
     * freed by the garbage collector (whose finalizers cannot touch JavaScript) never has a
     * live buffer to detach. close() detaches them. */
    if (napi_create_external_arraybuffer(env, kiln_memory_data(m->memory), (size_t)size, buffer_released, m->s,
                                         &buffer) != napi_ok)
      return NULL;
    store_ref(m->s);
    /* (a shared memory without a twin: its buffers are frozen ArrayBuffers) */
    if (memory_shared(m)) napi_object_freeze(env, buffer);
  }
  napi_create_reference(env, buffer, 0, &m->buffer);
  m->buffer_size = size;
  if (!m->listed) {
    m->next = m->s->memories;
    m->s->memories = m;
    m->listed = true;
  }
  return buffer;
}

static napi_value memory_grow(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, result;
  node_memory *m = this_object(env, info, &memory_tag, &argc, &arg, "Memory");
  if (!m) return NULL;
  uint32_t delta;
  if (!addon_enforce_u32(env, argc ? arg : NULL, "Memory.grow(delta): delta, a number of 64 KiB pages,", &delta))
    return NULL;
  uint64_t old_pages;
  if (kiln_memory_grow(m->memory, delta, &old_pages) != KILN_OK) {
    napi_throw_range_error(env, NULL, "Memory.grow: the memory cannot grow that much (its maximum or the memory limit)");
    return NULL;
  }
  store_account(env, m->s);
  /* the standard detaches on every grow: the memories that grew, and this one even by 0
   * (but for a shared memory, whose buffers stay valid: the next is a new one) */
  memories_detach(env, m->s, true);
  if (m->buffer) {
    detach_buffer(env, m, memory_shared(m));
    memory_unlist(m);
  }
  m->refresh = memory_shared(m);
  napi_create_double(env, (double)old_pages, &result);
  return result;
}

static napi_value memory_size(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  node_memory *m = this_object(env, info, &memory_tag, &argc, NULL, "Memory");
  if (!m) return NULL;
  napi_value result;
  napi_create_double(env, (double)(kiln_memory_size(m->memory) / KILN_PAGE_SIZE), &result);
  return result;
}

napi_value memory_class(napi_env env, addon *a) {
  napi_property_descriptor props[] = {
      {.utf8name = "buffer", .getter = memory_buffer, .attributes = napi_enumerable | napi_configurable},
      {.utf8name = "size", .getter = memory_size, .attributes = napi_enumerable | napi_configurable},
      {.utf8name = "grow", .method = memory_grow, .attributes = napi_default_method},
  };
  napi_value cls;
  napi_define_class(env, "Memory", NAPI_AUTO_LENGTH, memory_new, NULL, sizeof props / sizeof props[0], props, &cls);
  napi_create_reference(env, cls, 1, &a->memory_ctor);
  return cls;
}

/* ---------------------------------------------------------------- Table */

static void table_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  node_table *t = data;
  wrapper_forget(t->s, t->table, t);
  store_unref(env, t->s);
  free(t);
}

/* args[i], or undefined when fewer arguments were given. */
static napi_value optional_arg(napi_env env, size_t argc, napi_value *args, size_t i) {
  napi_value v;
  if (i < argc) return args[i];
  napi_get_undefined(env, &v);
  return v;
}

static bool elem_type(napi_env env, napi_value desc, kiln_valtype *out, const char *what) {
  char name[16];
  size_t len;
  napi_value v = addon_get(env, desc, "element");
  /* an enumeration member: ToString first (an object's toString may throw) */
  if (!addon_is(env, v, napi_string) && !addon_is(env, v, napi_symbol) && napi_coerce_to_string(env, v, &v) != napi_ok)
    return false;
  if (napi_get_value_string_utf8(env, v, name, sizeof name, &len) != napi_ok || len != strlen(name) ||
      (strcmp(name, "anyfunc") && strcmp(name, "funcref") && strcmp(name, "externref"))) {
    addon_throw_type(env, "%s: descriptor.element must be \"funcref\" or \"externref\"", what);
    return false;
  }
  *out = strcmp(name, "externref") == 0 ? KILN_EXTERNREF : KILN_FUNCREF;
  return true;
}

static napi_value table_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], self;
  napi_get_cb_info(env, info, &argc, args, &self, NULL);
  if (!addon_require_new(env, info, "Table")) return NULL;
  node_table *t = calloc(1, sizeof *t);
  void *existing;
  if (!t) return addon_throw_error(env, "kiln: out of memory"), NULL;
  bool wrapped = wrapped_existing(env, argc, args, &existing);
  if (wrapped) {
    *t = *(node_table *)existing;
    store_ref(t->s);
  } else {
    const char *what = "new Table(descriptor, value)";
    kiln_limits limits;
    kiln_valtype type;
    if (!get_limits(env, argc ? args[0] : NULL, &limits, what, false) || !elem_type(env, args[0], &type, what))
      return free(t), NULL;
    t->s = store_loose(env);
    if (!t->s) return free(t), addon_throw_error(env, "kiln: out of memory"), NULL;
    kiln_val init = {.type = type};
    napi_valuetype vt = napi_undefined;
    if (argc >= 2) napi_typeof(env, args[1], &vt);
    /* a missing value is the default: null for funcref, undefined for externref */
    if ((vt != napi_undefined || type == KILN_EXTERNREF) &&
        !value_to_wasm(env, addon_of(env), t->s, optional_arg(env, argc, args, 1), type, &init, what, 1)) {
      store_unref(env, t->s);
      return free(t), NULL;
    }
    kiln_error err;
    t->table = kiln_table_new(t->s->store, type, limits, init, &err);
    if (!t->table) {
      napi_throw_range_error(env, NULL, err.message);
      store_unref(env, t->s);
      return free(t), NULL;
    }
  }
  napi_type_tag_object(env, self, &table_tag);
  addon_wrap(env, addon_of(env), self, t, table_finalize);
  wrapper_remember(env, t->s, t->table, t, self); /* (read back later: this object) */
  return self;
}

/* A table index as the standard converts it ([EnforceRange] unsigned long: ToNumber, then a
 * TypeError for NaN, infinities and values outside 0..2^32-1), then a RangeError past the end. */
static bool table_index(napi_env env, node_table *t, napi_value v, uint32_t *out, const char *what) {
  char name[96];
  snprintf(name, sizeof name, "%s: index", what);
  if (!addon_enforce_u32(env, v, name, out)) return false;
  if (*out >= kiln_table_size(t->table)) {
    addon_throw_range(env, "%s: index %u out of range (the table has %u elements)", what, *out, kiln_table_size(t->table));
    return false;
  }
  return true;
}

static napi_value table_get(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  node_table *t = this_object(env, info, &table_tag, &argc, &arg, "Table");
  uint32_t i;
  if (!t || !table_index(env, t, argc ? arg : NULL, &i, "Table.get(index)")) return NULL;
  kiln_val v;
  kiln_table_get(t->table, i, &v);
  return value_from_wasm(env, addon_of(env), t->s, &v);
}

static napi_value table_set(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  node_table *t = this_object(env, info, &table_tag, &argc, args, "Table");
  uint32_t i;
  if (!t || !table_index(env, t, argc ? args[0] : NULL, &i, "Table.set(index, value)"))
    return NULL;
  kiln_val v = {.type = kiln_table_elem_type(t->table)};
  if ((argc >= 2 || v.type == KILN_EXTERNREF) &&
      !value_to_wasm(env, addon_of(env), t->s, optional_arg(env, argc, args, 1), v.type, &v, "Table.set", 1))
    return NULL;
  kiln_table_set(t->table, i, v);
  return NULL;
}

static napi_value table_grow(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], result;
  node_table *t = this_object(env, info, &table_tag, &argc, args, "Table");
  if (!t) return NULL;
  uint32_t delta;
  if (!addon_enforce_u32(env, argc ? args[0] : NULL, "Table.grow(delta, value): delta, a number of elements,", &delta))
    return NULL;
  kiln_val v = {.type = kiln_table_elem_type(t->table)};
  if ((argc >= 2 || v.type == KILN_EXTERNREF) &&
      !value_to_wasm(env, addon_of(env), t->s, optional_arg(env, argc, args, 1), v.type, &v, "Table.grow", 1))
    return NULL;
  uint32_t old_size;
  if (kiln_table_grow(t->table, delta, v, &old_size) != KILN_OK) {
    napi_throw_range_error(env, NULL, "Table.grow: the table cannot grow that much");
    return NULL;
  }
  napi_create_uint32(env, old_size, &result);
  return result;
}

static napi_value table_length(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  node_table *t = this_object(env, info, &table_tag, &argc, NULL, "Table");
  return t ? addon_u32(env, kiln_table_size(t->table)) : NULL;
}

napi_value table_class(napi_env env, addon *a) {
  napi_property_descriptor props[] = {
      {.utf8name = "length", .getter = table_length, .attributes = napi_enumerable | napi_configurable},
      {.utf8name = "get", .method = table_get, .attributes = napi_default_method},
      {.utf8name = "set", .method = table_set, .attributes = napi_default_method},
      {.utf8name = "grow", .method = table_grow, .attributes = napi_default_method},
  };
  napi_value cls;
  napi_define_class(env, "Table", NAPI_AUTO_LENGTH, table_new, NULL, sizeof props / sizeof props[0], props, &cls);
  napi_create_reference(env, cls, 1, &a->table_ctor);
  return cls;
}

/* ---------------------------------------------------------------- Global */

static void global_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  node_global *g = data;
  wrapper_forget(g->s, g->global, g);
  store_unref(env, g->s);
  free(g);
}

static bool value_type(napi_env env, napi_value desc, kiln_valtype *out, const char *what) {
  static const struct { const char *name; kiln_valtype type; } types[] = {
      {"i32", KILN_I32}, {"i64", KILN_I64}, {"f32", KILN_F32}, {"f64", KILN_F64},
      {"externref", KILN_EXTERNREF}, {"anyfunc", KILN_FUNCREF}, {"funcref", KILN_FUNCREF},
  };
  char name[16];
  size_t len;
  napi_value v = addon_get(env, desc, "value");
  if (!addon_is(env, v, napi_string) && !addon_is(env, v, napi_symbol) && napi_coerce_to_string(env, v, &v) != napi_ok)
    return false;
  if (napi_get_value_string_utf8(env, v, name, sizeof name, &len) == napi_ok)
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) /* (the whole string: "i32\0" is not i32) */
      if (len == strlen(types[i].name) && strcmp(name, types[i].name) == 0) return *out = types[i].type, true;
  addon_throw_type(env, "%s: descriptor.value must be \"i32\", \"i64\", \"f32\", \"f64\", \"externref\" or \"funcref\"",
                   what);
  return false;
}

static napi_value global_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], self;
  napi_get_cb_info(env, info, &argc, args, &self, NULL);
  if (!addon_require_new(env, info, "Global")) return NULL;
  node_global *g = calloc(1, sizeof *g);
  void *existing;
  if (!g) return addon_throw_error(env, "kiln: out of memory"), NULL;
  if (wrapped_existing(env, argc, args, &existing)) {
    *g = *(node_global *)existing;
    store_ref(g->s);
  } else {
    const char *what = "new Global(descriptor, value)";
    kiln_valtype type;
    if (argc < 1 || !addon_is_object(env, args[0])) {
      addon_throw_type(env, "%s: descriptor must be an object ({ value: 'i32', mutable: true })", what);
      return free(g), NULL;
    }
    /* as the standard: descriptor.mutable (any value, as a boolean) before descriptor.value */
    napi_value mutable_value;
    bool is_mutable = false;
    if (napi_coerce_to_bool(env, addon_get(env, args[0], "mutable"), &mutable_value) != napi_ok)
      return free(g), NULL;
    napi_get_value_bool(env, mutable_value, &is_mutable);
    if (!value_type(env, args[0], &type, what)) return free(g), NULL;
    g->s = store_loose(env);
    if (!g->s) return free(g), addon_throw_error(env, "kiln: out of memory"), NULL;
    kiln_val v = {.type = type};
    napi_valuetype vt = napi_undefined;
    napi_value initial = optional_arg(env, argc, args, 1);
    napi_typeof(env, initial, &vt);
    bool saved = g->s->lenient;
    g->s->lenient = true; /* the standard coerces the initial value */
    /* a missing value is the type's default: 0, null for funcref, undefined for externref */
    bool ok = (vt == napi_undefined && type != KILN_EXTERNREF) ||
              value_to_wasm(env, addon_of(env), g->s, initial, type, &v, what, 1);
    g->s->lenient = saved;
    if (!ok) {
      store_unref(env, g->s);
      return free(g), NULL;
    }
    g->global = kiln_global_new(g->s->store, type, is_mutable, v);
  }
  napi_type_tag_object(env, self, &global_tag);
  addon_wrap(env, addon_of(env), self, g, global_finalize);
  wrapper_remember(env, g->s, g->global, g, self); /* (read back later: this object) */
  return self;
}

static napi_value global_get_value(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  node_global *g = this_object(env, info, &global_tag, &argc, NULL, "Global");
  if (!g) return NULL;
  kiln_val v = kiln_global_get(g->global);
  return value_from_wasm(env, addon_of(env), g->s, &v);
}

static napi_value global_set_value(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  node_global *g = this_object(env, info, &global_tag, &argc, &arg, "Global");
  if (!g) return NULL;
  if (!kiln_global_mutable(g->global)) {
    addon_throw_type(env, "Global.value: the global is immutable");
    return NULL;
  }
  kiln_val v;
  bool saved = g->s->lenient;
  g->s->lenient = true; /* the standard coerces the value (ToBigInt64 for i64, ToNumber else) */
  bool ok = value_to_wasm(env, addon_of(env), g->s, optional_arg(env, argc, &arg, 0), kiln_global_type(g->global), &v,
                          "Global.value", 0);
  g->s->lenient = saved;
  if (!ok) return NULL;
  kiln_global_set(g->global, v);
  return NULL;
}

napi_value global_class(napi_env env, addon *a) {
  napi_property_descriptor props[] = {
      {.utf8name = "value", .getter = global_get_value, .setter = global_set_value,
       .attributes = napi_enumerable | napi_configurable},
  };
  napi_value cls;
  napi_define_class(env, "Global", NAPI_AUTO_LENGTH, global_new, NULL, 1, props, &cls);
  napi_create_reference(env, cls, 1, &a->global_ctor);
  return cls;
}

/* ---------------------------------------------------------------- externs */

/* Make an object of class ctor around an existing kiln object (the constructor copies it). */
static napi_value wrap_existing(napi_env env, napi_ref ctor_ref, void *existing) {
  napi_value ctor, ext, obj;
  napi_get_reference_value(env, ctor_ref, &ctor);
  napi_create_external(env, existing, NULL, NULL, &ext);
  if (napi_new_instance(env, ctor, 1, &ext, &obj) != napi_ok) return NULL;
  return obj;
}

napi_value extern_to_js(napi_env env, addon *a, node_store *s, napi_value owner, const kiln_extern *e,
                        const char *name) {
  napi_value obj = NULL;
  if (e->kind != KILN_EXTERN_FUNC) { /* one handed out before: the same object */
    obj = wrapper_find(env, s, e->kind == KILN_EXTERN_MEMORY ? (const void *)e->of.memory
                               : e->kind == KILN_EXTERN_TABLE ? (const void *)e->of.table : (const void *)e->of.global);
    if (obj) return obj;
  }
  switch (e->kind) {
    case KILN_EXTERN_FUNC: return function_to_js(env, a, s, owner, e->of.func, name);
    case KILN_EXTERN_MEMORY: {
      node_memory m = {.s = s, .memory = e->of.memory};
      obj = wrap_existing(env, a->memory_ctor, &m);
      break;
    }
    case KILN_EXTERN_TABLE: {
      node_table t = {.s = s, .table = e->of.table};
      obj = wrap_existing(env, a->table_ctor, &t);
      break;
    }
    case KILN_EXTERN_GLOBAL: {
      node_global g = {.s = s, .global = e->of.global};
      obj = wrap_existing(env, a->global_ctor, &g);
      break;
    }
  }
  if (obj && owner) addon_set_owner(env, a, obj, owner);
  return obj;
}

bool extern_from_js(napi_env env, napi_value v, kiln_extern *out, node_store **store) {
  node_memory *m = unwrap_tagged(env, v, &memory_tag);
  if (m) {
    out->kind = KILN_EXTERN_MEMORY, out->of.memory = m->memory, *store = m->s;
    return true;
  }
  node_table *t = unwrap_tagged(env, v, &table_tag);
  if (t) {
    out->kind = KILN_EXTERN_TABLE, out->of.table = t->table, *store = t->s;
    return true;
  }
  node_global *g = unwrap_tagged(env, v, &global_tag);
  if (g) {
    out->kind = KILN_EXTERN_GLOBAL, out->of.global = g->global, *store = g->s;
    return true;
  }
  return false;
}
