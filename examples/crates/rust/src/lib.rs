//! kiln-crates-demo - the guest of examples/crates: heavy work handed to crates that Debian
//! packages (sha2, miniz_oxide, regex, serde_json, pulldown-cmark), compiled to wasm and
//! called from Node.js through the glue `kiln build` writes. Each export does one real job
//! with one crate; bad input is an `Err` (a JavaScript `Error` with the crate's message), never
//! a trap, so the instance stays usable. A panic, which none of these should reach, is thrown
//! with its message by the hook `start` installs.
use wasm_bindgen::prelude::*;

/// The largest output `inflate` and `zlib_decompress` produce: 256 MiB, so a small corrupt
/// or hostile stream ends as an error rather than exhausting guest memory.
const MAX_INFLATED: usize = 256 << 20;

#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| wasm_bindgen::throw_str(&info.to_string())));
}

/// The SHA-256 digest of `data` (32 bytes), by the `sha2` crate.
#[wasm_bindgen]
pub fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(data).to_vec()
}

/// `data` compressed as raw DEFLATE (RFC 1951, no header: zlib's `deflateRaw`) at `level`
/// 0 (stored) to 10 (slowest), by `miniz_oxide`; 6 is zlib's default.
#[wasm_bindgen]
pub fn deflate(data: &[u8], level: u8) -> Result<Vec<u8>, JsValue> {
    Ok(miniz_oxide::deflate::compress_to_vec(data, check_level(level)?))
}

/// Raw DEFLATE data decompressed; corrupt, truncated or over-256-MiB input is an `Err`.
#[wasm_bindgen]
pub fn inflate(data: &[u8]) -> Result<Vec<u8>, JsValue> {
    miniz_oxide::inflate::decompress_to_vec_with_limit(data, MAX_INFLATED).map_err(|e| inflate_error("inflate", e))
}

/// `data` compressed in the zlib format (RFC 1950: header, DEFLATE, Adler-32) at `level` 0-10.
#[wasm_bindgen]
pub fn zlib_compress(data: &[u8], level: u8) -> Result<Vec<u8>, JsValue> {
    Ok(miniz_oxide::deflate::compress_to_vec_zlib(data, check_level(level)?))
}

/// zlib-format data decompressed, its checksum checked; bad input is an `Err`.
#[wasm_bindgen]
pub fn zlib_decompress(data: &[u8]) -> Result<Vec<u8>, JsValue> {
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, MAX_INFLATED)
        .map_err(|e| inflate_error("zlib_decompress", e))
}

fn check_level(level: u8) -> Result<u8, JsValue> {
    if level > 10 {
        return Err(JsValue::from_str(&format!("compression level {} is not 0 to 10", level)));
    }
    Ok(level)
}

fn inflate_error(function: &str, error: miniz_oxide::inflate::DecompressError) -> JsValue {
    use miniz_oxide::inflate::TINFLStatus;
    let what = match error.status {
        TINFLStatus::HasMoreOutput => format!("the output would exceed {} MiB", MAX_INFLATED >> 20),
        _ => error.to_string(),
    };
    // (error.output is miniz_oxide's whole buffer, not what was decoded: not worth reporting.)
    JsValue::from_str(&format!("{}: {}", function, what))
}

/// CommonMark `text` rendered to HTML by `pulldown-cmark`; with `extensions`, also its
/// tables, footnotes, strikethrough and task lists (GitHub's extensions).
#[wasm_bindgen]
pub fn markdown_to_html(text: &str, extensions: bool) -> String {
    use pulldown_cmark::{html, Options, Parser};
    let mut options = Options::empty();
    if extensions {
        options = Options::ENABLE_TABLES
            | Options::ENABLE_FOOTNOTES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS;
    }
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    html::push_html(&mut out, Parser::new_ext(text, options));
    out
}

/// The JSON `text` parsed and written again by `serde_json`, compact or `pretty` (two spaces),
/// object keys sorted; invalid JSON is an `Err` naming the line and column. Keys are sorted
/// because serde_json's map is a `BTreeMap` without its `preserve_order` feature; numbers are
/// written as serde_json writes them ("1.0", "1e21"); README.md lists the differences from
/// `JSON.stringify`.
#[wasm_bindgen]
pub fn json_normalize(text: &str, pretty: bool) -> Result<String, JsValue> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| JsValue::from_str(&e.to_string()))?;
    let written = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) };
    written.map_err(|e| JsValue::from_str(&e.to_string()))
}

/// How many non-overlapping matches of the regular expression `pattern` (the `regex` crate's
/// syntax: Unicode-aware, no look-around or backreferences) `text` has; a pattern that does
/// not compile is an `Err` saying why.
#[wasm_bindgen]
pub fn regex_count(pattern: &str, text: &str) -> Result<u32, JsValue> {
    let regex = regex::Regex::new(pattern).map_err(|e| JsValue::from_str(&e.to_string()))?;
    Ok(regex.find_iter(text).count() as u32)
}
