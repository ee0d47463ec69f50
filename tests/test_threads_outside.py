"""Threads that recording did not see start (samples/stacks/threads_outside.py): one
already running when the program starts recording through the API, one started with
_thread.start_new_thread, and a native thread (pthread_create via ctypes) calling into
Python. sys.monitoring (3.12+) and the frame evaluator (mode "python") hook the interpreter,
so they trace all three; the setprofile hook (mode "all" on 3.8–3.11) is per thread: it is
put on every thread existing at start and on threading's new threads only (README)."""

import pytest

from conftest import ROOT
import ffprofile

SAMPLE = ROOT / "samples" / "stacks" / "threads_outside.py"


@pytest.mark.parametrize("mode", ["all", "python"])
def test_threads_started_outside_threading(rec, mode):
    run = rec.tmp / "run"
    run.mkdir()
    res = rec.run_plain([str(SAMPLE), str(run), mode])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == b"done"
    threads = ffprofile.threads(rec.convert("run"))
    by_work = {}
    for t in threads:
        for name in ("work_before", "work_raw", "work_native"):
            if name in t.names():
                by_work.setdefault(name, []).append(t)

    # Running before start(): its loop's calls from then on, at the bottom of the stack
    # (spin itself was entered before recording).
    (before,) = by_work["work_before"]
    assert before.name == "before"
    assert len(before.find("work_before")) >= 5
    assert all(c.path == ("work_before",) for c in before.find("work_before"))

    if mode == "all" and rec.version < (3, 12):
        assert "work_raw" not in by_work and "work_native" not in by_work
        return
    # Each in a thread of its own, with its whole stack.
    (raw,) = by_work["work_raw"]
    (native,) = by_work["work_native"]
    assert len({before.tid, raw.tid, native.tid} - {t.tid for t in threads if t.is_main}) == 3
    assert [c.path for c in raw.find("work_raw")] == [("raw_thread", "work_raw")]
    assert [c.path for c in native.find("work_native")] == [("native_entry", "work_native")]
