/* fuzz_convert.c — libFuzzer target for the whole converter: trace files in, a Firefox
 * Profiler profile out (to /dev/null), through ft_convert, the function ft-convert calls.
 *
 * One input describes a run directory of up to FUZZ_MAX_FILES trace files, separated by
 * FILE_SEP. Its first byte chooses how each file is given:
 *   even: the file's bytes as they are on disk;
 *   odd:  the file's blocks (decompressed frame contents), separated by FRAME_SEP; this
 *         harness writes the signature and compresses each block into a frame. A mutation
 *         of a raw file almost always breaks a zstd checksum and stops at the frame reader;
 *         this form lets the fuzzer change records, and so reach the converter itself.
 * tests/fuzz/make-corpus writes real traces in both forms.
 *
 * The files are written into a private temporary directory (once per process, removed at
 * exit) because the converter reads paths, as ft-convert does. The converter's messages go
 * to /dev/null, or to stderr when FUZZ_REPORT is set (to see what an input does). */
#define _GNU_SOURCE     /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "convert.h"
#include "ft_file.h"

#define FUZZ_MAX_FILES 4
static const char FILE_SEP[] = "\n--file--\n";
static const char FRAME_SEP[] = "\n--frame--\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base_dir[64];
static char run_dir[256];
static char paths[FUZZ_MAX_FILES][300];
static FILE *devnull;
static ZSTD_CCtx *cctx;

static void cleanup(void)
{
    for (int i = 0; i < FUZZ_MAX_FILES; i++)
        unlink(paths[i]);
    rmdir(run_dir);
    rmdir(base_dir);
}

static int setup(void)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(base_dir, sizeof base_dir, "%s/ft-fuzz-convert-XXXXXX",
             tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    if (!mkdtemp(base_dir))
        return -1;
    snprintf(run_dir, sizeof run_dir, "%s/20250101-000000-100", base_dir);
    if (mkdir(run_dir, 0700) != 0)
        return -1;
    for (int i = 0; i < FUZZ_MAX_FILES; i++)
        snprintf(paths[i], sizeof paths[i], "%s/%d.ftrace", run_dir, 100 + i);
    atexit(cleanup);
    devnull = getenv("FUZZ_REPORT") ? stderr : fopen("/dev/null", "w");
    cctx = ZSTD_createCCtx();
    return devnull && cctx ? 0 : -1;
}

/* Where sep next occurs in [p, end), or end. */
static const uint8_t *find(const uint8_t *p, const uint8_t *end, const char *sep)
{
    size_t n = strlen(sep);
    const uint8_t *hit = (size_t)(end - p) >= n ? memmem(p, (size_t)(end - p), sep, n) : NULL;
    return hit ? hit : end;
}

/* The file given by [p, end) in block form, as a trace file in out. */
static void frame_blocks(const uint8_t *p, const uint8_t *end, ft_buf *out)
{
    size_t n = strlen(FRAME_SEP);

    ft_file_put_signature(out);
    while (p < end) {
        const uint8_t *stop = find(p, end, FRAME_SEP);
        ft_frame_compress(cctx, 1, p, (size_t)(stop - p), out);
        p = stop == end ? end : stop + n;
    }
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (n && fwrite(data, 1, n, f) != n)
        abort();
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ft_convert_opts opts = { run_dir, "/dev/null", NULL };
    const uint8_t *p, *end = data + size;
    ft_report rep;
    ft_buf file;
    int blocks, nfiles = 0;

    if (!devnull && setup() != 0)
        abort();
    if (size < 1)
        return 0;
    blocks = data[0] & 1;
    for (int i = 0; i < FUZZ_MAX_FILES; i++)
        unlink(paths[i]);
    ft_buf_init(&file);
    for (p = data + 1; nfiles < FUZZ_MAX_FILES && p <= end; nfiles++) {
        const uint8_t *stop = find(p, end, FILE_SEP);
        file.len = 0;
        if (blocks) {
            frame_blocks(p, stop, &file);
            write_file(paths[nfiles], file.ptr, file.len);
        } else {
            write_file(paths[nfiles], p, (size_t)(stop - p));
        }
        if (stop == end)
            break;
        p = stop + strlen(FILE_SEP);
    }
    ft_buf_fini(&file);
    ft_report_init(&rep, devnull, 0);
    ft_convert(&opts, &rep, NULL);
    return 0;
}
