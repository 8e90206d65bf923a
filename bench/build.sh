#!/usr/bin/env bash
# build.sh - build what `make bench` runs, out of tree (default build-bench/):
#
#   bench/build.sh [BUILD_DIR]
#
#   BUILD/native-gcc/NAME, BUILD/native-clang/NAME
#                              bench/kernels/NAME.c with gcc -O2 and clang-19 -O2
#   BUILD/wasm/NAME.wasm       the same source as a WASI command: clang-19 -O2, wasi-libc
#   BUILD/wasm/NAME-simd.wasm  the same with -msimd128, for kernels that #define BENCH_SIMD
#   BUILD/native-gcc/hello, BUILD/wasm/hello.wasm
#                              tests/programs/hello.c, for the start-up figures
#   BUILD/kiln/kiln            the kiln command: a Release build of this tree (CMake)
#   BUILD/kiln-nochecks/kiln   the same built with -DKILN_BENCH_NO_CHECKS: no interrupt or
#                              fuel checks, to measure what they cost (never installed)
#   BUILD/micro                bench/micro.c against BUILD/kiln/libkiln.a
#   BUILD/gen/big.c, big.wasm  the ~900 KB module of bench/gen_module.py, for micro
#
# Never touches build/ (the tree `make` and `make test` use). Kernels and the big module
# are rebuilt only when their sources changed; CMake decides for the two kiln trees.
# CC_NATIVE (gcc), CLANG (clang-19) and CMAKE (cmake) override the tools.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/build-bench}"
CC_NATIVE="${CC_NATIVE:-gcc}"
CLANG="${CLANG:-clang-19}"
CMAKE="${CMAKE:-cmake}"
JOBS="$(nproc 2>/dev/null || echo 2)"
NATIVE_FLAGS=(-O2 -Wall -Wextra)
WASI_FLAGS=(--target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra)
# The big module of micro.c: no libc, no entry point, every function reachable from exports.
BARE_FLAGS=(--target=wasm32 -nostdlib -Wl,--no-entry -O2)

for tool in "$CC_NATIVE" "$CLANG" "$CMAKE" python3; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool not found (scripts/deps.sh installs it)" >&2; exit 1; }
done

mkdir -p "$OUT/native-gcc" "$OUT/native-clang" "$OUT/wasm" "$OUT/gen"

# stale TARGET SOURCE...: true if TARGET is missing or older than any SOURCE
stale() {
  local target="$1"; shift
  [ -e "$target" ] || return 0
  local source
  for source in "$@"; do [ "$source" -nt "$target" ] && return 0; done
  return 1
}

# build_program SOURCE NAME DEPS...: the native builds and the WASI builds of one program
build_program() {
  local source="$1" name="$2"; shift 2
  local deps=("$source" "$ROOT/bench/build.sh" "$@")
  if stale "$OUT/native-gcc/$name" "${deps[@]}"; then
    echo "  gcc     $name"
    "$CC_NATIVE" "${NATIVE_FLAGS[@]}" -o "$OUT/native-gcc/$name" "$source" -lm
  fi
  if stale "$OUT/native-clang/$name" "${deps[@]}"; then
    echo "  clang   $name"
    "$CLANG" "${NATIVE_FLAGS[@]}" -o "$OUT/native-clang/$name" "$source" -lm
  fi
  if stale "$OUT/wasm/$name.wasm" "${deps[@]}"; then
    echo "  wasm    $name"
    "$CLANG" "${WASI_FLAGS[@]}" -o "$OUT/wasm/$name.wasm" "$source"
  fi
  if grep -q '^#define BENCH_SIMD 1' "$source" && stale "$OUT/wasm/$name-simd.wasm" "${deps[@]}"; then
    echo "  wasm    $name-simd (-msimd128)"
    "$CLANG" "${WASI_FLAGS[@]}" -msimd128 -o "$OUT/wasm/$name-simd.wasm" "$source"
  fi
}

echo "== building benchmarks in $OUT"
for source in "$ROOT"/bench/kernels/*.c; do
  build_program "$source" "$(basename "$source" .c)" "$ROOT/bench/kernels/kernel.h"
done
build_program "$ROOT/tests/programs/hello.c" hello

# kiln itself, twice: as shipped, and without the interrupt and fuel checks
configure_kiln() {
  local dir="$1"; shift
  "$CMAKE" -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DKILN_TESTS=OFF -DKILN_NODE=OFF "$@" >/dev/null
  "$CMAKE" --build "$dir" -j "$JOBS" --target kiln_cli >/dev/null
}
echo "  kiln (Release) and kiln-nochecks (-DKILN_BENCH_NO_CHECKS)"
configure_kiln "$OUT/kiln"
configure_kiln "$OUT/kiln-nochecks" -DCMAKE_C_FLAGS=-DKILN_BENCH_NO_CHECKS

echo "  micro (against $OUT/kiln/libkiln.a)"
"$CC_NATIVE" -O2 -Wall -Wextra -I"$ROOT/include" -o "$OUT/micro" "$ROOT/bench/micro.c" \
  "$OUT/kiln/libkiln.a" -lm -lpthread

if stale "$OUT/gen/big.wasm" "$ROOT/bench/gen_module.py"; then
  echo "  gen/big.wasm (bench/gen_module.py; clang takes a while)"
  python3 "$ROOT/bench/gen_module.py" > "$OUT/gen/big.c"
  "$CLANG" "${BARE_FLAGS[@]}" -w -o "$OUT/gen/big.wasm.tmp" "$OUT/gen/big.c"
  mv "$OUT/gen/big.wasm.tmp" "$OUT/gen/big.wasm"
fi
echo "== built: $(ls "$OUT/wasm" | wc -l) wasm programs, big.wasm $(wc -c < "$OUT/gen/big.wasm") bytes"
