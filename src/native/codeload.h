/* codeload.h - load an x86-64 ELF64 relocatable object (ET_REL) into executable memory; libc only. */
#ifndef KILN_CODELOAD_H
#define KILN_CODELOAD_H

#include <stddef.h>

/* An external symbol the object may reference (the whitelist), e.g. {"floor", (void *)floor}.
 * Imports are treated as functions: a PC-relative call or reference to one goes through a jump
 * stub, and a GOT reference gets a slot holding addr. */
typedef struct codeload_symbol {
  const char *name;
  void *addr;
} codeload_symbol;

/* A function (STT_FUNC, any binding) defined in the image; name is owned by the image. */
typedef struct codeload_function {
  const char *name;
  void *addr;
  size_t size;
} codeload_function;

typedef struct codeload_image codeload_image;

/* Copy, relocate and protect the object in obj[0..size) (which is only read, may be unaligned,
 * and may be freed afterwards). Returns 0 and sets *out, or returns -1 with a message in errbuf.
 * The input may be hostile: any malformed or unsupported object is an error, never a crash. */
int codeload_image_load(const void *obj, size_t size, const codeload_symbol *imports,
                        size_t nimports, codeload_image **out, char *errbuf, size_t errlen);

void codeload_image_free(codeload_image *img);

/* Address of a defined global or weak symbol (function or data), or NULL. */
void *codeload_image_symbol(const codeload_image *img, const char *name);

/* The executable range [*start, *end) of the image (all code, including import stubs); both NULL
 * when the object has no code. codeload_image_has_pc tells whether pc lies in it. These and the
 * function accessors only read the image: safe in a signal handler while the image is alive. */
void codeload_image_code_range(const codeload_image *img, const void **start, const void **end);
int codeload_image_has_pc(const codeload_image *img, const void *pc);

/* Defined functions, sorted by address. function_at returns the one whose [addr, addr+size)
 * contains pc, or NULL. */
size_t codeload_image_function_count(const codeload_image *img);
const codeload_function *codeload_image_function(const codeload_image *img, size_t i);
const codeload_function *codeload_image_function_at(const codeload_image *img, const void *pc);

/* Total bytes mapped for the image (for statistics). */
size_t codeload_image_size(const codeload_image *img);

#endif
