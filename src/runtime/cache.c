/* cache.c - the files of the compiled-code cache (cache.h): finding and making its directory,
 * reading an entry, and replacing one atomically (temporary file, fsync, rename). A directory
 * or an entry that another user could have written is not used: entries are native code. */
#define _GNU_SOURCE
#include "runtime/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Entries larger than this are not read (no module's code comes close). */
#define CACHE_ENTRY_MAX ((size_t)1 << 31)

char *cache_default_dir(void) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  char *dir = NULL;
  if (xdg && xdg[0] == '/') {
    if (asprintf(&dir, "%s/kiln", xdg) < 0) dir = NULL;
  } else if (home && home[0]) {
    if (asprintf(&dir, "%s/.cache/kiln", home) < 0) dir = NULL;
  }
  return dir;
}

/* Whether st (a directory or an entry) is ours alone to write. */
static bool trusted(const struct stat *st) { return st->st_uid == geteuid() && !(st->st_mode & S_IWOTH); }

static bool dir_usable(const char *dir, char *note, size_t note_size) {
  struct stat st;
  if (stat(dir, &st) != 0) {
    snprintf(note, note_size, "cache directory '%s': %s", dir, strerror(errno));
    return false;
  }
  if (!S_ISDIR(st.st_mode) || !trusted(&st)) {
    snprintf(note, note_size, "cache directory '%s' not used: %s", dir,
             !S_ISDIR(st.st_mode)      ? "not a directory"
             : st.st_uid != geteuid() ? "another user owns it"
                                      : "another user can write to it");
    return false;
  }
  return true;
}

/* mkdir -p dir, the new directories private to the user. */
static bool make_dirs(const char *dir, char *note, size_t note_size) {
  char *path = strdup(dir);
  if (!path) {
    snprintf(note, note_size, "out of memory");
    return false;
  }
  bool ok = true;
  for (char *p = path + 1; ok; p++) {
    if (*p != '/' && *p) continue;
    char saved = *p;
    *p = 0;
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
      snprintf(note, note_size, "cannot create cache directory '%s': %s", path, strerror(errno));
      ok = false;
    }
    *p = saved;
    if (!saved) break;
  }
  free(path);
  return ok;
}

bool cache_read(const char *dir, const char *name, uint8_t **bytes, size_t *size, char *note, size_t note_size) {
  char path[4096];
  *bytes = NULL;
  *size = 0;
  note[0] = 0;
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
    snprintf(note, note_size, "cache directory path too long");
    return false;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) snprintf(note, note_size, "no entry");
    else snprintf(note, note_size, "cannot read cache entry '%s': %s", path, strerror(errno));
    return false;
  }
  struct stat st;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && trusted(&st) && (uint64_t)st.st_size < CACHE_ENTRY_MAX &&
            dir_usable(dir, note, note_size);
  if (!ok && !note[0]) snprintf(note, note_size, "cache entry '%s' not used: not a regular file of ours", path);
  uint8_t *buf = ok ? malloc(st.st_size ? (size_t)st.st_size : 1) : NULL;
  if (ok && !buf) {
    snprintf(note, note_size, "out of memory reading the cache");
    ok = false;
  }
  size_t got = 0;
  while (ok && got < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  if (!ok) {
    free(buf);
    return false;
  }
  *bytes = buf;
  *size = got; /* shorter than st_size if it shrank: the artifact's own size field tells */
  return true;
}

static bool write_all(int fd, const uint8_t *bytes, size_t size) {
  while (size) {
    ssize_t n = write(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes += n;
    size -= (size_t)n;
  }
  return true;
}

/* Remove what writers that died left behind: temporary files (".NAME.XXXXXX") older than
 * CACHE_STALE_SECONDS, far longer than any write takes, so that no live writer loses its file. */
#define CACHE_STALE_SECONDS 3600
static void remove_stale_temporaries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  time_t now = time(NULL);
  for (struct dirent *e; (e = readdir(d));) {
    const char *n = e->d_name, *x = strrchr(n, '.');
    struct stat st;
    if (n[0] != '.' || !strstr(n, CACHE_ENTRY_SUFFIX ".") || !x || strlen(x) != 7) continue;
    if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        now - st.st_mtime > CACHE_STALE_SECONDS)
      unlinkat(dirfd(d), n, 0);
  }
  closedir(d);
}

bool cache_write(const char *dir, const char *name, const uint8_t *bytes, size_t size, bool durable, char *note,
                 size_t note_size) {
  char path[4096], temp[4096];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
      snprintf(temp, sizeof temp, "%s/.%s.XXXXXX", dir, name) >= (int)sizeof temp) {
    snprintf(note, note_size, "cache directory path too long");
    return false;
  }
  if (!make_dirs(dir, note, note_size) || !dir_usable(dir, note, note_size)) return false;
  int fd = mkostemp(temp, O_CLOEXEC);
  if (fd < 0) {
    snprintf(note, note_size, "cannot write to cache directory '%s': %s", dir, strerror(errno));
    return false;
  }
  bool ok = write_all(fd, bytes, size) && (!durable || fsync(fd) == 0);
  int saved = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok && rename(temp, path) != 0) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    unlink(temp);
    snprintf(note, note_size, "cannot write cache entry '%s': %s", path, strerror(saved));
    return false;
  }
  if (!durable) return true;
  /* make the rename itself durable */
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  remove_stale_temporaries(dir);
  return true;
}
