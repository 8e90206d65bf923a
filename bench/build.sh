#!/usr/bin/env bash
# build.sh - build what `make bench` runs, out of tree (default build-bench/):
#
#   bench/build.sh [BUILD_DIR]
#
#   BUILD_DIR/native/NAME      bench/kernels/NAME.c with gcc -O2 (its timing main())
#   BUILD/wasm/NAME.wasm       the same source with clang-19 for wasm32, no imports allowed
#   BUILD/run_kiln, BUILD/micro   the kiln runner and the micro-benchmarks (libkiln.a)
#   BUILD/gen/big.c, big.wasm  the ~900 KB module of bench/gen_module.py, for micro
#
# Needs build/libkiln.a (`make build`; KILN_LIB overrides the path). Kernels and the big
# module are rebuilt only when their sources changed; the two programs always (libkiln.a
# may have). CC_NATIVE (gcc), CLANG (clang-19) and WASM_OBJDUMP (wasm-objdump) override
# the tools.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/build-bench}"
LIB="${KILN_LIB:-$ROOT/build/libkiln.a}"
CC_NATIVE="${CC_NATIVE:-gcc}"
CLANG="${CLANG:-clang-19}"
WASM_OBJDUMP="${WASM_OBJDUMP:-wasm-objdump}"
NATIVE_FLAGS=(-O2 -Wall -Wextra)
WASI_FLAGS=(--target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor -Wall -Wextra)
# Fallback when wasi-libc would bring in imports: no libc at all, memset/memcpy/memmove
# from bench/support/mem.c.
BARE_FLAGS=(--target=wasm32 -nostdlib -Wl,--no-entry -O2 -Wall -Wextra)

for tool in "$CC_NATIVE" "$CLANG" "$WASM_OBJDUMP" python3; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool not found (scripts/deps.sh installs it)" >&2; exit 1; }
done
[ -f "$LIB" ] || { echo "build.sh: $LIB not found: run 'make build' first" >&2; exit 1; }

mkdir -p "$OUT/native" "$OUT/wasm" "$OUT/gen"

# newer TARGET SOURCE...: true if TARGET is missing or older than any SOURCE
stale() {
  local target="$1"; shift
  [ -e "$target" ] || return 0
  local source
  for source in "$@"; do [ "$source" -nt "$target" ] && return 0; done
  return 1
}

# the number of imports of a .wasm file
import_count() {
  "$WASM_OBJDUMP" -x -j Import "$1" 2>/dev/null | grep -c '^ - ' || true
}

build_kernel() {
  local source="$1" name
  name="$(basename "$source" .c)"
  local deps=("$source" "$ROOT/bench/kernels/kernel.h" "$ROOT/bench/build.sh")
  if stale "$OUT/native/$name" "${deps[@]}"; then
    echo "  native  $name"
    "$CC_NATIVE" "${NATIVE_FLAGS[@]}" -o "$OUT/native/$name" "$source" -lm
  fi
  local wasm="$OUT/wasm/$name.wasm"
  if stale "$wasm" "${deps[@]}" "$ROOT/bench/support/mem.c"; then
    echo "  wasm    $name"
    "$CLANG" "${WASI_FLAGS[@]}" -o "$wasm.tmp" "$source"
    if [ "$(import_count "$wasm.tmp")" != 0 ]; then
      echo "  wasm    $name: wasi-libc brought in imports; rebuilding without libc"
      "$CLANG" "${BARE_FLAGS[@]}" -o "$wasm.tmp" "$source" "$ROOT/bench/support/mem.c"
    fi
    if [ "$(import_count "$wasm.tmp")" != 0 ]; then
      echo "build.sh: $wasm still has imports:" >&2
      "$WASM_OBJDUMP" -x -j Import "$wasm.tmp" >&2
      rm -f "$wasm.tmp"
      exit 1
    fi
    mv "$wasm.tmp" "$wasm"
  fi
}

echo "== building benchmarks in $OUT"
for source in "$ROOT"/bench/kernels/*.c; do
  build_kernel "$source"
done

echo "  run_kiln, micro (against $LIB)"
"$CC_NATIVE" -O2 -Wall -Wextra -I"$ROOT/include" -o "$OUT/run_kiln" "$ROOT/bench/run_kiln.c" "$LIB" -lm -lpthread
"$CC_NATIVE" -O2 -Wall -Wextra -I"$ROOT/include" -o "$OUT/micro" "$ROOT/bench/micro.c" "$LIB" -lm -lpthread

if stale "$OUT/gen/big.wasm" "$ROOT/bench/gen_module.py"; then
  echo "  gen/big.wasm (bench/gen_module.py; clang takes a while)"
  python3 "$ROOT/bench/gen_module.py" > "$OUT/gen/big.c"
  "$CLANG" "${BARE_FLAGS[@]}" -w -o "$OUT/gen/big.wasm.tmp" "$OUT/gen/big.c"
  mv "$OUT/gen/big.wasm.tmp" "$OUT/gen/big.wasm"
fi
echo "== built: $(ls "$OUT/wasm" | wc -l) kernels, big.wasm $(wc -c < "$OUT/gen/big.wasm") bytes"
