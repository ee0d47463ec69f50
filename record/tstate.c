/* tstate.c — per-thread buffers: attaching a thread, the slow path of a full buffer, thread
 * names, and writing every buffer at the end (see tstate.h). */
#include "tstate.h"

#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pyhelp.h"
#include "writer.h"

/* A thread whose Thread object is not known yet (on 3.12+ a new thread's first events come
 * before threading registers it in threading._active, and a short thread may be registered
 * for only a few dozen events) retries the lookup at each of its first NAME_TRIES events:
 * ~100 ns each, at thread start only. Threads that threading never hears of stop paying. */
#define NAME_TRIES 256
#define SENTINEL_NAME "functiontrace.thread"
#define MAIN_THREAD_NAME "MainThread"

__thread ft_tls_slot ft_tls __attribute__((tls_model("initial-exec")));
__thread int ft_mem_busy __attribute__((tls_model("initial-exec")));

static ft_tstate *registry;
static size_t buffer_size = FT_DEFAULT_BUFFER_SIZE;

void ft_tstate_set_buffer_size(size_t size)
{
    buffer_size = size;
}

/* Thread names come from the thread's threading.Thread object, read without running
 * Python code: threading._active[ident] by dictionary lookups, then the instance attribute
 * _name, and only when the class defines nothing called _name (a property there would run
 * code). The object is kept once found, because by the time a thread's last chunk is written
 * (its thread state being cleared) threading has already dropped it from _active, and a
 * thread renamed late should still show its new name. Failures keep the cached name. */
static void find_thread(ft_tstate *ts)
{
    ft_modstate *st = ft_g.st;
    PyObject *mods, *threading, *active, *key, *th;

    if (ts->thread || !st)
        return;
    mods = PyImport_GetModuleDict();
    if (!mods || !PyDict_Check(mods))
        return;
    threading = PyDict_GetItemWithError(mods, st->s_threading);
    if (!threading || !PyModule_Check(threading))
        return;
    active = PyDict_GetItemWithError(PyModule_GetDict(threading), st->s_active);
    if (!active || !PyDict_Check(active))
        return;
    key = PyLong_FromUnsignedLong(ts->ident);
    if (!key)
        return;
    th = PyDict_GetItemWithError(active, key);
    Py_DECREF(key);
    if (th) {
        Py_INCREF(th);
        ts->thread = th;
        ts->name_tries = 0;
    }
}

static void read_name(ft_tstate *ts)
{
    PyObject *name, *keep = NULL;
    const char *p;
    Py_ssize_t n;

    if (!ts->thread || !ft_g.st || _PyType_Lookup(Py_TYPE(ts->thread), ft_g.st->s_name))
        return;
    name = PyObject_GenericGetAttr(ts->thread, ft_g.st->s_name);
    if (name && PyUnicode_Check(name)) {
        p = ft_py_utf8(name, &n, &keep);
        ts->name_len = ft_utf8_copy(ts->name, FT_THREAD_NAME_MAX, p, (size_t)n);
    }
    Py_XDECREF(keep);
    Py_XDECREF(name);
}

/* find: also look the Thread object up if it is not known yet (not while the thread is
 * ending: threading has forgotten it by then, and a lookup by ident could find a new thread
 * that reuses the ident). */
static void update_name(ft_tstate *ts, int find)
{
    ft_exc_state exc;

    ft_exc_save(&exc);
    if (find)
        find_thread(ts);
    read_name(ts);
    ft_exc_restore(&exc);
}

/* Where the parts of a buffer of ts->cap lie: [CHUNK room][EVENTS head][ops, cap][room for
 * the dts' head][dts, cap][records, cap]. flush() closes the gaps between them. */
static inline uint8_t *dts_start(const ft_tstate *ts)
{
    return ft_tstate_ops(ts) + ts->cap + FT_DTS_HEAD;
}

static inline uint8_t *recs_start(const ft_tstate *ts)
{
    return dts_start(ts) + ts->cap;
}

static inline size_t buffer_bytes(size_t cap)
{
    return FT_CHUNK_HEAD + FT_EVENTS_HEAD + cap + FT_DTS_HEAD + 2 * cap;
}

/* Events that surely fit before the chunk must end: an op and a dt of the largest size
 * each, and no more than cap / 2 (buffer_size / 4) entries in all. */
static uint32_t room(const ft_tstate *ts)
{
    size_t ops = (size_t)(ft_tstate_ops(ts) + ts->cap - ts->op_at) / FT_OP_MAX;
    size_t dts = (size_t)(dts_start(ts) + ts->cap - ts->dt_at) / FT_VARINT_MAX;
    size_t max = ts->cap / 2, left = ts->n < max ? max - ts->n : 0;

    if (dts < ops)
        ops = dts;
    return (uint32_t)(left < ops ? left : ops);
}

/* While the thread's name is looked for, the next event takes the slow path (which looks
 * it up): a limit at the current count, so that a marker or memory record put in between
 * (put_record) does not let that event through on the fast path. Threads that allocate
 * between every two calls would otherwise never be looked up again. */
static void set_limit(ft_tstate *ts)
{
    if (ts->muted || ts->exc_hold || !ts->base) {
        ts->limit = 0;
        return;
    }
    ts->limit = ts->name_tries > 0 ? ts->n : ts->n + room(ts);
}

/* An empty chunk in the buffer at base (or none). */
static void start_chunk(ft_tstate *ts)
{
    ts->n = 0;
    ts->nrec = 0;
    ts->nmem = 0;
    ts->rec_len = 0;
    ts->t0 = ts->last_ns;
    if (ts->base) {
        ts->op_at = ft_tstate_ops(ts);
        ts->dt_at = dts_start(ts);
    } else {
        ts->op_at = ts->dt_at = NULL;
        ts->cap = 0;
    }
    ts->limit = 0;
}

static void forget_buffer(ft_tstate *ts)
{
    ts->base = NULL;
    start_chunk(ts);
}

static void free_buffer(ft_tstate *ts)
{
    free(ts->base);
    forget_buffer(ts);
}

/* Close the gaps of the buffer: the EVENTS record [21, ops, dts] followed by the records
 * its placeholders stand for, from base + FT_CHUNK_HEAD on, in one run. Its length. */
static size_t pack_chunk(ft_tstate *ts)
{
    uint8_t *ops = ft_tstate_ops(ts), *p = ops - FT_EVENTS_HEAD;
    size_t ops_len = (size_t)(ts->op_at - ops);
    size_t dts_len = (size_t)(ts->dt_at - dts_start(ts));
    uint8_t *q = ts->op_at;

    p[0] = 0x93;
    p[1] = FT_REC_EVENTS;
    ft_mp_bin32_head(p + 2, (uint32_t)ops_len);
    ft_mp_bin32_head(q, (uint32_t)dts_len);
    memmove(q + FT_DTS_HEAD, dts_start(ts), dts_len);
    memmove(q + FT_DTS_HEAD + dts_len, recs_start(ts), ts->rec_len);
    return FT_EVENTS_HEAD + ops_len + FT_DTS_HEAD + dts_len + ts->rec_len;
}

/* Hand the buffer's chunk to the writer, which takes the buffer over. find: see
 * update_name. keep: the thread goes on recording; it gets a buffer back (a spare one, or
 * none: make_room allocates), else it is left without one. */
static void flush(ft_tstate *ts, int find, int keep)
{
    uint8_t *next;
    size_t len, cap = ts->cap;

    if (!ts->base || ts->n == 0)
        return;
    update_name(ts, find);
    len = pack_chunk(ts);
    next = ft_writer_put_chunk(ts->base, buffer_bytes(cap), FT_CHUNK_HEAD, len,
                               ts->n - ts->nrec, ts->nmem, ts->tid, ts->seq, ts->t0,
                               ts->name, ts->name_len, keep);
    ts->seq++;
    ts->base = next;
    ts->cap = next ? cap : 0;
    start_chunk(ts);
}

/* Runs when the thread-state dict holding it is cleared: the thread is ending (or a native
 * thread released its last PyGILState). Its events go out now, while the GIL is held. The
 * context is the session generation: a capsule left over from an earlier recording (or one
 * not yet armed) does nothing. */
static void sentinel_destructor(PyObject *cap)
{
    ft_exc_state exc;
    ft_tstate *ts;

    ft_exc_save(&exc);
    ts = PyCapsule_GetPointer(cap, SENTINEL_NAME);
    if (ts && ft_g.active && (uintptr_t)PyCapsule_GetContext(cap) == ft_g.gen) {
        ft_mem_busy++;
        flush(ts, 0, 0);
        free_buffer(ts);
        Py_CLEAR(ts->thread);
        ts->need_sentinel = 1;
        ft_mem_busy--;
    }
    ft_exc_restore(&exc);
}

static void install_sentinel(ft_tstate *ts)
{
    PyObject *d, *cap;
    ft_exc_state exc;

    ft_exc_save(&exc);
    d = PyThreadState_GetDict();
    cap = d ? PyCapsule_New(ts, SENTINEL_NAME, sentinel_destructor) : NULL;
    /* Armed (context set) only once stored: a capsule that dies on a failed insert must
     * not free the buffer just allocated. */
    if (cap && PyDict_SetItem(d, ft_g.st->s_sentinel, cap) == 0 &&
        PyCapsule_SetContext(cap, (void *)(uintptr_t)ft_g.gen) == 0)
        ts->need_sentinel = 0;
    Py_XDECREF(cap);
    ft_exc_restore(&exc);
}

static int alloc_buffer(ft_tstate *ts)
{
    size_t cap = buffer_size / 2;

    ts->base = malloc(buffer_bytes(cap));
    if (!ts->base)
        return -1;
    ts->cap = cap;
    start_chunk(ts);
    if (ts->need_sentinel && ft_g.st)
        install_sentinel(ts);
    return 0;
}

static ft_tstate *attach(void);

ft_tstate *ft_tstate_attach(void)
{
    ft_tstate *ts;

    ft_mem_busy++;
    ts = attach();
    ft_mem_busy--;
    return ts;
}

static ft_tstate *attach(void)
{
    ft_tstate *ts = calloc(1, sizeof *ts);

    if (!ts) {
        ft_writer_drop(1);
        return NULL;
    }
    ts->tid = (uint64_t)syscall(SYS_gettid);
    ts->ident = PyThread_get_thread_ident();
    ts->name_tries = NAME_TRIES;
    ts->need_sentinel = 1;
    ts->last_ns = ts->t0 = ft_clock_now();
    /* The process's first thread (tid == pid on Linux; in a fork child, the thread that
     * forked) is the interpreter's main thread: named so even when threading is never
     * imported (a short child process). threading's own name wins once it is found. */
    if (ts->tid == (uint64_t)getpid()) {
        memcpy(ts->name, MAIN_THREAD_NAME, sizeof MAIN_THREAD_NAME - 1);
        ts->name_len = sizeof MAIN_THREAD_NAME - 1;
    }
    update_name(ts, 1);
    ts->next = registry;
    registry = ts;
    ft_tls.ts = ts;
    ft_tls.gen = ft_g.gen;
    return ts;
}

static int make_room(ft_tstate *ts);

int ft_tstate_make_room(ft_tstate *ts)
{
    int rc;

    ft_mem_busy++;
    rc = make_room(ts);
    ft_mem_busy--;
    return rc;
}

static int make_room(ft_tstate *ts)
{
    if (FT_UNLIKELY(ts->muted))
        return -1;
    if (ts->base) {
        if (ts->name_tries > 0) {
            ts->name_tries--;
            update_name(ts, 1);
        }
        if (room(ts) == 0)
            flush(ts, 1, 1);
    }
    if (!ts->base && alloc_buffer(ts)) {
        ft_writer_drop(1);
        return -1;
    }
    set_limit(ts);
    return 0;
}

/* The record goes to the records part, its placeholder to the ops (FORMAT.md §4.4.1). */
int ft_tstate_put_record(ft_tstate *ts, const uint8_t *rec, size_t n)
{
    if (!ts->base || n > ts->cap - ts->rec_len || room(ts) == 0) {
        int failed;
        ft_mem_busy++;
        if (ts->base)
            flush(ts, 1, 1);
        failed = !ts->base && alloc_buffer(ts);
        ft_mem_busy--;
        if (failed)
            return -1;
    }
    if (n > ts->cap - ts->rec_len) {
        set_limit(ts);
        return -1;
    }
    memcpy(recs_start(ts) + ts->rec_len, rec, n);
    ts->rec_len += n;
    *ts->op_at++ = FT_OP_RECORD;
    ts->n++;
    ts->nrec++;
    /* The next event takes the slow path if this left no room for it. */
    set_limit(ts);
    return 0;
}

void ft_tstate_mute(ft_tstate *ts, int on)
{
    ts->muted = on;
    set_limit(ts);     /* without a buffer: 0, and make_room allocates one */
}

void ft_tstate_hold(ft_tstate *ts, int on)
{
    ts->exc_hold = on;
    set_limit(ts);     /* without a buffer: 0, and make_room allocates one */
}

void ft_tstate_flush_all(void)
{
    ft_mem_busy++;
    for (ft_tstate *ts = registry; ts; ts = ts->next)
        flush(ts, 1, 1);
    ft_writer_flush_defs();
    ft_mem_busy--;
}

void ft_tstate_free_all(void)
{
    ft_tstate *ts = registry, *next;

    for (; ts; ts = next) {
        next = ts->next;
        Py_XDECREF(ts->thread);
        Py_XDECREF(ts->exc_where);
        Py_XDECREF(ts->exc_name);
        Py_XDECREF(ts->exc_qual);
        Py_XDECREF(ts->exc_msg);
        free(ts->base);
        free(ts);
    }
    registry = NULL;
}
