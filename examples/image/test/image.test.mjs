// image.test.mjs - examples/image: the transform() of both guests, image.c and the Rust
// crate rust/, SIMD and scalar, through the glue `kiln build` generates (sync and async), and
// through glue.mjs on kiln and on V8's WebAssembly, gives the same bytes as the
// pure-JavaScript pipeline, for every step and option, on small odd-sized pictures and on
// the shipped one; errors come back as JS errors with the same messages everywhere; guest
// memory does not grow over many calls; main.mjs writes a valid image of the expected size
// with either guest.
//   node --test examples/image/test/      ($KILN: the kiln command, default build/kiln)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildImage } from '../build.mjs';
import { bindImage, bindImageRust } from '../glue.mjs';
import { processImage, readPnmHeader } from '../pipeline.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const kiln = require('kiln');
const landscape = readFileSync(join(here, '..', 'landscape.ppm'));
const built = buildImage();

// A 37x23 RGB picture of hashed noise with a hard edge and a '#' comment in its header:
// odd sizes, every byte value, and edges for the clamping code.
function noisePpm(width = 37, height = 23, channels = 3) {
  const header = Buffer.from(`P${channels === 3 ? 6 : 5}\n# noise\n${width} ${height}\n255\n`, 'latin1');
  const pixels = Buffer.alloc(width * height * channels);
  let x = 12345;
  for (let i = 0; i < pixels.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    pixels[i] = (i / channels) % width < width / 2 ? x >>> 24 : 255 - ((x >>> 27) & 7);
  }
  return Buffer.concat([header, pixels]);
}

const cases = [
  { name: 'same size, default sharpen', input: noisePpm(), options: {} },
  { name: 'enlarge 3x by width', input: noisePpm(), options: { width: 111 } },
  { name: 'shrink by height', input: noisePpm(), options: { height: 10 } },
  { name: 'stretch, radius 7, amount 4', input: noisePpm(), options: { width: 5, height: 61, radius: 7, amount: 64 } },
  { name: 'blur only (amount -1)', input: noisePpm(), options: { width: 50, radius: 3, amount: -16 } },
  { name: 'resize only (amount 0)', input: noisePpm(), options: { width: 80, height: 80, amount: 0 } },
  { name: 'grayscale', input: noisePpm(), options: { width: 60, gray: true } },
  { name: 'gray input (P5)', input: noisePpm(19, 31, 1), options: { width: 40, radius: 1 } },
  { name: '1x1 input', input: noisePpm(1, 1), options: { width: 4, height: 3 } },
  { name: 'landscape, 2x', input: landscape, options: { width: 640 } },
];

// Every way of calling transform(): [name, fn(bytes, options) -> bytes or a Promise of them].
const closers = [];
after(() => closers.forEach((close) => close()));
const binders = { c: bindImage, rust: bindImageRust };
function callers(guest, variant) {
  const { wasm, glue } = built[guest][variant];
  const generated = require(glue);
  const bytes = readFileSync(wasm);
  const module = kiln.compile(bytes);
  const bind = binders[guest];
  const onKiln = bind((imports) => kiln.instantiate(module, { imports }));
  const onV8 = bind((imports) => new WebAssembly.Instance(new WebAssembly.Module(bytes), imports));
  closers.push(() => generated.instance.close(), onKiln.close);
  const args = (input, { width = 0, height = 0, gray = false, radius = 2, amount = 24 }) =>
    [input, width, height, gray, radius, amount];
  return {
    generated,
    ways: [
      ['generated glue', (input, options) => generated.transform(...args(input, options))],
      ['generated glue, .async()', (input, options) => generated.transform.async(...args(input, options))],
      ['glue.mjs on kiln', (input, options) => onKiln.transform(...args(input, options))],
      ['glue.mjs on V8', (input, options) => onV8.transform(...args(input, options))],
    ],
  };
}

const GUESTS = ['c', 'rust'];
for (const guest of GUESTS) {
  for (const variant of ['simd', 'scalar']) {
    test(`${guest} guest, ${variant} wasm on kiln and V8 gives the pure-JavaScript bytes`, async (t) => {
      const { ways } = callers(guest, variant);
      for (const { name, input, options } of cases) {
        await t.test(name, async () => {
          const expected = Buffer.from(processImage(input, options));
          const source = readPnmHeader(input);
          const header = readPnmHeader(expected);
          const channels = options.gray ? 1 : source.channels;
          assert.equal(header.channels, channels);
          if (options.width) assert.equal(header.width, options.width);
          if (options.height) assert.equal(header.height, options.height);
          assert.equal(expected.length, header.offset + header.width * header.height * channels);
          for (const [way, transform] of ways) assert.deepEqual(Buffer.from(await transform(input, options)), expected, way);
        });
      }
    });
  }
}

test('the steps do what they say', () => {
  const flat = Buffer.concat([Buffer.from('P5 8 8 255\n'), Buffer.alloc(64, 77)]);
  const same = readPnmHeader(landscape);
  // Same size with amount 0 is the identity; a flat picture stays flat under any filter.
  assert.deepEqual(Buffer.from(processImage(landscape, { amount: 0 })).subarray(-same.width * same.height * 3),
    landscape.subarray(same.offset));
  assert.ok(Buffer.from(processImage(flat, { width: 13, radius: 5, amount: 64 })).subarray(-13 * 13).every((v) => v === 77));
  // Sharpening increases the contrast across an edge; blurring decreases it.
  const edge = Buffer.concat([Buffer.from('P5 8 1 255\n'), Buffer.from([50, 50, 50, 50, 200, 200, 200, 200])]);
  const row = (options) => [...processImage(edge, options).subarray(-8)];
  const sharp = row({ amount: 32 }), soft = row({ amount: -16, radius: 1 });
  assert.ok(sharp[3] < 50 && sharp[4] > 200, `sharpened: ${sharp}`);
  assert.ok(soft[3] > 50 && soft[4] < 200, `blurred: ${soft}`);
});

const bad = [
  [Buffer.from('P3\n1 1\n255\n0 0 0\n'), {}, /not a binary PPM/],
  [Buffer.from('P6\n2 2\n255\n123'), {}, /truncated/],
  [Buffer.from('P6\n2 2\n1023\n'), {}, /maxval 255/],
  [Buffer.from('P6\n2 x\n255\n'), {}, /bad PNM header/],
  [Buffer.from('P6\n0 2\n255\n'), {}, /bad image size/],
  [Buffer.alloc(0), {}, /not a binary PPM/],
  [noisePpm(), { radius: 8 }, /radius must be 1 to 7/],
  [noisePpm(), { amount: 65 }, /amount must be -16 to 64/],
  [noisePpm(), { width: 20000 }, /bad output size/],
  [noisePpm(), { height: -1 }, /bad output size/],
];

test('bad input and options are errors with the same message in JavaScript', () => {
  for (const [input, options, message] of bad) assert.throws(() => processImage(input, options), message);
});

for (const guest of GUESTS) {
  test(`${guest} guest: the same errors on every side, and nothing leaks`, async () => {
    const { generated, ways } = callers(guest, 'simd');
    const memory = () => generated.instance.memory.buffer.byteLength;
    const before = memory();
    for (let round = 0; round < 10; round++) {
      for (const [input, options, message] of bad) {
        for (const [way, transform] of ways) await assert.rejects(async () => transform(input, options), message, way);
      }
    }
    assert.equal(memory(), before);
  });

  test(`${guest} guest: 1,000 calls do not grow guest memory`, () => {
    const { generated } = callers(guest, 'scalar');
    const input = noisePpm(32, 24);
    generated.transform(input, 64, 0, false, 7, 24);
    const before = generated.instance.memory.buffer.byteLength;
    // Each call allocates ~10-20 KB: a leak would grow memory by megabytes.
    for (let i = 0; i < 1000; i++) generated.transform(input, 32 + (i % 32), 0, (i & 1) === 1, 1 + (i % 7), 24);
    assert.equal(generated.instance.memory.buffer.byteLength, before);
  });

  test(`main.mjs --guest ${guest} prints the times and writes the output image`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-image-'));
    try {
      const out = join(dir, 'out.pgm');
      const main = join(here, '..', 'main.mjs');
      const printed = execFileSync(process.execPath, [main, '--guest', guest, '--width', '160', '--gray', '--runs', '1', '-o', out], { encoding: 'utf8' });
      const language = { c: 'C', rust: 'Rust' }[guest];
      assert.match(printed, new RegExp(`kiln, ${language} -> wasm, sync +\\d+\\.\\d ms`));
      assert.match(printed, new RegExp(`kiln, ${language} -> wasm, \\.async\\(\\) +\\d+\\.\\d ms`));
      assert.match(printed, /pure JavaScript +\d+\.\d ms/);
      assert.match(printed, /outputs identical/);
      const written = readFileSync(out);
      const header = readPnmHeader(written);
      assert.deepEqual([header.channels, header.width, header.height], [1, 160, 120]);
      assert.equal(written.length, header.offset + 160 * 120);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
