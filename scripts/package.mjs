#!/usr/bin/env node
// package.mjs - `make package`: the npm package `kiln` as a tarball ready to publish
// (build/package/kiln-VERSION.tgz). It holds:
//   lib/, index.d.ts, bin/kiln, install/   the JavaScript API, its types, the CLI's entry and
//                                          the install script (bindings/node/)
//   prebuilds/linux-x64-glibc/             the addon and the kiln CLI of the Release build (the
//                                          CLI's kiln-dynamic: shared libc, for WASI-NN), both
//                                          with LLVM linked in statically, stripped, with
//                                          prebuild.json (the glibc they need, their tier)
//   include/                               kiln.h and the guest headers (kiln/guest.h)
//   src/, engine/src/, engine/tools/       the sources a build without a prebuild needs
//   node_modules/node-api-headers/         bundled: a source build downloads nothing
// Usage: node scripts/package.mjs [--build-dir build] [--out build/package]

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? path.resolve(args[i + 1]) : fallback;
};
const buildDir = option('--build-dir', path.join(repo, 'build'));
const outDir = option('--out', path.join(repo, 'build', 'package'));

function die(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function copy(from, to, filter = () => true) {
  fs.cpSync(from, to, {
    recursive: true,
    filter: (src) => filter(src) && !/(^|\/)(\.|node_modules$|build$)/.test(path.relative(from, src)),
  });
}

const nodeDir = path.join(repo, 'bindings', 'node');
const pkg = JSON.parse(fs.readFileSync(path.join(nodeDir, 'package.json'), 'utf8'));
const header = fs.readFileSync(path.join(repo, 'include', 'kiln.h'), 'utf8');
const kilnVersion = /#define KILN_VERSION "([^"]+)"/.exec(header)?.[1];
if (pkg.version !== kilnVersion) {
  die(`bindings/node/package.json says version ${pkg.version}, include/kiln.h says ${kilnVersion}: make them agree`);
}

const addon = path.join(nodeDir, 'build', 'kiln.node');
const gcAddon = path.join(nodeDir, 'build', 'kiln_gc.node'); // the environment of its finalizers (gc/gc.c)
// The CLI: build/kiln-dynamic, the command linked against the shared libc with LLVM linked in
// statically (not the static build/kiln, which starts 0.25 ms sooner but cannot load ONNX
// Runtime for WASI-NN programs, and runs them through this one: shipping both would add 45 MB).
const cli = path.join(buildDir, 'kiln-dynamic');
for (const f of [addon, gcAddon, cli]) {
  if (!fs.existsSync(f)) die(`${f} is not built: run make first`);
}

// What the prebuilt binaries need of the user's machine.
function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  return x[0] - y[0] || (x[1] || 0) - (y[1] || 0) || (x[2] || 0) - (y[2] || 0);
}
function needed(file) {
  const out = spawnSync('readelf', ['-d', '--dyn-syms', '-W', file], { encoding: 'utf8' });
  if (out.status !== 0) die(`readelf failed on ${file}: ${out.stderr}`);
  const libs = [...out.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const glibc = [...out.stdout.matchAll(/@GLIBC_([0-9.]+)/g)].map((m) => m[1]);
  glibc.sort(compareVersions);
  return { libs, glibc: glibc.at(-1) || null };
}
const allowed = /^(libc|libm|libpthread|libdl|librt|libstdc\+\+|libgcc_s|ld-linux-x86-64)\.so/;
const addonNeeds = needed(addon);
const stray = addonNeeds.libs.filter((l) => !allowed.test(l));
if (stray.length) {
  die(`the addon needs ${stray.join(', ')}, which users do not have: the package's addon links LLVM statically ` +
    '(install llvm-19-dev, zlib1g-dev, libzstd-dev and g++, then make)');
}
const cliNeeds = needed(cli);
const cliStray = cliNeeds.libs.filter((l) => !allowed.test(l));
if (cliStray.length) {
  die(`${cli} needs ${cliStray.join(', ')}, which users do not have: it links LLVM statically when LLVM's static ` +
    'libraries are installed (llvm-19-dev, zlib1g-dev, libzstd-dev and g++, then make)');
}
// The tiers the addon has (kiln.tiers), asked of the addon itself.
const tiers = JSON.parse(execFileSync(process.execPath, ['-p', `JSON.stringify(require(${JSON.stringify(addon)}).tiers)`],
  { encoding: 'utf8' }));
const compiledTier = tiers.includes('compiled');

// ---------------------------------------------------------------- the staged package
const stage = path.join(outDir, 'kiln');
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });

for (const f of ['package.json', 'README.md', 'index.d.ts']) fs.copyFileSync(path.join(nodeDir, f), path.join(stage, f));
for (const d of ['lib', 'bin', 'install', 'src', 'gc']) copy(path.join(nodeDir, d), path.join(stage, d));
copy(path.join(repo, 'include'), path.join(stage, 'include'));
copy(path.join(repo, 'src'), path.join(stage, 'engine', 'src'), (src) => !src.includes(`${path.sep}llvm`));
copy(path.join(repo, 'tools', 'cli'), path.join(stage, 'engine', 'tools', 'cli'));
copy(path.join(repo, 'tools', 'bindgen'), path.join(stage, 'engine', 'tools', 'bindgen'));

const name = `linux-x64-glibc`;
const prebuilds = path.join(stage, 'prebuilds', name);
fs.mkdirSync(prebuilds, { recursive: true });
for (const [from, to] of [[addon, 'kiln.node'], [gcAddon, 'kiln_gc.node'], [cli, 'kiln']]) {
  const dest = path.join(prebuilds, to);
  const strip = spawnSync('strip', ['--strip-unneeded', '-o', dest, from]);
  if (strip.status !== 0) fs.copyFileSync(from, dest);
  fs.chmodSync(dest, 0o755);
}
const info = {
  platform: 'linux',
  arch: 'x64',
  libc: 'glibc',
  glibc: [addonNeeds.glibc, cliNeeds.glibc].filter(Boolean).sort(compareVersions).at(-1) || null,
  napi: 8,
  kiln: kilnVersion,
  compiledTier,
};
fs.writeFileSync(path.join(prebuilds, 'prebuild.json'), `${JSON.stringify(info, null, 2)}\n`);

// node-api-headers, bundled (bundleDependencies): copied from the workspace's node_modules.
const require = createRequire(path.join(nodeDir, 'package.json'));
let headers;
try {
  headers = path.dirname(require.resolve('node-api-headers/package.json'));
} catch {
  die('node-api-headers is not installed: run scripts/deps.sh (npm install)');
}
copy(headers, path.join(stage, 'node_modules', 'node-api-headers'));

const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], {
  cwd: stage,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const [result] = JSON.parse(packed);
const tarball = path.join(outDir, result.filename);
const mb = (n) => (n / 1048576).toFixed(1);
console.log(`package: ${tarball} (${mb(result.size)} MB packed, ${mb(result.unpackedSize)} MB unpacked, ` +
  `${result.entryCount} files; prebuilt for ${name}, glibc ${info.glibc}+, compiled tier ${compiledTier ? 'yes' : 'no'})`);
