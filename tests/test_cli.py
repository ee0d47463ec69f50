"""The recorder's command line (python -m functiontrace.record) and its programmatic API
(functiontrace.record(...)): help, every option, every error message, the line at exit.

Expected messages are written here from what each should tell the user, not copied from the
recorder's output. Traces are read raw (refdecode): which functions were defined and which
events were recorded."""

import os
import re
import shlex
import subprocess
import textwrap

import pytest

from conftest import CONVERT, ROOT, env_for_recording
import ffprofile
import refdecode

PROG = "python -m functiontrace.record"
USAGE = "usage: python -m functiontrace.record [options] (script | -m module | -c code) [args ...]"


def write(path, code):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code))
    return path


def read_single(rec, out="traces"):
    files = rec.trace_files(out)
    assert len(files) == 1, files
    trace = refdecode.read_trace(str(files[0]))
    assert trace["errors"] == [] and trace["trailer"] is not None
    return trace


def events_by_name(trace, where=None):
    """[(event, function name)] of the main thread, for functions of file `where` (all
    functions if None)."""
    funcs = trace["functions"]
    out = []
    for t in trace["threads"].values():
        for _, kind, fid in t["events"]:
            f = funcs[fid]
            if where is None or f["file"] == where:
                out.append((kind, f["name"]))
    return out


def balanced(trace):
    """Every thread's pushes and pops pair up (ignoring pops of frames entered before the
    recording started, at the bottom)."""
    for t in trace["threads"].values():
        stack = []
        for _, kind, fid in t["events"]:
            if kind in ("CALL", "RESUME"):
                stack.append(fid)
            elif stack:
                if stack.pop() != fid:
                    return False
    return True


# ---- help and usage errors ----

def test_help_lists_every_option(rec):
    res = rec.run_plain(["-m", "functiontrace.record", "--help"], text=True)
    assert res.returncode == 0 and res.stderr == ""
    out = res.stdout
    assert out.startswith(USAGE + "\n")
    # 3.13's argparse names an option's value once: "-o, --output DIR".
    assert re.search(r"^  -o( DIR)?, --output DIR ", out, re.M)
    for option in ("--mode {all,python}", "--include PATTERN", "--exclude PATTERN",
                   "--max-depth N", "--memory", "-q, --quiet", "--version", "-h, --help"):
        assert option in out, option
    assert "examples:" in out and "ft-convert" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_version(rec):
    res = rec.run_plain(["-m", "functiontrace.record", "--version"], text=True)
    assert res.returncode == 0
    assert re.fullmatch(r"functiontrace \d+\.\d+\.\d+\n", res.stdout)


USAGE_ERRORS = [
    ([], "nothing to record: give a script (app.py), -m module or -c code after the options"),
    (["-q"], "nothing to record: give a script (app.py), -m module or -c code after the options"),
    (["-m"], "-m needs the module to run after it: -m package.module [args ...]"),
    (["-o", "out", "-c"], "-c needs the code to run after it: -c 'import app; app.main()' [args ...]"),
    (["--bogus", "app.py"], "unknown option --bogus; options of the recorded program go after "
                            "the script: python -m functiontrace.record [options] script.py --bogus"),
    (["--max-depth", "0", "app.py"], "argument --max-depth: '0' is not a depth: give a whole "
                                     "number of calls, 1 or more (1 records only the outermost calls)"),
    (["--max-depth", "deep", "app.py"], "argument --max-depth: 'deep' is not a depth: give a whole "
                                        "number of calls, 1 or more (1 records only the outermost calls)"),
    (["--include", "", "app.py"], "argument --include: an empty pattern matches nothing: give a "
                                  "module name (json, myapp.*) or a path glob with a '/' (*/site-packages/*)"),
    (["--exclude", "", "app.py"], "argument --exclude: an empty pattern matches nothing: give a "
                                  "module name (json, myapp.*) or a path glob with a '/' (*/site-packages/*)"),
]


@pytest.mark.parametrize("args,message", USAGE_ERRORS,
                         ids=[" ".join(a) or "none" for a, _ in USAGE_ERRORS])
def test_usage_errors(rec, tmp_path, args, message):
    write(tmp_path / "app.py", "print('ran')\n")
    res = rec.run_plain(["-m", "functiontrace.record", *args], text=True)
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr == "%s\n%s: error: %s\n" % (USAGE, PROG, message)
    assert not (tmp_path / "traces").exists()


def test_bad_mode(rec):
    res = rec.run_plain(["-m", "functiontrace.record", "--mode", "fast", "app.py"], text=True)
    assert res.returncode == 2
    last = res.stderr.splitlines()[-1]
    # argparse's own wording; it names the option, the value and the choices.
    assert last.startswith(PROG + ": error: argument --mode: invalid choice: ")
    assert "fast" in last and "all" in last and "python" in last


def test_output_dir_that_cannot_be_created(rec, tmp_path):
    """The program still runs, as it would have (issue 6: the recorder never changes what the
    program does); the one message says why there is no trace and what to do."""
    (tmp_path / "afile").write_text("")
    write(tmp_path / "app.py", "print('ran')\n")
    res = rec.run_plain(["-m", "functiontrace.record", "-o", str(tmp_path / "afile"), "app.py"],
                        text=True)
    assert res.returncode == 0 and res.stdout == "ran\n"
    m = re.fullmatch(r"functiontrace: cannot create the run directory (.*): Not a directory; "
                     r"choose another output directory with -o DIR; the program runs "
                     r"untraced\n", res.stderr)
    assert m and m.group(1).startswith(str(tmp_path / "afile") + "/"), res.stderr


def test_program_options_pass_through(rec, tmp_path):
    """Everything after the script is the program's, even our own option names."""
    write(tmp_path / "app.py", "import sys; print(sys.argv[1:])\n")
    res = rec.record(["app.py", "--max-depth", "2", "-q", "--include", "x", "--memory"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode() == "['--max-depth', '2', '-q', '--include', 'x', '--memory']\n"


# ---- the line at exit ----

def _path_without_ft_convert():
    return os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d and not os.path.exists(os.path.join(d, "ft-convert")))


def _run_exit_line(rec, tmp_path, path_env, code="pass"):
    res = rec.record(["-c", code], out="traces", quiet=False, cwd=tmp_path,
                     env_extra={"PATH": path_env})
    assert res.returncode == 0, res.stderr
    (run,) = (tmp_path / "traces").iterdir()
    return res.stderr.decode(), run.name


def test_exit_line_names_the_run_and_a_command_that_converts_it(rec, tmp_path):
    # No ft-convert on PATH: the command is the module, run by this interpreter.
    stderr, run_id = _run_exit_line(rec, tmp_path, _path_without_ft_convert())
    command = "%s -m functiontrace.convert traces/%s -o profile.json" % (shlex.quote(rec.py), run_id)
    assert stderr == "functiontrace: trace written to traces/%s; convert it with: %s\n" % (
        run_id, command)
    # ... and that command works, as printed.
    res = subprocess.run(shlex.split(command), cwd=tmp_path, capture_output=True, text=True,
                         env=env_for_recording({"PATH": _path_without_ft_convert()}), timeout=120)
    assert res.returncode == 0, res.stderr
    assert ffprofile.load(tmp_path / "profile.json")["meta"]


def test_exit_line_with_ft_convert_on_path(rec, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(CONVERT, bindir / "ft-convert")
    path_env = str(bindir) + os.pathsep + _path_without_ft_convert()
    code = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'])"
    stderr, run_id = _run_exit_line(rec, tmp_path, path_env, code)
    assert stderr == ("functiontrace: traces of 2 processes written to traces/%s; convert it "
                      "with: ft-convert traces/%s -o profile.json\n" % (run_id, run_id))


def test_quiet_prints_nothing(rec, tmp_path):
    res = rec.record(["-c", "print('out')"], quiet=True)
    assert res.returncode == 0
    assert res.stderr == b"" and res.stdout == b"out\n"


# ---- include / exclude ----

APP = {
    "app/__init__.py": "",
    "app/core.py": """\
        from app.vendor import lib

        def run():
            return lib.helper() + leaf()

        def leaf():
            return len([1, 2])
        """,
    "app/vendor/__init__.py": "",
    "app/vendor/lib.py": """\
        from app import core

        def helper():
            return core.leaf() + 1
        """,
    "main.py": """\
        import json
        from app import core

        def main():
            json.dumps({"a": 1})
            return core.run()

        main()
        """,
}


@pytest.fixture
def app(tmp_path):
    for name, code in APP.items():
        write(tmp_path / name, code)
    return tmp_path


def _modules(trace):
    return {f["module"] for f in trace["functions"].values()}


def _names(trace):
    return {(f["module"], f["name"]) for f in trace["functions"].values()}


def test_exclude_module_keeps_its_callees(rec, app):
    res = rec.record(["--exclude", "app.vendor", "main.py"])
    assert res.returncode == 0, res.stderr
    trace = read_single(rec)
    assert not [m for m in _modules(trace) if m.startswith("app.vendor")]
    names = _names(trace)
    assert ("app.core", "run") in names and ("app.core", "leaf") in names
    assert ("__main__", "main") in names and ("builtins", "builtins.len") in names
    # helper's events are gone, leaf is called twice (once through helper) and is recorded
    # both times, and nothing is left unbalanced.
    core = str(app / "app" / "core.py")
    assert events_by_name(trace, core).count(("CALL", "leaf")) == 2
    assert balanced(trace)
    # In the profile, the excluded helper's callee hangs from helper's caller.
    prof = rec.convert()
    (main,) = [t for t in ffprofile.threads(prof) if t.is_main]
    parents = sorted(c.path[-2] for c in main.find("leaf"))
    assert parents == ["run", "run"], parents


def test_exclude_path_glob(rec, app):
    res = rec.record(["--exclude", "*/vendor/*", "main.py"])
    assert res.returncode == 0, res.stderr
    trace = read_single(rec)
    assert not [f for f in trace["functions"].values() if "/vendor/" in f["file"]]
    assert ("app.core", "leaf") in _names(trace)
    assert balanced(trace)


def test_include_only_matching(rec, app):
    res = rec.record(["--include", "app", "--exclude", "app.vendor.*", "main.py"])
    assert res.returncode == 0, res.stderr
    trace = read_single(rec)
    # The packages' own code (their __init__ run at import) is in app and app.vendor;
    # app.vendor.* leaves out app.vendor.lib only.
    assert _modules(trace) == {"app", "app.core", "app.vendor"}
    assert {f["name"] for f in trace["functions"].values()} == {"<module>", "run", "leaf"}
    assert balanced(trace)


def test_include_several_and_natives(rec, app):
    res = rec.record(["--include", "__main__", "--include", "builtins", "main.py"])
    assert res.returncode == 0, res.stderr
    trace = read_single(rec)
    assert _modules(trace) == {"__main__", "builtins"}
    assert ("builtins", "builtins.len") in _names(trace)
    assert balanced(trace)


# ---- max depth ----

DEEP = """\
    import subprocess, sys

    def d(n):
        len("x")
        if n:
            d(n - 1)

    d(5)
    CHILD
    """


@pytest.mark.parametrize("mode", ["all", "python"])
@pytest.mark.parametrize("how", ["script", "-m", "-c"])
def test_max_depth(rec, tmp_path, mode, how):
    code = textwrap.dedent(DEEP).replace(
        "CHILD", "subprocess.run([sys.executable, '-c', %r])" % "def d(n):\n    d(n - 1) if n else 0\nd(5)")
    write(tmp_path / "deep.py", code)
    target = {"script": ["deep.py"], "-m": ["-m", "deep"], "-c": ["-c", code]}[how]
    res = rec.record(["--mode", mode, "--max-depth", "3", *target])
    assert res.returncode == 0, res.stderr
    files = rec.trace_files()
    assert len(files) == 2
    root, child = sorted((refdecode.read_trace(str(f)) for f in files),
                         key=lambda t: t["header"]["start_reason"] != "run")
    # <module> is depth 1, d(5) depth 2, d(4) depth 3; d(3) and deeper are not recorded, and
    # len is recorded (mode all) only where it is called at depth 3 or less: from d(5).
    ev = [e for e in events_by_name(root) if e[1] in ("<module>", "d", "builtins.len")]
    calls = [name for kind, name in ev if kind == "CALL"]
    assert calls.count("<module>") == 1
    assert calls.count("d") == 2
    assert calls.count("builtins.len") == (1 if mode == "all" else 0)
    assert balanced(root)
    # The child process, started with -c, counts from its own first frame.
    child_calls = [name for kind, name in events_by_name(child) if kind == "CALL"]
    assert child_calls.count("d") == 2 and child_calls.count("<module>") == 1


# ---- the programmatic API ----

API_PROGRAM = """\
    import os, subprocess, sys
    import functiontrace

    def outside():
        return 1

    def region_one():
        return sum([1, 2])

    def inner():
        return 0

    def region_two():
        return inner()

    outside()
    with functiontrace.record(output_dir="traces") as rec:
        region_one()
        subprocess.run([sys.executable, "-c", "pass"])
    assert "FUNCTIONTRACE_RUN_DIR" not in os.environ
    outside()
    r2 = functiontrace.record(output_dir="traces", mode="python", max_depth=1, quiet=True)
    r2.start()
    region_two()
    try:
        r2.start()
    except RuntimeError as e:
        print(e)
    r2.stop()
    try:
        r2.stop()
    except RuntimeError as e:
        print(e)
    print(os.path.basename(rec.run_dir), os.path.basename(r2.run_dir))
    """


def test_api_context_manager_and_start_stop(rec, tmp_path):
    write(tmp_path / "prog.py", API_PROGRAM)
    res = rec.run_plain(["prog.py"], text=True)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == ("functiontrace: this process is already being recorded; stop() that "
                        "recording before starting another")
    assert lines[1] == ("functiontrace: stop() of a recording that is not running; call "
                        "start() first")
    one, two = lines[2].split()
    assert one != two
    # The first region prints its line (not quiet), the second does not.
    assert res.stderr == ("functiontrace: traces of 2 processes written to traces/%s; convert "
                          "it with: " % one) + res.stderr.split("convert it with: ", 1)[1]
    assert res.stderr.count("\n") == 1

    first = [refdecode.read_trace(str(f)) for f in sorted((tmp_path / "traces" / one).glob("*.ftrace"))]
    assert len(first) == 2
    names = {f["name"] for f in first[0]["functions"].values()} | {
        f["name"] for f in first[1]["functions"].values()}
    assert "region_one" in names and "outside" not in names
    assert {t["header"]["start_reason"] for t in first} == {"run", "child"}
    assert all(t["trailer"]["end_reason"] in ("stop", "exit") for t in first)

    (second,) = [refdecode.read_trace(str(f)) for f in (tmp_path / "traces" / two).glob("*.ftrace")]
    assert second["header"]["mode"] == "python"
    names = [n for k, n in events_by_name(second) if k == "CALL"]
    assert "region_two" in names and "inner" not in names   # max_depth=1
    assert "outside" not in names

    for run in (one, two):
        res = subprocess.run([CONVERT, str(tmp_path / "traces" / run), "-o",
                              str(tmp_path / (run + ".json"))], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr


def test_api_under_the_command_line_refuses(rec, tmp_path):
    write(tmp_path / "prog.py", """\
        import functiontrace
        try:
            functiontrace.record().start()
        except RuntimeError as e:
            print(e)
        """)
    res = rec.record(["prog.py"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode() == ("functiontrace: this process is already being recorded; "
                                   "stop() that recording before starting another\n")


@pytest.mark.parametrize("kwargs,message", [
    ("mode='fast'", "functiontrace: mode must be 'all' or 'python', not 'fast'"),
    ("max_depth=-1", "functiontrace: max_depth must be a whole number, 1 or more, or 0 for no "
                     "limit; not -1"),
    ("include=['']", "functiontrace: include patterns must be non-empty strings, not ''"),
    ("exclude=[3]", "functiontrace: exclude patterns must be non-empty strings, not 3"),
])
def test_api_argument_errors(rec, kwargs, message):
    res = rec.run_plain(["-c", "import functiontrace\ntry:\n    functiontrace.record(%s)\n"
                               "except ValueError as e:\n    print(e)" % kwargs], text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout == message + "\n"


def test_api_recording_left_running_ends_at_exit(rec, tmp_path):
    write(tmp_path / "prog.py", """\
        import functiontrace
        functiontrace.record(output_dir="traces").start()

        def late():
            return 1

        late()
        """)
    res = rec.run_plain(["prog.py"], text=True)
    assert res.returncode == 0, res.stderr
    trace = read_single(rec)
    assert trace["trailer"]["end_reason"] == "exit" and trace["trailer"]["exit_status"] == 0
    assert ("CALL", "late") in events_by_name(trace)
    (run,) = (tmp_path / "traces").iterdir()
    assert res.stderr.startswith("functiontrace: trace written to traces/%s; convert it with: "
                                 % run.name)
