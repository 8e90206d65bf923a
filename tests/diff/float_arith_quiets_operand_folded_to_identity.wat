;; f32.mul by a local holding 1.0 (and sub by a select of zeros, demote of promote): LLVM folded
;; x * 1.0 to x after constant propagation, so a signalling NaN came back unquieted.
(module
  (func (export "mul") (result i32)
    (local f32)
    (local.set 0 (f32.const 1))
    (i32.reinterpret_f32 (f32.mul (f32.reinterpret_i32 (i32.const 0x7fa00000)) (local.get 0))))
  (func (export "sub") (param i32) (result i32)
    (i32.reinterpret_f32 (f32.sub (f32.reinterpret_i32 (i32.or (local.get 0) (i32.const 0x7fa00000))) (select (f32.const 0) (f32.const 0) (local.get 0)))))
  (func (export "promote") (param i32) (result i32)
    (i32.reinterpret_f32 (f32.demote_f64 (f64.promote_f32 (f32.reinterpret_i32 (i32.or (local.get 0) (i32.const 0x7fa00000)))))))
)
