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
