// glue.mjs - the steps of the glue `kiln build` generates for rust/'s exports, written over
// plain WebAssembly exports, so the benchmark and the tests can run the very same crates.wasm
// with the same glue logic on V8's WebAssembly (or on kiln). These are wasm-bindgen's steps:
//   - a &[u8] or &str argument is copied into memory from __wbindgen_malloc; the guest takes
//     it over and frees it;
//   - every export returns through a return area (its first parameter), allocated once here
//     (wasm-bindgen's CLI would take it from the shadow stack with the
//     __wbindgen_add_to_stack_pointer it synthesizes; rustc's module has none);
//   - a Vec<u8> or String result is (ptr, len): copied out, then __wbindgen_free(ptr, len);
//     a u32 is one word; a Result<T, JsValue> adds (error, is_err) after T's words, where
//     the error is a JsValue the guest made with the __wbindgen_string_new import: an index
//     into the table of JS values this glue keeps, taken out and thrown as an Error;
//   - `start` (#[wasm_bindgen(start)]) runs first: it installs the panic hook, whose
//     message comes back through the __wbindgen_throw import.
//   const guest = bindCrates((imports) => new WebAssembly.Instance(module, imports));
//   guest.sha256(bytes); guest.json_normalize(text, false); ...
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function bindCrates(instantiate) {
  let memory = null;
  const string = (ptr, len) => decoder.decode(new Uint8Array(memory.buffer, ptr >>> 0, len >>> 0));
  // The JS values the guest holds (its JsValue errors), by index; wasm-bindgen reserves the
  // indexes below 36 for undefined, null, true and false and their neighbours.
  const values = new Map();
  let nextValue = 36;
  const refuse = (name) => () => {
    throw new Error(`${name}: externref tables are not used by this glue`);
  };
  const instance = instantiate({
    __wbindgen_placeholder__: {
      __wbindgen_describe() {},
      __wbindgen_string_new(ptr, len) {
        values.set(nextValue, string(ptr, len));
        return nextValue++;
      },
      __wbindgen_throw(ptr, len) {
        throw new Error(string(ptr, len));
      },
    },
    __wbindgen_externref_xform__: {
      __wbindgen_externref_table_grow: refuse('__wbindgen_externref_table_grow'),
      __wbindgen_externref_table_set_null: refuse('__wbindgen_externref_table_set_null'),
    },
    // the panic hook kiln build links in calls it; this glue never installs the hook
    kiln: { panic() {} },
  });
  const raw = instance.exports;
  memory = raw.memory;
  raw.start();
  const retptr = raw.__wbindgen_malloc(16);

  const passBytes = (bytes) => {
    const ptr = raw.__wbindgen_malloc(bytes.length) >>> 0;
    new Uint8Array(memory.buffer).set(bytes, ptr);
    return [ptr, bytes.length];
  };
  const passString = (text) => {
    const len = Buffer.byteLength(text);
    const ptr = raw.__wbindgen_malloc(len) >>> 0;
    encoder.encodeInto(text, new Uint8Array(memory.buffer, ptr, len));
    return [ptr, len];
  };
  const words = (count) => new Uint32Array(memory.buffer, retptr, count);
  // The (ptr, len) at the start of the return area, copied out and freed.
  const takeBytes = () => {
    const [ptr, len] = words(2);
    const out = new Uint8Array(memory.buffer).slice(ptr, ptr + len);
    raw.__wbindgen_free(ptr, len);
    return out;
  };
  const takeString = () => {
    const [ptr, len] = words(2);
    const text = string(ptr, len);
    raw.__wbindgen_free(ptr, len);
    return text;
  };
  // Throws the Err of a Result whose T takes `size` words.
  const checkResult = (size) => {
    const [error, failed] = words(size + 2).subarray(size);
    if (failed) {
      const message = values.get(error);
      values.delete(error);
      throw new Error(message);
    }
  };

  // fn(&[u8], level?) -> Result<Vec<u8>, JsValue>: the four compression exports.
  const compression = (name) => (data, ...level) => {
    raw[name](retptr, ...passBytes(data), ...level);
    checkResult(2);
    return takeBytes();
  };

  return {
    sha256(data) {
      raw.sha256(retptr, ...passBytes(data));
      return takeBytes();
    },
    deflate: compression('deflate'),
    inflate: compression('inflate'),
    zlib_compress: compression('zlib_compress'),
    zlib_decompress: compression('zlib_decompress'),
    markdown_to_html(text, extensions) {
      raw.markdown_to_html(retptr, ...passString(text), extensions ? 1 : 0);
      return takeString();
    },
    json_normalize(text, pretty) {
      raw.json_normalize(retptr, ...passString(text), pretty ? 1 : 0);
      checkResult(2);
      return takeString();
    },
    regex_count(pattern, text) {
      raw.regex_count(retptr, ...passString(pattern), ...passString(text));
      checkResult(1);
      return words(1)[0];
    },
    memory,
    close: () => instance.close?.(), // kiln instances: free them now
  };
}
