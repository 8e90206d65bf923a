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

/** The version of the table format bind() reads; generated files name the one they follow. */
const FORMAT = 1;

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

// The JS values of a guest's heap of JsValues (wasm-bindgen's non-externref convention:
// indexes below 36 are reserved, 32-35 are undefined, null, true and false).
class Heap {
  constructor() {
    this.slots = new Array(32).fill(undefined);
    this.slots.push(undefined, null, true, false);
    this.next = this.slots.length;
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
    if (index >= 36) {
      this.slots[index] = this.next;
      this.next = index;
    }
    return value;
  }
}

function toError(value) {
  if (value instanceof Error) return value;
  const error = new Error(typeof value === 'string' ? value : String(value));
  error.value = value;
  return error;
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
    whenIdle(guest, () => { if (!guest.closed) guest.raw[free](ptr); });
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
    object[GUEST].raw[object[FREE]](ptr);
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
}
if (typeof Symbol.dispose === 'symbol') RustObject.prototype[Symbol.dispose] = RustObject.prototype.free;

function sequence(elem, value, what) {
  const [Array_, size] = ELEMENTS[elem];
  if (value instanceof Array_) return [value, size];
  if (elem === 'u8' && (ArrayBuffer.isView(value) || value instanceof ArrayBuffer))
    return [ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value), 1];
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return [Array_.from(value), size];
  throw new TypeError(`${what} must be a ${Array_.name} or an array`);
}

// Copy a JS sequence into guest memory: [ptr, element count].
function passSequence(guest, array, size) {
  const bytes = array.length * size;
  const ptr = guest.malloc(bytes);
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
 * (desc: { format, file, abi, usesWasi, start, wasm, cwasm, functions, structs, retptrSize,
 * imports }).
 */
function bind(desc) {
  if (desc.format !== FORMAT) {
    throw new Error(
      `${desc.file}: this glue was written by a kiln bindgen whose table format is ${desc.format}, and this kiln package ` +
        `reads format ${FORMAT}: ${desc.format > FORMAT ? 'update the kiln package' : 'run kiln build (or kiln bindgen) again'}`,
    );
  }
  const ABI = desc.abi;
  const USES_WASI = desc.usesWasi;
  const START = desc.start;
  const WASM_FILE = desc.wasm;
  const CWASM_FILE = desc.cwasm;
  const FUNCTIONS = desc.functions;
  const STRUCTS = desc.structs;
  const RETPTR_SIZE = desc.retptrSize;
  const IMPORTS = desc.imports;
  // One instance of the guest with what its calls need: the memory views, the return area,
  // the heap of JS values, the queue of async calls.
  class Guest {
    constructor(module, options = {}) {
      this.heap = ABI === 'rust' ? new Heap() : null;
      const imports = Object.assign({}, options.imports);
      for (const [name, fields] of Object.entries(intrinsics(this))) imports[name] = Object.assign({}, fields, imports[name]);
      const settings = Object.assign({}, options, { imports });
      if (USES_WASI && settings.wasi === undefined) settings.wasi = true;
      this.instance = kiln.instantiate(module, settings);
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
      if (this.raw._initialize) this.raw._initialize();
      if (START !== null) this.raw[START]();
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
    malloc(size) {
      const ptr = ABI === 'rust' ? this.alloc(size) : this.alloc(size || 1);
      if (ptr === 0) throw new RangeError(`the guest could not allocate ${size} bytes`);
      return ptr >>> 0;
    }
    free(ptr, size) {
      if (ABI === 'rust') this.release(ptr, size);
      else if (ptr !== 0) this.release(ptr);
    }
    returnArea() {
      if (this.retptr === 0) this.retptr = this.malloc(RETPTR_SIZE);
      return this.retptr;
    }
    string(ptr, len) { return decoder.decode(this.bytes().subarray(ptr, ptr + len)); }
    close() {
      this.closed = true;
      live.delete(this.ref);
      this.instance.close();
    }
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
      __wbindgen_describe() {},
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
      __wbindgen_boolean_get(index) { const v = heap.get(index); return v === true ? 1 : v === false ? 0 : 2; },
      __wbindgen_jsval_eq(a, b) { return heap.get(a) === heap.get(b) ? 1 : 0; },
      // eslint-disable-next-line eqeqeq
      __wbindgen_jsval_loose_eq(a, b) { return heap.get(a) == heap.get(b) ? 1 : 0; },
    };
    const unsupported = (name) => () => {
      throw new Error(`${name} is not supported by kiln bindgen's glue (externref tables)`);
    };
    const result = {};
    for (const { module, name } of IMPORTS) {
      const wraps = module === '__wbindgen_placeholder__' && !placeholder[name] && /^__wbg_(.+)_new$/.exec(name);
      const struct = wraps && STRUCTS.find((s) => s.name.toLowerCase() === wraps[1]);
      // JsValue::from(a struct): a JS object of its class for the pointer.
      if (struct) (result[module] ||= {})[name] = (ptr) => heap.add(wrap(guest, struct.name, ptr >>> 0));
      else if (module === '__wbindgen_placeholder__') (result[module] ||= {})[name] = placeholder[name];
      else if (module === '__wbindgen_externref_xform__') (result[module] ||= {})[name] = unsupported(name);
      else if (module === 'kiln' && name === 'fail')
        (result.kiln ||= {}).fail = (ptr, len) => { throw new Error(guest.string(ptr >>> 0, len >>> 0)); };
    }
    return result;
  }


  // How one argument becomes wasm values: push them to out; after() runs once the call is over
  // (after(true) when it never happened: an argument after this one could not be lowered).
  // uses: the struct objects of the call (pointerOf).
  function lowering(type, what, label) {
    const t = parseType(type);
    const c = ABI === 'c';
    const number = (v) => { if (typeof v !== 'number') throw new TypeError(`${what} must be a number`); };
    switch (t.kind) {
    case 'i8': case 'u8': case 'i16': case 'u16': case 'i32': case 'u32': case 'enum':
      return (g, v, out) => { number(v); out.push(v | 0); };
    case 'f32': case 'f64':
      return (g, v, out) => { number(v); out.push(v); };
    case 'i64': case 'u64':
      return (g, v, out) => {
        if (typeof v !== 'bigint') throw new TypeError(`${what} must be a BigInt`);
        out.push(BigInt.asIntN(64, v));
      };
    case 'bool':
      return (g, v, out) => {
        if (typeof v !== 'boolean') throw new TypeError(`${what} must be a boolean`);
        out.push(v ? 1 : 0);
      };
    case 'char':
      return (g, v, out) => {
        if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${what} must be a one-character string`);
        out.push(v.codePointAt(0));
      };
    case 'str': case 'string':
      return (g, v, out, after) => {
        if (typeof v !== 'string') throw new TypeError(`${what} must be a string`);
        const [ptr, len] = passString(g, v);
        out.push(ptr, len);
        if (c) after.push(() => g.free(ptr, len));
      };
    case 'vec': case 'slice': case 'mutslice':
      return (g, v, out, after) => {
        const [array, size] = sequence(t.elem, v, what);
        const ptr = passSequence(g, array, size);
        out.push(ptr, array.length);
        if (c) after.push(() => g.free(ptr, array.length * size));
        else if (t.kind === 'mutslice') after.push(() => {
          const bytes = array.length * size;
          if (array === v) new Uint8Array(v.buffer, v.byteOffset, bytes).set(g.bytes().subarray(ptr, ptr + bytes));
          else if (Array.isArray(v)) {
            const [Array_] = ELEMENTS[t.elem];
            const back = new Array_(g.bytes().slice(ptr, ptr + bytes).buffer);
            for (let i = 0; i < back.length; i++) v[i] = back[i];
          }
          g.free(ptr, bytes);
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
        g.free(ptr, len * size);
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
    const lowers = spec.params.map(([name, type], i) =>
      lowering(type, i < receiver ? label : `${label}: argument ${i + 1 - receiver} (${name}: ${type})`, label));
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
      }
    }
    function failed(g, error, after) {
      if (g.stackBase !== undefined) g.raw.kiln_stack_set(g.stackBase);
      for (const f of after) f();
      if (error instanceof kiln.RuntimeError && error.wasmStack &&
          error.wasmStack.some((frame) => /panic/.test(frame.name)))
        error.message = `${label}: Rust panic (${error.message}); a panic hook that calls ` +
          'wasm_bindgen::throw_str gives its message';
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
    spec.run = function (g, args) {
      let out, after;
      try {
        [out, after] = begin(g, args);
      } catch (error) {
        return Promise.reject(error);
      }
      return g.raw[spec.name].async(...out).then(
        (result) => finish(g, result, after),
        (error) => { throw failed(g, error, after); });
    };
    spec.async = function (g, args) {
      g.pending++;
      const call = g.tail.then(() => spec.run(g, args));
      g.tail = call.then(() => {}, () => {});
      return call.finally(() => { g.pending--; });
    };
    return spec;
  }

  const SPECS = FUNCTIONS.map(prepare);

  // spec as a JS function on guest g, with its .async form.
  function callable(spec, g, name) {
    const f = { [name](...args) { return spec.sync(g, args); } }[name];
    f.async = (...args) => spec.async(g, args);
    return f;
  }

  // The guest's functions and the classes of its structs.
  function bindFunctions(guest) {
    const exports = {};
    for (const spec of SPECS) if (!spec.class) exports[spec.name] = callable(spec, guest, spec.name);
    return Object.assign(exports, classesOf(guest));
  }

  // The class of an exported struct, for the first instance that asks (the module's own);
  // other instances get subclasses of it (classesOf), whose constructor and statics make
  // objects in that instance. Methods are found through the prototype: `obj.add(1)` and
  // `obj.add.async(1)` (the first use of a method on an object binds it to the object).
  function makeClass(name, free) {
    const members = SPECS.filter((spec) => spec.class === name);
    const make = members.find((spec) => spec.member === 'constructor');
    const Class = { [name]: class extends RustObject {
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
            f.async = (...args) => spec.async(self[GUEST], [self, ...args]);
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
      let guest = null;
      for (const arg of args) {
        if (!(arg instanceof RustObject)) continue;
        if (!guests.includes(arg[GUEST]) || (guest && guest !== arg[GUEST])) {
          return Promise.reject(new Error(`${spec.label}: this ${arg[STRUCT]} belongs to ${guest ? 'another instance of the pool than the other objects of the call' : 'an instance outside this pool'} (objects stay in the instance that made them)`));
        }
        guest = arg[GUEST];
      }
      // through the instance's own queue: its objects' .async calls may be queued there
      return pool.use((instance) => spec.async(guestOf.get(instance), args), guest ? { instance: guest.instance } : undefined);
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


  return Object.assign(bindFunctions(defaultGuest), {
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
