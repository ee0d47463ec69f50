"""functiontrace: a tracing profiler for Python.

``functiontrace.record(output_dir="traces", ...)`` records one region of a program, as a
context manager or with start()/stop() (see functiontrace.record.Recording);
``python -m functiontrace.record`` records a whole program."""

__version__ = "0.1.0"


def __getattr__(name):
    # functiontrace.record is the submodule, callable (it makes a Recording): imported on
    # first use, so that a traced child process does not pay for it.
    if name in ("record", "Recording"):
        import functiontrace.record as rec
        return rec if name == "record" else rec.Recording
    raise AttributeError("module 'functiontrace' has no attribute %r" % (name,))
