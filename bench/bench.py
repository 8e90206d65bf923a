#!/usr/bin/env python3
"""bench.py - the harness behind `make bench` (standard library only).

    python3 bench/bench.py [--quick] [--rounds N] [--kernels a,b] [--runners kiln,v8,...]
                           [--peer 'name=command'] [--build-dir build-bench]
                           [--results bench/results] [--no-micro] [--no-chart]
                           [--command "make bench"]

Runs every benchmark on every runner, checks the outputs and summarises the times:

  * benchmarks: the kernels bench/kernels/NAME.c, built by bench/build.sh into native
    programs (BUILD/native-gcc/NAME, BUILD/native-clang/NAME) and a WASI command
    (BUILD/wasm/NAME.wasm; kernels that #define BENCH_SIMD 1 also NAME-simd.wasm, built with
    -msimd128, a benchmark of its own). Each takes n (BENCH_N, or BENCH_N_QUICK with --quick,
    read from the source) as argv[1] and prints `checksum=<u32>`.
  * runners: native-gcc and native-clang (the native programs), kiln (`kiln run --tier=interp`,
    the interpreter), kiln-auto (`kiln run`'s default tier from a cold cache), kiln-compiled (`kiln run --tier=compiled`, its code cache warm from the
    warm-up run) and kiln-compiled-cold (the same with --no-cache: LLVM compiles at every
    run), when the kiln command has the LLVM tier, v8 (Node.js, bench/run_v8.mjs with
    node:wasi), and peers: `--peer` options
    and $KILN_BENCH_PEERS, one `name=command` per entry, entries separated by `;` or newlines.
    In a command {wasm} is the .wasm file, {args} the program's arguments (a word of its
    own: it becomes as many words as there are arguments; today just n), {n} the n, {name}
    the benchmark:
        KILN_BENCH_PEERS='wasm3=/opt/wasm3 {wasm} {args};iwasm=/opt/iwasm {wasm} {args}'
  * method: every run is one whole process, timed from spawn to exit (wall clock), start-up
    included: all runners are timed alike. Per benchmark, a warm-up of every runner (with
    the QUICK n, to load files and code into the caches; every run is a fresh process, so
    nothing else carries over), then N rounds interleaved across the runners (A B C A B C
    ...). Every run's checksum must equal native-gcc's for the same n. Per runner the
    median, min and max of the rounds; per benchmark the ratio of each median to
    native-gcc's; per runner the geometric mean of the ratios over the default (no
    -msimd128) builds, which every runner can run.
  * start-up: `hello.wasm` (tests/programs/hello.c) on every runner against the native
    hello, interleaved, many rounds (the figure bench/startup.py measures for kiln alone).
    Each runner's start-up median is also subtracted from its kernel times for a second
    geometric mean, which matters for Node (tens of ms) and nothing else.
  * checks: `kiln run` against a kiln built without the interrupt and fuel checks
    (BUILD/kiln-nochecks, -DKILN_BENCH_NO_CHECKS) and against `kiln run --fuel`, on a few
    kernels: what the checks cost.
  * micro: the output of BUILD/micro (compile throughput, instantiation, host-to-wasm
    calls), appended to the report; and the compiled tier's compile time: `kiln compile` of
    the big generated module and of some kernels (ms per MB of wasm, peak RSS).
  * output: a Markdown report on stdout and in RESULTS/latest.md (date, machine, load,
    exact command), the figures in RESULTS/latest.csv, a chart of the ratios in
    RESULTS/latest.svg and latest.png (gnuplot, when installed: `scripts/deps.sh --bench`),
    and copies of the .md and .csv as RESULTS/{quick,full}.{md,csv}.

Failures: a run that fails or prints a wrong checksum is an error. For native-gcc,
native-clang, kiln and v8 it makes the exit status 1; a peer's failures (wasm3 cannot run
SIMD, for one) are reported in the tables and do not.
"""
import argparse
import csv
import datetime
import math
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_SECONDS = 600  # one run of one benchmark on one runner
OWN_RUNNERS = ("native-gcc", "native-clang", "kiln", "kiln-compiled", "kiln-compiled-cold", "kiln-auto", "v8")
BASE = "native-gcc"  # the runner every ratio divides by


# ---------------------------------------------------------------- benchmarks

class Benchmark:
    """One program to time: a WASI command, its native twins and its arguments."""

    def __init__(self, name, kernel, wasm, n, quick_n, simd):
        self.name = name        # NAME, or NAME-simd for the -msimd128 build
        self.kernel = kernel    # NAME
        self.wasm = wasm
        self.n = n
        self.warmup_n = max(1, quick_n // 10)  # the warm-up's n: a hundredth of the work
        self.quick_n = quick_n
        self.simd = simd        # built with -msimd128

    def native(self, build_dir, compiler):
        return os.path.join(build_dir, "native-" + compiler, self.kernel)


def read_kernel_defines(source):
    """(BENCH_N, BENCH_N_QUICK, BENCH_SIMD) from a kernel's #defines."""
    with open(source, encoding="utf-8") as f:
        text = f.read()
    full = re.search(r"^#define\s+BENCH_N\s+(\d+)\s*$", text, re.M)
    quick = re.search(r"^#define\s+BENCH_N_QUICK\s+(\d+)\s*$", text, re.M)
    simd = re.search(r"^#define\s+BENCH_SIMD\s+1\s*$", text, re.M)
    if not full or not quick:
        raise SystemExit(f"bench.py: {source} lacks #define BENCH_N / BENCH_N_QUICK")
    return int(full.group(1)), int(quick.group(1)), bool(simd)


def kernel_benchmarks(build_dir, quick, only):
    kernels_dir = os.path.join(ROOT, "bench", "kernels")
    out = []
    for file in sorted(os.listdir(kernels_dir)):
        if not file.endswith(".c"):
            continue
        kernel = file[:-2]
        full, quick_n, simd = read_kernel_defines(os.path.join(kernels_dir, file))
        n = quick_n if quick else full
        builds = [(kernel, False)] + ([(kernel + "-simd", True)] if simd else [])
        for name, is_simd in builds:
            if only and name not in only and kernel not in only:
                continue
            out.append(Benchmark(name, kernel, os.path.join(build_dir, "wasm", name + ".wasm"),
                                 n, quick_n, is_simd))
    if only:
        missing = set(only) - {b.name for b in out} - {b.kernel for b in out}
        if missing:
            raise SystemExit("bench.py: no such kernel: " + ", ".join(sorted(missing)))
    return out


# ---------------------------------------------------------------- running a process

class Result:
    def __init__(self, seconds=None, checksum=None, error=None, output=""):
        self.seconds = seconds    # wall clock, spawn to exit
        self.checksum = checksum  # None when the output has none
        self.error = error
        self.output = output


CHECKSUM_RE = re.compile(r"checksum=(-?\d+)")


def run_process(argv, scratch):
    """Spawn argv with stdout and stderr in scratch files; time it from spawn to exit."""
    out_path, err_path = scratch
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        actions = [(os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
                   (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
        start = time.perf_counter()
        try:
            pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        except OSError as e:
            return Result(error=f"cannot run {argv[0]}: {e.strerror}")
        timer = threading.Timer(TIMEOUT_SECONDS, lambda: os.kill(pid, 9))
        timer.start()
        _, status = os.waitpid(pid, 0)
        seconds = time.perf_counter() - start
        timer.cancel()
    with open(out_path, "rb") as f:
        output = f.read().decode("utf-8", "replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        with open(err_path, "rb") as f:
            lines = (f.read().decode("utf-8", "replace").strip() or output.strip()).splitlines()
        what = f"killed after {TIMEOUT_SECONDS} s" if code == -9 else f"exit status {code}"
        return Result(seconds, error=what + (": " + lines[-1][:200] if lines else ""), output=output)
    match = CHECKSUM_RE.search(output)
    checksum = int(match.group(1)) % (1 << 32) if match else None
    return Result(seconds, checksum, output=output)


# ---------------------------------------------------------------- runners

class Runner:
    """How to run a benchmark: an argv template."""

    def __init__(self, name, template, description, peer=False):
        self.name = name
        self.template = template
        self.description = description
        self.peer = peer

    def argv(self, bench, build_dir, args):
        values = {"wasm": bench.wasm, "name": bench.name, "n": args[0] if args else "",
                  "args": " ".join(args), "native-gcc": bench.native(build_dir, "gcc"),
                  "native-clang": bench.native(build_dir, "clang")}
        argv = []
        for word in self.template:
            if word == "{args}":  # a word of its own: one word per argument
                argv += args
            else:
                argv.append(re.sub(r"\{([a-z-]+)\}", lambda m: values.get(m.group(1), m.group(0)), word))
        if argv and not os.path.isabs(argv[0]):
            found = shutil.which(argv[0])
            if found:
                argv[0] = found
        return argv


def parse_peers(entries):
    peers = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        name, sep, command = entry.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.+-]+", name) or not command.strip():
            raise SystemExit(f"bench.py: peer '{entry}' is not name=command")
        if name in OWN_RUNNERS:
            raise SystemExit(f"bench.py: peer name '{name}' is taken by a built-in runner")
        template = shlex.split(command)
        if "{wasm}" not in command:
            raise SystemExit(f"bench.py: peer '{name}': the command has no {{wasm}}")
        peers.append(Runner(name, template, f"`{command.strip()}`", peer=True))
    return peers


def has_compiled_tier(kiln):
    """Whether the kiln command has the LLVM tier (and its cache)."""
    if not os.path.exists(kiln):
        return False
    proc = subprocess.run([kiln, "help", "run"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return b"--cache-dir" in proc.stdout and subprocess.run(
        [kiln, "run", "--tier=compiled", "--no-cache", "--invoke", "x", "/dev/null"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).stderr.find(b"built without the compiled tier") < 0


def make_runners(build_dir, peer_options, only):
    runners = [
        Runner("native-gcc", ["{native-gcc}", "{args}"], "the C source built with gcc -O2"),
        Runner("native-clang", ["{native-clang}", "{args}"], "the C source built with clang-19 -O2"),
        Runner("kiln", [os.path.join(build_dir, "kiln", "kiln"), "run", "--tier=interp", "{wasm}", "{args}"],
               "`kiln run --tier=interp` (the interpreter), a Release build of this tree"),
    ]
    kiln = os.path.join(build_dir, "kiln", "kiln")
    if has_compiled_tier(kiln):
        runners += [
            Runner("kiln-compiled", [kiln, "run", "--tier=compiled", "--cache-dir", os.path.join(build_dir, "kiln-cache"),
                                     "{wasm}", "{args}"],
                   "`kiln run --tier=compiled` with its compiled-code cache warm (the warm-up run fills "
                   "it): LLVM 19 at -O2 for this CPU, guarded memories"),
            Runner("kiln-compiled-cold", [kiln, "run", "--tier=compiled", "--no-cache", "{wasm}", "{args}"],
                   "the same compiling the module at every run (LLVM on every core; compile time included)"),
            Runner("kiln-auto", [kiln, "run", "--tier=auto", "--no-cache", "{wasm}", "{args}"],
                   "`kiln run` in its default tier, auto, from a cold cache: interpreted first, hot functions "
                   "compiled in the background (no on-stack replacement: a loop that is already running stays "
                   "interpreted)"),
        ]
    else:
        print("bench.py: this kiln has no compiled tier (LLVM 19 static libraries): no compiled columns",
              file=sys.stderr)
    node = shutil.which("node")
    if node:
        version = command_output([node, "--version"])
        runners.append(Runner("v8", [node, "--no-warnings", os.path.join(ROOT, "bench", "run_v8.mjs"),
                                     "{wasm}", "{args}"],
                              f"Node.js {version} (V8, default tiering), node:wasi: `bench/run_v8.mjs`"))
    else:
        print("bench.py: node not found: no v8 column", file=sys.stderr)
    entries = re.split(r"[;\n]", os.environ.get("KILN_BENCH_PEERS", "")) + list(peer_options or [])
    runners += parse_peers(entries)
    if only:
        unknown = set(only) - {r.name for r in runners}
        if unknown:
            raise SystemExit("bench.py: no such runner: " + ", ".join(sorted(unknown)))
        runners = [r for r in runners if r.name in only or r.name == BASE]
    if len({r.name for r in runners}) != len(runners):
        raise SystemExit("bench.py: two runners have the same name")
    return runners


# ---------------------------------------------------------------- measuring

class Cell:
    """The rounds of one benchmark on one runner."""

    def __init__(self):
        self.times = []
        self.checksum = None
        self.error = None

    def stats(self):
        if self.error or not self.times:
            return None
        return statistics.median(self.times), min(self.times), max(self.times)


SKIPPED = "skipped"  # a peer on a -simd build without --simd-peers


def measure(benchmarks, runners, rounds, build_dir, scratch, simd_peers, log):
    cells = {}
    for bench in benchmarks:
        log(f"== {bench.name} (n={bench.n})")
        row = {r.name: Cell() for r in runners}
        cells[bench.name] = row
        warm_expected = None
        for runner in runners:  # warm-up, with a small n: checks every runner once
            if bench.simd and runner.peer and not simd_peers:
                row[runner.name].error = SKIPPED
                continue
            result = run_process(runner.argv(bench, build_dir, [str(bench.warmup_n)]), scratch)
            if result.error is None and runner.name == BASE:
                warm_expected = result.checksum
            if result.error is None and result.checksum != warm_expected:
                result.error = f"warm-up checksum {result.checksum} differs from {BASE}'s {warm_expected}"
            if result.error:
                row[runner.name].error = "warm-up: " + result.error
                log(f"   warm-up {runner.name}: FAILED {result.error}")
            else:
                log(f"   warm-up {runner.name}: {result.seconds:.3f} s")
        expected = None
        for i in range(rounds):
            line = []
            for runner in runners:
                cell = row[runner.name]
                if cell.error:
                    continue
                result = run_process(runner.argv(bench, build_dir, [str(bench.n)]), scratch)
                if result.error is None and runner.name == BASE and expected is None:
                    expected = result.checksum
                if result.error is None and (result.checksum is None or result.checksum != expected):
                    result.error = f"checksum {result.checksum} differs from {BASE}'s {expected}"
                if result.error:
                    cell.error = result.error
                    log(f"   {runner.name}: FAILED {result.error}")
                    continue
                cell.times.append(result.seconds)
                cell.checksum = result.checksum
                line.append(f"{runner.name} {result.seconds:.3f}")
            log(f"   round {i + 1}/{rounds}: " + ", ".join(line))
    return cells


def measure_startup(hello_wasm, runners, build_dir, rounds, scratch, log):
    """Median, min, max seconds of hello world on every runner, interleaved."""
    bench = Benchmark("hello", "hello", hello_wasm, 0, 0, False)
    log(f"== start-up: hello world, {rounds} rounds")
    if any(r.name == "kiln-compiled" for r in runners):  # and a precompiled module (`kiln compile`)
        kiln = os.path.join(build_dir, "kiln", "kiln")
        cwasm = os.path.join(os.path.dirname(scratch[0]), "hello.cwasm")
        made = run_process([kiln, "compile", hello_wasm, "-o", cwasm], scratch)
        runners = list(runners)
        if made.error is None:
            runners.insert(next(i for i, r in enumerate(runners) if r.name == "kiln-compiled") + 1,
                           Runner("kiln hello.cwasm", [kiln, "run", cwasm], "`kiln run hello.cwasm`"))
    times = {r.name: [] for r in runners}
    errors = {}
    for i in range(rounds + 3):  # 3 warm-up rounds
        for runner in runners:
            if runner.name in errors:
                continue
            result = run_process(runner.argv(bench, build_dir, []), scratch)
            if result.error is None and result.output != "hello, world\n":
                result.error = f"printed {result.output[:60]!r}"
            if result.error:
                errors[runner.name] = result.error
                log(f"   {runner.name}: FAILED {result.error}")
            elif i >= 3:
                times[runner.name].append(result.seconds)
    return {name: (statistics.median(t), min(t), max(t)) for name, t in times.items() if t}, errors


def measure_checks(build_dir, benchmarks, layouts, scratch, log):
    """kiln, kiln --fuel, and kiln without the checks on a few kernels (QUICK n).

    kiln's speed on some kernels moves by 10-30% with the process's memory layout (one more
    command-line argument is enough), which would swamp the few percent measured here. So
    every variant runs under the same `layouts` layouts, the k-th with k extra
    `--env KILN_BENCH_PADi=1` options, and the medians are over all of them."""
    kiln = os.path.join(build_dir, "kiln", "kiln")
    nochecks = os.path.join(build_dir, "kiln-nochecks", "kiln")
    variants = [("kiln", [kiln, "run", "--tier=interp"]),
                ("kiln --fuel", [kiln, "run", "--tier=interp", "--fuel", str(10 ** 19)]),
                ("no checks", [nochecks, "run", "--tier=interp"])]
    # the compiled tier's loop polls and fuel, when it is built (its caches warm from the
    # warm-up layout; each build its own directory)
    hello = os.path.join(build_dir, "wasm", "hello.wasm")
    probe = run_process([kiln, "run", "--tier=compiled", "--no-cache", hello], scratch)
    if probe.error is None:
        def compiled(binary, cache, *extra):
            return [binary, "run", "--tier=compiled", "--cache-dir", os.path.join(build_dir, cache), *extra]
        variants += [("compiled", compiled(kiln, "kiln-cache")),
                     ("compiled --fuel", compiled(kiln, "kiln-cache", "--fuel", str(10 ** 19))),
                     ("compiled no checks", compiled(nochecks, "kiln-nochecks-cache"))]
    picked = [b for b in benchmarks if b.name in ("fib", "sieve", "coremark")]
    results = []
    for bench in picked:
        log(f"== checks: {bench.name} (n={bench.quick_n}, {layouts} layouts)")
        times = {name: [] for name, _ in variants}
        checksums = set()
        for k in range(-1, layouts):  # layout -1: a warm-up
            pads = [f"--env=KILN_BENCH_PAD{i}=1" for i in range(max(k, 0))]
            for name, argv in variants:
                result = run_process(argv + pads + [bench.wasm, str(bench.quick_n)], scratch)
                if result.error:
                    return results, f"checks: {bench.name} on {name}: {result.error}"
                checksums.add(result.checksum)
                if k >= 0:
                    times[name].append(result.seconds)
        if len(checksums) != 1:
            return results, f"checks: {bench.name}: the variants' checksums differ: {sorted(checksums)}"
        results.append((bench, {name: statistics.median(t) for name, t in times.items()}, times))
    return results, None


# ---------------------------------------------------------------- reporting

def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def fmt_seconds(s):
    return f"{s:.3f}" if s >= 0.1 else f"{s * 1e3:.1f} ms"


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def command_output(argv):
    try:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                             timeout=30).stdout.decode("utf-8", "replace").strip()
        return out.splitlines()[0] if out else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "not found"


def machine_facts():
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    commit = command_output(["git", "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "include",
                            "tools", "bench", ":!bench/results"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT).stdout.strip()
    return [
        ("machine", f"{command_output(['nproc'])} CPUs ({cpu_model()}), {mem}, "
                    f"{platform.system()} {platform.release()}"),
        ("kiln", f"commit {commit}" + (" with uncommitted changes in src/, include/, tools/ or bench/" if dirty else "")),
        ("compilers", f"{command_output(['gcc', '--version'])}; {command_output(['clang-19', '--version'])}"),
    ]


class Report:
    def __init__(self, benchmarks, runners, cells):
        self.benchmarks = benchmarks
        self.runners = runners
        self.others = [r for r in runners if r.name != BASE]
        self.cells = cells

    def ratio(self, bench, runner, startup=None):
        row = self.cells.get(bench.name, {})
        base, cell = row.get(BASE), row.get(runner)
        if not base or not cell or not base.stats() or not cell.stats():
            return None
        if startup:
            if runner not in startup or BASE not in startup:
                return None
            return (cell.stats()[0] - startup[runner][0]) / (base.stats()[0] - startup[BASE][0])
        return cell.stats()[0] / base.stats()[0]

    def means(self, simd, startup=None):
        """Geometric mean of each runner's ratios over the default builds, or (simd) with
        the -simd builds in place of their default builds; None where a ratio is missing."""
        chosen = {}
        for bench in self.benchmarks:
            if bench.simd == simd or bench.kernel not in chosen:
                if not bench.simd or simd:
                    chosen[bench.kernel] = bench
        out = {}
        for r in self.others:
            ratios = [self.ratio(b, r.name, startup) for b in chosen.values()]
            out[r.name] = None if not ratios or None in ratios else geomean(ratios)
        return out, len(chosen)


def cell_text(cell, fmt):
    if cell is None:
        return "-"
    if cell.error == SKIPPED:
        return "-"
    if cell.error:
        return "fails"
    st = cell.stats()
    return fmt(st) if st else "-"


def report(args, rep, startup, startup_errors, checks, started, elapsed, load_start, rounds):
    benchmarks, runners, others = rep.benchmarks, rep.runners, rep.others
    has_simd = any(b.simd for b in benchmarks)
    lines = ["# kiln benchmarks", ""]
    lines.append(f"- date: {started.strftime('%Y-%m-%d %H:%M %Z').strip()}; took {elapsed / 60:.1f} min")
    lines.append(f"- command: `{args.command}`" if args.command else "- command: (bench.py directly)")
    lines.append(f"- harness: `{' '.join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])}`")
    peers = os.environ.get("KILN_BENCH_PEERS")
    if peers:
        lines.append(f"- KILN_BENCH_PEERS: `{peers}`")
    for key, value in machine_facts():
        lines.append(f"- {key}: {value}")
    load_end = os.getloadavg()
    lines.append(f"- load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in load_start)} at the start, "
                 f"{' '.join(f'{x:.2f}' for x in load_end)} at the end")
    lines.append(f"- mode: {'QUICK (n about 10x smaller)' if args.quick else 'full'}; per benchmark a "
                 f"warm-up run of every runner (n a hundredth of the full n), then {rounds} rounds "
                 "with the runners interleaved")
    lines.append("")
    lines.append("Runners, all on the same `.wasm` files (clang-19 -O2, wasm32-wasi, wasi-libc):")
    lines.append("")
    for r in runners:
        lines.append(f"- **{r.name}**: {r.description}" + (" (peer, built locally, not part of kiln)" if r.peer else ""))
    lines.append("")
    lines.append("Every time is of a whole process, spawn to exit, start-up included (see "
                 "*Start-up*: about a millisecond for everything but Node's ~40 ms). "
                 "The machine may be shared: read the min-max spread before a ratio.")
    lines.append("")

    # ratios
    lines.append(f"## Time relative to {BASE} (median / {BASE}'s median; lower is better)")
    lines.append("")
    lines.append("| kernel | n | " + " | ".join(r.name for r in others) + " |")
    lines.append("| --- | ---: | " + " | ".join("---:" for _ in others) + " |")
    for bench in benchmarks:
        out = []
        for r in others:
            cell = rep.cells.get(bench.name, {}).get(r.name)
            ratio = rep.ratio(bench, r.name)
            out.append("fails" if cell and cell.error and cell.error != SKIPPED
                       else f"{ratio:.2f}" if ratio else "-")
        lines.append(f"| {bench.name} | {bench.n} | " + " | ".join(out) + " |")
    means, count = rep.means(False)
    lines.append(f"| **geometric mean**, {count} kernels | | " + " | ".join(
        f"**{means[r.name]:.2f}**" if means[r.name] else "-" for r in others) + " |")
    if has_simd:
        simd_means, _ = rep.means(True)
        lines.append(f"| geometric mean with the -simd builds | | " + " | ".join(
            f"{simd_means[r.name]:.2f}" if simd_means[r.name] else "-" for r in others) + " |")
    if startup:
        net, _ = rep.means(False, startup)
        lines.append(f"| geometric mean, start-up subtracted | | " + " | ".join(
            f"{net[r.name]:.2f}" if net[r.name] else "-" for r in others) + " |")
    lines.append("")
    lines.append(f"The geometric means are over the {count} default builds (no -msimd128), which every "
                 "runner runs; *with the -simd builds* puts the -msimd128 build of each SIMD kernel in "
                 "place of its default build (\"-\" where a runner cannot run them); *start-up "
                 "subtracted* takes each runner's hello-world time (below) off its times first." +
                 ("" if args.simd_peers or not has_simd or not any(r.peer for r in runners) else
                  " Peers run the default builds only (`--simd-peers` adds the -simd builds)."))
    lines.append("")

    # times
    lines.append("## Seconds: median (min-max)")
    lines.append("")
    lines.append("| kernel | " + " | ".join(r.name for r in runners) + " | checksum |")
    lines.append("| --- | " + " | ".join("---:" for _ in runners) + " | ---: |")
    for bench in benchmarks:
        row = rep.cells.get(bench.name, {})
        out = [cell_text(row.get(r.name), lambda st: f"{fmt_seconds(st[0])} ({fmt_seconds(st[1])}-{fmt_seconds(st[2])})")
               for r in runners]
        base = row.get(BASE)
        checksum = base.checksum if base and base.checksum is not None else "-"
        lines.append(f"| {bench.name} | " + " | ".join(out) + f" | {checksum} |")
    lines.append("")

    # weakest kernels for kiln
    ranked = sorted(((rep.ratio(b, "kiln"), b.name) for b in benchmarks
                     if not b.simd and rep.ratio(b, "kiln")), reverse=True)
    if len(ranked) >= 6:
        lines.append("kiln's weakest kernels relative to native (default builds): " +
                     ", ".join(f"{name} ({ratio:.1f}x)" for ratio, name in ranked[:5]) +
                     "; strongest: " +
                     ", ".join(f"{name} ({ratio:.1f}x)" for ratio, name in ranked[-3:][::-1]) + ".")
        lines.append("")

    failures = [(b.name, r.name, rep.cells[b.name][r.name].error) for b in benchmarks for r in runners
                if rep.cells.get(b.name, {}).get(r.name) and rep.cells[b.name][r.name].error
                and rep.cells[b.name][r.name].error != SKIPPED]
    if failures:
        lines.append("Failures (\"fails\" above):")
        lines.append("")
        for bench, runner, error in failures:
            lines.append(f"- {bench} on {runner}: {error}")
        lines.append("")

    # start-up
    if startup or startup_errors:
        lines.append("## Start-up")
        lines.append("")
        lines.append("`hello.wasm` (tests/programs/hello.c) as a whole process on every runner, against the "
                     "native hello (gcc -O2 and clang-19 -O2, dynamically linked); milliseconds, median "
                     "(min-max) of the rounds after 3 warm-up rounds, runners interleaved.")
        lines.append("")
        lines.append("| runner | hello world | relative to native-gcc |")
        lines.append("| --- | ---: | ---: |")
        for name in dict.fromkeys([*startup, *startup_errors]):  # runner order
            if name in startup:
                med, lo, hi = startup[name]
                rel = med / startup[BASE][0] if BASE in startup else None
                lines.append(f"| {name} | {med * 1e3:.2f} ({lo * 1e3:.2f}-{hi * 1e3:.2f}) | "
                             + (f"{rel:.2f}x" if rel else "-") + " |")
            else:
                lines.append(f"| {name} | fails: {startup_errors[name]} | |")
        lines.append("")

    # checks
    if checks:
        lines.append("## Cost of the interrupt and fuel checks")
        lines.append("")
        lines.append("kiln polls an interrupt flag and charges fuel at every function entry and loop "
                     "iteration, always. `kiln run` against `kiln run --fuel 10^19` (fuel on: the same "
                     "code path, a different budget) and against a kiln built with `-DKILN_BENCH_NO_CHECKS` "
                     "(no poll, no fuel, no loop_check instruction; a benchmarking build only), on the QUICK "
                     f"n. kiln's speed moves with the process's memory layout (sieve: by 20% or more when "
                     f"one argument is added), so each variant runs under the same {len(checks[0][2]['kiln'])} "
                     "layouts (0, 1, 2, ... extra `--env` options); seconds, median (min-max) over them.")
        lines.append("")
        tiers = [("interpreter", ("kiln", "kiln --fuel", "no checks"))]
        if "compiled" in checks[0][1]:
            tiers.append(("compiled tier (`--tier=compiled`, cache warm; fuel is counted only when asked "
                          "for, with `--fuel`, which compiles other code; no checks: no loop polls, the "
                          "function-entry stack check stays)",
                          ("compiled", "compiled --fuel", "compiled no checks")))
        for title, names in tiers:
            lines.append(f"{title[0].upper()}{title[1:]}:")
            lines.append("")
            lines.append(f"| kernel | n | {names[0]} | {names[1]} | {names[2]} | cost of the checks | cost of fuel on |")
            lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            for bench, med, spread in checks:
                k, f, nc = (med[name] for name in names)
                cells = [f"{med[name]:.3f} ({min(spread[name]):.3f}-{max(spread[name]):.3f})" for name in names]
                lines.append(f"| {bench.name} | {bench.quick_n} | " + " | ".join(cells) + " | "
                             f"{(k / nc - 1) * 100:+.1f}% | {(f / k - 1) * 100:+.1f}% |")
            lines.append("")
        lines.append("*cost of the checks* = kiln / no checks - 1; *cost of fuel on* = kiln --fuel / kiln - 1 "
                     "(each within its tier).")
        lines.append("")
    return "\n".join(lines)


def write_csv(path, rep, startup, checks):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["suite", "benchmark", "n", "runner", "rounds", "median_s", "min_s", "max_s",
                    f"ratio_to_{BASE}", "checksum", "status"])
        for bench in rep.benchmarks:
            for r in rep.runners:
                cell = rep.cells.get(bench.name, {}).get(r.name)
                if cell is None:
                    continue
                st = cell.stats()
                ratio = rep.ratio(bench, r.name)
                w.writerow(["kernels", bench.name, bench.n, r.name, len(cell.times),
                            *([f"{x:.6f}" for x in st] if st else ["", "", ""]),
                            f"{ratio:.4f}" if ratio else "", "" if cell.checksum is None else cell.checksum,
                            cell.error if cell.error == SKIPPED else "error: " + cell.error if cell.error else "ok"])
        for name, (med, lo, hi) in startup.items():
            rel = med / startup[BASE][0] if BASE in startup else None
            w.writerow(["startup", "hello", "", name, "", f"{med:.6f}", f"{lo:.6f}", f"{hi:.6f}",
                        f"{rel:.4f}" if rel else "", "", "ok"])
        for bench, med, times in checks:
            for name, value in med.items():
                w.writerow(["checks", bench.name, bench.quick_n, name, len(times[name]), f"{value:.6f}",
                            f"{min(times[name]):.6f}", f"{max(times[name]):.6f}", "", "", "ok"])


def write_chart(results, stem, rep, title, log):
    """A clustered bar chart of the ratios, log scale: stem.svg and stem.png (gnuplot)."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        log("bench.py: gnuplot not found (scripts/deps.sh --bench installs it): no chart")
        return None
    others = rep.others
    data_lines = []
    for bench in rep.benchmarks:
        values = []
        for r in others:
            ratio = rep.ratio(bench, r.name)
            values.append(f"{ratio:.4f}" if ratio else "NaN")
        data_lines.append(f"{bench.name} " + " ".join(values))
    means, count = rep.means(False)
    data_lines.append("geomean " + " ".join(f"{means[r.name]:.4f}" if means[r.name] else "NaN" for r in others))
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "ratios.dat")
        with open(data, "w", encoding="utf-8") as f:
            f.write("\n".join(data_lines) + "\n")
        plots = ", ".join(
            f"'{data}' using {i + 2}:xtic(1) title '{r.name}'" for i, r in enumerate(others))
        common = f"""
set title "{title}" noenhanced
set ylabel "time relative to {BASE} -O2 (log scale; lower is better)" noenhanced
set logscale y 2
set yrange [0.25:*]
set grid ytics
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -45 noenhanced
set key top left noenhanced
set datafile missing "NaN"
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2
"""
        for ext, terminal in (("svg", "svg size 1200,560 dynamic font 'sans,11'"),
                              ("png", "pngcairo size 1200,560 font 'sans,10'")):
            script = f"set terminal {terminal}\nset output '{os.path.join(results, stem + '.' + ext)}'\n" \
                     + common + f"plot {plots}\n"
            proc = subprocess.run([gnuplot], input=script.encode(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
            if proc.returncode != 0 and ext == "png":  # gnuplot without cairo: the gd terminal
                script = script.replace(terminal, "png size 1200,560")
                proc = subprocess.run([gnuplot], input=script.encode(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
            if proc.returncode != 0:
                log(f"bench.py: gnuplot failed ({ext}): {proc.stderr.decode('utf-8', 'replace').strip()[-300:]}")
                return None
    return [stem + ".svg", stem + ".png"]


def measure_compile(build_dir, benchmarks, log):
    """`kiln compile` (LLVM, every core, no cache) of the big generated module and of each
    kernel: wall time, ms per MB of wasm, peak resident memory."""
    kiln = os.path.join(build_dir, "kiln", "kiln")
    if not has_compiled_tier(kiln):
        return None
    log("== compiled tier: compile throughput")
    modules = [("big (bench/gen_module.py)", os.path.join(build_dir, "gen", "big.wasm"))]
    modules += [(b.name, b.wasm) for b in benchmarks if not b.simd][:6]
    rows = []
    with tempfile.TemporaryDirectory(prefix="kiln-compile-") as tmp:
        out = os.path.join(tmp, "out.cwasm")
        for name, wasm in modules:
            if not os.path.exists(wasm):
                continue
            t = time.monotonic()
            proc = subprocess.run(["/usr/bin/time", "-f", "%M", kiln, "compile", wasm, "-o", out],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT_SECONDS)
            seconds = time.monotonic() - t
            if proc.returncode != 0:
                rows.append(f"| {name} | failed: {proc.stderr.decode('utf-8', 'replace').strip()[-200:]} | | | |")
                continue
            rss_kb = int(proc.stderr.decode().strip().splitlines()[-1])
            size = os.path.getsize(wasm)
            code = os.path.getsize(out)
            rows.append(f"| {name} | {size / 1024:.0f} KiB | {seconds * 1e3:.0f} ms | "
                        f"{seconds * 1e3 / (size / 1048576):.0f} ms/MB | {rss_kb / 1024:.0f} MiB | {code / 1024:.0f} KiB |")
            log(f"   {name}: {seconds * 1e3:.0f} ms, {rss_kb / 1024:.0f} MiB")
    return ("\n## Compiled tier: compile time\n\n`kiln compile NAME.wasm -o NAME.cwasm` (LLVM 19 -O2, one "
            f"thread per CPU: {os.cpu_count()}), whole process; the .wasm size counts custom sections "
            "(the kernels carry DWARF).\n\n"
            "| module | .wasm | time | per MB of .wasm | peak RSS | .cwasm |\n| --- | --- | --- | --- | --- | --- |\n"
            + "\n".join(rows) + "\n")


def run_micro(build_dir, quick, log):
    micro = os.path.join(build_dir, "micro")
    big = os.path.join(build_dir, "gen", "big.wasm")
    if not os.path.exists(micro):
        return None, f"{micro} not built"
    log("== micro-benchmarks")
    proc = subprocess.run([micro] + (["--quick"] if quick else []) + [big], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=TIMEOUT_SECONDS)
    if proc.returncode != 0:
        return None, "micro: " + proc.stderr.decode("utf-8", "replace").strip()[-300:]
    return proc.stdout.decode("utf-8", "replace"), None


NODE_NOTE = """| Node.js: calls into kiln from JavaScript | see `node.txt`, `say.txt`, `image.txt` | `make bench` runs bench/node_bench.mjs (sync call, async round trip, Pool), bench/say_bench.mjs (the say() round trip, Rust and C guests) and examples/image/bench.mjs after this harness and writes their output beside this file |
"""

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n about 10x smaller, 3 rounds")
    parser.add_argument("--rounds", type=int, help="rounds per runner (default 3)")
    parser.add_argument("--kernels", help="comma-separated kernel names (NAME or NAME-simd; default all)")
    parser.add_argument("--runners", help="comma-separated runner names (native-gcc always runs)")
    parser.add_argument("--peer", action="append", metavar="NAME=COMMAND",
                        help="a peer runtime, as in KILN_BENCH_PEERS (repeatable)")
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    parser.add_argument("--results", default=os.path.join(ROOT, "bench", "results"),
                        help="where latest.md/.csv/.svg/.png go ('' = nowhere)")
    parser.add_argument("--no-micro", action="store_true",
                        help="skip the start-up, checks and micro-benchmark sections")
    parser.add_argument("--no-chart", action="store_true", help="no gnuplot chart")
    parser.add_argument("--simd-peers", action="store_true",
                        help="run the peers on the -simd builds too (default: default builds only)")
    parser.add_argument("--command", help="the command that started this, for the report")
    args = parser.parse_args()
    rounds = args.rounds or 3
    if rounds < 1:
        raise SystemExit("bench.py: --rounds must be at least 1")
    build_dir = os.path.abspath(args.build_dir)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    only_kernels = set(args.kernels.split(",")) if args.kernels else None
    only_runners = set(args.runners.split(",")) if args.runners else None
    benchmarks = kernel_benchmarks(build_dir, args.quick, only_kernels)
    runners = make_runners(build_dir, args.peer, only_runners)
    for bench in benchmarks:
        for path in (bench.wasm, bench.native(build_dir, "gcc"), bench.native(build_dir, "clang")):
            if not os.path.exists(path):
                raise SystemExit(f"bench.py: {path} is missing: run bench/build.sh first")

    started = datetime.datetime.now().astimezone()
    load_start = os.getloadavg()
    t0 = time.monotonic()
    errors = []
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as tmp:
        scratch = (os.path.join(tmp, "stdout"), os.path.join(tmp, "stderr"))
        cells = measure(benchmarks, runners, rounds, build_dir, scratch, args.simd_peers, log)
        startup, startup_errors, checks = {}, {}, []
        micro_out = None
        if not args.no_micro:
            startup, startup_errors = measure_startup(
                os.path.join(build_dir, "wasm", "hello.wasm"), runners, build_dir,
                20 if args.quick else 60, scratch, log)
            for name, error in startup_errors.items():
                if name in OWN_RUNNERS:
                    errors.append(f"start-up on {name}: {error}")
            checks, error = measure_checks(build_dir, kernel_benchmarks(build_dir, True, None),
                                           4 if args.quick else 8, scratch, log)
            if error:
                errors.append(error)
            micro_out, error = run_micro(build_dir, args.quick, log)
            if error:
                errors.append(error)
            compile_out = measure_compile(build_dir, benchmarks, log)
            if compile_out:
                micro_out = (micro_out or "") + compile_out
    for bench in benchmarks:
        for r in runners:
            cell = cells[bench.name][r.name]
            if cell.error and not r.peer:
                errors.append(f"{bench.name} on {r.name}: {cell.error}")

    rep = Report(benchmarks, runners, cells)
    text = report(args, rep, startup, startup_errors, checks, started, time.monotonic() - t0, load_start, rounds)
    if micro_out:
        text += "\n" + micro_out.rstrip() + "\n" + NODE_NOTE
    if errors:
        text += "\n## Errors\n\n" + "".join(f"- {e}\n" for e in errors)
    if args.results:
        os.makedirs(args.results, exist_ok=True)
        mode = "quick" if args.quick else "full"
        chart = None
        if not args.no_chart:
            title = (f"kiln {'QUICK ' if args.quick else ''}benchmarks, {started.strftime('%Y-%m-%d')}: "
                     f"whole-process time relative to {BASE} -O2")
            chart = write_chart(args.results, "latest", rep, title, log)
        if chart:
            text = text.replace("\n## Time relative", f"\n![ratios](latest.svg)\n\n## Time relative", 1)
        for stem in ("latest", mode):
            with open(os.path.join(args.results, stem + ".md"), "w", encoding="utf-8") as f:
                f.write(text if text.endswith("\n") else text + "\n")
            write_csv(os.path.join(args.results, stem + ".csv"), rep, startup, checks)
        log(f"wrote {os.path.relpath(args.results, ROOT)}/latest.md, latest.csv"
            + (", latest.svg, latest.png" if chart else "") + f", {mode}.md, {mode}.csv")
    print(text)
    means, _ = rep.means(False)
    log("geometric mean time relative to native-gcc: " +
        ", ".join(f"{name} {value:.2f}x" for name, value in means.items() if value))
    if errors:
        log(f"{len(errors)} error(s): see the report")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
