/* codeload.c - loader of x86-64 ELF64 relocatable objects: one mapping, GOT and stubs, W^X. */
#define _DEFAULT_SOURCE
#include "native/codeload.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_IMAGE ((uint64_t)1 << 30) /* keeps every PC-relative distance within +-2 GiB */
#define MAX_ALIGN 4096u
#define GOT_ENTRY 8u
#define STUB_SIZE 8u /* jmp *disp32(%rip); two bytes of padding */

/* ELF constants (ours, so the loader needs no <elf.h>). */
enum {
  EHDR_SIZE = 64, SHDR_SIZE = 64, SYM_SIZE = 24, RELA_SIZE = 24,
  ET_REL = 1, EM_X86_64 = 62,
  SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_RELA = 4, SHT_NOTE = 7, SHT_NOBITS = 8,
  SHT_REL = 9, SHT_INIT_ARRAY = 14, SHT_FINI_ARRAY = 15, SHT_PREINIT_ARRAY = 16,
  SHN_UNDEF = 0, SHN_LORESERVE = 0xff00, SHN_ABS = 0xfff1, SHN_COMMON = 0xfff2,
  STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2, STT_FUNC = 2, STT_SECTION = 3, STT_TLS = 6,
};
#define SHT_X86_64_UNWIND 0x70000001u
#define SHF_WRITE 0x1u
#define SHF_ALLOC 0x2u
#define SHF_EXECINSTR 0x4u
#define SHF_TLS 0x400u

enum { R_NONE = 0, R_64 = 1, R_PC32 = 2, R_PLT32 = 4, R_GOTPCREL = 9, R_32 = 10, R_32S = 11,
       R_PC64 = 24, R_GOTPCRELX = 41, R_REX_GOTPCRELX = 42 };

enum { KIND_NONE, KIND_TEXT, KIND_RODATA, KIND_DATA, NKINDS };

typedef struct section {
  const uint8_t *data; /* file bytes, NULL for SHT_NOBITS or unused sections */
  const char *name;
  uint64_t size, align, flags, offset, entsize;
  uint32_t type, link, info;
  int kind;
  uint64_t addr; /* offset in the image */
} section;

typedef enum { SYM_UNRESOLVED, SYM_DEFINED, SYM_IMPORT, SYM_ABS } sym_state;

typedef struct symbol {
  const char *name;
  uint64_t value, size;
  uint16_t shndx;
  uint8_t bind, type;
  sym_state state;
  uint64_t addr; /* absolute address of SYM_IMPORT and SYM_ABS */
  int64_t got, stub; /* slot indices, -1 when none */
} symbol;

typedef struct reloc {
  uint64_t offset;
  uint32_t sym, type;
  int64_t addend;
} reloc;

typedef struct export_sym {
  const char *name;
  void *addr;
} export_sym;

struct codeload_image {
  uint8_t *base;
  size_t size, code_size;
  codeload_function *funcs;
  size_t nfuncs;
  export_sym *exports;
  size_t nexports;
  char *names;
};

typedef struct loader {
  const uint8_t *obj;
  size_t size;
  section *secs;
  size_t nsecs;
  symbol *syms;
  size_t nsyms;
  size_t symtab; /* section index of SHT_SYMTAB, 0 when none */
  uint64_t ngot, nstub, got_off, stub_off;
  uint64_t region[NKINDS][2]; /* [start, end) of each kind's pages */
  uint64_t code_end, total;
  uint8_t *base;
  const codeload_symbol *imports;
  size_t nimports;
  char *err;
  size_t errlen;
} loader;

static int fail(loader *ld, const char *fmt, ...) {
  if (ld->err && ld->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err, ld->errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); } /* x86-64 is little-endian */
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* The NUL-terminated string at off in section idx, or NULL if out of bounds/unterminated. */
static const char *str_at(const loader *ld, size_t idx, uint64_t off) {
  if (idx >= ld->nsecs) return NULL;
  const section *s = &ld->secs[idx];
  if (s->type != SHT_STRTAB || !s->data || off >= s->size) return NULL;
  if (!memchr(s->data + off, 0, s->size - off)) return NULL;
  return (const char *)s->data + off;
}

static const char *sec_name(const loader *ld, size_t idx) {
  const char *n = idx < ld->nsecs ? ld->secs[idx].name : NULL;
  return n ? n : "?";
}

static const char *reloc_name(uint32_t type) {
  switch (type) {
  case 0: return "R_X86_64_NONE";        case 1: return "R_X86_64_64";
  case 2: return "R_X86_64_PC32";        case 3: return "R_X86_64_GOT32";
  case 4: return "R_X86_64_PLT32";       case 5: return "R_X86_64_COPY";
  case 6: return "R_X86_64_GLOB_DAT";    case 7: return "R_X86_64_JUMP_SLOT";
  case 8: return "R_X86_64_RELATIVE";    case 9: return "R_X86_64_GOTPCREL";
  case 10: return "R_X86_64_32";         case 11: return "R_X86_64_32S";
  case 12: return "R_X86_64_16";         case 13: return "R_X86_64_PC16";
  case 14: return "R_X86_64_8";          case 15: return "R_X86_64_PC8";
  case 16: return "R_X86_64_DTPMOD64";   case 17: return "R_X86_64_DTPOFF64";
  case 18: return "R_X86_64_TPOFF64";    case 19: return "R_X86_64_TLSGD";
  case 20: return "R_X86_64_TLSLD";      case 21: return "R_X86_64_DTPOFF32";
  case 22: return "R_X86_64_GOTTPOFF";   case 23: return "R_X86_64_TPOFF32";
  case 24: return "R_X86_64_PC64";       case 25: return "R_X86_64_GOTOFF64";
  case 26: return "R_X86_64_GOTPC32";    case 27: return "R_X86_64_GOT64";
  case 28: return "R_X86_64_GOTPCREL64"; case 29: return "R_X86_64_GOTPC64";
  case 31: return "R_X86_64_PLTOFF64";   case 41: return "R_X86_64_GOTPCRELX";
  case 42: return "R_X86_64_REX_GOTPCRELX";
  default: return NULL;
  }
}

/* Bytes patched by a supported relocation type, 0 when unsupported. */
static unsigned reloc_width(uint32_t type) {
  switch (type) {
  case R_NONE: return 0;
  case R_64: case R_PC64: return 8;
  case R_PC32: case R_PLT32: case R_GOTPCREL: case R_32: case R_32S: case R_GOTPCRELX:
  case R_REX_GOTPCRELX: return 4;
  default: return 0;
  }
}

static int check_header(loader *ld) {
  const uint8_t *h = ld->obj;
  if (ld->size < EHDR_SIZE) return fail(ld, "object too small for an ELF header");
  if (memcmp(h, "\177ELF", 4) != 0) return fail(ld, "not an ELF file");
  if (h[4] != 2 || h[5] != 1) return fail(ld, "not a little-endian ELF64 file");
  if (rd16(h + 16) != ET_REL) return fail(ld, "not a relocatable object (e_type %u)", rd16(h + 16));
  if (rd16(h + 18) != EM_X86_64) return fail(ld, "not an x86-64 object (e_machine %u)", rd16(h + 18));
  uint64_t shoff = rd64(h + 40);
  uint16_t shentsize = rd16(h + 58), shnum = rd16(h + 60), shstrndx = rd16(h + 62);
  if (shnum == 0 || shentsize != SHDR_SIZE)
    return fail(ld, "unsupported section header table (e_shnum %u, e_shentsize %u)", shnum, shentsize);
  if (shoff > ld->size || (ld->size - shoff) / SHDR_SIZE < shnum)
    return fail(ld, "section header table out of bounds");
  if (shstrndx >= shnum) return fail(ld, "bad section name table index %u", shstrndx);
  ld->nsecs = shnum;
  return 0;
}

/* Decode the section headers; contents are bounds-checked when a section is used. */
static int read_sections(loader *ld) {
  ld->secs = calloc(ld->nsecs, sizeof *ld->secs);
  if (!ld->secs) return fail(ld, "out of memory");
  const uint8_t *tab = ld->obj + rd64(ld->obj + 40);
  for (size_t i = 0; i < ld->nsecs; i++) {
    const uint8_t *p = tab + i * SHDR_SIZE;
    section *s = &ld->secs[i];
    s->type = rd32(p + 4);
    s->flags = rd64(p + 8);
    s->offset = rd64(p + 24);
    s->size = rd64(p + 32);
    s->link = rd32(p + 40);
    s->info = rd32(p + 44);
    s->align = rd64(p + 48);
    s->entsize = rd64(p + 56);
    if (s->type != SHT_NOBITS && s->offset <= ld->size && s->size <= ld->size - s->offset)
      s->data = ld->obj + s->offset;
  }
  size_t shstrndx = rd16(ld->obj + 62);
  for (size_t i = 0; i < ld->nsecs; i++) {
    const char *n = str_at(ld, shstrndx, rd32(tab + i * SHDR_SIZE));
    if (!n) return fail(ld, "section %zu: bad name", i);
    ld->secs[i].name = n;
  }
  return 0;
}

/* Decide which sections are loaded and into which region. */
static int classify_section(loader *ld, size_t i) {
  section *s = &ld->secs[i];
  s->kind = KIND_NONE;
  if (!(s->flags & SHF_ALLOC) || i == 0) return 0;
  if (strcmp(s->name, ".eh_frame") == 0 || s->type == SHT_X86_64_UNWIND || s->type == SHT_NOTE)
    return 0;
  if (s->flags & SHF_TLS) return fail(ld, "section %s: thread-local storage not supported", s->name);
  if (s->type == SHT_INIT_ARRAY || s->type == SHT_FINI_ARRAY || s->type == SHT_PREINIT_ARRAY)
    return fail(ld, "section %s: constructors/destructors not supported", s->name);
  if (s->type != SHT_PROGBITS && s->type != SHT_NOBITS)
    return fail(ld, "section %s: unsupported allocated section type %u", s->name, s->type);
  if ((s->flags & SHF_WRITE) && (s->flags & SHF_EXECINSTR))
    return fail(ld, "section %s: writable and executable", s->name);
  if (s->type == SHT_NOBITS && (s->flags & SHF_EXECINSTR))
    return fail(ld, "section %s: executable without contents", s->name);
  if (s->type == SHT_PROGBITS && !s->data) return fail(ld, "section %s: contents out of bounds", s->name);
  if (s->size > MAX_IMAGE) return fail(ld, "section %s: too large", s->name);
  if (s->align == 0) s->align = 1;
  if (s->align > MAX_ALIGN || (s->align & (s->align - 1)))
    return fail(ld, "section %s: unsupported alignment %llu", s->name, (unsigned long long)s->align);
  s->kind = (s->flags & SHF_EXECINSTR) ? KIND_TEXT : (s->flags & SHF_WRITE) ? KIND_DATA : KIND_RODATA;
  return 0;
}

static const codeload_symbol *find_import(const loader *ld, const char *name) {
  for (size_t i = 0; i < ld->nimports; i++)
    if (ld->imports[i].name && strcmp(ld->imports[i].name, name) == 0) return &ld->imports[i];
  return NULL;
}

static int resolve_symbol(loader *ld, symbol *sym, size_t i) {
  if (i == 0) return 0; /* the null symbol stays unresolved */
  if (sym->shndx == SHN_UNDEF) {
    if (!sym->name[0]) return fail(ld, "symbol %zu: undefined symbol without a name", i);
    const codeload_symbol *imp = find_import(ld, sym->name);
    if (!imp) return fail(ld, "undefined symbol '%s' is not an allowed import", sym->name);
    sym->state = SYM_IMPORT;
    sym->addr = (uint64_t)(uintptr_t)imp->addr;
    return 0;
  }
  if (sym->type == STT_TLS) return fail(ld, "symbol '%s': thread-local symbols not supported", sym->name);
  if (sym->shndx == SHN_ABS) {
    sym->state = SYM_ABS;
    sym->addr = sym->value;
    return 0;
  }
  if (sym->shndx == SHN_COMMON) return fail(ld, "symbol '%s': common symbols not supported", sym->name);
  if (sym->shndx >= SHN_LORESERVE || sym->shndx >= ld->nsecs)
    return fail(ld, "symbol '%s': bad section index %u", sym->name, sym->shndx);
  const section *s = &ld->secs[sym->shndx];
  if (s->kind == KIND_NONE) return 0; /* in a section we do not load; fine unless referenced */
  if (sym->value > s->size || (sym->type == STT_FUNC && sym->size > s->size - sym->value))
    return fail(ld, "symbol '%s': outside its section %s", sym->name, s->name);
  sym->state = SYM_DEFINED;
  return 0;
}

static int read_symbols(loader *ld) {
  for (size_t i = 1; i < ld->nsecs; i++) {
    if (ld->secs[i].type != SHT_SYMTAB) continue;
    if (ld->symtab) return fail(ld, "more than one symbol table");
    ld->symtab = i;
  }
  if (!ld->symtab) return 0;
  const section *st = &ld->secs[ld->symtab];
  if (!st->data || st->entsize != SYM_SIZE || st->size % SYM_SIZE)
    return fail(ld, "malformed symbol table");
  ld->nsyms = st->size / SYM_SIZE;
  ld->syms = calloc(ld->nsyms ? ld->nsyms : 1, sizeof *ld->syms);
  if (!ld->syms) return fail(ld, "out of memory");
  for (size_t i = 0; i < ld->nsyms; i++) {
    const uint8_t *p = st->data + i * SYM_SIZE;
    symbol *sym = &ld->syms[i];
    sym->name = str_at(ld, st->link, rd32(p));
    if (!sym->name) return fail(ld, "symbol %zu: bad name", i);
    sym->bind = p[4] >> 4;
    sym->type = p[4] & 0xf;
    sym->shndx = rd16(p + 6);
    sym->value = rd64(p + 8);
    sym->size = rd64(p + 16);
    sym->got = sym->stub = -1;
  }
  return 0;
}

/* Relocation section i applies to a loaded section: validate its header. */
static int rela_target(loader *ld, size_t i, section **target) {
  section *rs = &ld->secs[i];
  *target = NULL;
  if (rs->type != SHT_RELA && rs->type != SHT_REL) return 0;
  if (rs->info >= ld->nsecs || ld->secs[rs->info].kind == KIND_NONE) return 0;
  if (rs->type == SHT_REL) return fail(ld, "section %s: REL relocations not supported", rs->name);
  if (!rs->data || rs->entsize != RELA_SIZE || rs->size % RELA_SIZE)
    return fail(ld, "section %s: malformed relocation section", rs->name);
  if (!ld->symtab || rs->link != ld->symtab)
    return fail(ld, "section %s: relocations without the symbol table", rs->name);
  *target = &ld->secs[rs->info];
  if ((*target)->type == SHT_NOBITS && rs->size)
    return fail(ld, "section %s: relocations in a section without contents", rs->name);
  return 0;
}

/* Decode and validate relocation k of section rs against target t. */
static int read_reloc(loader *ld, const section *rs, const section *t, size_t k, reloc *r) {
  const uint8_t *p = rs->data + k * RELA_SIZE;
  uint64_t info = rd64(p + 8);
  r->offset = rd64(p);
  r->sym = (uint32_t)(info >> 32);
  r->type = (uint32_t)info;
  r->addend = (int64_t)rd64(p + 16);
  if (r->type == R_NONE) return 0;
  unsigned width = reloc_width(r->type);
  if (!width) {
    const char *n = reloc_name(r->type);
    if (n) return fail(ld, "section %s: relocation %s not supported", t->name, n);
    return fail(ld, "section %s: unknown relocation type %u", t->name, r->type);
  }
  if (r->offset > t->size || t->size - r->offset < width)
    return fail(ld, "section %s: relocation offset %llu out of bounds", t->name,
                (unsigned long long)r->offset);
  if (r->sym == 0 || r->sym >= ld->nsyms)
    return fail(ld, "section %s: relocation with bad symbol index %u", t->name, r->sym);
  const symbol *sym = &ld->syms[r->sym];
  if (sym->state == SYM_UNRESOLVED)
    return fail(ld, "section %s: relocation against '%s' in unloaded section %s", t->name,
                sym->name[0] ? sym->name : "?", sec_name(ld, sym->shndx));
  return 0;
}

static int is_got_reloc(uint32_t t) { return t == R_GOTPCREL || t == R_GOTPCRELX || t == R_REX_GOTPCRELX; }

/* First pass over relocations: validate them all and count GOT slots and stubs. */
static int scan_relocs(loader *ld) {
  for (size_t i = 0; i < ld->nsecs; i++) {
    section *t;
    if (rela_target(ld, i, &t) != 0) return -1;
    if (!t) continue;
    for (size_t k = 0; k < ld->secs[i].size / RELA_SIZE; k++) {
      reloc r;
      if (read_reloc(ld, &ld->secs[i], t, k, &r) != 0) return -1;
      if (r.type == R_NONE) continue;
      symbol *sym = &ld->syms[r.sym];
      int stub = sym->state == SYM_IMPORT && (r.type == R_PC32 || r.type == R_PLT32);
      if ((stub || is_got_reloc(r.type)) && sym->got < 0) sym->got = (int64_t)ld->ngot++;
      if (stub && sym->stub < 0) sym->stub = (int64_t)ld->nstub++;
    }
  }
  return 0;
}

/* Lay out text (then stubs), rodata (then GOT) and data, each kind starting on its own page. */
static int layout(loader *ld) {
  long pg = sysconf(_SC_PAGESIZE);
  uint64_t page = pg > 0 ? (uint64_t)pg : 4096, off = 0;
  for (int kind = KIND_TEXT; kind < NKINDS; kind++) {
    ld->region[kind][0] = off;
    for (size_t i = 0; i < ld->nsecs; i++) {
      section *s = &ld->secs[i];
      if (s->kind != kind) continue;
      off = align_up(off, s->align);
      s->addr = off;
      off += s->size;
      if (off > MAX_IMAGE) return fail(ld, "image too large");
    }
    if (kind == KIND_TEXT && ld->nstub) {
      off = align_up(off, 16);
      ld->stub_off = off;
      off += ld->nstub * STUB_SIZE;
    }
    if (kind == KIND_TEXT) ld->code_end = off;
    if (kind == KIND_RODATA && ld->ngot) {
      off = align_up(off, GOT_ENTRY);
      ld->got_off = off;
      off += ld->ngot * GOT_ENTRY;
    }
    if (off > MAX_IMAGE) return fail(ld, "image too large");
    off = align_up(off, page);
    ld->region[kind][1] = off;
  }
  ld->total = off;
  return 0;
}

static uint64_t sym_address(const loader *ld, const symbol *sym) {
  if (sym->state != SYM_DEFINED) return sym->addr;
  return (uint64_t)(uintptr_t)ld->base + ld->secs[sym->shndx].addr + sym->value;
}

static uint64_t got_address(const loader *ld, const symbol *sym) {
  return (uint64_t)(uintptr_t)ld->base + ld->got_off + (uint64_t)sym->got * GOT_ENTRY;
}

/* Copy section contents, fill the GOT and write the import stubs. */
static void populate(loader *ld) {
  if (!ld->base) return; /* nothing to load: every loaded section is empty */
  for (size_t i = 0; i < ld->nsecs; i++) {
    const section *s = &ld->secs[i];
    if (s->kind != KIND_NONE && s->data) memcpy(ld->base + s->addr, s->data, s->size);
  }
  for (size_t i = 0; i < ld->nsyms; i++) {
    const symbol *sym = &ld->syms[i];
    if (sym->got >= 0) wr64(ld->base + ld->got_off + (uint64_t)sym->got * GOT_ENTRY, sym_address(ld, sym));
    if (sym->stub >= 0) {
      uint8_t *p = ld->base + ld->stub_off + (uint64_t)sym->stub * STUB_SIZE;
      uint64_t next = (uint64_t)(uintptr_t)p + 6;
      p[0] = 0xff; /* jmp *disp32(%rip) */
      p[1] = 0x25;
      wr32(p + 2, (uint32_t)(got_address(ld, sym) - next));
      p[6] = 0xcc; /* int3 padding */
      p[7] = 0xcc;
    }
  }
}

static int fits_s32(uint64_t v) { return (int64_t)v >= INT32_MIN && (int64_t)v <= INT32_MAX; }

static int apply_reloc(loader *ld, const section *t, const reloc *r) {
  if (r->type == R_NONE) return 0; /* its symbol index is not checked */
  const symbol *sym = &ld->syms[r->sym];
  uint8_t *where = ld->base + t->addr + r->offset;
  uint64_t p = (uint64_t)(uintptr_t)where, a = (uint64_t)r->addend;
  uint64_t s = sym->stub >= 0 && (r->type == R_PC32 || r->type == R_PLT32)
                   ? (uint64_t)(uintptr_t)ld->base + ld->stub_off + (uint64_t)sym->stub * STUB_SIZE
                   : sym_address(ld, sym);
  uint64_t v;
  switch (r->type) {
  case R_64: wr64(where, s + a); return 0;
  case R_PC64: wr64(where, s + a - p); return 0;
  case R_32: v = s + a; if (v > UINT32_MAX) goto range; break;
  case R_32S: v = s + a; if (!fits_s32(v)) goto range; break;
  case R_PC32: case R_PLT32: v = s + a - p; if (!fits_s32(v)) goto range; break;
  default: v = got_address(ld, sym) + a - p; if (!fits_s32(v)) goto range; break;
  }
  wr32(where, (uint32_t)v);
  return 0;
range:
  return fail(ld, "section %s: %s against '%s' out of range (the object needs the PIC model)",
              t->name, reloc_name(r->type), sym->name[0] ? sym->name : sec_name(ld, sym->shndx));
}

static int apply_relocs(loader *ld) {
  for (size_t i = 0; i < ld->nsecs; i++) {
    section *t;
    if (rela_target(ld, i, &t) != 0) return -1;
    if (!t) continue;
    for (size_t k = 0; k < ld->secs[i].size / RELA_SIZE; k++) {
      reloc r;
      if (read_reloc(ld, &ld->secs[i], t, k, &r) != 0 || apply_reloc(ld, t, &r) != 0) return -1;
    }
  }
  return 0;
}

static int protect(loader *ld) {
  static const int prot[NKINDS] = {0, PROT_READ | PROT_EXEC, PROT_READ, PROT_READ | PROT_WRITE};
  for (int kind = KIND_TEXT; kind < NKINDS; kind++) {
    uint64_t start = ld->region[kind][0], end = ld->region[kind][1];
    if (end > start && mprotect(ld->base + start, end - start, prot[kind]) != 0)
      return fail(ld, "mprotect failed");
  }
  return 0;
}

static int cmp_func(const void *a, const void *b) {
  const codeload_function *x = a, *y = b;
  return (uintptr_t)x->addr < (uintptr_t)y->addr ? -1 : (uintptr_t)x->addr > (uintptr_t)y->addr;
}

static int cmp_export(const void *a, const void *b) {
  return strcmp(((const export_sym *)a)->name, ((const export_sym *)b)->name);
}

static int is_func(const loader *ld, const symbol *s) {
  return s->state == SYM_DEFINED && s->type == STT_FUNC && ld->secs[s->shndx].kind == KIND_TEXT;
}
static int is_export(const symbol *s) {
  return (s->state == SYM_DEFINED || s->state == SYM_ABS) && s->type != STT_SECTION &&
         (s->bind == STB_GLOBAL || s->bind == STB_WEAK) && s->name[0];
}

/* Build the image's function and export tables, copying the names. */
static int build_tables(loader *ld, codeload_image *img) {
  size_t pool = 0;
  for (size_t i = 0; i < ld->nsyms; i++) {
    const symbol *s = &ld->syms[i];
    if (is_func(ld, s) || is_export(s)) pool += strlen(s->name) + 1;
    img->nfuncs += (size_t)is_func(ld, s);
    img->nexports += (size_t)is_export(s);
  }
  img->names = malloc(pool ? pool : 1);
  img->funcs = calloc(img->nfuncs ? img->nfuncs : 1, sizeof *img->funcs);
  img->exports = calloc(img->nexports ? img->nexports : 1, sizeof *img->exports);
  if (!img->names || !img->funcs || !img->exports) return fail(ld, "out of memory");
  char *np = img->names;
  size_t nf = 0, ne = 0;
  for (size_t i = 0; i < ld->nsyms; i++) {
    const symbol *s = &ld->syms[i];
    if (!is_func(ld, s) && !is_export(s)) continue;
    size_t len = strlen(s->name) + 1;
    memcpy(np, s->name, len);
    void *addr = (void *)(uintptr_t)sym_address(ld, s);
    if (is_func(ld, s)) img->funcs[nf++] = (codeload_function){np, addr, (size_t)s->size};
    if (is_export(s)) img->exports[ne++] = (export_sym){np, addr};
    np += len;
  }
  qsort(img->funcs, img->nfuncs, sizeof *img->funcs, cmp_func);
  qsort(img->exports, img->nexports, sizeof *img->exports, cmp_export);
  return 0;
}

static int load(loader *ld, codeload_image *img) {
  if (check_header(ld) != 0 || read_sections(ld) != 0) return -1;
  for (size_t i = 0; i < ld->nsecs; i++)
    if (classify_section(ld, i) != 0) return -1;
  if (read_symbols(ld) != 0) return -1;
  for (size_t i = 0; i < ld->nsyms; i++)
    if (resolve_symbol(ld, &ld->syms[i], i) != 0) return -1;
  if (scan_relocs(ld) != 0 || layout(ld) != 0) return -1;
  if (ld->total) {
    void *m = mmap(NULL, ld->total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return fail(ld, "mmap of %llu bytes failed", (unsigned long long)ld->total);
    ld->base = m;
    img->base = m;
    img->size = (size_t)ld->total;
  }
  populate(ld);
  if (apply_relocs(ld) != 0 || protect(ld) != 0) return -1;
  img->code_size = (size_t)ld->code_end;
  return build_tables(ld, img);
}

int codeload_image_load(const void *obj, size_t size, const codeload_symbol *imports,
                        size_t nimports, codeload_image **out, char *errbuf, size_t errlen) {
  loader ld = {.obj = obj, .size = size, .imports = imports, .nimports = nimports,
               .err = errbuf, .errlen = errlen};
  *out = NULL;
  if (errbuf && errlen) errbuf[0] = '\0';
  codeload_image *img = calloc(1, sizeof *img);
  int rc = img ? load(&ld, img) : fail(&ld, "out of memory");
  free(ld.secs);
  free(ld.syms);
  if (rc != 0) {
    codeload_image_free(img);
    return -1;
  }
  *out = img;
  return 0;
}

void codeload_image_free(codeload_image *img) {
  if (!img) return;
  if (img->base) munmap(img->base, img->size);
  free(img->funcs);
  free(img->exports);
  free(img->names);
  free(img);
}

void *codeload_image_symbol(const codeload_image *img, const char *name) {
  export_sym key = {name, NULL};
  const export_sym *e = img->nexports ? bsearch(&key, img->exports, img->nexports,
                                                sizeof *img->exports, cmp_export) : NULL;
  return e ? e->addr : NULL;
}

void codeload_image_code_range(const codeload_image *img, const void **start, const void **end) {
  *start = img->code_size ? img->base : NULL;
  *end = img->code_size ? img->base + img->code_size : NULL;
}

int codeload_image_has_pc(const codeload_image *img, const void *pc) {
  uintptr_t a = (uintptr_t)pc, b = (uintptr_t)img->base;
  return img->code_size && a >= b && a - b < img->code_size;
}

size_t codeload_image_function_count(const codeload_image *img) { return img->nfuncs; }

const codeload_function *codeload_image_function(const codeload_image *img, size_t i) {
  return i < img->nfuncs ? &img->funcs[i] : NULL;
}

const codeload_function *codeload_image_function_at(const codeload_image *img, const void *pc) {
  uintptr_t a = (uintptr_t)pc;
  size_t lo = 0, hi = img->nfuncs; /* find the last function with addr <= pc */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if ((uintptr_t)img->funcs[mid].addr <= a) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return NULL;
  const codeload_function *f = &img->funcs[lo - 1];
  return a - (uintptr_t)f->addr < f->size ? f : NULL;
}

size_t codeload_image_size(const codeload_image *img) { return img->size; }
