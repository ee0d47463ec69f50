/* report.c — formatting problems and notes for stderr (see report.h). */
#include "report.h"

#include <stdarg.h>
#include <string.h>

void ft_report_init(ft_report *r, FILE *out, int quiet)
{
    memset(r, 0, sizeof *r);
    r->out = out;
    r->quiet = quiet;
}

/* A message goes on a line of its own, not after a progress line. */
static void erase_line(ft_report *r)
{
    if (r->line_shown) {
        fputs("\r\033[K", r->out);
        r->line_shown = 0;
    }
}

void ft_report_begin_file(ft_report *r, const char *file)
{
    r->file = file;
    r->file_problems = 0;
}

void ft_report_end_file(ft_report *r)
{
    if (r->file && r->file_problems > FT_REPORT_MAX_PER_FILE) {
        erase_line(r);
        fprintf(r->out, "ft-convert: %s: %lu more problems not shown\n", r->file,
                r->file_problems - FT_REPORT_MAX_PER_FILE);
    }
    r->file = NULL;
    r->file_problems = 0;
}

void ft_report_problem(ft_report *r, const char *file, uint64_t offset, const char *fmt, ...)
{
    va_list ap;

    r->problems++;
    if (file && r->file && strcmp(file, r->file) == 0 &&
        ++r->file_problems > FT_REPORT_MAX_PER_FILE)
        return;
    erase_line(r);
    fputs("ft-convert: ", r->out);
    if (file)
        fprintf(r->out, "%s: ", file);
    if (offset != FT_REPORT_NO_OFFSET)
        fprintf(r->out, "offset %llu: ", (unsigned long long)offset);
    va_start(ap, fmt);
    vfprintf(r->out, fmt, ap);
    va_end(ap);
    fputc('\n', r->out);
}

void ft_report_note(ft_report *r, const char *fmt, ...)
{
    va_list ap;

    if (r->quiet)
        return;
    erase_line(r);
    fputs("ft-convert: ", r->out);
    va_start(ap, fmt);
    vfprintf(r->out, fmt, ap);
    va_end(ap);
    fputc('\n', r->out);
}
