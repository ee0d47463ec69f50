"""Reading a Firefox Profiler processed profile back into calls, for the tests.

The profile stores one sample per stack change; a call is the span during which its frame
stays at the same position of the sample stacks. This module turns each thread's samples back
into intervals (name, depth, start, end, parent chain) so that tests can assert nesting and
durations without depending on how the converter numbered its tables."""

import gzip
import json
from dataclasses import dataclass, field


def load(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


@dataclass
class Call:
    name: str
    depth: int
    start: float
    end: float
    path: tuple  # names from the root down to this call, inclusive

    @property
    def duration(self):
        return self.end - self.start


@dataclass
class Thread:
    pid: str
    tid: object
    name: str
    process_name: str
    is_main: bool
    calls: list = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    def names(self):
        return {c.name for c in self.calls}

    def find(self, name):
        return [c for c in self.calls if c.name == name]

    def total(self, name):
        """Inclusive time of `name` in ms, counting recursive instances once."""
        return sum(c.duration for c in self.calls
                   if c.name == name and name not in c.path[:-1])

    def children_of(self, parent):
        return {c.name for c in self.calls if len(c.path) >= 2 and c.path[-2] == parent}


def _stack_paths(t):
    strings = t["stringArray"]
    stacks, frames, funcs = t["stackTable"], t["frameTable"], t["funcTable"]
    cache = {}

    def path(s):
        if s is None:
            return ()
        if s in cache:
            return cache[s]
        names = []
        node = s
        while node is not None:
            names.append(strings[funcs["name"][frames["func"][stacks["frame"][node]]]])
            node = stacks["prefix"][node]
        cache[s] = tuple(reversed(names))
        return cache[s]

    return path


def threads(profile):
    out = []
    for t in profile["threads"]:
        th = Thread(pid=t["pid"], tid=t["tid"], name=t["name"],
                    process_name=t.get("processName", ""), is_main=t.get("isMainThread", False),
                    raw=t)
        path_of = _stack_paths(t)
        samples = t["samples"]
        n = samples.get("length", len(samples["stack"]))
        times = samples["time"]
        open_calls = []  # [name, start]
        for i in range(n):
            p = path_of(samples["stack"][i])
            now = times[i]
            keep = 0
            while (keep < len(open_calls) and keep < len(p)
                   and open_calls[keep][0] == p[keep]):
                keep += 1
            for depth in range(len(open_calls) - 1, keep - 1, -1):
                name, start = open_calls.pop()
                th.calls.append(Call(name, depth, start, now,
                                     tuple(c[0] for c in open_calls) + (name,)))
            for name in p[keep:]:
                open_calls.append([name, now])
        end = times[n - 1] if n else 0.0
        while open_calls:
            name, start = open_calls.pop()
            th.calls.append(Call(name, len(open_calls), start, end,
                                 tuple(c[0] for c in open_calls) + (name,)))
        th.calls.sort(key=lambda c: (c.start, c.depth))
        out.append(th)
    return out


def weighted_totals(profile_thread):
    """Inclusive weight (ms) per function name from samples' weights: what the call tree
    shows. Recursive instances count once per sample."""
    t = profile_thread
    path_of = _stack_paths(t)
    samples = t["samples"]
    totals = {}
    for s, w in zip(samples["stack"], samples["weight"]):
        for name in set(path_of(s)):
            totals[name] = totals.get(name, 0.0) + w
    return totals
