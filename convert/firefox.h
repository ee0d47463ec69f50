/* firefox.h — the Firefox Profiler sink: processes in, a processed-format profile out.
 *
 * Writes the "processed" profile format at preprocessedProfileVersion 55 (see
 * ../shared/FIREFOX-PROFILE.md for why that format and that version): one thread entry
 * per traced thread, each with its own string, stack, frame, function, resource and
 * native-symbol tables, its samples and an empty marker table. Every call and every return
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

/* At most this many threads are listed in meta.initialVisibleThreads (every process's main
 * thread first): the profiler would otherwise hide threads with few samples, which in a
 * trace are often the interesting ones, but hundreds of tracks help nobody either. */
#define FT_FF_MAX_VISIBLE 100

typedef struct ft_ff_sink ft_ff_sink;

/* Start a profile on w (which the caller keeps and closes after ft_ff_end). FT_ENOMEM. */
ft_status ft_ff_begin(ft_jsonw *w, ft_ff_sink **out);

/* Write every thread of p that has samples. pid is the process's id as the profile shows
 * it (a string, unique in the profile); base is the clock time (in p's clock) that is time
 * zero of the profile, i.e. meta.startTime. May intern placeholder names into p->strings.
 * FT_ENOMEM, or the writer's error. */
ft_status ft_ff_add_process(ft_ff_sink *s, ft_proc *p, const char *pid, uint64_t base);

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
