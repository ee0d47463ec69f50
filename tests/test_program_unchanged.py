"""The recorder never changes what the traced program does: output, exit status, tracebacks,
and the `__main__` semantics of `python app.py`, `python -m mod` and `python -c code`."""

import textwrap

import pytest

import ffprofile


def write(tmp, name, code):
    path = tmp / name
    path.write_text(textwrap.dedent(code))
    return path


def same_as_plain(rec, args, cwd=None):
    plain = rec.run_plain(args, cwd=cwd)
    traced = rec.record(args, cwd=cwd)
    assert traced.stdout == plain.stdout
    assert traced.stderr == plain.stderr
    assert traced.returncode == plain.returncode
    return traced


MAIN_SEMANTICS = """
    import os, pickle, sys
    class Point:
        def __init__(self, x):
            self.x = x
    def report():
        print("name", __name__)
        print("file", os.path.basename(__file__))
        print("argv", sys.argv[1:], os.path.basename(sys.argv[0]))
        print("path0", sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
        data = pickle.dumps(Point(3))
        print("pickled as __main__", b"__main__" in data, pickle.loads(data).x)
        print("main module is this", sys.modules["__main__"].report is report)
    if __name__ == "__main__":
        report()
    """


def test_script_semantics(rec, tmp_path):
    script = write(tmp_path, "app.py", MAIN_SEMANTICS)
    res = same_as_plain(rec, [str(script), "--flag", "value", "-o", "x"])
    assert b"name __main__" in res.stdout
    assert b"argv ['--flag', 'value', '-o', 'x'] app.py" in res.stdout
    assert b"pickled as __main__ True 3" in res.stdout
    assert b"main module is this True" in res.stdout


def test_module_semantics(rec, tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    write(pkg, "tool.py", """
        import sys
        def run():
            print("module", __name__, __spec__.name if __spec__ else None, sys.argv[1:])
        if __name__ == "__main__":
            run()
        """)
    res = same_as_plain(rec, ["-m", "pkg.tool", "a", "-b"])
    assert b"module __main__ pkg.tool ['a', '-b']" in res.stdout
    profile = rec.convert()
    assert any("run" in t.names() for t in ffprofile.threads(profile))


def test_code_semantics(rec, tmp_path):
    code = "import sys\ndef hello():\n    print('hi', sys.argv)\nhello()\n"
    res = same_as_plain(rec, ["-c", code, "x", "y"])
    assert b"hi ['-c', 'x', 'y']" in res.stdout
    profile = rec.convert()
    assert any("hello" in t.names() for t in ffprofile.threads(profile))


@pytest.mark.parametrize("body,status", [
    ("pass", 0),
    ("import sys; sys.exit(3)", 3),
    ("import sys; sys.exit('bye')", 1),
    ("raise SystemExit(0)", 0),
    ("print('out'); import sys; print('err', file=sys.stderr); sys.exit(7)", 7),
])
def test_exit_status(rec, tmp_path, body, status):
    script = write(tmp_path, "exits.py", f"def f():\n    {body}\nf()\n")
    res = same_as_plain(rec, [str(script)])
    assert res.returncode == status
    # The trace is complete however the program ended.
    profile = rec.convert()
    assert "f" in ffprofile.threads(profile)[0].names()


def test_uncaught_exception_traceback(rec, tmp_path):
    script = write(tmp_path, "boom.py", """
        def explode():
            raise RuntimeError("boom")
        def caller():
            explode()
        caller()
        """)
    res = same_as_plain(rec, [str(script)])
    assert res.returncode == 1
    assert b"RuntimeError: boom" in res.stderr
    assert b"functiontrace" not in res.stderr and b"runpy" not in res.stderr
    main = ffprofile.threads(rec.convert())[0]
    assert any(c.path[-2:] == ("caller", "explode") for c in main.calls)


def test_keyboard_interrupt(rec, tmp_path):
    script = write(tmp_path, "intr.py", "def f():\n    raise KeyboardInterrupt\nf()\n")
    res = same_as_plain(rec, [str(script)])
    assert res.returncode != 0


def test_stdin_and_unbuffered_output_untouched(rec, tmp_path):
    script = write(tmp_path, "echo.py", """
        import sys
        data = sys.stdin.read()
        sys.stdout.write(data.upper())
        sys.stderr.write("done\\n")
        """)
    plain = rec.run_plain([str(script)], input=b"hello\n")
    traced = rec.record([str(script)], input=b"hello\n")
    assert (traced.stdout, traced.stderr, traced.returncode) == \
           (plain.stdout, plain.stderr, plain.returncode) == (b"HELLO\n", b"done\n", 0)
