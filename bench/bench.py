#!/usr/bin/env python3
"""bench.py - the harness behind `make bench` (standard library only).

    python3 bench/bench.py [--quick] [--rounds N] [--kernels a,b] [--runners native,kiln,...]
                           [--build-dir build-bench] [--results bench/results]
                           [--command "make bench"]

Runs every benchmark on every runner and checks and summarises the times:

  * benchmarks: the kernels bench/kernels/NAME.c, built by bench/build.sh into
    BUILD/native/NAME (gcc -O2) and BUILD/wasm/NAME.wasm; each takes n (BENCH_N, or
    BENCH_N_QUICK with --quick, read from the source) and returns a u32 checksum.
  * runners: native (the native build), kiln (BUILD/run_kiln), v8 (node bench/run_v8.mjs),
    and peers from $KILN_BENCH_PEERS, one `name=command` per entry, entries separated by
    `;` or newlines, with {wasm}, {n} and {name} replaced:
        KILN_BENCH_PEERS='wasm3=/path/to/wasm3 --func run {wasm} {n}'
    native, kiln and v8 time the call to run(n) alone and print
    `checksum=<u32> seconds=<float>`; a peer is timed as a whole process (wall clock,
    monotonic) and its checksum is checked when its output has one (`checksum=<n>`, or
    `Result: <n>` as wasm3 prints it, read modulo 2^32).
  * method: per benchmark, one warm-up run of every runner, then N rounds interleaved
    across the runners (A B C A B C ...). Every run's checksum must equal the native
    warm-up's: a mismatch or a failed run is an error, reported in the table and the
    exit status (1). Per runner the median, min and max of the rounds; per benchmark the
    ratio of each median to native's; per runner the geometric mean of its ratios.
  * output: a Markdown report on stdout and in RESULTS/latest.md (date, machine, exact
    command), the raw figures in RESULTS/latest.csv, copies as RESULTS/{quick,full}.{md,csv},
    and the output of BUILD/micro (micro-benchmarks) appended to the report.

The structure is meant to grow: a Benchmark says what to run (a later suite of WASI
programs adds benchmarks with their own arguments), a Runner says how to run it.
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
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_SECONDS = 600  # one run of one benchmark on one runner


# ---------------------------------------------------------------- benchmarks

class Benchmark:
    """One program to time: a wasm module, its native twin, and the argument n."""

    def __init__(self, suite, name, wasm, native, n, source):
        self.suite = suite
        self.name = name
        self.wasm = wasm
        self.native = native
        self.n = n
        self.source = source


def read_kernel_n(source):
    """(BENCH_N, BENCH_N_QUICK) from a kernel's #defines."""
    with open(source, encoding="utf-8") as f:
        text = f.read()
    full = re.search(r"^#define\s+BENCH_N\s+(\d+)\s*$", text, re.M)
    quick = re.search(r"^#define\s+BENCH_N_QUICK\s+(\d+)\s*$", text, re.M)
    if not full or not quick:
        raise SystemExit(f"bench.py: {source} lacks #define BENCH_N / BENCH_N_QUICK")
    return int(full.group(1)), int(quick.group(1))


def kernel_benchmarks(build_dir, quick, only):
    kernels_dir = os.path.join(ROOT, "bench", "kernels")
    out = []
    for file in sorted(os.listdir(kernels_dir)):
        if not file.endswith(".c"):
            continue
        name = file[:-2]
        if only and name not in only:
            continue
        source = os.path.join(kernels_dir, file)
        full, quick_n = read_kernel_n(source)
        out.append(Benchmark("kernels", name, os.path.join(build_dir, "wasm", name + ".wasm"),
                             os.path.join(build_dir, "native", name), quick_n if quick else full,
                             os.path.relpath(source, ROOT)))
    if only:
        missing = set(only) - {b.name for b in out}
        if missing:
            raise SystemExit("bench.py: no such kernel: " + ", ".join(sorted(missing)))
    return out


# ---------------------------------------------------------------- runners

class Result:
    def __init__(self, seconds=None, wall=None, checksum=None, error=None):
        self.seconds = seconds    # the time that counts
        self.wall = wall          # the whole process
        self.checksum = checksum  # None when the output has none
        self.error = error


CHECKSUM_RE = re.compile(r"checksum=(-?\d+)")
SECONDS_RE = re.compile(r"seconds=([0-9.eE+-]+)")
RESULT_RE = re.compile(r"Result:\s*(-?\d+)")


def run_process(argv, merge_stderr=False):
    """Run argv; (wall seconds, stdout (and stderr after it if merge_stderr), error or None)."""
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=TIMEOUT_SECONDS, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return time.monotonic() - start, "", f"timed out after {TIMEOUT_SECONDS} s"
    except OSError as e:
        return time.monotonic() - start, "", f"cannot run {argv[0]}: {e.strerror}"
    wall = time.monotonic() - start
    out = proc.stdout.decode("utf-8", "replace")
    if merge_stderr:
        out += "\n" + proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        tail = err[-1] if err else out.strip()[-200:]
        return wall, out, f"exit status {proc.returncode}: {tail}"
    return wall, out, None


class Runner:
    """Runs a benchmark and reports its own timing line (`checksum=... seconds=...`)."""

    def __init__(self, name, argv_template, description, self_timed=True):
        self.name = name
        self.argv_template = argv_template
        self.description = description
        self.self_timed = self_timed

    def argv(self, bench):
        values = {"wasm": bench.wasm, "native": bench.native, "n": str(bench.n),
                  "name": bench.name}
        return [part.format(**values) for part in self.argv_template]

    def run(self, bench):
        # a peer may print its result on either stream (wasm3: `Result: N` on stderr)
        wall, out, error = run_process(self.argv(bench), merge_stderr=not self.self_timed)
        if error:
            return Result(wall=wall, error=error)
        checksum = None
        match = CHECKSUM_RE.search(out) or RESULT_RE.search(out)
        if match:
            checksum = int(match.group(1)) % (1 << 32)
        if not self.self_timed:
            return Result(seconds=wall, wall=wall, checksum=checksum)
        seconds = SECONDS_RE.search(out)
        if not seconds or checksum is None:
            return Result(wall=wall, error="no `checksum=... seconds=...` line in: " + out.strip()[:200])
        return Result(seconds=float(seconds.group(1)), wall=wall, checksum=checksum)


def parse_peers(text):
    peers = []
    for entry in re.split(r"[;\n]", text or ""):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, command = entry.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.+-]+", name) or not command.strip():
            raise SystemExit(f"bench.py: KILN_BENCH_PEERS entry '{entry}' is not name=command")
        peers.append(Runner(name, shlex.split(command), f"peer: `{command.strip()}` (whole process)",
                            self_timed=False))
    return peers


def make_runners(build_dir, only):
    runners = [
        Runner("native", ["{native}", "{n}"], "gcc -O2 build of the same C source, run(n) timed in-process"),
        Runner("kiln", [os.path.join(build_dir, "run_kiln"), "{wasm}", "{n}"],
               "bench/run_kiln.c: kiln_func_call of run(n) timed, after load and instantiate"),
    ]
    node = shutil.which("node")
    if node:
        runners.append(Runner("v8", [node, os.path.join(ROOT, "bench", "run_v8.mjs"), "{wasm}", "{n}"],
                              "node (V8) bench/run_v8.mjs: the call to run(n) timed, after instantiate"))
    else:
        print("bench.py: node not found: no v8 column", file=sys.stderr)
    runners += parse_peers(os.environ.get("KILN_BENCH_PEERS", ""))
    if only:
        unknown = set(only) - {r.name for r in runners}
        if unknown:
            raise SystemExit("bench.py: no such runner: " + ", ".join(sorted(unknown)))
        runners = [r for r in runners if r.name in only or r.name == "native"]
    if len({r.name for r in runners}) != len(runners):
        raise SystemExit("bench.py: two runners have the same name")
    return runners


# ---------------------------------------------------------------- measuring

class Cell:
    """The rounds of one benchmark on one runner."""

    def __init__(self):
        self.times = []
        self.walls = []
        self.checksum = None
        self.errors = []

    def stats(self):
        if self.errors or not self.times:
            return None
        return statistics.median(self.times), min(self.times), max(self.times)


def measure(benchmarks, runners, rounds, log):
    cells = {}
    errors = []
    for bench in benchmarks:
        log(f"== {bench.name} (n={bench.n})")
        row = {r.name: Cell() for r in runners}
        cells[bench.name] = row
        expected = None

        def record(runner, result, warmup):
            nonlocal expected
            cell = row[runner.name]
            if result.error is None and runner.name == "native" and warmup:
                expected = result.checksum
            if result.error is None and result.checksum is not None and expected is not None \
                    and result.checksum != expected:
                result.error = f"checksum {result.checksum} differs from native's {expected}"
            if result.error is not None:
                if not cell.errors:
                    errors.append(f"{bench.name} on {runner.name}: {result.error}")
                cell.errors.append(result.error)
                log(f"   {runner.name}: ERROR {result.error}")
                return
            cell.checksum = result.checksum
            if not warmup:
                cell.times.append(result.seconds)
                cell.walls.append(result.wall)

        for runner in runners:  # warm-up; checks the checksums once before the rounds
            result = runner.run(bench)
            record(runner, result, True)
            if runner.name == "native" and expected is None:
                break
            if result.error is None:
                log(f"   warm-up {runner.name}: {result.seconds:.3f} s checksum={result.checksum}")
        if expected is None:  # without a native result there is nothing to compare with
            continue
        for i in range(rounds):
            line = []
            for runner in runners:
                if row[runner.name].errors:
                    continue
                result = runner.run(bench)
                record(runner, result, False)
                if result.error is None:
                    line.append(f"{runner.name} {result.seconds:.3f}")
            log(f"   round {i + 1}/{rounds}: " + ", ".join(line))
    return cells, errors


# ---------------------------------------------------------------- reporting

def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def fmt_seconds(s):
    return f"{s:.3f}" if s >= 0.01 else f"{s * 1e3:.2f} ms"


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
    nproc = command_output(["nproc"])
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    commit = command_output(["git", "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "include"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT).stdout.strip()
    return [
        ("nproc", nproc),
        ("CPU", cpu_model()),
        ("memory", mem),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("kiln", f"commit {commit}" + (" with uncommitted changes in src/ or include/" if dirty else "")),
        ("gcc", command_output(["gcc", "--version"])),
        ("clang", command_output(["clang-19", "--version"])),
        ("node", command_output(["node", "--version"])),
    ]


def report(args, benchmarks, runners, cells, errors, started, elapsed):
    others = [r for r in runners if r.name != "native"]
    lines = ["# kiln benchmarks", ""]
    lines.append(f"- date: {started.strftime('%Y-%m-%d %H:%M:%S %Z').strip()}")
    lines.append(f"- command: `{args.command}`" if args.command else "- command: (direct)")
    lines.append(f"- harness: `{' '.join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])}`")
    peers = os.environ.get("KILN_BENCH_PEERS")
    if peers:
        lines.append(f"- KILN_BENCH_PEERS: `{peers}`")
    for key, value in machine_facts():
        lines.append(f"- {key}: {value}")
    lines.append(f"- mode: {'QUICK (n about 10x smaller)' if args.quick else 'full'}, "
                 f"{args.rounds} rounds after a warm-up, runners interleaved; took {elapsed:.0f} s")
    lines.append("")
    lines.append("Runners:")
    lines.append("")
    for r in runners:
        lines.append(f"- **{r.name}**: {r.description}")
    lines.append("")
    lines.append("Times of kiln, native and v8 are of the call to `run(n)` alone (in-process clock); "
                 "a peer's are of its whole process (start-up, load and compile included). "
                 "The machine is shared and noisy: read the min-max spread before a ratio.")
    lines.append("")

    # ratios
    lines.append("## Time relative to native (median / native median; lower is better)")
    lines.append("")
    lines.append("| kernel | n | " + " | ".join(r.name for r in others) + " |")
    lines.append("| --- | ---: | " + " | ".join("---:" for _ in others) + " |")
    ratios = {r.name: [] for r in others}
    for bench in benchmarks:
        row = cells.get(bench.name, {})
        native = row.get("native")
        base = native.stats() if native else None
        out = []
        for r in others:
            cell = row.get(r.name)
            st = cell.stats() if cell else None
            if cell and cell.errors:
                out.append("ERROR")
            elif st and base:
                ratio = st[0] / base[0]
                ratios[r.name].append(ratio)
                out.append(f"{ratio:.2f}")
            else:
                out.append("-")
        lines.append(f"| {bench.name} | {bench.n} | " + " | ".join(out) + " |")
    means = {name: geomean(v) for name, v in ratios.items()}
    lines.append("| **geometric mean** | | " + " | ".join(
        f"**{means[r.name]:.2f}**" if means[r.name] else "-" for r in others) + " |")
    lines.append("")
    incomplete = [r.name for r in others if len(ratios[r.name]) != len(benchmarks)]
    if incomplete:
        lines.append("Some kernels have no result for " + ", ".join(incomplete) +
                     ": the geometric mean covers the others.")
        lines.append("")

    # times
    lines.append("## Seconds: median (min-max)")
    lines.append("")
    lines.append("| kernel | " + " | ".join(r.name for r in runners) + " | checksum |")
    lines.append("| --- | " + " | ".join("---:" for _ in runners) + " | ---: |")
    for bench in benchmarks:
        row = cells.get(bench.name, {})
        out = []
        for r in runners:
            cell = row.get(r.name)
            st = cell.stats() if cell else None
            if cell and cell.errors:
                out.append("ERROR")
            elif st:
                out.append(f"{fmt_seconds(st[0])} ({fmt_seconds(st[1])}-{fmt_seconds(st[2])})")
            else:
                out.append("-")
        native = row.get("native")
        checksum = native.checksum if native and native.checksum is not None else "-"
        lines.append(f"| {bench.name} | " + " | ".join(out) + f" | {checksum} |")
    lines.append("")

    # weakest kernels for kiln
    if "kiln" in ratios and ratios["kiln"]:
        ranked = []
        for bench in benchmarks:
            row = cells.get(bench.name, {})
            k, n = row.get("kiln"), row.get("native")
            if k and n and k.stats() and n.stats():
                ranked.append((k.stats()[0] / n.stats()[0], bench.name))
        ranked.sort(reverse=True)
        if len(ranked) >= 6:
            lines.append("kiln's weakest kernels relative to native: " +
                         ", ".join(f"{name} ({ratio:.1f}x)" for ratio, name in ranked[:4]) +
                         "; strongest: " +
                         ", ".join(f"{name} ({ratio:.1f}x)" for ratio, name in ranked[-3:][::-1]) + ".")
        lines.append("")

    unchecked = sorted({r.name for r in others for bench in benchmarks
                        if cells.get(bench.name, {}).get(r.name) is not None
                        and cells[bench.name][r.name].stats() is not None
                        and cells[bench.name][r.name].checksum is None})
    if unchecked:
        lines.append("No checksum in the output of " + ", ".join(unchecked) +
                     " (for some kernels): those results are not checked against native's.")
        lines.append("")
    if errors:
        lines.append("## Errors")
        lines.append("")
        for e in errors:
            lines.append(f"- {e}")
        lines.append("")
    return "\n".join(lines), means


def write_csv(path, benchmarks, runners, cells):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["suite", "benchmark", "n", "runner", "rounds", "median_s", "min_s", "max_s",
                    "ratio_to_native", "wall_median_s", "checksum", "status"])
        for bench in benchmarks:
            row = cells.get(bench.name, {})
            native = row.get("native")
            base = native.stats() if native else None
            for r in runners:
                cell = row.get(r.name)
                if cell is None:
                    continue
                st = cell.stats()
                status = "error: " + cell.errors[0] if cell.errors else "ok"
                if st:
                    ratio = f"{st[0] / base[0]:.4f}" if base else ""
                    w.writerow([bench.suite, bench.name, bench.n, r.name, len(cell.times),
                                f"{st[0]:.6f}", f"{st[1]:.6f}", f"{st[2]:.6f}", ratio,
                                f"{statistics.median(cell.walls):.6f}",
                                "" if cell.checksum is None else cell.checksum, status])
                else:
                    w.writerow([bench.suite, bench.name, bench.n, r.name, len(cell.times),
                                "", "", "", "", "", "", status])


def run_micro(build_dir, quick, log):
    micro = os.path.join(build_dir, "micro")
    big = os.path.join(build_dir, "gen", "big.wasm")
    if not os.path.exists(micro):
        return None, f"{micro} not built"
    log("== micro-benchmarks")
    _, out, error = run_process([micro] + (["--quick"] if quick else []) + [big])
    if error:
        return out, "micro: " + error
    return out, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n about 10x smaller, 3 rounds")
    parser.add_argument("--rounds", type=int, help="rounds per runner (default 5, quick 3)")
    parser.add_argument("--kernels", help="comma-separated kernel names (default all)")
    parser.add_argument("--runners", help="comma-separated runner names (native always runs)")
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    parser.add_argument("--results", default=os.path.join(ROOT, "bench", "results"),
                        help="where latest.md and latest.csv go ('' = nowhere)")
    parser.add_argument("--no-micro", action="store_true", help="skip the micro-benchmarks")
    parser.add_argument("--command", help="the command that started this, for the report")
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = 3 if args.quick else 5
    if args.rounds < 1:
        raise SystemExit("bench.py: --rounds must be at least 1")
    build_dir = os.path.abspath(args.build_dir)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    only_kernels = set(args.kernels.split(",")) if args.kernels else None
    only_runners = set(args.runners.split(",")) if args.runners else None
    benchmarks = kernel_benchmarks(build_dir, args.quick, only_kernels)
    runners = make_runners(build_dir, only_runners)
    for bench in benchmarks:
        for path in (bench.wasm, bench.native):
            if not os.path.exists(path):
                raise SystemExit(f"bench.py: {path} is missing: run bench/build.sh first")

    started = datetime.datetime.now().astimezone()
    t0 = time.monotonic()
    cells, errors = measure(benchmarks, runners, args.rounds, log)
    micro_out, micro_error = (None, None) if args.no_micro else run_micro(build_dir, args.quick, log)
    if micro_error:
        errors.append(micro_error)
    text, means = report(args, benchmarks, runners, cells, errors, started, time.monotonic() - t0)
    if micro_out:
        text += "\n" + micro_out.rstrip() + "\n"
    print(text)
    if args.results:
        os.makedirs(args.results, exist_ok=True)
        mode = "quick" if args.quick else "full"
        for stem in ("latest", mode):
            with open(os.path.join(args.results, stem + ".md"), "w", encoding="utf-8") as f:
                f.write(text if text.endswith("\n") else text + "\n")
            write_csv(os.path.join(args.results, stem + ".csv"), benchmarks, runners, cells)
        log(f"wrote {os.path.relpath(args.results, ROOT)}/latest.md, latest.csv, {mode}.md, {mode}.csv")
    summary = ", ".join(f"{name} {value:.2f}x" for name, value in means.items() if value)
    log(f"geometric mean time relative to native: {summary}")
    if errors:
        log(f"{len(errors)} error(s): see the report")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
