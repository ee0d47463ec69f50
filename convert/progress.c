/* progress.c — the progress line (see progress.h). */
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Seconds before the first line, and between lines. */
#define PROGRESS_DELAY 0.5
#define PROGRESS_EVERY 0.2

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static void on_offset(ft_report *r, uint64_t offset)
{
    ft_progress *pg = r->progress_ctx;
    double t = now();
    uint64_t at;

    if (t - pg->t0 < pg->delay || t - pg->last < PROGRESS_EVERY)
        return;
    pg->last = t;
    at = pg->done + (offset < pg->size ? offset : pg->size);
    fprintf(r->out, "\rft-convert: %3.0f%% of %.1f MB read, file %zu of %zu, %.0f s\033[K",
            pg->total ? 100.0 * (double)at / (double)pg->total : 0.0, (double)pg->total / 1e6,
            pg->file, pg->nfiles, t - pg->t0);
    fflush(r->out);
    r->line_shown = 1;
}

void ft_progress_start(ft_progress *pg, ft_report *r, const ft_run *run)
{
    const char *delay;

    memset(pg, 0, sizeof *pg);
    pg->r = r;
    pg->nfiles = run->nfiles;
    for (size_t i = 0; i < run->nfiles; i++)
        pg->total += file_size(run->files[i]);
    pg->t0 = now();
    /* The tests set the delay to 0 rather than convert a trace long enough for it. */
    delay = getenv("FT_CONVERT_PROGRESS_DELAY");
    pg->delay = delay && *delay ? atof(delay) : PROGRESS_DELAY;
    r->progress = on_offset;
    r->progress_ctx = pg;
}

void ft_progress_file(ft_report *r, const char *path)
{
    ft_progress *pg = r->progress ? r->progress_ctx : NULL;

    if (!pg)
        return;
    pg->done += pg->size;
    pg->size = file_size(path);
    pg->file++;
    on_offset(r, 0);
}

void ft_progress_end(ft_report *r)
{
    if (!r->progress)
        return;
    if (r->line_shown) {
        fputs("\r\033[K", r->out);
        fflush(r->out);
        r->line_shown = 0;
    }
    r->progress = NULL;
    r->progress_ctx = NULL;
}
