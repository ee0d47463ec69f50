/* test_convert.c — unit and whole-conversion tests of convert/.
 *
 * From the small containers (intmap, strpool) and the JSON writer up to whole runs written
 * with format/'s encoders (convert_tracegen.h) and converted with ft_convert: the profile
 * is parsed back with cJSON and the call tree's durations, computed from the samples'
 * weights as the Firefox Profiler does, are compared with the durations the synthetic
 * trace was built with. Damaged traces (cut, bit-flipped, chunks lost or out of order) and
 * failing allocations must give a profile or a clean failure, never a crash or a leak
 * (run under SAN=address,undefined).
 *
 * `test_convert --gen DIR EVENTS THREADS [tree|loop|random]` writes a big synthetic run instead, for
 * measuring the converter's speed, and `test_convert --sample DIR` the small run the tests
 * check (`--sample-processes DIR`: the multi-process one), for loading into the profiler;
 * none is part of the test run. */
#define _GNU_SOURCE
#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "convert.h"
#include "convert_tracegen.h"
#include "intmap.h"
#include "jsonw.h"
#include "report.h"
#include "stacks.h"
#include "strpool.h"
#include "thread_stream.h"

static int passed, failed;

#define CHECK(cond) check_((cond), #cond, __FILE__, __LINE__)
static int check_(int ok, const char *what, const char *file, int line)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
    }
    return ok;
}

#define CHECK_NEAR(a, b) check_near_((a), (b), #a, __FILE__, __LINE__)
static void check_near_(double got, double want, const char *what, const char *file, int line)
{
    if (!check_(fabs(got - want) < 1e-7, what, file, line))
        fprintf(stderr, "    got %.9f, want %.9f\n", got, want);
}

static char tmpdir[200];   /* long enough for pytest's temporary directories */

static void path_in(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", tmpdir, rel);
}

static void mkdirs(const char *rel)
{
    char p[512], cmd[600];
    path_in(p, sizeof p, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", p);
    if (system(cmd) != 0)
        fprintf(stderr, "mkdir failed: %s\n", p);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;

    if (!f)
        return NULL;
    do {
        if (n + 65536 > cap) {
            cap = cap ? cap * 2 : 65536 * 2;
            buf = realloc(buf, cap + 1);
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got);
    fclose(f);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

/* ---- containers ---- */

static void test_intmap(void)
{
    ft_intmap m;
    uint32_t v;
    int ok = 1;

    ft_intmap_init(&m);
    CHECK(ft_intmap_get(&m, 5) == FT_INTMAP_EMPTY);
    for (uint32_t i = 0; i < 100000; i++) {
        if (ft_intmap_get_or_put(&m, (uint64_t)i * 7919 + ((uint64_t)i << 40), i, &v) || v != i)
            ok = 0;
    }
    CHECK(ok);
    CHECK(m.len == 100000);
    ok = 1;
    for (uint32_t i = 0; i < 100000; i++) {
        if (ft_intmap_get(&m, (uint64_t)i * 7919 + ((uint64_t)i << 40)) != i)
            ok = 0;
    }
    CHECK(ok);
    CHECK(ft_intmap_get_or_put(&m, 7919 + (1ull << 40), 12345, &v) == FT_OK && v == 1);
    CHECK(ft_intmap_set(&m, 7919, 77) == FT_OK && ft_intmap_get(&m, 7919) == 77);
    CHECK(ft_intmap_set(&m, 7919, 78) == FT_OK && ft_intmap_get(&m, 7919) == 78);
    CHECK(ft_intmap_set(&m, UINT64_MAX, 3) == FT_OK && ft_intmap_get(&m, UINT64_MAX) == 3);
    CHECK(ft_intmap_get(&m, 1) == FT_INTMAP_EMPTY);
    ft_intmap_fini(&m);
}

static void test_strpool(void)
{
    ft_strpool p;
    uint32_t a, b, c, d, e;
    ft_str s;

    ft_strpool_init(&p);
    CHECK(ft_strpool_intern(&p, "", 0, &a) == FT_OK);
    CHECK(ft_strpool_intern(&p, "abc", 3, &b) == FT_OK && b != a);
    CHECK(ft_strpool_intern(&p, "abcd", 3, &c) == FT_OK && c == b);
    CHECK(ft_strpool_intern(&p, "a\0b", 3, &d) == FT_OK && d != b);
    CHECK(ft_strpool_intern(&p, "", 0, &e) == FT_OK && e == a);
    s = ft_strpool_get(&p, d);
    CHECK(s.len == 3 && memcmp(s.ptr, "a\0b", 3) == 0);
    for (int i = 0; i < 5000; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "name%d", i);
        ft_strpool_intern(&p, buf, (size_t)n, &e);
    }
    CHECK(p.count == 5003);
    CHECK(ft_strpool_intern(&p, "name4999", 8, &e) == FT_OK && e == 5002);
    s = ft_strpool_get(&p, b);
    CHECK(s.len == 3 && memcmp(s.ptr, "abc", 3) == 0);
    ft_strpool_fini(&p);
}

/* ---- JSON writer ---- */

static void test_jsonw(void)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ft_jsonw *w;

    CHECK(ft_jsonw_open_stream(f, 0, &w) == FT_OK);
    ft_jw_obj_begin(w);
    ft_jw_key(w, "a");
    ft_jw_arr_begin(w);
    ft_jw_ms(w, 1500000);
    ft_jw_ms(w, 123);
    ft_jw_ms(w, -5);
    ft_jw_ms(w, 0);
    ft_jw_ms(w, 42000000);
    ft_jw_ms(w, 1700000000000000123ll);
    ft_jw_ms(w, 1234500000);     /* the integer part is cached from here: */
    ft_jw_ms(w, 1234600000);
    ft_jw_ms(w, 5);
    ft_jw_ms(w, 1234000001);
    ft_jw_ms(w, -1234500000);
    ft_jw_ms(w, 12345000000);
    ft_jw_uint(w, UINT64_MAX);
    ft_jw_int(w, INT64_MIN);
    ft_jw_null(w);
    ft_jw_bool(w, 1);
    ft_jw_arr_begin(w);
    ft_jw_arr_end(w);
    ft_jw_arr_end(w);
    ft_jw_key(w, "s\"");
    /* quote, backslash, controls, valid 2/3/4-byte UTF-8, then invalid: a lone
     * continuation byte, an overlong encoding, a surrogate, a cut sequence */
    static const char tricky[] =
        "q\"b\\n\n\x01\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82";
    ft_jw_str(w, tricky, sizeof tricky - 1);
    ft_jw_obj_end(w);
    CHECK(ft_jsonw_close(w, 1) == FT_OK);
    fclose(f);
    const char *want =
        "{\"a\":[1.5,0.000123,-0.000005,0,42,1700000000000.000123,1234.5,1234.6,0.000005,"
        "1234.000001,-1234.5,12345,18446744073709551615,"
        "-9223372036854775808,null,true,[]],\"s\\\"\":\"q\\\"b\\\\n\\n\\u0001\xc3\xa9\xe2\x82\xac"
        "\xf0\x9f\x98\x80|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
        "|\xef\xbf\xbd\xef\xbf\xbd\"}";
    if (!CHECK(out && strcmp(out, want) == 0))
        fprintf(stderr, "    got  %s\n    want %s\n", out, want);
    cJSON *j = cJSON_Parse(out);
    CHECK(j != NULL);
    cJSON_Delete(j);
    free(out);
}

/* Large output through gzip, read back with zlib. */
static void test_jsonw_gzip(void)
{
    char path[256];
    ft_jsonw *w;
    gzFile gz;
    char *buf;
    int n, ok = 1;

    path_in(path, sizeof path, "big.json.gz");
    CHECK(ft_jsonw_open(path, &w) == FT_OK);
    ft_jw_arr_begin(w);
    for (int i = 0; i < 300000; i++)
        ft_jw_uint(w, (uint64_t)i);
    ft_jw_arr_end(w);
    CHECK(ft_jsonw_close(w, 1) == FT_OK);
    gz = gzopen(path, "rb");
    CHECK(gz != NULL);
    buf = malloc(4 << 20);
    n = gz ? gzread(gz, buf, 4 << 20) : 0;
    if (gz)
        gzclose(gz);
    CHECK(n > 0 && buf[0] == '[' && buf[n - 1] == ']');
    buf[n > 0 ? n - 1 : 0] = 0;
    char *p = buf + 1;
    for (int i = 0; i < 300000 && ok; i++) {
        char *end;
        long v = strtol(p, &end, 10);
        ok = v == i && (*end == ',' || *end == 0);
        p = end + 1;
    }
    CHECK(ok);
    free(buf);

    /* Abandoned output leaves nothing behind. */
    path_in(path, sizeof path, "abandoned.json");
    CHECK(ft_jsonw_open(path, &w) == FT_OK);
    ft_jw_arr_begin(w);
    CHECK(ft_jsonw_close(w, 0) == FT_OK);
    CHECK(access(path, F_OK) != 0);
    CHECK(ft_jsonw_open("/nonexistent-dir/x.json", &w) == FT_EIO && w == NULL);
}

/* ---- stack reconstruction ---- */

static void test_tstream(void)
{
    ft_tstream ts;

    ft_tstream_init(&ts, 7, 0);
    CHECK(ft_tstream_begin_chunk(&ts, 0, 100) == FT_CHUNK_IN_ORDER);
    ft_tstream_event(&ts, FT_REC_RETURN, 0, 9);     /* started mid-stack: ignored */
    ft_tstream_event(&ts, FT_REC_CALL, 10, 1);      /* [1]        t=110 */
    ft_tstream_event(&ts, FT_REC_CALL, 10, 2);      /* [1 2]      t=120 */
    ft_tstream_event(&ts, FT_REC_CALL, 10, 3);      /* [1 2 3]    t=130 */
    ft_tstream_event(&ts, FT_REC_YIELD, 10, 2);     /* [1]        t=140: pops 3 and 2 */
    ft_tstream_event(&ts, FT_REC_RESUME, 0, 2);     /* [1 2]      t=140 */
    ft_tstream_event(&ts, FT_REC_UNWIND, 5, 2);     /* [1]        t=145 */
    ft_tstream_event(&ts, FT_REC_CALL, 5, 2);       /* [1 2]      t=150: same stack again */
    CHECK(ts.ignored_pops == 1);
    CHECK(ts.nsamples == 7);
    CHECK(ts.stacks.len == 3);
    CHECK(ts.sample_stack[1] == ts.sample_stack[4] && ts.sample_stack[4] == ts.sample_stack[6]);
    CHECK(ts.sample_stack[3] == ts.sample_stack[0] && ts.sample_stack[5] == ts.sample_stack[0]);
    CHECK(ts.sample_time[3] == 140 && ts.sample_time[4] == 140 && ts.sample_time[6] == 150);
    CHECK(ts.stacks.prefix[0] == FT_STACK_NONE && ts.stacks.prefix[2] == 1);
    /* A chunk that goes back in time is clamped, and seq gaps are told. */
    CHECK(ft_tstream_begin_chunk(&ts, 2, 120) == FT_CHUNK_GAP);
    ft_tstream_event(&ts, FT_REC_RETURN, 10, 2);    /* t=130 < 150 */
    CHECK(ts.clamped == 1 && ts.sample_time[7] == 150);
    CHECK(ft_tstream_begin_chunk(&ts, 1, 200) == FT_CHUNK_BACKWARDS);
    CHECK(ft_tstream_finish(&ts, 1000) == FT_OK);
    CHECK(ts.nsamples == 9 && ts.sample_stack[8] == FT_STACK_NONE && ts.sample_time[8] == 1000);
    CHECK(ft_tstream_finish(&ts, 2000) == FT_OK && ts.nsamples == 9);
    /* A huge dt saturates instead of wrapping. */
    ft_tstream_event(&ts, FT_REC_CALL, UINT64_MAX, 1);
    CHECK(ts.sample_time[9] == UINT64_MAX);
    /* fids past 32 bits share one id. */
    ft_tstream_event(&ts, FT_REC_CALL, 0, 1ull << 40);
    CHECK(ts.live[ts.depth - 1].fid == FT_FID_BAD);
    ft_tstream_fini(&ts);
}

/* ---- whole runs ---- */

enum { F_MODULE, F_MAIN, F_WORK, F_SLEEP, F_RUN };

/* Process 100 (threads 100 "MainThread" and 101) and its child 102. See the expected
 * durations in check_clean_profile. */
static void gen_parent(tg *g, int out_of_order, int lose_chunk)
{
    const uint64_t B = TG_MONO0;
    tg_begin(g);
    tg_header(g, 100, B);

    tg_chunk(g, 100, 0, B, "MainThread");
    tg_func(g, F_MODULE, FT_FUNC_PYTHON, "<module>", "/src/app.py", 1);
    tg_func(g, F_MAIN, FT_FUNC_PYTHON, "main", "/src/app.py", 10);
    tg_func(g, F_WORK, FT_FUNC_PYTHON, "work", "/src/app.py", 20);
    tg_func(g, F_SLEEP, FT_FUNC_NATIVE, "time.sleep", "", 0);
    tg_ev(g, FT_REC_CALL, 0, F_MODULE);
    tg_ev(g, FT_REC_CALL, 1000, F_MAIN);
    tg_ev(g, FT_REC_CALL, 2000, F_WORK);
    tg_ev(g, FT_REC_CALL, 3000, F_SLEEP);
    tg_ev(g, FT_REC_RETURN, 500000, F_SLEEP);
    tg_ev(g, FT_REC_RETURN, 1000, F_WORK);
    ft_buf first;              /* this block, held back when out_of_order */
    ft_buf_init(&first);
    if (out_of_order) {
        first = g->blk;
        ft_buf_init(&g->blk);
    } else {
        tg_frame(g);
    }

    tg_chunk(g, 101, 0, B + 100000, "Thread-1 (worker)");
    tg_func(g, F_RUN, FT_FUNC_PYTHON, "Worker.run", "/src/app.py", 30);
    tg_ev(g, FT_REC_RETURN, 0, F_WORK);            /* began mid-stack: ignored */
    tg_ev(g, FT_REC_CALL, 0, F_RUN);
    tg_ev(g, FT_REC_CALL, 5000, F_SLEEP);
    tg_ev(g, FT_REC_RETURN, 2000000, F_SLEEP);
    tg_ev(g, FT_REC_RETURN, 10000, F_RUN);
    tg_frame(g);

    tg_chunk(g, 100, 1, B + 507000, "MainThread");
    tg_ev(g, FT_REC_CALL, 0, F_WORK);              /* same time as the return before it */
    tg_ev(g, FT_REC_RETURN, 4000, F_WORK);
    tg_ev(g, FT_REC_RETURN, 1000, F_MAIN);
    if (lose_chunk)
        g->blk.len = 0;
    else
        tg_frame(g);
    if (out_of_order) {
        ft_buf_fini(&g->blk);
        g->blk = first;
        tg_frame(g);
    }
    tg_trailer(g, B + 10000000);
}

static void gen_child(tg *g)
{
    const uint64_t S = TG_MONO0 + 2000000;
    tg_begin(g);
    tg_header(g, 102, S);
    tg_chunk(g, 102, 0, S + 1000, "");
    tg_func(g, 0, FT_FUNC_PYTHON, "<module>", "/src/child.py", 1);
    tg_func(g, 1, FT_FUNC_NATIVE, "builtins.len", "", 0);
    tg_ev(g, FT_REC_CALL, 0, 0);
    tg_ev(g, FT_REC_CALL, 1000, 1);
    tg_ev(g, FT_REC_RETURN, 0, 1);
    tg_ev(g, FT_REC_RETURN, 3000, 0);
    tg_frame(g);
    tg_trailer(g, S + 10000);
}

static void write_run(const char *rel, int out_of_order, int lose_chunk)
{
    char dir[512], path[600];
    tg g;

    mkdirs(rel);
    path_in(dir, sizeof dir, rel);
    gen_parent(&g, out_of_order, lose_chunk);
    snprintf(path, sizeof path, "%s/100.ftrace", dir);
    CHECK(tg_write(&g, path));
    tg_fini(&g);
    gen_child(&g);
    snprintf(path, sizeof path, "%s/102.ftrace", dir);
    CHECK(tg_write(&g, path));
    tg_fini(&g);
}

static const char *str_at(cJSON *strings, cJSON *idx)
{
    cJSON *s = cJSON_IsNumber(idx) ? cJSON_GetArrayItem(strings, idx->valueint) : NULL;
    return s && cJSON_IsString(s) ? s->valuestring : "?";
}

static const char *func_name_of_stack(cJSON *t, int stack)
{
    cJSON *st = cJSON_GetObjectItem(t, "stackTable"), *ft = cJSON_GetObjectItem(t, "frameTable");
    cJSON *fn = cJSON_GetObjectItem(t, "funcTable");
    int frame = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "frame"), stack)->valueint;
    int func = cJSON_GetArrayItem(cJSON_GetObjectItem(ft, "func"), frame)->valueint;
    return str_at(cJSON_GetObjectItem(t, "stringArray"),
                  cJSON_GetArrayItem(cJSON_GetObjectItem(fn, "name"), func));
}

/* Self and running time of `name` in a thread, from the sample weights: what the call
 * tree shows. */
static void totals(cJSON *t, const char *name, double *self, double *running)
{
    cJSON *samples = cJSON_GetObjectItem(t, "samples");
    cJSON *stacks = cJSON_GetObjectItem(samples, "stack");
    cJSON *weights = cJSON_GetObjectItem(samples, "weight");
    cJSON *prefix = cJSON_GetObjectItem(cJSON_GetObjectItem(t, "stackTable"), "prefix");
    int n = cJSON_GetArraySize(stacks);

    *self = *running = 0;
    for (int i = 0; i < n; i++) {
        cJSON *s = cJSON_GetArrayItem(stacks, i);
        double w = cJSON_GetArrayItem(weights, i)->valuedouble;
        if (!cJSON_IsNumber(s))
            continue;
        if (strcmp(func_name_of_stack(t, s->valueint), name) == 0)
            *self += w;
        for (cJSON *node = s; cJSON_IsNumber(node);
             node = cJSON_GetArrayItem(prefix, node->valueint)) {
            if (strcmp(func_name_of_stack(t, node->valueint), name) == 0) {
                *running += w;
                break;
            }
        }
    }
}

static void check_fn(cJSON *t, const char *name, double self, double running)
{
    double s, r;
    totals(t, name, &s, &r);
    if (!CHECK(fabs(s - self) < 1e-7 && fabs(r - running) < 1e-7))
        fprintf(stderr, "    %s: self %.9f running %.9f, want %.9f %.9f\n", name, s, r, self,
                running);
}

static cJSON *item(cJSON *o, const char *k)
{
    return cJSON_GetObjectItem(o, k);
}

static int has_all(cJSON *o, const char *const *keys)
{
    int ok = 1;
    for (; *keys; keys++) {
        if (!cJSON_HasObjectItem(o, *keys)) {
            fprintf(stderr, "    missing key %s\n", *keys);
            ok = 0;
        }
    }
    return ok;
}

static void check_shapes(cJSON *t)
{
    static const char *const thread_keys[] = {
        "processType", "processStartupTime", "processShutdownTime", "registerTime",
        "unregisterTime", "pausedRanges", "name", "isMainThread", "pid", "tid",
        "processName", "samples", "markers", "stackTable", "frameTable", "funcTable",
        "resourceTable", "nativeSymbols", "stringArray", NULL };
    static const char *const frame_keys[] = {
        "length", "address", "inlineDepth", "category", "subcategory", "func", "nativeSymbol",
        "innerWindowID", "line", "column", NULL };
    static const char *const func_keys[] = {
        "length", "name", "isJS", "relevantForJS", "resource", "fileName", "lineNumber",
        "columnNumber", NULL };
    static const char *const sample_keys[] = { "length", "stack", "time", "weight",
                                               "weightType", NULL };
    static const char *const marker_keys[] = { "length", "data", "name", "startTime",
                                               "endTime", "phase", "category", NULL };
    CHECK(has_all(t, thread_keys));
    CHECK(has_all(item(t, "frameTable"), frame_keys));
    CHECK(has_all(item(t, "funcTable"), func_keys));
    CHECK(has_all(item(t, "samples"), sample_keys));
    CHECK(has_all(item(t, "markers"), marker_keys));
    CHECK(cJSON_IsString(item(t, "pid")));
    CHECK(strcmp(cJSON_GetStringValue(item(item(t, "samples"), "weightType")), "tracing-ms") == 0);
    /* Every column as long as its table says. */
    const char *tables[] = { "samples", "stackTable", "frameTable", "funcTable", NULL };
    for (int i = 0; tables[i]; i++) {
        cJSON *tab = item(t, tables[i]), *col;
        int len = item(tab, "length")->valueint, ok = 1;
        cJSON_ArrayForEach(col, tab) {
            if (cJSON_IsArray(col) && cJSON_GetArraySize(col) != len)
                ok = 0;
        }
        CHECK(ok);
    }
}

static cJSON *convert_to_json(const char *in_rel, const char *out_rel, ft_convert_result want,
                              char **messages)
{
    char in[512], out[512];
    char *msg = NULL;
    size_t msglen = 0;
    FILE *mf = open_memstream(&msg, &msglen);
    ft_convert_opts o = {0};
    ft_report r;
    ft_convert_result res;
    cJSON *j = NULL;

    path_in(in, sizeof in, in_rel);
    path_in(out, sizeof out, out_rel);
    o.input = in;
    o.output = out;
    ft_report_init(&r, mf, 0);
    res = ft_convert(&o, &r, NULL);
    fclose(mf);
    if (!CHECK(res == want))
        fprintf(stderr, "    result %d, want %d; messages:\n%s", res, want, msg);
    if (res != FT_CONVERT_FAILED) {
        char *text = read_all(out, NULL);
        j = text ? cJSON_Parse(text) : NULL;
        CHECK(j != NULL);
        free(text);
    }
    if (messages)
        *messages = msg;
    else
        free(msg);
    return j;
}

static void check_clean_profile(cJSON *j)
{
    cJSON *meta = item(j, "meta"), *threads = item(j, "threads");
    cJSON *t0, *t1, *t2;

    CHECK(item(meta, "preprocessedProfileVersion")->valueint == 55);
    CHECK(item(meta, "startTime")->valuedouble == 1700000000000.0);
    CHECK(strcmp(cJSON_GetStringValue(item(meta, "product")), "functiontrace") == 0);
    cJSON *cats = item(meta, "categories");
    CHECK(cJSON_GetArraySize(cats) == 3);
    CHECK(strcmp(cJSON_GetStringValue(item(cJSON_GetArrayItem(cats, 0), "color")), "grey") == 0);
    CHECK(cJSON_IsArray(item(meta, "markerSchema")));
    cJSON *vis = item(meta, "initialVisibleThreads");
    CHECK(cJSON_GetArraySize(vis) == 3 && cJSON_GetArrayItem(vis, 0)->valueint == 0 &&
          cJSON_GetArrayItem(vis, 1)->valueint == 2 && cJSON_GetArrayItem(vis, 2)->valueint == 1);
    if (!CHECK(cJSON_GetArraySize(threads) == 3))
        return;
    t0 = cJSON_GetArrayItem(threads, 0);
    t1 = cJSON_GetArrayItem(threads, 1);
    t2 = cJSON_GetArrayItem(threads, 2);
    check_shapes(t0);
    check_shapes(t1);
    check_shapes(t2);

    CHECK(strcmp(cJSON_GetStringValue(item(t0, "name")), "MainThread") == 0);
    CHECK(cJSON_IsTrue(item(t0, "isMainThread")) && cJSON_IsFalse(item(t1, "isMainThread")));
    CHECK(strcmp(cJSON_GetStringValue(item(t0, "pid")), "100") == 0);
    CHECK(item(t0, "tid")->valueint == 100 && item(t1, "tid")->valueint == 101);
    CHECK(strcmp(cJSON_GetStringValue(item(t0, "processName")), "python3 app.py --n 3") == 0);
    CHECK(strcmp(cJSON_GetStringValue(item(t1, "name")), "Thread-1 (worker)") == 0);
    CHECK(item(item(t0, "samples"), "length")->valueint == 10);
    check_fn(t0, "<module>", 9.489, 10.0);
    check_fn(t0, "main", 0.003, 0.511);
    check_fn(t0, "work", 0.008, 0.508);
    check_fn(t0, "time.sleep", 0.5, 0.5);
    CHECK_NEAR(item(t0, "processShutdownTime")->valuedouble, 10.0);

    check_fn(t1, "Worker.run", 0.015, 2.015);
    check_fn(t1, "time.sleep", 2.0, 2.0);
    CHECK_NEAR(item(t1, "registerTime")->valuedouble, 0.1);

    CHECK(strcmp(cJSON_GetStringValue(item(t2, "pid")), "102") == 0);
    CHECK(strcmp(cJSON_GetStringValue(item(t2, "name")), "Thread 102") == 0);
    CHECK(cJSON_IsTrue(item(t2, "isMainThread")));
    check_fn(t2, "<module>", 0.004, 0.004);
    check_fn(t2, "builtins.len", 0.0, 0.0);
    CHECK_NEAR(cJSON_GetArrayItem(item(item(t2, "samples"), "time"), 0)->valuedouble, 2.001);

    /* Python functions carry file and line; native ones carry neither. */
    cJSON *fn = item(t0, "funcTable");
    int n = item(fn, "length")->valueint, seen_native = 0, seen_py = 0;
    for (int i = 0; i < n; i++) {
        const char *name = str_at(item(t0, "stringArray"),
                                  cJSON_GetArrayItem(item(fn, "name"), i));
        cJSON *file = cJSON_GetArrayItem(item(fn, "fileName"), i);
        cJSON *line = cJSON_GetArrayItem(item(fn, "lineNumber"), i);
        if (strcmp(name, "time.sleep") == 0) {
            seen_native = cJSON_IsNull(file) && cJSON_IsNull(line) &&
                          cJSON_IsFalse(cJSON_GetArrayItem(item(fn, "isJS"), i));
        } else if (strcmp(name, "work") == 0) {
            seen_py = strcmp(str_at(item(t0, "stringArray"), file), "/src/app.py") == 0 &&
                      line->valueint == 20;
        }
    }
    CHECK(seen_native && seen_py);
}

static void test_clean_run(void)
{
    char *msg;
    write_run("out/20250101-000000-100", 0, 0);
    cJSON *j = convert_to_json("out/20250101-000000-100", "clean.json", FT_CONVERT_OK, &msg);
    if (j)
        check_clean_profile(j);
    CHECK(strstr(msg, "offset") == NULL);
    cJSON_Delete(j);
    free(msg);

    /* The output directory: the latest run is taken and named; directories that are not
     * runs do not count. */
    write_run("out/20240101-000000-100", 0, 1);
    mkdirs("out/zzz-notes");
    j = convert_to_json("out", "latest.json", FT_CONVERT_OK, &msg);
    if (j)
        check_clean_profile(j);
    CHECK(strstr(msg, "20250101-000000-100, the latest of 2") != NULL);
    cJSON_Delete(j);
    free(msg);

    /* No run directory names at all: the directory that sorts last, with a note. */
    write_run("odd/b-run", 0, 0);
    mkdirs("odd/a-run");
    j = convert_to_json("odd", "odd.json", FT_CONVERT_OK, &msg);
    if (j)
        check_clean_profile(j);
    CHECK(strstr(msg, "no run directory names") != NULL);
    cJSON_Delete(j);
    free(msg);

    /* One file alone. */
    j = convert_to_json("out/20250101-000000-100/102.ftrace", "one.json", FT_CONVERT_OK, NULL);
    CHECK(j && cJSON_GetArraySize(item(j, "threads")) == 1);
    cJSON_Delete(j);

    /* Gzip output is the same profile. */
    char in[512], out[512];
    path_in(in, sizeof in, "out");
    path_in(out, sizeof out, "latest.json.gz");
    ft_report r;
    FILE *devnull = fopen("/dev/null", "w");
    ft_report_init(&r, devnull, 1);
    ft_convert_opts o = { in, out };
    CHECK(ft_convert(&o, &r, NULL) == FT_CONVERT_OK);
    fclose(devnull);
    gzFile gz = gzopen(out, "rb");
    char *buf = malloc(1 << 20);
    int n = gz ? gzread(gz, buf, (1 << 20) - 1) : -1;
    if (gz)
        gzclose(gz);
    path_in(out, sizeof out, "latest.json");
    char *plain = read_all(out, NULL);
    CHECK(n > 0 && plain && (size_t)n == strlen(plain) && memcmp(buf, plain, (size_t)n) == 0);
    free(buf);
    free(plain);
}

static void test_chunk_order(void)
{
    char *msg;
    cJSON *j;

    /* Chunk 1 of the main thread written before chunk 0: reordered, same profile. */
    write_run("ooo", 1, 0);
    j = convert_to_json("ooo", "ooo.json", FT_CONVERT_OK, &msg);
    if (j)
        check_clean_profile(j);
    cJSON_Delete(j);
    free(msg);

    /* Chunk 1 lost: told, and the rest converted (main never returns: closed at the end). */
    write_run("lost", 0, 1);
    j = convert_to_json("lost", "lost.json", FT_CONVERT_DAMAGED, &msg);
    CHECK(strstr(msg, "100.ftrace") && strstr(msg, "trailer counts"));
    if (j) {
        cJSON *t0 = cJSON_GetArrayItem(item(j, "threads"), 0);
        check_fn(t0, "main", 9.495, 9.999);
        check_fn(t0, "time.sleep", 0.5, 0.5);
    }
    cJSON_Delete(j);
    free(msg);

    /* Chunk 0 lost and chunk 1 present: chunk 1 is used after the reorder window closes. */
    {
        tg g;
        char path[512];
        mkdirs("late");
        tg_begin(&g);
        tg_header(&g, 5, TG_MONO0);
        tg_chunk(&g, 5, 1, TG_MONO0 + 10, "MainThread");
        tg_func(&g, 0, FT_FUNC_PYTHON, "f", "/f.py", 1);
        tg_ev(&g, FT_REC_CALL, 0, 0);
        tg_ev(&g, FT_REC_RETURN, 1000, 0);
        tg_frame(&g);
        tg_trailer(&g, TG_MONO0 + 5000);
        path_in(path, sizeof path, "late/5.ftrace");
        CHECK(tg_write(&g, path));
        tg_fini(&g);
        j = convert_to_json("late", "late.json", FT_CONVERT_DAMAGED, &msg);
        CHECK(strstr(msg, "chunk 0 is missing") != NULL);
        if (j)
            check_fn(cJSON_GetArrayItem(item(j, "threads"), 0), "f", 0.001, 0.001);
        cJSON_Delete(j);
        free(msg);
    }
}

/* Cut the parent's file at many lengths: always a profile or a clean failure, and a cut
 * inside the data is reported with the file's name and an offset. */
static void test_truncated(void)
{
    char path[512], *msg;
    tg g;
    int ok_status = 1, named = 1;

    gen_parent(&g, 0, 0);
    mkdirs("cut");
    path_in(path, sizeof path, "cut/100.ftrace");
    for (size_t len = 0; len < g.file.len; len += len < 64 ? 1 : 7) {
        CHECK(tg_write_bytes(path, g.file.ptr, len));
        char in[512], out[512];
        path_in(in, sizeof in, "cut");
        path_in(out, sizeof out, "cut.json");
        FILE *mf;
        size_t ml = 0;
        msg = NULL;
        mf = open_memstream(&msg, &ml);
        ft_report r;
        ft_report_init(&r, mf, 0);
        ft_convert_opts o = { in, out };
        ft_convert_result res = ft_convert(&o, &r, NULL);
        fclose(mf);
        if (res == FT_CONVERT_OK)
            ok_status = 0;
        if (!strstr(msg, "100.ftrace"))
            named = 0;
        free(msg);
    }
    CHECK(ok_status);
    CHECK(named);

    /* Cut in the middle: what came before is in the profile. */
    CHECK(tg_write_bytes(path, g.file.ptr, g.file.len - 20));
    cJSON *j = convert_to_json("cut", "cut.json", FT_CONVERT_DAMAGED, &msg);
    CHECK(strstr(msg, "offset") && strstr(msg, "cut short"));
    if (j) {
        cJSON *t0 = cJSON_GetArrayItem(item(j, "threads"), 0);
        double s, run;
        totals(t0, "time.sleep", &s, &run);
        CHECK_NEAR(s, 0.5);
    }
    cJSON_Delete(j);
    free(msg);
    tg_fini(&g);
}

static void test_bad_inputs(void)
{
    char path[512], *msg;
    cJSON *j;

    mkdirs("empty");
    CHECK(convert_to_json("empty", "x.json", FT_CONVERT_FAILED, NULL) == NULL);
    CHECK(convert_to_json("does-not-exist", "x.json", FT_CONVERT_FAILED, NULL) == NULL);

    /* A foreign file alone: named, nothing written. */
    mkdirs("foreign/20260101-000000-1");
    path_in(path, sizeof path, "foreign/20260101-000000-1/1.ftrace");
    CHECK(tg_write_bytes(path, "this is not a trace at all", 26));
    CHECK(convert_to_json("foreign", "x.json", FT_CONVERT_FAILED, &msg) == NULL);
    CHECK(strstr(msg, "1.ftrace: offset 0: not a functiontrace trace") != NULL);
    free(msg);
    path_in(path, sizeof path, "x.json");
    CHECK(access(path, F_OK) != 0);

    /* ... and next to a good one: converted, damaged. */
    write_run("foreign/20260101-000000-1", 0, 0);
    j = convert_to_json("foreign", "x.json", FT_CONVERT_DAMAGED, NULL);
    CHECK(j && cJSON_GetArraySize(item(j, "threads")) == 3);
    cJSON_Delete(j);

    /* Events of an undefined function, a duplicate definition, junk between frames. */
    {
        tg g;
        mkdirs("undef");
        tg_begin(&g);
        tg_header(&g, 9, TG_MONO0);
        tg_chunk(&g, 9, 0, TG_MONO0, "MainThread");
        tg_func(&g, 0, FT_FUNC_PYTHON, "f", "/f.py", 1);
        tg_func(&g, 0, FT_FUNC_PYTHON, "f again", "/f.py", 1);
        tg_ev(&g, FT_REC_CALL, 0, 0);
        tg_ev(&g, FT_REC_CALL, 10, 42);
        tg_ev(&g, FT_REC_RETURN, 10, 42);
        tg_ev(&g, FT_REC_RETURN, 10, 0);
        tg_frame(&g);
        ft_buf_append(&g.file, "junk", 4);
        tg_trailer(&g, TG_MONO0 + 100);
        path_in(path, sizeof path, "undef/9.ftrace");
        CHECK(tg_write(&g, path));
        tg_fini(&g);
        j = convert_to_json("undef", "undef.json", FT_CONVERT_DAMAGED, &msg);
        CHECK(strstr(msg, "defined twice") && strstr(msg, "never defined") &&
              strstr(msg, "no zstd frame starts here"));
        if (j)
            check_fn(cJSON_GetArrayItem(item(j, "threads"), 0), "<unknown function 42>",
                     0.00001, 0.00001);
        cJSON_Delete(j);
        free(msg);
    }
}

/* ---- multi-process runs ---- */

/* One program: header, then on its main thread (tid = pid) <module> calling fn for dur ns,
 * starting 1 µs after the header; the trailer is the caller's. */
static void gen_program(tg *g, uint64_t pid, uint64_t ppid, uint64_t start, char **argv,
                        size_t argc, const char *why, const char *fn, uint64_t dur)
{
    tg_begin(g);
    tg_header_proc(g, pid, ppid, start, "testhost", argv, argc, why);
    tg_chunk(g, pid, 0, start, "MainThread");
    tg_func(g, 0, FT_FUNC_PYTHON, "<module>", "/src/x.py", 1);
    tg_func(g, 1, FT_FUNC_PYTHON, fn, "/src/x.py", 5);
    tg_ev(g, FT_REC_CALL, 1000, 0);
    tg_ev(g, FT_REC_CALL, 1000, 1);
    tg_ev(g, FT_REC_RETURN, dur, 1);
    tg_ev(g, FT_REC_RETURN, 1000, 0);
    tg_frame(g);
}

static void write_tg(tg *g, const char *dir_rel, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s/%s", tmpdir, dir_rel, name);
    CHECK(tg_write(g, path));
    tg_fini(g);
}

#define MS 1000000ull

/* A run with every way a process can begin and end (times in ms after TG_MONO0):
 *   100      run, app.py --n 3, 0..60, exit status 0
 *   101      fork of 100 (ForkPoolWorker-1), 1..4, os._exit(3)
 *   102      spawn worker, child of 100 (SpawnPoolWorker-1), 2..6, killed by SIGTERM
 *   103      fork of 100, 3..5 with a second thread, then exec:
 *   103.1    exec of 103: after_exec.py x, 5.5..8, exit status 0
 *   101.1    pid 101 again: kid.py, child of 100, from 10, no trailer (last event 11.003)
 *   104      /home/u/kid2.py, child of 999 (not traced), 12..14, exit status 0 */
static void write_mp_run(const char *rel)
{
    static char *app[] = { "app.py", "--n", "3" };
    static char *spawn[] = { "-c", "from multiprocessing.spawn import spawn_main; "
                             "spawn_main(tracker_fd=5, pipe_handle=7)", "--multiprocessing-fork" };
    static char *after[] = { "after_exec.py", "x" };
    static char *kid[] = { "kid.py" };
    static char *kid2[] = { "/home/u/kid2.py" };   /* named by its base name */
    const uint64_t B = TG_MONO0;
    tg g;

    mkdirs(rel);
    gen_program(&g, 100, 1, B, app, 3, "run", "root_main", 50 * MS);
    tg_trailer_end(&g, B + 60 * MS, "exit", 0, -1, "MainProcess");
    write_tg(&g, rel, "100.ftrace");

    gen_program(&g, 101, 100, B + 1 * MS, app, 3, "fork", "in_fork_child", 2 * MS);
    tg_trailer_end(&g, B + 4 * MS, "os._exit", 3, -1, "ForkPoolWorker-1");
    write_tg(&g, rel, "101.ftrace");

    gen_program(&g, 102, 100, B + 2 * MS, spawn, 3, "child", "spawn_task", 3 * MS);
    tg_trailer_end(&g, B + 6 * MS, "signal", -1, 15, "SpawnPoolWorker-1");
    write_tg(&g, rel, "102.ftrace");

    gen_program(&g, 103, 100, B + 3 * MS, app, 3, "fork", "before_exec", 1 * MS);
    tg_chunk(&g, 1030, 0, B + 3 * MS, "Thread-1");
    tg_func(&g, 2, FT_FUNC_PYTHON, "helper", "/src/x.py", 9);
    tg_ev(&g, FT_REC_CALL, 0, 2);
    tg_ev(&g, FT_REC_RETURN, 5000, 2);
    tg_frame(&g);
    tg_trailer_end(&g, B + 5 * MS, "exec", -1, -1, NULL);
    write_tg(&g, rel, "103.ftrace");

    /* The exec'd program numbers its functions from 0 again. */
    gen_program(&g, 103, 100, B + 5 * MS + MS / 2, after, 2, "exec", "in_exec_program", 1 * MS);
    tg_trailer_end(&g, B + 8 * MS, "exit", 0, -1, NULL);
    write_tg(&g, rel, "103.1.ftrace");

    gen_program(&g, 101, 100, B + 10 * MS, kid, 1, "child", "kid_main", 1 * MS);
    write_tg(&g, rel, "101.1.ftrace");

    gen_program(&g, 104, 999, B + 12 * MS, kid2, 1, "child", "kid2_main", 1 * MS);
    tg_trailer_end(&g, B + 14 * MS, "exit", 0, -1, NULL);
    write_tg(&g, rel, "104.ftrace");
}

static const char *jstr(cJSON *o, const char *k)
{
    const char *v = cJSON_GetStringValue(item(o, k));
    return v ? v : "(missing)";
}

static int streq_(const char *a, const char *b, const char *what, int line)
{
    if (strcmp(a, b) == 0)
        return 1;
    fprintf(stderr, "    line %d: %s is \"%s\", want \"%s\"\n", line, what, a, b);
    return 0;
}
#define CHECK_STR(got, want) CHECK(streq_((got), (want), #got, __LINE__))

/* Marker k of thread t: its data, after checking the columns around it. */
static cJSON *marker(cJSON *t, int k)
{
    cJSON *m = item(t, "markers");
    CHECK(strcmp(str_at(item(t, "stringArray"), cJSON_GetArrayItem(item(m, "name"), k)),
                  "Process") == 0);
    CHECK(cJSON_GetArrayItem(item(m, "phase"), k)->valueint == 1);
    CHECK(cJSON_GetArrayItem(item(m, "category"), k)->valueint == 0);
    return cJSON_GetArrayItem(item(m, "data"), k);
}

static double marker_time(cJSON *t, const char *col, int k)
{
    return cJSON_GetArrayItem(item(item(t, "markers"), col), k)->valuedouble;
}

static void check_marker(cJSON *t, int k, const char *program, const char *start,
                         const char *end, const char *pid, const char *ppid, const char *label,
                         double t0, double t1)
{
    cJSON *d = marker(t, k);
    if (!CHECK(d != NULL))
        return;
    CHECK_STR(jstr(d, "type"), "Process");
    CHECK_STR(jstr(d, "program"), program);
    CHECK_STR(jstr(d, "start"), start);
    CHECK_STR(jstr(d, "end"), end);
    CHECK_STR(jstr(d, "pid"), pid);
    CHECK_STR(jstr(d, "ppid"), ppid);
    if (label)
        CHECK_STR(jstr(d, "label"), label);
    else
        CHECK(item(d, "label") == NULL);
    CHECK(strstr(jstr(d, "file"), ".ftrace") != NULL);
    CHECK_NEAR(marker_time(t, "startTime", k), t0);
    CHECK_NEAR(marker_time(t, "endTime", k), t1);
}

static void test_processes(void)
{
    static const char *const want_pid[] = { "100", "101", "102", "103", "103", "101.1", "104" };
    static const char *const want_name[] = {
        "python3 app.py --n 3", "ForkPoolWorker-1 [fork of 100]",
        "SpawnPoolWorker-1 (multiprocessing spawn worker)", "python3 after_exec.py x",
        "python3 after_exec.py x", "python3 kid.py", "python3 kid2.py" };
    static const double want_life[][2] = { {0, 60}, {1, 4}, {2, 6}, {3, 8}, {3, 8},
                                           {10, 11.003}, {12, 14} };
    char *msg;
    cJSON *j, *threads, *meta;

    write_mp_run("mp/20250101-000000-100");
    j = convert_to_json("mp", "mp.json", FT_CONVERT_DAMAGED, &msg);
    /* Only the process without a trailer is a problem. */
    CHECK(strstr(msg, "101.1.ftrace") && strstr(msg, "no trailer"));
    CHECK(strstr(msg, "103.1.ftrace: offset") == NULL && strstr(msg, "defined") == NULL);
    free(msg);
    if (!CHECK(j != NULL))
        return;
    threads = item(j, "threads");
    meta = item(j, "meta");
    if (!CHECK(cJSON_GetArraySize(threads) == 7))
        goto out;
    for (int i = 0; i < 7; i++) {
        cJSON *t = cJSON_GetArrayItem(threads, i);
        check_shapes(t);
        CHECK_STR(jstr(t, "pid"), want_pid[i]);
        CHECK_STR(jstr(t, "processName"), want_name[i]);
        CHECK_NEAR(item(t, "processStartupTime")->valuedouble, want_life[i][0]);
        CHECK_NEAR(item(t, "processShutdownTime")->valuedouble, want_life[i][1]);
        CHECK(cJSON_IsTrue(item(t, "isMainThread")) == (i != 4));
        /* Markers only on main threads. */
        CHECK(item(item(t, "markers"), "length")->valueint == (i == 3 ? 2 : i == 4 ? 0 : 1));
    }
    cJSON *t0 = cJSON_GetArrayItem(threads, 0), *t1 = cJSON_GetArrayItem(threads, 1);
    cJSON *t2 = cJSON_GetArrayItem(threads, 2), *t3 = cJSON_GetArrayItem(threads, 3);
    cJSON *t4 = cJSON_GetArrayItem(threads, 4), *t5 = cJSON_GetArrayItem(threads, 5);
    cJSON *t6 = cJSON_GetArrayItem(threads, 6);
    check_marker(t0, 0, "python3 app.py --n 3", "run", "exit status 0", "100", "1", "MainProcess",
                 0, 60);
    check_marker(t1, 0, "python3 app.py --n 3", "fork of pid 100", "os._exit(3)", "101", "100",
                 "ForkPoolWorker-1", 1, 4);
    check_marker(t2, 0, "python3 -c from multiprocessing.spawn import spawn_main; "
                 "spawn_main(tracker_fd=5, pipe_handle=7) --multiprocessing-fork",
                 "child of pid 100", "killed by signal 15 (SIGTERM)", "102", "100",
                 "SpawnPoolWorker-1", 2, 6);
    /* exec: one process, two markers, the main thread going on in the new program. */
    check_marker(t3, 0, "python3 app.py --n 3", "fork of pid 100", "exec", "103", "100", NULL,
                 3, 5);
    check_marker(t3, 1, "python3 after_exec.py x", "exec", "exit status 0", "103", "100", NULL,
                 5.5, 8);
    CHECK(item(t3, "tid")->valueint == 103 && item(t4, "tid")->valueint == 1030);
    CHECK_STR(jstr(t4, "name"), "Thread-1");
    check_fn(t3, "before_exec", 1.0, 1.0);
    check_fn(t3, "in_exec_program", 1.0, 1.0);
    check_fn(t3, "<module>", 0.004, 2.004);
    check_fn(t4, "helper", 0.005, 0.005);
    {
        /* The new program's first call comes after the old one's calls. */
        cJSON *times = item(item(t3, "samples"), "time");
        int n = cJSON_GetArraySize(times);
        CHECK(n == 8);
        CHECK_NEAR(cJSON_GetArrayItem(times, 0)->valuedouble, 3.001);
        CHECK_NEAR(cJSON_GetArrayItem(times, 4)->valuedouble, 5.501);
        CHECK_NEAR(cJSON_GetArrayItem(times, 6)->valuedouble, 6.502);
    }
    check_marker(t5, 0, "python3 kid.py", "child of pid 100", "cut short: no trailer", "101.1",
                 "100", NULL, 10, 11.003);
    check_marker(t6, 0, "python3 /home/u/kid2.py", "child of pid 999", "exit status 0", "104", "999",
                 NULL, 12, 14);
    check_fn(t5, "kid_main", 1.0, 1.0);

    /* Every main thread is visible, then the other threads. */
    {
        static const int want_vis[] = { 0, 1, 2, 3, 5, 6, 4 };
        cJSON *vis = item(meta, "initialVisibleThreads");
        int ok = cJSON_GetArraySize(vis) == 7;
        for (int i = 0; ok && i < 7; i++)
            ok = cJSON_GetArrayItem(vis, i)->valueint == want_vis[i];
        CHECK(ok);
    }
    /* The marker schema. */
    {
        cJSON *schemas = item(meta, "markerSchema"), *sc = cJSON_GetArrayItem(schemas, 0), *f;
        int keys = 0, pids = 0;
        /* "Process", then one per marker kind of FORMAT.md §4.6 (print, write, log, import,
         * exception, gc, thread) and the generic one. */
        CHECK(cJSON_GetArraySize(schemas) == 9);
        CHECK_STR(jstr(sc, "name"), "Process");
        CHECK(cJSON_GetArraySize(item(sc, "display")) == 3);
        CHECK(strstr(jstr(sc, "tableLabel"), "{marker.data.program}") != NULL);
        cJSON_ArrayForEach(f, item(sc, "fields")) {
            keys += cJSON_IsString(item(f, "key")) && cJSON_IsString(item(f, "label")) &&
                    cJSON_IsString(item(f, "format"));
            pids += strcmp(jstr(f, "format"), "pid") == 0;
        }
        CHECK(keys == 7 && pids == 2);
    }
out:
    cJSON_Delete(j);
}

/* A pool of 8 fork workers and 120 children on 10 pids: every process is there, named
 * and visible, past FT_FF_MAX_VISIBLE. */
static void test_many_processes(void)
{
    static char *app[] = { "pool.py" };
    static char *kid[] = { "kid.py", "--i", "0" };
    const uint64_t B = TG_MONO0;
    char name[64], *msg;
    int n = 1;
    tg g;

    mkdirs("many/20250101-000000-1000");
    tg_run_id = "20250101-000000-1000";
    gen_program(&g, 1000, 1, B, app, 1, "run", "root", 500 * MS);
    tg_trailer_end(&g, B + 600 * MS, "exit", 0, -1, NULL);
    write_tg(&g, "many/20250101-000000-1000", "1000.ftrace");
    for (int w = 0; w < 8; w++, n++) {
        snprintf(name, sizeof name, "ForkPoolWorker-%d", w + 1);
        gen_program(&g, 1001 + (uint64_t)w, 1000, B + (uint64_t)(w + 1) * MS / 10, app, 1, "fork",
                    "worker", 100 * MS);
        tg_trailer_end(&g, B + 200 * MS, "exit", 0, -1, name);
        snprintf(name, sizeof name, "%d.ftrace", 1001 + w);
        write_tg(&g, "many/20250101-000000-1000", name);
    }
    for (int k = 0; k < 120; k++, n++) {
        uint64_t pid = 2000 + (uint64_t)(k % 10), start = B + 210 * MS + (uint64_t)k * MS;
        gen_program(&g, pid, 1000, start, kid, 3, "child", "kid", MS / 2);
        tg_trailer_end(&g, start + MS * 9 / 10, "exit", k % 7, -1, NULL);
        if (k < 10)
            snprintf(name, sizeof name, "%" PRIu64 ".ftrace", pid);
        else
            snprintf(name, sizeof name, "%" PRIu64 ".%d.ftrace", pid, k / 10);
        write_tg(&g, "many/20250101-000000-1000", name);
    }
    tg_run_id = "20250101-000000-100";
    cJSON *j = convert_to_json("many", "many.json", FT_CONVERT_OK, &msg);
    free(msg);
    if (!CHECK(j != NULL))
        return;
    cJSON *threads = item(j, "threads");
    CHECK(cJSON_GetArraySize(threads) == n);
    CHECK(cJSON_GetArraySize(item(item(j, "meta"), "initialVisibleThreads")) == n);
    CHECK_STR(jstr(cJSON_GetArrayItem(threads, 3), "processName"),
              "ForkPoolWorker-3 [fork of 1000]");
    CHECK_STR(jstr(cJSON_GetArrayItem(threads, 9), "pid"), "2000");
    CHECK_STR(jstr(cJSON_GetArrayItem(threads, 19), "pid"), "2000.1");
    CHECK_STR(jstr(cJSON_GetArrayItem(threads, n - 1), "pid"), "2009.11");
    CHECK_STR(jstr(marker(cJSON_GetArrayItem(threads, 10), 0), "end"), "exit status 1");
    CHECK_NEAR(item(cJSON_GetArrayItem(threads, n - 1), "processStartupTime")->valuedouble,
               329.0);
    cJSON_Delete(j);
}

/* --list, and --run by id, by prefix, ambiguous, unknown. */
static void test_run_selection(void)
{
    static char *solo[] = { "solo.py" };
    char in[512], *out = NULL, *msg;
    size_t outlen = 0;
    ft_report r;
    FILE *f, *devnull = fopen("/dev/null", "w");
    tg g;

    write_mp_run("sel/20250101-000000-100");
    mkdirs("sel/20250102-000000-5");
    tg_run_id = "20250102-000000-5";
    gen_program(&g, 5, 1, TG_MONO0 + 86400000 * MS, solo, 1, NULL, "solo_main", MS);
    tg_run_id = "20250101-000000-100";
    tg_trailer(&g, TG_MONO0 + 86400000 * MS + 2 * MS);
    write_tg(&g, "sel/20250102-000000-5", "5.ftrace");
    mkdirs("sel/20250102-000000-6");   /* an empty run */

    path_in(in, sizeof in, "sel");
    f = open_memstream(&out, &outlen);
    ft_report_init(&r, devnull, 0);
    CHECK(ft_convert_list(in, f, &r) == FT_CONVERT_OK);
    fclose(f);
    CHECK(strstr(out, "RUN") == out && strstr(out, "COMMAND\n"));
    CHECK(strstr(out, "20250101-000000-100          7         6  2023-11-14 22:13:20  "
                      "python3 app.py --n 3\n") != NULL);
    CHECK(strstr(out, "20250102-000000-5            1         1  2023-11-15 22:13:20  "
                      "python3 solo.py\n") != NULL);
    CHECK(strstr(out, "20250102-000000-6            0         0  -") != NULL);
    if (failed)
        fprintf(stderr, "%s", out);
    free(out);

    /* A run directory lists itself; a file cannot be listed. */
    path_in(in, sizeof in, "sel/20250102-000000-5");
    f = open_memstream(&out, &outlen);
    CHECK(ft_convert_list(in, f, &r) == FT_CONVERT_OK);
    fclose(f);
    CHECK(strstr(out, "20250102-000000-5 ") && !strstr(out, "20250101"));
    free(out);
    path_in(in, sizeof in, "sel/20250102-000000-5/5.ftrace");
    f = open_memstream(&out, &outlen);
    CHECK(ft_convert_list(in, f, &r) == FT_CONVERT_FAILED);
    fclose(f);
    free(out);

    /* --run */
    {
        static const struct { const char *id; ft_convert_result want; const char *says; } runs[] = {
            { "20250101-000000-100", FT_CONVERT_DAMAGED, "converting run 20250101-000000-100" },
            { "20250102-000000-5", FT_CONVERT_OK, "converting run 20250102-000000-5" },
            { "20250101", FT_CONVERT_DAMAGED, "converting run 20250101-000000-100" },
            { "2025", FT_CONVERT_FAILED, "more than one run 2025 here" },
            { "20250102-000000-6", FT_CONVERT_FAILED, "holds no .ftrace files" },
            { "nope", FT_CONVERT_FAILED, "no run nope here" },
        };
        for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
            char outp[512];
            size_t ml = 0;
            ft_convert_opts o = { in, outp, runs[i].id };
            path_in(in, sizeof in, "sel");
            path_in(outp, sizeof outp, "sel.json");
            msg = NULL;
            f = open_memstream(&msg, &ml);
            ft_report_init(&r, f, 0);
            ft_convert_result res = ft_convert(&o, &r, NULL);
            fclose(f);
            if (!CHECK(res == runs[i].want && strstr(msg, runs[i].says)))
                fprintf(stderr, "    --run %s: %d\n%s", runs[i].id, res, msg);
            free(msg);
        }
        /* A run directory or a file given with --run: refused. */
        path_in(in, sizeof in, "sel/20250102-000000-5");
        cJSON *j = convert_to_json("sel/20250102-000000-5", "x.json", FT_CONVERT_OK, NULL);
        CHECK(j != NULL);
        cJSON_Delete(j);
        {
            ft_convert_opts o = { in, "/dev/null", "20250102-000000-5" };
            ft_report_init(&r, devnull, 1);
            CHECK(ft_convert(&o, &r, NULL) == FT_CONVERT_FAILED);
        }
    }
    fclose(devnull);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random damage to a good trace: byte flips, cuts, copies of regions. Never a crash. */
static void test_fuzz(void)
{
    char path[512], in[512], out[512];
    FILE *devnull = fopen("/dev/null", "w");
    tg g;
    int sane = 1;

    gen_parent(&g, 0, 0);
    mkdirs("fuzz");
    path_in(path, sizeof path, "fuzz/100.ftrace");
    path_in(in, sizeof in, "fuzz");
    path_in(out, sizeof out, "fuzz.json");
    uint8_t *buf = malloc(g.file.len * 2 + 64);
    for (int iter = 0; iter < 400; iter++) {
        size_t len = g.file.len;
        memcpy(buf, g.file.ptr, len);
        int edits = 1 + (int)(rng() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = rng() % len;
            switch (rng() % 4) {
            case 0: buf[at] ^= (uint8_t)(1u << (rng() % 8)); break;
            case 1: buf[at] = (uint8_t)rng(); break;
            case 2: len = at + 1; break;
            case 3: {
                size_t n = rng() % 32;
                if (at + n <= len && len + n <= g.file.len * 2) {
                    memmove(buf + at + n, buf + at, len - at);
                    len += n;
                }
                break;
            }
            }
        }
        tg_write_bytes(path, buf, len);
        ft_report r;
        ft_report_init(&r, devnull, 1);
        ft_convert_opts o = { in, out };
        ft_convert_result res = ft_convert(&o, &r, NULL);
        if (res == FT_CONVERT_OK && r.problems)
            sane = 0;
    }
    CHECK(sane);
    free(buf);
    tg_fini(&g);
    fclose(devnull);
}

/* Every allocation failing in turn, for plain and for gzip output, for the two-process
 * run and the multi-process one (exec, reused pid; one file cut short, so DAMAGED when it
 * succeeds): a clean failure each time (and no leak under ASan), until there are enough
 * allocations to succeed. */
static void test_alloc_failures(void)
{
    static const char *const outputs[] = { "alloc.json", "alloc.json.gz" };
    static const struct { const char *rel; ft_convert_result ok; } inputs[] = {
        { "alloc", FT_CONVERT_OK }, { "alloc-mp", FT_CONVERT_DAMAGED } };
    char in[512], out[512];
    FILE *devnull = fopen("/dev/null", "w");

    write_run("alloc", 0, 0);
    write_mp_run("alloc-mp");
    for (int i = 0; i < 2; i++) {
        path_in(in, sizeof in, inputs[i].rel);
        for (int k = 0; k < 2; k++) {
            int clean = 1, succeeded = 0;
            long n;
            path_in(out, sizeof out, outputs[k]);
            for (n = 0; n < 2000 && !succeeded; n++) {
                ft_report r;
                ft_report_init(&r, devnull, 1);
                ft_convert_opts o = { in, out, NULL };
                ft_alloc_fail_after(n);
                ft_convert_result res = ft_convert(&o, &r, NULL);
                ft_alloc_fail_after(-1);
                if (res == inputs[i].ok)
                    succeeded = 1;
                else if (res != FT_CONVERT_FAILED)
                    clean = 0;
            }
            CHECK(clean);
            CHECK(succeeded && n > 20);
        }
    }
    /* --list too. */
    {
        int succeeded = 0;
        path_in(in, sizeof in, "alloc-mp");
        for (long n = 0; n < 500 && !succeeded; n++) {
            ft_report r;
            ft_report_init(&r, devnull, 1);
            ft_alloc_fail_after(n);
            ft_convert_result res = ft_convert_list(in, devnull, &r);
            ft_alloc_fail_after(-1);
            succeeded = res == FT_CONVERT_OK;
        }
        CHECK(succeeded);
    }
    fclose(devnull);
}

/* ---- a big run for measuring ---- */

/* Call patterns. "tree": each function calls one of three callees, the first far more
 * often, depth wandering up to 40: ~600k distinct stacks a thread, many more than most
 * programs make. "loop": each function calls its three callees in turn, as a loop body
 * does, depth at most 8: a few thousand stacks. "random": every call picks any of 64
 * functions, half the calls make a new stack: the converter's worst case. */
enum gen_shape { SHAPE_TREE, SHAPE_LOOP, SHAPE_RANDOM };

static int generate(const char *dir, uint64_t events, int nthreads, enum gen_shape shape)
{
    static const char *names[] = { "<module>", "main", "parse", "Parser.token", "render",
                                   "Node.visit", "helper", "compute" };
    char path[1024];
    tg g;
    uint64_t t = TG_MONO0;
    uint64_t per_thread = events / (uint64_t)nthreads;
    uint64_t seq[64] = {0};
    int depth[64] = {0};
    int fid_stack[64][64];
    int turn[64][64] = {{0}};
    int random = shape == SHAPE_RANDOM;

    if (nthreads < 1 || nthreads > 64)
        return 1;
    mkdir(dir, 0777);
    tg_run_id = "20250101-000000-4242";   /* a complete run: its first process is 4242 */
    tg_begin(&g);
    tg_header(&g, 4242, TG_MONO0);
    for (int f = 0; f < 64; f++) {
        char name[64];
        snprintf(name, sizeof name, "%s_%d", names[f % 8], f);
        tg_func(&g, (uint64_t)f, f % 5 == 4 ? FT_FUNC_NATIVE : FT_FUNC_PYTHON, name,
                "/src/big.py", (uint64_t)f * 10 + 1);
    }
    tg_frame(&g);
    /* Chunks of ~16k events per thread, round robin, like a recorder's 64 KiB buffers. */
    for (uint64_t done = 0; done < per_thread; done += 16384) {
        for (int th = 0; th < nthreads; th++) {
            char tname[32];
            snprintf(tname, sizeof tname, th ? "Thread-%d" : "MainThread", th);
            tg_chunk(&g, 4242 + (uint64_t)th, seq[th]++, t, tname);
            for (int i = 0; i < 16384 && done + (uint64_t)i < per_thread; i++) {
                uint64_t r = rng();
                uint64_t dt = 50 + r % 2000;
                t += dt;
                int d = depth[th];
                /* Depth hovers around 12 in the program-like pattern, as real ones do. */
                int push_pct = random ? 50 : d < 12 ? 55 : 45;
                int max_depth = shape == SHAPE_LOOP ? 8 : 40;
                if (d == 0 || (d < max_depth && (int)((r >> 20) % 100) < push_pct)) {
                    int f;
                    if (random) {
                        f = (int)((r >> 32) % 64);
                    } else if (shape == SHAPE_LOOP) {
                        int caller = d ? fid_stack[th][d - 1] : 0;
                        int k = turn[th][d]++ % 3;
                        f = (caller * 5 + k * 17 + 1) % 64;
                    } else {
                        int caller = d ? fid_stack[th][d - 1] : 0;
                        int pick = (int)((r >> 32) % 10);
                        int k = pick < 7 ? 0 : pick < 9 ? 1 : 2;
                        f = (caller * 5 + k * 17 + 1) % 64;
                    }
                    fid_stack[th][d] = f;
                    depth[th]++;
                    tg_ev(&g, FT_REC_CALL, dt, (uint64_t)f);
                } else {
                    depth[th]--;
                    tg_ev(&g, FT_REC_RETURN, dt, (uint64_t)fid_stack[th][d - 1]);
                }
            }
            tg_frame(&g);
        }
    }
    tg_trailer(&g, t + 1000);
    snprintf(path, sizeof path, "%s/4242.ftrace", dir);
    int ok = tg_write(&g, path);
    fprintf(stderr, "wrote %s: %llu events, %zu bytes\n", path, (unsigned long long)g.events,
            g.file.len);
    tg_fini(&g);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    char cmd[300];

    if ((argc == 5 || argc == 6) && strcmp(argv[1], "--gen") == 0)
        return generate(argv[2], strtoull(argv[3], NULL, 10), atoi(argv[4]),
                        argc < 6 || strcmp(argv[5], "tree") == 0 ? SHAPE_TREE :
                        strcmp(argv[5], "loop") == 0 ? SHAPE_LOOP : SHAPE_RANDOM);
    if (argc == 3 && strlen(argv[2]) >= sizeof tmpdir - 40) {
        fprintf(stderr, "test_convert: %s: path too long\n", argv[2]);
        return 2;
    }
    if (argc == 3 && strcmp(argv[1], "--sample") == 0) {
        /* The two-process run of test_clean_run, for looking at with the profiler. */
        snprintf(tmpdir, sizeof tmpdir, "%s", argv[2]);
        write_run("20250101-000000-100", 0, 0);
        return failed ? 1 : 0;
    }
    if (argc == 3 && strcmp(argv[1], "--sample-processes") == 0) {
        /* The multi-process run of test_processes (fork, spawn, exec, a reused pid). */
        snprintf(tmpdir, sizeof tmpdir, "%s", argv[2]);
        write_mp_run("20250101-000000-100");
        return failed ? 1 : 0;
    }

    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_convert-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_intmap();
    test_strpool();
    test_jsonw();
    test_jsonw_gzip();
    test_tstream();
    test_clean_run();
    test_chunk_order();
    test_truncated();
    test_bad_inputs();
    test_processes();
    test_many_processes();
    test_run_selection();
    test_fuzz();
    test_alloc_failures();

    if (!failed) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    } else {
        fprintf(stderr, "files kept in %s\n", tmpdir);
    }
    printf("test_convert: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
