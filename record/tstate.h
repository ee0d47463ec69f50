/* tstate.h — per-thread event buffers and the registry of them.
 *
 * Each OS thread that produces an event gets an ft_tstate on its first event, found again
 * through a thread-local pointer (tagged with the session generation so that states freed by
 * stop() are never touched). Events are encoded straight into the thread's own buffer: no
 * lock, no allocation, no Python call. When the buffer is nearly full the slow path turns it
 * into one chunk (writer.h) and starts over.
 *
 * Life of a buffer: allocated lazily by the slow path; written and freed when the thread's
 * Python thread state is cleared (a capsule in the thread-state dict whose destructor runs
 * in PyThreadState_Clear, with the GIL held, on every thread end); otherwise written by
 * flush()/stop(). The ft_tstate itself (tid, chunk sequence number, cached name) stays in the
 * registry until stop(), so that a thread that gets a new Python thread state later
 * (PyGILState_Ensure from a native thread) continues its sequence of chunks.
 *
 * All of it runs with the GIL held. */
#ifndef FT_TSTATE_H
#define FT_TSTATE_H

#include "session.h"
#include "clock.h"
#include "ft_trace.h"
#include "ft_events.h"

/* A thread's buffer (buffer_size bytes, FT_DEFAULT_BUFFER_SIZE by default) is the room for
 * one chunk's EVENTS record (FORMAT.md §4.4.1): its ops and dts streams get half of it
 * each, and the chunk's other records (markers, memory records) another half beside them.
 * A chunk ends when either stream may not hold one more event, or at buffer_size / 4
 * entries: so it keeps at most that many events, as when an event record took 4 bytes or
 * more (what a killed process may lose per thread). 64–256 KiB compress alike; 128 KiB
 * keeps a chunk in L2 while it is compressed. */
#define FT_DEFAULT_BUFFER_SIZE (128u << 10)

/* Room kept before the events for the CHUNK record (writer.h), thread name included. */
#define FT_THREAD_NAME_MAX 192
#define FT_CHUNK_HEAD 256
/* The EVENTS record's head before the ops (fixarray, type, bin 32 head), and the dts'
 * bin 32 head after them. */
#define FT_EVENTS_HEAD 7
#define FT_DTS_HEAD 5

typedef struct ft_tstate {
    /* The hot path's fields first. */
    uint8_t *op_at;             /* where the next op goes (ops stream) */
    uint8_t *dt_at;             /* where the next dt goes (dts stream) */
    uint32_t n;                 /* entries (events and placeholders) in the chunk */
    uint32_t limit;             /* the hot path takes the slow path once n >= limit */
    uint64_t last_ns;           /* time of the previous event: the next event's dt base */
    uint8_t *base;              /* NULL when the thread has no buffer */
    size_t cap;                 /* bytes of each stream and of the records part */
    size_t rec_len;             /* bytes of records (markers, memory) in the chunk */
    uint32_t nrec;              /* those records: the placeholders among the n entries */
    uint64_t t0;                /* the current chunk's t0 */
    uint64_t nmem;              /* memory records in it (memory.h) */
    uint64_t tid;               /* gettid() */
    unsigned long ident;        /* threading.get_ident(), to look the thread's name up */
    uint64_t seq;               /* next chunk's sequence number */
    PyObject *thread;           /* its threading.Thread once found (strong; released when
                                   the thread ends or at stop), to read its current name */
    int name_tries;             /* lookups left while the Thread object is unknown */
    int need_sentinel;          /* install the end-of-thread capsule with the next buffer */
    int muted;                  /* events dropped, uncounted, while the recorder itself runs
                                   Python code in this thread (ft_tstate_mute) */
    int exc_hold;               /* every event takes the slow path (limit 0) while an
                                   exception is in flight (exctrack.h, ft_tstate_hold) */
    /* The exception unwinding this thread's frames, before 3.12 (exctrack.h). */
    uintptr_t exc_id;           /* its value's address: identity only, never dereferenced */
    uint64_t exc_raise_ns;      /* time of its raise marker while that waits for the
                                   exception itself (profile hook), else 0 */
    int exc_tb_len;             /* traceback entries it has when it was just raised, where
                                   the profile hook's trace function first sees it */
    PyObject *exc_where;        /* where it was raised (str), for that marker */
    PyObject *exc_name, *exc_qual, *exc_msg;   /* its marker fields, once known */
    size_t name_len;
    char name[FT_THREAD_NAME_MAX];
    struct ft_tstate *next;     /* registry */
} ft_tstate;

/* The thread-local pointer, valid when gen matches ft_g.gen. One struct so that the hot
 * path computes one thread-local address. initial-exec: a few bytes of static TLS instead of
 * a __tls_get_addr call per event. */
typedef struct ft_tls_slot {
    ft_tstate *ts;
    uint32_t gen;
    int exc_flying;             /* an exception is unwinding frames (exctrack.h); whatever
                                   the generation: a stale one is cleared by the next event */
} ft_tls_slot;

extern __thread ft_tls_slot ft_tls __attribute__((tls_model("initial-exec")));

/* Nonzero while this thread runs a slow path of the recorder (a chunk written, a buffer
 * allocated, a function interned): the allocations made meanwhile are the recorder's own,
 * which memory tracing (memory.h) must neither record nor re-enter the buffer for. */
extern __thread int ft_mem_busy __attribute__((tls_model("initial-exec")));

/* Slow paths. attach: create the calling thread's state (NULL when out of memory).
 * make_room: give ts room for one event, writing a full chunk or allocating the buffer;
 * -1 when the event must be dropped (it is counted). */
ft_tstate *ft_tstate_attach(void);
int ft_tstate_make_room(ft_tstate *ts);

/* Append one whole non-event record (a marker, FORMAT.md §4.6: its time is relative to
 * last_ns, which it leaves alone) to ts's chunk, writing the chunk first if the record
 * does not fit in what is left of it. -1 when it cannot be buffered (no memory, or larger
 * than a whole buffer): the record is dropped. */
int ft_tstate_put_record(ft_tstate *ts, const uint8_t *rec, size_t n);

/* Mute (on) or unmute ts: while muted its events are dropped without being counted and
 * markers are not recorded, for Python code the recorder runs itself (str() of an exception)
 * under a hook that would otherwise record it as the program's. The hot path pays nothing:
 * a muted thread's limit sends every event to the slow path. */
void ft_tstate_mute(ft_tstate *ts, int on);

/* Hold (on) ts's limit at 0: every event takes the slow path, where a backend that checks
 * the limit first meets the end of an exception's flight (backend_evalframe.c) at no cost
 * to the other events. Events are recorded as usual. */
void ft_tstate_hold(ft_tstate *ts, int on);

/* Write every thread's buffered events as chunks (GIL held, no hook running). */
void ft_tstate_flush_all(void);
/* Free every state of the registry (after flush_all, or without writing in a fork child). */
void ft_tstate_free_all(void);
/* Buffer capacity of threads attached from now on (bytes, events part). */
void ft_tstate_set_buffer_size(size_t size);

static inline ft_tstate *ft_tstate_current(void)
{
    if (FT_LIKELY(ft_tls.gen == ft_g.gen))
        return ft_tls.ts;
    return ft_tstate_attach();
}

/* The chunk's streams (tstate.c lays the buffer out). */
static inline uint8_t *ft_tstate_ops(const ft_tstate *ts)
{
    return ts->base + FT_CHUNK_HEAD + FT_EVENTS_HEAD;
}

/* Every event takes the slow path now (a full chunk, no buffer, a hold, a mute). */
static inline int ft_tstate_full(const ft_tstate *ts)
{
    return ts->n >= ts->limit;
}

/* Record one event at time now: its op and its dt appended to the chunk's two streams
 * (FORMAT.md §4.4.1). The clock of a push is re-read after a slow path, so that writing a
 * chunk is charged to the caller rather than to the function being entered. A time before
 * the previous event's (ft_clock_fast re-anchored in between: clock.h) is taken as the
 * previous event's, as FORMAT.md wants times that never decrease within a thread. */
static inline __attribute__((always_inline)) void
ft_tstate_put(ft_tstate *ts, int type, uint32_t fid, uint64_t now)
{
    if (FT_UNLIKELY(ft_tstate_full(ts))) {
        if (ft_tstate_make_room(ts))
            return;
        if (ft_rec_is_push(type))
            now = ft_clock_fast();
    }
    if (FT_UNLIKELY(now < ts->last_ns))
        now = ts->last_ns;
    ts->op_at += ft_varint_put(ts->op_at, ((uint64_t)fid << FT_OP_SHIFT) |
                                          (uint64_t)(type - FT_OP_EVENT_BASE));
    ts->dt_at += ft_varint_put(ts->dt_at, now - ts->last_ns);
    ts->last_ns = now;
    ts->n++;
}

#endif
