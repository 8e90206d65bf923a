/* cache.h - the compiled-code cache's files: the directory (kiln_config.cache_dir, else
 * $XDG_CACHE_HOME/kiln, else $HOME/.cache/kiln) and its entries, one file per key
 * ("<artifact_key_name>.cwasm", in artifact.h's format), each written atomically. */
#ifndef KILN_CACHE_H
#define KILN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_ENTRY_SUFFIX ".cwasm"

/* The default directory, malloc'd, or NULL when neither $XDG_CACHE_HOME (absolute) nor $HOME
 * is set. */
char *cache_default_dir(void);

/* Read entry `name` of dir into a malloc'd buffer. False with a reason in note ("no entry",
 * "cannot read ...: <error>") when there is none to use. */
bool cache_read(const char *dir, const char *name, uint8_t **bytes, size_t *size, char *note, size_t note_size);

/* Write entry `name` of dir (created if missing): to a temporary file in dir, then renamed
 * over the entry, so that a reader or another writer never sees part of one. durable: the
 * file is fsync'd before the rename and the rename after it, and temporary files that writers
 * which died left there over an hour ago are removed (without it, a crash can leave an empty
 * or partial entry, which the reader refuses by its checksum). False with the reason in note. */
bool cache_write(const char *dir, const char *name, const uint8_t *bytes, size_t size, bool durable, char *note,
                 size_t note_size);

#endif
