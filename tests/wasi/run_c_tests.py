#!/usr/bin/env python3
"""Runs kiln's own WASI test programs (tests/wasi/c/*.c, built to wasm32-wasi) and checks that
none of them touched anything outside its preopened directories.

Each program runs in a fresh tree:

    TMP/parent_sentinel.txt
    TMP/box/next_sentinel.txt  TMP/box/empty_outside_dir/  TMP/box/cwd/ (kiln's working dir)
    TMP/box/root/   preopened as "/"   (for hostile: files and symlinks leading out)
    TMP/box/ro/     preopened read-only as "/ro" (for readonly)

A program passes when its exit status and output are as expected (by default: status 0 and a
line "NAME: all passed") and, afterwards, everything outside TMP/box/root is as it was (names,
types, sizes, mtimes, contents, link targets) and no file carrying the run's escape token
exists in TMP, /, /tmp or /etc.

    tests/wasi/run_c_tests.py --kiln build/kiln --bindir build/tests/wasi/c
    KILN_WASI_NO_OPENAT2=1 tests/wasi/run_c_tests.py ...     # kiln's fallback path walk
"""

import argparse
import concurrent.futures
import hashlib
import os
import random
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
from runtime import add_runtime_options, runtime_command

TRAP_STATUS = 134

ARGS_ENV_ARGS = ["", "héllo wörld ☃", "", "a b  c", "--dir", "-x=1", "\U0001f431"]
ARGS_ENV_ENV = [("EMPTY", ""), ("UTF8", "ünïcødé ☃"), ("EQ", "a=b=c"), ("SPACE", " x "),
                ("Z", "last")]


def stdin_bytes():
    """200 kB for the stdin test: every byte value, NULs, UTF-8, in a fixed pseudo-random order."""
    rng = random.Random(1234)
    chunks = [bytes(range(256)), "ünïcødé ☃ \U0001f431\n".encode() * 50, b"\0" * 1000]
    data = b"".join(chunks)
    data += bytes(rng.getrandbits(8) for _ in range(200000 - len(data)))
    return data


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def test_config(name, ctx):
    """What the run of test NAME gets and must give. ctx: token, parent_sentinel."""
    cfg = {"args": [], "env": [], "stdin": b"", "exit": [0], "ro": False, "fixture": False,
           "stdout": None, "stdout_has": f"{name}: all passed\n", "stderr_nonempty": False}
    if name == "args_env":
        cfg.update(args=ARGS_ENV_ARGS, env=ARGS_ENV_ENV)
    elif name == "clocks":
        cfg["env"] = [("HOST_TIME_NS", str(time.time_ns()))]
    elif name == "hostile":
        cfg.update(fixture=True, env=[("ESCAPE_TOKEN", ctx["token"]),
                                      ("PARENT_SENTINEL", ctx["parent_sentinel"])])
    elif name == "readonly":
        cfg["ro"] = True
    elif name in ("exit_0", "exit_3", "exit_255"):
        code = int(name.split("_")[1])
        cfg.update(exit=[code], stdout=f"before exit {code}\n", stdout_has=None)
    elif name == "exit_main":
        cfg.update(exit=[7], stdout="returning 7 from main", stdout_has=None)
    elif name == "exit_trap":
        cfg.update(exit=[TRAP_STATUS], stdout="before the trap\n", stdout_has=None,
                   stderr_nonempty=True)
    elif name == "oob":
        cfg["exit"] = [0, TRAP_STATUS]  # FAULT, or a trap; never a crash or a wild access
        cfg["stdout_has"] = None
    elif name == "stdin":
        data = stdin_bytes()
        cfg.update(stdin=data, stdout_has=None,
                   stdout=f"stdin: {len(data)} bytes, fnv1a {fnv1a(data):016x}\n")
    return cfg


def make_tree(tmp, cfg):
    box = tmp / "box"
    root = box / "root"
    for d in (box, root, box / "empty_outside_dir", box / "cwd"):
        d.mkdir()
    (tmp / "parent_sentinel.txt").write_text("parent sentinel\n")
    (box / "next_sentinel.txt").write_text("next sentinel\n")
    if cfg["fixture"]:
        (root / "file.txt").write_text("inside")
        (root / "sub").mkdir()
        (root / "sub" / "inner.txt").write_text("inner")
        links = {
            "link_root": "/", "link_up1": "..", "link_up2": "../..",
            "link_passwd": "/etc/passwd", "link_proc": "/proc/self",
            "link_abs_inside": "/file.txt", "link_sentinel": "../next_sentinel.txt",
            "link_out_new": f"../kiln-escape-{cfg['token']}-dangling",
            "link_abs_new": f"/tmp/kiln-escape-{cfg['token']}-dangling-abs",
            "loop_a": "loop_b", "loop_b": "loop_a", "self": "self",
            "inner_ok": "sub/inner.txt",
            "sub/up_ok": "..", "sub/up_bad": "../..", "sub/chain": "../link_up1",
        }
        for name, target in links.items():
            os.symlink(target, root / name)
    if cfg["ro"]:
        ro = box / "ro"
        ro.mkdir()
        (ro / "file.txt").write_text("read me")
        (ro / "sub").mkdir()
        (ro / "sub" / "inner.txt").write_text("inner")
        (ro / "empty_dir").mkdir()
    # Old mtimes, so that a change within the same clock tick still shows.
    for dirpath, dirnames, filenames in os.walk(tmp):
        for entry in dirnames + filenames:
            os.utime(os.path.join(dirpath, entry), ns=(10**18, 10**18), follow_symlinks=False)
    os.utime(tmp, ns=(10**18, 10**18))
    return box, root


def snapshot(tmp, skip):
    """Everything under tmp except the subtree skip: path -> (type, mode, size, mtime, data)."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(tmp):
        for entry in dirnames + filenames:
            path = Path(dirpath) / entry
            st = os.lstat(path)
            kind = "dir" if os.path.isdir(path) and not path.is_symlink() else \
                "link" if path.is_symlink() else "file"
            data = os.readlink(path) if kind == "link" else \
                hashlib.sha256(path.read_bytes()).hexdigest() if kind == "file" else ""
            mtime = st.st_mtime_ns if path != skip else None  # the preopen's own mtime may change
            state[str(path.relative_to(tmp))] = (kind, st.st_mode, st.st_size if kind != "dir"
                                                 else None, mtime, data)
        dirnames[:] = [d for d in dirnames if Path(dirpath) / d != skip]
    state["."] = os.lstat(tmp).st_mtime_ns
    return state


def find_token(token, tmp):
    found = []
    for place in ("/", "/tmp", "/etc", os.getcwd()):
        try:
            names = os.listdir(place)
        except OSError:
            continue
        found += [os.path.join(place, n) for n in names if token in n]
    for dirpath, dirnames, filenames in os.walk(tmp):
        found += [os.path.join(dirpath, n) for n in dirnames + filenames if token in n]
    return found


def remove_escapes(paths, tmp):
    """Clean up what a broken sandbox left on the host (outside tmp, which goes anyway)."""
    for path in paths:
        if str(path).startswith(str(tmp)):
            continue
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)
            else:
                os.unlink(path)
        except OSError:
            pass


def run_one(name, wasm, runtime, timeout, extra_env):
    token = secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="kiln-wasi-c-") as tmp_name:
        tmp = Path(tmp_name).resolve()
        ctx = {"token": token, "parent_sentinel": str(tmp / "parent_sentinel.txt")}
        cfg = test_config(name, ctx)
        cfg["token"] = token
        box, root = make_tree(tmp, cfg)
        before = snapshot(tmp, root)
        argv = list(runtime) + ["--dir", f"{root}::/"]
        if cfg["ro"]:
            argv += ["--dir-ro", f"{box / 'ro'}::/ro"]
        for key, value in cfg["env"]:
            argv += ["--env", f"{key}={value}"]
        argv += [str(wasm)] + cfg["args"]
        env = dict(os.environ, **extra_env)
        started = time.monotonic()
        try:
            proc = subprocess.run(argv, input=cfg["stdin"], capture_output=True, timeout=timeout,
                                  cwd=box / "cwd", env=env)
            status, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as e:
            status, out, err = "timeout", e.stdout or b"", e.stderr or b""
        elapsed = time.monotonic() - started
        problems = []
        if status not in cfg["exit"]:
            problems.append(f"exit status: expected {' or '.join(map(str, cfg['exit']))}, "
                            f"got {status}")
        text = out.decode("utf-8", "replace")
        if cfg["stdout"] is not None and text != cfg["stdout"]:
            problems.append(f"stdout: expected {cfg['stdout']!r}, got {text[-300:]!r}")
        if cfg["stdout_has"] is not None and cfg["stdout_has"] not in text:
            fail_lines = [line for line in text.splitlines() if line.startswith("FAIL")]
            problems.append(fail_lines[0] if fail_lines else
                            f"no \"{cfg['stdout_has'].strip()}\" in stdout")
        if cfg["stderr_nonempty"] and not err.strip():
            problems.append("no message on stderr")
        if name == "oob" and status == 0 and "oob: all passed" not in text:
            problems.append(next((line for line in text.splitlines() if line.startswith("FAIL")),
                                 "no \"oob: all passed\" in stdout"))
        after = snapshot(tmp, root)
        if after != before:
            changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            problems.append(f"OUTSIDE THE PREOPEN CHANGED: {', '.join(changed)}")
        escapes = find_token(token, tmp)
        if escapes:
            problems.append(f"ESCAPED: created {', '.join(escapes)}")
            remove_escapes(escapes, tmp)
        details = f"$ {shlex.join(argv)}\nstdout: {text[-2000:]!r}\nstderr: " \
                  f"{err.decode('utf-8', 'replace')[-2000:]!r}"
        return problems, details, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_runtime_options(parser)
    parser.add_argument("--bindir", type=Path, help="folder of the built NAME.wasm programs")
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="run only tests whose name contains this (repeatable)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="parallel tests (default 2)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per test")
    parser.add_argument("--no-openat2", action="store_true",
                        help="set KILN_WASI_NO_OPENAT2=1 (kiln's fallback path walk)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show failed runs' output")
    parser.add_argument("--skip", metavar="REASON", help="print REASON and exit 77 (CTest skip)")
    args = parser.parse_args()
    if args.skip:
        print(f"SKIP: {args.skip}")
        return 77
    if not args.bindir:
        parser.error("give --bindir")
    runtime = runtime_command(parser, args)
    extra_env = {"KILN_WASI_NO_OPENAT2": "1"} if args.no_openat2 else {}
    mode = "fallback path walk" if args.no_openat2 or os.environ.get("KILN_WASI_NO_OPENAT2") \
        else "openat2"
    tests = [(w.stem, w.resolve()) for w in sorted(args.bindir.glob("*.wasm"))
             if not args.patterns or any(p in w.stem for p in args.patterns)]
    if not tests:
        print(f"error: no test programs in {args.bindir}", file=sys.stderr)
        return 2
    print(f"kiln WASI tests ({mode}): {len(tests)} programs")
    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_one, name, wasm, runtime, args.timeout, extra_env)
                   for name, wasm in tests]
        for (name, _), future in zip(tests, futures):
            problems, details, elapsed = future.result()
            if problems:
                failed += 1
                print(f"FAIL {name}: {'; '.join(problems)}")
                if args.verbose:
                    print("    " + details.replace("\n", "\n    "))
            else:
                passed += 1
                print(f"PASS {name} ({elapsed:.2f}s)")
            sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
