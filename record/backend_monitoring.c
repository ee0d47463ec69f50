/* backend_monitoring.c — hooks through sys.monitoring (PEP 669), Python 3.12+.
 *
 * sys.monitoring callbacks receive the code object directly and are far cheaper than the
 * legacy profile hook, which on 3.12+ is itself a shim over sys.monitoring that builds a
 * frame object per event. Monitoring is per interpreter, not per thread, so every thread is
 * traced, including threads that existed before start() and threads threading never saw.
 *
 * We claim tool id 2 (sys.monitoring.PROFILER_ID), or another when that one is taken
 * (montool.h), and register one METH_FASTCALL function per event. Callbacks never return
 * sys.monitoring.DISABLE: we want every event, and a disabled CALL site would also lose the
 * calls of other callables made from that site.
 *
 * Event mapping: PY_START → CALL; PY_RESUME and PY_THROW → RESUME (a generator re-enters its
 * frame either way: next()/send() or throw()/close()); PY_RETURN → RETURN; PY_YIELD → YIELD;
 * PY_UNWIND → UNWIND. In mode "all", CALL / C_RETURN / C_RAISE of builtin functions and
 * method descriptors → CALL / RETURN / UNWIND; C_RETURN and C_RAISE fire only for callables
 * that are not Python functions, with the same callable the CALL event had. */
#include "backend.h"

#ifdef FT_BACKEND_MONITORING

#include "events.h"
#include "montool.h"

static PyObject *on_py_start(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (FT_LIKELY(nargs >= 1 && PyCode_Check(args[0])))
        ft_events_code(FT_REC_CALL, args[0], NULL);
    Py_RETURN_NONE;
}

static PyObject *on_py_resume(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (FT_LIKELY(nargs >= 1 && PyCode_Check(args[0])))
        ft_events_code(FT_REC_RESUME, args[0], NULL);
    Py_RETURN_NONE;
}

static PyObject *on_py_return(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (FT_LIKELY(nargs >= 1 && PyCode_Check(args[0])))
        ft_events_code(FT_REC_RETURN, args[0], NULL);
    Py_RETURN_NONE;
}

static PyObject *on_py_yield(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (FT_LIKELY(nargs >= 1 && PyCode_Check(args[0])))
        ft_events_code(FT_REC_YIELD, args[0], NULL);
    Py_RETURN_NONE;
}

static PyObject *on_py_unwind(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (FT_LIKELY(nargs >= 1 && PyCode_Check(args[0])))
        ft_events_code(FT_REC_UNWIND, args[0], NULL);
    Py_RETURN_NONE;
}

/* CALL, C_RETURN, C_RAISE: (code, instruction_offset, callable, arg0). */
static PyObject *on_call(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (FT_LIKELY(nargs >= 3))
        ft_events_native(FT_REC_CALL, args[2]);
    Py_RETURN_NONE;
}

static PyObject *on_c_return(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (FT_LIKELY(nargs >= 3))
        ft_events_native(FT_REC_RETURN, args[2]);
    Py_RETURN_NONE;
}

static PyObject *on_c_raise(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (FT_LIKELY(nargs >= 3))
        ft_events_native(FT_REC_UNWIND, args[2]);
    Py_RETURN_NONE;
}

#define CB(name, fn) { name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, NULL }

static ft_montool_cb callbacks[] = {
    { "PY_START", CB("_on_py_start", on_py_start), 0, 0 },
    { "PY_RESUME", CB("_on_py_resume", on_py_resume), 0, 0 },
    { "PY_THROW", CB("_on_py_throw", on_py_resume), 0, 0 },
    { "PY_RETURN", CB("_on_py_return", on_py_return), 0, 0 },
    { "PY_YIELD", CB("_on_py_yield", on_py_yield), 0, 0 },
    { "PY_UNWIND", CB("_on_py_unwind", on_py_unwind), 0, 0 },
    { "CALL", CB("_on_call", on_call), 1, 0 },
    { "C_RETURN", CB("_on_c_return", on_c_return), 1, 0 },
    { "C_RAISE", CB("_on_c_raise", on_c_raise), 1, 0 },
};

static ft_montool_user user = {
    callbacks, sizeof callbacks / sizeof callbacks[0], NULL
};

PyMethodDef ft_backend_methods[] = { { NULL, NULL, 0, NULL } };

int ft_profiling_install(PyObject *module)
{
    return ft_montool_install(&user, module);
}

void ft_profiling_uninstall(void)
{
    ft_montool_uninstall();
}

#endif
