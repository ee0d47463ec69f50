"""Record real programs, convert them, and check what the profile says.

Each test records with the interpreter under test (`py`), converts with ft-convert, and reads
the Firefox profile back into calls (ffprofile.py)."""

import json
import textwrap

from conftest import ROOT, ffprofiler_check
import ffprofile

SAMPLES = ROOT / "samples"


def write(tmp, name, code):
    path = tmp / name
    path.write_text(textwrap.dedent(code))
    return path


def thread_named(threads, name):
    found = [t for t in threads if t.name == name]
    assert found, f"no thread named {name!r}; have {[t.name for t in threads]}"
    return found[0]


def main_thread(threads):
    mains = [t for t in threads if t.is_main]
    assert len(mains) == 1, [(t.name, t.is_main) for t in threads]
    return mains[0]


def test_demo_nesting_and_durations(rec):
    res, profile = rec.record_and_convert([str(SAMPLES / "demo.py")])
    assert res.returncode == 0, res.stderr
    threads = ffprofile.threads(profile)
    main = main_thread(threads)
    assert main.name == "MainThread"
    assert "demo.py" in main.process_name
    # Nesting: outer → middle → inner, in that order, in the main thread.
    paths = {c.path[-3:] for c in main.calls if c.name == "inner"}
    assert ("outer", "middle", "inner") in paths
    # Three naps of 20 ms each in the main thread, called from main().
    naps = [c for c in main.find("nap") if "main" in c.path]
    assert len(naps) == 3
    # Lower bounds are what sleep guarantees; upper bounds leave room for a loaded machine
    # but catch a wrong time unit.
    durations = [c.duration for c in naps]
    assert 60.0 <= sum(durations) < 150.0, durations
    assert all(20.0 <= d < 60.0 for d in durations), durations
    # The native sleep is a child of nap.
    assert "time.sleep" in main.children_of("nap")
    # The weights (what the call tree shows) agree with the sample times.
    totals = ffprofile.weighted_totals(main.raw)
    assert abs(totals["main"] - main.total("main")) < 0.01
    # Recursion: fib nests in itself.
    assert max(len([n for n in c.path if n == "fib"]) for c in main.find("fib")) >= 10
    # Both workers ran nap and outer in their own threads.
    for name in ("worker-0", "worker-1"):
        t = thread_named(threads, name)
        assert {"worker", "nap", "outer", "middle", "inner"} <= t.names()
        assert 40.0 <= t.total("nap") < 120.0, t.total("nap")
        assert t.pid == main.pid and t.tid != main.tid


def test_first_event_of_each_thread_is_kept(rec, tmp_path):
    script = write(tmp_path, "first.py", """
        import threading
        def very_first():
            pass
        threading.Thread(target=very_first, name="t1").start()
        """)
    res, profile = rec.record_and_convert([str(script)])
    assert res.returncode == 0, res.stderr
    t = thread_named(ffprofile.threads(profile), "t1")
    # Thread.run calls the target: both frames are there, run first.
    assert any(c.path[-2:] == ("Thread.run" if rec.version >= (3, 11) else "run", "very_first")
               for c in t.calls), [c.path for c in t.calls]


def test_threads_sample(rec):
    res, profile = rec.record_and_convert([str(SAMPLES / "threads.py")])
    assert res.returncode == 0, res.stderr
    assert res.stdout == rec.run_plain([str(SAMPLES / "threads.py")]).stdout
    threads = ffprofile.threads(profile)
    assert len({t.pid for t in threads}) == 1
    assert "work_alpha" in thread_named(threads, "alpha").names()
    beta = thread_named(threads, "beta")
    assert "work_beta" in beta.names()
    assert "work_alpha" not in beta.names()
    # sorted(key=lambda) calls back into Python: the lambda runs under builtins.sorted.
    lambdas = {n for n in beta.children_of("builtins.sorted") if n.endswith("<lambda>")}
    assert lambdas == ({"work_beta.<locals>.<lambda>"} if rec.version >= (3, 11) else {"<lambda>"})
    # The daemon thread was still sleeping at exit: its open calls are closed, not lost.
    daemon = thread_named(threads, "daemon-sleeper")
    assert "forever" in daemon.names()


def test_generator_frames_leave_the_stack(rec):
    res, profile = rec.record_and_convert([str(SAMPLES / "generators.py")])
    assert res.returncode == 0, res.stderr
    main = main_thread(ffprofile.threads(profile))
    produce = main.find("produce")
    # One entry per resume: 4 values + the final StopIteration resume, from consumer().
    assert len([c for c in produce if "consumer" in c.path]) == 5
    # The consumer's own work between two resumes is never inside the generator.
    for c in main.find("between"):
        assert "produce" not in c.path
        assert c.path[-2] == "consumer"
    # yield from: produce runs inside relay.
    assert any(c.path[-2:] == ("relay", "produce") for c in produce)
    # Coroutines: tick is entered more than once (it suspends at the await).
    assert len(main.find("tick")) >= 4


def test_exceptions_unwind_every_frame(rec):
    res, profile = rec.record_and_convert([str(SAMPLES / "exceptions.py")])
    assert res.returncode == 0, res.stderr
    main = main_thread(ffprofile.threads(profile))
    assert any(c.path[-4:] == ("catcher", "level1", "level2", "level3") for c in main.calls)
    # After the catch, the catcher's next call is its own child, not level3's.
    after = main.find("after_catch")
    assert after and all(c.path[-2] == "catcher" for c in after)
    # The frames unwound by the exception are all closed before after_catch starts.
    last_level3 = max(c.end for c in main.find("level3"))
    assert all(c.start >= last_level3 for c in after)


def test_recursion(rec):
    res, profile = rec.record_and_convert([str(SAMPLES / "recursion.py")])
    assert res.returncode == 0, res.stderr
    main = main_thread(ffprofile.threads(profile))
    assert max(c.depth for c in main.find("depth")) - min(c.depth for c in main.find("depth")) == 500
    assert "is_odd" in main.children_of("is_even") and "is_even" in main.children_of("is_odd")


def test_profile_loads_in_firefox_profiler(rec, tmp_path):
    res, profile = rec.record_and_convert([str(SAMPLES / "demo.py")])
    assert res.returncode == 0
    out = ffprofiler_check(tmp_path / "profile.json")
    for name in ("main", "outer", "middle", "inner", "nap", "worker"):
        assert name in out, out
    # The profiler's own call tree gives nap its traced duration: 3 × 20 ms in the main
    # thread, 2 × 20 ms in each worker (tracing-ms weights, not sample counts).
    for index, t in enumerate(profile["threads"]):
        report = json.loads(ffprofiler_check(tmp_path / "profile.json", "thread", "functions",
                                             "--json", "--thread", f"t-{index}",
                                             "--search", "nap"))
        assert report["weightType"] == "tracing-ms"
        assert report["friendlyThreadName"] == t["name"]
        (nap,) = [f for f in report["functions"] if f["name"] == "nap"]
        expected = 60.0 if t["name"] == "MainThread" else 40.0
        assert expected <= nap["totalSamples"] < expected * 2, (t["name"], nap)
