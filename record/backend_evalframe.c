/* backend_evalframe.c — Python calls through a PEP 523 frame evaluator, every version.
 *
 * The interpreter hands every Python frame it is about to run to the interpreter's frame
 * evaluator. Ours records the push, runs the frame with CPython's own evaluator, and records
 * the pop: two events per frame with no frame object, no callback object, no argument
 * tuple and no Python-level call in between, which is why mode "python" costs less here
 * than through the profiling hooks (backend.c says where it is chosen). It cannot see
 * native calls, so mode "all" never uses it.
 *
 * The slot is per interpreter: every thread is covered from the moment it is set,
 * including threads already running and threads threading never saw. A frame evaluator
 * also turns off 3.11+'s inlined Python-to-Python calls (ceval checks `eval_frame == NULL`
 * before pushing a callee in place, and the specialised calls DEOPT_IF it is set), so every
 * Python frame does come through here, at the price of a C-stack level per Python level:
 * see "Recursion" below.
 *
 * Event mapping (FORMAT.md §4.4): a frame entered for the first time → CALL; a generator or
 * coroutine frame entered again → RESUME; the evaluator returning a value → RETURN, or
 * YIELD when the frame is suspended rather than finished; returning NULL (an exception
 * leaving the frame) → UNWIND. How each version tells these apart:
 *
 *   ≤ 3.10  A frame is a PyFrameObject. f_lasti is -1 until its first instruction runs, so
 *           f_lasti >= 0 on entry means a resumed generator (after `yield from`/`await` it
 *           points just before the instruction that resumes, never back to -1). Suspended:
 *           f_stacktop != NULL (3.8, 3.9: set only by a yield, cleared on entry), f_state ==
 *           FRAME_SUSPENDED (3.10) — what genobject.c itself tests after each send.
 *   3.11+   A frame is a _PyInterpreterFrame. Calling a generator function runs a frame
 *           that only executes RETURN_GENERATOR (it copies itself into the new generator
 *           and returns it): not recorded, as neither profiling backend reports it. A
 *           generator's own frame (owner FRAME_OWNED_BY_GENERATOR) has not started while
 *           its last instruction lies before the first RESUME (_co_firsttraceable; the
 *           RETURN_GENERATOR/POP_TOP prefix); every yield lies after it. Suspended:
 *           gi_frame_state < FRAME_EXECUTING (FRAME_SUSPENDED, and 3.13's
 *           FRAME_SUSPENDED_YIELD_FROM) — gen_send_ex2's own test.
 *
 * Only a frame whose push was recorded gets a pop, and only in the same recording: frames
 * already running at start() are not seen leaving (FORMAT.md lets decoders ignore such
 * pops anyway), and a stop()/start() inside a frame drops its pop rather than writing an id
 * the new file never defined.
 *
 * Exceptions: the hook itself raises nothing, and a pending exception (the one throw()
 * injects, or the one leaving the frame) is left as it is: the slow paths it may take
 * (a thread's first event, a function's first sight, a full buffer) save and restore it.
 *
 * Another PEP 523 user (a debugger, a JIT) keeps its evaluator: backend.c only installs
 * this one over CPython's default, and uninstalling restores the slot only if it still
 * holds ours. If someone stacked their evaluator on top of ours meanwhile, ours stays in
 * their chain, inert (it records nothing while inactive). Because the slot held the
 * default when we took it, we call _PyEval_EvalFrameDefault directly: a direct call, not
 * an indirect one, on every Python call.
 *
 * Recursion: every Python level now costs a C-stack level (ceval → vectorcall → us →
 * ceval), as it did before 3.11. 3.12+ charges each such entry against its C recursion
 * limit (3.12.1: 1500 units, 2 per entry), which alone would make a recursion 750 deep
 * raise RecursionError under the recorder: run() gives that charge back. The real C stack
 * is guarded instead (3.11+, where untraced Python levels take none): once a thread is down
 * to the last quarter of its stack, the next Python call through us is refused with
 * CPython's own RecursionError (refuse()) — about 10000 levels on an 8 MiB stack, where the
 * untraced program would only have met its recursion limit.
 *
 * 3.13 inlines one call without asking the frame evaluator: __init__ of simple classes,
 * which sys.monitoring records instead (see "3.13: __init__" below). */

/* The frame layouts (3.11+: pycore_frame.h) and, on 3.8, the interpreter state that holds
 * the slot exist only in CPython's internal headers; this file alone sees them. */
#define Py_BUILD_CORE 1

#include "backend.h"

#include <frameobject.h>
#include <pthread.h>

#if PY_VERSION_HEX >= 0x030B0000
#include <internal/pycore_frame.h>
#elif PY_VERSION_HEX < 0x03090000
#include <internal/pycore_pystate.h>
#endif

#include "clock.h"
#include "exctrack.h"
#include "filter.h"
#include "intern.h"
#include "pyhelp.h"
#include "tstate.h"

#define GEN_FLAGS (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)

static PyInterpreterState *owner_interp;

/* ---- exceptions before 3.12 (exctrack.h) ----
 *
 * A frame left by an exception is reported with the exception still pending; the next
 * push (in the caller, which took it) or the next pop of a frame that returns (it took it)
 * ends the flight. Out of line: the hot path tests one thread-local flag. 3.12+ has
 * sys.monitoring for this (markers.c). */

#ifdef FT_EXCTRACK
static inline PyCodeObject *code_of_object(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x030B0000
    return f->f_frame->f_code;
#else
    return f->f_code;
#endif
}

/* At a push: the frame about to run is not current yet, its caller is. */
static void __attribute__((noinline)) exc_landed_in_caller(void)
{
    ft_exc_state exc;
    PyFrameObject *f;
    ft_exc_site site = { NULL, NULL, 0, NULL, NULL };

    ft_exc_save(&exc);      /* throw() resumes a generator with its exception pending */
    f = PyEval_GetFrame();
    if (f) {
        site.code = (PyObject *)code_of_object(f);
        site.frame = (PyObject *)f;
    }
    ft_exctrack_landed(&site);
    ft_exc_restore(&exc);
}
#endif

/* ---- the hot path ---- */

#ifdef FT_EXCTRACK
static void __attribute__((noinline)) push_slow(ft_tstate *ts, int type, uint32_t fid,
                                               uint64_t now)
{
    if (ts->exc_hold)
        exc_landed_in_caller();
    ft_tstate_put(ts, type, fid, now);
}
#endif

/* Record a push of code; 0 with *fid set, or -1 when nothing was recorded (and so no pop
 * may be). Before 3.12 the slow path of a full buffer is taken here first, where the push
 * that ends an exception's flight is met (exctrack.h: the limit is held at 0 meanwhile):
 * ft_tstate_put's own test of the limit, right after, is the same and folds away. */
static inline __attribute__((always_inline)) int
push(ft_tstate **tsp, int type, PyObject *code, PyObject *globals,
                       uint32_t *fid)
{
    ft_tstate *ts = ft_tstate_current();
    uint64_t now;

    if (FT_UNLIKELY(!ts))
        return -1;
    if (FT_UNLIKELY(!ft_intern_code_known(code, fid)) &&
        ft_intern_code_slow_globals(code, globals, fid))
        return -1;
    now = ft_clock_fast();
#ifdef FT_EXCTRACK
    if (FT_UNLIKELY(ft_tstate_full(ts)))
        push_slow(ts, type, *fid, now);
    else
#endif
        ft_tstate_put(ts, type, *fid, now);
    *tsp = ts;
    return 0;
}

#ifdef FT_EXCTRACK
/* The frame that returns or yields (a PyFrameObject, or 3.11's interpreter frame of co). */
static void exc_landed_here(void *frame, PyCodeObject *co);

static void __attribute__((noinline)) pop_slow(ft_tstate *ts, int type, uint32_t fid,
                                              void *frame, PyCodeObject *co)
{
    if (ts->exc_hold && type != FT_REC_UNWIND)
        exc_landed_here(frame, co);
    ft_tstate_put(ts, type, fid, ft_clock_fast());
}
#endif

/* Record the pop matching a push of recording gen. ts stays valid while that recording
 * goes on: thread states are only freed by stop()/start(), which end it. frame and co: the
 * frame, for the slow path before 3.12 (see push). */
static inline __attribute__((always_inline)) void
pop(ft_tstate *ts, int type, uint32_t fid, uint32_t gen, void *frame,
                       PyCodeObject *co)
{
    uint64_t now = ft_clock_fast();

    if (FT_LIKELY(ft_g.active && ft_g.gen == gen)) {
#ifdef FT_EXCTRACK
        if (FT_UNLIKELY(ft_tstate_full(ts))) {
            pop_slow(ts, type, fid, frame, co);
            return;
        }
#endif
        ft_tstate_put(ts, type, fid, now);
    }
}

#if PY_VERSION_HEX >= 0x030B0000

/* ---- 3.11+: the C stack ---- */

/* Lowest address this thread's C stack may reach before a Python call through us is
 * refused; 0 until known, 1 when it cannot be known (no guard). initial-exec: no
 * __tls_get_addr on the hot path. */
static __thread uintptr_t stack_floor __attribute__((tls_model("initial-exec")));

/* What is left below the floor is for CPython's own C recursion (its counters assume they
 * have the whole stack): a quarter of the stack (2 MiB of the usual 8 MiB: ~10000 Python
 * levels fit above it), at least 64 KiB (half of a smaller stack). */
static uintptr_t find_stack_floor(void)
{
    const size_t min_margin = 64u << 10;
    pthread_attr_t attr;
    size_t size, margin;
    void *low;
    int err;

    if (pthread_getattr_np(pthread_self(), &attr))
        return 1;
    err = pthread_attr_getstack(&attr, &low, &size);
    pthread_attr_destroy(&attr);
    if (err || !low)
        return 1;
    margin = size / 4;
    if (margin < min_margin)
        margin = size / 2 < min_margin ? size / 2 : min_margin;
    return (uintptr_t)low + margin;
}

static inline int stack_low(void)
{
    uintptr_t floor = stack_floor;

    if (FT_UNLIKELY(!floor))
        floor = stack_floor = find_stack_floor();
    return FT_UNLIKELY((uintptr_t)__builtin_frame_address(0) < floor);
}

/* The C levels CPython 3.12+ charges each entry of _PyEval_EvalFrameDefault
 * (PY_EVAL_C_STACK_UNITS in ceval.c). */
#define EVAL_C_UNITS 2

/* Run the frame with CPython's evaluator, giving back on 3.12+ the C-recursion charge of
 * entering it (see "Recursion" at the top; the real stack is watched by stack_low). */
static inline PyObject *run(PyThreadState *t, _PyInterpreterFrame *frame, int throwflag)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *res;

    t->c_recursion_remaining += EVAL_C_UNITS;
    res = _PyEval_EvalFrameDefault(t, frame, throwflag);
    t->c_recursion_remaining -= EVAL_C_UNITS;
    return res;
#else
    return _PyEval_EvalFrameDefault(t, frame, throwflag);
#endif
}

/* The C stack is nearly used up by Python levels, each of which costs a C level through
 * us: have CPython's evaluator refuse the frame with its own RecursionError (its recursion
 * check runs before the frame's first instruction and unwinds the frame properly) rather
 * than let the process die of a stack overflow that the untraced program would not have
 * had. The counter is put back as it was, as after any call. */
static PyObject *refuse(PyThreadState *t, _PyInterpreterFrame *frame, int throwflag)
{
    PyObject *res;
#if PY_VERSION_HEX >= 0x030C0000
    int saved = t->c_recursion_remaining;

    t->c_recursion_remaining = 0;
    res = _PyEval_EvalFrameDefault(t, frame, throwflag);
    t->c_recursion_remaining = saved;
#else
    int saved = t->recursion_remaining;

    t->recursion_remaining = 0;
    res = _PyEval_EvalFrameDefault(t, frame, throwflag);
    t->recursion_remaining = saved;
#endif
    return res;
}

/* A frame counted by ft_depth_enter but not recorded: run it, then count its end. */
static PyObject *run_then_leave(PyThreadState *t, _PyInterpreterFrame *frame, int throwflag)
{
    PyObject *res = run(t, frame, throwflag);

    ft_depth_leave();
    return res;
}

/* ---- 3.11+: frames ---- */

static inline PyCodeObject *code_of(_PyInterpreterFrame *frame)
{
#if PY_VERSION_HEX >= 0x030D0000
    return (PyCodeObject *)frame->f_executable;
#else
    return frame->f_code;
#endif
}

/* Index of the code unit the frame resumes after (3.11, 3.12: prev_instr) or at (3.13:
 * instr_ptr). */
static inline Py_ssize_t last_index(_PyInterpreterFrame *frame, PyCodeObject *co)
{
#if PY_VERSION_HEX >= 0x030D0000
    return frame->instr_ptr - _PyCode_CODE(co);
#else
    return frame->prev_instr - _PyCode_CODE(co);
#endif
}

#if PY_VERSION_HEX >= 0x030D0000
static int init_is_monitored(PyCodeObject *co);
#else
#define init_is_monitored(co) 0
#endif

#ifdef FT_EXCTRACK
/* 3.11 only. The frame is still whole when the evaluator returns: _PyEval_Vector clears a
 * thread-owned frame after its evaluation (3.12 clears it inside), a generator's frame
 * lives in the generator. */
static inline int frame_line(_PyInterpreterFrame *frame, PyCodeObject *co)
{
    return PyCode_Addr2Line(co, (int)(last_index(frame, co) * (Py_ssize_t)sizeof(_Py_CODEUNIT)));
}

/* A frame that returned or yielded after an exception was in flight: it took it. */
static void exc_landed_here(void *f, PyCodeObject *co)
{
    _PyInterpreterFrame *frame = f;
    ft_exc_site site = { (PyObject *)co, NULL, frame_line(frame, co), NULL, NULL };

    ft_exctrack_landed(&site);
}

static void __attribute__((noinline)) exc_unwound(_PyInterpreterFrame *frame, PyCodeObject *co)
{
    _PyInterpreterFrame *prev = frame->previous;
    ft_exc_site site = { (PyObject *)co, NULL, frame_line(frame, co),
                         prev ? (PyObject *)code_of(prev) : NULL, NULL };

    ft_exctrack_unwind(&site, 1);
}
#endif

/* The frame evaluation of a recording; limited (a constant) when a depth limit is set: the
 * depth is then counted around every frame that would be recorded (filter.h). */
static inline __attribute__((always_inline)) PyObject *
eval_recording(PyThreadState *t, _PyInterpreterFrame *frame, int throwflag, int limited)
{
    PyCodeObject *co;
    PyGenObject *gen = NULL;
    PyObject *res;
    ft_tstate *ts;
    uint32_t fid, session;
    int type = FT_REC_CALL;

    co = code_of(frame);
    if (frame->owner == FRAME_OWNED_BY_GENERATOR) {
        gen = _PyFrame_GetGenerator(frame);
        if (last_index(frame, co) > co->_co_firsttraceable)
            type = FT_REC_RESUME;
    } else if (!PyCode_Check(co) || (co->co_flags & GEN_FLAGS) || init_is_monitored(co)) {
        return run(t, frame, throwflag);
    }
    if (limited && ft_depth_enter())
        return run_then_leave(t, frame, throwflag);
    if (push(&ts, type, (PyObject *)co, frame->f_globals, &fid))
        return limited ? run_then_leave(t, frame, throwflag) : run(t, frame, throwflag);
    session = ft_g.gen;
    /* A thread-owned frame is popped and cleared by the time this returns: read nothing
     * of it afterwards. A generator's frame lives inside the generator, which its caller
     * holds. */
    res = run(t, frame, throwflag);
    if (FT_UNLIKELY(!res)) {
        pop(ts, FT_REC_UNWIND, fid, session, frame, co);
#ifdef FT_EXCTRACK
        if (ft_exctrack_enabled)
            exc_unwound(frame, co);
#endif
    } else {
        type = gen && gen->gi_frame_state < FRAME_EXECUTING ? FT_REC_YIELD : FT_REC_RETURN;
        pop(ts, type, fid, session, frame, co);
    }
    if (limited)
        ft_depth_leave();
    return res;
}

static PyObject *__attribute__((noinline))
eval_limited(PyThreadState *t, _PyInterpreterFrame *frame, int throwflag)
{
    return eval_recording(t, frame, throwflag, 1);
}

static PyObject *eval(PyThreadState *t, _PyInterpreterFrame *frame, int throwflag)
{
    if (FT_UNLIKELY(stack_low()))
        return refuse(t, frame, throwflag);
    if (FT_UNLIKELY(ft_g.active != FT_ACTIVE))
        return ft_g.active ? eval_limited(t, frame, throwflag) : run(t, frame, throwflag);
    return eval_recording(t, frame, throwflag, 0);
}

#else /* ≤ 3.10 */

static inline int suspended(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x030A0000
    return f->f_state == FRAME_SUSPENDED;
#else
    return f->f_stacktop != NULL;
#endif
}

#if PY_VERSION_HEX >= 0x03090000
#define EVAL_ARGS PyThreadState *t, PyFrameObject *f, int throwflag
#define EVAL_DEFAULT(t, f, throwflag) _PyEval_EvalFrameDefault(t, f, throwflag)
#else
#define EVAL_ARGS PyFrameObject *f, int throwflag
#define EVAL_DEFAULT(t, f, throwflag) _PyEval_EvalFrameDefault(f, throwflag)
#endif

/* A frame that returned or yielded after an exception was in flight: it took it. */
static void exc_landed_here(void *frame, PyCodeObject *co)
{
    PyFrameObject *f = frame;
    ft_exc_site site = { (PyObject *)f->f_code, (PyObject *)f, 0, NULL, NULL };

    ft_exctrack_landed(&site);
}

static void __attribute__((noinline)) exc_unwound(PyFrameObject *f)
{
    ft_exc_site site = { (PyObject *)f->f_code, (PyObject *)f, 0,
                         f->f_back ? (PyObject *)f->f_back->f_code : NULL, NULL };

    ft_exctrack_unwind(&site, 1);
}

/* The frame object outlives this call: its caller (or its generator) holds it. limited: see
 * the 3.11+ eval_recording. */
static inline __attribute__((always_inline)) PyObject *eval_recording(EVAL_ARGS, int limited)
{
    PyObject *res;
    ft_tstate *ts;
    uint32_t fid, session;
    int type;

    type = f->f_lasti >= 0 ? FT_REC_RESUME : FT_REC_CALL;
    if (limited && ft_depth_enter()) {
        res = EVAL_DEFAULT(t, f, throwflag);
        ft_depth_leave();
        return res;
    }
    if (push(&ts, type, (PyObject *)f->f_code, f->f_globals, &fid)) {
        res = EVAL_DEFAULT(t, f, throwflag);
        if (limited)
            ft_depth_leave();
        return res;
    }
    session = ft_g.gen;
    res = EVAL_DEFAULT(t, f, throwflag);
    if (FT_UNLIKELY(!res)) {
        pop(ts, FT_REC_UNWIND, fid, session, f, NULL);
        if (ft_exctrack_enabled)
            exc_unwound(f);
    } else {
        pop(ts, suspended(f) ? FT_REC_YIELD : FT_REC_RETURN, fid, session, f, NULL);
    }
    if (limited)
        ft_depth_leave();
    return res;
}

#if PY_VERSION_HEX >= 0x03090000
#define EVAL_PASS t, f, throwflag
#else
#define EVAL_PASS f, throwflag
#endif

static PyObject *__attribute__((noinline)) eval_limited(EVAL_ARGS)
{
    return eval_recording(EVAL_PASS, 1);
}

static PyObject *eval(EVAL_ARGS)
{
    if (FT_UNLIKELY(ft_g.active != FT_ACTIVE))
        return ft_g.active ? eval_limited(EVAL_PASS) : EVAL_DEFAULT(t, f, throwflag);
    return eval_recording(EVAL_PASS, 0);
}

#endif

/* ---- 3.13: __init__ through sys.monitoring ---- */

#if PY_VERSION_HEX >= 0x030D0000

/* 3.13 pushes the __init__ frame of a simple class inline when it calls the class
 * (CALL_ALLOC_AND_ENTER_INIT), and unlike every other inlined call it does not check for a
 * frame evaluator first: once a call site is specialised, its __init__ never comes through
 * here (3.14 checks). So on 3.13 every code object named __init__ is left to sys.monitoring:
 * PY_START/PY_RETURN/PY_UNWIND for all code, and the callbacks return DISABLE for any other
 * code, so that each location of it costs one callback, once. The frame evaluator skips
 * __init__ code, so that no frame is recorded twice. The tool id is held through
 * montool.h, as the monitoring backend holds its own. */

#include "events.h"

#include "montool.h"

static PyObject *s_init, *s_disable;

static int init_is_monitored(PyCodeObject *co)
{
    PyObject *name = co->co_name;

    /* Names of code objects are interned, so the identity test almost always decides;
     * the comparison covers a code object built by hand. */
    return name == s_init || (PyUnicode_Check(name) && PyUnicode_GET_LENGTH(name) == 8 &&
                              PyUnicode_CompareWithASCIIString(name, "__init__") == 0);
}

/* local: the event can be disabled where it fired (PY_UNWIND cannot). */
static PyObject *init_event(int type, PyObject *const *args, Py_ssize_t nargs, int local)
{
    if (FT_LIKELY(nargs >= 1 && PyCode_Check(args[0]))) {
        if (init_is_monitored((PyCodeObject *)args[0])) {
            ft_events_code(type, args[0], NULL);
        } else if (local) {
            Py_INCREF(s_disable);
            return s_disable;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *on_init_start(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    return init_event(FT_REC_CALL, args, nargs, 1);
}

static PyObject *on_init_return(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    return init_event(FT_REC_RETURN, args, nargs, 1);
}

static PyObject *on_init_unwind(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    return init_event(FT_REC_UNWIND, args, nargs, 0);
}

#define CB(name, fn) { name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, NULL }

static ft_montool_cb init_callbacks[] = {
    { "PY_START", CB("_on_init_start", on_init_start), 0, 0 },
    { "PY_RETURN", CB("_on_init_return", on_init_return), 0, 0 },
    { "PY_UNWIND", CB("_on_init_unwind", on_init_unwind), 0, 0 },
};

/* Our DISABLEs would outlive the tool id: a profiler claiming it next (our own monitoring
 * backend in mode "all", or the program's cProfile) would miss those locations. This
 * re-enables the disabled events of every tool, as documented for sys.monitoring. */
static void restart_events(PyObject *mon)
{
    PyObject *r = PyObject_CallMethod(mon, "restart_events", NULL);
    if (!r)
        PyErr_WriteUnraisable(mon);
    Py_XDECREF(r);
}

static ft_montool_user init_user = {
    init_callbacks, sizeof init_callbacks / sizeof init_callbacks[0], restart_events,
};

/* 0, or -1 with an exception set and nothing left registered. The tool id is montool.h's:
 * it moves to a free id when the program claims it (cProfile inside a recorded program). */
static int init_monitor_start(void)
{
    PyObject *mon;

    if (!s_init && !(s_init = PyUnicode_InternFromString("__init__")))
        return -1;
    mon = PySys_GetObject("monitoring");   /* borrowed */
    if (!mon) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "functiontrace: sys.monitoring is missing");
        return -1;
    }
    if (!s_disable && !(s_disable = PyObject_GetAttrString(mon, "DISABLE")))
        return -1;
    return ft_montool_install(&init_user, NULL);
}

static void init_monitor_stop(void)
{
    ft_montool_uninstall();
}

#else
static int init_monitor_start(void)
{
    return 0;
}

static void init_monitor_stop(void)
{
}
#endif

/* ---- installing ---- */

#if PY_VERSION_HEX >= 0x03090000
static _PyFrameEvalFunction get_slot(PyInterpreterState *interp)
{
    return _PyInterpreterState_GetEvalFrameFunc(interp);
}

static void set_slot(PyInterpreterState *interp, _PyFrameEvalFunction fn)
{
    /* 3.11+ stores the default as NULL (the fast test in ceval): setting the default back
     * restores exactly the slot we found. */
    _PyInterpreterState_SetEvalFrameFunc(interp, fn);
}
#else
static _PyFrameEvalFunction get_slot(PyInterpreterState *interp)
{
    return interp->eval_frame;
}

static void set_slot(PyInterpreterState *interp, _PyFrameEvalFunction fn)
{
    interp->eval_frame = fn;
}
#endif

static PyInterpreterState *current_interp(void)
{
    return PyThreadState_Get()->interp;
}

int ft_evalframe_available(void)
{
    return get_slot(current_interp()) == _PyEval_EvalFrameDefault;
}

int ft_evalframe_install(void)
{
    PyInterpreterState *interp = current_interp();

    if (get_slot(interp) != _PyEval_EvalFrameDefault) {
        PyErr_SetString(PyExc_RuntimeError, "functiontrace: another frame evaluator (PEP "
                        "523) is installed in this interpreter");
        return -1;
    }
    if (init_monitor_start())
        return -1;
    set_slot(interp, eval);
    owner_interp = interp;
    return 0;
}

void ft_evalframe_uninstall(void)
{
    if (!owner_interp)
        return;
    if (get_slot(owner_interp) == eval)
        set_slot(owner_interp, _PyEval_EvalFrameDefault);
    owner_interp = NULL;
    init_monitor_stop();
}
