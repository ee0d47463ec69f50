"""Programs that install their own tracing or profiling tool (samples/tools/): recording
never changes what they print or how they exit, and the trace says what README ("Other
profilers, tracers and debuggers") promises for each case."""

import re

import pytest

from conftest import ROOT
import ffprofile

TOOLS = ROOT / "samples" / "tools"


@pytest.fixture(params=["all", "python"])
def mode(request):
    return request.param


def monitoring_backend(rec, mode):
    """Whether mode records through sys.monitoring here (mode python uses the frame
    evaluator wherever it is free: record/backend.h)."""
    return mode == "all" and rec.version >= (3, 12)


def setprofile_backend(rec, mode):
    return mode == "all" and rec.version < (3, 12)


def unchanged(rec, mode, sample, stdin=b""):
    """Record sample; assert output and status are those of the untraced run; return the
    main thread of the profile."""
    script = str(TOOLS / (sample + ".py"))
    plain = rec.run_plain([script], input=stdin)
    traced = rec.record(["--mode", mode, script], input=stdin)
    assert traced.returncode == plain.returncode == 0, (plain.stderr, traced.stderr)
    assert traced.stdout == plain.stdout
    assert traced.stderr == plain.stderr
    (main,) = [t for t in ffprofile.threads(rec.convert()) if t.is_main]
    return plain.stdout.decode(), main


def test_cprofile_in_the_program(rec, mode):
    out, main = unchanged(rec, mode, "cprofile_inside")
    assert "cProfile saw work: True" in out
    if setprofile_backend(rec, mode):
        # cProfile's hook replaces the recorder's in this thread, for good.
        assert "main" in main.names() and "after" not in main.names()
        return
    # 3.12+: the recorder moved off PROFILER_ID when cProfile claimed it; no gap.
    assert {c.path[-2] for c in main.find("work")} == {"main"}
    assert {c.path[-2] for c in main.find("after")} == {"main"}


def test_settrace_line_counter(rec, mode):
    out, main = unchanged(rec, mode, "line_counter")
    assert out.startswith("lines: [1, 1, 3, 4]")
    assert {c.path[-2] for c in main.find("counted")} == {"main"}
    assert {c.path[-2] for c in main.find("after")} == {"main"}
    # The trace function's own calls are recorded where they run by the frame evaluator
    # only; the profiling backends do not see them (the interpreter calls trace functions
    # with tracing off).
    if mode == "python":
        assert {c.path[-2] for c in main.find("tracer")} == {"counted"}
    else:
        assert "tracer" not in main.names()


def test_own_setprofile(rec, mode):
    out, main = unchanged(rec, mode, "own_setprofile")
    assert out.startswith("seen: ['profiled', 'helper']")
    if setprofile_backend(rec, mode):
        # The program's hook replaces the recorder's in this thread, for good.
        assert "main" in main.names()
        assert not main.names() & {"profiled", "helper", "after"}
        return
    assert [c.path[-3:] for c in main.find("helper")] == [("main", "profiled", "helper")]
    assert {c.path[-2] for c in main.find("after")} == {"main"}


def test_own_monitoring_tool(rec, mode):
    if rec.version < (3, 12):
        pytest.skip("sys.monitoring is 3.12+")
    out, main = unchanged(rec, mode, "own_monitoring")
    assert out.startswith("lines: [1, 2]")
    assert {c.path[-2] for c in main.find("covered")} == {"main"}
    assert {c.path[-2] for c in main.find("after")} == {"main"}


def test_pdb(rec, mode):
    """pdb (sys.settrace underneath) driven by commands on stdin."""
    out, main = unchanged(rec, mode, "pdb_session", stdin=b"step\nstep\np x\ncontinue\n")
    assert "(Pdb) 1" in out and "result 1" in out
    assert {c.path[-1] for c in main.calls if "target" in c.path} >= {"target", "inner"}
    assert {c.path[-2] for c in main.find("after")} == {"<module>"}


def test_profiler_id_held_by_another_tool(rec):
    """3.12+, mode all: another tool holds PROFILER_ID when recording starts: the recorder
    says so, records with another id, and the other tool goes on working."""
    if rec.version < (3, 12):
        pytest.skip("sys.monitoring is 3.12+")
    run = rec.tmp / "run"
    run.mkdir()
    script = str(TOOLS / "profiler_id_taken.py")
    res = rec.run_plain([script, str(run)])
    assert res.returncode == 0, res.stderr
    # 4 or 3: whichever is free (the exception markers take one of them first, on 3.12+).
    assert re.fullmatch(r"functiontrace: sys\.monitoring tool id 2 \(PROFILER\) is held by "
                        r"'other-profiler'; recording with tool id [34] instead\n",
                        res.stderr.decode()), res.stderr
    assert res.stdout.decode() == "other tool saw: ['work'] held by: other-profiler\n"
    (main,) = [t for t in ffprofile.threads(rec.convert("run")) if t.is_main]
    assert "work" in main.names()


def test_no_tool_id_left(rec):
    if rec.version < (3, 12):
        pytest.skip("sys.monitoring is 3.12+")
    run = rec.tmp / "run"
    run.mkdir()
    res = rec.run_plain([str(TOOLS / "profiler_id_taken.py"), str(run), "hold_all"])
    assert res.returncode == 3, res.stderr
    assert res.stdout.decode() == (
        "refused: functiontrace: sys.monitoring tool ids 2 (PROFILER, held by "
        "'other-profiler'), 4 and 3 are all in use by other tools; another profiler is "
        "active in this process\n")
    assert list(run.iterdir()) == []   # no trace file left behind
