/* test_llvm_target.c - the compiled tier is a triple away from other architectures: the same
 * module compiled for aarch64 and for x86-64 (this machine's CPU and the portable baseline)
 * gives a relocatable ELF object of that machine with every function and its entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#ifdef KILN_HAVE_LLVM
#include "llvm/llvm_compile.h"

/* wat2wasm of: a vectorisable loop of loads, a SIMD load that extends and float lanes, and a
 * trapping division:
 * (module (memory 1)
 *   (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $i i32) (local $s i32)
 *     (block $done (loop $l (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
 *       (local.set $s (i32.add (local.get $s) (i32.load16_s (i32.add (local.get $p)
 *         (i32.shl (local.get $i) (i32.const 1))))))
 *       (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))
 *     (local.get $s))
 *   (func (export "simd") (param i32) (result v128)
 *     (f32x4.mul (v128.load16x4_s (local.get 0)) (f32x4.splat (f32.const 1.5))))
 *   (func (export "div") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))) */
static const uint8_t module_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x12, 0x03, 0x60,
  0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7b, 0x60, 0x02,
  0x7e, 0x7e, 0x01, 0x7e, 0x03, 0x04, 0x03, 0x00, 0x01, 0x02, 0x05, 0x03,
  0x01, 0x00, 0x01, 0x07, 0x14, 0x03, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x00,
  0x04, 0x73, 0x69, 0x6d, 0x64, 0x00, 0x01, 0x03, 0x64, 0x69, 0x76, 0x00,
  0x02, 0x0a, 0x49, 0x03, 0x2c, 0x01, 0x02, 0x7f, 0x02, 0x40, 0x03, 0x40,
  0x20, 0x02, 0x20, 0x01, 0x4f, 0x0d, 0x01, 0x20, 0x03, 0x20, 0x00, 0x20,
  0x02, 0x41, 0x01, 0x74, 0x6a, 0x2e, 0x01, 0x00, 0x6a, 0x21, 0x03, 0x20,
  0x02, 0x41, 0x01, 0x6a, 0x21, 0x02, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x03,
  0x0b, 0x12, 0x00, 0x20, 0x00, 0xfd, 0x03, 0x03, 0x00, 0x43, 0x00, 0x00,
  0xc0, 0x3f, 0xfd, 0x13, 0xfd, 0xe6, 0x01, 0x0b, 0x07, 0x00, 0x20, 0x00,
  0x20, 0x01, 0x7f, 0x0b
};

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static bool has_symbol(const uint8_t *obj, size_t size, const char *name) {
  size_t n = strlen(name) + 1; /* with its NUL, in the string table */
  for (size_t i = 1; i + n <= size; i++)
    if (obj[i - 1] == 0 && memcmp(obj + i, name, n) == 0) return true;
  return false;
}

static void compile_for(const kiln_module *m, const char *triple, bool portable, uint16_t machine) {
  printf("-- %s%s\n", triple ? triple : "this machine", portable ? ", portable" : "");
  llvm_options o = {.triple = triple, .portable = portable, .opt_level = 2};
  uint8_t *obj = NULL;
  size_t size = 0;
  kiln_error err = {0};
  if (!CHECK(llvm_compile_module(m, &o, 0, 3, UINT32_MAX, &obj, &size, &err) == KILN_OK)) {
    printf("     %s\n", err.message);
    return;
  }
  CHECK(size > 64 && memcmp(obj, "\177ELF", 4) == 0);
  CHECK(obj[4] == 2 && obj[5] == 1);   /* 64-bit, little-endian */
  CHECK(le16(obj + 16) == 1);          /* ET_REL: a relocatable object */
  CHECK(le16(obj + 18) == machine);
  for (int i = 0; i < 3; i++) {
    char f[8], e[8];
    snprintf(f, sizeof f, "f%d", i);
    snprintf(e, sizeof e, "e%d", i);
    CHECK(has_symbol(obj, size, f) && has_symbol(obj, size, e));
  }
  CHECK(!has_symbol(obj, size, "kiln.keep.i32") && !has_symbol(obj, size, "llvm.sideeffect"));
  free(obj);
}

int main(void) {
  kiln_engine *engine = kiln_engine_new(NULL);
  kiln_module *m = NULL;
  kiln_error err = {0};
  if (!CHECK(engine && kiln_module_new(engine, module_wasm, sizeof module_wasm, &m, &err) == KILN_OK)) return 1;
  compile_for(m, "aarch64-unknown-linux-gnu", false, 183); /* EM_AARCH64 */
  compile_for(m, "x86_64-unknown-linux-gnu", false, 62);   /* EM_X86_64 */
#if defined(__x86_64__)
  compile_for(m, NULL, false, 62);
  compile_for(m, NULL, true, 62);
#elif defined(__aarch64__)
  compile_for(m, NULL, false, 183);
#endif
  /* a triple no target here knows is an error, not a crash */
  llvm_options o = {.triple = "mips-unknown-linux-gnu", .opt_level = 2};
  uint8_t *obj = NULL;
  size_t size = 0;
  CHECK(llvm_compile_module(m, &o, 0, 3, UINT32_MAX, &obj, &size, &err) == KILN_ERR_ARGUMENT && strstr(err.message, "mips"));
  kiln_module_free(m);
  kiln_engine_free(engine);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
#else
int main(void) {
  printf("test_llvm_target: built without the compiled tier (LLVM 19): skipped\n");
  return 0;
}
#endif
