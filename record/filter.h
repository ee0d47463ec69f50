/* filter.h — what a recording leaves out: functions by module or file (glob patterns), and
 * calls deeper than a maximum depth.
 *
 * Patterns cost nothing per event: each function is judged once, when it is interned
 * (intern.c), and a function left out is remembered as such (its code object's extra slot,
 * or a table of native functions), so its events are dropped on the interning slow path
 * without being named again. Its callees are judged on their own.
 *
 * The depth limit needs a per-thread count of every push and pop, which the hot path must not
 * pay for when there is no limit: ft_g.active is FT_ACTIVE_LIMITED instead of FT_ACTIVE
 * then, so the hooks' one "recording?" test (ft_g.active != FT_ACTIVE) sends them to the
 * counting path. The count is the call depth since the recording started (frames entered
 * before it are not counted; a pop below 0 is recorded and leaves the count at 0; a fork
 * child goes on with its parent's count), and counts
 * functions left out by patterns too, so that depth means the program's own call depth. */
#ifndef FT_FILTER_H
#define FT_FILTER_H

#include "session.h"

#define FT_ACTIVE 1
#define FT_ACTIVE_LIMITED 2

/* Set for the next recording (cold path): include and exclude are sequences of str (or
 * None), max_depth 0 for no limit. 0, or -1 with an exception set. */
int ft_filter_set(PyObject *include, PyObject *exclude, unsigned long max_depth);
/* The value ft_g.active takes while recording with these settings. */
int ft_filter_active_value(void);
/* Whether any pattern is set: otherwise every function is recorded. */
int ft_filter_has_patterns(void);
/* Whether a function of module mod (dotted name; may be empty) defined in file (may be
 * empty for a native function) is recorded. Strings need not be NUL-terminated. */
int ft_filter_wants(const char *mod, size_t mod_len, const char *file, size_t file_len);

/* The depth count of the calling thread, for an event that is a push (enter) or a pop
 * (leave): 1 when the event is beyond the limit and must be dropped. Every enter must be
 * followed by its leave, whether or not the event was recorded. */
int ft_depth_enter(void);
int ft_depth_leave(void);
/* At start(), after the generation was bumped from old_gen: a fork child's thread keeps the
 * depth it had in its parent's recording, so that the limit means the same in both. */
void ft_depth_carry(uint32_t old_gen);

#endif
