//! The seed's example: Node sends "world", Rust answers "hello world".
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub fn say(name: &str) -> String {
    format!("hello {}", name)
}
