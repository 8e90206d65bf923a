;; Lanes of f32x4/f64x2 arithmetic with two quiet NaN operands: the spec lets the result be
;; either payload (or the canonical NaN), and the interpreter and LLVM do pick differently
;; (fuzz finds: f32x4.mul of a splat, f64x2.add of constants stored to memory, an f64x2.add
;; deciding an all_true). difftest lets quiet-NaN lanes of v128 results, of v128 host-call
;; arguments and of memory through unless DIFF_STRICT_NAN=1, as it does for f32 and f64.
(module
  (import "fuzzing-support" "log-v128" (func $log (param v128)))
  (memory (export "memory") 1 1)
  (func $mul (export "mul") (result v128)
    (f32x4.mul (f64x2.splat (f64.const -0x1.ffffffff81cacp+33))
               (v128.const i32x4 0x5d000000 0xffffffcb 0xffffb06c 0x46981400)))
  (func (export "add") (param i32) (result v128)
    (f64x2.add (v128.const i64x2 0 0x7fff7fff7fff7fff)
               (i64x2.splat (i64.or (i64.extend_i32_u (local.get 0)) (i64.const -4286)))))
  (func (export "store")
    (v128.store offset=4 (i32.const 15)
      (f64x2.add (v128.const i32x4 0x0000005d 0xfffffff0 0xffffffe5 0xfffffff0)
                 (v128.const i32x4 0xffb72e03 0xffffffff 0x0000005e 0x00000000))))
  (func (export "log") (call $log (call $mul)))
)
