/* strpool.c — interning byte strings: FNV-1a hash, linear probing over ids. */
#include "strpool.h"

#include <string.h>

void ft_strpool_init(ft_strpool *p)
{
    memset(p, 0, sizeof *p);
    ft_buf_init(&p->bytes);
}

void ft_strpool_fini(ft_strpool *p)
{
    ft_buf_fini(&p->bytes);
    ft_free(p->off);
    ft_free(p->len);
    ft_free(p->slots);
    ft_strpool_init(p);
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static size_t slot_of(const ft_strpool *p, uint64_t h)
{
    return (size_t)(h ^ (h >> 29)) & p->mask;
}

static ft_status grow_slots(ft_strpool *p)
{
    size_t cap = p->slots ? (p->mask + 1) * 2 : 64;
    uint32_t *slots = ft_malloc(cap * sizeof *slots);

    if (!slots)
        return FT_ENOMEM;
    memset(slots, 0, cap * sizeof *slots);
    ft_free(p->slots);
    p->slots = slots;
    p->mask = cap - 1;
    for (uint32_t id = 0; id < p->count; id++) {
        ft_str s = ft_strpool_get(p, id);
        size_t i = slot_of(p, hash_bytes(s.ptr, s.len));
        while (slots[i])
            i = (i + 1) & p->mask;
        slots[i] = id + 1;
    }
    return FT_OK;
}

static ft_status grow_ids(ft_strpool *p)
{
    uint32_t cap = p->cap ? p->cap * 2 : 64;
    size_t *off;
    uint32_t *len;

    if (cap < p->cap)
        return FT_ENOMEM;
    off = ft_realloc(p->off, (size_t)cap * sizeof *off);
    if (!off)
        return FT_ENOMEM;
    p->off = off;
    len = ft_realloc(p->len, (size_t)cap * sizeof *len);
    if (!len)
        return FT_ENOMEM;
    p->len = len;
    p->cap = cap;
    return FT_OK;
}

ft_status ft_strpool_intern(ft_strpool *p, const char *s, size_t n, uint32_t *id)
{
    uint64_t h = hash_bytes(s, n);
    ft_status st;

    if (n > UINT32_MAX)
        return FT_ECORRUPT;
    if (p->slots) {
        for (size_t i = slot_of(p, h); p->slots[i]; i = (i + 1) & p->mask) {
            uint32_t cand = p->slots[i] - 1;
            if (p->len[cand] == n && (!n || !memcmp(p->bytes.ptr + p->off[cand], s, n))) {
                *id = cand;
                return FT_OK;
            }
        }
    }
    if (p->count == UINT32_MAX - 1)
        return FT_ENOMEM;
    if (p->count == p->cap && (st = grow_ids(p)))
        return st;
    if (!p->slots || 2 * ((size_t)p->count + 1) > p->mask + 1) {
        if ((st = grow_slots(p)))
            return st;
    }
    /* Reserving one spare byte keeps bytes.ptr non-NULL even when every string is empty,
     * so ft_strpool_get never offsets a null pointer. */
    size_t off = p->bytes.len;
    if ((st = ft_buf_reserve(&p->bytes, n + 1)))
        return st;
    if (n)
        memcpy(p->bytes.ptr + off, s, n);
    p->bytes.len += n;
    p->off[p->count] = off;
    p->len[p->count] = (uint32_t)n;
    size_t i = slot_of(p, h);
    while (p->slots[i])
        i = (i + 1) & p->mask;
    p->slots[i] = p->count + 1;
    *id = p->count++;
    return FT_OK;
}
