// server.mjs - a node:http server with kiln doing the heavy lifting off the event loop:
//   GET /heavy?size=N   Mandelbrot on an N x N grid in wasm, on a kiln.Pool (thread pool)
//   GET /blocking?size=N  the same computation called synchronously (blocks the loop; for contrast)
//   GET /fast           answers at once
// Usage: node server.mjs [PORT]  (0 or absent: any free port). Prints "listening on PORT".
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import kiln from 'kiln';
import { buildHeavy } from './build.mjs';

const module = kiln.compile(buildHeavy());
const pool = new kiln.Pool(module, { limits: { timeoutMs: 10_000 } });
const blocking = kiln.instantiate(module);
const MAX_ITER = 256;

function sizeOf(url) {
  const size = Number(url.searchParams.get('size') ?? 600);
  return Number.isInteger(size) && size > 0 && size <= 10_000 ? size : null;
}

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (url.pathname === '/fast') return reply(res, 200, { ok: true });
    if (url.pathname === '/heavy' || url.pathname === '/blocking') {
      const size = sizeOf(url);
      if (!size) return reply(res, 400, { error: 'size must be an integer from 1 to 10000' });
      const t0 = performance.now();
      const total = url.pathname === '/heavy'
        ? await pool.call('mandelbrot', size, MAX_ITER)
        : blocking.exports.mandelbrot(size, MAX_ITER);
      return reply(res, 200, { size, iterations: total >>> 0, ms: +(performance.now() - t0).toFixed(1) });
    }
    reply(res, 404, { error: 'try /fast, /heavy?size=N or /blocking?size=N' });
  } catch (error) {
    reply(res, 500, { error: String(error && error.message) });
  }
});

export function start(port = 0) {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server.address().port)));
}

export async function stop() {
  await new Promise((resolve) => server.close(resolve));
  await pool.close();
  blocking.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = await start(Number(process.argv[2] ?? 0));
  console.log(`listening on ${port}`);
  const shutdown = () => stop().then(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
