// package.test.mjs - the package's own facts agree: one Node.js floor (package.json's engines,
// the check require('kiln') and the install script make, the READMEs and scripts/deps.sh),
// and the loader's choice of native files (install/platform.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '..');
const root = join(pkgDir, '..', '..');
const platform = require('../install/platform.js');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));

test('one Node.js floor: engines, the runtime check, the READMEs, deps.sh', () => {
  assert.equal(pkg.engines.node, `>=${platform.NODE_FLOOR}`);
  assert.match(platform.nodeProblem('18.20.4'), new RegExp(`needs Node.js ${platform.NODE_FLOOR} or later; this is Node.js 18.20.4`));
  assert.equal(platform.nodeProblem(`${platform.NODE_FLOOR}.0.0`), null);
  assert.equal(platform.nodeProblem('22.1.0'), null);
  assert.equal(platform.nodeProblem(), null, 'this Node.js runs the tests');
  const texts = {
    'README.md': readFileSync(join(root, 'README.md'), 'utf8'),
    'bindings/node/README.md': readFileSync(join(pkgDir, 'README.md'), 'utf8'),
    'scripts/deps.sh': readFileSync(join(root, 'scripts', 'deps.sh'), 'utf8'),
  };
  for (const [file, text] of Object.entries(texts)) {
    // every "Node.js N or later/or newer/and later" claim names the floor
    const claims = [...text.matchAll(/Node(?:\.js)? (\d+)(?:\+| or later| or newer| and later)/g)].map((m) => Number(m[1]));
    assert.ok(claims.length > 0, `${file} states the Node.js floor`);
    for (const n of claims) assert.equal(n, platform.NODE_FLOOR, `${file} says Node.js ${n}`);
  }
});

test('the package declares what it ships and where it runs', () => {
  assert.deepEqual(pkg.os, ['linux']);
  assert.ok(pkg.cpu.includes('x64'));
  assert.equal(pkg.bin.kiln, 'bin/kiln');
  assert.equal(pkg.scripts.install, 'node install/install.js');
  assert.ok(pkg.bundleDependencies.includes('node-api-headers'));
  assert.ok(pkg.dependencies['node-api-headers']);
  for (const f of ['lib', 'bin', 'install', 'index.d.ts', 'src', 'gc', 'include', 'engine', 'prebuilds']) {
    assert.ok(pkg.files.includes(f), `files lists ${f}`);
  }
  assert.equal(pkg.peerDependenciesMeta['@types/node'].optional, true);
  const header = readFileSync(join(root, 'include', 'kiln.h'), 'utf8');
  assert.equal(/#define KILN_VERSION "([^"]+)"/.exec(header)[1], pkg.version, 'kiln.h and package.json agree on the version');
});

test('prebuild folders: this platform and CPU, glibc before musl', () => {
  assert.match(platform.prebuildName(), /^linux-(x64|arm64)-(glibc|musl)$/);
  assert.equal(platform.compareVersions('2.36', '2.4'), 32);
  assert.ok(platform.compareVersions('2.31', '2.36') < 0);
  assert.equal(platform.compareVersions('2.36.0', '2.36'), 0);
  // in the repository: the addon make built, and no prebuilds
  assert.equal(platform.inRepository(), true);
  assert.deepEqual(platform.prebuildFolders(), []);
  const saved = process.env.KILN_NODE_ADDON;
  try {
    process.env.KILN_NODE_ADDON = '/elsewhere/kiln.node';
    assert.deepEqual(platform.addonCandidates(), ['/elsewhere/kiln.node']);
  } finally {
    if (saved === undefined) delete process.env.KILN_NODE_ADDON;
    else process.env.KILN_NODE_ADDON = saved;
  }
});

test("kiln/glue: glue of another table format is refused with what to do", () => {
  const glue = require('kiln/glue');
  assert.equal(typeof glue.bind, 'function');
  assert.throws(() => glue.bind({ format: glue.FORMAT + 1, file: '/p/newer.js' }),
    /\/p\/newer\.js: this glue was written by a kiln bindgen whose table format is \d+, and this kiln package reads format \d+: update the kiln package/);
  assert.throws(() => glue.bind({ format: 0, file: '/p/older.js' }), /run kiln build \(or kiln bindgen\) again/);
});
