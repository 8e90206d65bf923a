#!/bin/sh
# run.sh KILN WORKDIR c|rust - build the guests of tests/bindgen and the hello examples with
# `KILN build` into WORKDIR (the glue is generated at test time, offline), type-check the
# generated .d.ts with tsc when it is installed, and run bindgen.test.mjs on them.
# Exits 77 (CTest's skip) when the Rust toolchain for wasm32 is missing.
set -e
kiln=$1 work=$2 flavor=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ ! -f "$root/bindings/node/build/kiln.node" ] && [ -z "$KILN_NODE_ADDON" ]; then
  echo "run.sh: bindings/node/build/kiln.node is not built: run make" >&2
  exit 1
fi
mkdir -p "$work"
case $flavor in
  rust)
    if [ ! -x /usr/bin/rustc ] || [ ! -d /usr/lib/rustlib/wasm32-unknown-unknown ] || [ ! -d /usr/lib/rustlib/wasm32-wasi ] ||
       [ ! -d /usr/share/cargo/registry/wasm-bindgen-0.2.83 ]; then
      echo "SKIP: the Rust toolchain for wasm32 is missing (scripts/deps.sh installs rustc cargo libstd-rust-dev-wasm32 librust-wasm-bindgen-dev)"
      exit 77
    fi
    # One cargo target directory for both crates: wasm-bindgen is compiled once.
    "$kiln" build "$root/examples/hello-rust" -o "$work" --target-dir "$work/cargo-target"
    "$kiln" build "$here/rust" -o "$work" --target-dir "$work/cargo-target" --skip-unsupported
    # Without --skip-unsupported, an unsupported type is an error naming the function and type.
    if "$kiln" bindgen "$work/kiln_bindgen_types.wasm" -o "$work/refused" 2>"$work/refused.txt"; then
      echo "run.sh: kiln bindgen accepted Vec<JsValue>" >&2
      exit 1
    fi
    grep -q "function 'js_values': the result has the unsupported type Vec<JsValue>" "$work/refused.txt" || {
      cat "$work/refused.txt" >&2
      exit 1
    }
    cp "$here/rust/structs.check.mts" "$work/"
    # A wasm32-wasi build: functions of numbers bind; greet (strings by pointer) is refused,
    # with the reason.
    "$kiln" build --wasi "$here/rust-wasi" -o "$work" --target-dir "$work/cargo-target" --skip-unsupported \
      2>"$work/wasi-build.txt" || { cat "$work/wasi-build.txt" >&2; exit 1; }
    grep -q "function 'greet'.*passes strings, slices and other pairs by pointer (the C ABI)" "$work/wasi-build.txt" || {
      cat "$work/wasi-build.txt" >&2
      exit 1
    }
    ;;
  c)
    "$kiln" build "$root/examples/hello-c" -o "$work"
    "$kiln" build "$here/c" -o "$work" --name types -- -Wall -Wextra -Werror
    ;;
  *) echo "usage: run.sh KILN WORKDIR c|rust" >&2; exit 2 ;;
esac
tsc="$root/node_modules/typescript/bin/tsc"
if [ -f "$tsc" ]; then
  node "$tsc" --noEmit --strict --module nodenext --lib es2022 --types node --typeRoots "$root/node_modules/@types" \
    "$work"/*.d.ts "$work"/*.d.mts $(ls "$work"/*.check.mts 2>/dev/null)
fi
KILN_BIN=$kiln KILN_BINDGEN_DIR=$work KILN_BINDGEN_FLAVOR=$flavor exec node --expose-gc --test "$here/bindgen.test.mjs"
