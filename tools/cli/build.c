/* build.c - `kiln build PATH`: one command from guest sources to a module and its JavaScript
 * glue. A Rust crate (a directory with Cargo.toml) is built with cargo for
 * wasm32-unknown-unknown: the user's toolchain when it has that target, else Debian's,
 * offline against Debian's packaged crates when they are installed;
 * C (a .c file, or a directory of them) with clang for wasm32-wasi as a reactor, seeing
 * include/kiln/guest.h. Then the module goes through `kiln bindgen`. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

#define DEBIAN_REGISTRY "/usr/share/cargo/registry"

/* A growable argv. */
typedef struct args {
  char **v;
  size_t count, cap;
  bool oom;
} args;

static void arg(args *a, const char *s) {
  if (a->count + 2 > a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 32;
    char **bigger = realloc(a->v, cap * sizeof *bigger);
    if (!bigger) {
      a->oom = true;
      return;
    }
    a->v = bigger;
    a->cap = cap;
  }
  char *copy = strdup(s);
  if (!copy) a->oom = true;
  else a->v[a->count++] = copy;
  a->v[a->count] = NULL;
}

static void args_free(args *a) {
  for (size_t i = 0; i < a->count; i++) free(a->v[i]);
  free(a->v);
}

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_executable(const char *path) { return access(path, X_OK) == 0 && is_file(path); }

/* The first of names found on PATH (or given with a slash), or NULL. */
static const char *find_program(const char *const *names, char *buf, size_t size) {
  for (; *names; names++) {
    if (strchr(*names, '/')) {
      if (is_executable(*names)) return *names;
      continue;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    while (*path) {
      const char *colon = strchr(path, ':');
      size_t n = colon ? (size_t)(colon - path) : strlen(path);
      snprintf(buf, size, "%.*s/%s", (int)n, path, *names);
      if (n && is_executable(buf)) return buf;
      path += n + (colon ? 1 : 0);
    }
  }
  return NULL;
}

/* Run argv (with the variables of env set, NAME=VALUE); its output goes to kiln's. */
static bool run(args *a, const char *const *env) {
  fputs("kiln:", stderr);
  for (const char *const *e = env; e && *e; e++) fprintf(stderr, " %s", *e);
  for (size_t i = 0; i < a->count; i++) fprintf(stderr, " %s", a->v[i]);
  fputc('\n', stderr);
  for (const char *const *e = env; e && *e; e++) putenv((char *)*e);
  pid_t pid;
  int rc = posix_spawnp(&pid, a->v[0], NULL, NULL, a->v, environ);
  if (rc != 0) {
    cli_error("cannot run '%s': %s", a->v[0], strerror(rc));
    return false;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      cli_error("waiting for '%s': %s", a->v[0], strerror(errno));
      return false;
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  if (WIFEXITED(status)) cli_error("%s failed (exit status %d)", a->v[0], WEXITSTATUS(status));
  else cli_error("%s was killed by signal %d", a->v[0], WTERMSIG(status));
  return false;
}

/* Run argv quietly and capture the first size-1 bytes of its standard output into out;
 * whether it ran and exited 0. stderr is discarded. */
static bool capture(const char *const *argv, char *out, size_t size) {
  int fds[2];
  out[0] = 0;
  if (pipe(fds) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return false;
  }
  size_t used = 0;
  char sink[4096];
  for (;;) { /* read all of it, keeping the start */
    char *to = used + 1 < size ? out + used : sink;
    size_t room = used + 1 < size ? size - 1 - used : sizeof sink;
    ssize_t n = read(fds[0], to, room);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (to != sink) used += (size_t)n;
  }
  out[used] = 0;
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The Rust toolchain kiln build uses: the user's (KILN_CARGO, or a cargo on PATH that is not
 * Debian's, such as rustup's, whose rustc has the target's standard library), else Debian's
 * /usr/bin/cargo with /usr/bin/rustc and, when installed, its packaged crates offline. */
typedef struct toolchain {
  char cargo[PATH_MAX];
  char rustc[PATH_MAX]; /* RUSTC for cargo; empty: cargo's own choice */
  bool debian;
  char what[PATH_MAX + 200]; /* which one, and why, for the user */
} toolchain;

/* Whether rustc has the standard library for target: its sysroot's lib/rustlib/TARGET/lib. */
static bool rustc_has_target(const char *rustc, const char *target) {
  const char *argv[] = {rustc, "--print", "sysroot", NULL};
  char sysroot[PATH_MAX], probe[PATH_MAX * 2];
  if (!capture(argv, sysroot, sizeof sysroot)) return false;
  sysroot[strcspn(sysroot, "\n")] = 0;
  snprintf(probe, sizeof probe, "%s/lib/rustlib/%s/lib", sysroot, target);
  return sysroot[0] && is_dir(probe);
}

static bool same_file(const char *a, const char *b) {
  struct stat x, y;
  return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static bool choose_toolchain(const char *target, toolchain *t) {
  memset(t, 0, sizeof *t);
  const char *env_cargo = getenv("KILN_CARGO"), *env_rustc = getenv("KILN_RUSTC");
  char buf[PATH_MAX];
  if (env_cargo) {
    snprintf(t->cargo, sizeof t->cargo, "%s", env_cargo);
    if (env_rustc) snprintf(t->rustc, sizeof t->rustc, "%s", env_rustc);
    snprintf(t->what, sizeof t->what, "KILN_CARGO (%s)", env_cargo);
    return true;
  }
  const char *names[] = {"cargo", NULL};
  const char *on_path = find_program(names, buf, sizeof buf);
  char skipped[PATH_MAX + 160] = "";
  if (on_path && !same_file(on_path, "/usr/bin/cargo")) {
    /* its rustc: the one beside it (rustup's proxies), else KILN_RUSTC or rustc on PATH */
    char rustc[PATH_MAX];
    snprintf(rustc, sizeof rustc, "%s", on_path);
    char *slash = strrchr(rustc, '/');
    snprintf(slash + 1, sizeof rustc - (size_t)(slash + 1 - rustc), "rustc");
    if (env_rustc) snprintf(rustc, sizeof rustc, "%s", env_rustc);
    else if (!is_executable(rustc)) snprintf(rustc, sizeof rustc, "rustc");
    if (rustc_has_target(rustc, target)) {
      snprintf(t->cargo, sizeof t->cargo, "%s", on_path);
      snprintf(t->rustc, sizeof t->rustc, "%s", rustc);
      snprintf(t->what, sizeof t->what, "the toolchain on PATH (%s, %s)", on_path, rustc);
      return true;
    }
    snprintf(skipped, sizeof skipped, "; %s on PATH has no %s target (rustup target add %s)", rustc, target, target);
  }
  if (!is_executable("/usr/bin/cargo")) {
    if (skipped[0]) cli_error("no Rust toolchain for %s: %s", target, skipped + 2);
    else cli_error("cargo not found (rustup: https://rustup.rs, then rustup target add %s; or Debian: apt-get "
                   "install cargo rustc libstd-rust-dev-wasm32)", target);
    return false;
  }
  snprintf(t->cargo, sizeof t->cargo, "/usr/bin/cargo");
  snprintf(t->rustc, sizeof t->rustc, "%s", env_rustc ? env_rustc : "/usr/bin/rustc");
  t->debian = true;
  snprintf(t->what, sizeof t->what, "Debian's (/usr/bin/cargo, %s%s)%s", t->rustc,
           is_dir(DEBIAN_REGISTRY) && !getenv("KILN_CARGO_ONLINE") ? ", crates from " DEBIAN_REGISTRY " offline" : "",
           skipped);
  return true;
}

/* The --config options that make Debian's cargo use its packaged crates, offline. */
static void debian_registry(args *a, const toolchain *t) {
  if (!t->debian || !is_dir(DEBIAN_REGISTRY) || getenv("KILN_CARGO_ONLINE")) return;
  arg(a, "--config");
  arg(a, "source.crates-io.replace-with=\"debian\"");
  arg(a, "--config");
  arg(a, "source.debian.directory=\"" DEBIAN_REGISTRY "\"");
  arg(a, "--config");
  arg(a, "net.offline=true");
}

/* cargo's target directory for the crate (cargo metadata), into out. */
static bool cargo_target_dir(const toolchain *t, const char *manifest, char *out, size_t size) {
  args a = {0};
  arg(&a, t->cargo);
  arg(&a, "metadata");
  arg(&a, "--format-version");
  arg(&a, "1");
  arg(&a, "--no-deps");
  arg(&a, "--manifest-path");
  arg(&a, manifest);
  debian_registry(&a, t);
  static char json[1 << 20];
  if (t->rustc[0]) setenv("RUSTC", t->rustc, 1);
  bool ok = !a.oom && capture((const char *const *)a.v, json, sizeof json);
  args_free(&a);
  const char *key = "\"target_directory\":\"";
  const char *at = ok ? strstr(json, key) : NULL;
  if (!at) return false;
  at += strlen(key);
  size_t n = 0;
  for (; *at && *at != '"' && n + 1 < size; at++) {
    if (*at == '\\') { /* JSON escapes in a path: \\ and \" and \/ */
      at++;
      if (!*at) break;
    }
    out[n++] = *at;
  }
  out[n] = 0;
  return *at == '"' && n > 0;
}

/* The library name cargo gives the .wasm: [lib] name, else [package] name, '-' -> '_'. */
static bool crate_name(const char *manifest, char *out, size_t size) {
  FILE *f = fopen(manifest, "r");
  if (!f) return false;
  char line[1024], section[64] = "", package[256] = "", lib[256] = "";
  while (fgets(line, sizeof line, f)) {
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '[') {
      snprintf(section, sizeof section, "%.*s", (int)strcspn(s, "]\n"), s);
      continue;
    }
    char value[256];
    if (sscanf(s, "name = \"%255[^\"]\"", value) == 1 || sscanf(s, "name=\"%255[^\"]\"", value) == 1) {
      if (strcmp(section, "[package") == 0) snprintf(package, sizeof package, "%s", value);
      else if (strcmp(section, "[lib") == 0) snprintf(lib, sizeof lib, "%s", value);
    }
  }
  fclose(f);
  snprintf(out, size, "%s", lib[0] ? lib : package);
  for (char *c = out; *c; c++)
    if (*c == '-') *c = '_';
  return out[0] != 0;
}

static bool find_guest_include(char *out, size_t size);

/* The panic hook every Rust guest gets (include/kiln/panic_hook.rs), compiled by the guest's
 * rustc into target_dir: the object's path into obj, or false (after a note) when it cannot be
 * made; the guest then builds without it. */
static bool panic_hook_object(const toolchain *t, const char *target, const char *target_dir, char *obj,
                              size_t size) {
  char include[PATH_MAX], source[PATH_MAX + 32];
  if (!find_guest_include(include, sizeof include)) return false;
  snprintf(source, sizeof source, "%s/kiln/panic_hook.rs", include);
  if (!is_file(source)) return false;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", target_dir);
  for (char *p = dir + 1;; p++) { /* mkdir -p */
    if (*p != '/' && *p) continue;
    char c = *p;
    *p = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return false;
    *p = c;
    if (!c) break;
  }
  snprintf(obj, size, "%s/kiln-panic-hook-%s.o", target_dir, target);
  const char *rustc = t->rustc[0] ? t->rustc : "rustc";
  const char *argv[] = {rustc, "--target", target, "--crate-type=lib", "--emit=obj", "-O", "--crate-name",
                        "kiln_panic_hook", source, "-o", obj, NULL};
  char ignored[256];
  if (capture(argv, ignored, sizeof ignored) && is_file(obj)) return true;
  fprintf(stderr, "kiln: note: %s could not compile %s: Rust panics will not carry their message\n", rustc, source);
  return false;
}

static int build_rust(const char *crate, const char *out_dir, const char *target_dir, bool wasi,
                      char **extra, int extra_count, char *wasm, size_t wasm_size) {
  const char *target = wasi ? "wasm32-wasi" : "wasm32-unknown-unknown";
  char manifest[PATH_MAX], name[256], rustc_env[PATH_MAX + 8];
  snprintf(manifest, sizeof manifest, "%s/Cargo.toml", crate);
  if (!crate_name(manifest, name, sizeof name)) {
    cli_error("%s: no package name found", manifest);
    return CLI_EXIT_ERROR;
  }
  toolchain t;
  if (!choose_toolchain(target, &t)) return CLI_EXIT_ERROR;
  fprintf(stderr, "kiln: Rust toolchain: %s\n", t.what);
  /* cargo's own target directory (the crate's target/, CARGO_TARGET_DIR, its config) unless
   * --target-dir says otherwise */
  char found_target[PATH_MAX];
  if (!target_dir) {
    if (!cargo_target_dir(&t, manifest, found_target, sizeof found_target)) {
      cli_error("%s: cargo metadata did not say where cargo builds (is it a valid Cargo.toml?)", manifest);
      return CLI_EXIT_ERROR;
    }
    target_dir = found_target;
  }
  snprintf(rustc_env, sizeof rustc_env, "RUSTC=%s", t.rustc);
  const char *env[] = {t.rustc[0] ? rustc_env : NULL, NULL};
  /* cargo rustc: the panic hook's object goes to the guest's own link only (rustflags would
   * rebuild every dependency) */
  char hook[PATH_MAX + 64];
  bool with_hook = panic_hook_object(&t, target, target_dir, hook, sizeof hook);
  args a = {0};
  arg(&a, t.cargo);
  arg(&a, "rustc");
  arg(&a, "--lib");
  arg(&a, "--release");
  arg(&a, "--target");
  arg(&a, target);
  arg(&a, "--manifest-path");
  arg(&a, manifest);
  arg(&a, "--target-dir");
  arg(&a, target_dir);
  /* No debug info in the module the glue loads (Debian's std brings megabytes of it). */
  arg(&a, "--config");
  arg(&a, "profile.release.strip=\"debuginfo\"");
  debian_registry(&a, &t);
  for (int i = 0; i < extra_count; i++) arg(&a, extra[i]);
  if (with_hook) {
    char link_arg[PATH_MAX + 80];
    snprintf(link_arg, sizeof link_arg, "link-arg=%s", hook);
    arg(&a, "--");
    arg(&a, "-C");
    arg(&a, link_arg);
    arg(&a, "-C");
    arg(&a, "link-arg=--export=__kiln_install_panic_hook");
  }
  bool ok = !a.oom && run(&a, env);
  args_free(&a);
  if (!ok) return CLI_EXIT_ERROR;
  snprintf(wasm, wasm_size, "%s/%s/release/%s.wasm", target_dir, target, name);
  if (!is_file(wasm)) {
    cli_error("cargo built no %s (is the crate a cdylib? [lib] crate-type = [\"cdylib\"])", wasm);
    return CLI_EXIT_ERROR;
  }
  (void)out_dir;
  return 0;
}

/* Where kiln/guest.h is: $KILN_INCLUDE, or include/ beside or above the kiln binary (the
 * source tree's build directories), or the system's. */
static bool find_guest_include(char *out, size_t size) {
  char exe[PATH_MAX], probe[PATH_MAX + 32];
  const char *env = getenv("KILN_INCLUDE");
  if (env) {
    snprintf(out, size, "%s", env);
    return true;
  }
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    for (int up = 0; up < 3; up++) {
      char *slash = strrchr(exe, '/');
      if (!slash) break;
      *slash = 0;
      snprintf(probe, sizeof probe, "%s/include/kiln/guest.h", exe);
      if (is_file(probe) && snprintf(out, size, "%s/include", exe) < (int)size) return true;
    }
  }
  static const char *const system[] = {"/usr/local/include", "/usr/include"};
  for (size_t i = 0; i < 2; i++) {
    snprintf(probe, sizeof probe, "%s/kiln/guest.h", system[i]);
    if (is_file(probe)) {
      snprintf(out, size, "%s", system[i]);
      return true;
    }
  }
  return false;
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int build_c(const char *source, bool directory, const char *wasm, char **extra, int extra_count) {
  char buf[PATH_MAX], include[PATH_MAX];
  const char *clang_names[] = {getenv("KILN_CLANG") ? getenv("KILN_CLANG") : "clang-19", "clang-19", "clang", NULL};
  const char *clang = find_program(clang_names, buf, sizeof buf);
  if (!clang) {
    cli_error("clang not found (Debian: apt-get install clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32)");
    return CLI_EXIT_ERROR;
  }
  if (!find_guest_include(include, sizeof include)) {
    cli_error("kiln/guest.h not found: set KILN_INCLUDE to the directory that holds kiln/guest.h");
    return CLI_EXIT_ERROR;
  }
  args a = {0};
  arg(&a, clang);
  arg(&a, "--target=wasm32-wasi");
  arg(&a, "--sysroot=/usr");
  arg(&a, "-O2");
  arg(&a, "-mexec-model=reactor"); /* no main: _initialize, then the exports */
  arg(&a, "-I");
  arg(&a, include);
  if (directory) {
    DIR *dir = opendir(source);
    if (!dir) {
      cli_error("cannot read the directory '%s': %s", source, strerror(errno));
      args_free(&a);
      return CLI_EXIT_ERROR;
    }
    size_t first = a.count;
    struct dirent *e;
    while ((e = readdir(dir))) {
      size_t n = strlen(e->d_name);
      if (n > 2 && strcmp(e->d_name + n - 2, ".c") == 0) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", source, e->d_name);
        arg(&a, path);
      }
    }
    closedir(dir);
    if (a.count == first) {
      cli_error("%s: no Cargo.toml and no .c files: nothing to build", source);
      args_free(&a);
      return CLI_EXIT_ERROR;
    }
    if (!a.oom) qsort(a.v + first, a.count - first, sizeof *a.v, compare_strings);
  } else {
    arg(&a, source);
  }
  for (int i = 0; i < extra_count; i++) arg(&a, extra[i]);
  arg(&a, "-o");
  arg(&a, wasm);
  bool ok = !a.oom && run(&a, NULL);
  args_free(&a);
  return ok ? 0 : CLI_EXIT_ERROR;
}

/* Beside the module bindgen wrote (out_dir/NAME.wasm), its precompiled form NAME.cwasm, which
 * the glue loads instead when it was made for the machine it runs on: native code from the
 * first call, nothing compiled at run time. Without the compiled tier (or with
 * --no-precompile), an older NAME.cwasm is removed: it would hold the old module. */
static int write_precompiled(const char *wasm, const char *out_dir, const char *name, bool precompile,
                             bool portable) {
  char base[256], module[PATH_MAX * 2], cwasm[PATH_MAX * 2];
  const char *slash = strrchr(wasm, '/');
  snprintf(base, sizeof base, "%.200s", name ? name : slash ? slash + 1 : wasm);
  size_t n = strlen(base);
  if (!name && n > 5 && strcmp(base + n - 5, ".wasm") == 0) base[n - 5] = 0;
  snprintf(module, sizeof module, "%s/%s.wasm", out_dir, base);
  snprintf(cwasm, sizeof cwasm, "%s/%s.cwasm", out_dir, base);
  unlink(cwasm);
#ifdef KILN_HAVE_LLVM
  if (precompile) {
    fprintf(stderr, "kiln: compiling %s to native code for %s -> %s\n", module,
            portable ? "this architecture's baseline CPU" : "this CPU", cwasm);
    int status = cli_precompile(module, cwasm, portable);
    if (status != 0) unlink(cwasm);
    return status;
  }
#else
  (void)precompile, (void)portable;
#endif
  return 0;
}

int cli_build(const char *label, int argc, char **argv) {
  static const struct option options[] = {
      {"out-dir", required_argument, NULL, 'o'}, {"name", required_argument, NULL, 'n'},
      {"target-dir", required_argument, NULL, 't'}, {"skip-unsupported", no_argument, NULL, 's'},
      {"wasi", no_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'},
      {"portable", no_argument, NULL, 'p'}, {"no-precompile", no_argument, NULL, 'P'},
      {NULL, 0, NULL, 0}};
  const char *out_dir = NULL, *name = NULL, *target_dir = NULL;
  bool skip = false, wasi = false, portable = false, precompile = true;
  /* Everything after "--" goes to cargo or clang; options may come before or after PATH. */
  int own = 1;
  while (own < argc && strcmp(argv[own], "--") != 0) own++;
  char **extra = argv + own + (own < argc);
  int extra_count = argc - own - (own < argc);
  opterr = 0;
  optind = 0;
  int c;
  while ((c = getopt_long(own, argv, "ho:", options, NULL)) != -1) {
    switch (c) {
    case 'h': cli_help(stdout, "build"); return 0;
    case 'o': out_dir = optarg; break;
    case 'n': name = optarg; break;
    case 't': target_dir = optarg; break;
    case 's': skip = true; break;
    case 'w': wasi = true; break;
    case 'p': portable = true; break;
    case 'P': precompile = false; break;
    case ':': return cli_usage_error(label, "option '%s' needs a value", argv[optind - 1]);
    default: return cli_usage_error(label, "unknown option '%s' (see 'kiln help build')", argv[optind - 1]);
    }
  }
  if (optind == own) return cli_usage_error(label, "missing the crate, C file or directory to build");
  const char *source = argv[optind++];
  if (optind < own)
    return cli_usage_error(label, "unexpected '%s' (one PATH; options for cargo or clang go after --)", argv[optind]);

  /* The source without trailing slashes, its parent, its name. */
  char src[PATH_MAX], parent[PATH_MAX], base[256];
  snprintf(src, sizeof src, "%s", source);
  for (size_t n = strlen(src); n > 1 && src[n - 1] == '/'; n--) src[n - 1] = 0;
  const char *slash = strrchr(src, '/');
  snprintf(base, sizeof base, "%s", slash ? slash + 1 : src);
  if (slash) snprintf(parent, sizeof parent, "%.*s", slash == src ? 1 : (int)(slash - src), src);
  else snprintf(parent, sizeof parent, ".");
  char default_out[PATH_MAX + 8], cargo_toml[PATH_MAX + 16], wasm[PATH_MAX * 2];
  if (!out_dir) {
    snprintf(default_out, sizeof default_out, "%s/out", parent);
    out_dir = default_out;
  }
  if (!is_dir(src) && !is_file(src)) {
    cli_error("'%s' does not exist", source);
    return CLI_EXIT_ERROR;
  }
  snprintf(cargo_toml, sizeof cargo_toml, "%s/Cargo.toml", src);
  bool rust = is_dir(src) && is_file(cargo_toml);
  if (!rust && !is_dir(src)) {
    size_t n = strlen(base);
    if (n < 3 || strcmp(base + n - 2, ".c") != 0) {
      cli_error("'%s' is neither a Rust crate (a directory with Cargo.toml) nor C (a .c file or a directory of them)", source);
      return CLI_EXIT_ERROR;
    }
    base[n - 2] = 0;
  }
  if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
    /* cli_bindgen_module makes parents; the C compiler needs the directory first. */
    char command[PATH_MAX + 16];
    snprintf(command, sizeof command, "%s", out_dir);
    for (char *p = command + 1; *p; p++) {
      if (*p != '/') continue;
      *p = 0;
      mkdir(command, 0777);
      *p = '/';
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
      cli_error("cannot create the directory '%s': %s", out_dir, strerror(errno));
      return CLI_EXIT_ERROR;
    }
  }
  int status;
  if (rust) {
    status = build_rust(src, out_dir, target_dir, wasi, extra, extra_count, wasm, sizeof wasm);
  } else {
    snprintf(wasm, sizeof wasm, "%s/%s.wasm", out_dir, name ? name : base);
    status = build_c(src, is_dir(src), wasm, extra, extra_count);
  }
  if (status != 0) return status;
  status = cli_bindgen_module(wasm, out_dir, name, skip);
  if (status != 0) return status;
  return write_precompiled(wasm, out_dir, name, precompile, portable);
}
