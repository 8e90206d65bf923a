#!/usr/bin/env bash
# diff_fuzz.sh - modules for the differential fuzzing of the compiled tier (fuzz/fuzz_diff.c,
# tests/diff/difftest.c), made by binaryen's wasm-opt -ttf from random bytes: always valid,
# with the WebAssembly 2.0 features kiln has (reference types only now and then: binaryen
# 108 adds anyref with them, which kiln rejects).
#
#   scripts/diff_fuzz.sh seeds DIR [N]                 write N modules (default 200) to DIR
#   scripts/diff_fuzz.sh run DIFFTEST SECONDS OUTDIR   for SECONDS, make batches of modules and
#                                                      run them through DIFFTEST (build/difftest);
#                                                      modules that mismatch are kept in OUTDIR
set -euo pipefail

command -v wasm-opt >/dev/null || { echo "diff_fuzz.sh needs wasm-opt (Debian: binaryen)" >&2; exit 2; }

# make_module OUT [--denan]: one wasm-opt -ttf module from random bytes, features and passes
# picked at random; with --denan, NaNs are turned into 0 wherever they would appear. binaryen's
# --denan leaves the NaN lanes of v128 values (v128.const, f32x4.mul of NaN lanes, whose
# payload the spec leaves open), so modules made with it have no SIMD.
make_module() {
  local out=$1 tmp
  tmp=$(mktemp)
  head -c $((RANDOM % 30000 + 1000)) /dev/urandom >"$tmp"
  local flags=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
               --enable-mutable-globals)
  [ "${2:-}" = --denan ] || flags+=(--enable-simd)
  ((RANDOM % 2)) && flags+=(--enable-multivalue)
  ((RANDOM % 8 == 0)) && flags+=(--enable-reference-types)
  ((RANDOM % 3 == 0)) && flags+=(--fuzz-passes)     # optimised shapes too
  ((RANDOM % 4 == 0)) && flags+=(--no-fuzz-oob)     # fewer traps, more computation
  [ "${2:-}" = --denan ] && flags+=(--denan)
  wasm-opt -ttf "$tmp" "${flags[@]}" -o "$out" >/dev/null 2>&1 || rm -f "$out"
  rm -f "$tmp"
}

case "${1:-}" in
  seeds)
    dir=${2:?DIR}; n=${3:-200}
    mkdir -p "$dir"
    for i in $(seq 1 "$n"); do make_module "$dir/ttf-$$-$i.wasm"; done
    ;;
  run)
    difftest=${2:?DIFFTEST}; seconds=${3:?SECONDS}; outdir=${4:?OUTDIR}
    mkdir -p "$outdir"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    end=$((SECONDS + seconds)); batches=0; modules=0
    while ((SECONDS < end)); do
      rm -f "$work"/*.wasm
      # every third batch has no NaNs and is compared bit for bit (DIFF_STRICT_NAN, see
      # fuzz/diff_common.h); the others let through the NaN differences the spec allows
      strict=0; denan=
      ((batches % 3 == 2)) && strict=1 && denan=--denan
      for i in $(seq 1 50); do make_module "$work/m$i.wasm" $denan; done
      # a batch gets 10 minutes; a crash, abort or hang keeps the whole batch (which module
      # did it is not known) rather than losing it
      status=0
      DIFF_STRICT_NAN=$strict timeout 600 "$difftest" -q "$work" >"$work/log" 2>&1 || status=$?
      if ((status != 0)); then
        { grep MISMATCH "$work/log" || true; } | while IFS= read -r line; do
          file=${line%%:*}
          keep="$outdir/mismatch-$(date +%s)-$RANDOM.wasm"
          cp "$file" "$keep"
          echo "$keep (DIFF_STRICT_NAN=$strict): ${line#*: }" | tee -a "$outdir/mismatches.txt"
        done
        grep -v -e MISMATCH -e '^difftest:' "$work/log" >>"$outdir/errors.txt" || true
        if ((status != 1)) || ! grep -q '^difftest:' "$work/log"; then
          keep="$outdir/crash-$(date +%s)-$RANDOM"
          mkdir -p "$keep"
          cp "$work"/*.wasm "$work/log" "$keep/"
          echo "$keep: difftest exited with status $status (a crash, an abort or a hang: the batch is kept)" |
            tee -a "$outdir/mismatches.txt"
        fi
      fi
      batches=$((batches + 1)); modules=$((modules + 50))
      tail -1 "$work/log" >>"$outdir/batches.txt"
    done
    echo "diff_fuzz.sh: $modules modules in $batches batches; mismatches in $outdir/mismatches.txt"
    ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
