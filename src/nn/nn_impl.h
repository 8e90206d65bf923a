/* nn_impl.h - between the wasi_ephemeral_nn host module (nn.c) and its backend (onnx.c:
 * ONNX Runtime through its C API, loaded with dlopen). The backend sees host buffers only:
 * nn.c checks every guest pointer and length and copies tensors in and out. */
#ifndef KILN_NN_IMPL_H
#define KILN_NN_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* WASI-NN's error codes (nn_errno of wasi-nn.witx; WasmEdge and Wasmtime agree). */
enum {
  NN_SUCCESS = 0,
  NN_INVALID_ARGUMENT = 1,
  NN_INVALID_ENCODING = 2,
  NN_MISSING_MEMORY = 3,
  NN_BUSY = 4,
  NN_RUNTIME_ERROR = 5,
  NN_UNSUPPORTED_OPERATION = 6,
  NN_TOO_LARGE = 7,
  NN_NOT_FOUND = 8,
};

/* Tensor types as WasmEdge (0.15+), Wasmtime and wasi-nn.witx number them. */
enum { NN_F16 = 0, NN_F32 = 1, NN_F64 = 2, NN_U8 = 3, NN_I32 = 4, NN_I64 = 5, NN_TYPE_COUNT };

#define NN_MAX_DIMS 16

typedef struct onnx_graph onnx_graph;
typedef struct onnx_context onnx_context;

/* Load ONNX Runtime (once per process): path names the library or a directory holding
 * libonnxruntime.so.1; NULL searches ($KILN_ONNXRUNTIME, then the dynamic loader's path).
 * False with the reason (and how to get the library) in why. */
bool onnx_available(const char *path, char *why, size_t why_size);

/* A session for the model bytes (copied by ONNX Runtime); threads: intra-op threads, 0 for
 * ONNX Runtime's default. Returns an NN_ code; why says what failed. */
int onnx_graph_new(const uint8_t *model, size_t size, uint32_t threads, onnx_graph **out, char *why,
                   size_t why_size);
void onnx_graph_free(onnx_graph *graph);
uint32_t onnx_graph_inputs(const onnx_graph *graph);
uint32_t onnx_graph_outputs(const onnx_graph *graph);

int onnx_context_new(onnx_graph *graph, onnx_context **out, char *why, size_t why_size);
void onnx_context_free(onnx_context *context);

/* Input index: a tensor of type (NN_F32, ...) and dims, its bytes copied. */
int onnx_set_input(onnx_context *context, uint32_t index, int type, const int64_t *dims, uint32_t dim_count,
                   const void *data, size_t size, char *why, size_t why_size);

/* Run the graph on the inputs set (NN_RUNTIME_ERROR too when onnx_terminate stopped it). */
int onnx_compute(onnx_context *context, char *why, size_t why_size);

/* Stop a compute under way on context (any thread): it, and any compute started before
 * onnx_reset_terminate, fails with *terminated set. */
void onnx_terminate(onnx_context *context);
void onnx_reset_terminate(onnx_context *context);

/* Output index of the last compute: its bytes (valid until the next compute or free). */
int onnx_get_output(onnx_context *context, uint32_t index, const void **data, size_t *size, char *why,
                    size_t why_size);

#endif /* KILN_NN_IMPL_H */
