/* stdin.c - reads all of stdin (the driver feeds bytes through a pipe, NULs and UTF-8 among
 * them) and prints its length and FNV-1a hash, which the driver compares with its own. */
#include "check.h"

int main(void) {
    static uint8_t buf[7919]; /* an odd size, so reads do not line up with pipe buffers */
    uint64_t hash = 0xcbf29ce484222325ull;
    size_t total = 0, n;
    for (;;) {
        __wasi_iovec_t iov = {buf, sizeof buf};
        CHECK_OK(__wasi_fd_read(0, &iov, 1, &n));
        if (n == 0) break;
        for (size_t i = 0; i < n; i++) hash = (hash ^ buf[i]) * 0x100000001b3ull;
        total += n;
    }
    /* reading at end of input keeps returning 0 */
    __wasi_iovec_t iov = {buf, sizeof buf};
    CHECK_OK(__wasi_fd_read(0, &iov, 1, &n));
    CHECK(n == 0);
    __wasi_fdstat_t st;
    CHECK_OK(__wasi_fd_fdstat_get(0, &st));
    printf("stdin: %zu bytes, fnv1a %016llx\n", total, (unsigned long long)hash);
    return 0;
}
