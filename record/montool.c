/* montool.c — claiming, moving and giving back the sys.monitoring tool id (montool.h). */
#include "montool.h"

#if PY_VERSION_HEX >= 0x030C0000

#include "pyhelp.h"

#define TOOL_NAME "functiontrace"

/* The ids we may use, in order of preference: PROFILER_ID, then the two that
 * sys.monitoring assigns to no kind of tool (0, 1 and 5 are the debugger's, coverage's and
 * the optimizer's). */
static const int tool_ids[] = { 2, 4, 3 };
#define NTOOL_IDS (sizeof tool_ids / sizeof tool_ids[0])

static struct {
    int id;                   /* held, or -1 */
    ft_montool_user *user;
    PyObject *module;         /* strong, while an id is held */
} held = { -1, NULL, NULL };

static PyObject *monitoring(void)
{
    PyObject *mon = PySys_GetObject("monitoring");   /* borrowed */
    if (!mon && !PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "functiontrace: sys.monitoring is missing");
    return mon;
}

int ft_montool_id(void)
{
    return held.id;
}

/* Unregister user's callbacks from id and give it back; forget: the user's callbacks are
 * registered nowhere any more. Keeps an exception already set; reports its own failures
 * as unraisable (there is no caller to raise to). */
static void drop(PyObject *mon, ft_montool_user *u, int id, int forget)
{
    ft_exc_state exc;
    PyObject *r;

    ft_exc_save(&exc);
    r = PyObject_CallMethod(mon, "set_events", "ii", id, 0);
    if (!r)
        PyErr_WriteUnraisable(mon);
    Py_XDECREF(r);
    for (size_t i = 0; i < u->ncbs; i++) {
        if (!u->cbs[i].value)
            continue;
        r = PyObject_CallMethod(mon, "register_callback", "ilO", id, u->cbs[i].value, Py_None);
        if (!r)
            PyErr_WriteUnraisable(mon);
        Py_XDECREF(r);
        if (forget)
            u->cbs[i].value = 0;
    }
    if (u->before_free)
        u->before_free(mon);
    r = PyObject_CallMethod(mon, "free_tool_id", "i", id);
    if (!r)
        PyErr_WriteUnraisable(mon);
    Py_XDECREF(r);
    ft_exc_restore(&exc);
}

/* Claim the first free id of tool_ids other than avoid: the id, or -1 with an exception
 * set. *holder: who holds PROFILER_ID when we could not have it (new ref), else NULL. */
static int claim(PyObject *mon, int avoid, PyObject **holder)
{
    *holder = NULL;
    for (size_t i = 0; i < NTOOL_IDS; i++) {
        PyObject *r;

        if (tool_ids[i] == avoid)
            continue;
        r = PyObject_CallMethod(mon, "use_tool_id", "is", tool_ids[i], TOOL_NAME);
        if (r) {
            Py_DECREF(r);
            return tool_ids[i];
        }
        if (!PyErr_ExceptionMatches(PyExc_ValueError))
            return -1;
        PyErr_Clear();
        if (i == 0) {
            *holder = PyObject_CallMethod(mon, "get_tool", "i", tool_ids[i]);
            PyErr_Clear();
        }
    }
    PyErr_Format(PyExc_RuntimeError, "functiontrace: sys.monitoring tool ids %d (PROFILER, "
                 "held by %R), %d and %d are all in use by other tools; another profiler is "
                 "active in this process", tool_ids[0], *holder ? *holder : Py_None,
                 tool_ids[1], tool_ids[2]);
    return -1;
}

/* Register u's callbacks and events on id (claimed). 0, or -1 with an exception set. */
static int enable(PyObject *mon, ft_montool_user *u, PyObject *module, int id)
{
    PyObject *events = PyObject_GetAttrString(mon, "events"), *r;
    long mask = 0;
    int rc = -1;

    if (!events)
        return -1;
    for (size_t i = 0; i < u->ncbs; i++) {
        ft_montool_cb *cb = &u->cbs[i];
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
        r = PyObject_CallMethod(mon, "register_callback", "ilO", id, value, fn);
        Py_DECREF(fn);
        if (!r)
            goto out;
        Py_DECREF(r);
        cb->value = value;
        mask |= value;
    }
    r = PyObject_CallMethod(mon, "set_events", "il", id, mask);
    if (!r)
        goto out;
    Py_DECREF(r);
    rc = 0;
out:
    Py_DECREF(events);
    return rc;
}

/* Claim an id other than avoid and enable it: the id, or -1 with an exception set and
 * the new id (if any) given back. */
static int claim_and_enable(PyObject *mon, ft_montool_user *u, PyObject *module, int avoid,
                            PyObject **holder)
{
    int id = claim(mon, avoid, holder);

    if (id < 0)
        return -1;
    if (enable(mon, u, module, id) == 0)
        return id;
    drop(mon, u, id, 0);
    return -1;
}

int ft_montool_install(ft_montool_user *user, PyObject *module)
{
    PyObject *mon = monitoring(), *holder = NULL;
    int id;

    if (!mon)
        return -1;
    if (held.id >= 0) {
        PyErr_SetString(PyExc_RuntimeError, "functiontrace: a sys.monitoring tool id is "
                        "already held");
        return -1;
    }
    id = claim_and_enable(mon, user, module, -1, &holder);
    if (id >= 0 && id != tool_ids[0]) {
        /* Recording goes on, but whoever reads the trace or debugs the other tool should
         * know that two profilers run at once. */
        PySys_FormatStderr("functiontrace: sys.monitoring tool id %d (PROFILER) is held by "
                           "%R; recording with tool id %d instead\n", tool_ids[0],
                           holder ? holder : Py_None, id);
    }
    Py_XDECREF(holder);
    if (id < 0)
        return -1;
    held.id = id;
    held.user = user;
    Py_XINCREF(module);
    held.module = module;
    return 0;
}

void ft_montool_uninstall(void)
{
    PyObject *mon;

    if (held.id < 0)
        return;
    mon = monitoring();
    if (mon)
        drop(mon, held.user, held.id, 1);
    else
        PyErr_WriteUnraisable(NULL);
    held.id = -1;
    held.user = NULL;
    Py_CLEAR(held.module);
}

static PyObject *yield_tool_id(PyObject *m, PyObject *arg)
{
    PyObject *mon, *holder = NULL;
    long want = PyLong_AsLong(arg);
    int id;

    if (want == -1 && PyErr_Occurred())
        return NULL;
    if (held.id < 0 || want != held.id)
        Py_RETURN_FALSE;
    mon = monitoring();
    if (!mon)
        return NULL;
    /* Both ids are enabled for a moment; no Python code runs in between, so no event is
     * seen twice, and none is missed. */
    id = claim_and_enable(mon, held.user, held.module, held.id, &holder);
    Py_XDECREF(holder);
    if (id < 0)
        return NULL;
    drop(mon, held.user, held.id, 0);
    held.id = id;
    Py_RETURN_TRUE;
}

PyMethodDef ft_montool_methods[] = {
    { "yield_tool_id", yield_tool_id, METH_O,
      "yield_tool_id(tool_id)\n--\n\n"
      "If the recorder holds sys.monitoring tool id tool_id, move to another free id (the "
      "program is about to claim this one). True if it moved, False if it did not hold it; "
      "RuntimeError if no other id is free (the recorder then keeps tool_id)." },
    { NULL, NULL, 0, NULL }
};

#endif
