/* clock.c — the TSC stand-in for CLOCK_MONOTONIC behind ft_clock_fast (see clock.h).
 *
 * Used only where the kernel itself derives CLOCK_MONOTONIC from the TSC, on a CPU whose TSC
 * is invariant (constant rate, not stopped in idle states):
 *   - clocksource "tsc": the kernel has checked that the counter agrees across CPUs;
 *   - a paravirtual clock read from the TSC in user space: "kvm-clock" (KVM, Firecracker),
 *     "xen", "hyperv_clocksource_tsc_page". These come in two forms. When the hypervisor
 *     vouches that the guest's TSC is stable and the same on every vCPU
 *     (PVCLOCK_TSC_STABLE_BIT for kvm-clock and xen), the vDSO reads the clock from the TSC
 *     with no system call; otherwise every clock_gettime enters the kernel. So the
 *     promise is observed rather than assumed: clock_gettime must be several times cheaper
 *     than the same system call made directly (here 81 against 2600 TSC ticks). Such
 *     guests are common (cloud VMs boot with clocksource=kvm-clock and often tsc=unstable,
 *     which only stops the kernel from using the TSC itself), and there clock_gettime costs
 *     ~22 ns against ~9 ns for RDTSC, on each of the two events of every traced call.
 * The rate is measured against CLOCK_MONOTONIC: first over ~200 µs at init, then from that
 * first reading to each new anchor, so it only gets more exact; and since anchors come at
 * least every FT_CLOCK_ANCHOR_NS, even a rate off by the kernel's largest NTP slew (500 ppm)
 * would put a timestamp off by half a microsecond at most. An anchor that finds the TSC
 * far from where the rate put it (a VM restored from a snapshot, moved to another host)
 * starts the measurement of the rate over from there.
 *
 * FUNCTIONTRACE_CLOCK=exact keeps clock_gettime for every timestamp: for measuring what the
 * TSC saves, and for a machine whose TSC misbehaves in a way the kernel did not notice. */
#include "clock.h"

#ifdef FT_CLOCK_TSC

#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CALIBRATION_NS 200000u
#define CLOCKSOURCE "/sys/devices/system/clocksource/clocksource0/current_clocksource"
#define CLOCK_ENV "FUNCTIONTRACE_CLOCK"

ft_tsc ft_tsc_state;

/* An anchor this far (ns) from where the rate puts it restarts the rate's measurement. */
#define JUMP_NS 20000u

static int initialised;
static uint64_t origin_tsc, origin_ns;
static const char *source = "clock_gettime";

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

static int read_clocksource(char *buf, size_t size)
{
    FILE *f = fopen(CLOCKSOURCE, "r");
    size_t n;

    if (!f)
        return -1;
    if (!fgets(buf, (int)size, f))
        buf[0] = '\0';
    fclose(f);
    n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    return 0;
}

/* clock_gettime is answered in user space (the vDSO): fewest TSC ticks of a few calls,
 * against a few direct system calls. */
static int clock_in_user_space(void)
{
    uint64_t best_vdso = UINT64_MAX, best_sys = UINT64_MAX;
    struct timespec t;

    for (int i = 0; i < 16; i++) {
        uint64_t a = __rdtsc();
        clock_gettime(FT_CLOCK, &t);
        uint64_t b = __rdtsc();
        if (syscall(SYS_clock_gettime, FT_CLOCK, &t) != 0)
            return 0;
        uint64_t c = __rdtsc();
        if (b - a < best_vdso)
            best_vdso = b - a;
        if (c - b < best_sys)
            best_sys = c - b;
    }
    return best_vdso * 4 < best_sys;
}

/* The kernel reads CLOCK_MONOTONIC from the TSC (see the top of this file). */
static int kernel_uses_tsc(void)
{
    static const char *const paravirt[] = { "kvm-clock", "xen",
                                            "hyperv_clocksource_tsc_page" };
    static char name[32];

    if (read_clocksource(name, sizeof name))
        return 0;
    if (strcmp(name, "tsc") == 0) {
        source = "tsc";
        return 1;
    }
    for (size_t i = 0; i < sizeof paravirt / sizeof *paravirt; i++)
        if (strcmp(name, paravirt[i]) == 0 && clock_in_user_space()) {
            source = name;
            return 1;
        }
    return 0;
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
    uint64_t t, n, expect;

    read_pair(&t, &n);
    if (t > ft_tsc_state.base_tsc) {
        expect = ft_tsc_state.base_ns +
                 (uint64_t)(((unsigned __int128)(t - ft_tsc_state.base_tsc) *
                             ft_tsc_state.mult) >> 32);
        if (expect > n + JUMP_NS || n > expect + JUMP_NS) {
            /* The TSC jumped or changed its rate: measure the rate again from here, with
             * the old one meanwhile. */
            origin_tsc = t;
            origin_ns = n;
            ft_tsc_state.base_tsc = t;
            ft_tsc_state.base_ns = n;
            return n;
        }
    }
    if (t <= origin_tsc || set_rate(t - origin_tsc, n - origin_ns)) {
        ft_tsc_state.on = 0;
        source = "clock_gettime";
        return n;
    }
    ft_tsc_state.base_tsc = t;
    ft_tsc_state.base_ns = n;
    return n;
}

const char *ft_clock_source(void)
{
    return ft_tsc_state.on ? source : "clock_gettime";
}

#else

void ft_clock_init(void)
{
}

const char *ft_clock_source(void)
{
    return "clock_gettime";
}

#endif
