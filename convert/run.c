/* run.c — finding the run directory and its trace files (see run.h). */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ft_buf.h"

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static void names_fini(names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        ft_free(ns->v[i]);
    ft_free(ns->v);
    memset(ns, 0, sizeof *ns);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    int slash = a > 0 && dir[a - 1] != '/';
    char *p = ft_malloc(a + slash + b + 1);

    if (!p)
        return NULL;
    memcpy(p, dir, a);
    if (slash)
        p[a] = '/';
    memcpy(p + a + slash, name, b + 1);
    return p;
}

static ft_status names_add(names *ns, char *s)
{
    if (!s)
        return FT_ENOMEM;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        char **v = ft_realloc(ns->v, cap * sizeof *v);
        if (!v) {
            ft_free(s);
            return FT_ENOMEM;
        }
        ns->v = v;
        ns->cap = cap;
    }
    ns->v[ns->n++] = s;
    return FT_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* YYYYmmdd-HHMMSS-<pid>, the recorder's run directory names (FORMAT.md §1). */
static int is_run_id(const char *s)
{
    for (int i = 0; i < 15; i++) {
        if (i == 8 ? s[i] != '-' : !(s[i] >= '0' && s[i] <= '9'))
            return 0;
    }
    if (s[15] != '-' || !s[16])
        return 0;
    for (s += 16; *s; s++) {
        if (!(*s >= '0' && *s <= '9'))
            return 0;
    }
    return 1;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

/* The entries of dir: trace files (as paths) and, separately, subdirectory names. Hidden
 * entries are skipped. FT_EIO with errno set. */
static ft_status list_dir(const char *dir, names *traces, names *subdirs)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    ft_status st = FT_OK;

    if (!d)
        return FT_EIO;
    while (!st && (errno = 0, e = readdir(d))) {
        struct stat sb;
        char *path;
        if (e->d_name[0] == '.')
            continue;
        if (!(path = join(dir, e->d_name))) {
            st = FT_ENOMEM;
            break;
        }
        if (stat(path, &sb) != 0) {
            ft_free(path);
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            ft_free(path);
            if (subdirs) {
                size_t n = strlen(e->d_name) + 1;
                char *name = ft_malloc(n);
                if (name)
                    memcpy(name, e->d_name, n);
                st = names_add(subdirs, name);
            }
        } else if (has_suffix(e->d_name, ".ftrace")) {
            st = names_add(traces, path);
        } else {
            ft_free(path);
        }
    }
    if (!st && errno)
        st = FT_EIO;
    int saved = errno;
    closedir(d);
    errno = saved;
    return st;
}

static ft_status set_dir(ft_run *run, const char *dir)
{
    size_t n = strlen(dir) + 1;
    run->dir = ft_malloc(n);
    if (!run->dir)
        return FT_ENOMEM;
    memcpy(run->dir, dir, n);
    return FT_OK;
}

ft_status ft_run_find(const char *path, ft_run *run, ft_report *r)
{
    names traces = {0}, subdirs = {0};
    char *chosen = NULL;
    struct stat sb;
    ft_status st;

    memset(run, 0, sizeof *run);
    if (stat(path, &sb) != 0) {
        ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "%s", strerror(errno));
        return FT_EIO;
    }
    if (!S_ISDIR(sb.st_mode)) {
        char *copy = ft_malloc(strlen(path) + 1);
        if (!copy)
            return FT_ENOMEM;
        strcpy(copy, path);
        if ((st = names_add(&traces, copy)))
            goto out;
        goto done;
    }
    if ((st = list_dir(path, &traces, &subdirs))) {
        if (st == FT_EIO)
            ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "cannot list: %s", strerror(errno));
        goto out;
    }
    if (traces.n) {
        if ((st = set_dir(run, path)))
            goto out;
        goto done;
    }
    if (!subdirs.n) {
        ft_report_problem(r, path, FT_REPORT_NO_OFFSET,
                          "no .ftrace files and no run directories here");
        st = FT_END;
        goto out;
    }
    /* An output directory: its runs are named by start time, so the last is the latest.
     * Other directories a user keeps there do not count, unless there is nothing else. */
    qsort(subdirs.v, subdirs.n, sizeof *subdirs.v, cmp_str);
    size_t runs = 0;
    for (size_t i = 0; i < subdirs.n; i++)
        runs += (size_t)is_run_id(subdirs.v[i]);
    if (runs) {
        runs = 0;
        for (size_t i = 0; i < subdirs.n; i++) {
            if (is_run_id(subdirs.v[i]))
                subdirs.v[runs++] = subdirs.v[i];
            else
                ft_free(subdirs.v[i]);
        }
        subdirs.n = runs;
    } else
        ft_report_note(r, "no run directory names in %s; taking the directory that sorts last",
                       path);
    run->nruns = subdirs.n;
    if (!(chosen = join(path, subdirs.v[subdirs.n - 1]))) {
        st = FT_ENOMEM;
        goto out;
    }
    if ((st = list_dir(chosen, &traces, NULL))) {
        if (st == FT_EIO)
            ft_report_problem(r, chosen, FT_REPORT_NO_OFFSET, "cannot list: %s",
                              strerror(errno));
        goto out;
    }
    if (!traces.n) {
        ft_report_problem(r, chosen, FT_REPORT_NO_OFFSET,
                          "the latest run directory holds no .ftrace files");
        st = FT_END;
        goto out;
    }
    run->dir = chosen;
    chosen = NULL;
    if (subdirs.n > 1)
        ft_report_note(r, "converting run %s, the latest of %zu in %s", subdirs.v[subdirs.n - 1],
                       subdirs.n, path);
    else
        ft_report_note(r, "converting run %s in %s", subdirs.v[subdirs.n - 1], path);
done:
    qsort(traces.v, traces.n, sizeof *traces.v, cmp_str);
    run->files = traces.v;
    run->nfiles = traces.n;
    memset(&traces, 0, sizeof traces);
    st = FT_OK;
out:
    ft_free(chosen);
    names_fini(&traces);
    names_fini(&subdirs);
    if (st)
        ft_run_fini(run);
    return st;
}

void ft_run_fini(ft_run *run)
{
    for (size_t i = 0; i < run->nfiles; i++)
        ft_free(run->files[i]);
    ft_free(run->files);
    ft_free(run->dir);
    memset(run, 0, sizeof *run);
}
