/* sink.h — the outputs ft-convert can write, behind one interface.
 *
 * convert.c reads processes one at a time and hands each to a sink, which writes it and
 * lets the caller free it; the sink then finishes the output. The Firefox Profiler profile
 * (firefox.h) is one sink; Chrome trace event JSON (chrome.c) and the text summary
 * (summary.c) are the others. All write through a jsonw writer, so every output gets the
 * same file, standard output and gzip handling. */
#ifndef FT_SINK_H
#define FT_SINK_H

#include <stdint.h>
#include "firefox.h"
#include "ft_status.h"
#include "jsonw.h"
#include "proc.h"

typedef struct ft_sink_opts {
    unsigned top;         /* summary: functions per table */
} ft_sink_opts;

typedef struct ft_sink_ops {
    const char *name;     /* the --format name */
    int is_json;          /* writes JSON for a viewer (gets the browser size warning) */
    /* Start writing on w (the caller keeps w and closes it after end). FT_ENOMEM. */
    ft_status (*begin)(ft_jsonw *w, const ft_sink_opts *o, void **out);
    /* Write p, whose clock time `base` is time zero of the output (see firefox.h). */
    ft_status (*add_process)(void *s, ft_proc *p, const ft_ff_process *info, uint64_t base);
    uint32_t (*thread_count)(const void *s);   /* threads written so far */
    uint64_t (*sample_count)(const void *s);   /* samples (or events) written so far */
    /* Finish: start_wall_ns is time zero on the wall clock (ns since the epoch), arguments
     * the recorded command or NULL. */
    ft_status (*end)(void *s, int64_t start_wall_ns, const char *arguments);
    void (*free)(void *s);   /* NULL is fine */
} ft_sink_ops;

extern const ft_sink_ops ft_sink_firefox, ft_sink_chrome, ft_sink_summary;

/* The sink of a --format name, or NULL. */
const ft_sink_ops *ft_sink_find(const char *name);

/* Has some thread of p samples to write? (Sinks write nothing for a process without.) */
int ft_sink_has_samples(const ft_proc *p);

/* Chrome trace events want an integer pid: the profile's pid string ("1234", or "1234.1"
 * for the second process of a reused pid) as one, unique in the output. */
uint64_t ft_sink_int_pid(const char *pid);

#endif
