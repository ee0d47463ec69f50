"""Another tool holds sys.monitoring's PROFILER_ID (3.12+) when the program starts
recording through the API; with `hold_all`, every id the recorder could use is taken.

usage: profiler_id_taken.py RUN_DIR [hold_all]"""
import sys

from functiontrace import record

mon = sys.monitoring
calls = []


def on_start(code, offset):
    if code.co_name == "work":
        calls.append(code.co_name)


def work():
    return 1


mon.use_tool_id(mon.PROFILER_ID, "other-profiler")
mon.register_callback(mon.PROFILER_ID, mon.events.PY_START, on_start)
mon.set_events(mon.PROFILER_ID, mon.events.PY_START)
if sys.argv[2:] == ["hold_all"]:
    mon.use_tool_id(3, "tool-3")
    mon.use_tool_id(4, "tool-4")
try:
    record.start(sys.argv[1], ["profiler_id_taken.py"], "all")
except RuntimeError as e:
    print("refused:", e)
    sys.exit(3)
work()
record.stop()
print("other tool saw:", calls, "held by:", mon.get_tool(mon.PROFILER_ID))
