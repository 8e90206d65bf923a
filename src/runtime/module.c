/* module.c - modules: decode, validate and compile a binary once; the kiln_externtype of an
 * import or export. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "compile/compile.h"
#include "native/native.h"
#include "runtime.h"
#include "validate/validate.h"

static void module_destroy(kiln_module *m) {
  if (m->funcs)
    for (uint32_t i = 0; i < m->decl.body_count; i++) compiled_func_free(&m->funcs[i]);
  free(m->funcs);
  free(m->type_ids);
  free(m->declared_refs);
  free(m->valtype_pool);
  free(m->pool_offsets);
  native_code_free(m->native);
  module_decl_free(&m->decl);
  free(m);
}

static bool build_pool(kiln_module *m);

/* The compiled tier compiles a module in chunks of functions, each its own object: LLVM's
 * memory grows with what it compiles at once, and chunks can be compiled independently. */
#define CHUNK_FUNCS 1000u
#define CHUNK_CELLS (1u << 20)
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

/* The compiled tier: the engine's compiler makes objects (chunks in parallel, on
 * kiln_config.compile_threads threads), native/ loads them in order. */
static kiln_status compile_native(kiln_module *m, kiln_error *err) {
  const kiln_config *config = &m->engine->config;
  if (!config->compiler)
    return error_set(err, KILN_ERR_ARGUMENT,
                     "the compiled tier needs a compiler (kiln_config.compiler = kiln_llvm_compiler())");
  uint32_t n = m->decl.body_count;
  native_job job = {.module = m};
  atomic_init(&job.next, 0);
  atomic_init(&job.failed, false);
  job.chunks = calloc(n + 1, sizeof *job.chunks); /* at most one chunk per function */
  if (!job.chunks) return error_set(err, KILN_ERR_NOMEM, "out of memory");
  for (uint32_t first = 0; first < n;) {
    uint32_t count = 0;
    uint64_t cells = 0;
    while (first + count < n && count < CHUNK_FUNCS && (count == 0 || cells < CHUNK_CELLS))
      cells += m->funcs[first + count++].code_cells;
    job.chunks[job.chunk_count++] = (native_chunk){.first = first, .count = count};
    first += count;
  }
  kiln_status st = native_code_new(m, &m->native, err);
  uint32_t threads = compile_thread_count(config, job.chunk_count);
  pthread_t tids[MAX_COMPILE_THREADS];
  uint32_t started = 0;
  if (st == KILN_OK) {
    /* the calling thread is one of the workers */
    for (; started + 1 < threads; started++)
      if (pthread_create(&tids[started], NULL, compile_chunks, &job) != 0) break;
    compile_chunks(&job);
    for (uint32_t i = 0; i < started; i++) pthread_join(tids[i], NULL);
  }
  for (uint32_t i = 0; i < job.chunk_count; i++) {
    native_chunk *c = &job.chunks[i];
    if (st == KILN_OK && c->status != KILN_OK) {
      *err = c->err;
      st = c->status;
    }
    if (st == KILN_OK && c->object) st = native_code_add(m, m->native, c->object, c->size, err);
    free(c->object);
  }
  free(job.chunks);
  return st;
}

void module_stats(const kiln_module *module, kiln_module_stats *stats) {
  memset(stats, 0, sizeof *stats);
  stats->tier = module->native ? KILN_TIER_COMPILED : KILN_TIER_INTERP;
  stats->functions = module->decl.body_count;
  if (module->native) native_code_stats(module->native, &stats->native_functions, &stats->native_code_bytes);
}

void module_release(kiln_module *m) {
  if (m && atomic_fetch_sub(&m->refcount, 1) == 1) module_destroy(m);
}

kiln_status module_create(kiln_engine *engine, const uint8_t *bytes, size_t size, kiln_module **out,
                          kiln_error *err) {
  *out = NULL;
  kiln_module *m = calloc(1, sizeof *m);
  if (!m) return error_set(err, KILN_ERR_NOMEM, "out of memory");
  m->engine = engine;
  atomic_init(&m->refcount, 1);
  kiln_status st = decode_module(bytes, size, &m->decl, err);
  if (st) {
    free(m);
    return st;
  }
  module_decl *d = &m->decl;
  m->type_ids = calloc(d->type_count + 1, sizeof(uint32_t));
  m->declared_refs = calloc(d->func_count + 1, sizeof(bool));
  m->funcs = calloc(d->body_count + 1, sizeof(compiled_func));
  if (!m->type_ids || !m->declared_refs || !m->funcs) {
    st = error_set(err, KILN_ERR_NOMEM, "out of memory");
    goto fail;
  }
  for (uint32_t i = 0; i < d->type_count; i++) {
    if ((st = registry_intern(&engine->types, &d->types[i], &m->type_ids[i]))) {
      error_set(err, st, "out of memory");
      goto fail;
    }
    d->types[i].type_id = m->type_ids[i];
  }
  if (!build_pool(m)) {
    st = error_set(err, KILN_ERR_NOMEM, "out of memory");
    goto fail;
  }
  if ((st = validate_module(d, m->declared_refs, err))) goto fail;
  /* every function gets interpreter code: it validates the body, and a function the
   * compiler leaves out (too large or too deeply nested for it) runs in the interpreter */
  for (uint32_t i = 0; i < d->body_count; i++)
    if ((st = compile_function(m, i, &m->funcs[i], err))) goto fail;
  if (engine->config.tier == KILN_TIER_COMPILED && (st = compile_native(m, err))) goto fail;
  *out = m;
  return KILN_OK;
fail:
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

