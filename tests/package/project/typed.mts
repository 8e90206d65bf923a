// typed.mts - the generated glue from TypeScript, checked with tsc --strict against the
// package's index.d.ts and @types/node only (tsconfig.json: lib es2022, no DOM).
import assert from 'node:assert/strict';
import kiln, { type Instance } from 'kiln';
import { say, instance } from './rust/hello.mjs';
import * as c from './c/hello-c.mjs';

const greeting: string = say('ts');
assert.equal(greeting, 'hello ts');
const later: Promise<string> = c.say.async('ts');
assert.equal(await later, 'hello ts');
const same: Instance = instance;
const memory = same.memory;
assert.ok(memory !== undefined && memory.buffer.byteLength > 0);
const module = kiln.compile(new URL('./c/hello-c.wasm', import.meta.url));
assert.ok(module.exports().length > 0);
// @ts-expect-error: say takes a string
assert.throws(() => say(1));
console.log('ts: ok');
