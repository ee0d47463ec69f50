/* clock.h — the one clock of every timestamp in a trace (FORMAT.md §4.1).
 *
 * CLOCK_MONOTONIC is shared by every process of a boot, so traces of a parent and its
 * children line up without calibration, and on Linux clock_gettime reads it through the vDSO
 * (no system call, ~20 ns). */
#ifndef FT_CLOCK_H
#define FT_CLOCK_H

#include <stdint.h>
#include <time.h>

#define FT_CLOCK CLOCK_MONOTONIC
#define FT_CLOCK_NAME "CLOCK_MONOTONIC"

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

#endif
