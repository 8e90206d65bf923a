// nn.test.mjs - WASI-NN (wasi_ephemeral_nn) through `kiln run`: a C guest (guest.c) runs ONNX
// models written here at test time, and each output is compared with onnxruntime-node running
// the same model on the same tensor in Node (the same ONNX Runtime release kiln loads, from
// the same npm package). Also: bad input from the guest gets error codes, a timeout stops a
// long inference, a missing library says how to get it. Run by CTest (nn) with KILN_BIN.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const kiln = process.env.KILN_BIN;
assert.ok(kiln, 'run through CTest (KILN_BIN)');

let ort;
try {
  ort = require('onnxruntime-node');
} catch {
  console.log('SKIP: onnxruntime-node is not installed (scripts/deps.sh: npm install)');
  process.exit(77);
}
const library = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')),
  'bin', 'napi-v6', 'linux', process.arch === 'arm64' ? 'arm64' : 'x64', 'libonnxruntime.so.1');
if (!fs.existsSync(library) || spawnSync('clang-19', ['--version']).error) {
  console.log('SKIP: ONNX Runtime\'s library or clang-19 is missing');
  process.exit(77);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-nn-'));
if (!process.env.KILN_NN_KEEP) process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
const guest = path.join(work, 'guest.wasm');
{
  const r = spawnSync('clang-19', ['--target=wasm32-wasi', '--sysroot=/usr', '-O2', '-Wall', '-Wextra', '-Werror',
    '-I', path.join(root, 'include'), path.join(here, 'guest.c'), '-o', guest], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

// ------------------------------------------------------------------ ONNX models, by hand
// (onnx.proto: ModelProto ir_version 1, graph 7, opset_import 8; GraphProto node 1, name 2,
// initializer 5, input 11, output 12; NodeProto input 1, output 2, name 3, op_type 4,
// attribute 5; ValueInfoProto name 1, type 2; TypeProto tensor_type 1 {elem_type 1, shape 2
// {dim 1 {dim_value 1 | dim_param 2}}}; TensorProto dims 1, data_type 2, name 8, raw_data 9;
// AttributeProto name 1, i 3, type 20.)
const FLOAT = 1, UINT8 = 2, INT32 = 6, INT64 = 7, DOUBLE = 11;
function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
const field = (n, value) => [...varint(n * 8), ...varint(value)];
const bytes = (n, content) => {
  const b = typeof content === 'string' ? [...Buffer.from(content)] : [...content];
  return [...varint(n * 8 + 2), ...varint(b.length), ...b];
};
const dim = (d) => bytes(1, typeof d === 'string' ? bytes(2, d) : field(1, d));
const valueInfo = (name, elem, dims) => bytes(1, name).concat(bytes(2, bytes(1, [...field(1, elem), ...bytes(2, dims.flatMap(dim))])));
const node = (op, inputs, outputs, attributes = []) =>
  [...inputs.flatMap((i) => bytes(1, i)), ...outputs.flatMap((o) => bytes(2, o)), ...bytes(3, `${op}_${outputs[0]}`),
    ...bytes(4, op), ...attributes.flatMap((a) => bytes(5, a))];
const intAttribute = (name, value) => [...bytes(1, name), ...field(3, value), ...field(20, 2)];
const initializer = (name, elem, dims, data) =>
  [...dims.flatMap((d) => field(1, d)), ...field(2, elem), ...bytes(8, name), ...bytes(9, new Uint8Array(data.buffer))];
function model({ nodes, inputs, outputs, initializers = [] }) {
  const graph = [...nodes.flatMap((n) => bytes(1, n)), ...bytes(2, 'g'), ...initializers.flatMap((i) => bytes(5, i)),
    ...inputs.flatMap((i) => bytes(11, i)), ...outputs.flatMap((o) => bytes(12, o))];
  return Buffer.from([...field(1, 8), ...bytes(2, 'kiln-test'), ...bytes(7, graph), ...bytes(8, field(2, 13))]);
}

function random(n, seed) {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

const W = random(64 * 16, 7), B = random(16, 11);
const MODELS = {
  // Y = X + B
  add: model({
    nodes: [node('Add', ['X', 'B'], ['Y'])],
    inputs: [valueInfo('X', FLOAT, ['N', 3])], outputs: [valueInfo('Y', FLOAT, ['N', 3])],
    initializers: [initializer('B', FLOAT, [3], new Float32Array([10, 20, 30]))],
  }),
  // a dense layer: Relu(X W + B), X [N, 64]
  dense: model({
    nodes: [node('MatMul', ['X', 'W'], ['XW']), node('Add', ['XW', 'B'], ['Z']), node('Relu', ['Z'], ['Y'])],
    inputs: [valueInfo('X', FLOAT, ['N', 64])], outputs: [valueInfo('Y', FLOAT, ['N', 16])],
    initializers: [initializer('W', FLOAT, [64, 16], W), initializer('B', FLOAT, [16], B)],
  }),
  // bytes in, f64 out: Cast(X u8 -> f64) * 0.5
  bytes: model({
    nodes: [node('Cast', ['X'], ['D'], [intAttribute('to', DOUBLE)]), node('Mul', ['D', 'H'], ['Y'])],
    inputs: [valueInfo('X', UINT8, [4, 'M'])], outputs: [valueInfo('Y', DOUBLE, [4, 'M'])],
    initializers: [initializer('H', DOUBLE, [1], new Float64Array([0.5]))],
  }),
  // i64 in, i32 out: Cast(X + X)
  ints: model({
    nodes: [node('Add', ['X', 'X'], ['S']), node('Cast', ['S'], ['Y'], [intAttribute('to', INT32)])],
    inputs: [valueInfo('X', INT64, ['N'])], outputs: [valueInfo('Y', INT32, ['N'])],
  }),
};
for (const [name, bytesOf] of Object.entries(MODELS)) fs.writeFileSync(path.join(work, `${name}.onnx`), bytesOf);

// WASI-NN tensor types (WasmEdge 0.15+, Wasmtime)
const NN = { f32: 1, f64: 2, u8: 3, i32: 4, i64: 5 };

function kilnRun(args, options = {}) {
  return spawnSync(kiln, ['run', '--nn-onnxruntime', library, '--nn-threads', '1', '--dir', `${work}::/data`,
    ...Object.keys(MODELS).map((m) => `--nn-preload=${m}:onnx:cpu:${path.join(work, `${m}.onnx`)}`), ...args],
  { encoding: 'utf8', timeout: 60000, ...options });
}

async function reference(name, tensor) {
  const session = await ort.InferenceSession.create(path.join(work, `${name}.onnx`), { intraOpNumThreads: 1 });
  const result = await session.run({ [session.inputNames[0]]: tensor });
  return result[session.outputNames[0]].data;
}

const CASES = [
  ['add', 'f32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]), Float32Array],
  ['dense', 'f32', [5, 64], random(5 * 64, 3), Float32Array],
  ['bytes', 'u8', [4, 7], Uint8Array.from({ length: 28 }, (_, i) => (i * 37) & 255), Float64Array],
  ['ints', 'i64', [6], BigInt64Array.from([1n, -2n, 3n, 1n << 40n, -7n, 0n]), Int32Array],
];

for (const [name, type, dims, input, Out] of CASES) {
  test(`${name}: the guest's output is onnxruntime-node's on the same tensor (load_by_name and load)`, async () => {
    const expected = await reference(name, new ort.Tensor(type === 'u8' ? 'uint8' : type === 'i64' ? 'int64' : 'float32', input, dims));
    for (const how of [['run', name], ['load', `${name}.onnx`]]) {
      fs.writeFileSync(path.join(work, 'in.bin'), Buffer.from(input.buffer, input.byteOffset, input.byteLength));
      fs.rmSync(path.join(work, 'out.bin'), { force: true });
      const r = kilnRun([guest, ...how, String(NN[type]), ...dims.map(String)]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const out = fs.readFileSync(path.join(work, 'out.bin'));
      const got = new Out(out.buffer, out.byteOffset, out.byteLength / Out.BYTES_PER_ELEMENT);
      assert.deepEqual([...got], [...expected]);
    }
  });
}

test('bad calls get error codes, never a crash; limits and handles hold', () => {
  const r = kilnRun(['--', guest, 'hostile', 'add']);
  assert.equal(r.status, 0, r.stderr);
  const codes = Object.fromEntries(r.stdout.trim().split('\n').map((line) => {
    const [what, ...rest] = line.split(' ');
    return [what, rest.join(' ')];
  }));
  assert.deepEqual(codes, {
    load_by_name: '0', load_by_name_unknown: '8', load_by_name_same: '0', name_out_of_memory: '1',
    result_out_of_memory: '1', load_corrupt: '1', load_gpu: '6', load_tensorflow: '2', load_two_builders: '1',
    load_out_of_memory: '1', context_unknown_graph: '1', init_execution_context: '0', compute_before_input: '1',
    set_input_unknown_context: '1', set_input_bad_index: '1', set_input_wrong_type: '1', set_input_unknown_type: '1',
    set_input_wrong_shape: '1', set_input_short_data: '1', set_input_data_out_of_memory: '1',
    set_input_dims_out_of_memory: '1', set_input_huge: '7', set_input_tensor_out_of_memory: '1',
    get_output_before_compute: '1', set_input: '0', compute: '0', get_output_small_buffer: '7 24',
    get_output_bad_index: '1', get_output_buffer_out_of_memory: '1', get_output: '0 24', context_limit: '4',
    unload: '0', compute_after_unload: '1', unload_again: '1',
  });
});

test('a failed run names the last WASI-NN error', () => {
  fs.writeFileSync(path.join(work, 'in.bin'), Buffer.alloc(16));
  const r = kilnRun([guest, 'run', 'add', '1', '2', '2']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /the last WASI-NN error: set_input: input 0 \('X'\) has the shape \[\?, 3\], given \[2, 2\]/);
});

test('a timeout stops a long inference', { skip: process.env.KILN_NN_SANITIZED && 'the sanitizer build loads the model too slowly' }, () => {
  // 720 MatMuls of [1024, 1024] by [1024, 1024]: 1.5 TFLOP, over ten seconds on one thread
  // (the timeout leaves a sanitizer build time to read the input and load the model first)
  const n = 1024, layers = 720;
  const nodes = [];
  for (let i = 0; i < layers; i++) nodes.push(node('MatMul', [i ? `H${i}` : 'X', 'W'], [i === layers - 1 ? 'Y' : `H${i + 1}`]));
  fs.writeFileSync(path.join(work, 'slow.onnx'), model({
    nodes, inputs: [valueInfo('X', FLOAT, [n, n])], outputs: [valueInfo('Y', FLOAT, [n, n])],
    initializers: [initializer('W', FLOAT, [n, n], random(n * n, 5).map((v) => v / 16))],
  }));
  fs.writeFileSync(path.join(work, 'in.bin'), Buffer.from(random(n * n, 9).buffer));
  const started = process.hrtime.bigint();
  const r = spawnSync(kiln, ['run', '--nn-onnxruntime', library, '--nn-threads', '1', '--dir', `${work}::/data`, '--timeout', '4s',
    `--nn-preload=slow:onnx:cpu:${path.join(work, 'slow.onnx')}`, guest, 'run', 'slow', '1', String(n), String(n)],
  { encoding: 'utf8', timeout: 60000 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  assert.notEqual(r.status, 0, r.stdout);
  // the inference itself stopped (ONNX Runtime's terminate flag), not the process ended later
  assert.match(r.stderr, /timed out after 4s/);
  assert.doesNotMatch(r.stderr, /blocked in a host call/);
  assert.match(r.stdout, /^set_input 0$/m);
  assert.doesNotMatch(r.stdout, /^compute/m, 'the compute itself was stopped');
  assert.ok(seconds < 4.8, `stopped after ${seconds.toFixed(2)} s`); // the watchdog's kill would be at 5 s
});

test('without ONNX Runtime, kiln says how to get it', () => {
  const r = spawnSync(kiln, ['run', '--nn-onnxruntime', path.join(work, 'no-such-lib.so'),
    `--nn-preload=add:onnx:cpu:${path.join(work, 'add.onnx')}`, guest, 'hostile', 'add'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /ONNX Runtime is not available .*npm package onnxruntime-node/);
  const bad = spawnSync(kiln, ['run', '--nn-preload=x:tensorflow:cpu:/dev/null', guest], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /the encoding 'tensorflow' is not supported/);
});

test('Node.js: instantiate({ nn }) gives the guest WASI-NN, ONNX Runtime found next to onnxruntime-node', async () => {
  const kilnNode = require(path.join(root, 'bindings', 'node'));
  const module = kilnNode.compile(fs.readFileSync(guest));
  const input = new Float32Array([1, 2, 3, 4, 5, 6]);
  fs.writeFileSync(path.join(work, 'in.bin'), Buffer.from(input.buffer));
  const stdout = path.join(work, 'stdout.txt');
  const fd = fs.openSync(stdout, 'w');
  try {
    // no onnxruntime path: the one of the onnxruntime-node package this repository has
    const instance = kilnNode.instantiate(module, {
      wasi: { args: ['guest', 'run', 'add', '1', '2', '3'], preopens: { '/data': work }, stdout: fd },
      nn: { preload: { add: path.join(work, 'add.onnx') }, threads: 1 },
    });
    assert.equal(instance.runWasi(), 0);
    instance.close();
  } finally {
    fs.closeSync(fd);
  }
  assert.match(fs.readFileSync(stdout, 'utf8'), /compute 0/);
  const out = fs.readFileSync(path.join(work, 'out.bin'));
  assert.deepEqual([...new Float32Array(out.buffer, out.byteOffset, 6)], [11, 22, 33, 14, 25, 36]);
  // without options.nn the module's WASI-NN imports are missing, as any import would be
  assert.throws(() => kilnNode.instantiate(module, { wasi: {} }), /wasi_ephemeral_nn\.load_by_name .* missing/);
  assert.throws(() => kilnNode.instantiate(module, { wasi: {}, nn: { preload: { x: 42 } } }), TypeError);
  assert.throws(() => kilnNode.instantiate(module, { wasi: {}, nn: { preload: { x: '/no/such/model.onnx' } } }),
    /cannot read the model '\/no\/such\/model\.onnx'/);
});

// A preloaded model is one ONNX Runtime session however many instances load it (a pool's): six
// instances holding a model with 12 MB of weights cost little more than one. (In a child, for
// its resident memory alone.)
test('Node.js: instances that preload the same model share its session', () => {
  const M = 1 << 20;
  const varintBuf = (n) => Buffer.from(varint(n));
  const field2 = (n, buf) => Buffer.concat([varintBuf(n * 8 + 2), varintBuf(buf.length), buf]);
  const weights = Buffer.from(new Float32Array(3 * M).fill(0.5).buffer);
  const big = Buffer.concat([Buffer.from([...field(1, 3), ...field(1, M), ...field(2, FLOAT), ...bytes(8, 'W')]),
    field2(9, weights)]);
  const graph = Buffer.concat([Buffer.from(bytes(1, node('MatMul', ['X', 'W'], ['Z']))),
    Buffer.from(bytes(1, node('ReduceSum', ['Z'], ['Y']))), Buffer.from(bytes(2, 'g')), field2(5, big),
    Buffer.from(bytes(11, valueInfo('X', FLOAT, [1, 3]))), Buffer.from(bytes(12, valueInfo('Y', FLOAT, [1, 1])))]);
  const onnx = Buffer.concat([Buffer.from([...field(1, 8), ...bytes(2, 'kiln-test')]), field2(7, graph),
    Buffer.from(bytes(8, field(2, 13)))]);
  const dir = fs.mkdtempSync(path.join(work, 'shared-'));
  fs.writeFileSync(path.join(dir, 'big.onnx'), onnx);
  fs.writeFileSync(path.join(dir, 'in.bin'), Buffer.from(new Float32Array([1, 2, 3]).buffer));
  const script = `
    const kiln = require(${JSON.stringify(path.join(root, 'bindings', 'node'))});
    const fs = require('fs'), path = require('path');
    const dir = ${JSON.stringify(dir)}, onnxruntime = ${JSON.stringify(library)};
    const module = kiln.compile(fs.readFileSync(${JSON.stringify(guest)}));
    const rss = () => process.memoryUsage().rss;
    // ONNX Runtime loaded and warm first (a small model), so that what follows is the model's
    const warm = kiln.instantiate(module, {
      wasi: { args: ['guest', 'run', 'add', '1', '1', '3'], preopens: { '/data': dir }, stdout: null },
      nn: { preload: { add: ${JSON.stringify(path.join(work, 'add.onnx'))} }, threads: 1, onnxruntime },
    });
    if (warm.runWasi() !== 0) throw new Error('the guest failed on the small model');
    const held = [warm], sizes = [rss()], sums = [];
    for (let i = 0; i < 6; i++) {
      const instance = kiln.instantiate(module, {
        wasi: { args: ['guest', 'run', 'big', '1', '1', '3'], preopens: { '/data': dir }, stdout: null },
        nn: { preload: { big: path.join(dir, 'big.onnx') }, threads: 1, onnxruntime },
      });
      if (instance.runWasi() !== 0) throw new Error('the guest failed');
      const out = fs.readFileSync(path.join(dir, 'out.bin'));
      sums.push(new Float32Array(out.buffer, out.byteOffset, 1)[0]);
      held.push(instance);
      sizes.push(rss());
    }
    console.log(JSON.stringify({ sizes, sums }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, r.stderr);
  const { sizes, sums } = JSON.parse(r.stdout);
  assert.deepEqual(sums, Array(6).fill(0.5 * M * 6));
  const first = sizes[1] - sizes[0], rest = sizes[6] - sizes[1];
  if (process.env.KILN_NN_VERBOSE) console.log(`first instance ${(first / 1e6).toFixed(1)} MB, five more ${(rest / 1e6).toFixed(1)} MB`);
  assert.ok(first > 12e6, `the first instance's session (${(first / 1e6).toFixed(1)} MB) holds the 12 MB of weights`);
  assert.ok(rest < first / 2, `five more instances took ${(rest / 1e6).toFixed(1)} MB, the first ${(first / 1e6).toFixed(1)} MB`);
});

const rustc = '/usr/bin/rustc';
const rustWasi = fs.existsSync(rustc) && fs.existsSync('/usr/lib/rustlib/wasm32-wasi');
test('Rust: include/kiln/wasi_nn.rs runs a model and reports errors', { skip: !rustWasi && 'Debian\'s rustc for wasm32-wasi is missing' }, () => {
  const wasm = path.join(work, 'rust-guest.wasm');
  const built = spawnSync(rustc, ['--edition', '2021', '--target', 'wasm32-wasi', '-O', '-D', 'warnings',
    path.join(here, 'guest.rs'), '-o', wasm], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const r = kilnRun([wasm]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '[11.0, 22.0, 33.0, 14.0, 25.0, 36.0]\nWASI-NN: invalid argument (1)\nWASI-NN: not found (8)\n');
});
