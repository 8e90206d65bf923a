// run_v8.mjs - the V8 runner of `make bench`: run one exported function of a .wasm file
// with Node.js's WebAssembly and time it.
//
//   node run_v8.mjs [--func NAME] FILE.wasm N
//
// Instantiates FILE.wasm without imports, calls the reactor initialiser `_initialize` if
// exported, then times NAME(N) (default "run", (i32) -> i32) with performance.now() and
// prints `checksum=<u32> seconds=<call time> compile_seconds=<instantiate time>`. The
// timed call includes V8's tier-up from its baseline compiler to the optimising one.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
let funcName = 'run';
const positional = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--func' && i + 1 < args.length) funcName = args[++i];
  else positional.push(args[i]);
}
if (positional.length !== 2) {
  process.stderr.write('usage: node run_v8.mjs [--func NAME] FILE.wasm N\n');
  process.exit(2);
}
const [path, nText] = positional;
const n = Number(nText);
if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
  process.stderr.write(`run_v8: bad N '${nText}'\n`);
  process.exit(2);
}

try {
  const bytes = readFileSync(path);
  const t0 = performance.now();
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const compileSeconds = (performance.now() - t0) / 1000;
  const exports = instance.exports;
  if (typeof exports._initialize === 'function') exports._initialize();
  const run = exports[funcName];
  if (typeof run !== 'function') throw new Error(`${path} exports no function '${funcName}'`);
  const t1 = performance.now();
  const result = run(n | 0) >>> 0;
  const seconds = (performance.now() - t1) / 1000;
  console.log(`checksum=${result} seconds=${seconds.toFixed(6)} compile_seconds=${compileSeconds.toFixed(6)}`);
} catch (e) {
  process.stderr.write(`run_v8: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
}
