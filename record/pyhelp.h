/* pyhelp.h — small helpers for the recorder's cold paths that touch Python objects.
 *
 * Hooks must never raise and must leave whatever exception was pending as they found it;
 * ft_exc_save/ft_exc_restore bracket every cold path that calls the C API. Text handed to
 * the format encoder is UTF-8: ft_py_utf8 borrows a str's cached UTF-8 when it can be made,
 * and falls back to a copy with replacement characters for strings that cannot be encoded
 * strictly (lone surrogates from undecodable file names). */
#ifndef FT_PYHELP_H
#define FT_PYHELP_H

#include "session.h"

typedef struct ft_exc_state {
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc;
#else
    PyObject *type, *value, *tb;
#endif
} ft_exc_state;

static inline void ft_exc_save(ft_exc_state *s)
{
#if PY_VERSION_HEX >= 0x030C0000
    s->exc = PyErr_GetRaisedException();
#else
    PyErr_Fetch(&s->type, &s->value, &s->tb);
#endif
}

/* Drops any exception raised since ft_exc_save and puts the saved one back. */
static inline void ft_exc_restore(ft_exc_state *s)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(s->exc);
#else
    PyErr_Restore(s->type, s->value, s->tb);
#endif
}

/* UTF-8 of s (a str; anything else or NULL gives ""). The bytes stay valid while s lives
 * and, when a replacement copy had to be made, while *keep lives (the caller releases
 * *keep with Py_XDECREF; it starts NULL). Clears any error it meets. */
const char *ft_py_utf8(PyObject *s, Py_ssize_t *len, PyObject **keep);

/* Copy at most cap bytes of UTF-8 into dst without cutting a character; returns the length
 * copied (dst is not NUL-terminated). */
size_t ft_utf8_copy(char *dst, size_t cap, const char *src, size_t len);

#endif
