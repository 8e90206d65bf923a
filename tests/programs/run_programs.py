#!/usr/bin/env python3
"""run_programs.py - runs kzip natively and on kiln and checks that the two agree byte for byte.

    run_programs.py --kiln build/kiln --native build/kzip --wasm build/kzip.wasm
                    [--hello-native build/hello --hello-wasm build/hello.wasm]
                    [--scale 1.0] [--keep] [--node]
    run_programs.py --skip REASON      (prints why, exits 77: CTest's skip)

A deterministic corpus (repetitive text, seeded random bytes, an empty and a 1-byte file, a
3 MB file times --scale, nested and empty directories, UTF-8 names) goes into a temporary
directory TMP. Each step runs twice: `kzip ARGS` natively with paths under TMP, and
`kiln run --dir TMP::/work kzip.wasm ARGS` with the same paths under /work. Both runs must
give the same exit code, stdout and stderr, and write the same archive bytes; extraction must
reproduce the corpus. Corrupt, truncated and unsafe archives must fail alike, and archives
must stream through stdin and stdout. --node runs the wasm side on Node's node:wasi instead
of kiln (a stand-in, for comparing). Exit status: 0 pass, 1 fail, 77 skipped.
"""
import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

SKIP = 77
GUEST_ROOT = "/work"

NODE_RUNNER = r"""
const [wasmPath, hostRoot, ...args] = process.argv.slice(1);
const { WASI } = require('node:wasi');
const wasi = new WASI({ version: 'preview1', args, env: {}, returnOnExit: true,
                        preopens: { '/work': hostRoot } });
const module = new WebAssembly.Module(require('fs').readFileSync(wasmPath));
const instance = new WebAssembly.Instance(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
"""


class Failure(Exception):
    pass


class Runner:
    """One way of running a program: natively (root = TMP) or on a wasm runtime (root = /work)."""

    def __init__(self, name, prefix, root):
        self.name, self.prefix, self.root = name, prefix, root
        self.seconds = 0.0

    def path(self, relative):
        return self.root + "/" + relative

    def run(self, args, stdin=b""):
        start = time.monotonic()
        proc = subprocess.run(self.prefix + args, input=stdin, capture_output=True, timeout=240)
        self.seconds += time.monotonic() - start
        return proc.returncode, proc.stdout, proc.stderr


# ---------------------------------------------------------------- the corpus

WORDS = ("the quick brown fox jumps over lazy dog kiln wasm runtime archive compress "
         "huffman window match literal length distance table block stream byte").split()


def words_text(rng, size):
    out, line = [], []
    total = 0
    while total < size:
        word = rng.choice(WORDS)
        line.append(word)
        if len(line) >= rng.randint(6, 14):
            text = " ".join(line) + ".\n"
            out.append(text)
            total += len(text)
            line = []
    return "".join(out).encode()[:size]


def big_file(rng, size):
    """Mixed material: text, seeded noise, long runs, and repeats farther back than 32 KiB."""
    parts, total = [], 0
    while total < size:
        kind = rng.randrange(4)
        if kind == 0:
            chunk = words_text(rng, rng.randint(10_000, 60_000))
        elif kind == 1:
            chunk = rng.randbytes(rng.randint(1_000, 20_000))
        elif kind == 2:
            chunk = bytes([rng.randrange(256)]) * rng.randint(100, 5_000)
        else:
            joined = b"".join(parts)
            if len(joined) < 50_000:
                continue
            start = rng.randrange(len(joined) - 40_000)
            chunk = joined[start:start + rng.randint(300, 40_000)]
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)[:size]


def make_corpus(top, scale):
    """Write the corpus below top; returns {relative path: bytes or None for a directory}."""
    rng = random.Random(20240601)
    text = words_text(rng, 150_000)
    entries = {
        "text.txt": text,
        "random.bin": rng.randbytes(int(120_000 * min(scale, 1))),
        "empty.txt": b"",
        "one.bin": b"\x7f",
        "big.dat": big_file(rng, int(3_000_000 * scale)),
        "nested": None,
        "nested/a": None,
        "nested/a/b": None,
        "nested/a/b/c": None,
        "nested/a/b/c/deep.txt": text[:5000],
        "nested/a/notes.md": words_text(rng, 3_000),
        "nested/empty-dir": None,
        "données": None,
        "données/résumé.txt": "Ça marche : élève, garçon, naïve.\n".encode() * 40,
        "日本語": None,
        "日本語/ファイル.txt": "圧縮のテスト。".encode() * 300,
        "emoji-🎉.txt": "🎉🦀".encode() * 100,
        "many": None,
    }
    for i in range(24):
        entries[f"many/file{i:02d}.txt"] = words_text(rng, rng.randint(0, 2_000))
    for relative, data in sorted(entries.items()):
        path = os.path.join(top, relative)
        if data is None:
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
    return entries


def read_tree(top):
    """{relative path: bytes or None} of everything below top."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        for d in dirnames:
            tree[os.path.normpath(os.path.join(rel, d))] = None
        for f in filenames:
            with open(os.path.join(dirpath, f), "rb") as fh:
                tree[os.path.normpath(os.path.join(rel, f))] = fh.read()
    return tree


def expected_order(entries, prefix):
    """Entry names in the order kzip must store them: a directory, then its entries by bytes."""
    children = {}
    for relative in entries:
        parent, _, name = relative.rpartition("/")
        children.setdefault(parent, []).append(name)
    order = [(prefix, None)]

    def walk(parent):
        for name in sorted(children.get(parent, []), key=lambda n: n.encode()):
            relative = parent + "/" + name if parent else name
            order.append((prefix + "/" + relative, entries[relative]))
            if entries[relative] is None:
                walk(relative)

    walk("")
    return order


def parse_archive(data):
    """An independent reader of the kzip format (kzip.c's header comment): [(type, name, fields)]."""
    if data[:6] != b"KZIP\x01\x00":
        raise Failure("archive: bad magic")
    pos, entries = 6, []
    while True:
        kind = data[pos:pos + 1]
        pos += 1
        if kind == b"E":
            (count,) = struct.unpack_from("<I", data, pos)
            if count != len(entries) or pos + 4 != len(data):
                raise Failure("archive: bad end record")
            return entries
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2:pos + 2 + name_len].decode()
        pos += 2 + name_len
        if kind == b"D":
            entries.append(("D", name, None))
            continue
        if kind != b"F":
            raise Failure(f"archive: bad entry type {kind!r}")
        method, size, packed, crc = struct.unpack_from("<BQQI", data, pos)
        pos += 21
        entries.append(("F", name, (method, size, packed, crc, pos)))
        pos += packed


# ---------------------------------------------------------------- checks

class Checker:
    def __init__(self, native, wasm, tmp):
        self.native, self.wasm, self.tmp = native, wasm, tmp
        self.passed = 0

    def check(self, condition, what):
        if not condition:
            raise Failure(what)
        self.passed += 1

    def both(self, label, make_args, stdin=b"", expect_rc=0, normalize_root=False):
        """Run one step with both runners; they must agree. Returns (rc, stdout, stderr)."""
        results = []
        for runner in (self.native, self.wasm):
            rc, out, err = runner.run(make_args(runner), stdin)
            if normalize_root:
                out = out.replace(runner.root.encode(), b"<ROOT>")
                err = err.replace(runner.root.encode(), b"<ROOT>")
            results.append((rc, out, err))
        (rc_n, out_n, err_n), (rc_w, out_w, err_w) = results
        detail = (f"\n  native: exit {rc_n}, stderr {err_n[-600:]!r}"
                  f"\n  {self.wasm.name}: exit {rc_w}, stderr {err_w[-600:]!r}")
        self.check(rc_n == rc_w, f"{label}: exit codes differ{detail}")
        self.check(err_n == err_w, f"{label}: stderr differs{detail}")
        if out_n != out_w:
            raise Failure(f"{label}: stdout differs ({len(out_n)} vs {len(out_w)} bytes, first "
                          f"difference at {first_difference(out_n, out_w)}){detail}")
        self.check(expect_rc is None or rc_n == expect_rc,
                   f"{label}: exit {rc_n}, expected {expect_rc}{detail}")
        print(f"ok  {label} (exit {rc_n}, {len(out_n)} bytes out)")
        return rc_n, out_n, err_n

    def same_files(self, label, relative_native, relative_wasm):
        with open(os.path.join(self.tmp, relative_native), "rb") as f:
            a = f.read()
        with open(os.path.join(self.tmp, relative_wasm), "rb") as f:
            b = f.read()
        self.check(a == b, f"{label}: {relative_native} and {relative_wasm} differ "
                           f"({len(a)} vs {len(b)} bytes, first difference at {first_difference(a, b)})")
        return a


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def corrupt_copies(archive):
    """Damaged archives, each with the error kzip must report and the exit code."""
    entries = parse_archive(archive)
    big = next(fields for kind, name, fields in entries if name == "corpus/big.dat")
    text = next(fields for kind, name, fields in entries if name == "corpus/text.txt")
    method, size, packed, crc, offset = big
    flipped = bytearray(archive)
    flipped[offset + packed // 2] ^= 0x10
    bad_crc = bytearray(archive)
    bad_crc[text[4] - 1] ^= 0xFF  # the last byte of text.txt's CRC field

    def with_unsafe(bad_name):
        unsafe = bytearray(b"KZIP\x01\x00")
        for name, data in (("fine.txt", b"ok\n"), (bad_name, b"escaped\n")):
            unsafe += b"F" + struct.pack("<H", len(name)) + name.encode()
            unsafe += struct.pack("<BQQI", 0, len(data), len(data), zlib.crc32(data)) + data
        return bytes(unsafe + b"E" + struct.pack("<I", 2))
    return [
        ("flipped-bit", bytes(flipped), None),
        ("bad-crc", bytes(bad_crc), b"CRC mismatch"),
        ("truncated", archive[:len(archive) * 2 // 3], None),
        ("dotdot-name", with_unsafe("../evil.txt"), b"refusing unsafe entry name '../evil.txt'"),
        ("absolute-name", with_unsafe("/evil.txt"), b"refusing unsafe entry name '/evil.txt'"),
        ("not-an-archive", b"PK\x03\x04 this is something else", b"not a kzip archive"),
    ]


def run_checks(c, corpus, hello):
    tmp = c.tmp
    archive_of = {c.native: "native.kz", c.wasm: "wasm.kz"}
    outdir_of = {c.native: "out-native", c.wasm: "out-wasm"}

    c.both("c: create an archive of the corpus",
           lambda r: ["c", "-C", r.root, r.path(archive_of[r]), "corpus"])
    archive = c.same_files("c: archive bytes", "native.kz", "wasm.kz")
    stored = parse_archive(archive)
    expected = expected_order(corpus, "corpus")
    c.check([(name, kind) for kind, name, _ in stored] ==
            [(name, "D" if data is None else "F") for name, data in expected],
            "archive: entries are not the corpus in sorted order")
    for (kind, name, fields), (_, data) in zip(stored, expected):
        if kind == "F":
            method, size, packed, crc, _ = fields
            c.check(size == len(data) and crc == zlib.crc32(data), f"archive: {name}: size or CRC")
    big = next(fields for kind, name, fields in stored if name == "corpus/big.dat")
    c.check(big[0] == 1 and big[2] < big[1] * 0.8, "archive: big.dat did not compress")
    print(f"ok  archive: {len(archive)} bytes, {len(stored)} entries, as the corpus")

    _, listing, _ = c.both("l: list", lambda r: ["l", r.path(archive_of[r])])
    c.check(b"corpus/big.dat" in listing and "日本語/ファイル.txt".encode() in listing, "l: names missing")
    c.both("t: test", lambda r: ["t", r.path(archive_of[r])])
    c.both("x: extract", lambda r: ["x", r.path(archive_of[r]), r.path(outdir_of[r])])
    for runner in (c.native, c.wasm):
        tree = read_tree(os.path.join(tmp, outdir_of[runner], "corpus"))
        c.check(tree == corpus, f"x: {runner.name}'s extraction differs from the corpus: "
                f"{sorted(set(tree.items()) ^ set(corpus.items()), key=str)[:3]}")
    print("ok  x: both extractions reproduce the corpus")
    c.both("c -9 -C: a file and a directory, level 9",
           lambda r: ["c", "-9", "-C", r.path("corpus"), r.path(archive_of[r] + "9"), "text.txt", "nested/"])
    c.same_files("c -9: archive bytes", "native.kz9", "wasm.kz9")
    c.both("c -0: stored only", lambda r: ["c", "-0", "-C", r.root, r.path(archive_of[r] + "0"), "corpus/many"])
    c.same_files("c -0: archive bytes", "native.kz0", "wasm.kz0")

    # streaming: stdin to stdout both ways
    with open(os.path.join(tmp, "corpus", "big.dat"), "rb") as f:
        big_data = f.read()
    _, streamed, _ = c.both("c - -: stdin to an archive on stdout", lambda r: ["c", "-", "-"], stdin=big_data)
    c.check(parse_archive(streamed)[0][1] == "stdin", "c - -: entry is not named stdin")
    _, unpacked, _ = c.both("x - -: an archive on stdin to stdout", lambda r: ["x", "-", "-"], stdin=streamed)
    c.check(unpacked == big_data, "x - -: output differs from the input")
    _, piped, _ = c.both("c - DIR: a directory archive to stdout",
                         lambda r: ["c", "-C", r.root, "-", "corpus"])
    c.check(piped == archive, "c - DIR: differs from the archive written to a file")
    c.both("l -: list from stdin", lambda r: ["l", "-"], stdin=archive)
    c.both("t -: test from stdin", lambda r: ["t", "-"], stdin=archive)

    # damaged and hostile archives fail, the same way on both
    for name, data, message in corrupt_copies(archive):
        with open(os.path.join(tmp, f"bad-{name}.kz"), "wb") as f:
            f.write(data)
        for command in ("t", "x"):
            rc, _, err = c.both(f"{command}: {name} archive",
                                lambda r: [command, r.path(f"bad-{name}.kz")] +
                                          ([r.path(f"out-bad-{r.name}")] if command == "x" else []),
                                expect_rc=3)
            c.check(message is None or message in err, f"{name}: expected {message!r} in {err!r}")
        c.both(f"t -: {name} archive on stdin", lambda r: ["t", "-"], stdin=data, expect_rc=3)
    c.check(not os.path.exists(os.path.join(tmp, "evil.txt")), "dotdot-name: a file escaped")

    # errors the host reports
    c.both("l: a missing archive", lambda r: ["l", r.path("missing.kz")], expect_rc=2, normalize_root=True)
    c.both("c: a missing input", lambda r: ["c", "-C", r.root, r.path("never.kz"), "no-such-dir"],
           expect_rc=2, normalize_root=True)
    c.both("usage: no arguments", lambda r: [], expect_rc=1)
    c.both("usage: unknown option", lambda r: ["c", "-q", "a.kz", "b"], expect_rc=1)

    for argv in hello:
        proc = subprocess.run(argv, capture_output=True, timeout=60)
        c.check((proc.returncode, proc.stdout, proc.stderr) == (0, b"hello, world\n", b""),
                f"hello: {argv}: exit {proc.returncode}, stdout {proc.stdout!r}, stderr {proc.stderr!r}")
        print(f"ok  hello: {os.path.basename(argv[-1])} prints 'hello, world'")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kiln")
    parser.add_argument("--native")
    parser.add_argument("--wasm")
    parser.add_argument("--hello-native")
    parser.add_argument("--hello-wasm")
    parser.add_argument("--scale", type=float, default=1.0, help="size factor for the 3 MB file")
    parser.add_argument("--node", action="store_true", help="run the wasm on node:wasi, not kiln")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--skip", metavar="REASON", help="report a skip and exit 77")
    args = parser.parse_args()
    if args.skip:
        print(f"SKIP: {args.skip}")
        return SKIP
    if not args.native or not args.wasm or not (args.kiln or args.node):
        parser.error("--native, --wasm and --kiln (or --node) are needed")
    for path in (args.native, args.wasm) + ((args.kiln,) if not args.node else ()):
        if not os.path.exists(path):
            print(f"SKIP: {path} does not exist")
            return SKIP

    tmp = os.path.realpath(tempfile.mkdtemp(prefix="kiln-programs-"))
    corpus = make_corpus(os.path.join(tmp, "corpus"), args.scale)
    native = Runner("native", [os.path.abspath(args.native)], tmp)
    wasm_path = os.path.abspath(args.wasm)
    if args.node:
        wasm = Runner("node", ["node", "--no-warnings", "-e", NODE_RUNNER, wasm_path, tmp, "kzip"], GUEST_ROOT)
    else:
        wasm = Runner("kiln", [os.path.abspath(args.kiln), "run", "--dir", f"{tmp}::{GUEST_ROOT}",
                               wasm_path], GUEST_ROOT)
    hello = []  # argvs that must print "hello, world"
    if args.hello_native and args.hello_wasm and not args.node:
        hello = [[os.path.abspath(args.hello_native)],
                 [os.path.abspath(args.kiln), "run", os.path.abspath(args.hello_wasm)]]
    checker = Checker(native, wasm, tmp)
    size = sum(len(d) for d in corpus.values() if d is not None)
    print(f"corpus: {len(corpus)} entries, {size} bytes in {tmp}")
    try:
        run_checks(checker, corpus, hello)
    except Failure as failure:
        print(f"FAIL: {failure}")
        print(f"(files kept in {tmp})")
        return 1
    except subprocess.TimeoutExpired as timeout:
        print(f"FAIL: timed out: {timeout.cmd}")
        return 1
    if not args.keep:
        shutil.rmtree(tmp)
    print(f"PASS: {checker.passed} checks; native {native.seconds:.2f} s, "
          f"{wasm.name} {wasm.seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
