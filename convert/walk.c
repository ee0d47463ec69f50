/* walk.c — samples to enter/leave events (see walk.h). */
#include "walk.h"

#include "ft_buf.h"

ft_status ft_walk_depths(const ft_stacks *s, uint32_t **depth, uint32_t *max_depth)
{
    uint32_t *d = ft_malloc(((size_t)s->len + 1) * sizeof *d);
    uint32_t max = 0;

    *depth = d;
    *max_depth = 0;
    if (!d)
        return FT_ENOMEM;
    /* A stack is appended after its prefix, so one pass in index order suffices. */
    for (uint32_t i = 0; i < s->len; i++) {
        d[i] = s->prefix[i] == FT_STACK_NONE ? 1 : d[s->prefix[i]] + 1;
        if (d[i] > max)
            max = d[i];
    }
    *max_depth = max;
    return FT_OK;
}

static uint32_t depth_of(const uint32_t *depth, uint32_t stack)
{
    return stack == FT_STACK_NONE ? 0 : depth[stack];
}

/* Leave every frame of `from` above `to`'s common prefix, enter those of `to`. */
static ft_status step(const ft_stacks *s, const uint32_t *depth, uint32_t *entering,
                      const ft_walk_ops *ops, void *ctx, uint32_t from, uint32_t to,
                      uint64_t t, size_t sample)
{
    uint32_t a = from, b = to, n = 0;
    ft_status st;

    while (depth_of(depth, a) > depth_of(depth, b)) {
        if ((st = ops->leave(ctx, a, t, sample)))
            return st;
        a = s->prefix[a];
    }
    while (depth_of(depth, b) > depth_of(depth, a)) {
        entering[n++] = b;
        b = s->prefix[b];
    }
    while (a != b) {
        if ((st = ops->leave(ctx, a, t, sample)))
            return st;
        a = s->prefix[a];
        entering[n++] = b;
        b = s->prefix[b];
    }
    while (n) {
        if ((st = ops->enter(ctx, entering[--n], t, sample)))
            return st;
    }
    return FT_OK;
}

ft_status ft_walk_thread(const ft_tstream *ts, const uint32_t *depth, uint32_t max_depth,
                         const ft_walk_ops *ops, void *ctx)
{
    uint32_t *entering = ft_malloc(((size_t)max_depth + 1) * sizeof *entering);
    uint32_t prev = FT_STACK_NONE;
    ft_status st = FT_OK;

    if (!entering)
        return FT_ENOMEM;
    for (size_t i = 0; i < ts->nsamples && !st; i++) {
        st = step(&ts->stacks, depth, entering, ops, ctx, prev, ts->sample_stack[i],
                  ts->sample_time[i], i);
        prev = ts->sample_stack[i];
    }
    if (!st && prev != FT_STACK_NONE && ts->nsamples)
        st = step(&ts->stacks, depth, entering, ops, ctx, prev, FT_STACK_NONE,
                  ts->sample_time[ts->nsamples - 1], ts->nsamples);
    ft_free(entering);
    return st;
}
