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
