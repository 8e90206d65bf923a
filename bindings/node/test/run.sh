#!/bin/sh
# run.sh - the tests of the Node.js package (node:test): `bindings/node/test/run.sh` from
# anywhere. Needs bindings/node/build/kiln.node (make), wat2wasm and clang-19 (they build
# the fixtures into a temporary directory). async.test.mjs measures event-loop lag and
# timeouts, so it runs alone after the others; `run.sh FILE...` runs just those files.
set -e
cd "$(dirname "$0")"
if [ ! -f ../build/kiln.node ] && [ -z "$KILN_NODE_ADDON" ]; then
  echo "run.sh: bindings/node/build/kiln.node is not built: run make" >&2
  exit 1
fi
if [ $# -gt 0 ]; then
  exec node --test "$@"
fi
status=0
node --test api.test.mjs facade.test.mjs package.test.mjs safety.test.mjs tier.test.mjs types.test.mjs wasi.test.mjs workers.test.mjs || status=1
node --test async.test.mjs || status=1
exit $status
