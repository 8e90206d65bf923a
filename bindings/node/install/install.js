'use strict';
// install.js - the package's install script (npm runs it after unpacking kiln). It picks the
// native parts for this machine:
//   1. the prebuild in prebuilds/<platform>-<cpu>-<libc>/ (kiln.node and the kiln CLI), when
//      this machine meets its prebuild.json (glibc version) and it loads;
//   2. else a build from the package's sources (install/build.js: any C compiler, no download;
//      the interpreter tier only). `npm rebuild kiln --build-from-source` or
//      KILN_BUILD_FROM_SOURCE=1 asks for it even where a prebuild fits;
//   3. else it fails, saying what is missing.
// Then it puts the native CLI in the place of bin/kiln (a hard link, else a copy), so that
// `npx kiln` starts without Node.js in between. In a checkout of the repository it does
// nothing: `make` builds both there.

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const platform = require('./platform.js');

const log = (m) => console.log(m);

/** Why the addon or the CLI does not work here, or null. */
function check(addon, cli) {
  const load = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], { encoding: 'utf8' });
  if (load.status !== 0) {
    const line = (load.stderr || '').split('\n').find((l) => /Error/.test(l)) || `exit status ${load.status}`;
    return `${addon} does not load: ${line.trim()}`;
  }
  const version = spawnSync(cli, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0 || !/^kiln /.test(version.stdout)) {
    return `${cli} does not run: ${version.error ? version.error.message : (version.stderr || '').trim() || `exit status ${version.status}`}`;
  }
  return null;
}

/** Puts `from` at bin/NAME (a hard link, else a copy), atomically. */
function placeBin(from, name) {
  const target = path.join(platform.packageDir, 'bin', name);
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    try {
      fs.linkSync(from, tmp);
    } catch {
      fs.copyFileSync(from, tmp);
    }
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Puts `cli` in the place of bin/kiln (the file npm linked into node_modules/.bin), with its
 * twin kiln-dynamic beside it when it has one (the static CLI runs programs that use WASI-NN
 * through it, looked for beside itself). */
function installBin(cli) {
  const twin = path.join(path.dirname(cli), 'kiln-dynamic');
  try {
    if (fs.existsSync(twin)) placeBin(twin, 'kiln-dynamic');
    placeBin(cli, 'kiln');
  } catch (e) {
    // bin/kiln stays the script that runs the native CLI: slower to start, same behaviour
    log(`kiln: note: bin/kiln stays a Node.js script (${e.message})`);
  }
}

function fail(message) {
  console.error(`kiln: ${message}`);
  process.exit(1);
}

async function main() {
  if (platform.inRepository()) return; // `make` builds the addon and the CLI in a checkout
  const nodeProblem = platform.nodeProblem();
  if (nodeProblem) fail(nodeProblem);

  const force = process.env.KILN_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true';
  let why;
  if (force) {
    why = 'a build from source was asked for';
  } else {
    const p = platform.prebuild();
    if (!p) {
      const have = fs.existsSync(path.join(platform.packageDir, 'prebuilds'))
        ? fs.readdirSync(path.join(platform.packageDir, 'prebuilds')).join(', ')
        : 'none';
      why = `no prebuilt binaries for ${platform.prebuildName()} (the package has: ${have || 'none'})`;
    } else if (p.problem) {
      why = p.problem;
    } else {
      why = check(p.addon, p.cli);
      if (!why) {
        // a source build left by an earlier install would be loaded first
        fs.rmSync(path.join(platform.packageDir, 'build'), { recursive: true, force: true });
        installBin(p.cli);
        log(`kiln: using the prebuilt addon and CLI for ${p.name}${p.info.compiledTier ? ' (with the compiled tier)' : ''}`);
        return;
      }
    }
  }
  log(`kiln: ${why}: building from source`);
  const { build, BuildError } = require('./build.js');
  let result;
  try {
    result = await build({ log });
  } catch (e) {
    if (e instanceof BuildError) {
      fail(`${why}, and building from source failed: ${e.message}`);
    }
    throw e;
  }
  const problem = check(result.addon, result.cli);
  if (problem) fail(`the addon built from source does not work: ${problem}`);
  installBin(result.cli);
  log(`kiln: built the addon and CLI from source with ${result.cc} in ${result.seconds.toFixed(1)} s ` +
    '(interpreter only: the compiled tier comes with the prebuilt binaries)');
}

main().catch((e) => fail(e.stack || e.message));
