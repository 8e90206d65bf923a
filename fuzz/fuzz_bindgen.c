/* fuzz_bindgen.c - the parsers of `kiln bindgen` on arbitrary bytes: wasm-bindgen's
 * descriptor stream (the words a __wbindgen_describe_* export reports), the kiln.exports
 * section of C guests (kiln/guest.h) and wasm-bindgen's __wasm_bindgen_unstable section; and
 * for what decodes, the type checks, the ABI and the names the generated glue is made of. The
 * command's sources are compiled in, as fuzz_cli.c does with main.c. */
#include "../tools/bindgen/types.c"

#include <stdlib.h>

static char sink[512];

static void use_func(const bg_func *f) {
  kiln_valtype params[64], results[2];
  uint32_t np, nr, retptr;
  bool supported = bg_type_supported(f, f->result, true, sink, sizeof sink);
  for (uint32_t i = 0; i < f->param_count; i++) {
    bg_type_name(f, f->params[i], sink, sizeof sink);
    bg_ts_type(f, f->params[i], false, sink, sizeof sink);
    supported = bg_type_supported(f, f->params[i], false, sink, sizeof sink) && supported;
  }
  bg_type_name(f, f->result, sink, sizeof sink);
  bg_ts_type(f, f->result, true, sink, sizeof sink);
  if (supported) {
    bg_wasm_signature(f, params, &np, results, &nr, 64, &retptr);
    kiln_valtype values[8];
    if (bg_result_values(f, values, 8) > 8) abort();
  }
}

static bool add(void *user, const bg_func *f) {
  (void)user;
  use_func(f);
  return true;
}

static void found(void *user, const bg_export_info *info) {
  (void)user;
  if (strlen(info->name) >= BG_NAME_MAX || info->arg_count > BG_MAX_PARAMS || info->member > BG_SETTER) abort();
}

static void found_struct(void *user, const bg_struct_info *info) {
  (void)user;
  if (strlen(info->name) >= BG_NAME_MAX || info->field_count > BG_MAX_FIELDS) abort();
}

static void found_import(void *user, const bg_import_info *info) {
  (void)user;
  if (strlen(info->shim) >= sizeof info->shim || strlen(info->function_name) >= BG_NAME_MAX ||
      strlen(info->module) >= BG_NAME_MAX)
    abort();
}

/* The same function as a method of a struct: with a borrowed and a moved receiver, and as
 * a field's getter and setter. */
static void use_as_member(const bg_func *f) {
  static bg_func member;
  for (int consumed = 0; consumed < 2; consumed++) {
    member = *f;
    if (bg_add_receiver(&member, "Counter", consumed)) use_func(&member);
  }
  member = *f;
  member.param_count = 0;
  if (bg_add_receiver(&member, "Counter", false)) {
    use_func(&member);
    if (bg_make_setter(&member)) use_func(&member);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bg_func func;
  char error[300];
  /* The bytes as descriptor words (little-endian u32s). */
  size_t count = size / 4;
  uint32_t *words = malloc(count ? count * sizeof *words : 1);
  if (!words) return 0;
  for (size_t i = 0; i < count; i++)
    words[i] = (uint32_t)data[4 * i] | (uint32_t)data[4 * i + 1] << 8 | (uint32_t)data[4 * i + 2] << 16 |
               (uint32_t)data[4 * i + 3] << 24;
  /* the protocol of a wasm-bindgen version the first byte picks (0.2.83 to 0.2.127) */
  bg_protocol protocol;
  char version[16];
  snprintf(version, sizeof version, "0.2.%d", BG_WBG_OLDEST + (size ? data[0] : 0) % (BG_WBG_NEWEST - BG_WBG_OLDEST + 1));
  if (!bg_protocol_of(version, version, &protocol, error, sizeof error)) bg_protocol_default(&protocol);
  memset(&func, 0, sizeof func);
  func.abi = size & 1 ? BG_ABI_KILN_C : BG_ABI_WASM_BINDGEN;
  if (bg_decode_descriptor(&protocol, words, count, &func, error, sizeof error)) {
    use_func(&func);
    use_as_member(&func);
  }
  memset(&func, 0, sizeof func);
  if (bg_decode_field(&protocol, words, count, &func, error, sizeof error)) use_as_member(&func);
  /* Small words are the common case: also read each byte as one word. */
  uint32_t *small = realloc(words, (size ? size : 1) * sizeof *words);
  if (small) {
    for (size_t i = 0; i < size; i++) small[i] = data[i] % 40;
    memset(&func, 0, sizeof func);
    if (bg_decode_descriptor(&protocol, small, size, &func, error, sizeof error)) {
      use_func(&func);
      use_as_member(&func);
    }
    memset(&func, 0, sizeof func);
    if (bg_decode_field(&protocol, small, size, &func, error, sizeof error)) use_as_member(&func);
    words = small;
  }
  free(words);
  bg_parse_c_section(data, size, add, NULL, error, sizeof error);
  bg_section_reader reader = {NULL, found, found_struct, found_import};
  bg_parse_wbg_section(data, size, &reader, &protocol, error, sizeof error);
  return 0;
}
