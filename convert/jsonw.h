/* jsonw.h — a small streaming JSON writer with file, stdout and gzip sinks.
 *
 * The profile is written as it is produced and never held as a tree: a profile of a long
 * trace has tens of millions of numbers, and a DOM of them (cJSON: ~64 bytes a number)
 * would cost far more memory than the trace. The writer fills a buffer and hands it to
 * its sink when full; the sink is a FILE (the output file, stdout, or a caller's stream),
 * optionally through gzip compression on a thread of its own (gzsink.h).
 *
 * Errors are sticky, as in redis' rio: the value functions return nothing, the first
 * failure is kept and every later call does nothing; ft_jsonw_close (or ft_jsonw_status)
 * reports it. The writer tracks commas itself: a value after a value gets one.
 * It does not check that the calls nest properly; its users (the sinks of sink.h) nest them.
 *
 * An output file is written under a temporary name next to it and renamed into place by a
 * committing close, so that a failed conversion never leaves a half-written profile where
 * the user expects a profile. Paths that are not regular files (/dev/stdout, a FIFO) are
 * written directly. */
#ifndef FT_JSONW_H
#define FT_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "ft_status.h"

typedef struct ft_jsonw ft_jsonw;

/* Open a writer on path: "-" is stdout, a name ending in ".gz" is gzip-compressed, anything
 * else is plain JSON. FT_EIO (errno set) if the file cannot be created, FT_ENOMEM. */
ft_status ft_jsonw_open(const char *path, ft_jsonw **out);
/* A writer on a stream the caller keeps owning (closed by neither close nor discard). */
ft_status ft_jsonw_open_stream(FILE *f, int gzip, ft_jsonw **out);

/* Flush everything, finish the gzip stream, close and rename the file into place, free w.
 * With commit == 0 the output is abandoned instead (a temporary file is removed; stdout
 * and streams just stop). Returns the first error of the writer's life, or FT_OK; after an
 * FT_EIO, errno is the one from the failing call. NULL is fine. */
ft_status ft_jsonw_close(ft_jsonw *w, int commit);

/* The sticky error so far (FT_OK if none). */
ft_status ft_jsonw_status(const ft_jsonw *w);
/* Bytes handed to the sink so far plus those buffered (before compression). */
uint64_t ft_jsonw_bytes(const ft_jsonw *w);

void ft_jw_obj_begin(ft_jsonw *w);
void ft_jw_obj_end(ft_jsonw *w);
void ft_jw_arr_begin(ft_jsonw *w);
void ft_jw_arr_end(ft_jsonw *w);
/* An object key; the value follows with the next value call. */
void ft_jw_key(ft_jsonw *w, const char *key);

/* A string value. Bytes that are not valid UTF-8 become U+FFFD, so that any trace string
 * gives valid JSON (FORMAT.md: decoders replace invalid UTF-8, never fail on it). */
void ft_jw_str(ft_jsonw *w, const char *s, size_t n);
void ft_jw_cstr(ft_jsonw *w, const char *s);   /* NULL writes null */
void ft_jw_uint(ft_jsonw *w, uint64_t v);
void ft_jw_int(ft_jsonw *w, int64_t v);
/* A time or duration of ns nanoseconds, written in milliseconds with every digit kept
 * (exact decimal: "1.5", "0.000123", "42"), never through a double. */
void ft_jw_ms(ft_jsonw *w, int64_t ns);
void ft_jw_null(ft_jsonw *w);
void ft_jw_bool(ft_jsonw *w, int v);
/* Bytes copied to the output as they are, outside the JSON structure (no comma, no
 * escaping): the text outputs (convert/summary.c) use the writer for its sinks only. */
void ft_jw_raw(ft_jsonw *w, const char *s, size_t n);

#endif
