'use strict';
// platform.js - what the package's native parts are for: the name of this machine's prebuild
// folder (prebuilds/<name>/), whether a prebuild's requirements (prebuild.json) hold here, and
// where each native file of the installed package is. Shared by lib/index.js (loading the
// addon), bin/kiln (the CLI) and install/install.js.

const fs = require('node:fs');
const path = require('node:path');

const packageDir = path.join(__dirname, '..');

/** The Node.js major version the package supports from (package.json's engines). */
const NODE_FLOOR = 20;

/** @returns {{ glibcVersionRuntime?: string } | null} the header of Node's diagnostic report */
function reportHeader() {
  const report = /** @type {any} */ (process.report && process.report.getReport());
  return report ? report.header : null;
}

/** 'glibc', 'musl' or null (not Linux): prebuilds for Linux are per C library. */
function libc() {
  if (process.platform !== 'linux') return null;
  const header = reportHeader();
  return header && header.glibcVersionRuntime ? 'glibc' : 'musl';
}

function glibcVersion() {
  if (process.platform !== 'linux') return null;
  const header = reportHeader();
  return (header && header.glibcVersionRuntime) || null;
}

/** The prebuild folder name for this machine: linux-x64-glibc, linux-arm64-musl, darwin-arm64. */
function prebuildName() {
  const c = libc();
  return `${process.platform}-${process.arch}${c ? `-${c}` : ''}`;
}

function compareVersions(a, b) {
  const x = String(a).split('.').map(Number);
  const y = String(b).split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] || 0) - (y[i] || 0);
    if (d) return d;
  }
  return 0;
}

/**
 * Why this Node.js cannot run the package, or null. `version` is process.versions.node unless
 * given (so that the check itself is testable).
 */
function nodeProblem(version = process.versions.node) {
  const major = Number(String(version).split('.')[0]);
  if (!(major >= NODE_FLOOR)) {
    return `kiln needs Node.js ${NODE_FLOOR} or later; this is Node.js ${version}`;
  }
  return null;
}

/**
 * The prebuild for this machine: { dir, addon, cli, info } when prebuilds/<name>/ exists,
 * with `problem` saying why it cannot be used here (an older glibc), else null.
 */
function prebuild(dir = packageDir) {
  const name = prebuildName();
  const folder = path.join(dir, 'prebuilds', name);
  if (!fs.existsSync(path.join(folder, 'kiln.node'))) return null;
  // (install time only: reading the C library's version takes a few milliseconds)
  let info = {};
  try {
    info = JSON.parse(fs.readFileSync(path.join(folder, 'prebuild.json'), 'utf8'));
  } catch {
    // a prebuild without its description is still tried; loading it is the real test
  }
  let problem = null;
  const have = glibcVersion();
  if (info.glibc && have && compareVersions(have, info.glibc) < 0) {
    problem = `the prebuilt addon for ${name} needs glibc ${info.glibc} or later; this machine has glibc ${have}`;
  }
  return {
    name,
    dir: folder,
    addon: path.join(folder, 'kiln.node'),
    cli: path.join(folder, 'kiln'),
    info,
    problem,
  };
}

/** The addon built from source on this machine (install/build.js), or in a repository checkout. */
const builtAddon = path.join(packageDir, 'build', 'kiln.node');
/** The CLI built from source by install/build.js. */
const builtCli = path.join(packageDir, 'build', 'kiln');
/** In a checkout of the kiln repository (bindings/node/), the CLI `make` builds. */
const repoCli = path.join(packageDir, '..', '..', 'build', 'kiln');

/** Whether this is bindings/node/ of a kiln checkout rather than an installed package. */
function inRepository() {
  return fs.existsSync(path.join(packageDir, '..', '..', 'src', 'base', 'symbols.h'));
}

/**
 * The prebuild folders of this platform and CPU, best first: the one for this machine's C
 * library when known (install time), else glibc's then musl's (load time, where reading the C
 * library would cost milliseconds: a prebuild for the other one simply fails to load).
 */
function prebuildFolders(dir = packageDir, knownLibc = null) {
  const base = `${process.platform}-${process.arch}`;
  const names = process.platform !== 'linux' ? [base] : knownLibc ? [`${base}-${knownLibc}`] : [`${base}-glibc`, `${base}-musl`];
  return names.map((n) => path.join(dir, 'prebuilds', n)).filter((f) => fs.existsSync(path.join(f, 'kiln.node')));
}

/** The addons to try loading, in order: $KILN_NODE_ADDON, a source build, this machine's prebuilds. */
function addonCandidates() {
  if (process.env.KILN_NODE_ADDON) return [process.env.KILN_NODE_ADDON];
  const list = fs.existsSync(builtAddon) ? [builtAddon] : [];
  for (const f of prebuildFolders()) list.push(path.join(f, 'kiln.node'));
  return list;
}

/** The CLI to run: $KILN_CLI, a source build, this machine's prebuild, else the checkout's. */
function cliPath() {
  if (process.env.KILN_CLI) return process.env.KILN_CLI;
  if (fs.existsSync(builtCli)) return builtCli;
  for (const f of prebuildFolders()) {
    if (fs.existsSync(path.join(f, 'kiln'))) return path.join(f, 'kiln');
  }
  if (inRepository() && fs.existsSync(repoCli)) return repoCli;
  return null;
}

module.exports = {
  NODE_FLOOR,
  packageDir,
  builtAddon,
  builtCli,
  libc,
  glibcVersion,
  prebuildName,
  prebuild,
  prebuildFolders,
  compareVersions,
  nodeProblem,
  addonCandidates,
  cliPath,
  inRepository,
};
