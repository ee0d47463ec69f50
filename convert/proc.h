/* proc.h — one trace file, that is one traced process: its header, its functions, its
 * threads' event streams and its trailer.
 *
 * Reading is in two steps. ft_proc_read_header looks only at the header frame, quietly,
 * so that the converter can place every process on one time base before it converts
 * any. ft_proc_read then walks the whole file frame by frame (format/ft_file.h), decodes
 * each block's records (format/ft_trace.h) and feeds each chunk's events to its thread
 * (thread_stream.h). It reports every problem it meets (report.h) with the file name and
 * the offset of the frame, and keeps going: a corrupt frame loses that frame, a cut file
 * loses its tail, everything else is converted. Only running out of memory stops it.
 *
 * A thread's chunks are fed in seq order. FORMAT.md promises that file order is seq order,
 * but a chunk that arrives early anyway (its predecessor is later in the file, or lost) is
 * held back, within a bounded window, until the chunks before it have been read.
 *
 * What a process holds is bounded by what it contributes to the output (its functions,
 * stacks and samples); ft_proc_release drops all that once the sink has written it.
 *
 * A process that replaced itself with exec wrote one file per program (FORMAT.md 1.1):
 * ft_proc_adopt lets the file of the later program take over the functions, strings and
 * threads read from the earlier one, so that its events continue the same threads, with
 * its function ids shifted past the earlier file's. */
#ifndef FT_PROC_H
#define FT_PROC_H

#include <stddef.h>
#include <stdint.h>
#include "ft_status.h"
#include "ft_trace.h"
#include "intmap.h"
#include "report.h"
#include "strpool.h"
#include "thread_stream.h"

typedef struct ft_func_def {
    uint32_t name;     /* strpool ids */
    uint32_t module;
    uint32_t file;
    uint32_t line;     /* saturated to 32 bits */
    uint8_t kind;      /* FT_FUNC_PYTHON or FT_FUNC_NATIVE (unknown kinds are native) */
    uint8_t defined;
} ft_func_def;

/* A chunk that arrived before the chunk its thread needs next, kept until that one comes
 * (see proc.c: the reorder window). */
typedef struct ft_pending_chunk {
    uint64_t tid, seq;
    uint64_t offset;        /* of its frame, for messages */
    uint8_t *data;          /* a copy of the whole block */
    size_t len;
} ft_pending_chunk;

typedef struct ft_proc {
    const char *path;       /* the caller's string */
    int unreadable;         /* no signature, another version, cannot open */
    int has_header;
    ft_header header;       /* zeroed when !has_header */
    ft_status header_st;    /* decoding the header: FT_OK, or FT_EVERSION for a header of
                               another format_version (still used, and reported) */
    int has_trailer;
    ft_trailer trailer;
    uint64_t pid;           /* the header's, else from the file name, else 0 */

    ft_strpool strings;
    ft_func_def *funcs;     /* indexed by fid; slots up to nfuncs */
    uint32_t nfuncs, funcs_cap;
    uint64_t ndefined;

    ft_tstream **threads;   /* in order of first chunk */
    uint32_t nthreads, threads_cap;
    ft_intmap tids;         /* tid → index in threads */

    ft_pending_chunk *pending;  /* in order of arrival */
    size_t npending, pending_cap, pending_bytes;

    uint32_t fid_base;      /* added to this file's function ids (see ft_proc_adopt) */

    uint64_t events;        /* event records read from this file */
    uint64_t end;           /* clock ns where the process ends: trailer or last event */
    unsigned long problems; /* problems reported while reading this file */
} ft_proc;

/* path must outlive p. */
void ft_proc_init(ft_proc *p, const char *path);
void ft_proc_fini(ft_proc *p);

/* Read the signature and the header frame, reporting nothing (ft_proc_read reports the
 * same problems later). Sets has_header or unreadable. FT_OK or FT_ENOMEM. */
ft_status ft_proc_read_header(ft_proc *p);

/* Read every frame of the file, reporting problems to r, then close the threads' open
 * frames at the process end. FT_OK (whatever the file held) or FT_ENOMEM. */
ft_status ft_proc_read(ft_proc *p, ft_report *r);

/* Before ft_proc_read(p): move prev's functions, strings and threads (prev was read, and
 * its threads finished) into p, which must not have read anything yet. p's function ids
 * are then numbered after prev's, its chunks continue prev's threads of the same tid, and
 * prev keeps only its header, trailer and counts. No allocation: cannot fail. */
void ft_proc_adopt(ft_proc *p, ft_proc *prev);

/* Free functions, strings and threads; the header and counts stay. */
void ft_proc_release(ft_proc *p);

/* The definition of fid, or NULL if the file never defined it. */
static inline const ft_func_def *ft_proc_func(const ft_proc *p, uint32_t fid)
{
    return fid < p->nfuncs && p->funcs[fid].defined ? &p->funcs[fid] : NULL;
}

#endif
