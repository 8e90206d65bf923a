// tier.test.mjs - the tier option: modules compiled for the interpreter or by the LLVM tier
// ({tier: 'compiled'}), the tier reported back, wrong values, KILN_TIER (the default, also in
// workers); and in compiled code: timeouts and interrupts that stop an endless loop, memory
// caps, fuel, traps with backtraces, host calls, async calls on the thread pool and pools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import kiln, { compile, instantiate, LinkError, RuntimeError, TimeoutError } from 'kiln';
import { wasm } from './helpers.mjs';

const kilnPath = createRequire(import.meta.url).resolve('kiln');
const basicBytes = readFileSync(wasm('basic.wat'));
const environmentTier = process.env.KILN_TIER || 'interp';
const hasCompiled = kiln.tiers.includes('compiled');
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
  assert.equal(module.tier, environmentTier, 'the default is KILN_TIER, else interp');
  const interp = compile(basicBytes, { tier: 'interp' });
  assert.equal(interp.tier, 'interp');
  assert.deepEqual(interp.stats(), {
    tier: 'interp', functions: interp.stats().functions, nativeFunctions: 0, nativeCodeBytes: 0,
    translatedFunctions: 0, translatedCodeBytes: 0,
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
    [() => compile(basicBytes, { tier: 'fast' }), /options.tier must be "interp" or "compiled", got a string \("fast"\)/],
    [() => compile(basicBytes, { tier: 3 }), /options.tier must be "interp" or "compiled", got a number \(3\)/],
    [() => compile(basicBytes, { tier: null }), /options.tier must be "interp" or "compiled", got null/],
    [() => compile(basicBytes, { portable: 'yes' }), /options.portable must be a boolean, got a string/],
    [() => compile(basicBytes, { teir: 'compiled' }), /options.teir is not an option \(known: tier, portable, fuel\)/],
    [() => compile(basicBytes, 'compiled'), /options must be an object/],
    [() => new kiln.Module(basicBytes, { tier: 'jit' }), /options.tier must be "interp" or "compiled"/],
    [() => instantiate(basicBytes, { tier: 'fast' }), /options.tier must be "interp" or "compiled"/],
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
  assert.equal(childOutput(script, { KILN_TIER: '' }).stdout, 'interp interp');
  assert.equal(childOutput(script, { KILN_TIER: 'interp' }).stdout, 'interp interp');
  if (hasCompiled) assert.equal(childOutput(script, { KILN_TIER: 'compiled' }).stdout, 'compiled compiled');
  const bad = childOutput(script, { KILN_TIER: 'fast' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /the environment variable KILN_TIER is "fast": use interp or compiled/);
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
  for (const tier of ['interp', 'compiled']) {
    const worker = new Worker(code, { eval: true, env: { ...process.env, KILN_TIER: tier } });
    const [reported, sum, error] = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.deepEqual([reported, sum, error], [tier, 42, 'TimeoutError']);
    await worker.terminate();
  }
});

test('compiled code: a timeout stops an endless loop, sync and async; interrupt() too', compiledOnly, async () => {
  const module = compile(basicBytes, { tier: 'compiled' });
  const instance = instantiate(module, { limits: { timeoutMs: 30 } });
  assert.throws(() => instance.exports.spin(), (e) => e instanceof TimeoutError && e.trap === 'interrupted');
  await assert.rejects(instance.exports.spin.async(), TimeoutError);
  await assert.rejects(instance.callAsync('spin', [], { timeoutMs: 20 }), TimeoutError);
  assert.equal(instance.exports.add(1, 2), 3, 'the instance stays usable');
  const other = instantiate(module);
  setTimeout(() => other.interrupt(), 30);
  await assert.rejects(other.exports.spin.async(), (e) => e instanceof RuntimeError && !(e instanceof TimeoutError) && e.trap === 'interrupted');
  await assert.rejects(other.callAsync('spin', [], { signal: AbortSignal.timeout(20) }), { name: 'TimeoutError' });
  assert.equal(await other.exports.burn.async(1000), instantiate(compile(basicBytes, { tier: 'interp' })).exports.burn(1000));
});

test('compiled code: memory caps, fuel, traps with backtraces, stack exhaustion', compiledOnly, async () => {
  const module = compile(basicBytes, { tier: 'compiled' });
  const capped = instantiate(module, { limits: { memory: 4 << 20 } });
  assert.equal(capped.exports.grow(63), 1);
  assert.equal(capped.exports.grow(1), -1, 'memory.grow past the limit returns -1');
  const bomb = instantiate(module, { limits: { memory: 64 << 20 } });
  const pages = await bomb.exports.bomb.async(65536);
  assert.ok(pages >= 1000 && pages <= 1024, `the bomb stopped at ${pages} pages`);
  assert.throws(() => instantiate(compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 0, 128, 2]), { tier: 'compiled' }), { limits: { memory: 1 << 20 } }), /limit|memory/i);

  // compiled code counts fuel only when compiled with { fuel: true } (instantiate of bytes
  // with limits.fuel sets it); otherwise a fuel limit is refused up front
  assert.throws(() => instantiate(module, { limits: { fuel: 10000 } }), (e) => e instanceof TypeError && /fuel: true/.test(e.message));
  assert.throws(() => instantiate(module).setFuel(100), (e) => e instanceof TypeError && /fuel: true/.test(e.message));
  const metered = compile(basicBytes, { tier: 'compiled', fuel: true });
  const fueled = instantiate(metered, { limits: { fuel: 10000 } });
  assert.throws(() => fueled.exports.spin(), (e) => e instanceof RuntimeError && e.trap === 'out of fuel');
  assert.equal(fueled.fuel, 0);
  const fromBytes = instantiate(basicBytes, { tier: 'compiled', limits: { fuel: 10000 } });
  assert.throws(() => fromBytes.exports.spin(), (e) => e instanceof RuntimeError && e.trap === 'out of fuel');
  assert.throws(() => compile(basicBytes, { tier: 'compiled', fuel: 'yes' }), /options.fuel must be a boolean/);

  const instance = instantiate(module);
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
});

test('compiled code: host functions from sync and async calls, and a pool', compiledOnly, async () => {
  const host = compile(wasm('host.wat'), { tier: 'compiled' });
  const logged = [];
  const instance = instantiate(host, {
    imports: { env: { add: (a, b) => a + b, log: (i) => logged.push(i), fail() { throw new RangeError('no'); }, big: (x) => x, base: 1 } },
  });
  assert.equal(instance.exports.twice(1, 2), 7);
  assert.equal(await instance.exports.many.async(100), 5050);
  assert.equal(logged.length, 100);
  await assert.rejects(instance.exports.callFailDeep.async(), RangeError);

  const pool = new kiln.Pool(compile(basicBytes, { tier: 'compiled' }), { size: 2, limits: { timeoutMs: 1000 } });
  assert.equal(pool.tier, 'compiled');
  assert.ok(pool.instances.every((i) => i.tier === 'compiled'));
  const expected = instantiate(compile(basicBytes, { tier: 'interp' })).exports;
  const inputs = [1000, 2000, 3000, 4000];
  assert.deepEqual(await Promise.all(inputs.map((n) => pool.call('burn', n))), inputs.map((n) => expected.burn(n)));
  await pool.close();
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
