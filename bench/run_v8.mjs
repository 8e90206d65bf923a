// run_v8.mjs - the V8 runner of `make bench`: run a WASI command with Node.js's node:wasi,
// as `kiln run` would.
//
//   node --no-warnings run_v8.mjs FILE.wasm [ARGS...]
//
// Compiles FILE.wasm with V8's default tiering (the baseline compiler first, the optimising
// one for hot functions), instantiates it with the wasi_snapshot_preview1 imports, runs
// _start with argv = [FILE.wasm, ARGS...], no environment and no preopened directories, and
// exits with the program's exit code. bench.py times the whole process, Node's start-up
// included (it measures that start-up separately on an empty program).
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const [path, ...args] = process.argv.slice(2);
if (!path) {
  process.stderr.write('usage: node --no-warnings run_v8.mjs FILE.wasm [ARGS...]\n');
  process.exit(2);
}

try {
  const wasi = new WASI({ version: 'preview1', args: [path, ...args], env: {}, returnOnExit: true });
  const module = await WebAssembly.compile(readFileSync(path));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  process.exitCode = wasi.start(instance);
} catch (e) {
  process.stderr.write(`run_v8: ${path}: ${e && e.message ? e.message : e}\n`);
  process.exitCode = 134;
}
