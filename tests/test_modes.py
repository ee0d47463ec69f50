"""Mode "python" records the same Python calls as mode "all", through whichever backend it
chose (the frame evaluator where it is preferred, record/backend.h).

The comparisons read the raw traces (refdecode): per thread, the pushes and pops of the
functions defined in the program itself, in order. Mode "all" on setprofile (≤ 3.11) reports
a yield as RETURN and a resume as CALL (FORMAT.md §4.4), so both sides are compared with
that mapping applied; the frame evaluator's own YIELD/RESUME are checked by the profile-level
tests below and against sys.monitoring (3.12+) unmapped."""

import os
import subprocess
import sys
import sysconfig
import textwrap

import pytest

from conftest import ROOT
import ffprofile
import refdecode

SAMPLES = ROOT / "samples"
AS_SETPROFILE = {"YIELD": "RETURN", "RESUME": "CALL"}
PROFILING_BACKEND = {True: "monitoring", False: "setprofile"}   # by version >= 3.12


def write(tmp, name, code):
    path = tmp / name
    path.write_text(textwrap.dedent(code))
    return path


def read_run(rec, out):
    files = rec.trace_files(out)
    assert len(files) == 1, files
    trace = refdecode.read_trace(str(files[0]))
    assert trace["errors"] == [], trace["errors"]
    assert trace["trailer"] is not None
    return trace


def python_events(trace, where, mapping=None):
    """{thread name: [(event, function name), ...]} for the Python functions whose file is
    `where`, in order."""
    funcs = trace["functions"]
    out = {}
    for t in trace["threads"].values():
        seq = out.setdefault(t["names"][-1], [])
        for _, kind, fid in t["events"]:
            f = funcs[fid]
            if f["kind"] == 0 and f["file"] == where:
                seq.append(((mapping or {}).get(kind, kind), f["name"]))
    return {name: seq for name, seq in out.items() if seq}


def record_modes(rec, script, env_extra=None):
    """Record script in mode all and in mode python: (all trace, python trace)."""
    traces = []
    for mode in ("all", "python"):
        res = rec.record(["--mode", mode, str(script)], out=mode, env_extra=env_extra)
        assert res.returncode == 0, res.stderr
        traces.append(read_run(rec, mode))
    return traces


def profiling_backend(rec):
    return PROFILING_BACKEND[rec.version >= (3, 12)]


@pytest.mark.parametrize("sample", ["generators", "exceptions", "recursion", "demo"])
def test_python_mode_matches_all_mode(rec, sample):
    script = SAMPLES / (sample + ".py")
    every, python = record_modes(rec, script)
    assert every["header"]["mode"] == "all"
    assert every["header"]["backend"] == profiling_backend(rec)
    assert python["header"]["mode"] == "python"
    assert python["header"]["backend"] == "evalframe"
    assert not [f for f in python["functions"].values() if f["kind"] != 0]
    where = str(script)
    a = python_events(every, where, AS_SETPROFILE)
    p = python_events(python, where, AS_SETPROFILE)
    assert set(a) == set(p)
    for name in a:
        assert p[name] == a[name], name
    if rec.version >= (3, 12):
        # Both backends tell yields and resumes apart: no mapping needed.
        assert python_events(python, where) == python_events(every, where)
    # Thread names: every thread of mode all, named alike.
    names = lambda t: sorted(th["names"][-1] for th in t["threads"].values())
    assert names(python) == names(every)


def test_python_mode_profile_structure(rec):
    """What the end-to-end tests check of mode all, on the converted python-mode profiles."""
    def profile(sample):
        out = "traces-" + sample
        res = rec.record(["--mode", "python", str(SAMPLES / (sample + ".py"))], out=out)
        assert res.returncode == 0, res.stderr
        prof = rec.convert(out, out + ".json")
        threads = ffprofile.threads(prof)
        (main,) = [t for t in threads if t.is_main]
        return main, threads

    main, _ = profile("generators")
    produce = main.find("produce")
    assert len([c for c in produce if "consumer" in c.path]) == 5
    for c in main.find("between"):
        assert "produce" not in c.path and c.path[-2] == "consumer"
    assert any(c.path[-2:] == ("relay", "produce") for c in produce)
    assert len(main.find("tick")) >= 4

    main, _ = profile("exceptions")
    assert any(c.path[-4:] == ("catcher", "level1", "level2", "level3") for c in main.calls)
    after = main.find("after_catch")
    assert after and all(c.path[-2] == "catcher" for c in after)
    assert all(c.start >= max(x.end for x in main.find("level3")) for c in after)
    assert "builtins.int" not in main.names()

    main, _ = profile("recursion")
    depths = [c.depth for c in main.find("depth")]
    assert max(depths) - min(depths) == 500

    main, threads = profile("demo")
    assert ("outer", "middle", "inner") in {c.path[-3:] for c in main.calls if c.name == "inner"}
    assert "time.sleep" not in main.names()
    for name in ("worker-0", "worker-1"):
        (t,) = [t for t in threads if t.name == name]
        assert {"worker", "nap", "outer", "middle", "inner"} <= t.names()


CALL_PATHS = """
    import functools, os, sys
    from functiontrace import record

    class Plain:
        def __init__(self, x):
            self.x = x
        def method(self):
            return leaf(self.x)
        @property
        def prop(self):
            return leaf(1)
        def __getitem__(self, i):
            return leaf(i)

    class Child(Plain):
        def __init__(self, x):
            super().__init__(x)

    def leaf(x):
        return x

    def gen(n):
        for i in range(n):
            yield leaf(i)

    def delegate(n):
        yield from gen(n)

    def kwargs(a, b=2, **kw):
        return leaf(a)

    def closure():
        def inner():
            return leaf(0)
        return inner

    async def coro():
        return leaf(0)

    def drive(c):
        try:
            c.send(None)
        except StopIteration as e:
            return e.value

    def work():
        p = Plain(1)
        inner = closure()
        for _ in range(N):
            Plain(2).method()
            Child(3)
            p.prop
            p[4]
            for _ in gen(2):
                pass
            list(delegate(1))
            kwargs(1, b=3, c=4)
            kwargs(*(1,), **{"b": 2})
            inner()
            list(map(leaf, (1, 2)))
            functools.partial(leaf, 5)()
            drive(coro())

    N = 40
    for _ in range(50):     # specialise every call site before recording starts
        work()
    out = os.path.join(sys.argv[1], "run")       # a run directory, as the CLI makes them
    os.makedirs(out)
    record.start(out, ["call_paths.py"], sys.argv[2])
    work()
    record.stop()
    """

# Entries (CALL + RESUME) per function for one work(), by how often each path runs it.
N = 40
EXPECTED_CALLS = {
    "work": 1,
    "Plain.__init__": 1 + 2 * N,        # p, Plain(2), and Child's super().__init__
    "Child.__init__": N,
    "Plain.method": N,
    "Plain.prop": N,
    "Plain.__getitem__": N,
    "kwargs": 2 * N,
    "closure.<locals>.inner": N,
    "drive": N,
    # leaf: method, prop, getitem, 2 from gen, 1 from delegate's gen, 2 kwargs, inner,
    # 2 from map, partial, coro
    "leaf": 13 * N,
}


def test_every_python_call_is_recorded(rec, tmp_path):
    """The frame evaluator turns off 3.11+'s inlined Python-to-Python calls, including at
    call sites specialised before recording started; 3.13's inlined __init__ comes through
    sys.monitoring instead. Every path that runs Python code is counted."""
    script = write(tmp_path, "call_paths.py", CALL_PATHS)
    counts = {}
    for mode in ("all", "python"):
        res = rec.run_plain([str(script), str(tmp_path / mode), mode])
        assert res.returncode == 0, res.stderr
        trace = read_run(rec, mode)
        assert trace["header"]["backend"] == ("evalframe" if mode == "python"
                                              else profiling_backend(rec))
        c = counts[mode] = {}
        funcs = trace["functions"]
        for t in trace["threads"].values():
            for _, kind, fid in t["events"]:
                f = funcs[fid]
                if f["file"] == str(script) and kind in ("CALL", "RESUME"):
                    c[f["name"]] = c.get(f["name"], 0) + 1
    expected = {}
    for name, n in EXPECTED_CALLS.items():
        if rec.version < (3, 11):   # co_name: Plain.__init__ and Child.__init__ are one
            name = name.rsplit(".", 1)[-1]
        expected[name] = expected.get(name, 0) + n
    py = counts["python"]
    assert {name: py.get(name) for name in expected} == expected
    # Generators: one CALL and one RESUME per value and at the end.
    gen_entries = py.get("gen")
    assert gen_entries == N * (3 + 2), gen_entries
    assert py == counts["all"]


def test_deep_recursion_is_not_limited_by_the_recorder(rec, tmp_path):
    """Through a frame evaluator every Python level is a C level too. 3.12+ would charge it
    against its C recursion limit (750 levels on 3.12.1) and 3.11+ could overflow the C
    stack where the untraced program does not: the recorder gives the charge back and
    turns an imminent overflow into RecursionError."""
    script = write(tmp_path, "deep.py", """
        import sys
        def down(n):
            return 0 if n == 0 else 1 + down(n - 1)
        print(down(950))                         # within the default recursion limit
        if sys.version_info >= (3, 11):          # before, Python levels were C levels anyway
            sys.setrecursionlimit(1000000)
            try:
                print(down(200000))              # far beyond any C stack
            except RecursionError:
                print("RecursionError")
        """)
    res = rec.record(["--mode", "python", str(script)])
    assert res.returncode == 0, res.stderr
    lines = res.stdout.decode().split()
    assert lines[0] == "950"
    if rec.version >= (3, 11):
        assert lines[1] in ("200000", "RecursionError")


def test_backend_override(rec):
    script = SAMPLES / "generators.py"
    res = rec.record(["--mode", "python", str(script)], out="prof",
                     env_extra={"FUNCTIONTRACE_BACKEND": profiling_backend(rec)})
    assert res.returncode == 0, res.stderr
    pinned = read_run(rec, "prof")
    assert pinned["header"]["backend"] == profiling_backend(rec)
    res = rec.record(["--mode", "python", str(script)], out="ef")
    assert res.returncode == 0, res.stderr
    auto = read_run(rec, "ef")
    where = str(script)
    assert python_events(pinned, where, AS_SETPROFILE) == python_events(auto, where, AS_SETPROFILE)
    # The frame evaluator cannot see native calls: mode all refuses it.
    res = rec.record(["--mode", "all", str(script)], out="bad",
                     env_extra={"FUNCTIONTRACE_BACKEND": "evalframe"})
    assert res.returncode != 0
    assert b"mode 'python'" in res.stderr


FOREIGN_EVALUATOR = r"""
#include <patchlevel.h>
#if PY_VERSION_HEX < 0x03090000
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#include <frameobject.h>
#if PY_VERSION_HEX < 0x03090000
#include <internal/pycore_pystate.h>
#endif

static long frames;

#if PY_VERSION_HEX >= 0x030B0000
static PyObject *theirs(PyThreadState *t, struct _PyInterpreterFrame *f, int exc)
{ frames++; return _PyEval_EvalFrameDefault(t, f, exc); }
#elif PY_VERSION_HEX >= 0x03090000
static PyObject *theirs(PyThreadState *t, PyFrameObject *f, int exc)
{ frames++; return _PyEval_EvalFrameDefault(t, f, exc); }
#else
static PyObject *theirs(PyFrameObject *f, int exc)
{ frames++; return _PyEval_EvalFrameDefault(f, exc); }
#endif

static void *slot(void)
{
    PyInterpreterState *i = PyThreadState_Get()->interp;
#if PY_VERSION_HEX >= 0x03090000
    return (void *)_PyInterpreterState_GetEvalFrameFunc(i);
#else
    return (void *)i->eval_frame;
#endif
}

static PyObject *install(PyObject *m, PyObject *unused)
{
    PyInterpreterState *i = PyThreadState_Get()->interp;
#if PY_VERSION_HEX >= 0x03090000
    _PyInterpreterState_SetEvalFrameFunc(i, theirs);
#else
    i->eval_frame = theirs;
#endif
    Py_RETURN_NONE;
}

static PyObject *state(PyObject *m, PyObject *unused)
{
    void *s = slot();
    return Py_BuildValue("(sl)", s == (void *)theirs ? "theirs"
                         : s == (void *)_PyEval_EvalFrameDefault ? "default" : "other", frames);
}

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS, NULL},
    {"state", state, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "foreign", NULL, -1, methods};
PyMODINIT_FUNC PyInit_foreign(void);
PyMODINIT_FUNC PyInit_foreign(void) { return PyModule_Create(&def); }
"""

SLOT_USER = """
    import os, sys
    sys.path.insert(0, sys.argv[3])
    import foreign
    from functiontrace import record

    def f():
        return 1

    if sys.argv[2] == "theirs":
        foreign.install()
    print("before", foreign.state()[0])
    out = os.path.join(sys.argv[1], "run")
    os.makedirs(out)
    record.start(out, ["slot_user.py"], "python")
    print("during", foreign.state()[0])
    f()
    record.stop()
    print("after", foreign.state()[0], foreign.state()[1] > 0)
    """


def build_foreign(py, where):
    cfg = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['include']);"
                          "print(sysconfig.get_config_var('EXT_SUFFIX'))"],
                         capture_output=True, text=True, check=True).stdout.split()
    src = where / "foreign.c"
    src.write_text(FOREIGN_EVALUATOR)
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-I" + cfg[0], str(src), "-o",
                    str(where / ("foreign" + cfg[1]))], check=True)


def test_another_frame_evaluator_is_left_alone(rec, tmp_path):
    """A frame evaluator installed by someone else (a debugger, a JIT) stays; mode python
    falls back to the profiling backend. Ours is removed at stop, restoring the default."""
    build_foreign(rec.py, tmp_path)
    script = write(tmp_path, "slot_user.py", SLOT_USER)
    res = rec.run_plain([str(script), str(tmp_path / "mine"), "none", str(tmp_path)])
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode().split("\n")[:3] == ["before default", "during other",
                                                   "after default False"]
    assert read_run(rec, "mine")["header"]["backend"] == "evalframe"

    res = rec.run_plain([str(script), str(tmp_path / "theirs"), "theirs", str(tmp_path)])
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode().split("\n")[:3] == ["before theirs", "during theirs",
                                                   "after theirs True"]
    trace = read_run(rec, "theirs")
    assert trace["header"]["backend"] == profiling_backend(rec)
    assert "f" in {fn["name"] for fn in trace["functions"].values()}


def test_python_then_all_in_one_process(rec, tmp_path):
    """A process may record in mode python, stop, and record again in mode all: the second
    recording sees every call (on 3.13 the first one's sys.monitoring use is undone)."""
    script = write(tmp_path, "twice.py", """
        import os, sys
        from functiontrace import record

        class K:
            def __init__(self):
                self.v = len([1])

        def f():
            return K()

        for _ in range(50):
            f()
        for mode in ("python", "all"):
            out = os.path.join(sys.argv[1], mode, "run")
            os.makedirs(out)
            record.start(out, ["twice.py"], mode)
            for _ in range(10):
                f()
            record.stop()
        """)
    res = rec.run_plain([str(script), str(tmp_path)])
    assert res.returncode == 0, res.stderr
    for mode in ("python", "all"):
        trace = read_run(rec, mode)
        calls = {}
        for t in trace["threads"].values():
            for _, kind, fid in t["events"]:
                fn = trace["functions"][fid]
                if kind == "CALL" and fn["file"] in (str(script), ""):
                    calls[fn["name"]] = calls.get(fn["name"], 0) + 1
        init = "K.__init__" if rec.version >= (3, 11) else "__init__"
        assert calls.get("f") == 10 and calls.get(init) == 10, (mode, calls)
        assert ("builtins.len" in calls) == (mode == "all")
