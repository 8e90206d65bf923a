// run.mjs - the WebAssembly JavaScript API conformance suite ($SHARED/js-api, default
// ../shared/js-api beside the repository) against kiln.WebAssembly, with Node's own V8 run
// beside it as the reference: every 2.0-level file (not exception/, tag/, gc/, js-string/,
// memory64 or .tentative), each in a child process per implementation (child.mjs).
//   node tests/jsapi/run.mjs [--verbose] [--update] [FILE_FILTER]
// The bar: every test V8 passes also passes on kiln. Until it is met, known-failures.txt
// lists the tests that pass on V8 and fail on kiln ("file :: test name" per line); the run
// fails when a test V8 passes fails on kiln and is not listed (a regression), and when a
// listed test passes on kiln (remove it: the list only shrinks). --update rewrites the list.
// Exits 77 (skipped) when the suite is absent.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts, positionals } = parseArgs({ allowPositionals: true, options: { verbose: { type: 'boolean' }, update: { type: 'boolean' } } });
const shared = resolve(process.env.SHARED || join(here, '..', '..', '..', 'shared'));
const suite = join(shared, 'js-api');
if (!existsSync(join(suite, 'harness', 'testharness.js'))) {
  console.log(`js-api suite absent (${suite} not found): skipped`);
  process.exit(77);
}
const KNOWN = join(here, 'known-failures.txt');
const POST_2_0 = /^(exception|tag|gc|js-string)\/|memory64|\.tentative\.any\.js$/;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.any.js') ? [relative(join(suite, 'tests'), path)] : [];
  });
}
const chosen = files(join(suite, 'tests')).filter((f) => !POST_2_0.test(f) && (positionals.length === 0 || positionals.some((p) => f.includes(p)))).sort();

function run(impl, file) {
  return new Promise((done) => {
    execFile(process.execPath, [join(here, 'child.mjs'), impl, suite, file], { maxBuffer: 1 << 26, timeout: 120000 }, (error, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop();
      try {
        done(JSON.parse(line));
      } catch {
        done({ file, harness: `CRASH: ${error ? error.message : 'no results'} ${stderr.slice(-2000)}`, tests: [] });
      }
    });
  });
}

// all the runs, a few at a time
const jobs = chosen.flatMap((file) => [['v8', file], ['kiln', file]]);
const out = { v8: {}, kiln: {} };
let next = 0;
await Promise.all(Array.from({ length: Math.max(availableParallelism(), 2) }, async () => {
  while (next < jobs.length) {
    const [impl, file] = jobs[next++];
    out[impl][file] = await run(impl, file);
  }
}));

const known = new Set(existsSync(KNOWN) ? readFileSync(KNOWN, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')) : []);
const regressions = [];
const fixed = [];
const failing = [];
let totals = { v8: 0, kiln: 0, tests: 0, both: 0 };
console.log(`${'file'.padEnd(52)} ${'V8'.padStart(9)} ${'kiln'.padStart(9)}`);
for (const file of chosen) {
  const v8 = out.v8[file];
  const kiln = out.kiln[file];
  const kilnByName = new Map(kiln.tests.map((t) => [t.name, t]));
  const pass = (r) => r.tests.filter((t) => t.status === 'PASS').length;
  console.log(`${file.padEnd(52)} ${`${pass(v8)}/${v8.tests.length}`.padStart(9)} ${`${pass(kiln)}/${kiln.tests.length}`.padStart(9)}${kiln.harness !== 'OK' ? `  (kiln harness: ${kiln.harness.slice(0, 200)})` : ''}`);
  totals.v8 += pass(v8);
  totals.kiln += pass(kiln);
  totals.tests += v8.tests.length;
  for (const t of v8.tests) {
    if (t.status !== 'PASS') continue;
    const key = `${file} :: ${t.name}`;
    const k = kilnByName.get(t.name);
    if (k && k.status === 'PASS') {
      totals.both++;
      if (known.has(key)) fixed.push(key);
      continue;
    }
    failing.push(key);
    if (!known.has(key)) regressions.push(`${key}\n    kiln: ${k ? `${k.status}: ${k.message}` : 'not run'}`);
    else if (opts.verbose) console.log(`  known: ${key}\n    kiln: ${k ? `${k.status}: ${k.message}` : 'not run'}`);
  }
}
console.log(`\nV8 passes ${totals.v8} tests, kiln ${totals.kiln}; of V8's passes kiln passes ${totals.both}, fails ${failing.length} (${known.size} listed as known in ${relative(process.cwd(), KNOWN)})`);
if (opts.update) {
  const header = '# tests/jsapi/known-failures.txt - JS-API tests that pass on V8 and fail on kiln.WebAssembly (issue 15).\n# "file :: test name"; run.mjs fails on a failure not listed here and on a listed test that passes.\n' +
    '# A shared memory\'s buffer must be a SharedArrayBuffer: Node-API (Node 20) cannot make one over memory it did\n' +
    '# not allocate (nodejs/node#62259), so kiln\'s are frozen ArrayBuffers that growth does not detach.\n';
  writeFileSync(KNOWN, header + failing.join('\n') + '\n');
  console.log(`wrote ${failing.length} lines to ${KNOWN}`);
  process.exit(0);
}
if (positionals.length === 0) for (const key of known) if (!failing.includes(key) && !fixed.includes(key)) fixed.push(`${key} (no longer run)`);
if (regressions.length) console.log(`\n${regressions.length} tests pass on V8 and fail on kiln, not in known-failures.txt:\n  ${regressions.join('\n  ')}`);
if (fixed.length) console.log(`\n${fixed.length} tests in known-failures.txt pass now: remove them (node tests/jsapi/run.mjs --update)\n  ${fixed.join('\n  ')}`);
process.exit(regressions.length || fixed.length ? 1 : 0);
