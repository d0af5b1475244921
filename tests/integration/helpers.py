"""Small shared helpers for the product's integration tests.

- EventLog: follows the service's event log (GET /api/v1/events) and
  waits for events with a deadline, never with a fixed sleep.
- api_ok: one request that must answer a given status.
- assert_error: one request that must fail with a given status and code.
- assert_healthy: the service still runs and answers.
- wait_until: poll a condition with a deadline (re-exported from procs).
- raw_ws: a WebSocket client socket that will read nothing (stalled).
- ring: the API rings a phone that answers by hand; it is ringing.
- ws_status: what Python's websockets gets from a WebSocket URL.
- read_to_close: the bytes of a connection until the server closes it.
"""

import asyncio
import base64
import os
import socket
import time

import websockets

from sipphone_test.procs import wait_until  # noqa: F401  (re-export)
from sipphone_test.wsclient import accept_key

__all__ = ["EventLog", "api_ok", "assert_error", "assert_healthy",
           "wait_until", "phone_events", "raw_ws", "ring", "ws_status", "read_to_close"]


class EventLog:
    """The service's event log from a starting point on.

    after: the seq to start after; None (default) starts at the current
    end of the log, so only events from now on are seen.
    """

    PAGE = 1000

    def __init__(self, service, after=None):
        self.service = service
        if after is None:
            status, _, body = service.api("GET", "/api/v1/status")
            assert status == 200, body
            after = body["last_event_seq"]
        self.after = after
        self.events = []

    def poll(self):
        """Fetch every event published since the last poll; returns all
        events seen so far."""
        while True:
            status, _, body = self.service.api(
                "GET", "/api/v1/events?after=%d&limit=%d"
                % (self.after, self.PAGE))
            assert status == 200, (status, body)
            new = body["events"]
            for ev in new:
                # the log is gapless and ordered: seq grows by one
                if self.events:
                    assert ev["seq"] == self.events[-1]["seq"] + 1, \
                        (self.events[-1], ev)
                self.events.append(ev)
            self.after = body["next_after"]
            if len(new) < self.PAGE:
                return self.events

    def mark(self):
        """Index of the next event, for since=."""
        self.poll()
        return len(self.events)

    @staticmethod
    def _matches(ev, type_, data):
        if type_ is not None and ev["type"] != type_:
            return False
        d = ev.get("data", {})
        return all(d.get(k) == v for k, v in data.items())

    def find(self, type_=None, since=0, **data):
        """Events seen so far (polling once) of that type whose data
        holds the given fields, e.g. find("dtmf", call=cid)."""
        self.poll()
        return [ev for ev in self.events[since:]
                if self._matches(ev, type_, data)]

    def wait(self, type_, timeout=10.0, since=0, **data):
        """The first event (from index since) of that type whose data
        holds the given fields; TimeoutError lists what was seen."""
        deadline = time.monotonic() + timeout
        interval = 0.02
        while True:
            found = self.find(type_, since, **data)
            if found:
                return found[0]
            if time.monotonic() >= deadline:
                seen = [(e["type"], e.get("data")) for e in
                        self.events[since:]]
                raise TimeoutError(
                    "no %s event with %r within %.1fs; seen: %r\n"
                    "--- service log:\n%s" % (
                        type_, data, timeout, seen,
                        self.service.log_tail(40)))
            time.sleep(interval)
            interval = min(interval * 1.5, 0.2)

    def wait_count(self, type_, count, timeout=10.0, since=0, **data):
        """Wait until at least `count` such events were seen; returns
        them all (more than count if more came)."""
        def enough():
            found = self.find(type_, since, **data)
            return found if len(found) >= count else None
        try:
            return wait_until(enough, timeout, what="%d %s events"
                              % (count, type_))
        except TimeoutError:
            raise TimeoutError(
                "fewer than %d %s events with %r within %.1fs; seen: %r"
                % (count, type_, data, timeout,
                   [(e["type"], e.get("data")) for e in
                    self.events[since:]])) from None

    def types(self, since=0, prefix=""):
        return [e["type"] for e in self.find(since=since)
                if e["type"].startswith(prefix)]

    def call_types(self, call):
        """Types of a call's events, in order, but for the audio plane's
        audio.started/stopped (their place depends on media timing)."""
        return [e["type"] for e in self.find(call=call)
                if not e["type"].startswith("audio.")]


def api_ok(service, method, path, body=None, status=200):
    """One request that must answer `status`; returns the parsed body."""
    got, _, reply = service.api(method, path, body)
    assert got == status, "%s %s %r -> %d %r (wanted %d)" % (
        method, path, body, got, reply, status)
    return reply


def assert_error(service, method, path, body=None, status=400, code=None):
    """One request that must fail with `status` (and error `code`);
    returns the error object."""
    got, _, reply = service.api(method, path, body)
    assert got == status, "%s %s %r -> %d %r (wanted %d %s)" % (
        method, path, body, got, reply, status, code)
    assert isinstance(reply, dict) and "error" in reply, reply
    err = reply["error"]
    assert isinstance(err.get("message"), str) and err["message"], reply
    if code is not None:
        assert err["code"] == code, reply
    return err


def assert_healthy(service):
    """The service process runs and both liveness and the API answer."""
    assert service.running, "service exited:\n%s" % service.log_tail()
    status, _, body = service.api("GET", "/healthz", token=None)
    assert (status, body) == (200, {"status": "ok"})
    status, _, body = service.api("GET", "/api/v1/status")
    assert status == 200, body


def phone_events(phone, kind, since=0):
    """The params of a fake phone's events of one type, in order."""
    return [e.get("param") for e in phone.events[since:]
            if e.get("type") == kind]


def raw_ws(service, query, rcvbuf=4096):
    """A raw client socket after the 101 of /api/v1/ws, with a small
    receive buffer set before connecting. Nothing more is read."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", service.http_port))
    key = base64.b64encode(os.urandom(16)).decode()
    q = "&".join("%s=%s" % kv for kv in dict(query, token=service.token)
                 .items())
    s.sendall(("GET /api/v1/ws?%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (q, service.http_port, key)).encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):     # byte by byte: no more
        b = s.recv(1)
        assert b, "closed during the handshake: %r" % head
        head += b
    assert head.startswith(b"HTTP/1.1 101"), head
    assert accept_key(key).encode() in head, head
    return s


def ring(service, phone, line="100"):
    """POST /api/v1/calls to a phone in manual answer mode; returns the
    call id once the phone has the INVITE (it rings, nobody answers)."""
    m = phone.mark()
    cid = api_ok(service, "POST", "/api/v1/calls", {"line": line}, 201)["id"]
    phone.wait_event("CALL_INCOMING", 5, since=m)
    return cid


def ws_status(url, **kwargs):
    """Python's websockets (the client most people use) on url: 101 if
    it opens, else the HTTP status it was refused with. A protocol error
    (such as "unsupported HTTP version") is raised."""
    async def go():
        try:
            async with websockets.connect(url, open_timeout=5, **kwargs):
                return 101
        except websockets.exceptions.InvalidStatusCode as exc:
            return exc.status_code

    return asyncio.run(go())


def read_to_close(sock, timeout=5.0):
    """Every byte sock receives until the server closes it (EOF or a
    reset): a refused or answered connection."""
    sock.settimeout(timeout)
    buf = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
    except ConnectionResetError:
        pass
    return buf
