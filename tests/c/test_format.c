/* test_format.c — unit tests of format/: msgpack, records, frames, files.
 *
 * msgpack-c serves as the independent implementation our hand-written msgpack is checked
 * against in both directions. The file tests build whole traces in memory, then damage them
 * (truncate at every offset, flip bytes, insert junk) and check that the reader returns only
 * frames that were really written and always reaches FT_END. With ASan the same run also
 * checks bounds and leaks, including on the allocation-failure paths.
 *
 * Last, when build/ftdump and `python3 -c 'import zstandard'` are available, a sample trace
 * is dumped by both the C reader and tests/refdecode.py and the two dumps must be equal. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "ft_buf.h"
#include "ft_file.h"
#include "ft_mpack.h"
#include "ft_status.h"
#include "ft_trace.h"
#include "sample_trace.h"

static int passed, failed;

#define CHECK(cond) check_((cond), #cond, __FILE__, __LINE__)
#define CHECK_ST(expr, want) check_st_((expr), (want), #expr, __FILE__, __LINE__)

static int check_(int ok, const char *what, const char *file, int line)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, what);
    }
    return ok;
}

static int check_st_(ft_status got, ft_status want, const char *what, const char *file, int line)
{
    if (got == want) {
        passed++;
        return 1;
    }
    failed++;
    fprintf(stderr, "%s:%d: %s: got %d (%s), want %d (%s)\n", file, line, what, got,
            ft_status_str(got), want, ft_status_str(want));
    return 0;
}

/* ---- msgpack ---- */

static const uint64_t uints[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffffu,
                                 0x100000000ull, UINT64_MAX};
static const size_t uint_sizes[] = {1, 1, 1, 2, 2, 3, 3, 5, 5, 9, 9};
static const int64_t ints[] = {-1, -32, -33, -128, -129, -32768, -32769, INT32_MIN,
                               (int64_t)INT32_MIN - 1, INT64_MIN, INT64_MAX, 0, 5};
static const size_t int_sizes[] = {1, 1, 2, 2, 3, 3, 5, 5, 9, 9, 9, 1, 1};

/* Every proper prefix of an encoded value must read as ETRUNC without moving. */
static void check_prefixes_trunc(const ft_buf *b, ft_status (*rd)(ft_mp_reader *))
{
    for (size_t cut = 0; cut < b->len; cut++) {
        ft_mp_reader r;
        ft_mp_reader_init(&r, b->ptr, cut);
        if (!CHECK_ST(rd(&r), FT_ETRUNC) || !CHECK(r.p == r.start))
            fprintf(stderr, "  at cut %zu of %zu\n", cut, b->len);
    }
}

static ft_status rd_uint(ft_mp_reader *r) { uint64_t v; return ft_mp_r_uint(r, &v); }
static ft_status rd_int(ft_mp_reader *r) { int64_t v; return ft_mp_r_int(r, &v); }
static ft_status rd_str(ft_mp_reader *r) { ft_str v; return ft_mp_r_str(r, &v); }

static void test_mp_ints(void)
{
    ft_buf b;
    ft_buf_init(&b);
    for (size_t i = 0; i < sizeof uints / sizeof uints[0]; i++) {
        ft_mp_reader r;
        uint64_t u = 0;
        int64_t s = 0;
        b.len = 0;
        CHECK_ST(ft_mp_put_uint(&b, uints[i]), FT_OK);
        CHECK(b.len == uint_sizes[i]);
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK_ST(ft_mp_r_uint(&r, &u), FT_OK);
        CHECK(u == uints[i] && ft_mp_at_end(&r));
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK_ST(ft_mp_r_int(&r, &s), uints[i] > INT64_MAX ? FT_ECORRUPT : FT_OK);
        CHECK(uints[i] > INT64_MAX || (uint64_t)s == uints[i]);
        check_prefixes_trunc(&b, rd_uint);
    }
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        ft_mp_reader r;
        uint64_t u = 0;
        int64_t s = 0;
        b.len = 0;
        CHECK_ST(ft_mp_put_int(&b, ints[i]), FT_OK);
        CHECK(b.len == int_sizes[i]);
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK_ST(ft_mp_r_int(&r, &s), FT_OK);
        CHECK(s == ints[i] && ft_mp_at_end(&r));
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK_ST(ft_mp_r_uint(&r, &u), ints[i] < 0 ? FT_ECORRUPT : FT_OK);
        CHECK(r.p == (ints[i] < 0 ? r.start : r.end));
        check_prefixes_trunc(&b, rd_int);
    }
    /* Non-shortest encodings are valid msgpack and must be accepted. */
    {
        static const uint8_t wide[] = {0xcf, 0, 0, 0, 0, 0, 0, 0, 7, 0xd3, 0, 0, 0, 0, 0, 0, 0, 9,
                                       0xd0, 5};
        ft_mp_reader r;
        uint64_t u;
        ft_mp_reader_init(&r, wide, sizeof wide);
        CHECK(ft_mp_r_uint(&r, &u) == FT_OK && u == 7);
        CHECK(ft_mp_r_uint(&r, &u) == FT_OK && u == 9);
        CHECK(ft_mp_r_uint(&r, &u) == FT_OK && u == 5);
    }
    /* Wrong types are ECORRUPT and do not move the cursor. */
    {
        static const uint8_t bad[] = {0xa1, 'x', 0xc0, 0xc2, 0x90, 0xc1};
        for (size_t i = 0; i < sizeof bad; i++) {
            ft_mp_reader r;
            uint64_t u;
            if (bad[i] == 'x')
                continue;
            ft_mp_reader_init(&r, bad + i, sizeof bad - i);
            CHECK_ST(ft_mp_r_uint(&r, &u), FT_ECORRUPT);
            CHECK(r.p == r.start);
        }
    }
    ft_buf_fini(&b);
}

static void test_mp_strs(void)
{
    static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536, 70000};
    static const size_t hdr[] = {1, 1, 1, 2, 2, 3, 3, 5, 5};
    char *text = malloc(70000);
    ft_buf b;

    ft_buf_init(&b);
    for (size_t i = 0; i < 70000; i++)
        text[i] = (char)('a' + i % 26);
    text[3] = (char)0xff;   /* invalid UTF-8 passes through as bytes */
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        ft_mp_reader r;
        ft_str s;
        b.len = 0;
        CHECK_ST(ft_mp_put_str(&b, text, lens[i]), FT_OK);
        CHECK(b.len == hdr[i] + lens[i]);
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK_ST(ft_mp_r_str(&r, &s), FT_OK);
        CHECK(s.len == lens[i] && memcmp(s.ptr, text, lens[i]) == 0 && ft_mp_at_end(&r));
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK_ST(ft_mp_r_skip(&r), FT_OK);
        CHECK(ft_mp_at_end(&r));
        if (lens[i] <= 300)
            check_prefixes_trunc(&b, rd_str);
    }
    b.len = 0;
    CHECK_ST(ft_mp_put_cstr(&b, NULL), FT_OK);
    CHECK(b.len == 1 && b.ptr[0] == 0xa0);
    ft_buf_fini(&b);
    free(text);
}

static void test_mp_containers(void)
{
    static const uint32_t ns[] = {0, 15, 16, 65535, 65536, UINT32_MAX};
    static const size_t sz[] = {1, 1, 3, 3, 5, 5};
    ft_buf b;
    ft_buf_init(&b);
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        ft_mp_reader r;
        uint32_t n;
        b.len = 0;
        CHECK_ST(ft_mp_put_array(&b, ns[i]), FT_OK);
        CHECK(b.len == sz[i]);
        CHECK_ST(ft_mp_put_map(&b, ns[i]), FT_OK);
        CHECK(b.len == 2 * sz[i]);
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK(ft_mp_r_array(&r, &n) == FT_OK && n == ns[i]);
        CHECK(ft_mp_r_map(&r, &n) == FT_OK && n == ns[i] && ft_mp_at_end(&r));
        /* A header promising more elements than there are bytes is ETRUNC to skip. */
        ft_mp_reader_init(&r, b.ptr, sz[i]);
        CHECK_ST(ft_mp_r_skip(&r), ns[i] ? FT_ETRUNC : FT_OK);
    }
    /* nesting past the skip limit */
    {
        uint8_t deep[100];
        ft_mp_reader r;
        memset(deep, 0x91, sizeof deep);
        deep[99] = 0x01;
        ft_mp_reader_init(&r, deep, sizeof deep);
        CHECK_ST(ft_mp_r_skip(&r), FT_ECORRUPT);
        CHECK(r.p == r.start);
        ft_mp_reader_init(&r, deep + 40, sizeof deep - 40);
        CHECK_ST(ft_mp_r_skip(&r), FT_OK);
        CHECK(ft_mp_at_end(&r));
    }
    b.len = 0;
    CHECK_ST(ft_buf_reserve(&b, 2), FT_OK);
    ft_mp_w_nil(&b);
    ft_mp_w_bool(&b, 1);
    {
        ft_mp_reader r;
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK_ST(ft_mp_r_nil(&r), FT_OK);
        CHECK_ST(ft_mp_r_nil(&r), FT_ECORRUPT);
        CHECK_ST(ft_mp_r_skip(&r), FT_OK);
        CHECK_ST(ft_mp_r_nil(&r), FT_ETRUNC);
    }
    ft_buf_fini(&b);
}

/* msgpack-c packs, we read. */
static void test_msgpackc_to_ours(void)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    ft_mp_reader r;
    char big[300];
    size_t n_uint = sizeof uints / sizeof uints[0], n_int = sizeof ints / sizeof ints[0];

    memset(big, 'q', sizeof big);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (size_t i = 0; i < n_uint; i++)
        msgpack_pack_uint64(&pk, uints[i]);
    for (size_t i = 0; i < n_int; i++)
        msgpack_pack_int64(&pk, ints[i]);
    msgpack_pack_str_with_body(&pk, big, 31);
    msgpack_pack_str_with_body(&pk, big, 300);
    msgpack_pack_bin_with_body(&pk, big, 4);
    msgpack_pack_array(&pk, 20);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_nil(&pk);
    /* A value of every other kind, for skip. */
    msgpack_pack_array(&pk, 6);
    msgpack_pack_double(&pk, 1.5);
    msgpack_pack_float(&pk, 2.5f);
    msgpack_pack_true(&pk);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "k", 1);
    msgpack_pack_ext_with_body(&pk, "abcd", 4, 7);
    msgpack_pack_ext_with_body(&pk, big, 300, 9);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_bin_with_body(&pk, big, 70);
    msgpack_pack_uint8(&pk, 1);   /* a marker after the skipped value */

    ft_mp_reader_init(&r, sb.data, sb.size);
    for (size_t i = 0; i < n_uint; i++) {
        uint64_t u = 0;
        CHECK(ft_mp_r_uint(&r, &u) == FT_OK && u == uints[i]);
    }
    for (size_t i = 0; i < n_int; i++) {
        int64_t s = 0;
        CHECK(ft_mp_r_int(&r, &s) == FT_OK && s == ints[i]);
    }
    {
        ft_str s;
        uint32_t n;
        uint64_t u;
        CHECK(ft_mp_r_str(&r, &s) == FT_OK && s.len == 31);
        CHECK(ft_mp_r_str(&r, &s) == FT_OK && s.len == 300 && s.ptr[299] == 'q');
        CHECK(ft_mp_r_str(&r, &s) == FT_OK && s.len == 4);
        CHECK(ft_mp_r_array(&r, &n) == FT_OK && n == 20);
        CHECK(ft_mp_r_map(&r, &n) == FT_OK && n == 3);
        CHECK_ST(ft_mp_r_nil(&r), FT_OK);
        CHECK_ST(ft_mp_r_skip(&r), FT_OK);
        CHECK(ft_mp_r_uint(&r, &u) == FT_OK && u == 1 && ft_mp_at_end(&r));
    }
    msgpack_sbuffer_destroy(&sb);
}

/* We pack, msgpack-c reads. */
static void test_ours_to_msgpackc(void)
{
    msgpack_unpacked up;
    ft_buf b;
    size_t off = 0, n_uint = sizeof uints / sizeof uints[0], n_int = sizeof ints / sizeof ints[0];
    static const size_t lens[] = {0, 31, 32, 255, 256, 65536};
    char *text = calloc(1, 65536);

    ft_buf_init(&b);
    for (size_t i = 0; i < n_uint; i++)
        ft_mp_put_uint(&b, uints[i]);
    for (size_t i = 0; i < n_int; i++)
        ft_mp_put_int(&b, ints[i]);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        ft_mp_put_str(&b, text, lens[i]);
    ft_mp_put_array(&b, 70000);
    ft_mp_put_map(&b, 17);
    ft_buf_reserve(&b, 2);
    ft_mp_w_nil(&b);
    ft_mp_w_bool(&b, 0);

    msgpack_unpacked_init(&up);
#define NEXT() (msgpack_unpack_next(&up, (const char *)b.ptr, b.len, &off) == MSGPACK_UNPACK_SUCCESS)
    for (size_t i = 0; i < n_uint; i++)
        CHECK(NEXT() && up.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
              up.data.via.u64 == uints[i]);
    for (size_t i = 0; i < n_int; i++) {
        CHECK(NEXT());
        if (ints[i] < 0)
            CHECK(up.data.type == MSGPACK_OBJECT_NEGATIVE_INTEGER && up.data.via.i64 == ints[i]);
        else
            CHECK(up.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                  up.data.via.u64 == (uint64_t)ints[i]);
    }
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        CHECK(NEXT() && up.data.type == MSGPACK_OBJECT_STR && up.data.via.str.size == lens[i]);
    /* Headers alone: feed msgpack-c a full array/map so that it parses them. */
    {
        ft_buf c;
        size_t o = 0;
        ft_buf_init(&c);
        ft_mp_put_array(&c, 3);
        ft_mp_put_map(&c, 1);
        ft_mp_put_cstr(&c, "key");
        ft_mp_put_int(&c, -5);
        ft_mp_put_cstr(&c, "");
        ft_buf_reserve(&c, 1);
        ft_mp_w_nil(&c);
        CHECK(msgpack_unpack_next(&up, (const char *)c.ptr, c.len, &o) == MSGPACK_UNPACK_SUCCESS);
        CHECK(o == c.len && up.data.type == MSGPACK_OBJECT_ARRAY && up.data.via.array.size == 3);
        CHECK(up.data.via.array.ptr[0].type == MSGPACK_OBJECT_MAP &&
              up.data.via.array.ptr[0].via.map.ptr[0].val.via.i64 == -5);
        ft_buf_fini(&c);
    }
#undef NEXT
    msgpack_unpacked_destroy(&up);
    ft_buf_fini(&b);
    free(text);
}

/* ---- records ---- */

static char *argv_sample[] = {"app.py", "a b", "\xff\xfe"};

static void fill_header(ft_header *h)
{
    memset(h, 0, sizeof *h);
    h->format_version = 1;
    h->run_id = "20240101-000000-42";
    h->pid = 42;
    h->ppid = 1;
    h->hostname = "host";
    h->python_version = "3.12.1";
    h->python_implementation = "CPython";
    h->executable = "/usr/bin/python3";
    h->argv = argv_sample;
    h->argc = 3;
    h->cwd = "/tmp";
    h->clock = "CLOCK_MONOTONIC";
    h->clock_resolution_ns = 1;
    h->start_ns = 123456789012345ull;
    h->wall_anchor_ns = -5;
    h->anchor_ns = UINT64_MAX;
    h->backend = "monitoring";
    h->mode = "all";
    h->recorder = "functiontrace 0.1.0";
}

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
static int fteq(ft_str s, const char *c) { return s.len == strlen(c) && !memcmp(s.ptr, c, s.len); }

static void test_header_trailer(void)
{
    ft_header h, d;
    ft_trailer t = {1, 2, 3, 4, 5}, dt;
    ft_mp_reader r;
    ft_buf b;

    ft_buf_init(&b);
    fill_header(&h);
    CHECK_ST(ft_trace_put_header(&b, &h), FT_OK);
    ft_mp_reader_init(&r, b.ptr, b.len);
    CHECK_ST(ft_trace_read_header(&r, &d), FT_OK);
    CHECK(d.format_version == 1 && d.pid == 42 && d.ppid == 1 && streq(d.run_id, h.run_id));
    CHECK(streq(d.hostname, "host") && streq(d.python_version, "3.12.1") &&
          streq(d.python_implementation, "CPython") && streq(d.executable, h.executable));
    CHECK(d.argc == 3 && streq(d.argv[0], "app.py") && streq(d.argv[1], "a b") &&
          streq(d.argv[2], "\xff\xfe"));
    CHECK(streq(d.cwd, "/tmp") && streq(d.clock, "CLOCK_MONOTONIC") && d.clock_resolution_ns == 1);
    CHECK(d.start_ns == h.start_ns && d.wall_anchor_ns == -5 && d.anchor_ns == UINT64_MAX);
    CHECK(streq(d.backend, "monitoring") && streq(d.mode, "all") && streq(d.recorder, h.recorder));
    CHECK(d.format_minor == FT_FORMAT_MINOR && d.start_reason == NULL);
    ft_header_fini(&d);
    CHECK(d.argv == NULL && d.run_id == NULL);
    ft_header_fini(&d);  /* twice is harmless */

    /* every cut point */
    for (size_t cut = 0; cut < b.len; cut++) {
        ft_mp_reader_init(&r, b.ptr, cut);
        CHECK_ST(ft_trace_read_header(&r, &d), FT_ETRUNC);
        CHECK(r.p == r.start && d.run_id == NULL);
    }
    /* a header frame holds nothing else */
    ft_mp_put_uint(&b, 0);
    ft_mp_reader_init(&r, b.ptr, b.len);
    CHECK_ST(ft_trace_read_header(&r, &d), FT_ECORRUPT);

    b.len = 0;
    CHECK_ST(ft_trace_put_trailer(&b, &t), FT_OK);
    ft_mp_reader_init(&r, b.ptr, b.len);
    CHECK_ST(ft_trace_read_trailer(&r, &dt), FT_OK);
    CHECK(dt.end_ns == 1 && dt.events == 2 && dt.chunks == 3 && dt.dropped_events == 4 &&
          dt.functions == 5);
    for (size_t cut = 0; cut < b.len; cut++) {
        ft_mp_reader_init(&r, b.ptr, cut);
        CHECK_ST(ft_trace_read_trailer(&r, &dt), FT_ETRUNC);
    }
    /* a trailer is not a header and vice versa */
    ft_mp_reader_init(&r, b.ptr, b.len);
    CHECK_ST(ft_trace_read_header(&r, &d), FT_ECORRUPT);
    ft_buf_fini(&b);
}

/* Format 1.1: the optional header and trailer keys, present and absent. */
static void test_optional_keys(void)
{
    ft_header h, d;
    ft_trailer t, dt;
    ft_mp_reader r;
    ft_buf b;

    ft_buf_init(&b);
    /* Header without start_reason: format_minor is written anyway (this encoder's). */
    fill_header(&h);
    h.format_minor = 0;
    CHECK_ST(ft_trace_put_header(&b, &h), FT_OK);
    ft_mp_reader_init(&r, b.ptr, b.len);
    CHECK_ST(ft_trace_read_header(&r, &d), FT_OK);
    CHECK(d.format_minor == FT_FORMAT_MINOR && d.start_reason == NULL && d.pid == 42);
    ft_header_fini(&d);
    /* With each start_reason. */
    {
        static char *reasons[] = {"run", "fork", "exec", "child", "", "future \xff"};
        for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
            b.len = 0;
            h.start_reason = reasons[i];
            CHECK_ST(ft_trace_put_header(&b, &h), FT_OK);
            ft_mp_reader_init(&r, b.ptr, b.len);
            CHECK_ST(ft_trace_read_header(&r, &d), FT_OK);
            CHECK(streq(d.start_reason, reasons[i]) && d.format_minor == FT_FORMAT_MINOR &&
                  streq(d.recorder, h.recorder) && d.argc == 3);
            ft_header_fini(&d);
            CHECK(d.start_reason == NULL);
            for (size_t cut = 0; cut < b.len; cut += 7) {
                ft_mp_reader_init(&r, b.ptr, cut);
                CHECK_ST(ft_trace_read_header(&r, &d), FT_ETRUNC);
                CHECK(d.start_reason == NULL && r.p == r.start);
            }
        }
    }

    /* Trailers: every subset of the optional keys. */
    for (int mask = 0; mask < 16; mask++) {
        memset(&t, 0, sizeof t);
        t.end_ns = 10;
        t.events = 20;
        t.chunks = 30;
        t.dropped_events = 40;
        t.functions = 50;
        if (mask & 1)
            t.end_reason = mask & 4 ? "signal" : "os._exit";
        if (mask & 2) {
            t.has_exit_status = 1;
            t.exit_status = mask & 8 ? -3 : 0;
        }
        if (mask & 4) {
            t.has_signal = 1;
            t.signal = 15;
        }
        if (mask & 8)
            t.process_label = "SpawnPoolWorker-2";
        b.len = 0;
        CHECK_ST(ft_trace_put_trailer(&b, &t), FT_OK);
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK_ST(ft_trace_read_trailer(&r, &dt), FT_OK);
        CHECK(dt.end_ns == 10 && dt.events == 20 && dt.chunks == 30 && dt.dropped_events == 40 &&
              dt.functions == 50);
        CHECK(mask & 1 ? streq(dt.end_reason, t.end_reason) : dt.end_reason == NULL);
        CHECK(dt.has_exit_status == !!(mask & 2) && dt.exit_status == t.exit_status);
        CHECK(dt.has_signal == !!(mask & 4) && dt.signal == t.signal);
        CHECK(mask & 8 ? streq(dt.process_label, t.process_label) : dt.process_label == NULL);
        ft_trailer_fini(&dt);
        CHECK(dt.end_reason == NULL && dt.process_label == NULL && dt.has_exit_status == 0);
        ft_trailer_fini(&dt);   /* twice is harmless */
        for (size_t cut = 0; cut < b.len; cut++) {
            ft_mp_reader_init(&r, b.ptr, cut);
            CHECK_ST(ft_trace_read_trailer(&r, &dt), FT_ETRUNC);
            CHECK(dt.end_reason == NULL && dt.process_label == NULL && r.p == r.start);
        }
    }

    /* Wrong types of optional keys are corrupt, like those of required ones; unknown keys
     * (a later minor version's) are ignored; a later format_minor is read. */
    {
        static const struct { const char *key; int kind; ft_status want; } cases[] = {
            {"format_minor", 0, FT_ECORRUPT},   /* kind 0: a str */
            {"format_minor", 1, FT_ECORRUPT},   /* kind 1: a negative int */
            {"format_minor", 2, FT_OK},         /* kind 2: uint 7 */
            {"start_reason", 2, FT_ECORRUPT},
            {"start_reason", 0, FT_OK},
            {"next_minor_key", 1, FT_OK},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            fill_header(&h);
            b.len = 0;
            CHECK_ST(ft_trace_put_header(&b, &h), FT_OK);
            /* The map has 19 pairs (fixmap 0x8f is too small: map16 0xde 00 13); add one. */
            CHECK(b.ptr[2] == 0xde && b.ptr[3] == 0 && b.ptr[4] == 19);
            b.ptr[4] = 20;
            ft_mp_put_cstr(&b, cases[i].key);
            if (cases[i].kind == 0)
                ft_mp_put_cstr(&b, "s");
            else if (cases[i].kind == 1)
                ft_mp_put_int(&b, -1);
            else
                ft_mp_put_uint(&b, 7);
            ft_mp_reader_init(&r, b.ptr, b.len);
            if (!CHECK_ST(ft_trace_read_header(&r, &d), cases[i].want))
                fprintf(stderr, "  header case %zu\n", i);
            if (cases[i].want == FT_OK && i == 2)
                CHECK(d.format_minor == 7);
            if (cases[i].want == FT_OK && i == 4)
                CHECK(streq(d.start_reason, "s"));
            ft_header_fini(&d);
        }
    }
    {
        static const struct { const char *key; int kind; ft_status want; } cases[] = {
            {"end_reason", 2, FT_ECORRUPT}, {"end_reason", 0, FT_OK},
            {"exit_status", 0, FT_ECORRUPT}, {"exit_status", 1, FT_OK},
            {"exit_status", 3, FT_ECORRUPT},    /* kind 3: uint64 past INT64_MAX */
            {"signal", 1, FT_ECORRUPT}, {"signal", 2, FT_OK},
            {"process_label", 1, FT_ECORRUPT}, {"process_label", 0, FT_OK},
            {"next_minor_key", 0, FT_OK},
            {"memory_records", 0, FT_ECORRUPT}, {"memory_records", 2, FT_OK},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            ft_trailer base = {1, 2, 3, 4, 5};
            b.len = 0;
            CHECK_ST(ft_trace_put_trailer(&b, &base), FT_OK);
            CHECK(b.ptr[2] == 0x85);
            b.ptr[2] = 0x86;
            ft_mp_put_cstr(&b, cases[i].key);
            if (cases[i].kind == 0)
                ft_mp_put_cstr(&b, "s");
            else if (cases[i].kind == 1)
                ft_mp_put_int(&b, -1);
            else if (cases[i].kind == 2)
                ft_mp_put_uint(&b, 7);
            else
                ft_mp_put_uint(&b, UINT64_MAX);
            ft_mp_reader_init(&r, b.ptr, b.len);
            if (!CHECK_ST(ft_trace_read_trailer(&r, &dt), cases[i].want))
                fprintf(stderr, "  trailer case %zu\n", i);
            if (cases[i].want == FT_OK) {
                CHECK(dt.end_ns == 1 && dt.functions == 5);
                CHECK(i != 1 || streq(dt.end_reason, "s"));
                CHECK(i != 3 || (dt.has_exit_status && dt.exit_status == -1));
                CHECK(i != 6 || (dt.has_signal && dt.signal == 7));
                CHECK(i != 8 || streq(dt.process_label, "s"));
                CHECK(i != 9 || (!dt.end_reason && !dt.has_exit_status && !dt.has_signal &&
                                 !dt.process_label && !dt.memory_records));
                CHECK(i != 11 || dt.memory_records == 7);
            } else {
                CHECK(r.p == r.start && dt.end_reason == NULL && dt.process_label == NULL);
            }
            ft_trailer_fini(&dt);
        }
    }
    /* A duplicate optional str key: the last one wins and the first is freed (ASan). */
    {
        ft_trailer base = {1, 2, 3, 4, 5};
        base.process_label = "first";
        b.len = 0;
        CHECK_ST(ft_trace_put_trailer(&b, &base), FT_OK);
        CHECK(b.ptr[2] == 0x86);
        b.ptr[2] = 0x87;
        ft_mp_put_cstr(&b, "process_label");
        ft_mp_put_cstr(&b, "second");
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK_ST(ft_trace_read_trailer(&r, &dt), FT_OK);
        CHECK(streq(dt.process_label, "second"));
        ft_trailer_fini(&dt);
    }
    ft_buf_fini(&b);
}

/* Hand-built headers: missing keys, wrong types, other versions, unknown keys. */
static void test_header_variants(void)
{
    static const char *keys[] = {"format_version", "run_id", "pid", "ppid", "hostname",
        "python_version", "python_implementation", "executable", "argv", "cwd", "clock",
        "clock_resolution_ns", "start_ns", "wall_anchor_ns", "anchor_ns", "backend", "mode",
        "recorder"};
    enum { NK = sizeof keys / sizeof keys[0] };

    /* omit = key index to leave out (-1 none); version; extra unknown key; bad = wrong type */
    for (int omit = -1; omit < NK; omit++) {
        for (int variant = 0; variant < 3; variant++) {
            ft_buf b;
            ft_header d;
            ft_mp_reader r;
            ft_status want;
            int n = NK - (omit >= 0) + (variant == 1);

            ft_buf_init(&b);
            ft_mp_put_array(&b, variant == 2 ? 4 : 2);  /* variant 2: extra elements */
            ft_mp_put_uint(&b, 1);
            ft_mp_put_map(&b, (uint32_t)n);
            if (variant == 1) {
                ft_mp_put_cstr(&b, "future_key");
                ft_mp_put_array(&b, 2);
                ft_mp_put_cstr(&b, "x");
                ft_mp_put_int(&b, -7);
            }
            for (int k = 0; k < NK; k++) {
                if (k == omit)
                    continue;
                ft_mp_put_cstr(&b, keys[k]);
                if (k == 0)
                    ft_mp_put_uint(&b, variant == 1 ? 3 : 1);    /* 3: unknown major */
                else if (k == 8)
                    ft_mp_put_array(&b, 0);
                else if (k == 13)
                    ft_mp_put_int(&b, INT64_MIN);
                else if (k == 2 || k == 3 || k == 11 || k == 12 || k == 14)
                    ft_mp_put_uint(&b, 7);
                else
                    ft_mp_put_cstr(&b, keys[k]);
            }
            if (variant == 2) {
                ft_mp_put_cstr(&b, "extra");
                ft_mp_put_map(&b, 0);
            }
            if (variant == 1 && omit != 0)
                want = FT_EVERSION;
            else
                want = omit >= 0 ? FT_ECORRUPT : FT_OK;
            ft_mp_reader_init(&r, b.ptr, b.len);
            if (!CHECK_ST(ft_trace_read_header(&r, &d), want))
                fprintf(stderr, "  omit %d variant %d\n", omit, variant);
            if (want == FT_OK)      /* a 1.0 header: the optional keys read as absent */
                CHECK(d.argc == 0 && d.wall_anchor_ns == INT64_MIN && streq(d.mode, "mode") &&
                      d.format_minor == 0 && d.start_reason == NULL);
            if (want == FT_EVERSION)
                CHECK(d.format_version == 3);
            ft_header_fini(&d);
            ft_buf_fini(&b);
        }
    }
    /* wrong value types and a non-str key */
    {
        static const uint8_t pid_str[] = {0x92, 0x01, 0x81, 0xa3, 'p', 'i', 'd', 0xa1, '1'};
        static const uint8_t int_key[] = {0x92, 0x01, 0x81, 0x01, 0x01};
        static const uint8_t not_map[] = {0x92, 0x01, 0x90};
        static const uint8_t short_rec[] = {0x91, 0x01};
        const uint8_t *cases[] = {pid_str, int_key, not_map, short_rec};
        size_t lens[] = {sizeof pid_str, sizeof int_key, sizeof not_map, sizeof short_rec};
        for (int i = 0; i < 4; i++) {
            ft_header d;
            ft_mp_reader r;
            ft_mp_reader_init(&r, cases[i], lens[i]);
            CHECK_ST(ft_trace_read_header(&r, &d), FT_ECORRUPT);
            CHECK(r.p == r.start);
        }
    }
}

/* One record of every non-header kind, encoded then decoded. */
static size_t put_all_records(ft_buf *b)
{
    size_t n0 = b->len;
    ft_trace_put_chunk(b, 4242, 7, 1000000, "MainThread", 10);
    ft_trace_put_func(b, 0, FT_FUNC_PYTHON, "Class.method", 12, "pkg.mod", 7, "/x/m.py", 7, 12);
    ft_trace_put_func(b, 300, FT_FUNC_NATIVE, "time.sleep", 10, "", 0, NULL, 0, 0);
    for (int t = FT_REC_CALL; t <= FT_REC_RESUME; t++) {
        ft_buf_reserve(b, FT_EVENT_MAX);
        ft_trace_put_event(b, t, t == FT_REC_CALL ? UINT64_MAX : (uint64_t)t * 1000, 300);
    }
    return b->len - n0;
}

static void test_records(void)
{
    ft_buf b;
    ft_mp_reader r;
    ft_record rec;

    ft_buf_init(&b);
    put_all_records(&b);
    ft_mp_reader_init(&r, b.ptr, b.len);
    CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
    CHECK(rec.type == FT_REC_CHUNK && rec.u.chunk.tid == 4242 && rec.u.chunk.seq == 7 &&
          rec.u.chunk.t0 == 1000000 && fteq(rec.u.chunk.thread_name, "MainThread"));
    CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
    CHECK(rec.type == FT_REC_FUNC && rec.u.func.fid == 0 && rec.u.func.kind == 0 &&
          fteq(rec.u.func.name, "Class.method") && fteq(rec.u.func.module, "pkg.mod") &&
          fteq(rec.u.func.file, "/x/m.py") && rec.u.func.line == 12);
    CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
    CHECK(rec.type == FT_REC_FUNC && rec.u.func.fid == 300 && rec.u.func.kind == 1 &&
          fteq(rec.u.func.file, "") && rec.u.func.line == 0);
    for (int t = FT_REC_CALL; t <= FT_REC_RESUME; t++) {
        CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
        CHECK(rec.type == t && rec.u.ev.fid == 300 &&
              rec.u.ev.dt == (t == FT_REC_CALL ? UINT64_MAX : (uint64_t)t * 1000));
    }
    CHECK_ST(ft_trace_next(&r, &rec), FT_END);

    /* Cut anywhere: whole records before the cut, then ETRUNC at the record start. */
    for (size_t cut = 0; cut <= b.len; cut++) {
        ft_status st;
        const uint8_t *last = NULL;
        ft_mp_reader_init(&r, b.ptr, cut);
        while ((st = ft_trace_next(&r, &rec)) == FT_OK)
            last = r.p;
        if (cut == b.len || (last && last == r.end) || (!last && cut == 0))
            CHECK_ST(st, FT_END);
        else
            CHECK_ST(st, FT_ETRUNC);
        CHECK(r.p == (last ? last : r.start));
    }
    ft_buf_fini(&b);
}

/* ALLOC and FREE (FORMAT.md §4.7): every width of every field, extra fields skipped,
 * too few fields refused, a cut record ETRUNC. */
static void test_memory_records(void)
{
    static const uint64_t vals[] = { 0, 127, 128, 255, 65535, 65536, UINT32_MAX,
                                     (uint64_t)UINT32_MAX + 1, 0x7f12345678f0ull, UINT64_MAX };
    const size_t n = sizeof vals / sizeof vals[0];
    ft_buf b;
    ft_mp_reader r;
    ft_record rec;

    ft_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        CHECK(ft_buf_reserve(&b, 2 * FT_MEM_MAX) == FT_OK);
        ft_trace_put_alloc(&b, vals[i], vals[(i + 3) % n], vals[(i + 7) % n]);
        ft_trace_put_free(&b, vals[(i + 1) % n], vals[i]);
    }
    ft_mp_reader_init(&r, b.ptr, b.len);
    for (size_t i = 0; i < n; i++) {
        CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
        CHECK(rec.type == FT_REC_ALLOC && rec.u.mem.dt == vals[i] &&
              rec.u.mem.addr == vals[(i + 3) % n] && rec.u.mem.size == vals[(i + 7) % n]);
        CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
        CHECK(rec.type == FT_REC_FREE && rec.u.mem.dt == vals[(i + 1) % n] &&
              rec.u.mem.addr == vals[i] && rec.u.mem.size == 0);
    }
    CHECK_ST(ft_trace_next(&r, &rec), FT_END);
    /* A cut ALLOC: whole records before it, ETRUNC at its start. */
    ft_mp_reader_init(&r, b.ptr, b.len - 1);
    while (ft_trace_next(&r, &rec) == FT_OK)
        ;
    CHECK(r.p < r.end);
    ft_buf_fini(&b);

    {
        /* [66, 5, 4096, 16, "later field"], [67, 1, 4096, 9], [66, 1, 2], [67, 1] */
        static const uint8_t extra[] = { 0x95, 66, 5, 0xcd, 0x10, 0x00, 16, 0xa1, 'x',
                                         0x94, 67, 1, 0xcd, 0x10, 0x00, 9 };
        static const uint8_t short_alloc[] = { 0x93, 66, 1, 2 };
        static const uint8_t short_free[] = { 0x92, 67, 1 };
        ft_mp_reader_init(&r, extra, sizeof extra);
        CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
        CHECK(rec.type == FT_REC_ALLOC && rec.u.mem.addr == 4096 && rec.u.mem.size == 16);
        CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
        CHECK(rec.type == FT_REC_FREE && rec.u.mem.addr == 4096);
        CHECK_ST(ft_trace_next(&r, &rec), FT_END);
        ft_mp_reader_init(&r, short_alloc, sizeof short_alloc);
        CHECK_ST(ft_trace_next(&r, &rec), FT_ECORRUPT);
        ft_mp_reader_init(&r, short_free, sizeof short_free);
        CHECK_ST(ft_trace_next(&r, &rec), FT_ECORRUPT);
    }
}

/* MARKER and INTERVAL (FORMAT.md §4.6): our encoder, our decoder, and msgpack-c. */
static void test_markers(void)
{
    ft_buf b;
    ft_mp_reader r, fr;
    ft_record rec;
    ft_field f;
    msgpack_unpacked up;
    size_t off = 0;
    double third = 1.0 / 3.0;

    ft_buf_init(&b);
    CHECK_ST(ft_trace_put_marker(&b, FT_REC_MARKER, 5, 99, "user", 4, "mark", 4, 6), FT_OK);
    CHECK_ST(ft_trace_put_field_str(&b, "s", "text", 4), FT_OK);
    CHECK_ST(ft_trace_put_field_int(&b, "u", 300), FT_OK);
    CHECK_ST(ft_trace_put_field_int(&b, "i", -7), FT_OK);
    CHECK_ST(ft_trace_put_field_float(&b, "f", third), FT_OK);
    CHECK_ST(ft_trace_put_field_bool(&b, "b", 1), FT_OK);
    CHECK_ST(ft_trace_put_field_nil(&b, "n"), FT_OK);
    CHECK_ST(ft_trace_put_marker(&b, FT_REC_INTERVAL, 70000, 123456789, "gc", 2, "GC", 2, 0),
             FT_OK);

    ft_mp_reader_init(&r, b.ptr, b.len);
    CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
    CHECK(rec.type == FT_REC_MARKER && rec.u.marker.dt == 5 && rec.u.marker.dur == 0 &&
          fteq(rec.u.marker.kind, "user") && fteq(rec.u.marker.name, "mark") &&
          rec.u.marker.nfields == 6);
    ft_mp_reader_init(&fr, rec.u.marker.fields, rec.u.marker.fields_len);
    CHECK_ST(ft_trace_next_field(&fr, &f), FT_OK);
    CHECK(fteq(f.key, "s") && f.type == FT_FIELD_STR && fteq(f.s, "text"));
    CHECK_ST(ft_trace_next_field(&fr, &f), FT_OK);
    CHECK(fteq(f.key, "u") && f.type == FT_FIELD_UINT && f.u == 300);
    CHECK_ST(ft_trace_next_field(&fr, &f), FT_OK);
    CHECK(fteq(f.key, "i") && f.type == FT_FIELD_INT && f.i == -7);
    CHECK_ST(ft_trace_next_field(&fr, &f), FT_OK);
    CHECK(fteq(f.key, "f") && f.type == FT_FIELD_FLOAT && f.f == third);
    CHECK_ST(ft_trace_next_field(&fr, &f), FT_OK);
    CHECK(fteq(f.key, "b") && f.type == FT_FIELD_BOOL && f.u == 1);
    CHECK_ST(ft_trace_next_field(&fr, &f), FT_OK);
    CHECK(fteq(f.key, "n") && f.type == FT_FIELD_NIL);
    CHECK(ft_mp_at_end(&fr));
    CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
    CHECK(rec.type == FT_REC_INTERVAL && rec.u.marker.dt == 70000 &&
          rec.u.marker.dur == 123456789 && fteq(rec.u.marker.kind, "gc") &&
          rec.u.marker.nfields == 0);
    CHECK_ST(ft_trace_next(&r, &rec), FT_END);

    /* msgpack-c reads the same: [64, 5, "user", "mark", {6 pairs}] (no duration). */
    msgpack_unpacked_init(&up);
    CHECK(msgpack_unpack_next(&up, (const char *)b.ptr, b.len, &off) == MSGPACK_UNPACK_SUCCESS);
    CHECK(up.data.type == MSGPACK_OBJECT_ARRAY && up.data.via.array.size == 5 &&
          up.data.via.array.ptr[0].via.u64 == 64 &&
          up.data.via.array.ptr[4].type == MSGPACK_OBJECT_MAP &&
          up.data.via.array.ptr[4].via.map.size == 6 &&
          up.data.via.array.ptr[4].via.map.ptr[3].val.type == MSGPACK_OBJECT_FLOAT64 &&
          up.data.via.array.ptr[4].via.map.ptr[3].val.via.f64 == third);
    CHECK(msgpack_unpack_next(&up, (const char *)b.ptr, b.len, &off) == MSGPACK_UNPACK_SUCCESS);
    CHECK(up.data.via.array.size == 6 && up.data.via.array.ptr[0].via.u64 == 65 &&
          up.data.via.array.ptr[2].via.u64 == 123456789);
    msgpack_unpacked_destroy(&up);

    /* Cut anywhere inside the first record: ETRUNC, the cursor left at its start. */
    for (size_t cut = 1; cut < b.len; cut++) {
        ft_mp_reader_init(&r, b.ptr, cut);
        if (ft_trace_next(&r, &rec) == FT_OK)
            continue;       /* the cut fell after the first record */
        ft_mp_reader_init(&r, b.ptr, cut);
        CHECK_ST(ft_trace_next(&r, &rec), FT_ETRUNC);
        CHECK(r.p == r.start);
    }
    ft_buf_fini(&b);

    /* Bad shapes: too few fields, fields not a map, a key that is not a str. A value of
     * another type is skipped as FT_FIELD_OTHER. */
    {
        static const uint8_t few[] = {0x94, 64, 0, 0xa1, 'k', 0xa1, 'n'};
        static const uint8_t notmap[] = {0x95, 64, 0, 0xa1, 'k', 0xa1, 'n', 0x90};
        static const uint8_t intkey[] = {0x95, 64, 0, 0xa1, 'k', 0xa1, 'n', 0x81, 1, 2};
        static const uint8_t arrval[] = {0x95, 64, 0, 0xa1, 'k', 0xa1, 'n', 0x81, 0xa1, 'a',
                                         0x92, 1, 2};
        const struct { const uint8_t *p; size_t n; ft_status want; } cases[] = {
            {few, sizeof few, FT_ECORRUPT}, {notmap, sizeof notmap, FT_ECORRUPT},
            {intkey, sizeof intkey, FT_ECORRUPT}, {arrval, sizeof arrval, FT_OK},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            ft_mp_reader_init(&r, cases[i].p, cases[i].n);
            CHECK_ST(ft_trace_next(&r, &rec), cases[i].want);
        }
        ft_mp_reader_init(&r, arrval, sizeof arrval);
        CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
        ft_mp_reader_init(&fr, rec.u.marker.fields, rec.u.marker.fields_len);
        CHECK_ST(ft_trace_next_field(&fr, &f), FT_OK);
        CHECK(f.type == FT_FIELD_OTHER && fteq(f.key, "a") && ft_mp_at_end(&fr));
    }
}

static void test_record_errors(void)
{
    /* type, minimum element count (type included) */
    static const int kinds[][2] = {{2, 5}, {3, 7}, {16, 3}, {17, 3}, {18, 3}, {19, 3}, {20, 3}};
    ft_mp_reader r;
    ft_record rec;
    ft_buf b;

    ft_buf_init(&b);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        for (int extra = -1; extra <= 2; extra++) {
            int n = kinds[i][1] + extra;
            b.len = 0;
            ft_mp_put_array(&b, (uint32_t)n);
            ft_mp_put_uint(&b, (uint64_t)kinds[i][0]);
            for (int k = 1; k < n; k++) {
                int is_str = (kinds[i][0] == 2 && k == 4) || (kinds[i][0] == 3 && k >= 3 && k <= 5);
                if (k >= kinds[i][1])
                    ft_mp_put_map(&b, 0);   /* appended field of another type */
                else if (is_str)
                    ft_mp_put_cstr(&b, "s");
                else
                    ft_mp_put_uint(&b, (uint64_t)k);
            }
            ft_mp_put_uint(&b, 99);   /* the next value must stay unread on error */
            ft_mp_reader_init(&r, b.ptr, b.len);
            if (extra < 0) {
                CHECK_ST(ft_trace_next(&r, &rec), FT_ECORRUPT);
                CHECK(r.p == r.start);
            } else {
                CHECK_ST(ft_trace_next(&r, &rec), FT_OK);
                CHECK(rec.type == kinds[i][0] && r.p == r.end - 1);
            }
        }
    }
    /* unknown type skipped whole; then a known record */
    b.len = 0;
    ft_mp_put_array(&b, 3);
    ft_mp_put_uint(&b, 77);
    ft_mp_put_map(&b, 1);
    ft_mp_put_cstr(&b, "a");
    ft_mp_put_array(&b, 2);
    ft_mp_put_int(&b, -1);
    ft_mp_put_cstr(&b, "b");
    ft_mp_put_cstr(&b, "x");
    ft_mp_put_array(&b, 1);
    ft_mp_put_uint(&b, 1ull << 40);   /* a huge type number is just unknown */
    ft_buf_reserve(&b, FT_EVENT_MAX);
    ft_trace_put_event(&b, FT_REC_RETURN, 5, 6);
    ft_mp_reader_init(&r, b.ptr, b.len);
    CHECK(ft_trace_next(&r, &rec) == FT_OK && rec.type == FT_REC_UNKNOWN);
    CHECK(ft_trace_next(&r, &rec) == FT_OK && rec.type == FT_REC_UNKNOWN);
    CHECK(ft_trace_next(&r, &rec) == FT_OK && rec.type == FT_REC_RETURN && rec.u.ev.dt == 5);
    CHECK_ST(ft_trace_next(&r, &rec), FT_END);

    /* not an array, empty array, non-uint type, wrong field types, negative fields */
    {
        static const uint8_t cases[][8] = {
            {1, 0x05}, {1, 0x90}, {3, 0x92, 0xa1, 'x'}, {4, 0x93, 0x10, 0xa0, 0x01},
            {4, 0x93, 0x10, 0x01, 0xff}, {5, 0x95, 0x02, 1, 2, 3}, {2, 0x91, 0xc1},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            ft_mp_reader_init(&r, cases[i] + 1, cases[i][0]);
            if (!CHECK_ST(ft_trace_next(&r, &rec), i == 5 ? FT_ETRUNC : FT_ECORRUPT))
                fprintf(stderr, "  case %zu\n", i);
            CHECK(r.p == r.start);
        }
    }
    /* HEADER and TRAILER are stepped over by ft_trace_next */
    {
        ft_trailer t = {0};
        b.len = 0;
        ft_trace_put_trailer(&b, &t);
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK(ft_trace_next(&r, &rec) == FT_OK && rec.type == FT_REC_TRAILER && ft_mp_at_end(&r));
    }
    ft_buf_fini(&b);
}

/* ---- files ---- */

typedef struct frames {
    ft_buf file;
    size_t n;
    size_t off[32], size[32];   /* each frame's place in the file */
    ft_buf content[32];         /* each frame's decompressed content */
} frames;

static void frames_add(frames *f, ZSTD_CCtx *cc, const ft_buf *block)
{
    size_t before = f->file.len;
    CHECK_ST(ft_frame_compress(cc, 3, block->ptr, block->len, &f->file), FT_OK);
    f->off[f->n] = before;
    f->size[f->n] = f->file.len - before;
    ft_buf_init(&f->content[f->n]);
    ft_buf_append(&f->content[f->n], block->ptr, block->len);
    f->n++;
}

static void frames_fini(frames *f)
{
    for (size_t i = 0; i < f->n; i++)
        ft_buf_fini(&f->content[i]);
    ft_buf_fini(&f->file);
}

/* signature, header, 6 chunks of two threads (one empty), a definitions block, trailer */
static void build_file(frames *f)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ft_header h;
    ft_trailer t = {99, 30, 6, 0, 4};
    ft_buf blk;

    memset(f, 0, sizeof *f);
    ft_buf_init(&blk);
    CHECK_ST(ft_file_put_signature(&f->file), FT_OK);
    fill_header(&h);
    ft_trace_put_header(&blk, &h);
    frames_add(f, cc, &blk);
    for (int c = 0; c < 6; c++) {
        blk.len = 0;
        ft_trace_put_chunk(&blk, 100 + c % 2, (uint64_t)c / 2, 1000u * c, "T", 1);
        if (c == 0)
            ft_trace_put_func(&blk, 0, 0, "f", 1, "m", 1, "m.py", 4, 3);
        for (int e = 0; e < 5 * (c != 3); e++) {
            ft_buf_reserve(&blk, FT_EVENT_MAX);
            ft_trace_put_event(&blk, FT_REC_CALL + e % 2, (uint64_t)e * 77, 0);
        }
        frames_add(f, cc, &blk);
    }
    blk.len = 0;
    ft_trace_put_func(&blk, 1, 1, "len", 3, "builtins", 8, "", 0, 0);
    frames_add(f, cc, &blk);
    blk.len = 0;
    ft_trace_put_trailer(&blk, &t);
    frames_add(f, cc, &blk);
    ft_buf_fini(&blk);
    ZSTD_freeCCtx(cc);
}

/* Reads a whole file; returns the number of frames that came back OK. Checks that every OK
 * frame is one of those written, byte for byte and in order, and that the reader ends. */
static size_t read_frames(const frames *f, ft_file_reader *fr, size_t *errors, ft_status *first_err)
{
    size_t ok = 0, next_expected = 0;
    ft_frame fm;
    ft_status st;
    int guard = 0;

    *errors = 0;
    *first_err = FT_OK;
    while ((st = ft_file_reader_next(fr, &fm)) != FT_END && guard++ < 1000) {
        if (st != FT_OK) {
            CHECK(st == FT_ETRUNC || st == FT_ECORRUPT || st == FT_EZSTD);
            if (!*first_err)
                *first_err = st;
            (*errors)++;
            continue;
        }
        while (next_expected < f->n && f->off[next_expected] != fm.offset)
            next_expected++;
        if (!CHECK(next_expected < f->n)) {
            fprintf(stderr, "  frame at %" PRIu64 " was never written\n", fm.offset);
            break;
        }
        CHECK(fm.size == f->size[next_expected]);
        CHECK(fm.len == f->content[next_expected].len &&
              (fm.len == 0 || memcmp(fm.data, f->content[next_expected].ptr, fm.len) == 0));
        next_expected++;
        ok++;
    }
    CHECK(guard < 1000);
    return ok;
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    int ok = fp && fwrite(data, 1, n, fp) == n;
    if (fp && fclose(fp) != 0)
        ok = 0;
    return ok;
}

static void test_file_roundtrip(const char *tmpdir)
{
    frames f;
    ft_file_reader *fr;
    size_t errors;
    ft_status first;
    unsigned version = 0;
    char path[512];

    build_file(&f);
    CHECK(memcmp(f.file.ptr, "\x5f\x2a\x4d\x18\x10\0\0\0FTRACE\0\0\x02\0\0\0\0\0\0\0", 24) == 0);
    CHECK_ST(ft_file_reader_open_mem(f.file.ptr, f.file.len, &fr, &version), FT_OK);
    CHECK(version == 2 && ft_file_reader_size(fr) == f.file.len);
    CHECK(read_frames(&f, fr, &errors, &first) == f.n && errors == 0);
    ft_file_reader_free(fr);

    /* the header frame decodes to the header */
    {
        ft_frame fm;
        ft_header d;
        ft_mp_reader r;
        CHECK_ST(ft_file_reader_open_mem(f.file.ptr, f.file.len, &fr, NULL), FT_OK);
        CHECK_ST(ft_file_reader_next(fr, &fm), FT_OK);
        ft_mp_reader_init(&r, fm.data, fm.len);
        CHECK_ST(ft_trace_read_header(&r, &d), FT_OK);
        CHECK(d.pid == 42);
        ft_header_fini(&d);
        ft_file_reader_free(fr);
    }

    snprintf(path, sizeof path, "%s/whole.ftrace", tmpdir);
    CHECK(write_file(path, f.file.ptr, f.file.len));
    CHECK_ST(ft_file_reader_open(path, &fr, NULL), FT_OK);
    CHECK(read_frames(&f, fr, &errors, &first) == f.n && errors == 0);
    ft_file_reader_free(fr);

    /* Truncated at every offset, from memory and from a real file: only whole frames
     * before the cut come back, then one ETRUNC (unless the cut is between frames). */
    for (size_t cut = 0; cut < f.file.len; cut++) {
        size_t whole = 0;
        for (size_t i = 0; i < f.n; i++)
            whole += f.off[i] + f.size[i] <= cut;
        for (int from_file = 0; from_file < 2; from_file++) {
            ft_status st;
            if (from_file) {
                CHECK(write_file(path, f.file.ptr, cut));
                st = ft_file_reader_open(path, &fr, NULL);
            } else {
                st = ft_file_reader_open_mem(f.file.ptr, cut, &fr, NULL);
            }
            if (cut < FT_SIGNATURE_SIZE) {
                CHECK_ST(st, FT_ETRUNC);
                CHECK(fr == NULL);
                continue;
            }
            if (!CHECK_ST(st, FT_OK))
                continue;
            if (!CHECK(read_frames(&f, fr, &errors, &first) == whole) ||
                !CHECK(errors == (whole == f.n || cut == f.off[whole] ? 0u : 1u)) ||
                !CHECK(errors == 0 || first == FT_ETRUNC))
                fprintf(stderr, "  cut at %zu (file %d)\n", cut, from_file);
            ft_file_reader_free(fr);
        }
    }
    frames_fini(&f);
    unlink(path);
}

static void test_file_damage(void)
{
    frames f;
    ft_file_reader *fr;
    size_t errors, mid = 3;
    ft_status first;
    uint8_t *copy;

    build_file(&f);
    copy = malloc(f.file.len + 64);

    /* Flip each byte of a middle frame: the others are all still read, and the damaged
     * one never comes back with wrong content (read_frames checks the content). */
    for (size_t i = f.off[mid]; i < f.off[mid] + f.size[mid]; i++) {
        size_t ok;
        memcpy(copy, f.file.ptr, f.file.len);
        copy[i] ^= 0xff;
        CHECK_ST(ft_file_reader_open_mem(copy, f.file.len, &fr, NULL), FT_OK);
        ok = read_frames(&f, fr, &errors, &first);
        if (!CHECK(ok >= f.n - 1) || !CHECK(ok == f.n || errors >= 1))
            fprintf(stderr, "  flip at %zu: %zu frames, %zu errors\n", i, ok, errors);
        ft_file_reader_free(fr);
    }

    /* Junk and a skippable frame between two frames: junk is one error, skippable none. */
    {
        static const uint8_t skippable[] = {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'};
        size_t at = f.off[mid], n;
        for (int junk = 0; junk < 2; junk++) {
            const void *ins = junk ? (const void *)"garbage!" : (const void *)skippable;
            size_t ins_len = junk ? 8 : sizeof skippable;
            memcpy(copy, f.file.ptr, at);
            memcpy(copy + at, ins, ins_len);
            memcpy(copy + at + ins_len, f.file.ptr + at, f.file.len - at);
            n = f.file.len + ins_len;
            CHECK_ST(ft_file_reader_open_mem(copy, n, &fr, NULL), FT_OK);
            /* offsets after the insertion moved: compare counts only */
            {
                ft_frame fm;
                ft_status st;
                size_t ok = 0, err = 0;
                while ((st = ft_file_reader_next(fr, &fm)) != FT_END) {
                    st == FT_OK ? ok++ : err++;
                    /* the junk: said where it is, what it is, and how much was skipped */
                    if (st != FT_OK)
                        CHECK(st == FT_ECORRUPT && fm.offset == at && fm.size == ins_len &&
                              fm.reason && strcmp(fm.reason, "no zstd frame starts here") == 0);
                }
                CHECK(ok == f.n && err == (size_t)junk);
            }
            ft_file_reader_free(fr);
        }
    }

    /* A frame without a content size is refused but the next one is read. */
    {
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ZSTD_outBuffer out;
        ZSTD_inBuffer in = {"abcdef", 6, 0};
        ft_buf file;
        ft_frame fm;
        ft_buf_init(&file);
        ft_file_put_signature(&file);
        ft_buf_reserve(&file, 256);
        out.dst = file.ptr + file.len;
        out.size = 200;
        out.pos = 0;
        ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
        CHECK(ZSTD_compressStream2(cc, &out, &in, ZSTD_e_end) == 0);
        file.len += out.pos;
        CHECK_ST(ft_frame_compress(cc, 1, "xyz", 3, &file), FT_OK);
        CHECK_ST(ft_file_reader_open_mem(file.ptr, file.len, &fr, NULL), FT_OK);
        CHECK_ST(ft_file_reader_next(fr, &fm), FT_ECORRUPT);
        CHECK(fm.offset == FT_SIGNATURE_SIZE && fm.size == out.pos && fm.reason &&
              strstr(fm.reason, "no content size"));
        CHECK_ST(ft_file_reader_next(fr, &fm), FT_OK);
        CHECK(fm.len == 3 && memcmp(fm.data, "xyz", 3) == 0);
        CHECK_ST(ft_file_reader_next(fr, &fm), FT_END);
        CHECK_ST(ft_file_reader_next(fr, &fm), FT_END);
        ft_file_reader_free(fr);
        ft_buf_fini(&file);
        ZSTD_freeCCtx(cc);
    }
    free(copy);
    frames_fini(&f);
}

static void test_file_signature(const char *tmpdir)
{
    uint8_t sig[FT_SIGNATURE_SIZE + 4];
    ft_file_reader *fr = (ft_file_reader *)1;
    unsigned version = 0;
    char path[512];
    ft_buf b;
    ft_frame fm;

    CHECK_ST(ft_file_reader_open_mem("hello", 5, &fr, NULL), FT_EFOREIGN);
    CHECK(fr == NULL);
    CHECK_ST(ft_file_reader_open_mem("", 0, &fr, NULL), FT_ETRUNC);
    ft_buf_init(&b);
    ft_file_put_signature(&b);
    CHECK(b.len == FT_SIGNATURE_SIZE);
    memcpy(sig, b.ptr, b.len);
    CHECK_ST(ft_file_reader_open_mem(sig, 10, &fr, NULL), FT_ETRUNC);
    CHECK_ST(ft_file_reader_open_mem(sig, 24, &fr, &version), FT_OK);
    CHECK(version == 2);
    CHECK_ST(ft_file_reader_next(fr, &fm), FT_END);
    ft_file_reader_free(fr);
    /* reserved bytes are ignored; version 1 is still read; another version is refused and
     * named */
    sig[20] = 0x55;
    CHECK_ST(ft_file_reader_open_mem(sig, 24, &fr, &version), FT_OK);
    ft_file_reader_free(fr);
    sig[16] = 1;
    CHECK_ST(ft_file_reader_open_mem(sig, 24, &fr, &version), FT_OK);
    CHECK(version == 1);
    ft_file_reader_free(fr);
    sig[16] = 3;
    CHECK_ST(ft_file_reader_open_mem(sig, 24, &fr, &version), FT_EVERSION);
    CHECK(version == 3 && fr == NULL);
    sig[8] = 'X';
    CHECK_ST(ft_file_reader_open_mem(sig, 24, &fr, &version), FT_EFOREIGN);
    /* 1..3 stray bytes after the signature: a cut-off frame */
    memcpy(sig, b.ptr, b.len);
    memcpy(sig + 24, "\x28\xb5", 2);
    CHECK_ST(ft_file_reader_open_mem(sig, 26, &fr, NULL), FT_OK);
    CHECK_ST(ft_file_reader_next(fr, &fm), FT_ETRUNC);
    CHECK(fm.offset == 24);
    CHECK_ST(ft_file_reader_next(fr, &fm), FT_END);
    ft_file_reader_free(fr);

    snprintf(path, sizeof path, "%s/hello.txt", tmpdir);
    CHECK(write_file(path, "hello", 5));
    CHECK_ST(ft_file_reader_open(path, &fr, NULL), FT_EFOREIGN);
    unlink(path);
    errno = 0;
    CHECK_ST(ft_file_reader_open(path, &fr, NULL), FT_EIO);
    CHECK(errno == ENOENT);
    /* not a regular file: read() fallback */
    CHECK_ST(ft_file_reader_open("/dev/null", &fr, NULL), FT_ETRUNC);
    ft_buf_fini(&b);
}

/* ---- random damage ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)     /* xorshift64: deterministic, so failures reproduce */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Applies a few random edits to buf (len <= cap), returns the new length. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
    int edits = 1 + (int)(rng() % 4);
    for (int e = 0; e < edits && len > 0; e++) {
        size_t at = rng() % len, n = 1 + rng() % 16;
        switch (rng() % 5) {
        case 0: buf[at] ^= (uint8_t)(1u << (rng() % 8)); break;
        case 1: buf[at] = (uint8_t)rng(); break;
        case 2:                                           /* delete n bytes */
            n = n > len - at ? len - at : n;
            memmove(buf + at, buf + at + n, len - at - n);
            len -= n;
            break;
        case 3:                                           /* duplicate n bytes */
            n = n > len - at ? len - at : n;
            if (len + n <= cap) {
                memmove(buf + at + n, buf + at, len - at);
                len += n;
            }
            break;
        default: len = at; break;                         /* truncate */
        }
    }
    return len;
}

/* ---- EVENTS (2.0, FORMAT.md §4.4.1) ---- */

typedef struct ev_entry { int type; uint64_t dt, fid; } ev_entry;

/* The entries of the test chunk: events of every kind, with values whose varints take 1 to
 * 10 bytes, and two placeholders (a MARKER, an ALLOC). type 0: placeholder. */
static const ev_entry ev_seq[] = {
    {FT_REC_CALL, 10, 3}, {0, 0, 0}, {FT_REC_RETURN, 5, 3}, {FT_REC_CALL, 200, 5000},
    {FT_REC_RESUME, 70000, 1u << 20}, {0, 0, 0}, {FT_REC_YIELD, 0, 1u << 20},
    {FT_REC_UNWIND, UINT64_MAX, 0xffffffffu}, {FT_REC_RETURN, 1ull << 40, 5000},
};
#define EV_N (sizeof ev_seq / sizeof ev_seq[0])

static void put_placeholder_record(ft_buf *b, int which)
{
    if (which == 0) {
        ft_trace_put_marker(b, FT_REC_MARKER, 7, 0, "user", 4, "m", 1, 0);
    } else {
        ft_buf_reserve(b, FT_MEM_MAX);
        ft_trace_put_alloc(b, 9, 0x1000, 64);
    }
}

/* The chunk in 1.x form (packed = 0) or as CHUNK, EVENTS, the placeholders' records. */
static void build_ev_chunk(ft_buf *b, int packed)
{
    uint8_t ops[EV_N * FT_OP_MAX], dts[EV_N * FT_VARINT_MAX];
    size_t no = 0, nd = 0;
    int k = 0;

    ft_buf_init(b);
    ft_trace_put_chunk(b, 9, 0, 1000, "t", 1);
    for (size_t i = 0; i < EV_N; i++) {
        if (!ev_seq[i].type) {
            if (packed)
                ops[no++] = FT_OP_RECORD;
            else
                put_placeholder_record(b, k++);
            continue;
        }
        if (packed) {
            no += ft_varint_put(ops + no, ev_seq[i].fid << FT_OP_SHIFT |
                                          (uint64_t)(ev_seq[i].type - FT_OP_EVENT_BASE));
            nd += ft_varint_put(dts + nd, ev_seq[i].dt);
        } else {
            ft_buf_reserve(b, FT_EVENT_MAX);
            ft_trace_put_event(b, ev_seq[i].type, ev_seq[i].dt, ev_seq[i].fid);
        }
    }
    if (packed) {
        CHECK_ST(ft_trace_put_events(b, ops, no, dts, nd), FT_OK);
        put_placeholder_record(b, 0);
        put_placeholder_record(b, 1);
    }
}

/* Reads the block with ft_block_next (fast path too when `fast`), checking each record
 * against the test chunk; returns how many entries matched before the end or a fault, and
 * the status that ended it. */
static size_t read_ev_chunk(const uint8_t *p, size_t n, int fast, ft_status *end, size_t *at)
{
    ft_block_reader br;
    ft_record rec;
    size_t i = 0;
    int k = 0, seen_chunk = 0;

    ft_block_init(&br, p, n);
    for (;;) {
        int type;
        uint64_t dt, fid;
        if (fast && seen_chunk && ft_block_fast_event(&br, &type, &dt, &fid)) {
            rec.type = type;
            rec.u.ev.dt = dt;
            rec.u.ev.fid = fid;
        } else {
            ft_status st = ft_block_next(&br, &rec);
            if (st) {
                *end = st;
                *at = br.at;
                return i;
            }
        }
        if (rec.type == FT_REC_CHUNK) {
            CHECK(!seen_chunk && rec.u.chunk.tid == 9);
            seen_chunk = 1;
            continue;
        }
        if (i >= EV_N) {
            CHECK(!"a record past the end of the test chunk");
            *end = FT_ECORRUPT;
            return i;
        }
        if (ev_seq[i].type) {
            if (!CHECK(rec.type == ev_seq[i].type && rec.u.ev.dt == ev_seq[i].dt &&
                       rec.u.ev.fid == ev_seq[i].fid))
                fprintf(stderr, "  entry %zu: type %d dt %" PRIu64 " fid %" PRIu64 "\n", i,
                        rec.type, rec.u.ev.dt, rec.u.ev.fid);
        } else if (k++ == 0) {
            CHECK(rec.type == FT_REC_MARKER && rec.u.marker.dt == 7 && rec.u.marker.name.len == 1);
        } else {
            CHECK(rec.type == FT_REC_ALLOC && rec.u.mem.addr == 0x1000 && rec.u.mem.size == 64);
        }
        i++;
    }
}

static void test_events(void)
{
    ft_buf v1, v2, b;
    ft_status end;
    size_t at, got;

    /* both forms decode to the same records, through either path */
    build_ev_chunk(&v1, 0);
    build_ev_chunk(&v2, 1);
    for (int fast = 0; fast < 2; fast++) {
        got = read_ev_chunk(v1.ptr, v1.len, fast, &end, &at);
        CHECK(got == EV_N && end == FT_END);
        got = read_ev_chunk(v2.ptr, v2.len, fast, &end, &at);
        CHECK(got == EV_N && end == FT_END);
    }
    CHECK(v2.len < v1.len);

    /* cut anywhere: never a wrong record, and the cut is reported (a cut inside the EVENTS
     * record is a record cut short; after it, a placeholder that finds no record), except
     * right after the CHUNK record, where the block is a whole empty chunk */
    ft_buf_init(&b);
    ft_trace_put_chunk(&b, 9, 0, 1000, "t", 1);
    for (size_t cut = 0; cut < v2.len; cut++) {
        uint8_t *exact = malloc(cut ? cut : 1);
        memcpy(exact, v2.ptr, cut);
        got = read_ev_chunk(exact, cut, cut & 1, &end, &at);
        CHECK(got < EV_N);
        if (cut == 0 || cut == b.len)
            CHECK(end == FT_END && got == 0);
        else if (!CHECK(end == FT_ETRUNC || end == FT_ECORRUPT))
            fprintf(stderr, "  cut at %zu: status %d after %zu\n", cut, end, got);
        free(exact);
    }
    ft_buf_fini(&b);

    /* each way an EVENTS record can be corrupt: the entries before the fault stand, and
     * the fault is named where it is */
    {
        struct {
            const char *what;
            uint8_t ops[16];
            size_t nops;
            uint8_t dts[16];
            size_t ndts;
            int records;        /* records after the EVENTS record */
            size_t good;        /* entries read before the fault */
            size_t fault;       /* offset of the fault from the start of ops (dts: 100 + i) */
        } cases[] = {
            {"op cut short", {0x18, 0x80}, 2, {1}, 1, 0, 1, 1},
            {"op of 11 bytes", {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                0x00}, 11, {0}, 0, 0, 0, 0},
            {"code 5", {0x18, 0x05}, 2, {1, 1}, 2, 0, 1, 1},
            {"code 6", {0x0e}, 1, {1}, 1, 0, 0, 0},
            {"dts too short", {0x18, 0x19}, 2, {1}, 1, 0, 1, 101},
            {"dt cut short", {0x18}, 1, {0x80}, 1, 0, 0, 100},
            {"dts left over", {0x18}, 1, {1, 2}, 2, 0, 1, 101},
            {"placeholder without a record", {0x18, 0x07}, 2, {1}, 1, 0, 1, 200},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            ft_block_reader br;
            ft_record rec;
            size_t chunk_len, ops_at, dts_at, good = 0;
            ft_status st;

            ft_buf_init(&b);
            ft_trace_put_chunk(&b, 9, 0, 1000, "t", 1);
            chunk_len = b.len;
            ft_trace_put_events(&b, cases[i].ops, cases[i].nops, cases[i].dts, cases[i].ndts);
            ops_at = chunk_len + 7;                     /* fixarray, type, bin 32 head */
            dts_at = ops_at + cases[i].nops + 5;
            ft_block_init(&br, b.ptr, b.len);
            CHECK(ft_block_next(&br, &rec) == FT_OK && rec.type == FT_REC_CHUNK);
            while ((st = ft_block_next(&br, &rec)) == FT_OK)
                good++;
            if (!CHECK(st == FT_ECORRUPT && good == cases[i].good))
                fprintf(stderr, "  %s: status %d after %zu\n", cases[i].what, st, good);
            if (cases[i].fault >= 200)
                CHECK(br.at == b.len);
            else if (cases[i].fault >= 100)
                CHECK(br.at == dts_at + cases[i].fault - 100);
            else if (!CHECK(br.at == ops_at + cases[i].fault))
                fprintf(stderr, "  %s: at %zu, want %zu\n", cases[i].what, br.at,
                        ops_at + cases[i].fault);
            ft_buf_fini(&b);
        }
    }

    /* a placeholder may not stand for another EVENTS record; streams must be bin */
    {
        static const uint8_t op7[] = {FT_OP_RECORD}, none[1] = {0};
        ft_block_reader br;
        ft_record rec;
        ft_mp_reader r;

        ft_buf_init(&b);
        ft_trace_put_events(&b, op7, 1, none, 0);
        ft_trace_put_events(&b, none, 0, none, 0);
        ft_block_init(&br, b.ptr, b.len);
        CHECK_ST(ft_block_next(&br, &rec), FT_ECORRUPT);
        /* an empty EVENTS record stands for nothing */
        ft_block_init(&br, b.ptr + 13, b.len - 13);     /* after the first: 2 + 5 + 1 + 5 */
        CHECK_ST(ft_block_next(&br, &rec), FT_END);
        b.len = 0;
        ft_mp_put_array(&b, 3);
        ft_mp_put_uint(&b, FT_REC_EVENTS);
        ft_mp_put_str(&b, "", 0);
        ft_mp_put_str(&b, "", 0);
        ft_mp_reader_init(&r, b.ptr, b.len);
        CHECK_ST(ft_trace_next(&r, &rec), FT_ECORRUPT);
        ft_buf_fini(&b);
    }
    ft_buf_fini(&v1);
    ft_buf_fini(&v2);
}

/* Decodes a block every way there is; nothing may read outside it or loop. */
static void decode_block_all_ways(const uint8_t *p, size_t n)
{
    ft_mp_reader r;
    ft_record rec;
    ft_header h;
    ft_trailer t;
    ft_status st;
    int guard = 0;

    ft_mp_reader_init(&r, p, n);
    if (ft_trace_read_header(&r, &h) != FT_OK)
        CHECK(r.p == r.start || !ft_format_version_known(h.format_version));
    ft_header_fini(&h);
    ft_mp_reader_init(&r, p, n);
    if (ft_trace_read_trailer(&r, &t) != FT_OK)
        CHECK(r.p == r.start && t.end_reason == NULL && t.process_label == NULL);
    ft_trailer_fini(&t);
    ft_mp_reader_init(&r, p, n);
    while (guard++ <= (int)n) {
        const uint8_t *before = r.p;
        st = ft_trace_next(&r, &rec);
        if (st != FT_OK) {
            CHECK(st == FT_END || r.p == before);
            break;
        }
        CHECK(r.p > before && r.p <= r.end);
    }
    CHECK(guard <= (int)n + 1);
    {
        /* expanded: at most one record or entry per byte */
        ft_block_reader br;
        int steps = 0;
        ft_block_init(&br, p, n);
        while (steps++ <= (int)n && ft_block_next(&br, &rec) == FT_OK)
            CHECK(br.at <= n);
        CHECK(steps <= (int)n + 1);
    }
}

static void test_random_damage(void)
{
    sample s;
    ft_buf block;
    uint8_t *buf;
    size_t cap;

    s_rich(&s);
    cap = s.file.len * 2;
    buf = malloc(cap);
    for (int iter = 0; iter < 3000; iter++) {
        ft_file_reader *fr;
        ft_frame fm;
        ft_status st;
        size_t len;
        int guard = 0;

        uint8_t *exact;

        memcpy(buf, s.file.ptr, s.file.len);
        len = mutate(buf, s.file.len, cap);
        /* the signature is kept intact half of the time, so that most runs reach frames */
        if (iter % 2 && len >= FT_SIGNATURE_SIZE)
            memcpy(buf, s.file.ptr, FT_SIGNATURE_SIZE);
        exact = malloc(len ? len : 1);      /* exactly len bytes: ASan sees any overread */
        memcpy(exact, buf, len);
        if (ft_file_reader_open_mem(exact, len, &fr, NULL) == FT_OK) {
            while ((st = ft_file_reader_next(fr, &fm)) != FT_END && guard++ < 10000) {
                if (st == FT_OK) {
                    CHECK(fm.offset + fm.size <= len && fm.len <= FT_MAX_FRAME_CONTENT);
                    decode_block_all_ways(fm.data, fm.len);
                }
            }
            CHECK(guard < 10000);
            ft_file_reader_free(fr);
        }
        free(exact);
    }
    /* the same for blocks, before compression */
    ft_buf_init(&block);
    {
        ft_header h;
        ft_trailer t = {1, 2, 3, 4, 5};
        t.end_reason = "signal";
        t.has_exit_status = t.has_signal = 1;
        t.exit_status = -9;
        t.signal = 9;
        t.process_label = "Worker-1";
        fill_header(&h);
        h.start_reason = "fork";
        ft_trace_put_header(&block, &h);
        put_all_records(&block);
        ft_trace_put_trailer(&block, &t);
    }
    ft_buf_reserve(&block, block.len);
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t *copy = malloc(block.cap);
        size_t len;
        memcpy(copy, block.ptr, block.len);
        len = mutate(copy, block.len, block.cap);
        /* a fresh allocation of exactly len bytes, so that ASan sees any overread */
        {
            uint8_t *exact = malloc(len ? len : 1);
            memcpy(exact, copy, len);
            decode_block_all_ways(exact, len);
            free(exact);
        }
        free(copy);
    }
    ft_buf_fini(&block);
    free(buf);
    s_fini(&s);
}

/* ---- allocation failures ---- */

static ft_status alloc_scenario(const frames *f)
{
    ft_buf b;
    ft_header h, d;
    ft_trailer t = {1, 2, 3, 4, 5}, dt;
    ft_mp_reader r;
    ft_file_reader *fr = NULL;
    ft_frame fm;
    ft_status st;

    ft_buf_init(&b);
    memset(&d, 0, sizeof d);
    memset(&dt, 0, sizeof dt);
    fill_header(&h);
    h.start_reason = "exec";
    if ((st = ft_trace_put_header(&b, &h)))
        goto out;
    ft_mp_reader_init(&r, b.ptr, b.len);
    if ((st = ft_trace_read_header(&r, &d)))
        goto out;
    t.end_reason = "exit";
    t.process_label = "label";
    b.len = 0;
    if ((st = ft_trace_put_trailer(&b, &t)))
        goto out;
    ft_mp_reader_init(&r, b.ptr, b.len);
    if ((st = ft_trace_read_trailer(&r, &dt)))
        goto out;
    if ((st = ft_file_reader_open_mem(f->file.ptr, f->file.len, &fr, NULL)))
        goto out;
    while ((st = ft_file_reader_next(fr, &fm)) == FT_OK)
        ;
    if (st == FT_END)
        st = FT_OK;
out:
    ft_file_reader_free(fr);
    ft_header_fini(&d);
    ft_trailer_fini(&dt);
    ft_buf_fini(&b);
    return st;
}

static void test_alloc_failures(void)
{
    frames f;
    int n, saw_ok = 0;

    build_file(&f);
    for (n = 0; n < 200 && !saw_ok; n++) {
        ft_status st;
        ft_alloc_fail_after(n);
        st = alloc_scenario(&f);
        ft_alloc_fail_after(-1);
        if (!CHECK(st == FT_OK || st == FT_ENOMEM))
            fprintf(stderr, "  fail after %d: %s\n", n, ft_status_str(st));
        saw_ok = st == FT_OK;
    }
    CHECK(saw_ok && n > 5);
    {
        ft_buf b;
        ft_buf_init(&b);
        ft_alloc_fail_after(0);
        CHECK_ST(ft_mp_put_cstr(&b, "x"), FT_ENOMEM);
        CHECK_ST(ft_file_put_signature(&b), FT_ENOMEM);
        ft_alloc_fail_after(-1);
        CHECK(b.len == 0);
        CHECK_ST(ft_buf_reserve(&b, SIZE_MAX), FT_ENOMEM);
        ft_buf_fini(&b);
    }
    frames_fini(&f);
}

static void test_status_str(void)
{
    for (int s = FT_OK; s <= FT_EZSTD; s++)
        CHECK(ft_status_str((ft_status)s) != NULL && ft_status_str((ft_status)s)[0]);
    CHECK(strcmp(ft_status_str((ft_status)999), "unknown status") == 0);
}

int main(int argc, char **argv)
{
    char tmpdir[] = "/tmp/ft_test_format.XXXXXX";

    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_status_str();
    test_mp_ints();
    test_mp_strs();
    test_mp_containers();
    test_msgpackc_to_ours();
    test_ours_to_msgpackc();
    test_header_trailer();
    test_header_variants();
    test_optional_keys();
    test_records();
    test_record_errors();
    test_markers();
    test_memory_records();
    test_events();
    test_file_signature(tmpdir);
    test_file_roundtrip(tmpdir);
    test_file_damage();
    test_random_damage();
    test_alloc_failures();
    sample_compare(argc > 0 ? argv[0] : "", tmpdir, &passed, &failed);
    rmdir(tmpdir);
    printf("test_format: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
