// pipeline.mjs - the same OCR pipeline in plain Node.js, for comparison: pngjs and jpeg-js
// decode, the pre- and post-processing of rust/src/ in JavaScript step for step, and the three
// models on onnxruntime-node directly. make bench runs both side by side; the tests check
// that both read the same text.
//   const ocr = await createNodeOcr({ threads });
//   const { lines, timing } = await ocr.readText(bytes, { maxSide });
//   await ocr.close();
import { createRequire } from 'node:module';
import { models } from './models.mjs';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const { PNG } = require('pngjs');
const jpeg = require('jpeg-js');
import { readFileSync } from 'node:fs';

const MAX_PIXELS = 40_000_000;
const DET_MAX_SIDE = 960;
const CLS_HEIGHT = 48;
const CLS_WIDTH = 192;
const CLS_THRESHOLD = 0.9;
const REC_HEIGHT = 48;
const REC_WIDTH = 320;
const BATCH = 6;
const DROP_SCORE = 0.5;
const THRESHOLD = 0.3;
const BOX_THRESHOLD = 0.6;
const MAX_CANDIDATES = 1000;
const UNCLIP = 1.5;
const MIN_SIZE = 3;

// ------------------------------------------------------------------ pictures

const overWhite = (v, a) => Math.floor((v * a + 255 * (255 - a) + 127) / 255);

/** { width, height, pixels: RGB bytes } of a PNG or JPEG file; alpha over white. */
export function decode(bytes) {
  const png = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const jpg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (png) {
    const { width, height, data } = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    if (width * height > MAX_PIXELS) throw new Error(`PNG: ${width}x${height} is over the ${MAX_PIXELS} pixels this reads`);
    const pixels = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; j < pixels.length; i += 4, j += 3) {
      const a = data[i + 3];
      if (a === 255) {
        pixels[j] = data[i];
        pixels[j + 1] = data[i + 1];
        pixels[j + 2] = data[i + 2];
      } else {
        pixels[j] = overWhite(data[i], a);
        pixels[j + 1] = overWhite(data[i + 1], a);
        pixels[j + 2] = overWhite(data[i + 2], a);
      }
    }
    return { width, height, pixels };
  }
  if (jpg) {
    const { width, height, data } = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
    return { width, height, pixels: data };
  }
  throw new Error(`not a PNG or JPEG image (${bytes.length} bytes that start with neither signature)`);
}

/** The per-channel lookup table of v -> (v / 255 - mean) / std, channels in B, G, R order. */
function normalizer(mean, std) {
  return [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, v) => (v / 255 - mean[c]) / std[c]));
}

/** OpenCV's INTER_LINEAR sampling along one axis: source indexes and weights per output. */
function axis(source, dest) {
  const i0 = new Int32Array(dest);
  const i1 = new Int32Array(dest);
  const f = new Float32Array(dest);
  const scale = source / dest;
  for (let d = 0; d < dest; d++) {
    const s = Math.max((d + 0.5) * scale - 0.5, 0);
    const i = Math.min(Math.floor(s), source - 1);
    i0[d] = i;
    i1[d] = Math.min(i + 1, source - 1);
    f[d] = s - i;
  }
  return { i0, i1, f };
}

/** img resized bilinearly to width x height (bytes, rounded), normalised into three planes
 * (B, G, R) of height rows of stride floats at out[offset]. */
function resizeInto(img, width, height, table, out, offset, stride) {
  const xs = axis(img.width, width);
  const ys = axis(img.height, height);
  const plane = height * stride;
  const p = img.pixels;
  const row = img.width * 3;
  for (let y = 0; y < height; y++) {
    const top = ys.i0[y] * row;
    const bottom = ys.i1[y] * row;
    const fy = ys.f[y];
    for (let x = 0; x < width; x++) {
      const a0 = xs.i0[x] * 3;
      const a1 = xs.i1[x] * 3;
      const fx = xs.f[x];
      for (let c = 0; c < 3; c++) {
        const a = p[top + a0 + c] + (p[top + a1 + c] - p[top + a0 + c]) * fx;
        const b = p[bottom + a0 + c] + (p[bottom + a1 + c] - p[bottom + a0 + c]) * fx;
        const v = Math.min(Math.floor(a + (b - a) * fy + 0.5), 255);
        out[offset + (2 - c) * plane + y * stride + x] = table[2 - c][v];
      }
    }
  }
}

function sample(img, x, y, out, at) {
  x = Math.min(Math.max(x, 0), img.width - 1);
  y = Math.min(Math.max(y, 0), img.height - 1);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(x0 + 1, img.width - 1);
  const y1 = Math.min(y0 + 1, img.height - 1);
  const fx = x - x0;
  const fy = y - y0;
  const p = img.pixels;
  const w = img.width;
  for (let c = 0; c < 3; c++) {
    const v00 = p[(y0 * w + x0) * 3 + c];
    const v01 = p[(y0 * w + x1) * 3 + c];
    const v10 = p[(y1 * w + x0) * 3 + c];
    const v11 = p[(y1 * w + x1) * 3 + c];
    const a = v00 + (v01 - v00) * fx;
    const b = v10 + (v11 - v10) * fx;
    out[at + c] = Math.floor(a + (b - a) * fy + 0.5);
  }
}

const distance = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);

/** The quad cut out and straightened (as rust/src/image.rs's crop). */
function crop(img, q) {
  const width = Math.max(Math.floor(Math.max(distance(q[0], q[1]), distance(q[2], q[3]))), 1);
  const height = Math.max(Math.floor(Math.max(distance(q[0], q[3]), distance(q[1], q[2]))), 1);
  const pixels = new Uint8Array(width * height * 3);
  for (let v = 0; v < height; v++) {
    const t = v / height;
    const lx = q[0][0] + (q[3][0] - q[0][0]) * t;
    const ly = q[0][1] + (q[3][1] - q[0][1]) * t;
    const rx = q[1][0] + (q[2][0] - q[1][0]) * t;
    const ry = q[1][1] + (q[2][1] - q[1][1]) * t;
    for (let u = 0; u < width; u++) {
      const s = u / width;
      sample(img, lx + (rx - lx) * s, ly + (ry - ly) * s, pixels, (v * width + u) * 3);
    }
  }
  const out = { width, height, pixels };
  return height / width >= 1.5 ? rotateQuarter(out) : out;
}

function rotateQuarter(img) {
  const width = img.height;
  const height = img.width;
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (x * img.width + (img.width - 1 - y)) * 3;
      pixels.set(img.pixels.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return { width, height, pixels };
}

function rotateHalf(img) {
  const p = img.pixels;
  const n = img.width * img.height;
  for (let i = 0; i < n >> 1; i++) {
    for (let c = 0; c < 3; c++) {
      const a = i * 3 + c;
      const b = (n - 1 - i) * 3 + c;
      const t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
  }
}

// ------------------------------------------------------------------ detection boxes

/** The text boxes of the probability map pred (width x height), in the source picture's
 * coordinates, in reading order (rust/src/detect.rs). */
export function boxes(pred, width, height, sourceWidth, sourceHeight) {
  const bitmap = new Uint8Array(width * height);
  for (let i = 0; i < bitmap.length; i++) bitmap[i] = pred[i] > THRESHOLD ? 1 : 0;
  const found = [];
  const stack = [];
  let candidates = 0;
  for (let start = 0; start < width * height; start++) {
    if (bitmap[start] !== 1) continue;
    if (candidates === MAX_CANDIDATES) break;
    candidates++;
    const xs = [];
    const ys = [];
    bitmap[start] = 2;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop();
      const x = i % width;
      const y = (i - x) / width;
      xs.push(x);
      ys.push(y);
      for (let ny = Math.max(y - 1, 0); ny < Math.min(y + 2, height); ny++) {
        for (let nx = Math.max(x - 1, 0); nx < Math.min(x + 2, width); nx++) {
          const j = ny * width + nx;
          if (bitmap[j] === 1) {
            bitmap[j] = 2;
            stack.push(j);
          }
        }
      }
    }
    const quad = regionBox(xs, ys, pred, width, height);
    if (quad) found.push(scale(quad, width, height, sourceWidth, sourceHeight));
  }
  const kept = found
    .map((q) => q.map(([x, y]) => [Math.min(Math.max(x, 0), sourceWidth - 1), Math.min(Math.max(y, 0), sourceHeight - 1)]))
    .filter((q) => Math.floor(distance(q[0], q[1])) > 3 && Math.floor(distance(q[0], q[3])) > 3);
  readingOrder(kept);
  return kept;
}

function regionBox(xs, ys, pred, width, height) {
  let top = Infinity;
  let bottom = -Infinity;
  for (const y of ys) {
    top = Math.min(top, y);
    bottom = Math.max(bottom, y);
  }
  const left = new Int32Array(bottom - top + 1).fill(2 ** 30);
  const right = new Int32Array(bottom - top + 1).fill(-1);
  for (let k = 0; k < xs.length; k++) {
    const r = ys[k] - top;
    if (xs[k] < left[r]) left[r] = xs[k];
    if (xs[k] > right[r]) right[r] = xs[k];
  }
  const points = [];
  for (let r = 0; r < left.length; r++) {
    points.push([left[r], top + r]);
    if (right[r] !== left[r]) points.push([right[r], top + r]);
  }
  const rect = minAreaRect(convexHull(points));
  if (!rect) return null;
  const [quad, w, h] = rect;
  if (Math.min(w, h) < MIN_SIZE) return null;
  if (boxScore(quad, pred, width, height) < BOX_THRESHOLD) return null;
  const d = (area(quad) * UNCLIP) / perimeter(quad);
  if (Math.min(w + 2 * d, h + 2 * d) < MIN_SIZE + 2) return null;
  return grow(quad, d);
}

function convexHull(points) {
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  points = points.filter((p, i) => i === 0 || p[0] !== points[i - 1][0] || p[1] !== points[i - 1][1]);
  if (points.length < 3) return points;
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const hull = [];
  for (const ordered of [points, points.slice().reverse()]) {
    const start = hull.length;
    for (const p of ordered) {
      while (hull.length >= start + 2 && cross(hull[hull.length - 2], hull[hull.length - 1], p) <= 0) hull.pop();
      hull.push(p);
    }
    hull.pop();
  }
  return hull;
}

function minAreaRect(hull) {
  if (hull.length < 3) return null;
  let best = null;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i];
    const b = hull[(i + 1) % hull.length];
    const len = distance(a, b);
    if (len === 0) continue;
    const ux = (b[0] - a[0]) / len;
    const uy = (b[1] - a[1]) / len;
    let loU = Infinity, hiU = -Infinity, loV = Infinity, hiV = -Infinity;
    for (const p of hull) {
      const dx = p[0] - a[0];
      const dy = p[1] - a[1];
      const u = dx * ux + dy * uy;
      const v = -dx * uy + dy * ux;
      loU = Math.min(loU, u);
      hiU = Math.max(hiU, u);
      loV = Math.min(loV, v);
      hiV = Math.max(hiV, v);
    }
    const w = hiU - loU;
    const h = hiV - loV;
    if (!best || w * h < best[0]) {
      const corner = (u, v) => [a[0] + u * ux - v * uy, a[1] + u * uy + v * ux];
      best = [w * h, [corner(loU, loV), corner(hiU, loV), corner(hiU, hiV), corner(loU, hiV)], w, h];
    }
  }
  return best && [order(best[1]), best[2], best[3]];
}

function order(p) {
  p = p.slice().sort((a, b) => a[0] - b[0]);
  const [tl, bl] = p[1][1] > p[0][1] ? [p[0], p[1]] : [p[1], p[0]];
  const [tr, br] = p[3][1] > p[2][1] ? [p[2], p[3]] : [p[3], p[2]];
  return [tl, tr, br, bl];
}

function boxScore(q, pred, width, height) {
  const clamp = (v, max) => Math.min(Math.max(Math.trunc(v), 0), max - 1);
  const x0 = clamp(Math.floor(Math.min(...q.map((p) => p[0]))), width);
  const x1 = clamp(Math.ceil(Math.max(...q.map((p) => p[0]))), width);
  const y0 = clamp(Math.floor(Math.min(...q.map((p) => p[1]))), height);
  const y1 = clamp(Math.ceil(Math.max(...q.map((p) => p[1]))), height);
  const corners = q.map((p) => [Math.trunc(p[0] - x0) + x0, Math.trunc(p[1] - y0) + y0]);
  let sum = 0;
  let count = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let positive = false;
      let negative = false;
      for (let i = 0; i < 4; i++) {
        const a = corners[i];
        const b = corners[(i + 1) % 4];
        const cross = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
        if (cross > 1e-4) positive = true;
        if (cross < -1e-4) negative = true;
      }
      if (!(positive && negative)) {
        sum += pred[y * width + x];
        count++;
      }
    }
  }
  return count === 0 ? 0 : sum / count;
}

function area(q) {
  let twice = 0;
  for (let i = 0; i < 4; i++) {
    const a = q[i];
    const b = q[(i + 1) % 4];
    twice += a[0] * b[1] - b[0] * a[1];
  }
  return Math.abs(twice / 2);
}

const perimeter = (q) => q.reduce((sum, p, i) => sum + distance(p, q[(i + 1) % 4]), 0);

function grow(q, d) {
  const unit = (a, b) => {
    const len = Math.max(distance(a, b), 1e-6);
    return [(b[0] - a[0]) / len, (b[1] - a[1]) / len];
  };
  const across = unit(q[0], q[1]);
  const down = unit(q[0], q[3]);
  const out = (p, su, sv) => [p[0] + d * (su * across[0] + sv * down[0]), p[1] + d * (su * across[1] + sv * down[1])];
  return order([out(q[0], -1, -1), out(q[1], 1, -1), out(q[2], 1, 1), out(q[3], -1, 1)]);
}

function scale(q, width, height, sourceWidth, sourceHeight) {
  return q.map(([x, y]) => [
    Math.min(Math.max(Math.round((x / width) * sourceWidth), 0), sourceWidth),
    Math.min(Math.max(Math.round((y / height) * sourceHeight), 0), sourceHeight),
  ]);
}

function readingOrder(list) {
  list.sort((a, b) => a[0][1] - b[0][1] || a[0][0] - b[0][0]);
  for (let i = 0; i < list.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      if (Math.abs(list[j + 1][0][1] - list[j][0][1]) < 10 && list[j + 1][0][0] < list[j][0][0]) {
        [list[j], list[j + 1]] = [list[j + 1], list[j]];
      } else {
        break;
      }
    }
  }
}

// ------------------------------------------------------------------ the pipeline

function byAspect(crops) {
  return crops.map((_, i) => i).sort((a, b) => crops[a].width / crops[a].height - crops[b].width / crops[b].height);
}

const resizedWidth = (img, h, max) => Math.min(Math.max(Math.ceil((h * img.width) / img.height), 1), max);

/** The input tensor of a batch of crops (rust/src/lib.rs's batch_tensor) and its shape. */
function batchTensor(crops, batch, height, width, table) {
  const plane = height * width;
  const tensor = new Float32Array(batch.length * 3 * plane);
  batch.forEach((i, n) => resizeInto(crops[i], resizedWidth(crops[i], height, width), height, table, tensor, n * 3 * plane, width));
  return [tensor, [batch.length, 3, height, width]];
}

function ctcDecode(probs, offset, steps, classes, keys) {
  let text = '';
  let sum = 0;
  let count = 0;
  let previous = 0;
  for (let s = 0; s < steps; s++) {
    const at = offset + s * classes;
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[at + c] > probs[at + best]) best = c;
    if (best !== 0 && best !== previous) {
      text += best <= keys.length ? keys[best - 1] : ' ';
      sum += probs[at + best];
      count++;
    }
    previous = best;
  }
  return [text, count === 0 ? 0 : sum / count];
}

/** The pipeline on onnxruntime-node: { readText(bytes, { maxSide }), close() }. */
export async function createNodeOcr({ threads } = {}) {
  const paths = models();
  const sessionOptions = threads ? { intraOpNumThreads: threads } : {};
  const [det, cls, rec] = await Promise.all([paths.det, paths.cls, paths.rec].map((path) => ort.InferenceSession.create(path, sessionOptions)));
  const keys = readFileSync(paths.keys, 'utf8').split('\n');
  if (keys[keys.length - 1] === '') keys.pop();
  const detNorm = normalizer([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
  const halfNorm = normalizer([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);

  async function infer(session, data, dims, timing, key) {
    const started = performance.now();
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, dims) });
    const output = result[session.outputNames[0]].data;
    timing[key] += performance.now() - started;
    return output;
  }

  async function readText(bytes, { maxSide = 0 } = {}) {
    const started = performance.now();
    const timing = { total: 0, det: 0, cls: 0, rec: 0 };
    maxSide = maxSide === 0 ? DET_MAX_SIDE : Math.max(maxSide, 32);
    const img = decode(bytes);
    // detection
    const longer = Math.max(img.width, img.height);
    const ratio = longer > maxSide ? Math.fround(maxSide / longer) : 1;
    const side = (v) => Math.max(Math.round(Math.trunc(v * ratio) / 32) * 32, 32);
    const width = side(img.width);
    const height = side(img.height);
    const tensor = new Float32Array(3 * width * height);
    resizeInto(img, width, height, detNorm, tensor, 0, width);
    const pred = await infer(det, tensor, [1, 3, height, width], timing, 'det');
    const quads = boxes(pred, width, height, img.width, img.height);
    const crops = quads.map((q) => crop(img, q));
    // orientation
    let sorted = byAspect(crops);
    for (let b = 0; b < sorted.length; b += BATCH) {
      const batch = sorted.slice(b, b + BATCH);
      const scores = await infer(cls, ...batchTensor(crops, batch, CLS_HEIGHT, CLS_WIDTH, halfNorm), timing, 'cls');
      batch.forEach((i, n) => {
        if (scores[n * 2 + 1] > scores[n * 2] && scores[n * 2 + 1] > CLS_THRESHOLD) rotateHalf(crops[i]);
      });
    }
    // recognition
    const classes = keys.length + 2;
    const read = new Array(crops.length);
    sorted = byAspect(crops);
    for (let b = 0; b < sorted.length; b += BATCH) {
      const batch = sorted.slice(b, b + BATCH);
      const widest = Math.max(0, ...batch.map((i) => crops[i].width / crops[i].height));
      const recWidth = Math.trunc(REC_HEIGHT * Math.max(REC_WIDTH / REC_HEIGHT, widest));
      const probs = await infer(rec, ...batchTensor(crops, batch, REC_HEIGHT, recWidth, halfNorm), timing, 'rec');
      const steps = probs.length / batch.length / classes;
      batch.forEach((i, n) => (read[i] = ctcDecode(probs, n * steps * classes, steps, classes, keys)));
    }
    const lines = [];
    quads.forEach((quad, i) => {
      const [text, confidence] = read[i];
      if (confidence >= DROP_SCORE) lines.push({ text, confidence, box: quad.map(([x, y]) => [Math.trunc(x), Math.trunc(y)]) });
    });
    timing.total = performance.now() - started;
    return { lines, timing };
  }

  return {
    readText,
    close: () => Promise.all([det.release(), cls.release(), rec.release()]),
  };
}
