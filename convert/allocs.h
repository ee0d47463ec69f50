/* allocs.h — a thread's memory records (FORMAT.md §4.7) as the Firefox Profiler's native
 * allocations, and the matching of each free with the allocation it frees.
 *
 * The reader (proc.c) appends every ALLOC and FREE of a chunk to its thread's list with the
 * time of the record and the stack the thread had rebuilt at that point (the stack that
 * made the call). A FREE does not say how big its block was: once a whole process has been
 * read, ft_allocs_resolve walks the memory records of all its threads in time order (a block
 * may be freed by another thread than the one that allocated it) with a map of the blocks
 * still live, gives each free the negative size of its block, and drops the frees of blocks
 * it never saw allocated (allocated before recording started, or left out by the recorder).
 * An allocation at the address of a block still live means that block was freed unseen
 * (the recorder leaves out a few frees, memory.h): a free of it, with no stack, is put
 * before the allocation, so that it does not stay retained forever.
 * The map holds live blocks only, so the converter's memory stays bounded by its output
 * (each record becomes a row of the thread's nativeAllocations table).
 *
 * The conversion filters apply here too: records outside the time window or on threads not
 * kept are dropped, and so is the free of a block whose allocation was dropped, so that
 * the table stays balanced: what it shows as retained is what was allocated in view and not
 * freed in view. */
#ifndef FT_ALLOCS_H
#define FT_ALLOCS_H

#include <stddef.h>
#include <stdint.h>
#include "ft_status.h"

typedef struct ft_alloc {
    uint64_t time;      /* clock ns */
    uint64_t addr;
    int64_t weight;     /* bytes: +size for an allocation, -size for a free once resolved */
    uint32_t stack;     /* the thread's stack at the call (stacks.h), or FT_STACK_NONE */
    uint8_t is_free;
} ft_alloc;

typedef struct ft_alloc_list {
    ft_alloc *a;
    size_t n, cap;
    size_t resolved;    /* a[0..resolved) went through ft_allocs_resolve already */
} ft_alloc_list;

void ft_allocs_init(ft_alloc_list *l);
void ft_allocs_fini(ft_alloc_list *l);

/* Append an ALLOC (is_free 0, size) or FREE (is_free 1, size ignored). FT_ENOMEM. */
ft_status ft_allocs_add(ft_alloc_list *l, uint64_t time, uint32_t stack, uint64_t addr,
                        uint64_t size, int is_free);

/* What ft_allocs_resolve keeps: records in [lo, hi] (clock ns) of the threads whose keep
 * flag is set. */
typedef struct ft_allocs_view {
    uint64_t lo, hi;
    const uint8_t *keep;    /* per list; NULL keeps every one */
} ft_allocs_view;

typedef struct ft_allocs_stats {
    uint64_t unmatched_frees;   /* frees of blocks never seen allocated: dropped */
    uint64_t unseen_frees;      /* blocks whose address was allocated again before any FREE:
                                   freed there by a record of their own */
    uint64_t live_bytes;        /* bytes allocated in view and still live at the end */
} ft_allocs_stats;

/* Resolve the records appended to lists[0..n) since the last call (one process's threads),
 * in time order across the lists, and drop what the view leaves out (see the top of this
 * file). Each list must be in time order. stats may be NULL. FT_ENOMEM. */
ft_status ft_allocs_resolve(ft_alloc_list *const *lists, size_t n, const ft_allocs_view *view,
                            ft_allocs_stats *stats);

#endif
