// types.test.mjs - index.d.ts type-checks: tsc --noEmit --strict over types.ts (which
// imports 'kiln' as an application would), with the typescript of the root package.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const tsc = join(root, 'node_modules', '.bin', 'tsc');

test('index.d.ts: types.ts compiles with tsc --noEmit --strict', { skip: !existsSync(tsc) && 'typescript is not installed (npm install at the root)', timeout: 120000 }, () => {
  const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--lib', 'es2022', '--types', 'node', join(here, 'types.ts')];
  try {
    execFileSync(tsc, args, { cwd: root, stdio: 'pipe' });
  } catch (error) {
    assert.fail(`tsc found errors:\n${error.stdout}${error.stderr}`);
  }
});

// The package's JavaScript, checked by TypeScript as its lint (--checkJs: undefined names,
// wrong members, wrong argument counts against index.d.ts and Node's types), and the types
// of kiln/glue against a use of them.
test('lib/*.js and install/*.js pass tsc --checkJs; kiln/glue has types', { skip: !existsSync(tsc) && 'typescript is not installed (npm install at the root)', timeout: 120000 }, () => {
  const pkg = join(here, '..');
  const files = ['lib/glue.js', 'lib/index.js', 'lib/index.mjs', 'install/install.js', 'install/build.js', 'install/platform.js']
    .map((f) => join(pkg, f));
  const common = ['--noEmit', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--lib', 'es2022', '--types', 'node'];
  const run = (args) => {
    try {
      execFileSync(tsc, args, { cwd: root, stdio: 'pipe' });
    } catch (error) {
      assert.fail(`tsc found errors:\n${error.stdout}${error.stderr}`);
    }
  };
  run([...common, '--allowJs', '--checkJs', ...files]);
  run([...common, '--strict', join(here, 'glue-types.ts')]);
});
