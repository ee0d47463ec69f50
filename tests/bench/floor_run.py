"""Run a script under one of the benchmark's empty-hook floors.

    python floor_run.py MODE script.py [args...]

MODE is one of
  setprofile         the empty C PyEval_SetProfile hook (every version), in the main
                     thread and in every thread started afterwards (threading.setprofile
                     bootstrap, see ftbench_floor.c); threads already running when the
                     floor is installed are not covered (the workloads start none).
  monitoring-all     (3.12+) empty C sys.monitoring callbacks for what the recorder's `all`
                     mode listens to: PY_START, PY_RESUME, PY_RETURN, PY_YIELD, PY_UNWIND,
                     CALL, C_RETURN, C_RAISE. sys.monitoring covers every thread.
  monitoring-python  (3.12+) the same for Python events only: PY_START, PY_RESUME,
                     PY_RETURN, PY_YIELD, PY_UNWIND.
  evalframe          an empty PEP 523 frame evaluator that calls CPython's default one:
                     what the recorder's evalframe backend (mode python) pays before it
                     records anything. Per interpreter: every thread.

The script then runs as __main__ (runpy), with sys.argv and sys.path[0] as `python script.py
args` would give it. The extension _ftbench_floor is looked for in $FT_BENCH_FLOOR_DIR
(default: build/bench/floor of this repository), where `make bench` builds it for each
interpreter; it is removed from sys.path again before the script starts.
"""

import os
import runpy
import sys

MODES = ("setprofile", "monitoring-all", "monitoring-python", "evalframe")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_floor():
    where = os.environ.get("FT_BENCH_FLOOR_DIR", os.path.join(REPO, "build", "bench", "floor"))
    sys.path.insert(0, where)
    try:
        import _ftbench_floor
    except ImportError as e:
        sys.exit("floor_run.py: cannot import _ftbench_floor from %s (run `make bench`): %s"
                 % (where, e))
    finally:
        sys.path.remove(where)
    return _ftbench_floor


def install(mode, floor):
    if mode == "setprofile":
        import threading
        threading.setprofile(floor.thread_bootstrap)
        floor.install_setprofile()
        return
    if mode == "evalframe":
        floor.install_evalframe()
        return
    mon = sys.monitoring
    events = mon.events
    wanted = [events.PY_START, events.PY_RESUME, events.PY_RETURN, events.PY_YIELD,
              events.PY_UNWIND]
    if mode == "monitoring-all":
        wanted += [events.CALL, events.C_RETURN, events.C_RAISE]
    tool = mon.PROFILER_ID
    mon.use_tool_id(tool, "ftbench-floor")
    mask = 0
    for event in wanted:
        mon.register_callback(tool, event, floor.monitoring_callback)
        mask |= event
    mon.set_events(tool, mask)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in MODES:
        sys.exit("usage: floor_run.py {%s} script.py [args...]" % "|".join(MODES))
    mode, script = sys.argv[1], sys.argv[2]
    if mode.startswith("monitoring") and not hasattr(sys, "monitoring"):
        sys.exit("floor_run.py: %s needs Python 3.12+" % mode)
    floor = load_floor()
    sys.argv = sys.argv[2:]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    install(mode, floor)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
