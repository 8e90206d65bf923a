// ocr.mjs - reading text in pictures from Node.js, with the Rust guest (rust/, built by
// build.mjs with `kiln build`) running PaddleOCR's models through kiln's WASI-NN.
//
//   import { readText, createOcrPool } from './ocr.mjs';
//   const { lines } = await readText.async(pngOrJpegBytes);   // off the event loop
//   // lines: [{ text, confidence, box: [[x, y], [x, y], [x, y], [x, y]] }]
//   const { lines: same } = readText(pngOrJpegBytes);        // the same, synchronously
//   const pool = createOcrPool({ size: 2 });                  // calls in parallel
//   await pool.readText(bytes); await pool.close();
//
// Options of a call: { maxSide } (detection scales the picture so that its longer side is at
// most this; default 960). Results also carry timing: { total, det, cls, rec } in ms, the
// time spent in each model (WASI-NN set_input, compute, get_output) and in all.
// Options of the instances (configure() before the first call, or createOcrPool's): threads
// (ONNX Runtime's intra-op threads per model; default: its own, one per core), onnxruntime
// (the path of libonnxruntime.so.1; default: next to the onnxruntime-node package), limits
// (kiln's: { memory, timeoutMs }).
import { createRequire } from 'node:module';
import { buildOcr } from './build.mjs';
import { models } from './models.mjs';

const require = createRequire(import.meta.url);
const glue = require(buildOcr().glue);

/** kiln's instantiate options for the OCR guest: the three models preloaded by name. */
export function instanceOptions({ threads, onnxruntime, limits } = {}) {
  const { det, cls, rec } = models();
  const nn = { preload: { det, cls, rec } };
  if (threads !== undefined) nn.threads = threads;
  if (onnxruntime !== undefined) nn.onnxruntime = onnxruntime;
  return limits === undefined ? { nn } : { nn, limits };
}

function maxSideOf(options = {}) {
  const { maxSide = 0 } = options;
  if (!Number.isInteger(maxSide) || maxSide < 0 || maxSide > 1 << 16) {
    throw new TypeError(`readText: options.maxSide must be an integer from 0 to 65536, not ${maxSide}`);
  }
  return maxSide;
}

function bytesOf(image) {
  if (image instanceof Uint8Array) return image;
  if (image instanceof ArrayBuffer) return new Uint8Array(image);
  throw new TypeError(`readText: the image must be the bytes of a PNG or JPEG file (a Buffer or Uint8Array), not ${image === null ? 'null' : typeof image}`);
}

let settings = {};
let shared = null;

/** Sets the options of the instance readText uses (before its first call). */
export function configure(options = {}) {
  if (shared) throw new Error('configure(): readText has already made its instance');
  settings = options;
}

function instance() {
  shared ??= glue.instantiate(instanceOptions(settings));
  return shared;
}

/** The text in a PNG or JPEG picture: { lines: [{ text, confidence, box }], timing }. */
export function readText(image, options) {
  return JSON.parse(instance().read_text(bytesOf(image), maxSideOf(options)));
}

/** readText on kiln's thread pool: the event loop stays free while it runs. */
readText.async = async function readTextAsync(image, options) {
  return JSON.parse(await instance().read_text.async(bytesOf(image), maxSideOf(options)));
};

/** Closes readText's instance (a later call makes a new one). */
export function close() {
  if (shared) shared.close();
  shared = null;
}

/** `size` instances (default: one per core) reading pictures in parallel. */
export function createOcrPool({ size, ...options } = {}) {
  const pool = glue.createPool({ ...(size === undefined ? {} : { size }), ...instanceOptions(options) });
  return {
    get size() { return pool.size; },
    get pending() { return pool.pending; },
    async readText(image, options) {
      return JSON.parse(await pool.read_text(bytesOf(image), maxSideOf(options)));
    },
    close: () => pool.close(),
  };
}

/** The guest's functions on a new instance of their own (for tests: its recording calls). */
export function instantiate(options) {
  return glue.instantiate(instanceOptions(options));
}
