/* markers.h — MARKER and INTERVAL records (FORMAT.md §4.6) from Python: the mechanism
 * behind functiontrace.marker and the recorder's own markers (functiontrace/_markers.py).
 *
 *   marker(kind, name, fields=None)               an instant, now
 *   interval(kind, name, start_ns, fields=None)   from start_ns (a now() value) to now
 *   now() -> int                                  the clock of every timestamp of the trace
 *
 * Each goes into the calling thread's chunk, on the time base of its events. When nothing
 * is being recorded they return at once. fields: a dict of str keys; bool, int (64-bit),
 * float, None and str values are kept as they are, anything else as its str(). A str is
 * cut to FT_MARKER_STR_MAX bytes (at a character boundary) and a marker keeps at most
 * FT_MARKER_FIELDS fields, so that one marker always fits a chunk of the default size; a
 * marker that does not fit the thread's buffer anyway (a tiny buffer_size) is dropped. */
#ifndef FT_MARKERS_H
#define FT_MARKERS_H

#include "session.h"

#define FT_MARKER_STR_MAX (4u << 10)
#define FT_MARKER_FIELDS 16
#define FT_MARKER_NAME_MAX 256   /* kind and name */

extern PyMethodDef ft_marker_methods[];

#endif
