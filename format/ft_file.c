/* ft_file.c — a trace file as a sequence of zstd frames (FORMAT.md §2).
 *
 * Writing: the 24-byte signature frame, and one block compressed into one self-contained
 * zstd frame. Nothing here opens or writes files for the recorder: it owns its descriptor.
 *
 * Reading: the whole file is mapped read-only (or read into memory when it cannot be mapped,
 * e.g. a pipe) and walked frame by frame. Each zstd frame is located with
 * ZSTD_findFrameCompressedSize before it is decompressed, so that a bad frame can be stepped
 * over and the frames after it still read. Content sizes are required and capped
 * (FT_MAX_FRAME_CONTENT) so that hostile input cannot make us allocate much; the one output
 * buffer and the ZSTD_DCtx are reused for every frame. Every step advances the position by
 * at least one byte or ends the walk, so the reader always terminates.
 *
 * The reader does not interpret blocks (ft_trace.c does) and does not know which frame is
 * the header: to it every frame after the signature is alike. A file that is being appended
 * to or truncated while mapped is not supported (a concurrent truncation could fault). */
#include "ft_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "ft_trace.h"

#define SKIPPABLE_MASK 0xFFFFFFF0u
#define SKIPPABLE_MAGIC 0x184D2A50u
#define SIGNATURE_MAGIC 0x184D2A5Fu

/* Bytes 0..15 of every signature; 16..17 hold the version, 18..23 are reserved. */
static const uint8_t sig_fixed[16] = {
    0x5F, 0x2A, 0x4D, 0x18, 0x10, 0x00, 0x00, 0x00, 'F', 'T', 'R', 'A', 'C', 'E', 0, 0,
};

struct ft_file_reader {
    const uint8_t *base;
    size_t size;
    size_t pos;
    int done;           /* set after ETRUNC: only FT_END follows */
    void *map;          /* mmap'd region to unmap, or NULL */
    ft_buf file;        /* the file's bytes when read rather than mapped */
    ft_buf out;         /* decompressed content of the current frame */
    ZSTD_DCtx *dctx;
};

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

ft_status ft_file_put_signature(ft_buf *dst)
{
    uint8_t sig[FT_SIGNATURE_SIZE] = {0};
    memcpy(sig, sig_fixed, sizeof sig_fixed);
    sig[16] = FT_FORMAT_VERSION & 0xff;
    sig[17] = (FT_FORMAT_VERSION >> 8) & 0xff;
    return ft_buf_append(dst, sig, sizeof sig);
}

ft_status ft_frame_compress(void *cctx, int level, const void *src, size_t n, ft_buf *dst)
{
    ZSTD_CCtx *cc = cctx;
    size_t bound = ZSTD_compressBound(n), r;
    ft_status st;

    if (ZSTD_isError(bound))
        return FT_EZSTD;
    if ((st = ft_buf_reserve(dst, bound)))
        return st;
    /* Parameters are set every time: the caller's context may have been used for other
     * work, and both flags are what makes a frame skippable and checkable on reading. */
    if (ZSTD_isError(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)))
        return FT_EZSTD;
    r = ZSTD_compress2(cc, dst->ptr + dst->len, dst->cap - dst->len, src, n);
    if (ZSTD_isError(r))
        return FT_EZSTD;
    dst->len += r;
    return FT_OK;
}

static ft_status check_signature(const uint8_t *p, size_t len, unsigned *version_out)
{
    unsigned version;

    if (len < FT_SIGNATURE_SIZE) {
        /* A prefix of a signature is a file cut short; anything else is not ours. */
        size_t k = len < sizeof sig_fixed ? len : sizeof sig_fixed;
        return memcmp(p, sig_fixed, k) == 0 ? FT_ETRUNC : FT_EFOREIGN;
    }
    if (memcmp(p, sig_fixed, sizeof sig_fixed) != 0)
        return FT_EFOREIGN;
    version = (unsigned)p[16] | (unsigned)p[17] << 8;
    if (version_out)
        *version_out = version;
    return ft_format_version_known(version) ? FT_OK : FT_EVERSION;
}

static ft_status reader_new(const uint8_t *data, size_t len, ft_file_reader **out)
{
    ft_file_reader *fr = ft_malloc(sizeof *fr);
    if (!fr)
        return FT_ENOMEM;
    memset(fr, 0, sizeof *fr);
    fr->base = data;
    fr->size = len;
    fr->pos = FT_SIGNATURE_SIZE;
    ft_buf_init(&fr->file);
    ft_buf_init(&fr->out);
    *out = fr;
    return FT_OK;
}

/* Checks the signature and creates the DCtx: the part shared by both ways of opening. */
static ft_status reader_start(ft_file_reader *fr, unsigned *version_out)
{
    ft_status st = check_signature(fr->base, fr->size, version_out);
    if (st)
        return st;
    fr->dctx = ZSTD_createDCtx();
    return fr->dctx ? FT_OK : FT_ENOMEM;
}

ft_status ft_file_reader_open_mem(const void *data, size_t len, ft_file_reader **out,
                                  unsigned *version_out)
{
    ft_file_reader *fr = NULL;
    ft_status st;

    *out = NULL;
    if ((st = reader_new(data, len, &fr)) || (st = reader_start(fr, version_out)))
        goto out;
    *out = fr;
out:
    if (st)
        ft_file_reader_free(fr);
    return st;
}

/* For files that cannot be mapped (pipes, empty files): read everything. */
static ft_status read_all(int fd, ft_buf *b)
{
    for (;;) {
        ssize_t n;
        ft_status st = ft_buf_reserve(b, 65536);
        if (st)
            return st;
        n = read(fd, b->ptr + b->len, b->cap - b->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FT_EIO;
        if (n == 0)
            return FT_OK;
        b->len += (size_t)n;
    }
}

ft_status ft_file_reader_open(const char *path, ft_file_reader **out, unsigned *version_out)
{
    ft_file_reader *fr = NULL;
    struct stat sb;
    int fd, saved;
    ft_status st;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FT_EIO;
    if (fstat(fd, &sb) < 0) {
        st = FT_EIO;
        goto out;
    }
    if ((st = reader_new(NULL, 0, &fr)))
        goto out;
    if (S_ISREG(sb.st_mode) && sb.st_size > 0 && (uintmax_t)sb.st_size <= SIZE_MAX) {
        void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            fr->map = m;
            fr->base = m;
            fr->size = (size_t)sb.st_size;
        }
    }
    if (!fr->map) {
        if ((st = read_all(fd, &fr->file)))
            goto out;
        fr->base = fr->file.ptr;
        fr->size = fr->file.len;
    }
    if ((st = reader_start(fr, version_out)))
        goto out;
    *out = fr;
out:
    saved = errno;
    if (st)
        ft_file_reader_free(fr);
    close(fd);
    errno = saved;
    return st;
}

void ft_file_reader_free(ft_file_reader *fr)
{
    if (!fr)
        return;
    if (fr->map)
        munmap(fr->map, fr->size);
    ft_buf_fini(&fr->file);
    ft_buf_fini(&fr->out);
    ZSTD_freeDCtx(fr->dctx);
    ft_free(fr);
}

uint64_t ft_file_reader_size(const ft_file_reader *fr)
{
    return fr->size;
}

/* Offset of the next zstd frame magic after `from`, or the end of the file. */
static size_t next_magic(const ft_file_reader *fr, size_t from)
{
    static const uint8_t magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
    size_t i = from;

    while (i + 4 <= fr->size) {
        const uint8_t *hit = memchr(fr->base + i, magic[0], fr->size - i - 3);
        if (!hit)
            break;
        i = (size_t)(hit - fr->base);
        if (memcmp(hit, magic, 4) == 0)
            return i;
        i++;
    }
    return fr->size;
}

/* Decompresses the zstd frame of csize bytes at fr->pos into fr->out. */
static ft_status decompress_frame(ft_file_reader *fr, size_t csize, ft_frame *frame)
{
    const uint8_t *src = fr->base + fr->pos;
    unsigned long long content = ZSTD_getFrameContentSize(src, csize);
    size_t got;
    ft_status st;

    /* Unknown sizes are refused because every encoder sets them (FORMAT.md §2); the cap
     * keeps a forged header from making us allocate gigabytes. */
    if (content == ZSTD_CONTENTSIZE_UNKNOWN || content == ZSTD_CONTENTSIZE_ERROR ||
        content > FT_MAX_FRAME_CONTENT) {
        frame->reason = "the frame header gives no content size, or one over the limit";
        return FT_ECORRUPT;
    }
    fr->out.len = 0;
    if ((st = ft_buf_reserve(&fr->out, content ? (size_t)content : 1)))
        return st;
    got = ZSTD_decompressDCtx(fr->dctx, fr->out.ptr, (size_t)content, src, csize);
    if (ZSTD_isError(got)) {
        frame->reason = ZSTD_getErrorName(got);   /* static text */
        return FT_EZSTD;
    }
    if (got != content) {
        frame->reason = "the frame holds less than its header's content size";
        return FT_ECORRUPT;
    }
    frame->data = fr->out.ptr;
    frame->len = got;
    return FT_OK;
}

ft_status ft_file_reader_next(ft_file_reader *fr, ft_frame *frame)
{
    ft_status st = FT_OK;

    memset(frame, 0, sizeof *frame);
    for (;;) {
        size_t left, csize;
        uint32_t magic;

        if (fr->done || fr->pos >= fr->size) {
            st = FT_END;
            goto out;
        }
        left = fr->size - fr->pos;
        frame->offset = fr->pos;
        if (left < 4) {
            st = FT_ETRUNC;
            goto out;
        }
        magic = get_le32(fr->base + fr->pos);
        if ((magic & SKIPPABLE_MASK) == SKIPPABLE_MAGIC) {
            uint64_t len;
            if (left < 8 || (len = 8 + (uint64_t)get_le32(fr->base + fr->pos + 4)) > left) {
                st = FT_ETRUNC;
                goto out;
            }
            fr->pos += (size_t)len;
            continue;
        }
        if (magic != ZSTD_MAGICNUMBER) {
            frame->reason = "no zstd frame starts here";
            st = FT_ECORRUPT;
            fr->pos = next_magic(fr, fr->pos + 1);
            goto out;
        }
        csize = ZSTD_findFrameCompressedSize(fr->base + fr->pos, left);
        if (ZSTD_isError(csize)) {
            /* "Runs past the end" is a truncated last frame, unless another frame starts
             * later: then this frame's header lied about its blocks. */
            size_t next = next_magic(fr, fr->pos + 1);
            if (ZSTD_getErrorCode(csize) == ZSTD_error_srcSize_wrong && next == fr->size) {
                st = FT_ETRUNC;
                goto out;
            }
            frame->reason = "the frame's header or block sizes are damaged";
            st = FT_ECORRUPT;
            fr->pos = next;
            goto out;
        }
        frame->size = csize;
        st = decompress_frame(fr, csize, frame);
        if (st == FT_OK || st == FT_ENOMEM) {
            fr->pos += csize;
        } else {
            /* The frame header may be what was damaged (a block size grown so that this
             * frame swallows the next one): resume at the first frame magic inside the
             * claimed extent, if there is one, so as to lose as little as possible. */
            size_t next = next_magic(fr, fr->pos + 1);
            fr->pos = next < fr->pos + csize ? next : fr->pos + csize;
        }
        goto out;
    }
out:
    if (st == FT_ETRUNC)
        fr->done = 1;
    if (st == FT_ECORRUPT || st == FT_EZSTD)
        frame->size = fr->pos - frame->offset;
    if (st != FT_OK) {
        frame->data = NULL;
        frame->len = 0;
    }
    return st;
}
