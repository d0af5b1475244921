"""WSClient: a small RFC 6455 WebSocket client (stdlib only) for tests.

A reader thread keeps text messages (decoded JSON when they parse) and
binary messages apart, answers pings and records the close frame.
"""

import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import threading
import time
from urllib.parse import urlsplit

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeError(Exception):
    """The server did not switch protocols: status, headers, body."""

    def __init__(self, status, headers, body):
        super().__init__("WebSocket handshake refused: %s %s"
                         % (status, body[:200]))
        self.status = status
        self.headers = headers
        self.body = body


def accept_key(key):
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode())
                            .digest()).decode()


def encode_frame(opcode, payload, mask=None):
    """One final frame; masked (as a client must) unless mask is b""."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    bit = 0x80 if mask != b"" else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if mask == b"":
        return head + payload
    mask = mask or os.urandom(4)
    return head + mask + _unmask(payload, mask)


def _unmask(data, mask):
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _read_http_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, rest


class WSClient:
    """One WebSocket connection.

    url: ws://host:port/path?query, or wss://. headers: extra handshake
    headers (e.g. Authorization, Origin). ssl_context: for wss://, e.g.
    ssl.create_default_context(cafile=...); default: the system's CAs.
    """

    def __init__(self, url, headers=None, timeout=10.0, ssl_context=None):
        self.url = url
        self.ssl_context = ssl_context
        self.extra_headers = dict(headers or {})
        self.timeout = timeout
        self.texts = []       # str, or the parsed JSON value
        self.binaries = []    # bytes
        self.close_code = None
        self.closed = False
        self.response_headers = {}
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._sock = None
        self._thread = None
        self._buf = b""

    def connect(self):
        """Open the connection; raises HandshakeError unless 101."""
        u = urlsplit(self.url)
        tls = u.scheme == "wss"
        port = u.port or (443 if tls else 80)
        path = (u.path or "/") + ("?" + u.query if u.query else "")
        key = base64.b64encode(os.urandom(16)).decode()
        self._sock = socket.create_connection((u.hostname, port),
                                              timeout=self.timeout)
        if tls:
            ctx = self.ssl_context or ssl.create_default_context()
            self._sock = ctx.wrap_socket(self._sock,
                                         server_hostname=u.hostname)
        lines = ["GET %s HTTP/1.1" % path,
                 "Host: %s:%d" % (u.hostname, port),
                 "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        lines += ["%s: %s" % kv for kv in self.extra_headers.items()]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status, headers, rest = _read_http_head(self._sock)
        self.response_headers = headers
        if status != 101:
            body = rest
            try:
                self._sock.settimeout(1.0)
                while len(body) < int(headers.get("content-length", 0)):
                    chunk = self._sock.recv(4096)
                    if not chunk:
                        break
                    body += chunk
            except (OSError, ValueError):
                pass
            self._sock.close()
            raise HandshakeError(status, headers,
                                 body.decode("utf-8", "replace"))
        if headers.get("sec-websocket-accept") != accept_key(key):
            self._sock.close()
            raise ConnectionError("bad Sec-WebSocket-Accept")
        self._buf = rest
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._read, daemon=True,
                                        name="ws " + self.url)
        self._thread.start()
        return self

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.close()

    # -- sending -----------------------------------------------------------

    def _send_frame(self, opcode, payload):
        frame = encode_frame(opcode, payload)
        with self._send_lock:
            self._sock.sendall(frame)

    def send_text(self, text):
        self._send_frame(TEXT, text.encode("utf-8"))

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def send_binary(self, data):
        self._send_frame(BINARY, bytes(data))

    def ping(self, data=b""):
        self._send_frame(PING, data)

    def close(self, code=1000, timeout=2.0):
        """Send a close frame, wait for the server's, close the socket."""
        if self._sock is None:
            return
        if not self.closed:
            try:
                self._send_frame(CLOSE, struct.pack("!H", code))
            except OSError:
                pass
            with self._cond:
                self._cond.wait_for(lambda: self.closed, timeout)
        try:
            self._sock.close()
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(2)

    # -- receiving ---------------------------------------------------------

    def _recv_exact(self, n):
        while len(self._buf) < n:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self._buf += chunk
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def _read_frame(self):
        b0, b1 = self._recv_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._recv_exact(8))[0]
        mask = self._recv_exact(4) if b1 & 0x80 else None
        payload = self._recv_exact(n)
        if mask:
            payload = _unmask(payload, mask)
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def _read(self):
        parts, kind = [], None
        try:
            while True:
                fin, op, payload = self._read_frame()
                if op == PING:
                    self._send_frame(PONG, payload)
                    continue
                if op == PONG:
                    continue
                if op == CLOSE:
                    code = struct.unpack("!H", payload[:2])[0] \
                        if len(payload) >= 2 else 1005
                    with self._cond:
                        self.close_code = code
                    try:
                        self._send_frame(CLOSE, payload[:2])
                    except OSError:
                        pass
                    break
                if op in (TEXT, BINARY):
                    kind, parts = op, [payload]
                else:
                    parts.append(payload)
                if fin:
                    self._deliver(kind, b"".join(parts))
        except (OSError, ConnectionError, ValueError):
            pass
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def _deliver(self, kind, data):
        with self._cond:
            if kind == TEXT:
                text = data.decode("utf-8")
                try:
                    self.texts.append(json.loads(text))
                except ValueError:
                    self.texts.append(text)
            else:
                self.binaries.append(data)
            self._cond.notify_all()

    def clear(self):
        """Forget the messages received so far (a long run's buffers
        would grow for ever); indexes start again at 0."""
        with self._cond:
            self.texts.clear()
            self.binaries.clear()

    def mark(self):
        """(text index, binary index) for the since= arguments."""
        with self._cond:
            return len(self.texts), len(self.binaries)

    def wait_text(self, predicate=None, timeout=10.0, since=0):
        """First text message at index >= since matching predicate (on the
        parsed JSON or the string)."""
        deadline = time.monotonic() + timeout
        i = since
        with self._cond:
            while True:
                while i < len(self.texts):
                    if predicate is None or predicate(self.texts[i]):
                        return self.texts[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise TimeoutError(
                        "no matching text message within %.1fs%s; got %s" % (
                            timeout, " (closed, code %s)" % self.close_code
                            if self.closed else "",
                            [str(t)[:120] for t in self.texts[since:]]))
                self._cond.wait(left)

    def wait_binary(self, count=1, timeout=10.0, since=0):
        """Wait until `count` binary messages arrived after index since;
        returns them."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: len(self.binaries) - since >= count or self.closed,
                timeout)
            got = self.binaries[since:]
        if not ok or len(got) < count:
            raise TimeoutError("%d of %d binary messages within %.1fs"
                               % (len(got), count, timeout))
        return got

    def wait_closed(self, timeout=10.0):
        """Wait until the server closed; returns its close code."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.closed, timeout):
                raise TimeoutError("connection still open")
            return self.close_code
