/* firefox.c — writing processes as a Firefox Profiler processed profile (see firefox.h).
 *
 * Shapes follow the profiler's processed format at version 55 (src/types/profile.js of
 * that time, and the upgraders from 55 on in processed-profile-versioning.js, which are
 * what reads these fields): stackTable {frame, prefix}; frameTable without
 * `implementation` (removed in 54); funcTable with fileName (moved to a shared table in
 * 58); per-thread stringArray (shared from 56, which also turns each marker's name, an
 * index into the thread's strings, into one of the shared table); markerSchema entries
 * with `fields` of {key, label, format} (57 drops their `searchable`).
 *
 * One frame per function: the trace knows which function runs, not which line, so frames
 * and functions are numbered alike and frame.line stays null. Python functions are marked
 * isJS, so that the profiler's "JavaScript only" view becomes "Python only" and shows
 * their file and line; native functions are not.
 *
 * A trace recorded with --memory gives each thread a balanced nativeAllocations table
 * (allocs.h) and each process a "Memory" counter (profile.counters, version 55's shape:
 * name, category, description, pid, mainThreadIndex, samples {time, count, length}, with
 * count the change since the previous sample): the memory track of the timeline. */
#include "firefox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_buf.h"
#include "intmap.h"
#include "markers.h"

/* meta.categories indexes. The first grey category is the profiler's default one, which
 * it requires; each category's first subcategory is the generic one it also requires. */
enum { CAT_OTHER = 0, CAT_PYTHON = 1, CAT_NATIVE = 2 };

struct ft_ff_sink {
    ft_jsonw *w;
    uint32_t nthreads;
    uint64_t nsamples;
    uint8_t *is_main;          /* per thread written */
    uint32_t is_main_cap;

    /* Scratch for one thread at a time, kept to avoid reallocating per thread. */
    ft_intmap frame_of;        /* fid → frame */
    uint32_t *frame_fid;       /* frame → fid */
    uint32_t *frame_name;      /* frame → string index */
    uint32_t *frame_file;      /* frame → string index, or UINT32_MAX */
    uint32_t fid_cap, name_cap, file_cap;
    ft_intmap str_of;          /* strpool id → string index */
    uint32_t *strs;            /* string index → strpool id */
    uint32_t nstrs, strs_cap;
    uint32_t *marker_name;     /* the thread's markers → string index of their name */
    uint32_t marker_name_cap;

    ft_marker_keys marker_keys; /* fields of "Marker"-schema markers, for meta */

    /* Memory counters (one per process with memory records), written at the end. */
    struct ff_counter *counters;
    size_t ncounters, counters_cap;
};

/* A process's traced memory over time, as the profiler's memory track: one sample per
 * COUNTER_STEP_NS at most, holding the change in live bytes since the previous one. */
#define COUNTER_STEP_NS 100000
typedef struct ff_counter {
    char pid[40];
    uint32_t main_thread;     /* index of the process's main thread in the profile */
    uint64_t *time;           /* clock ns, relative to the time base (base subtracted) */
    int64_t *delta;
    size_t n, cap;
} ff_counter;

ft_status ft_ff_begin(ft_jsonw *w, ft_ff_sink **out)
{
    ft_ff_sink *s = ft_malloc(sizeof *s);

    *out = NULL;
    if (!s)
        return FT_ENOMEM;
    memset(s, 0, sizeof *s);
    s->w = w;
    ft_intmap_init(&s->frame_of);
    ft_intmap_init(&s->str_of);
    ft_marker_keys_init(&s->marker_keys);
    ft_jw_obj_begin(w);
    ft_jw_key(w, "threads");
    ft_jw_arr_begin(w);
    *out = s;
    return ft_jsonw_status(w);
}

void ft_ff_free(ft_ff_sink *s)
{
    if (!s)
        return;
    ft_free(s->is_main);
    ft_intmap_fini(&s->frame_of);
    ft_free(s->frame_fid);
    ft_free(s->frame_name);
    ft_free(s->frame_file);
    ft_intmap_fini(&s->str_of);
    ft_free(s->strs);
    ft_free(s->marker_name);
    ft_marker_keys_fini(&s->marker_keys);
    for (size_t i = 0; i < s->ncounters; i++) {
        ft_free(s->counters[i].time);
        ft_free(s->counters[i].delta);
    }
    ft_free(s->counters);
    ft_free(s);
}

uint32_t ft_ff_thread_count(const ft_ff_sink *s)
{
    return s->nthreads;
}

uint64_t ft_ff_sample_count(const ft_ff_sink *s)
{
    return s->nsamples;
}

static ft_status grow_u32(uint32_t **a, uint32_t *cap, uint32_t need)
{
    uint32_t n = *cap ? *cap : 256;
    uint32_t *p;

    if (need <= *cap)
        return FT_OK;
    while (n < need)
        n = n > UINT32_MAX / 2 ? need : n * 2;
    p = ft_realloc(*a, (size_t)n * sizeof *p);
    if (!p)
        return FT_ENOMEM;
    *a = p;
    *cap = n;
    return FT_OK;
}

/* The thread's string index for strpool id `id`, adding it to the thread's table. */
static ft_status thread_string(ft_ff_sink *s, uint32_t id, uint32_t *out)
{
    ft_status st;

    if ((st = ft_intmap_get_or_put(&s->str_of, id, s->nstrs, out)))
        return st;
    if (*out == s->nstrs) {
        if ((st = grow_u32(&s->strs, &s->strs_cap, s->nstrs + 1)))
            return st;
        s->strs[s->nstrs++] = id;
    }
    return FT_OK;
}

/* Number the functions the thread's stacks use as frames, in order of first use, and
 * collect the strings they name into the thread's string table. */
static ft_status index_frames(ft_ff_sink *s, ft_proc *p, const ft_tstream *ts,
                              uint32_t *nframes_out)
{
    const ft_stacks *stk = &ts->stacks;
    uint32_t nframes = 0, frame;
    ft_status st;

    ft_intmap_fini(&s->frame_of);
    ft_intmap_fini(&s->str_of);
    s->nstrs = 0;
    for (uint32_t i = 0; i < stk->len; i++) {
        if ((st = ft_intmap_get_or_put(&s->frame_of, stk->fid[i], nframes, &frame)))
            return st;
        if (frame != nframes)
            continue;
        if ((st = grow_u32(&s->frame_fid, &s->fid_cap, nframes + 1)))
            return st;
        s->frame_fid[nframes++] = stk->fid[i];
    }
    if ((st = grow_u32(&s->frame_name, &s->name_cap, nframes)) ||
        (st = grow_u32(&s->frame_file, &s->file_cap, nframes)))
        return st;

    for (uint32_t f = 0; f < nframes; f++) {
        uint32_t fid = s->frame_fid[f], name_id;
        const ft_func_def *d = ft_proc_func(p, fid);
        s->frame_file[f] = UINT32_MAX;
        if (d) {
            name_id = d->name;
            if (d->kind == FT_FUNC_PYTHON && p->strings.len[d->file] > 0 &&
                (st = thread_string(s, d->file, &s->frame_file[f])))
                return st;
        } else {
            /* The FUNC record was lost (a corrupt frame) or never written: still show
             * the call, under a name that says what is missing. */
            char buf[64];
            if (fid == FT_FID_BAD)
                snprintf(buf, sizeof buf, "<bad function id>");
            else
                snprintf(buf, sizeof buf, "<unknown function %" PRIu32 ">", fid);
            if ((st = ft_strpool_intern(&p->strings, buf, strlen(buf), &name_id)))
                return st;
        }
        if ((st = thread_string(s, name_id, &s->frame_name[f])))
            return st;
    }
    *nframes_out = nframes;
    return FT_OK;
}

static void key_ms(ft_jsonw *w, const char *key, uint64_t t, uint64_t base)
{
    ft_jw_key(w, key);
    ft_jw_ms(w, (int64_t)(t - base));
}

/* An empty column: the tables the trace has nothing for still need every field. */
static void empty_col(ft_jsonw *w, const char *key)
{
    ft_jw_key(w, key);
    ft_jw_arr_begin(w);
    ft_jw_arr_end(w);
}

static void write_samples(ft_jsonw *w, const ft_tstream *ts, uint64_t base)
{
    size_t n = ts->nsamples;

    ft_jw_key(w, "samples");
    ft_jw_obj_begin(w);
    ft_jw_key(w, "weightType");
    ft_jw_cstr(w, "tracing-ms");
    ft_jw_key(w, "length");
    ft_jw_uint(w, n);
    ft_jw_key(w, "stack");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        if (ts->sample_stack[i] == FT_STACK_NONE)
            ft_jw_null(w);
        else
            ft_jw_uint(w, ts->sample_stack[i]);
    }
    ft_jw_arr_end(w);
    ft_jw_key(w, "time");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        ft_jw_ms(w, (int64_t)(ts->sample_time[i] - base));
    ft_jw_arr_end(w);
    /* Each sample lasts until the next; the last one (always the empty stack) lasts 0. */
    ft_jw_key(w, "weight");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i + 1 < n; i++)
        ft_jw_ms(w, (int64_t)(ts->sample_time[i + 1] - ts->sample_time[i]));
    if (n)
        ft_jw_uint(w, 0);
    ft_jw_arr_end(w);
    ft_jw_obj_end(w);
}

/* The thread's memory records as the processed format's balanced NativeAllocationsTable
 * (time, weight in bytes: + allocated, − freed; stack; memoryAddress and threadId, which
 * let the profiler pair each free with its allocation for "Retained memory"). Frees were
 * matched with their blocks already (allocs.h). */
static void write_native_allocations(ft_jsonw *w, const ft_tstream *ts, uint64_t base)
{
    const ft_alloc_list *l = &ts->allocs;

    ft_jw_key(w, "nativeAllocations");
    ft_jw_obj_begin(w);
    ft_jw_key(w, "weightType");
    ft_jw_cstr(w, "bytes");
    ft_jw_key(w, "length");
    ft_jw_uint(w, l->n);
    ft_jw_key(w, "time");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < l->n; i++)
        ft_jw_ms(w, (int64_t)(l->a[i].time - base));
    ft_jw_arr_end(w);
    ft_jw_key(w, "weight");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < l->n; i++)
        ft_jw_int(w, l->a[i].weight);
    ft_jw_arr_end(w);
    ft_jw_key(w, "stack");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < l->n; i++) {
        if (l->a[i].stack == FT_STACK_NONE)
            ft_jw_null(w);
        else
            ft_jw_uint(w, l->a[i].stack);
    }
    ft_jw_arr_end(w);
    ft_jw_key(w, "memoryAddress");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < l->n; i++)
        ft_jw_uint(w, l->a[i].addr);
    ft_jw_arr_end(w);
    ft_jw_key(w, "threadId");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < l->n; i++)
        ft_jw_uint(w, ts->tid);
    ft_jw_arr_end(w);
    ft_jw_obj_end(w);
}

/* The one marker schema: a program a process ran (ft_ff_marker). "pid" fields show the
 * process's name next to its pid when the profile has that process. */
#define MARKER_TYPE "Process"
static void write_marker_schema(ft_jsonw *w, const ft_marker_keys *keys)
{
    static const char *const fields[][3] = {
        {"program", "Program", "string"},
        {"start", "Began", "string"},
        {"end", "Ended", "string"},
        {"pid", "Process", "pid"},
        {"ppid", "Parent", "pid"},
        {"label", "Process label", "string"},
        {"file", "Trace file", "file-path"},
    };
    ft_jw_key(w, "markerSchema");
    ft_jw_arr_begin(w);
    ft_jw_obj_begin(w);
    ft_jw_key(w, "name");
    ft_jw_cstr(w, MARKER_TYPE);
    ft_jw_key(w, "display");
    ft_jw_arr_begin(w);
    ft_jw_cstr(w, "marker-chart");
    ft_jw_cstr(w, "marker-table");
    ft_jw_cstr(w, "timeline-overview");
    ft_jw_arr_end(w);
    ft_jw_key(w, "tooltipLabel");
    ft_jw_cstr(w, "{marker.data.program}");
    ft_jw_key(w, "tableLabel");
    ft_jw_cstr(w, "{marker.data.program} (began: {marker.data.start}; ended: {marker.data.end})");
    ft_jw_key(w, "chartLabel");
    ft_jw_cstr(w, "{marker.data.program}");
    ft_jw_key(w, "description");
    ft_jw_cstr(w, "A program this process ran, from the start to the end of its trace: how "
               "it began (run, fork, exec, child) and how it ended.");
    ft_jw_key(w, "fields");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        ft_jw_obj_begin(w);
        ft_jw_key(w, "key");
        ft_jw_cstr(w, fields[i][0]);
        ft_jw_key(w, "label");
        ft_jw_cstr(w, fields[i][1]);
        ft_jw_key(w, "format");
        ft_jw_cstr(w, fields[i][2]);
        ft_jw_obj_end(w);
    }
    ft_jw_arr_end(w);
    ft_jw_obj_end(w);
    ft_marker_write_schemas(w, keys);
    ft_jw_arr_end(w);
}

static void key_str(ft_jsonw *w, const char *key, const char *val)
{
    if (!val)
        return;
    ft_jw_key(w, key);
    ft_jw_cstr(w, val);
}

/* The thread's markers: those of info on the main thread (name: string index `name`),
 * then the thread's own (trace markers, names in s->marker_name). Phase 0 is an instant,
 * 1 an interval. */
static ft_status write_markers(ft_ff_sink *s, const ft_proc *p, const ft_tstream *ts,
                               const ft_ff_process *info, int is_main, uint32_t name,
                               uint64_t base)
{
    ft_jsonw *w = s->w;
    const ft_marker_list *ml = &ts->markers;
    size_t n = is_main && info ? info->nmarkers : 0;
    ft_status st = FT_OK;

    ft_jw_key(w, "markers");
    ft_jw_obj_begin(w);
    ft_jw_key(w, "length");
    ft_jw_uint(w, n + ml->n);
    ft_jw_key(w, "data");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        const ft_ff_marker *m = &info->markers[i];
        ft_jw_obj_begin(w);
        key_str(w, "type", MARKER_TYPE);
        key_str(w, "program", m->program);
        key_str(w, "start", m->how_start);
        key_str(w, "end", m->how_end);
        key_str(w, "pid", info->pid);
        key_str(w, "ppid", m->ppid && *m->ppid ? m->ppid : NULL);
        key_str(w, "label", m->label);
        key_str(w, "file", m->file);
        ft_jw_obj_end(w);
    }
    for (size_t i = 0; i < ml->n && !st; i++)
        st = ft_marker_write_data(w, ml, &ml->m[i], &p->strings, &s->marker_keys);
    ft_jw_arr_end(w);
    ft_jw_key(w, "name");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        ft_jw_uint(w, name);
    for (size_t i = 0; i < ml->n; i++)
        ft_jw_uint(w, s->marker_name[i]);
    ft_jw_arr_end(w);
    ft_jw_key(w, "startTime");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        ft_jw_ms(w, (int64_t)(info->markers[i].start - base));
    for (size_t i = 0; i < ml->n; i++)
        ft_jw_ms(w, (int64_t)(ml->m[i].start - base));
    ft_jw_arr_end(w);
    ft_jw_key(w, "endTime");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        const ft_ff_marker *m = &info->markers[i];
        ft_jw_ms(w, (int64_t)((m->end > m->start ? m->end : m->start) - base));
    }
    for (size_t i = 0; i < ml->n; i++) {
        if (ml->m[i].interval)
            ft_jw_ms(w, (int64_t)(ml->m[i].end - base));
        else
            ft_jw_null(w);
    }
    ft_jw_arr_end(w);
    ft_jw_key(w, "phase");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        ft_jw_uint(w, 1);
    for (size_t i = 0; i < ml->n; i++)
        ft_jw_uint(w, ml->m[i].interval ? 1 : 0);
    ft_jw_arr_end(w);
    ft_jw_key(w, "category");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < n + ml->n; i++)
        ft_jw_uint(w, CAT_OTHER);
    ft_jw_arr_end(w);
    ft_jw_obj_end(w);
    return st;
}

/* Sort the thread's markers and give their names string indexes of the thread. */
static ft_status index_markers(ft_ff_sink *s, ft_tstream *ts)
{
    ft_marker_list *ml = &ts->markers;
    ft_status st;

    if (ml->n > UINT32_MAX - 1)
        return FT_ENOMEM;
    if ((st = ft_markers_sort(ml)) ||
        (st = grow_u32(&s->marker_name, &s->marker_name_cap, (uint32_t)ml->n + 1)))
        return st;
    for (size_t i = 0; i < ml->n; i++) {
        if ((st = thread_string(s, ml->m[i].name, &s->marker_name[i])))
            return st;
    }
    return FT_OK;
}

static void write_stack_table(ft_ff_sink *s, const ft_tstream *ts)
{
    ft_jsonw *w = s->w;
    const ft_stacks *stk = &ts->stacks;

    ft_jw_key(w, "stackTable");
    ft_jw_obj_begin(w);
    ft_jw_key(w, "length");
    ft_jw_uint(w, stk->len);
    ft_jw_key(w, "frame");
    ft_jw_arr_begin(w);
    for (uint32_t i = 0; i < stk->len; i++)
        ft_jw_uint(w, ft_intmap_get(&s->frame_of, stk->fid[i]));
    ft_jw_arr_end(w);
    ft_jw_key(w, "prefix");
    ft_jw_arr_begin(w);
    for (uint32_t i = 0; i < stk->len; i++) {
        if (stk->prefix[i] == FT_STACK_NONE)
            ft_jw_null(w);
        else
            ft_jw_uint(w, stk->prefix[i]);
    }
    ft_jw_arr_end(w);
    ft_jw_obj_end(w);
}

/* A column of n copies of one JSON literal. */
enum lit { LIT_NULL, LIT_FALSE, LIT_ZERO, LIT_MINUS_ONE };
static void const_col(ft_jsonw *w, const char *key, uint32_t n, enum lit v)
{
    ft_jw_key(w, key);
    ft_jw_arr_begin(w);
    for (uint32_t i = 0; i < n; i++) {
        switch (v) {
        case LIT_NULL: ft_jw_null(w); break;
        case LIT_FALSE: ft_jw_bool(w, 0); break;
        case LIT_ZERO: ft_jw_uint(w, 0); break;
        case LIT_MINUS_ONE: ft_jw_int(w, -1); break;
        }
    }
    ft_jw_arr_end(w);
}

static int frame_category(const ft_proc *p, uint32_t fid)
{
    const ft_func_def *d = ft_proc_func(p, fid);
    if (!d)
        return CAT_OTHER;
    return d->kind == FT_FUNC_PYTHON ? CAT_PYTHON : CAT_NATIVE;
}

static void write_frame_table(ft_ff_sink *s, const ft_proc *p, uint32_t n)
{
    ft_jsonw *w = s->w;

    ft_jw_key(w, "frameTable");
    ft_jw_obj_begin(w);
    ft_jw_key(w, "length");
    ft_jw_uint(w, n);
    const_col(w, "address", n, LIT_MINUS_ONE);
    const_col(w, "inlineDepth", n, LIT_ZERO);
    ft_jw_key(w, "category");
    ft_jw_arr_begin(w);
    for (uint32_t f = 0; f < n; f++)
        ft_jw_uint(w, (uint64_t)frame_category(p, s->frame_fid[f]));
    ft_jw_arr_end(w);
    const_col(w, "subcategory", n, LIT_ZERO);
    ft_jw_key(w, "func");
    ft_jw_arr_begin(w);
    for (uint32_t f = 0; f < n; f++)
        ft_jw_uint(w, f);
    ft_jw_arr_end(w);
    const_col(w, "nativeSymbol", n, LIT_NULL);
    const_col(w, "innerWindowID", n, LIT_ZERO);
    const_col(w, "line", n, LIT_NULL);
    const_col(w, "column", n, LIT_NULL);
    ft_jw_obj_end(w);
}

static void write_func_table(ft_ff_sink *s, const ft_proc *p, uint32_t n)
{
    ft_jsonw *w = s->w;

    ft_jw_key(w, "funcTable");
    ft_jw_obj_begin(w);
    ft_jw_key(w, "length");
    ft_jw_uint(w, n);
    ft_jw_key(w, "name");
    ft_jw_arr_begin(w);
    for (uint32_t f = 0; f < n; f++)
        ft_jw_uint(w, s->frame_name[f]);
    ft_jw_arr_end(w);
    ft_jw_key(w, "isJS");
    ft_jw_arr_begin(w);
    for (uint32_t f = 0; f < n; f++)
        ft_jw_bool(w, frame_category(p, s->frame_fid[f]) == CAT_PYTHON);
    ft_jw_arr_end(w);
    const_col(w, "relevantForJS", n, LIT_FALSE);
    const_col(w, "resource", n, LIT_MINUS_ONE);
    ft_jw_key(w, "fileName");
    ft_jw_arr_begin(w);
    for (uint32_t f = 0; f < n; f++) {
        if (s->frame_file[f] == UINT32_MAX)
            ft_jw_null(w);
        else
            ft_jw_uint(w, s->frame_file[f]);
    }
    ft_jw_arr_end(w);
    ft_jw_key(w, "lineNumber");
    ft_jw_arr_begin(w);
    for (uint32_t f = 0; f < n; f++) {
        const ft_func_def *d = ft_proc_func(p, s->frame_fid[f]);
        if (d && d->kind == FT_FUNC_PYTHON && d->line)
            ft_jw_uint(w, d->line);
        else
            ft_jw_null(w);
    }
    ft_jw_arr_end(w);
    const_col(w, "columnNumber", n, LIT_NULL);
    ft_jw_obj_end(w);
}

static void write_empty_tables(ft_jsonw *w)
{
    ft_jw_key(w, "resourceTable");
    ft_jw_obj_begin(w);
    ft_jw_key(w, "length");
    ft_jw_uint(w, 0);
    empty_col(w, "lib");
    empty_col(w, "name");
    empty_col(w, "host");
    empty_col(w, "type");
    ft_jw_obj_end(w);
    ft_jw_key(w, "nativeSymbols");
    ft_jw_obj_begin(w);
    ft_jw_key(w, "length");
    ft_jw_uint(w, 0);
    empty_col(w, "libIndex");
    empty_col(w, "address");
    empty_col(w, "name");
    empty_col(w, "functionSize");
    ft_jw_obj_end(w);
}

static void write_string_array(ft_ff_sink *s, const ft_proc *p)
{
    ft_jw_key(s->w, "stringArray");
    ft_jw_arr_begin(s->w);
    for (uint32_t i = 0; i < s->nstrs; i++) {
        ft_str str = ft_strpool_get(&p->strings, s->strs[i]);
        ft_jw_str(s->w, str.ptr, str.len);
    }
    ft_jw_arr_end(s->w);
}

static int str_is(const ft_proc *p, uint32_t id, const char *s)
{
    ft_str str = ft_strpool_get(&p->strings, id);
    return str.len == strlen(s) && memcmp(str.ptr, s, str.len) == 0;
}

/* The thread that stands for the process: the one Python calls MainThread, else the
 * one whose tid is the pid (the initial thread on Linux), else the first one seen. */
static const ft_tstream *main_thread(const ft_proc *p)
{
    const ft_tstream *first = NULL;

    for (uint32_t i = 0; i < p->nthreads; i++) {
        const ft_tstream *ts = p->threads[i];
        if (ts->nsamples && ts->name != FT_TSTREAM_NO_NAME && str_is(p, ts->name, "MainThread"))
            return ts;
    }
    for (uint32_t i = 0; i < p->nthreads; i++) {
        const ft_tstream *ts = p->threads[i];
        if (!ts->nsamples)
            continue;
        if (ts->tid == p->pid)
            return ts;
        if (!first)
            first = ts;
    }
    return first;
}

static ft_status write_thread(ft_ff_sink *s, ft_proc *p, const ft_tstream *ts,
                              const ft_ff_process *info, uint64_t base, int is_main)
{
    ft_jsonw *w = s->w;
    uint32_t nframes, marker_name = 0;
    int markers = (is_main && info->nmarkers) || ts->markers.n;
    ft_status st;

    if ((st = index_frames(s, p, ts, &nframes)) ||
        (st = index_markers(s, (ft_tstream *)ts)))
        return st;
    if (is_main && info->nmarkers) {
        uint32_t id;
        if ((st = ft_strpool_intern(&p->strings, MARKER_TYPE, strlen(MARKER_TYPE), &id)) ||
            (st = thread_string(s, id, &marker_name)))
            return st;
    }
    if (s->nthreads == s->is_main_cap) {
        uint32_t cap = s->is_main_cap ? s->is_main_cap * 2 : 64;
        uint8_t *m = ft_realloc(s->is_main, cap);
        if (!m)
            return FT_ENOMEM;
        s->is_main = m;
        s->is_main_cap = cap;
    }
    s->is_main[s->nthreads] = (uint8_t)is_main;

    ft_jw_obj_begin(w);
    ft_jw_key(w, "name");
    if (ts->name != FT_TSTREAM_NO_NAME) {
        ft_str name = ft_strpool_get(&p->strings, ts->name);
        ft_jw_str(w, name.ptr, name.len);
    } else {
        char buf[40];
        snprintf(buf, sizeof buf, "Thread %" PRIu64, ts->tid);
        ft_jw_cstr(w, buf);
    }
    ft_jw_key(w, "isMainThread");
    ft_jw_bool(w, is_main);
    ft_jw_key(w, "processName");
    ft_jw_cstr(w, info->name);
    ft_jw_key(w, "processType");
    ft_jw_cstr(w, "default");
    ft_jw_key(w, "pid");
    ft_jw_cstr(w, info->pid);
    ft_jw_key(w, "tid");
    ft_jw_uint(w, ts->tid);
    key_ms(w, "processStartupTime", info->start, base);
    key_ms(w, "processShutdownTime", info->end, base);
    key_ms(w, "registerTime", ts->first_t, base);
    key_ms(w, "unregisterTime", ts->now, base);
    if (markers) {
        /* Imported threads show their markers in the timeline only when asked to. */
        ft_jw_key(w, "showMarkersInTimeline");
        ft_jw_bool(w, 1);
    }
    empty_col(w, "pausedRanges");
    write_samples(w, ts, base);
    if (ts->allocs.n)
        write_native_allocations(w, ts, base);
    if ((st = write_markers(s, p, ts, info, is_main, marker_name, base)))
        return st;
    write_stack_table(s, ts);
    write_frame_table(s, p, nframes);
    write_func_table(s, p, nframes);
    write_empty_tables(w);
    write_string_array(s, p);
    ft_jw_obj_end(w);

    s->nthreads++;
    s->nsamples += ts->nsamples;
    return ft_jsonw_status(w);
}

typedef struct time_delta {
    uint64_t t;
    int64_t d;
} time_delta;

static int cmp_time(const void *a, const void *b)
{
    const time_delta *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static ft_status counter_push(ff_counter *c, uint64_t t, int64_t d)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        uint64_t *tm = ft_realloc(c->time, cap * sizeof *tm);
        if (!tm)
            return FT_ENOMEM;
        c->time = tm;
        int64_t *dl = ft_realloc(c->delta, cap * sizeof *dl);
        if (!dl)
            return FT_ENOMEM;
        c->delta = dl;
        c->cap = cap;
    }
    c->time[c->n] = t;
    c->delta[c->n++] = d;
    return FT_OK;
}

/* The memory counter of the process whose threads were just written (main thread first, at
 * index main_index): every thread's allocations and frees, in time order, summed per step.
 * Only the threads written count, so that the track agrees with their tables. */
static ft_status add_counter(ft_ff_sink *s, const ft_proc *p, const ft_ff_process *info,
                             uint64_t base, uint32_t main_index)
{
    time_delta *all;
    size_t n = 0, k = 0;
    ff_counter *c;
    ft_status st = FT_OK;

    for (uint32_t i = 0; i < p->nthreads; i++)
        if (p->threads[i]->nsamples)
            n += p->threads[i]->allocs.n;
    if (!n)
        return FT_OK;
    if (s->ncounters == s->counters_cap &&
        ft_grow(&s->counters, &s->counters_cap, s->ncounters, sizeof *s->counters, 8))
        return FT_ENOMEM;
    all = ft_malloc(n * sizeof *all);
    if (!all)
        return FT_ENOMEM;
    for (uint32_t i = 0; i < p->nthreads; i++) {
        const ft_alloc_list *l = &p->threads[i]->allocs;
        if (!p->threads[i]->nsamples)
            continue;
        for (size_t j = 0; j < l->n; j++)
            all[k++] = (time_delta){ l->a[j].time, l->a[j].weight };
    }
    qsort(all, n, sizeof *all, cmp_time);
    c = &s->counters[s->ncounters++];
    memset(c, 0, sizeof *c);
    snprintf(c->pid, sizeof c->pid, "%s", info->pid);
    c->main_thread = main_index;
    /* The profiler ignores a counter's first sample: a zero at the first record. */
    if ((st = counter_push(c, all[0].t - base, 0)))
        goto out;
    for (size_t i = 0; i < n;) {
        uint64_t end = all[i].t + COUNTER_STEP_NS, last = all[i].t;
        int64_t sum = 0;
        for (; i < n && all[i].t < end; i++) {
            /* Sizes come from the file: a damaged one may be anything. Saturate. */
            if (__builtin_add_overflow(sum, all[i].d, &sum))
                sum = all[i].d > 0 ? INT64_MAX : INT64_MIN;
            last = all[i].t;
        }
        if ((st = counter_push(c, last - base, sum)))
            goto out;
    }
out:
    ft_free(all);
    return st;
}

static void write_counters(ft_ff_sink *s)
{
    ft_jsonw *w = s->w;

    ft_jw_key(w, "counters");
    ft_jw_arr_begin(w);
    for (size_t i = 0; i < s->ncounters; i++) {
        const ff_counter *c = &s->counters[i];
        ft_jw_obj_begin(w);
        ft_jw_key(w, "name");
        ft_jw_cstr(w, "malloc");
        ft_jw_key(w, "category");
        ft_jw_cstr(w, "Memory");
        ft_jw_key(w, "description");
        ft_jw_cstr(w, "Bytes allocated by Python's allocators and not freed (functiontrace "
                      "--memory)");
        ft_jw_key(w, "pid");
        ft_jw_cstr(w, c->pid);
        ft_jw_key(w, "mainThreadIndex");
        ft_jw_uint(w, c->main_thread);
        ft_jw_key(w, "samples");
        ft_jw_obj_begin(w);
        ft_jw_key(w, "length");
        ft_jw_uint(w, c->n);
        ft_jw_key(w, "time");
        ft_jw_arr_begin(w);
        for (size_t j = 0; j < c->n; j++)
            ft_jw_ms(w, (int64_t)c->time[j]);
        ft_jw_arr_end(w);
        ft_jw_key(w, "count");
        ft_jw_arr_begin(w);
        for (size_t j = 0; j < c->n; j++)
            ft_jw_int(w, c->delta[j]);
        ft_jw_arr_end(w);
        ft_jw_obj_end(w);
        ft_jw_obj_end(w);
    }
    ft_jw_arr_end(w);
}

ft_status ft_ff_add_process(ft_ff_sink *s, ft_proc *p, const ft_ff_process *info,
                            uint64_t base)
{
    const ft_tstream *main = main_thread(p);
    uint32_t main_index = s->nthreads;
    ft_status st;

    if (!main)
        return FT_OK;
    if ((st = write_thread(s, p, main, info, base, 1)))
        return st;
    for (uint32_t i = 0; i < p->nthreads; i++) {
        const ft_tstream *ts = p->threads[i];
        if (ts != main && ts->nsamples && (st = write_thread(s, p, ts, info, base, 0)))
            return st;
    }
    return add_counter(s, p, info, base, main_index);
}

static void write_category(ft_jsonw *w, const char *name, const char *color)
{
    ft_jw_obj_begin(w);
    ft_jw_key(w, "name");
    ft_jw_cstr(w, name);
    ft_jw_key(w, "color");
    ft_jw_cstr(w, color);
    ft_jw_key(w, "subcategories");
    ft_jw_arr_begin(w);
    ft_jw_cstr(w, "Other");
    ft_jw_arr_end(w);
    ft_jw_obj_end(w);
}

/* Every main thread, then the other threads in profile order while fewer than
 * FT_FF_MAX_VISIBLE are listed. */
static void write_visible(ft_ff_sink *s)
{
    uint32_t shown = 0;

    ft_jw_key(s->w, "initialVisibleThreads");
    ft_jw_arr_begin(s->w);
    for (int pass = 1; pass >= 0; pass--) {
        for (uint32_t i = 0; i < s->nthreads && (pass || shown < FT_FF_MAX_VISIBLE); i++) {
            if (s->is_main[i] == pass) {
                ft_jw_uint(s->w, i);
                shown++;
            }
        }
    }
    ft_jw_arr_end(s->w);
}

ft_status ft_ff_end(ft_ff_sink *s, int64_t start_wall_ns, const char *arguments)
{
    ft_jsonw *w = s->w;

    ft_jw_arr_end(w);   /* threads */
    ft_jw_key(w, "meta");
    ft_jw_obj_begin(w);
    /* Version 55 with per-thread tables: every newer profiler upgrades it on load, and no
     * deployed one is older (../shared/FIREFOX-PROFILE.md). */
    ft_jw_key(w, "preprocessedProfileVersion");
    ft_jw_uint(w, 55);
    ft_jw_key(w, "version");
    ft_jw_uint(w, 31);
    ft_jw_key(w, "product");
    ft_jw_cstr(w, "functiontrace");
    ft_jw_key(w, "importedFrom");
    ft_jw_cstr(w, "functiontrace");
    if (arguments) {
        ft_jw_key(w, "arguments");
        ft_jw_cstr(w, arguments);
    }
    ft_jw_key(w, "startTime");
    ft_jw_ms(w, start_wall_ns);
    /* Samples are events, not ticks; interval only sizes the last sample of a sampled
     * thread, and ours ends with an empty stack. */
    ft_jw_key(w, "interval");
    ft_jw_uint(w, 1);
    ft_jw_key(w, "processType");
    ft_jw_uint(w, 0);
    ft_jw_key(w, "stackwalk");
    ft_jw_uint(w, 0);
    ft_jw_key(w, "debug");
    ft_jw_bool(w, 0);
    /* Nothing to symbolicate: names come from the trace. */
    ft_jw_key(w, "symbolicated");
    ft_jw_bool(w, 1);
    ft_jw_key(w, "sourceCodeIsNotOnSearchfox");
    ft_jw_bool(w, 1);
    ft_jw_key(w, "keepProfileThreadOrder");
    ft_jw_bool(w, 1);
    ft_jw_key(w, "categories");
    ft_jw_arr_begin(w);
    write_category(w, "Other", "grey");
    write_category(w, "Python", "blue");
    write_category(w, "Native", "orange");
    ft_jw_arr_end(w);
    write_marker_schema(w, &s->marker_keys);
    write_visible(s);
    if (s->nthreads) {
        ft_jw_key(w, "initialSelectedThreads");
        ft_jw_arr_begin(w);
        ft_jw_uint(w, 0);
        ft_jw_arr_end(w);
    }
    ft_jw_obj_end(w);   /* meta */
    empty_col(w, "libs");
    empty_col(w, "pages");
    write_counters(s);
    ft_jw_obj_end(w);
    return ft_jsonw_status(w);
}
