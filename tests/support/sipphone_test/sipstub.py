"""StubRegistrar: a minimal UDP SIP registrar for testing the test tools.

It answers REGISTER with 200 OK (echoing the Contact with its expiry),
every other request except ACK with 501, and keeps every request it got.
It is no SIP implementation: just enough to see what a phone sends.
"""

import re
import socket
import threading
import time

from .ports import free_port


class SipRequest:
    """A parsed request: method, uri, headers (lower-case name -> list)."""

    def __init__(self, data, source):
        text = data.decode("utf-8", "replace")
        head = text.split("\r\n\r\n", 1)[0]
        lines = head.split("\r\n")
        self.method, self.uri, _ = lines[0].split(" ", 2)
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.setdefault(name.strip().lower(), []).append(
                value.strip())
        self.source = source
        self.text = text

    def header(self, name, default=None):
        values = self.headers.get(name.lower())
        return values[0] if values else default


class StubRegistrar:
    """Answers SIP over UDP on host:port (default a free port)."""

    def __init__(self, host="127.0.0.1", port=None):
        self.host = host
        self.port = port
        self.requests = []
        self._cond = threading.Condition()
        self._sock = None
        self._thread = None

    @property
    def hostport(self):
        return "%s:%d" % (self.host, self.port)

    def start(self):
        if self.port is None:
            self.port = free_port(udp_and_tcp=True, pair=True)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((self.host, self.port))
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name="stub registrar")
        self._thread.start()
        return self

    def stop(self):
        if self._sock is not None:
            self._sock.close()
            self._thread.join(2)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _serve(self):
        while True:
            try:
                data, source = self._sock.recvfrom(65536)
            except OSError:
                return
            if not data.strip() or data.startswith(b"SIP/2.0"):
                continue
            try:
                req = SipRequest(data, source)
            except ValueError:
                continue
            with self._cond:
                self.requests.append(req)
                self._cond.notify_all()
            if req.method != "ACK":
                try:
                    self._sock.sendto(self._reply(req), source)
                except OSError:
                    return

    def _reply(self, req):
        if req.method == "REGISTER":
            status = "200 OK"
            expires = req.header("expires", "3600")
            contacts = ["%s;expires=%s" % (c, expires)
                        if "expires=" not in c else c
                        for c in req.headers.get("contact", [])]
        else:
            status, contacts = "501 Not Implemented", []
        to = req.header("to", "")
        if ";tag=" not in to:
            to += ";tag=stub%d" % int(time.monotonic() * 1000)
        lines = ["SIP/2.0 " + status]
        lines += ["Via: " + v for v in req.headers.get("via", [])]
        lines += ["From: " + req.header("from", ""), "To: " + to,
                  "Call-ID: " + req.header("call-id", ""),
                  "CSeq: " + req.header("cseq", "")]
        lines += ["Contact: " + c for c in contacts]
        lines += ["Content-Length: 0", "", ""]
        return "\r\n".join(lines).encode("utf-8")

    def wait_request(self, method, timeout=10.0, since=0, predicate=None):
        """First request at index >= since with this method (and
        predicate(req), if given)."""
        deadline = time.monotonic() + timeout
        i = since
        with self._cond:
            while True:
                while i < len(self.requests):
                    r = self.requests[i]
                    if r.method == method and (predicate is None
                                               or predicate(r)):
                        return r
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no %s within %.1fs; got %s" % (
                        method, timeout,
                        [r.method for r in self.requests[since:]]))
                self._cond.wait(left)


def contact_uri(value):
    """The URI inside a Contact header value."""
    m = re.search(r"<([^>]*)>", value)
    return m.group(1) if m else value.split(";", 1)[0].strip()
