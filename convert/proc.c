/* proc.c — reading one trace file into per-thread event streams (see proc.h). */
#include "proc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ft_buf.h"
#include "ft_file.h"

/* A FUNC id this far past the functions defined so far is corrupt, not a definition lost
 * with a bad frame: refusing it keeps a flipped bit from allocating gigabytes of slots. */
#define FID_SLACK (1u << 20)
/* The reorder window: bytes of early chunks held back waiting for a missing predecessor.
 * Past it the predecessor is taken as lost. Only damaged or out-of-order files fill it. */
#define PENDING_MAX (64u << 20)

void ft_proc_init(ft_proc *p, const char *path)
{
    memset(p, 0, sizeof *p);
    p->path = path;
    ft_strpool_init(&p->strings);
    ft_intmap_init(&p->tids);
}

void ft_proc_release(ft_proc *p)
{
    for (size_t i = 0; i < p->npending; i++)
        ft_free(p->pending[i].data);
    ft_free(p->pending);
    p->pending = NULL;
    p->npending = p->pending_cap = p->pending_bytes = 0;
    for (uint32_t i = 0; i < p->nthreads; i++) {
        ft_tstream_fini(p->threads[i]);
        ft_free(p->threads[i]);
    }
    ft_free(p->threads);
    p->threads = NULL;
    p->nthreads = p->threads_cap = 0;
    ft_intmap_fini(&p->tids);
    ft_free(p->funcs);
    p->funcs = NULL;
    p->nfuncs = p->funcs_cap = 0;
    ft_strpool_fini(&p->strings);
}

void ft_proc_adopt(ft_proc *p, ft_proc *prev)
{
    ft_strpool_fini(&p->strings);
    ft_intmap_fini(&p->tids);
    p->strings = prev->strings;
    p->tids = prev->tids;
    p->funcs = prev->funcs;
    p->nfuncs = prev->nfuncs;
    p->funcs_cap = prev->funcs_cap;
    p->threads = prev->threads;
    p->nthreads = prev->nthreads;
    p->threads_cap = prev->threads_cap;
    p->fid_base = prev->nfuncs;
    /* This file numbers its chunks from 0 again; the stacks were closed at prev's end. */
    for (uint32_t i = 0; i < p->nthreads; i++)
        p->threads[i]->next_seq = 0;
    prev->funcs = NULL;
    prev->nfuncs = prev->funcs_cap = 0;
    prev->threads = NULL;
    prev->nthreads = prev->threads_cap = 0;
    ft_strpool_init(&prev->strings);
    ft_intmap_init(&prev->tids);
}

void ft_proc_fini(ft_proc *p)
{
    ft_proc_release(p);
    ft_header_fini(&p->header);
    ft_trailer_fini(&p->trailer);
    memset(p, 0, sizeof *p);
}

/* "1234.ftrace" or "1234.2.ftrace" → 1234; 0 if the name does not start with digits. */
static uint64_t pid_from_path(const char *path)
{
    const char *base = strrchr(path, '/');
    uint64_t pid = 0;

    base = base ? base + 1 : path;
    for (; *base >= '0' && *base <= '9' && pid < UINT64_MAX / 10; base++)
        pid = pid * 10 + (uint64_t)(*base - '0');
    return pid;
}

/* The reader's opening failure, as a sentence. */
static void report_open(ft_report *r, const char *path, ft_status st, unsigned version)
{
    switch (st) {
    case FT_EIO:
        ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "cannot read: %s", strerror(errno));
        break;
    case FT_ETRUNC:
        ft_report_problem(r, path, 0, "the file ends inside the signature frame");
        break;
    case FT_EFOREIGN:
        ft_report_problem(r, path, 0, "not a functiontrace trace (no signature frame)");
        break;
    case FT_EVERSION:
        ft_report_problem(r, path, 0, "trace format version %u; this ft-convert reads "
                          "versions %d to %d", version, FT_FORMAT_VERSION_MIN, FT_FORMAT_VERSION);
        break;
    default:
        ft_report_problem(r, path, 0, "cannot open: %s", ft_status_str(st));
    }
}

/* Decode the HEADER record of a frame whose first record is one. */
static ft_status parse_header(ft_proc *p, const ft_frame *fr)
{
    ft_mp_reader r;
    ft_status st;

    ft_mp_reader_init(&r, fr->data, fr->len);
    ft_header_fini(&p->header);
    memset(&p->header, 0, sizeof p->header);
    st = ft_trace_read_header(&r, &p->header);
    p->header_st = st;
    /* Another format_version in an otherwise sound header still names the process. */
    if (st == FT_OK || st == FT_EVERSION) {
        p->has_header = 1;
        p->pid = p->header.pid;
    }
    return st;
}

/* Type of the first record of a frame, without decoding more. */
static int first_record_type(const ft_frame *fr)
{
    ft_mp_reader r;
    ft_record rec;

    ft_mp_reader_init(&r, fr->data, fr->len);
    return ft_trace_next(&r, &rec) == FT_OK ? rec.type : -1;
}

ft_status ft_proc_read_header(ft_proc *p)
{
    ft_file_reader *fr = NULL;
    ft_frame frame;
    ft_status st;

    p->pid = pid_from_path(p->path);
    st = ft_file_reader_open(p->path, &fr, NULL);
    if (st == FT_ENOMEM)
        return st;
    if (st) {
        p->unreadable = 1;
        return FT_OK;
    }
    st = ft_file_reader_next(fr, &frame);
    if (st == FT_OK && first_record_type(&frame) == FT_REC_HEADER)
        st = parse_header(p, &frame);
    ft_file_reader_free(fr);
    return st == FT_ENOMEM ? st : FT_OK;
}

/* Report a problem of this file and count it against the file. */
static void problem(ft_proc *p, ft_report *r, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(ft_proc *p, ft_report *r, uint64_t offset, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->problems++;
    ft_report_problem(r, p->path, offset, "%s", msg);
}

/* A function id of this file in the process's numbering (see ft_proc_adopt); ids that do
 * not fit stay out of range, which the thread stream maps to FT_FID_BAD. */
static inline uint64_t proc_fid(const ft_proc *p, uint64_t fid)
{
    return fid < (uint64_t)FT_FID_BAD - p->fid_base ? fid + p->fid_base : FT_FID_BAD;
}

static ft_status thread_for(ft_proc *p, uint64_t tid, ft_tstream **out)
{
    uint32_t idx;
    ft_status st;

    idx = ft_intmap_get(&p->tids, tid);
    if (idx != FT_INTMAP_EMPTY) {
        *out = p->threads[idx];
        return FT_OK;
    }
    if (p->nthreads == p->threads_cap) {
        uint32_t cap = p->threads_cap ? p->threads_cap * 2 : 8;
        ft_tstream **t = ft_realloc(p->threads, (size_t)cap * sizeof *t);
        if (!t)
            return FT_ENOMEM;
        p->threads = t;
        p->threads_cap = cap;
    }
    ft_tstream *ts = ft_malloc(sizeof *ts);
    if (!ts)
        return FT_ENOMEM;
    ft_tstream_init(ts, tid, p->nthreads);
    if ((st = ft_intmap_get_or_put(&p->tids, tid, p->nthreads, &idx))) {
        ft_free(ts);
        return st;
    }
    p->threads[p->nthreads++] = ts;
    *out = ts;
    return FT_OK;
}

static ft_status define_func(ft_proc *p, ft_report *r, uint64_t off, const ft_record *rec)
{
    uint64_t fid = rec->u.func.fid;
    ft_func_def *d;
    ft_status st;

    if (fid >= FT_FID_BAD || fid >= p->ndefined + FID_SLACK ||
        proc_fid(p, fid) >= FT_FID_BAD) {
        problem(p, r, off, "FUNC record with function id %" PRIu64 " far past the %" PRIu64
                " defined so far; ignored", fid, p->ndefined);
        return FT_OK;
    }
    fid = proc_fid(p, fid);
    if (fid >= p->funcs_cap) {
        uint64_t cap = p->funcs_cap ? p->funcs_cap : 256;
        while (cap <= fid)
            cap *= 2;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        ft_func_def *f = ft_realloc(p->funcs, (size_t)cap * sizeof *f);
        if (!f)
            return FT_ENOMEM;
        memset(f + p->funcs_cap, 0, (size_t)(cap - p->funcs_cap) * sizeof *f);
        p->funcs = f;
        p->funcs_cap = (uint32_t)cap;
    }
    if (fid >= p->nfuncs)
        p->nfuncs = (uint32_t)fid + 1;
    d = &p->funcs[fid];
    if (d->defined) {
        problem(p, r, off, "function id %" PRIu64 " is defined twice; the first definition "
                "is kept", fid - p->fid_base);
        return FT_OK;
    }
    if ((st = ft_strpool_intern(&p->strings, rec->u.func.name.ptr, rec->u.func.name.len,
                                &d->name)) ||
        (st = ft_strpool_intern(&p->strings, rec->u.func.module.ptr, rec->u.func.module.len,
                                &d->module)) ||
        (st = ft_strpool_intern(&p->strings, rec->u.func.file.ptr, rec->u.func.file.len,
                                &d->file)))
        return st;
    d->kind = rec->u.func.kind == FT_FUNC_PYTHON ? FT_FUNC_PYTHON : FT_FUNC_NATIVE;
    d->line = rec->u.func.line > UINT32_MAX ? UINT32_MAX : (uint32_t)rec->u.func.line;
    d->defined = 1;
    p->ndefined++;
    return FT_OK;
}

static ft_status begin_chunk(ft_proc *p, ft_report *r, uint64_t off, const ft_record *rec,
                             ft_tstream *ts)
{
    uint64_t prev = ts->next_seq;
    ft_status st;

    switch (ft_tstream_begin_chunk(ts, rec->u.chunk.seq, rec->u.chunk.t0)) {
    case FT_CHUNK_IN_ORDER:
        break;
    case FT_CHUNK_GAP:
        if (prev + 1 == rec->u.chunk.seq)
            problem(p, r, off, "thread %" PRIu64 ": chunk %" PRIu64 " is missing", ts->tid,
                    prev);
        else
            problem(p, r, off, "thread %" PRIu64 ": chunks %" PRIu64 "..%" PRIu64
                    " are missing", ts->tid, prev, rec->u.chunk.seq - 1);
        break;
    case FT_CHUNK_BACKWARDS:
        problem(p, r, off, "thread %" PRIu64 ": chunk %" PRIu64 " comes after chunk %" PRIu64,
                ts->tid, rec->u.chunk.seq, prev - 1);
        break;
    }
    if (rec->u.chunk.thread_name.len &&
        (st = ft_strpool_intern(&p->strings, rec->u.chunk.thread_name.ptr,
                                rec->u.chunk.thread_name.len, &ts->name)))
        return st;
    return FT_OK;
}

/* Keep a copy of a block whose chunk came early. */
static ft_status defer(ft_proc *p, const ft_record *rec, const uint8_t *data, size_t len,
                       uint64_t offset)
{
    ft_pending_chunk *pc;

    if (ft_grow(&p->pending, &p->pending_cap, p->npending, sizeof *p->pending, 16))
        return FT_ENOMEM;
    pc = &p->pending[p->npending];
    pc->data = ft_malloc(len);
    if (!pc->data)
        return FT_ENOMEM;
    memcpy(pc->data, data, len);
    pc->len = len;
    pc->tid = rec->u.chunk.tid;
    pc->seq = rec->u.chunk.seq;
    pc->offset = offset;
    p->npending++;
    p->pending_bytes += len;
    return FT_OK;
}

/* One msgpack unsigned integer in any of its unsigned encodings at *pp (< end): its
 * length, or 0 if it is another type or cut short. */
static inline size_t fast_uint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    size_t n;

    if (p[0] < 0x80) {
        *v = p[0];
        return 1;
    }
    switch (p[0]) {
    case 0xcc: n = 1; break;
    case 0xcd: n = 2; break;
    case 0xce: n = 4; break;
    case 0xcf: n = 8; break;
    default: return 0;
    }
    if ((size_t)(end - p) < n + 1)
        return 0;
    uint64_t x = 0;
    for (size_t i = 1; i <= n; i++)
        x = x << 8 | p[i];
    *v = x;
    return n + 1;
}

/* The event record as the 1.x recorder wrote it, decoded in line: a fixarray of exactly 3,
 * a fixint type 16..20, two unsigned integers. Anything else (extra fields, signed
 * encodings, a cut record) returns 0 and goes through ft_trace_next, which remains the
 * one authority on the format; this only spares the hot path its generality.
 * (A candidate for format/ft_trace.h, next to ft_trace_put_event.) */
static inline int fast_event(ft_mp_reader *r, int *type, uint64_t *dt, uint64_t *fid)
{
    const uint8_t *p = r->p, *end = r->end;
    size_t a, b;

    if (end - p < 4 || p[0] != 0x93 || p[1] < FT_REC_CALL || p[1] > FT_REC_RESUME)
        return 0;
    if (!(a = fast_uint(p + 2, end, dt)) || p + 2 + a >= end ||
        !(b = fast_uint(p + 2 + a, end, fid)))
        return 0;
    *type = p[1];
    r->p = p + 2 + a + b;
    return 1;
}

/* Decode one block. A record that cannot be decoded ends the block (nothing after it can
 * be found); what came before it stays. *chunk_of is the thread whose chunk was read in
 * order, if any, so that the caller can release chunks that were waiting for it. With
 * `deferred`, the block is a held-back chunk whose turn has come. */
static ft_status read_block(ft_proc *p, ft_report *r, const uint8_t *data, size_t len,
                            uint64_t offset, int first_frame, int deferred,
                            ft_tstream **chunk_of)
{
    ft_block_reader br;
    ft_record rec;
    ft_tstream *cur = NULL;
    ft_status st;
    int n = 0;

    *chunk_of = NULL;
    ft_block_init(&br, data, len);
    for (;; n++) {
        int type;
        uint64_t dt, fid;
        if (cur && (ft_block_fast_event(&br, &type, &dt, &fid) ||
                    (!br.op && fast_event(&br.r, &type, &dt, &fid)))) {
            if ((st = ft_tstream_event(cur, type, dt, proc_fid(p, fid))))
                return st;
            p->events++;
            continue;
        }
        st = ft_block_next(&br, &rec);
        if (st == FT_END)
            return FT_OK;
        if (st) {
            problem(p, r, offset, "record at byte %zu of the frame: %s; rest of the frame "
                    "skipped", br.at, ft_status_str(st));
            return FT_OK;
        }
        if (ft_rec_is_event(rec.type)) {
            if (!cur) {
                problem(p, r, offset, "event record outside a chunk; frame skipped");
                return FT_OK;
            }
            if ((st = ft_tstream_event(cur, rec.type, rec.u.ev.dt, proc_fid(p, rec.u.ev.fid))))
                return st;
            p->events++;
            continue;
        }
        switch (rec.type) {
        case FT_REC_FUNC:
            if ((st = define_func(p, r, offset, &rec)))
                return st;
            break;
        case FT_REC_MARKER: case FT_REC_INTERVAL:
            /* Off the events' dt chain (FORMAT.md §4.6): timed from the last event. */
            if (!cur) {
                problem(p, r, offset, "marker record outside a chunk; frame skipped");
                return FT_OK;
            }
            if ((st = ft_markers_add(&cur->markers, &p->strings, &rec,
                                     cur->t + rec.u.marker.dt)))
                return st;
            break;
        case FT_REC_ALLOC: case FT_REC_FREE:
            /* Off the dt chain too (FORMAT.md §4.7), with the stack that made the call. */
            if (!cur) {
                problem(p, r, offset, "memory record outside a chunk; frame skipped");
                return FT_OK;
            }
            if ((st = ft_tstream_memory(cur, rec.u.mem.dt, rec.u.mem.addr, rec.u.mem.size,
                                        rec.type == FT_REC_FREE)))
                return st;
            break;
        case FT_REC_CHUNK:
            if (n > 0)
                problem(p, r, offset, "a second CHUNK record inside one frame");
            if ((st = thread_for(p, rec.u.chunk.tid, &cur)))
                return st;
            if (n == 0 && !deferred &&
                rec.u.chunk.seq > (cur->started ? cur->next_seq : 0))
                return defer(p, &rec, data, len, offset);
            if ((st = begin_chunk(p, r, offset, &rec, cur)))
                return st;
            *chunk_of = cur;
            break;
        case FT_REC_HEADER:
            if (n == 0 && first_frame) {
                /* Already decoded by ft_proc_read_header; decoding it again here only to
                 * report what that quiet pass could not say. */
                if (!p->has_header) {
                    ft_frame fr = { offset, 0, data, len };
                    st = parse_header(p, &fr);
                    if (st == FT_ENOMEM)
                        return st;
                    if (st)
                        problem(p, r, offset, "header: %s", ft_status_str(st));
                }
                if (p->has_header && p->header_st == FT_EVERSION)
                    problem(p, r, offset, "the header says format version %" PRIu64 ", which "
                            "this ft-convert does not read; read as the signature frame says",
                            p->header.format_version);
            } else {
                problem(p, r, offset, "unexpected HEADER record; frame skipped");
            }
            return FT_OK;
        case FT_REC_TRAILER:
            if (n > 0) {
                problem(p, r, offset, "unexpected TRAILER record; rest of frame skipped");
                return FT_OK;
            }
            {
                ft_trailer t;
                ft_mp_reader mr;
                ft_mp_reader_init(&mr, data, len);
                st = ft_trace_read_trailer(&mr, &t);
                if (st == FT_ENOMEM)
                    return st;
                if (st) {
                    problem(p, r, offset, "trailer: %s", ft_status_str(st));
                } else {    /* a second trailer replaces the first */
                    ft_trailer_fini(&p->trailer);
                    p->trailer = t;
                    p->has_trailer = 1;
                }
            }
            return FT_OK;
        default:
            /* A record type of a later minor revision (FORMAT.md §3): skipped by design. */
            break;
        }
    }
}

/* Take pending chunk i out of the list and read it. */
static ft_status read_pending(ft_proc *p, ft_report *r, size_t i)
{
    ft_pending_chunk pc = p->pending[i];
    ft_tstream *ts;
    ft_status st;

    memmove(&p->pending[i], &p->pending[i + 1], (p->npending - i - 1) * sizeof *p->pending);
    p->npending--;
    p->pending_bytes -= pc.len;
    st = read_block(p, r, pc.data, pc.len, pc.offset, 0, 1, &ts);
    ft_free(pc.data);
    return st;
}

/* Read the held-back chunks that continue ts's seq sequence, if any. */
static ft_status drain(ft_proc *p, ft_report *r, ft_tstream *ts)
{
    ft_status st;

    for (size_t i = 0; i < p->npending;) {
        if (p->pending[i].tid == ts->tid && p->pending[i].seq == ts->next_seq) {
            if ((st = read_pending(p, r, i)))
                return st;
            i = 0;
        } else {
            i++;
        }
    }
    return FT_OK;
}

/* Stop waiting for the chunk the oldest held-back one needs: read that thread's earliest
 * held-back chunk (a gap is reported) and whatever then follows it. */
static ft_status give_up_oldest(ft_proc *p, ft_report *r)
{
    uint64_t tid = p->pending[0].tid;
    size_t best = 0;
    ft_tstream *ts;
    ft_status st;

    for (size_t i = 1; i < p->npending; i++) {
        if (p->pending[i].tid == tid && p->pending[i].seq < p->pending[best].seq)
            best = i;
    }
    if ((st = thread_for(p, tid, &ts)) || (st = read_pending(p, r, best)))
        return st;
    return drain(p, r, ts);
}

/* Functions that events use but no FUNC record defines (lost with a corrupt frame, or a
 * recorder bug): the sink shows them as "<unknown function N>"; say so once per file. */
static ft_status check_undefined(ft_proc *p, ft_report *r)
{
    ft_intmap seen;
    uint32_t example = 0, dummy;
    ft_status st = FT_OK;

    ft_intmap_init(&seen);
    for (uint32_t i = 0; i < p->nthreads && !st; i++) {
        const ft_stacks *stk = &p->threads[i]->stacks;
        for (uint32_t k = 0; k < stk->len && !st; k++) {
            /* Ids of an earlier file of this process (ft_proc_adopt) were checked then. */
            if (stk->fid[k] < p->fid_base || ft_proc_func(p, stk->fid[k]))
                continue;
            if (!seen.len)
                example = stk->fid[k];
            st = ft_intmap_get_or_put(&seen, stk->fid[k], 0, &dummy);
        }
    }
    if (example != FT_FID_BAD)
        example -= p->fid_base;     /* as this file numbers it */
    if (!st && seen.len == 1)
        problem(p, r, FT_REPORT_NO_OFFSET, "function id %" PRIu32 " is used but never defined",
                example);
    else if (!st && seen.len > 1)
        problem(p, r, FT_REPORT_NO_OFFSET, "%zu function ids (e.g. %" PRIu32 ") are used but "
                "never defined", seen.len, example);
    ft_intmap_fini(&seen);
    return st;
}

/* The checks that need the whole file: the trailer's counts against what was read. */
static void check_totals(ft_proc *p, ft_report *r, uint64_t size)
{
    if (!p->has_trailer) {
        problem(p, r, size, "no trailer: the trace was cut short (the process was killed, "
                "crashed or is still running)");
        return;
    }
    if (p->trailer.dropped_events)
        problem(p, r, FT_REPORT_NO_OFFSET, "the recorder could not write %" PRIu64
                " events (trailer)", p->trailer.dropped_events);
    /* Only worth saying when nothing else explains the difference. */
    if (!p->problems && p->trailer.events != p->events)
        problem(p, r, FT_REPORT_NO_OFFSET, "the trailer counts %" PRIu64 " events but %"
                PRIu64 " were read", p->trailer.events, p->events);
}

ft_status ft_proc_read(ft_proc *p, ft_report *r)
{
    ft_file_reader *fr = NULL;
    ft_tstream *chunk_of;
    ft_frame frame;
    unsigned version = 0;
    uint64_t end = 0;
    ft_status st;
    int nframes = 0;

    ft_report_begin_file(r, p->path);
    st = ft_file_reader_open(p->path, &fr, &version);
    if (st) {
        if (st != FT_ENOMEM) {
            report_open(r, p->path, st, version);
            p->problems++;
            p->unreadable = 1;
            st = FT_OK;
        }
        goto out;
    }
    p->unreadable = 0;
    for (;;) {
        st = ft_file_reader_next(fr, &frame);
        if (st == FT_END) {
            st = FT_OK;
            break;
        }
        switch (st) {
        case FT_OK:
            if (nframes == 0 && first_record_type(&frame) != FT_REC_HEADER)
                problem(p, r, frame.offset, "the first frame is not a header: no header for "
                        "this process (its pid, %" PRIu64 ", is taken from the file name)",
                        p->pid);
            st = read_block(p, r, frame.data, frame.len, frame.offset, nframes == 0, 0,
                            &chunk_of);
            nframes++;
            if (r->progress && (nframes & 63) == 0)
                r->progress(r, frame.offset);
            if (!st && chunk_of && p->npending)
                st = drain(p, r, chunk_of);
            while (!st && p->pending_bytes > PENDING_MAX)
                st = give_up_oldest(p, r);
            break;
        case FT_ETRUNC:
            problem(p, r, frame.offset, "the file ends inside this frame (cut short)");
            st = FT_OK;
            break;
        case FT_ECORRUPT:
        case FT_EZSTD:
            /* Say how much was lost: with zeros or garbage in the file, the frame the
             * reader skipped is not one frame but everything up to the next one. */
            if (frame.offset + frame.size >= ft_file_reader_size(fr))
                problem(p, r, frame.offset, "%s%s; frame skipped, and the %" PRIu64 " bytes "
                        "to the end of the file", st == FT_EZSTD ? "zstd: " : "",
                        frame.reason ? frame.reason : ft_status_str(st), frame.size);
            else
                problem(p, r, frame.offset, "%s%s; frame skipped (%" PRIu64 " bytes: reading "
                        "resumes at offset %" PRIu64 ")", st == FT_EZSTD ? "zstd: " : "",
                        frame.reason ? frame.reason : ft_status_str(st), frame.size,
                        frame.offset + frame.size);
            st = FT_OK;
            break;
        default:
            break;
        }
        if (st)
            goto out;
    }
    while (p->npending) {
        if ((st = give_up_oldest(p, r)))
            goto out;
    }
    if ((st = check_undefined(p, r)))
        goto out;
    check_totals(p, r, ft_file_reader_size(fr));

    if (p->has_trailer)
        end = p->trailer.end_ns;
    for (uint32_t i = 0; i < p->nthreads; i++) {
        ft_tstream *ts = p->threads[i];
        if (ts->now > end)
            end = ts->now;
    }
    p->end = end;
    for (uint32_t i = 0; i < p->nthreads; i++) {
        ft_tstream *ts = p->threads[i];
        /* Per FORMAT.md a thread's open calls close at its last event, or at the trailer's
         * end_ns when the process ended cleanly after it. */
        if ((st = ft_tstream_finish(ts, p->has_trailer ? p->trailer.end_ns : 0)))
            goto out;
        if (ts->clamped)
            problem(p, r, FT_REPORT_NO_OFFSET, "thread %" PRIu64 ": %" PRIu64 " events are "
                    "earlier than the events before them; moved forward", ts->tid, ts->clamped);
    }
out:
    ft_file_reader_free(fr);
    ft_report_end_file(r);
    return st;
}
