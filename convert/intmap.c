/* intmap.c — growing the open-addressing map of intmap.h; lookups are inline there. */
#include "intmap.h"

#include "ft_buf.h"

#define MIN_CAP 16

void ft_intmap_init(ft_intmap *m)
{
    m->slots = NULL;
    m->mask = 0;
    m->shift = 63;
    m->len = 0;
}

void ft_intmap_fini(ft_intmap *m)
{
    ft_free(m->slots);
    ft_intmap_init(m);
}

ft_status ft_intmap_grow(ft_intmap *m)
{
    size_t old_cap = m->slots ? m->mask + 1 : 0;
    size_t cap = old_cap ? old_cap * 2 : MIN_CAP;
    ft_intmap_slot *slots;

    if (cap > SIZE_MAX / sizeof *slots)
        return FT_ENOMEM;
    slots = ft_malloc(cap * sizeof *slots);
    if (!slots)
        return FT_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        slots[i].val = FT_INTMAP_EMPTY;

    unsigned bits = 0;
    while (((size_t)1 << bits) < cap)
        bits++;
    ft_intmap grown = { slots, cap - 1, 64 - bits, 0 };
    for (size_t i = 0; i < old_cap; i++) {
        if (m->slots[i].val == FT_INTMAP_EMPTY)
            continue;
        size_t j = ft_intmap_hash(&grown, m->slots[i].key);
        while (slots[j].val != FT_INTMAP_EMPTY)
            j = (j + 1) & grown.mask;
        slots[j] = m->slots[i];
        grown.len++;
    }
    ft_free(m->slots);
    *m = grown;
    return FT_OK;
}
