/* check.h - the checks shared by kiln's own WASI test programs (tests/wasi/c/).
 *
 * Each program prints a line per group of checks and stops at the first failed check with a
 * message on stdout and exit status 1. Raw WASI calls return their errno, libc calls set errno
 * (wasi-libc's errno values are WASI's), so one "expected one of these errnos" check serves both.
 */
#ifndef KILN_WASI_TEST_CHECK_H
#define KILN_WASI_TEST_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static inline const char *errno_name(int e) {
    switch (e) {
    case 0: return "SUCCESS";
    case __WASI_ERRNO_ACCES: return "ACCES";
    case __WASI_ERRNO_BADF: return "BADF";
    case __WASI_ERRNO_EXIST: return "EXIST";
    case __WASI_ERRNO_FAULT: return "FAULT";
    case __WASI_ERRNO_ILSEQ: return "ILSEQ";
    case __WASI_ERRNO_INVAL: return "INVAL";
    case __WASI_ERRNO_ISDIR: return "ISDIR";
    case __WASI_ERRNO_LOOP: return "LOOP";
    case __WASI_ERRNO_NAMETOOLONG: return "NAMETOOLONG";
    case __WASI_ERRNO_NOENT: return "NOENT";
    case __WASI_ERRNO_NOSYS: return "NOSYS";
    case __WASI_ERRNO_NOTDIR: return "NOTDIR";
    case __WASI_ERRNO_NOTEMPTY: return "NOTEMPTY";
    case __WASI_ERRNO_NOTSUP: return "NOTSUP";
    case __WASI_ERRNO_PERM: return "PERM";
    case __WASI_ERRNO_ROFS: return "ROFS";
    case __WASI_ERRNO_SPIPE: return "SPIPE";
    case __WASI_ERRNO_XDEV: return "XDEV";
    case __WASI_ERRNO_NOTCAPABLE: return "NOTCAPABLE";
    default: return "?";
    }
}

static inline void check_fail(int line, const char *fmt, ...) {
    va_list ap;
    printf("FAIL line %d: ", line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    exit(1);
}

/* The errnos an escape from a preopen may give, as wasmtime and the conformance suite
 * (interesting_paths) accept them. */
#define ESCAPE_ERRNOS __WASI_ERRNO_PERM, __WASI_ERRNO_NOTCAPABLE

#define CHECK(cond)                                                                             \
    do {                                                                                        \
        if (!(cond)) check_fail(__LINE__, "%s", #cond);                                         \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                    \
    do {                                                                                        \
        if (!(cond)) check_fail(__LINE__, __VA_ARGS__);                                         \
    } while (0)

/* A raw WASI call that must succeed. */
#define CHECK_OK(call)                                                                          \
    do {                                                                                        \
        int e_ = (call);                                                                        \
        if (e_ != 0)                                                                            \
            check_fail(__LINE__, "%s: errno %d (%s), expected success", #call, e_,              \
                       errno_name(e_));                                                         \
    } while (0)

static inline int errno_in(int e, const int *allowed, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (e == allowed[i]) return 1;
    return 0;
}

static inline void errno_fail(int line, const char *what, int got, const int *allowed, size_t n) {
    char list[200] = "";
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s(%d)", i ? " or " : "",
                 errno_name(allowed[i]), allowed[i]);
    }
    check_fail(line, "%s: expected %s, got %s(%d)", what, list, errno_name(got), got);
}

/* A raw WASI call that must fail with one of the listed errnos. */
#define CHECK_ERR(call, ...)                                                                    \
    do {                                                                                        \
        static const int allowed_[] = {__VA_ARGS__};                                            \
        int e_ = (call);                                                                        \
        if (!errno_in(e_, allowed_, sizeof allowed_ / sizeof allowed_[0]))                      \
            errno_fail(__LINE__, #call, e_, allowed_, sizeof allowed_ / sizeof allowed_[0]);    \
    } while (0)

/* A libc call that must fail (return -1 or NULL per failed_cond) with one of the errnos. */
#define CHECK_LIBC_ERR(failed_cond, ...)                                                        \
    do {                                                                                        \
        static const int allowed_[] = {__VA_ARGS__};                                            \
        errno = 0;                                                                              \
        if (!(failed_cond)) check_fail(__LINE__, "%s: succeeded, expected failure", #failed_cond);\
        if (!errno_in(errno, allowed_, sizeof allowed_ / sizeof allowed_[0]))                   \
            errno_fail(__LINE__, #failed_cond, errno, allowed_,                                 \
                       sizeof allowed_ / sizeof allowed_[0]);                                   \
    } while (0)

/* A libc call that must succeed (cond true); prints errno otherwise. */
#define CHECK_LIBC(cond)                                                                        \
    do {                                                                                        \
        errno = 0;                                                                              \
        if (!(cond))                                                                            \
            check_fail(__LINE__, "%s: failed with errno %d (%s)", #cond, errno,                 \
                       errno_name(errno));                                                      \
    } while (0)

/* The descriptor of the preopened directory named name, or -1. */
static inline int find_preopen(const char *name) {
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t prestat;
        if (__wasi_fd_prestat_get(fd, &prestat) != 0) break;
        if (prestat.tag != __WASI_PREOPENTYPE_DIR) continue;
        char buf[256];
        size_t len = prestat.u.dir.pr_name_len;
        if (len >= sizeof buf || __wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, len) != 0)
            continue;
        buf[len] = 0;
        if (strcmp(buf, name) == 0) return (int)fd;
    }
    return -1;
}

/* The root preopen "/" every test directory is given; fails the test if it is missing. */
static inline __wasi_fd_t root_fd(void) {
    int fd = find_preopen("/");
    if (fd < 0) check_fail(__LINE__, "no preopened directory \"/\"");
    return (__wasi_fd_t)fd;
}

#define RIGHTS_ALL ((__wasi_rights_t)0x1fffffff)

#define RIGHTS_READ                                                                            \
    (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |                    \
     __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_POLL_FD_READWRITE)

/* The rights that make path_open open for writing (as in wasmtime). */
#define RIGHTS_WRITE                                                                           \
    (__WASI_RIGHTS_FD_DATASYNC | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_ALLOCATE |           \
     __WASI_RIGHTS_FD_FILESTAT_SET_SIZE)

/* Open path under dir with every right (but the writing ones for a directory: that is ISDIR);
 * the errno, *out the descriptor. */
static inline int open_at(__wasi_fd_t dir, __wasi_lookupflags_t lookup, const char *path,
                          __wasi_oflags_t oflags, __wasi_fdflags_t fdflags, __wasi_fd_t *out) {
    __wasi_rights_t base = RIGHTS_ALL;
    if (oflags & __WASI_OFLAGS_DIRECTORY) base &= ~RIGHTS_WRITE;
    return __wasi_path_open(dir, lookup, path, oflags, base, RIGHTS_ALL, fdflags, out);
}

/* Whether path exists under dir (without following a final symlink). */
static inline int exists_at(__wasi_fd_t dir, const char *path) {
    __wasi_filestat_t st;
    return __wasi_path_filestat_get(dir, 0, path, &st) == 0;
}

/* Create (or truncate) path under dir holding text; fails the test on error. */
static inline void write_file_at(__wasi_fd_t dir, const char *path, const char *text) {
    __wasi_fd_t fd;
    int e = open_at(dir, 0, path, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 0, &fd);
    if (e) check_fail(__LINE__, "creating %s: errno %d (%s)", path, e, errno_name(e));
    __wasi_ciovec_t iov = {(const uint8_t *)text, strlen(text)};
    size_t n;
    e = __wasi_fd_write(fd, &iov, 1, &n);
    if (e || n != strlen(text)) check_fail(__LINE__, "writing %s: errno %d", path, e);
    (void)__wasi_fd_close(fd);
}

/* The contents of path under dir (at most cap-1 bytes, NUL-terminated) or NULL. */
static inline char *read_file_at(__wasi_fd_t dir, const char *path, char *buf, size_t cap) {
    __wasi_fd_t fd;
    if (__wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 0, RIGHTS_READ, 0, 0,
                         &fd) != 0)
        return NULL;
    size_t total = 0, n;
    do {
        __wasi_iovec_t iov = {(uint8_t *)buf + total, cap - 1 - total};
        if (__wasi_fd_read(fd, &iov, 1, &n) != 0) {
            (void)__wasi_fd_close(fd);
            return NULL;
        }
        total += n;
    } while (n > 0 && total < cap - 1);
    (void)__wasi_fd_close(fd);
    buf[total] = 0;
    return buf;
}

#endif
