/* test_api.c - tests of the public embedding API (kiln.h): engine and config, module errors
 * and introspection, host functions, linking, values of every type, memories, tables and
 * globals from the host, traps and backtraces, recursion limits, re-entrancy, interruption,
 * fuel, memory limits and one module shared by stores on two threads.
 *
 * Uses kiln.h only. The modules are embedded as byte arrays, each made from the .wat source
 * in the comment above it (wat2wasm 1.0.32). Prints one line per group of checks and one
 * per failed check, ends with "N passed, N failed" and exits non-zero if any check failed. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "kiln.h"

#include "check.h"
#include "tier.h"

/* ---------------------------------------------------------------- modules */

/* wat2wasm --debug-names api.wat:
 * (module
 *   (type $unop (func (param i32) (result i32)))
 *   (import "host" "add" (func $host_add (param i32 i32) (result i32)))
 *   (import "host" "sum_mem" (func $host_sum_mem (param i32 i32) (result i32)))
 *   (import "host" "fail" (func $host_fail (param i32)))
 *   (import "host" "exit" (func $host_exit (param i32)))
 *   (import "host" "reenter" (func $host_reenter (param i32) (result i32)))
 *   (import "host" "f32_id" (func $host_f32_id (param f32) (result f32)))
 *   (import "host" "started" (func $host_started))
 *   (memory (export "mem") 1 4)
 *   (table $tab (export "tab") 4 8 funcref)
 *   (global $counter (export "counter") (mut i64) (i64.const 7))
 *   (global $answer (export "answer") i32 (i32.const 42))
 *   (elem (table $tab) (i32.const 0) func $double $square)
 *
 *   (func $double (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
 *   (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
 *
 *   ;; host functions
 *   (func $call_add (export "call_add") (param i32 i32) (result i32)
 *     (call $host_add (local.get 0) (local.get 1)))
 *   (func $store_and_sum (export "store_and_sum") (param $n i32) (result i32) (local $i i32)
 *     (block $done
 *       (loop $next
 *         (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
 *         (i32.store8 offset=100 (local.get $i) (i32.add (local.get $i) (i32.const 1)))
 *         (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *         (br $next)))
 *     (call $host_sum_mem (i32.const 100) (local.get $n)))
 *   (func $call_fail (export "call_fail") (param i32) (call $host_fail (local.get 0)))
 *   (func $call_exit (export "call_exit") (param i32) (call $host_exit (local.get 0)) unreachable)
 *   (func $fact (export "fact") (param $n i32) (result i32)
 *     (if (result i32) (i32.le_s (local.get $n) (i32.const 1))
 *       (then (i32.const 1))
 *       (else (i32.mul (local.get $n) (call $host_reenter (i32.sub (local.get $n) (i32.const 1)))))))
 *   (func $f32_roundtrip (export "f32_roundtrip") (param f32) (result f32) (call $host_f32_id (local.get 0)))
 *
 *   ;; every value type
 *   (func $id_i32 (export "id_i32") (param i32) (result i32) (local.get 0))
 *   (func $id_i64 (export "id_i64") (param i64) (result i64) (local.get 0))
 *   (func $id_f32 (export "id_f32") (param f32) (result f32) (local.get 0))
 *   (func $id_f64 (export "id_f64") (param f64) (result f64) (local.get 0))
 *   (func $id_v128 (export "id_v128") (param v128) (result v128) (local.get 0))
 *   (func $id_funcref (export "id_funcref") (param funcref) (result funcref) (local.get 0))
 *   (func $id_externref (export "id_externref") (param externref) (result externref) (local.get 0))
 *   (func $i64_mix (export "i64_mix") (param i64 i64) (result i64)
 *     (i64.xor (i64.mul (local.get 0) (i64.const 3)) (i64.shr_u (local.get 1) (i64.const 1))))
 *   (func $f32_neg (export "f32_neg") (param f32) (result f32) (f32.neg (local.get 0)))
 *   (func $f32_mul (export "f32_mul") (param f32 f32) (result f32) (f32.mul (local.get 0) (local.get 1)))
 *   (func $f64_div (export "f64_div") (param f64 f64) (result f64) (f64.div (local.get 0) (local.get 1)))
 *   (func $f64_copysign (export "f64_copysign") (param f64 f64) (result f64) (f64.copysign (local.get 0) (local.get 1)))
 *   (func $v128_add (export "v128_add") (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
 *   (func $swap (export "swap") (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
 *   (func $is_null_func (export "is_null_func") (param funcref) (result i32) (ref.is_null (local.get 0)))
 *   (func $is_null_extern (export "is_null_extern") (param externref) (result i32) (ref.is_null (local.get 0)))
 *   (func $double_ref (export "double_ref") (result funcref) (ref.func $double))
 *   (func $call_via_table (export "call_via_table") (param funcref i32) (result i32)
 *     (table.set $tab (i32.const 3) (local.get 0))
 *     (call_indirect $tab (type $unop) (local.get 1) (i32.const 3)))
 *
 *   ;; memory, table, globals
 *   (func $load_i32 (export "load_i32") (param i32) (result i32) (i32.load (local.get 0)))
 *   (func $store_i32 (export "store_i32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
 *   (func $pages (export "pages") (result i32) (memory.size))
 *   (func $grow (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
 *   (func $call_indirect (export "call_indirect") (param i32 i32) (result i32)
 *     (call_indirect $tab (type $unop) (local.get 1) (local.get 0)))
 *   (func $table_size (export "table_size") (result i32) (table.size $tab))
 *   (func $get_counter (export "get_counter") (result i64) (global.get $counter))
 *   (func $bump_counter (export "bump_counter") (global.set $counter (i64.add (global.get $counter) (i64.const 1))))
 *
 *   ;; traps
 *   (func $divide (export "divide") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
 *   (func $middle (param i32 i32) (result i32) (i32.add (i32.const 1) (call $divide (local.get 0) (local.get 1))))
 *   (func $outer (export "outer") (param i32 i32) (result i32) (i32.add (i32.const 1) (call $middle (local.get 0) (local.get 1))))
 *   (func $crash (export "crash") unreachable)
 *   (func $recurse (export "recurse") (param i32) (result i32)
 *     (i32.add (i32.const 1) (call $recurse (i32.add (local.get 0) (i32.const 1)))))
 *   (func $depth (export "depth") (param i32) (result i32)
 *     (if (result i32) (i32.eqz (local.get 0))
 *       (then (i32.const 0))
 *       (else (i32.add (i32.const 1) (call $depth (i32.sub (local.get 0) (i32.const 1)))))))
 *   (func $spin (export "spin") (loop $forever (br $forever)))
 *   (func $spin_started (export "spin_started") (call $host_started) (loop $forever (br $forever)))
 *   (func $count_loop (export "count_loop") (param $n i32) (result i32) (local $i i32)
 *     (loop $next
 *       (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *       (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
 *     (local.get $i))
 *
 *   ;; work for the threads: number of primes below n (sieve in memory from address 1024)
 *   (func $primes (export "primes") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $count i32)
 *     (memory.fill (i32.const 1024) (i32.const 0) (local.get $n))
 *     (local.set $i (i32.const 2))
 *     (block $done
 *       (loop $outer
 *         (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
 *         (if (i32.eqz (i32.load8_u offset=1024 (local.get $i)))
 *           (then
 *             (local.set $count (i32.add (local.get $count) (i32.const 1)))
 *             (local.set $j (i32.mul (local.get $i) (local.get $i)))
 *             (block $marked
 *               (loop $mark
 *                 (br_if $marked (i32.ge_u (local.get $j) (local.get $n)))
 *                 (i32.store8 offset=1024 (local.get $j) (i32.const 1))
 *                 (local.set $j (i32.add (local.get $j) (local.get $i)))
 *                 (br $mark)))))
 *         (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *         (br $outer)))
 *     (local.get $count))
 * )
 */
static const uint8_t api_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x71, 0x16, 0x60, 0x01, 0x7f, 0x01, 0x7f,
  0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x01, 0x7d, 0x01, 0x7d, 0x60,
  0x00, 0x00, 0x60, 0x01, 0x7e, 0x01, 0x7e, 0x60, 0x01, 0x7c, 0x01, 0x7c, 0x60, 0x01, 0x7b, 0x01,
  0x7b, 0x60, 0x01, 0x70, 0x01, 0x70, 0x60, 0x01, 0x6f, 0x01, 0x6f, 0x60, 0x02, 0x7e, 0x7e, 0x01,
  0x7e, 0x60, 0x02, 0x7d, 0x7d, 0x01, 0x7d, 0x60, 0x02, 0x7c, 0x7c, 0x01, 0x7c, 0x60, 0x02, 0x7b,
  0x7b, 0x01, 0x7b, 0x60, 0x02, 0x7f, 0x7e, 0x02, 0x7e, 0x7f, 0x60, 0x01, 0x70, 0x01, 0x7f, 0x60,
  0x01, 0x6f, 0x01, 0x7f, 0x60, 0x00, 0x01, 0x70, 0x60, 0x02, 0x70, 0x7f, 0x01, 0x7f, 0x60, 0x02,
  0x7f, 0x7f, 0x00, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x00, 0x01, 0x7e, 0x02, 0x5f, 0x07, 0x04, 0x68,
  0x6f, 0x73, 0x74, 0x03, 0x61, 0x64, 0x64, 0x00, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x07, 0x73,
  0x75, 0x6d, 0x5f, 0x6d, 0x65, 0x6d, 0x00, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x04, 0x66, 0x61,
  0x69, 0x6c, 0x00, 0x02, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x04, 0x65, 0x78, 0x69, 0x74, 0x00, 0x02,
  0x04, 0x68, 0x6f, 0x73, 0x74, 0x07, 0x72, 0x65, 0x65, 0x6e, 0x74, 0x65, 0x72, 0x00, 0x00, 0x04,
  0x68, 0x6f, 0x73, 0x74, 0x06, 0x66, 0x33, 0x32, 0x5f, 0x69, 0x64, 0x00, 0x03, 0x04, 0x68, 0x6f,
  0x73, 0x74, 0x07, 0x73, 0x74, 0x61, 0x72, 0x74, 0x65, 0x64, 0x00, 0x04, 0x03, 0x2d, 0x2c, 0x00,
  0x00, 0x01, 0x00, 0x02, 0x02, 0x00, 0x03, 0x00, 0x05, 0x03, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x03,
  0x0b, 0x0c, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x00, 0x13, 0x14, 0x00, 0x01, 0x14, 0x15,
  0x04, 0x01, 0x01, 0x01, 0x04, 0x00, 0x00, 0x04, 0x04, 0x00, 0x00, 0x04, 0x05, 0x01, 0x70, 0x01,
  0x04, 0x08, 0x05, 0x04, 0x01, 0x01, 0x01, 0x04, 0x06, 0x0b, 0x02, 0x7e, 0x01, 0x42, 0x07, 0x0b,
  0x7f, 0x00, 0x41, 0x2a, 0x0b, 0x07, 0xfb, 0x03, 0x2e, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x03,
  0x74, 0x61, 0x62, 0x01, 0x00, 0x07, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 0x03, 0x00, 0x06,
  0x61, 0x6e, 0x73, 0x77, 0x65, 0x72, 0x03, 0x01, 0x06, 0x64, 0x6f, 0x75, 0x62, 0x6c, 0x65, 0x00,
  0x07, 0x08, 0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x61, 0x64, 0x64, 0x00, 0x09, 0x0d, 0x73, 0x74, 0x6f,
  0x72, 0x65, 0x5f, 0x61, 0x6e, 0x64, 0x5f, 0x73, 0x75, 0x6d, 0x00, 0x0a, 0x09, 0x63, 0x61, 0x6c,
  0x6c, 0x5f, 0x66, 0x61, 0x69, 0x6c, 0x00, 0x0b, 0x09, 0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x65, 0x78,
  0x69, 0x74, 0x00, 0x0c, 0x04, 0x66, 0x61, 0x63, 0x74, 0x00, 0x0d, 0x0d, 0x66, 0x33, 0x32, 0x5f,
  0x72, 0x6f, 0x75, 0x6e, 0x64, 0x74, 0x72, 0x69, 0x70, 0x00, 0x0e, 0x06, 0x69, 0x64, 0x5f, 0x69,
  0x33, 0x32, 0x00, 0x0f, 0x06, 0x69, 0x64, 0x5f, 0x69, 0x36, 0x34, 0x00, 0x10, 0x06, 0x69, 0x64,
  0x5f, 0x66, 0x33, 0x32, 0x00, 0x11, 0x06, 0x69, 0x64, 0x5f, 0x66, 0x36, 0x34, 0x00, 0x12, 0x07,
  0x69, 0x64, 0x5f, 0x76, 0x31, 0x32, 0x38, 0x00, 0x13, 0x0a, 0x69, 0x64, 0x5f, 0x66, 0x75, 0x6e,
  0x63, 0x72, 0x65, 0x66, 0x00, 0x14, 0x0c, 0x69, 0x64, 0x5f, 0x65, 0x78, 0x74, 0x65, 0x72, 0x6e,
  0x72, 0x65, 0x66, 0x00, 0x15, 0x07, 0x69, 0x36, 0x34, 0x5f, 0x6d, 0x69, 0x78, 0x00, 0x16, 0x07,
  0x66, 0x33, 0x32, 0x5f, 0x6e, 0x65, 0x67, 0x00, 0x17, 0x07, 0x66, 0x33, 0x32, 0x5f, 0x6d, 0x75,
  0x6c, 0x00, 0x18, 0x07, 0x66, 0x36, 0x34, 0x5f, 0x64, 0x69, 0x76, 0x00, 0x19, 0x0c, 0x66, 0x36,
  0x34, 0x5f, 0x63, 0x6f, 0x70, 0x79, 0x73, 0x69, 0x67, 0x6e, 0x00, 0x1a, 0x08, 0x76, 0x31, 0x32,
  0x38, 0x5f, 0x61, 0x64, 0x64, 0x00, 0x1b, 0x04, 0x73, 0x77, 0x61, 0x70, 0x00, 0x1c, 0x0c, 0x69,
  0x73, 0x5f, 0x6e, 0x75, 0x6c, 0x6c, 0x5f, 0x66, 0x75, 0x6e, 0x63, 0x00, 0x1d, 0x0e, 0x69, 0x73,
  0x5f, 0x6e, 0x75, 0x6c, 0x6c, 0x5f, 0x65, 0x78, 0x74, 0x65, 0x72, 0x6e, 0x00, 0x1e, 0x0a, 0x64,
  0x6f, 0x75, 0x62, 0x6c, 0x65, 0x5f, 0x72, 0x65, 0x66, 0x00, 0x1f, 0x0e, 0x63, 0x61, 0x6c, 0x6c,
  0x5f, 0x76, 0x69, 0x61, 0x5f, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x00, 0x20, 0x08, 0x6c, 0x6f, 0x61,
  0x64, 0x5f, 0x69, 0x33, 0x32, 0x00, 0x21, 0x09, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x5f, 0x69, 0x33,
  0x32, 0x00, 0x22, 0x05, 0x70, 0x61, 0x67, 0x65, 0x73, 0x00, 0x23, 0x04, 0x67, 0x72, 0x6f, 0x77,
  0x00, 0x24, 0x0d, 0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x69, 0x6e, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74,
  0x00, 0x25, 0x0a, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x5f, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x26, 0x0b,
  0x67, 0x65, 0x74, 0x5f, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 0x00, 0x27, 0x0c, 0x62, 0x75,
  0x6d, 0x70, 0x5f, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 0x00, 0x28, 0x06, 0x64, 0x69, 0x76,
  0x69, 0x64, 0x65, 0x00, 0x29, 0x05, 0x6f, 0x75, 0x74, 0x65, 0x72, 0x00, 0x2b, 0x05, 0x63, 0x72,
  0x61, 0x73, 0x68, 0x00, 0x2c, 0x07, 0x72, 0x65, 0x63, 0x75, 0x72, 0x73, 0x65, 0x00, 0x2d, 0x05,
  0x64, 0x65, 0x70, 0x74, 0x68, 0x00, 0x2e, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x2f, 0x0c, 0x73,
  0x70, 0x69, 0x6e, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x65, 0x64, 0x00, 0x30, 0x0a, 0x63, 0x6f,
  0x75, 0x6e, 0x74, 0x5f, 0x6c, 0x6f, 0x6f, 0x70, 0x00, 0x31, 0x06, 0x70, 0x72, 0x69, 0x6d, 0x65,
  0x73, 0x00, 0x32, 0x09, 0x08, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x02, 0x07, 0x08, 0x0a, 0x84, 0x04,
  0x2c, 0x07, 0x00, 0x20, 0x00, 0x41, 0x02, 0x6c, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20, 0x00, 0x6c,
  0x0b, 0x08, 0x00, 0x20, 0x00, 0x20, 0x01, 0x10, 0x00, 0x0b, 0x2b, 0x01, 0x01, 0x7f, 0x02, 0x40,
  0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01, 0x20, 0x01, 0x20, 0x01, 0x41, 0x01, 0x6a,
  0x3a, 0x00, 0x64, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x0c, 0x00, 0x0b, 0x0b, 0x41, 0xe4,
  0x00, 0x20, 0x00, 0x10, 0x01, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x02, 0x0b, 0x07, 0x00, 0x20,
  0x00, 0x10, 0x03, 0x00, 0x0b, 0x17, 0x00, 0x20, 0x00, 0x41, 0x01, 0x4c, 0x04, 0x7f, 0x41, 0x01,
  0x05, 0x20, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x04, 0x6c, 0x0b, 0x0b, 0x06, 0x00, 0x20,
  0x00, 0x10, 0x05, 0x0b, 0x04, 0x00, 0x20, 0x00, 0x0b, 0x04, 0x00, 0x20, 0x00, 0x0b, 0x04, 0x00,
  0x20, 0x00, 0x0b, 0x04, 0x00, 0x20, 0x00, 0x0b, 0x04, 0x00, 0x20, 0x00, 0x0b, 0x04, 0x00, 0x20,
  0x00, 0x0b, 0x04, 0x00, 0x20, 0x00, 0x0b, 0x0d, 0x00, 0x20, 0x00, 0x42, 0x03, 0x7e, 0x20, 0x01,
  0x42, 0x01, 0x88, 0x85, 0x0b, 0x05, 0x00, 0x20, 0x00, 0x8c, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20,
  0x01, 0x94, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0xa3, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20,
  0x01, 0xa6, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0xfd, 0xae, 0x01, 0x0b, 0x06, 0x00, 0x20,
  0x01, 0x20, 0x00, 0x0b, 0x05, 0x00, 0x20, 0x00, 0xd1, 0x0b, 0x05, 0x00, 0x20, 0x00, 0xd1, 0x0b,
  0x04, 0x00, 0xd2, 0x07, 0x0b, 0x0f, 0x00, 0x41, 0x03, 0x20, 0x00, 0x26, 0x00, 0x20, 0x01, 0x41,
  0x03, 0x11, 0x00, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b, 0x09, 0x00, 0x20,
  0x00, 0x20, 0x01, 0x36, 0x02, 0x00, 0x0b, 0x04, 0x00, 0x3f, 0x00, 0x0b, 0x06, 0x00, 0x20, 0x00,
  0x40, 0x00, 0x0b, 0x09, 0x00, 0x20, 0x01, 0x20, 0x00, 0x11, 0x00, 0x00, 0x0b, 0x05, 0x00, 0xfc,
  0x10, 0x00, 0x0b, 0x04, 0x00, 0x23, 0x00, 0x0b, 0x09, 0x00, 0x23, 0x00, 0x42, 0x01, 0x7c, 0x24,
  0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6d, 0x0b, 0x0b, 0x00, 0x41, 0x01, 0x20, 0x00,
  0x20, 0x01, 0x10, 0x29, 0x6a, 0x0b, 0x0b, 0x00, 0x41, 0x01, 0x20, 0x00, 0x20, 0x01, 0x10, 0x2a,
  0x6a, 0x0b, 0x03, 0x00, 0x00, 0x0b, 0x0c, 0x00, 0x41, 0x01, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x10,
  0x2d, 0x6a, 0x0b, 0x15, 0x00, 0x20, 0x00, 0x45, 0x04, 0x7f, 0x41, 0x00, 0x05, 0x41, 0x01, 0x20,
  0x00, 0x41, 0x01, 0x6b, 0x10, 0x2e, 0x6a, 0x0b, 0x0b, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b,
  0x0b, 0x09, 0x00, 0x10, 0x06, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, 0x17, 0x01, 0x01, 0x7f, 0x03,
  0x40, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x20, 0x01, 0x20, 0x00, 0x49, 0x0d, 0x00, 0x0b,
  0x20, 0x01, 0x0b, 0x60, 0x01, 0x03, 0x7f, 0x41, 0x80, 0x08, 0x41, 0x00, 0x20, 0x00, 0xfc, 0x0b,
  0x00, 0x41, 0x02, 0x21, 0x01, 0x02, 0x40, 0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01,
  0x20, 0x01, 0x2d, 0x00, 0x80, 0x08, 0x45, 0x04, 0x40, 0x20, 0x03, 0x41, 0x01, 0x6a, 0x21, 0x03,
  0x20, 0x01, 0x20, 0x01, 0x6c, 0x21, 0x02, 0x02, 0x40, 0x03, 0x40, 0x20, 0x02, 0x20, 0x00, 0x4f,
  0x0d, 0x01, 0x20, 0x02, 0x41, 0x01, 0x3a, 0x00, 0x80, 0x08, 0x20, 0x02, 0x20, 0x01, 0x6a, 0x21,
  0x02, 0x0c, 0x00, 0x0b, 0x0b, 0x0b, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x0c, 0x00, 0x0b,
  0x0b, 0x20, 0x03, 0x0b, 0x00, 0xcf, 0x05, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x01, 0x99, 0x04, 0x33,
  0x00, 0x08, 0x68, 0x6f, 0x73, 0x74, 0x5f, 0x61, 0x64, 0x64, 0x01, 0x0c, 0x68, 0x6f, 0x73, 0x74,
  0x5f, 0x73, 0x75, 0x6d, 0x5f, 0x6d, 0x65, 0x6d, 0x02, 0x09, 0x68, 0x6f, 0x73, 0x74, 0x5f, 0x66,
  0x61, 0x69, 0x6c, 0x03, 0x09, 0x68, 0x6f, 0x73, 0x74, 0x5f, 0x65, 0x78, 0x69, 0x74, 0x04, 0x0c,
  0x68, 0x6f, 0x73, 0x74, 0x5f, 0x72, 0x65, 0x65, 0x6e, 0x74, 0x65, 0x72, 0x05, 0x0b, 0x68, 0x6f,
  0x73, 0x74, 0x5f, 0x66, 0x33, 0x32, 0x5f, 0x69, 0x64, 0x06, 0x0c, 0x68, 0x6f, 0x73, 0x74, 0x5f,
  0x73, 0x74, 0x61, 0x72, 0x74, 0x65, 0x64, 0x07, 0x06, 0x64, 0x6f, 0x75, 0x62, 0x6c, 0x65, 0x08,
  0x06, 0x73, 0x71, 0x75, 0x61, 0x72, 0x65, 0x09, 0x08, 0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x61, 0x64,
  0x64, 0x0a, 0x0d, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x5f, 0x61, 0x6e, 0x64, 0x5f, 0x73, 0x75, 0x6d,
  0x0b, 0x09, 0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x66, 0x61, 0x69, 0x6c, 0x0c, 0x09, 0x63, 0x61, 0x6c,
  0x6c, 0x5f, 0x65, 0x78, 0x69, 0x74, 0x0d, 0x04, 0x66, 0x61, 0x63, 0x74, 0x0e, 0x0d, 0x66, 0x33,
  0x32, 0x5f, 0x72, 0x6f, 0x75, 0x6e, 0x64, 0x74, 0x72, 0x69, 0x70, 0x0f, 0x06, 0x69, 0x64, 0x5f,
  0x69, 0x33, 0x32, 0x10, 0x06, 0x69, 0x64, 0x5f, 0x69, 0x36, 0x34, 0x11, 0x06, 0x69, 0x64, 0x5f,
  0x66, 0x33, 0x32, 0x12, 0x06, 0x69, 0x64, 0x5f, 0x66, 0x36, 0x34, 0x13, 0x07, 0x69, 0x64, 0x5f,
  0x76, 0x31, 0x32, 0x38, 0x14, 0x0a, 0x69, 0x64, 0x5f, 0x66, 0x75, 0x6e, 0x63, 0x72, 0x65, 0x66,
  0x15, 0x0c, 0x69, 0x64, 0x5f, 0x65, 0x78, 0x74, 0x65, 0x72, 0x6e, 0x72, 0x65, 0x66, 0x16, 0x07,
  0x69, 0x36, 0x34, 0x5f, 0x6d, 0x69, 0x78, 0x17, 0x07, 0x66, 0x33, 0x32, 0x5f, 0x6e, 0x65, 0x67,
  0x18, 0x07, 0x66, 0x33, 0x32, 0x5f, 0x6d, 0x75, 0x6c, 0x19, 0x07, 0x66, 0x36, 0x34, 0x5f, 0x64,
  0x69, 0x76, 0x1a, 0x0c, 0x66, 0x36, 0x34, 0x5f, 0x63, 0x6f, 0x70, 0x79, 0x73, 0x69, 0x67, 0x6e,
  0x1b, 0x08, 0x76, 0x31, 0x32, 0x38, 0x5f, 0x61, 0x64, 0x64, 0x1c, 0x04, 0x73, 0x77, 0x61, 0x70,
  0x1d, 0x0c, 0x69, 0x73, 0x5f, 0x6e, 0x75, 0x6c, 0x6c, 0x5f, 0x66, 0x75, 0x6e, 0x63, 0x1e, 0x0e,
  0x69, 0x73, 0x5f, 0x6e, 0x75, 0x6c, 0x6c, 0x5f, 0x65, 0x78, 0x74, 0x65, 0x72, 0x6e, 0x1f, 0x0a,
  0x64, 0x6f, 0x75, 0x62, 0x6c, 0x65, 0x5f, 0x72, 0x65, 0x66, 0x20, 0x0e, 0x63, 0x61, 0x6c, 0x6c,
  0x5f, 0x76, 0x69, 0x61, 0x5f, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x21, 0x08, 0x6c, 0x6f, 0x61, 0x64,
  0x5f, 0x69, 0x33, 0x32, 0x22, 0x09, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x5f, 0x69, 0x33, 0x32, 0x23,
  0x05, 0x70, 0x61, 0x67, 0x65, 0x73, 0x24, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x25, 0x0d, 0x63, 0x61,
  0x6c, 0x6c, 0x5f, 0x69, 0x6e, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74, 0x26, 0x0a, 0x74, 0x61, 0x62,
  0x6c, 0x65, 0x5f, 0x73, 0x69, 0x7a, 0x65, 0x27, 0x0b, 0x67, 0x65, 0x74, 0x5f, 0x63, 0x6f, 0x75,
  0x6e, 0x74, 0x65, 0x72, 0x28, 0x0c, 0x62, 0x75, 0x6d, 0x70, 0x5f, 0x63, 0x6f, 0x75, 0x6e, 0x74,
  0x65, 0x72, 0x29, 0x06, 0x64, 0x69, 0x76, 0x69, 0x64, 0x65, 0x2a, 0x06, 0x6d, 0x69, 0x64, 0x64,
  0x6c, 0x65, 0x2b, 0x05, 0x6f, 0x75, 0x74, 0x65, 0x72, 0x2c, 0x05, 0x63, 0x72, 0x61, 0x73, 0x68,
  0x2d, 0x07, 0x72, 0x65, 0x63, 0x75, 0x72, 0x73, 0x65, 0x2e, 0x05, 0x64, 0x65, 0x70, 0x74, 0x68,
  0x2f, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x30, 0x0c, 0x73, 0x70, 0x69, 0x6e, 0x5f, 0x73, 0x74, 0x61,
  0x72, 0x74, 0x65, 0x64, 0x31, 0x0a, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x5f, 0x6c, 0x6f, 0x6f, 0x70,
  0x32, 0x06, 0x70, 0x72, 0x69, 0x6d, 0x65, 0x73, 0x02, 0x86, 0x01, 0x33, 0x00, 0x00, 0x01, 0x00,
  0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x05, 0x00, 0x06, 0x00, 0x07, 0x00, 0x08, 0x00, 0x09, 0x00,
  0x0a, 0x02, 0x00, 0x01, 0x6e, 0x01, 0x01, 0x69, 0x0b, 0x00, 0x0c, 0x00, 0x0d, 0x01, 0x00, 0x01,
  0x6e, 0x0e, 0x00, 0x0f, 0x00, 0x10, 0x00, 0x11, 0x00, 0x12, 0x00, 0x13, 0x00, 0x14, 0x00, 0x15,
  0x00, 0x16, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19, 0x00, 0x1a, 0x00, 0x1b, 0x00, 0x1c, 0x00, 0x1d,
  0x00, 0x1e, 0x00, 0x1f, 0x00, 0x20, 0x00, 0x21, 0x00, 0x22, 0x00, 0x23, 0x00, 0x24, 0x00, 0x25,
  0x00, 0x26, 0x00, 0x27, 0x00, 0x28, 0x00, 0x29, 0x00, 0x2a, 0x00, 0x2b, 0x00, 0x2c, 0x00, 0x2d,
  0x00, 0x2e, 0x00, 0x2f, 0x00, 0x30, 0x00, 0x31, 0x02, 0x00, 0x01, 0x6e, 0x01, 0x01, 0x69, 0x32,
  0x04, 0x00, 0x01, 0x6e, 0x01, 0x01, 0x69, 0x02, 0x01, 0x6a, 0x03, 0x05, 0x63, 0x6f, 0x75, 0x6e,
  0x74, 0x04, 0x07, 0x01, 0x00, 0x04, 0x75, 0x6e, 0x6f, 0x70, 0x05, 0x06, 0x01, 0x00, 0x03, 0x74,
  0x61, 0x62, 0x07, 0x12, 0x02, 0x00, 0x07, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 0x01, 0x06,
  0x61, 0x6e, 0x73, 0x77, 0x65, 0x72,
};

/* wat2wasm imports.wat:
 * (module
 *   (import "env" "f" (func $f (param i32 f64) (result i64)))
 *   (import "env" "t" (table 2 10 externref))
 *   (import "env" "m" (memory 1 2))
 *   (import "env" "g" (global $g (mut f32)))
 *   (func (export "refs") (param v128) (result funcref externref) (ref.null func) (ref.null extern))
 *   (func (export "call_f") (param i32 f64) (result i64) (call $f (local.get 0) (local.get 1)))
 *   (func (export "read_g") (result f32) (global.get $g))
 *   (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0)))
 *   (func (export "tget") (param i32) (result externref) (table.get 0 (local.get 0)))
 *   (export "tx" (table 0))
 *   (export "mx" (memory 0))
 *   (export "gx" (global 0)))
 */
static const uint8_t imports_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x1b, 0x05, 0x60, 0x02, 0x7f, 0x7c, 0x01,
  0x7e, 0x60, 0x01, 0x7b, 0x02, 0x70, 0x6f, 0x60, 0x00, 0x01, 0x7d, 0x60, 0x01, 0x7f, 0x01, 0x7f,
  0x60, 0x01, 0x7f, 0x01, 0x6f, 0x02, 0x27, 0x04, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x66, 0x00, 0x00,
  0x03, 0x65, 0x6e, 0x76, 0x01, 0x74, 0x01, 0x6f, 0x01, 0x02, 0x0a, 0x03, 0x65, 0x6e, 0x76, 0x01,
  0x6d, 0x02, 0x01, 0x01, 0x02, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x67, 0x03, 0x7d, 0x01, 0x03, 0x06,
  0x05, 0x01, 0x00, 0x02, 0x03, 0x04, 0x07, 0x37, 0x08, 0x04, 0x72, 0x65, 0x66, 0x73, 0x00, 0x01,
  0x06, 0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x66, 0x00, 0x02, 0x06, 0x72, 0x65, 0x61, 0x64, 0x5f, 0x67,
  0x00, 0x03, 0x04, 0x62, 0x79, 0x74, 0x65, 0x00, 0x04, 0x04, 0x74, 0x67, 0x65, 0x74, 0x00, 0x05,
  0x02, 0x74, 0x78, 0x01, 0x00, 0x02, 0x6d, 0x78, 0x02, 0x00, 0x02, 0x67, 0x78, 0x03, 0x00, 0x0a,
  0x25, 0x05, 0x06, 0x00, 0xd0, 0x70, 0xd0, 0x6f, 0x0b, 0x08, 0x00, 0x20, 0x00, 0x20, 0x01, 0x10,
  0x00, 0x0b, 0x04, 0x00, 0x23, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b, 0x06,
  0x00, 0x20, 0x00, 0x25, 0x00, 0x0b,
};

/* wat2wasm grow.wat:
 * (module
 *   (memory (export "mem") 1)
 *   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
 */
static const uint8_t grow_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
  0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x0e, 0x02, 0x03, 0x6d, 0x65, 0x6d,
  0x02, 0x00, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00, 0x0a, 0x08, 0x01, 0x06, 0x00, 0x20, 0x00,
  0x40, 0x00, 0x0b,
};

/* wat2wasm big.wat:
 * (module (memory 10))
 */
static const uint8_t big_memory_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x0a,
};

/* wat2wasm --no-check invalid.wat:
 * (module
 *   (func (result i32) (i32.const 1))
 *   (func (result i32) (f64.const 1)))
 */
static const uint8_t invalid_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03,
  0x03, 0x02, 0x00, 0x00, 0x0a, 0x12, 0x02, 0x04, 0x00, 0x41, 0x01, 0x0b, 0x0b, 0x00, 0x44, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, 0x0b,
};

/* A module with a custom section "kiln.test" holding 01 02 03 04, before an empty type
 * section, and a second custom section "z" (empty) at the end. */
static const uint8_t custom_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x00, 0x0e, 0x09, 'k', 'i', 'l', 'n', '.', 't', 'e', 's', 't', 0x01, 0x02, 0x03, 0x04,
  0x01, 0x01, 0x00,
  0x00, 0x02, 0x01, 'z',
};

/* ---------------------------------------------------------------- helpers */

static kiln_module *load(kiln_engine *engine, const uint8_t *bytes, size_t size) {
  kiln_module *m = NULL;
  kiln_error err = {0};
  kiln_status st = kiln_module_new(engine, bytes, size, &m, &err);
  CHECK_STATUS(st, KILN_OK, err);
  return m;
}

static kiln_func *export_func(kiln_instance *inst, const char *name) {
  kiln_extern x;
  if (kiln_instance_export(inst, name, &x) != KILN_OK || x.kind != KILN_EXTERN_FUNC) {
    printf("FAIL: no exported function %s\n", name);
    failed++;
    return NULL;
  }
  return x.of.func;
}

/* Call export `name` of inst; returns the status, err filled. */
static kiln_status call(kiln_store *store, kiln_instance *inst, const char *name, const kiln_val *args,
                        size_t nargs, kiln_val *results, size_t nresults, kiln_error *err) {
  kiln_func *f = export_func(inst, name);
  if (!f) return KILN_ERR_NOT_FOUND;
  return kiln_func_call(store, f, args, nargs, results, nresults, err);
}

/* Call an (i32) -> i32 export; returns the result, or INT32_MIN after a failed check. */
static int32_t call_i32(kiln_store *store, kiln_instance *inst, const char *name, int32_t arg) {
  kiln_val a = kiln_val_i32(arg), r;
  kiln_error err = {0};
  kiln_status st = call(store, inst, name, &a, 1, &r, 1, &err);
  CHECK_STATUS(st, KILN_OK, err);
  return st == KILN_OK ? r.of.i32 : INT32_MIN;
}

static kiln_val val_f32_bits(uint32_t bits) {
  kiln_val v;
  memset(&v, 0, sizeof v);
  v.type = KILN_F32;
  v.of.f32_bits = bits;
  return v;
}

static kiln_val val_f64_bits(uint64_t bits) {
  kiln_val v;
  memset(&v, 0, sizeof v);
  v.type = KILN_F64;
  v.of.f64_bits = bits;
  return v;
}

static kiln_val val_ref(kiln_valtype type, void *p) {
  kiln_val v;
  memset(&v, 0, sizeof v);
  v.type = type;
  if (type == KILN_FUNCREF) v.of.funcref = p;
  else v.of.externref = p;
  return v;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- host functions for api_wasm */

typedef struct host_ctx {
  int add_calls;
  int32_t bias;          /* host_add returns a + b + bias */
  kiln_func *fact;       /* what host_reenter calls back */
  int reenter_calls;
  uint32_t f32_seen;     /* bits host_f32_id received */
  atomic_int started;    /* set by host_started */
  int finalized;         /* finalizer calls */
  bool caller_ok;        /* host_sum_mem saw a store and an instance */
} host_ctx;

static kiln_status host_add(kiln_caller *caller, void *data, const kiln_val *args, kiln_val *results) {
  (void)caller;
  host_ctx *ctx = data;
  ctx->add_calls++;
  results[0].of.i32 = args[0].of.i32 + args[1].of.i32 + ctx->bias;
  return KILN_OK;
}

/* Sum the bytes [args[0], args[0] + args[1]) of the caller's memory. */
static kiln_status host_sum_mem(kiln_caller *caller, void *data, const kiln_val *args, kiln_val *results) {
  host_ctx *ctx = data;
  kiln_memory *mem = kiln_caller_memory(caller);
  ctx->caller_ok = mem && kiln_caller_store(caller) && kiln_caller_instance(caller);
  if (!mem) return kiln_caller_trap(caller, "no memory");
  uint64_t at = (uint32_t)args[0].of.i32, n = (uint32_t)args[1].of.i32;
  if (at + n > kiln_memory_size(mem)) return kiln_caller_trap(caller, "sum_mem: out of range");
  const uint8_t *p = kiln_memory_data(mem) + at;
  int32_t sum = 0;
  for (uint64_t i = 0; i < n; i++) sum += p[i];
  results[0].of.i32 = sum;
  return KILN_OK;
}

/* 0: fail without a message; otherwise trap with one. */
static kiln_status host_fail(kiln_caller *caller, void *data, const kiln_val *args, kiln_val *results) {
  (void)data, (void)results;
  if (args[0].of.i32 == 0) return KILN_ERR_ARGUMENT;
  return kiln_caller_trap(caller, "host says no: %d", args[0].of.i32);
}

static kiln_status host_exit(kiln_caller *caller, void *data, const kiln_val *args, kiln_val *results) {
  (void)data, (void)results;
  return kiln_caller_exit(caller, args[0].of.i32);
}

/* Call back into wasm (ctx->fact) in the caller's store. */
static kiln_status host_reenter(kiln_caller *caller, void *data, const kiln_val *args, kiln_val *results) {
  host_ctx *ctx = data;
  ctx->reenter_calls++;
  kiln_error err = {0};
  kiln_status st = kiln_func_call(kiln_caller_store(caller), ctx->fact, args, 1, results, 1, &err);
  if (st != KILN_OK) return kiln_caller_trap(caller, "%s", err.message);
  return KILN_OK;
}

static kiln_status host_f32_id(kiln_caller *caller, void *data, const kiln_val *args, kiln_val *results) {
  (void)caller;
  host_ctx *ctx = data;
  ctx->f32_seen = args[0].of.f32_bits;
  results[0].of.f32_bits = args[0].of.f32_bits;
  return KILN_OK;
}

static kiln_status host_started(kiln_caller *caller, void *data, const kiln_val *args, kiln_val *results) {
  (void)caller, (void)args, (void)results;
  host_ctx *ctx = data;
  atomic_store(&ctx->started, 1);
  return KILN_OK;
}

static void host_finalize(void *data) { ((host_ctx *)data)->finalized++; }

static const kiln_valtype I32 = KILN_I32, I32x2[] = {KILN_I32, KILN_I32}, F32 = KILN_F32;

/* Create api_wasm's seven host imports in store and instantiate it. */
static kiln_instance *instantiate_api(kiln_store *store, kiln_module *module, host_ctx *ctx) {
  const kiln_functype t_add = {I32x2, 2, &I32, 1}, t_i_v = {&I32, 1, NULL, 0}, t_i_i = {&I32, 1, &I32, 1},
                     t_f_f = {&F32, 1, &F32, 1}, t_v_v = {NULL, 0, NULL, 0};
  struct {
    const char *name;
    const kiln_functype *type;
    kiln_host_callback cb;
  } defs[] = {
      {"add", &t_add, host_add},       {"sum_mem", &t_add, host_sum_mem}, {"fail", &t_i_v, host_fail},
      {"exit", &t_i_v, host_exit},     {"reenter", &t_i_i, host_reenter}, {"f32_id", &t_f_f, host_f32_id},
      {"started", &t_v_v, host_started},
  };
  kiln_import imports[7];
  for (int i = 0; i < 7; i++) {
    kiln_func *f = kiln_func_new(store, defs[i].type, defs[i].cb, ctx, host_finalize);
    CHECK(f != NULL);
    imports[i].module = "host";
    imports[i].name = defs[i].name;
    imports[i].value.kind = KILN_EXTERN_FUNC;
    imports[i].value.of.func = f;
  }
  kiln_instance *inst = NULL;
  kiln_error err = {0};
  kiln_status st = kiln_instantiate(store, module, imports, 7, &inst, &err);
  CHECK_STATUS(st, KILN_OK, err);
  if (inst) ctx->fact = export_func(inst, "fact");
  return inst;
}

/* ---------------------------------------------------------------- engine and config */

static void test_engine_config(void) {
  group("engine and config: defaults, custom values, strings");
  kiln_config c;
  memset(&c, 0xAB, sizeof c);
  kiln_config_init(&c);
  CHECK(c.max_memory_bytes == 65536ull * 65536ull);
  CHECK(c.max_table_elements == 10000000u);
  CHECK(c.max_call_depth == 20000u);
  CHECK(c.value_stack_bytes == 8u << 20);

  kiln_engine *e = test_engine_new(NULL);
  CHECK(e != NULL);
  kiln_engine_free(e);
  c.max_call_depth = 50;
  c.value_stack_bytes = 1 << 16;
  e = test_engine_new(&c);
  CHECK(e != NULL);
  kiln_store *s = kiln_store_new(e);
  CHECK(s != NULL);
  CHECK(kiln_store_fuel(s) == UINT64_MAX);
  kiln_store_free(s);
  kiln_engine_free(e);
  kiln_engine_free(NULL);

  CHECK(strcmp(kiln_status_string(KILN_OK), "ok") == 0);
  CHECK(strcmp(kiln_status_string(KILN_ERR_MALFORMED), "malformed module") == 0);
  CHECK(strcmp(kiln_status_string(KILN_ERR_LINK), "link error") == 0);
  CHECK(strcmp(kiln_trap_string(KILN_TRAP_INTEGER_DIVIDE_BY_ZERO), "integer divide by zero") == 0);
  CHECK(strcmp(kiln_trap_string(KILN_TRAP_STACK_EXHAUSTED), "call stack exhausted") == 0);
  CHECK(strcmp(kiln_valtype_string(KILN_EXTERNREF), "externref") == 0);
  CHECK(strcmp(kiln_valtype_string(KILN_V128), "v128") == 0);
  CHECK(strcmp(KILN_VERSION, "0.1.0") == 0);
}

/* ---------------------------------------------------------------- module errors */

static void expect_module_error(kiln_engine *e, const uint8_t *bytes, size_t size, kiln_status want,
                                const char *part1, const char *part2, int line) {
  kiln_module *m = (kiln_module *)(uintptr_t)1;
  kiln_error err;
  memset(&err, 0xCD, sizeof err);
  kiln_status st = kiln_module_new(e, bytes, size, &m, &err);
  char what[128];
  snprintf(what, sizeof what, "module error %s", kiln_status_string(want));
  bool ok = st == want && err.status == want && m == NULL && err.trap == KILN_TRAP_NONE &&
            memchr(err.message, 0, sizeof err.message) && strstr(err.message, part1) &&
            (!part2 || strstr(err.message, part2));
  if (!check_(ok, what, __FILE__, line))
    printf("     got %s, module %p: %.*s (want \"%s\"%s%s)\n", kiln_status_string(st), (void *)m,
           (int)sizeof err.message, err.message, part1, part2 ? ", " : "", part2 ? part2 : "");
  if (st == KILN_OK) kiln_module_free(m);
}
#define EXPECT_MODULE_ERROR(e, want, p1, p2, ...)                                              \
  expect_module_error((e), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), \
                      (want), (p1), (p2), __LINE__)
#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

static void test_module_errors(void) {
  group("kiln_module_new: malformed and invalid modules, messages name section, function and offset");
  kiln_engine *e = test_engine_new(NULL);
  EXPECT_MODULE_ERROR(e, KILN_ERR_MALFORMED, "magic", "offset 0x0", 0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0);
  EXPECT_MODULE_ERROR(e, KILN_ERR_MALFORMED, "version", "offset 0x4", 0x00, 0x61, 0x73, 0x6d, 2, 0, 0, 0);
  EXPECT_MODULE_ERROR(e, KILN_ERR_MALFORMED, "unexpected end", NULL, 0x00, 0x61, 0x73);
  /* type section of 5 bytes with 4 present */
  EXPECT_MODULE_ERROR(e, KILN_ERR_MALFORMED, "type section", "offset 0x", HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7f);
  /* type section whose content ends early / has bytes left over */
  EXPECT_MODULE_ERROR(e, KILN_ERR_MALFORMED, "type section", "unexpected end", HDR, 0x01, 0x04, 0x01, 0x60, 0x01, 0x7f);
  EXPECT_MODULE_ERROR(e, KILN_ERR_MALFORMED, "type section", "size mismatch", HDR, 0x01, 0x06, 0x01, 0x60, 0x01,
                      0x7f, 0x00, 0x00);
  /* 0xFFFFFFFF types in 5 bytes: refused before allocating anything */
  EXPECT_MODULE_ERROR(e, KILN_ERR_MALFORMED, "type section", "4294967295", HDR, 0x01, 0x05, 0xff, 0xff, 0xff,
                      0xff, 0x0f);
  EXPECT_MODULE_ERROR(e, KILN_ERR_MALFORMED, "section id", NULL, HDR, 0x0e, 0x01, 0x00);
  /* function section declares one function, no code section */
  EXPECT_MODULE_ERROR(e, KILN_ERR_MALFORMED, "inconsistent lengths", NULL, HDR, 0x01, 0x04, 0x01, 0x60, 0x00,
                      0x00, 0x03, 0x02, 0x01, 0x00);
  /* a body without its end opcode */
  EXPECT_MODULE_ERROR(e, KILN_ERR_MALFORMED, "code section, function 0", "offset 0x", HDR, 0x01, 0x04, 0x01, 0x60,
                      0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x05, 0x01, 0x03, 0x00, 0x01, 0x01);
  /* memory minimum above maximum: invalid */
  EXPECT_MODULE_ERROR(e, KILN_ERR_INVALID, "memory 0", "minimum", HDR, 0x05, 0x04, 0x01, 0x01, 0x02, 0x01);
  /* call of an unknown function: invalid, in function 0 */
  EXPECT_MODULE_ERROR(e, KILN_ERR_INVALID, "code section, function 0, offset 0x", "unknown function", HDR, 0x01,
                      0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x10,
                      0x09, 0x0b);
  /* invalid_wasm: function 1 returns an f64 where an i32 is due, found at its end (0x27) */
  expect_module_error(e, invalid_wasm, sizeof invalid_wasm, KILN_ERR_INVALID, "code section, function 1, offset 0x27",
                      "type mismatch", __LINE__);
  /* bad arguments */
  kiln_module *m = NULL;
  kiln_error err = {0};
  CHECK(kiln_module_new(e, NULL, 8, &m, &err) == KILN_ERR_ARGUMENT && m == NULL);
  CHECK(kiln_module_new(NULL, invalid_wasm, sizeof invalid_wasm, &m, &err) == KILN_ERR_ARGUMENT);
  /* a NULL kiln_error is allowed */
  CHECK(kiln_module_new(e, invalid_wasm, 4, &m, NULL) == KILN_ERR_MALFORMED && m == NULL);
  /* the empty module is fine */
  m = load(e, (const uint8_t[]){HDR}, 8);
  CHECK(m && kiln_module_import_count(m) == 0 && kiln_module_export_count(m) == 0);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- introspection */

static bool functype_is(const kiln_functype *t, uint32_t np, const kiln_valtype *p, uint32_t nr,
                        const kiln_valtype *r) {
  if (t->param_count != np || t->result_count != nr) return false;
  for (uint32_t i = 0; i < np; i++) if (t->params[i] != p[i]) return false;
  for (uint32_t i = 0; i < nr; i++) if (t->results[i] != r[i]) return false;
  return true;
}

static void test_introspection(void) {
  group("imports and exports with their types (kiln_module_import, kiln_module_export, kiln_externtype)");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, imports_wasm, sizeof imports_wasm);
  if (!m) return;
  CHECK(kiln_module_import_count(m) == 4);
  const char *mod, *name;
  kiln_externtype t;

  CHECK(kiln_module_import(m, 0, &mod, &name, &t) == KILN_OK);
  CHECK(strcmp(mod, "env") == 0 && strcmp(name, "f") == 0 && t.kind == KILN_EXTERN_FUNC);
  CHECK(functype_is(&t.func, 2, (kiln_valtype[]){KILN_I32, KILN_F64}, 1, (kiln_valtype[]){KILN_I64}));

  CHECK(kiln_module_import(m, 1, &mod, &name, &t) == KILN_OK);
  CHECK(strcmp(name, "t") == 0 && t.kind == KILN_EXTERN_TABLE && t.elem_type == KILN_EXTERNREF);
  CHECK(t.limits.min == 2 && t.limits.has_max && t.limits.max == 10);

  CHECK(kiln_module_import(m, 2, &mod, &name, &t) == KILN_OK);
  CHECK(strcmp(name, "m") == 0 && t.kind == KILN_EXTERN_MEMORY);
  CHECK(t.limits.min == 1 && t.limits.has_max && t.limits.max == 2);

  CHECK(kiln_module_import(m, 3, &mod, &name, &t) == KILN_OK);
  CHECK(strcmp(name, "g") == 0 && t.kind == KILN_EXTERN_GLOBAL && t.global_type == KILN_F32 && t.global_mutable);

  CHECK(kiln_module_import(m, 4, &mod, &name, &t) == KILN_ERR_ARGUMENT);
  CHECK(kiln_module_import(m, 0, NULL, NULL, NULL) == KILN_OK);

  CHECK(kiln_module_export_count(m) == 8);
  static const char *names[] = {"refs", "call_f", "read_g", "byte", "tget", "tx", "mx", "gx"};
  for (uint32_t i = 0; i < 8; i++) {
    CHECK(kiln_module_export(m, i, &name, &t) == KILN_OK);
    CHECK(strcmp(name, names[i]) == 0);
  }
  CHECK(kiln_module_export(m, 0, &name, &t) == KILN_OK && t.kind == KILN_EXTERN_FUNC);
  CHECK(functype_is(&t.func, 1, (kiln_valtype[]){KILN_V128}, 2, (kiln_valtype[]){KILN_FUNCREF, KILN_EXTERNREF}));
  CHECK(kiln_module_export(m, 1, &name, &t) == KILN_OK);
  CHECK(functype_is(&t.func, 2, (kiln_valtype[]){KILN_I32, KILN_F64}, 1, (kiln_valtype[]){KILN_I64}));
  CHECK(kiln_module_export(m, 2, &name, &t) == KILN_OK);
  CHECK(functype_is(&t.func, 0, NULL, 1, (kiln_valtype[]){KILN_F32}));
  /* re-exported imports keep their import types */
  CHECK(kiln_module_export(m, 5, &name, &t) == KILN_OK && t.kind == KILN_EXTERN_TABLE && t.elem_type == KILN_EXTERNREF);
  CHECK(t.limits.min == 2 && t.limits.max == 10);
  CHECK(kiln_module_export(m, 6, &name, &t) == KILN_OK && t.kind == KILN_EXTERN_MEMORY && t.limits.max == 2);
  CHECK(kiln_module_export(m, 7, &name, &t) == KILN_OK && t.kind == KILN_EXTERN_GLOBAL && t.global_type == KILN_F32);
  CHECK(kiln_module_export(m, 8, &name, &t) == KILN_ERR_ARGUMENT);
  kiln_module_free(m);

  /* api_wasm: imports in order, a global export, a table export */
  m = load(e, api_wasm, sizeof api_wasm);
  if (m) {
    CHECK(kiln_module_import_count(m) == 7);
    CHECK(kiln_module_import(m, 4, &mod, &name, &t) == KILN_OK && strcmp(name, "reenter") == 0);
    CHECK(functype_is(&t.func, 1, &I32, 1, &I32));
    bool found_counter = false;
    for (uint32_t i = 0; i < kiln_module_export_count(m); i++) {
      CHECK(kiln_module_export(m, i, &name, &t) == KILN_OK);
      if (strcmp(name, "counter") == 0)
        found_counter = t.kind == KILN_EXTERN_GLOBAL && t.global_type == KILN_I64 && t.global_mutable;
    }
    CHECK(found_counter);
    kiln_module_free(m);
  }
  kiln_engine_free(e);
}

static void test_custom_sections(void) {
  group("custom sections: names, contents, order; the name section");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, custom_wasm, sizeof custom_wasm);
  if (m) {
    CHECK(kiln_module_custom_section_count(m) == 2);
    const char *name;
    const uint8_t *data;
    size_t size;
    CHECK(kiln_module_custom_section(m, 0, &name, &data, &size) == KILN_OK);
    CHECK(strcmp(name, "kiln.test") == 0 && size == 4 && memcmp(data, "\1\2\3\4", 4) == 0);
    CHECK(kiln_module_custom_section(m, 1, &name, &data, &size) == KILN_OK);
    CHECK(strcmp(name, "z") == 0 && size == 0);
    CHECK(kiln_module_custom_section(m, 2, &name, &data, &size) == KILN_ERR_ARGUMENT);
    kiln_module_free(m);
  }
  m = load(e, api_wasm, sizeof api_wasm);
  if (m) {
    const char *name = NULL;
    CHECK(kiln_module_custom_section_count(m) == 1);
    CHECK(kiln_module_custom_section(m, 0, &name, NULL, NULL) == KILN_OK && strcmp(name, "name") == 0);
    kiln_module_free(m);
  }
  /* a custom section cut short is malformed */
  EXPECT_MODULE_ERROR(e, KILN_ERR_MALFORMED, "", NULL, HDR, 0x00, 0x05, 0x09, 'k', 'i', 'l', 'n');
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- host functions and linking */

static void test_host_functions(void) {
  group("host functions: user data, caller memory, traps, exit, failures, finalizers");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, api_wasm, sizeof api_wasm);
  kiln_store *s = kiln_store_new(e);
  host_ctx ctx = {.bias = 1000};
  kiln_instance *inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;

  kiln_val args[2] = {kiln_val_i32(20), kiln_val_i32(22)}, r[2];
  kiln_error err = {0};
  CHECK_STATUS(call(s, inst, "call_add", args, 2, r, 1, &err), KILN_OK, err);
  CHECK(r[0].type == KILN_I32 && r[0].of.i32 == 1042 && ctx.add_calls == 1);
  ctx.bias = -42;
  CHECK(call(s, inst, "call_add", args, 2, r, 1, &err) == KILN_OK && r[0].of.i32 == 0 && ctx.add_calls == 2);

  /* the host reads bytes the wasm wrote: 1 + 2 + ... + 20 */
  CHECK(call_i32(s, inst, "store_and_sum", 20) == 210);
  CHECK(ctx.caller_ok);

  /* a host trap propagates with its message and the wasm frames */
  args[0] = kiln_val_i32(42);
  memset(&err, 0, sizeof err);
  CHECK_STATUS(call(s, inst, "call_fail", args, 1, NULL, 0, &err), KILN_ERR_TRAP, err);
  CHECK(err.status == KILN_ERR_TRAP && err.trap == KILN_TRAP_HOST);
  CHECK(strncmp(err.message, "host says no: 42", 16) == 0);
  CHECK(err.frame_count == 1 && strcmp(err.backtrace[0].name, "call_fail") == 0);

  /* a host function that fails without kiln_caller_trap still traps */
  args[0] = kiln_val_i32(0);
  CHECK_STATUS(call(s, inst, "call_fail", args, 1, NULL, 0, &err), KILN_ERR_TRAP, err);
  CHECK(err.trap == KILN_TRAP_HOST);
  CHECK_CONTAINS(err.message, "host function failed");

  /* exit: the wasm does not go on to its unreachable */
  args[0] = kiln_val_i32(3);
  CHECK_STATUS(call(s, inst, "call_exit", args, 1, NULL, 0, &err), KILN_ERR_TRAP, err);
  CHECK(err.trap == KILN_TRAP_EXIT && err.exit_code == 3);
  args[0] = kiln_val_i32(-7);
  CHECK(call(s, inst, "call_exit", args, 1, NULL, 0, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_EXIT &&
        err.exit_code == -7);

  /* the store works after all that */
  CHECK(call_i32(s, inst, "double", 21) == 42);

  /* a host function called directly from the host */
  kiln_functype t_add = {I32x2, 2, &I32, 1};
  host_ctx direct = {.bias = 1};
  kiln_func *hf = kiln_func_new(s, &t_add, host_add, &direct, NULL);
  CHECK(hf != NULL);
  args[0] = kiln_val_i32(2), args[1] = kiln_val_i32(3);
  CHECK(kiln_func_call(s, hf, args, 2, r, 1, &err) == KILN_OK && r[0].of.i32 == 6 && direct.add_calls == 1);
  kiln_functype ft = kiln_func_type(hf);
  CHECK(functype_is(&ft, 2, I32x2, 1, &I32));
  /* bad host function types and callbacks are refused */
  kiln_valtype bogus = (kiln_valtype)0x55;
  CHECK(kiln_func_new(s, &(kiln_functype){&bogus, 1, NULL, 0}, host_add, NULL, NULL) == NULL);
  CHECK(kiln_func_new(s, &t_add, NULL, NULL, NULL) == NULL);
out:
  kiln_store_free(s);
  CHECK(ctx.finalized == 7); /* one per host function made by instantiate_api */
  kiln_module_free(m);
  kiln_engine_free(e);
}

static kiln_status host_i64(kiln_caller *caller, void *data, const kiln_val *args, kiln_val *results) {
  (void)caller, (void)data;
  results[0].of.i64 = (int64_t)args[0].of.i32 * (int64_t)args[1].of.f64;
  return KILN_OK;
}

static void test_linking(void) {
  group("linking: host-made memory, table, global; missing and mistyped imports -> KILN_ERR_LINK");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, imports_wasm, sizeof imports_wasm);
  kiln_store *s = kiln_store_new(e);
  kiln_error err = {0};

  const kiln_valtype p[] = {KILN_I32, KILN_F64}, r64 = KILN_I64;
  kiln_func *f = kiln_func_new(s, &(kiln_functype){p, 2, &r64, 1}, host_i64, NULL, NULL);
  kiln_memory *mem = kiln_memory_new(s, (kiln_limits){1, 2, true, false}, &err);
  kiln_table *tab = kiln_table_new(s, KILN_EXTERNREF, (kiln_limits){2, 10, true, false}, val_ref(KILN_EXTERNREF, NULL), &err);
  kiln_global *g = kiln_global_new(s, KILN_F32, true, kiln_val_f32(1.5f));
  CHECK(f && mem && tab && g);
  if (!m || !f || !mem || !tab || !g) goto out;
  kiln_import good[4] = {
      {"env", "f", {KILN_EXTERN_FUNC, {.func = f}}},
      {"env", "t", {KILN_EXTERN_TABLE, {.table = tab}}},
      {"env", "m", {KILN_EXTERN_MEMORY, {.memory = mem}}},
      {"env", "g", {KILN_EXTERN_GLOBAL, {.global = g}}},
  };
  kiln_import imports[5];
  kiln_instance *inst = (kiln_instance *)(uintptr_t)1;

  /* each import missing in turn */
  static const char *const missing_names[] = {"\"env\" \"f\"", "\"env\" \"t\"", "\"env\" \"m\"", "\"env\" \"g\""};
  for (int skip = 0; skip < 4; skip++) {
    int n = 0;
    for (int i = 0; i < 4; i++) if (i != skip) imports[n++] = good[i];
    CHECK_STATUS(kiln_instantiate(s, m, imports, 3, &inst, &err), KILN_ERR_LINK, err);
    CHECK(inst == NULL && err.status == KILN_ERR_LINK);
    CHECK_CONTAINS(err.message, missing_names[skip]);
  }
  /* a function of the wrong type */
  kiln_func *wrong_f = kiln_func_new(s, &(kiln_functype){p, 1, &r64, 1}, host_i64, NULL, NULL);
  memcpy(imports, good, sizeof good);
  imports[0].value.of.func = wrong_f;
  CHECK_STATUS(kiln_instantiate(s, m, imports, 4, &inst, &err), KILN_ERR_LINK, err);
  CHECK_CONTAINS(err.message, "\"env\" \"f\"");
  /* a memory given for the function */
  memcpy(imports, good, sizeof good);
  imports[0].value.kind = KILN_EXTERN_MEMORY;
  imports[0].value.of.memory = mem;
  CHECK_STATUS(kiln_instantiate(s, m, imports, 4, &inst, &err), KILN_ERR_LINK, err);
  CHECK_CONTAINS(err.message, "\"env\" \"f\"");
  /* a memory without a maximum where one of at most 2 pages is due */
  memcpy(imports, good, sizeof good);
  imports[2].value.of.memory = kiln_memory_new(s, (kiln_limits){1, 0, false, false}, &err);
  CHECK_STATUS(kiln_instantiate(s, m, imports, 4, &inst, &err), KILN_ERR_LINK, err);
  CHECK_CONTAINS(err.message, "\"env\" \"m\"");
  /* a table that is too small, and one of funcref */
  memcpy(imports, good, sizeof good);
  imports[1].value.of.table = kiln_table_new(s, KILN_EXTERNREF, (kiln_limits){1, 10, true, false}, val_ref(KILN_EXTERNREF, NULL), &err);
  CHECK_STATUS(kiln_instantiate(s, m, imports, 4, &inst, &err), KILN_ERR_LINK, err);
  imports[1].value.of.table = kiln_table_new(s, KILN_FUNCREF, (kiln_limits){2, 10, true, false}, val_ref(KILN_FUNCREF, NULL), &err);
  CHECK_STATUS(kiln_instantiate(s, m, imports, 4, &inst, &err), KILN_ERR_LINK, err);
  CHECK_CONTAINS(err.message, "\"env\" \"t\"");
  /* an immutable global, and a mutable one of another type */
  memcpy(imports, good, sizeof good);
  imports[3].value.of.global = kiln_global_new(s, KILN_F32, false, kiln_val_f32(0));
  CHECK_STATUS(kiln_instantiate(s, m, imports, 4, &inst, &err), KILN_ERR_LINK, err);
  imports[3].value.of.global = kiln_global_new(s, KILN_F64, true, kiln_val_f64(0));
  CHECK_STATUS(kiln_instantiate(s, m, imports, 4, &inst, &err), KILN_ERR_LINK, err);
  CHECK_CONTAINS(err.message, "\"env\" \"g\"");
  CHECK(inst == NULL);

  /* the right imports (plus an unused extra) link, and the instance sees the host objects */
  memcpy(imports, good, sizeof good);
  imports[4] = (kiln_import){"other", "x", {KILN_EXTERN_FUNC, {.func = wrong_f}}};
  CHECK_STATUS(kiln_instantiate(s, m, imports, 5, &inst, &err), KILN_OK, err);
  if (!inst) goto out;
  kiln_val a[2] = {kiln_val_i32(6), kiln_val_f64(7.0)}, res[2];
  CHECK(call(s, inst, "call_f", a, 2, res, 1, &err) == KILN_OK && res[0].type == KILN_I64 && res[0].of.i64 == 42);
  CHECK(call(s, inst, "read_g", NULL, 0, res, 1, &err) == KILN_OK && res[0].of.f32 == 1.5f);
  CHECK(kiln_global_set(g, kiln_val_f32(-2.25f)) == KILN_OK);
  CHECK(call(s, inst, "read_g", NULL, 0, res, 1, &err) == KILN_OK && res[0].of.f32 == -2.25f);
  kiln_memory_data(mem)[77] = 0xEE;
  CHECK(call_i32(s, inst, "byte", 77) == 0xEE);
  int marker;
  CHECK(kiln_table_set(tab, 1, val_ref(KILN_EXTERNREF, &marker)) == KILN_OK);
  a[0] = kiln_val_i32(1);
  CHECK(call(s, inst, "tget", a, 1, res, 1, &err) == KILN_OK && res[0].type == KILN_EXTERNREF &&
        res[0].of.externref == &marker);
  /* the re-exports are the very objects given */
  kiln_extern x;
  CHECK(kiln_instance_export(inst, "mx", &x) == KILN_OK && x.kind == KILN_EXTERN_MEMORY && x.of.memory == mem);
  CHECK(kiln_instance_export(inst, "tx", &x) == KILN_OK && x.kind == KILN_EXTERN_TABLE && x.of.table == tab);
  CHECK(kiln_instance_export(inst, "gx", &x) == KILN_OK && x.kind == KILN_EXTERN_GLOBAL && x.of.global == g);
  CHECK(kiln_instance_export(inst, "nope", &x) == KILN_ERR_NOT_FOUND);
  /* a function returning a null funcref and a null externref */
  kiln_val v = {.type = KILN_V128};
  memset(v.of.v128, 0x11, 16);
  res[0].of.funcref = (kiln_func *)&marker;
  res[1].of.externref = &marker;
  CHECK(call(s, inst, "refs", &v, 1, res, 2, &err) == KILN_OK);
  CHECK(res[0].type == KILN_FUNCREF && res[0].of.funcref == NULL);
  CHECK(res[1].type == KILN_EXTERNREF && res[1].of.externref == NULL);
out:
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- values of every type */

static void test_value_types(void) {
  group("calling exports with every value type; NaN payloads; multiple results; references");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, api_wasm, sizeof api_wasm);
  kiln_store *s = kiln_store_new(e);
  host_ctx ctx = {0};
  kiln_instance *inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;
  kiln_error err = {0};
  kiln_val a[2], r[2];

  /* i32 and i64 extremes */
  CHECK(call_i32(s, inst, "id_i32", INT32_MIN) == INT32_MIN);
  CHECK(call_i32(s, inst, "id_i32", -1) == -1);
  a[0] = kiln_val_i64(INT64_MIN);
  CHECK(call(s, inst, "id_i64", a, 1, r, 1, &err) == KILN_OK && r[0].type == KILN_I64 && r[0].of.i64 == INT64_MIN);
  a[0] = kiln_val_i64(0x123456789abcdefLL), a[1] = kiln_val_i64(-2);
  CHECK(call(s, inst, "i64_mix", a, 2, r, 1, &err) == KILN_OK &&
        (uint64_t)r[0].of.i64 == ((0x123456789abcdefull * 3) ^ (0xfffffffffffffffeull >> 1)));

  /* f32: values, a signalling NaN with a payload kept bit for bit (through wasm, and through a
   * host import and back), neg flipping only the sign bit */
  a[0] = kiln_val_f32(1.5f), a[1] = kiln_val_f32(-4.0f);
  CHECK(call(s, inst, "f32_mul", a, 2, r, 1, &err) == KILN_OK && r[0].type == KILN_F32 && r[0].of.f32 == -6.0f);
  static const uint32_t nans[] = {0x7fa00001u, 0xffc00000u, 0x7f800001u, 0xff812345u, 0x7fffffffu};
  for (int i = 0; i < 5; i++) {
    a[0] = val_f32_bits(nans[i]);
    CHECK(call(s, inst, "id_f32", a, 1, r, 1, &err) == KILN_OK && r[0].of.f32_bits == nans[i]);
    CHECK(call(s, inst, "f32_roundtrip", a, 1, r, 1, &err) == KILN_OK && r[0].of.f32_bits == nans[i] &&
          ctx.f32_seen == nans[i]);
    CHECK(call(s, inst, "f32_neg", a, 1, r, 1, &err) == KILN_OK && r[0].of.f32_bits == (nans[i] ^ 0x80000000u));
  }
  /* f64: arithmetic, infinities, NaN payloads and copysign on them */
  a[0] = kiln_val_f64(1.0), a[1] = kiln_val_f64(0.0);
  CHECK(call(s, inst, "f64_div", a, 2, r, 1, &err) == KILN_OK && r[0].type == KILN_F64 && isinf(r[0].of.f64) &&
        r[0].of.f64 > 0);
  a[0] = kiln_val_f64(10.0), a[1] = kiln_val_f64(4.0);
  CHECK(call(s, inst, "f64_div", a, 2, r, 1, &err) == KILN_OK && r[0].of.f64 == 2.5);
  a[0] = val_f64_bits(0x7ff4000000000abcull);
  CHECK(call(s, inst, "id_f64", a, 1, r, 1, &err) == KILN_OK && r[0].of.f64_bits == 0x7ff4000000000abcull);
  a[1] = kiln_val_f64(-1.0);
  CHECK(call(s, inst, "f64_copysign", a, 2, r, 1, &err) == KILN_OK && r[0].of.f64_bits == 0xfff4000000000abcull);

  /* v128 */
  kiln_val v[2];
  memset(v, 0, sizeof v);
  v[0].type = v[1].type = KILN_V128;
  for (int i = 0; i < 16; i++) v[0].of.v128[i] = (uint8_t)(i * 17 + 3);
  CHECK(call(s, inst, "id_v128", v, 1, r, 1, &err) == KILN_OK && r[0].type == KILN_V128 &&
        memcmp(r[0].of.v128, v[0].of.v128, 16) == 0);
  uint32_t x[4] = {1, 0xffffffffu, 0x7fffffffu, 100}, y[4] = {2, 1, 1, 0xfffffff6u}, sum[4];
  memcpy(v[0].of.v128, x, 16);
  memcpy(v[1].of.v128, y, 16);
  CHECK(call(s, inst, "v128_add", v, 2, r, 1, &err) == KILN_OK);
  memcpy(sum, r[0].of.v128, 16);
  CHECK(sum[0] == 3 && sum[1] == 0 && sum[2] == 0x80000000u && sum[3] == 90);

  /* two results */
  a[0] = kiln_val_i32(-5), a[1] = kiln_val_i64(1LL << 40);
  CHECK(call(s, inst, "swap", a, 2, r, 2, &err) == KILN_OK && r[0].type == KILN_I64 && r[0].of.i64 == 1LL << 40 &&
        r[1].type == KILN_I32 && r[1].of.i32 == -5);

  /* funcref: a function from the host goes into the table and is called there; ref.func
   * hands back the very export; null is null */
  kiln_func *dbl = export_func(inst, "double");
  kiln_func *sq_host;
  kiln_functype t_i_i = {&I32, 1, &I32, 1};
  host_ctx hctx = {0};
  a[0] = val_ref(KILN_FUNCREF, dbl), a[1] = kiln_val_i32(21);
  CHECK(call(s, inst, "call_via_table", a, 2, r, 1, &err) == KILN_OK && r[0].of.i32 == 42);
  CHECK(call(s, inst, "id_funcref", a, 1, r, 1, &err) == KILN_OK && r[0].type == KILN_FUNCREF && r[0].of.funcref == dbl);
  CHECK(call(s, inst, "is_null_func", a, 1, r, 1, &err) == KILN_OK && r[0].of.i32 == 0);
  a[0] = val_ref(KILN_FUNCREF, NULL);
  CHECK(call(s, inst, "is_null_func", a, 1, r, 1, &err) == KILN_OK && r[0].of.i32 == 1);
  CHECK(call(s, inst, "double_ref", NULL, 0, r, 1, &err) == KILN_OK && r[0].type == KILN_FUNCREF &&
        r[0].of.funcref == dbl);
  if (r[0].of.funcref) {
    a[0] = kiln_val_i32(-8);
    kiln_val r2;
    CHECK(kiln_func_call(s, r[0].of.funcref, a, 1, &r2, 1, &err) == KILN_OK && r2.of.i32 == -16);
  }
  /* a host function of type (i32) -> i32 called through call_indirect: host_reenter runs fact */
  sq_host = kiln_func_new(s, &t_i_i, host_reenter, &hctx, NULL);
  hctx.fact = export_func(inst, "fact");
  a[0] = val_ref(KILN_FUNCREF, sq_host), a[1] = kiln_val_i32(5);
  CHECK(call(s, inst, "call_via_table", a, 2, r, 1, &err) == KILN_OK && r[0].of.i32 == 120 && hctx.reenter_calls == 1);

  /* externref: any host pointer round-trips */
  int token;
  a[0] = val_ref(KILN_EXTERNREF, &token);
  CHECK(call(s, inst, "id_externref", a, 1, r, 1, &err) == KILN_OK && r[0].type == KILN_EXTERNREF &&
        r[0].of.externref == &token);
  CHECK(call(s, inst, "is_null_extern", a, 1, r, 1, &err) == KILN_OK && r[0].of.i32 == 0);
  a[0] = val_ref(KILN_EXTERNREF, NULL);
  CHECK(call(s, inst, "is_null_extern", a, 1, r, 1, &err) == KILN_OK && r[0].of.i32 == 1);

  /* function types of exports */
  kiln_functype ft = kiln_func_type(export_func(inst, "swap"));
  CHECK(functype_is(&ft, 2, (kiln_valtype[]){KILN_I32, KILN_I64}, 2, (kiln_valtype[]){KILN_I64, KILN_I32}));
  ft = kiln_func_type(dbl);
  CHECK(functype_is(&ft, 1, &I32, 1, &I32));
  ft = kiln_func_type(export_func(inst, "id_externref"));
  CHECK(functype_is(&ft, 1, (kiln_valtype[]){KILN_EXTERNREF}, 1, (kiln_valtype[]){KILN_EXTERNREF}));
out:
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

static void test_argument_errors(void) {
  group("wrong argument count or types, too little room for results -> KILN_ERR_ARGUMENT");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, api_wasm, sizeof api_wasm);
  kiln_store *s = kiln_store_new(e);
  host_ctx ctx = {0};
  kiln_instance *inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;
  kiln_error err = {0};
  kiln_val a[3] = {kiln_val_i32(1), kiln_val_i32(2), kiln_val_i32(3)}, r[2];
  CHECK_STATUS(call(s, inst, "double", a, 0, r, 1, &err), KILN_ERR_ARGUMENT, err);
  CHECK_STATUS(call(s, inst, "double", a, 2, r, 1, &err), KILN_ERR_ARGUMENT, err);
  CHECK_CONTAINS(err.message, "expected 1 argument");
  a[0] = kiln_val_i64(1);
  CHECK_STATUS(call(s, inst, "double", a, 1, r, 1, &err), KILN_ERR_ARGUMENT, err);
  CHECK_CONTAINS(err.message, "argument 0: expected i32, got i64");
  a[0] = kiln_val_f32(1);
  CHECK(call(s, inst, "id_f64", a, 1, r, 1, &err) == KILN_ERR_ARGUMENT);
  a[0] = val_ref(KILN_EXTERNREF, NULL);
  CHECK(call(s, inst, "id_funcref", a, 1, r, 1, &err) == KILN_ERR_ARGUMENT);
  a[0] = kiln_val_i32(1), a[1] = kiln_val_i32(2);
  CHECK(call(s, inst, "swap", a, 2, r, 2, &err) == KILN_ERR_ARGUMENT); /* second must be i64 */
  a[1] = kiln_val_i64(2);
  CHECK_STATUS(call(s, inst, "swap", a, 2, r, 1, &err), KILN_ERR_ARGUMENT, err); /* room for one result */
  CHECK(call(s, inst, "swap", a, 2, r, 2, &err) == KILN_OK);
  CHECK(kiln_func_call(s, NULL, a, 0, r, 0, &err) == KILN_ERR_ARGUMENT);
  CHECK(kiln_func_call(NULL, export_func(inst, "crash"), NULL, 0, NULL, 0, &err) == KILN_ERR_ARGUMENT);
  /* no error struct: the status alone */
  CHECK(call(s, inst, "double", a, 0, r, 1, NULL) == KILN_ERR_ARGUMENT);
  /* kiln_instantiate with bad arguments */
  kiln_instance *inst2 = (kiln_instance *)(uintptr_t)1;
  CHECK(kiln_instantiate(s, m, NULL, 3, &inst2, &err) == KILN_ERR_ARGUMENT && inst2 == NULL);
  CHECK(kiln_instantiate(NULL, m, NULL, 0, &inst2, &err) == KILN_ERR_ARGUMENT);
  /* the store still works */
  CHECK(call_i32(s, inst, "double", 4) == 8);
out:
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- memory, table, global */

/* Shared memories (the threads proposal's memory type, flags 0x03): decoded, reflected,
 * created, grown in place, and linked only to shared imports. */
static void test_shared_memory(void) {
  group("shared memories");
#define HDR8 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
  /* (memory (export "mem") 1 2 shared) (func (export "size") (result i32) memory.size) */
  static const uint8_t defines[] = {HDR8, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00,
                                    0x05, 0x04, 0x01, 0x03, 0x01, 0x02, 0x07, 0x0e, 0x02, 0x03, 'm', 'e', 'm',
                                    0x02, 0x00, 0x04, 's', 'i', 'z', 'e', 0x00, 0x00, 0x0a, 0x06, 0x01, 0x04,
                                    0x00, 0x3f, 0x00, 0x0b};
  /* (import "env" "mem" (memory 1 2 shared)), and the same unshared */
  static const uint8_t imports_shared[] = {HDR8, 0x02, 0x0d, 0x01, 0x03, 'e', 'n', 'v', 0x03, 'm', 'e', 'm', 0x02,
                                           0x03, 0x01, 0x02};
  static const uint8_t imports_unshared[] = {HDR8, 0x02, 0x0d, 0x01, 0x03, 'e', 'n', 'v', 0x03, 'm', 'e', 'm', 0x02,
                                             0x01, 0x01, 0x02};
#undef HDR8
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *md = load(e, defines, sizeof defines);
  kiln_module *mi = load(e, imports_shared, sizeof imports_shared);
  kiln_module *mu = load(e, imports_unshared, sizeof imports_unshared);
  kiln_store *s = kiln_store_new(e);
  kiln_error err = {0};
  kiln_instance *inst = NULL, *other = NULL;
  if (!md || !mi || !mu || !s) goto out;
  const char *name, *module_name;
  kiln_externtype t;
  CHECK(kiln_module_export(md, 0, &name, &t) == KILN_OK && t.kind == KILN_EXTERN_MEMORY && t.limits.shared &&
        t.limits.has_max && t.limits.max == 2);
  CHECK(kiln_module_import(mi, 0, &module_name, &name, &t) == KILN_OK && t.limits.shared);
  CHECK(kiln_module_import(mu, 0, &module_name, &name, &t) == KILN_OK && !t.limits.shared);

  CHECK_STATUS(kiln_instantiate(s, md, NULL, 0, &inst, &err), KILN_OK, err);
  kiln_extern x;
  if (!inst || kiln_instance_export(inst, "mem", &x) != KILN_OK) goto out;
  kiln_memory *mem = x.of.memory;
  CHECK(kiln_memory_limits(mem).shared);
  uint8_t *base = kiln_memory_data(mem);
  uint64_t old;
  CHECK(kiln_memory_grow(mem, 1, &old) == KILN_OK && old == 1 && kiln_memory_size(mem) == 2 * KILN_PAGE_SIZE);
  CHECK(kiln_memory_data(mem) == base); /* in place: what another thread reads stays valid */
  CHECK(kiln_memory_grow(mem, 1, &old) == KILN_ERR_LIMIT);
  CHECK(kiln_store_memory_bytes(s) == 2 * KILN_PAGE_SIZE);
  kiln_val r;
  CHECK(call(s, inst, "size", NULL, 0, &r, 1, &err) == KILN_OK && r.of.i32 == 2);

  /* linking: shared to shared only */
  kiln_import imp = {"env", "mem", x};
  CHECK_STATUS(kiln_instantiate(s, mi, &imp, 1, &other, &err), KILN_OK, err);
  CHECK(kiln_instantiate(s, mu, &imp, 1, &other, &err) == KILN_ERR_LINK && strstr(err.message, "incompatible import type"));
  kiln_memory *plain = kiln_memory_new(s, (kiln_limits){.min = 1, .max = 2, .has_max = true}, &err);
  CHECK(plain && !kiln_memory_limits(plain).shared);
  imp.value.of.memory = plain;
  CHECK(kiln_instantiate(s, mi, &imp, 1, &other, &err) == KILN_ERR_LINK);
  kiln_memory *made = kiln_memory_new(s, (kiln_limits){.min = 1, .max = 2, .has_max = true, .shared = true}, &err);
  CHECK(made && kiln_memory_limits(made).shared);
  CHECK(kiln_store_memory_bytes(s) == 4 * KILN_PAGE_SIZE); /* mem, plain and made */
  imp.value.of.memory = made;
  CHECK_STATUS(kiln_instantiate(s, mi, &imp, 1, &other, &err), KILN_OK, err);
  /* a shared memory needs a maximum */
  CHECK(kiln_memory_new(s, (kiln_limits){.min = 1, .shared = true}, &err) == NULL && err.status == KILN_ERR_ARGUMENT &&
        strstr(err.message, "maximum"));

  /* kiln_memory_alias: the same bytes at a second address, as far as they are mapped */
  uint8_t *at = mmap(NULL, 2 * KILN_PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(at != MAP_FAILED);
  if (at == MAP_FAILED) goto out;
  uint8_t *d = kiln_memory_data(made);
  d[5] = 42;
  CHECK_STATUS(kiln_memory_alias(made, at, 0, KILN_PAGE_SIZE, &err), KILN_OK, err);
  CHECK(at[5] == 42);
  at[KILN_PAGE_SIZE - 1] = 7;
  CHECK(d[KILN_PAGE_SIZE - 1] == 7);
  CHECK(kiln_memory_alias(made, at + KILN_PAGE_SIZE, KILN_PAGE_SIZE, KILN_PAGE_SIZE, &err) == KILN_ERR_ARGUMENT &&
        strstr(err.message, "outside the memory"));
  CHECK(kiln_memory_grow(made, 1, &old) == KILN_OK && old == 1);
  d[KILN_PAGE_SIZE + 3] = 9;
  CHECK_STATUS(kiln_memory_alias(made, at + KILN_PAGE_SIZE, KILN_PAGE_SIZE, KILN_PAGE_SIZE, &err), KILN_OK, err);
  CHECK(at[KILN_PAGE_SIZE + 3] == 9);
  at[KILN_PAGE_SIZE + 4] = 10;
  CHECK(d[KILN_PAGE_SIZE + 4] == 10);
  CHECK(kiln_memory_alias(plain, at, 0, KILN_PAGE_SIZE, &err) == KILN_ERR_ARGUMENT && strstr(err.message, "shared"));
  CHECK(kiln_memory_alias(made, at + 1, 0, KILN_PAGE_SIZE, &err) == KILN_ERR_ARGUMENT &&
        strstr(err.message, "page-aligned"));
  kiln_store_free(s);
  s = NULL;
  CHECK(at[5] == 42 && at[KILN_PAGE_SIZE + 3] == 9); /* the storage outlives the memory */
  munmap(at, 2 * KILN_PAGE_SIZE);
  /* the reservations go back to the engine's pool as fresh anonymous pages */
  s = kiln_store_new(e);
  for (int i = 0; s && i < 4; i++) {
    kiln_memory *again = kiln_memory_new(s, (kiln_limits){.min = 2, .max = 2, .has_max = true, .shared = i & 1}, &err);
    CHECK(again && kiln_memory_data(again)[5] == 0 && kiln_memory_data(again)[KILN_PAGE_SIZE + 3] == 0);
  }
out:
  kiln_store_free(s);
  kiln_module_free(md);
  kiln_module_free(mi);
  kiln_module_free(mu);
  kiln_engine_free(e);
}

static void test_memory_table_global(void) {
  group("memory, table and global access and growth from the host");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, api_wasm, sizeof api_wasm);
  kiln_store *s = kiln_store_new(e);
  host_ctx ctx = {0};
  kiln_instance *inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;
  kiln_error err = {0};
  kiln_extern x;

  /* memory: 1 page, max 4 */
  CHECK(kiln_instance_export(inst, "mem", &x) == KILN_OK && x.kind == KILN_EXTERN_MEMORY);
  kiln_memory *mem = x.of.memory;
  CHECK(kiln_memory_size(mem) == KILN_PAGE_SIZE);
  kiln_limits l = kiln_memory_limits(mem);
  CHECK(l.min == 1 && l.has_max && l.max == 4);
  uint32_t word = 0xC0FFEE11u;
  memcpy(kiln_memory_data(mem) + 200, &word, 4);
  CHECK((uint32_t)call_i32(s, inst, "load_i32", 200) == word);
  kiln_val a[2] = {kiln_val_i32(300), kiln_val_i32(-123456)};
  CHECK(call(s, inst, "store_i32", a, 2, NULL, 0, &err) == KILN_OK);
  int32_t back;
  memcpy(&back, kiln_memory_data(mem) + 300, 4);
  CHECK(back == -123456);
  uint64_t old = 99;
  CHECK(kiln_memory_grow(mem, 1, &old) == KILN_OK && old == 1);
  CHECK(kiln_memory_size(mem) == 2 * KILN_PAGE_SIZE);
  kiln_val r;
  CHECK(call(s, inst, "pages", NULL, 0, &r, 1, &err) == KILN_OK && r.of.i32 == 2);
  /* the new page is zeroed, writable from both sides */
  CHECK(kiln_memory_data(mem)[KILN_PAGE_SIZE + 5] == 0);
  kiln_memory_data(mem)[2 * KILN_PAGE_SIZE - 4] = 0x5A;
  CHECK(call_i32(s, inst, "load_i32", 2 * KILN_PAGE_SIZE - 4) == 0x5A);
  CHECK(kiln_memory_grow(mem, 3, &old) == KILN_ERR_LIMIT && old == 2); /* 5 > max 4 */
  CHECK(kiln_memory_size(mem) == 2 * KILN_PAGE_SIZE);
  CHECK(call_i32(s, inst, "grow", 2) == 2);
  CHECK(call_i32(s, inst, "grow", 1) == -1);
  CHECK(kiln_memory_size(mem) == 4 * KILN_PAGE_SIZE);
  CHECK(kiln_memory_limits(mem).min == 4);
  CHECK(kiln_memory_grow(mem, 0, &old) == KILN_OK && old == 4);

  /* table: 4 funcref entries, max 8: [double, square, null, null] */
  CHECK(kiln_instance_export(inst, "tab", &x) == KILN_OK && x.kind == KILN_EXTERN_TABLE);
  kiln_table *tab = x.of.table;
  CHECK(kiln_table_size(tab) == 4 && kiln_table_elem_type(tab) == KILN_FUNCREF);
  CHECK(kiln_table_limits(tab).max == 8 && kiln_table_limits(tab).has_max);
  kiln_val ref;
  kiln_func *dbl = export_func(inst, "double");
  CHECK(kiln_table_get(tab, 0, &ref) == KILN_OK && ref.type == KILN_FUNCREF && ref.of.funcref == dbl);
  CHECK(kiln_table_get(tab, 1, &ref) == KILN_OK && ref.of.funcref != NULL && ref.of.funcref != dbl);
  CHECK(kiln_table_get(tab, 2, &ref) == KILN_OK && ref.of.funcref == NULL);
  CHECK(kiln_table_get(tab, 4, &ref) == KILN_ERR_ARGUMENT);
  a[0] = kiln_val_i32(1), a[1] = kiln_val_i32(9);
  CHECK(call(s, inst, "call_indirect", a, 2, &r, 1, &err) == KILN_OK && r.of.i32 == 81);
  CHECK(kiln_table_set(tab, 2, val_ref(KILN_FUNCREF, dbl)) == KILN_OK);
  a[0] = kiln_val_i32(2);
  CHECK(call(s, inst, "call_indirect", a, 2, &r, 1, &err) == KILN_OK && r.of.i32 == 18);
  CHECK(kiln_table_set(tab, 2, val_ref(KILN_EXTERNREF, NULL)) == KILN_ERR_ARGUMENT);
  CHECK(kiln_table_set(tab, 9, val_ref(KILN_FUNCREF, dbl)) == KILN_ERR_ARGUMENT);
  /* null entry, index past the end, wrong signature */
  a[0] = kiln_val_i32(3);
  CHECK(call(s, inst, "call_indirect", a, 2, &r, 1, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_UNINITIALIZED_ELEMENT);
  a[0] = kiln_val_i32(4);
  CHECK(call(s, inst, "call_indirect", a, 2, &r, 1, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_UNDEFINED_ELEMENT);
  CHECK(kiln_table_set(tab, 3, val_ref(KILN_FUNCREF, export_func(inst, "crash"))) == KILN_OK);
  a[0] = kiln_val_i32(3);
  CHECK(call(s, inst, "call_indirect", a, 2, &r, 1, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_INDIRECT_CALL_TYPE);
  uint32_t old_size = 0;
  CHECK(kiln_table_grow(tab, 2, val_ref(KILN_FUNCREF, dbl), &old_size) == KILN_OK && old_size == 4);
  CHECK(kiln_table_size(tab) == 6);
  CHECK(call(s, inst, "table_size", NULL, 0, &r, 1, &err) == KILN_OK && r.of.i32 == 6);
  a[0] = kiln_val_i32(5);
  CHECK(call(s, inst, "call_indirect", a, 2, &r, 1, &err) == KILN_OK && r.of.i32 == 18);
  CHECK(kiln_table_grow(tab, 3, val_ref(KILN_FUNCREF, NULL), &old_size) == KILN_ERR_LIMIT && kiln_table_size(tab) == 6);
  CHECK(kiln_table_grow(tab, 1, val_ref(KILN_EXTERNREF, NULL), &old_size) == KILN_ERR_ARGUMENT);

  /* globals: counter (mut i64 = 7), answer (i32 = 42) */
  CHECK(kiln_instance_export(inst, "counter", &x) == KILN_OK && x.kind == KILN_EXTERN_GLOBAL);
  kiln_global *counter = x.of.global;
  CHECK(kiln_global_type(counter) == KILN_I64 && kiln_global_mutable(counter));
  kiln_val gv = kiln_global_get(counter);
  CHECK(gv.type == KILN_I64 && gv.of.i64 == 7);
  CHECK(call(s, inst, "bump_counter", NULL, 0, NULL, 0, &err) == KILN_OK);
  CHECK(kiln_global_get(counter).of.i64 == 8);
  CHECK(kiln_global_set(counter, kiln_val_i64(-1000000000000LL)) == KILN_OK);
  CHECK(call(s, inst, "get_counter", NULL, 0, &r, 1, &err) == KILN_OK && r.of.i64 == -1000000000000LL);
  CHECK(kiln_global_set(counter, kiln_val_i32(1)) == KILN_ERR_ARGUMENT);
  CHECK(kiln_instance_export(inst, "answer", &x) == KILN_OK && x.kind == KILN_EXTERN_GLOBAL);
  CHECK(kiln_global_get(x.of.global).of.i32 == 42 && !kiln_global_mutable(x.of.global));
  CHECK(kiln_global_set(x.of.global, kiln_val_i32(1)) == KILN_ERR_ARGUMENT);
  CHECK(kiln_global_get(x.of.global).of.i32 == 42);

  /* exports by position, names of functions, the module */
  uint32_t n = kiln_instance_export_count(inst);
  CHECK(n == kiln_module_export_count(m));
  const char *name = NULL;
  CHECK(kiln_instance_export_at(inst, 0, &name, &x) == KILN_OK && strcmp(name, "mem") == 0);
  CHECK(kiln_instance_export_at(inst, n, &name, &x) == KILN_ERR_ARGUMENT);
  CHECK(kiln_instance_export_n(inst, "doublex", 6, &x) == KILN_OK && x.of.func == dbl);
  CHECK(kiln_instance_module(inst) == m);
  CHECK(strcmp(kiln_instance_func_name(inst, 7), "double") == 0); /* after 7 imports */
  CHECK(strcmp(kiln_instance_func_name(inst, 0), "host_add") == 0);
  CHECK(strcmp(kiln_instance_func_name(inst, 100000), "") == 0);

  /* host-made objects: checks on their arguments */
  CHECK(kiln_memory_new(s, (kiln_limits){2, 1, true, false}, &err) == NULL && err.status == KILN_ERR_ARGUMENT);
  CHECK(kiln_memory_new(s, (kiln_limits){70000, 0, false, false}, &err) == NULL);
  CHECK(kiln_table_new(s, KILN_I32, (kiln_limits){1, 0, false, false}, kiln_val_i32(0), &err) == NULL &&
        err.status == KILN_ERR_ARGUMENT);
  CHECK(kiln_global_new(s, KILN_I32, true, kiln_val_i64(0)) == NULL);
  kiln_global *vg = kiln_global_new(s, KILN_V128, true, (kiln_val){.type = KILN_V128});
  CHECK(vg != NULL);
  if (vg) {
    kiln_val vv = {.type = KILN_V128};
    memset(vv.of.v128, 0x7E, 16);
    CHECK(kiln_global_set(vg, vv) == KILN_OK && memcmp(kiln_global_get(vg).of.v128, vv.of.v128, 16) == 0);
  }
out:
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- traps */

/* The byte at a backtrace frame's offset is the opcode of the instruction it names. */
static bool frame_at_opcode(const kiln_frame *f, uint8_t opcode) {
  return f->code_offset < sizeof api_wasm && api_wasm[f->code_offset] == opcode;
}

static void test_traps(void) {
  group("traps: kind, message naming the function, backtrace frames (name section)");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, api_wasm, sizeof api_wasm);
  kiln_store *s = kiln_store_new(e);
  host_ctx ctx = {0};
  kiln_instance *inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;
  kiln_error err;
  kiln_val a[2] = {kiln_val_i32(7), kiln_val_i32(0)}, r;

  memset(&err, 0, sizeof err);
  CHECK_STATUS(call(s, inst, "outer", a, 2, &r, 1, &err), KILN_ERR_TRAP, err);
  CHECK(err.status == KILN_ERR_TRAP && err.trap == KILN_TRAP_INTEGER_DIVIDE_BY_ZERO);
  CHECK_CONTAINS(err.message, "integer divide by zero");
  CHECK_CONTAINS(err.message, "divide");
  CHECK(err.frame_count == 3 && err.frame_total == 3);
  if (err.frame_count == 3) {
    CHECK(strcmp(err.backtrace[0].name, "divide") == 0);
    CHECK(strcmp(err.backtrace[1].name, "middle") == 0);
    CHECK(strcmp(err.backtrace[2].name, "outer") == 0);
    CHECK(err.backtrace[0].func_index + 1 == err.backtrace[1].func_index);
    CHECK(err.backtrace[1].func_index + 1 == err.backtrace[2].func_index);
    CHECK(frame_at_opcode(&err.backtrace[0], 0x6d)); /* i32.div_s */
    if (!test_tier_compiled()) { /* compiled frames above the innermost have no offsets yet */
      CHECK(frame_at_opcode(&err.backtrace[1], 0x10)); /* call */
      CHECK(frame_at_opcode(&err.backtrace[2], 0x10));
    }
  }
  /* INT_MIN / -1 */
  a[0] = kiln_val_i32(INT32_MIN), a[1] = kiln_val_i32(-1);
  CHECK(call(s, inst, "divide", a, 2, &r, 1, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_INTEGER_OVERFLOW &&
        err.frame_count == 1);
  CHECK(call(s, inst, "crash", NULL, 0, NULL, 0, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_UNREACHABLE);
  CHECK_CONTAINS(err.message, "unreachable");
  CHECK_CONTAINS(err.message, "crash");
  CHECK(err.frame_count == 1 && frame_at_opcode(&err.backtrace[0], 0x00));
  /* out of bounds loads: past the end, at the very end, with a huge address */
  a[0] = kiln_val_i32(KILN_PAGE_SIZE - 3);
  CHECK(call(s, inst, "load_i32", a, 1, &r, 1, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_MEMORY_OUT_OF_BOUNDS);
  CHECK_CONTAINS(err.message, "out of bounds memory access");
  CHECK_CONTAINS(err.message, "load_i32");
  CHECK(err.frame_count == 1 && strcmp(err.backtrace[0].name, "load_i32") == 0);
  if (test_tier_faults()) CHECK(err.backtrace[0].code_offset == 0); /* a fault: the instruction is unknown */
  else CHECK(frame_at_opcode(&err.backtrace[0], 0x28));              /* i32.load */
  CHECK(call_i32(s, inst, "load_i32", KILN_PAGE_SIZE - 4) == 0);
  a[0] = kiln_val_i32(-1);
  CHECK(call(s, inst, "load_i32", a, 1, &r, 1, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_MEMORY_OUT_OF_BOUNDS);
  /* a trap does not leave partial state behind: the store keeps working */
  CHECK(call_i32(s, inst, "depth", 100) == 100);
  /* a trap in wasm called from a host function called from wasm: fact(3) -> host -> fact(2)
   * -> host -> fact(1) is fine; with a host that traps the message travels out */
  CHECK(call_i32(s, inst, "fact", 6) == 720);
out:
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

static void test_recursion(void) {
  group("deep recursion -> KILN_TRAP_STACK_EXHAUSTED without crashing; configured depth");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, api_wasm, sizeof api_wasm);
  kiln_store *s = kiln_store_new(e);
  host_ctx ctx = {0};
  kiln_instance *inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;
  kiln_error err = {0};
  kiln_val a = kiln_val_i32(0), r;
  for (int round = 0; round < 3; round++) {
    CHECK_STATUS(call(s, inst, "recurse", &a, 1, &r, 1, &err), KILN_ERR_TRAP, err);
    CHECK(err.trap == KILN_TRAP_STACK_EXHAUSTED);
    CHECK_CONTAINS(err.message, "call stack exhausted");
    CHECK(err.frame_count == KILN_BACKTRACE_MAX && strcmp(err.backtrace[0].name, "recurse") == 0 &&
          strcmp(err.backtrace[KILN_BACKTRACE_MAX - 1].name, "recurse") == 0);
  }
  CHECK(call_i32(s, inst, "depth", 10000) == 10000);
  if (test_tier_compiled()) {
    /* compiled code recurses on the native stack: max_call_depth and the value stack do not
     * apply; its budget (NATIVE_STACK_BUDGET) ends deep recursion with the same trap */
    a = kiln_val_i32(100000000);
    CHECK(call(s, inst, "depth", &a, 1, &r, 1, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_STACK_EXHAUSTED);
    CHECK(err.frame_count == KILN_BACKTRACE_MAX && err.frame_total > 10000);
    CHECK(strcmp(err.backtrace[0].name, "depth") == 0);
    CHECK(call_i32(s, inst, "depth", 90) == 90);
  }
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
  if (test_tier_compiled()) return;

  /* max_call_depth = 100: depth 90 is fine, 200 is not */
  kiln_config c;
  kiln_config_init(&c);
  c.max_call_depth = 100;
  e = test_engine_new(&c);
  m = load(e, api_wasm, sizeof api_wasm);
  s = kiln_store_new(e);
  inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;
  CHECK(call_i32(s, inst, "depth", 90) == 90);
  a = kiln_val_i32(200);
  CHECK(call(s, inst, "depth", &a, 1, &r, 1, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_STACK_EXHAUSTED);
  /* the backtrace keeps the innermost frames and counts them all (about 100) */
  CHECK(err.frame_count == KILN_BACKTRACE_MAX && err.frame_total >= 99 && err.frame_total <= 101);
  CHECK(call_i32(s, inst, "depth", 90) == 90);
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);

  /* a small value stack runs out before the depth limit */
  kiln_config_init(&c);
  c.value_stack_bytes = 4096;
  e = test_engine_new(&c);
  m = load(e, api_wasm, sizeof api_wasm);
  s = kiln_store_new(e);
  inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;
  a = kiln_val_i32(1000);
  CHECK(call(s, inst, "depth", &a, 1, &r, 1, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_STACK_EXHAUSTED);
  CHECK(call_i32(s, inst, "depth", 5) == 5);
out:
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- re-entrancy */

static void test_reentrancy(void) {
  group("re-entrancy: host functions calling back into wasm of the same store");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, api_wasm, sizeof api_wasm);
  kiln_store *s = kiln_store_new(e);
  host_ctx ctx = {0};
  kiln_instance *inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;
  /* fact(n) = n * host(fact(n - 1)): n - 1 nested entries */
  CHECK(call_i32(s, inst, "fact", 10) == 3628800);
  CHECK(ctx.reenter_calls == 9);
  CHECK(call_i32(s, inst, "fact", 1) == 1);
  ctx.reenter_calls = 0;
  CHECK(call_i32(s, inst, "fact", 12) == 479001600);
  CHECK(ctx.reenter_calls == 11);
  /* unbounded wasm -> host -> wasm recursion stops as stack exhaustion, not a crash */
  kiln_val a = kiln_val_i32(1000000), r;
  kiln_error err = {0};
  CHECK_STATUS(call(s, inst, "fact", &a, 1, &r, 1, &err), KILN_ERR_TRAP, err);
  CHECK_CONTAINS(err.message, "call stack exhausted");
  /* the innermost trap travels out as each host level re-reports it */
  CHECK(err.trap == KILN_TRAP_HOST && strncmp(err.message, "call stack exhausted", 20) == 0);
  /* memory written by a nested call is seen by the outer one */
  CHECK(call_i32(s, inst, "store_and_sum", 10) == 55);
  CHECK(call_i32(s, inst, "fact", 5) == 120);
out:
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- interruption */

typedef struct watcher {
  kiln_store *store;
  host_ctx *ctx;
} watcher;

/* Wait until the wasm says it has started, then interrupt its store. */
static void *interrupt_when_started(void *arg) {
  watcher *w = arg;
  while (!atomic_load(&w->ctx->started)) sleep_ms(1);
  sleep_ms(20);
  kiln_store_interrupt(w->store);
  return NULL;
}

static void test_interrupt(void) {
  group("kiln_store_interrupt from another thread stops (loop (br 0)); the store is usable after clearing");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, api_wasm, sizeof api_wasm);
  kiln_store *s = kiln_store_new(e);
  host_ctx ctx = {0};
  kiln_instance *inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;
  kiln_error err = {0};
  for (int round = 0; round < 2; round++) {
    atomic_store(&ctx.started, 0);
    watcher w = {s, &ctx};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, interrupt_when_started, &w) == 0);
    CHECK_STATUS(call(s, inst, "spin_started", NULL, 0, NULL, 0, &err), KILN_ERR_TRAP, err);
    pthread_join(t, NULL);
    CHECK(err.trap == KILN_TRAP_INTERRUPTED);
    CHECK_CONTAINS(err.message, "interrupted");
    CHECK(err.frame_count == 1 && strcmp(err.backtrace[0].name, "spin_started") == 0);
    /* the request stays until cleared */
    CHECK(call(s, inst, "double", (kiln_val[]){kiln_val_i32(1)}, 1, (kiln_val[1]){0}, 1, &err) == KILN_ERR_TRAP &&
          err.trap == KILN_TRAP_INTERRUPTED);
    kiln_store_clear_interrupt(s);
    CHECK(call_i32(s, inst, "double", 21) == 42);
    CHECK(call_i32(s, inst, "count_loop", 1000) == 1000);
  }
  /* a request made while nothing runs stops the next call */
  kiln_store_interrupt(s);
  CHECK(call(s, inst, "spin", NULL, 0, NULL, 0, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_INTERRUPTED);
  kiln_store_clear_interrupt(s);
  CHECK(call_i32(s, inst, "primes", 100) == 25);
out:
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- fuel */

static void test_fuel(void) {
  group("fuel: a budget stops an infinite loop (KILN_TRAP_OUT_OF_FUEL), kiln_store_fuel reports what is left");
  kiln_config c;
  kiln_config_init(&c);
  CHECK(!c.consume_fuel);
  if (test_tier_compiled()) {
    /* compiled code built without fuel counting refuses to run on a budget */
    kiln_engine *unmetered = test_engine_new(NULL);
    kiln_module *um = load(unmetered, api_wasm, sizeof api_wasm);
    kiln_store *us = kiln_store_new(unmetered);
    host_ctx uctx = {0};
    kiln_instance *ui = um ? instantiate_api(us, um, &uctx) : NULL;
    CHECK(ui != NULL);
    if (ui) {
      kiln_error uerr = {0};
      CHECK(call_i32(us, ui, "double", 4) == 8);
      kiln_store_set_fuel(us, 1000);
      CHECK_STATUS(call(us, ui, "spin", NULL, 0, NULL, 0, &uerr), KILN_ERR_ARGUMENT, uerr);
      CHECK_CONTAINS(uerr.message, "consume_fuel");
      kiln_store_set_fuel(us, UINT64_MAX);
      CHECK(call_i32(us, ui, "double", 5) == 10);
    }
    kiln_store_free(us);
    kiln_module_free(um);
    kiln_engine_free(unmetered);
  }
  c.consume_fuel = true;
  kiln_engine *e = test_engine_new(&c);
  kiln_module *m = load(e, api_wasm, sizeof api_wasm);
  kiln_store *s = kiln_store_new(e);
  host_ctx ctx = {0};
  kiln_instance *inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;
  kiln_error err = {0};
  CHECK(kiln_store_fuel(s) == UINT64_MAX);
  kiln_store_set_fuel(s, 1000);
  CHECK(kiln_store_fuel(s) == 1000);
  CHECK_STATUS(call(s, inst, "spin", NULL, 0, NULL, 0, &err), KILN_ERR_TRAP, err);
  CHECK(err.trap == KILN_TRAP_OUT_OF_FUEL);
  CHECK_CONTAINS(err.message, "out of fuel");
  CHECK(kiln_store_fuel(s) == 0);
  /* empty tank: even a loop-free call does not start */
  kiln_val r;
  CHECK(call(s, inst, "double", (kiln_val[]){kiln_val_i32(1)}, 1, &r, 1, &err) == KILN_ERR_TRAP &&
        err.trap == KILN_TRAP_OUT_OF_FUEL);
  /* one unit per function entry and per loop iteration: count_loop(10) costs 1 + 10 */
  kiln_store_set_fuel(s, 100);
  CHECK(call_i32(s, inst, "count_loop", 10) == 10);
  CHECK(kiln_store_fuel(s) == 89);
  CHECK(call_i32(s, inst, "double", 4) == 8);
  CHECK(kiln_store_fuel(s) == 88);
  /* calls through host functions are charged too, and the budget is shared by nested calls */
  CHECK(call_i32(s, inst, "fact", 3) == 6); /* fact, fact, fact: 3 entries */
  CHECK(kiln_store_fuel(s) == 85);
  kiln_val a = kiln_val_i32(100);
  CHECK(call(s, inst, "count_loop", &a, 1, &r, 1, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_OUT_OF_FUEL);
  CHECK(kiln_store_fuel(s) == 0);
  /* back to unlimited */
  kiln_store_set_fuel(s, UINT64_MAX);
  CHECK(kiln_store_fuel(s) == UINT64_MAX);
  CHECK(call_i32(s, inst, "count_loop", 100000) == 100000);
  CHECK(kiln_store_fuel(s) == UINT64_MAX);
out:
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- memory limit */

static void test_memory_limit(void) {
  group("kiln_config.max_memory_bytes: memory.grow returns -1 past it, a bigger minimum fails with KILN_ERR_LIMIT");
  kiln_config c;
  kiln_config_init(&c);
  c.max_memory_bytes = 3 * KILN_PAGE_SIZE + 1000; /* rounded down to 3 pages */
  kiln_engine *e = test_engine_new(&c);
  kiln_module *m = load(e, grow_wasm, sizeof grow_wasm);
  kiln_store *s = kiln_store_new(e);
  kiln_instance *inst = NULL;
  kiln_error err = {0};
  CHECK_STATUS(kiln_instantiate(s, m, NULL, 0, &inst, &err), KILN_OK, err);
  if (inst) {
    CHECK(call_i32(s, inst, "grow", 2) == 1);
    CHECK(call_i32(s, inst, "grow", 1) == -1);
    CHECK(call_i32(s, inst, "grow", 0) == 3);
    CHECK(call_i32(s, inst, "grow", 65536) == -1);
    CHECK(call_i32(s, inst, "grow", -1) == -1);
    kiln_extern x;
    CHECK(kiln_instance_export(inst, "mem", &x) == KILN_OK);
    CHECK(kiln_memory_size(x.of.memory) == 3 * KILN_PAGE_SIZE);
    uint64_t old;
    CHECK(kiln_memory_grow(x.of.memory, 1, &old) == KILN_ERR_LIMIT && old == 3);
  }
  kiln_module *big = load(e, big_memory_wasm, sizeof big_memory_wasm); /* (memory 10) */
  inst = (kiln_instance *)(uintptr_t)1;
  CHECK_STATUS(kiln_instantiate(s, big, NULL, 0, &inst, &err), KILN_ERR_LIMIT, err);
  CHECK(inst == NULL && err.status == KILN_ERR_LIMIT);
  CHECK_CONTAINS(err.message, "limit");
  CHECK(kiln_memory_new(s, (kiln_limits){4, 0, false, false}, &err) == NULL && err.status == KILN_ERR_LIMIT);
  CHECK(kiln_memory_new(s, (kiln_limits){3, 0, false, false}, &err) != NULL);
  kiln_store_free(s);
  kiln_module_free(big);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* (module (memory 1 8)
 *   (func (export "grow_or_trap") (param i32)
 *     local.get 0 memory.grow i32.const -1 i32.eq if unreachable end)
 *   (func (export "trap") unreachable)) */
static const uint8_t refuse_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x00, 0x03,
    0x03, 0x02, 0x00, 0x01, 0x05, 0x04, 0x01, 0x01, 0x01, 0x08, 0x07, 0x17, 0x02, 0x0c, 0x67, 0x72, 0x6f, 0x77, 0x5f,
    0x6f, 0x72, 0x5f, 0x74, 0x72, 0x61, 0x70, 0x00, 0x00, 0x04, 0x74, 0x72, 0x61, 0x70, 0x00, 0x01, 0x0a, 0x13, 0x02,
    0x0d, 0x00, 0x20, 0x00, 0x40, 0x00, 0x41, 0x7f, 0x46, 0x04, 0x40, 0x00, 0x0b, 0x0b, 0x03, 0x00, 0x00, 0x0b,
};

static void test_memory_refusal(void) {
  group("a call that fails after a memory limit refused memory.grow says so (kiln_error.memory_requested)");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, refuse_wasm, sizeof refuse_wasm);
  kiln_store *s = kiln_store_new(e);
  kiln_store_set_memory_limit(s, 4 * KILN_PAGE_SIZE);
  kiln_instance *inst = NULL;
  kiln_error err = {0};
  CHECK_STATUS(kiln_instantiate(s, m, NULL, 0, &inst, &err), KILN_OK, err);
  if (inst) {
    kiln_val five = kiln_val_i32(5), two = kiln_val_i32(2), ten = kiln_val_i32(10);
    /* 1 + 5 pages: within the memory's maximum (8), over the store's limit (4) */
    CHECK(kiln_func_call(s, export_func(inst, "grow_or_trap"), &five, 1, NULL, 0, &err) == KILN_ERR_TRAP);
    CHECK(err.trap == KILN_TRAP_UNREACHABLE);
    CHECK(err.memory_requested == 6 * KILN_PAGE_SIZE && err.memory_limit == 4 * KILN_PAGE_SIZE);
    /* a later failure with no refusal in its own call says nothing of memory */
    CHECK(kiln_func_call(s, export_func(inst, "trap"), NULL, 0, NULL, 0, &err) == KILN_ERR_TRAP);
    CHECK(err.memory_requested == 0 && err.memory_limit == 0);
    /* refused by the memory's own maximum (1 + 10 > 8): not a limit's doing */
    CHECK(kiln_func_call(s, export_func(inst, "grow_or_trap"), &ten, 1, NULL, 0, &err) == KILN_ERR_TRAP);
    CHECK(err.memory_requested == 0);
    /* a grow within the limit succeeds; then a refused one: the raw call path reports it too */
    CHECK(kiln_func_call(s, export_func(inst, "grow_or_trap"), &two, 1, NULL, 0, &err) == KILN_OK);
    uint64_t slots[1] = {2};
    CHECK(kiln_func_call_raw(s, export_func(inst, "grow_or_trap"), slots, &err) == KILN_ERR_TRAP);
    CHECK(err.memory_requested == 5 * KILN_PAGE_SIZE && err.memory_limit == 4 * KILN_PAGE_SIZE);
    /* other errors leave the fields zero */
    CHECK(kiln_func_call(s, export_func(inst, "trap"), &two, 1, NULL, 0, &err) == KILN_ERR_ARGUMENT);
    CHECK(err.memory_requested == 0);
  }
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* ---------------------------------------------------------------- threads */

typedef struct worker {
  kiln_engine *engine;
  kiln_module *module; /* shared */
  int rounds;
  int ok_rounds;
  bool own_module;     /* also compile a module of its own on this thread */
} worker;

static void *work(void *arg) {
  worker *w = arg;
  kiln_store *s = kiln_store_new(w->engine);
  host_ctx ctx = {.bias = 0};
  kiln_instance *inst = instantiate_api(s, w->module, &ctx);
  kiln_module *own = NULL;
  if (w->own_module) {
    kiln_error err;
    if (kiln_module_new(w->engine, api_wasm, sizeof api_wasm, &own, &err) != KILN_OK) own = NULL;
  }
  for (int i = 0; inst && i < w->rounds; i++) {
    bool ok = call_i32(s, inst, "primes", 60000) == 6057 && call_i32(s, inst, "fact", 12) == 479001600;
    kiln_val a[2] = {kiln_val_i32(i), kiln_val_i32(1)}, r;
    kiln_error err;
    ok = ok && kiln_func_call(s, export_func(inst, "call_add"), a, 2, &r, 1, &err) == KILN_OK && r.of.i32 == i + 1;
    a[1] = kiln_val_i32(0);
    ok = ok && kiln_func_call(s, export_func(inst, "divide"), a, 2, &r, 1, &err) == KILN_ERR_TRAP &&
         err.trap == KILN_TRAP_INTEGER_DIVIDE_BY_ZERO;
    if (ok) w->ok_rounds++;
  }
  kiln_module_free(own);
  kiln_store_free(s);
  return NULL;
}

static void test_threads(void) {
  group("one module shared by two stores on two threads, running at the same time");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, api_wasm, sizeof api_wasm);
  if (!m) return;
  worker w[2] = {{e, m, 40, 0, true}, {e, m, 40, 0, true}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, work, &w[i]) == 0);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  CHECK(w[0].ok_rounds == 40 && w[1].ok_rounds == 40);
  /* the module outlives the stores and still works */
  kiln_store *s = kiln_store_new(e);
  host_ctx ctx = {0};
  kiln_instance *inst = instantiate_api(s, m, &ctx);
  kiln_module_free(m); /* instances keep what they need */
  if (inst) CHECK(call_i32(s, inst, "primes", 1000) == 168);
  kiln_store_free(s);
  kiln_engine_free(e);
}

static void test_raw_calls(void) {
  group("kiln_func_call_raw: untagged slots for every numeric type, host imports, traps, refusal of references");
  kiln_engine *e = test_engine_new(NULL);
  kiln_module *m = load(e, api_wasm, sizeof api_wasm);
  kiln_store *s = kiln_store_new(e);
  host_ctx ctx = {0};
  kiln_instance *inst = instantiate_api(s, m, &ctx);
  if (!inst) goto out;
  kiln_error err = {0};
  kiln_func *f;
  uint64_t slots[4];

  /* i32: the result in the low 4 bytes; a negative value round-trips */
  CHECK((f = export_func(inst, "id_i32")) && kiln_func_raw_slots(f) == 1);
  slots[0] = (uint32_t)INT32_MIN;
  CHECK(kiln_func_call_raw(s, f, slots, &err) == KILN_OK && (int32_t)(uint32_t)slots[0] == INT32_MIN);
  CHECK((f = export_func(inst, "i64_mix")) && kiln_func_raw_slots(f) == 2);
  slots[0] = 0x123456789abcdefull, slots[1] = 0xfffffffffffffffeull;
  CHECK(kiln_func_call_raw(s, f, slots, &err) == KILN_OK &&
        slots[0] == ((0x123456789abcdefull * 3) ^ (0xfffffffffffffffeull >> 1)));
  /* f32 and f64 as bit patterns: a NaN payload survives */
  CHECK((f = export_func(inst, "id_f32")) != NULL);
  slots[0] = 0x7fa00001u;
  CHECK(kiln_func_call_raw(s, f, slots, &err) == KILN_OK && (uint32_t)slots[0] == 0x7fa00001u);
  CHECK((f = export_func(inst, "f64_div")) != NULL);
  double ten = 10.0, four = 4.0, q;
  memcpy(&slots[0], &ten, 8), memcpy(&slots[1], &four, 8);
  CHECK(kiln_func_call_raw(s, f, slots, &err) == KILN_OK && (memcpy(&q, &slots[0], 8), q == 2.5));
  /* v128 takes two slots each */
  CHECK((f = export_func(inst, "v128_add")) && kiln_func_raw_slots(f) == 4);
  uint32_t x[4] = {1, 0xffffffffu, 0x7fffffffu, 100}, y[4] = {2, 1, 1, 0xfffffff6u}, sum[4];
  memcpy(&slots[0], x, 16), memcpy(&slots[2], y, 16);
  CHECK(kiln_func_call_raw(s, f, slots, &err) == KILN_OK);
  memcpy(sum, slots, 16);
  CHECK(sum[0] == 3 && sum[1] == 0 && sum[2] == 0x80000000u && sum[3] == 90);
  /* two results of different types, laid out in order */
  CHECK((f = export_func(inst, "swap")) && kiln_func_raw_slots(f) == 2);
  slots[0] = (uint32_t)-5, slots[1] = 1ull << 40;
  CHECK(kiln_func_call_raw(s, f, slots, &err) == KILN_OK && slots[0] == 1ull << 40 &&
        (int32_t)(uint32_t)slots[1] == -5);
  /* through a host import, and recursion */
  CHECK((f = export_func(inst, "call_add")) != NULL);
  slots[0] = 40, slots[1] = 2;
  CHECK(kiln_func_call_raw(s, f, slots, &err) == KILN_OK && (uint32_t)slots[0] == 42);
  CHECK((f = export_func(inst, "fact")) != NULL);
  slots[0] = 10;
  CHECK(kiln_func_call_raw(s, f, slots, &err) == KILN_OK && (uint32_t)slots[0] == 3628800);
  /* a trap comes back as in kiln_func_call, and the store stays usable */
  CHECK((f = export_func(inst, "divide")) != NULL);
  slots[0] = 7, slots[1] = 0;
  CHECK(kiln_func_call_raw(s, f, slots, &err) == KILN_ERR_TRAP && err.trap == KILN_TRAP_INTEGER_DIVIDE_BY_ZERO);
  slots[0] = 7, slots[1] = 2;
  CHECK(kiln_func_call_raw(s, f, slots, &err) == KILN_OK && (uint32_t)slots[0] == 3);
  /* [] -> [] needs no slots; reference types are refused with a message */
  CHECK((f = export_func(inst, "bump_counter")) && kiln_func_raw_slots(f) == 1);
  CHECK(kiln_func_call_raw(s, f, NULL, &err) == KILN_OK);
  CHECK((f = export_func(inst, "id_externref")) && kiln_func_raw_slots(f) == 0);
  CHECK(kiln_func_call_raw(s, f, slots, &err) == KILN_ERR_ARGUMENT && strstr(err.message, "kiln_func_call"));
  CHECK((f = export_func(inst, "is_null_func")) && kiln_func_raw_slots(f) == 0);
out:
  kiln_store_free(s);
  kiln_module_free(m);
  kiln_engine_free(e);
}

/* A module of one function type, params of i32, i64, f32 and f64 chosen by i: a different
 * type for each i below 4^11 / 3. */
static size_t type_module(uint32_t i, uint8_t *out) {
  static const uint8_t kinds[4] = {0x7f, 0x7e, 0x7d, 0x7c};
  uint8_t params[12];
  /* the i-th sequence, shortest first: n params, then the n base-4 digits of what is left */
  uint32_t n = 0, count = 1;
  while (i >= count) {
    i -= count;
    count *= 4;
    n++;
  }
  for (uint32_t k = 0; k < n; k++, i /= 4) params[k] = kinds[i % 4];
  static const uint8_t header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  memcpy(out, header, 8);
  size_t at = 8;
  out[at++] = 1;             /* type section */
  out[at++] = (uint8_t)(4 + n);
  out[at++] = 1;             /* one type */
  out[at++] = 0x60;
  out[at++] = (uint8_t)n;
  memcpy(out + at, params, n);
  at += n;
  out[at++] = 0;             /* no results */
  return at;
}

static void test_type_registry(void) {
  group("the engine's function types: counted, given back when modules and host functions go");
  kiln_engine *e = test_engine_new(NULL);
  uint32_t base = kiln_engine_type_count(e);
  uint8_t bytes[32];
  kiln_error err = {0};
  /* 20,000 modules with distinct types, one alive at a time: the count stays put */
  bool steady = true;
  for (uint32_t i = 0; i < 20000; i++) {
    kiln_module *m = NULL;
    size_t size = type_module(i, bytes);
    if (kiln_module_new(e, bytes, size, &m, &err) != KILN_OK) {
      CHECK_STATUS(KILN_ERR_MALFORMED, KILN_OK, err);
      break;
    }
    steady = steady && kiln_engine_type_count(e) == base + 1;
    kiln_module_free(m);
  }
  CHECK(steady);
  CHECK(kiln_engine_type_count(e) == base);
  /* two modules of one type share it; it goes with the second */
  kiln_module *a = NULL, *b = NULL;
  size_t size = type_module(7, bytes);
  CHECK_STATUS(kiln_module_new(e, bytes, size, &a, &err), KILN_OK, err);
  CHECK_STATUS(kiln_module_new(e, bytes, size, &b, &err), KILN_OK, err);
  CHECK(kiln_engine_type_count(e) == base + 1);
  kiln_module_free(a);
  CHECK(kiln_engine_type_count(e) == base + 1);
  /* a host function of the same type holds it too, until its store goes */
  kiln_store *s = kiln_store_new(e);
  kiln_valtype params[2] = {KILN_F32, KILN_I32}; /* type_module(7): 7 = 1 + 4 + 2, the 2 digits of 2 */
  CHECK(kiln_func_new(s, &(kiln_functype){params, 2, NULL, 0}, host_add, NULL, NULL) != NULL);
  kiln_valtype other = KILN_F64;
  CHECK(kiln_func_new(s, &(kiln_functype){&other, 1, &other, 1}, host_add, NULL, NULL) != NULL);
  CHECK(kiln_engine_type_count(e) == base + 2);
  kiln_module_free(b);
  CHECK(kiln_engine_type_count(e) == base + 2);
  kiln_store_free(s);
  CHECK(kiln_engine_type_count(e) == base);
  kiln_engine_free(e);
}

int main(void) {
  test_engine_config();
  test_module_errors();
  test_introspection();
  test_custom_sections();
  test_host_functions();
  test_linking();
  test_value_types();
  test_raw_calls();
  test_argument_errors();
  test_memory_table_global();
  test_shared_memory();
  test_traps();
  test_recursion();
  test_reentrancy();
  test_interrupt();
  test_fuel();
  test_memory_limit();
  test_memory_refusal();
  test_threads();
  test_type_registry();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
