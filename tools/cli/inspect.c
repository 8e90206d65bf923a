/* inspect.c - `kiln validate` and `kiln inspect`. Imports, exports and custom sections come
 * from kiln.h; section sizes and the memories, tables and globals a module defines (kiln.h
 * describes only imported and exported ones) come from a small walk over the bytes of an
 * already validated module. */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"

/* Parse the options of a command that has none but --help. Returns -1 to go on (optind is
 * the first operand), else the exit status. */
static int parse_no_options(const char *label, const char *command, int argc, char **argv) {
  static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  opterr = 0;
  optind = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
    if (c == 'h') {
      cli_help(stdout, command);
      return 0;
    }
    return cli_usage_error(label, "unknown option '%s' (see 'kiln help %s')", argv[optind - 1], command);
  }
  if (optind == argc)
    return cli_usage_error(label, "missing module path (usage: kiln %s app.wasm%s)", command,
                           strcmp(command, "validate") == 0 ? " [more.wasm...]" : "");
  return -1;
}

/* ---------------------------------------------------------------- validate */

int cli_validate(const char *label, int argc, char **argv) {
  int status = parse_no_options(label, "validate", argc, argv);
  if (status >= 0) return status;
  kiln_engine *engine = kiln_engine_new(NULL);
  if (!engine) {
    cli_error("out of memory");
    return CLI_EXIT_ERROR;
  }
  status = 0;
  for (int i = optind; i < argc; i++) {
    cli_file file;
    kiln_module *module = NULL;
    if (cli_file_read(argv[i], &file)) {
      module = cli_module_new(engine, argv[i], &file);
      if (module) printf("%s: valid\n", argv[i]);
      kiln_module_free(module);
      cli_file_free(&file);
    }
    if (!module) status = CLI_EXIT_ERROR;
  }
  kiln_engine_free(engine);
  return status;
}

/* ---------------------------------------------------------------- reading sections */

typedef struct reader {
  const uint8_t *at, *end;
  bool bad; /* read past the end or a malformed integer */
} reader;

static uint8_t read_byte(reader *r) {
  if (r->at >= r->end) {
    r->bad = true;
    return 0;
  }
  return *r->at++;
}

static uint64_t read_uleb(reader *r) {
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    uint8_t b = read_byte(r);
    v |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) return v;
  }
  r->bad = true;
  return 0;
}

static int64_t read_sleb(reader *r) {
  uint64_t v = 0;
  unsigned shift = 0;
  uint8_t b;
  do {
    b = read_byte(r);
    if (shift < 64) v |= (uint64_t)(b & 0x7F) << shift;
    shift += 7;
  } while ((b & 0x80) && !r->bad && shift < 70);
  if (shift < 64 && (b & 0x40)) v |= ~UINT64_C(0) << shift;
  return (int64_t)v;
}

static void skip(reader *r, uint64_t n) {
  if (n > (uint64_t)(r->end - r->at)) {
    r->bad = true;
    r->at = r->end;
  } else {
    r->at += n;
  }
}

static const char *const section_names[] = {
    "custom", "type", "import", "function", "table", "memory", "global",
    "export", "start", "element", "code", "data", "datacount",
};

/* What inspect reports from the bytes. */
typedef struct section_walk {
  reader sections[13]; /* the payload of each known section (at == NULL: absent) */
} section_walk;

/* Print the section table and remember where the payloads are. The module is valid, so a
 * malformed header only happens with a file that changed under us; stop there. */
static void print_sections(const cli_file *file, section_walk *walk) {
  reader r = {file->bytes + 8, file->bytes + file->size, false};
  memset(walk, 0, sizeof *walk);
  printf("sections:\n");
  while (r.at < r.end && !r.bad) {
    size_t offset = (size_t)(r.at - file->bytes);
    uint8_t id = read_byte(&r);
    uint64_t size = read_uleb(&r);
    const uint8_t *payload = r.at;
    skip(&r, size);
    if (r.bad) break;
    if (id == 0) {
      reader name = {payload, payload + size, false};
      uint64_t len = read_uleb(&name);
      const uint8_t *text = name.at;
      skip(&name, len);
      printf("  custom %-15.*s offset 0x%08zx  %10" PRIu64 " bytes\n", name.bad ? 0 : (int)len,
             name.bad ? "" : (const char *)text, offset, size);
    } else {
      printf("  %-22s offset 0x%08zx  %10" PRIu64 " bytes\n",
             id < 13 ? section_names[id] : "unknown", offset, size);
      if (id < 13) walk->sections[id] = (reader){payload, payload + size, false};
    }
  }
}

static void format_limits(char *buf, size_t size, kiln_limits limits, const char *unit) {
  if (limits.has_max)
    snprintf(buf, size, "min %" PRIu64 " %s, max %" PRIu64 "%s", limits.min, unit, limits.max,
             limits.shared ? ", shared" : "");
  else
    snprintf(buf, size, "min %" PRIu64 " %s, no max", limits.min, unit);
}

static kiln_limits read_limits(reader *r) {
  kiln_limits limits = {0};
  uint8_t flags = read_byte(r);
  limits.min = read_uleb(r);
  limits.has_max = flags & 1;
  limits.shared = flags == 0x03;
  if (limits.has_max) limits.max = read_uleb(r);
  return limits;
}

/* A constant expression (a global's initialiser) as text, e.g. "i32.const 66560". */
static void format_init(reader *r, char *buf, size_t size) {
  uint8_t op = read_byte(r);
  switch (op) {
    case 0x41: snprintf(buf, size, "i32.const %" PRId32, (int32_t)read_sleb(r)); break;
    case 0x42: snprintf(buf, size, "i64.const %" PRId64, read_sleb(r)); break;
    case 0x43: snprintf(buf, size, "f32.const"); skip(r, 4); break;
    case 0x44: snprintf(buf, size, "f64.const"); skip(r, 8); break;
    case 0x23: snprintf(buf, size, "global.get %" PRIu64, read_uleb(r)); break;
    case 0xD0: snprintf(buf, size, "ref.null %s", kiln_valtype_string((kiln_valtype)read_byte(r))); break;
    case 0xD2: snprintf(buf, size, "ref.func %" PRIu64, read_uleb(r)); break;
    case 0xFD: snprintf(buf, size, "v128.const"); read_uleb(r); skip(r, 16); break;
    default: snprintf(buf, size, "?"); r->bad = true; return;
  }
  if (read_byte(r) != 0x0B) r->bad = true; /* end */
}

/* ---------------------------------------------------------------- inspect */

static const char *const kind_names[] = {"func", "table", "memory", "global"};

/* The type of an import or export as text: "(i32) -> ()", "funcref, min 1 elements, ...". */
static void format_externtype(char *buf, size_t size, const kiln_externtype *type) {
  switch (type->kind) {
    case KILN_EXTERN_FUNC:
      cli_format_functype(buf, size, type->func);
      return;
    case KILN_EXTERN_TABLE: {
      char limits[96];
      format_limits(limits, sizeof limits, type->limits, "elements");
      snprintf(buf, size, "%s, %s", kiln_valtype_string(type->elem_type), limits);
      return;
    }
    case KILN_EXTERN_MEMORY:
      format_limits(buf, size, type->limits, "pages");
      return;
    case KILN_EXTERN_GLOBAL:
      snprintf(buf, size, "%s%s", type->global_mutable ? "mut " : "", kiln_valtype_string(type->global_type));
      return;
  }
  snprintf(buf, size, "?");
}

/* Imports; counts per kind go to imported[]. */
static void print_imports(const kiln_module *module, uint32_t imported[4]) {
  uint32_t n = kiln_module_import_count(module);
  printf("imports (%" PRIu32 "):\n", n);
  for (uint32_t i = 0; i < n; i++) {
    const char *module_name, *field;
    kiln_externtype type;
    char text[4096];
    if (kiln_module_import(module, i, &module_name, &field, &type) != KILN_OK) continue;
    format_externtype(text, sizeof text, &type);
    printf("  %-6s %s.%s: %s\n", kind_names[type.kind], module_name, field, text);
    imported[type.kind]++;
  }
}

static void print_exports(const kiln_module *module) {
  uint32_t n = kiln_module_export_count(module);
  printf("exports (%" PRIu32 "):\n", n);
  for (uint32_t i = 0; i < n; i++) {
    const char *name;
    kiln_externtype type;
    char text[4096];
    if (kiln_module_export(module, i, &name, &type) != KILN_OK) continue;
    format_externtype(text, sizeof text, &type);
    printf("  %-6s %s: %s\n", kind_names[type.kind], name, text);
  }
}

/* The imported objects of one kind, in index order (they come first in its index space). */
static void print_imported_of_kind(const kiln_module *module, kiln_externkind kind) {
  uint32_t index = 0, n = kiln_module_import_count(module);
  for (uint32_t i = 0; i < n; i++) {
    const char *module_name, *field;
    kiln_externtype type;
    char text[256];
    if (kiln_module_import(module, i, &module_name, &field, &type) != KILN_OK || type.kind != kind) continue;
    format_externtype(text, sizeof text, &type);
    printf("  %-6s %" PRIu32 ": %s (imported %s.%s)\n", kind_names[kind], index++, text, module_name, field);
  }
}

/* A vector section's count (0 if the section is absent). */
static uint64_t section_count(reader *section) {
  return section->at ? read_uleb(section) : 0;
}

static void print_defined(const kiln_module *module, section_walk *walk, const uint32_t imported[4]) {
  char text[256];
  reader *tables = &walk->sections[4], *memories = &walk->sections[5], *globals = &walk->sections[6];
  uint64_t table_count = section_count(tables), memory_count = section_count(memories);
  uint64_t global_count = section_count(globals), func_count = section_count(&walk->sections[3]);

  printf("functions: %" PRIu64 " (%" PRIu32 " imported, %" PRIu64 " defined)\n",
         imported[KILN_EXTERN_FUNC] + func_count, imported[KILN_EXTERN_FUNC], func_count);

  printf("memories (%" PRIu64 "):\n", imported[KILN_EXTERN_MEMORY] + memory_count);
  print_imported_of_kind(module, KILN_EXTERN_MEMORY);
  for (uint64_t i = 0; i < memory_count && !memories->bad; i++) {
    format_limits(text, sizeof text, read_limits(memories), "pages");
    printf("  memory %" PRIu64 ": %s\n", imported[KILN_EXTERN_MEMORY] + i, text);
  }

  printf("tables (%" PRIu64 "):\n", imported[KILN_EXTERN_TABLE] + table_count);
  print_imported_of_kind(module, KILN_EXTERN_TABLE);
  for (uint64_t i = 0; i < table_count && !tables->bad; i++) {
    kiln_valtype elem = (kiln_valtype)read_byte(tables);
    format_limits(text, sizeof text, read_limits(tables), "elements");
    printf("  table  %" PRIu64 ": %s, %s\n", imported[KILN_EXTERN_TABLE] + i, kiln_valtype_string(elem), text);
  }

  printf("globals (%" PRIu64 "):\n", imported[KILN_EXTERN_GLOBAL] + global_count);
  print_imported_of_kind(module, KILN_EXTERN_GLOBAL);
  for (uint64_t i = 0; i < global_count && !globals->bad; i++) {
    kiln_valtype type = (kiln_valtype)read_byte(globals);
    bool is_mutable = read_byte(globals) == 1;
    format_init(globals, text, sizeof text);
    printf("  global %" PRIu64 ": %s%s = %s\n", imported[KILN_EXTERN_GLOBAL] + i, is_mutable ? "mut " : "",
           kiln_valtype_string(type), text);
  }

  if (walk->sections[8].at) printf("start: function %" PRIu64 "\n", read_uleb(&walk->sections[8]));
}

static void print_custom_sections(const kiln_module *module) {
  uint32_t n = kiln_module_custom_section_count(module);
  printf("custom sections (%" PRIu32 "):\n", n);
  for (uint32_t i = 0; i < n; i++) {
    const char *name;
    const uint8_t *data;
    size_t size;
    if (kiln_module_custom_section(module, i, &name, &data, &size) == KILN_OK)
      printf("  %-22s %10zu bytes\n", name, size);
  }
}

int cli_inspect(const char *label, int argc, char **argv) {
  int status = parse_no_options(label, "inspect", argc, argv);
  if (status >= 0) return status;
  if (argc - optind > 1)
    return cli_usage_error(label, "one module at a time (usage: kiln inspect app.wasm)");
  const char *path = argv[optind];
  kiln_engine *engine = kiln_engine_new(NULL);
  cli_file file;
  kiln_module *module = NULL;
  bool ok = false;
  if (engine && cli_file_read(path, &file)) {
    module = cli_module_new(engine, path, &file);
    if (module) {
      section_walk walk;
      uint32_t imported[4] = {0};
      printf("%s: %zu bytes, wasm version %" PRIu32 "\n", path, file.size,
             (uint32_t)file.bytes[4] | (uint32_t)file.bytes[5] << 8 | (uint32_t)file.bytes[6] << 16 |
                 (uint32_t)file.bytes[7] << 24);
      print_sections(&file, &walk);
      print_imports(module, imported);
      print_exports(module);
      print_defined(module, &walk, imported);
      print_custom_sections(module);
    }
    ok = module != NULL;
    kiln_module_free(module);
    cli_file_free(&file);
  } else if (!engine) {
    cli_error("out of memory");
  }
  kiln_engine_free(engine);
  return ok ? 0 : CLI_EXIT_ERROR;
}
