"""Writing small functiontrace traces from Python, for tests that need exact control.

Written from FORMAT.md alone (signature frame, one zstd frame per block, msgpack records),
independently of format/: a test that builds a trace here knows every timestamp in it, so it
can state the exact output a converter must give. Records are encoded and framed by
tracebuild (the bad-input tests' writer); this adds whole processes, threads and markers."""

import struct

from tracebuild import frame, pack as _mp, packed

SIGNATURE = struct.pack("<II", 0x184D2A5F, 16) + b"FTRACE\0\0"
CALL, RETURN = 16, 17
MARKER, INTERVAL = 64, 65


class Trace:
    """One process. Times are absolute clock ns; events are added per thread in time order.
    version: the format written, 2 (chunks as EVENTS records, as the recorder writes them)
    or 1 (one record per event)."""

    def __init__(self, pid, start_ns, end_ns, host="host-a", wall_anchor_ns=1_700_000_000_000_000_000,
                 argv=("app.py",), ppid=1, run_id=None, start_reason="run", version=2):
        self.version = version
        # A run's id ends with its first process's pid (ft-convert checks that it has it).
        run_id = run_id or "20250101-000000-%d" % pid
        self.header = {
            "format_version": version, "format_minor": 1 if version == 1 else 0, "run_id": run_id, "pid": pid, "ppid": ppid,
            "hostname": host, "python_version": "3.12.1", "python_implementation": "CPython",
            "executable": "/usr/bin/python3", "argv": list(argv), "cwd": "/tmp",
            "clock": "CLOCK_MONOTONIC", "clock_resolution_ns": 1, "start_ns": start_ns,
            "wall_anchor_ns": wall_anchor_ns, "anchor_ns": start_ns, "backend": "monitoring",
            "mode": "all", "recorder": "tracewriter", "start_reason": start_reason,
        }
        self.end_ns = end_ns
        self.funcs = []          # FUNC records
        self.fid = {}
        self.threads = {}        # tid -> (name, [(type, t, fid)])
        self.markers = {}        # tid -> [(end t, duration or None, kind, name, fields)]

    def func(self, name, native=False, file="/src/app.py", line=1):
        if name not in self.fid:
            self.fid[name] = len(self.funcs)
            self.funcs.append([3, self.fid[name], 1 if native else 0, name, "",
                               "" if native else file, 0 if native else line])
        return self.fid[name]

    def thread(self, tid, name=""):
        self.threads.setdefault(tid, (name, []))
        return self

    def call(self, tid, t, name, native=False):
        self.threads[tid][1].append((CALL, t, self.func(name, native)))

    def ret(self, tid, t, name):
        self.threads[tid][1].append((RETURN, t, self.fid[name]))

    def span(self, tid, start, end, name, native=False):
        """A call with nothing inside it (add nested ones with call/ret around)."""
        self.call(tid, start, name, native)
        self.ret(tid, end, name)

    def marker(self, tid, t, kind, name, fields=None, start=None):
        """A MARKER at t, or an INTERVAL from start to t (FORMAT.md §4.6)."""
        self.markers.setdefault(tid, []).append(
            (t, None if start is None else t - start, kind, name, dict(fields or {})))

    def _marker_records(self, tid, upto, last, done):
        """The markers of tid that end at or before `upto`, timed from the last event."""
        out = []
        pending = sorted(self.markers.get(tid, []), key=lambda m: m[0])
        for m in pending[done[0]:]:
            if upto is not None and m[0] > upto:
                break
            t, dur, kind, name, fields = m
            if dur is None:
                out.append([MARKER, t - last, kind, name, fields])
            else:
                out.append([INTERVAL, t - last, dur, kind, name, fields])
            done[0] += 1
        return out

    def write(self, path, trailer=True):
        out = [SIGNATURE + struct.pack("<H", self.version) + bytes(6),
               frame(_mp([1, self.header]))]
        if self.funcs:
            out.append(frame(b"".join(_mp(f) for f in self.funcs)))
        events = 0
        for tid, (name, evs) in self.threads.items():
            evs = sorted(evs, key=lambda e: e[1])
            t0 = evs[0][1] if evs else self.header["start_ns"]
            recs = []
            last = t0
            done = [0]
            for typ, t, fid in evs:
                recs.extend(self._marker_records(tid, t - 1, last, done))
                recs.append([typ, t - last, fid])
                last = t
            recs.extend(self._marker_records(tid, None, last, done))
            events += len(evs)
            body = packed(recs) if self.version >= 2 else b"".join(_mp(r) for r in recs)
            out.append(frame(_mp([2, tid, 0, t0, name]) + body))
        if trailer:
            out.append(frame(_mp([4, {
                "end_ns": self.end_ns, "events": events, "chunks": len(self.threads),
                "dropped_events": 0, "functions": len(self.funcs), "end_reason": "exit",
                "exit_status": 0}])))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(out))
        return path
