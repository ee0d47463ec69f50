/* gzsink.h — gzip compression of a stream of buffers, on a thread of its own.
 *
 * Deflating the profile costs more than producing it (zlib's fastest level runs at about
 * 130 MB/s, the JSON writer at several times that), so the writer hands each full buffer
 * to a compressing thread and goes on filling another: the conversion then takes about
 * as long as the slower of the two instead of their sum. Two buffers circulate between the
 * producer and the compressor, so memory stays at two buffers whatever the output size.
 * Without threads (pthread_create failing) the same calls compress synchronously.
 *
 * Errors (a failing write) are sticky and come back from the next put or finish, with
 * errno as the failing call left it. */
#ifndef FT_GZSINK_H
#define FT_GZSINK_H

#include <stddef.h>
#include <stdio.h>
#include "ft_status.h"

typedef struct ft_gzsink ft_gzsink;

/* A sink writing a gzip stream (deflate level `level`) to f, which the caller keeps owning,
 * for buffers of cap bytes. FT_ENOMEM. */
ft_status ft_gzsink_new(FILE *f, int level, size_t cap, ft_gzsink **out);

/* Hand over (*buf)[0..len) for compression; *buf is replaced by a buffer of cap bytes for
 * the caller to fill next. Waits while the previous buffer is still being compressed.
 * FT_OK, or the sink's first error (FT_EIO). */
ft_status ft_gzsink_put(ft_gzsink *g, char **buf, size_t len);

/* Compress buf[0..len) as the last data, end the gzip stream and wait until all of it is
 * written to f (not flushed: that is the caller's FILE). buf stays the caller's.
 * FT_OK or the first error. */
ft_status ft_gzsink_finish(ft_gzsink *g, char *buf, size_t len);

/* Stop (abandoning what is not written yet) and free. NULL is fine. */
void ft_gzsink_free(ft_gzsink *g);

#endif
