// index.d.ts - TypeScript declarations of the package 'kiln' (lib/index.js), checked by
// test/types.ts with tsc --strict.

/// <reference types="node" />

/** Bytes of a module: an ArrayBuffer or any view of one (Buffer, Uint8Array, DataView). The
 * standard's BufferSource, declared here so that no DOM library is needed. */
export type Bytes = ArrayBuffer | ArrayBufferView;

/** A value type's name. */
export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';

export type ExternKind = 'function' | 'table' | 'memory' | 'global';

export interface FunctionType {
  params: ValueType[];
  results: ValueType[];
}
export interface MemoryType {
  /** In pages of 64 KiB. */
  initial: number;
  maximum?: number;
  /** A shared memory (the threads proposal's memory type; it always has a maximum). */
  shared?: boolean;
}
export interface TableType {
  element: 'funcref' | 'externref';
  initial: number;
  maximum?: number;
}
export interface GlobalType {
  value: ValueType;
  mutable: boolean;
}
export type ExternType = FunctionType | MemoryType | TableType | GlobalType;

export interface ImportDescriptor {
  module: string;
  name: string;
  kind: ExternKind;
  type: ExternType;
}
export interface ExportDescriptor {
  name: string;
  kind: ExternKind;
  type: ExternType;
}

/**
 * How modules run: 'auto' (the interpreter at once, and the functions that run often
 * compiled by LLVM 19 on a background thread and run natively from their next call),
 * 'interp' (kiln's interpreter only) or 'compiled' (the whole module compiled to native code
 * first: compiling takes longer, running is fastest from the first call). Compiled code is
 * kept in a cache ($XDG_CACHE_HOME/kiln or ~/.cache/kiln; KILN_CACHE_DIR moves it,
 * KILN_CACHE=off turns it off), so the next process starts with it.
 */
export type Tier = 'auto' | 'interp' | 'compiled';

export interface CompileOptions {
  /**
   * Default: the environment variable KILN_TIER when the package loaded, else 'auto' when
   * the addon has the compiled tier, else 'interp'.
   */
  tier?: Tier;
  /** Compiled tier: code for the baseline CPU of this architecture instead of this machine's. */
  portable?: boolean;
  /**
   * Compiled tier: count fuel, so that limits.fuel and setFuel work (about 30% slower on
   * call-heavy code). kiln.instantiate of bytes or a path with limits.fuel sets it. The
   * interpreter always counts fuel.
   */
  fuel?: boolean;
}

export interface ModuleStats {
  /** The tier it runs in. */
  tier: Tier;
  /** Defined functions (imports excluded). */
  functions: number;
  /** Of those, the ones with native code (the rest, too large for LLVM, are interpreted). */
  nativeFunctions: number;
  /** Machine code loaded for the module. */
  nativeCodeBytes: number;
  /** Functions the interpreter has translated so far: each is translated on its first call. */
  translatedFunctions: number;
  /** The size of that interpreter code. */
  translatedCodeBytes: number;
  /** 'auto': of nativeFunctions, those whose code came from the cache (compiled by an earlier run). */
  cachedFunctions: number;
  /** 'compiled': the native code came from the cache. */
  cacheHit: boolean;
  /** The bytes were a precompiled module (`kiln compile`, a .cwasm). */
  precompiled: boolean;
}

/** A compiled module: validated once, shareable by any number of instances and threads. */
export class Module {
  /**
   * Compile bytes; throws CompileError saying what is wrong and where, TypeError for a wrong
   * option, Error when the compiled tier is asked for and this build has none.
   */
  constructor(bytes: Bytes, options?: CompileOptions);
  /** The tier it was compiled for. */
  readonly tier: Tier;
  stats(): ModuleStats;
  imports(): ImportDescriptor[];
  exports(): ExportDescriptor[];
  /** Copies of the custom sections called `name`. */
  customSections(name: string): ArrayBuffer[];
  /** Free the compiled code now; instances already made keep what they need. */
  close(): void;
  static imports(module: Module): ImportDescriptor[];
  static exports(module: Module): ExportDescriptor[];
  static customSections(module: Module, sectionName: string): ArrayBuffer[];
}

/** A linear memory. */
export class Memory {
  constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
  /** Linear memory without a copy; replaced (the old one detached) when memory grows. A
   * shared memory's is a frozen SharedArrayBuffer, which stays valid (not detached, its length
   * unchanged) when the memory grows. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Size in pages. */
  readonly size: number;
  /** Grow by `delta` pages; returns the old size in pages. */
  grow(delta: number): number;
  /** A copy of `length` bytes at `offset`. */
  read(offset: number, length: number): Uint8Array;
  /** Copy bytes (or a string as UTF-8) to `offset`; returns the number of bytes written. */
  write(offset: number, bytes: ArrayBufferView | ArrayBuffer | string): number;
  /** The UTF-8 string of `length` bytes at `offset`, or up to the first NUL. */
  readString(offset: number, length?: number): string;
  /** Write `string` as UTF-8 at `offset` (no NUL); returns the number of bytes written. */
  writeString(offset: number, string: string): number;
}

export class Table {
  constructor(descriptor: { element: 'anyfunc' | 'funcref' | 'externref'; initial: number; maximum?: number }, value?: unknown);
  readonly length: number;
  get(index: number): any;
  set(index: number, value?: unknown): void;
  grow(delta: number, value?: unknown): number;
}

export class Global {
  constructor(descriptor: { value: ValueType | 'anyfunc'; mutable?: boolean }, value?: unknown);
  value: any;
  valueOf(): any;
}

/** An exported function: call it synchronously, or with `.async` on the thread pool. */
export interface WasmFunction {
  (...args: any[]): any;
  /** Run the call on the thread pool; the event loop stays free. */
  async(...args: any[]): Promise<any>;
}

export type Export = WasmFunction | Memory | Table | Global;
export type Exports = Readonly<Record<string, any>>;

/** A JavaScript host function, or a value kiln can import (a Memory, Table, Global, or a number/bigint for a constant global). */
export type ImportValue = ((...args: any[]) => any) | Memory | Table | Global | number | bigint;
export type Imports = Record<string, Record<string, ImportValue>>;

export interface WasiOptions {
  /** argv, the program name first. */
  args?: string[];
  env?: Record<string, string>;
  /** Guest path -> host directory. */
  preopens?: Record<string, string>;
  /** As preopens, refusing every write. */
  readonlyPreopens?: Record<string, string>;
  /** Host file descriptors; null: empty input or discarded output. Default 0, 1, 2. */
  stdin?: number | null;
  stdout?: number | null;
  stderr?: number | null;
}

/** WASI-NN (wasi_ephemeral_nn): ONNX models run by ONNX Runtime (loaded at run time). */
export interface NnOptions {
  /** Models the guest loads with load_by_name(NAME): name -> path of the .onnx file. */
  preload?: Record<string, string>;
  /** libonnxruntime.so.1 (or its directory); default: the onnxruntime-node package the
   * application has, then $KILN_ONNXRUNTIME and the dynamic loader's search. */
  onnxruntime?: string;
  /** Threads per model's inference; 0 (the default): one per core. */
  threads?: number;
  /** Graphs and execution contexts the instance may hold at once (default 16 and 64). */
  maxGraphs?: number;
  maxContexts?: number;
}

export interface Limits {
  /** The most bytes of linear memory (memory.grow beyond returns -1). */
  memory?: number;
  /** Every call is interrupted after this long (TimeoutError); 0 or Infinity: none. */
  timeoutMs?: number;
  /** A budget of work units; a call that runs out traps with "out of fuel". */
  fuel?: number | bigint;
}

export interface InstanceOptions {
  imports?: Imports;
  /** WASI preview 1 with these settings (true: the defaults). */
  wasi?: WasiOptions | boolean;
  /** WASI-NN with these settings (true: the defaults). */
  nn?: NnOptions | boolean;
  limits?: Limits;
}

/** kiln.instantiate's options: the tier applies when it compiles bytes or a path. */
export interface InstantiateOptions extends InstanceOptions, CompileOptions {}

export interface CallOptions {
  /** Aborting interrupts the call (or drops it if it is still waiting); it rejects with signal.reason. */
  signal?: AbortSignal;
  /** Overrides limits.timeoutMs for this call. */
  timeoutMs?: number;
}

/** An instance in its own sandbox. One call runs at a time; async calls queue. */
export class Instance {
  constructor(module: Module, options?: InstanceOptions);
  /** Its module's tier. */
  readonly tier: Tier;
  readonly exports: Exports;
  /** The exported memory (the one named "memory", else the first). */
  readonly memory: Memory | undefined;
  /** Fuel left (Infinity when unlimited); settable. */
  fuel: number;
  /** Whether an async call is running or waiting. */
  readonly busy: boolean;
  call(name: string, ...args: any[]): any;
  callAsync(name: string, args?: any[], options?: CallOptions): Promise<any>;
  /** Run the WASI command (_start): its exit code. */
  runWasi(): number;
  runWasiAsync(): Promise<number>;
  /** Stop the running call from anywhere: it fails with RuntimeError (trap "interrupted"). */
  interrupt(): void;
  setFuel(fuel: number | bigint): void;
  readBytes(offset: number, length: number): Uint8Array;
  writeBytes(offset: number, bytes: ArrayBufferView | ArrayBuffer | string): number;
  readString(offset: number, length?: number): string;
  writeString(offset: number, string: string): number;
  /** Free now: views of its memory detach, later calls throw; a running async call is interrupted. */
  close(): void;
}

export interface PoolOptions extends InstanceOptions {
  /** How many instances (default os.availableParallelism()). */
  size?: number;
}

/** Several instances of one module; calls go to a free one and queue when all are busy. */
export class Pool {
  constructor(module: Module, options?: PoolOptions);
  /** A pool over instances made elsewhere (each with imports of its own); it closes them. */
  constructor(instances: Instance[]);
  /**
   * Run task(instance) on a free instance (options.instance: on that one), which stays busy
   * until the task's Promise settles; options.signal aborts the wait for an instance.
   */
  use<T>(task: (instance: Instance) => T | PromiseLike<T>, options?: { instance?: Instance; signal?: AbortSignal }): Promise<T>;
  /** Its module's tier. */
  readonly tier: Tier;
  readonly size: number;
  /** Calls waiting for a free instance. */
  readonly pending: number;
  readonly instances: Instance[];
  call(name: string, ...args: any[]): Promise<any>;
  callAsync(name: string, args?: any[], options?: CallOptions): Promise<any>;
  /** Reject waiting calls, interrupt running ones, close every instance. */
  close(): Promise<void>;
}

export interface WasmFrame {
  /** The function index. */
  index: number;
  /** Its name from the name section, or "". */
  name: string;
  /** The byte offset in the module of the instruction; 0 when not known (compiled code knows it
   * only for the innermost frame of an explicit trap, not for callers or memory faults). */
  offset: number;
}

// At run time these extend the standard WebAssembly.CompileError, LinkError and RuntimeError
// (so `instanceof` against the global works); declared on Error, which needs no DOM library.
export class CompileError extends Error {}
export class LinkError extends Error {}
/** A trap: its kind and the wasm backtrace, innermost frame first. */
export class RuntimeError extends Error {
  trap?: string;
  wasmStack?: WasmFrame[];
}
/** A call stopped by limits.timeoutMs or options.timeoutMs; the instance stays usable. */
export class TimeoutError extends RuntimeError {}
/** WASI proc_exit from an exported function call. */
/**
 * A call that failed after the instance's memory limit (limits.memory) refused to grow its
 * memory; the message states the limit and the request.
 */
export class MemoryLimitError extends RangeError {
  /** The limit, in bytes. */
  limit: number;
  /** The size the memory would have had, in bytes. */
  requested: number;
  trap?: string;
  wasmStack?: WasmFrame[];
}
export class ExitError extends Error {
  code: number;
}
/** The rejection of an aborted call whose signal has no reason of its own. */
export class AbortError extends Error {
  code: 'ABORT_ERR';
}

/** Compile from bytes or a path (string or file: URL), for options.tier. */
export function compile(bytesOrPath: Bytes | string | URL, options?: CompileOptions): Module;
/** compile() on libuv's thread pool: the event loop stays free while it reads and compiles. */
export function compileAsync(bytesOrPath: Bytes | string | URL, options?: CompileOptions): Promise<Module>;
export function validate(bytes: Bytes): boolean;
/** Instantiate a Module (or its bytes or path, compiled for options.tier). */
export function instantiate(module: Module | Bytes | string | URL, options?: InstantiateOptions): Instance;

/** The tiers of this build: 'interp', and 'compiled' and 'auto' when the addon was built with LLVM 19. */
export const tiers: readonly Tier[];
export const version: string;

/** The standard WebAssembly JS API on kiln, for generated loaders. */
export interface WebAssemblyFacade {
  Module: typeof Module;
  Instance: {
    new (module: Module, importObject?: Record<string, Record<string, unknown>>): { readonly exports: Exports };
  };
  Memory: typeof Memory;
  Table: typeof Table;
  Global: typeof Global;
  CompileError: typeof CompileError;
  LinkError: typeof LinkError;
  RuntimeError: typeof RuntimeError;
  validate(bytes: Bytes): boolean;
  compile(bytes: Bytes): Promise<Module>;
  instantiate(bytes: Bytes, importObject?: Record<string, Record<string, unknown>>): Promise<{ module: Module; instance: { readonly exports: Exports } }>;
  instantiate(module: Module, importObject?: Record<string, Record<string, unknown>>): Promise<{ readonly exports: Exports }>;
  compileStreaming(source: Response | PromiseLike<Response>): Promise<Module>;
  instantiateStreaming(source: Response | PromiseLike<Response>, importObject?: Record<string, Record<string, unknown>>): Promise<{ module: Module; instance: { readonly exports: Exports } }>;
}
export const WebAssembly: WebAssemblyFacade;

// The default export (and require('kiln')) is the namespace itself.
import * as kilnNamespace from './index.js';
declare const kiln: typeof kilnNamespace;
export default kiln;
