/* ft_trace.c — encoding and decoding the records of FORMAT.md §3–4.
 *
 * Encoders write the shortest msgpack encodings and leave the buffer as it was when they
 * fail (a half-written record would corrupt the block it sits in). They do not frame,
 * compress or write anything: that is ft_file.c and the recorder.
 *
 * The decoder is strict about what FORMAT.md fixes (field types, minimum field counts,
 * required header keys) and lenient where FORMAT.md asks it to be (extra fields, unknown
 * record types, unknown keys, invalid UTF-8, which is passed through as bytes). It never
 * leaves the cursor inside a record: on error the caller can report ft_mp_offset() as the
 * start of the bad record. It does not check order rules (FUNC before use, seq numbering):
 * those span blocks and belong to the consumer. */
#include "ft_trace.h"

#include <stddef.h>
#include <string.h>

/* ---- encoders ---- */

static ft_status put_kv_str(ft_buf *b, const char *key, const char *val)
{
    ft_status st = ft_mp_put_cstr(b, key);
    return st ? st : ft_mp_put_cstr(b, val);
}

static ft_status put_kv_uint(ft_buf *b, const char *key, uint64_t val)
{
    ft_status st = ft_mp_put_cstr(b, key);
    return st ? st : ft_mp_put_uint(b, val);
}

ft_status ft_trace_put_header(ft_buf *b, const ft_header *h)
{
    size_t len0 = b->len;
    ft_status st;

    /* The 18 keys of 1.0, then the optional keys of 1.1: format_minor always (this
     * encoder writes FT_FORMAT_MINOR whatever h->format_minor holds), start_reason when
     * set. */
    uint32_t pairs = 18 + 1 + (h->start_reason != NULL);

    if ((st = ft_mp_put_array(b, 2)) || (st = ft_mp_put_uint(b, FT_REC_HEADER)) ||
        (st = ft_mp_put_map(b, pairs)) ||
        (st = put_kv_uint(b, "format_version", h->format_version)) ||
        (st = put_kv_str(b, "run_id", h->run_id)) ||
        (st = put_kv_uint(b, "pid", h->pid)) ||
        (st = put_kv_uint(b, "ppid", h->ppid)) ||
        (st = put_kv_str(b, "hostname", h->hostname)) ||
        (st = put_kv_str(b, "python_version", h->python_version)) ||
        (st = put_kv_str(b, "python_implementation", h->python_implementation)) ||
        (st = put_kv_str(b, "executable", h->executable)) ||
        (st = ft_mp_put_cstr(b, "argv")) ||
        (st = ft_mp_put_array(b, (uint32_t)h->argc)))
        goto out;
    for (size_t i = 0; i < h->argc; i++) {
        if ((st = ft_mp_put_cstr(b, h->argv[i])))
            goto out;
    }
    if ((st = put_kv_str(b, "cwd", h->cwd)) ||
        (st = put_kv_str(b, "clock", h->clock)) ||
        (st = put_kv_uint(b, "clock_resolution_ns", h->clock_resolution_ns)) ||
        (st = put_kv_uint(b, "start_ns", h->start_ns)) ||
        (st = ft_mp_put_cstr(b, "wall_anchor_ns")) ||
        (st = ft_mp_put_int(b, h->wall_anchor_ns)) ||
        (st = put_kv_uint(b, "anchor_ns", h->anchor_ns)) ||
        (st = put_kv_str(b, "backend", h->backend)) ||
        (st = put_kv_str(b, "mode", h->mode)) ||
        (st = put_kv_str(b, "recorder", h->recorder)) ||
        (st = put_kv_uint(b, "format_minor", FT_FORMAT_MINOR)) ||
        (h->start_reason && (st = put_kv_str(b, "start_reason", h->start_reason))))
        goto out;
out:
    if (st)
        b->len = len0;
    return st;
}

ft_status ft_trace_put_trailer(ft_buf *b, const ft_trailer *t)
{
    size_t len0 = b->len;
    ft_status st;

    /* The five keys of 1.0, then the optional keys of 1.1 that are set. */
    uint32_t pairs = 5 + (t->end_reason != NULL) + (t->has_exit_status != 0) +
                     (t->has_signal != 0) + (t->process_label != NULL) +
                     (t->memory_records != 0);

    if ((st = ft_mp_put_array(b, 2)) || (st = ft_mp_put_uint(b, FT_REC_TRAILER)) ||
        (st = ft_mp_put_map(b, pairs)) ||
        (st = put_kv_uint(b, "end_ns", t->end_ns)) ||
        (st = put_kv_uint(b, "events", t->events)) ||
        (st = put_kv_uint(b, "chunks", t->chunks)) ||
        (st = put_kv_uint(b, "dropped_events", t->dropped_events)) ||
        (st = put_kv_uint(b, "functions", t->functions)) ||
        (t->end_reason && (st = put_kv_str(b, "end_reason", t->end_reason))) ||
        (t->has_exit_status && ((st = ft_mp_put_cstr(b, "exit_status")) ||
                                (st = ft_mp_put_int(b, t->exit_status)))) ||
        (t->has_signal && (st = put_kv_uint(b, "signal", t->signal))) ||
        (t->process_label && (st = put_kv_str(b, "process_label", t->process_label))) ||
        (t->memory_records && (st = put_kv_uint(b, "memory_records", t->memory_records))))
        b->len = len0;
    return st;
}

ft_status ft_trace_put_chunk(ft_buf *b, uint64_t tid, uint64_t seq, uint64_t t0,
                             const char *thread_name, size_t name_len)
{
    size_t len0 = b->len;
    ft_status st;

    if ((st = ft_mp_put_array(b, 5)) || (st = ft_mp_put_uint(b, FT_REC_CHUNK)) ||
        (st = ft_mp_put_uint(b, tid)) || (st = ft_mp_put_uint(b, seq)) ||
        (st = ft_mp_put_uint(b, t0)) ||
        (st = ft_mp_put_str(b, thread_name ? thread_name : "", thread_name ? name_len : 0)))
        b->len = len0;
    return st;
}

ft_status ft_trace_put_func(ft_buf *b, uint64_t fid, int kind,
                            const char *name, size_t name_len,
                            const char *module, size_t module_len,
                            const char *file, size_t file_len, uint64_t line)
{
    size_t len0 = b->len;
    ft_status st;

    if ((st = ft_mp_put_array(b, 7)) || (st = ft_mp_put_uint(b, FT_REC_FUNC)) ||
        (st = ft_mp_put_uint(b, fid)) || (st = ft_mp_put_uint(b, (uint64_t)(unsigned)kind)) ||
        (st = ft_mp_put_str(b, name ? name : "", name ? name_len : 0)) ||
        (st = ft_mp_put_str(b, module ? module : "", module ? module_len : 0)) ||
        (st = ft_mp_put_str(b, file ? file : "", file ? file_len : 0)) ||
        (st = ft_mp_put_uint(b, line)))
        b->len = len0;
    return st;
}

/* ---- markers ---- */

ft_status ft_trace_put_marker(ft_buf *b, int type, uint64_t dt, uint64_t dur,
                              const char *kind, size_t kind_len,
                              const char *name, size_t name_len, uint32_t nfields)
{
    size_t len0 = b->len;
    int interval = type == FT_REC_INTERVAL;
    ft_status st;

    if ((st = ft_mp_put_array(b, interval ? 6 : 5)) ||
        (st = ft_mp_put_uint(b, interval ? FT_REC_INTERVAL : FT_REC_MARKER)) ||
        (st = ft_mp_put_uint(b, dt)) || (interval && (st = ft_mp_put_uint(b, dur))) ||
        (st = ft_mp_put_str(b, kind ? kind : "", kind ? kind_len : 0)) ||
        (st = ft_mp_put_str(b, name ? name : "", name ? name_len : 0)) ||
        (st = ft_mp_put_map(b, nfields)))
        b->len = len0;
    return st;
}

ft_status ft_trace_put_field_str(ft_buf *b, const char *key, const char *s, size_t n)
{
    size_t len0 = b->len;
    ft_status st;

    if ((st = ft_mp_put_cstr(b, key)) || (st = ft_mp_put_str(b, s ? s : "", s ? n : 0)))
        b->len = len0;
    return st;
}

ft_status ft_trace_put_field_int(ft_buf *b, const char *key, int64_t v)
{
    size_t len0 = b->len;
    ft_status st;

    if ((st = ft_mp_put_cstr(b, key)) || (st = ft_mp_put_int(b, v)))
        b->len = len0;
    return st;
}

/* float 64, big-endian like every msgpack number. */
ft_status ft_trace_put_field_float(ft_buf *b, const char *key, double v)
{
    size_t len0 = b->len;
    uint64_t bits;
    ft_status st;

    memcpy(&bits, &v, sizeof bits);
    if ((st = ft_mp_put_cstr(b, key)) || (st = ft_buf_reserve(b, 9))) {
        b->len = len0;
        return st;
    }
    b->ptr[b->len++] = 0xcb;
    for (int i = 0; i < 8; i++)
        b->ptr[b->len++] = (uint8_t)(bits >> (56 - 8 * i));
    return FT_OK;
}

static ft_status put_field_byte(ft_buf *b, const char *key, uint8_t byte)
{
    size_t len0 = b->len;
    ft_status st;

    if ((st = ft_mp_put_cstr(b, key)) || (st = ft_buf_reserve(b, 1))) {
        b->len = len0;
        return st;
    }
    b->ptr[b->len++] = byte;
    return FT_OK;
}

ft_status ft_trace_put_field_bool(ft_buf *b, const char *key, int v)
{
    return put_field_byte(b, key, v ? 0xc3 : 0xc2);
}

ft_status ft_trace_put_field_nil(ft_buf *b, const char *key)
{
    return put_field_byte(b, key, 0xc0);
}

/* ---- decoder ---- */

/* Skips n values (extra fields a later revision may have appended). */
static ft_status skip_n(ft_mp_reader *r, uint64_t n)
{
    ft_status st = FT_OK;
    for (uint64_t i = 0; i < n && !st; i++)
        st = ft_mp_r_skip(r);
    return st;
}

/* Reads k uints into out[]. */
static ft_status r_uints(ft_mp_reader *r, uint64_t *out[], int k)
{
    ft_status st = FT_OK;
    for (int i = 0; i < k && !st; i++)
        st = ft_mp_r_uint(r, out[i]);
    return st;
}

/* A float 32/64 value, or FT_ECORRUPT for any other type. */
static ft_status r_float(ft_mp_reader *r, double *out)
{
    const uint8_t *p = r->p;
    size_t n;
    uint64_t bits = 0;

    if (ft_mp_at_end(r))
        return FT_ETRUNC;
    if (p[0] != 0xca && p[0] != 0xcb)
        return FT_ECORRUPT;
    n = p[0] == 0xca ? 4 : 8;
    if ((size_t)(r->end - p) < n + 1)
        return FT_ETRUNC;
    for (size_t i = 1; i <= n; i++)
        bits = bits << 8 | p[i];
    if (n == 4) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        *out = f;
    } else {
        memcpy(out, &bits, sizeof *out);
    }
    r->p = p + n + 1;
    return FT_OK;
}

ft_status ft_trace_next_field(ft_mp_reader *r, ft_field *f)
{
    const uint8_t *start = r->p;
    uint8_t tag;
    ft_status st;

    memset(f, 0, sizeof *f);
    if ((st = ft_mp_r_str(r, &f->key)))
        goto out;
    if (ft_mp_at_end(r)) {
        st = FT_ETRUNC;
        goto out;
    }
    tag = r->p[0];
    if (tag == 0xc0) {
        f->type = FT_FIELD_NIL;
        r->p++;
    } else if (tag == 0xc2 || tag == 0xc3) {
        f->type = FT_FIELD_BOOL;
        f->u = tag == 0xc3;
        r->p++;
    } else if (tag == 0xca || tag == 0xcb) {
        f->type = FT_FIELD_FLOAT;
        st = r_float(r, &f->f);
    } else if (tag <= 0x7f || (tag >= 0xcc && tag <= 0xcf)) {
        f->type = FT_FIELD_UINT;
        st = ft_mp_r_uint(r, &f->u);
    } else if (tag >= 0xe0 || (tag >= 0xd0 && tag <= 0xd3)) {
        /* Signed encodings of non-negative values are unsigned values all the same. */
        st = ft_mp_r_int(r, &f->i);
        if (!st && f->i >= 0) {
            f->type = FT_FIELD_UINT;
            f->u = (uint64_t)f->i;
        } else {
            f->type = FT_FIELD_INT;
        }
    } else if ((tag >= 0xa0 && tag <= 0xbf) || (tag >= 0xd9 && tag <= 0xdb) ||
               (tag >= 0xc4 && tag <= 0xc6)) {
        f->type = FT_FIELD_STR;
        st = ft_mp_r_str(r, &f->s);
    } else {
        f->type = FT_FIELD_OTHER;
        st = ft_mp_r_skip(r);
    }
out:
    if (st) {
        r->p = start;
        memset(f, 0, sizeof *f);
    }
    return st;
}

/* [64, dt, kind, name, fields] or [65, dt, dur, kind, name, fields], after the type;
 * n fields follow. The fields map is checked whole here, so that a consumer iterating it
 * later meets no error. */
static ft_status read_marker(ft_mp_reader *r, ft_record *rec, int interval, uint32_t n)
{
    uint32_t want = interval ? 5 : 4, pairs;
    ft_mp_reader fr;
    ft_field f;
    ft_status st;

    if (n < want)
        return FT_ECORRUPT;
    if ((st = ft_mp_r_uint(r, &rec->u.marker.dt)) ||
        (interval && (st = ft_mp_r_uint(r, &rec->u.marker.dur))) ||
        (st = ft_mp_r_str(r, &rec->u.marker.kind)) ||
        (st = ft_mp_r_str(r, &rec->u.marker.name)) || (st = ft_mp_r_map(r, &pairs)))
        return st;
    ft_mp_reader_init(&fr, r->p, (size_t)(r->end - r->p));
    for (uint32_t i = 0; i < pairs; i++) {
        if ((st = ft_trace_next_field(&fr, &f)))
            return st;
    }
    rec->u.marker.fields = r->p;
    rec->u.marker.fields_len = (size_t)(fr.p - r->p);
    rec->u.marker.nfields = pairs;
    r->p = fr.p;
    return skip_n(r, n - want);
}

/* A msgpack bin (EVENTS' streams are bin only). */
static ft_status r_bin(ft_mp_reader *r, ft_str *out)
{
    if (ft_mp_at_end(r))
        return FT_ETRUNC;
    if (r->p[0] < 0xc4 || r->p[0] > 0xc6)
        return FT_ECORRUPT;
    return ft_mp_r_str(r, out);
}

ft_status ft_trace_next(ft_mp_reader *r, ft_record *rec)
{
    const uint8_t *start = r->p;
    uint32_t n;
    uint64_t type;
    ft_status st;

    memset(rec, 0, sizeof *rec);
    if (ft_mp_at_end(r))
        return FT_END;
    if ((st = ft_mp_r_array(r, &n)))
        goto out;
    if (n < 1) {
        st = FT_ECORRUPT;
        goto out;
    }
    if ((st = ft_mp_r_uint(r, &type)))
        goto out;
    n -= 1;

    switch (type) {
    case FT_REC_CALL: case FT_REC_RETURN: case FT_REC_UNWIND:
    case FT_REC_YIELD: case FT_REC_RESUME: {
        uint64_t *f[] = {&rec->u.ev.dt, &rec->u.ev.fid};
        if (n < 2) { st = FT_ECORRUPT; goto out; }
        if ((st = r_uints(r, f, 2)) || (st = skip_n(r, n - 2)))
            goto out;
        break;
    }
    case FT_REC_CHUNK: {
        uint64_t *f[] = {&rec->u.chunk.tid, &rec->u.chunk.seq, &rec->u.chunk.t0};
        if (n < 4) { st = FT_ECORRUPT; goto out; }
        if ((st = r_uints(r, f, 3)) || (st = ft_mp_r_str(r, &rec->u.chunk.thread_name)) ||
            (st = skip_n(r, n - 4)))
            goto out;
        break;
    }
    case FT_REC_FUNC: {
        uint64_t *f[] = {&rec->u.func.fid, &rec->u.func.kind};
        if (n < 6) { st = FT_ECORRUPT; goto out; }
        if ((st = r_uints(r, f, 2)) || (st = ft_mp_r_str(r, &rec->u.func.name)) ||
            (st = ft_mp_r_str(r, &rec->u.func.module)) ||
            (st = ft_mp_r_str(r, &rec->u.func.file)) ||
            (st = ft_mp_r_uint(r, &rec->u.func.line)) || (st = skip_n(r, n - 6)))
            goto out;
        break;
    }
    case FT_REC_MARKER: case FT_REC_INTERVAL:
        if ((st = read_marker(r, rec, type == FT_REC_INTERVAL, n)))
            goto out;
        break;
    case FT_REC_ALLOC: case FT_REC_FREE: {
        uint64_t *f[] = {&rec->u.mem.dt, &rec->u.mem.addr, &rec->u.mem.size};
        int k = type == FT_REC_ALLOC ? 3 : 2;
        if (n < (uint32_t)k) { st = FT_ECORRUPT; goto out; }
        if ((st = r_uints(r, f, k)) || (st = skip_n(r, n - (uint32_t)k)))
            goto out;
        break;
    }
    case FT_REC_EVENTS: {
        ft_str ops, dts;
        if (n < 2) { st = FT_ECORRUPT; goto out; }
        if ((st = r_bin(r, &ops)) || (st = r_bin(r, &dts)) || (st = skip_n(r, n - 2)))
            goto out;
        rec->u.events.ops = (const uint8_t *)ops.ptr;
        rec->u.events.ops_len = ops.len;
        rec->u.events.dts = (const uint8_t *)dts.ptr;
        rec->u.events.dts_len = dts.len;
        break;
    }
    case FT_REC_HEADER: case FT_REC_TRAILER:
        /* Not decoded here (see ft_trace_read_header); only stepped over. */
        if ((st = skip_n(r, n)))
            goto out;
        break;
    default:
        /* Unknown types come back as FT_REC_UNKNOWN (== 0) with FT_OK. */
        if ((st = skip_n(r, n)))
            goto out;
        type = FT_REC_UNKNOWN;
        break;
    }
    rec->type = (int)type;
out:
    if (st) {
        r->p = start;
        memset(rec, 0, sizeof *rec);
    }
    return st;
}

/* Opens a [type, map] record: checks the type, returns the map's size. */
static ft_status open_map_record(ft_mp_reader *r, uint64_t want, uint32_t *extra, uint32_t *pairs)
{
    uint32_t n;
    uint64_t type;
    ft_status st;

    if ((st = ft_mp_r_array(r, &n)))
        return st;
    if (n < 2)
        return FT_ECORRUPT;
    if ((st = ft_mp_r_uint(r, &type)))
        return st;
    if (type != want)
        return FT_ECORRUPT;
    *extra = n - 2;
    return ft_mp_r_map(r, pairs);
}

/* A "str" key compared with a C string. */
static int key_is(ft_str k, const char *s)
{
    size_t n = strlen(s);
    return k.len == n && memcmp(k.ptr, s, n) == 0;
}

/* Copies a str value into a fresh NUL-terminated string, replacing *dst. */
static ft_status r_owned_str(ft_mp_reader *r, char **dst)
{
    ft_str s;
    char *c;
    ft_status st = ft_mp_r_str(r, &s);
    if (st)
        return st;
    c = ft_malloc(s.len + 1);
    if (!c)
        return FT_ENOMEM;
    memcpy(c, s.ptr, s.len);
    c[s.len] = '\0';
    ft_free(*dst);
    *dst = c;
    return FT_OK;
}

static ft_status r_argv(ft_mp_reader *r, ft_header *h)
{
    uint32_t n;
    char **argv;
    ft_status st = ft_mp_r_array(r, &n);
    if (st)
        return st;
    /* Each element takes at least one byte: refuse counts the input cannot hold before
     * allocating for them. */
    if (n > (size_t)(r->end - r->p))
        return FT_ETRUNC;
    argv = ft_malloc(sizeof *argv * (n ? n : 1));
    if (!argv)
        return FT_ENOMEM;
    memset(argv, 0, sizeof *argv * (n ? n : 1));
    /* Replace any earlier argv (duplicate key: the last one wins). */
    for (size_t i = 0; i < h->argc; i++)
        ft_free(h->argv[i]);
    ft_free(h->argv);
    h->argv = argv;
    h->argc = 0;
    for (uint32_t i = 0; i < n; i++) {
        if ((st = r_owned_str(r, &argv[i])))
            return st;
        h->argc = i + 1;
    }
    return FT_OK;
}

/* The header's keys, in FORMAT.md order; the index is the bit in the "seen" mask. The
 * first HDR_REQUIRED are required (1.0), the others optional (1.1). */
enum { K_STR, K_UINT, K_INT, K_ARGV };
#define HDR_REQUIRED 18
#define HDR_KEYS 20

static ft_status header_field(ft_mp_reader *r, ft_header *h, ft_str key, uint32_t *seen)
{
    const struct { const char *name; int kind; size_t off; } keys[HDR_KEYS] = {
#define F(name, kind) {#name, kind, offsetof(ft_header, name)}
        F(format_version, K_UINT), F(run_id, K_STR), F(pid, K_UINT), F(ppid, K_UINT),
        F(hostname, K_STR), F(python_version, K_STR), F(python_implementation, K_STR),
        F(executable, K_STR), F(argv, K_ARGV), F(cwd, K_STR), F(clock, K_STR),
        F(clock_resolution_ns, K_UINT), F(start_ns, K_UINT), F(wall_anchor_ns, K_INT),
        F(anchor_ns, K_UINT), F(backend, K_STR), F(mode, K_STR), F(recorder, K_STR),
        F(format_minor, K_UINT), F(start_reason, K_STR),
#undef F
    };
    for (int i = 0; i < HDR_KEYS; i++) {
        char *field = (char *)h + keys[i].off;
        ft_status st;
        if (!key_is(key, keys[i].name))
            continue;
        switch (keys[i].kind) {
        case K_STR: st = r_owned_str(r, (char **)(void *)field); break;
        case K_UINT: st = ft_mp_r_uint(r, (uint64_t *)(void *)field); break;
        case K_INT: st = ft_mp_r_int(r, (int64_t *)(void *)field); break;
        default: st = r_argv(r, h); break;
        }
        if (!st)
            *seen |= 1u << i;
        return st;
    }
    return ft_mp_r_skip(r);
}

ft_status ft_trace_read_header(ft_mp_reader *r, ft_header *h)
{
    const uint8_t *start = r->p;
    uint32_t extra, pairs, seen = 0;
    ft_status st;

    memset(h, 0, sizeof *h);
    if ((st = open_map_record(r, FT_REC_HEADER, &extra, &pairs)))
        goto out;
    for (uint32_t i = 0; i < pairs; i++) {
        ft_str key;
        if ((st = ft_mp_r_str(r, &key)) || (st = header_field(r, h, key, &seen)))
            goto out;
    }
    if ((st = skip_n(r, extra)))
        goto out;
    if (!ft_mp_at_end(r)) {         /* the header frame holds exactly one record */
        st = FT_ECORRUPT;
        goto out;
    }
    /* A newer version may have other required keys: report the version, not the keys.
     * Any minor version of a major one it knows is read (FORMAT.md: a 2.x decoder reads
     * 1.y and 2.y). */
    if (seen & 1u) {
        if (!ft_format_version_known(h->format_version)) {
            st = FT_EVERSION;
            goto out;
        }
    }
    if ((seen & ((1u << HDR_REQUIRED) - 1)) != (1u << HDR_REQUIRED) - 1)
        st = FT_ECORRUPT;
out:
    if (st && st != FT_EVERSION) {
        ft_header_fini(h);
        r->p = start;
    }
    return st;
}

/* The trailer's keys: the first TRL_REQUIRED are required (1.0), the others optional. */
#define TRL_REQUIRED 5
#define TRL_KEYS 10

ft_status ft_trace_read_trailer(ft_mp_reader *r, ft_trailer *t)
{
    static const char *const names[TRL_KEYS] = {"end_ns", "events", "chunks",
        "dropped_events", "functions", "end_reason", "exit_status", "signal", "process_label",
        "memory_records"};
    uint64_t *uints[TRL_REQUIRED] = {&t->end_ns, &t->events, &t->chunks, &t->dropped_events,
                                     &t->functions};
    const uint8_t *start = r->p;
    uint32_t extra, pairs, seen = 0;
    ft_status st;

    memset(t, 0, sizeof *t);
    if ((st = open_map_record(r, FT_REC_TRAILER, &extra, &pairs)))
        goto out;
    for (uint32_t i = 0; i < pairs; i++) {
        ft_str key;
        int k;
        if ((st = ft_mp_r_str(r, &key)))
            goto out;
        for (k = 0; k < TRL_KEYS && !key_is(key, names[k]); k++)
            ;
        switch (k) {
        case 5: st = r_owned_str(r, &t->end_reason); break;
        case 6: st = ft_mp_r_int(r, &t->exit_status); break;
        case 7: st = ft_mp_r_uint(r, &t->signal); break;
        case 8: st = r_owned_str(r, &t->process_label); break;
        case 9: st = ft_mp_r_uint(r, &t->memory_records); break;
        case TRL_KEYS: st = ft_mp_r_skip(r); break;
        default: st = ft_mp_r_uint(r, uints[k]); break;
        }
        if (st)
            goto out;
        if (k < TRL_KEYS)
            seen |= 1u << k;
    }
    if ((st = skip_n(r, extra)))
        goto out;
    t->has_exit_status = (seen >> 6) & 1;
    t->has_signal = (seen >> 7) & 1;
    if (!ft_mp_at_end(r) || (seen & ((1u << TRL_REQUIRED) - 1)) != (1u << TRL_REQUIRED) - 1)
        st = FT_ECORRUPT;
out:
    if (st) {
        ft_trailer_fini(t);
        r->p = start;
    }
    return st;
}

void ft_header_fini(ft_header *h)
{
    char **strs[] = {&h->run_id, &h->hostname, &h->python_version, &h->python_implementation,
                     &h->executable, &h->cwd, &h->clock, &h->backend, &h->mode, &h->recorder,
                     &h->start_reason};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        ft_free(*strs[i]);
    if (h->argv) {
        for (size_t i = 0; i < h->argc; i++)
            ft_free(h->argv[i]);
    }
    ft_free(h->argv);
    memset(h, 0, sizeof *h);
}

void ft_trailer_fini(ft_trailer *t)
{
    ft_free(t->end_reason);
    ft_free(t->process_label);
    memset(t, 0, sizeof *t);
}

ft_status ft_trace_put_events(ft_buf *b, const uint8_t *ops, size_t ops_len,
                              const uint8_t *dts, size_t dts_len)
{
    ft_status st;

    if (ops_len > 0xffffffffu || dts_len > 0xffffffffu)
        return FT_ECORRUPT;
    if ((st = ft_buf_reserve(b, 2 + 5 + ops_len + 5 + dts_len)))
        return st;
    ft_mp_w_array(b, 3);
    ft_mp_w_uint(b, FT_REC_EVENTS);
    ft_mp_bin32_head(b->ptr + b->len, (uint32_t)ops_len);      /* bin 32, as the recorder */
    b->len += 5;
    if (ops_len)
        memcpy(b->ptr + b->len, ops, ops_len);
    b->len += ops_len;
    ft_mp_bin32_head(b->ptr + b->len, (uint32_t)dts_len);
    b->len += 5;
    if (dts_len)
        memcpy(b->ptr + b->len, dts, dts_len);
    b->len += dts_len;
    return FT_OK;
}

/* ---- a block's records, EVENTS expanded ---- */

void ft_block_init(ft_block_reader *b, const void *data, size_t len)
{
    memset(b, 0, sizeof *b);
    ft_mp_reader_init(&b->r, data, len);
}

static size_t block_offset(const ft_block_reader *b, const uint8_t *p)
{
    return (size_t)(p - b->r.start);
}

/* The next entry of the EVENTS record being expanded. FT_END when its ops are used up
 * (and its dts with them); a placeholder reads the record it stands for. */
static ft_status next_entry(ft_block_reader *b, ft_record *rec)
{
    const uint8_t *p = b->op, *q = b->dt;
    uint64_t op, code;
    ft_status st;

    if (p >= b->op_end) {
        b->op = NULL;
        if (q != b->dt_end) {
            b->at = block_offset(b, q);
            return FT_ECORRUPT;     /* dts left over */
        }
        return FT_END;
    }
    b->at = block_offset(b, p);
    if (ft_varint_get(&p, b->op_end, &op))
        return FT_ECORRUPT;         /* cut short by its bin's end, or too long */
    code = op & FT_OP_CODE_MASK;
    if (code == FT_OP_RECORD) {
        b->op = p;
        b->at = ft_mp_offset(&b->r);
        st = ft_trace_next(&b->r, rec);
        if (st == FT_END || (st == FT_OK && rec->type == FT_REC_EVENTS)) {
            memset(rec, 0, sizeof *rec);
            return FT_ECORRUPT;     /* no record left for it, or one that cannot go there */
        }
        return st;
    }
    if (code >= FT_OP_EVENT_CODES)
        return FT_ECORRUPT;
    b->at = block_offset(b, q);
    if (ft_varint_get(&q, b->dt_end, &rec->u.ev.dt))
        return FT_ECORRUPT;         /* fewer dts than events, or a bad one */
    b->op = p;
    b->dt = q;
    rec->type = FT_OP_EVENT_BASE + (int)code;
    rec->u.ev.fid = op >> FT_OP_SHIFT;
    return FT_OK;
}

ft_status ft_block_next(ft_block_reader *b, ft_record *rec)
{
    ft_status st;

    for (;;) {
        if (b->op) {
            memset(rec, 0, sizeof *rec);
            st = next_entry(b, rec);
            if (st != FT_END)
                return st;
        }
        b->at = ft_mp_offset(&b->r);
        st = ft_trace_next(&b->r, rec);
        if (st || rec->type != FT_REC_EVENTS)
            return st;
        /* An EVENTS record: expand it (an empty one stands for nothing). */
        b->op = rec->u.events.ops;
        b->op_end = b->op + rec->u.events.ops_len;
        b->dt = rec->u.events.dts;
        b->dt_end = b->dt + rec->u.events.dts_len;
    }
}
