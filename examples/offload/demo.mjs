// demo.mjs - `make demo`: starts server.mjs, drives /heavy (wasm on kiln's thread pool) and
// /fast concurrently, then /blocking (the same wasm called on the event loop) for contrast,
// prints the latencies of /fast in both phases, and stops the server.
//   node demo.mjs [--seconds S] [--size N]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildHeavy } from './build.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, size: { type: 'string', default: '600' } } });
const seconds = Number(values.seconds);
const size = Number(values.size);
const here = dirname(fileURLToPath(import.meta.url));

buildHeavy();
const server = spawn(process.execPath, [join(here, 'server.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = await once(server.stdout, 'data');
const port = Number(/listening on (\d+)/.exec(String(line))?.[1]);
if (!port) throw new Error(`the server did not start: ${line}`);
const base = `http://127.0.0.1:${port}`;

async function get(path) {
  const t0 = performance.now();
  const res = await fetch(base + path);
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
  return { ms: performance.now() - t0, body };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// Two clients keep `heavyPath` busy while one client calls /fast every 10 ms.
async function phase(heavyPath) {
  const end = performance.now() + seconds * 1000;
  const heavy = [];
  const fast = [];
  const heavyClient = async () => {
    while (performance.now() < end) heavy.push((await get(`${heavyPath}?size=${size}`)).ms);
  };
  const fastClient = async () => {
    while (performance.now() < end) {
      fast.push((await get('/fast')).ms);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await Promise.all([heavyClient(), heavyClient(), fastClient()]);
  fast.sort((a, b) => a - b);
  heavy.sort((a, b) => a - b);
  return { heavy, fast };
}

function report(name, { heavy, fast }) {
  const f = (x) => x.toFixed(1).padStart(7);
  console.log(`${name.padEnd(34)} ${String(heavy.length).padStart(6)} ${f(percentile(heavy, 50))}   ` +
    `${String(fast.length).padStart(6)} ${f(percentile(fast, 50))} ${f(percentile(fast, 99))} ${f(fast[fast.length - 1])}`);
}

try {
  await get('/fast'); // warm up the connection
  await get(`/heavy?size=${size}`);
  console.log(`kiln offload demo: server on port ${port}, ${seconds} s per phase, Mandelbrot ${size}x${size} per heavy request`);
  console.log(`${''.padEnd(34)} ${'heavy requests'.padStart(14)}   ${'/fast requests and latency (ms)'.padStart(31)}`);
  console.log(`${'phase'.padEnd(34)} ${'count'.padStart(6)} ${'p50'.padStart(7)}   ${'count'.padStart(6)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}`);
  const offloaded = await phase('/heavy');
  report('/heavy: kiln Pool, off the loop', offloaded);
  const blocked = await phase('/blocking');
  report('/blocking: same wasm, on the loop', blocked);
  const p99 = percentile(offloaded.fast, 99);
  console.log(p99 < 20
    ? `the event loop stayed free: /fast p99 ${p99.toFixed(1)} ms while wasm computed (vs ${percentile(blocked.fast, 99).toFixed(1)} ms when it blocks)`
    : `warning: /fast p99 was ${p99.toFixed(1)} ms while wasm computed on the pool (a busy machine?)`);
} finally {
  server.kill('SIGTERM');
  await once(server, 'exit');
}
