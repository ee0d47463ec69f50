"""Writing small functiontrace traces from Python, for tests that need exact control.

Written from FORMAT.md alone (signature frame, one zstd frame per block, msgpack records),
independently of format/: a test that builds a trace here knows every timestamp in it, so it
can state the exact output a converter must give."""

import struct

import zstandard


def _mp(v):
    """msgpack encoding of the few shapes the format uses."""
    if v is None:
        return b"\xc0"
    if isinstance(v, bool):
        return b"\xc3" if v else b"\xc2"
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if 0 <= v < 1 << 32:
            return b"\xce" + struct.pack(">I", v)
        if v >= 0:
            return b"\xcf" + struct.pack(">Q", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        if len(v) < 32:
            return bytes([0xA0 | len(v)]) + v
        return b"\xdb" + struct.pack(">I", len(v)) + v
    if isinstance(v, (list, tuple)):
        head = bytes([0x90 | len(v)]) if len(v) < 16 else b"\xdd" + struct.pack(">I", len(v))
        return head + b"".join(_mp(x) for x in v)
    if isinstance(v, dict):
        head = bytes([0x80 | len(v)]) if len(v) < 16 else b"\xdf" + struct.pack(">I", len(v))
        return head + b"".join(_mp(k) + _mp(x) for k, x in v.items())
    raise TypeError(v)


SIGNATURE = struct.pack("<II", 0x184D2A5F, 16) + b"FTRACE\0\0" + struct.pack("<H", 1) + bytes(6)
CALL, RETURN = 16, 17
MARKER, INTERVAL = 64, 65


class Trace:
    """One process. Times are absolute clock ns; events are added per thread in time order."""

    def __init__(self, pid, start_ns, end_ns, host="host-a", wall_anchor_ns=1_700_000_000_000_000_000,
                 argv=("app.py",), ppid=1, run_id="20250101-000000-1", start_reason="run"):
        self.header = {
            "format_version": 1, "format_minor": 1, "run_id": run_id, "pid": pid, "ppid": ppid,
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
                out.append(_mp([MARKER, t - last, kind, name, fields]))
            else:
                out.append(_mp([INTERVAL, t - last, dur, kind, name, fields]))
            done[0] += 1
        return out

    def write(self, path, trailer=True):
        cctx = zstandard.ZstdCompressor(write_content_size=True)
        out = [SIGNATURE, cctx.compress(_mp([1, self.header]))]
        if self.funcs:
            out.append(cctx.compress(b"".join(_mp(f) for f in self.funcs)))
        events = 0
        for tid, (name, evs) in self.threads.items():
            evs = sorted(evs, key=lambda e: e[1])
            t0 = evs[0][1] if evs else self.header["start_ns"]
            blk = [_mp([2, tid, 0, t0, name])]
            last = t0
            done = [0]
            for typ, t, fid in evs:
                blk.extend(self._marker_records(tid, t - 1, last, done))
                blk.append(_mp([typ, t - last, fid]))
                last = t
            blk.extend(self._marker_records(tid, None, last, done))
            events += len(evs)
            out.append(cctx.compress(b"".join(blk)))
        if trailer:
            out.append(cctx.compress(_mp([4, {
                "end_ns": self.end_ns, "events": events, "chunks": len(self.threads),
                "dropped_events": 0, "functions": len(self.funcs), "end_reason": "exit",
                "exit_status": 0}])))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(out))
        return path
