"""The reference decoder (tests/refdecode.py, written from FORMAT.md alone) and the C reader
(build/ftdump) print the same canonical dump of real traces."""

import subprocess
import sys

import pytest

from conftest import ROOT

FTDUMP = ROOT / "build" / "ftdump"


@pytest.mark.parametrize("sample", ["demo.py", "threads.py", "generators.py", "exceptions.py"])
def test_c_and_reference_decoders_agree(rec, sample):
    assert rec.record([ROOT / "samples" / sample]).returncode == 0
    (trace,) = rec.trace_files()
    c_dump = subprocess.run([str(FTDUMP), str(trace)], capture_output=True, text=True)
    assert c_dump.returncode == 0, c_dump.stderr
    py_dump = subprocess.run([sys.executable, str(ROOT / "tests" / "refdecode.py"), str(trace)],
                             capture_output=True, text=True)
    assert py_dump.returncode == 0, py_dump.stderr
    assert c_dump.stdout.count("\n") > 20
    assert c_dump.stdout == py_dump.stdout


def dumps(path):
    c_dump = subprocess.run([str(FTDUMP), str(path)], capture_output=True, text=True)
    py_dump = subprocess.run([sys.executable, str(ROOT / "tests" / "refdecode.py"), str(path)],
                             capture_output=True, text=True)
    assert c_dump.returncode == py_dump.returncode == 0, c_dump.stderr + py_dump.stderr
    assert c_dump.stdout == py_dump.stdout
    return c_dump.stdout


def test_both_format_versions_dump_alike(tmp_path):
    """A chunk of events with markers among them, before the first event and after the last,
    written in 1.x form and packed into an EVENTS record with placeholders (2.0): both
    decoders print the same dump of each, and the two dumps differ only by the version."""
    from tracewriter import Trace
    out = {}
    for version in (1, 2):
        t = Trace(100, 10**9, 2 * 10**9, version=version)
        t.thread(100, "MainThread")
        t.call(100, 10**9 + 10, "outer")
        t.marker(100, 10**9 + 10, "user", "m0")
        for i in range(300):        # two-byte varints of fids and dts too
            t.span(100, 10**9 + 1000 * i + 20, 10**9 + 1000 * i + 20 + i * 97, "f%d" % i)
            if i % 50 == 0:
                t.marker(100, 10**9 + 1000 * i + 25, "log", "INFO", {"message": "m%d" % i})
        t.ret(100, 10**9 + 400000, "outer")
        t.marker(100, 10**9 + 400007, "user", "end", start=10**9 + 400001)
        out[version] = dumps(t.write(tmp_path / ("v%d.ftrace" % version)))
    lines = {v: [ln for ln in d.splitlines() if not ln.startswith(("file ", "header format_"))]
             for v, d in out.items()}
    assert lines[1] == lines[2]
    assert sum(ln.startswith("marker ") or ln.startswith("interval ") for ln in lines[2]) >= 8
    assert sum(" CALL " in ln for ln in lines[2]) == 301
