/* stacks.h — one thread's table of distinct call stacks, as a prefix tree.
 *
 * Stack s is "the stack prefix[s] with function fid[s] called on top"; prefix is
 * FT_STACK_NONE for a function at the bottom. This is exactly the Firefox Profiler's
 * stackTable (with functions renumbered into frames when the thread is written), and it is
 * what a sample stores: one 32-bit index instead of a list of functions. Interning goes
 * through a hash of (prefix, fid), so a call that happened before from the same stack
 * costs one lookup and no memory.
 *
 * Function ids are the trace file's (FUNC fid), truncated to 32 bits by the caller; the
 * table knows nothing about what they name. */
#ifndef FT_STACKS_H
#define FT_STACKS_H

#include <stddef.h>
#include <stdint.h>
#include "ft_status.h"
#include "intmap.h"

#define FT_STACK_NONE UINT32_MAX
/* Stack indexes stay below this, so that prefix + 1 fits the 32-bit half of a key and no
 * index collides with FT_STACK_NONE or FT_INTMAP_EMPTY. */
#define FT_STACKS_MAX (UINT32_MAX - 2)

typedef struct ft_stacks {
    uint32_t *prefix;
    uint32_t *fid;
    /* Per stack, the call made from it last: fid << 32 | child stack, or NO_CHILD. A loop
     * calling one function repeats the same (prefix, fid) over and over; this answers
     * those from an array next to the live frame instead of a hash probe. */
    uint64_t *last_call;
    uint64_t root_last_call;   /* the same for calls from the empty stack */
    uint32_t len, cap;
    ft_intmap index;   /* (prefix + 1) << 32 | fid → stack */
} ft_stacks;

#define FT_STACKS_NO_CHILD UINT64_MAX

void ft_stacks_init(ft_stacks *s);
void ft_stacks_fini(ft_stacks *s);

/* Slow path of ft_stacks_intern: append a new stack. */
ft_status ft_stacks_append(ft_stacks *s, uint32_t prefix, uint32_t fid, uint32_t *out);

/* The index of the stack "prefix, then fid", adding it if new. FT_ENOMEM (also when the
 * table is full). */
static inline ft_status ft_stacks_intern(ft_stacks *s, uint32_t prefix, uint32_t fid,
                                         uint32_t *out)
{
    uint64_t *last = prefix == FT_STACK_NONE ? &s->root_last_call : &s->last_call[prefix];
    uint64_t key;
    uint32_t v;
    ft_status st;

    /* NO_CHILD never matches: its child half is not a valid stack index. */
    if (*last >> 32 == fid && (uint32_t)*last < FT_STACKS_MAX) {
        *out = (uint32_t)*last;
        return FT_OK;
    }
    key = ((uint64_t)prefix + 1) << 32 | fid;   /* NONE + 1 wraps to 0 */
    v = ft_intmap_get(&s->index, key);
    if (v == FT_INTMAP_EMPTY) {
        if ((st = ft_stacks_append(s, prefix, fid, &v)))
            return st;
        /* Appending may have moved last_call. */
        last = prefix == FT_STACK_NONE ? &s->root_last_call : &s->last_call[prefix];
    }
    *last = (uint64_t)fid << 32 | v;
    *out = v;
    return FT_OK;
}

#endif
