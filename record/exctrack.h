/* exctrack.h — `exception` markers before 3.12, from the frames the call hooks see left.
 *
 * 3.12+ reports raises and handlers itself (sys.monitoring, markers.c). Before, the hooks
 * see only frames being left by an exception: the profile hook's RETURN with no value and
 * C_EXCEPTION, the frame evaluator's NULL result. From those, per thread:
 *
 *   - the first frame left while no exception is "in flight" is where one was raised: a
 *     `raise` marker there — if, as 3.12 decides it, the exception's traceback held that
 *     frame only (an exception caught earlier and raised again is no new raise);
 *   - further frames left by the same exception keep it in flight;
 *   - the thread's next event of any other kind (a call, a return, a resume) runs in the
 *     frame where it stopped, which took it: a `handled` marker there. None when no Python
 *     frame is left: it escaped the thread, and the excepthook marks it `uncaught`;
 *   - an exception raised anew while one is in flight (an `except` block raising) means
 *     the first was taken where the new one appears.
 *
 * An exception raised and caught inside one frame leaves no frame: it is not seen.
 *
 * The exception itself (type, message) comes from where the backend can see it. The frame
 * evaluator can: it is pending when the evaluator returns NULL. The profile hook cannot:
 * CPython fetches it before calling the hook. So while an exception is in flight, and only
 * then, the setprofile backend puts a C trace function on the thread (if the thread has no
 * trace function of its own), whose PyTrace_EXCEPTION event, in the next Python frame the
 * exception reaches, hands it over (ft_exctrack_seen); the raise marker waits for it, with
 * the time of the unwind. The trace function is off again at the thread's next event, so
 * the program never sees it (sys.gettrace() is a call: it lands first, and it would read
 * None anyway: the trace object is NULL).
 *
 * Cost on a call or a return: in the profile hook, one test of ft_tls.exc_flying (the
 * hook does far more per event); in the frame evaluator, none: a flight holds the thread's
 * limit at 0 (ft_tstate_hold), so that the event that ends it takes the slow path of a full
 * buffer, which the evaluator checks before recording, and an unwind is tracked in the
 * branch that already tells a NULL result apart. The rest runs only on unwinds and on the
 * one event that ends a flight. Exceptions of the recorder's own files and of the frozen
 * import system are left out, as on 3.12 (markers.c), and their str() is not
 * even computed unless they reach other code. str() of an exception may run the program's
 * code: it runs with the thread muted (tstate.h), so it is neither recorded as the
 * program's calls nor tracked again.
 *
 * Everything runs with the GIL held, only while ft_exctrack_enabled (markers installed,
 * functiontrace._markers) and recording. */
#ifndef FT_EXCTRACK_H
#define FT_EXCTRACK_H

#include "session.h"

#if PY_VERSION_HEX < 0x030C0000
#define FT_EXCTRACK 1

#include "tstate.h"

/* Where an exception was raised or taken. */
typedef struct ft_exc_site {
    PyObject *code;       /* the Python frame's code (borrowed); NULL: no Python frame */
    PyObject *frame;      /* its frame object (borrowed) for its line, or NULL: line */
    int line;
    PyObject *back;       /* code of the next Python frame down (borrowed), NULL unknown */
    PyObject *native;     /* the builtin that raised or took it (borrowed), or NULL */
} ft_exc_site;

extern int ft_exctrack_enabled;

static inline int ft_exctrack_flying(void)
{
    return ft_tls.exc_flying;
}

/* site is left by an exception. pending: the exception is the pending one (the frame
 * evaluator). Otherwise (the profile hook) returns 1 when the backend should arrange for
 * ft_exctrack_seen (a new flight began), else 0. Call it after recording the UNWIND. */
int ft_exctrack_unwind(const ft_exc_site *site, int pending);

/* The exception (value, normalized; tb its traceback) has reached the frame running code,
 * as a trace function's PyTrace_EXCEPTION reports it. */
void ft_exctrack_seen(PyObject *code, PyObject *frame, PyObject *value, PyObject *tb);

/* The thread's next event after a flight: the exception was taken at site. Call it before
 * recording the event. */
void ft_exctrack_landed(const ft_exc_site *site);

#endif
#endif
