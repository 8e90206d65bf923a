// api.test.mjs - the synchronous API: loading the package both ways, compiling, instances
// and their exports, values of every type, memory and its helpers, errors and TypeErrors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import kiln, { compile, instantiate, CompileError, LinkError, RuntimeError } from 'kiln';
import { wasm } from './helpers.mjs';

const require = createRequire(import.meta.url);
const basicPath = wasm('basic.wat');
const basic = compile(basicPath);

test('require and import give the same package', () => {
  const cjs = require('kiln');
  assert.equal(cjs, kiln);
  assert.equal(cjs.compile, compile);
  assert.match(kiln.version, /^\d+\.\d+/);
});

test('compile from a path, a file URL, a Buffer, an ArrayBuffer and a typed array', () => {
  const bytes = readFileSync(basicPath);
  for (const source of [basicPath, pathToFileURL(basicPath), bytes, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), new Uint8Array(bytes)]) {
    const m = compile(source);
    assert.ok(m instanceof kiln.Module);
    assert.equal(instantiate(m).exports.add(2, 40), 42);
  }
  assert.equal(kiln.validate(bytes), true);
  assert.equal(kiln.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1])), false);
});

test('a module that is not valid is a CompileError saying what and where', () => {
  assert.throws(() => compile(new Uint8Array([1, 2, 3, 4])), (e) => e instanceof CompileError && e instanceof WebAssembly.CompileError && /magic|header|wasm/i.test(e.message));
  // (func (result i32) f64.const 0): a type mismatch in the code section
  const bad = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 10, 13, 1, 11, 0, 68, 0, 0, 0, 0, 0, 0, 0, 0, 11]);
  assert.throws(() => compile(bad), (e) => e instanceof CompileError && /type|mismatch/i.test(e.message));
  assert.throws(() => compile('/nonexistent/x.wasm'), /cannot read \/nonexistent\/x.wasm/);
});

test('module imports, exports and custom sections, static and on the module', () => {
  const exports = kiln.Module.exports(basic);
  const add = exports.find((e) => e.name === 'add');
  assert.deepEqual(add, { name: 'add', kind: 'function', type: { params: ['i32', 'i32'], results: ['i32'] } });
  assert.deepEqual(exports.find((e) => e.name === 'memory').kind, 'memory');
  assert.deepEqual(exports.find((e) => e.name === 'counter').type, { value: 'i32', mutable: true });
  assert.deepEqual(kiln.Module.imports(basic), []);
  const host = compile(wasm('host.wat'));
  assert.deepEqual(host.imports()[0], { module: 'env', name: 'add', kind: 'function', type: { params: ['i32', 'i32'], results: ['i32'] } });
  const names = kiln.Module.customSections(basic, 'name');
  assert.equal(names.length, 1);
  assert.ok(names[0] instanceof ArrayBuffer && names[0].byteLength > 0);
  assert.deepEqual(kiln.Module.customSections(basic, 'nothing'), []);
});

test('values follow the WebAssembly JS API: Number, BigInt for i64, arrays for several results', () => {
  const { exports } = instantiate(basic);
  assert.equal(exports.add(0x7fffffff, 1), -0x80000000);
  assert.equal(exports.add64(2n ** 63n - 1n, 1n), -(2n ** 63n));
  assert.equal(exports.mulf32(1.5, 1.1), Math.fround(1.5 * Math.fround(1.1)));
  assert.equal(exports.divf64(1, 3), 1 / 3);
  assert.ok(Number.isNaN(exports.divf64(0, 0)));
  assert.deepEqual(exports.swap(7, 9n), [9n, 7]);
  const object = { any: 'thing' };
  assert.equal(exports.identity(object), object);
  assert.equal(exports.identity(null), null);
  assert.equal(exports.answer.value, 42n);
  assert.equal(exports.bump(), 1);
  assert.equal(exports.counter.value, 1);
  exports.counter.value = 10;
  assert.equal(exports.bump(), 11);
  assert.equal(exports.table.length, 2);
  assert.equal(exports.table.get(0)(20, 22), 42);
  assert.equal(exports.table.get(1), null);
});

test('call(name, ...args) and exports give the same functions', () => {
  const instance = instantiate(basic);
  assert.equal(instance.call('add', 1, 2), 3);
  assert.throws(() => instance.call('nope'), { name: 'TypeError', message: /name "nope" is not an exported function \(exported: add,/ });
});

test('memory: buffer without a copy, replaced after growth, detached old views', () => {
  const instance = instantiate(basic);
  const { memory } = instance;
  assert.equal(memory, instance.exports.memory);
  const before = memory.buffer;
  assert.equal(before.byteLength, 65536);
  new DataView(before).setInt32(100, 123456, true);
  assert.equal(instance.exports.load(100), 123456);
  const view = new Uint8Array(before);
  assert.equal(instance.exports.grow(2), 1);
  assert.equal(before.byteLength, 0, 'the old buffer is detached after growth');
  assert.equal(view.length, 0);
  assert.equal(memory.buffer.byteLength, 3 * 65536);
  assert.equal(new DataView(memory.buffer).getInt32(100, true), 123456);
  assert.equal(memory.grow(1), 3);
  assert.equal(instance.exports.pages(), 4);
});

test('memory helpers read and write strings and bytes', () => {
  const instance = instantiate(basic);
  assert.equal(instance.readString(16), 'hello, kiln');
  assert.equal(instance.readString(16, 5), 'hello');
  const n = instance.writeString(1000, 'héllo ✓');
  assert.equal(n, Buffer.byteLength('héllo ✓'));
  assert.equal(instance.readString(1000, n), 'héllo ✓');
  assert.equal(instance.exports.sum(1000, n), [...Buffer.from('héllo ✓')].reduce((a, b) => a + b, 0));
  assert.equal(instance.writeBytes(2000, new Uint8Array([1, 2, 3, 250])), 4);
  assert.deepEqual([...instance.readBytes(2000, 4)], [1, 2, 3, 250]);
  assert.equal(instance.exports.sum(2000, 4), 256);
  const copy = instance.readBytes(2000, 4);
  copy[0] = 99;
  assert.equal(instance.readBytes(2000, 1)[0], 1, 'readBytes copies');
  assert.equal(instance.memory.writeString(0, 'x'), 1);
  assert.throws(() => instance.readBytes(65530, 10), { name: 'RangeError', message: /outside linear memory/ });
  assert.throws(() => instance.writeString(-1, 'x'), { name: 'TypeError', message: /offset must be a non-negative integer/ });
});

test('imports: a missing or wrong import is a LinkError naming it', () => {
  const host = compile(wasm('host.wat'));
  assert.throws(() => instantiate(host), (e) => e instanceof LinkError && /env/.test(e.message) && /add/.test(e.message));
  assert.throws(
    () => instantiate(host, { imports: { env: { add: 1, log() {}, fail() {}, big: (x) => x, base: 0 } } }),
    (e) => e instanceof LinkError && /env\.add/.test(e.message),
  );
});

test('a trap is a RuntimeError with the wasm backtrace by name', () => {
  const { exports } = instantiate(basic);
  let error;
  try {
    exports.trap(1);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof RuntimeError);
  assert.ok(error instanceof WebAssembly.RuntimeError);
  assert.equal(error.trap, 'unreachable');
  assert.deepEqual(error.wasmStack.map((f) => f.name), ['inner', 'middle', 'trap']);
  assert.ok(error.wasmStack.every((f) => Number.isInteger(f.index) && Number.isInteger(f.offset)));
  assert.match(error.stack, /RuntimeError: .*\n {4}at inner \(wasm-function\[\d+\]:0x[0-9a-f]+\)\n {4}at middle/);
  assert.throws(() => exports.div(1, 0), (e) => e instanceof RuntimeError && /divi/.test(e.trap));
});

test('wrong arguments from JavaScript are TypeErrors naming the argument', () => {
  const instance = instantiate(basic);
  const { exports } = instance;
  const cases = [
    [() => exports.add('x', 1), /add: argument 1 \(i32\) must be a number/],
    [() => exports.add(1), /add expects 2 arguments, got 1/],
    [() => exports.add(1, 2, 3), /add expects 2 arguments, got 3/],
    [() => exports.add(), /add expects 2 arguments, got 0/],
    [() => exports.add64(1, 2n), /argument 1 \(i64\) must be a BigInt/],
    [() => exports.add(1n, 2), /argument 1 \(i32\) must be a Number, not a BigInt/],
    [() => compile(42), /kiln.compile\(bytesOrPath\): bytesOrPath must be .*got a number \(42\)/],
    [() => instantiate(basic, 5), /options must be an object, got a number/],
    [() => instantiate(basic, { limit: {} }), /options.limit is not an option/],
    [() => instantiate(basic, { limits: { memory: -1 } }), /options.limits.memory must be a non-negative integer, got a number \(-1\)/],
    [() => instantiate(basic, { limits: { timeoutMs: 'soon' } }), /options.limits.timeoutMs must be a non-negative number, got a string/],
    [() => instantiate(basic, { limits: { fuel: 1.5 } }), /options.limits.fuel must be a non-negative integer/],
    [() => instantiate(basic, { imports: { env: 3 } }), /options.imports\["env"\] must be an object/],
    [() => instantiate(basic, { wasi: { args: 'a b' } }), /options.wasi.args must be an array of strings/],
    [() => instantiate(basic, { wasi: { args: ['a', 1] } }), /options.wasi.args\[1\] must be a string/],
    [() => instantiate(basic, { wasi: { env: { A: 1 } } }), /options.wasi.env\["A"\] must be a string/],
    [() => instantiate(basic, { wasi: { stdout: 'out.txt' } }), /options.wasi.stdout must be a file descriptor/],
    [() => instantiate(42), /module must be a kiln Module .*got a number/],
    [() => new kiln.Instance({}, {}), /module must be a kiln Module/],
    [() => new kiln.Pool(basic, { size: 0 }), /options.size must be a positive integer/],
    [() => instance.call(5), /name must be a string/],
    [() => instance.readString('a'), /offset must be a non-negative integer/],
    [() => instance.writeString(0, 5), /string must be a string/],
    [() => kiln.validate('bytes'), /kiln.validate\(bytes\): bytes must be/],
    [() => instance.setFuel(-1), /fuel must be a non-negative integer/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, { name: 'TypeError', message }, String(fn));
});

test('functions of any arity: called with as many arguments, fewer or more, sync and async', async () => {
  const bytes = readFileSync(wasm('params.wat'));
  const { sum6 } = instantiate(compile(bytes)).exports;
  assert.equal(sum6.length, 6);
  assert.equal(sum6(1, 2, 3, 4, 5, 6), 21);
  assert.equal(await sum6.async(1, 2, 3, 4, 5, 6), 21);
  assert.throws(() => sum6(1, 2), { name: 'TypeError', message: /sum6 expects 6 arguments, got 2/ });
  assert.throws(() => sum6(1, 2, 3, 4, 5, 6, 7), { name: 'TypeError', message: /got 7/ });
  // the standard's: missing arguments are undefined (0), extra ones ignored
  const standard = new kiln.WebAssembly.Instance(new kiln.WebAssembly.Module(bytes), {}).exports.sum6;
  assert.equal(standard.length, 6);
  assert.equal(standard(1, 2), 3);
  assert.equal(standard(1, 2, 3, 4, 5, 6, 100), 21);
  const { add } = new kiln.WebAssembly.Instance(new kiln.WebAssembly.Module(readFileSync(wasm('basic.wat'))), {}).exports;
  assert.equal(add(5), 5);
  assert.equal(add(5, 6, 7), 11);
});

test('async arguments are checked too: the Promise rejects with a TypeError', async () => {
  const instance = instantiate(basic);
  await assert.rejects(instance.callAsync('add', 1), { name: 'TypeError', message: /args must be an array/ });
  await assert.rejects(instance.callAsync('add', [1, 2], { signal: {} }), { name: 'TypeError', message: /options.signal must be an AbortSignal/ });
  await assert.rejects(instance.callAsync('add', [1, 2], { timeoutMs: -5 }), { name: 'TypeError', message: /options.timeoutMs must be a non-negative number/ });
  await assert.rejects(instance.callAsync('missing', []), { name: 'TypeError', message: /name "missing" is not an exported function/ });
  // f.async checks its arguments before it queues: a TypeError thrown or a rejection.
  await assert.rejects(async () => instance.exports.add.async('a', 2), { name: 'TypeError', message: /argument 1/ });
});

test('close() frees the instance now: memory views detach, later calls throw', () => {
  const instance = instantiate(basic);
  const buffer = instance.memory.buffer;
  const add = instance.exports.add;
  instance.close();
  assert.equal(buffer.byteLength, 0);
  assert.throws(() => add(1, 2), /closed/);
  instance.close(); // twice is fine
  const m = compile(basicPath);
  const survivor = instantiate(m);
  m.close();
  assert.equal(survivor.exports.add(1, 1), 2, 'instances keep what they need of a closed module');
  assert.throws(() => instantiate(m), /closed/);
});

test('fuel: a budget stops a long computation with trap "out of fuel"', () => {
  const instance = instantiate(basicPath, { limits: { fuel: 1000 } }); // counts fuel in either tier
  assert.equal(instance.fuel, 1000);
  assert.throws(() => instance.exports.burn(100_000_000), (e) => e instanceof RuntimeError && e.trap === 'out of fuel');
  instance.setFuel(Infinity);
  assert.equal(instance.fuel, Infinity);
  assert.equal(typeof instance.exports.burn(1000), 'number');
});

test('exported functions are made as before when the program has replaced Object.defineProperty or polluted Object.prototype', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `
    const kiln = require('kiln');
    const define = Object.defineProperty;
    Object.defineProperty = () => { throw new Error('replaced'); };
    define(Object.prototype, 'get', { value: () => 1, configurable: true });
    const { add } = kiln.instantiate(kiln.compile(require('node:fs').readFileSync(${JSON.stringify(wasm('basic.wat'))}))).exports;
    console.log(add(2, 3), add.name, add.length, typeof add.async);
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '5 add 2 function\n');
});
