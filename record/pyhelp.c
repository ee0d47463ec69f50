/* pyhelp.c — see pyhelp.h. */
#include "pyhelp.h"

#include <string.h>

const char *ft_py_utf8(PyObject *s, Py_ssize_t *len, PyObject **keep)
{
    const char *p;

    *len = 0;
    if (!s || !PyUnicode_Check(s))
        return "";
    p = PyUnicode_AsUTF8AndSize(s, len);
    if (p)
        return p;
    PyErr_Clear();
    *keep = PyUnicode_AsEncodedString(s, "utf-8", "replace");
    if (!*keep) {
        PyErr_Clear();
        *len = 0;
        return "";
    }
    *len = PyBytes_GET_SIZE(*keep);
    return PyBytes_AS_STRING(*keep);
}

size_t ft_utf8_copy(char *dst, size_t cap, const char *src, size_t len)
{
    if (len > cap) {
        len = cap;
        /* Back up over continuation bytes to the start of the character that did not fit. */
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, src, len);
    return len;
}
