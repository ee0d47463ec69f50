"""Markers (FORMAT.md §4.6): what happened besides calls, from the recorder to the profile.

For each kind a sample program produces it; the converted profile must hold the marker on
the right thread, with the right fields, at the right time relative to the calls around it
(the program calls empty functions `before_X` and `after_X` around the thing that makes
the marker), and the Firefox Profiler's own code must list it."""

import json
import subprocess
import sys
import textwrap

import zstandard

from conftest import CONVERT, ROOT, ffprofiler_check
import ffprofile
from tracewriter import Trace, _mp

FTDUMP = ROOT / "build" / "ftdump"


def write(tmp, name, code):
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code))
    return path


def markers(thread):
    """The thread's markers as dicts: name, start, end (None for an instant), data."""
    m = thread.raw["markers"]
    strings = thread.raw["stringArray"]
    return [{"name": strings[m["name"][i]], "start": m["startTime"][i], "end": m["endTime"][i],
             "phase": m["phase"][i], "data": m["data"][i]} for i in range(m["length"])]


def of_type(thread, schema):
    return [m for m in markers(thread) if m["data"].get("type") == schema]


def only_call(thread, name):
    calls = thread.find(name)
    assert len(calls) == 1, (name, calls)
    return calls[0]


def between(thread, marker, before, after):
    """The marker lies after `before` returned and before `after` was called."""
    b, a = only_call(thread, before), only_call(thread, after)
    end = marker["end"] if marker["end"] is not None else marker["start"]
    assert b.end <= marker["start"] <= end <= a.start, (b, marker, a)


def record(rec, script, *args, code=0):
    res = rec.record([str(script), *args])
    assert res.returncode == code, res.stderr.decode()
    profile = rec.convert()
    return res, profile, ffprofile.threads(profile)


def main_of(threads):
    (main,) = [t for t in threads if t.is_main]
    return main


def listed(rec, *names):
    """ffprofiler-check's marker listing (of the selected, main thread) names each of
    `names`."""
    out = ffprofiler_check(rec.tmp / "profile.json", "thread", "markers", "--json")
    found = json.loads(out)
    have = {g["markerName"] for g in found["byType"]}
    for name in names:
        assert name in have, (name, sorted(have))
    return found


PRINTS = """
    import io, sys
    def before_print(): pass
    def after_print(): pass
    class Loud:
        def __str__(self): return "loud!"
    before_print()
    print("a", 1, Loud(), sep="|", end="$\\n")
    print("to err", file=sys.stderr)
    buf = io.StringIO()
    print("to buffer", "x", file=buf, end="")
    print()
    after_print()
    sys.stdout.write("buffer held %r\\n" % buf.getvalue())
"""


def test_print_markers(rec):
    script = write(rec.tmp, "prints.py", PRINTS)
    plain = rec.run_plain([str(script)])
    res, profile, threads = record(rec, script)
    # The program's output is what it is without the recorder.
    assert res.stdout == plain.stdout == b"a|1|loud!$\n\nbuffer held 'to buffer x'\n"
    assert res.stderr == plain.stderr == b"to err\n"
    main = main_of(threads)
    prints = of_type(main, "Print")
    assert [(m["data"]["text"], m["data"]["file"]) for m in prints] == [
        ("a|1|loud!$\n", "stdout"), ("to err\n", "stderr"), ("to buffer x", "StringIO"),
        ("\n", "stdout")]
    for m in prints:
        assert m["name"] == "print" and m["end"] is None and m["phase"] == 0
        between(main, m, "before_print", "after_print")
    found = listed(rec, "print")
    labels = [x["label"] for g in found["byType"] if g["markerName"] == "print"
              for x in g["topMarkers"]]
    assert "a|1|loud!$\n".strip() in [lab.strip() for lab in labels]


LOGS = """
    import logging
    def before_log(): pass
    def after_log(): pass
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
    db = logging.getLogger("app.db")
    quiet = logging.getLogger("app.quiet")
    quiet.propagate = False          # never reaches the root's handler
    quiet.addHandler(logging.NullHandler())
    before_log()
    db.info("connected to %s:%d", "db1", 5432)
    db.debug("below the level: no record")
    quiet.warning("seen by no handler but its own")
    logging.error("root %s", "error")
    after_log()
"""


def test_log_markers(rec):
    script = write(rec.tmp, "logs.py", LOGS)
    plain = rec.run_plain([str(script)])
    res, profile, threads = record(rec, script)
    assert res.stderr == plain.stderr
    main = main_of(threads)
    logs = of_type(main, "Log")
    got = [(m["name"], m["data"]["level"], m["data"]["logger"], m["data"]["message"])
           for m in logs]
    assert got == [("INFO", 20, "app.db", "connected to db1:5432"),
                   ("WARNING", 30, "app.quiet", "seen by no handler but its own"),
                   ("ERROR", 40, "root", "root error")]
    for m in logs:
        assert m["data"]["where"].startswith(str(script)) or \
            m["data"]["where"].endswith(":%d" % 11) or "logs.py" in m["data"]["where"]
        between(main, m, "before_log", "after_log")
    assert logs[0]["data"]["where"].endswith("logs.py:11")
    listed(rec, "INFO", "WARNING", "ERROR")


def test_import_markers_nest(rec):
    write(rec.tmp, "outer_mod.py", """
        def before_inner(): pass
        before_inner()
        import inner_mod
        def after_inner(): pass
        after_inner()
    """)
    write(rec.tmp, "inner_mod.py", """
        def inner_body(): pass
        inner_body()
    """)
    write(rec.tmp, "by_name.py", "")
    script = write(rec.tmp, "imports.py", """
        import importlib
        def before_import(): pass
        def after_import(): pass
        before_import()
        import outer_mod
        import outer_mod              # already imported: no second marker
        importlib.import_module("by_name")
        try:
            import no_such_module_here
        except ImportError:
            pass
        after_import()
    """)
    res, profile, threads = record(rec, script)
    main = main_of(threads)
    imports = {m["data"]["module"]: m for m in of_type(main, "Import")}
    for name in ("outer_mod", "inner_mod", "by_name", "no_such_module_here"):
        assert name in imports, sorted(imports)
        assert [m["data"]["module"] for m in of_type(main, "Import")].count(name) == 1
        m = imports[name]
        assert m["phase"] == 1 and m["end"] >= m["start"] and m["name"] == name
        between(main, m, "before_import", "after_import")
    outer, inner = imports["outer_mod"], imports["inner_mod"]
    # Nested: the inner import lies inside the outer one, and runs the inner module's body.
    assert outer["start"] <= inner["start"] <= inner["end"] <= outer["end"]
    body = only_call(main, "inner_body")
    assert inner["start"] <= body.start <= body.end <= inner["end"]
    assert only_call(main, "before_inner").end <= inner["start"]
    assert inner["end"] <= only_call(main, "after_inner").start
    assert "error" not in outer["data"]
    assert imports["no_such_module_here"]["data"]["error"].startswith("ModuleNotFoundError")
    listed(rec, "outer_mod", "inner_mod")


EXCEPTIONS = """
    import threading
    def before_catch(): pass
    def after_catch(): pass
    def thrower():
        raise ValueError("bad value 7")
    def catcher():
        try:
            thrower()
        except ValueError:
            pass
    def boom():
        raise KeyError("lost")
    before_catch()
    catcher()
    after_catch()
    t = threading.Thread(target=boom, name="boomer")
    t.start()
    t.join()
    def last(): raise RuntimeError("the end")
    last()
"""


def test_exception_markers(rec):
    script = write(rec.tmp, "exc.py", EXCEPTIONS)
    res, profile, threads = record(rec, script, code=1)
    assert b"RuntimeError: the end" in res.stderr
    main = main_of(threads)
    exc = of_type(main, "Exception")
    # Uncaught, on every version: where it was raised, in the thread it escaped from.
    (uncaught,) = [m for m in exc if m["data"]["event"] == "uncaught"]
    assert uncaught["data"]["exception"] == "RuntimeError"
    assert uncaught["data"]["message"] == "the end"
    assert uncaught["data"]["where"].startswith("last (") and "exc.py:20" in \
        uncaught["data"]["where"]
    assert uncaught["start"] >= only_call(main, "last").start
    boomer = [t for t in threads if t.name == "boomer"][0]
    (lost,) = [m for m in of_type(boomer, "Exception") if m["data"]["event"] == "uncaught"]
    assert lost["data"]["exception"] == "KeyError" and "boom (" in lost["data"]["where"]
    # Raised in thrower, handled in catcher, both while catcher runs: on every version
    # (before 3.12 from the frames the hooks see left, test_exception_markers.py).
    mine = [m for m in exc if m["data"]["message"] == "bad value 7"]
    assert [m["data"]["event"] for m in mine] == ["raise", "handled"], mine
    assert mine[0]["data"]["where"].startswith("thrower (")
    assert mine[1]["data"]["where"].startswith("catcher (")
    c = only_call(main, "catcher")
    t = only_call(main, "thrower")
    assert t.start <= mine[0]["start"] <= t.end
    assert t.end <= mine[1]["start"] <= c.end
    assert mine[0]["name"] == "ValueError"
    # The uncaught one was raised in last(), and is not also handled by the recorder.
    end = [m["data"]["event"] for m in exc if m["data"]["message"] == "the end"]
    assert end == ["raise", "uncaught"], end
    listed(rec, "RuntimeError")


def test_gc_markers(rec):
    script = write(rec.tmp, "gcs.py", """
        import gc
        class Node:
            pass
        def make_cycles(n):
            for _ in range(n):
                a, b = Node(), Node()
                a.other, b.other = b, a
        def before_gc(): pass
        def after_gc(): pass
        gc.disable()
        make_cycles(50)
        before_gc()
        gc.collect(1)
        after_gc()
    """)
    res, profile, threads = record(rec, script)
    main = main_of(threads)
    gcs = [m for m in of_type(main, "GC") if m["data"]["generation"] == 1]
    assert len(gcs) == 1, of_type(main, "GC")
    m = gcs[0]
    assert m["phase"] == 1 and m["name"] == "GC"
    # 50 cycles of two objects and their two __dict__s.
    assert m["data"]["collected"] >= 100
    assert m["data"]["uncollectable"] == 0
    between(main, m, "before_gc", "after_gc")
    listed(rec, "GC")


def test_thread_markers(rec):
    script = write(rec.tmp, "threads.py", """
        import threading
        def work(): pass
        t = threading.Thread(target=work, name="first-name")
        t.start()
        t.join()
        def before_rename(): pass
        def after_rename(): pass
        before_rename()
        t.name = "second-name"
        after_rename()
    """)
    res, profile, threads = record(rec, script)
    worker = [t for t in threads if t.tid != main_of(threads).tid][0]
    life = of_type(worker, "Thread")
    assert [(m["name"], m["data"]["thread"]) for m in life] == [
        ("Thread start", "first-name"), ("Thread end", "first-name")]
    work = only_call(worker, "work")
    assert life[0]["start"] <= work.start and work.end <= life[1]["start"]
    main = main_of(threads)
    (rename,) = of_type(main, "Thread")
    assert rename["name"] == "Thread rename"
    assert rename["data"] == {"type": "Thread", "thread": "second-name",
                              "old_name": "first-name"}
    between(main, rename, "before_rename", "after_rename")
    listed(rec, "Thread rename")


USER = """
    import functiontrace
    def before(): pass
    def middle(): pass
    def after(): pass
    before()
    functiontrace.marker("checkpoint", step=3, ratio=0.5, ok=True, none=None, label="x",
                         items=[1, 2], type="not the schema")
    with functiontrace.interval("outer", n=1) as outer:
        with functiontrace.interval("inner"):
            middle()
        outer.fields["done"] = "yes"
    @functiontrace.interval("decorated")
    def decorated(x):
        return x * 2
    assert decorated(21) == 42 and decorated.__name__ == "decorated"
    after()
"""


def test_user_markers(rec):
    script = write(rec.tmp, "user.py", USER)
    # Without the recorder the API does nothing and costs nothing worth measuring.
    assert rec.run_plain([str(script)]).returncode == 0
    res, profile, threads = record(rec, script)
    main = main_of(threads)
    user = {m["name"]: m for m in of_type(main, "Marker")}
    cp = user["checkpoint"]
    assert cp["end"] is None
    assert cp["data"] == {"type": "Marker", "step": "3", "ratio": "0.5", "ok": "True",
                          "none": "None", "label": "x", "items": "[1, 2]",
                          "_type": "not the schema"}
    outer, inner = user["outer"], user["inner"]
    assert outer["data"] == {"type": "Marker", "n": "1", "done": "yes"}
    mid = only_call(main, "middle")
    assert outer["start"] <= inner["start"] <= mid.start <= mid.end <= inner["end"] <= \
        outer["end"]
    for m in (cp, outer, user["decorated"]):
        between(main, m, "before", "after")
    dec = user["decorated"]
    assert dec["start"] <= dec["end"]
    listed(rec, "checkpoint", "outer", "inner", "decorated")
    schema = [s for s in profile["meta"]["markerSchema"] if s["name"] == "Marker"][0]
    keys = {f["key"] for f in schema["fields"]}
    assert {"step", "ratio", "label", "done", "_type"} <= keys


def test_decoders_agree_on_markers(rec):
    """build/ftdump and tests/refdecode.py print the same markers of a real trace."""
    for name, code in (("prints.py", PRINTS), ("user.py", USER), ("logs.py", LOGS)):
        script = write(rec.tmp, name, code)
        assert rec.record([str(script)], out="t-" + name).returncode == 0
        (trace,) = rec.trace_files("t-" + name)
        c_dump = subprocess.run([str(FTDUMP), str(trace)], capture_output=True, text=True)
        py_dump = subprocess.run([sys.executable, str(ROOT / "tests" / "refdecode.py"),
                                  str(trace)], capture_output=True, text=True)
        assert c_dump.returncode == 0 and py_dump.returncode == 0, c_dump.stderr + py_dump.stderr
        assert c_dump.stdout == py_dump.stdout
        assert "\nmarker " in c_dump.stdout


# ---- the format, on traces written by hand (tracewriter.py) ----

def test_markers_stay_off_the_event_chain(tmp_path):
    """A marker's dt counts from the previous event and moves no later event: the events
    read the same with the markers and without them, and each marker is where it was put."""
    def build(with_markers):
        t = Trace(pid=10, start_ns=1_000_000, end_ns=9_000_000)
        t.thread(10, "MainThread")
        t.call(10, 1_000_000, "main")
        t.call(10, 2_000_000, "f")
        if with_markers:
            t.marker(10, 2_500_000, "user", "mid", {"k": "v", "n": 7, "x": -2, "f": 1.25,
                                                     "b": False, "z": None})
            t.marker(10, 2_900_000, "import", "mod", {"module": "mod"}, start=2_100_000)
        t.ret(10, 3_000_000, "f")
        t.ret(10, 4_000_000, "main")
        return t

    dumps = {}
    for flag in (False, True):
        path = build(flag).write(tmp_path / str(flag) / "run" / "10.ftrace")
        c = subprocess.run([str(FTDUMP), str(path)], capture_output=True, text=True)
        p = subprocess.run([sys.executable, str(ROOT / "tests" / "refdecode.py"), str(path)],
                           capture_output=True, text=True)
        assert c.returncode == 0 and c.stdout == p.stdout, c.stderr + p.stderr
        dumps[flag] = [ln for ln in c.stdout.splitlines()[1:] if not ln.startswith("marker")]
        if flag:
            marks = [ln for ln in c.stdout.splitlines() if ln.startswith("marker")]
            assert marks == [
                'marker 10 2500000 0 "user" "mid" "k"="v" "n"=7 "x"=-2 '
                '"f"=f3ff4000000000000 "b"=false "z"=nil',
                'marker 10 2900000 800000 "import" "mod" "module"="mod"']
    assert dumps[True] == dumps[False]

    res = subprocess.run([CONVERT, str(tmp_path / "True" / "run"), "-o",
                          str(tmp_path / "p.json")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    profile = ffprofile.load(tmp_path / "p.json")
    (th,) = ffprofile.threads(profile)
    assert only_call(th, "f").start == 1.0 and only_call(th, "f").end == 2.0
    ms = {m["name"]: m for m in markers(th)}
    assert ms["mid"]["start"] == 1.5 and ms["mid"]["end"] is None
    assert ms["mid"]["data"] == {"type": "Marker", "k": "v", "n": "7", "x": "-2", "f": "1.25",
                                 "b": "False", "z": "None"}
    assert (ms["mod"]["start"], ms["mod"]["end"]) == (1.1, 1.9)
    assert ms["mod"]["data"] == {"type": "Import", "module": "mod"}
    ffprofiler_check(tmp_path / "p.json", "thread", "markers")


def test_bad_marker_records_are_reported(tmp_path):
    """A marker whose fields are not a map of str keys is a bad record for both decoders."""
    t = Trace(pid=11, start_ns=1_000, end_ns=9_000)
    t.thread(11, "MainThread")
    t.span(11, 1_000, 2_000, "main")
    path = t.write(tmp_path / "run" / "11.ftrace", trailer=False)
    data = path.read_bytes()
    bad = zstandard.ZstdCompressor(write_content_size=True).compress(
        _mp([2, 11, 1, 3_000, "MainThread"]) + _mp([64, 0, "user", "x", [1, 2]]))
    path.write_bytes(data + bad)
    c = subprocess.run([str(FTDUMP), str(path)], capture_output=True, text=True)
    p = subprocess.run([sys.executable, str(ROOT / "tests" / "refdecode.py"), str(path)],
                       capture_output=True, text=True)
    assert c.returncode == 1 and p.returncode == 1
    assert c.stdout == p.stdout and "errors 1" in c.stdout


def test_print_wrapper_keeps_print_behaviour(rec):
    """Odd calls of print behave exactly as without the recorder: errors, partial output,
    bad keywords, no stdout; a huge text is written whole and kept cut in the marker."""
    script = write(rec.tmp, "odd.py", """
        import sys
        class Bad:
            def __str__(self): raise RuntimeError("no str")
        def attempt(*args, **kwargs):
            try:
                print(*args, **kwargs)
            except Exception as e:
                sys.stdout.write("[%s: %s]\\n" % (type(e).__name__, e))
        attempt("before", Bad(), "after")
        attempt("x", sep=5)
        attempt("x", end=b"")
        attempt("x", bogus=1)
        attempt("y" * 100000)
        saved, sys.stdout = sys.stdout, None
        print("nowhere")
        sys.stdout = saved
        print("back", flush=True)
    """)
    plain = rec.run_plain([str(script)])
    res, profile, threads = record(rec, script)
    assert res.stdout == plain.stdout and res.stderr == plain.stderr
    assert b"[RuntimeError: no str]" in res.stdout and b"[TypeError:" in res.stdout
    texts = [m["data"]["text"] for m in of_type(main_of(threads), "Print")]
    # Only the prints that wrote something whole; the long one cut at 4 KiB.
    assert texts[-1] == "back\n"
    long = [t for t in texts if t.startswith("yyy")]
    assert len(long) == 1 and len(long[0]) == 4096
    assert not [t for t in texts if "nowhere" in t or "before" in t]


WRITES = """
    import io, logging, sys, warnings
    def before_write(): pass
    def after_write(): pass
    logging.basicConfig(format="%(levelname)s %(message)s")
    before_write()
    n = sys.stdout.write("direct out\\n")
    sys.stderr.write("direct err\\n")
    sys.stdout.writelines(["line 1\\n", "line 2\\n"])
    print("printed", n)
    logging.warning("logged")
    warnings.warn("careful")
    w = sys.stdout.write
    print(type(w).__name__, w.__self__ is sys.stdout, w.__name__, w == sys.stdout.write)
    for bad in ((b"bytes",), ()):
        try:
            sys.stdout.write(*bad)
        except TypeError as e:
            print("TypeError:", e)
    saved, sys.stdout = sys.stdout, io.StringIO()
    sys.stdout.write("into a StringIO\\n")
    kept = sys.stdout.getvalue()
    sys.stdout = saved
    sys.stdout.write("kept %r\\n" % kept)
    after_write()
    sys.stdout.flush()
    raise SystemExit("the end")
"""


def test_write_markers(rec):
    """The program's own writes to sys.stdout/sys.stderr are `write` markers; print's and a
    log handler's are not (their markers have the text), nor those to a stream the program
    put in their place; the program sees the same output, results and errors."""
    script = write(rec.tmp, "writes.py", WRITES)
    plain = rec.run_plain([str(script)])
    res, profile, threads = record(rec, script, code=1)
    assert res.stdout == plain.stdout and res.stderr == plain.stderr
    assert b"builtin_function_or_method True write True" in res.stdout
    assert b"TypeError: write() argument must be str, not bytes" in res.stdout
    main = main_of(threads)
    writes = of_type(main, "Write")
    got = [(m["data"]["text"], m["data"]["file"]) for m in writes]
    assert got[:4] == [("direct out\n", "stdout"), ("direct err\n", "stderr"),
                       ("line 1\n", "stdout"), ("line 2\n", "stdout")], got
    assert "careful" in got[4][0] and got[4][1] == "stderr", got
    assert got[5] == ("kept 'into a StringIO\\n'\n", "stdout"), got
    # The interpreter prints SystemExit's message on the way out: a write like any other.
    assert got[6:] == [("the end", "stderr"), ("\n", "stderr")], got
    for m in writes[:6]:
        assert m["name"] == "write" and m["end"] is None
        between(main, m, "before_write", "after_write")
    # print and the log record: their own markers only.
    assert [m["data"]["message"] for m in of_type(main, "Log")] == ["logged"]
    assert "printed 11\n" in [m["data"]["text"] for m in of_type(main, "Print")]
    listed(rec, "write")


def test_write_markers_undone_at_stop(rec):
    """stop() gives the streams their class's write back (when still the recorder's); the
    next recording patches them again; a write attribute of the program's is left alone."""
    script = write(rec.tmp, "twice.py", """
        import os, sys
        import functiontrace
        def state():
            return "write" in vars(sys.stdout), "write" in vars(sys.stderr)
        before = state()
        with functiontrace.record(output_dir=sys.argv[1], quiet=True):
            during = state()
            sys.stdout.write("one\\n")
        after = state()
        with functiontrace.record(output_dir=sys.argv[1], quiet=True):
            again = state()
            mine = lambda s: sys.__stderr__.write("mine: " + s)
            sys.stderr.write = mine
        print(before, during, after, again, sys.stderr.write is mine)
    """)
    res = rec.run_plain([str(script), str(rec.tmp / "t")])
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode().splitlines()[-1] == \
        "(False, False) (True, True) (False, False) (True, True) True"
