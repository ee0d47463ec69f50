/* intern.h — function ids: code objects and native functions to dense integers.
 *
 * Python functions: the id lives in the code object's "extra" slot (PEP 523's co_extra), so
 * the lookup is one call and a compare, and it dies with the code object. The slot holds
 * (session generation << FT_FID_BITS) | (fid + 1): a second recording in the same process
 * (start, stop, start) writes a new file whose ids start again at 0, and the generation makes
 * every slot from the earlier file miss instead of handing out an id that the new file never
 * defined.
 *
 * Native functions: an open-addressing table keyed by the PyMethodDef pointer, which is the
 * same for a method's descriptor (list.append) and every bound form of it (x.append), and
 * which outlives its function objects. Cleared by ft_intern_reset.
 *
 * On first sight of a function the slow path names it (Python objects touched here, never on
 * the fast path), assigns the next id and queues its FUNC record with the writer before the
 * caller records any event with it. Fast paths never allocate, never call Python code and
 * never leave an exception set. */
#ifndef FT_INTERN_H
#define FT_INTERN_H

#include "session.h"

#if PY_VERSION_HEX >= 0x030C0000
#define FT_CODE_GETEXTRA PyUnstable_Code_GetExtra
#define FT_CODE_SETEXTRA PyUnstable_Code_SetExtra
#define FT_REQUEST_CODE_EXTRA_INDEX PyUnstable_Eval_RequestCodeExtraIndex
#else
#define FT_REQUEST_CODE_EXTRA_INDEX _PyEval_RequestCodeExtraIndex
#define FT_CODE_GETEXTRA _PyCode_GetExtra
#define FT_CODE_SETEXTRA _PyCode_SetExtra
#endif

#define FT_FID_BITS (sizeof(uintptr_t) >= 8 ? 32 : 24)
#define FT_FID_MASK (((uintptr_t)1 << FT_FID_BITS) - 1)

typedef struct ft_native_slot {
    const PyMethodDef *key;   /* NULL: empty */
    uint32_t fid;
} ft_native_slot;

typedef struct ft_intern_state {
    Py_ssize_t code_index;    /* our co_extra index, -1 until requested */
    uintptr_t code_tag;       /* generation << FT_FID_BITS of the current session */
    ft_native_slot *slots;
    size_t mask;              /* capacity - 1; capacity is a power of two */
    size_t used;
    uint32_t next_fid;
} ft_intern_state;

extern ft_intern_state ft_intern;

/* Once per process: request the code extra index. -1 with an exception set on failure. */
int ft_intern_init(void);
/* Start of a session (generation already bumped) and its end: ids restart at 0. */
void ft_intern_reset(uint32_t gen);
/* Functions defined so far in this session. */
uint32_t ft_intern_count(void);

/* Slow paths: name, assign, queue the definition. 0, or -1 when the id cannot be made
 * (out of memory): the caller drops the event. Never leave an exception set. frame is the
 * frame running code when the caller has it (≤ 3.11), else NULL. */
int ft_intern_code_slow(PyObject *code, PyObject *frame, uint32_t *fid);
int ft_intern_native_slow(const PyMethodDef *ml, PyObject *callable, uint32_t *fid);
/* As ft_intern_code_slow, for a caller that has the globals the code runs in (borrowed;
 * may be NULL) rather than a frame object: a frame evaluator, before any frame object. */
int ft_intern_code_slow_globals(PyObject *code, PyObject *globals, uint32_t *fid);

/* The display name (FORMAT.md §4.3) of a native function callable (a builtin function or
 * method, or a method descriptor) as a new str; NULL, with no exception set, for anything
 * else. Cold paths only. */
PyObject *ft_intern_native_name(PyObject *callable);

/* The id already given to code in this session: 1 and *fid set, or 0. */
static inline int ft_intern_code_known(PyObject *code, uint32_t *fid)
{
    void *extra;
    /* GetExtra fails only for a non-code object, which callers rule out. */
    if (FT_LIKELY(FT_CODE_GETEXTRA(code, ft_intern.code_index, &extra) == 0)) {
        uintptr_t v = (uintptr_t)extra;
        if (FT_LIKELY((v & ~FT_FID_MASK) == ft_intern.code_tag && (v & FT_FID_MASK))) {
            *fid = (uint32_t)((v & FT_FID_MASK) - 1);
            return 1;
        }
    }
    return 0;
}

static inline int ft_intern_code(PyObject *code, PyObject *frame, uint32_t *fid)
{
    if (FT_LIKELY(ft_intern_code_known(code, fid)))
        return 0;
    return ft_intern_code_slow(code, frame, fid);
}

static inline size_t ft_intern_hash(const PyMethodDef *ml)
{
    uint64_t h = (uint64_t)(uintptr_t)ml;
    h ^= h >> 29;
    h *= 0x9E3779B97F4A7C15u;
    return (size_t)(h >> 32);
}

static inline int ft_intern_native(const PyMethodDef *ml, PyObject *callable, uint32_t *fid)
{
    if (FT_LIKELY(ft_intern.slots != NULL)) {
        size_t i = ft_intern_hash(ml) & ft_intern.mask;
        for (;;) {
            const ft_native_slot *s = &ft_intern.slots[i];
            if (s->key == ml) {
                *fid = s->fid;
                return 0;
            }
            if (!s->key)
                break;
            i = (i + 1) & ft_intern.mask;
        }
    }
    return ft_intern_native_slow(ml, callable, fid);
}

#endif
