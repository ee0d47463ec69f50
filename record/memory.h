/* memory.h — memory tracing (opt-in): Python's allocators wrapped, each allocation and free
 * of the PYMEM_DOMAIN_MEM and PYMEM_DOMAIN_OBJ domains recorded as an ALLOC or FREE record
 * (FORMAT.md §4.7) in the calling thread's chunk.
 *
 * Those two domains are called with the GIL held, so the wrappers may use the thread's
 * buffer as the hooks do; PYMEM_DOMAIN_RAW is not (it may run without the GIL, and before
 * the interpreter exists) and is left alone. When memory is not asked for, nothing is
 * installed: the recorder's hot path is the same as without this file.
 *
 * What is recorded, per wrapped call: malloc/calloc an ALLOC (address, size asked for);
 * free a FREE (address; not for NULL); realloc a FREE of the old block (when not NULL) and
 * an ALLOC of the new one, even at the same address, and nothing when it fails.
 *
 * What is not: the recorder's own allocations (ft_mem_busy, tstate.h, is set around each of
 * its slow paths in the thread, and the wrappers pass those calls straight on); those of a
 * thread that has not recorded an event yet in this session or whose buffer is gone (a
 * thread being torn down): giving it one would mean running the slow path, Python lookups
 * included, inside an allocation that may be in the middle of changing a dict. They are
 * counted (ft_memory_dropped). A free of such a block later is recorded; the converter
 * drops frees of blocks it never saw allocated.
 *
 * Life: ft_memory_start() (from start(), GIL held) wraps both domains, or switches on
 * wrappers of ours still installed from an earlier session; ft_memory_stop() switches them
 * off and takes them out when they are still the installed allocators. When another tool
 * wrapped the allocators after us, ours stay in its chain and pass every call through. A
 * fork child inherits the wrappers: they record nothing until its own start() (its session
 * is inactive until then), which switches them on again if the child records memory. */
#ifndef FT_MEMORY_H
#define FT_MEMORY_H

#include <stdint.h>

/* Switch memory recording on for the session being started (GIL held). 0. */
int ft_memory_start(void);
/* Switch it off; unwrap the allocators where ours are still the installed ones. Idempotent. */
void ft_memory_stop(void);
/* Allocations and frees left out since the process started (see above). */
uint64_t ft_memory_dropped(void);

#endif
