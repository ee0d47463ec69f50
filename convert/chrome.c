/* chrome.c — the Chrome trace event sink (--format chrome): JSON that Perfetto
 * (ui.perfetto.dev) and chrome://tracing open.
 *
 * The object form of the format: {"traceEvents": [...], "displayTimeUnit": "ns"}. Each
 * call is a "B" event when it enters and an "E" event when it leaves, on its process's pid
 * and its thread's tid; "M" metadata events name the processes and threads. "ts" is in
 * microseconds from time zero of the run, written as an exact decimal (three fraction
 * digits carry the nanoseconds). Duration events must nest per thread, which calls do;
 * B/E pairs rather than "X" events let the sink stream: an "X" needs its duration when it
 * is written, that is, the whole call read first.
 *
 * Python functions get category "python" and args {file, line}; native ones "native". */
#include "sink.h"

#include <string.h>

#include "ft_buf.h"
#include "walk.h"

typedef struct chrome_sink {
    ft_jsonw *w;
    uint32_t nthreads;
    uint64_t nevents;

    /* The thread being written. */
    const ft_proc *p;
    const ft_tstream *ts;
    uint64_t pid, base;
} chrome_sink;

static ft_status ch_begin(ft_jsonw *w, const ft_sink_opts *o, void **out)
{
    chrome_sink *s = ft_malloc(sizeof *s);

    *out = s;
    if (!s)
        return FT_ENOMEM;
    memset(s, 0, sizeof *s);
    s->w = w;
    ft_jw_obj_begin(w);
    ft_jw_key(w, "traceEvents");
    ft_jw_arr_begin(w);
    return ft_jsonw_status(w);
}

static void put_str(ft_jsonw *w, const ft_proc *p, uint32_t id)
{
    ft_str s = ft_strpool_get(&p->strings, id);
    ft_jw_str(w, s.ptr, s.len);
}

/* {"name": "<kind>", "ph": "M", "pid": P, "tid": T, "args": {"name": ...}} without the
 * closing brace of args and event, so that the caller writes the name. */
static void metadata_begin(ft_jsonw *w, const char *kind, uint64_t pid, uint64_t tid)
{
    ft_jw_obj_begin(w);
    ft_jw_key(w, "name");
    ft_jw_cstr(w, kind);
    ft_jw_key(w, "ph");
    ft_jw_cstr(w, "M");
    ft_jw_key(w, "pid");
    ft_jw_uint(w, pid);
    ft_jw_key(w, "tid");
    ft_jw_uint(w, tid);
    ft_jw_key(w, "args");
    ft_jw_obj_begin(w);
    ft_jw_key(w, "name");
}

static void event_head(chrome_sink *s, const char *ph, uint64_t t)
{
    ft_jsonw *w = s->w;

    ft_jw_obj_begin(w);
    ft_jw_key(w, "ph");
    ft_jw_cstr(w, ph);
    ft_jw_key(w, "ts");
    /* ft_jw_ms writes n / 10^6 exactly: n = ns * 1000 gives microseconds. */
    ft_jw_ms(w, (int64_t)(t - s->base) * 1000);
    ft_jw_key(w, "pid");
    ft_jw_uint(w, s->pid);
    ft_jw_key(w, "tid");
    ft_jw_uint(w, s->ts->tid);
    s->nevents++;
}

/* "name": the function's name. E events carry it too: the format makes it optional there,
 * but importers that pair B and E by name (the Firefox Profiler's) require it. */
static const ft_func_def *put_name(chrome_sink *s, uint32_t stack)
{
    ft_jsonw *w = s->w;
    uint32_t fid = s->ts->stacks.fid[stack];
    const ft_func_def *d = ft_proc_func(s->p, fid);

    ft_jw_key(w, "name");
    if (d) {
        put_str(w, s->p, d->name);
    } else {
        char buf[48];
        snprintf(buf, sizeof buf, "<unknown function %u>", (unsigned)fid);
        ft_jw_cstr(w, buf);
    }
    return d;
}

static ft_status on_enter(void *ctx, uint32_t stack, uint64_t t, size_t sample)
{
    chrome_sink *s = ctx;
    ft_jsonw *w = s->w;
    const ft_func_def *d;

    event_head(s, "B", t);
    d = put_name(s, stack);
    ft_jw_key(w, "cat");
    ft_jw_cstr(w, d && d->kind == FT_FUNC_PYTHON ? "python" : "native");
    if (d && d->kind == FT_FUNC_PYTHON && s->p->strings.len[d->file]) {
        ft_jw_key(w, "args");
        ft_jw_obj_begin(w);
        ft_jw_key(w, "file");
        put_str(w, s->p, d->file);
        ft_jw_key(w, "line");
        ft_jw_uint(w, d->line);
        ft_jw_obj_end(w);
    }
    ft_jw_obj_end(w);
    return ft_jsonw_status(w);
}

static ft_status on_leave(void *ctx, uint32_t stack, uint64_t t, size_t sample)
{
    chrome_sink *s = ctx;

    event_head(s, "E", t);
    put_name(s, stack);
    ft_jw_obj_end(s->w);
    return ft_jsonw_status(s->w);
}

static ft_status write_thread(chrome_sink *s, const ft_tstream *ts)
{
    static const ft_walk_ops ops = { on_enter, on_leave };
    ft_jsonw *w = s->w;
    uint32_t *depth, max_depth;
    ft_status st;

    if (ts->name != FT_TSTREAM_NO_NAME) {
        metadata_begin(w, "thread_name", s->pid, ts->tid);
        put_str(w, s->p, ts->name);
        ft_jw_obj_end(w);
        ft_jw_obj_end(w);
    }
    if ((st = ft_walk_depths(&ts->stacks, &depth, &max_depth)))
        return st;
    s->ts = ts;
    st = ft_walk_thread(ts, depth, max_depth, &ops, s);
    ft_free(depth);
    s->nthreads++;
    return st ? st : ft_jsonw_status(w);
}

static ft_status ch_add(void *sv, ft_proc *p, const ft_ff_process *info, uint64_t base)
{
    chrome_sink *s = sv;
    ft_status st;

    if (!ft_sink_has_samples(p))
        return FT_OK;
    s->p = p;
    s->pid = ft_sink_int_pid(info->pid);
    s->base = base;
    metadata_begin(s->w, "process_name", s->pid, 0);
    ft_jw_cstr(s->w, info->name);
    ft_jw_obj_end(s->w);
    ft_jw_obj_end(s->w);
    for (uint32_t i = 0; i < p->nthreads; i++) {
        if (p->threads[i]->nsamples && (st = write_thread(s, p->threads[i])))
            return st;
    }
    return ft_jsonw_status(s->w);
}

static uint32_t ch_threads(const void *s)
{
    return ((const chrome_sink *)s)->nthreads;
}

static uint64_t ch_events(const void *s)
{
    return ((const chrome_sink *)s)->nevents;
}

static ft_status ch_end(void *sv, int64_t start_wall_ns, const char *arguments)
{
    chrome_sink *s = sv;
    ft_jsonw *w = s->w;

    ft_jw_arr_end(w);
    ft_jw_key(w, "displayTimeUnit");
    ft_jw_cstr(w, "ns");
    /* Free-form metadata the viewers show as they are. */
    ft_jw_key(w, "otherData");
    ft_jw_obj_begin(w);
    ft_jw_key(w, "producer");
    ft_jw_cstr(w, "functiontrace ft-convert");
    ft_jw_key(w, "startTimeUnixNs");
    ft_jw_int(w, start_wall_ns);
    if (arguments) {
        ft_jw_key(w, "command");
        ft_jw_cstr(w, arguments);
    }
    ft_jw_obj_end(w);
    ft_jw_obj_end(w);
    return ft_jsonw_status(w);
}

static void ch_free(void *s)
{
    ft_free(s);
}

const ft_sink_ops ft_sink_chrome = {
    "chrome", 1, ch_begin, ch_add, ch_threads, ch_events, ch_end, ch_free,
};
