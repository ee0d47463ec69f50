/* progress.h — a progress line on stderr for long conversions, when stderr is a terminal.
 *
 * The line shows the share of the input bytes read, the file being read and the time
 * spent; it appears only once a conversion has taken PROGRESS_DELAY seconds (a quick one
 * prints nothing; the environment variable FT_CONVERT_PROGRESS_DELAY overrides it) and is rewritten in place (carriage return) a few times a second. The
 * reader (proc.c) reports its offset through the ft_report hook; messages erase the line
 * before they print (report.c), and ft_progress_end erases it for good. Whether to show
 * it at all (a TTY, not -q) is main.c's decision. */
#ifndef FT_PROGRESS_H
#define FT_PROGRESS_H

#include <stdint.h>
#include "report.h"
#include "run.h"

typedef struct ft_progress {
    ft_report *r;
    uint64_t total;        /* bytes of every input file */
    uint64_t done;         /* bytes of the files finished */
    uint64_t size;         /* bytes of the file being read */
    size_t file, nfiles;   /* its position, 1-based */
    double t0, last;       /* start, last line written (monotonic seconds) */
    double delay;          /* PROGRESS_DELAY, or $FT_CONVERT_PROGRESS_DELAY */
} ft_progress;

/* Start showing progress of reading run's files on r (sets r's hook). */
void ft_progress_start(ft_progress *pg, ft_report *r, const ft_run *run);

/* The reader starts on file path (its size is taken again: cheap, and always right). No-op
 * when r shows no progress. */
void ft_progress_file(ft_report *r, const char *path);

/* Erase the line and unhook. No-op when r shows no progress. */
void ft_progress_end(ft_report *r);

#endif
