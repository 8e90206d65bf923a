;; A function with results (i32 f32 f64 v128 f32 v128) and an early return. Its struct return
;; put the second f32 in x87 st(0) on x86-64, whose load quieted the signalling NaN
;; 0xffad043a into 0xffed043a: found by fuzz_diff (wasm-opt -ttf). Float members of
;; multi-value returns now travel as integers.
(module
  (func (export "early_return") (param i32) (result i32 f32 f64 v128 f32 v128)
    (if (local.get 0)
      (then (return (i32.const 1) (f32.const 1) (f64.const 2) (v128.const i32x4 0 0 0 0)
                    (f32.const 0) (v128.const i32x4 0 0 0 0))))
    (i32.const 1) (f32.const 1) (f64.const 2) (v128.const i32x4 0 0 0 0)
    (f32.const -nan:0x2d043a) (v128.const i32x4 0 0 0 0))
  (func (export "f64s") (result f64 f64 f64 f64)
    (f64.const -nan:0x4000000000001) (f64.const nan:0x1) (f64.const -nan:0x2) (f64.const nan:0x3))
  (func (export "f32s") (result f32 f32 f32 f32 f32)
    (f32.const nan:0x1) (f32.const -nan:0x2) (f32.const nan:0x3) (f32.const -nan:0x4) (f32.const nan:0x5))
  ;; the results pass through a call and a block
  (func (export "through_call") (result f32 f32 f32 f64)
    (block (result f32 f32 f32 f64) (call 2) (drop) (drop) (f64.const -nan:0x5)))
)
