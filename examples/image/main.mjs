// main.mjs - examples/image: enlarges and sharpens a picture with C (image.c) or Rust (rust/)
// compiled to wasm, run on kiln from Node.js through the glue `kiln build` generates
// (synchronously, then with .async() on the thread pool while the event loop keeps ticking),
// does the same work in pure JavaScript, checks both give the same bytes, prints the times
// and writes the image.
//   node main.mjs [input.ppm|pgm] [-o out.ppm] [--width N] [--height N] [--gray]
//                 [--radius 1..7] [--amount -16..64] [--guest c|rust] [--scalar] [--runs N]
// Defaults: landscape.ppm, 3x its width (height from the aspect ratio), radius 2, amount
// 24 (1.5x), the C guest, written to build/<name>-<w>x<h>.ppm (or .pgm).
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { buildImage } from './build.mjs';
import { processImage, readPnmHeader } from './pipeline.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    output: { type: 'string', short: 'o' },
    width: { type: 'string' },
    height: { type: 'string' },
    gray: { type: 'boolean', default: false },
    radius: { type: 'string', default: '2' },
    amount: { type: 'string', default: '24' },
    guest: { type: 'string', default: 'c' },
    scalar: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
  },
});

const inputPath = positionals[0] || join(here, 'landscape.ppm');
const input = readFileSync(inputPath);
const source = readPnmHeader(input);
const width = opts.width ? Number(opts.width) : opts.height ? 0 : 3 * source.width;
const options = { width, height: Number(opts.height || 0), gray: opts.gray, radius: Number(opts.radius), amount: Number(opts.amount) };
const runs = Math.max(1, Number(opts.runs));
const language = { c: 'C', rust: 'Rust' }[opts.guest];
if (!language) {
  console.error(`main.mjs: --guest is c or rust, not '${opts.guest}'`);
  process.exit(2);
}

// Best of `runs` (the first call also pays for V8's JIT warm-up and the guest heap's growth).
async function best(fn) {
  let ms = Infinity, out;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    out = await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, out };
}

// build/image.js (or image-rust.js): the glue `kiln build` wrote (the module built with SIMD;
// --scalar: without).
const glue = buildImage([opts.guest])[opts.guest][opts.scalar ? 'scalar' : 'simd'].glue;
const { transform, instance } = createRequire(import.meta.url)(glue);
const args = [input, options.width, options.height, options.gray, options.radius, options.amount];

const sync = await best(() => transform(...args));

// The async form: the wasm runs on libuv's thread pool; a 1 ms timer counts how often the
// event loop ran meanwhile and the longest it waited.
let ticks = 0, lag = 0, last = performance.now();
const timer = setInterval(() => {
  const now = performance.now();
  lag = Math.max(lag, now - last - 1);
  last = now;
  ticks++;
}, 1);
const async = await best(() => transform.async(...args));
clearInterval(timer);

const js = await best(() => processImage(input, options));

const result = readPnmHeader(sync.out);
const identical = Buffer.compare(sync.out, async.out) === 0 && Buffer.compare(sync.out, js.out) === 0;
const ext = result.channels === 3 ? '.ppm' : '.pgm';
const outputPath = opts.output || join(here, 'build', `${basename(inputPath, extname(inputPath))}-${result.width}x${result.height}${ext}`);
mkdirSync(dirname(outputPath), { recursive: true });
writeFileSync(outputPath, sync.out);
instance.close();

const kind = (c) => (c === 3 ? 'RGB' : 'gray');
const ms = (x) => `${x.toFixed(1).padStart(8)} ms`;
console.log(`${basename(inputPath)} ${source.width}x${source.height} ${kind(source.channels)} -> ${result.width}x${result.height} ${kind(result.channels)}: ` +
  `bilinear resize, unsharp mask radius ${options.radius} amount ${options.amount / 16}` + (opts.scalar ? ' (wasm without SIMD)' : ''));
const label = (what) => what.padEnd(language.length + 26);
console.log(`${label(`kiln, ${language} -> wasm, sync`)}${ms(sync.ms)}   (best of ${runs})`);
console.log(`${label(`kiln, ${language} -> wasm, .async()`)}${ms(async.ms)}   event loop ran ${ticks} times meanwhile, longest wait ${lag.toFixed(1)} ms`);
console.log(`${label('pure JavaScript')}${ms(js.ms)}`);
console.log(`outputs ${identical ? 'identical' : 'DIFFER'} (${sync.out.length} bytes); wrote ${outputPath}`);
if (!identical) process.exit(1);
