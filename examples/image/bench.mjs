// bench.mjs - the image example's figures for `make bench`: the same pipeline (image.c
// compiled to wasm, scalar and -msimd128) driven by the same glue (glue.mjs) on kiln
// (synchronous and .async()) and on V8's WebAssembly, and pipeline.mjs in pure JavaScript.
// Every run's output is checked to be byte-identical to the JavaScript one.
//   node bench.mjs [--quick] [--json] [--runs N]
// Prints a table (or one JSON object with --json): the best of N runs after one warm-up
// call, in milliseconds, and each time relative to pure JavaScript.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { buildImage } from './build.mjs';
import { bindImage } from './glue.mjs';
import { processImage } from './pipeline.mjs';

const { values: opts } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' }, runs: { type: 'string' } } });
const here = dirname(fileURLToPath(import.meta.url));
const kiln = createRequire(import.meta.url)(join(here, '..', '..', 'bindings', 'node'));
const input = readFileSync(join(here, 'landscape.ppm'));
const runs = Number(opts.runs || (opts.quick ? 3 : 7));
// 320x240 -> 960x720 RGB (3x), or 640x480 with --quick; unsharp mask radius 2, amount 1.5.
const options = { width: opts.quick ? 640 : 960, radius: 2, amount: 24 };

async function time(fn, expected) {
  let best = Infinity;
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const out = await fn();
    const ms = performance.now() - t0;
    if (i > 0) best = Math.min(best, ms);
    if (expected && Buffer.compare(out, expected) !== 0) throw new Error('output differs from the pure JavaScript one');
  }
  return best;
}

const expected = Buffer.from(processImage(input, options));
const rows = [];
rows.push({ name: 'pure JavaScript', engine: 'js', ms: await time(() => processImage(input, options), expected) });
for (const [variant, path] of Object.entries(buildImage())) {
  const bytes = readFileSync(path);
  const k = kiln.instantiate(kiln.compile(bytes));
  const onKiln = bindImage(k.exports, k.memory);
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const onV8 = bindImage(v8.exports, v8.exports.memory);
  rows.push({ name: `kiln, ${variant} wasm, sync`, engine: 'kiln', variant, ms: await time(() => onKiln.process(input, options), expected) });
  rows.push({ name: `kiln, ${variant} wasm, .async()`, engine: 'kiln-async', variant, ms: await time(() => onKiln.processAsync(input, options), expected) });
  rows.push({ name: `V8 WebAssembly, ${variant} wasm`, engine: 'v8', variant, ms: await time(() => onV8.process(input, options), expected) });
  if (onKiln.heapUsed() !== 0 || onV8.heapUsed() !== 0) throw new Error('the guest heap leaked');
  k.close();
}
const js = rows[0].ms;
const workload = `landscape.ppm 320x240 RGB -> ${options.width}x${(options.width * 3) / 4}, bilinear resize + unsharp mask (radius 2, amount 1.5)`;

if (opts.json) {
  console.log(JSON.stringify({ workload, runs, results: rows.map((r) => ({ ...r, relativeToJs: r.ms / js })) }));
} else {
  console.log(`examples/image: ${workload}; best of ${runs} runs, outputs byte-identical`);
  console.log(`${'engine'.padEnd(34)} ${'ms'.padStart(9)} ${'vs JS'.padStart(8)}`);
  for (const r of rows) console.log(`${r.name.padEnd(34)} ${r.ms.toFixed(1).padStart(9)} ${(r.ms / js).toFixed(2).padStart(7)}x`);
}
