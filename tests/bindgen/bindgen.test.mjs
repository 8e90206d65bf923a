// bindgen.test.mjs - the glue `kiln bindgen` writes, on the guests of tests/bindgen (Rust:
// rust/src/lib.rs, C: c/types.c) and the hello examples. run.sh builds them and runs this
// with KILN_BINDGEN_DIR (where the glue is) and KILN_BINDGEN_FLAVOR (rust or c).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'node:test';

const require = createRequire(import.meta.url);
const kiln = require('kiln');
const dir = process.env.KILN_BINDGEN_DIR;
const flavor = process.env.KILN_BINDGEN_FLAVOR;
assert.ok(dir && (flavor === 'rust' || flavor === 'c'), 'run through tests/bindgen/run.sh');
const rust = flavor === 'rust';
const g = require(path.join(dir, rust ? 'kiln_bindgen_types.js' : 'types.js'));
const hello = require(path.join(dir, rust ? 'hello.js' : 'hello-c.js'));

test('the hello example: say("world") is "hello world", with Unicode and empty strings', async () => {
  assert.equal(hello.say('world'), 'hello world');
  assert.equal(hello.say(''), 'hello ');
  assert.equal(hello.say('wörld, 世界 🌍'), 'hello wörld, 世界 🌍');
  assert.equal(await hello.say.async('async'), 'hello async');
  const esm = await import(path.join(dir, rust ? 'hello.mjs' : 'hello-c.mjs'));
  assert.equal(esm.say('esm'), 'hello esm');
  assert.equal(esm.default.say, esm.say);
});

test('integers, floats and booleans', () => {
  const cases = [
    ['i8', [-128, 0, 127]], ['u8', [0, 255]], ['i16', [-32768, 32767]], ['u16', [0, 65535]],
    ['i32', [-2147483648, -1, 2147483647]], ['u32', [0, 2147483648, 4294967295]],
    ['f64', [0, -1.5, 1e308, Infinity, -Infinity]], ['f32', [0, 1.5, -2.25]],
  ];
  for (const [type, values] of cases) {
    for (const v of values) assert.equal(g[`echo_${type}`](v), v, `${type} ${v}`);
  }
  assert.ok(Number.isNaN(g.echo_f64(NaN)));
  assert.equal(g.echo_f32(0.1), Math.fround(0.1));
  assert.equal(g.echo_i64(-(2n ** 63n)), -(2n ** 63n));
  assert.equal(g.echo_i64(2n ** 63n - 1n), 2n ** 63n - 1n);
  assert.equal(g.echo_u64(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(g.echo_u64(0n), 0n);
  assert.equal(g.echo_bool(true), true);
  assert.equal(g.echo_bool(false), false);
  if (rust) {
    assert.equal(g.echo_isize(-7), -7);
    assert.equal(g.echo_usize(4294967295), 4294967295);
    assert.equal(g.echo_char('a'), 'a');
    assert.equal(g.echo_char('🌍'), '🌍');
  }
});

test('strings', () => {
  for (const s of ['', 'a', 'héllo', '世界', '🌍🌍', 'x'.repeat(100000), 'nul\0inside'])
    assert.equal(g.echo_string(s), s);
  assert.equal(g.str_len('héllo'), 6); // UTF-8 bytes
  assert.equal(g.say('world'), 'hello world');
  if (!rust) assert.equal(g.empty(), '');
});

test('byte arrays and typed arrays', () => {
  const types = [['i8', Int8Array], ['u8', Uint8Array], ['i16', Int16Array], ['u16', Uint16Array],
    ['i32', Int32Array], ['u32', Uint32Array], ['f32', Float32Array], ['f64', Float64Array],
    ['i64', BigInt64Array], ['u64', BigUint64Array]];
  for (const [elem, Array_] of types) {
    const f = rust ? g[`echo_vec_${elem}`] : g[`echo_${elem}s`];
    const big = Array_ === BigInt64Array || Array_ === BigUint64Array;
    const input = Array_.from([1, 2, 3, 100], (x) => (big ? BigInt(x) : x));
    const out = f(input);
    assert.ok(out instanceof Array_, `${elem}: ${out.constructor.name}`);
    assert.deepEqual([...out], [...input]);
    assert.deepEqual([...f(big ? [5n] : [5])], [big ? 5n : 5]); // plain arrays are accepted
    assert.equal(f(new Array_(0)).length, 0);
  }
  const bytes = rust ? g.echo_vec_u8 : g.echo_bytes;
  assert.deepEqual([...bytes(Buffer.from('abc'))], [97, 98, 99]);
  assert.deepEqual([...g.invert(new Uint8Array([0, 1, 255]))], [255, 254, 0]);
  assert.equal(g.sum_bytes(new Uint8Array([1, 2, 3])), 6n);
  assert.equal(g.sum_f64([0.5, 0.25]), 0.75);
  // A view into a larger buffer passes only its own bytes.
  const backing = new Uint8Array([9, 1, 2, 9]);
  assert.equal(g.sum_bytes(backing.subarray(1, 3)), 3n);
});

test('several parameters', () => {
  if (rust) assert.equal(g.mix(-1, 2.5, 'c', true, 2n ** 64n - 1n, 7), '-1 2.5 c true 18446744073709551615 Some(7)');
  else assert.equal(g.mix(-1, 2.5, 'c', true, 2n ** 64n - 1n, new Uint8Array(3)), '-1 2.5 c true 18446744073709551615 3');
  assert.equal(g.nothing(), undefined);
});

test('Rust: Option, Result, &mut slices, JsValue, Clamped', { skip: !rust }, () => {
  for (const t of ['i32', 'u32', 'f32', 'f64', 'u8', 'i16', 'bool', 'char', 'string', 'i64', 'u64']) {
    const f = g[`echo_opt_${t}`];
    assert.equal(f(null), undefined, t);
    assert.equal(f(undefined), undefined, t);
  }
  assert.equal(g.echo_opt_i32(-5), -5);
  assert.equal(g.echo_opt_u32(4294967295), 4294967295);
  assert.equal(g.echo_opt_i64(-(2n ** 63n)), -(2n ** 63n));
  assert.equal(g.echo_opt_u64(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(g.echo_opt_f64(0), 0);
  assert.equal(g.echo_opt_f32(1.5), 1.5);
  assert.equal(g.echo_opt_u8(0), 0);
  assert.equal(g.echo_opt_u8(255), 255);
  assert.equal(g.echo_opt_i16(-1), -1);
  assert.equal(g.echo_opt_bool(false), false);
  assert.equal(g.echo_opt_char('é'), 'é');
  assert.equal(g.echo_opt_string(''), '');
  assert.equal(g.echo_opt_string('x'), 'x');
  assert.equal(g.echo_opt_vec_u8(null), undefined);
  assert.deepEqual([...g.echo_opt_vec_u8([1, 2])], [1, 2]);
  assert.deepEqual([...g.echo_opt_vec_f64([1.5])], [1.5]);
  assert.equal(g.checked_div(7, 2), 3);
  assert.equal(g.parse_number(' 2.5 '), 2.5);
  assert.equal(g.greet_checked('a'), 'hi a');
  assert.equal(g.maybe_unit(false), undefined);
  const a = new Int32Array([1, 2, 3]);
  g.double_in_place(a);
  assert.deepEqual([...a], [2, 4, 6]);
  const plain = [1, -2];
  g.double_in_place(plain);
  assert.deepEqual(plain, [2, -4]);
  const object = { a: 1 };
  assert.equal(g.echo_js(object), object);
  assert.equal(g.echo_js(undefined), undefined);
  assert.equal(g.echo_js(null), null);
  const clamped = g.clamp_pixels(new Uint8ClampedArray([0, 255]));
  assert.ok(clamped instanceof Uint8ClampedArray);
});

test('errors: Err, panics, kiln_fail and traps are thrown; the instance stays usable', async () => {
  assert.throws(() => g.checked_div(1, 0), (e) => e instanceof Error && e.message === 'division by zero');
  await assert.rejects(g.checked_div.async(1, 0), { message: 'division by zero' });
  if (rust) {
    assert.throws(() => g.parse_number('x'), /not a number: invalid float literal/);
    assert.throws(() => g.greet_checked(''), { message: 'empty name' });
    assert.throws(() => g.maybe_unit(true), { message: 'failed' });
    assert.throws(() => g.panics('boom'), (e) => e instanceof Error && /panicked at 'boom'/.test(e.message));
    await assert.rejects(g.panics.async('async boom'), /panicked at 'async boom'/);
  }
  assert.throws(() => g.traps(), (e) => e instanceof kiln.RuntimeError && e.trap === 'unreachable');
  await assert.rejects(g.traps.async(), kiln.RuntimeError);
  assert.equal(g.say('again'), 'hello again');
});

test('C: failed calls give their C stack back (20,000 kiln_fail calls from a frame with a buffer)', { skip: rust }, () => {
  // kiln_fail and traps skip the epilogues that restore the stack pointer: without the
  // glue restoring it, the stack would run into the data below after about 200 of these.
  for (let i = 0; i < 20000; i++)
    assert.throws(() => g.fail_with_frame(i), { message: `failed with ${i}` });
  assert.equal(g.say('again'), 'hello again');
  assert.equal(g.checked_div(7, 2), 3);
});

test('wrong arguments are TypeErrors naming the function and the argument', () => {
  assert.throws(() => g.say(5), /say: argument 1 \(name: .*\) must be a string/);
  assert.throws(() => g.echo_i64(5), /echo_i64: argument 1 .* must be a BigInt/);
  assert.throws(() => g.echo_i32('5'), /must be a number/);
  assert.throws(() => g.echo_bool(1), /must be a boolean/);
  assert.throws(() => g.say(), /say takes 1 argument, 0 given/);
  assert.throws(() => g.sum_bytes({}), /must be a Uint8Array or an array/);
});

test('16 MiB buffers, sync and async', async () => {
  const size = 16 << 20;
  const input = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) input[i] = i & 0xff;
  input[size - 1] = 7;
  const out = g.invert(input);
  assert.equal(out.length, size);
  assert.equal(out[size - 1], 248);
  assert.equal(out[4096], 255 - (4096 & 0xff));
  let sum = 0n;
  for (let i = 0; i < size; i += 4096) sum += BigInt(input[i]);
  sum += 7n;
  assert.equal(g.sum_bytes(input), sum);
  assert.equal(await g.sum_bytes.async(input), sum);
  const text = 'é'.repeat(size / 2);
  assert.equal(g.str_len(text), size);
  const echoed = await g.echo_string.async(text);
  assert.equal(echoed.length, text.length);
  assert.equal(echoed, text);
});

test('concurrent async calls: queued per instance, parallel on a pool', async () => {
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => g.say.async(`n${i}`)));
  assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => `hello n${i}`));
  const pending = g.spin.async(1000);
  assert.throws(() => g.say('sync'), /async calls are pending/);
  await pending;
  assert.equal(g.say('sync'), 'hello sync');

  const pool = g.createPool({ size: 3 });
  try {
    assert.equal(pool.size, 3);
    const calls = Array.from({ length: 30 }, (_, i) => pool.say(`p${i}`));
    assert.deepEqual(await Promise.all(calls), Array.from({ length: 30 }, (_, i) => `hello p${i}`));
    const spins = await Promise.all(Array.from({ length: 6 }, () => pool.spin.async(2000000)));
    assert.equal(new Set(spins).size, 1);
    await assert.rejects(pool.checked_div(1, 0), { message: 'division by zero' });
    assert.equal(await pool.say('after'), 'hello after');
  } finally {
    await pool.close();
  }
  const own = g.instantiate();
  assert.equal(own.say('own'), 'hello own');
  own.close();
});

test('100,000 calls grow neither the guest heap nor the process', async () => {
  const memory = () => g.instance.memory.buffer.byteLength;
  for (let i = 0; i < 1000; i++) g.say(`warm ${i}`);
  const before = memory();
  const heapBefore = rust ? 0 : g.heap_top();
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const bytes = new Uint8Array(1000);
  for (let i = 0; i < 100000; i++) {
    assert.equal(g.say('x'), 'hello x');
    if (i % 10 === 0) g.invert(bytes);
  }
  for (let i = 0; i < 100; i++) await g.say.async('y');
  assert.equal(memory(), before, 'linear memory grew');
  if (!rust) assert.equal(g.heap_top(), heapBefore, 'the guest heap grew');
  global.gc?.();
  const grown = process.memoryUsage().rss - rssBefore;
  assert.ok(grown < 64 << 20, `RSS grew by ${grown} bytes`);
});
