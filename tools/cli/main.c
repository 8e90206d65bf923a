/* main.c - the kiln command: picks the subcommand, prints help and the version, and holds
 * the helpers every command uses (error lines, reading and compiling a module file). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---------------------------------------------------------------- help */

static const char overview_help[] =
    "kiln " KILN_VERSION " - a WebAssembly 2.0 runtime\n"
    "\n"
    "usage: kiln <command> [options] ...\n"
    "       kiln [run options] app.wasm [args...]   (same as 'kiln run'; also app.cwasm)\n"
    "\n"
    "commands:\n"
    "  run        run a WASI program, or call one exported function (--invoke)\n"
    "  compile    compile a module to native code ahead of time (app.wasm -> app.cwasm)\n"
    "  validate   check that modules are valid WebAssembly 2.0\n"
    "  inspect    show a module's imports, exports, memories, tables, globals and sections\n"
    "  bindgen    write typed JavaScript glue for a #[wasm_bindgen] Rust or kiln/guest.h C module\n"
    "  build      build a Rust crate or C sources to wasm and write their JavaScript glue\n"
    "  help       show the help of a command\n"
    "\n"
    "options:\n"
    "  -h, --help      show this help\n"
    "  -V, --version   print kiln's version\n"
    "\n"
    "'kiln help <command>' or 'kiln <command> --help' shows a command's options.\n";

static const char run_help[] =
    "usage: kiln run [options] app.wasm [args...]\n"
    "       kiln [options] app.wasm [args...]\n"
    "\n"
    "Run a WASI command (the module's _start export), or with --invoke call one exported\n"
    "function. Options come before the module path; everything after it goes to the\n"
    "program, whose argv[0] is the module path as given. The module may be a .cwasm from\n"
    "'kiln compile': its native code runs without compiling (whatever --tier says).\n"
    "\n"
    "options:\n"
    "  --invoke NAME           call the export NAME instead of _start, with the arguments\n"
    "                          after the module path parsed per its parameter types; print\n"
    "                          each result on its own line (_initialize runs first if the\n"
    "                          module exports it)\n"
    "  --dir HOST[::GUEST]     let the program use the host directory HOST under the name\n"
    "                          GUEST (default: HOST as given); repeatable\n"
    "  --dir-ro HOST[::GUEST]  the same, read-only: no creating, writing, renaming, deleting\n"
    "  --tcplisten ADDR:PORT   give the program a listening TCP socket (numeric address:\n"
    "                          127.0.0.1:8080, [::1]:8080) for sock_accept; it follows the\n"
    "                          --dir descriptors; repeatable\n"
    "  --env NAME=VALUE        set an environment variable of the program; --env NAME passes\n"
    "                          the host's value (nothing if unset); repeatable\n"
    "  --inherit-env           pass the whole host environment (--env values override it)\n"
    "  --max-memory SIZE       cap each linear memory at SIZE: bytes, or with a K, M or G\n"
    "                          suffix (binary: 64K = 64KiB = 65536; rounded down to 64 KiB\n"
    "                          pages); memory.grow beyond it returns -1\n"
    "  --timeout DURATION      stop the program after DURATION: a number with ms, s, m or h\n"
    "                          (500ms, 2s, 1.5m; a bare number is seconds); it traps, or\n"
    "                          if blocked in a host call is ended 1s later\n"
    "  --fuel N                stop the program after N units of fuel (one per function call\n"
    "                          and loop iteration, more for large bodies); it traps\n"
    "  --tier auto|interp|compiled\n"
    "                          auto (the default when kiln has the compiled tier): starts\n"
    "                          in the interpreter at once, and functions that run often are\n"
    "                          compiled by LLVM on a background thread and run natively (and\n"
    "                          kept in the cache, so the next run starts with them); interp:\n"
    "                          the interpreter only; compiled: the whole module compiled\n"
    "                          when it loads (about 9 s per MB of wasm, cached)\n"
    "  --bounds-checks         compiled tier: check every memory access in code and install\n"
    "                          no signal handler (by default memories are guarded by 2 GiB\n"
    "                          of unmapped address space and a fault is the trap)\n"
    "  --cache-dir DIR         keep compiled code in DIR (default: $XDG_CACHE_HOME/kiln,\n"
    "                          else ~/.cache/kiln): the next run of the same module with\n"
    "                          the same kiln on the same CPU loads it instead of compiling\n"
    "  --no-cache              neither read nor write the compiled-code cache\n"
    "  --nn-preload NAME:ENCODING:TARGET:PATH\n"
    "                          WASI-NN (wasi_ephemeral_nn): a model the guest loads with\n"
    "                          load_by_name(NAME), as WasmEdge spells it: encoding onnx,\n"
    "                          target cpu or auto (e.g. det:onnx:cpu:det.onnx); repeatable\n"
    "  --nn-onnxruntime PATH   ONNX Runtime's library (libonnxruntime.so.1, or its directory;\n"
    "                          default: $KILN_ONNXRUNTIME, then the loader's search path);\n"
    "                          the npm package onnxruntime-node has it\n"
    "  --nn-threads N          threads per model's inference (default: one per core)\n"
    "  --stats                 after the run, print to stderr: tier, wall, compile,\n"
    "                          instantiate and run times, where the native code came from\n"
    "                          (cache hit or miss, precompiled), peak RSS, linear memory, fuel\n"
    "  -h, --help              show this help\n"
    "\n"
    "--invoke values: i32 and i64 in decimal or 0x hex (a leading - is allowed; results print\n"
    "as signed decimal); f32 and f64 as decimals, hex floats, inf, -inf, nan or nan:0xPAYLOAD;\n"
    "v128 as 0x and up to 32 hex digits, one 128-bit number whose low bits are lane 0;\n"
    "funcref and externref as null.\n"
    "\n"
    "exit status:\n"
    "  0-255  the program's exit code: the code it gave proc_exit, or 0 when _start (or the\n"
    "         --invoke function) returns; other codes keep their low 8 bits (256 -> 0, -1 -> 255)\n"
    "  1      kiln could not run it: unreadable file, not wasm, invalid module, missing\n"
    "         import, bad --dir, no such export, a .cwasm that is corrupt or was compiled\n"
    "         for another CPU or kiln\n"
    "  2      the command line is wrong\n"
    "  134    the program trapped, ran out of fuel or timed out; stderr gets\n"
    "         'kiln: trap: <kind>: <message>' and the backtrace\n";

static const char compile_help[] =
    "usage: kiln compile [options] app.wasm [-o app.cwasm]\n"
    "\n"
    "Compile a module to native code for this machine (LLVM, as 'kiln run --tier=compiled'\n"
    "does) and write it as a precompiled module: the .wasm itself, its native code and what\n"
    "it was compiled for (kiln's ABI, LLVM's version, the CPU and its features, the options),\n"
    "with a checksum. 'kiln run app.cwasm' runs it without compiling; a .cwasm that is\n"
    "corrupt, or was compiled for another CPU or another kiln, is refused naming what\n"
    "differs. The compiled-code cache is neither read nor written.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   where to write (default: app.cwasm beside app.wasm)\n"
    "  --portable          code for the architecture's baseline CPU (x86-64, generic\n"
    "                      AArch64) instead of this one's: slower, runs on any machine of\n"
    "                      the architecture\n"
    "  -h, --help          show this help\n"
    "\n"
    "exit status: 0, 1 if the module cannot be read, is invalid or cannot be written, 2 on\n"
    "usage errors\n";

static const char validate_help[] =
    "usage: kiln validate app.wasm [more.wasm...]\n"
    "\n"
    "Decode, validate and compile each module. Print 'app.wasm: valid' on stdout for each\n"
    "valid one and the error ('kiln: app.wasm: invalid module: <where>: <what>') on stderr\n"
    "for the others.\n"
    "\n"
    "exit status: 0 if all are valid, 1 if any is not (or cannot be read), 2 on usage errors\n";

static const char inspect_help[] =
    "usage: kiln inspect app.wasm\n"
    "\n"
    "Describe a valid module: its sections with offsets and sizes, its imports and exports\n"
    "with their full types, the memories, tables and globals it defines, the number of\n"
    "functions, the start function, and its custom sections with their sizes.\n"
    "\n"
    "exit status: 0, or 1 if the module cannot be read or is invalid, 2 on usage errors\n";

static const char bindgen_help[] =
    "usage: kiln bindgen [options] app.wasm -o DIR\n"
    "\n"
    "Write JavaScript glue for the functions a guest exports, for kiln's Node.js package:\n"
    "DIR/app.js (CommonJS), app.mjs (ES module), app.d.ts and app.d.mts (TypeScript) and a copy\n"
    "of the module. Each function takes and returns JS values (numbers, BigInts, booleans,\n"
    "strings, typed arrays, undefined for None; an Err or a panic is thrown as an Error), and\n"
    "has an async form, f.async(...), that runs on the thread pool.\n"
    "\n"
    "Two kinds of modules: Rust with #[wasm_bindgen] (wasm-bindgen 0.2.83, built for\n"
    "wasm32-unknown-unknown), whose __wbindgen_describe_* exports kiln runs to learn the types,\n"
    "and C using kiln/guest.h, whose KILN_EXPORT declarations are in the kiln.exports section.\n"
    "A function with a type kiln does not support is an error naming it and the type.\n"
    "\n"
    "options:\n"
    "  -o, --out-dir DIR     where to write (created if missing)\n"
    "  --name NAME           name the files NAME.js, ... (default: the module's name)\n"
    "  --skip-unsupported    leave out functions with unsupported types (with a warning)\n"
    "  -h, --help            show this help\n"
    "\n"
    "exit status: 0, 1 if the module cannot be read or bound, 2 on usage errors\n";

static const char build_help[] =
    "usage: kiln build [options] PATH [-- compiler options...]\n"
    "\n"
    "Build guest sources to wasm, then run kiln bindgen on the module. PATH is:\n"
    "  a Rust crate (a directory with Cargo.toml, crate-type cdylib, using wasm-bindgen):\n"
    "      cargo build --release --target wasm32-unknown-unknown, with $KILN_CARGO, else the\n"
    "      cargo on PATH (rustup's) when its rustc has the target, else Debian's (/usr/bin/cargo\n"
    "      and rustc, offline against /usr/share/cargo/registry when it exists;\n"
    "      $KILN_CARGO_ONLINE set: cargo's own sources); kiln says which\n"
    "  C: a .c file, or a directory of .c files, using kiln/guest.h:\n"
    "      clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor ($KILN_CLANG)\n"
    "Arguments after -- go to cargo or clang (-DNAME, -lm, --features ...).\n"
    "\n"
    "options:\n"
    "  -o, --out-dir DIR     where the module and the glue go (default: PATH/../out)\n"
    "  --name NAME           name of the module and glue files (default: the crate's library\n"
    "                        name, the C file's name, or the directory's name)\n"
    "  --target-dir DIR      cargo's target directory (default: cargo's own, the crate's\n"
    "                        target/ or $CARGO_TARGET_DIR)\n"
    "  --skip-unsupported    as kiln bindgen's\n"
    "  --wasi                build a Rust crate for wasm32-wasi instead of wasm32-unknown-unknown:\n"
    "                        the guest gets WASI (println!, files under granted directories);\n"
    "                        only numbers, bool and char cross the boundary (C guests always use WASI)\n"
    "  --portable            precompile for this architecture's baseline CPU, not this one's\n"
    "  --no-precompile       write no NAME.cwasm (see below)\n"
    "  -h, --help            show this help\n"
    "\n"
    "When kiln has the compiled tier, the module is also compiled to native code (as 'kiln\n"
    "compile') into NAME.cwasm beside NAME.wasm; the glue loads it, so calls run native code\n"
    "from the first one with nothing compiled at run time, and falls back to NAME.wasm when\n"
    "NAME.cwasm was made for another CPU or kiln, is older than NAME.wasm, or KILN_TIER=interp.\n"
    "\n"
    "exit status: 0, 1 if the build or the binding fails, 2 on usage errors\n";

static const char help_help[] =
    "usage: kiln help [command]\n"
    "\n"
    "Show the overview, or the help of one command (run, compile, validate, inspect, bindgen,\n"
    "build, help).\n";

static const struct {
  const char *name;
  const char *text;
} help_pages[] = {
    {"run", run_help},
    {"compile", compile_help},
    {"validate", validate_help},
    {"inspect", inspect_help},
    {"bindgen", bindgen_help},
    {"build", build_help},
    {"help", help_help},
};

bool cli_help(FILE *out, const char *command) {
  if (!command) {
    fputs(overview_help, out);
    return true;
  }
  for (size_t i = 0; i < sizeof help_pages / sizeof help_pages[0]; i++) {
    if (strcmp(help_pages[i].name, command) == 0) {
      fputs(help_pages[i].text, out);
      return true;
    }
  }
  return false;
}

/* ---------------------------------------------------------------- messages */

void cli_error(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  fputs("kiln: ", stderr);
  vfprintf(stderr, format, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int cli_usage_error(const char *label, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  fprintf(stderr, "%s: ", label);
  vfprintf(stderr, format, ap);
  fputc('\n', stderr);
  va_end(ap);
  return CLI_EXIT_USAGE;
}

double cli_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- module files */

/* Read what fd has left: size_hint bytes for a regular file (one more to see its end). */
static bool read_all(int fd, size_t size_hint, cli_file *file) {
  size_t cap = size_hint && size_hint < SIZE_MAX ? size_hint + 1 : 65536, size = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) return false;
  for (;;) {
    if (size == cap) {
      uint8_t *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
      if (!bigger) {
        free(buf);
        errno = ENOMEM;
        return false;
      }
      buf = bigger;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + size, cap - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      free(buf);
      errno = saved;
      return false;
    }
    if (n == 0) break;
    size += (size_t)n;
  }
  file->bytes = buf;
  file->size = size;
  return true;
}

bool cli_file_read(const char *path, cli_file *file) {
  memset(file, 0, sizeof *file);
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  bool ok = fd >= 0 && fstat(fd, &st) == 0;
  if (ok && S_ISDIR(st.st_mode)) {
    errno = EISDIR;
    ok = false;
  }
  /* read, not mapped: the module borrows the bytes (cli_module_new), which must not change
   * under it when someone writes the file */
  if (ok) ok = read_all(fd, S_ISREG(st.st_mode) && (uint64_t)st.st_size <= SIZE_MAX ? (size_t)st.st_size : 0, file);
  int saved = errno;
  if (fd >= 0) close(fd);
  if (!ok) cli_error("cannot read '%s': %s", path, strerror(saved));
  return ok;
}

void cli_file_free(cli_file *file) {
  free((void *)file->bytes);
  memset(file, 0, sizeof *file);
}

kiln_module *cli_module_new(kiln_engine *engine, const char *path, const cli_file *file) {
  kiln_module *module = NULL;
  kiln_error err;
  kiln_status status = kiln_module_new_borrowed(engine, file->bytes, file->size, NULL, NULL, &module, &err);
  if (status == KILN_ERR_INCOMPATIBLE) /* err.message: "compiled for a different CPU ..." */
    cli_error("%s was %s: recompile it with kiln compile", path, err.message);
#ifndef KILN_HAVE_LLVM
  else if (status == KILN_ERR_ARGUMENT) /* a .cwasm: the engine has no compiler to check it with */
    cli_error("%s: a precompiled module needs the compiled tier, and this kiln was built without it (it needs "
              "LLVM 19: apt-get install llvm-19-dev, then rebuild)", path);
#endif
  else if (status != KILN_OK)
    cli_error("%s: %s: %s", path, kiln_status_string(err.status), err.message);
  return module;
}

/* ---------------------------------------------------------------- main */

/* Whether arg names a module to run without the word "run": a .wasm or .cwasm name or a file. */
static bool looks_like_module(const char *arg) {
  size_t n = strlen(arg);
  struct stat st;
  return (n > 5 && strcmp(arg + n - 5, ".wasm") == 0) || (n > 6 && strcmp(arg + n - 6, ".cwasm") == 0) ||
         (stat(arg, &st) == 0 && S_ISREG(st.st_mode));
}

static int help_command(int argc, char **argv) {
  if (argc > 2)
    return cli_usage_error("kiln help", "too many arguments (usage: kiln help [command])");
  const char *command = argc == 2 ? argv[1] : NULL;
  if (command && command[0] == '-' && strcmp(command, "-h") && strcmp(command, "--help"))
    return cli_usage_error("kiln help", "unknown option '%s' (usage: kiln help [command])", command);
  if (command && command[0] == '-') command = "help";
  if (!cli_help(stdout, command))
    return cli_usage_error("kiln help", "unknown command '%s' (commands: run, compile, validate, inspect, bindgen, build, help)",
                           command);
  return 0;
}

char **cli_argv;

int main(int argc, char **argv) {
  cli_argv = argv;
  if (argc < 2) {
    cli_help(stderr, NULL);
    return CLI_EXIT_USAGE;
  }
  const char *first = argv[1];
  if (strcmp(first, "run") == 0) return cli_run("kiln run", argc - 1, argv + 1);
  if (strcmp(first, "compile") == 0) return cli_compile("kiln compile", argc - 1, argv + 1);
  if (strcmp(first, "validate") == 0) return cli_validate("kiln validate", argc - 1, argv + 1);
  if (strcmp(first, "inspect") == 0) return cli_inspect("kiln inspect", argc - 1, argv + 1);
  if (strcmp(first, "bindgen") == 0) return cli_bindgen("kiln bindgen", argc - 1, argv + 1);
  if (strcmp(first, "build") == 0) return cli_build("kiln build", argc - 1, argv + 1);
  if (strcmp(first, "help") == 0) return help_command(argc - 1, argv + 1);
  if (strcmp(first, "-h") == 0 || strcmp(first, "--help") == 0) {
    cli_help(stdout, NULL);
    return 0;
  }
  if (strcmp(first, "-V") == 0 || strcmp(first, "--version") == 0) {
    puts("kiln " KILN_VERSION);
    return 0;
  }
  /* Like wasmtime, "run" may be left out: options of run or a module path come first. */
  if (first[0] == '-' || looks_like_module(first)) return cli_run("kiln", argc, argv);
  return cli_usage_error("kiln", "unknown command '%s' (commands: run, compile, validate, inspect, bindgen, build, help; "
                         "or give a .wasm file to run)", first);
}
