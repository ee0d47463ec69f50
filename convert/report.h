/* report.h — what the converter tells the user on stderr, and the count behind its exit
 * status.
 *
 * A *problem* is damaged or missing input: a corrupt frame, a file cut short, a record
 * that breaks a rule of FORMAT.md. Each is printed as
 *     ft-convert: FILE: offset N: reason
 * (without "offset N" when there is no position to give) and counted, so that the CLI can
 * exit with "converted, but the input was damaged". A *note* is information (which run is
 * converted, what was written) and counts for nothing; -q silences notes only.
 *
 * A damaged file can hold millions of bad frames: after FT_REPORT_MAX_PER_FILE problems in
 * one file the rest are counted but not printed, and ft_report_end_file says how many. */
#ifndef FT_REPORT_H
#define FT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#define FT_REPORT_MAX_PER_FILE 20
#define FT_REPORT_NO_OFFSET UINT64_MAX

typedef struct ft_report {
    FILE *out;                 /* stderr in the CLI; a memstream in tests */
    int quiet;                 /* suppress notes */
    unsigned long problems;    /* every problem so far, all files */
    const char *file;          /* the file whose problems are being limited */
    unsigned long file_problems;
    /* Progress (progress.h): called by the reader every few frames with the offset reached
     * in the file being read; NULL for none. line_shown: a progress line is on the
     * terminal, to be erased before any message. */
    void (*progress)(struct ft_report *r, uint64_t offset);
    void *progress_ctx;
    int line_shown;
} ft_report;

void ft_report_init(ft_report *r, FILE *out, int quiet);

/* Start limiting a new file's problems (file must outlive the matching end_file). */
void ft_report_begin_file(ft_report *r, const char *file);
/* Say how many problems of the current file were not printed, if any. */
void ft_report_end_file(ft_report *r);

/* A problem in file (NULL: none in particular) at offset (FT_REPORT_NO_OFFSET: none). */
void ft_report_problem(ft_report *r, const char *file, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Information for the user; not counted. */
void ft_report_note(ft_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
