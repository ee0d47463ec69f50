#!/usr/bin/python3
"""functiontrace's benchmark suite: `make bench`, or directly

    /usr/bin/python3 tests/bench/run.py [--reps N] [--quick] [--scale X] [--python PATH]...
                                        [--workload NAME]... [--config NAME]...
                                        [--metric cpu|wall] [--json PATH]

For every interpreter, workload (tests/bench/workloads/*.py) and configuration it runs the
workload in a fresh process, N times, and reports medians:

  untraced            python script.py
  cProfile            python -m cProfile -o /dev/null script.py (its stats are written at
                      exit: that is in its process time, not in its workload time)
  floor-setprofile    an empty C PyEval_SetProfile hook (tests/bench/floor_run.py)
  floor-mon-all       3.12+: empty C sys.monitoring callbacks for Python and C calls
  floor-mon-python    3.12+: the same for Python events only
  floor-evalframe     an empty PEP 523 frame evaluator (every version)
  ft-all, ft-python   python -m functiontrace.record --mode all|python; the modes are read
                      from the recorder's --help at run time, so modes it lacks are skipped.
                      As a user gets it: each full chunk compressed and written by the
                      thread that filled it
  ft-all-thread,      the same with FUNCTIONTRACE_WRITER=thread: full chunks compressed and
  ft-python-thread    written by a compressor thread of the recorder's own
  ft-memory           --mode all --memory: every call and every allocation and free of
                      Python's allocators (needs a recorder whose --help offers --memory)
  ft-python-prof      only when asked for (--config): --mode python as it was before the
                      frame evaluator: on the interpreter's profiling backend (setprofile
                      up to 3.11, sys.monitoring 3.12+; FUNCTIONTRACE_BACKEND) and with
                      clock_gettime timestamps (FUNCTIONTRACE_CLOCK=exact)
  ft-python-exact,    only when asked for (--config): ft-python and ft-all with
  ft-all-exact        clock_gettime timestamps, to tell the TSC clock's share apart

Times are what each workload measures around its main function (workloads/_harness.py).
Repetitions are interleaved: each round runs every (interpreter, workload, configuration)
once, the configurations of one workload back to back, in an order rotated from round to
round. The ratio of a configuration is the median over rounds of its time over the untraced
time *of the same round* (a paired ratio): this shared machine has slow spells of minutes
that slow every configuration alike, and pairing cancels them. The geomean row sums up all
workloads.

By default the ratios use the workload's CPU time (time.process_time: all threads of the
process, so a tracer's own threads are charged). On a shared 2-core machine wall time also
counts the time spent waiting for a CPU: with three busy neighbours a workload's wall time
doubles while its CPU time moves by a few percent. `--metric wall` uses wall time instead;
the JSON holds both, and the tables print the other metric's geomean under the first.

For functiontrace it also reports events recorded (from each trace's TRAILER), bytes on disk
per event, the cost per event, the whole process's time against the workload time (the
recorder streams, so there is no save phase to wait for at exit), peak RSS, and
ft-convert's throughput and peak RSS on the largest trace.

Results go to a JSON file (default build/bench/results-<UTC time>.json, also copied to
build/bench/latest.json) with the git commit, the machine and the interpreters, so that runs
can be compared across commits. This is a benchmark, not a test: it never fails on speed.
It exits 1 only if something broke: a run crashed, a traced workload computed something else
than the untraced one, or ft-convert failed.
"""

import argparse
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORKLOAD_DIR = os.path.join(HERE, "workloads")
FLOOR_RUN = os.path.join(HERE, "floor_run.py")

# The reference decoder gives a fast path to the trailer's event count (only the last frame
# is decompressed). It needs python3-zstandard; without it build/ftdump is used instead.
sys.path.insert(0, os.path.join(REPO, "tests"))
try:
    import refdecode
except ImportError:
    refdecode = None

# Configurations in display order. `needs` names what an interpreter must offer.
CONFIGS = [
    {"name": "untraced", "needs": None},
    {"name": "cProfile", "needs": None},
    {"name": "floor-setprofile", "needs": "floor"},
    {"name": "floor-mon-all", "needs": "floor-monitoring"},
    {"name": "floor-mon-python", "needs": "floor-monitoring"},
    {"name": "floor-evalframe", "needs": "floor"},
    {"name": "ft-all", "needs": "ft-mode-all"},
    {"name": "ft-python", "needs": "ft-mode-python"},
    {"name": "ft-all-thread", "needs": "ft-mode-all"},
    {"name": "ft-python-thread", "needs": "ft-mode-python"},
    {"name": "ft-memory", "needs": "ft-memory"},
    {"name": "ft-python-prof", "needs": "ft-mode-python", "default": False},
    {"name": "ft-python-exact", "needs": "ft-mode-python", "default": False},
    {"name": "ft-all-exact", "needs": "ft-mode-all", "default": False},
]
CONFIG_NAMES = [c["name"] for c in CONFIGS]
DEFAULT_CONFIGS = [c["name"] for c in CONFIGS if c.get("default", True)]
# The recorder's mode of each functiontrace configuration.
FT_MODES = {"ft-all": "all", "ft-python": "python", "ft-all-thread": "all",
            "ft-python-thread": "python", "ft-memory": "all", "ft-python-prof": "python",
            "ft-python-exact": "python", "ft-all-exact": "all"}
FLOOR_MODES = {"floor-setprofile": "setprofile", "floor-mon-all": "monitoring-all",
               "floor-mon-python": "monitoring-python", "floor-evalframe": "evalframe"}

# Short column titles for the tables.
SHORT = {"untraced": "untraced", "cProfile": "cProfile", "floor-setprofile": "floor-sp",
         "floor-mon-all": "floor-mon", "floor-mon-python": "floor-monpy",
         "floor-evalframe": "floor-ef", "ft-all": "ft-all", "ft-python": "ft-python",
         "ft-all-thread": "ft-all-thr", "ft-python-thread": "ft-py-thr",
         "ft-memory": "ft-mem", "ft-python-prof": "ft-py-prof", "ft-python-exact": "ft-py-exact",
         "ft-all-exact": "ft-all-exact"}

# --quick: enough to see that everything runs and roughly where it stands.
QUICK_REPS, QUICK_SCALE = 3, 0.2
DEFAULT_REPS = 5


class Bench:
    """Everything one invocation measures, and the JSON it becomes."""

    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.out_dir = os.path.join(self.build, "bench")
        self.work = os.path.join(self.out_dir, "work")
        self.floor_dir = os.path.join(self.out_dir, "floor")
        self.ft_convert = os.path.join(self.build, "ft-convert")
        self.ftdump = os.path.join(self.build, "ftdump")
        self.failures = []          # human-readable descriptions of what broke
        self.largest = None         # {"dir", "events", "bytes", ...}: kept for ft-convert
        self.recorder_flags = {}    # interpreter path -> {mode: recorder flags}

    # ---- environment --------------------------------------------------------------------

    def child_env(self):
        """The environment of every measured process: the caller's minus anything that
        changes how Python runs (PYTHON*) or would make the recorder join another run."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTHON", "FUNCTIONTRACE", "FT_BENCH"))}
        env["PYTHONPATH"] = os.path.join(REPO, "python")   # every config, for equal sys.path
        env["PYTHONHASHSEED"] = "0"                         # same dict layouts in every run
        env["FT_BENCH_SCALE"] = repr(self.args.scale)
        env["FT_BENCH_FLOOR_DIR"] = self.floor_dir
        return env

    def probe(self, python):
        """What an interpreter offers: version, and which configurations can run."""
        env = self.child_env()
        try:
            info = json.loads(subprocess.run(
                [python, "-c", "import json, platform, sys; print(json.dumps({"
                 "'version': platform.python_version(), 'implementation': "
                 "platform.python_implementation(), 'executable': sys.executable, "
                 "'monitoring': hasattr(sys, 'monitoring')}))"],
                env=env, check=True, capture_output=True, text=True).stdout)
        except (OSError, subprocess.CalledProcessError, ValueError) as e:
            sys.exit("run.py: %s does not run: %s" % (python, e))
        info["path"] = python
        info["minor"] = ".".join(info["version"].split(".")[:2])
        info["key"] = info["version"]       # results are filed under it
        offers, skipped = set(), {}
        floor = subprocess.run(
            [python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import _ftbench_floor",
             self.floor_dir], env=env, capture_output=True, text=True)
        if floor.returncode == 0:
            offers.add("floor")
            if info["monitoring"]:
                offers.add("floor-monitoring")
            else:
                skipped["floor-monitoring"] = "sys.monitoring needs Python 3.12+"
        else:
            skipped["floor"] = "_ftbench_floor not built in %s (make bench builds it)" % self.floor_dir
            skipped["floor-monitoring"] = skipped["floor"]
        ext = subprocess.run([python, "-c", "import functiontrace._functiontrace as ft; "
                              "print(ft.BACKEND)"], env=env, capture_output=True, text=True)
        if ext.returncode != 0:
            why = "functiontrace._functiontrace does not import: %s" % last_line(ext.stderr)
            skipped["ft-mode-all"] = skipped["ft-mode-python"] = why
        else:
            info["ft_backend"] = ext.stdout.strip()     # the profiling backend
            modes = self.recorder_modes(python, env)
            self.recorder_flags[python] = modes
            info["ft_modes"] = sorted(modes)
            for mode in ("all", "python"):
                if mode in modes:
                    offers.add("ft-mode-" + mode)
                else:
                    skipped["ft-mode-" + mode] = "the recorder has no --mode %s" % mode
            if "all" in modes and self.recorder_help(python, env).count("--memory"):
                offers.add("ft-memory")
            else:
                skipped["ft-memory"] = "the recorder has no --memory"
        info["configs"] = []
        info["skipped"] = {}
        for c in CONFIGS:
            if c["name"] not in self.args.config:
                continue
            if c["needs"] is None or c["needs"] in offers:
                info["configs"].append(c["name"])
            else:
                info["skipped"][c["name"]] = skipped[c["needs"]]
        return info

    @staticmethod
    def recorder_help(python, env):
        return subprocess.run([python, "-m", "functiontrace.record", "--help"], env=env,
                              capture_output=True, text=True).stdout

    @staticmethod
    def recorder_modes(python, env):
        """The recorder's modes, from its --help, as {mode: its command-line flags}: from a
        `--mode {all,python}` option; a recorder without --mode records everything, with
        no flag ({"all": []})."""
        out = subprocess.run([python, "-m", "functiontrace.record", "--help"], env=env,
                             capture_output=True, text=True).stdout
        m = re.search(r"--mode[ =]?\{([a-z,_-]+)\}", out)
        if m:
            return {mode: ["--mode", mode] for mode in m.group(1).split(",")}
        return {"all": []}

    # ---- one measured process -----------------------------------------------------------

    def command(self, py, config, script, trace_dir):
        p = py["path"]
        if config == "untraced":
            return [p, script]
        if config == "cProfile":
            return [p, "-m", "cProfile", "-o", os.devnull, script]
        if config in FLOOR_MODES:
            return [p, FLOOR_RUN, FLOOR_MODES[config], script]
        mode = FT_MODES[config]
        flags = self.recorder_flags[py["path"]][mode]
        if config == "ft-memory":
            flags = flags + ["--memory"]
        return [p, "-m", "functiontrace.record", "-o", trace_dir, "-q"] + flags + [script]

    @staticmethod
    def config_env(py, config):
        """What a configuration adds to the environment: the backend and clock it pins."""
        env = {}
        if config == "ft-python-prof":
            env["FUNCTIONTRACE_BACKEND"] = py["ft_backend"]
        if config in ("ft-python-prof", "ft-python-exact", "ft-all-exact"):
            env["FUNCTIONTRACE_CLOCK"] = "exact"
        if config.endswith("-thread"):
            env["FUNCTIONTRACE_WRITER"] = "thread"
        return env

    def run_once(self, py, workload, config):
        """Run one process; returns a sample dict, or None if it failed (recorded in
        self.failures)."""
        script = os.path.join(WORKLOAD_DIR, workload + ".py")
        result_path = os.path.join(self.work, "result.json")
        stderr_path = os.path.join(self.work, "stderr.txt")
        trace_dir = os.path.join(self.work, "traces")
        # Nothing a previous run left may be taken for this run's output.
        if os.path.exists(result_path):
            os.unlink(result_path)
        shutil.rmtree(trace_dir, ignore_errors=True)
        env = self.child_env()
        env["FT_BENCH_RESULT"] = result_path
        env.update(self.config_env(py, config))
        argv = self.command(py, config, script, trace_dir)
        code, wall, usage = spawn(argv, env, self.work, stderr_path)
        what = "%s %s %s" % (py["minor"], workload, config)
        with open(stderr_path, "rb") as f:
            err = f.read().decode("utf-8", "replace")
        if code != 0 or not os.path.exists(result_path):
            self.fail("%s: exit status %d%s" % (what, code, (": " + last_line(err)) if err else ""),
                      err)
            return None
        with open(result_path) as f:
            result = json.load(f)
        # workload_*: what the workload measured around its main function; wall_s, cpu_s:
        # the whole process, from here (fork to exit) and from its rusage.
        sample = {"workload_s": result["workload_s"], "workload_cpu_s": result["workload_cpu_s"],
                  "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "maxrss_kb": usage.ru_maxrss, "check": result["check"]}
        if config.startswith("ft-"):
            if not self.measure_trace(what, trace_dir, sample):
                return None
        return sample

    def measure_trace(self, what, trace_dir, sample):
        """Add events and bytes of the trace in trace_dir to sample; keep the largest trace
        seen so far for ft-convert and delete the others (they can be large)."""
        files = [os.path.join(d, f) for d in list_dirs(trace_dir)
                 for f in sorted(os.listdir(d)) if f.endswith(".ftrace")]
        if not files:
            self.fail("%s: no .ftrace file in %s" % (what, trace_dir))
            return False
        events = dropped = memory = 0
        for path in files:
            trailer = self.read_trailer(path)
            if trailer is None:
                self.fail("%s: %s has no readable TRAILER (the trace was not closed)" % (what, path))
                return False
            events += trailer["events"]
            dropped += trailer.get("dropped_events", 0)
            memory += trailer.get("memory_records", 0)
        sample["events"] = events
        sample["memory_records"] = memory
        # A recorder that drops events looks cheaper than it is: keep the count beside.
        sample["dropped_events"] = dropped
        sample["trace_bytes"] = sum(os.path.getsize(p) for p in files)
        sample["trace_files"] = len(files)
        if self.largest is None or events > self.largest["events"]:
            keep = os.path.join(self.out_dir, "largest-trace")
            shutil.rmtree(keep, ignore_errors=True)
            run_dir = os.path.dirname(files[0])
            shutil.move(run_dir, keep)
            self.largest = {"what": what, "dir": keep, "events": events,
                            "bytes": sample["trace_bytes"]}
        shutil.rmtree(trace_dir, ignore_errors=True)
        return True

    def read_trailer(self, path):
        """The TRAILER of one trace file as a dict ("events", "dropped_events", ...), or None
        if it has none."""
        if refdecode is not None:
            return read_trailer_fast(path)
        # Slow path: ftdump decodes everything and prints a `trailer end_ns N events N ...`
        # line of key-value pairs.
        out = subprocess.run([self.ftdump, path], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("trailer "):
                pairs = dict(re.findall(r"\b([a-z_]+) (\d+)", line))
                return {k: int(v) for k, v in pairs.items()} if "events" in pairs else None
        return None

    def fail(self, message, detail=""):
        self.failures.append({"what": message, "stderr_tail": tail(detail, 20)})
        print("bench: FAILED: " + message, file=sys.stderr)
        if detail:
            print(tail(detail, 20), file=sys.stderr)

    # ---- the whole run ------------------------------------------------------------------

    def run(self):
        os.makedirs(self.work, exist_ok=True)
        started = time.time()
        machine = machine_info()
        self.pythons = []
        for path in self.args.python:
            py = self.probe(path)
            while any(p["key"] == py["key"] for p in self.pythons):
                py["key"] += "+"                # two builds of one version
            self.pythons.append(py)
            for name, why in py["skipped"].items():
                print("bench: %s: skipping %s: %s" % (py["minor"], name, why), file=sys.stderr)

        # samples[python key][workload][config] = list of sample dicts
        samples = {py["key"]: {w: {c: [] for c in py["configs"]} for w in self.args.workload}
                   for py in self.pythons}
        for rep in range(self.args.reps):
            t0 = time.perf_counter()
            runs = 0
            for py in self.pythons:
                configs = py["configs"]
                for wi, workload in enumerate(self.args.workload):
                    # Rotate the order by round and workload: no configuration always runs
                    # first, or always right after another one.
                    shift = (rep + wi) % len(configs)
                    for config in configs[shift:] + configs[:shift]:
                        s = self.run_once(py, workload, config)
                        runs += 1
                        if s is not None:
                            s["round"] = rep
                            samples[py["key"]][workload][config].append(s)
            print("bench: round %d/%d: %d runs in %.0f s" % (rep + 1, self.args.reps, runs,
                                                            time.perf_counter() - t0),
                  file=sys.stderr)

        results = {}
        for py in self.pythons:
            results[py["key"]] = self.summarise(py, samples[py["key"]])
        convert = self.measure_convert()
        return {
            "schema": 1,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "duration_s": round(time.time() - started, 1),
            "git": git_info(),
            "machine": dict(machine, loadavg_end=os.getloadavg()),
            "settings": {"reps": self.args.reps, "scale": self.args.scale,
                         "metric": self.args.metric,
                         "quick": self.args.quick, "workloads": self.args.workload,
                         "configs": self.args.config},
            "pythons": [{k: py[k] for k in ("key", "minor", "path", "executable", "version",
                                            "implementation", "configs", "skipped", "ft_modes",
                                            "ft_backend")
                         if k in py}
                        for py in self.pythons],
            "results": results,
            "convert": convert,
            "failures": self.failures,
        }

    def summarise(self, py, per_workload):
        """Medians, ratios and geomeans of one interpreter, on both metrics; checks that every
        configuration computed what the untraced run computed. `ratio`, `time_s`,
        `outside_s`, `spread` and `geomean` follow --metric; the *_wall/*_cpu keys hold both."""
        metric = self.args.metric
        out = {"metric": metric, "workloads": {}, "geomean": {},
               "geomean_wall": {}, "geomean_cpu": {}, "geomean_min": {}}
        for workload, by_config in per_workload.items():
            base = by_config.get("untraced") or []
            base_check = base[0]["check"] if base else None
            row = {}
            for config, ss in by_config.items():
                if not ss:
                    row[config] = {"failed": True}
                    continue
                checks = {json.dumps(s["check"], sort_keys=True) for s in ss}
                if base and checks != {json.dumps(base_check, sort_keys=True)}:
                    self.fail("%s %s %s: computed %s, untraced computed %s"
                              % (py["minor"], workload, config, " / ".join(sorted(checks)),
                                 json.dumps(base_check, sort_keys=True)))
                cell = {"n": len(ss), "maxrss_kb": max(s["maxrss_kb"] for s in ss),
                        "samples": [{k: v for k, v in s.items() if k != "check"} for s in ss]}
                for key in ("workload_s", "workload_cpu_s", "wall_s", "cpu_s"):
                    cell[key] = median([s[key] for s in ss])
                # Process time outside the workload: start-up, the tracer's set-up, exit.
                cell["outside_wall_s"] = cell["wall_s"] - cell["workload_s"]
                cell["outside_cpu_s"] = cell["cpu_s"] - cell["workload_cpu_s"]
                row[config] = cell
            # Paired ratios: each sample over the untraced sample of the same round, which ran
            # seconds before or after it. This machine has slow spells that last minutes
            # (a busy sibling hyperthread slows CPU time as much as wall time); they cancel
            # out of a paired ratio, not out of a ratio of two medians taken across rounds.
            base_by_round = {s["round"]: s for s in row.get("untraced", {}).get("samples", [])}
            main_key = "workload_cpu_s" if metric == "cpu" else "workload_s"
            for cell in row.values():
                if "samples" not in cell:
                    continue
                pairs = [(s, base_by_round[s["round"]]) for s in cell["samples"]
                         if s["round"] in base_by_round]
                for m, key in (("wall", "workload_s"), ("cpu", "workload_cpu_s")):
                    if pairs:
                        cell["ratio_" + m] = median([s[key] / b[key] for s, b in pairs])
                cell["time_s"] = cell[main_key]
                cell["outside_s"] = cell["outside_" + metric + "_s"]
                if pairs:
                    ratios = [s[main_key] / b[main_key] for s, b in pairs]
                    cell["ratio"] = median(ratios)
                    # Cross-check: noise here only ever adds time, so the fastest run of each
                    # is an estimate that no slow spell can move. When the two disagree, the
                    # median stands on too few clean samples.
                    cell["ratio_min"] = min(s[main_key] for s in cell["samples"]) / \
                        min(b[main_key] for _, b in pairs)
                    # How far apart the paired ratios are: the noise this median stands on.
                    cell["spread"] = (max(ratios) - min(ratios)) / cell["ratio"]
                if "events" in cell["samples"][0]:
                    ss = cell["samples"]
                    cell["events"] = int(median([s["events"] for s in ss]))
                    cell["trace_bytes"] = int(median([s["trace_bytes"] for s in ss]))
                    cell["dropped_events"] = max(s.get("dropped_events", 0) for s in ss)
                    cell["memory_records"] = int(median([s.get("memory_records", 0) for s in ss]))
                    if cell["events"] and pairs:
                        cell["bytes_per_event"] = cell["trace_bytes"] / cell["events"]
                        cell["overhead_ns_per_event"] = median(
                            [(s[main_key] - b[main_key]) * 1e9 / s["events"] for s, b in pairs])
                    elif cell["events"]:
                        cell["bytes_per_event"] = cell["trace_bytes"] / cell["events"]
            out["workloads"][workload] = row
        for config in py["configs"]:
            for key, into in (("ratio", "geomean"), ("ratio_wall", "geomean_wall"),
                              ("ratio_cpu", "geomean_cpu"), ("ratio_min", "geomean_min")):
                ratios = [row[config][key] for row in out["workloads"].values()
                          if key in row.get(config, {})]
                # A geomean over fewer workloads than the others is not comparable: none.
                if ratios and len(ratios) == len(out["workloads"]):
                    out[into][config] = geomean(ratios)
        for config in FT_MODES:
            cells = [row[config] for row in out["workloads"].values()
                     if "events" in row.get(config, {})]
            if cells:
                out["geomean"][config + " bytes/event"] = \
                    sum(c["trace_bytes"] for c in cells) / max(1, sum(c["events"] for c in cells))
        # A memory record's bytes on disk: what ft-memory's trace holds beyond ft-all's (the
        # same calls), over its memory records, on the workloads that have both.
        pairs = [(row["ft-memory"], row["ft-all"]) for row in out["workloads"].values()
                 if row.get("ft-memory", {}).get("memory_records")
                 and "events" in row.get("ft-all", {})]
        if pairs:
            for m, a in pairs:
                m["bytes_per_memory_record"] = \
                    (m["trace_bytes"] - a["trace_bytes"]) / m["memory_records"]
            out["geomean"]["ft-memory bytes/memory record"] = \
                sum(m["trace_bytes"] - a["trace_bytes"] for m, a in pairs) / \
                sum(m["memory_records"] for m, _ in pairs)
        return out

    def measure_convert(self):
        """ft-convert on the largest trace recorded: events/s and peak RSS, median of a few
        conversions. The profile is written to a file beside it (the real use) and deleted."""
        if self.largest is None:
            return {"skipped": "no functiontrace trace was recorded"}
        if not os.access(self.ft_convert, os.X_OK):
            return {"skipped": "%s not built" % self.ft_convert}
        out_path = os.path.join(self.out_dir, "largest-profile.json")
        stderr_path = os.path.join(self.work, "convert-stderr.txt")
        times, cpus, rss, out_bytes = [], [], [], 0
        for _ in range(1 if self.args.quick else 3):
            code, wall, usage = spawn([self.ft_convert, "-q", self.largest["dir"], "-o", out_path],
                                      None, self.work, stderr_path)
            with open(stderr_path, "rb") as f:
                err = f.read().decode("utf-8", "replace")
            if code != 0:
                self.fail("ft-convert %s: exit status %d" % (self.largest["dir"], code), err)
                return {"failed": True, "trace": self.largest}
            times.append(wall)
            cpus.append(usage.ru_utime + usage.ru_stime)
            rss.append(usage.ru_maxrss)
            out_bytes = os.path.getsize(out_path)
            os.unlink(out_path)
        t, c = median(times), median(cpus)
        return {"trace": self.largest, "wall_s": t, "samples_s": times, "cpu_s": c,
                "events_per_s": self.largest["events"] / t,
                "events_per_cpu_s": self.largest["events"] / c if c else None,
                "peak_rss_kb": max(rss), "profile_bytes": out_bytes}


# ---- helpers ------------------------------------------------------------------------------

def spawn(argv, env, cwd, stderr_path):
    """Run argv to completion: (exit code, wall seconds, its own rusage). os.wait4 gives the
    rusage of this one child (RUSAGE_CHILDREN would be the maximum over all of them)."""
    with open(stderr_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)   # so Popen does not wait again
    return proc.returncode, wall, usage


def read_trailer_from(data):
    """The TRAILER of a trace held in data (bytes or mmap), from its last frame, or None if
    the last frame is not one. Walks frame and block headers without decompressing."""
    if len(data) < refdecode.SIGNATURE_SIZE or data[:16] != refdecode.SIGNATURE:
        return None
    pos, last = refdecode.SIGNATURE_SIZE, None
    while pos + 8 <= len(data):
        magic = int.from_bytes(data[pos:pos + 4], "little")
        if magic & 0xFFFFFFF0 == 0x184D2A50:                       # skippable frame
            pos += 8 + int.from_bytes(data[pos + 4:pos + 8], "little")
            continue
        if data[pos:pos + 4] != refdecode.ZSTD_MAGIC:
            return None
        try:
            size, _ = refdecode.zstd_frame_extent(data, pos)
        except refdecode.Corrupt:
            return None
        last = (pos, size)
        pos += size
    if last is None or pos != len(data):
        return None
    block = refdecode.zstandard.ZstdDecompressor().decompress(data[last[0]:last[0] + last[1]])
    try:
        return refdecode.decode_trailer(block)
    except refdecode.Corrupt:
        return None


def read_trailer_fast(path):
    import mmap
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return None
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return read_trailer_from(data)


def list_dirs(parent):
    if not os.path.isdir(parent):
        return []
    return [os.path.join(parent, d) for d in sorted(os.listdir(parent))
            if os.path.isdir(os.path.join(parent, d))]


def median(xs):
    return statistics.median(xs) if xs else None


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else ""


def tail(text, n):
    return "\n".join(text.rstrip().splitlines()[-n:])


def git_info():
    def git(*args):
        r = subprocess.run(["git", "-C", REPO] + list(args), capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None
    status = git("status", "--porcelain")
    return {"commit": git("rev-parse", "HEAD"), "describe": git("describe", "--always", "--dirty"),
            "dirty": bool(status) if status is not None else None,
            "subject": git("log", "-1", "--format=%s")}


def machine_info():
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"hostname": socket.gethostname(), "platform": platform.platform(),
            "machine": platform.machine(), "cpu": cpu, "cpus": os.cpu_count(),
            "loadavg_start": os.getloadavg()}


def default_pythons():
    out = subprocess.run([os.path.join(REPO, "tests", "find-pythons"), "3.11", "3.12"],
                         capture_output=True, text=True).stdout
    return out.split()


def all_workloads():
    return sorted(f[:-3] for f in os.listdir(WORKLOAD_DIR)
                  if f.endswith(".py") and not f.startswith("_"))


# ---- report -------------------------------------------------------------------------------

def fmt_ratio(cell):
    if not cell:
        return "-"
    if cell.get("failed"):
        return "FAILED"
    return "%.2fx" % cell["ratio"] if "ratio" in cell else "?"


def table(rows, header):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(h).ljust(w) if i == 0 else str(h).rjust(w)
                       for i, (h, w) in enumerate(zip(header, widths)))]
    for r in rows:
        lines.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def report(res):
    out = []
    s = res["settings"]
    metric = s["metric"]
    other = "wall" if metric == "cpu" else "cpu"
    what = {"cpu": "CPU time (all threads)", "wall": "wall time"}
    out.append("functiontrace bench — %s, %s, %d CPUs, load %.1f→%.1f; %d rounds, scale %g"
               % (res["git"]["describe"], res["machine"]["cpu"], res["machine"]["cpus"],
                  res["machine"]["loadavg_start"][0], res["machine"]["loadavg_end"][0],
                  s["reps"], s["scale"]))
    for py in res["pythons"]:
        r = res["results"][py["key"]]
        configs = py["configs"]
        out.append("")
        out.append("Python %s (%s): workload %s, median of %d; untraced in seconds, "
                   "others as traced/untraced" % (py["version"], py["path"], what[metric], s["reps"]))
        rows = []
        for w, row in r["workloads"].items():
            base = row.get("untraced", {})
            rows.append([w, "%.3f s" % base["time_s"] if "time_s" in base else "FAILED"]
                        + [fmt_ratio(row.get(c)) for c in configs[1:]])
        rows.append(["geomean", ""] + ["%.2fx" % r["geomean"][c] if c in r["geomean"] else "-"
                                       for c in configs[1:]])
        for label, g in (("(%s)" % other, r["geomean_" + other]), ("(min)", r["geomean_min"])):
            rows.append([label, ""] + ["%.2fx" % g[c] if c in g else "-" for c in configs[1:]])
        out.append(table(rows, ["workload"] + [SHORT[c] for c in configs]))
        for name, why in py["skipped"].items():
            out.append("  (%s skipped: %s)" % (name, why))
        if "cProfile" in configs and py["minor"] in ("3.8", "3.9", "3.10", "3.11"):
            out.append("  (cProfile before 3.12 profiles the main thread only: see `threaded`)")
        spreads = [c["spread"] for row in r["workloads"].values() for c in row.values()
                   if "spread" in c]
        out.append("  (%s): geomean of median %s ratios; (min): of fastest-run ratios, "
                   "a cross-check against noise" % (other, other))
        if spreads:
            out.append("  noise: the paired ratios of a cell span %.0f%% of their median "
                       "(median over cells), %.0f%% at worst" % (100 * median(spreads),
                                                                 100 * max(spreads)))
        outside = []
        for c in configs:
            v = median([row[c]["outside_s"] for row in r["workloads"].values()
                        if "outside_s" in row.get(c, {})])
            if v is not None:
                outside.append("%s %.0f" % (SHORT[c], v * 1e3))
        out.append("  process %s outside the workload (start-up, set-up, exit; cProfile "
                   "writes its stats), median ms: %s" % (metric, ", ".join(outside)))
        ft = [c for c in configs if c.startswith("ft-")]
        if ft:
            out.append("")
            out.append("functiontrace on %s: events recorded, bytes on disk, %s cost per event "
                       "(traced - untraced) / events; work = workload, proc = whole process, "
                       "outside = proc - work" % (py["version"], metric))
            rows = []
            for w, row in r["workloads"].items():
                base = row.get("untraced", {})
                for c in ft:
                    cell = row.get(c, {})
                    if "events" not in cell:
                        rows.append([w, c] + ["-"] * 9)
                        continue
                    proc = cell["cpu_s"] if metric == "cpu" else cell["wall_s"]
                    rows.append([w, c, "%.2fM" % (cell["events"] / 1e6),
                                 "%.2f" % cell.get("bytes_per_event", 0),
                                 "%.0f" % cell.get("overhead_ns_per_event", 0),
                                 "%.3f" % cell["time_s"], "%.3f" % proc,
                                 "%.0f" % (cell["outside_s"] * 1e3),
                                 "%.0f" % (base["outside_s"] * 1e3) if base else "-",
                                 "%.2f/%.2f" % (cell["workload_s"], cell["wall_s"]),
                                 "%.0f" % (cell["maxrss_kb"] / 1024)])
            out.append(table(rows, ["workload", "mode", "events", "B/event", "ns/event",
                                    "work s", "proc s", "outside ms", "(untraced)",
                                    "wall work/proc s", "RSS MB"]))
            for c in ft:
                key = c + " bytes/event"
                if key in r["geomean"]:
                    out.append("  %s: %.2f bytes/event over all workloads" % (c, r["geomean"][key]))
            mem = [(w, row["ft-memory"]) for w, row in r["workloads"].items()
                   if "bytes_per_memory_record" in row.get("ft-memory", {})]
            for w, cell in mem:
                out.append("  ft-memory %s: %.2fM memory records, %.2f bytes each on disk"
                           % (w, cell["memory_records"] / 1e6, cell["bytes_per_memory_record"]))
            if "ft-memory bytes/memory record" in r["geomean"]:
                out.append("  ft-memory: %.2f bytes per memory record over all workloads"
                           % r["geomean"]["ft-memory bytes/memory record"])
            for w, row in r["workloads"].items():
                for c in ft:
                    if row.get(c, {}).get("dropped_events"):
                        out.append("  WARNING: %s %s dropped %d events (its time is too low)"
                                   % (w, c, row[c]["dropped_events"]))
        out.extend(targets(py, r))
    conv = res["convert"]
    out.append("")
    if "events_per_s" in conv:
        out.append("ft-convert on the largest trace (%s: %.1fM events, %.1f MB): %.2f s wall, "
                   "%.2f s CPU; %.1fM events/s (%.1fM per CPU second; target ≥ 10M/s), "
                   "peak RSS %.0f MB, profile %.0f MB"
                   % (conv["trace"]["what"], conv["trace"]["events"] / 1e6,
                      conv["trace"]["bytes"] / 1e6, conv["wall_s"], conv["cpu_s"],
                      conv["events_per_s"] / 1e6, (conv["events_per_cpu_s"] or 0) / 1e6,
                      conv["peak_rss_kb"] / 1024, conv["profile_bytes"] / 1e6))
    else:
        out.append("ft-convert: %s" % (conv.get("skipped") or "FAILED"))
    if res["failures"]:
        out.append("")
        out.append("FAILURES:")
        out.extend("  " + f["what"] for f in res["failures"])
    return "\n".join(out)


def targets(py, r):
    """The issue's targets, as information (never a failure). Ratios are geomeans of
    traced/untraced; "× floor" divides by the empty-setprofile-hook floor's geomean."""
    g = r["geomean"]
    lines = []
    legacy = tuple(int(x) for x in py["version"].split(".")[:2]) < (3, 12)
    if "ft-all" in g:
        if legacy and "floor-setprofile" in g:
            lines.append("ft-all = %.2f× the setprofile floor (target ≤ 1.1×)"
                         % (g["ft-all"] / g["floor-setprofile"]))
        elif not legacy:
            extra = ""
            if "floor-mon-all" in g:
                extra = "; %.2f× the monitoring floor" % (g["ft-all"] / g["floor-mon-all"])
            lines.append("ft-all = %.2f× untraced (target ≤ 1.8×)%s" % (g["ft-all"], extra))
    if "ft-python" in g:
        extra = ""
        if "floor-mon-python" in g:
            extra = "; %.2f× the monitoring floor" % (g["ft-python"] / g["floor-mon-python"])
        if "floor-evalframe" in g:
            extra += "; %.2f× the evalframe floor" % (g["ft-python"] / g["floor-evalframe"])
        lines.append("ft-python = %.2f× untraced (target ≤ 1.3×)%s" % (g["ft-python"], extra))
    if "ft-python-prof" in g:
        lines.append("ft-python-prof (python mode as before the frame evaluator: %s, "
                     "clock_gettime) = %.2f× untraced" % (py.get("ft_backend", "?"),
                                                         g["ft-python-prof"]))
    if "ft-memory" in g:
        extra = "; %.2f× ft-all" % (g["ft-memory"] / g["ft-all"]) if "ft-all" in g else ""
        lines.append("ft-memory = %.2f× untraced (no target)%s" % (g["ft-memory"], extra))
    for c in FT_MODES:
        key = c + " bytes/event"
        if key in g and c != "ft-memory":     # its memory records are not events
            lines.append("%s: %.2f bytes/event (target ≤ 2)" % (c, g[key]))
    return ["targets (information only):"] + ["  " + l for l in lines] if lines else []


def main(argv=None):
    ap = argparse.ArgumentParser(description="functiontrace's benchmark suite (make bench).")
    ap.add_argument("--reps", type=int, help="interleaved rounds (default %d; %d with --quick)"
                    % (DEFAULT_REPS, QUICK_REPS))
    ap.add_argument("--quick", action="store_true",
                    help="few rounds of shortened workloads: checks that everything runs")
    ap.add_argument("--scale", type=float,
                    help="workload size factor (default 1, %g with --quick)" % QUICK_SCALE)
    ap.add_argument("--python", action="append", metavar="PATH",
                    help="interpreter to measure (repeatable; default: tests/find-pythons 3.11 3.12)")
    ap.add_argument("--workload", action="append", metavar="NAME",
                    help="workload to run (repeatable; default all of %s)"
                    % ", ".join(all_workloads()))
    ap.add_argument("--config", action="append", metavar="NAME",
                    help="configuration to run (repeatable; default %s; also %s)"
                    % (", ".join(DEFAULT_CONFIGS),
                       ", ".join(c for c in CONFIG_NAMES if c not in DEFAULT_CONFIGS)))
    ap.add_argument("--metric", choices=("cpu", "wall"), default="cpu",
                    help="what the ratios divide: the workload's CPU time (default; on a "
                    "shared machine wall time also counts waiting for a CPU) or wall time; "
                    "both are in the JSON")
    ap.add_argument("--json", metavar="PATH",
                    help="results file (default BUILD/bench/results-<UTC time>.json)")
    ap.add_argument("--build", default=os.path.join(REPO, "build"),
                    help="build directory holding ft-convert, ftdump and bench/floor")
    args = ap.parse_args(argv)
    args.reps = args.reps or (QUICK_REPS if args.quick else DEFAULT_REPS)
    args.scale = args.scale or (QUICK_SCALE if args.quick else 1.0)
    args.python = args.python or default_pythons()
    known = all_workloads()
    args.workload = [w for ws in (args.workload or known) for w in ws.split(",")]
    args.config = [c for cs in (args.config or DEFAULT_CONFIGS) for c in cs.split(",")]
    for w in args.workload:
        if w not in known:
            ap.error("no workload %r (have: %s)" % (w, ", ".join(known)))
    for c in args.config:
        if c not in CONFIG_NAMES:
            ap.error("no configuration %r (have: %s)" % (c, ", ".join(CONFIG_NAMES)))
    if "untraced" not in args.config:
        args.config.insert(0, "untraced")     # every ratio is relative to it
    if not args.python:
        ap.error("no interpreter found; give --python PATH")

    bench = Bench(args)
    res = bench.run()
    path = args.json or os.path.join(bench.out_dir, "results-%s.json"
                                     % time.strftime("%Y%m%d-%H%M%S", time.gmtime()))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    if not args.json:
        shutil.copyfile(path, os.path.join(bench.out_dir, "latest.json"))
    print(report(res))
    print("\nresults: %s" % path)
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
