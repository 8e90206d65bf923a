/* emit_table.c - tables and references in LLVM IR: table.get/set/size inline, the bulk table
 * instructions through the helpers that the interpreter shares (exec/bulk.c). */
#include "llvm/llvm_internal.h"

#include "instr/iop.h"

static LLVMValueRef table_ptr(lfunc *f, uint32_t x) {
  LLVMValueRef tables = lf_load_field(f, f->lm->ptr, f->vm, VM_TABLES, "tables");
  return lf_load_field(f, f->lm->ptr, tables, 8 * (uint64_t)x, "table");
}

/* &table->elems[i] after the bounds check. */
static LLVMValueRef elem_ptr(lfunc *f, uint32_t x, LLVMValueRef i) {
  lmod *lm = f->lm;
  LLVMValueRef t = table_ptr(f, x);
  LLVMValueRef size = lf_load_field(f, lm->i32, t, VM_TABLE_SIZE, "size");
  lf_trap_if(f, LLVMBuildICmp(f->b, LLVMIntUGE, i, size, ""), KILN_TRAP_TABLE_OUT_OF_BOUNDS);
  LLVMValueRef elems = lf_load_field(f, lm->ptr, t, VM_TABLE_ELEMS, "elems");
  LLVMValueRef idx = LLVMBuildZExt(f->b, i, lm->i64, "");
  return LLVMBuildGEP2(f->b, lm->ptr, elems, &idx, 1, "");
}

bool emit_table(lfunc *f, const func_instr *in) {
  lmod *lm = f->lm;
  LLVMValueRef a, b, c;
  LLVMValueRef x = lf_const_i32(f, in->index), y = lf_const_i32(f, in->index2);
  switch (in->iop) {
    case IOP_table_get: {
      LLVMValueRef l = LLVMBuildLoad2(f->b, lm->ptr, elem_ptr(f, in->index, lf_pop(f).v), "ref");
      LLVMSetMetadata(l, lm->tbaa_kind, lm->tbaa_vm);
      return lf_push(f, l, in->type);
    }
    case IOP_table_set: {
      b = lf_pop(f).v;
      LLVMValueRef s = LLVMBuildStore(f->b, b, elem_ptr(f, in->index, lf_pop(f).v));
      LLVMSetMetadata(s, lm->tbaa_kind, lm->tbaa_vm);
      return true;
    }
    case IOP_table_size:
      return lf_push(f, lf_load_field(f, lm->i32, table_ptr(f, in->index), VM_TABLE_SIZE, "size"), VT_I32);
    case IOP_table_grow:
      b = lf_pop(f).v, a = lf_pop(f).v;
      return lf_push(f, lf_call_vm_helper(f, offsetof(vm_helpers, table_grow), true, (LLVMValueRef[]){x, a, b}, 3), VT_I32);
    case IOP_table_fill:
      c = lf_pop(f).v, b = lf_pop(f).v, a = lf_pop(f).v;
      lf_call_vm_helper(f, offsetof(vm_helpers, table_fill), false, (LLVMValueRef[]){x, a, b, c}, 4);
      return true;
    case IOP_table_copy:
      c = lf_pop(f).v, b = lf_pop(f).v, a = lf_pop(f).v;
      lf_call_vm_helper(f, offsetof(vm_helpers, table_copy), false, (LLVMValueRef[]){x, y, a, b, c}, 5);
      return true;
    case IOP_table_init: /* index: the segment, index2: the table */
      c = lf_pop(f).v, b = lf_pop(f).v, a = lf_pop(f).v;
      lf_call_vm_helper(f, offsetof(vm_helpers, table_init), false, (LLVMValueRef[]){y, x, a, b, c}, 5);
      return true;
    case IOP_elem_drop:
      lf_call_vm_helper(f, offsetof(vm_helpers, elem_drop), false, &x, 1);
      return true;
    case IOP_ref_null:
      return lf_push(f, LLVMConstNull(lm->ptr), in->type);
    case IOP_ref_is_null:
      a = lf_pop(f).v;
      return lf_push(f, LLVMBuildZExt(f->b, LLVMBuildIsNull(f->b, a, ""), lm->i32, ""), VT_I32);
    case IOP_ref_func: {
      LLVMValueRef funcs = lf_load_field(f, lm->ptr, f->vm, VM_FUNCS, "funcs");
      return lf_push(f, lf_load_field(f, lm->ptr, funcs, 8 * (uint64_t)in->index, "func"), VT_FUNCREF);
    }
  }
  return lf_fail(f, KILN_ERR_INVALID, "internal: %s is not a table instruction", op_infos[in->iop].text);
}
