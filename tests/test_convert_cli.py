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


def test_latest_run_is_converted(rec, tmp_path):
    first = tmp_path / "first.py"
    first.write_text("def only_in_first():\n    pass\nonly_in_first()\n")
    second = tmp_path / "second.py"
    second.write_text("def only_in_second():\n    pass\nonly_in_second()\n")
    assert rec.record([first]).returncode == 0
    time.sleep(1.1)  # run ids have one-second resolution
    assert rec.record([second]).returncode == 0
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
