"""Receiver: a webhook receiver for tests, on 127.0.0.1 (http or https).

Python's http.server in threads (one per request). It records every
request and answers what each path is told to; paths are matched
without their query.

    rx = Receiver()
    wh = create_endpoint(url=rx.url("/hooks"))
    rx.secret("/hooks", wh["secret"])     # check every signature
    rx.fail_first("/hooks", 1)            # each event: 500, then 200
    ...
    rx.acked("/hooks")                    # the requests answered 2xx
    rx.close()

What a POST gets, first rule that applies:
  hang(path)            no answer at all (the request is read, then
                        the connection is held) until unhang(path) is
                        called for new requests or close() for all;
  fail_first(path, n)   the first n requests of each webhook-id get
                        `status` (500), later ones 200; `when(event)`
                        picks the events this applies to;
  answer(path, *codes)  the codes in turn, the last one repeating
                        (default 200); `retry_after` adds a
                        Retry-After header.
stop() closes the listening socket (connections are refused) and the
kept-alive connections that wait for a request, and start() listens
again on the same port: a receiver that is down.

Each request is recorded as a dict: path, id (webhook-id), headers,
body (raw bytes), event (parsed JSON or None), at (time.time() when the
body was read), status (what it was answered; None while unanswered or
hung), valid (the Standard Webhooks signature checked with the path's
secret; None if no secret was given).
"""

import base64
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .procs import wait_until

__all__ = ["Receiver", "verify"]


def verify(secret, headers, body, tolerance_s=300, now=None):
    """True if body (bytes as received) carries a valid Standard Webhooks
    signature for secret ("whsec_..."); headers: a mapping whose get()
    ignores case. Timestamps further than tolerance_s from now fail."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    key = base64.b64decode(secret[len("whsec_"):]
                           if secret.startswith("whsec_") else secret)
    signed = b"%s.%s.%s" % (msg_id.encode(), timestamp.encode(), body)
    expected = base64.b64encode(
        hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for signature in signatures.split():
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


class Receiver:
    """Webhook receiver on 127.0.0.1; see the module's docstring.

    certfile/keyfile: serve https. port: listen there (default: a free
    one, kept by stop()/start()).
    """

    def __init__(self, certfile=None, keyfile=None, port=0):
        self.lock = threading.Lock()
        self.got = []
        self.plans = {}
        self.retry_after = {}
        self.failing = {}        # path -> (n, status, when)
        self.attempts = {}       # (path, webhook-id) -> requests so far
        self.secrets = {}
        self.hung = set()
        self.conns = set()       # handlers of open connections
        self.release = threading.Event()
        self.certfile, self.keyfile = certfile, keyfile
        self.scheme = "https" if certfile else "http"
        self.port = port
        self.server = None
        self.thread = None
        self.start()

    # -- listening -------------------------------------------------------

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            busy = False         # between a request line and its answer

            def handle(self):
                with receiver.lock:
                    receiver.conns.add(self)
                try:
                    super().handle()
                finally:
                    with receiver.lock:
                        receiver.conns.discard(self)

            def parse_request(self):
                self.busy = True
                return super().parse_request()

            def handle_one_request(self):
                super().handle_one_request()
                self.busy = False

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                path = self.path.partition("?")[0]
                rec = receiver._record(path, self.headers, body)
                if path in receiver.hung:
                    receiver.release.wait(120)
                    self.close_connection = True
                    return
                status, retry_after = receiver._status(path, rec)
                with receiver.lock:
                    rec["status"] = status
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", str(retry_after))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def start(self):
        """Listen (again) on self.port; returns self."""
        if self.server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", self.port),
                                     self._handler())
        server.daemon_threads = True
        if self.certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.certfile, self.keyfile)
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
        self.server = server
        self.port = server.server_address[1]
        self.thread = threading.Thread(target=server.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Stop listening: new connections are refused (the port is kept
        for start()), and kept-alive connections waiting for their next
        request are closed. Requests in progress go on."""
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.server = None
        with self.lock:
            idle = [h for h in self.conns if not h.busy]
        for h in idle:
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        """Release hung requests and stop."""
        self.release.set()
        self.stop()

    def url(self, path, host="127.0.0.1"):
        return "%s://%s:%d%s" % (self.scheme, host, self.port, path)

    # -- what to answer --------------------------------------------------

    def answer(self, path, *statuses, retry_after=None):
        """POSTs to path get these statuses in turn (the last repeats)."""
        with self.lock:
            self.plans[path] = list(statuses)
            self.retry_after[path] = retry_after

    def fail_first(self, path, n=1, status=500, when=None):
        """The first n requests of each webhook-id to path get status,
        the next ones 200; when(event) (the parsed body) chooses the
        events this applies to (default: all)."""
        with self.lock:
            self.failing[path] = (n, status, when)

    def hang(self, path):
        """Requests to path are read and never answered (until close)."""
        self.hung.add(path)

    def unhang(self, path):
        """Requests to path from now on are answered again (those hung
        so far stay hung until close)."""
        self.hung.discard(path)

    def secret(self, path, secret):
        """Check the signature of every request to path (rec["valid"])."""
        with self.lock:
            self.secrets[path] = secret
            for rec in self.got:
                if rec["path"] == path:
                    rec["valid"] = verify(secret, rec["headers"],
                                          rec["body"], now=rec["at"])

    def _status(self, path, rec):
        with self.lock:
            rule = self.failing.get(path)
            if rule is not None:
                n, status, when = rule
                key = (path, rec["id"])
                if when is None or (rec["event"] is not None
                                    and when(rec["event"])):
                    if self.attempts[key] <= n:
                        return status, self.retry_after.get(path)
                return 200, None
            plan = self.plans.get(path) or [200]
            status = plan.pop(0) if len(plan) > 1 else plan[0]
            return status, self.retry_after.get(path)

    def _record(self, path, headers, body):
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        now = time.time()
        rec = {"path": path, "id": headers.get("webhook-id"),
               "headers": headers, "body": body, "event": event, "at": now,
               "status": None, "valid": None}
        with self.lock:
            secret = self.secrets.get(path)
            if secret is not None:
                rec["valid"] = verify(secret, headers, body, now=now)
            key = (path, rec["id"])
            self.attempts[key] = self.attempts.get(key, 0) + 1
            self.got.append(rec)
        return rec

    # -- what came -------------------------------------------------------

    def requests(self, path=None):
        """The requests to path (None: all), in the order they came."""
        with self.lock:
            return [r for r in self.got if path is None or r["path"] == path]

    def acked(self, path=None):
        """The requests to path answered 2xx, in order."""
        return [r for r in self.requests(path)
                if r["status"] is not None and 200 <= r["status"] < 300]

    def wait(self, path, count=1, timeout=10.0):
        """The first count requests to path, waiting for them."""
        return wait_until(lambda: (self.requests(path)[:count]
                                   if len(self.requests(path)) >= count
                                   else None),
                          timeout, what="%d POSTs to %s" % (count, path))

    def wait_acked(self, path, ids, timeout=10.0):
        """Wait until every webhook-id in ids was answered 2xx at path;
        returns acked(path)."""
        want = set(ids)

        def done():
            got = self.acked(path)
            return got if want <= {r["id"] for r in got} else None
        try:
            return wait_until(done, timeout, what="%d acknowledged POSTs "
                              "to %s" % (len(want), path))
        except TimeoutError:
            missing = want - {r["id"] for r in self.acked(path)}
            raise TimeoutError(
                "%d of %d events not acknowledged at %s within %.1fs "
                "(%d requests came): %s" % (
                    len(missing), len(want), path, timeout,
                    len(self.requests(path)), sorted(missing)[:10])) \
                from None
