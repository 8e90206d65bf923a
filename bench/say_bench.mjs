// say_bench.mjs - the seed's round trip, say("world") -> "hello world", for the Rust guest
// (examples/hello-rust, #[wasm_bindgen]) and the C guest (examples/hello-c, kiln/guest.h),
// each four ways in one run: kiln through the glue `kiln build` generates (sync and .async),
// the same .wasm on V8's WebAssembly with the glue's steps written out (allocate, copy the
// UTF-8 in, call with a return area, read the result, free what the guest hands back), and
// plain JavaScript. `node bench/say_bench.mjs [--quick]`; make bench runs it.
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kilnCmd = process.env.KILN || path.join(root, 'build', 'kiln');
const require = createRequire(import.meta.url);
const quick = process.argv.includes('--quick');
const N = quick ? 20000 : 200000;
const encoder = new TextEncoder(), decoder = new TextDecoder();

// Builds examples/NAME with `kiln build` into build/say-bench/NAME; returns the glue and bytes.
function build(name, module) {
  const out = path.join(root, 'build', 'say-bench', name);
  mkdirSync(out, { recursive: true });
  execFileSync(kilnCmd, ['build', path.join(root, 'examples', name), '-o', out], { stdio: 'ignore' });
  return { glue: require(path.join(out, `${module}.js`)), bytes: readFileSync(path.join(out, `${module}.wasm`)) };
}

// The generated glue's steps over plain V8 exports. `alloc`/`free` are the guest's allocator
// (kiln_alloc/kiln_free for C; __wbindgen_malloc/__wbindgen_free(ptr, len) for Rust, whose
// &str argument the guest takes over and frees itself).
function v8Glue(raw, { alloc, free, freesArgument }) {
  const retptr = alloc(16);
  return (name) => {
    const utf8 = encoder.encode(name);
    const ptr = alloc(utf8.length);
    new Uint8Array(raw.memory.buffer, ptr, utf8.length).set(utf8);
    try {
      raw.say(retptr, ptr, utf8.length);
    } finally {
      if (!freesArgument) free(ptr, utf8.length);
    }
    const view = new DataView(raw.memory.buffer);
    const rptr = view.getUint32(retptr, true), rlen = view.getUint32(retptr + 4, true);
    const text = decoder.decode(new Uint8Array(raw.memory.buffer, rptr, rlen));
    free(rptr, rlen);
    return text;
  };
}

async function v8Instance(bytes, imports) {
  const { instance } = await WebAssembly.instantiate(bytes, imports);
  if (instance.exports._initialize) instance.exports._initialize();
  return instance.exports;
}

const stub = () => 0;
const rust = build('hello-rust', 'hello');
const rustRaw = await v8Instance(rust.bytes, {
  __wbindgen_placeholder__: { __wbindgen_describe() {} },
  __wbindgen_externref_xform__: new Proxy({}, { get: () => stub }),
});
const c = build('hello-c', 'hello-c');
let cRaw;
cRaw = await v8Instance(c.bytes, {
  kiln: { fail(ptr, len) { throw new Error(decoder.decode(new Uint8Array(cRaw.memory.buffer, ptr, len))); } },
  wasi_snapshot_preview1: new Proxy({}, { get: () => stub }),
});
const guests = [
  ['Rust', 'examples/hello-rust', rust.glue, v8Glue(rustRaw, { alloc: rustRaw.__wbindgen_malloc, free: rustRaw.__wbindgen_free, freesArgument: true })],
  ['C', 'examples/hello-c', c.glue, v8Glue(cRaw, { alloc: cRaw.kiln_alloc, free: (p) => cRaw.kiln_free(p), freesArgument: false })],
];

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
  for (let i = 0; i < n / 10; i++) await f('world');
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if ((await f('world')) !== 'hello world') throw new Error('wrong answer');
  return Number(process.hrtime.bigint() - t) / n;
}

const jsSay = (name) => `hello ${name}`;
console.log(`say("world") -> "hello world" round trip, ns per call (sync: best of 5 x ${N}; async: mean of ${N / 20} awaited in turn):`);
for (const [lang, where, glue, v8Say] of guests) {
  const rows = [
    ['kiln, generated glue, sync', time(glue.say)],
    ['kiln, generated glue, .async()', await timeAsync(glue.say.async)],
    ["V8 WebAssembly, the glue's steps", time(v8Say)],
  ];
  console.log(`  ${lang} guest (${where}):`);
  for (const [name, ns] of rows) console.log(`    ${name.padEnd(34)} ${ns.toFixed(0).padStart(8)}`);
  glue.close?.();
}
console.log(`  plain JavaScript:\n    ${'template string'.padEnd(34)} ${time(jsSay).toFixed(0).padStart(8)}`);
process.exit(0);
