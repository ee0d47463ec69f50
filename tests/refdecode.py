#!/usr/bin/python3
"""Reference decoder for functiontrace raw trace files, format versions 1 (any minor: 1.0-1.3)
and 2 (2.0: the packed EVENTS record, expanded here into the records it stands for).

Written from FORMAT.md alone, for readability rather than speed: it is the yardstick the C
reader (format/, build/ftdump) is compared with. Needs only the standard library and the
Debian package python3-zstandard; msgpack is decoded by hand below.

    read_trace(path) -> {"header": {...} or None, "trailer": {...} or None,
                         "functions": {fid: {"kind", "name", "module", "file", "line"}},
                         "threads": {tid: {"names": [...], "events": [(t_ns, type, fid)],
                                           "markers": [{"start", "end", "kind", "name",
                                                        "fields"}],
                                           "memory": [(t_ns, "ALLOC", address, size) or
                                                      (t_ns, "FREE", address, None)]}},
                         "errors": [(offset, reason), ...]}
        The optional keys of 1.1 (format_minor, start_reason; end_reason, exit_status,
        signal, process_label) are in the dicts only when the file has them: use
        .get(key, default) with FORMAT.md's defaults (format_minor 0, start_reason "run").

    python3 tests/refdecode.py FILE...   prints the canonical dump (see dump_lines) and exits
                                         1 if any file had errors, 0 otherwise.

Policy where FORMAT.md leaves room (build/ftdump follows the same rules):
- a damaged frame is reported and skipped; frames after it are still read. A zstd frame
  whose blocks run past the end of the file is a truncated last frame, unless a zstd magic
  appears later, in which case its header lied and reading resumes at that magic;
- the first frame after the signature is the header frame, whatever it holds;
- in a data block a bad record, an event or marker before any CHUNK, a CHUNK after a FUNC,
  event or marker, a HEADER, or a TRAILER that is not alone in its block is reported, and
  the rest of that block is dropped (the records before it are kept);
- an event whose fid has no earlier FUNC, and a second FUNC for one fid, are reported but
  kept (the first definition is the one in `functions`);
- absolute times wrap modulo 2**64, as unsigned 64-bit arithmetic does;
- msgpack bin is accepted where a str is expected (not the other way: EVENTS' streams
  must be bin);
- an EVENTS record may appear in a file of either major version;
- a marker's or memory record's time is the last event's (or t0) plus its dt, modulo 2**64
  like event times;
  marker fields whose value has a type FORMAT.md does not list are left out of the dump.
"""

import struct
import sys

import zstandard

SIGNATURE = b"\x5f\x2a\x4d\x18\x10\x00\x00\x00FTRACE\x00\x00"   # bytes 0..15; version follows
SIGNATURE_SIZE = 24
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_FRAME_CONTENT = 64 << 20
MAX_DEPTH = 64

HEADER, CHUNK, FUNC, TRAILER = 1, 2, 3, 4
EVENTS = {16: "CALL", 17: "RETURN", 18: "UNWIND", 19: "YIELD", 20: "RESUME"}
PACKED = 21                   # 2.0: EVENTS (FORMAT.md §4.4.1)
PLACEHOLDER = 7               # its op code for "the next record of the block"
VERSIONS = (1, 2)             # major versions read
MARKER, INTERVAL = 64, 65     # 1.2 (FORMAT.md §4.6)
ALLOC, FREE = 66, 67          # 1.3 (FORMAT.md §4.7)

# (key, kind) in FORMAT.md §4.1 order; the dump prints them in this order.
HEADER_KEYS = [
    ("format_version", "uint"), ("run_id", "str"), ("pid", "uint"), ("ppid", "uint"),
    ("hostname", "str"), ("python_version", "str"), ("python_implementation", "str"),
    ("executable", "str"), ("argv", "argv"), ("cwd", "str"), ("clock", "str"),
    ("clock_resolution_ns", "uint"), ("start_ns", "uint"), ("wall_anchor_ns", "int"),
    ("anchor_ns", "uint"), ("backend", "str"), ("mode", "str"), ("recorder", "str"),
]
TRAILER_KEYS = ["end_ns", "events", "chunks", "dropped_events", "functions"]
# Optional keys of 1.1 (FORMAT.md §4.1, §4.5), in the order the dump prints them.
HEADER_OPTIONAL_KEYS = [("format_minor", "uint"), ("start_reason", "str")]
TRAILER_OPTIONAL_KEYS = [("end_reason", "str"), ("exit_status", "int"), ("signal", "uint"),
                         ("process_label", "str"), ("memory_records", "uint")]


class Corrupt(Exception):
    """Bytes that cannot be what the format says."""


class Truncated(Corrupt):
    """The data ends inside a value, record or frame."""


# ---- msgpack ----------------------------------------------------------------------------

class Str(bytes):
    """A msgpack str (or bin): raw bytes, decoded to text only for presentation."""


class Bin(Str):
    """A msgpack bin."""


class Pairs(list):
    """A msgpack map: its (key, value) pairs in order (keys may be unhashable)."""


class MsgpackReader:
    """Decodes msgpack values from a byte string; self.pos is the next unread byte."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def at_end(self):
        return self.pos >= len(self.data)

    def take(self, n):
        if self.pos + n > len(self.data):
            raise Truncated("data ends inside a msgpack value")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint_be(self, n):
        return int.from_bytes(self.take(n), "big")

    def array_header(self):
        tag = self.take(1)[0]
        if 0x90 <= tag <= 0x9F:
            return tag & 0x0F
        if tag in (0xDC, 0xDD):
            return self.uint_be(2 if tag == 0xDC else 4)
        raise Corrupt("expected an array")

    def value(self, depth=0):
        """Any msgpack value: int, float, bool, None, Str, list, list of (key, value)
        pairs for a map (keys may be unhashable), or ("ext", type, bytes)."""
        if depth > MAX_DEPTH:
            raise Corrupt("msgpack nested too deeply")
        tag = self.take(1)[0]
        if tag <= 0x7F:
            return tag
        if tag >= 0xE0:
            return tag - 0x100
        if tag <= 0x8F:
            return self.pairs(tag & 0x0F, depth)
        if tag <= 0x9F:
            return [self.value(depth + 1) for _ in range(tag & 0x0F)]
        if tag <= 0xBF:
            return Str(self.take(tag & 0x1F))
        if tag == 0xC0:
            return None
        if tag in (0xC2, 0xC3):
            return tag == 0xC3
        if tag in (0xC4, 0xC5, 0xC6):                     # bin 8/16/32
            return Bin(self.take(self.uint_be({0xC4: 1, 0xC5: 2, 0xC6: 4}[tag])))
        if tag in (0xD9, 0xDA, 0xDB):                     # str 8/16/32
            return Str(self.take(self.uint_be({0xD9: 1, 0xDA: 2, 0xDB: 4}[tag])))
        if tag in (0xC7, 0xC8, 0xC9):                     # ext 8/16/32
            n = self.uint_be({0xC7: 1, 0xC8: 2, 0xC9: 4}[tag])
            return ("ext", self.take(1)[0], self.take(n))
        if tag in (0xCA, 0xCB):                           # float 32/64: never interpreted
            return ("float", self.take(4 if tag == 0xCA else 8))
        if 0xCC <= tag <= 0xCF:
            return self.uint_be(1 << (tag - 0xCC))
        if 0xD0 <= tag <= 0xD3:
            n = 1 << (tag - 0xD0)
            return int.from_bytes(self.take(n), "big", signed=True)
        if 0xD4 <= tag <= 0xD8:                           # fixext 1/2/4/8/16
            n = 1 << (tag - 0xD4)
            return ("ext", self.take(1)[0], self.take(n))
        if tag in (0xDC, 0xDD):
            n = self.uint_be(2 if tag == 0xDC else 4)
            return [self.value(depth + 1) for _ in range(self.bounded(n))]
        if tag in (0xDE, 0xDF):
            return self.pairs(self.uint_be(2 if tag == 0xDE else 4), depth)
        raise Corrupt("byte 0xc1 is not msgpack")

    def bounded(self, n):
        # Every element takes a byte at least: a count past the end is a truncation, found
        # here before building a huge list.
        if n > len(self.data) - self.pos:
            raise Truncated("container longer than the data")
        return n

    def pairs(self, n, depth):
        return Pairs((self.value(depth + 1), self.value(depth + 1)) for _ in range(self.bounded(n)))


def is_uint(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def is_str(v):
    return isinstance(v, Str)


def text(b):
    return bytes(b).decode("utf-8", "replace")


# ---- records ----------------------------------------------------------------------------

# Minimum fields (after the type) and a checker per field, FORMAT.md §3.
FIELDS = {
    CHUNK: [is_uint, is_uint, is_uint, is_str],
    FUNC: [is_uint, is_uint, is_str, is_str, is_str, is_uint],
}
FIELDS.update({t: [is_uint, is_uint] for t in EVENTS})


def is_fields(v):
    return isinstance(v, Pairs) and all(is_str(k) for k, _ in v)


FIELDS[MARKER] = [is_uint, is_str, is_str, is_fields]
FIELDS[INTERVAL] = [is_uint, is_uint, is_str, is_str, is_fields]
FIELDS[ALLOC] = [is_uint, is_uint, is_uint]
FIELDS[PACKED] = [lambda v: isinstance(v, Bin)] * 2
FIELDS[FREE] = [is_uint, is_uint]


def read_record(rd):
    """Next record of a block as (type, fields), or None at the end. Unknown types come back
    with their type number and are for the caller to skip. Raises Corrupt/Truncated."""
    if rd.at_end():
        return None
    n = rd.array_header()
    items = [rd.value() for _ in range(rd.bounded(n))]
    if not items or not is_uint(items[0]):
        raise Corrupt("record does not start with a uint type")
    rtype, fields = items[0], items[1:]
    want = FIELDS.get(rtype)
    if want is not None:
        if len(fields) < len(want):
            raise Corrupt("record type %d has %d fields, needs %d" % (rtype, len(fields), len(want)))
        for check, v in zip(want, fields):
            if not check(v):
                raise Corrupt("record type %d: field of the wrong type" % rtype)
    return rtype, fields


def read_map_record(block, want_type):
    """A block that must hold exactly one [want_type, map] record: the map's (key, value)
    pairs in order, keys as bytes."""
    rd = MsgpackReader(block)
    n = rd.array_header()
    if n < 2:
        raise Corrupt("record has %d elements, needs 2" % n)
    rtype = rd.value()
    if not is_uint(rtype) or rtype != want_type:
        raise Corrupt("not a record of type %d" % want_type)
    tag = rd.take(1)[0]
    if 0x80 <= tag <= 0x8F:
        count = tag & 0x0F
    elif tag in (0xDE, 0xDF):
        count = rd.uint_be(2 if tag == 0xDE else 4)
    else:
        raise Corrupt("record type %d does not hold a map" % want_type)
    pairs = []
    for _ in range(rd.bounded(count)):
        key = rd.value()
        if not isinstance(key, Str):
            raise Corrupt("map key is not a str")
        pairs.append((bytes(key), rd.value()))
    for _ in range(rd.bounded(n - 2)):
        rd.value()                          # fields a later revision may append
    if not rd.at_end():
        raise Corrupt("more than one record in a header/trailer frame")
    return pairs


def is_int(v):
    # A signed 64-bit integer: what "int" fields hold (the C reader reads them as int64_t).
    return isinstance(v, int) and not isinstance(v, bool) and -(1 << 63) <= v < (1 << 63)


HEADER_CHECKS = {
    "uint": is_uint,
    "int": is_int,
    "str": is_str,
    "argv": lambda v: isinstance(v, list) and all(is_str(a) for a in v),
}


def decode_header(block):
    """The header's known keys, required and optional (absent optional keys are absent
    from the dict: the caller applies the defaults)."""
    kinds = {key.encode(): (key, kind) for key, kind in HEADER_KEYS + HEADER_OPTIONAL_KEYS}
    header = {}
    for key, value in read_map_record(block, HEADER):
        if key not in kinds:
            continue                        # unknown keys are ignored
        name, kind = kinds[key]
        if not HEADER_CHECKS[kind](value):
            raise Corrupt("header: %s is not a %s" % (name, kind))
        header[name] = value                # a repeated key: the last one wins
    # A newer version may have other required keys: report the version, not the keys.
    if header.get("format_version", 1) not in VERSIONS:
        raise Corrupt("format version %d in the header" % header["format_version"])
    missing = [key for key, _ in HEADER_KEYS if key not in header]
    if missing:
        raise Corrupt("header: missing " + ", ".join(missing))
    return header


def decode_trailer(block):
    kinds = dict([(key, "uint") for key in TRAILER_KEYS] + TRAILER_OPTIONAL_KEYS)
    trailer = {}
    for key, value in read_map_record(block, TRAILER):
        name = key.decode("ascii", "replace")
        if name in kinds:
            if not HEADER_CHECKS[kinds[name]](value):
                raise Corrupt("trailer: %s is not a %s" % (name, kinds[name]))
            trailer[name] = value
    missing = [key for key in TRAILER_KEYS if key not in trailer]
    if missing:
        raise Corrupt("trailer: missing " + ", ".join(missing))
    return trailer


# ---- zstd frames ------------------------------------------------------------------------

def zstd_frame_extent(data, pos):
    """(compressed size, content size or None) of the zstd frame at pos, from its frame
    header and block headers (RFC 8878 §3.1.1). Raises Truncated if the frame runs past
    the end of data, Corrupt for reserved values."""
    def need(end):
        if end > len(data):
            raise Truncated("frame runs past the end of the file")

    p = pos + 4
    need(p + 1)
    fhd = data[p]
    p += 1
    fcs_flag, single_segment = fhd >> 6, (fhd >> 5) & 1
    if (fhd >> 3) & 1:
        raise Corrupt("reserved bit set in the frame header")
    if not single_segment:
        need(p + 1)
        if 10 + (data[p] >> 3) > 31:
            raise Corrupt("window larger than any decoder accepts")
        p += 1
    p += (0, 1, 2, 4)[fhd & 3]                              # dictionary id
    fcs_size = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
    need(p + fcs_size)
    content = None
    if fcs_size:
        content = int.from_bytes(data[p:p + fcs_size], "little") + (256 if fcs_size == 2 else 0)
    p += fcs_size
    while True:
        need(p + 3)
        bh = int.from_bytes(data[p:p + 3], "little")
        p += 3
        last, btype, bsize = bh & 1, (bh >> 1) & 3, bh >> 3
        if btype == 3:
            raise Corrupt("reserved block type")
        p += 1 if btype == 1 else bsize                     # RLE blocks hold one byte
        need(p)
        if last:
            break
    if (fhd >> 2) & 1:
        p += 4                                              # content checksum
        need(p)
    return p - pos, content


def next_magic(data, start):
    i = data.find(ZSTD_MAGIC, start)
    return len(data) if i < 0 else i


def frames(data):
    """Yields ("frame", offset, content) or ("error", offset, reason) for every frame after
    the signature; a truncated last frame is an error that ends the walk."""
    pos = SIGNATURE_SIZE
    while pos < len(data):
        if len(data) - pos < 4:
            yield "error", pos, "truncated frame"
            return
        magic = int.from_bytes(data[pos:pos + 4], "little")
        if magic & 0xFFFFFFF0 == 0x184D2A50:                # skippable frame
            if len(data) - pos < 8:
                yield "error", pos, "truncated frame"
                return
            end = pos + 8 + int.from_bytes(data[pos + 4:pos + 8], "little")
            if end > len(data):
                yield "error", pos, "truncated frame"
                return
            pos = end
            continue
        if data[pos:pos + 4] != ZSTD_MAGIC:
            yield "error", pos, "not a zstd frame"
            pos = next_magic(data, pos + 1)
            continue
        try:
            size, content_size = zstd_frame_extent(data, pos)
        except Truncated:
            resume = next_magic(data, pos + 1)
            if resume == len(data):
                yield "error", pos, "truncated frame"
                return
            yield "error", pos, "frame runs into the next one"
            pos = resume
            continue
        except Corrupt as e:
            yield "error", pos, str(e)
            pos = next_magic(data, pos + 1)
            continue
        try:
            if content_size is None or content_size > MAX_FRAME_CONTENT:
                raise Corrupt("frame content size missing or too large")
            d = zstandard.ZstdDecompressor().decompressobj()
            content = d.decompress(data[pos:pos + size])
            if not d.eof or d.unused_data or len(content) != content_size:
                raise Corrupt("frame does not decompress to its content size")
        except (Corrupt, zstandard.ZstdError) as e:
            yield "error", pos, "bad frame: %s" % e
            # The header may be what was damaged: resume at any magic inside its extent.
            pos = min(pos + size, next_magic(data, pos + 1))
            continue
        yield "frame", pos, content
        pos += size


# ---- a whole file -----------------------------------------------------------------------

def decode_raw(path):
    """The trace with strings left as bytes (what the dump prints), plus errors and the
    chunk list. read_trace() turns this into text."""
    res = {"header": None, "trailer": None, "funcs": [], "chunks": [], "errors": []}
    err = res["errors"]
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        err.append((0, "cannot read: %s" % e.strerror))
        return res
    if len(data) < SIGNATURE_SIZE:
        err.append((0, "truncated signature" if SIGNATURE.startswith(data[:16])
                    else "not a functiontrace trace"))
        return res
    if data[:16] != SIGNATURE:
        err.append((0, "not a functiontrace trace"))
        return res
    version = int.from_bytes(data[16:18], "little")
    if version not in VERSIONS:
        err.append((16, "format version %d" % version))
        return res

    defined = set()
    for index, (kind, offset, content) in enumerate(frames(data)):
        if kind == "error":
            err.append((offset, content))
            continue
        try:
            if index == 0:
                res["header"] = decode_header(content)
            else:
                decode_block(content, offset, res, defined)
        except Corrupt as e:
            err.append((offset, "%s frame: %s" % ("header" if index == 0 else "data", e)))
    return res


def varint(data, pos):
    """An unsigned LEB128 varint of data at pos: (value, next pos). Corrupt when data ends
    inside it, or it is longer than 10 bytes or past 64 bits."""
    value = shift = 0
    for _ in range(10):
        if pos >= len(data):
            raise Corrupt("varint cut short")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if value >= 1 << 64:
                raise Corrupt("varint past 64 bits")
            return value, pos
        shift += 7
    raise Corrupt("varint longer than 10 bytes")


def records(rd):
    """The records of a block as (offset, record or None at the end), EVENTS records
    expanded into the event records and placeholders' records they stand for (FORMAT.md
    §4.4.1). Offsets in messages about an EVENTS record's streams count from the start of
    the stream."""
    while True:
        at = rd.pos
        try:
            rec = read_record(rd)
        except Corrupt as e:
            raise Corrupt("record at %d: %s" % (at, e))
        if rec is None or rec[0] != PACKED:
            yield at, rec
            if rec is None:
                return
            continue
        ops, dts = rec[1][:2]
        o = d = 0
        while o < len(ops):
            try:
                op, o = varint(ops, o)
            except Corrupt as e:
                raise Corrupt("record at %d: EVENTS op %d: %s" % (at, o, e))
            code = op & 7
            if code == PLACEHOLDER:
                pat = rd.pos
                try:
                    taken = read_record(rd)
                except Corrupt as e:
                    raise Corrupt("record at %d: %s" % (pat, e))
                if taken is None:
                    raise Corrupt("record at %d: EVENTS placeholder with no record left" % at)
                if taken[0] == PACKED:
                    raise Corrupt("record at %d: EVENTS placeholder takes an EVENTS record" % pat)
                yield pat, taken
                continue
            if code >= len(EVENTS):
                raise Corrupt("record at %d: EVENTS op code %d" % (at, code))
            try:
                dt, d = varint(dts, d)
            except Corrupt as e:
                raise Corrupt("record at %d: EVENTS dt %d: %s" % (at, d, e))
            yield at, (16 + code, [dt, op >> 3])
        if d != len(dts):
            raise Corrupt("record at %d: EVENTS dts has %d bytes left over" % (at, len(dts) - d))


def decode_block(block, offset, res, defined):
    rd = MsgpackReader(block)
    chunk = None
    seen_known = False
    for at, rec in records(rd):
        if rec is None:
            return
        rtype, fields = rec
        if rtype == TRAILER and not seen_known:
            res["trailer"] = decode_trailer(block)
            return
        if rtype in (HEADER, TRAILER):
            raise Corrupt("record at %d: %s record in a data block"
                          % (at, "HEADER" if rtype == HEADER else "TRAILER"))
        if rtype == CHUNK:
            if seen_known:
                raise Corrupt("record at %d: CHUNK is not first in its block" % at)
            tid, seq, t0, name = fields[:4]
            chunk = {"tid": tid, "seq": seq, "order": len(res["chunks"]), "name": name,
                     "time": t0, "events": [], "markers": []}
            res["chunks"].append(chunk)
        elif rtype == FUNC:
            fid = fields[0]
            if fid in defined:
                res["errors"].append((offset, "FUNC %d defined twice" % fid))
            defined.add(fid)
            res["funcs"].append(fields[:6])
        elif rtype in EVENTS:
            if chunk is None:
                raise Corrupt("record at %d: event outside a chunk" % at)
            dt, fid = fields[:2]
            if fid not in defined:
                res["errors"].append((offset, "event uses fid %d before its FUNC" % fid))
            chunk["time"] = (chunk["time"] + dt) % (1 << 64)
            chunk["events"].append((chunk["time"], EVENTS[rtype], fid))
        elif rtype in (MARKER, INTERVAL):
            if chunk is None:
                raise Corrupt("record at %d: marker outside a chunk" % at)
            # Not part of the dt chain: the time base stays the previous event's.
            dt, rest = fields[0], fields[1:]
            dur = rest.pop(0) if rtype == INTERVAL else 0
            kind, name, pairs = rest[:3]
            end = (chunk["time"] + dt) % (1 << 64)
            chunk["markers"].append((end, dur, kind, name, pairs))
        elif rtype in (ALLOC, FREE):
            if chunk is None:
                raise Corrupt("record at %d: memory record outside a chunk" % at)
            # Off the dt chain, like a marker (FORMAT.md §4.7). Kept among the markers, in
            # record order, as the dump prints them.
            t = (chunk["time"] + fields[0]) % (1 << 64)
            chunk["markers"].append(("ALLOC", t, fields[1], fields[2]) if rtype == ALLOC
                                    else ("FREE", t, fields[1], None))
        else:
            continue            # unknown type: skipped, does not count as "known"
        seen_known = True


def threads_of(chunks):
    """{tid: (names, events, markers)} with each thread's chunks in seq order (file order on ties)."""
    out = {}
    for c in sorted(chunks, key=lambda c: (c["tid"], c["seq"], c["order"])):
        names, events, markers = out.setdefault(c["tid"], ([], [], []))
        if not names or names[-1] != c["name"]:
            names.append(c["name"])
        events.extend(c["events"])
        markers.extend(c["markers"])
    return out


def read_trace(path):
    raw = decode_raw(path)
    header = None
    if raw["header"] is not None:
        header = {k: ([text(a) for a in v] if k == "argv" else text(v) if isinstance(v, Str) else v)
                  for k, v in raw["header"].items()}
    trailer = None
    if raw["trailer"] is not None:
        trailer = {k: text(v) if isinstance(v, Str) else v for k, v in raw["trailer"].items()}
    functions = {}
    for fid, kind, name, module, file, line in raw["funcs"]:
        functions.setdefault(fid, {"kind": kind, "name": text(name), "module": text(module),
                                   "file": text(file), "line": line})
    threads = {tid: {"names": [text(n) for n in names], "events": events,
                     "markers": [marker_dict(m) for m in markers if not is_memory(m)],
                     "memory": [(m[1], m[0], m[2], m[3]) for m in markers if is_memory(m)]}
               for tid, (names, events, markers) in threads_of(raw["chunks"]).items()}
    return {"header": header, "trailer": trailer, "functions": functions,
            "threads": threads, "errors": raw["errors"]}


def is_memory(m):
    return m[0] in ("ALLOC", "FREE")


def field_value(v):
    """A marker field's value as Python: str, int, float, bool or None; None also for a
    value of a type FORMAT.md does not list (the caller drops those)."""
    if isinstance(v, Str):
        return text(v)
    if isinstance(v, tuple) and v and v[0] == "float":
        fmt = ">f" if len(v[1]) == 4 else ">d"
        return struct.unpack(fmt, v[1])[0]
    if v is None or isinstance(v, (bool, int)):
        return v
    return None


def known_value(v):
    return v is None or isinstance(v, (Str, bool, int)) or (
        isinstance(v, tuple) and v and v[0] == "float")


def marker_dict(m):
    end, dur, kind, name, pairs = m
    fields = {}
    for k, v in pairs:
        if known_value(v):
            fields.setdefault(text(k), field_value(v))
    return {"start": (end - dur) % (1 << 64), "end": end, "kind": text(kind),
            "name": text(name), "fields": fields}


# ---- canonical dump ---------------------------------------------------------------------

def quote(b):
    """Bytes as a double-quoted ASCII token: printable ASCII as is, everything else
    (and the quote and backslash) as \\xHH."""
    return '"' + "".join(chr(c) if 0x20 <= c <= 0x7E and c not in (0x22, 0x5C) else "\\x%02x" % c
                         for c in b) + '"'


def dump_field_value(v):
    if isinstance(v, Str):
        return quote(v)
    if isinstance(v, tuple) and v and v[0] == "float":
        return "f%016x" % struct.unpack(">Q", struct.pack(">d", field_value(v)))[0]
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return "%d" % v
    return "nil"


def dump_marker(tid, m):
    """`marker <tid> <end ns> <duration ns> "<kind>" "<name>"` then `"<key>"=<value>` per
    field of a known type, in record order (floats as the hex bits of a double); for a
    memory record `alloc <tid> <ns> <address> <size>` or `free <tid> <ns> <address>`."""
    if is_memory(m):
        what, t, addr, size = m
        if what == "ALLOC":
            return "alloc %d %d %d %d" % (tid, t, addr, size)
        return "free %d %d %d" % (tid, t, addr)
    end, dur, kind, name, pairs = m
    words = ["marker %d %d %d %s %s" % (tid, end, dur, quote(kind), quote(name))]
    words += ["%s=%s" % (quote(k), dump_field_value(v)) for k, v in pairs if known_value(v)]
    return " ".join(words)


def dump_lines(path):
    """The canonical dump of one file, as lines; build/ftdump prints the same."""
    raw = decode_raw(path)
    lines = ["file " + quote(path.encode("utf-8", "surrogateescape"))]
    if raw["header"] is not None:
        for key, kind in HEADER_KEYS:
            v = raw["header"][key]
            if kind == "argv":
                lines.append(" ".join(["header argv"] + [quote(a) for a in v]))
            else:
                lines.append("header %s %s" % (key, quote(v) if kind == "str" else v))
        # 1.1's optional keys, each only when it differs from "absent" (format_minor 0 is
        # the same as no format_minor).
        if raw["header"].get("format_minor", 0):
            lines.append("header format_minor %d" % raw["header"]["format_minor"])
        if "start_reason" in raw["header"]:
            lines.append("header start_reason " + quote(raw["header"]["start_reason"]))
    for fid, kind, name, module, file, line in raw["funcs"]:
        lines.append("func %d %d %s %s %s %d" % (fid, kind, quote(name), quote(module), quote(file), line))
    for tid, (names, events, markers) in sorted(threads_of(raw["chunks"]).items()):
        lines.append(" ".join(["thread %d" % tid] + [quote(n) for n in names]))
        lines.extend("%d %d %s %d" % (tid, t, name, fid) for t, name, fid in events)
        lines.extend(dump_marker(tid, m) for m in markers)
    t = raw["trailer"]
    if t:
        words = ["%s %d" % (k, t[k]) for k in TRAILER_KEYS]
        words += ["%s %s" % (k, quote(t[k]) if kind == "str" else t[k])
                  for k, kind in TRAILER_OPTIONAL_KEYS
                  if k in t and not (k == "memory_records" and t[k] == 0)]
        lines.append("trailer " + " ".join(words))
    else:
        lines.append("trailer none")
    lines.append("errors %d" % len(raw["errors"]))
    return lines, raw["errors"]


def main(argv):
    if len(argv) < 2:
        print("usage: refdecode.py FILE...", file=sys.stderr)
        return 2
    status = 0
    for path in argv[1:]:
        lines, errors = dump_lines(path)
        sys.stdout.write("".join(line + "\n" for line in lines))
        for offset, reason in errors:
            print("%s: offset %d: %s" % (path, offset, reason), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
