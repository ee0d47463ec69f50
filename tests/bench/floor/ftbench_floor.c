/* ftbench_floor.c — the benchmark's floors: hooks that do nothing, for `make bench`.
 *
 * A tracer cannot cost less than the interpreter's price for calling its hook at every
 * event. This module provides that price, measured on the same machine and interpreter as
 * the recorder, so that the recorder's overhead can be read as "floor + our work":
 *
 *   - empty_profile: an empty PyEval_SetProfile hook (every version). On 3.12+ the legacy
 *     hook is a shim over sys.monitoring that builds a frame object per event, which is why
 *     the recorder does not use it there; it stays as a reference point.
 *   - monitoring_callback: an empty sys.monitoring callback (3.12+), a C function that takes
 *     any arguments and returns None. It never returns sys.monitoring.DISABLE: the recorder
 *     keeps every event, so the floor must pay for every event too.
 *   - empty_eval: a PEP 523 frame evaluator that only calls CPython's default one (every
 *     version): the price of the recorder's evalframe backend before it records anything,
 *     mostly 3.11+'s Python-to-Python calls no longer being inlined.
 *
 * Which events are hooked, and for which threads, is policy and lives in floor_run.py; this
 * file holds only what has to be C. It is a benchmark tool: nothing in record/ or python/
 * uses it, and it is built into build/bench/, never into python/functiontrace/. */
#include <patchlevel.h>
#if PY_VERSION_HEX < 0x03090000
/* 3.8 keeps the frame-evaluation slot in the interpreter state, an internal structure. */
#define Py_BUILD_CORE 1
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h> /* PyFrameObject, for the hook's signature (not in Python.h on 3.8) */
#if PY_VERSION_HEX < 0x03090000
#include <internal/pycore_pystate.h>
#endif

/* The legacy profile hook. Returning 0 says "no error"; everything else is ignored. */
static int empty_profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    return 0;
}

PyDoc_STRVAR(install_setprofile_doc,
"install_setprofile()\n\n"
"Install the empty C profile hook in the calling thread.");

static PyObject *install_setprofile(PyObject *module, PyObject *unused)
{
    PyEval_SetProfile(empty_profile, NULL);
    Py_RETURN_NONE;
}

/* PyEval_SetProfile covers one thread. threading.setprofile(f) makes every thread started
 * later run sys.setprofile(f) before its target, so the first event of a new thread calls f
 * through the Python-level trampoline; f then replaces itself with the C hook, and that
 * thread's later events cost what they cost in the main thread. */
PyDoc_STRVAR(thread_bootstrap_doc,
"thread_bootstrap(frame, event, arg)\n\n"
"For threading.setprofile(): installs the empty C hook in the thread that calls it.");

static PyObject *thread_bootstrap(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyEval_SetProfile(empty_profile, NULL);
    Py_RETURN_NONE;
}

/* METH_FASTCALL: the interpreter calls it through vectorcall with no tuple built, which is
 * what a C sys.monitoring callback of the recorder gets too. */
PyDoc_STRVAR(monitoring_callback_doc,
"monitoring_callback(*args)\n\n"
"An empty sys.monitoring callback for any event: returns None.");

static PyObject *monitoring_callback(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_RETURN_NONE;
}

/* The empty frame evaluator; the frame types are opaque here, only passed on. */
#if PY_VERSION_HEX >= 0x030B0000
static PyObject *empty_eval(PyThreadState *t, struct _PyInterpreterFrame *f, int throwflag)
{
    return _PyEval_EvalFrameDefault(t, f, throwflag);
}
#elif PY_VERSION_HEX >= 0x03090000
static PyObject *empty_eval(PyThreadState *t, PyFrameObject *f, int throwflag)
{
    return _PyEval_EvalFrameDefault(t, f, throwflag);
}
#else
static PyObject *empty_eval(PyFrameObject *f, int throwflag)
{
    return _PyEval_EvalFrameDefault(f, throwflag);
}
#endif

PyDoc_STRVAR(install_evalframe_doc,
"install_evalframe()\n\n"
"Install the empty frame evaluator in the interpreter (every thread).");

static PyObject *install_evalframe(PyObject *module, PyObject *unused)
{
    PyInterpreterState *interp = PyThreadState_Get()->interp;
#if PY_VERSION_HEX >= 0x03090000
    _PyInterpreterState_SetEvalFrameFunc(interp, empty_eval);
#else
    interp->eval_frame = empty_eval;
#endif
    Py_RETURN_NONE;
}

static PyMethodDef floor_methods[] = {
    {"install_setprofile", install_setprofile, METH_NOARGS, install_setprofile_doc},
    {"install_evalframe", install_evalframe, METH_NOARGS, install_evalframe_doc},
    {"thread_bootstrap", (PyCFunction)(void (*)(void))thread_bootstrap, METH_FASTCALL,
     thread_bootstrap_doc},
    {"monitoring_callback", (PyCFunction)(void (*)(void))monitoring_callback, METH_FASTCALL,
     monitoring_callback_doc},
    {NULL, NULL, 0, NULL},
};

/* Multi-phase initialisation with no slots: the module has no state. */
static PyModuleDef_Slot floor_slots[] = {
    {0, NULL},
};

static struct PyModuleDef floor_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_ftbench_floor",
    .m_doc = "Empty profiling hooks: the floors of functiontrace's benchmark.",
    .m_size = 0,
    .m_methods = floor_methods,
    .m_slots = floor_slots,
};

PyMODINIT_FUNC PyInit__ftbench_floor(void);

PyMODINIT_FUNC PyInit__ftbench_floor(void)
{
    return PyModuleDef_Init(&floor_module);
}
