"""Exception markers on every version and in both modes (FORMAT.md §4.6, README "Markers").

3.12+ has sys.monitoring's RAISE and EXCEPTION_HANDLED; 3.8-3.11 see only the frames an
exception leaves (record/exctrack.h). The expectations are the same except where the README
says they differ, and each difference is asserted here for what it is:
- an exception raised and caught inside one frame is marked on 3.12+ only;
- before 3.12 a builtin that raises is named in `where` in mode all (`dict.pop in f`);
- a `handled` marker's line is the handler's (its first call or return) before 3.12, and
  the one 3.12 reports (the `try` line) on 3.12+: the tests check its function and file."""

import textwrap

import pytest

import ffprofile
from test_markers import between, listed, main_of, of_type, only_call, write

SAMPLE = """
    import threading
    def before_all(): pass
    def after_all(): pass
    def deep():
        raise ValueError("deep one")
    def mid():
        deep()
    def catcher():
        try:
            mid()
        except ValueError:
            return "caught"
    def to_int(s):
        return int(s)
    def use():
        try:
            to_int("x")
        except ValueError:
            pass
    def popper():
        {}.pop("k")
    def pop_use():
        try:
            popper()
        except KeyError:
            pass
    def same_frame():
        try:
            raise LookupError("same frame")
        except LookupError:
            pass
    def boom():
        raise KeyError("lost")
    before_all()
    catcher()
    use()
    pop_use()
    same_frame()
    after_all()
    t = threading.Thread(target=boom, name="boomer")
    t.start()
    t.join()
"""


def record(rec, mode, script, code=0):
    res = rec.record(["--mode", mode, str(script)])
    assert res.returncode == code, res.stderr.decode()
    profile = rec.convert()
    return res, profile, ffprofile.threads(profile)


def exc_markers(thread, message):
    return [m for m in of_type(thread, "Exception") if m["data"]["message"] == message]


def line_of(code, text):
    """The line of script `code` (as write() writes it) that holds `text`."""
    lines = textwrap.dedent(code).splitlines()
    (n,) = [i + 1 for i, ln in enumerate(lines) if text in ln]
    return n


def events(ms):
    return [m["data"]["event"] for m in ms]


def check_where(m, function, script, line=None):
    where = m["data"]["where"]
    assert where.startswith(function + " ("), (function, where)
    assert str(script) in where, where
    if line is not None:
        assert where.endswith(":%d)" % line), (line, where)


@pytest.mark.parametrize("mode", ["all", "python"])
def test_exception_markers_everywhere(rec, mode):
    script = write(rec.tmp, "excs.py", SAMPLE)
    plain = rec.run_plain([str(script)])
    res, profile, threads = record(rec, mode, script)
    # The program runs as it would: the thread's traceback on stderr, exit status 0.
    assert res.returncode == plain.returncode == 0
    assert res.stdout == plain.stdout
    assert res.stderr.replace(str(script).encode(), b"") == \
        plain.stderr.replace(str(script).encode(), b"")
    main = main_of(threads)
    new = rec.version >= (3, 12)

    # Raised three frames down (deep), caught two frames up (catcher).
    deep = exc_markers(main, "deep one")
    assert events(deep) == ["raise", "handled"], deep
    for m in deep:
        assert m["name"] == "ValueError" and m["data"]["exception"] == "ValueError"
        assert m["end"] is None and m["phase"] == 0
        between(main, m, "before_all", "after_all")
    check_where(deep[0], "deep", script, line=line_of(SAMPLE, "deep one"))
    check_where(deep[1], "catcher", script)
    d, c = only_call(main, "deep"), only_call(main, "catcher")
    assert d.start <= deep[0]["start"] <= d.end
    assert d.end <= deep[1]["start"] <= c.end

    # Raised by a builtin (int), caught by the caller of the function that called it.
    bad = exc_markers(main, "invalid literal for int() with base 10: 'x'")
    assert events(bad) == ["raise", "handled"], bad
    check_where(bad[0], "to_int", script, line=line_of(SAMPLE, "return int(s)"))
    check_where(bad[1], "use", script)
    ti, u = only_call(main, "to_int"), only_call(main, "use")
    assert ti.start <= bad[0]["start"] <= ti.end <= bad[1]["start"] <= u.end

    # A builtin method: named in `where` by the profile hook before 3.12 in mode all.
    pop = exc_markers(main, "'k'")
    assert events(pop) == ["raise", "handled"], pop
    if not new and mode == "all":
        check_where(pop[0], "dict.pop in popper", script, line=line_of(SAMPLE, 'pop("k")'))
    else:
        check_where(pop[0], "popper", script, line=line_of(SAMPLE, 'pop("k")'))
    check_where(pop[1], "pop_use", script)

    # Raised and caught inside one frame: no frame is left, nothing to see before 3.12.
    same = exc_markers(main, "same frame")
    if new:
        assert events(same) == ["raise", "handled"], same
        check_where(same[0], "same_frame", script, line=line_of(SAMPLE, "same frame"))
    else:
        assert same == []

    # Escaping a thread: raised, taken by threading's bootstrap (which reports it), and
    # uncaught, all on that thread and none on the main thread.
    (boomer,) = [t for t in threads if t.name == "boomer"]
    lost = exc_markers(boomer, "'lost'")
    assert events(lost)[0] == "raise" and events(lost)[-1] == "uncaught", lost
    check_where(lost[0], "boom", script, line=line_of(SAMPLE, "raise KeyError"))
    check_where(lost[-1], "boom", script, line=line_of(SAMPLE, "raise KeyError"))
    handled = [m for m in lost if m["data"]["event"] == "handled"]
    assert handled and "_bootstrap_inner (" in handled[-1]["data"]["where"]
    assert "threading.py" in handled[-1]["data"]["where"]
    b = only_call(boomer, "boom")
    assert b.start <= lost[0]["start"] <= b.end <= lost[-1]["start"]
    assert not exc_markers(main, "'lost'")

    # Nothing of the recorder's own or of the import system.
    for t in threads:
        for m in of_type(t, "Exception"):
            assert "functiontrace" not in m["data"]["where"], m
            assert "<frozen importlib" not in m["data"]["where"], m

    found = listed(rec, "ValueError", "KeyError")
    schema = [s for s in profile["meta"]["markerSchema"] if s["name"] == "Exception"][0]
    assert {f["key"] for f in schema["fields"]} >= {"event", "exception", "message", "where"}
    assert found


PROGRAM_VIEW = """
    import sys
    class Shy(Exception):
        pass
    def inner():
        raise Shy("shy")
    def outer():
        try:
            inner()
        except Shy as e:
            # What the program sees while its exception is being handled.
            print(type(e).__name__, e, getattr(sys.gettrace(), "__name__", None),
                  sys.exc_info()[0].__name__)
    def traced(frame, event, arg):
        return None
    outer()
    sys.settrace(traced)           # a trace function of the program's own
    try:
        outer()
    finally:
        print("trace kept:", sys.gettrace() is traced)
        sys.settrace(None)
    try:
        import no_such_module_for_this_test
    except ImportError as e:
        print("import:", e)
    print(int("12"), getattr(object(), "nope", "default"))
"""


@pytest.mark.parametrize("mode", ["all", "python"])
def test_exception_tracking_changes_nothing(rec, mode):
    """The program sees the same exceptions, trace function and output; a trace function of
    its own is kept (before 3.12, mode all then has no raise/handled markers in that thread
    for the time it is set: the recorder cannot see the exception without one)."""
    script = write(rec.tmp, "view.py", PROGRAM_VIEW)
    plain = rec.run_plain([str(script)])
    res, profile, threads = record(rec, mode, script)
    assert res.returncode == plain.returncode == 0, res.stderr
    assert res.stdout == plain.stdout and res.stderr == plain.stderr
    assert b"Shy shy None Shy\nShy shy traced Shy" in res.stdout and b"trace kept: True" in res.stdout
    main = main_of(threads)
    shy = exc_markers(main, "shy")
    # outer() ran twice; the second time under the program's trace function.
    if rec.version < (3, 12) and mode == "all":
        assert events(shy) == ["raise", "handled"], shy
    else:
        assert events(shy) == ["raise", "handled"] * 2, shy
    # An import that fails reaches the program's handler: handled there, and nothing of the
    # import system's own exceptions.
    missing = [m for m in of_type(main, "Exception")
               if m["data"]["exception"] == "ModuleNotFoundError"]
    assert events(missing) == ["handled"], missing
    check_where(missing[0], "<module>", script)


def test_closed_generators_are_not_exceptions(rec):
    """Closing a generator throws GeneratorExit into it (before 3.12 always, on 3.12 when it
    has a handler around its yield): not an exception of the program's, on any version; an
    exception a generator raises is one."""
    script = write(rec.tmp, "gens.py", """
        def gen():
            yield 1
            yield 2
        def first():
            for x in gen():
                return x
        def guarded():
            try:
                yield 1
            finally:
                pass
        def closer():
            g = guarded()
            next(g)
            g.close()
        def failing():
            yield 1
            raise OSError("gen failed")
        def consume():
            try:
                list(failing())
            except OSError:
                pass
        first()
        closer()
        print(any(x > 0 for x in [1, 2, 3]))
        consume()
    """)
    for mode in ("all", "python"):
        res = rec.record(["--mode", mode, str(script)], out=mode)
        assert res.returncode == 0 and res.stdout == b"True\n", res.stderr
        profile = rec.convert(src=mode, out=mode + ".json")
        main = main_of(ffprofile.threads(profile))
        excs = of_type(main, "Exception")
        assert not [m for m in excs if m["data"]["exception"] == "GeneratorExit"], excs
        failed = exc_markers(main, "gen failed")
        # 3.12+ also reports the generator's own implicit handler (PEP 479's wrapper).
        assert events(failed) == ["raise", "handled"] or (
            rec.version >= (3, 12) and events(failed) == ["raise", "handled", "handled"])
        check_where(failed[0], "failing", script)
        check_where(failed[-1], "consume", script)
