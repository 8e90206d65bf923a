#!/usr/bin/env python3
"""time_to_speed.py - kiln's tiers over the first seconds of a long-running program.

    python3 bench/time_to_speed.py build-bench/kiln/kiln [--work build-bench/tts] [--seconds 5]
                                   [--runs 3] [--quick] [--out bench/results/time_to_speed.md]
                                   [--runners native,interp,auto,compiled,v8] [--no-chart]
                                   [--iteration coremark:30,lz:1,...] [--command "make bench"]

The guest, bench/tts/tts.c, runs an iteration of fixed work again and again (five kernels of
bench/kernels/, each called once per iteration through a function pointer: the work is in
functions called every iteration, what a tier-up without on-stack replacement needs) until
SECONDS have passed since its process was spawned, and records when each iteration ends.
It is built here into WORK/: natively with gcc -O2 and for wasm32-wasi with clang-19 -O2 and
wasi-libc (the flags of bench/build.sh). Runners, each a whole process:

  native     WORK/tts (gcc -O2): the speed of the hardware
  interp     kiln run --tier=interp
  auto       kiln run --tier=auto --no-cache: the interpreter first; functions that get hot
             are compiled by LLVM one at a time on a background thread and installed while
             the program runs
  compiled   kiln run --tier=compiled --no-cache: the whole module compiled by LLVM before
             main() starts (so its first iteration ends after the compile)
  v8         node run_v8.mjs (bench/run_v8.mjs, node:wasi): V8's Liftoff, then TurboFan

Clocks: the harness reads CLOCK_REALTIME (time.time_ns()) just before posix_spawn and passes
it to the guest as an argument; the guest reads CLOCK_REALTIME once when main() starts (the
difference is the start-up: exec, kiln's load and validation, LLVM's compile for `compiled`,
Node's start-up) and CLOCK_MONOTONIC at the end of every iteration (offsets from main()). So
every time is from the spawn; per-iteration times are differences of monotonic readings.

Per runner: a warm-up run (0.3 s, not counted), then RUNS rounds with the runners
interleaved. Every run's checksums (the running checksum after 1, 10, 100, ... iterations)
must equal native's. The report (Markdown, with an SVG chart beside it unless --no-chart):
the mean time per iteration of the iterations ending in each elapsed-time bucket, the
steady state (median iteration of the last 40% of the window), the time each runner gets
within 1.2x of its own steady state and when auto gets within 1.2x of compiled's, and the
iterations done by 0.5, 1, 2, 5 s. Medians over the rounds; the chart draws the round with
the median iteration count. Not a test: timings depend on the machine, which may be shared.
"""
import argparse
import datetime
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import command_output, machine_facts  # noqa: E402  (bench.py's report helpers)
TTS_DIR = os.path.join(ROOT, "bench", "tts")
KERNELS_DIR = os.path.join(ROOT, "bench", "kernels")
KERNELS = ("coremark", "interp", "nbody", "sha256", "lz")  # what tts.c links in
NATIVE_FLAGS = ["-O2", "-Wall", "-Wextra"]
WASI_FLAGS = ["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wall", "-Wextra"]
BUCKETS = [0, 0.1, 0.25, 0.5, 1, 2, 3, 5]  # s since spawn; extended or cut to --seconds
CHECKPOINTS = [0.5, 1, 2, 5]               # cumulative iterations at these times (and at the end)
STEADY_FROM = 0.6                          # steady state: iterations ending in the last 40%
WITHIN = 1.2                               # "at speed": within 1.2x
WINDOW = 5                                 # ... for the median of 5 consecutive iterations
WARMUP_SECONDS = 0.3
COLORS = {"native": "#555555", "interp": "#d62728", "auto": "#1f77b4", "compiled": "#2ca02c",
          "v8": "#ff7f0e"}


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- building

def stale(target, sources):
    return not os.path.exists(target) or any(os.path.getmtime(s) > os.path.getmtime(target) for s in sources)


def build(work, clang, gcc):
    """WORK/tts (native) and WORK/tts.wasm, from bench/tts/ and bench/kernels/."""
    os.makedirs(os.path.join(work, "obj"), exist_ok=True)
    sources = [os.path.join(TTS_DIR, "tts.c"), os.path.join(TTS_DIR, "kernel.c"),
               os.path.join(KERNELS_DIR, "kernel.h"), os.path.abspath(__file__)] + \
              [os.path.join(KERNELS_DIR, k + ".c") for k in KERNELS]
    outputs = {"native": (gcc, NATIVE_FLAGS, os.path.join(work, "tts"), ["-lm"]),
               "wasm": (clang, WASI_FLAGS, os.path.join(work, "tts.wasm"), [])}
    for kind, (cc, flags, out, libs) in outputs.items():
        if not stale(out, sources):
            continue
        log(f"time_to_speed.py: building {out}")
        objects = []
        for k in KERNELS:
            obj = os.path.join(work, "obj", f"{k}.{kind}.o")
            run_build([cc] + flags + ["-I", KERNELS_DIR, f"-DTTS_KERNEL={k}", f'-DTTS_KERNEL_FILE="{k}.c"',
                                      "-c", os.path.join(TTS_DIR, "kernel.c"), "-o", obj])
            objects.append(obj)
        run_build([cc] + flags + ["-I", KERNELS_DIR, os.path.join(TTS_DIR, "tts.c")] + objects +
                  ["-o", out + ".tmp"] + libs)
        os.replace(out + ".tmp", out)
    return outputs["native"][2], outputs["wasm"][2]


def run_build(argv):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        sys.exit(f"time_to_speed.py: {shlex.join(argv)}:\n{proc.stdout.decode(errors='replace')}")


# ---------------------------------------------------------------- running

class Runner:
    def __init__(self, name, argv, description):
        self.name = name
        self.argv = argv            # the command; the guest's arguments are appended
        self.description = description


def make_runners(kiln, native, wasm, node, only):
    runners = [Runner("native", [native], "`WORK/tts`: the same C built with gcc -O2"),
               Runner("interp", [kiln, "run", "--tier=interp", "--no-cache", "--stats", wasm],
                      "`kiln run --tier=interp`: the interpreter")]
    help_text = subprocess.run([kiln, "run", "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT).stdout.decode(errors="replace")
    if "auto" not in help_text:
        sys.exit(f"time_to_speed.py: {kiln} has no --tier=auto (an old build? bash bench/build.sh rebuilds it)")
    probe = subprocess.run([kiln, "run", "--tier=compiled", "--no-cache", "--invoke", "x", "/dev/null"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).stderr
    if b"built without the compiled tier" in probe:
        sys.exit(f"time_to_speed.py: {kiln} was built without the compiled tier (LLVM 19)")
    runners += [
        Runner("auto", [kiln, "run", "--tier=auto", "--no-cache", "--stats", wasm],
               "`kiln run --tier=auto --no-cache`: interpreter first, hot functions compiled by LLVM "
               "on a background thread and installed while running"),
        Runner("compiled", [kiln, "run", "--tier=compiled", "--no-cache", "--stats", wasm],
               "`kiln run --tier=compiled --no-cache`: the whole module compiled by LLVM (one thread "
               "per CPU) before main(), at every run"),
    ]
    if node:
        version = subprocess.run([node, "--version"], stdout=subprocess.PIPE).stdout.decode().strip()
        runners.append(Runner("v8", [node, "--no-warnings", os.path.join(ROOT, "bench", "run_v8.mjs"), wasm],
                              f"Node.js {version}, `bench/run_v8.mjs` (V8's default tiering: Liftoff, "
                              "then TurboFan for hot functions; node:wasi)"))
    else:
        log("time_to_speed.py: node not found: no v8 row")
    if only:
        unknown = set(only) - {r.name for r in runners}
        if unknown:
            sys.exit("time_to_speed.py: no such runner: " + ", ".join(sorted(unknown)))
        runners = [r for r in runners if r.name in only or r.name == "native"]
    return runners


class Run:
    """One process: when its iterations ended, in seconds since the spawn."""

    def __init__(self):
        self.startup = None   # spawn -> main(), s
        self.ends = []        # s since spawn
        self.durations = []   # s; the first from main()
        self.checks = {}      # iterations -> checksum
        self.wall = None      # spawn -> exit, s
        self.stats = ""       # kiln's --stats
        self.error = None     # no figures
        self.crash = None     # failed after writing all its output: figures kept

    def count_by(self, t):
        lo, hi = 0, len(self.ends)  # iterations ending by t (ends are sorted)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.ends[mid] <= t:
                lo = mid + 1
            else:
                hi = mid
        return lo


def run_once(runner, seconds, work_arg, scratch, timeout):
    out_path, err_path = scratch
    run = Run()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        actions = [(os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
                   (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
        spawn_ns = time.time_ns()
        argv = runner.argv + [f"{seconds:g}", str(spawn_ns)] + ([work_arg] if work_arg else [])
        start = time.monotonic_ns()
        try:
            pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        except OSError as e:
            run.error = f"cannot run {argv[0]}: {e.strerror}"
            return run
        timer = threading.Timer(timeout, lambda: os.kill(pid, 9))
        timer.start()
        _, status = os.waitpid(pid, 0)
        run.wall = (time.monotonic_ns() - start) / 1e9
        timer.cancel()
    with open(out_path, "rb") as f:
        output = f.read().decode("utf-8", "replace")
    with open(err_path, "rb") as f:
        errors = f.read().decode("utf-8", "replace")
    run.stats = errors if "kiln stats" in errors else ""
    code = os.waitstatus_to_exitcode(status)
    main_real = iterations = None
    since_main = []
    for line in output.splitlines():
        if line.startswith("end "):
            since_main.append(int(line[4:]) / 1e9)
        elif line.startswith("tts "):
            fields = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
            main_real, iterations = int(fields["main_realtime_ns"]), int(fields["iterations"])
        elif line.startswith("check@"):
            for w in line.split():
                k, v = w[len("check@"):].split("=")
                run.checks[int(k)] = int(v)
    complete = main_real is not None and since_main and len(since_main) == iterations
    if code != 0:
        message = errors.split("kiln stats:")[0].strip()  # what failed, not --stats
        lines = (message or output.strip()).splitlines()
        what = (f"killed after {timeout:.0f} s" if code == -9 else
                f"killed by signal {-code}" if code < 0 else f"exit status {code}")
        what += ": " + lines[-1][:200] if lines and code > 0 else ""
        if not complete:
            run.error = what
            return run
        # its output is whole: the figures stand, the failure is reported beside them
        run.crash = what + " after its output was complete"
    if not complete:
        run.error = "no or incomplete tts output: " + output[:200]
        return run
    run.startup = (main_real - spawn_ns) / 1e9
    if run.startup < 0 or run.startup > run.wall:
        run.error = f"spawn to main() measured as {run.startup * 1e3:.3f} ms (the clocks disagree)"
        return run
    run.ends = [run.startup + t for t in since_main]
    run.durations = [since_main[0]] + [b - a for a, b in zip(since_main, since_main[1:])]
    return run


# ---------------------------------------------------------------- figures

def buckets_for(seconds):
    edges = [e for e in BUCKETS if e < seconds] + [seconds]
    return list(zip(edges, edges[1:]))


def bucket_mean(run, lo, hi):
    """Mean duration (s) of the iterations ending in (lo, hi]; None if none did."""
    ds = [d for e, d in zip(run.ends, run.durations) if lo < e <= hi]
    return sum(ds) / len(ds) if ds else None


def steady(run, seconds):
    ds = [d for e, d in zip(run.ends, run.durations) if e > STEADY_FROM * seconds]
    return statistics.median(ds) if ds else None


def at_speed(run, target):
    """The end (s since spawn) of the first iteration from which the median of WINDOW
    consecutive iterations is within WITHIN x target; None if never."""
    d = run.durations
    for i in range(len(d)):
        window = d[i:i + WINDOW]
        if statistics.median(window) <= WITHIN * target:
            return run.ends[i]
    return None


def crossing(ahead, behind):
    """The first time (s since spawn) at which `behind` has done at least as many iterations
    as `ahead`, after `ahead` had done more; None if it never does within the window."""
    been_ahead = False
    for t in sorted(set(ahead.ends) | set(behind.ends)):
        a, b = ahead.count_by(t), behind.count_by(t)
        if a > b:
            been_ahead = True
        elif been_ahead and b >= a:
            return t
    return None


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ms(s, digits=None):
    if s is None:
        return "-"
    v = s * 1e3
    if digits is None:
        digits = 2 if v < 10 else 1 if v < 100 else 0
    return f"{v:.{digits}f}"


def secs(s):
    return "never" if s is None else f"{s:.3f} s" if s < 1 else f"{s:.2f} s"


# ---------------------------------------------------------------- chart

def representative(runs):
    ok = sorted((r for r in runs if not r.error), key=lambda r: len(r.ends))
    return ok[len(ok) // 2] if ok else None



def steps_1_2_5(lo, hi):
    """Grid values lo*1, lo*2, lo*5, lo*10, ... up to hi (lo a power of ten), with the multiplier."""
    decade = lo
    while decade <= hi * 1.0001:
        for mult in (1, 2, 5):
            if decade * mult > hi * 1.0001:
                return
            yield decade * mult, mult
        decade *= 10

def write_svg(path, runners, runs, seconds):
    """Two panels, the round with the median iteration count of each runner: top, ms per
    iteration (log) by seconds since spawn on a log axis (what happens in the first tenths
    of a second shows); bottom, iterations done so far, both axes linear."""
    width, height = 900, 700
    left, right = 70, 170
    top1, h1 = 50, 330        # ms per iteration
    top2, h2 = 480, 160       # iterations done
    plot_w = width - left - right
    x_min = 0.001             # s: the top panel's log axis starts at 1 ms
    reps = {r.name: representative(runs[r.name]) for r in runners}
    reps = {k: v for k, v in reps.items() if v}
    bins = 160                # log-spaced on the top panel
    edges = [x_min * (seconds / x_min) ** (b / bins) for b in range(bins + 1)]
    edges[0] = 0.0            # the first bin takes everything before x_min
    series = {}
    lo_y, hi_y = float("inf"), 0.0
    for name, run in reps.items():
        points = []
        for a, z in zip(edges, edges[1:]):
            m = bucket_mean(run, a, z)
            if m is not None:
                points.append((max(x_min, math.sqrt(max(a, x_min) * z)), m * 1e3))
        series[name] = points
        for _, v in points:
            lo_y, hi_y = min(lo_y, v), max(hi_y, v)
    if not series or hi_y <= 0:
        return False
    y_min = 10 ** math.floor(math.log10(lo_y))
    y_max = 10 ** math.ceil(math.log10(hi_y))
    max_count = max(len(r.ends) for r in reps.values())

    def x1(t):  # top: log
        return left + plot_w * math.log10(max(t, x_min) / x_min) / math.log10(seconds / x_min)

    def x2(t):  # bottom: linear
        return left + plot_w * t / seconds

    def y1(v):
        return top1 + h1 * (1 - (math.log10(v) - math.log10(y_min)) / (math.log10(y_max) - math.log10(y_min)))

    def y2(c):
        return top2 + h2 * (1 - c / max_count)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="15" font-weight="bold">kiln: time to speed '
           f'(the same program, {seconds:g} s from spawn)</text>',
           f'<text x="{left}" y="{top1 - 8}" font-weight="bold">Milliseconds per iteration (lower is '
           f'better), both axes log scale</text>',
           f'<text x="{left}" y="{top2 - 8}" font-weight="bold">Iterations done (more is better), linear</text>']
    for top, h in ((top1, h1), (top2, h2)):
        out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{h}" fill="none" stroke="#999"/>')
    # top panel: x grid at 1-2-5 steps, y grid likewise
    for t, mult in steps_1_2_5(x_min, seconds):
        out.append(f'<line x1="{x1(t):.1f}" y1="{top1}" x2="{x1(t):.1f}" y2="{top1 + h1}" '
                   f'stroke="{"#ddd" if mult == 1 else "#f2f2f2"}"/>')
        out.append(f'<text x="{x1(t):.1f}" y="{top1 + h1 + 16}" text-anchor="middle">{t:g}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{top1 + h1 + 34}" text-anchor="middle">seconds since '
               f'the process was spawned (log scale)</text>')
    for v, mult in steps_1_2_5(y_min, y_max):
        out.append(f'<line x1="{left}" y1="{y1(v):.1f}" x2="{left + plot_w}" y2="{y1(v):.1f}" '
                   f'stroke="{"#ddd" if mult == 1 else "#f2f2f2"}"/>')
        out.append(f'<text x="{left - 6}" y="{y1(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    out.append(f'<text x="18" y="{top1 + h1 / 2}" transform="rotate(-90 18 {top1 + h1 / 2})" '
               f'text-anchor="middle">ms per iteration</text>')
    # bottom panel
    step = 0.5 if seconds <= 3 else 1
    t = 0.0
    while t <= seconds + 1e-9:
        out.append(f'<line x1="{x2(t):.1f}" y1="{top2}" x2="{x2(t):.1f}" y2="{top2 + h2}" stroke="#eee"/>')
        out.append(f'<text x="{x2(t):.1f}" y="{top2 + h2 + 16}" text-anchor="middle">{t:g}</text>')
        t += step
    out.append(f'<text x="{left + plot_w / 2}" y="{top2 + h2 + 34}" text-anchor="middle">seconds since '
               f'the process was spawned</text>')
    tick = 10 ** math.floor(math.log10(max(max_count, 1)))
    if max_count / tick < 3:
        tick /= 10
    for mult in (1, 2, 5, 10):
        if max_count / (tick * mult) <= 6:
            tick *= mult
            break
    for k in range(int(max_count // tick) + 1):
        c = k * tick
        out.append(f'<line x1="{left}" y1="{y2(c):.1f}" x2="{left + plot_w}" y2="{y2(c):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y2(c) + 4:.1f}" text-anchor="end">{c:.0f}</text>')
    out.append(f'<text x="18" y="{top2 + h2 / 2}" transform="rotate(-90 18 {top2 + h2 / 2})" '
               f'text-anchor="middle">iterations</text>')
    # the runners
    legend_y = top1 + 10
    for runner in runners:
        name = runner.name
        if name not in series:
            continue
        color = COLORS.get(name, "#000")
        run = reps[name]
        pts = " ".join(f"{x1(t):.1f},{y1(v):.1f}" for t, v in series[name])
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.6"/>')
        out.append(f'<circle cx="{x1(run.ends[0]):.1f}" cy="{y1(run.durations[0] * 1e3):.1f}" r="3.5" '
                   f'fill="{color}"/>')
        steps = [f"{x2(0):.1f},{y2(0):.1f}"]
        for b in range(1, 401):
            tt = seconds * b / 400
            steps.append(f"{x2(tt):.1f},{y2(run.count_by(tt)):.1f}")
        out.append(f'<polyline points="{" ".join(steps)}" fill="none" stroke="{color}" stroke-width="1.6"/>')
        out.append(f'<line x1="{width - right + 14}" y1="{legend_y}" x2="{width - right + 40}" y2="{legend_y}" '
                   f'stroke="{color}" stroke-width="3"/>')
        out.append(f'<text x="{width - right + 46}" y="{legend_y + 4}">{name}</text>')
        out.append(f'<text x="{width - right + 46}" y="{legend_y + 18}" fill="#666" font-size="10">'
                   f'first at {secs(run.ends[0])}</text>')
        legend_y += 36
    out.append(f'<text x="{width - right + 14}" y="{legend_y + 4}" fill="#666" font-size="10">dot: the first '
               f'iteration, at its</text>')
    out.append(f'<text x="{width - right + 14}" y="{legend_y + 17}" fill="#666" font-size="10">end (start-up '
               f'before it)</text>')
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return True


# ---------------------------------------------------------------- report

def stats_line(stats, key):
    for line in stats.splitlines():
        if line.strip().startswith(key):
            return line.strip()[len(key):].strip()
    return None


def report(args, runners, runs, seconds, work_desc, started, load_start, chart, errors):
    names = [r.name for r in runners]
    good = {n: [r for r in runs[n] if not r.error] for n in names}
    steady_of = {n: median_or_none([steady(r, seconds) for r in good[n]]) for n in names}
    lines = ["# kiln: time to speed", ""]
    facts = dict(machine_facts())
    kiln_mtime = datetime.datetime.fromtimestamp(os.path.getmtime(args.kiln), datetime.timezone.utc)
    lines += [
        f"- date: {started:%Y-%m-%d %H:%M} UTC",
        f"- command: `{args.command or shlex.join(['python3', 'bench/time_to_speed.py'] + sys.argv[1:])}`",
        f"- machine: {facts['machine']}",
        f"- load average (1, 5, 15 min): {' '.join(f'{v:.2f}' for v in load_start)} at the start, "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} at the end",
        f"- kiln: `{os.path.relpath(args.kiln, ROOT)}` ({command_output([args.kiln, '--version'])}, binary "
        f"built {kiln_mtime:%Y-%m-%d %H:%M} UTC); the work tree: {facts['kiln']} (the binary may predate it)",
        f"- compilers: {facts['compilers']}",
        f"- guest: `bench/tts/tts.c`, one iteration = `{work_desc}` (kernels of bench/kernels/, each "
        "called once per iteration through a function pointer); wasm: clang-19 -O2 wasm32-wasi, "
        f"{os.path.getsize(args.wasm) / 1024:.0f} KiB",
        f"- window: {seconds:g} s from spawn; a warm-up run of each runner ({WARMUP_SECONDS:g} s), then "
        f"{args.runs} round(s) with the runners interleaved; figures are medians over the rounds",
        "- clock: the harness reads CLOCK_REALTIME just before posix_spawn and passes it to the guest, "
        "which reads CLOCK_REALTIME once at the start of main() (start-up = the difference) and "
        "CLOCK_MONOTONIC at the end of every iteration: every time below is from the spawn, and "
        "includes start-up (for `compiled`, LLVM's compile of the whole module)",
        "", "Runners, all on the same `.wasm` file but native:", ""]
    lines += [f"- **{r.name}**: {r.description}" for r in runners]
    lines.append("")
    if chart:
        lines += [f"![time to speed]({os.path.basename(chart)})", ""]
    if errors:
        lines += ["## Errors", ""] + [f"- {e}" for e in errors] + [""]
        if any("after its output was complete" in e for e in errors):
            lines += ["A run that failed after writing all its output keeps its figures below.", ""]

    # headline
    auto_reach = compiled_steady = None
    if "auto" in names and "compiled" in names and steady_of["compiled"]:
        compiled_steady = steady_of["compiled"]
        auto_reach = median_or_none([at_speed(r, compiled_steady) for r in good["auto"]])
    lines += ["## Headline", ""]
    if compiled_steady and good["auto"]:
        ratio = steady_of["auto"] / compiled_steady if steady_of["auto"] else None
        lines.append(f"- **auto reaches compiled speed at {secs(auto_reach)}** after spawn (the first "
                     f"iteration from which the median of {WINDOW} consecutive iterations is within "
                     f"{WITHIN}x of compiled's steady state, {ms(compiled_steady)} ms)")
        if ratio:
            lines.append(f"- steady state, auto / compiled: **{ratio:.2f}x** ({ms(steady_of['auto'])} ms "
                         f"against {ms(compiled_steady)} ms per iteration)")
        first_compiled = median_or_none([r.ends[0] for r in good["compiled"]])
        lines.append(f"- compiled's first iteration ends at {secs(first_compiled)} (start-up "
                     f"{secs(median_or_none([r.startup for r in good['compiled']]))}: the whole-module compile)")
        pairs = list(zip(good["auto"], good["compiled"]))
        if pairs:
            cross = [crossing(a, c) for a, c in pairs]
            done = [c for c in cross if c is not None]
            text = (f"at {secs(statistics.median(done))}" if len(done) == len(cross)
                    else f"never within {seconds:g} s" if not done
                    else f"in {len(done)} of {len(cross)} rounds (at {secs(statistics.median(done))})")
            lines.append(f"- compiled catches up with the iterations auto has done: {text}")
    if "interp" in names and "auto" in names and good["interp"] and good["auto"]:
        first = buckets_for(seconds)[0]
        ai = median_or_none([bucket_mean(r, *first) for r in good["auto"]])
        ii = median_or_none([bucket_mean(r, *first) for r in good["interp"]])
        if ai and ii:
            lines.append(f"- first {first[1]:g} s: auto {ms(ai)} ms per iteration, interp {ms(ii)} ms "
                         f"({ai / ii:.2f}x)")
    if steady_of.get("native"):
        lines.append("- steady state against native: " + ", ".join(
            f"{n} {steady_of[n] / steady_of['native']:.2f}x" for n in names if n != "native" and steady_of[n]))
    lines.append("")

    # bucket table
    buckets = buckets_for(seconds)
    lines += ["## Time per iteration (ms) by time since spawn", "",
              "The mean time of the iterations that end in each interval (lower is better); `-`: no "
              "iteration ended in it (still starting or compiling). An iteration's time is the "
              "difference of two monotonic readings, the first from main(); start-up is in its own "
              "column.", "",
              "| runner | start-up | " + " | ".join(f"{a:g}-{b:g} s" for a, b in buckets) + " | steady state |",
              "| --- | ---: | " + " | ".join("---:" for _ in buckets) + " | ---: |"]
    for n in names:
        if not good[n]:
            lines.append(f"| {n} | failed |" + " |" * (len(buckets) + 1))
            continue
        cells = [ms(median_or_none([bucket_mean(r, a, b) for r in good[n]])) for a, b in buckets]
        lines.append(f"| {n} | {ms(median_or_none([r.startup for r in good[n]]))} | " + " | ".join(cells) +
                     f" | {ms(steady_of[n])} |")
    lines += ["", f"*steady state*: the median iteration of those ending after {STEADY_FROM * seconds:g} s.", ""]

    # time to speed and work done
    checkpoints = sorted({c for c in CHECKPOINTS if c < seconds} | {seconds})
    lines += ["## Time to speed and work done", "",
              f"*at own speed*: the end of the first iteration from which the median of {WINDOW} "
              f"consecutive iterations is within {WITHIN}x of the runner's own steady state. "
              "*iterations by*: iterations completed that many seconds after the spawn "
              "(more is better).", "",
              "| runner | first iteration ends | at own speed | " +
              " | ".join(f"iterations by {c:g} s" for c in checkpoints) + " |",
              "| --- | ---: | ---: | " + " | ".join("---:" for _ in checkpoints) + " |"]
    for n in names:
        if not good[n]:
            continue
        first = median_or_none([r.ends[0] for r in good[n]])
        own = median_or_none([at_speed(r, steady(r, seconds)) for r in good[n] if steady(r, seconds)])
        counts = [median_or_none([r.count_by(c + 1e-9) for r in good[n]]) for c in checkpoints]
        lines.append(f"| {n} | {secs(first)} | {secs(own)} | " +
                     " | ".join("-" if c is None else f"{c:.0f}" for c in counts) + " |")
    lines.append("")

    # kiln's own view
    kiln_rows = []
    for n in ("interp", "auto", "compiled"):
        if n in names and good[n]:
            st = representative(good[n]).stats
            kiln_rows.append(f"| {n} | {stats_line(st, 'tier') or '?'} | {stats_line(st, 'compile time') or '?'} | "
                             f"{stats_line(st, 'peak RSS') or '?'} |")
    if kiln_rows:
        lines += ["## kiln's --stats (the round drawn in the chart)", "",
                  "| runner | tier at exit | compile time | peak RSS |", "| --- | --- | ---: | ---: |"]
        lines += kiln_rows + [""]
    if not any("checksum" in e for e in errors):
        lines += ["Every run's running checksum after 1, 10, 100, ... iterations equals native's.", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kiln", help="the kiln command (build-bench/kiln/kiln: Release, with the LLVM tier)")
    parser.add_argument("--work", default=os.path.join(ROOT, "build-bench", "tts"),
                        help="where the guest is built (default build-bench/tts)")
    parser.add_argument("--seconds", type=float, help="the window from spawn (default 5; 2 with --quick)")
    parser.add_argument("--runs", type=int, help="rounds (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a 2 s window, one round")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "time_to_speed.md"),
                        help="the report (default bench/results/time_to_speed.md; '' for stdout only); "
                             "the chart goes beside it as .svg")
    parser.add_argument("--no-chart", action="store_true", help="no SVG")
    parser.add_argument("--runners", help="a subset of native,interp,auto,compiled,v8 (native always runs)")
    parser.add_argument("--iteration", help="the guest's iteration, name:n,... (default: tts.c's "
                                            "coremark:30,interp:6000,nbody:2000,sha256:2,lz:1)")
    parser.add_argument("--command", help="the command line to record in the report (e.g. 'make bench')")
    parser.add_argument("--clang", default=os.environ.get("CLANG", "clang-19"), help="default $CLANG or clang-19")
    parser.add_argument("--gcc", default=os.environ.get("CC_NATIVE", "gcc"), help="default $CC_NATIVE or gcc")
    args = parser.parse_args()
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    args.runs = args.runs or (1 if args.quick else 3)
    if seconds <= 0 or args.runs < 1:
        sys.exit("time_to_speed.py: --seconds and --runs must be positive")
    args.kiln = os.path.abspath(args.kiln)
    args.work = os.path.abspath(args.work)
    if not os.access(args.kiln, os.X_OK):
        sys.exit(f"time_to_speed.py: {args.kiln} not found (bash bench/build.sh builds build-bench/kiln/kiln)")
    for tool in (args.clang, args.gcc):
        if not shutil.which(tool):
            sys.exit(f"time_to_speed.py: {tool} not found (scripts/deps.sh installs it)")

    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    native, args.wasm = build(os.path.abspath(args.work), args.clang, args.gcc)
    node = shutil.which("node")
    runners = make_runners(args.kiln, native, args.wasm, node, args.runners.split(",") if args.runners else None)
    scratch = (os.path.join(args.work, "stdout"), os.path.join(args.work, "stderr"))
    timeout = seconds + 120
    errors = []
    expected = {}

    def check(runner, run, what):
        if run.error:
            errors.append(f"{runner.name} ({what}): {run.error}")
            log(f"   {runner.name}: FAILED {run.error}")
            return
        for k, v in run.checks.items():
            if k in expected and expected[k] != v:
                run.error = f"checksum after {k} iterations {v}, native's {expected[k]}"
                errors.append(f"{runner.name} ({what}): {run.error}")
                log(f"   {runner.name}: {run.error}")
                return
            expected.setdefault(k, v)
        if run.crash:
            errors.append(f"{runner.name} ({what}): {run.crash} (its figures are kept)")
            log(f"   {runner.name}: {run.crash}")

    log(f"== warm-up ({WARMUP_SECONDS:g} s each)")
    for runner in runners:  # native first: its checksums are the reference
        run = run_once(runner, WARMUP_SECONDS, args.iteration, scratch, timeout)
        check(runner, run, "warm-up")
        if not run.error:
            log(f"   {runner.name}: {len(run.ends)} iterations, first at {run.ends[0]:.3f} s")
    runs = {r.name: [] for r in runners}
    work_desc = args.iteration or "coremark:30,interp:6000,nbody:2000,sha256:2,lz:1"
    for i in range(args.runs):
        log(f"== round {i + 1} of {args.runs} ({seconds:g} s each)")
        for runner in runners:
            run = run_once(runner, seconds, args.iteration, scratch, timeout)
            check(runner, run, f"round {i + 1}")
            runs[runner.name].append(run)
            if not run.error:
                log(f"   {runner.name}: {len(run.ends)} iterations, first at {run.ends[0]:.3f} s, "
                    f"steady {ms(steady(run, seconds))} ms")

    chart = None
    if args.out and not args.no_chart:
        chart = os.path.splitext(args.out)[0] + ".svg"
        os.makedirs(os.path.dirname(os.path.abspath(chart)), exist_ok=True)
        if not write_svg(chart, runners, runs, seconds):
            chart = None
    text = report(args, runners, runs, seconds, work_desc, started, load_start, chart, errors)
    print(text, end="")
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        log(f"time_to_speed.py: wrote {args.out}" + (f" and {chart}" if chart else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
