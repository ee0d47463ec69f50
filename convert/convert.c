/* convert.c — the conversion pipeline: run → processes → Firefox sink (see convert.h).
 *
 * Time base. Every timestamp of a file is on the clock its header names (CLOCK_MONOTONIC,
 * shared by all processes of one boot). When every header names the same clock on the
 * same host, times are compared directly and the earliest process start is time zero:
 * exact to the nanosecond. Otherwise (files gathered from several hosts or boots) each
 * file is placed through its wall-clock anchor, which is as good as the hosts' clock
 * synchronisation, and a note says so. A file without a readable header is assumed to
 * share the others' clock. */
#include "convert.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firefox.h"
#include "ft_buf.h"
#include "intmap.h"
#include "jsonw.h"
#include "proc.h"
#include "run.h"

#define ARGUMENTS_MAX 1000

typedef struct placed {
    ft_proc proc;
    uint64_t base;      /* clock time of profile time zero, in this file's clock */
    int64_t start_rel;  /* process start relative to time zero (sort key) */
} placed;

static int64_t wall_start(const ft_header *h)
{
    return h->wall_anchor_ns + (int64_t)(h->start_ns - h->anchor_ns);
}

static int same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Fill every placed.base and start_rel; returns the wall-clock time of time zero (ns since
 * the epoch), or 0 when no file has a header. */
static int64_t place(placed *ps, size_t n, ft_report *r)
{
    const ft_header *first = NULL;
    int same_clock = 1;
    uint64_t mono0 = 0;
    int64_t wall0 = 0;

    for (size_t i = 0; i < n; i++) {
        const ft_proc *p = &ps[i].proc;
        if (!p->has_header)
            continue;
        if (!first) {
            first = &p->header;
            mono0 = p->header.start_ns;
            wall0 = wall_start(&p->header);
            continue;
        }
        if (!same_str(p->header.clock, first->clock) ||
            !same_str(p->header.hostname, first->hostname))
            same_clock = 0;
        if (p->header.start_ns < mono0) {
            mono0 = p->header.start_ns;
            wall0 = wall_start(&p->header);
        }
    }
    if (!same_clock) {
        ft_report_note(r, "the traces come from different hosts or clocks; they are aligned "
                       "by their wall-clock anchors");
        for (size_t i = 0; i < n; i++) {
            const ft_proc *p = &ps[i].proc;
            if (p->has_header && wall_start(&p->header) < wall0)
                wall0 = wall_start(&p->header);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const ft_proc *p = &ps[i].proc;
        ps[i].base = mono0;
        if (p->has_header && !same_clock)
            /* t - base = wall(t) - wall0, with wall(t) = wall_anchor + t - anchor. */
            ps[i].base = p->header.anchor_ns - (uint64_t)p->header.wall_anchor_ns +
                         (uint64_t)wall0;
        ps[i].start_rel = p->has_header ? (int64_t)(p->header.start_ns - ps[i].base) : INT64_MAX;
    }
    return wall0;
}

static int cmp_placed(const void *a, const void *b)
{
    const placed *x = a, *y = b;
    if (x->start_rel != y->start_rel)
        return x->start_rel < y->start_rel ? -1 : 1;
    return strcmp(x->proc.path, y->proc.path);
}

/* Time zero when no file had a header: the first event of the first process read. */
static uint64_t earliest_event(const ft_proc *p)
{
    uint64_t t = UINT64_MAX;
    for (uint32_t i = 0; i < p->nthreads; i++) {
        if (p->threads[i]->nsamples && p->threads[i]->sample_time[0] < t)
            t = p->threads[i]->sample_time[0];
    }
    return t == UINT64_MAX ? 0 : t;
}

/* The profile's name for a process: its pid, made unique with ".n" when a pid was reused
 * or a process exec'd (FORMAT.md: <pid>.<n>.ftrace). */
static ft_status pid_string(ft_intmap *seen, uint64_t pid, char *buf, size_t cap)
{
    uint32_t uses = ft_intmap_get(seen, pid);

    if (uses == FT_INTMAP_EMPTY)
        uses = 0;
    if (uses == 0)
        snprintf(buf, cap, "%" PRIu64, pid);
    else
        snprintf(buf, cap, "%" PRIu64 ".%" PRIu32, pid, uses);
    return ft_intmap_set(seen, pid, uses + 1);
}

/* The command line of the first process, for meta.arguments. */
static void arguments_of(const ft_proc *p, char *buf, size_t cap)
{
    size_t len = 0;

    buf[0] = 0;
    for (size_t i = 0; p->has_header && i < p->header.argc; i++) {
        const char *a = p->header.argv[i] ? p->header.argv[i] : "";
        int n = snprintf(buf + len, cap - len, "%s%s", i ? " " : "", a);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report_write_error(ft_report *r, const char *output, ft_status st)
{
    if (st == FT_EIO)
        ft_report_problem(r, output, FT_REPORT_NO_OFFSET, "cannot write: %s", strerror(errno));
    else
        ft_report_problem(r, output, FT_REPORT_NO_OFFSET, "cannot write: %s",
                          ft_status_str(st));
}

ft_convert_result ft_convert(const ft_convert_opts *o, ft_report *r, ft_convert_stats *stats)
{
    ft_convert_result res = FT_CONVERT_FAILED;
    ft_run run;
    placed *ps = NULL;
    ft_jsonw *w = NULL;
    ft_ff_sink *sink = NULL;
    ft_intmap pids;
    ft_convert_stats local;
    unsigned long problems0 = r->problems;
    char arguments[ARGUMENTS_MAX] = "";
    int64_t wall0;
    int have_base;
    ft_status st;
    double t_start = now_seconds();

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    ft_intmap_init(&pids);
    if ((st = ft_run_find(o->input, &run, r))) {
        if (st == FT_ENOMEM)
            ft_report_problem(r, NULL, FT_REPORT_NO_OFFSET, "out of memory");
        ft_intmap_fini(&pids);
        return FT_CONVERT_FAILED;
    }
    ps = ft_malloc(run.nfiles * sizeof *ps);
    if (!ps) {
        st = FT_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < run.nfiles; i++)
        ft_proc_init(&ps[i].proc, run.files[i]);
    for (size_t i = 0; i < run.nfiles; i++) {
        if ((st = ft_proc_read_header(&ps[i].proc)))
            goto out;
    }
    wall0 = place(ps, run.nfiles, r);
    have_base = 0;
    for (size_t i = 0; i < run.nfiles; i++)
        have_base |= ps[i].proc.has_header;
    qsort(ps, run.nfiles, sizeof *ps, cmp_placed);
    arguments_of(&ps[0].proc, arguments, sizeof arguments);
    if (run.dir)
        ft_report_note(r, "reading %zu trace file%s in %s", run.nfiles,
                       run.nfiles == 1 ? "" : "s", run.dir);

    if ((st = ft_jsonw_open(o->output, &w))) {
        if (st == FT_EIO) {
            ft_report_problem(r, o->output, FT_REPORT_NO_OFFSET, "cannot create: %s",
                              strerror(errno));
            st = FT_OK;   /* reported */
        }
        goto out;
    }
    if ((st = ft_ff_begin(w, &sink)))
        goto write_failed;

    for (size_t i = 0; i < run.nfiles; i++) {
        ft_proc *p = &ps[i].proc;
        char pid[48];
        if ((st = ft_proc_read(p, r)))
            goto out;
        if (!have_base && p->nthreads) {
            for (size_t j = i; j < run.nfiles; j++)
                ps[j].base = earliest_event(p);
            have_base = 1;
        }
        stats->events += p->events;
        if ((st = pid_string(&pids, p->pid, pid, sizeof pid)))
            goto out;
        uint32_t before = ft_ff_thread_count(sink);
        if ((st = ft_ff_add_process(sink, p, pid, ps[i].base)))
            goto write_failed;
        if (ft_ff_thread_count(sink) > before)
            stats->processes++;
        ft_proc_release(p);
    }
    stats->threads = ft_ff_thread_count(sink);
    stats->samples = ft_ff_sample_count(sink);
    if (!stats->threads) {
        ft_report_problem(r, o->input, FT_REPORT_NO_OFFSET,
                          "nothing to convert: no thread events were read");
        goto out;
    }
    if ((st = ft_ff_end(sink, wall0, arguments[0] ? arguments : NULL)))
        goto write_failed;
    stats->bytes = ft_jsonw_bytes(w);
    st = ft_jsonw_close(w, 1);
    w = NULL;
    if (st)
        goto write_failed;
    stats->seconds = now_seconds() - t_start;
    res = r->problems > problems0 ? FT_CONVERT_DAMAGED : FT_CONVERT_OK;
    goto out;

write_failed:
    if (st != FT_ENOMEM) {
        report_write_error(r, o->output, st);
        st = FT_OK;
    }
out:
    if (st == FT_ENOMEM)
        ft_report_problem(r, NULL, FT_REPORT_NO_OFFSET, "out of memory");
    ft_ff_free(sink);
    ft_jsonw_close(w, 0);
    if (ps) {
        for (size_t i = 0; i < run.nfiles; i++)
            ft_proc_fini(&ps[i].proc);
    }
    ft_free(ps);
    ft_intmap_fini(&pids);
    ft_run_fini(&run);
    return res;
}
