/* markers.c — encoding markers from Python into the thread's chunk (see markers.h). */
#include "markers.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exctrack.h"
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

/* Record a marker ending at time at, or now when at is 0 (an instant when start is 0).
 * Never raises for the trace's sake: a marker that cannot be recorded is dropped, and so is
 * one made while the recorder runs Python code of its own in this thread (a muted thread:
 * a print in an exception's __str__ is not the program's). */
static void record_at(int type, PyObject *kind, PyObject *name, uint64_t start,
                      PyObject *fields, uint64_t at)
{
    ft_exc_state exc;
    ft_tstate *ts;
    uint64_t now;

    ts = ft_tstate_current();
    if (!ts || ts->muted)
        return;
    now = at ? at : ft_clock_fast();
    if (now < ts->last_ns)      /* re-anchored clock: never before the last event */
        now = ts->last_ns;
    ft_exc_save(&exc);
    if (encode(type, now - ts->last_ns, start && start < now ? now - start : 0, kind, name,
               fields) == 0)
        ft_tstate_put_record(ts, scratch.ptr, scratch.len);
    ft_exc_restore(&exc);
}

static void record(int type, PyObject *kind, PyObject *name, uint64_t start, PyObject *fields)
{
    record_at(type, kind, name, start, fields, 0);
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

/* ---- print, in C ----
 *
 * builtins.print is replaced by a C function whose self is the builtins module, so that the
 * trace shows a call of it exactly as it showed the real one (a native call named
 * builtins.print, nothing inside) and the marker's own work is not traced. It calls the
 * real print with the arguments already turned into text (str(), as print does), then
 * records that text. Anything unusual (an unknown keyword, a sep or end print would
 * refuse, an argument whose str() fails) goes to the real print untouched. */

#if PY_VERSION_HEX < 0x03090000
#define ft_vectorcall _PyObject_Vectorcall
#else
#define ft_vectorcall PyObject_Vectorcall
#endif
#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *ft_newref(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
#define Py_NewRef ft_newref
#endif

static PyObject *real_print;

/* Writes to a patched sys.stdout/sys.stderr (below) that another marker already covers:
 * print's, and those of a log record's handlers. Per thread: a write may release the GIL. */
static __thread int quiet_writes;

static PyObject *call_print(PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *res;

    quiet_writes++;
    res = ft_vectorcall(real_print, args, nargsf, kwnames);
    quiet_writes--;
    return res;
}
static PyObject *s_kind_print, *s_print, *s_text, *s_file, *s_stdout, *s_stderr;

/* The print keywords: 0 sep, 1 end, 2 file, 3 flush; -1 for anything else. */
static int print_kw(PyObject *name)
{
    static const char *const names[] = {"sep", "end", "file", "flush"};
    for (int i = 0; i < 4; i++) {
        if (PyUnicode_CompareWithASCIIString(name, names[i]) == 0)
            return i;
    }
    return -1;
}

/* Where the text went: "stdout", "stderr", the file's name, or its type's name. */
static PyObject *file_label(PyObject *file)
{
    PyObject *name;

    if (file == PySys_GetObject("stdout"))
        return Py_NewRef(s_stdout);
    if (file == PySys_GetObject("stderr"))
        return Py_NewRef(s_stderr);
    name = PyObject_GetAttrString(file, "name");
    if (name && PyUnicode_Check(name))
        return name;
    Py_XDECREF(name);
    PyErr_Clear();
    return PyObject_GetAttrString((PyObject *)Py_TYPE(file), "__name__");
}

/* The text print wrote: the strs joined by sep, then end. */
static PyObject *print_text(PyObject *const *strs, Py_ssize_t n, PyObject *sep, PyObject *end)
{
    PyObject *seq = PyTuple_New(n), *sp, *joined, *text;

    if (!seq)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(seq, i, Py_NewRef(strs[i]));
    sp = sep && sep != Py_None ? Py_NewRef(sep) : PyUnicode_FromString(" ");
    joined = sp ? PyUnicode_Join(sp, seq) : NULL;
    Py_XDECREF(sp);
    Py_DECREF(seq);
    if (!joined)
        return NULL;
    if (end && end != Py_None) {
        text = PyUnicode_Concat(joined, end);
    } else {
        PyObject *nl = PyUnicode_FromString("\n");
        text = nl ? PyUnicode_Concat(joined, nl) : NULL;
        Py_XDECREF(nl);
    }
    Py_DECREF(joined);
    return text;
}

static void print_marker(PyObject *const *strs, Py_ssize_t n, PyObject *sep, PyObject *end,
                         PyObject *file)
{
    ft_exc_state exc;
    PyObject *text, *label, *fields = NULL;

    ft_exc_save(&exc);
    text = print_text(strs, n, sep, end);
    label = text ? file_label(file) : NULL;
    if (label)
        fields = PyDict_New();
    if (fields && PyDict_SetItem(fields, s_text, text) == 0 &&
        PyDict_SetItem(fields, s_file, label) == 0)
        record(FT_REC_MARKER, s_kind_print, s_print, 0, fields);
    Py_XDECREF(fields);
    Py_XDECREF(label);
    Py_XDECREF(text);
    ft_exc_restore(&exc);
}

static PyObject *traced_print(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    size_t nargsf = (size_t)nargs;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject *kw[4] = {NULL, NULL, NULL, NULL}, **strs, *res;
    PyObject *file;

    if (!ft_g.active || !real_print)
        return call_print(args, nargsf, kwnames);
    for (Py_ssize_t i = 0; i < nkw; i++) {
        int k = print_kw(PyTuple_GET_ITEM(kwnames, i));
        if (k < 0)
            return call_print(args, nargsf, kwnames);
        kw[k] = args[nargs + i];
    }
    for (int k = 0; k < 2; k++) {
        if (kw[k] && kw[k] != Py_None && !PyUnicode_Check(kw[k]))
            return call_print(args, nargsf, kwnames);
    }
    file = kw[2] && kw[2] != Py_None ? kw[2] : PySys_GetObject("stdout");
    if (!file || file == Py_None)       /* print writes nothing */
        return call_print(args, nargsf, kwnames);
    strs = PyMem_Malloc(sizeof *strs * (size_t)(nargs + nkw + 1));
    if (!strs)
        return call_print(args, nargsf, kwnames);
    for (Py_ssize_t i = 0; i < nargs; i++) {
        strs[i] = PyObject_Str(args[i]);
        if (!strs[i]) {
            /* print itself will meet the same error, after writing what comes before. */
            PyErr_Clear();
            while (i-- > 0)
                Py_DECREF(strs[i]);
            PyMem_Free(strs);
            return call_print(args, nargsf, kwnames);
        }
    }
    for (Py_ssize_t i = 0; i < nkw; i++)
        strs[nargs + i] = args[nargs + i];
    Py_INCREF(file);
    res = call_print(strs, (size_t)nargs, kwnames);
    if (res)
        print_marker(strs, nargs, kw[0], kw[1], file);
    Py_DECREF(file);
    for (Py_ssize_t i = 0; i < nargs; i++)
        Py_DECREF(strs[i]);
    PyMem_Free(strs);
    return res;
}

static PyMethodDef print_def = {
    "print", (PyCFunction)(void (*)(void))traced_print, METH_FASTCALL | METH_KEYWORDS, NULL
};

static int intern_names(void)
{
    if (s_kind_print)
        return 0;
    s_kind_print = PyUnicode_InternFromString("print");
    s_print = s_kind_print;
    s_text = PyUnicode_InternFromString("text");
    s_file = PyUnicode_InternFromString("file");
    s_stdout = PyUnicode_InternFromString("stdout");
    s_stderr = PyUnicode_InternFromString("stderr");
    return s_kind_print && s_text && s_file && s_stdout && s_stderr ? 0 : -1;
}

/* wrap_print(real) -> the C print that stands in for it (once per process: later calls
 * return a new function around the same real print). */
static PyObject *wrap_print(PyObject *m, PyObject *real)
{
    PyObject *builtins, *modname, *doc, *fn;

    if (intern_names())
        return NULL;
    if (!real_print) {
        real_print = Py_NewRef(real);
        /* help(print) reads as before: the real one's text, kept for the process. */
        doc = PyObject_GetAttrString(real, "__doc__");
        if (doc && PyUnicode_Check(doc)) {
            const char *d = PyUnicode_AsUTF8(doc);
            print_def.ml_doc = d ? strdup(d) : NULL;
        }
        Py_XDECREF(doc);
        PyErr_Clear();
    }
    builtins = PyImport_ImportModule("builtins");
    if (!builtins)
        return NULL;
    modname = PyUnicode_FromString("builtins");
    fn = modname ? PyCFunction_NewEx(&print_def, builtins, modname) : NULL;
    Py_XDECREF(modname);
    Py_DECREF(builtins);
    return fn;
}

/* ---- writes to sys.stdout and sys.stderr, in C ----
 *
 * The program's own sys.stdout.write(...) (and writelines, which io implements by calling
 * self.write per line) is marked as a `write`. The stream object gets an instance attribute
 * `write`, found before its class's method, that calls the class's write exactly as the
 * attribute lookup would have (same arguments, result, exceptions, buffering) and marks
 * the text once it is written. Only io.TextIOWrapper objects, whose class defines no
 * __slots__ and no __setattr__ of its own, are patched (_markers.py); writes through print
 * or a log handler are left to those markers (quiet_writes). The self of the function is
 * the stream, so the calls show as TextIOWrapper.write in mode all, as before. */

static PyObject *s_write, *s_kind_write;
static PyObject *patched[2];        /* the streams patched: stdout, stderr (strong) */
static PyObject *patched_fn[2];     /* and what their `write` attribute was set to */

static void write_marker(PyObject *stream, PyObject *text)
{
    ft_exc_state exc;
    PyObject *fields;

    ft_exc_save(&exc);
    fields = PyDict_New();
    if (fields && PyDict_SetItem(fields, s_text, text) == 0 &&
        PyDict_SetItem(fields, s_file, stream == patched[0] ? s_stdout : s_stderr) == 0)
        record(FT_REC_MARKER, s_kind_write, s_kind_write, 0, fields);
    Py_XDECREF(fields);
    ft_exc_restore(&exc);
}

static PyObject *traced_write(PyObject *stream, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    PyObject *descr, *bound, *res;
    descrgetfunc get;

    /* The class's write, bound as an attribute lookup that skipped this one would bind it. */
    descr = _PyType_Lookup(Py_TYPE(stream), s_write);
    if (!descr) {
        PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute 'write'",
                     Py_TYPE(stream)->tp_name);
        return NULL;
    }
    Py_INCREF(descr);
    get = Py_TYPE(descr)->tp_descr_get;
    bound = get ? get(descr, stream, (PyObject *)Py_TYPE(stream)) : Py_NewRef(descr);
    Py_DECREF(descr);
    if (!bound)
        return NULL;
    res = ft_vectorcall(bound, args, (size_t)nargs, kwnames);
    Py_DECREF(bound);
    if (res && ft_g.active && !quiet_writes && nargs == 1 && !kwnames &&
        PyUnicode_Check(args[0]) && PyUnicode_GET_LENGTH(args[0]) > 0)
        write_marker(stream, args[0]);
    return res;
}

static PyMethodDef write_def = {
    "write", (PyCFunction)(void (*)(void))traced_write, METH_FASTCALL | METH_KEYWORDS,
    "write(s)\n--\n\nWrite s to the stream (its class's write), recorded as a 'write' "
    "marker by functiontrace."
};

/* stream_write(stream, which) -> the function to set as stream.write; which: 0 stdout,
 * 1 stderr. The stream is remembered, to tell its writes apart and to undo at stop. */
static PyObject *stream_write(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    long which;
    PyObject *fn;

    if (nargs != 2 || intern_names())
        return nargs != 2 ? PyErr_Format(PyExc_TypeError, "stream_write(stream, which)") : NULL;
    which = PyLong_AsLong(args[1]);
    if (which != 0 && which != 1)
        return PyErr_Occurred() ? NULL : PyErr_Format(PyExc_ValueError, "which: 0 or 1");
    if (!s_write && !(s_write = PyUnicode_InternFromString("write")))
        return NULL;
    if (!s_kind_write && !(s_kind_write = PyUnicode_InternFromString("write")))
        return NULL;
    fn = PyCFunction_NewEx(&write_def, args[0], NULL);
    if (!fn)
        return NULL;
    Py_XSETREF(patched[which], Py_NewRef(args[0]));
    Py_XSETREF(patched_fn[which], Py_NewRef(fn));
    return fn;
}

/* quiet_writes(delta): writes of this thread are not marked while the count is above 0
 * (a log record's handlers: its log marker has the text). */
static PyObject *quiet(PyObject *m, PyObject *arg)
{
    long d = PyLong_AsLong(arg);

    if (d == -1 && PyErr_Occurred())
        return NULL;
    quiet_writes += (int)d;
    if (quiet_writes < 0)
        quiet_writes = 0;
    Py_RETURN_NONE;
}

void ft_markers_stop(void)
{
    ft_exc_state exc;

    ft_exc_save(&exc);
    for (int i = 0; i < 2; i++) {
        PyObject *d = patched[i] ? PyObject_GetAttrString(patched[i], "__dict__") : NULL;
        /* Only if the attribute is still ours: the program may have set its own. */
        if (d && PyDict_Check(d) && PyDict_GetItemWithError(d, s_write) == patched_fn[i])
            PyDict_DelItem(d, s_write);
        Py_XDECREF(d);
        PyErr_Clear();
        Py_CLEAR(patched[i]);
        Py_CLEAR(patched_fn[i]);
    }
    ft_exc_restore(&exc);
}

/* ---- exceptions, 3.12+ ----
 *
 * The callbacks of sys.monitoring's RAISE and EXCEPTION_HANDLED events (_markers.py
 * registers them under a tool id of its own). In C, so that an exception costs a marker and
 * not a Python function's worth of work. RAISE comes again in every frame an exception
 * propagates into: only the first, whose traceback holds the raising frame alone, is a
 * raise. Exceptions of the recorder's own files, and of the import system's frozen modules
 * (each import raises and handles a few KeyErrors; the import markers show imports), are
 * left out. */

static PyObject *skip_files;     /* a frozenset of co_filename values */
static PyObject *s_kind_exc, *s_event, *s_exception, *s_message, *s_where;
static PyObject *s_raise, *s_handled, *s_frozen_importlib;

static int exc_names(void)
{
    if (s_kind_exc)
        return 0;
    s_kind_exc = PyUnicode_InternFromString("exception");
    s_event = PyUnicode_InternFromString("event");
    s_exception = PyUnicode_InternFromString("exception");
    s_message = PyUnicode_InternFromString("message");
    s_where = PyUnicode_InternFromString("where");
    s_raise = PyUnicode_InternFromString("raise");
    s_handled = PyUnicode_InternFromString("handled");
    s_frozen_importlib = PyUnicode_InternFromString("<frozen importlib");
    return s_kind_exc && s_event && s_exception && s_message && s_where && s_raise &&
           s_handled && s_frozen_importlib ? 0 : -1;
}

static int skipped_code(PyObject *code)
{
    PyObject *file;
    int skip;

    if (!PyCode_Check(code))
        return 1;
    file = ((PyCodeObject *)code)->co_filename;
    if (!file || !PyUnicode_Check(file))
        return 1;
    if (PyUnicode_Tailmatch(file, s_frozen_importlib, 0, PY_SSIZE_T_MAX, -1) == 1)
        return 1;
    skip = skip_files ? PySet_Contains(skip_files, file) : 0;
    PyErr_Clear();
    return skip == 1;
}

/* "function (file:line)" of the running frame. */
static PyObject *frame_where(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyFrameObject *f = PyEval_GetFrame();
    PyCodeObject *code;
    PyObject *res;

    if (!f)
        return PyUnicode_FromString("");
    code = PyFrame_GetCode(f);
    res = PyUnicode_FromFormat("%U (%U:%d)", code->co_qualname, code->co_filename,
                               PyFrame_GetLineNumber(f));
    Py_DECREF(code);
    return res;
#else
    return PyUnicode_FromString("");
#endif
}

int ft_markers_describe(PyObject *exc, PyObject **name, PyObject **qual, PyObject **msg)
{
    PyObject *type = (PyObject *)Py_TYPE(exc);

    *name = PyObject_GetAttrString(type, "__name__");
    *qual = PyObject_GetAttrString(type, "__qualname__");
    *msg = PyObject_Str(exc);
    if (!*msg) {
        PyErr_Clear();
        *msg = PyUnicode_FromString("<unprintable>");
    }
    PyErr_Clear();
    if (*name && *qual && *msg && PyUnicode_Check(*name))
        return 0;
    Py_CLEAR(*name);
    Py_CLEAR(*qual);
    Py_CLEAR(*msg);
    return -1;
}

static void put_exception(PyObject *event, PyObject *name, PyObject *qual, PyObject *msg,
                          PyObject *where, uint64_t at)
{
    PyObject *fields = PyDict_New();

    if (fields && PyDict_SetItem(fields, s_event, event) == 0 &&
        PyDict_SetItem(fields, s_exception, qual) == 0 &&
        PyDict_SetItem(fields, s_message, msg) == 0 &&
        PyDict_SetItem(fields, s_where, where) == 0)
        record_at(FT_REC_MARKER, s_kind_exc, name, 0, fields, at);
    Py_XDECREF(fields);
}

void ft_markers_exception(int handled, PyObject *name, PyObject *qual, PyObject *msg,
                          PyObject *where, uint64_t at)
{
    ft_exc_state saved;

    if (!s_kind_exc)
        return;
    ft_exc_save(&saved);
    put_exception(handled ? s_handled : s_raise, name, qual, msg, where, at);
    ft_exc_restore(&saved);
}

int ft_markers_skipped_code(PyObject *code)
{
    return !s_frozen_importlib || skipped_code(code);
}

static void exception_marker(PyObject *event, PyObject *exc)
{
    ft_exc_state saved;
    PyObject *name, *qual, *msg, *where;

    ft_exc_save(&saved);
    where = frame_where();
    if (where && ft_markers_describe(exc, &name, &qual, &msg) == 0) {
        put_exception(event, name, qual, msg, where, 0);
        Py_DECREF(name);
        Py_DECREF(qual);
        Py_DECREF(msg);
    }
    Py_XDECREF(where);
    ft_exc_restore(&saved);
}

/* GeneratorExit in a generator's or coroutine's own frame: it is being closed (close(), or
 * dropped while suspended), which is not an exception of the program's; left out on every
 * version (before 3.12 every close throws it, exctrack.c). */
static int closing(PyObject *code, PyObject *exc)
{
    return (((PyCodeObject *)code)->co_flags &
            (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) &&
           PyErr_GivenExceptionMatches(exc, PyExc_GeneratorExit);
}

/* on_raise(code, offset, exc) */
static PyObject *on_raise(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *tb;
    int first;

    if (!ft_g.active || nargs != 3 || skipped_code(args[0]) ||
        !PyExceptionInstance_Check(args[2]) || closing(args[0], args[2]))
        Py_RETURN_NONE;
    tb = PyException_GetTraceback(args[2]);
    first = !tb || !PyTraceBack_Check(tb) || ((PyTracebackObject *)tb)->tb_next == NULL;
    Py_XDECREF(tb);
    if (first)
        exception_marker(s_raise, args[2]);
    Py_RETURN_NONE;
}

/* on_handled(code, offset, exc) */
static PyObject *on_handled(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (ft_g.active && nargs == 3 && !skipped_code(args[0]) &&
        PyExceptionInstance_Check(args[2]) && !closing(args[0], args[2]))
        exception_marker(s_handled, args[2]);
    Py_RETURN_NONE;
}

static PyMethodDef exc_defs[] = {
    { "on_raise", (PyCFunction)(void (*)(void))on_raise, METH_FASTCALL, NULL },
    { "on_handled", (PyCFunction)(void (*)(void))on_handled, METH_FASTCALL, NULL },
};

/* exception_hooks(skip_files) -> (on_raise, on_handled) */
static PyObject *exception_hooks(PyObject *m, PyObject *files)
{
    PyObject *r, *h, *res;

    if (exc_names())
        return NULL;
    Py_XSETREF(skip_files, PyFrozenSet_New(files));
    if (!skip_files)
        return NULL;
    r = PyCFunction_New(&exc_defs[0], NULL);
    h = PyCFunction_New(&exc_defs[1], NULL);
    res = r && h ? PyTuple_Pack(2, r, h) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(h);
    return res;
}

/* exception_tracking(skip_files): exception markers from the unwinds the call hooks see,
 * before 3.12 (exctrack.h), ignoring code of the files in skip_files. */
static PyObject *exception_tracking(PyObject *m, PyObject *files)
{
    if (exc_names())
        return NULL;
    Py_XSETREF(skip_files, PyFrozenSet_New(files));
    if (!skip_files)
        return NULL;
#if PY_VERSION_HEX < 0x030C0000
    ft_exctrack_enabled = 1;
#endif
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
    { "wrap_print", wrap_print, METH_O,
      "wrap_print(real_print)\n--\n\n"
      "A print that calls real_print and records what it wrote as a 'print' marker." },
    { "stream_write", (PyCFunction)(void (*)(void))stream_write, METH_FASTCALL,
      "stream_write(stream, which)\n--\n\n"
      "A function to set as stream.write (which: 0 for sys.stdout, 1 for sys.stderr) that "
      "writes through the stream's class and records a 'write' marker; undone at stop()." },
    { "quiet_writes", quiet, METH_O,
      "quiet_writes(delta)\n--\n\n"
      "Add delta to this thread's count of reasons not to mark writes (a log record being "
      "handled: its marker has the text)." },
    { "exception_hooks", exception_hooks, METH_O,
      "exception_hooks(skip_files)\n--\n\n"
      "(on_raise, on_handled): sys.monitoring callbacks for RAISE and EXCEPTION_HANDLED that "
      "record 'exception' markers (3.12+), ignoring code of the files in skip_files." },
    { "exception_tracking", exception_tracking, METH_O,
      "exception_tracking(skip_files)\n--\n\n"
      "Before 3.12: record 'exception' markers (raise, handled) from the frames the call "
      "hooks see left by an exception, ignoring code of the files in skip_files." },
    { "now", now, METH_NOARGS,
      "now()\n--\n\nThe trace's clock, in ns (the time base of markers and events)." },
    { NULL, NULL, 0, NULL }
};
