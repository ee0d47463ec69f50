/* markers.c — a thread's markers and their Firefox Profiler schemas (see markers.h). */
#include "markers.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 128
#define GENERIC_SCHEMA "Marker"

typedef struct field_def {
    const char *key, *label, *format;
} field_def;

/* One kind the recorder writes (FORMAT.md §4.6) and how the profiler shows it. */
typedef struct kind_def {
    const char *kind, *schema;
    const char *label;          /* table, chart and tooltip label */
    const char *description;
    int overview;               /* also drawn in the timeline's overview */
    field_def fields[5];
} kind_def;

static const kind_def kinds[] = {
    {"print", "Print", "{marker.data.text}", "Text the program printed (print()).", 0,
     {{"text", "Text", "string"}, {"file", "File", "string"}}},
    {"write", "Write", "{marker.data.text}",
     "Text the program wrote to sys.stdout or sys.stderr other than by print().", 0,
     {{"text", "Text", "string"}, {"file", "File", "string"}}},
    {"log", "Log", "{marker.data.logger}: {marker.data.message}",
     "A log record that a logging.Logger handled.", 0,
     {{"message", "Message", "string"}, {"logger", "Logger", "string"},
      {"level", "Level", "integer"}, {"where", "Where", "string"}}},
    {"import", "Import", "import {marker.data.module}",
     "A module being imported; imports it triggers nest inside.", 1,
     {{"module", "Module", "string"}, {"error", "Failed with", "string"}}},
    {"exception", "Exception", "{marker.data.event}: {marker.data.exception}: {marker.data.message}",
     "An exception raised, caught by a handler, or not caught at all.", 1,
     {{"event", "Event", "string"}, {"exception", "Exception", "string"},
      {"message", "Message", "string"}, {"where", "Where", "string"}}},
    {"gc", "GC", "generation {marker.data.generation}: {marker.data.collected} collected",
     "A collection of the cyclic garbage collector.", 1,
     {{"generation", "Generation", "integer"}, {"collected", "Collected", "integer"},
      {"uncollectable", "Uncollectable", "integer"}}},
    {"thread", "Thread", "{marker.data.thread}",
     "A thread started, ended, or was renamed.", 1,
     {{"thread", "Thread", "string"}, {"old_name", "Former name", "string"}}},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

void ft_markers_init(ft_marker_list *l)
{
    memset(l, 0, sizeof *l);
    ft_buf_init(&l->bytes);
}

void ft_markers_fini(ft_marker_list *l)
{
    ft_free(l->m);
    ft_buf_fini(&l->bytes);
    memset(l, 0, sizeof *l);
}

ft_status ft_markers_add(ft_marker_list *l, ft_strpool *strings, const ft_record *rec,
                         uint64_t end)
{
    ft_marker *m;
    ft_status st;

    if (ft_grow(&l->m, &l->cap, l->n, sizeof *l->m, 64))
        return FT_ENOMEM;
    m = &l->m[l->n];
    memset(m, 0, sizeof *m);
    m->end = end;
    m->interval = rec->type == FT_REC_INTERVAL;
    m->start = rec->u.marker.dur <= end ? end - rec->u.marker.dur : 0;
    m->nfields = rec->u.marker.nfields;
    m->off = l->bytes.len;
    m->len = rec->u.marker.fields_len;
    if ((st = ft_strpool_intern(strings, rec->u.marker.kind.ptr, rec->u.marker.kind.len,
                                &m->kind)) ||
        (st = ft_strpool_intern(strings, rec->u.marker.name.ptr, rec->u.marker.name.len,
                                &m->name)) ||
        (st = ft_buf_append(&l->bytes, rec->u.marker.fields, m->len)))
        return st;
    l->n++;
    return FT_OK;
}

static int by_start(const void *a, const void *b)
{
    const ft_marker *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    /* Equal starts: the earlier record first (off grows with record order). */
    return x->off < y->off ? -1 : x->off > y->off;
}

ft_status ft_markers_sort(ft_marker_list *l)
{
    if (l->n > 1)
        qsort(l->m, l->n, sizeof *l->m, by_start);
    return FT_OK;
}

void ft_marker_keys_init(ft_marker_keys *k)
{
    ft_strpool_init(&k->keys);
}

void ft_marker_keys_fini(ft_marker_keys *k)
{
    ft_strpool_fini(&k->keys);
}

static const kind_def *kind_of(const ft_marker *m, const ft_strpool *strings)
{
    ft_str k = ft_strpool_get(strings, m->kind);

    for (size_t i = 0; i < NKINDS; i++) {
        if (strlen(kinds[i].kind) == k.len && memcmp(kinds[i].kind, k.ptr, k.len) == 0)
            return &kinds[i];
    }
    return NULL;
}

const char *ft_marker_schema(const ft_marker_list *l, const ft_marker *m,
                             const ft_strpool *strings)
{
    const kind_def *d = kind_of(m, strings);
    return d ? d->schema : GENERIC_SCHEMA;
}

/* A field's key as a C string (keys are short; a longer one is cut). */
static void key_cstr(char *dst, ft_str key)
{
    size_t n = key.len < KEY_MAX - 1 ? key.len : KEY_MAX - 1;
    memcpy(dst, key.ptr, n);
    dst[n] = '\0';
}

/* The shortest %g form that reads back as the same double. */
static void float_text(char *buf, size_t cap, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* A value as text, as Python would print it (the "Marker" schema shows text). */
static void value_text(ft_jsonw *w, const ft_field *f)
{
    char buf[40];

    switch (f->type) {
    case FT_FIELD_STR: ft_jw_str(w, f->s.ptr, f->s.len); return;
    case FT_FIELD_UINT: snprintf(buf, sizeof buf, "%" PRIu64, f->u); break;
    case FT_FIELD_INT: snprintf(buf, sizeof buf, "%" PRId64, f->i); break;
    case FT_FIELD_FLOAT: float_text(buf, sizeof buf, f->f); break;
    case FT_FIELD_BOOL: snprintf(buf, sizeof buf, "%s", f->u ? "True" : "False"); break;
    default: snprintf(buf, sizeof buf, "None"); break;
    }
    ft_jw_cstr(w, buf);
}

/* A value with its JSON type (the typed schemas). */
static void value_typed(ft_jsonw *w, const ft_field *f)
{
    switch (f->type) {
    case FT_FIELD_STR: ft_jw_str(w, f->s.ptr, f->s.len); break;
    case FT_FIELD_UINT: ft_jw_uint(w, f->u); break;
    case FT_FIELD_INT: ft_jw_int(w, f->i); break;
    case FT_FIELD_BOOL: ft_jw_bool(w, (int)f->u); break;
    case FT_FIELD_NIL: ft_jw_null(w); break;
    default: value_text(w, f); break;
    }
}

/* data.type and data.cause belong to the profiler: a field of that name is renamed. */
static int reserved_key(const char *k)
{
    return strcmp(k, "type") == 0 || strcmp(k, "cause") == 0;
}

ft_status ft_marker_write_data(ft_jsonw *w, const ft_marker_list *l, const ft_marker *m,
                               const ft_strpool *strings, ft_marker_keys *keys)
{
    const kind_def *d = kind_of(m, strings);
    ft_mp_reader r;
    ft_field f;
    ft_status st = FT_OK;

    ft_jw_obj_begin(w);
    ft_jw_key(w, "type");
    ft_jw_cstr(w, d ? d->schema : GENERIC_SCHEMA);
    if (!d) {
        ft_str kind = ft_strpool_get(strings, m->kind);
        if (!(kind.len == 4 && memcmp(kind.ptr, "user", 4) == 0)) {
            ft_jw_key(w, "kind");
            ft_jw_str(w, kind.ptr, kind.len);
        }
    }
    ft_mp_reader_init(&r, l->bytes.ptr + m->off, m->len);
    for (uint32_t i = 0; i < m->nfields && !ft_trace_next_field(&r, &f); i++) {
        char key[KEY_MAX + 1];
        uint32_t id;
        if (f.type == FT_FIELD_OTHER)
            continue;
        key_cstr(key, f.key);
        if (d) {
            if (reserved_key(key))
                continue;
            ft_jw_key(w, key);
            value_typed(w, &f);
            continue;
        }
        if (reserved_key(key) || strcmp(key, "kind") == 0)
            memmove(key + 1, key, strlen(key) + 1), key[0] = '_';
        if ((st = ft_strpool_intern(&keys->keys, key, strlen(key), &id)))
            break;
        ft_jw_key(w, key);
        value_text(w, &f);
    }
    ft_jw_obj_end(w);
    return st;
}

static void write_field(ft_jsonw *w, const char *key, const char *label, const char *format)
{
    ft_jw_obj_begin(w);
    ft_jw_key(w, "key");
    ft_jw_cstr(w, key);
    ft_jw_key(w, "label");
    ft_jw_cstr(w, label);
    ft_jw_key(w, "format");
    ft_jw_cstr(w, format);
    ft_jw_obj_end(w);
}

static void write_schema_head(ft_jsonw *w, const char *name, const char *label,
                              const char *description, int overview)
{
    ft_jw_key(w, "name");
    ft_jw_cstr(w, name);
    ft_jw_key(w, "display");
    ft_jw_arr_begin(w);
    ft_jw_cstr(w, "marker-chart");
    ft_jw_cstr(w, "marker-table");
    if (overview)
        ft_jw_cstr(w, "timeline-overview");
    ft_jw_arr_end(w);
    if (label) {
        ft_jw_key(w, "tooltipLabel");
        ft_jw_cstr(w, label);
        ft_jw_key(w, "tableLabel");
        ft_jw_cstr(w, label);
        ft_jw_key(w, "chartLabel");
        ft_jw_cstr(w, label);
    }
    ft_jw_key(w, "description");
    ft_jw_cstr(w, description);
}

void ft_marker_write_schemas(ft_jsonw *w, const ft_marker_keys *keys)
{
    for (size_t i = 0; i < NKINDS; i++) {
        const kind_def *d = &kinds[i];
        ft_jw_obj_begin(w);
        write_schema_head(w, d->schema, d->label, d->description, d->overview);
        ft_jw_key(w, "fields");
        ft_jw_arr_begin(w);
        for (size_t k = 0; k < sizeof d->fields / sizeof d->fields[0] && d->fields[k].key; k++)
            write_field(w, d->fields[k].key, d->fields[k].label, d->fields[k].format);
        ft_jw_arr_end(w);
        ft_jw_obj_end(w);
    }
    ft_jw_obj_begin(w);
    write_schema_head(w, GENERIC_SCHEMA, NULL,
                      "A marker of the program's own (functiontrace.marker), with its fields.",
                      1);
    ft_jw_key(w, "fields");
    ft_jw_arr_begin(w);
    write_field(w, "kind", "Kind", "string");
    for (uint32_t id = 0; id < keys->keys.count; id++) {
        ft_str k = ft_strpool_get(&keys->keys, id);
        char key[KEY_MAX + 1];
        key_cstr(key, k);
        write_field(w, key, key, "string");
    }
    ft_jw_arr_end(w);
    ft_jw_obj_end(w);
}
