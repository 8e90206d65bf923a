// say_bench.mjs - the seed's round trip, say("world") -> "hello world", three ways in one run:
// kiln through the glue `kiln build` generates (sync and .async), the same C module on V8's
// WebAssembly with the same glue steps written out (allocate, copy the UTF-8 in, call with a
// return area, read the result, free both), and plain JavaScript. The guest is
// examples/hello-c. `node bench/say_bench.mjs [--quick]`; make bench runs it.
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kilnCmd = process.env.KILN || path.join(root, 'build', 'kiln');
const out = path.join(root, 'build', 'say-bench');
mkdirSync(out, { recursive: true });
execFileSync(kilnCmd, ['build', path.join(root, 'examples', 'hello-c'), '-o', out], { stdio: 'ignore' });
const require = createRequire(import.meta.url);
const glue = require(path.join(out, 'hello-c.js'));
const quick = process.argv.includes('--quick');
const N = quick ? 20000 : 200000;

// V8: the same module and the same steps as the generated glue.
const bytes = readFileSync(path.join(out, 'hello-c.wasm'));
const stub = () => 0;
const { instance } = await WebAssembly.instantiate(bytes, {
  kiln: { fail(ptr, len) { throw new Error(new TextDecoder().decode(new Uint8Array(raw.memory.buffer, ptr, len))); } },
  wasi_snapshot_preview1: new Proxy({}, { get: () => stub }),
});
const raw = instance.exports;
if (raw._initialize) raw._initialize();
const encoder = new TextEncoder(), decoder = new TextDecoder();
const retptr = raw.kiln_alloc(16);
function v8Say(name) {
  const utf8 = encoder.encode(name);
  const ptr = raw.kiln_alloc(utf8.length);
  new Uint8Array(raw.memory.buffer, ptr, utf8.length).set(utf8);
  try {
    raw.say(retptr, ptr, utf8.length);
    const view = new DataView(raw.memory.buffer);
    const rptr = view.getUint32(retptr, true), rlen = view.getUint32(retptr + 4, true);
    const text = decoder.decode(new Uint8Array(raw.memory.buffer, rptr, rlen));
    raw.kiln_free(rptr);
    return text;
  } finally {
    raw.kiln_free(ptr);
  }
}
const jsSay = (name) => `hello ${name}`;

function time(f) {
  for (let i = 0; i < N / 10; i++) f('world');
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) if (f('world') !== 'hello world') throw new Error('wrong answer');
    best = Math.min(best, Number(process.hrtime.bigint() - t) / N);
  }
  return best;
}
async function timeAsync(f) {
  const n = N / 20;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if ((await f('world')) !== 'hello world') throw new Error('wrong answer');
  return Number(process.hrtime.bigint() - t) / n;
}

const rows = [
  ['kiln, generated glue, sync', time(glue.say)],
  ['kiln, generated glue, .async()', await timeAsync(glue.say.async)],
  ["V8 WebAssembly, the glue's steps", time(v8Say)],
  ['plain JavaScript', time(jsSay)],
];
console.log(`say("world") -> "hello world" round trip (examples/hello-c), ns per call, best of 5 x ${N}:`);
for (const [name, ns] of rows) console.log(`  ${name.padEnd(34)} ${ns.toFixed(0).padStart(8)}`);
glue.close?.();
process.exit(0);
