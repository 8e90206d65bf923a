#!/bin/sh
# run.sh BUILD_DIR WORK - the npm package as a user gets it: `make package`'s tarball packed
# from BUILD_DIR's binaries, installed into a fresh project outside the repository with npm
# offline and no registry reachable, then:
#   - `npx kiln build` of a Rust and a C guest, their glue called from CommonJS, an ES module
#     and TypeScript (tsc --strict, lib es2022 and @types/node only, no DOM);
#   - `npx kiln run` of a WASI program with a granted directory, and tests/nn's WASI-NN
#     programs run by the package's kiln (its Node.js parts use the checkout's addon);
#   - the same again after removing the prebuilds: the install script builds from source;
#   - without a C compiler and a prebuild, the install fails naming what is missing.
# Exits 77 (CTest's skip) when npm or clang-19 for wasm32 is missing.
set -eu
build=$(cd "$1" && pwd) work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
command -v npm >/dev/null || { echo "SKIP: npm not found"; exit 77; }
command -v clang-19 >/dev/null || { echo "SKIP: clang-19 not found (scripts/deps.sh installs it)"; exit 77; }
unset KILN_NODE_ADDON KILN_CLI KILN_INCLUDE KILN_TIER KILN_BUILD_FROM_SOURCE
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
# nothing may come from the network: npm works from its cache and these tarballs only
export npm_config_registry=http://127.0.0.1:9/ npm_config_audit=false npm_config_fund=false
export npm_config_update_notifier=false KILN_CACHE_DIR="$work/kiln-cache"

echo "== make package"
node "$root/scripts/package.mjs" --build-dir "$build" --out "$work/package"
tarball=$(ls "$work"/package/kiln-*.tgz)

# The project: a temporary directory outside the repository, so nothing resolves into it.
project=$(mktemp -d "${TMPDIR:-/tmp}/kiln-package-test.XXXXXX")
trap 'rm -rf "$project"' EXIT
cp "$here"/project/* "$project/"
cp -r "$root/examples/hello-rust" "$project/hello-rust"
cp -r "$root/examples/hello-c" "$project/hello-c"
rm -rf "$project/hello-rust/target"
cd "$project"
npm init -y >/dev/null
# TypeScript and @types/node for the TypeScript check, packed from the workspace's copies.
mkdir -p "$work/dev"
for p in typescript @types/node undici-types; do
  (cd "$work/dev" && npm pack --silent "$root/node_modules/$p" >/dev/null)
done

echo "== npm install --offline $(basename "$tarball")"
npm install --offline --foreground-scripts "$tarball" "$work"/dev/*.tgz 2>&1 | tee "$work/install.log"
grep -q "kiln: using the prebuilt addon and CLI for linux-x64-glibc" "$work/install.log"
# bin/kiln is the native CLI itself, not the script that runs it
head -c 4 node_modules/kiln/bin/kiln | grep -q ELF
# beside the addon, the environment of its finalizers (bindings/node/gc/gc.c)
test -f node_modules/kiln/prebuilds/linux-x64-glibc/kiln_gc.node

check() { # $1: what is expected of kiln.tiers
  echo "== npx kiln --version: $(npx kiln --version)"
  echo "== npx kiln build (Rust, C)"
  rm -rf rust c typed.mjs
  npx kiln build ./hello-rust -o rust --target-dir "$work/cargo-target"
  npx kiln build ./hello-c -o c
  echo "== npx kiln run"
  mkdir -p data && echo "granted" >data/in.txt
  clang-19 --target=wasm32-wasi --sysroot=/usr -O2 app.c -o app.wasm
  npx kiln run --dir ./data::/data app.wasm one two >run.txt
  printf 'arg one\narg two\nread granted\n' | diff - run.txt
  if npx kiln run app.wasm 2>run-err.txt; then echo "kiln run without --dir read the file" >&2; exit 1; fi
  echo "== CommonJS, ES module"
  node use.cjs | tee cjs.txt
  grep -q "cjs: ok (tiers $1)" cjs.txt
  node use.mjs
  echo "== TypeScript (tsc --strict)"
  node node_modules/typescript/bin/tsc -p tsconfig.json
  node typed.mjs
  # WASI-NN programs (a static kiln runs them through its twin kiln-dynamic)
  if [ -d "$root/node_modules/onnxruntime-node" ]; then
    echo "== kiln run --nn-preload (tests/nn, its CLI runs with the package's kiln)"
    KILN_BIN="$project/node_modules/kiln/bin/kiln" node --test "$root/tests/nn/nn.test.mjs"
  fi
}
check "interp, compiled, auto"

echo "== the source build: prebuilds removed, npm rebuild kiln"
rm -rf node_modules/kiln/prebuilds
npm rebuild kiln --offline --foreground-scripts 2>&1 | tee "$work/rebuild.log"
grep -q "kiln: no prebuilt binaries for linux-x64-glibc" "$work/rebuild.log"
grep -q "kiln: built the addon and CLI from source" "$work/rebuild.log"
head -c 4 node_modules/kiln/bin/kiln | grep -q ELF
test -f node_modules/kiln/build/kiln_gc.node
test -x node_modules/kiln/bin/kiln-dynamic # (the static CLI's twin, for WASI-NN)
check "interp"

echo "== no prebuild and no C compiler: the install names what is missing"
mkdir -p "$work/nocc"
ln -sf "$(command -v node)" "$work/nocc/node"
if (cd node_modules/kiln && rm -rf build && PATH="$work/nocc" CC= node install/install.js) >"$work/nocc.log" 2>&1; then
  echo "the install succeeded without a prebuild or a compiler" >&2
  exit 1
fi
cat "$work/nocc.log"
grep -q "no prebuilt binaries for linux-x64-glibc.*no C compiler found.*apt-get install gcc" "$work/nocc.log"
# and then require() says how to get one
if node -e "require('kiln')" 2>"$work/norequire.log"; then echo "require('kiln') worked without an addon" >&2; exit 1; fi
grep -q "no native addon for linux-x64.*npm rebuild kiln" "$work/norequire.log"
echo "package: ok"
