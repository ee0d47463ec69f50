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
#include <stdio.h>
#include "filter.h"
#include "report.h"

/* Longest process name (and marker text) kept: a `python -c '<program>'` would otherwise
 * name a track with a whole program. */
#define FT_PROCESS_NAME_MAX 160

typedef struct ft_convert_opts {
    const char *input;    /* output dir, run dir or .ftrace file */
    const char *output;   /* profile path; "-" for stdout; ".gz" suffix for gzip */
    const char *run_id;   /* with an output dir: the run to convert (or a unique prefix of
                             its id); NULL for the latest */
    /* Since issue 8; zero means the default. */
    const char *format;   /* a sink name (sink.h): "firefox" (default), "chrome", "summary" */
    unsigned top;         /* summary: functions per table */
    const ft_filter *filter;       /* NULL: convert everything */
    /* --merge-runs: every run of these inputs (or of those run ids, when nrun_ids > 0)
     * on one timeline; input and run_id are then ignored. */
    const char *const *merge_inputs;
    size_t nmerge_inputs;
    const char *const *run_ids;
    size_t nrun_ids;
    int progress;         /* show a progress line on the report's stream */
    uint64_t warn_bytes;  /* warn when JSON output may exceed this (0: FT_CONVERT_WARN_BYTES) */
} ft_convert_opts;

/* Browsers fail to open profiles much larger than this (their JSON parser's string and
 * heap limits): above it ft-convert warns and suggests the filters. */
#define FT_CONVERT_WARN_BYTES (1000ull * 1000 * 1000)

typedef enum ft_convert_result {
    FT_CONVERT_OK = 0,       /* profile written, no problem met */
    FT_CONVERT_FAILED,       /* nothing written: nothing readable, or a fatal error */
    FT_CONVERT_DAMAGED,      /* profile written, but some input was damaged or cut short */
} ft_convert_result;

typedef struct ft_convert_stats {
    uint32_t processes, threads;
    uint64_t events, samples, bytes;
    uint64_t folded;      /* calls folded away by --min-duration */
    double seconds;
} ft_convert_stats;

struct ft_run;
/* The trace files o names (input and run_id, or merge_inputs and run_ids), problems
 * reported to r: 0, or nonzero when there is nothing to read. */
int ft_convert_find_run(const ft_convert_opts *o, struct ft_run *run, ft_report *r);

/* Convert; every problem and note goes to r. stats may be NULL. */
ft_convert_result ft_convert(const ft_convert_opts *o, ft_report *r, ft_convert_stats *stats);

/* List the runs of an output directory (or the one run of a run directory) on out, one
 * line each after a heading: run id, trace files, processes, start time (UTC), and the
 * command that was recorded. Only headers are read. FT_CONVERT_OK, FT_CONVERT_DAMAGED
 * when some run could not be listed, FT_CONVERT_FAILED when nothing could (or out failed). */
ft_convert_result ft_convert_list(const char *input, FILE *out, ft_report *r);

#endif
