/* run.c - `kiln run`: options, the WASI context, running _start or one --invoke'd export,
 * the --timeout watchdog, trap reports with backtraces, exit statuses and --stats. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

typedef struct run_options {
  const char *label;   /* "kiln run", or "kiln" when run was implied */
  const char *invoke;  /* --invoke NAME, or NULL for _start */
  char **dirs;         /* --dir and --dir-ro values, HOST[::GUEST] */
  bool *dir_readonly;
  size_t dir_count;
  char **listens;      /* --tcplisten values, ADDRESS:PORT */
  size_t listen_count;
  char **envs;         /* --env values, NAME=VALUE or NAME */
  char **nn_preloads;  /* --nn-preload values, NAME:ENCODING:TARGET:PATH */
  size_t nn_preload_count;
  const char *nn_onnxruntime; /* --nn-onnxruntime PATH */
  uint32_t nn_threads; /* --nn-threads; 0: ONNX Runtime's default */
  size_t env_count;
  bool inherit_env;
  uint64_t max_memory; /* 0: no --max-memory */
  double timeout;      /* seconds; 0: no --timeout */
  char timeout_text[32]; /* the timeout for messages: "500ms", "2s" */
  uint64_t fuel;
  bool has_fuel;
  bool stats;
  kiln_tier tier;      /* --tier */
  bool bounds_checks;  /* --bounds-checks */
  const char *cache_dir; /* --cache-dir, or NULL for the default */
  bool no_cache;       /* --no-cache */
  const char *path;    /* the module */
  int guest_argc;      /* the guest's argv: the module path as given, then the rest */
  char **guest_argv;
} run_options;

/* ---------------------------------------------------------------- option values */

/* SIZE: digits with an optional binary suffix K, M, G (also KB, KiB, ...; any case). */
static bool parse_size(const char *text, uint64_t *out) {
  char *end;
  if (*text < '0' || *text > '9') return false;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno) return false;
  static const struct { const char *suffix; unsigned shift; } units[] = {
      {"", 0}, {"b", 0}, {"k", 10}, {"kb", 10}, {"kib", 10}, {"m", 20}, {"mb", 20},
      {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30},
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcasecmp(end, units[i].suffix) != 0) continue;
    if (v > (UINT64_MAX >> units[i].shift)) return false;
    *out = (uint64_t)v << units[i].shift;
    return true;
  }
  return false;
}

/* DURATION: a positive decimal number with ms, s, m or h (also us, min); bare = seconds. */
static bool parse_duration(const char *text, double *seconds) {
  char *end;
  if ((*text < '0' || *text > '9') && *text != '.') return false;
  double v = strtod(text, &end);
  static const struct { const char *suffix; double scale; } units[] = {
      {"", 1}, {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"m", 60}, {"min", 60}, {"h", 3600},
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(end, units[i].suffix) != 0) continue;
    *seconds = v * units[i].scale;
    return isfinite(*seconds) && *seconds > 0 && *seconds < 1e9;
  }
  return false;
}

static bool parse_count(const char *text, uint64_t *out) {
  char *end;
  if (*text < '0' || *text > '9') return false;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

/* ---------------------------------------------------------------- options */

enum { OPT_INVOKE = 256, OPT_DIR, OPT_DIR_RO, OPT_ENV, OPT_INHERIT_ENV, OPT_MAX_MEMORY, OPT_TIMEOUT,
       OPT_FUEL, OPT_STATS, OPT_TCPLISTEN, OPT_TIER, OPT_BOUNDS_CHECKS, OPT_CACHE_DIR, OPT_NO_CACHE,
       OPT_NN_PRELOAD, OPT_NN_ONNXRUNTIME, OPT_NN_THREADS };

static const struct option run_long_options[] = {
    {"invoke", required_argument, NULL, OPT_INVOKE},
    {"dir", required_argument, NULL, OPT_DIR},
    {"dir-ro", required_argument, NULL, OPT_DIR_RO},
    {"env", required_argument, NULL, OPT_ENV},
    {"inherit-env", no_argument, NULL, OPT_INHERIT_ENV},
    {"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"fuel", required_argument, NULL, OPT_FUEL},
    {"stats", no_argument, NULL, OPT_STATS},
    {"tcplisten", required_argument, NULL, OPT_TCPLISTEN},
    {"tier", required_argument, NULL, OPT_TIER},
    {"bounds-checks", no_argument, NULL, OPT_BOUNDS_CHECKS},
    {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
    {"no-cache", no_argument, NULL, OPT_NO_CACHE},
    {"nn-preload", required_argument, NULL, OPT_NN_PRELOAD},
    {"nn-onnxruntime", required_argument, NULL, OPT_NN_ONNXRUNTIME},
    {"nn-threads", required_argument, NULL, OPT_NN_THREADS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The option as the user wrote it, without "=value": for error messages. */
static const char *option_text(char **argv, char *buf, size_t size) {
  const char *arg = argv[optind - 1];
  if (strncmp(arg, "--", 2) != 0 && optopt > 0 && optopt < 128)
    snprintf(buf, size, "-%c", optopt);
  else
    snprintf(buf, size, "%.*s", (int)strcspn(arg, "="), arg);
  return buf;
}

/* Check the syntax of one --dir/--env value; the work happens when the WASI context is made. */
static bool dir_syntax_ok(const char *value) {
  const char *sep = strstr(value, "::");
  return value[0] && (!sep || (sep != value && sep[2]));
}

static bool env_syntax_ok(const char *value) {
  return value[0] && value[0] != '=';
}

/* Parse argv (argv[0] is the command). Returns -1 to go on, else the exit status. */
static int parse_run_options(run_options *o, int argc, char **argv) {
  /* Each repeatable option takes at most one argument each: argc bounds them. */
  o->dirs = calloc((size_t)argc, sizeof *o->dirs);
  o->dir_readonly = calloc((size_t)argc, sizeof *o->dir_readonly);
  o->envs = calloc((size_t)argc, sizeof *o->envs);
  o->listens = calloc((size_t)argc, sizeof *o->listens);
  o->nn_preloads = calloc((size_t)argc, sizeof *o->nn_preloads);
  if (!o->dirs || !o->dir_readonly || !o->envs || !o->listens || !o->nn_preloads) {
    cli_error("out of memory");
    return CLI_EXIT_ERROR;
  }
  const char *label = o->label;
  char name[64];
  int c;
  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, "+:h", run_long_options, NULL)) != -1) {
    switch (c) {
      case 'h':
        cli_help(stdout, "run");
        return 0;
      case OPT_INVOKE:
        if (!optarg[0]) return cli_usage_error(label, "--invoke needs a function name (e.g. --invoke main)");
        o->invoke = optarg;
        break;
      case OPT_NN_PRELOAD:
        o->nn_preloads[o->nn_preload_count++] = optarg;
        break;
      case OPT_NN_ONNXRUNTIME:
        o->nn_onnxruntime = optarg;
        break;
      case OPT_NN_THREADS: {
        char *end;
        unsigned long n = strtoul(optarg, &end, 10);
        if (*optarg < '0' || *optarg > '9' || *end || n > 1024)
          return cli_usage_error(label, "bad --nn-threads value '%s' (a number of threads, 0 for ONNX Runtime's default)", optarg);
        o->nn_threads = (uint32_t)n;
        break;
      }
      case OPT_DIR:
      case OPT_DIR_RO:
        if (!dir_syntax_ok(optarg))
          return cli_usage_error(label, "bad %s value '%s' (use HOST or HOST::GUEST, e.g. --dir .::/data)",
                                 c == OPT_DIR ? "--dir" : "--dir-ro", optarg);
        o->dir_readonly[o->dir_count] = c == OPT_DIR_RO;
        o->dirs[o->dir_count++] = optarg;
        break;
      case OPT_ENV:
        if (!env_syntax_ok(optarg))
          return cli_usage_error(label, "bad --env value '%s' (use NAME=VALUE, or NAME for the host's value)",
                                 optarg);
        o->envs[o->env_count++] = optarg;
        break;
      case OPT_INHERIT_ENV:
        o->inherit_env = true;
        break;
      case OPT_TCPLISTEN:
        o->listens[o->listen_count++] = optarg;
        break;
      case OPT_STATS:
        o->stats = true;
        break;
      case OPT_BOUNDS_CHECKS:
        o->bounds_checks = true;
        break;
      case OPT_TIER:
        if (strcmp(optarg, "interp") == 0) {
          o->tier = KILN_TIER_INTERP;
        } else if (strcmp(optarg, "compiled") == 0 || strcmp(optarg, "auto") == 0) {
#ifdef KILN_HAVE_LLVM
          o->tier = optarg[0] == 'c' ? KILN_TIER_COMPILED : KILN_TIER_AUTO;
#else
          cli_error("--tier=%s: this kiln was built without the compiled tier (it needs LLVM 19: "
                    "apt-get install llvm-19-dev, then rebuild)", optarg);
          return CLI_EXIT_ERROR;
#endif
        } else {
          return cli_usage_error(label, "bad --tier value '%s' (use interp, compiled or auto)", optarg);
        }
        break;
      case OPT_CACHE_DIR:
        if (!optarg[0]) return cli_usage_error(label, "--cache-dir needs a directory (or use --no-cache)");
        o->cache_dir = optarg;
        break;
      case OPT_NO_CACHE:
        o->no_cache = true;
        break;
      case OPT_MAX_MEMORY:
        if (!parse_size(optarg, &o->max_memory) || o->max_memory < KILN_PAGE_SIZE)
          return cli_usage_error(label, "bad --max-memory value '%s' (use bytes, at least 64K, or a K, M or "
                                 "G suffix: 65536, 64K, 64MiB, 1G)", optarg);
        break;
      case OPT_TIMEOUT:
        if (!parse_duration(optarg, &o->timeout))
          return cli_usage_error(label, "bad --timeout value '%s' (use a positive number with ms, s, m or h: "
                                 "500ms, 2s, 1.5m)", optarg);
        if (o->timeout < 1)
          snprintf(o->timeout_text, sizeof o->timeout_text, "%gms", o->timeout * 1e3);
        else
          snprintf(o->timeout_text, sizeof o->timeout_text, "%gs", o->timeout);
        break;
      case OPT_FUEL:
        if (!parse_count(optarg, &o->fuel))
          return cli_usage_error(label, "bad --fuel value '%s' (use a whole number of units, e.g. --fuel 1000000)",
                                 optarg);
        o->has_fuel = true;
        break;
      case ':':
        return cli_usage_error(label, "option '%s' needs a value (see 'kiln help run')",
                               option_text(argv, name, sizeof name));
      default:
        return cli_usage_error(label, "unknown option '%s' (see 'kiln help run')",
                               option_text(argv, name, sizeof name));
    }
  }
  if (optind >= argc)
    return cli_usage_error(label, "missing module path (usage: kiln run [options] app.wasm [args...])");
  o->path = argv[optind];
  o->guest_argc = argc - optind;
  o->guest_argv = argv + optind;
  return -1;
}

static void free_run_options(run_options *o) {
  free(o->dirs);
  free(o->listens);
  free(o->dir_readonly);
  free(o->envs);
  free(o->nn_preloads);
}

/* ---------------------------------------------------------------- the watchdog */

/* --timeout: a thread that sleeps, then interrupts the store. If the program still runs a
 * second later (blocked in a host call that does not poll the interrupt, e.g. a read from a
 * terminal), it reports the timeout and ends the process. */
typedef struct watchdog {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool done;          /* the run is over (under lock) */
  atomic_bool fired;  /* the watchdog interrupted the store */
  double seconds;
  const char *text;
  kiln_store *store;
} watchdog;

#define WATCHDOG_GRACE_SECONDS 1.0

static struct timespec deadline_after(double seconds) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  double whole = floor(seconds);
  t.tv_sec += (time_t)whole;
  t.tv_nsec += (long)((seconds - whole) * 1e9);
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

/* Wait until done or the time is up; true if done. Called with the lock held. */
static bool watchdog_wait(watchdog *w, double seconds) {
  struct timespec deadline = deadline_after(seconds);
  while (!w->done) {
    if (pthread_cond_timedwait(&w->wake, &w->lock, &deadline) == ETIMEDOUT) return w->done;
  }
  return true;
}

static void *watchdog_main(void *arg) {
  watchdog *w = arg;
  pthread_mutex_lock(&w->lock);
  if (!watchdog_wait(w, w->seconds)) {
    atomic_store(&w->fired, true);
    kiln_store_interrupt(w->store);
    if (!watchdog_wait(w, WATCHDOG_GRACE_SECONDS)) {
      cli_error("trap: %s: timed out after %s (the program did not stop within %gs of the "
                "interrupt: it is blocked in a host call)",
                kiln_trap_string(KILN_TRAP_INTERRUPTED), w->text, WATCHDOG_GRACE_SECONDS);
      _exit(CLI_EXIT_TRAP);
    }
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

static bool watchdog_start(watchdog *w, kiln_store *store, double seconds, const char *text) {
  pthread_condattr_t attr;
  memset(w, 0, sizeof *w);
  w->store = store;
  w->seconds = seconds;
  w->text = text;
  atomic_init(&w->fired, false);
  pthread_mutex_init(&w->lock, NULL);
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&w->wake, &attr);
  pthread_condattr_destroy(&attr);
  if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) {
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    cli_error("cannot start the --timeout watchdog thread");
    return false;
  }
  return true;
}

/* Stop the watchdog; true if it fired. */
static bool watchdog_stop(watchdog *w) {
  pthread_mutex_lock(&w->lock);
  w->done = true;
  pthread_cond_signal(&w->wake);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->wake);
  pthread_mutex_destroy(&w->lock);
  return atomic_load(&w->fired);
}

/* ---------------------------------------------------------------- --invoke */

/* Find the exported function name in module and parse the values for its parameters into
 * args (allocated). Returns -1 to go on, else the exit status. */
static int prepare_invoke(const run_options *o, const kiln_module *module, kiln_val **args) {
  uint32_t n = kiln_module_export_count(module);
  kiln_externtype type;
  const char *export_name = NULL;
  char listed[512] = "";
  size_t used = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (kiln_module_export(module, i, &export_name, &type) != KILN_OK) continue;
    if (strcmp(export_name, o->invoke) == 0) break;
    if (type.kind == KILN_EXTERN_FUNC && used < sizeof listed - 1) {
      int w = snprintf(listed + used, sizeof listed - used, "%s%s", used ? ", " : "", export_name);
      used = w < 0 ? used : used + (size_t)w;
    }
    export_name = NULL;
  }
  static const char *const kinds[] = {"function", "table", "memory", "global"};
  if (!export_name) {
    cli_error("%s: no exported function '%s' (%s%s)", o->path, o->invoke,
              used ? "exported functions: " : "the module exports no functions", listed);
    return CLI_EXIT_ERROR;
  }
  if (type.kind != KILN_EXTERN_FUNC) {
    cli_error("%s: export '%s' is a %s, not a function", o->path, o->invoke, kinds[type.kind]);
    return CLI_EXIT_ERROR;
  }
  int given = o->guest_argc - 1;
  char signature[512];
  cli_format_functype(signature, sizeof signature, type.func);
  if ((uint32_t)given != type.func.param_count)
    return cli_usage_error(o->label, "'%s' %s takes %" PRIu32 " argument%s, %d given after the module path",
                           o->invoke, signature, type.func.param_count, type.func.param_count == 1 ? "" : "s",
                           given);
  *args = calloc(given ? (size_t)given : 1, sizeof **args);
  if (!*args) {
    cli_error("out of memory");
    return CLI_EXIT_ERROR;
  }
  for (int i = 0; i < given; i++) {
    kiln_valtype t = type.func.params[i];
    if (!cli_parse_value(o->guest_argv[i + 1], t, &(*args)[i]))
      return cli_usage_error(o->label, "argument %d of '%s': '%s' is not %s %s (see 'kiln help run' for "
                             "the syntax of values)", i + 1, o->invoke, o->guest_argv[i + 1],
                             t == KILN_I32 || t == KILN_I64 ? "an" : "a", kiln_valtype_string(t));
  }
  return -1;
}

/* Call _initialize (a WASI reactor's constructor) if exported, then the function. */
static kiln_status invoke(const run_options *o, kiln_store *store, kiln_instance *instance, const kiln_val *args,
                          kiln_error *err) {
  kiln_extern init, func;
  if (strcmp(o->invoke, "_initialize") != 0 && kiln_instance_export(instance, "_initialize", &init) == KILN_OK &&
      init.kind == KILN_EXTERN_FUNC) {
    kiln_status status = kiln_func_call(store, init.of.func, NULL, 0, NULL, 0, err);
    if (status != KILN_OK) return status;
  }
  /* Rust guests of kiln build: their panics' messages through kiln.panic */
  kiln_extern hook;
  if (kiln_instance_export(instance, "__kiln_install_panic_hook", &hook) == KILN_OK && hook.kind == KILN_EXTERN_FUNC) {
    kiln_status status = kiln_func_call(store, hook.of.func, NULL, 0, NULL, 0, err);
    if (status != KILN_OK) return status;
  }
  kiln_instance_export(instance, o->invoke, &func); /* prepare_invoke found it in the module */
  kiln_functype type = kiln_func_type(func.of.func);
  kiln_val *results = calloc(type.result_count ? type.result_count : 1, sizeof *results);
  if (!results) {
    snprintf(err->message, sizeof err->message, "out of memory");
    return err->status = KILN_ERR_NOMEM;
  }
  kiln_status status = kiln_func_call(store, func.of.func, args, type.param_count, results,
                                      type.result_count, err);
  if (status == KILN_OK)
    for (uint32_t i = 0; i < type.result_count; i++) cli_print_value(stdout, &results[i]);
  free(results);
  return status;
}

/* ---------------------------------------------------------------- reports */

/* The trap's message without the kind it repeats: "unreachable (in function 5 'f' at offset
 * 0xd7)" gives "in function 5 'f' at offset 0xd7". */
static const char *trap_detail(const kiln_error *err, char *buf, size_t size) {
  const char *kind = kiln_trap_string(err->trap), *message = err->message;
  size_t k = strlen(kind), m = strlen(message);
  if (strncmp(message, kind, k) == 0 && strncmp(message + k, " (", 2) == 0 && message[m - 1] == ')') {
    snprintf(buf, size, "%.*s", (int)(m - k - 3), message + k + 2);
    return buf;
  }
  if (strncmp(message, kind, k) == 0 && strncmp(message + k, ": ", 2) == 0) return message + k + 2;
  return message;
}

static void print_trap(const run_options *o, const kiln_error *err, bool timed_out) {
  char buf[sizeof err->message];
  const char *kind = kiln_trap_string(err->trap), *detail = trap_detail(err, buf, sizeof buf);
  if (timed_out && err->trap == KILN_TRAP_INTERRUPTED)
    cli_error("trap: %s: timed out after %s (%s)", kind, o->timeout_text, detail);
  else if (err->trap == KILN_TRAP_OUT_OF_FUEL)
    cli_error("trap: %s: all %" PRIu64 " units of --fuel spent (%s)", kind, o->fuel, detail);
  else
    cli_error("trap: %s: %s", kind, detail);
  if (err->frame_count) fprintf(stderr, "backtrace (innermost first):\n");
  for (uint32_t i = 0; i < err->frame_count; i++) {
    const kiln_frame *f = &err->backtrace[i];
    const char *name = f->name[0] ? f->name : "<unnamed>";
    if (f->code_offset)
      fprintf(stderr, "  #%-2" PRIu32 " func %-5" PRIu32 " %-24s at 0x%" PRIx32 "\n", i, f->func_index, name,
              f->code_offset);
    else /* not known: a caller's frame or a memory fault in compiled code */
      fprintf(stderr, "  #%-2" PRIu32 " func %-5" PRIu32 " %s\n", i, f->func_index, name);
  }
  if (err->frame_total > err->frame_count)
    fprintf(stderr, "  ... %u more frames\n", err->frame_total - err->frame_count);
}

/* The exit status for the outcome of instantiating or running. */
static int outcome(const run_options *o, kiln_status status, const kiln_error *err, bool timed_out,
                   const char *what) {
  if (status == KILN_OK) return 0;
  /* a failure after a memory limit refused to grow memory: most likely its cause */
  if (status == KILN_ERR_TRAP && err->memory_requested && !(err->trap == KILN_TRAP_EXIT && err->exit_code == 0)) {
    cli_error("note: the program asked for %.1f MiB of memory, over the limit of %.1f MiB%s",
              (double)err->memory_requested / 1048576.0, (double)err->memory_limit / 1048576.0,
              o->max_memory ? " (--max-memory)" : "");
  }
  if (status == KILN_ERR_TRAP && err->trap == KILN_TRAP_EXIT) return (int)((uint32_t)err->exit_code & 0xFF);
  if (status == KILN_ERR_TRAP) {
    print_trap(o, err, timed_out);
    return CLI_EXIT_TRAP;
  }
  if (status == KILN_ERR_NOT_FOUND && !o->invoke)
    cli_error("%s: no _start function to run: it is not a WASI command (call one of its exports with "
              "--invoke NAME)", o->path);
  else
    cli_error("%s: %s: %s: %s%s", o->path, what, kiln_status_string(status), err->message,
              status == KILN_ERR_LINK ? " (kiln run provides the wasi_snapshot_preview1 functions only)" : "");
  return CLI_EXIT_ERROR;
}

typedef struct run_times {
  double start, read, compiled, instantiated, finished; /* cli_now() after each step */
} run_times;

static void print_stats(const run_options *o, const run_times *t, const kiln_module *module, kiln_store *store,
                        kiln_instance *instance) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double end = cli_now();
  fprintf(stderr, "kiln stats:\n");
  fprintf(stderr, "  wall time         %10.3f ms\n", (end - t->start) * 1e3);
  kiln_module_stats ms;
  kiln_module_get_stats(module, &ms);
  fprintf(stderr, "  tier              %s",
          ms.tier == KILN_TIER_COMPILED ? "compiled" : ms.tier == KILN_TIER_AUTO ? "auto" : "interp");
  if (ms.tier != KILN_TIER_INTERP)
    fprintf(stderr, " (%" PRIu32 " of %" PRIu32 " functions native, %.1f KiB of code)", ms.native_functions,
            ms.functions, (double)ms.native_code_bytes / 1024.0);
  fprintf(stderr, "\n");
  if (ms.tier == KILN_TIER_AUTO)
    fprintf(stderr, "  loop entries      %" PRIu32 " functions (a call running interpreted moves into their native code)\n",
            ms.osr_functions);
  if (ms.tier == KILN_TIER_AUTO && !o->no_cache)
    fprintf(stderr, "  from the cache    %" PRIu32 " functions%s%s\n", ms.cached_functions, ms.cache_note[0] ? ": " : "",
            ms.cache_note);
  fprintf(stderr, "  interpreted       %" PRIu32 " functions translated, %.1f KiB of code\n",
          ms.translated_functions, (double)ms.translated_code_bytes / 1024.0);
  fprintf(stderr, "  compile time      %10.3f ms\n", (t->compiled - t->read) * 1e3);
  if (ms.tier == KILN_TIER_COMPILED) {
    /* where the native code came from, and the time it took (within the compile time) */
    bool miss = !ms.precompiled && !ms.cache_hit && !o->no_cache;
    const char *origin = ms.precompiled ? "precompiled .cwasm"
                         : ms.cache_hit ? "cache hit"
                         : miss         ? "compiled, cache miss: "
                                        : "compiled, cache off";
    fprintf(stderr, "  native code       %10.3f ms (%s%s%s)\n", ms.compile_seconds * 1e3, origin,
            miss ? ms.cache_note : "", miss && ms.cache_stored ? "; stored" : "");
  }
  if (t->instantiated)
    fprintf(stderr, "  instantiate time  %10.3f ms\n", (t->instantiated - t->compiled) * 1e3);
  if (t->finished)
    fprintf(stderr, "  run time          %10.3f ms\n", (t->finished - t->instantiated) * 1e3);
  fprintf(stderr, "  peak RSS          %10.1f MiB\n", (double)usage.ru_maxrss / 1024.0);
  uint32_t n = instance ? kiln_instance_export_count(instance) : 0;
  for (uint32_t i = 0; i < n; i++) {
    const char *name;
    kiln_extern e;
    if (kiln_instance_export_at(instance, i, &name, &e) != KILN_OK || e.kind != KILN_EXTERN_MEMORY) continue;
    uint64_t bytes = kiln_memory_size(e.of.memory);
    fprintf(stderr, "  linear memory     %10.3f MiB (%" PRIu64 " pages, export '%s')\n",
            (double)bytes / (1024.0 * 1024.0), bytes / KILN_PAGE_SIZE, name);
    break;
  }
  if (o->has_fuel)
    fprintf(stderr, "  fuel consumed     %10" PRIu64 " of %" PRIu64 "\n", o->fuel - kiln_store_fuel(store), o->fuel);
}

/* ---------------------------------------------------------------- WASI */

/* --tcplisten ADDRESS:PORT: a listening TCP socket for the guest's sock_accept, on a numeric
 * IPv4 address or a bracketed IPv6 one ("127.0.0.1:8080", "[::1]:8080"). The socket stays
 * open until kiln exits. Returns the descriptor, or -1 after printing why. */
static int listen_on(const char *text) {
  char host[64];
  const char *colon = strrchr(text, ':');
  size_t host_len = colon ? (size_t)(colon - text) : 0;
  char *end;
  unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
  if (!colon || host_len == 0 || host_len >= sizeof host || colon[1] == 0 || *end || port > 65535) {
    cli_error("bad --tcplisten value '%s' (use ADDRESS:PORT, e.g. 127.0.0.1:8080 or [::1]:8080)", text);
    return -1;
  }
  memcpy(host, text, host_len);
  host[host_len] = 0;
  struct sockaddr_storage addr = {0};
  socklen_t addr_len;
  int family;
  if (host[0] == '[' && host[host_len - 1] == ']') {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
    host[host_len - 1] = 0;
    family = a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    addr_len = sizeof *a;
    if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1) family = -1;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&addr;
    family = a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    addr_len = sizeof *a;
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) family = -1;
  }
  if (family < 0) {
    cli_error("bad --tcplisten address in '%s' (use a numeric IPv4 address or [IPv6])", text);
    return -1;
  }
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&addr, addr_len) != 0 || listen(fd, 128) != 0) {
    cli_error("--tcplisten '%s': %s", text, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

/* The WASI context of the program: arguments, environment, preopened directories and sockets. */
static int make_wasi(const run_options *o, kiln_store *store, kiln_wasi **wasi) {
  kiln_wasi_config *config = kiln_wasi_config_new();
  kiln_error err;
  int status = -1;
  if (!config || kiln_wasi_config_set_args(config, (size_t)o->guest_argc,
                                           (const char *const *)o->guest_argv) != KILN_OK ||
      (o->inherit_env && kiln_wasi_config_inherit_env(config) != KILN_OK)) {
    cli_error("out of memory");
    status = CLI_EXIT_ERROR;
  }
  for (size_t i = 0; status < 0 && i < o->env_count; i++) {
    char *name = o->envs[i], *equals = strchr(name, '=');
    const char *value = equals ? equals + 1 : getenv(name);
    if (!value) continue; /* --env NAME with NAME unset on the host */
    if (equals) *equals = 0;
    kiln_status s = kiln_wasi_config_set_env(config, name, value);
    if (equals) *equals = '=';
    if (s != KILN_OK) status = cli_usage_error(o->label, "bad --env value '%s' (use NAME=VALUE)", name);
  }
  for (size_t i = 0; status < 0 && i < o->dir_count; i++) {
    char *host = o->dirs[i], *sep = strstr(host, "::");
    if (sep) *sep = 0;
    kiln_status s = kiln_wasi_config_preopen(config, host, sep ? sep + 2 : host,
                                             o->dir_readonly[i] ? KILN_WASI_READONLY : 0, &err);
    if (s != KILN_OK) {
      cli_error("%s '%s': %s", o->dir_readonly[i] ? "--dir-ro" : "--dir", host, err.message);
      status = CLI_EXIT_ERROR;
    }
    if (sep) *sep = ':';
  }
  for (size_t i = 0; status < 0 && i < o->listen_count; i++) {
    int fd = listen_on(o->listens[i]);
    if (fd < 0 || kiln_wasi_config_preopen_socket(config, fd) != KILN_OK) status = CLI_EXIT_ERROR;
  }
  if (status < 0 && kiln_wasi_new(store, config, wasi, &err) != KILN_OK) {
    cli_error("cannot set up WASI: %s", err.message);
    status = CLI_EXIT_ERROR;
  }
  kiln_wasi_config_free(config);
  return status;
}

/* ---------------------------------------------------------------- kiln's guest imports */

/* kiln.fail(ptr, len) of include/kiln/guest.h: kiln_fail() ends the call with its message,
 * as the glue turns it into an Error in Node. */
static kiln_status guest_fail(kiln_caller *caller, void *user_data, const kiln_val *args, kiln_val *results) {
  (void)user_data;
  (void)results;
  kiln_memory *memory = kiln_caller_memory(caller);
  uint64_t ptr = (uint32_t)args[0].of.i32, len = (uint32_t)args[1].of.i32;
  if (!memory || ptr + len > kiln_memory_size(memory))
    return kiln_caller_trap(caller, "kiln_fail: the message (%" PRIu64 " bytes at %" PRIu64 ") is outside memory", len,
                            ptr);
  if (len > 4000) len = 4000;
  return kiln_caller_trap(caller, "kiln_fail: %.*s", (int)len, (const char *)kiln_memory_data(memory) + ptr);
}

/* kiln.panic(ptr, len): the panic hook kiln build links into Rust guests hands over the
 * message of a panic (the abort that follows traps); printed as the panic happens. */
static kiln_status guest_panic(kiln_caller *caller, void *user_data, const kiln_val *args, kiln_val *results) {
  (void)user_data;
  (void)results;
  kiln_memory *memory = kiln_caller_memory(caller);
  uint64_t ptr = (uint32_t)args[0].of.i32, len = (uint32_t)args[1].of.i32;
  if (memory && ptr + len <= kiln_memory_size(memory))
    cli_error("the guest %.*s", (int)(len > 4000 ? 4000 : len), (const char *)kiln_memory_data(memory) + ptr);
  return KILN_OK;
}

/* The WASI imports and, for those the module imports with their type, kiln's guest imports
 * (kiln.fail, kiln.panic): into *all (malloc'd, or NULL when nothing is added and imports is
 * used as it is). */
static bool add_guest_imports(kiln_store *store, const kiln_module *module, const kiln_import *imports,
                              size_t count, kiln_import **all, size_t *all_count) {
  *all = NULL;
  *all_count = count;
  static const kiln_valtype params[] = {KILN_I32, KILN_I32};
  static const kiln_functype type_ptr_len = {params, 2, NULL, 0};
  static const struct {
    const char *name;
    kiln_host_callback callback;
  } provided[] = {{"fail", guest_fail}, {"panic", guest_panic}};
  for (uint32_t i = 0; i < kiln_module_import_count(module); i++) {
    const char *mod, *name;
    kiln_externtype type;
    if (kiln_module_import(module, i, &mod, &name, &type) != KILN_OK || strcmp(mod, "kiln") != 0 ||
        type.kind != KILN_EXTERN_FUNC || type.func.param_count != 2 || type.func.result_count != 0 ||
        type.func.params[0] != KILN_I32 || type.func.params[1] != KILN_I32)
      continue;
    for (size_t k = 0; k < sizeof provided / sizeof provided[0]; k++) {
      if (strcmp(name, provided[k].name) != 0) continue;
      kiln_func *f = kiln_func_new(store, &type_ptr_len, provided[k].callback, NULL, NULL);
      if (!f) return false;
      kiln_import *grown = realloc(*all, (*all_count + 1) * sizeof **all);
      if (!grown) return false;
      if (!*all && count) memcpy(grown, imports, count * sizeof *grown);
      *all = grown;
      (*all)[(*all_count)++] = (kiln_import){"kiln", provided[k].name, {.kind = KILN_EXTERN_FUNC, .of.func = f}};
    }
  }
  return true;
}

/* WASI-NN (wasi_ephemeral_nn) for a module that imports it: appended to *all (made from
 * imports when NULL). -1 to go on, else the exit status (after an error). */
static int add_nn_imports(const run_options *o, kiln_store *store, const kiln_module *module, kiln_import **all,
                          size_t *all_count, const kiln_import *imports, kiln_nn **out) {
  bool wanted = o->nn_preload_count > 0;
  for (uint32_t i = 0; !wanted && i < kiln_module_import_count(module); i++) {
    const char *mod, *name;
    kiln_externtype type;
    wanted = kiln_module_import(module, i, &mod, &name, &type) == KILN_OK && strcmp(mod, "wasi_ephemeral_nn") == 0;
  }
  if (!wanted) return -1;
#ifdef KILN_CLI_STATIC_BUILD
  /* A static executable cannot load ONNX Runtime (a C++ shared library needing the shared
   * libc): the dynamically linked twin built beside it runs the program instead. */
  char self[PATH_MAX], twin[PATH_MAX + 16];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash) *slash = 0;
    snprintf(twin, sizeof twin, "%s/kiln-dynamic", self);
    fflush(NULL);
    execv(twin, cli_argv);
  }
  cli_error("WASI-NN: this kiln is statically linked (for its start-up time) and cannot load ONNX Runtime, a "
            "shared library, and its dynamically linked twin kiln-dynamic is not beside it (%s); build kiln from "
            "source (make), or use WASI-NN from Node.js", n > 0 ? strerror(errno) : "cannot find this executable");
  (void)store;
  (void)all;
  (void)all_count;
  (void)imports;
  (void)out;
  return CLI_EXIT_ERROR;
#else
  kiln_nn_config *config = kiln_nn_config_new();
  if (!config) {
    cli_error("out of memory");
    return CLI_EXIT_ERROR;
  }
  kiln_error err;
  kiln_status s = o->nn_onnxruntime ? kiln_nn_config_set_onnxruntime(config, o->nn_onnxruntime) : KILN_OK;
  kiln_nn_config_set_threads(config, o->nn_threads);
  for (size_t i = 0; s == KILN_OK && i < o->nn_preload_count; i++) {
    s = kiln_nn_config_preload_spec(config, o->nn_preloads[i], &err);
    if (s != KILN_OK) {
      cli_error("--nn-preload: %s", err.message);
      kiln_nn_config_free(config);
      return CLI_EXIT_USAGE;
    }
  }
  /* preloaded models need ONNX Runtime: say so now rather than when the guest loads one */
  if (s == KILN_OK && o->nn_preload_count && kiln_nn_check(config, &err) != KILN_OK) {
    cli_error("%s", err.message);
    kiln_nn_config_free(config);
    return CLI_EXIT_ERROR;
  }
  if (s == KILN_OK) s = kiln_nn_new(store, config, out, &err);
  kiln_nn_config_free(config);
  const kiln_import *nn_imports;
  size_t nn_count = 0;
  if (s == KILN_OK) s = kiln_nn_imports(*out, module, &nn_imports, &nn_count);
  kiln_import *grown = s == KILN_OK ? realloc(*all, (*all_count + nn_count + 1) * sizeof *grown) : NULL;
  if (!grown) {
    cli_error("WASI-NN: %s", s == KILN_OK ? "out of memory" : err.message);
    return CLI_EXIT_ERROR;
  }
  if (!*all && *all_count) memcpy(grown, imports, *all_count * sizeof *grown);
  memcpy(grown + *all_count, nn_imports, nn_count * sizeof *grown);
  *all = grown;
  *all_count += nn_count;
  return -1;
#endif
}

/* ---------------------------------------------------------------- kiln run */

/* Instantiate the module with WASI (and kiln's guest imports) and run it; the exit status. */
static int run_module(const run_options *o, kiln_store *store, kiln_module *module, const kiln_val *args,
                      run_times *times, kiln_instance **instance) {
  kiln_wasi *wasi = NULL;
  const kiln_import *imports = NULL;
  size_t import_count = 0;
  int status = make_wasi(o, store, &wasi);
  if (status >= 0) return status;
  if (kiln_wasi_imports(wasi, module, &imports, &import_count) != KILN_OK) {
    cli_error("out of memory");
    return CLI_EXIT_ERROR;
  }
  kiln_import *all = NULL;
  size_t all_count;
  if (!add_guest_imports(store, module, imports, import_count, &all, &all_count)) {
    free(all);
    cli_error("out of memory");
    return CLI_EXIT_ERROR;
  }
  kiln_nn *nn = NULL;
  if ((status = add_nn_imports(o, store, module, &all, &all_count, imports, &nn)) >= 0) {
    free(all);
    return status;
  }
  watchdog dog;
  if (o->timeout > 0 && !watchdog_start(&dog, store, o->timeout, o->timeout_text)) {
    free(all);
    return CLI_EXIT_ERROR;
  }
  kiln_error err;
  kiln_status s = kiln_instantiate(store, module, all ? all : imports, all_count, instance, &err);
  free(all);
  times->instantiated = cli_now();
  const char *what = "cannot instantiate";
  if (s == KILN_OK) {
    int32_t exit_code = 0;
    what = "cannot run";
    s = o->invoke ? invoke(o, store, *instance, args, &err) : kiln_wasi_run(wasi, *instance, &exit_code, &err);
    if (s == KILN_OK && exit_code) {
      err.trap = KILN_TRAP_EXIT;
      err.exit_code = exit_code;
      s = KILN_ERR_TRAP;
    }
    times->finished = cli_now();
  }
  bool timed_out = o->timeout > 0 && watchdog_stop(&dog);
  fflush(stdout);
  /* the guest saw only an error code: what WASI-NN's last failure was */
  if (s != KILN_OK && nn && kiln_nn_last_error(nn)[0]) cli_error("note: the last WASI-NN error: %s", kiln_nn_last_error(nn));
  return outcome(o, s, &err, timed_out, what);
}

int cli_run(const char *label, int argc, char **argv) {
  run_times times = {cli_now(), 0, 0, 0, 0};
  /* auto when the compiled tier is built: starts at once, hot functions compiled */
#ifdef KILN_HAVE_LLVM
  run_options o = {.label = label, .tier = KILN_TIER_AUTO};
#else
  run_options o = {.label = label, .tier = KILN_TIER_INTERP};
#endif
  int status = parse_run_options(&o, argc, argv);
  cli_file file = {0}; /* borrowed by the module: freed after it and the store */
  kiln_engine *engine = NULL;
  kiln_module *module = NULL;
  kiln_store *store = NULL;
  kiln_instance *instance = NULL;
  kiln_val *args = NULL;
  if (status >= 0 || !cli_file_read(o.path, &file)) goto done;
  times.read = cli_now();
  kiln_config config;
  kiln_config_init(&config);
  config.tier = o.tier;
  config.consume_fuel = o.has_fuel;
  config.explicit_bounds_checks = o.bounds_checks;
  config.cache = !o.no_cache;
  config.cache_dir = o.cache_dir;
#ifdef KILN_HAVE_LLVM
  config.compiler = kiln_llvm_compiler();
#endif
  engine = kiln_engine_new(&config);
  if (engine) module = cli_module_new(engine, o.path, &file);
  else cli_error("out of memory");
  times.compiled = cli_now();
  if (!module) goto done;
  if (o.invoke && (status = prepare_invoke(&o, module, &args)) >= 0) goto done;
  store = kiln_store_new(engine);
  if (!store) {
    cli_error("out of memory");
    goto done;
  }
  if (o.max_memory) kiln_store_set_memory_limit(store, o.max_memory);
  if (o.has_fuel) kiln_store_set_fuel(store, o.fuel);
  status = run_module(&o, store, module, args, &times, &instance);
  if (o.stats) print_stats(&o, &times, module, store, instance);
done:
  if (status < 0) status = CLI_EXIT_ERROR;
  if (engine && o.tier == KILN_TIER_AUTO) {
    /* The program is done; a function the auto tier is still compiling in the background
     * would make freeing the engine (or exit()) wait for LLVM, seconds for a large one. Its
     * code is only lost: what is finished is in the cache already. */
    fflush(NULL);
    _exit(status);
  }
  free(args);
  kiln_store_free(store);
  kiln_module_free(module);
  cli_file_free(&file);
  kiln_engine_free(engine);
  free_run_options(&o);
  return status;
}
