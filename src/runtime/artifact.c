/* artifact.c - writing and reading the file format of compiled modules (artifact.h): the
 * precompiled artifacts of `kiln compile` and the entries of the compiled-code cache. */
#include "runtime/artifact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "native/native.h"

bool artifact_is(const uint8_t *bytes, size_t size) {
  return size >= ARTIFACT_MAGIC_SIZE && memcmp(bytes, ARTIFACT_MAGIC, ARTIFACT_MAGIC_SIZE) == 0;
}

kiln_status artifact_key_make(const kiln_engine *engine, bool portable, const uint8_t *wasm, size_t size,
                              artifact_key *key, kiln_error *err) {
  const kiln_compiler *compiler = engine->config.compiler;
  if (!compiler || !compiler->describe)
    return error_set(err, KILN_ERR_ARGUMENT,
                     "compiled code needs a compiler (kiln_config.compiler = kiln_llvm_compiler())");
  memset(key, 0, sizeof *key);
  if (wasm) sha256(wasm, size, key->module_hash);
  key->abi_version = NATIVE_ABI_VERSION;
  key->abi_hash = native_abi_hash();
  key->portable = portable;
  kiln_config config = engine->config;
  config.portable = portable;
  return compiler->describe(&config, &key->target, err);
}

/* The SHA-256 of the whole file but the checksum field itself. */
#define CHECKSUM_AT (ARTIFACT_HEADER_SIZE - SHA256_BYTES)
static void checksum(const uint8_t *bytes, size_t size, uint8_t digest[SHA256_BYTES]) {
  sha256_state s;
  sha256_init(&s);
  sha256_update(&s, bytes, CHECKSUM_AT);
  sha256_update(&s, bytes + ARTIFACT_HEADER_SIZE, size - ARTIFACT_HEADER_SIZE);
  sha256_final(&s, digest);
}

/* ------------------------------------------------------------------ writing */

typedef struct writer {
  uint8_t *p;
} writer;

static void put_bytes(writer *w, const void *bytes, size_t n) {
  if (n) memcpy(w->p, bytes, n);
  w->p += n;
}

static void put_u32(writer *w, uint32_t v) {
  for (int i = 0; i < 4; i++) *w->p++ = (uint8_t)(v >> (8 * i));
}

static void put_u64(writer *w, uint64_t v) {
  for (int i = 0; i < 8; i++) *w->p++ = (uint8_t)(v >> (8 * i));
}

static void put_string(writer *w, const char *s) {
  size_t n = strlen(s);
  put_u32(w, (uint32_t)n);
  put_bytes(w, s, n);
}

/* The strings of a key, in file order. */
#define KEY_STRINGS(t) {(t)->compiler, (t)->triple, (t)->cpu, (t)->features, (t)->options}
#define KEY_STRING_COUNT 5

/* The key's fields as they are written (writer NULL: only measure). */
static size_t put_key(writer *w, const artifact_key *key) {
  const char *strings[KEY_STRING_COUNT] = KEY_STRINGS(&key->target);
  size_t n = SHA256_BYTES + 4 + 8;
  for (int i = 0; i < KEY_STRING_COUNT; i++) n += 4 + strlen(strings[i]);
  if (w) {
    put_bytes(w, key->module_hash, SHA256_BYTES);
    put_u32(w, key->abi_version);
    put_u64(w, key->abi_hash);
    for (int i = 0; i < KEY_STRING_COUNT; i++) put_string(w, strings[i]);
  }
  return n;
}

void artifact_key_name(const artifact_key *key, char name[2 * SHA256_BYTES + 1]) {
  size_t n = put_key(NULL, key) + 1;
  uint8_t digest[SHA256_BYTES];
  uint8_t *bytes = malloc(n);
  if (bytes) {
    writer w = {bytes};
    put_key(&w, key);
    *w.p = key->portable;
    sha256(bytes, n, digest);
    free(bytes);
  } else { /* out of memory: a name no entry has, so the cache is simply missed */
    memset(digest, 0, sizeof digest);
  }
  sha256_hex(digest, name);
}

kiln_status artifact_write(const artifact_key *key, const bool *native, uint32_t func_count, const uint8_t *wasm,
                           size_t wasm_size, const artifact_object *objects, uint32_t object_count, uint8_t **out,
                           size_t *out_size, kiln_error *err) {
  size_t bits = ((size_t)func_count + 7) / 8;
  size_t size = ARTIFACT_HEADER_SIZE + put_key(NULL, key) + 4 + bits + 8 + wasm_size + 4;
  for (uint32_t i = 0; i < object_count; i++) size += 8 + objects[i].size;
  uint8_t *bytes = calloc(1, size);
  if (!bytes) return error_set(err, KILN_ERR_NOMEM, "out of memory writing compiled code");
  writer w = {bytes};
  put_bytes(&w, ARTIFACT_MAGIC, ARTIFACT_MAGIC_SIZE);
  put_u32(&w, ARTIFACT_VERSION);
  put_u32(&w, key->portable ? ARTIFACT_FLAG_PORTABLE : 0);
  put_u64(&w, size);
  w.p += SHA256_BYTES; /* the checksum, below */
  put_key(&w, key);
  put_u32(&w, func_count);
  for (uint32_t i = 0; i < func_count; i++)
    if (native[i]) w.p[i / 8] |= (uint8_t)(1u << (i % 8));
  w.p += bits;
  put_u64(&w, wasm_size);
  put_bytes(&w, wasm, wasm_size);
  put_u32(&w, object_count);
  for (uint32_t i = 0; i < object_count; i++) {
    put_u64(&w, objects[i].size);
    put_bytes(&w, objects[i].bytes, objects[i].size);
  }
  checksum(bytes, size, bytes + CHECKSUM_AT);
  *out = bytes;
  *out_size = size;
  return KILN_OK;
}

/* ------------------------------------------------------------------ reading */

typedef struct parser {
  const uint8_t *p, *end;
  bool ok;
} parser;

static const uint8_t *take(parser *r, uint64_t n) {
  if (!r->ok || n > (uint64_t)(r->end - r->p)) {
    r->ok = false;
    return NULL;
  }
  const uint8_t *at = r->p;
  r->p += n;
  return at;
}

static uint64_t get_le(parser *r, unsigned bytes) {
  const uint8_t *at = take(r, bytes);
  uint64_t v = 0;
  for (unsigned i = 0; at && i < bytes; i++) v |= (uint64_t)at[i] << (8 * i);
  return v;
}

static void get_string(parser *r, char *out, size_t size) {
  uint64_t n = get_le(r, 4);
  const uint8_t *at = n < size ? take(r, n) : NULL;
  if (!at) {
    r->ok = false;
    out[0] = 0;
    return;
  }
  memcpy(out, at, n);
  out[n] = 0;
  if (strlen(out) != n) r->ok = false; /* a NUL inside */
}

static void get_key(parser *r, artifact_key *key) {
  const uint8_t *hash = take(r, SHA256_BYTES);
  if (hash) memcpy(key->module_hash, hash, SHA256_BYTES);
  key->abi_version = (uint32_t)get_le(r, 4);
  key->abi_hash = get_le(r, 8);
  compiler_target *t = &key->target;
  char *fields[KEY_STRING_COUNT] = KEY_STRINGS(t);
  size_t sizes[KEY_STRING_COUNT] = {sizeof t->compiler, sizeof t->triple, sizeof t->cpu, sizeof t->features,
                                    sizeof t->options};
  for (int i = 0; i < KEY_STRING_COUNT; i++) get_string(r, fields[i], sizes[i]);
}

#define REJECT(...) error_set(err, KILN_ERR_MALFORMED, __VA_ARGS__)

kiln_status artifact_read(const uint8_t *bytes, size_t size, artifact *out, kiln_error *err) {
  memset(out, 0, sizeof *out);
  if (size < ARTIFACT_MAGIC_SIZE && (size == 0 || memcmp(bytes, ARTIFACT_MAGIC, size) == 0))
    return REJECT("truncated: %zu bytes, less than its header", size);
  if (!artifact_is(bytes, size))
    return REJECT("not a kiln compiled module (no \"\\0kiln-cw\" magic at the start)");
  parser r = {bytes + ARTIFACT_MAGIC_SIZE, bytes + size, true};
  uint32_t version = (uint32_t)get_le(&r, 4);
  uint32_t flags = (uint32_t)get_le(&r, 4);
  uint64_t declared = get_le(&r, 8);
  if (!r.ok || size < ARTIFACT_HEADER_SIZE) return REJECT("truncated: %zu bytes, less than its header", size);
  if (version != ARTIFACT_VERSION)
    return REJECT("format version %u (this kiln reads version %u)", version, ARTIFACT_VERSION);
  if (declared != size)
    return REJECT("%s: the header says %llu bytes, there are %zu", declared > size ? "truncated" : "trailing bytes",
                  (unsigned long long)declared, size);
  uint8_t digest[SHA256_BYTES];
  checksum(bytes, size, digest);
  if (memcmp(digest, bytes + CHECKSUM_AT, SHA256_BYTES) != 0)
    return REJECT("checksum mismatch: the file is corrupt");
  r.p = bytes + ARTIFACT_HEADER_SIZE;
  out->key.portable = flags & ARTIFACT_FLAG_PORTABLE;
  get_key(&r, &out->key);
  out->func_count = (uint32_t)get_le(&r, 4);
  out->native_bits = take(&r, ((uint64_t)out->func_count + 7) / 8);
  out->wasm_size = (size_t)get_le(&r, 8);
  out->wasm = take(&r, out->wasm_size);
  out->object_count = (uint32_t)get_le(&r, 4);
  /* every object takes at least its 8-byte size: the count is bounded by what is left */
  if (r.ok && out->object_count > (size_t)(r.end - r.p) / 8) r.ok = false;
  if (r.ok && !(out->objects = calloc((size_t)out->object_count + 1, sizeof *out->objects)))
    return error_set(err, KILN_ERR_NOMEM, "out of memory reading compiled code");
  for (uint32_t i = 0; r.ok && i < out->object_count; i++) {
    out->objects[i].size = (size_t)get_le(&r, 8);
    out->objects[i].bytes = take(&r, out->objects[i].size);
  }
  if (r.ok && r.p != r.end) r.ok = false;
  if (!r.ok || (flags & ~ARTIFACT_FLAG_PORTABLE)) {
    artifact_free(out);
    return REJECT("bad layout (a field runs past the end, or unknown flags)");
  }
  return KILN_OK;
}

void artifact_free(artifact *a) {
  free(a->objects);
  a->objects = NULL;
}

/* ------------------------------------------------------------------ comparing */

static bool differs(const char *have, const char *want, const char *what, const char *here, char *out,
                    size_t size) {
  if (strcmp(have, want) == 0) return false;
  snprintf(out, size, "%s '%s' (%s: '%s')", what, have, here, want);
  return true;
}

/* The first feature of a that b does not list, for a short message. */
static void first_missing_feature(const char *a, const char *b, char *out, size_t size) {
  out[0] = 0;
  for (const char *f = a; *f;) {
    size_t n = strcspn(f, ",");
    bool found = false;
    for (const char *g = b; *g && !found;) {
      size_t m = strcspn(g, ",");
      found = m == n && memcmp(f, g, n) == 0;
      g += m + (g[m] == ',');
    }
    if (!found) {
      snprintf(out, size, "%.*s", (int)n, f);
      return;
    }
    f += n + (f[n] == ',');
  }
}

bool artifact_key_differs(const artifact_key *have, const artifact_key *want, char *what, size_t size) {
  const compiler_target *h = &have->target, *w = &want->target;
  if (memcmp(have->module_hash, want->module_hash, SHA256_BYTES) != 0) {
    snprintf(what, size, "module (another wasm module's code)");
    return true;
  }
  if (have->abi_version != want->abi_version || have->abi_hash != want->abi_hash) {
    snprintf(what, size, "kiln ABI (version %u, layout %016llx; this kiln: version %u, layout %016llx)",
             have->abi_version, (unsigned long long)have->abi_hash, want->abi_version,
             (unsigned long long)want->abi_hash);
    return true;
  }
  if (differs(h->compiler, w->compiler, "compiler", "this kiln", what, size) ||
      differs(h->triple, w->triple, "target", "this machine", what, size) ||
      differs(h->cpu, w->cpu, "CPU", "this machine", what, size))
    return true;
  if (strcmp(h->features, w->features) != 0) {
    char feature[64];
    first_missing_feature(h->features, w->features, feature, sizeof feature);
    if (!feature[0]) first_missing_feature(w->features, h->features, feature, sizeof feature);
    snprintf(what, size, "CPU features (%s differs on this machine)", feature[0] ? feature : "their order");
    return true;
  }
  if (have->portable != want->portable || strcmp(h->options, w->options) != 0) {
    snprintf(what, size, "code generation options '%s' (this engine: '%s')", h->options, w->options);
    return true;
  }
  return false;
}
