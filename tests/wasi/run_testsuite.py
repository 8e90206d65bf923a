#!/usr/bin/env python3
"""Runs the WASI preview1 conformance suite (shared/wasi-testsuite) against kiln or any CLI runtime.

Implements shared/wasi-testsuite/SPECIFICATION.md: every tests/*/wasm32-wasip1/*.wasm is a test
case, its optional .json beside it a legacy or operation-based specification. Each run gets a
fresh writable copy of the test's `root` directory (shared/ stays untouched), with its *.cleanup
artifacts removed, preopened as `/`; the environment is exactly the spec's, the arguments follow
the module. As in the upstream runner, stdout/stderr are checked only when the spec names them:
a legacy "stdout"/"stderr" must equal the whole stream, an operation's `read` must be the next
bytes of the stream.

    tests/wasi/run_testsuite.py --kiln build/kiln                  # all 72
    tests/wasi/run_testsuite.py --kiln build/kiln -k path_open -v  # a few, with their output
    tests/wasi/run_testsuite.py --runtime 'wasmtime run'           # any wasmtime-style CLI
"""

import argparse
import concurrent.futures
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
from runtime import add_runtime_options, runtime_command

SUITES = ("c", "rust", "assemblyscript")
WASI_VERSION = "wasm32-wasip1"
OUTPUT_PREVIEW = 300  # characters of a stream shown in a failure message


def default_shared_dir():
    if os.environ.get("KILN_SHARED"):
        return Path(os.environ["KILN_SHARED"])
    return Path(__file__).resolve().parents[3] / "shared"


def load_spec(wasm):
    """The test's specification as a list of operations (dicts), legacy specs converted."""
    spec_path = wasm.with_suffix(".json")
    spec = json.loads(spec_path.read_text()) if spec_path.exists() else {}
    if "operations" in spec:
        for key in ("args", "root", "env", "exit_code", "stdout", "stderr"):
            if key in spec:
                raise ValueError(f"{spec_path.name}: mixes legacy key {key!r} with operations")
        ops = [dict(op) for op in spec["operations"]]
    else:
        run = {"type": "run", "args": spec.get("args", []), "env": spec.get("env", {}),
               "root": spec.get("root")}
        ops = [run]
        for stream in ("stdout", "stderr"):
            if spec.get(stream) is not None:
                ops.append({"type": "read", "id": stream, "payload": spec[stream], "whole": True})
        ops.append({"type": "wait", "exit_code": spec.get("exit_code", 0)})
    if not ops:
        ops = [{"type": "run"}, {"type": "wait"}]
    unsupported = {op.get("type") for op in ops} - {"run", "wait", "read", "write"}
    if unsupported:
        raise ValueError(f"unsupported operations {sorted(unsupported)} (no network proposals)")
    return ops


def writable_copy(src, dst):
    """Copy a test's root directory (symlinks as symlinks), make it writable, drop *.cleanup."""
    shutil.copytree(src, dst, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(dst):
        for name in dirnames + filenames + [""]:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR | stat.S_IRUSR |
                         (stat.S_IXUSR if os.path.isdir(path) else 0))
    for path in sorted(Path(dst).glob("**/*.cleanup"), reverse=True):
        if path.is_symlink():
            continue
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def preview(data):
    text = data.decode("utf-8", "backslashreplace")
    if len(text) > OUTPUT_PREVIEW:
        text = text[:OUTPUT_PREVIEW] + f"...({len(text)} chars)"
    return repr(text)


def run_test(wasm, runtime, timeout):
    """Returns (passed, reason, details) for one test."""
    try:
        ops = load_spec(wasm)
    except (ValueError, json.JSONDecodeError) as e:
        return False, f"bad spec: {e}", ""
    failures, details = [], []
    result = None
    streams = {}
    pending_run = None
    stdin_data = b""
    with tempfile.TemporaryDirectory(prefix="kiln-wasi-") as tmp:
        def start(run):
            argv = list(runtime)
            for key, value in run.get("env", {}).items():
                argv += ["--env", f"{key}={value}"]
            if run.get("root") is not None:
                root_copy = tempfile.mkdtemp(prefix="root-", dir=tmp)
                os.rmdir(root_copy)
                writable_copy(wasm.parent / run["root"], root_copy)
                argv += ["--dir", f"{root_copy}::/"]
            argv += [str(wasm)] + [str(a) for a in run.get("args", [])]
            return argv

        def finish():
            nonlocal result, streams
            argv = start(pending_run)
            details.append("$ " + shlex.join(argv))
            try:
                proc = subprocess.run(argv, input=stdin_data, capture_output=True, timeout=timeout)
                result = proc.returncode
                streams = {"stdout": [proc.stdout, 0], "stderr": [proc.stderr, 0]}
            except subprocess.TimeoutExpired as e:
                result = "timeout"
                streams = {"stdout": [e.stdout or b"", 0], "stderr": [e.stderr or b"", 0]}
            except OSError as e:
                result = f"could not start: {e}"
                streams = {"stdout": [b"", 0], "stderr": [b"", 0]}
            details.append(f"stdout: {preview(streams['stdout'][0])}")
            details.append(f"stderr: {preview(streams['stderr'][0])}")

        # A run's output is only known once it has ended, so reads and the wait are checked
        # after the process exits; writes before the first read become its stdin.
        checks = []
        for op in ops:
            kind = op["type"]
            if kind == "run":
                pending_run, stdin_data, checks = op, b"", []
            elif kind == "write":
                stdin_data += op.get("payload", "").encode()
            elif kind in ("read", "wait"):
                checks.append(op)
                if kind == "wait":
                    finish()
                    for check in checks:
                        failures += check_op(check, result, streams)
                    pending_run = None
        if pending_run is not None:
            failures.append("spec has a run without a wait")
    if failures:
        return False, "; ".join(failures), "\n".join(details)
    return True, "", "\n".join(details)


def check_op(op, result, streams):
    if op["type"] == "wait":
        expected = op.get("exit_code", 0)
        if result != expected:
            return [f"exit code: expected {expected}, got {result}"]
        return []
    stream = op.get("id", "stdout")
    data, pos = streams[stream]
    expected = op.get("payload", "").encode()
    got = data[pos:] if op.get("whole") else data[pos:pos + len(expected)]
    streams[stream][1] = pos + len(got)
    if got != expected:
        return [f"{stream}: expected {preview(expected)}, got {preview(got)}"]
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_runtime_options(parser)
    parser.add_argument("--shared", type=Path, default=default_shared_dir(),
                        help="the shared/ folder (default: $KILN_SHARED or ../shared)")
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="run only tests whose suite/name contains this (repeatable)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="parallel tests (default 2)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds per test (default 30)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="show command and output of failed tests (-vv: of all)")
    parser.add_argument("--skip-code", type=int, default=0,
                        help="exit status when the suite is absent (default 0; CTest uses 77)")
    parser.add_argument("--list", action="store_true", help="list the tests and exit")
    args = parser.parse_args()

    suite_root = args.shared / "wasi-testsuite" / "tests"
    if not suite_root.is_dir():
        print(f"SKIP: no WASI test suite at {suite_root}")
        return args.skip_code
    tests = []
    for suite in SUITES:
        for wasm in sorted((suite_root / suite / WASI_VERSION).glob("*.wasm")):
            name = f"{suite}/{wasm.stem}"
            if not args.patterns or any(p in name for p in args.patterns):
                tests.append((name, wasm))
    if args.list:
        print("\n".join(name for name, _ in tests))
        return 0
    runtime = runtime_command(parser, args)
    if not tests:
        print("error: no test matches", file=sys.stderr)
        return 2

    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_test, wasm, runtime, args.timeout) for _, wasm in tests]
        for (name, _), future in zip(tests, futures):
            ok, reason, details = future.result()
            if ok:
                passed += 1
                print(f"PASS {name}")
            else:
                failed += 1
                print(f"FAIL {name}: {reason}")
            if details and (args.verbose and not ok or args.verbose > 1):
                print("    " + details.replace("\n", "\n    "))
            sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
