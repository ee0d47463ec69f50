/* sigguard.c — guards in front of Python-level handlers of fatal signals (see sigguard.h). */
#include "sigguard.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A blocked main thread is nudged every NUDGE_NS; after MAX_NUDGES the default action is
 * taken without the Python handler. */
#define NUDGE_NS (10 * 1000 * 1000)
#define MAX_NUDGES 100

#if defined(SIGEV_THREAD_ID) && defined(__linux__)
#define HAVE_NUDGE 1
#endif

#define MAX_SIG 65

static struct guard {
    void (*python)(int);            /* Python's own handler, called first */
    volatile sig_atomic_t armed;    /* nudging until the Python handler runs */
    volatile sig_atomic_t nudges;
    volatile pid_t owner;           /* the process whose Python side installed the guard */
#ifdef HAVE_NUDGE
    timer_t timer;
    volatile pid_t timer_pid;       /* the process the timer belongs to (not inherited) */
#endif
} guards[MAX_SIG];

static struct guard *guard_of(int sig)
{
    return sig > 0 && sig < MAX_SIG ? &guards[sig] : NULL;
}

#ifdef HAVE_NUDGE
static void arm(struct guard *g)
{
    struct itimerspec its;

    memset(&its, 0, sizeof its);
    its.it_value.tv_nsec = NUDGE_NS;
    (void)timer_settime(g->timer, 0, &its, NULL);   /* async-signal-safe */
}

static void disarm(struct guard *g)
{
    struct itimerspec its;

    if (g->timer_pid != getpid())
        return;
    memset(&its, 0, sizeof its);
    (void)timer_settime(g->timer, 0, &its, NULL);
}

static int make_timer(struct guard *g, int sig)
{
    struct sigevent sev;

    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = sig;
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (g->timer_pid == getpid())
        (void)timer_delete(g->timer);
    g->timer_pid = 0;
    if (timer_create(CLOCK_MONOTONIC, &sev, &g->timer))
        return -1;
    g->timer_pid = getpid();
    return 0;
}
#endif

/* The default action, now: the process dies of sig as it would have without us. */
static void die_of(int sig)
{
    struct sigaction dfl;

    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    (void)sigaction(sig, &dfl, NULL);
    raise(sig);   /* delivered when the handler returns */
}

/* Signal context: getpid, timer_settime, sigaction, raise, and Python's own handler (which
 * is written to run in signal context). */
static void on_signal(int sig)
{
    int saved = errno;
    struct guard *g = guard_of(sig);

    if (!g)
        return;
    if (g->owner != getpid()) {
        /* A fork child whose Python side has not taken over yet: the interpreter's
         * after-fork code would drop the signal, and a child of subprocess on its way to
         * exec() would swallow it. The program leaves sig at SIG_DFL: die of it. */
        die_of(sig);
        goto out;
    }
    if (g->python)
        g->python(sig);
#ifdef HAVE_NUDGE
    if (g->armed && g->timer_pid == g->owner) {
        if (++g->nudges > MAX_NUDGES)
            die_of(sig);
        else
            arm(g);
    }
#endif
out:
    errno = saved;
}

int ft_sigguard_install(int sig)
{
    struct guard *g = guard_of(sig);
    struct sigaction cur, sa;

    if (!g) {
        errno = EINVAL;
        return -1;
    }
    if (sigaction(sig, NULL, &cur))
        return -1;
    if (cur.sa_handler == on_signal)
        return 0;
    if (cur.sa_handler == SIG_DFL || cur.sa_handler == SIG_IGN || (cur.sa_flags & SA_SIGINFO)) {
        errno = EINVAL;   /* not a Python handler */
        return -1;
    }
#ifdef HAVE_NUDGE
    if (g->timer_pid != getpid() && make_timer(g, sig))
        return -1;
    disarm(g);
#endif
    g->armed = 1;
    g->nudges = 0;
    g->owner = getpid();
    g->python = cur.sa_handler;
    sa = cur;
    sa.sa_handler = on_signal;
    return sigaction(sig, &sa, NULL);
}

void ft_sigguard_handled(int sig)
{
    struct guard *g = guard_of(sig);

    if (!g)
        return;
    g->armed = 0;
#ifdef HAVE_NUDGE
    disarm(g);
#endif
}

void ft_sigguard_remove(int sig)
{
    struct guard *g = guard_of(sig);
    struct sigaction cur;

    if (!g)
        return;
    ft_sigguard_handled(sig);
    /* Back to Python's handler if ours is still in place. */
    if (sigaction(sig, NULL, &cur) == 0 && cur.sa_handler == on_signal && g->python) {
        cur.sa_handler = g->python;
        (void)sigaction(sig, &cur, NULL);
    }
}

void ft_sigguard_after_fork(void)
{
    for (int sig = 1; sig < MAX_SIG; sig++) {
        struct guard *g = &guards[sig];
        struct sigaction cur;

        if (!g->python || sigaction(sig, NULL, &cur) || cur.sa_handler != on_signal)
            continue;
#ifdef HAVE_NUDGE
        g->timer_pid = 0;   /* the parent's timer id means nothing here */
        (void)make_timer(g, sig);
#endif
        g->nudges = 0;
        g->armed = 1;
        g->owner = getpid();
    }
}
