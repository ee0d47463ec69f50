"""ft-convert on bad input (issue 6): every kind of damage gets a message naming the file,
the offset where there is one, and the reason; everything readable is converted; the exit
status says whether the profile is complete (0), incomplete (3) or not written (1).

"Everything readable" is measured against tests/refdecode.py, the reference decoder written
from FORMAT.md alone: ft-convert must read as many events from a damaged file as it does.
Synthetic traces come from tests/tracebuild.py (Python, independent of the C encoder)."""

import re
import subprocess
from pathlib import Path

import pytest

from conftest import CONVERT, PYTHONS, ROOT, _python_id, env_for_recording, ffprofiler_check
import ffprofile
import refdecode
import tracebuild as tb

RUN = "20250101-000000-100"     # the run id of the synthetic traces (root pid 100)
LINE = re.compile(r"^ft-convert: (.+?): (?:offset (\d+): )?(.*)$")
STATS = re.compile(r"wrote .*: (\d+) process(?:es)?, (\d+) threads?, \d+ samples from "
                   r"(\d+) events")


class Converted:
    def __init__(self, res, out):
        self.rc = res.returncode
        self.stderr = res.stderr
        m = STATS.search(res.stderr)
        self.events = int(m.group(3)) if m else None
        self.profile = ffprofile.load(out) if out.exists() else None
        self.out = out

    def problems(self, path):
        """(offset or None, reason) of every message about path."""
        out = []
        for line in self.stderr.splitlines():
            m = LINE.match(line)
            if m and m.group(1) == str(path):
                out.append((int(m.group(2)) if m.group(2) else None, m.group(3)))
        return out

    def names(self):
        return set().union(*(t.names() for t in ffprofile.threads(self.profile)))

    def pids(self):
        return {t.pid for t in ffprofile.threads(self.profile)}


def convert(src, out):
    res = subprocess.run([CONVERT, str(src), "-o", str(out)], capture_output=True, text=True,
                         timeout=120)
    return Converted(res, out)


def ref_events(path):
    """Events the reference decoder reads from path, and the names of the functions called."""
    t = refdecode.read_trace(path)
    events = [e for th in t["threads"].values() for e in th["events"]]
    names = {t["functions"][fid]["name"] for _, kind, fid in events
             if kind == "CALL" and fid in t["functions"]}
    return len(events), names


def frame_offsets(data):
    return [off for kind, off, _ in refdecode.frames(data) if kind == "frame"]


@pytest.fixture(scope="module")
def real_trace(tmp_path_factory):
    """A real trace of samples/threads.py (four threads, several data frames), recorded
    once with the newest interpreter under test: the damage is what varies here."""
    tmp = tmp_path_factory.mktemp("real")
    newest = max(PYTHONS, key=lambda py: tuple(map(int, _python_id(py)[2:].split("."))))
    res = subprocess.run([newest, "-m", "functiontrace.record", "-q", "-o",
                          str(tmp / "traces"), str(ROOT / "samples" / "threads.py")],
                         capture_output=True, cwd=tmp, env=env_for_recording(), timeout=120)
    assert res.returncode == 0, res.stderr
    (path,) = (tmp / "traces").glob("*/*.ftrace")
    data = path.read_bytes()
    assert len(frame_offsets(data)) >= 6, "threads.py should give several data frames"
    return path.name, data


def run_dir(tmp_path):
    d = tmp_path / "traces" / RUN
    d.mkdir(parents=True, exist_ok=True)
    return d


# ---- truncated files ----------------------------------------------------------------------

def cut_points(data):
    frames = frame_offsets(data)
    pts = {0, 1, 15, 23, 24, 25, 30, len(data) - 1}
    for off in frames[1:]:
        pts |= {off - 1, off, off + 1, off + 7}
    pts |= set(range(40, len(data), len(data) // 10))
    return sorted(p for p in pts if 0 <= p < len(data))


def test_truncated_at_many_offsets(real_trace, tmp_path):
    name, data = real_trace
    frames = frame_offsets(data)
    checked_in_firefox = 0
    for cut in cut_points(data):
        d = tmp_path / ("cut%d" % cut)
        path = d / name
        d.mkdir()
        path.write_bytes(data[:cut])
        res = convert(d, d / "p.json")
        events, names = ref_events(path)
        problems = res.problems(path)
        assert problems, (cut, res.stderr)
        if events == 0:
            # Nothing readable (the cut is in the signature or the header frame).
            assert res.rc == 1 and res.profile is None, (cut, res.stderr)
            if cut < 24:
                assert (0, "the file ends inside the signature frame") in problems, res.stderr
            continue
        assert res.rc == 3, (cut, res.stderr)
        assert res.events == events, (cut, res.stderr)
        assert names <= res.names(), (cut, names - res.names())
        offsets = {off for off, reason in problems if "cut short" in reason}
        if cut in frames:
            assert offsets == {cut}, (cut, problems)     # the trailer is what is missing
        else:
            partial = max(off for off in frames if off < cut)
            assert partial in offsets and cut in offsets, (cut, problems)
        if checked_in_firefox < 2 and cut > len(data) // 2:
            ffprofiler_check(res.out, "profile", "info")
            checked_in_firefox += 1
    assert checked_in_firefox == 2


# ---- flipped bytes ------------------------------------------------------------------------

def events_in_block(content):
    """Events of a block, EVENTS records (2.0) expanded."""
    rd = refdecode.MsgpackReader(content)
    return sum(rec[0] in refdecode.EVENTS for _, rec in refdecode.records(rd) if rec)


@pytest.mark.parametrize("where", ["frame-header", "middle", "checksum"])
def test_flipped_bytes_in_a_chunk(real_trace, tmp_path, where):
    name, data = real_trace
    full_events, _ = ref_events_of_bytes(data, tmp_path)
    # The largest data frame: a chunk with many events.
    blocks = [(off, c) for kind, off, c in refdecode.frames(data) if kind == "frame"]
    ends = [off for off, _ in blocks[1:]] + [len(data)]
    (off, content), end = max(zip(blocks, ends), key=lambda b: len(b[0][1]))
    lost = events_in_block(content)
    assert lost > 100
    pos = {"frame-header": off + 6, "middle": (off + end) // 2, "checksum": end - 2}[where]
    bad = bytearray(data)
    bad[pos] ^= 0x5A
    path = run_dir(tmp_path) / name
    path.write_bytes(bytes(bad))
    res = convert(tmp_path / "traces", tmp_path / "p.json")
    assert res.rc == 3, res.stderr
    problems = res.problems(path)
    assert any(o == off and "frame skipped" in reason for o, reason in problems), problems
    events, names = ref_events(path)
    assert events == full_events - lost
    assert res.events == events, res.stderr
    assert names <= res.names()
    ffprofiler_check(res.out, "profile", "info")


@pytest.mark.parametrize("where", ["appended", "over-frames"])
def test_zeroed_blocks_in_a_file(real_trace, tmp_path, where):
    """What a crash of the file system can leave: a run of zero bytes appended to the file,
    or written over a part of it. Said at its offset; reading resumes at the next frame."""
    name, data = real_trace
    frames = frame_offsets(data)
    if where == "appended":
        start, bad = len(data), data + b"\0" * 4096
    else:       # from the middle of frame 3 to the middle of frame 5
        start = (frames[3] + frames[4]) // 2
        stop = (frames[5] + frames[6]) // 2
        bad = data[:start] + b"\0" * (stop - start) + data[stop:]
    path = run_dir(tmp_path) / name
    path.write_bytes(bad)
    res = convert(tmp_path / "traces", tmp_path / "p.json")
    assert res.rc == 3, res.stderr
    events, names = ref_events(path)
    assert res.events == events, res.stderr
    assert names <= res.names()
    problems = res.problems(path)
    if where == "appended":
        full, _ = ref_events_of_bytes(data, tmp_path)
        assert events == full
        assert problems == [(start, "no zstd frame starts here; frame skipped, and the 4096 "
                             "bytes to the end of the file")], problems
    else:
        # Frame 3 fails; its extent ends in the zeros, which are skipped up to frame 6.
        assert any(o == frames[3] and "frame skipped" in r for o, r in problems), problems
        assert (frames[4], "no zstd frame starts here; frame skipped (%d bytes: reading "
                "resumes at offset %d)" % (frames[6] - frames[4], frames[6])) in problems


def ref_events_of_bytes(data, tmp_path):
    p = tmp_path / "ref.ftrace"
    p.write_bytes(data)
    return ref_events(p)


def test_damaged_header_frame(real_trace, tmp_path):
    """The header frame fails its checksum: said at its offset; every event is still
    converted, under the pid of the file name."""
    name, data = real_trace
    full_events, names = ref_events_of_bytes(data, tmp_path)
    bad = bytearray(data)
    bad[frame_offsets(data)[1] - 3] ^= 0xFF      # inside the header frame's checksum
    path = run_dir(tmp_path) / name
    path.write_bytes(bytes(bad))
    res = convert(tmp_path / "traces", tmp_path / "p.json")
    assert res.rc == 3, res.stderr
    problems = res.problems(path)
    assert any(o == 24 and "frame skipped" in r for o, r in problems), problems
    assert any("no header" in r for o, r in problems), problems
    assert res.events == full_events, res.stderr
    assert names <= res.names()
    assert res.pids() == {name.split(".")[0]}
    ffprofiler_check(res.out, "profile", "info")


# ---- not a trace, or not one this converter reads ------------------------------------------

NOT_TRACES = {
    "zeros": b"\0" * 4096,
    "empty": b"",
    "text": b"def main():\n    pass\n" * 20,
    "zstd-of-text": tb.frame(b"hello, this is zstd but no trace\n" * 10),
    "elf": Path("/bin/true").read_bytes()[:4096],
}


@pytest.mark.parametrize("kind", sorted(NOT_TRACES))
def test_not_a_trace(tmp_path, kind):
    d = run_dir(tmp_path)
    bad = d / "100.ftrace"
    bad.write_bytes(NOT_TRACES[kind])
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 1 and res.profile is None, res.stderr
    reason = "the file ends inside the signature frame" if kind == "empty" else \
        "not a functiontrace trace (no signature frame)"
    assert res.problems(bad) == [(0, reason)], res.stderr
    assert "nothing to convert" in res.stderr
    # Next to a good trace: that one is converted, and the result is marked incomplete.
    tb.Trace(tb.header(101, ppid=100, start_reason="child")).calls(101, 0, ["good"]) \
        .trailer().write(d / "101.ftrace")
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 3, res.stderr
    assert res.problems(bad) == [(0, reason)], res.stderr
    assert res.names() == {"good"} and res.pids() == {"101"}


def test_future_major_version(tmp_path):
    d = run_dir(tmp_path)
    t = tb.Trace(tb.header(100), version=3).calls(100, 0, ["from_v3"]).trailer()
    v3 = t.write(d / "100.ftrace")
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 1 and res.profile is None, res.stderr
    assert res.problems(v3) == [
        (0, "trace format version 3; this ft-convert reads versions 1 to 2")], res.stderr
    tb.Trace(tb.header(101, ppid=100, start_reason="child")).calls(101, 0, ["good"]) \
        .trailer().write(d / "101.ftrace")
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 3 and res.names() == {"good"}, res.stderr


def test_header_of_another_major_version(tmp_path):
    """A version-1 signature over a header that says version 3: said, and read as 1."""
    d = run_dir(tmp_path)
    path = tb.Trace(tb.header(100, format_version=3)).calls(100, 0, ["f"]).trailer() \
        .write(d / "100.ftrace")
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 3, res.stderr
    assert any(o == 24 and "version 3" in r for o, r in res.problems(path)), res.stderr
    assert res.names() == {"f"}


def test_future_minor_version_is_read_cleanly(tmp_path):
    """1.7: unknown header and trailer keys, extra fields on every record, unknown record
    types (68-127, 64-67 being 1.2's markers and 1.3's memory records, and others):
    FORMAT.md says a 1.x decoder reads it all, so no problem."""
    d = run_dir(tmp_path)
    t = tb.Trace(tb.header(100, format_minor=7, future_key={"nested": [1, 2, {"x": None}]},
                           start_reason="run"))
    t.block([tb.FUNC, 0, 0, "outer", "mod", "/a.py", 1, "extra", [1, 2]],
            [tb.FUNC, 1, 5, "inner", "mod", "", 0],          # unknown kind: native
            [70, "optional record of 1.7"], [127, {"a": 1}])
    t.block([tb.CHUNK, 1, 0, tb.MONO0 + 10, "MainThread", "extra field"],
            [tb.CALL, 0, 0, 99], [100, b"\x01\x02"], [tb.CALL, 1000, 1],
            [tb.RETURN, 1000, 1, "x", "y"], [99], [tb.RETURN, 1000, 0])
    t.trailer(future_trailer_key="z", end_reason="exit", exit_status=0)
    path = t.write(d / "100.ftrace")
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 0, res.stderr
    assert res.problems(path) == []
    assert res.events == 4 and res.names() == {"outer", "inner"}
    (thread,) = ffprofile.threads(res.profile)
    assert thread.children_of("outer") == {"inner"}
    ffprofiler_check(res.out, "profile", "info")

# Each way an EVENTS record (2.0, FORMAT.md §4.4.1) can be corrupt, after three good events
# (CALL outer, CALL inner, RETURN inner), followed by events of `later`: (ops after the good
# ones, dts after theirs, records after the EVENTS record, where the fault is: "op" at the
# first op after the good ones, "dt+k" k bytes after their dts, "end" the block's end,
# "recs" the first record after the EVENTS record; and
# the events of `later` read before the fault is met).
GOOD_OPS = bytes([0 << 3 | 0, 1 << 3 | 0, 1 << 3 | 1])
GOOD_DTS = bytes([5, 6, 7])
LATER = bytes([2 << 3 | 0, 2 << 3 | 1])
EVENTS_FAULTS = {
    "op-cut-short": (b"\x80", b"", [], "op", 0),
    "op-too-long": (b"\x80" * 10 + b"\x00" + LATER, b"\x01\x01", [], "op", 0),
    "code-5": (bytes([2 << 3 | 5]) + LATER, b"\x01\x01\x01", [], "op", 0),
    "code-6": (bytes([2 << 3 | 6]) + LATER, b"\x01\x01\x01", [], "op", 0),
    "dts-too-short": (LATER, b"\x01", [], "dt+1", 1),
    "dts-left-over": (LATER, b"\x01\x01\x09", [], "dt+2", 2),
    "placeholder-without-record": (b"\x07" + LATER, b"\x01\x01", [], "end", 0),
    "placeholder-taking-events": (b"\x07" + LATER, b"\x01\x01",
                                  [[21, b"", b""]], "recs", 0),
}


@pytest.mark.parametrize("case", sorted(EVENTS_FAULTS))
def test_corrupt_events_record(tmp_path, case):
    """The events before the fault are converted, the fault is named with the file, the
    frame's offset and the byte in it, and the exit status says the input was damaged;
    the reference decoder sees the same fault and the same events before it."""
    ops, dts, recs, where, later = EVENTS_FAULTS[case]
    d = run_dir(tmp_path)
    t = tb.Trace(tb.header(100, format_version=2), version=2)
    t.block(*[[tb.FUNC, i, 0, n, "mod", "/a.py", 1 + i] for i, n in
              enumerate(["outer", "inner", "later"])])
    head = tb.pack([tb.CHUNK, 1, 0, tb.MONO0 + 10, "MainThread"])
    all_ops, all_dts = GOOD_OPS + ops, GOOD_DTS + dts
    body = head + b"\x93" + tb.pack(21) + tb.bin32(all_ops) + tb.bin32(all_dts) + \
        b"".join(tb.bin_record(r) for r in recs)
    frame_at = 24 + sum(len(f) for f in t.frames)
    t.frames.append(tb.frame(body))
    t.trailer()
    path = t.write(d / "100.ftrace")
    ops_at = len(head) + 2 + 5
    dts_at = ops_at + len(all_ops) + 5
    fault = {"op": ops_at + len(GOOD_OPS), "dt+1": dts_at + len(GOOD_DTS) + 1,
             "dt+2": dts_at + len(GOOD_DTS) + 2, "end": len(body),
             "recs": len(body) - sum(len(tb.bin_record(r)) for r in recs)}[where]
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 3, res.stderr
    assert res.problems(path) == [
        (frame_at, "record at byte %d of the frame: corrupt data; rest of the frame skipped"
         % fault)], res.stderr
    want = [("CALL", 0), ("CALL", 1), ("RETURN", 1), ("CALL", 2), ("RETURN", 2)][:3 + later]
    assert res.names() == {"outer", "inner"} | ({"later"} if later else set())
    assert res.events == len(want)
    ref = refdecode.read_trace(str(path))
    assert len(ref["errors"]) == 1 and ref["errors"][0][0] == frame_at, ref["errors"]
    (thread,) = ref["threads"].values()
    assert [(k, f) for _, k, f in thread["events"]] == want
    ffprofiler_check(res.out, "profile", "info")


# ---- directories and runs ------------------------------------------------------------------

def test_empty_directories(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = convert(empty, tmp_path / "p.json")
    assert res.rc == 1 and res.profile is None
    assert res.problems(empty) == [(None, "no .ftrace files and no run directories here")]
    # An output directory whose latest run directory is empty.
    (tmp_path / "out" / "20250101-000000-1").mkdir(parents=True)
    (tmp_path / "out" / "20250102-000000-2").mkdir()
    res = convert(tmp_path / "out", tmp_path / "p.json")
    assert res.rc == 1 and res.profile is None
    assert res.problems(tmp_path / "out" / "20250102-000000-2") == [
        (None, "the latest run directory holds no .ftrace files")], res.stderr


def synthetic_run(d, pids):
    """Root 100 and children with the given pids, one after another, each 1 ms."""
    t = tb.Trace(tb.header(100, argv=["app.py"])).calls(100, 0, ["root_main"])
    t.trailer(end_ns=tb.MONO0 + 50_000_000).write(d / "100.ftrace")
    for k, pid in enumerate(pids):
        start = tb.MONO0 + (k + 1) * 2_000_000
        t = tb.Trace(tb.header(pid, start_ns=start, ppid=100, start_reason="child",
                               argv=["kid%d.py" % k]))
        t.calls(pid, 0, ["kid%d" % k]).trailer(end_ns=start + 1_000_000)
        name = "%d.ftrace" % pid
        if (d / name).exists():
            name = "%d.1.ftrace" % pid
        t.write(d / name)


def test_run_whose_first_process_file_is_missing(tmp_path):
    d = run_dir(tmp_path)
    synthetic_run(d, [101, 102])
    (d / "100.ftrace").unlink()
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 3, res.stderr
    (problem,) = res.problems(d)
    assert problem[0] is None
    assert "pid 100" in problem[1] and "missing" in problem[1], problem
    assert res.pids() == {"101", "102"} and res.names() == {"kid0", "kid1"}
    ffprofiler_check(res.out, "profile", "info")


@pytest.mark.parametrize("kids, pids", [
    ([101, 102], {"100", "101", "102"}),
    ([101, 101], {"100", "101", "101.1"}),      # pid 101 reused after its first process
])
def test_clean_synthetic_runs(tmp_path, kids, pids):
    """The controls for the tests around them: a whole run, and a run with a pid reused by
    a later process, which is not a problem: both convert with status 0."""
    d = run_dir(tmp_path)
    synthetic_run(d, kids)
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 0, res.stderr
    assert res.pids() == pids
    assert res.names() == {"root_main"} | {"kid%d" % k for k in range(len(kids))}


def test_two_runs_mixed_in_one_directory(tmp_path):
    d = run_dir(tmp_path)
    synthetic_run(d, [101])
    other = "20250101-000005-200"
    stray = tb.Trace(tb.header(200, start_ns=tb.MONO0 + 5 * 10**9, run_id=other)) \
        .calls(200, 0, ["other_run"]).trailer().write(d / "200.ftrace")
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 3, res.stderr
    (problem,) = res.problems(stray)
    assert problem[0] == 24 and other in problem[1] and RUN in problem[1], problem
    assert res.problems(d / "100.ftrace") == []
    assert res.pids() == {"100", "101", "200"}    # everything readable is converted
    assert "other_run" in res.names()


def test_pid_shared_by_two_running_processes(tmp_path):
    """Two files of one pid on one host whose lifetimes overlap (a copied file, or two
    hosts that share a name): both are converted, the overlap is a problem."""
    d = run_dir(tmp_path)
    synthetic_run(d, [101])
    files = [d / "101.ftrace", d / "101.1.ftrace"]
    files[1].write_bytes(files[0].read_bytes())
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 3, res.stderr
    # The two start at the same instant: either can be the one said to overlap the other.
    said = [(f, p) for f in files for p in res.problems(f)]
    assert len(said) == 1, res.stderr
    (named, (offset, reason)), (other,) = said[0], set(files) - {said[0][0]}
    assert offset == 24 and "pid 101" in reason and str(other) in reason, reason
    assert res.pids() == {"100", "101", "101.1"}


def thread_starts(profile):
    """{pid: time of the first call} in ms on the profile's time line."""
    return {t.pid: min(c.start for c in t.calls) for t in ffprofile.threads(profile) if t.calls}


def test_other_host_aligned_by_wall_clock(tmp_path):
    """A process of another host: its monotonic clock means nothing here, its wall-clock
    anchor places it (3 ms after the root)."""
    d = run_dir(tmp_path)
    synthetic_run(d, [])
    start = 5 * 10**12
    tb.Trace(tb.header(300, start_ns=start, host="otherhost", ppid=1,
                       wall_anchor_ns=tb.WALL0 + 3_000_000)) \
        .calls(300, 0, ["remote"], t0=start + 1000).trailer(end_ns=start + 10**6) \
        .write(d / "300.ftrace")
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 0, res.stderr
    assert "wall-clock anchors" in res.stderr
    starts = thread_starts(res.profile)
    assert starts["300"] == pytest.approx(3.001, abs=1e-6)
    assert starts["100"] == pytest.approx(0.001, abs=1e-6)


def test_other_boot_aligned_by_wall_clock(tmp_path):
    """Same host, same clock name, but its monotonic clock disagrees with the wall clock by
    hours (recorded after a reboot, or copied in): placed by its anchor, not 10 s early."""
    d = run_dir(tmp_path)
    synthetic_run(d, [])
    start = tb.MONO0 - 10 * 10**9
    tb.Trace(tb.header(300, start_ns=start, ppid=1, wall_anchor_ns=tb.WALL0 + 2 * 3600 * 10**9)) \
        .calls(300, 0, ["after_reboot"], t0=start + 1000).trailer(end_ns=start + 10**6) \
        .write(d / "300.ftrace")
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 0, res.stderr
    starts = thread_starts(res.profile)
    assert starts["300"] == pytest.approx(2 * 3600 * 1000 + 0.001, abs=1e-3)
    assert starts["100"] == pytest.approx(0.001, abs=1e-6)


def test_clocks_that_cannot_be_aligned(tmp_path):
    """Another host's file without a usable wall-clock anchor: nothing places it against
    the others. Said, and the process is converted with its start at time zero."""
    d = run_dir(tmp_path)
    synthetic_run(d, [])
    start = 5 * 10**12
    lost = tb.Trace(tb.header(300, start_ns=start, host="otherhost", ppid=1, wall_anchor_ns=0)) \
        .calls(300, 0, ["unplaceable"], t0=start + 1000).trailer(end_ns=start + 10**6) \
        .write(d / "300.ftrace")
    res = convert(d, tmp_path / "p.json")
    assert res.rc == 3, res.stderr
    (problem,) = res.problems(lost)
    assert problem[0] == 24 and "cannot be aligned" in problem[1], problem
    starts = thread_starts(res.profile)
    assert starts["300"] == pytest.approx(0.001, abs=1e-6)
    ffprofiler_check(res.out, "profile", "info")


def test_exit_statuses_are_documented():
    out = subprocess.run([CONVERT, "--help"], capture_output=True, text=True).stdout
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## ft-convert"):]
    for code in "0123":
        assert re.search(r"^\s+%s\s+\S" % code, out, re.M), out
        assert re.search(r"\b%s\b —" % code, section), code
