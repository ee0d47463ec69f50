/* intern.c — the slow paths of function ids: naming a function the first time it is seen
 * and queueing its FUNC record (see intern.h for the fast paths and the id scheme). */
#include "intern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "ft_trace.h"
#include "pyhelp.h"
#include "tstate.h"
#include "writer.h"

#if PY_VERSION_HEX < 0x030B0000
#include <frameobject.h>
#endif

/* Longest native display name or module we write; longer ones are cut. */
#define NATIVE_NAME_CAP 256
#define NATIVE_INITIAL_SLOTS 256

ft_intern_state ft_intern = { .code_index = -1 };

/* Native functions the filter left out in this session, keyed like ft_intern's table (fid
 * unused): their events go through the slow path, which finds them here unnamed. */
static struct {
    ft_native_slot *slots;
    size_t mask;
    size_t used;
} left_out;

int ft_intern_init(void)
{
    if (ft_intern.code_index >= 0)
        return 0;
    /* The index is per interpreter and there are only 255 of them: take one for the life
     * of the process, not one per recording. No free function: the slot holds an integer. */
    ft_intern.code_index = FT_REQUEST_CODE_EXTRA_INDEX(NULL);
    if (ft_intern.code_index < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError,
                            "functiontrace: no code object extra slot is left");
        return -1;
    }
    return 0;
}

void ft_intern_reset(uint32_t gen)
{
    free(left_out.slots);
    left_out.slots = NULL;
    left_out.mask = 0;
    left_out.used = 0;
    free(ft_intern.slots);
    ft_intern.slots = NULL;
    ft_intern.mask = 0;
    ft_intern.used = 0;
    ft_intern.next_fid = 0;
    ft_intern.code_tag = (uintptr_t)gen << FT_FID_BITS;
}

uint32_t ft_intern_count(void)
{
    return ft_intern.next_fid;
}

static int next_fid(uint32_t *fid)
{
    if (ft_intern.next_fid >= FT_FID_MASK - 1)
        return -1;
    *fid = ft_intern.next_fid++;
    return 0;
}

/* The frame running `code`, as a new reference, or NULL. Monitoring callbacks do not get the
 * frame; the current one is the callee's at every PY_* event, but that is checked rather
 * than assumed. */
static PyObject *frame_of(PyObject *code, PyObject *frame)
{
    PyCodeObject *fc;

    if (!frame) {
#if PY_VERSION_HEX >= 0x030C0000
        frame = (PyObject *)PyEval_GetFrame();
#endif
        if (!frame)
            return NULL;
    }
#if PY_VERSION_HEX >= 0x03090000
    fc = PyFrame_GetCode((PyFrameObject *)frame);
    Py_DECREF(fc);
#else
    fc = ((PyFrameObject *)frame)->f_code;
#endif
    if ((PyObject *)fc != code)
        return NULL;
    Py_INCREF(frame);
    return frame;
}

/* __name__ of the globals the code runs in (given, or else those of the frame), as a new
 * reference, or NULL. */
static PyObject *module_name_of(PyObject *code, PyObject *frame, PyObject *globals)
{
    PyObject *f, *name = NULL;

    if (globals) {
        Py_INCREF(globals);
    } else {
        f = frame_of(code, frame);
        if (!f)
            return NULL;
#if PY_VERSION_HEX >= 0x030B0000
        globals = PyFrame_GetGlobals((PyFrameObject *)f);
#else
        globals = ((PyFrameObject *)f)->f_globals;
        Py_XINCREF(globals);
#endif
        Py_DECREF(f);
    }
    if (globals && PyDict_Check(globals)) {
        name = PyDict_GetItemWithError(globals, ft_g.st->s_dunder_name);
        Py_XINCREF(name);
    }
    Py_XDECREF(globals);
    return name;
}

/* The slot of code left out by the filter in this session: the session's tag with no id,
 * which the fast path (ft_intern_code_known) takes for a miss. */
static int left_out_code(PyObject *code)
{
    void *extra;

    return FT_CODE_GETEXTRA(code, ft_intern.code_index, &extra) == 0 &&
           (uintptr_t)extra == ft_intern.code_tag;
}

static int define_code(PyObject *code, PyObject *frame, PyObject *globals, uint32_t *fid)
{
    PyCodeObject *co = (PyCodeObject *)code;
    PyObject *keep[3] = { NULL, NULL, NULL }, *modname = NULL;
    const char *name, *file, *mod;
    Py_ssize_t name_len, file_len, mod_len;
    ft_exc_state exc;
    uint32_t id;
    int rc = -1;

    if (ft_intern.code_index < 0 || left_out_code(code))
        return -1;
    ft_exc_save(&exc);
    if (!ft_g.st)
        goto out;
#if PY_VERSION_HEX >= 0x030B0000
    name = ft_py_utf8(co->co_qualname, &name_len, &keep[0]);
#else
    name = ft_py_utf8(co->co_name, &name_len, &keep[0]);
#endif
    file = ft_py_utf8(co->co_filename, &file_len, &keep[1]);
    modname = module_name_of(code, frame, globals);
    mod = ft_py_utf8(modname, &mod_len, &keep[2]);
    if (ft_filter_has_patterns() &&
        !ft_filter_wants(mod, (size_t)mod_len, file, (size_t)file_len)) {
        FT_CODE_SETEXTRA(code, ft_intern.code_index, (void *)ft_intern.code_tag);
        goto out;
    }
    if (next_fid(&id))
        goto out;
    if (FT_CODE_SETEXTRA(code, ft_intern.code_index,
                         (void *)(ft_intern.code_tag | ((uintptr_t)id + 1))) < 0) {
        /* Without the slot every event of this code would define it anew; drop instead. */
        ft_intern.next_fid--;
        goto out;
    }
    ft_writer_add_func(id, FT_FUNC_PYTHON, name, (size_t)name_len, mod, (size_t)mod_len,
                       file, (size_t)file_len, co->co_firstlineno > 0 ? co->co_firstlineno : 0);
    *fid = id;
    rc = 0;
out:
    Py_XDECREF(modname);
    for (int i = 0; i < 3; i++)
        Py_XDECREF(keep[i]);
    ft_exc_restore(&exc);
    return rc;
}

/* Naming a function allocates: those allocations are the recorder's (tstate.h). */
int ft_intern_code_slow(PyObject *code, PyObject *frame, uint32_t *fid)
{
    int rc;

    ft_mem_busy++;
    rc = define_code(code, frame, NULL, fid);
    ft_mem_busy--;
    return rc;
}

int ft_intern_code_slow_globals(PyObject *code, PyObject *globals, uint32_t *fid)
{
    int rc;

    ft_mem_busy++;
    rc = define_code(code, NULL, globals, fid);
    ft_mem_busy--;
    return rc;
}

/* ---- native functions ---- */

/* The type in t's MRO whose method table holds ml: the name a method is known by
 * (list.append even when called on a subclass instance). */
static PyTypeObject *defining_type(PyTypeObject *t, const PyMethodDef *ml)
{
    PyObject *mro = t->tp_mro;

    if (!mro || !PyTuple_Check(mro))
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *b = PyTuple_GET_ITEM(mro, i);
        const PyMethodDef *m;
        if (!PyType_Check(b))
            continue;
        for (m = ((PyTypeObject *)b)->tp_methods; m && m->ml_name; m++) {
            if (m == ml)
                return (PyTypeObject *)b;
        }
    }
    return NULL;
}

/* Short name and module of a type: "collections.deque" → deque, collections; static types
 * without a dot live in builtins; classes written in Python keep theirs in __module__. */
static void type_names(PyTypeObject *t, const char **tname, size_t *tname_len,
                       const char **mod, size_t *mod_len, PyObject **keep)
{
    const char *tp = t->tp_name, *dot = strrchr(tp, '.');
    Py_ssize_t n;

    if (dot) {
        *tname = dot + 1;
        *tname_len = strlen(dot + 1);
        *mod = tp;
        *mod_len = (size_t)(dot - tp);
        return;
    }
    *tname = tp;
    *tname_len = strlen(tp);
    *mod = "builtins";
    *mod_len = 8;
    if ((t->tp_flags & Py_TPFLAGS_HEAPTYPE) && t->tp_dict) {
        PyObject *m = PyDict_GetItemWithError(t->tp_dict, ft_g.st->s_dunder_module);
        if (m && PyUnicode_Check(m)) {
            *mod = ft_py_utf8(m, &n, keep);
            *mod_len = (size_t)n;
        }
    }
}

/* Display name (FORMAT.md §4.3) and module of a native function. */
static void native_names(const PyMethodDef *ml, PyObject *callable,
                         char *name, size_t *name_len, char *mod, size_t *mod_len)
{
    PyTypeObject *owner = NULL;
    PyObject *keep = NULL, *modobj = NULL;
    const char *m = "", *tn;
    size_t ml_len = 0, tn_len;
    Py_ssize_t n;
    int r;

    if (Py_IS_TYPE(callable, &PyMethodDescr_Type)) {
        owner = PyDescr_TYPE(callable);
    } else {
        PyCFunctionObject *f = (PyCFunctionObject *)callable;
        PyObject *self = f->m_self;
        if (!self || PyModule_Check(self)) {
            if (f->m_module && PyUnicode_Check(f->m_module)) {
                m = ft_py_utf8(f->m_module, &n, &keep);
                ml_len = (size_t)n;
            } else if (self) {
                modobj = PyModule_GetNameObject(self);
                m = ft_py_utf8(modobj, &n, &keep);
                ml_len = (size_t)n;
            }
        } else {
            /* A class method is bound to its class, a method to an instance; a method of
             * the metaclass (int.mro) is bound to a class but defined on type. */
            if (PyType_Check(self))
                owner = defining_type((PyTypeObject *)self, ml);
            if (!owner)
                owner = defining_type(Py_TYPE(self), ml);
            if (!owner)
                owner = PyType_Check(self) ? (PyTypeObject *)self : Py_TYPE(self);
        }
    }
    if (owner) {
        type_names(owner, &tn, &tn_len, &m, &ml_len, &keep);
        r = snprintf(name, NATIVE_NAME_CAP, "%.*s.%s", (int)tn_len, tn, ml->ml_name);
    } else if (ml_len) {
        r = snprintf(name, NATIVE_NAME_CAP, "%.*s.%s", (int)ml_len, m, ml->ml_name);
    } else {
        r = snprintf(name, NATIVE_NAME_CAP, "%s", ml->ml_name);
    }
    *name_len = r < 0 ? 0 : r >= NATIVE_NAME_CAP ? NATIVE_NAME_CAP - 1 : (size_t)r;
    *mod_len = ft_utf8_copy(mod, NATIVE_NAME_CAP, m, ml_len);
    Py_XDECREF(modobj);
    Py_XDECREF(keep);
}

PyObject *ft_intern_native_name(PyObject *callable)
{
    const PyMethodDef *ml;
    char name[NATIVE_NAME_CAP], mod[NATIVE_NAME_CAP];
    size_t name_len, mod_len;
    PyObject *res;

    if (PyCFunction_Check(callable))
        ml = ((PyCFunctionObject *)callable)->m_ml;
    else if (Py_IS_TYPE(callable, &PyMethodDescr_Type))
        ml = ((PyMethodDescrObject *)callable)->d_method;
    else
        return NULL;
    native_names(ml, callable, name, &name_len, mod, &mod_len);
    res = PyUnicode_DecodeUTF8(name, (Py_ssize_t)name_len, "replace");
    if (!res)
        PyErr_Clear();
    return res;
}

static void insert_unchecked(ft_native_slot *slots, size_t mask, const PyMethodDef *ml,
                             uint32_t fid)
{
    size_t i = ft_intern_hash(ml) & mask;
    while (slots[i].key)
        i = (i + 1) & mask;
    slots[i].key = ml;
    slots[i].fid = fid;
}

/* Keep a table at most half full so that probes stay short. */
static int reserve_slot(ft_native_slot **slots, size_t *mask, size_t used)
{
    size_t cap = *slots ? *mask + 1 : 0, ncap;
    ft_native_slot *ns;

    if (*slots && (used + 1) * 2 <= cap)
        return 0;
    ncap = cap ? cap * 2 : NATIVE_INITIAL_SLOTS;
    ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < cap; i++) {
        if ((*slots)[i].key)
            insert_unchecked(ns, ncap - 1, (*slots)[i].key, (*slots)[i].fid);
    }
    free(*slots);
    *slots = ns;
    *mask = ncap - 1;
    return 0;
}

static int is_left_out(const PyMethodDef *ml)
{
    size_t i;

    if (!left_out.slots)
        return 0;
    for (i = ft_intern_hash(ml) & left_out.mask; left_out.slots[i].key;
         i = (i + 1) & left_out.mask) {
        if (left_out.slots[i].key == ml)
            return 1;
    }
    return 0;
}

/* Remember that ml is left out; if that fails it is judged again next time. */
static void leave_out(const PyMethodDef *ml)
{
    if (reserve_slot(&left_out.slots, &left_out.mask, left_out.used) == 0) {
        insert_unchecked(left_out.slots, left_out.mask, ml, 0);
        left_out.used++;
    }
}

static int native_slow(const PyMethodDef *ml, PyObject *callable, uint32_t *fid);

int ft_intern_native_slow(const PyMethodDef *ml, PyObject *callable, uint32_t *fid)
{
    int rc;

    ft_mem_busy++;
    rc = native_slow(ml, callable, fid);
    ft_mem_busy--;
    return rc;
}

static int native_slow(const PyMethodDef *ml, PyObject *callable, uint32_t *fid)
{
    char name[NATIVE_NAME_CAP], mod[NATIVE_NAME_CAP];
    size_t name_len, mod_len;
    ft_exc_state exc;
    uint32_t id;
    int rc = -1;

    if (is_left_out(ml))
        return -1;
    ft_exc_save(&exc);
    if (!ft_g.st)
        goto out;
    native_names(ml, callable, name, &name_len, mod, &mod_len);
    if (ft_filter_has_patterns() && !ft_filter_wants(mod, mod_len, "", 0)) {
        leave_out(ml);
        goto out;
    }
    if (reserve_slot(&ft_intern.slots, &ft_intern.mask, ft_intern.used) || next_fid(&id))
        goto out;
    insert_unchecked(ft_intern.slots, ft_intern.mask, ml, id);
    ft_intern.used++;
    ft_writer_add_func(id, FT_FUNC_NATIVE, name, name_len, mod, mod_len, "", 0, 0);
    *fid = id;
    rc = 0;
out:
    ft_exc_restore(&exc);
    return rc;
}
