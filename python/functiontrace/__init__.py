"""functiontrace: a tracing profiler for Python."""

__version__ = "0.1.0"
