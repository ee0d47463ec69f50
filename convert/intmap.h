/* intmap.h — an open-addressing hash map from uint64_t keys to uint32_t values.
 *
 * The converter's one associative container: stack interning ((prefix, function) → stack),
 * thread lookup (tid → thread) and the per-thread renumbering of functions and strings
 * when a thread is written. Values are indexes into arrays the caller owns, so 32 bits are
 * enough, and UINT32_MAX is reserved to mark an empty slot; keys are arbitrary.
 *
 * Linear probing over a power-of-two table kept at most half full, with a multiplicative
 * hash: the keys are small dense integers or pairs of them, which this spreads well. The
 * lookup is inline because the stack interning does one per traced call. */
#ifndef FT_INTMAP_H
#define FT_INTMAP_H

#include <stddef.h>
#include <stdint.h>
#include "ft_status.h"

#define FT_INTMAP_EMPTY UINT32_MAX

/* Key and value side by side: a lookup that misses the cache costs one miss, not two. */
typedef struct ft_intmap_slot {
    uint64_t key;
    uint32_t val;     /* FT_INTMAP_EMPTY in unused slots */
} ft_intmap_slot;

typedef struct ft_intmap {
    ft_intmap_slot *slots;
    size_t mask;      /* capacity - 1; capacity is 0 or a power of two */
    unsigned shift;   /* 64 - log2(capacity) */
    size_t len;
} ft_intmap;

void ft_intmap_init(ft_intmap *m);
void ft_intmap_fini(ft_intmap *m);

/* Slow path of ft_intmap_put_new: make room for one more entry. FT_ENOMEM. */
ft_status ft_intmap_grow(ft_intmap *m);

static inline size_t ft_intmap_hash(const ft_intmap *m, uint64_t key)
{
    /* Fibonacci hashing: the top bits of the product depend on every key bit (the low
     * bits would depend only on the key's low bits, and keys differ in their top half). */
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> m->shift);
}

/* The value stored for key, or FT_INTMAP_EMPTY. */
static inline uint32_t ft_intmap_get(const ft_intmap *m, uint64_t key)
{
    if (!m->len)
        return FT_INTMAP_EMPTY;
    for (size_t i = ft_intmap_hash(m, key);; i = (i + 1) & m->mask) {
        if (m->slots[i].val == FT_INTMAP_EMPTY || m->slots[i].key == key)
            return m->slots[i].val;
    }
}

/* Look key up; when it is absent, store val (which must not be FT_INTMAP_EMPTY).
 * *out receives the value now stored for key: val if it was inserted, the old value if not.
 * FT_OK or FT_ENOMEM (the map is unchanged). */
static inline ft_status ft_intmap_get_or_put(ft_intmap *m, uint64_t key, uint32_t val,
                                             uint32_t *out)
{
    if (2 * (m->len + 1) > m->mask + 1) {
        ft_status st = ft_intmap_grow(m);
        if (st)
            return st;
    }
    for (size_t i = ft_intmap_hash(m, key);; i = (i + 1) & m->mask) {
        if (m->slots[i].val == FT_INTMAP_EMPTY) {
            m->slots[i].key = key;
            m->slots[i].val = val;
            m->len++;
            *out = val;
            return FT_OK;
        }
        if (m->slots[i].key == key) {
            *out = m->slots[i].val;
            return FT_OK;
        }
    }
}

/* Store val for key, replacing any value it had. FT_OK or FT_ENOMEM. */
static inline ft_status ft_intmap_set(ft_intmap *m, uint64_t key, uint32_t val)
{
    uint32_t got;
    ft_status st = ft_intmap_get_or_put(m, key, val, &got);
    if (st || got == val)
        return st;
    for (size_t i = ft_intmap_hash(m, key);; i = (i + 1) & m->mask) {
        if (m->slots[i].key == key) {
            m->slots[i].val = val;
            return FT_OK;
        }
    }
}

#endif
