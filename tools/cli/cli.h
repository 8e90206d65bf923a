/* cli.h - what the files of the kiln command share: exit codes, error lines, reading and
 * compiling a module file, and the value syntax of --invoke. A client of kiln.h only. */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kiln.h"

/* Exit statuses of kiln itself (a program's own exit code passes through; docs/cli.md). */
enum {
  CLI_EXIT_ERROR = 1,  /* unreadable file, invalid module, link error, bad --dir, ... */
  CLI_EXIT_USAGE = 2,  /* the command line is wrong */
  CLI_EXIT_TRAP = 134, /* the program trapped (as abort(): 128 + SIGABRT) */
};

/* Print "kiln: <message>" on one line to stderr. */
void cli_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Print "<label>: <message>" on one line to stderr (label: "kiln run", or "kiln" when run
 * is implied) and return CLI_EXIT_USAGE. The message should say what to type instead. */
int cli_usage_error(const char *label, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Help for one command ("run", "compile", "validate", "inspect", "help") or the overview (NULL) on
 * out. Returns false if there is no such command. */
bool cli_help(FILE *out, const char *command);

/* The bytes of a module file: mapped when it is a regular file, read otherwise. */
typedef struct cli_file {
  const uint8_t *bytes;
  size_t size;
} cli_file;

/* Read path; on failure print "kiln: cannot read 'path': <reason>" and return false. */
bool cli_file_read(const char *path, cli_file *file);
void cli_file_free(cli_file *file);

/* Compile file's bytes (a .wasm, or a .cwasm from kiln compile), which the module borrows:
 * free the file only after the module and its instances. On failure print
 * "kiln: path: <status>: <message>" (for a .cwasm made for another machine: "kiln: path was
 * compiled for a different CPU ...: recompile it with kiln compile") and return NULL. */
kiln_module *cli_module_new(kiln_engine *engine, const char *path, const cli_file *file);

/* Seconds on the monotonic clock. */
double cli_now(void);

/* "(i32, i64) -> (f32)" into buf. */
void cli_format_functype(char *buf, size_t size, kiln_functype type);
/* Parse text as a value of type; false if it is not one. */
bool cli_parse_value(const char *text, kiln_valtype type, kiln_val *out);
/* Print a value on its own line: i32/i64 signed decimal, floats shortest round-trip
 * ("nan", "inf", "nan:0x..." for other NaN payloads), v128 as 0x + 32 hex digits. */
void cli_print_value(FILE *out, const kiln_val *value);

/* The commands. argv[0] is the command's name; label prefixes usage errors. */
int cli_run(const char *label, int argc, char **argv);
int cli_validate(const char *label, int argc, char **argv);
int cli_inspect(const char *label, int argc, char **argv);
int cli_bindgen(const char *label, int argc, char **argv);
int cli_build(const char *label, int argc, char **argv);
int cli_compile(const char *label, int argc, char **argv);

/* Compile input (a .wasm) to native code for this machine (portable: its baseline CPU) and
 * write the precompiled module to output. Returns an exit status; errors are printed. */
int cli_precompile(const char *input, const char *output, bool portable);

/* Bind one module: write out_dir/NAME.js, .mjs, .d.ts, .d.mts and .wasm (NAME: name, or the
 * module's file name without .wasm). Returns an exit status; errors are printed. */
int cli_bindgen_module(const char *path, const char *out_dir, const char *name, bool skip_unsupported);

/* The version of the table format of the glue bindgen writes, which the glue's runtime in the
 * npm package (bindings/node/lib/glue.js, FORMAT) reads: both change together. */
#define BINDGEN_GLUE_FORMAT 2

/* The process's argv, as main() got it (for re-executing the dynamically linked twin). */
extern char **cli_argv;

#endif /* KILN_CLI_H */
