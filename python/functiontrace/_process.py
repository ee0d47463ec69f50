"""The life of a traced process: how it joins its run, and how its trace ends.

A run is the recorded command and every Python process it starts (FORMAT.md §1). The root
process (``python -m functiontrace.record``) exports the run to its children through the
environment; each Python process that starts with it records itself into the same run
directory, one file per process:

``FUNCTIONTRACE_RUN_DIR``
    the run directory (absolute).
``FUNCTIONTRACE_OPTIONS``
    the recording options of every process of the run, ``key=value`` pairs separated by
    commas: ``mode=all|python``, ``max_depth=N``, ``memory=1`` and ``include=PATTERN`` /
    ``exclude=PATTERN``, repeated for each pattern (``%`` and ``,`` in a pattern are
    written ``%25`` and ``%2C``). Unknown keys are ignored.
``PYTHONPATH``
    gets ``functiontrace/_bootstrap/`` in front. That directory holds only
    ``sitecustomize.py``, which every interpreter imports at start-up whatever its name
    or path (``python``, ``python3.X``, ``sys.executable``, an absolute path, a ``#!``
    script, multiprocessing's spawn and forkserver): it calls bootstrap() below, takes its
    directory back out of ``sys.path`` and runs the ``sitecustomize`` that it shadowed, if
    any. The variable itself stays changed, for grandchildren.
``FUNCTIONTRACE_EXEC``
    set to this pid for the instant of an ``os.exec*``: the program the process becomes
    finds its own pid there, removes the variable, and records itself as a continuation of
    that pid (a new file ``<pid>.<n>.ftrace``, start_reason ``exec``).

Not traced (and otherwise untouched): non-Python programs; interpreters started with
``-I``, ``-E`` or ``-S`` (they ignore PYTHONPATH or skip sitecustomize) or with an
environment that drops the variables above; interpreters for which the extension is not
built (``make ext PYTHON=...``).

How a process begins (header ``start_reason``): ``run`` (the recorded command), ``child``
(bootstrap of a new interpreter), ``exec`` (bootstrap that found its pid in
FUNCTIONTRACE_EXEC, or the program going on after an ``os.exec*`` that failed), ``fork``
(``os.register_at_fork``: ``os.fork``, ``os.forkpty``, multiprocessing's fork and forkserver
workers; the child's file starts empty: the inherited buffers are dropped by the C
extension, never written twice).

How it ends (trailer ``end_reason``):

- ``exit``: the last atexit handler writes every thread's events (daemon threads
  included) and removes the hooks; the C extension writes the trailer from an ``on_exit``
  handler with the status the process really exits with. An uncaught KeyboardInterrupt is
  the exception: the interpreter then kills itself with SIGINT after finalising, so the
  trailer is written at atexit time, with no exit status.
- ``os._exit``: ``os._exit`` (how multiprocessing's fork workers end) is wrapped, and so is
  ``os.abort`` (``signal``, SIGABRT).
- ``exec``: ``os.execv``/``os.execve`` are wrapped (every other ``os.exec*`` and
  ``os.spawn*`` calls one of them).
- ``signal``: SIGTERM, SIGHUP and SIGINT left at their default action (SIG_DFL) get a
  handler that ends the trace, restores SIG_DFL and raises the signal again, so the process
  dies exactly as it would have. ``signal.signal``/``signal.getsignal`` (through the
  ``_signal`` functions they call) are wrapped so that the program still sees SIG_DFL, and
  a later ``signal.signal(s, SIG_DFL)`` installs our handler instead. A C guard in front
  of the Python handler makes sure it runs (record/sigguard.h). A handler of the
  program's own, or SIG_IGN, is left alone: the program then ends by one of the ways
  above.
- SIGKILL, crashes: no trailer; each thread loses at most the chunk it was filling.

Everything here runs on cold paths (start, fork, exec, exit). It must never make a traced
program fail where it would not have: errors in the child bootstrap are swallowed by
sitecustomize, and every wrapper calls the real function whatever happens to the trace.
"""

import _signal
import atexit
import os
import sys

from functiontrace import __version__

try:
    from functiontrace import _functiontrace as _ft
except ImportError as e:
    # A supported version (functiontrace/__init__.py) whose build is missing: say which.
    raise ImportError("functiontrace: the recorder's extension is not built for %s "
                      "(Python %d.%d): run `make ext PYTHON=%s` (%s)"
                      % (sys.executable, sys.version_info[0], sys.version_info[1],
                         sys.executable, e)) from e
from functiontrace import _markers

RUN_DIR_ENV = "FUNCTIONTRACE_RUN_DIR"
OPTIONS_ENV = "FUNCTIONTRACE_OPTIONS"
EXEC_ENV = "FUNCTIONTRACE_EXEC"
BOOTSTRAP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bootstrap")

# Signals whose default action (terminate) we intercept to write the trace first.
_CAUGHT_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")


class _State:
    """This process's part of the run. Inherited as is by a fork child."""

    def __init__(self):
        self.recording = False   # a trace of ours is being recorded
        self.run_dir = None
        self.mode = "all"
        self.argv = []           # the header's argv; a fork child reuses it
        self.path = None
        self.root_pid = None     # the recorded command's pid: it alone prints at exit
        self.quiet = True
        self.hooked = False      # atexit, fork, exec, os._exit and signal hooks installed
        self.filters = {}        # include, exclude, max_depth, memory: _functiontrace.start's
        self.start_cwd = None    # the root's working directory when the run began
        self.depth_offset = 0    # see start()


_state = _State()


# ---- the trace file ----

def _header(run_id, argv, start_reason):
    impl = sys.implementation.name
    return {
        "run_id": run_id,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "hostname": os.uname().nodename,
        "python_version": sys.version.split()[0],
        "python_implementation": {"cpython": "CPython", "pypy": "PyPy"}.get(impl, impl),
        "executable": sys.executable or "",
        "argv": list(argv),
        "cwd": _getcwd(),
        "recorder": "functiontrace " + __version__,
        "start_reason": start_reason,
    }


def _getcwd():
    try:
        return os.getcwd()
    except OSError:   # the directory was removed: the process still runs
        return ""


def start(run_dir, argv, mode="all", start_reason="run", filters=None, depth_offset=None):
    """Start recording this process into run_dir (which must exist) and install the
    process hooks (once); returns the trace's path: <pid>.ftrace, or <pid>.<n>.ftrace with
    the smallest free n (FORMAT.md §1). filters: include, exclude and max_depth as
    _functiontrace.start takes them, but max_depth counts from the program's first frame,
    which is depth_offset + 1 in the C count (the calls of the recorder's own that lead to
    it: runpy's, exec); None keeps this process's (a fork goes on with them)."""
    _install_hooks()   # first: its own calls stay out of the trace
    if filters is not None:
        _state.filters = dict(filters)
    if depth_offset is not None:
        _state.depth_offset = depth_offset
    c_filters = dict(_state.filters)
    if c_filters.get("max_depth"):
        c_filters["max_depth"] += _state.depth_offset
    _markers.install(_when_imported)
    pid = os.getpid()
    header = _header(os.path.basename(os.path.normpath(run_dir)), argv, start_reason)
    n = 0
    while True:
        name = "%d.ftrace" % pid if n == 0 else "%d.%d.ftrace" % (pid, n)
        path = os.path.join(run_dir, name)
        try:
            _ft.start(path, header, mode, **c_filters)
            break
        except FileExistsError:
            n += 1
    if _ft.BACKEND == "setprofile":
        # Threads started from now on install the hook themselves (their first event
        # included); the ones running now got it from start().
        _when_imported("threading", _hook_threading)
        _hook_thread_module()
    _state.recording = True
    _state.run_dir = run_dir
    _state.mode = mode
    _state.argv = list(argv)
    _state.path = path
    return path


_real_start_new_thread = None


def _hook_thread_module():
    """Threads of _thread.start_new_thread install the hook themselves (C trampoline,
    backend_setprofile.c). Once per process: a fork child inherits the wrapper."""
    global _real_start_new_thread
    if _real_start_new_thread is not None:
        return
    import _thread
    _real_start_new_thread = real = _thread.start_new_thread
    wrapper = _ft.wrap_start_new_thread(real)
    _thread.start_new_thread = wrapper
    if getattr(_thread, "start_new", None) is real:   # the old alias
        _thread.start_new = wrapper


def _hook_threading(threading):
    if _state.recording or _ft.is_active():
        threading.setprofile(_ft.thread_hook)
    # threading's threads get the hook from threading.setprofile, from inside their
    # bootstrap; with the wrapper too, their stacks would start with that bootstrap.
    if _real_start_new_thread is not None and \
            getattr(threading, "_start_new_thread", None) is not _real_start_new_thread:
        threading._start_new_thread = _real_start_new_thread


class _ImportWatch:
    """A sys.meta_path entry until module `name` is imported, to call then(module) once it
    is. So a child that never imports threading (3.8-3.11 need its setprofile) does not pay
    for importing it (several ms at start-up: functools, collections...)."""

    def __init__(self, name, then):
        self.name = name
        self.then = then

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find else None
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        real_exec = getattr(loader, "exec_module", None)
        if real_exec is None:
            return spec
        then = self.then

        def exec_module(module):
            real_exec(module)
            try:
                then(module)
            except Exception:
                pass
        try:
            loader.exec_module = exec_module   # this spec's own loader object
        except (AttributeError, TypeError):
            pass
        return spec


def _when_imported(name, then):
    module = sys.modules.get(name)
    if module is not None:
        then(module)
    elif not any(isinstance(f, _ImportWatch) and f.name == name and f.then == then
                 for f in sys.meta_path):
        sys.meta_path.insert(0, _ImportWatch(name, then))


def _unhook_threading():
    threading = sys.modules.get("threading")
    if _ft.BACKEND == "setprofile" and threading is not None:
        threading.setprofile(None)


def _process_label():
    """multiprocessing's name for this process (SpawnPoolWorker-2, Process-1...), read
    without importing anything; None for the main process or a plain fork."""
    mp = sys.modules.get("multiprocessing.process")
    try:
        name = mp.current_process().name if mp is not None else None
    except Exception:
        return None
    if not isinstance(name, str) or not name or name == "MainProcess":
        return None
    return name


def end(end_reason, exit_status=None, signal=None):
    """Write this process's trace for good: every thread's events, then the trailer with
    end_reason ("exit", "os._exit", "exec", "signal", "stop") and, with them, exit_status
    or signal. Also completes a trace already stopped at exit whose trailer is pending.
    Returns the trailer's counts, or None when there was nothing to end. Never raises."""
    _state.recording = False
    try:
        _unhook_threading()
    except Exception:
        pass
    try:
        return _ft.stop(end_reason, exit_status=exit_status, signal=signal,
                        process_label=_process_label())
    except Exception:
        return None


def _uncaught_keyboard_interrupt():
    """True when the interpreter is exiting because of an uncaught KeyboardInterrupt: it
    printed it through PyErr_Print (which sets sys.last_value / sys.last_exc) and will kill
    itself with SIGINT after finalising, so on_exit handlers will not run."""
    exc = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    return isinstance(exc, KeyboardInterrupt)


def _at_exit():
    """The last atexit handler (registered first): after the program's own handlers and
    after the interpreter joined the non-daemon threads."""
    if not _state.recording:
        return
    _state.recording = False
    try:
        _unhook_threading()
    except Exception:
        pass
    label = _process_label()
    interrupted = _uncaught_keyboard_interrupt()
    try:
        if interrupted:
            stats = _ft.stop("exit", process_label=label)
        else:
            stats = _ft.stop_at_exit(label)
    except Exception:
        return
    if not interrupted:
        # Each on its own: a failure of one (no trailer to hand the signal handler when
        # the trace could not be written) must not cost the other, nor the report below.
        for step in (_signals_to_c, _wait_for_mp_helpers):
            try:
                step()
            except Exception:
                pass
    if stats is not None and not _state.quiet and _state.root_pid == os.getpid():
        _report(stats)


def _wait_for_mp_helpers():
    for fd, pid in _mp_helpers():
        _ft.wait_at_exit(fd, pid)


def _mp_helpers():
    """multiprocessing's forkserver and resource tracker started by this process, as
    (fd, pid): each ends when its pipe from us closes, i.e. only after we exit, and so
    finishes its trace after ours. The C extension closes the pipes and waits for them at
    exit, after our trailer, so that a run is complete when its command returns."""
    out = []
    for modname, objname, fd_attr, pid_attr in (
            ("multiprocessing.forkserver", "_forkserver", "_forkserver_alive_fd",
             "_forkserver_pid"),
            ("multiprocessing.resource_tracker", "_resource_tracker", "_fd", "_pid")):
        obj = getattr(sys.modules.get(modname), objname, None)
        fd, pid = getattr(obj, fd_attr, None), getattr(obj, pid_attr, None)
        if isinstance(fd, int) and isinstance(pid, int) and fd >= 0 and pid > 0:
            out.append((fd, pid))
    return out


def _signals_to_c():
    """The trailer is pending until exit(); finalisation is about to reset our Python-level
    signal handlers to SIG_DFL, and a signal then (Pool.terminate() racing a worker's exit)
    would kill the process with its trailer unwritten. Hand the signals we catch to the C
    extension's handler for that last stretch; Python is told SIG_DFL, so that it leaves
    them alone. Blocked meanwhile in this thread, so that none slips between the two."""
    sigs = sorted(_virtual_dfl)
    if not sigs or not _real_signal:
        return
    try:
        old_mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, sigs)
    except (AttributeError, OSError, ValueError):
        old_mask = None
    try:
        for num in sigs:
            _guard(num, False)
            _real_signal[0](num, _signal.SIG_DFL)
        _virtual_dfl.clear()
        _ft.catch_signals_at_exit(sigs)
    finally:
        if old_mask is not None:
            _signal.pthread_sigmask(_signal.SIG_SETMASK, old_mask)


def convert_command():
    """How to run the converter here: ft-convert when it is on PATH, else the one beside
    this interpreter (a venv's, run without activating it), else the module."""
    import shlex
    import shutil
    if shutil.which("ft-convert"):
        return "ft-convert"
    exe = sys.executable or "python3"
    beside = os.path.join(os.path.dirname(exe), "ft-convert")
    if sys.executable and os.access(beside, os.X_OK):
        return shlex.quote(beside)
    return "%s -m functiontrace.convert" % shlex.quote(exe)


def report_line(run_dir, stats, cwd=None):
    """The one line saying where a run went and the command that converts it; the run's
    path is relative to cwd (where the user started the recorder) when it is below it."""
    import shlex
    try:
        n = sum(1 for f in os.listdir(run_dir) if f.endswith(".ftrace"))
    except OSError:
        n = 1
    what = "traces of %d processes" % n if n > 1 else "trace"
    dropped = ""
    if stats and stats.get("dropped_events"):
        dropped = " (%d events dropped)" % stats["dropped_events"]
    shown = run_dir
    if cwd:
        rel = os.path.relpath(run_dir, cwd)
        if not rel.startswith(os.pardir):
            shown = rel
    return "functiontrace: %s written to %s%s; convert it with: %s %s -o profile.json" % (
        what, shown, dropped, convert_command(), shlex.quote(shown))


def say(line):
    """Print line on stderr, straight to fd 2: the program may have replaced or closed
    sys.stderr by now."""
    try:
        sys.stderr.flush()
    except Exception:
        pass
    try:
        os.write(2, (line + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


def _report(stats):
    """The one line the recorder prints (stderr, at the root's exit)."""
    say(report_line(_state.run_dir, stats, _state.start_cwd))


# ---- the hooks: fork, exec, os._exit, signals ----

def _forked_to_exec():
    """True in the child of subprocess's fork_exec with a preexec_fn, the one C fork that
    runs the after-fork hooks: the child only runs preexec_fn and execs (the program it
    execs, if Python, records itself as a child of ours)."""
    try:
        f = sys._getframe(2)
    except ValueError:
        return False
    return f.f_code.co_name == "_execute_child" and f.f_globals.get("__name__") == "subprocess"


def _after_fork_child():
    """os.register_at_fork(after_in_child=...): the C extension dropped the inherited
    recording in its pthread_atfork handler; start this process's own file, from the stack
    as it is (its first events are returns of frames entered before the fork)."""
    if _forked_to_exec():
        # The signal guards stay the parent's: in this child they take the default action,
        # as the program expects until exec().
        if _state.recording:
            _state.recording = False
            _ft.stop()   # releases what the child inherited, writes nothing
        return
    if _virtual_dfl:
        try:
            _ft.guards_after_fork()
        except Exception:
            pass
    if not _state.recording:
        return
    _state.recording = False
    try:
        start(_state.run_dir, _state.argv, _state.mode, "fork")
    except Exception as e:
        _ft.stop()
        if isinstance(e, OSError):
            _cannot_record(e)


_wraps = _markers._copy_names


def _replace(name, make):
    """Replace os.<name> (and posix.<name>, the same function) by make(real)."""
    import posix
    real = getattr(os, name, None)
    if real is None:
        return
    wrapper = _wraps(make(real), real)
    setattr(os, name, wrapper)
    if getattr(posix, name, None) is real:
        setattr(posix, name, wrapper)


def _as_status(status):
    """os._exit's argument as an int, or None if os._exit will reject it."""
    try:
        return type(status).__index__(status)
    except Exception:
        return None


def _make_exit(real):
    def _exit(*args, **kwargs):
        status = _as_status(args[0] if args else kwargs.get("status"))
        if status is not None and len(args) + len(kwargs) == 1:
            end("os._exit", exit_status=status & 0xFF)
        return real(*args, **kwargs)
    return _exit


def _make_abort(real):
    def abort():
        end("signal", signal=int(_signal.SIGABRT))
        return real()
    return abort


def _exec_may_succeed(path):
    """Whether exec(path) can work, checked before the trace is ended for it. os.execvp
    tries each PATH entry in turn; only the candidates that exist and are executable end
    the trace (and a failure there starts a new one)."""
    if isinstance(path, int):   # fexecve
        return True
    try:
        return os.access(path, os.X_OK) and not os.path.isdir(path)
    except Exception:
        return False


def _make_exec(real, env_pos):
    """os.execv (env_pos None) or os.execve (env at env_pos)."""
    def exec_(*args, **kwargs):
        path = args[0] if args else kwargs.get("path")
        if not _state.recording or not _exec_may_succeed(path):
            return real(*args, **kwargs)
        pid = str(os.getpid())
        env = None
        if env_pos is not None:
            env = args[env_pos] if len(args) > env_pos else kwargs.get("env")
            try:
                if env is not None and RUN_DIR_ENV in env:
                    env = dict(env)
                    env[EXEC_ENV] = pid
                    if len(args) > env_pos:
                        args = args[:env_pos] + (env,) + args[env_pos + 1:]
                    else:
                        kwargs["env"] = env
            except Exception:
                pass
        old = os.environ.get(EXEC_ENV)
        os.environ[EXEC_ENV] = pid
        end("exec")
        try:
            return real(*args, **kwargs)
        except BaseException:
            # The exec failed and the program goes on: so does its trace, in a new file of
            # the same pid.
            if old is None:
                os.environ.pop(EXEC_ENV, None)
            else:
                os.environ[EXEC_ENV] = old
            try:
                start(_state.run_dir, _state.argv, _state.mode, "exec")
            except OSError as e:
                _cannot_record(e)
            except Exception:
                pass
            raise
    return exec_


# Signals whose real handler is ours while the program believes they are at SIG_DFL.
_virtual_dfl = set()
# _signal.signal as it was before we wrapped it.
_real_signal = []


def _on_signal(signum, frame):
    """Handler of a signal the program leaves at SIG_DFL: write the trace, then die of the
    signal as the program would have."""
    _ft.signal_handled(signum)
    end("signal", signal=int(signum))
    _virtual_dfl.discard(signum)
    _real_signal[0](signum, _signal.SIG_DFL)
    _signal.raise_signal(signum)
    # Still here: the signal is blocked. The program goes on, untraced, as it would have
    # with the signal pending.


def _is_dfl(handler):
    return not callable(handler) and handler == _signal.SIG_DFL


def _install_signals():
    """Wrap _signal.signal and _signal.getsignal (the builtin functions that signal.signal
    and signal.getsignal call, whenever the program imports signal: wrapping them here does
    not import signal.py and enum, a third of a child's start-up otherwise) and catch the
    signals left at SIG_DFL."""
    real_signal, real_getsignal = _signal.signal, _signal.getsignal
    caught = set()
    for name in _CAUGHT_SIGNALS:
        num = getattr(_signal, name, None)
        if num is not None:
            caught.add(int(num))

    def signal_(signalnum, handler):
        try:
            num = int(signalnum)
        except Exception:
            num = None
        if _state.recording and num in caught and _is_dfl(handler):
            old = _catch(num)
        else:
            if num in _virtual_dfl:
                _guard(num, False)
            old = real_signal(signalnum, handler)
            _virtual_dfl.discard(num)
        return _signal.SIG_DFL if old is _on_signal else old

    def getsignal(signalnum):
        handler = real_getsignal(signalnum)
        return _signal.SIG_DFL if handler is _on_signal else handler

    _real_signal.append(real_signal)
    _signal.signal = _wraps(signal_, real_signal)
    _signal.getsignal = _wraps(getsignal, real_getsignal)
    for num in sorted(caught):
        try:
            if _is_dfl(real_getsignal(num)):
                _catch(num)
        except (ValueError, OSError):   # not the main thread, or not settable
            pass


def _catch(num):
    """Handle signal num (which the program leaves at SIG_DFL) with _on_signal, behind a C
    guard (record/sigguard.h); returns the previous handler."""
    old = _real_signal[0](num, _on_signal)
    _virtual_dfl.add(num)
    _guard(num, True)
    return old


def _guard(num, on):
    try:
        _ft.guard_signal(num, on)
    except Exception:
        pass


def _install_hooks():
    if _state.hooked:
        return
    _state.hooked = True
    # First registered, last run: after the program's own atexit handlers.
    atexit.register(_at_exit)
    os.register_at_fork(after_in_child=_after_fork_child)
    _replace("_exit", _make_exit)
    _replace("abort", _make_abort)
    _replace("execv", lambda real: _make_exec(real, None))
    _replace("execve", lambda real: _make_exec(real, 2))
    _install_signals()
    _hook_monitoring()


def _hook_monitoring():
    """3.12+: the recorder claims sys.monitoring's PROFILER_ID, which other profilers want
    too (cProfile does). When the program asks for the id the recorder holds, the recorder
    moves to a free one first, so the program gets it as it would untraced."""
    mon = getattr(sys, "monitoring", None)
    if mon is None or not hasattr(_ft, "yield_tool_id"):
        return
    real = mon.use_tool_id

    def use_tool_id(*args, **kwargs):
        if args:
            try:
                _ft.yield_tool_id(args[0])
            except Exception:
                pass   # no id left for us: the program gets the ValueError it would get
        return real(*args, **kwargs)
    mon.use_tool_id = _wraps(use_tool_id, real)


# ---- the run, as the root exports it and as children find it ----

def recording():
    """True while this process records its trace."""
    return _state.recording


def export_run(run_dir, mode, quiet=False, filters=None):
    """Root process: make every Python process started from now on (children, exec'd
    programs, their own children) join the run in run_dir, recording with mode and filters
    (see start); at exit, this process prints where the run went unless quiet. Returns the
    environment variables as they were, for unexport_run."""
    saved = {k: os.environ.get(k) for k in (RUN_DIR_ENV, OPTIONS_ENV, EXEC_ENV, "PYTHONPATH")}
    _state.root_pid = os.getpid()
    _state.quiet = quiet
    _state.start_cwd = _getcwd()
    _state.env_before_run = saved
    os.environ[RUN_DIR_ENV] = run_dir
    os.environ[OPTIONS_ENV] = _format_options(mode, filters or {})
    os.environ.pop(EXEC_ENV, None)
    path = os.environ.get("PYTHONPATH", "")
    if BOOTSTRAP_DIR not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = BOOTSTRAP_DIR + (os.pathsep + path if path else "")
    _cache_bytecode()
    return saved


def unexport_run(saved=None):
    """Put back the environment export_run changed (saved: what it returned; by default the
    latest export's): processes started from now on are not part of the run. Also for a run
    that could not start, whose program runs untraced: its children must not try to join."""
    if saved is None:
        saved = getattr(_state, "env_before_run", None) or {}
        _state.root_pid = None
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _escape(text):
    return text.replace("%", "%25").replace(",", "%2C")


def _unescape(text):
    parts = text.split("%")
    out = [parts[0]]
    for part in parts[1:]:
        code = part[:2].upper()
        out.append({"25": "%", "2C": ","}.get(code, "%" + part[:2]) + part[2:])
    return "".join(out)


def _format_options(mode, filters):
    items = ["mode=%s" % mode]
    for key in ("include", "exclude"):
        items += ["%s=%s" % (key, _escape(p)) for p in filters.get(key) or ()]
    if filters.get("max_depth"):
        items.append("max_depth=%d" % filters["max_depth"])
    if filters.get("memory"):
        items.append("memory=1")
    return ",".join(items)


def depth_offset(how, mode):
    """The recorded calls between the start of recording and a program's first frame, by how
    the program is run: how is ["-m"] for runpy (_run_module_as_main, _run_code, and exec
    when native calls are recorded), else nothing of ours."""
    if how == ["-m"]:
        return 3 if mode == "all" else 2
    return 0


def _filters_of(opts):
    """start()'s filters from the parsed FUNCTIONTRACE_OPTIONS."""
    filters = {"include": opts.get("include", []), "exclude": opts.get("exclude", [])}
    try:
        filters["max_depth"] = max(0, int(opts.get("max_depth", ["0"])[-1]))
    except ValueError:
        pass
    if opts.get("memory", ["0"])[-1] == "1":
        filters["memory"] = True
    return filters


def _cache_bytecode():
    """Write the bytecode of what every child of this interpreter's version imports first
    (sitecustomize, this module), even under PYTHONDONTWRITEBYTECODE: compiling them costs
    each child a few ms. Only our own package's __pycache__ is written; failures (a
    read-only install) are ignored. (The bootstrap caches _process itself in children of
    other versions; sitecustomize is compiled before any code of ours can act.)"""
    try:
        import importlib.util
        import py_compile
        for src in (os.path.join(BOOTSTRAP_DIR, "sitecustomize.py"), __file__,
                    os.path.join(os.path.dirname(__file__), "__init__.py")):
            cached = importlib.util.cache_from_source(src)
            try:
                if os.stat(cached).st_mtime >= os.stat(src).st_mtime:
                    continue
            except OSError:
                pass
            py_compile.compile(src, cached, doraise=False, quiet=2)
    except Exception:
        pass


def _options(text):
    """FUNCTIONTRACE_OPTIONS as {key: [values, in order]}."""
    opts = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep:
            opts.setdefault(key.strip(), []).append(_unescape(value.strip()))
    return opts


# Options of the interpreter that take a value (CPython's Modules/main.c, 3.8-3.13).
_VALUE_FLAGS = "WX"
_VALUE_LONG = ("--check-hash-based-pycs",)


def program_argv(cmdline, argv):
    """The header's argv (FORMAT.md §4.1: the program first, ``-c CODE`` / ``-m MODULE``
    included) from the interpreter's command line (cmdline: its argv, interpreter first)
    and sys.argv, which at sitecustomize time is already set but still lacks the code of
    ``-c`` and the module of ``-m``. Parses CPython's options; when the parse does not agree
    with sys.argv, sys.argv it is."""
    argv = list(argv)
    i = 1
    prog = None
    while i < len(cmdline):
        a = cmdline[i]
        if a == "--":
            prog = cmdline[i + 1:]
            break
        if not a.startswith("-") or a == "-":
            prog = cmdline[i:]
            break
        if a.startswith("--"):
            i += 2 if a in _VALUE_LONG else 1
            continue
        j = 1
        while j < len(a):
            c = a[j]
            if c in "cm":
                value = a[j + 1:]
                rest = i + 1
                if not value and i + 1 < len(cmdline):
                    value, rest = cmdline[i + 1], i + 2
                prog = ["-" + c, value] + cmdline[rest:]
                break
            if c in _VALUE_FLAGS:
                if not a[j + 1:]:
                    i += 1
                break
            j += 1
        if prog is not None:
            break
        i += 1
    if prog is None:
        return argv
    if prog[:1] in (["-c"], ["-m"]):
        return prog if prog[2:] == argv[1:] and argv[:1] == prog[:1] else argv
    return prog if prog[1:] == argv[1:] else argv


def _command_line():
    """The interpreter's own command line: sys.orig_argv (3.10+) or /proc/self/cmdline."""
    orig = getattr(sys, "orig_argv", None)
    if orig:
        return list(orig)
    try:
        with open("/proc/self/cmdline", "rb") as f:
            data = f.read()
    except OSError:
        return []
    return [os.fsdecode(a) for a in data.split(b"\0")[:-1]]


def bootstrap():
    """A new interpreter started with the run in its environment (called by
    _bootstrap/sitecustomize.py, before the program's main module runs): record this
    process as a child of the run, or as the continuation of an exec."""
    run_dir = os.environ.get(RUN_DIR_ENV)
    if not run_dir or _state.recording:
        return
    opts = _options(os.environ.get(OPTIONS_ENV, ""))
    reason = "child"
    if os.environ.pop(EXEC_ENV, None) == str(os.getpid()):
        reason = "exec"
    argv = program_argv(_command_line(), getattr(sys, "argv", []))
    mode = opts.get("mode", ["all"])[-1]
    try:
        start(run_dir, argv, mode, reason, _filters_of(opts), depth_offset(argv[:1], mode))
    except OSError as e:
        _cannot_record(e)


def _cannot_record(e):
    """This process of the run cannot create its trace (a full disk, a run directory gone
    or read-only): it runs untraced, and says so once, on fd 2 (the program may have
    replaced sys.stderr), as a process whose trace fails later does (writer.h)."""
    try:
        os.write(2, ("functiontrace: cannot record process %d: %s; it runs untraced\n"
                     % (os.getpid(), e)).encode("utf-8", "replace"))
    except OSError:
        pass
