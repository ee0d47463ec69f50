/* merge.h — several runs as one (--merge-runs): the trace files of every run named, for
 * one conversion on one timeline.
 *
 * The conversion places the files on one time base by itself (convert.c): directly on the
 * shared monotonic clock when every file comes from one host and boot, through each file's
 * wall-clock anchor otherwise. Merging runs is therefore only a matter of collecting their
 * files; it is an option because converting the latest run is what one usually wants. */
#ifndef FT_MERGE_H
#define FT_MERGE_H

#include <stddef.h>
#include "ft_status.h"
#include "report.h"
#include "run.h"

/* Every trace file of the inputs: an output directory gives all its runs (or only those
 * whose ids start with one of run_ids, when nrun_ids > 0), a run directory its files, a
 * trace file itself. run->dir is NULL, run->nruns the number of runs taken. Problems are
 * reported to r and returned: FT_EIO, FT_END (no trace files, or a run id matching
 * nothing), FT_ENOMEM. */
ft_status ft_run_merge(const char *const *inputs, size_t ninputs, const char *const *run_ids,
                       size_t nrun_ids, ft_run *run, ft_report *r);

#endif
