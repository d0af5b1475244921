"""Child processes in their own process group, always cleaned up."""

import os
import signal
import subprocess
import time


def die_with_parent(argv):
    """argv run through setpriv (util-linux, always on Debian) so that the
    child gets SIGKILL when the thread that started it dies: a killed test
    run leaves no process behind. Start children from the main thread."""
    return ["setpriv", "--pdeathsig", "KILL", "--"] + list(argv)


def spawn(argv, log_path, cwd=None, env=None):
    """Start argv in a new session; stdout+stderr to log_path.

    stdin is a pipe that stays open for the life of the child (baresip's
    stdio UI spins on EOF).
    """
    log = open(log_path, "ab", buffering=0)
    try:
        return subprocess.Popen(die_with_parent(argv), cwd=cwd, env=env,
                                stdin=subprocess.PIPE, stdout=log,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        log.close()


def _killpg(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(proc, timeout=10.0, sig=signal.SIGTERM):
    """Send sig (None: none), wait up to timeout, then SIGKILL the group.

    Returns the exit code (negative for a signal). Safe to call twice.
    """
    if proc is None:
        return None
    if proc.poll() is None:
        if sig is not None:
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _killpg(proc, signal.SIGKILL)
            proc.wait(5)
    if proc.stdin:
        try:
            proc.stdin.close()
        except OSError:
            pass
    return proc.returncode


def tail(path, lines=40):
    """Last lines of a text file, or '' if it does not exist."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def wait_until(cond, timeout, interval=0.02, max_interval=0.25, what=None):
    """Poll cond() with a growing interval until it is truthy.

    Returns its value; raises TimeoutError after timeout seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s"
                               % (timeout, what or "a condition"))
        time.sleep(interval)
        interval = min(interval * 1.5, max_interval)


class Child:
    """What the test processes (the service, fake phones, linphonec) share:
    start()/stop() in a `with` block, and their log. Subclasses set
    self.proc (a Popen or None) and self.log_path."""

    LOG_TAIL_LINES = 40

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=None):
        return tail(self.log_path, lines or self.LOG_TAIL_LINES)


def rss_kb(pid):
    """Resident memory of a process, in KiB (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def cpu_s(pid):
    """User + system CPU seconds a process has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
