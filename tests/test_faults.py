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

# FT_DEFAULT_BUFFER_SIZE (record/tstate.h): a thread's buffer. A chunk ends at a quarter of
# it in entries (events and the markers among them, FORMAT.md §4.4.1), so it holds at most
# this many events: what a thread may lose when the process is killed.
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


# The writer's two ways (record/writer.c): inline, a full chunk is in the file before its
# thread records again, so a thread loses at most the chunk it was filling; with the
# compressor thread (FUNCTIONTRACE_WRITER=thread), at most two more chunks of the process are not
# written yet (the one it is at, and one queued), which may both be this thread's.
WRITER_LOSS = {"inline": 1, "thread": 3}


@pytest.mark.parametrize("writer", sorted(WRITER_LOSS))
@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_loses_at_most_the_open_chunks(py, tmp_path, seed, writer):
    """Killed at a random point of a 3-thread run: the trace converts (reported as cut
    short), and each thread lost at most the one chunk it was filling (and, with the
    compressor thread, the two it may not have written yet): its recorded calls fall short of
    the calls it reported as finished by at most that many chunks' worth."""
    rng = random.Random("%s-%d-%s" % (py, seed, writer))
    kill_at = rng.randrange(60_000, 400_000)   # calls finished, all threads
    script = write(tmp_path, "killed.py", KILLED)
    out = tmp_path / "traces"
    proc = subprocess.Popen(record_cmd(py, out, [str(script)]), cwd=tmp_path,
                            env=env_for_recording({"FUNCTIONTRACE_WRITER": writer}),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    reported = {}
    reached = threading.Event()

    def read_progress():
        for line in proc.stdout:
            _, tid, done = line.split()
            reported[int(tid)] = int(done)
            # Every thread under way (one may run alone for a while on a busy machine).
            if len(reported) == 3 and sum(reported.values()) >= kill_at:
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
        assert lost <= WRITER_LOSS[writer] * CHUNK_EVENTS_MAX // 2, \
            (tid, done, recorded.get(tid), kill_at)


# ---- a full disk, a file size limit, an unwritable directory ----

# Makes ~1.2 million events (about as many bytes of trace), far more than the space given.
BUSY = """
    import sys
    def f(i):
        return i + 1
    def main():
        total = 0
        for i in range(600_000):
            total += f(i)
        print("sum", total)
        print("to stderr", file=sys.stderr)
        sys.exit(3)
    main()
    """

SPACE = 64 << 10


def run(cmd, cwd, preexec_fn=None):
    return subprocess.run(cmd, cwd=cwd, env=env_for_recording(), capture_output=True,
                          timeout=120, preexec_fn=preexec_fn)


def ours_and_theirs(stderr):
    """Our lines (functiontrace: ...) and the program's, from a traced run's stderr."""
    lines = stderr.decode().splitlines(keepends=True)
    ours = [line for line in lines if line.startswith("functiontrace: ")]
    return ours, "".join(line for line in lines if not line.startswith("functiontrace: "))


def assert_same_program(plain, traced):
    assert traced.returncode == plain.returncode
    assert traced.stdout == plain.stdout
    ours, theirs = ours_and_theirs(traced.stderr)
    assert theirs == plain.stderr.decode()
    return ours


def assert_drop_recorded(out, tmp_path, summary):
    """The trace says what was dropped: the converter reads what reached the disk and
    reports the trailer's count of dropped events (or a file cut short when not even the
    trailer fitted), and the recorder's summary line gives the same count."""
    files = trace_files(out)
    assert len(files) == 1
    res = convert(out, tmp_path / "profile.json")
    assert res.returncode == 3, res.stderr
    assert (tmp_path / "profile.json").stat().st_size > 0
    m = re.search(r"could not write (\d+) events \(trailer\)", res.stderr)
    if m is None:
        assert "no trailer" in res.stderr, res.stderr
        return
    dropped = int(m.group(1))
    assert dropped > 0
    assert "(%d events dropped)" % dropped in summary, summary


@pytest.fixture
def tmpfs(tmp_path):
    """Mounts a tmpfs of SPACE bytes (root only): a disk that fills up."""
    mnt = tmp_path / "small"
    mnt.mkdir()

    def mount(options):
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mnt)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip("cannot mount a tmpfs: " + res.stderr.strip())
        mounted.append(mnt)
        return mnt

    mounted = []
    yield mount
    for m in mounted:
        subprocess.run(["umount", str(m)], check=True)


def test_disk_full(py, tmp_path, tmpfs):
    disk = tmpfs("size=%d" % SPACE)
    script = write(tmp_path, "busy.py", BUSY)
    plain = run([py, str(script)], tmp_path)
    traced = run(record_cmd(py, disk / "traces", [str(script)], quiet=False), tmp_path)
    ours = assert_same_program(plain, traced)
    # One line when the disk filled up, and the usual summary, which counts the loss.
    assert len(ours) == 2, ours
    assert "No space left on device" in ours[0] and "events are dropped" in ours[0]
    assert_drop_recorded(disk / "traces", tmp_path, ours[1])


def test_disk_full_children(py, tmp_path, tmpfs):
    """The disk fills up before the program starts its children: each child runs as it
    would have and says once that its events are lost (its trace could not be created,
    or could not be written past its start)."""
    disk = tmpfs("size=%d" % SPACE)
    script = write(tmp_path, "kids.py", """
        import subprocess, sys
        def f(i):
            return i + 1
        for i in range(300_000):
            f(i)
        for k in range(2):
            subprocess.run([sys.executable, "-c",
                            "def g(i): return i\\nfor i in range(200_000): g(i)\\n"
                            "print('child done')"], check=True)
        print("parent done")
        """)
    plain = run([py, str(script)], tmp_path)
    traced = run(record_cmd(py, disk / "traces", [str(script)], quiet=False), tmp_path)
    ours = assert_same_program(plain, traced)
    assert plain.stdout == b"child done\nchild done\nparent done\n"
    # The root's failure, one line per child, the summary.
    assert len(ours) == 4, ours
    assert all("No space left on device" in line for line in ours[:3]), ours
    res = convert(disk / "traces", tmp_path / "profile.json")
    assert res.returncode == 3, res.stderr


def limit_file_size():
    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (SPACE, SPACE))
    return preexec


# CPython ignores SIGXFSZ from start-up on (as it does SIGPIPE): a Python program that writes
# past RLIMIT_FSIZE gets EFBIG (OSError "File too large"), not the signal. So do the
# recorder's own writes, whatever the disposition the interpreter inherited.
@pytest.mark.parametrize("inherited", ["SIG_DFL", "SIG_IGN"])
def test_file_size_limit(py, tmp_path, inherited):
    """RLIMIT_FSIZE: the trace's write fails with EFBIG and the program goes on."""
    script = write(tmp_path, "busy.py", BUSY)
    limit = limit_file_size()

    def preexec():
        limit()
        signal.signal(signal.SIGXFSZ, getattr(signal, inherited))

    plain = run([py, str(script)], tmp_path, preexec)
    traced = run(record_cmd(py, tmp_path / "traces", [str(script)], quiet=False), tmp_path,
                 preexec)
    ours = assert_same_program(plain, traced)
    assert len(ours) == 2, ours
    assert "File too large" in ours[0] and "events are dropped" in ours[0]
    assert_drop_recorded(tmp_path / "traces", tmp_path, ours[1])


def test_program_exceeding_file_size_limit(py, tmp_path):
    """The program itself writes past RLIMIT_FSIZE: it fails the same way traced or not."""
    script = write(tmp_path, "big.py", """
        print("writing")
        with open("big.out", "wb") as f:
            f.write(b"x" * (%d * 2))
        print("not reached")
        """ % SPACE)
    plain = run([py, str(script)], tmp_path, limit_file_size())
    traced = run(record_cmd(py, tmp_path / "traces", [str(script)]), tmp_path,
                 limit_file_size())
    assert plain.returncode == 1 and b"File too large" in plain.stderr
    assert_same_program(plain, traced)


def test_file_size_limit_program_restores_sigxfsz(py, tmp_path):
    """A program that restores SIGXFSZ's default action (kill) and writes no file: untraced
    it never exceeds RLIMIT_FSIZE, so the trace's writes must not kill it either."""
    script = write(tmp_path, "busy_dfl.py", "import signal\n"
                   "signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n" + textwrap.dedent(BUSY))
    plain = run([py, str(script)], tmp_path, limit_file_size())
    traced = run(record_cmd(py, tmp_path / "traces", [str(script)], quiet=False), tmp_path,
                 limit_file_size())
    ours = assert_same_program(plain, traced)
    assert len(ours) == 2, ours
    assert_drop_recorded(tmp_path / "traces", tmp_path, ours[1])


def unwritable_dirs(tmp_path, tmpfs):
    """Output directories the recorder cannot create its run in."""
    (tmp_path / "a-file").write_text("")
    yield tmp_path / "a-file" / "traces"               # ENOTDIR
    if os.geteuid() == 0:
        yield tmpfs("ro,size=%d" % SPACE)              # EROFS: root writes anywhere else
    else:
        ro = tmp_path / "read-only"
        ro.mkdir(mode=0o555)
        yield ro                                       # EACCES


@pytest.mark.parametrize("quiet", [True, False])
def test_unwritable_output_dir(py, tmp_path, tmpfs, quiet):
    """The run cannot be created: the program runs untraced, exactly as it would have, and
    the recorder says once why there is no trace (quiet or not)."""
    script = write(tmp_path, "busy.py", BUSY)
    plain = run([py, str(script)], tmp_path)
    for out in unwritable_dirs(tmp_path, tmpfs):
        traced = run(record_cmd(py, out, [str(script)], quiet=quiet), tmp_path)
        ours = assert_same_program(plain, traced)
        assert len(ours) == 1 and "the program runs untraced" in ours[0], ours
        if out.is_dir():
            assert not list(out.glob("**/*.ftrace"))


# ---- memory stays bounded ----

LONG_RUN = """
    import threading

    CALLS = %d
    progress = [0, 0, 0]

    def work(x):
        return x + 1

    def worker(k):
        for i in range(CALLS // 10_000):
            for j in range(10_000):
                work(j)
            progress[k] = (i + 1) * 10_000
            if k == 0:
                # Sampled by a worker, between its blocks of calls: as many samples however
                # the threads are scheduled (a sampling thread may starve on a busy machine).
                print("rss", sum(progress), rss_kib(), flush=True)

    def rss_kib():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("rss", sum(progress), rss_kib(), flush=True)
    """


def test_memory_stays_flat(py, tmp_path):
    """3 threads, 3.6 million calls (7.2 million events): the traced program's resident
    memory, sampled from inside it, stops growing once every thread has its buffer: what
    was recorded is written and its memory reused, nothing is kept per event."""
    calls = 1_200_000
    script = write(tmp_path, "long.py", LONG_RUN % calls)
    res = run(record_cmd(py, tmp_path / "traces", [str(script)]), tmp_path)
    assert res.returncode == 0, res.stderr
    samples = [tuple(map(int, line.split()[1:])) for line in res.stdout.decode().splitlines()]
    total = 3 * calls
    # From a quarter of the run on (buffers allocated, functions interned, zstd warmed up).
    after = [rss for done, rss in samples if done >= total // 4]
    assert len(after) >= 5, samples
    growth = max(after) - after[0]
    # 2 MiB for the last 5.4 million events: a leak of one byte per event would show.
    assert growth < 2 << 10, samples
    # ...and the events are all in the trace, none dropped.
    conv = subprocess.run([CONVERT, str(tmp_path / "traces"), "-o", "-"], capture_output=True,
                          text=False, timeout=120)
    assert conv.returncode == 0, conv.stderr
    events = int(re.search(rb"samples from (\d+) events", conv.stderr).group(1))
    assert events >= 2 * total
