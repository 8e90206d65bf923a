/* nn.c - the WASI-NN host module wasi_ephemeral_nn (the witx ABI of wasi-nn, as WasmEdge and
 * Wasmtime implement it), on kiln.h only, like src/wasi/: the guest's graphs and execution
 * contexts as handles, every pointer and length it passes checked against its memory, tensors
 * copied in and out, limits on what one instance may hold, and interruption (a timeout, an
 * AbortSignal) stopping an inference under way. The backend is ONNX Runtime (onnx.c). */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <sys/stat.h>

#include "kiln.h"
#include "nn_impl.h"

#define NN_ENCODING_ONNX 1
#define NN_ENCODING_AUTODETECT 5
#define NN_TARGET_CPU 0
#define NN_TARGET_GPU 1
#define NN_TARGET_TPU 2
#define NN_TARGET_AUTO 3 /* WasmEdge's */

typedef struct nn_preload {
  char *name;
  char *path;
} nn_preload;

struct kiln_nn_config {
  char *onnxruntime;
  uint32_t threads;
  uint32_t max_graphs, max_contexts;
  nn_preload *preloads;
  size_t preload_count;
};

/* A preloaded model's graph, shared by every instance that loads the same file with the same
 * number of threads (ONNX Runtime runs one session on several threads at once): a pool's
 * instances hold one session per model, not one each. */
typedef struct shared_graph {
  struct shared_graph *next;
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime; /* (a file rewritten in place is another model) */
  uint32_t threads;
  onnx_graph *graph;
  unsigned refs; /* the graph slots holding it; under shared_lock */
} shared_graph;

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_graph *shared_graphs;

typedef struct nn_graph_slot {
  onnx_graph *graph;    /* NULL: a free id */
  shared_graph *shared; /* a preloaded model's graph, released through shared_release */
} nn_graph_slot;

typedef struct nn_context_slot {
  onnx_context *context; /* NULL: a free id */
  uint32_t graph;
} nn_context_slot;

enum { NN_LOAD, NN_LOAD_BY_NAME, NN_LOAD_BY_NAME_WITH_CONFIG, NN_INIT_EXECUTION_CONTEXT, NN_SET_INPUT,
       NN_COMPUTE, NN_GET_OUTPUT, NN_UNLOAD, NN_FINALIZE_EXECUTION_CONTEXT, NN_FUNC_COUNT };

struct kiln_nn {
  kiln_store *store;
  kiln_nn_config config;
  nn_graph_slot *graphs;
  uint32_t graph_count, graph_cap, live_graphs;
  nn_context_slot *contexts;
  uint32_t context_count, context_cap, live_contexts;
  uint32_t *preload_graph; /* per preload: its graph id + 1 once loaded, else 0 */
  _Atomic(onnx_context *) running; /* the compute under way, for interruption */
  atomic_int in_hook;
  kiln_func *funcs[NN_FUNC_COUNT];
  kiln_import *imports;
  char last_error[1024];
};

/* ------------------------------------------------------------------ configuration */

kiln_nn_config *kiln_nn_config_new(void) {
  kiln_nn_config *c = calloc(1, sizeof *c);
  if (c) {
    c->max_graphs = 16;
    c->max_contexts = 64;
  }
  return c;
}

static void config_clear(kiln_nn_config *c) {
  free(c->onnxruntime);
  for (size_t i = 0; i < c->preload_count; i++) {
    free(c->preloads[i].name);
    free(c->preloads[i].path);
  }
  free(c->preloads);
}

void kiln_nn_config_free(kiln_nn_config *c) {
  if (!c) return;
  config_clear(c);
  free(c);
}

static kiln_status set_error(kiln_error *err, kiln_status status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static kiln_status set_error(kiln_error *err, kiln_status status, const char *format, ...) {
  if (!err) return status;
  memset(err, 0, sizeof *err);
  err->status = status;
  va_list ap;
  va_start(ap, format);
  vsnprintf(err->message, sizeof err->message, format, ap);
  va_end(ap);
  return status;
}

kiln_status kiln_nn_config_set_onnxruntime(kiln_nn_config *c, const char *path) {
  char *copy = path ? strdup(path) : NULL;
  if (path && !copy) return KILN_ERR_NOMEM;
  free(c->onnxruntime);
  c->onnxruntime = copy;
  return KILN_OK;
}

void kiln_nn_config_set_threads(kiln_nn_config *c, uint32_t threads) { c->threads = threads; }

void kiln_nn_config_set_limits(kiln_nn_config *c, uint32_t max_graphs, uint32_t max_contexts) {
  c->max_graphs = max_graphs;
  c->max_contexts = max_contexts;
}

kiln_status kiln_nn_config_preload(kiln_nn_config *c, const char *name, const char *encoding, const char *target,
                                   const char *path, kiln_error *err) {
  if (!name || !*name) return set_error(err, KILN_ERR_ARGUMENT, "WASI-NN preload: the model needs a name");
  if (strcasecmp(encoding, "onnx") != 0 && strcasecmp(encoding, "autodetect") != 0)
    return set_error(err, KILN_ERR_ARGUMENT,
                     "WASI-NN preload '%s': the encoding '%s' is not supported (kiln runs ONNX models: onnx)", name,
                     encoding);
  if (strcasecmp(target, "cpu") != 0 && strcasecmp(target, "auto") != 0)
    return set_error(err, KILN_ERR_ARGUMENT,
                     "WASI-NN preload '%s': the target '%s' is not supported (kiln runs models on the CPU: cpu or auto)",
                     name, target);
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
    return set_error(err, KILN_ERR_NOT_FOUND, "WASI-NN preload '%s': cannot read the model '%s'", name, path);
  for (size_t i = 0; i < c->preload_count; i++)
    if (strcmp(c->preloads[i].name, name) == 0)
      return set_error(err, KILN_ERR_ARGUMENT, "WASI-NN preload: the name '%s' is given twice", name);
  nn_preload *grown = realloc(c->preloads, (c->preload_count + 1) * sizeof *grown);
  if (!grown) return set_error(err, KILN_ERR_NOMEM, "out of memory");
  c->preloads = grown;
  nn_preload *p = &c->preloads[c->preload_count];
  p->name = strdup(name);
  p->path = strdup(path);
  if (!p->name || !p->path) {
    free(p->name);
    free(p->path);
    return set_error(err, KILN_ERR_NOMEM, "out of memory");
  }
  c->preload_count++;
  return KILN_OK;
}

kiln_status kiln_nn_config_preload_spec(kiln_nn_config *c, const char *spec, kiln_error *err) {
  /* NAME:ENCODING:TARGET:PATH (the path may hold ':') */
  char *copy = strdup(spec);
  if (!copy) return set_error(err, KILN_ERR_NOMEM, "out of memory");
  char *parts[3];
  char *at = copy;
  for (int i = 0; i < 3; i++) {
    char *colon = strchr(at, ':');
    if (!colon) {
      free(copy);
      return set_error(err, KILN_ERR_ARGUMENT,
                       "WASI-NN preload '%s': expected NAME:ENCODING:TARGET:PATH (e.g. model:onnx:cpu:model.onnx)", spec);
    }
    *colon = 0;
    parts[i] = at;
    at = colon + 1;
  }
  kiln_status status = kiln_nn_config_preload(c, parts[0], parts[1], parts[2], at, err);
  free(copy);
  return status;
}

kiln_status kiln_nn_check(const kiln_nn_config *c, kiln_error *err) {
  char why[1024];
  if (onnx_available(c ? c->onnxruntime : NULL, why, sizeof why)) return KILN_OK;
  return set_error(err, KILN_ERR_NOT_FOUND, "%s", why);
}

/* ------------------------------------------------------------------ the guest's view */

/* The error the guest gets, its reason kept for kiln_nn_last_error. */
static int32_t nn_fail(kiln_nn *nn, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));
static int32_t nn_fail(kiln_nn *nn, int code, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vsnprintf(nn->last_error, sizeof nn->last_error, format, ap);
  va_end(ap);
  return code;
}

/* The guest's bytes [ptr, ptr + len), or NULL when they are not all in its memory. */
static uint8_t *guest_bytes(kiln_caller *caller, uint32_t ptr, uint64_t len) {
  kiln_memory *memory = kiln_caller_memory(caller);
  if (!memory) return NULL;
  uint64_t size = kiln_memory_size(memory);
  if ((uint64_t)ptr + len > size) return NULL;
  return kiln_memory_data(memory) + ptr;
}

static uint32_t read_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void write_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* Where a call writes its result (a handle, a size): 4 bytes of guest memory, or NULL after
 * recording why (the call then returns invalid_argument). */
static uint8_t *result_at(kiln_nn *nn, kiln_caller *caller, uint32_t ptr, const char *call) {
  uint8_t *at = guest_bytes(caller, ptr, 4);
  if (!at) nn_fail(nn, NN_INVALID_ARGUMENT, "%s: the result pointer %#x is outside the guest's memory", call, ptr);
  return at;
}

static void shared_release(shared_graph *sg) {
  pthread_mutex_lock(&shared_lock);
  bool last = --sg->refs == 0;
  if (last)
    for (shared_graph **link = &shared_graphs; *link; link = &(*link)->next)
      if (*link == sg) {
        *link = sg->next;
        break;
      }
  pthread_mutex_unlock(&shared_lock);
  if (last) {
    onnx_graph_free(sg->graph);
    free(sg);
  }
}

/* Let go of a graph slot's graph. */
static void slot_release(nn_graph_slot *slot) {
  if (slot->shared)
    shared_release(slot->shared);
  else
    onnx_graph_free(slot->graph);
  slot->graph = NULL;
  slot->shared = NULL;
}

static bool graph_room(kiln_nn *nn) {
  if (nn->live_graphs < nn->config.max_graphs) return true;
  nn_fail(nn, NN_BUSY, "load: the instance holds %u graphs already, its limit (unload one first)", nn->live_graphs);
  return false;
}

/* Give graph (or shared's) an id in nn; on failure the caller still owns it. */
static int32_t place_graph(kiln_nn *nn, onnx_graph *graph, shared_graph *shared, uint32_t *id) {
  uint32_t slot = nn->graph_count;
  for (uint32_t i = 0; i < nn->graph_count; i++)
    if (!nn->graphs[i].graph) {
      slot = i;
      break;
    }
  if (slot == nn->graph_count) {
    if (nn->graph_count == nn->graph_cap) {
      uint32_t cap = nn->graph_cap ? nn->graph_cap * 2 : 4;
      nn_graph_slot *grown = realloc(nn->graphs, cap * sizeof *grown);
      if (!grown) return nn_fail(nn, NN_RUNTIME_ERROR, "load: out of memory");
      nn->graphs = grown;
      nn->graph_cap = cap;
    }
    nn->graph_count++;
  }
  nn->graphs[slot].graph = graph;
  nn->graphs[slot].shared = shared;
  nn->live_graphs++;
  *id = slot;
  return NN_SUCCESS;
}

static int32_t add_graph(kiln_nn *nn, const uint8_t *model, size_t size, uint32_t *id) {
  if (!graph_room(nn)) return NN_BUSY;
  char why[900];
  if (!onnx_available(nn->config.onnxruntime, why, sizeof why)) return nn_fail(nn, NN_RUNTIME_ERROR, "load: %s", why);
  onnx_graph *graph;
  int code = onnx_graph_new(model, size, nn->config.threads, &graph, why, sizeof why);
  if (code != NN_SUCCESS) return nn_fail(nn, code, "load: %s", why);
  int32_t placed = place_graph(nn, graph, NULL, id);
  if (placed != NN_SUCCESS) onnx_graph_free(graph);
  return placed;
}

static bool same_file(const shared_graph *sg, const struct stat *st, uint32_t threads) {
  return sg->dev == st->st_dev && sg->ino == st->st_ino && sg->size == st->st_size &&
         sg->mtime.tv_sec == st->st_mtim.tv_sec && sg->mtime.tv_nsec == st->st_mtim.tv_nsec && sg->threads == threads;
}

/* Under the lock: the shared graph of the file st with threads, one more reference to it; else
 * `made` (NULL or a new graph with its one reference), now listed. */
static shared_graph *shared_take(const struct stat *st, uint32_t threads, shared_graph *made) {
  pthread_mutex_lock(&shared_lock);
  shared_graph *sg = shared_graphs;
  while (sg && !same_file(sg, st, threads)) sg = sg->next;
  if (sg) {
    sg->refs++;
  } else if (made) {
    made->next = shared_graphs;
    shared_graphs = sg = made;
  }
  pthread_mutex_unlock(&shared_lock);
  return sg;
}

/* A preloaded model's graph: the one another instance made from the same file, else a new one
 * (read and made outside the lock: two instances loading the same model at once may both make
 * it, and the second keeps the first's). */
static int32_t add_preloaded_graph(kiln_nn *nn, const nn_preload *p, uint32_t *id) {
  if (!graph_room(nn)) return NN_BUSY;
  char why[900];
  if (!onnx_available(nn->config.onnxruntime, why, sizeof why))
    return nn_fail(nn, NN_RUNTIME_ERROR, "load_by_name '%s': %s", p->name, why);
  struct stat st;
  FILE *f = fopen(p->path, "rb");
  uint8_t *bytes = NULL;
  shared_graph *sg = NULL;
  bool readable = f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
  if (readable && !(sg = shared_take(&st, nn->config.threads, NULL))) {
    bytes = malloc(st.st_size ? (size_t)st.st_size : 1);
    readable = bytes && fread(bytes, 1, (size_t)st.st_size, f) == (size_t)st.st_size;
  }
  if (f) fclose(f);
  if (!readable) {
    free(bytes);
    return nn_fail(nn, NN_RUNTIME_ERROR, "load_by_name '%s': cannot read '%s'", p->name, p->path);
  }
  if (!sg) {
    onnx_graph *graph;
    int code = onnx_graph_new(bytes, (size_t)st.st_size, nn->config.threads, &graph, why, sizeof why);
    free(bytes);
    if (code != NN_SUCCESS) return nn_fail(nn, code, "load_by_name '%s': %s", p->name, why);
    shared_graph *made = calloc(1, sizeof *made);
    if (!made) {
      onnx_graph_free(graph);
      return nn_fail(nn, NN_RUNTIME_ERROR, "load_by_name '%s': out of memory", p->name);
    }
    *made = (shared_graph){.dev = st.st_dev, .ino = st.st_ino, .size = st.st_size, .mtime = st.st_mtim,
                           .threads = nn->config.threads, .graph = graph, .refs = 1};
    sg = shared_take(&st, nn->config.threads, made);
    if (sg != made) { /* (another instance made it meanwhile) */
      onnx_graph_free(graph);
      free(made);
    }
  }
  int32_t placed = place_graph(nn, sg->graph, sg, id);
  if (placed != NN_SUCCESS) shared_release(sg);
  return placed;
}

static int32_t check_target(kiln_nn *nn, uint32_t encoding, uint32_t target) {
  if (encoding != NN_ENCODING_ONNX && encoding != NN_ENCODING_AUTODETECT)
    return nn_fail(nn, NN_INVALID_ENCODING, "load: graph encoding %u is not supported (kiln runs ONNX models: 1)", encoding);
  if (target == NN_TARGET_GPU || target == NN_TARGET_TPU)
    return nn_fail(nn, NN_UNSUPPORTED_OPERATION, "load: execution target %s is not supported (kiln runs models on the CPU)",
                   target == NN_TARGET_GPU ? "gpu" : "tpu");
  if (target != NN_TARGET_CPU && target != NN_TARGET_AUTO)
    return nn_fail(nn, NN_INVALID_ARGUMENT, "load: unknown execution target %u", target);
  return NN_SUCCESS;
}

/* load(builders, builder_count, encoding, target, graph_out) */
static int32_t nn_load(kiln_nn *nn, kiln_caller *caller, const uint32_t *a) {
  int32_t code = check_target(nn, a[2], a[3]);
  if (code != NN_SUCCESS) return code;
  uint8_t *out = result_at(nn, caller, a[4], "load");
  if (!out) return NN_INVALID_ARGUMENT;
  if (a[1] != 1)
    return nn_fail(nn, NN_INVALID_ARGUMENT, "load: an ONNX model is one builder (the .onnx file's bytes), given %u", a[1]);
  const uint8_t *pair = guest_bytes(caller, a[0], 8);
  if (!pair) return nn_fail(nn, NN_INVALID_ARGUMENT, "load: the builder array at %#x is outside the guest's memory", a[0]);
  uint32_t ptr = read_u32(pair), len = read_u32(pair + 4);
  const uint8_t *model = guest_bytes(caller, ptr, len);
  if (!model)
    return nn_fail(nn, NN_INVALID_ARGUMENT, "load: the model's %u bytes at %#x are outside the guest's memory", len, ptr);
  uint32_t id;
  code = add_graph(nn, model, len, &id);
  if (code == NN_SUCCESS) write_u32(out, id);
  return code;
}

static int32_t load_named(kiln_nn *nn, kiln_caller *caller, uint32_t name_ptr, uint32_t name_len, uint32_t out_ptr) {
  uint8_t *out = result_at(nn, caller, out_ptr, "load_by_name");
  if (!out) return NN_INVALID_ARGUMENT;
  const uint8_t *name = guest_bytes(caller, name_ptr, name_len);
  if (!name) return nn_fail(nn, NN_INVALID_ARGUMENT, "load_by_name: the name at %#x is outside the guest's memory", name_ptr);
  for (size_t i = 0; i < nn->config.preload_count; i++) {
    const nn_preload *p = &nn->config.preloads[i];
    if (strlen(p->name) != name_len || memcmp(p->name, name, name_len) != 0) continue;
    uint32_t loaded = nn->preload_graph[i];
    if (loaded && loaded - 1 < nn->graph_count && nn->graphs[loaded - 1].graph) { /* loaded once, the same graph after */
      write_u32(out, loaded - 1);
      return NN_SUCCESS;
    }
    uint32_t id;
    int32_t code = add_preloaded_graph(nn, p, &id);
    if (code != NN_SUCCESS) return code;
    nn->preload_graph[i] = id + 1;
    write_u32(out, id);
    return NN_SUCCESS;
  }
  return nn_fail(nn, NN_NOT_FOUND, "load_by_name: no model is named '%.*s' (the host preloads models by name: kiln run "
                 "--nn-preload NAME:onnx:cpu:PATH)", (int)(name_len > 200 ? 200 : name_len), (const char *)name);
}

static int32_t nn_load_by_name(kiln_nn *nn, kiln_caller *caller, const uint32_t *a) {
  return load_named(nn, caller, a[0], a[1], a[2]);
}

/* load_by_name_with_config(name, name_len, config, config_len, graph_out): ONNX models take
 * no configuration (it is checked to be in memory, and ignored). */
static int32_t nn_load_by_name_with_config(kiln_nn *nn, kiln_caller *caller, const uint32_t *a) {
  if (!guest_bytes(caller, a[2], a[3]))
    return nn_fail(nn, NN_INVALID_ARGUMENT, "load_by_name_with_config: the configuration at %#x is outside the guest's memory", a[2]);
  return load_named(nn, caller, a[0], a[1], a[4]);
}

static onnx_graph *graph_of(kiln_nn *nn, uint32_t id) {
  return id < nn->graph_count ? nn->graphs[id].graph : NULL;
}

static onnx_context *context_of(kiln_nn *nn, uint32_t id) {
  return id < nn->context_count ? nn->contexts[id].context : NULL;
}

static int32_t nn_init_execution_context(kiln_nn *nn, kiln_caller *caller, const uint32_t *a) {
  onnx_graph *graph = graph_of(nn, a[0]);
  if (!graph) return nn_fail(nn, NN_INVALID_ARGUMENT, "init_execution_context: no graph %u", a[0]);
  uint8_t *out = result_at(nn, caller, a[1], "init_execution_context");
  if (!out) return NN_INVALID_ARGUMENT;
  if (nn->live_contexts >= nn->config.max_contexts)
    return nn_fail(nn, NN_BUSY, "init_execution_context: the instance holds %u contexts already, its limit",
                   nn->live_contexts);
  uint32_t slot = nn->context_count;
  for (uint32_t i = 0; i < nn->context_count; i++)
    if (!nn->contexts[i].context) {
      slot = i;
      break;
    }
  if (slot == nn->context_count && nn->context_count == nn->context_cap) {
    uint32_t cap = nn->context_cap ? nn->context_cap * 2 : 4;
    nn_context_slot *grown = realloc(nn->contexts, cap * sizeof *grown);
    if (!grown) return nn_fail(nn, NN_RUNTIME_ERROR, "init_execution_context: out of memory");
    nn->contexts = grown;
    nn->context_cap = cap;
  }
  char why[600];
  onnx_context *context;
  int code = onnx_context_new(graph, &context, why, sizeof why);
  if (code != NN_SUCCESS) return nn_fail(nn, code, "init_execution_context: %s", why);
  if (slot == nn->context_count) nn->context_count++;
  nn->contexts[slot] = (nn_context_slot){context, a[0]};
  nn->live_contexts++;
  write_u32(out, slot);
  return NN_SUCCESS;
}

static const char *const type_names[NN_TYPE_COUNT] = {"f16", "f32", "f64", "u8", "i32", "i64"};
static const uint8_t type_sizes[NN_TYPE_COUNT] = {2, 4, 8, 1, 4, 8};

/* set_input(context, index, tensor): the tensor is {dims ptr, dims count, type (a byte),
 * data ptr, data bytes}, 20 bytes. */
static int32_t nn_set_input(kiln_nn *nn, kiln_caller *caller, const uint32_t *a) {
  onnx_context *context = context_of(nn, a[0]);
  if (!context) return nn_fail(nn, NN_INVALID_ARGUMENT, "set_input: no execution context %u", a[0]);
  const uint8_t *t = guest_bytes(caller, a[2], 20);
  if (!t) return nn_fail(nn, NN_INVALID_ARGUMENT, "set_input: the tensor at %#x is outside the guest's memory", a[2]);
  uint32_t dims_ptr = read_u32(t), dim_count = read_u32(t + 4), type = t[8], data_ptr = read_u32(t + 12),
           data_len = read_u32(t + 16);
  if (type >= NN_TYPE_COUNT)
    return nn_fail(nn, NN_INVALID_ARGUMENT, "set_input: unknown tensor type %u (f16 0, f32 1, f64 2, u8 3, i32 4, i64 5)", type);
  if (dim_count > NN_MAX_DIMS)
    return nn_fail(nn, NN_INVALID_ARGUMENT, "set_input: %u dimensions, more than %d", dim_count, NN_MAX_DIMS);
  const uint8_t *dims_bytes = guest_bytes(caller, dims_ptr, (uint64_t)dim_count * 4);
  if (!dims_bytes) return nn_fail(nn, NN_INVALID_ARGUMENT, "set_input: the dimensions at %#x are outside the guest's memory", dims_ptr);
  int64_t dims[NN_MAX_DIMS];
  uint64_t elements = 1;
  for (uint32_t i = 0; i < dim_count; i++) {
    dims[i] = read_u32(dims_bytes + 4 * i);
    elements *= (uint64_t)dims[i];
    if (elements > UINT32_MAX) return nn_fail(nn, NN_TOO_LARGE, "set_input: the tensor has more than 2^32 elements");
  }
  if (elements * type_sizes[type] != data_len)
    return nn_fail(nn, NN_INVALID_ARGUMENT, "set_input: %llu elements of %s are %llu bytes, the data is %u bytes",
                   (unsigned long long)elements, type_names[type], (unsigned long long)(elements * type_sizes[type]), data_len);
  const uint8_t *data = guest_bytes(caller, data_ptr, data_len);
  if (!data) return nn_fail(nn, NN_INVALID_ARGUMENT, "set_input: the data at %#x (%u bytes) is outside the guest's memory", data_ptr, data_len);
  char why[600];
  int code = onnx_set_input(context, a[1], (int)type, dims, dim_count, data, data_len, why, sizeof why);
  return code == NN_SUCCESS ? NN_SUCCESS : nn_fail(nn, code, "set_input: %s", why);
}

static void nn_interrupted(void *user) {
  kiln_nn *nn = user;
  atomic_fetch_add(&nn->in_hook, 1);
  onnx_context *running = atomic_load(&nn->running);
  if (running) onnx_terminate(running);
  atomic_fetch_sub(&nn->in_hook, 1);
}

/* compute(context); an interrupt of the store stops it (the call traps: interrupted). */
static int32_t nn_compute(kiln_nn *nn, kiln_caller *caller, const uint32_t *a, bool *interrupted) {
  onnx_context *context = context_of(nn, a[0]);
  if (!context) return nn_fail(nn, NN_INVALID_ARGUMENT, "compute: no execution context %u", a[0]);
  kiln_store *store = kiln_caller_store(caller);
  onnx_reset_terminate(context);
  atomic_store(&nn->running, context);
  char why[800];
  /* an interrupt before it began, or during it (the hook set ONNX Runtime's terminate flag) */
  int code = kiln_store_interrupt_pending(store) ? NN_RUNTIME_ERROR : onnx_compute(context, why, sizeof why);
  atomic_store(&nn->running, NULL);
  while (atomic_load(&nn->in_hook)) sched_yield(); /* a hook that saw it is done with it */
  if (kiln_store_interrupt_pending(store)) {
    *interrupted = true;
    return nn_fail(nn, NN_RUNTIME_ERROR, "compute: interrupted");
  }
  return code == NN_SUCCESS ? NN_SUCCESS : nn_fail(nn, code, "compute: %s", why);
}

/* get_output(context, index, buffer, buffer_size, bytes_written_out) */
static int32_t nn_get_output(kiln_nn *nn, kiln_caller *caller, const uint32_t *a) {
  onnx_context *context = context_of(nn, a[0]);
  if (!context) return nn_fail(nn, NN_INVALID_ARGUMENT, "get_output: no execution context %u", a[0]);
  uint8_t *written = result_at(nn, caller, a[4], "get_output");
  if (!written) return NN_INVALID_ARGUMENT;
  const void *data;
  size_t size;
  char why[600];
  int code = onnx_get_output(context, a[1], &data, &size, why, sizeof why);
  if (code != NN_SUCCESS) return nn_fail(nn, code, "get_output: %s", why);
  if (size > UINT32_MAX) return nn_fail(nn, NN_TOO_LARGE, "get_output: output %u is %zu bytes", a[1], size);
  write_u32(written, (uint32_t)size); /* also when the buffer is too small: what it needs */
  if (size > a[3])
    return nn_fail(nn, NN_TOO_LARGE, "get_output: output %u is %zu bytes, the buffer %u", a[1], size, a[3]);
  uint8_t *buffer = guest_bytes(caller, a[2], size);
  if (!buffer) return nn_fail(nn, NN_INVALID_ARGUMENT, "get_output: the buffer at %#x is outside the guest's memory", a[2]);
  memcpy(buffer, data, size);
  return NN_SUCCESS;
}

static int32_t nn_finalize_execution_context(kiln_nn *nn, kiln_caller *caller, const uint32_t *a) {
  (void)caller;
  onnx_context *context = context_of(nn, a[0]);
  if (!context) return nn_fail(nn, NN_INVALID_ARGUMENT, "finalize_execution_context: no execution context %u", a[0]);
  onnx_context_free(context);
  nn->contexts[a[0]].context = NULL;
  nn->live_contexts--;
  return NN_SUCCESS;
}

/* unload(graph): its contexts go with it. */
static int32_t nn_unload(kiln_nn *nn, kiln_caller *caller, const uint32_t *a) {
  (void)caller;
  onnx_graph *graph = graph_of(nn, a[0]);
  if (!graph) return nn_fail(nn, NN_INVALID_ARGUMENT, "unload: no graph %u", a[0]);
  for (uint32_t i = 0; i < nn->context_count; i++) {
    if (!nn->contexts[i].context || nn->contexts[i].graph != a[0]) continue;
    onnx_context_free(nn->contexts[i].context);
    nn->contexts[i].context = NULL;
    nn->live_contexts--;
  }
  slot_release(&nn->graphs[a[0]]);
  nn->live_graphs--;
  for (size_t i = 0; i < nn->config.preload_count; i++)
    if (nn->preload_graph[i] == a[0] + 1) nn->preload_graph[i] = 0;
  return NN_SUCCESS;
}

static const struct nn_def {
  const char *name;
  uint32_t params;
} nn_defs[NN_FUNC_COUNT] = {
    [NN_LOAD] = {"load", 5}, [NN_LOAD_BY_NAME] = {"load_by_name", 3},
    [NN_LOAD_BY_NAME_WITH_CONFIG] = {"load_by_name_with_config", 5},
    [NN_INIT_EXECUTION_CONTEXT] = {"init_execution_context", 2}, [NN_SET_INPUT] = {"set_input", 3},
    [NN_COMPUTE] = {"compute", 1}, [NN_GET_OUTPUT] = {"get_output", 5}, [NN_UNLOAD] = {"unload", 1},
    [NN_FINALIZE_EXECUTION_CONTEXT] = {"finalize_execution_context", 1},
};

typedef struct nn_binding {
  kiln_nn *nn;
  int which;
} nn_binding;

static kiln_status nn_dispatch(kiln_caller *caller, void *user_data, const kiln_val *args, kiln_val *results) {
  nn_binding *b = user_data;
  kiln_nn *nn = b->nn;
  uint32_t a[5] = {0};
  for (uint32_t i = 0; i < nn_defs[b->which].params; i++) a[i] = (uint32_t)args[i].of.i32;
  if (!kiln_caller_memory(caller)) {
    results[0].of.i32 = nn_fail(nn, NN_MISSING_MEMORY, "%s: the module has no memory", nn_defs[b->which].name);
    return KILN_OK;
  }
  bool interrupted = false;
  int32_t code;
  switch (b->which) {
  case NN_LOAD: code = nn_load(nn, caller, a); break;
  case NN_LOAD_BY_NAME: code = nn_load_by_name(nn, caller, a); break;
  case NN_LOAD_BY_NAME_WITH_CONFIG: code = nn_load_by_name_with_config(nn, caller, a); break;
  case NN_INIT_EXECUTION_CONTEXT: code = nn_init_execution_context(nn, caller, a); break;
  case NN_SET_INPUT: code = nn_set_input(nn, caller, a); break;
  case NN_COMPUTE: code = nn_compute(nn, caller, a, &interrupted); break;
  case NN_GET_OUTPUT: code = nn_get_output(nn, caller, a); break;
  case NN_UNLOAD: code = nn_unload(nn, caller, a); break;
  default: code = nn_finalize_execution_context(nn, caller, a); break;
  }
  if (interrupted) return kiln_caller_interrupted(caller);
  results[0] = kiln_val_i32(code);
  return KILN_OK;
}

/* ------------------------------------------------------------------ lifetime */

static void nn_free(void *user) {
  kiln_nn *nn = user;
  for (uint32_t i = 0; i < nn->context_count; i++) onnx_context_free(nn->contexts[i].context);
  for (uint32_t i = 0; i < nn->graph_count; i++) slot_release(&nn->graphs[i]);
  free(nn->contexts);
  free(nn->graphs);
  free(nn->preload_graph);
  free(nn->imports);
  config_clear(&nn->config);
  free(nn);
}

static kiln_status nn_noop(kiln_caller *caller, void *user_data, const kiln_val *args, kiln_val *results) {
  (void)caller;
  (void)user_data;
  (void)args;
  (void)results;
  return KILN_OK;
}

kiln_status kiln_nn_new(kiln_store *store, const kiln_nn_config *config, kiln_nn **out, kiln_error *err) {
  *out = NULL;
  kiln_nn *nn = calloc(1, sizeof *nn);
  if (!nn) return set_error(err, KILN_ERR_NOMEM, "WASI-NN: out of memory");
  nn->store = store;
  atomic_init(&nn->running, NULL);
  atomic_init(&nn->in_hook, 0);
  bool ok = true;
  if (config) {
    nn->config.threads = config->threads;
    nn->config.max_graphs = config->max_graphs;
    nn->config.max_contexts = config->max_contexts;
    if (config->onnxruntime) ok = (nn->config.onnxruntime = strdup(config->onnxruntime)) != NULL;
    if (ok && config->preload_count) {
      nn->config.preloads = calloc(config->preload_count, sizeof *nn->config.preloads);
      ok = nn->config.preloads != NULL;
      for (size_t i = 0; ok && i < config->preload_count; i++) {
        nn->config.preloads[i].name = strdup(config->preloads[i].name);
        nn->config.preloads[i].path = strdup(config->preloads[i].path);
        nn->config.preload_count = i + 1;
        ok = nn->config.preloads[i].name && nn->config.preloads[i].path;
      }
    }
  } else {
    nn->config.max_graphs = 16;
    nn->config.max_contexts = 64;
  }
  if (ok) ok = (nn->preload_graph = calloc(nn->config.preload_count + 1, sizeof *nn->preload_graph)) != NULL;
  /* The module lives as long as the store: a hidden host function's finalizer frees it. */
  kiln_functype anchor_type = {0};
  if (!ok || !kiln_func_new(store, &anchor_type, nn_noop, nn, nn_free)) {
    nn_free(nn);
    return set_error(err, KILN_ERR_NOMEM, "WASI-NN: out of memory");
  }
  if (kiln_store_on_interrupt(store, nn_interrupted, nn) != KILN_OK)
    return set_error(err, KILN_ERR_LIMIT, "WASI-NN: the store has no room for another interrupt callback");
  *out = nn;
  return KILN_OK;
}

kiln_status kiln_nn_imports(kiln_nn *nn, const kiln_module *module, const kiln_import **imports, size_t *count) {
  uint32_t n = kiln_module_import_count(module);
  kiln_import *list = realloc(nn->imports, (n ? n : 1) * sizeof *list);
  if (!list) return KILN_ERR_NOMEM;
  nn->imports = list;
  size_t found = 0;
  static const kiln_valtype i32s[5] = {KILN_I32, KILN_I32, KILN_I32, KILN_I32, KILN_I32};
  for (uint32_t i = 0; i < n; i++) {
    const char *module_name, *field;
    kiln_externtype type;
    if (kiln_module_import(module, i, &module_name, &field, &type) != KILN_OK) continue;
    if (type.kind != KILN_EXTERN_FUNC || strcmp(module_name, "wasi_ephemeral_nn") != 0) continue;
    for (int d = 0; d < NN_FUNC_COUNT; d++) {
      if (strcmp(nn_defs[d].name, field) != 0) continue;
      kiln_functype want = {i32s, nn_defs[d].params, i32s, 1};
      if (!nn->funcs[d]) {
        nn_binding *b = malloc(sizeof *b);
        if (!b) return KILN_ERR_NOMEM;
        *b = (nn_binding){nn, d};
        nn->funcs[d] = kiln_func_new(nn->store, &want, nn_dispatch, b, free);
        if (!nn->funcs[d]) {
          free(b);
          return KILN_ERR_NOMEM;
        }
      }
      list[found++] = (kiln_import){.module = module_name, .name = field,
                                    .value = {.kind = KILN_EXTERN_FUNC, .of.func = nn->funcs[d]}};
      break;
    }
  }
  *imports = list;
  *count = found;
  return KILN_OK;
}

const char *kiln_nn_last_error(const kiln_nn *nn) { return nn->last_error; }
