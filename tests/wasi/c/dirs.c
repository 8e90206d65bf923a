/* dirs.c - directories: mkdir, listing every entry (libc readdir and raw fd_readdir with small
 * buffers and cookies, many more entries than one buffer holds), rmdir, and the errors of
 * rmdir on a non-empty directory, mkdir on an existing name. The driver preopens an empty
 * writable directory as "/". */
#include "check.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANY 300

/* A name long enough that a few hundred of them overflow any one readdir buffer. */
static void entry_name(char *buf, size_t cap, int i) {
    snprintf(buf, cap, "entry-%04d-%s", i, "padding-padding-padding-padding-padding");
}

static int entry_index(const char *name) {
    int i;
    char expect[128];
    if (sscanf(name, "entry-%04d-", &i) != 1 || i < 0 || i >= MANY) return -1;
    entry_name(expect, sizeof expect, i);
    return strcmp(name, expect) == 0 ? i : -1;
}

static void test_mkdir_rmdir(void) {
    __wasi_fd_t dir = root_fd();
    CHECK_LIBC(mkdir("d1", 0755) == 0);
    CHECK_LIBC_ERR(mkdir("d1", 0755) < 0, EEXIST);
    CHECK_ERR(__wasi_path_create_directory(dir, "d1"), __WASI_ERRNO_EXIST);
    CHECK_OK(__wasi_path_create_directory(dir, "d1/d2"));
    CHECK_OK(__wasi_path_create_directory(dir, "d1/d2/d3/"));
    CHECK_ERR(__wasi_path_create_directory(dir, "nothere/d"), __WASI_ERRNO_NOENT);
    write_file_at(dir, "d1/file", "x");
    CHECK_ERR(__wasi_path_create_directory(dir, "d1/file"), __WASI_ERRNO_EXIST);
    CHECK_ERR(__wasi_path_create_directory(dir, "d1/file/sub"), __WASI_ERRNO_NOTDIR);
    __wasi_filestat_t st;
    CHECK_OK(__wasi_path_filestat_get(dir, 0, "d1/d2", &st));
    CHECK(st.filetype == __WASI_FILETYPE_DIRECTORY);
    struct stat s;
    CHECK_LIBC(stat("d1/d2/d3", &s) == 0 && S_ISDIR(s.st_mode));

    /* non-empty directories stay */
    CHECK_ERR(__wasi_path_remove_directory(dir, "d1"), __WASI_ERRNO_NOTEMPTY);
    CHECK_LIBC_ERR(rmdir("d1/d2") < 0, ENOTEMPTY);
    CHECK(exists_at(dir, "d1/d2/d3"));
    CHECK_ERR(__wasi_path_remove_directory(dir, "d1/file"), __WASI_ERRNO_NOTDIR);
    CHECK_ERR(__wasi_path_remove_directory(dir, "d1/missing"), __WASI_ERRNO_NOENT);
    /* the preopen itself cannot be removed */
    CHECK_ERR(__wasi_path_remove_directory(dir, "."), __WASI_ERRNO_INVAL, __WASI_ERRNO_BUSY,
              __WASI_ERRNO_NOTEMPTY, __WASI_ERRNO_PERM, __WASI_ERRNO_NOTCAPABLE);

    CHECK_OK(__wasi_path_remove_directory(dir, "d1/d2/d3/"));
    CHECK_LIBC(rmdir("d1/d2") == 0);
    CHECK(!exists_at(dir, "d1/d2"));
    CHECK_OK(__wasi_path_unlink_file(dir, "d1/file"));
    CHECK_OK(__wasi_path_remove_directory(dir, "d1"));
    CHECK(!exists_at(dir, "d1"));
    /* rename of a directory, with trailing slashes */
    CHECK_OK(__wasi_path_create_directory(dir, "old"));
    CHECK_OK(__wasi_path_rename(dir, "old/", dir, "new/"));
    CHECK(!exists_at(dir, "old") && exists_at(dir, "new"));
    CHECK_OK(__wasi_path_create_directory(dir, "empty"));
    CHECK_OK(__wasi_path_rename(dir, "new", dir, "empty")); /* over an empty directory */
    CHECK(!exists_at(dir, "new") && exists_at(dir, "empty"));
    CHECK_OK(__wasi_path_remove_directory(dir, "empty"));
    printf("mkdir/rmdir ok\n");
}

/* "many/" and entry i's name. */
static const char *many_path(int i) {
    static char path[160];
    char name[128];
    entry_name(name, sizeof name, i);
    snprintf(path, sizeof path, "many/%s", name);
    return path;
}

static void fill_many(void) {
    __wasi_fd_t dir = root_fd();
    CHECK_OK(__wasi_path_create_directory(dir, "many"));
    for (int i = 0; i < MANY; i++) {
        const char *path = many_path(i);
        if (i % 10 == 0)
            CHECK_OK(__wasi_path_create_directory(dir, path));
        else
            write_file_at(dir, path, "");
    }
}

static void test_libc_readdir(void) {
    static char seen[MANY];
    int dots = 0, n = 0;
    DIR *d;
    CHECK_LIBC((d = opendir("many")) != NULL);
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            dots++;
            continue;
        }
        int i = entry_index(e->d_name);
        CHECK_MSG(i >= 0, "unexpected entry \"%s\"", e->d_name);
        CHECK_MSG(!seen[i], "entry \"%s\" listed twice", e->d_name);
        seen[i] = 1;
        n++;
        CHECK_MSG(e->d_type == (i % 10 == 0 ? DT_DIR : DT_REG), "d_type %d of %s", e->d_type,
                  e->d_name);
    }
    CHECK_MSG(errno == 0, "readdir: errno %d", errno);
    CHECK_MSG(n == MANY, "readdir listed %d of %d entries", n, MANY);
    CHECK_MSG(dots == 2, "readdir listed %d of . and ..", dots);
    /* rewinddir starts over */
    rewinddir(d);
    n = 0;
    while ((e = readdir(d)) != NULL) n++;
    CHECK(n == MANY + 2);
    closedir(d);
    printf("libc readdir ok (%d entries)\n", MANY);
}

/* Raw fd_readdir with a buffer of bufsize bytes, resuming at each d_next cookie. */
static void raw_listing(size_t bufsize) {
    __wasi_fd_t dir;
    CHECK_OK(open_at(root_fd(), 0, "many", __WASI_OFLAGS_DIRECTORY, 0, &dir));
    static char seen[MANY];
    memset(seen, 0, sizeof seen);
    static uint8_t buf[65536];
    __wasi_dircookie_t cookie = __WASI_DIRCOOKIE_START;
    int n = 0, dots = 0, calls = 0;
    for (;;) {
        size_t used;
        CHECK_OK(__wasi_fd_readdir(dir, buf, bufsize, cookie, &used));
        CHECK(used <= bufsize);
        calls++;
        CHECK_MSG(calls < 10000, "fd_readdir does not make progress");
        size_t pos = 0;
        int progressed = 0;
        while (pos + sizeof(__wasi_dirent_t) <= used) {
            __wasi_dirent_t ent;
            memcpy(&ent, buf + pos, sizeof ent);
            if (pos + sizeof ent + ent.d_namlen > used) break; /* name cut off: fetch again */
            char name[256];
            CHECK(ent.d_namlen < sizeof name);
            memcpy(name, buf + pos + sizeof ent, ent.d_namlen);
            name[ent.d_namlen] = 0;
            if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
                dots++;
                CHECK(ent.d_type == __WASI_FILETYPE_DIRECTORY);
            } else {
                int i = entry_index(name);
                CHECK_MSG(i >= 0, "unexpected entry \"%s\" (namlen %u)", name, ent.d_namlen);
                CHECK_MSG(!seen[i], "entry \"%s\" listed twice (buffer %zu)", name, bufsize);
                seen[i] = 1;
                n++;
                CHECK(ent.d_type == (i % 10 == 0 ? __WASI_FILETYPE_DIRECTORY
                                                 : __WASI_FILETYPE_REGULAR_FILE));
            }
            cookie = ent.d_next;
            progressed = 1;
            pos += sizeof ent + ent.d_namlen;
        }
        if (used < bufsize) break; /* a short buffer means the end */
        CHECK_MSG(progressed, "buffer of %zu bytes holds no whole entry", bufsize);
    }
    CHECK_MSG(n == MANY && dots == 2, "buffer %zu: listed %d entries and %d dots", bufsize, n,
              dots);
    CHECK_OK(__wasi_fd_close(dir));
    printf("fd_readdir ok with a %zu-byte buffer (%d calls)\n", bufsize, calls);
}

static void test_readdir_edges(void) {
    __wasi_fd_t dir;
    CHECK_OK(__wasi_path_create_directory(root_fd(), "empty"));
    CHECK_OK(open_at(root_fd(), 0, "empty", __WASI_OFLAGS_DIRECTORY, 0, &dir));
    uint8_t buf[512];
    size_t used;
    CHECK_OK(__wasi_fd_readdir(dir, buf, sizeof buf, 0, &used));
    CHECK_MSG(used == 2 * sizeof(__wasi_dirent_t) + 3, "empty dir: %zu bytes", used);
    /* a buffer smaller than one header is filled as far as it goes */
    CHECK_OK(__wasi_fd_readdir(dir, buf, 10, 0, &used));
    CHECK(used == 10);
    /* past the end: nothing */
    __wasi_dirent_t first;
    CHECK_OK(__wasi_fd_readdir(dir, buf, sizeof buf, 0, &used));
    memcpy(&first, buf, sizeof first);
    __wasi_dirent_t second;
    memcpy(&second, buf + sizeof first + first.d_namlen, sizeof second);
    CHECK_OK(__wasi_fd_readdir(dir, buf, sizeof buf, second.d_next, &used));
    CHECK(used == 0);
    CHECK_OK(__wasi_fd_close(dir));
    /* fd_readdir on a file */
    write_file_at(root_fd(), "plain", "x");
    __wasi_fd_t file;
    CHECK_OK(open_at(root_fd(), 0, "plain", 0, 0, &file));
    CHECK_ERR(__wasi_fd_readdir(file, buf, sizeof buf, 0, &used), __WASI_ERRNO_NOTDIR,
              __WASI_ERRNO_BADF, __WASI_ERRNO_NOTCAPABLE);
    CHECK_OK(__wasi_fd_close(file));
    printf("readdir edges ok\n");
}

static void remove_many(void) {
    __wasi_fd_t dir = root_fd();
    for (int i = 0; i < MANY; i++) {
        const char *path = many_path(i);
        if (i % 10 == 0)
            CHECK_OK(__wasi_path_remove_directory(dir, path));
        else
            CHECK_OK(__wasi_path_unlink_file(dir, path));
    }
    CHECK_OK(__wasi_path_remove_directory(dir, "many"));
    CHECK_OK(__wasi_path_remove_directory(dir, "empty"));
    CHECK_OK(__wasi_path_unlink_file(dir, "plain"));
}

int main(void) {
    test_mkdir_rmdir();
    fill_many();
    test_libc_readdir();
    raw_listing(65536);
    raw_listing(4096);
    raw_listing(100);
    raw_listing(sizeof(__wasi_dirent_t) + 60); /* about one entry per call */
    test_readdir_edges();
    remove_many();
    printf("dirs: all passed\n");
    return 0;
}
