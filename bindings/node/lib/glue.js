'use strict';
// glue.js - the runtime of the JavaScript glue `kiln bindgen` and `kiln build` write
// (require('kiln/glue')). A generated file holds only what is its module's own: the table of
// its exported functions (name, parameter and result types, the wasm values of the result),
// of its exported structs and of the imports it needs, which it gives to bind(). bind() turns
// each table entry into a JS function: arguments are lowered into wasm values (strings and
// arrays copied into guest memory through the guest's allocator), results lifted back (and
// their memory freed), with a sync form and an async form queued per instance; the structs
// into classes whose objects own Rust values; and pools of instances (kiln.Pool over the
// glue's instances) for parallel calls.

const fs = require('node:fs');
const os = require('node:os');
const kiln = require('./index.js');

/** The version of the table format bind() reads; generated files name the one they follow
 * (format 1, without wasmBindgen, is read as a module of wasm-bindgen 0.2.83). */
const FORMAT = 2;

// What differs between the wasm-bindgen versions a Rust guest may be built with (bindgen's
// table says; these are 0.2.83's, Debian's): the reserved slots of the heap of JS values,
// the allocator's alignment argument (0.2.87), the struct free's allow_delayed (0.2.93),
// Option<i32|u32|f32> as one f64 with a None sentinel (0.2.96), intrinsics as hashed imports
// and conversions through casts (0.2.102).
const WASM_BINDGEN_0_2_83 = {
  version: '0.2.83', minor: 83, heapOffset: 32, mallocAlign: false, freeDelayed: false, optionSentinel: 0, boolNone: 2,
  copiesBack: false, casts: false, intrinsics: {}, words: null,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

// Typed arrays of the element types: [constructor, bytes per element].
const ELEMENTS = {
  i8: [Int8Array, 1], u8: [Uint8Array, 1], u8c: [Uint8ClampedArray, 1],
  i16: [Int16Array, 2], u16: [Uint16Array, 2], i32: [Int32Array, 4], u32: [Uint32Array, 4],
  i64: [BigInt64Array, 8], u64: [BigUint64Array, 8], f32: [Float32Array, 4], f64: [Float64Array, 8],
};
const SMALL = new Set(['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'enum']);
const NATIVE_OPTION = new Set(['i32', 'u32', 'i64', 'u64', 'f32', 'f64']);
const NONE = 0xffffff; // wasm-bindgen's None of small integers, bool and char

// A type of the FUNCTIONS table ("&str", "Vec<u8>", "Option<i32>", "Result<String>") as a tree.
function parseType(text) {
  const wrapped = /^(Option|Result|Vec)<(.*)>$/.exec(text);
  if (wrapped) {
    const kind = wrapped[1].toLowerCase();
    return kind === 'vec' ? { kind, elem: wrapped[2] } : { kind, inner: parseType(wrapped[2]) };
  }
  const slice = /^&(mut )?\[(\w+)\]$/.exec(text);
  if (slice) return { kind: slice[1] ? 'mutslice' : 'slice', elem: slice[2] };
  // An exported struct: by value (moved), borrowed, mutably borrowed, a method's receiver.
  const object = /^(&mut |&|self )?struct (.+)$/.exec(text);
  if (object) return { kind: { '&mut ': 'structmut', '&': 'structref', 'self ': 'self' }[object[1]] || 'struct', name: object[2] };
  return { kind: { '&str': 'str', String: 'string', string: 'string', JsValue: 'js', '&JsValue': 'jsref', '()': 'unit' }[text] || text };
}

// The JS values of a guest's heap of JsValues (wasm-bindgen's non-externref convention: the
// first offset + 4 indexes are reserved, offset to offset + 3 are undefined, null, true and
// false; offset is 32 in wasm-bindgen 0.2.83, 128 from 0.2.84, 1024 from 0.2.109).
class Heap {
  constructor(offset = 32) {
    this.slots = new Array(offset).fill(undefined);
    this.slots.push(undefined, null, true, false);
    this.next = this.slots.length;
    this.reserved = this.slots.length;
  }
  add(value) {
    if (this.next === this.slots.length) this.slots.push(this.slots.length + 1);
    const index = this.next;
    this.next = this.slots[index];
    this.slots[index] = value;
    return index;
  }
  get(index) { return this.slots[index]; }
  take(index) {
    const value = this.slots[index];
    if (index >= this.reserved) {
      this.slots[index] = this.next;
      this.next = index;
    }
    return value;
  }
}

function toError(value) {
  if (value instanceof Error) return value;
  return Object.assign(new Error(typeof value === 'string' ? value : String(value)), { value });
}

// Instances still open when the process exits are closed first: the addon aborts when it
// finalizes two or more instances with JS imports during Node's own clean-up.
const live = new Set();
process.on('exit', () => {
  for (const ref of live) ref.deref()?.close();
});
function track(guest) {
  if (live.size >= 64) for (const ref of live) if (ref.deref() === undefined) live.delete(ref);
  guest.ref = new WeakRef(guest);
  live.add(guest.ref);
}

// ------------------------------------------------------------ objects of exported structs
// A JS object of an exported struct owns a pointer to the Rust value (a WasmRefCell) in the
// memory of the instance that made it. Passing it by value moves the value into Rust (the
// object is left empty); free() drops it; so does the FinalizationRegistry when the object is
// collected first.
const PTR = Symbol('kiln.pointer'), GUEST = Symbol('kiln.instance'), GONE = Symbol('kiln.gone');
const STRUCT = Symbol('kiln.struct'), FREE = Symbol('kiln.free');

// Run f on the JS thread once the async calls queued on g are over (at once if none are):
// no wasm call of g runs then, and calls queued later wait for f.
function whenIdle(g, f) {
  if (!g.pending) return f();
  g.tail = g.tail.then(() => {
    try {
      f();
    } catch {
      // Rust refused to drop a value that is still borrowed (a call that borrowed it failed).
    }
  });
}

const registry = new FinalizationRegistry(({ guest, free, ptr }) => {
  try {
    // (0.2.93+: allow_delayed, the value stays while Rust still borrows it)
    whenIdle(guest, () => {
      if (guest.closed) return;
      if (guest.freeDelayed) guest.raw[free](ptr, 1);
      else guest.raw[free](ptr);
    });
  } catch {
    // As above: the value stays allocated.
  }
});

function freeObject(object) {
  const ptr = object[PTR];
  if (!ptr) return;
  object[PTR] = 0;
  object[GONE] = 'freed (free() was called)';
  registry.unregister(object);
  if (object[GUEST].closed) return;
  try {
    if (object[GUEST].freeDelayed) object[GUEST].raw[object[FREE]](ptr, 0);
    else object[GUEST].raw[object[FREE]](ptr);
  } catch (error) {
    error.message = `${object[STRUCT]}.free: Rust did not drop the value (${error.message}); ` +
      'a call that borrowed it failed, and its memory stays allocated';
    throw error;
  }
}

class RustObject {
  /** Drops the Rust value now, or after the async calls queued on its instance (they may
   * use it); the object cannot be used after it. Again, it does nothing. */
  free() {
    whenIdle(this[GUEST], () => freeObject(this));
  }

  /** console.log and util.inspect: the struct and its state, not the glue's internals. */
  [Symbol.for('nodejs.util.inspect.custom')]() {
    const state = this[PTR] ? `at 0x${this[PTR].toString(16)} in its instance's memory` : `${this[GONE]}`;
    return `${this[STRUCT]} { ${state} }`;
  }
}
if (typeof Symbol.dispose === 'symbol') RustObject.prototype[Symbol.dispose] = RustObject.prototype.free;

// The ranges of the integer types (enum: a C-like enum's u32 discriminant).
const RANGES = {
  i8: [-128, 127], u8: [0, 255], i16: [-32768, 32767], u16: [0, 65535],
  i32: [-2147483648, 2147483647], u32: [0, 4294967295], enum: [0, 4294967295],
};
const BIG_RANGES = { i64: [-(2n ** 63n), 2n ** 63n - 1n], u64: [0n, 2n ** 64n - 1n] };

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `a ${v.constructor.name}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v)}`;
  if (typeof v === 'bigint') return `${v}n`;
  return `${typeof v === 'number' ? '' : `${typeof v} `}${String(v)}`;
}

// An argument of an integer type: a number that is an integer in the type's range, else a
// TypeError (not a number) or RangeError (NaN, a fraction, out of range) naming it.
function integer(v, kind, what) {
  if (typeof v !== 'number') throw new TypeError(`${what} must be a number, got ${describe(v)}`);
  const [lo, hi] = RANGES[kind];
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new RangeError(`${what} must be an integer from ${lo} to ${hi}, got ${describe(v)}`);
  }
  return v | 0;
}

// An argument of i64 or u64: a BigInt in the type's range.
function bigInteger(v, kind, what) {
  if (typeof v !== 'bigint') throw new TypeError(`${what} must be a BigInt, got ${describe(v)}`);
  const [lo, hi] = BIG_RANGES[kind];
  if (v < lo || v > hi) throw new RangeError(`${what} must be a BigInt from ${lo} to ${hi}, got ${v}n`);
  return BigInt.asIntN(64, v);
}

// A slice or Vec argument as [typed array, element size, shared]: a typed array of exactly the
// element type is copied in as it is (for u8 also any byte-oriented view: Buffer,
// Uint8ClampedArray, DataView, ArrayBuffer); a plain array is converted element by element,
// each checked like an argument of the element type; a typed array of another element type
// is refused (its bytes would be reinterpreted, or its values silently converted). shared:
// the typed array is a view of the caller's memory (written back after a &mut slice).
function sequence(elem, value, what) {
  const [Array_, size] = ELEMENTS[elem];
  if (value instanceof Array_) return [value, size, true];
  if (elem === 'u8' && (value instanceof Uint8ClampedArray || value instanceof DataView)) {
    return [new Uint8Array(value.buffer, value.byteOffset, value.byteLength), 1, true];
  }
  if (elem === 'u8' && value instanceof ArrayBuffer) return [new Uint8Array(value), 1, true];
  if (Array.isArray(value)) {
    const out = new Array_(value.length);
    for (let i = 0; i < value.length; i++) {
      const at = `${what}[${i}]`;
      const v = value[i];
      if (elem in RANGES) out[i] = integer(v, elem, at);
      else if (elem in BIG_RANGES) out[i] = bigInteger(v, elem, at);
      else if (elem === 'u8c') out[i] = integer(v, 'u8', at);
      else if (typeof v === 'number') out[i] = v;
      else throw new TypeError(`${at} must be a number, got ${describe(v)}`);
    }
    return [out, size, false];
  }
  const also = elem === 'u8' ? ' (or a Buffer, Uint8ClampedArray, DataView or ArrayBuffer)' : '';
  if (ArrayBuffer.isView(value)) {
    throw new TypeError(`${what} must be a ${Array_.name}${also} or an array, got ${describe(value)}: ` +
      `its elements are of another type; convert it first (${Array_.name}.from(value))`);
  }
  throw new TypeError(`${what} must be a ${Array_.name}${also} or an array, got ${describe(value)}`);
}

// The options of an async call ({ signal, timeoutMs }): args[arity] when it is a plain
// object, checked; else undefined.
function asyncOptions(label, args, arity) {
  if (args.length !== arity + 1) return undefined;
  const v = args[arity];
  const proto = v !== null && typeof v === 'object' ? Object.getPrototypeOf(v) : undefined;
  if (proto !== Object.prototype && proto !== null) return undefined;
  for (const key of Object.keys(v)) {
    if (key !== 'signal' && key !== 'timeoutMs') {
      throw new TypeError(`${label}.async: unknown option '${key}' (the options are signal and timeoutMs)`);
    }
  }
  if (v.signal !== undefined && !(v.signal instanceof AbortSignal)) {
    throw new TypeError(`${label}.async: options.signal must be an AbortSignal, got ${describe(v.signal)}`);
  }
  if (v.timeoutMs !== undefined && !(typeof v.timeoutMs === 'number' && v.timeoutMs >= 0)) {
    throw new TypeError(`${label}.async: options.timeoutMs must be a non-negative number, got ${describe(v.timeoutMs)}`);
  }
  return v;
}

function abortReason(signal) {
  return signal.reason !== undefined ? signal.reason : new kiln.AbortError();
}

// Copy a JS sequence into guest memory: [ptr, element count].
function passSequence(guest, array, size) {
  const bytes = array.length * size;
  const ptr = guest.malloc(bytes, size);
  if (bytes) guest.bytes().set(new Uint8Array(array.buffer, array.byteOffset, bytes), ptr);
  return ptr;
}

function passString(guest, value) {
  const len = Buffer.byteLength(value, 'utf8');
  const ptr = guest.malloc(len);
  if (len) encoder.encodeInto(value, guest.bytes().subarray(ptr, ptr + len));
  return [ptr, len];
}

// The offsets of the values in a return area: C struct layout.
function layout(kinds) {
  let offset = 0;
  return kinds.map((kind) => {
    const size = kind === 'i64' || kind === 'f64' ? 8 : 4;
    offset = Math.ceil(offset / size) * size;
    const at = offset;
    offset += size;
    return at;
  });
}


/**
 * The functions, classes, module and pools of one generated glue file, from its tables
 * (desc: { format, file, abi, usesWasi, usesNn, start, wasm, cwasm, functions, structs, retptrSize,
 * imports }).
 */
function bind(desc) {
  if (desc.format !== FORMAT && desc.format !== 1) {
    throw new Error(
      `${desc.file}: this glue was written by a kiln bindgen whose table format is ${desc.format}, and this kiln package ` +
        `reads format ${FORMAT}: ${desc.format > FORMAT ? 'update the kiln package' : 'run kiln build (or kiln bindgen) again'}`,
    );
  }
  const ABI = desc.abi;
  const USES_WASI = desc.usesWasi;
  const USES_NN = desc.usesNn === true; // (absent before kiln 0.1.0's WASI-NN)
  const START = desc.start;
  const WASM_FILE = desc.wasm;
  const CWASM_FILE = desc.cwasm;
  const FUNCTIONS = desc.functions;
  const STRUCTS = desc.structs;
  const RETPTR_SIZE = desc.retptrSize;
  const IMPORTS = desc.imports;
  const WBG = desc.abi === 'rust' ? desc.wasmBindgen || WASM_BINDGEN_0_2_83 : null;
  const SENTINEL = WBG ? WBG.optionSentinel : 0;
  // One instance of the guest with what its calls need: the memory views, the return area,
  // the heap of JS values, the queue of async calls.
  class Guest {
    /** @param {any} module @param {Record<string, any>} [options] */
    constructor(module, options = {}) {
      /** @type {WeakRef<Guest> | null} */
      this.ref = null;
      this.heap = ABI === 'rust' ? new Heap(WBG.heapOffset) : null;
      const imports = Object.assign({}, options.imports);
      for (const [name, fields] of Object.entries(intrinsics(this))) imports[name] = Object.assign({}, fields, imports[name]);
      const settings = Object.assign({}, options, { imports });
      if (USES_WASI && settings.wasi === undefined) settings.wasi = true;
      // WASI-NN without preloaded models: load() works, load_by_name() finds nothing
      if (USES_NN && settings.nn === undefined) settings.nn = true;
      this.instance = kiln.instantiate(module, settings);
      this.memoryLimit = options.limits && options.limits.memory;
      track(this);
      this.raw = this.instance.exports;
      this.buffer = null;
      this.retptr = 0;
      this.pending = 0;
      this.tail = Promise.resolve();
      if (ABI === 'rust') {
        this.alloc = this.raw.__wbindgen_malloc;
        this.release = this.raw.__wbindgen_free;
      } else {
        this.alloc = this.raw.kiln_alloc;
        this.release = this.raw.kiln_free;
      }
      this.panicMessage = null;
      this.freeDelayed = ABI === 'rust' && WBG.freeDelayed; // __wbg_STRUCT_free(ptr, allow_delayed)
      this.describing = []; // the words of a cast under way (0.2.102+)
      this.casts = new Map(); // its conversions, by the cast function's table index
      this.castArea = 0;
      this.deferred = []; // what casts gave JS to free, freed once the call is over
      if (this.raw._initialize) this.raw._initialize();
      if (this.raw.__kiln_install_panic_hook) this.raw.__kiln_install_panic_hook();
      // the return area of casts: allocated now, as an async call's host functions cannot call in
      if (WBG && WBG.casts) this.castArea = this.malloc(16, 8);
      if (START !== null) this.raw[START]();
      this.flush();
      // Between calls the guest's C stack is back at its base; a call that fails (a trap,
      // kiln_fail) skips the epilogues that would restore it, so the glue does.
      this.stackBase = this.raw.kiln_stack_get ? this.raw.kiln_stack_get() : undefined;
    }
    bytes() {
      if (this.buffer === null || this.buffer.byteLength === 0) {
        const buffer = this.instance.memory.buffer;
        this.buffer = buffer;
        this.u8 = new Uint8Array(buffer);
        this.view = new DataView(buffer);
      }
      return this.u8;
    }
    malloc(size, align = 1) {
      const ptr = ABI === 'c' ? this.alloc(size || 1) : WBG.mallocAlign ? this.alloc(size, align) : this.alloc(size);
      if (ptr === 0) {
        // the guest's allocator failed: because of limits.memory when the memory would outgrow it
        const limit = this.memoryLimit;
        const requested = this.instance.memory ? this.instance.memory.buffer.byteLength + size : size;
        if (limit !== undefined && requested > limit) {
          const error = new kiln.MemoryLimitError(
            `out of memory: copying ${size} bytes into the guest needs ${(requested / 1048576).toFixed(1)} MiB of ` +
              `linear memory, over the instance's limit of ${(limit / 1048576).toFixed(1)} MiB (limits.memory)`);
          throw Object.assign(error, { limit, requested });
        }
        throw new RangeError(`the guest could not allocate ${size} bytes`);
      }
      return ptr >>> 0;
    }
    free(ptr, size, align = 1) {
      if (ABI === 'rust') {
        if (WBG.mallocAlign) this.release(ptr, size, align);
        else this.release(ptr, size);
      }
      else if (ptr !== 0) this.release(ptr);
    }
    returnArea() {
      if (this.retptr === 0) this.retptr = this.malloc(RETPTR_SIZE, 8);
      return this.retptr;
    }
    string(ptr, len) { return decoder.decode(this.bytes().subarray(ptr, ptr + len)); }
    flush() {
      if (this.deferred.length === 0) return;
      const frees = this.deferred;
      this.deferred = [];
      for (const [ptr, size, align] of frees) this.free(ptr, size, align);
    }
    close() {
      this.closed = true;
      live.delete(this.ref);
      this.instance.close();
    }
  }


  // ---------------------------------------------------------- casts (wasm-bindgen 0.2.102+)
  // JsValue::from_str, JsValue::from(f64), a String into JsValue and the like call a cast
  // function that describes its source and target types (__wbindgen_describe, words of this
  // version) and then __wbindgen_describe_cast(itself, &prims); wasm-bindgen's CLI replaces
  // those with imports, kiln's glue runs them: the source's values are read from prims, the
  // target's written to a return area whose address the import returns.
  function decodeType(words, at) {
    const word = () => {
      if (at.i >= words.length) throw new Error('the cast description ends early');
      return words[at.i++];
    };
    const name = () => {
      const n = word();
      let text = '';
      for (let k = 0; k < n; k++) text += String.fromCodePoint(word());
      return text;
    };
    const tag = WBG.words[word()];
    switch (tag) {
    case 'REF': case 'REFMUT': case 'LONGREF': case 'SLICE': case 'VECTOR': case 'OPTIONAL': case 'RESULT': case 'CLAMPED':
      return { tag, inner: decodeType(words, at) };
    case 'ENUM': case 'STRING_ENUM': { const enumName = name(); word(); return { tag, name: enumName }; } // hole, count
    case 'RUST_STRUCT': case 'NAMED_EXTERNREF':
      return { tag, name: name() };
    case undefined:
      throw new Error(`unknown describe word ${words[at.i - 1]}`);
    default:
      if (['FUNCTION', 'CLOSURE', 'DYNAMIC_UNION'].includes(tag)) return { tag, unsupported: true };
      return { tag };
    }
  }
  function typeText(t) {
    return t.inner ? `${t.tag}<${typeText(t.inner)}>` : t.name ? `${t.tag} ${t.name}` : t.tag;
  }
  const CAST_NUMBERS = {
    I8: (v, o) => (v.getInt32(o, true) << 24) >> 24, U8: (v, o) => v.getUint32(o, true) & 0xff,
    I16: (v, o) => (v.getInt32(o, true) << 16) >> 16, U16: (v, o) => v.getUint32(o, true) & 0xffff,
    I32: (v, o) => v.getInt32(o, true), U32: (v, o) => v.getUint32(o, true),
    NONNULL: (v, o) => v.getUint32(o, true), RAW_POINTER: (v, o) => v.getUint32(o, true),
    I64: (v, o) => v.getBigInt64(o, true), U64: (v, o) => v.getBigUint64(o, true),
    F32: (v, o) => v.getFloat32(o, true), F64: (v, o) => v.getFloat64(o, true),
    BOOLEAN: (v, o) => v.getUint32(o, true) !== 0, CHAR: (v, o) => String.fromCodePoint(v.getUint32(o, true)),
    I128: (v, o) => BigInt.asIntN(128, v.getBigUint64(o, true) | (v.getBigUint64(o + 8, true) << 64n)),
    U128: (v, o) => v.getBigUint64(o, true) | (v.getBigUint64(o + 8, true) << 64n),
  };
  const CAST_ELEMENTS = { I8: 'i8', U8: 'u8', I16: 'i16', U16: 'u16', I32: 'i32', U32: 'u32', I64: 'i64', U64: 'u64', F32: 'f32', F64: 'f64' };
  // How the source type's values at prims become a JS value: (g, view, prims) -> value.
  function castSource(t) {
    if (CAST_NUMBERS[t.tag]) return (g, view, at) => CAST_NUMBERS[t.tag](view, at);
    const pair = (g, view, at) => [view.getUint32(at, true), view.getUint32(at + 4, true)];
    switch (t.tag) {
    case 'UNIT': return () => undefined;
    case 'EXTERNREF': return (g, view, at) => g.heap.take(view.getUint32(at, true));
    case 'STRING': return (g, view, at) => {
      const [ptr, len] = pair(g, view, at);
      const value = g.string(ptr, len);
      g.deferred.push([ptr, len, 1]);
      return value;
    };
    case 'RUST_STRUCT': return (g, view, at) => wrap(g, t.name, view.getUint32(at, true));
    case 'REF':
      if (t.inner.tag === 'STRING') return (g, view, at) => g.string(...pair(g, view, at));
      if (t.inner.tag === 'EXTERNREF') return (g, view, at) => g.heap.get(view.getUint32(at, true));
      if (t.inner.tag === 'SLICE' && CAST_ELEMENTS[t.inner.inner.tag]) {
        const [Array_, size] = ELEMENTS[CAST_ELEMENTS[t.inner.inner.tag]];
        return (g, view, at) => {
          const [ptr, len] = pair(g, view, at);
          return new Array_(g.bytes().slice(ptr, ptr + len * size).buffer);
        };
      }
      break;
    case 'VECTOR':
      if (CAST_ELEMENTS[t.inner.tag]) {
        const [Array_, size] = ELEMENTS[CAST_ELEMENTS[t.inner.tag]];
        return (g, view, at) => {
          const [ptr, len] = pair(g, view, at);
          const value = new Array_(g.bytes().slice(ptr, ptr + len * size).buffer);
          g.deferred.push([ptr, len * size, size]);
          return value;
        };
      }
      break;
    case 'OPTIONAL':
      // Option<String>, Option<JsValue>, Option<a struct>: a zero pointer or index is None
      if (['STRING', 'EXTERNREF', 'RUST_STRUCT'].includes(t.inner.tag)) {
        const some = castSource(t.inner);
        return (g, view, at) => (view.getUint32(at, true) === 0 ? undefined : some(g, view, at));
      }
      break;
    }
    return null;
  }
  // How a JS value is written as the target type: (g, view, at, value).
  function castTarget(t) {
    switch (t.tag) {
    case 'EXTERNREF': case 'NAMED_EXTERNREF':
      return (g, view, at, value) => view.setUint32(at, g.heap.add(value), true);
    case 'F64': return (g, view, at, value) => view.setFloat64(at, Number(value), true);
    case 'F32': return (g, view, at, value) => view.setFloat32(at, Number(value), true);
    case 'I32': case 'U32': case 'I16': case 'U16': case 'I8': case 'U8':
      return (g, view, at, value) => view.setUint32(at, Number(value) >>> 0, true);
    case 'BOOLEAN': return (g, view, at, value) => view.setUint32(at, value ? 1 : 0, true);
    case 'I64': case 'U64': return (g, view, at, value) => view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
    }
    return null;
  }
  function runCast(g, func, prims) {
    const words = g.describing;
    g.describing = [];
    let run = g.casts.get(func);
    if (g.castArea === 0) throw new Error(`a wasm-bindgen cast in a module of wasm-bindgen ${WBG.version}, which has none`);
    if (run === undefined) {
      // FUNCTION, 0, 1 (one argument), the source, the target, the target again
      const at = { i: 0 };
      let from, to;
      try {
        if (WBG.words[words[at.i++]] !== 'FUNCTION') throw new Error('not a function description');
        at.i += 2;
        from = decodeType(words, at);
        to = decodeType(words, at);
      } catch (error) {
        throw new Error(`kiln's glue cannot read a wasm-bindgen cast of this module (wasm-bindgen ${WBG.version}): ${error.message}`);
      }
      const source = castSource(from), target = castTarget(to);
      if (!source || !target)
        throw new Error(`a wasm-bindgen conversion kiln's glue does not support: ${typeText(from)} to ${typeText(to)}`);
      run = (g2, p) => {
        g2.bytes();
        const value = source(g2, g2.view, p);
        target(g2, g2.view, g2.castArea, value);
        return g2.castArea;
      };
      g.casts.set(func, run);
    }
    return run(g, prims);
  }

  // A new JS object for a Rust value the guest g returned.
  function wrap(g, name, ptr) {
    const object = Object.create(classesOf(g)[name].prototype);
    object[PTR] = ptr;
    object[GUEST] = g;
    object[GONE] = null;
    if (ptr) registry.register(object, { guest: g, free: object[FREE], ptr }, object);
    return object;
  }

  // The pointer of an object passed as a struct (kind: struct, structref, structmut, self),
  // after checking that it is one, of this instance, alive, and not also passed in a way
  // that conflicts (uses: the objects of this call so far, [object, kind]).
  function pointerOf(g, v, name, kind, what, uses) {
    if (!(v instanceof CLASSES[name]))
      throw new TypeError(kind === 'self' ? `${what}: called on something that is not a ${name} object` : `${what} must be a ${name} object`);
    if (v[GUEST] !== g)
      throw new Error(`${what}: this ${name} belongs to another instance of the module (objects stay in the instance that made them)`);
    for (const [other, otherKind] of uses)
      if (other === v && (kind !== 'structref' || otherKind !== 'structref'))
        throw new TypeError(`${what}: this ${name} is passed twice in one call, and Rust would borrow it mutably or take it while it is borrowed`);
    const ptr = v[PTR];
    if (!ptr) throw new Error(`${what}: this ${name} was ${v[GONE]}`);
    uses.push([v, kind]);
    return ptr;
  }


  // The host functions wasm-bindgen's placeholder imports stand for (those this module uses).
  function intrinsics(guest) {
    const heap = guest.heap;
    const placeholder = {
      // at run time only the casts of 0.2.102+ describe: their words, then __wbindgen_describe_cast
      __wbindgen_describe(word) {
        if (guest.describing.length < 4096) guest.describing.push(word >>> 0);
      },
      __wbindgen_describe_cast(func, prims) { return runCast(guest, func >>> 0, prims >>> 0); },
      __wbindgen_object_is_null_or_undefined(index) { return heap.get(index) == null ? 1 : 0; },
      __wbindgen_is_null_or_undefined(index) { return heap.get(index) == null ? 1 : 0; },
      __wbindgen_object_is_undefined(index) { return heap.get(index) === undefined ? 1 : 0; },
      __wbindgen_as_number(index) { return Number(heap.get(index)); },
      // (0.2.84+) the bytes of a slice into a JS typed array
      __wbindgen_copy_to_typed_array(ptr, len, index) {
        const target = heap.get(index);
        new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(guest.bytes().subarray(ptr >>> 0, (ptr >>> 0) + (len >>> 0)));
      },
      __wbindgen_throw(ptr, len) { throw new Error(guest.string(ptr >>> 0, len >>> 0)); },
      __wbindgen_rethrow(index) { throw heap.take(index); },
      __wbindgen_string_new(ptr, len) { return heap.add(guest.string(ptr >>> 0, len >>> 0)); },
      __wbindgen_error_new(ptr, len) { return heap.add(new Error(guest.string(ptr >>> 0, len >>> 0))); },
      __wbindgen_object_drop_ref(index) { heap.take(index); },
      __wbindgen_object_clone_ref(index) { return heap.add(heap.get(index)); },
      __wbindgen_number_new(value) { return heap.add(value); },
      __wbindgen_bigint_from_i64(value) { return heap.add(value); },
      __wbindgen_bigint_from_u64(value) { return heap.add(BigInt.asUintN(64, value)); },
      __wbindgen_is_undefined(index) { return heap.get(index) === undefined ? 1 : 0; },
      __wbindgen_is_null(index) { return heap.get(index) === null ? 1 : 0; },
      __wbindgen_is_string(index) { return typeof heap.get(index) === 'string' ? 1 : 0; },
      __wbindgen_is_object(index) { const v = heap.get(index); return typeof v === 'object' && v !== null ? 1 : 0; },
      __wbindgen_is_function(index) { return typeof heap.get(index) === 'function' ? 1 : 0; },
      __wbindgen_is_bigint(index) { return typeof heap.get(index) === 'bigint' ? 1 : 0; },
      __wbindgen_boolean_get(index) { const v = heap.get(index); return v === true ? 1 : v === false ? 0 : WBG.boolNone; },
      __wbindgen_jsval_eq(a, b) { return heap.get(a) === heap.get(b) ? 1 : 0; },
      // eslint-disable-next-line eqeqeq
      __wbindgen_jsval_loose_eq(a, b) { return heap.get(a) == heap.get(b) ? 1 : 0; },
    };
    const unsupported = (name) => () => {
      throw new Error(`${name} is not supported by kiln bindgen's glue (externref tables)`);
    };
    const result = {};
    for (const { module, name } of IMPORTS) {
      // 0.2.102+: most intrinsics are hashed imports (__wbg___wbindgen_throw_<hash>)
      const intrinsic = module === '__wbindgen_placeholder__' && WBG ? WBG.intrinsics[name] || name : name;
      const wraps = module === '__wbindgen_placeholder__' && !placeholder[intrinsic] && /^__wbg_(.+)_new$/.exec(name);
      const struct = wraps && STRUCTS.find((s) => s.name.toLowerCase() === wraps[1]);
      // JsValue::from(a struct): a JS object of its class for the pointer.
      if (struct) (result[module] ||= {})[name] = (ptr) => heap.add(wrap(guest, struct.name, ptr >>> 0));
      else if (module === '__wbindgen_placeholder__') (result[module] ||= {})[name] = placeholder[intrinsic];
      else if (module === '__wbindgen_externref_xform__') (result[module] ||= {})[name] = unsupported(name);
      else if (module === 'kiln' && name === 'fail')
        (result.kiln ||= {}).fail = (ptr, len) => { throw new Error(guest.string(ptr >>> 0, len >>> 0)); };
      // the panic hook kiln build links into Rust guests: the message of the panic under way
      else if (module === 'kiln' && name === 'panic')
        (result.kiln ||= {}).panic = (ptr, len) => { guest.panicMessage = guest.string(ptr >>> 0, len >>> 0); };
    }
    return result;
  }


  // How one argument becomes wasm values: push them to out; after() runs once the call is over
  // (after(true) when it never happened: an argument after this one could not be lowered).
  // uses: the struct objects of the call (pointerOf).
  function lowering(type, what, label) {
    const t = parseType(type);
    const c = ABI === 'c';
    const kind = t.kind;
    switch (kind) {
    case 'i8': case 'u8': case 'i16': case 'u16': case 'i32': case 'u32': case 'enum':
      return (g, v, out) => { out.push(integer(v, kind, what)); };
    case 'f32': case 'f64':
      return (g, v, out) => {
        if (typeof v !== 'number') throw new TypeError(`${what} must be a number, got ${describe(v)}`);
        out.push(v);
      };
    case 'i64': case 'u64':
      return (g, v, out) => { out.push(bigInteger(v, kind, what)); };
    case 'bool':
      return (g, v, out) => {
        if (typeof v !== 'boolean') throw new TypeError(`${what} must be a boolean, got ${describe(v)}`);
        out.push(v ? 1 : 0);
      };
    case 'char':
      return (g, v, out) => {
        if (typeof v !== 'string' || v.length === 0 || String.fromCodePoint(v.codePointAt(0)) !== v) {
          throw new TypeError(`${what} must be a string of one character, got ${describe(v)}`);
        }
        out.push(v.codePointAt(0));
      };
    case 'str': case 'string':
      return (g, v, out, after) => {
        if (typeof v !== 'string') throw new TypeError(`${what} must be a string, got ${describe(v)}`);
        const [ptr, len] = passString(g, v);
        out.push(ptr, len);
        if (c) after.push(() => g.free(ptr, len));
      };
    case 'vec': case 'slice': case 'mutslice':
      return (g, v, out, after) => {
        const [array, size, shared] = sequence(t.elem, v, what);
        const ptr = passSequence(g, array, size);
        out.push(ptr, array.length);
        if (c) after.push(() => g.free(ptr, array.length * size, size));
        else if (t.kind === 'mutslice' && WBG.copiesBack) {
          // 0.2.84+: Rust copies the slice back into the typed array it is given and frees it
          const index = g.heap.add(array);
          out.push(index);
          after.push((undo) => {
            if (undo) { // the call did not happen
              g.heap.take(index);
              g.free(ptr, array.length * size, size);
            } else if (Array.isArray(v)) for (let i = 0; i < array.length; i++) v[i] = array[i];
          });
        } else if (t.kind === 'mutslice') after.push(() => {
          const bytes = array.length * size;
          if (shared) new Uint8Array(array.buffer, array.byteOffset, bytes).set(g.bytes().subarray(ptr, ptr + bytes));
          else if (Array.isArray(v)) {
            const [Array_] = ELEMENTS[t.elem];
            const back = new Array_(g.bytes().slice(ptr, ptr + bytes).buffer);
            for (let i = 0; i < back.length; i++) v[i] = back[i];
          }
          g.free(ptr, bytes, size);
        });
      };
    case 'js':
      return (g, v, out) => out.push(g.heap.add(v));
    case 'jsref':
      return (g, v, out, after) => {
        const index = g.heap.add(v);
        out.push(index);
        after.push(() => g.heap.take(index));
      };
    case 'structref': case 'structmut': case 'self':
      return (g, v, out, after, uses) => out.push(pointerOf(g, v, t.name, t.kind, what, uses));
    case 'struct':
      return (g, v, out, after, uses) => {
        const ptr = pointerOf(g, v, t.name, t.kind, what, uses);
        v[PTR] = 0;
        v[GONE] = `moved into ${label}`;
        registry.unregister(v);
        out.push(ptr);
        after.push((undo) => {
          if (!undo) return;
          v[PTR] = ptr;
          v[GONE] = null;
          registry.register(v, { guest: g, free: v[FREE], ptr }, v);
        });
      };
    case 'option': {
      const inner = t.inner.kind;
      const some = lowering(type.slice(7, -1), what, label);
      let none;
      if (SENTINEL && (inner === 'i32' || inner === 'u32' || inner === 'f32')) {
        // 0.2.96+: one f64, None a value no i32, u32 or f32 has
        return (g, v, out, after, uses) => {
          if (v === null || v === undefined) return out.push(SENTINEL);
          const value = [];
          some(g, v, value, after, uses);
          out.push(inner === 'u32' ? value[0] >>> 0 : value[0]);
        };
      }
      if (NATIVE_OPTION.has(inner)) {
        none = inner === 'i64' || inner === 'u64' ? [0, 0n] : [0, 0];
        return (g, v, out, after, uses) => {
          if (v === null || v === undefined) out.push(...none);
          else { out.push(1); some(g, v, out, after, uses); }
        };
      }
      if (SMALL.has(inner) || inner === 'bool' || inner === 'char') none = [NONE];
      else if (inner === 'js' || inner === 'struct') none = [0];
      else none = [0, 0];
      return (g, v, out, after, uses) => {
        if (v === null || v === undefined) out.push(...none);
        else some(g, v, out, after, uses);
      };
    }
    default:
      throw new Error(`kiln bindgen glue: no lowering for ${type}`);
    }
  }

  // How a result is read back from its wasm values: (guest, values, index) -> [value, next index].
  function lifting(type) {
    const t = parseType(type);
    switch (t.kind) {
    case 'i8': case 'i16': case 'i32': case 'f32': case 'f64': case 'i64':
      return (g, vals, i) => [vals[i], i + 1];
    case 'u8': case 'u16': case 'u32': case 'enum':
      return (g, vals, i) => [vals[i] >>> 0, i + 1];
    case 'u64':
      return (g, vals, i) => [BigInt.asUintN(64, vals[i]), i + 1];
    case 'bool':
      return (g, vals, i) => [vals[i] !== 0, i + 1];
    case 'char':
      return (g, vals, i) => [String.fromCodePoint(vals[i]), i + 1];
    case 'unit':
      return (g, vals, i) => [undefined, i];
    case 'string':
      return (g, vals, i) => {
        const ptr = vals[i] >>> 0, len = vals[i + 1] >>> 0;
        const value = ptr === 0 ? '' : g.string(ptr, len);
        g.free(ptr, len);
        return [value, i + 2];
      };
    case 'vec': {
      const [Array_, size] = ELEMENTS[t.elem];
      return (g, vals, i) => {
        const ptr = vals[i] >>> 0, len = vals[i + 1] >>> 0;
        const value = new Array_(len);
        if (len) new Uint8Array(value.buffer).set(g.bytes().subarray(ptr, ptr + len * size));
        g.free(ptr, len * size, size);
        return [value, i + 2];
      };
    }
    case 'js':
      return (g, vals, i) => [g.heap.take(vals[i]), i + 1];
    case 'struct':
      return (g, vals, i) => [wrap(g, t.name, vals[i] >>> 0), i + 1];
    case 'option': {
      const inner = t.inner.kind;
      const some = lifting(type.slice(7, -1));
      if (SENTINEL && (inner === 'i32' || inner === 'u32' || inner === 'f32'))
        return (g, vals, i) => [vals[i] === SENTINEL ? undefined : vals[i], i + 1];
      if (NATIVE_OPTION.has(inner))
        return (g, vals, i) => (vals[i] === 0 ? [undefined, i + 2] : some(g, vals, i + 1));
      if (SMALL.has(inner) || inner === 'bool' || inner === 'char')
        return (g, vals, i) => (vals[i] === NONE ? [undefined, i + 1] : some(g, vals, i));
      if (inner === 'js') return some;
      if (inner === 'struct') return (g, vals, i) => (vals[i] === 0 ? [undefined, i + 1] : some(g, vals, i));
      return (g, vals, i) => (vals[i] === 0 ? [undefined, i + 2] : some(g, vals, i));
    }
    case 'result': {
      const ok = lifting(type.slice(7, -1));
      return (g, vals, i) => {
        const end = vals.length;
        if (vals[end - 1] !== 0) throw toError(g.heap.take(vals[end - 2]));
        return ok(g, vals, i);
      };
    }
    default:
      throw new Error(`kiln bindgen glue: no lifting for ${type}`);
    }
  }


  // A function's call: lower the arguments, call, lift the result, clean up.
  function prepare(spec) {
    // What messages call it: f, Class.method, new Class.
    const label = spec.label = !spec.class ? spec.name
      : spec.member === 'constructor' ? `new ${spec.class}` : `${spec.class}.${spec.prop}`;
    // Methods, getters and setters take their receiver (`this`) first.
    const receiver = spec.params.length > 0 && spec.params[0][0] === 'self' &&
      ['method', 'getter', 'setter'].includes(spec.member) ? 1 : 0;
    // (a parameter's third entry: its type as the guest's source spells it, for C guests)
    const lowers = spec.params.map(([name, type, spelled], i) =>
      lowering(type, i < receiver ? label : `${label}: argument ${i + 1 - receiver} (${name}: ${spelled || type})`, label));
    const lift = lifting(spec.result);
    const offsets = layout(spec.results);
    const arity = spec.params.length;
    const objects = spec.params.some(([, type]) => type.includes('struct '));
    function begin(g, args) {
      if (g.closed) throw new Error(`${label}: the instance was closed`);
      if (args.length !== arity) {
        const n = arity - receiver;
        throw new TypeError(`${label} takes ${n} argument${n === 1 ? '' : 's'}, ${args.length - receiver} given`);
      }
      const out = [], after = [], uses = objects ? [] : null;
      if (spec.retptr) out.push(g.returnArea());
      try {
        for (let i = 0; i < arity; i++) lowers[i](g, args[i], out, after, uses);
      } catch (error) {
        for (const f of after) f(true);
        // the guest's allocator failing while an argument is copied in: name the call
        if ((error instanceof kiln.RuntimeError || error instanceof kiln.MemoryLimitError) &&
            !error.message.startsWith(`${label}: `)) {
          error.message = `${label}: ${error.message}`;
        }
        throw error;
      }
      return [out, after];
    }
    function finish(g, result, after) {
      let vals;
      if (spec.retptr) {
        g.bytes();
        const view = g.view, base = g.retptr;
        vals = spec.results.map((kind, i) => {
          const at = base + offsets[i];
          return kind === 'i32' ? view.getInt32(at, true) : kind === 'i64' ? view.getBigInt64(at, true)
            : kind === 'f32' ? view.getFloat32(at, true) : view.getFloat64(at, true);
        });
      } else vals = spec.results.length ? [result] : [];
      try {
        return lift(g, vals, 0)[0];
      } finally {
        for (const f of after) f();
        g.flush();
      }
    }
    function failed(g, error, after) {
      if (g.stackBase !== undefined) g.raw.kiln_stack_set(g.stackBase);
      for (const f of after) f();
      try {
        g.flush();
      } catch {
        // the guest's allocator failing after a trap: its memory stays allocated
      }
      // a C guest's export is a wrapper guest.h's KILN_EXPORT made: name the user's function
      if (ABI === 'c' && error instanceof kiln.RuntimeError) {
        error.message = error.message.replace(/kiln__export_(\w+)/g, '$1');
        for (const frame of error.wasmStack || []) frame.name = frame.name.replace(/^kiln__export_/, '');
      }
      // a trap names the function called (its frames may have no names: a module without a
      // name section); a Rust panic says so below
      const panicMessage = g.panicMessage;
      g.panicMessage = null;
      const panicked = (error instanceof kiln.RuntimeError || error instanceof kiln.MemoryLimitError) &&
        (panicMessage !== null || (error.wasmStack && error.wasmStack.some((frame) => /panic/.test(frame.name))));
      if ((error instanceof kiln.RuntimeError || error instanceof kiln.MemoryLimitError) && !panicked &&
          !error.message.startsWith(`${label}: `)) {
        error.message = `${label}: ${error.message}`;
      }
      if (panicked && panicMessage !== null) {
        // the message the panic hook kiln build links in handed over ("panicked at ...")
        error.message = `${label}: Rust ${panicMessage.replace(/\n/g, ' ')}`;
        error.panic = panicMessage;
      } else if (panicked) {
        error.message = `${label}: Rust panic (${error.message}); built without kiln build's panic hook, ` +
          'it has no message (a panic hook that calls wasm_bindgen::throw_str gives it)';
      }
      return error;
    }
    spec.sync = function (g, args) {
      if (g.pending) throw new Error(`${label}: async calls are pending on this instance; await them, or use createPool() for parallel calls`);
      const [out, after] = begin(g, args);
      let result;
      try {
        result = g.raw[spec.name](...out);
      } catch (error) {
        throw failed(g, error, after);
      }
      return finish(g, result, after);
    };
    // The async form: arguments are copied in on the JS thread when the call's turn comes
    // (calls on one instance run one at a time), the wasm call runs on the thread pool, and
    // the result is read back on the JS thread when it completes.
    spec.run = function (g, args, options) {
      let out, after;
      try {
        [out, after] = begin(g, args);
      } catch (error) {
        return Promise.reject(error);
      }
      return g.instance.callAsync(spec.name, out, options).then(
        (result) => finish(g, result, after),
        (error) => { throw failed(g, error, after); });
    };
    // f.async(...args, { signal, timeoutMs }): the options are the argument after the last
    // parameter, when it is a plain object. A signal aborted while the call waits for its turn
    // rejects it at once (it never runs); while it runs, kiln interrupts it.
    spec.async = function (g, args) {
      let options;
      try {
        options = asyncOptions(label, args, arity);
      } catch (error) {
        return Promise.reject(error);
      }
      if (options) args = args.slice(0, arity);
      const signal = options && options.signal;
      if (signal && signal.aborted) return Promise.reject(abortReason(signal));
      let started = false;
      let dropped = false;
      g.pending++;
      const call = g.tail.then(() => {
        if (dropped) return undefined;
        started = true;
        return spec.run(g, args, options);
      });
      g.tail = call.then(() => {}, () => {});
      const settled = call.finally(() => { g.pending--; });
      if (!signal) return settled;
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          if (started) return; // the running call is interrupted by kiln and rejects itself
          dropped = true;
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        settled.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    };
    return spec;
  }

  const SPECS = FUNCTIONS.map(prepare);

  // spec as a JS function on guest g, with its .async form.
  function callable(spec, g, name) {
    const f = { [name](...args) { return spec.sync(g, args); } }[name];
    return Object.assign(f, { async: (...args) => spec.async(g, args) });
  }

  // The guest's functions and the classes of its structs. onPool: the module's own functions,
  // whose async calls run on instances of their own (a pool made on the first one), so that
  // synchronous calls on the module's instance never wait for them (a call given objects runs
  // on the instance that made them).
  function bindFunctions(guest, onPool = false) {
    const exports = {};
    for (const spec of SPECS) {
      if (spec.class) continue;
      const f = exports[spec.name] = callable(spec, guest, spec.name);
      if (onPool) {
        Object.assign(f, { async: (...args) =>
          (args.some((a) => a instanceof RustObject) ? spec.async(guest, args) : asyncPool()[spec.name](...args)) });
      }
    }
    return Object.assign(exports, classesOf(guest));
  }
  let sharedPool = null;
  function asyncPool() {
    return sharedPool || (sharedPool = createPool());
  }

  // The class of an exported struct, for the first instance that asks (the module's own);
  // other instances get subclasses of it (classesOf), whose constructor and statics make
  // objects in that instance. Methods are found through the prototype: `obj.add(1)` and
  // `obj.add.async(1)` (the first use of a method on an object binds it to the object).
  function makeClass(name, free) {
    const members = SPECS.filter((spec) => spec.class === name);
    const make = members.find((spec) => spec.member === 'constructor');
    const Class = { [name]: class extends RustObject {
      // @ts-expect-error: returns the object the guest's constructor made instead of `this`
      constructor(...args) {
        if (!make) throw new TypeError(`${name} has no #[wasm_bindgen(constructor)]: its objects come from the functions that return them`);
        const object = make.sync(new.target[GUEST], args);
        if (Object.getPrototypeOf(object) !== new.target.prototype) Object.setPrototypeOf(object, new.target.prototype);
        return object; // replaces `this`
      }
    } }[name];
    const proto = Class.prototype;
    proto[STRUCT] = name;
    proto[FREE] = free;
    const accessors = {};
    for (const spec of members) {
      if (spec.member === 'method') {
        Object.defineProperty(proto, spec.prop, {
          configurable: true,
          get() {
            if (!(GUEST in this)) return undefined; // the prototype itself
            const self = this;
            const f = { [spec.prop](...args) { return spec.sync(self[GUEST], [self, ...args]); } }[spec.prop];
            Object.assign(f, { async: (...args) => spec.async(self[GUEST], [self, ...args]) });
            Object.defineProperty(this, spec.prop, { value: f, configurable: true });
            return f;
          },
        });
      } else if (spec.member === 'getter' || spec.member === 'setter') {
        (accessors[spec.prop] ||= {})[spec.member] = spec;
      }
    }
    for (const [prop, { getter, setter }] of Object.entries(accessors)) {
      Object.defineProperty(proto, prop, {
        configurable: true,
        get: getter && function () { return getter.sync(this[GUEST], [this]); },
        set: setter && function (value) { setter.sync(this[GUEST], [this, value]); },
      });
    }
    return Class;
  }

  const CLASSES = Object.fromEntries(STRUCTS.map(({ name, free }) => [name, makeClass(name, free)]));

  function classesOf(g) {
    if (g.classes) return g.classes;
    g.classes = {};
    for (const [name, Base] of Object.entries(CLASSES)) {
      const Class = Base[GUEST] === undefined ? Base : { [name]: class extends Base {} }[name];
      Class[GUEST] = g;
      for (const spec of SPECS) {
        if (spec.class === name && spec.member === 'static')
          Object.defineProperty(Class, spec.prop, { value: callable(spec, g, spec.prop), configurable: true, writable: true });
      }
      g.classes[name] = Class;
    }
    return g.classes;
  }


  // The functions on `size` instances of their own, each call on an idle one (a call given
  // objects on the instance that made them): kiln.Pool over the glue's instances.
  /** @param {Record<string, any>} [options] */
  function createPool(options = {}) {
    const size = options.size ?? os.availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new TypeError(`options.size must be a positive integer, got ${size}`);
    const settings = Object.assign({}, options);
    delete settings.size;
    const module = moduleFor(settings);
    const guests = Array.from({ length: size }, () => new Guest(module, settings));
    const guestOf = new Map(guests.map((g) => [g.instance, g]));
    const pool = new kiln.Pool(guests.map((g) => g.instance));
    let closed = false;
    const submit = (spec, args) => {
      if (closed) return Promise.reject(new Error('the pool is closed'));
      let options;
      try {
        options = asyncOptions(spec.label, args, spec.params.length);
      } catch (error) {
        return Promise.reject(error);
      }
      let guest = null;
      for (const arg of args) {
        if (!(arg instanceof RustObject)) continue;
        if (!guests.includes(arg[GUEST]) || (guest && guest !== arg[GUEST])) {
          return Promise.reject(new Error(`${spec.label}: this ${arg[STRUCT]} belongs to ${guest ? 'another instance of the pool than the other objects of the call' : 'an instance outside this pool'} (objects stay in the instance that made them)`));
        }
        guest = arg[GUEST];
      }
      // through the instance's own queue: its objects' .async calls may be queued there
      // (a signal also aborts the wait for an idle instance)
      return pool.use((instance) => spec.async(guestOf.get(instance), args),
        { instance: guest ? guest.instance : undefined, signal: options && options.signal });
    };
    const api = {
      get size() { return pool.size; },
      get pending() { return pool.pending; },
      async close() {
        closed = true;
        for (const g of guests) if (!g.closed) g.instance.interrupt();
        await pool.close();
        for (const g of guests) {
          g.closed = true;
          live.delete(g.ref);
        }
      },
    };
    for (const spec of SPECS) {
      if (spec.class) continue;
      const f = (...args) => submit(spec, args);
      f.async = f;
      api[spec.name] = f;
    }
    return api;
  }

  // The module: precompiled (CWASM_FILE, from `kiln build`) when it is there, not older than
  // the .wasm, made for this CPU and kiln, and the interpreter is not asked for; else the .wasm.
  function load() {
    if (kiln.tiers.includes('compiled') && process.env.KILN_TIER !== 'interp') {
      try {
        if (fs.statSync(CWASM_FILE).mtimeMs >= fs.statSync(WASM_FILE).mtimeMs) return kiln.compile(CWASM_FILE);
      } catch (error) {
        if (error.code !== 'ENOENT' && !(error instanceof kiln.CompileError)) throw error;
      }
    }
    return kiln.compile(WASM_FILE);
  }

  const compiled = load();
  // A precompiled module's code does not count fuel: instances with a fuel limit use the .wasm.
  let metered = null;
  function moduleFor(options) {
    const fuel = options && options.limits && options.limits.fuel;
    if (fuel === undefined || fuel === Infinity || !compiled.stats().precompiled) return compiled;
    return metered || (metered = kiln.compile(WASM_FILE, { fuel: true }));
  }
  const defaultGuest = new Guest(compiled);
  classesOf(defaultGuest); // the module's own instance gets the classes above


  return Object.assign(bindFunctions(defaultGuest, true), {
    /** The compiled module (a kiln.Module). */
    module: compiled,
    /** The instance the functions above (and the classes' constructors and statics) call. */
    instance: defaultGuest.instance,
    /** The same functions on a new instance of their own (options: kiln's InstanceOptions). */
    instantiate(options) {
      const guest = new Guest(moduleFor(options), options);
      return Object.assign(bindFunctions(guest), { instance: guest.instance, close: () => guest.close() });
    },
    /** Functions returning Promises, run on `size` instances in parallel. */
    createPool,
  });
}

module.exports = { bind, FORMAT, Heap };
