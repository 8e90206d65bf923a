// gen-image.mjs - writes landscape.ppm, the picture shipped with examples/image: a 320x240
// landscape (sky, sun, two mountain ridges, a lake with reflections and ripples, trees, the
// word "kiln" and some film grain), drawn with integer arithmetic only, so every run on every
// machine writes the same bytes. It was run once and its output committed.
//   node gen-image.mjs [out.ppm]
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const W = 320, H = 240, HORIZON = 150;
const pixels = new Uint8Array(W * H * 3);

// A 32-bit integer hash (lowbias32), the source of all "randomness".
function hash(x) {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

// 1-D value noise in 0..1023 with smoothstep between lattice points `step` apart.
function noise1(x, step, seed) {
  const i = Math.floor(x / step), f = x - i * step;
  const a = hash(i * 7919 + seed) & 1023, b = hash((i + 1) * 7919 + seed) & 1023;
  const s = Math.floor((f * f * (3 * step - 2 * f) * 1024) / (step * step * step)); // smoothstep, 0..1024
  return a + Math.floor(((b - a) * s) / 1024);
}

const ridge = (x, base, seed) => base - Math.floor((noise1(x, 64, seed) * 40 + noise1(x, 16, seed + 1) * 12 + noise1(x, 5, seed + 2) * 3) / 1024);
const mix = (a, b, t, n) => a + Math.floor(((b - a) * t) / n);

function set(x, y, r, g, b) {
  const i = (y * W + x) * 3;
  pixels[i] = r, pixels[i + 1] = g, pixels[i + 2] = b;
}

function sky(x, y) {
  // Deep blue at the top to orange at the horizon, a warm glow around the sun.
  const t = Math.min(y, HORIZON);
  let r = mix(28, 250, t, HORIZON), g = mix(46, 160, t, HORIZON), b = mix(110, 90, t, HORIZON);
  const dx = x - 228, dy = y - 96, d2 = dx * dx + dy * dy;
  if (d2 < 22 * 22) return [255, 236, 170];
  if (d2 < 70 * 70) {
    const k = 70 * 70 - d2;
    r = Math.min(255, r + Math.floor(k * 60 / 4900)), g = Math.min(255, g + Math.floor(k * 50 / 4900));
  }
  return [r, g, b];
}

for (let x = 0; x < W; x++) {
  const far = ridge(x, HORIZON - 28, 11), near = ridge(x, HORIZON + 2, 23);
  for (let y = 0; y < HORIZON; y++) {
    let c = sky(x, y);
    if (y >= far) c = [mix(120, 92, y - far, 60), mix(96, 80, y - far, 60), mix(140, 120, y - far, 60)];
    if (y >= near) {
      const shade = (hash(x * 131 + y * 977) & 15) - 8;
      c = [46 + shade, 62 + shade, 58 + shade];
    }
    set(x, y, ...c);
  }
  // The lake: the sky above mirrored, darkened, broken by horizontal ripples.
  for (let y = HORIZON; y < H; y++) {
    const ripple = noise1(x + (y * 37) % 200, 9, y) - 512;
    const my = Math.max(0, 2 * HORIZON - y - 1 + Math.floor(ripple * (y - HORIZON) / 6000));
    const src = (Math.min(my, HORIZON - 1) * W + x) * 3;
    const dark = 150 + Math.floor((H - y) * 60 / (H - HORIZON));
    set(x, y, (pixels[src] * dark) >> 8, (pixels[src + 1] * dark) >> 8, Math.min(255, ((pixels[src + 2] * dark) >> 8) + 20));
  }
}

// Trees on the near shore: dark triangles with a trunk.
for (let t = 0; t < 14; t++) {
  const cx = 10 + (hash(t + 500) % 140), h = 18 + (hash(t + 900) % 22), base = HORIZON + 1;
  for (let y = base - h; y < base; y++) {
    const half = Math.floor((y - (base - h)) * 6 / h) + 1;
    for (let x = cx - half; x <= cx + half; x++)
      if (x >= 0 && x < W) set(x, y, 18 + (hash(x * 31 + y) & 7), 52 + (hash(x + y * 17) & 15), 30);
  }
  for (let y = base; y < base + 3; y++) set(cx, y, 60, 40, 24);
}

// "kiln" in a 5x7 bitmap font, 4x scale, white with a dark shadow.
const glyphs = {
  k: ['10001', '10010', '10100', '11000', '10100', '10010', '10001'],
  i: ['01110', '00100', '00100', '00100', '00100', '00100', '01110'],
  l: ['10000', '10000', '10000', '10000', '10000', '10000', '11111'],
  n: ['10001', '11001', '10101', '10011', '10001', '10001', '10001'],
};
const drawText = (text, ox, oy, scale, color) => {
  [...text].forEach((ch, n) => glyphs[ch].forEach((line, gy) => [...line].forEach((bit, gx) => {
    if (bit !== '1') return;
    for (let y = 0; y < scale; y++)
      for (let x = 0; x < scale; x++) set(ox + (n * 6 + gx) * scale + x, oy + gy * scale + y, ...color);
  })));
};
drawText('kiln', 194, 194, 4, [20, 24, 40]);
drawText('kiln', 192, 192, 4, [250, 250, 245]);

// Film grain: +-6 on every channel.
for (let i = 0; i < pixels.length; i++) pixels[i] = Math.max(0, Math.min(255, pixels[i] + (hash(i + 77) % 13) - 6));

const out = process.argv[2] || join(dirname(fileURLToPath(import.meta.url)), 'landscape.ppm');
writeFileSync(out, Buffer.concat([Buffer.from(`P6\n${W} ${H}\n255\n`, 'latin1'), pixels]));
console.log(`wrote ${out} (${W}x${H})`);
