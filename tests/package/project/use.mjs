// use.mjs - the generated glue and the package from an ES module.
import assert from 'node:assert/strict';
import kiln from 'kiln';
import { say } from './rust/hello.mjs';
import { say as sayC } from './c/hello-c.mjs';

assert.equal(say('esm'), 'hello esm');
assert.equal(await sayC.async('esm'), 'hello esm');
// the package's own API on the same module
const module = kiln.compile(new URL('./c/hello-c.wasm', import.meta.url));
assert.ok(module.exports().some((e) => e.name === 'say'));
console.log('esm: ok');
