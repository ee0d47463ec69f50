"""Record a Python program: ``python -m functiontrace.record [options] TARGET [args...]``.

TARGET is a script (``app.py``), ``-m module`` or ``-c code``, exactly as for ``python``;
everything after it belongs to the program. Options:

    -o DIR, --output DIR   where runs go (default ./traces); each run gets DIR/<run id>/
    --mode all|python      record native (builtin) calls too (default), or Python calls only
    --include PATTERN      record only functions of matching modules or files (repeatable)
    --exclude PATTERN      do not record functions of matching modules or files (repeatable)
    --max-depth N          do not record calls deeper than N
    --memory               also record allocations and frees of Python's allocators
    -q, --quiet            print nothing, not even where the trace went

A PATTERN with a ``/`` is a glob of source file paths (``*/site-packages/*``), any other a
glob of module names that also covers their submodules (``json`` is json and json.decoder;
native functions belong to the module of their type or of their definition: ``builtins``,
``_json``...). Functions left out are not recorded at all, but the functions they call are
judged on their own. Each function is judged once, when first seen.

From a program, ``functiontrace.record(...)`` records one region of it (``Recording``).

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

try:
    from functiontrace import _process
except ImportError as _e:
    # The extension is not built for this interpreter: the command line still parses
    # (--help, --version, usage errors) and then says how to build it.
    if _e.name != "functiontrace._functiontrace":
        raise
    _process = None
RUN_DIR_ENV = "FUNCTIONTRACE_RUN_DIR"   # part of this module's API

_NOT_BUILT = (
    "functiontrace: the recorder's C extension is not built for this Python (%s %s): "
    "build it with 'make ext PYTHON=%s' in the functiontrace source tree, or install "
    "functiontrace with this interpreter ('%s -m pip install .' there)"
    % (sys.implementation.name, sys.version.split()[0], sys.executable, sys.executable))

DEFAULT_OUTPUT = "traces"

_USAGE = "python -m functiontrace.record [options] (script | -m module | -c code) [args ...]"

_EPILOG = """\
everything after the script (or -m module, -c code) is the program's own arguments.

examples:
  python -m functiontrace.record app.py --port 8080
  python -m functiontrace.record -o /tmp/traces --mode python -m mypackage.cli run
  python -m functiontrace.record --include myapp --exclude myapp.vendor app.py
  python -m functiontrace.record --exclude '*/site-packages/*' --max-depth 20 app.py

A PATTERN with a '/' is a glob of source file paths; any other a glob of module names,
which also covers their submodules (json: json, json.decoder...). Each run goes to
DIR/<run id>/; convert it with: ft-convert DIR -o profile.json
""" + "\n"

# Options of ours that take a value; used to find where the target starts.
_VALUE_OPTIONS = ("-o", "--output", "--mode", "--include", "--exclude", "--max-depth")


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
                    return argv[:i], _Target(kind, None, [])   # _parse reports it
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


def _max_depth(text):
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(
            "%r is not a depth: give a whole number of calls, 1 or more "
            "(1 records only the outermost calls)" % text)
    return n


def _pattern(text):
    if not text:
        raise argparse.ArgumentTypeError(
            "an empty pattern matches nothing: give a module name (json, myapp.*) or a "
            "path glob with a '/' (*/site-packages/*)")
    return text


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        if message.startswith("unrecognized arguments: "):
            unknown = message.split(": ", 1)[1]
            message = ("unknown option %s; options of the recorded program go after the "
                       "script: python -m functiontrace.record [options] script.py %s"
                       % (unknown, unknown))
        super().error(message)


def _parser():
    p = _Parser(prog="python -m functiontrace.record", usage=_USAGE, epilog=_EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Record every Python and native call of a program, in every "
                            "thread and\nevery Python process it starts, into a "
                            "functiontrace run directory.")
    p.add_argument("-o", "--output", default=DEFAULT_OUTPUT, metavar="DIR",
                   help="output directory; each run gets its own subdirectory "
                        "(default: ./%s)" % DEFAULT_OUTPUT)
    p.add_argument("--mode", choices=("all", "python"), default="all",
                   help="'all' records Python and native calls (default), 'python' Python "
                        "calls only (lowest overhead)")
    p.add_argument("--include", action="append", default=[], type=_pattern,
                   metavar="PATTERN",
                   help="record only functions of matching modules or files (repeatable)")
    p.add_argument("--exclude", action="append", default=[], type=_pattern,
                   metavar="PATTERN",
                   help="do not record functions of matching modules or files; their "
                        "callees still are (repeatable)")
    p.add_argument("--max-depth", type=_max_depth, default=0, metavar="N",
                   help="do not record calls more than N deep (counted from the program's "
                        "first frame, per thread)")
    p.add_argument("--memory", action="store_true",
                   help="also record every allocation and free of Python's object and "
                        "memory allocators, for the profiler's native allocation views "
                        "(costs time: see the README)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="do not print where the trace was written")
    p.add_argument("--version", action="version", version="functiontrace " + __version__)
    return p


def _parse(argv):
    ours, target = _split(argv)
    p = _parser()
    opts = p.parse_args(ours)
    if target is None:
        p.error("nothing to record: give a script (app.py), -m module or -c code after the "
                "options")
    if target.value is None:
        p.error("-m needs the module to run after it: -m package.module [args ...]"
                if target.kind == "module" else
                "-c needs the code to run after it: -c 'import app; app.main()' [args ...]")
    return opts, target


def _filters(opts):
    return {"include": list(opts.include), "exclude": list(opts.exclude),
            "max_depth": opts.max_depth, "memory": opts.memory}


# ---- the trace file ----

def _run_id():
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-%d" % os.getpid()


def start(run_dir, argv, mode="all", filters=None, depth_offset=0):
    """Start recording this process into run_dir (which must exist) as the run's root;
    returns the trace's path (see functiontrace._process.start)."""
    return _process.start(run_dir, argv, mode, "run", filters or {}, depth_offset)


def _depth_offset(run, mode):
    """The recorder's calls before the program's first frame when run() runs it: runpy's
    for -m, a directory or a zip file (as for a child run with -m), and exec itself for a
    script or code when native calls are recorded."""
    if run is not exec:
        return _process.depth_offset(["-m"], mode)
    return 1 if mode == "all" else 0


def stop():
    """Stop recording (trailer end_reason "stop"); returns the trailer's counts, or None
    if nothing was recording (or this is a fork child of a recording process, whose
    inherited trace is dropped)."""
    return _process.end("stop")


class Recording:
    """One region of a program recorded into a run directory of its own, which ft-convert
    reads like any other: ``functiontrace.record(...)`` makes one.

        with functiontrace.record(output_dir="traces"):
            work()

        rec = functiontrace.record(output_dir="traces", mode="python")
        rec.start()
        work()
        rec.stop()       # rec.run_dir is the run's directory

    The arguments are the command line's options: output_dir (-o), mode ("all" or
    "python"), include and exclude (lists of patterns, or one pattern), max_depth (0 for
    no limit; depth 1 is the calls made at the level of the start() call), memory (also
    record allocations and frees, as --memory) and quiet (no line on stderr at stop()). Every thread of the process is recorded while it runs, and
    so is every Python process started meanwhile (as by the command line). One recording at
    a time per process: start() raises RuntimeError while another runs, including under
    ``python -m functiontrace.record``. A Recording can be started again after stop(): each
    start() makes a new run directory."""

    def __init__(self, output_dir=DEFAULT_OUTPUT, mode="all", include=(), exclude=(),
                 max_depth=0, quiet=False, memory=False):
        if mode not in ("all", "python"):
            raise ValueError("functiontrace: mode must be 'all' or 'python', not %r" % (mode,))
        if not isinstance(max_depth, int) or max_depth < 0:
            raise ValueError("functiontrace: max_depth must be a whole number, 1 or more, "
                             "or 0 for no limit; not %r" % (max_depth,))
        self.output_dir = output_dir
        self.mode = mode
        self.filters = {"include": _pattern_list(include, "include"),
                        "exclude": _pattern_list(exclude, "exclude"),
                        "max_depth": max_depth, "memory": bool(memory)}
        self.quiet = quiet
        self.run_dir = None
        self.path = None
        self._saved_env = None

    def start(self):
        """Start recording; returns self."""
        if _process is None:
            raise RuntimeError(_NOT_BUILT)
        if _process.recording() or self._saved_env is not None:
            raise RuntimeError("functiontrace: this process is already being recorded; "
                               "stop() that recording before starting another")
        self.run_dir = _new_run_dir(self.output_dir)
        # Not quiet: a recording still running at exit is ended, and reported, then.
        self._saved_env = _process.export_run(self.run_dir, self.mode, self.quiet,
                                              self.filters)
        try:
            argv = list(getattr(sys, "argv", []))
            self.path = _process.start(self.run_dir, argv, self.mode, "run", self.filters, 0)
        except BaseException:
            _process.unexport_run(self._saved_env)
            self._saved_env = None
            raise
        return self

    def stop(self):
        """Stop recording and write the trace; returns the trailer's counts (events,
        dropped_events...)."""
        if self._saved_env is None:
            raise RuntimeError("functiontrace: stop() of a recording that is not running; "
                               "call start() first")
        stats = _process.end("stop")
        _process.unexport_run(self._saved_env)
        self._saved_env = None
        if not self.quiet:
            _process.say(_process.report_line(self.run_dir, stats, os.getcwd()))
        return stats

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def _pattern_list(patterns, what):
    if isinstance(patterns, str):
        patterns = [patterns]
    patterns = list(patterns or ())
    for p in patterns:
        if not isinstance(p, str) or not p:
            raise ValueError("functiontrace: %s patterns must be non-empty strings, not %r"
                             % (what, p))
    return patterns


def _new_run_dir(output_dir):
    """A run directory of its own in output_dir. Run ids have a resolution of one second:
    a second region of this process in the same second waits for the next one, rather than
    mixing two runs in one directory."""
    deadline = time.monotonic() + 3
    while True:
        run_dir = os.path.abspath(os.path.join(output_dir, _run_id()))
        try:
            os.makedirs(run_dir)
            return run_dir
        except FileExistsError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        except OSError as e:
            raise OSError(e.errno, "functiontrace: cannot create the run directory %s: %s; "
                          "give another output_dir" % (run_dir, e.strerror)) from None


def _start_or_warn(run_dir, target, opts, depth_offset):
    """Start recording the run; when the machine makes that impossible (an output directory
    that cannot be created or written, a full disk), say so once on stderr, with what to do,
    and let the program run untraced: it behaves as it would have, and only the trace is
    lost. A request that cannot be met (a backend that cannot record this mode) is the
    user's to fix: it stops here, before the program starts."""
    # Only now: a target that cannot even start leaves no empty run behind (a converter
    # given the output directory reads the newest run).
    try:
        os.makedirs(run_dir, exist_ok=True)
    except OSError as e:
        _warn_untraced("cannot create the run directory %s: %s; choose another output "
                       "directory with -o DIR" % (run_dir, e.strerror))
        return
    _process.export_run(run_dir, opts.mode, opts.quiet, _filters(opts))
    try:
        # Recording stops at exit (functiontrace._process), not in a finally here: threads
        # the program leaves running are joined by the interpreter after this function
        # returns, and their events belong in the trace.
        start(run_dir, target.header_argv(), opts.mode, _filters(opts), depth_offset)
    except OSError as e:
        _process.unexport_run()
        _warn_untraced("cannot record: %s" % _why(e))
    except (RuntimeError, ValueError) as e:
        sys.exit("functiontrace: cannot record: %s" % _why(e))


def _warn_untraced(why):
    try:
        sys.stderr.write("functiontrace: %s; the program runs untraced\n" % why)
        sys.stderr.flush()
    except Exception:
        pass


def _why(e):
    """A start() failure as one clause saying what to do about it."""
    msg = str(e)
    if msg.startswith("functiontrace: "):
        msg = msg[len("functiontrace: "):]
    if isinstance(e, OSError):
        return "%s: %s; choose another output directory with -o DIR" % (
            e.filename or "the trace file", e.strerror or msg)
    if "FUNCTIONTRACE_BACKEND" in msg:
        return msg + "; unset FUNCTIONTRACE_BACKEND to let functiontrace choose"
    if "another" in msg:
        return msg + "; record without the other profiler or frame evaluator"
    return msg


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


def main(argv=None):
    """Entry point of ``python -m functiontrace.record``. Returns when the program's body
    has finished; recording goes on until interpreter exit. Exceptions of the program
    propagate (SystemExit as is, others with the recorder's frames hidden from the
    printed traceback), so that the interpreter ends the process as it would have."""
    opts, target = _parse(sys.argv[1:] if argv is None else argv)
    if _process is None:
        sys.exit(_NOT_BUILT)
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
    _start_or_warn(run_dir, target, opts, _depth_offset(run, opts.mode))
    try:
        run(*run_args)
    except SystemExit:
        raise
    except BaseException:
        _hide_recorder_in_traceback()
        raise


class _CallableModule(types.ModuleType):
    """This module, callable: ``functiontrace.record(...)`` is a Recording whether
    ``functiontrace.record`` names the module (once imported) or not yet."""

    def __call__(self, *args, **kwargs):
        return Recording(*args, **kwargs)


if __name__ != "__main__":
    sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    # Run the importable copy of this module: the program replaces sys.modules["__main__"],
    # and its globals may overwrite ours.
    from functiontrace.record import main as _main
    _main()
