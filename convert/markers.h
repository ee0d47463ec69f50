/* markers.h — a thread's markers (FORMAT.md §4.6), kept until its profile is written, and
 * the Firefox Profiler's view of them: one marker schema per kind.
 *
 * The reader (proc.c) hands each MARKER or INTERVAL record of a chunk to its thread's list
 * with the record's absolute end time; the list keeps the kind and name as strpool ids and
 * the fields map as the record's bytes (already checked by the decoder). The Firefox sink
 * then writes them into the thread's markers table, in start order, each with data.type
 * naming the schema of its kind. Kinds the recorder writes get a schema of their own with
 * typed fields; a marker of the program's own (`user`) or of an unknown kind goes under
 * the "Marker" schema, whose fields are every key such markers used, shown as text. */
#ifndef FT_MARKERS_H
#define FT_MARKERS_H

#include <stddef.h>
#include <stdint.h>
#include "ft_buf.h"
#include "ft_status.h"
#include "ft_trace.h"
#include "jsonw.h"
#include "strpool.h"

typedef struct ft_marker {
    uint64_t start, end;        /* clock ns; start == end for an instant */
    uint32_t kind, name;        /* strpool ids */
    uint32_t nfields;
    uint8_t interval;
    size_t off, len;            /* the fields map's bytes, in ft_marker_list.bytes */
} ft_marker;

typedef struct ft_marker_list {
    ft_marker *m;
    size_t n, cap;
    ft_buf bytes;
} ft_marker_list;

void ft_markers_init(ft_marker_list *l);
void ft_markers_fini(ft_marker_list *l);

/* Add the MARKER or INTERVAL record rec, which ends at clock time end. FT_ENOMEM. */
ft_status ft_markers_add(ft_marker_list *l, ft_strpool *strings, const ft_record *rec,
                         uint64_t end);

/* Sort the list by start time (stable: record order among equal starts). FT_ENOMEM. */
ft_status ft_markers_sort(ft_marker_list *l);

/* The keys "Marker"-schema markers use, collected across the whole profile. */
typedef struct ft_marker_keys {
    ft_strpool keys;
} ft_marker_keys;

void ft_marker_keys_init(ft_marker_keys *k);
void ft_marker_keys_fini(ft_marker_keys *k);

/* The schema name of marker m ("Print", "Log", … or "Marker"). */
const char *ft_marker_schema(const ft_marker_list *l, const ft_marker *m,
                             const ft_strpool *strings);

/* Write m's data object ({"type": schema, fields...}); keys of "Marker"-schema markers are
 * added to keys. */
ft_status ft_marker_write_data(ft_jsonw *w, const ft_marker_list *l, const ft_marker *m,
                               const ft_strpool *strings, ft_marker_keys *keys);

/* Append the schemas of every kind to the markerSchema array being written. */
void ft_marker_write_schemas(ft_jsonw *w, const ft_marker_keys *keys);

#endif
