"""``python -m functiontrace.convert ARGS``: run ft-convert (the converter is a C program,
convert/ in the source tree) with ARGS, for people without it on PATH.

The program is looked for where each way of installing puts it: in this package
(``functiontrace/bin/ft-convert``, by ``pip install``), in the source tree's ``build/``
(``make``), and beside the interpreter's or the package's prefix or on PATH (``make
install``). Launchers like the ``ft-convert`` script pip writes (which run this module) are
skipped, so that none runs itself."""

import os
import sys

NAME = "ft-convert"


def _is_program(path):
    """An executable file that is not a script (a launcher of ours would be one)."""
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        return False
    try:
        with open(path, "rb") as f:
            return f.read(2) != b"#!"
    except OSError:
        return False


def _candidates():
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "bin", NAME)
    yield os.path.join(os.path.dirname(os.path.dirname(here)), "build", NAME)
    # <prefix>/lib/pythonX.Y/site-packages/functiontrace → <prefix>/bin
    yield os.path.join(here, os.pardir, os.pardir, os.pardir, os.pardir, "bin", NAME)
    yield os.path.join(sys.prefix, "bin", NAME)
    for d in os.environ.get("PATH", "").split(os.pathsep):
        yield os.path.join(d or os.curdir, NAME)


def find():
    """The ft-convert program's path, or None."""
    for path in _candidates():
        if _is_program(path):
            return os.path.normpath(path)
    return None


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    program = find()
    if program is None:
        sys.exit("functiontrace: the ft-convert program is not built: run 'make convert' in "
                 "the functiontrace source tree, or install functiontrace with pip "
                 "('python3 -m pip install .' there), which builds it")
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    try:
        os.execv(program, [NAME] + args)
    except OSError as e:
        sys.exit("functiontrace: cannot run %s: %s; rebuild it ('make convert', or pip "
                 "install again)" % (program, e.strerror))


if __name__ == "__main__":
    main()
