/* convert_tracegen.h — writing small synthetic trace files for the converter's tests.
 *
 * A thin layer over format/'s encoders (ft_trace_put_*, ft_frame_compress): the test says
 * which records go into which frame and gets the bytes of a trace file, so that every
 * duration it asserts on the profile is known exactly. Used by test_convert.c only; a
 * header so that the Makefile's one-binary-per-test_*.c rule holds. */
#ifndef CONVERT_TRACEGEN_H
#define CONVERT_TRACEGEN_H

#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "ft_file.h"
#include "ft_trace.h"

/* Wall clock of clock time TG_MONO0: all generated headers agree on it. */
#define TG_MONO0 1000000000ull
#define TG_WALL0 1700000000000000000ll

typedef struct tg {
    ft_buf file;
    ft_buf blk;
    ZSTD_CCtx *cc;
    uint64_t events, chunks, funcs;
} tg;

static void tg_begin(tg *g)
{
    memset(g, 0, sizeof *g);
    ft_buf_init(&g->file);
    ft_buf_init(&g->blk);
    g->cc = ZSTD_createCCtx();
    ft_file_put_signature(&g->file);
}

static void tg_fini(tg *g)
{
    ft_buf_fini(&g->file);
    ft_buf_fini(&g->blk);
    ZSTD_freeCCtx(g->cc);
}

/* The current block becomes one zstd frame. */
static void tg_frame(tg *g)
{
    ft_frame_compress(g->cc, 1, g->blk.ptr, g->blk.len, &g->file);
    g->blk.len = 0;
}

/* The run id every header gets: a test of another run sets it (FORMAT.md §1: the id ends
 * with the pid of the run's first process, which ft-convert checks). */
static const char *tg_run_id = "20250101-000000-100";

/* A header; ppid 1 and no start_reason unless tg_header_proc says otherwise. */
static void tg_header_proc(tg *g, uint64_t pid, uint64_t ppid, uint64_t start_ns,
                           const char *host, char **argv, size_t argc, const char *start_reason)
{
    ft_header h = {
        .format_version = 1, .run_id = (char *)tg_run_id, .pid = pid, .ppid = ppid,
        .hostname = (char *)host, .python_version = "3.12.1",
        .python_implementation = "CPython", .executable = "/usr/bin/python3",
        .argv = argv, .argc = argc, .cwd = "/tmp", .clock = "CLOCK_MONOTONIC",
        .clock_resolution_ns = 1, .start_ns = start_ns,
        .wall_anchor_ns = TG_WALL0 + (int64_t)(start_ns - TG_MONO0), .anchor_ns = start_ns,
        .backend = "monitoring", .mode = "all", .recorder = "functiontrace 0.1.0",
        .start_reason = (char *)start_reason,
    };
    ft_trace_put_header(&g->blk, &h);
    tg_frame(g);
}

static void tg_header_full(tg *g, uint64_t pid, uint64_t start_ns, const char *host,
                           char **argv, size_t argc)
{
    tg_header_proc(g, pid, 1, start_ns, host, argv, argc, NULL);
}

static void tg_header(tg *g, uint64_t pid, uint64_t start_ns)
{
    static char *argv[] = { "app.py", "--n", "3" };
    tg_header_full(g, pid, start_ns, "testhost", argv, 3);
}

static void tg_chunk(tg *g, uint64_t tid, uint64_t seq, uint64_t t0, const char *name)
{
    ft_trace_put_chunk(&g->blk, tid, seq, t0, name, strlen(name));
    g->chunks++;
}

static void tg_func(tg *g, uint64_t fid, int kind, const char *name, const char *file,
                    uint64_t line)
{
    ft_trace_put_func(&g->blk, fid, kind, name, strlen(name), "mod", 3, file, strlen(file),
                      line);
    g->funcs++;
}

static void tg_ev(tg *g, int type, uint64_t dt, uint64_t fid)
{
    ft_buf_reserve(&g->blk, FT_EVENT_MAX);
    ft_trace_put_event(&g->blk, type, dt, fid);
    g->events++;
}

/* A trailer whose counts match what was generated. */
static void tg_trailer(tg *g, uint64_t end_ns)
{
    ft_trailer t = { end_ns, g->events, g->chunks, 0, g->funcs };
    ft_trace_put_trailer(&g->blk, &t);
    tg_frame(g);
}

/* A trailer of format 1.1: end_reason (NULL: none), exit status and signal when >= 0,
 * process label when not NULL. */
static void tg_trailer_end(tg *g, uint64_t end_ns, const char *end_reason, int64_t status,
                           int64_t sig, const char *label)
{
    ft_trailer t = { end_ns, g->events, g->chunks, 0, g->funcs };
    t.end_reason = (char *)end_reason;
    t.has_exit_status = status >= 0;
    t.exit_status = status;
    t.has_signal = sig >= 0;
    t.signal = (uint64_t)sig;
    t.process_label = (char *)label;
    ft_trace_put_trailer(&g->blk, &t);
    tg_frame(g);
}

static int tg_write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = 0;
    return ok;
}

static int tg_write(const tg *g, const char *path)
{
    return tg_write_bytes(path, g->file.ptr, g->file.len);
}

#endif
