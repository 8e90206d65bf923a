/* readonly.c - a read-only preopen ("/ro", from --dir-ro) can be read, listed and stat'ed, and
 * refuses every change: create, write, truncate, append, mkdir, rmdir, unlink, rename (in,
 * out and within), link, symlink, utimes, fd_allocate and set_size. The driver fills it with
 * file.txt ("read me"), sub/inner.txt and empty_dir/, and checks afterwards that nothing in it
 * changed. The writable preopen "/" is beside it. */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* wasmtime refuses writes through a read-only directory with PERM or NOTCAPABLE; ROFS and
 * ACCES are what a read-only mount would say. */
#define RO_ERRNOS __WASI_ERRNO_PERM, __WASI_ERRNO_NOTCAPABLE, __WASI_ERRNO_ROFS, __WASI_ERRNO_ACCES
#define REFUSED(call) CHECK_ERR(call, RO_ERRNOS)

int main(void) {
    int ro = find_preopen("/ro");
    CHECK_MSG(ro >= 0, "no preopen /ro");
    __wasi_fd_t rw = root_fd(), fd;
    char buf[64];

    /* reading works */
    CHECK(read_file_at(ro, "file.txt", buf, sizeof buf) && strcmp(buf, "read me") == 0);
    CHECK(read_file_at(ro, "sub/inner.txt", buf, sizeof buf) && strcmp(buf, "inner") == 0);
    __wasi_filestat_t st;
    CHECK_OK(__wasi_path_filestat_get(ro, 0, "file.txt", &st));
    CHECK(st.size == 7);
    uint8_t dirbuf[1024];
    size_t used;
    __wasi_fd_t d;
    CHECK_OK(open_at(ro, 0, "sub", __WASI_OFLAGS_DIRECTORY, 0, &d));
    CHECK_OK(__wasi_fd_readdir(d, dirbuf, sizeof dirbuf, 0, &used));
    CHECK(used > 0);
    CHECK_OK(__wasi_fd_close(d));
    FILE *f;
    CHECK_LIBC((f = fopen("/ro/file.txt", "r")) != NULL);
    CHECK(fgets(buf, sizeof buf, f) && strcmp(buf, "read me") == 0);
    fclose(f);
    printf("reading ok\n");

    /* opening for change is refused */
    __wasi_rights_t read_only = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK |
                                __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET;
    REFUSED(open_at(ro, 0, "new.txt", __WASI_OFLAGS_CREAT, 0, &fd));
    REFUSED(__wasi_path_open(ro, 0, "new.txt", __WASI_OFLAGS_CREAT, read_only, 0, 0, &fd));
    REFUSED(open_at(ro, 0, "file.txt", __WASI_OFLAGS_TRUNC, 0, &fd));
    REFUSED(__wasi_path_open(ro, 0, "file.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd));
    REFUSED(__wasi_path_open(ro, 0, "file.txt", 0, read_only, 0, __WASI_FDFLAGS_APPEND, &fd));
    /* the read-only preopen passes writing rights on, so wasi-libc asks for them and the
     * open itself is refused (not just the first write) */
    CHECK_LIBC_ERR(open("/ro/file.txt", O_WRONLY) < 0, ENOTCAPABLE);
    CHECK_LIBC_ERR(open("/ro/file.txt", O_RDWR) < 0, ENOTCAPABLE);
    CHECK_LIBC_ERR(open("/ro/created.txt", O_CREAT | O_WRONLY, 0644) < 0, EPERM, ENOTCAPABLE,
                   EROFS, EACCES);
    CHECK_LIBC_ERR(fopen("/ro/file.txt", "a") == NULL, EPERM, ENOTCAPABLE, EROFS, EACCES);

    /* a descriptor opened for reading cannot write, resize, allocate or retime */
    CHECK_OK(__wasi_path_open(ro, 0, "file.txt", 0,
                              RIGHTS_READ | __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS |
                                  __WASI_RIGHTS_FD_FILESTAT_SET_TIMES,
                              0, 0, &fd));
    __wasi_ciovec_t iov = {(const uint8_t *)"X", 1};
    size_t n;
    CHECK_ERR(__wasi_fd_write(fd, &iov, 1, &n), __WASI_ERRNO_BADF, RO_ERRNOS);
    CHECK_ERR(__wasi_fd_pwrite(fd, &iov, 1, 0, &n), __WASI_ERRNO_BADF, RO_ERRNOS);
    CHECK_ERR(__wasi_fd_filestat_set_size(fd, 0), __WASI_ERRNO_BADF, __WASI_ERRNO_INVAL, RO_ERRNOS);
    CHECK_ERR(__wasi_fd_allocate(fd, 0, 100), __WASI_ERRNO_BADF, __WASI_ERRNO_NOTSUP, RO_ERRNOS);
    CHECK_ERR(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_BADF,
              RO_ERRNOS);
    /* turning on APPEND does not make it writable */
    int e = __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND);
    CHECK_ERR(__wasi_fd_write(fd, &iov, 1, &n), __WASI_ERRNO_BADF, RO_ERRNOS);
    (void)e;
    CHECK_OK(__wasi_fd_close(fd));
    /* neither can the directory's own descriptor */
    CHECK_ERR(__wasi_fd_filestat_set_times(ro, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_BADF,
              RO_ERRNOS);
    /* a sub-directory opened from it inherits the restriction */
    CHECK_OK(open_at(ro, 0, "sub", __WASI_OFLAGS_DIRECTORY, 0, &d));
    REFUSED(open_at(d, 0, "made-in-sub.txt", __WASI_OFLAGS_CREAT, 0, &fd));
    REFUSED(__wasi_path_unlink_file(d, "inner.txt"));
    REFUSED(open_at(d, 0, "inner.txt", __WASI_OFLAGS_TRUNC, 0, &fd));
    CHECK_OK(__wasi_fd_close(d));
    printf("writes refused\n");

    /* changing the tree is refused */
    REFUSED(__wasi_path_create_directory(ro, "newdir"));
    REFUSED(__wasi_path_remove_directory(ro, "empty_dir"));
    REFUSED(__wasi_path_unlink_file(ro, "file.txt"));
    REFUSED(__wasi_path_rename(ro, "file.txt", ro, "renamed.txt"));
    REFUSED(__wasi_path_symlink("file.txt", ro, "symlink"));
    REFUSED(__wasi_path_link(ro, 0, "file.txt", ro, "hardlink"));
    REFUSED(__wasi_path_filestat_set_times(ro, 0, "file.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    CHECK_LIBC_ERR(mkdir("/ro/libc_dir", 0755) < 0, EPERM, ENOTCAPABLE, EROFS, EACCES);
    CHECK_LIBC_ERR(unlink("/ro/file.txt") < 0, EPERM, ENOTCAPABLE, EROFS, EACCES);
    CHECK_LIBC_ERR(rmdir("/ro/empty_dir") < 0, EPERM, ENOTCAPABLE, EROFS, EACCES);
    /* across preopens: out of it (a change to it) and into it */
    REFUSED(__wasi_path_rename(ro, "file.txt", rw, "stolen.txt"));
    write_file_at(rw, "mine.txt", "mine");
    REFUSED(__wasi_path_rename(rw, "mine.txt", ro, "planted.txt"));
    REFUSED(__wasi_path_link(rw, 0, "mine.txt", ro, "planted-link.txt"));
    /* a hard link from it into the writable preopen would give write access to its file */
    CHECK_ERR(__wasi_path_link(ro, 0, "file.txt", rw, "linked.txt"), RO_ERRNOS, __WASI_ERRNO_XDEV);
    CHECK(exists_at(rw, "mine.txt") && !exists_at(rw, "stolen.txt") &&
          !exists_at(rw, "linked.txt"));
    CHECK_OK(__wasi_path_unlink_file(rw, "mine.txt"));
    printf("tree changes refused\n");

    /* the writable one still works */
    write_file_at(rw, "ok.txt", "ok");
    CHECK_OK(__wasi_path_unlink_file(rw, "ok.txt"));
    printf("readonly: all passed\n");
    return 0;
}
