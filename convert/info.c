/* info.c — ft-convert --info (see info.h). */
#include "info.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "ft_buf.h"
#include "ft_file.h"
#include "ft_trace.h"
#include "intmap.h"
#include "lineage.h"
#include "merge.h"
#include "proc.h"
#include "run.h"

/* Bytes decompressed from the start of a data frame to read its first record: a CHUNK
 * record is a few integers and a thread name. */
#define PEEK 512

#define MAX_THREADS_SHOWN 8

typedef struct file_info {
    ft_proc proc;              /* header and trailer only */
    uint64_t size;
    uint64_t frames, chunks;
    uint64_t last_t0;          /* latest chunk start: where a cut file ends, at least */
    uint64_t tids[MAX_THREADS_SHOWN];
    char names[MAX_THREADS_SHOWN][64];
    uint32_t nthreads;         /* all of them; the first MAX_THREADS_SHOWN are kept */
    ft_intmap seen;            /* tid → 1 */
    const char *damage;        /* why the walk stopped early, or NULL */
    uint64_t damage_at;
} file_info;

/* The beginning of a frame's content: up to cap bytes in buf. */
static size_t peek(ZSTD_DStream *ds, const uint8_t *src, size_t n, uint8_t *buf, size_t cap)
{
    ZSTD_inBuffer in = { src, n, 0 };
    ZSTD_outBuffer out = { buf, cap, 0 };

    ZSTD_DCtx_reset(ds, ZSTD_reset_session_only);
    while (out.pos < out.size && in.pos < in.size) {
        size_t rc = ZSTD_decompressStream(ds, &out, &in);
        if (ZSTD_isError(rc) || rc == 0)
            break;
    }
    return out.pos;
}

/* The whole content of a (small) frame, in a new buffer. */
static uint8_t *whole(const uint8_t *src, size_t n, size_t *len)
{
    unsigned long long size = ZSTD_getFrameContentSize(src, n);
    uint8_t *buf;

    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1u << 24))
        return NULL;
    if (!(buf = ft_malloc(size ? size : 1)))
        return NULL;
    *len = ZSTD_decompress(buf, size, src, n);
    if (ZSTD_isError(*len)) {
        ft_free(buf);
        return NULL;
    }
    return buf;
}

static void frame_record(file_info *fi, ZSTD_DStream *ds, const uint8_t *src, size_t n,
                         int first)
{
    uint8_t buf[PEEK];
    size_t len = peek(ds, src, n, buf, sizeof buf);
    ft_mp_reader r;
    ft_record rec;
    uint8_t *all;
    size_t alen;

    ft_mp_reader_init(&r, buf, len);
    if (first)      /* the header: read in full by ft_proc_read_header already */
        return;
    if (ft_trace_next(&r, &rec) == FT_OK && rec.type == FT_REC_CHUNK) {
        uint32_t had = UINT32_MAX;
        fi->chunks++;
        if (rec.u.chunk.t0 > fi->last_t0)
            fi->last_t0 = rec.u.chunk.t0;
        if (ft_intmap_get_or_put(&fi->seen, rec.u.chunk.tid, fi->nthreads, &had) == FT_OK &&
            had == fi->nthreads) {
            if (fi->nthreads < MAX_THREADS_SHOWN)
                fi->tids[fi->nthreads] = rec.u.chunk.tid;
            fi->nthreads++;
        }
        if (had < MAX_THREADS_SHOWN && rec.u.chunk.thread_name.len) {
            size_t k = rec.u.chunk.thread_name.len < 63 ? rec.u.chunk.thread_name.len : 63;
            memcpy(fi->names[had], rec.u.chunk.thread_name.ptr, k);
            fi->names[had][k] = 0;
        }
        return;
    }
    ft_mp_reader_init(&r, buf, len);
    if (len && buf[0] == 0x92 && len > 1 && buf[1] == FT_REC_TRAILER &&
        (all = whole(src, n, &alen))) {
        ft_trailer t;
        memset(&t, 0, sizeof t);
        ft_mp_reader_init(&r, all, alen);
        if (ft_trace_read_trailer(&r, &t) == FT_OK) {
            ft_trailer_fini(&fi->proc.trailer);
            fi->proc.trailer = t;
            fi->proc.has_trailer = 1;
        } else {
            ft_trailer_fini(&t);
        }
        ft_free(all);
    }
}

/* Walk the frames of a mapped file. With `full`, look into every frame (threads and
 * chunks); without, only into the last (the trailer, when the file is complete). */
static void walk_frames(file_info *fi, const uint8_t *base, size_t size, ZSTD_DStream *ds,
                        int full)
{
    size_t off = FT_SIGNATURE_SIZE, last = 0, last_n = 0;

    while (off < size) {
        size_t n = ZSTD_findFrameCompressedSize(base + off, size - off);
        if (ZSTD_isError(n)) {
            fi->damage = ZSTD_getErrorCode(n) == ZSTD_error_srcSize_wrong ?
                         "the file ends inside this frame (cut short)" :
                         "unreadable frame";
            fi->damage_at = off;
            return;
        }
        fi->frames++;
        if (full)
            frame_record(fi, ds, base + off, n, fi->frames == 1);
        last = off;
        last_n = n;
        off += n;
    }
    if (!full && fi->frames > 1)
        frame_record(fi, ds, base + last, last_n, 0);
}

static void scan_file(file_info *fi, ZSTD_DStream *ds, int full)
{
    int fd = open(fi->proc.path, O_RDONLY);
    struct stat sb;
    void *map;

    if (fd < 0 || fstat(fd, &sb) != 0) {
        fi->damage = strerror(errno);
        fi->damage_at = FT_REPORT_NO_OFFSET;
        if (fd >= 0)
            close(fd);
        return;
    }
    fi->size = (uint64_t)sb.st_size;
    if (fi->proc.unreadable || sb.st_size <= FT_SIGNATURE_SIZE) {
        close(fd);
        return;
    }
    map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        fi->damage = strerror(errno);
        fi->damage_at = FT_REPORT_NO_OFFSET;
        return;
    }
    walk_frames(fi, map, (size_t)sb.st_size, ds, full);
    munmap(map, (size_t)sb.st_size);
}

/* "2025-01-01 12:00:00.123456789 UTC" for ns since the epoch. */
static void format_wall(int64_t ns, char *buf, size_t cap)
{
    time_t secs = (time_t)(ns / 1000000000);
    struct tm tm;
    char day[32];

    if (ns <= 0 || !gmtime_r(&secs, &tm) || !strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, cap, "unknown");
    else
        snprintf(buf, cap, "%s.%09lld UTC", day, (long long)(ns % 1000000000));
}

static void seconds(char *buf, size_t cap, uint64_t ns)
{
    snprintf(buf, cap, "%" PRIu64 ".%09" PRIu64, ns / 1000000000, ns % 1000000000);
}

static int cmp_start(const void *a, const void *b)
{
    const ft_proc *x = *(const ft_proc *const *)a, *y = *(const ft_proc *const *)b;
    if (x->has_header != y->has_header)
        return x->has_header ? -1 : 1;
    if (x->header.start_ns != y->header.start_ns)
        return x->header.start_ns < y->header.start_ns ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* The end of a file's recording: its trailer, else its latest chunk start (a lower bound). */
static uint64_t file_end(const file_info *fi)
{
    if (fi->proc.has_trailer)
        return fi->proc.trailer.end_ns;
    return fi->last_t0 > fi->proc.header.start_ns ? fi->last_t0 : fi->proc.header.start_ns;
}

static void print_file(FILE *out, const ft_lineage *lin, const ft_proc *const *procs,
                       size_t i, const file_info *fi, uint64_t t0)
{
    const ft_proc *p = procs[i];
    char buf[FT_PROCESS_NAME_MAX + 1], a[40], b[40];

    fprintf(out, "\n%s (%.1f kB)\n", p->path, (double)fi->size / 1e3);
    if (!p->has_header) {
        fprintf(out, "  no readable header: not a functiontrace trace, or damaged at its "
                "start\n");
        return;
    }
    ft_lineage_command(p, buf, sizeof buf);
    fprintf(out, "  process: pid %" PRIu64 ", parent %" PRIu64 ", host %s: %s\n", p->pid,
            p->header.ppid, p->header.hostname ? p->header.hostname : "?", buf);
    fprintf(out, "  python: %s %s, %s backend, mode %s\n",
            p->header.python_implementation ? p->header.python_implementation : "?",
            p->header.python_version ? p->header.python_version : "?",
            p->header.backend ? p->header.backend : "?", p->header.mode ? p->header.mode : "?");
    ft_lineage_start_text(lin, procs, i, buf, sizeof buf);
    fprintf(out, "  how it began: %s; ", buf);
    if (p->has_trailer) {
        ft_lineage_end_text(p, buf, sizeof buf);
        fprintf(out, "how it ended: %s; complete\n", buf);
    } else {
        fprintf(out, "how it ended: unknown; cut short (no trailer: the process was killed or "
                "crashed, or is still running)\n");
    }
    seconds(a, sizeof a, p->header.start_ns - t0);
    seconds(b, sizeof b, file_end(fi) - t0);
    fprintf(out, "  time: %s s to %s%s s\n", a, p->has_trailer ? "" : "at least ", b);
    fprintf(out, "  threads: %u", fi->nthreads);
    for (uint32_t k = 0; k < fi->nthreads && k < MAX_THREADS_SHOWN; k++)
        fprintf(out, "%s%" PRIu64 "%s%s%s", k ? ", " : " (", fi->tids[k],
                fi->names[k][0] ? " \"" : "", fi->names[k], fi->names[k][0] ? "\"" : "");
    fprintf(out, "%s\n", fi->nthreads > MAX_THREADS_SHOWN ? ", …)" : fi->nthreads ? ")" : "");
    if (p->has_trailer && p->trailer.memory_records)
        fprintf(out, "  events: %" PRIu64 ", dropped: %" PRIu64 ", chunks: %" PRIu64
                ", functions: %" PRIu64 ", memory records: %" PRIu64 "\n",
                p->trailer.events, p->trailer.dropped_events, p->trailer.chunks,
                p->trailer.functions, p->trailer.memory_records);
    else if (p->has_trailer)
        fprintf(out, "  events: %" PRIu64 ", dropped: %" PRIu64 ", chunks: %" PRIu64
                ", functions: %" PRIu64 "\n", p->trailer.events, p->trailer.dropped_events,
                p->trailer.chunks, p->trailer.functions);
    else
        fprintf(out, "  events: unknown (counted in the trailer), chunks: %" PRIu64 "\n",
                fi->chunks);
}

ft_convert_result ft_convert_info(const ft_convert_opts *o, FILE *out, ft_report *r)
{
    ft_run run;
    file_info *fis = NULL;
    const ft_proc **procs = NULL;
    ft_lineage lin = {0};
    ZSTD_DStream *ds = NULL;
    ft_convert_result res = FT_CONVERT_FAILED;
    uint64_t t0 = UINT64_MAX, t1 = 0, events = 0, dropped = 0, threads = 0;
    size_t complete = 0, readable = 0, nhosts = 0;
    const char *hosts[8];
    int64_t wall0 = 0;

    if (ft_convert_find_run(o, &run, r))
        return FT_CONVERT_FAILED;
    fis = ft_malloc(run.nfiles * sizeof *fis);
    procs = ft_malloc(run.nfiles * sizeof *procs);
    ds = ZSTD_createDStream();
    if (!fis || !procs || !ds)
        goto nomem;
    for (size_t i = 0; i < run.nfiles; i++) {
        memset(&fis[i], 0, sizeof fis[i]);
        ft_proc_init(&fis[i].proc, run.files[i]);
        ft_intmap_init(&fis[i].seen);
    }
    for (size_t i = 0; i < run.nfiles; i++) {
        file_info *fi = &fis[i];
        if (ft_proc_read_header(&fi->proc))
            goto nomem;
        scan_file(fi, ds, 1);
        procs[i] = &fi->proc;
    }
    qsort(procs, run.nfiles, sizeof *procs, cmp_start);
    if (ft_lineage_build(&lin, procs, run.nfiles))
        goto nomem;

    for (size_t i = 0; i < run.nfiles; i++) {
        const ft_proc *p = &fis[i].proc;
        if (!p->has_header)
            continue;
        readable++;
        if (p->header.start_ns < t0) {
            t0 = p->header.start_ns;
            wall0 = p->header.wall_anchor_ns + (int64_t)(p->header.start_ns - p->header.anchor_ns);
        }
        if (file_end(&fis[i]) > t1)
            t1 = file_end(&fis[i]);
        complete += p->has_trailer;
        threads += fis[i].nthreads;
        if (p->has_trailer) {
            events += p->trailer.events;
            dropped += p->trailer.dropped_events;
        }
        int known = 0;
        for (size_t k = 0; k < nhosts; k++)
            known |= strcmp(hosts[k], p->header.hostname ? p->header.hostname : "") == 0;
        if (!known && nhosts < 8)
            hosts[nhosts++] = p->header.hostname ? p->header.hostname : "";
    }
    {
        char when[64], span[40];
        format_wall(wall0, when, sizeof when);
        seconds(span, sizeof span, t1 > t0 && t0 != UINT64_MAX ? t1 - t0 : 0);
        fprintf(out, "%s: %zu trace file%s, %zu process%s, %" PRIu64 " threads\n",
                run.dir ? run.dir : o->nmerge_inputs ? "merged runs" : o->input, run.nfiles,
                run.nfiles == 1 ? "" : "s", lin.nprocs, lin.nprocs == 1 ? "" : "es", threads);
        fprintf(out, "hosts:");
        for (size_t k = 0; k < nhosts; k++)
            fprintf(out, "%s %s", k ? "," : "", hosts[k]);
        fprintf(out, "\nstart: %s; span: %s s\n", when, span);
        fprintf(out, "events: %" PRIu64 "%s, dropped: %" PRIu64 "\n", events,
                complete < readable ? " (in the complete files)" : "", dropped);
        fprintf(out, "files: %zu complete, %zu cut short, %zu unreadable\n", complete,
                readable - complete, run.nfiles - readable);
    }
    for (size_t i = 0; i < run.nfiles; i++) {
        const file_info *fi = (const file_info *)procs[i];  /* proc is the first member */
        print_file(out, &lin, procs, i, fi, t0 == UINT64_MAX ? 0 : t0);
        if (fi->damage)
            ft_report_problem(r, fi->proc.path, fi->damage_at, "%s; convert it to see "
                              "what can still be read", fi->damage);
        else if (!fi->proc.has_header)
            ft_report_problem(r, fi->proc.path, FT_REPORT_NO_OFFSET, "no readable header");
        else if (!fi->proc.has_trailer)
            ft_report_problem(r, fi->proc.path, FT_REPORT_NO_OFFSET, "no trailer: cut short");
    }
    res = fflush(out) != 0 || ferror(out) ? FT_CONVERT_FAILED :
          !readable ? FT_CONVERT_FAILED :
          complete < run.nfiles ? FT_CONVERT_DAMAGED : FT_CONVERT_OK;
    goto out;
nomem:
    ft_report_problem(r, NULL, FT_REPORT_NO_OFFSET, "out of memory");
out:
    for (size_t i = 0; fis && i < run.nfiles; i++) {
        ft_proc_fini(&fis[i].proc);
        ft_intmap_fini(&fis[i].seen);
    }
    ft_lineage_fini(&lin);
    ft_free(fis);
    ft_free(procs);
    ZSTD_freeDStream(ds);
    ft_run_fini(&run);
    return res;
}

uint64_t ft_info_events(const char *path, uint64_t *memory_records)
{
    file_info fi;
    ZSTD_DStream *ds = ZSTD_createDStream();
    uint64_t events;

    memset(&fi, 0, sizeof fi);
    ft_proc_init(&fi.proc, path);
    ft_intmap_init(&fi.seen);
    if (ds)
        scan_file(&fi, ds, 0);
    events = fi.proc.has_trailer ? fi.proc.trailer.events : fi.size;
    if (memory_records)
        *memory_records = fi.proc.has_trailer ? fi.proc.trailer.memory_records : 0;
    ft_proc_fini(&fi.proc);
    ft_intmap_fini(&fi.seen);
    ZSTD_freeDStream(ds);
    return events;
}
