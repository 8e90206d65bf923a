/* onnx.c - the ONNX backend of WASI-NN: ONNX Runtime through its C API, loaded with dlopen at
 * run time (kiln links nothing of it). No package ships ONNX Runtime's header, so the part of
 * the OrtApi table used here is declared by index: the table only ever grows at its end, and
 * these members (0..101) are those of its first version, which every release still serves
 * (GetApi(1) returns the same table). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn_impl.h"

typedef struct OrtStatus OrtStatus;
typedef struct OrtEnv OrtEnv;
typedef struct OrtSession OrtSession;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtRunOptions OrtRunOptions;
typedef struct OrtValue OrtValue;
typedef struct OrtTypeInfo OrtTypeInfo;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtAllocator OrtAllocator;

typedef struct OrtApiBase {
  void *const *(*GetApi)(uint32_t version);
  const char *(*GetVersionString)(void);
} OrtApiBase;

/* Members of OrtApi (onnxruntime_c_api.h), by index. */
enum {
  ORT_GET_ERROR_MESSAGE = 2, ORT_CREATE_ENV = 3, ORT_DISABLE_TELEMETRY = 6,
  ORT_CREATE_SESSION_FROM_ARRAY = 8, ORT_RUN = 9, ORT_CREATE_SESSION_OPTIONS = 10,
  ORT_SET_SESSION_LOG_SEVERITY = 22, ORT_SET_GRAPH_OPTIMIZATION = 23, ORT_SET_INTRA_OP_THREADS = 24,
  ORT_SET_INTER_OP_THREADS = 25, ORT_SESSION_INPUT_COUNT = 30, ORT_SESSION_OUTPUT_COUNT = 31,
  ORT_SESSION_INPUT_TYPE_INFO = 33, ORT_SESSION_INPUT_NAME = 36, ORT_SESSION_OUTPUT_NAME = 37,
  ORT_CREATE_RUN_OPTIONS = 39, ORT_RUN_OPTIONS_SET_TERMINATE = 46, ORT_RUN_OPTIONS_UNSET_TERMINATE = 47,
  ORT_CREATE_TENSOR_WITH_DATA = 49, ORT_IS_TENSOR = 50, ORT_GET_TENSOR_MUTABLE_DATA = 51,
  ORT_CAST_TYPE_INFO_TO_TENSOR_INFO = 55, ORT_GET_ONNX_TYPE_FROM_TYPE_INFO = 56,
  ORT_GET_TENSOR_ELEMENT_TYPE = 60, ORT_GET_DIMENSIONS_COUNT = 61, ORT_GET_DIMENSIONS = 62,
  ORT_GET_TENSOR_SHAPE_ELEMENT_COUNT = 64, ORT_GET_TENSOR_TYPE_AND_SHAPE = 65,
  ORT_CREATE_CPU_MEMORY_INFO = 69, ORT_ALLOCATOR_FREE = 76, ORT_GET_ALLOCATOR = 78,
  ORT_RELEASE_STATUS = 93, ORT_RELEASE_SESSION = 95, ORT_RELEASE_VALUE = 96,
  ORT_RELEASE_RUN_OPTIONS = 97, ORT_RELEASE_TYPE_INFO = 98, ORT_RELEASE_TENSOR_TYPE_AND_SHAPE = 99,
  ORT_RELEASE_SESSION_OPTIONS = 100,
};
#define ORT_FN(index, type) ((type)ort.api[index])

/* ONNXTensorElementDataType */
enum { ORT_FLOAT = 1, ORT_UINT8 = 2, ORT_INT8 = 3, ORT_UINT16 = 4, ORT_INT16 = 5, ORT_INT32 = 6, ORT_INT64 = 7,
       ORT_STRING = 8, ORT_BOOL = 9, ORT_FLOAT16 = 10, ORT_DOUBLE = 11, ORT_UINT32 = 12, ORT_UINT64 = 13,
       ORT_BFLOAT16 = 16 };

static const int nn_to_ort[NN_TYPE_COUNT] = {
    [NN_F16] = ORT_FLOAT16, [NN_F32] = ORT_FLOAT, [NN_F64] = ORT_DOUBLE,
    [NN_U8] = ORT_UINT8, [NN_I32] = ORT_INT32, [NN_I64] = ORT_INT64,
};

/* Bytes per element of the tensor types an output may have (0: not a fixed-size type). */
static size_t element_size(int ort_type) {
  switch (ort_type) {
  case ORT_UINT8: case ORT_INT8: case ORT_BOOL: return 1;
  case ORT_UINT16: case ORT_INT16: case ORT_FLOAT16: case ORT_BFLOAT16: return 2;
  case ORT_FLOAT: case ORT_INT32: case ORT_UINT32: return 4;
  case ORT_INT64: case ORT_DOUBLE: case ORT_UINT64: return 8;
  default: return 0;
  }
}

static const char *type_name(int ort_type) {
  switch (ort_type) {
  case ORT_FLOAT: return "f32"; case ORT_UINT8: return "u8"; case ORT_INT8: return "i8";
  case ORT_UINT16: return "u16"; case ORT_INT16: return "i16"; case ORT_INT32: return "i32";
  case ORT_INT64: return "i64"; case ORT_STRING: return "string"; case ORT_BOOL: return "bool";
  case ORT_FLOAT16: return "f16"; case ORT_DOUBLE: return "f64"; case ORT_UINT32: return "u32";
  case ORT_UINT64: return "u64"; case ORT_BFLOAT16: return "bf16"; default: return "an unknown type";
  }
}

/* The library, its API table and the process's one environment. */
static struct {
  pthread_mutex_t lock;
  bool ok;
  void *const *api;
  OrtEnv *env;
  OrtMemoryInfo *cpu;
  OrtAllocator *allocator;
} ort = {PTHREAD_MUTEX_INITIALIZER, false, NULL, NULL, NULL, NULL};

/* A failed call: its message into why (after what), the status freed; returns code. */
static int failed(OrtStatus *status, int code, char *why, size_t why_size, const char *what) {
  const char *message = ORT_FN(ORT_GET_ERROR_MESSAGE, const char *(*)(const OrtStatus *))(status);
  snprintf(why, why_size, "%s: %s", what, message ? message : "(no message)");
  ORT_FN(ORT_RELEASE_STATUS, void (*)(OrtStatus *))(status);
  return code;
}

static const char HOW_TO_GET[] =
    "ONNX Runtime's library is in the npm package onnxruntime-node (ONNXRUNTIME_NODE_INSTALL=skip npm install "
    "onnxruntime-node; its bin/napi-v6/linux/x64/libonnxruntime.so.1): give kiln its path (kiln run "
    "--nn-onnxruntime PATH, KILN_ONNXRUNTIME=PATH) or its directory in LD_LIBRARY_PATH";

static void *open_library(const char *path, char *why, size_t why_size) {
  char file[4096];
  struct stat st;
  if (path && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(file, sizeof file, "%s/libonnxruntime.so.1", path);
    path = file;
  }
  void *handle = dlopen(path ? path : "libonnxruntime.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *error = dlerror();
    snprintf(why, why_size, "ONNX Runtime is not available (%s). %s", error ? error : "not found", HOW_TO_GET);
  }
  if (!handle && !path) handle = dlopen("libonnxruntime.so", RTLD_NOW | RTLD_LOCAL);
  return handle;
}

bool onnx_available(const char *path, char *why, size_t why_size) {
  pthread_mutex_lock(&ort.lock);
  if (ort.ok) {
    pthread_mutex_unlock(&ort.lock);
    return true;
  }
  if (!path) path = getenv("KILN_ONNXRUNTIME");
  if (path && !*path) path = NULL;
  void *handle = open_library(path, why, why_size);
  const OrtApiBase *(*get_base)(void) = NULL;
  if (handle) *(void **)&get_base = dlsym(handle, "OrtGetApiBase");
  const OrtApiBase *base = get_base ? get_base() : NULL;
  void *const *api = base ? base->GetApi(1) : NULL;
  if (handle && !api) {
    snprintf(why, why_size, "%s is not ONNX Runtime's library (no OrtGetApiBase, or no API version 1). %s",
             path ? path : "libonnxruntime.so.1", HOW_TO_GET);
    dlclose(handle);
    handle = NULL;
  }
  if (handle) {
    ort.api = api;
    OrtStatus *st = ORT_FN(ORT_CREATE_ENV, OrtStatus *(*)(int, const char *, OrtEnv **))(3 /* errors */, "kiln", &ort.env);
    if (!st) st = ORT_FN(ORT_DISABLE_TELEMETRY, OrtStatus *(*)(const OrtEnv *))(ort.env);
    if (!st) st = ORT_FN(ORT_CREATE_CPU_MEMORY_INFO, OrtStatus *(*)(int, int, OrtMemoryInfo **))(1, 0, &ort.cpu);
    if (!st) st = ORT_FN(ORT_GET_ALLOCATOR, OrtStatus *(*)(OrtAllocator **))(&ort.allocator);
    if (st) {
      failed(st, 0, why, why_size, "ONNX Runtime could not start");
      ort.api = NULL;
    } else {
      ort.ok = true;
    }
    /* the library stays loaded for the process's life (its threads and environment) */
  }
  bool ok = ort.ok;
  pthread_mutex_unlock(&ort.lock);
  return ok;
}

/* ------------------------------------------------------------------ graphs */

typedef struct port {
  char *name;
  int type;                 /* ONNXTensorElementDataType (inputs) */
  uint32_t dim_count;
  int64_t dims[NN_MAX_DIMS]; /* -1: any */
} port;

struct onnx_graph {
  OrtSession *session;
  uint32_t input_count, output_count;
  port *inputs, *outputs;
};

static void free_ports(port *ports, uint32_t count) {
  for (uint32_t i = 0; ports && i < count; i++)
    if (ports[i].name) ORT_FN(ORT_ALLOCATOR_FREE, OrtStatus *(*)(OrtAllocator *, void *))(ort.allocator, ports[i].name);
  free(ports);
}

void onnx_graph_free(onnx_graph *g) {
  if (!g) return;
  free_ports(g->inputs, g->input_count);
  free_ports(g->outputs, g->output_count);
  if (g->session) ORT_FN(ORT_RELEASE_SESSION, void (*)(OrtSession *))(g->session);
  free(g);
}

uint32_t onnx_graph_inputs(const onnx_graph *g) { return g->input_count; }
uint32_t onnx_graph_outputs(const onnx_graph *g) { return g->output_count; }

/* An input's element type and shape, from the session. */
static int describe_input(onnx_graph *g, uint32_t i, char *why, size_t why_size) {
  OrtTypeInfo *info = NULL;
  OrtStatus *st = ORT_FN(ORT_SESSION_INPUT_TYPE_INFO, OrtStatus *(*)(const OrtSession *, size_t, OrtTypeInfo **))(
      g->session, i, &info);
  if (st) return failed(st, NN_RUNTIME_ERROR, why, why_size, "reading the model's inputs");
  int onnx_type = 0;
  const OrtTensorTypeAndShapeInfo *tensor = NULL;
  st = ORT_FN(ORT_GET_ONNX_TYPE_FROM_TYPE_INFO, OrtStatus *(*)(const OrtTypeInfo *, int *))(info, &onnx_type);
  if (!st && onnx_type == 1)
    st = ORT_FN(ORT_CAST_TYPE_INFO_TO_TENSOR_INFO,
                OrtStatus *(*)(const OrtTypeInfo *, const OrtTensorTypeAndShapeInfo **))(info, &tensor);
  int code = NN_SUCCESS;
  size_t dims = 0;
  port *p = &g->inputs[i];
  if (st) {
    code = failed(st, NN_RUNTIME_ERROR, why, why_size, "reading the model's inputs");
  } else if (!tensor) {
    snprintf(why, why_size, "input %u ('%s') is not a tensor (a sequence, map or optional): WASI-NN passes tensors only",
             i, p->name);
    code = NN_UNSUPPORTED_OPERATION;
  } else if ((st = ORT_FN(ORT_GET_TENSOR_ELEMENT_TYPE, OrtStatus *(*)(const OrtTensorTypeAndShapeInfo *, int *))(
                  tensor, &p->type)) ||
             (st = ORT_FN(ORT_GET_DIMENSIONS_COUNT, OrtStatus *(*)(const OrtTensorTypeAndShapeInfo *, size_t *))(
                  tensor, &dims))) {
    code = failed(st, NN_RUNTIME_ERROR, why, why_size, "reading the model's inputs");
  } else if (dims > NN_MAX_DIMS) {
    snprintf(why, why_size, "input %u ('%s') has %zu dimensions, more than %d", i, p->name, dims, NN_MAX_DIMS);
    code = NN_UNSUPPORTED_OPERATION;
  } else {
    p->dim_count = (uint32_t)dims;
    st = ORT_FN(ORT_GET_DIMENSIONS, OrtStatus *(*)(const OrtTensorTypeAndShapeInfo *, int64_t *, size_t))(
        tensor, p->dims, dims);
    if (st) code = failed(st, NN_RUNTIME_ERROR, why, why_size, "reading the model's inputs");
  }
  ORT_FN(ORT_RELEASE_TYPE_INFO, void (*)(OrtTypeInfo *))(info);
  return code;
}

int onnx_graph_new(const uint8_t *model, size_t size, uint32_t threads, onnx_graph **out, char *why,
                   size_t why_size) {
  *out = NULL;
  onnx_graph *g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(why, why_size, "out of memory");
    return NN_RUNTIME_ERROR;
  }
  OrtSessionOptions *options = NULL;
  OrtStatus *st = ORT_FN(ORT_CREATE_SESSION_OPTIONS, OrtStatus *(*)(OrtSessionOptions **))(&options);
  if (!st) st = ORT_FN(ORT_SET_SESSION_LOG_SEVERITY, OrtStatus *(*)(OrtSessionOptions *, int))(options, 3);
  if (!st) st = ORT_FN(ORT_SET_GRAPH_OPTIMIZATION, OrtStatus *(*)(OrtSessionOptions *, int))(options, 99);
  if (!st && threads) st = ORT_FN(ORT_SET_INTRA_OP_THREADS, OrtStatus *(*)(OrtSessionOptions *, int))(options, (int)threads);
  if (!st) st = ORT_FN(ORT_SET_INTER_OP_THREADS, OrtStatus *(*)(OrtSessionOptions *, int))(options, 1);
  if (st) {
    if (options) ORT_FN(ORT_RELEASE_SESSION_OPTIONS, void (*)(OrtSessionOptions *))(options);
    free(g);
    return failed(st, NN_RUNTIME_ERROR, why, why_size, "ONNX Runtime's session options");
  }
  st = ORT_FN(ORT_CREATE_SESSION_FROM_ARRAY,
              OrtStatus *(*)(const OrtEnv *, const void *, size_t, const OrtSessionOptions *, OrtSession **))(
      ort.env, model, size, options, &g->session);
  ORT_FN(ORT_RELEASE_SESSION_OPTIONS, void (*)(OrtSessionOptions *))(options);
  if (st) {
    free(g);
    return failed(st, NN_INVALID_ARGUMENT, why, why_size, "ONNX Runtime cannot load the model");
  }
  size_t inputs = 0, outputs = 0;
  st = ORT_FN(ORT_SESSION_INPUT_COUNT, OrtStatus *(*)(const OrtSession *, size_t *))(g->session, &inputs);
  if (!st) st = ORT_FN(ORT_SESSION_OUTPUT_COUNT, OrtStatus *(*)(const OrtSession *, size_t *))(g->session, &outputs);
  int code = NN_SUCCESS;
  if (st) code = failed(st, NN_RUNTIME_ERROR, why, why_size, "reading the model");
  if (code == NN_SUCCESS) {
    g->inputs = calloc(inputs ? inputs : 1, sizeof *g->inputs);
    g->outputs = calloc(outputs ? outputs : 1, sizeof *g->outputs);
    if (!g->inputs || !g->outputs) {
      snprintf(why, why_size, "out of memory");
      code = NN_RUNTIME_ERROR;
    }
  }
  typedef OrtStatus *(*name_fn)(const OrtSession *, size_t, OrtAllocator *, char **);
  for (size_t i = 0; code == NN_SUCCESS && i < inputs; i++) {
    g->input_count = (uint32_t)i + 1;
    st = ORT_FN(ORT_SESSION_INPUT_NAME, name_fn)(g->session, i, ort.allocator, &g->inputs[i].name);
    if (st) code = failed(st, NN_RUNTIME_ERROR, why, why_size, "reading the model's inputs");
    else code = describe_input(g, (uint32_t)i, why, why_size);
  }
  for (size_t i = 0; code == NN_SUCCESS && i < outputs; i++) {
    g->output_count = (uint32_t)i + 1;
    st = ORT_FN(ORT_SESSION_OUTPUT_NAME, name_fn)(g->session, i, ort.allocator, &g->outputs[i].name);
    if (st) code = failed(st, NN_RUNTIME_ERROR, why, why_size, "reading the model's outputs");
  }
  if (code != NN_SUCCESS) {
    onnx_graph_free(g);
    return code;
  }
  *out = g;
  return NN_SUCCESS;
}

/* ------------------------------------------------------------------ contexts */

struct onnx_context {
  onnx_graph *graph;
  OrtValue **inputs;  /* input_count, NULL until set */
  void **input_data;  /* the bytes each input's value points into */
  OrtValue **outputs; /* output_count, after a compute */
  bool computed;
  OrtRunOptions *run;
};

int onnx_context_new(onnx_graph *graph, onnx_context **out, char *why, size_t why_size) {
  onnx_context *c = calloc(1, sizeof *c);
  uint32_t ni = graph->input_count ? graph->input_count : 1, no = graph->output_count ? graph->output_count : 1;
  if (c) {
    c->graph = graph;
    c->inputs = calloc(ni, sizeof *c->inputs);
    c->input_data = calloc(ni, sizeof *c->input_data);
    c->outputs = calloc(no, sizeof *c->outputs);
  }
  if (!c || !c->inputs || !c->input_data || !c->outputs) {
    onnx_context_free(c);
    snprintf(why, why_size, "out of memory");
    return NN_RUNTIME_ERROR;
  }
  OrtStatus *st = ORT_FN(ORT_CREATE_RUN_OPTIONS, OrtStatus *(*)(OrtRunOptions **))(&c->run);
  if (st) {
    onnx_context_free(c);
    return failed(st, NN_RUNTIME_ERROR, why, why_size, "ONNX Runtime's run options");
  }
  *out = c;
  return NN_SUCCESS;
}

static void release_outputs(onnx_context *c) {
  for (uint32_t i = 0; i < c->graph->output_count; i++) {
    if (c->outputs[i]) ORT_FN(ORT_RELEASE_VALUE, void (*)(OrtValue *))(c->outputs[i]);
    c->outputs[i] = NULL;
  }
  c->computed = false;
}

void onnx_context_free(onnx_context *c) {
  if (!c) return;
  if (c->outputs) release_outputs(c);
  for (uint32_t i = 0; c->inputs && i < c->graph->input_count; i++) {
    if (c->inputs[i]) ORT_FN(ORT_RELEASE_VALUE, void (*)(OrtValue *))(c->inputs[i]);
    free(c->input_data[i]);
  }
  if (c->run) ORT_FN(ORT_RELEASE_RUN_OPTIONS, void (*)(OrtRunOptions *))(c->run);
  free(c->inputs);
  free(c->input_data);
  free(c->outputs);
  free(c);
}

static void put_shape(char *buf, size_t size, const int64_t *dims, uint32_t count) {
  size_t n = 0;
  n += (size_t)snprintf(buf + n, size - n, "[");
  for (uint32_t i = 0; i < count && n < size; i++)
    n += dims[i] < 0 ? (size_t)snprintf(buf + n, size - n, "%s?", i ? ", " : "")
                     : (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)dims[i]);
  if (n < size) snprintf(buf + n, size - n, "]");
}

int onnx_set_input(onnx_context *c, uint32_t index, int type, const int64_t *dims, uint32_t dim_count,
                   const void *data, size_t size, char *why, size_t why_size) {
  onnx_graph *g = c->graph;
  if (index >= g->input_count) {
    snprintf(why, why_size, "input %u: the model has %u input%s", index, g->input_count, g->input_count == 1 ? "" : "s");
    return NN_INVALID_ARGUMENT;
  }
  const port *p = &g->inputs[index];
  int ort_type = nn_to_ort[type];
  if (ort_type != p->type) {
    snprintf(why, why_size, "input %u ('%s') is a tensor of %s, given %s", index, p->name, type_name(p->type),
             type_name(ort_type));
    return NN_INVALID_ARGUMENT;
  }
  bool fits = dim_count == p->dim_count;
  for (uint32_t i = 0; fits && i < dim_count; i++) fits = p->dims[i] < 0 || p->dims[i] == dims[i];
  if (!fits) {
    char want[160], got[160];
    put_shape(want, sizeof want, p->dims, p->dim_count);
    put_shape(got, sizeof got, dims, dim_count);
    snprintf(why, why_size, "input %u ('%s') has the shape %s, given %s", index, p->name, want, got);
    return NN_INVALID_ARGUMENT;
  }
  void *copy = malloc(size ? size : 1);
  if (!copy) {
    snprintf(why, why_size, "out of memory copying input %u (%zu bytes)", index, size);
    return NN_RUNTIME_ERROR;
  }
  memcpy(copy, data, size);
  OrtValue *value = NULL;
  OrtStatus *st = ORT_FN(ORT_CREATE_TENSOR_WITH_DATA,
                         OrtStatus *(*)(const OrtMemoryInfo *, void *, size_t, const int64_t *, size_t, int, OrtValue **))(
      ort.cpu, copy, size, dims, dim_count, ort_type, &value);
  if (st) {
    free(copy);
    return failed(st, NN_INVALID_ARGUMENT, why, why_size, "the input tensor");
  }
  if (c->inputs[index]) ORT_FN(ORT_RELEASE_VALUE, void (*)(OrtValue *))(c->inputs[index]);
  free(c->input_data[index]);
  c->inputs[index] = value;
  c->input_data[index] = copy;
  return NN_SUCCESS;
}

void onnx_terminate(onnx_context *c) {
  OrtStatus *st = ORT_FN(ORT_RUN_OPTIONS_SET_TERMINATE, OrtStatus *(*)(OrtRunOptions *))(c->run);
  if (st) ORT_FN(ORT_RELEASE_STATUS, void (*)(OrtStatus *))(st);
}

int onnx_compute(onnx_context *c, char *why, size_t why_size) {
  onnx_graph *g = c->graph;
  for (uint32_t i = 0; i < g->input_count; i++) {
    if (!c->inputs[i]) {
      snprintf(why, why_size, "input %u ('%s') is not set (set_input)", i, g->inputs[i].name);
      return NN_INVALID_ARGUMENT;
    }
  }
  release_outputs(c);
  const char **in_names = malloc((g->input_count + 1) * sizeof *in_names);
  const char **out_names = malloc((g->output_count + 1) * sizeof *out_names);
  if (!in_names || !out_names) {
    free(in_names);
    free(out_names);
    snprintf(why, why_size, "out of memory");
    return NN_RUNTIME_ERROR;
  }
  for (uint32_t i = 0; i < g->input_count; i++) in_names[i] = g->inputs[i].name;
  for (uint32_t i = 0; i < g->output_count; i++) out_names[i] = g->outputs[i].name;
  OrtStatus *st = ORT_FN(ORT_RUN, OrtStatus *(*)(OrtSession *, const OrtRunOptions *, const char *const *,
                                                 const OrtValue *const *, size_t, const char *const *, size_t,
                                                 OrtValue **))(
      g->session, c->run, in_names, (const OrtValue *const *)c->inputs, g->input_count, out_names, g->output_count,
      c->outputs);
  free(in_names);
  free(out_names);
  if (st) {
    release_outputs(c);
    return failed(st, NN_RUNTIME_ERROR, why, why_size, "the inference failed");
  }
  c->computed = true;
  return NN_SUCCESS;
}

void onnx_reset_terminate(onnx_context *c) {
  OrtStatus *st = ORT_FN(ORT_RUN_OPTIONS_UNSET_TERMINATE, OrtStatus *(*)(OrtRunOptions *))(c->run);
  if (st) ORT_FN(ORT_RELEASE_STATUS, void (*)(OrtStatus *))(st);
}

int onnx_get_output(onnx_context *c, uint32_t index, const void **data, size_t *size, char *why, size_t why_size) {
  onnx_graph *g = c->graph;
  if (!c->computed) {
    snprintf(why, why_size, "output %u: no compute has succeeded on this context", index);
    return NN_INVALID_ARGUMENT;
  }
  if (index >= g->output_count) {
    snprintf(why, why_size, "output %u: the model has %u output%s", index, g->output_count, g->output_count == 1 ? "" : "s");
    return NN_INVALID_ARGUMENT;
  }
  OrtValue *value = c->outputs[index];
  int is_tensor = 0;
  OrtStatus *st = ORT_FN(ORT_IS_TENSOR, OrtStatus *(*)(const OrtValue *, int *))(value, &is_tensor);
  if (st) return failed(st, NN_RUNTIME_ERROR, why, why_size, "reading the output");
  if (!is_tensor) {
    snprintf(why, why_size, "output %u ('%s') is not a tensor", index, g->outputs[index].name);
    return NN_UNSUPPORTED_OPERATION;
  }
  OrtTensorTypeAndShapeInfo *info = NULL;
  st = ORT_FN(ORT_GET_TENSOR_TYPE_AND_SHAPE, OrtStatus *(*)(const OrtValue *, OrtTensorTypeAndShapeInfo **))(value, &info);
  if (st) return failed(st, NN_RUNTIME_ERROR, why, why_size, "reading the output");
  int type = 0;
  size_t count = 0;
  st = ORT_FN(ORT_GET_TENSOR_ELEMENT_TYPE, OrtStatus *(*)(const OrtTensorTypeAndShapeInfo *, int *))(info, &type);
  if (!st)
    st = ORT_FN(ORT_GET_TENSOR_SHAPE_ELEMENT_COUNT, OrtStatus *(*)(const OrtTensorTypeAndShapeInfo *, size_t *))(info, &count);
  ORT_FN(ORT_RELEASE_TENSOR_TYPE_AND_SHAPE, void (*)(OrtTensorTypeAndShapeInfo *))(info);
  if (st) return failed(st, NN_RUNTIME_ERROR, why, why_size, "reading the output");
  size_t element = element_size(type);
  if (!element) {
    snprintf(why, why_size, "output %u ('%s') is a tensor of %s, which WASI-NN cannot pass as bytes", index,
             g->outputs[index].name, type_name(type));
    return NN_UNSUPPORTED_OPERATION;
  }
  void *bytes = NULL;
  st = ORT_FN(ORT_GET_TENSOR_MUTABLE_DATA, OrtStatus *(*)(OrtValue *, void **))(value, &bytes);
  if (st) return failed(st, NN_RUNTIME_ERROR, why, why_size, "reading the output");
  *data = bytes;
  *size = count * element;
  return NN_SUCCESS;
}
