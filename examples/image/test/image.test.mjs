// image.test.mjs - examples/image: the C guest on kiln (sync and async) and on V8's
// WebAssembly gives the same bytes as the pure-JavaScript pipeline, for every step and
// option, on a small odd-sized picture and on the shipped one; errors come back as JS errors;
// the guest heap returns to empty; main.mjs writes a valid image of the expected size.
//   node --test examples/image/test/
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildImage } from '../build.mjs';
import { bindImage } from '../glue.mjs';
import { processImage, readPnmHeader } from '../pipeline.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const kiln = createRequire(import.meta.url)(join(here, '..', '..', '..', 'bindings', 'node'));
const landscape = readFileSync(join(here, '..', 'landscape.ppm'));

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

let wasm;
const instances = [];
before(() => {
  wasm = buildImage();
});
after(() => instances.forEach((i) => i.close()));

function onKiln(path) {
  const instance = kiln.instantiate(kiln.compile(path), { limits: { memory: 256 << 20 } });
  instances.push(instance);
  return bindImage(instance.exports, instance.memory);
}
function onV8(path) {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), {});
  return bindImage(instance.exports, instance.exports.memory);
}

for (const variant of ['scalar', 'simd']) {
  test(`${variant} wasm on kiln and V8 gives the pure-JavaScript bytes`, async (t) => {
    const kilnImage = onKiln(wasm[variant]);
    const v8Image = onV8(wasm[variant]);
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
        assert.deepEqual(Buffer.from(kilnImage.process(input, options)), expected);
        assert.deepEqual(Buffer.from(await kilnImage.processAsync(input, options)), expected);
        assert.deepEqual(Buffer.from(v8Image.process(input, options)), expected);
        assert.equal(kilnImage.heapUsed(), 0);
      });
    }
  });
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

test('bad input and options are errors on both sides, and the guest heap stays empty', () => {
  const image = onKiln(wasm.scalar);
  const bad = [
    [Buffer.from('P3\n1 1\n255\n0 0 0\n'), {}, /not a binary PPM/],
    [Buffer.from('P6\n2 2\n255\n123'), {}, /truncated/],
    [Buffer.from('P6\n2 2\n1023\n'), {}, /maxval 255/],
    [Buffer.from('P6\n2 x\n255\n'), {}, /bad PNM header/],
    [noisePpm(), { radius: 8 }, /radius must be 1 to 7/],
    [noisePpm(), { amount: 65 }, /amount must be -16 to 64/],
    [noisePpm(), { width: 20000 }, /bad output size/],
  ];
  for (const [input, options, message] of bad) {
    assert.throws(() => processImage(input, options), message);
    assert.throws(() => image.process(input, options), message);
    assert.equal(image.heapUsed(), 0);
  }
  assert.throws(() => image.process(noisePpm(), { width: 1.5 }), TypeError);
});

test('1,000 calls do not grow the guest heap or its memory', () => {
  const image = onKiln(wasm.simd);
  const input = noisePpm();
  image.process(input, { width: 74 });
  const pages = instances.at(-1).memory.buffer.byteLength;
  for (let i = 0; i < 1000; i++) image.process(input, { width: 74 });
  assert.equal(image.heapUsed(), 0);
  assert.equal(instances.at(-1).memory.buffer.byteLength, pages);
});

test('main.mjs prints the times and writes the output image', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-image-'));
  try {
    const out = join(dir, 'out.pgm');
    const printed = execFileSync(process.execPath, [join(here, '..', 'main.mjs'), '--width', '160', '--gray', '--runs', '1', '-o', out], { encoding: 'utf8' });
    assert.match(printed, /kiln, C -> wasm, sync +\d+\.\d ms/);
    assert.match(printed, /kiln, C -> wasm, \.async\(\) +\d+\.\d ms/);
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
