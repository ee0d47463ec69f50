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
    if (ft_grow(&ns->v, &ns->cap, ns->n, sizeof *ns->v, 16)) {
        ft_free(s);
        return FT_ENOMEM;
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

/* The run directories of an output directory, sorted: those named like run ids, or when
 * there are none, every subdirectory (*named says which). FT_END when there is no
 * subdirectory at all; FT_EIO with errno set. */
static ft_status run_dirs(const char *path, names *subdirs, int *named)
{
    names traces = {0};
    size_t runs = 0;
    ft_status st = list_dir(path, &traces, subdirs);

    names_fini(&traces);
    if (st)
        return st;
    if (!subdirs->n)
        return FT_END;
    qsort(subdirs->v, subdirs->n, sizeof *subdirs->v, cmp_str);
    for (size_t i = 0; i < subdirs->n; i++)
        runs += (size_t)is_run_id(subdirs->v[i]);
    *named = runs > 0;
    if (runs) {
        runs = 0;
        for (size_t i = 0; i < subdirs->n; i++) {
            if (is_run_id(subdirs->v[i]))
                subdirs->v[runs++] = subdirs->v[i];
            else
                ft_free(subdirs->v[i]);
        }
        subdirs->n = runs;
    }
    return FT_OK;
}

/* The run of subdirs whose name starts with run_id, if exactly one does; SIZE_MAX if none
 * or several (*ambiguous then says which). */
static size_t pick_run(const names *subdirs, const char *run_id, int *ambiguous)
{
    size_t n = strlen(run_id), found = SIZE_MAX, matches = 0;

    for (size_t i = 0; n && i < subdirs->n; i++) {
        if (strncmp(subdirs->v[i], run_id, n) == 0) {
            found = i;
            matches++;
        }
    }
    *ambiguous = matches > 1;
    return matches == 1 ? found : SIZE_MAX;
}

ft_status ft_run_files(const char *dir, ft_run *run)
{
    names traces = {0};
    ft_status st;

    memset(run, 0, sizeof *run);
    if ((st = list_dir(dir, &traces, NULL)) || (st = set_dir(run, dir))) {
        names_fini(&traces);
        return st;
    }
    if (traces.n)
        qsort(traces.v, traces.n, sizeof *traces.v, cmp_str);
    run->files = traces.v;
    run->nfiles = traces.n;
    return FT_OK;
}

ft_status ft_run_find(const char *path, const char *run_id, ft_run *run, ft_report *r)
{
    names traces = {0}, subdirs = {0};
    char *chosen = NULL;
    struct stat sb;
    size_t pick;
    int named = 0;
    ft_status st;

    memset(run, 0, sizeof *run);
    if (stat(path, &sb) != 0) {
        ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "%s", strerror(errno));
        return FT_EIO;
    }
    if (!S_ISDIR(sb.st_mode)) {
        char *copy;
        if (run_id) {
            ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "--run selects a run of an "
                              "output directory, and this is a file");
            return FT_END;
        }
        if (!(copy = ft_malloc(strlen(path) + 1)))
            return FT_ENOMEM;
        strcpy(copy, path);
        if ((st = names_add(&traces, copy)))
            goto out;
        goto done;
    }
    if ((st = list_dir(path, &traces, NULL))) {
        if (st == FT_EIO)
            ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "cannot list: %s", strerror(errno));
        goto out;
    }
    if (traces.n && !run_id) {
        if ((st = set_dir(run, path)))
            goto out;
        goto done;
    }
    names_fini(&traces);
    st = run_dirs(path, &subdirs, &named);
    if (st == FT_EIO)
        ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "cannot list: %s", strerror(errno));
    if (st == FT_END)
        ft_report_problem(r, path, FT_REPORT_NO_OFFSET, run_id ?
                          "no run directories here (--run selects one of an output directory)" :
                          "no .ftrace files and no run directories here");
    if (st)
        goto out;
    if (run_id) {
        /* The user named the run: a subdirectory of exactly that name, or the one run
         * whose id starts with it. */
        int ambiguous = 0;
        names all = {0};
        if ((st = list_dir(path, &traces, &all))) {
            names_fini(&all);
            goto out;
        }
        names_fini(&traces);
        if (all.n)
            qsort(all.v, all.n, sizeof *all.v, cmp_str);
        pick = SIZE_MAX;
        for (size_t i = 0; i < all.n && pick == SIZE_MAX; i++) {
            if (strcmp(all.v[i], run_id) == 0)
                pick = i;
        }
        names_fini(&subdirs);
        if (pick != SIZE_MAX) {
            subdirs = all;
        } else {
            names_fini(&all);
            subdirs = (names){0};
            if ((st = run_dirs(path, &subdirs, &named)))
                goto out;
            pick = pick_run(&subdirs, run_id, &ambiguous);
        }
        if (pick == SIZE_MAX) {
            ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "%s run %s here (ft-convert --list "
                              "%s shows the runs)", ambiguous ? "more than one" : "no",
                              run_id, path);
            st = FT_END;
            goto out;
        }
    } else {
        if (!named)
            ft_report_note(r, "no run directory names in %s; taking the directory that sorts "
                           "last", path);
        pick = subdirs.n - 1;
    }
    run->nruns = subdirs.n;
    if (!(chosen = join(path, subdirs.v[pick]))) {
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
        ft_report_problem(r, chosen, FT_REPORT_NO_OFFSET, run_id ?
                          "this run directory holds no .ftrace files" :
                          "the latest run directory holds no .ftrace files");
        st = FT_END;
        goto out;
    }
    run->dir = chosen;
    chosen = NULL;
    if (run_id)
        ft_report_note(r, "converting run %s in %s", subdirs.v[pick], path);
    else if (subdirs.n > 1)
        ft_report_note(r, "converting run %s, the latest of %zu in %s (--list shows them, "
                       "--run picks one)", subdirs.v[pick], subdirs.n, path);
    else
        ft_report_note(r, "converting run %s in %s", subdirs.v[pick], path);
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

ft_status ft_run_list(const char *path, ft_run_dirs *out, ft_report *r)
{
    names traces = {0}, subdirs = {0};
    struct stat sb;
    int named = 0;
    ft_status st;

    memset(out, 0, sizeof *out);
    if (stat(path, &sb) != 0) {
        ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "%s", strerror(errno));
        return FT_EIO;
    }
    if (!S_ISDIR(sb.st_mode)) {
        ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "--list needs a directory");
        return FT_END;
    }
    if ((st = list_dir(path, &traces, NULL)))
        goto listing;
    if (traces.n) {     /* a run directory: that one run */
        char *copy = ft_malloc(strlen(path) + 1);
        names_fini(&traces);
        if (!copy)
            return FT_ENOMEM;
        strcpy(copy, path);
        if ((st = names_add(&subdirs, copy)))
            goto out;
        out->dirs = subdirs.v;
        out->n = 1;
        return FT_OK;
    }
    st = run_dirs(path, &subdirs, &named);
listing:
    if (st == FT_EIO)
        ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "cannot list: %s", strerror(errno));
    if (st == FT_END)
        ft_report_problem(r, path, FT_REPORT_NO_OFFSET, "no .ftrace files and no run "
                          "directories here");
    if (st)
        goto out;
    for (size_t i = 0; i < subdirs.n; i++) {
        char *full = join(path, subdirs.v[i]);
        if (!full) {
            st = FT_ENOMEM;
            goto out;
        }
        ft_free(subdirs.v[i]);
        subdirs.v[i] = full;
    }
    out->dirs = subdirs.v;
    out->n = subdirs.n;
    memset(&subdirs, 0, sizeof subdirs);
out:
    names_fini(&traces);
    names_fini(&subdirs);
    return st;
}

void ft_run_dirs_fini(ft_run_dirs *l)
{
    for (size_t i = 0; i < l->n; i++)
        ft_free(l->dirs[i]);
    ft_free(l->dirs);
    memset(l, 0, sizeof *l);
}

void ft_run_fini(ft_run *run)
{
    for (size_t i = 0; i < run->nfiles; i++)
        ft_free(run->files[i]);
    ft_free(run->files);
    ft_free(run->dir);
    memset(run, 0, sizeof *run);
}
