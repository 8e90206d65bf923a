/* oob.c - pointers and lengths outside linear memory are refused with FAULT (or the host
 * traps: the driver accepts kiln's trap status too), never read or written past memory. */
#include "check.h"

#include <wasi/api.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_write"))) int32_t
raw_fd_write(int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nwritten);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open"))) int32_t
raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len, int32_t oflags,
              int64_t base, int64_t inheriting, int32_t fdflags, int32_t out);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("random_get"))) int32_t
raw_random_get(int32_t buf, int32_t len);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("clock_time_get"))) int32_t
raw_clock_time_get(int32_t id, int64_t precision, int32_t out);

int main(void) {
    int32_t end = (int32_t)(__builtin_wasm_memory_size(0) * 65536);
    static __wasi_ciovec_t iov;
    static size_t n;
    /* an iovec pointing past the end */
    iov.buf = (const uint8_t *)(uintptr_t)(end - 4);
    iov.buf_len = 100;
    CHECK_ERR(raw_fd_write(1, (int32_t)(uintptr_t)&iov, 1, (int32_t)(uintptr_t)&n),
              __WASI_ERRNO_FAULT);
    /* the iovec array itself out of bounds, and a huge count */
    CHECK_ERR(raw_fd_write(1, end - 4, 1, (int32_t)(uintptr_t)&n), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_fd_write(1, (int32_t)(uintptr_t)&iov, 0x10000000, (int32_t)(uintptr_t)&n),
              __WASI_ERRNO_FAULT, __WASI_ERRNO_INVAL);
    /* a path running off the end, a path with a wrapping length */
    static __wasi_fd_t fd;
    CHECK_ERR(raw_path_open(3, 0, end - 2, 10, 0, 0, 0, 0, (int32_t)(uintptr_t)&fd),
              __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_path_open(3, 0, 16, -1, 0, 0, 0, 0, (int32_t)(uintptr_t)&fd),
              __WASI_ERRNO_FAULT, __WASI_ERRNO_NAMETOOLONG);
    /* results written past the end */
    CHECK_ERR(raw_random_get(end - 8, 16), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_random_get(-16, 16), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_clock_time_get(0, 1, end - 4), __WASI_ERRNO_FAULT, __WASI_ERRNO_INVAL);
    printf("oob: all passed\n");
    return 0;
}
