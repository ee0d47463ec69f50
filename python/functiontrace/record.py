"""Record a Python program: ``python -m functiontrace.record [options] TARGET [args...]``.

TARGET is a script (``app.py``), ``-m module`` or ``-c code``, exactly as for ``python``;
everything after it belongs to the program. Options:

    -o DIR, --output DIR   where runs go (default ./traces); each run gets DIR/<run id>/
    --mode all|python      record native (builtin) calls too (default), or Python calls only
    -q, --quiet            print nothing, not even where the trace went

The program runs as ``__main__`` the way ``python`` would run it: same ``sys.argv``,
``sys.path[0]``, ``__file__``, module globals, output, exit status and traceback. The trace
is ``DIR/<run id>/<pid>.ftrace`` (FORMAT.md), and every Python process the program starts
(fork, multiprocessing, subprocess, exec...) writes its own file beside it: see
``functiontrace._process`` for how the run reaches them and how each trace ends.

Recording stops at interpreter exit, after non-daemon threads have been joined and the
program's own atexit handlers have run; daemon threads still running are written out then.
This module is the command line; ``functiontrace._process`` is the policy of a traced
process and ``functiontrace._functiontrace`` the mechanism.
"""

import argparse
import builtins
import os
import sys
import time
import types

from functiontrace import __version__
from functiontrace import _process
from functiontrace._process import RUN_DIR_ENV  # noqa: F401 (part of this module's API)

DEFAULT_OUTPUT = "traces"

_USAGE = "python -m functiontrace.record [-o DIR] [--mode all|python] [-q] " \
         "(script | -m module | -c code) [args ...]"

# Options of ours that take a value; used to find where the target starts.
_VALUE_OPTIONS = ("-o", "--output", "--mode")


class _Target:
    """What to run: kind is "script", "module" or "code"."""

    def __init__(self, kind, value, args):
        self.kind = kind
        self.value = value
        self.args = args

    def header_argv(self):
        """The program's command line as the user gave it (FORMAT.md §4.1 argv)."""
        if self.kind == "module":
            return ["-m", self.value] + self.args
        if self.kind == "code":
            return ["-c", self.value] + self.args
        return [self.value] + self.args


def _split(argv):
    """Split argv into our options and the target; our option parsing stops at the target
    so that the program's own options pass through untouched."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            if i + 1 < len(argv):
                return argv[:i], _Target("script", argv[i + 1], argv[i + 2:])
            return argv[:i], None
        for flag, kind in (("-m", "module"), ("-c", "code")):
            if a == flag:
                if i + 1 >= len(argv):
                    return argv[:i + 1], None   # argparse reports the missing value
                return argv[:i], _Target(kind, argv[i + 1], argv[i + 2:])
            if a.startswith(flag) and not a.startswith("--"):
                return argv[:i], _Target(kind, a[2:], argv[i + 1:])
        if a in _VALUE_OPTIONS:
            i += 2
        elif a.startswith("-") and a != "-":
            i += 1
        else:
            return argv[:i], _Target("script", a, argv[i + 1:])
    return argv, None


def _parse(argv):
    ours, target = _split(argv)
    p = argparse.ArgumentParser(prog="python -m functiontrace.record", usage=_USAGE,
                                description="Record every Python and native call of a "
                                            "program into a functiontrace trace.")
    p.add_argument("-o", "--output", default=DEFAULT_OUTPUT, metavar="DIR",
                   help="output directory; each run gets its own subdirectory "
                        "(default: ./%s)" % DEFAULT_OUTPUT)
    p.add_argument("--mode", choices=("all", "python"), default="all",
                   help="'all' records Python and native calls, 'python' Python calls only")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="do not print where the trace was written")
    p.add_argument("--version", action="version", version="functiontrace " + __version__)
    opts = p.parse_args(ours)
    if target is None:
        p.error("a script, -m module or -c code to run is required")
    return opts, target


# ---- the trace file ----

def _run_id():
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-%d" % os.getpid()


def start(run_dir, argv, mode="all"):
    """Start recording this process into run_dir (which must exist) as the run's root;
    returns the trace's path (see functiontrace._process.start)."""
    return _process.start(run_dir, argv, mode, "run")


def stop():
    """Stop recording (trailer end_reason "stop"); returns the trailer's counts, or None
    if nothing was recording (or this is a fork child of a recording process, whose
    inherited trace is dropped)."""
    return _process.end("stop")


# ---- running the target as __main__ ----

def _recorder_files():
    import runpy
    return {_split.__code__.co_filename, runpy._run_code.__code__.co_filename}


def _strip_recorder_frames(tb):
    """Drop the leading traceback entries that belong to the recorder (this module, and the
    runpy frames that started it), so that an uncaught exception reads as it would without
    the recorder. Entries of runpy after our last frame stay: ``python -m`` shows those."""
    ours = _split.__code__.co_filename
    recorder = _recorder_files()
    start = tb
    while tb is not None and tb.tb_frame.f_code.co_filename in recorder:
        if tb.tb_frame.f_code.co_filename == ours:
            start = tb.tb_next
        tb = tb.tb_next
    return start


def _hide_recorder_in_traceback():
    """Python prints an uncaught exception through sys.excepthook; wrap whatever hook is in
    place (the program may have set its own) once, to hand it the traceback without us."""
    inner = sys.excepthook

    def excepthook(typ, value, tb):
        sys.excepthook = inner
        tb = _strip_recorder_frames(tb)
        if value is not None:
            try:
                value.__traceback__ = tb
            except Exception:
                pass
        inner(typ, value, tb)

    sys.excepthook = excepthook


def _new_main(**attrs):
    """A fresh __main__ module, as the interpreter makes it, installed in sys.modules for
    good: objects of the program must pickle as __main__.X, during the run and after it
    (threads and atexit handlers outlive the script's body)."""
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    main.__annotations__ = {}
    for k, v in attrs.items():
        setattr(main, k, v)
    sys.modules["__main__"] = main
    return main


def _safe_path():
    return getattr(sys.flags, "safe_path", False)


def _prepare_script(target):
    """Compile the script and set up sys.argv / sys.path / __main__ as `python script`
    does; returns (function, args) that run it (no wrapper: it would be one more recorder
    frame in the trace). Errors are reported as python reports them."""
    path = target.value
    sys.argv[:] = [path] + target.args
    if os.path.isdir(path) or _is_zipfile(path):
        # python DIR_OR_ZIP: the directory or archive goes first on sys.path and its
        # __main__ module runs.
        if not _safe_path():
            sys.path[0] = os.path.abspath(path) if sys.version_info >= (3, 9) else path
        import runpy
        _new_main()
        return runpy._run_module_as_main, ("__main__", False)
    shown = os.path.abspath(path) if sys.version_info >= (3, 9) else path
    try:
        import io
        with io.open_code(path) as f:
            source = f.read()
    except OSError as e:
        sys.stderr.write("%s: can't open file %r: [Errno %d] %s\n"
                         % (sys.executable, shown, e.errno, e.strerror))
        sys.exit(2)
    if not _safe_path():
        sys.path[0] = os.path.dirname(os.path.realpath(path))
    code = compile(source, shown, "exec", dont_inherit=True)
    from importlib.machinery import SourceFileLoader
    main = _new_main(__file__=shown, __cached__=None,
                     __loader__=SourceFileLoader("__main__", shown))
    return exec, (code, main.__dict__)


def _is_zipfile(path):
    try:
        with open(path, "rb") as f:
            f.seek(-22, 2)
            return f.read(4) == b"PK\x05\x06"
    except OSError:
        return False


def _prepare_module(target):
    import runpy
    # As python -m: argv[0] is "-m" while the module is looked up, then its file.
    sys.argv[:] = ["-m"] + target.args
    _new_main()
    return runpy._run_module_as_main, (target.value, True)


def _prepare_code(target):
    sys.argv[:] = ["-c"] + target.args
    if not _safe_path():
        sys.path[0] = ""
    from importlib.machinery import BuiltinImporter
    main = _new_main(__loader__=BuiltinImporter)
    code = compile(target.value, "<string>", "exec", dont_inherit=True)
    return exec, (code, main.__dict__)


def _prepare(target):
    if target.kind == "module":
        return _prepare_module(target)
    if target.kind == "code":
        return _prepare_code(target)
    return _prepare_script(target)


def _start_or_warn(run_dir, target, opts):
    """Start recording the run; when that is impossible (an output directory that cannot be
    written, a full disk), say so once on stderr and let the program run untraced: it
    behaves as it would have, and only the trace is lost."""
    # Only now: a target that cannot even start leaves no empty run behind (a converter
    # given the output directory reads the newest run).
    try:
        os.makedirs(run_dir, exist_ok=True)
    except OSError as e:
        _warn_untraced("cannot create %s: %s" % (run_dir, e.strerror))
        return
    _process.export_run(run_dir, opts.mode, opts.quiet)
    try:
        # Recording stops at exit (functiontrace._process), not in a finally here: threads
        # the program leaves running are joined by the interpreter after this function
        # returns, and their events belong in the trace.
        start(run_dir, target.header_argv(), opts.mode)
    except OSError as e:
        _process.unexport_run()
        _warn_untraced("cannot record: %s" % e)
    except RuntimeError as e:
        # A request that cannot be met (a backend that cannot record this mode): the
        # user's mistake, not the machine's, and the program has not started.
        sys.exit("functiontrace: cannot record: %s" % e)


def _warn_untraced(why):
    try:
        sys.stderr.write("functiontrace: %s; the program runs untraced\n" % why)
        sys.stderr.flush()
    except Exception:
        pass


def main(argv=None):
    """Entry point of ``python -m functiontrace.record``. Returns when the program's body
    has finished; recording goes on until interpreter exit. Exceptions of the program
    propagate (SystemExit as is, others with the recorder's frames hidden from the
    printed traceback), so that the interpreter ends the process as it would have."""
    opts, target = _parse(sys.argv[1:] if argv is None else argv)
    if _process.recording():
        # A traced program ran the recorder: this process was joining the outer run as a
        # child; it records its own run instead, as it would untraced.
        _process.end("stop")
    run_id = _run_id()
    run_dir = os.path.abspath(os.path.join(opts.output, run_id))

    try:
        run, run_args = _prepare(target)
    except SystemExit:
        raise
    except BaseException:
        _hide_recorder_in_traceback()
        raise
    _start_or_warn(run_dir, target, opts)
    try:
        run(*run_args)
    except SystemExit:
        raise
    except BaseException:
        _hide_recorder_in_traceback()
        raise


if __name__ == "__main__":
    # Run the importable copy of this module: the program replaces sys.modules["__main__"],
    # and its globals may overwrite ours.
    from functiontrace.record import main as _main
    _main()
