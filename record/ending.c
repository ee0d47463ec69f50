/* ending.c — the pending trailer and its two writers, on_exit and a signal (see ending.h). */
#include "ending.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ft_buf.h"

#define MAX_SIGNALS 8
#define MAX_HELPERS 4
#define HELPER_WAIT_MS 1000

static struct {
    volatile sig_atomic_t pending;
    int claimed;                    /* set (atomically) by whoever writes the trailer */
    uint64_t end_ns;
    char *label;                    /* malloc'd, or NULL */
    size_t nsig;
    int signo[MAX_SIGNALS];
    ft_buf frame[MAX_SIGNALS];      /* the trailer frame for signo[i] */
    size_t nhelpers;
    struct { int fd, pid; } helper[MAX_HELPERS];
} pend;

/* First caller wins; the loser writes nothing. */
static int claim(void)
{
    return __atomic_exchange_n(&pend.claimed, 1, __ATOMIC_SEQ_CST) == 0;
}

static void forget(void)
{
    pend.pending = 0;
    for (size_t i = 0; i < pend.nsig; i++)
        ft_buf_fini(&pend.frame[i]);
    pend.nsig = 0;
    free(pend.label);
    pend.label = NULL;
    pend.nhelpers = 0;
    __atomic_store_n(&pend.claimed, 0, __ATOMIC_SEQ_CST);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Close the helpers' pipes and reap them, for at most HELPER_WAIT_MS in all. */
static void wait_helpers(size_t n, const int *fds, int *pids)
{
    struct timespec tick = { 0, 1000000 };
    uint64_t deadline = now_ms() + HELPER_WAIT_MS;
    size_t left = n;

    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    while (left > 0 && now_ms() < deadline) {
        for (size_t i = 0; i < n; i++) {
            pid_t r;
            if (pids[i] <= 0)
                continue;
            r = waitpid(pids[i], NULL, WNOHANG);
            if (r == pids[i] || (r < 0 && errno != EINTR)) {
                pids[i] = 0;
                left--;
            }
        }
        if (left > 0)
            nanosleep(&tick, NULL);
    }
}

static void write_exit_trailer(int has_status, int status)
{
    ft_trailer how;
    ft_writer_stats ignored;
    int fds[MAX_HELPERS], pids[MAX_HELPERS];
    size_t n;

    if (!pend.pending || !claim())
        return;
    memset(&how, 0, sizeof how);
    how.end_reason = "exit";
    how.has_exit_status = has_status;
    how.exit_status = status & 0xff;   /* what the parent's waitpid() sees */
    how.process_label = pend.label;
    ft_writer_close(pend.end_ns, &how, &ignored);
    n = pend.nhelpers;
    for (size_t i = 0; i < n; i++) {
        fds[i] = pend.helper[i].fd;
        pids[i] = pend.helper[i].pid;
    }
    forget();
    wait_helpers(n, fds, pids);
}

#ifdef __GLIBC__
static void at_process_exit(int status, void *unused)
{
    (void)unused;
    write_exit_trailer(1, status);
}
#else
static void at_process_exit(void)
{
    write_exit_trailer(0, 0);   /* no on_exit(): "exit" without a status */
}
#endif

int ft_ending_init(void)
{
#ifdef __GLIBC__
    return on_exit(at_process_exit, NULL) == 0 ? 0 : -1;
#else
    return atexit(at_process_exit) == 0 ? 0 : -1;
#endif
}

int ft_ending_defer(uint64_t end_ns, const char *label)
{
    forget();
    if (label && !(pend.label = strdup(label)))
        return -1;
    pend.end_ns = end_ns;
    pend.pending = 1;
    return 0;
}

int ft_ending_pending(void)
{
    return pend.pending;
}

void ft_ending_finish(const ft_trailer *how, ft_writer_stats *stats)
{
    ft_trailer t = *how;

    if (!pend.pending || !claim()) {
        ft_writer_get_stats(stats);
        return;
    }
    if (!t.process_label)
        t.process_label = pend.label;
    ft_writer_close(pend.end_ns, &t, stats);
    forget();
}

/* A writer that failed (disk full...) writes no more frames, so there is no trailer for a
 * signal handler to append: the signals keep their default action. */
static int writer_failed(void)
{
    ft_writer_stats s;
    ft_writer_get_stats(&s);
    return s.failed;
}

/* Signal context: write(2), sigaction(2) and raise(3) only. SA_RESETHAND has restored
 * SIG_DFL on entry; the signal raised again is delivered when this returns (it is blocked
 * meanwhile), so the process ends exactly as it would have. */
static void on_signal(int sig)
{
    int saved = errno;

    for (size_t i = 0; i < pend.nsig; i++) {
        if (pend.signo[i] == sig) {
            if (pend.pending && claim())
                ft_writer_put_frame_signal_safe(pend.frame[i].ptr, pend.frame[i].len);
            break;
        }
    }
    raise(sig);
    errno = saved;
}

int ft_ending_catch_signals(const int *signals, size_t n)
{
    struct sigaction sa;
    ft_trailer how;

    if (!pend.pending || writer_failed())
        return 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < n && pend.nsig < MAX_SIGNALS; i++) {
        size_t k = pend.nsig;
        memset(&how, 0, sizeof how);
        how.end_reason = "signal";
        how.has_signal = 1;
        how.signal = (uint64_t)signals[i];
        how.process_label = pend.label;
        ft_buf_init(&pend.frame[k]);
        if (ft_writer_prepare_trailer(pend.end_ns, &how, &pend.frame[k])) {
            ft_buf_fini(&pend.frame[k]);
            errno = ENOMEM;
            return -1;
        }
        /* Visible to the handler before it can run. */
        pend.signo[k] = signals[i];
        __atomic_store_n(&pend.nsig, k + 1, __ATOMIC_SEQ_CST);
        if (sigaction(signals[i], &sa, NULL))
            return -1;
    }
    return 0;
}

int ft_ending_wait_for(int fd, int pid)
{
    if (pend.nhelpers >= MAX_HELPERS)
        return -1;
    pend.helper[pend.nhelpers].fd = fd;
    pend.helper[pend.nhelpers].pid = pid;
    pend.nhelpers++;
    return 0;
}

void ft_ending_forget(void)
{
    forget();
}
