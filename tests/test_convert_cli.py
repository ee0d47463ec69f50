"""ft-convert's command line on real traces: outputs, run selection, damaged input."""

import gzip
import json
import subprocess
import time

import pytest

from conftest import CONVERT, ROOT
import ffprofile

DEMO = str(ROOT / "samples" / "exceptions.py")


def convert(*args):
    return subprocess.run([CONVERT, *map(str, args)], capture_output=True, timeout=120)


def test_stdout_and_gzip_outputs(rec, tmp_path):
    assert rec.record([DEMO]).returncode == 0
    to_file = rec.convert()
    res = convert(tmp_path / "traces", "-o", "-")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == to_file
    res = convert(tmp_path / "traces", "-o", tmp_path / "p.json.gz")
    assert res.returncode == 0, res.stderr
    with gzip.open(tmp_path / "p.json.gz", "rt") as f:
        assert json.load(f) == to_file


def record_two_runs(rec, tmp_path, *second_args):
    """Record two runs into traces/: first.py, then second.py, each calling a function
    found only in it."""
    first = tmp_path / "first.py"
    first.write_text("def only_in_first():\n    pass\nonly_in_first()\n")
    second = tmp_path / "second.py"
    second.write_text("def only_in_second():\n    pass\nonly_in_second()\n")
    assert rec.record([first]).returncode == 0
    time.sleep(1.1)  # run ids have one-second resolution
    assert rec.record([second, *second_args]).returncode == 0


def test_latest_run_is_converted(rec, tmp_path):
    record_two_runs(rec, tmp_path)
    runs = sorted(p for p in (tmp_path / "traces").iterdir() if p.is_dir())
    assert len(runs) == 2
    names = set().union(*(t.names() for t in ffprofile.threads(rec.convert())))
    assert "only_in_second" in names and "only_in_first" not in names
    # A run directory given explicitly is converted, whichever it is.
    res = convert(runs[0], "-o", tmp_path / "old.json")
    assert res.returncode == 0, res.stderr
    names = set().union(*(t.names() for t in ffprofile.threads(ffprofile.load(tmp_path / "old.json"))))
    assert "only_in_first" in names


@pytest.mark.parametrize("keep", ["all-but-5-bytes", "two-thirds"])
def test_truncated_trace_still_converts(rec, tmp_path, keep):
    assert rec.record([ROOT / "samples" / "demo.py"]).returncode == 0
    (trace,) = rec.trace_files()
    data = trace.read_bytes()
    cut = len(data) - 5 if keep == "all-but-5-bytes" else len(data) * 2 // 3
    trace.write_bytes(data[:cut])
    res = convert(tmp_path / "traces", "-o", tmp_path / "cut.json")
    assert res.returncode == 3, res.stderr
    assert str(trace).encode() in res.stderr and b"offset" in res.stderr
    profile = ffprofile.load(tmp_path / "cut.json")
    names = set().union(*(t.names() for t in ffprofile.threads(profile)))
    assert names
    if keep == "all-but-5-bytes":
        # Only the trailer was cut: every event is still there.
        assert {"main", "outer", "worker", "nap"} <= names


def test_foreign_file_is_named(tmp_path):
    run = tmp_path / "traces" / "20260101-000000-1"
    run.mkdir(parents=True)
    (run / "1.ftrace").write_bytes(b"this is not a trace at all")
    res = convert(tmp_path / "traces", "-o", tmp_path / "x.json")
    assert res.returncode != 0
    assert b"1.ftrace" in res.stderr


def test_missing_input_and_usage(tmp_path):
    res = convert(tmp_path / "nowhere", "-o", tmp_path / "x.json")
    assert res.returncode != 0 and b"nowhere" in res.stderr
    assert convert().returncode == 2
    assert convert("--help").returncode == 0


def test_list_and_run_selection(rec, tmp_path):
    record_two_runs(rec, tmp_path, "arg")
    runs = sorted(p.name for p in (tmp_path / "traces").iterdir() if p.is_dir())
    res = convert("--list", tmp_path / "traces")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.decode().splitlines()
    assert lines[0].split() == ["RUN", "FILES", "PROCESSES", "START", "(UTC)", "COMMAND"]
    assert [line.split()[0] for line in lines[1:]] == runs
    for line, script in zip(lines[1:], ["first.py", "second.py arg"]):
        words = line.split()
        assert words[1:3] == ["1", "1"], line
        assert line.endswith(str(tmp_path / script)), line
    # --run: by id, by a unique beginning of one, and not at all.
    for run_id in (runs[0], runs[0][:-1]):
        res = convert(tmp_path / "traces", "--run", run_id, "-o", tmp_path / "old.json")
        assert res.returncode == 0, res.stderr
        assert ("converting run %s" % runs[0]).encode() in res.stderr
        names = set().union(*(t.names() for t in
                              ffprofile.threads(ffprofile.load(tmp_path / "old.json"))))
        assert "only_in_first" in names and "only_in_second" not in names
    res = convert(tmp_path / "traces", "--run", "19990101", "-o", tmp_path / "none.json")
    assert res.returncode == 1 and b"no run 19990101" in res.stderr
    assert not (tmp_path / "none.json").exists()


def test_list_usage(tmp_path):
    assert convert("--list", tmp_path, "-o", tmp_path / "x.json").returncode == 2
    assert convert("--list").returncode == 2
    res = convert("--list", tmp_path / "nowhere")
    assert res.returncode == 1 and b"nowhere" in res.stderr
    out = convert("--help").stdout
    assert b"--list" in out and b"--run" in out


SAMPLE_GEN = ROOT / "build" / "tests" / "test_convert"


@pytest.mark.skipif(not SAMPLE_GEN.exists(), reason="needs build/tests/test_convert (make test-c)")
def test_synthetic_processes_load_with_markers(tmp_path):
    """The multi-process run of tests/c/test_convert.c (fork, spawn worker, exec, a reused
    pid, a child of an untraced shell), loaded by the Firefox Profiler's own code."""
    from conftest import ffprofiler_check
    run = tmp_path / "traces" / "20250101-000000-100"
    run.mkdir(parents=True)
    assert subprocess.run([str(SAMPLE_GEN), "--sample-processes", str(tmp_path / "traces")],
                          capture_output=True).returncode == 0
    res = convert(tmp_path / "traces", "-o", tmp_path / "mp.json")
    assert res.returncode == 3, res.stderr   # one file has no trailer
    profile = ffprofile.load(tmp_path / "mp.json")
    procs = {t.pid: t.process_name for t in ffprofile.threads(profile) if t.is_main}
    assert procs == {
        "100": "python3 app.py --n 3",
        "101": "ForkPoolWorker-1 [fork of 100]",
        "102": "SpawnPoolWorker-1 (multiprocessing spawn worker)",
        "103": "python3 after_exec.py x",
        "101.1": "python3 kid.py",
        "104": "python3 kid2.py",
    }
    out = ffprofiler_check(tmp_path / "mp.json", "thread", "markers", "--thread", "t-3",
                           "--list")
    assert "began: fork of pid 100; ended: exec" in out
    assert "began: exec; ended: exit status 0" in out
    out = ffprofiler_check(tmp_path / "mp.json", "profile", "info")
    assert "6 processes" in out
