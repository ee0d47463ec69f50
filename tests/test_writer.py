"""The writer's compressor thread (record/writer.c; FUNCTIONTRACE_WRITER=thread, or =auto on
2+ CPUs; inline by default): chunks are compressed and written by a thread of
the recorder's own, which must change neither what the trace holds nor what the program
sees."""

import os
import shutil
import subprocess
import textwrap

import pytest

import refdecode
from conftest import env_for_recording

# Several threads, each filling many 128 KiB chunks, and a flush() in the middle whose
# promise is that everything recorded so far is in the file when it returns.
BUSY = """
    import os, sys, threading
    import functiontrace._functiontrace as ft

    def leaf(i):
        return i + 1

    def work(n):
        s = 0
        for i in range(n):
            s += leaf(i)
        return s

    threads = [threading.Thread(target=work, args=(60000,), name=f"busy-{k}") for k in range(3)]
    for t in threads:
        t.start()
    work(60000)
    for t in threads:
        t.join()
    before = ft.stats()
    ft.flush()
    after = ft.stats()
    path = sys.argv[1]
    # flush() returned: the file holds every chunk written so far, readable right now.
    print("flushed", after["chunks"] >= 1 and after["events"] >= before["events"])
    print(work(10))
"""


def events_by_thread(trace):
    """{thread name: [(event, function name)]} of the program's own functions."""
    funcs = trace["functions"]
    out = {}
    for t in trace["threads"].values():
        seq = [(kind, funcs[fid]["name"]) for _, kind, fid in t["events"]
               if funcs[fid]["kind"] == 0 and funcs[fid]["name"] in ("leaf", "work")]
        out[t["names"][-1]] = seq
    return out


def record(rec, tmp_path, env, out):
    script = tmp_path / "busy.py"
    script.write_text(textwrap.dedent(BUSY))
    res = rec.record([str(script), "x"], out=out, env_extra=env)
    assert res.returncode == 0, res.stderr
    (path,) = rec.trace_files(out)
    trace = refdecode.read_trace(str(path))
    assert trace["errors"] == [], trace["errors"]
    return res, trace


def test_thread_and_inline_writers_record_the_same(rec, tmp_path):
    res_t, threaded = record(rec, tmp_path, {"FUNCTIONTRACE_WRITER": "thread"}, "threaded")
    res_i, inline = record(rec, tmp_path, {"FUNCTIONTRACE_WRITER": "inline"}, "inline")
    assert res_t.stdout == res_i.stdout == b"flushed True\n55\n"
    a, b = events_by_thread(threaded), events_by_thread(inline)
    assert set(a) == {"MainThread", "busy-0", "busy-1", "busy-2"}
    assert a == b
    # 4 × 60000 calls of leaf: many chunks each, all of them written.
    assert sum(len(s) for s in a.values()) > 4 * 2 * 60000
    for t in (threaded, inline):
        assert t["trailer"]["dropped_events"] == 0
        assert t["trailer"]["chunks"] > 8


FORK_AFTER_CHUNKS = """
    import os, sys

    def leaf(i):
        return i

    for i in range(200000):             # many full chunks: the compressor thread runs
        leaf(i)
    pid = os.fork()
    if pid == 0:
        for i in range(50000):
            leaf(i)
        print("child done", flush=True)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print("parent done", os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status)
"""


def test_fork_sees_no_extra_thread(rec, tmp_path):
    """The process forks with only the program's threads (3.12+ prints a DeprecationWarning
    otherwise: os.fork reads the thread count from /proc/self/stat), and both sides keep recording through a compressor thread of their own."""
    script = tmp_path / "fork.py"
    script.write_text(textwrap.dedent(FORK_AFTER_CHUNKS))
    plain = rec.run_plain([str(script)])
    traced = rec.record([str(script)], env_extra={"FUNCTIONTRACE_WRITER": "thread"})
    assert plain.returncode == 0, plain.stderr
    assert (traced.returncode, traced.stdout, traced.stderr) == \
        (plain.returncode, plain.stdout, plain.stderr)
    files = rec.trace_files()
    assert len(files) == 2
    counts = []
    for f in files:
        trace = refdecode.read_trace(str(f))
        assert trace["errors"] == [] and trace["trailer"] is not None
        leaf = [fid for fid, fn in trace["functions"].items() if fn["name"] == "leaf"]
        counts.append(sum(1 for t in trace["threads"].values() for _, _, fid in t["events"]
                          if fid in leaf))
    assert sorted(counts) == [2 * 50000, 2 * 200000]


# Fills chunks, then says how many threads the process has (the compressor starts with the
# first full chunk).
COUNT_THREADS = """
    import os

    def leaf(i):
        return i

    for i in range(200000):
        leaf(i)
    print(len(os.listdir("/proc/self/task")))
"""


@pytest.mark.parametrize("env, cpus, threads", [
    ({}, None, 1),                                  # default: inline
    ({"FUNCTIONTRACE_WRITER": "auto"}, None, 2),    # auto, 2+ CPUs: the thread
    ({"FUNCTIONTRACE_WRITER": "auto"}, "0", 1),     # auto, one usable CPU: inline
    ({"FUNCTIONTRACE_WRITER": "inline"}, None, 1),
    ({"FUNCTIONTRACE_WRITER": "thread"}, "0", 2),
], ids=["default", "auto", "auto-1cpu", "inline", "thread-1cpu"])
def test_which_writer(rec, tmp_path, env, cpus, threads):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 CPUs")
    if cpus and not shutil.which("taskset"):
        pytest.skip("needs taskset")
    script = tmp_path / "count.py"
    script.write_text(textwrap.dedent(COUNT_THREADS))
    cmd = ([shutil.which("taskset"), "-c", cpus] if cpus else []) + [
        rec.py, "-m", "functiontrace.record", "-q", "-o", str(tmp_path / "t"), str(script)]
    res = subprocess.run(cmd, cwd=tmp_path, env=env_for_recording(env), capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "%d\n" % threads
