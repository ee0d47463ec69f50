/* ft_events.h — the packed events of format 2 (FORMAT.md §4.4, EVENTS): op codes and the
 * LEB128 varints of its two byte streams, shared by the recorder's hot path (encoding) and
 * the decoders.
 *
 * An EVENTS record [21, ops: bin, dts: bin] holds a run of a thread's events as two
 * streams: ops, one varint per entry, (fid << 3) | code, and dts, one varint per event, its
 * dt. Code 0–4 is an event (its record type minus 16); code 7 stands for the next record of
 * the block after the EVENTS record (a marker or memory record), which keeps its place among
 * the events. Split this way each stream is regular on its own: zstd compresses the pair in
 * about half the time of the same events as [type, dt, fid] arrays, to about two thirds of
 * the size (measured on the bench's traces: README, Performance). */
#ifndef FT_PACKED_EVENTS_H
#define FT_PACKED_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#define FT_OP_SHIFT 3
#define FT_OP_CODE_MASK 7u
#define FT_OP_EVENT_BASE 16   /* code = record type (FT_REC_CALL ...) - 16 */
#define FT_OP_EVENT_CODES 5   /* codes 0-4: CALL, RETURN, UNWIND, YIELD, RESUME */
#define FT_OP_RECORD 7u       /* the next record after the EVENTS record goes here */

/* Longest varint of a 64-bit value, and of an op (fid < 2^32, so < 2^35). */
#define FT_VARINT_MAX 10
#define FT_OP_MAX 5

/* Append v as an unsigned LEB128 varint at p; returns the bytes written (1..10). */
static inline __attribute__((always_inline)) size_t ft_varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 2;

    if (__builtin_expect(v < 0x80, 1)) {
        p[0] = (uint8_t)v;
        return 1;
    }
    if (__builtin_expect(v < 0x4000, 1)) {
        p[0] = (uint8_t)(v | 0x80);
        p[1] = (uint8_t)(v >> 7);
        return 2;
    }
    p[0] = (uint8_t)(v | 0x80);
    p[1] = (uint8_t)((v >> 7) | 0x80);
    v >>= 14;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Read one varint from [*p, end): 0 with *v set and *p advanced, -1 when it runs past end
 * (truncated), -2 when it is longer than 10 bytes or does not fit 64 bits (corrupt). */
static inline int ft_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    const uint8_t *q = *p;
    uint64_t r = 0;

    for (unsigned shift = 0; q < end; shift += 7) {
        uint8_t b = *q++;
        if (shift == 63 && b > 1)   /* past 64 bits, or a continuation past 10 bytes */
            return -2;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            *p = q;
            return 0;
        }
    }
    return -1;
}

#endif
