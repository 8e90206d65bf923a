// glue-types.ts - kiln/glue's types as a tool building on generated tables would use them
// (type-checked by types.test.mjs, not run).
import { bind, FORMAT, Heap, type GlueTable } from 'kiln/glue';

const table: GlueTable = {
  format: FORMAT, file: __filename, abi: 'rust', usesWasi: false, start: null, wasm: 'm.wasm', cwasm: 'm.cwasm',
  functions: [{ name: 'add', params: [['a', 'u32'], ['b', 'u32']], result: 'u32', results: ['i32'], retptr: 0 }],
  structs: [], retptrSize: 16, imports: [],
  wasmBindgen: {
    version: '0.2.100', minor: 100, heapOffset: 128, mallocAlign: true, freeDelayed: true, optionSentinel: 4294967297,
    boolNone: 2, copiesBack: true, casts: false, intrinsics: {}, words: ['I8'],
  },
};
const bound: Record<string, unknown> = bind(table);
const heap = new Heap(128);
const index: number = heap.add('x');
const value: unknown = heap.take(index);
export { bound, value };
