/* summary.c — the text summary sink (--format summary, --summary): per process and
 * thread, the functions that took the most time, by self time and by total time, with
 * their call counts.
 *
 * Like pstats, but exact: the times are traced, not sampled, and printed to the
 * nanosecond (milliseconds with six decimals). Self time is the time a function was on
 * top of its thread's stack; total time the time from a call's entry to its exit,
 * counted once for recursive calls (only the outermost call of a function on the stack
 * adds to it, as cProfile's cumulative time); calls counts entries, a generator's resumes
 * included. Percentages are of the thread's span, its first to its last event.
 *
 * A trace recorded with --memory adds a third table per thread: the functions that
 * allocated the most bytes (in the function itself, not its callees), with the number of
 * allocations. */
#include "sink.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_buf.h"
#include "walk.h"

#define DEFAULT_TOP 20

typedef struct fstat {
    uint64_t self, total, calls;
    uint64_t bytes, allocs;    /* allocated with this function on top (--memory) */
    uint32_t active;       /* frames of this function on the stack now */
} fstat;

typedef struct summary_sink {
    ft_jsonw *w;
    unsigned top;
    uint32_t nthreads;
    uint64_t nsamples;

    /* The thread being summarised. */
    const ft_tstream *ts;
    fstat *fs;             /* per function slot: fid, or nfuncs for unknown ids */
    uint32_t nslots;
    uint64_t *open_t;      /* entry time of the frame at each depth */
    const uint32_t *depth;
} summary_sink;

static void out(summary_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(summary_sink *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        ft_jw_raw(s->w, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* A string of the trace, cut to what a line can show. */
static void out_str(summary_sink *s, const ft_proc *p, uint32_t id)
{
    ft_str str = ft_strpool_get(&p->strings, id);
    ft_jw_raw(s->w, str.ptr, str.len < 300 ? str.len : 300);
}

static ft_status sm_begin(ft_jsonw *w, const ft_sink_opts *o, void **outp)
{
    summary_sink *s = ft_malloc(sizeof *s);

    *outp = s;
    if (!s)
        return FT_ENOMEM;
    memset(s, 0, sizeof *s);
    s->w = w;
    s->top = o && o->top ? o->top : DEFAULT_TOP;
    return FT_OK;
}

static uint32_t slot_of(const summary_sink *s, uint32_t stack)
{
    uint32_t fid = s->ts->stacks.fid[stack];
    return fid < s->nslots - 1 ? fid : s->nslots - 1;
}

static ft_status on_enter(void *ctx, uint32_t stack, uint64_t t, size_t sample)
{
    summary_sink *s = ctx;
    fstat *f = &s->fs[slot_of(s, stack)];

    s->open_t[s->depth[stack]] = t;
    f->calls++;
    f->active++;
    return FT_OK;
}

static ft_status on_leave(void *ctx, uint32_t stack, uint64_t t, size_t sample)
{
    summary_sink *s = ctx;
    fstat *f = &s->fs[slot_of(s, stack)];

    if (--f->active == 0)
        f->total += t - s->open_t[s->depth[stack]];
    return FT_OK;
}

/* For qsort: slots by self (or total) time, larger first, then by slot. */
static const fstat *sort_fs;
static int sort_by_total;

static int cmp_slots(const void *a, const void *b)
{
    const fstat *x = &sort_fs[*(const uint32_t *)a], *y = &sort_fs[*(const uint32_t *)b];
    uint64_t kx = sort_by_total == 2 ? x->bytes : sort_by_total ? x->total : x->self;
    uint64_t ky = sort_by_total == 2 ? y->bytes : sort_by_total ? y->total : y->self;

    if (kx != ky)
        return kx > ky ? -1 : 1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static void out_ms(summary_sink *s, int width, uint64_t ns)
{
    out(s, "%*llu.%06llu", width, (unsigned long long)(ns / 1000000),
        (unsigned long long)(ns % 1000000));
}

static void out_pct(summary_sink *s, uint64_t part, uint64_t whole)
{
    out(s, "  %6.1f%%", whole ? 100.0 * (double)part / (double)whole : 0.0);
}

static void out_function(summary_sink *s, const ft_proc *p, uint32_t slot)
{
    const ft_func_def *d = slot < s->nslots - 1 ? ft_proc_func(p, slot) : NULL;

    out(s, "  ");
    if (!d) {
        out(s, "<unknown function>\n");
        return;
    }
    out_str(s, p, d->name);
    if (d->kind == FT_FUNC_PYTHON && p->strings.len[d->file]) {
        out(s, "  ");
        out_str(s, p, d->file);
        out(s, ":%u", d->line);
    } else {
        out(s, "  [native]");
    }
    out(s, "\n");
}

static void out_table(summary_sink *s, const ft_proc *p, uint32_t *order, uint32_t n,
                      int by_total, uint64_t span)
{
    uint32_t shown = n < s->top ? n : s->top;

    sort_fs = s->fs;
    sort_by_total = by_total;
    qsort(order, n, sizeof *order, cmp_slots);
    out(s, "\n  by %s time (top %u of %u functions):\n", by_total ? "total" : "self", shown, n);
    out(s, "  %12s  %21s  %7s  %21s  %7s  %s\n", "calls", "self ms", "self%", "total ms",
        "total%", "function");
    for (uint32_t i = 0; i < shown; i++) {
        const fstat *f = &s->fs[order[i]];
        out(s, "  %12llu  ", (unsigned long long)f->calls);
        out_ms(s, 14, f->self);
        out_pct(s, f->self, span);
        out(s, "  ");
        out_ms(s, 14, f->total);
        out_pct(s, f->total, span);
        out_function(s, p, order[i]);
    }
}

/* The functions that allocated the most, from the thread's ALLOC records (allocs.h). */
static void out_alloc_table(summary_sink *s, const ft_proc *p, uint32_t *order)
{
    const ft_alloc_list *l = &s->ts->allocs;
    uint64_t total = 0;
    uint32_t n = 0, shown;

    for (size_t i = 0; i < l->n; i++) {
        if (l->a[i].is_free)
            continue;
        uint32_t k = l->a[i].stack == FT_STACK_NONE ? s->nslots - 1 : slot_of(s, l->a[i].stack);
        s->fs[k].bytes += (uint64_t)l->a[i].weight;
        s->fs[k].allocs++;
        total += (uint64_t)l->a[i].weight;
    }
    for (uint32_t k = 0; k < s->nslots; k++) {
        if (s->fs[k].allocs)
            order[n++] = k;
    }
    if (!n)
        return;
    shown = n < s->top ? n : s->top;
    sort_fs = s->fs;
    sort_by_total = 2;
    qsort(order, n, sizeof *order, cmp_slots);
    out(s, "\n  by bytes allocated (top %u of %u functions; %llu bytes in all):\n", shown, n,
        (unsigned long long)total);
    out(s, "  %12s  %16s  %7s  %s\n", "allocations", "bytes", "bytes%", "function");
    for (uint32_t i = 0; i < shown; i++) {
        const fstat *f = &s->fs[order[i]];
        out(s, "  %12llu  %16llu", (unsigned long long)f->allocs, (unsigned long long)f->bytes);
        out_pct(s, f->bytes, total);
        out_function(s, p, order[i]);
    }
}

static ft_status summarise_thread(summary_sink *s, const ft_proc *p, const ft_tstream *ts)
{
    static const ft_walk_ops ops = { on_enter, on_leave };
    uint32_t *depth = NULL, max_depth, *order = NULL, n = 0;
    uint64_t calls = 0, span;
    ft_status st;

    s->ts = ts;
    s->nslots = p->nfuncs + 1;
    s->fs = ft_malloc((size_t)s->nslots * sizeof *s->fs);
    order = ft_malloc((size_t)s->nslots * sizeof *order);
    if (!s->fs || !order) {
        st = FT_ENOMEM;
        goto out;
    }
    memset(s->fs, 0, (size_t)s->nslots * sizeof *s->fs);
    if ((st = ft_walk_depths(&ts->stacks, &depth, &max_depth)))
        goto out;
    s->depth = depth;
    s->open_t = ft_malloc(((size_t)max_depth + 1) * sizeof *s->open_t);
    if (!s->open_t) {
        st = FT_ENOMEM;
        goto out;
    }
    if ((st = ft_walk_thread(ts, depth, max_depth, &ops, s)))
        goto out;
    /* Self time: each sample's stack top holds until the next sample. */
    for (size_t i = 0; i + 1 < ts->nsamples; i++) {
        if (ts->sample_stack[i] != FT_STACK_NONE)
            s->fs[slot_of(s, ts->sample_stack[i])].self +=
                ts->sample_time[i + 1] - ts->sample_time[i];
    }
    for (uint32_t k = 0; k < s->nslots; k++) {
        calls += s->fs[k].calls;
        if (s->fs[k].calls || s->fs[k].self)
            order[n++] = k;
    }
    span = ts->sample_time[ts->nsamples - 1] - ts->sample_time[0];
    out(s, "\n-- thread %llu", (unsigned long long)ts->tid);
    if (ts->name != FT_TSTREAM_NO_NAME) {
        out(s, " \"");
        out_str(s, p, ts->name);
        out(s, "\"");
    }
    out(s, ": ");
    out_ms(s, 1, span);
    out(s, " ms from first to last event, %llu calls\n", (unsigned long long)calls);
    out_table(s, p, order, n, 0, span);
    out_table(s, p, order, n, 1, span);
    out_alloc_table(s, p, order);
    s->nthreads++;
    s->nsamples += ts->nsamples;
out:
    ft_free(s->fs);
    ft_free(s->open_t);
    ft_free(depth);
    ft_free(order);
    s->fs = NULL;
    s->open_t = NULL;
    return st ? st : ft_jsonw_status(s->w);
}

static ft_status sm_add(void *sv, ft_proc *p, const ft_ff_process *info, uint64_t base)
{
    summary_sink *s = sv;
    ft_status st;

    if (!ft_sink_has_samples(p))
        return FT_OK;
    out(s, "%s== process %s: %s\n", s->nthreads ? "\n" : "", info->pid, info->name);
    for (uint32_t i = 0; i < p->nthreads; i++) {
        if (p->threads[i]->nsamples && (st = summarise_thread(s, p, p->threads[i])))
            return st;
    }
    return ft_jsonw_status(s->w);
}

static uint32_t sm_threads(const void *s)
{
    return ((const summary_sink *)s)->nthreads;
}

static uint64_t sm_samples(const void *s)
{
    return ((const summary_sink *)s)->nsamples;
}

static ft_status sm_end(void *sv, int64_t start_wall_ns, const char *arguments)
{
    return ft_jsonw_status(((summary_sink *)sv)->w);
}

static void sm_free(void *s)
{
    ft_free(s);
}

const ft_sink_ops ft_sink_summary = {
    "summary", 0, sm_begin, sm_add, sm_threads, sm_samples, sm_end, sm_free,
};
