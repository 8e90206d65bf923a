/* files.c - regular files through libc and raw WASI: create, write, read, pread/pwrite, seek and
 * tell, truncate, append, stat, utimes, sync, fd_allocate, rename, link, symlink/readlink,
 * unlink. The driver preopens an empty writable directory as "/". */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_write_read_seek(void) {
    int fd;
    CHECK_LIBC((fd = open("data.txt", O_CREAT | O_RDWR | O_EXCL, 0644)) >= 0);
    CHECK(write(fd, "hello, world", 12) == 12);
    CHECK(lseek(fd, 0, SEEK_CUR) == 12);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    char buf[64] = {0};
    CHECK(read(fd, buf, sizeof buf) == 12);
    CHECK(memcmp(buf, "hello, world", 12) == 0);
    CHECK(read(fd, buf, sizeof buf) == 0); /* end of file */
    CHECK(lseek(fd, -5, SEEK_END) == 7);
    CHECK(read(fd, buf, 5) == 5 && memcmp(buf, "world", 5) == 0);
    CHECK(lseek(fd, 2, SEEK_SET) == 2 && lseek(fd, 3, SEEK_CUR) == 5);
    CHECK_LIBC_ERR(lseek(fd, -100, SEEK_CUR) < 0, EINVAL);

    /* pread/pwrite leave the offset alone. */
    CHECK(lseek(fd, 1, SEEK_SET) == 1);
    CHECK(pread(fd, buf, 5, 7) == 5 && memcmp(buf, "world", 5) == 0);
    CHECK(pwrite(fd, "WORLD", 5, 7) == 5);
    CHECK(lseek(fd, 0, SEEK_CUR) == 1);
    CHECK(pread(fd, buf, 64, 0) == 12 && memcmp(buf, "hello, WORLD", 12) == 0);
    CHECK(pread(fd, buf, 64, 100) == 0);
    /* pwrite past the end leaves a hole of zeros. */
    CHECK(pwrite(fd, "!", 1, 20) == 1);
    struct stat st;
    CHECK_LIBC(fstat(fd, &st) == 0);
    CHECK(st.st_size == 21 && S_ISREG(st.st_mode));
    CHECK(pread(fd, buf, 9, 12) == 9 && memcmp(buf, "\0\0\0\0\0\0\0\0!", 9) == 0);

    /* Raw fd_tell / fd_seek, and whence values outside the three. */
    __wasi_filesize_t pos;
    CHECK_OK(__wasi_fd_seek(fd, 4, __WASI_WHENCE_SET, &pos));
    CHECK(pos == 4);
    CHECK_OK(__wasi_fd_tell(fd, &pos));
    CHECK(pos == 4);
    CHECK_ERR(__wasi_fd_seek(fd, 0, 7, &pos), __WASI_ERRNO_INVAL);

    /* Scatter/gather. */
    __wasi_ciovec_t out[3] = {{(const uint8_t *)"ab", 2}, {(const uint8_t *)"", 0},
                              {(const uint8_t *)"cde", 3}};
    size_t n;
    CHECK_OK(__wasi_fd_pwrite(fd, out, 3, 0, &n));
    CHECK(n == 5);
    char a[2], b[4];
    __wasi_iovec_t in[2] = {{(uint8_t *)a, 2}, {(uint8_t *)b, 4}};
    CHECK_OK(__wasi_fd_pread(fd, in, 2, 0, &n));
    CHECK(n == 6 && memcmp(a, "ab", 2) == 0 && memcmp(b, "cde,", 4) == 0);

    /* Truncate shorter and longer. */
    CHECK_LIBC(ftruncate(fd, 3) == 0);
    CHECK_LIBC(fstat(fd, &st) == 0 && st.st_size == 3);
    CHECK_OK(__wasi_fd_filestat_set_size(fd, 10));
    __wasi_filestat_t fst;
    CHECK_OK(__wasi_fd_filestat_get(fd, &fst));
    CHECK(fst.size == 10 && fst.filetype == __WASI_FILETYPE_REGULAR_FILE && fst.nlink == 1);
    CHECK(pread(fd, buf, 64, 0) == 10 && memcmp(buf, "abc\0\0\0\0\0\0\0", 10) == 0);

    CHECK_LIBC(fsync(fd) == 0);
    CHECK_LIBC(fdatasync(fd) == 0);
    CHECK_OK(__wasi_fd_sync(fd));
    CHECK_OK(__wasi_fd_datasync(fd));
    CHECK_OK(__wasi_fd_advise(fd, 0, 10, __WASI_ADVICE_SEQUENTIAL));

    /* fd_allocate grows the file or is unsupported (as in wasmtime), never shrinks it. */
    int e = __wasi_fd_allocate(fd, 0, 100);
    if (e == 0) {
        CHECK_OK(__wasi_fd_filestat_get(fd, &fst));
        CHECK(fst.size == 100);
        CHECK_OK(__wasi_fd_allocate(fd, 10, 10));
        CHECK_OK(__wasi_fd_filestat_get(fd, &fst));
        CHECK(fst.size == 100);
    } else {
        CHECK_MSG(e == __WASI_ERRNO_NOTSUP, "fd_allocate: errno %d", e);
    }
    CHECK_LIBC(close(fd) == 0);
    CHECK_ERR(__wasi_fd_close(fd), __WASI_ERRNO_BADF);
    CHECK_LIBC_ERR(open("data.txt", O_CREAT | O_EXCL | O_WRONLY, 0644) < 0, EEXIST);
    printf("write/read/seek/truncate ok\n");
}

static void test_append(void) {
    int fd;
    CHECK_LIBC((fd = open("log.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644)) >= 0);
    CHECK(write(fd, "one\n", 4) == 4);
    close(fd);
    CHECK_LIBC((fd = open("log.txt", O_WRONLY | O_APPEND)) >= 0);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(write(fd, "two\n", 4) == 4); /* appends despite the seek */
    __wasi_fdstat_t fs;
    CHECK_OK(__wasi_fd_fdstat_get(fd, &fs));
    CHECK(fs.fs_flags & __WASI_FDFLAGS_APPEND);
    CHECK(fs.fs_filetype == __WASI_FILETYPE_REGULAR_FILE);
    /* Clearing APPEND makes writes land at the offset again. */
    CHECK_OK(__wasi_fd_fdstat_set_flags(fd, 0));
    CHECK_OK(__wasi_fd_fdstat_get(fd, &fs));
    CHECK(!(fs.fs_flags & __WASI_FDFLAGS_APPEND));
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(write(fd, "ONE", 3) == 3);
    close(fd);
    char buf[64];
    CHECK(read_file_at(root_fd(), "log.txt", buf, sizeof buf));
    CHECK_MSG(strcmp(buf, "ONE\ntwo\n") == 0, "log.txt holds \"%s\"", buf);

    /* O_TRUNC empties it; a read-only descriptor refuses writes. */
    CHECK_LIBC((fd = open("log.txt", O_RDWR | O_TRUNC)) >= 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 0);
    close(fd);
    CHECK_LIBC((fd = open("log.txt", O_RDONLY)) >= 0);
    CHECK_LIBC_ERR(write(fd, "x", 1) < 0, EBADF, ENOTCAPABLE);
    close(fd);
    CHECK_LIBC((fd = open("log.txt", O_WRONLY)) >= 0);
    char c;
    CHECK_LIBC_ERR(read(fd, &c, 1) < 0, EBADF, ENOTCAPABLE);
    close(fd);
    printf("append ok\n");
}

static void test_stat_times(void) {
    __wasi_fd_t dir = root_fd();
    write_file_at(dir, "times.txt", "12345");
    __wasi_filestat_t st, st2;
    CHECK_OK(__wasi_path_filestat_get(dir, 0, "times.txt", &st));
    CHECK(st.size == 5 && st.filetype == __WASI_FILETYPE_REGULAR_FILE && st.nlink == 1);
    CHECK(st.ino != 0);

    /* Explicit times (nanoseconds survive on Linux filesystems). */
    __wasi_timestamp_t atim = 1000000000ull * 1500000000ull + 123456789,
                       mtim = 1000000000ull * 1600000000ull + 987654321;
    CHECK_OK(__wasi_path_filestat_set_times(dir, 0, "times.txt", atim, mtim,
                                            __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    CHECK_OK(__wasi_path_filestat_get(dir, 0, "times.txt", &st));
    CHECK_MSG(st.atim == atim && st.mtim == mtim, "atim %llu mtim %llu",
              (unsigned long long)st.atim, (unsigned long long)st.mtim);
    /* Only mtim changes; atim stays. */
    CHECK_OK(__wasi_path_filestat_set_times(dir, 0, "times.txt", 0, mtim + 1000,
                                            __WASI_FSTFLAGS_MTIM));
    CHECK_OK(__wasi_path_filestat_get(dir, 0, "times.txt", &st));
    CHECK(st.atim == atim && st.mtim == mtim + 1000);
    /* MTIM_NOW: near the realtime clock. */
    __wasi_timestamp_t now;
    CHECK_OK(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now));
    CHECK_OK(__wasi_path_filestat_set_times(dir, 0, "times.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    CHECK_OK(__wasi_path_filestat_get(dir, 0, "times.txt", &st));
    CHECK_MSG(st.mtim + 5000000000ull > now && st.mtim < now + 5000000000ull,
              "mtim %llu now %llu", (unsigned long long)st.mtim, (unsigned long long)now);
    CHECK(st.atim == atim);
    /* Both a time and NOW for the same field is invalid. */
    CHECK_ERR(__wasi_path_filestat_set_times(dir, 0, "times.txt", 0, 5,
                                             __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW),
              __WASI_ERRNO_INVAL);
    /* Through a descriptor. */
    __wasi_fd_t fd;
    CHECK_OK(open_at(dir, 0, "times.txt", 0, 0, &fd));
    CHECK_OK(__wasi_fd_filestat_set_times(fd, atim, mtim, __WASI_FSTFLAGS_ATIM |
                                                              __WASI_FSTFLAGS_MTIM));
    CHECK_OK(__wasi_fd_filestat_get(fd, &st2));
    CHECK(st2.atim == atim && st2.mtim == mtim && st2.ino == st.ino && st2.dev == st.dev);
    CHECK_OK(__wasi_fd_close(fd));
    /* libc stat/utimensat agree. */
    struct stat s;
    CHECK_LIBC(stat("times.txt", &s) == 0);
    CHECK(s.st_size == 5 && s.st_mtim.tv_sec == 1600000000 && s.st_mtim.tv_nsec == 987654321);
    struct timespec ts[2] = {{1234, 5}, {5678, 9}};
    CHECK_LIBC(utimensat(AT_FDCWD, "times.txt", ts, 0) == 0);
    CHECK_LIBC(stat("times.txt", &s) == 0);
    CHECK(s.st_atim.tv_sec == 1234 && s.st_mtim.tv_sec == 5678 && s.st_mtim.tv_nsec == 9);
    CHECK_LIBC_ERR(stat("missing.txt", &s) < 0, ENOENT);
    printf("stat/utimes ok\n");
}

static void test_rename_link_unlink(void) {
    __wasi_fd_t dir = root_fd();
    char buf[64];
    write_file_at(dir, "a.txt", "AAA");
    write_file_at(dir, "b.txt", "BBB");
    /* rename over an existing file replaces it. */
    CHECK_LIBC(rename("a.txt", "b.txt") == 0);
    CHECK(!exists_at(dir, "a.txt"));
    CHECK(read_file_at(dir, "b.txt", buf, sizeof buf) && strcmp(buf, "AAA") == 0);
    CHECK_LIBC_ERR(rename("a.txt", "c.txt") < 0, ENOENT);
    /* into and out of a subdirectory, raw */
    CHECK_OK(__wasi_path_create_directory(dir, "sub"));
    CHECK_OK(__wasi_path_rename(dir, "b.txt", dir, "sub/moved.txt"));
    CHECK(read_file_at(dir, "sub/moved.txt", buf, sizeof buf) && strcmp(buf, "AAA") == 0);
    /* a file over a directory, a directory over a file, a file over its own directory */
    write_file_at(dir, "f.txt", "F");
    CHECK_ERR(__wasi_path_rename(dir, "f.txt", dir, "sub"), __WASI_ERRNO_ISDIR);
    CHECK_ERR(__wasi_path_rename(dir, "sub/moved.txt", dir, "sub"), __WASI_ERRNO_NOTEMPTY);
    CHECK_ERR(__wasi_path_rename(dir, "sub", dir, "f.txt"), __WASI_ERRNO_NOTDIR);
    /* a directory into itself */
    CHECK_ERR(__wasi_path_rename(dir, "sub", dir, "sub/inner"), __WASI_ERRNO_INVAL);

    /* hard links share the inode */
    CHECK_LIBC(link("f.txt", "f-link.txt") == 0);
    __wasi_filestat_t s1, s2;
    CHECK_OK(__wasi_path_filestat_get(dir, 0, "f.txt", &s1));
    CHECK_OK(__wasi_path_filestat_get(dir, 0, "f-link.txt", &s2));
    CHECK(s1.ino == s2.ino && s1.nlink == 2 && s2.nlink == 2);
    CHECK_ERR(__wasi_path_link(dir, 0, "f.txt", dir, "f-link.txt"), __WASI_ERRNO_EXIST);
    CHECK_ERR(__wasi_path_link(dir, 0, "sub", dir, "sub-link"), __WASI_ERRNO_PERM,
              __WASI_ERRNO_ACCES);
    CHECK_ERR(__wasi_path_link(dir, 0, "nothing", dir, "x"), __WASI_ERRNO_NOENT);
    CHECK_LIBC(unlink("f.txt") == 0);
    CHECK_OK(__wasi_path_filestat_get(dir, 0, "f-link.txt", &s2));
    CHECK(s2.nlink == 1);
    CHECK(read_file_at(dir, "f-link.txt", buf, sizeof buf) && strcmp(buf, "F") == 0);

    /* symlinks: created, read back, followed or not */
    CHECK_LIBC(symlink("f-link.txt", "sym") == 0);
    char target[64];
    ssize_t len;
    CHECK_LIBC((len = readlink("sym", target, sizeof target)) == 10);
    CHECK(memcmp(target, "f-link.txt", 10) == 0);
    size_t used;
    CHECK_OK(__wasi_path_readlink(dir, "sym", (uint8_t *)target, 4, &used));
    CHECK(used == 4 && memcmp(target, "f-li", 4) == 0); /* truncated to the buffer */
    CHECK_ERR(__wasi_path_readlink(dir, "f-link.txt", (uint8_t *)target, 64, &used),
              __WASI_ERRNO_INVAL);
    CHECK_OK(__wasi_path_filestat_get(dir, 0, "sym", &s1));
    CHECK(s1.filetype == __WASI_FILETYPE_SYMBOLIC_LINK);
    CHECK_OK(__wasi_path_filestat_get(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "sym", &s1));
    CHECK(s1.filetype == __WASI_FILETYPE_REGULAR_FILE && s1.ino == s2.ino);
    CHECK(read_file_at(dir, "sym", buf, sizeof buf) && strcmp(buf, "F") == 0);
    CHECK_ERR(__wasi_path_symlink("x", dir, "sym"), __WASI_ERRNO_EXIST);
    /* A symlink to a directory, walked through as a middle component. */
    CHECK_OK(__wasi_path_symlink("sub", dir, "sublink"));
    CHECK(read_file_at(dir, "sublink/moved.txt", buf, sizeof buf) && strcmp(buf, "AAA") == 0);
    /* unlink removes the link, not its target */
    CHECK_LIBC(unlink("sym") == 0);
    CHECK(!exists_at(dir, "sym") && exists_at(dir, "f-link.txt"));
    CHECK_OK(__wasi_path_unlink_file(dir, "sublink"));
    CHECK(exists_at(dir, "sub/moved.txt"));
    /* unlink refuses directories, rmdir refuses files */
    CHECK_ERR(__wasi_path_unlink_file(dir, "sub"), __WASI_ERRNO_ISDIR, __WASI_ERRNO_PERM);
    CHECK_ERR(__wasi_path_remove_directory(dir, "f-link.txt"), __WASI_ERRNO_NOTDIR);
    CHECK_ERR(__wasi_path_unlink_file(dir, "f-link.txt/"), __WASI_ERRNO_NOTDIR);
    CHECK_ERR(__wasi_path_unlink_file(dir, "gone"), __WASI_ERRNO_NOENT);
    CHECK_LIBC(unlink("f-link.txt") == 0);
    CHECK_OK(__wasi_path_unlink_file(dir, "sub/moved.txt"));
    CHECK_OK(__wasi_path_remove_directory(dir, "sub"));
    printf("rename/link/symlink/unlink ok\n");
}

static void test_fd_table(void) {
    __wasi_fd_t dir = root_fd(), fd1, fd2;
    write_file_at(dir, "one", "1");
    write_file_at(dir, "two", "2");
    CHECK_OK(open_at(dir, 0, "one", 0, 0, &fd1));
    CHECK_OK(open_at(dir, 0, "two", 0, 0, &fd2));
    CHECK(fd1 > 2 && fd2 > 2 && fd1 != fd2);
    /* renumber: fd2 now is "one", fd1 is closed */
    CHECK_OK(__wasi_fd_renumber(fd1, fd2));
    char c = 0;
    __wasi_iovec_t iov = {(uint8_t *)&c, 1};
    size_t n;
    CHECK_OK(__wasi_fd_read(fd2, &iov, 1, &n));
    CHECK(n == 1 && c == '1');
    CHECK_ERR(__wasi_fd_read(fd1, &iov, 1, &n), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_renumber(fd1, fd2), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_renumber(fd2, 1000), __WASI_ERRNO_BADF);
    __wasi_fdstat_t fs;
    CHECK_ERR(__wasi_fd_fdstat_get(12345, &fs), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_close(12345), __WASI_ERRNO_BADF);
    /* A file is not a directory: path calls on it fail, prestat does not know it. */
    __wasi_fd_t other;
    CHECK_ERR(open_at(fd2, 0, "x", 0, 0, &other), __WASI_ERRNO_NOTDIR, __WASI_ERRNO_NOTCAPABLE);
    __wasi_prestat_t ps;
    CHECK_ERR(__wasi_fd_prestat_get(fd2, &ps), __WASI_ERRNO_BADF);
    /* A directory cannot be read like a file. */
    CHECK_OK(open_at(dir, 0, ".", __WASI_OFLAGS_DIRECTORY, 0, &other));
    CHECK_OK(__wasi_fd_fdstat_get(other, &fs));
    CHECK(fs.fs_filetype == __WASI_FILETYPE_DIRECTORY);
    /* as dir_fd_op_failures accepts */
    CHECK_ERR(__wasi_fd_read(other, &iov, 1, &n), __WASI_ERRNO_ISDIR, __WASI_ERRNO_BADF,
              __WASI_ERRNO_NOTCAPABLE);
    CHECK_OK(__wasi_fd_close(other));
    /* O_DIRECTORY on a file, EXCL on an existing file, a missing file without CREAT */
    CHECK_ERR(open_at(dir, 0, "one", __WASI_OFLAGS_DIRECTORY, 0, &other), __WASI_ERRNO_NOTDIR);
    CHECK_ERR(open_at(dir, 0, "one", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, &other),
              __WASI_ERRNO_EXIST);
    CHECK_ERR(open_at(dir, 0, "nope", 0, 0, &other), __WASI_ERRNO_NOENT);
    CHECK_OK(__wasi_fd_close(fd2));
    CHECK_OK(__wasi_path_unlink_file(dir, "one"));
    CHECK_OK(__wasi_path_unlink_file(dir, "two"));
    /* stdio descriptors are there and are not seekable when they are pipes */
    CHECK_OK(__wasi_fd_fdstat_get(1, &fs));
    CHECK_OK(__wasi_fd_fdstat_get(0, &fs));
    printf("fd table ok\n");
}

int main(void) {
    test_write_read_seek();
    test_append();
    test_stat_times();
    test_rename_link_unlink();
    test_fd_table();
    printf("files: all passed\n");
    return 0;
}
