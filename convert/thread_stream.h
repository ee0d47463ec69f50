/* thread_stream.h — one thread's events turned into call stacks and samples.
 *
 * The reader (proc.c) feeds a thread its chunks in file order, which FORMAT.md guarantees
 * is seq order; the stream keeps the live call stack across chunks, interns every stack it
 * reaches (stacks.h) and records one sample per stack change: its time and the stack after
 * the event. That is all the Firefox sink needs, and it is smaller than the JSON it becomes
 * (12 bytes a sample against ~25), which is how the converter's memory stays bounded by its
 * output.
 *
 * Stack rules (FORMAT.md §4.4): CALL and RESUME push; RETURN, UNWIND and YIELD pop. A pop
 * whose function is not on top pops up to and including the nearest frame of that
 * function, and is ignored (no sample) if there is none: tracing may start inside frames
 * that are already running. ft_tstream_finish closes frames still open at the end.
 *
 * Times are the trace's absolute clock nanoseconds; converting them to the profile's time
 * base is the sink's business. Within a thread time never decreases: a chunk or event
 * that would go back in time is clamped to the thread's latest time and counted. */
#ifndef FT_THREAD_STREAM_H
#define FT_THREAD_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "allocs.h"
#include "ft_status.h"
#include "ft_trace.h"
#include "markers.h"
#include "stacks.h"

#define FT_TSTREAM_NO_NAME UINT32_MAX
/* Function id used for fids that do not fit 32 bits (only corrupt input has them). */
#define FT_FID_BAD UINT32_MAX

typedef struct ft_live_frame {
    uint32_t fid;
    uint32_t stack;   /* the stack with this frame on top */
} ft_live_frame;

typedef struct ft_tstream {
    uint64_t tid;
    uint32_t name;          /* latest non-empty thread name (strpool id), or NO_NAME */
    uint32_t order;         /* position among the file's threads, by first chunk */
    int started;            /* a chunk has been seen */
    uint64_t next_seq;      /* seq the next chunk should have */
    uint64_t t;             /* clock time of the last event read (before clamping) */
    uint64_t now;           /* latest time of the thread (after clamping) */
    uint64_t first_t;       /* time of the first event */

    ft_live_frame *live;    /* live call stack, bottom first */
    uint32_t depth, live_cap;
    ft_stacks stacks;

    uint64_t *sample_time;  /* clock ns */
    uint32_t *sample_stack; /* FT_STACK_NONE: empty stack */
    size_t nsamples, samples_cap;

    ft_marker_list markers; /* MARKER and INTERVAL records (FORMAT.md §4.6) */
    ft_alloc_list allocs;   /* ALLOC and FREE records (FORMAT.md §4.7) */

    uint64_t events;        /* event records read */
    uint64_t ignored_pops;  /* pops of a function not on the stack */
    uint64_t clamped;       /* events whose time went backwards */
} ft_tstream;

void ft_tstream_init(ft_tstream *ts, uint64_t tid, uint32_t order);
void ft_tstream_fini(ft_tstream *ts);

typedef enum ft_chunk_order {
    FT_CHUNK_IN_ORDER,     /* seq is the expected one */
    FT_CHUNK_GAP,          /* seq is later: chunks were lost */
    FT_CHUNK_BACKWARDS,    /* seq is earlier: a duplicate or a misplaced chunk */
} ft_chunk_order;

/* A chunk of this thread begins at clock time t0. Returns how seq relates to the previous
 * chunk's (to 0 for the first chunk), for the caller to report; the chunk is taken either way (its events are real,
 * and the pop rule copes with a stack that lost events). */
ft_chunk_order ft_tstream_begin_chunk(ft_tstream *ts, uint64_t seq, uint64_t t0);

/* Slow path of ft_tstream_event. */
ft_status ft_tstream_push(ft_tstream *ts, uint64_t t, uint32_t fid);
ft_status ft_tstream_pop(ft_tstream *ts, uint64_t t, uint32_t fid);

/* One event record of the current chunk: type is an event type (ft_rec_is_event), dt the
 * nanoseconds since the previous event of the chunk. FT_ENOMEM is the only error. */
static inline ft_status ft_tstream_event(ft_tstream *ts, int type, uint64_t dt, uint64_t fid)
{
    uint64_t t = ts->t + dt;
    uint32_t f = fid < FT_FID_BAD ? (uint32_t)fid : FT_FID_BAD;

    if (t < ts->t)           /* corrupt dt: saturate rather than wrap */
        t = UINT64_MAX;
    ts->t = t;
    ts->events++;
    if (t < ts->now) {
        t = ts->now;
        ts->clamped++;
    } else {
        ts->now = t;
    }
    return ft_rec_is_push(type) ? ft_tstream_push(ts, t, f) : ft_tstream_pop(ts, t, f);
}

/* An ALLOC (is_free 0) or FREE record of the current chunk, dt after the last event: kept
 * with the stack the thread has now, at a time never before the thread's latest. FT_ENOMEM. */
static inline ft_status ft_tstream_memory(ft_tstream *ts, uint64_t dt, uint64_t addr,
                                          uint64_t size, int is_free)
{
    uint64_t t = ts->t + dt;

    if (t < ts->t)
        t = UINT64_MAX;
    if (t < ts->now)
        t = ts->now;
    return ft_allocs_add(&ts->allocs, t,
                         ts->depth ? ts->live[ts->depth - 1].stack : FT_STACK_NONE, addr,
                         size, is_free);
}

/* The thread ends at clock time end (or at its last event, if that is later): frames still
 * open are closed there by a final empty-stack sample. Idempotent. FT_ENOMEM. */
ft_status ft_tstream_finish(ft_tstream *ts, uint64_t end);

#endif
