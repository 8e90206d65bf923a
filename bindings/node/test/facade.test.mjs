// facade.test.mjs - kiln.WebAssembly against the standard JS API, and generated-style
// loaders running on it unchanged: a wasm-bindgen `--target nodejs` loader
// (fixtures/bindgen_glue.js over fixtures/bindgen.c) and an emscripten-style async one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { copyFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import kiln from 'kiln';
import { copyFixture, wasm } from './helpers.mjs';

const K = kiln.WebAssembly;
const require = createRequire(import.meta.url);
const basicBytes = readFileSync(wasm('basic.wat'));

test('the facade has the standard names', () => {
  for (const name of ['Module', 'Instance', 'Memory', 'Table', 'Global', 'CompileError', 'LinkError', 'RuntimeError']) {
    assert.equal(typeof K[name], 'function', name);
  }
  for (const name of ['validate', 'compile', 'instantiate', 'compileStreaming', 'instantiateStreaming']) {
    assert.equal(typeof K[name], 'function', name);
  }
  assert.equal(K.RuntimeError, kiln.RuntimeError);
  assert.equal(Object.prototype.toString.call(K), '[object WebAssembly]');
});

// Issue 15's differences from V8, each checked against V8 on the same module.
test('shapes and conversions as the standard: exports, functions, imports, tables, memories', () => {
  const ours = new K.Instance(new K.Module(basicBytes), {});
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(basicBytes), {});
  // exports: frozen, with a null prototype
  assert.equal(Object.getPrototypeOf(ours.exports), null);
  assert.ok(Object.isFrozen(ours.exports));
  // an exported function: its length the parameter count, its name the function index
  assert.equal(ours.exports.add.length, v8.exports.add.length);
  assert.equal(ours.exports.add.name, v8.exports.add.name);
  assert.throws(() => new ours.exports.add(1, 2), TypeError);
  assert.throws(() => new v8.exports.add(1, 2), TypeError);
  // i64 arguments through ToBigInt64: strings parse
  assert.equal(ours.exports.add64('12', 1n), v8.exports.add64('12', 1n));
  assert.throws(() => ours.exports.add64('x', 1n), SyntaxError);
  // importObject[module] missing: TypeError; present without the field: LinkError
  const host = readFileSync(wasm('host.wat'));
  assert.throws(() => new K.Instance(new K.Module(host), {}), TypeError);
  assert.throws(() => new WebAssembly.Instance(new WebAssembly.Module(host), {}), TypeError);
  assert.throws(() => new K.Instance(new K.Module(host), { env: {} }), K.LinkError);
  // Memory, Table, Module and Global need new; toStringTag
  for (const name of ['Module', 'Memory', 'Table', 'Global']) {
    assert.throws(() => K[name]({}), TypeError, name);
    assert.equal(K[name].prototype[Symbol.toStringTag], `WebAssembly.${name}`);
  }
  // table indexes: [EnforceRange] first (TypeError), then the length (RangeError)
  const table = new K.Table({ element: 'anyfunc', initial: 1 });
  assert.throws(() => table.get(-1), TypeError);
  assert.throws(() => table.get(2 ** 32), TypeError);
  assert.throws(() => table.get(1), RangeError);
  assert.equal(table.get('0'), null);
  // Memory.grow(0) detaches the old buffer, as V8 does
  for (const memory of [new K.Memory({ initial: 1 }), new WebAssembly.Memory({ initial: 1 })]) {
    const before = memory.buffer;
    assert.equal(memory.grow(0), 1);
    assert.equal(before.byteLength, 0, 'detached');
    assert.equal(memory.buffer.byteLength, 65536);
  }
  // Global: mutable read as a truth value; i64 from strings
  const global = new K.Global({ value: 'i64', mutable: 1 }, '7');
  assert.equal(global.value, 7n);
  global.value = 8n;
  assert.equal(global.valueOf(), 8n);
  assert.equal(new K.Global({ value: 'externref' }).value, undefined);
  // one object per function, memory, table and global: re-exported or read back, the same
  const js = { mem: new K.Memory({ initial: 1 }), g: new K.Global({ value: 'i32', mutable: true }, 0), tbl: new K.Table({ element: 'anyfunc', initial: 2 }) };
  const linked = new K.Instance(new K.Module(readFileSync(wasm('imports.wat'))), { js });
  linked.exports.setSlot(0); // puts the exported function peek in the imported table
  assert.equal(js.tbl.get(0), linked.exports.peek);
  assert.equal(js.tbl.get(0), js.tbl.get(0));
  // a function of another instance in a table, a global and as a grow value: it works and
  // reads back as itself (kiln calls it through JavaScript: stores do not share functions)
  const other = new K.Instance(new K.Module(basicBytes), {});
  js.tbl.set(1, other.exports.add);
  assert.equal(js.tbl.get(1), other.exports.add);
  assert.equal(js.tbl.get(1)(2, 3), 5);
  const seeded = new K.Table({ element: "anyfunc", initial: 1 }, other.exports.add);
  assert.equal(seeded.get(0), other.exports.add);
  seeded.grow(1, other.exports.add);
  assert.equal(seeded.get(1), other.exports.add);
  const fnGlobal = new K.Global({ value: 'anyfunc', mutable: true }, other.exports.add);
  assert.equal(fnGlobal.value, other.exports.add);
});

test('a function with a v128 param or result throws a TypeError before it runs, as on V8', async () => {
  const bytes = readFileSync(wasm('v128.wat'));
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
  const facade = new K.Instance(new K.Module(bytes), {}).exports;
  const own = kiln.instantiate(kiln.compile(bytes)).exports;
  for (const exports of [v8, facade, own]) {
    assert.throws(() => exports.bump(), TypeError);
    assert.throws(() => exports.take(0), TypeError);
    assert.equal(exports.count.value, 0, 'nothing ran');
  }
  await assert.rejects(own.bump.async(), TypeError);
  assert.equal(own.count.value, 0);
});

test('it answers like the global WebAssembly for the same module', async () => {
  const ours = new K.Instance(new K.Module(basicBytes), {});
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(basicBytes), {});
  assert.equal(K.validate(basicBytes), WebAssembly.validate(basicBytes));
  assert.deepEqual(K.Module.exports(new K.Module(basicBytes)).map(({ name, kind }) => ({ name, kind })),
    WebAssembly.Module.exports(new WebAssembly.Module(basicBytes)));
  // the standard's argument coercions
  for (const args of [[1, 2], ['3', '4'], [1.9, -1.9], [undefined, null], [true, {}], [2 ** 32 + 5, 1], []]) {
    assert.equal(ours.exports.add(...args), v8.exports.add(...args), `add(${args})`);
  }
  assert.equal(ours.exports.add64(5n, true), v8.exports.add64(5n, true));
  assert.throws(() => ours.exports.add64(1, 2), TypeError);
  assert.deepEqual(ours.exports.swap(1, 2n), v8.exports.swap(1, 2n));
  assert.throws(() => ours.exports.trap(0), K.RuntimeError);
  assert.throws(() => v8.exports.trap(0), WebAssembly.RuntimeError);
  assert.throws(() => new K.Module(new Uint8Array([0, 1, 2])), K.CompileError);
  assert.throws(() => new K.Module('bytes'), TypeError);
  assert.throws(() => K.Instance(new K.Module(basicBytes)), TypeError);
  assert.equal(ours.exports.memory.buffer.byteLength, v8.exports.memory.buffer.byteLength);
  assert.ok(ours.exports.memory instanceof K.Memory);
});

test('compile and both overloads of instantiate', async () => {
  const module = await K.compile(basicBytes);
  assert.ok(module instanceof K.Module);
  const instance = await K.instantiate(module, {});
  assert.ok(instance instanceof K.Instance);
  assert.equal(instance.exports.add(1, 2), 3);
  const both = await K.instantiate(basicBytes);
  assert.ok(both.module instanceof K.Module && both.instance instanceof K.Instance);
  await assert.rejects(K.instantiate(new Uint8Array([1, 2, 3])), K.CompileError);
  // as the standard: no module 'env' in the imports object is a TypeError; a module without
  // the function a LinkError
  await assert.rejects(K.instantiate(readFileSync(wasm('host.wat')), {}), (e) => e instanceof TypeError && /no module 'env'/.test(e.message));
  await assert.rejects(K.instantiate(readFileSync(wasm('host.wat')), { env: {} }), K.LinkError);
  await assert.rejects(K.compile(42), TypeError);
  const response = new Response(basicBytes, { headers: { 'content-type': 'application/wasm' } });
  const streamed = await K.instantiateStreaming(Promise.resolve(response), {});
  assert.equal(streamed.instance.exports.add(2, 2), 4);
});

test('Memory, Table and Global made in JavaScript and imported', () => {
  const memory = new K.Memory({ initial: 1, maximum: 4 });
  const old = memory.buffer;
  assert.equal(memory.grow(1), 1);
  assert.equal(old.byteLength, 0);
  assert.equal(memory.buffer.byteLength, 2 * 65536);
  const global = new K.Global({ value: 'i32', mutable: true }, 5);
  assert.equal(global.value, 5);
  assert.equal(global.valueOf(), 5);
  global.value = 6;
  assert.equal(global.value, 6);
  const table = new K.Table({ element: 'anyfunc', initial: 2 });
  assert.equal(table.length, 2);
  assert.equal(table.get(0), null);
  const wat = new K.Module(readFileSync(wasm('imports.wat')));
  const instance = new K.Instance(wat, { js: { mem: memory, g: global, tbl: table } });
  new DataView(memory.buffer).setInt32(0, 100, true);
  assert.equal(instance.exports.peek(), 106);
  instance.exports.setSlot(1);
  assert.equal(table.get(1)(), 106, 'a function stored into an imported table by wasm');
});

// Shared memories (the threads proposal's memory type, which V8 accepts): a maximum required,
// buffers never detached by growth (the memory never moves), only shared to shared imports.
// Their buffers are frozen SharedArrayBuffers over the memory's own bytes (from a V8 twin whose
// pages are kiln's: objects.c, twin_helpers_init).
test('shared memories: made in JavaScript, defined by a module, grown, linked', () => {
  assert.throws(() => new K.Memory({ initial: 1, shared: true }), TypeError);
  assert.throws(() => new WebAssembly.Memory({ initial: 1, shared: true }), TypeError);
  const memory = new K.Memory({ initial: 1, maximum: 2, shared: true });
  const old = memory.buffer;
  assert.ok(old instanceof SharedArrayBuffer);
  assert.ok(Object.isFrozen(old));
  assert.equal(memory.buffer, old, 'the same buffer while the size is the same');
  new Uint8Array(old)[7] = 42;
  assert.equal(memory.grow(1), 1);
  assert.equal(old.byteLength, 65536, 'the old buffer stays valid');
  const now = memory.buffer;
  assert.notEqual(now, old);
  assert.equal(now.byteLength, 2 * 65536);
  assert.equal(new Uint8Array(now)[7], 42);
  new Uint8Array(now)[8] = 43;
  assert.equal(new Uint8Array(old)[8], 43, 'old and new buffers share the bytes');
  assert.throws(() => memory.grow(1), RangeError);
  assert.equal(memory.grow(0), 2);
  assert.equal(old.byteLength, 65536);
  assert.notEqual(memory.buffer, now, 'grow(0) refreshes the buffer');

  // (memory (export "mem") 1 2 shared), and modules importing (memory 1 2 shared) / (memory 1 2)
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const defines = new Uint8Array([...header, 0x05, 0x04, 0x01, 0x03, 0x01, 0x02, 0x07, 0x07, 0x01, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00]);
  const importing = (flags) => new Uint8Array([...header, 0x02, 0x0d, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6d, 0x65, 0x6d, 0x02, flags, 0x01, 0x02]);
  for (const bytes of [defines, importing(0x03)]) {
    assert.equal(K.validate(bytes), true);
    assert.equal(WebAssembly.validate(bytes), true);
  }
  assert.deepEqual(kiln.compile(defines).exports(), [{ name: 'mem', kind: 'memory', type: { initial: 1, maximum: 2, shared: true } }]);
  const exported = new K.Instance(new K.Module(defines), {}).exports.mem;
  assert.equal(exported.buffer.byteLength, 65536);
  assert.ok(exported.buffer instanceof SharedArrayBuffer);
  new K.Instance(new K.Module(importing(0x03)), { env: { mem: exported } });
  new K.Instance(new K.Module(importing(0x03)), { env: { mem: memory } });
  assert.throws(() => new K.Instance(new K.Module(importing(0x01)), { env: { mem: memory } }), K.LinkError);
  assert.throws(() => new K.Instance(new K.Module(importing(0x03)), { env: { mem: new K.Memory({ initial: 1, maximum: 2 }) } }), K.LinkError);
  // shared without a maximum: malformed
  const noMax = new Uint8Array([...header, 0x05, 0x03, 0x01, 0x02, 0x01]);
  assert.equal(K.validate(noMax), false);
  assert.throws(() => new K.Module(noMax), (e) => e instanceof K.CompileError && /shared memory needs a maximum/.test(e.message));
});

// A shared memory's SharedArrayBuffer is the memory itself: wasm's writes and growth show in
// it, in every tier; another thread sees the same bytes; it outlives the instance's close().
test('shared memories: the SharedArrayBuffer is wasm memory, across tiers, threads and close()', async () => {
  // (memory (export "mem") 1 3 shared); load(a) -> i32.load8_u a; store(a, v); grow(n) -> memory.grow n
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x02, 0x60, 0x01,
    0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x03, 0x04, 0x03, 0x00, 0x01,
    0x00, 0x05, 0x04, 0x01, 0x03, 0x01, 0x03, 0x07, 0x1d, 0x04, 0x03, 0x6d, 0x65,
    0x6d, 0x02, 0x00, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x00, 0x05, 0x73, 0x74,
    0x6f, 0x72, 0x65, 0x00, 0x01, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x02, 0x0a,
    0x1a, 0x03, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b, 0x09, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x3a, 0x00, 0x00, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00,
    0x0b]);
  assert.equal(WebAssembly.validate(bytes), true);
  for (const tier of kiln.tiers) {
    const instance = kiln.instantiate(kiln.compile(bytes, { tier }));
    const memory = instance.exports.mem;
    const first = memory.buffer;
    new Uint8Array(first)[10] = 77;
    assert.equal(instance.exports.load(10), 77, tier);
    instance.exports.store(11, 66);
    assert.equal(new Uint8Array(first)[11], 66, tier);
    assert.equal(instance.exports.grow(1), 1, tier);
    instance.exports.store(70000, 9);
    const grown = memory.buffer;
    assert.ok(grown instanceof SharedArrayBuffer && grown.byteLength === 2 * 65536 && first.byteLength === 65536, tier);
    assert.equal(new Uint8Array(grown)[70000], 9, tier);
    assert.throws(() => instance.exports.load(2 * 65536), kiln.RuntimeError, tier);
    // another thread reads and writes the same bytes
    const worker = new Worker('const { parentPort } = require("worker_threads");' +
      'parentPort.on("message", (b) => { const a = new Uint8Array(b); a[70001] = a[70000] + 1; parentPort.postMessage(a[11]); });',
      { eval: true });
    const [seen] = await Promise.all([once(worker, 'message'), worker.postMessage(grown)]);
    await worker.terminate();
    assert.equal(seen[0], 66, tier);
    assert.equal(instance.exports.load(70001), 10, tier);
    // the buffers keep the bytes after the instance is closed
    instance.close();
    assert.equal(new Uint8Array(grown)[70000], 9, tier);
    assert.equal(new Uint8Array(first)[10], 77, tier);
  }
});

test('a wasm-bindgen-style loader runs unchanged on kiln.WebAssembly', () => {
  const glue = copyFixture('bindgen_glue.js');
  copyFileSync(wasm('bindgen.c', { bare: true }), join(dirname(glue), 'bindgen_bg.wasm'));
  const global = globalThis.WebAssembly;
  globalThis.WebAssembly = K; // "handed this object instead of the global"
  let bindings;
  try {
    bindings = require(glue);
  } finally {
    globalThis.WebAssembly = global;
  }
  assert.ok(bindings.__wasm.memory instanceof kiln.Memory, 'it ran on kiln');
  assert.equal(bindings.greet('kiln'), 'Hello, kiln!');
  assert.deepEqual(bindings.logged, ['Hello, kiln!']);
  assert.equal(bindings.greet('wörld ✓'), 'Hello, wörld ✓!');
  // a long string grows memory inside malloc: the loader's cached views must notice
  const pagesBefore = bindings.__wasm.memory.buffer.byteLength / 65536;
  const long = 'x'.repeat(300000);
  assert.equal(bindings.greet(long), `Hello, ${long}!`);
  assert.ok(bindings.__wasm.memory.buffer.byteLength / 65536 > pagesBefore, 'memory grew');
  const bytes = new Uint8Array(100000).map((_, i) => i & 0xff);
  assert.equal(bindings.count_bytes(bytes), bytes.reduce((a, b) => a + b, 0));
  assert.throws(() => bindings.fail('thrown through __wbindgen_throw'), { message: 'thrown through __wbindgen_throw' });
  assert.equal(bindings.greet('again'), 'Hello, again!');
});

test('an emscripten-style loader (instantiate(bytes, info), memory views, growth from JS) runs too', async () => {
  // What emscripten's generated JS does with WebAssembly, reduced to its calls.
  async function emscriptenLike(WebAssembly, binary) {
    let HEAPU8;
    let wasmMemory;
    const updateMemoryViews = () => {
      HEAPU8 = new Uint8Array(wasmMemory.buffer);
    };
    const info = { env: {}, wasi_snapshot_preview1: {} };
    const output = await WebAssembly.instantiate(binary, info);
    const wasmExports = output.instance.exports;
    wasmMemory = wasmExports.memory;
    updateMemoryViews();
    const growMemory = (size) => {
      const pages = ((size - wasmMemory.buffer.byteLength + 65535) / 65536) | 0;
      wasmMemory.grow(pages);
      updateMemoryViews();
    };
    HEAPU8.set([1, 2, 3], 5000);
    growMemory(4 * 65536);
    return { sum: wasmExports.sum(5000, 3), bytes: HEAPU8.length, module: output.module };
  }
  const ours = await emscriptenLike(K, basicBytes);
  const v8 = await emscriptenLike(WebAssembly, basicBytes);
  assert.deepEqual({ sum: ours.sum, bytes: ours.bytes }, { sum: v8.sum, bytes: v8.bytes });
  assert.ok(ours.module instanceof K.Module);
});
