// build.mjs - `kiln build` on the two guests, each twice, when the outputs are missing or
// older than the guest's sources or this file: image.c into build/image.wasm with its
// JavaScript glue (build/image.js, .mjs, .d.ts), compiled with -msimd128 (image.c's SIMD
// paths), and build/image-scalar.* without; the Rust crate rust/ into build/image-rust.* with
// the simd128 target feature and build/image-rust-scalar.* without (both with bulk-memory,
// as the C). The kiln command is $KILN, else the repository's build/kiln; the directory is
// $KILN_IMAGE_BUILD_DIR, else build/ here.
//   buildImage(guests = ['c', 'rust']) -> { c: { simd: { wasm, glue }, scalar: {...} }, rust: {...} }
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const C_FLAGS = ['-O3', '-mbulk-memory'];
// Cargo's --config (kiln build passes what follows -- to cargo) sets the target features
// for the crate only: Debian's prebuilt standard library stays as it is.
const rustFeatures = (features) => ['--config', `target.wasm32-unknown-unknown.rustflags=["-Ctarget-feature=${features}"]`];

// For each guest: what `kiln build` builds, the files whose changes make it stale, and per
// variant the output name and the arguments for the compiler (after --).
const GUESTS = {
  c: {
    source: 'image.c',
    inputs: ['image.c'],
    variants: { simd: ['image', [...C_FLAGS, '-msimd128']], scalar: ['image-scalar', C_FLAGS] },
  },
  rust: {
    source: 'rust',
    inputs: ['rust/src/lib.rs', 'rust/Cargo.toml'],
    variants: {
      simd: ['image-rust', rustFeatures('+simd128,+bulk-memory')],
      scalar: ['image-rust-scalar', rustFeatures('+bulk-memory')],
    },
  },
};

export function buildImage(guests = Object.keys(GUESTS)) {
  const kiln = process.env.KILN || join(here, '..', '..', 'build', 'kiln');
  const out = process.env.KILN_IMAGE_BUILD_DIR || join(here, 'build');
  const paths = {};
  for (const guest of guests) {
    const { source, inputs, variants } = GUESTS[guest];
    // (the kiln command too: a newer one may write other glue)
    const newest = Math.max(...[...inputs.map((file) => join(here, file)), fileURLToPath(import.meta.url), ...(existsSync(kiln) ? [kiln] : [])].map((file) => statSync(file).mtimeMs));
    paths[guest] = {};
    for (const [variant, [name, flags]] of Object.entries(variants)) {
      const wasm = join(out, `${name}.wasm`);
      const glue = join(out, `${name}.js`);
      paths[guest][variant] = { wasm, glue };
      if (existsSync(glue) && existsSync(wasm) && statSync(wasm).mtimeMs >= newest && statSync(glue).mtimeMs >= newest) continue;
      if (!existsSync(kiln)) throw new Error(`${kiln} not found: run make (or set KILN to a kiln command)`);
      try {
        execFileSync(kiln, ['build', join(here, source), '-o', out, '--name', name, '--', ...flags], { stdio: 'pipe' });
      } catch (error) {
        throw new Error(`${kiln} build failed (this needs a kiln with 'kiln build': run make, or set KILN):\n${error.stderr || error.message}`);
      }
    }
  }
  return paths;
}
