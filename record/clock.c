/* clock.c — the TSC stand-in for CLOCK_MONOTONIC behind ft_clock_fast (see clock.h).
 *
 * Used only when the kernel itself derives CLOCK_MONOTONIC from the TSC (its clocksource
 * is "tsc") on a CPU whose TSC is invariant: the kernel has then checked that the counter
 * ticks at a constant rate and agrees across CPUs, which is what we rely on. The rate is
 * measured against CLOCK_MONOTONIC: first over ~200 µs at init, then from that first
 * reading to each new anchor, so it only gets more exact; and since anchors come at least
 * every FT_CLOCK_ANCHOR_NS, even a rate off by the kernel's largest NTP slew (500 ppm)
 * would put a timestamp off by half a microsecond at most.
 *
 * FUNCTIONTRACE_CLOCK=exact keeps clock_gettime for every timestamp: for measuring what the
 * TSC saves, and for a machine whose TSC misbehaves in a way the kernel did not notice. */
#include "clock.h"

#ifdef FT_CLOCK_TSC

#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALIBRATION_NS 200000u
#define CLOCKSOURCE "/sys/devices/system/clocksource/clocksource0/current_clocksource"
#define CLOCK_ENV "FUNCTIONTRACE_CLOCK"

ft_tsc ft_tsc_state;

static int initialised;
static uint64_t origin_tsc, origin_ns;

/* A (TSC, clock) pair: the TSC halfway between two reads around clock_gettime, from the
 * tightest of a few tries, so that a preemption or an interrupt does not skew it. */
static void read_pair(uint64_t *tsc, uint64_t *ns)
{
    uint64_t best = UINT64_MAX;

    for (int i = 0; i < 4; i++) {
        uint64_t a = __rdtsc(), n = ft_clock_now(), b = __rdtsc();
        if (b - a < best) {
            best = b - a;
            *tsc = a + (b - a) / 2;
            *ns = n;
        }
    }
}

static int invariant_tsc(void)
{
    unsigned a, b, c, d;

    if (!__get_cpuid(0x80000007, &a, &b, &c, &d))
        return 0;
    return (d >> 8) & 1;
}

static int kernel_uses_tsc(void)
{
    char buf[32] = "";
    FILE *f = fopen(CLOCKSOURCE, "r");

    if (!f)
        return 0;
    if (!fgets(buf, sizeof buf, f))
        buf[0] = '\0';
    fclose(f);
    return strcmp(buf, "tsc\n") == 0;
}

/* 0, or -1 for a rate no TSC has (a counter that stopped or ran wild): the exact clock
 * then serves instead. */
static int set_rate(uint64_t ticks, uint64_t ns)
{
    unsigned __int128 mult;

    if (ticks == 0)
        return -1;
    mult = ((unsigned __int128)ns << 32) / ticks;
    /* Between 0.1 and 20 GHz. */
    if (mult < ((uint64_t)1 << 32) / 20 || mult > ((uint64_t)10 << 32))
        return -1;
    ft_tsc_state.mult = (uint64_t)mult;
    ft_tsc_state.span = (uint64_t)(((unsigned __int128)FT_CLOCK_ANCHOR_NS << 32) / mult);
    return 0;
}

void ft_clock_init(void)
{
    uint64_t t, n;

    const char *want = getenv(CLOCK_ENV);

    if (initialised)
        return;
    initialised = 1;
    if ((want && strcmp(want, "exact") == 0) || !invariant_tsc() || !kernel_uses_tsc())
        return;
    read_pair(&origin_tsc, &origin_ns);
    do
        read_pair(&t, &n);
    while (n - origin_ns < CALIBRATION_NS);
    if (t <= origin_tsc || set_rate(t - origin_tsc, n - origin_ns))
        return;
    ft_tsc_state.base_tsc = t;
    ft_tsc_state.base_ns = n;
    ft_tsc_state.on = 1;
}

uint64_t ft_clock_reanchor(void)
{
    uint64_t t, n;

    read_pair(&t, &n);
    if (t <= origin_tsc || set_rate(t - origin_tsc, n - origin_ns)) {
        ft_tsc_state.on = 0;
        return n;
    }
    ft_tsc_state.base_tsc = t;
    ft_tsc_state.base_ns = n;
    return n;
}

#else

void ft_clock_init(void)
{
}

#endif
