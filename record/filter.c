/* filter.c — include/exclude patterns and the depth limit (see filter.h). */
#include "filter.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* Longest module name or path judged; longer ones are judged on their start. */
#define NAME_CAP 4096

/* A pattern with a '/' is matched against the file path; any other against the module
 * name, and then also against its submodules (pattern "json" covers "json.decoder"). */
typedef struct pattern {
    char *glob;
    char *sub;        /* glob + ".*" for module patterns, NULL for path patterns */
} pattern;

typedef struct pattern_list {
    pattern *items;
    size_t n;
} pattern_list;

static pattern_list includes, excludes;
static unsigned long max_depth;

/* Per thread: the depth, valid while gen is the session's. */
typedef struct depth_slot {
    uint32_t gen;
    unsigned long depth;
} depth_slot;

static __thread depth_slot tls_depth __attribute__((tls_model("initial-exec")));

static void free_list(pattern_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].glob);
        free(l->items[i].sub);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static int add_pattern(pattern_list *l, const char *glob)
{
    pattern *p = &l->items[l->n];
    size_t len = strlen(glob);

    p->glob = strdup(glob);
    p->sub = NULL;
    if (p->glob && !strchr(glob, '/')) {
        p->sub = malloc(len + 3);
        if (p->sub)
            memcpy(p->sub, glob, len), memcpy(p->sub + len, ".*", 3);
    }
    if (!p->glob || (!strchr(glob, '/') && !p->sub)) {
        free(p->glob);
        free(p->sub);
        return -1;
    }
    l->n++;
    return 0;
}

/* Fill l from a sequence of str; -1 with an exception set. */
static int fill_list(pattern_list *l, PyObject *seq_obj, const char *what)
{
    PyObject *seq;
    Py_ssize_t n;
    int rc = -1;

    free_list(l);
    if (!seq_obj || seq_obj == Py_None)
        return 0;
    seq = PySequence_Fast(seq_obj, "functiontrace: include and exclude must be sequences of str");
    if (!seq)
        return -1;
    n = PySequence_Fast_GET_SIZE(seq);
    l->items = calloc(n ? (size_t)n : 1, sizeof *l->items);
    if (!l->items) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        const char *s;
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError, "functiontrace: %s patterns must be str, not %.100s",
                         what, Py_TYPE(item)->tp_name);
            goto out;
        }
        s = PyUnicode_AsUTF8(item);
        if (!s)
            goto out;
        if (!*s) {
            PyErr_Format(PyExc_ValueError, "functiontrace: an empty %s pattern matches nothing",
                         what);
            goto out;
        }
        if (add_pattern(l, s)) {
            PyErr_NoMemory();
            goto out;
        }
    }
    rc = 0;
out:
    if (rc)
        free_list(l);
    Py_DECREF(seq);
    return rc;
}

int ft_filter_set(PyObject *include, PyObject *exclude, unsigned long depth)
{
    if (fill_list(&includes, include, "include") || fill_list(&excludes, exclude, "exclude")) {
        free_list(&includes);
        free_list(&excludes);
        return -1;
    }
    max_depth = depth;
    return 0;
}

int ft_filter_active_value(void)
{
    return max_depth ? FT_ACTIVE_LIMITED : FT_ACTIVE;
}

int ft_filter_has_patterns(void)
{
    return includes.n || excludes.n;
}

static int matches(const pattern_list *l, const char *mod, const char *file)
{
    for (size_t i = 0; i < l->n; i++) {
        const pattern *p = &l->items[i];
        if (p->sub ? (*mod && (fnmatch(p->glob, mod, 0) == 0 || fnmatch(p->sub, mod, 0) == 0))
                   : (*file && fnmatch(p->glob, file, 0) == 0))
            return 1;
    }
    return 0;
}

static void copy_z(char *dst, const char *src, size_t len)
{
    if (len >= NAME_CAP)
        len = NAME_CAP - 1;
    if (len)
        memcpy(dst, src, len);
    dst[len] = 0;
}

int ft_filter_wants(const char *mod, size_t mod_len, const char *file, size_t file_len)
{
    char m[NAME_CAP], f[NAME_CAP];

    copy_z(m, mod ? mod : "", mod ? mod_len : 0);
    copy_z(f, file ? file : "", file ? file_len : 0);
    if (includes.n && !matches(&includes, m, f))
        return 0;
    return !matches(&excludes, m, f);
}

/* ---- depth ---- */

static inline depth_slot *depth_current(void)
{
    depth_slot *d = &tls_depth;

    if (d->gen != ft_g.gen) {
        d->gen = ft_g.gen;
        d->depth = 0;
    }
    return d;
}

int ft_depth_enter(void)
{
    depth_slot *d = depth_current();

    return ++d->depth > max_depth;
}

int ft_depth_leave(void)
{
    depth_slot *d = depth_current();

    if (!d->depth)
        return 0;
    return d->depth-- > max_depth;
}

void ft_depth_carry(uint32_t old_gen)
{
    if (old_gen && tls_depth.gen == old_gen)
        tls_depth.gen = ft_g.gen;
}

/* ---- the hooks' path while a depth limit is set (events.h) ---- */

#include "events.h"

static inline int depth_drops(int type)
{
    return ft_rec_is_push(type) ? ft_depth_enter() : ft_depth_leave();
}

void ft_events_code_limited(int type, PyObject *code, PyObject *frame)
{
    if (!depth_drops(type))
        ft_events_code_put(type, code, frame);
}

void ft_events_native_limited(int type, PyObject *callable)
{
    const PyMethodDef *ml = ft_events_native_def(callable);

    if (ml && !depth_drops(type))
        ft_events_native_put(type, ml, callable);
}
