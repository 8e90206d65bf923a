// build.mjs - `kiln build` on the guest crate rust/ when its outputs are missing or older than
// its sources or this file: build/crates.wasm and its JavaScript glue (crates.js, .mjs,
// .d.ts). The kiln command is $KILN, else the repository's build/kiln; the directory is
// $KILN_CRATES_BUILD_DIR, else build/ here. cargo runs offline against Debian's directory
// registry, which must hold the crates of CRATES (the packages of PACKAGES install them).
//   buildCrates() -> { wasm, glue }      missingCrates() -> the crates not installed
//   node build.mjs --check               exits 77 (CTest's "skipped") naming the missing packages
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const REGISTRY = '/usr/share/cargo/registry';
// Each crate rust/Cargo.toml uses, beside wasm-bindgen, and the Debian package that has it
// (regex's default features need aho-corasick, which librust-regex+default-dev brings).
export const PACKAGES = {
  'wasm-bindgen': 'librust-wasm-bindgen-dev',
  sha2: 'librust-sha2-dev',
  miniz_oxide: 'librust-miniz-oxide-dev',
  regex: 'librust-regex-dev',
  'aho-corasick': 'librust-regex+default-dev',
  serde_json: 'librust-serde-json-dev',
  'pulldown-cmark': 'librust-pulldown-cmark-dev',
};
const INPUTS = ['rust/src/lib.rs', 'rust/Cargo.toml', 'rust/Cargo.lock'];

export function missingCrates() {
  const present = existsSync(REGISTRY) ? readdirSync(REGISTRY) : [];
  return Object.keys(PACKAGES).filter((crate) => !present.some((dir) => dir.startsWith(`${crate}-`) && /^\d/.test(dir.slice(crate.length + 1))));
}

export function buildCrates() {
  const kiln = process.env.KILN || join(here, '..', '..', 'build', 'kiln');
  const out = process.env.KILN_CRATES_BUILD_DIR || join(here, 'build');
  const wasm = join(out, 'crates.wasm');
  const glue = join(out, 'crates.js');
  // (the kiln command too: a newer one may write other glue)
  const newest = Math.max(...[...INPUTS.map((file) => join(here, file)), fileURLToPath(import.meta.url), ...(existsSync(kiln) ? [kiln] : [])].map((file) => statSync(file).mtimeMs));
  if (existsSync(glue) && existsSync(wasm) && statSync(wasm).mtimeMs >= newest && statSync(glue).mtimeMs >= newest) return { wasm, glue };
  const missing = missingCrates();
  if (missing.length) throw new Error(`crates missing from ${REGISTRY}: ${missing.join(', ')} (apt-get install ${missing.map((c) => PACKAGES[c]).join(' ')}, or scripts/deps.sh)`);
  if (!existsSync(kiln)) throw new Error(`${kiln} not found: run make (or set KILN to a kiln command)`);
  try {
    execFileSync(kiln, ['build', join(here, 'rust'), '-o', out], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`${kiln} build failed (this needs a kiln with 'kiln build': run make, or set KILN):\n${error.stderr || error.message}`);
  }
  return { wasm, glue };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = missingCrates();
  if (process.argv.includes('--check')) {
    if (missing.length) {
      console.log(`skipped: examples/crates needs Debian's crates ${missing.join(', ')} in ${REGISTRY} (apt-get install ${missing.map((c) => PACKAGES[c]).join(' ')}, or scripts/deps.sh)`);
      process.exit(77);
    }
  } else {
    console.log(buildCrates());
  }
}
