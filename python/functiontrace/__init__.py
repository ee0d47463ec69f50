"""functiontrace: a tracing profiler for Python."""

__version__ = "0.1.0"

# Markers of the program's own (functiontrace._markers): cheap when not recording.
from functiontrace._markers import interval, marker  # noqa: E402,F401
