/* exit_255.c - proc_exit(255) ends the program with that status, after the output is written. */
#include "check.h"

int main(void) {
    printf("before exit 255\n");
    fflush(stdout);
    __wasi_proc_exit(255);
    printf("after proc_exit\n");
    return 99;
}
