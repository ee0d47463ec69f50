/* module.c — functiontrace._functiontrace: the Python API of the recorder (cold paths only).
 *
 *   start(path, header, mode="all", *, buffer_size=0, compression_level=0,
 *         include=None, exclude=None, max_depth=0, memory=False)
 *   stop(end_reason=None, *, exit_status=None, signal=None, process_label=None) -> dict | None
 *   stop_at_exit(process_label=None) -> dict | None      catch_signals_at_exit(signals)
 *   wait_at_exit(fd, pid)
 *   guard_signal(sig, on=True)     signal_handled(sig)     guards_after_fork()
 *   flush()       is_active() -> bool     stats() -> dict
 *   thread_hook(frame, event, arg)            (setprofile backend only)
 *   yield_tool_id(tool_id) -> bool            (3.12+: montool.h)
 *   BACKEND: "monitoring" | "setprofile" (mode "all"; "python" may use "evalframe")
 *   FORMAT_VERSION
 *
 * Policy lives in Python (functiontrace/_process.py, functiontrace/record.py): where the
 * file goes, what the header says about the process, when to start and stop and why,
 * threading.setprofile. This file opens the file, reads the clock for the header, starts
 * and stops the hooks, and owns the two ends that Python cannot see:
 *
 * - fork: the writer's compressor thread is ended before every fork (a child must not
 *   inherit a process that looked multi-threaded to it, and 3.12+ warns about forking one),
 *   and a pthread_atfork child handler abandons the inherited recording (its buffers hold
 *   the parent's events, its descriptor the parent's file) without writing anything; the
 *   Python side then starts the child's own trace.
 * - exit: stop_at_exit() (the last Python atexit handler) writes every event and removes
 *   the hooks but leaves the trailer pending (ending.h) for an on_exit() handler, the only
 *   place that learns the status the process exits with (sys.exit(n), 1 after an uncaught
 *   exception, 120 when the interpreter could not flush stdout...). */
#include "session.h"

/* python/functiontrace/__init__.py refuses other versions at import with a clear message;
 * this says the same to whoever builds for one. */
#if PY_VERSION_HEX < 0x03080000 || PY_VERSION_HEX >= 0x030E0000
#error "functiontrace supports CPython 3.8 to 3.13"
#endif

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "clock.h"
#include "ending.h"
#include "filter.h"
#include "markers.h"
#include "memory.h"
#include "ft_trace.h"
#include "intern.h"
#include "montool.h"
#include "pyhelp.h"
#include "sigguard.h"
#include "tstate.h"
#include "writer.h"

/* zstd level of every frame. Measured on the bench's chunks of format 2.0 (libzstd 1.5.4):
 * level 1 takes 4.6–5.7 ns an event for 0.5–0.7 bytes, level 3 5.7–7.5 ns for 0–8 % fewer
 * bytes, level -1 0.4–0.9 ns less for 10–55 % more bytes. So level 1. start() can ask for
 * another level. */
#define DEFAULT_LEVEL 1
#define MIN_BUFFER_SIZE (4u << 10)
#define MAX_BUFFER_SIZE (16u << 20)

ft_session ft_g;

static ft_modstate *modstate(PyObject *m)
{
    return (ft_modstate *)PyModule_GetState(m);
}

/* ---- the header ---- */

/* A str value of the header dict as NUL-terminated UTF-8 ("" when missing); replacement
 * copies are appended to keep. -1 with TypeError for a non-str value. */
static int header_str(PyObject *d, const char *key, char **out, PyObject *keep)
{
    PyObject *v = PyDict_GetItemString(d, key), *copy = NULL;
    Py_ssize_t n;
    const char *s;

    *out = "";
    if (!v || v == Py_None)
        return 0;
    if (!PyUnicode_Check(v)) {
        PyErr_Format(PyExc_TypeError, "header['%s'] must be a str", key);
        return -1;
    }
    s = ft_py_utf8(v, &n, &copy);
    if (copy) {
        int r = PyList_Append(keep, copy);
        Py_DECREF(copy);
        if (r)
            return -1;
    }
    *out = (char *)s;
    return 0;
}

static int header_uint(PyObject *d, const char *key, uint64_t *out, uint64_t dflt)
{
    PyObject *v = PyDict_GetItemString(d, key);
    *out = dflt;
    if (!v || v == Py_None)
        return 0;
    *out = PyLong_AsUnsignedLongLong(v);
    return (*out == (uint64_t)-1 && PyErr_Occurred()) ? -1 : 0;
}

/* CLOCK_REALTIME read between two reads of our clock; the tightest of a few tries, so that
 * the anchor is off by at most half of a clock read. */
static void read_anchor(uint64_t *mono, int64_t *wall)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        uint64_t a = ft_clock_now();
        int64_t w = ft_clock_wall();
        uint64_t b = ft_clock_now();
        if (b - a < best) {
            best = b - a;
            *mono = a + (b - a) / 2;
            *wall = w;
        }
    }
}

/* Fill h from the Python side's dict and our own clock. The strings borrow from d and
 * keep; argv is allocated (PyMem_Free it). */
static int fill_header(ft_header *h, PyObject *d, const char *mode, PyObject *keep)
{
    PyObject *argv = PyDict_GetItemString(d, "argv"), *seq = NULL;
    struct timespec res;
    int rc = -1;

    memset(h, 0, sizeof *h);
    if (header_str(d, "run_id", &h->run_id, keep) ||
        header_str(d, "hostname", &h->hostname, keep) ||
        header_str(d, "python_version", &h->python_version, keep) ||
        header_str(d, "python_implementation", &h->python_implementation, keep) ||
        header_str(d, "executable", &h->executable, keep) ||
        header_str(d, "cwd", &h->cwd, keep) ||
        header_str(d, "recorder", &h->recorder, keep) ||
        header_uint(d, "pid", &h->pid, (uint64_t)getpid()) ||
        header_uint(d, "ppid", &h->ppid, (uint64_t)getppid()))
        goto out;
    if (PyDict_GetItemString(d, "start_reason")) {
        if (header_str(d, "start_reason", &h->start_reason, keep))
            goto out;
        if (!*h->start_reason)
            h->start_reason = NULL;
    }
    if (argv) {
        seq = PySequence_Fast(argv, "header['argv'] must be a sequence of str");
        if (!seq)
            goto out;
        h->argc = (size_t)PySequence_Fast_GET_SIZE(seq);
        h->argv = PyMem_Calloc(h->argc ? h->argc : 1, sizeof *h->argv);
        if (!h->argv) {
            PyErr_NoMemory();
            goto out;
        }
        for (size_t i = 0; i < h->argc; i++) {
            PyObject *a = PySequence_Fast_GET_ITEM(seq, i), *copy = NULL;
            Py_ssize_t n;
            if (!PyUnicode_Check(a)) {
                PyErr_SetString(PyExc_TypeError, "header['argv'] must be a sequence of str");
                goto out;
            }
            h->argv[i] = (char *)ft_py_utf8(a, &n, &copy);
            if (copy) {
                int r = PyList_Append(keep, copy);
                Py_DECREF(copy);
                if (r)
                    goto out;
            }
        }
        /* The strings borrow from the items; seq holds them (it is kept with the rest). */
        if (PyList_Append(keep, seq))
            goto out;
    }
    h->format_version = FT_FORMAT_VERSION;
    h->format_minor = FT_FORMAT_MINOR;
    h->clock = FT_CLOCK_NAME;
    h->clock_resolution_ns = clock_getres(FT_CLOCK, &res) == 0
        ? (uint64_t)res.tv_sec * 1000000000u + (uint64_t)res.tv_nsec : 1;
    h->start_ns = ft_clock_now();
    read_anchor(&h->anchor_ns, &h->wall_anchor_ns);
    /* Chosen now, installed by start() once the header is written (backend.h). */
    h->backend = (char *)ft_backend_choose(strcmp(mode, "all") == 0);
    if (!h->backend)
        goto out;
    h->mode = (char *)mode;
    rc = 0;
out:
    Py_XDECREF(seq);
    return rc;
}

/* ---- session ---- */

/* Forget a session without writing anything: a failed start, or a fork child's inherited
 * one. The file, if any, has been dealt with by the caller. */
static void discard_session(void)
{
    ft_g.active = 0;
    ft_memory_stop();
    ft_tstate_free_all();
    ft_intern_reset(0);
    ft_g.st = NULL;
    ft_g.forked = 0;
    Py_CLEAR(ft_g.module);
}

static void atfork_child(void)
{
    /* The child inherits the hooks and the parent's buffers; writing those would duplicate
     * the parent's events in its file. Recording stops here; stop() (or the next start())
     * in the child removes the hooks and frees the buffers. */
    if (!ft_g.active && !ft_ending_pending())
        return;
    if (ft_g.active) {
        ft_g.active = 0;
        ft_g.forked = 1;
    }
    ft_ending_forget();
    ft_writer_abandon();
}

static PyObject *stats_dict(const ft_writer_stats *s)
{
    return Py_BuildValue("{sKsKsKsKsO}", "events", (unsigned long long)s->events,
                         "chunks", (unsigned long long)s->chunks,
                         "dropped_events", (unsigned long long)s->dropped_events,
                         "functions", (unsigned long long)s->functions,
                         "failed", s->failed ? Py_True : Py_False);
}

static PyObject *start(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = { "path", "header", "mode", "buffer_size", "compression_level",
                              "include", "exclude", "max_depth", "memory", NULL };
    PyObject *path = NULL, *header, *keep = NULL, *ret = NULL;
    PyObject *include = Py_None, *exclude = Py_None;
    const char *mode = "all";
    Py_ssize_t buffer_size = 0, max_depth = 0;
    uint32_t old_gen;
    int level = 0, opened = 0, memory = 0;
    ft_header h;
    ft_writer_stats ignored;

    memset(&h, 0, sizeof h);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&O!|s$niOOnp:start", kwlist,
                                     PyUnicode_FSConverter, &path, &PyDict_Type, &header,
                                     &mode, &buffer_size, &level, &include, &exclude,
                                     &max_depth, &memory))
        return NULL;
    if (ft_g.active || ft_ending_pending()) {
        PyErr_SetString(PyExc_RuntimeError, "functiontrace: already recording");
        goto out;
    }
    if (PyThreadState_Get()->interp != PyInterpreterState_Main()) {
        PyErr_SetString(PyExc_RuntimeError,
                        "functiontrace: recording works in the main interpreter only");
        goto out;
    }
    if (strcmp(mode, "all") != 0 && strcmp(mode, "python") != 0) {
        PyErr_Format(PyExc_ValueError, "functiontrace: mode must be 'all' or 'python', not %R",
                     PyTuple_GET_SIZE(args) > 2 ? PyTuple_GET_ITEM(args, 2) : Py_None);
        goto out;
    }
    if (buffer_size == 0)
        buffer_size = FT_DEFAULT_BUFFER_SIZE;
    if (buffer_size < (Py_ssize_t)MIN_BUFFER_SIZE || buffer_size > (Py_ssize_t)MAX_BUFFER_SIZE) {
        PyErr_Format(PyExc_ValueError, "functiontrace: buffer_size must be in [%u, %u]",
                     MIN_BUFFER_SIZE, MAX_BUFFER_SIZE);
        goto out;
    }
    if (max_depth < 0) {
        PyErr_SetString(PyExc_ValueError, "functiontrace: max_depth must be 0 (no limit) or more");
        goto out;
    }
    if (level == 0)
        level = DEFAULT_LEVEL;
    old_gen = ft_g.forked ? ft_g.gen : 0;
    if (ft_g.forked) {
        /* A fork child starting its own trace: drop what it inherited first. */
        ft_backend_uninstall();
        discard_session();
    }
    if (ft_intern_init() < 0 || ft_filter_set(include, exclude, (unsigned long)max_depth))
        goto out;
    keep = PyList_New(0);
    if (!keep || fill_header(&h, header, mode, keep))
        goto out;
    if (ft_writer_open(PyBytes_AS_STRING(path), &h, level)) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, PyTuple_GET_ITEM(args, 0));
        goto out;
    }
    opened = 1;
    ft_g.gen++;
    if (ft_g.gen == 0)
        ft_g.gen = 1;
    ft_intern_reset(ft_g.gen);
    ft_depth_carry(old_gen);
    ft_tstate_free_all();
    ft_tstate_set_buffer_size((size_t)buffer_size);
    ft_g.mode_all = strcmp(mode, "all") == 0;
    ft_g.st = modstate(module);
    Py_INCREF(module);
    Py_XSETREF(ft_g.module, module);
    /* Active before the hooks go in: the setprofile hook removes itself when it finds the
     * recorder inactive, and installing may run audit hooks. */
    ft_g.active = ft_filter_active_value();
    if (ft_backend_install(module)) {
        discard_session();
        goto out;
    }
    /* After the hooks: until a thread's first event it has no buffer to record into. */
    if (memory)
        ft_memory_start();
    ret = Py_None;
    Py_INCREF(ret);
out:
    if (!ret && opened) {
        ft_writer_close(0, NULL, &ignored);
        unlink(PyBytes_AS_STRING(path));
    }
    PyMem_Free(h.argv);
    Py_XDECREF(keep);
    Py_XDECREF(path);
    return ret;
}

/* The trailer's optional fields from stop()'s arguments; -1 with an exception set. */
static int parse_how(ft_trailer *how, const char *end_reason, PyObject *exit_status,
                     PyObject *signo, const char *label)
{
    static const char *const reasons[] = { "exit", "os._exit", "exec", "signal", "stop" };
    size_t i;

    memset(how, 0, sizeof *how);
    if (end_reason) {
        for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
            if (strcmp(end_reason, reasons[i]) == 0)
                break;
        if (i == sizeof reasons / sizeof reasons[0]) {
            PyErr_Format(PyExc_ValueError, "functiontrace: unknown end_reason %s", end_reason);
            return -1;
        }
        how->end_reason = (char *)end_reason;
    }
    if (exit_status != Py_None) {
        how->exit_status = PyLong_AsLongLong(exit_status);
        if (how->exit_status == -1 && PyErr_Occurred())
            return -1;
        how->has_exit_status = 1;
    }
    if (signo != Py_None) {
        how->signal = PyLong_AsUnsignedLongLong(signo);
        if (how->signal == (uint64_t)-1 && PyErr_Occurred())
            return -1;
        how->has_signal = 1;
    }
    how->process_label = (char *)label;
    return 0;
}

static PyObject *stop(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = { "end_reason", "exit_status", "signal", "process_label", NULL };
    const char *end_reason = NULL, *label = NULL;
    PyObject *exit_status = Py_None, *signo = Py_None;
    ft_writer_stats s;
    ft_trailer how;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|z$OOz:stop", kwlist, &end_reason,
                                     &exit_status, &signo, &label) ||
        parse_how(&how, end_reason, exit_status, signo, label))
        return NULL;
    if (ft_g.forked) {
        ft_backend_uninstall();
        discard_session();
        Py_RETURN_NONE;
    }
    if (ft_g.active) {
        ft_g.active = 0;
        ft_backend_uninstall();
        ft_markers_stop();
        ft_tstate_flush_all();
        ft_writer_close(ft_clock_now(), &how, &s);
        discard_session();
    } else if (ft_ending_pending()) {
        /* Stopped at exit already; this stop() knows how the process really ends. */
        ft_ending_finish(&how, &s);
    } else {
        Py_RETURN_NONE;
    }
    return stats_dict(&s);
}

static PyObject *stop_at_exit(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = { "process_label", NULL };
    const char *label = NULL;
    ft_writer_stats s;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|z:stop_at_exit", kwlist, &label))
        return NULL;
    if (ft_g.forked) {
        ft_backend_uninstall();
        discard_session();
        Py_RETURN_NONE;
    }
    if (!ft_g.active)
        Py_RETURN_NONE;
    ft_g.active = 0;
    ft_backend_uninstall();
    ft_tstate_flush_all();
    if (ft_ending_defer(ft_clock_now(), label)) {
        /* No memory to keep the label: write the trailer now, without a status. */
        ft_trailer how;
        memset(&how, 0, sizeof how);
        how.end_reason = "exit";
        ft_writer_close(ft_clock_now(), &how, &s);
    } else {
        ft_writer_get_stats(&s);
    }
    discard_session();
    return stats_dict(&s);
}

static PyObject *wait_at_exit(PyObject *module, PyObject *args)
{
    int fd, pid;

    if (!PyArg_ParseTuple(args, "ii:wait_at_exit", &fd, &pid))
        return NULL;
    if (!ft_ending_pending()) {
        PyErr_SetString(PyExc_RuntimeError, "functiontrace: no trailer pending");
        return NULL;
    }
    if (ft_ending_wait_for(fd, pid)) {
        PyErr_SetString(PyExc_ValueError, "functiontrace: too many helpers");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *catch_signals_at_exit(PyObject *module, PyObject *arg)
{
    PyObject *seq = PySequence_Fast(arg, "catch_signals_at_exit() takes a sequence of ints");
    int sigs[16];
    Py_ssize_t n;

    if (!seq)
        return NULL;
    n = PySequence_Fast_GET_SIZE(seq);
    if (n > (Py_ssize_t)(sizeof sigs / sizeof sigs[0])) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "functiontrace: too many signals");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, i));
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return NULL;
        }
        if (v <= 0 || v >= NSIG) {
            Py_DECREF(seq);
            PyErr_Format(PyExc_ValueError, "functiontrace: bad signal number %ld", v);
            return NULL;
        }
        sigs[i] = (int)v;
    }
    Py_DECREF(seq);
    if (ft_ending_catch_signals(sigs, (size_t)n))
        return PyErr_SetFromErrno(PyExc_OSError);
    Py_RETURN_NONE;
}

static PyObject *flush(PyObject *module, PyObject *unused)
{
    if (ft_g.active)
        ft_tstate_flush_all();
    Py_RETURN_NONE;
}

static PyObject *is_active(PyObject *module, PyObject *unused)
{
    return PyBool_FromLong(ft_g.active);
}

static PyObject *stats(PyObject *module, PyObject *unused)
{
    ft_writer_stats s;
    ft_writer_get_stats(&s);
    return stats_dict(&s);
}

static PyObject *clock_source(PyObject *module, PyObject *unused)
{
    ft_clock_init();
    return PyUnicode_FromString(ft_clock_source());
}

/* ---- signal guards (sigguard.h) ---- */

static PyObject *guard_signal(PyObject *module, PyObject *args)
{
    int sig, on = 1;

    if (!PyArg_ParseTuple(args, "i|p:guard_signal", &sig, &on))
        return NULL;
    if (!on) {
        ft_sigguard_remove(sig);
        Py_RETURN_NONE;
    }
    if (ft_sigguard_install(sig))
        return PyErr_SetFromErrno(PyExc_OSError);
    Py_RETURN_NONE;
}

static PyObject *signal_handled(PyObject *module, PyObject *arg)
{
    int sig = PyLong_AsLong(arg);

    if (sig == -1 && PyErr_Occurred())
        return NULL;
    ft_sigguard_handled(sig);
    Py_RETURN_NONE;
}

static PyObject *guards_after_fork(PyObject *module, PyObject *unused)
{
    ft_sigguard_after_fork();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    { "start", (PyCFunction)(void (*)(void))start, METH_VARARGS | METH_KEYWORDS,
      "start(path, header, mode='all', *, buffer_size=0, compression_level=0, include=None, "
      "exclude=None, max_depth=0)\n--\n\n"
      "Create the trace file `path` (it must not exist: FileExistsError), write its "
      "signature and header, and install the hooks. header: dict of the FORMAT.md header "
      "fields the process knows (run_id, hostname, python_version, python_implementation, "
      "executable, argv, cwd, recorder; pid/ppid default to this process); the clock, "
      "backend and mode fields are filled here. mode: 'all' (Python and native calls) or "
      "'python'. 0 picks the default buffer size (bytes per thread) / zstd level. include, "
      "exclude: glob patterns of modules (and their submodules) or, with a '/', of file "
      "paths; a function is recorded when it matches an include (if any) and no exclude. "
      "max_depth: calls deeper than this (counted from the start) are not recorded. "
      "memory: also record every allocation and free of Python's MEM and OBJ allocators." },
    { "stop", (PyCFunction)(void (*)(void))stop, METH_VARARGS | METH_KEYWORDS,
      "stop(end_reason=None, *, exit_status=None, signal=None, process_label=None)\n--\n\n"
      "Remove the hooks, write every thread's buffered events and the trailer, close the "
      "file. The arguments are the trailer's optional fields (FORMAT.md 4.5; end_reason is "
      "one of 'exit', 'os._exit', 'exec', 'signal', 'stop'). After stop_at_exit(), writes "
      "the pending trailer with these fields instead. Returns the trailer counts as a dict, "
      "or None when not recording (or in a fork child, where the inherited recording is "
      "discarded unwritten)." },
    { "stop_at_exit", (PyCFunction)(void (*)(void))stop_at_exit,
      METH_VARARGS | METH_KEYWORDS,
      "stop_at_exit(process_label=None)\n--\n\n"
      "Remove the hooks and write every thread's buffered events, but keep the file open: "
      "the trailer (end_reason 'exit' and the exit status) is written when the process "
      "calls exit(), after the interpreter has finalised. A later stop() writes it now "
      "instead. Returns the counts so far, or None when not recording." },
    { "wait_at_exit", wait_at_exit, METH_VARARGS,
      "wait_at_exit(fd, pid)\n--\n\n"
      "After stop_at_exit(): at exit, after the trailer, close fd and wait (1 s at most for "
      "all) for child pid, a helper that ends when that pipe closes." },
    { "catch_signals_at_exit", catch_signals_at_exit, METH_O,
      "catch_signals_at_exit(signals)\n--\n\n"
      "After stop_at_exit(): until the process exits, these signals (which the caller has "
      "just set to SIG_DFL) are caught in C, to write the pending trailer with "
      "end_reason 'signal' before the process dies of them as it would have." },
    { "guard_signal", guard_signal, METH_VARARGS,
      "guard_signal(sig, on=True)\n--\n\n"
      "Put a C guard in front of the Python-level handler just installed for sig (main "
      "thread only): it notes a signal a fork child's interpreter would drop, nudges a main "
      "thread blocked in C until the Python handler runs, and takes the default action if "
      "it never does (record/sigguard.h). on=False removes it." },
    { "signal_handled", signal_handled, METH_O,
      "signal_handled(sig)\n--\n\nThe Python handler of sig runs: stop nudging." },
    { "guards_after_fork", guards_after_fork, METH_NOARGS,
      "guards_after_fork()\n--\n\n"
      "In a fork child (after_in_child): the guards now belong to this process (until then "
      "they take the default action), with new timers." },
    { "flush", flush, METH_NOARGS,
      "flush()\n--\n\nWrite every thread's buffered events now." },
    { "is_active", is_active, METH_NOARGS, "is_active()\n--\n\nTrue while recording." },
    { "stats", stats, METH_NOARGS,
      "stats()\n--\n\nCounts so far of the current or last recording (events and chunks "
      "written, dropped events, functions defined)." },
    { "clock_source", clock_source, METH_NOARGS,
      "clock_source()\n--\n\nWhat event timestamps are read from: the name of the kernel "
      "clocksource whose TSC stands in for CLOCK_MONOTONIC ('tsc', 'kvm-clock', ...), or "
      "'clock_gettime' (FUNCTIONTRACE_CLOCK=exact, or no usable TSC)." },
    { NULL, NULL, 0, NULL }
};

/* ---- module ---- */

static int exec_module(PyObject *m)
{
    static int atfork_registered;
    ft_modstate *st = modstate(m);

    st->s_dunder_name = PyUnicode_InternFromString("__name__");
    st->s_dunder_module = PyUnicode_InternFromString("__module__");
    st->s_threading = PyUnicode_InternFromString("threading");
    st->s_active = PyUnicode_InternFromString("_active");
    st->s_name = PyUnicode_InternFromString("_name");
    st->s_sentinel = PyUnicode_InternFromString("functiontrace.thread");
    if (!st->s_dunder_name || !st->s_dunder_module || !st->s_threading || !st->s_active ||
        !st->s_name || !st->s_sentinel)
        return -1;
    if (!atfork_registered) {
        if (pthread_atfork(ft_writer_before_fork, NULL, atfork_child) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "functiontrace: pthread_atfork failed");
            return -1;
        }
        if (ft_ending_init()) {
            PyErr_SetString(PyExc_RuntimeError, "functiontrace: on_exit failed");
            return -1;
        }
        atfork_registered = 1;
    }
    if (PyModule_AddStringConstant(m, "BACKEND", FT_BACKEND_NAME) ||
        PyModule_AddIntConstant(m, "FORMAT_VERSION", FT_FORMAT_VERSION) ||
        PyModule_AddFunctions(m, ft_backend_methods) ||
        PyModule_AddFunctions(m, ft_marker_methods))
        return -1;
#if PY_VERSION_HEX >= 0x030C0000
    if (PyModule_AddFunctions(m, ft_montool_methods))
        return -1;
#endif
    return 0;
}

static int clear_module(PyObject *m)
{
    ft_modstate *st = modstate(m);
    if (!st)
        return 0;
    Py_CLEAR(st->s_dunder_name);
    Py_CLEAR(st->s_dunder_module);
    Py_CLEAR(st->s_threading);
    Py_CLEAR(st->s_active);
    Py_CLEAR(st->s_name);
    Py_CLEAR(st->s_sentinel);
    return 0;
}

static void free_module(void *m)
{
    clear_module((PyObject *)m);
}

static PyModuleDef_Slot slots[] = {
    { Py_mod_exec, (void *)exec_module },
#if PY_VERSION_HEX >= 0x030C0000
    /* One trace per process, hooks per interpreter, a code-extra index per interpreter. */
    { Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED },
#endif
#if PY_VERSION_HEX >= 0x030D0000
    { Py_mod_gil, Py_MOD_GIL_USED },
#endif
    { 0, NULL }
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "functiontrace._functiontrace",
    .m_doc = "The recorder of functiontrace: hooks, per-thread buffers, the trace file.",
    .m_size = sizeof(ft_modstate),
    .m_methods = methods,
    .m_slots = slots,
    .m_clear = clear_module,
    .m_free = free_module,
};

__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit__functiontrace(void);

__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit__functiontrace(void)
{
    return PyModuleDef_Init(&moduledef);
}
