/* ftdump_main.c — build/ftdump: the canonical text dump of trace files, from the C reader.
 *
 * It prints exactly what `python3 tests/refdecode.py FILE...` prints, so that the two
 * decoders can be compared with diff on real and damaged traces:
 *
 *   file "<path>"
 *   header <key> <value>                  18 lines in FORMAT.md §4.1 order, if the header
 *                                         frame decoded (strings quoted, argv as N tokens),
 *                                         then the optional keys of 1.1 that differ from
 *                                         "absent": `header format_minor N` when N is not
 *                                         0, `header start_reason "<s>"` when present
 *   func <fid> <kind> "<name>" "<module>" "<file>" <line>       every FUNC, in file order
 *   thread <tid> "<name>"...              ascending tid; chunk names in seq order, repeats
 *                                         collapsed; then that thread's events:
 *   <tid> <abs time ns> <CALL|RETURN|UNWIND|YIELD|RESUME> <fid>  in chunk seq order
 *   marker <tid> <end ns> <duration ns> "<kind>" "<name>" "<key>"=<value>...
 *                                         that thread's markers (1.2), in chunk seq order;
 *                                         values: "<s>", N, true, false, nil, or fHHHH (the
 *                                         16 hex digits of a double's bits); values of
 *                                         other types are left out
 *   alloc <tid> <time ns> <address> <size>   memory records (1.3), among the markers in
 *   free <tid> <time ns> <address>           record order
 *   trailer end_ns N events N chunks N dropped_events N functions N   (or "trailer none"),
 *           then, on the same line and each only when present (1.1):
 *           ` end_reason "<s>"`, ` exit_status N`, ` signal N`, ` process_label "<s>"`,
 *           ` memory_records N` (1.3)
 *   errors <count>
 *
 * A quoted string shows printable ASCII as is and every other byte, '"' and '\' as \xHH.
 * Each error is also described on stderr; the exit status is 1 if there was any, 2 for
 * bad usage. The policy for damaged input is written down in tests/refdecode.py.
 *
 * This is a test tool, not a product: it keeps the whole dump in memory and favours
 * plainness over speed. It is not ft-convert and shares nothing with it. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_file.h"
#include "ft_trace.h"

typedef struct dchunk {
    uint64_t tid, seq;
    size_t order;                 /* file order, to keep duplicates of one seq stable */
    size_t name_off, name_len;    /* in dump.names */
    size_t ev_start, ev_count;    /* in dump.events */
    size_t mk_off, mk_len;        /* its markers' dump lines, in dump.mtext */
} dchunk;

typedef struct devent {
    uint64_t time, fid;
    int type;
} devent;

typedef struct dump {
    const char *path;
    dchunk *chunks;
    size_t nchunks, cap_chunks;
    devent *events;
    size_t nevents, cap_events;
    ft_buf names;
    ft_buf mtext;                 /* marker lines, as printed */
    uint64_t *fids;               /* open-addressing set of defined fids; 0 slot = empty */
    size_t fid_cap, fid_count;
    int have_fid0;
    int have_trailer;
    ft_trailer trailer;
    unsigned long errors;
} dump;

static void error(dump *d, uint64_t offset, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: offset %" PRIu64 ": ", d->path, offset);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    d->errors++;
}

static void *xgrow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    *cap = need * 2;
    p = realloc(p, *cap * elem);
    if (!p) {
        fputs("ftdump: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

static void put_quoted(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    putchar('"');
}

static void put_cquoted(const char *s) { put_quoted(s, strlen(s)); }

/* fid set: a fid is stored as fid + 1 so that 0 marks an empty slot; UINT64_MAX, which
 * would wrap, gets a flag of its own. */
static int fid_insert(dump *d, uint64_t fid)   /* 1 if it was new */
{
    uint64_t key = fid + 1;
    size_t i;

    if (key == 0) {
        int was = d->have_fid0;
        d->have_fid0 = 1;
        return !was;
    }
    if (2 * (d->fid_count + 1) > d->fid_cap) {
        uint64_t *old = d->fids;
        size_t old_cap = d->fid_cap;
        d->fid_cap = old_cap ? 2 * old_cap : 64;
        d->fids = calloc(d->fid_cap, sizeof *d->fids);
        if (!d->fids) {
            fputs("ftdump: out of memory\n", stderr);
            exit(2);
        }
        d->fid_count = 0;
        for (size_t k = 0; k < old_cap; k++)
            if (old[k])
                fid_insert(d, old[k] - 1);
        free(old);
    }
    for (i = (size_t)(key * 0x9E3779B97F4A7C15ull) & (d->fid_cap - 1); d->fids[i];
         i = (i + 1) & (d->fid_cap - 1))
        if (d->fids[i] == key)
            return 0;
    d->fids[i] = key;
    d->fid_count++;
    return 1;
}

static int fid_known(const dump *d, uint64_t fid)
{
    uint64_t key = fid + 1;
    if (key == 0)
        return d->have_fid0;
    if (!d->fid_cap)
        return 0;
    for (size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull) & (d->fid_cap - 1); d->fids[i];
         i = (i + 1) & (d->fid_cap - 1))
        if (d->fids[i] == key)
            return 1;
    return 0;
}

static void print_header(const ft_header *h)
{
    const struct { const char *key; const char *s; } strs[] = {
        {"run_id", h->run_id}, {"hostname", h->hostname}, {"python_version", h->python_version},
        {"python_implementation", h->python_implementation}, {"executable", h->executable},
    };
    printf("header format_version %" PRIu64 "\n", h->format_version);
    printf("header run_id ");
    put_cquoted(strs[0].s);
    printf("\nheader pid %" PRIu64 "\nheader ppid %" PRIu64 "\n", h->pid, h->ppid);
    for (int i = 1; i < 5; i++) {
        printf("header %s ", strs[i].key);
        put_cquoted(strs[i].s);
        putchar('\n');
    }
    printf("header argv");
    for (size_t i = 0; i < h->argc; i++) {
        putchar(' ');
        put_cquoted(h->argv[i]);
    }
    printf("\nheader cwd ");
    put_cquoted(h->cwd);
    printf("\nheader clock ");
    put_cquoted(h->clock);
    printf("\nheader clock_resolution_ns %" PRIu64 "\nheader start_ns %" PRIu64
           "\nheader wall_anchor_ns %" PRId64 "\nheader anchor_ns %" PRIu64 "\nheader backend ",
           h->clock_resolution_ns, h->start_ns, h->wall_anchor_ns, h->anchor_ns);
    put_cquoted(h->backend);
    printf("\nheader mode ");
    put_cquoted(h->mode);
    printf("\nheader recorder ");
    put_cquoted(h->recorder);
    putchar('\n');
    if (h->format_minor)
        printf("header format_minor %" PRIu64 "\n", h->format_minor);
    if (h->start_reason) {
        printf("header start_reason ");
        put_cquoted(h->start_reason);
        putchar('\n');
    }
}

static void header_frame(dump *d, const ft_frame *fm)
{
    ft_mp_reader r;
    ft_header h;
    ft_status st;

    ft_mp_reader_init(&r, fm->data, fm->len);
    st = ft_trace_read_header(&r, &h);
    if (st)
        error(d, fm->offset, "header frame: %s", ft_status_str(st));
    else
        print_header(&h);
    ft_header_fini(&h);
}

static void mprintf(dump *d, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp || ft_buf_append(&d->mtext, tmp, (size_t)n)) {
        fputs("ftdump: out of memory\n", stderr);
        exit(2);
    }
}

static void mquoted(dump *d, const char *s, size_t n)
{
    mprintf(d, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\')
            mprintf(d, "%c", c);
        else
            mprintf(d, "\\x%02x", c);
    }
    mprintf(d, "\"");
}

/* One marker's dump line (see the top of this file) into d->mtext. The record was checked
 * by ft_trace_next, so its fields decode. */
static void add_marker(dump *d, dchunk *c, uint64_t now, const ft_record *rec)
{
    ft_mp_reader r;
    ft_field f;
    size_t before = d->mtext.len;

    mprintf(d, "marker %" PRIu64 " %" PRIu64 " %" PRIu64 " ", c->tid, now + rec->u.marker.dt,
            rec->u.marker.dur);
    mquoted(d, rec->u.marker.kind.ptr, rec->u.marker.kind.len);
    mprintf(d, " ");
    mquoted(d, rec->u.marker.name.ptr, rec->u.marker.name.len);
    ft_mp_reader_init(&r, rec->u.marker.fields, rec->u.marker.fields_len);
    for (uint32_t i = 0; i < rec->u.marker.nfields && !ft_trace_next_field(&r, &f); i++) {
        uint64_t bits;
        if (f.type == FT_FIELD_OTHER)
            continue;
        mprintf(d, " ");
        mquoted(d, f.key.ptr, f.key.len);
        mprintf(d, "=");
        switch (f.type) {
        case FT_FIELD_STR: mquoted(d, f.s.ptr, f.s.len); break;
        case FT_FIELD_UINT: mprintf(d, "%" PRIu64, f.u); break;
        case FT_FIELD_INT: mprintf(d, "%" PRId64, f.i); break;
        case FT_FIELD_FLOAT:
            memcpy(&bits, &f.f, sizeof bits);
            mprintf(d, "f%016" PRIx64, bits);
            break;
        case FT_FIELD_BOOL: mprintf(d, f.u ? "true" : "false"); break;
        default: mprintf(d, "nil"); break;
        }
    }
    mprintf(d, "\n");
    c->mk_len += d->mtext.len - before;
}

/* One data block; see the policy in tests/refdecode.py. */
static void data_frame(dump *d, const ft_frame *fm)
{
    ft_block_reader b;
    ft_mp_reader r;
    ft_record rec;
    dchunk *c = NULL;
    uint64_t now = 0;
    int seen_known = 0;

    /* EVENTS records (2.0) come expanded: the dump of a packed chunk is that of its 1.x
     * form, as in refdecode.py. */
    ft_block_init(&b, fm->data, fm->len);
    for (;;) {
        ft_status st = ft_block_next(&b, &rec);
        size_t at = b.at;
        if (st == FT_END)
            return;
        if (st) {
            error(d, fm->offset, "record at %zu: %s", at, ft_status_str(st));
            return;
        }
        switch (rec.type) {
        case FT_REC_UNKNOWN:
            continue;
        case FT_REC_TRAILER:
            if (!seen_known) {
                ft_trailer t;
                ft_mp_reader_init(&r, fm->data, fm->len);
                st = ft_trace_read_trailer(&r, &t);
                if (st) {
                    error(d, fm->offset, "trailer: %s", ft_status_str(st));
                } else {        /* a later trailer replaces an earlier one */
                    ft_trailer_fini(&d->trailer);
                    d->trailer = t;
                    d->have_trailer = 1;
                }
                return;
            }
            /* fall through */
        case FT_REC_HEADER:
            error(d, fm->offset, "record at %zu: type %d in a data block", at, rec.type);
            return;
        case FT_REC_CHUNK:
            if (seen_known) {
                error(d, fm->offset, "record at %zu: CHUNK is not first", at);
                return;
            }
            d->chunks = xgrow(d->chunks, &d->cap_chunks, d->nchunks + 1, sizeof *d->chunks);
            c = &d->chunks[d->nchunks];
            c->tid = rec.u.chunk.tid;
            c->seq = rec.u.chunk.seq;
            c->order = d->nchunks++;
            c->name_off = d->names.len;
            c->name_len = rec.u.chunk.thread_name.len;
            c->ev_start = d->nevents;
            c->ev_count = 0;
            c->mk_off = d->mtext.len;
            c->mk_len = 0;
            if (ft_buf_append(&d->names, rec.u.chunk.thread_name.ptr, c->name_len)) {
                fputs("ftdump: out of memory\n", stderr);
                exit(2);
            }
            now = rec.u.chunk.t0;
            break;
        case FT_REC_FUNC:
            if (!fid_insert(d, rec.u.func.fid))
                error(d, fm->offset, "FUNC %" PRIu64 " defined twice", rec.u.func.fid);
            printf("func %" PRIu64 " %" PRIu64 " ", rec.u.func.fid, rec.u.func.kind);
            put_quoted(rec.u.func.name.ptr, rec.u.func.name.len);
            putchar(' ');
            put_quoted(rec.u.func.module.ptr, rec.u.func.module.len);
            putchar(' ');
            put_quoted(rec.u.func.file.ptr, rec.u.func.file.len);
            printf(" %" PRIu64 "\n", rec.u.func.line);
            break;
        case FT_REC_MARKER: case FT_REC_INTERVAL:
            if (!c) {
                error(d, fm->offset, "record at %zu: marker outside a chunk", at);
                return;
            }
            add_marker(d, c, now, &rec);    /* not part of the dt chain (FORMAT.md §4.6) */
            break;
        case FT_REC_ALLOC: case FT_REC_FREE: {
            size_t before = d->mtext.len;
            if (!c) {
                error(d, fm->offset, "record at %zu: memory record outside a chunk", at);
                return;
            }
            /* Off the dt chain too (FORMAT.md §4.7). */
            if (rec.type == FT_REC_ALLOC)
                mprintf(d, "alloc %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", c->tid,
                        now + rec.u.mem.dt, rec.u.mem.addr, rec.u.mem.size);
            else
                mprintf(d, "free %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", c->tid,
                        now + rec.u.mem.dt, rec.u.mem.addr);
            c->mk_len += d->mtext.len - before;
            break;
        }
        default:    /* an event */
            if (!c) {
                error(d, fm->offset, "record at %zu: event outside a chunk", at);
                return;
            }
            if (!fid_known(d, rec.u.ev.fid))
                error(d, fm->offset, "event uses fid %" PRIu64 " before its FUNC", rec.u.ev.fid);
            now += rec.u.ev.dt;     /* wraps modulo 2^64, as the reference does */
            d->events = xgrow(d->events, &d->cap_events, d->nevents + 1, sizeof *d->events);
            d->events[d->nevents++] = (devent){now, rec.u.ev.fid, rec.type};
            c->ev_count++;
            break;
        }
        seen_known = 1;
    }
}

static int chunk_cmp(const void *a, const void *b)
{
    const dchunk *x = a, *y = b;
    if (x->tid != y->tid)
        return x->tid < y->tid ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static const char *event_name(int type)
{
    static const char *const names[] = {"CALL", "RETURN", "UNWIND", "YIELD", "RESUME"};
    return names[type - FT_REC_CALL];
}

static void print_threads(dump *d)
{
    if (d->nchunks)
        qsort(d->chunks, d->nchunks, sizeof *d->chunks, chunk_cmp);
    for (size_t i = 0; i < d->nchunks;) {
        size_t j = i, last_name = SIZE_MAX;
        printf("thread %" PRIu64, d->chunks[i].tid);
        for (; j < d->nchunks && d->chunks[j].tid == d->chunks[i].tid; j++) {
            const dchunk *c = &d->chunks[j];
            const dchunk *p = last_name == SIZE_MAX ? NULL : &d->chunks[last_name];
            if (p && p->name_len == c->name_len &&
                memcmp(d->names.ptr + p->name_off, d->names.ptr + c->name_off, c->name_len) == 0)
                continue;
            putchar(' ');
            put_quoted((const char *)d->names.ptr + c->name_off, c->name_len);
            last_name = j;
        }
        putchar('\n');
        for (size_t k = i; k < j; k++) {
            for (size_t e = 0; e < d->chunks[k].ev_count; e++) {
                const devent *ev = &d->events[d->chunks[k].ev_start + e];
                printf("%" PRIu64 " %" PRIu64 " %s %" PRIu64 "\n", d->chunks[k].tid, ev->time,
                       event_name(ev->type), ev->fid);
            }
        }
        for (size_t k = i; k < j; k++)
            fwrite(d->mtext.ptr + d->chunks[k].mk_off, 1, d->chunks[k].mk_len, stdout);
        i = j;
    }
}

static unsigned long dump_file(const char *path)
{
    dump d;
    ft_file_reader *fr = NULL;
    ft_frame fm;
    ft_status st;
    unsigned version = 0;
    unsigned long index = 0;

    memset(&d, 0, sizeof d);
    d.path = path;
    ft_buf_init(&d.names);
    ft_buf_init(&d.mtext);
    if (ft_buf_reserve(&d.mtext, 1)) {
        fputs("ftdump: out of memory\n", stderr);
        exit(2);
    }
    if (ft_buf_reserve(&d.names, 1)) {   /* never a NULL base for name offsets */
        fputs("ftdump: out of memory\n", stderr);
        exit(2);
    }
    printf("file ");
    put_cquoted(path);
    putchar('\n');
    st = ft_file_reader_open(path, &fr, &version);
    if (st) {
        if (st == FT_EVERSION)
            error(&d, 16, "format version %u", version);
        else
            error(&d, 0, "%s", ft_status_str(st));
        goto out;
    }
    while ((st = ft_file_reader_next(fr, &fm)) != FT_END) {
        if (st == FT_OK && index == 0)
            header_frame(&d, &fm);
        else if (st == FT_OK)
            data_frame(&d, &fm);
        else
            error(&d, fm.offset, "%s", ft_status_str(st));
        index++;
    }
    print_threads(&d);
out:
    if (d.have_trailer) {
        const ft_trailer *t = &d.trailer;
        printf("trailer end_ns %" PRIu64 " events %" PRIu64 " chunks %" PRIu64
               " dropped_events %" PRIu64 " functions %" PRIu64, t->end_ns, t->events,
               t->chunks, t->dropped_events, t->functions);
        if (t->end_reason) {
            printf(" end_reason ");
            put_cquoted(t->end_reason);
        }
        if (t->has_exit_status)
            printf(" exit_status %" PRId64, t->exit_status);
        if (t->has_signal)
            printf(" signal %" PRIu64, t->signal);
        if (t->process_label) {
            printf(" process_label ");
            put_cquoted(t->process_label);
        }
        if (t->memory_records)
            printf(" memory_records %" PRIu64, t->memory_records);
        putchar('\n');
    } else {
        printf("trailer none\n");
    }
    printf("errors %lu\n", d.errors);
    ft_trailer_fini(&d.trailer);
    ft_file_reader_free(fr);
    free(d.chunks);
    free(d.events);
    free(d.fids);
    ft_buf_fini(&d.names);
    ft_buf_fini(&d.mtext);
    return d.errors;
}

int main(int argc, char **argv)
{
    unsigned long errors = 0;

    if (argc < 2) {
        fputs("usage: ftdump FILE...\n", stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        errors += dump_file(argv[i]);
    return errors ? 1 : 0;
}
