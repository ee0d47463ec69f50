"""A coverage-style sys.monitoring tool (3.12+): LINE events on COVERAGE_ID."""
import sys

mon = sys.monitoring
lines = set()


def on_line(code, line):
    if code.co_name == "covered":
        lines.add(line - code.co_firstlineno)


def covered(x):
    if x:
        return 1
    return 2


def after():
    return 1


def main():
    mon.use_tool_id(mon.COVERAGE_ID, "cov")
    mon.register_callback(mon.COVERAGE_ID, mon.events.LINE, on_line)
    mon.set_events(mon.COVERAGE_ID, mon.events.LINE)
    covered(True)
    mon.set_events(mon.COVERAGE_ID, 0)
    mon.free_tool_id(mon.COVERAGE_ID)
    print("lines:", sorted(lines))
    after()


main()
