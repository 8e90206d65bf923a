"""The runtime command shared by run_testsuite.py and run_c_tests.py: `KILN run` from --kiln,
or any wasmtime-style command line (--dir HOST::GUEST, --env K=V, module, args) from --runtime."""

import os
import shlex


def add_runtime_options(parser):
    parser.add_argument("--kiln", help="path of the kiln CLI (runs `KILN run ...`)")
    parser.add_argument("--runtime", help="command line of a wasmtime-style runtime instead "
                        "(given --dir HOST::GUEST, --env K=V, the module and its arguments)")


def runtime_command(parser, args):
    """The argv prefix to run a module with, or None (after a message) if --kiln is unusable."""
    if args.runtime:
        return shlex.split(args.runtime)
    if not args.kiln:
        parser.error("give --kiln PATH or --runtime COMMAND")
    if not os.access(args.kiln, os.X_OK):
        parser.exit(2, f"error: {args.kiln} is not an executable\n")
    return [os.path.abspath(args.kiln), "run"]
