// bench.mjs - the image example's figures for `make bench`: transform() from each guest,
// image.c and the Rust crate rust/ (built by `kiln build`, with and without SIMD), on kiln
// through the generated glue (sync and .async(); it loads the .cwasm `kiln build` precompiled),
// and the same module on V8's WebAssembly and on kiln through glue.mjs in each tier of the
// addon (interp, compiled, auto once tiered up), the same glue logic over plain exports;
// against pipeline.mjs, the
// same work in pure JavaScript. Every output is checked to be byte-identical to the
// JavaScript one.
//   node bench.mjs [--quick] [--json] [--runs N]
// Prints a table (or one JSON object with --json): the best of N runs after one warm-up
// call, in milliseconds, and each time relative to pure JavaScript.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildImage } from './build.mjs';
import { bindImage, bindImageRust } from './glue.mjs';
import { processImage } from './pipeline.mjs';

const { values: opts } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' }, runs: { type: 'string' } } });
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const kiln = require('kiln');
const input = readFileSync(join(here, 'landscape.ppm'));
const runs = Number(opts.runs || (opts.quick ? 3 : 7));
// 320x240 -> 960x720 RGB (3x), or 640x480 with --quick; unsharp mask radius 2, amount 1.5.
const options = { width: opts.quick ? 640 : 960, height: 0, gray: false, radius: 2, amount: 24 };
const args = [input, options.width, options.height, options.gray, options.radius, options.amount];
const GUESTS = { c: ['C', bindImage], rust: ['Rust', bindImageRust] };

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

// auto: run fn until the background compiler has nothing more to install (the native function
// count unchanged for 300 ms after a call).
async function settle(module, fn) {
  for (let last = -1, waited = 0; waited < 60000;) {
    fn();
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    waited += performance.now() - start;
    const now = module.stats().nativeFunctions;
    if (now === last) return;
    last = now;
  }
}

const expected = Buffer.from(processImage(input, options));
const rows = [{ name: 'pure JavaScript', guest: null, engine: 'js', ms: await time(() => processImage(input, options), expected) }];
const built = buildImage();
for (const variant of ['simd', 'scalar']) {
  for (const [guest, [label, bind]] of Object.entries(GUESTS)) {
    const { wasm, glue } = built[guest][variant];
    const generated = require(glue);
    const bytes = readFileSync(wasm);
    const onV8 = bind((imports) => new WebAssembly.Instance(new WebAssembly.Module(bytes), imports));
    const row = (name, engine, fn) =>
      time(fn, expected).then((ms) => rows.push({ name: `${label}, ${name}, ${variant}`, guest, engine, variant, ms }));
    // the generated glue loads the .cwasm kiln build precompiled, when there is one
    const how = generated.module.stats().precompiled ? 'generated glue (.cwasm)' : 'generated glue';
    await row(`kiln, ${how}, sync`, 'kiln', () => generated.transform(...args));
    await row(`kiln, ${how}, .async()`, 'kiln-async', () => generated.transform.async(...args));
    // the same glue.mjs as the V8 row, on kiln in each tier (auto once its hot functions are native)
    for (const tier of kiln.tiers) {
      const module = kiln.compile(bytes, { tier });
      const onKiln = bind((imports) => kiln.instantiate(module, { imports }));
      if (tier === 'auto') await settle(module, () => onKiln.transform(...args));
      await row(`kiln ${tier}, glue.mjs`, `kiln-${tier}`, () => onKiln.transform(...args));
      onKiln.close();
    }
    await row('V8 WebAssembly, glue.mjs', 'v8', () => onV8.transform(...args));
    // Closed now rather than left to the garbage collector, so the next guest's runs do not
    // share the machine with a collection of this one's memory.
    generated.instance.close();
  }
}
const js = rows[0].ms;
const workload = `landscape.ppm 320x240 RGB -> ${options.width}x${(options.width * 3) / 4}, bilinear resize + unsharp mask (radius 2, amount 1.5)`;

if (opts.json) {
  console.log(JSON.stringify({ workload, runs, results: rows.map((r) => ({ ...r, relativeToJs: r.ms / js })) }));
} else {
  console.log(`examples/image: ${workload}; best of ${runs} runs, outputs byte-identical`);
  console.log(`${'guest, engine, glue, wasm'.padEnd(54)} ${'ms'.padStart(9)} ${'vs JS'.padStart(8)}`);
  for (const r of rows) console.log(`${r.name.padEnd(54)} ${r.ms.toFixed(1).padStart(9)} ${(r.ms / js).toFixed(2).padStart(7)}x`);
}
