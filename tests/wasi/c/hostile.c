/* hostile.c - every way out of the preopen fails with the errno wasmtime gives (PERM or
 * NOTCAPABLE for an escape, LOOP for loops, NAMETOOLONG, INVAL/ILSEQ/NOENT for NUL bytes) and
 * touches nothing outside: "..", absolute paths, symlinks to "/", "..", "/proc/self" and
 * beyond, as a middle or final component, for open, stat, create, mkdir, rename, link,
 * unlink, rmdir, utimes and symlink. The driver builds the tree (see run_c_tests.py):
 *
 *   TMP/parent_sentinel.txt            TMP/box/next_sentinel.txt   TMP/box/empty_outside_dir/
 *   TMP/box/root/  = the preopen "/":  file.txt  sub/inner.txt  and the symlinks below,
 *
 * passes ESCAPE_TOKEN, and afterwards checks that nothing outside root changed and that no
 * file named with the token exists anywhere it looks. */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW
#define ESCAPE(call) CHECK_ERR(call, ESCAPE_ERRNOS)
/* A libc call through wasi-libc's path translation: an escape, or a name that is missing
 * under the preopen (libc maps "/etc/passwd" to "etc/passwd" below "/"). */
#define LIBC_ESCAPE(failed_cond) CHECK_LIBC_ERR(failed_cond, EPERM, ENOTCAPABLE, ENOENT)

static __wasi_fd_t dir;
static char token[64];
static int name_count;

/* A fresh name carrying the token, with prefix (e.g. "../" or "link_up1/") in front. */
static const char *escape_name(const char *prefix) {
    static char bufs[8][256];
    char *buf = bufs[name_count % 8];
    snprintf(buf, 256, "%skiln-escape-%s-%d", prefix, token, name_count++);
    return buf;
}

static int open_path(__wasi_lookupflags_t lookup, const char *path, __wasi_oflags_t oflags) {
    __wasi_fd_t fd;
    int e = open_at(dir, lookup, path, oflags, 0, &fd);
    if (e == 0) (void)__wasi_fd_close(fd);
    return e;
}

static int stat_path(__wasi_lookupflags_t lookup, const char *path) {
    __wasi_filestat_t st;
    return __wasi_path_filestat_get(dir, lookup, path, &st);
}

static void test_dotdot(void) {
    static const char *const paths[] = {
        "..", "../", "../next_sentinel.txt", "./../next_sentinel.txt", "../../parent_sentinel.txt",
        "sub/../..", "sub/../../next_sentinel.txt", "sub//..//..//next_sentinel.txt",
        "sub/./../../root/file.txt", "../root/file.txt", "sub/../../root/sub/../file.txt",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        for (int follow = 0; follow <= 1; follow++) {
            int e = open_path(follow ? FOLLOW : 0, paths[i], 0);
            CHECK_MSG(e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE,
                      "open \"%s\": errno %d (%s), expected PERM or NOTCAPABLE", paths[i], e,
                      errno_name(e));
            e = stat_path(follow ? FOLLOW : 0, paths[i]);
            CHECK_MSG(e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE,
                      "stat \"%s\": errno %d (%s), expected PERM or NOTCAPABLE", paths[i], e,
                      errno_name(e));
        }
    }
    /* ".." that stays inside is fine */
    CHECK_OK(open_path(0, "sub/../file.txt", 0));
    CHECK_OK(open_path(0, "sub/./../sub/inner.txt", 0));
    /* a missing directory before the ".." may fail first */
    CHECK_ERR(open_path(0, "missing/../../next_sentinel.txt", 0), __WASI_ERRNO_NOENT,
              ESCAPE_ERRNOS);
    /* creating anything above the preopen */
    ESCAPE(open_path(0, escape_name("../"), __WASI_OFLAGS_CREAT));
    ESCAPE(open_path(0, escape_name("sub/../../"), __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL));
    ESCAPE(open_path(0, "../next_sentinel.txt", __WASI_OFLAGS_TRUNC));
    ESCAPE(__wasi_path_create_directory(dir, escape_name("../")));
    ESCAPE(__wasi_path_create_directory(dir, escape_name("../../")));
    ESCAPE(__wasi_path_symlink("file.txt", dir, escape_name("../")));
    ESCAPE(__wasi_path_rename(dir, "file.txt", dir, escape_name("../")));
    ESCAPE(__wasi_path_rename(dir, "../next_sentinel.txt", dir, "stolen"));
    ESCAPE(__wasi_path_link(dir, 0, "file.txt", dir, escape_name("../")));
    ESCAPE(__wasi_path_link(dir, 0, "../next_sentinel.txt", dir, "stolen"));
    ESCAPE(__wasi_path_unlink_file(dir, "../next_sentinel.txt"));
    ESCAPE(__wasi_path_unlink_file(dir, "../../parent_sentinel.txt"));
    ESCAPE(__wasi_path_remove_directory(dir, "../empty_outside_dir"));
    ESCAPE(__wasi_path_filestat_set_times(dir, 0, "../next_sentinel.txt", 0, 0,
                                          __WASI_FSTFLAGS_MTIM_NOW | __WASI_FSTFLAGS_ATIM_NOW));
    uint8_t buf[64];
    size_t used;
    ESCAPE(__wasi_path_readlink(dir, "../next_sentinel.txt", buf, sizeof buf, &used));
    CHECK(!exists_at(dir, "stolen"));
    /* the same through libc */
    LIBC_ESCAPE(open("../next_sentinel.txt", O_RDONLY) < 0);
    LIBC_ESCAPE(open(escape_name("../"), O_CREAT | O_WRONLY, 0644) < 0);
    LIBC_ESCAPE(mkdir(escape_name("../"), 0755) < 0);
    LIBC_ESCAPE(unlink("../next_sentinel.txt") < 0);
    LIBC_ESCAPE(rename("file.txt", escape_name("../")) < 0);
    struct stat st;
    LIBC_ESCAPE(stat("../next_sentinel.txt", &st) < 0);
    LIBC_ESCAPE(opendir("..") == NULL);
    printf("dotdot ok\n");
}

static void test_absolute(void) {
    static const char *const paths[] = {"/", "/etc/passwd", "/file.txt", "/proc/self/root",
                                        "/proc/self/root/etc/passwd", "//file.txt"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int e = open_path(FOLLOW, paths[i], 0);
        CHECK_MSG(e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE,
                  "open \"%s\": errno %d (%s), expected PERM or NOTCAPABLE", paths[i], e,
                  errno_name(e));
        e = stat_path(FOLLOW, paths[i]);
        CHECK_MSG(e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE,
                  "stat \"%s\": errno %d (%s)", paths[i], e, errno_name(e));
    }
    char abs[256];
    snprintf(abs, sizeof abs, "/tmp/%s", escape_name(""));
    ESCAPE(open_path(0, abs, __WASI_OFLAGS_CREAT));
    ESCAPE(__wasi_path_create_directory(dir, abs));
    ESCAPE(__wasi_path_rename(dir, "file.txt", dir, abs));
    ESCAPE(__wasi_path_link(dir, 0, "file.txt", dir, abs));
    ESCAPE(__wasi_path_symlink("file.txt", dir, abs));
    ESCAPE(__wasi_path_link(dir, 0, "/etc/passwd", dir, "passwd_link"));
    ESCAPE(__wasi_path_unlink_file(dir, "/file.txt"));
    CHECK(exists_at(dir, "file.txt") && !exists_at(dir, "passwd_link"));
    /* libc resolves "/x" against the preopen named "/": it is "x" inside, so these are missing
     * names, not the host's files */
    CHECK_LIBC_ERR(open("/etc/passwd", O_RDONLY) < 0, ENOENT);
    CHECK_LIBC_ERR(fopen("/proc/self/status", "r") == NULL, ENOENT);
    char buf[64];
    CHECK(read_file_at(dir, "file.txt", buf, sizeof buf) && strcmp(buf, "inside") == 0);
    FILE *f;
    CHECK_LIBC((f = fopen("/file.txt", "r")) != NULL);
    CHECK(fgets(buf, sizeof buf, f) && strcmp(buf, "inside") == 0);
    fclose(f);
    /* a symlink with an absolute target cannot be created (wasmtime refuses it) */
    int e = __wasi_path_symlink("/etc/passwd", dir, "new_abs_link");
    if (e == 0) {
        ESCAPE(open_path(FOLLOW, "new_abs_link", 0));
        CHECK_OK(__wasi_path_unlink_file(dir, "new_abs_link"));
        CHECK_MSG(0, "path_symlink with the absolute target /etc/passwd succeeded");
    }
    printf("absolute ok\n");
}

/* Symlinks made by the driver that lead outside, each with a sentinel file behind it (or
 * NULL: nothing destructive is tried through links to the host's real files). */
static struct {
    const char *link, *target, *beyond;
    int is_dir;
} escapes[] = {
    {"link_root", "/", NULL /* the sentinel's host path, set in main */, 1},
    {"link_up1", "..", "next_sentinel.txt", 1},
    {"link_up2", "../..", "parent_sentinel.txt", 1},
    {"link_passwd", "/etc/passwd", NULL, 0},
    {"link_proc", "/proc/self", NULL /* "root" + the sentinel's host path */, 1},
    {"link_abs_inside", "/file.txt", NULL, 0},
    {"link_sentinel", "../next_sentinel.txt", NULL, 0},
    {"sub/up_bad", "../..", "next_sentinel.txt", 1},
    {"sub/chain", "../link_up1", "next_sentinel.txt", 1},
};

static void test_symlink_escapes(void) {
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        const char *link = escapes[i].link;
        char path[256];
        /* readlink is allowed and gives the bytes */
        uint8_t buf[256];
        size_t used;
        CHECK_OK(__wasi_path_readlink(dir, link, buf, sizeof buf, &used));
        CHECK_MSG(used == strlen(escapes[i].target) && memcmp(buf, escapes[i].target, used) == 0,
                  "readlink %s", link);
        /* lstat sees the link; stat through it is refused */
        __wasi_filestat_t st;
        CHECK_OK(__wasi_path_filestat_get(dir, 0, link, &st));
        CHECK_MSG(st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK, "%s: filetype %d", link,
                  st.filetype);
        int e = stat_path(FOLLOW, link);
        CHECK_MSG(e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE,
                  "stat following %s: errno %d (%s)", link, e, errno_name(e));
        /* open following it is refused; without following, the link is not opened either */
        e = open_path(FOLLOW, link, escapes[i].is_dir ? __WASI_OFLAGS_DIRECTORY : 0);
        CHECK_MSG(e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE,
                  "open following %s: errno %d (%s)", link, e, errno_name(e));
        CHECK_ERR(open_path(0, link, 0), __WASI_ERRNO_LOOP);
        CHECK_ERR(open_path(0, link, __WASI_OFLAGS_DIRECTORY), __WASI_ERRNO_LOOP,
                  __WASI_ERRNO_NOTDIR);
        /* as a middle component it is always followed, and refused */
        if (escapes[i].beyond) {
            snprintf(path, sizeof path, "%s/%s", link, escapes[i].beyond);
            for (int follow = 0; follow <= 1; follow++) {
                e = open_path(follow ? FOLLOW : 0, path, 0);
                CHECK_MSG(e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE,
                          "open %s: errno %d (%s)", path, e, errno_name(e));
                e = stat_path(follow ? FOLLOW : 0, path);
                CHECK_MSG(e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE,
                          "stat %s: errno %d (%s)", path, e, errno_name(e));
            }
            ESCAPE(open_path(0, path, __WASI_OFLAGS_TRUNC));
            ESCAPE(__wasi_path_unlink_file(dir, path));
            ESCAPE(__wasi_path_rename(dir, path, dir, "stolen"));
            ESCAPE(__wasi_path_link(dir, 0, path, dir, "stolen"));
            ESCAPE(__wasi_path_filestat_set_times(dir, 0, path, 0, 0,
                                                  __WASI_FSTFLAGS_MTIM_NOW));
            ESCAPE(__wasi_path_readlink(dir, path, buf, sizeof buf, &used));
        }
        if (escapes[i].is_dir) {
            snprintf(path, sizeof path, "%s/", link);
            ESCAPE(open_path(0, escape_name(path), __WASI_OFLAGS_CREAT));
            ESCAPE(__wasi_path_create_directory(dir, escape_name(path)));
            ESCAPE(__wasi_path_symlink("x", dir, escape_name(path)));
            ESCAPE(__wasi_path_rename(dir, "file.txt", dir, escape_name(path)));
            ESCAPE(__wasi_path_link(dir, 0, "file.txt", dir, escape_name(path)));
        } else if (strcmp(link, "link_sentinel") == 0) {
            /* following a file link to write or set times is refused */
            ESCAPE(open_path(FOLLOW, link, __WASI_OFLAGS_TRUNC));
            ESCAPE(__wasi_path_filestat_set_times(dir, FOLLOW, link, 0, 0,
                                                  __WASI_FSTFLAGS_MTIM_NOW));
        }
        /* a hard link may not follow it (wasmtime: INVAL), nor succeed by following */
        CHECK_ERR(__wasi_path_link(dir, FOLLOW, link, dir, "stolen"), __WASI_ERRNO_INVAL,
                  __WASI_ERRNO_NOENT, ESCAPE_ERRNOS);
        CHECK(!exists_at(dir, "stolen"));
    }
    ESCAPE(__wasi_path_remove_directory(dir, "link_up1/empty_outside_dir"));
    ESCAPE(__wasi_path_remove_directory(dir, "sub/up_bad/empty_outside_dir"));
    ESCAPE(__wasi_path_unlink_file(dir, "link_up2/parent_sentinel.txt"));

    /* symlinks that stay inside work */
    char text[64];
    CHECK(read_file_at(dir, "sub/up_ok/file.txt", text, sizeof text) && strcmp(text, "inside") == 0);
    CHECK(read_file_at(dir, "inner_ok", text, sizeof text) && strcmp(text, "inner") == 0);
    CHECK_OK(open_path(FOLLOW, "sub/up_ok", __WASI_OFLAGS_DIRECTORY));

    /* dangling links to outside: creating through them is refused, O_EXCL sees the link */
    static const char *const dangling[] = {"link_out_new", "link_abs_new"};
    for (int i = 0; i < 2; i++) {
        ESCAPE(open_path(FOLLOW, dangling[i], __WASI_OFLAGS_CREAT));
        CHECK_ERR(open_path(0, dangling[i], __WASI_OFLAGS_CREAT), __WASI_ERRNO_LOOP,
                  __WASI_ERRNO_EXIST, ESCAPE_ERRNOS);
        CHECK_ERR(open_path(FOLLOW, dangling[i], __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL),
                  __WASI_ERRNO_EXIST, ESCAPE_ERRNOS);
        ESCAPE(__wasi_path_create_directory(dir, escape_name("link_up1/")));
    }
    /* a hard link to an escaping symlink is a symlink that escapes the same way */
    CHECK_OK(__wasi_path_link(dir, 0, "link_passwd", dir, "hardlink_to_symlink"));
    ESCAPE(open_path(FOLLOW, "hardlink_to_symlink", 0));
    CHECK_OK(__wasi_path_unlink_file(dir, "hardlink_to_symlink"));
    /* renaming a symlink moves the link; the target stays where it is */
    CHECK_OK(__wasi_path_rename(dir, "link_sentinel", dir, "sub/link_sentinel_moved"));
    /* from sub, "../next_sentinel.txt" is root/next_sentinel.txt: inside, and missing */
    CHECK_ERR(open_path(FOLLOW, "sub/link_sentinel_moved", 0), __WASI_ERRNO_NOENT);
    CHECK_OK(__wasi_path_rename(dir, "sub/link_sentinel_moved", dir, "link_sentinel"));
    /* renaming a file over a symlink replaces the link, not its target */
    write_file_at(dir, "victim.txt", "victim");
    CHECK_OK(__wasi_path_rename(dir, "victim.txt", dir, "link_out_new"));
    CHECK(read_file_at(dir, "link_out_new", text, sizeof text) && strcmp(text, "victim") == 0);
    /* unlinking a symlink removes the link only */
    CHECK_OK(__wasi_path_unlink_file(dir, "link_abs_new"));
    CHECK_OK(__wasi_path_unlink_file(dir, "link_out_new"));
    CHECK(!exists_at(dir, "link_out_new"));
    /* and through libc */
    struct stat st;
    LIBC_ESCAPE(stat("link_root/etc/passwd", &st) < 0);
    LIBC_ESCAPE(stat("link_passwd", &st) < 0);
    CHECK_LIBC(lstat("link_passwd", &st) == 0 && S_ISLNK(st.st_mode));
    LIBC_ESCAPE(open("link_up1/next_sentinel.txt", O_RDWR) < 0);
    LIBC_ESCAPE(opendir("link_up2") == NULL);
    LIBC_ESCAPE(mkdir(escape_name("link_up2/"), 0755) < 0);
    LIBC_ESCAPE(unlink("link_up1/next_sentinel.txt") < 0);
    LIBC_ESCAPE(rmdir("link_up1/empty_outside_dir") < 0);
    printf("symlink escapes ok\n");
}

static void test_loops(void) {
    static const char *const loops[] = {"self", "loop_a", "loop_b", "loop_a/x", "sub/../self/x"};
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        int e = open_path(FOLLOW, loops[i], 0);
        CHECK_MSG(e == __WASI_ERRNO_LOOP, "open %s: errno %d (%s), expected LOOP", loops[i], e,
                  errno_name(e));
        e = stat_path(FOLLOW, loops[i]);
        CHECK_MSG(e == __WASI_ERRNO_LOOP, "stat %s: errno %d (%s), expected LOOP", loops[i], e,
                  errno_name(e));
        CHECK_ERR(open_path(FOLLOW, loops[i], __WASI_OFLAGS_CREAT), __WASI_ERRNO_LOOP);
    }
    CHECK_ERR(open_path(0, "self", 0), __WASI_ERRNO_LOOP);
    CHECK_OK(stat_path(0, "self"));
    CHECK_ERR(__wasi_path_create_directory(dir, "loop_a/x"), __WASI_ERRNO_LOOP);
    CHECK_ERR(__wasi_path_unlink_file(dir, "loop_a/x"), __WASI_ERRNO_LOOP);
    /* a chain of 50 links is too long to follow; one of 10 is fine */
    char from[32], to[32];
    for (int i = 0; i < 50; i++) {
        snprintf(from, sizeof from, "chain%02d", i);
        if (i == 49)
            snprintf(to, sizeof to, "file.txt");
        else
            snprintf(to, sizeof to, "chain%02d", i + 1);
        CHECK_OK(__wasi_path_symlink(to, dir, from));
    }
    CHECK_OK(open_path(FOLLOW, "chain40", 0));
    CHECK_ERR(open_path(FOLLOW, "chain00", 0), __WASI_ERRNO_LOOP);
    CHECK_ERR(stat_path(FOLLOW, "chain00"), __WASI_ERRNO_LOOP);
    for (int i = 0; i < 50; i++) {
        snprintf(from, sizeof from, "chain%02d", i);
        CHECK_OK(__wasi_path_unlink_file(dir, from));
    }
    printf("loops ok\n");
}

/* Corners where a path walk may take a shortcut: ".." after a symlink is taken from the link's
 * target, trailing slashes force following, operations on a link name touch the link. */
static void test_corners(void) {
    /* sub/up_ok is root, so ".." from it is above the preopen (not "sub", read lexically) */
    ESCAPE(open_path(0, "sub/up_ok/../next_sentinel.txt", 0));
    ESCAPE(stat_path(FOLLOW, "sub/up_ok/.."));
    CHECK_OK(open_path(0, "sub/up_ok/sub/../file.txt", 0));
    /* a link to a file used as a directory */
    CHECK_ERR(open_path(0, "inner_ok/x", 0), __WASI_ERRNO_NOTDIR);
    CHECK_ERR(open_path(FOLLOW, "inner_ok/", 0), __WASI_ERRNO_NOTDIR);
    /* a backslash is part of a name, not a separator */
    CHECK_ERR(open_path(0, "..\\next_sentinel.txt", 0), __WASI_ERRNO_NOENT);
    CHECK_ERR(open_path(0, "sub\\..\\..\\next_sentinel.txt", 0), __WASI_ERRNO_NOENT);
    /* a trailing slash follows the link even without SYMLINK_FOLLOW */
    CHECK_ERR(stat_path(0, "link_up1/"), ESCAPE_ERRNOS, __WASI_ERRNO_LOOP, __WASI_ERRNO_NOTDIR);
    CHECK_ERR(open_path(0, "link_up1/", __WASI_OFLAGS_DIRECTORY), ESCAPE_ERRNOS,
              __WASI_ERRNO_LOOP, __WASI_ERRNO_NOTDIR);
    /* removing or moving "link/" must not act on the directory outside */
    CHECK_ERR(__wasi_path_unlink_file(dir, "link_up1/"), ESCAPE_ERRNOS, __WASI_ERRNO_ISDIR,
              __WASI_ERRNO_NOTDIR);
    CHECK_ERR(__wasi_path_remove_directory(dir, "link_up1/"), ESCAPE_ERRNOS,
              __WASI_ERRNO_NOTDIR);
    CHECK_ERR(__wasi_path_remove_directory(dir, "link_up1"), __WASI_ERRNO_NOTDIR);
    CHECK_ERR(__wasi_path_rename(dir, "link_up1/", dir, "moved_box"), ESCAPE_ERRNOS,
              __WASI_ERRNO_NOTDIR);
    CHECK(!exists_at(dir, "moved_box") && exists_at(dir, "link_up1"));
    /* times set on the link itself leave its target alone (the driver checks the sentinel) */
    CHECK_OK(__wasi_path_filestat_set_times(dir, 0, "link_sentinel", 0, 0,
                                            __WASI_FSTFLAGS_MTIM_NOW));
    /* a relative link made by the guest that climbs out cannot be followed */
    int e = __wasi_path_symlink("../next_sentinel.txt", dir, "made_up");
    CHECK_MSG(e == 0 || e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE,
              "path_symlink ../next_sentinel.txt: errno %d", e);
    if (e == 0) {
        ESCAPE(open_path(FOLLOW, "made_up", 0));
        ESCAPE(open_path(FOLLOW, "made_up", __WASI_OFLAGS_CREAT));
        CHECK_OK(__wasi_path_unlink_file(dir, "made_up"));
    }
    CHECK_OK(__wasi_path_symlink("sub/../..", dir, "made_up_dir"));
    ESCAPE(open_path(0, "made_up_dir/next_sentinel.txt", 0));
    ESCAPE(__wasi_path_create_directory(dir, escape_name("made_up_dir/")));
    CHECK_OK(__wasi_path_unlink_file(dir, "made_up_dir"));
    /* libc normalizes nothing away: "/../x" is still outside */
    LIBC_ESCAPE(open("/../next_sentinel.txt", O_RDONLY) < 0);
    LIBC_ESCAPE(open("/sub/../../next_sentinel.txt", O_RDONLY) < 0);
    printf("corners ok\n");
}

/* A directory descriptor is a boundary of its own, and it follows its directory when renamed. */
static void test_subdir_fd(void) {
    __wasi_fd_t sub;
    CHECK_OK(__wasi_path_create_directory(dir, "a"));
    CHECK_OK(__wasi_path_create_directory(dir, "a/b"));
    CHECK_OK(__wasi_path_create_directory(dir, "c"));
    CHECK_OK(open_at(dir, 0, "a/b", __WASI_OFLAGS_DIRECTORY, 0, &sub));
    write_file_at(dir, "a/marker.txt", "in a");
    /* ".." out of a descriptor is refused, even where the preopen continues */
    __wasi_fd_t fd;
    ESCAPE(open_at(sub, 0, "..", 0, 0, &fd));
    ESCAPE(open_at(sub, 0, "../marker.txt", 0, 0, &fd));
    ESCAPE(open_at(sub, 0, "../../../next_sentinel.txt", 0, 0, &fd));
    ESCAPE(__wasi_path_create_directory(sub, escape_name("../../../")));
    /* move a under c, put a new a/b in its old place; sub still names the moved directory */
    CHECK_OK(__wasi_path_rename(dir, "a", dir, "c/a2"));
    CHECK_OK(__wasi_path_create_directory(dir, "a"));
    CHECK_OK(__wasi_path_create_directory(dir, "a/b"));
    write_file_at(sub, "written.txt", "through sub");
    char buf[64];
    CHECK(read_file_at(dir, "c/a2/b/written.txt", buf, sizeof buf) &&
          strcmp(buf, "through sub") == 0);
    CHECK(!exists_at(dir, "a/b/written.txt"));
    ESCAPE(open_at(sub, 0, "../marker.txt", 0, 0, &fd));
    ESCAPE(open_at(sub, 0, "../../../../next_sentinel.txt", 0, 0, &fd));
    /* the preopen root's ".." still refused after all that */
    ESCAPE(open_path(0, "../next_sentinel.txt", 0));
    CHECK_OK(__wasi_path_unlink_file(sub, "written.txt"));
    CHECK_OK(__wasi_fd_close(sub));
    CHECK_OK(__wasi_path_remove_directory(dir, "a/b"));
    CHECK_OK(__wasi_path_remove_directory(dir, "a"));
    CHECK_OK(__wasi_path_unlink_file(dir, "c/a2/marker.txt"));
    CHECK_OK(__wasi_path_remove_directory(dir, "c/a2/b"));
    CHECK_OK(__wasi_path_remove_directory(dir, "c/a2"));
    CHECK_OK(__wasi_path_remove_directory(dir, "c"));
    /* a file descriptor is no directory to resolve from */
    CHECK_OK(open_at(dir, 0, "file.txt", 0, 0, &fd));
    __wasi_fd_t fd2;
    CHECK_ERR(open_at(fd, 0, "../next_sentinel.txt", 0, 0, &fd2), __WASI_ERRNO_NOTDIR,
              ESCAPE_ERRNOS);
    CHECK_ERR(open_at(fd, 0, ".", 0, 0, &fd2), __WASI_ERRNO_NOTDIR, __WASI_ERRNO_NOTCAPABLE);
    CHECK_OK(__wasi_fd_close(fd));
    printf("subdirectory descriptor ok\n");
}

/* Raw imports that take a path with its length, so a NUL byte can sit inside it. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open"))) int32_t
raw_path_open(int32_t fd, int32_t dirflags, const char *path, size_t path_len, int32_t oflags,
              int64_t base, int64_t inheriting, int32_t fdflags, __wasi_fd_t *out);
__attribute__((import_module("wasi_snapshot_preview1"),
               import_name("path_create_directory"))) int32_t
raw_path_create_directory(int32_t fd, const char *path, size_t path_len);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_unlink_file"))) int32_t
raw_path_unlink_file(int32_t fd, const char *path, size_t path_len);

static void test_nul_and_long(void) {
    __wasi_fd_t fd;
#define NUL_PATH(s) (s), sizeof(s) - 1
    CHECK_ERR(raw_path_open(dir, 0, NUL_PATH("file.txt\0"), 0, RIGHTS_ALL, RIGHTS_ALL, 0, &fd),
              __WASI_ERRNO_INVAL, __WASI_ERRNO_ILSEQ, __WASI_ERRNO_NOENT);
    CHECK_ERR(raw_path_open(dir, 0, NUL_PATH("file.txt\0../../next_sentinel.txt"), 0, RIGHTS_ALL,
                            RIGHTS_ALL, 0, &fd),
              __WASI_ERRNO_INVAL, __WASI_ERRNO_ILSEQ, __WASI_ERRNO_NOENT, ESCAPE_ERRNOS);
    CHECK_ERR(raw_path_open(dir, 0, NUL_PATH("sub\0/../../next_sentinel.txt"), 0, RIGHTS_ALL,
                            RIGHTS_ALL, 0, &fd),
              __WASI_ERRNO_INVAL, __WASI_ERRNO_ILSEQ, __WASI_ERRNO_NOENT, ESCAPE_ERRNOS);
    CHECK_ERR(raw_path_open(dir, 0, NUL_PATH("created\0junk"), __WASI_OFLAGS_CREAT, RIGHTS_ALL,
                            RIGHTS_ALL, 0, &fd),
              __WASI_ERRNO_INVAL, __WASI_ERRNO_ILSEQ, __WASI_ERRNO_NOENT);
    CHECK_MSG(!exists_at(dir, "created"), "a NUL byte cut the name: \"created\" exists");
    CHECK_ERR(raw_path_create_directory(dir, NUL_PATH("newdir\0junk")), __WASI_ERRNO_INVAL,
              __WASI_ERRNO_ILSEQ, __WASI_ERRNO_NOENT);
    CHECK_MSG(!exists_at(dir, "newdir"), "a NUL byte cut the name: \"newdir\" exists");
    CHECK_ERR(raw_path_unlink_file(dir, NUL_PATH("file.txt\0")), __WASI_ERRNO_INVAL,
              __WASI_ERRNO_ILSEQ, __WASI_ERRNO_NOENT);
    CHECK(exists_at(dir, "file.txt"));
    /* the length counts, not a terminating NUL: "file.txtXYZ" with length 8 is "file.txt" */
    CHECK_OK(raw_path_open(dir, 0, "file.txtXYZ", 8, 0, RIGHTS_ALL, RIGHTS_ALL, 0, &fd));
    CHECK_OK(__wasi_fd_close(fd));
    /* an empty path names nothing */
    CHECK_ERR(raw_path_open(dir, 0, "", 0, 0, RIGHTS_ALL, RIGHTS_ALL, 0, &fd), __WASI_ERRNO_NOENT);
    printf("NUL bytes ok\n");

    static char path[6200];
    /* one component longer than NAME_MAX */
    memset(path, 'x', 300);
    path[300] = 0;
    CHECK_ERR(open_path(0, path, __WASI_OFLAGS_CREAT), __WASI_ERRNO_NAMETOOLONG);
    CHECK_ERR(__wasi_path_create_directory(dir, path), __WASI_ERRNO_NAMETOOLONG);
    /* a path longer than PATH_MAX, of short missing components */
    path[0] = 0;
    while (strlen(path) < 5000) strcat(path, "d/");
    strcat(path, "x");
    CHECK_ERR(open_path(0, path, __WASI_OFLAGS_CREAT), __WASI_ERRNO_NAMETOOLONG,
              __WASI_ERRNO_NOENT);
    /* thousands of ".." */
    strcpy(path, "sub/");
    while (strlen(path) < 6000) strcat(path, "../");
    strcat(path, "next_sentinel.txt");
    CHECK_ERR(open_path(0, path, 0), __WASI_ERRNO_NAMETOOLONG, ESCAPE_ERRNOS);
    /* a deep tree inside is fine */
    strcpy(path, "deep");
    CHECK_OK(__wasi_path_create_directory(dir, path));
    for (int i = 0; i < 40; i++) {
        strcat(path, "/dir-with-a-longish-name");
        CHECK_OK(__wasi_path_create_directory(dir, path));
    }
    strcat(path, "/leaf.txt");
    write_file_at(dir, path, "deep");
    char buf[16];
    CHECK(read_file_at(dir, path, buf, sizeof buf) && strcmp(buf, "deep") == 0);
    CHECK_OK(__wasi_path_unlink_file(dir, path));
    for (int i = 40; i >= 0; i--) {
        *strrchr(path, '/') = 0;
        CHECK_OK(__wasi_path_remove_directory(dir, path));
    }
    CHECK(!exists_at(dir, "deep"));
    printf("long paths ok\n");
}

int main(void) {
    const char *t = getenv("ESCAPE_TOKEN");
    CHECK_MSG(t && strlen(t) < 40, "the driver sets ESCAPE_TOKEN");
    strcpy(token, t);
    /* PARENT_SENTINEL: the host path of TMP/parent_sentinel.txt, reached through links to / */
    const char *sentinel = getenv("PARENT_SENTINEL");
    CHECK_MSG(sentinel && sentinel[0] == '/', "the driver sets PARENT_SENTINEL");
    static char via_root[512], via_proc[512];
    snprintf(via_root, sizeof via_root, "%s", sentinel + 1);
    snprintf(via_proc, sizeof via_proc, "root%s", sentinel);
    escapes[0].beyond = via_root;
    escapes[4].beyond = via_proc;
    dir = root_fd();
    char buf[64];
    CHECK_MSG(read_file_at(dir, "file.txt", buf, sizeof buf) && strcmp(buf, "inside") == 0,
              "the driver's tree is there");
    test_dotdot();
    test_absolute();
    test_symlink_escapes();
    test_loops();
    test_corners();
    test_subdir_fd();
    test_nul_and_long();
    printf("hostile: all passed\n");
    return 0;
}
