// glue.mjs - the JavaScript side of image.c's exports, written once over an instance's
// exports and memory, so the same logic drives kiln and V8's WebAssembly: copy the input
// into the guest heap, call image_process, copy the result out, free both buffers.
//   const image = bindImage(instance.exports, instance.memory);
//   const ppm = image.process(bytes, { width: 960 });       // synchronous
//   const ppm2 = await image.processAsync(bytes, { width: 960 }); // kiln: on the thread pool

function checkOptions({ width = 0, height = 0, gray = false, radius = 2, amount = 24 } = {}) {
  for (const [name, value] of Object.entries({ width, height, radius, amount }))
    if (!Number.isInteger(value)) throw new TypeError(`options.${name} must be an integer, got ${value}`);
  return [width, height, gray ? 1 : 0, radius, amount];
}

export function bindImage(exports, memory) {
  const { image_alloc: alloc, image_free: free, image_process: run } = exports;
  const bytesAt = () => new Uint8Array(memory.buffer); // again after each call: memory may grow

  function enter(bytes) {
    const ptr = alloc(bytes.length);
    if (!ptr) throw new Error('image: out of guest memory');
    bytesAt().set(bytes, ptr);
    return ptr;
  }

  function leave(input, output) {
    free(input);
    if (!output) {
      const at = exports.image_error();
      const heap = bytesAt();
      const end = heap.indexOf(0, at);
      throw new Error(`image: ${Buffer.from(heap.subarray(at, end)).toString()}`);
    }
    const out = bytesAt().slice(output, output + exports.image_result_len());
    free(output);
    return out;
  }

  return {
    // PPM/PGM bytes in, PPM/PGM bytes out; options as processImage in pipeline.mjs.
    process(bytes, options) {
      const args = checkOptions(options);
      const input = enter(bytes);
      let output;
      try {
        output = run(input, bytes.length, ...args);
      } catch (error) {
        free(input);
        throw error;
      }
      return leave(input, output);
    },
    // The same with the heavy call on kiln's thread pool (kiln instances only). One call at a
    // time per instance: the synchronous alloc/free around it must not meet a pending call.
    async processAsync(bytes, options) {
      const args = checkOptions(options);
      const input = enter(bytes);
      let output;
      try {
        output = await run.async(input, bytes.length, ...args);
      } catch (error) {
        free(input);
        throw error;
      }
      return leave(input, output);
    },
    heapUsed: () => exports.image_heap_used(),
  };
}
