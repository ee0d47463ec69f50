"""Event timestamps against the clock the format names (FORMAT.md §4.1: CLOCK_MONOTONIC).

The recorder reads the TSC instead of calling clock_gettime wherever the kernel itself reads
CLOCK_MONOTONIC from it (record/clock.c), converting with a rate it measures and re-anchors
every millisecond. Whatever it reads, a function that reads time.monotonic_ns() must be seen
entered before and left after that reading, in every thread, over many re-anchorings."""

import json
import textwrap

import pytest

import refdecode

# Each thread calls probe() every ~300 µs for ~60 ms (so across ~60 anchors of the TSC's
# conversion), and keeps what time.monotonic_ns() said inside each call.
PROBES = """
    import json, sys, threading, time
    import functiontrace._functiontrace as ft

    def probe(out):
        out.append(time.monotonic_ns())

    def spin(ns):
        end = time.monotonic_ns() + ns
        while time.monotonic_ns() < end:
            pass

    def run(out):
        for i in range(200):
            probe(out)
            spin(300_000)

    seen = {}
    def worker(name):
        seen[name] = []
        run(seen[name])

    threads = [threading.Thread(target=worker, args=(f"w{k}",), name=f"w{k}") for k in range(2)]
    for t in threads:
        t.start()
    seen["MainThread"] = []
    run(seen["MainThread"])
    for t in threads:
        t.join()
    with open(sys.argv[1], "w") as f:
        json.dump({"source": ft.clock_source(), "seen": seen}, f)
"""

# The TSC's conversion is within half a microsecond of clock_gettime (record/clock.c); a
# clock_gettime read of CPython's and ours differ by the time between them, which the
# inequalities already allow for. 2 µs of slack, against probes 300 µs apart.
SLACK_NS = 2000


@pytest.mark.parametrize("clock", ["default", "exact"])
@pytest.mark.parametrize("mode", ["all", "python"])
def test_event_times_bracket_monotonic_reads(rec, tmp_path, mode, clock):
    script = tmp_path / "probes.py"
    script.write_text(textwrap.dedent(PROBES))
    env = {"FUNCTIONTRACE_CLOCK": "exact"} if clock == "exact" else {}
    res = rec.record(["--mode", mode, str(script), str(tmp_path / "seen.json")], env_extra=env)
    assert res.returncode == 0, res.stderr
    got = json.loads((tmp_path / "seen.json").read_text())
    if clock == "exact":
        assert got["source"] == "clock_gettime"
    else:
        assert got["source"] in ("tsc", "kvm-clock", "xen", "hyperv_clocksource_tsc_page",
                                 "clock_gettime")
    (path,) = rec.trace_files()
    trace = refdecode.read_trace(str(path))
    assert trace["errors"] == []
    probe = {fid for fid, fn in trace["functions"].items() if fn["name"] == "probe"}
    assert probe
    checked = 0
    for t in trace["threads"].values():
        name = t["names"][-1]
        if name not in got["seen"]:
            continue
        calls = [(time, kind) for time, kind, fid in t["events"] if fid in probe]
        inside = got["seen"][name]
        assert len(calls) == 2 * len(inside) == 400, name
        for i, read in enumerate(inside):
            (t_in, k_in), (t_out, k_out) = calls[2 * i], calls[2 * i + 1]
            assert (k_in, k_out) == ("CALL", "RETURN")
            assert t_in - SLACK_NS <= read <= t_out + SLACK_NS, \
                (name, i, t_in - read, t_out - read, got["source"])
            checked += 1
    assert checked == 600
