// wasi_nn.rs - WASI-NN for Rust guests: the imports of wasi_ephemeral_nn (the witx ABI kiln,
// WasmEdge and Wasmtime implement) and a thin safe layer over them. No wasi-nn crate is
// packaged for offline builds, and the raw surface is small: bring this file into a crate
// (`#[path = ".../kiln/wasi_nn.rs"] mod wasi_nn;`, or copy it) and build for wasm32-wasi.
//
//     let graph = wasi_nn::Graph::load_by_name("det")?;      // kiln run --nn-preload det:onnx:cpu:det.onnx
//     let mut ctx = graph.context()?;
//     ctx.set_input(0, wasi_nn::TensorType::F32, &[1, 3, 640, 640], bytemuck_free_bytes(&pixels))?;
//     ctx.compute()?;
//     let bytes = ctx.output(0)?;                             // the output tensor's bytes
#![allow(dead_code)]

/// An error code of WASI-NN (1 invalid_argument, 2 invalid_encoding, 3 missing_memory, 4 busy,
/// 5 runtime_error, 6 unsupported_operation, 7 too_large, 8 not_found).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(pub i32);

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        let name = match self.0 {
            1 => "invalid argument",
            2 => "invalid encoding",
            3 => "missing memory",
            4 => "busy",
            5 => "runtime error",
            6 => "unsupported operation",
            7 => "too large",
            8 => "not found",
            _ => "unknown error",
        };
        write!(f, "WASI-NN: {} ({})", name, self.0)
    }
}

/// Tensor types as WasmEdge 0.15+ and Wasmtime number them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum TensorType {
    F16 = 0,
    F32 = 1,
    F64 = 2,
    U8 = 3,
    I32 = 4,
    I64 = 5,
}

pub const ENCODING_ONNX: u32 = 1;
pub const TARGET_CPU: u32 = 0;

#[repr(C)]
struct Tensor {
    dims: *const u32,
    dim_count: u32,
    kind: u8,
    padding: [u8; 3],
    data: *const u8,
    data_len: u32,
}

#[repr(C)]
struct Builder {
    data: *const u8,
    len: u32,
}

mod raw {
    #[link(wasm_import_module = "wasi_ephemeral_nn")]
    extern "C" {
        pub(super) fn load(builders: *const super::Builder, count: u32, encoding: u32, target: u32, graph: *mut u32) -> i32;
        pub(super) fn load_by_name(name: *const u8, len: u32, graph: *mut u32) -> i32;
        pub(super) fn init_execution_context(graph: u32, context: *mut u32) -> i32;
        pub(super) fn set_input(context: u32, index: u32, tensor: *const super::Tensor) -> i32;
        pub(super) fn compute(context: u32) -> i32;
        pub(super) fn get_output(context: u32, index: u32, buffer: *mut u8, size: u32, written: *mut u32) -> i32;
        pub(super) fn finalize_execution_context(context: u32) -> i32;
        pub(super) fn unload(graph: u32) -> i32;
    }
}

fn check(code: i32) -> Result<(), Error> {
    if code == 0 {
        Ok(())
    } else {
        Err(Error(code))
    }
}

/// A loaded model.
pub struct Graph(u32);

impl Graph {
    /// A model the host preloaded under this name.
    pub fn load_by_name(name: &str) -> Result<Graph, Error> {
        let mut graph = 0u32;
        check(unsafe { raw::load_by_name(name.as_ptr(), name.len() as u32, &mut graph) })?;
        Ok(Graph(graph))
    }

    /// An ONNX model from its bytes.
    pub fn load_onnx(model: &[u8]) -> Result<Graph, Error> {
        let builder = Builder { data: model.as_ptr(), len: model.len() as u32 };
        let mut graph = 0u32;
        check(unsafe { raw::load(&builder, 1, ENCODING_ONNX, TARGET_CPU, &mut graph) })?;
        Ok(Graph(graph))
    }

    pub fn context(&self) -> Result<Context, Error> {
        let mut context = 0u32;
        check(unsafe { raw::init_execution_context(self.0, &mut context) })?;
        Ok(Context(context))
    }
}

impl Drop for Graph {
    fn drop(&mut self) {
        unsafe { raw::unload(self.0) };
    }
}

/// An execution context of a graph: its inputs, a compute, its outputs.
pub struct Context(u32);

impl Context {
    pub fn set_input(&mut self, index: u32, kind: TensorType, dims: &[u32], data: &[u8]) -> Result<(), Error> {
        let tensor = Tensor {
            dims: dims.as_ptr(),
            dim_count: dims.len() as u32,
            kind: kind as u8,
            padding: [0; 3],
            data: data.as_ptr(),
            data_len: data.len() as u32,
        };
        check(unsafe { raw::set_input(self.0, index, &tensor) })
    }

    pub fn compute(&mut self) -> Result<(), Error> {
        check(unsafe { raw::compute(self.0) })
    }

    /// Output index as bytes (its size asked first, then copied).
    pub fn output(&self, index: u32) -> Result<Vec<u8>, Error> {
        let mut written = 0u32;
        let code = unsafe { raw::get_output(self.0, index, core::ptr::null_mut(), 0, &mut written) };
        if code != 0 && code != 7 {
            return Err(Error(code));
        }
        let mut bytes = vec![0u8; written as usize];
        check(unsafe { raw::get_output(self.0, index, bytes.as_mut_ptr(), written, &mut written) })?;
        bytes.truncate(written as usize);
        Ok(bytes)
    }

    /// Output index as f32 values.
    pub fn output_f32(&self, index: u32) -> Result<Vec<f32>, Error> {
        let bytes = self.output(index)?;
        Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        unsafe { raw::finalize_execution_context(self.0) };
    }
}

/// The bytes of f32 values (little-endian), for set_input.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
