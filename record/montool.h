/* montool.h — the sys.monitoring tool id the recorder holds (3.12+), for every backend
 * that registers sys.monitoring callbacks.
 *
 * The recorder claims sys.monitoring.PROFILER_ID (2), the id other profilers want too
 * (cProfile claims it on 3.12+). So that two profilers can run at once:
 *   - at install, when another tool holds 2, the recorder says so on stderr and takes one
 *     of the ids sys.monitoring assigns to no kind of tool (4, then 3); if none is free,
 *     install fails with a RuntimeError naming the holder of 2;
 *   - when the program claims the id the recorder holds (the Python side wraps
 *     sys.monitoring.use_tool_id to call yield_tool_id first), the recorder moves to another
 *     free id, enabling the new one before dropping the old, so that the trace has no gap
 *     and the program gets the id as it would have without the recorder.
 * One user at a time holds an id: the backend installed now. */
#ifndef FT_MONTOOL_H
#define FT_MONTOOL_H

#include "session.h"

#if PY_VERSION_HEX >= 0x030C0000

typedef struct ft_montool_cb {
    const char *event;        /* attribute of sys.monitoring.events */
    PyMethodDef def;          /* the callback; its self is the module given to install */
    int native;               /* registered in mode "all" only */
    long value;               /* the event's bit once registered, else 0 */
} ft_montool_cb;

typedef struct ft_montool_user {
    ft_montool_cb *cbs;
    size_t ncbs;
    /* Optional: called before an id of this user is given back (a user whose callbacks
     * return DISABLE re-enables those events here, or they would outlive the id). */
    void (*before_free)(PyObject *mon);
} ft_montool_user;

/* Claim an id for user and register its callbacks and events (mode "all" callbacks only
 * if ft_g.mode_all). module: self of the callbacks (may be NULL). 0, or -1 with an
 * exception set and nothing held. */
int ft_montool_install(ft_montool_user *user, PyObject *module);

/* Unregister and give the id back. Never raises (problems are reported as unraisable). */
void ft_montool_uninstall(void);

/* The id held now, or -1. */
int ft_montool_id(void);

/* yield_tool_id(tool_id), for the module (see the file comment). */
extern PyMethodDef ft_montool_methods[];

#endif
#endif
