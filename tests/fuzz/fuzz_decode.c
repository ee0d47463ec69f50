/* fuzz_decode.c — libFuzzer target for the decoder of format/: the file reader (signature,
 * zstd frames, resync after bad ones) and the record decoder (ft_block_next, which expands
 * EVENTS records, and HEADER and TRAILER maps).
 *
 * Every input is read twice. First as a whole trace file, the way ft-convert reads one:
 * each frame's block is decoded record by record. Most mutations of a real trace break a
 * zstd checksum and never reach the records, so the input is then also read as one
 * decompressed block, which puts the msgpack decoder directly under the fuzzer.
 *
 * Built with clang -fsanitize=fuzzer by `make fuzz`; tests/fuzz/replay.c provides a main()
 * so that the same function replays the corpus in a plain build inside `make test`. */
#include <stddef.h>
#include <stdint.h>

#include "ft_file.h"
#include "ft_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where the decoded values go, so that no decoding is optimised away. */
static volatile uint64_t sink;

/* Decode every record of a block; the header and trailer decoders run on any block that
 * starts with one, as the converter does. Returns a value that depends on what was read. */
static uint64_t decode_block(const uint8_t *data, size_t len)
{
    ft_mp_reader r;
    ft_block_reader b;
    ft_record rec;
    uint64_t sum = 0;
    ft_status st;

    ft_block_init(&b, data, len);
    while ((st = ft_block_next(&b, &rec)) == FT_OK) {
        sum += (uint64_t)rec.type;
        if (ft_rec_is_event(rec.type))
            sum += rec.u.ev.dt ^ rec.u.ev.fid;
        else if (rec.type == FT_REC_FUNC)
            sum += rec.u.func.name.len + rec.u.func.file.len + rec.u.func.line;
        else if (rec.type == FT_REC_CHUNK)
            sum += rec.u.chunk.thread_name.len + rec.u.chunk.seq;
    }
    ft_mp_reader_init(&r, data, len);
    if (ft_trace_next(&r, &rec) == FT_OK) {
        ft_mp_reader_init(&r, data, len);
        if (rec.type == FT_REC_HEADER) {
            ft_header h;
            st = ft_trace_read_header(&r, &h);
            if (st == FT_OK || st == FT_EVERSION) {
                for (size_t i = 0; i < h.argc; i++)
                    sum += h.argv[i][0];
                sum += h.pid + (h.run_id ? (uint8_t)h.run_id[0] : 0);
                ft_header_fini(&h);
            }
        } else if (rec.type == FT_REC_TRAILER) {
            ft_trailer t;
            if (ft_trace_read_trailer(&r, &t) == FT_OK) {
                sum += t.events + (t.end_reason ? (uint8_t)t.end_reason[0] : 0);
                ft_trailer_fini(&t);
            }
        }
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ft_file_reader *fr;
    ft_frame frame;
    ft_status st;
    uint64_t sum = 0;
    unsigned steps = 0;

    if (ft_file_reader_open_mem(data, size, &fr, NULL) == FT_OK) {
        while ((st = ft_file_reader_next(fr, &frame)) != FT_END) {
            /* Every call advances or ends the walk (ft_file.c): more calls than bytes
             * would be a loop that never ends. */
            if (++steps > size + 1)
                __builtin_trap();
            if (st == FT_OK)
                sum += decode_block(frame.data, frame.len);
            else if (st == FT_ENOMEM)
                break;
            else if (frame.offset >= size)
                __builtin_trap();   /* an error must point inside the file */
        }
        ft_file_reader_free(fr);
    }
    sum += decode_block(data, size);
    sink = sum;
    return 0;
}
