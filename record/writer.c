/* writer.c — frames and writes this process's trace file (see writer.h).
 *
 * One writer per process. Each write() carries whole frames only, so that a reader of a file
 * that was cut (killed process) or truncated back after a failure sees whole frames plus at
 * most one partial frame at the end. The descriptor is opened with O_APPEND: a fork child
 * that inherits it (before it abandons it) cannot overwrite what the parent wrote. */
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "ft_file.h"

/* Above this many bytes of pending definitions (an import-heavy phase), they are written as
 * a block of their own right away rather than waiting for the next chunk. */
#define DEFS_EAGER_BYTES (64u << 10)

static struct {
    pthread_mutex_t lock;
    int fd;                 /* -1 when closed */
    int failed;             /* sticky: nothing more is written but the trailer */
    int level;
    char *path;             /* for the failure message */
    off_t good_size;        /* file size after the last successful write */
    ZSTD_CCtx *cctx;
    ft_buf defs;            /* FUNC records not yet in the file */
    uint64_t defs_count;
    ft_buf out;             /* the frames of one write() */
    ft_buf scratch;         /* one CHUNK record */
    ft_writer_stats stats;
} w = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

static int write_all_unlocked(const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = write(w.fd, p, n);
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

/* Write w.out; on success it counts as good file content. */
static int commit_out_unlocked(void)
{
    if (write_all_unlocked(w.out.ptr, w.out.len)) {
        fail_unlocked("cannot write", errno);
        return -1;
    }
    w.good_size += (off_t)w.out.len;
    w.out.len = 0;
    return 0;
}

static int compress_unlocked(const void *src, size_t n)
{
    ft_status st = ft_frame_compress(w.cctx, w.level, src, n, &w.out);
    if (st) {
        fail_unlocked("cannot compress a frame of", st == FT_ENOMEM ? ENOMEM : EIO);
        return -1;
    }
    return 0;
}

/* Append the pending definitions to w.out as one block. They count as written only once
 * the caller's write succeeds, hence the separate commit below. */
static int stage_defs_unlocked(void)
{
    if (w.defs.len == 0)
        return 0;
    return compress_unlocked(w.defs.ptr, w.defs.len);
}

static void defs_written_unlocked(void)
{
    w.stats.functions += w.defs_count;
    w.defs_count = 0;
    w.defs.len = 0;
}

static void reset_unlocked(void)
{
    ft_buf_fini(&w.defs);
    ft_buf_fini(&w.out);
    ft_buf_fini(&w.scratch);
    w.defs_count = 0;
    ZSTD_freeCCtx(w.cctx);
    w.cctx = NULL;
    free(w.path);
    w.path = NULL;
    w.failed = 0;
    w.good_size = 0;
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
    if (!w.path || !w.cctx) {
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
    if (write_all_unlocked(w.out.ptr, w.out.len)) {
        err = errno;
        close(w.fd);
        w.fd = -1;
        unlink(path);
        goto out;
    }
    w.good_size = (off_t)w.out.len;
    w.out.len = 0;
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
    if (w.defs.len >= DEFS_EAGER_BYTES) {
        w.out.len = 0;
        if (stage_defs_unlocked() == 0 && commit_out_unlocked() == 0)
            defs_written_unlocked();
    }
out:
    pthread_mutex_unlock(&w.lock);
}

void ft_writer_put_chunk(uint8_t *base, size_t head, size_t len, uint64_t nevents,
                         uint64_t tid, uint64_t seq, uint64_t t0,
                         const char *name, size_t name_len)
{
    uint8_t *start;
    size_t n;

    pthread_mutex_lock(&w.lock);
    if (w.fd < 0 || w.failed) {
        w.stats.dropped_events += nevents;
        goto out;
    }
    w.scratch.len = 0;
    if (ft_trace_put_chunk(&w.scratch, tid, seq, t0, name, name_len) || w.scratch.len > head) {
        fail_unlocked("out of memory for", ENOMEM);
        w.stats.dropped_events += nevents;
        goto out;
    }
    n = w.scratch.len;
    start = base + head - n;
    memcpy(start, w.scratch.ptr, n);
    w.out.len = 0;
    if (stage_defs_unlocked() || compress_unlocked(start, n + len) || commit_out_unlocked()) {
        w.stats.dropped_events += nevents;
        goto out;
    }
    defs_written_unlocked();
    w.stats.events += nevents;
    w.stats.chunks++;
out:
    pthread_mutex_unlock(&w.lock);
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
    if (w.fd >= 0 && !w.failed && w.defs.len) {
        w.out.len = 0;
        if (stage_defs_unlocked() == 0 && commit_out_unlocked() == 0)
            defs_written_unlocked();
    }
    pthread_mutex_unlock(&w.lock);
}

void ft_writer_close(uint64_t end_ns, const ft_trailer *how, ft_writer_stats *stats)
{
    ft_trailer t;
    ft_buf rec;

    if (how)
        t = *how;
    else
        memset(&t, 0, sizeof t);

    ft_buf_init(&rec);
    pthread_mutex_lock(&w.lock);
    if (w.fd < 0) {
        *stats = w.stats;
        pthread_mutex_unlock(&w.lock);
        return;
    }
    w.out.len = 0;
    if (!w.failed && w.defs.len) {
        if (stage_defs_unlocked() == 0 && commit_out_unlocked() == 0)
            defs_written_unlocked();
    }
    /* After a failure the trailer is still worth one try: the failure may have been
     * transient, and a trailer is the only place the dropped count can be read from. */
    t.end_ns = end_ns;
    t.events = w.stats.events;
    t.chunks = w.stats.chunks;
    t.dropped_events = w.stats.dropped_events;
    t.functions = w.stats.functions;
    w.out.len = 0;
    if (ft_trace_put_trailer(&rec, &t) == 0 &&
        ft_frame_compress(w.cctx, w.level, rec.ptr, rec.len, &w.out) == 0) {
        if (write_all_unlocked(w.out.ptr, w.out.len) == 0)
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
    ft_buf_fini(&rec);
}

int ft_writer_prepare_trailer(uint64_t end_ns, const ft_trailer *how, ft_buf *frame)
{
    ft_trailer t;
    ft_buf rec;
    int rc = -1;

    ft_buf_init(&rec);
    pthread_mutex_lock(&w.lock);
    if (w.fd < 0 || w.failed)
        goto out;
    t = *how;
    t.end_ns = end_ns;
    t.events = w.stats.events;
    t.chunks = w.stats.chunks;
    t.dropped_events = w.stats.dropped_events;
    t.functions = w.stats.functions;
    frame->len = 0;
    if (ft_trace_put_trailer(&rec, &t) == 0 &&
        ft_frame_compress(w.cctx, w.level, rec.ptr, rec.len, frame) == 0)
        rc = 0;
out:
    pthread_mutex_unlock(&w.lock);
    ft_buf_fini(&rec);
    return rc;
}

void ft_writer_put_frame_signal_safe(const uint8_t *p, size_t n)
{
    int fd = w.fd;

    while (fd >= 0 && n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        p += r;
        n -= (size_t)r;
    }
}

void ft_writer_abandon(void)
{
    /* The parent may have held the lock when it forked; only the forking thread survives,
     * and it was inside no writer call (the GIL serialises them), but re-initialising costs
     * nothing and removes the question. */
    pthread_mutex_init(&w.lock, NULL);
    if (w.fd >= 0)
        close(w.fd);
    w.fd = -1;
    reset_unlocked();
    memset(&w.stats, 0, sizeof w.stats);
}

void ft_writer_get_stats(ft_writer_stats *stats)
{
    pthread_mutex_lock(&w.lock);
    *stats = w.stats;
    pthread_mutex_unlock(&w.lock);
}
