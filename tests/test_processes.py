"""Every process of a run: fork, multiprocessing, subprocess, exec, and every way out.

Each child runs a function whose name is unique to it. The tests read the raw traces with the
reference decoder (who started whom, how each process began and ended) and the converted
profile (each such function appears in a process of its own), and compare the program's
stdout, stderr and exit status with an untraced run."""

import os
import signal
import subprocess
import textwrap
import time
from dataclasses import dataclass, field

import pytest

from conftest import env_for_recording, ffprofiler_check
import ffprofile
import refdecode


@dataclass
class Proc:
    path: str
    pid: int
    ppid: int
    start_reason: str
    trailer: dict
    argv: list
    called: set = field(default_factory=set)

    @property
    def end_reason(self):
        return (self.trailer or {}).get("end_reason")


def processes(rec):
    """One Proc per trace file of the (single) run, from the reference decoder."""
    out = []
    for path in rec.trace_files():
        t = refdecode.read_trace(path)
        assert not t["errors"], (path, t["errors"])
        h = t["header"]
        p = Proc(str(path), h["pid"], h["ppid"], h.get("start_reason", "run"), t["trailer"],
                 h["argv"])
        for th in t["threads"].values():
            p.called |= {t["functions"][fid]["name"] for _, _, fid in th["events"]
                         if fid in t["functions"]}
        out.append(p)
    return out


def only_in(procs, name):
    """The one process whose trace calls `name`."""
    found = [p for p in procs if name in p.called]
    assert len(found) == 1, (name, [(p.pid, p.start_reason) for p in found])
    return found[0]


def profile_pids_calling(profile, name):
    return {t.pid for t in ffprofile.threads(profile) if name in t.names()}


def write(tmp, name, code):
    path = tmp / name
    path.write_text(textwrap.dedent(code))
    return path


def same_as_plain(rec, args, **kw):
    plain = rec.run_plain(args, **kw)
    traced = rec.record(args, **kw)
    assert traced.stdout == plain.stdout, (traced.stdout, plain.stdout)
    assert traced.stderr == plain.stderr, (traced.stderr, plain.stderr)
    assert traced.returncode == plain.returncode
    return traced


def convert_and_check(rec, tmp_path):
    profile = rec.convert()
    ffprofiler_check(tmp_path / "profile.json")
    return profile


FORK = """
    import os, sys
    def before_fork():
        return 1
    def in_fork_child():
        return sum(range(100))
    def in_parent_after():
        return 2
    before_fork()
    pid = os.fork()
    if pid == 0:
        in_fork_child()
        os._exit(3)
    _, status = os.waitpid(pid, 0)
    in_parent_after()
    print("child exit", os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode")
          else status >> 8)
    """


def test_fork(rec, tmp_path):
    script = write(tmp_path, "forker.py", FORK)
    same_as_plain(rec, [str(script)])
    procs = processes(rec)
    parent = only_in(procs, "in_parent_after")
    child = only_in(procs, "in_fork_child")
    assert parent.start_reason == "run" and child.start_reason == "fork"
    assert child.ppid == parent.pid != child.pid
    # The inherited, unflushed events are not written twice.
    assert "before_fork" in parent.called and "before_fork" not in child.called
    assert child.end_reason == "os._exit" and child.trailer["exit_status"] == 3
    assert parent.end_reason == "exit" and parent.trailer.get("exit_status", 0) == 0
    profile = convert_and_check(rec, tmp_path)
    assert profile_pids_calling(profile, "in_fork_child") == {str(child.pid)}


def test_forkpty(rec, tmp_path):
    script = write(tmp_path, "pty_forker.py", """
        import os
        def in_pty_child():
            return 5
        pid, fd = os.forkpty()
        if pid == 0:
            in_pty_child()
            os._exit(0)
        os.waitpid(pid, 0)
        os.close(fd)
        print("done")
        """)
    same_as_plain(rec, [str(script)])
    procs = processes(rec)
    child = only_in(procs, "in_pty_child")
    assert child.start_reason == "fork" and child.end_reason == "os._exit"


def test_fork_then_exec(rec, tmp_path):
    write(tmp_path, "after_exec.py", """
        import sys
        def in_exec_program():
            print("exec'd with", sys.argv[1:])
        in_exec_program()
        """)
    script = write(tmp_path, "fork_exec.py", """
        import os, sys
        def before_exec():
            return 1
        pid = os.fork()
        if pid == 0:
            before_exec()
            os.execv(sys.executable, [sys.executable, "after_exec.py", "x"])
        os.waitpid(pid, 0)
        print("parent done")
        """)
    same_as_plain(rec, [str(script)])
    procs = processes(rec)
    forked = only_in(procs, "before_exec")
    execd = only_in(procs, "in_exec_program")
    assert forked.pid == execd.pid
    assert forked.end_reason == "exec" and execd.start_reason == "exec"
    profile = convert_and_check(rec, tmp_path)
    # The exec'd program continues its pid's process in the profile.
    assert profile_pids_calling(profile, "in_exec_program") == \
        profile_pids_calling(profile, "before_exec")


POOL = """
    import multiprocessing as mp, os, sys
    def mp_task_{method}(x):
        return x * x
    if __name__ == "__main__":
        ctx = mp.get_context("{method}")
        with ctx.Pool(2) as pool:
            print(sorted(pool.map(mp_task_{method}, range(8), chunksize=1)))
    """


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_pool(rec, tmp_path, method):
    script = write(tmp_path, f"pool_{method}.py", POOL.format(method=method))
    same_as_plain(rec, [str(script)])
    procs = processes(rec)
    root = [p for p in procs if p.start_reason == "run"]
    assert len(root) == 1
    workers = [p for p in procs if f"mp_task_{method}" in p.called]
    # Two workers, reused for eight tasks.
    assert 1 <= len(workers) <= 2
    by_pid = {p.pid: p for p in procs}
    for w in workers:
        assert w.pid != root[0].pid
        # Each worker descends from the root through traced processes.
        p = w
        while p.ppid in by_pid and p.pid != root[0].pid:
            p = by_pid[p.ppid]
        assert p.pid == root[0].pid, (w.pid, w.ppid)
        assert w.start_reason == ("fork" if method in ("fork", "forkserver") else "child")
    profile = convert_and_check(rec, tmp_path)
    assert str(root[0].pid) not in profile_pids_calling(profile, f"mp_task_{method}")


def test_process_pool_executor(rec, tmp_path):
    script = write(tmp_path, "executor.py", """
        import concurrent.futures as cf, multiprocessing as mp
        def executor_task(x):
            return -x
        if __name__ == "__main__":
            with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as ex:
                print(list(ex.map(executor_task, range(5))))
        """)
    same_as_plain(rec, [str(script)])
    procs = processes(rec)
    workers = [p for p in procs if "executor_task" in p.called]
    assert workers and all(p.start_reason == "child" for p in workers)


@pytest.fixture
def python_on_path(rec, tmp_path):
    """A PATH whose python, python3 and python3.X are the interpreter under test."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    real = subprocess.run([rec.py, "-c", "import sys; print(sys.executable)"],
                          capture_output=True, text=True).stdout.strip()
    for name in ("python", "python3", "python%d.%d" % rec.version):
        (bindir / name).symlink_to(real)
    return f"{bindir}{os.pathsep}{os.environ['PATH']}"


SUBPROCESS_KINDS = {
    "sys.executable": "subprocess.run([sys.executable, 'kid.py', 'a'])",
    "absolute": "subprocess.run([os.path.realpath(sys.executable), 'kid.py', 'a'])",
    "path-python": "subprocess.run(['python', 'kid.py', 'a'])",
    "path-python3": "subprocess.run(['python3', 'kid.py', 'a'])",
    "path-python3.x": "subprocess.run(['python%d.%d' % sys.version_info[:2], 'kid.py', 'a'])",
    "shebang": "subprocess.run(['./kid.py', 'a'])",
    "module": "subprocess.run([sys.executable, '-m', 'kid', 'a'])",
    "code": "subprocess.run([sys.executable, '-c', 'import kid; kid.kid_main()', 'a'])",
    "os.system": "os.system('python3 kid.py a')",
    "posix_spawn": "os.waitpid(os.posix_spawn(sys.executable, [sys.executable, 'kid.py', 'a'], os.environ), 0)",
    "shell": "subprocess.run('python3 kid.py a | cat', shell=True)",
}


@pytest.mark.parametrize("kind", sorted(SUBPROCESS_KINDS))
def test_python_children(rec, tmp_path, python_on_path, kind):
    kid = write(tmp_path, "kid.py", """\
        #!/usr/bin/env python3
        import sys
        def kid_main():
            print("kid", sys.argv[1:], flush=True)
        if __name__ == "__main__":
            kid_main()
        """)
    kid.chmod(0o755)
    script = write(tmp_path, "parent.py", f"""
        import os, subprocess, sys
        def launch():
            sys.stdout.flush()
            {SUBPROCESS_KINDS[kind]}
        launch()
        print("parent done")
        """)
    env = {"PATH": python_on_path}
    same_as_plain(rec, [str(script)], env_extra=env)
    procs = processes(rec)
    parent = only_in(procs, "launch")
    kid_proc = only_in(procs, "kid_main")
    assert kid_proc.start_reason == "child" and kid_proc.pid != parent.pid
    if kind not in ("os.system", "shell"):   # those go through an untraced shell
        assert kid_proc.ppid == parent.pid
    assert kid_proc.end_reason == "exit"


def test_grandchildren(rec, tmp_path):
    write(tmp_path, "grandkid.py", "def grandkid_work():\n    return 1\ngrandkid_work()\n")
    write(tmp_path, "kid2.py", """
        import subprocess, sys
        def kid_work():
            subprocess.run([sys.executable, "grandkid.py"])
        kid_work()
        """)
    script = write(tmp_path, "top.py", """
        import subprocess, sys
        subprocess.run([sys.executable, "kid2.py"])
        """)
    same_as_plain(rec, [str(script)])
    procs = processes(rec)
    kid = only_in(procs, "kid_work")
    grandkid = only_in(procs, "grandkid_work")
    assert grandkid.ppid == kid.pid


def test_non_python_children_untouched(rec, tmp_path):
    script = write(tmp_path, "shell_out.py", """
        import subprocess
        subprocess.run(["echo", "from echo"])
        subprocess.run(["sh", "-c", "echo $((6 * 7)); exit 0"])
        print(subprocess.run(["cat"], input=b"piped", capture_output=True).stdout)
        """)
    same_as_plain(rec, [str(script)])
    assert len(processes(rec)) == 1


ENDINGS = {
    "sys.exit": ("import sys\ndef ending():\n    sys.exit(4)\nending()\n", "exit", 4),
    "exception": ("def ending():\n    raise ValueError('x')\nending()\n", "exit", 1),
    "os._exit": ("import os\ndef ending():\n    os._exit(5)\nending()\n", "os._exit", 5),
    "normal": ("def ending():\n    pass\nending()\n", "exit", 0),
}


@pytest.mark.parametrize("how", sorted(ENDINGS))
def test_child_endings(rec, tmp_path, how):
    code, reason, status = ENDINGS[how]
    write(tmp_path, "ender.py", code)
    script = write(tmp_path, "run_ender.py", """
        import subprocess, sys
        print("status", subprocess.run([sys.executable, "ender.py"]).returncode)
        """)
    same_as_plain(rec, [str(script)])
    child = only_in(processes(rec), "ending")
    assert child.end_reason == reason
    if "exit_status" in (child.trailer or {}):
        assert child.trailer["exit_status"] == status


SIGNALLED = """
    import os, signal, sys, time
    def busy_until_signalled():
        print("ready", flush=True)
        time.sleep(30)
    {setup}
    busy_until_signalled()
    """


def run_and_signal(rec, args, sig, traced):
    """Start the program, wait for its 'ready' line, send sig; return (rc, out, err)."""
    cmd = [rec.py, "-m", "functiontrace.record", "-q", "-o", str(rec.tmp / "traces")] \
        if traced else [rec.py]
    p = subprocess.Popen(cmd + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=rec.tmp, env=env_for_recording())
    assert p.stdout.readline() == b"ready\n"
    time.sleep(0.2)
    p.send_signal(sig)
    out, err = p.communicate(timeout=60)
    return p.returncode, b"ready\n" + out, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=lambda s: s.name)
@pytest.mark.parametrize("handler", ["default", "own"])
def test_signals(rec, tmp_path, sig, handler):
    setup = "" if handler == "default" else textwrap.dedent(f"""
        def on_signal(n, frame):
            print("handled", n, flush=True)
            sys.exit(9)
        signal.signal({int(sig)}, on_signal)
        """)
    script = write(tmp_path, "sig.py", SIGNALLED.format(setup=textwrap.indent(setup, "    ")))
    plain = run_and_signal(rec, [str(script)], sig, traced=False)
    traced = run_and_signal(rec, [str(script)], sig, traced=True)
    assert traced[0] == plain[0]
    assert traced[1] == plain[1]
    assert traced[2] == plain[2]
    (proc,) = processes(rec)
    assert "busy_until_signalled" in proc.called
    if handler == "default" and sig != signal.SIGINT:
        assert proc.end_reason == "signal" and proc.trailer["signal"] == int(sig)
    else:
        assert proc.end_reason == "exit"
    convert_and_check(rec, tmp_path)


def test_sigkill_loses_at_most_the_open_chunk(rec, tmp_path):
    script = write(tmp_path, "killed.py", """
        import sys, time
        def many_calls(n):
            return n
        def churn():
            for i in range(200000):
                many_calls(i)
        churn()
        print("ready", flush=True)
        time.sleep(30)
        """)
    p = subprocess.Popen([rec.py, "-m", "functiontrace.record", "-q", "-o",
                          str(tmp_path / "traces"), str(script)],
                         stdout=subprocess.PIPE, cwd=tmp_path, env=env_for_recording())
    assert p.stdout.readline() == b"ready\n"
    p.kill()
    p.wait()
    (trace,) = rec.trace_files()
    t = refdecode.read_trace(trace)
    assert t["trailer"] is None
    calls = sum(1 for th in t["threads"].values() for _, kind, fid in th["events"]
                if kind == "CALL" and t["functions"][fid]["name"] == "many_calls")
    # 200k calls were made; what was flushed survived (at most one chunk per thread lost).
    assert calls > 100000
    res = rec.convert(check=False)
    assert res.returncode == 3, res.stderr
    assert "many_calls" in set().union(*(t.names() for t in ffprofile.threads(
        ffprofile.load(tmp_path / "profile.json"))))
