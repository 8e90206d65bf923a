'use strict';
// index.js - the package 'kiln': the public JavaScript API (compile, instantiate, Instance,
// Pool, the error classes and the WebAssembly facade) built on the native addon
// (build/kiln.node, interface in src/addon.h). What is cheap to check is checked here, so a
// wrong argument is a TypeError naming it before anything native runs.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fileURLToPath } = require('node:url');
const platform = require('../install/platform.js');

// ---------------------------------------------------------------- the addon

function loadAddon() {
  const problem = platform.nodeProblem();
  if (problem) throw new Error(problem);
  const candidates = platform.addonCandidates();
  if (candidates.length === 0) {
    throw new Error(
      platform.inRepository()
        ? 'kiln: the native addon is not built (bindings/node/build/kiln.node): run `make` at the root of the kiln repository'
        : `kiln: no native addon for ${process.platform}-${process.arch} in ${platform.packageDir}: ` +
            'its install script did not run or failed; run `npm rebuild kiln` to see why ' +
            '(or set KILN_NODE_ADDON to the path of a built kiln.node)',
    );
  }
  const failures = [];
  for (const file of candidates) {
    try {
      return { native: require(file), gc: gcEnvironment(file) };
    } catch (cause) {
      failures.push({ file, cause });
    }
  }
  const detail = failures.map((f) => `${f.file}: ${f.cause.message}`).join('; ');
  throw new Error(
    `kiln: cannot load the native addon (${detail}); \`npm rebuild kiln --build-from-source\` builds one for this machine`,
    { cause: failures[0].cause },
  );
}

// kiln_gc.node beside the addon: the Node-API environment in which the addon registers its
// finalizers, so that they run during garbage collection (gc/gc.c says why); without it
// they wait for the event loop to turn (a loop that never yields then holds what it drops).
function gcEnvironment(addonFile) {
  try {
    return require(path.join(path.dirname(addonFile), 'kiln_gc.node')).env;
  } catch {
    return undefined;
  }
}

const { native, gc: gcEnv } = loadAddon();

// ---------------------------------------------------------------- errors

// kiln's errors extend the standard WebAssembly ones where Node has them, so code that
// tests `e instanceof WebAssembly.RuntimeError` against the global still recognises them.
const standard = globalThis.WebAssembly || {};

/**
 * @template {new (...args: any[]) => Error} B
 * @param {string} name
 * @param {B} Base
 * @returns {B}
 */
function errorClass(name, Base) {
  const cls = {
    [name]: class extends Base {},
  }[name];
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  return cls;
}

const CompileError = errorClass('CompileError', standard.CompileError || Error);
const LinkError = errorClass('LinkError', standard.LinkError || Error);
const RuntimeError = errorClass('RuntimeError', standard.RuntimeError || Error);
const TimeoutError = errorClass('TimeoutError', RuntimeError);
const ExitError = errorClass('ExitError', Error);
/**
 * A call that failed after the instance's memory limit (limits.memory) refused to grow its
 * memory: .requested and .limit in bytes; .trap and .wasmStack as for a RuntimeError, or
 * .cause, the error a host function (the glue's kiln.fail) threw then.
 */
const MemoryLimitError = errorClass('MemoryLimitError', RangeError);

/** The rejection of an aborted call whose AbortSignal carries no reason of its own. */
class AbortError extends Error {
  constructor(message = 'The operation was aborted', options) {
    super(message, options);
    this.code = 'ABORT_ERR';
  }
}
Object.defineProperty(AbortError.prototype, 'name', { value: 'AbortError', writable: true, configurable: true });

// The addon sets .wasmStack on a trap after constructing the error; this setter keeps the
// frames and adds them to .stack, the way V8 prints wasm frames, so an uncaught trap shows
// where in the guest it happened.
Object.defineProperty(RuntimeError.prototype, 'wasmStack', {
  configurable: true,
  get() {
    return undefined;
  },
  set(frames) {
    Object.defineProperty(this, 'wasmStack', { value: frames, writable: true, enumerable: true, configurable: true });
    if (!Array.isArray(frames) || typeof this.stack !== 'string') return;
    const lines = frames.map(
      (f) => `    at ${f.name || `wasm-function[${f.index}]`} (wasm-function[${f.index}]` +
        (f.offset ? `:0x${(f.offset >>> 0).toString(16)})` : ')'),
    );
    const stack = this.stack;
    const header = `${this.name}: ${this.message}`;
    const rest = stack.startsWith(header) ? stack.slice(header.length) : stack.slice(stack.indexOf('\n'));
    this.stack = [header, ...lines].join('\n') + rest;
  },
});

// ---------------------------------------------------------------- tiers

/** The tiers this build of the addon has: 'interp', and 'compiled' and 'auto' when built with LLVM 19. */
const tiers = Object.freeze([...native.tiers]);

// The tier modules compile for when options.tier does not say: the environment variable
// KILN_TIER (auto, interp or compiled), read once when the package loads; unset or empty:
// auto when the addon has the compiled tier, else interp.
function environmentTier() {
  const tier = process.env.KILN_TIER;
  if (tier === undefined || tier === '') return tiers.includes('auto') ? 'auto' : 'interp';
  if (tier !== 'interp' && tier !== 'compiled' && tier !== 'auto') {
    throw new Error(`kiln: the environment variable KILN_TIER is ${JSON.stringify(tier)}: use auto, interp or compiled`);
  }
  return tier;
}

native.init({ CompileError, LinkError, RuntimeError, TimeoutError, ExitError, MemoryLimitError }, { tier: environmentTier() }, gcEnv);

// ---------------------------------------------------------------- argument checks

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value)})`;
  return `${typeof value === 'undefined' ? '' : 'a '}${typeof value}${
    typeof value === 'number' || typeof value === 'bigint' ? ` (${value})` : ''
  }`;
}

function typeError(where, message, value) {
  return new TypeError(`${where}: ${message}${arguments.length > 2 ? `, got ${describe(value)}` : ''}`);
}

function isBytes(value) {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value) ||
    (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer);
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function optionalObject(where, name, value) {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw typeError(where, `${name} must be an object`, value);
  return value;
}

function checkKeys(where, name, object, known) {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      throw new TypeError(`${where}: ${name}.${key} is not an option (known: ${known.join(', ')})`);
    }
  }
}

function nonNegative(where, name, value, { integer = false, bigint = false } = {}) {
  if (bigint && typeof value === 'bigint') {
    if (value < 0n) throw typeError(where, `${name} must not be negative`, value);
    return value;
  }
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (integer && !Number.isInteger(value) && value !== Infinity)) {
    throw typeError(where, `${name} must be a non-negative ${integer ? 'integer' : 'number'}`, value);
  }
  return value;
}

function fdOption(where, name, value) {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (!Number.isInteger(value) || value < 0) {
    throw typeError(where, `${name} must be a file descriptor (a non-negative integer) or null`, value);
  }
  return value;
}

function stringMap(where, name, value) {
  const map = optionalObject(where, name, value);
  for (const [key, v] of Object.entries(map)) {
    if (typeof v !== 'string') throw typeError(where, `${name}[${JSON.stringify(key)}] must be a string`, v);
  }
  return map;
}

// A timeout in whole milliseconds for the addon, where 0 means none (so do 0 and Infinity).
function timeoutOption(where, name, value) {
  if (value === undefined || value === null) return undefined;
  nonNegative(where, name, value);
  return value === Infinity ? 0 : Math.min(Math.ceil(value), 1e12);
}

// {args, env, preopens, readonlyPreopens, stdin, stdout, stderr}, or true for the defaults.
function wasiOptions(where, wasi) {
  if (wasi === undefined || wasi === null || wasi === false) return undefined;
  if (wasi === true) return {};
  if (!isPlainObject(wasi)) throw typeError(where, 'options.wasi must be an object or true', wasi);
  checkKeys(where, 'options.wasi', wasi, ['args', 'env', 'preopens', 'readonlyPreopens', 'stdin', 'stdout', 'stderr']);
  const out = {};
  if (wasi.args !== undefined) {
    if (!Array.isArray(wasi.args)) throw typeError(where, 'options.wasi.args must be an array of strings', wasi.args);
    wasi.args.forEach((a, i) => {
      if (typeof a !== 'string') throw typeError(where, `options.wasi.args[${i}] must be a string`, a);
    });
    out.args = wasi.args;
  }
  if (wasi.env !== undefined) out.env = stringMap(where, 'options.wasi.env', wasi.env);
  if (wasi.preopens !== undefined) out.preopens = stringMap(where, 'options.wasi.preopens', wasi.preopens);
  if (wasi.readonlyPreopens !== undefined) {
    out.readonlyPreopens = stringMap(where, 'options.wasi.readonlyPreopens', wasi.readonlyPreopens);
  }
  for (const stream of ['stdin', 'stdout', 'stderr']) {
    const fd = fdOption(where, `options.wasi.${stream}`, wasi[stream]);
    if (fd !== undefined) out[stream] = fd;
  }
  return out;
}

// The options of kiln.instantiate / new Instance / new Pool as the addon takes them.
function nativeOptions(where, options, extraKeys = []) {
  options = optionalObject(where, 'options', options);
  checkKeys(where, 'options', options, ['imports', 'wasi', 'nn', 'limits', ...extraKeys]);
  const imports = optionalObject(where, 'options.imports', options.imports);
  for (const [name, fields] of Object.entries(imports)) {
    if (!isPlainObject(fields) && typeof fields !== 'function') {
      throw typeError(where, `options.imports[${JSON.stringify(name)}] must be an object of imports`, fields);
    }
  }
  const limits = optionalObject(where, 'options.limits', options.limits);
  checkKeys(where, 'options.limits', limits, ['memory', 'timeoutMs', 'fuel']);
  const out = {};
  const wasi = wasiOptions(where, options.wasi);
  if (wasi) out.wasi = wasi;
  const nn = nnOptions(where, options.nn);
  if (nn) out.nn = nn;
  if (limits.memory !== undefined) out.memoryLimit = nonNegative(where, 'options.limits.memory', limits.memory, { integer: true });
  if (out.memoryLimit === Infinity) delete out.memoryLimit;
  const timeoutMs = timeoutOption(where, 'options.limits.timeoutMs', limits.timeoutMs);
  if (timeoutMs) out.timeoutMs = timeoutMs;
  if (limits.fuel !== undefined && limits.fuel !== Infinity) {
    out.fuel = nonNegative(where, 'options.limits.fuel', limits.fuel, { integer: true, bigint: true });
  }
  return { imports, options: out };
}

// WASI-NN (wasi_ephemeral_nn): options.nn is true or { preload: { NAME: 'model.onnx' },
// onnxruntime: 'libonnxruntime.so.1', threads, maxGraphs, maxContexts }. ONNX Runtime's
// library is found next to the onnxruntime-node package the application has, unless given.
function nnOptions(where, nn) {
  if (nn === undefined || nn === null || nn === false) return undefined;
  if (nn === true) nn = {};
  nn = optionalObject(where, 'options.nn', nn);
  checkKeys(where, 'options.nn', nn, ['preload', 'onnxruntime', 'threads', 'maxGraphs', 'maxContexts']);
  const preload = optionalObject(where, 'options.nn.preload', nn.preload);
  const out = { preload: [], threads: 0, maxGraphs: 16, maxContexts: 64 };
  for (const [name, file] of Object.entries(preload)) {
    if (typeof file !== 'string') throw typeError(where, `options.nn.preload[${JSON.stringify(name)}] must be the path of an .onnx file`, file);
    out.preload.push([name, file]);
  }
  for (const key of ['threads', 'maxGraphs', 'maxContexts']) {
    if (nn[key] !== undefined) out[key] = nonNegative(where, `options.nn.${key}`, nn[key], { integer: true });
  }
  if (nn.onnxruntime !== undefined && typeof nn.onnxruntime !== 'string') {
    throw typeError(where, 'options.nn.onnxruntime must be the path of libonnxruntime.so.1 (or its directory)', nn.onnxruntime);
  }
  out.onnxruntime = nn.onnxruntime ?? onnxRuntimeNextToPackage();
  return out;
}

// libonnxruntime.so.1 of the onnxruntime-node package the application can require, if any.
let onnxRuntimeFound;
function onnxRuntimeNextToPackage() {
  if (onnxRuntimeFound !== undefined) return onnxRuntimeFound;
  onnxRuntimeFound = null;
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  const bases = [process.cwd(), ...(require.main ? [path.dirname(require.main.filename)] : [])];
  for (const base of bases) {
    try {
      const pkg = require.resolve('onnxruntime-node/package.json', { paths: [base] });
      const file = path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, arch || process.arch, 'libonnxruntime.so.1');
      if (fs.existsSync(file)) return (onnxRuntimeFound = file);
    } catch {
      // not installed where this base resolves from
    }
  }
  return onnxRuntimeFound;
}

function signalOption(where, signal) {
  if (signal === undefined || signal === null) return undefined;
  if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw typeError(where, 'options.signal must be an AbortSignal', signal);
  }
  return signal;
}

function abortReason(signal) {
  return signal.reason !== undefined ? signal.reason : new AbortError();
}

function callOptions(where, options) {
  options = optionalObject(where, 'options', options);
  checkKeys(where, 'options', options, ['signal', 'timeoutMs']);
  return {
    signal: signalOption(where, options.signal),
    timeoutMs: timeoutOption(where, 'options.timeoutMs', options.timeoutMs),
  };
}

// An async call waiting in a queue (of an Instance or a Pool): validates the arguments,
// then gives enqueue the job {name, args, signal, timeoutMs, resolve, reject}. With a
// signal, abort(job) runs when it fires, until unlisten(job).
function queuedCall(where, name, args, options, check, enqueue, abort) {
  try {
    check();
    if (!Array.isArray(args)) throw typeError(where, 'args must be an array', args);
    const { signal, timeoutMs } = callOptions(where, options);
    if (signal && signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const job = { name, args, signal, timeoutMs, resolve, reject, aborted: false, onAbort: null };
      if (signal) {
        job.onAbort = () => abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      enqueue(job);
    });
  } catch (error) {
    return Promise.reject(error);
  }
}

function unlisten(job) {
  if (job.signal) job.signal.removeEventListener('abort', job.onAbort);
}

function nameArgument(where, name) {
  if (typeof name !== 'string') throw typeError(where, 'name must be a string (the name of an exported function)', name);
  return name;
}

// ---------------------------------------------------------------- modules

/** A compiled module: validated once, shareable by any number of instances and threads. */
const Module = native.Module;

// The static methods of the standard WebAssembly.Module.
function moduleArgument(where, module) {
  if (!(module instanceof Module)) throw typeError(where, 'module must be a kiln Module', module);
  return module;
}
Object.defineProperties(Module, {
  imports: {
    value: function imports(module) {
      return moduleArgument('Module.imports(module)', module).imports();
    },
    writable: true,
    configurable: true,
  },
  exports: {
    value: function exports(module) {
      return moduleArgument('Module.exports(module)', module).exports();
    },
    writable: true,
    configurable: true,
  },
  customSections: {
    value: function customSections(module, sectionName) {
      moduleArgument('Module.customSections(module, sectionName)', module);
      if (sectionName === undefined) {
        throw new TypeError('Module.customSections(module, sectionName): sectionName is missing');
      }
      sectionName = String(sectionName);
      // a name with a lone surrogate equals no section's (their names are valid UTF-8)
      if (!sectionName.isWellFormed()) return [];
      return module.customSections(sectionName);
    },
    writable: true,
    configurable: true,
  },
});

function readBytes(where, bytesOrPath) {
  if (isBytes(bytesOrPath)) return bytesOrPath;
  if (typeof bytesOrPath === 'string' || bytesOrPath instanceof URL) {
    const file = bytesOrPath instanceof URL ? fileURLToPath(bytesOrPath) : bytesOrPath;
    try {
      return fs.readFileSync(file);
    } catch (cause) {
      throw new Error(`${where}: cannot read ${file}: ${cause.message}`, { cause });
    }
  }
  throw typeError(where, 'bytesOrPath must be the bytes of a module (Buffer, ArrayBuffer, typed array) or a path (string or file: URL)', bytesOrPath);
}

// {tier, portable, fuel} of kiln.compile and kiln.instantiate; the addon checks their values.
// fuel: compiled code counts fuel (limits.fuel, setFuel); the interpreter always does.
function compileOptions(where, options) {
  options = optionalObject(where, 'options', options);
  checkKeys(where, 'options', options, ['tier', 'portable', 'fuel']);
  const out = {};
  if (options.tier !== undefined) out.tier = options.tier;
  if (options.portable !== undefined) out.portable = options.portable;
  if (options.fuel !== undefined) out.fuel = options.fuel;
  return out;
}

/**
 * Compile (decode and validate) a module from its bytes or from a file, for the tier
 * options.tier: 'auto' (the default when the addon has the compiled tier: interpreted at
 * once, hot functions compiled in the background), 'interp' or 'compiled' (the whole module
 * compiled now); KILN_TIER sets the default. Compiled code is cached. Throws CompileError.
 */
function compile(bytesOrPath, options) {
  const tier = compileOptions('kiln.compile(bytesOrPath, options)', options);
  return new Module(readBytes('kiln.compile(bytesOrPath)', bytesOrPath), tier);
}

/**
 * kiln.compile off the JavaScript thread: the file is read and the module compiled on
 * libuv's thread pool. A Promise of the Module; rejects (never throws) on bad arguments
 * (TypeError) and bad modules (CompileError).
 */
async function compileAsync(bytesOrPath, options) {
  const where = 'kiln.compileAsync(bytesOrPath, options)';
  const tier = compileOptions(where, options);
  let bytes = bytesOrPath;
  if (typeof bytesOrPath === 'string' || bytesOrPath instanceof URL) {
    const file = bytesOrPath instanceof URL ? fileURLToPath(bytesOrPath) : bytesOrPath;
    try {
      bytes = await fs.promises.readFile(file);
    } catch (cause) {
      throw new Error(`kiln.compileAsync(bytesOrPath): cannot read ${file}: ${cause.message}`, { cause });
    }
  } else {
    bytes = readBytes('kiln.compileAsync(bytesOrPath)', bytesOrPath);
  }
  return native.compileAsync(bytes, tier);
}

/** Whether bytes are a valid WebAssembly module. */
function validate(bytes) {
  if (!isBytes(bytes)) throw typeError('kiln.validate(bytes)', 'bytes must be an ArrayBuffer, a typed array or a Buffer', bytes);
  return native.validate(bytes);
}

// ---------------------------------------------------------------- memory helpers

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

function rangeCheck(where, memory, offset, length) {
  if (!Number.isInteger(offset) || offset < 0) throw typeError(where, 'offset must be a non-negative integer', offset);
  if (!Number.isInteger(length) || length < 0) throw typeError(where, 'length must be a non-negative integer', length);
  const size = memory.buffer.byteLength;
  if (offset + length > size) {
    throw new RangeError(`${where}: bytes ${offset}..${offset + length} are outside linear memory (${size} bytes)`);
  }
}

// Helpers added to the addon's Memory class (so exported and imported memories have them).
const memoryHelpers = {
  /** A copy of `length` bytes at `offset`. */
  read(offset, length) {
    rangeCheck('memory.read(offset, length)', this, offset, length);
    return new Uint8Array(this.buffer, offset, length).slice();
  },
  /** Copy bytes into memory at `offset`; returns the number of bytes written. */
  write(offset, bytes) {
    if (typeof bytes === 'string') bytes = encoder.encode(bytes);
    else if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
    else if (ArrayBuffer.isView(bytes)) bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    else throw typeError('memory.write(offset, bytes)', 'bytes must be a string, a Buffer, a typed array or an ArrayBuffer', bytes);
    rangeCheck('memory.write(offset, bytes)', this, offset, bytes.length);
    new Uint8Array(this.buffer).set(bytes, offset);
    return bytes.length;
  },
  /** The UTF-8 string of `length` bytes at `offset`, or up to the first NUL if length is omitted. */
  readString(offset, length) {
    if (length === undefined) {
      rangeCheck('memory.readString(offset)', this, offset, 0);
      const bytes = new Uint8Array(this.buffer);
      let end = bytes.indexOf(0, offset);
      if (end < 0) end = bytes.length;
      return decoder.decode(bytes.subarray(offset, end));
    }
    rangeCheck('memory.readString(offset, length)', this, offset, length);
    return decoder.decode(new Uint8Array(this.buffer, offset, length));
  },
  /** Write `string` as UTF-8 at `offset` (no terminating NUL); returns the bytes written. */
  writeString(offset, string) {
    if (typeof string !== 'string') throw typeError('memory.writeString(offset, string)', 'string must be a string', string);
    const bytes = encoder.encode(string);
    rangeCheck('memory.writeString(offset, string)', this, offset, bytes.length);
    new Uint8Array(this.buffer).set(bytes, offset);
    return bytes.length;
  },
};
for (const [name, fn] of Object.entries(memoryHelpers)) {
  if (!(name in native.Memory.prototype)) {
    Object.defineProperty(native.Memory.prototype, name, { value: fn, writable: true, configurable: true });
  }
}
if (!('valueOf' in native.Global.prototype) || native.Global.prototype.valueOf === Object.prototype.valueOf) {
  const getValue = Object.getOwnPropertyDescriptor(native.Global.prototype, 'value').get;
  Object.defineProperty(native.Global.prototype, 'valueOf', {
    value: function valueOf() {
      return getValue.call(this); // (a TypeError when this is not a Global)
    },
    writable: true,
    configurable: true,
  });
}

// ---------------------------------------------------------------- instances

/**
 * An instance of a module in its own sandbox (store): its exports, its memory, synchronous
 * and asynchronous calls. One call runs at a time; async calls queue.
 */
class Instance {
  #native;
  #queue = []; // async calls of callAsync waiting for their turn
  #running = null; // the job of callAsync on the thread pool now
  #tier; // its module's

  constructor(module, options) {
    const where = 'new kiln.Instance(module, options)';
    if (!(module instanceof Module)) {
      throw typeError(where, 'module must be a kiln Module (from kiln.compile)', module);
    }
    const { imports, options: opts } = nativeOptions(where, options);
    this.#native = new native.Instance(module, imports, opts);
    this.#tier = module.tier;
  }

  /** The tier its module was compiled for: 'auto', 'interp' or 'compiled'. */
  get tier() {
    return this.#tier;
  }

  /** The exports: functions (f(...) synchronous, f.async(...) a Promise), Memory, Table, Global. */
  get exports() {
    return this.#native.exports;
  }

  /** The first exported memory (the one a guest's data lives in), or undefined. */
  get memory() {
    const exports = this.#native.exports;
    if (exports.memory instanceof native.Memory) return exports.memory;
    for (const value of Object.values(exports)) if (value instanceof native.Memory) return value;
    return undefined;
  }

  #needMemory(where) {
    const memory = this.memory;
    if (!memory) throw new Error(`${where}: the instance exports no memory`);
    return memory;
  }

  #needFunction(where, name) {
    nameArgument(where, name);
    const f = this.#native.exports[name];
    if (typeof f !== 'function') {
      const names = Object.keys(this.#native.exports).filter((n) => typeof this.#native.exports[n] === 'function');
      throw new TypeError(`${where}: name ${JSON.stringify(name)} is not an exported function (exported: ${names.join(', ') || 'none'})`);
    }
    return f;
  }

  /** Call an exported function synchronously on this thread. */
  call(name, ...args) {
    return this.#needFunction('instance.call(name, ...args)', name)(...args);
  }

  /**
   * Call an exported function on the thread pool: a Promise of its result. options.signal
   * (an AbortSignal) interrupts it and rejects with the signal's reason; options.timeoutMs
   * overrides the instance's limits.timeoutMs for this call.
   */
  callAsync(name, args = [], options) {
    const where = 'instance.callAsync(name, args, options)';
    return queuedCall(
      where, name, args, options,
      () => this.#needFunction(where, name),
      (job) => {
        this.#queue.push(job);
        this.#pump();
      },
      (job) => this.#abort(job),
    );
  }

  // Calls with a signal must be cancellable while they wait, so callAsync keeps its own
  // queue and gives the addon one call at a time.
  #pump() {
    if (this.#running || this.#queue.length === 0) return;
    const job = this.#queue.shift();
    this.#running = job;
    let promise;
    try {
      promise = job.timeoutMs === undefined
        ? this.#native.callAsync(job.name, job.args)
        : this.#native.callAsync(job.name, job.args, job.timeoutMs);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (value) => this.#settle(job, null, value),
      (error) => this.#settle(job, error),
    );
  }

  #settle(job, error, value) {
    unlisten(job);
    this.#running = null;
    if (job.aborted) job.reject(abortReason(job.signal));
    else if (error) job.reject(error);
    else job.resolve(value);
    this.#pump();
  }

  #abort(job) {
    if (this.#running === job) {
      job.aborted = true;
      this.#native.interrupt();
      return;
    }
    const at = this.#queue.indexOf(job);
    if (at >= 0) {
      this.#queue.splice(at, 1);
      job.reject(abortReason(job.signal));
    }
  }

  /** Run the WASI command (_start) synchronously: its exit code. */
  runWasi() {
    return this.#native.runWasi();
  }

  /** Run the WASI command (_start) on the thread pool: a Promise of its exit code. */
  runWasiAsync() {
    return this.#native.runWasiAsync();
  }

  /** Stop the running call from anywhere: it fails with RuntimeError (trap "interrupted"). */
  interrupt() {
    this.#native.interrupt();
  }

  /** Fuel left (Infinity when unlimited). */
  get fuel() {
    return this.#native.fuel;
  }

  set fuel(value) {
    this.setFuel(value);
  }

  setFuel(fuel) {
    nonNegative('instance.setFuel(fuel)', 'fuel', fuel, { integer: true, bigint: true });
    this.#native.setFuel(Number(fuel));
  }

  /** Whether an async call is running or waiting. */
  get busy() {
    return this.#running !== null || this.#queue.length > 0 || this.#native.busy;
  }

  /** A copy of `length` bytes of the exported memory at `offset`. */
  readBytes(offset, length) {
    return this.#needMemory('instance.readBytes(offset, length)').read(offset, length);
  }

  /** Copy bytes into the exported memory at `offset`; returns the number written. */
  writeBytes(offset, bytes) {
    return this.#needMemory('instance.writeBytes(offset, bytes)').write(offset, bytes);
  }

  /** The UTF-8 string at `offset` (`length` bytes, or up to a NUL). */
  readString(offset, length) {
    return this.#needMemory('instance.readString(offset, length)').readString(offset, length);
  }

  /** Write `string` as UTF-8 at `offset`; returns the number of bytes written. */
  writeString(offset, string) {
    return this.#needMemory('instance.writeString(offset, string)').writeString(offset, string);
  }

  /**
   * Free the instance now (its memory's buffers are detached; later calls throw). Calls
   * waiting in callAsync's queue are rejected; a running async call is interrupted (it
   * rejects with a RuntimeError) and the instance freed when it has stopped.
   */
  close() {
    for (const job of this.#queue.splice(0)) {
      unlisten(job);
      job.reject(new Error('the instance was closed before the call started'));
    }
    this.#native.close();
  }
}
if (Symbol.dispose) {
  Object.defineProperty(Instance.prototype, Symbol.dispose, {
    value: function dispose() {
      this.close();
    },
    configurable: true,
    writable: true,
  });
}

/**
 * Instantiate a module (a Module, its bytes or a path) with imports, WASI and limits; bytes
 * and paths are compiled for options.tier (a Module keeps the tier it was compiled for).
 */
function instantiate(module, options) {
  const where = 'kiln.instantiate(module, options)';
  const { tier, portable, fuel, ...rest } = optionalObject(where, 'options', options);
  // a fuel limit on a module compiled here: compile it to count fuel
  const limitsFuel = rest.limits && rest.limits.fuel !== undefined && rest.limits.fuel !== Infinity;
  const tierOptions = compileOptions(where, { tier, portable, fuel: fuel === undefined && limitsFuel ? true : fuel });
  if (!(module instanceof Module)) {
    if (!isBytes(module) && typeof module !== 'string' && !(module instanceof URL)) {
      throw typeError(where, 'module must be a kiln Module (from kiln.compile), the bytes of one or a path', module);
    }
    module = new Module(readBytes(where, module), tierOptions);
  } else if (tier !== undefined && tier !== module.tier) {
    throw typeError(where, `options.tier does not match the module, compiled for '${module.tier}' (kiln.compile chooses the tier)`, tier);
  }
  return new Instance(module, rest);
}

// ---------------------------------------------------------------- pools

function defaultPoolSize() {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length || 1;
}

/**
 * `size` instances of one module; pool.call(name, ...args) runs on whichever is free (each
 * call on the thread pool) and queues when all are busy.
 */
class Pool {
  #idle = [];
  #all = [];
  #queue = [];
  #busy = new Map(); // instance -> its job
  #closed = false;
  #drained = null;
  #tier;

  /**
   * new Pool(module, options): `options.size` new instances of module (the other options as
   * for instantiate). new Pool(instances): a pool over instances made elsewhere (each with
   * imports of its own, as the glue of kiln bindgen makes them); the pool closes them.
   */
  constructor(module, options) {
    const where = 'new kiln.Pool(module, options)';
    if (Array.isArray(module)) {
      const instances = module;
      if (options !== undefined) throw typeError('new kiln.Pool(instances)', 'takes no options', options);
      if (instances.length === 0) throw new TypeError('new kiln.Pool(instances): instances is empty');
      for (const instance of instances) {
        if (!(instance instanceof Instance)) {
          throw typeError('new kiln.Pool(instances)', 'instances must be kiln Instances', instance);
        }
      }
      if (new Set(instances).size !== instances.length) {
        throw new TypeError('new kiln.Pool(instances): an instance is given twice');
      }
      this.#tier = instances[0].tier;
      this.#all = instances.slice();
      this.#idle = instances.slice();
      return;
    }
    if (!(module instanceof Module)) {
      throw typeError(where, 'module must be a kiln Module (from kiln.compile) or an array of Instances', module);
    }
    options = optionalObject(where, 'options', options);
    const { size = defaultPoolSize(), ...rest } = options;
    if (!Number.isInteger(size) || size < 1) throw typeError(where, 'options.size must be a positive integer', size);
    nativeOptions(where, rest); // check once, with the pool's name in messages
    this.#tier = module.tier;
    for (let i = 0; i < size; i++) {
      const instance = new Instance(module, rest);
      this.#all.push(instance);
      this.#idle.push(instance);
    }
  }

  /** The tier its module was compiled for: 'auto', 'interp' or 'compiled'. */
  get tier() {
    return this.#tier;
  }

  /** How many instances the pool has. */
  get size() {
    return this.#all.length;
  }

  /** Calls waiting for a free instance. */
  get pending() {
    return this.#queue.length;
  }

  /** The instances (e.g. to read their memories between calls). */
  get instances() {
    return this.#all.slice();
  }

  /** Call an exported function on a free instance: a Promise of its result. */
  call(name, ...args) {
    return this.callAsync(name, args);
  }

  /** As call, with options {signal, timeoutMs} as for instance.callAsync. */
  callAsync(name, args = [], options) {
    const where = 'pool.callAsync(name, args, options)';
    return this.#submit(where, options, () => {
      nameArgument(where, name);
      if (!Array.isArray(args)) throw typeError(where, 'args must be an array', args);
      if (typeof this.#all[0].exports[name] !== 'function') {
        throw new TypeError(`${where}: name ${JSON.stringify(name)} is not an exported function`);
      }
    }, (instance, job) => instance.callAsync(name, args, { signal: job.signal, timeoutMs: job.timeoutMs }), null);
  }

  /**
   * Run task(instance) on a free instance (options.instance: on that one, when it is free),
   * which stays busy until the Promise task returns settles: a Promise of its result.
   * options.signal aborts the wait for an instance (the task itself gets no signal).
   */
  use(task, options) {
    const where = 'pool.use(task, options)';
    const wanted = options && options.instance;
    return this.#submit(where, options && { signal: options.signal }, () => {
      if (typeof task !== 'function') throw typeError(where, 'task must be a function', task);
      if (options !== undefined && (options === null || typeof options !== 'object')) {
        throw typeError(where, 'options must be an object', options);
      }
      if (wanted !== undefined && !this.#all.includes(wanted)) {
        throw new Error(`${where}: options.instance is not one of this pool's instances`);
      }
    }, (instance) => task(instance), wanted || null);
  }

  #submit(where, options, check, run, instance) {
    try {
      if (this.#closed) throw new Error(`${where}: the pool is closed`);
      check();
      const { signal, timeoutMs } = callOptions(where, options);
      if (signal && signal.aborted) return Promise.reject(abortReason(signal));
      return new Promise((resolve, reject) => {
        const job = { run, instance, signal, timeoutMs, resolve, reject, onAbort: null };
        if (signal) {
          job.onAbort = () => {
            const at = this.#queue.indexOf(job);
            if (at >= 0) {
              this.#queue.splice(at, 1);
              job.reject(abortReason(signal));
            }
          };
          signal.addEventListener('abort', job.onAbort, { once: true });
        }
        this.#queue.push(job);
        this.#dispatch();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // Each waiting job, oldest first, on a free instance (its own, when it names one).
  #dispatch() {
    for (let i = 0; i < this.#queue.length && this.#idle.length > 0;) {
      const job = this.#queue[i];
      const at = job.instance ? this.#idle.indexOf(job.instance) : this.#idle.length - 1;
      if (at < 0) {
        i++;
        continue;
      }
      const [instance] = this.#idle.splice(at, 1);
      this.#queue.splice(i, 1);
      unlisten(job);
      this.#busy.set(instance, job);
      let running;
      try {
        running = Promise.resolve(job.run(instance, job));
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(
        (value) => this.#done(instance, job.resolve, value),
        (error) => this.#done(instance, job.reject, error),
      );
    }
  }

  #done(instance, settle, value) {
    this.#busy.delete(instance);
    settle(value);
    if (this.#closed) {
      instance.close();
      if (this.#busy.size === 0 && this.#drained) this.#drained();
      return;
    }
    this.#idle.push(instance);
    this.#dispatch();
  }

  /**
   * Reject the waiting calls, close the idle instances now and the busy ones when their
   * call ends; the Promise resolves when all are closed.
   */
  close() {
    if (!this.#closed) {
      this.#closed = true;
      for (const job of this.#queue.splice(0)) {
        unlisten(job);
        job.reject(new Error('the pool was closed before the call started'));
      }
      for (const instance of this.#idle.splice(0)) instance.close();
    }
    if (this.#busy.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#drained;
      this.#drained = () => {
        if (previous) previous();
        resolve();
      };
    });
  }
}

// ---------------------------------------------------------------- the WebAssembly facade

// The standard JS API on kiln: generated loaders (emscripten, wasm-bindgen) that call
// new WebAssembly.Instance(module, imports) or WebAssembly.instantiate(bytes, imports) run
// unchanged when given this object in place of the global. Exported functions coerce their
// arguments as the standard does.

function bufferSource(where, bytes) {
  if (!isBytes(bytes)) throw typeError(where, 'bytes must be an ArrayBuffer or a typed array', bytes);
  return bytes;
}

function importObject(where, imports) {
  if (imports === undefined) return {};
  if (imports === null || (typeof imports !== 'object' && typeof imports !== 'function')) {
    throw typeError(where, 'importObject must be an object', imports);
  }
  return imports;
}

/** new WebAssembly.Instance(module, importObject) */
class WasmInstance {
  #native;

  constructor(module, importObject_) {
    const where = 'WebAssembly.Instance(module, importObject)';
    if (!new.target) throw new TypeError(`${where}: must be called with new`);
    if (!(module instanceof Module)) throw typeError(where, 'module must be a WebAssembly.Module', module);
    this.#native = new native.Instance(module, importObject(where, importObject_), { jsApi: true });
  }

  get exports() {
    return this.#native.exports;
  }
}
Object.defineProperty(WasmInstance, 'name', { value: 'Instance' });

function wasmCompile(bytes) {
  return new Promise((resolve) => {
    resolve(new Module(bufferSource('WebAssembly.compile(bytes)', bytes)));
  });
}

function wasmInstantiate(source, imports) {
  return new Promise((resolve) => {
    if (source instanceof Module) {
      resolve(new WasmInstance(source, imports));
      return;
    }
    const module = new Module(bufferSource('WebAssembly.instantiate(source, importObject)', source));
    // as the standard: the imports object is read once the compilation is done, in a later job
    resolve(Promise.resolve().then(() => ({ module, instance: new WasmInstance(module, imports) })));
  });
}

async function responseBytes(where, source) {
  const response = await source;
  if (!response || typeof response.arrayBuffer !== 'function') {
    throw typeError(where, 'source must be a Response or a Promise of one', response);
  }
  if (response.ok === false) throw new TypeError(`${where}: HTTP status ${response.status}`);
  return response.arrayBuffer();
}


// The standard's shapes (WebIDL) for the classes the facade shares with kiln's own API:
// operations writable, enumerable and configurable, with their lengths; accessors enumerable
// and configurable, getters named "get x"; Symbol.toStringTag on each prototype.
function conform(cls, tag, { length, operations = {}, accessors = [] }) {
  Object.defineProperty(cls, 'length', { value: length, configurable: true });
  Object.defineProperty(cls, 'prototype', { writable: false });
  const proto = cls.prototype;
  for (const [name, arity] of Object.entries(operations)) {
    const fn = proto[name];
    Object.defineProperty(fn, 'length', { value: arity, configurable: true });
    Object.defineProperty(fn, 'name', { value: name, configurable: true });
    Object.defineProperty(proto, name, { value: fn, writable: true, enumerable: true, configurable: true });
  }
  for (const name of accessors) {
    const { get, set } = Object.getOwnPropertyDescriptor(proto, name);
    Object.defineProperty(get, 'name', { value: `get ${name}`, configurable: true });
    if (set) {
      Object.defineProperty(set, 'name', { value: `set ${name}`, configurable: true });
      Object.defineProperty(set, 'length', { value: 1, configurable: true });
    }
    Object.defineProperty(proto, name, { get, set, enumerable: true, configurable: true });
  }
  Object.defineProperty(proto, Symbol.toStringTag, { value: tag, configurable: true });
}

conform(Module, 'WebAssembly.Module', { length: 1 });
for (const [name, arity] of [['exports', 1], ['imports', 1], ['customSections', 2]]) {
  Object.defineProperty(Module[name], 'length', { value: arity, configurable: true });
  Object.defineProperty(Module, name, { value: Module[name], writable: true, enumerable: true, configurable: true });
}
conform(WasmInstance, 'WebAssembly.Instance', { length: 1, accessors: ['exports'] });
conform(native.Memory, 'WebAssembly.Memory', { length: 1, operations: { grow: 1 }, accessors: ['buffer'] });
conform(native.Table, 'WebAssembly.Table', { length: 1, operations: { grow: 1, get: 1, set: 1 }, accessors: ['length'] });
conform(native.Global, 'WebAssembly.Global', { length: 1, operations: { valueOf: 0 }, accessors: ['value'] });

// The namespace: its interfaces writable and configurable, not enumerable; its operations
// writable, enumerable and configurable (WebIDL's namespace members).
const WebAssembly = {};
for (const [name, value] of Object.entries({
  Module, Instance: WasmInstance, Memory: native.Memory, Table: native.Table, Global: native.Global, CompileError, LinkError, RuntimeError,
})) {
  Object.defineProperty(WebAssembly, name, { value, writable: true, configurable: true });
}
const operations = {
  validate(bytes) {
    return native.validate(bufferSource('WebAssembly.validate(bytes)', bytes));
  },
  compile(bytes) {
    return wasmCompile(bytes);
  },
  instantiate(source, importObject = undefined) {
    return wasmInstantiate(source, importObject);
  },
  async compileStreaming(source) {
    return wasmCompile(await responseBytes('WebAssembly.compileStreaming(source)', source));
  },
  async instantiateStreaming(source, importObject = undefined) {
    return wasmInstantiate(await responseBytes('WebAssembly.instantiateStreaming(source, importObject)', source), importObject);
  },
};
for (const [name, value] of Object.entries(operations)) {
  Object.defineProperty(WebAssembly, name, { value, writable: true, enumerable: true, configurable: true });
}
Object.defineProperty(WebAssembly, Symbol.toStringTag, { value: 'WebAssembly', configurable: true });

module.exports = {
  compile,
  compileAsync,
  validate,
  instantiate,
  Module,
  Instance,
  Pool,
  Memory: native.Memory,
  Table: native.Table,
  Global: native.Global,
  CompileError,
  LinkError,
  RuntimeError,
  TimeoutError,
  ExitError,
  MemoryLimitError,
  AbortError,
  WebAssembly,
  tiers,
  version: native.version,
};
// `import kiln from 'kiln'` in TypeScript compiled to CommonJS reads .default.
Object.defineProperty(module.exports, 'default', { value: module.exports });
