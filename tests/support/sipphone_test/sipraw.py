"""Raw SIP over UDP from a test socket: hand-built requests, parsed replies.

No SIP stack: every request is built here, header by header, so a test
can send exactly what it wants (a missing To user, two Contacts, a
non-numeric Expires) or plain bytes. A client owns one UDP socket on
its `host` (default 127.0.0.1); replies are matched to a request by its
Via branch and CSeq.

    with SipUdpClient(service.sip_server) as c:
        r = c.register("100", expires=120)
        assert r.status == 200 and r.header("date")
        r = c.register("100", headers={"Contact": "*", "Expires": "0"})

RawPhone is a SipUdpClient that also calls: INVITE (with an SDP offer),
ACK, INFO and BYE in the call's dialog, as an HT802 port does.
"""

import collections
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
    """A SIP client on its own UDP socket (a free port on `host`).

    server: "HOST:PORT" of the SIP server. host: the address to bind
    (default 127.0.0.1; any 127.x.y.z is loopback on Linux, so a test can
    send from another address than the server's).
    Attributes: host, port (local), hostport ("HOST:p"), call_id and tag
    (used by REGISTER), cseq (the last CSeq number given out).
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
        self.cseq = 0
        self.last_request = None  # (bytes, branch, CSeq value)

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

    def next_cseq(self):
        """The next CSeq number of this client."""
        self.cseq = next(self._cseq)
        return self.cseq

    def uri(self, user, domain=None):
        """sip:USER@domain (default: the server's HOST:PORT)."""
        return "sip:%s@%s" % (user, domain or "%s:%d" % self.server)

    def common_headers(self, method, line, to, call_id=None, cseq=None,
                       domain=None):
        """Max-Forwards; From <sip:LINE@domain> with this client's tag; To;
        Call-ID (default: this client's); CSeq (default: the next
        number) with method."""
        if cseq is None:
            cseq = self.next_cseq()
        return [("Max-Forwards", "70"),
                ("From", "<%s>;tag=%s" % (self.uri(line, domain), self.tag)),
                ("To", to),
                ("Call-ID", call_id or self.call_id),
                ("CSeq", "%d %s" % (cseq, method))]

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

    def send_request(self, method, uri, headers, body=b""):
        """Build and send a request without waiting for its answer; it
        becomes last_request. Returns (branch, CSeq value) for
        wait_response."""
        data, branch = self.build(method, uri, headers, body)
        cseq = next((v for n, v in headers if n.lower() == "cseq"), None)
        self.send(data)
        self.last_request = (data, branch, cseq)
        return branch, cseq

    def request(self, method, uri, headers, body=b"", timeout=3.0):
        """Send a request and return its final response (1xx skipped),
        matched by branch and by the request's CSeq (for a CSeq the
        server may not echo, send_request and wait_response(branch)).
        Raises TimeoutError if none comes."""
        branch, cseq = self.send_request(method, uri, headers, body)
        return self.wait_response(branch, timeout, cseq=cseq)

    def retransmit(self, timeout=3.0):
        """Send last_request again, byte for byte (a UDP retransmission:
        same branch, Call-ID and CSeq); returns the final response."""
        data, branch, cseq = self.last_request
        self.send(data)
        return self.wait_response(branch, timeout, cseq=cseq)

    def wait_response(self, branch=None, timeout=3.0, final=True,
                      cseq=None):
        """The next response whose top Via carries branch and whose CSeq
        is cseq ("N METHOD"), of those given. Others are passed over, as
        are requests from the server."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no SIP response (branch %s, CSeq %s) "
                                   "within %.1fs" % (branch, cseq, timeout))
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
            if branch and ("branch=%s" % branch) not in (resp.header("via")
                                                         or ""):
                continue
            if cseq and " ".join((resp.header("cseq") or "").split()) \
                    != cseq:
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
        headers = self.common_headers("REGISTER", line,
                                      "<%s>" % self.uri(line, domain),
                                      domain=domain)
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


# The call's dialog as the phone sees it: Call-ID, the To of the answer
# (with the server's tag), the server's Contact URI (where requests go).
Dialog = collections.namedtuple("Dialog", "call_id remote_to target")


class RawPhone(SipUdpClient):
    """Just enough of a phone (one HT802 port) on a UDP socket: it
    registers its line, calls the server (INVITE with a PCMU offer; the
    answer is ACKed) and, in the call, sends INFO with any body (the
    HT802's Signal=5 / Duration=160, a hook flash as Signal=16 or
    Signal=hf) and BYE. One call at a time; requests from the server are
    not answered.

        ua = RawPhone(service.sip_server, line="300")
        assert ua.register().status == 200
        ua.invite("8000")
        ...  # the call is answered over REST
        ua.established()
        assert ua.info("Signal=5\\r\\nDuration=160\\r\\n").status == 200
        assert ua.bye().status == 200

    Attributes besides SipUdpClient's: line, rtp (a UDP socket on host,
    the offer's audio port), dialog (call_id, remote_to, target: set by
    a 2xx to the INVITE, cleared by bye()).
    """

    USER_AGENT = "Grandstream HT802 1.0.51.2 (test)"

    def __init__(self, server, line="300", host="127.0.0.1",
                 user_agent=USER_AGENT, timeout=5.0):
        super().__init__(server, host)
        self.line = line
        self.user_agent = user_agent
        self.timeout = timeout
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((self.host, 0))
        self.dialog = None
        self._invite = None  # (uri, Call-ID, CSeq number, branch)

    def close(self):
        self.rtp.close()
        super().close()

    def phone_headers(self, method, to, call_id, cseq=None):
        """A request's headers as the phone sends them: the common ones,
        its Contact and User-Agent."""
        return self.common_headers(method, self.line, to, call_id, cseq) + [
            ("Contact", self.default_contact(self.line)),
            ("User-Agent", self.user_agent)]

    def register(self, line=None, expires=60, **kwargs):
        """REGISTER this phone's line (or another); the final response."""
        kwargs.setdefault("user_agent", self.user_agent)
        kwargs.setdefault("timeout", self.timeout)
        return super().register(line or self.line, expires=expires,
                                **kwargs)

    def sdp(self):
        """The INVITE's offer: PCMU and telephone-event on the rtp port."""
        return ("v=0\r\no=- 1 1 IN IP4 {h}\r\ns=-\r\nc=IN IP4 {h}\r\n"
                "t=0 0\r\nm=audio {p} RTP/AVP 0 101\r\n"
                "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000"
                "\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
                ).format(h=self.host, p=self.rtp.getsockname()[1])

    def invite(self, number, headers=None, call_id=None):
        """Call number: send the INVITE and return at once (the answer
        comes when the call is answered: wait_answer, established).
        headers: extra (name, value) pairs (e.g. Proxy-Authorization);
        call_id: the Call-ID (default a new one; an INVITE answered with
        a challenge is sent again in the same call)."""
        uri = self.uri(number)
        call_id = call_id or "sipraw-%s@%s" % (secrets.token_hex(8),
                                               self.host)
        cseq = self.next_cseq()
        branch, _ = self.send_request(
            "INVITE", uri,
            self.phone_headers("INVITE", "<%s>" % uri, call_id, cseq)
            + list(headers or []) + [("Content-Type", "application/sdp")],
            self.sdp())
        self._invite = (uri, call_id, cseq, branch)
        self.dialog = None

    def wait_answer(self, timeout=None):
        """The INVITE's final response, ACKed: a 2xx in a transaction of
        its own to the answer's Contact (and the call's dialog starts),
        any other in the INVITE's transaction."""
        uri, call_id, cseq, branch = self._invite
        resp = self.wait_response(branch, timeout or self.timeout,
                                  cseq="%d INVITE" % cseq)
        to = resp.header("to")
        ack = self.phone_headers("ACK", to, call_id, cseq)
        if resp.status < 300:
            target = contact_params(resp.header("contact"))[0]
            self.dialog = Dialog(call_id, to, target)
            self.send(self.build("ACK", target, ack)[0])
        else:
            self.send(self.build("ACK", uri, ack, branch=branch)[0])
        return resp

    def established(self, timeout=None):
        """Wait for the 200 to the INVITE and ACK it; the 200."""
        resp = self.wait_answer(timeout)
        assert resp.status == 200, resp.raw.decode("utf-8", "replace")
        return resp

    def in_dialog(self, method, body=b"", ctype=None, to_tag=None,
                  timeout=None):
        """A request in the call's dialog; its final response. to_tag:
        put this tag in To instead of the dialog's (a request that is
        not in the dialog)."""
        d = self.dialog
        to = d.remote_to
        if to_tag is not None:
            to = to.split(";tag=")[0] + ";tag=" + to_tag
        headers = self.phone_headers(method, to, d.call_id)
        if ctype:
            headers.append(("Content-Type", ctype))
        return self.request(method, d.target, headers, body,
                            timeout or self.timeout)

    def info(self, body, ctype="application/dtmf-relay", to_tag=None):
        """INFO in the call with this body; the final response."""
        return self.in_dialog("INFO", body, ctype, to_tag)

    def bye(self):
        """Hang up: BYE; the final response. The dialog is over."""
        resp = self.in_dialog("BYE")
        self.dialog = None
        return resp


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
