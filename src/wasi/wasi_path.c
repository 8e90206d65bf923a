/* wasi_path.c - the sandbox's path resolution. A guest path is resolved beneath a directory
 * the guest holds (a preopen or a directory opened from one) and never leaves it: absolute
 * paths and symlinks, and ".." above the start, are refused with PATH_ESCAPES.
 *
 * Where the kernel has openat2 (Linux 5.6+), RESOLVE_BENEATH makes the kernel itself refuse
 * every escape, race-free. Elsewhere a component-wise walk does the same: each step opens
 * one name with O_NOFOLLOW relative to a directory fd already held, symlinks are read and
 * spliced into the rest of the path by us, and ".." pops our own stack of held directories,
 * so the kernel never resolves more than one name and a concurrent rename or symlink swap
 * cannot carry the walk outside. */
#define _GNU_SOURCE
#include "wasi_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__linux__) && defined(SYS_openat2)
#include <linux/openat2.h>
#define HAVE_OPENAT2 1
#endif

enum { MAX_SYMLINKS = 40 };

/* ---------------------------------------------------------------- openat2 */

static atomic_int openat2_state; /* 0 unknown, 1 usable, 2 not */

bool path_uses_openat2(void) {
  int state = atomic_load(&openat2_state);
  if (state == 0) {
    state = 2;
#ifdef HAVE_OPENAT2
    const char *off = getenv("KILN_WASI_NO_OPENAT2");
    if (!off || !*off || strcmp(off, "0") == 0) {
      struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH};
      int fd = (int)syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
      if (fd >= 0) {
        close(fd);
        state = 1;
      }
    }
#endif
    atomic_store(&openat2_state, state);
  }
  return state == 1;
}

#ifdef HAVE_OPENAT2
static int open_with_openat2(int root, const char *path, int flags, mode_t mode, bool follow,
                             int *out) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)),
      .mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
  };
  for (int attempt = 0; attempt < 16; attempt++) {
    int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
    if (fd >= 0) {
      *out = fd;
      return 0;
    }
    if (errno == EXDEV) return PATH_ESCAPES;
    if (errno != EAGAIN && errno != EINTR) return errno;
    /* EAGAIN: a concurrent rename made the kernel unsure; try again. */
  }
  return EAGAIN;
}
#endif

/* ---------------------------------------------------------------- the walk */

typedef struct walk {
  int root;
  int *dirs; /* held directories below root; the top is where we are */
  size_t depth, cap;
} walk;

static int walk_top(const walk *w) { return w->depth ? w->dirs[w->depth - 1] : w->root; }

static int walk_push(walk *w, int fd) {
  if (w->depth == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 16;
    int *dirs = realloc(w->dirs, cap * sizeof *dirs);
    if (!dirs) return ENOMEM;
    w->dirs = dirs;
    w->cap = cap;
  }
  w->dirs[w->depth++] = fd;
  return 0;
}

static void walk_free(walk *w) {
  while (w->depth) close(w->dirs[--w->depth]);
  free(w->dirs);
}

/* Replace the component at rest (of length len) by the target of the symlink it names.
 * *buf owns the path being walked; *rest points into it and is updated. */
static int walk_splice_link(walk *w, char **buf, char **rest, size_t len, int *links) {
  if (++*links > MAX_SYMLINKS) return ELOOP;
  char name[len + 1];
  memcpy(name, *rest, len);
  name[len] = 0;
  char target[PATH_MAX];
  ssize_t n = readlinkat(walk_top(w), name, target, sizeof target - 1);
  if (n < 0) return errno;
  if (n == 0) return ENOENT;
  if (target[0] == '/') return PATH_ESCAPES;
  const char *after = *rest + len; /* "" or "/..." */
  size_t after_len = strlen(after);
  char *joined = malloc((size_t)n + after_len + 1);
  if (!joined) return ENOMEM;
  memcpy(joined, target, (size_t)n);
  memcpy(joined + n, after, after_len + 1);
  free(*buf);
  *buf = joined;
  *rest = joined;
  return 0;
}

static int open_with_walk(int root, const char *path, int flags, mode_t mode, bool follow,
                          int *out) {
  walk w = {.root = root};
  char *buf = strdup(path);
  if (!buf) return ENOMEM;
  char *rest = buf;
  int links = 0, err = 0;
  for (;;) {
    while (*rest == '/') rest++;
    size_t len = strcspn(rest, "/");
    bool last = rest[len] == 0;
    if (len == 0 || (len == 1 && rest[0] == '.') || (len == 2 && rest[0] == '.' && rest[1] == '.')) {
      if (len == 2) { /* ".." pops one held directory, never above root */
        if (w.depth == 0) {
          err = PATH_ESCAPES;
          break;
        }
        close(w.dirs[--w.depth]);
      }
      rest += len;
      if (len == 0 || last) { /* the path ends at a directory: open it as "." */
        int fd = openat(walk_top(&w), ".", flags | O_CLOEXEC, mode);
        if (fd < 0) err = errno;
        else *out = fd;
        break;
      }
      continue;
    }
    char name[len + 1];
    memcpy(name, rest, len);
    name[len] = 0;
    if (!last) {
      int fd = openat(walk_top(&w), name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0) {
        err = walk_push(&w, fd);
        if (err) {
          close(fd);
          break;
        }
        rest += len;
        continue;
      }
      err = errno;
      if (err != ENOTDIR && err != ELOOP) break;
      struct stat st;
      if (fstatat(walk_top(&w), name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) {
        err = ENOTDIR;
        break;
      }
      err = walk_splice_link(&w, &buf, &rest, len, &links);
      if (err) break;
      continue;
    }
    /* The last component. */
    int fd = openat(walk_top(&w), name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    bool is_link = false;
    if (fd >= 0 && (flags & O_PATH) && follow) {
      struct stat st;
      if (fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) is_link = true;
    } else if (fd < 0 && follow && (errno == ELOOP || errno == ENOTDIR)) {
      int saved = errno;
      struct stat st;
      if (fstatat(walk_top(&w), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        is_link = true;
      errno = saved;
    }
    if (is_link) {
      if (fd >= 0) close(fd);
      err = walk_splice_link(&w, &buf, &rest, len, &links);
      if (err) break;
      continue;
    }
    if (fd < 0) err = errno;
    else *out = fd;
    break;
  }
  walk_free(&w);
  free(buf);
  return err;
}

/* ---------------------------------------------------------------- entry points */

int path_open_beneath(int root, const char *path, int flags, mode_t mode, bool follow, int *out) {
  if (path[0] == '/') return PATH_ESCAPES;
  if (path[0] == 0) return ENOENT;
#ifdef HAVE_OPENAT2
  if (path_uses_openat2()) {
    int err = open_with_openat2(root, path, flags, mode, follow, out);
    if (err != EAGAIN) return err;
  }
#endif
  return open_with_walk(root, path, flags, mode, follow, out);
}

int path_parent_beneath(int root, char *path, int *parent, const char **name, bool *trailing_slash) {
  if (path[0] == '/') return PATH_ESCAPES;
  size_t len = strlen(path);
  if (len == 0) return ENOENT;
  *trailing_slash = false;
  while (len > 1 && path[len - 1] == '/') {
    path[--len] = 0;
    *trailing_slash = true;
  }
  char *slash = strrchr(path, '/');
  if (!slash) {
    *parent = root;
    *name = path;
    return 0;
  }
  *name = slash + 1;
  /* Keep the slash when the directory part is just "/" (unreachable: absolute paths are
   * refused above) and cut the path at it otherwise. */
  *slash = 0;
  int err = path_open_beneath(root, path, O_PATH | O_DIRECTORY, 0, true, parent);
  *slash = '/';
  return err;
}

int path_open_beneath_walk(int root, const char *path, int flags, mode_t mode, bool follow, int *out) {
  if (path[0] == '/') return PATH_ESCAPES;
  if (path[0] == 0) return ENOENT;
  return open_with_walk(root, path, flags, mode, follow, out);
}

void path_close_parent(int root, int parent) {
  if (parent != root && parent >= 0) close(parent);
}
