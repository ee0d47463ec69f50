/* ft_mpack.c — the cold msgpack writers and the bounds-checked reader.
 *
 * Only what the trace format needs is written: integers, str, array and map headers, nil
 * and bool. The reader understands every msgpack type well enough to skip it, because a
 * later format revision may append fields of any type to a record.
 *
 * The reader is written for hostile input (a fuzzer is pointed at it): every length is
 * compared with the bytes left before anything is read, the cursor moves only when a whole
 * value was read, and skipping nested containers is depth-limited. Each value consumes at
 * least one byte, so no loop here runs longer than the input is long. */
#include "ft_mpack.h"

#define SKIP_MAX_DEPTH 64

/* Big-endian stores and loads: msgpack's byte order, whatever the host's. */
static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

void ft_mp_w_int(ft_buf *b, int64_t v)
{
    uint8_t *p = b->ptr + b->len;

    if (v >= 0) {
        ft_mp_w_uint(b, (uint64_t)v);
        return;
    }
    if (v >= -32) {
        p[0] = (uint8_t)v;  /* negative fixint: the byte is the two's complement value */
        b->len += 1;
    } else if (v >= INT8_MIN) {
        p[0] = 0xd0; put_be(p + 1, (uint64_t)v, 1);
        b->len += 2;
    } else if (v >= INT16_MIN) {
        p[0] = 0xd1; put_be(p + 1, (uint64_t)v, 2);
        b->len += 3;
    } else if (v >= INT32_MIN) {
        p[0] = 0xd2; put_be(p + 1, (uint64_t)v, 4);
        b->len += 5;
    } else {
        p[0] = 0xd3; put_be(p + 1, (uint64_t)v, 8);
        b->len += 9;
    }
}

/* Shared by array and map headers: fix form, 16-bit form, 32-bit form. */
static void w_container(ft_buf *b, uint32_t n, uint8_t fix, uint8_t tag16)
{
    uint8_t *p = b->ptr + b->len;
    if (n < 16) {
        p[0] = (uint8_t)(fix | n);
        b->len += 1;
    } else if (n <= 0xffff) {
        p[0] = tag16; put_be(p + 1, n, 2);
        b->len += 3;
    } else {
        p[0] = (uint8_t)(tag16 + 1); put_be(p + 1, n, 4);
        b->len += 5;
    }
}

void ft_mp_w_array(ft_buf *b, uint32_t n) { w_container(b, n, 0x90, 0xdc); }
void ft_mp_w_map(ft_buf *b, uint32_t n) { w_container(b, n, 0x80, 0xde); }
void ft_mp_w_nil(ft_buf *b) { b->ptr[b->len++] = 0xc0; }
void ft_mp_w_bool(ft_buf *b, int v) { b->ptr[b->len++] = v ? 0xc3 : 0xc2; }

ft_status ft_mp_put_str(ft_buf *b, const char *s, size_t n)
{
    ft_status st;
    uint8_t *p;

    /* msgpack cannot express longer strings; no caller of ours has one. */
    if (n > UINT32_MAX)
        return FT_ECORRUPT;
    st = ft_buf_reserve(b, 5 + n);
    if (st)
        return st;
    p = b->ptr + b->len;
    if (n < 32) {
        p[0] = (uint8_t)(0xa0 | n);
        b->len += 1;
    } else if (n <= 0xff) {
        p[0] = 0xd9; p[1] = (uint8_t)n;
        b->len += 2;
    } else if (n <= 0xffff) {
        p[0] = 0xda; put_be(p + 1, n, 2);
        b->len += 3;
    } else {
        p[0] = 0xdb; put_be(p + 1, n, 4);
        b->len += 5;
    }
    if (n)
        memcpy(b->ptr + b->len, s, n);
    b->len += n;
    return FT_OK;
}

ft_status ft_mp_put_cstr(ft_buf *b, const char *s)
{
    return s ? ft_mp_put_str(b, s, strlen(s)) : ft_mp_put_str(b, "", 0);
}

ft_status ft_mp_put_uint(ft_buf *b, uint64_t v)
{
    ft_status st = ft_buf_reserve(b, FT_MP_MAX_UINT);
    if (!st)
        ft_mp_w_uint(b, v);
    return st;
}

ft_status ft_mp_put_int(ft_buf *b, int64_t v)
{
    ft_status st = ft_buf_reserve(b, FT_MP_MAX_UINT);
    if (!st)
        ft_mp_w_int(b, v);
    return st;
}

ft_status ft_mp_put_array(ft_buf *b, uint32_t n)
{
    ft_status st = ft_buf_reserve(b, 5);
    if (!st)
        ft_mp_w_array(b, n);
    return st;
}

ft_status ft_mp_put_map(ft_buf *b, uint32_t n)
{
    ft_status st = ft_buf_reserve(b, 5);
    if (!st)
        ft_mp_w_map(b, n);
    return st;
}

/* ---- reader ---- */

void ft_mp_reader_init(ft_mp_reader *r, const void *data, size_t len)
{
    r->start = data;
    r->p = data;
    r->end = r->start + len;
}

static size_t left(const ft_mp_reader *r, const uint8_t *p)
{
    return (size_t)(r->end - p);
}

/* An integer of any encoding, as its two's complement bits plus whether it is negative.
 * Advances *pp on success only. */
static ft_status r_integer(const ft_mp_reader *r, const uint8_t **pp, uint64_t *bits, int *neg)
{
    const uint8_t *p = *pp;
    int n;
    uint8_t tag;

    if (left(r, p) < 1)
        return FT_ETRUNC;
    tag = p[0];
    if (tag <= 0x7f) {
        *bits = tag;
        *neg = 0;
        *pp = p + 1;
        return FT_OK;
    }
    if (tag >= 0xe0) {
        *bits = (uint64_t)(int64_t)(int8_t)tag;
        *neg = 1;
        *pp = p + 1;
        return FT_OK;
    }
    if (tag >= 0xcc && tag <= 0xcf)
        n = 1 << (tag - 0xcc);
    else if (tag >= 0xd0 && tag <= 0xd3)
        n = 1 << (tag - 0xd0);
    else
        return FT_ECORRUPT;
    if (left(r, p + 1) < (size_t)n)
        return FT_ETRUNC;
    *bits = get_be(p + 1, n);
    *neg = 0;
    if (tag >= 0xd0 && (*bits >> (8 * n - 1)) & 1) {
        /* sign-extend a negative int8..int64 */
        if (n < 8)
            *bits |= ~(uint64_t)0 << (8 * n);
        *neg = 1;
    }
    *pp = p + 1 + n;
    return FT_OK;
}

ft_status ft_mp_r_uint(ft_mp_reader *r, uint64_t *out)
{
    const uint8_t *p = r->p;
    uint64_t bits;
    int neg;
    ft_status st = r_integer(r, &p, &bits, &neg);
    if (st)
        return st;
    if (neg)
        return FT_ECORRUPT;
    *out = bits;
    r->p = p;
    return FT_OK;
}

ft_status ft_mp_r_int(ft_mp_reader *r, int64_t *out)
{
    const uint8_t *p = r->p;
    uint64_t bits;
    int neg;
    ft_status st = r_integer(r, &p, &bits, &neg);
    if (st)
        return st;
    if (!neg && bits > INT64_MAX)
        return FT_ECORRUPT;
    *out = (int64_t)bits;
    r->p = p;
    return FT_OK;
}

/* Reads a length of n big-endian bytes after the tag at p. */
static ft_status r_len(const ft_mp_reader *r, const uint8_t *p, int n, uint64_t *len)
{
    if (left(r, p + 1) < (size_t)n)
        return FT_ETRUNC;
    *len = get_be(p + 1, n);
    return FT_OK;
}

ft_status ft_mp_r_str(ft_mp_reader *r, ft_str *out)
{
    const uint8_t *p = r->p;
    uint64_t len;
    int hdr;
    ft_status st;

    if (left(r, p) < 1)
        return FT_ETRUNC;
    if ((p[0] & 0xe0) == 0xa0) {
        len = p[0] & 0x1f;
        hdr = 0;
    } else if (p[0] >= 0xd9 && p[0] <= 0xdb) {
        hdr = 1 << (p[0] - 0xd9);
    } else if (p[0] >= 0xc4 && p[0] <= 0xc6) {   /* bin 8/16/32 */
        hdr = 1 << (p[0] - 0xc4);
    } else {
        return FT_ECORRUPT;
    }
    if (hdr && (st = r_len(r, p, hdr, &len)))
        return st;
    p += 1 + hdr;
    if (left(r, p) < len)
        return FT_ETRUNC;
    out->ptr = (const char *)p;
    out->len = (size_t)len;
    r->p = p + len;
    return FT_OK;
}

static ft_status r_container(ft_mp_reader *r, uint32_t *n, uint8_t fix, uint8_t tag16)
{
    const uint8_t *p = r->p;
    uint64_t len;
    int hdr;
    ft_status st;

    if (left(r, p) < 1)
        return FT_ETRUNC;
    if ((p[0] & 0xf0) == fix) {
        len = p[0] & 0x0f;
        hdr = 0;
    } else if (p[0] == tag16 || p[0] == tag16 + 1) {
        hdr = p[0] == tag16 ? 2 : 4;
        if ((st = r_len(r, p, hdr, &len)))
            return st;
    } else {
        return FT_ECORRUPT;
    }
    *n = (uint32_t)len;
    r->p = p + 1 + hdr;
    return FT_OK;
}

ft_status ft_mp_r_array(ft_mp_reader *r, uint32_t *n) { return r_container(r, n, 0x90, 0xdc); }
ft_status ft_mp_r_map(ft_mp_reader *r, uint32_t *n) { return r_container(r, n, 0x80, 0xde); }

ft_status ft_mp_r_nil(ft_mp_reader *r)
{
    if (ft_mp_at_end(r))
        return FT_ETRUNC;
    if (r->p[0] != 0xc0)
        return FT_ECORRUPT;
    r->p++;
    return FT_OK;
}

/* Skips one value at r->p; on error r->p is wherever it got to (the caller restores). */
static ft_status skip(ft_mp_reader *r, int depth)
{
    const uint8_t *p = r->p;
    uint64_t count = 0, payload = 0;
    uint8_t tag;
    ft_status st;

    if (depth > SKIP_MAX_DEPTH)
        return FT_ECORRUPT;
    if (left(r, p) < 1)
        return FT_ETRUNC;
    tag = *p++;
    if (tag <= 0x7f || tag >= 0xe0 || (tag >= 0xc0 && tag <= 0xc3)) {
        if (tag == 0xc1)    /* the one byte msgpack never uses */
            return FT_ECORRUPT;
    } else if (tag <= 0x8f) {
        count = 2u * (tag & 0x0f);
    } else if (tag <= 0x9f) {
        count = tag & 0x0f;
    } else if (tag <= 0xbf) {
        payload = tag & 0x1f;
    } else {
        /* Tagged forms: [length bytes, fixed payload, kind] per tag 0xc4..0xdf. */
        static const struct { uint8_t lenb, fixed, kind; } t[] = {
            /* kind: 0 bytes payload, 1 ext (+1 type byte), 2 array, 3 map */
            [0xc4 - 0xc4] = {1, 0, 0}, [0xc5 - 0xc4] = {2, 0, 0}, [0xc6 - 0xc4] = {4, 0, 0},
            [0xc7 - 0xc4] = {1, 1, 1}, [0xc8 - 0xc4] = {2, 1, 1}, [0xc9 - 0xc4] = {4, 1, 1},
            [0xca - 0xc4] = {0, 4, 0}, [0xcb - 0xc4] = {0, 8, 0},
            [0xcc - 0xc4] = {0, 1, 0}, [0xcd - 0xc4] = {0, 2, 0},
            [0xce - 0xc4] = {0, 4, 0}, [0xcf - 0xc4] = {0, 8, 0},
            [0xd0 - 0xc4] = {0, 1, 0}, [0xd1 - 0xc4] = {0, 2, 0},
            [0xd2 - 0xc4] = {0, 4, 0}, [0xd3 - 0xc4] = {0, 8, 0},
            [0xd4 - 0xc4] = {0, 2, 0}, [0xd5 - 0xc4] = {0, 3, 0}, [0xd6 - 0xc4] = {0, 5, 0},
            [0xd7 - 0xc4] = {0, 9, 0}, [0xd8 - 0xc4] = {0, 17, 0},
            [0xd9 - 0xc4] = {1, 0, 0}, [0xda - 0xc4] = {2, 0, 0}, [0xdb - 0xc4] = {4, 0, 0},
            [0xdc - 0xc4] = {2, 0, 2}, [0xdd - 0xc4] = {4, 0, 2},
            [0xde - 0xc4] = {2, 0, 3}, [0xdf - 0xc4] = {4, 0, 3},
        };
        uint64_t len = 0;
        const uint8_t *q = p;
        int i = tag - 0xc4;

        if (left(r, q) < t[i].lenb)
            return FT_ETRUNC;
        for (int k = 0; k < t[i].lenb; k++)
            len = (len << 8) | q[k];
        p = q + t[i].lenb;
        if (t[i].kind == 2)
            count = len;
        else if (t[i].kind == 3)
            count = 2 * len;
        else
            payload = len + t[i].fixed;
    }
    if (left(r, p) < payload)
        return FT_ETRUNC;
    r->p = p + payload;
    for (uint64_t k = 0; k < count; k++) {
        if ((st = skip(r, depth + 1)))
            return st;
    }
    return FT_OK;
}

ft_status ft_mp_r_skip(ft_mp_reader *r)
{
    const uint8_t *start = r->p;
    ft_status st = skip(r, 0);
    if (st)
        r->p = start;
    return st;
}
