/* test_store.c - stores' stacks (runtime/store.c): the value stack and frames of a freed store
 * go back to its engine, their pages given back (they read as zeros), and the next store takes
 * the same mapping; the engine keeps at most STACK_POOL_SIZE of them; deep calls run right on
 * a reused stack (a local that was not zeroed would trap here).
 *
 * Includes the runtime's internal header (the stack's address and the pool). Prints one line
 * per group and one per failed check, ends with "N passed, N failed"; exits non-zero if any
 * check failed. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kiln.h"
#include "runtime/runtime.h"
#include "tier.h"

/* (func $sum (export "sum") (param i32) (result i32) (local i32)
 *   local.get 1 if unreachable end            ;; its local must start at 0
 *   local.get 0 i32.eqz
 *   if (result i32) i32.const 0
 *   else local.get 0 local.get 0 i32.const 1 i32.sub call $sum i32.add end
 *   i32.const 7 local.set 1)                   ;; and leaves 7 in the frame */
static const uint8_t sum_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03,
    0x02, 0x01, 0x00, 0x07, 0x07, 0x01, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x00, 0x0a, 0x23, 0x01, 0x21, 0x01,
    0x01, 0x7f, 0x20, 0x01, 0x04, 0x40, 0x00, 0x0b, 0x20, 0x00, 0x45, 0x04, 0x7f, 0x41, 0x00, 0x05, 0x20,
    0x00, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x00, 0x6a, 0x0b, 0x41, 0x07, 0x21, 0x01, 0x0b};

static bool all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return false;
  return true;
}

static int32_t run_sum(kiln_engine *e, kiln_module *m, int32_t n, kiln_store **keep) {
  kiln_store *s = kiln_store_new(e);
  kiln_instance *inst = NULL;
  kiln_error err = {0};
  int32_t result = -1;
  if (s && kiln_instantiate(s, m, NULL, 0, &inst, &err) == KILN_OK) {
    kiln_extern x;
    kiln_val arg = {.type = KILN_I32, .of.i32 = n}, r;
    /* twice: the second call's frames lie where the first's left their 7s */
    if (kiln_instance_export(inst, "sum", &x) == KILN_OK &&
        kiln_func_call(s, x.of.func, &arg, 1, &r, 1, &err) == KILN_OK &&
        kiln_func_call(s, x.of.func, &arg, 1, &r, 1, &err) == KILN_OK)
      result = r.of.i32;
    else
      printf("     %s\n", err.message);
  }
  if (keep)
    *keep = s;
  else
    kiln_store_free(s);
  return result;
}

int main(void) {
  kiln_engine *e = test_engine_new(NULL);
  kiln_error err = {0};
  kiln_module *m = NULL;
  if (!e || kiln_module_new(e, sum_wasm, sizeof sum_wasm, &m, &err) != KILN_OK) {
    printf("FAIL: setup: %s\n", err.message);
    return 1;
  }

  group("a freed store's stack is the next store's, its pages zero again");
  kiln_store *a = kiln_store_new(e);
  if (!CHECK(a != NULL)) return 1;
  uint8_t *stack = a->stack;
  size_t mapping = a->stack_mapping;
  memset(a->stack, 0xa5, 4096);
  memset((uint8_t *)a->frames, 0x5a, 4096);
  memset(a->stack_end - 4096, 0x77, 4096);
  kiln_store_free(a);
  CHECK(e->stacks.count == 1);
  kiln_store *b = kiln_store_new(e);
  if (!CHECK(b != NULL)) return 1;
  CHECK(b->stack == stack && b->stack_mapping == mapping && e->stacks.count == 0);
  CHECK(all_zero(b->stack, 4096) && all_zero((const uint8_t *)b->frames, 4096) && all_zero(b->stack_end - 4096, 4096));
  kiln_store_free(b);

  group("deep calls on reused stacks: every local starts at zero");
  int32_t first = run_sum(e, m, 3000, NULL);
  CHECK(first == 3000 * 3001 / 2);
  for (int i = 0; i < 20; i++) CHECK(run_sum(e, m, 1000 + i, NULL) == (1000 + i) * (1001 + i) / 2);

  group("the engine keeps at most STACK_POOL_SIZE stacks");
  enum { MANY = STACK_POOL_SIZE + 5 };
  kiln_store **held = calloc(MANY, sizeof *held);
  for (int i = 0; held && i < MANY; i++) CHECK(run_sum(e, m, 10, &held[i]) == 55);
  for (int i = 0; held && i < MANY; i++) kiln_store_free(held[i]);
  CHECK(e->stacks.count == STACK_POOL_SIZE);
  free(held);

  kiln_module_free(m);
  kiln_engine_free(e);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
