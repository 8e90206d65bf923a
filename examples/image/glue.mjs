// glue.mjs - the steps of the generated glue for transform(), written over plain WebAssembly
// exports, so the benchmark can run the very same module with the same glue logic on V8's
// WebAssembly (and on kiln, to show the generated glue costs no more). One binding per guest:
//   bindImage: image.c (kiln/guest.h): the input is copied into memory from kiln_alloc,
//     transform() writes its result's pointer and length to a return area, the result is
//     copied out and both buffers go back through kiln_free; the import kiln.fail throws the
//     guest's message.
//   bindImageRust: rust/ (#[wasm_bindgen]), the steps wasm-bindgen's JavaScript takes for
//     `fn(&[u8], ...) -> Result<Vec<u8>, JsValue>`: the input is copied into memory from
//     __wbindgen_malloc (the guest frees it), transform() writes (ptr, len, error, is_err) to
//     a return area, the Vec is copied out and freed with __wbindgen_free(ptr, len), or the
//     error, a JsValue made by the __wbindgen_string_new import, is taken from the table of
//     JS values and thrown.
//   const image = bindImage((imports) => new WebAssembly.Instance(module, imports));
//   const ppm = image.transform(bytes, width, height, gray, radius, amount);
import { createRequire } from 'node:module';

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

// The JS values a wasm-bindgen guest holds, by index (its JsValue): the table the generated
// glue keeps (kiln/glue's Heap), so both bindings handle them alike.
const { Heap: JsValues } = createRequire(import.meta.url)('kiln/glue');

export function bindImageRust(instantiate) {
  let memory = null;
  const values = new JsValues();
  const string = (ptr, len) => decoder.decode(new Uint8Array(memory.buffer, ptr >>> 0, len >>> 0));
  const unused = (name) => () => {
    throw new Error(`${name}: externref tables are not used by this glue`);
  };
  // The imports the module has as rustc leaves it (wasm-bindgen's CLI would rewrite them).
  const instance = instantiate({
    __wbindgen_placeholder__: {
      __wbindgen_describe() {},
      __wbindgen_string_new: (ptr, len) => values.add(string(ptr, len)),
    },
    __wbindgen_externref_xform__: {
      __wbindgen_externref_table_grow: unused('__wbindgen_externref_table_grow'),
      __wbindgen_externref_table_set_null: unused('__wbindgen_externref_table_set_null'),
    },
    // the panic hook kiln build links in calls it; this glue never installs the hook
    kiln: { panic() {} },
  });
  const { exports } = instance;
  memory = exports.memory;
  const { __wbindgen_malloc: alloc, __wbindgen_free: free, transform: run } = exports;
  // wasm-bindgen's JavaScript takes the return area from the shadow stack with
  // __wbindgen_add_to_stack_pointer(-16), an export its CLI adds; this module has none, so
  // like kiln's generated glue the area is allocated once.
  const retptr = alloc(16);

  return {
    transform(bytes, width, height, gray, radius, amount) {
      const input = alloc(bytes.length); // a &[u8] arrives as a Box<[u8]>: transform() frees it
      new Uint8Array(memory.buffer).set(bytes, input);
      run(retptr, input, bytes.length, width, height, gray ? 1 : 0, radius, amount);
      const [ptr, len, error, failed] = new Uint32Array(memory.buffer, retptr, 4);
      // wasm-bindgen throws the JsValue itself, here a string; an Error with it as the
      // message, as kiln's generated glue and bindImage throw.
      if (failed) throw new Error(values.take(error));
      const out = new Uint8Array(memory.buffer).slice(ptr, ptr + len);
      free(ptr, len);
      return out;
    },
    memory,
    close: () => instance.close?.(), // kiln instances: free them now
  };
}
