/* allocs.c — native allocations of a thread, and frees matched to their blocks (see
 * allocs.h). */
#include "allocs.h"

#include <string.h>

#include "ft_buf.h"
#include "stacks.h"

void ft_allocs_init(ft_alloc_list *l)
{
    memset(l, 0, sizeof *l);
}

void ft_allocs_fini(ft_alloc_list *l)
{
    ft_free(l->a);
    memset(l, 0, sizeof *l);
}

ft_status ft_allocs_add(ft_alloc_list *l, uint64_t time, uint32_t stack, uint64_t addr,
                        uint64_t size, int is_free)
{
    ft_alloc *e;

    if (ft_grow(&l->a, &l->cap, l->n, sizeof *l->a, 256))
        return FT_ENOMEM;
    e = &l->a[l->n++];
    e->time = time;
    e->addr = addr;
    e->weight = is_free ? 0 : size > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)size;
    e->stack = stack;
    e->is_free = (uint8_t)!!is_free;
    return FT_OK;
}

/* ---- the live blocks: address → size, open addressing with backward-shift deletion, so
 * that the table holds live blocks only (no tombstones piling up over millions of frees). */

typedef struct live_slot {
    uint64_t addr;
    int64_t size;       /* < 0: a block allocated out of view (its free is dropped too) */
    uint8_t used;
} live_slot;

typedef struct live_map {
    live_slot *s;
    size_t mask, len;   /* capacity mask + 1 is 0 or a power of two */
} live_map;

static size_t slot_of(const live_map *m, uint64_t addr)
{
    /* Addresses are multiples of 8 or 16: the multiply spreads their high bits down. */
    return (size_t)((addr * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
}

static live_slot *live_find(const live_map *m, uint64_t addr)
{
    if (!m->len)
        return NULL;
    for (size_t i = slot_of(m, addr);; i = (i + 1) & m->mask) {
        if (!m->s[i].used)
            return NULL;
        if (m->s[i].addr == addr)
            return &m->s[i];
    }
}

static ft_status live_grow(live_map *m)
{
    size_t cap = m->s ? (m->mask + 1) * 2 : 1024;
    live_map n = { ft_malloc(cap * sizeof *n.s), cap - 1, 0 };

    if (!n.s)
        return FT_ENOMEM;
    memset(n.s, 0, cap * sizeof *n.s);
    for (size_t i = 0; m->s && i <= m->mask; i++) {
        if (!m->s[i].used)
            continue;
        size_t j = slot_of(&n, m->s[i].addr);
        while (n.s[j].used)
            j = (j + 1) & n.mask;
        n.s[j] = m->s[i];
        n.len++;
    }
    ft_free(m->s);
    *m = n;
    return FT_OK;
}

/* Set addr's size (a block allocated again at an address whose free was never seen
 * replaces the old one). */
static ft_status live_put(live_map *m, uint64_t addr, int64_t size)
{
    live_slot *e = live_find(m, addr);
    size_t i;
    ft_status st;

    if (e) {
        e->size = size;
        return FT_OK;
    }
    if (2 * (m->len + 1) > (m->s ? m->mask + 1 : 0) && (st = live_grow(m)))
        return st;
    for (i = slot_of(m, addr); m->s[i].used; i = (i + 1) & m->mask)
        ;
    m->s[i].addr = addr;
    m->s[i].size = size;
    m->s[i].used = 1;
    m->len++;
    return FT_OK;
}

static void live_del(live_map *m, live_slot *e)
{
    size_t i = (size_t)(e - m->s), j = i;

    m->s[i].used = 0;
    m->len--;
    /* Move back every entry of the run after the hole that its home slot allows. */
    for (;;) {
        j = (j + 1) & m->mask;
        if (!m->s[j].used)
            return;
        size_t home = slot_of(m, m->s[j].addr);
        /* Entry j may fill hole i if its home is not in (i, j] cyclically. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            m->s[i] = m->s[j];
            m->s[j].used = 0;
            i = j;
        }
    }
}

/* ---- resolving ---- */

/* Append e to the resolved copy of a list. */
static ft_status put(ft_alloc_list *to, const ft_alloc *e)
{
    if (ft_grow(&to->a, &to->cap, to->n, sizeof *to->a, 256))
        return FT_ENOMEM;
    to->a[to->n++] = *e;
    return FT_OK;
}

ft_status ft_allocs_resolve(ft_alloc_list *const *lists, size_t n, const ft_allocs_view *view,
                            ft_allocs_stats *stats)
{
    live_map m = { NULL, 0, 0 };
    size_t *pos = NULL;
    ft_alloc_list *out = NULL;
    ft_allocs_stats dummy;
    ft_status st = FT_OK;

    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (!n)
        return FT_OK;
    pos = ft_malloc(n * sizeof *pos);
    out = ft_malloc(n * sizeof *out);
    if (!pos || !out) {
        st = FT_ENOMEM;
        goto out;
    }
    /* The resolved records go to new lists (a resolved list may be longer than its input:
     * see the unseen frees below), which then replace the input's unresolved part. */
    for (size_t k = 0; k < n; k++) {
        pos[k] = lists[k]->resolved;
        ft_allocs_init(&out[k]);
    }
    /* A merge by time across the threads: a process has a handful of threads, so picking
     * the earliest head by a scan costs less than a heap would. Ties go to the lower list. */
    for (;;) {
        size_t best = n;
        for (size_t k = 0; k < n; k++) {
            if (pos[k] < lists[k]->n &&
                (best == n || lists[k]->a[pos[k]].time < lists[best]->a[pos[best]].time))
                best = k;
        }
        if (best == n)
            break;
        ft_alloc e = lists[best]->a[pos[best]++];
        int in_view = (!view->keep || view->keep[best]) && e.time >= view->lo &&
                      e.time <= view->hi;
        live_slot *b = live_find(&m, e.addr);
        if (!e.is_free) {
            if (b && b->size >= 0) {
                /* The allocator handed this address out again: the block there was freed
                 * without a FREE the recorder could write (a thread being torn down, the
                 * recorder's own release of the program's object). Freed now, with no
                 * stack, so that it is not retained forever. */
                ft_alloc f = { e.time, e.addr, -b->size, FT_STACK_NONE, 1 };
                stats->unseen_frees++;
                if (in_view && (st = put(&out[best], &f)))
                    goto out;
            }
            /* Out of view: remembered (as a negative size) so that its free is dropped. */
            if ((st = live_put(&m, e.addr, in_view ? e.weight : -1 - e.weight)))
                goto out;
            if (in_view && (st = put(&out[best], &e)))
                goto out;
            continue;
        }
        if (!b) {
            stats->unmatched_frees++;
            continue;
        }
        if (in_view && b->size >= 0) {
            e.weight = -b->size;
            if ((st = put(&out[best], &e)))
                goto out;
        }
        live_del(&m, b);
    }
    for (size_t i = 0; m.s && i <= m.mask; i++) {
        if (m.s[i].used && m.s[i].size > 0)
            stats->live_bytes += (uint64_t)m.s[i].size;
    }
    /* Swap in the resolved records after the ones resolved before. */
    for (size_t k = 0; k < n; k++) {
        ft_alloc_list *l = lists[k];
        size_t keep = l->resolved;
        if (!keep) {
            ft_allocs_fini(l);
            *l = out[k];
            ft_allocs_init(&out[k]);
        } else {
            l->n = keep;
            for (size_t i = 0; i < out[k].n; i++) {
                if (ft_grow(&l->a, &l->cap, l->n, sizeof *l->a, 256)) {
                    st = FT_ENOMEM;
                    goto out;
                }
                l->a[l->n++] = out[k].a[i];
            }
        }
        l->resolved = l->n;
    }
out:
    for (size_t k = 0; out && k < n; k++)
        ft_allocs_fini(&out[k]);
    ft_free(m.s);
    ft_free(pos);
    ft_free(out);
    return st;
}
