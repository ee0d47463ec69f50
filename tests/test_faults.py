"""The recorder under faults: killed at a random moment, a full disk, a file size limit, an
output directory it cannot write, and a long run (memory must not grow with the events).

Each time the program must run as it would without the recorder (output, exit status), the
recorder must say once on stderr what it could not record, and whatever reached the disk
must convert."""

import os
import random
import re
import resource
import signal
import subprocess
import textwrap
import threading
import time

import pytest

from conftest import CONVERT, ROOT, env_for_recording

FTDUMP = ROOT / "build" / "ftdump"

# FT_DEFAULT_BUFFER_SIZE (record/tstate.h): the events part of a thread's chunk. An event
# record is a msgpack array [type, dt, fid] of at least 4 bytes (FORMAT.md §4.4), so a
# chunk holds at most this many events: what a thread may lose when the process is killed.
CHUNK_BYTES = 128 << 10
CHUNK_EVENTS_MAX = CHUNK_BYTES // 4


def write(tmp, name, code):
    path = tmp / name
    path.write_text(textwrap.dedent(code))
    return path


def record_cmd(py, out, args, quiet=True):
    return [py, "-m", "functiontrace.record", "-o", str(out)] + (["-q"] if quiet else []) + args


def trace_files(out):
    return sorted(out.glob("*/*.ftrace"))


def convert(src, dst):
    return subprocess.run([CONVERT, str(src), "-o", str(dst)], capture_output=True, text=True,
                          timeout=120)


def calls_per_thread(trace, func_name):
    """{tid: CALL events of func_name} read from build/ftdump's canonical dump."""
    fids, counts = set(), {}
    with subprocess.Popen([str(FTDUMP), str(trace)], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True) as p:
        for line in p.stdout:
            if line.startswith("func "):
                fid, _kind, name = line.split(" ", 4)[1:4]
                if name == '"%s"' % func_name or name.endswith('.%s"' % func_name):
                    fids.add(fid)
            elif " CALL " in line and line[0].isdigit():
                tid, _t, _call, fid = line.split()
                if fid in fids:
                    counts[int(tid)] = counts.get(int(tid), 0) + 1
    return counts


# ---- SIGKILL at a random moment ----

KILLED = """
    import os, threading

    def work(x):
        for _ in range(10):
            x += 1
        return x

    def worker():
        tid = threading.get_native_id()
        done = 0
        while True:
            for _ in range(500):
                work(done)
            done += 500
            # Progress after the calls: every call counted here has returned.
            os.write(1, b"P %d %d\\n" % (tid, done))

    for _ in range(3):
        threading.Thread(target=worker, daemon=True).start()
    threading.Event().wait()
    """


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_loses_at_most_the_open_chunks(py, tmp_path, seed):
    """Killed at a random point of a 3-thread run: the trace converts (reported as cut
    short), and each thread lost at most the one chunk it was filling: its recorded calls
    fall short of the calls it reported as finished by at most a chunk's worth."""
    rng = random.Random("%s-%d" % (py, seed))
    kill_at = rng.randrange(60_000, 400_000)   # calls finished, all threads
    script = write(tmp_path, "killed.py", KILLED)
    out = tmp_path / "traces"
    proc = subprocess.Popen(record_cmd(py, out, [str(script)]), cwd=tmp_path,
                            env=env_for_recording(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    reported = {}
    reached = threading.Event()

    def read_progress():
        for line in proc.stdout:
            _, tid, done = line.split()
            reported[int(tid)] = int(done)
            if sum(reported.values()) >= kill_at:
                reached.set()
        reached.set()

    reader = threading.Thread(target=read_progress)
    reader.start()
    try:
        assert reached.wait(120), "the program made no progress"
        time.sleep(rng.uniform(0, 0.05))
    finally:
        proc.kill()
        reader.join()
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert len(reported) == 3

    files = trace_files(out)
    assert len(files) == 1
    res = convert(out, tmp_path / "profile.json")
    assert res.returncode == 3, res.stderr
    assert "no trailer: the trace was cut short" in res.stderr
    recorded = calls_per_thread(files[0], "work")
    for tid, done in reported.items():
        lost = done - recorded.get(tid, 0)
        assert lost <= CHUNK_EVENTS_MAX // 2, (tid, done, recorded.get(tid), kill_at)
