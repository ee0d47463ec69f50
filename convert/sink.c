/* sink.c — the table of outputs, and the Firefox sink behind the common interface. */
#include "sink.h"

#include <stdlib.h>
#include <string.h>

static ft_status ff_begin(ft_jsonw *w, const ft_sink_opts *o, void **out)
{
    ft_ff_sink *s = NULL;
    ft_status st = ft_ff_begin(w, &s);
    *out = s;
    return st;
}

static ft_status ff_add(void *s, ft_proc *p, const ft_ff_process *info, uint64_t base)
{
    return ft_ff_add_process(s, p, info, base);
}

static uint32_t ff_threads(const void *s)
{
    return ft_ff_thread_count(s);
}

static uint64_t ff_samples(const void *s)
{
    return ft_ff_sample_count(s);
}

static ft_status ff_end(void *s, int64_t start_wall_ns, const char *arguments)
{
    return ft_ff_end(s, start_wall_ns, arguments);
}

static void ff_free(void *s)
{
    ft_ff_free(s);
}

const ft_sink_ops ft_sink_firefox = {
    "firefox", 1, ff_begin, ff_add, ff_threads, ff_samples, ff_end, ff_free,
};

const ft_sink_ops *ft_sink_find(const char *name)
{
    static const ft_sink_ops *const all[] = { &ft_sink_firefox, &ft_sink_chrome,
                                              &ft_sink_summary };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    }
    return NULL;
}

int ft_sink_has_samples(const ft_proc *p)
{
    for (uint32_t i = 0; i < p->nthreads; i++) {
        if (p->threads[i]->nsamples)
            return 1;
    }
    return 0;
}

/* Linux pids stay below 2^22 (PID_MAX_LIMIT): "1234.n" becomes 1234 + n * 2^22. */
uint64_t ft_sink_int_pid(const char *pid)
{
    char *end;
    uint64_t v = strtoull(pid, &end, 10);
    if (*end == '.')
        v += strtoull(end + 1, NULL, 10) << 22;
    return v;
}
