// workers.test.mjs - kiln in worker_threads: each worker has its own instances beside the
// main thread's; and worker.terminate() ends a worker whose async wasm call would never
// return (an endless loop, with or without host calls, no timeout), instead of hanging it
// and every later process.exit().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { compile, instantiate } from 'kiln';
import { wasm } from './helpers.mjs';

const kilnPath = createRequire(import.meta.url).resolve('kiln');
const wasmPath = wasm('workers.wat');

// A worker running `body` with kiln, the module's instance (`exports`) and post().
function worker(body, data) {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const kiln = require(${JSON.stringify(kilnPath)});
    const module = kiln.compile(require('node:fs').readFileSync(${JSON.stringify(wasmPath)}));
    let ticks = 0;
    const instance = kiln.instantiate(module, { imports: { env: { tick: (i) => { ticks++; return i + 1; } } } });
    const { exports } = instance;
    const post = (m) => parentPort.postMessage(m);
    (async () => { ${body} })().catch((e) => post({ error: String(e && e.stack || e) }));`;
  return new Worker(code, { eval: true, workerData: data });
}

const message = (w) => new Promise((resolve, reject) => {
  w.once('message', resolve);
  w.once('error', reject);
});

test('workers run their own instances, sync and async, beside the main thread', async () => {
  const body = `post([exports.sum(workerData), await exports.sum.async(workerData + 1)]);`;
  const workers = [1000, 2000, 3000].map((n) => worker(body, n));
  const main = instantiate(compile(wasm('workers.wat')), { imports: { env: { tick: (i) => i } } });
  assert.equal(main.exports.sum(10), 45);
  const results = await Promise.all(workers.map(message));
  const sum = (n) => (n * (n - 1)) / 2;
  assert.deepEqual(results, [[sum(1000), sum(1001)], [sum(2000), sum(2001)], [sum(3000), sum(3001)]]);
  await Promise.all(workers.map((w) => w.terminate()));
  assert.equal(await main.exports.sum.async(100), sum(100));
});

for (const [name, body] of [
  ['an endless loop', `exports.spin.async(); post('running');`],
  ['an endless loop calling a JS host function', `exports.spin_host.async(); await new Promise((r) => setTimeout(r, 50)); post(ticks > 0 ? 'running' : 'no ticks');`],
]) {
  test(`worker.terminate() ends a worker running ${name} asynchronously, without a timeout`, async () => {
    for (let round = 0; round < 3; round++) {
      const w = worker(body);
      assert.equal(await message(w), 'running');
      await new Promise((r) => setTimeout(r, 20 + 30 * round));
      const started = performance.now();
      // Without the fix terminate() never settles; the race makes that a failure, not a hang
      // of this test (the stuck worker would still keep the process from exiting).
      const outcome = await Promise.race([
        w.terminate().then(() => 'terminated'),
        new Promise((r) => setTimeout(() => r('stuck'), 5000).unref()),
      ]);
      assert.equal(outcome, 'terminated');
      assert.ok(performance.now() - started < 5000);
    }
  });
}
