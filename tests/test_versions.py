"""Which interpreters can record: versions outside 3.8–3.13 and interpreters without a
build of the extension get a clear message at import, never a crash."""

import shutil
import subprocess

import pytest

from conftest import ROOT, env_for_recording


def run(py, code, env=None, cwd=None):
    return subprocess.run([py, "-c", code], capture_output=True, text=True, timeout=60,
                          env=env or env_for_recording(), cwd=cwd)


def version(py):
    res = run(py, "import functiontrace; print(functiontrace.__version__)")
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_unsupported_reason(py):
    """The check itself, with stand-in versions (no machine has them all)."""
    ft = "functiontrace " + version(py)
    res = run(py, "import functiontrace as f\n"
                  "for v, impl in [((3, 7, 9), None), ((3, 8, 0), None), ((3, 13, 5), None),\n"
                  "                ((3, 14, 0), None), ((4, 0, 0), None),\n"
                  "                ((3, 10, 14), 'pypy')]:\n"
                  "    print(f.unsupported_reason(v, impl))\n"
                  "print(f.unsupported_reason())\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        ft + " supports CPython 3.8 to 3.13, not CPython 3.7.9",
        "None",
        "None",
        ft + " supports CPython 3.8 to 3.13, not CPython 3.14.0",
        ft + " supports CPython 3.8 to 3.13, not CPython 4.0.0",
        ft + " records CPython 3.8 to 3.13 only, not PyPy 3.10.14",
        "None",   # the interpreter under test is supported
    ]


def test_import_on_an_unsupported_version_says_so(py):
    """The interpreter under test, made to look like 3.14 before functiontrace is imported:
    the recorder's command line ends with the message, before the extension is loaded."""
    res = run(py, "import sys\n"
                  "sys.version_info = (3, 14, 0, 'final', 0)\n"
                  "import runpy\n"
                  "try:\n"
                  "    runpy.run_module('functiontrace.record', run_name='__main__')\n"
                  "except ImportError as e:\n"
                  "    print('ImportError:', e)\n"
                  "print(sorted(m for m in sys.modules if m.startswith('functiontrace')))\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "ImportError: functiontrace %s supports CPython 3.8 to 3.13, not CPython 3.14.0"
        % version(py),
        "[]"]


def test_missing_build_says_which_interpreter(py, tmp_path):
    """A supported interpreter for which `make ext` was not run: the message names it."""
    pkg = tmp_path / "python" / "functiontrace"
    shutil.copytree(ROOT / "python" / "functiontrace", pkg,
                    ignore=shutil.ignore_patterns("_functiontrace*", "__pycache__"))
    env = env_for_recording()
    env["PYTHONPATH"] = str(tmp_path / "python")
    res = subprocess.run([py, "-m", "functiontrace.record", "-c", "pass"], capture_output=True,
                         text=True, timeout=60, env=env, cwd=tmp_path)
    assert res.returncode == 1
    assert "the recorder's extension is not built for" in res.stderr, res.stderr
    assert "make ext PYTHON=" in res.stderr


def old_interpreters():
    """Interpreters of versions outside the range that this machine happens to have."""
    res = subprocess.run([str(ROOT / "tests" / "find-pythons"), "2.7", "3.6", "3.7", "3.14",
                          "3.15"], capture_output=True, text=True)
    return res.stdout.split()


def test_real_unsupported_interpreters_say_so(tmp_path):
    """Whatever old or new interpreters are here: the recorder's command line ends with
    the message and status 1, and the program does not run."""
    found = old_interpreters()
    if not found:
        pytest.skip("no interpreter outside 3.8-3.13 on this machine")
    for py in found:
        res = subprocess.run([py, "-m", "functiontrace.record", "-c", "print('ran')"],
                             capture_output=True, text=True, timeout=60,
                             env=env_for_recording(), cwd=tmp_path)
        assert res.returncode == 1, (py, res.stderr)
        assert "ran" not in res.stdout
        last = res.stderr.strip().splitlines()[-1]
        assert "supports CPython 3.8 to 3.13, not CPython " in last, (py, res.stderr)
