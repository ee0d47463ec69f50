/* filter.c — rewriting a thread's samples for the conversion-time filters (filter.h). */
#include "filter.h"

#include <string.h>

#include "ft_buf.h"
#include "walk.h"

int ft_filter_active(const ft_filter *f)
{
    return f->has_from || f->has_to || f->npids || f->ntids || f->min_duration_ns;
}

static int listed(const uint64_t *ids, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == id)
            return 1;
    }
    return 0;
}

int ft_filter_pid(const ft_filter *f, uint64_t pid)
{
    return !f->npids || listed(f->pids, f->npids, pid);
}

/* Keep the samples in [lo, hi] (clock ns). The stack current at lo is restated there, and
 * a stack still open at hi is closed there, so that calls crossing the window's edges are
 * cut at them. Writes never overtake reads: a sample is only added at lo after at least one
 * earlier sample was dropped. */
static void window(ft_tstream *ts, uint64_t lo, uint64_t hi)
{
    uint32_t before = FT_STACK_NONE, last = FT_STACK_NONE;
    size_t n = 0, i;
    int cut = 0;

    for (i = 0; i < ts->nsamples; i++) {
        uint64_t t = ts->sample_time[i];
        uint32_t s = ts->sample_stack[i];
        if (t < lo) {
            before = s;
            continue;
        }
        if (t > hi) {
            cut = 1;
            break;
        }
        if (n == 0 && t > lo && before != FT_STACK_NONE) {
            ts->sample_time[n] = lo;
            ts->sample_stack[n++] = before;
        }
        ts->sample_time[n] = t;
        ts->sample_stack[n++] = s;
        last = s;
    }
    if (n == 0 && cut && before != FT_STACK_NONE) {
        /* One call spans the whole window (i >= 1: index 1 was read already). */
        ts->sample_time[0] = lo;
        ts->sample_stack[0] = before;
        n = 1;
        last = before;
    }
    if (cut && last != FT_STACK_NONE && n) {
        ts->sample_time[n] = hi;
        ts->sample_stack[n++] = FT_STACK_NONE;
    }
    ts->nsamples = n;
}

/* --min-duration: the outermost short calls, as sample ranges [open, close) whose samples
 * all become `parent`. They are found in one walk: a call that leaves short replaces the
 * ranges of the short calls inside it, which are the last ones recorded. */
typedef struct fold_range {
    size_t open, close;
    uint32_t parent;
} fold_range;

typedef struct fold_state {
    const ft_tstream *ts;
    const uint32_t *depth;
    uint64_t min;
    uint64_t *open_t;
    size_t *open_i;
    fold_range *r;
    size_t n, cap;
    uint64_t folded;
} fold_state;

static ft_status fold_enter(void *ctx, uint32_t stack, uint64_t t, size_t sample)
{
    fold_state *f = ctx;
    f->open_t[f->depth[stack]] = t;
    f->open_i[f->depth[stack]] = sample;
    return FT_OK;
}

static ft_status fold_leave(void *ctx, uint32_t stack, uint64_t t, size_t sample)
{
    fold_state *f = ctx;
    uint32_t d = f->depth[stack];
    size_t open = f->open_i[d];

    if (t - f->open_t[d] >= f->min)
        return FT_OK;
    f->folded++;
    while (f->n && f->r[f->n - 1].open >= open)
        f->n--;
    if (ft_grow(&f->r, &f->cap, f->n, sizeof *f->r, 256))
        return FT_ENOMEM;
    f->r[f->n].open = open;
    f->r[f->n].close = sample;
    f->r[f->n++].parent = f->ts->stacks.prefix[stack];
    return FT_OK;
}

static ft_status fold_short(ft_tstream *ts, uint64_t min, uint64_t *folded)
{
    static const ft_walk_ops ops = { fold_enter, fold_leave };
    fold_state f = { .ts = ts, .min = min };
    uint32_t *depth = NULL, max_depth;
    size_t n = 0;
    ft_status st;

    if ((st = ft_walk_depths(&ts->stacks, &depth, &max_depth)))
        return st;
    f.depth = depth;
    f.open_t = ft_malloc(((size_t)max_depth + 1) * sizeof *f.open_t);
    f.open_i = ft_malloc(((size_t)max_depth + 1) * sizeof *f.open_i);
    if (!f.open_t || !f.open_i) {
        st = FT_ENOMEM;
        goto out;
    }
    if ((st = ft_walk_thread(ts, depth, max_depth, &ops, &f)))
        goto out;
    for (size_t k = 0; k < f.n; k++) {
        for (size_t i = f.r[k].open; i < f.r[k].close && i < ts->nsamples; i++)
            ts->sample_stack[i] = f.r[k].parent;
    }
    /* Folding leaves runs of one stack: keep the first sample of each run. */
    for (size_t i = 0; i < ts->nsamples; i++) {
        if (n && ts->sample_stack[n - 1] == ts->sample_stack[i])
            continue;
        ts->sample_time[n] = ts->sample_time[i];
        ts->sample_stack[n++] = ts->sample_stack[i];
    }
    ts->nsamples = n;
    if (folded)
        *folded += f.folded;
out:
    ft_free(depth);
    ft_free(f.open_t);
    ft_free(f.open_i);
    ft_free(f.r);
    return st;
}

ft_status ft_filter_allocs(const ft_filter *f, ft_proc *p, uint64_t base,
                           ft_allocs_stats *stats)
{
    ft_allocs_view view = { 0, UINT64_MAX, NULL };
    ft_alloc_list **lists;
    uint8_t *keep = NULL;
    ft_status st;

    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!p->nthreads)
        return FT_OK;
    lists = ft_malloc(p->nthreads * sizeof *lists);
    if (f && f->ntids)
        keep = ft_malloc(p->nthreads);
    if (!lists || (f && f->ntids && !keep)) {
        st = FT_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < p->nthreads; i++) {
        lists[i] = &p->threads[i]->allocs;
        if (keep)
            keep[i] = (uint8_t)listed(f->tids, f->ntids, p->threads[i]->tid);
    }
    if (f && f->has_from)
        view.lo = base + f->from_ns;
    if (f && f->has_to)
        view.hi = base + f->to_ns;
    view.keep = keep;
    st = ft_allocs_resolve(lists, p->nthreads, &view, stats);
out:
    ft_free(lists);
    ft_free(keep);
    return st;
}

ft_status ft_filter_apply(const ft_filter *f, ft_proc *p, uint64_t base, uint64_t *folded)
{
    ft_status st;

    for (uint32_t i = 0; i < p->nthreads; i++) {
        ft_tstream *ts = p->threads[i];
        if (f->ntids && !listed(f->tids, f->ntids, ts->tid)) {
            ts->nsamples = 0;
            continue;
        }
        if (f->has_from || f->has_to)
            window(ts, f->has_from ? base + f->from_ns : 0,
                   f->has_to ? base + f->to_ns : UINT64_MAX);
        if (f->min_duration_ns && ts->nsamples &&
            (st = fold_short(ts, f->min_duration_ns, folded)))
            return st;
    }
    return FT_OK;
}
