/* clock.h — the one clock of every timestamp in a trace (FORMAT.md §4.1).
 *
 * CLOCK_MONOTONIC is shared by every process of a boot, so traces of a parent and its
 * children line up without calibration, and on Linux clock_gettime reads it through the vDSO
 * (no system call). ft_clock_now reads it exactly.
 *
 * Event timestamps take ft_clock_fast instead: the same clock read through the CPU's time
 * stamp counter. On this project's reference VM clock_gettime costs ~29 ns and RDTSC ~11 ns,
 * with two reads per traced call; the vDSO itself does exactly this (TSC × mult) when the
 * kernel's clocksource is the TSC, which is the only case where we use it (clock.c). The
 * conversion is re-anchored on CLOCK_MONOTONIC at least every FT_CLOCK_ANCHOR_NS, so a fast
 * timestamp is within a fraction of a microsecond of what clock_gettime would have said;
 * tstate.h keeps a thread's timestamps from going backwards across a re-anchoring. Elsewhere,
 * or with FUNCTIONTRACE_CLOCK=exact, ft_clock_fast is ft_clock_now. The state is process-wide and read and written with the GIL
 * held, like every caller's. */
#ifndef FT_CLOCK_H
#define FT_CLOCK_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <x86intrin.h>
#define FT_CLOCK_TSC 1
#endif

#define FT_CLOCK CLOCK_MONOTONIC
#define FT_CLOCK_NAME "CLOCK_MONOTONIC"
#define FT_CLOCK_ANCHOR_NS 1000000u

static inline uint64_t ft_clock_now(void)
{
    struct timespec ts;
    clock_gettime(FT_CLOCK, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t ft_clock_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

/* Once per process, with the GIL: decide whether the TSC can stand in for the clock and
 * calibrate it (a few hundred microseconds). Idempotent. */
void ft_clock_init(void);

/* What ft_clock_fast reads, after ft_clock_init: the clocksource whose TSC stands in for
 * CLOCK_MONOTONIC ("tsc", "kvm-clock", ...), or "clock_gettime". */
const char *ft_clock_source(void);

#ifdef FT_CLOCK_TSC
typedef struct ft_tsc {
    uint64_t base_tsc, base_ns;   /* the latest anchor: a (TSC, CLOCK_MONOTONIC) pair */
    uint64_t mult;                /* ns per tick, 32.32 fixed point */
    uint64_t span;                /* ticks after base_tsc before the next anchor */
    int on;
} ft_tsc;

extern ft_tsc ft_tsc_state;

/* Slow path of ft_clock_fast: take a new anchor and return its time. */
uint64_t ft_clock_reanchor(void);

static inline uint64_t ft_clock_fast(void)
{
    if (__builtin_expect(ft_tsc_state.on, 1)) {
        /* Unsigned: a TSC read before base_tsc (another CPU's, a few ticks behind) is
         * far beyond span, and re-anchors. */
        uint64_t d = __rdtsc() - ft_tsc_state.base_tsc;
        if (__builtin_expect(d < ft_tsc_state.span, 1))
            return ft_tsc_state.base_ns +
                   (uint64_t)(((unsigned __int128)d * ft_tsc_state.mult) >> 32);
        return ft_clock_reanchor();
    }
    return ft_clock_now();
}
#else
static inline uint64_t ft_clock_fast(void)
{
    return ft_clock_now();
}
#endif

#endif
