"""True stacks: each program of samples/stacks/ is recorded in both modes on the interpreter
under test, converted, and its call structure checked in the profile (ffprofile.py reads the
samples back into calls) and, where the question is how a frame was left, in the raw trace.

Names follow Python's own: a function's __qualname__ on 3.11+ (co_qualname), its bare name
before; native functions as module.name or type.name, in mode "all" only."""

import json
import subprocess
import time

import pytest

from conftest import FFCHECK, ROOT
import ffprofile
import refdecode

STACKS = ROOT / "samples" / "stacks"


@pytest.fixture(params=["all", "python"])
def mode(request):
    return request.param


class Recorded:
    """One sample program recorded in one mode: its profile, main thread and raw trace."""

    def __init__(self, rec, mode, sample):
        out = "traces-" + mode
        self.mode = mode
        self.version = rec.version
        self.res = rec.record(["--mode", mode, str(STACKS / (sample + ".py"))], out=out)
        assert self.res.returncode == 0, self.res.stderr
        self.profile_path = rec.tmp / (out + ".json")
        self.profile = rec.convert(out, out + ".json")
        self.threads = ffprofile.threads(self.profile)
        mains = [t for t in self.threads if t.is_main]
        assert len(mains) == 1
        self.main = mains[0]
        (path,) = rec.trace_files(out)
        self.trace = refdecode.read_trace(str(path))
        assert self.trace["errors"] == []

    @property
    def all(self):
        return self.mode == "all"

    def qual(self, qualname):
        """How a Python function is named on this version: its qualified name on 3.11+."""
        return qualname if self.version >= (3, 11) else qualname.rsplit(".", 1)[-1]

    def calls(self, name):
        return self.main.find(name)

    def parents(self, name):
        """The distinct callers of name in the main thread."""
        return {c.path[-2] if len(c.path) > 1 else None for c in self.calls(name)}

    def raw_events(self, name):
        """[(event, time ns)] of function `name` in the main thread's raw events."""
        fids = {fid for fid, f in self.trace["functions"].items() if f["name"] == name}
        assert fids, f"{name} is not in the trace"
        (main,) = [t for t in self.trace["threads"].values()
                   if "MainThread" in t["names"]]
        return [(kind, t) for t, kind, fid in main["events"] if fid in fids]


def record(rec, mode, sample):
    return Recorded(rec, mode, sample)


def firefox_tree(profile_path, thread="t-0", search=None):
    """Root-to-node name paths of the Firefox Profiler's own call tree of a thread (its JSON
    top-down view, which the call tree and flame graph draw). The command-line client
    starts a daemon; on a loaded machine that can be slow to come up, so one retry."""
    args = [str(FFCHECK), str(profile_path), "thread", "samples-top-down", "--json",
            "--thread", thread]
    if search:
        args += ["--search", search]
    for attempt in range(3):
        res = subprocess.run(args, capture_output=True, text=True, timeout=600)
        if res.returncode == 0:
            break
        time.sleep(1)
    assert res.returncode == 0, res.stderr
    paths = set()

    def walk(node, prefix):
        for child in node.get("children", []):
            path = prefix + (child["name"],)
            paths.add(path)
            walk(child, path)

    walk(json.loads(res.stdout)["regularCallTree"], ())
    return paths


def pops(events):
    """The ways a function's frames left the stack, in order."""
    return [kind for kind, _ in events if kind in ("RETURN", "UNWIND", "YIELD")]


def has_path(paths, *names):
    """Whether some path in paths ends with names (a parent-child chain)."""
    return any(p[-len(names):] == names for p in paths)


# ---- generators, coroutines ----

def test_generators_and_yield_from(rec, mode):
    r = record(rec, mode, "generators")
    # relay runs once per value it hands out (3 from produce, then -1) and once more to
    # finish; produce runs once per value and once to finish, always inside relay.
    relay, produce = r.calls(r.qual("relay")), r.calls(r.qual("produce"))
    assert len(relay) == 5, [c.path for c in relay]
    assert len(produce) == 4, [c.path for c in produce]
    assert r.parents("relay") == {"consume"}
    assert r.parents("produce") == {"relay"}
    assert r.parents("leaf") == {"produce"} and len(r.calls("leaf")) == 3
    # The consumer's work between two values is never inside the generators.
    between = r.calls("between")
    assert len(between) == 4
    assert all(c.path[-2] == "consume" for c in between)
    # Intervals alternate: each relay interval ends before the next between starts.
    starts = sorted([("relay", c.start, c.end) for c in relay] +
                    [("between", c.start, c.end) for c in between], key=lambda x: x[1])
    assert [s[0] for s in starts] == ["relay", "between"] * 4 + ["relay"]
    assert all(a[2] <= b[1] for a, b in zip(starts, starts[1:]))
    # close() and throw() resume a suspended generator one last time, and the exception
    # they raise in it leaves its frame (through the native close/throw in mode all).
    endless = r.calls("endless")
    assert len(endless) == 4
    via = {"generator.close", "generator.throw", "builtins.next"} if r.all else {"stop_early"}
    assert r.parents("endless") == via
    assert r.parents("cleanup") == {"endless"} and len(r.calls("cleanup")) == 2
    suspend = "RETURN" if r.all and r.version < (3, 12) else "YIELD"
    assert pops(r.raw_events("endless")) == [suspend, "UNWIND"] * 2
    if r.all:
        assert pops(r.raw_events("generator.close")) == ["RETURN"]
        assert pops(r.raw_events("generator.throw")) == ["UNWIND"]


def test_coroutines_leave_the_stack_at_each_await(rec, mode):
    r = record(rec, mode, "coroutines")
    # waiter("a", 3) suspends 3 times, waiter("b", 2) twice: 4 + 3 separate intervals,
    # each resumption a new one; both() suspends once in gather: 2 intervals.
    waiter = r.calls("waiter")
    assert len(waiter) == 7, [(c.path[-3:], c.start, c.end) for c in waiter]
    assert len(r.calls("both")) == 2
    # A coroutine is never shown inside another one nor inside itself: the event loop
    # resumes each from its own stack.
    for c in waiter:
        assert "both" not in c.path and c.path.count("waiter") == 1, c.path
    # Its calls are under it, and asyncio.sleep (a coroutine too) under the waiter.
    assert r.parents("step_work") == {"waiter"} and len(r.calls("step_work")) == 5
    assert r.parents("sleep") == {"waiter"}
    # Intervals do not overlap, and the loop runs between them (the 5 ms sleeps).
    spans = sorted((c.start, c.end) for c in waiter)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert spans[-1][1] - spans[0][0] >= 9.0
    assert sum(e - s for s, e in spans) < spans[-1][1] - spans[0][0] - 9.0


def test_coroutine_intervals_in_the_firefox_profiler(rec):
    """What the profiler itself shows: waiter under the loop's step, never under both()."""
    r = record(rec, "all", "coroutines")
    paths = firefox_tree(r.profile_path, search="waiter")
    waiter_paths = [p for p in paths if p[-1] == "waiter"]
    assert waiter_paths
    assert not [p for p in waiter_paths if "both" in p]
    assert has_path(paths, "waiter", "step_work")


# ---- context managers, decorators ----

def test_context_managers(rec, mode):
    r = record(rec, mode, "context_managers")
    enter, exit_ = r.qual("Managed.__enter__"), r.qual("Managed.__exit__")
    assert r.parents(enter) == {"use_both"} and r.parents(exit_) == {"use_both"}
    # The with body runs under the function with the with, between enter and exit.
    assert r.parents("inside") == {"use_both"} and len(r.calls("inside")) == 2
    # contextlib: the generator runs twice, under __enter__ (setup) and __exit__
    # (teardown), through next() in mode all.
    gen = sorted(r.calls("managed_gen"), key=lambda c: c.start)
    assert len(gen) == 2
    via = ("builtins.next",) if r.all else ()
    assert gen[0].path[-2 - len(via):-1] == (r.qual("_GeneratorContextManager.__enter__"),) + via
    assert gen[1].path[-2 - len(via):-1] == (r.qual("_GeneratorContextManager.__exit__"),) + via
    assert r.parents("setup") == {"managed_gen"} and r.parents("teardown") == {"managed_gen"}
    assert r.calls("setup")[0].start < r.calls("inside")[1].start < r.calls("teardown")[0].start


def test_decorators(rec, mode):
    r = record(rec, mode, "decorators")
    wrapper = r.qual("logged.<locals>.wrapper")
    (call,) = r.calls("helper")
    assert call.path[-4:] == ("main", wrapper, "decorated", "helper")


# ---- recursion, exceptions ----

def test_recursion_3000_deep(rec, mode):
    r = record(rec, mode, "deep_recursion")
    down = sorted(r.calls("down"), key=lambda c: c.depth)
    assert len(down) == 3000
    first = down[0].depth
    # Every level present once, each nested directly in the one above it.
    assert [c.depth for c in down] == list(range(first, first + 3000))
    assert down[0].path[-2] == "main"
    assert all(c.path[-2] == "down" for c in down[1:])
    assert all(a.start <= b.start and b.end <= a.end for a, b in zip(down, down[1:]))
    (bottom,) = r.calls("bottom")
    assert bottom.depth == first + 3000 and bottom.path[-2] == "down"
    assert r.res.stdout.strip() == b"2999"


def test_exception_unwinds_every_frame(rec, mode):
    r = record(rec, mode, "exceptions")
    (raiser,) = r.calls("raiser")
    assert raiser.path[-5:] == ("catcher", "mid1", "mid2", "mid3", "raiser")
    # Each frame the exception passed through was left by it, once.
    for name in ("raiser", "mid3", "mid2", "mid1"):
        events = r.raw_events(name)
        assert [k for k, _ in events] == ["CALL", "UNWIND"], (name, events)
    assert pops(r.raw_events("catcher")) == ["RETURN"]
    # Durations: each unwound frame spans the 10 ms sleep and ends when the exception
    # leaves it, before the catcher's next call (another 10 ms sleep).
    (after,) = r.calls("after")
    assert after.path[-2] == "catcher"
    for name in ("raiser", "mid3", "mid2", "mid1"):
        (c,) = r.calls(name)
        assert 10.0 <= c.duration < 200.0, (name, c.duration)
        assert c.end <= after.start
    assert after.start - r.calls("mid1")[0].end < 5.0
    (catcher,) = r.calls("catcher")
    assert 20.0 <= catcher.duration < 400.0
    if r.all:
        # time.sleep in raiser returned normally; the raise is Python's.
        sleeps = r.raw_events("time.sleep")
        assert pops(sleeps) == ["RETURN", "RETURN"]


def test_keyboard_interrupt(rec, mode):
    r = record(rec, mode, "keyboard_interrupt")
    assert r.res.stdout.split() == [b"interrupted", b"interrupted", b"again"]
    (sleeper,) = r.calls("sleeper")
    assert sleeper.path[-3:] == ("main", "middle", "sleeper")
    # Interrupted after ~50 ms of a 5 s sleep: the frame ends at the interrupt.
    assert 40.0 <= sleeper.duration < 2000.0, sleeper.duration
    for name in ("sleeper", "middle", "raise_by_hand"):
        assert [k for k, _ in r.raw_events(name)] == ["CALL", "UNWIND"], name
    (after,) = r.calls("after")
    assert after.path[-2] == "main" and after.start >= sleeper.end
    if r.all:
        # The native sleep is what the interrupt left.
        (nap,) = [c for c in r.calls("time.sleep") if c.path[-2] == "sleeper"]
        assert 40.0 <= nap.duration < 2000.0
        sleeps = [e for e in r.raw_events("time.sleep")]
        assert "UNWIND" in [k for k, _ in sleeps]


# ---- native functions ----

def test_native_functions_that_raise(rec, mode):
    r = record(rec, mode, "native_raise")
    assert r.res.stdout.split() == [b"sqrt", b"index"]
    if r.all:
        assert r.parents("math.sqrt") == {"bad_sqrt"}
        assert r.parents("str.index") == {"bad_index"}
        assert pops(r.raw_events("math.sqrt")) == ["UNWIND"]
        assert pops(r.raw_events("str.index")) == ["UNWIND"]
    else:
        assert not [n for n in r.main.names() if n in ("math.sqrt", "str.index")]
    # The functions that caught return normally, and nothing is left open under them.
    for name in ("bad_sqrt", "bad_index"):
        assert pops(r.raw_events(name)) == ["RETURN"], name
    (after,) = r.calls("after")
    assert after.path[-2] == "main"


def test_native_functions_calling_back_into_python(rec, mode):
    r = record(rec, mode, "native_callbacks")
    if r.all:
        assert r.parents("keyfn") == {"builtins.sorted"}
        assert r.parents("double") == {"builtins.sum"}
        assert r.parents("builtins.sorted") == {"main"}
        assert r.parents("builtins.sum") == {"main"}
        paths = firefox_tree(r.profile_path)
        assert has_path(paths, "main", "builtins.sorted", "keyfn")
        assert has_path(paths, "main", "builtins.sum", "double")
    else:
        assert r.parents("keyfn") == {"main"} and r.parents("double") == {"main"}
    assert len(r.calls("keyfn")) == 3 and len(r.calls("double")) == 3
    # A callback that raises leaves its frame and the native function's.
    assert pops(r.raw_events("bad_key")) == ["UNWIND"]
    if r.all:
        assert r.parents("bad_key") == {"builtins.sorted"}
        assert pops(r.raw_events("builtins.sorted")) == ["RETURN", "UNWIND"]


# ---- code that is not a function ----

def test_class_bodies_and_module_import(rec, mode):
    r = record(rec, mode, "class_body")
    # A class body is a frame named after the class, under __build_class__ in mode all.
    (body,) = r.calls("Shape")
    assert body.path[-2] == ("builtins.__build_class__" if r.all else "<module>")
    assert r.parents("at_class_creation") == {"Shape"}
    # An imported module's top-level code runs as its own <module>, under the import
    # machinery that the importing module's import statement started.
    (imp,) = r.calls("at_import")
    assert imp.path[-2] == "<module>"
    assert imp.path.count("<module>") == 2 and imp.path.index("<module>") < len(imp.path) - 3
    assert r.parents(r.qual("Shape.area")) == {"main"}
    assert r.parents("used") == {"main"}


def test_exec_and_eval(rec, mode):
    r = record(rec, mode, "exec_eval")
    via = {"called_from_exec": "builtins.exec", "called_from_eval": "builtins.eval"}
    for name, native in via.items():
        (c,) = r.calls(name)
        expected = ("main", native, "<module>", name) if r.all else ("main", "<module>", name)
        assert c.path[-len(expected):] == expected, c.path


def test_lambdas_and_comprehensions(rec, mode):
    r = record(rec, mode, "lambdas_comprehensions")
    lam = r.qual("main.<locals>.<lambda>")
    assert r.parents(lam) == {"main"} and lam in r.parents("item")
    # PEP 709 (3.12): list, set and dict comprehensions are inlined into their function;
    # before, each is a function of its own. Generator expressions always are.
    genexpr = r.qual("main.<locals>.<genexpr>")
    comps = [r.qual("main.<locals>.<%s>" % k) for k in ("listcomp", "setcomp", "dictcomp")]
    if r.version >= (3, 12):
        assert not [n for n in r.main.names() if n.endswith(("comp>",))]
        assert r.parents("item") == {lam, "main", genexpr, r.qual("Holder.method")}
    else:
        for comp in comps:
            assert len([c for c in r.calls("item") if c.path[-3:-1] == ("main", comp)]) == 2
        # Before 3.11 both list comprehensions are plain "<listcomp>".
        method_comp = r.qual("Holder.method.<locals>.<listcomp>")
        if r.version >= (3, 11):
            assert r.parents(method_comp) == {r.qual("Holder.method")}
        else:   # the standard library's <listcomp>s too
            assert {"main", "method"} <= r.parents(method_comp)
        assert r.parents("item") == {lam, genexpr, method_comp, *comps}
    # The generator expression is resumed by list() once per item, then to finish; list
    # is a type, not a native function, so the generator runs right under main.
    gen = [c for c in r.calls(genexpr) if "main" in c.path]
    assert len(gen) == 3 and {c.path[-2] for c in gen} == {"main"}
