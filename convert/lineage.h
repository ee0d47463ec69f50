/* lineage.h — the processes of a run: which trace files are one process, who started whom,
 * and what to call each one.
 *
 * A run directory holds one trace file per traced program (FORMAT.md §1). Most files are a
 * process of their own. A process that replaced itself with exec wrote one file per
 * program, all with its pid, each later one with start_reason "exec": those files are one
 * process of the profile, its *segments*. A process's parent is the traced process whose
 * pid is its ppid and that was running when it started (the latest one to start before it,
 * should that pid have been used twice); a child of an untraced process (a shell) has none.
 *
 * Everything here works from headers and trailers only; reading events is proc.c's. The
 * texts made here (process names, how a segment began and ended) are what the profile
 * shows in processName and in each process's "Process" markers (firefox.h). */
#ifndef FT_LINEAGE_H
#define FT_LINEAGE_H

#include <stddef.h>
#include "ft_status.h"
#include "proc.h"

#define FT_LINEAGE_NONE ((size_t)-1)
#define FT_LINEAGE_PID_MAX 32

typedef struct ft_lineage_file {
    size_t head;          /* index of the first file (segment) of this file's process */
    size_t next;          /* the file of the program this one exec'd, or NONE */
    size_t prev;          /* the file this one continues after an exec, or NONE */
    size_t parent;        /* a file of the parent process (the one running when this file's
                             process started), or NONE */
    char pid[FT_LINEAGE_PID_MAX]; /* the process's pid as the profile shows it: "1234", or
                                     "1234.1" for the second process with pid 1234 */
} ft_lineage_file;

typedef struct ft_lineage {
    ft_lineage_file *f;   /* parallel to the procs array given to ft_lineage_build */
    size_t n;
    size_t nprocs;        /* processes: files that are the head of their process */
} ft_lineage;

/* Work out the processes of procs[0..n): they must be sorted by start time (as convert.c
 * places them), files without a header last. Only headers are looked at. FT_ENOMEM. */
ft_status ft_lineage_build(ft_lineage *l, const ft_proc *const *procs, size_t n);
void ft_lineage_fini(ft_lineage *l);

/* The start_reason of a file's header, FORMAT.md's default "run" when absent, NULL when
 * the file has no header. */
const char *ft_lineage_start_reason(const ft_proc *p);

/* "python3 app.py --n 3": the executable's base name and argv of one file; the file's
 * name when it has no header. Control characters become spaces; cut to cap with "...". */
void ft_lineage_command(const ft_proc *p, char *buf, size_t cap);

/* processName of the process whose first file is `head`, from its last file (the latest
 * program): its command with the script by its base name ("python3 app.py --n 3" for
 * /home/u/app.py; the markers keep the whole path), or for multiprocessing's helpers and
 * workers, the process label
 * and role ("SpawnPoolWorker-1 (multiprocessing spawn worker)"), and for a fork, which
 * process it is a fork of ("python3 app.py [fork of 1234]"). Needs the last file's trailer
 * (process_label) when there is one: call after reading it. */
void ft_lineage_name(const ft_lineage *l, const ft_proc *const *procs, size_t head, char *buf,
                     size_t cap);

/* How file i began: "run", "fork of pid N", "exec", "child of pid N" (N as the profile
 * shows the parent, else the header's ppid). */
void ft_lineage_start_text(const ft_lineage *l, const ft_proc *const *procs, size_t i,
                           char *buf, size_t cap);

/* The parent pid of file i as the profile shows it ("1234", "1234.1"), or the header's
 * ppid when the parent was not traced; "" without a header. */
void ft_lineage_ppid_text(const ft_lineage *l, const ft_proc *const *procs, size_t i,
                          char *buf, size_t cap);

/* How a file's recording ended, from its trailer: "exit status 0", "os._exit(3)",
 * "killed by signal 15 (SIGTERM)", "exec", "recording stopped", "cut short: no trailer". */
void ft_lineage_end_text(const ft_proc *p, char *buf, size_t cap);

#endif
