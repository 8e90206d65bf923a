// tier.test.mjs - the tier option: modules for the interpreter, compiled whole by the LLVM tier
// ({tier: 'compiled'}) or tiered up function by function ({tier: 'auto'}), the tier reported
// back, wrong values, KILN_TIER (the default, also in workers), compileAsync, the cache of
// compiled code across processes; and in native code (compiled, and auto once functions are
// hot): timeouts and interrupts that stop an endless loop, memory caps, fuel, traps with
// backtraces, host calls, async calls on the thread pool and pools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import kiln, { compile, instantiate, LinkError, RuntimeError, TimeoutError } from 'kiln';
import { wasm } from './helpers.mjs';

// auto: compile a function on its first call (see nativeTiers); no cache, so that each module
// starts interpreted (the cache has its own test, in child processes)
if (!process.env.KILN_TIERUP_THRESHOLD) process.env.KILN_TIERUP_THRESHOLD = '1';
process.env.KILN_CACHE = 'off';
const kilnPath = createRequire(import.meta.url).resolve('kiln');
const basicBytes = readFileSync(wasm('basic.wat'));
const hasCompiled = kiln.tiers.includes('compiled');
const defaultTier = hasCompiled ? 'auto' : 'interp';
const environmentTier = process.env.KILN_TIER || defaultTier;
const compiledOnly = { skip: hasCompiled ? false : 'this addon was built without the compiled tier (LLVM 19)' };

// The first line a child process running `script` with these environment variables prints.
function childOutput(script, env) {
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

test('kiln.tiers lists the tiers of this build; modules report theirs', () => {
  assert.deepEqual(kiln.tiers.slice(0, 1), ['interp']);
  assert.ok(Object.isFrozen(kiln.tiers));
  const module = compile(basicBytes);
  assert.equal(module.tier, environmentTier, 'the default is KILN_TIER, else auto (interp without LLVM)');
  if (hasCompiled) assert.deepEqual(kiln.tiers, ['interp', 'compiled', 'auto']);
  const interp = compile(basicBytes, { tier: 'interp' });
  assert.equal(interp.tier, 'interp');
  assert.deepEqual(interp.stats(), {
    tier: 'interp', functions: interp.stats().functions, nativeFunctions: 0, nativeCodeBytes: 0,
    translatedFunctions: 0, translatedCodeBytes: 0, cachedFunctions: 0, cacheHit: false, precompiled: false,
  });
  assert.ok(interp.stats().functions > 10);
  const instance = instantiate(interp);
  assert.equal(instance.tier, 'interp');
  assert.equal(instance.exports.add(2, 40), 42);
  // the interpreter translated add, on its first call, and nothing else
  assert.equal(interp.stats().translatedFunctions, 1);
  assert.ok(interp.stats().translatedCodeBytes > 0);
  interp.close();
  assert.equal(interp.tier, 'interp', 'still known after close()');
  assert.throws(() => interp.stats(), /closed/);
});

test('the compiled tier: native code for every function, the same results', compiledOnly, () => {
  for (const options of [{ tier: 'compiled' }, { tier: 'compiled', portable: true }]) {
    const module = compile(basicBytes, options);
    assert.equal(module.tier, 'compiled');
    const stats = module.stats();
    assert.equal(stats.tier, 'compiled');
    assert.equal(stats.nativeFunctions, stats.functions);
    assert.ok(stats.nativeCodeBytes > 0);
    const { exports } = instantiate(module);
    const reference = instantiate(compile(basicBytes, { tier: 'interp' })).exports;
    assert.equal(exports.add(0x7fffffff, 1), -0x80000000);
    assert.equal(exports.add64(2n ** 63n - 1n, 1n), -(2n ** 63n));
    assert.equal(exports.mulf32(1.5, 1.1), reference.mulf32(1.5, 1.1));
    assert.deepEqual(exports.swap(7, 9n), [9n, 7]);
    assert.equal(exports.burn(100000), reference.burn(100000));
    assert.equal(exports.table.get(0)(20, 22), 42);
  }
  // new kiln.Module and kiln.instantiate(bytes) take the option as well
  assert.equal(new kiln.Module(basicBytes, { tier: 'compiled' }).tier, 'compiled');
  const instance = instantiate(basicBytes, { tier: 'compiled', limits: { fuel: 1e9 } });
  assert.equal(instance.tier, 'compiled');
  assert.equal(instance.exports.add(1, 2), 3);
});

test('wrong tier options are TypeErrors naming the option and its values', () => {
  const cases = [
    [() => compile(basicBytes, { tier: 'fast' }), /options.tier must be "auto", "interp" or "compiled", got a string \("fast"\)/],
    [() => compile(basicBytes, { tier: 3 }), /options.tier must be "auto", "interp" or "compiled", got a number \(3\)/],
    [() => compile(basicBytes, { tier: null }), /options.tier must be "auto", "interp" or "compiled", got null/],
    [() => compile(basicBytes, { portable: 'yes' }), /options.portable must be a boolean, got a string/],
    [() => compile(basicBytes, { teir: 'compiled' }), /options.teir is not an option \(known: tier, portable, fuel\)/],
    [() => compile(basicBytes, 'compiled'), /options must be an object/],
    [() => new kiln.Module(basicBytes, { tier: 'jit' }), /options.tier must be "auto", "interp" or "compiled"/],
    [() => instantiate(basicBytes, { tier: 'fast' }), /options.tier must be "auto", "interp" or "compiled"/],
    [() => new kiln.Instance(compile(basicBytes), { tier: 'interp' }), /options.tier is not an option/],
    [() => new kiln.Pool(compile(basicBytes), { size: 1, tier: 'interp' }), /options.tier is not an option/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, { name: 'TypeError', message }, String(fn));
  const other = environmentTier === 'interp' ? 'compiled' : 'interp';
  assert.throws(() => instantiate(compile(basicBytes), { tier: other }), {
    name: 'TypeError',
    message: new RegExp(`options.tier does not match the module, compiled for '${environmentTier}'`),
  });
});

test('without LLVM, asking for the compiled tier says how to get it', { skip: hasCompiled && 'this addon has the compiled tier' }, () => {
  assert.throws(() => compile(basicBytes, { tier: 'compiled' }), { name: 'Error', message: /compiled tier is not built.*LLVM 19.*rebuild/ });
  const r = childOutput(`require(${JSON.stringify(kilnPath)})`, { KILN_TIER: 'compiled' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /compiled tier is not built/);
});

test('KILN_TIER sets the default tier when the package loads; a wrong value is an error', () => {
  const script = `const kiln = require(${JSON.stringify(kilnPath)});
    const m = kiln.compile(${JSON.stringify(wasm('basic.wat'))});
    console.log(m.tier, new kiln.WebAssembly.Module(require('node:fs').readFileSync(${JSON.stringify(wasm('basic.wat'))})).tier);`;
  assert.equal(childOutput(script, { KILN_TIER: '' }).stdout, `${defaultTier} ${defaultTier}`);
  assert.equal(childOutput(script, { KILN_TIER: 'interp' }).stdout, 'interp interp');
  if (hasCompiled) assert.equal(childOutput(script, { KILN_TIER: 'compiled' }).stdout, 'compiled compiled');
  if (hasCompiled) assert.equal(childOutput(script, { KILN_TIER: 'auto' }).stdout, 'auto auto');
  const bad = childOutput(script, { KILN_TIER: 'fast' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /the environment variable KILN_TIER is "fast": use auto, interp or compiled/);
});

test('workers compile for the KILN_TIER of their environment', compiledOnly, async () => {
  const code = `
    const { parentPort } = require('node:worker_threads');
    const kiln = require(${JSON.stringify(kilnPath)});
    const module = kiln.compile(${JSON.stringify(wasm('basic.wat'))});
    const instance = kiln.instantiate(module, { limits: { timeoutMs: 50 } });
    instance.exports.spin.async().catch((e) => {
      parentPort.postMessage([module.tier, instance.exports.add(2, 40), e.name]);
    });`;
  for (const tier of ['interp', 'compiled', 'auto']) {
    const worker = new Worker(code, { eval: true, env: { ...process.env, KILN_TIER: tier } });
    const [reported, sum, error] = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.deepEqual([reported, sum, error], [tier, 42, 'TimeoutError']);
    await worker.terminate();
  }
});

// The tiers with native code. In 'auto', a function is compiled once it is hot: these tests
// set its threshold to one call (unless KILN_TIERUP_THRESHOLD says otherwise) and wait for
// the background compiler, so that the same calls run first interpreted, then native.
const nativeTiers = ['compiled', 'auto'];

// Wait until at least n of module's functions run native code (auto compiles in the background).
async function nativeAtLeast(module, n) {
  for (let waited = 0; module.stats().nativeFunctions < n; waited += 10) {
    if (waited > 60000) assert.fail(`${module.stats().nativeFunctions} native functions after 60 s, expected ${n}`);
    await sleep(10);
  }
}

for (const tier of nativeTiers) {
  test(`${tier} code: a timeout stops an endless loop, sync and async; interrupt() too`, compiledOnly, async () => {
    const module = compile(basicBytes, { tier });
    const instance = instantiate(module, { limits: { timeoutMs: 30 } });
    const timedOut = (e) => e instanceof TimeoutError && e.trap === 'interrupted';
    assert.throws(() => instance.exports.spin(), timedOut);
    await nativeAtLeast(module, 1); // auto: spin got hot in the call above
    assert.throws(() => instance.exports.spin(), timedOut);
    await assert.rejects(instance.exports.spin.async(), TimeoutError);
    await assert.rejects(instance.callAsync('spin', [], { timeoutMs: 20 }), TimeoutError);
    assert.equal(instance.exports.add(1, 2), 3, 'the instance stays usable');
    const other = instantiate(module);
    setTimeout(() => other.interrupt(), 30);
    await assert.rejects(other.exports.spin.async(), (e) => e instanceof RuntimeError && !(e instanceof TimeoutError) && e.trap === 'interrupted');
    await assert.rejects(other.callAsync('spin', [], { signal: AbortSignal.timeout(20) }), { name: 'TimeoutError' });
    const expected = instantiate(compile(basicBytes, { tier: 'interp' })).exports.burn(1000);
    assert.equal(await other.exports.burn.async(1000), expected);
    await nativeAtLeast(module, 3);
    assert.equal(await other.exports.burn.async(1000), expected);
  });

  test(`${tier} code: memory caps, fuel, traps with backtraces, stack exhaustion`, compiledOnly, async () => {
    const module = compile(basicBytes, { tier });
    const capped = instantiate(module, { limits: { memory: 4 << 20 } });
    assert.equal(capped.exports.grow(63), 1);
    await nativeAtLeast(module, 1);
    assert.equal(capped.exports.grow(1), -1, 'memory.grow past the limit returns -1');
    const bomb = instantiate(module, { limits: { memory: 64 << 20 } });
    const pages = await bomb.exports.bomb.async(65536);
    assert.ok(pages >= 1000 && pages <= 1024, `the bomb stopped at ${pages} pages`);
    assert.throws(() => instantiate(compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 0, 128, 2]), { tier }), { limits: { memory: 1 << 20 } }), /limit|memory/i);

    if (tier === 'compiled') {
      // compiled code counts fuel only when compiled with { fuel: true } (instantiate of bytes
      // with limits.fuel sets it); otherwise a fuel limit is refused up front
      assert.throws(() => instantiate(module, { limits: { fuel: 10000 } }), (e) => e instanceof TypeError && /fuel: true/.test(e.message));
      assert.throws(() => instantiate(module).setFuel(100), (e) => e instanceof TypeError && /fuel: true/.test(e.message));
    } else {
      // auto: an instance with a fuel budget runs in the interpreter, which counts it, even
      // where the module's functions have native code
      const budget = instantiate(module, { limits: { fuel: 10000 } });
      assert.throws(() => budget.exports.spin(), (e) => e instanceof RuntimeError && e.trap === 'out of fuel');
    }
    const metered = compile(basicBytes, { tier, fuel: true });
    const fueled = instantiate(metered, { limits: { fuel: 10000 } });
    assert.throws(() => fueled.exports.spin(), (e) => e instanceof RuntimeError && e.trap === 'out of fuel');
    assert.equal(fueled.fuel, 0);
    await nativeAtLeast(metered, 1);
    fueled.setFuel(5000);
    assert.throws(() => fueled.exports.spin(), (e) => e instanceof RuntimeError && e.trap === 'out of fuel');
    const fromBytes = instantiate(basicBytes, { tier, limits: { fuel: 10000 } });
    assert.throws(() => fromBytes.exports.spin(), (e) => e instanceof RuntimeError && e.trap === 'out of fuel');
    assert.throws(() => compile(basicBytes, { tier, fuel: 'yes' }), /options.fuel must be a boolean/);

    const instance = instantiate(module);
    const before = module.stats().nativeFunctions;
    for (let round = 0; round < 2; round++) { // auto: interpreted, then native
      assert.throws(() => instance.exports.trap(1), (e) => {
        assert.equal(e.trap, 'unreachable');
        assert.deepEqual(e.wasmStack.slice(0, 3).map((f) => f.name), ['inner', 'middle', 'trap']);
        return true;
      });
      assert.throws(() => instance.exports.load(65534), (e) => e instanceof RuntimeError && e.trap === 'out of bounds memory access');
      assert.throws(() => instance.exports.div(1, 0), (e) => e.trap === 'integer divide by zero');
      assert.throws(() => instance.exports.recurse(0), (e) => e instanceof RuntimeError && /stack/.test(e.trap));
      await assert.rejects(instance.exports.recurse.async(0), (e) => e instanceof RuntimeError && /stack/.test(e.trap));
      assert.equal(instance.exports.add(2, 2), 4);
      if (tier === 'auto') await nativeAtLeast(module, before + 7);
    }
  });

  test(`${tier} code: host functions from sync and async calls, and a pool`, compiledOnly, async () => {
    const host = compile(wasm('host.wat'), { tier });
    const logged = [];
    const instance = instantiate(host, {
      imports: { env: { add: (a, b) => a + b, log: (i) => logged.push(i), fail() { throw new RangeError('no'); }, big: (x) => x, base: 1 } },
    });
    for (let round = 0; round < 2; round++) {
      assert.equal(instance.exports.twice(1, 2), 7);
      assert.equal(await instance.exports.many.async(100), 5050);
      await assert.rejects(instance.exports.callFailDeep.async(), RangeError);
      await nativeAtLeast(host, 3);
    }
    assert.equal(logged.length, 200);

    const module = compile(basicBytes, { tier });
    const pool = new kiln.Pool(module, { size: 2, limits: { timeoutMs: 1000 } });
    assert.equal(pool.tier, tier);
    assert.ok(pool.instances.every((i) => i.tier === tier));
    const expected = instantiate(compile(basicBytes, { tier: 'interp' })).exports;
    const inputs = [1000, 2000, 3000, 4000];
    assert.deepEqual(await Promise.all(inputs.map((n) => pool.call('burn', n))), inputs.map((n) => expected.burn(n)));
    await nativeAtLeast(module, 1);
    assert.deepEqual(await Promise.all(inputs.map((n) => pool.call('burn', n))), inputs.map((n) => expected.burn(n)));
    await pool.close();
  });
}

test('auto: a Pool of 8 calls functions while they are compiled and installed; every result checked', compiledOnly, async () => {
  const module = compile(basicBytes, { tier: 'auto' });
  const reference = instantiate(compile(basicBytes, { tier: 'interp' })).exports;
  const pool = new kiln.Pool(module, { size: 8 });
  const calls = [];
  for (let i = 0; i < 400; i++) {
    calls.push(pool.call('burn', 100 + i).then((r) => assert.equal(r, reference.burn(100 + i))));
    calls.push(pool.call('add', i, 7).then((r) => assert.equal(r, i + 7)));
    calls.push(pool.call('add64', BigInt(i), 2n ** 40n).then((r) => assert.equal(r, BigInt(i) + 2n ** 40n)));
  }
  await Promise.all(calls);
  await nativeAtLeast(module, 3);
  await pool.close();
});

test('compileAsync: a Module compiled off the JS thread; errors reject', async () => {
  for (const tier of kiln.tiers) {
    const module = await kiln.compileAsync(basicBytes, { tier });
    assert.ok(module instanceof kiln.Module);
    assert.equal(module.tier, tier);
    assert.equal(instantiate(module).exports.add(40, 2), 42);
  }
  const fromPath = await kiln.compileAsync(wasm('basic.wat'));
  assert.equal(fromPath.tier, environmentTier);
  assert.equal(instantiate(fromPath).exports.add(1, 1), 2);
  // the bytes are copied: changing them after the call does not change the module
  const copy = new Uint8Array(basicBytes);
  const pending = kiln.compileAsync(copy);
  copy.fill(0);
  assert.equal(instantiate(await pending).exports.add(2, 3), 5);
  await assert.rejects(kiln.compileAsync(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5])), { name: 'CompileError', message: /memory section.*unexpected end/ });
  await assert.rejects(kiln.compileAsync(basicBytes, { tier: 'fast' }), { name: 'TypeError', message: /options.tier must be/ });
  await assert.rejects(kiln.compileAsync(42), { name: 'TypeError', message: /bytesOrPath must be/ });
  await assert.rejects(kiln.compileAsync('/no/such/file.wasm'), /cannot read \/no\/such\/file.wasm/);
  // many at once
  const modules = await Promise.all(Array.from({ length: 16 }, () => kiln.compileAsync(basicBytes)));
  assert.deepEqual(modules.map((m) => instantiate(m).exports.add(1, 2)), Array(16).fill(3));
});

// A process that exits while functions are being compiled in the background: exit() must
// not destroy the compiler's statics under a compile thread (kiln stops those threads first).
test('auto: processes that exit while functions are compiled exit cleanly', compiledOnly, () => {
  const script = `const kiln = require(${JSON.stringify(kilnPath)});
    const { exports: e } = kiln.instantiate(kiln.compile(${JSON.stringify(wasm('basic.wat'))}, { tier: 'auto' }));
    e.add(1, 2); e.burn(10); e.add64(1n, 2n); e.mulf32(1, 2); e.divf64(1, 2); e.bump(); e.pages();
    if (process.argv[1] === 'exit') process.exit(0);`;
  for (let i = 0; i < 24; i++) {
    const r = spawnSync(process.execPath, ['-e', script, i % 2 ? 'exit' : 'return'], {
      encoding: 'utf8', env: { ...process.env, KILN_TIERUP_THRESHOLD: '1', KILN_CACHE: 'off' },
    });
    assert.deepEqual([r.status, r.signal], [0, null], `run ${i}: ${r.stderr}`);
  }
});

test('the cache: a second process starts with the native code the first one compiled', compiledOnly, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-node-cache-'));
  try {
    const script = (tier) => `const kiln = require(${JSON.stringify(kilnPath)});
      const m = kiln.compile(${JSON.stringify(wasm('basic.wat'))}, { tier: '${tier}' });
      const before = m.stats();
      const { exports } = kiln.instantiate(m);
      for (let i = 0; i < 8000; i++) exports.burn(10); // 11 counts each: past the default 50,000
      const deadline = Date.now() + 60000;
      const wait = () => {
        if (m.stats().nativeFunctions === 0 && Date.now() < deadline) return setTimeout(wait, 10);
        console.log(JSON.stringify({ before, after: m.stats() }));
      };
      wait();`;
    const run = (tier) => {
      const r = childOutput(script(tier), { KILN_CACHE_DIR: dir, KILN_CACHE: '', KILN_TIERUP_THRESHOLD: '' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const first = run('auto');
    assert.equal(first.before.nativeFunctions, 0);
    assert.equal(first.after.nativeFunctions, 1, 'burn got hot');
    const second = run('auto');
    assert.equal(second.before.nativeFunctions, 1, 'native before the first call');
    assert.equal(second.before.cachedFunctions, 1);
    assert.equal(run('compiled').before.cacheHit, false);
    assert.equal(run('compiled').before.cacheHit, true);
    const off = childOutput(script('auto'), { KILN_CACHE_DIR: dir, KILN_CACHE: 'off', KILN_TIERUP_THRESHOLD: '' });
    assert.equal(JSON.parse(off.stdout).before.cachedFunctions, 0, 'KILN_CACHE=off');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('objects linked together must share a tier: a LinkError says so', compiledOnly, () => {
  const other = environmentTier === 'interp' ? 'compiled' : 'interp';
  const module = compile(wasm('imports.wat'), { tier: other }); // Memory, Global, Table below are of the default tier
  const js = {
    mem: new kiln.Memory({ initial: 1 }),
    g: new kiln.Global({ value: 'i32', mutable: true }, 0),
    tbl: new kiln.Table({ element: 'anyfunc', initial: 2 }),
  };
  assert.throws(() => instantiate(module, { imports: { js } }), (e) => e instanceof LinkError && new RegExp(`runs in the ${other} tier.*share a tier`).test(e.message));
  assert.equal(instantiate(compile(wasm('imports.wat')), { imports: { js } }).exports.peek(), 0, 'the default tier links');
  // a wasm function of an instance of another tier
  const producer = instantiate(compile(basicBytes, { tier: other }));
  const consumer = compile(wasm('host.wat'));
  assert.throws(() => instantiate(consumer, {
    imports: { env: { add: producer.exports.add, log() {}, fail() {}, big: (x) => x, base: 0 } },
  }), LinkError);
});

// kiln's fault handler (guarded memories) and V8's (its own WebAssembly traps) share the
// process: each must keep working after the other has handled a fault, on the main thread
// and in workers.
test('signals: V8\'s own WebAssembly traps still throw after kiln\'s compiled code trapped', compiledOnly, async () => {
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(basicBytes)).exports;
  const ours = instantiate(compile(basicBytes, { tier: 'compiled' })).exports;
  const v8Trap = (e) => e instanceof WebAssembly.RuntimeError && /out of bounds/.test(e.message);
  const kilnTrap = (e) => e instanceof RuntimeError && e.trap === 'out of bounds memory access';
  for (let round = 0; round < 3; round++) {
    assert.throws(() => ours.load(65534), kilnTrap);
    assert.throws(() => v8.load(65534), v8Trap);
    assert.throws(() => v8.load(0x7ffffff0), v8Trap);
    assert.throws(() => ours.load(-4), kilnTrap);
    await assert.rejects(ours.load.async(0x10000), kilnTrap);
    assert.throws(() => v8.load(0x10000), v8Trap);
  }
  assert.equal(v8.load(0), ours.load(0));
  const code = `
    const { parentPort } = require('node:worker_threads');
    const kiln = require(${JSON.stringify(kilnPath)});
    const bytes = require('node:fs').readFileSync(${JSON.stringify(wasm('basic.wat'))});
    const ours = kiln.instantiate(kiln.compile(bytes, { tier: 'compiled' })).exports;
    const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
    const seen = [];
    for (const f of [ours.load, v8.load, ours.load, v8.load]) {
      try { f(65534); seen.push('returned'); } catch (e) { seen.push(e.constructor.name); }
    }
    parentPort.postMessage(seen);`;
  const seen = await Promise.all([0, 1].map(() => new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true });
    worker.once('message', resolve);
    worker.once('error', reject);
  })));
  for (const s of seen) assert.deepEqual(s, ['RuntimeError', 'RuntimeError', 'RuntimeError', 'RuntimeError']);
});
