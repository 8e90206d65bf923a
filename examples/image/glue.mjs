// glue.mjs - the steps of the glue `kiln bindgen` generates for transform(), written over
// plain WebAssembly exports, so the benchmark can run the very same module with the same
// glue logic on V8's WebAssembly (and on kiln, to show the generated glue costs no more):
// the input is copied into memory from kiln_alloc, transform() writes its result's pointer
// and length to a return area, the result is copied out and both buffers go back through
// kiln_free; the import kiln.fail throws the guest's message.
//   const image = bindImage((imports) => new WebAssembly.Instance(module, imports));
//   const ppm = image.transform(bytes, width, height, gray, radius, amount);
const decoder = new TextDecoder();

export function bindImage(instantiate) {
  let memory = null;
  const fail = (ptr, len) => {
    throw new Error(decoder.decode(new Uint8Array(memory.buffer, ptr >>> 0, len >>> 0)));
  };
  const instance = instantiate({ kiln: { fail } });
  const { exports } = instance;
  memory = exports.memory;
  exports._initialize();
  const { kiln_alloc: alloc, kiln_free: free, transform: run } = exports;
  const retptr = alloc(16);

  return {
    transform(bytes, width, height, gray, radius, amount) {
      const input = alloc(bytes.length);
      if (!input) throw new Error('out of guest memory');
      new Uint8Array(memory.buffer).set(bytes, input);
      try {
        run(retptr, input, bytes.length, width, height, gray ? 1 : 0, radius, amount);
      } finally {
        free(input);
      }
      const [ptr, len] = new Uint32Array(memory.buffer, retptr, 2);
      const out = new Uint8Array(memory.buffer).slice(ptr, ptr + len);
      free(ptr);
      return out;
    },
    memory,
    close: () => instance.close?.(), // kiln instances: free them now
  };
}
