/* firefox.h — the Firefox Profiler sink: processes in, a processed-format profile out.
 *
 * Writes the "processed" profile format at preprocessedProfileVersion 55 (see
 * ../shared/FIREFOX-PROFILE.md for why that format and that version): one thread entry
 * per traced thread, each with its own string, stack, frame, function, resource and
 * native-symbol tables, its samples and its markers (the process's main thread carries one
 * "Process" interval marker per program the process ran: how it began and ended, its pid
 * and parent; every other marker table is empty). Every call and every return
 * is a sample whose weight is the time until the thread's next sample ("tracing-ms"), so
 * the call tree and flame graph show exact traced durations.
 *
 * The sink streams: each process is written as soon as it is added, and the caller may
 * free it afterwards. The top-level object is therefore written threads first and meta
 * last, because meta names the threads to show (initialVisibleThreads); JSON does not
 * order keys. The sink keeps only a few bytes per thread until ft_ff_end. */
#ifndef FT_FIREFOX_H
#define FT_FIREFOX_H

#include <stdint.h>
#include "ft_status.h"
#include "jsonw.h"
#include "proc.h"

/* meta.initialVisibleThreads lists every process's main thread, then other threads up to
 * this many in all: the profiler would otherwise hide threads with few samples, which in a
 * trace are often the interesting ones, but hundreds of tracks help nobody either. */
#define FT_FF_MAX_VISIBLE 100

/* One "Process" marker: a program the process ran, from its trace's start to its end
 * (clock ns in the process's clock). Strings are copied out by the sink as it writes. */
typedef struct ft_ff_marker {
    uint64_t start, end;
    const char *program;   /* the command line */
    const char *how_start; /* "run", "fork of pid N", "exec", "child of pid N" */
    const char *how_end;   /* "exit status N", "os._exit(N)", "killed by signal …", … */
    const char *ppid;      /* parent's pid as the profile shows it, or the raw ppid */
    const char *label;     /* the program's own name for itself, or NULL */
    const char *file;      /* the trace file */
} ft_ff_marker;

/* What the profile says about a process beyond its threads. */
typedef struct ft_ff_process {
    const char *pid;       /* as the profile shows it (a string, unique in the profile) */
    const char *name;      /* processName */
    uint64_t start, end;   /* processStartupTime / processShutdownTime, clock ns */
    const ft_ff_marker *markers;  /* on the main thread, in time order */
    size_t nmarkers;
} ft_ff_process;

typedef struct ft_ff_sink ft_ff_sink;

/* Start a profile on w (which the caller keeps and closes after ft_ff_end). FT_ENOMEM. */
ft_status ft_ff_begin(ft_jsonw *w, ft_ff_sink **out);

/* Write every thread of p that has samples, the main thread first with the markers of
 * info; base is the clock time (in p's clock) that is time zero of the profile, i.e.
 * meta.startTime. May intern placeholder names into p->strings. Nothing is written for a
 * process without samples. FT_ENOMEM, or the writer's error. */
ft_status ft_ff_add_process(ft_ff_sink *s, ft_proc *p, const ft_ff_process *info,
                            uint64_t base);

/* Threads written so far. */
uint32_t ft_ff_thread_count(const ft_ff_sink *s);
/* Samples written so far. */
uint64_t ft_ff_sample_count(const ft_ff_sink *s);

/* Finish the profile: meta (startTime = start_wall_ns, in ns since the Unix epoch;
 * arguments = a description of the command, or NULL) and the remaining top-level keys.
 * FT_ENOMEM or the writer's error. */
ft_status ft_ff_end(ft_ff_sink *s, int64_t start_wall_ns, const char *arguments);

void ft_ff_free(ft_ff_sink *s);   /* NULL is fine */

#endif
