/* guest.c - a WASI program that drives WASI-NN for tests/nn (nn.test.mjs builds it with
 * clang-19 --target=wasm32-wasi and runs it with kiln run):
 *   guest run NAME TYPE DIM...    load_by_name(NAME), input 0 from /data/in.bin, output 0 to
 *                                 /data/out.bin (TYPE: the tensor type number)
 *   guest load FILE TYPE DIM...   the same with the model's bytes from /data/FILE (load)
 *   guest hostile NAME            bad calls, one "what errno" line each
 * Each WASI-NN call's error code is printed; the exit status is 0 when all succeeded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/nn.h>

static unsigned char buffer[1 << 24];

static long read_file(const char *path, unsigned char *out, long max) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  long n = (long)fread(out, 1, (size_t)max, f);
  fclose(f);
  return n;
}

static int infer(kiln_nn_graph g, int argc, char **argv) {
  kiln_nn_context c;
  int e = kiln_nn_init_execution_context(g, &c);
  printf("init_execution_context %d\n", e);
  if (e) return 1;
  uint32_t dims[16];
  uint32_t n = 0;
  for (int i = 4; i < argc && n < 16; i++) dims[n++] = (uint32_t)strtoul(argv[i], NULL, 10);
  static unsigned char input[1 << 24];
  long size = read_file("/data/in.bin", input, sizeof input);
  if (size < 0) return 2;
  kiln_nn_tensor t = {dims, n, (uint8_t)atoi(argv[3]), {0}, input, (uint32_t)size};
  e = kiln_nn_set_input(c, 0, &t);
  printf("set_input %d\n", e);
  if (e) return 1;
  e = kiln_nn_compute(c);
  printf("compute %d\n", e);
  if (e) return 1;
  uint32_t written = 0;
  e = kiln_nn_get_output(c, 0, buffer, sizeof buffer, &written);
  printf("get_output %d %u\n", e, written);
  if (e) return 1;
  FILE *f = fopen("/data/out.bin", "wb");
  if (!f || fwrite(buffer, 1, written, f) != written) return 2;
  fclose(f);
  return kiln_nn_finalize_execution_context(c) ? 1 : 0;
}

static void hostile(const char *name) {
  kiln_nn_graph g = 0;
  kiln_nn_context c = 0;
  int e = kiln_nn_load_by_name(name, (uint32_t)strlen(name), &g);
  printf("load_by_name %d\n", e);
  printf("load_by_name_unknown %d\n", kiln_nn_load_by_name("nope", 4, &g));
  printf("load_by_name_same %d\n", kiln_nn_load_by_name(name, (uint32_t)strlen(name), &c) || c != g);
  printf("name_out_of_memory %d\n", kiln_nn_load_by_name((const char *)0xfffffff0, 64, &g));
  printf("result_out_of_memory %d\n", kiln_nn_load_by_name(name, (uint32_t)strlen(name), (kiln_nn_graph *)0xfffffffc));
  static const unsigned char junk[] = "this is not an onnx model at all";
  kiln_nn_builder b = {junk, sizeof junk};
  printf("load_corrupt %d\n", kiln_nn_load(&b, 1, KILN_NN_ONNX, KILN_NN_CPU, &c));
  printf("load_gpu %d\n", kiln_nn_load(&b, 1, KILN_NN_ONNX, KILN_NN_GPU, &c));
  printf("load_tensorflow %d\n", kiln_nn_load(&b, 1, KILN_NN_TENSORFLOW, KILN_NN_CPU, &c));
  printf("load_two_builders %d\n", kiln_nn_load(&b, 2, KILN_NN_ONNX, KILN_NN_CPU, &c));
  kiln_nn_builder far = {(const uint8_t *)0xffff0000, 0x10000000};
  printf("load_out_of_memory %d\n", kiln_nn_load(&far, 1, KILN_NN_ONNX, KILN_NN_CPU, &c));
  printf("context_unknown_graph %d\n", kiln_nn_init_execution_context(77, &c));
  e = kiln_nn_init_execution_context(g, &c);
  printf("init_execution_context %d\n", e);
  uint32_t dims[] = {2, 3};
  float x[6] = {1, 2, 3, 4, 5, 6};
  kiln_nn_tensor t = {dims, 2, KILN_NN_F32, {0}, (const uint8_t *)x, sizeof x};
  printf("compute_before_input %d\n", kiln_nn_compute(c));
  printf("set_input_unknown_context %d\n", kiln_nn_set_input(99, 0, &t));
  printf("set_input_bad_index %d\n", kiln_nn_set_input(c, 5, &t));
  kiln_nn_tensor wrong_type = {dims, 2, KILN_NN_I32, {0}, (const uint8_t *)x, sizeof x};
  printf("set_input_wrong_type %d\n", kiln_nn_set_input(c, 0, &wrong_type));
  kiln_nn_tensor bad_type = {dims, 2, 9, {0}, (const uint8_t *)x, sizeof x};
  printf("set_input_unknown_type %d\n", kiln_nn_set_input(c, 0, &bad_type));
  uint32_t wrong_dims[] = {3, 2};
  kiln_nn_tensor wrong_shape = {wrong_dims, 2, KILN_NN_F32, {0}, (const uint8_t *)x, sizeof x};
  printf("set_input_wrong_shape %d\n", kiln_nn_set_input(c, 0, &wrong_shape));
  kiln_nn_tensor short_data = {dims, 2, KILN_NN_F32, {0}, (const uint8_t *)x, sizeof x - 4};
  printf("set_input_short_data %d\n", kiln_nn_set_input(c, 0, &short_data));
  kiln_nn_tensor far_data = {dims, 2, KILN_NN_F32, {0}, (const uint8_t *)0xfffffff0, sizeof x};
  printf("set_input_data_out_of_memory %d\n", kiln_nn_set_input(c, 0, &far_data));
  kiln_nn_tensor far_dims = {(const uint32_t *)0xfffffffc, 2, KILN_NN_F32, {0}, (const uint8_t *)x, sizeof x};
  printf("set_input_dims_out_of_memory %d\n", kiln_nn_set_input(c, 0, &far_dims));
  uint32_t huge_dims[] = {65536, 65536, 65536};
  kiln_nn_tensor huge = {huge_dims, 3, KILN_NN_F32, {0}, (const uint8_t *)x, sizeof x};
  printf("set_input_huge %d\n", kiln_nn_set_input(c, 0, &huge));
  printf("set_input_tensor_out_of_memory %d\n", kiln_nn_set_input(c, 0, (const kiln_nn_tensor *)0xfffffff8));
  uint32_t written = 0;
  printf("get_output_before_compute %d\n", kiln_nn_get_output(c, 0, buffer, sizeof buffer, &written));
  printf("set_input %d\n", kiln_nn_set_input(c, 0, &t));
  printf("compute %d\n", kiln_nn_compute(c));
  written = 0;
  printf("get_output_small_buffer %d %u\n", kiln_nn_get_output(c, 0, buffer, 8, &written), written);
  printf("get_output_bad_index %d\n", kiln_nn_get_output(c, 3, buffer, sizeof buffer, &written));
  printf("get_output_buffer_out_of_memory %d\n", kiln_nn_get_output(c, 0, (uint8_t *)0xfffffff0, 64, &written));
  printf("get_output %d %u\n", kiln_nn_get_output(c, 0, buffer, sizeof buffer, &written), written);
  int busy = 0;
  for (int i = 0; i < 100 && !busy; i++) {
    kiln_nn_context more;
    busy = kiln_nn_init_execution_context(g, &more);
  }
  printf("context_limit %d\n", busy);
  printf("unload %d\n", kiln_nn_unload(g));
  printf("compute_after_unload %d\n", kiln_nn_compute(c));
  printf("unload_again %d\n", kiln_nn_unload(g));
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0); /* each line out before a trap or timeout ends the program */
  if (argc >= 4 && strcmp(argv[1], "run") == 0) {
    kiln_nn_graph g;
    int e = kiln_nn_load_by_name(argv[2], (uint32_t)strlen(argv[2]), &g);
    printf("load_by_name %d\n", e);
    return e ? 1 : infer(g, argc, argv);
  }
  if (argc >= 4 && strcmp(argv[1], "load") == 0) {
    char path[256];
    snprintf(path, sizeof path, "/data/%s", argv[2]);
    long size = read_file(path, buffer, sizeof buffer);
    if (size < 0) return 2;
    kiln_nn_builder b = {buffer, (uint32_t)size};
    kiln_nn_graph g;
    int e = kiln_nn_load(&b, 1, KILN_NN_ONNX, KILN_NN_CPU, &g);
    printf("load %d\n", e);
    return e ? 1 : infer(g, argc, argv);
  }
  if (argc == 3 && strcmp(argv[1], "hostile") == 0) {
    hostile(argv[2]);
    return 0;
  }
  fprintf(stderr, "usage: guest run NAME TYPE DIM... | load FILE TYPE DIM... | hostile NAME\n");
  return 2;
}
