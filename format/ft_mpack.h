/* ft_mpack.h — the subset of msgpack that the trace format uses, written and read by hand.
 *
 * Writers: ft_mp_w_* append one value to an ft_buf whose spare capacity the caller has
 * already ensured (ft_buf_reserve). They are static inline because the recorder's hot path
 * packs two or three small integers per event and a call through msgpack-c's packer
 * callback costs more than the packing itself. Each writer emits the shortest encoding.
 * FT_MP_MAX_UINT is the most bytes one integer can take; a caller that reserves
 * n * FT_MP_MAX_UINT + small constant never overflows.
 *
 * Reader: an ft_mp_reader is a cursor over a byte range. Every ft_mp_r_* reads one value,
 * checks bounds and type, advances only on success, and returns FT_ETRUNC when the range ends
 * inside the value and FT_ECORRUPT when the bytes are another type or malformed. Strings are
 * returned as views into the range (ft_str), valid as long as the range is.
 *
 * msgpack-c (the library) is used by the unit tests as an independent implementation to
 * check both directions; production code does not need it. */
#ifndef FT_MPACK_H
#define FT_MPACK_H

#include <stdint.h>
#include <string.h>
#include "ft_buf.h"

#define FT_MP_MAX_UINT 9


static inline void ft_mp_w_uint(ft_buf *b, uint64_t v)
{
    uint8_t *p = b->ptr + b->len;
    if (v < 128) {
        p[0] = (uint8_t)v;
        b->len += 1;
    } else if (v <= 0xff) {
        p[0] = 0xcc; p[1] = (uint8_t)v;
        b->len += 2;
    } else if (v <= 0xffff) {
        p[0] = 0xcd; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)v;
        b->len += 3;
    } else if (v <= 0xffffffffu) {
        p[0] = 0xce;
        p[1] = (uint8_t)(v >> 24); p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 8); p[4] = (uint8_t)v;
        b->len += 5;
    } else {
        p[0] = 0xcf;
        for (int i = 0; i < 8; i++)
            p[1 + i] = (uint8_t)(v >> (56 - 8 * i));
        b->len += 9;
    }
}

/* The 5-byte head of a bin 32 of n bytes, at p (for a caller that writes the bytes
 * before it knows their count, and so always uses bin 32). */
static inline void ft_mp_bin32_head(uint8_t *p, uint32_t n)
{
    p[0] = 0xc6;
    p[1] = (uint8_t)(n >> 24);
    p[2] = (uint8_t)(n >> 16);
    p[3] = (uint8_t)(n >> 8);
    p[4] = (uint8_t)n;
}

/* Signed: non-negative values are written as uint (as msgpack recommends). */
void ft_mp_w_int(ft_buf *b, int64_t v);
/* Headers: n elements/pairs follow. Max 5 bytes. */
void ft_mp_w_array(ft_buf *b, uint32_t n);
void ft_mp_w_map(ft_buf *b, uint32_t n);
void ft_mp_w_nil(ft_buf *b);
void ft_mp_w_bool(ft_buf *b, int v);

/* Growing writers for cold records: reserve, then write. */
ft_status ft_mp_put_str(ft_buf *b, const char *s, size_t n);
ft_status ft_mp_put_cstr(ft_buf *b, const char *s); /* NULL writes "" */
ft_status ft_mp_put_uint(ft_buf *b, uint64_t v);
ft_status ft_mp_put_int(ft_buf *b, int64_t v);
ft_status ft_mp_put_array(ft_buf *b, uint32_t n);
ft_status ft_mp_put_map(ft_buf *b, uint32_t n);

typedef struct ft_str {
    const char *ptr;   /* not NUL-terminated */
    size_t len;
} ft_str;

typedef struct ft_mp_reader {
    const uint8_t *start;  /* for offsets in messages */
    const uint8_t *p;
    const uint8_t *end;
} ft_mp_reader;

void ft_mp_reader_init(ft_mp_reader *r, const void *data, size_t len);
static inline size_t ft_mp_offset(const ft_mp_reader *r) { return (size_t)(r->p - r->start); }
static inline int ft_mp_at_end(const ft_mp_reader *r) { return r->p >= r->end; }

ft_status ft_mp_r_uint(ft_mp_reader *r, uint64_t *out);   /* any non-negative int */
ft_status ft_mp_r_int(ft_mp_reader *r, int64_t *out);     /* any int that fits int64 */
ft_status ft_mp_r_str(ft_mp_reader *r, ft_str *out);      /* str (bin accepted too) */
ft_status ft_mp_r_array(ft_mp_reader *r, uint32_t *n);
ft_status ft_mp_r_map(ft_mp_reader *r, uint32_t *n);
ft_status ft_mp_r_nil(ft_mp_reader *r);
/* Skip one whole value of any type, nested ones included (depth-limited: ECORRUPT past 64). */
ft_status ft_mp_r_skip(ft_mp_reader *r);

#endif
