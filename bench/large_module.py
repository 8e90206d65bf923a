#!/usr/bin/env python3
"""large_module.py - start-up and peak memory of a large real program: kiln against Node's V8.

    python3 bench/large_module.py build-bench/kiln [--work build-bench/large] [-n 5] [--out FILE]

The program is yosys (a logic-synthesis tool) as the npm package @yowasp/yosys publishes it:
`gen/yosys.core.wasm`, a 30.8 MB WASI preview1 command of 34,004 functions. It is fetched once
with `npm pack` (npm's registry only) into the work directory. Three jobs, each a whole
process, timed from spawn to exit with its peak resident memory (wait4's ru_maxrss):

  validate   `kiln validate yosys.wasm` (Node: WebAssembly.compile of the bytes)
  version    `yosys -V`
  short job  `read_verilog` of an 8-bit counter, then `proc; opt; fsm; memory; opt; stat`

kiln runs in its default tier (`kiln run`); Node runs the same file with node:wasi. The runs
alternate (kiln, node, kiln, node, ...) so that drifts in machine load hit both alike; the
first of each is a warm-up, not counted. Prints a Markdown table of median seconds and peak
MB, and the ratios kiln / node. Not a test: timings depend on the machine.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import time

PACKAGE = "@yowasp/yosys@0.55.944"
MEMBER = "package/gen/yosys.core.wasm"
COUNTER_V = """module counter(input clk, input rst, output reg [7:0] q);
  always @(posedge clk) if (rst) q <= 0; else q <= q + 1;
endmodule
"""
SHORT_JOB = "read_verilog counter.v; hierarchy -top counter; proc; opt; fsm; memory; opt; stat"

NODE_RUN = """import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';
const [file, mode, ...args] = process.argv.slice(2);
const bytes = readFileSync(file);
const mod = await WebAssembly.compile(bytes);
if (mode === 'validate') { console.log(file + ': valid'); process.exit(0); }
const wasi = new WASI({ version: 'preview1', args: ['yosys', ...args], preopens: { '.': '.' },
                        returnOnExit: true });
const inst = await WebAssembly.instantiate(mod, wasi.getImportObject());
process.exitCode = wasi.start(inst);
"""


def fetch(work):
    """The module, fetched once: npm pack of PACKAGE into work, then its .wasm extracted."""
    wasm = os.path.join(work, "yosys.wasm")
    if os.path.exists(wasm):
        return wasm
    os.makedirs(work, exist_ok=True)
    print(f"large_module.py: fetching {PACKAGE} from npm's registry into {work}", flush=True)
    out = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=work, capture_output=True, text=True,
                         timeout=600)
    if out.returncode != 0:
        sys.exit(f"large_module.py: npm pack {PACKAGE} failed: {out.stderr.strip()[-400:]}")
    tgz = os.path.join(work, out.stdout.strip().splitlines()[-1])
    with tarfile.open(tgz) as tar:
        member = tar.getmember(MEMBER)
        with tar.extractfile(member) as src, open(wasm + ".tmp", "wb") as dst:
            dst.write(src.read())
    os.rename(wasm + ".tmp", wasm)
    os.remove(tgz)
    return wasm


def run(argv, cwd):
    """Seconds from spawn to exit and peak resident MB of one process (its output dropped)."""
    with open(os.devnull, "wb") as null:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=null, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        err = proc.stderr.read()
        proc.stderr.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"large_module.py: {' '.join(argv)}: exit {proc.returncode}: {err.decode(errors='replace')[-400:]}")
    return elapsed, usage.ru_maxrss * 1024 / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kiln", help="the kiln command")
    parser.add_argument("--work", default="build-bench/large", help="where the module is kept")
    parser.add_argument("-n", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args()

    work = os.path.abspath(args.work)
    wasm = fetch(work)
    with open(os.path.join(work, "counter.v"), "w") as f:
        f.write(COUNTER_V)
    node_run = os.path.join(work, "node_run.mjs")
    with open(node_run, "w") as f:
        f.write(NODE_RUN)
    kiln = os.path.abspath(args.kiln)
    node = ["node", "--no-warnings", node_run, "yosys.wasm"]
    jobs = [
        ("validate", [kiln, "validate", "yosys.wasm"], node + ["validate"]),
        ("yosys -V", [kiln, "run", "yosys.wasm", "-V"], node + ["run", "-V"]),
        ("short job", [kiln, "run", "--dir", ".", "yosys.wasm", "-q", "-p", SHORT_JOB],
         node + ["run", "-q", "-p", SHORT_JOB]),
    ]
    size_mb = os.path.getsize(wasm) / 1e6
    lines = [f"{PACKAGE} `gen/yosys.core.wasm`, {size_mb:.1f} MB; median of {args.n} runs "
             f"(whole processes, alternating), peak resident memory", "",
             "| job | kiln s | node s | kiln / node | kiln MB | node MB | kiln MB / wasm MB |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, kiln_argv, node_argv in jobs:
        times = {"kiln": [], "node": []}
        rss = {"kiln": [], "node": []}
        for i in range(args.n + 1):
            for who, argv in (("kiln", kiln_argv), ("node", node_argv)):
                t, m = run(argv, work)
                if i > 0:
                    times[who].append(t)
                    rss[who].append(m)
        k, n = statistics.median(times["kiln"]), statistics.median(times["node"])
        km, nm = max(rss["kiln"]), max(rss["node"])
        lines.append(f"| {name} | {k:.3f} | {n:.3f} | {k / n:.2f}x | {km:.0f} | {nm:.0f} | "
                     f"{km / size_mb:.2f}x |")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
