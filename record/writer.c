/* writer.c — frames and writes this process's trace file (see writer.h).
 *
 * One writer per process. Each write() carries whole frames only, so that a reader of a file
 * that was cut (killed process) or truncated back after a failure sees whole frames plus at
 * most one partial frame at the end. The descriptor is opened with O_APPEND: a fork child
 * that inherits it (before it abandons it) cannot overwrite what the parent wrote.
 *
 * The compressor thread (FUNCTIONTRACE_WRITER=thread, or =auto: when the process may use
 * two CPUs or more). None of a chunk's compression needs the traced thread: a full chunk is
 * handed over as a whole buffer, and one thread per process compresses and writes it while
 * the program runs on with a recycled buffer. On a machine with a spare core this takes
 * compression out of the program's wall time; its CPU time stays (the thread is part of the
 * process). It is not the default: since chunks are packed EVENTS records (FORMAT.md 2.0),
 * zstd takes ~4–6 ns an event, and on this project's 2-vCPU VM, whose vCPUs share one
 * core's resources, the thread added ~10 % of CPU time and took nothing off the wall time
 * (make bench, ft-*-thread against ft-*). By default chunks are compressed and written by the
 * thread that filled them, which also bounds what a SIGKILL loses to the chunks being
 * filled.
 *
 * The compressor is only ever given one uncompressed chunk at a time: a chunk that fills up
 * while it is busy is compressed by the thread that filled it (see submit_unlocked), as
 * without the thread, and only its frames are queued (QUEUE_MAX of them at most). So a
 * SIGKILL loses at most two chunks beyond the chunks being filled (the one the compressor
 * is at and one queued), and a busy machine makes the thread no worse than inline
 * compression. Inline (the default, or a single usable CPU under auto), everything stays in
 * the traced threads, so that a full chunk is in the file before its thread records again.
 *
 * Ordering: the queue is FIFO and has one consumer, and each queued chunk carries the
 * definitions pending when it was queued, so definitions still reach the file before any
 * chunk that uses them; a chunk its producer is compressing holds up the chunks behind it.
 * Bounds: at most QUEUE_MAX jobs wait; a thread that finds the queue full waits for room
 * (it holds the GIL, which the compressor never needs), so memory stays at (threads +
 * QUEUE_MAX + FREE_MAX) buffers however fast events come. Points where the file must be
 * complete (flush, the trailer, close, stats) wait until the queue is empty. Without the
 * thread, chunks are compressed and written by the thread that filled them, as the queue's
 * only consumer.
 *
 * Locking: w.lock guards the queue, the pending definitions and the counters. The file and
 * the compressor's context belong to the consumer: the compressor thread while it runs (it
 * compresses and writes without the lock), the lock holder otherwise. */
#define _GNU_SOURCE 1   /* sched_getaffinity, CPU_COUNT */
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "ft_file.h"

/* Above this many bytes of pending definitions (an import-heavy phase), they are queued as
 * a block of their own right away rather than waiting for the next chunk. */
#define DEFS_EAGER_BYTES (64u << 10)
/* Jobs queued and not yet taken by the compressor. One: beside the job it is at, a SIGKILL
 * can then take at most one more (see submit_unlocked). A thread that finds it full waits,
 * which happens only when the compressor gets no CPU for as long as a chunk takes to fill. */
#define QUEUE_MAX 1
/* Spare buffers kept for reuse. */
#define FREE_MAX 8

#define WRITER_ENV "FUNCTIONTRACE_WRITER"

/* One unit of work for the consumer: a block of definitions and/or a chunk. */
typedef struct job {
    struct job *next;
    ft_buf defs;            /* FUNC records pending when the job was queued (may be empty) */
    uint64_t defs_count;
    uint8_t *base;          /* the chunk's buffer (owned), NULL for definitions alone */
    size_t size;            /* its allocated size, for reuse */
    const uint8_t *start;   /* CHUNK record followed by the events */
    size_t n;
    uint64_t nevents;
    int state;              /* JOB_RAW, JOB_PACKING or JOB_READY */
    ft_buf frames;          /* JOB_READY: its compressed frames, ready for one write() */
    int err;                /* JOB_READY: nonzero when compressing failed (errno value) */
    uint64_t nmem;          /* memory records among them (not events) */
} job;

/* Who compresses a queued job: the consumer (RAW), or the producer that queued it, which
 * is at it (PACKING) or done (READY). */
enum { JOB_RAW, JOB_PACKING, JOB_READY };

typedef struct spare {
    struct spare *next;
    size_t size;
} spare;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;    /* the queue got a job, or the thread must stop */
    pthread_cond_t done;    /* the consumer finished a job */
    int fd;                 /* -1 when closed */
    int failed;             /* sticky: nothing more is written but the trailer */
    int level;
    char *path;             /* for the failure message */
    off_t good_size;        /* file size after the last successful write */
    ZSTD_CCtx *cctx;        /* the lock holder's: header and trailer */
    ZSTD_CCtx *jcctx;       /* the consumer's: jobs */
    ZSTD_CCtx *pcctx;       /* producers': jobs they compress themselves (under plock) */
    pthread_mutex_t plock;
    ft_buf defs;            /* FUNC records not yet queued */
    uint64_t defs_count;
    ft_buf out;             /* the frames of one job's write() */
    ft_buf scratch;         /* one CHUNK record */
    job *head, *tail;       /* the queue */
    unsigned queued;
    int busy;               /* the compressor thread is working on a job it took */
    int want_thread;        /* start the thread with the next job (lazily: a process that
                               never fills a chunk never has one) */
    int thread_on, stopping;
    pthread_t thread;
    spare *spares;
    unsigned nspares;
    ft_writer_stats stats;
} w = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .plock = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .fd = -1,
};

static int write_loop(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            errno = EIO;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* write_loop, with SIGXFSZ kept from the program. A write past RLIMIT_FSIZE raises SIGXFSZ
 * in the writing thread; CPython ignores it, but a program that restored its default action
 * would be killed by our write, where untraced it never reached the limit. So it is blocked
 * for the write, and if the write failed with EFBIG and the signal was not already pending
 * (the program's own), the one it raised is taken off again. Two sigprocmask calls a chunk.
 * (The compressor thread blocks every signal anyway.) */
static int write_all(int fd, const uint8_t *p, size_t n)
{
    sigset_t xfsz, old, pending;
    int was_pending, rc, err;

    sigemptyset(&xfsz);
    sigaddset(&xfsz, SIGXFSZ);
    pthread_sigmask(SIG_BLOCK, &xfsz, &old);
    was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGXFSZ) == 1;
    rc = write_loop(fd, p, n);
    err = errno;
    if (rc && err == EFBIG && !was_pending) {
        const struct timespec zero = { 0, 0 };
        (void)sigtimedwait(&xfsz, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return rc;
}

/* The one message of a failed trace. The partial frame, if any, is cut off so that the file
 * stays readable to its end and the trailer can still follow it. */
static void fail_unlocked(const char *what, int err)
{
    if (w.failed)
        return;
    w.failed = 1;
    w.stats.failed = 1;
    if (w.fd >= 0)
        (void)!ftruncate(w.fd, w.good_size);
    fprintf(stderr, "functiontrace: %s %s: %s; recording stopped, later events are dropped\n",
            what, w.path ? w.path : "trace", strerror(err));
}

/* ---- buffers ---- */

static void recycle_unlocked(uint8_t *base, size_t size)
{
    spare *s = (spare *)(void *)base;

    if (!base)
        return;
    if (w.nspares >= FREE_MAX || size < sizeof *s) {
        free(base);
        return;
    }
    s->size = size;
    s->next = w.spares;
    w.spares = s;
    w.nspares++;
}

static uint8_t *take_spare_unlocked(size_t size)
{
    for (spare **p = &w.spares; *p; p = &(*p)->next) {
        spare *s = *p;
        if (s->size == size) {
            *p = s->next;
            w.nspares--;
            return (uint8_t *)s;
        }
    }
    return NULL;
}

static void free_spares_unlocked(void)
{
    while (w.spares) {
        spare *s = w.spares;
        w.spares = s->next;
        free(s);
    }
    w.nspares = 0;
}

/* ---- jobs ---- */

static void free_job(job *j)
{
    ft_buf_fini(&j->defs);
    ft_buf_fini(&j->frames);
    free(j->base);
    free(j);
}

/* Compress job j, its definitions then its chunk, into out with cctx. 0 or an errno
 * value. */
static int pack_job(const job *j, ZSTD_CCtx *cctx, ft_buf *out)
{
    ft_status st = FT_OK;

    out->len = 0;
    if (j->defs.len)
        st = ft_frame_compress(cctx, w.level, j->defs.ptr, j->defs.len, out);
    if (!st && j->base)
        st = ft_frame_compress(cctx, w.level, j->start, j->n, out);
    if (st)
        return st == FT_ENOMEM ? ENOMEM : EIO;
    return 0;
}

/* Write job j's frames in one write(), compressing them first unless a producer did.
 * Consumer only; touches no shared state but the file and good_size (consumer's). Returns
 * 0, or an errno value with *what saying which step failed. */
static int run_job(job *j, const char **what)
{
    ft_buf *out = &j->frames;
    int err;

    if (j->state == JOB_RAW) {
        out = &w.out;
        err = pack_job(j, w.jcctx, out);
    } else {
        err = j->err;
    }
    if (err) {
        *what = "cannot compress a frame of";
        return err;
    }
    if (write_all(w.fd, out->ptr, out->len)) {
        *what = "cannot write";
        return errno ? errno : EIO;
    }
    w.good_size += (off_t)out->len;
    return 0;
}

/* Count job j's outcome and give its buffer back. */
static void finish_job_unlocked(job *j, int err, const char *what)
{
    if (err)
        fail_unlocked(what, err);
    if (err || w.failed) {
        w.stats.dropped_events += j->nevents;
    } else {
        w.stats.functions += j->defs_count;
        if (j->base) {
            w.stats.events += j->nevents;
            w.stats.memory_records += j->nmem;
            w.stats.chunks++;
        }
    }
    recycle_unlocked(j->base, j->size);
    j->base = NULL;
    free_job(j);
}

/* Consumer without the thread: run j now, lock held. */
static void run_inline_unlocked(job *j)
{
    const char *what = NULL;
    int err = w.failed ? 0 : run_job(j, &what);
    finish_job_unlocked(j, err, what);
}

static void *compressor_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&w.lock);
    for (;;) {
        job *j;
        const char *what = NULL;
        int err = 0;

        while ((!w.head && !w.stopping) || (w.head && w.head->state == JOB_PACKING))
            pthread_cond_wait(&w.work, &w.lock);
        if (!w.head)
            break;
        j = w.head;
        w.head = j->next;
        if (!w.head)
            w.tail = NULL;
        w.queued--;
        w.busy = 1;
        if (!w.failed) {
            pthread_mutex_unlock(&w.lock);
            err = run_job(j, &what);
            pthread_mutex_lock(&w.lock);
        }
        finish_job_unlocked(j, err, what);
        w.busy = 0;
        pthread_cond_broadcast(&w.done);
    }
    pthread_mutex_unlock(&w.lock);
    return NULL;
}

/* Wait until every queued job is written. */
static void drain_unlocked(void)
{
    while (w.thread_on && (w.head || w.busy))
        pthread_cond_wait(&w.done, &w.lock);
}

/* Whether to compress in a thread of our own: FUNCTIONTRACE_WRITER=thread, or =auto when
 * the process may run on two CPUs or more (with one, the thread would only take turns with
 * the program); by default (or =inline) not. */
static int thread_allowed(void)
{
    const char *v = getenv(WRITER_ENV);
    cpu_set_t set;

    if (v && strcmp(v, "thread") == 0)
        return 1;
    if (!v || strcmp(v, "auto") != 0)
        return 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    return CPU_COUNT(&set) >= 2;
}

/* Start the compressor with every signal blocked: signals are for the program's threads
 * (and a handler of ours must never run in the middle of a write of this one). */
static void start_thread_unlocked(void)
{
    sigset_t all, old;

    w.stopping = 0;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    w.thread_on = pthread_create(&w.thread, NULL, compressor_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!w.thread_on)
        w.want_thread = 0;   /* inline from now on, without retrying at every chunk */
}

/* Drain the queue and end the thread; later jobs run inline. */
static void stop_thread_unlocked(void)
{
    if (!w.thread_on)
        return;
    drain_unlocked();
    w.stopping = 1;
    pthread_cond_broadcast(&w.work);
    pthread_mutex_unlock(&w.lock);
    pthread_join(w.thread, NULL);
    pthread_mutex_lock(&w.lock);
    w.thread_on = 0;
    w.stopping = 0;
}

static void enqueue_unlocked(job *j)
{
    j->next = NULL;
    if (w.tail)
        w.tail->next = j;
    else
        w.head = j;
    w.tail = j;
    w.queued++;
}

/* Queue j (or run it at once without the thread). The compressor takes a chunk only when
 * it is idle: when it is still at an earlier one, the producer compresses its own chunk
 * here (without the queue's lock, so the compressor is not held up) and queues the frames,
 * which the compressor only has to write. So at most one uncompressed chunk is ever
 * waiting on the compressor, which bounds what a SIGKILL can take beyond the open chunks,
 * and a compressor that cannot keep up (a loaded machine) costs what inline compression
 * does, never a wait. Waits for room only when QUEUE_MAX jobs are queued. */
static void submit_unlocked(job *j)
{
    if (!w.thread_on && w.want_thread)
        start_thread_unlocked();
    if (!w.thread_on) {
        run_inline_unlocked(j);
        return;
    }
    while (w.queued >= QUEUE_MAX && w.thread_on)
        pthread_cond_wait(&w.done, &w.lock);
    /* Idle and nothing queued: the chunk is the only uncompressed one it will have. */
    if (!w.busy && !w.head) {
        j->state = JOB_RAW;
        enqueue_unlocked(j);
        pthread_cond_signal(&w.work);
        return;
    }
    j->state = JOB_PACKING;
    enqueue_unlocked(j);
    pthread_mutex_unlock(&w.lock);
    pthread_mutex_lock(&w.plock);
    j->err = pack_job(j, w.pcctx, &j->frames);
    pthread_mutex_unlock(&w.plock);
    pthread_mutex_lock(&w.lock);
    j->state = JOB_READY;
    pthread_cond_broadcast(&w.work);
}

/* A new job carrying the pending definitions (moved, not copied). NULL when out of memory. */
static job *new_job_unlocked(void)
{
    job *j = calloc(1, sizeof *j);

    if (!j)
        return NULL;
    j->defs = w.defs;
    j->defs_count = w.defs_count;
    ft_buf_init(&w.defs);
    w.defs_count = 0;
    return j;
}

/* ---- the writer ---- */

static void reset_unlocked(void)
{
    while (w.head) {
        job *j = w.head;
        w.head = j->next;
        free_job(j);
    }
    w.tail = NULL;
    w.queued = 0;
    w.busy = 0;
    free_spares_unlocked();
    ft_buf_fini(&w.defs);
    ft_buf_fini(&w.out);
    ft_buf_fini(&w.scratch);
    w.defs_count = 0;
    ZSTD_freeCCtx(w.cctx);
    ZSTD_freeCCtx(w.jcctx);
    ZSTD_freeCCtx(w.pcctx);
    w.cctx = w.jcctx = w.pcctx = NULL;
    free(w.path);
    w.path = NULL;
    w.failed = 0;
    w.good_size = 0;
    w.want_thread = 0;
}

int ft_writer_open(const char *path, const ft_header *h, int level)
{
    int rc = -1, err = 0;
    ft_buf hdr;

    ft_buf_init(&hdr);
    pthread_mutex_lock(&w.lock);
    if (w.fd >= 0) {
        err = EBUSY;
        goto out;
    }
    memset(&w.stats, 0, sizeof w.stats);
    ft_buf_init(&w.defs);
    ft_buf_init(&w.out);
    ft_buf_init(&w.scratch);
    w.level = level;
    w.path = strdup(path);
    w.cctx = ZSTD_createCCtx();
    w.jcctx = ZSTD_createCCtx();
    w.pcctx = ZSTD_createCCtx();
    if (!w.path || !w.cctx || !w.jcctx || !w.pcctx) {
        err = ENOMEM;
        goto out;
    }
    if (ft_trace_put_header(&hdr, h) || ft_file_put_signature(&w.out) ||
        ft_frame_compress(w.cctx, level, hdr.ptr, hdr.len, &w.out)) {
        err = ENOMEM;
        goto out;
    }
    w.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (w.fd < 0) {
        err = errno;
        goto out;
    }
    if (write_all(w.fd, w.out.ptr, w.out.len)) {
        err = errno;
        close(w.fd);
        w.fd = -1;
        unlink(path);
        goto out;
    }
    w.good_size = (off_t)w.out.len;
    w.out.len = 0;
    w.want_thread = thread_allowed();
    rc = 0;
out:
    if (rc)
        reset_unlocked();
    pthread_mutex_unlock(&w.lock);
    ft_buf_fini(&hdr);
    if (rc)
        errno = err;
    return rc;
}

/* Queue the pending definitions as a job of their own. */
static void submit_defs_unlocked(void)
{
    job *j;

    if (w.defs.len == 0)
        return;
    j = new_job_unlocked();
    if (!j) {
        fail_unlocked("out of memory for", ENOMEM);
        return;
    }
    submit_unlocked(j);
}

void ft_writer_add_func(uint64_t fid, int kind, const char *name, size_t name_len,
                        const char *module, size_t module_len,
                        const char *file, size_t file_len, uint64_t line)
{
    pthread_mutex_lock(&w.lock);
    if (w.fd < 0 || w.failed)
        goto out;
    if (ft_trace_put_func(&w.defs, fid, kind, name, name_len, module, module_len,
                          file, file_len, line)) {
        fail_unlocked("out of memory for", ENOMEM);
        goto out;
    }
    w.defs_count++;
    if (w.defs.len >= DEFS_EAGER_BYTES)
        submit_defs_unlocked();
out:
    pthread_mutex_unlock(&w.lock);
}

uint8_t *ft_writer_put_chunk(uint8_t *base, size_t size, size_t head, size_t len,
                             uint64_t nevents, uint64_t nmem, uint64_t tid, uint64_t seq,
                             uint64_t t0, const char *name, size_t name_len, int want_buffer)
{
    uint8_t *next = NULL;
    size_t n;
    job *j;

    pthread_mutex_lock(&w.lock);
    if (w.fd < 0 || w.failed) {
        w.stats.dropped_events += nevents;
        goto keep;
    }
    w.scratch.len = 0;
    if (ft_trace_put_chunk(&w.scratch, tid, seq, t0, name, name_len) || w.scratch.len > head ||
        !(j = new_job_unlocked())) {
        fail_unlocked("out of memory for", ENOMEM);
        w.stats.dropped_events += nevents;
        goto keep;
    }
    n = w.scratch.len;
    memcpy(base + head - n, w.scratch.ptr, n);
    j->base = base;
    j->size = size;
    j->start = base + head - n;
    j->n = n + len;
    j->nevents = nevents;
    j->nmem = nmem;
    submit_unlocked(j);
    if (want_buffer)
        next = take_spare_unlocked(size);
    pthread_mutex_unlock(&w.lock);
    return next;
keep:
    /* Nothing was queued: the caller's buffer is reused as it is. */
    if (want_buffer) {
        pthread_mutex_unlock(&w.lock);
        return base;
    }
    recycle_unlocked(base, size);
    pthread_mutex_unlock(&w.lock);
    return NULL;
}

void ft_writer_drop(uint64_t nevents)
{
    pthread_mutex_lock(&w.lock);
    w.stats.dropped_events += nevents;
    pthread_mutex_unlock(&w.lock);
}

void ft_writer_flush_defs(void)
{
    pthread_mutex_lock(&w.lock);
    if (w.fd >= 0 && !w.failed)
        submit_defs_unlocked();
    drain_unlocked();
    pthread_mutex_unlock(&w.lock);
}

/* The trailer of the file as it is now, compressed into *frame. */
static int trailer_frame_unlocked(uint64_t end_ns, const ft_trailer *how, ft_buf *frame)
{
    ft_trailer t;
    ft_buf rec;
    int rc = -1;

    if (how)
        t = *how;
    else
        memset(&t, 0, sizeof t);
    t.end_ns = end_ns;
    t.events = w.stats.events;
    t.chunks = w.stats.chunks;
    t.dropped_events = w.stats.dropped_events;
    t.functions = w.stats.functions;
    t.memory_records = w.stats.memory_records;
    ft_buf_init(&rec);
    if (ft_trace_put_trailer(&rec, &t) == 0 &&
        ft_frame_compress(w.cctx, w.level, rec.ptr, rec.len, frame) == 0)
        rc = 0;
    ft_buf_fini(&rec);
    return rc;
}

void ft_writer_close(uint64_t end_ns, const ft_trailer *how, ft_writer_stats *stats)
{
    pthread_mutex_lock(&w.lock);
    if (w.fd < 0) {
        *stats = w.stats;
        pthread_mutex_unlock(&w.lock);
        return;
    }
    if (!w.failed)
        submit_defs_unlocked();
    stop_thread_unlocked();
    /* After a failure the trailer is still worth one try: the failure may have been
     * transient, and a trailer is the only place the dropped count can be read from. */
    w.out.len = 0;
    if (trailer_frame_unlocked(end_ns, how, &w.out) == 0) {
        if (write_all(w.fd, w.out.ptr, w.out.len) == 0)
            w.good_size += (off_t)w.out.len;
        else if (!w.failed)
            fail_unlocked("cannot write the trailer of", errno);
        else
            (void)!ftruncate(w.fd, w.good_size);
    }
    close(w.fd);
    w.fd = -1;
    *stats = w.stats;
    reset_unlocked();
    pthread_mutex_unlock(&w.lock);
}

int ft_writer_prepare_trailer(uint64_t end_ns, const ft_trailer *how, ft_buf *frame)
{
    int rc = -1;

    pthread_mutex_lock(&w.lock);
    drain_unlocked();
    if (w.fd >= 0 && !w.failed) {
        frame->len = 0;
        rc = trailer_frame_unlocked(end_ns, how, frame);
    }
    pthread_mutex_unlock(&w.lock);
    return rc;
}

void ft_writer_put_frame_signal_safe(const uint8_t *p, size_t n)
{
    int fd = w.fd;

    if (fd >= 0)
        (void)write_loop(fd, p, n);
}

void ft_writer_abandon(void)
{
    /* The parent may have held the lock when it forked (its compressor thread, which does
     * not exist here, or another thread): every synchronisation object is made new. Only
     * the forking thread survives and it was inside no writer call (the GIL serialises
     * them). The queued jobs are the parent's: freed, never written. */
    pthread_mutex_init(&w.lock, NULL);
    pthread_mutex_init(&w.plock, NULL);
    pthread_cond_init(&w.work, NULL);
    pthread_cond_init(&w.done, NULL);
    w.thread_on = 0;
    w.stopping = 0;
    w.want_thread = 0;
    if (w.fd >= 0)
        close(w.fd);
    w.fd = -1;
    reset_unlocked();
    memset(&w.stats, 0, sizeof w.stats);
}

void ft_writer_before_fork(void)
{
    pthread_mutex_lock(&w.lock);
    stop_thread_unlocked();
    pthread_mutex_unlock(&w.lock);
}

void ft_writer_get_stats(ft_writer_stats *stats)
{
    pthread_mutex_lock(&w.lock);
    drain_unlocked();
    *stats = w.stats;
    pthread_mutex_unlock(&w.lock);
}
