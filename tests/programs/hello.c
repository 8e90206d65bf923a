/* hello.c - the smallest WASI command: what bench/startup.py times to measure start-up. */
#include <stdio.h>

int main(void) {
  puts("hello, world");
  return 0;
}
