/* ft_file.h — a trace file as frames (FORMAT.md §2): the signature, compressing one block
 * into one zstd frame, and reading a file back frame by frame.
 *
 * Writing is split so that the recorder keeps control of its file descriptor and locking:
 * ft_file_put_signature and ft_frame_compress only fill buffers.
 *
 * Reading maps the whole file (or takes a memory range, for fuzzing) and hands out one
 * decompressed frame at a time. A bad frame is reported with its offset and, where the rest
 * of the file can still be found, reading continues after it: the reader skips the frame by
 * its compressed size when the frame header is sound (or stops at a frame magic inside that
 * extent, in case a damaged block size made the frame swallow the next one), otherwise it
 * scans for the next zstd frame magic. So a caller loops until FT_END, counting or printing
 * the errors in between. */
#ifndef FT_FILE_H
#define FT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "ft_buf.h"

#define FT_SIGNATURE_SIZE 24           /* skippable frame: 4 magic + 4 size + 16 payload */
#define FT_MAX_FRAME_CONTENT (64u << 20) /* a frame claiming more is corrupt */

/* Append the 24-byte signature frame for format version FT_FORMAT_VERSION. */
ft_status ft_file_put_signature(ft_buf *dst);

/* Compress src[0..n) into one zstd frame (content size set, no dictionary) appended to dst.
 * cctx is a ZSTD_CCtx * (void * here so that users of this header need not include zstd.h);
 * level is a zstd level. */
ft_status ft_frame_compress(void *cctx, int level, const void *src, size_t n, ft_buf *dst);

typedef struct ft_file_reader ft_file_reader;

typedef struct ft_frame {
    uint64_t offset;        /* file offset of the frame's first byte */
    uint64_t size;          /* compressed size in the file; after FT_ECORRUPT / FT_EZSTD,
                               the bytes skipped (reading resumes at offset + size) */
    const uint8_t *data;    /* decompressed content, valid until the next call */
    size_t len;
    const char *reason;     /* after FT_ECORRUPT / FT_EZSTD: what is wrong, static text */
} ft_frame;

/* Open a file / a memory range and check the signature frame.
 * FT_EIO (errno set), FT_ETRUNC (shorter than the signature), FT_EFOREIGN (no signature),
 * FT_EVERSION (signature of another major version; *version_out tells which if non-NULL).
 * On error *out is NULL. The memory range must outlive the reader. */
ft_status ft_file_reader_open(const char *path, ft_file_reader **out, unsigned *version_out);
ft_status ft_file_reader_open_mem(const void *data, size_t len, ft_file_reader **out,
                                  unsigned *version_out);
void ft_file_reader_free(ft_file_reader *fr);  /* NULL is fine */

/* Next frame (skippable frames other than the signature are skipped silently).
 * FT_OK: frame filled. FT_END: clean end of file.
 * FT_ETRUNC: the file ends inside a frame (frame->offset says where it began); the next call
 *   returns FT_END.
 * FT_ECORRUPT / FT_EZSTD: the frame at frame->offset is unreadable; the next call resumes
 *   after it (or at the next frame magic found), at frame->offset + frame->size.
 * FT_ENOMEM. */
ft_status ft_file_reader_next(ft_file_reader *fr, ft_frame *frame);

/* Total size of the file / range. */
uint64_t ft_file_reader_size(const ft_file_reader *fr);

#endif
