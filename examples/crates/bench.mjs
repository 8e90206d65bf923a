// bench.mjs - the crates example's figures for `make bench`: each export of the Rust guest
// (rust/, built by `kiln build`) on realistic inputs, on kiln through the generated glue
// (synchronously), the same crates.wasm on V8's WebAssembly through glue.mjs (the same glue
// steps), and Node's own way of doing the job: node:crypto and node:zlib (native code), JSON
// and RegExp (V8's C++ and its regexp compiler); Node has no Markdown renderer. Every result
// is checked: the same bytes or count as Node's, or, for Markdown, as V8's.
//   node bench.mjs [--quick] [--json] [--runs N]
// Prints a table (or one JSON object with --json): the best of N runs after one warm-up
// call, in milliseconds, and kiln's time relative to V8's WebAssembly and to Node's own.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { buildCrates } from './build.mjs';
import { bindCrates } from './glue.mjs';
import { jsonDocument, markdownDocument, randomBytes, text } from './workloads.mjs';

const { values: opts } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' }, runs: { type: 'string' } } });
const require = createRequire(import.meta.url);
const runs = Number(opts.runs || (opts.quick ? 3 : 7));
const built = buildCrates();
const generated = require(built.glue);
const onV8 = bindCrates((imports) => new WebAssembly.Instance(new WebAssembly.Module(readFileSync(built.wasm)), imports));

const MiB = 1 << 20;
const prose = Buffer.from(text(MiB, 50)).subarray(0, MiB);
const random = randomBytes(MiB, 51);
const markdown = markdownDocument(200_000, 52);
const json = jsonDocument(1_000_000, 53);
const deflated = zlib.deflateRawSync(prose, { level: 6 });
const PATTERN = '[A-Z][a-z]+';
const size = (bytes) => (bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${Math.round(bytes / 1000)} KB`);

// Each workload: its export and arguments, Node's way (or null) and a check of a result.
const WORKLOADS = [
  { name: `sha256, ${size(random.length)} random`, f: 'sha256', args: [random], node: ['node:crypto', () => createHash('sha256').update(random).digest()],
    check: (out) => assert.deepEqual(Buffer.from(out), createHash('sha256').update(random).digest()) },
  { name: `deflate level 6, ${size(prose.length)} text`, f: 'deflate', args: [prose, 6], node: ['node:zlib deflateRawSync', () => zlib.deflateRawSync(prose, { level: 6 })],
    check: (out) => assert.deepEqual(zlib.inflateRawSync(out), prose) },
  { name: `deflate level 1, ${size(random.length)} random`, f: 'deflate', args: [random, 1], node: ['node:zlib deflateRawSync', () => zlib.deflateRawSync(random, { level: 1 })],
    check: (out) => assert.deepEqual(zlib.inflateRawSync(out), Buffer.from(random)) },
  { name: `inflate to ${size(prose.length)} text`, f: 'inflate', args: [deflated], node: ['node:zlib inflateRawSync', () => zlib.inflateRawSync(deflated)],
    check: (out) => assert.deepEqual(Buffer.from(out), prose) },
  { name: `markdown_to_html, ${size(markdown.length)} document`, f: 'markdown_to_html', args: [markdown, true], node: null,
    check: (out) => assert.equal(out, onV8.markdown_to_html(markdown, true)) },
  { name: `json_normalize, ${size(json.length)} document`, f: 'json_normalize', args: [json, false], node: ['JSON.stringify(JSON.parse(x))', () => JSON.stringify(JSON.parse(json))],
    check: (out) => assert.deepEqual(JSON.parse(out), JSON.parse(json)) },
  { name: `regex_count /${PATTERN}/, ${size(prose.length)} text`, f: 'regex_count', args: [PATTERN, prose.toString()], node: ['RegExp', () => prose.toString().match(/[A-Z][a-z]+/gu).length],
    check: (out) => assert.equal(out, prose.toString().match(/[A-Z][a-z]+/gu).length) },
];

function time(fn, check) {
  let best = Infinity;
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const out = fn();
    const ms = performance.now() - t0;
    if (i > 0) best = Math.min(best, ms);
    if (check && i === 0) check(out);
  }
  return best;
}

const rows = [];
for (const { name, f, args, node, check } of WORKLOADS) {
  const kiln = time(() => generated[f](...args), check);
  const v8 = time(() => onV8[f](...args), check);
  const native = node ? time(node[1]) : null;
  rows.push({ name, function: f, kiln, v8, node: native, nodeWay: node ? node[0] : null });
}
generated.instance.close();
const note = 'Node\'s own: node:crypto and node:zlib are native code (OpenSSL, zlib); JSON.stringify(JSON.parse(x)) keeps key order where serde_json sorts; no Markdown renderer in Node';

if (opts.json) {
  console.log(JSON.stringify({ runs, note, results: rows.map((r) => ({ ...r, kilnVsV8: r.kiln / r.v8, kilnVsNode: r.node ? r.kiln / r.node : null })) }));
} else {
  const ms = (v) => (v === null ? '-' : v.toFixed(v < 10 ? 2 : 1)).padStart(9);
  const x = (v) => (v === null ? '-' : `${v.toFixed(1)}x`).padStart(9);
  console.log(`examples/crates: Rust crates from Debian compiled to wasm; best of ${runs} runs in ms, results checked`);
  console.log(`${'workload'.padEnd(40)} ${'kiln'.padStart(9)} ${'V8 wasm'.padStart(9)} ${'Node'.padStart(9)} ${'kiln/V8'.padStart(9)} ${'kiln/Node'.padStart(9)}  Node's own`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(40)} ${ms(r.kiln)} ${ms(r.v8)} ${ms(r.node)} ${x(r.kiln / r.v8)} ${x(r.node && r.kiln / r.node)}  ${r.nodeWay || '(none)'}`);
  }
  console.log(`kiln: the generated glue, synchronous; V8 wasm: the same .wasm with glue.mjs. ${note}.`);
}
