/* exit_trap.c - a trap ends the program with kiln's trap status; earlier output stays. */
#include "check.h"

int main(void) {
    printf("before the trap\n");
    fflush(stdout);
    __builtin_trap();
}
