// ocr.test.mjs - examples/ocr: pictures of known text rendered now (@napi-rs/canvas, Debian's
// DejaVu Sans) are read back by the Rust guest on kiln, upright and turned 180 degrees, from
// PNG and JPEG, synchronously, off the event loop and on a pool; every tensor the guest gives
// a model is run again on onnxruntime-node directly and the outputs compared; the plain-Node
// pipeline reads the same; bad pictures and missing models give errors that say what.
//   node --test examples/ocr/test/      ($KILN: the kiln command; $KILN_OCR_BUILD_DIR)
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { buildOcr } from '../build.mjs';
import { models } from '../models.mjs';
import * as ocr from '../ocr.mjs';
import { createNodeOcr } from '../pipeline.mjs';

const require = createRequire(import.meta.url);
const { createCanvas, GlobalFonts } = require('@napi-rs/canvas');
const ort = require('onnxruntime-node');

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
if (!GlobalFonts.registerFromPath(FONT, 'DejaVu Sans')) throw new Error(`cannot load ${FONT} (apt-get install fonts-dejavu-core)`);

/** A white picture with lines of black text (size px DejaVu Sans), turned 180 degrees when
 * rotate; encoded as format ('png' or 'jpeg'). */
function render(lines, { size = 40, rotate = false, width = 720, height = 300, format = 'png' } = {}) {
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  g.fillStyle = 'white';
  g.fillRect(0, 0, width, height);
  if (rotate) {
    g.translate(width, height);
    g.rotate(Math.PI);
  }
  g.fillStyle = 'black';
  g.font = `${size}px "DejaVu Sans"`;
  lines.forEach((text, i) => g.fillText(text, 40, 60 + i * size * 2));
  return canvas.encodeSync(format, format === 'jpeg' ? 92 : undefined);
}

// The recogniser (PP-OCRv4's Chinese and English model) sometimes drops the space between
// two words: texts are compared without spaces; every character must be right.
const squeeze = (text) => text.replace(/\s+/g, '');
const texts = (result) => result.lines.map((line) => squeeze(line.text));

const PAGES = [
  ['The quick brown fox', 'jumps over 13 lazy dogs'],
  ['Invoice 4711', 'Total: 99.50 EUR'],
  ['sandboxed inference', 'reading text in images'],
];

let nodeOcr;
before(async () => {
  buildOcr();
  nodeOcr = await createNodeOcr();
});
after(async () => {
  ocr.close();
  await nodeOcr?.close();
});

for (const page of PAGES) {
  test(`reads "${page.join(' / ')}" upright and turned 180 degrees`, async () => {
    const upright = ocr.readText(render(page));
    assert.deepEqual(texts(upright), page.map(squeeze));
    for (const line of upright.lines) {
      assert.ok(line.confidence >= 0.5 && line.confidence <= 1, `confidence ${line.confidence}`);
      assert.equal(line.box.length, 4);
      for (const [x, y] of line.box) assert.ok(x >= 0 && x < 720 && y >= 0 && y < 300, `corner ${x},${y}`);
    }
    // the first line's box is where it was drawn: from x=40, its baseline at y=60
    const [tl, tr, br] = upright.lines[0].box;
    assert.ok(tl[0] >= 25 && tl[0] <= 45 && tl[1] >= 20 && tl[1] <= 50 && br[1] >= 60 && br[1] <= 80, JSON.stringify(upright.lines[0].box));
    assert.ok(tr[0] > 200, JSON.stringify(upright.lines[0].box));
    // upside down, the lines come bottom first (reading order on the page as it is)
    const turned = await ocr.readText.async(render(page, { rotate: true }));
    assert.deepEqual(texts(turned), page.map(squeeze).reverse());
  });
}

test('reads JPEG as well as PNG, and smaller text', async () => {
  const page = PAGES[0];
  assert.deepEqual(texts(ocr.readText(render(page, { format: 'jpeg' }))), page.map(squeeze));
  assert.deepEqual(texts(ocr.readText(render(page, { size: 28 }))), page.map(squeeze));
});

test('timing: each model and the total, in ms', () => {
  const { timing } = ocr.readText(render(PAGES[1]));
  for (const key of ['total', 'det', 'cls', 'rec']) assert.ok(timing[key] > 0, `${key} ${timing[key]}`);
  assert.ok(timing.total >= timing.det + timing.cls + timing.rec);
});

test('the guest\'s model outputs equal onnxruntime-node\'s on the same tensors', async () => {
  const guest = ocr.instantiate();
  try {
    guest.set_recording(true);
    const result = JSON.parse(guest.read_text(render(PAGES[1], { rotate: true }), 0));
    assert.equal(result.lines.length, 2);
    const count = guest.recorded_count();
    const seen = new Set();
    const sessions = {};
    const paths = models();
    for (let i = 0; i < count; i++) {
      const name = guest.recorded_model(i);
      seen.add(name);
      sessions[name] ??= await ort.InferenceSession.create(paths[name]);
      const session = sessions[name];
      const dims = Array.from(guest.recorded_dims(i));
      const input = guest.recorded_input(i);
      const data = new Float32Array(input.buffer.slice(input.byteOffset, input.byteOffset + input.length));
      assert.equal(data.length, dims.reduce((a, b) => a * b), `run ${i} (${name}): input size`);
      const expected = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, dims) }))[session.outputNames[0]].data;
      const output = guest.recorded_output(i);
      const actual = new Float32Array(output.buffer.slice(output.byteOffset, output.byteOffset + output.length));
      assert.equal(actual.length, expected.length, `run ${i} (${name}): output size`);
      let worst = 0;
      for (let k = 0; k < actual.length; k++) worst = Math.max(worst, Math.abs(actual[k] - expected[k]));
      assert.ok(worst <= 1e-4, `run ${i} (${name}, dims ${dims}): outputs differ by up to ${worst}`);
    }
    assert.deepEqual([...seen].sort(), ['cls', 'det', 'rec']);
    await Promise.all(Object.values(sessions).map((s) => s.release()));
    guest.set_recording(false);
    assert.equal(guest.recorded_count(), 0);
    assert.throws(() => guest.recorded_model(0), /no recorded run 0/);
  } finally {
    guest.close();
  }
});

test('the plain-Node pipeline on onnxruntime-node reads the same lines and boxes', async () => {
  for (const page of PAGES) {
    const picture = render(page, { rotate: page === PAGES[2] });
    const kiln = ocr.readText(picture);
    const node = await nodeOcr.readText(picture);
    assert.deepEqual(node.lines.map((l) => l.text), kiln.lines.map((l) => l.text));
    node.lines.forEach((line, i) => {
      assert.ok(Math.abs(line.confidence - kiln.lines[i].confidence) < 1e-3);
      line.box.flat().forEach((v, k) => assert.ok(Math.abs(v - kiln.lines[i].box.flat()[k]) <= 1, `box ${JSON.stringify(line.box)} vs ${JSON.stringify(kiln.lines[i].box)}`));
    });
  }
});

test('readText.async leaves the event loop free, and a pool reads pictures in parallel', async () => {
  const picture = render(PAGES[2]);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 2);
  let settled = false;
  const pending = ocr.readText.async(picture).finally(() => (settled = true));
  // the loop turns while the guest works: timers fire before the call settles
  while (!settled && ticks < 5) await new Promise((resolve) => setTimeout(resolve, 1));
  const ticksBefore = ticks;
  const result = await pending;
  clearInterval(timer);
  assert.ok(ticksBefore >= 5, `only ${ticksBefore} timer ticks while readText.async ran`);
  assert.deepEqual(texts(result), PAGES[2].map(squeeze));

  const pool = ocr.createOcrPool({ size: 2, threads: 1 });
  try {
    const results = await Promise.all(PAGES.map((page) => pool.readText(render(page))));
    results.forEach((r, i) => assert.deepEqual(texts(r), PAGES[i].map(squeeze)));
  } finally {
    await pool.close();
  }
});

function crc32(bytes) {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

test('bad pictures and missing models are errors that say what', () => {
  assert.throws(() => ocr.readText(Buffer.from('hello, world')), /not a PNG or JPEG image \(12 bytes/);
  const png = render(['x']);
  assert.throws(() => ocr.readText(png.subarray(0, 100)), /^Error: PNG: /);
  assert.throws(() => ocr.readText(render(['x'], { format: 'jpeg' }).subarray(0, 200)), /^Error: JPEG: /);
  // a header that claims 100000 x 100000 pixels (with a valid checksum)
  const huge = Buffer.from(png);
  huge.writeUInt32BE(100000, 16);
  huge.writeUInt32BE(100000, 20);
  huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29);
  assert.throws(() => ocr.readText(huge), /PNG: 100000x100000 is over the 40000000 pixels/);
  assert.throws(() => ocr.readText('picture.png'), TypeError);
  assert.throws(() => ocr.readText(png, { maxSide: -1 }), TypeError);
  // a blank picture has no lines
  assert.deepEqual(ocr.readText(render([])).lines, []);
  // the guest on an instance whose host preloaded no models
  const glue = require(buildOcr().glue);
  const bare = glue.instantiate();
  try {
    assert.throws(() => bare.read_text(png, 0), /the 'det' model: WASI-NN: not found \(8\) \(preload it: kiln run --nn-preload det:onnx:cpu:PATH/);
  } finally {
    bare.close();
  }
});

test('the HTTP service reads uploads and answers /health meanwhile; bad uploads are 4xx', async () => {
  const { start, stop } = await import('../server.mjs');
  const port = await start(0);
  const base = `http://127.0.0.1:${port}`;
  try {
    const upload = (body, query = '') => fetch(`${base}/ocr${query}`, { method: 'POST', body });
    const reading = upload(render(PAGES[0]));
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    const res = await reading;
    assert.equal(res.status, 200);
    assert.deepEqual(texts(await res.json()), PAGES[0].map(squeeze));
    const bad = await upload(Buffer.from('not a picture'));
    assert.equal(bad.status, 422);
    assert.match((await bad.json()).error, /not a PNG or JPEG image/);
    assert.equal((await upload(render(PAGES[0]), '?maxSide=-3')).status, 400);
    assert.equal((await fetch(`${base}/nowhere`)).status, 404);
  } finally {
    await stop();
  }
});

test('main.mjs prints the lines of a picture', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'kiln-ocr-'));
  try {
    writeFileSync(join(dir, 'page.png'), render(PAGES[1]));
    const out = execFileSync(process.execPath, [new URL('../main.mjs', import.meta.url).pathname, join(dir, 'page.png')], { encoding: 'utf8' });
    assert.match(out, /page\.png: 2 lines in \d+ ms/);
    assert.match(out.replace(/ /g, ''), /Invoice4711/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
