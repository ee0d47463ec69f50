/* merge.c — collecting the files of several runs (see merge.h). */
#include "merge.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "ft_buf.h"

static ft_status add_file(ft_run *run, const char *path, size_t *cap)
{
    char *copy;

    if (ft_grow(&run->files, cap, run->nfiles, sizeof *run->files, 16))
        return FT_ENOMEM;
    if (!(copy = ft_malloc(strlen(path) + 1)))
        return FT_ENOMEM;
    strcpy(copy, path);
    run->files[run->nfiles++] = copy;
    return FT_OK;
}

static int run_wanted(const char *dir, const char *const *ids, size_t nids, int *used)
{
    const char *base = strrchr(dir, '/');

    base = base ? base + 1 : dir;
    if (!nids)
        return 1;
    for (size_t i = 0; i < nids; i++) {
        if (strncmp(base, ids[i], strlen(ids[i])) == 0) {
            used[i] = 1;
            return 1;
        }
    }
    return 0;
}

/* The runs of a directory (an output directory, or one run directory). */
static ft_status add_dir(ft_run *run, const char *path, const char *const *ids, size_t nids,
                         int *used, size_t *cap, ft_report *r)
{
    ft_run_dirs dirs;
    ft_status st;

    if ((st = ft_run_list(path, &dirs, r)))
        return st;
    for (size_t i = 0; i < dirs.n && !st; i++) {
        ft_run one;
        if (!run_wanted(dirs.dirs[i], ids, nids, used))
            continue;
        if ((st = ft_run_files(dirs.dirs[i], &one))) {
            if (st == FT_EIO)
                ft_report_problem(r, dirs.dirs[i], FT_REPORT_NO_OFFSET, "cannot list: %s",
                                  strerror(errno));
            break;
        }
        if (one.nfiles)
            run->nruns++;
        for (size_t k = 0; k < one.nfiles && !st; k++)
            st = add_file(run, one.files[k], cap);
        ft_run_fini(&one);
    }
    ft_run_dirs_fini(&dirs);
    return st;
}

ft_status ft_run_merge(const char *const *inputs, size_t ninputs, const char *const *run_ids,
                       size_t nrun_ids, ft_run *run, ft_report *r)
{
    int used[64] = {0};
    size_t cap = 0;
    ft_status st = FT_OK;

    memset(run, 0, sizeof *run);
    if (nrun_ids > sizeof used / sizeof *used)
        nrun_ids = sizeof used / sizeof *used;
    for (size_t i = 0; i < ninputs && !st; i++) {
        struct stat sb;
        if (stat(inputs[i], &sb) != 0) {
            ft_report_problem(r, inputs[i], FT_REPORT_NO_OFFSET, "%s", strerror(errno));
            st = FT_EIO;
        } else if (S_ISDIR(sb.st_mode)) {
            st = add_dir(run, inputs[i], run_ids, nrun_ids, used, &cap, r);
        } else {
            st = add_file(run, inputs[i], &cap);
            run->nruns++;
        }
    }
    for (size_t i = 0; i < nrun_ids && !st; i++) {
        if (!used[i]) {
            ft_report_problem(r, NULL, FT_REPORT_NO_OFFSET, "no run %s in the inputs (see "
                              "ft-convert --list DIR for the run ids)", run_ids[i]);
            st = FT_END;
        }
    }
    if (!st && !run->nfiles) {
        ft_report_problem(r, NULL, FT_REPORT_NO_OFFSET, "--merge-runs: no trace files in "
                          "the inputs");
        st = FT_END;
    }
    if (st)
        ft_run_fini(run);
    return st;
}
