/* lineage.c — processes, parents and names of a run's trace files (see lineage.h). */
#include "lineage.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ft_buf.h"
#include "intmap.h"

static int same_host(const ft_proc *a, const ft_proc *b)
{
    return strcmp(a->header.hostname ? a->header.hostname : "",
                  b->header.hostname ? b->header.hostname : "") == 0;
}

const char *ft_lineage_start_reason(const ft_proc *p)
{
    if (!p->has_header)
        return NULL;
    return p->header.start_reason ? p->header.start_reason : "run";
}

static int is_exec(const ft_proc *p)
{
    const char *why = ft_lineage_start_reason(p);
    return why && strcmp(why, "exec") == 0;
}

/* The latest file before `before` (in start order) with this pid on p's host, or NONE. */
static size_t latest_with_pid(const ft_proc *const *procs, size_t before, uint64_t pid,
                              const ft_proc *p)
{
    for (size_t j = before; j-- > 0;) {
        if (procs[j]->has_header && procs[j]->header.pid == pid && same_host(procs[j], p))
            return j;
    }
    return FT_LINEAGE_NONE;
}

ft_status ft_lineage_build(ft_lineage *l, const ft_proc *const *procs, size_t n)
{
    ft_intmap uses;
    ft_status st = FT_OK;

    memset(l, 0, sizeof *l);
    l->f = ft_malloc((n ? n : 1) * sizeof *l->f);
    if (!l->f)
        return FT_ENOMEM;
    l->n = n;
    for (size_t i = 0; i < n; i++) {
        ft_lineage_file *f = &l->f[i];
        f->head = i;
        f->next = f->prev = f->parent = FT_LINEAGE_NONE;
        f->pid[0] = 0;
    }
    /* exec: a file continues the latest earlier file of its pid, unless another exec'd
     * file already does (a damaged run; then it stands alone). */
    for (size_t i = 0; i < n; i++) {
        const ft_proc *p = procs[i];
        size_t j;
        if (!is_exec(p))
            continue;
        j = latest_with_pid(procs, i, p->header.pid, p);
        if (j != FT_LINEAGE_NONE && l->f[j].next == FT_LINEAGE_NONE) {
            l->f[j].next = i;
            l->f[i].prev = j;
            l->f[i].head = l->f[j].head;
        }
    }
    /* Parents: the process of ppid running when the file started, i.e. the latest file of
     * that pid to start before it. */
    for (size_t i = 0; i < n; i++) {
        const ft_proc *p = procs[i];
        if (p->has_header && p->header.ppid != p->header.pid)
            l->f[i].parent = latest_with_pid(procs, i, p->header.ppid, p);
    }
    /* Profile pids, in start order: a pid's second process gets ".1", and so on. */
    ft_intmap_init(&uses);
    for (size_t i = 0; i < n && !st; i++) {
        uint32_t k;
        if (l->f[i].head != i) {
            memcpy(l->f[i].pid, l->f[l->f[i].head].pid, sizeof l->f[i].pid);
            continue;
        }
        l->nprocs++;
        k = ft_intmap_get(&uses, procs[i]->pid);
        if (k == FT_INTMAP_EMPTY)
            k = 0;
        if (k == 0)
            snprintf(l->f[i].pid, sizeof l->f[i].pid, "%" PRIu64, procs[i]->pid);
        else
            snprintf(l->f[i].pid, sizeof l->f[i].pid, "%" PRIu64 ".%" PRIu32, procs[i]->pid, k);
        st = ft_intmap_set(&uses, procs[i]->pid, k + 1);
    }
    ft_intmap_fini(&uses);
    if (st)
        ft_lineage_fini(l);
    return st;
}

void ft_lineage_fini(ft_lineage *l)
{
    ft_free(l->f);
    memset(l, 0, sizeof *l);
}

/* ---- texts ---- */

/* Appends s to buf[*len..cap), control characters as spaces; returns 0 once it no longer
 * fits (buf then ends at the last character that did). */
static int append(char *buf, size_t cap, size_t *len, const char *s)
{
    for (; *s; s++) {
        if (*len + 1 >= cap)
            return 0;
        buf[(*len)++] = (unsigned char)*s < 0x20 ? ' ' : *s;
    }
    return 1;
}

/* Ends a text cut at cap: backs off to a UTF-8 character boundary and marks the cut. */
static void mark_cut(char *buf, size_t cap, size_t *len)
{
    if (cap < 4) {
        *len = 0;
        return;
    }
    if (*len > cap - 4)
        *len = cap - 4;
    while (*len > 0 && ((unsigned char)buf[*len] & 0xC0) == 0x80)
        (*len)--;
    memcpy(buf + *len, "...", 3);
    *len += 3;
}

/* The command line of p; with `short_program`, the program (argv[0], a script path) by its
 * base name only, as a track label has little room. */
static void command(const ft_proc *p, char *buf, size_t cap, int short_program)
{
    size_t len = 0;
    int fits = 1;

    if (!cap)
        return;
    buf[0] = 0;
    if (!p->has_header) {
        const char *base = strrchr(p->path, '/');
        snprintf(buf, cap, "%s", base ? base + 1 : p->path);
        return;
    }
    const char *exe = p->header.executable ? p->header.executable : "";
    const char *slash = strrchr(exe, '/');
    exe = slash ? slash + 1 : exe;
    fits = append(buf, cap, &len, *exe ? exe : "python");
    for (size_t i = 0; fits && i < p->header.argc; i++) {
        const char *arg = p->header.argv[i];
        if (!arg)
            continue;
        if (i == 0 && short_program && arg[0] != '-' && strrchr(arg, '/') &&
            strrchr(arg, '/')[1])
            arg = strrchr(arg, '/') + 1;
        fits = append(buf, cap, &len, " ") && append(buf, cap, &len, arg);
    }
    if (!fits)
        mark_cut(buf, cap, &len);
    buf[len] = 0;
}

void ft_lineage_command(const ft_proc *p, char *buf, size_t cap)
{
    command(p, buf, cap, 0);
}

static int starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* What multiprocessing started this program as, from its command line, or NULL. */
static const char *mp_role(const ft_proc *p)
{
    const ft_header *h = &p->header;
    const char *code = NULL;

    if (!p->has_header)
        return NULL;
    for (size_t i = 0; i < h->argc; i++) {
        if (h->argv[i] && strcmp(h->argv[i], "--multiprocessing-fork") == 0)
            return "multiprocessing spawn worker";
    }
    for (size_t i = 0; i + 1 < h->argc; i++) {
        if (h->argv[i] && strcmp(h->argv[i], "-c") == 0) {
            code = h->argv[i + 1];
            break;
        }
    }
    if (starts_with(code, "from multiprocessing.spawn import"))
        return "multiprocessing spawn worker";
    if (starts_with(code, "from multiprocessing.forkserver import"))
        return "multiprocessing forkserver";
    if (starts_with(code, "from multiprocessing.resource_tracker import") ||
        starts_with(code, "from multiprocessing.semaphore_tracker import"))
        return "multiprocessing resource tracker";
    return NULL;
}

/* The label a program gave itself (multiprocessing's process name), if it says more than
 * the command line does. */
static const char *label_of(const ft_proc *p)
{
    const char *label = p->has_trailer ? p->trailer.process_label : NULL;
    if (!label || !*label || strcmp(label, "MainProcess") == 0)
        return NULL;
    return label;
}

void ft_lineage_ppid_text(const ft_lineage *l, const ft_proc *const *procs, size_t i,
                          char *buf, size_t cap)
{
    const ft_proc *p = procs[i];

    if (!cap)
        return;
    buf[0] = 0;
    if (!p->has_header)
        return;
    if (l->f[i].parent != FT_LINEAGE_NONE)
        snprintf(buf, cap, "%s", l->f[l->f[i].parent].pid);
    else
        snprintf(buf, cap, "%" PRIu64, p->header.ppid);
}

void ft_lineage_name(const ft_lineage *l, const ft_proc *const *procs, size_t head, char *buf,
                     size_t cap)
{
    size_t last = head, len = 0;
    const ft_proc *p;
    const char *role, *label, *why;
    char suffix[96] = "", ppid[FT_LINEAGE_PID_MAX];

    if (!cap)
        return;
    while (l->f[last].next != FT_LINEAGE_NONE)
        last = l->f[last].next;
    p = procs[last];
    role = mp_role(p);
    label = label_of(p);
    why = ft_lineage_start_reason(p);
    ft_lineage_ppid_text(l, procs, last, ppid, sizeof ppid);
    if (role) {
        if (!label) {
            snprintf(buf, cap, "%s", role);
            return;
        }
        snprintf(suffix, sizeof suffix, " (%s)", role);
    } else if (why && strcmp(why, "fork") == 0) {
        snprintf(suffix, sizeof suffix, " [fork of %s]", ppid);
    } else if (label) {
        snprintf(suffix, sizeof suffix, " (%s)", label);
        label = NULL;           /* the command line comes first, the label in brackets */
    }
    buf[0] = 0;
    if (label) {
        if (!append(buf, cap, &len, label))
            mark_cut(buf, cap, &len);
        buf[len] = 0;
    } else {
        /* Leave room for the suffix: it says more than the tail of a long command. */
        size_t room = cap > strlen(suffix) + 16 ? cap - strlen(suffix) : cap;
        command(p, buf, room, 1);
        len = strlen(buf);
    }
    if (!append(buf, cap, &len, suffix))
        mark_cut(buf, cap, &len);
    buf[len] = 0;
}

void ft_lineage_start_text(const ft_lineage *l, const ft_proc *const *procs, size_t i,
                           char *buf, size_t cap)
{
    const char *why = ft_lineage_start_reason(procs[i]);
    char ppid[FT_LINEAGE_PID_MAX];

    ft_lineage_ppid_text(l, procs, i, ppid, sizeof ppid);
    if (!why)
        snprintf(buf, cap, "unknown (no header)");
    else if (strcmp(why, "fork") == 0)
        snprintf(buf, cap, "fork of pid %s", ppid);
    else if (strcmp(why, "child") == 0)
        snprintf(buf, cap, "child of pid %s", ppid);
    else if (strcmp(why, "exec") == 0)
        snprintf(buf, cap, l->f[i].prev != FT_LINEAGE_NONE ? "exec" :
                 "exec (the program before was not traced)");
    else
        snprintf(buf, cap, "%s", why);
}

static const char *signal_name(uint64_t sig)
{
    static const struct { int num; const char *name; } names[] = {
        {SIGHUP, "SIGHUP"}, {SIGINT, "SIGINT"}, {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
        {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"}, {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"},
        {SIGUSR2, "SIGUSR2"}, {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},
        {SIGTERM, "SIGTERM"}, {SIGCHLD, "SIGCHLD"}, {SIGCONT, "SIGCONT"},
        {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"}, {SIGTTIN, "SIGTTIN"},
        {SIGTTOU, "SIGTTOU"}, {SIGURG, "SIGURG"}, {SIGXCPU, "SIGXCPU"},
        {SIGXFSZ, "SIGXFSZ"}, {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"},
        {SIGWINCH, "SIGWINCH"}, {SIGSYS, "SIGSYS"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if ((uint64_t)names[i].num == sig)
            return names[i].name;
    }
    return NULL;
}

void ft_lineage_end_text(const ft_proc *p, char *buf, size_t cap)
{
    const ft_trailer *t = &p->trailer;
    const char *why = t->end_reason;

    if (!p->has_trailer)
        snprintf(buf, cap, "cut short: no trailer");
    else if (!why)
        snprintf(buf, cap, "ended (no end reason recorded)");
    else if (strcmp(why, "exit") == 0 && t->has_exit_status)
        snprintf(buf, cap, "exit status %" PRId64, t->exit_status);
    else if (strcmp(why, "os._exit") == 0 && t->has_exit_status)
        snprintf(buf, cap, "os._exit(%" PRId64 ")", t->exit_status);
    else if (strcmp(why, "signal") == 0 && t->has_signal) {
        const char *name = signal_name(t->signal);
        if (name)
            snprintf(buf, cap, "killed by signal %" PRIu64 " (%s)", t->signal, name);
        else
            snprintf(buf, cap, "killed by signal %" PRIu64, t->signal);
    } else if (strcmp(why, "signal") == 0)
        snprintf(buf, cap, "killed by a signal");
    else if (strcmp(why, "stop") == 0)
        snprintf(buf, cap, "recording stopped");
    else
        snprintf(buf, cap, "%s", why);     /* exit, os._exit, exec, or a later reason */
}
