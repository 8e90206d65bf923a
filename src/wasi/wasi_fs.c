/* wasi_fs.c - WASI's file system calls: every fd_* and path_* function of preview1. Each
 * checks the descriptor's rights first, resolves guest paths only through the sandbox
 * (wasi_path.c) and returns a WASI errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi_impl.h"
#include "wasi_path.h"

#define HOST_ERRNO() wasi_errno_from_host(errno)

/* ---------------------------------------------------------------- helpers */

/* Copy the guest path (ptr, len) into a NUL-terminated string the caller frees. Paths with
 * NUL bytes are invalid. */
static uint16_t guest_path(wasi_call *c, uint32_t ptr, uint32_t len, char **out) {
  if (!mem_ok(&c->mem, ptr, len)) return WASI_EFAULT;
  if (memchr(c->mem.base + ptr, 0, len)) return WASI_EINVAL;
  if (len >= PATH_MAX) return WASI_ENAMETOOLONG;
  char *path = malloc((size_t)len + 1);
  if (!path) return WASI_ENOMEM;
  memcpy(path, c->mem.base + ptr, len);
  path[len] = 0;
  *out = path;
  return 0;
}

/* The directory descriptor dirfd with right needed, and the guest path. */
static uint16_t dir_and_path(wasi_call *c, uint32_t dirfd, uint64_t needed, uint32_t ptr,
                             uint32_t len, wasi_fd **dir, char **path) {
  /* The type is checked before the rights: a file given as a directory is ENOTDIR. */
  uint16_t e = wasi_fd_get(c->wasi, dirfd, 0, dir);
  if (e) return e;
  if ((*dir)->filetype != WASI_FILETYPE_DIRECTORY) return WASI_ENOTDIR;
  if ((e = wasi_fd_get(c->wasi, dirfd, needed, dir))) return e;
  return guest_path(c, ptr, len, path);
}

/* A name in a directory, for the calls that act on one: the held parent directory and the
 * last component (see path_parent_beneath). */
typedef struct named {
  char *path;
  int root, parent;
  const char *name;
  bool trailing_slash;
} named;

static uint16_t named_open(wasi_call *c, uint32_t dirfd, uint64_t needed, uint32_t ptr, uint32_t len,
                           named *n) {
  wasi_fd *dir;
  n->path = NULL;
  n->parent = -1;
  uint16_t e = dir_and_path(c, dirfd, needed, ptr, len, &dir, &n->path);
  if (e) return e;
  n->root = dir->host;
  int err = path_parent_beneath(dir->host, n->path, &n->parent, &n->name, &n->trailing_slash);
  if (err) {
    n->parent = -1;
    return wasi_errno_from_host(err);
  }
  return 0;
}

static void named_close(named *n) {
  if (n->parent >= 0) path_close_parent(n->root, n->parent);
  free(n->path);
}

static bool is_dot_or_dotdot(const char *name) {
  return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* The type of the entry a name refers to, without following a symlink (0 if none). */
static unsigned entry_mode(const named *n) {
  struct stat st;
  return fstatat(n->parent, n->name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (st.st_mode & S_IFMT) : 0;
}

/* A trailing slash demands a directory: a file or a symlink there is ENOTDIR. */
static uint16_t check_trailing_slash(const named *n) {
  if (!n->trailing_slash) return 0;
  unsigned mode = entry_mode(n);
  return mode && mode != S_IFDIR ? WASI_ENOTDIR : 0;
}

static void put_filestat(wasi_mem *m, uint32_t at, const struct stat *st) {
  memset(m->base + at, 0, WASI_FILESTAT_SIZE);
  put_u64(m, at, (uint64_t)st->st_dev);
  put_u64(m, at + 8, (uint64_t)st->st_ino);
  put_u8(m, at + 16, wasi_filetype_of_mode(st->st_mode));
  put_u64(m, at + 24, (uint64_t)st->st_nlink);
  put_u64(m, at + 32, (uint64_t)st->st_size);
  put_u64(m, at + 40, (uint64_t)st->st_atim.tv_sec * 1000000000u + (uint64_t)st->st_atim.tv_nsec);
  put_u64(m, at + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
  put_u64(m, at + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec);
}

/* fstflags and the two times as the timespecs of utimensat/futimens. */
static uint16_t make_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]) {
  if (fst & ~(WASI_FST_ATIM | WASI_FST_ATIM_NOW | WASI_FST_MTIM | WASI_FST_MTIM_NOW)) return WASI_EINVAL;
  if ((fst & WASI_FST_ATIM) && (fst & WASI_FST_ATIM_NOW)) return WASI_EINVAL;
  if ((fst & WASI_FST_MTIM) && (fst & WASI_FST_MTIM_NOW)) return WASI_EINVAL;
  uint64_t t[2] = {atim, mtim};
  uint32_t set[2] = {WASI_FST_ATIM, WASI_FST_MTIM}, now[2] = {WASI_FST_ATIM_NOW, WASI_FST_MTIM_NOW};
  for (int i = 0; i < 2; i++) {
    if (fst & now[i]) {
      ts[i].tv_sec = 0, ts[i].tv_nsec = UTIME_NOW;
    } else if (fst & set[i]) {
      ts[i].tv_sec = (time_t)(t[i] / 1000000000u), ts[i].tv_nsec = (long)(t[i] % 1000000000u);
    } else {
      ts[i].tv_sec = 0, ts[i].tv_nsec = UTIME_OMIT;
    }
  }
  return 0;
}

uint16_t wasi_iovecs(wasi_call *c, uint32_t iovs, uint32_t count, struct iovec *out, int *n) {
  if (!mem_ok(&c->mem, iovs, (uint64_t)count * WASI_IOVEC_SIZE)) return WASI_EFAULT;
  if (count > IOV_MAX) count = IOV_MAX;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t buf = get_u32(&c->mem, iovs + i * 8), len = get_u32(&c->mem, iovs + i * 8 + 4);
    if (!mem_ok(&c->mem, buf, len)) return WASI_EFAULT;
    out[i].iov_base = c->mem.base + buf;
    out[i].iov_len = len;
  }
  *n = (int)count;
  return 0;
}

/* ---------------------------------------------------------------- descriptors */

uint16_t wasi_fd_advise(wasi_call *c) {
  wasi_fd *f;
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), WASI_RIGHT_FD_ADVISE, &f);
  if (e) return e;
  static const int advice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                               POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
  uint32_t a = arg_u32(c, 3);
  if (a > WASI_ADVICE_NOREUSE) return WASI_EINVAL;
  int64_t offset = (int64_t)arg_u64(c, 1), len = (int64_t)arg_u64(c, 2);
  if (offset < 0 || len < 0) return WASI_EINVAL;
  if (f->filetype == WASI_FILETYPE_DIRECTORY) return 0; /* advice about a directory: nothing to do */
  int err = posix_fadvise(f->host, offset, len, advice[a]);
  return err == ESPIPE ? WASI_ESPIPE : wasi_errno_from_host(err);
}

uint16_t wasi_fd_allocate(wasi_call *c) {
  wasi_fd *f;
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), WASI_RIGHT_FD_ALLOCATE, &f);
  if (e) return e;
  uint64_t offset = arg_u64(c, 1), len = arg_u64(c, 2);
  if (offset > INT64_MAX || len > INT64_MAX || offset + len > INT64_MAX) return WASI_EINVAL;
  if (f->filetype == WASI_FILETYPE_DIRECTORY) return WASI_EBADF;
  int err = posix_fallocate(f->host, (off_t)offset, (off_t)len);
  return wasi_errno_from_host(err);
}

uint16_t wasi_fd_close(wasi_call *c) {
  wasi_fd *f;
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), 0, &f);
  if (e) return e;
  wasi_fd_release(f);
  return 0;
}

uint16_t wasi_fd_datasync(wasi_call *c) {
  wasi_fd *f;
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), WASI_RIGHT_FD_DATASYNC, &f);
  if (e) return e;
  return fdatasync(f->host) == 0 ? 0 : HOST_ERRNO();
}

uint16_t wasi_fd_sync(wasi_call *c) {
  wasi_fd *f;
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), WASI_RIGHT_FD_SYNC, &f);
  if (e) return e;
  return fsync(f->host) == 0 ? 0 : HOST_ERRNO();
}

uint16_t wasi_fd_fdstat_get(wasi_call *c) {
  wasi_fd *f;
  uint32_t out = arg_u32(c, 1);
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), 0, &f);
  if (e) return e;
  if (!mem_ok(&c->mem, out, WASI_FDSTAT_SIZE)) return WASI_EFAULT;
  int fl = fcntl(f->host, F_GETFL);
  uint16_t flags = 0;
  if (fl >= 0) {
    if (fl & O_APPEND) flags |= WASI_FDFLAG_APPEND;
    if (fl & O_NONBLOCK) flags |= WASI_FDFLAG_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC) flags |= WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC;
    else if (fl & O_DSYNC) flags |= WASI_FDFLAG_DSYNC;
  }
  memset(c->mem.base + out, 0, WASI_FDSTAT_SIZE);
  put_u8(&c->mem, out, f->filetype);
  put_u16(&c->mem, out + 2, flags);
  put_u64(&c->mem, out + 8, f->rights_base);
  put_u64(&c->mem, out + 16, f->rights_inheriting);
  return 0;
}

uint16_t wasi_fd_fdstat_set_flags(wasi_call *c) {
  wasi_fd *f;
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), WASI_RIGHT_FD_FDSTAT_SET_FLAGS, &f);
  if (e) return e;
  uint32_t flags = arg_u32(c, 1);
  if (flags & ~(WASI_FDFLAG_APPEND | WASI_FDFLAG_DSYNC | WASI_FDFLAG_NONBLOCK | WASI_FDFLAG_RSYNC |
                WASI_FDFLAG_SYNC))
    return WASI_EINVAL;
  /* Linux cannot change the synchronous-I/O flags of an open file. */
  if (flags & (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC)) return WASI_ENOTSUP;
  int fl = fcntl(f->host, F_GETFL);
  if (fl < 0) return HOST_ERRNO();
  fl &= ~(O_APPEND | O_NONBLOCK);
  if (flags & WASI_FDFLAG_APPEND) fl |= O_APPEND;
  if (flags & WASI_FDFLAG_NONBLOCK) fl |= O_NONBLOCK;
  return fcntl(f->host, F_SETFL, fl) == 0 ? 0 : HOST_ERRNO();
}

uint16_t wasi_fd_fdstat_set_rights(wasi_call *c) {
  wasi_fd *f;
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), 0, &f);
  if (e) return e;
  uint64_t base = arg_u64(c, 1), inheriting = arg_u64(c, 2);
  if ((base & ~f->rights_base) || (inheriting & ~f->rights_inheriting)) return WASI_ENOTCAPABLE;
  f->rights_base = base;
  f->rights_inheriting = inheriting;
  return 0;
}

uint16_t wasi_fd_filestat_get(wasi_call *c) {
  wasi_fd *f;
  uint32_t out = arg_u32(c, 1);
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), WASI_RIGHT_FD_FILESTAT_GET, &f);
  if (e) return e;
  if (!mem_ok(&c->mem, out, WASI_FILESTAT_SIZE)) return WASI_EFAULT;
  struct stat st;
  if (fstat(f->host, &st) != 0) return HOST_ERRNO();
  put_filestat(&c->mem, out, &st);
  /* A pipe has no WASI type; keep what the descriptor reports. */
  put_u8(&c->mem, out + 16, f->filetype);
  return 0;
}

uint16_t wasi_fd_filestat_set_size(wasi_call *c) {
  wasi_fd *f;
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), WASI_RIGHT_FD_FILESTAT_SET_SIZE, &f);
  if (e) return e;
  uint64_t size = arg_u64(c, 1);
  if (size > INT64_MAX) return WASI_EINVAL;
  return ftruncate(f->host, (off_t)size) == 0 ? 0 : HOST_ERRNO();
}

uint16_t wasi_fd_filestat_set_times(wasi_call *c) {
  wasi_fd *f;
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), WASI_RIGHT_FD_FILESTAT_SET_TIMES, &f);
  if (e) return e;
  struct timespec ts[2];
  if ((e = make_times(arg_u64(c, 1), arg_u64(c, 2), arg_u32(c, 3), ts))) return e;
  return futimens(f->host, ts) == 0 ? 0 : HOST_ERRNO();
}

/* fd_read, fd_pread, fd_write, fd_pwrite: one shape, four calls. */
typedef enum io_kind { IO_READ, IO_PREAD, IO_WRITE, IO_PWRITE } io_kind;

static uint16_t do_io(wasi_call *c, io_kind kind) {
  static const uint64_t needed[] = {WASI_RIGHT_FD_READ, WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK,
                                    WASI_RIGHT_FD_WRITE, WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_SEEK};
  bool positioned = kind == IO_PREAD || kind == IO_PWRITE;
  uint32_t done_ptr = arg_u32(c, positioned ? 4 : 3);
  wasi_fd *f;
  /* Reading a directory is EISDIR, as on the host, before its missing rights are. */
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), 0, &f);
  if (e) return e;
  if (f->filetype == WASI_FILETYPE_DIRECTORY) return WASI_EISDIR;
  if ((e = wasi_fd_get(c->wasi, arg_u32(c, 0), needed[kind], &f))) return e;
  if (!mem_ok(&c->mem, done_ptr, 4)) return WASI_EFAULT;
  uint64_t offset = positioned ? arg_u64(c, 3) : 0;
  if (offset > INT64_MAX) return WASI_EINVAL;
  struct iovec iov[IOV_MAX];
  int n;
  if ((e = wasi_iovecs(c, arg_u32(c, 1), arg_u32(c, 2), iov, &n))) return e;
  if (kind == IO_READ && f->filetype != WASI_FILETYPE_REGULAR_FILE) {
    /* A pipe, terminal or socket may block: wait in slices so a timeout can stop it. */
    int fl = fcntl(f->host, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK) && (e = wasi_wait_readable(c, f->host))) return e;
  }
  ssize_t r;
  do {
    switch (kind) {
      case IO_READ: r = readv(f->host, iov, n); break;
      case IO_PREAD: r = preadv(f->host, iov, n, (off_t)offset); break;
      case IO_WRITE: r = writev(f->host, iov, n); break;
      default: r = pwritev(f->host, iov, n, (off_t)offset); break;
    }
  } while (r < 0 && errno == EINTR);
  if (r < 0) return HOST_ERRNO();
  put_u32(&c->mem, done_ptr, (uint32_t)r);
  return 0;
}

uint16_t wasi_fd_read(wasi_call *c) { return do_io(c, IO_READ); }
uint16_t wasi_fd_pread(wasi_call *c) { return do_io(c, IO_PREAD); }
uint16_t wasi_fd_write(wasi_call *c) { return do_io(c, IO_WRITE); }
uint16_t wasi_fd_pwrite(wasi_call *c) { return do_io(c, IO_PWRITE); }

uint16_t wasi_fd_prestat_get(wasi_call *c) {
  wasi_fd *f;
  uint32_t out = arg_u32(c, 1);
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), 0, &f);
  if (e) return e;
  if (!f->preopen_name) return WASI_EBADF;
  if (!mem_ok(&c->mem, out, WASI_PRESTAT_SIZE)) return WASI_EFAULT;
  memset(c->mem.base + out, 0, WASI_PRESTAT_SIZE);
  put_u8(&c->mem, out, WASI_PREOPENTYPE_DIR);
  put_u32(&c->mem, out + 4, (uint32_t)strlen(f->preopen_name));
  return 0;
}

uint16_t wasi_fd_prestat_dir_name(wasi_call *c) {
  wasi_fd *f;
  uint32_t buf = arg_u32(c, 1), len = arg_u32(c, 2);
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), 0, &f);
  if (e) return e;
  if (!f->preopen_name) return WASI_EBADF;
  size_t name_len = strlen(f->preopen_name);
  if (len < name_len) return WASI_ENAMETOOLONG;
  if (!mem_ok(&c->mem, buf, name_len)) return WASI_EFAULT;
  memcpy(c->mem.base + buf, f->preopen_name, name_len);
  return 0;
}

uint16_t wasi_fd_readdir(wasi_call *c) {
  wasi_fd *f;
  uint32_t buf = arg_u32(c, 1), len = arg_u32(c, 2), used_ptr = arg_u32(c, 4);
  uint64_t cookie = arg_u64(c, 3);
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), 0, &f);
  if (e) return e;
  if (f->filetype != WASI_FILETYPE_DIRECTORY) return WASI_ENOTDIR;
  if ((e = wasi_fd_get(c->wasi, arg_u32(c, 0), WASI_RIGHT_FD_READDIR, &f))) return e;
  if (!mem_ok(&c->mem, buf, len) || !mem_ok(&c->mem, used_ptr, 4)) return WASI_EFAULT;
  if (!f->dir) {
    /* The stream gets its own open file description so its position is its own. */
    int dup_fd = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup_fd < 0) return HOST_ERRNO();
    f->dir = fdopendir(dup_fd);
    if (!f->dir) {
      close(dup_fd);
      return HOST_ERRNO();
    }
    f->dir_cookie = 0;
  }
  if (cookie != f->dir_cookie) {
    if (cookie == 0) rewinddir(f->dir);
    else seekdir(f->dir, (long)cookie);
    f->dir_cookie = cookie;
  }
  uint32_t used = 0;
  while (used < len) {
    errno = 0;
    struct dirent *d = readdir(f->dir);
    if (!d) {
      if (errno) return HOST_ERRNO();
      break;
    }
    long next = telldir(f->dir);
    uint8_t type;
    switch (d->d_type) {
      case DT_REG: type = WASI_FILETYPE_REGULAR_FILE; break;
      case DT_DIR: type = WASI_FILETYPE_DIRECTORY; break;
      case DT_LNK: type = WASI_FILETYPE_SYMBOLIC_LINK; break;
      case DT_CHR: type = WASI_FILETYPE_CHARACTER_DEVICE; break;
      case DT_BLK: type = WASI_FILETYPE_BLOCK_DEVICE; break;
      case DT_SOCK: type = WASI_FILETYPE_SOCKET_STREAM; break;
      case DT_UNKNOWN: {
        struct stat st;
        type = fstatat(dirfd(f->dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
                   ? wasi_filetype_of_mode(st.st_mode) : WASI_FILETYPE_UNKNOWN;
        break;
      }
      default: type = WASI_FILETYPE_UNKNOWN; break;
    }
    uint32_t name_len = (uint32_t)strlen(d->d_name);
    uint8_t entry[WASI_DIRENT_SIZE] = {0};
    uint64_t d_next = (uint64_t)next, d_ino = (uint64_t)d->d_ino;
    memcpy(entry, &d_next, 8);
    memcpy(entry + 8, &d_ino, 8);
    memcpy(entry + 16, &name_len, 4);
    entry[20] = type;
    /* Entries are cut at the end of the buffer; the guest asks again from d_next. */
    uint32_t n = len - used < WASI_DIRENT_SIZE ? len - used : WASI_DIRENT_SIZE;
    memcpy(c->mem.base + buf + used, entry, n);
    used += n;
    n = len - used < name_len ? len - used : name_len;
    memcpy(c->mem.base + buf + used, d->d_name, n);
    used += n;
    f->dir_cookie = d_next;
  }
  put_u32(&c->mem, used_ptr, used);
  return 0;
}

uint16_t wasi_fd_renumber(wasi_call *c) {
  wasi_fd *from, *to;
  uint32_t from_fd = arg_u32(c, 0), to_fd = arg_u32(c, 1);
  uint16_t e = wasi_fd_get(c->wasi, from_fd, 0, &from);
  if (e) return e;
  if ((e = wasi_fd_get(c->wasi, to_fd, 0, &to))) return e;
  if (from_fd == to_fd) return 0;
  wasi_fd_release(to);
  *to = *from;
  memset(from, 0, sizeof *from);
  return 0;
}

uint16_t wasi_fd_seek(wasi_call *c) {
  wasi_fd *f;
  int64_t offset = (int64_t)arg_u64(c, 1);
  uint32_t whence = arg_u32(c, 2), out = arg_u32(c, 3);
  uint64_t needed = (offset == 0 && whence == WASI_WHENCE_CUR) ? WASI_RIGHT_FD_TELL : WASI_RIGHT_FD_SEEK;
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), needed, &f);
  if (e) return e;
  if (f->filetype == WASI_FILETYPE_DIRECTORY) return WASI_EISDIR;
  static const int host_whence[] = {SEEK_SET, SEEK_CUR, SEEK_END};
  if (whence > WASI_WHENCE_END) return WASI_EINVAL;
  if (!mem_ok(&c->mem, out, 8)) return WASI_EFAULT;
  off_t pos = lseek(f->host, (off_t)offset, host_whence[whence]);
  if (pos < 0) return HOST_ERRNO();
  put_u64(&c->mem, out, (uint64_t)pos);
  return 0;
}

uint16_t wasi_fd_tell(wasi_call *c) {
  wasi_fd *f;
  uint32_t out = arg_u32(c, 1);
  uint16_t e = wasi_fd_get(c->wasi, arg_u32(c, 0), WASI_RIGHT_FD_TELL, &f);
  if (e) return e;
  if (!mem_ok(&c->mem, out, 8)) return WASI_EFAULT;
  off_t pos = lseek(f->host, 0, SEEK_CUR);
  if (pos < 0) return HOST_ERRNO();
  put_u64(&c->mem, out, (uint64_t)pos);
  return 0;
}

/* ---------------------------------------------------------------- paths */

uint16_t wasi_path_create_directory(wasi_call *c) {
  named n;
  uint16_t e = named_open(c, arg_u32(c, 0), WASI_RIGHT_PATH_CREATE_DIRECTORY, arg_u32(c, 1), arg_u32(c, 2), &n);
  if (!e) {
    if (is_dot_or_dotdot(n.name)) e = WASI_EEXIST;
    else if (mkdirat(n.parent, n.name, 0777) != 0) e = HOST_ERRNO();
  }
  named_close(&n);
  return e;
}

/* Open path beneath directory dirfd as an O_PATH descriptor, following a final symlink if
 * lookup says so. */
static uint16_t open_path_only(wasi_call *c, uint32_t dirfd, uint64_t needed, uint32_t lookup,
                               uint32_t ptr, uint32_t len, int *out) {
  wasi_fd *dir;
  char *path;
  uint16_t e = dir_and_path(c, dirfd, needed, ptr, len, &dir, &path);
  if (e) return e;
  int err = path_open_beneath(dir->host, path, O_PATH, 0, lookup & WASI_LOOKUP_SYMLINK_FOLLOW, out);
  free(path);
  return wasi_errno_from_host(err);
}

uint16_t wasi_path_filestat_get(wasi_call *c) {
  uint32_t out = arg_u32(c, 4);
  int fd;
  uint16_t e = open_path_only(c, arg_u32(c, 0), WASI_RIGHT_PATH_FILESTAT_GET, arg_u32(c, 1),
                              arg_u32(c, 2), arg_u32(c, 3), &fd);
  if (e) return e;
  struct stat st;
  if (fstat(fd, &st) != 0) e = HOST_ERRNO();
  else if (!mem_ok(&c->mem, out, WASI_FILESTAT_SIZE)) e = WASI_EFAULT;
  else put_filestat(&c->mem, out, &st);
  close(fd);
  return e;
}

/* Apply times to what an O_PATH descriptor refers to (futimens needs a real open). */
static int utimens_path_fd(int fd, const struct timespec ts[2]) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  return utimensat(AT_FDCWD, proc, ts, 0);
}

uint16_t wasi_path_filestat_set_times(wasi_call *c) {
  uint32_t lookup = arg_u32(c, 1);
  struct timespec ts[2];
  uint16_t e = make_times(arg_u64(c, 4), arg_u64(c, 5), arg_u32(c, 6), ts);
  if (e) return e;
  if (!(lookup & WASI_LOOKUP_SYMLINK_FOLLOW)) {
    /* The link itself: act on the name in its (sandboxed) parent, never following it. */
    named n;
    e = named_open(c, arg_u32(c, 0), WASI_RIGHT_PATH_FILESTAT_SET_TIMES, arg_u32(c, 2), arg_u32(c, 3), &n);
    if (!e && !is_dot_or_dotdot(n.name)) {
      if (!(e = check_trailing_slash(&n)) && utimensat(n.parent, n.name, ts, AT_SYMLINK_NOFOLLOW) != 0)
        e = HOST_ERRNO();
      named_close(&n);
      return e;
    }
    named_close(&n);
    if (e) return e;
  }
  int fd;
  e = open_path_only(c, arg_u32(c, 0), WASI_RIGHT_PATH_FILESTAT_SET_TIMES, WASI_LOOKUP_SYMLINK_FOLLOW,
                     arg_u32(c, 2), arg_u32(c, 3), &fd);
  if (e) return e;
  if (utimens_path_fd(fd, ts) != 0) e = HOST_ERRNO();
  close(fd);
  return e;
}

uint16_t wasi_path_link(wasi_call *c) {
  named from, to;
  uint32_t lookup = arg_u32(c, 1);
  uint16_t e = named_open(c, arg_u32(c, 0), WASI_RIGHT_PATH_LINK_SOURCE, arg_u32(c, 2), arg_u32(c, 3), &from);
  if (e) {
    named_close(&from);
    return e;
  }
  e = named_open(c, arg_u32(c, 4), WASI_RIGHT_PATH_LINK_TARGET, arg_u32(c, 5), arg_u32(c, 6), &to);
  if (!e) {
    if (is_dot_or_dotdot(to.name)) {
      e = WASI_EEXIST;
    } else if (is_dot_or_dotdot(from.name)) {
      e = WASI_EPERM; /* a directory */
    } else if (from.trailing_slash) {
      unsigned mode = entry_mode(&from);
      e = !mode ? WASI_ENOENT : mode == S_IFDIR ? WASI_EPERM : WASI_ENOTDIR;
    } else if (to.trailing_slash) {
      /* "link/" would have to be a directory: a new link cannot be one. */
      e = entry_mode(&to) ? WASI_EEXIST : WASI_ENOENT;
    } else if (lookup & WASI_LOOKUP_SYMLINK_FOLLOW) {
      /* Link the file a symlink leads to, resolved inside the sandbox. */
      int fd;
      int err = path_open_beneath(from.root, from.path, O_PATH, 0, true, &fd);
      if (err) {
        e = wasi_errno_from_host(err);
      } else {
        if (linkat(fd, "", to.parent, to.name, AT_EMPTY_PATH) != 0) e = HOST_ERRNO();
        close(fd);
      }
    } else if (linkat(from.parent, from.name, to.parent, to.name, 0) != 0) {
      e = HOST_ERRNO();
    }
  }
  named_close(&from);
  named_close(&to);
  return e;
}

uint16_t wasi_path_open(wasi_call *c) {
  uint32_t dirfd = arg_u32(c, 0), lookup = arg_u32(c, 1), oflags = arg_u32(c, 4);
  uint64_t base = arg_u64(c, 5), inheriting = arg_u64(c, 6);
  uint32_t fdflags = arg_u32(c, 7), out = arg_u32(c, 8);
  uint64_t needed = WASI_RIGHT_PATH_OPEN;
  if (oflags & WASI_OFLAG_CREAT) needed |= WASI_RIGHT_PATH_CREATE_FILE;
  if (oflags & WASI_OFLAG_TRUNC) needed |= WASI_RIGHT_PATH_FILESTAT_SET_SIZE;
  wasi_fd *dir;
  char *path;
  uint16_t e = dir_and_path(c, dirfd, needed, arg_u32(c, 2), arg_u32(c, 3), &dir, &path);
  if (e) return e;
  if (!mem_ok(&c->mem, out, 4)) {
    free(path);
    return WASI_EFAULT;
  }
  const uint64_t read_rights = WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR;
  const uint64_t write_rights = WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE |
                                WASI_RIGHT_FD_FILESTAT_SET_SIZE;
  /* Asking to write through a directory that may not pass writing on (one under a
   * read-only preopen, or whose inheriting rights lack it) fails here, not at the first write. */
  bool wants_write = (base & write_rights) || (fdflags & WASI_FDFLAG_APPEND);
  if ((base & write_rights & ~dir->rights_inheriting) || (wants_write && dir->readonly) ||
      ((fdflags & WASI_FDFLAG_APPEND) && !(dir->rights_inheriting & WASI_RIGHT_FD_WRITE))) {
    free(path);
    return WASI_ENOTCAPABLE;
  }
  if (oflags & ~(WASI_OFLAG_CREAT | WASI_OFLAG_DIRECTORY | WASI_OFLAG_EXCL | WASI_OFLAG_TRUNC) ||
      fdflags & ~(WASI_FDFLAG_APPEND | WASI_FDFLAG_DSYNC | WASI_FDFLAG_NONBLOCK | WASI_FDFLAG_RSYNC |
                  WASI_FDFLAG_SYNC)) {
    free(path);
    return WASI_EINVAL;
  }
  int flags = O_NOCTTY;
  bool reads = base & read_rights;
  flags |= wants_write ? (reads ? O_RDWR : O_WRONLY) : O_RDONLY;
  if (oflags & WASI_OFLAG_CREAT) flags |= O_CREAT;
  if (oflags & WASI_OFLAG_DIRECTORY) flags |= O_DIRECTORY;
  if (oflags & WASI_OFLAG_EXCL) flags |= O_EXCL;
  if (oflags & WASI_OFLAG_TRUNC) flags |= O_TRUNC;
  if (fdflags & WASI_FDFLAG_APPEND) flags |= O_APPEND;
  if (fdflags & WASI_FDFLAG_NONBLOCK) flags |= O_NONBLOCK;
  if (fdflags & WASI_FDFLAG_DSYNC) flags |= O_DSYNC;
  if (fdflags & (WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC)) flags |= O_SYNC;
  int host;
  int err = path_open_beneath(dir->host, path, flags, 0666, lookup & WASI_LOOKUP_SYMLINK_FOLLOW, &host);
  free(path);
  if (err) return wasi_errno_from_host(err);
  struct stat st;
  if (fstat(host, &st) != 0) {
    e = HOST_ERRNO();
    close(host);
    return e;
  }
  uint8_t type = wasi_filetype_of_mode(st.st_mode);
  uint64_t allowed = type == WASI_FILETYPE_DIRECTORY ? WASI_RIGHTS_DIRECTORY
                     : type == WASI_FILETYPE_REGULAR_FILE ? WASI_RIGHTS_REGULAR_FILE
                     : (WASI_RIGHTS_REGULAR_FILE & ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL));
  bool readonly = dir->readonly;
  if (readonly) allowed &= ~WASI_RIGHTS_WRITING;
  uint32_t fd;
  e = wasi_fd_insert(c->wasi, host, type, base & dir->rights_inheriting & allowed,
                     inheriting & dir->rights_inheriting, true, &fd);
  if (e) {
    close(host);
    return e;
  }
  c->wasi->fds[fd].readonly = readonly;
  put_u32(&c->mem, out, fd);
  return 0;
}

uint16_t wasi_path_readlink(wasi_call *c) {
  uint32_t buf = arg_u32(c, 3), len = arg_u32(c, 4), used_ptr = arg_u32(c, 5);
  named n;
  uint16_t e = named_open(c, arg_u32(c, 0), WASI_RIGHT_PATH_READLINK, arg_u32(c, 1), arg_u32(c, 2), &n);
  if (!e) {
    char target[PATH_MAX];
    ssize_t got = is_dot_or_dotdot(n.name) ? (errno = EINVAL, -1)
                                           : readlinkat(n.parent, n.name, target, sizeof target);
    if (got < 0) {
      e = HOST_ERRNO();
    } else if (!mem_ok(&c->mem, buf, len) || !mem_ok(&c->mem, used_ptr, 4)) {
      e = WASI_EFAULT;
    } else {
      uint32_t n_copy = (uint64_t)got < len ? (uint32_t)got : len;
      memcpy(c->mem.base + buf, target, n_copy);
      put_u32(&c->mem, used_ptr, n_copy);
    }
  }
  named_close(&n);
  return e;
}

uint16_t wasi_path_remove_directory(wasi_call *c) {
  named n;
  uint16_t e = named_open(c, arg_u32(c, 0), WASI_RIGHT_PATH_REMOVE_DIRECTORY, arg_u32(c, 1), arg_u32(c, 2), &n);
  if (!e) {
    if (strcmp(n.name, ".") == 0) e = WASI_EINVAL;
    else if (strcmp(n.name, "..") == 0) e = WASI_ENOTEMPTY;
    else if (unlinkat(n.parent, n.name, AT_REMOVEDIR) != 0) e = HOST_ERRNO();
  }
  named_close(&n);
  return e;
}

uint16_t wasi_path_rename(wasi_call *c) {
  named from, to;
  uint16_t e = named_open(c, arg_u32(c, 0), WASI_RIGHT_PATH_RENAME_SOURCE, arg_u32(c, 1), arg_u32(c, 2), &from);
  if (e) {
    named_close(&from);
    return e;
  }
  e = named_open(c, arg_u32(c, 3), WASI_RIGHT_PATH_RENAME_TARGET, arg_u32(c, 4), arg_u32(c, 5), &to);
  if (!e) {
    if (is_dot_or_dotdot(from.name) || is_dot_or_dotdot(to.name)) {
      e = WASI_EBUSY;
    } else if (from.trailing_slash || to.trailing_slash) {
      /* Trailing slashes are allowed only when a directory is being renamed. */
      unsigned mode = entry_mode(&from);
      if (!mode) e = WASI_ENOENT;
      else if (mode != S_IFDIR) e = WASI_ENOTDIR;
    }
    if (!e && renameat(from.parent, from.name, to.parent, to.name) != 0) e = HOST_ERRNO();
  }
  named_close(&from);
  named_close(&to);
  return e;
}

uint16_t wasi_path_symlink(wasi_call *c) {
  char *target;
  uint16_t e = guest_path(c, arg_u32(c, 0), arg_u32(c, 1), &target);
  if (e) return e;
  if (target[0] == '/') {
    /* An absolute target could never be followed inside the sandbox; refuse to make one. */
    free(target);
    return WASI_ENOTCAPABLE;
  }
  named n;
  e = named_open(c, arg_u32(c, 2), WASI_RIGHT_PATH_SYMLINK, arg_u32(c, 3), arg_u32(c, 4), &n);
  if (!e) {
    if (is_dot_or_dotdot(n.name)) {
      e = WASI_EEXIST;
    } else if (n.trailing_slash) {
      /* "link/" names a directory: an existing entry is EEXIST, a new one cannot be a link. */
      e = entry_mode(&n) ? WASI_EEXIST : WASI_ENOENT;
    } else if (symlinkat(target, n.parent, n.name) != 0) {
      e = HOST_ERRNO();
    }
  }
  named_close(&n);
  free(target);
  return e;
}

uint16_t wasi_path_unlink_file(wasi_call *c) {
  named n;
  uint16_t e = named_open(c, arg_u32(c, 0), WASI_RIGHT_PATH_UNLINK_FILE, arg_u32(c, 1), arg_u32(c, 2), &n);
  if (!e) {
    if (is_dot_or_dotdot(n.name)) {
      e = WASI_EISDIR;
    } else if (n.trailing_slash) {
      unsigned mode = entry_mode(&n);
      e = !mode ? WASI_ENOENT : mode == S_IFDIR ? WASI_EISDIR : WASI_ENOTDIR;
    } else if (unlinkat(n.parent, n.name, 0) != 0) {
      e = HOST_ERRNO();
    }
  }
  named_close(&n);
  return e;
}
