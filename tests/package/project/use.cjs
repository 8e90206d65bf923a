// use.cjs - the generated glue from CommonJS, as a user's project calls it.
'use strict';
const assert = require('node:assert/strict');
const rust = require('./rust/hello.js');
const c = require('./c/hello-c.js');
const kiln = require('kiln');

(async () => {
  assert.equal(rust.say('world'), 'hello world');
  assert.equal(c.say('world'), 'hello world');
  assert.equal(await rust.say.async('async'), 'hello async');
  assert.equal(await c.say.async('async'), 'hello async');
  const pool = rust.createPool({ size: 2 });
  const names = ['a', 'b', 'c', 'd'];
  assert.deepEqual(await Promise.all(names.map((n) => pool.say(n))), names.map((n) => `hello ${n}`));
  await pool.close();
  assert.throws(() => rust.say(42), TypeError);
  console.log(`cjs: ok (tiers ${kiln.tiers.join(', ')})`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
