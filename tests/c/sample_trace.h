/* sample_trace.h — test_format's cross-check of the C reader against tests/refdecode.py.
 *
 * It writes a set of traces into a temporary directory — one rich, well-formed trace, the
 * same cut at many offsets and with bytes flipped, and small hand-made files that break one
 * rule each — then runs build/ftdump and tests/refdecode.py on all of them and requires
 * byte-identical dumps and the same exit status. Both decoders were written separately
 * (the Python one from FORMAT.md), so agreement is evidence that both read the format as
 * written. Skipped, with a note, when python3-zstandard or build/ftdump is missing.
 *
 * Only test_format.c includes this file; it is a header so that the Makefile's rule of
 * one test binary per tests/c/test_*.c still holds. */
#ifndef SAMPLE_TRACE_H
#define SAMPLE_TRACE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "ft_file.h"
#include "ft_trace.h"

typedef struct sample {
    ft_buf file;
    ft_buf blk;
    ZSTD_CCtx *cc;
} sample;

static void s_begin(sample *s)
{
    ft_buf_init(&s->file);
    ft_buf_init(&s->blk);
    s->cc = ZSTD_createCCtx();
    ft_file_put_signature(&s->file);
}

/* The current block becomes one frame. */
static void s_frame(sample *s)
{
    ft_frame_compress(s->cc, 3, s->blk.ptr, s->blk.len, &s->file);
    s->blk.len = 0;
}

static void s_event(sample *s, int type, uint64_t dt, uint64_t fid)
{
    ft_buf_reserve(&s->blk, FT_EVENT_MAX);
    ft_trace_put_event(&s->blk, type, dt, fid);
}

static void s_func(sample *s, uint64_t fid, int kind, const char *name, const char *mod,
                   const char *file, uint64_t line)
{
    ft_trace_put_func(&s->blk, fid, kind, name, strlen(name), mod, strlen(mod), file,
                      strlen(file), line);
}

static void s_header_reason(sample *s, char *start_reason)
{
    static char *argv[] = {"app.py", "", "a \"quoted\" \\ arg", "caf\xc3\xa9", "\xff\xfe bad"};
    ft_header h = {
        .format_version = 1, .run_id = "20240102-030405-77", .pid = 77, .ppid = 1,
        .hostname = "h\tost", .python_version = "3.12.1", .python_implementation = "CPython",
        .executable = "/usr/bin/python3", .argv = argv, .argc = 5, .cwd = "/home/u/dir x",
        .clock = "CLOCK_MONOTONIC", .clock_resolution_ns = 1, .start_ns = 5000,
        .wall_anchor_ns = -1234567890123, .anchor_ns = 5001, .backend = "setprofile",
        .mode = "all", .recorder = "functiontrace 0.1.0", .start_reason = start_reason,
    };
    ft_trace_put_header(&s->blk, &h);
    s_frame(s);
}

static void s_header(sample *s) { s_header_reason(s, NULL); }

/* A header as format 1.0 wrote it: the 18 required keys only, in another order, with an
 * explicit format_minor 0 (same as absent) when `minor0`. */
static void s_header_v10(sample *s, int minor0)
{
    static const char *const strs[][2] = {
        {"recorder", "functiontrace 0.0.9"}, {"mode", "python"}, {"backend", "setprofile"},
        {"clock", "CLOCK_MONOTONIC"}, {"cwd", "/"}, {"executable", "/usr/bin/python3.8"},
        {"python_implementation", "CPython"}, {"python_version", "3.8.10"},
        {"hostname", "old"}, {"run_id", "20230101-000000-5"},
    };
    ft_mp_put_array(&s->blk, 2);
    ft_mp_put_uint(&s->blk, FT_REC_HEADER);
    ft_mp_put_map(&s->blk, 18 + (minor0 != 0));
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        ft_mp_put_cstr(&s->blk, strs[i][0]);
        ft_mp_put_cstr(&s->blk, strs[i][1]);
    }
    if (minor0) {
        ft_mp_put_cstr(&s->blk, "format_minor");
        ft_mp_put_uint(&s->blk, 0);
    }
    ft_mp_put_cstr(&s->blk, "argv");
    ft_mp_put_array(&s->blk, 1);
    ft_mp_put_cstr(&s->blk, "-c");
    {
        static const char *const uints[] = {"format_version", "pid", "ppid",
            "clock_resolution_ns", "start_ns", "anchor_ns"};
        for (size_t i = 0; i < sizeof uints / sizeof uints[0]; i++) {
            ft_mp_put_cstr(&s->blk, uints[i]);
            ft_mp_put_uint(&s->blk, i == 0 ? 1 : 1000 + i);
        }
    }
    ft_mp_put_cstr(&s->blk, "wall_anchor_ns");
    ft_mp_put_int(&s->blk, 1700000000000000000ll);
    s_frame(s);
}

static void s_trailer(sample *s)
{
    ft_trailer t = {900000, 21, 4, 0, 5};
    ft_trace_put_trailer(&s->blk, &t);
    s_frame(s);
}

/* The rich trace: three threads, chunks of one thread out of seq order, renames, all event
 * kinds, unknown records, extra fields, a skippable frame, a definitions block. */
static void s_rich(sample *s)
{
    static const uint8_t skippable[] = {0x5a, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 'h', 'i'};
    s_begin(s);
    s_header(s);
    ft_trace_put_chunk(&s->blk, 1000, 0, 10000, "MainThread", 10);
    s_func(s, 0, 0, "<module>", "__main__", "/tmp/app \"x\".py", 1);
    s_func(s, 1, 1, "time.sleep", "time", "", 0);
    s_event(s, FT_REC_CALL, 0, 0);
    s_event(s, FT_REC_CALL, 17, 1);
    s_event(s, FT_REC_RETURN, 1000000, 1);
    /* an optional record of a later revision, with a nested payload */
    ft_mp_put_array(&s->blk, 3);
    ft_mp_put_uint(&s->blk, 64);
    ft_mp_put_map(&s->blk, 1);
    ft_mp_put_cstr(&s->blk, "k");
    ft_mp_put_array(&s->blk, 2);
    ft_mp_put_int(&s->blk, -3);
    ft_mp_put_cstr(&s->blk, "v");
    ft_mp_put_cstr(&s->blk, "tail");
    s_frame(s);
    ft_buf_append(&s->file, skippable, sizeof skippable);
    /* thread 2^40, seq 1 written before seq 0 */
    ft_trace_put_chunk(&s->blk, 1ull << 40, 1, 60000, "Thread-1 (worker)", 17);
    s_func(s, 2, 0, "Gen.__next__", "pkg.m\xc3\xb6" "d", "/x/\xff.py", 99);
    s_event(s, FT_REC_RESUME, 5, 2);
    s_event(s, FT_REC_YIELD, 5, 2);
    s_event(s, FT_REC_CALL, UINT64_MAX - 100, 2);  /* wraps */
    s_event(s, FT_REC_UNWIND, 200, 2);
    s_frame(s);
    ft_trace_put_chunk(&s->blk, 1ull << 40, 0, 50000, "Thread-1", 8);
    s_event(s, FT_REC_CALL, 1, 0);
    s_event(s, FT_REC_RETURN, 2, 0);
    s_frame(s);
    /* a definitions block, then a chunk whose records carry extra fields */
    s_func(s, 3, 7, "odd.kind", "", "", 0);
    s_func(s, 300, 1, "list.append", "", "", 0);
    s_frame(s);
    ft_mp_put_array(&s->blk, 6);
    ft_mp_put_uint(&s->blk, FT_REC_CHUNK);
    ft_mp_put_uint(&s->blk, 1000);
    ft_mp_put_uint(&s->blk, 1);
    ft_mp_put_uint(&s->blk, 2000000);
    ft_mp_put_cstr(&s->blk, "");
    ft_mp_put_map(&s->blk, 0);
    for (int i = 0; i < 10; i++) {
        ft_mp_put_array(&s->blk, 4);
        ft_mp_put_uint(&s->blk, (uint64_t)FT_REC_CALL + (unsigned)i % 5);
        ft_mp_put_uint(&s->blk, (uint64_t)i * 1000003);
        ft_mp_put_uint(&s->blk, i % 2 ? 300 : 3);
        ft_mp_put_cstr(&s->blk, "extra");
    }
    s_frame(s);
    ft_trace_put_chunk(&s->blk, 7, 0, 1, "", 0);   /* a thread with no events */
    s_frame(s);
    s_trailer(s);
}

static void s_fini(sample *s)
{
    ft_buf_fini(&s->file);
    ft_buf_fini(&s->blk);
    ZSTD_freeCCtx(s->cc);
}

/* A trailer with the optional keys of 1.1 that are given (NULL / has_* 0: absent). */
static void s_trailer_v11(sample *s, char *end_reason, int has_exit, int64_t exit_status,
                          int has_signal, uint64_t sig, char *label)
{
    ft_trailer t = {900000, 3, 1, 0, 1};
    t.end_reason = end_reason;
    t.has_exit_status = has_exit;
    t.exit_status = exit_status;
    t.has_signal = has_signal;
    t.signal = sig;
    t.process_label = label;
    ft_trace_put_trailer(&s->blk, &t);
    s_frame(s);
}

/* Sound files of format 1.0 and 1.1: each start_reason, trailers with each end_reason. */
static void s_minor(sample *s, int which)
{
    static char *reasons[] = {"run", "fork", "exec", "child", "caf\xc3\xa9 \"new\""};
    s_begin(s);
    if (which < 2)
        s_header_v10(s, which);
    else
        s_header_reason(s, reasons[(which - 2) % 5]);
    ft_trace_put_chunk(&s->blk, 77, 0, 6000, "MainThread", 10);
    s_func(s, 0, 0, "<module>", "__main__", "app.py", 1);
    s_event(s, FT_REC_CALL, 5, 0);
    s_event(s, FT_REC_CALL, 5, 0);
    s_event(s, FT_REC_RETURN, 5, 0);
    s_frame(s);
    switch (which) {
    case 0: s_trailer(s); break;                                  /* 1.0 trailer */
    case 1: break;                                                /* none */
    case 2: s_trailer_v11(s, "exit", 1, 0, 0, 0, NULL); break;
    case 3: s_trailer_v11(s, "os._exit", 1, -2, 0, 0, "Process-1"); break;
    case 4: s_trailer_v11(s, "exec", 0, 0, 0, 0, NULL); break;
    case 5: s_trailer_v11(s, "signal", 0, 0, 1, 15, "SpawnPoolWorker-3"); break;
    case 6: s_trailer_v11(s, "stop", 1, INT64_MIN, 1, UINT64_MAX, "\xff\x01"); break;
    case 7: s_trailer_v11(s, NULL, 0, 0, 0, 0, ""); break;
    case 8:     /* 1.1 keys of the wrong type: the trailer is corrupt */
        ft_mp_put_array(&s->blk, 2);
        ft_mp_put_uint(&s->blk, FT_REC_TRAILER);
        ft_mp_put_map(&s->blk, 6);
        {
            static const char *const k[] = {"end_ns", "events", "chunks", "dropped_events",
                                            "functions"};
            for (int i = 0; i < 5; i++) {
                ft_mp_put_cstr(&s->blk, k[i]);
                ft_mp_put_uint(&s->blk, (uint64_t)i);
            }
        }
        ft_mp_put_cstr(&s->blk, "signal");
        ft_mp_put_cstr(&s->blk, "SIGTERM");
        s_frame(s);
        break;
    case 9:     /* two trailers, the second corrupt: the first stays */
        s_trailer_v11(s, "exit", 1, 3, 0, 0, NULL);
        ft_mp_put_array(&s->blk, 2);
        ft_mp_put_uint(&s->blk, FT_REC_TRAILER);
        ft_mp_put_map(&s->blk, 1);
        ft_mp_put_cstr(&s->blk, "end_reason");
        ft_mp_put_cstr(&s->blk, "exit");
        s_frame(s);
        break;
    }
}

/* Small files that each break one rule inside otherwise sound frames. */
static void s_broken(sample *s, int which)
{
    s_begin(s);
    if (which != 0)
        s_header(s);
    switch (which) {
    case 0:     /* no header: the first frame is a chunk */
        ft_trace_put_chunk(&s->blk, 1, 0, 0, "T", 1);
        s_frame(s);
        break;
    case 1:     /* event before any CHUNK, after a FUNC */
        s_func(s, 0, 0, "f", "m", "f.py", 1);
        s_event(s, FT_REC_CALL, 1, 0);
        s_func(s, 1, 0, "never", "m", "f.py", 2);
        s_frame(s);
        break;
    case 2:     /* CHUNK not first; duplicate FUNC; event with an undefined fid */
        ft_trace_put_chunk(&s->blk, 1, 0, 0, "T", 1);
        s_func(s, 0, 0, "f", "m", "f.py", 1);
        s_func(s, 0, 0, "f again", "m", "f.py", 1);
        s_event(s, FT_REC_CALL, 1, 0);
        s_event(s, FT_REC_CALL, 1, 42);
        ft_trace_put_chunk(&s->blk, 2, 0, 0, "U", 1);
        s_event(s, FT_REC_CALL, 1, 0);
        s_frame(s);
        break;
    case 3:     /* a record with too few fields, one of a wrong type, HEADER in data */
        ft_trace_put_chunk(&s->blk, 1, 0, 0, "T", 1);
        s_func(s, 0, 0, "f", "m", "f.py", 1);
        s_event(s, FT_REC_CALL, 1, 0);
        ft_mp_put_array(&s->blk, 2);
        ft_mp_put_uint(&s->blk, FT_REC_RETURN);
        ft_mp_put_uint(&s->blk, 1);
        s_frame(s);
        ft_trace_put_chunk(&s->blk, 1, 1, 10, "T", 1);
        ft_mp_put_array(&s->blk, 3);
        ft_mp_put_uint(&s->blk, FT_REC_RETURN);
        ft_mp_put_int(&s->blk, -1);
        ft_mp_put_uint(&s->blk, 0);
        s_frame(s);
        s_header(s);
        break;
    case 4:     /* TRAILER not alone; trailer missing a key; junk between frames */
        ft_trace_put_chunk(&s->blk, 1, 0, 0, "T", 1);
        s_frame(s);
        ft_buf_append(&s->file, "junk junk", 9);
        ft_trace_put_func(&s->blk, 0, 0, "f", 1, "", 0, "", 0, 0);
        s_trailer(s);
        ft_mp_put_array(&s->blk, 2);
        ft_mp_put_uint(&s->blk, FT_REC_TRAILER);
        ft_mp_put_map(&s->blk, 1);
        ft_mp_put_cstr(&s->blk, "end_ns");
        ft_mp_put_uint(&s->blk, 5);
        s_frame(s);
        {
            ft_trailer t = {1, 2, 3, 4, 5};
            ft_trace_put_trailer(&s->blk, &t);
            ft_mp_put_uint(&s->blk, 0);      /* trailing byte after the trailer */
            s_frame(s);
        }
        break;
    case 5:     /* an empty block, a block of unknown records, a non-array value */
        s_frame(s);
        ft_mp_put_array(&s->blk, 1);
        ft_mp_put_uint(&s->blk, 100);
        ft_trace_put_chunk(&s->blk, 9, 0, 0, "late but first known", 20);
        s_func(s, 0, 0, "f", "m", "f.py", 1);
        s_event(s, FT_REC_CALL, 3, 0);
        s_frame(s);
        ft_mp_put_uint(&s->blk, 5);
        s_frame(s);
        s_trailer(s);
        break;
    }
}

static int sample_write(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    int ok = fp && fwrite(data, 1, n, fp) == n;
    if (fp && fclose(fp) != 0)
        ok = 0;
    return ok;
}

static int files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int eq = fa && fb, ca, cb;
    while (eq && ((ca = getc(fa)) != EOF) | ((cb = getc(fb)) != EOF))
        eq = ca == cb;
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return eq;
}

static void sample_compare(const char *argv0, const char *tmpdir, int *passed, int *failed)
{
    char ftdump[1024], list[4096 * 8], cmd[sizeof list + 8192], path[1024], out_c[1100],
        out_py[1100];
    const char *slash;
    sample s;
    size_t nfiles = 0, listlen = 0;
    int rc_c, rc_py;

    /* build/tests/test_format -> build/ftdump */
    slash = strrchr(argv0, '/');
    snprintf(ftdump, sizeof ftdump, "%.*s/../ftdump", slash ? (int)(slash - argv0) : 1,
             slash ? argv0 : ".");
    if (access(ftdump, X_OK) != 0 || access("tests/refdecode.py", R_OK) != 0 ||
        system("/usr/bin/python3 -c 'import zstandard' 2>/dev/null") != 0) {
        printf("test_format: note: refdecode comparison skipped (needs %s, tests/refdecode.py "
               "and python3-zstandard; run from the repository root)\n", ftdump);
        return;
    }

#define ADD_FILE(data, n)                                                              \
    do {                                                                               \
        snprintf(path, sizeof path, "%s/s%03zu.ftrace", tmpdir, nfiles++);             \
        if (sample_write(path, (data), (n)) && listlen + strlen(path) + 2 < sizeof list) \
            listlen += (size_t)sprintf(list + listlen, " %s", path);                   \
    } while (0)

    s_rich(&s);
    ADD_FILE(s.file.ptr, s.file.len);
    /* cut at many offsets, and flip many bytes (one file each) */
    for (size_t cut = 0; cut < s.file.len; cut += 1 + cut / 40)
        ADD_FILE(s.file.ptr, cut);
    {
        uint8_t *copy = malloc(s.file.len);
        for (size_t i = FT_SIGNATURE_SIZE - 8; i < s.file.len; i += 3 + i / 50) {
            memcpy(copy, s.file.ptr, s.file.len);
            copy[i] ^= (uint8_t)(1u << (i % 8));
            ADD_FILE(copy, s.file.len);
        }
        free(copy);
    }
    s_fini(&s);
    for (int which = 0; which <= 5; which++) {
        s_broken(&s, which);
        ADD_FILE(s.file.ptr, s.file.len);
        s_fini(&s);
    }
    for (int which = 0; which <= 9; which++) {
        s_minor(&s, which);
        ADD_FILE(s.file.ptr, s.file.len);
        s_fini(&s);
    }
    ADD_FILE("hello", 5);
#undef ADD_FILE

    snprintf(out_c, sizeof out_c, "%s/dump.c.txt", tmpdir);
    snprintf(out_py, sizeof out_py, "%s/dump.py.txt", tmpdir);
    snprintf(cmd, sizeof cmd, "%s%s > %s 2>/dev/null", ftdump, list, out_c);
    rc_c = system(cmd);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/refdecode.py%s > %s 2>/dev/null", list,
             out_py);
    rc_py = system(cmd);
    if (files_equal(out_c, out_py) && rc_c == rc_py && rc_c != -1) {
        (*passed)++;
        printf("test_format: ftdump and refdecode.py agree on %zu files\n", nfiles);
        snprintf(cmd, sizeof cmd, "rm -f %s/s*.ftrace %s %s", tmpdir, out_c, out_py);
    } else {
        (*failed)++;
        fprintf(stderr, "test_format: ftdump and refdecode.py disagree (status %d vs %d); "
                        "files kept in %s; first differences:\n", rc_c, rc_py, tmpdir);
        snprintf(cmd, sizeof cmd, "diff %s %s | head -20 >&2", out_c, out_py);
    }
    if (system(cmd) == -1)
        perror("system");
}

#endif
