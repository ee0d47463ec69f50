/* ft_trace.h — the records of the trace format (FORMAT.md §3–4): encoders and a decoder.
 *
 * Encoders append one whole record to an ft_buf. ft_trace_put_event is the hot one: the
 * caller guarantees FT_EVENT_MAX bytes of spare capacity, so it never fails or grows.
 * Every other encoder grows the buffer as needed and returns FT_ENOMEM on failure.
 *
 * The decoder reads one record at a time from a block (a decompressed frame). Records with a
 * type it does not know are skipped and reported as FT_REC_UNKNOWN so that a caller can
 * count them. HEADER and TRAILER are decoded into owned structs (free with the _fini
 * functions); every other record is decoded into an ft_record whose strings point into the
 * block. */
#ifndef FT_TRACE_H
#define FT_TRACE_H

#include <stdint.h>
#include "ft_buf.h"
#include "ft_mpack.h"
#include "ft_events.h"

#define FT_FORMAT_VERSION 2  /* major, written; read: 1 and 2, others are refused */
#define FT_FORMAT_VERSION_MIN 1
#define FT_FORMAT_MINOR 0    /* minor: compatible additions (FORMAT.md, version history) */

/* A major version this build reads. */
static inline int ft_format_version_known(uint64_t v)
{
    return v >= FT_FORMAT_VERSION_MIN && v <= FT_FORMAT_VERSION;
}

enum ft_rec_type {
    FT_REC_UNKNOWN = 0,  /* decoder only: a record of a type this build does not know */
    FT_REC_HEADER = 1,
    FT_REC_CHUNK = 2,
    FT_REC_FUNC = 3,
    FT_REC_TRAILER = 4,
    FT_REC_CALL = 16,
    FT_REC_RETURN = 17,
    FT_REC_UNWIND = 18,
    FT_REC_YIELD = 19,
    FT_REC_RESUME = 20,
    /* 2.0: a run of events packed into two varint streams (FORMAT.md §4.4.1). */
    FT_REC_EVENTS = 21,
    /* 1.2: optional records (types 64-127, which older decoders skip). */
    FT_REC_MARKER = 64,
    FT_REC_INTERVAL = 65,
    /* 1.3: memory (FORMAT.md §4.7). */
    FT_REC_ALLOC = 66,
    FT_REC_FREE = 67,
};

enum ft_func_kind { FT_FUNC_PYTHON = 0, FT_FUNC_NATIVE = 1 };

/* Most bytes one event record takes: fixarray + type + two uint64. */
#define FT_EVENT_MAX (1 + 1 + 2 * FT_MP_MAX_UINT)

static inline int ft_rec_is_event(int type) { return type >= FT_REC_CALL && type <= FT_REC_RESUME; }
/* Push (CALL, RESUME) or pop (RETURN, UNWIND, YIELD) for stack reconstruction. */
static inline int ft_rec_is_push(int type) { return type == FT_REC_CALL || type == FT_REC_RESUME; }

/* Hot path: [type, dt, fid]. Requires b->cap - b->len >= FT_EVENT_MAX. */
static inline __attribute__((always_inline)) void
ft_trace_put_event(ft_buf *b, int type, uint64_t dt, uint64_t fid)
{
    b->ptr[b->len++] = 0x93;            /* fixarray of 3 */
    b->ptr[b->len++] = (uint8_t)type;   /* < 128: positive fixint */
    ft_mp_w_uint(b, dt);
    ft_mp_w_uint(b, fid);
}

/* Most bytes one ALLOC or FREE record takes: fixarray + type + three uint64. */
#define FT_MEM_MAX (1 + 1 + 3 * FT_MP_MAX_UINT)

/* [66, dt, address, size] / [67, dt, address] (FORMAT.md §4.7). Requires FT_MEM_MAX bytes
 * of spare capacity. */
static inline void ft_trace_put_alloc(ft_buf *b, uint64_t dt, uint64_t addr, uint64_t size)
{
    b->ptr[b->len++] = 0x94;
    b->ptr[b->len++] = FT_REC_ALLOC;
    ft_mp_w_uint(b, dt);
    ft_mp_w_uint(b, addr);
    ft_mp_w_uint(b, size);
}

static inline void ft_trace_put_free(ft_buf *b, uint64_t dt, uint64_t addr)
{
    b->ptr[b->len++] = 0x93;
    b->ptr[b->len++] = FT_REC_FREE;
    ft_mp_w_uint(b, dt);
    ft_mp_w_uint(b, addr);
}

/* Process header (FORMAT.md §4.1). Strings are owned (malloc'd) when decoded; the
 * encoder only reads them. argv has argc entries. Decoded strings are the str bytes plus a
 * NUL, so a str that itself holds a NUL byte reads as cut short at it. */
typedef struct ft_header {
    uint64_t format_version;
    char *run_id;
    uint64_t pid, ppid;
    char *hostname;
    char *python_version;
    char *python_implementation;
    char *executable;
    char **argv;
    size_t argc;
    char *cwd;
    char *clock;
    uint64_t clock_resolution_ns;
    uint64_t start_ns;
    int64_t wall_anchor_ns;
    uint64_t anchor_ns;
    char *backend;
    char *mode;
    char *recorder;
    /* Optional (1.1): zero / NULL when absent. The encoder always writes FT_FORMAT_MINOR
     * (whatever format_minor holds: it writes this version) and omits a NULL start_reason. */
    uint64_t format_minor;
    char *start_reason;     /* "run", "fork", "exec", "child" */
} ft_header;

typedef struct ft_trailer {
    uint64_t end_ns;
    uint64_t events;
    uint64_t chunks;
    uint64_t dropped_events;
    uint64_t functions;
    /* Optional (1.1): NULL / has_* = 0 when absent; the encoder omits what is absent.
     * Decoded strings are owned: free with ft_trailer_fini. */
    char *end_reason;       /* "exit", "os._exit", "exec", "signal", "stop" */
    int has_exit_status;
    int64_t exit_status;
    int has_signal;
    uint64_t signal;
    char *process_label;
    /* Optional (1.3): absent (0) in a trace without memory records. */
    uint64_t memory_records;
} ft_trailer;

ft_status ft_trace_put_header(ft_buf *b, const ft_header *h);
ft_status ft_trace_put_trailer(ft_buf *b, const ft_trailer *t);
ft_status ft_trace_put_chunk(ft_buf *b, uint64_t tid, uint64_t seq, uint64_t t0,
                             const char *thread_name, size_t name_len);
ft_status ft_trace_put_func(ft_buf *b, uint64_t fid, int kind,
                            const char *name, size_t name_len,
                            const char *module, size_t module_len,
                            const char *file, size_t file_len, uint64_t line);

/* One decoded non-header record. Strings point into the block being read. */
typedef struct ft_record {
    int type;   /* enum ft_rec_type */
    union {
        struct { uint64_t dt, fid; } ev;                            /* events */
        struct { uint64_t tid, seq, t0; ft_str thread_name; } chunk;
        struct { uint64_t fid, kind, line; ft_str name, module, file; } func;
        /* MARKER and INTERVAL (dur is 0 for a MARKER). fields: the raw bytes of the
         * fields map, nfields pairs; read them with ft_trace_next_field. */
        struct {
            uint64_t dt, dur;
            ft_str kind, name;
            const uint8_t *fields;
            size_t fields_len;
            uint32_t nfields;
        } marker;
        /* ALLOC and FREE (size is 0 for a FREE). */
        struct { uint64_t dt, addr, size; } mem;
        /* EVENTS: its two streams, pointing into the block (ft_block_next expands them). */
        struct { const uint8_t *ops, *dts; size_t ops_len, dts_len; } events;
    } u;
} ft_record;

/* Read the next record from r.
 * FT_END at the end of the block; FT_OK with rec filled; FT_OK with rec->type ==
 * FT_REC_UNKNOWN for a skipped record of an unknown type (FT_REC_UNKNOWN is 0, not a
 * status); HEADER/TRAILER records come back with only rec->type set and r
 * positioned after them (use ft_trace_read_header / _trailer to decode those instead).
 * Errors: FT_ETRUNC, FT_ECORRUPT (r is not advanced; ft_mp_offset(r) is where). */
ft_status ft_trace_next(ft_mp_reader *r, ft_record *rec);

/* Encode an EVENTS record [21, ops, dts] from its two streams (FORMAT.md §4.4.1). */
ft_status ft_trace_put_events(ft_buf *b, const uint8_t *ops, size_t ops_len,
                              const uint8_t *dts, size_t dts_len);

/* ---- a block's records, EVENTS expanded (FORMAT.md §4.4.1) ----
 *
 * What every reader of chunks uses instead of calling ft_trace_next itself: the same
 * records, except that an EVENTS record comes back as the sequence it stands for, one event
 * record (CALL .. RESUME, with dt and fid) per event entry and, at each placeholder, the
 * next record of the block. A fault inside an EVENTS record is FT_ECORRUPT after every
 * event before it; `at` is then the fault's offset in the block (else the offset of the
 * record last read), for messages. After an error the block is not to be read further. */
typedef struct ft_block_reader {
    ft_mp_reader r;                 /* the block's records */
    const uint8_t *op, *op_end;     /* the ops left of the EVENTS record being expanded;
                                       op is NULL when none is */
    const uint8_t *dt, *dt_end;     /* its dts left */
    size_t at;
} ft_block_reader;

void ft_block_init(ft_block_reader *b, const void *data, size_t len);
ft_status ft_block_next(ft_block_reader *b, ft_record *rec);

/* The next record, when it is an event of an EVENTS record that decodes without a fault:
 * 1 with the event's fields set; 0 otherwise (ft_block_next then takes it, and reports
 * whatever fault there is). For readers that count every nanosecond per event. */
static inline int ft_block_fast_event(ft_block_reader *b, int *type, uint64_t *dt,
                                      uint64_t *fid)
{
    const uint8_t *p = b->op, *q = b->dt;
    uint64_t op;

    if (!p || p >= b->op_end || ft_varint_get(&p, b->op_end, &op) ||
        (op & FT_OP_CODE_MASK) >= FT_OP_EVENT_CODES || ft_varint_get(&q, b->dt_end, dt))
        return 0;
    b->op = p;
    b->dt = q;
    *type = FT_OP_EVENT_BASE + (int)(op & FT_OP_CODE_MASK);
    *fid = op >> FT_OP_SHIFT;
    return 1;
}

/* ---- markers (FORMAT.md §4.6) ---- */

/* The value of one marker field. */
enum ft_field_type {
    FT_FIELD_OTHER = 0,   /* a type of a later revision: skipped by readers */
    FT_FIELD_STR, FT_FIELD_UINT, FT_FIELD_INT, FT_FIELD_FLOAT, FT_FIELD_BOOL, FT_FIELD_NIL,
};

typedef struct ft_field {
    ft_str key;
    int type;             /* enum ft_field_type */
    ft_str s;             /* STR */
    uint64_t u;           /* UINT, BOOL (0/1) */
    int64_t i;            /* INT (negative values only) */
    double f;             /* FLOAT */
} ft_field;

/* Encode a MARKER (type FT_REC_MARKER, dur ignored) or INTERVAL record's head: everything
 * but the nfields key/value pairs that must follow (ft_trace_put_field_*). */
ft_status ft_trace_put_marker(ft_buf *b, int type, uint64_t dt, uint64_t dur,
                              const char *kind, size_t kind_len,
                              const char *name, size_t name_len, uint32_t nfields);
ft_status ft_trace_put_field_str(ft_buf *b, const char *key, const char *s, size_t n);
ft_status ft_trace_put_field_int(ft_buf *b, const char *key, int64_t v);
ft_status ft_trace_put_field_float(ft_buf *b, const char *key, double v);
ft_status ft_trace_put_field_bool(ft_buf *b, const char *key, int v);
ft_status ft_trace_put_field_nil(ft_buf *b, const char *key);

/* Read the next field of a marker: r is a reader over rec.u.marker.fields, called
 * rec.u.marker.nfields times. FT_ECORRUPT / FT_ETRUNC on bad bytes. */
ft_status ft_trace_next_field(ft_mp_reader *r, ft_field *f);

/* Decode a block that must hold exactly one HEADER (or TRAILER) record.
 * Missing required keys → FT_ECORRUPT; unknown keys are ignored; optional keys (1.1) may
 * be absent, but a known key of the wrong type, optional or not, is FT_ECORRUPT. Any minor
 * version is read. The struct is overwritten, not freed first: fini it before reusing it.
 * format_version other than 1 or 2 → FT_EVERSION (h is still filled as far as it could be).
 * On any other error h is left zeroed and r is not advanced. */
ft_status ft_trace_read_header(ft_mp_reader *r, ft_header *h);
ft_status ft_trace_read_trailer(ft_mp_reader *r, ft_trailer *t);
void ft_header_fini(ft_header *h);   /* frees owned strings; safe on a zeroed struct */
void ft_trailer_fini(ft_trailer *t); /* likewise */

#endif
