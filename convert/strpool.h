/* strpool.h — interned byte strings with dense ids.
 *
 * One pool per trace file holds every string the converter keeps from it: function names,
 * modules, file names, thread names. Records are decoded in place from a frame that is
 * gone by the next frame, so strings must be copied; interning also means a file name
 * shared by a thousand functions is stored once and compared as an integer afterwards.
 * Strings are arbitrary bytes (the trace may hold invalid UTF-8); the JSON writer cleans
 * them on output. */
#ifndef FT_STRPOOL_H
#define FT_STRPOOL_H

#include <stddef.h>
#include <stdint.h>
#include "ft_buf.h"
#include "ft_mpack.h"

typedef struct ft_strpool {
    ft_buf bytes;        /* all strings back to back */
    size_t *off;         /* id → offset in bytes */
    uint32_t *len;       /* id → length */
    uint32_t count, cap;
    uint32_t *slots;     /* hash table of id + 1; 0 is empty */
    size_t mask;
} ft_strpool;

void ft_strpool_init(ft_strpool *p);
void ft_strpool_fini(ft_strpool *p);

/* The id of the string s[0..n), adding a copy if it is new. FT_ENOMEM; strings longer
 * than 4 GiB are FT_ECORRUPT (no trace record can hold one). */
ft_status ft_strpool_intern(ft_strpool *p, const char *s, size_t n, uint32_t *id);

/* The string with that id (id < count); valid until the next ft_strpool_intern. */
static inline ft_str ft_strpool_get(const ft_strpool *p, uint32_t id)
{
    ft_str s = { (const char *)p->bytes.ptr + p->off[id], p->len[id] };
    return s;
}

#endif
