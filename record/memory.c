/* memory.c — wrappers around Python's MEM and OBJ allocators that record ALLOC and FREE
 * records (see memory.h). */
#include "memory.h"

#include "session.h"
#include "clock.h"
#include "ft_trace.h"
#include "tstate.h"

typedef struct domain {
    PyMemAllocatorDomain id;
    PyMemAllocatorEx theirs;   /* what we wrap: every call goes on to it */
    PyMemAllocatorEx ours;
    int chained;               /* ours are in the allocator chain (maybe under another's) */
} domain;

static domain domains[2] = { { PYMEM_DOMAIN_MEM }, { PYMEM_DOMAIN_OBJ } };

/* Record while set (and while the session is active: a fork child's is not, until its own
 * start()). Read by every wrapped call; written with the GIL held. */
static int recording;
static uint64_t dropped;

/* The calling thread's state when a memory record may go into its buffer now, else NULL:
 * not recording, the recorder itself is allocating, or the thread has no buffer. */
static inline ft_tstate *target(void)
{
    ft_tstate *ts;

    if (!recording || !ft_g.active || ft_mem_busy)
        return NULL;
    ts = ft_tls.gen == ft_g.gen ? ft_tls.ts : NULL;
    if (FT_UNLIKELY(!ts || !ts->base)) {
        dropped++;
        return NULL;
    }
    return ts;
}

/* Time of a record: off the events' dt chain (FORMAT.md §4.7), so relative to the last
 * event, never before it. */
static inline uint64_t dt_now(const ft_tstate *ts)
{
    uint64_t now = ft_clock_fast();
    return now > ts->last_ns ? now - ts->last_ns : 0;
}

static void put(ft_tstate *ts, const ft_buf *rec)
{
    /* A full buffer is written out here (the slow path, with its Python lookups of the
     * thread's name): its allocations are the recorder's own. */
    ft_mem_busy++;
    if (ft_tstate_put_record(ts, rec->ptr, rec->len))
        dropped++;
    else
        ts->nmem++;
    ft_mem_busy--;
}

static void note_alloc(ft_tstate *ts, void *p, size_t size)
{
    uint8_t bytes[FT_MEM_MAX];
    ft_buf rec = { bytes, sizeof bytes, 0 };

    ft_trace_put_alloc(&rec, dt_now(ts), (uint64_t)(uintptr_t)p, (uint64_t)size);
    put(ts, &rec);
}

static void note_free(ft_tstate *ts, void *p)
{
    uint8_t bytes[FT_MEM_MAX];
    ft_buf rec = { bytes, sizeof bytes, 0 };

    ft_trace_put_free(&rec, dt_now(ts), (uint64_t)(uintptr_t)p);
    put(ts, &rec);
}

static void *w_malloc(void *ctx, size_t size)
{
    domain *d = ctx;
    void *p = d->theirs.malloc(d->theirs.ctx, size);
    ft_tstate *ts;

    if (p && (ts = target()))
        note_alloc(ts, p, size);
    return p;
}

static void *w_calloc(void *ctx, size_t nelem, size_t elsize)
{
    domain *d = ctx;
    void *p = d->theirs.calloc(d->theirs.ctx, nelem, elsize);
    ft_tstate *ts;

    /* The product cannot overflow once the allocation succeeded. */
    if (p && (ts = target()))
        note_alloc(ts, p, nelem * elsize);
    return p;
}

static void *w_realloc(void *ctx, void *old, size_t size)
{
    domain *d = ctx;
    void *p = d->theirs.realloc(d->theirs.ctx, old, size);
    ft_tstate *ts;

    if (p && (ts = target())) {
        if (old)
            note_free(ts, old);
        note_alloc(ts, p, size);
    }
    return p;
}

static void w_free(void *ctx, void *p)
{
    domain *d = ctx;
    ft_tstate *ts;

    if (p && (ts = target()))
        note_free(ts, p);
    d->theirs.free(d->theirs.ctx, p);
}

int ft_memory_start(void)
{
    for (size_t i = 0; i < sizeof domains / sizeof domains[0]; i++) {
        domain *d = &domains[i];
        if (d->chained)
            continue;
        PyMem_GetAllocator(d->id, &d->theirs);
        d->ours.ctx = d;
        d->ours.malloc = w_malloc;
        d->ours.calloc = w_calloc;
        d->ours.realloc = w_realloc;
        d->ours.free = w_free;
        PyMem_SetAllocator(d->id, &d->ours);
        d->chained = 1;
    }
    recording = 1;
    return 0;
}

void ft_memory_stop(void)
{
    recording = 0;
    for (size_t i = 0; i < sizeof domains / sizeof domains[0]; i++) {
        domain *d = &domains[i];
        PyMemAllocatorEx cur;
        if (!d->chained)
            continue;
        PyMem_GetAllocator(d->id, &cur);
        /* Someone wrapped ours since: leave the chain as it is, ours pass through. */
        if (cur.ctx != d || cur.malloc != w_malloc)
            continue;
        PyMem_SetAllocator(d->id, &d->theirs);
        d->chained = 0;
    }
}

uint64_t ft_memory_dropped(void)
{
    return dropped;
}
