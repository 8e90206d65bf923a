//! A wasm-bindgen guest built for wasm32-wasi (`kiln build --wasi`): it prints through WASI and
//! reads files under the directory the instance is granted as /data. On that target strings
//! cross the boundary by pointer, which wasm-bindgen's descriptions do not cover, so `greet`
//! is refused by kiln bindgen (and left out with --skip-unsupported).
use std::io::Write;
use wasm_bindgen::prelude::*;

/// Adds, and says so on stdout.
#[wasm_bindgen]
pub fn add(a: i32, b: i32) -> i32 {
    println!("add({}, {}) from a wasm32-wasi guest", a, b);
    std::io::stdout().flush().unwrap();
    a + b
}

/// The number of entries in /data, or -1 when it cannot be read (no directory granted).
#[wasm_bindgen]
pub fn count_entries() -> i32 {
    match std::fs::read_dir("/data") {
        Ok(dir) => dir.count() as i32,
        Err(_) => -1,
    }
}

/// The sum of the bytes of /data/input.bin, or -1.0 when it cannot be read.
#[wasm_bindgen]
pub fn byte_sum() -> f64 {
    match std::fs::read("/data/input.bin") {
        Ok(bytes) => bytes.iter().map(|&b| b as f64).sum(),
        Err(_) => -1.0,
    }
}

/// Writes /data/out.txt; false when that fails (a read-only grant).
#[wasm_bindgen]
pub fn write_note(n: u32) -> bool {
    std::fs::write("/data/out.txt", format!("note {}\n", n)).is_ok()
}

/// Refused on this target: a &str and a String travel by pointer here.
#[wasm_bindgen]
pub fn greet(name: &str) -> String {
    format!("hello {}", name)
}
