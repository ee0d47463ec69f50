/* walk.h — a thread's samples turned back into calls and returns.
 *
 * A thread stream (thread_stream.h) keeps one sample per stack change, the stack being an
 * index in the thread's prefix tree (stacks.h). The outputs other than the Firefox profile
 * (Chrome trace events, the summary, the --min-duration filter) want frames entering and
 * leaving instead: between two samples, the frames of the old stack above the common
 * prefix leave (top first) and those of the new stack above it enter (bottom first), at the
 * time of the new sample. Frames still open after the last sample leave at its time.
 *
 * A frame is named by its stack index: the function is stacks.fid[stack] and its depth
 * (1 for a bottom frame) is depth[stack], from ft_walk_depths. */
#ifndef FT_WALK_H
#define FT_WALK_H

#include <stddef.h>
#include <stdint.h>
#include "ft_status.h"
#include "thread_stream.h"

typedef struct ft_walk_ops {
    /* Frame `stack` enters / leaves at clock time t, at sample index `sample` (for a leave
     * after the last sample: nsamples). A status other than FT_OK stops the walk. */
    ft_status (*enter)(void *ctx, uint32_t stack, uint64_t t, size_t sample);
    ft_status (*leave)(void *ctx, uint32_t stack, uint64_t t, size_t sample);
} ft_walk_ops;

/* depth[s] for every stack of s (1 + its prefix's depth), in a new array the caller frees
 * with ft_free; *max_depth is the largest. FT_ENOMEM. */
ft_status ft_walk_depths(const ft_stacks *s, uint32_t **depth, uint32_t *max_depth);

/* Walk ts's samples in order, calling ops. depth is ft_walk_depths' array for ts->stacks.
 * FT_ENOMEM, or the first error a callback returned. */
ft_status ft_walk_thread(const ft_tstream *ts, const uint32_t *depth, uint32_t max_depth,
                         const ft_walk_ops *ops, void *ctx);

#endif
