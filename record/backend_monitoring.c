/* backend_monitoring.c — hooks through sys.monitoring (PEP 669), Python 3.12+.
 *
 * sys.monitoring callbacks receive the code object directly and are far cheaper than the
 * legacy profile hook, which on 3.12+ is itself a shim over sys.monitoring that builds a
 * frame object per event. Monitoring is per interpreter, not per thread, so every thread is
 * traced, including threads that existed before start() and threads threading never saw.
 *
 * We claim tool id 2 (sys.monitoring.PROFILER_ID) and register one METH_FASTCALL function
 * per event. Callbacks never return sys.monitoring.DISABLE: we want every event, and a
 * disabled CALL site would also lose the calls of other callables made from that site.
 *
 * Event mapping: PY_START → CALL; PY_RESUME and PY_THROW → RESUME (a generator re-enters its
 * frame either way: next()/send() or throw()/close()); PY_RETURN → RETURN; PY_YIELD → YIELD;
 * PY_UNWIND → UNWIND. In mode "all", CALL / C_RETURN / C_RAISE of builtin functions and
 * method descriptors → CALL / RETURN / UNWIND; C_RETURN and C_RAISE fire only for callables
 * that are not Python functions, with the same callable the CALL event had. */
#include "backend.h"

#ifdef FT_BACKEND_MONITORING

#include "events.h"
#include "pyhelp.h"

#define TOOL_ID 2
#define TOOL_NAME "functiontrace"

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

static struct callback {
    const char *event;      /* attribute of sys.monitoring.events */
    int native;             /* mode "all" only */
    PyMethodDef def;
    long value;             /* the event's bit, once registered; 0 otherwise */
} callbacks[] = {
    { "PY_START", 0, CB("_on_py_start", on_py_start), 0 },
    { "PY_RESUME", 0, CB("_on_py_resume", on_py_resume), 0 },
    { "PY_THROW", 0, CB("_on_py_throw", on_py_resume), 0 },
    { "PY_RETURN", 0, CB("_on_py_return", on_py_return), 0 },
    { "PY_YIELD", 0, CB("_on_py_yield", on_py_yield), 0 },
    { "PY_UNWIND", 0, CB("_on_py_unwind", on_py_unwind), 0 },
    { "CALL", 1, CB("_on_call", on_call), 0 },
    { "C_RETURN", 1, CB("_on_c_return", on_c_return), 0 },
    { "C_RAISE", 1, CB("_on_c_raise", on_c_raise), 0 },
};
#define NCALLBACKS (sizeof callbacks / sizeof callbacks[0])

static int tool_claimed;

PyMethodDef ft_backend_methods[] = { { NULL, NULL, 0, NULL } };

static PyObject *monitoring(void)
{
    PyObject *mon = PySys_GetObject("monitoring");   /* borrowed */
    if (!mon && !PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "functiontrace: sys.monitoring is missing");
    return mon;
}

/* Unregister what is registered and give the tool id back. Keeps an exception that was
 * already set; reports its own failures as unraisable (there is no caller to raise to). */
static void release(PyObject *mon)
{
    PyObject *r;

    if (!tool_claimed)
        return;
    r = PyObject_CallMethod(mon, "set_events", "ii", TOOL_ID, 0);
    if (!r)
        PyErr_WriteUnraisable(mon);
    Py_XDECREF(r);
    for (size_t i = 0; i < NCALLBACKS; i++) {
        if (!callbacks[i].value)
            continue;
        r = PyObject_CallMethod(mon, "register_callback", "ilO", TOOL_ID, callbacks[i].value,
                                Py_None);
        if (!r)
            PyErr_WriteUnraisable(mon);
        Py_XDECREF(r);
        callbacks[i].value = 0;
    }
    r = PyObject_CallMethod(mon, "free_tool_id", "i", TOOL_ID);
    if (!r)
        PyErr_WriteUnraisable(mon);
    Py_XDECREF(r);
    tool_claimed = 0;
}

int ft_profiling_install(PyObject *module)
{
    PyObject *mon = monitoring(), *events = NULL, *r = NULL, *owner;
    long mask = 0;
    int rc = -1;

    if (!mon)
        return -1;
    r = PyObject_CallMethod(mon, "use_tool_id", "is", TOOL_ID, TOOL_NAME);
    if (!r) {
        if (!PyErr_ExceptionMatches(PyExc_ValueError))
            return -1;
        PyErr_Clear();
        owner = PyObject_CallMethod(mon, "get_tool", "i", TOOL_ID);
        PyErr_Clear();
        PyErr_Format(PyExc_RuntimeError,
                     "functiontrace: sys.monitoring tool id %d (PROFILER) is already in use "
                     "by %R; another profiler is active in this process", TOOL_ID,
                     owner ? owner : Py_None);
        Py_XDECREF(owner);
        return -1;
    }
    Py_CLEAR(r);
    tool_claimed = 1;
    events = PyObject_GetAttrString(mon, "events");
    if (!events)
        goto out;
    for (size_t i = 0; i < NCALLBACKS; i++) {
        struct callback *cb = &callbacks[i];
        PyObject *bit, *fn;
        long value;

        if (cb->native && !ft_g.mode_all)
            continue;
        bit = PyObject_GetAttrString(events, cb->event);
        if (!bit)
            goto out;
        value = PyLong_AsLong(bit);
        Py_DECREF(bit);
        if (value == -1 && PyErr_Occurred())
            goto out;
        fn = PyCFunction_NewEx(&cb->def, module, NULL);
        if (!fn)
            goto out;
        r = PyObject_CallMethod(mon, "register_callback", "ilO", TOOL_ID, value, fn);
        Py_DECREF(fn);
        if (!r)
            goto out;
        Py_CLEAR(r);
        cb->value = value;
        mask |= value;
    }
    r = PyObject_CallMethod(mon, "set_events", "il", TOOL_ID, mask);
    if (!r)
        goto out;
    rc = 0;
out:
    Py_XDECREF(r);
    Py_XDECREF(events);
    if (rc) {
        ft_exc_state exc;
        ft_exc_save(&exc);
        release(mon);
        ft_exc_restore(&exc);
    }
    return rc;
}

void ft_profiling_uninstall(void)
{
    PyObject *mon = monitoring();

    if (!mon) {
        PyErr_WriteUnraisable(NULL);
        return;
    }
    release(mon);
}

#endif
