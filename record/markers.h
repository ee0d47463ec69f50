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

/* For exctrack.c, the exception markers of 3.8-3.11 (same kind and fields as 3.12's).
 *
 * describe: exc's type name, qualified name and str() (new references; "<unprintable>"
 * when str() fails); 0, or -1 with nothing set. str() may run the program's code: the
 * caller has saved the pending exception and muted the thread (tstate.h).
 * exception: record an `exception` marker, `raise` or (handled) `handled`, at time at (0:
 * now); leaves the pending exception alone.
 * skipped_code: whether exceptions of code are left out (the recorder's own files, the
 * frozen import system; everything until markers are installed). */
int ft_markers_describe(PyObject *exc, PyObject **name, PyObject **qual, PyObject **msg);
void ft_markers_exception(int handled, PyObject *name, PyObject *qual, PyObject *msg,
                          PyObject *where, uint64_t at);
int ft_markers_skipped_code(PyObject *code);

/* stop(): give sys.stdout/sys.stderr back their class's write, where it is still ours
 * (the next start patches them again, _markers.py). GIL held. */
void ft_markers_stop(void);

#endif
