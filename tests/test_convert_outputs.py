"""ft-convert's other outputs and options: Chrome trace events, the summary, --info,
filters, the size warning, the progress line, --merge-runs, --help and usage errors.

Exact expectations come from traces the tests write themselves (tracewriter.py), whose every
timestamp they know; recorded programs with sleeps of known length check the same outputs
on real traces, with every interpreter under test."""

import gzip
import json
import os
import pty
import re
import select
import subprocess

import pytest

from conftest import CONVERT, ROOT, ffprofiler_check
import ffprofile
from tracewriter import Trace

US = 1000                       # ns
T0 = 5_000_000_000              # clock time where the known run starts
RUN = "20250101-000000-100"


def convert(*args, env=None):
    return subprocess.run([CONVERT, *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env)


def known_run(root, run=RUN, host="host-a", wall=1_700_000_000_000_000_000, clock0=T0,
              cut_pid=None, version=2):
    """Two processes with calls of known times (µs after the run start):

    pid 100, thread 100 "MainThread":
        main 0-10000 > work 1000-4000 > leaf 1500.25-1502, leaf 2000-2003
                     > work 5000-6000 > fact 5100-5900 > fact 5200-5800
    pid 100, thread 101 "worker": run 2000-8000 > time.sleep (native) 3000-7000
    pid 200 (a child), thread 200: <module> 4000-4500 (file 200.ftrace, cut short when
    cut_pid == 200: no trailer).
    """
    d = root / run
    a = Trace(100, clock0, clock0 + 10000 * US, host=host, wall_anchor_ns=wall,
              argv=["app.py", "--n", "3"], run_id=run, version=version)
    a.thread(100, "MainThread")
    a.call(100, clock0, "main")
    a.call(100, clock0 + 1000 * US, "work")
    a.span(100, clock0 + 1500250, clock0 + 1502 * US, "leaf")
    a.span(100, clock0 + 2000 * US, clock0 + 2003 * US, "leaf")
    a.ret(100, clock0 + 4000 * US, "work")
    a.call(100, clock0 + 5000 * US, "work")
    a.call(100, clock0 + 5100 * US, "fact")
    a.span(100, clock0 + 5200 * US, clock0 + 5800 * US, "fact")
    a.ret(100, clock0 + 5900 * US, "fact")
    a.ret(100, clock0 + 6000 * US, "work")
    a.ret(100, clock0 + 10000 * US, "main")
    a.thread(101, "worker")
    a.call(101, clock0 + 2000 * US, "run")
    a.span(101, clock0 + 3000 * US, clock0 + 7000 * US, "time.sleep", native=True)
    a.ret(101, clock0 + 8000 * US, "run")
    a.write(d / "100.ftrace")
    b = Trace(200, clock0 + 3900 * US, clock0 + 4600 * US, host=host,
              wall_anchor_ns=wall + 3900 * US, argv=["child.py"], ppid=100, run_id=run,
              start_reason="child", version=version)
    b.thread(200, "MainThread")
    b.span(200, clock0 + 4000 * US, clock0 + 4500 * US, "<module>")
    b.write(d / "200.ftrace", trailer=cut_pid != 200)
    return d


def test_both_format_versions_convert_alike(tmp_path):
    """The same events, markers among them, written one record per event (1.x) and packed
    into EVENTS records with placeholders (2.0): the same profile, byte for byte."""
    out = []
    for version in (1, 2):
        d = known_run(tmp_path / str(version) / "traces", version=version)
        t = Trace(300, T0, T0 + 100 * US, run_id=RUN, ppid=100, start_reason="child",
                  argv=["m.py"], version=version)
        t.thread(300, "MainThread")
        t.call(300, T0 + 1 * US, "outer")
        t.marker(300, T0 + 1 * US, "user", "first")     # right after the first event
        t.marker(300, T0 + 2 * US, "log", "WARNING", {"message": "m", "level": 30})
        t.span(300, T0 + 3 * US, T0 + 4 * US, "inner")
        t.marker(300, T0 + 6 * US, "import", "json", {"module": "json"}, start=T0 + 5 * US)
        t.ret(300, T0 + 7 * US, "outer")
        t.marker(300, T0 + 9 * US, "user", "after")    # after the last event
        t.write(d / "300.ftrace")
        res = convert(d, "-o", tmp_path / ("%d.json" % version))
        assert res.returncode == 0, res.stderr
        # The Process markers name each file: the one difference allowed.
        out.append((tmp_path / ("%d.json" % version)).read_text().replace(str(d), "RUN"))
    assert out[0] == out[1]
    for want in ('"first"', '"WARNING"', '"after"', '"inner"', '"json"'):
        assert want in out[1], want


# ---- Chrome trace events ----

def check_chrome(doc):
    """The Chrome trace event format, as the viewers read it: an object with traceEvents;
    B/E/M events with the fields each needs and the types they must have; per thread, B
    and E nested and matching by name, in time order. Returns {(pid, tid): [(ph, name,
    ts)]} and {pid: process name}, {(pid, tid): thread name}."""
    assert isinstance(doc, dict) and isinstance(doc["traceEvents"], list)
    assert doc.get("displayTimeUnit") in ("ms", "ns")
    threads, pnames, tnames = {}, {}, {}
    for ev in doc["traceEvents"]:
        assert isinstance(ev, dict), ev
        assert ev["ph"] in ("B", "E", "M"), ev
        assert isinstance(ev["name"], str) and ev["name"], ev
        assert type(ev["pid"]) is int and type(ev["tid"]) is int, ev
        if ev["ph"] == "M":
            assert ev["name"] in ("process_name", "thread_name"), ev
            assert isinstance(ev["args"]["name"], str), ev
            if ev["name"] == "process_name":
                pnames[ev["pid"]] = ev["args"]["name"]
            else:
                tnames[(ev["pid"], ev["tid"])] = ev["args"]["name"]
            continue
        assert isinstance(ev["ts"], (int, float)) and ev["ts"] >= 0, ev
        if ev["ph"] == "B":
            assert ev["cat"] in ("python", "native"), ev
            if ev["cat"] == "python":
                assert isinstance(ev["args"]["file"], str) and type(ev["args"]["line"]) is int
        threads.setdefault((ev["pid"], ev["tid"]), []).append((ev["ph"], ev["name"], ev["ts"]))
    for key, evs in threads.items():
        stack, last = [], 0
        for ph, name, ts in evs:
            assert ts >= last, (key, ph, name, ts)
            last = ts
            if ph == "B":
                stack.append(name)
            else:
                assert stack and stack[-1] == name, (key, name, stack)
                stack.pop()
        assert not stack, (key, stack)
    return threads, pnames, tnames


def load_chrome(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        return check_chrome(json.load(f))


def spans(events):
    """(name, start, end, depth) of each call of one thread's B/E events."""
    out, stack = [], []
    for ph, name, ts in events:
        if ph == "B":
            stack.append((name, ts))
        else:
            n, start = stack.pop()
            out.append((n, start, ts, len(stack)))
    return sorted(out, key=lambda s: (s[1], s[3]))


MAIN_EVENTS = [
    ("B", "main", 0), ("B", "work", 1000), ("B", "leaf", 1500.25), ("E", "leaf", 1502),
    ("B", "leaf", 2000), ("E", "leaf", 2003), ("E", "work", 4000), ("B", "work", 5000),
    ("B", "fact", 5100), ("B", "fact", 5200), ("E", "fact", 5800), ("E", "fact", 5900),
    ("E", "work", 6000), ("E", "main", 10000),
]


@pytest.mark.parametrize("version", [1, 2])
def test_chrome_events_are_exact(tmp_path, version):
    known_run(tmp_path / "traces", version=version)
    res = convert(tmp_path / "traces", "--format", "chrome", "-o", tmp_path / "c.json")
    assert res.returncode == 0, res.stderr
    threads, pnames, tnames = load_chrome(tmp_path / "c.json")
    assert threads[(100, 100)] == MAIN_EVENTS
    assert threads[(100, 101)] == [("B", "run", 2000), ("B", "time.sleep", 3000),
                                   ("E", "time.sleep", 7000), ("E", "run", 8000)]
    assert threads[(200, 200)] == [("B", "<module>", 4000), ("E", "<module>", 4500)]
    assert pnames == {100: "python3 app.py --n 3", 200: "python3 child.py"}
    assert tnames == {(100, 100): "MainThread", (100, 101): "worker", (200, 200): "MainThread"}
    doc = json.loads((tmp_path / "c.json").read_text())
    cats = {e["name"]: e.get("cat") for e in doc["traceEvents"] if e["ph"] == "B"}
    assert cats["time.sleep"] == "native" and cats["main"] == "python"
    assert "trace events" in res.stderr
    # gzip, and the same events through standard output.
    res = convert(tmp_path / "traces", "-f", "chrome", "-o", tmp_path / "c.json.gz")
    assert res.returncode == 0, res.stderr
    assert load_chrome(tmp_path / "c.json.gz")[0] == threads
    res = convert(tmp_path / "traces", "-f", "chrome", "-o", "-")
    assert check_chrome(json.loads(res.stdout))[0] == threads


def test_chrome_loads_in_a_real_viewer(tmp_path):
    """The Firefox Profiler imports Chrome trace events (B/E pairs become interval
    markers): its loader must accept ours and see every call with its duration."""
    known_run(tmp_path / "traces")
    assert convert(tmp_path / "traces", "-f", "chrome", "-o", tmp_path / "c.json").returncode == 0
    out = ffprofiler_check(tmp_path / "c.json", "profile", "info")
    assert "3 threads across 2 processes" in out, out
    threads = ffprofiler_check(tmp_path / "c.json", "thread", "list")
    rows = re.findall(r"(t-\d+)\s+(\S+)\s+(python3 \S+(?: --n 3)?)\s+(\d+)\s+\S+\s+(\d+)", threads)
    assert sorted(r[1:] for r in rows) == [
        ("MainThread", "python3 app.py --n 3", "100", "7"),
        ("MainThread", "python3 child.py", "200", "1"),
        ("worker", "python3 app.py --n 3", "100", "2")], threads
    main = [r[0] for r in rows if r[2] == "python3 app.py --n 3" and r[1] == "MainThread"][0]
    markers = ffprofiler_check(tmp_path / "c.json", "thread", "markers", "--thread", main, "--list")
    seen = re.findall(r"m-\d+\s+(\S+)\s+t=(\S+)\s+(\S+)", markers)
    assert seen == [("main", "0s", "10ms"), ("work", "1ms", "3ms"),
                    ("leaf", "1.500ms", "1.750μs"), ("leaf", "2ms", "3.000μs"),
                    ("work", "5ms", "1ms"), ("fact", "5.100ms", "800.00μs"),
                    ("fact", "5.200ms", "600.00μs")], markers


# ---- summary ----

def summary_rows(text):
    """{thread header: {"self"/"total": [(calls, self_ms, total_ms, function)]}}."""
    out, thread, table = {}, None, None
    for line in text.splitlines():
        if line.startswith("-- thread "):
            thread = line[len("-- thread "):].split(":")[0]
            out[thread] = {}
        elif line.strip().startswith("by self time"):
            table = out[thread].setdefault("self", [])
        elif line.strip().startswith("by total time"):
            table = out[thread].setdefault("total", [])
        elif table is not None and re.match(r"\s+\d+\s+\d+\.\d{6}", line):
            w = line.split()
            table.append((int(w[0]), w[1], w[3], w[5]))
    return out


@pytest.mark.parametrize("version", [1, 2])
def test_summary_is_exact(tmp_path, version):
    known_run(tmp_path / "traces", version=version)
    res = convert("--summary", tmp_path / "traces")
    assert res.returncode == 0, res.stderr
    rows = summary_rows(res.stdout)
    main = rows['100 "MainThread"']
    # Self: main 10000 - 4000 (two works); work 3000 - 4.75 + 1000 - 800; fact counted
    # once though recursive (total 800, self 200 + 600).
    assert main["self"] == [
        (1, "6.000000", "10.000000", "main"),
        (2, "3.195250", "4.000000", "work"),
        (2, "0.800000", "0.800000", "fact"),
        (2, "0.004750", "0.004750", "leaf"),
    ]
    assert [r[3] for r in main["total"]] == ["main", "work", "fact", "leaf"]
    assert rows['101 "worker"']["self"] == [(1, "4.000000", "4.000000", "time.sleep"),
                                            (1, "2.000000", "6.000000", "run")]
    assert "== process 200: python3 child.py" in res.stdout
    assert "/src/app.py:1" in res.stdout and "[native]" in res.stdout
    # --top, --format summary and -o.
    res = convert("--format", "summary", "--top", "1", tmp_path / "traces", "-o",
                  tmp_path / "s.txt")
    assert res.returncode == 0, res.stderr
    rows = summary_rows((tmp_path / "s.txt").read_text())
    assert rows['100 "MainThread"'] == {"self": [(1, "6.000000", "10.000000", "main")],
                                        "total": [(1, "6.000000", "10.000000", "main")]}


NAPS = """\
import time

def nap(seconds):
    time.sleep(seconds)

def main():
    for s in (0.05, 0.1, 0.15):
        nap(s)

main()
"""


def test_summary_and_chrome_of_recorded_sleeps(rec, tmp_path):
    script = tmp_path / "naps.py"
    script.write_text(NAPS)
    assert rec.record([script]).returncode == 0
    res = convert("--summary", tmp_path / "traces")
    assert res.returncode == 0, res.stderr
    (main,) = [v for k, v in summary_rows(res.stdout).items() if "MainThread" in k]
    by_name = {r[3]: r for r in main["total"]}
    calls, self_ms, total_ms, _ = by_name["time.sleep"]
    assert calls == 3
    assert 300 <= float(total_ms) < 300 + 200, total_ms
    assert float(self_ms) == float(total_ms)        # a native leaf
    assert by_name["nap"][0] == 3 and float(by_name["nap"][2]) >= float(total_ms)
    assert by_name["main"][0] == 1 and float(by_name["main"][2]) >= float(by_name["nap"][2])
    # The same trace as Chrome trace events: each sleep lasts at least what it asked.
    res = convert(tmp_path / "traces", "-f", "chrome", "-o", tmp_path / "c.json")
    assert res.returncode == 0, res.stderr
    threads, _, _ = load_chrome(tmp_path / "c.json")
    sleeps = [s for evs in threads.values() for s in spans(evs) if s[0] == "time.sleep"]
    assert len(sleeps) == 3
    for (name, start, end, depth), asked in zip(sleeps, (50e3, 100e3, 150e3)):
        assert asked <= end - start < asked + 100e3, (start, end)


# ---- --info ----

def test_info_tells_what_a_trace_holds(tmp_path):
    known_run(tmp_path / "traces", cut_pid=200)
    res = convert("--info", tmp_path / "traces")
    assert res.returncode == 3, res.stderr         # a file is cut short
    out = res.stdout
    assert f"{tmp_path / 'traces' / RUN}: 2 trace files, 2 processes, 3 threads" in out
    assert "hosts: host-a\n" in out
    assert "start: 2023-11-14 22:13:20.000000000 UTC; span: 0.010000000 s" in out
    assert "events: 18 (in the complete files), dropped: 0" in out
    assert "files: 1 complete, 1 cut short, 0 unreadable" in out
    first, second = out.split("\n\n")[1:3]
    assert "pid 100, parent 1, host host-a: python3 app.py --n 3" in first
    assert "how it began: run; how it ended: exit status 0; complete" in first
    assert "time: 0.000000000 s to 0.010000000 s" in first
    assert 'threads: 2 (100 "MainThread", 101 "worker")' in first
    assert "events: 18, dropped: 0, chunks: 2, functions: 6" in first
    assert "pid 200, parent 100" in second and "cut short" in second
    assert "how it began: child of pid 100" in second
    assert "time: 0.003900000 s to at least 0.004000000 s" in second
    assert "200.ftrace: no trailer: cut short" in res.stderr
    # One file, complete.
    res = convert("--info", tmp_path / "traces" / RUN / "100.ftrace")
    assert res.returncode == 0, res.stderr
    assert "1 trace file, 1 process, 2 threads" in res.stdout


def test_info_of_a_recording(rec, tmp_path):
    script = tmp_path / "naps.py"
    script.write_text(NAPS)
    assert rec.record([script, "x"]).returncode == 0
    res = convert("--info", tmp_path / "traces")
    assert res.returncode == 0, res.stderr
    assert "1 trace file, 1 process, 1 threads" in res.stdout
    assert f"{script} x" in res.stdout
    assert "how it ended: exit status 0; complete" in res.stdout
    span = float(re.search(r"span: ([\d.]+) s", res.stdout).group(1))
    assert 0.3 <= span < 10


# ---- filters ----

def chrome_of(tmp_path, *args):
    res = convert(tmp_path / "traces", "-f", "chrome", "-o", tmp_path / "f.json", *args)
    assert res.returncode == 0, res.stderr
    return load_chrome(tmp_path / "f.json")[0]


def test_time_window(tmp_path):
    known_run(tmp_path / "traces")
    threads = chrome_of(tmp_path, "--from", "1500us", "--to", "0.0055")
    # Calls running at the edges are cut there.
    assert threads[(100, 100)] == [
        ("B", "main", 1500), ("B", "work", 1500), ("B", "leaf", 1500.25), ("E", "leaf", 1502),
        ("B", "leaf", 2000), ("E", "leaf", 2003), ("E", "work", 4000), ("B", "work", 5000),
        ("B", "fact", 5100), ("B", "fact", 5200), ("E", "fact", 5500), ("E", "fact", 5500),
        ("E", "work", 5500), ("E", "main", 5500)]
    assert threads[(100, 101)] == [("B", "run", 2000), ("B", "time.sleep", 3000),
                                   ("E", "time.sleep", 5500), ("E", "run", 5500)]
    assert threads[(200, 200)] == [("B", "<module>", 4000), ("E", "<module>", 4500)]
    # A window inside one call; a window before a process starts drops it.
    threads = chrome_of(tmp_path, "--from", "3.5ms", "--to", "3.6ms")
    assert threads[(100, 101)] == [("B", "run", 3500), ("B", "time.sleep", 3500),
                                   ("E", "time.sleep", 3600), ("E", "run", 3600)]
    assert (200, 200) not in threads
    # Open-ended windows; a window after every event leaves nothing, which is an error.
    assert chrome_of(tmp_path, "--from", "7.5ms")[(100, 101)] == [
        ("B", "run", 7500), ("E", "run", 8000)]
    assert chrome_of(tmp_path, "--to", "1ms")[(100, 100)] == [
        ("B", "main", 0), ("B", "work", 1000), ("E", "work", 1000), ("E", "main", 1000)]
    res = convert(tmp_path / "traces", "--from", "11ms", "-o", tmp_path / "late.json")
    assert res.returncode == 1 and "left no events" in res.stderr, res.stderr
    # The summary sees the same window.
    res = convert("--summary", "--from", "3ms", "--to", "7ms", "--tid", "101",
                  tmp_path / "traces")
    assert res.returncode == 0, res.stderr
    assert summary_rows(res.stdout) == {'101 "worker"': {
        "self": [(1, "4.000000", "4.000000", "time.sleep"), (1, "0.000000", "4.000000", "run")],
        # Equal totals: in the order the functions were defined.
        "total": [(1, "0.000000", "4.000000", "run"), (1, "4.000000", "4.000000", "time.sleep")]}}


def test_pid_and_tid(tmp_path):
    known_run(tmp_path / "traces")
    assert set(chrome_of(tmp_path, "--pid", "200")) == {(200, 200)}
    assert set(chrome_of(tmp_path, "--tid", "101", "--tid", "200")) == {(100, 101), (200, 200)}
    assert set(chrome_of(tmp_path, "--pid", "100", "--tid", "101")) == {(100, 101)}
    # The Firefox profile filtered the same way still loads.
    res = convert(tmp_path / "traces", "--pid", "100", "-o", tmp_path / "p.json")
    assert res.returncode == 0, res.stderr
    profile = json.loads((tmp_path / "p.json").read_text())
    assert sorted(t["pid"] for t in profile["threads"]) == ["100", "100"]
    # Nothing left: an error that says why and what to do.
    res = convert(tmp_path / "traces", "--pid", "999", "-o", tmp_path / "none.json")
    assert res.returncode == 1
    assert "the filters (--from, --to, --pid, --tid) left no events" in res.stderr
    assert "ft-convert --info" in res.stderr
    assert not (tmp_path / "none.json").exists()


def test_min_duration_folds_short_calls(tmp_path):
    known_run(tmp_path / "traces")
    threads = chrome_of(tmp_path, "--min-duration", "10us")
    assert threads[(100, 100)] == [e for e in MAIN_EVENTS if e[1] != "leaf"]
    # 1ms: fact (800 µs) folds with its recursive call; work (exactly 1 ms) stays.
    threads = chrome_of(tmp_path, "--min-duration", "1ms")
    assert threads[(100, 100)] == [("B", "main", 0), ("B", "work", 1000), ("E", "work", 4000),
                                   ("B", "work", 5000), ("E", "work", 6000), ("E", "main", 10000)]
    res = convert("--summary", "--min-duration", "1ms", "--tid", "100", tmp_path / "traces")
    assert res.returncode == 0, res.stderr
    # The folded time is the caller's self time now.
    assert summary_rows(res.stdout)['100 "MainThread"']["self"] == [
        (1, "6.000000", "10.000000", "main"), (2, "4.000000", "4.000000", "work")]
    assert "folded 4 short calls" in res.stderr
    # The Firefox profile of a folded trace: the short calls are gone from its stacks.
    res = convert(tmp_path / "traces", "--min-duration", "1ms", "-o", tmp_path / "p.json")
    assert res.returncode == 0, res.stderr
    names = set().union(*(t.names() for t in ffprofile.threads(ffprofile.load(tmp_path / "p.json"))))
    assert "work" in names and "leaf" not in names and "fact" not in names


def test_size_warning(tmp_path):
    known_run(tmp_path / "traces")
    gen = ROOT / "build" / "tests" / "test_convert"
    if not gen.exists():
        pytest.skip("needs build/tests/test_convert (make test-c)")
    assert subprocess.run([str(gen), "--gen", str(tmp_path / "big"), "100000", "2"],
                          capture_output=True).returncode == 0
    # Estimated before writing (100000 events: ~2.8 MB of Firefox JSON).
    res = convert(tmp_path / "big", "--warn-size", "2", "-o", tmp_path / "big.json")
    assert res.returncode == 0, res.stderr
    assert "warning: the output will be about" in res.stderr
    assert "--from/--to" in res.stderr and "--min-duration" in res.stderr
    assert res.stderr.count("ft-convert: warning:") == 1
    # Measured after writing, when filters make the estimate meaningless.
    res = convert(tmp_path / "big", "--warn-size", "1", "--tid", "4242", "-o", tmp_path / "b.json")
    assert res.returncode == 0, res.stderr
    assert "warning: the output is " in res.stderr
    # Under the limit, and for the summary: no warning.
    for args in (["--warn-size", "100"], ["--warn-size", "1", "--summary"]):
        res = convert(tmp_path / "big", *args, "-o", tmp_path / "x")
        assert res.returncode == 0 and "ft-convert: warning" not in res.stderr, res.stderr


# ---- progress ----

def run_on_pty(args, env):
    """Run ft-convert with stderr on a pseudo-terminal; returns (status, what it wrote)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([CONVERT, *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:        # the terminal closed: the process exited
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode(errors="replace")


def test_progress_only_on_a_terminal(tmp_path):
    gen = ROOT / "build" / "tests" / "test_convert"
    if not gen.exists():
        pytest.skip("needs build/tests/test_convert (make test-c)")
    assert subprocess.run([str(gen), "--gen", str(tmp_path / "big"), "300000", "2"],
                          capture_output=True).returncode == 0
    env = dict(os.environ, FT_CONVERT_PROGRESS_DELAY="0")
    status, out = run_on_pty([tmp_path / "big", "-o", tmp_path / "p.json"], env)
    assert status == 0, out
    lines = re.findall(r"\rft-convert: +(\d+)% of [\d.]+ MB read, file 1 of 1", out)
    assert lines, out
    assert out.count("\r\x1b[K") >= 1            # erased before the final note
    assert "wrote " in out.split("\r\x1b[K")[-1]
    # Not a terminal: no progress, whatever the delay.
    res = convert(tmp_path / "big", "-o", tmp_path / "p.json", env=env)
    assert res.returncode == 0 and "\r" not in res.stderr and "% of" not in res.stderr
    # -q: none either, on a terminal.
    status, out = run_on_pty([tmp_path / "big", "-q", "-o", tmp_path / "p.json"], env)
    assert status == 0 and out == "", out


# ---- --merge-runs ----

def test_merge_runs_aligns_hosts_by_wall_clock(tmp_path):
    """Two runs from two hosts whose monotonic clocks have nothing in common; the second
    started 20 ms after the first on the wall clock."""
    wall = 1_700_000_000_000_000_000
    known_run(tmp_path / "a" / "traces")
    known_run(tmp_path / "b" / "traces", run="20250101-000000-300", host="host-b",
              wall=wall + 20_000 * US, clock0=987_654_321_000)
    res = convert("--merge-runs", tmp_path / "a" / "traces", tmp_path / "b" / "traces",
                  "-f", "chrome", "-o", tmp_path / "m.json")
    assert res.returncode == 0, res.stderr
    assert "merging 2 runs: 4 trace files on one timeline" in res.stderr
    assert "aligned by their wall-clock anchors" in res.stderr
    threads, pnames, _ = load_chrome(tmp_path / "m.json")
    # The same pids on both hosts: the second of each is told apart (pid + n * 2^22).
    assert threads[(100, 100)] == MAIN_EVENTS
    shifted = [(ph, n, ts + 20000) for ph, n, ts in MAIN_EVENTS]
    assert threads[(100 + (1 << 22), 100)] == shifted
    assert len(pnames) == 4
    res = convert("--info", "--merge-runs", tmp_path / "a" / "traces",
                  tmp_path / "b" / "traces")
    assert res.returncode == 0, res.stderr
    assert "hosts: host-a, host-b" in res.stdout and "4 trace files, 4 processes" in res.stdout
    # --run picks runs from the inputs; a run id that matches nothing is an error.
    res = convert("--merge-runs", "--run", "20250101-000000-3", tmp_path / "a" / "traces",
                  tmp_path / "b" / "traces", "-f", "chrome", "-o", tmp_path / "one.json")
    assert res.returncode == 0, res.stderr
    assert {pid for pid, _ in load_chrome(tmp_path / "one.json")[0]} == {100, 200}
    res = convert("--merge-runs", "--run", "1999", tmp_path / "a" / "traces", "-o",
                  tmp_path / "none.json")
    assert res.returncode == 1 and "no run 1999 in the inputs" in res.stderr
    assert "ft-convert --list" in res.stderr


def test_merge_recorded_runs(rec, tmp_path):
    from test_convert_cli import record_two_runs
    record_two_runs(rec, tmp_path)
    res = convert("--merge-runs", tmp_path / "traces", "-o", tmp_path / "m.json")
    assert res.returncode == 0, res.stderr
    profile = ffprofile.load(tmp_path / "m.json")
    names = set().union(*(t.names() for t in ffprofile.threads(profile)))
    assert {"only_in_first", "only_in_second"} <= names
    # One host, one boot: one clock, no alignment through the wall clock needed.
    assert "wall-clock" not in res.stderr
    starts = sorted(t["processStartupTime"] for t in profile["threads"])
    assert starts[-1] - starts[0] >= 1000        # recorded > 1.1 s apart, in ms
    ffprofiler_check(tmp_path / "m.json", "profile", "info")


# ---- --help and usage errors ----

def test_help_has_examples_of_every_option():
    res = convert("--help")
    assert res.returncode == 0
    for opt in ("--format", "--summary", "--top", "--info", "--merge-runs", "--from", "--to",
                "--pid", "--tid", "--min-duration", "--warn-size", "chrome", "perfetto"):
        assert opt in res.stdout, opt
    examples = res.stdout.split("Examples")[1]
    for opt in ("--summary", "--format chrome", "--info", "--from", "--min-duration",
                "--merge-runs"):
        assert opt in examples, opt


USAGE_ERRORS = [
    (["--format", "svg", "x", "-o", "y"], "--format: no format 'svg'; choose firefox, chrome or summary"),
    (["--from", "soon", "x", "-o", "y"], "--from: 'soon' is not a time; give seconds (e.g. 1.5) or a number with a unit"),
    (["--to", "-1", "x", "-o", "y"], "--to: '-1' is not a time"),
    (["--min-duration", "5 parsecs", "x", "-o", "y"], "--min-duration: '5 parsecs' is not a time"),
    (["--from", "2", "--to", "1", "x", "-o", "y"], "--from must be earlier than --to"),
    (["--pid", "abc", "x", "-o", "y"], "--pid: 'abc' is not a number from 1 to"),
    (["--tid", "0", "x", "-o", "y"], "--tid: '0' is not a number from 1 to"),
    (["--top", "0", "--summary", "x"], "--top: '0' is not a number from 1 to 1000000"),
    (["--top", "3", "x", "-o", "y"], "--top is for the summary: add --summary"),
    (["--info", "x", "-o", "y"], "--info prints what INPUT holds and converts nothing"),
    (["--info", "--summary", "x"], "--info prints what INPUT holds and converts nothing"),
    (["--list", "--pid", "3", "x"], "--list lists the runs of INPUT and converts nothing"),
    (["a", "b", "-o", "y"], "only one INPUT can be converted at a time (add --merge-runs"),
    (["--run", "a", "--run", "b", "x", "-o", "y"], "--run names one run; to convert several onto one timeline, add --merge-runs"),
    (["--merge-runs", "-o", "y"], "no INPUT given"),
    (["--warn-size", "big", "x", "-o", "y"], "--warn-size: 'big' is not a number"),
    (["x"], "no OUTPUT given (-o FILE, or -o - for standard output)"),
]


@pytest.mark.parametrize("args,message", USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_say_what_to_do(args, message):
    res = convert(*args)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("ft-convert: ") and message in res.stderr, res.stderr
    assert "Try 'ft-convert --help'." in res.stderr


def test_input_errors_say_what_to_do(tmp_path):
    res = convert("--info", tmp_path / "nowhere")
    assert res.returncode == 1 and "nowhere" in res.stderr
    res = convert("--summary", "--merge-runs", tmp_path / "nowhere")
    assert res.returncode == 1 and "nowhere" in res.stderr
    (tmp_path / "empty").mkdir()
    res = convert("--merge-runs", tmp_path / "empty", "-o", tmp_path / "x.json")
    assert res.returncode == 1 and "no .ftrace files and no run directories" in res.stderr
