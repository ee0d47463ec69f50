/* markers.c — encoding markers from Python into the thread's chunk (see markers.h). */
#include "markers.h"

#include "clock.h"
#include "ft_trace.h"
#include "pyhelp.h"
#include "tstate.h"

/* Where a marker is encoded before it is copied into the thread's buffer: its size is only
 * known once encoded, and the buffer must get it whole or not at all. GIL held. */
static ft_buf scratch;

/* A str's UTF-8, cut to cap bytes (into cut, when it must be cut) without splitting a
 * character. */
static const char *short_utf8(PyObject *s, char *cut, size_t cap, size_t *len,
                              PyObject **keep)
{
    Py_ssize_t n;
    const char *p = ft_py_utf8(s, &n, keep);

    if ((size_t)n <= cap) {
        *len = (size_t)n;
        return p;
    }
    *len = ft_utf8_copy(cut, cap, p, (size_t)n);
    return cut;
}

static ft_status put_str_field(const char *key, PyObject *s)
{
    static char cut[FT_MARKER_STR_MAX];
    PyObject *keep = NULL;
    size_t n;
    const char *p = short_utf8(s, cut, sizeof cut, &n, &keep);
    ft_status st = ft_trace_put_field_str(&scratch, key, p, n);

    Py_XDECREF(keep);
    return st;
}

/* One field: value types of FORMAT.md kept as they are, anything else as its str(). */
static ft_status put_field(const char *key, PyObject *v)
{
    ft_status st;

    if (v == Py_None)
        return ft_trace_put_field_nil(&scratch, key);
    if (PyBool_Check(v))
        return ft_trace_put_field_bool(&scratch, key, v == Py_True);
    if (PyLong_Check(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (!overflow && !(x == -1 && PyErr_Occurred()))
            return ft_trace_put_field_int(&scratch, key, (int64_t)x);
        PyErr_Clear();
    } else if (PyFloat_Check(v)) {
        return ft_trace_put_field_float(&scratch, key, PyFloat_AS_DOUBLE(v));
    } else if (PyUnicode_Check(v)) {
        return put_str_field(key, v);
    }
    {
        PyObject *s = PyObject_Str(v);
        if (!s) {
            PyErr_Clear();
            s = PyUnicode_FromString(Py_TYPE(v)->tp_name);
            if (!s)
                return FT_ENOMEM;
        }
        st = put_str_field(key, s);
        Py_DECREF(s);
    }
    return st;
}

static ft_status put_fields(PyObject *fields, uint32_t n)
{
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    uint32_t done = 0;
    ft_status st = FT_OK;

    while (done < n && PyDict_Next(fields, &pos, &k, &v)) {
        PyObject *keep = NULL;
        Py_ssize_t klen;
        const char *key;
        char kbuf[128];
        size_t kn;

        if (!PyUnicode_Check(k))
            continue;
        key = ft_py_utf8(k, &klen, &keep);
        kn = ft_utf8_copy(kbuf, sizeof kbuf - 1, key, (size_t)klen);
        kbuf[kn] = '\0';
        Py_XDECREF(keep);
        /* A value's str() may run code that changes the dict: hold the value meanwhile. */
        Py_INCREF(v);
        st = put_field(kbuf, v);
        Py_DECREF(v);
        if (st)
            return st;
        done++;
    }
    /* Fewer than counted (the dict shrank, or had non-str keys): pad, the map's size is
     * written already. */
    while (!st && done++ < n)
        st = ft_trace_put_field_nil(&scratch, "");
    return st;
}

static uint32_t count_fields(PyObject *fields)
{
    Py_ssize_t n = fields ? PyDict_GET_SIZE(fields) : 0;
    return n > FT_MARKER_FIELDS ? FT_MARKER_FIELDS : (uint32_t)n;
}

/* Encode the whole record into scratch. */
static int encode(int type, uint64_t dt, uint64_t dur, PyObject *kind, PyObject *name,
                  PyObject *fields)
{
    char kcut[FT_MARKER_NAME_MAX], ncut[FT_MARKER_NAME_MAX];
    PyObject *k1 = NULL, *k2 = NULL;
    size_t kn, nn;
    const char *kp = short_utf8(kind, kcut, sizeof kcut, &kn, &k1);
    const char *np = short_utf8(name, ncut, sizeof ncut, &nn, &k2);
    uint32_t nf = count_fields(fields);
    ft_status st;

    scratch.len = 0;
    st = ft_trace_put_marker(&scratch, type, dt, dur, kp, kn, np, nn, nf);
    Py_XDECREF(k1);
    Py_XDECREF(k2);
    if (!st && nf)
        st = put_fields(fields, nf);
    return st ? -1 : 0;
}

/* Record a marker ending now (an instant when start is 0). Never raises for the trace's
 * sake: a marker that cannot be recorded is dropped. */
static void record(int type, PyObject *kind, PyObject *name, uint64_t start, PyObject *fields)
{
    ft_exc_state exc;
    ft_tstate *ts;
    uint64_t now;

    ts = ft_tstate_current();
    if (!ts)
        return;
    now = ft_clock_fast();
    if (now < ts->last_ns)      /* re-anchored clock: never before the last event */
        now = ts->last_ns;
    ft_exc_save(&exc);
    if (encode(type, now - ts->last_ns, start && start < now ? now - start : 0, kind, name,
               fields) == 0)
        ft_tstate_put_record(ts, scratch.ptr, scratch.len);
    ft_exc_restore(&exc);
}

static int check_args(PyObject *kind, PyObject *name, PyObject *fields)
{
    if (!PyUnicode_Check(kind) || !PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "marker kind and name must be str");
        return -1;
    }
    if (fields && fields != Py_None && !PyDict_Check(fields)) {
        PyErr_SetString(PyExc_TypeError, "marker fields must be a dict");
        return -1;
    }
    return 0;
}

static PyObject *marker(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *fields;

    if (!ft_g.active)
        Py_RETURN_NONE;
    if (nargs < 2 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "marker(kind, name, fields=None)");
        return NULL;
    }
    fields = nargs > 2 ? args[2] : NULL;
    if (check_args(args[0], args[1], fields))
        return NULL;
    record(FT_REC_MARKER, args[0], args[1], 0, fields == Py_None ? NULL : fields);
    Py_RETURN_NONE;
}

static PyObject *interval(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *fields;
    unsigned long long start;

    if (!ft_g.active)
        Py_RETURN_NONE;
    if (nargs < 3 || nargs > 4) {
        PyErr_SetString(PyExc_TypeError, "interval(kind, name, start_ns, fields=None)");
        return NULL;
    }
    fields = nargs > 3 ? args[3] : NULL;
    if (check_args(args[0], args[1], fields))
        return NULL;
    start = PyLong_AsUnsignedLongLong(args[2]);
    if (start == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    record(FT_REC_INTERVAL, args[0], args[1], start ? start : 1,
           fields == Py_None ? NULL : fields);
    Py_RETURN_NONE;
}

static PyObject *now(PyObject *m, PyObject *unused)
{
    return PyLong_FromUnsignedLongLong(ft_clock_fast());
}

PyMethodDef ft_marker_methods[] = {
    { "marker", (PyCFunction)(void (*)(void))marker, METH_FASTCALL,
      "marker(kind, name, fields=None)\n--\n\n"
      "Record a MARKER now in this thread (FORMAT.md 4.6); nothing when not recording." },
    { "interval", (PyCFunction)(void (*)(void))interval, METH_FASTCALL,
      "interval(kind, name, start_ns, fields=None)\n--\n\n"
      "Record an INTERVAL from start_ns (a now() value) to now in this thread." },
    { "now", now, METH_NOARGS,
      "now()\n--\n\nThe trace's clock, in ns (the time base of markers and events)." },
    { NULL, NULL, 0, NULL }
};
