/* ending.h — the last words of a trace when the process ends after Python can act.
 *
 * A process that exits normally runs the Python side's last atexit handler, which writes
 * every event (module.c: stop_at_exit) but cannot know the exit status yet: sys.exit(n) and
 * an uncaught exception become a status only after the interpreter has finalised. So the
 * trailer is left pending here and written by an on_exit() handler, which receives the
 * status (end_reason "exit", exit_status). A later stop() from Python (os._exit or a signal
 * during finalisation) writes it instead, with its own reason.
 *
 * While the trailer is pending, the signals the Python side catches (those the program left
 * at SIG_DFL) are handed to a C handler: finalisation resets Python's handlers, and a
 * multiprocessing worker is often terminated exactly while it exits. That handler runs in
 * signal context, so the trailer frame for each signal is encoded and compressed in advance
 * and the handler only write()s it, restores SIG_DFL and raises the signal again.
 *
 * No Python here: on_exit handlers run after the interpreter is gone. */
#ifndef FT_ENDING_H
#define FT_ENDING_H

#include <stddef.h>
#include <stdint.h>

#include "ft_trace.h"
#include "writer.h"

/* Once per process: register the on_exit handler. 0, or -1. */
int ft_ending_init(void);

/* Leave the open writer's trailer pending: recording stopped at end_ns with every event
 * written. label (copied; may be NULL) goes into the trailer. 0, or -1 (out of memory). */
int ft_ending_defer(uint64_t end_ns, const char *label);

/* A trailer is pending. */
int ft_ending_pending(void);

/* Write the pending trailer now with how's optional fields (process_label defaults to the
 * deferred one), close the file, fill *stats, and forget it. */
void ft_ending_finish(const ft_trailer *how, ft_writer_stats *stats);

/* Catch these signals in C while the trailer is pending: prepare a trailer frame
 * (end_reason "signal") for each and install the handler. The Python side has set them to
 * SIG_DFL first, so that finalisation leaves them alone. 0, or -1 with errno set (some
 * may be installed). */
int ft_ending_catch_signals(const int *signals, size_t n);

/* At the exit that writes the pending trailer, also close fd and wait (all of them
 * together at most HELPER_WAIT_MS) for child pid to end: multiprocessing's resource tracker
 * and forkserver, traced children of ours that end only when their pipe from us closes,
 * i.e. after us: so that the run is complete when the recorded command returns. A pid
 * that is not our child is not waited for. 0, or -1 when the list is full. */
int ft_ending_wait_for(int fd, int pid);

/* In a fork child (atfork handler): forget a pending trailer without writing it. */
void ft_ending_forget(void);

#endif
