/* cli.c — option values (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ft_cli_duration(const char *opt, const char *arg, uint64_t *ns)
{
    static const struct { const char *unit; double ns; } units[] = {
        { "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 }, { "ns", 1 },
    };
    char *end;
    double v;

    errno = 0;
    v = strtod(arg, &end);
    if (end != arg && !errno && isfinite(v) && v >= 0) {
        for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
            double total = v * units[i].ns;
            if (strcmp(end, units[i].unit) == 0 && total < 1.8e19) {
                *ns = (uint64_t)llround(total);
                return 0;
            }
        }
    }
    fprintf(stderr, "ft-convert: %s: '%s' is not a time; give seconds (e.g. 1.5) or a "
            "number with a unit: 250ms, 30us, 100ns\nTry 'ft-convert --help'.\n", opt, arg);
    return -1;
}

int ft_cli_uint(const char *opt, const char *arg, uint64_t max, uint64_t *v)
{
    char *end;

    errno = 0;
    *v = strtoull(arg, &end, 10);
    if (end != arg && !*end && !errno && *v > 0 && *v <= max && arg[0] != '-')
        return 0;
    fprintf(stderr, "ft-convert: %s: '%s' is not a number from 1 to %llu\n"
            "Try 'ft-convert --help'.\n", opt, arg, (unsigned long long)max);
    return -1;
}
