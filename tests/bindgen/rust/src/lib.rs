//! Every type `kiln bindgen` supports, for tests/bindgen/types.test.mjs.
use std::sync::atomic::{AtomicU32, Ordering};
use wasm_bindgen::prelude::*;

static STARTED: AtomicU32 = AtomicU32::new(0);

/// Runs once per instance, after kiln build's panic hook is installed (panics reach
/// JavaScript with their message through that hook; this guest sets none of its own).
#[wasm_bindgen(start)]
pub fn start() {
    STARTED.fetch_add(1, Ordering::Relaxed);
}

#[wasm_bindgen]
pub fn start_calls() -> u32 {
    STARTED.load(Ordering::Relaxed)
}

macro_rules! echo {
    ($($name:ident: $t:ty),*) => { $(#[wasm_bindgen] pub fn $name(x: $t) -> $t { x })* };
}
echo!(echo_i8: i8, echo_u8: u8, echo_i16: i16, echo_u16: u16, echo_i32: i32, echo_u32: u32,
      echo_i64: i64, echo_u64: u64, echo_isize: isize, echo_usize: usize, echo_f32: f32,
      echo_f64: f64, echo_bool: bool, echo_char: char, echo_string: String,
      echo_vec_u8: Vec<u8>, echo_vec_i8: Vec<i8>, echo_vec_i16: Vec<i16>, echo_vec_u16: Vec<u16>,
      echo_vec_i32: Vec<i32>, echo_vec_u32: Vec<u32>, echo_vec_i64: Vec<i64>,
      echo_vec_u64: Vec<u64>, echo_vec_f32: Vec<f32>, echo_vec_f64: Vec<f64>,
      echo_opt_i32: Option<i32>, echo_opt_u32: Option<u32>, echo_opt_i64: Option<i64>,
      echo_opt_u64: Option<u64>, echo_opt_f32: Option<f32>, echo_opt_f64: Option<f64>,
      echo_opt_u8: Option<u8>, echo_opt_i16: Option<i16>, echo_opt_bool: Option<bool>,
      echo_opt_char: Option<char>, echo_opt_string: Option<String>,
      echo_opt_vec_u8: Option<Vec<u8>>, echo_opt_vec_f64: Option<Vec<f64>>, echo_js: JsValue);

#[wasm_bindgen]
pub fn say(name: &str) -> String {
    format!("hello {}", name)
}

#[wasm_bindgen]
pub fn str_len(s: &str) -> usize {
    s.len()
}

#[wasm_bindgen]
pub fn sum_bytes(b: &[u8]) -> u64 {
    b.iter().map(|&x| x as u64).sum()
}

#[wasm_bindgen]
pub fn sum_f64(v: &[f64]) -> f64 {
    v.iter().sum()
}

#[wasm_bindgen]
pub fn sum_i64(v: &[i64]) -> i64 {
    v.iter().sum()
}

#[wasm_bindgen]
pub fn double_in_place(v: &mut [i32]) {
    for x in v.iter_mut() {
        *x *= 2;
    }
}

#[wasm_bindgen]
pub fn invert(mut v: Vec<u8>) -> Vec<u8> {
    for x in v.iter_mut() {
        *x = !*x;
    }
    v
}

#[wasm_bindgen]
pub fn mix(a: i32, b: f64, c: &str, d: bool, e: u64, f: Option<i32>) -> String {
    format!("{} {} {} {} {} {:?}", a, b, c, d, e, f)
}

#[wasm_bindgen]
pub fn nothing() {}

#[wasm_bindgen]
pub fn checked_div(a: i32, b: i32) -> Result<i32, JsValue> {
    if b == 0 { Err(JsValue::from_str("division by zero")) } else { Ok(a / b) }
}

#[wasm_bindgen]
pub fn parse_number(s: &str) -> Result<f64, JsValue> {
    s.trim().parse::<f64>().map_err(|e| JsValue::from_str(&format!("not a number: {}", e)))
}

#[wasm_bindgen]
pub fn greet_checked(name: &str) -> Result<String, JsValue> {
    if name.is_empty() { Err(JsError::new("empty name").into()) } else { Ok(format!("hi {}", name)) }
}

#[wasm_bindgen]
pub fn maybe_unit(fail: bool) -> Result<(), JsValue> {
    if fail { Err("failed".into()) } else { Ok(()) }
}

#[wasm_bindgen]
pub fn panics(message: &str) -> i32 {
    panic!("{}", message)
}

#[wasm_bindgen]
pub fn traps() -> i32 {
    core::arch::wasm32::unreachable()
}

#[wasm_bindgen]
pub fn spin(n: u32) -> u32 {
    let mut x: u32 = 0;
    for i in 0..n {
        x = x.wrapping_mul(31).wrapping_add(i);
    }
    x
}

#[wasm_bindgen]
pub fn clamp_pixels(v: wasm_bindgen::Clamped<Vec<u8>>) -> wasm_bindgen::Clamped<Vec<u8>> {
    v
}

/// Not supported by kiln bindgen (arrays of JsValue): run.sh checks the error names it, and
/// builds the rest with --skip-unsupported.
#[wasm_bindgen]
pub fn js_values() -> Vec<JsValue> {
    vec![JsValue::NULL]
}

// ------------------------------------------------------------------ exported structs

static LIVE: AtomicU32 = AtomicU32::new(0);
static SERIAL: AtomicU32 = AtomicU32::new(0);

/// A labelled counter: an exported struct with a constructor, methods, statics, getters,
/// setters and pub fields. Its history keeps a heap allocation per object, so that leaked
/// objects would show in the guest's memory.
#[wasm_bindgen]
pub struct Counter {
    n: u32,
    label: String,
    history: Vec<u32>,
    /// What add(0) adds.
    pub step: u32,
    /// The order in which the object was made (readonly).
    #[wasm_bindgen(readonly)]
    pub serial: u32,
    /// A cloned String field.
    #[wasm_bindgen(getter_with_clone)]
    pub tag: String,
}

impl Drop for Counter {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

#[wasm_bindgen]
impl Counter {
    /// A counter at 0.
    #[wasm_bindgen(constructor)]
    pub fn new(label: &str) -> Counter {
        LIVE.fetch_add(1, Ordering::Relaxed);
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        Counter { n: 0, label: label.to_string(), history: Vec::with_capacity(8), step: 1, serial, tag: String::new() }
    }

    /// Adds k (or step if k is 0); returns the new count.
    pub fn add(&mut self, k: u32) -> u32 {
        self.n += if k == 0 { self.step } else { k };
        self.history.push(self.n);
        self.n
    }

    pub fn label(&self) -> String {
        self.label.clone()
    }

    pub fn rename(&mut self, label: String) {
        self.label = label;
    }

    /// Adds the count of another counter, borrowed.
    pub fn merge(&mut self, other: &Counter) {
        self.n += other.n;
    }

    /// Takes another counter (moved) and adds its count.
    pub fn absorb(&mut self, other: Counter) -> u32 {
        self.n += other.n;
        self.n
    }

    /// Consumes the counter.
    pub fn into_total(self) -> u32 {
        self.n
    }

    /// A new counter called "zero".
    pub fn zero() -> Counter {
        Counter::new("zero")
    }

    pub fn parse(text: &str) -> Result<Counter, JsValue> {
        let n = text.parse::<u32>().map_err(|e| JsValue::from_str(&format!("bad count: {}", e)))?;
        let mut c = Counter::new(text);
        c.n = n;
        Ok(c)
    }

    /// A copy with another label.
    pub fn fork(&self, label: &str) -> Counter {
        let mut c = Counter::new(label);
        c.n = self.n;
        c
    }

    pub fn history(&self) -> Vec<u32> {
        self.history.clone()
    }

    pub fn spin(&self, n: u32) -> u32 {
        spin(n).wrapping_add(self.n)
    }

    pub fn check(&self, limit: u32) -> Result<u32, JsValue> {
        if self.n > limit { Err(JsValue::from_str("over the limit")) } else { Ok(self.n) }
    }

    /// Panics while it borrows the counter mutably: the borrow is never released.
    pub fn explode(&mut self) {
        panic!("exploded")
    }

    #[wasm_bindgen(getter)]
    pub fn n(&self) -> u32 {
        self.n
    }

    #[wasm_bindgen(setter)]
    pub fn set_n(&mut self, n: u32) {
        self.n = n;
    }

    #[wasm_bindgen(getter = upperLabel)]
    pub fn upper_label(&self) -> String {
        self.label.to_uppercase()
    }
}

/// A struct without a constructor, made by a function.
#[wasm_bindgen]
pub struct Token {
    pub id: u32,
}

#[wasm_bindgen]
pub fn make_token(id: u32) -> Token {
    Token { id }
}

#[wasm_bindgen]
pub fn total(c: &Counter) -> u32 {
    c.n
}

#[wasm_bindgen]
pub fn bump(c: &mut Counter) -> u32 {
    c.add(1)
}

#[wasm_bindgen]
pub fn make_counter(label: &str) -> Counter {
    Counter::new(label)
}

#[wasm_bindgen]
pub fn maybe_counter(make: bool) -> Option<Counter> {
    if make { Some(Counter::new("maybe")) } else { None }
}

/// Takes an optional counter (moved); -1 for None.
#[wasm_bindgen]
pub fn take_counter(c: Option<Counter>) -> i32 {
    c.map(|c| c.n as i32).unwrap_or(-1)
}

#[wasm_bindgen]
pub fn sum_counters(a: &Counter, b: &Counter) -> u32 {
    a.n + b.n
}

/// A Counter as a JsValue (through the import __wbg_counter_new).
#[wasm_bindgen]
pub fn counter_as_js(label: &str) -> JsValue {
    Counter::new(label).into()
}

/// The number of Counter values alive in the guest.
#[wasm_bindgen]
pub fn live_counters() -> u32 {
    LIVE.load(Ordering::Relaxed)
}
