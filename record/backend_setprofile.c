/* backend_setprofile.c — hooks through PyEval_SetProfile, Python 3.8–3.11.
 *
 * The legacy profile hook is per thread. start() installs it on every thread of the
 * interpreter that exists at that moment (3.9+ through _PyEval_SetProfile, which is how
 * 3.12's PyEval_SetProfileAllThreads does it; on 3.8 by setting the thread-state fields the
 * same way PyEval_SetProfile does). Threads started later by threading get it from
 * threading.setprofile(thread_hook), which the Python side sets: threading calls
 * sys.setprofile(thread_hook) in the new thread, so thread_hook is called, through the
 * sys.setprofile trampoline, for the new thread's first event. It then installs the C hook
 * for its thread directly and records the event it was called for, so that a thread's first
 * event is kept. Threads of _thread.start_new_thread get it from wrap_start_new_thread,
 * which the Python side puts in place of that function: the new thread runs a C trampoline
 * that installs the hook, then calls the thread's function (the trampoline itself is no
 * frame, so the stacks are what they would be). Native threads calling into Python are not
 * traced unless they existed at start().
 *
 * Event mapping: PyTrace_CALL → CALL; PyTrace_RETURN → RETURN, or UNWIND when the frame is
 * left by an exception (the hook then gets a NULL return value); a generator's yield comes as
 * RETURN and its resumption as CALL (FORMAT.md allows it). In mode "all", C_CALL / C_RETURN /
 * C_EXCEPTION → CALL / RETURN / UNWIND; the interpreter reports these only for builtin
 * functions and methods, binding method descriptors first. */
/* 3.11's frame object is opaque outside CPython's internal headers (pycore_frame.h);
 * code_of reads it directly rather than through the exported PyFrame_GetCode. */
#define Py_BUILD_CORE 1

#include "backend.h"

#ifdef FT_BACKEND_SETPROFILE

#include <frameobject.h>
#if PY_VERSION_HEX >= 0x030B0000
#include <internal/pycore_frame.h>
#endif

#include "events.h"
#include "exctrack.h"
#include "pyhelp.h"

/* The frame's code, borrowed (the frame keeps it alive). Read from the struct on every
 * version: PyFrame_GetCode (3.9+) is an out-of-line call with a reference to take and drop,
 * twice per traced call. */
static inline PyObject *code_of(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    return (PyObject *)frame->f_frame->f_code;
#else
    return (PyObject *)frame->f_code;
#endif
}

static int set_profile(PyThreadState *t, Py_tracefunc func)
{
#if PY_VERSION_HEX >= 0x03090000
    return _PyEval_SetProfile(t, func, NULL);
#else
    PyObject *old;
    if (t == PyThreadState_Get()) {
        PyEval_SetProfile(func, NULL);
        return 0;
    }
    old = t->c_profileobj;
    t->c_profilefunc = NULL;
    t->c_profileobj = NULL;
    t->use_tracing = t->c_tracefunc != NULL;
    Py_XDECREF(old);
    t->c_profilefunc = func;
    t->use_tracing = func != NULL || t->c_tracefunc != NULL;
    return 0;
#endif
}

/* ---- exceptions (exctrack.h) ----
 *
 * The profile hook never sees the exception that leaves a frame: CPython fetches it before
 * calling the hook. While one is in flight, the thread gets exc_trace as its C trace
 * function (when it has none), set in the thread state as PyEval_SetTrace would but with
 * no audit event and no line events (those need the interpreter's tracing_possible count
 * before 3.11, which is left alone; 3.11 reports lines, which exc_trace ignores), and CPython
 * hands exc_trace the exception in the next Python frame it reaches. The fields are read
 * back by CPython when the hook returns (use_tracing). */

static int exc_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    if (what == PyTrace_EXCEPTION && arg && PyTuple_Check(arg) && PyTuple_GET_SIZE(arg) == 3)
        ft_exctrack_seen(code_of(frame), (PyObject *)frame, PyTuple_GET_ITEM(arg, 1),
                         PyTuple_GET_ITEM(arg, 2));
    return 0;
}

static void exc_trace_set(PyThreadState *t, int on)
{
    if (on && !t->c_tracefunc) {
        t->c_tracefunc = exc_trace;
        t->c_traceobj = NULL;
    } else if (!on && t->c_tracefunc == exc_trace) {
        t->c_tracefunc = NULL;
    }
}

static PyFrameObject *back_of(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyFrameObject *back = PyFrame_GetBack(frame);   /* new reference, or NULL */
    Py_XDECREF(back);      /* the frame below is alive while this one runs */
    return back;
#else
    return frame->f_back;
#endif
}

/* A frame (or, with native, a builtin it called) left by an exception. */
static void __attribute__((noinline))
exc_unwind(PyFrameObject *frame, PyObject *native)
{
    PyFrameObject *back = native ? NULL : back_of(frame);
    ft_exc_site site = { code_of(frame), (PyObject *)frame, 0,
                         back ? code_of(back) : NULL, native };

    if (ft_exctrack_unwind(&site, 0))
        exc_trace_set(PyThreadState_Get(), 1);
}

/* The first event after a flight, other than an unwind. */
static void __attribute__((noinline))
exc_landed(PyFrameObject *frame, int what, PyObject *arg)
{
    ft_exc_site site = { NULL, NULL, 0, NULL, NULL };

    /* The frame that took it: a call's caller, else the frame the event is about. */
    if (what == PyTrace_CALL)
        frame = back_of(frame);
    if (frame) {
        site.code = code_of(frame);
        site.frame = (PyObject *)frame;
    }
    if (what == PyTrace_C_RETURN)       /* a builtin swallowed it (getattr's default) */
        site.native = arg;
    ft_exctrack_landed(&site);
    exc_trace_set(PyThreadState_Get(), 0);
}

static int profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    if (FT_UNLIKELY(!ft_g.active)) {
        /* A thread stop() could not reach (it reaches all it can), or a fork child. */
        PyEval_SetProfile(NULL, NULL);
        return 0;
    }
    if (FT_UNLIKELY(ft_exctrack_flying()) && what != PyTrace_C_EXCEPTION &&
        (what != PyTrace_RETURN || arg))
        exc_landed(frame, what, arg);
    switch (what) {
    case PyTrace_CALL:
        ft_events_code(FT_REC_CALL, code_of(frame), (PyObject *)frame);
        break;
    case PyTrace_RETURN:
        if (arg) {
            ft_events_code(FT_REC_RETURN, code_of(frame), (PyObject *)frame);
        } else {
            ft_events_code(FT_REC_UNWIND, code_of(frame), (PyObject *)frame);
            if (ft_exctrack_enabled)
                exc_unwind(frame, NULL);
        }
        break;
    case PyTrace_C_CALL:
        if (ft_g.mode_all)
            ft_events_native(FT_REC_CALL, arg);
        break;
    case PyTrace_C_RETURN:
        if (ft_g.mode_all)
            ft_events_native(FT_REC_RETURN, arg);
        break;
    case PyTrace_C_EXCEPTION:
        if (ft_g.mode_all)
            ft_events_native(FT_REC_UNWIND, arg);
        if (ft_exctrack_enabled)
            exc_unwind(frame, arg);
        break;
    default:
        break;
    }
    return 0;
}

/* thread_hook(frame, event, arg): see the file comment. Called by the sys.setprofile
 * trampoline, which would uninstall itself if this raised; so it never does. */
static PyObject *thread_hook(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    static const struct { const char *name; int what; } whats[] = {
        { "call", PyTrace_CALL }, { "return", PyTrace_RETURN }, { "c_call", PyTrace_C_CALL },
        { "c_return", PyTrace_C_RETURN }, { "c_exception", PyTrace_C_EXCEPTION },
    };

    /* In mode "python" the frame evaluator may record instead (backend.h); the Python side
     * bootstraps threads for this backend all the same, and a profile hook here would
     * record every Python call twice. */
    if (!ft_g.active || ft_backend_installed() != FT_BACKEND_PROFILING) {
        PyEval_SetProfile(NULL, NULL);
        Py_RETURN_NONE;
    }
    PyEval_SetProfile(profile, NULL);
    if (nargs != 3 || !PyFrame_Check(args[0]) || !PyUnicode_Check(args[1]))
        Py_RETURN_NONE;
    for (size_t i = 0; i < sizeof whats / sizeof whats[0]; i++) {
        if (PyUnicode_CompareWithASCIIString(args[1], whats[i].name) == 0) {
            /* The trampoline turns a NULL return value into None, so an exception leaving
             * this first frame is recorded as RETURN. */
            profile(NULL, (PyFrameObject *)args[0], whats[i].what, args[2]);
            break;
        }
    }
    Py_RETURN_NONE;
}

/* The first thing a _thread.start_new_thread thread runs: self is (function, args,
 * kwargs). Installs the hook (while recording with it), then runs the function as the
 * thread's bootstrap would, reporting an exception with the same words, since the
 * bootstrap would otherwise name this trampoline instead of the function. */
static PyObject *thread_trampoline(PyObject *self, PyObject *unused)
{
    PyObject *fn = PyTuple_GET_ITEM(self, 0), *kwargs = PyTuple_GET_ITEM(self, 2), *res;

    if (ft_g.active && ft_backend_installed() == FT_BACKEND_PROFILING)
        PyEval_SetProfile(profile, NULL);
    res = PyObject_Call(fn, PyTuple_GET_ITEM(self, 1), kwargs == Py_None ? NULL : kwargs);
    if (!res) {
        if (PyErr_ExceptionMatches(PyExc_SystemExit))
            PyErr_Clear();
        else
            _PyErr_WriteUnraisableMsg("in thread started by", fn);
        Py_RETURN_NONE;
    }
    return res;
}

static PyMethodDef trampoline_def = {
    "thread_trampoline", thread_trampoline, METH_NOARGS, NULL
};

/* start_new_thread(function, args, kwargs=None), bound to the real one (self). */
static PyObject *start_new_thread(PyObject *real, PyObject *args)
{
    PyObject *fn, *fargs, *kwargs = Py_None, *packed, *tramp, *res;

    /* The real function's checks and messages, for whatever is not ours to check. */
    if (!PyArg_ParseTuple(args, "OO|O:start_new_thread", &fn, &fargs, &kwargs) ||
        !PyCallable_Check(fn) || !PyTuple_Check(fargs) ||
        (kwargs != Py_None && !PyDict_Check(kwargs)))
        return PyErr_Occurred() ? NULL : PyObject_Call(real, args, NULL);
    packed = PyTuple_Pack(3, fn, fargs, kwargs);
    if (!packed)
        return NULL;
    tramp = PyCFunction_NewEx(&trampoline_def, packed, NULL);
    Py_DECREF(packed);
    if (!tramp)
        return NULL;
    res = PyObject_CallFunction(real, "O()", tramp);
    Py_DECREF(tramp);
    return res;
}

static PyMethodDef start_new_thread_def = {
    "start_new_thread", start_new_thread, METH_VARARGS,
    "start_new_thread(function, args, kwargs=None)\n--\n\n"
    "_thread.start_new_thread, with the recorder's hook installed in the new thread."
};

static PyObject *wrap_start_new_thread(PyObject *m, PyObject *real)
{
    return PyCFunction_NewEx(&start_new_thread_def, real, NULL);
}

PyMethodDef ft_backend_methods[] = {
    { "thread_hook", (PyCFunction)(void (*)(void))thread_hook, METH_FASTCALL,
      "thread_hook(frame, event, arg)\n--\n\n"
      "For threading.setprofile(): installs the recorder's hook in the calling thread and "
      "records the event it is called for." },
    { "wrap_start_new_thread", wrap_start_new_thread, METH_O,
      "wrap_start_new_thread(real)\n--\n\n"
      "A replacement for _thread.start_new_thread (real) whose threads install the "
      "recorder's hook before running their function." },
    { NULL, NULL, 0, NULL }
};

static PyInterpreterState *interp(void)
{
#if PY_VERSION_HEX >= 0x03090000
    return PyThreadState_GetInterpreter(PyThreadState_Get());
#else
    return PyThreadState_Get()->interp;
#endif
}

int ft_profiling_install(PyObject *module)
{
    PyThreadState *t;

    for (t = PyInterpreterState_ThreadHead(interp()); t; t = PyThreadState_Next(t)) {
        if (set_profile(t, profile) < 0) {
            ft_profiling_uninstall();
            return -1;
        }
    }
    return 0;
}

void ft_profiling_uninstall(void)
{
    ft_exc_state exc;
    PyThreadState *t;

    ft_exc_save(&exc);
    for (t = PyInterpreterState_ThreadHead(interp()); t; t = PyThreadState_Next(t)) {
        exc_trace_set(t, 0);     /* a thread stopped mid-flight: before use_tracing is reset */
        if (t->c_profilefunc == profile && set_profile(t, NULL) < 0)
            PyErr_WriteUnraisable(NULL);
    }
    ft_exc_restore(&exc);
}

#endif
