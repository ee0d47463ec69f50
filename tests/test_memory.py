"""Memory tracing (--memory, FORMAT.md §4.7): from the recorder to the profile's native
allocations.

samples/memory.py keeps 30 blocks of 1 MB made by make_big, frees the 20 blocks of 1 MB
make_temp made, and keeps 10 blocks of 500 kB made on the thread "allocator". The converted
profile must show each block on the right thread, under the function that allocated it, with
its size, and each free balanced against its block; the Firefox Profiler's own code must show
make_big as what retains the memory. Hand-built traces pin down the converter's rules
(frees matched across threads, frees of unknown blocks dropped, filters, damaged input)."""

import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import CONVERT, ROOT, ffprofiler_check
import ffprofile
import refdecode
import tracebuild as tb

FTDUMP = ROOT / "build" / "ftdump"
SAMPLE = ROOT / "samples" / "memory.py"
MB = 1000 * 1000
ALLOC, FREE = 66, 67


def allocations(thread):
    """The thread's nativeAllocations as dicts: time, weight, address, thread id, and the
    stack as a tuple of function names (root first)."""
    t = thread.raw
    na = t.get("nativeAllocations")
    if na is None:
        return []
    path_of = ffprofile._stack_paths(t)
    assert na["weightType"] == "bytes"
    n = na["length"]
    for key in ("time", "weight", "stack", "memoryAddress", "threadId"):
        assert len(na[key]) == n, key
    return [{"time": na["time"][i], "weight": na["weight"][i], "addr": na["memoryAddress"][i],
             "tid": na["threadId"][i], "stack": path_of(na["stack"][i])} for i in range(n)]


def retained(threads):
    """Bytes still allocated at the end, per (thread name, leaf function), replaying every
    thread's allocations and frees in time order by address."""
    entries = sorted(((a["time"], i, th.name, a) for th in threads
                      for i, a in enumerate(allocations(th))), key=lambda e: (e[0], e[1]))
    live = {}
    for _, _, name, a in entries:
        if a["weight"] >= 0:
            live[a["addr"]] = (name, a["stack"][-1] if a["stack"] else None, a["weight"])
        else:
            assert a["addr"] in live, a
            assert live.pop(a["addr"])[2] == -a["weight"], a
    out = {}
    for name, leaf, size in live.values():
        out[(name, leaf)] = out.get((name, leaf), 0) + size
    return out


def record_sample(rec, *extra):
    res = rec.record(["--memory", *extra, str(SAMPLE)])
    assert res.returncode == 0, res.stderr.decode()
    return res, rec.convert()


@pytest.mark.parametrize("mode", ["all", "python"])
def test_memory_in_profile(rec, mode):
    res, profile = record_sample(rec, "--mode", mode)
    plain = rec.run_plain([str(SAMPLE)])
    assert res.stdout == plain.stdout and res.returncode == plain.returncode

    threads = ffprofile.threads(profile)
    (main,) = [t for t in threads if t.is_main]
    (worker,) = [t for t in threads if t.name == "allocator"]
    main_allocs, worker_allocs = allocations(main), allocations(worker)
    assert all(a["tid"] == main.tid for a in main_allocs)
    assert all(a["tid"] == worker.tid for a in worker_allocs)

    def big_blocks(allocs, leaf, size):
        return [a for a in allocs if a["weight"] >= size and a["stack"][-1:] == (leaf,)]

    # Every block where it was made, with its size (the bytes object's header included).
    big = big_blocks(main_allocs, "make_big", MB)
    temp = big_blocks(main_allocs, "make_temp", MB)
    mine = big_blocks(worker_allocs, "thread_alloc", MB // 2)
    assert len(big) == 30 and len(temp) == 20 and len(mine) == 10, (len(big), len(temp), len(mine))
    assert all(MB <= a["weight"] < MB + 100 for a in big + temp)
    assert all(MB // 2 <= a["weight"] < MB // 2 + 100 for a in mine)
    assert sum(a["weight"] for a in main_allocs if a["stack"][-1:] == ("make_big",)) >= 30 * MB
    # Nothing of one thread's shows on the other.
    assert not big_blocks(worker_allocs, "make_big", 1)
    assert not big_blocks(main_allocs, "thread_alloc", 1)
    # make_temp's blocks are freed, each by one free of its own size, after it was made.
    for a in temp:
        frees = [f for f in main_allocs if f["addr"] == a["addr"] and f["weight"] < 0
                 and f["time"] >= a["time"]]
        assert frees and frees[0]["weight"] == -a["weight"], a
        assert "make_temp" in frees[0]["stack"]

    kept = retained(threads)
    assert kept.get((main.name, "make_big"), 0) >= 30 * MB
    assert kept.get((main.name, "make_temp"), 0) < MB
    assert kept.get((worker.name, "thread_alloc"), 0) >= 5 * MB

    # The process's memory track: the changes add up to what is retained at the end.
    (counter,) = profile["counters"]
    assert counter["category"] == "Memory" and counter["pid"] == main.pid
    assert profile["threads"][counter["mainThreadIndex"]] is main.raw
    samples = counter["samples"]
    assert samples["length"] == len(samples["time"]) == len(samples["count"])
    assert samples["time"] == sorted(samples["time"])
    assert sum(samples["count"]) == sum(kept.values())
    out = ffprofiler_check(rec.tmp / "profile.json", "counter", "list")
    assert "c-0: Memory" in out, out

    # The profiler's own code: make_big retains nearly all the main thread's memory, and
    # thread_alloc all of the worker's.
    out = ffprofiler_check(rec.tmp / "profile.json", "thread", "samples-top-down", "--thread",
                           "t-0", "--strategy", "native-retained-allocations")
    m = re.search(r"make_big \[total: ([\d.]+)%", out)
    assert m and float(m.group(1)) > 90, out
    out = ffprofiler_check(rec.tmp / "profile.json", "thread", "samples-top-down", "--thread",
                           "t-1", "--strategy", "native-allocations")
    m = re.search(r"thread_alloc \[total: ([\d.]+)%", out)
    assert m and float(m.group(1)) > 90, out


def test_no_memory_records_without_the_flag(rec):
    res = rec.record([str(SAMPLE)])
    assert res.returncode == 0, res.stderr.decode()
    (trace,) = rec.trace_files()
    t = refdecode.read_trace(str(trace))
    assert t["errors"] == [] and all(not th["memory"] for th in t["threads"].values())
    assert "memory_records" not in t["trailer"]
    profile = rec.convert()
    assert all("nativeAllocations" not in th for th in profile["threads"])


def test_every_reader_takes_memory_records(rec):
    """The decoders agree on them; the summary lists the functions that allocated most; the
    Chrome output ignores them."""
    record_sample(rec)
    (trace,) = rec.trace_files()
    res = subprocess.run([CONVERT, "-q", "--summary", str(rec.tmp / "traces")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    main = res.stdout.split('"MainThread"')[1]
    table = main.split("by bytes allocated")[1].splitlines()
    assert "make_big" in table[2] and int(table[2].split()[1]) >= 30 * MB, table[:4]
    res = subprocess.run([CONVERT, "-q", "--format", "chrome", str(rec.tmp / "traces"), "-o",
                          str(rec.tmp / "chrome.json")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([CONVERT, "--info", str(rec.tmp / "traces")], capture_output=True,
                         text=True)
    assert res.returncode == 0 and ", memory records: " in res.stdout, res.stdout + res.stderr
    c_dump = subprocess.run([str(FTDUMP), str(trace)], capture_output=True, text=True)
    assert c_dump.returncode == 0, c_dump.stderr
    py_dump = subprocess.run([sys.executable, str(ROOT / "tests" / "refdecode.py"), str(trace)],
                             capture_output=True, text=True)
    assert py_dump.returncode == 0, py_dump.stderr
    assert c_dump.stdout.count("\nalloc ") > 60 and c_dump.stdout.count("\nfree ") > 20
    assert c_dump.stdout == py_dump.stdout
    # The trailer counts them (FORMAT.md §4.5, 1.3).
    t = refdecode.read_trace(str(trace))
    assert t["trailer"]["memory_records"] == sum(len(th["memory"]) for th in t["threads"].values())


CHILDREN = """
    import functiontrace, os, subprocess, sys
    MB = 1000 * 1000
    def child_blocks():
        return [bytes(MB) for _ in range(3)]
    def api_blocks():
        return [bytes(MB) for _ in range(2)]
    if sys.argv[1:] == ["child"]:
        keep = child_blocks()
    elif sys.argv[1:] == ["api"]:
        with functiontrace.record(output_dir=sys.argv[0] + ".api", memory=True, quiet=True):
            keep = api_blocks()
    else:
        subprocess.run([sys.executable, __file__, "child"], check=True)
        pid = os.fork()
        if pid == 0:
            keep = child_blocks()
            os._exit(0)
        os.waitpid(pid, 0)
        keep = child_blocks()
"""


def big_allocs(trace):
    t = refdecode.read_trace(str(trace))
    assert t["errors"] == [], t["errors"]
    return [m for th in t["threads"].values() for m in th["memory"]
            if m[1] == "ALLOC" and m[3] >= MB]


def test_children_and_api_record_memory(rec):
    script = rec.tmp / "children.py"
    script.write_text(textwrap.dedent(CHILDREN))
    res = rec.record(["--memory", str(script)])
    assert res.returncode == 0, res.stderr.decode()
    traces = rec.trace_files()
    assert len(traces) == 3          # the run, its subprocess, its fork child
    for trace in traces:
        assert len(big_allocs(trace)) >= 3, trace
    # functiontrace.record(memory=True), from a program run plainly.
    res = rec.run_plain([str(script), "api"])
    assert res.returncode == 0, res.stderr.decode()
    (trace,) = sorted((rec.tmp / "children.py.api").glob("*/*.ftrace"))
    assert len(big_allocs(trace)) >= 2


OTHER_HOOK = """
    # Another tool wraps the allocators after the recorder started: stopping the recorder
    # leaves its chain alone, and both keep working.
    import ctypes, functiontrace, sys
    with functiontrace.record(output_dir=sys.argv[1], memory=True, quiet=True):
        import tracemalloc
        tracemalloc.start()
        data = [bytes(1000) for _ in range(100)]
    more = [bytes(1000) for _ in range(100)]
    snap = tracemalloc.take_snapshot()
    tracemalloc.stop()
    print(len(data) + len(more), sum(s.size for s in snap.statistics("filename")) > 100000)
"""


def test_another_allocator_hook_after_ours(rec):
    script = rec.tmp / "other.py"
    script.write_text(textwrap.dedent(OTHER_HOOK))
    res = rec.run_plain([str(script), str(rec.tmp / "t")])
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout.decode().split() == ["200", "True"]


# ---- the converter's rules, on hand-built traces -------------------------------------------

def convert(src, out, *args):
    res = subprocess.run([CONVERT, str(src), "-o", str(out), *args], capture_output=True,
                         text=True, timeout=60)
    return res, ffprofile.load(out) if out.exists() else None


def two_threads(d, damaged=False):
    """Thread 100 allocates 4096 (300 bytes) in f and 8192 (50 bytes) in g, reallocates
    8192 in place to 80 bytes; thread 101 frees 4096 and a block it never saw (12288),
    then 8192. Times: t0 + 1000 per step."""
    t0 = tb.MONO0 + 1000
    t = tb.Trace(tb.header(100, format_minor=3, start_reason="run"))
    t.block([tb.FUNC, 0, 0, "f", "m", "/a.py", 1], [tb.FUNC, 1, 0, "g", "m", "/a.py", 5],
            [tb.FUNC, 2, 0, "h", "m", "/a.py", 9])
    main = [[tb.CHUNK, 100, 0, t0, "MainThread"],
            [tb.CALL, 0, 0], [ALLOC, 500, 4096, 300],
            [tb.CALL, 1000, 1], [ALLOC, 10, 8192, 50], [FREE, 20, 8192], [ALLOC, 20, 8192, 80],
            [tb.RETURN, 1000, 1], [tb.RETURN, 1000, 0]]
    if damaged:
        cut = tb.pack([ALLOC, 5, 1 << 40, 7])[:-3]
        t.block(*main[:3], cut)
    else:
        t.block(*main)
    t.block([tb.CHUNK, 101, 0, t0 + 5000, "worker"],
            [tb.CALL, 0, 2], [FREE, 100, 4096], [FREE, 200, 12288], [FREE, 300, 8192],
            [tb.RETURN, 1000, 2])
    t.trailer(end_ns=t0 + 10_000)
    return t.write(d / "100.ftrace")


def by_tid(profile):
    return {th.tid: th for th in ffprofile.threads(profile)}


def test_frees_matched_across_threads(tmp_path):
    d = tmp_path / "20250101-000000-100"
    two_threads(d)
    res, profile = convert(d, tmp_path / "p.json")
    assert res.returncode == 0, res.stderr
    assert "1 frees of blocks allocated before recording started" in res.stderr
    th = by_tid(profile)
    main = [(a["stack"], a["weight"], a["addr"]) for a in allocations(th[100])]
    assert main == [(("f",), 300, 4096), (("f", "g"), 50, 8192), (("f", "g"), -50, 8192),
                    (("f", "g"), 80, 8192)]
    worker = [(a["stack"], a["weight"], a["addr"], a["tid"]) for a in allocations(th[101])]
    assert worker == [(("h",), -300, 4096, 101), (("h",), -80, 8192, 101)]
    # Off the dt chain: each record is timed from the event before it, not from the record
    # before it.
    times = [a["time"] for a in allocations(th[100])]
    assert times == pytest.approx([0.0015, 0.00201, 0.00202, 0.00202])
    ffprofiler_check(tmp_path / "p.json", "thread", "samples-top-down", "--thread", "t-0",
                     "--strategy", "native-retained-allocations")


def test_filters_keep_memory_balanced(tmp_path):
    d = tmp_path / "20250101-000000-100"
    two_threads(d)
    # Only the worker: its frees of blocks the main thread allocated are dropped too.
    res, profile = convert(d, tmp_path / "tid.json", "--tid", "101")
    assert res.returncode == 0, res.stderr
    (worker,) = ffprofile.threads(profile)
    assert allocations(worker) == []
    # A window from 2 µs: f's block is out of view, so is its free; g's are in.
    res, profile = convert(d, tmp_path / "win.json", "--from", "0.000002")
    assert res.returncode == 0, res.stderr
    th = by_tid(profile)
    assert [a["weight"] for a in allocations(th[100])] == [50, -50, 80]
    assert [a["weight"] for a in allocations(th[101])] == [-80]


def test_truncated_alloc_record_keeps_the_rest(tmp_path):
    d = tmp_path / "20250101-000000-100"
    path = two_threads(d, damaged=True)
    res, profile = convert(d, tmp_path / "p.json")
    assert res.returncode == 3, res.stderr
    assert str(path) in res.stderr and "rest of the frame skipped" in res.stderr
    th = by_tid(profile)
    assert [a["weight"] for a in allocations(th[100])] == [300]
    # The worker's chunk is whole: its free of 4096 is matched, the others dropped.
    assert [a["weight"] for a in allocations(th[101])] == [-300]
    ffprofiler_check(tmp_path / "p.json")


def test_block_freed_unseen(tmp_path):
    """An address allocated again while its block is live: that block was freed without a
    FREE record; the converter frees it there (no stack), so it is not retained forever."""
    d = tmp_path / "20250101-000000-100"
    t0 = tb.MONO0 + 1000
    t = tb.Trace(tb.header(100, format_minor=3, start_reason="run"))
    t.block([tb.FUNC, 0, 0, "f", "m", "/a.py", 1])
    t.block([tb.CHUNK, 100, 0, t0, "MainThread"], [tb.CALL, 0, 0], [ALLOC, 10, 4096, 10],
            [ALLOC, 20, 4096, 20], [FREE, 30, 4096], [tb.RETURN, 1000, 0])
    # Another thread, reusing one address twice, between frees it does see.
    t.block([tb.CHUNK, 101, 0, t0 + 5000, "worker"], [tb.CALL, 0, 0],
            [ALLOC, 1, 8192, 7], [FREE, 2, 12288], [ALLOC, 3, 8192, 30], [ALLOC, 4, 8192, 40],
            [FREE, 5, 8192], [tb.RETURN, 1000, 0])
    t.trailer(end_ns=t0 + 10_000)
    t.write(d / "100.ftrace")
    res, profile = convert(d, tmp_path / "p.json")
    assert res.returncode == 0, res.stderr
    th = by_tid(profile)
    assert [(a["stack"], a["weight"]) for a in allocations(th[100])] == [
        (("f",), 10), ((), -10), (("f",), 20), (("f",), -20)]
    assert [(a["stack"], a["weight"]) for a in allocations(th[101])] == [
        (("f",), 7), ((), -7), (("f",), 30), ((), -30), (("f",), 40), (("f",), -40)]
    assert sum(profile["counters"][0]["samples"]["count"]) == 0
    ffprofiler_check(tmp_path / "p.json", "counter", "list")


def test_size_warning_counts_memory_records(tmp_path):
    """The estimate before converting counts each memory record the trailer announces
    (about 42 bytes of JSON each), not only the events."""
    d = tmp_path / "20250101-000000-100"
    t = tb.Trace(tb.header(100, format_minor=3, start_reason="run"))
    t.calls(100, 0, ["f"])
    t.trailer(memory_records=2_000_000)
    t.write(d / "100.ftrace")
    res, _ = convert(d, tmp_path / "p.json", "--warn-size", "50")
    assert "will be about 84.0 MB of JSON" in res.stderr, res.stderr
