/* sigguard.h — make sure a Python-level handler of a fatal signal runs, promptly.
 *
 * The Python side catches SIGTERM/SIGHUP (and SIGINT set to SIG_DFL) with a Python handler
 * that writes the trace, then dies of the signal (functiontrace/_process.py). A Python
 * handler only runs when the main thread next checks for signals, and three things can
 * stop that from happening where the default action would simply have killed the process:
 *
 * 1. A signal that arrives in a fork child before the interpreter's after-fork code (a
 *    multiprocessing worker terminated right after start()) is cleared by it.
 * 2. A signal that arrives while the main thread is between two system calls of a blocking
 *    C function that retries without checking for signals (glibc's sem_wait between two
 *    futex waits: a Pool worker terminated while the parent takes the queue's lock) is
 *    noticed only at the next interruption, possibly never.
 * 3. A main thread in a long C call that holds the GIL runs no handler until it returns.
 *
 * (A fourth: in a child of subprocess on its way to exec() (a plain fork() on 3.8/3.9), any
 * handler swallows the signal that SIG_DFL would have died of.)
 *
 * So each such signal gets a guard: a C handler installed in front of Python's own (which
 * it calls, so that the Python handler is still what runs). In a process other than the
 * one that installed it (1, 4: a fork child before its Python side took over), it takes the
 * default action at once, as the program expects. Otherwise it arms a timer that sends the
 * signal again to the main thread every NUDGE interval (2: one of them lands in a system
 * call, which then fails with EINTR and runs the handler) until the Python handler reports
 * that it runs, or gives up after a deadline and takes the default action itself (3: the
 * process dies as it would have, its open chunks lost, like a SIGKILL). */
#ifndef FT_SIGGUARD_H
#define FT_SIGGUARD_H

#include "session.h"

/* Put a guard in front of the handler Python has just installed for sig (a Python-level
 * handler), with its timer aimed at the calling thread, which must be the main thread.
 * 0, or -1 with errno set. */
int ft_sigguard_install(int sig);

/* The Python handler of sig is running: stop nudging. */
void ft_sigguard_handled(int sig);

/* Forget the guard of sig (its handler is being replaced): stop nudging. */
void ft_sigguard_remove(int sig);

/* In a fork child, after the interpreter's own after-fork code: the guards now belong to
 * this process, and get new timers (timers do not survive fork) aimed at this thread, the
 * child's main thread. */
void ft_sigguard_after_fork(void);

#endif
