// glue.d.ts - the types of kiln/glue, the runtime of the JavaScript glue `kiln bindgen` and
// `kiln build` write. Generated files call bind() with their module's tables; their own
// .d.ts files type the functions and classes bind() returns, so applications rarely import
// this module themselves.

/** The version of the table format bind() reads (generated files name the one they follow). */
export declare const FORMAT: number;

/** What a generated file gives bind(): its module's tables (see tools/bindgen/bindgen.c). */
export interface GlueTable {
  format: number;
  /** the generated file (for messages) */
  file: string;
  abi: 'rust' | 'c';
  usesWasi: boolean;
  /** imports wasi_ephemeral_nn: instances get WASI-NN (options.nn, else one without preloads) */
  usesNn?: boolean;
  /** the #[wasm_bindgen(start)] function, called once per instance */
  start: string | null;
  /** the module and its precompiled form beside the generated file */
  wasm: string;
  cwasm: string;
  functions: ReadonlyArray<{
    name: string;
    /** [name, type, the type as the guest's source spells it] */
    params: ReadonlyArray<readonly [string, string] | readonly [string, string, string]>;
    result: string;
    results: ReadonlyArray<'i32' | 'i64' | 'f32' | 'f64'>;
    retptr: number;
    class?: string;
    member?: 'function' | 'constructor' | 'method' | 'static' | 'getter' | 'setter';
    prop?: string;
  }>;
  structs: ReadonlyArray<{ name: string; free: string }>;
  retptrSize: number;
  imports: ReadonlyArray<{ module: string; name: string }>;
  /** Rust guests: what differs between the wasm-bindgen versions (format 2) */
  wasmBindgen?: {
    version: string;
    minor: number;
    heapOffset: number;
    mallocAlign: boolean;
    freeDelayed: boolean;
    optionSentinel: number;
    boolNone: number;
    copiesBack: boolean;
    casts: boolean;
    intrinsics: Readonly<Record<string, string>>;
    words: ReadonlyArray<string>;
  } | null;
}

/** The functions, classes, module and pools of one generated glue file. */
export declare function bind(desc: GlueTable): Record<string, unknown>;

/** A guest's heap of JS values (wasm-bindgen's convention without externref tables). */
export declare class Heap {
  constructor(offset?: number);
  add(value: unknown): number;
  get(index: number): unknown;
  take(index: number): unknown;
}
