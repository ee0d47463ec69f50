/* exctrack.c — exception markers before 3.12 (see exctrack.h). */
#include "exctrack.h"

#ifdef FT_EXCTRACK

#include <frameobject.h>

#include "intern.h"
#include "markers.h"

int ft_exctrack_enabled;

/* The thread state of a hook that may track exceptions now, or NULL. A flag left from an
 * earlier recording (or set before a fork) is dropped here. */
static ft_tstate *tracking(void)
{
    ft_tstate *ts;

    if (!ft_exctrack_enabled || !ft_g.active)
        return NULL;
    if (ft_tls.gen != ft_g.gen) {
        ft_tls.exc_flying = 0;
        return NULL;
    }
    ts = ft_tls.ts;
    return ts && !ts->muted ? ts : NULL;
}

static int skipped(PyObject *code)
{
    return !code || ft_markers_skipped_code(code);
}

static void forget(ft_tstate *ts)
{
    ts->exc_id = 0;
    ts->exc_raise_ns = 0;
    ts->exc_tb_len = 0;
    Py_CLEAR(ts->exc_where);
    Py_CLEAR(ts->exc_name);
    Py_CLEAR(ts->exc_qual);
    Py_CLEAR(ts->exc_msg);
}

static void land_done(ft_tstate *ts)
{
    forget(ts);
    ft_tls.exc_flying = 0;
    if (ts->exc_hold)
        ft_tstate_hold(ts, 0);
}

/* "function (file:line)", or "builtin in function (file:line)". */
static PyObject *where_of(PyObject *code, PyObject *native, int line)
{
    PyCodeObject *co = (PyCodeObject *)code;
#if PY_VERSION_HEX >= 0x030B0000
    PyObject *name = co->co_qualname;
#else
    PyObject *name = co->co_name;
#endif
    PyObject *nat = native ? ft_intern_native_name(native) : NULL, *res;

    if (nat)
        res = PyUnicode_FromFormat("%U in %U (%U:%d)", nat, name, co->co_filename, line);
    else
        res = PyUnicode_FromFormat("%U (%U:%d)", name, co->co_filename, line);
    Py_XDECREF(nat);
    if (!res)
        PyErr_Clear();
    return res;
}

static int site_line(const ft_exc_site *site)
{
    return site->frame ? PyFrame_GetLineNumber((PyFrameObject *)site->frame) : site->line;
}

static int tb_line(PyObject *tb)
{
    int line = ((PyTracebackObject *)tb)->tb_lineno;
    PyObject *o;

    if (line >= 0)
        return line;
    o = PyObject_GetAttrString(tb, "tb_lineno");    /* computed lazily by some versions */
    line = o && PyLong_Check(o) ? (int)PyLong_AsLong(o) : -1;
    Py_XDECREF(o);
    PyErr_Clear();
    return line;
}

static Py_ssize_t tb_len(PyObject *tb)
{
    Py_ssize_t n = 0;

    while (tb && PyTraceBack_Check(tb) && n < 3) {
        tb = (PyObject *)((PyTracebackObject *)tb)->tb_next;
        n++;
    }
    return n;
}

/* Take exc's marker fields into ts (exc: a normalized exception). Its str() may run the
 * program's code, with the thread muted; a recording that stopped meanwhile leaves ts
 * alone (it may be freed). 0, or -1 when ts must not be touched any more. */
static int describe(ft_tstate *ts, PyObject *exc)
{
    uint32_t gen = ft_g.gen;
    PyObject *name, *qual, *msg;
    int r;

    if (ts->exc_name || !PyExceptionInstance_Check(exc))
        return 0;
    ft_tstate_mute(ts, 1);
    r = ft_markers_describe(exc, &name, &qual, &msg);
    if (!ft_g.active || ft_g.gen != gen) {
        if (r == 0) {
            Py_DECREF(name);
            Py_DECREF(qual);
            Py_DECREF(msg);
        }
        return -1;
    }
    ft_tstate_mute(ts, 0);
    if (r == 0) {
        ts->exc_name = name;
        ts->exc_qual = qual;
        ts->exc_msg = msg;
    }
    return 0;
}

static void mark(ft_tstate *ts, int handled, PyObject *where, uint64_t at)
{
    if (where && ts->exc_name)
        ft_markers_exception(handled, ts->exc_name, ts->exc_qual, ts->exc_msg, where, at);
}

/* The exception in flight was taken at site: its handled marker. */
static void mark_handled(ft_tstate *ts, const ft_exc_site *site)
{
    PyObject *where;

    if (!ts->exc_name || skipped(site->code))
        return;
    where = where_of(site->code, site->native, site_line(site));
    mark(ts, 1, where, 0);
    Py_XDECREF(where);
}

/* ---- the frame evaluator: the exception is pending ---- */

/* A generator or coroutine closed (close(), or dropped while suspended): before 3.12 each
 * gets GeneratorExit thrown in, where 3.12 simply finishes one that has no handler around
 * its yield. Not an exception of the program's: it neither starts nor ends a flight. */
static int closing(const ft_exc_site *site, PyObject *type)
{
    return (((PyCodeObject *)site->code)->co_flags &
            (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) &&
           PyExceptionClass_Check(type) &&
           PyErr_GivenExceptionMatches(type, PyExc_GeneratorExit);
}

static void unwind_pending(ft_tstate *ts, const ft_exc_site *site)
{
    PyObject *t, *v, *tb, *where;
    int mine, wanted;

    PyErr_Fetch(&t, &v, &tb);
    if (!t || closing(site, t))
        goto out;
    if (ft_tls.exc_flying && ts->exc_id == (uintptr_t)v) {
        /* One frame further; describe it once it reaches code that is not skipped. */
        if (!ts->exc_name && (!skipped(site->code) || !skipped(site->back))) {
            PyErr_NormalizeException(&t, &v, &tb);
            if (describe(ts, v))
                goto out;
            ts->exc_id = (uintptr_t)v;
        }
        goto out;
    }
    if (ft_tls.exc_flying) {
        /* Another exception: the one in flight was taken here, which raised this one. */
        mark_handled(ts, site);
        forget(ts);
    }
    ft_tls.exc_flying = 1;
    ft_tstate_hold(ts, 1);      /* the frame evaluator meets the flight's end in its slow path */
    mine = !skipped(site->code);
    wanted = mine || !skipped(site->back);
    if (wanted) {
        PyErr_NormalizeException(&t, &v, &tb);
        if (describe(ts, v))
            goto out;
    }
    ts->exc_id = (uintptr_t)v;
    /* The traceback's head is this frame, where the error was met; alone, it was raised
     * here (3.12's test). */
    if (mine && ts->exc_name && tb_len(tb) <= 1) {
        where = where_of(site->code, site->native, tb ? tb_line(tb) : site_line(site));
        mark(ts, 0, where, ts->last_ns);
        Py_XDECREF(where);
    }
out:
    PyErr_Restore(t, v, tb);
}

/* ---- the profile hook: the exception comes later, through ft_exctrack_seen ---- */

static int unwind_unseen(ft_tstate *ts, const ft_exc_site *site)
{
    if (ft_tls.exc_flying)
        return 0;
    forget(ts);
    ft_tls.exc_flying = 1;
    /* Seen next in the Python frame below: its own traceback entry first, then this
     * frame's (none for a builtin, which makes no traceback entry). */
    ts->exc_tb_len = site->native ? 1 : 2;
    if (!skipped(site->code)) {
        ts->exc_where = where_of(site->code, site->native, site_line(site));
        ts->exc_raise_ns = ts->last_ns;
    }
    return 1;
}

int ft_exctrack_unwind(const ft_exc_site *site, int pending)
{
    ft_tstate *ts = tracking();

    if (!ts)
        return 0;
    if (pending) {
        unwind_pending(ts, site);
        return 0;
    }
    return unwind_unseen(ts, site);
}

void ft_exctrack_seen(PyObject *code, PyObject *frame, PyObject *value, PyObject *tb)
{
    ft_tstate *ts = tracking();
    ft_exc_site here = { code, frame, 0, NULL, NULL };

    if (!ts || !ft_tls.exc_flying || !value)
        return;
    if (ts->exc_id == (uintptr_t)value) {
        if (!ts->exc_name && !skipped(code))
            describe(ts, value);
        return;
    }
    if (ts->exc_id) {
        /* Another exception: the one in flight was taken here, which raised this one. */
        mark_handled(ts, &here);
        forget(ts);
        ts->exc_tb_len = 1;
        if (!skipped(code) && tb && PyTraceBack_Check(tb))
            ts->exc_where = where_of(code, NULL, tb_line(tb));
    }
    /* The flight's exception, first seen. */
    ts->exc_id = (uintptr_t)value;
    if ((ts->exc_where || !skipped(code)) && describe(ts, value))
        return;
    if (ts->exc_where && tb_len(tb) == ts->exc_tb_len)
        mark(ts, 0, ts->exc_where, ts->exc_raise_ns);
    Py_CLEAR(ts->exc_where);
    ts->exc_raise_ns = 0;
}

void ft_exctrack_landed(const ft_exc_site *site)
{
    ft_tstate *ts = tracking();

    if (!ts)
        return;
    mark_handled(ts, site);
    land_done(ts);
}

#endif
