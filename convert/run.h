/* run.h — from the path the user gave to the trace files of one run (FORMAT.md §1).
 *
 * The path is one of: an output directory holding run directories (the run whose name
 * sorts last is taken, run ids sorting by start time, unless the user names one), a run
 * directory holding *.ftrace files, or one trace file. Nothing here opens a trace: that
 * is proc.c (and convert.c for the listing of runs). */
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

/* Resolve path. With run_id (not NULL), path is an output directory and the run is its
 * subdirectory of that name, or the one run whose id starts with run_id. Problems (no such
 * file, no traces found, no such run) are reported to r and returned: FT_EIO (cannot read
 * path), FT_END (nothing to convert there), FT_ENOMEM. Says on r which run it picked. */
ft_status ft_run_find(const char *path, const char *run_id, ft_run *run, ft_report *r);
void ft_run_fini(ft_run *run);

/* The trace files of one run directory, quietly (an empty list is FT_OK). FT_EIO with
 * errno set, FT_ENOMEM. Free with ft_run_fini. */
ft_status ft_run_files(const char *dir, ft_run *run);

/* The run directories under path, for --list: those of an output directory, sorted (runs
 * first by the same rule as ft_run_find), or path itself when it is a run directory.
 * Problems are reported to r: FT_EIO, FT_END (no runs), FT_ENOMEM. */
typedef struct ft_run_dirs {
    char **dirs;      /* paths */
    size_t n;
} ft_run_dirs;
ft_status ft_run_list(const char *path, ft_run_dirs *out, ft_report *r);
void ft_run_dirs_fini(ft_run_dirs *l);

#endif
