"""Markers: what happened in a thread besides calls (FORMAT.md §4.6).

The user API, re-exported by ``functiontrace``:

``marker(name, **fields)``
    an instant marker in the calling thread.
``interval(name, **fields)``
    an interval marker, as a context manager (``with interval("load", path=p):``) or a
    decorator (``@interval("step")``); its fields may still be changed inside the block
    (``with interval("q") as iv: iv.fields["rows"] = n``), they are recorded at its end.

Both cost one C call that returns at once when the process is not being recorded (and
nothing at all without the extension).

The recorder's own markers, installed by ``install()`` when a process starts recording
(functiontrace._process) and left in place afterwards (each checks first whether the
process records):

- ``print``: ``builtins.print`` is replaced by a C function (record/markers.c) that the
  trace shows as ``builtins.print``, as before. The arguments are turned into text once,
  with ``str`` as print would, and the real print writes that same text; the marker holds
  it with ``sep`` and ``end``, and which file it went to.
- ``log``: ``logging.Logger.callHandlers`` is wrapped, which every record of every logger
  passes through once its level and filters let it through, before any handler sees it.
- ``import``: ``importlib._bootstrap._find_and_load`` is wrapped: the interpreter's import
  statement and ``importlib.import_module`` both call it (by attribute lookup) for every
  module that is not in ``sys.modules`` yet, so each import is an interval and imports
  that it triggers nest inside it.
- ``exception``: on 3.12+, sys.monitoring's RAISE and EXCEPTION_HANDLED events through a
  tool id of our own (not the profiler's, which the recorder's call hooks use), with C
  callbacks (record/markers.c): where each exception is first raised, and each ``except``
  or ``finally`` block that takes it; not those of the recorder's own files or of the
  frozen import system. Before 3.12, from the frames the call hooks see left by an
  exception (record/exctrack.h): where it left the first frame, and the frame where it
  stopped; an exception raised and caught inside one frame leaves none, and is not shown.
  On every version, an exception that reaches the top of a thread (``sys.excepthook``,
  ``threading.excepthook``).
- ``write``: ``sys.stdout`` and ``sys.stderr``, when they are the interpreter's
  ``io.TextIOWrapper`` objects, get an instance attribute ``write`` (C, record/markers.c)
  that calls their class's ``write`` and marks the text: the program's own
  ``sys.stdout.write(...)``, ``writelines`` (one marker per line: io implements it with
  ``self.write``), ``warnings``, tracebacks. Not what ``print`` writes, nor a log record's
  handlers (their markers hold the text), nor the ``buffer`` underneath. Removed by
  ``stop()`` if still ours, put back by the next start.
- ``gc``: a ``gc.callbacks`` entry times each collection.
- ``thread``: ``threading.Thread`` gets markers when a thread starts and ends (in that
  thread) and when it is renamed (in the thread that renames it).

Every wrapper calls the real function whatever happens to the marker, and never lets an
error of its own reach the program. FUNCTIONTRACE_MARKERS=0 in the environment leaves all of
these hooks out (the user API still works), to measure what they cost.
"""

import builtins
import sys

try:
    from functiontrace import _functiontrace as _ft
except ImportError:   # the extension is not built for this interpreter: markers do nothing
    _ft = None

__all__ = ["marker", "interval"]

if _ft is not None:
    _c_marker = _ft.marker
    _c_interval = _ft.interval
    _now = _ft.now
    _active = _ft.is_active
else:
    def _c_marker(kind, name, fields=None):
        return None

    _c_interval = _c_marker

    def _now():
        return 0

    def _active():
        return False


# ---- the user API ----

def marker(name, **fields):
    """Record an instant marker `name` with `fields` in this thread's trace (nothing when
    the process is not being recorded)."""
    _c_marker("user", name, fields)


class interval:
    """An interval marker from entering to leaving a block, or around each call of the
    function it decorates. `fields` (a dict) is recorded when the interval ends."""

    __slots__ = ("name", "fields", "_starts")

    def __init__(self, name, **fields):
        self.name = name
        self.fields = fields
        self._starts = []

    def __enter__(self):
        self._starts.append(_now() if _active() else 0)
        return self

    def __exit__(self, typ, value, tb):
        start = self._starts.pop() if self._starts else 0
        if start:
            _c_interval("user", self.name, start, self.fields)
        return False

    def __call__(self, func):
        name, fields = self.name, self.fields

        def timed(*args, **kwargs):
            if not _active():
                return func(*args, **kwargs)
            start = _now()
            try:
                return func(*args, **kwargs)
            finally:
                _c_interval("user", name, start, fields)
        _copy_names(timed, func)
        return timed


def _copy_names(wrapper, real):
    """Make wrapper look like the function it replaces (name, doc, pickling by name)."""
    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        try:
            setattr(wrapper, attr, getattr(real, attr))
        except (AttributeError, TypeError):
            pass
    try:
        wrapper.__wrapped__ = real
    except AttributeError:
        pass
    return wrapper


# ---- print ----

def _file_name(file):
    if file is sys.stdout:
        return "stdout"
    if file is sys.stderr:
        return "stderr"
    name = getattr(file, "name", None)
    return name if isinstance(name, str) else type(file).__name__


def _make_print(real):
    def print(*args, **kwargs):
        if not _active():
            return real(*args, **kwargs)
        sep = kwargs.get("sep")
        end = kwargs.get("end")
        file = kwargs.get("file")
        if file is None:
            file = sys.stdout
        if (file is None or not (sep is None or isinstance(sep, str)) or
                not (end is None or isinstance(end, str)) or
                not set(kwargs) <= {"sep", "end", "file", "flush"}):
            return real(*args, **kwargs)   # nothing is written, or print raises
        try:
            texts = [str(a) for a in args]
        except BaseException:
            return real(*args, **kwargs)   # raises as print would
        real(*texts, **kwargs)
        try:
            text = (" " if sep is None else sep).join(texts) + ("\n" if end is None else end)
            _c_marker("print", "print", {"text": text, "file": _file_name(file)})
        except Exception:
            pass
    _copy_names(print, real)
    return print


def _hook_print():
    wrap = getattr(_ft, "wrap_print", None)
    if getattr(builtins.print, "__self__", None) is builtins and wrap is not None:
        builtins.print = wrap(builtins.print)    # in C: see record/markers.c
    else:
        builtins.print = _make_print(builtins.print)


# ---- logging ----

# ---- writes to sys.stdout and sys.stderr ----

def _hook_streams():
    """sys.stdout and sys.stderr, when they are the interpreter's io.TextIOWrapper objects,
    get an instance attribute `write` (record/markers.c) that writes through their class
    and marks the text. A stream the program put in their place is left alone, and so is
    one whose `write` is already set on the instance (by the program, or by us)."""
    make = getattr(_ft, "stream_write", None)
    if make is None:
        return
    import io
    for which, name in enumerate(("stdout", "stderr")):
        stream = getattr(sys, name, None)
        if type(stream) is not io.TextIOWrapper:
            continue
        d = getattr(stream, "__dict__", None)
        if not isinstance(d, dict) or "write" in d:
            continue
        d["write"] = make(stream, which)


def _hook_logging(logging):
    Logger = logging.Logger
    real = Logger.callHandlers
    if getattr(real, "_functiontrace", False):
        return

    quiet = getattr(_ft, "quiet_writes", None)

    def callHandlers(self, record):
        if _active():
            try:
                try:
                    message = record.getMessage()
                except Exception:
                    message = str(record.msg)
                _c_marker("log", str(record.levelname), {
                    "level": record.levelno, "logger": str(record.name), "message": message,
                    "where": "%s:%s" % (record.pathname, record.lineno)})
            except Exception:
                pass
            if quiet is not None:
                # Its handlers' writes to sys.stdout/sys.stderr are this marker's text.
                quiet(1)
                try:
                    return real(self, record)
                finally:
                    quiet(-1)
        return real(self, record)
    _copy_names(callHandlers, real)
    callHandlers._functiontrace = True
    Logger.callHandlers = callHandlers


# ---- imports ----

def _hook_imports():
    bootstrap = sys.modules.get("_frozen_importlib")
    real = getattr(bootstrap, "_find_and_load", None)
    if real is None or getattr(real, "_functiontrace", False):
        return
    modules = sys.modules

    def _find_and_load(name, import_):
        if name in modules or not _active():
            return real(name, import_)
        start = _now()
        try:
            module = real(name, import_)
        except BaseException as e:
            try:
                _c_interval("import", name, start,
                            {"module": name, "error": "%s: %s" % (type(e).__name__, e)})
            except Exception:
                pass
            raise
        _c_interval("import", name, start, {"module": name})
        return module
    _copy_names(_find_and_load, real)
    _find_and_load._functiontrace = True
    bootstrap._find_and_load = _find_and_load


# ---- exceptions ----

def _exception_marker(event, exc, where):
    try:
        message = str(exc)
    except Exception:
        message = "<unprintable %s>" % type(exc).__name__
    _c_marker("exception", type(exc).__name__, {
        "event": event, "exception": type(exc).__qualname__, "message": message,
        "where": where})


def _package_files():
    """The recorder's own source files: what happens in them is not the program's."""
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        return {os.path.join(here, f) for f in os.listdir(here) if f.endswith(".py")}
    except OSError:
        return set()


# sys.monitoring tool ids: 0 debugger, 1 coverage, 2 profiler (the recorder's calls),
# 5 optimizer; 3 and 4 are free for anyone, 4 first.
_TOOL_IDS = (4, 3)


def _hook_monitoring():
    mon = getattr(sys, "monitoring", None)
    if mon is None:
        # Before 3.12: from the frames the call hooks see left (record/exctrack.h).
        tracking = getattr(_ft, "exception_tracking", None)
        if tracking is not None:
            tracking(_package_files())
        return
    for tool in _TOOL_IDS:
        if mon.get_tool(tool) == "functiontrace markers":
            return
        if mon.get_tool(tool) is None:
            break
    else:
        return   # every spare id is taken: no exception markers but uncaught ones
    on_raise, on_handled = _ft.exception_hooks(_package_files())   # in C
    mon.use_tool_id(tool, "functiontrace markers")
    events = mon.events
    mon.register_callback(tool, events.RAISE, on_raise)
    mon.register_callback(tool, events.EXCEPTION_HANDLED, on_handled)
    mon.set_events(tool, events.RAISE | events.EXCEPTION_HANDLED)


def _innermost(tb):
    """Where the exception of traceback tb was raised: its last entry."""
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return "%s (%s:%s)" % (getattr(code, "co_qualname", code.co_name), code.co_filename,
                           tb.tb_lineno)


def _quietly(fn, *args):
    """fn(*args) with its writes to sys.stdout/sys.stderr unmarked: the traceback it
    prints is the uncaught marker's exception."""
    quiet = getattr(_ft, "quiet_writes", None)
    if quiet is None:
        return fn(*args)
    quiet(1)
    try:
        return fn(*args)
    finally:
        quiet(-1)


def _hook_excepthook():
    real = sys.excepthook
    if getattr(real, "_functiontrace", False):
        return

    def excepthook(typ, value, tb):
        if _active():
            try:
                _exception_marker("uncaught", value if value is not None else typ(),
                                  _innermost(tb))
            except Exception:
                pass
            return _quietly(real, typ, value, tb)
        return real(typ, value, tb)
    _copy_names(excepthook, real)
    excepthook._functiontrace = True
    sys.excepthook = excepthook


# ---- garbage collection ----

_gc_start = [0]


def _gc_callback(phase, info):
    if phase == "start":
        _gc_start[0] = _now() if _active() else 0
        return
    start, _gc_start[0] = _gc_start[0], 0
    if start:
        try:
            _c_interval("gc", "GC", start, {
                "generation": info.get("generation"), "collected": info.get("collected"),
                "uncollectable": info.get("uncollectable")})
        except Exception:
            pass


def _hook_gc():
    import gc
    if _gc_callback not in gc.callbacks:
        gc.callbacks.append(_gc_callback)


# ---- threads ----

def _hook_threading(threading):
    Thread = threading.Thread
    real_inner = getattr(Thread, "_bootstrap_inner", None)
    if real_inner is None or getattr(real_inner, "_functiontrace", False):
        return

    def _bootstrap_inner(self):
        if _active():
            _c_marker("thread", "Thread start", {"thread": str(self._name)})
        try:
            return real_inner(self)
        finally:
            if _active():
                _c_marker("thread", "Thread end", {"thread": str(self._name)})
    _copy_names(_bootstrap_inner, real_inner)
    _bootstrap_inner._functiontrace = True
    Thread._bootstrap_inner = _bootstrap_inner

    prop = Thread.__dict__.get("name")
    real_excepthook = getattr(threading, "excepthook", None)
    if isinstance(prop, property) and prop.fset is not None:
        fget, fset = prop.fget, prop.fset

        def set_name(self, value):
            old = getattr(self, "_name", None)
            fset(self, value)
            if _active() and old != getattr(self, "_name", None):
                try:
                    _c_marker("thread", "Thread rename",
                              {"thread": str(self._name), "old_name": str(old)})
                except Exception:
                    pass
        Thread.name = property(fget, set_name, prop.fdel, prop.__doc__)

    if real_excepthook is not None:
        def excepthook(args):
            if _active():
                try:
                    _exception_marker("uncaught", args.exc_value, _innermost(args.exc_traceback))
                except Exception:
                    pass
                return _quietly(real_excepthook, args)
            return real_excepthook(args)
        _copy_names(excepthook, real_excepthook)
        threading.excepthook = excepthook


# ---- installation ----

_installed = [False]


def install(when_imported):
    """Install every hook of the recorder's markers (once per process; a fork child
    inherits them). when_imported(name, then) calls then(module) once module `name` is
    imported (functiontrace._process), so that logging and threading are hooked without
    importing them."""
    if _ft is None:
        return
    if _installed[0]:
        _guarded(_hook_streams)     # stop() gave the streams their write back
        return
    import os
    if os.environ.get("FUNCTIONTRACE_MARKERS") == "0":   # for measuring their cost
        return
    _installed[0] = True
    for hook in (_hook_print, _hook_streams,
                 _hook_imports, _hook_excepthook, _hook_gc, _hook_monitoring,
                 lambda: when_imported("logging", _hook_logging),
                 lambda: when_imported("threading", _hook_threading)):
        _guarded(hook)


def _guarded(hook):
    try:
        hook()
    except Exception:
        pass
