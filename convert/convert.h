/* convert.h — one conversion from start to end: find the run, place its processes on one
 * time base, read them one at a time into the Firefox sink, write the profile.
 *
 * This is the converter as a library call; main.c only parses arguments around it and
 * turns its result into an exit status. Processes are converted one after the other and
 * each is freed once written, so memory is bounded by the largest process's share of the
 * output, not by the trace. */
#ifndef FT_CONVERT_H
#define FT_CONVERT_H

#include <stdint.h>
#include "report.h"

typedef struct ft_convert_opts {
    const char *input;    /* output dir, run dir or .ftrace file */
    const char *output;   /* profile path; "-" for stdout; ".gz" suffix for gzip */
} ft_convert_opts;

typedef enum ft_convert_result {
    FT_CONVERT_OK = 0,       /* profile written, no problem met */
    FT_CONVERT_FAILED,       /* nothing written: nothing readable, or a fatal error */
    FT_CONVERT_DAMAGED,      /* profile written, but some input was damaged or cut short */
} ft_convert_result;

typedef struct ft_convert_stats {
    uint32_t processes, threads;
    uint64_t events, samples, bytes;
    double seconds;
} ft_convert_stats;

/* Convert; every problem and note goes to r. stats may be NULL. */
ft_convert_result ft_convert(const ft_convert_opts *o, ft_report *r, ft_convert_stats *stats);

#endif
