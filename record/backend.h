/* backend.h — installing and removing the hooks. Exactly one backend is compiled in:
 * backend_monitoring.c (sys.monitoring, Python 3.12+) or backend_setprofile.c
 * (PyEval_SetProfile, up to 3.11); each file is empty for the other interpreters. Both feed
 * events.h. */
#ifndef FT_BACKEND_H
#define FT_BACKEND_H

#include "session.h"

#if PY_VERSION_HEX >= 0x030C0000
#define FT_BACKEND_MONITORING 1
#define FT_BACKEND_NAME "monitoring"
#else
#define FT_BACKEND_SETPROFILE 1
#define FT_BACKEND_NAME "setprofile"
#endif

/* Install the hooks for ft_g.mode_all (module: the extension module, for callables bound to
 * it). 0, or -1 with an exception set and nothing installed. */
int ft_backend_install(PyObject *module);

/* Remove the hooks. Best effort: never raises (problems are reported as unraisable). */
void ft_backend_uninstall(void);

/* Module-level functions the backend adds (NULL-terminated table; may be empty). */
extern PyMethodDef ft_backend_methods[];

#endif
