/* thread_stream.c — call stack reconstruction and samples for one thread (see the header). */
#include "thread_stream.h"

#include <string.h>

#include "ft_buf.h"

void ft_tstream_init(ft_tstream *ts, uint64_t tid, uint32_t order)
{
    memset(ts, 0, sizeof *ts);
    ts->tid = tid;
    ts->order = order;
    ts->name = FT_TSTREAM_NO_NAME;
    ft_stacks_init(&ts->stacks);
    ft_markers_init(&ts->markers);
    ft_allocs_init(&ts->allocs);
}

void ft_tstream_fini(ft_tstream *ts)
{
    ft_free(ts->live);
    ft_free(ts->sample_time);
    ft_free(ts->sample_stack);
    ft_stacks_fini(&ts->stacks);
    ft_markers_fini(&ts->markers);
    ft_allocs_fini(&ts->allocs);
    memset(ts, 0, sizeof *ts);
}

ft_chunk_order ft_tstream_begin_chunk(ft_tstream *ts, uint64_t seq, uint64_t t0)
{
    ft_chunk_order order = FT_CHUNK_IN_ORDER;

    if (!ts->started) {
        ts->started = 1;
        ts->first_t = ts->now = t0;
    }
    if (seq > ts->next_seq) {
        order = FT_CHUNK_GAP;
    } else if (seq < ts->next_seq) {
        order = FT_CHUNK_BACKWARDS;
    }
    if (seq >= ts->next_seq)
        ts->next_seq = seq + 1;
    ts->t = t0;
    return order;
}

static ft_status add_sample(ft_tstream *ts, uint64_t t, uint32_t stack)
{
    if (ts->nsamples == ts->samples_cap) {
        size_t cap = ts->samples_cap ? ts->samples_cap * 2 : 1024;
        uint64_t *tm = ft_realloc(ts->sample_time, cap * sizeof *tm);
        if (!tm)
            return FT_ENOMEM;
        ts->sample_time = tm;
        uint32_t *st = ft_realloc(ts->sample_stack, cap * sizeof *st);
        if (!st)
            return FT_ENOMEM;
        ts->sample_stack = st;
        ts->samples_cap = cap;
    }
    ts->sample_time[ts->nsamples] = t;
    ts->sample_stack[ts->nsamples] = stack;
    ts->nsamples++;
    return FT_OK;
}

ft_status ft_tstream_push(ft_tstream *ts, uint64_t t, uint32_t fid)
{
    uint32_t top = ts->depth ? ts->live[ts->depth - 1].stack : FT_STACK_NONE;
    uint32_t stack;
    ft_status st;

    if (ts->depth == ts->live_cap) {
        uint32_t cap = ts->live_cap ? ts->live_cap * 2 : 64;
        ft_live_frame *live;
        if (cap < ts->live_cap)
            return FT_ENOMEM;
        live = ft_realloc(ts->live, (size_t)cap * sizeof *live);
        if (!live)
            return FT_ENOMEM;
        ts->live = live;
        ts->live_cap = cap;
    }
    if ((st = ft_stacks_intern(&ts->stacks, top, fid, &stack)))
        return st;
    ts->live[ts->depth].fid = fid;
    ts->live[ts->depth].stack = stack;
    ts->depth++;
    return add_sample(ts, t, stack);
}

ft_status ft_tstream_pop(ft_tstream *ts, uint64_t t, uint32_t fid)
{
    uint32_t d = ts->depth;

    while (d > 0 && ts->live[d - 1].fid != fid)
        d--;
    if (d == 0) {
        ts->ignored_pops++;
        return FT_OK;
    }
    ts->depth = d - 1;
    return add_sample(ts, t, ts->depth ? ts->live[ts->depth - 1].stack : FT_STACK_NONE);
}

ft_status ft_tstream_finish(ft_tstream *ts, uint64_t end)
{
    if (!ts->depth)
        return FT_OK;
    ts->depth = 0;
    if (end > ts->now)
        ts->now = end;
    return add_sample(ts, ts->now, FT_STACK_NONE);
}
