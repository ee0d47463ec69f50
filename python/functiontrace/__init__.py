"""functiontrace: a tracing profiler for Python.

``functiontrace.record(output_dir="traces", ...)`` records one region of a program, as a
context manager or with start()/stop() (see functiontrace.record.Recording);
``python -m functiontrace.record`` records a whole program."""

import sys

__version__ = "0.1.0"

# The interpreters the recorder is written and tested for (README "Python versions").
SUPPORTED = ((3, 8), (3, 13))


def unsupported_reason(version_info=None, implementation=None):
    """Why this interpreter cannot record (a sentence naming it and the supported range),
    or None when it can. The arguments stand in for sys.version_info[:3] and
    sys.implementation.name."""
    version = tuple((version_info or sys.version_info)[:3])
    # Python 2 has no sys.implementation: this file must still run there, to say no.
    impl = implementation or getattr(getattr(sys, "implementation", None), "name", "cpython")
    low, high = SUPPORTED
    wanted = "CPython %d.%d to %d.%d" % (low + high)
    shown = "%s %s" % ({"cpython": "CPython", "pypy": "PyPy"}.get(impl, impl),
                       ".".join(str(x) for x in version))
    if impl != "cpython":
        return "functiontrace %s records %s only, not %s" % (__version__, wanted, shown)
    if not low <= version[:2] <= high:
        return "functiontrace %s supports %s, not %s" % (__version__, wanted, shown)
    return None


_reason = unsupported_reason()
if _reason:
    # Before anything imports the extension: a clear ImportError, never a crash in C.
    raise ImportError(_reason)
del _reason

def __getattr__(name):
    # functiontrace.record is the submodule, callable (it makes a Recording): imported on
    # first use, so that a traced child process does not pay for it.
    if name in ("record", "Recording"):
        import functiontrace.record as rec
        return rec if name == "record" else rec.Recording
    raise AttributeError("module 'functiontrace' has no attribute %r" % (name,))


# Markers of the program's own (functiontrace._markers): cheap when not recording.
from functiontrace._markers import interval, marker  # noqa: E402,F401
