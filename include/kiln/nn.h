/* kiln/nn.h - WASI-NN for C guests (wasm32-wasi): the imports of wasi_ephemeral_nn, the witx
 * ABI that kiln, WasmEdge and Wasmtime implement. Every function returns a kiln_nn_errno (0:
 * success). Tensor types follow WasmEdge 0.15+ and Wasmtime: f16 0, f32 1, f64 2, u8 3, i32 4,
 * i64 5. kiln runs ONNX models (encoding KILN_NN_ONNX) on the CPU.
 *
 *   kiln_nn_graph g;  kiln_nn_context c;
 *   kiln_nn_load_by_name("model", 5, &g);        // kiln run --nn-preload model:onnx:cpu:m.onnx
 *   kiln_nn_init_execution_context(g, &c);
 *   uint32_t dims[] = {1, 3};  float x[] = {1, 2, 3};
 *   kiln_nn_tensor t = {dims, 2, KILN_NN_F32, {0}, (uint8_t *)x, sizeof x};
 *   kiln_nn_set_input(c, 0, &t);  kiln_nn_compute(c);
 *   float y[3];  uint32_t written;  kiln_nn_get_output(c, 0, (uint8_t *)y, sizeof y, &written);
 */
#ifndef KILN_NN_H
#define KILN_NN_H

#include <stdint.h>

typedef uint32_t kiln_nn_graph;
typedef uint32_t kiln_nn_context;
typedef int32_t kiln_nn_errno;

enum {
  KILN_NN_SUCCESS = 0, KILN_NN_INVALID_ARGUMENT = 1, KILN_NN_INVALID_ENCODING = 2, KILN_NN_MISSING_MEMORY = 3,
  KILN_NN_BUSY = 4, KILN_NN_RUNTIME_ERROR = 5, KILN_NN_UNSUPPORTED_OPERATION = 6, KILN_NN_TOO_LARGE = 7,
  KILN_NN_NOT_FOUND = 8,
};
enum { KILN_NN_OPENVINO = 0, KILN_NN_ONNX = 1, KILN_NN_TENSORFLOW = 2, KILN_NN_PYTORCH = 3,
       KILN_NN_TENSORFLOWLITE = 4, KILN_NN_AUTODETECT = 5 };
enum { KILN_NN_CPU = 0, KILN_NN_GPU = 1, KILN_NN_TPU = 2 };
enum { KILN_NN_F16 = 0, KILN_NN_F32 = 1, KILN_NN_F64 = 2, KILN_NN_U8 = 3, KILN_NN_I32 = 4, KILN_NN_I64 = 5 };

/* The tensor set_input reads: 20 bytes (the type is one byte; keep the padding zero). */
typedef struct kiln_nn_tensor {
  const uint32_t *dims;
  uint32_t dim_count;
  uint8_t type;
  uint8_t padding[3];
  const uint8_t *data;
  uint32_t data_size; /* bytes */
} kiln_nn_tensor;

/* A model as bytes: one builder for ONNX (the .onnx file). */
typedef struct kiln_nn_builder {
  const uint8_t *data;
  uint32_t size;
} kiln_nn_builder;

#define KILN_NN_IMPORT(name) __attribute__((import_module("wasi_ephemeral_nn"), import_name(#name)))

KILN_NN_IMPORT(load)
kiln_nn_errno kiln_nn_load(const kiln_nn_builder *builders, uint32_t count, uint32_t encoding, uint32_t target,
                           kiln_nn_graph *graph);
KILN_NN_IMPORT(load_by_name)
kiln_nn_errno kiln_nn_load_by_name(const char *name, uint32_t name_len, kiln_nn_graph *graph);
KILN_NN_IMPORT(init_execution_context)
kiln_nn_errno kiln_nn_init_execution_context(kiln_nn_graph graph, kiln_nn_context *context);
KILN_NN_IMPORT(set_input)
kiln_nn_errno kiln_nn_set_input(kiln_nn_context context, uint32_t index, const kiln_nn_tensor *tensor);
KILN_NN_IMPORT(compute)
kiln_nn_errno kiln_nn_compute(kiln_nn_context context);
/* *written: the output's size in bytes (also when the buffer is too small: KILN_NN_TOO_LARGE). */
KILN_NN_IMPORT(get_output)
kiln_nn_errno kiln_nn_get_output(kiln_nn_context context, uint32_t index, uint8_t *buffer, uint32_t buffer_size,
                                 uint32_t *written);
/* WasmEdge's: free a context, or a graph and its contexts. */
KILN_NN_IMPORT(finalize_execution_context)
kiln_nn_errno kiln_nn_finalize_execution_context(kiln_nn_context context);
KILN_NN_IMPORT(unload)
kiln_nn_errno kiln_nn_unload(kiln_nn_graph graph);

#undef KILN_NN_IMPORT

#endif /* KILN_NN_H */
