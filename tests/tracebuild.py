"""Writing raw trace files from Python, for the bad-input tests: every byte under the test's
control (versions, keys, record types, clocks), none of it from the C encoder under test.

msgpack is encoded by hand (the few types FORMAT.md uses); frames are compressed with
python3-zstandard, with the content size and checksum set, as FORMAT.md §2 asks."""

import struct

import zstandard

SIGNATURE_MAGIC = b"\x5f\x2a\x4d\x18\x10\x00\x00\x00FTRACE\x00\x00"
HEADER, CHUNK, FUNC, TRAILER = 1, 2, 3, 4
CALL, RETURN = 16, 17
MONO0 = 100 * 10**9        # clock time of the first process start in these traces
WALL0 = 1_700_000_000 * 10**9  # its wall-clock time


def pack(v):
    """msgpack of ints, floats, str, bytes (as str), lists, dicts and None; shortest
    encodings (floats as float 64)."""
    if v is None:
        return b"\xc0"
    if isinstance(v, bool):
        return b"\xc3" if v else b"\xc2"
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if v >= 0:
            for code, fmt, limit in ((0xcc, ">B", 1 << 8), (0xcd, ">H", 1 << 16),
                                     (0xce, ">I", 1 << 32), (0xcf, ">Q", 1 << 64)):
                if v < limit:
                    return bytes([code]) + struct.pack(fmt, v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        n = len(v)
        head = bytes([0xa0 | n]) if n < 32 else b"\xd9" + bytes([n]) if n < 256 else \
            b"\xda" + struct.pack(">H", n)
        return head + v
    if isinstance(v, (list, tuple)):
        n = len(v)
        head = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        n = len(v)
        head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(v)


def varint(v):
    """Unsigned LEB128 (FORMAT.md §4.4.1)."""
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def bin32(b):
    return b"\xc6" + struct.pack(">I", len(b)) + b


EVENT_TYPES = (16, 17, 18, 19, 20)


def packed(records):
    """The records of a chunk after its CHUNK record, in 2.0 form: one EVENTS record whose
    ops hold the events and a placeholder for each other record, then those records."""
    ops, dts, rest = b"", b"", []
    for rec in records:
        if isinstance(rec, list) and rec[0] in EVENT_TYPES:
            ops += varint(rec[2] << 3 | rec[0] - 16)
            dts += varint(rec[1])
        else:
            ops += varint(7)
            rest.append(rec if isinstance(rec, bytes) else pack(rec))
    return b"\x93" + pack(21) + bin32(ops) + bin32(dts) + b"".join(rest)


def bin_record(rec):
    """pack(), with bytes fields as msgpack bin (EVENTS' streams)."""
    return bytes([0x90 | len(rec)]) + b"".join(bin32(v) if isinstance(v, bytes) else pack(v)
                                               for v in rec)


def frame(content):
    return zstandard.ZstdCompressor(write_checksum=True, write_content_size=True).compress(content)


def header(pid, start_ns=MONO0, run_id="20250101-000000-100", ppid=1, host="testhost",
           clock="CLOCK_MONOTONIC", wall_anchor_ns=None, argv=("app.py",), **extra):
    """A 1.0 header map; extra keys are added as they are (optional or unknown keys)."""
    h = {"format_version": 1, "run_id": run_id, "pid": pid, "ppid": ppid, "hostname": host,
         "python_version": "3.12.1", "python_implementation": "CPython",
         "executable": "/usr/bin/python3", "argv": list(argv), "cwd": "/tmp", "clock": clock,
         "clock_resolution_ns": 1, "start_ns": start_ns,
         "wall_anchor_ns": WALL0 + (start_ns - MONO0) if wall_anchor_ns is None
         else wall_anchor_ns,
         "anchor_ns": start_ns, "backend": "monitoring", "mode": "all",
         "recorder": "functiontrace 0.1.0"}
    h.update(extra)
    return h


class Trace:
    """One trace file: the signature, a header frame, data frames, maybe a trailer."""

    def __init__(self, hdr, version=1):
        self.frames = [frame(pack([HEADER, hdr]))]
        self.version = version
        self.events = self.chunks = self.funcs = 0
        self.start = hdr["start_ns"]

    def block(self, *records):
        """One data frame holding these records (lists, packed here, or bytes as they are)."""
        body = b""
        for rec in records:
            body += rec if isinstance(rec, bytes) else pack(rec)
            if isinstance(rec, list):
                self.events += rec[0] in (CALL, RETURN, 18, 19, 20)
                self.chunks += rec[0] == CHUNK
                self.funcs += rec[0] == FUNC
        self.frames.append(frame(body))
        return self

    def calls(self, tid, seq, names, t0=None, first_fid=0, step=1000, name="MainThread"):
        """A definitions block for `names`, then one chunk calling each for `step` ns."""
        t0 = self.start + 1000 if t0 is None else t0
        self.block(*[[FUNC, first_fid + i, 0, n, "mod", "/src/app.py", 10 + i]
                     for i, n in enumerate(names)])
        recs = [[CHUNK, tid, seq, t0, name]]
        for i in range(len(names)):
            recs += [[CALL, step if i else 0, first_fid + i], [RETURN, step, first_fid + i]]
        return self.block(*recs)

    def trailer(self, end_ns=None, **extra):
        t = {"end_ns": end_ns if end_ns is not None else self.start + 10**9,
             "events": self.events, "chunks": self.chunks, "dropped_events": 0,
             "functions": self.funcs}
        t.update(extra)
        self.frames.append(frame(pack([TRAILER, t])))
        return self

    def bytes(self):
        sig = SIGNATURE_MAGIC + struct.pack("<H", self.version) + b"\0" * 6
        return sig + b"".join(self.frames)

    def write(self, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.bytes())
        return path
