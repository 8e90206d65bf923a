// bench.mjs - the OCR example's figures for `make bench`: the whole pipeline (decode, detect,
// orient, recognise) through kiln (the Rust guest, its models on WASI-NN) against the same
// pipeline written for Node (pipeline.mjs: pngjs/jpeg-js, JavaScript pre- and
// post-processing, onnxruntime-node), on pictures rendered now. Per kiln tier (a child
// process each, KILN_TIER: the precompiled .cwasm of `kiln build`, and the interpreter), the
// two run alternately in one process, so that each ratio is measured side by side. Reported
// per pipeline: the median total, the time in the models (det + cls + rec: what ONNX
// Runtime's runs take, with the tensors' copies in and out) and the rest (pre- and
// post-processing, decoding), and the event loop's worst delay while kiln's readText.async
// and the Node pipeline run (a 1 ms timer).
//   node bench.mjs [--quick] [--runs N] [--threads N] [--json]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    runs: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
    child: { type: 'string' },
  },
});
const runs = Number(opts.runs || (opts.quick ? 5 : 15));
const threads = opts.threads === undefined ? undefined : Number(opts.threads);
const require = createRequire(import.meta.url);

const TIERS = [
  ['compiled', 'compiled (.cwasm)'],
  ['interp', 'interpreter'],
];

const LINES = [
  'Invoice 4711', 'Total: 99.50 EUR', 'The quick brown fox', 'jumps over 13 lazy dogs', 'sandboxed inference',
  'reading text in images', 'WebAssembly on Node.js', 'kiln runs Rust in wasm', 'thread pool, no blocking',
  'ONNX Runtime via WASI-NN', 'PaddleOCR detection model', 'and its recogniser',
];

/** The pictures: a two-line label (720 x 300 PNG) and a page of 12 lines (1000 x 1300 JPEG). */
function pictures() {
  const { createCanvas, GlobalFonts } = require('@napi-rs/canvas');
  GlobalFonts.registerFromPath('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 'DejaVu Sans');
  const draw = (width, height, lines, size, format) => {
    const canvas = createCanvas(width, height);
    const g = canvas.getContext('2d');
    g.fillStyle = 'white';
    g.fillRect(0, 0, width, height);
    g.fillStyle = 'black';
    g.font = `${size}px "DejaVu Sans"`;
    lines.forEach((text, i) => g.fillText(text, 60 + (i % 3) * 40, 80 + i * size * 2.6));
    return canvas.encodeSync(format, format === 'jpeg' ? 90 : undefined);
  };
  return [
    ['label, 2 lines, 720x300 PNG', draw(720, 300, LINES.slice(0, 2), 40, 'png'), 2],
    ['page, 12 lines, 1000x1300 JPEG', draw(1000, 1300, LINES, 36, 'jpeg'), 12],
  ];
}

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs fn while a 1 ms timer measures how late the event loop gets to it; the worst delay. */
async function withLag(fn) {
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  try {
    const result = await fn();
    return [result, worst];
  } finally {
    clearInterval(timer);
  }
}

// One tier, in this process: { picture: { kiln: {...}, node: {...} } }.
async function measureTier() {
  const ocr = await import('./ocr.mjs');
  const { createNodeOcr } = await import('./pipeline.mjs');
  if (threads !== undefined) ocr.configure({ threads });
  const node = await createNodeOcr({ threads });
  const out = {};
  for (const [name, bytes, expected] of pictures()) {
    const samples = { kiln: [], kilnAsync: [], node: [] };
    const lag = { kiln: 0, node: 0 };
    const check = (result, who) => {
      if (result.lines.length !== expected) throw new Error(`${who} read ${result.lines.length} lines of ${expected} in ${name}`);
    };
    // a warm-up call each (models loaded, code compiled), then alternately
    check(ocr.readText(bytes), 'kiln');
    check(await node.readText(bytes), 'Node');
    for (let i = 0; i < runs; i++) {
      let t0 = performance.now();
      const sync = ocr.readText(bytes);
      samples.kiln.push({ wall: performance.now() - t0, ...sync.timing });
      t0 = performance.now();
      const [async, kilnLag] = await withLag(() => ocr.readText.async(bytes));
      samples.kilnAsync.push({ wall: performance.now() - t0, ...async.timing });
      lag.kiln = Math.max(lag.kiln, kilnLag);
      t0 = performance.now();
      const [plain, nodeLag] = await withLag(() => node.readText(bytes));
      samples.node.push({ wall: performance.now() - t0, ...plain.timing });
      lag.node = Math.max(lag.node, nodeLag);
      check(sync, 'kiln');
      check(async, 'kiln (async)');
      check(plain, 'Node');
    }
    const summary = (list) => {
      const total = median(list.map((s) => s.wall));
      const models = median(list.map((s) => s.det + s.cls + s.rec));
      return { total, models, rest: median(list.map((s) => s.wall - (s.det + s.cls + s.rec))), det: median(list.map((s) => s.det)), rec: median(list.map((s) => s.rec)) };
    };
    out[name] = { kiln: summary(samples.kiln), kilnAsync: summary(samples.kilnAsync), node: summary(samples.node), lag };
  }
  ocr.close();
  await node.close();
  return out;
}

if (opts.child) {
  process.stdout.write(JSON.stringify(await measureTier()));
} else {
  const { buildOcr } = await import('./build.mjs');
  buildOcr();
  const results = {};
  for (const [tier] of TIERS) {
    const args = [fileURLToPath(import.meta.url), '--child', tier, '--runs', String(runs), ...(threads === undefined ? [] : ['--threads', String(threads)])];
    results[tier] = JSON.parse(execFileSync(process.execPath, args, { env: { ...process.env, KILN_TIER: tier }, maxBuffer: 1 << 24 }));
  }
  if (opts.json) {
    console.log(JSON.stringify({ runs, threads: threads ?? 'ONNX Runtime default', results }));
  } else {
    const f = (ms) => ms.toFixed(1).padStart(7);
    console.log(`OCR (examples/ocr): median of ${runs} runs in ms; models = det + cls + rec inference, rest = decoding, pre- and post-processing;`);
    console.log(`ONNX Runtime threads per model: ${threads ?? 'its default (one per core)'}; lag = the event loop's worst delay during the call`);
    console.log(`${'picture / pipeline'.padEnd(52)} ${'total'.padStart(7)} ${'models'.padStart(7)} ${'rest'.padStart(7)} ${'vs Node'.padStart(8)} ${'lag'.padStart(7)}`);
    for (const name of Object.keys(results[TIERS[0][0]])) {
      console.log(name);
      const node = results[TIERS[0][0]][name].node;
      console.log(`  ${'Node: JavaScript + onnxruntime-node'.padEnd(50)} ${f(node.total)} ${f(node.models)} ${f(node.rest)} ${'1.00x'.padStart(8)} ${f(results[TIERS[0][0]][name].lag.node)}`);
      for (const [tier, label] of TIERS) {
        const r = results[tier][name];
        // each tier's ratio against the Node pipeline of its own process (run alternately)
        const row = (what, s, lag) => console.log(`  ${what.padEnd(50)} ${f(s.total)} ${f(s.models)} ${f(s.rest)} ${(s.total / r.node.total).toFixed(2).padStart(7)}x ${lag === undefined ? '      -' : f(lag)}`);
        row(`kiln ${label}, readText()`, r.kiln);
        row(`kiln ${label}, readText.async()`, r.kilnAsync, r.lag.kiln);
      }
    }
  }
}
