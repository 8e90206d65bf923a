#!/usr/bin/env python3
"""test_cli.py - end-to-end tests of the kiln command.

Usage: test_cli.py PATH/TO/kiln [unittest options]

Test modules are built at run time in a temporary folder: from WebAssembly text with wat2wasm
(wabt) and from C with clang-19 --target=wasm32-wasi (wasi-libc). Both are dependencies
(scripts/deps.sh installs them); without them the tests fail and say why. The compiled-code
cache of `kiln run` goes to that folder too ($XDG_CACHE_HOME), never to ~/.cache.
"""
import hashlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

KILN = None  # the binary under test, from argv[1]
WORK = None  # the temporary folder with the test modules

# ---------------------------------------------------------------- test modules

MATH_WAT = r"""
(module
  (func $add (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "add64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.add)
  (func (export "mulf") (param f32 f32) (result f32) local.get 0 local.get 1 f32.mul)
  (func (export "divd") (param f64 f64) (result f64) local.get 0 local.get 1 f64.div)
  (func (export "multi") (result i32 i64 f32 f64)
    i32.const -1 i64.const 0x7fffffffffffffff f32.const 0.1 f64.const -2.5)
  (func (export "vadd") (param v128 v128) (result v128) local.get 0 local.get 1 i32x4.add)
  (func (export "none"))
  (func $inner (unreachable))
  (func $middle call $inner)
  (func $crash (export "crash") call $middle)
  (func $deep (export "deep") (param i32)
    (if (i32.eqz (local.get 0)) (then unreachable))
    (call $deep (i32.sub (local.get 0) (i32.const 1))))
  (func (export "spin") (loop br 0))
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "size") (result i32) memory.size)
  (memory (export "memory") 1)
  (global (export "counter") (mut i32) (i32.const 66560))
)
"""

IMPORTS_WAT = r"""
(module
  (import "env" "log" (func $log (param i32 f64)))
  (import "env" "mem" (memory 1 2))
  (import "env" "tab" (table 3 funcref))
  (import "env" "base" (global i64))
  (table $own_table 7 externref)
  (global $g (mut f32) (f32.const 1.5))
  (func $run (export "run") (param i64) (result i32 i64) i32.const 0 local.get 0)
  (export "mem_again" (memory 0))
  (export "own_table" (table $own_table))
  (export "g" (global $g))
)
"""

START_TRAP_WAT = r"""
(module (func $boom unreachable) (start $boom) (func (export "none")))
"""

BIG_MEMORY_WAT = r"""
(module (memory (export "memory") 32) (func (export "_start")))
"""

# One WASI program for every WASI test: the first argument picks what it does.
WASI_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((noinline)) void trap_here(void) { __builtin_trap(); }

int main(int argc, char **argv) {
  if (argc < 2) {
    puts("hello, world");
    return 0;
  }
  const char *mode = argv[1];
  if (!strcmp(mode, "args")) {
    for (int i = 0; i < argc; i++) printf("%d:%s\n", i, argv[i]);
  } else if (!strcmp(mode, "env")) {
    for (int i = 2; i < argc; i++) {
      const char *v = getenv(argv[i]);
      printf("%s=%s\n", argv[i], v ? v : "(unset)");
    }
  } else if (!strcmp(mode, "cat")) {
    FILE *f = fopen(argv[2], "r");
    if (!f) { perror(argv[2]); return 3; }
    int c;
    while ((c = fgetc(f)) != EOF) putchar(c);
    fclose(f);
  } else if (!strcmp(mode, "write")) {
    FILE *f = fopen(argv[2], "w");
    if (!f) { perror(argv[2]); return 4; }
    fputs(argv[3], f);
    if (fclose(f) != 0) { perror("fclose"); return 5; }
  } else if (!strcmp(mode, "exit")) {
    exit(atoi(argv[2]));
  } else if (!strcmp(mode, "trap")) {
    trap_here();
  } else if (!strcmp(mode, "serve")) {
    /* accept argv[2] connections on the socket --tcplisten gave as fd 3; answer each
     * with "echo: " and what it sent, then shut it down */
    for (int i = 0; i < atoi(argv[2]); i++) {
      int conn = accept(3, NULL, NULL);
      if (conn < 0) { perror("accept"); return 6; }
      char buf[256] = "echo: ";
      ssize_t n = recv(conn, buf + 6, sizeof buf - 6, 0);
      if (n < 0) { perror("recv"); return 7; }
      if (send(conn, buf, 6 + (size_t)n, 0) != 6 + n) { perror("send"); return 8; }
      if (shutdown(conn, SHUT_RDWR) != 0) { perror("shutdown"); return 9; }
      close(conn);
    }
    if (shutdown(0, SHUT_RD) == 0 || errno != ENOTSOCK) { puts("stdin is no socket"); return 10; }
  } else {
    return 1;
  }
  return 0;
}
"""


def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def custom_section(name, data):
    payload = leb(len(name)) + name.encode() + data
    return b"\x00" + leb(len(payload)) + payload


def section_headers(data):
    """[(id, offset, payload size)] of a module's sections, parsed independently of kiln."""
    pos, out = 8, []
    while pos < len(data):
        start, sid = pos, data[pos]
        pos += 1
        size = shift = 0
        while True:
            b = data[pos]
            pos += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append((sid, start, size))
        pos += size
    return out


# A C guest's shape (include/kiln/guest.h): kiln_fail() is the import kiln.fail(ptr, len).
GUEST_FAIL_WAT = """
(module
  (import "kiln" "fail" (func $fail (param i32 i32)))
  (import "kiln" "panic" (func $panic (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "n must not be negative")
  (func (export "check") (param $n i32) (result i32)
    (if (i32.lt_s (local.get $n) (i32.const 0))
      (then (call $fail (i32.const 16) (i32.const 22))))
    (i32.mul (local.get $n) (i32.const 2)))
  (func (export "bad_message") (call $fail (i32.const 65530) (i32.const 100)))
  ;; the shape of the panic hook kiln build links into Rust guests
  (global $hooked (mut i32) (i32.const 0))
  (data (i32.const 64) "panicked at 'boom', src/lib.rs:1:1")
  (func (export "__kiln_install_panic_hook") (global.set $hooked (i32.const 1)))
  (func (export "boom") (if (global.get $hooked) (then (call $panic (i32.const 64) (i32.const 34)))) unreachable))
"""


# A program that aborts when memory.grow fails, as Rust's allocation-failure handler does.
HUNGRY_WAT = """
(module
  (memory 1)
  (func (export "_start")
    (if (i32.eq (memory.grow (i32.const 99)) (i32.const -1)) (then unreachable))))
"""


def wat(name, text, *flags):
    src = os.path.join(WORK, name + ".wat")
    out = os.path.join(WORK, name + ".wasm")
    with open(src, "w") as f:
        f.write(text)
    subprocess.run(["wat2wasm", "--debug-names", *flags, src, "-o", out], check=True)
    return out


def build_modules():
    for tool in ("wat2wasm", "clang-19"):
        if not shutil.which(tool):
            sys.exit(f"test_cli.py: {tool} not found: the CLI tests build their modules with it "
                     "(run scripts/deps.sh to install wabt, clang-19, lld-19 and wasi-libc)")
    wat("math", MATH_WAT)
    imports = wat("imports", IMPORTS_WAT)
    with open(imports, "ab") as f:
        f.write(custom_section("kiln.note", b"x" * 300))
        f.write(custom_section("tiny", b""))
    wat("start_trap", START_TRAP_WAT)
    wat("guest_fail", GUEST_FAIL_WAT)
    wat("hungry", HUNGRY_WAT)
    wat("big_memory", BIG_MEMORY_WAT)
    # Well-formed but invalid: i32.add on an f32 operand.
    wat("invalid", "(module (func (result i32) f32.const 1 i32.const 2 i32.add))", "--no-check")
    with open(os.path.join(WORK, "text.wasm"), "w") as f:
        f.write("this is not a module\n")
    with open(os.path.join(WORK, "truncated.wasm"), "wb") as f:
        f.write(b"\x00asm\x01\x00\x00\x00\x01\x05\x01\x60")
    src = os.path.join(WORK, "prog.c")
    with open(src, "w") as f:
        f.write(WASI_C)
    # Compiled and linked in two steps: clang links with wasm-opt when it is installed (Debian's
    # binaryen) and optimisation is on, which drops the names the backtrace tests look for.
    obj = os.path.join(WORK, "prog.o")
    r = subprocess.run(["clang-19", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-c", src, "-o", obj],
                       capture_output=True, text=True)
    if r.returncode == 0:
        r = subprocess.run(["clang-19", "--target=wasm32-wasi", "--sysroot=/usr", obj, "-o",
                            os.path.join(WORK, "prog.wasm")], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("test_cli.py: clang-19 --target=wasm32-wasi failed (is wasi-libc and "
                 "libclang-rt-19-dev-wasm32 installed? scripts/deps.sh):\n" + r.stderr)
    os.mkdir(os.path.join(WORK, "data"))
    with open(os.path.join(WORK, "data", "greeting.txt"), "w") as f:
        f.write("hi from the host\n")


def path(name):
    return os.path.join(WORK, name)


def kiln(*args, env=None, timeout=60):
    """Run kiln in WORK; (exit status, stdout, stderr, seconds)."""
    start = time.monotonic()
    r = subprocess.run([KILN, *args], capture_output=True, text=True, cwd=WORK, env=env,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr, time.monotonic() - start


class CliTest(unittest.TestCase):
    def one_line_error(self, args, status, *fragments):
        """kiln args fails with status and exactly one stderr line holding every fragment."""
        code, out, err, _ = kiln(*args)
        self.assertEqual(code, status, f"kiln {' '.join(args)}: {err}")
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, f"kiln {' '.join(args)}: want one stderr line, got {err!r}")
        self.assertTrue(lines[0].startswith("kiln"), lines[0])
        for fragment in fragments:
            self.assertIn(fragment, lines[0])
        return lines[0]

    def invoke(self, name, *values, module="math.wasm", extra=()):
        code, out, err, _ = kiln("run", *extra, "--invoke", name, module, *values)
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        return out.splitlines()


class TestVersionAndHelp(CliTest):
    def test_version(self):
        for flag in ("--version", "-V"):
            code, out, err, _ = kiln(flag)
            self.assertEqual((code, out, err), (0, "kiln 0.1.0\n", ""))

    def test_overview(self):
        for args in (["help"], ["--help"], ["-h"]):
            code, out, err, _ = kiln(*args)
            self.assertEqual(code, 0)
            for word in ("usage: kiln", "run", "validate", "inspect", "--version"):
                self.assertIn(word, out)

    def test_no_arguments_is_a_usage_error(self):
        code, out, err, _ = kiln()
        self.assertEqual(code, 2)
        self.assertEqual(out, "")
        self.assertIn("usage: kiln", err)

    def test_command_help(self):
        code, out, _, _ = kiln("help", "run")
        self.assertEqual(code, 0)
        for word in ("--invoke", "--dir HOST[::GUEST]", "--dir-ro", "--env", "--inherit-env",
                     "--max-memory", "--timeout", "--fuel", "--stats", "exit status", "134"):
            self.assertIn(word, out)
        self.assertEqual(kiln("run", "--help")[1], out)
        self.assertEqual(kiln("run", "-h")[1], out)
        self.assertIn("usage: kiln validate", kiln("validate", "--help")[1])
        self.assertIn("usage: kiln inspect", kiln("help", "inspect")[1])
        self.assertIn("usage: kiln inspect", kiln("inspect", "--help")[1])

    def test_unknown_help_topic(self):
        self.one_line_error(["help", "frobnicate"], 2, "unknown command 'frobnicate'", "run")

    def test_unknown_command(self):
        self.one_line_error(["frobnicate"], 2, "unknown command 'frobnicate'", "run, compile, validate, inspect")

    def test_compile_help(self):
        code, out, _, _ = kiln("help", "compile")
        self.assertEqual(code, 0)
        for word in ("usage: kiln compile", "-o, --output", "--portable", ".cwasm"):
            self.assertIn(word, out)
        self.assertEqual(kiln("compile", "--help")[1], out)
        self.assertIn("compile", kiln("help")[1])
        run_help = kiln("help", "run")[1]
        for word in ("--cache-dir DIR", "--no-cache", ".cwasm"):
            self.assertIn(word, run_help)


class TestValidate(CliTest):
    def test_valid(self):
        code, out, err, _ = kiln("validate", "math.wasm", "prog.wasm")
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out, "math.wasm: valid\nprog.wasm: valid\n")

    def test_not_wasm(self):
        self.one_line_error(["validate", "text.wasm"], 1, "text.wasm", "malformed module", "offset 0x0")

    def test_truncated(self):
        self.one_line_error(["validate", "truncated.wasm"], 1, "truncated.wasm", "malformed module",
                            "type section")

    def test_invalid(self):
        self.one_line_error(["validate", "invalid.wasm"], 1, "invalid.wasm", "invalid module",
                            "type mismatch")

    def test_mixed_reports_each_and_fails(self):
        code, out, err, _ = kiln("validate", "math.wasm", "invalid.wasm", "missing.wasm")
        self.assertEqual(code, 1)
        self.assertEqual(out, "math.wasm: valid\n")
        self.assertEqual(len(err.splitlines()), 2)
        self.assertIn("missing.wasm", err)

    def test_usage(self):
        self.one_line_error(["validate"], 2, "missing module path", "usage: kiln validate")
        self.one_line_error(["validate", "--bogus", "math.wasm"], 2, "unknown option '--bogus'",
                            "kiln help validate")


class TestInspect(CliTest):
    def test_imports_and_exports_with_types(self):
        code, out, err, _ = kiln("inspect", "imports.wasm")
        self.assertEqual((code, err), (0, ""))
        for line in ("func   env.log: (i32, f64) -> ()",
                     "memory env.mem: min 1 pages, max 2",
                     "table  env.tab: funcref, min 3 elements, no max",
                     "global env.base: i64",
                     "func   run: (i64) -> (i32, i64)",
                     "memory mem_again: min 1 pages, max 2",
                     "table  own_table: externref, min 7 elements, no max",
                     "global g: mut f32"):
            self.assertIn(line, out)
        self.assertIn("imports (4):", out)
        self.assertIn("exports (4):", out)

    def test_memories_tables_globals(self):
        out = kiln("inspect", "imports.wasm")[1]
        self.assertIn("memories (1):", out)
        self.assertIn("memory 0: min 1 pages, max 2 (imported env.mem)", out)
        self.assertIn("memory 0: min 1 pages, no max\n", kiln("inspect", "math.wasm")[1])
        self.assertIn("tables (2):", out)
        self.assertIn("table  1: externref, min 7 elements, no max", out)
        self.assertIn("globals (2):", out)
        self.assertIn("global 0: i64 (imported env.base)", out)
        self.assertIn("global 1: mut f32 = f32.const", out)
        self.assertIn("functions: 2 (1 imported, 1 defined)", out)

    def test_custom_sections_and_section_sizes(self):
        out = kiln("inspect", "imports.wasm")[1]
        self.assertRegex(out, r"kiln\.note +300 bytes")
        self.assertRegex(out, r"\n  tiny +0 bytes")
        with open(path("imports.wasm"), "rb") as f:
            data = f.read()
        self.assertIn(f"imports.wasm: {len(data)} bytes, wasm version 1", out)
        names = {1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global",
                 7: "export", 10: "code"}
        headers = section_headers(data)
        self.assertGreaterEqual(len(headers), 9)
        for sid, offset, size in headers:
            if sid in names:
                self.assertRegex(out, rf"\n  {names[sid]} +offset 0x{offset:08x} +{size} bytes\n")
            else:
                self.assertRegex(out, rf"\n  custom \S+ +offset 0x{offset:08x} +{size} bytes\n")

    def test_wasi_program(self):
        out = kiln("inspect", "prog.wasm")[1]
        self.assertIn("func   wasi_snapshot_preview1.fd_write: (i32, i32, i32, i32) -> (i32)", out)
        self.assertIn("func   _start: () -> ()", out)

    def test_start_function(self):
        self.assertIn("start: function 0", kiln("inspect", "start_trap.wasm")[1])

    def test_bad_input(self):
        self.one_line_error(["inspect", "text.wasm"], 1, "text.wasm", "malformed")
        self.one_line_error(["inspect", "missing.wasm"], 1, "cannot read 'missing.wasm'")
        self.one_line_error(["inspect", "math.wasm", "prog.wasm"], 2, "one module")


class TestInvoke(CliTest):
    # (export, arguments, printed results) for each number type.
    NUMBERS = [
        ("add", ["2", "40"], ["42"]),
        ("add", ["0x7fffffff", "1"], ["-2147483648"]),
        ("add", ["4294967295", "-5"], ["-6"]),
        ("add64", ["-0x10", "0xffffffffffffffff"], ["-17"]),
        ("add64", ["9223372036854775807", "1"], ["-9223372036854775808"]),
        ("mulf", ["1.5", "-2"], ["-3"]),
        ("mulf", ["0.1", "1"], ["0.1"]),
        ("mulf", ["inf", "-1"], ["-inf"]),
        ("mulf", ["nan", "1"], ["nan"]),
        ("divd", ["1", "3"], ["0.3333333333333333"]),
        ("divd", ["1", "0"], ["inf"]),
        ("divd", ["0x1p4", "2"], ["8"]),
        ("divd", ["1e300", "1e-10"], ["inf"]),
        ("divd", ["-0", "1"], ["-0"]),
    ]

    def test_numbers(self):
        for name, values, results in self.NUMBERS:
            with self.subTest(name=name, values=values):
                self.assertEqual(self.invoke(name, *values), results)

    def test_v128(self):
        self.assertEqual(self.invoke("vadd", "0x00000001000000020000000300000004", "0x10"),
                         ["0x00000001000000020000000300000014"])

    def test_multiple_results_one_per_line(self):
        self.assertEqual(self.invoke("multi"), ["-1", "9223372036854775807", "0.1", "-2.5"])

    def test_no_results_prints_nothing(self):
        self.assertEqual(self.invoke("none"), [])

    def test_c_guest_imports_provided(self):
        # kiln.fail is provided, so a C guest runs from the CLI; its message ends the call
        self.assertEqual(self.invoke("check", "21", module="guest_fail.wasm"), ["42"])
        code, out, err, _ = kiln("run", "--invoke", "check", "guest_fail.wasm", "-5")
        self.assertEqual(code, 134, err)
        self.assertIn("kiln_fail: n must not be negative", err)
        code, out, err, _ = kiln("run", "--invoke", "bad_message", "guest_fail.wasm")
        self.assertEqual(code, 134, err)
        self.assertIn("kiln_fail: the message (100 bytes at 65530) is outside memory", err)
        # kiln.panic is provided and the hook installed first: the panic's message is printed
        code, out, err, _ = kiln("run", "--invoke", "boom", "guest_fail.wasm")
        self.assertEqual(code, 134, err)
        self.assertIn("kiln: the guest panicked at 'boom', src/lib.rs:1:1", err)

    def test_wrong_argument_count(self):
        self.one_line_error(["--invoke", "add", "math.wasm", "1"], 2, "'add'", "(i32, i32) -> (i32)",
                            "takes 2 arguments, 1 given")

    def test_bad_value(self):
        self.one_line_error(["run", "--invoke", "add", "math.wasm", "1", "x1"], 2, "argument 2",
                            "'x1' is not an i32")
        self.one_line_error(["run", "--invoke", "add", "math.wasm", "1", "4294967296"], 2,
                            "'4294967296' is not an i32")
        self.one_line_error(["run", "--invoke", "mulf", "math.wasm", "1", "1.5x"], 2,
                            "'1.5x' is not a f32")

    def test_missing_export(self):
        self.one_line_error(["--invoke", "nope", "math.wasm"], 1, "math.wasm",
                            "no exported function 'nope'", "add")

    def test_export_that_is_not_a_function(self):
        self.one_line_error(["--invoke", "memory", "math.wasm"], 1, "'memory' is a memory")

    def test_wasi_module(self):
        # --invoke instantiates with the WASI imports too.
        code, out, err, _ = kiln("run", "--invoke", "_start", "prog.wasm")
        self.assertEqual((code, out, err), (0, "hello, world\n", ""))


class TestTraps(CliTest):
    def test_unreachable_with_backtrace(self):
        code, out, err, _ = kiln("--tier=interp", "--invoke", "crash", "math.wasm")
        self.assertEqual(code, 134)
        lines = err.splitlines()
        self.assertTrue(lines[0].startswith("kiln: trap: unreachable: "), lines[0])
        self.assertIn("inner", lines[0])
        frames = [l for l in lines if l.lstrip().startswith("#")]
        self.assertEqual(len(frames), 3, err)
        for frame, name in zip(frames, ("inner", "middle", "crash")):
            self.assertRegex(frame, rf"#\d+ +func \d+ +{name} +at 0x[0-9a-f]+$")

    def test_long_backtrace_says_how_many_frames_are_left_out(self):
        code, out, err, _ = kiln("--invoke", "deep", "math.wasm", "20")
        self.assertEqual(code, 134)
        lines = err.splitlines()
        self.assertEqual(sum(1 for line in lines if line.lstrip().startswith("#")), 16)
        self.assertEqual(lines[-1].strip(), "... 5 more frames")  # 21 frames in all

    def test_unnamed_function(self):
        # the interpreter knows every frame's offset (native frames may not: see below)
        code, _, err, _ = kiln("--tier=interp", "--fuel", "5", "--invoke", "spin", "math.wasm")
        self.assertEqual(code, 134)
        self.assertRegex(err, r"#0 +func \d+ +<unnamed> +at 0x[0-9a-f]+")

    def test_trap_in_tiered_up_code(self):
        # auto (the default): spin gets hot and is compiled, and cached; the next run starts
        # with it native and its trap is reported the same way, by function
        cache = tempfile.mkdtemp(dir=WORK)
        env = dict(os.environ, XDG_CACHE_HOME=cache)
        for run in range(2):
            code, _, err, _ = kiln("--tier=auto", "--stats", "--fuel", "100000000", "--invoke", "spin", "math.wasm",
                                   env=env)
            self.assertEqual(code, 134, err)
            self.assertIn("out of fuel", err)
            self.assertRegex(err, r"#0 +func \d+ +<unnamed>")
        self.assertRegex(err, r"from the cache +[1-9]\d* functions")

    def test_fuel_exhaustion(self):
        code, out, err, _ = kiln("run", "--fuel", "1000", "--invoke", "spin", "math.wasm")
        self.assertEqual(code, 134)
        self.assertTrue(err.startswith("kiln: trap: out of fuel: "), err)
        self.assertIn("1000", err.splitlines()[0])

    def test_enough_fuel(self):
        self.assertEqual(self.invoke("add", "1", "2", extra=("--fuel", "10")), ["3"])

    def test_timeout(self):
        code, out, err, seconds = kiln("run", "--timeout", "200ms", "--invoke", "spin", "math.wasm",
                                       timeout=10)
        self.assertEqual(code, 134)
        self.assertTrue(err.startswith("kiln: trap: interrupted: timed out after 200ms"), err)
        self.assertLess(seconds, 10)

    def test_timeout_blocked_in_host_call(self):
        # Opening a FIFO nobody writes to blocks in the host: the watchdog ends the process
        # one second after its interrupt went unheeded.
        fifo = path("data/fifo")
        os.mkfifo(fifo)
        try:
            code, out, err, seconds = kiln("--timeout", "200ms", "--dir", "data::/d", "prog.wasm",
                                           "cat", "/d/fifo", timeout=10)
        finally:
            os.unlink(fifo)
        self.assertEqual(code, 134)
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertTrue(err.startswith("kiln: trap: interrupted: timed out after 200ms"), err)
        self.assertIn("blocked in a host call", err)
        self.assertLess(seconds, 10)

    def test_timeout_not_reached(self):
        code, out, err, seconds = kiln("--timeout", "1m", "prog.wasm", timeout=10)
        self.assertEqual((code, out, err), (0, "hello, world\n", ""))
        self.assertLess(seconds, 10)  # the watchdog does not hold the exit up

    def test_trap_in_start_function(self):
        code, _, err, _ = kiln("--invoke", "none", "start_trap.wasm")
        self.assertEqual(code, 134)
        self.assertTrue(err.startswith("kiln: trap: unreachable"), err)
        self.assertIn("boom", err)

    def test_trap_in_wasi_program(self):
        code, out, err, _ = kiln("--tier=interp", "prog.wasm", "trap")
        self.assertEqual(code, 134)
        self.assertTrue(err.startswith("kiln: trap: unreachable"), err)
        self.assertRegex(err, r"func \d+ +trap_here +at 0x")
        self.assertRegex(err, r"func \d+ +main")


class TestMemoryLimit(CliTest):
    def test_grow_stops_at_the_limit(self):
        self.assertEqual(self.invoke("grow", "1", extra=("--max-memory", "128K")), ["1"])
        self.assertEqual(self.invoke("grow", "2", extra=("--max-memory", "128KiB")), ["-1"])
        self.assertEqual(self.invoke("grow", "2", extra=("--max-memory", "196608")), ["1"])
        self.assertEqual(self.invoke("grow", "100", extra=("--max-memory", "64M")), ["1"])
        self.assertEqual(self.invoke("grow", "1100", extra=("--max-memory", "64MiB")), ["-1"])
        self.assertEqual(self.invoke("grow", "2"), ["1"])

    def test_failure_after_a_refused_grow_names_the_limit(self):
        code, out, err, _ = kiln("run", "--max-memory", "1M", "hungry.wasm")
        self.assertEqual(code, 134, err)
        self.assertIn("note: the program asked for 6.2 MiB of memory, over the limit of 1.0 MiB (--max-memory)", err)
        self.assertIn("unreachable", err)
        code, out, err, _ = kiln("run", "--max-memory", "8M", "hungry.wasm")
        self.assertEqual((code, err), (0, ""))

    def test_module_needing_more_fails(self):
        line = self.one_line_error(["--max-memory", "1M", "big_memory.wasm"], 1, "big_memory.wasm",
                                   "cannot instantiate")
        self.assertIn("limit", line)

    def test_bad_values(self):
        for value in ("12Q", "", "1000", "-5M", "1.5G", "99999999999999999999G"):
            self.one_line_error(["--max-memory", value, "math.wasm"], 2,
                                f"bad --max-memory value '{value}'", "64K")


class TestBadInput(CliTest):
    def test_missing_file(self):
        self.one_line_error(["run", "nothere.wasm"], 1,
                            "kiln: cannot read 'nothere.wasm': No such file or directory")
        self.one_line_error(["nothere.wasm"], 1, "cannot read 'nothere.wasm'")

    def test_directory_as_module(self):
        self.one_line_error(["run", "data"], 1, "cannot read 'data': Is a directory")

    def test_not_wasm(self):
        self.one_line_error(["run", "text.wasm"], 1, "kiln: text.wasm: malformed module",
                            "magic header")

    def test_invalid(self):
        self.one_line_error(["run", "invalid.wasm"], 1, "invalid.wasm: invalid module")

    def test_missing_import(self):
        self.one_line_error(["run", "--invoke", "run", "imports.wasm", "1"], 1, "imports.wasm",
                            "cannot instantiate", '"env" "log"')

    def test_not_a_command(self):
        self.one_line_error(["math.wasm"], 1, "math.wasm", "no _start", "--invoke")

    def test_bad_dir(self):
        self.one_line_error(["--dir", "no_such_dir", "prog.wasm"], 1, "--dir", "no_such_dir")
        self.one_line_error(["--dir-ro", "prog.c::/x", "prog.wasm"], 1, "--dir-ro", "prog.c")
        self.one_line_error(["--dir", "::/x", "prog.wasm"], 2, "bad --dir value '::/x'", "HOST::GUEST")
        self.one_line_error(["--dir", "data::", "prog.wasm"], 2, "bad --dir value 'data::'")

    def test_unknown_option(self):
        self.one_line_error(["--foo", "prog.wasm"], 2, "kiln: unknown option '--foo'", "kiln help run")
        self.one_line_error(["run", "--foo=1", "prog.wasm"], 2, "kiln run: unknown option '--foo'")
        self.one_line_error(["run", "-x", "prog.wasm"], 2, "unknown option '-x'")

    def test_option_without_value(self):
        self.one_line_error(["run", "--dir"], 2, "option '--dir' needs a value")

    def test_missing_module_path(self):
        self.one_line_error(["run"], 2, "kiln run: missing module path",
                            "usage: kiln run [options] app.wasm [args...]")
        self.one_line_error(["run", "--stats"], 2, "missing module path")

    def test_bad_timeout(self):
        for value in ("0", "-1s", "soon", "5 s", "10d", "nan"):
            self.one_line_error(["--timeout", value, "prog.wasm"], 2, f"bad --timeout value '{value}'",
                                "500ms")

    def test_bad_fuel(self):
        for value in ("many", "-1", "1e6", "99999999999999999999999"):
            self.one_line_error(["--fuel", value, "prog.wasm"], 2, f"bad --fuel value '{value}'")

    def test_bad_env(self):
        self.one_line_error(["--env", "=x", "prog.wasm"], 2, "bad --env value '=x'", "NAME=VALUE")


class TestWasi(CliTest):
    def test_hello(self):
        for args in (["run", "prog.wasm"], ["prog.wasm"], [path("prog.wasm")]):
            code, out, err, _ = kiln(*args)
            self.assertEqual((code, out, err), (0, "hello, world\n", ""))

    def test_args(self):
        code, out, err, _ = kiln("run", "prog.wasm", "args", "two words", "--fuel", "-x")
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out, "0:prog.wasm\n1:args\n2:two words\n3:--fuel\n4:-x\n")
        code, out, _, _ = kiln("./prog.wasm", "args")
        self.assertEqual(out, "0:./prog.wasm\n1:args\n")

    def test_env(self):
        host = dict(os.environ, KILN_HOST_ONLY="from host", KILN_SHARED_NAME="host value")
        code, out, err, _ = kiln("--env", "A=1", "--env", "B=x=y", "--env", "EMPTY=", "--env",
                                 "KILN_HOST_ONLY", "--env", "KILN_NOT_SET_ANYWHERE", "prog.wasm",
                                 "env", "A", "B", "EMPTY", "KILN_HOST_ONLY", "KILN_NOT_SET_ANYWHERE",
                                 "KILN_SHARED_NAME", env=host)
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out, "A=1\nB=x=y\nEMPTY=\nKILN_HOST_ONLY=from host\n"
                              "KILN_NOT_SET_ANYWHERE=(unset)\nKILN_SHARED_NAME=(unset)\n")

    def test_inherit_env(self):
        host = dict(os.environ, KILN_SHARED_NAME="host value", KILN_OTHER="other")
        code, out, err, _ = kiln("--inherit-env", "--env", "KILN_SHARED_NAME=override", "prog.wasm",
                                 "env", "KILN_SHARED_NAME", "KILN_OTHER", env=host)
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out, "KILN_SHARED_NAME=override\nKILN_OTHER=other\n")

    def test_dir_read(self):
        code, out, err, _ = kiln("--dir", "data::/data", "prog.wasm", "cat", "/data/greeting.txt")
        self.assertEqual((code, out, err), (0, "hi from the host\n", ""))
        code, out, err, _ = kiln("--dir", "data", "prog.wasm", "cat", "data/greeting.txt")
        self.assertEqual((code, out, err), (0, "hi from the host\n", ""))

    def test_no_dir_no_access(self):
        code, out, err, _ = kiln("prog.wasm", "cat", "/data/greeting.txt")
        self.assertEqual(code, 3)
        self.assertEqual(out, "")

    def test_dir_write_and_read_only(self):
        code, _, err, _ = kiln("--dir", "data::/d", "prog.wasm", "write", "/d/out.txt", "written")
        self.assertEqual((code, err), (0, ""))
        with open(path("data/out.txt")) as f:
            self.assertEqual(f.read(), "written")
        code, _, err, _ = kiln("--dir-ro", "data::/d", "prog.wasm", "write", "/d/out2.txt", "no")
        self.assertEqual(code, 4, err)
        self.assertFalse(os.path.exists(path("data/out2.txt")))
        code, out, _, _ = kiln("--dir-ro", "data::/d", "prog.wasm", "cat", "/d/greeting.txt")
        self.assertEqual((code, out), (0, "hi from the host\n"))

    def test_exit_codes(self):
        for given, status in (("0", 0), ("7", 7), ("125", 125), ("134", 134), ("255", 255),
                              ("256", 0), ("300", 44)):
            code, out, err, _ = kiln("prog.wasm", "exit", given)
            self.assertEqual((code, err), (status, ""), f"exit({given})")

    def test_tcplisten_socket(self):
        # A free port: bound and released here, then given to kiln.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        proc = subprocess.Popen([KILN, "run", "--tcplisten", f"127.0.0.1:{port}", "prog.wasm",
                                 "serve", "2"], cwd=WORK, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            for message in (b"first", b"second one"):
                deadline = time.monotonic() + 20
                while True:
                    try:
                        conn = socket.create_connection(("127.0.0.1", port), timeout=20)
                        break
                    except ConnectionRefusedError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.05)
                with conn:
                    conn.sendall(message)
                    reply = b""
                    while chunk := conn.recv(256):
                        reply += chunk
                self.assertEqual(reply, b"echo: " + message)
            out, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
        self.assertEqual((proc.returncode, out, err), (0, "", ""))

    def test_bad_tcplisten(self):
        self.one_line_error(["--tcplisten", "localhost", "prog.wasm"], 1, "bad --tcplisten value 'localhost'")
        self.one_line_error(["--tcplisten", "1.2.3:80", "prog.wasm"], 1, "bad --tcplisten address")

    def test_stats(self):
        code, out, err, _ = kiln("--stats", "--fuel", "100000000", "prog.wasm")
        self.assertEqual((code, out), (0, "hello, world\n"))
        for word in ("wall time", "compile time", "instantiate time", "run time", "peak RSS",
                     "linear memory", "fuel consumed"):
            self.assertIn(word, err)
        self.assertRegex(err, r"fuel consumed +[1-9]\d* of 100000000")
        self.assertRegex(err, r"linear memory .*\(\d+ pages, export 'memory'\)")
        code, _, err, _ = kiln("--stats", "prog.wasm")
        self.assertNotIn("fuel", err)


# ---------------------------------------------------------------- the compiled tier

def has_compiled_tier():
    code, _, err, _ = kiln("compile", "--help")
    if code != 0:
        return False
    code, _, err, _ = kiln("compile", "math.wasm", "-o", "probe.cwasm")
    return "built without the compiled tier" not in err


def cwasm_fields(data):
    """The offsets of the key strings of a .cwasm (src/runtime/artifact.h): name -> (at, length)."""
    at = 56 + 32 + 4 + 8
    fields = {}
    for name in ("compiler", "triple", "cpu", "features", "options"):
        (n,) = struct.unpack_from("<I", data, at)
        fields[name] = (at + 4, n)
        at += 4 + n
    return fields


def cwasm_with(data, name, value):
    """data with the key string `name` replaced by value and the checksum made right again."""
    at, n = cwasm_fields(data)[name]
    data = bytearray(data[:at - 4] + struct.pack("<I", len(value)) + value + data[at + n:])
    struct.pack_into("<Q", data, 16, len(data))
    data[24:56] = hashlib.sha256(bytes(data[:24]) + bytes(data[56:])).digest()
    return bytes(data)


class TestRustToolchain(CliTest):
    """kiln build picks the user's Rust toolchain (rustup's cargo first on PATH) when its rustc
    has the wasm32 target, else Debian's, and says which. Fake cargo and rustc scripts stand
    in for rustup's: they log how they are called; cargo build then fails on purpose."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=WORK)
        self.crate = os.path.join(self.dir, "crate")
        os.makedirs(os.path.join(self.crate, "src"))
        with open(os.path.join(self.crate, "Cargo.toml"), "w") as f:
            f.write('[package]\nname = "fake"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\ncrate-type = ["cdylib"]\n')
        with open(os.path.join(self.crate, "src", "lib.rs"), "w") as f:
            f.write("#[no_mangle]\npub extern \"C\" fn one() -> i32 { 1 }\n")
        self.log = os.path.join(self.dir, "log")

    def toolchain(self, name, with_target):
        bin_dir = os.path.join(self.dir, name, "bin")
        sysroot = os.path.join(self.dir, name, "sysroot")
        os.makedirs(bin_dir)
        os.makedirs(os.path.join(sysroot, "lib", "rustlib",
                                 "wasm32-unknown-unknown" if with_target else "x86_64-unknown-linux-gnu", "lib"))
        scripts = {
            "rustc": f'#!/bin/sh\n[ "$1 $2" = "--print sysroot" ] && echo "{sysroot}" && exit 0\nexit 1\n',
            "cargo": (f'#!/bin/sh\necho "{name} RUSTC=$RUSTC $*" >> "{self.log}"\n'
                      f'[ "$1" = metadata ] && echo \'{{"packages":[],"target_directory":"{self.dir}/t"}}\' && exit 0\n'
                      'exit 3\n'),
        }
        for tool, text in scripts.items():
            path = os.path.join(bin_dir, tool)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
        return bin_dir

    def build(self, env):
        return kiln("build", self.crate, "-o", os.path.join(self.dir, "out"), env={**os.environ, **env})

    def calls(self):
        with open(self.log) as f:
            return f.read().splitlines()

    def test_rustup_toolchain_with_the_target_is_used(self):
        bin_dir = self.toolchain("rustup", True)
        code, out, err, _ = self.build({"PATH": f"{bin_dir}:{os.environ['PATH']}"})
        self.assertNotEqual(code, 0)
        self.assertIn(f"kiln: Rust toolchain: the toolchain on PATH ({bin_dir}/cargo, {bin_dir}/rustc)", err)
        calls = self.calls()
        self.assertEqual([c.split()[0:2] for c in calls], [["rustup", f"RUSTC={bin_dir}/rustc"]] * 2)
        self.assertIn("metadata", calls[0])
        # its own crates and cargo's own target directory, not Debian's registry
        self.assertIn("rustc --lib --release --target wasm32-unknown-unknown", calls[1])
        self.assertIn(f"--target-dir {self.dir}/t", calls[1])
        self.assertNotIn("source.debian", calls[1])

    def test_kiln_cargo_is_used(self):
        bin_dir = self.toolchain("mine", False)
        code, out, err, _ = self.build({"KILN_CARGO": f"{bin_dir}/cargo"})
        self.assertIn(f"kiln: Rust toolchain: KILN_CARGO ({bin_dir}/cargo)", err)
        self.assertTrue(all(c.startswith("mine ") for c in self.calls()))

    @unittest.skipUnless(os.path.exists("/usr/bin/cargo"), "Debian's cargo is not installed")
    def test_toolchain_without_the_target_falls_back_to_debian(self):
        bin_dir = self.toolchain("rustup", False)
        code, out, err, _ = self.build({"PATH": f"{bin_dir}:{os.environ['PATH']}"})
        self.assertIn("kiln: Rust toolchain: Debian's (/usr/bin/cargo, /usr/bin/rustc", err)
        self.assertIn(f"{bin_dir}/rustc on PATH has no wasm32-unknown-unknown target "
                      "(rustup target add wasm32-unknown-unknown)", err)
        self.assertFalse(os.path.exists(self.log), "the toolchain without the target ran")


class TestCompiled(CliTest):
    """kiln compile, kiln run app.cwasm and the compiled-code cache (needs the LLVM tier)."""

    def setUp(self):
        if not has_compiled_tier():
            self.skipTest("this kiln was built without the compiled tier")

    def test_compile_and_run_cwasm(self):
        code, out, err, _ = kiln("compile", "math.wasm")
        self.assertEqual((code, out, err), (0, "", ""))
        with open(path("math.cwasm"), "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], b"\0kiln-cw")
        with open(path("math.wasm"), "rb") as f:
            self.assertIn(f.read(), data)  # the module itself is inside
        self.assertEqual(self.invoke("add", "2", "40", module="math.cwasm"), ["42"])
        self.assertEqual(kiln("--invoke", "add", "math.cwasm", "1", "2")[1], "3\n")
        # the trap backtrace names functions from the embedded module
        code, _, err, _ = kiln("run", "--invoke", "crash", "math.cwasm")
        self.assertEqual(code, 134)
        self.assertIn("inner", err)
        self.assertIn("crash", err)
        code, _, err, _ = kiln("run", "--stats", "--invoke", "none", "math.cwasm")
        self.assertEqual(code, 0, err)
        self.assertRegex(err, r"tier +compiled")
        self.assertRegex(err, r"native code +[0-9.]+ ms \(precompiled \.cwasm\)")

    def test_compile_wasi_program_with_output(self):
        code, _, err, _ = kiln("compile", "--portable", "-o", "out/../prog-portable.cwasm", "prog.wasm")
        self.assertEqual(code, 1)  # out/ does not exist
        self.assertIn("cannot write", err)
        code, _, err, _ = kiln("compile", "--portable", "-o", "prog-portable.cwasm", "prog.wasm")
        self.assertEqual((code, err), (0, ""))
        code, out, err, _ = kiln("prog-portable.cwasm", "args", "x")
        self.assertEqual((code, out, err), (0, "0:prog-portable.cwasm\n1:args\n2:x\n", ""))
        code, _, err, _ = kiln("prog-portable.cwasm", "exit", "7")
        self.assertEqual(code, 7)

    def test_compile_errors(self):
        self.one_line_error(["compile"], 2, "missing module path")
        self.one_line_error(["compile", "a.wasm", "b.wasm"], 2, "give one module")
        self.one_line_error(["compile", "--frob", "math.wasm"], 2, "unknown option '--frob'")
        self.one_line_error(["compile", "invalid.wasm"], 1, "invalid.wasm", "invalid module")
        self.one_line_error(["compile", "missing.wasm"], 1, "cannot read 'missing.wasm'")
        kiln("compile", "math.wasm", "-o", "again.cwasm")
        self.one_line_error(["compile", "again.cwasm", "-o", "twice.cwasm"], 1, "precompiled already")

    def test_corrupt_cwasm(self):
        kiln("compile", "math.wasm", "-o", "good.cwasm")
        with open(path("good.cwasm"), "rb") as f:
            data = f.read()
        damaged = {
            "flipped.cwasm": data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0x20]) + data[len(data) // 2 + 1:],
            "truncated.cwasm": data[:len(data) - 100],
            "short.cwasm": data[:5],
        }
        for name, content in damaged.items():
            with open(path(name), "wb") as f:
                f.write(content)
        self.one_line_error(["run", "--invoke", "add", "flipped.cwasm", "1", "2"], 1, "flipped.cwasm",
                            "malformed module", "precompiled module: checksum mismatch")
        self.one_line_error(["run", "--invoke", "add", "truncated.cwasm", "1", "2"], 1, "truncated.cwasm",
                            "precompiled module: truncated")
        # five bytes of the magic are not an artifact (nor wasm): malformed either way
        self.one_line_error(["run", "short.cwasm"], 1, "short.cwasm", "malformed module")

    def test_cwasm_for_another_machine(self):
        kiln("compile", "math.wasm", "-o", "good.cwasm")
        with open(path("good.cwasm"), "rb") as f:
            data = f.read()
        cases = {
            "cpu": (b"some-other-cpu", "was compiled for a different CPU 'some-other-cpu' (this machine: '"),
            "compiler": (b"LLVM 7.0.0, build 0000000000000000", "was compiled for a different compiler 'LLVM 7.0.0"),
            "options": (b"O0", "was compiled for a different code generation options 'O0'"),
        }
        for field, (value, message) in cases.items():
            name = "other-" + field + ".cwasm"
            with open(path(name), "wb") as f:
                f.write(cwasm_with(data, field, value))
            line = self.one_line_error(["run", "--invoke", "add", name, "1", "2"], 1, name + " " + message)
            self.assertIn("recompile it with kiln compile", line)
        abi = bytearray(data)
        abi[56 + 32] ^= 1  # the ABI version
        abi[24:56] = hashlib.sha256(bytes(abi[:24]) + bytes(abi[56:])).digest()
        with open(path("other-abi.cwasm"), "wb") as f:
            f.write(bytes(abi))
        self.one_line_error(["run", "--invoke", "add", "other-abi.cwasm", "1", "2"], 1,
                            "other-abi.cwasm was compiled for a different kiln ABI", "recompile it with kiln compile")

    def test_cache_miss_then_hit(self):
        cache = path("run-cache")
        args = ["run", "--tier=compiled", "--cache-dir", cache, "--stats", "--invoke", "add", "math.wasm", "2", "3"]
        code, out, err, _ = kiln(*args)
        self.assertEqual((code, out), (0, "5\n"), err)
        self.assertRegex(err, r"native code +[0-9.]+ ms \(compiled, cache miss: no entry; stored\)")
        entries = os.listdir(cache)
        self.assertEqual(len(entries), 1)
        self.assertTrue(entries[0].endswith(".cwasm"))
        code, out, err, _ = kiln(*args)
        self.assertEqual((code, out), (0, "5\n"), err)
        self.assertRegex(err, r"native code +[0-9.]+ ms \(cache hit\)")
        # a corrupt entry is refused, recompiled and replaced
        entry = os.path.join(cache, entries[0])
        with open(entry, "r+b") as f:
            f.seek(200)
            b = f.read(1)
            f.seek(200)
            f.write(bytes([b[0] ^ 1]))
        code, out, err, _ = kiln(*args)
        self.assertEqual((code, out), (0, "5\n"), err)
        self.assertIn("cache miss: entry rejected: checksum mismatch", err)
        self.assertIn("; stored)", err)
        self.assertRegex(kiln(*args)[2], r"\(cache hit\)")

    def test_default_cache_dir_and_no_cache(self):
        xdg = path("xdg")
        env = dict(os.environ, XDG_CACHE_HOME=xdg)
        r = subprocess.run([KILN, "--tier=compiled", "--invoke", "add", "math.wasm", "1", "1"], capture_output=True,
                           text=True, cwd=WORK, env=env)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "2\n", ""))
        self.assertEqual(len(os.listdir(os.path.join(xdg, "kiln"))), 1)
        env = dict(os.environ, XDG_CACHE_HOME=path("xdg-unused"))
        r = subprocess.run([KILN, "--tier=compiled", "--no-cache", "--stats", "--invoke", "add", "math.wasm", "1", "1"],
                           capture_output=True, text=True, cwd=WORK, env=env)
        self.assertEqual((r.returncode, r.stdout), (0, "2\n"), r.stderr)
        self.assertIn("(compiled, cache off)", r.stderr)
        self.assertFalse(os.path.exists(path("xdg-unused")))
        # the interpreter neither reads nor writes the cache
        r = subprocess.run([KILN, "--invoke", "add", "math.wasm", "1", "1"], capture_output=True, text=True, cwd=WORK,
                           env=env)
        self.assertEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(path("xdg-unused")))

    def test_unwritable_cache_dir(self):
        with open(path("not-a-dir"), "w") as f:
            f.write("x")
        code, out, err, _ = kiln("run", "--tier=compiled", "--cache-dir", path("not-a-dir/cache"), "--stats",
                                 "--invoke", "add", "math.wasm", "2", "2")
        self.assertEqual((code, out), (0, "4\n"), err)
        self.assertIn("cannot create cache directory", err)

    def test_cache_flag_errors(self):
        self.one_line_error(["run", "--cache-dir", "", "math.wasm"], 2, "--cache-dir needs a directory")
        self.one_line_error(["run", "--cache-dir"], 2, "needs a value")


def main():
    global KILN, WORK
    if len(sys.argv) < 2:
        sys.exit("usage: test_cli.py PATH/TO/kiln [unittest options]")
    KILN = os.path.abspath(sys.argv.pop(1))
    with tempfile.TemporaryDirectory(prefix="kiln-cli-") as work:
        WORK = work
        os.environ["XDG_CACHE_HOME"] = os.path.join(work, "cache")
        build_modules()
        unittest.main(verbosity=1)


if __name__ == "__main__":
    main()
