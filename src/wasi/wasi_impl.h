/* wasi_impl.h - what the parts of kiln's WASI share: the context, its descriptor table and
 * access to guest memory. Only kiln.h is visible from here: WASI is a client of the API. */
#ifndef KILN_WASI_IMPL_H
#define KILN_WASI_IMPL_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kiln.h"
#include "wasi_abi.h"

/* One guest file descriptor. */
typedef struct wasi_fd {
  bool used;
  bool owned;          /* close host when the guest closes it or the context ends */
  bool readonly;       /* under a read-only preopen: never granted writing rights */
  uint8_t filetype;    /* WASI_FILETYPE_* */
  int host;            /* host file descriptor */
  uint64_t rights_base, rights_inheriting;
  char *preopen_name;  /* a preopened directory's guest name, else NULL */
  DIR *dir;            /* fd_readdir's stream over a dup of host, opened on first use */
  uint64_t dir_cookie; /* the position the stream is at */
} wasi_fd;

struct kiln_wasi {
  kiln_store *store;
  char *args;          /* argv strings, each NUL-terminated, back to back */
  size_t args_size;
  uint32_t argc;
  char *env;           /* "NAME=value" strings likewise */
  size_t env_size;
  uint32_t envc;
  wasi_fd *fds;
  uint32_t fd_count;   /* slots in fds[] */
  kiln_import *imports; /* what kiln_wasi_imports returned last */
  kiln_func **funcs;   /* host functions made so far, by index in the function table */
};

/* A call's view of guest memory: every pointer is checked against size before use. */
typedef struct wasi_mem {
  uint8_t *base;
  uint64_t size;
} wasi_mem;

static inline bool mem_ok(const wasi_mem *m, uint32_t ptr, uint64_t len) {
  return (uint64_t)ptr + len <= m->size;
}
static inline void put_u8(wasi_mem *m, uint32_t p, uint8_t v) { m->base[p] = v; }
static inline void put_u16(wasi_mem *m, uint32_t p, uint16_t v) { memcpy(m->base + p, &v, 2); }
static inline void put_u32(wasi_mem *m, uint32_t p, uint32_t v) { memcpy(m->base + p, &v, 4); }
static inline void put_u64(wasi_mem *m, uint32_t p, uint64_t v) { memcpy(m->base + p, &v, 8); }
static inline uint16_t get_u16(const wasi_mem *m, uint32_t p) { uint16_t v; memcpy(&v, m->base + p, 2); return v; }
static inline uint32_t get_u32(const wasi_mem *m, uint32_t p) { uint32_t v; memcpy(&v, m->base + p, 4); return v; }
static inline uint64_t get_u64(const wasi_mem *m, uint32_t p) { uint64_t v; memcpy(&v, m->base + p, 8); return v; }

/* The arguments of one host call, as the function table's signature gives them. */
typedef struct wasi_call {
  kiln_wasi *wasi;
  kiln_caller *caller;
  wasi_mem mem;
  const kiln_val *args;
} wasi_call;

static inline uint32_t arg_u32(const wasi_call *c, int i) { return (uint32_t)c->args[i].of.i32; }
static inline uint64_t arg_u64(const wasi_call *c, int i) { return (uint64_t)c->args[i].of.i64; }

/* A host errno (or PATH_ESCAPES) as a WASI errno. */
uint16_t wasi_errno_from_host(int err);

/* The descriptor fd if it is open and has every right in needed: 0, WASI_EBADF or
 * WASI_ENOTCAPABLE. */
uint16_t wasi_fd_get(kiln_wasi *wasi, uint32_t fd, uint64_t needed, wasi_fd **out);
/* Put host in the lowest free slot; *out receives its number. */
uint16_t wasi_fd_insert(kiln_wasi *wasi, int host, uint8_t filetype, uint64_t base,
                        uint64_t inheriting, bool owned, uint32_t *out);
/* Close what slot holds and mark it free. */
void wasi_fd_release(wasi_fd *slot);
/* The WASI file type of a host file mode. */
uint8_t wasi_filetype_of_mode(unsigned mode);

/* The file system calls (wasi_fs.c); each returns a WASI errno. */
#define WASI_FS_CALLS(X)                                                                       \
  X(fd_advise) X(fd_allocate) X(fd_close) X(fd_datasync) X(fd_fdstat_get)                      \
  X(fd_fdstat_set_flags) X(fd_fdstat_set_rights) X(fd_filestat_get) X(fd_filestat_set_size)    \
  X(fd_filestat_set_times) X(fd_pread) X(fd_prestat_get) X(fd_prestat_dir_name) X(fd_pwrite)   \
  X(fd_read) X(fd_readdir) X(fd_renumber) X(fd_seek) X(fd_sync) X(fd_tell) X(fd_write)         \
  X(path_create_directory) X(path_filestat_get) X(path_filestat_set_times) X(path_link)        \
  X(path_open) X(path_readlink) X(path_remove_directory) X(path_rename) X(path_symlink)        \
  X(path_unlink_file)
#define DECLARE_CALL(name) uint16_t wasi_##name(wasi_call *c);
WASI_FS_CALLS(DECLARE_CALL)

/* Point host iovecs (room for IOV_MAX) at the guest's count iovecs at iovs; *n receives how
 * many are used (at most IOV_MAX: a shorter transfer is allowed). */
struct iovec;
uint16_t wasi_iovecs(wasi_call *c, uint32_t iovs, uint32_t count, struct iovec *out, int *n);

/* Wait until host fd is readable, polling the store's interrupt flag; WASI_EINTR if an
 * interrupt is pending. */
uint16_t wasi_wait_readable(wasi_call *c, int host);

#endif /* KILN_WASI_IMPL_H */
