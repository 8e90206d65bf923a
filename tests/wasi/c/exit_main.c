/* exit_main.c - returning a nonzero value from main is the exit status; stdio is flushed. */
#include "check.h"

int main(void) {
    printf("returning 7 from main"); /* no newline: flushed at exit */
    return 7;
}
