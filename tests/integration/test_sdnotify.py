"""systemd's notify protocol, without systemd.

The service runs with $NOTIFY_SOCKET naming a unix datagram socket this
test owns, and $WATCHDOG_USEC set, as systemd would start it for
Type=notify and WatchdogSec= (conf/systemd/sipphone.service). What
arrives there: READY=1 once SIP and HTTP answer, STATUS= with the lines
and calls as they change, WATCHDOG=1 at half the watchdog interval for as
long as the main loop turns, STOPPING=1 on SIGTERM.
"""

import errno
import signal
import socket
import time

import pytest

from helpers import api_ok
from sipphone_test import procs
from sipphone_test.service import Service

WATCHDOG_USEC = 400000  # pings every 200 ms


class NotifySocket:
    """The manager's end: every datagram, with the time it came."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.got = []  # (monotonic time, {key: value})

    def recv(self, timeout):
        """The next message as a dict, or None after timeout."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return None
        msg = dict(line.split("=", 1)
                   for line in data.decode().splitlines() if line)
        self.got.append((time.monotonic(), msg))
        return msg

    def wait(self, cond, timeout):
        """Messages until one satisfies cond(msg); returns it."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            msg = self.recv(max(left, 0.01)) if left > 0 else None
            if msg is not None and cond(msg):
                return msg
            if msg is None and time.monotonic() >= deadline:
                raise TimeoutError("no such notify message in %.1fs; got %r"
                                   % (timeout, [m for _, m in self.got]))

    def close(self):
        self.sock.close()


@pytest.fixture
def notify(tmp_path):
    ns = NotifySocket(tmp_path / "notify")
    yield ns
    ns.close()


@pytest.fixture
def notified(notify, request):
    """A service launched under the notify socket (not waited for)."""
    svc = Service(env={"NOTIFY_SOCKET": notify.path,
                       "WATCHDOG_USEC": str(WATCHDOG_USEC)})
    yield svc.launch()
    svc.stop()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print("\n--- service log (tail) ---\n%s" % svc.log_tail(80))
    else:
        svc.cleanup()


def sip_bound(port):
    """True if the SIP UDP port is taken (by the service)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def test_ready_only_once_sip_and_http_answer(notify, notified):
    msg = notify.wait(lambda m: "READY" in m, 10)
    assert msg["READY"] == "1"
    # at once, no retry: both listen when READY=1 is sent
    status, _, body = notified.api("GET", "/healthz", token=None,
                                   timeout=2)
    assert (status, body) == (200, {"status": "ok"})
    assert sip_bound(notified.sip_port)
    with socket.create_connection(("127.0.0.1", notified.sip_port), 2):
        pass
    assert msg["STATUS"] == "0 of 0 lines registered, 0 calls"


def test_status_follows_lines_and_calls(notify, notified, phone_factory):
    notify.wait(lambda m: "READY" in m, 10)
    no_ping = lambda m: "STATUS" in m  # noqa: E731

    phone = phone_factory(server=notified.sip_server, line="100",
                          answer="manual")
    phone.wait_registered(10)
    assert notify.wait(no_ping, 5)["STATUS"] == \
        "1 of 1 line registered, 0 calls"

    cid = api_ok(notified, "POST", "/api/v1/calls", {"line": "100"},
                 201)["id"]
    assert notify.wait(no_ping, 5)["STATUS"] == \
        "1 of 1 line registered, 1 call"

    api_ok(notified, "POST", "/api/v1/calls/%s/hangup" % cid)
    assert notify.wait(no_ping, 5)["STATUS"] == \
        "1 of 1 line registered, 0 calls"


def test_watchdog_pings_while_the_loop_runs(notify, notified):
    notify.wait(lambda m: "READY" in m, 10)
    start = time.monotonic()
    while time.monotonic() - start < 2.0:
        notify.recv(0.5)
    pings = [t for t, m in notify.got if m.get("WATCHDOG") == "1"
             and t >= start]
    # every 200 ms: about 10 in 2 s
    assert 7 <= len(pings) <= 13, len(pings)
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert max(gaps) < WATCHDOG_USEC / 1e6, gaps

    # a stopped main loop stops pinging: what makes systemd restart it
    notified.proc.send_signal(signal.SIGSTOP)
    try:
        time.sleep(0.1)
        while notify.recv(0.1):  # drain what was sent before
            pass
        assert notify.recv(1.0) is None
    finally:
        notified.proc.send_signal(signal.SIGCONT)
    assert notify.wait(lambda m: m.get("WATCHDOG") == "1", 2)


def test_sigterm_says_stopping_and_exits_in_seconds(notify, notified,
                                                    phone_factory):
    notify.wait(lambda m: "READY" in m, 10)
    phone = phone_factory(server=notified.sip_server, line="100")
    phone.wait_registered(10)
    m = phone.mark()
    api_ok(notified, "POST", "/api/v1/calls", {"line": "100"}, 201)
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)

    # a live call, then systemd's stop: the call ends (the phone gets
    # its BYE), STOPPING=1, and the process is gone in seconds
    m = phone.mark()
    start = time.monotonic()
    notified.proc.send_signal(signal.SIGTERM)
    notify.wait(lambda m: m.get("STOPPING") == "1", 3)
    phone.wait_event("CALL_CLOSED", 3, since=m)
    assert procs.stop(notified.proc, 5.0, sig=None) == 0
    assert time.monotonic() - start < 5.0
