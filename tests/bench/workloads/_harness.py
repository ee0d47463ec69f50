"""What every benchmark workload shares: its size and how it reports its own time.

A workload times only its main function (wall and CPU time), so that the runner can set the
traced workload time against the time of the whole process (interpreter start-up, the
tracer's set-up and, for tracers that save at exit, the save). The result goes to the JSON
file named by FT_BENCH_RESULT, or to stderr as one `ft-bench: {...}` line when run by hand.

FT_BENCH_SCALE multiplies every workload's size (default 1.0; `run.py --quick` lowers it).

`check` is a value computed by the workload (a checksum, a count): the runner compares it
across configurations, because a tracer that changes what a program computes is broken, not
slow.

This file starts with an underscore so that the runner does not take it for a workload;
each workload imports it from its own directory (sys.path[0] is the script's directory under
plain python, `-m cProfile`, functiontrace.record and floor_run.py alike).
"""

import json
import os
import sys
import time

SCALE = float(os.environ.get("FT_BENCH_SCALE", "1.0"))


def scaled(n):
    """n scaled by FT_BENCH_SCALE, at least 1."""
    return max(1, int(n * SCALE))


def run(main):
    """Time main() and report it. main returns its check value (JSON-serialisable). All the
    work of a workload belongs in main: what a tracer costs outside it is meant to be its
    set-up and exit alone."""
    # Wall time, and CPU time of the whole process (all threads, so a tracer's own threads
    # are charged too): on a busy machine the wall clock also counts the time the process
    # waited for a CPU, which is the neighbours' doing, not the tracer's.
    c0, t0 = time.process_time(), time.perf_counter()
    check = main()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    record = {"workload_s": elapsed, "workload_cpu_s": cpu, "check": check}
    path = os.environ.get("FT_BENCH_RESULT")
    if path:
        with open(path, "w") as f:
            json.dump(record, f)
    else:
        print("ft-bench: " + json.dumps(record), file=sys.stderr)
