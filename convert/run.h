/* run.h — from the path the user gave to the trace files of one run (FORMAT.md §1).
 *
 * The path is one of: an output directory holding run directories (the run whose name
 * sorts last is taken: run ids sort by start time), a run directory holding *.ftrace
 * files, or one trace file. Nothing here opens a trace: that is proc.c. */
#ifndef FT_RUN_H
#define FT_RUN_H

#include <stddef.h>
#include "ft_status.h"
#include "report.h"

typedef struct ft_run {
    char *dir;        /* the run directory, or NULL when a single file was given */
    char **files;     /* paths of the trace files, sorted by name */
    size_t nfiles;
    size_t nruns;     /* run directories seen when an output directory was given, else 0 */
} ft_run;

/* Resolve path. Problems (no such file, no traces found) are reported to r and returned:
 * FT_EIO (cannot read path), FT_END (nothing to convert there), FT_ENOMEM. Says on r which
 * run it picked when it had to choose one. */
ft_status ft_run_find(const char *path, ft_run *run, ft_report *r);
void ft_run_fini(ft_run *run);

#endif
