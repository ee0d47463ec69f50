/* events.h — the one interface between the hook backends and the rest of the recorder.
 *
 * A backend (backend_monitoring.c on 3.12+, backend_setprofile.c before) turns whatever its
 * interpreter reports into calls of these two functions, with the record type of FORMAT.md
 * §4.4 already chosen. (backend_evalframe.c holds each frame's push and pop in one C call,
 * so it interns once and writes through tstate.h itself, with the same rules.) They are the hot path: inlined into each callback, they read one
 * flag, one thread-local slot, the function id, the clock, and append a few bytes to the
 * thread's buffer. They never raise, allocate (outside slow paths) or call Python.
 *
 * Timestamps: a push (CALL, RESUME) reads the clock as late as possible and a pop as early as
 * possible, so that the recorder's own work lands in the caller's time rather than in the
 * callee's. */
#ifndef FT_EVENTS_H
#define FT_EVENTS_H

#include "session.h"
#include "clock.h"
#include "filter.h"
#include "intern.h"
#include "tstate.h"

/* Recording while a depth limit is set (ft_g.active == FT_ACTIVE_LIMITED): the same, with
 * the depth counted (filter.c). Out of line: the hot path only tests ft_g.active. */
void ft_events_code_limited(int type, PyObject *code, PyObject *frame);
void ft_events_native_limited(int type, PyObject *callable);

/* An event of Python code. frame: the running frame when the backend has it, else NULL
 * (used only the first time code is seen, for its module name). */
static inline void ft_events_code_put(int type, PyObject *code, PyObject *frame)
{
    ft_tstate *ts;
    uint64_t now = 0;
    uint32_t fid;

    ts = ft_tstate_current();
    if (FT_UNLIKELY(!ts))
        return;
    if (!ft_rec_is_push(type))
        now = ft_clock_fast();
    if (FT_UNLIKELY(ft_intern_code(code, frame, &fid)))
        return;
    if (ft_rec_is_push(type))
        now = ft_clock_fast();
    ft_tstate_put(ts, type, fid, now);
}

static inline void ft_events_code(int type, PyObject *code, PyObject *frame)
{
    if (FT_UNLIKELY(ft_g.active != FT_ACTIVE)) {
        if (ft_g.active)
            ft_events_code_limited(type, code, frame);
        return;
    }
    ft_events_code_put(type, code, frame);
}

/* The PyMethodDef of a callable the legacy profiler would report as a C call (a builtin
 * function or method, or a method descriptor), else NULL. */
static inline const PyMethodDef *ft_events_native_def(PyObject *callable)
{
    if (PyCFunction_Check(callable))
        return ((PyCFunctionObject *)callable)->m_ml;
    if (Py_IS_TYPE(callable, &PyMethodDescr_Type))
        return ((PyMethodDescrObject *)callable)->d_method;
    return NULL;
}

/* An event of native function ml (callable is one of its forms). */
static inline void ft_events_native_put(int type, const PyMethodDef *ml, PyObject *callable)
{
    ft_tstate *ts;
    uint64_t now = 0;
    uint32_t fid;

    ts = ft_tstate_current();
    if (FT_UNLIKELY(!ts))
        return;
    if (!ft_rec_is_push(type))
        now = ft_clock_fast();
    if (FT_UNLIKELY(ft_intern_native(ml, callable, &fid)))
        return;
    if (ft_rec_is_push(type))
        now = ft_clock_fast();
    ft_tstate_put(ts, type, fid, now);
}

/* An event of a native function; callables that are not native functions are ignored. */
static inline void ft_events_native(int type, PyObject *callable)
{
    const PyMethodDef *ml;

    if (FT_UNLIKELY(ft_g.active != FT_ACTIVE)) {
        if (ft_g.active)
            ft_events_native_limited(type, callable);
        return;
    }
    ml = ft_events_native_def(callable);
    if (ml)
        ft_events_native_put(type, ml, callable);
}

#endif
