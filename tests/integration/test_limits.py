"""The web server's bounds: connection caps, idle timeouts, descriptors.

- 1 100 idle connections against httpctl_conn_max 900: 900 are held and
  200 refused with "HTTP/1.1 503" too_many_connections; the service's CPU
  stays low while they sit (the figures are printed); /healthz answers
  while they are open under the cap, is refused at the cap and answers
  again afterwards; a connection that sent nothing is closed after the
  10 s request-head timeout, one kept alive after a request after the
  30 s keep-alive timeout, with 1 100 around.
- httpctl_conn_per_addr (default 32) refuses the next connection from
  that address cleanly, WebSocket clients included; another address is
  still served.
- Out of descriptors (RLIMIT_NOFILE 64 set by a wrapper): accepting
  pauses instead of spinning, the episode is logged once, and the service
  serves again when the connections close.

The test process raises its own RLIMIT_NOFILE to hold 1 100 sockets.
"""

import asyncio
import json
import os
import resource
import select
import socket
import time

import pytest
import websockets

from helpers import read_to_close, wait_until, ws_status
from sipphone_test.procs import cpu_s

GET = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
GET_CLOSE = b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
HEAD_TIMEOUT = 10      # lws's timeout_secs, the request head
KEEPALIVE = 30         # WEB_IDLE_S, a kept-alive connection's next request
CPU_BOUND = 20.0       # % of one core: generous; idle is well under 2 %


@pytest.fixture(scope="module", autouse=True)
def nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard >= 1400, "RLIMIT_NOFILE hard limit %d: need 1400" % hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# -- measuring the service from outside ---------------------------------------


def cpu_percent(pid, seconds):
    """The service's CPU over a window, in % of one core."""
    c0, t0 = cpu_s(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_s(pid) - c0) / (time.monotonic() - t0) * 100


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def settled_fds(pid):
    """The service's descriptors once the count holds still (a client
    that just closed is not yet seen by the service)."""
    def still():
        n = fds(pid)
        time.sleep(0.2)
        return n if n == fds(pid) else None

    return wait_until(still, 5, what="the descriptor count to settle")


def accept_backlog(port):
    """Connections the kernel holds for the listening socket on port."""
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(path) as f:
            for line in f.readlines()[1:]:
                p = line.split()
                if p[3] == "0A" and int(p[1].split(":")[1], 16) == port:
                    return int(p[4].split(":")[1], 16)
    return 0


# -- clients ------------------------------------------------------------------

def connect(port, src="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                 source_address=(src, 0))
    return s


def open_idle(port, n, src="127.0.0.1"):
    """n connections that say nothing, each with the time it was opened.
    Paced so that the listen backlog never overflows (a dropped SYN would
    cost its client a second)."""
    socks = []
    for i in range(n):
        socks.append((connect(port, src), time.monotonic()))
        if i % 16 == 15:
            wait_until(lambda: accept_backlog(port) == 0, 5,
                       what="the service accepting")
    wait_until(lambda: accept_backlog(port) == 0, 5,
               what="the service accepting")
    return socks


def has_bytes_or_eof(s):
    p = select.poll()
    p.register(s, select.POLLIN)
    return bool(p.poll(0))


def wait_closed(socks, deadline):
    """Wait until the server closes each (socket, opened) pair; returns
    the seconds each stayed open."""
    left = {s.fileno(): (s, t) for s, t in socks}
    lasted = []
    p = select.poll()
    for fd in left:
        p.register(fd, select.POLLIN)
    while left and time.monotonic() < deadline:
        ready = p.poll(500)
        now = time.monotonic()
        for fd, _ in ready:
            s, opened = left.pop(fd)
            p.unregister(fd)
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            assert not data, data[:200]
            lasted.append(now - opened)
    assert not left, "%d connections still open" % len(left)
    return lasted


def refusal(data):
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 "), data[:200]
    assert b"\r\nConnection: close" in head, head
    return json.loads(body)["error"]["code"]


def healthz(svc):
    status, _, body = svc.api("GET", "/healthz", token=None, timeout=5)
    return status, body


# -- the tests ----------------------------------------------------------------

def test_1100_idle_connections(service_factory):
    svc = service_factory(httpctl_conn_max="900", httpctl_conn_per_addr="1000")
    pid, port = svc.proc.pid, svc.http_port
    base = settled_fds(pid)

    # 400 kept alive after one request, then 400 that say nothing
    kept = open_idle(port, 400)
    for s, _ in kept:
        s.sendall(GET)
    for i, (s, _) in enumerate(kept):
        s.settimeout(5)
        head = s.recv(4096)
        assert head.startswith(b"HTTP/1.1 200 "), head[:100]
        kept[i] = (s, time.monotonic())
    silent = open_idle(port, 400)

    assert healthz(svc) == (200, {"status": "ok"})
    wait_until(lambda: fds(pid) == base + 800, 5, what="800 held")
    cpu800 = cpu_percent(pid, 3)

    # 300 more: 100 are held (900 in all), 200 refused
    more = open_idle(port, 300)
    held, refused = more[:100], more[100:]
    wait_until(lambda: all(has_bytes_or_eof(s) for s, _ in refused), 5,
               what="200 refusals")
    assert not any(has_bytes_or_eof(s) for s, _ in held)
    for s, _ in refused:
        assert refusal(read_to_close(s)) == "too_many_connections"
        s.close()
    assert fds(pid) == base + 900

    # at the cap, /healthz is refused too, the same way
    status, body = healthz(svc)
    assert (status, body["error"]["code"]) == (503, "too_many_connections")

    cpu900 = cpu_percent(pid, 3)
    print("\nservice CPU: %.1f%% with 800 idle connections, %.1f%% with "
          "900 held and 200 refused" % (cpu800, cpu900))
    assert cpu800 < CPU_BOUND and cpu900 < CPU_BOUND

    # those that said nothing go after the request-head timeout ...
    lasted = wait_closed(silent + held, time.monotonic() + 3 * HEAD_TIMEOUT)
    print("head timeout: closed after %.1f to %.1f s"
          % (min(lasted), max(lasted)))
    assert HEAD_TIMEOUT - 1 <= min(lasted)
    assert max(lasted) <= HEAD_TIMEOUT + 10

    # ... and /healthz answers while the kept-alive ones are still open
    assert healthz(svc) == (200, {"status": "ok"})

    lasted = wait_closed(kept, time.monotonic() + 2 * KEEPALIVE)
    print("keep-alive timeout: closed after %.1f to %.1f s"
          % (min(lasted), max(lasted)))
    assert KEEPALIVE - 1 <= min(lasted) and max(lasted) <= KEEPALIVE + 10

    assert healthz(svc) == (200, {"status": "ok"})
    wait_until(lambda: fds(pid) == base, 5, what="every connection gone")

    # 201 refusals, their log lines at most one per 10 s
    refusals = svc.log_text().count("connection refused")
    assert 1 <= refusals <= 2, svc.log_tail(20)


def test_per_address_cap(service_factory):
    svc = service_factory()               # httpctl_conn_per_addr 32
    pid, port = svc.proc.pid, svc.http_port
    base = settled_fds(pid)
    url = "%s?token=%s" % (svc.ws_url, svc.token)

    idle = open_idle(port, 32)
    wait_until(lambda: fds(pid) == base + 32, 5, what="32 held")

    # the 33rd from 127.0.0.1 is refused, at once and cleanly
    s = connect(port)
    s.sendall(GET)
    assert refusal(read_to_close(s)) == "too_many_connections"
    s.close()
    assert ws_status(url) == 503

    # another address is served
    s = connect(port, src="127.0.0.2")
    s.sendall(GET_CLOSE)
    reply = read_to_close(s)
    assert reply.startswith(b"HTTP/1.1 200 "), reply[:100]
    s.close()

    # a WebSocket counts as a connection like any other
    idle.pop()[0].close()
    wait_until(lambda: fds(pid) == base + 31, 5, what="one closed")

    async def hold_one():
        async with websockets.connect(url, open_timeout=5) as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello"
            return await asyncio.get_running_loop().run_in_executor(
                None, ws_status, url)

    assert asyncio.run(hold_one()) == 503
    wait_until(lambda: fds(pid) == base + 31, 5, what="the WebSocket gone")
    assert ws_status(url) == 101

    line = "connection refused: 32 are open from this address" \
        " (httpctl_conn_per_addr)"
    assert line in svc.log_text()
    for s, _ in idle:
        s.close()
    assert healthz(svc) == (200, {"status": "ok"})


def test_out_of_descriptors_pauses_accepting(service_factory, tmp_path):
    wrapper = tmp_path / "baresip-nofile-64"
    wrapper.write_text("#!/bin/sh\nexec prlimit --nofile=64:64 baresip"
                       " \"$@\"\n")
    wrapper.chmod(0o755)
    svc = service_factory(baresip=str(wrapper), httpctl_conn_max="1000",
                       httpctl_conn_per_addr="1000")
    pid, port = svc.proc.pid, svc.http_port
    assert "Max open files            64" in \
        open("/proc/%d/limits" % pid).read()
    since = svc.log_size()

    # more connections than the service has descriptors for
    socks = []
    for _ in range(120):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)

    svc.wait_log(r"web: accept: Too many open files: no new connections"
                 r" for now", 5, since)
    cpu = cpu_percent(pid, 3)
    print("\nservice CPU out of descriptors: %.1f%%" % cpu)
    assert cpu < CPU_BOUND
    log = svc.log_from(since)
    assert log.count("no new connections for now") == 1, log[-2000:]
    assert len(log.splitlines()) < 20, log[-2000:]
    assert fds(pid) == 64

    for s in socks:
        s.close()
    t0 = time.monotonic()
    wait_until(lambda: healthz(svc)[0] == 200, 5, what="/healthz")
    print("serving again %.0f ms after the connections closed"
          % ((time.monotonic() - t0) * 1000))
    svc.wait_log(r"web: accepting connections again", 5, since)
    assert svc.running
