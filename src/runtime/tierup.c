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
 * keeps its pointer, so compiled callers call it directly). A function the compiler does not
 * take on stays TIER_STAYS.
 *
 * On-stack replacement: a call already running stays in the interpreter, except at loops
 * where its locals are its whole state (func_osr_loop: no operands, no loop params), which
 * the interpreter marks IOP_loop_osr with their ordinal. When the count reaches zero at such a
 * loop (tierup_hot_loop), the compile also emits o<N>, the function entered at that loop's
 * header with the locals read from the interpreter's frame; once installed (osr_entry), the
 * interpreter's next pass through that loop header calls it, and returns what it leaves in
 * the frame. A function compiled without it (its calls got hot first) counts again, so a call
 * still looping interpreted asks for it then (an osr-only job).
 *
 * With the engine's cache on, each compiled function is also written to the cache as its own
 * entry (an artifact holding that one function's object, without the wasm): the directory
 * "<artifact key name>.d" of the cache directory, file "f<N>.cwasm". A module made again
 * installs what that directory has before its first call (small modules) or on a compile
 * thread (large ones, whose key needs the SHA-256 of many bytes), so a second run starts with
 * native code for the functions the first found hot. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "native/native.h"
#include "runtime/artifact.h"
#include "runtime/cache.h"
#include "runtime/runtime.h"

/* Calls plus loop iterations before a function is compiled: 50,000 is a millisecond or a
 * few of interpreting, too little to matter to a long run, and enough that a short one
 * (yosys -V: 12 ms) compiles nothing and never starts LLVM (36 MB). */
#define DEFAULT_THRESHOLD 50000u

typedef struct tierup_job {
  kiln_module *module;       /* no reference: a module being destroyed takes its jobs out
                              * and waits for the one running (tierup_forget) */
  uint32_t index;            /* defined function, or JOB_LOAD_CACHE */
  bool osr;                  /* compile index again for its entry at osr_request */
  struct tierup_job *next;
} tierup_job;

typedef struct tierup {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  tierup_job *head, *tail;
  bool stopping;
  bool joined;               /* the threads are stopped and joined (under live_lock) */
  pthread_cond_t idle;       /* a thread finished a job (tierup_forget waits for it) */
  uint32_t started;          /* threads that took their index */
  kiln_module *current[64];  /* per thread: the module of the job it runs, else NULL */
  struct tierup *next_live;  /* the list of every engine's tierup (live_lock) */
  uint32_t thread_count;
  pthread_t threads[];
} tierup;

/* Every engine's compile threads, so that they are stopped before the process exits: an
 * embedder that exits without freeing its engine (Node.js does) would otherwise have exit()
 * run the compiler's static destructors while a thread is compiling. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static tierup *live;

/* Stop t's threads (waiting for the compile each is doing) and join them. Under live_lock. */
static void halt(tierup *t) {
  if (t->joined) return;
  pthread_mutex_lock(&t->lock);
  t->stopping = true;
  pthread_cond_broadcast(&t->wake);
  pthread_mutex_unlock(&t->lock);
  for (uint32_t k = 0; k < t->thread_count; k++) pthread_join(t->threads[k], NULL);
  t->joined = true;
}

static void halt_all(void) {
  pthread_mutex_lock(&live_lock);
  for (tierup *t = live; t; t = t->next_live) halt(t);
  pthread_mutex_unlock(&live_lock);
}

/* atexit handlers run in reverse order of registration, and the compiler (LLVM) registers
 * destructors for statics it makes on first use (the value type tables of instruction
 * selection, ...): halt_all must be registered after them, or exit() destroys them under a
 * compile. So before the first compile is queued, the thread that queues it compiles a
 * small function that uses what compiles use (memory, SIMD, calls, globals, conversions),
 * then registers halt_all; and it is registered again after each of the first compiles on
 * the threads, for statics that only some functions reach. (Threads that only load from
 * the cache never run the compiler.) */
static pthread_mutex_t warm_lock = PTHREAD_MUTEX_INITIALIZER;
static bool warmed;
static atomic_uint late_registrations;
#define LATE_REGISTRATIONS 32

/* wat2wasm of: (module (memory 1) (table 1 funcref) (global $g (mut i64) (i64.const 0))
 *   (func $f (param i32 i64 f64) (result i32)
 *     (i64.store (local.get 0) (i64.add (local.get 1) (global.get $g)))
 *     (v128.store offset=16 (local.get 0) (i32x4.add (v128.load (local.get 0))
 *       (f32x4.convert_i32x4_s (v128.load offset=32 (local.get 0)))))
 *     (if (i32.eqz (local.get 0)) (then (drop (call $f (i32.const 1) (i64.const 2) (f64.const 3)))))
 *     (drop (call_indirect (param i32 i64 f64) (result i32)
 *       (i32.const 0) (i64.const 0) (f64.const 0) (i32.const 0)))
 *     (i32.add (i32.load8_u offset=8 (local.get 0)) (i32.trunc_sat_f64_s (f64.sqrt (local.get 2)))))) */
static const uint8_t warm_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7f, 0x7e, 0x7c, 0x01, 0x7f,
  0x03, 0x02, 0x01, 0x00, 0x04, 0x04, 0x01, 0x70, 0x00, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x06, 0x06, 0x01,
  0x7e, 0x01, 0x42, 0x00, 0x0b, 0x0a, 0x5a, 0x01, 0x58, 0x00, 0x20, 0x00, 0x20, 0x01, 0x23, 0x00, 0x7c, 0x37,
  0x03, 0x00, 0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x20, 0xfd, 0xfa,
  0x01, 0xfd, 0xae, 0x01, 0xfd, 0x0b, 0x04, 0x10, 0x20, 0x00, 0x45, 0x04, 0x40, 0x41, 0x01, 0x42, 0x02, 0x44,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x40, 0x10, 0x00, 0x1a, 0x0b, 0x41, 0x00, 0x42, 0x00, 0x44, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x41, 0x00, 0x11, 0x00, 0x00, 0x1a, 0x20, 0x00, 0x2d, 0x00, 0x08,
  0x20, 0x02, 0x9f, 0xfc, 0x02, 0x6a, 0x0b};

/* Once per process, before the first compile thread: warm the compiler up, then register
 * halt_all. */
static void warm_up(kiln_engine *e) {
  pthread_mutex_lock(&warm_lock);
  if (!warmed) {
    warmed = true;
    kiln_config config = e->config;
    config.tier = KILN_TIER_INTERP; /* a plain module: no cache, no tier-up of its own */
    config.cache = false;
    kiln_engine *scratch = kiln_engine_new(&config);
    kiln_module *m = NULL;
    kiln_error err;
    if (scratch && module_create(scratch, warm_wasm, sizeof warm_wasm, NULL, NULL, &m, &err) == KILN_OK) {
      uint8_t *object = NULL;
      size_t size = 0;
      e->config.compiler->compile(m, &e->config, 0, 1, &object, &size, &err);
      free(object);
      module_release(m);
    }
    kiln_engine_free(scratch);
    atexit(halt_all);
  }
  pthread_mutex_unlock(&warm_lock);
}

int32_t tierup_initial_hotness(const kiln_module *m) {
  const kiln_config *c = &m->engine->config;
  if (c->tier != KILN_TIER_AUTO || c->tierup_threshold == UINT32_MAX) return INT32_MAX;
  uint32_t t = c->tierup_threshold ? c->tierup_threshold : DEFAULT_THRESHOLD;
  return t > INT32_MAX ? INT32_MAX : (int32_t)t;
}

/* Modules up to this size look in the cache when they are made; larger ones on a compile
 * thread (hashing them takes milliseconds). */
#define CACHE_LOAD_NOW_BYTES (4u << 20)
/* A job's index that means "load m's functions from the cache". */
#define JOB_LOAD_CACHE UINT32_MAX

/* m's per-function cache directory and key, found on first use; false when the cache is not
 * to be used (no directory, no compiler description, no memory). */
static bool tier_cache(kiln_module *m) {
  uint8_t state = __atomic_load_n(&m->tier_cache, __ATOMIC_ACQUIRE);
  if (state != TIER_CACHE_UNKNOWN) return state == TIER_CACHE_ON;
  pthread_mutex_lock(&m->tier_cache_lock);
  state = m->tier_cache;
  if (state == TIER_CACHE_UNKNOWN) {
    const kiln_engine *e = m->engine;
    artifact_key *key = malloc(sizeof *key);
    kiln_error err;
    char name[2 * SHA256_BYTES + 1];
    state = TIER_CACHE_OFF;
    if (e->config.cache && e->cache_dir && key &&
        artifact_key_make(e, e->config.portable, m->decl.bytes, m->decl.size, key, &err) == KILN_OK) {
      artifact_key_name(key, name);
      if (asprintf(&m->tier_cache_dir, "%s/%s.d", e->cache_dir, name) >= 0) {
        m->tier_key = key;
        key = NULL;
        state = TIER_CACHE_ON;
      } else {
        m->tier_cache_dir = NULL;
      }
    }
    free(key);
    __atomic_store_n(&m->tier_cache, state, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&m->tier_cache_lock);
  return state == TIER_CACHE_ON;
}

/* Write function i's object to the cache (failures only lose the entry). */
static void cache_store(kiln_module *m, uint32_t i, const uint8_t *object, size_t size) {
  if (!tier_cache(m)) return;
  uint32_t n = m->decl.body_count;
  bool *native = calloc(n + 1, sizeof *native);
  if (!native) return;
  native[i] = true;
  artifact_object obj = {object, size};
  uint8_t *bytes;
  size_t bytes_size;
  kiln_error err;
  char name[32], note[320];
  if (artifact_write(m->tier_key, native, n, NULL, 0, &obj, 1, &bytes, &bytes_size, &err) == KILN_OK) {
    snprintf(name, sizeof name, "f%u" CACHE_ENTRY_SUFFIX, i);
    cache_write(m->tier_cache_dir, name, bytes, bytes_size, false, note, sizeof note);
    free(bytes);
  }
  free(native);
}

/* Publish function i's native code: its next call runs it. */
static void publish(compiled_func *f, void *func, void (*entry)(kiln_instance *, uint64_t *)) {
  __atomic_store_n(&f->native_func, func, __ATOMIC_RELAXED);
  __atomic_store_n(&f->native_entry, entry, __ATOMIC_RELEASE);
  __atomic_store_n(&f->tier_state, TIER_NATIVE, __ATOMIC_RELEASE);
}

/* Install the functions of one cache entry of m, if it is sound and made for m: false when
 * it is not (the caller notes why in m->cache_note once). */
static bool load_entry(kiln_module *m, const char *name, char *why, size_t why_size) {
  uint8_t *bytes;
  size_t size;
  if (!cache_read(m->tier_cache_dir, name, &bytes, &size, why, why_size)) {
    free(bytes);
    return false;
  }
  artifact a;
  kiln_error err;
  char what[4200];
  bool ok = false;
  uint32_t n = m->decl.body_count, taken = 0;
  if (artifact_read(bytes, size, &a, &err) != KILN_OK) {
    snprintf(why, why_size, "entry %.40s rejected: %.240s", name, err.message);
  } else {
    if (artifact_key_differs(&a.key, m->tier_key, what, sizeof what))
      snprintf(why, why_size, "entry %.40s rejected: made for a different %.220s", name, what);
    else if (a.func_count != n || a.wasm_size != 0)
      snprintf(why, why_size, "entry %.40s rejected: it holds another module", name);
    else
      ok = true;
    /* take the entry's functions, cold or queued for compiling (the compile job then finds
     * them taken); any other state means they are compiled, or being compiled, already */
    uint8_t *was = ok ? calloc(n + 1, 1) : NULL;
    if (!was) ok = false;
    for (uint32_t i = 0; ok && i < n; i++) {
      if (!artifact_native(&a, i)) continue;
      uint8_t state = __atomic_load_n(&m->funcs[i].tier_state, __ATOMIC_ACQUIRE);
      if ((state == TIER_COLD || state == TIER_QUEUED) &&
          __atomic_compare_exchange_n(&m->funcs[i].tier_state, &state, TIER_BUSY, false, __ATOMIC_ACQ_REL,
                                      __ATOMIC_RELAXED)) {
        was[i] = (uint8_t)(state + 1); /* 0: not taken */
        taken++;
      } else {
        ok = false; /* give back what was taken below */
      }
    }
    kiln_status st = ok ? KILN_OK : KILN_ERR_ARGUMENT;
    pthread_mutex_lock(&m->native_lock);
    for (uint32_t k = 0; ok && st == KILN_OK && k < a.object_count; k++)
      st = native_code_add(m, m->native, a.objects[k].bytes, a.objects[k].size, &err);
    if (ok && st != KILN_OK) snprintf(why, why_size, "entry %.40s rejected: %.240s", name, err.message);
    for (uint32_t i = 0; taken && i < n; i++) {
      if (!was[i]) continue;
      taken--;
      void *func = st == KILN_OK ? m->native->funcs[i] : NULL;
      void *entry = st == KILN_OK ? m->native->entries[i] : NULL;
      if (func && entry) {
        publish(&m->funcs[i], func, (void (*)(kiln_instance *, uint64_t *))entry);
        atomic_fetch_add(&m->cached_functions, 1);
      } else {
        __atomic_store_n(&m->funcs[i].tier_state, (uint8_t)(was[i] - 1), __ATOMIC_RELEASE);
      }
    }
    pthread_mutex_unlock(&m->native_lock);
    free(was);
    ok = ok && st == KILN_OK;
    artifact_free(&a);
  }
  free(bytes);
  return ok;
}

/* Install every function the cache has for m. */
static void load_cached(kiln_module *m) {
  if (!tier_cache(m)) return;
  DIR *d = opendir(m->tier_cache_dir);
  if (!d) return;
  char why[320];
  bool noted = false;
  for (struct dirent *e; (e = readdir(d));) {
    unsigned index;
    int used = 0;
    if (sscanf(e->d_name, "f%u" CACHE_ENTRY_SUFFIX "%n", &index, &used) != 1 || e->d_name[used] ||
        index >= m->decl.body_count)
      continue;
    why[0] = 0;
    if (!load_entry(m, e->d_name, why, sizeof why) && why[0] && !noted) {
      /* the first reason is kept for kiln_module_stats.cache_note */
      pthread_mutex_lock(&m->native_lock);
      snprintf(m->cache_note, sizeof m->cache_note, "%s", why);
      pthread_mutex_unlock(&m->native_lock);
      noted = true;
    }
  }
  closedir(d);
}

/* Compile defined function i of m and install it; with an entry at the loop a running call
 * asked for (osr_request), when there is one. osr_only: the function is native already, and
 * only that entry is wanted. */
static void compile_one(kiln_module *m, uint32_t i, bool osr_only) {
  compiled_func *f = &m->funcs[i];
  if (!osr_only) {
    uint8_t queued = TIER_QUEUED;
    if (!__atomic_compare_exchange_n(&f->tier_state, &queued, TIER_BUSY, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
      return; /* loaded from the cache meanwhile */
  }
  const kiln_engine *e = m->engine;
  const kiln_compiler *compiler = e->config.compiler;
  uint32_t loop = __atomic_load_n(&f->osr_request, __ATOMIC_ACQUIRE);
  bool osr = loop != UINT32_MAX && compiler->compile_osr != NULL;
  uint8_t *object = NULL;
  size_t size = 0;
  kiln_error err;
  memset(&err, 0, sizeof err);
  kiln_status st = osr ? compiler->compile_osr(m, &e->config, i, loop, &object, &size, &err)
                       : compiler->compile(m, &e->config, i, 1, &object, &size, &err);
  void *func = NULL, (*entry)(kiln_instance *, uint64_t *) = NULL, (*osr_fn)(kiln_instance *, uint64_t *) = NULL;
  if (st == KILN_OK) {
    pthread_mutex_lock(&m->native_lock);
    st = native_code_add(m, m->native, object, size, &err);
    if (st == KILN_OK) {
      func = m->native->funcs[i];
      entry = (void (*)(kiln_instance *, uint64_t *))m->native->entries[i];
      if (osr) osr_fn = (void (*)(kiln_instance *, uint64_t *))m->native->osr[i];
    }
    pthread_mutex_unlock(&m->native_lock);
  }
  if (func && entry && !osr_only) cache_store(m, i, object, size);
  free(object);
  if (osr_fn) {
    f->osr_loop = loop;
    __atomic_store_n(&f->osr_entry, osr_fn, __ATOMIC_RELEASE);
  }
  if (osr || osr_only) __atomic_store_n(&f->osr_state, osr_fn ? OSR_DONE : OSR_NONE, __ATOMIC_RELEASE);
  if (osr_only) return;
  if (func && entry) {
    publish(f, func, entry);
    /* calls run native code from now on; a call still looping in the interpreter counts
     * again, and asks for an entry at its loop (tierup_hot_loop) */
    if (!osr_fn) __atomic_store_n(&f->hotness, tierup_initial_hotness(m), __ATOMIC_RELAXED);
  } else {
    /* too large for the compiler, or it failed: the interpreter keeps the function */
    __atomic_store_n(&f->tier_state, TIER_STAYS, __ATOMIC_RELEASE);
  }
}

static void *compile_thread(void *arg) {
  tierup *t = arg;
  pthread_mutex_lock(&t->lock);
  uint32_t k = t->started++;
  for (;;) {
    while (!t->head && !t->stopping) pthread_cond_wait(&t->wake, &t->lock);
    if (t->stopping) break;
    tierup_job *job = t->head;
    t->head = job->next;
    if (!t->head) t->tail = NULL;
    t->current[k] = job->module; /* the module stays alive until current is cleared */
    pthread_mutex_unlock(&t->lock);
    if (job->index == JOB_LOAD_CACHE) {
      load_cached(job->module);
    } else {
      compile_one(job->module, job->index, job->osr);
      if (atomic_fetch_add(&late_registrations, 1) < LATE_REGISTRATIONS) atexit(halt_all);
    }
    free(job);
    pthread_mutex_lock(&t->lock);
    t->current[k] = NULL;
    pthread_cond_broadcast(&t->idle);
  }
  pthread_mutex_unlock(&t->lock);
  return NULL;
}

void tierup_forget(kiln_module *m) {
  tierup *t = __atomic_load_n(&m->engine->tierup, __ATOMIC_ACQUIRE);
  if (!t) return;
  pthread_mutex_lock(&t->lock);
  for (tierup_job **p = &t->head, *prev = NULL; *p;) {
    tierup_job *job = *p;
    if (job->module != m) {
      prev = job;
      p = &job->next;
      continue;
    }
    *p = job->next;
    if (t->tail == job) t->tail = prev;
    free(job);
  }
  for (;;) {
    bool running = false;
    for (uint32_t k = 0; k < t->started; k++) running = running || t->current[k] == m;
    if (!running) break;
    pthread_cond_wait(&t->idle, &t->lock);
  }
  pthread_mutex_unlock(&t->lock);
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
      pthread_cond_init(&t->idle, NULL);
      for (uint32_t k = 0; k < n; k++) {
        if (pthread_create(&t->threads[k], NULL, compile_thread, t) != 0) break;
        t->thread_count++;
      }
      if (t->thread_count == 0) {
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->wake);
        pthread_cond_destroy(&t->idle);
        free(t);
        t = NULL;
      } else {
        pthread_mutex_lock(&live_lock);
        t->next_live = live;
        live = t;
        pthread_mutex_unlock(&live_lock);
        __atomic_store_n(&e->tierup, t, __ATOMIC_RELEASE);
      }
    }
  }
  pthread_mutex_unlock(&e->tierup_lock);
  return t;
}

/* Queue job index for m's compile threads; false if it cannot be. */
static bool queue(kiln_module *m, uint32_t index, bool osr) {
  /* the first compile waits for the warm-up (loading from the cache needs no compiler) */
  if (index != JOB_LOAD_CACHE) warm_up(m->engine);
  tierup *t = tierup_get(m->engine);
  tierup_job *job = t ? malloc(sizeof *job) : NULL;
  if (!job) return false;
  *job = (tierup_job){.module = m, .index = index, .osr = osr};
  pthread_mutex_lock(&t->lock);
  bool open = !t->stopping; /* not when the process is exiting */
  if (open) {
    if (t->tail) t->tail->next = job;
    else t->head = job;
    t->tail = job;
    pthread_cond_signal(&t->wake);
  }
  pthread_mutex_unlock(&t->lock);
  if (!open) free(job);
  return open;
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
    compile_one(m, i, false);
    return;
  }
  if (!queue(m, i, false)) /* no thread or no memory: try again later */
    __atomic_store_n(&f->tier_state, TIER_COLD, __ATOMIC_RELEASE);
}

void tierup_hot_loop(kiln_module *m, const compiled_func *func, uint32_t loop) {
  compiled_func *f = &m->funcs[func - m->funcs];
  kiln_engine *e = m->engine;
  uint32_t none = UINT32_MAX;
  __atomic_compare_exchange_n(&f->osr_request, &none, loop, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
  if (__atomic_load_n(&f->tier_state, __ATOMIC_ACQUIRE) != TIER_NATIVE) {
    tierup_hot(m, func);
    return;
  }
  /* native already, but compiled without this call's loop (its calls got hot first): compile
   * it again with the entry, once */
  __atomic_store_n(&f->hotness, INT32_MAX, __ATOMIC_RELAXED);
  uint8_t none_yet = OSR_NONE;
  if (e->config.tier != KILN_TIER_AUTO || !e->config.compiler || !e->config.compiler->compile_osr ||
      m->precompiled || __atomic_load_n(&f->osr_entry, __ATOMIC_ACQUIRE) ||
      !__atomic_compare_exchange_n(&f->osr_state, &none_yet, OSR_QUEUED, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
    return;
  __atomic_store_n(&f->osr_request, loop, __ATOMIC_RELEASE);
  uint32_t i = (uint32_t)(f - m->funcs);
  if (e->config.tierup_wait) compile_one(m, i, true);
  else if (!queue(m, i, true)) __atomic_store_n(&f->osr_state, OSR_NONE, __ATOMIC_RELEASE);
}

void tierup_load_cached(kiln_module *m) {
  const kiln_config *c = &m->engine->config;
  if (c->tier != KILN_TIER_AUTO || !c->cache || !c->compiler || !m->native || m->precompiled) return;
  if (c->tierup_wait || m->decl.size <= CACHE_LOAD_NOW_BYTES || !queue(m, JOB_LOAD_CACHE, false)) load_cached(m);
}

void tierup_stop(kiln_engine *e) {
  tierup *t = e->tierup;
  if (!t) return;
  pthread_mutex_lock(&live_lock);
  halt(t);
  for (tierup **p = &live; *p; p = &(*p)->next_live)
    if (*p == t) {
      *p = t->next_live;
      break;
    }
  pthread_mutex_unlock(&live_lock);
  while (t->head) {
    tierup_job *job = t->head;
    t->head = job->next;
    free(job);
  }
  pthread_mutex_destroy(&t->lock);
  pthread_cond_destroy(&t->wake);
  pthread_cond_destroy(&t->idle);
  free(t);
  e->tierup = NULL;
}
