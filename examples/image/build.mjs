// build.mjs - compiles image.c to build/image.wasm (and build/image-simd.wasm, the same code
// with its SIMD paths, -msimd128) with clang-19 when missing or older than image.c or this file;
// returns their paths. No libc: image.c brings its own allocator and imports nothing, so the
// same module runs on kiln and on V8's WebAssembly.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function buildImage() {
  const source = join(here, 'image.c');
  const variants = { scalar: join(here, 'build', 'image.wasm'), simd: join(here, 'build', 'image-simd.wasm') };
  const newest = Math.max(statSync(source).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs);
  for (const [name, out] of Object.entries(variants)) {
    if (existsSync(out) && statSync(out).mtimeMs >= newest) continue;
    mkdirSync(dirname(out), { recursive: true });
    const temporary = `${out}.${process.pid}.tmp`; // renamed into place: concurrent builds are safe
    execFileSync(process.env.CLANG || 'clang-19', [
      '--target=wasm32', '-nostdlib', '-O3', '-mbulk-memory', ...(name === 'simd' ? ['-msimd128'] : []),
      '-Wl,--no-entry', source, '-o', temporary,
    ], { stdio: 'inherit' });
    renameSync(temporary, out);
  }
  return variants;
}
