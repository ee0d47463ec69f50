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

/* A free the resolution adds (see allocs.h): it goes before the record that is at index
 * `at` of its list once the list is compacted. */
typedef struct insert {
    size_t list, at;
    ft_alloc free;
} insert;

/* Put each list's inserts in place: the list grows by their number, and records move up
 * from the end down, so that no second copy of the list is ever needed. ins is sorted by
 * list, then by at. */
static ft_status apply_inserts(ft_alloc_list *const *lists, const insert *ins, size_t nins)
{
    for (size_t i = 0; i < nins;) {
        ft_alloc_list *l = lists[ins[i].list];
        size_t first = i, n_old = l->n, n_new, src, dst;
        while (i < nins && ins[i].list == ins[first].list)
            i++;
        n_new = n_old + (i - first);
        if (n_new > l->cap) {
            ft_alloc *a = ft_realloc(l->a, n_new * sizeof *a);
            if (!a)
                return FT_ENOMEM;
            l->a = a;
            l->cap = n_new;
        }
        src = n_old;
        dst = n_new;
        for (size_t k = i; k-- > first;) {
            while (src > ins[k].at)
                l->a[--dst] = l->a[--src];
            l->a[--dst] = ins[k].free;
        }
        l->n = n_new;
    }
    return FT_OK;
}

ft_status ft_allocs_resolve(ft_alloc_list *const *lists, size_t n, const ft_allocs_view *view,
                            ft_allocs_stats *stats)
{
    live_map m = { NULL, 0, 0 };
    size_t *pos = NULL, *out = NULL, nins = 0, ins_cap = 0;
    insert *ins = NULL;
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
    for (size_t k = 0; k < n; k++)
        pos[k] = out[k] = lists[k]->resolved;
    /* A merge by time across the threads: a process has a handful of threads, so picking
     * the earliest head by a scan costs less than a heap would. Ties go to the lower list.
     * Each list is compacted in place (what is kept is written at out[k] <= pos[k]). */
    for (;;) {
        size_t best = n;
        for (size_t k = 0; k < n; k++) {
            if (pos[k] < lists[k]->n &&
                (best == n || lists[k]->a[pos[k]].time < lists[best]->a[pos[best]].time))
                best = k;
        }
        if (best == n)
            break;
        ft_alloc_list *l = lists[best];
        ft_alloc e = l->a[pos[best]++];
        int in_view = (!view->keep || view->keep[best]) && e.time >= view->lo &&
                      e.time <= view->hi;
        live_slot *b = live_find(&m, e.addr);
        if (!e.is_free) {
            if (b && b->size >= 0) {
                /* The allocator handed this address out again: the block there was freed
                 * without a FREE the recorder could write (a thread being torn down, the
                 * recorder's own release of the program's object). Freed now, with no
                 * stack, so that it is not retained forever. */
                stats->unseen_frees++;
                if (in_view) {
                    if (ft_grow(&ins, &ins_cap, nins, sizeof *ins, 64)) {
                        st = FT_ENOMEM;
                        goto out;
                    }
                    ins[nins++] = (insert){ best, out[best],
                                            { e.time, e.addr, -b->size, FT_STACK_NONE, 1 } };
                }
            }
            /* Out of view: remembered (as a negative size) so that its free is dropped. */
            if ((st = live_put(&m, e.addr, in_view ? e.weight : -1 - e.weight)))
                goto out;
            if (in_view)
                l->a[out[best]++] = e;
            continue;
        }
        if (!b) {
            stats->unmatched_frees++;
            continue;
        }
        if (in_view && b->size >= 0) {
            e.weight = -b->size;
            l->a[out[best]++] = e;
        }
        live_del(&m, b);
    }
    for (size_t i = 0; m.s && i <= m.mask; i++) {
        if (m.s[i].used && m.s[i].size > 0)
            stats->live_bytes += (uint64_t)m.s[i].size;
    }
    for (size_t k = 0; k < n; k++)
        lists[k]->n = out[k];
    /* Inserts were made in time order; the apply pass wants them by list. */
    if (nins) {
        size_t done = 0;
        insert *sorted = ft_malloc(nins * sizeof *sorted);
        if (!sorted) {
            st = FT_ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < n; k++)
            for (size_t i = 0; i < nins; i++)
                if (ins[i].list == k)
                    sorted[done++] = ins[i];
        st = apply_inserts(lists, sorted, nins);
        ft_free(sorted);
    }
    for (size_t k = 0; k < n; k++)
        lists[k]->resolved = lists[k]->n;
out:
    ft_free(ins);
    ft_free(m.s);
    ft_free(pos);
    ft_free(out);
    return st;
}
