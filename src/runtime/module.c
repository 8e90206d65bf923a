/* module.c - modules: decode and validate a binary once (large ones on several threads);
 * translate each function for the interpreter on its first call; native code compiled in
 * parallel chunks, or taken from the compiled-code cache or a precompiled module; the
 * kiln_externtype of an import or export. */
#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "compile/compile.h"
#include "native/native.h"
#include "runtime.h"
#include "runtime/artifact.h"
#include "runtime/cache.h"
#include "validate/validate.h"

static void module_destroy(kiln_module *m) {
  tierup_forget(m); /* no compile thread reads it from here on */
  if (m->funcs)
    for (uint32_t i = 0; i < m->decl.body_count; i++) compiled_func_free(&m->funcs[i]);
  free(m->funcs);
  for (uint32_t i = 0; i < m->interned_types; i++) registry_release(&m->engine->types, m->type_ids[i]);
  free(m->type_ids);
  free(m->declared_refs);
  free(m->valtype_pool);
  free(m->pool_offsets);
  native_code_free(m->native);
  module_decl_free(&m->decl);
  pthread_mutex_destroy(&m->translate_lock);
  pthread_mutex_destroy(&m->native_lock);
  pthread_mutex_destroy(&m->tier_cache_lock);
  free(m->tier_cache_dir);
  free(m->tier_key);
  if (m->release) m->release(m->release_data);
  free(m);
}

static bool build_pool(kiln_module *m);

/* The compiled tier compiles a module in chunks of functions, each its own object: LLVM's
 * memory grows with what it compiles at once, and chunks can be compiled independently. */
#define CHUNK_FUNCS 1000u
#define CHUNK_BYTES (256u << 10) /* of wasm bodies */
#define MAX_COMPILE_THREADS 64

/* One chunk of a parallel compile: its functions and, once compiled, its object. */
typedef struct native_chunk {
  uint32_t first, count;
  uint8_t *object;
  size_t size;
  kiln_status status;
  kiln_error err;
} native_chunk;

typedef struct native_job {
  const kiln_module *module;
  native_chunk *chunks;
  uint32_t chunk_count;
  atomic_uint next;          /* the next chunk to take */
  atomic_bool failed;        /* a chunk failed: the others stop taking work */
} native_job;

static void *compile_chunks(void *arg) {
  native_job *job = arg;
  const kiln_config *config = &job->module->engine->config;
  for (;;) {
    uint32_t i = atomic_fetch_add(&job->next, 1);
    if (i >= job->chunk_count || atomic_load(&job->failed)) return NULL;
    native_chunk *c = &job->chunks[i];
    c->status = config->compiler->compile(job->module, config, c->first, c->count, &c->object, &c->size, &c->err);
    if (c->status != KILN_OK) atomic_store(&job->failed, true);
  }
}

static uint32_t compile_thread_count(const kiln_config *config, uint32_t chunks) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  uint32_t n = config->compile_threads ? config->compile_threads : cpus > 0 ? (uint32_t)cpus : 1;
  if (n > MAX_COMPILE_THREADS) n = MAX_COMPILE_THREADS;
  return n < chunks ? n : chunks;
}

/* Load objects into a fresh native_code for m. native_bits (when given) says which defined
 * functions must have native code: an object that disagrees is refused. */
static kiln_status load_objects(kiln_module *m, const artifact_object *objects, uint32_t count,
                                const uint8_t *native_bits, kiln_error *err) {
  kiln_status st = native_code_new(m, &m->native, err);
  for (uint32_t i = 0; st == KILN_OK && i < count; i++)
    st = native_code_add(m, m->native, objects[i].bytes, objects[i].size, err);
  for (uint32_t i = 0; st == KILN_OK && native_bits && i < m->decl.body_count; i++)
    if (!m->native->funcs[i] != !((native_bits[i / 8] >> (i % 8)) & 1))
      st = error_set(err, KILN_ERR_MALFORMED, "compiled code: function %u %s native code, its header says otherwise",
                     m->decl.imported_func_count + i, m->native->funcs[i] ? "has" : "lacks");
  if (st != KILN_OK) {
    native_code_free(m->native);
    m->native = NULL;
  }
  return st;
}

/* The compiled tier: the engine's compiler makes objects (chunks in parallel, on
 * kiln_config.compile_threads threads), native/ loads them in order. *objects receives
 * them (malloc'd, each object malloc'd) for the cache. */
static kiln_status compile_objects(kiln_module *m, artifact_object **objects, uint32_t *object_count,
                                   kiln_error *err) {
  const kiln_config *config = &m->engine->config;
  uint32_t n = m->decl.body_count;
  native_job job = {.module = m};
  atomic_init(&job.next, 0);
  atomic_init(&job.failed, false);
  *objects = NULL;
  *object_count = 0;
  job.chunks = calloc(n + 1, sizeof *job.chunks); /* at most one chunk per function */
  if (!job.chunks) return error_set(err, KILN_ERR_NOMEM, "out of memory");
  for (uint32_t first = 0; first < n;) {
    uint32_t count = 0;
    uint64_t bytes = 0;
    while (first + count < n && count < CHUNK_FUNCS && (count == 0 || bytes < CHUNK_BYTES))
      bytes += m->funcs[first + count++].body_bytes;
    job.chunks[job.chunk_count++] = (native_chunk){.first = first, .count = count};
    first += count;
  }
  uint32_t threads = compile_thread_count(config, job.chunk_count);
  pthread_t tids[MAX_COMPILE_THREADS];
  uint32_t started = 0;
  /* the calling thread is one of the workers */
  for (; started + 1 < threads; started++)
    if (pthread_create(&tids[started], NULL, compile_chunks, &job) != 0) break;
  compile_chunks(&job);
  for (uint32_t i = 0; i < started; i++) pthread_join(tids[i], NULL);
  kiln_status st = KILN_OK;
  artifact_object *out = calloc(job.chunk_count + 1, sizeof *out);
  if (!out) st = error_set(err, KILN_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; i < job.chunk_count; i++) {
    native_chunk *c = &job.chunks[i];
    if (st == KILN_OK && c->status != KILN_OK) {
      *err = c->err;
      st = c->status;
    }
    if (st == KILN_OK && c->object) out[(*object_count)++] = (artifact_object){c->object, c->size};
    else free(c->object);
  }
  free(job.chunks);
  *objects = out;
  return st;
}

static void free_objects(artifact_object *objects, uint32_t count) {
  for (uint32_t i = 0; objects && i < count; i++) free((void *)objects[i].bytes);
  free(objects);
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Load a parsed artifact's code into m (whose wasm it carries). */
static kiln_status load_artifact(kiln_module *m, const artifact *a, kiln_error *err) {
  if (a->func_count != m->decl.body_count)
    return error_set(err, KILN_ERR_MALFORMED, "compiled code for %u functions, the module defines %u", a->func_count,
                     m->decl.body_count);
  return load_objects(m, a->objects, a->object_count, a->native_bits, err);
}

/* Why the cache gave m no code (kiln_module_stats.cache_note); appended to what is there. */
static void cache_note(kiln_module *m, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void cache_note(kiln_module *m, const char *format, ...) {
  size_t used = strlen(m->cache_note);
  if (used && used + 2 < sizeof m->cache_note) {
    memcpy(m->cache_note + used, "; ", 3);
    used += 2;
  }
  va_list ap;
  va_start(ap, format);
  vsnprintf(m->cache_note + used, sizeof m->cache_note - used, format, ap);
  va_end(ap);
}

/* Use a cache entry's bytes for m if they are an artifact of exactly key; else say why not
 * in m->cache_note. */
static bool use_cache_entry(kiln_module *m, const artifact_key *key, const uint8_t *bytes, size_t size) {
  artifact a;
  kiln_error e;
  char what[4200];
  bool hit = false;
  if (artifact_read(bytes, size, &a, &e) != KILN_OK) {
    cache_note(m, "entry rejected: %s", e.message);
    return false;
  }
  if (artifact_key_differs(&a.key, key, what, sizeof what))
    cache_note(m, "entry rejected: made for a different %s", what);
  else if (a.wasm_size != m->decl.size || memcmp(a.wasm, m->decl.bytes, a.wasm_size) != 0)
    cache_note(m, "entry rejected: it holds another module");
  else if (load_artifact(m, &a, &e) != KILN_OK)
    cache_note(m, "entry rejected: %s", e.message);
  else
    hit = true;
  artifact_free(&a);
  return hit;
}

/* Write m's artifact to the cache, and hand it to *artifact_out when asked for. */
static kiln_status store_artifact(kiln_module *m, const artifact_key *key, const char *name,
                                  const artifact_object *objects, uint32_t object_count, uint8_t **artifact_out,
                                  size_t *artifact_size, kiln_error *err) {
  uint32_t n = m->decl.body_count;
  bool *native = calloc(n + 1, sizeof *native);
  if (!native) return error_set(err, KILN_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++) native[i] = m->native->funcs[i] != NULL;
  uint8_t *bytes;
  size_t size;
  kiln_status st = artifact_write(key, native, n, m->decl.bytes, m->decl.size, objects, object_count, &bytes, &size, err);
  free(native);
  if (st != KILN_OK) return st;
  if (name) {
    char why[sizeof m->cache_note];
    m->cache_stored = cache_write(m->engine->cache_dir, name, bytes, size, true, why, sizeof why);
    if (!m->cache_stored) cache_note(m, "%s", why);
  }
  if (artifact_out) {
    *artifact_out = bytes;
    *artifact_size = size;
  } else {
    free(bytes);
  }
  return KILN_OK;
}

/* The native code of m: from the engine's cache when it has the entry, else compiled (and
 * then stored in the cache). artifact_out (may be NULL): receives m as a precompiled module. */
static kiln_status compile_native(kiln_module *m, uint8_t **artifact_out, size_t *artifact_size, kiln_error *err) {
  double start = now_seconds();
  const kiln_engine *engine = m->engine;
  if (!engine->config.compiler)
    return error_set(err, KILN_ERR_ARGUMENT,
                     "the compiled tier needs a compiler (kiln_config.compiler = kiln_llvm_compiler())");
  bool use_cache = engine->config.cache;
  if (use_cache && !engine->cache_dir) {
    cache_note(m, "no cache directory ($XDG_CACHE_HOME and $HOME are not set)");
    use_cache = false;
  }
  artifact_key key;
  char name[2 * SHA256_BYTES + sizeof CACHE_ENTRY_SUFFIX];
  kiln_status st = KILN_OK;
  if (use_cache || artifact_out)
    st = artifact_key_make(engine, engine->config.portable, m->decl.bytes, m->decl.size, &key, err);
  if (st != KILN_OK) return st;
  if (use_cache) {
    artifact_key_name(&key, name);
    strcat(name, CACHE_ENTRY_SUFFIX);
    uint8_t *entry;
    size_t entry_size;
    if (cache_read(engine->cache_dir, name, &entry, &entry_size, m->cache_note, sizeof m->cache_note) &&
        use_cache_entry(m, &key, entry, entry_size)) {
      m->cache_hit = true;
      m->cache_note[0] = 0;
      if (artifact_out) {
        *artifact_out = entry;
        *artifact_size = entry_size;
      } else {
        free(entry);
      }
      m->compile_seconds = now_seconds() - start;
      return KILN_OK;
    }
    free(entry);
  }
  artifact_object *objects;
  uint32_t object_count;
  st = compile_objects(m, &objects, &object_count, err);
  if (st == KILN_OK) st = load_objects(m, objects, object_count, NULL, err);
  if (st == KILN_OK && (use_cache || artifact_out))
    st = store_artifact(m, &key, use_cache ? name : NULL, objects, object_count, artifact_out, artifact_size, err);
  free_objects(objects, object_count);
  m->compile_seconds = now_seconds() - start;
  return st;
}

void module_stats(const kiln_module *module, kiln_module_stats *stats) {
  memset(stats, 0, sizeof *stats);
  stats->tier = module->engine->config.tier == KILN_TIER_AUTO && !module->precompiled ? KILN_TIER_AUTO
                : module->native ? KILN_TIER_COMPILED : KILN_TIER_INTERP;
  stats->functions = module->decl.body_count;
  if (module->native) {
    pthread_mutex_lock((pthread_mutex_t *)&module->native_lock);
    native_code_stats(module->native, &stats->native_functions, &stats->native_code_bytes, module->decl.body_count);
    pthread_mutex_unlock((pthread_mutex_t *)&module->native_lock);
  }
  stats->precompiled = module->precompiled;
  stats->cache_hit = module->cache_hit;
  stats->cache_stored = module->cache_stored;
  stats->compile_seconds = module->compile_seconds;
  stats->cached_functions = atomic_load(&((kiln_module *)module)->cached_functions);
  stats->cache_note = module->cache_note;
  for (uint32_t i = 0; i < module->decl.body_count; i++) {
    if (__atomic_load_n(&module->funcs[i].osr_entry, __ATOMIC_ACQUIRE)) stats->osr_functions++;
    if (!compiled_func_code(&module->funcs[i])) continue;
    stats->translated_functions++;
    stats->translated_code_bytes += (size_t)module->funcs[i].code_cells * sizeof(cell);
  }
}

void module_release(kiln_module *m) {
  if (m && atomic_fetch_sub(&m->refcount, 1) == 1) module_destroy(m);
}

/* ------------------------------------------------------------------ function bodies */

/* Validate defined function i and describe it for the interpreter, which translates it when
 * it is first called (module_translate); one that might exceed the interpreter's limits is
 * translated now, so that the limit is an error of kiln_module_new. */
static kiln_status prepare_function(kiln_module *m, uint32_t i, kiln_error *err) {
  func_facts facts;
  kiln_status st = func_validate(&m->decl, m->declared_refs, i, &facts, err);
  if (st != KILN_OK) return st;
  if (!compile_may_exceed_limits(m, i, &facts)) return compile_function_pending(m, i, &facts, &m->funcs[i], err);
  compiled_func *f = &m->funcs[i];
  if ((st = compile_function(m, i, f, err))) return st;
  f->max_depth = facts.max_depth;
  f->max_operands = facts.max_operands;
  f->body_bytes = facts.body_bytes;
  return KILN_OK;
}

/* Bodies are validated on several threads when there are this many bytes of them. */
#define PARALLEL_VALIDATE_BYTES (1u << 20)

typedef struct validate_job {
  kiln_module *module;
  atomic_uint next;          /* the next function to take */
  atomic_uint failed_at;     /* the lowest function that failed so far, or UINT32_MAX */
} validate_job;

typedef struct validate_worker {
  validate_job *job;
  uint32_t failed_at;        /* this worker's lowest failure, UINT32_MAX if none */
  kiln_status status;
  kiln_error err;
} validate_worker;

static void *validate_functions(void *arg) {
  validate_worker *w = arg;
  validate_job *job = w->job;
  uint32_t n = job->module->decl.body_count;
  for (;;) {
    uint32_t i = atomic_fetch_add(&job->next, 1);
    /* past a failure nothing matters: the error reported is the first function's */
    if (i >= n || i > atomic_load(&job->failed_at)) return NULL;
    kiln_status st = prepare_function(job->module, i, &w->err);
    if (st == KILN_OK) continue;
    w->failed_at = i;
    w->status = st;
    uint32_t seen = atomic_load(&job->failed_at);
    while (i < seen && !atomic_compare_exchange_weak(&job->failed_at, &seen, i)) {
    }
    return NULL;
  }
}

/* Validate and describe every body, in parallel for large modules; the error, if any, is the
 * one of the first function in the module that fails, whatever the threads. */
static kiln_status prepare_functions(kiln_module *m, kiln_error *err) {
  const module_decl *d = &m->decl;
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < d->body_count; i++) bytes += d->bodies[i].code.end - d->bodies[i].code.start;
  uint32_t threads = bytes >= PARALLEL_VALIDATE_BYTES ? compile_thread_count(&m->engine->config, d->body_count) : 1;
  if (threads <= 1) {
    for (uint32_t i = 0; i < d->body_count; i++) {
      kiln_status st = prepare_function(m, i, err);
      if (st != KILN_OK) return st;
    }
    return KILN_OK;
  }
  validate_job job = {.module = m};
  atomic_init(&job.next, 0);
  atomic_init(&job.failed_at, UINT32_MAX);
  validate_worker *workers = calloc(threads, sizeof *workers);
  pthread_t *tids = calloc(threads, sizeof *tids);
  if (!workers || !tids) {
    free(workers);
    free(tids);
    return error_set(err, KILN_ERR_NOMEM, "out of memory");
  }
  for (uint32_t t = 0; t < threads; t++) workers[t] = (validate_worker){.job = &job, .failed_at = UINT32_MAX};
  uint32_t started = 1; /* the calling thread is worker 0 */
  for (; started < threads; started++)
    if (pthread_create(&tids[started], NULL, validate_functions, &workers[started]) != 0) break;
  validate_functions(&workers[0]);
  for (uint32_t t = 1; t < started; t++) pthread_join(tids[t], NULL);
  const validate_worker *first = NULL;
  for (uint32_t t = 0; t < started; t++)
    if (workers[t].failed_at != UINT32_MAX && (!first || workers[t].failed_at < first->failed_at)) first = &workers[t];
  kiln_status st = KILN_OK;
  if (first) {
    *err = first->err;
    st = first->status;
  }
  free(workers);
  free(tids);
  return st;
}

kiln_status module_translate(kiln_module *m, const compiled_func *func, kiln_error *err) {
  compiled_func *f = &m->funcs[func - m->funcs];
  kiln_status st = KILN_OK;
  pthread_mutex_lock(&m->translate_lock);
  if (!f->code) { /* not translated by another thread meanwhile */
    compiled_func t;
    st = compile_function(m, (uint32_t)(f - m->funcs), &t, err);
    if (st == KILN_OK) {
      assert(t.local_slots == f->local_slots && t.param_slots == f->param_slots);
      /* the fields a caller reads only after seeing the code, then the code */
      f->code_cells = t.code_cells;
      f->frame_slots = t.frame_slots;
      f->entry_fuel = t.entry_fuel;
      f->offsets = t.offsets;
      f->offset_count = t.offset_count;
      __atomic_store_n(&f->code, t.code, __ATOMIC_RELEASE);
    }
  }
  pthread_mutex_unlock(&m->translate_lock);
  return st;
}

/* Decode, validate and compile wasm into m for the interpreter. */
static kiln_status module_prepare(kiln_module *m, const uint8_t *bytes, size_t size, kiln_error *err) {
  kiln_status st = decode_module(bytes, size, m->release != NULL, &m->decl, err);
  if (st) return st;
  module_decl *d = &m->decl;
  m->type_ids = calloc(d->type_count + 1, sizeof(uint32_t));
  m->declared_refs = calloc(d->func_count + 1, sizeof(bool));
  m->funcs = calloc(d->body_count + 1, sizeof(compiled_func));
  if (!m->type_ids || !m->declared_refs || !m->funcs) return error_set(err, KILN_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; i < d->type_count; i++) {
    if ((st = registry_intern(&m->engine->types, &d->types[i], &m->type_ids[i])))
      return error_set(err, st, "out of memory");
    m->interned_types = i + 1;
    d->types[i].type_id = m->type_ids[i];
  }
  if (!build_pool(m)) return error_set(err, KILN_ERR_NOMEM, "out of memory");
  if ((st = validate_module(d, m->declared_refs, err))) return st;
  return prepare_functions(m, err);
}

static kiln_module *module_alloc(kiln_engine *engine) {
  kiln_module *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->engine = engine;
  atomic_init(&m->refcount, 1);
  pthread_mutex_init(&m->translate_lock, NULL);
  pthread_mutex_init(&m->native_lock, NULL);
  pthread_mutex_init(&m->tier_cache_lock, NULL);
  return m;
}

/* A precompiled module: check that it was made for this machine and kiln, then decode its
 * wasm and load its code. */
static kiln_status module_from_artifact(kiln_module *m, const uint8_t *bytes, size_t size, kiln_error *err) {
  double start = now_seconds();
  artifact a;
  artifact_key want;
  char what[4200];
  kiln_status st = artifact_read(bytes, size, &a, err);
  if (st != KILN_OK) {
    error_prefix(err, "precompiled module");
    return st;
  }
  /* the checksum artifact_read verified covers the wasm and its hash: not hashed again */
  st = artifact_key_make(m->engine, a.key.portable, NULL, 0, &want, err);
  memcpy(want.module_hash, a.key.module_hash, SHA256_BYTES);
  if (st == KILN_OK && artifact_key_differs(&a.key, &want, what, sizeof what))
    st = error_set(err, KILN_ERR_INCOMPATIBLE, "compiled for a different %s", what);
  if (st == KILN_OK) st = module_prepare(m, a.wasm, a.wasm_size, err);
  if (st == KILN_OK) st = load_artifact(m, &a, err);
  artifact_free(&a);
  m->precompiled = true;
  m->compile_seconds = now_seconds() - start;
  return st;
}

kiln_status module_create(kiln_engine *engine, const uint8_t *bytes, size_t size, void (*release)(void *),
                          void *release_data, kiln_module **out, kiln_error *err) {
  *out = NULL;
  kiln_module *m = module_alloc(engine);
  if (!m) {
    if (release) release(release_data);
    return error_set(err, KILN_ERR_NOMEM, "out of memory");
  }
  m->release = release;
  m->release_data = release_data;
  kiln_status st;
  if (artifact_is(bytes, size)) {
    st = module_from_artifact(m, bytes, size, err);
  } else {
    st = module_prepare(m, bytes, size, err);
    if (st == KILN_OK && engine->config.tier == KILN_TIER_COMPILED) st = compile_native(m, NULL, NULL, err);
    /* auto: native code comes function by function as they get hot (tierup.c) */
    if (st == KILN_OK && engine->config.tier == KILN_TIER_AUTO) {
      if (!engine->config.compiler)
        st = error_set(err, KILN_ERR_ARGUMENT,
                       "the auto tier needs a compiler (kiln_config.compiler = kiln_llvm_compiler())");
      else
        st = native_code_new(m, &m->native, err);
    }
  }
  if (st == KILN_OK) {
    int32_t hotness = tierup_initial_hotness(m);
    for (uint32_t i = 0; i < m->decl.body_count; i++) {
      m->funcs[i].hotness = hotness;
      m->funcs[i].osr_request = UINT32_MAX;
    }
    if (engine->config.tier == KILN_TIER_AUTO && engine->config.cache && !m->precompiled) tierup_load_cached(m);
  }
  if (st != KILN_OK) {
    module_destroy(m);
    return st;
  }
  *out = m;
  return KILN_OK;
}

kiln_status module_precompile(kiln_engine *engine, const uint8_t *bytes, size_t size, uint8_t **out,
                              size_t *out_size, kiln_error *err) {
  *out = NULL;
  *out_size = 0;
  if (artifact_is(bytes, size))
    return error_set(err, KILN_ERR_ARGUMENT, "the module is precompiled already (give the .wasm)");
  kiln_module *m = module_alloc(engine);
  if (!m) return error_set(err, KILN_ERR_NOMEM, "out of memory");
  kiln_status st = module_prepare(m, bytes, size, err);
  if (st == KILN_OK) st = compile_native(m, out, out_size, err);
  module_destroy(m);
  return st;
}

void module_describe(const kiln_module *m, uint8_t kind, uint32_t index, kiln_externtype *t) {
  const module_decl *d = &m->decl;
  memset(t, 0, sizeof *t);
  t->kind = (kiln_externkind)kind;
  switch (kind) {
    case KILN_EXTERN_FUNC: {
      t->func = module_functype(m, d->func_types[index]);
      break;
    }
    case KILN_EXTERN_TABLE:
      t->elem_type = (kiln_valtype)d->tables[index].elem_type;
      t->limits.min = d->tables[index].lim.min;
      t->limits.max = d->tables[index].lim.max;
      t->limits.has_max = d->tables[index].lim.has_max;
      break;
    case KILN_EXTERN_MEMORY:
      t->limits.min = d->memories[index].min;
      t->limits.max = d->memories[index].max;
      t->limits.has_max = d->memories[index].has_max;
      t->limits.shared = d->memories[index].shared;
      break;
    case KILN_EXTERN_GLOBAL:
      t->global_type = (kiln_valtype)d->global_types[index].type;
      t->global_mutable = d->global_types[index].is_mutable;
      break;
  }
}

/* Lay out every type's value types as kiln_valtype once, for the descriptors. */
static bool build_pool(kiln_module *m) {
  size_t n = 0;
  for (uint32_t i = 0; i < m->decl.type_count; i++) n += m->decl.types[i].param_count + m->decl.types[i].result_count;
  m->valtype_pool = malloc((n + 1) * sizeof *m->valtype_pool);
  m->pool_offsets = malloc(((size_t)m->decl.type_count + 1) * sizeof *m->pool_offsets);
  if (!m->valtype_pool || !m->pool_offsets) return false;
  size_t k = 0;
  for (uint32_t i = 0; i < m->decl.type_count; i++) {
    m->pool_offsets[i] = (uint32_t)k;
    for (uint32_t j = 0; j < m->decl.types[i].param_count + m->decl.types[i].result_count; j++)
      m->valtype_pool[k++] = (kiln_valtype)m->decl.types[i].types[j];
  }
  return true;
}

kiln_functype module_functype(const kiln_module *m, uint32_t type_index) {
  const functype *ft = &m->decl.types[type_index];
  kiln_functype t;
  t.params = m->valtype_pool + m->pool_offsets[type_index];
  t.param_count = ft->param_count;
  t.results = t.params + ft->param_count;
  t.result_count = ft->result_count;
  return t;
}

