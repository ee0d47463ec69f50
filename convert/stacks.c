/* stacks.c — appending to the stack prefix tree (see stacks.h). */
#include "stacks.h"

#include "ft_buf.h"

void ft_stacks_init(ft_stacks *s)
{
    s->prefix = NULL;
    s->fid = NULL;
    s->last_call = NULL;
    s->root_last_call = FT_STACKS_NO_CHILD;
    s->len = s->cap = 0;
    ft_intmap_init(&s->index);
}

void ft_stacks_fini(ft_stacks *s)
{
    ft_free(s->prefix);
    ft_free(s->fid);
    ft_free(s->last_call);
    ft_intmap_fini(&s->index);
    ft_stacks_init(s);
}

ft_status ft_stacks_append(ft_stacks *s, uint32_t prefix, uint32_t fid, uint32_t *out)
{
    uint64_t key = ((uint64_t)prefix + 1) << 32 | fid;
    uint32_t got;
    ft_status st;

    if (s->len == s->cap) {
        uint32_t cap = s->cap ? (s->cap > FT_STACKS_MAX / 2 ? FT_STACKS_MAX : s->cap * 2) : 256;
        uint32_t *p, *f;
        if (s->len >= FT_STACKS_MAX)
            return FT_ENOMEM;
        p = ft_realloc(s->prefix, (size_t)cap * sizeof *p);
        if (!p)
            return FT_ENOMEM;
        s->prefix = p;
        f = ft_realloc(s->fid, (size_t)cap * sizeof *f);
        if (!f)
            return FT_ENOMEM;
        s->fid = f;
        uint64_t *l = ft_realloc(s->last_call, (size_t)cap * sizeof *l);
        if (!l)
            return FT_ENOMEM;
        s->last_call = l;
        s->cap = cap;
    }
    if ((st = ft_intmap_get_or_put(&s->index, key, s->len, &got)))
        return st;
    if (got == s->len) {
        s->prefix[s->len] = prefix;
        s->fid[s->len] = fid;
        s->last_call[s->len] = FT_STACKS_NO_CHILD;
        s->len++;
    }
    *out = got;
    return FT_OK;
}
