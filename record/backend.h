/* backend.h — installing and removing the hooks, and which hooks a recording uses.
 *
 * Three backends feed events.h / tstate.h; two are compiled in for each interpreter:
 *
 *   backend_setprofile.c   PyEval_SetProfile, Python 3.8–3.11         both modes
 *   backend_monitoring.c   sys.monitoring (PEP 669), Python 3.12+     both modes
 *   backend_evalframe.c    a PEP 523 frame evaluator, every version   mode "python" only
 *
 * The choice is made at run time, at each start(), by backend.c: mode "python" takes the
 * frame evaluator where it measured faster (FT_EVALFRAME_PREFERRED) and the interpreter's
 * frame-evaluation slot is still the default one; otherwise, and for mode "all", the
 * interpreter's profiling backend (FT_BACKEND_NAME). The environment variable
 * FUNCTIONTRACE_BACKEND (setprofile|monitoring|evalframe) overrides the choice, for
 * measurements and for working around a backend. */
#ifndef FT_BACKEND_H
#define FT_BACKEND_H

#include "session.h"

/* The profiling backend of this interpreter: the one mode "all" uses, and the module's
 * BACKEND constant (the Python side bootstraps threads for it: threading.setprofile). */
#if PY_VERSION_HEX >= 0x030C0000
#define FT_BACKEND_MONITORING 1
#define FT_BACKEND_NAME "monitoring"
#else
#define FT_BACKEND_SETPROFILE 1
#define FT_BACKEND_NAME "setprofile"
#endif

#define FT_BACKEND_EVALFRAME_NAME "evalframe"

/* Whether mode "python" prefers the frame evaluator on this interpreter: on every version
 * measured so far (3.8–3.13, numbers in backend.c). */
#define FT_EVALFRAME_PREFERRED 1

typedef enum ft_backend_kind {
    FT_BACKEND_NONE = 0,
    FT_BACKEND_PROFILING,     /* FT_BACKEND_NAME: setprofile or monitoring */
    FT_BACKEND_EVALFRAME,
} ft_backend_kind;

/* Choose the backend of the next install for mode_all and return its name (FORMAT.md §4.1
 * header `backend`), or NULL with an exception set (FUNCTIONTRACE_BACKEND names a backend
 * that cannot serve that mode here). The header is written before the hooks go in, so the
 * choice comes first and ft_backend_install follows it. */
const char *ft_backend_choose(int mode_all);

/* Install the chosen backend (ft_backend_choose for ft_g.mode_all if none was chosen).
 * module: the extension module, for callables bound to it. 0, or -1 with an exception set
 * and nothing installed. */
int ft_backend_install(PyObject *module);

/* Remove whatever ft_backend_install installed. Best effort: never raises (problems are
 * reported as unraisable). */
void ft_backend_uninstall(void);

/* The backend installed now (FT_BACKEND_NONE between recordings). */
ft_backend_kind ft_backend_installed(void);

/* Module-level functions the profiling backend adds (NULL-terminated table; may be empty). */
extern PyMethodDef ft_backend_methods[];

/* ---- for backend.c: the backends themselves; same contracts as above ---- */

int ft_profiling_install(PyObject *module);
void ft_profiling_uninstall(void);

/* Whether the frame-evaluation slot holds CPython's default evaluator: the frame evaluator
 * never replaces another PEP 523 user's (a debugger's, a JIT's). */
int ft_evalframe_available(void);
int ft_evalframe_install(void);
void ft_evalframe_uninstall(void);

#endif
