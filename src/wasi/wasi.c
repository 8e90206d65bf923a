/* wasi.c - kiln's wasi_snapshot_preview1 host module: configuration, the per-store context
 * and its descriptor table, the function table that binds guest imports to host code, and
 * the calls that are not about files (args, environment, clocks, random, poll, process,
 * sockets). File and path calls are in wasi_fs.c, the sandbox's path walk in wasi_path.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi_impl.h"
#include "wasi_path.h"

extern char **environ;

/* ---------------------------------------------------------------- configuration */

typedef struct preopen {
  int host;        /* opened by the configuration (directories) or lent by the embedder */
  bool is_socket;
  uint32_t flags;  /* KILN_WASI_READONLY */
  char *guest;     /* guest path of a directory */
} preopen;

struct kiln_wasi_config {
  char **args;
  size_t argc;
  char **env; /* "NAME=value" */
  size_t envc, env_cap;
  preopen *preopens;
  size_t preopen_count;
  int stdio[3];
};

kiln_wasi_config *kiln_wasi_config_new(void) {
  kiln_wasi_config *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  for (int i = 0; i < 3; i++) c->stdio[i] = i;
  return c;
}

static void free_strings(char **list, size_t n) {
  for (size_t i = 0; i < n; i++) free(list[i]);
  free(list);
}

void kiln_wasi_config_free(kiln_wasi_config *c) {
  if (!c) return;
  free_strings(c->args, c->argc);
  free_strings(c->env, c->envc);
  for (size_t i = 0; i < c->preopen_count; i++) {
    if (!c->preopens[i].is_socket) close(c->preopens[i].host);
    free(c->preopens[i].guest);
  }
  free(c->preopens);
  free(c);
}

kiln_status kiln_wasi_config_set_args(kiln_wasi_config *c, size_t argc, const char *const *argv) {
  char **args = calloc(argc ? argc : 1, sizeof *args);
  if (!args) return KILN_ERR_NOMEM;
  for (size_t i = 0; i < argc; i++) {
    args[i] = strdup(argv[i] ? argv[i] : "");
    if (!args[i]) {
      free_strings(args, i);
      return KILN_ERR_NOMEM;
    }
  }
  free_strings(c->args, c->argc);
  c->args = args;
  c->argc = argc;
  return KILN_OK;
}

kiln_status kiln_wasi_config_set_env(kiln_wasi_config *c, const char *name, const char *value) {
  if (!name || !*name || strchr(name, '=') || !value) return KILN_ERR_ARGUMENT;
  size_t name_len = strlen(name), value_len = strlen(value);
  char *entry = malloc(name_len + value_len + 2);
  if (!entry) return KILN_ERR_NOMEM;
  memcpy(entry, name, name_len);
  entry[name_len] = '=';
  memcpy(entry + name_len + 1, value, value_len + 1);
  for (size_t i = 0; i < c->envc; i++) {
    if (strncmp(c->env[i], entry, name_len + 1) == 0) {
      free(c->env[i]);
      c->env[i] = entry;
      return KILN_OK;
    }
  }
  if (c->envc == c->env_cap) {
    size_t cap = c->env_cap ? c->env_cap * 2 : 16;
    char **env = realloc(c->env, cap * sizeof *env);
    if (!env) {
      free(entry);
      return KILN_ERR_NOMEM;
    }
    c->env = env;
    c->env_cap = cap;
  }
  c->env[c->envc++] = entry;
  return KILN_OK;
}

kiln_status kiln_wasi_config_inherit_env(kiln_wasi_config *c) {
  for (char **e = environ; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    if (!eq || eq == *e) continue;
    size_t name_len = (size_t)(eq - *e);
    char name[name_len + 1];
    memcpy(name, *e, name_len);
    name[name_len] = 0;
    kiln_status status = kiln_wasi_config_set_env(c, name, eq + 1);
    if (status != KILN_OK) return status;
  }
  return KILN_OK;
}

static kiln_status add_preopen(kiln_wasi_config *c, preopen p) {
  preopen *list = realloc(c->preopens, (c->preopen_count + 1) * sizeof *list);
  if (!list) return KILN_ERR_NOMEM;
  c->preopens = list;
  list[c->preopen_count++] = p;
  return KILN_OK;
}

static kiln_status config_error(kiln_error *err, kiln_status status, const char *fmt, const char *a,
                                const char *b) {
  if (err) {
    memset(err, 0, sizeof *err);
    err->status = status;
    snprintf(err->message, sizeof err->message, fmt, a, b);
  }
  return status;
}

kiln_status kiln_wasi_config_preopen(kiln_wasi_config *c, const char *host_dir,
                                     const char *guest_path, uint32_t flags, kiln_error *err) {
  if (!host_dir || !*host_dir)
    return config_error(err, KILN_ERR_ARGUMENT, "preopen: empty host directory%s%s", "", "");
  if (!guest_path || !*guest_path) guest_path = host_dir;
  if (flags & ~KILN_WASI_READONLY)
    return config_error(err, KILN_ERR_ARGUMENT, "preopen '%s': unknown flags%s", host_dir, "");
  int fd = open(host_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    kiln_status status = e == ENOENT ? KILN_ERR_NOT_FOUND : KILN_ERR_ARGUMENT;
    return config_error(err, status, "preopen '%s': %s", host_dir, strerror(e));
  }
  preopen p = {.host = fd, .flags = flags, .guest = strdup(guest_path)};
  if (!p.guest || add_preopen(c, p) != KILN_OK) {
    close(fd);
    free(p.guest);
    return config_error(err, KILN_ERR_NOMEM, "preopen '%s': out of memory%s", host_dir, "");
  }
  return KILN_OK;
}

kiln_status kiln_wasi_config_preopen_socket(kiln_wasi_config *c, int host_fd) {
  if (host_fd < 0) return KILN_ERR_ARGUMENT;
  return add_preopen(c, (preopen){.host = host_fd, .is_socket = true});
}

void kiln_wasi_config_set_stdio(kiln_wasi_config *c, int stdin_fd, int stdout_fd, int stderr_fd) {
  c->stdio[0] = stdin_fd;
  c->stdio[1] = stdout_fd;
  c->stdio[2] = stderr_fd;
}

/* ---------------------------------------------------------------- descriptor table */

uint8_t wasi_filetype_of_mode(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
    case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
    case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK: return WASI_FILETYPE_SOCKET_STREAM;
    default: return WASI_FILETYPE_UNKNOWN; /* pipes have no WASI file type */
  }
}

/* The rights a descriptor of this type can have at most. */
static uint64_t rights_for_type(uint8_t filetype, bool *is_dir) {
  *is_dir = filetype == WASI_FILETYPE_DIRECTORY;
  switch (filetype) {
    case WASI_FILETYPE_REGULAR_FILE: return WASI_RIGHTS_REGULAR_FILE;
    case WASI_FILETYPE_DIRECTORY: return WASI_RIGHTS_DIRECTORY;
    case WASI_FILETYPE_SOCKET_STREAM:
    case WASI_FILETYPE_SOCKET_DGRAM: return WASI_RIGHTS_SOCKET;
    default: return WASI_RIGHTS_TTY;
  }
}

uint16_t wasi_fd_get(kiln_wasi *w, uint32_t fd, uint64_t needed, wasi_fd **out) {
  if (fd >= w->fd_count || !w->fds[fd].used) return WASI_EBADF;
  if ((w->fds[fd].rights_base & needed) != needed) return WASI_ENOTCAPABLE;
  *out = &w->fds[fd];
  return 0;
}

uint16_t wasi_fd_insert(kiln_wasi *w, int host, uint8_t filetype, uint64_t base,
                        uint64_t inheriting, bool owned, uint32_t *out) {
  uint32_t slot = 0;
  while (slot < w->fd_count && w->fds[slot].used) slot++;
  if (slot == w->fd_count) {
    if (w->fd_count >= (1u << 20)) return WASI_EMFILE;
    uint32_t count = w->fd_count ? w->fd_count * 2 : 16;
    wasi_fd *fds = realloc(w->fds, count * sizeof *fds);
    if (!fds) return WASI_ENOMEM;
    memset(fds + w->fd_count, 0, (count - w->fd_count) * sizeof *fds);
    w->fds = fds;
    w->fd_count = count;
  }
  w->fds[slot] = (wasi_fd){.used = true, .owned = owned, .filetype = filetype, .host = host,
                           .rights_base = base, .rights_inheriting = inheriting};
  *out = slot;
  return 0;
}

void wasi_fd_release(wasi_fd *f) {
  if (f->dir) closedir(f->dir); /* over its own dup of host */
  if (f->owned && f->host >= 0) close(f->host);
  free(f->preopen_name);
  memset(f, 0, sizeof *f);
}

/* ---------------------------------------------------------------- errno */

uint16_t wasi_errno_from_host(int err) {
  switch (err) {
    case 0: return WASI_ESUCCESS;
    case PATH_ESCAPES: return WASI_ENOTCAPABLE;
    case E2BIG: return WASI_E2BIG;
    case EACCES: return WASI_EACCES;
    case EADDRINUSE: return WASI_EADDRINUSE;
    case EADDRNOTAVAIL: return WASI_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return WASI_EAFNOSUPPORT;
    case EAGAIN: return WASI_EAGAIN;
    case EALREADY: return WASI_EALREADY;
    case EBADF: return WASI_EBADF;
    case EBADMSG: return WASI_EBADMSG;
    case EBUSY: return WASI_EBUSY;
    case ECANCELED: return WASI_ECANCELED;
    case ECHILD: return WASI_ECHILD;
    case ECONNABORTED: return WASI_ECONNABORTED;
    case ECONNREFUSED: return WASI_ECONNREFUSED;
    case ECONNRESET: return WASI_ECONNRESET;
    case EDEADLK: return WASI_EDEADLK;
    case EDESTADDRREQ: return WASI_EDESTADDRREQ;
    case EDOM: return WASI_EDOM;
    case EDQUOT: return WASI_EDQUOT;
    case EEXIST: return WASI_EEXIST;
    case EFAULT: return WASI_EFAULT;
    case EFBIG: return WASI_EFBIG;
    case EHOSTUNREACH: return WASI_EHOSTUNREACH;
    case EIDRM: return WASI_EIDRM;
    case EILSEQ: return WASI_EILSEQ;
    case EINPROGRESS: return WASI_EINPROGRESS;
    case EINTR: return WASI_EINTR;
    case EINVAL: return WASI_EINVAL;
    case EIO: return WASI_EIO;
    case EISCONN: return WASI_EISCONN;
    case EISDIR: return WASI_EISDIR;
    case ELOOP: return WASI_ELOOP;
    case EMFILE: return WASI_EMFILE;
    case EMLINK: return WASI_EMLINK;
    case EMSGSIZE: return WASI_EMSGSIZE;
    case EMULTIHOP: return WASI_EMULTIHOP;
    case ENAMETOOLONG: return WASI_ENAMETOOLONG;
    case ENETDOWN: return WASI_ENETDOWN;
    case ENETRESET: return WASI_ENETRESET;
    case ENETUNREACH: return WASI_ENETUNREACH;
    case ENFILE: return WASI_ENFILE;
    case ENOBUFS: return WASI_ENOBUFS;
    case ENODEV: return WASI_ENODEV;
    case ENOENT: return WASI_ENOENT;
    case ENOEXEC: return WASI_ENOEXEC;
    case ENOLCK: return WASI_ENOLCK;
    case ENOLINK: return WASI_ENOLINK;
    case ENOMEM: return WASI_ENOMEM;
    case ENOMSG: return WASI_ENOMSG;
    case ENOPROTOOPT: return WASI_ENOPROTOOPT;
    case ENOSPC: return WASI_ENOSPC;
    case ENOSYS: return WASI_ENOSYS;
    case ENOTCONN: return WASI_ENOTCONN;
    case ENOTDIR: return WASI_ENOTDIR;
    case ENOTEMPTY: return WASI_ENOTEMPTY;
    case ENOTRECOVERABLE: return WASI_ENOTRECOVERABLE;
    case ENOTSOCK: return WASI_ENOTSOCK;
    case ENOTSUP: return WASI_ENOTSUP;
    case ENOTTY: return WASI_ENOTTY;
    case ENXIO: return WASI_ENXIO;
    case EOVERFLOW: return WASI_EOVERFLOW;
    case EOWNERDEAD: return WASI_EOWNERDEAD;
    case EPERM: return WASI_EPERM;
    case EPIPE: return WASI_EPIPE;
    case EPROTO: return WASI_EPROTO;
    case EPROTONOSUPPORT: return WASI_EPROTONOSUPPORT;
    case EPROTOTYPE: return WASI_EPROTOTYPE;
    case ERANGE: return WASI_ERANGE;
    case EROFS: return WASI_EROFS;
    case ESPIPE: return WASI_ESPIPE;
    case ESRCH: return WASI_ESRCH;
    case ESTALE: return WASI_ESTALE;
    case ETIMEDOUT: return WASI_ETIMEDOUT;
    case ETXTBSY: return WASI_ETXTBSY;
    case EXDEV: return WASI_EXDEV;
    default: return WASI_EIO;
  }
}

/* ---------------------------------------------------------------- args and environment */

/* Write count NUL-terminated strings (blob, size bytes) as a pointer array at ptrs and
 * the strings at buf. */
static uint16_t put_strings(wasi_call *c, const char *blob, size_t size, uint32_t count) {
  uint32_t ptrs = arg_u32(c, 0), buf = arg_u32(c, 1);
  if (!mem_ok(&c->mem, ptrs, (uint64_t)count * 4) || !mem_ok(&c->mem, buf, size)) return WASI_EFAULT;
  memcpy(c->mem.base + buf, blob, size);
  size_t at = 0;
  for (uint32_t i = 0; i < count; i++) {
    put_u32(&c->mem, ptrs + 4 * i, buf + (uint32_t)at);
    at += strlen(blob + at) + 1;
  }
  return 0;
}

static uint16_t put_sizes(wasi_call *c, uint32_t count, size_t size) {
  uint32_t count_ptr = arg_u32(c, 0), size_ptr = arg_u32(c, 1);
  if (!mem_ok(&c->mem, count_ptr, 4) || !mem_ok(&c->mem, size_ptr, 4)) return WASI_EFAULT;
  put_u32(&c->mem, count_ptr, count);
  put_u32(&c->mem, size_ptr, (uint32_t)size);
  return 0;
}

static uint16_t wasi_args_get(wasi_call *c) {
  return put_strings(c, c->wasi->args, c->wasi->args_size, c->wasi->argc);
}
static uint16_t wasi_args_sizes_get(wasi_call *c) {
  return put_sizes(c, c->wasi->argc, c->wasi->args_size);
}
static uint16_t wasi_environ_get(wasi_call *c) {
  return put_strings(c, c->wasi->env, c->wasi->env_size, c->wasi->envc);
}
static uint16_t wasi_environ_sizes_get(wasi_call *c) {
  return put_sizes(c, c->wasi->envc, c->wasi->env_size);
}

/* ---------------------------------------------------------------- clocks and random */

static bool host_clock(uint32_t id, clockid_t *out) {
  switch (id) {
    case WASI_CLOCK_REALTIME: *out = CLOCK_REALTIME; return true;
    case WASI_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
    case WASI_CLOCK_PROCESS_CPUTIME: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case WASI_CLOCK_THREAD_CPUTIME: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
  }
}

static uint64_t timespec_ns(struct timespec ts) {
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return timespec_ns(ts);
}

static uint16_t wasi_clock_res_get(wasi_call *c) {
  clockid_t clock;
  uint32_t out = arg_u32(c, 1);
  if (!host_clock(arg_u32(c, 0), &clock)) return WASI_EINVAL;
  if (!mem_ok(&c->mem, out, 8)) return WASI_EFAULT;
  struct timespec ts;
  if (clock_getres(clock, &ts) != 0) return wasi_errno_from_host(errno);
  put_u64(&c->mem, out, timespec_ns(ts));
  return 0;
}

static uint16_t wasi_clock_time_get(wasi_call *c) {
  clockid_t clock;
  uint32_t out = arg_u32(c, 2);
  if (!host_clock(arg_u32(c, 0), &clock)) return WASI_EINVAL;
  if (!mem_ok(&c->mem, out, 8)) return WASI_EFAULT;
  put_u64(&c->mem, out, now_ns(clock));
  return 0;
}

static uint16_t wasi_random_get(wasi_call *c) {
  uint32_t buf = arg_u32(c, 0), len = arg_u32(c, 1);
  if (!mem_ok(&c->mem, buf, len)) return WASI_EFAULT;
  for (uint32_t done = 0; done < len;) {
    ssize_t n = getrandom(c->mem.base + buf + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return wasi_errno_from_host(errno);
    }
    done += (uint32_t)n;
  }
  return 0;
}

/* ---------------------------------------------------------------- process */

static uint16_t wasi_proc_exit(wasi_call *c) { (void)c; return 0; /* handled by the dispatcher */ }
static uint16_t wasi_proc_raise(wasi_call *c) { (void)c; return WASI_ENOSYS; }
static uint16_t wasi_sched_yield(wasi_call *c) { (void)c; sched_yield(); return 0; }

/* ---------------------------------------------------------------- poll */

/* Blocking waits are cut into slices so that kiln_store_interrupt() (a timeout) can end
 * them: after each slice the store's interrupt flag is checked. */
enum { WAIT_SLICE_NS = 10 * 1000 * 1000 };

/* Poll fds until one is ready or the monotonic deadline passes (UINT64_MAX: none).
 * Returns the number ready (0 at the deadline), -1 with errno, or -2 when interrupted. */
static int poll_interruptible(wasi_call *c, struct pollfd *fds, nfds_t n, uint64_t deadline) {
  kiln_store *store = c->wasi->store;
  for (;;) {
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    uint64_t wait = deadline == UINT64_MAX ? WAIT_SLICE_NS : (deadline > now ? deadline - now : 0);
    if (wait > WAIT_SLICE_NS) wait = WAIT_SLICE_NS;
    struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000u), .tv_nsec = (long)(wait % 1000000000u)};
    int ready = ppoll(fds, n, &ts, NULL);
    if (ready < 0 && errno != EINTR) return -1;
    if (ready > 0) return ready;
    if (kiln_store_interrupt_pending(store)) return -2;
    if (deadline != UINT64_MAX && now_ns(CLOCK_MONOTONIC) >= deadline) return 0;
  }
}

uint16_t wasi_wait_readable(wasi_call *c, int host) {
  struct pollfd p = {.fd = host, .events = POLLIN};
  int ready = poll_interruptible(c, &p, 1, UINT64_MAX);
  if (ready == -2) return WASI_EINTR;
  if (ready < 0) return wasi_errno_from_host(errno);
  return 0;
}

static void put_event(wasi_call *c, uint32_t at, uint64_t userdata, uint16_t error, uint8_t type,
                      uint64_t nbytes, uint16_t flags) {
  memset(c->mem.base + at, 0, WASI_EVENT_SIZE);
  put_u64(&c->mem, at, userdata);
  put_u16(&c->mem, at + 8, error);
  put_u8(&c->mem, at + 10, type);
  put_u64(&c->mem, at + 16, nbytes);
  put_u16(&c->mem, at + 24, flags);
}

static uint16_t wasi_poll_oneoff(wasi_call *c) {
  uint32_t in = arg_u32(c, 0), out = arg_u32(c, 1), n = arg_u32(c, 2), nevents_ptr = arg_u32(c, 3);
  if (n == 0) return WASI_EINVAL;
  if (!mem_ok(&c->mem, in, (uint64_t)n * WASI_SUBSCRIPTION_SIZE) ||
      !mem_ok(&c->mem, out, (uint64_t)n * WASI_EVENT_SIZE) || !mem_ok(&c->mem, nevents_ptr, 4))
    return WASI_EFAULT;
  struct pollfd *fds = calloc(n, sizeof *fds);
  uint64_t *deadlines = calloc(n, sizeof *deadlines);
  uint8_t *kind = calloc(n, 1); /* 0 clock, 1 fd to poll, 2 immediate event */
  uint16_t *immediate = calloc(n, sizeof *immediate);
  if (!fds || !deadlines || !kind || !immediate) {
    free(fds), free(deadlines), free(kind), free(immediate);
    return WASI_ENOMEM;
  }
  uint64_t earliest = UINT64_MAX, mono = now_ns(CLOCK_MONOTONIC);
  bool any_immediate = false;
  uint16_t result = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t s = in + i * WASI_SUBSCRIPTION_SIZE;
    uint8_t tag = c->mem.base[s + 8];
    fds[i].fd = -1;
    if (tag == WASI_EVENTTYPE_CLOCK) {
      uint32_t id = get_u32(&c->mem, s + 16);
      uint64_t timeout = get_u64(&c->mem, s + 24);
      bool absolute = get_u16(&c->mem, s + 40) & WASI_SUBCLOCK_ABSTIME;
      clockid_t clock;
      if (!host_clock(id, &clock)) {
        result = WASI_EINVAL; /* as wasmtime: an unknown clock fails the whole call */
        break;
      }
      uint64_t deadline;
      if (!absolute) {
        deadline = timeout > UINT64_MAX - mono ? UINT64_MAX - 1 : mono + timeout;
      } else {
        uint64_t now = now_ns(clock);
        uint64_t left = timeout > now ? timeout - now : 0;
        deadline = left > UINT64_MAX - mono ? UINT64_MAX - 1 : mono + left;
      }
      kind[i] = 0;
      deadlines[i] = deadline;
      if (deadline < earliest) earliest = deadline;
    } else if (tag == WASI_EVENTTYPE_FD_READ || tag == WASI_EVENTTYPE_FD_WRITE) {
      wasi_fd *f;
      uint16_t e = wasi_fd_get(c->wasi, get_u32(&c->mem, s + 16), WASI_RIGHT_POLL_FD_READWRITE, &f);
      if (e) {
        kind[i] = 2, immediate[i] = e, any_immediate = true;
      } else if (f->filetype == WASI_FILETYPE_REGULAR_FILE || f->filetype == WASI_FILETYPE_DIRECTORY) {
        kind[i] = 2, immediate[i] = 0, any_immediate = true; /* files are always ready */
        fds[i].fd = f->host;
      } else {
        kind[i] = 1;
        fds[i].fd = f->host;
        fds[i].events = tag == WASI_EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
      }
    } else {
      result = WASI_EINVAL; /* an unknown subscription type */
      break;
    }
  }
  if (result) {
    free(fds), free(deadlines), free(kind), free(immediate);
    return result;
  }
  /* Poll only the real fds (others are -1 and ignored by poll). */
  int ready = poll_interruptible(c, fds, n, any_immediate ? mono : earliest);
  if (ready == -2) {
    result = WASI_EINTR;
  } else if (ready == -1) {
    result = wasi_errno_from_host(errno);
  } else {
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    uint32_t events = 0;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t s = in + i * WASI_SUBSCRIPTION_SIZE;
      uint64_t userdata = get_u64(&c->mem, s);
      uint8_t tag = c->mem.base[s + 8];
      uint32_t at = out + events * WASI_EVENT_SIZE;
      if (kind[i] == 0) {
        if (now >= deadlines[i]) put_event(c, at, userdata, 0, WASI_EVENTTYPE_CLOCK, 0, 0), events++;
      } else if (kind[i] == 2) {
        uint64_t nbytes = 0;
        if (!immediate[i] && fds[i].fd >= 0 && tag == WASI_EVENTTYPE_FD_READ) {
          struct stat st;
          off_t pos = lseek(fds[i].fd, 0, SEEK_CUR);
          if (fstat(fds[i].fd, &st) == 0 && pos >= 0 && st.st_size > pos)
            nbytes = (uint64_t)(st.st_size - pos);
        }
        put_event(c, at, userdata, immediate[i], tag, nbytes, 0), events++;
      } else if (fds[i].revents) {
        uint16_t error = 0, flags = 0;
        uint64_t nbytes = 0;
        if (fds[i].revents & POLLNVAL) error = WASI_EBADF;
        else if (fds[i].revents & POLLERR) error = WASI_EIO;
        if (fds[i].revents & POLLHUP) flags |= WASI_EVENTRW_HANGUP;
        if (tag == WASI_EVENTTYPE_FD_READ) {
          int avail = 0;
          if (ioctl(fds[i].fd, FIONREAD, &avail) == 0 && avail > 0) nbytes = (uint64_t)avail;
        }
        put_event(c, at, userdata, error, tag, nbytes, flags), events++;
      }
    }
    put_u32(&c->mem, nevents_ptr, events);
  }
  free(fds), free(deadlines), free(kind), free(immediate);
  return result;
}

/* ---------------------------------------------------------------- sockets */

/* The socket descriptor fd, checked for type before rights (so that a file gives ENOTSOCK). */
static uint16_t socket_fd(wasi_call *c, uint32_t fd, uint64_t needed, wasi_fd **out) {
  uint16_t e = wasi_fd_get(c->wasi, fd, 0, out);
  if (e) return e;
  if ((*out)->filetype != WASI_FILETYPE_SOCKET_STREAM && (*out)->filetype != WASI_FILETYPE_SOCKET_DGRAM)
    return WASI_ENOTSOCK;
  return wasi_fd_get(c->wasi, fd, needed, out);
}

static uint16_t wasi_sock_accept(wasi_call *c) {
  uint32_t flags = arg_u32(c, 1), out = arg_u32(c, 2);
  wasi_fd *f;
  uint16_t e = socket_fd(c, arg_u32(c, 0), WASI_RIGHT_SOCK_ACCEPT, &f);
  if (e) return e;
  if (flags & ~WASI_FDFLAG_NONBLOCK) return WASI_EINVAL;
  if (!mem_ok(&c->mem, out, 4)) return WASI_EFAULT;
  int host = accept4(f->host, NULL, NULL, SOCK_CLOEXEC | (flags ? SOCK_NONBLOCK : 0));
  if (host < 0) return wasi_errno_from_host(errno);
  uint32_t fd;
  e = wasi_fd_insert(c->wasi, host, WASI_FILETYPE_SOCKET_STREAM, WASI_RIGHTS_SOCKET & ~WASI_RIGHT_SOCK_ACCEPT,
                     0, true, &fd);
  if (e) {
    close(host);
    return e;
  }
  put_u32(&c->mem, out, fd);
  return 0;
}

static uint16_t wasi_sock_recv(wasi_call *c) {
  uint32_t flags = arg_u32(c, 3), len_ptr = arg_u32(c, 4), oflags_ptr = arg_u32(c, 5);
  wasi_fd *f;
  uint16_t e = socket_fd(c, arg_u32(c, 0), WASI_RIGHT_FD_READ, &f);
  if (e) return e;
  if (flags & ~(WASI_RIFLAG_RECV_PEEK | WASI_RIFLAG_RECV_WAITALL)) return WASI_EINVAL;
  if (!mem_ok(&c->mem, len_ptr, 4) || !mem_ok(&c->mem, oflags_ptr, 2)) return WASI_EFAULT;
  struct iovec iov[IOV_MAX];
  struct msghdr msg = {.msg_iov = iov};
  int n;
  if ((e = wasi_iovecs(c, arg_u32(c, 1), arg_u32(c, 2), iov, &n))) return e;
  msg.msg_iovlen = (size_t)n;
  int host_flags = ((flags & WASI_RIFLAG_RECV_PEEK) ? MSG_PEEK : 0) |
                   ((flags & WASI_RIFLAG_RECV_WAITALL) ? MSG_WAITALL : 0);
  ssize_t got = recvmsg(f->host, &msg, host_flags);
  if (got < 0) return wasi_errno_from_host(errno);
  put_u32(&c->mem, len_ptr, (uint32_t)got);
  put_u16(&c->mem, oflags_ptr, (msg.msg_flags & MSG_TRUNC) ? WASI_ROFLAG_RECV_DATA_TRUNCATED : 0);
  return 0;
}

static uint16_t wasi_sock_send(wasi_call *c) {
  uint32_t flags = arg_u32(c, 3), len_ptr = arg_u32(c, 4);
  wasi_fd *f;
  uint16_t e = socket_fd(c, arg_u32(c, 0), WASI_RIGHT_FD_WRITE, &f);
  if (e) return e;
  if (flags) return WASI_EINVAL;
  if (!mem_ok(&c->mem, len_ptr, 4)) return WASI_EFAULT;
  struct iovec iov[IOV_MAX];
  struct msghdr msg = {.msg_iov = iov};
  int n;
  if ((e = wasi_iovecs(c, arg_u32(c, 1), arg_u32(c, 2), iov, &n))) return e;
  msg.msg_iovlen = (size_t)n;
  ssize_t sent = sendmsg(f->host, &msg, MSG_NOSIGNAL);
  if (sent < 0) return wasi_errno_from_host(errno);
  put_u32(&c->mem, len_ptr, (uint32_t)sent);
  return 0;
}

static uint16_t wasi_sock_shutdown(wasi_call *c) {
  uint32_t how = arg_u32(c, 1);
  wasi_fd *f;
  uint16_t e = socket_fd(c, arg_u32(c, 0), WASI_RIGHT_SOCK_SHUTDOWN, &f);
  if (e) return e;
  int host_how;
  switch (how) {
    case WASI_SDFLAG_RD: host_how = SHUT_RD; break;
    case WASI_SDFLAG_WR: host_how = SHUT_WR; break;
    case WASI_SDFLAG_RD | WASI_SDFLAG_WR: host_how = SHUT_RDWR; break;
    default: return WASI_EINVAL;
  }
  return shutdown(f->host, host_how) == 0 ? 0 : wasi_errno_from_host(errno);
}

/* ---------------------------------------------------------------- the function table */

/* Every function of wasi_snapshot_preview1: its name, its parameters ('i' i32, 'I' i64)
 * and its implementation. All return an errno (i32) except proc_exit. */
typedef struct wasi_def {
  const char *name;
  const char *params;
  uint16_t (*impl)(wasi_call *);
} wasi_def;

static const wasi_def wasi_defs[] = {
    {"args_get", "ii", wasi_args_get},
    {"args_sizes_get", "ii", wasi_args_sizes_get},
    {"environ_get", "ii", wasi_environ_get},
    {"environ_sizes_get", "ii", wasi_environ_sizes_get},
    {"clock_res_get", "ii", wasi_clock_res_get},
    {"clock_time_get", "iIi", wasi_clock_time_get},
    {"fd_advise", "iIIi", wasi_fd_advise},
    {"fd_allocate", "iII", wasi_fd_allocate},
    {"fd_close", "i", wasi_fd_close},
    {"fd_datasync", "i", wasi_fd_datasync},
    {"fd_fdstat_get", "ii", wasi_fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", wasi_fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", wasi_fd_fdstat_set_rights},
    {"fd_filestat_get", "ii", wasi_fd_filestat_get},
    {"fd_filestat_set_size", "iI", wasi_fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi", wasi_fd_filestat_set_times},
    {"fd_pread", "iiiIi", wasi_fd_pread},
    {"fd_prestat_get", "ii", wasi_fd_prestat_get},
    {"fd_prestat_dir_name", "iii", wasi_fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi", wasi_fd_pwrite},
    {"fd_read", "iiii", wasi_fd_read},
    {"fd_readdir", "iiiIi", wasi_fd_readdir},
    {"fd_renumber", "ii", wasi_fd_renumber},
    {"fd_seek", "iIii", wasi_fd_seek},
    {"fd_sync", "i", wasi_fd_sync},
    {"fd_tell", "ii", wasi_fd_tell},
    {"fd_write", "iiii", wasi_fd_write},
    {"path_create_directory", "iii", wasi_path_create_directory},
    {"path_filestat_get", "iiiii", wasi_path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi", wasi_path_filestat_set_times},
    {"path_link", "iiiiiii", wasi_path_link},
    {"path_open", "iiiiiIIii", wasi_path_open},
    {"path_readlink", "iiiiii", wasi_path_readlink},
    {"path_remove_directory", "iii", wasi_path_remove_directory},
    {"path_rename", "iiiiii", wasi_path_rename},
    {"path_symlink", "iiiii", wasi_path_symlink},
    {"path_unlink_file", "iii", wasi_path_unlink_file},
    {"poll_oneoff", "iiii", wasi_poll_oneoff},
    {"proc_exit", "i", wasi_proc_exit},
    {"proc_raise", "i", wasi_proc_raise},
    {"sched_yield", "", wasi_sched_yield},
    {"random_get", "ii", wasi_random_get},
    {"sock_accept", "iii", wasi_sock_accept},
    {"sock_recv", "iiiiii", wasi_sock_recv},
    {"sock_send", "iiiii", wasi_sock_send},
    {"sock_shutdown", "ii", wasi_sock_shutdown},
};
enum { WASI_DEF_COUNT = sizeof wasi_defs / sizeof wasi_defs[0] };

static const kiln_valtype errno_result[1] = {KILN_I32};

/* A def's parameter types, in a static array per def (built once, read-only after). */
static kiln_functype def_type(const wasi_def *d, kiln_valtype *params) {
  uint32_t n = (uint32_t)strlen(d->params);
  for (uint32_t i = 0; i < n; i++) params[i] = d->params[i] == 'I' ? KILN_I64 : KILN_I32;
  kiln_functype t = {.params = params, .param_count = n, .results = errno_result, .result_count = 1};
  if (d->impl == wasi_proc_exit) t.result_count = 0;
  return t;
}

static bool types_equal(kiln_functype a, kiln_functype b) {
  if (a.param_count != b.param_count || a.result_count != b.result_count) return false;
  for (uint32_t i = 0; i < a.param_count; i++)
    if (a.params[i] != b.params[i]) return false;
  for (uint32_t i = 0; i < a.result_count; i++)
    if (a.results[i] != b.results[i]) return false;
  return true;
}

typedef struct wasi_binding {
  kiln_wasi *wasi;
  const wasi_def *def;
} wasi_binding;

static kiln_status wasi_dispatch(kiln_caller *caller, void *user, const kiln_val *args,
                                 kiln_val *results) {
  wasi_binding *b = user;
  if (b->def->impl == wasi_proc_exit) return kiln_caller_exit(caller, args[0].of.i32);
  wasi_call c = {.wasi = b->wasi, .caller = caller, .args = args};
  kiln_memory *memory = kiln_caller_memory(caller);
  if (memory) {
    c.mem.base = kiln_memory_data(memory);
    c.mem.size = kiln_memory_size(memory);
  }
  results[0] = kiln_val_i32(b->def->impl(&c));
  return KILN_OK;
}

/* ---------------------------------------------------------------- the context */

static void wasi_free(void *user) {
  kiln_wasi *w = user;
  for (uint32_t i = 0; i < w->fd_count; i++)
    if (w->fds[i].used) wasi_fd_release(&w->fds[i]);
  free(w->fds);
  free(w->args);
  free(w->env);
  free(w->imports);
  free(w->funcs);
  free(w);
}

/* Join strings into one NUL-separated blob. */
static char *join_strings(char *const *list, size_t n, size_t *size) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += strlen(list[i]) + 1;
  char *blob = malloc(total ? total : 1);
  if (!blob) return NULL;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(list[i]) + 1;
    memcpy(blob + at, list[i], len);
    at += len;
  }
  *size = total;
  return blob;
}

static uint16_t add_stdio(kiln_wasi *w, int host, uint32_t expected) {
  bool owned = false;
  if (host < 0) {
    host = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (host < 0) return wasi_errno_from_host(errno);
    owned = true;
  }
  struct stat st;
  uint8_t type = fstat(host, &st) == 0 ? wasi_filetype_of_mode(st.st_mode) : WASI_FILETYPE_UNKNOWN;
  bool is_dir;
  uint64_t rights = rights_for_type(type, &is_dir);
  uint32_t fd;
  uint16_t e = wasi_fd_insert(w, host, type, rights, 0, owned, &fd);
  if (e && owned) close(host);
  (void)expected;
  return e;
}

kiln_status kiln_wasi_new(kiln_store *store, const kiln_wasi_config *config, kiln_wasi **out,
                          kiln_error *err) {
  *out = NULL;
  kiln_wasi *w = calloc(1, sizeof *w);
  if (!w) return config_error(err, KILN_ERR_NOMEM, "WASI: out of memory%s%s", "", "");
  w->store = store;
  w->funcs = calloc(WASI_DEF_COUNT, sizeof *w->funcs);
  w->args = join_strings(config->args, config->argc, &w->args_size);
  w->env = join_strings(config->env, config->envc, &w->env_size);
  w->argc = (uint32_t)config->argc;
  w->envc = (uint32_t)config->envc;
  bool ok = w->funcs && w->args && w->env;
  for (int i = 0; ok && i < 3; i++) ok = add_stdio(w, config->stdio[i], (uint32_t)i) == 0;
  for (size_t i = 0; ok && i < config->preopen_count; i++) {
    const preopen *p = &config->preopens[i];
    uint32_t fd;
    if (p->is_socket) {
      ok = wasi_fd_insert(w, p->host, WASI_FILETYPE_SOCKET_STREAM, WASI_RIGHTS_SOCKET, 0, false, &fd) == 0;
      continue;
    }
    int host = fcntl(p->host, F_DUPFD_CLOEXEC, 0);
    if (host < 0) {
      ok = false;
      break;
    }
    /* A read-only preopen keeps writing rights among those it passes on, so that a guest's
     * libc (which asks only for rights it may inherit) asks for them and path_open refuses
     * the open itself, not the first write. */
    uint64_t base = WASI_RIGHTS_DIRECTORY, inheriting = WASI_RIGHTS_DIRECTORY | WASI_RIGHTS_REGULAR_FILE;
    bool readonly = p->flags & KILN_WASI_READONLY;
    if (readonly) base &= ~WASI_RIGHTS_WRITING;
    ok = wasi_fd_insert(w, host, WASI_FILETYPE_DIRECTORY, base, inheriting, true, &fd) == 0;
    if (!ok) {
      close(host);
      break;
    }
    w->fds[fd].readonly = readonly;
    w->fds[fd].preopen_name = strdup(p->guest);
    ok = w->fds[fd].preopen_name != NULL;
  }
  /* The context lives as long as the store: a hidden host function's finalizer frees it. */
  kiln_functype anchor_type = {0};
  if (!ok || !kiln_func_new(store, &anchor_type, wasi_dispatch, w, wasi_free)) {
    wasi_free(w);
    return config_error(err, KILN_ERR_NOMEM, "WASI: cannot set up the context: %s%s",
                        strerror(errno ? errno : ENOMEM), "");
  }
  *out = w;
  return KILN_OK;
}

kiln_status kiln_wasi_imports(kiln_wasi *w, const kiln_module *module, const kiln_import **imports,
                              size_t *count) {
  uint32_t n = kiln_module_import_count(module);
  kiln_import *list = realloc(w->imports, (n ? n : 1) * sizeof *list);
  if (!list) return KILN_ERR_NOMEM;
  w->imports = list;
  size_t found = 0;
  for (uint32_t i = 0; i < n; i++) {
    const char *module_name, *field;
    kiln_externtype type;
    if (kiln_module_import(module, i, &module_name, &field, &type) != KILN_OK) continue;
    if (type.kind != KILN_EXTERN_FUNC || strcmp(module_name, "wasi_snapshot_preview1") != 0) continue;
    for (uint32_t d = 0; d < WASI_DEF_COUNT; d++) {
      if (strcmp(wasi_defs[d].name, field) != 0) continue;
      kiln_valtype params[16];
      kiln_functype want = def_type(&wasi_defs[d], params);
      if (!types_equal(want, type.func)) break; /* instantiation reports the type mismatch */
      if (!w->funcs[d]) {
        wasi_binding *b = malloc(sizeof *b);
        if (!b) return KILN_ERR_NOMEM;
        *b = (wasi_binding){.wasi = w, .def = &wasi_defs[d]};
        w->funcs[d] = kiln_func_new(w->store, &want, wasi_dispatch, b, free);
        if (!w->funcs[d]) {
          free(b);
          return KILN_ERR_NOMEM;
        }
      }
      list[found++] = (kiln_import){.module = module_name, .name = field,
                                    .value = {.kind = KILN_EXTERN_FUNC, .of.func = w->funcs[d]}};
      break;
    }
  }
  *imports = list;
  *count = found;
  return KILN_OK;
}

kiln_status kiln_wasi_run(kiln_wasi *w, kiln_instance *instance, int32_t *exit_code, kiln_error *err) {
  (void)w;
  *exit_code = 0;
  kiln_extern start;
  if (kiln_instance_export(instance, "_start", &start) != KILN_OK || start.kind != KILN_EXTERN_FUNC)
    return config_error(err, KILN_ERR_NOT_FOUND, "the module has no \"_start\" function to run "
                        "(it is not a WASI command)%s%s", "", "");
  kiln_functype type = kiln_func_type(start.of.func);
  if (type.param_count || type.result_count)
    return config_error(err, KILN_ERR_ARGUMENT, "\"_start\" must take and return nothing%s%s", "", "");
  kiln_error local;
  if (!err) err = &local;
  kiln_status status = kiln_func_call(w->store, start.of.func, NULL, 0, NULL, 0, err);
  if (status == KILN_ERR_TRAP && err->trap == KILN_TRAP_EXIT) {
    *exit_code = err->exit_code;
    return KILN_OK;
  }
  return status;
}
