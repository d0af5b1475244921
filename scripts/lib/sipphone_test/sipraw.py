"""Raw SIP over UDP from a test socket: hand-built requests, parsed replies.

No SIP stack: every request is built here, header by header, so a test
can send exactly what it wants (a missing To user, two Contacts, a
non-numeric Expires) or plain bytes. A client owns one UDP socket on
127.0.0.1; replies are matched to a request by its Via branch.

    with SipUdpClient(service.sip_server) as c:
        r = c.register("100", expires=120)
        assert r.status == 200 and r.header("date")
        r = c.register("100", headers={"Contact": "*", "Expires": "0"})
"""

import itertools
import re
import secrets
import socket
import time

_DEFAULT = object()


class SipResponse:
    """A parsed response: status, reason, headers (lower-case name ->
    list of values, one per header line or comma-free value), body, and
    the raw text."""

    def __init__(self, data):
        self.raw = data
        text = data.decode("utf-8", "replace")
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        m = re.match(r"SIP/2\.0 (\d{3}) ?(.*)$", lines[0])
        if not m:
            raise ValueError("not a SIP response: %r" % lines[0][:80])
        self.status = int(m.group(1))
        self.reason = m.group(2)
        self.headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                continue
            name = _COMPACT.get(name.strip().lower(), name.strip().lower())
            self.headers.setdefault(name, []).append(value.strip())

    def header(self, name, default=None):
        """The first value of a header (case-insensitive), or default."""
        values = self.headers.get(name.lower())
        return values[0] if values else default

    def all(self, name):
        """Every value of a header, in order."""
        return list(self.headers.get(name.lower(), []))

    def __repr__(self):
        return "<SipResponse %d %s>" % (self.status, self.reason)


# compact header forms (RFC 3261 section 7.3.3)
_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id",
            "m": "contact", "l": "content-length", "c": "content-type"}


def contact_params(value):
    """(uri, {param: value}) of one Contact header value, params after '>'
    (header parameters), lower-case names."""
    m = re.match(r"\s*(?:\"[^\"]*\"\s*)?<([^>]*)>(.*)$", value)
    if m:
        uri, rest = m.group(1), m.group(2)
    else:
        uri, _, rest = value.partition(";")
        rest = ";" + rest if rest else ""
    params = {}
    for p in rest.split(";"):
        p = p.strip()
        if p:
            k, _, v = p.partition("=")
            params[k.strip().lower()] = v.strip()
    return uri.strip(), params


class SipUdpClient:
    """A SIP client on its own UDP socket (127.0.0.1, a free port).

    server: "HOST:PORT" of the SIP server.
    Attributes: host, port (local), hostport ("127.0.0.1:p").
    """

    def __init__(self, server, host="127.0.0.1"):
        shost, _, sport = server.rpartition(":")
        self.server = (shost, int(sport))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()
        self.call_id = "sipraw-" + secrets.token_hex(8)
        self.tag = secrets.token_hex(4)
        self._cseq = itertools.count(1)

    @property
    def hostport(self):
        return "%s:%d" % (self.host, self.port)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- sending -----------------------------------------------------------

    def send(self, data):
        """Send bytes as one datagram to the server."""
        self.sock.sendto(data, self.server)

    @staticmethod
    def new_branch():
        return "z9hG4bK-" + secrets.token_hex(8)

    def build(self, method, uri, headers, body=b"", branch=None):
        """One request. headers: a list of (name, value); a Via with this
        socket's address and branch comes first, Content-Length last
        (unless headers name one)."""
        branch = branch or self.new_branch()
        if isinstance(body, str):
            body = body.encode("utf-8")
        lines = ["%s %s SIP/2.0" % (method, uri),
                 "Via: SIP/2.0/UDP %s;branch=%s;rport"
                 % (self.hostport, branch)]
        lines += ["%s: %s" % (n, v) for n, v in headers]
        if not any(n.lower() in ("content-length", "l") for n, _ in headers):
            lines.append("Content-Length: %d" % len(body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body, \
            branch

    def request(self, method, uri, headers, body=b"", timeout=3.0):
        """Send a request and return its final response (1xx skipped).
        Raises TimeoutError if none comes."""
        data, branch = self.build(method, uri, headers, body)
        self.send(data)
        return self.wait_response(branch, timeout)

    def wait_response(self, branch, timeout=3.0, final=True):
        """The next response whose top Via carries branch."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no SIP response (branch %s) within "
                                   "%.1fs" % (branch, timeout))
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            if not data.startswith(b"SIP/2.0 "):
                continue
            try:
                resp = SipResponse(data)
            except ValueError:
                continue
            if ("branch=%s" % branch) not in (resp.header("via") or ""):
                continue
            if final and resp.status < 200:
                continue
            return resp

    def no_response(self, timeout=0.5):
        """True if nothing arrives within timeout (for requests the
        server must drop)."""
        self.sock.settimeout(timeout)
        try:
            self.sock.recvfrom(65536)
        except socket.timeout:
            return True
        return False

    # -- REGISTER ----------------------------------------------------------

    def default_contact(self, line):
        return "<sip:%s@%s>" % (line, self.hostport)

    def register_headers(self, line, contact=_DEFAULT, expires=None,
                         user_agent="sipraw/1.0", domain=None):
        """The headers of a plain REGISTER for line: From/To
        sip:LINE@server, Call-ID and CSeq of this client, Contact (default
        <sip:LINE@this socket>; None: none), Expires if given."""
        domain = domain or "%s:%d" % self.server
        aor = "<sip:%s@%s>" % (line, domain)
        headers = [("Max-Forwards", "70"),
                   ("From", "%s;tag=%s" % (aor, self.tag)),
                   ("To", aor),
                   ("Call-ID", self.call_id),
                   ("CSeq", "%d REGISTER" % next(self._cseq))]
        if contact is _DEFAULT:
            contact = self.default_contact(line)
        if contact is not None:
            headers.append(("Contact", contact))
        if expires is not None:
            headers.append(("Expires", str(expires)))
        if user_agent is not None:
            headers.append(("User-Agent", user_agent))
        return headers

    def register(self, line, contact=_DEFAULT, expires=None,
                 user_agent="sipraw/1.0", headers=None, timeout=3.0):
        """Send a REGISTER for line; return the final response.

        headers: {name: value} applied to the plain REGISTER's headers:
        a str replaces that header (or is added), a list repeats it, None
        removes it.
        """
        hdrs = self.register_headers(line, contact, expires, user_agent)
        hdrs = override(hdrs, headers or {})
        return self.request("REGISTER", "sip:%s:%d" % self.server, hdrs,
                            timeout=timeout)


def override(headers, changes):
    """Apply {name: str | list | None} to a list of (name, value): a str
    replaces every header of that name at the first one's place (or is
    appended), a list puts several, None removes them."""
    out, done = [], set()
    lower = {k.lower(): (k, v) for k, v in changes.items()}
    for name, value in headers:
        key = name.lower()
        if key not in lower:
            out.append((name, value))
            continue
        if key in done:
            continue
        done.add(key)
        out += _values(*lower[key])
    for key, (name, value) in lower.items():
        if key not in done:
            out += _values(name, value)
    return out


def _values(name, value):
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [(name, v) for v in values]
