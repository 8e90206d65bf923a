// node_bench.mjs - the Node.js figures of `make bench` (bench.py may call it): the cost of
// a synchronous call of an add(i32, i32) export on kiln against a bare Node-API function
// (the addon's bareAdd) and against V8's own WebAssembly on the same bytes, in the default
// tier and in each tier (auto once the function is native); one CPU-bound call in each tier
// against V8; the round trip
// of an async call; and the throughput of a kiln.Pool of 2 instances against 1 on a
// CPU-bound function.
//   node bench/node_bench.mjs [--quick] [--json]
// Prints a table (or one JSON object with --json). Needs bindings/node/build/kiln.node and
// wat2wasm (for the CPU-bound module).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' } } });
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const kiln = require(join(here, '..', 'bindings', 'node'));
const native = require(process.env.KILN_NODE_ADDON || join(here, '..', 'bindings', 'node', 'build', 'kiln.node'));
const scale = opts.quick ? 0.1 : 1;

// (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
const addWasm = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x03, 0x02,
  0x01, 0x00, 0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20,
  0x01, 0x6a, 0x0b,
]);

const burnWat = `(module (func (export "burn") (param $n i32) (result i32) (local $i i32) (local $acc i32)
  block $done local.get $n i32.eqz br_if $done
    loop $again
      local.get $acc i32.const 1664525 i32.mul i32.const 1013904223 i32.add local.set $acc
      local.get $i i32.const 1 i32.add local.tee $i local.get $n i32.lt_u br_if $again
    end
  end
  local.get $acc))`;

function burnWasm() {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-node-bench-'));
  try {
    writeFileSync(join(dir, 'burn.wat'), burnWat);
    execFileSync(process.env.WAT2WASM || 'wat2wasm', [join(dir, 'burn.wat'), '-o', join(dir, 'burn.wasm')]);
    return readFileSync(join(dir, 'burn.wasm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ns per call of f(i, 1), the best of 5 rounds of n calls (after a warm-up round).
function nsPerCall(f, n) {
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < 6; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink = (sink + f(i, 1)) | 0;
    const ns = Number(process.hrtime.bigint() - t0) / n;
    if (round > 0) best = Math.min(best, ns);
  }
  if (sink === 0.5) console.log(sink); // keep the loop
  return best;
}

async function usPerAsyncCall(f, n) {
  let best = Infinity;
  for (let round = 0; round < 4; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await f(i, 1);
    const us = Number(process.hrtime.bigint() - t0) / n / 1000;
    if (round > 0) best = Math.min(best, us);
  }
  return best;
}

async function poolThroughput(module, size, calls, n) {
  const pool = new kiln.Pool(module, { size });
  await Promise.all(Array.from({ length: size }, () => pool.call('burn', 1000)));
  const t0 = performance.now();
  await Promise.all(Array.from({ length: calls }, () => pool.call('burn', n)));
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  return calls / seconds;
}

// Wait until module's functions run native code (auto compiles them in the background).
async function settle(module, f) {
  if (module.tier !== 'auto') return;
  for (let i = 0; i < 60000; i++) f(i, 1); // past the default threshold (50,000)
  for (let waited = 0; module.stats().nativeFunctions < module.stats().functions && waited < 30000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const results = {};
const n = Math.round(5_000_000 * scale);
const addModule = kiln.compile(addWasm);
const instance = kiln.instantiate(addModule);
await settle(addModule, instance.exports.add);
const facade = new kiln.WebAssembly.Instance(addModule, {});
const v8 = new WebAssembly.Instance(new WebAssembly.Module(addWasm), {});
results.default_tier = addModule.tier;
results.bare_napi_ns = nsPerCall(native.bareAdd, n);
results.kiln_sync_ns = nsPerCall(instance.exports.add, n);
results.kiln_facade_sync_ns = nsPerCall(facade.exports.add, n);
results.v8_wasm_ns = nsPerCall(v8.exports.add, n);
results.kiln_vs_bare = results.kiln_sync_ns / results.bare_napi_ns;
results.kiln_vs_v8 = results.kiln_sync_ns / results.v8_wasm_ns;
// the same call in each tier (auto once add is native)
results.tiers = {};
for (const tier of kiln.tiers) {
  const module = kiln.compile(addWasm, { tier });
  const { exports } = kiln.instantiate(module);
  await settle(module, exports.add);
  results.tiers[tier] = { sync_ns: nsPerCall(exports.add, n) };
}

// instantiating the add module, nothing closed (the garbage collector frees them): us each,
// best of 5 rounds
const usPerInstance = (make) => {
  const count = Math.round(20_000 * scale);
  let best = Infinity;
  for (let round = 0; round < 6; round++) {
    const start = performance.now();
    for (let i = 0; i < count; i++) make();
    if (round > 0) best = Math.min(best, ((performance.now() - start) * 1000) / count);
  }
  return best;
};
const v8AddModule = new WebAssembly.Module(addWasm);
const facadeAddModule = new kiln.WebAssembly.Module(addWasm);
results.kiln_instantiate_us = usPerInstance(() => kiln.instantiate(addModule));
results.kiln_facade_instantiate_us = usPerInstance(() => new kiln.WebAssembly.Instance(facadeAddModule, {}));
results.v8_instantiate_us = usPerInstance(() => new WebAssembly.Instance(v8AddModule, {}));
// a request's instance: made, called once and closed
results.kiln_instance_request_us = usPerInstance(() => {
  const made = kiln.instantiate(addModule);
  made.exports.add(1, 2);
  made.close();
});
results.v8_instance_request_us = usPerInstance(() => new WebAssembly.Instance(v8AddModule, {}).exports.add(1, 2));

const asyncN = Math.round(20_000 * scale);
results.kiln_async_us = await usPerAsyncCall(instance.exports.add.async, asyncN);
results.kiln_call_async_us = await usPerAsyncCall((a, b) => instance.callAsync('add', [a, b]), asyncN);
const addPool = new kiln.Pool(addModule, { size: 2 });
let t0 = performance.now();
const many = Math.round(50_000 * scale);
await Promise.all(Array.from({ length: many }, (_, i) => addPool.call('add', i, 1)));
results.pool_small_calls_per_s = many / ((performance.now() - t0) / 1000);
await addPool.close();

const burn = kiln.compile(burnWasm());
const probe = kiln.instantiate(burn);
let burnN = 1 << 16;
for (;;) {
  t0 = performance.now();
  probe.exports.burn(burnN);
  if (performance.now() - t0 > 20) break;
  burnN *= 2;
}
const calls = Math.round(80 * scale) || 8;
results.burn_steps = burnN;
// one CPU-bound call in each tier, and V8 (ms, best of 5)
const burnBytes = burnWasm();
const bestMs = (f) => {
  let best = Infinity;
  for (let round = 0; round < 6; round++) {
    const start = performance.now();
    f(burnN);
    if (round > 0) best = Math.min(best, performance.now() - start);
  }
  return best;
};
for (const tier of kiln.tiers) {
  const module = kiln.compile(burnBytes, { tier });
  const { exports } = kiln.instantiate(module);
  await settle(module, (i) => exports.burn(i & 1));
  results.tiers[tier].burn_ms = bestMs(exports.burn);
}
results.v8_burn_ms = bestMs(new WebAssembly.Instance(new WebAssembly.Module(burnBytes), {}).exports.burn);
results.cpus = availableParallelism();
results.pool1_calls_per_s = await poolThroughput(burn, 1, calls, burnN);
results.pool2_calls_per_s = await poolThroughput(burn, 2, calls, burnN);
results.pool2_speedup = results.pool2_calls_per_s / results.pool1_calls_per_s;

if (opts.json) {
  console.log(JSON.stringify(results));
} else {
  const f = (x, d = 1) => x.toFixed(d);
  console.log(`Node.js ${process.version}, ${results.cpus} CPUs${opts.quick ? ', quick' : ''}`);
  console.log(`sync call add(i32, i32), ns per call (best of 5 x ${n}):`);
  console.log(`  bare Node-API function  ${f(results.bare_napi_ns).padStart(7)}`);
  console.log(`  kiln export             ${f(results.kiln_sync_ns).padStart(7)}   ${f(results.kiln_vs_bare, 2)}x bare (aim <= 2x), ${f(results.kiln_vs_v8, 1)}x V8`);
  console.log(`  kiln.WebAssembly export ${f(results.kiln_facade_sync_ns).padStart(7)}`);
  console.log(`  V8 WebAssembly          ${f(results.v8_wasm_ns).padStart(7)}`);
  console.log(`  (kiln export in ${results.default_tier}, the default tier; in each tier:)`);
  for (const [tier, r] of Object.entries(results.tiers)) {
    console.log(`  kiln export, ${tier.padEnd(9)} ${f(r.sync_ns).padStart(7)}   ${f(r.sync_ns / results.bare_napi_ns, 2)}x bare`);
  }
  console.log('instantiate the add module, us each (best of 5, left to the garbage collector):');
  console.log(`  kiln.instantiate        ${f(results.kiln_instantiate_us, 2).padStart(7)}   ${f(results.kiln_instantiate_us / results.v8_instantiate_us, 1)}x V8`);
  console.log(`  kiln.WebAssembly        ${f(results.kiln_facade_instantiate_us, 2).padStart(7)}`);
  console.log(`  V8 WebAssembly          ${f(results.v8_instantiate_us, 2).padStart(7)}`);
  console.log('instantiate, call add once, close(), us each (best of 5):');
  console.log(`  kiln                    ${f(results.kiln_instance_request_us, 2).padStart(7)}   ${f(results.kiln_instance_request_us / results.v8_instance_request_us, 1)}x V8 (no close)`);
  console.log(`  V8 WebAssembly          ${f(results.v8_instance_request_us, 2).padStart(7)}`);
  console.log(`one CPU-bound call burn(${results.burn_steps}), ms (best of 5):`);
  for (const [tier, r] of Object.entries(results.tiers)) {
    console.log(`  kiln, ${tier.padEnd(17)} ${f(r.burn_ms, 2).padStart(7)}   ${f(r.burn_ms / results.v8_burn_ms, 2)}x V8`);
  }
  console.log(`  V8 WebAssembly          ${f(results.v8_burn_ms, 2).padStart(7)}`);
  console.log(`async round trip, us per awaited call (${asyncN} in sequence):`);
  console.log(`  add.async               ${f(results.kiln_async_us, 2).padStart(7)}`);
  console.log(`  instance.callAsync      ${f(results.kiln_call_async_us, 2).padStart(7)}`);
  console.log(`  Pool(2), ${many} add calls at once: ${f(results.pool_small_calls_per_s, 0)} calls/s`);
  console.log(`Pool throughput, ${calls} CPU-bound calls of ~${f(burnN / 1e6, 1)}M steps:`);
  console.log(`  size 1                  ${f(results.pool1_calls_per_s).padStart(7)} calls/s`);
  console.log(`  size 2                  ${f(results.pool2_calls_per_s).padStart(7)} calls/s   ${f(results.pool2_speedup, 2)}x`);
}
instance.close();
probe.close();
