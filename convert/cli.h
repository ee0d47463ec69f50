/* cli.h — parsing the values of ft-convert's options (main.c owns the option table).
 *
 * Each parser returns 0 and the value, or -1 after printing on stderr what is wrong with
 * the value and what a right one looks like. */
#ifndef FT_CLI_H
#define FT_CLI_H

#include <stdint.h>

/* A time or duration: seconds ("1.5"), or a number with a unit: "250ms", "30us", "100ns",
 * "2s". Negative values are refused. */
int ft_cli_duration(const char *opt, const char *arg, uint64_t *ns);

/* A positive integer (a pid, a tid, a count) no larger than max. */
int ft_cli_uint(const char *opt, const char *arg, uint64_t max, uint64_t *v);

#endif
