/* diff_common.h - differential execution of one module in the interpreter and in the compiled
 * tier, shared by the fuzz target fuzz/fuzz_diff.c and the standalone tests/diff/difftest.c.
 *
 * Both tiers get the module, the same imports (host functions that log their calls and
 * arguments, zeroed memories, tables and globals) and the same calls: every exported function,
 * in export order, first with zero arguments, then with small non-zero ones (an export named
 * "hangLimitInitializer", which wasm-opt -ttf modules have, is called before each). After
 * instantiation and after each call the two runs must agree on the status, the trap kind, the
 * results (bit for bit, but for the NaNs the spec leaves open: see diff_nan_equal), the
 * host-call log, and every exported or imported global, memory (size and bytes) and table
 * (size and elements).
 *
 * Fuel is charged differently by the tiers (the interpreter charges one unit per function
 * entry or loop iteration plus one per 1024 cells of its code, compiled code one unit), so the
 * compiled tier never runs out first: the interpreter running out of fuel, or either tier
 * exhausting its stack (the depth limits differ), ends the comparison as inconclusive; the
 * compiled tier running out of fuel alone is a mismatch. Host calls have a budget per call
 * that is the same in both tiers (a host trap), so loops that log end the same way.
 *
 * DIFF_TIER=auto makes the second run the auto tier instead: every function runs in the
 * interpreter for its first DIFF_AUTO_THRESHOLD calls and loop iterations, then is compiled
 * (the call that crosses the threshold waits for it) and runs natively, so that the tiers
 * change in the middle of a run, with interpreted and native frames calling each other.
 *
 * Public API only (kiln.h) plus kiln_llvm_compiler(). Everything is static: include it in one
 * translation unit. Needs KILN_HAVE_LLVM (libkiln_llvm). */
#ifndef KILN_DIFF_COMMON_H
#define KILN_DIFF_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln.h"

#define DIFF_MAX_MEMORY_BYTES (16u << 20)
#define DIFF_MAX_TABLE_ELEMENTS 100000u
#define DIFF_MAX_CALL_DEPTH 2000u
#define DIFF_VALUE_STACK_BYTES (1u << 20)
#define DIFF_FUEL 100000u
#define DIFF_HOST_CALL_BUDGET 10000u /* host calls per export call (or per instantiation) */
#define DIFF_AUTO_THRESHOLD 3u
#define DIFF_MAX_EXPORT_CALLS 200u   /* exported functions x argument sets per module */

typedef enum diff_verdict {
  DIFF_SAME,         /* every comparison agreed */
  DIFF_SKIPPED,      /* not a valid module, or its imports cannot be made (in both tiers alike) */
  DIFF_INCONCLUSIVE, /* the runs may legitimately part (fuel, stack depth); compared up to there */
  DIFF_MISMATCH,     /* the tiers disagree: what[] says where and how */
} diff_verdict;

typedef struct diff_result {
  diff_verdict verdict;
  uint32_t calls;  /* exported function calls compared */
  uint32_t nans;   /* NaN differences the spec allows, let through (see diff_nan_equal) */
  char what[4096]; /* the mismatch, or why the run was skipped or inconclusive */
} diff_result;

typedef struct diff_engines {
  kiln_engine *interp;
  kiln_engine *compiled;
} diff_engines;

/* A growing byte buffer: each tier's record of host calls. */
typedef struct diff_log {
  uint8_t *bytes;
  size_t len, cap;
  uint64_t calls;       /* host calls so far (all of them) */
  uint64_t budget_left; /* host calls left in this export call */
} diff_log;

/* user_data of a host function: where to log and what it is. */
typedef struct diff_host {
  diff_log *log;
  uint32_t import_index;
  uint32_t param_count, result_count;
} diff_host;

/* One tier's run of the module. */
typedef struct diff_side {
  const char *tier;
  kiln_store *store;
  kiln_module *module;
  kiln_instance *instance;
  uint32_t import_count;
  kiln_import *imports;
  diff_log log;
} diff_side;

/* Compare NaNs bit for bit (DIFF_STRICT_NAN=1): see diff_nan_equal. */
static bool diff_strict_nan;

static bool diff_engines_init(diff_engines *e) {
  kiln_config config;
  kiln_config_init(&config);
  config.max_memory_bytes = DIFF_MAX_MEMORY_BYTES;
  config.max_table_elements = DIFF_MAX_TABLE_ELEMENTS;
  config.max_call_depth = DIFF_MAX_CALL_DEPTH;
  config.value_stack_bytes = DIFF_VALUE_STACK_BYTES;
  config.consume_fuel = true; /* runs are bounded by fuel budgets */
  const char *strict = getenv("DIFF_STRICT_NAN");
  diff_strict_nan = strict && *strict && strcmp(strict, "0") != 0;
  e->interp = kiln_engine_new(&config);
  config.tier = KILN_TIER_COMPILED;
  config.compiler = kiln_llvm_compiler();
  const char *tier = getenv("DIFF_TIER");
  if (tier && strcmp(tier, "auto") == 0) {
    config.tier = KILN_TIER_AUTO;
    config.tierup_threshold = DIFF_AUTO_THRESHOLD;
    config.tierup_wait = true;
  }
  e->compiled = kiln_engine_new(&config);
  return e->interp && e->compiled;
}

static inline void diff_engines_free(diff_engines *e) {
  kiln_engine_free(e->interp);
  kiln_engine_free(e->compiled);
}

static void diff_log_put(diff_log *log, const void *bytes, size_t n) {
  if (log->len + n > log->cap) {
    size_t cap = log->cap ? log->cap : 256;
    while (cap < log->len + n) cap *= 2;
    uint8_t *b = realloc(log->bytes, cap);
    if (!b) abort(); /* a harness, not the library: out of memory ends the run */
    log->bytes = b;
    log->cap = cap;
  }
  memcpy(log->bytes + log->len, bytes, n);
  log->len += n;
}

/* A value's identity as bytes, the same in both tiers' stores: numbers by their bits,
 * externref by its pointer (the host made it), funcref by null or not (its pointer belongs to
 * one store; its type is compared where it is read). Returns the byte count (at most 17). */
static size_t diff_val_bytes(kiln_val v, uint8_t out[17]) {
  memset(out, 0, 17);
  out[0] = (uint8_t)v.type;
  switch (v.type) {
    case KILN_I32:
    case KILN_F32: memcpy(out + 1, &v.of.i32, 4); return 5;
    case KILN_I64:
    case KILN_F64: memcpy(out + 1, &v.of.i64, 8); return 9;
    case KILN_V128: memcpy(out + 1, v.of.v128, 16); return 17;
    case KILN_FUNCREF: out[1] = v.of.funcref != NULL; return 2;
    case KILN_EXTERNREF: memcpy(out + 1, &v.of.externref, sizeof(void *)); return 1 + sizeof(void *);
  }
  return 1;
}

/* NaN results. An arithmetic instruction may return any quiet NaN when an operand is a NaN
 * (which operand's payload survives is not fixed), and a canonical NaN of either sign when it
 * makes one: the interpreter (the host compiler's code for numeric.h) and LLVM (which folds
 * constants by its own rules and may commute operands) do pick differently. So, unless
 * diff_strict_nan, two quiet NaNs count as equal in f32 and f64 values (results, globals,
 * host-call arguments), and in memory and in v128 values (the lanes of f32x4 and f64x2
 * arithmetic) two 4- or 8-byte windows that are quiet NaNs; v128 host-call arguments have
 * their quiet-NaN lanes canonicalized (this lets through small negative integers that
 * differ, too: scripts/diff_fuzz.sh also runs modules without NaNs, wasm-opt --denan,
 * strictly; --denan cannot remove NaNs a module makes from integer bits, v128 constants or
 * reinterpretations, so strict runs may still report a NaN payload difference the spec
 * allows). A
 * signalling NaN against a quiet one, or a NaN against a number, is always a mismatch: an
 * instruction that must keep the bits (loads, stores, constants, neg, abs, copysign,
 * reinterpret) keeps them exactly. */
static bool diff_quiet_nan32(uint32_t v) { return (v & 0x7fc00000u) == 0x7fc00000u; }
static bool diff_quiet_nan64(uint64_t v) { return (v & 0x7ff8000000000000ull) == 0x7ff8000000000000ull; }

/* Whether a and b are the same value up to the NaN freedom above. */
static bool diff_nan_equal(kiln_val a, kiln_val b) {
  if (diff_strict_nan || a.type != b.type) return false;
  if (a.type == KILN_F32) return diff_quiet_nan32(a.of.f32_bits) && diff_quiet_nan32(b.of.f32_bits);
  if (a.type == KILN_F64) return diff_quiet_nan64(a.of.f64_bits) && diff_quiet_nan64(b.of.f64_bits);
  return false;
}

/* The first offset at or after i where the n bytes a and b differ, skipping the NaN windows
 * described above (counted in *nans); n if none. */
static size_t diff_first_difference(const uint8_t *a, const uint8_t *b, size_t i, size_t n, uint32_t *nans) {
  for (;;) {
    while (i < n && a[i] == b[i]) i++;
    if (i >= n || diff_strict_nan) return i;
    size_t next = 0;
    for (size_t s = i >= 7 ? i - 7 : 0; !next && s <= i && s + 8 <= n; s++) {
      uint64_t x, y;
      memcpy(&x, a + s, 8);
      memcpy(&y, b + s, 8);
      if (diff_quiet_nan64(x) && diff_quiet_nan64(y)) next = s + 8;
    }
    for (size_t s = i >= 3 ? i - 3 : 0; !next && s <= i && s + 4 <= n; s++) {
      uint32_t x, y;
      memcpy(&x, a + s, 4);
      memcpy(&y, b + s, 4);
      if (diff_quiet_nan32(x) && diff_quiet_nan32(y)) next = s + 4;
    }
    if (!next) return i;
    (*nans)++;
    i = next;
  }
}

/* A v128 host-call argument's quiet-NaN lanes (8-byte halves, then 4-byte lanes) made the
 * canonical NaN, so that the logs of both tiers agree where diff_compare_vals would. */
static void diff_v128_quiet_nans(uint8_t v[16]) {
  for (int i = 0; i < 16; i += 8) {
    uint64_t x;
    memcpy(&x, v + i, 8);
    if (diff_quiet_nan64(x)) memcpy(v + i, &(uint64_t){0x7ff8000000000000ull}, 8);
  }
  for (int i = 0; i < 16; i += 4) {
    uint32_t x;
    memcpy(&x, v + i, 4);
    if (diff_quiet_nan32(x)) memcpy(v + i, &(uint32_t){0x7fc00000u}, 4);
  }
}

static void diff_val_format(kiln_val v, char *buf, size_t size) {
  switch (v.type) {
    case KILN_I32: snprintf(buf, size, "i32 0x%08x (%d)", (unsigned)v.of.i32, v.of.i32); return;
    case KILN_I64: snprintf(buf, size, "i64 0x%016llx (%lld)", (unsigned long long)v.of.i64, (long long)v.of.i64); return;
    case KILN_F32: snprintf(buf, size, "f32 0x%08x (%g)", (unsigned)v.of.f32_bits, (double)v.of.f32); return;
    case KILN_F64: snprintf(buf, size, "f64 0x%016llx (%g)", (unsigned long long)v.of.f64_bits, v.of.f64); return;
    case KILN_V128: {
      int n = snprintf(buf, size, "v128");
      for (int i = 0; i < 16 && n > 0 && (size_t)n < size; i++) n += snprintf(buf + n, size - (size_t)n, " %02x", v.of.v128[i]);
      return;
    }
    case KILN_FUNCREF: snprintf(buf, size, "funcref %s", v.of.funcref ? "(non-null)" : "null"); return;
    case KILN_EXTERNREF: snprintf(buf, size, "externref %p", v.of.externref); return;
  }
  snprintf(buf, size, "type 0x%x", (unsigned)v.type);
}

/* Deterministic results of a host call: the call's number, in every numeric type. */
static kiln_val diff_host_result(kiln_valtype type, uint64_t n) {
  kiln_val v;
  memset(&v, 0, sizeof v);
  v.type = type;
  switch (type) {
    case KILN_I32: v.of.i32 = (int32_t)n; break;
    case KILN_I64: v.of.i64 = (int64_t)n; break;
    case KILN_F32: v.of.f32 = (float)n; break;
    case KILN_F64: v.of.f64 = (double)n; break;
    case KILN_V128: memcpy(v.of.v128, &n, sizeof n); break;
    default: break; /* references: null */
  }
  return v;
}

/* Every imported function: logs (import index, arguments), returns diff_host_result, and
 * traps once the call's host budget is spent. */
static kiln_status diff_host_call(kiln_caller *caller, void *user_data, const kiln_val *args, kiln_val *results) {
  diff_host *h = user_data;
  diff_log *log = h->log;
  if (log->budget_left == 0) return kiln_caller_trap(caller, "host call budget spent");
  log->budget_left--;
  uint32_t tag = 0xC0FFEE00u;
  diff_log_put(log, &tag, 4);
  diff_log_put(log, &h->import_index, 4);
  for (uint32_t i = 0; i < h->param_count; i++) {
    uint8_t b[17];
    kiln_val v = args[i];
    if (!diff_strict_nan && v.type == KILN_F32 && diff_quiet_nan32(v.of.f32_bits)) v.of.f32_bits = 0x7fc00000u;
    if (!diff_strict_nan && v.type == KILN_F64 && diff_quiet_nan64(v.of.f64_bits)) v.of.f64_bits = 0x7ff8000000000000ull;
    if (!diff_strict_nan && v.type == KILN_V128) diff_v128_quiet_nans(v.of.v128);
    diff_log_put(log, b, diff_val_bytes(v, b));
  }
  log->calls++;
  for (uint32_t i = 0; i < h->result_count; i++) results[i] = diff_host_result(results[i].type, log->calls);
  return KILN_OK;
}

/* The value imported globals start with, and the arguments of argument set `set`. */
static kiln_val diff_value(kiln_valtype type, int set, uint32_t k) {
  kiln_val v;
  memset(&v, 0, sizeof v);
  v.type = type;
  if (set == 0) return v;
  switch (type) {
    case KILN_I32: v.of.i32 = (int32_t)(k + 1); break;
    case KILN_I64: v.of.i64 = -(int64_t)(k + 1); break;
    case KILN_F32: v.of.f32 = 1.5f * (float)(k + 1); break;
    case KILN_F64: v.of.f64 = -0.5 * (double)(k + 1); break;
    case KILN_V128:
      for (int i = 0; i < 16; i++) v.of.v128[i] = (uint8_t)(i * 17 + k);
      break;
    case KILN_EXTERNREF: v.of.externref = (void *)(uintptr_t)(0x1000 + 16 * k); break;
    default: break; /* funcref: null */
  }
  return v;
}

static bool diff_make_import(diff_side *s, uint32_t index, const kiln_externtype *t, kiln_extern *out) {
  kiln_error err;
  memset(&err, 0, sizeof err);
  out->kind = t->kind;
  switch (t->kind) {
    case KILN_EXTERN_FUNC: {
      diff_host *h = calloc(1, sizeof *h);
      if (!h) return false;
      h->log = &s->log;
      h->import_index = index;
      h->param_count = t->func.param_count;
      h->result_count = t->func.result_count;
      out->of.func = kiln_func_new(s->store, &t->func, diff_host_call, h, free);
      if (!out->of.func) free(h);
      return out->of.func != NULL;
    }
    case KILN_EXTERN_TABLE:
      out->of.table = kiln_table_new(s->store, t->elem_type, t->limits, diff_value(t->elem_type, 0, 0), &err);
      return out->of.table != NULL;
    case KILN_EXTERN_MEMORY:
      out->of.memory = kiln_memory_new(s->store, t->limits, &err);
      return out->of.memory != NULL;
    case KILN_EXTERN_GLOBAL:
      out->of.global = kiln_global_new(s->store, t->global_type, t->global_mutable, diff_value(t->global_type, 1, index));
      return out->of.global != NULL;
  }
  return false;
}

static void diff_side_free(diff_side *s) {
  if (s->store) kiln_store_free(s->store);
  if (s->module) kiln_module_free(s->module);
  free(s->imports);
  free(s->log.bytes);
  memset(s, 0, sizeof *s);
}

static void diff_say(diff_result *r, diff_verdict v, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void diff_say(diff_result *r, diff_verdict v, const char *format, ...) {
  r->verdict = v;
  va_list ap;
  va_start(ap, format);
  vsnprintf(r->what, sizeof r->what, format, ap);
  va_end(ap);
}

/* The outcome of one call (or instantiation) in one tier. */
typedef struct diff_outcome {
  kiln_status status;
  kiln_trap_kind trap;
  char message[160];
} diff_outcome;

static diff_outcome diff_outcome_of(kiln_status st, const kiln_error *err) {
  diff_outcome o;
  memset(&o, 0, sizeof o);
  o.status = st;
  o.trap = st == KILN_ERR_TRAP ? err->trap : KILN_TRAP_NONE;
  if (st != KILN_OK) snprintf(o.message, sizeof o.message, "%.150s", err->message);
  return o;
}

static const char *diff_outcome_string(const diff_outcome *o, char *buf, size_t size) {
  if (o->status == KILN_OK) snprintf(buf, size, "ok");
  else if (o->status == KILN_ERR_TRAP) snprintf(buf, size, "trap '%s' (%s)", kiln_trap_string(o->trap), o->message);
  else snprintf(buf, size, "%s (%s)", kiln_status_string(o->status), o->message);
  return buf;
}

/* Whether a pair of outcomes lets the runs part legitimately (see the top of the file). */
static bool diff_may_part(const diff_outcome *interp, const diff_outcome *compiled) {
  return (interp->status == KILN_ERR_TRAP &&
          (interp->trap == KILN_TRAP_OUT_OF_FUEL || interp->trap == KILN_TRAP_STACK_EXHAUSTED)) ||
         (compiled->status == KILN_ERR_TRAP && compiled->trap == KILN_TRAP_STACK_EXHAUSTED);
}

/* Compare two outcomes; false (and r filled) on a mismatch or an inconclusive end. */
static bool diff_compare_outcomes(diff_result *r, const char *where, const diff_outcome *a, const diff_outcome *b) {
  char sa[256], sb[256];
  if (diff_may_part(a, b)) {
    diff_say(r, DIFF_INCONCLUSIVE, "%s: interp %s, compiled %s", where, diff_outcome_string(a, sa, sizeof sa),
             diff_outcome_string(b, sb, sizeof sb));
    return false;
  }
  if (a->status != b->status || a->trap != b->trap) {
    diff_say(r, DIFF_MISMATCH, "%s: interp %s, compiled %s", where, diff_outcome_string(a, sa, sizeof sa),
             diff_outcome_string(b, sb, sizeof sb));
    return false;
  }
  return true;
}

/* Compare the logs of host calls made since offset `from`. */
static bool diff_compare_logs(diff_result *r, const char *where, const diff_side *a, const diff_side *b, size_t from_a,
                              size_t from_b) {
  size_t na = a->log.len - from_a, nb = b->log.len - from_b;
  if (na == nb && na == 0) return true;
  static const uint8_t none[1];
  const uint8_t *pa = na ? a->log.bytes + from_a : none, *pb = nb ? b->log.bytes + from_b : none;
  if (na == nb && memcmp(pa, pb, na) == 0) return true;
  size_t i = 0;
  while (i < na && i < nb && pa[i] == pb[i]) i++;
  size_t show = 48;
  char ha[160] = "", hb[160] = "";
  for (size_t k = i & ~(size_t)3; k < na && k < (i & ~(size_t)3) + show; k++)
    snprintf(ha + strlen(ha), sizeof ha - strlen(ha), "%02x", pa[k]);
  for (size_t k = i & ~(size_t)3; k < nb && k < (i & ~(size_t)3) + show; k++)
    snprintf(hb + strlen(hb), sizeof hb - strlen(hb), "%02x", pb[k]);
  diff_say(r, DIFF_MISMATCH,
           "%s: host-call logs differ (interp %zu bytes, %llu calls in all; compiled %zu bytes, %llu calls) at byte "
           "%zu: interp ...%s, compiled ...%s (record: c0ffee00 tag, import index, then per argument its type byte "
           "and bits)",
           where, na, (unsigned long long)a->log.calls, nb, (unsigned long long)b->log.calls, i, ha, hb);
  return false;
}

static bool diff_compare_vals(diff_result *r, const char *where, const char *what, uint32_t i, kiln_val a, kiln_val b) {
  uint8_t ba[17], bb[17];
  size_t na = diff_val_bytes(a, ba), nb = diff_val_bytes(b, bb);
  bool same = na == nb && memcmp(ba, bb, na) == 0;
  if (same && a.type == KILN_FUNCREF && a.of.funcref && b.of.funcref) {
    kiln_functype ta = kiln_func_type(a.of.funcref), tb = kiln_func_type(b.of.funcref);
    same = ta.param_count == tb.param_count && ta.result_count == tb.result_count &&
           (ta.param_count == 0 || memcmp(ta.params, tb.params, ta.param_count * sizeof *ta.params) == 0) &&
           (ta.result_count == 0 || memcmp(ta.results, tb.results, ta.result_count * sizeof *ta.results) == 0);
  }
  if (same) return true;
  if (diff_nan_equal(a, b)) {
    r->nans++;
    return true;
  }
  /* v128: the lanes of float arithmetic have the same NaN freedom, so two 4- or 8-byte
   * windows that are quiet NaNs count as equal, as in memory (unless diff_strict_nan) */
  uint32_t lanes = 0;
  if (a.type == KILN_V128 && b.type == KILN_V128 && !diff_strict_nan &&
      diff_first_difference(a.of.v128, b.of.v128, 0, 16, &lanes) == 16) {
    r->nans += lanes;
    return true;
  }
  char sa[128], sb[128];
  diff_val_format(a, sa, sizeof sa);
  diff_val_format(b, sb, sizeof sb);
  diff_say(r, DIFF_MISMATCH, "%s: %s %u differs: interp %s, compiled %s", where, what, i, sa, sb);
  return false;
}

static bool diff_compare_memory(diff_result *r, const char *where, const char *name, kiln_memory *a, kiln_memory *b) {
  uint64_t sa = kiln_memory_size(a), sb = kiln_memory_size(b);
  if (sa != sb) {
    diff_say(r, DIFF_MISMATCH, "%s: memory %s size differs: interp %llu bytes, compiled %llu bytes", where, name,
             (unsigned long long)sa, (unsigned long long)sb);
    return false;
  }
  const uint8_t *da = kiln_memory_data(a), *db = kiln_memory_data(b);
  if (sa == 0 || memcmp(da, db, sa) == 0) return true;
  uint64_t i = diff_first_difference(da, db, 0, sa, &r->nans);
  if (i == sa) return true;
  uint64_t end = i + 16 < sa ? i + 16 : sa;
  char ha[64] = "", hb[64] = "";
  for (uint64_t k = i; k < end; k++) {
    snprintf(ha + strlen(ha), sizeof ha - strlen(ha), "%02x", da[k]);
    snprintf(hb + strlen(hb), sizeof hb - strlen(hb), "%02x", db[k]);
  }
  diff_say(r, DIFF_MISMATCH, "%s: memory %s differs from address 0x%llx: interp %s, compiled %s", where, name,
           (unsigned long long)i, ha, hb);
  return false;
}

static bool diff_compare_table(diff_result *r, const char *where, const char *name, kiln_table *a, kiln_table *b) {
  uint32_t sa = kiln_table_size(a), sb = kiln_table_size(b);
  if (sa != sb) {
    diff_say(r, DIFF_MISMATCH, "%s: table %s size differs: interp %u, compiled %u", where, name, sa, sb);
    return false;
  }
  char what[160];
  for (uint32_t i = 0; i < sa; i++) {
    kiln_val va, vb;
    if (kiln_table_get(a, i, &va) != KILN_OK || kiln_table_get(b, i, &vb) != KILN_OK) continue;
    snprintf(what, sizeof what, "table %s element", name);
    if (!diff_compare_vals(r, where, what, i, va, vb)) return false;
  }
  return true;
}

static bool diff_compare_extern(diff_result *r, const char *where, const char *name, kiln_extern a, kiln_extern b) {
  char what[160];
  switch (a.kind) {
    case KILN_EXTERN_GLOBAL:
      snprintf(what, sizeof what, "global %s", name);
      return diff_compare_vals(r, where, what, 0, kiln_global_get(a.of.global), kiln_global_get(b.of.global));
    case KILN_EXTERN_MEMORY: return diff_compare_memory(r, where, name, a.of.memory, b.of.memory);
    case KILN_EXTERN_TABLE: return diff_compare_table(r, where, name, a.of.table, b.of.table);
    case KILN_EXTERN_FUNC: return true;
  }
  return true;
}

/* Compare every exported global, memory and table, and the imported ones. */
static bool diff_compare_state(diff_result *r, const char *where, diff_side *a, diff_side *b) {
  char name[200];
  if (a->instance && b->instance) {
    uint32_t n = kiln_instance_export_count(a->instance);
    for (uint32_t i = 0; i < n; i++) {
      const char *na, *nb;
      kiln_extern xa, xb;
      if (kiln_instance_export_at(a->instance, i, &na, &xa) != KILN_OK ||
          kiln_instance_export_at(b->instance, i, &nb, &xb) != KILN_OK)
        continue;
      snprintf(name, sizeof name, "export \"%.120s\"", na);
      if (!diff_compare_extern(r, where, name, xa, xb)) return false;
    }
  }
  for (uint32_t i = 0; i < a->import_count; i++) {
    snprintf(name, sizeof name, "import \"%.60s\".\"%.60s\"", a->imports[i].module, a->imports[i].name);
    if (!diff_compare_extern(r, where, name, a->imports[i].value, b->imports[i].value)) return false;
  }
  return true;
}

/* Make the module in s's store, and its imports. Returns module_new's status; *imports_ok tells
 * whether every import could be made. */
static kiln_status diff_side_prepare(diff_side *s, kiln_engine *engine, const char *tier, const uint8_t *bytes,
                                     size_t size, bool *imports_ok, kiln_error *err) {
  s->tier = tier;
  *imports_ok = false;
  kiln_status st = kiln_module_new(engine, bytes, size, &s->module, err);
  if (st != KILN_OK) return st;
  s->store = kiln_store_new(engine);
  if (!s->store) return KILN_ERR_NOMEM;
  s->import_count = kiln_module_import_count(s->module);
  s->imports = calloc(s->import_count + 1, sizeof *s->imports);
  if (!s->imports) return KILN_ERR_NOMEM;
  for (uint32_t i = 0; i < s->import_count; i++) {
    kiln_externtype t;
    if (kiln_module_import(s->module, i, &s->imports[i].module, &s->imports[i].name, &t) != KILN_OK ||
        !diff_make_import(s, i, &t, &s->imports[i].value))
      return KILN_OK;
  }
  *imports_ok = true;
  return KILN_OK;
}

/* Call export `index` (a function) with argument set `set` in s. */
static diff_outcome diff_call(diff_side *s, uint32_t index, int set, kiln_val *results, uint32_t *result_count) {
  const char *name;
  kiln_extern x;
  kiln_error err;
  memset(&err, 0, sizeof err);
  *result_count = 0;
  if (kiln_instance_export_at(s->instance, index, &name, &x) != KILN_OK) return diff_outcome_of(KILN_ERR_NOT_FOUND, &err);
  kiln_functype ft = kiln_func_type(x.of.func);
  kiln_val args[64];
  if (ft.param_count > 64 || ft.result_count > 64) {
    snprintf(err.message, sizeof err.message, "more than 64 params or results: not called");
    return diff_outcome_of(KILN_ERR_LIMIT, &err);
  }
  for (uint32_t k = 0; k < ft.param_count; k++) args[k] = diff_value(ft.params[k], set, k);
  for (uint32_t k = 0; k < ft.result_count; k++) memset(&results[k], 0, sizeof results[k]);
  kiln_store_set_fuel(s->store, DIFF_FUEL);
  s->log.budget_left = DIFF_HOST_CALL_BUDGET;
  kiln_status st = kiln_func_call(s->store, x.of.func, args, ft.param_count, results, ft.result_count, &err);
  *result_count = ft.result_count;
  return diff_outcome_of(st, &err);
}

/* Run the comparison on both sides once their modules and imports are made. */
static void diff_run_sides(diff_result *r, diff_side *a, diff_side *b) {
  kiln_error ea, eb;
  memset(&ea, 0, sizeof ea);
  memset(&eb, 0, sizeof eb);
  kiln_store_set_fuel(a->store, DIFF_FUEL);
  kiln_store_set_fuel(b->store, DIFF_FUEL);
  a->log.budget_left = b->log.budget_left = DIFF_HOST_CALL_BUDGET;
  diff_outcome oa = diff_outcome_of(kiln_instantiate(a->store, a->module, a->imports, a->import_count, &a->instance, &ea), &ea);
  diff_outcome ob = diff_outcome_of(kiln_instantiate(b->store, b->module, b->imports, b->import_count, &b->instance, &eb), &eb);
  if (!diff_compare_outcomes(r, "instantiation", &oa, &ob)) return;
  if (!diff_compare_logs(r, "instantiation", a, b, 0, 0)) return;
  if (!diff_compare_state(r, "after instantiation", a, b)) return;
  if (oa.status != KILN_OK) {
    diff_say(r, DIFF_SAME, "instantiation failed alike: %s", oa.message);
    return;
  }
  uint32_t n = kiln_instance_export_count(a->instance);
  uint32_t hang_reset = UINT32_MAX;
  for (uint32_t i = 0; i < n; i++) {
    const char *name;
    kiln_extern x;
    if (kiln_instance_export_at(a->instance, i, &name, &x) == KILN_OK && x.kind == KILN_EXTERN_FUNC &&
        strcmp(name, "hangLimitInitializer") == 0)
      hang_reset = i;
  }
  for (int set = 0; set < 2; set++) {
    for (uint32_t i = 0; i < n; i++) {
      const char *name;
      kiln_extern x;
      if (kiln_instance_export_at(a->instance, i, &name, &x) != KILN_OK || x.kind != KILN_EXTERN_FUNC) continue;
      if (r->calls >= DIFF_MAX_EXPORT_CALLS) return;
      char where[256];
      snprintf(where, sizeof where, "call %u: export \"%.120s\" (%s arguments)", r->calls, name,
               set == 0 ? "zero" : "non-zero");
      size_t la = a->log.len, lb = b->log.len;
      kiln_val ra[64], rb[64];
      uint32_t na, nb;
      if (hang_reset != UINT32_MAX && i != hang_reset) {
        /* wasm-opt -ttf modules: reset the budget their loops and recursions count down */
        oa = diff_call(a, hang_reset, 0, ra, &na);
        ob = diff_call(b, hang_reset, 0, rb, &nb);
        if (!diff_compare_outcomes(r, "export \"hangLimitInitializer\"", &oa, &ob)) return;
      }
      oa = diff_call(a, i, set, ra, &na);
      ob = diff_call(b, i, set, rb, &nb);
      r->calls++;
      if (!diff_compare_outcomes(r, where, &oa, &ob)) return;
      if (!diff_compare_logs(r, where, a, b, la, lb)) return;
      if (oa.status == KILN_OK)
        for (uint32_t k = 0; k < na && k < nb; k++)
          if (!diff_compare_vals(r, where, "result", k, ra[k], rb[k])) return;
      char after[300];
      snprintf(after, sizeof after, "after %s", where);
      if (!diff_compare_state(r, after, a, b)) return;
    }
  }
}

/* The whole differential run of one module. */
static void diff_module(diff_engines *e, const uint8_t *bytes, size_t size, diff_result *r) {
  memset(r, 0, sizeof *r);
  diff_side a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  kiln_error ea, eb;
  memset(&ea, 0, sizeof ea);
  memset(&eb, 0, sizeof eb);
  bool ia, ib;
  kiln_status sa = diff_side_prepare(&a, e->interp, "interp", bytes, size, &ia, &ea);
  kiln_status sb = diff_side_prepare(&b, e->compiled, "compiled", bytes, size, &ib, &eb);
  if (sa != sb) {
    diff_say(r, DIFF_MISMATCH, "module: interp %s (%s), compiled %s (%s)", kiln_status_string(sa), ea.message,
             kiln_status_string(sb), eb.message);
  } else if (sa != KILN_OK) {
    diff_say(r, DIFF_SKIPPED, "module: %s (%s)", kiln_status_string(sa), ea.message);
  } else if (ia != ib) {
    diff_say(r, DIFF_MISMATCH, "imports: made in the %s tier only", ia ? "interp" : "compiled");
  } else if (!ia) {
    diff_say(r, DIFF_SKIPPED, "imports cannot be made");
  } else {
    r->verdict = DIFF_SAME;
    diff_run_sides(r, &a, &b);
  }
  diff_side_free(&a);
  diff_side_free(&b);
}

static inline const char *diff_verdict_string(diff_verdict v) {
  switch (v) {
    case DIFF_SAME: return "same";
    case DIFF_SKIPPED: return "skipped";
    case DIFF_INCONCLUSIVE: return "inconclusive";
    case DIFF_MISMATCH: return "MISMATCH";
  }
  return "?";
}

#endif
