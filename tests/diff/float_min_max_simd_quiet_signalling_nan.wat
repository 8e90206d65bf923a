;; f32.min with a signalling NaN and -0 (ops.c returns a + b for a NaN operand, and LLVM folded
;; x + -0 to x), f32x4.mul by 1s, f64x2.add of -0s, demote_zero of promote_low: each kept
;; a signalling NaN signalling. Operands of these rows now pass through an empty inline asm.
(module
  (func (export "min") (param i32) (result i32)
    (i32.reinterpret_f32 (f32.min (f32.reinterpret_i32 (i32.or (local.get 0) (i32.const 0x7fa00000))) (f32.const -0))))
  (func (export "max64") (param i32) (result i64)
    (i64.reinterpret_f64 (f64.max (f64.const -0) (f64.reinterpret_i64 (i64.or (i64.extend_i32_u (local.get 0)) (i64.const 0x7ff4000000000000))))))
  (func (export "mul") (param i32) (result v128)
    (f32x4.mul (f32x4.splat (f32.reinterpret_i32 (i32.or (local.get 0) (i32.const 0x7fa00000)))) (v128.const f32x4 1 1 1 1)))
  (func (export "add") (param i32) (result v128)
    (f64x2.add (f64x2.splat (f64.reinterpret_i64 (i64.or (i64.extend_i32_u (local.get 0)) (i64.const 0x7ff4000000000000)))) (v128.const f64x2 -0 -0)))
  (func (export "sub") (param i32) (result i32)
    (i32.reinterpret_f32 (f32.sub (f32.reinterpret_i32 (i32.or (local.get 0) (i32.const 0x7fa00000))) (f32.const 0))))
  (func (export "fdemote") (param i32) (result v128)
    (f32x4.demote_f64x2_zero (f64x2.promote_low_f32x4 (f32x4.splat (f32.reinterpret_i32 (i32.or (local.get 0) (i32.const 0x7fa00000)))))))
)
