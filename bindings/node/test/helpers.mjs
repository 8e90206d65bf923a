// helpers.mjs - what the test files share: building the fixtures (fixtures/*.wat with
// wat2wasm, fixtures/*.c with clang-19) into a temporary directory of this process, and
// small measuring helpers.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const tmp = mkdtempSync(join(tmpdir(), 'kiln-node-test-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const CLANG = process.env.CLANG || 'clang-19';
const WAT2WASM = process.env.WAT2WASM || 'wat2wasm';

const built = new Map();

function run(command, args) {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`${command} ${args.join(' ')} failed: ${error.stderr || error.message}`);
  }
}

// The path of fixtures/NAME built to wasm: NAME.wat (names kept, for backtraces), NAME.c as
// a WASI command, or, with {bare: true}, as a library without libc (exports by attribute).
export function wasm(name, { bare = false } = {}) {
  const key = `${name}:${bare}`;
  if (built.has(key)) return built.get(key);
  const out = join(tmp, `${name}${bare ? '.bare' : ''}.wasm`);
  if (name.endsWith('.wat')) {
    run(WAT2WASM, ['--debug-names', join(fixtures, name), '-o', out]);
  } else if (bare) {
    run(CLANG, ['--target=wasm32', '-nostdlib', '-O2', '-Wl,--no-entry', '-Wl,--allow-undefined',
      join(fixtures, name), '-o', out]);
  } else {
    run(CLANG, ['--target=wasm32-wasi', '--sysroot=/usr', '-O2', join(fixtures, name), '-o', out]);
  }
  built.set(key, out);
  return out;
}

// Copy fixtures/NAME into the temporary directory (beside the built wasm); its new path.
export function copyFixture(name, as = name) {
  const to = join(tmp, as);
  copyFileSync(join(fixtures, name), to);
  return to;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Calibrate basic.wat's burn(n): the n that takes about `seconds` on this machine.
export function burnCount(instance, seconds) {
  let n = 1 << 20;
  for (;;) {
    const t0 = performance.now();
    instance.exports.burn(n);
    const ms = performance.now() - t0;
    if (ms > 100 || n >= 1 << 30) return Math.min(2 ** 31 - 1, Math.round((n * seconds * 1000) / ms));
    n *= 4;
  }
}
