/* gzsink.c — the compressing thread behind gzip output (see gzsink.h).
 *
 * One job at a time: the producer's put waits until the compressor has taken and finished
 * the previous buffer, then hands over the new one and takes the finished one back. That
 * single slot is enough to overlap the two; more slots would only hold more memory while
 * the slower side (deflate) sets the pace anyway. */
#include "gzsink.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <zlib.h>

#include "ft_buf.h"

struct ft_gzsink {
    FILE *f;
    z_stream z;
    unsigned char *zout;
    size_t cap;
    char *free_buf;         /* the buffer the producer gets at the next put */

    int threaded;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Under mu: */
    int busy;               /* a job is waiting or being compressed */
    int quit;               /* abandon: the thread exits without finishing */
    char *job;
    size_t job_len;
    int job_last;
    ft_status err;
    int err_errno;
};

/* Deflate one buffer into f. Runs on the compressor thread (or the caller's, unthreaded);
 * touches only z, zout and f, which nothing else uses meanwhile. */
static ft_status deflate_buf(ft_gzsink *g, const char *data, size_t len, int last, int *err_no)
{
    int flush = last ? Z_FINISH : Z_NO_FLUSH, rc;

    g->z.next_in = (unsigned char *)data;
    g->z.avail_in = (uInt)len;
    do {
        size_t n;
        g->z.next_out = g->zout;
        g->z.avail_out = (uInt)g->cap;
        rc = deflate(&g->z, flush);
        if (rc == Z_STREAM_ERROR) {
            *err_no = EINVAL;
            return FT_EIO;
        }
        n = g->cap - g->z.avail_out;
        if (n && fwrite(g->zout, 1, n, g->f) != n) {
            *err_no = errno;
            return FT_EIO;
        }
    } while (g->z.avail_out == 0 || (last && rc != Z_STREAM_END));
    return FT_OK;
}

/* zlib allocates through the same wrapper as everything else, so that the allocation
 * failure tests reach its allocations too. */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return ft_malloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    ft_free(p);
}

static void *compressor(void *arg)
{
    ft_gzsink *g = arg;

    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->busy && !g->quit)
            pthread_cond_wait(&g->cv, &g->mu);
        if (g->quit)
            break;
        const char *job = g->job;
        size_t len = g->job_len;
        int last = g->job_last, err_no = 0;
        ft_status st = g->err;
        pthread_mutex_unlock(&g->mu);
        if (!st)
            st = deflate_buf(g, job, len, last, &err_no);
        pthread_mutex_lock(&g->mu);
        if (st && !g->err) {
            g->err = st;
            g->err_errno = err_no;
        }
        g->busy = 0;
        pthread_cond_broadcast(&g->cv);
        if (last)
            break;
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

ft_status ft_gzsink_new(FILE *f, int level, size_t cap, ft_gzsink **out)
{
    ft_gzsink *g = ft_malloc(sizeof *g);

    *out = NULL;
    if (!g)
        return FT_ENOMEM;
    memset(g, 0, sizeof *g);
    g->f = f;
    g->cap = cap;
    g->zout = ft_malloc(cap);
    g->free_buf = ft_malloc(cap);
    g->z.zalloc = z_alloc;
    g->z.zfree = z_free;
    /* 15 + 16: a gzip wrapper rather than zlib's, which is what .json.gz means. */
    if (!g->zout || !g->free_buf ||
        deflateInit2(&g->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        ft_free(g->zout);
        ft_free(g->free_buf);
        ft_free(g);
        return FT_ENOMEM;
    }
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->threaded = pthread_create(&g->thread, NULL, compressor, g) == 0;
    *out = g;
    return FT_OK;
}

static ft_status submit(ft_gzsink *g, char **buf, size_t len, int last)
{
    ft_status st;

    if (!g->threaded) {
        int err_no = 0;
        if (!g->err && (st = deflate_buf(g, *buf, len, last, &err_no))) {
            g->err = st;
            g->err_errno = err_no;
        }
        errno = g->err_errno;
        return g->err;
    }
    pthread_mutex_lock(&g->mu);
    while (g->busy)
        pthread_cond_wait(&g->cv, &g->mu);
    if (!g->err) {
        g->job = *buf;
        g->job_len = len;
        g->job_last = last;
        g->busy = 1;
        if (!last) {
            /* The producer goes on in the free buffer; this one becomes free once done.
             * The last buffer stays the caller's: finish waits for it. */
            char *next = g->free_buf;
            g->free_buf = *buf;
            *buf = next;
        }
        pthread_cond_broadcast(&g->cv);
    }
    st = g->err;
    errno = g->err_errno;
    pthread_mutex_unlock(&g->mu);
    return st;
}

ft_status ft_gzsink_put(ft_gzsink *g, char **buf, size_t len)
{
    return submit(g, buf, len, 0);
}

ft_status ft_gzsink_finish(ft_gzsink *g, char *buf, size_t len)
{
    ft_status st = submit(g, &buf, len, 1);

    if (g->threaded) {
        pthread_mutex_lock(&g->mu);
        if (st)
            g->quit = 1;       /* the last job was refused: nothing more will come */
        while (g->busy)
            pthread_cond_wait(&g->cv, &g->mu);
        g->quit = 1;
        pthread_cond_broadcast(&g->cv);
        st = g->err;
        errno = g->err_errno;
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
        g->threaded = 0;
        errno = g->err_errno;
    }
    return st;
}

void ft_gzsink_free(ft_gzsink *g)
{
    if (!g)
        return;
    if (g->threaded) {
        pthread_mutex_lock(&g->mu);
        g->quit = 1;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
    }
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    deflateEnd(&g->z);
    ft_free(g->zout);
    ft_free(g->free_buf);
    ft_free(g);
}
