'use strict';
// build.js - builds the addon (build/kiln.node) and the CLI (build/kiln) from the sources in
// the package when no prebuild fits this machine: the engine (engine/src/, C11, libc, libm
// and pthreads only), the addon (src/) and the CLI (engine/tools/cli/), with the system's C
// compiler and the Node-API headers of the bundled npm package node-api-headers, so that
// nothing is downloaded. The compiled tier needs LLVM and is not part of a source build: the
// addon and the CLI it makes interpret (tier 'interp'). `node install/build.js` runs it alone.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');

class BuildError extends Error {}

/** The first C compiler that runs: $CC, cc, gcc, clang. */
function findCompiler() {
  const names = [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean);
  for (const name of names) {
    const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return name;
  }
  return null;
}

/** The include directory of the node-api-headers package, resolved from this package. */
function nodeApiInclude() {
  try {
    const pkg = require.resolve('node-api-headers/package.json', { paths: [root] });
    const dir = path.join(path.dirname(pkg), 'include');
    if (fs.existsSync(path.join(dir, 'node_api.h'))) return dir;
  } catch {
    // not installed: said below
  }
  return null;
}

function listC(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listC(p));
    else if (entry.name.endsWith('.c')) out.push(p);
  }
  return out.sort();
}

/** Runs jobs ({ args, what }) on `cc`, `parallel` at a time; rejects with the first failure. */
function compileAll(cc, jobs, parallel, log) {
  return new Promise((resolve, reject) => {
    let next = 0;
    let running = 0;
    let failed = false;
    let done = 0;
    const start = () => {
      while (!failed && running < parallel && next < jobs.length) {
        const job = jobs[next++];
        running++;
        const child = spawn(cc, job.args, { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', (e) => {
          failed = true;
          reject(new BuildError(`cannot run ${cc}: ${e.message}`));
        });
        child.on('close', (code) => {
          running--;
          if (failed) return;
          if (code !== 0) {
            failed = true;
            reject(new BuildError(`${cc} failed on ${job.what}:\n${stderr.split('\n').slice(0, 40).join('\n')}`));
            return;
          }
          done++;
          if (done % 20 === 0) log(`kiln: compiled ${done}/${jobs.length} files`);
          if (done === jobs.length) resolve();
          else start();
        });
      }
    };
    if (jobs.length === 0) resolve();
    else start();
  });
}

function run(cc, args, what) {
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.error) throw new BuildError(`cannot run ${cc}: ${r.error.message}`);
  if (r.status !== 0) throw new BuildError(`${cc} failed to link ${what}:\n${r.stderr.split('\n').slice(0, 40).join('\n')}`);
}

/**
 * Builds build/kiln.node and build/kiln. Resolves to { cc, addon, cli, seconds }; rejects with
 * a BuildError naming what is missing or what failed.
 */
/** @param {{ log?: (line: string) => void, jobs?: number }} [options] */
async function build({ log = (line) => {}, jobs = os.availableParallelism ? os.availableParallelism() : os.cpus().length } = {}) {
  const engine = path.join(root, 'engine');
  const include = path.join(root, 'include');
  if (!fs.existsSync(path.join(engine, 'src')) || !fs.existsSync(path.join(include, 'kiln.h'))) {
    throw new BuildError(`the engine's sources are missing from ${root} (engine/src, include/kiln.h): reinstall the package`);
  }
  const cc = findCompiler();
  if (!cc) {
    throw new BuildError(
      'no C compiler found (tried $CC, cc, gcc, clang): install one ' +
        '(Debian/Ubuntu: apt-get install gcc; Alpine: apk add build-base; Fedora: dnf install gcc)',
    );
  }
  const napi = nodeApiInclude();
  if (!napi) {
    throw new BuildError('the Node-API headers (npm package node-api-headers, bundled with kiln) are missing: reinstall the package');
  }
  const began = Date.now();
  const out = path.join(root, 'build');
  const objDir = path.join(out, 'obj');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(objDir, { recursive: true });

  const common = ['-std=gnu11', '-O2', '-DNDEBUG', '-fPIC', '-fvisibility=hidden', '-pthread',
    '-ffp-contract=off', '-fno-strict-aliasing', '-w'];
  const symbols = ['-include', path.join(engine, 'src', 'base', 'symbols.h')];
  const jobsList = [];
  const objects = { core: [], addon: [], gc: [], cli: [], cliStatic: [] };
  const add = (group, file, flags, tag = '') => {
    const rel = path.relative(root, file);
    const obj = path.join(objDir, rel.replace(/[\\/]/g, '_').replace(/\.c$/, `${tag}.o`));
    jobsList.push({ what: rel, args: [...common, ...flags, '-c', file, '-o', obj] });
    objects[group].push(obj);
  };
  for (const file of listC(path.join(engine, 'src'))) {
    const rel = path.relative(path.join(engine, 'src'), file).split(path.sep);
    if (rel[0] === 'llvm') continue;
    if (rel[0] === 'wasi' || rel[0] === 'nn') {
      add('core', file, [...symbols, '-I', include]); // WASI and WASI-NN see the public header only
    } else if (rel.join('/') === 'native/native.c') {
      // traps in compiled code read the frame-pointer chain (as CMakeLists.txt builds it)
      add('core', file, [...symbols, '-I', include, '-I', path.join(engine, 'src'),
        '-fno-omit-frame-pointer', '-fno-optimize-sibling-calls']);
    } else {
      add('core', file, [...symbols, '-I', include, '-I', path.join(engine, 'src')]);
    }
  }
  for (const file of listC(path.join(root, 'src'))) {
    add('addon', file, ['-I', include, '-I', napi, '-DNAPI_VERSION=8']);
  }
  // kiln_gc.node: the environment of the addon's finalizers (gc/gc.c says why)
  add('gc', path.join(root, 'gc', 'gc.c'), ['-I', napi, '-DNAPI_VERSION=2147483647', '-DNAPI_EXPERIMENTAL']);
  for (const dir of ['cli', 'bindgen']) {
    for (const file of listC(path.join(engine, 'tools', dir))) {
      const flags = ['-I', include, '-I', path.join(engine, 'tools')];
      add('cli', file, flags);
      // a static kiln runs WASI-NN programs through its dynamically linked twin (run.c)
      if (dir === 'cli' && path.basename(file) === 'run.c') add('cliStatic', file, [...flags, '-DKILN_CLI_STATIC_BUILD=1'], '_static');
      else objects.cliStatic.push(objects.cli[objects.cli.length - 1]);
    }
  }
  log(`kiln: building the addon and the CLI from source with ${cc} (${jobsList.length} files, ${jobs} at a time)`);
  await compileAll(cc, jobsList, Math.max(1, jobs), log);

  const addon = path.join(out, 'kiln.node');
  run(cc, ['-shared', '-pthread', '-o', addon, ...objects.addon, ...objects.core, '-lm'], 'the addon');
  run(cc, ['-shared', '-o', path.join(out, 'kiln_gc.node'), ...objects.gc], 'the addon (kiln_gc.node)');
  // The CLI statically where the C library allows it (start-up), with its dynamically linked
  // twin kiln-dynamic for programs that use WASI-NN (ONNX Runtime cannot be loaded into a
  // static executable); else dynamically.
  const cli = path.join(out, 'kiln');
  const statically = spawnSync(cc, ['-static', '-pthread', '-o', cli, ...objects.cliStatic, ...objects.core, '-lm'],
    { encoding: 'utf8' });
  if (statically.error || statically.status !== 0) {
    fs.rmSync(path.join(out, 'kiln-dynamic'), { force: true }); // (a dynamic kiln needs no twin)
    run(cc, ['-pthread', '-o', cli, ...objects.cli, ...objects.core, '-lm', '-ldl'], 'the kiln command');
  } else {
    run(cc, ['-pthread', '-o', path.join(out, 'kiln-dynamic'), ...objects.cli, ...objects.core, '-lm', '-ldl'],
      'the kiln command (kiln-dynamic)');
  }
  fs.rmSync(objDir, { recursive: true, force: true });
  return { cc, addon, cli, seconds: (Date.now() - began) / 1000 };
}

module.exports = { build, BuildError, findCompiler };

if (require.main === module) {
  build({ log: (m) => console.log(m) }).then(
    (r) => console.log(`kiln: built ${r.addon} and ${r.cli} with ${r.cc} in ${r.seconds.toFixed(1)} s`),
    (e) => {
      console.error(`kiln: build from source failed: ${e.message}`);
      process.exit(1);
    },
  );
}
