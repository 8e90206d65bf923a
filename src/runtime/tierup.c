/* tierup.c - KILN_TIER_AUTO: functions the interpreter finds hot are compiled on background
 * threads and installed while the program runs.
 *
 * The interpreter counts down each function's `hotness` at calls and loop iterations
 * (exec/interp.c, relaxed atomics: a lost update only delays tier-up); at zero it calls
 * tierup_hot, which moves the function from TIER_COLD to TIER_QUEUED (once, whatever the
 * threads) and queues it on the engine's compile threads. A thread compiles the one function
 * with the engine's compiler (calls to other functions go through the instance's function
 * table, so they reach whatever tier those are in), loads the object into the module's
 * native code under native_lock and publishes the entry with a release store: from then on
 * every call of the function, in any instance and thread, runs the native code (the
 * interpreter checks the entry when it enters a function; a kiln_func that ran native code
 * keeps its pointer, so compiled callers call it directly). Calls already running finish in
 * the interpreter. A function the compiler does not take on stays TIER_STAYS. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "native/native.h"
#include "runtime/runtime.h"

#define DEFAULT_THRESHOLD 1000u

typedef struct tierup_job {
  kiln_module *module;       /* a reference held until the job is done */
  uint32_t index;            /* defined function */
  struct tierup_job *next;
} tierup_job;

typedef struct tierup {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  tierup_job *head, *tail;
  bool stopping;
  uint32_t thread_count;
  pthread_t threads[];
} tierup;

int32_t tierup_initial_hotness(const kiln_module *m) {
  const kiln_config *c = &m->engine->config;
  if (c->tier != KILN_TIER_AUTO || c->tierup_threshold == UINT32_MAX) return INT32_MAX;
  uint32_t t = c->tierup_threshold ? c->tierup_threshold : DEFAULT_THRESHOLD;
  return t > INT32_MAX ? INT32_MAX : (int32_t)t;
}

/* Compile defined function i of m and install it. */
static void compile_one(kiln_module *m, uint32_t i) {
  compiled_func *f = &m->funcs[i];
  const kiln_engine *e = m->engine;
  uint8_t *object = NULL;
  size_t size = 0;
  kiln_error err;
  memset(&err, 0, sizeof err);
  kiln_status st = e->config.compiler->compile(m, &e->config, i, 1, &object, &size, &err);
  void *func = NULL, (*entry)(kiln_instance *, uint64_t *) = NULL;
  if (st == KILN_OK) {
    pthread_mutex_lock(&m->native_lock);
    st = native_code_add(m, m->native, object, size, &err);
    if (st == KILN_OK) {
      func = m->native->funcs[i];
      entry = (void (*)(kiln_instance *, uint64_t *))m->native->entries[i];
    }
    pthread_mutex_unlock(&m->native_lock);
  }
  free(object);
  if (func && entry) {
    __atomic_store_n(&f->native_func, func, __ATOMIC_RELAXED);
    __atomic_store_n(&f->native_entry, entry, __ATOMIC_RELEASE);
    __atomic_store_n(&f->tier_state, TIER_NATIVE, __ATOMIC_RELEASE);
  } else {
    /* too large for the compiler, or it failed: the interpreter keeps the function */
    __atomic_store_n(&f->tier_state, TIER_STAYS, __ATOMIC_RELEASE);
  }
}

static void *compile_thread(void *arg) {
  tierup *t = arg;
  pthread_mutex_lock(&t->lock);
  for (;;) {
    while (!t->head && !t->stopping) pthread_cond_wait(&t->wake, &t->lock);
    if (t->stopping) break;
    tierup_job *job = t->head;
    t->head = job->next;
    if (!t->head) t->tail = NULL;
    pthread_mutex_unlock(&t->lock);
    /* a module nobody holds any more (only this job's reference) needs no code */
    if (atomic_load(&job->module->refcount) > 1) compile_one(job->module, job->index);
    module_release(job->module);
    free(job);
    pthread_mutex_lock(&t->lock);
  }
  pthread_mutex_unlock(&t->lock);
  return NULL;
}

/* The engine's compile threads, started on first use; NULL if they cannot be. */
static tierup *tierup_get(kiln_engine *e) {
  tierup *t = __atomic_load_n(&e->tierup, __ATOMIC_ACQUIRE);
  if (t) return t;
  pthread_mutex_lock(&e->tierup_lock);
  t = e->tierup;
  if (!t) {
    uint32_t n = e->config.tierup_threads ? e->config.tierup_threads : 1;
    if (n > 64) n = 64;
    t = calloc(1, sizeof *t + n * sizeof(pthread_t));
    if (t) {
      pthread_mutex_init(&t->lock, NULL);
      pthread_cond_init(&t->wake, NULL);
      for (uint32_t k = 0; k < n; k++) {
        if (pthread_create(&t->threads[k], NULL, compile_thread, t) != 0) break;
        t->thread_count++;
      }
      if (t->thread_count == 0) {
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->wake);
        free(t);
        t = NULL;
      } else {
        __atomic_store_n(&e->tierup, t, __ATOMIC_RELEASE);
      }
    }
  }
  pthread_mutex_unlock(&e->tierup_lock);
  return t;
}

void tierup_hot(kiln_module *m, const compiled_func *func) {
  compiled_func *f = &m->funcs[func - m->funcs];
  __atomic_store_n(&f->hotness, INT32_MAX, __ATOMIC_RELAXED);
  kiln_engine *e = m->engine;
  /* a precompiled module's native code is whole: what it lacks is too large to compile */
  if (e->config.tier != KILN_TIER_AUTO || !e->config.compiler || !m->native || m->precompiled) return;
  uint8_t cold = TIER_COLD;
  if (!__atomic_compare_exchange_n(&f->tier_state, &cold, TIER_QUEUED, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
    return;
  uint32_t i = (uint32_t)(f - m->funcs);
  if (e->config.tierup_wait) {
    compile_one(m, i);
    return;
  }
  tierup *t = tierup_get(e);
  tierup_job *job = t ? malloc(sizeof *job) : NULL;
  if (!job) { /* no thread or no memory: try again later */
    __atomic_store_n(&f->tier_state, TIER_COLD, __ATOMIC_RELEASE);
    return;
  }
  atomic_fetch_add(&m->refcount, 1);
  *job = (tierup_job){.module = m, .index = i};
  pthread_mutex_lock(&t->lock);
  if (t->tail) t->tail->next = job;
  else t->head = job;
  t->tail = job;
  pthread_cond_signal(&t->wake);
  pthread_mutex_unlock(&t->lock);
}

void tierup_stop(kiln_engine *e) {
  tierup *t = e->tierup;
  if (!t) return;
  pthread_mutex_lock(&t->lock);
  t->stopping = true;
  pthread_cond_broadcast(&t->wake);
  pthread_mutex_unlock(&t->lock);
  for (uint32_t k = 0; k < t->thread_count; k++) pthread_join(t->threads[k], NULL);
  while (t->head) {
    tierup_job *job = t->head;
    t->head = job->next;
    module_release(job->module);
    free(job);
  }
  pthread_mutex_destroy(&t->lock);
  pthread_cond_destroy(&t->wake);
  free(t);
  e->tierup = NULL;
}
