"""Running a selection of CPython's own unit tests with `python -m unittest -v`, traced or
not, and reading back what happened to each test.

A result is the process's exit status, unittest's summary (tests run, failures, errors,
skips, expected failures, unexpected successes) and the outcome of each test whose verbose
line could be read. Tests that print to the terminal themselves can break their own verbose
line; such tests count in the summary but have no per-test outcome."""

import re
import subprocess
from dataclasses import dataclass, field

# "test_x (module.Class) ... ok" before 3.11, "test_x (module.Class.test_x) ... ok" after;
# the outcome may sit on a later line when the test wrote something in between.
_LINE = re.compile(r"^(\w+) \(([\w.]+)\)(?:\n.*?)? \.\.\. "
                   r"(ok|FAIL|ERROR|skipped|expected failure|unexpected success)",
                   re.M)
_RAN = re.compile(r"^Ran (\d+) tests? in ", re.M)
_VERDICT = re.compile(r"^(OK|FAILED)(?: \(([^)]*)\))?\s*$", re.M)


@dataclass
class Result:
    returncode: int
    ran: int = -1
    verdict: str = ""
    counts: dict = field(default_factory=dict)    # failures, errors, skipped, ...
    outcomes: dict = field(default_factory=dict)  # test id -> outcome
    output: str = ""

    def summary(self):
        return (self.returncode, self.ran, self.verdict, self.counts)


def parse(returncode, output):
    res = Result(returncode, output=output)
    ran = _RAN.findall(output)
    if ran:
        res.ran = int(ran[-1])
    verdict = _VERDICT.findall(output)
    if verdict:
        res.verdict, detail = verdict[-1]
        for item in filter(None, (s.strip() for s in detail.split(","))):
            key, _, value = item.partition("=")
            res.counts[key] = int(value)
    for name, where, outcome in _LINE.findall(output):
        test_id = where if where.endswith("." + name) else where + "." + name
        res.outcomes[test_id] = outcome
    return res


def start(cmd, cwd, env):
    """Start one run; unittest writes its report on stderr, so both streams go to one pipe
    in the order they were written."""
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish(proc, timeout):
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError("timed out after %ds:\n%s" % (timeout, out.decode(errors="replace")[-4000:]))
    return parse(proc.returncode, out.decode("utf-8", errors="replace"))
