/* bintrees - the binary-trees benchmark's allocation pattern with malloc and free: per
 * round, a stretch tree of depth 15 and many short-lived trees of depths 4..14, each built
 * node by node with malloc, walked and freed node by node, next to a long-lived tree of
 * depth 14. n rounds. The allocator is part of what is measured: glibc's natively,
 * wasi-libc's dlmalloc inside the wasm module. */
#define BENCH_N 19
#define BENCH_N_QUICK 2
#include "kernel.h"

#define MAX_DEPTH 14
#define MIN_DEPTH 4

typedef struct node {
  struct node *left, *right;
  uint32_t value;
} node;

static node *new_node(node *left, node *right, uint32_t value) {
  node *n = malloc(sizeof *n);
  if (!n) {
    fputs("bintrees: out of memory\n", stderr);
    exit(1);
  }
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

static void release(node *n) {
  if (n->left) {
    release(n->left);
    release(n->right);
  }
  free(n);
}

/* node count plus a value-dependent term */
static uint32_t check(const node *n) {
  if (!n->left) return 1 + (n->value & 1);
  return 1 + check(n->left) + check(n->right) - (n->value & 1);
}

static uint32_t run(uint32_t n) {
  uint32_t checksum = 0;
  for (uint32_t round = 0; round < n; round++) {
    node *stretch = build(MAX_DEPTH + 1, round);
    checksum = kernel_mix(checksum, check(stretch));
    release(stretch);
    node *long_lived = build(MAX_DEPTH, round + 1);
    for (uint32_t depth = MIN_DEPTH; depth <= MAX_DEPTH; depth += 2) {
      uint32_t iterations = 1u << (MAX_DEPTH - depth + MIN_DEPTH), sum = 0;
      for (uint32_t i = 0; i < iterations; i++) {
        node *tree = build(depth, i);
        sum += check(tree);
        release(tree);
      }
      checksum = kernel_mix(checksum, sum);
    }
    checksum = kernel_mix(checksum, check(long_lived));
    release(long_lived);
  }
  return checksum;
}

KERNEL_MAIN(BENCH_N)
