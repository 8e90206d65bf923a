#!/usr/bin/env python3
"""startup.py - whole-process start-up time of `kiln run hello.wasm` against a native hello.

    python3 bench/startup.py build/kiln build/hello.wasm build/hello [-n 300] [--warmup 30]

Both programs come from tests/programs/hello.c (the build makes build/hello and
build/hello.wasm). Each run is one process, spawned with posix_spawn and its stdout sent to
/dev/null, timed from spawn to exit. The runs alternate (native, kiln, native, kiln, ...) so
that drifts in machine load hit both alike; the warm-up runs are not counted. Prints median,
min and max milliseconds of each and the ratio kiln / native (the product bar: within 1.5x).
Not a test: timings depend on the machine.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def check_output(argv):
    proc = subprocess.run(argv, capture_output=True, timeout=30)
    if proc.returncode != 0 or proc.stdout != b"hello, world\n":
        sys.exit(f"startup.py: {' '.join(argv)}: exit {proc.returncode}, "
                 f"stdout {proc.stdout!r}, stderr {proc.stderr[-300:]!r}")


def time_run(argv, actions):
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter_ns() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"startup.py: {' '.join(argv)} failed")
    return elapsed / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kiln", help="the kiln command")
    parser.add_argument("hello_wasm", help="hello.wasm (tests/programs/hello.c for wasm32-wasi)")
    parser.add_argument("native_hello", help="the same program built natively")
    parser.add_argument("-n", type=int, default=300, help="timed runs of each (default 300)")
    parser.add_argument("--warmup", type=int, default=30, help="untimed runs of each first")
    args = parser.parse_args()

    kiln = [os.path.abspath(args.kiln), "run", os.path.abspath(args.hello_wasm)]
    native = [os.path.abspath(args.native_hello)]
    for argv in (native, kiln):
        check_output(argv)
    actions = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
    times = {"native": [], "kiln": []}
    for i in range(args.warmup + args.n):
        for name, argv in (("native", native), ("kiln", kiln)):
            ms = time_run(argv, actions)
            if i >= args.warmup:
                times[name].append(ms)

    print(f"start-up, {args.n} runs each (after {args.warmup} warm-up), interleaved:")
    print(f"{'':8} {'median':>9} {'min':>9} {'max':>9}")
    for name in ("native", "kiln"):
        t = times[name]
        print(f"{name:8} {statistics.median(t):8.3f}ms {min(t):8.3f}ms {max(t):8.3f}ms")
    ratio = statistics.median(times["kiln"]) / statistics.median(times["native"])
    print(f"kiln / native: {ratio:.2f}x median, "
          f"{min(times['kiln']) / min(times['native']):.2f}x min (bar: 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
