"""End-to-end test harness.

pytest runs under Debian's /usr/bin/python3; the interpreter that *records* is a parameter.
FT_TEST_PYTHONS (space-separated paths, set by `make test`) lists the interpreters under test;
each test that records runs once per interpreter. FT_CONVERT names the ft-convert binary."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ffprofile  # noqa: E402

PYTHONS = os.environ.get("FT_TEST_PYTHONS", "python3").split()
CONVERT = os.environ.get("FT_CONVERT", str(ROOT / "build" / "ft-convert"))
FFCHECK = ROOT.parent / "shared" / "tools" / "ffprofiler-check"

# tests/suites (CPython's own test suites under the recorder) takes minutes: only
# `make test-suites` runs it, by setting FT_TEST_SUITES.
collect_ignore = [] if os.environ.get("FT_TEST_SUITES") else ["suites"]


def _python_id(py):
    out = subprocess.run([py, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True)
    return "py" + out.stdout.strip() if out.returncode == 0 else os.path.basename(py)


def pytest_generate_tests(metafunc):
    if "py" in metafunc.fixturenames:
        metafunc.parametrize("py", PYTHONS, ids=[_python_id(p) for p in PYTHONS])


def env_for_recording(extra=None):
    env = dict(os.environ)
    env.update(extra or {})
    env["PYTHONPATH"] = str(ROOT / "python") + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("FUNCTIONTRACE_RUN_DIR", None)
    return env


class Recorder:
    """Runs programs traced and untraced with one interpreter, and converts traces."""

    def __init__(self, py, tmp_path):
        self.py = py
        self.tmp = tmp_path
        self.version = tuple(int(x) for x in _python_id(py)[2:].split("."))

    def run_plain(self, args, cwd=None, env_extra=None, **kw):
        return subprocess.run([self.py, *args], capture_output=True, cwd=cwd or self.tmp,
                              env=env_for_recording(env_extra), timeout=120, **kw)

    def record(self, args, out="traces", cwd=None, quiet=True, env_extra=None, **kw):
        cmd = [self.py, "-m", "functiontrace.record", "-o", str(self.tmp / out)]
        if quiet:
            cmd.append("-q")
        return subprocess.run(cmd + list(args), capture_output=True, cwd=cwd or self.tmp,
                              env=env_for_recording(env_extra), timeout=120, **kw)

    def convert(self, src="traces", out="profile.json", check=True):
        res = subprocess.run([CONVERT, str(self.tmp / src), "-o", str(self.tmp / out)],
                             capture_output=True, text=True, timeout=120)
        if check:
            assert res.returncode == 0, res.stderr
            return ffprofile.load(self.tmp / out)
        return res

    def trace_files(self, out="traces"):
        return sorted((self.tmp / out).glob("*/*.ftrace"))

    def record_and_convert(self, args, **kw):
        res = self.record(args, **kw)
        return res, self.convert()


@pytest.fixture
def rec(py, tmp_path):
    r = Recorder(py, tmp_path)
    if not list((ROOT / "python" / "functiontrace").glob("_functiontrace*.so")):
        pytest.fail("the extension is not built (make ext)")
    return r


def ffprofiler_check(profile_path, *args):
    """Load a profile with the Firefox Profiler's own code; returns its output. The
    profiler's daemon gives up when it takes over 500 ms to start, which happens on a busy
    machine and says nothing about the profile: that is retried."""
    for attempt in range(4):
        res = subprocess.run([str(FFCHECK), str(profile_path), *args], capture_output=True,
                             text=True, timeout=600)
        if res.returncode == 0 or "did not become ready" not in res.stderr + res.stdout:
            break
        time.sleep(2)
    assert res.returncode == 0, f"Firefox Profiler rejected {profile_path}:\n{res.stderr}\n{res.stdout}"
    return res.stdout
