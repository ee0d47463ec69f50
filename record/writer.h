/* writer.h — this process's trace file: frames, the order of definitions, write failures.
 *
 * The writer owns the file descriptor, the zstd contexts, the pending definitions (FUNC
 * records of functions seen since the last chunk) and the compressor thread that writes full
 * chunks in the background (writer.c). Every function takes the writer's mutex; none calls
 * into Python, so they may be called from hooks and need not hold the GIL (they do today).
 * Those that report on the file (flush_defs, close, prepare_trailer, get_stats) first wait
 * until every chunk handed over is written.
 *
 * Order of definitions (FORMAT.md §2): a FUNC record is added to the pending buffer before
 * the event that uses it is recorded, and every chunk takes all pending definitions along,
 * written first as a definitions block in the same write(); chunks are written in the order
 * they were handed over. So whichever thread's chunk reaches the file first carries the
 * definitions its events (and every other thread's earlier-interned functions) need.
 *
 * Failures: the first failed write (disk full, I/O error) or failed compression makes the
 * writer sticky-failed: it truncates the file back to the end of the last whole frame, prints
 * one line on stderr, and from then on counts the events of every chunk it is handed as
 * dropped instead of writing them. At close it still tries to append the trailer so that the
 * count of dropped events reaches the file if space allows. */
#ifndef FT_WRITER_H
#define FT_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include "ft_trace.h"

/* Counters for the trailer and for stop()'s return value. */
typedef struct ft_writer_stats {
    uint64_t events;          /* event records in written chunks */
    uint64_t chunks;          /* chunks written */
    uint64_t dropped_events;  /* events recorded but not written */
    uint64_t functions;       /* FUNC records written */
    uint64_t memory_records;  /* ALLOC and FREE records in written chunks (1.3) */
    int failed;               /* a write failed (the message was printed) */
} ft_writer_stats;

/* Create path (O_CREAT|O_EXCL|O_APPEND|O_CLOEXEC, 0644) and write the signature frame and
 * the header frame in one write. level is the zstd level of every later frame.
 * Returns 0, or -1 with errno set (EEXIST when the file exists, ENOMEM, EIO for zstd errors);
 * on failure no file is left behind. */
int ft_writer_open(const char *path, const ft_header *h, int level);

/* Queue the definition of fid for the next write. On allocation failure the writer fails
 * (a file whose events use undefined ids would mislead a reader). */
void ft_writer_add_func(uint64_t fid, int kind, const char *name, size_t name_len,
                        const char *module, size_t module_len,
                        const char *file, size_t file_len, uint64_t line);

/* Hand over one chunk of thread tid. base (malloc'd, size bytes) holds `head` bytes of free
 * space followed by `len` bytes of encoded records (nevents events, nmem memory records
 * among them, counted apart for the trailer). The CHUNK record is
 * encoded into the free space right before the events so that the block is compressed from
 * one contiguous range without copying the events. head must be at least FT_CHUNK_RECORD_MAX
 * plus the name's length. The pending definitions go with the chunk and reach the file first,
 * in the same write.
 *
 * The writer takes base over: it is compressed and written later, by the compressor thread
 * (or now, without one), then kept for reuse. When want_buffer is set the caller gets a
 * buffer of the same size back for its next chunk, or NULL when none is spare (it allocates
 * one); when nothing could be queued (the writer is closed or failed) that is base itself,
 * its events counted as dropped. Waits while the queue is full. */
uint8_t *ft_writer_put_chunk(uint8_t *base, size_t size, size_t head, size_t len,
                             uint64_t nevents, uint64_t nmem, uint64_t tid, uint64_t seq,
                             uint64_t t0, const char *name, size_t name_len, int want_buffer);

/* Count events that were recorded but could not be buffered (no memory). */
void ft_writer_drop(uint64_t nevents);

/* Write pending definitions now (a definitions block), if any, and wait until everything
 * handed over so far is in the file. */
void ft_writer_flush_defs(void);

/* Write pending definitions and the trailer, close the file, and fill *stats. Safe to call
 * when the writer is not open (fills zeros). how, if not NULL, gives the trailer's optional
 * fields (end_reason, exit_status, signal, process_label; FORMAT.md §4.5); its counts and
 * end_ns are ignored: the writer fills those. The strings are only read. Takes no Python
 * object: it also runs at process exit, after the interpreter is gone. */
void ft_writer_close(uint64_t end_ns, const ft_trailer *how, ft_writer_stats *stats);

/* Encode and compress, now, the trailer frame ft_writer_close would write (counters as they
 * are; how as for ft_writer_close) into frame, without writing it: for a process that may
 * have to append it from a signal handler (ft_writer_put_frame_signal_safe). Returns 0, or
 * -1 when the writer is not open, has failed, or is out of memory. */
int ft_writer_prepare_trailer(uint64_t end_ns, const ft_trailer *how, ft_buf *frame);

/* Async-signal-safe: append n bytes (a frame from ft_writer_prepare_trailer) with write(2)
 * alone: no lock, no allocation, no state change. For a process about to die of a signal,
 * while the writer holds no partial write: only once its last events are written. */
void ft_writer_put_frame_signal_safe(const uint8_t *p, size_t n);

/* In a fork child: forget the parent's file without writing to it (the descriptor is
 * closed, pending data discarded). Runs in an atfork handler: no locks taken. */
void ft_writer_abandon(void);

/* pthread_atfork prepare handler: write what is queued and end the compressor thread, so
 * that the process forks with the threads the program made and no more (3.12+ warns when a
 * process with several threads forks, and a child must not inherit a half-held lock). The
 * thread starts again with the next chunk. */
void ft_writer_before_fork(void);

/* Current counters (for flush() and tests). */
void ft_writer_get_stats(ft_writer_stats *stats);

/* Bytes a CHUNK record takes besides its thread name. */
#define FT_CHUNK_RECORD_MAX (1 + 1 + 3 * FT_MP_MAX_UINT + 5)

#endif
