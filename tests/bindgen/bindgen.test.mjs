// bindgen.test.mjs - the glue `kiln bindgen` writes, on the guests of tests/bindgen (Rust:
// rust/src/lib.rs, C: c/types.c) and the hello examples. run.sh builds them and runs this
// with KILN_BINDGEN_DIR (where the glue is) and KILN_BINDGEN_FLAVOR (rust or c).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
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

// kiln build writes NAME.cwasm beside NAME.wasm (when kiln has the compiled tier); the glue
// loads it, and falls back to the .wasm when it is unusable.
test('the precompiled module: loaded when it fits, the .wasm when it does not', () => {
  const base = rust ? 'hello' : 'hello-c';
  const hasCompiled = kiln.tiers.includes('compiled');
  assert.equal(fs.existsSync(path.join(dir, `${base}.cwasm`)), hasCompiled, 'kiln build writes it with the compiled tier');
  if (!hasCompiled) return;
  assert.equal(hello.module.stats().precompiled, true);
  assert.equal(hello.module.stats().nativeFunctions, hello.module.stats().functions);
  // an instance with a fuel limit gets the .wasm, whose code counts fuel
  const metered = hello.instantiate({ limits: { fuel: 1e9 } });
  assert.equal(metered.say('fuel'), 'hello fuel');
  // copies of the glue, with the .cwasm damaged, older than the .wasm, or KILN_TIER=interp
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cwasm-'));
  try {
    for (const ext of ['.js', '.wasm', '.cwasm']) fs.copyFileSync(path.join(dir, base + ext), path.join(tmp, base + ext));
    // in a project without the kiln package, the glue says what to do
    const missing = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(tmp, base + '.js'))})`],
      { encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /runs on the npm package kiln, which this project does not have: add it \(npm install kiln\)/);
    // and kiln bindgen says so when it writes glue where kiln cannot be found
    if (process.env.KILN_BIN) {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-glue-'));
      try {
        const r = spawnSync(process.env.KILN_BIN, ['bindgen', path.join(dir, `${base}.wasm`), '-o', out], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, /no node_modules\/kiln in .* or above it: the glue needs the npm package kiln/);
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    }
    fs.mkdirSync(path.join(tmp, 'node_modules'));
    fs.symlinkSync(path.dirname(path.dirname(require.resolve('kiln'))), path.join(tmp, 'node_modules', 'kiln'));
    const probe = (env) => {
      const script = `const g = require(${JSON.stringify(path.join(tmp, base + '.js'))});
        console.log(JSON.stringify([g.say('x'), g.module.stats().precompiled]));`;
      const r = spawnSync(process.execPath, ['-e', script], {
        encoding: 'utf8', env: { ...process.env, ...env },
      });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    assert.deepEqual(probe({}), ['hello x', true]);
    assert.deepEqual(probe({ KILN_TIER: 'interp' }), ['hello x', false]);
    const cwasm = path.join(tmp, `${base}.cwasm`);
    const bytes = fs.readFileSync(cwasm);
    bytes[bytes.length >> 1] ^= 0x5a;
    fs.writeFileSync(cwasm, bytes);
    assert.deepEqual(probe({}), ['hello x', false], 'a damaged .cwasm is refused (checksum)');
    // made for another target: the key's triple changed, the checksum made right again, so
    // that the key comparison refuses it (a CompileError, as for another CPU or kiln)
    const other = fs.readFileSync(path.join(dir, `${base}.cwasm`));
    const at = other.indexOf('-linux-gnu');
    assert.ok(at > 0, 'the key names the target triple');
    other[at + 1] = 'L'.charCodeAt(0);
    const sum = crypto.createHash('sha256').update(other.subarray(0, 24)).update(other.subarray(56)).digest();
    sum.copy(other, 24);
    fs.writeFileSync(cwasm, other);
    assert.throws(() => kiln.compile(cwasm), (e) => e instanceof kiln.CompileError &&
      /compiled for a different/.test(e.message));
    assert.deepEqual(probe({}), ['hello x', false], 'a .cwasm for another target is not used');
    fs.copyFileSync(path.join(dir, `${base}.cwasm`), cwasm);
    const later = new Date(Date.now() + 60000);
    fs.utimesSync(path.join(tmp, `${base}.wasm`), later, later);
    assert.deepEqual(probe({}), ['hello x', false], 'a .cwasm older than the .wasm is not used');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
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
    // the message, through the panic hook kiln build links in: the guest has no code for it
    assert.throws(() => g.panics('boom'), (e) => e instanceof kiln.RuntimeError && e.trap === 'unreachable' &&
      /^panics: Rust panicked at 'boom', src\/lib\.rs:\d+:\d+$/.test(e.message) && /boom/.test(e.panic));
    await assert.rejects(g.panics.async('async boom'), (e) => /^panics: Rust panicked at 'async boom'/.test(e.message));
    assert.equal(g.start_calls(), 1, '#[wasm_bindgen(start)] ran once on this instance');
  }
  assert.throws(() => g.traps(), (e) => e instanceof kiln.RuntimeError && e.trap === 'unreachable' &&
    /^traps: unreachable/.test(e.message) && !/kiln__export/.test(e.message));
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
  assert.throws(() => g.sum_bytes({}), /must be a Uint8Array \(or a Buffer, Uint8ClampedArray, DataView or ArrayBuffer\) or an array, got an object/);
  // C guests' messages spell guest.h's types, Rust guests' Rust's
  assert.throws(() => g.sum_bytes(5), rust ? /sum_bytes: argument 1 \(b: &\[u8\]\)/ : /sum_bytes: argument 1 \(b: bytes\)/);
  assert.throws(() => g.say(5), rust ? /\(name: &str\)/ : /\(name: string\)/);
  assert.throws(() => g.sum_f64(5), rust ? /\(v: &\[f64\]\)/ : /\(v: f64s\)/);
});

test('a guest out of memory because of limits.memory: MemoryLimitError stating the limit and the request', async () => {
  const MiB = 1 << 20;
  const small = g.instantiate({ limits: { memory: 4 * MiB } });
  try {
    const limited = (e) => e instanceof kiln.MemoryLimitError && e instanceof RangeError && e.limit === 4 * MiB &&
      e.requested > 4 * MiB && /over the instance's limit of 4\.0 MiB \(limits\.memory\)/.test(e.message);
    // the glue copying an argument in: the guest's allocator fails
    assert.throws(() => small.invert(new Uint8Array(8 * MiB)), limited);
    // the guest allocating during the call (Rust: the abort after a failed memory.grow; C:
    // kiln_fail("out of memory") from kiln_string_printf)
    assert.throws(() => small.say('x'.repeat(2.5 * MiB)), (e) => limited(e) && /and then failed: /.test(e.message));
    // the same through the async form
    await assert.rejects(small.say.async('y'.repeat(2.5 * MiB)), limited);
    // a call that fits still works, and a failure of another kind is not a MemoryLimitError
    assert.equal(small.say('ok'), 'hello ok');
    assert.throws(() => small.traps(), (e) => e instanceof kiln.RuntimeError && !(e instanceof kiln.MemoryLimitError));
  } finally {
    small.close();
  }
});

test('integers out of range, fractions and NaN are RangeErrors naming the parameter', () => {
  const bad = [['u32', -1], ['u32', 2 ** 32], ['u32', 2 ** 33], ['u32', NaN], ['u32', 1.5], ['i32', 2 ** 31], ['i32', -(2 ** 31) - 1],
    ['u8', 256], ['u8', -1], ['i8', 128], ['i16', -32769], ['u16', 65536], ['i32', Infinity]];
  for (const [type, v] of bad) {
    assert.throws(() => g[`echo_${type}`](v), (e) => e instanceof RangeError &&
      new RegExp(`echo_${type}: argument 1 \\(x: ${type}\\) must be an integer from -?\\d+ to \\d+, got ${String(v).replace('.', '\\.')}`).test(e.message),
      `${type} ${v}`);
  }
  assert.throws(() => g.echo_u64(-1n), (e) => e instanceof RangeError && /echo_u64: argument 1 \(x: u64\) must be a BigInt from 0 to 18446744073709551615, got -1n/.test(e.message));
  assert.throws(() => g.echo_u64(2n ** 64n), RangeError);
  assert.throws(() => g.echo_i64(2n ** 63n), RangeError);
  assert.equal(g.echo_u64(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(g.echo_i64(-(2n ** 63n)), -(2n ** 63n));
  assert.throws(() => g.echo_u32('5'), (e) => e instanceof TypeError && /must be a number, got the string "5"/.test(e.message));
  // the async forms check alike, as rejections
  return assert.rejects(g.echo_u32.async(-1), RangeError);
});

test('typed arrays must match the element type; plain arrays are converted element by element', () => {
  // the exact typed array, and for bytes any byte view, are copied as they are
  assert.equal(g.sum_f64(new Float64Array([1.5, 2.5])), 4);
  assert.equal(g.sum_bytes(new Uint8Array([1, 2, 3])), 6n);
  assert.equal(g.sum_bytes(Buffer.from([1, 2, 3])), 6n);
  assert.equal(g.sum_bytes(new Uint8ClampedArray([1, 2, 3])), 6n);
  assert.equal(g.sum_bytes(new DataView(new Uint8Array([4, 5]).buffer)), 9n);
  assert.equal(g.sum_bytes(new Uint8Array([9, 1, 2, 3]).subarray(1)), 6n, 'a view copies its own range');
  // another element type is refused, not reinterpreted nor converted
  assert.throws(() => g.sum_bytes(new Uint16Array([1, 2])), (e) => e instanceof TypeError &&
    /got a Uint16Array: its elements are of another type; convert it first \(Uint8Array\.from\(value\)\)/.test(e.message));
  assert.throws(() => g.sum_f64(new Float32Array([1, 2])), /must be a Float64Array or an array, got a Float32Array.*Float64Array\.from/);
  // plain arrays: each element checked like an argument of the element type
  assert.equal(g.sum_f64([1, 2, 3.5]), 6.5);
  assert.equal(g.sum_bytes([1, 2, 255]), 258n);
  assert.throws(() => g.sum_bytes([1, 256]), (e) => e instanceof RangeError && /argument 1 \(b: .*\)\[1\] must be an integer from 0 to 255, got 256/.test(e.message));
  assert.throws(() => g.sum_f64([1, '2']), /\[1\] must be a number, got the string "2"/);
});

test('.async(...args, { signal, timeoutMs })', async () => {
  // timeoutMs stops a long call and says so; the function works after it
  await assert.rejects(g.spin.async(4000000000, { timeoutMs: 30 }), (e) => e instanceof kiln.TimeoutError && /timed out after 30 ms/.test(e.message));
  assert.equal(await g.echo_u32.async(7, {}), 7);
  // a signal aborts a running call
  const controller = new AbortController();
  const running = g.spin.async(4000000000, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('stop')), 20);
  await assert.rejects(running, /stop/);
  // and an already aborted one never starts
  await assert.rejects(g.say.async('x', { signal: AbortSignal.abort(new Error('before')) }), /before/);
  // a call waiting for its turn on an instance is rejected at once when aborted
  const own = g.instantiate();
  try {
    const first = own.spin.async(300000000);
    const waiting = new AbortController();
    const second = own.say.async('late', { signal: waiting.signal });
    waiting.abort(new Error('gave up waiting'));
    await assert.rejects(second, /gave up waiting/);
    await first;
    assert.equal(await own.say.async('next'), 'hello next');
  } finally {
    own.close();
  }
  // options are checked
  await assert.rejects(g.say.async('x', { timeout: 5 }), /say\.async: unknown option 'timeout' \(the options are signal and timeoutMs\)/);
  await assert.rejects(g.say.async('x', { timeoutMs: -1 }), /options\.timeoutMs must be a non-negative number/);
  // on a pool too
  const pool = g.createPool({ size: 1 });
  try {
    await assert.rejects(pool.spin(4000000000, { timeoutMs: 30 }), kiln.TimeoutError);
    assert.equal(await pool.say('pool', { timeoutMs: 5000 }), 'hello pool');
  } finally {
    await pool.close();
  }
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
  // the module's functions run async calls on instances of their own: a synchronous call
  // meanwhile runs at once on the module's instance
  const pending = g.spin.async(100000000);
  assert.equal(g.say('sync'), 'hello sync');
  await pending;
  // an instance of one's own queues its async calls, and a sync call meanwhile is refused
  const mine = g.instantiate();
  const queued = mine.spin.async(100000000);
  assert.throws(() => mine.say('sync'), /async calls are pending/);
  await queued;
  assert.equal(mine.say('sync'), 'hello sync');
  mine.close();

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

// ------------------------------------------------------------------ exported Rust structs

test('Rust structs: constructor, methods, getters, setters, pub fields, statics', { skip: !rust }, () => {
  const { Counter, Token } = g;
  const c = new Counter('apples');
  assert.ok(c instanceof Counter);
  assert.equal(c.constructor, Counter);
  assert.equal(c.n, 0);
  assert.equal(c.add(2), 2);
  assert.equal(c.add(0), 3); // step, a pub field, is 1
  assert.equal(c.label(), 'apples');
  assert.equal(c.upperLabel, 'APPLES'); // #[wasm_bindgen(getter = upperLabel)]
  c.n = 10; // #[wasm_bindgen(setter)] set_n
  assert.equal(c.n, 10);
  c.step = 5; // pub field: __wbg_set_counter_step
  assert.equal(c.step, 5);
  assert.equal(c.add(0), 15);
  assert.deepEqual([...c.history()], [2, 3, 15]);
  c.rename('pears');
  assert.equal(c.label(), 'pears');
  assert.equal(c.tag, ''); // getter_with_clone String field
  c.tag = 'héllo 🌍';
  assert.equal(c.tag, 'héllo 🌍');
  assert.equal(typeof c.serial, 'number');
  assert.throws(() => { c.serial = 1; }, TypeError); // readonly field: a getter only
  assert.equal(c.add, c.add, 'a method is bound once per object');
  assert.equal(c.check(100), 15);
  assert.throws(() => c.check(1), { message: 'over the limit' });
  // Statics, Result<Counter, JsValue>, methods and functions returning objects.
  const zero = Counter.zero();
  assert.ok(zero instanceof Counter);
  assert.equal(zero.label(), 'zero');
  assert.equal(Counter.parse('42').n, 42);
  assert.throws(() => Counter.parse('x'), /bad count: invalid digit/);
  const fork = c.fork('fork');
  assert.equal(fork.n, 15);
  assert.equal(fork.label(), 'fork');
  assert.equal(g.make_counter('made').label(), 'made');
  assert.equal(g.maybe_counter(false), undefined);
  assert.equal(g.maybe_counter(true).label(), 'maybe');
  const asJs = g.counter_as_js('js'); // JsValue::from(Counter)
  assert.ok(asJs instanceof Counter);
  assert.equal(asJs.label(), 'js');
  asJs.free();
  // A struct without a constructor.
  assert.throws(() => new Token(), /Token has no #\[wasm_bindgen\(constructor\)\]/);
  const token = g.make_token(7);
  assert.ok(token instanceof Token);
  assert.equal(token.id, 7);
  token.id = 8;
  assert.equal(token.id, 8);
  // A subclass of a class gets its objects from the constructor.
  class Named extends Counter { hello() { return `hi ${this.label()}`; } }
  const named = new Named('sub');
  assert.ok(named instanceof Named && named instanceof Counter);
  assert.equal(named.hello(), 'hi sub');
  for (const object of [c, zero, fork, token, named]) object.free();
});

test('Rust structs: borrows, moves, use after free, free() twice', { skip: !rust }, () => {
  const { Counter } = g;
  const a = new Counter('a'), b = new Counter('b');
  a.add(5);
  b.add(7);
  a.merge(b); // &Counter: borrowed, still usable
  assert.equal(a.n, 12);
  assert.equal(b.n, 7);
  assert.equal(g.total(b), 7);
  assert.equal(g.sum_counters(b, b), 14); // two shared borrows of one object
  assert.equal(g.bump(b), 8); // &mut Counter
  // By value: moved into Rust, the JS object is empty afterwards.
  assert.equal(a.absorb(b), 20);
  assert.throws(() => b.add(1), { message: 'Counter.add: this Counter was moved into Counter.absorb' });
  assert.throws(() => g.total(b), /total: argument 1 .*: this Counter was moved into Counter.absorb/);
  assert.throws(() => b.n, /this Counter was moved/);
  b.free(); // nothing left to free: harmless
  assert.equal(g.take_counter(null), -1);
  const c = new Counter('c');
  c.add(3);
  assert.equal(g.take_counter(c), 3); // Option<Counter>: moved
  assert.throws(() => c.label(), /moved into take_counter/);
  // self by value.
  assert.equal(a.into_total(), 20);
  assert.throws(() => a.add(1), { message: 'Counter.add: this Counter was moved into Counter.into_total' });
  // free(), then use: a clear error, not a trap.
  const d = new Counter('d');
  d.free();
  d.free();
  assert.throws(() => d.add(1), { message: 'Counter.add: this Counter was freed (free() was called)' });
  assert.throws(() => d.n, /Counter\.n: this Counter was freed/);
  assert.throws(() => { d.n = 1; }, /Counter\.n: this Counter was freed/);
  assert.throws(() => new Counter('e').merge(d), /merge: argument 1 .*freed/);
  if (typeof Symbol.dispose === 'symbol') {
    const e = new Counter('e');
    e[Symbol.dispose]();
    assert.throws(() => e.add(1), /freed/);
  }
  // A failed argument after a moved one gives the move back.
  const f = new Counter('f');
  assert.throws(() => f.absorb(f), /passed twice in one call/);
  const h = new Counter('h');
  assert.throws(() => h.absorb(5), /argument 1 .* must be a Counter object/);
  assert.equal(h.add(1), 1);
  // Aliasing that Rust would refuse (and leave the object borrowed) is refused first.
  assert.throws(() => f.merge(f), /Counter\.merge: argument 1 .*this Counter is passed twice in one call/);
  assert.equal(f.add(2), 2, 'f is still usable');
  assert.throws(() => g.total(g.make_token(1)), /total: argument 1 \(c: &Counter\) must be a Counter object/);
  assert.throws(() => g.total({}), /must be a Counter object/);
  assert.throws(() => f.add(), /Counter\.add takes 1 argument, 0 given/);
  for (const object of [f, h]) object.free();
  // A panic in a method skips the destructor that ends its borrow of `this` (as with
  // wasm-bindgen): later uses are Errors from Rust's borrow check, not traps. (On an
  // instance of its own: Rust aborts at the third panic that never finished.)
  const own = g.instantiate();
  try {
    const broken = new own.Counter('broken');
    assert.throws(() => broken.explode(), /panicked at 'exploded'/);
    assert.throws(() => broken.add(1), /recursive use of an object detected/);
    assert.throws(() => broken.free(), /Counter\.free: Rust did not drop the value .*(recursive use|while it was borrowed)/);
    assert.throws(() => broken.add(1), /freed/);
    assert.equal(own.say('still'), 'hello still');
  } finally {
    own.close();
  }
});

test('Rust structs: objects stay in the instance that made them', { skip: !rust }, async () => {
  const own = g.instantiate();
  try {
    const mine = new own.Counter('own');
    assert.ok(mine instanceof own.Counter && mine instanceof g.Counter);
    assert.notEqual(own.Counter, g.Counter);
    assert.equal(mine.add(3), 3);
    assert.equal(own.total(mine), 3);
    assert.ok(own.Counter.zero() instanceof own.Counter);
    assert.throws(() => g.total(mine), /total: argument 1 .*: this Counter belongs to another instance of the module/);
    assert.throws(() => new g.Counter('x').merge(mine), /belongs to another instance/);
    assert.equal(own.live_counters(), 2);
  } finally {
    own.close();
  }
  const left = own.Counter; // a class of a closed instance
  assert.throws(() => new left('late'), /new Counter: the instance was closed/);

  const pool = g.createPool({ size: 3 });
  try {
    const made = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.make_counter(`p${i}`)));
    for (const [i, counter] of made.entries()) counter.add(i + 1);
    // Each call runs on the instance that made its argument, whichever is idle.
    const totals = await Promise.all(made.map((counter) => pool.total(counter)));
    assert.deepEqual(totals, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(await Promise.all(made.map((counter) => pool.take_counter(counter))), [1, 2, 3, 4, 5, 6]);
    assert.throws(() => made[0].add(1), /moved into take_counter/);
    await assert.rejects(pool.total(new g.Counter('outside')), /belongs to an instance outside this pool/);
  } finally {
    await pool.close();
  }
});

test('Rust structs: .async methods and statics queue on their instance', { skip: !rust }, async () => {
  const { Counter } = g;
  const c = new Counter('async');
  const adds = await Promise.all([1, 2, 3].map((k) => c.add.async(k)));
  assert.deepEqual(adds, [1, 3, 6]);
  const zero = await Counter.zero.async();
  assert.ok(zero instanceof Counter);
  assert.equal(await zero.label.async(), 'zero');
  await assert.rejects(c.check.async(0), { message: 'over the limit' });
  const spinning = c.spin.async(3000000);
  assert.throws(() => c.add(1), /Counter\.add: async calls are pending/);
  // free() while async calls that use the object are queued: it is freed after them.
  const last = c.add.async(4);
  c.free();
  assert.equal(typeof (await spinning), 'number');
  assert.equal(await last, 10);
  await assert.rejects(c.add.async(1), /freed/);
  const live = g.live_counters;
  zero.free();
  // the module's functions run async calls on instances of their own, whose state is theirs
  assert.equal(await live.async(), 0);
  assert.ok(live() > 0);
  // A moved-then-failed async call gives the object back.
  const d = new Counter('d');
  await assert.rejects(d.absorb.async(d), /passed twice/);
  assert.equal(await d.into_total.async(), 0);
  assert.throws(() => d.add(1), /moved into Counter.into_total/);
});

test('Rust structs: 100,000 objects made and freed leave the guest heap as it was', { skip: !rust }, () => {
  const { Counter } = g;
  const memory = () => g.instance.memory.buffer.byteLength;
  for (let i = 0; i < 1000; i++) new Counter('warm').free();
  const before = memory();
  const live = g.live_counters();
  for (let i = 0; i < 100000; i++) {
    const c = new Counter('x');
    c.add(i + 1);
    if (i % 3 === 0) assert.equal(c.into_total(), i + 1);
    else if (i % 3 === 1) assert.equal(g.take_counter(c), i + 1);
    else c.free();
  }
  for (let i = 0; i < 1000; i++) {
    const made = g.make_counter('y');
    made.fork('z').free();
    made.free();
  }
  assert.equal(memory(), before, 'linear memory grew');
  assert.equal(g.live_counters(), live, 'Counters left alive in the guest');
});

test('Rust structs: a forgotten object is freed when it is garbage-collected', { skip: !rust }, async (t) => {
  if (!global.gc) {
    t.skip('needs node --expose-gc');
    return;
  }
  const settle = async () => {
    for (let i = 0; i < 50 && g.live_counters() > 0; i++) {
      global.gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await settle();
  const base = g.live_counters();
  (() => {
    for (let i = 0; i < 2000; i++) new g.Counter(`forgotten ${i}`).add(i);
  })();
  assert.ok(g.live_counters() >= base + 2000);
  await settle();
  assert.ok(g.live_counters() <= base, `${g.live_counters() - base} of 2000 forgotten Counters still alive`);
});

test('Rust structs: the ES module exports the classes', { skip: !rust }, async () => {
  const esm = await import(path.join(dir, 'kiln_bindgen_types.mjs'));
  assert.equal(esm.Counter, g.Counter);
  assert.equal(esm.default.Token, g.Token);
  const c = new esm.Counter('esm');
  assert.equal(esm.total(c), 0);
  c.free();
});

test('Rust for wasm32-wasi (kiln build --wasi): numbers bind, WASI output and granted files work', { skip: !rust }, async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const glue = path.join(dir, 'kiln_bindgen_wasi.js');
  const w = require(glue);
  assert.deepEqual(Object.keys(w).filter((k) => typeof w[k] === 'function' && !['instantiate', 'createPool', 'close'].includes(k)).sort(),
    ['add', 'byte_sum', 'count_entries', 'write_note'], 'greet is left out');
  // println! reaches the process's stdout through WASI (the glue turns WASI on by default).
  const out = execFileSync(process.execPath, ['-e', `const w = require(${JSON.stringify(glue)}); process.stderr.write(String(w.add(2, 40)))`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(out, 'add(2, 40) from a wasm32-wasi guest\n');
  // No directory granted: the guest sees none.
  assert.equal(w.count_entries(), -1);
  assert.equal(w.byte_sum(), -1);
  const data = mkdtempSync(path.join(tmpdir(), 'kiln-wasi-rust-'));
  try {
    writeFileSync(path.join(data, 'input.bin'), Buffer.from([1, 2, 3, 250]));
    writeFileSync(path.join(data, 'other.txt'), 'x');
    const granted = w.instantiate({ wasi: { preopens: { '/data': data } } });
    assert.equal(granted.count_entries(), 2);
    assert.equal(granted.byte_sum(), 256);
    assert.equal(granted.write_note(7), true);
    assert.equal(readFileSync(path.join(data, 'out.txt'), 'utf8'), 'note 7\n');
    assert.equal(await granted.byte_sum.async(), 256);
    granted.close();
    const readonly = w.instantiate({ wasi: { readonlyPreopens: { '/data': data } } });
    assert.equal(readonly.byte_sum(), 256);
    assert.equal(readonly.write_note(8), false);
    assert.equal(readFileSync(path.join(data, 'out.txt'), 'utf8'), 'note 7\n');
    readonly.close();
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
