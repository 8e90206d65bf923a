// build.mjs - builds heavy.c to build/heavy.wasm with clang-19 when it is missing or older
// than the source; returns its path.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function buildHeavy() {
  const source = join(here, 'heavy.c');
  const out = join(here, 'build', 'heavy.wasm');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return out;
  mkdirSync(dirname(out), { recursive: true });
  execFileSync(process.env.CLANG || 'clang-19',
    ['--target=wasm32', '-nostdlib', '-O2', '-Wl,--no-entry', source, '-o', out], { stdio: 'inherit' });
  return out;
}
