"""Installing: `pip install .` into a fresh venv, `pip install --user .`, and `make install
PREFIX=... DESTDIR=...`, each followed by a record → convert round trip that uses only what
was installed (no PYTHONPATH, no source tree, the installed ft-convert).

Offline, with the interpreter pytest runs under (Debian's python3, which has setuptools and
wheel: no PyPI), once each rather than per interpreter: a pip install builds everything
(~20 s). Each install works on a copy of the source tree, so that the tree's own build/ and
extension files are neither used nor touched."""

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap

import pytest

from conftest import ROOT, ffprofiler_check
import ffprofile

PY = sys.executable
IGNORED = shutil.ignore_patterns(".git", "build", "demo", "traces", "__pycache__", "*.so",
                                 "*.egg-info", ".pytest_cache")

PROGRAM = """\
    import subprocess, sys

    def work(n):
        return sum(i * i for i in range(n))

    work(1000)
    subprocess.run([sys.executable, "-c", "print('child')"], check=True)
    """


def copy_tree(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=IGNORED)
    return src


def clean_env(**extra):
    """The environment of a user who has nothing of the source tree around."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FUNCTIONTRACE_", "FT_", "PYTHON"))}
    env.update(extra)
    return env


def run(cmd, cwd, env, timeout=600):
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=timeout)
    assert res.returncode == 0, "%s\n%s\n%s" % (cmd, res.stdout, res.stderr)
    return res


def round_trip(work, env, python, ft_convert, viewer=False):
    """Record PROGRAM with python -m functiontrace.record, convert with ft_convert (a path or
    a command list); check the profile (and load it in the Firefox Profiler if viewer)."""
    work.mkdir()
    (work / "prog.py").write_text(textwrap.dedent(PROGRAM))
    res = run([python, "-m", "functiontrace.record", "prog.py"], work, env)
    assert res.stdout == "child\n"
    # The exit line names the installed converter.
    assert "convert it with: " in res.stderr
    cmd = ft_convert if isinstance(ft_convert, list) else [ft_convert]
    run(cmd + ["traces", "-o", "profile.json"], work, env)
    prof = ffprofile.load(work / "profile.json")
    threads = ffprofile.threads(prof)
    assert len({t.pid for t in threads}) == 2          # the child was traced too
    (main,) = [t for t in threads if t.is_main and t.find("work")]
    assert main.find("work")
    if viewer:
        ffprofiler_check(work / "profile.json")
    return res


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("venv")
    src = copy_tree(tmp)
    env = clean_env()
    run([PY, "-m", "venv", "--system-site-packages", tmp / "venv"], tmp, env)
    vpy = tmp / "venv" / "bin" / "python"
    run([vpy, "-m", "pip", "install", "--no-index", "--no-cache-dir", "-q", "."], src, env)
    return tmp, vpy


def test_pip_install_into_a_venv(venv):
    tmp, vpy = venv
    bindir = vpy.parent
    assert (bindir / "ft-convert").exists()
    env = clean_env(PATH=str(bindir) + os.pathsep + os.environ["PATH"])
    res = round_trip(tmp / "work", env, vpy, bindir / "ft-convert", viewer=True)
    assert "convert it with: ft-convert traces/" in res.stderr
    # The package was installed, not picked up from elsewhere.
    out = run([vpy, "-c", "import functiontrace, functiontrace._functiontrace as f; "
                          "print(functiontrace.__file__); print(f.__file__)"], tmp, env).stdout
    assert all(line.startswith(str(tmp / "venv")) for line in out.split())


def test_python_m_functiontrace_convert(venv):
    tmp, vpy = venv
    # No venv bin on PATH: the exit line then names the venv's ft-convert by its path; and
    # python -m functiontrace.convert runs the converter too.
    env = clean_env(PATH="/usr/bin:/bin")
    res = round_trip(tmp / "work-m", env, vpy, [vpy, "-m", "functiontrace.convert"])
    assert "convert it with: %s traces/" % (vpy.parent / "ft-convert") in res.stderr
    res = subprocess.run([vpy, "-m", "functiontrace.convert", "--help"], env=env,
                         capture_output=True, text=True)
    assert res.returncode == 0 and "usage" in (res.stdout + res.stderr).lower()


def test_pip_install_user(tmp_path):
    src = copy_tree(tmp_path)
    base = tmp_path / "userbase"
    # A venv that sees the system's setuptools and wheel; pip refuses --user in a venv
    # that hides the user site, so the venv includes system site-packages.
    env = clean_env(PYTHONUSERBASE=str(base), HOME=str(tmp_path))
    run([PY, "-m", "venv", "--system-site-packages", tmp_path / "venv"], tmp_path, env)
    vpy = tmp_path / "venv" / "bin" / "python"
    run([vpy, "-m", "pip", "install", "--user", "--no-index", "--no-cache-dir", "-q", "."],
        src, env)
    assert (base / "bin" / "ft-convert").exists()
    assert list(base.glob("lib/python3*/site-packages/functiontrace/_functiontrace*.so"))
    env["PATH"] = str(base / "bin") + os.pathsep + os.environ["PATH"]
    round_trip(tmp_path / "work", env, vpy, "ft-convert")


def test_make_install_prefix_destdir(tmp_path):
    src = copy_tree(tmp_path)
    stage = tmp_path / "stage"
    run(["make", "--no-print-directory", "install", "PREFIX=/opt/ft", "DESTDIR=%s" % stage,
         "PYTHON=%s" % PY, "BUILD=%s" % (tmp_path / "build")], src, clean_env())
    site = sysconfig.get_path("platlib", vars={"base": "/opt/ft", "platbase": "/opt/ft"})
    pkg = stage / site.lstrip("/") / "functiontrace"
    assert (stage / "opt/ft/bin/ft-convert").exists()
    for name in ("__init__.py", "record.py", "_process.py", "convert.py",
                 "_bootstrap/sitecustomize.py"):
        assert (pkg / name).exists(), name
    assert list(pkg.glob("_functiontrace*.so"))
    # Nothing outside DESTDIR.
    assert not os.path.exists("/opt/ft")
    env = clean_env(PYTHONPATH=str(pkg.parent),
                    PATH=str(stage / "opt/ft/bin") + os.pathsep + os.environ["PATH"])
    round_trip(tmp_path / "work", env, PY, "ft-convert")
