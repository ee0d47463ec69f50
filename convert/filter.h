/* filter.h — conversion-time filters: keep a time window, some processes, some threads,
 * and fold short calls into their callers, so that a huge trace becomes a profile a
 * browser can load.
 *
 * They act on a process after it is read and before a sink writes it, by rewriting each
 * thread's samples in place (thread_stream.h): nothing else of the pipeline changes, and
 * every sink sees the same filtered calls.
 *
 * - Window [from, to] (ns from time zero of the output): samples outside are dropped; a
 *   call running at `from` starts there, one still running at `to` ends there.
 * - Pids and tids: processes and threads not listed are not written (a process matches
 *   by any pid its files carry, so one that called exec matches by its pid).
 * - Minimum duration: a call shorter than it, with everything it called, is folded into
 *   its caller: the caller's self time grows by the call's duration, and the call and its
 *   callees disappear. */
#ifndef FT_FILTER_H
#define FT_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include "ft_status.h"
#include "proc.h"

#define FT_FILTER_MAX_IDS 64

typedef struct ft_filter {
    int has_from, has_to;
    uint64_t from_ns, to_ns;          /* from time zero of the output */
    uint64_t pids[FT_FILTER_MAX_IDS], tids[FT_FILTER_MAX_IDS];
    size_t npids, ntids;
    uint64_t min_duration_ns;         /* 0: keep every call */
} ft_filter;

/* Does the filter change anything at all? */
int ft_filter_active(const ft_filter *f);

/* Should a process with this pid be written? (Always, without --pid.) */
int ft_filter_pid(const ft_filter *f, uint64_t pid);

/* Apply the window, tid and duration filters to every thread of p, whose clock time
 * `base` is time zero of the output. Threads left without samples are not written by the
 * sinks. *folded (may be NULL) grows by the calls folded away. FT_ENOMEM. */
ft_status ft_filter_apply(const ft_filter *f, ft_proc *p, uint64_t base, uint64_t *folded);

/* Match the frees of every thread of p with their allocations and keep the memory records
 * the filter keeps (allocs.h; f may be NULL: all of them). Before ft_filter_apply. stats
 * may be NULL. FT_ENOMEM. */
ft_status ft_filter_allocs(const ft_filter *f, ft_proc *p, uint64_t base,
                           ft_allocs_stats *stats);

#endif
