/* convert.c — the conversion pipeline: run → processes → Firefox sink (see convert.h).
 *
 * Time base. Every timestamp of a file is on the clock its header names (CLOCK_MONOTONIC,
 * shared by all processes of one boot). When every header names the same clock on the
 * same host, times are compared directly and the earliest process start is time zero:
 * exact to the nanosecond. Otherwise (files gathered from several hosts or boots) each
 * file is placed through its wall-clock anchor, which is as good as the hosts' clock
 * synchronisation, and a note says so. A file without a readable header is assumed to
 * share the others' clock.
 *
 * Processes. lineage.h works out from the headers which files are one process (a program
 * and the programs it exec'd), who is whose parent, and the pid each shows in the profile.
 * A process's files are read one after the other into one ft_proc (ft_proc_adopt), so that
 * its threads continue across an exec, and written as one process with one "Process"
 * marker per file. */
#include "convert.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firefox.h"
#include "info.h"
#include "ft_buf.h"
#include "ft_file.h"
#include "jsonw.h"
#include "lineage.h"
#include "merge.h"
#include "proc.h"
#include "progress.h"
#include "run.h"
#include "sink.h"

#define ARGUMENTS_MAX 1000

typedef struct placed {
    ft_proc proc;
    uint64_t base;      /* clock time of profile time zero, in this file's clock */
    int64_t start_rel;  /* process start relative to time zero (sort key) */
    int unaligned;      /* its clock cannot be placed against the others' (see place) */
} placed;

/* Wall-clock time of a header's start. Unsigned arithmetic: the fields come from the file,
 * and a damaged one must not overflow a signed integer. */
static int64_t wall_start(const ft_header *h)
{
    return (int64_t)((uint64_t)h->wall_anchor_ns + (h->start_ns - h->anchor_ns));
}

static int same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* A header's wall-clock anchor is usable when it was read (the recorder always has one):
 * 0 or a time before the epoch is a file that cannot be placed by it. */
static int usable_anchor(const ft_header *h)
{
    return h->wall_anchor_ns > 0;
}

/* How far the distance between two starts may differ on the clock and on the wall clock
 * before the files are taken to be from different boots (the wall clock may be stepped
 * by NTP, by much less than this). */
#define BOOT_SLACK_NS (60 * 1000000000ull)

/* Whether the clock times of a and b can be compared directly: the same clock of the same
 * host, and (when both have anchors) of the same boot, since a reboot restarts
 * CLOCK_MONOTONIC while the wall clock goes on. */
static int shared_clock(const ft_header *a, const ft_header *b)
{
    uint64_t mono, wall, diff;

    if (!same_str(a->clock, b->clock) || !same_str(a->hostname, b->hostname))
        return 0;
    if (!usable_anchor(a) || !usable_anchor(b))
        return 1;
    mono = b->start_ns - a->start_ns;
    wall = (uint64_t)wall_start(b) - (uint64_t)wall_start(a);
    diff = mono - wall;
    return diff <= BOOT_SLACK_NS || -diff <= BOOT_SLACK_NS;
}

/* Fill every placed.base and start_rel; returns the wall-clock time of time zero (ns since
 * the epoch), or 0 when no file has a header. Files that share one clock are compared on
 * it; otherwise each is placed by its wall-clock anchor, and one without a usable anchor
 * cannot be placed at all: it starts at time zero and is marked `unaligned`. */
static int64_t place(placed *ps, size_t n, ft_report *r)
{
    const ft_header *first = NULL;
    int same_clock = 1, have_wall = 0;
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
        if (!shared_clock(first, &p->header))
            same_clock = 0;
        if (p->header.start_ns < mono0) {
            mono0 = p->header.start_ns;
            wall0 = wall_start(&p->header);
        }
    }
    if (!same_clock) {
        ft_report_note(r, "the traces come from different hosts, clocks or boots; they are "
                       "aligned by their wall-clock anchors");
        for (size_t i = 0; i < n; i++) {
            const ft_proc *p = &ps[i].proc;
            if (!p->has_header || !usable_anchor(&p->header))
                continue;
            if (!have_wall || wall_start(&p->header) < wall0)
                wall0 = wall_start(&p->header);
            have_wall = 1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const ft_proc *p = &ps[i].proc;
        ps[i].base = mono0;
        ps[i].unaligned = 0;
        if (p->has_header && !same_clock && usable_anchor(&p->header)) {
            /* t - base = wall(t) - wall0, with wall(t) = wall_anchor + t - anchor. */
            ps[i].base = p->header.anchor_ns - (uint64_t)p->header.wall_anchor_ns +
                         (uint64_t)wall0;
        } else if (p->has_header && !same_clock) {
            ps[i].base = p->header.start_ns;
            ps[i].unaligned = 1;
        }
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

/* Headers of a run's files, placed on one time base and sorted by start, with their
 * lineage. ps[k] is file k in start order; procs[k] == &ps[k].proc. */
typedef struct run_procs {
    placed *ps;
    const ft_proc **procs;
    size_t n;
    ft_lineage lin;
    int64_t wall0;
    int have_base;
} run_procs;

static void run_procs_fini(run_procs *rp)
{
    for (size_t i = 0; rp->ps && i < rp->n; i++)
        ft_proc_fini(&rp->ps[i].proc);
    ft_free(rp->ps);
    ft_free(rp->procs);
    ft_lineage_fini(&rp->lin);
    memset(rp, 0, sizeof *rp);
}

/* Read the headers of run's files; FT_ENOMEM only (unreadable files are kept as such). */
static ft_status run_procs_load(run_procs *rp, const ft_run *run, ft_report *r)
{
    ft_status st;

    memset(rp, 0, sizeof *rp);
    rp->n = run->nfiles;
    rp->ps = ft_malloc((rp->n ? rp->n : 1) * sizeof *rp->ps);
    rp->procs = ft_malloc((rp->n ? rp->n : 1) * sizeof *rp->procs);
    if (!rp->ps || !rp->procs) {
        ft_free(rp->ps);
        ft_free(rp->procs);
        rp->ps = NULL;
        rp->procs = NULL;
        return FT_ENOMEM;
    }
    for (size_t i = 0; i < rp->n; i++)
        ft_proc_init(&rp->ps[i].proc, run->files[i]);
    for (size_t i = 0; i < rp->n; i++) {
        if ((st = ft_proc_read_header(&rp->ps[i].proc)))
            return st;
    }
    rp->wall0 = place(rp->ps, rp->n, r);
    for (size_t i = 0; i < rp->n; i++)
        rp->have_base |= rp->ps[i].proc.has_header;
    qsort(rp->ps, rp->n, sizeof *rp->ps, cmp_placed);
    for (size_t i = 0; i < rp->n; i++)
        rp->procs[i] = &rp->ps[i].proc;
    return ft_lineage_build(&rp->lin, rp->procs, rp->n);
}

/* The run id of a run directory's path: its last component. */
static const char *dir_run_id(const char *dir, char *buf, size_t cap)
{
    size_t n = strlen(dir);
    const char *base;

    while (n > 1 && dir[n - 1] == '/')
        n--;
    snprintf(buf, cap, "%.*s", (int)n, dir);
    base = strrchr(buf, '/');
    return base ? base + 1 : buf;
}

/* The pid a run id ends with (FORMAT.md §1: that of the run's first process), 0 if none. */
static uint64_t run_id_pid(const char *run_id)
{
    const char *dash = run_id ? strrchr(run_id, '-') : NULL;
    uint64_t pid = 0;

    if (!dash || !dash[1])
        return 0;
    for (const char *c = dash + 1; *c; c++) {
        if (*c < '0' || *c > '9' || pid > UINT64_MAX / 10)
            return 0;
        pid = pid * 10 + (uint64_t)(*c - '0');
    }
    return pid;
}

/* What the headers of a run directory say about the run as a whole, each a problem:
 * files of another run mixed in (they are converted with the others: nothing readable is
 * dropped), no file of the run's first process, and files whose clock cannot be placed
 * against the others'. */
static void check_run(const run_procs *rp, const ft_run *run, ft_report *r)
{
    char buf[4096];
    const char *dir_id, *run_id = NULL;
    uint64_t root;
    int root_seen = 0;

    for (size_t i = 0; i < rp->n; i++) {
        if (rp->ps[i].unaligned)
            ft_report_problem(r, rp->procs[i]->path, FT_SIGNATURE_SIZE, "its clock (%s on "
                              "%s) cannot be aligned with the other files' and it has no "
                              "wall-clock anchor; its times are shown from its own start",
                              rp->procs[i]->header.clock, rp->procs[i]->header.hostname);
    }
    if (!run->dir)
        return;
    /* The run: the directory's, when a header names it, else the first file's. */
    dir_id = dir_run_id(run->dir, buf, sizeof buf);
    for (size_t i = 0; i < rp->n && !run_id; i++) {
        if (rp->procs[i]->has_header && same_str(rp->procs[i]->header.run_id, dir_id))
            run_id = dir_id;
    }
    for (size_t i = 0; i < rp->n && !run_id; i++) {
        if (rp->procs[i]->has_header)
            run_id = rp->procs[i]->header.run_id;
    }
    for (size_t i = 0; i < rp->n; i++) {
        const ft_proc *p = rp->procs[i];
        if (p->has_header && !same_str(p->header.run_id, run_id))
            ft_report_problem(r, p->path, FT_SIGNATURE_SIZE, "this file belongs to run %s, "
                              "the others to run %s: two runs are mixed in one directory; "
                              "converted with the others", p->header.run_id, run_id);
    }
    /* Its first process, by the run id (not the directory's name: a user may rename it). */
    root = run_id_pid(run_id);
    for (size_t i = 0; i < rp->n; i++)
        root_seen |= rp->procs[i]->pid == root;
    if (root && rp->n && !root_seen)
        ft_report_problem(r, run->dir, FT_REPORT_NO_OFFSET, "no trace file of the run's first "
                          "process (pid %" PRIu64 ", from the run id): it is missing, so the "
                          "run is incomplete; the %zu file%s found %s converted", root, rp->n,
                          rp->n == 1 ? "" : "s", rp->n == 1 ? "is" : "are");
}

/* The texts of one process's markers and name, kept until the process is written. */
typedef struct proc_texts {
    char name[FT_PROCESS_NAME_MAX + 1];
    ft_ff_marker *markers;
    char (*text)[4][FT_PROCESS_NAME_MAX + 1];   /* per marker: program, start, end, ppid */
    size_t n, cap;
} proc_texts;

enum { TX_PROGRAM, TX_START, TX_END, TX_PPID };

static void proc_texts_fini(proc_texts *t)
{
    ft_free(t->markers);
    ft_free(t->text);
    memset(t, 0, sizeof *t);
}

/* Add the marker of file i (read, so that its trailer and end are known). */
static ft_status add_marker(proc_texts *t, const run_procs *rp, size_t i)
{
    const ft_proc *p = rp->procs[i];
    ft_ff_marker *m;

    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 2;
        ft_ff_marker *nm = ft_realloc(t->markers, cap * sizeof *nm);
        if (!nm)
            return FT_ENOMEM;
        t->markers = nm;
        void *nt = ft_realloc(t->text, cap * sizeof *t->text);
        if (!nt)
            return FT_ENOMEM;
        t->text = nt;
        t->cap = cap;
    }
    char (*tx)[FT_PROCESS_NAME_MAX + 1] = t->text[t->n];
    ft_lineage_command(p, tx[TX_PROGRAM], sizeof tx[TX_PROGRAM]);
    ft_lineage_start_text(&rp->lin, rp->procs, i, tx[TX_START], sizeof tx[TX_START]);
    ft_lineage_end_text(p, tx[TX_END], sizeof tx[TX_END]);
    ft_lineage_ppid_text(&rp->lin, rp->procs, i, tx[TX_PPID], sizeof tx[TX_PPID]);
    m = &t->markers[t->n++];
    memset(m, 0, sizeof *m);
    m->start = p->has_header ? p->header.start_ns : 0;
    m->end = p->end;
    m->program = tx[TX_PROGRAM];
    m->how_start = tx[TX_START];
    m->how_end = tx[TX_END];
    m->ppid = tx[TX_PPID];
    m->label = p->has_trailer && p->trailer.process_label && *p->trailer.process_label ?
               p->trailer.process_label : NULL;
    m->file = p->path;
    return FT_OK;
}

/* Earliest event of a process's threads (its start when it has no header, and time zero
 * when no file has one), UINT64_MAX if there is none. */
static uint64_t first_event(const ft_proc *p)
{
    uint64_t t = UINT64_MAX;
    for (uint32_t k = 0; k < p->nthreads; k++) {
        if (p->threads[k]->nsamples && p->threads[k]->first_t < t)
            t = p->threads[k]->first_t;
    }
    return t;
}

/* Does --pid keep the process whose first file is `head`? Any pid its files carry will
 * do (an exec'd program may have been recorded under a later file). */
static int pid_wanted(const run_procs *rp, size_t head, const ft_filter *f)
{
    for (size_t i = head; i != FT_LINEAGE_NONE; i = rp->lin.f[i].next) {
        if (ft_filter_pid(f, rp->procs[i]->pid))
            return 1;
    }
    return 0;
}

/* The sink and filters of a conversion. */
typedef struct output {
    const ft_sink_ops *ops;
    void *sink;
    const ft_filter *filter;   /* NULL: none */
} output;

/* A pid is one process's at a time on one host: a process whose pid belonged to another
 * that was still running when it started (they were converted in start order, so that
 * one's end is known) is a copied file, or a file of another host of the same name. Both
 * are converted (lineage.c shows the second as pid.1); this says why. */
static void check_pid_overlap(const run_procs *rp, size_t head, ft_report *r)
{
    const ft_proc *p = rp->procs[head];

    if (!p->has_header)
        return;
    for (size_t j = head; j-- > 0;) {
        const ft_proc *q = rp->procs[j];
        size_t last = j;
        if (rp->lin.f[j].head != j || !q->has_header || q->header.pid != p->header.pid ||
            !same_str(q->header.hostname, p->header.hostname))
            continue;
        while (rp->lin.f[last].next != FT_LINEAGE_NONE)
            last = rp->lin.f[last].next;
        if (rp->procs[last]->end > p->header.start_ns)
            ft_report_problem(r, p->path, FT_SIGNATURE_SIZE, "pid %" PRIu64 " is also that "
                              "of %s, which was still running when this process started: "
                              "one of them is a copy or from another host of the same name; "
                              "shown as pid %s", p->header.pid, q->path, rp->lin.f[head].pid);
        return;     /* only the latest earlier process of the pid matters */
    }
}

/* Read every file of the process whose first file is `head` into the last of them, and
 * write the process. */
static ft_status convert_process(run_procs *rp, size_t head, output *o, ft_report *r,
                                 ft_convert_stats *stats, int *write_failed)
{
    proc_texts t = {0};
    ft_proc *p = NULL, *prev = NULL;
    ft_ff_process info;
    uint64_t start = 0;
    ft_status st = FT_OK;

    *write_failed = 0;
    check_pid_overlap(rp, head, r);
    for (size_t i = head; i != FT_LINEAGE_NONE; i = rp->lin.f[i].next) {
        p = &rp->ps[i].proc;
        if (prev)
            ft_proc_adopt(p, prev);
        ft_progress_file(r, p->path);
        if ((st = ft_proc_read(p, r)))
            goto out;
        if (!rp->have_base && first_event(p) != UINT64_MAX) {
            /* No header anywhere: time zero is this first process's first event. */
            for (size_t j = 0; j < rp->n; j++)
                rp->ps[j].base = first_event(p);
            rp->have_base = 1;
        }
        stats->events += p->events;
        if (i == head)
            start = p->has_header ? p->header.start_ns : first_event(p);
        if (p->has_header && p->end < p->header.start_ns)
            p->end = p->header.start_ns;    /* a file with no events and no trailer */
        if (prev && p->end < prev->end)
            p->end = prev->end;             /* a later program that could not be read */
        if ((st = add_marker(&t, rp, i)))
            goto out;
        if (!p->has_header)
            t.markers[t.n - 1].start = first_event(p) == UINT64_MAX ? p->end : first_event(p);
        prev = p;
    }
    ft_lineage_name(&rp->lin, rp->procs, head, t.name, sizeof t.name);
    info.pid = rp->lin.f[head].pid;
    info.name = t.name;
    info.start = start == UINT64_MAX ? p->end : start;
    info.end = p->end;
    info.markers = t.markers;
    info.nmarkers = t.n;
    {
        ft_allocs_stats as;
        if ((st = ft_filter_allocs(o->filter, p, rp->ps[head].base, &as)))
            goto out;
        if (as.unmatched_frees)
            ft_report_note(r, "process %s: %" PRIu64 " frees of blocks allocated before "
                           "recording started (or by an untraced thread) left out",
                           info.pid, as.unmatched_frees);
    }
    if (o->filter && (st = ft_filter_apply(o->filter, p, rp->ps[head].base, &stats->folded)))
        goto out;
    {
        uint32_t before = o->ops->thread_count(o->sink);
        if ((st = o->ops->add_process(o->sink, p, &info, rp->ps[head].base))) {
            *write_failed = st != FT_ENOMEM;
            goto out;
        }
        if (o->ops->thread_count(o->sink) > before)
            stats->processes++;
    }
out:
    if (p)
        ft_proc_release(p);
    proc_texts_fini(&t);
    return st;
}

/* Bytes of JSON one event becomes, about: a Firefox sample (a time and a stack index in
 * two columns) took 28 bytes in a 12 M-event trace; a Chrome B or E event about 80. */
#define JSON_BYTES_PER_EVENT 28
#define CHROME_BYTES_PER_EVENT 80
/* A row of a thread's nativeAllocations (--memory): measured 41 on a 3.9 M-record trace. */
#define JSON_BYTES_PER_MEMORY_RECORD 42

/* Warn when the JSON output will be (before writing: estimated from the trailers) or
 * is (after: `bytes`) larger than browsers open. A warning, not a problem: the output is
 * still written, the exit status unchanged, and -q does not hide it. Once per conversion:
 * *warned says whether it was given. */
static void warn_if_large(const ft_run *run, const ft_convert_opts *o, ft_report *r,
                          int *warned, uint64_t bytes)
{
    uint64_t limit = o->warn_bytes ? o->warn_bytes : FT_CONVERT_WARN_BYTES;
    int before = run != NULL;

    for (size_t i = 0; run && i < run->nfiles; i++) {
        int chrome = o->format && strcmp(o->format, "chrome") == 0;
        uint64_t mem = 0, events = ft_info_events(run->files[i], &mem);
        bytes += events * (chrome ? CHROME_BYTES_PER_EVENT : JSON_BYTES_PER_EVENT);
        if (!chrome)
            bytes += mem * JSON_BYTES_PER_MEMORY_RECORD;
    }
    if (*warned || bytes <= limit)
        return;
    *warned = 1;
    fprintf(r->out, "ft-convert: warning: the output %s %.1f MB of JSON; browsers often "
            "fail to open more than %.1f MB. To convert a part: --from/--to SECONDS (a time "
            "window), --pid PID, --tid TID, --min-duration 1ms (fold shorter calls into "
            "their callers); ft-convert --info INPUT shows the processes, threads and time "
            "span to choose from\n", before ? "will be about" : "is", (double)bytes / 1e6,
            (double)limit / 1e6);
}

int ft_convert_find_run(const ft_convert_opts *o, ft_run *run, ft_report *r)
{
    ft_status st = o->nmerge_inputs ? ft_run_merge(o->merge_inputs, o->nmerge_inputs,
                                                   o->run_ids, o->nrun_ids, run, r)
                                    : ft_run_find(o->input, o->run_id, run, r);
    if (st == FT_ENOMEM)
        ft_report_problem(r, NULL, FT_REPORT_NO_OFFSET, "out of memory");
    return st != FT_OK;
}

ft_convert_result ft_convert(const ft_convert_opts *o, ft_report *r, ft_convert_stats *stats)
{
    ft_convert_result res = FT_CONVERT_FAILED;
    ft_run run;
    run_procs rp = {0};
    ft_jsonw *w = NULL;
    output out = { ft_sink_find(o->format ? o->format : "firefox"), NULL, o->filter };
    ft_sink_opts sink_opts = { o->top };
    ft_progress progress;
    ft_convert_stats local;
    unsigned long problems0 = r->problems;
    char arguments[ARGUMENTS_MAX] = "";
    int write_failed = 0, warned = 0;
    ft_status st;
    double t_start = now_seconds();

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!out.ops) {
        ft_report_problem(r, NULL, FT_REPORT_NO_OFFSET, "no output format %s", o->format);
        return FT_CONVERT_FAILED;
    }
    if (out.filter && !ft_filter_active(out.filter))
        out.filter = NULL;
    if (ft_convert_find_run(o, &run, r))
        return FT_CONVERT_FAILED;
    if ((st = run_procs_load(&rp, &run, r)))
        goto out;
    check_run(&rp, &run, r);
    /* meta.arguments: the command of the run, the first process. */
    if (rp.n && rp.procs[0]->has_header)
        ft_lineage_command(rp.procs[0], arguments, sizeof arguments);
    if (run.dir)
        ft_report_note(r, "reading %zu trace file%s in %s", run.nfiles,
                       run.nfiles == 1 ? "" : "s", run.dir);
    else if (o->nmerge_inputs)
        ft_report_note(r, "merging %zu run%s: %zu trace file%s on one timeline", run.nruns,
                       run.nruns == 1 ? "" : "s", run.nfiles, run.nfiles == 1 ? "" : "s");
    if (out.ops->is_json && !out.filter)
        warn_if_large(&run, o, r, &warned, 0);

    if ((st = ft_jsonw_open(o->output, &w))) {
        if (st == FT_EIO) {
            ft_report_problem(r, o->output, FT_REPORT_NO_OFFSET, "cannot create: %s",
                              strerror(errno));
            st = FT_OK;   /* reported */
        }
        goto out;
    }
    if ((st = out.ops->begin(w, &sink_opts, &out.sink)))
        goto write_failed;
    if (o->progress)
        ft_progress_start(&progress, r, &run);

    for (size_t i = 0; i < rp.n; i++) {
        if (rp.lin.f[i].head != i)
            continue;       /* read with the file it continues */
        if (out.filter && !pid_wanted(&rp, i, out.filter))
            continue;
        if ((st = convert_process(&rp, i, &out, r, stats, &write_failed))) {
            if (write_failed)
                goto write_failed;
            goto out;
        }
    }
    ft_progress_end(r);
    stats->threads = out.ops->thread_count(out.sink);
    stats->samples = out.ops->sample_count(out.sink);
    if (!stats->threads) {
        if (out.filter)
            ft_report_problem(r, o->nmerge_inputs ? NULL : o->input, FT_REPORT_NO_OFFSET,
                              "nothing to convert: the filters (--from, --to, --pid, "
                              "--tid) left no events; see ft-convert --info for what the "
                              "trace holds");
        else
            ft_report_problem(r, o->nmerge_inputs ? NULL : o->input, FT_REPORT_NO_OFFSET,
                              "nothing to convert: no thread events were read");
        goto out;
    }
    if ((st = out.ops->end(out.sink, rp.wall0, arguments[0] ? arguments : NULL)))
        goto write_failed;
    stats->bytes = ft_jsonw_bytes(w);
    if (out.ops->is_json)
        warn_if_large(NULL, o, r, &warned, stats->bytes);
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
    ft_progress_end(r);
    if (out.sink)
        out.ops->free(out.sink);
    ft_jsonw_close(w, 0);
    run_procs_fini(&rp);
    ft_run_fini(&run);
    return res;
}

/* ---- --list ---- */

/* "2025-01-01 12:00:00" (UTC) for a wall-clock time in ns since the epoch. */
static void format_wall(int64_t ns, char *buf, size_t cap)
{
    time_t secs = (time_t)(ns / 1000000000);
    struct tm tm;

    if (ns <= 0 || !gmtime_r(&secs, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, cap, "-");
}

ft_convert_result ft_convert_list(const char *input, FILE *out, ft_report *r)
{
    ft_run_dirs list;
    ft_status st;
    unsigned long problems0 = r->problems;

    if ((st = ft_run_list(input, &list, r))) {
        if (st == FT_ENOMEM)
            ft_report_problem(r, NULL, FT_REPORT_NO_OFFSET, "out of memory");
        return FT_CONVERT_FAILED;
    }
    fprintf(out, "%-24s %5s %9s  %-19s  %s\n", "RUN", "FILES", "PROCESSES", "START (UTC)",
            "COMMAND");
    for (size_t i = 0; i < list.n && !st; i++) {
        const char *id = strrchr(list.dirs[i], '/');
        char when[32] = "-", command[ARGUMENTS_MAX] = "";
        ft_run run;
        run_procs rp = {0};
        ft_report quiet;

        id = id && id[1] ? id + 1 : list.dirs[i];
        if ((st = ft_run_files(list.dirs[i], &run))) {
            if (st == FT_EIO) {
                ft_report_problem(r, list.dirs[i], FT_REPORT_NO_OFFSET, "cannot list: %s",
                                  strerror(errno));
                st = FT_OK;
            }
            continue;
        }
        /* Only the headers are read: notes about clocks are for conversions. */
        ft_report_init(&quiet, r->out, 1);
        if (!(st = run_procs_load(&rp, &run, &quiet))) {
            if (rp.n && rp.procs[0]->has_header) {
                /* The root: the first process that was run, else the first to start. */
                const ft_proc *root = rp.procs[0];
                for (size_t k = 0; k < rp.n; k++) {
                    const char *why = ft_lineage_start_reason(rp.procs[k]);
                    if (why && strcmp(why, "run") == 0) {
                        root = rp.procs[k];
                        break;
                    }
                }
                format_wall(rp.wall0, when, sizeof when);
                ft_lineage_command(root, command, sizeof command);
            } else if (rp.n) {
                snprintf(command, sizeof command, "(no readable header)");
            }
            fprintf(out, "%-24s %5zu %9zu  %-19s  %s\n", id, rp.n, rp.lin.nprocs, when,
                    command);
        }
        run_procs_fini(&rp);
        ft_run_fini(&run);
    }
    ft_run_dirs_fini(&list);
    if (st == FT_ENOMEM)
        ft_report_problem(r, NULL, FT_REPORT_NO_OFFSET, "out of memory");
    if (st || fflush(out) != 0 || ferror(out))
        return FT_CONVERT_FAILED;
    return r->problems > problems0 ? FT_CONVERT_DAMAGED : FT_CONVERT_OK;
}
