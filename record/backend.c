/* backend.c — which backend a recording uses, and dispatching install/uninstall to it.
 *
 * Policy in C, against the house rule, because the header (written before the hooks go in)
 * must name the backend and only C can tell whether the frame-evaluation slot is free. Mode
 * "all" needs native calls, which only the profiling backend sees. Mode "python" takes the
 * frame evaluator wherever the slot is free, on every version: `make bench` (python mode,
 * geomean over the eight workloads of traced/untraced CPU time, both backends with the
 * same clock_gettime timestamps) measured it ahead of the profiling backend everywhere —
 * 3.8 1.56× vs 1.80× (setprofile), 3.9 1.48× vs 1.66×, 3.10 1.45× vs 1.93×, 3.11 1.89× vs
 * 3.84×, 3.12 1.86× vs 2.00× (sys.monitoring), 3.13 1.94× vs 2.10× — and its empty floor
 * (1.0–1.26×) lies below sys.monitoring's Python-only floor (1.3–1.5×). */
#include "backend.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define OVERRIDE_ENV "FUNCTIONTRACE_BACKEND"

static ft_backend_kind chosen, installed;

/* FUNCTIONTRACE_BACKEND, or FT_BACKEND_NONE when unset or empty; -1 with an exception set
 * for a name that is not a backend of this interpreter. */
static int override(void)
{
    const char *v = getenv(OVERRIDE_ENV);

    if (!v || !*v)
        return FT_BACKEND_NONE;
    if (strcmp(v, FT_BACKEND_NAME) == 0)
        return FT_BACKEND_PROFILING;
    if (strcmp(v, FT_BACKEND_EVALFRAME_NAME) == 0)
        return FT_BACKEND_EVALFRAME;
    PyErr_Format(PyExc_RuntimeError, "functiontrace: %s=%s: this interpreter's backends are "
                 "%s and %s", OVERRIDE_ENV, v, FT_BACKEND_NAME, FT_BACKEND_EVALFRAME_NAME);
    return -1;
}

static const char *name_of(ft_backend_kind k)
{
    return k == FT_BACKEND_EVALFRAME ? FT_BACKEND_EVALFRAME_NAME : FT_BACKEND_NAME;
}

const char *ft_backend_choose(int mode_all)
{
    int want = override();

    if (want < 0)
        return NULL;
    if (want == FT_BACKEND_EVALFRAME) {
        if (mode_all) {
            PyErr_Format(PyExc_RuntimeError, "functiontrace: %s=%s records Python calls "
                         "only: use mode 'python'", OVERRIDE_ENV, FT_BACKEND_EVALFRAME_NAME);
            return NULL;
        }
        if (!ft_evalframe_available()) {
            PyErr_Format(PyExc_RuntimeError, "functiontrace: %s=%s: another frame evaluator "
                         "(PEP 523) is installed in this interpreter", OVERRIDE_ENV,
                         FT_BACKEND_EVALFRAME_NAME);
            return NULL;
        }
    } else if (want == FT_BACKEND_NONE) {
        /* Someone else's frame evaluator (a debugger, a JIT) stays: it may be what makes
         * the program run at all, and chaining to it would record its own frames too. */
        want = !mode_all && FT_EVALFRAME_PREFERRED && ft_evalframe_available()
            ? FT_BACKEND_EVALFRAME : FT_BACKEND_PROFILING;
    }
    chosen = (ft_backend_kind)want;
    return name_of(chosen);
}

int ft_backend_install(PyObject *module)
{
    int rc;

    if (chosen == FT_BACKEND_NONE && !ft_backend_choose(ft_g.mode_all))
        return -1;
    ft_clock_init();
    /* The slot was free when the header was written; nothing that runs in between
     * releases the GIL, so it still is. Should that change, failing beats a header that
     * names a backend which did not record. */
    rc = chosen == FT_BACKEND_EVALFRAME ? ft_evalframe_install() : ft_profiling_install(module);
    if (rc == 0)
        installed = chosen;
    chosen = FT_BACKEND_NONE;
    return rc;
}

void ft_backend_uninstall(void)
{
    ft_backend_kind k = installed;

    installed = FT_BACKEND_NONE;
    if (k == FT_BACKEND_EVALFRAME)
        ft_evalframe_uninstall();
    else if (k == FT_BACKEND_PROFILING)
        ft_profiling_uninstall();
}

ft_backend_kind ft_backend_installed(void)
{
    return installed;
}
