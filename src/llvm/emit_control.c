/* emit_control.c - blocks, loops, ifs, branches, returns and calls in LLVM IR. The values a
 * label carries live in allocas of its frame (stored before each branch, loaded where the
 * label is placed); LLVM's mem2reg turns them into phis. */
#include "llvm/llvm_internal.h"

#include <stdlib.h>
#include <string.h>

#include "instr/iop.h"

static uint32_t label_arity(const lctrl *c) { return c->kind == CTRL_LOOP ? c->nparams : c->nresults; }
static const uint8_t *label_types(const lctrl *c) { return c->kind == CTRL_LOOP ? c->params : c->results; }

static lctrl *top(lfunc *f) { return &f->ctrls[f->csp - 1]; }

static void set_unreachable(lfunc *f) {
  lctrl *c = top(f);
  f->sp = c->height;
  c->unreachable = true;
}

static LLVMValueRef *make_vars(lfunc *f, uint32_t n, const uint8_t *types) {
  LLVMValueRef *vars = calloc(n ? n : 1, sizeof *vars);
  if (!vars) return NULL;
  for (uint32_t i = 0; i < n; i++) vars[i] = lf_alloca(f, lm_valtype(f->lm, types[i]), "label");
  return vars;
}

static lctrl *push_ctrl(lfunc *f, uint8_t kind, const func_instr *in, bool dead) {
  if (f->csp == f->ctrl_cap) {
    uint32_t cap = f->ctrl_cap ? f->ctrl_cap * 2 : 16;
    lctrl *c = realloc(f->ctrls, cap * sizeof *c);
    if (!c) {
      lf_fail(f, KILN_ERR_NOMEM, "out of memory");
      return NULL;
    }
    memset(c + f->ctrl_cap, 0, (cap - f->ctrl_cap) * sizeof *c);
    f->ctrls = c;
    f->ctrl_cap = cap;
  }
  lctrl *c = &f->ctrls[f->csp++];
  free(c->vars);
  free(c->if_params);
  free(c->result_vars);
  memset(c, 0, sizeof *c);
  c->kind = kind;
  c->dead = dead;
  c->nparams = in->nparams;
  c->params = in->params;
  c->nresults = in->nresults;
  c->results = in->results;
  c->height = f->sp - (dead ? 0 : in->nparams);
  return c;
}

/* Store the top n values into vars (a label's). */
static void store_values(lfunc *f, LLVMValueRef *vars, uint32_t n) {
  for (uint32_t k = 0; k < n; k++) LLVMBuildStore(f->b, f->stack[f->sp - n + k].v, vars[k]);
}

static bool push_loaded(lfunc *f, LLVMValueRef *vars, uint32_t n, const uint8_t *types) {
  for (uint32_t k = 0; k < n; k++) {
    LLVMValueRef v = LLVMBuildLoad2(f->b, lm_valtype(f->lm, types[k]), vars[k], "");
    if (!lf_push(f, v, types[k])) return false;
  }
  return true;
}

static LLVMBasicBlockRef new_block(lfunc *f, const char *name) {
  return LLVMAppendBasicBlockInContext(f->lm->ctx, f->fn, name);
}

static bool emit_block(lfunc *f, const func_instr *in) {
  uint8_t kind = in->iop == IOP_block ? CTRL_BLOCK : in->iop == IOP_loop ? CTRL_LOOP : CTRL_IF;
  bool osr = func_osr_loop(f->v, in); /* numbered as the interpreter numbers them */
  if (!in->reachable) return push_ctrl(f, kind, in, true) != NULL;
  LLVMValueRef cond = NULL;
  if (kind == CTRL_IF) cond = lf_pop(f).v;
  lctrl *c = push_ctrl(f, kind, in, false);
  if (!c) return false;
  if (kind == CTRL_LOOP) {
    c->vars = make_vars(f, in->nparams, in->params);
    if (!c->vars) return lf_fail(f, KILN_ERR_NOMEM, "out of memory");
    store_values(f, c->vars, in->nparams);
    c->end_bb = new_block(f, "loop");
    LLVMBuildBr(f->b, c->end_bb);
    LLVMPositionBuilderAtEnd(f->b, c->end_bb);
    if (osr && f->osr_slots && f->osr_seen == f->osr_loop) f->osr_header = c->end_bb;
    if (osr) f->osr_seen++;
    lf_poll(f, false);
    f->sp = c->height;
    return push_loaded(f, c->vars, in->nparams, in->params);
  }
  c->vars = make_vars(f, in->nresults, in->results);
  if (!c->vars) return lf_fail(f, KILN_ERR_NOMEM, "out of memory");
  c->end_bb = new_block(f, kind == CTRL_IF ? "if_end" : "block_end");
  if (kind == CTRL_IF) {
    c->if_params = calloc(in->nparams ? in->nparams : 1, sizeof(LLVMValueRef));
    if (!c->if_params) return lf_fail(f, KILN_ERR_NOMEM, "out of memory");
    for (uint32_t k = 0; k < in->nparams; k++) c->if_params[k] = f->stack[c->height + k].v;
    LLVMBasicBlockRef then_bb = new_block(f, "then");
    c->else_bb = new_block(f, "else");
    LLVMBuildCondBr(f->b, LLVMBuildICmp(f->b, LLVMIntNE, cond, lf_const_i32(f, 0), ""), then_bb, c->else_bb);
    LLVMPositionBuilderAtEnd(f->b, then_bb);
  }
  return true;
}

static bool emit_else(lfunc *f, const func_instr *in) {
  lctrl *c = top(f);
  c->kind = CTRL_ELSE;
  if (c->dead) return true;
  if (in->reachable) {
    store_values(f, c->vars, c->nresults);
    LLVMBuildBr(f->b, c->end_bb);
  }
  LLVMPositionBuilderAtEnd(f->b, c->else_bb);
  c->else_bb = NULL;
  c->unreachable = false;
  f->sp = c->height;
  for (uint32_t k = 0; k < c->nparams; k++)
    if (!lf_push(f, c->if_params[k], c->params[k])) return false;
  return true;
}

static bool emit_end(lfunc *f, const func_instr *in) {
  lctrl *c = top(f);
  if (c->dead) {
    f->csp--;
    return true;
  }
  if (c->kind == CTRL_LOOP) {
    if (!in->reachable) {
      /* nothing falls out of the loop: what follows is unreachable but still emitted */
      LLVMPositionBuilderAtEnd(f->b, new_block(f, "after_loop"));
      f->sp = c->height;
      for (uint32_t k = 0; k < c->nresults; k++)
        if (!lf_push(f, LLVMGetPoison(lm_valtype(f->lm, c->results[k])), c->results[k])) return false;
    }
    f->csp--;
    return true;
  }
  if (in->reachable) {
    store_values(f, c->vars, c->nresults);
    LLVMBuildBr(f->b, c->end_bb);
  }
  if (c->kind == CTRL_IF) { /* no else: the params are the results */
    LLVMPositionBuilderAtEnd(f->b, c->else_bb);
    for (uint32_t k = 0; k < c->nparams; k++) LLVMBuildStore(f->b, c->if_params[k], c->vars[k]);
    LLVMBuildBr(f->b, c->end_bb);
  }
  LLVMPositionBuilderAtEnd(f->b, c->end_bb);
  f->sp = c->height;
  if (c->kind == CTRL_FUNC) {
    const functype *t = f->type;
    if (f->osr_slots) { /* o<N>: the results into the slots, as e<N> leaves them */
      for (uint32_t k = 0, slot = 0; k < t->result_count; k++) {
        LLVMValueRef v = LLVMBuildLoad2(f->b, lm_valtype(f->lm, c->results[k]), c->vars[k], "");
        LLVMValueRef off = LLVMConstInt(f->lm->i64, 8 * (uint64_t)slot, false);
        LLVMSetAlignment(LLVMBuildStore(f->b, v, LLVMBuildGEP2(f->b, f->lm->i8, f->osr_slots, &off, 1, "")), 8);
        slot += valtype_slots(c->results[k]);
      }
      LLVMBuildRetVoid(f->b);
    } else if (t->result_count == 0) {
      LLVMBuildRetVoid(f->b);
    } else if (t->result_count == 1) {
      LLVMBuildRet(f->b, LLVMBuildLoad2(f->b, lm_valtype(f->lm, c->results[0]), c->vars[0], ""));
    } else {
      LLVMValueRef agg = LLVMGetUndef(LLVMGetReturnType(LLVMGlobalGetValueType(f->fn)));
      for (uint32_t k = 0; k < t->result_count; k++) {
        LLVMValueRef v = LLVMBuildLoad2(f->b, lm_valtype(f->lm, c->results[k]), c->vars[k], "");
        agg = LLVMBuildInsertValue(f->b, agg, lm_result_pack(f->lm, f->b, v, c->results[k]), k, "");
      }
      LLVMBuildRet(f->b, agg);
    }
    f->csp--;
    return true;
  }
  if (!push_loaded(f, c->vars, c->nresults, c->results)) return false;
  f->csp--;
  return true;
}

/* The block a branch to depth goes to, after storing the values it carries. */
static LLVMBasicBlockRef branch_target(lfunc *f, uint32_t depth) {
  lctrl *t = &f->ctrls[f->csp - 1 - depth];
  store_values(f, t->vars, label_arity(t));
  (void)label_types;
  return t->end_bb;
}

static bool emit_br_table(lfunc *f, const func_instr *in) {
  LLVMValueRef idx = lf_pop(f).v;
  uint32_t n = in->target_count;
  /* store the values once per distinct target */
  for (uint32_t i = 0; i <= n; i++) {
    bool seen = false;
    for (uint32_t j = 0; j < i && !seen; j++) seen = in->targets[j] == in->targets[i];
    if (!seen) branch_target(f, in->targets[i]);
  }
  LLVMBasicBlockRef dflt = f->ctrls[f->csp - 1 - in->targets[n]].end_bb;
  LLVMValueRef sw = LLVMBuildSwitch(f->b, idx, dflt, n);
  for (uint32_t i = 0; i < n; i++)
    LLVMAddCase(sw, lf_const_i32(f, i), f->ctrls[f->csp - 1 - in->targets[i]].end_bb);
  set_unreachable(f);
  return true;
}

/* ---------------------------------------------------------------- calls */

/* Pop the params of t; args[0] is left for the callee's instance. */
static LLVMValueRef *pop_args(lfunc *f, const functype *t) {
  LLVMValueRef *args = malloc((t->param_count + 1) * sizeof *args);
  if (!args) {
    lf_fail(f, KILN_ERR_NOMEM, "out of memory");
    return NULL;
  }
  for (uint32_t k = t->param_count; k-- > 0;) args[k + 1] = lf_pop(f).v;
  return args;
}

static bool push_results(lfunc *f, const functype *t, LLVMValueRef r) {
  for (uint32_t k = 0; k < t->result_count; k++) {
    uint8_t ty = t->types[t->param_count + k];
    LLVMValueRef v = t->result_count == 1 ? r : lm_result_unpack(f->lm, f->b, LLVMBuildExtractValue(f->b, r, k, ""), ty);
    if (!lf_push(f, v, ty)) return false;
  }
  return true;
}

/* Call kiln_func *callee of type t (an import, or a table's entry): its native entry when it
 * has one, else through the call_slow helper with the values in slots. */
static bool call_func_value(lfunc *f, LLVMValueRef callee, uint32_t type_index, LLVMValueRef *args) {
  lmod *lm = f->lm;
  const functype *t = &lm->m->types[type_index];
  LLVMTypeRef ft = lm->func_types[type_index];
  LLVMValueRef native = lf_load_field(f, lm->ptr, callee, VM_FUNC_NATIVE, "native");
  LLVMBasicBlockRef fast = new_block(f, "call_native"), slow = new_block(f, "call_slow"), join = new_block(f, "called");
  LLVMBuildCondBr(f->b, LLVMBuildIsNull(f->b, native, ""), slow, fast);

  LLVMPositionBuilderAtEnd(f->b, fast);
  args[0] = lf_load_field(f, lm->ptr, callee, VM_FUNC_INSTANCE, "callee_vm");
  LLVMValueRef rf = LLVMBuildCall2(f->b, ft, native, args, t->param_count + 1, "");
  LLVMSetTailCallKind(rf, LLVMTailCallKindNoTail);
  LLVMBuildBr(f->b, join);
  LLVMBasicBlockRef fast_end = LLVMGetInsertBlock(f->b);

  LLVMPositionBuilderAtEnd(f->b, slow);
  uint32_t nslots = functype_call_slots(t);
  LLVMValueRef slots = lf_alloca(f, LLVMArrayType(lm->i64, nslots ? nslots : 1), "slots");
  uint32_t slot = 0;
  for (uint32_t k = 0; k < t->param_count; k++) {
    LLVMValueRef p = lf_gep(f, slots, lf_const_i64(f, 8 * slot));
    LLVMSetAlignment(LLVMBuildStore(f->b, args[k + 1], p), 8);
    slot += valtype_slots(t->types[k]);
  }
  LLVMTypeRef hp[3] = {lm->ptr, lm->ptr, lm->ptr};
  LLVMValueRef hargs[3] = {f->vm, callee, slots};
  lf_call_helper(f, offsetof(vm_helpers, call_slow), LLVMFunctionType(lm->void_t, hp, 3, false), hargs, 3);
  LLVMValueRef rs = NULL;
  if (t->result_count) {
    LLVMTypeRef rt = LLVMGetReturnType(ft);
    rs = LLVMGetUndef(rt);
    slot = 0;
    for (uint32_t k = 0; k < t->result_count; k++) {
      uint8_t ty = t->types[t->param_count + k];
      LLVMValueRef p = lf_gep(f, slots, lf_const_i64(f, 8 * slot));
      LLVMValueRef v = LLVMBuildLoad2(f->b, lm_valtype(lm, ty), p, "");
      LLVMSetAlignment(v, 8);
      rs = t->result_count == 1 ? v : LLVMBuildInsertValue(f->b, rs, lm_result_pack(lm, f->b, v, ty), k, "");
      slot += valtype_slots(ty);
    }
  }
  LLVMBuildBr(f->b, join);
  LLVMBasicBlockRef slow_end = LLVMGetInsertBlock(f->b);

  LLVMPositionBuilderAtEnd(f->b, join);
  LLVMValueRef r = NULL;
  if (t->result_count) {
    r = LLVMBuildPhi(f->b, LLVMGetReturnType(ft), "");
    LLVMValueRef vals[2] = {rf, rs};
    LLVMBasicBlockRef bbs[2] = {fast_end, slow_end};
    LLVMAddIncoming(r, vals, bbs, 2);
  }
  return push_results(f, t, r);
}

static bool emit_call(lfunc *f, uint32_t x) {
  lmod *lm = f->lm;
  uint32_t type_index = lm->m->func_types[x];
  const functype *t = &lm->m->types[type_index];
  LLVMValueRef *args = pop_args(f, t);
  if (!args) return false;
  bool ok;
  if (x >= lm->m->imported_func_count && lm->funcs[x - lm->m->imported_func_count]) {
    args[0] = f->vm;
    LLVMValueRef callee = lm->funcs[x - lm->m->imported_func_count];
    LLVMValueRef r = LLVMBuildCall2(f->b, lm->func_types[type_index], callee, args, t->param_count + 1, "");
    /* never a loop: recursion must exhaust the stack as it does in the interpreter */
    LLVMSetTailCallKind(r, LLVMTailCallKindNoTail);
    ok = push_results(f, t, r);
  } else {
    LLVMValueRef funcs = lf_load_field(f, lm->ptr, f->vm, VM_FUNCS, "funcs");
    LLVMValueRef callee = lf_load_field(f, lm->ptr, funcs, 8 * (uint64_t)x, "callee");
    ok = call_func_value(f, callee, type_index, args);
  }
  free(args);
  return ok;
}

static bool emit_call_indirect(lfunc *f, uint32_t table, uint32_t type_index) {
  lmod *lm = f->lm;
  LLVMValueRef idx = lf_pop(f).v;
  LLVMValueRef *args = pop_args(f, &lm->m->types[type_index]);
  if (!args) return false;
  LLVMValueRef tables = lf_load_field(f, lm->ptr, f->vm, VM_TABLES, "tables");
  LLVMValueRef tab = lf_load_field(f, lm->ptr, tables, 8 * (uint64_t)table, "table");
  LLVMValueRef size = lf_load_field(f, lm->i32, tab, VM_TABLE_SIZE, "size");
  lf_trap_if(f, LLVMBuildICmp(f->b, LLVMIntUGE, idx, size, ""), KILN_TRAP_UNDEFINED_ELEMENT);
  LLVMValueRef elems = lf_load_field(f, lm->ptr, tab, VM_TABLE_ELEMS, "elems");
  LLVMValueRef slot = LLVMBuildGEP2(f->b, lm->ptr, elems, (LLVMValueRef[]){LLVMBuildZExt(f->b, idx, lm->i64, "")}, 1, "");
  LLVMValueRef callee = LLVMBuildLoad2(f->b, lm->ptr, slot, "callee");
  LLVMSetMetadata(callee, lm->tbaa_kind, lm->tbaa_vm);
  lf_trap_if(f, LLVMBuildIsNull(f->b, callee, ""), KILN_TRAP_UNINITIALIZED_ELEMENT);
  LLVMValueRef type_ids = lf_load_field(f, lm->ptr, f->vm, VM_TYPE_IDS, "type_ids");
  LLVMValueRef want = lf_load_field(f, lm->i32, type_ids, 4 * (uint64_t)type_index, "want");
  LLVMValueRef have = lf_load_field(f, lm->i32, callee, VM_FUNC_TYPE_ID, "have");
  lf_trap_if(f, LLVMBuildICmp(f->b, LLVMIntNE, have, want, ""), KILN_TRAP_INDIRECT_CALL_TYPE);
  bool ok = call_func_value(f, callee, type_index, args);
  free(args);
  return ok;
}

bool emit_control(lfunc *f, const func_instr *in) {
  switch (in->iop) {
    case IOP_block:
    case IOP_loop:
    case IOP_if_:
      return emit_block(f, in);
    case IOP_else_:
      return emit_else(f, in);
    case IOP_end:
      return emit_end(f, in);
    case IOP_nop:
      return true;
    case IOP_unreachable:
      lf_trap(f, KILN_TRAP_UNREACHABLE);
      set_unreachable(f);
      return true;
    case IOP_br:
      LLVMBuildBr(f->b, branch_target(f, in->index));
      set_unreachable(f);
      return true;
    case IOP_br_if: {
      LLVMValueRef cond = lf_pop(f).v;
      LLVMBasicBlockRef target = branch_target(f, in->index);
      LLVMBasicBlockRef cont = new_block(f, "br_if_not");
      LLVMBuildCondBr(f->b, LLVMBuildICmp(f->b, LLVMIntNE, cond, lf_const_i32(f, 0), ""), target, cont);
      LLVMPositionBuilderAtEnd(f->b, cont);
      return true;
    }
    case IOP_br_table:
      return emit_br_table(f, in);
    case IOP_return_:
      LLVMBuildBr(f->b, branch_target(f, f->csp - 1));
      set_unreachable(f);
      return true;
    case IOP_call:
      return emit_call(f, in->index);
    case IOP_call_indirect:
      return emit_call_indirect(f, in->index, in->index2);
  }
  return lf_fail(f, KILN_ERR_INVALID, "internal: %s is not a control instruction", op_infos[in->iop].text);
}
