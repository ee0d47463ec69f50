/* ft_buf.c — the allocation wrapper and the growable byte buffer.
 *
 * Every heap allocation of format/ and convert/ goes through ft_malloc/ft_realloc so that
 * the unit tests can fail the n-th allocation and check that each caller turns it into
 * FT_ENOMEM without leaking or crashing. The wrapper adds nothing else: no accounting, no
 * pools. zstd's own context allocations do not pass through here.
 *
 * ft_buf grows geometrically (at least doubling) so that appending n bytes one record at a
 * time costs O(n) overall. It never shrinks; ft_buf_fini releases the storage. */
#include "ft_buf.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Remaining successful allocations before failures start; < 0 means "never fail".
 * Atomic because the recorder allocates from several threads; the test hook itself is only
 * meant for single-threaded unit tests, so the load/decrement pair need not be one step. */
static _Atomic long alloc_budget = -1;

static int alloc_allowed(void)
{
    long n = atomic_load_explicit(&alloc_budget, memory_order_relaxed);
    if (n < 0)
        return 1;
    if (n == 0)
        return 0;
    atomic_fetch_sub_explicit(&alloc_budget, 1, memory_order_relaxed);
    return 1;
}

void ft_alloc_fail_after(long n)
{
    atomic_store_explicit(&alloc_budget, n < 0 ? -1 : n, memory_order_relaxed);
}

/* Size 0 is rounded up to 1 so that NULL always means failure. */
void *ft_malloc(size_t n)
{
    if (!alloc_allowed())
        return NULL;
    return malloc(n ? n : 1);
}

void *ft_realloc(void *p, size_t n)
{
    if (!alloc_allowed())
        return NULL;
    return realloc(p, n ? n : 1);
}

/* arr is the address of the caller's typed pointer (T **): read and written with memcpy,
 * which may access any object, where a cast to void ** would break aliasing rules. */
ft_status ft_grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first)
{
    size_t want;
    void *old, *q;

    if (n < *cap)
        return FT_OK;
    want = *cap ? *cap * 2 : first;
    if (want < *cap || want > SIZE_MAX / elem)
        return FT_ENOMEM;
    memcpy(&old, arr, sizeof old);
    if (!(q = ft_realloc(old, want * elem)))
        return FT_ENOMEM;
    memcpy(arr, &q, sizeof q);
    *cap = want;
    return FT_OK;
}

void ft_free(void *p)
{
    free(p);
}

void ft_buf_init(ft_buf *b)
{
    b->ptr = NULL;
    b->cap = 0;
    b->len = 0;
}

void ft_buf_fini(ft_buf *b)
{
    ft_free(b->ptr);
    ft_buf_init(b);
}

ft_status ft_buf_reserve(ft_buf *b, size_t extra)
{
    ft_status st = FT_OK;
    size_t need, cap;
    uint8_t *p;

    /* No object may exceed PTRDIFF_MAX bytes: refuse such sizes without asking malloc. */
    if (extra > PTRDIFF_MAX - b->len) {
        st = FT_ENOMEM;
        goto out;
    }
    need = b->len + extra;
    if (need <= b->cap)
        goto out;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > PTRDIFF_MAX / 2 ? need : cap * 2;
    p = ft_realloc(b->ptr, cap);
    if (!p) {
        st = FT_ENOMEM;
        goto out;
    }
    b->ptr = p;
    b->cap = cap;
out:
    return st;
}

ft_status ft_buf_append(ft_buf *b, const void *data, size_t n)
{
    ft_status st = ft_buf_reserve(b, n);
    if (st == FT_OK && n) {
        memcpy(b->ptr + b->len, data, n);
        b->len += n;
    }
    return st;
}
