/* emit_memory.c - loads, stores, memory.size/grow, bulk memory and globals in LLVM IR. A
 * memory access computes its host address (with a bounds check unless the memory is guarded)
 * and becomes LLVM loads and stores (vector loads that extend, splat, zero-fill or set one
 * lane included). */
#include "llvm/llvm_internal.h"

#include "instr/iop.h"
#include "native/signals.h"

#include <stdlib.h>
#include <string.h>

static LLVMValueRef invariant(lfunc *f, LLVMValueRef load) {
  LLVMSetMetadata(load, LLVMGetMDKindIDInContext(f->lm->ctx, "invariant.load", 14),
                  LLVMMetadataAsValue(f->lm->ctx, LLVMMDNodeInContext2(f->lm->ctx, NULL, 0)));
  return load;
}

/* memory 0's kiln_memory (fixed for the instance's life). */
static LLVMValueRef memory0(lfunc *f) {
  return invariant(f, lf_load_field(f, f->lm->ptr, f->vm, VM_MEMORY, "memory"));
}

static LLVMValueRef memory_size(lfunc *f) {
  return lf_load_field(f, f->lm->i64, memory0(f), VM_MEMORY_SIZE, "mem_size");
}

/* The host address of an access of `bytes` bytes at addr + offset, after its bounds check. */
static LLVMValueRef effective_address(lfunc *f, LLVMValueRef addr, uint64_t offset, uint32_t bytes) {
  lmod *lm = f->lm;
  LLVMValueRef ea = LLVMBuildZExt(f->b, addr, lm->i64, "");
  if (offset) ea = LLVMBuildAdd(f->b, ea, lf_const_i64(f, offset), "ea");
  /* a guarded memory (signals.h) faults beyond its size up to 4 GiB plus the guard */
  if (f->lm->opts->bounds_checks || offset + bytes > SIGNALS_GUARD_BYTES) {
    LLVMValueRef end = LLVMBuildAdd(f->b, ea, lf_const_i64(f, bytes), "");
    lf_trap_if(f, LLVMBuildICmp(f->b, LLVMIntUGT, end, memory_size(f), ""), KILN_TRAP_MEMORY_OUT_OF_BOUNDS);
  }
  return lf_gep(f, f->mem_base, ea);
}

/* Whether a load or store row is a plain access of `bytes` bytes of its value (extended or
 * wrapped for the narrow integer rows): everything but the SIMD loads that splat, extend or
 * zero-fill. */
static bool plain_access(const op_info *o) {
  uint8_t t = o->kind == K_LOAD ? o->out : o->in2;
  return t != VT_V128 || o->size == 16;
}

static LLVMValueRef memory_op(lfunc *f, LLVMValueRef op) {
  LLVMSetAlignment(op, 1);
  LLVMSetMetadata(op, f->lm->tbaa_kind, f->lm->tbaa_memory);
  return op;
}

static LLVMValueRef plain_load(lfunc *f, const op_info *o, LLVMValueRef p) {
  LLVMTypeRef out = lm_valtype(f->lm, o->out);
  if (o->out == VT_F32 || o->out == VT_F64 || o->out == VT_V128 || LLVMGetIntTypeWidth(out) == 8 * o->size)
    return memory_op(f, LLVMBuildLoad2(f->b, out, p, ""));
  LLVMValueRef narrow = memory_op(f, LLVMBuildLoad2(f->b, LLVMIntTypeInContext(f->lm->ctx, 8 * o->size), p, ""));
  size_t len = strlen(o->text);
  bool sign = len > 2 && o->text[len - 1] == 's' && o->text[len - 2] == '_';
  return sign ? LLVMBuildSExt(f->b, narrow, out, "") : LLVMBuildZExt(f->b, narrow, out, "");
}

static void plain_store(lfunc *f, const op_info *o, LLVMValueRef p, LLVMValueRef v) {
  LLVMTypeRef t = LLVMTypeOf(v);
  if (LLVMGetTypeKind(t) == LLVMIntegerTypeKind && LLVMGetIntTypeWidth(t) != 8 * o->size)
    v = LLVMBuildTrunc(f->b, v, LLVMIntTypeInContext(f->lm->ctx, 8 * o->size), "");
  memory_op(f, LLVMBuildStore(f->b, v, p));
}

/* <lanes x iBITS> */
static LLVMTypeRef int_vector(lfunc *f, unsigned bits, unsigned lanes) {
  return LLVMVectorType(LLVMIntTypeInContext(f->lm->ctx, bits), lanes);
}

/* The SIMD loads that are not plain, as LLVM instructions: v128.loadMxN_{s,u} (a vector of N
 * M-bit lanes, extended), v128.loadN_splat, v128.loadN_zero. */
static LLVMValueRef simd_load(lfunc *f, const op_info *o, LLVMValueRef p) {
  lmod *lm = f->lm;
  unsigned bits = 8 * o->size;
  const char *name = o->text + strlen("v128.load");
  LLVMValueRef v;
  if (strstr(name, "_splat") || strstr(name, "_zero")) {
    LLVMTypeRef lane = LLVMIntTypeInContext(lm->ctx, bits);
    LLVMValueRef x = memory_op(f, LLVMBuildLoad2(f->b, lane, p, ""));
    LLVMTypeRef vt = int_vector(f, bits, 128 / bits);
    LLVMValueRef zero = lf_const_i32(f, 0);
    if (strstr(name, "_zero")) {
      v = LLVMBuildInsertElement(f->b, LLVMConstNull(vt), x, zero, "");
    } else {
      v = LLVMBuildInsertElement(f->b, LLVMGetPoison(vt), x, zero, "");
      v = LLVMBuildShuffleVector(f->b, v, LLVMGetPoison(vt), LLVMConstNull(int_vector(f, 32, 128 / bits)), "splat");
    }
  } else {
    unsigned from = (unsigned)strtoul(name, NULL, 10), lanes = 64 / from;
    LLVMValueRef x = memory_op(f, LLVMBuildLoad2(f->b, int_vector(f, from, lanes), p, ""));
    LLVMTypeRef wide = int_vector(f, 2 * from, lanes);
    v = name[strlen(name) - 1] == 's' ? LLVMBuildSExt(f->b, x, wide, "") : LLVMBuildZExt(f->b, x, wide, "");
  }
  return LLVMBuildBitCast(f->b, v, lm->v128, "");
}

/* v128.loadN_lane and v128.storeN_lane as LLVM instructions. */
static LLVMValueRef simd_lane_access(lfunc *f, const op_info *o, LLVMValueRef p, LLVMValueRef vec, unsigned lane) {
  unsigned bits = 8 * o->size;
  LLVMValueRef lanes = LLVMBuildBitCast(f->b, vec, int_vector(f, bits, 128 / bits), "");
  LLVMValueRef index = lf_const_i32(f, lane);
  if (o->kind == K_STORE_LANE) {
    memory_op(f, LLVMBuildStore(f->b, LLVMBuildExtractElement(f->b, lanes, index, ""), p));
    return NULL;
  }
  LLVMValueRef x = memory_op(f, LLVMBuildLoad2(f->b, LLVMIntTypeInContext(f->lm->ctx, bits), p, ""));
  return LLVMBuildBitCast(f->b, LLVMBuildInsertElement(f->b, lanes, x, index, ""), f->lm->v128, "");
}

static bool emit_access(lfunc *f, const func_instr *in) {
  const op_info *o = &op_infos[in->iop];
  uint32_t bytes = o->size;
  switch (o->kind) {
    case K_LOAD: {
      LLVMValueRef p = effective_address(f, lf_pop(f).v, in->mem_offset, bytes);
      LLVMValueRef r = plain_access(o) ? plain_load(f, o, p) : simd_load(f, o, p);
      if (r) lf_keep_load(f, r);
      return r && lf_push(f, r, o->out);
    }
    case K_STORE: {
      LLVMValueRef v = lf_pop(f).v;
      LLVMValueRef p = effective_address(f, lf_pop(f).v, in->mem_offset, bytes);
      if (plain_access(o)) plain_store(f, o, p, v);
      else return lf_fail(f, KILN_ERR_INVALID, "internal: %s is not a plain store", o->text);
      return f->status == KILN_OK;
    }
    case K_LOAD_LANE: {
      LLVMValueRef v = lf_pop(f).v;
      LLVMValueRef p = effective_address(f, lf_pop(f).v, in->mem_offset, bytes);
      LLVMValueRef r = simd_lane_access(f, o, p, v, in->lane);
      if (r) lf_keep_load(f, r);
      return r && lf_push(f, r, VT_V128);
    }
    case K_STORE_LANE: {
      LLVMValueRef v = lf_pop(f).v;
      LLVMValueRef p = effective_address(f, lf_pop(f).v, in->mem_offset, bytes);
      simd_lane_access(f, o, p, v, in->lane);
      return f->status == KILN_OK;
    }
  }
  return lf_fail(f, KILN_ERR_INVALID, "internal: %s is not a memory access", o->text);
}

static LLVMValueRef global_ptr(lfunc *f, uint32_t x) {
  LLVMValueRef globals = invariant(f, lf_load_field(f, f->lm->ptr, f->vm, VM_GLOBALS, "globals"));
  return invariant(f, lf_load_field(f, f->lm->ptr, globals, 8 * (uint64_t)x, "global"));
}

bool emit_memory(lfunc *f, const func_instr *in) {
  lmod *lm = f->lm;
  LLVMValueRef a[3];
  switch (in->iop) {
    case IOP_global_get: {
      LLVMValueRef l = LLVMBuildLoad2(f->b, lm_valtype(lm, in->type), global_ptr(f, in->index), "g");
      LLVMSetAlignment(l, 8);
      LLVMSetMetadata(l, lm->tbaa_kind, lm->tbaa_global);
      return lf_push(f, l, in->type);
    }
    case IOP_global_set: {
      LLVMValueRef s = LLVMBuildStore(f->b, lf_pop(f).v, global_ptr(f, in->index));
      LLVMSetAlignment(s, 8);
      LLVMSetMetadata(s, lm->tbaa_kind, lm->tbaa_global);
      return true;
    }
    case IOP_memory_size: {
      LLVMValueRef pages = LLVMBuildLShr(f->b, memory_size(f), lf_const_i64(f, 16), "");
      return lf_push(f, LLVMBuildTrunc(f->b, pages, lm->i32, ""), VT_I32);
    }
    case IOP_memory_grow:
      a[0] = lf_pop(f).v;
      return lf_push(f, lf_call_vm_helper(f, offsetof(vm_helpers, memory_grow), true, a, 1), VT_I32);
    case IOP_memory_init:
      a[2] = lf_pop(f).v, a[1] = lf_pop(f).v, a[0] = lf_pop(f).v;
      lf_call_vm_helper(f, offsetof(vm_helpers, memory_init), false,
                      (LLVMValueRef[]){lf_const_i32(f, in->index), a[0], a[1], a[2]}, 4);
      return true;
    case IOP_data_drop:
      lf_call_vm_helper(f, offsetof(vm_helpers, data_drop), false, (LLVMValueRef[]){lf_const_i32(f, in->index)}, 1);
      return true;
    case IOP_memory_copy:
    case IOP_memory_fill:
      a[2] = lf_pop(f).v, a[1] = lf_pop(f).v, a[0] = lf_pop(f).v;
      lf_call_vm_helper(f, in->iop == IOP_memory_copy ? offsetof(vm_helpers, memory_copy) : offsetof(vm_helpers, memory_fill),
                      false, a, 3);
      return true;
  }
  return emit_access(f, in);
}
