/* ft_buf.h — a growable byte buffer {ptr, cap, len} and the allocation wrapper.
 *
 * All heap allocation in format/ and convert/ goes through ft_malloc/ft_realloc/ft_free so
 * that tests can make the n-th allocation fail (ft_alloc_fail_after). The recorder uses
 * ft_buf for its per-thread event buffers with a fixed capacity (it never grows them on the
 * hot path; see ft_mp_* "_unchecked" writers). */
#ifndef FT_BUF_H
#define FT_BUF_H

#include <stddef.h>
#include <stdint.h>
#include "ft_status.h"

typedef struct ft_buf {
    uint8_t *ptr;
    size_t cap;
    size_t len;
} ft_buf;

void *ft_malloc(size_t n);
void *ft_realloc(void *p, size_t n);
void ft_free(void *p);
/* Make room in the array *arr (of *cap elements of elem bytes) for one more when n == *cap:
 * the capacity doubles, from `first`. *arr and *cap are updated only on success;
 * FT_ENOMEM leaves them as they were (also on size overflow). */
ft_status ft_grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first);
/* Test hook: after n more successful allocations, every allocation fails; n < 0 disables. */
void ft_alloc_fail_after(long n);

/* ft_buf_init leaves an empty buffer with no storage; ft_buf_fini frees the storage. */
void ft_buf_init(ft_buf *b);
void ft_buf_fini(ft_buf *b);
/* Make room for at least `extra` more bytes (len + extra <= cap afterwards). */
ft_status ft_buf_reserve(ft_buf *b, size_t extra);
/* Append n bytes (grows as needed). */
ft_status ft_buf_append(ft_buf *b, const void *data, size_t n);

#endif
