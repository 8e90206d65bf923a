// guest.rs - a Rust guest of WASI-NN through include/kiln/wasi_nn.rs (nn.test.mjs builds it
// with rustc --target wasm32-wasi): runs the preloaded model "add" on [[1, 2, 3], [4, 5, 6]]
// and prints the output; then its errors, as the module reports them.
#[path = "../../include/kiln/wasi_nn.rs"]
mod wasi_nn;

fn main() {
    let graph = wasi_nn::Graph::load_by_name("add").expect("load_by_name");
    let mut context = graph.context().expect("context");
    let x = wasi_nn::f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    context.set_input(0, wasi_nn::TensorType::F32, &[2, 3], &x).expect("set_input");
    context.compute().expect("compute");
    println!("{:?}", context.output_f32(0).expect("output"));
    let wrong = context.set_input(0, wasi_nn::TensorType::U8, &[2, 3], &[0u8; 6]);
    println!("{}", wrong.unwrap_err());
    match wasi_nn::Graph::load_by_name("missing") {
        Ok(_) => println!("loaded?"),
        Err(error) => println!("{}", error),
    }
}
