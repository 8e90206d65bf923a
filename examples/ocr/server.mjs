// server.mjs - an OCR service on node:http: the Rust guest reads the text on a pool of kiln
// instances (libuv's thread pool), so the event loop keeps answering while pictures are read.
//   POST /ocr            body: a PNG or JPEG file -> { lines: [{ text, confidence, box }], timing }
//                        (?maxSide=N: detection's longest side, default 960)
//   GET  /health         answers at once
// Usage: node server.mjs [PORT] (0 or absent: any free port). Prints "listening on PORT".
// Environment: OCR_POOL_SIZE (instances, default 2), OCR_THREADS (ONNX Runtime's threads
// per model in each, default 1: the pool's instances run side by side).
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createOcrPool } from './ocr.mjs';

const MAX_UPLOAD = 20 << 20;
const pool = createOcrPool({ size: Number(process.env.OCR_POOL_SIZE || 2), threads: Number(process.env.OCR_THREADS || 1) });

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The request's body, or null when it is over MAX_UPLOAD bytes. */
async function body(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_UPLOAD) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (url.pathname === '/health') return reply(res, 200, { ok: true, pending: pool.pending });
    if (url.pathname === '/ocr' && req.method === 'POST') {
      const picture = await body(req);
      if (!picture) return reply(res, 413, { error: `the picture is over ${MAX_UPLOAD} bytes` });
      const maxSide = Number(url.searchParams.get('maxSide') ?? 0);
      if (!Number.isInteger(maxSide) || maxSide < 0 || maxSide > 4096) return reply(res, 400, { error: 'maxSide must be an integer from 0 to 4096' });
      try {
        return reply(res, 200, await pool.readText(picture, { maxSide }));
      } catch (error) {
        // a picture the guest cannot read (not PNG or JPEG, corrupt, too large)
        return reply(res, 422, { error: String(error && error.message) });
      }
    }
    reply(res, 404, { error: 'try POST /ocr with a PNG or JPEG body, or GET /health' });
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
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = await start(Number(process.argv[2] ?? 0));
  console.log(`listening on ${port}`);
  const shutdown = () => stop().then(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
