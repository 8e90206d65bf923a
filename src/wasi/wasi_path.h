/* wasi_path.h - the sandbox: resolving guest paths beneath a directory, never outside it. */
#ifndef KILN_WASI_PATH_H
#define KILN_WASI_PATH_H

#include <stdbool.h>
#include <sys/types.h>

/* Returned (like a host errno) when a path would leave the directory it is resolved in:
 * an absolute path or symlink, or ".." above the start. Maps to WASI's ENOTCAPABLE. */
#define PATH_ESCAPES 100000

/* Open path (NUL-terminated, relative) beneath the host directory fd root with open(2)
 * flags and mode. Symlinks are followed while they stay beneath root; a symlink in the last
 * component only when follow is set (else that open fails with ELOOP, or with O_PATH opens
 * the link itself). Returns 0 with *out set, or a host errno / PATH_ESCAPES. */
int path_open_beneath(int root, const char *path, int flags, mode_t mode, bool follow, int *out);

/* For calls that act on a name in a directory (mkdirat, unlinkat, renameat, ...): open
 * the directory that holds the last component of path beneath root (O_PATH) and point
 * *name at that component inside path, which is modified (trailing slashes removed).
 * *parent is root itself when the path has one component; close it with path_close_parent.
 * *trailing_slash tells whether path ended in '/'. Returns 0 or a host errno. */
int path_parent_beneath(int root, char *path, int *parent, const char **name, bool *trailing_slash);
void path_close_parent(int root, int parent);

/* The same, always with the component-wise walk (tests and the fuzzer compare the two). */
int path_open_beneath_walk(int root, const char *path, int flags, mode_t mode, bool follow, int *out);

/* Whether openat2(RESOLVE_BENEATH) is in use (else the component-wise walk). The walk is
 * forced by the environment variable KILN_WASI_NO_OPENAT2=1 (for testing it). */
bool path_uses_openat2(void);

#endif /* KILN_WASI_PATH_H */
