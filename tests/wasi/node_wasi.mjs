// A wasmtime-style command line over Node's node:wasi, to compare kiln's WASI with another
// implementation: node tests/wasi/node_wasi.mjs [--dir HOST[::GUEST]]... [--env K=V]... app.wasm [args...]
import { WASI } from 'node:wasi';
import fs from 'node:fs';
import process from 'node:process';

const argv = process.argv.slice(2);
const env = {};
const preopens = {};
while (argv.length && argv[0].startsWith('--')) {
  const flag = argv.shift();
  const value = argv.shift();
  if (flag === '--dir') {
    const [host, guest] = value.split('::');
    preopens[guest ?? host] = host;
  } else if (flag === '--env') {
    const eq = value.indexOf('=');
    env[value.slice(0, eq)] = value.slice(eq + 1);
  } else {
    console.error(`node_wasi: unknown option ${flag}`);
    process.exit(2);
  }
}
const wasi = new WASI({ version: 'preview1', args: argv, env, preopens, returnOnExit: true });
const module = await WebAssembly.compile(fs.readFileSync(argv[0]));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
try {
  process.exitCode = wasi.start(instance);
} catch (e) {
  console.error(`trap: ${e}`);
  process.exitCode = 134;
}
