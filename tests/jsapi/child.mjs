// child.mjs - runs one file of the WebAssembly JS-API suite (../shared/js-api) in this process
// against one implementation, and prints its results as one JSON line:
//   node child.mjs kiln|v8 SUITE_DIR FILE   ->  {"file", "harness", "tests": [{ name, status, message }]}
// kiln: the global WebAssembly is replaced by kiln.WebAssembly (the facade of the npm
// package, bindings/node); v8: Node's own. The harness is testharness.js in its shell
// environment, with the globals it and the tests expect (self, GLOBAL); the helpers a file
// names in its META lines are loaded first, as <script>s would be, in this realm.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

const [impl, suite, file] = process.argv.slice(2);
const require = createRequire(import.meta.url);
if (impl === 'kiln') {
  const kiln = require('kiln');
  Object.defineProperty(globalThis, 'WebAssembly', { value: kiln.WebAssembly, writable: true, configurable: true, enumerable: false });
} else if (impl !== 'v8') {
  throw new Error(`child.mjs: the implementation is kiln or v8, not ${impl}`);
}

globalThis.self = globalThis;
globalThis.GLOBAL = { isWindow: () => false, isWorker: () => false, isShadowRealm: () => false };

const tests = join(suite, 'tests');
const load = (path) => vm.runInThisContext(readFileSync(path, 'utf8'), { filename: path });
const STATUS = ['PASS', 'FAIL', 'TIMEOUT', 'NOTRUN', 'PRECONDITION_FAILED'];
const results = [];
let printed = false;
function finish(harness) {
  if (printed) return;
  printed = true;
  process.stdout.write(JSON.stringify({ file, harness, tests: results }) + '\n');
  process.exit(0);
}

load(join(suite, 'harness', 'testharness.js'));
globalThis.add_result_callback((t) => results.push({ name: t.name, status: STATUS[t.status] ?? String(t.status), message: t.message ?? null }));
globalThis.add_completion_callback((_, status) => finish(status.status === 0 ? 'OK' : `${['OK', 'ERROR', 'TIMEOUT', 'PRECONDITION_FAILED'][status.status]}: ${status.message}`));
const source = readFileSync(join(tests, file), 'utf8');
for (const [, script] of source.matchAll(/^\/\/ META: script=(\S+)/gm)) {
  load(script.startsWith('/wasm/jsapi/') ? join(tests, script.slice('/wasm/jsapi/'.length)) : join(tests, dirname(file), script));
}
try {
  load(join(tests, file));
} catch (error) {
  // an exception out of the file itself is a harness error, as in a browser
  results.push({ name: `${file}: the file threw`, status: 'FAIL', message: String(error && error.stack || error) });
}
globalThis.done();
setTimeout(() => finish("TIMEOUT: the file did not complete in 60 s"), 60000);
