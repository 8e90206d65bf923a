// demo.mjs - the OCR service at work: starts server.mjs, has two clients upload pictures of
// text (rendered now) to POST /ocr for a few seconds while a third calls GET /health every
// 10 ms, then prints what was read and the latencies: /health stays fast while the pictures
// are read off the event loop.
//   node demo.mjs [--seconds S]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildOcr } from './build.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '4' } } });
const seconds = Number(values.seconds);
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { createCanvas, GlobalFonts } = require('@napi-rs/canvas');
GlobalFonts.registerFromPath('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 'DejaVu Sans');

function picture(lines, rotate) {
  const canvas = createCanvas(720, 300);
  const g = canvas.getContext('2d');
  g.fillStyle = 'white';
  g.fillRect(0, 0, 720, 300);
  if (rotate) {
    g.translate(720, 300);
    g.rotate(Math.PI);
  }
  g.fillStyle = 'black';
  g.font = '40px "DejaVu Sans"';
  lines.forEach((text, i) => g.fillText(text, 40, 80 + i * 90));
  return canvas.encodeSync('png');
}

const pictures = [
  picture(['Invoice 4711', 'Total: 99.50 EUR'], false),
  picture(['The quick brown fox', 'jumps over 13 lazy dogs'], true),
];

buildOcr();
const server = spawn(process.execPath, [join(here, 'server.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = await once(server.stdout, 'data');
const port = Number(/listening on (\d+)/.exec(String(line))?.[1]);
if (!port) throw new Error(`the server did not start: ${line}`);
const base = `http://127.0.0.1:${port}`;

async function request(path, body) {
  const t0 = performance.now();
  const res = await fetch(base + path, body ? { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } } : {});
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return { ms: performance.now() - t0, json };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const f = (x) => x.toFixed(1).padStart(7);

try {
  for (const [i, bytes] of pictures.entries()) {
    const { ms, json } = await request('/ocr', bytes);
    console.log(`picture ${i + 1}${i === 1 ? ' (upside down)' : ''}: ${ms.toFixed(0)} ms`);
    for (const l of json.lines) console.log(`  ${JSON.stringify(l.text).padEnd(28)} confidence ${l.confidence.toFixed(3)}  box ${JSON.stringify(l.box)}`);
  }
  const end = performance.now() + seconds * 1000;
  const ocr = [];
  const health = [];
  const uploader = async (k) => {
    for (let n = k; performance.now() < end; n++) ocr.push((await request('/ocr', pictures[n % 2])).ms);
  };
  const prober = async () => {
    while (performance.now() < end) {
      health.push((await request('/health')).ms);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await Promise.all([uploader(0), uploader(1), prober()]);
  ocr.sort((a, b) => a - b);
  health.sort((a, b) => a - b);
  console.log(`\n${seconds} s, two clients uploading, one probing /health every 10 ms (latencies in ms):`);
  console.log(`${''.padEnd(10)} ${'count'.padStart(6)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}`);
  console.log(`${'POST /ocr'.padEnd(10)} ${String(ocr.length).padStart(6)} ${f(percentile(ocr, 50))} ${f(percentile(ocr, 99))} ${f(ocr[ocr.length - 1])}`);
  console.log(`${'/health'.padEnd(10)} ${String(health.length).padStart(6)} ${f(percentile(health, 50))} ${f(percentile(health, 99))} ${f(health[health.length - 1])}`);
} finally {
  server.kill('SIGTERM');
  await once(server, 'exit');
}
