/* bintrees - the binary-trees allocation pattern in a static arena: build complete trees
 * of depth 4..14 by bump allocation, walk them, release them by resetting the bump
 * pointer, next to one long-lived tree. n rounds. */
#define BENCH_N 60
#define BENCH_N_QUICK 6
#include "kernel.h"

#define MAX_DEPTH 14
#define MIN_DEPTH 4
/* a long-lived tree of MAX_DEPTH plus one short-lived tree of MAX_DEPTH + 1 */
#define ARENA_NODES ((2u << MAX_DEPTH) + (4u << MAX_DEPTH))

typedef struct node {
  struct node *left, *right;
  uint32_t value;
} node;

static node arena[ARENA_NODES];
static uint32_t arena_top;

static node *new_node(node *left, node *right, uint32_t value) {
  node *n = &arena[arena_top++];
  n->left = left;
  n->right = right;
  n->value = value;
  return n;
}

static node *build(uint32_t depth, uint32_t value) {
  if (depth == 0) return new_node(0, 0, value);
  node *left = build(depth - 1, 2 * value);
  node *right = build(depth - 1, 2 * value + 1);
  return new_node(left, right, value);
}

/* node count plus a value-dependent term */
static uint32_t check(const node *n) {
  if (!n->left) return 1 + (n->value & 1);
  return 1 + check(n->left) + check(n->right) - (n->value & 1);
}

KERNEL_EXPORT uint32_t run(uint32_t n) {
  uint32_t checksum = 0;
  for (uint32_t round = 0; round < n; round++) {
    arena_top = 0;
    checksum = kernel_mix(checksum, check(build(MAX_DEPTH + 1, round)));
    arena_top = 0;
    node *long_lived = build(MAX_DEPTH, round + 1);
    uint32_t mark = arena_top;
    for (uint32_t depth = MIN_DEPTH; depth <= MAX_DEPTH; depth += 2) {
      uint32_t iterations = 1u << (MAX_DEPTH - depth + MIN_DEPTH), sum = 0;
      for (uint32_t i = 0; i < iterations; i++) {
        arena_top = mark; /* free the previous tree */
        sum += check(build(depth, i));
      }
      checksum = kernel_mix(checksum, sum);
    }
    checksum = kernel_mix(checksum, check(long_lived));
  }
  return checksum;
}

#ifndef __wasm__
KERNEL_NATIVE_MAIN(BENCH_N)
#endif
