/* fuzz_wasi_path.c - the WASI sandbox's path resolution (src/wasi/wasi_path.c) under
 * arbitrary guest paths. A fixed tree holds symlinks that lead up, out, to absolute paths,
 * in loops and back inside; each input is resolved beneath its root both with openat2 and
 * with the component-wise walk, following the last symlink and not. Aborts if a resolution
 * ever opens something outside the root, or if the two methods disagree on whether the
 * path resolves or on what it resolves to. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/wasi_path.h"

static int root_fd = -1;
static char root_real[PATH_MAX];

static void make_tree(void) {
  char base[] = "/tmp/kiln-fuzz-path-XXXXXX";
  if (!mkdtemp(base)) abort();
  char path[PATH_MAX];
#define AT(rel) (snprintf(path, sizeof path, "%s/%s", base, rel), path)
  if (mkdir(AT("outside"), 0755) || mkdir(AT("root"), 0755) || mkdir(AT("root/a"), 0755) ||
      mkdir(AT("root/a/b"), 0755) || mkdir(AT("root/a/b/c"), 0755))
    abort();
  close(open(AT("outside/secret"), O_CREAT | O_WRONLY, 0644));
  close(open(AT("root/file"), O_CREAT | O_WRONLY, 0644));
  close(open(AT("root/a/b/c/deep"), O_CREAT | O_WRONLY, 0644));
  static const char *const links[][2] = {
      {"..", "root/up"},           {"/etc", "root/abs"},          {"loop", "root/loop"},
      {"a", "root/in"},            {"../../outside", "root/a/out"}, {"../..", "root/a/b/top"},
      {"../../..", "root/a/b/above"}, {"c/deep", "root/a/b/to_deep"}, {"../file", "root/a/to_file"},
      {"b/c/../../b", "root/a/twisty"}, {"missing", "root/dangling"}, {"/", "root/slash"},
      {"../outside/secret", "root/sibling"}, {"a/b/top/a", "root/round"},
  };
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    if (symlink(links[i][0], AT(links[i][1]))) abort();
  root_fd = open(AT("root"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0 || !realpath(AT("root"), root_real)) abort();
#undef AT
}

/* Abort unless fd is the root or lies beneath it. */
static void check_inside(int fd, const char *input) {
  char proc[64], real[PATH_MAX];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(proc, real, sizeof real - 1);
  if (n < 0) return; /* no /proc: nothing to check against */
  real[n] = 0;
  size_t len = strlen(root_real);
  if (strncmp(real, root_real, len) != 0 || (real[len] != 0 && real[len] != '/')) {
    fprintf(stderr, "path \"%s\" escaped to %s\n", input, real);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (root_fd < 0) make_tree();
  if (size > 1024) return 0;
  char path[1025];
  memcpy(path, data, size);
  path[size] = 0; /* a NUL inside ends the path early, as a C string would */
  for (int follow = 0; follow <= 1; follow++) {
    int kernel_fd = -1, walk_fd = -1;
    int kernel_err = path_uses_openat2()
                         ? path_open_beneath(root_fd, path, O_PATH, 0, follow, &kernel_fd)
                         : -1;
    int walk_err = path_open_beneath_walk(root_fd, path, O_PATH, 0, follow, &walk_fd);
    if (!walk_err) check_inside(walk_fd, path);
    if (!kernel_err) check_inside(kernel_fd, path);
    if (kernel_err != -1) {
      if ((kernel_err == 0) != (walk_err == 0)) {
        fprintf(stderr, "path \"%s\" (follow %d): openat2 gives %d, the walk %d\n", path, follow,
                kernel_err, walk_err);
        abort();
      }
      if (!kernel_err) {
        struct stat a, b;
        if (fstat(kernel_fd, &a) || fstat(walk_fd, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
          fprintf(stderr, "path \"%s\" (follow %d): openat2 and the walk open different files\n", path, follow);
          abort();
        }
      }
    }
    if (kernel_fd >= 0) close(kernel_fd);
    if (walk_fd >= 0) close(walk_fd);
  }
  return 0;
}
