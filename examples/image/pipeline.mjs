// pipeline.mjs - the pure-JavaScript baseline of examples/image: the same steps as image.c
// (decode PPM/PGM, grayscale, bilinear resize, unsharp mask over a binomial Gaussian,
// encode) with the same integer arithmetic, so both give byte-identical images. Typed arrays
// and |0-free integer math that stays below 2^31, written the way one would write it for V8.

export const MAX_SIDE = 16384;
const MAX_PIXELS = 1 << 26;
const MAX_RADIUS = 7;

const isSpace = (c) => c === 32 || (c >= 9 && c <= 13);

// Parses a binary PNM header: {channels, width, height, offset} of the pixel data.
export function readPnmHeader(bytes) {
  if (bytes.length < 2 || bytes[0] !== 0x50 || (bytes[1] !== 0x36 && bytes[1] !== 0x35))
    throw new Error('not a binary PPM (P6) or PGM (P5) image');
  const channels = bytes[1] === 0x36 ? 3 : 1;
  let at = 2;
  const field = () => {
    for (;;) {
      while (at < bytes.length && isSpace(bytes[at])) at++;
      if (at < bytes.length && bytes[at] === 0x23) {
        while (at < bytes.length && bytes[at] !== 10) at++;
        continue;
      }
      break;
    }
    if (at >= bytes.length || bytes[at] < 48 || bytes[at] > 57) throw new Error('bad PNM header');
    let v = 0;
    while (at < bytes.length && bytes[at] >= 48 && bytes[at] <= 57) {
      v = v * 10 + (bytes[at++] - 48);
      if (v > MAX_SIDE) throw new Error('bad PNM header');
    }
    return v;
  };
  const width = field();
  const height = field();
  const maxval = field();
  if (at >= bytes.length || !isSpace(bytes[at])) throw new Error('bad PNM header');
  if (maxval !== 255) throw new Error('only 8-bit PNM images (maxval 255) are supported');
  if (width < 1 || height < 1 || width * height > MAX_PIXELS) throw new Error('bad image size');
  return { channels, width, height, offset: at + 1 };
}

function decodePnm(bytes) {
  const { channels, width, height, offset } = readPnmHeader(bytes);
  const size = width * height * channels;
  if (bytes.length - offset < size) throw new Error('truncated PNM pixel data');
  return { width, height, channels, pixels: bytes.slice(offset, offset + size) };
}

function encodePnm({ width, height, channels, pixels }) {
  const header = Buffer.from(`P${channels === 3 ? 6 : 5}\n${width} ${height}\n255\n`, 'latin1');
  const out = new Uint8Array(header.length + pixels.length);
  out.set(header, 0);
  out.set(pixels, header.length);
  return out;
}

function grayscale({ width, height, pixels: p }) {
  const n = width * height;
  const out = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = (77 * p[j] + 150 * p[j + 1] + 29 * p[j + 2] + 128) >> 8;
  return { width, height, channels: 1, pixels: out };
}

// floor(a / b) for integers below 2^53, exactly.
const idiv = (a, b) => (a - (a % b)) / b;

function bilinearAxis(m, n) {
  const first = new Int32Array(n);
  const second = new Int32Array(n);
  const weight = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let pos = idiv((2 * i + 1) * m * 65536, 2 * n) - 32768; // 16.16 fixed point
    if (pos < 0) pos = 0;
    let at = pos >> 16;
    let frac = (pos >> 8) & 255;
    if (at >= m - 1) { at = m - 1; frac = 0; }
    first[i] = at;
    second[i] = at + 1 < m ? at + 1 : at;
    weight[i] = frac;
  }
  return [first, second, weight];
}

// Bilinear resize, as resize_bilinear in image.c: each source row used is interpolated
// horizontally once, exactly (16-bit), into lines[r & 1]; then each output row blends two.
function resizeBilinear(src, width, height) {
  const c = src.channels;
  const [x0, x1, fx] = bilinearAxis(src.width, width);
  const [y0, y1, fy] = bilinearAxis(src.height, height);
  const p = src.pixels;
  const stride = src.width * c;
  const row = width * c;
  const lines = [new Uint16Array(row), new Uint16Array(row)];
  const held = [-1, -1];
  const out = new Uint8Array(row * height);
  for (let y = 0; y < height; y++) {
    for (const r of [y0[y], y1[y]]) {
      if (held[r & 1] === r) continue;
      const line = lines[r & 1];
      const base = r * stride;
      for (let x = 0, o = 0; x < width; x++) {
        const a = base + x0[x] * c;
        const b = base + x1[x] * c;
        const wx = fx[x];
        for (let k = 0; k < c; k++) line[o++] = p[a + k] * (256 - wx) + p[b + k] * wx;
      }
      held[r & 1] = r;
    }
    const top = lines[y0[y] & 1];
    const bottom = lines[y1[y] & 1];
    const wy = fy[y];
    const o = y * row;
    for (let i = 0; i < row; i++) out[o + i] = (top[i] * (256 - wy) + bottom[i] * wy + 32768) >> 16;
  }
  return { width, height, channels: c, pixels: out };
}

// In place; see unsharp_mask in image.c for the definition.
function unsharpMask(img, radius, amount) {
  const { width: w, height: h, channels: c, pixels } = img;
  const taps = 2 * radius + 1;
  const shift = 2 * radius;
  const half = 1 << (shift - 1);
  const row = w * c;
  const weights = new Int32Array(taps);
  weights[0] = 1;
  for (let k = 1; k < taps; k++) weights[k] = (weights[k - 1] * (taps - k)) / k;

  const rows = new Uint16Array(row * h); // the horizontal pass
  const padded = new Uint8Array((w + 2 * radius) * c); // one row, edges repeated
  for (let y = 0; y < h; y++) {
    const src = y * row;
    padded.set(pixels.subarray(src, src + row), radius * c);
    for (let x = 0; x < radius; x++) {
      for (let k = 0; k < c; k++) {
        padded[x * c + k] = pixels[src + k];
        padded[(radius + w + x) * c + k] = pixels[src + (w - 1) * c + k];
      }
    }
    for (let i = 0; i < row; i++) {
      let sum = 0;
      for (let t = 0, at = i; t < taps; t++, at += c) sum += weights[t] * padded[at];
      rows[src + i] = (sum * 256 + half) >> shift;
    }
  }
  const taprows = new Int32Array(taps); // offsets of the rows under the kernel
  for (let y = 0; y < h; y++) {
    for (let t = 0; t < taps; t++) {
      const sy = y + t - radius;
      taprows[t] = (sy < 0 ? 0 : sy >= h ? h - 1 : sy) * row;
    }
    const base = y * row;
    for (let i = 0; i < row; i++) {
      let sum = 0;
      for (let t = 0; t < taps; t++) sum += weights[t] * rows[taprows[t] + i];
      const p = pixels[base + i];
      const blurred = (sum + half) >> shift; // 8 fraction bits
      const v = (p * 4096 + amount * (p * 256 - blurred) + 2048) >> 12;
      pixels[base + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

// The whole pipeline, as image_process in image.c: PPM/PGM bytes in, PPM/PGM bytes out.
// options: {width, height} (0 or absent: from the aspect ratio / the input), gray, radius
// (1..7, default 2), amount (-16..64 sixteenths, default 24; 0: no unsharp mask).
export function processImage(bytes, { width = 0, height = 0, gray = false, radius = 2, amount = 24 } = {}) {
  if (!(radius >= 1 && radius <= MAX_RADIUS)) throw new Error('radius must be 1 to 7');
  if (!(amount >= -16 && amount <= 64)) throw new Error('amount must be -16 to 64');
  if (width < 0 || height < 0 || width > MAX_SIDE || height > MAX_SIDE) throw new Error('bad output size');
  let img = decodePnm(bytes);
  if (gray && img.channels === 3) img = grayscale(img);
  if (width === 0 && height === 0) { width = img.width; height = img.height; }
  if (width === 0) width = idiv(height * img.width + idiv(img.height, 2), img.height);
  if (height === 0) height = idiv(width * img.height + idiv(img.width, 2), img.width);
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS)
    throw new Error('bad output size');
  const out = resizeBilinear(img, width, height);
  if (amount !== 0) unsharpMask(out, radius, amount);
  return encodePnm(out);
}
