"""CPython's own test suites, run under the recorder: they must pass exactly as they do
without it, and their traces must convert and load in the Firefox Profiler.

Slow (minutes), so not part of `make test`: `make test-suites` runs this directory (the
tests/conftest.py ignores it unless FT_TEST_SUITES is set). Each selection runs once plain
and once traced, at the same time (the machine has two cores), with `python -m unittest -v`,
and both runs must end alike: exit status, unittest's summary (tests run, failures, errors,
skips...) and each test's outcome.

The selections are subsets of the named suites, chosen so that the whole matrix (six
interpreters) takes about five minutes on a 2-core machine; the comment of each says what
was left out and why. 3.11 and 3.12 as built by pyenv here lack test.test_multiprocessing_spawn
(only that wrapper module: test._test_multiprocessing, which holds the tests, is there), so
the spawn tests are run through a wrapper written the same way: install CPython's
multiprocessing tests for the "spawn" start method into a module (mp_spawn, below)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CONVERT, env_for_recording, ffprofiler_check

sys.path.insert(0, str(Path(__file__).resolve().parent))
import unittest_run  # noqa: E402

J = "test.test_json."
T = "test.test_threading."
S = "test.test_subprocess."
M = "mp_spawn.WithProcessesTest"
A = "test.test_asyncio."

SUITES = {
    # All of test_json but test_unicode, whose loops over every BMP code point make a
    # 7-million-event trace, and test_recursion, whose nesting tests make 100 million
    # events on 3.13 (a 2.7 GB profile, beyond what the Firefox Profiler loads): both
    # slow to check and nothing new for the recorder. test_tool runs `python -m json.tool`
    # in child processes: traced children.
    "json": [J + m for m in ("test_decode", "test_default", "test_dump", "test_enum",
                             "test_fail", "test_float", "test_indent", "test_pass1",
                             "test_scanstring", "test_separators", "test_speedups",
                             "test_tool")],
    "generators": ["test.test_generators"],
    # Threads starting, ending, joined at shutdown, excepthook, timers; without the lock
    # and barrier classes whose timeout tests make most of the suite's 20 s.
    "threading": [T + c for c in ("ThreadTests", "TimerTests", "ExceptHookTests",
                                  "MiscTestCase")],
    # Popen through run(), context managers, timeouts that SIGKILL a Python child; the big
    # ProcessTestCase/POSIXProcessTestCase classes take 30 s untraced.
    "subprocess": [S + c for c in ("RunFuncTestCase", "MiscTests", "ContextManagerTests")],
    # Spawned processes sharing locks, events and values with the parent.
    "multiprocessing_spawn": [M + c for c in ("Lock", "Event", "Value")],
    # Event loops, tasks, locks and queues; test_tasks alone would take 35 s.
    "asyncio": [A + "test_locks", A + "test_queues"],
}

MP_SPAWN = ('"""CPython\'s multiprocessing tests for the spawn start method."""\n'
            "import test._test_multiprocessing as _tests\n"
            "_tests.install_tests_in_module_dict(globals(), 'spawn')\n")

TIMEOUT = 600


def _workdir(tmp_path, name):
    d = tmp_path / name
    d.mkdir()
    (d / "mp_spawn.py").write_text(MP_SPAWN)
    return d


def _function_names(profile):
    names = set()
    for t in profile["threads"]:
        strings = t["stringArray"]
        names.update(strings[i] for i in t["funcTable"]["name"])
    return names


_PROBLEM = re.compile(r"^ft-convert: (\S+\.ftrace): offset \d+: (.*)$", re.M)


def _check_conversion(res, run_dir):
    """ft-convert must succeed; exit status 3 (damaged input) is accepted only for child
    processes killed by the test suite itself (subprocess's timeout tests SIGKILL a Python
    child, whose trace then has no trailer), never for the traced process itself."""
    if res.returncode == 0:
        return
    assert res.returncode == 3, res.stderr
    problems = _PROBLEM.findall(res.stderr)
    assert problems, res.stderr
    root = "%s.ftrace" % run_dir.name.rsplit("-", 1)[1]
    for path, reason in problems:
        assert os.path.basename(path) != root, res.stderr
        assert reason.startswith("no trailer"), res.stderr


@pytest.mark.parametrize("suite", list(SUITES))
def test_suite_unchanged(py, tmp_path, suite):
    names = SUITES[suite]
    env = env_for_recording()
    plain_dir, traced_dir = _workdir(tmp_path, "plain"), _workdir(tmp_path, "traced")
    plain = unittest_run.start([py, "-m", "unittest", "-v", *names], plain_dir, env)
    traced = unittest_run.start([py, "-m", "functiontrace.record", "-q", "-o", "traces",
                                 "-m", "unittest", "-v", *names], traced_dir, env)
    want = unittest_run.finish(plain, TIMEOUT)
    got = unittest_run.finish(traced, TIMEOUT)

    assert want.ran > 0 and want.verdict, want.output[-4000:]
    assert got.summary() == want.summary(), got.output[-4000:]
    # Every test whose verbose line both runs printed readably had the same outcome.
    both = set(want.outcomes) & set(got.outcomes)
    assert both
    changed = {k: (want.outcomes[k], got.outcomes[k]) for k in both
               if want.outcomes[k] != got.outcomes[k]}
    assert not changed

    runs = list((traced_dir / "traces").iterdir())
    assert len(runs) == 1
    profile_path = tmp_path / "profile.json"
    res = subprocess.run([CONVERT, str(runs[0]), "-o", str(profile_path)],
                         capture_output=True, text=True, timeout=TIMEOUT)
    _check_conversion(res, runs[0])
    # The trace holds the suite: every test method that passed was recorded as a call.
    with open(profile_path) as f:
        names_in_profile = _function_names(json.load(f))
    methods = {k.rsplit(".", 1)[1] for k, v in got.outcomes.items() if v == "ok"}
    methods = {m for m in methods if m.startswith("test")}
    missing = {m for m in methods
               if m not in names_in_profile
               and not any(n.endswith("." + m) for n in names_in_profile)}
    assert methods and not missing
    ffprofiler_check(profile_path, "profile", "info")
