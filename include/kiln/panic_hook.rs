// panic_hook.rs - linked by `kiln build` into every Rust guest (compiled with the guest's own
// rustc to an object, passed to the linker; the guest's sources are not touched): a panic
// hook that hands the panic's message and location to the host through the import
// kiln.panic(ptr, len), so that the JavaScript error (or `kiln run --invoke`) says what
// panicked and where. The glue calls __kiln_install_panic_hook once per instance, before the
// guest's #[wasm_bindgen(start)] function, so a hook the guest sets itself takes precedence.

#[link(wasm_import_module = "kiln")]
extern "C" {
    #[link_name = "panic"]
    fn kiln_panic(ptr: *const u8, len: usize);
}

#[no_mangle]
pub extern "C" fn __kiln_install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        unsafe { kiln_panic(message.as_ptr(), message.len()) }
    }));
}
