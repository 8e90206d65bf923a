#!/usr/bin/env bash
# deps.sh - install what building and testing kiln needs, from Debian's packages (and the npm
# registry once there is a package.json). Idempotent; does nothing slow when all is present.
#
#   scripts/deps.sh            what make, make test and make demo need
#   scripts/deps.sh --bench    that, and what make bench needs besides (gnuplot for its chart)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian package, and a command that shows it is there even if installed another way ("-" = none).
required=(
  "cmake cmake"                   # build
  "make make"                     # build
  "gcc gcc"                       # build
  "clang clang"                   # build, fuzzing
  "libcjson-dev -"                # the spec runner's JSON parsing
  "wabt wat2wasm"                 # test tooling (wat2wasm, wast2json, wasm-objdump)
  "python3 python3"               # make bench's harness (bench/bench.py, bench/gen_module.py)
  "clang-19 clang-19"             # C test programs -> wasm32-wasi, fuzzing
  "lld-19 wasm-ld-19"             # linker for wasm32-wasi
  "libclang-rt-19-dev -"          # sanitizer and libFuzzer runtimes
  "libclang-rt-19-dev-wasm32 -"   # compiler-rt builtins for wasm32
  "wasi-libc -"                   # libc for wasm32-wasi
  "rustc -"                       # Rust guests (kiln build, tests/bindgen): Debian's rustc,
  "cargo -"                       #   which has the wasm32 standard library (a rustup one may not)
  "libstd-rust-dev-wasm32 -"      # the Rust standard library for wasm32-unknown-unknown
  "librust-wasm-bindgen-dev -"    # wasm-bindgen 0.2.83 for cargo, offline (/usr/share/cargo/registry)
  "librust-sha2-dev -"            # examples/crates: crates.io crates as Debian packages them,
  "librust-miniz-oxide-dev -"     #   compiled to wasm (SHA-256, DEFLATE, regular expressions,
  "librust-regex-dev -"           #   JSON, Markdown); regex's default features need
  "librust-regex+default-dev -"   #   aho-corasick, which this one brings
  "librust-serde-json-dev -"
  "librust-pulldown-cmark-dev -"
  "librust-png-dev -"             # examples/ocr: the Rust guest decodes PNG and JPEG images
  "librust-jpeg-decoder-dev -"
  "fonts-dejavu-core -"           # examples/ocr's tests render text in DejaVu Sans
  "llvm-19-dev llvm-config-19"    # the compiled tier (src/llvm/): LLVM's C API, code generation
  "libzstd-dev -"                 #   and, for a static link of LLVM into the CLI, zstd,
  "zlib1g-dev -"                  #   zlib and the C++ runtime (g++)
  "g++ -"
  "binaryen wasm-opt"             # the differential fuzz target's module generator (wasm-opt -ttf)
)
case "${1:-}" in
  --bench) required+=("gnuplot-nox gnuplot") ;;  # make bench's chart (SVG and PNG)
  "") ;;
  *) echo "usage: scripts/deps.sh [--bench]" >&2; exit 2 ;;
esac

installed=$(dpkg-query -W -f='${Package} ${Status}\n' 2>/dev/null | awk '$NF == "installed" {print $1}')
missing=()
for entry in "${required[@]}"; do
  read -r package command <<<"$entry"
  if grep -qFx "$package" <<<"$installed"; then continue; fi
  if [ "$command" != "-" ] && command -v "$command" >/dev/null 2>&1; then continue; fi
  missing+=("$package")
done

report=()
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "deps: missing ${missing[*]}, and not root nor sudo to install them" >&2
    exit 1
  fi
  log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${sudo[@]}" apt-get update -q &&
         "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "deps: apt-get failed to install ${missing[*]}" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  report+=("installed ${missing[*]}")
fi

# Node.js 20+ and npm are checked, not installed: Debian 12's nodejs is older than 20.
if ! command -v node >/dev/null 2>&1; then
  echo "deps: warning: node not found; the Node.js addon will need Node.js 20 or newer" >&2
elif [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "deps: warning: node $(node --version) is older than the Node.js 20 the addon needs" >&2
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "deps: warning: npm not found" >&2
fi

# npm packages, once the project has a package.json (from the npm registry only).
if [ -f package.json ] && command -v npm >/dev/null 2>&1; then
  stamp=node_modules/.kiln-deps-stamp
  if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] ||
     { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
    # onnxruntime-node (WASI-NN's tests: ONNX Runtime's library, and the reference it is
    # compared with) would download more from elsewhere in its install script: skipped, the
    # npm package has what the tests use.
    ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund >/dev/null
    mkdir -p node_modules && touch "$stamp"
    report+=("ran npm install")
  fi
fi

if [ ${#report[@]} -eq 0 ]; then
  echo "deps: all present"
else
  (IFS=';'; echo "deps: ${report[*]}")
fi
