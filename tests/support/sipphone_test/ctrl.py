"""Client for baresip's ctrl_tcp module (netstring-framed JSON).

ctrl_tcp (baresip 1.0.0) accepts one client at a time (a new one replaces
the old), relays commands to menu's long commands ({"command", "params",
"token"} -> {"response": true, "ok", "data", "token"}) and sends every UA
event ({"event": true, "type", "class", "param", ...}) to the client that
is connected when it happens. A reader thread keeps every event in order.
"""

import itertools
import json
import socket
import threading
import time


def netstring(payload):
    """Frame bytes as a netstring: b'<len>:<payload>,'."""
    return b"%d:%s," % (len(payload), payload)


class NetstringReader:
    """Splits a byte stream into netstring payloads."""

    def __init__(self):
        self._buf = b""

    def feed(self, data):
        """Add data; return the complete payloads it finished."""
        self._buf += data
        out = []
        while True:
            colon = self._buf.find(b":")
            if colon < 0:
                break
            head = self._buf[:colon]
            if not head.isdigit():
                raise ValueError("bad netstring header %r" % head[:20])
            end = colon + 1 + int(head)
            if len(self._buf) < end + 1:
                break
            if self._buf[end:end + 1] != b",":
                raise ValueError("netstring without trailing comma")
            out.append(self._buf[colon + 1:end])
            self._buf = self._buf[end + 1:]
        return out


class CtrlClient:
    """A connection to ctrl_tcp with an event log and command replies."""

    def __init__(self, host, port, on_event=None):
        self.addr = (host, port)
        self.on_event = on_event
        self.events = []
        self._replies = {}
        self._cond = threading.Condition()
        self._tokens = itertools.count(1)
        self._sock = None
        self._thread = None
        self.closed = False

    def connect(self, timeout=10.0, alive=None):
        """Connect, retrying until the port listens or timeout.

        alive: optional callable; a false result stops the retries (the
        process died).
        """
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            try:
                self._sock = socket.create_connection(self.addr, timeout=2)
                break
            except OSError:
                if alive is not None and not alive():
                    raise RuntimeError("process exited before ctrl_tcp "
                                       "listened on %s:%d" % self.addr)
                if time.monotonic() >= deadline:
                    raise TimeoutError("ctrl_tcp did not listen on %s:%d"
                                       % self.addr)
                time.sleep(delay)
                delay = min(delay * 1.5, 0.25)
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._read, daemon=True,
                                        name="ctrl_tcp %d" % self.addr[1])
        self._thread.start()

    def _read(self):
        reader = NetstringReader()
        try:
            while True:
                data = self._sock.recv(65536)
                if not data:
                    break
                for payload in reader.feed(data):
                    self._dispatch(json.loads(payload.decode("utf-8")))
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def _dispatch(self, msg):
        if msg.get("event"):
            msg["_time"] = time.monotonic()
            with self._cond:
                self.events.append(msg)
                self._cond.notify_all()
            if self.on_event:
                self.on_event(msg)
        elif msg.get("response"):
            with self._cond:
                self._replies[msg.get("token")] = msg
                self._cond.notify_all()

    def command(self, command, params=None, timeout=10.0):
        """Run a menu command; return the reply dict (ok, data)."""
        token = "t%d" % next(self._tokens)
        msg = {"command": command, "token": token}
        if params is not None:
            msg["params"] = str(params)
        self._sock.sendall(netstring(json.dumps(msg).encode("utf-8")))
        deadline = time.monotonic() + timeout
        with self._cond:
            while token not in self._replies:
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    raise TimeoutError("no reply to ctrl_tcp command %r"
                                       % command)
                self._cond.wait(left)
            return self._replies.pop(token)

    def wait_event(self, predicate, timeout=10.0, since=0):
        """First event at index >= since for which predicate(event) holds.

        Raises TimeoutError (listing the event types seen) on timeout.
        """
        deadline = time.monotonic() + timeout
        i = since
        with self._cond:
            while True:
                while i < len(self.events):
                    if predicate(self.events[i]):
                        return self.events[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    seen = [e.get("type") for e in self.events[since:]]
                    raise TimeoutError("event not seen within %.1fs%s; "
                                       "seen: %s" % (
                                           timeout,
                                           " (connection closed)"
                                           if self.closed else "", seen))
                self._cond.wait(left)

    def mark(self):
        """Index of the next event, for wait_event(since=...)."""
        with self._cond:
            return len(self.events)

    def close(self):
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        if self._thread is not None:
            self._thread.join(2)
