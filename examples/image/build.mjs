// build.mjs - `kiln build` on image.c, twice, when the outputs are missing or older than
// image.c or this file: build/image.wasm with its JavaScript glue (build/image.js, .mjs,
// .d.ts), compiled with -msimd128 (image.c's SIMD paths), and build/image-scalar.* without.
// The kiln command is $KILN, else the repository's build/kiln; the directory is
// $KILN_IMAGE_BUILD_DIR, else build/ here. Returns the paths.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const FLAGS = ['-O3', '-mbulk-memory'];

export function buildImage() {
  const kiln = process.env.KILN || join(here, '..', '..', 'build', 'kiln');
  const source = join(here, 'image.c');
  const newest = Math.max(statSync(source).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs);
  const out = process.env.KILN_IMAGE_BUILD_DIR || join(here, 'build');
  const variants = { simd: 'image', scalar: 'image-scalar' };
  const paths = {};
  for (const [variant, name] of Object.entries(variants)) {
    const wasm = join(out, `${name}.wasm`);
    const glue = join(out, `${name}.js`);
    paths[variant] = { wasm, glue };
    if (existsSync(glue) && statSync(wasm).mtimeMs >= newest && statSync(glue).mtimeMs >= newest) continue;
    if (!existsSync(kiln)) throw new Error(`${kiln} not found: run make (or set KILN to a kiln command)`);
    const flags = variant === 'simd' ? [...FLAGS, '-msimd128'] : FLAGS;
    try {
      execFileSync(kiln, ['build', source, '-o', out, '--name', name, '--', ...flags], { stdio: 'pipe' });
    } catch (error) {
      throw new Error(`${kiln} build failed (this needs a kiln with 'kiln build': run make, or set KILN):\n${error.stderr || error.message}`);
    }
  }
  return paths;
}
