/* info.h — ft-convert --info: what a trace holds, without converting it.
 *
 * For each trace file of the run (or the one file) it prints the host, pid and command,
 * how the process began and ended, whether the file is complete (has its trailer) or was
 * cut short, its threads, events, dropped events and time span; then the run's totals.
 *
 * It is fast because it decodes no event: it walks each file's zstd frames by their
 * compressed sizes, decompresses the header and the trailer, and of every other frame
 * only its beginning, where the CHUNK record names the thread (FORMAT.md §2). A file it
 * cannot walk to the end is reported as damaged, with the advice to convert it for the
 * details. */
#ifndef FT_INFO_H
#define FT_INFO_H

#include <stdio.h>
#include "convert.h"
#include "report.h"

/* Print what the run (chosen as for a conversion: opts input, run_id, merge_inputs) holds
 * on out. FT_CONVERT_OK, FT_CONVERT_DAMAGED when some file is damaged or cut short,
 * FT_CONVERT_FAILED when nothing could be read. */
ft_convert_result ft_convert_info(const ft_convert_opts *o, FILE *out, ft_report *r);

/* Events in a trace file, from its trailer (reading only frame headers and the last
 * frame); a file without a readable trailer counts its size in bytes, which is about its
 * events (README, Performance). For estimates: 0 if unreadable. *memory_records (may be
 * NULL) gets the trailer's count of memory records (0 without one). */
uint64_t ft_info_events(const char *path, uint64_t *memory_records);

#endif
