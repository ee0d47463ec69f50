/* session.h — the one recording of this process, as every part of record/ sees it.
 *
 * A trace is per process (one file, hooks that cover every thread), so the session is a
 * process-wide singleton rather than per-module state: hooks are called from any thread with
 * no module argument, and the hot path must find "are we recording?" in one load. The module
 * state (Python objects the cold paths need) is reached through ft_g.st while a session is
 * active; the session holds a reference to its module so that pointer stays valid.
 *
 * Everything here is read and written with the GIL held, except in the fork child handler
 * (single-threaded by then), so plain fields suffice. Free-threaded builds are not supported:
 * the module does not declare Py_mod_gil, so importing it there re-enables the GIL. */
#ifndef FT_SESSION_H
#define FT_SESSION_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#if defined(__GNUC__)
#define FT_LIKELY(x) __builtin_expect(!!(x), 1)
#define FT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define FT_LIKELY(x) (x)
#define FT_UNLIKELY(x) (x)
#endif

#if PY_VERSION_HEX < 0x03090000
#ifndef Py_IS_TYPE
#define Py_IS_TYPE(ob, type) (Py_TYPE(ob) == (type))
#endif
#endif

/* Python objects that cold paths (interning, thread names) need; owned by the module. */
typedef struct ft_modstate {
    PyObject *s_dunder_name;   /* "__name__" */
    PyObject *s_dunder_module; /* "__module__" */
    PyObject *s_threading;     /* "threading" */
    PyObject *s_active;        /* "_active" */
    PyObject *s_name;          /* "_name" */
    PyObject *s_sentinel;      /* key of our object in each thread's state dict */
} ft_modstate;

typedef struct ft_session {
    int active;          /* hooks record only while set */
    uint32_t gen;        /* bumped by every start(): stale thread-local and code caches miss */
    int mode_all;        /* record native calls too */
    int forked;          /* this process is a fork child of a recording process */
    PyObject *module;    /* strong reference while active */
    ft_modstate *st;     /* the module's state, valid while active */
} ft_session;

extern ft_session ft_g;

#endif
