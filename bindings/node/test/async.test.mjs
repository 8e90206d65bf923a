// async.test.mjs - calls off the event loop: lag while wasm computes, timeouts, AbortSignal,
// host functions from sync and async calls, and Pool. The timing bounds are the bar
// (lag < 10 ms, a 50 ms timeout rejected within 200 ms); run.sh runs this file alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import kiln, { compile, instantiate, RuntimeError, TimeoutError, Pool } from 'kiln';
import { burnCount, sleep, wasm } from './helpers.mjs';

const basic = compile(wasm('basic.wat'));
const host = compile(wasm('host.wat'));

// Timers fire late by this much at most (ms): the largest gap beyond the period of a 2 ms
// interval, and the histogram of monitorEventLoopDelay.
async function measureLag(work) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let maxGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last - 2);
    last = now;
  }, 2);
  histogram.enable();
  try {
    const result = await work();
    return { result, maxGap, histogramMax: histogram.max / 1e6, p99: histogram.percentile(99) / 1e6 };
  } finally {
    histogram.disable();
    clearInterval(timer);
  }
}

test('the event loop stays free (lag < 10 ms) while two 1-second wasm computations run', async () => {
  const a = instantiate(basic);
  const b = instantiate(basic);
  const n = burnCount(a, 1);
  const expected = a.exports.burn(1000);
  const t = performance.now();
  a.exports.burn(n); // the count is capped (2^31 - 1): compiled code may take less than 1 s
  const syncMs = performance.now() - t;
  await sleep(50); // let the loop settle after the calibration
  // On 2 cores the two computations and the JS thread share the CPUs, so another process
  // waking at the wrong moment can delay one timer: up to 3 attempts, the best one counts
  // (a blocked loop fails every attempt by a second, not by a millisecond).
  let best;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const t0 = performance.now();
    const m = await measureLag(async () => {
      const timings = [];
      const run = async (instance) => {
        const start = performance.now();
        await instance.exports.burn.async(n);
        timings.push(performance.now() - start);
      };
      await Promise.all([run(a), run(b)]);
      return timings;
    });
    const wall = performance.now() - t0;
    console.log(`# attempt ${attempt}: two burns of ~1 s: ${m.result.map((t) => t.toFixed(0)).join(' and ')} ms, together ${wall.toFixed(0)} ms; ` +
      `event-loop lag: largest timer gap ${m.maxGap.toFixed(2)} ms, monitorEventLoopDelay max ${m.histogramMax.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms`);
    if (!best || Math.max(m.maxGap, m.histogramMax) < Math.max(best.maxGap, best.histogramMax)) best = m;
    if (best.maxGap < 10 && best.histogramMax < 10) break;
  }
  const { result, maxGap, histogramMax } = best;
  // about the work of the synchronous call each (less or more wall time when the machine is shared)
  assert.ok(result.every((t) => t > 0.4 * syncMs), `each computation ran long enough: ${result} (sync: ${syncMs} ms)`);
  assert.ok(maxGap < 10, `timer gap ${maxGap} ms`);
  assert.ok(histogramMax < 10, `monitorEventLoopDelay max ${histogramMax} ms`);
  assert.equal(await a.exports.burn.async(1000), expected);
  a.close();
  b.close();
});

test('(loop (br 0)) with timeoutMs: 50 rejects within 200 ms with TimeoutError; the instance stays usable', async () => {
  const instance = instantiate(basic);
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const error = await instance.callAsync('spin', [], { timeoutMs: 50 }).then(() => null, (e) => e);
    const ms = performance.now() - t0;
    console.log(`# timeout 50 ms: rejected after ${ms.toFixed(1)} ms`);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.ok(error instanceof RuntimeError);
    assert.equal(error.trap, 'interrupted');
    assert.ok(ms >= 45 && ms < 200, `rejected after ${ms} ms`);
    assert.equal(await instance.exports.add.async(2, 3), 5);
    assert.equal(instance.exports.add(2, 3), 5);
  }
});

test('limits.timeoutMs applies to synchronous and async calls of the instance', async () => {
  const instance = instantiate(basic, { limits: { timeoutMs: 50 } });
  let t0 = performance.now();
  // the message states the limit that stopped the call
  assert.throws(() => instance.exports.spin(), (e) => e instanceof TimeoutError && /timed out after 50 ms/.test(e.message));
  assert.ok(performance.now() - t0 < 200);
  t0 = performance.now();
  await assert.rejects(instance.exports.spin.async(), /timed out after 50 ms/);
  assert.ok(performance.now() - t0 < 200);
  assert.equal(instance.exports.add(1, 1), 2);
  // a per-call timeout overrides the instance's
  t0 = performance.now();
  await assert.rejects(instance.callAsync('spin', [], { timeoutMs: 120 }),
    (e) => e instanceof TimeoutError && /timed out after 120 ms/.test(e.message));
  assert.ok(performance.now() - t0 >= 110);
});

test('an AbortSignal interrupts a running async call and rejects with its reason', async () => {
  const instance = instantiate(basic);
  const controller = new AbortController();
  const t0 = performance.now();
  const call = instance.callAsync('spin', [], { signal: controller.signal });
  setTimeout(() => controller.abort(), 30);
  await assert.rejects(call, { name: 'AbortError' });
  assert.ok(performance.now() - t0 < 200);
  const reason = new Error('no longer needed');
  const second = new AbortController();
  const running = assert.rejects(instance.callAsync('spin', [], { signal: second.signal }), (e) => e === reason);
  const queued = assert.rejects(instance.callAsync('add', [1, 2], { signal: second.signal }), (e) => e === reason);
  const after = instance.callAsync('add', [3, 4]);
  await sleep(20);
  second.abort(reason);
  await running;
  await queued;
  assert.equal(await after, 7, 'calls behind an aborted one run');
  await assert.rejects(instance.callAsync('add', [1, 1], { signal: AbortSignal.abort() }), { name: 'AbortError' });
  await assert.rejects(instance.callAsync('spin', [], { signal: AbortSignal.timeout(40) }), { name: 'TimeoutError' });
  assert.equal(await instance.callAsync('add', [20, 22]), 42);
});

function hostImports(log = []) {
  return {
    env: {
      add: (a, b) => a + b,
      log: (x) => log.push(x),
      fail() {
        throw new Error('failed in JavaScript');
      },
      big: (x) => x + 1n,
      base: 5,
    },
  };
}

test('host functions run from synchronous calls', () => {
  const log = [];
  const { exports } = instantiate(host, { imports: hostImports(log) });
  assert.equal(exports.twice(1, 2), 11);
  assert.equal(exports.many(100), 5050);
  assert.equal(log.length, 100);
  assert.equal(exports.bigTimes2(20n), 42n);
});

test('host functions run on the JS thread from async calls, without deadlock', async () => {
  const log = [];
  const instance = instantiate(host, { imports: hostImports(log) });
  assert.equal(await instance.exports.twice.async(1, 2), 11);
  // 2,000 host calls, each a round trip from a worker to the JS thread and back
  const [sum] = await Promise.all([instance.exports.many.async(1000), sleep(1)]);
  assert.equal(sum, 500500);
  assert.equal(log.length, 1000);
  assert.deepEqual(log.slice(0, 3), [0, 1, 2]);
  // several instances calling the host concurrently
  const pool = new Pool(host, { size: 2, imports: hostImports() });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.call('many', 50 + i)));
  assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => ((50 + i) * (51 + i)) / 2));
  await pool.close();
});

test('a host function called from an async call may call other instances; calling its own instance is refused, not a deadlock', async () => {
  const other = instantiate(basic);
  let self = null;
  const instance = instantiate(host, {
    imports: {
      env: {
        add: (a, b) => (self ? self.exports.twice(a, b) : other.exports.add(a, b)),
        log() {},
        fail() {},
        big: (x) => x,
        base: 1,
      },
    },
  });
  assert.equal(await instance.exports.twice.async(20, 1), 43, 'through another instance');
  self = instance;
  await assert.rejects(instance.exports.twice.async(1, 1), /asynchronous call/);
  self = null;
  assert.equal(await instance.exports.twice.async(1, 1), 5, 'still usable');
});

test('a host function that throws: the JS exception comes back from the call, sync and async', async () => {
  const instance = instantiate(host, { imports: hostImports() });
  assert.throws(() => instance.exports.callFailDeep(), { message: 'failed in JavaScript' });
  await assert.rejects(instance.exports.callFailDeep.async(), { message: 'failed in JavaScript' });
  assert.equal(instance.exports.twice(1, 1), 9, 'the instance stays usable');
});

test('a synchronous call while an async one runs is refused with a clear error', async () => {
  const instance = instantiate(basic);
  const pending = instance.callAsync('spin', [], { timeoutMs: 100 });
  assert.throws(() => instance.exports.add(1, 2), /asynchronous call.*Pool/);
  await assert.rejects(pending, TimeoutError);
  assert.equal(instance.exports.add(1, 2), 3);
});

test('async calls on one instance queue in order', async () => {
  const instance = instantiate(basic);
  const order = [];
  await Promise.all([1, 2, 3, 4, 5].map((i) => instance.exports.bump.async().then((v) => order.push([i, v]))));
  assert.deepEqual(order, [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]);
  assert.equal(instance.busy, false);
});

test('a Pool spreads concurrent calls over its instances and returns correct results', async () => {
  const pool = new Pool(basic, { size: 2 });
  assert.equal(pool.size, 2);
  const reference = instantiate(basic);
  const inputs = Array.from({ length: 200 }, (_, i) => [i * 7919, 100000 + i]);
  const calls = inputs.map(([a, n]) => Promise.all([pool.call('add', a, n), pool.call('burn', n)]));
  assert.ok(pool.pending > 0, 'calls queue while all instances are busy');
  const results = await Promise.all(calls);
  results.forEach(([sum, burned], i) => {
    const [a, n] = inputs[i];
    assert.equal(sum, (a + n) | 0);
    assert.equal(burned, reference.exports.burn(n));
  });
  // the counter of each instance shows both did work
  const counts = await Promise.all(pool.instances.map((instance) => instance.exports.bump.async()));
  assert.deepEqual(counts, [1, 1]);
  await pool.close();
  await assert.rejects(pool.call('add', 1, 2), /the pool is closed/);
});

test('a Pool runs two long calls at once, queues the third, and cancels queued calls on abort', async () => {
  const pool = new Pool(basic, { size: 2, limits: { timeoutMs: 5000 } });
  const n = burnCount(pool.instances[0], 0.3);
  const t0 = performance.now();
  const two = await Promise.all([pool.call('burn', n), pool.call('burn', n)]);
  const both = performance.now() - t0;
  assert.equal(two[0], two[1]);
  const controller = new AbortController();
  const running = [1, 2].map(() => assert.rejects(pool.callAsync('spin', [], { timeoutMs: 100 }), TimeoutError));
  const queued = assert.rejects(pool.callAsync('add', [1, 2], { signal: controller.signal }), { name: 'AbortError' });
  assert.equal(pool.pending, 1);
  controller.abort();
  await queued;
  assert.equal(pool.pending, 0);
  await Promise.all(running);
  console.log(`# pool of 2: two ~0.3 s burns together in ${both.toFixed(0)} ms`);
  assert.equal(await pool.call('add', 1, 2), 3);
  const closing = assert.rejects(pool.call('spin'), RuntimeError, 'close() interrupts a running call');
  const closed = pool.close();
  await closing;
  await closed;
});

test('kiln.Pool defaults to one instance per CPU', async () => {
  const pool = new Pool(basic);
  const os = await import('node:os');
  assert.equal(pool.size, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  await pool.close();
  assert.ok(kiln.Pool === Pool);
});
