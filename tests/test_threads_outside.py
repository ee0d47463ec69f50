"""Threads that recording did not see start (samples/stacks/threads_outside.py): one
already running when the program starts recording through the API, one started with
_thread.start_new_thread, and a native thread (pthread_create via ctypes) calling into
Python. sys.monitoring (3.12+) and the frame evaluator (mode "python") hook the interpreter,
so they trace all three; the setprofile hook (mode "all" on 3.8–3.11) is per thread: it is
put on every thread existing at start, on threading's new threads and on _thread's, not on
native threads (README)."""

import re

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

    # _thread's threads: in a thread of their own, with the whole stack.
    (raw,) = by_work["work_raw"]
    assert [c.path for c in raw.find("work_raw")] == [("raw_thread", "work_raw")]
    if mode == "all" and rec.version < (3, 12):
        assert "work_native" not in by_work
        return
    (native,) = by_work["work_native"]
    assert len({before.tid, raw.tid, native.tid} - {t.tid for t in threads if t.is_main}) == 3
    assert [c.path for c in native.find("work_native")] == [("native_entry", "work_native")]


def test_thread_module_threads_run_as_untraced(rec, tmp_path):
    """_thread.start_new_thread goes through the recorder on 3.8-3.11 (mode all): the
    thread's function, arguments, exceptions and their report are the program's own;
    threading's threads start from their own function, as before."""
    script = tmp_path / "raw.py"
    script.write_text(
        "import _thread, threading, time\n"
        "done = []\n"
        "def target(a, b=0):\n"
        "    done.append((a, b))\n"
        "def boom():\n"
        "    done.append('boom')\n"
        "    raise ValueError('from a _thread thread')\n"
        "def quiet_exit():\n"
        "    done.append('exit')\n"
        "    raise SystemExit(3)\n"
        "for n, start in enumerate([(target, (1,), {'b': 2}), (boom, ()),\n"
        "                            (quiet_exit, ())]):\n"
        "    _thread.start_new_thread(*start)\n"
        "    while len(done) <= n:\n"
        "        time.sleep(0.01)\n"
        "time.sleep(0.1)   # boom's report is printed after it appended\n"
        "try:\n"
        "    _thread.start_new_thread(target, [1])\n"
        "except TypeError as e:\n"
        "    print('TypeError:', e)\n"
        "t = threading.Thread(target=target, args=(5,), name='named')\n"
        "t.start(); t.join()\n"
        "print(done)\n")
    plain = rec.run_plain([str(script)])
    res, profile = rec.record_and_convert([str(script)])
    assert res.returncode == plain.returncode == 0, res.stderr
    assert res.stdout == plain.stdout
    assert b"[(1, 2), 'boom', 'exit', (5, 0)]" in res.stdout
    strip = lambda err: re.sub(rb" at 0x[0-9a-f]+", b"", err)
    assert strip(res.stderr) == strip(plain.stderr)
    assert b"in thread started by" in plain.stderr and b"<function boom" in plain.stderr
    threads = ffprofile.threads(profile)
    (named,) = [t for t in threads if t.name == "named"]
    run = "Thread.run" if rec.version >= (3, 11) else "run"
    assert [c.path[-2:] for c in named.find("target")] == [(run, "target")]
    if rec.version < (3, 12):
        # The hook goes in inside threading's bootstrap, as without the _thread wrapper.
        assert not {"_bootstrap", "_bootstrap_inner", "thread_trampoline"} & named.names()
    starts = {c.path for t in threads if not t.is_main and t.name != "named"
              for c in t.calls if len(c.path) == 1}
    assert {("target",), ("boom",), ("quiet_exit",)} <= starts
