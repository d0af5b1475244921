"""Malformed HTTP requests get our answer, never lws's.

lws 4.1 answers some malformed requests itself ("HTTP/1.0 403" and an
HTML page: a bad %-escape, a target that is no path, an Upgrade other
than websocket; a silent close: a head larger than its header table).
The server reads each request head of a plain connection first
(modules/core/web/web_peek.c), so that these get HTTP/1.1, a JSON error
and Connection: close, like every other refusal:

- each malformed request line or header block, raw and through curl,
  on a new connection and as the next request of a kept-alive one;
- a head that arrives in pieces is waited for without a busy loop (the
  service's CPU time is measured), a good one is then served and a bad
  one refused; a client that closes mid-head is let go;
- requests sent back to back (pipelined) are served; one with a body
  behind another, which sends lws 4.1 into a busy loop for good, ends
  the connection instead (the client retries it);
- a reply to HEAD carries no body;
- versions other than HTTP/1.x get 505, an h2c upgrade 400 (never a
  switch to HTTP/2), on the TLS port too;
- the service keeps serving, and logs such requests at most once in 10 s.
"""

import json
import socket
import ssl
import subprocess
import time

import pytest

from sipphone_test.procs import cpu_s
from sipphone_test.service import paths

GET = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"


def read_reply(sock, head_only=False, buf=b""):
    """One whole reply (head and Content-Length body, unless head_only: a
    reply to HEAD) from sock, after the bytes of it already in buf:
    (status line, headers lower-cased, body, bytes left after it)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, "closed before a reply: %r" % buf
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        hdrs[name.strip().lower()] = value.strip()
    size = 0 if head_only else int(hdrs.get("content-length", "0"))
    while len(rest) < size:
        chunk = sock.recv(65536)
        assert chunk, "closed inside a body"
        rest += chunk
    return lines[0], hdrs, rest[:size], rest[size:]


def closed(sock, timeout=5.0):
    """Does the server close sock (EOF or reset) within timeout, sending
    nothing more?"""
    sock.settimeout(timeout)
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def refused(port, data, status, code):
    """Send data on a new connection: it gets status and code, in
    HTTP/1.1 with a JSON body, and the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        line, hdrs, body, rest = read_reply(s)
        assert line.startswith("HTTP/1.1 %d " % status), (data[:80], line)
        assert hdrs["content-type"] == "application/json"
        assert hdrs["connection"] == "close"
        assert json.loads(body)["error"]["code"] == code, body
        assert rest == b"" and closed(s), data[:80]




def head(line, *hdrs):
    return (line + "\r\nHost: t\r\n" + "".join(h + "\r\n" for h in hdrs)
            + "\r\n").encode("latin-1")


MALFORMED = [
    # the request target
    (head("GET /%zz HTTP/1.1"), 400, "bad_request"),
    (head("GET /a%2 HTTP/1.1"), 400, "bad_request"),
    (head("GET /a% HTTP/1.1"), 400, "bad_request"),
    (head("GET /%00/x HTTP/1.1"), 400, "bad_request"),
    (head("GET /healthz?a=%g1 HTTP/1.1"), 400, "bad_request"),
    (head("GET http://x/ HTTP/1.1"), 400, "bad_request"),
    (head("OPTIONS * HTTP/1.1"), 400, "bad_request"),
    (head("GET /a\x01b HTTP/1.1"), 400, "bad_request"),
    (head("GET /" + "a" * 5000 + " HTTP/1.1"), 414, "uri_too_long"),
    (head("GET /healthz?" + "&".join(["a=1"] * 120) + " HTTP/1.1"), 414,
     "uri_too_long"),
    # the version
    (head("GET /healthz HTTP/9.9"), 505, "http_version_not_supported"),
    (head("GET /healthz HTTP/2.0"), 505, "http_version_not_supported"),
    (head("GET /healthz HTTP/1.1x"), 400, "bad_request"),
    (head("GET /healthz  HTTP/1.1"), 400, "bad_request"),
    (b"GET /healthz\r\n\r\n", 400, "bad_request"),
    # the headers
    (head("GET /healthz HTTP/1.1", "Upgrade: foo"), 400, "bad_request"),
    (head("GET /healthz HTTP/1.1", "Upgrade: h2c",
          "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABk"),
     400, "bad_request"),
    (head("GET /healthz HTTP/1.1", "Upgrade: websocket "), 400,
     "bad_request"),
    (head("GET /healthz HTTP/1.1", "X-Big: " + "v" * 5000), 431,
     "headers_too_large"),
    (head("GET /healthz HTTP/1.1", *(["Cookie: a=1"] * 120)), 431,
     "headers_too_large"),
    (head("GET /healthz HTTP/1.1", "Host : t"), 400, "bad_request"),
    (head("GET /healthz HTTP/1.1", "X: a", " folded"), 400, "bad_request"),
    (head("GET /healthz HTTP/1.1", "no colon here"), 400, "bad_request"),
    (head("GET /healthz HTTP/1.1", "POST /x HTTP/1.1"), 400, "bad_request"),
    (head("GET /healthz HTTP/1.1", "X: a\x00b"), 400, "bad_request"),
    (head("GET /healthz HTTP/1.1", "X: a\rb"), 400, "bad_request"),
    # names lws misreads: the start of one it knows (the line is glued to
    # the next ones: here the head never ends), or a method's name
    (head("GET /healthz HTTP/1.1", "X: 1"), 400, "bad_request"),
    (head("GET /healthz HTTP/1.1", "X-Auth: 1", "Origin: http://e.x"), 400,
     "bad_request"),
    (head("GET /healthz HTTP/1.1", "Deleted: 1"), 400, "bad_request"),
    # no request line we serve
    (head("CONNECT x:80 HTTP/1.1"), 501, "not_implemented"),
    (head("get /healthz HTTP/1.1"), 400, "bad_request"),
    (b"Host: t\r\n\r\n", 400, "bad_request"),
]


def test_malformed_requests_get_http_11_json(service_factory):
    svc = service_factory()
    since = svc.log_size()
    for data, status, code in MALFORMED:
        refused(svc.http_port, data, status, code)

    assert svc.api("GET", "/healthz", token=None)[0] == 200
    # refused quietly: one line for all of them (at most one in 10 s)
    log = svc.log_from(since)
    assert log.count("a malformed request head") + \
        log.count("no HTTP request") == 1, log


def test_good_requests_still_pass(service_factory):
    svc = service_factory()
    tok = "Authorization: Bearer %s" % svc.token
    for data in (head("GET /healthz HTTP/1.1"),
                 head("GET /healthz HTTP/1.0"),
                 head("GET /healthz HTTP/1.2"),   # a later 1.x: as 1.0
                 head("HEAD /healthz HTTP/1.1"),
                 head("GET /api/v1/events?after=0&limit=5 HTTP/1.1", tok),
                 head("GET /api/v1/lines/caf%C3%A9 HTTP/1.1", tok),
                 head("GET /healthz HTTP/1.1", "Upgrade:",
                      "X-Empty:", "Accept: */*", "X-Tab:\tTabbed "),
                 b"GET /healthz HTTP/1.1\nHost: t\n\n",  # bare LFs
                 head("GET /healthz HTTP/1.1", "X-Big: " + "v" * 3000),
                 head("GET /healthz HTTP/1.1", "Sec-Fetch-Mode: cors",
                      "Upgrade-Insecure-Requests: 1", "X-Forwarded-Proto: h",
                      "X-Requested-With: t", "Priority: u=0", "DNT: 1")):
        with socket.create_connection(("127.0.0.1", svc.http_port),
                                      timeout=5) as s:
            s.sendall(data)
            line, hdrs, body, _ = read_reply(s, data.startswith(b"HEAD"))
            assert line.startswith("HTTP/1.1 "), (data[:60], line)
            assert not line.startswith(("HTTP/1.1 400", "HTTP/1.1 5")), \
                (data[:60], line)

    status, _, body = svc.api("GET", "/api/v1/lines/caf%C3%A9")
    assert (status, body["error"]["code"]) == (404, "line_not_found")


def test_a_reply_to_head_has_no_body(service_factory):
    svc = service_factory()
    with socket.create_connection(("127.0.0.1", svc.http_port),
                                  timeout=5) as s:
        s.sendall(head("HEAD /healthz HTTP/1.1"))
        line, hdrs, _, rest = read_reply(s, head_only=True)
        assert line == "HTTP/1.1 405 Method Not Allowed"
        assert int(hdrs["content-length"]) > 0 and rest == b""
        # the next reply starts right after the head: no body between
        s.sendall(GET)
        line, _, body, _ = read_reply(s)
        assert line == "HTTP/1.1 200 OK", line
        assert json.loads(body) == {"status": "ok"}


def test_curl_sees_our_answers(service_factory):
    svc = service_factory()
    base = "http://127.0.0.1:%d" % svc.http_port

    def curl(*args):
        out = subprocess.run(["curl", "-sS", "-i", "--max-time", "5"]
                             + list(args), capture_output=True, timeout=10)
        head, _, body = out.stdout.decode("latin-1").partition("\r\n\r\n")
        return head.split("\r\n")[0], json.loads(body)["error"]["code"]

    assert curl("--path-as-is", base + "/%zz") == \
        ("HTTP/1.1 400 Bad Request", "bad_request")
    assert curl("-X", "OPTIONS", "--request-target", "*", base) == \
        ("HTTP/1.1 400 Bad Request", "bad_request")
    assert curl("-H", "Upgrade: foo", base + "/healthz") == \
        ("HTTP/1.1 400 Bad Request", "bad_request")
    assert curl("-H", "X-Big: " + "v" * 5000, base + "/healthz") == \
        ("HTTP/1.1 431 Request Header Fields Too Large", "headers_too_large")
    assert curl(base + "/" + "a" * 5000) == \
        ("HTTP/1.1 414 URI Too Long", "uri_too_long")


def test_next_request_on_a_kept_connection_is_checked(service_factory):
    svc = service_factory()
    for bad, status in ((head("GET /%zz HTTP/1.1"), 400),
                        (head("GET /healthz HTTP/9.9"), 505),
                        (head("GET /healthz HTTP/1.1", "Upgrade: foo"), 400)):
        with socket.create_connection(("127.0.0.1", svc.http_port),
                                      timeout=5) as s:
            for _ in range(3):
                s.sendall(GET)
                line, hdrs, body, _ = read_reply(s)
                assert line == "HTTP/1.1 200 OK"
                assert json.loads(body) == {"status": "ok"}
            s.sendall(bad)
            line, hdrs, body, _ = read_reply(s)
            assert line.startswith("HTTP/1.1 %d " % status), line
            assert hdrs["connection"] == "close"
            assert json.loads(body)["error"]["code"]
            assert closed(s)


def test_a_head_in_pieces_is_waited_for_without_spinning(service_factory):
    svc = service_factory()
    req = head("GET /api/v1/status HTTP/1.1",
               "Authorization: Bearer %s" % svc.token)

    # a good head a few bytes at a time, on a new and on a kept connection
    with socket.create_connection(("127.0.0.1", svc.http_port),
                                  timeout=5) as s:
        for _ in range(2):
            for i in range(0, len(req), 7):
                s.sendall(req[i:i + 7])
                time.sleep(0.01)
            line, _, body, _ = read_reply(s)
            assert line == "HTTP/1.1 200 OK"
            assert "lines" in json.loads(body)

    # a bad one: the fault is seen as soon as its bytes are in
    with socket.create_connection(("127.0.0.1", svc.http_port),
                                  timeout=5) as s:
        s.sendall(b"GET /a%")
        time.sleep(0.2)
        s.sendall(b"zz")
        line, _, body, _ = read_reply(s)
        assert line.startswith("HTTP/1.1 400 "), line

    # a head that stops halfway costs no CPU while the service waits
    with socket.create_connection(("127.0.0.1", svc.http_port),
                                  timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Half: ")
        time.sleep(0.3)
        before = cpu_s(svc.proc.pid)
        time.sleep(2.0)
        spent = cpu_s(svc.proc.pid) - before
        print("\nCPU while a half head waits: %.3f s in 2 s" % spent)
        assert spent < 0.3
        # the rest comes: served
        s.sendall(b"1\r\n\r\n")
        line, _, _, _ = read_reply(s)
        assert line == "HTTP/1.1 200 OK"

    # a client that closes mid-head is let go, and costs nothing either
    with socket.create_connection(("127.0.0.1", svc.http_port),
                                  timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        time.sleep(0.2)
        before = cpu_s(svc.proc.pid)
        s.shutdown(socket.SHUT_WR)
        assert closed(s)
        assert cpu_s(svc.proc.pid) - before < 0.3

    assert svc.api("GET", "/healthz", token=None)[0] == 200


def pipelined(sock, reqs):
    """Send reqs in one write; the status lines of the replies until the
    server closes (or stops answering for 3 s)."""
    sock.sendall(b"".join(reqs))
    sock.settimeout(3)
    statuses = []
    rest = b""
    try:
        while True:
            line, _, _, rest = read_reply(sock, buf=rest)
            statuses.append(line)
    except (AssertionError, socket.timeout, ConnectionResetError):
        pass
    return statuses


def test_pipelined_requests(service_factory):
    svc = service_factory()
    tok = "Authorization: Bearer %s" % svc.token
    post = (head("POST /api/v1/calls HTTP/1.1", tok,
                 "Content-Type: application/json", "Content-Length: 2")
            + b"{}")

    # requests without a body, back to back: all served, in order
    with socket.create_connection(("127.0.0.1", svc.http_port),
                                  timeout=5) as s:
        assert pipelined(s, [GET, head("GET /api/v1/status HTTP/1.1", tok),
                             GET]) == ["HTTP/1.1 200 OK"] * 3

    # a request with a body first: served, and the one after it
    with socket.create_connection(("127.0.0.1", svc.http_port),
                                  timeout=5) as s:
        assert pipelined(s, [post, GET]) == [
            "HTTP/1.1 503 Service Unavailable", "HTTP/1.1 200 OK"]

    # one with a body behind another: lws 4.1 would spin on it forever
    # (the whole service stopped); the first is served, then the
    # connection closes and the client retries the rest
    before = cpu_s(svc.proc.pid)
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", svc.http_port),
                                      timeout=5) as s:
            assert pipelined(s, [GET, post, GET]) == ["HTTP/1.1 200 OK"]
            assert closed(s)
    assert cpu_s(svc.proc.pid) - before < 1.0
    assert svc.api("GET", "/healthz", token=None)[0] == 200

    # a POST without Content-Length: lws would take the next request for
    # its body, so the connection closes after the reply
    with socket.create_connection(("127.0.0.1", svc.http_port),
                                  timeout=5) as s:
        s.sendall(head("POST /api/v1/calls HTTP/1.1", tok))
        line, hdrs, _, _ = read_reply(s)
        assert line == "HTTP/1.1 503 Service Unavailable"
        assert hdrs["connection"] == "close"
        assert closed(s)


def test_websocket_upgrades(service_factory):
    svc = service_factory()
    ws = ("GET /api/v1/ws?token=%s HTTP/1.1" % svc.token,
          "Connection: Upgrade", "Sec-WebSocket-Version: 13",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")

    # h2c with a token that would open a WebSocket: no HTTP/2, a 400
    refused(svc.http_port, head(ws[0], "Upgrade: h2c", *ws[1:]), 400,
            "bad_request")
    refused(svc.http_port, head(ws[0].replace("1.1", "9.9"),
                                "Upgrade: websocket", *ws[1:]), 505,
            "http_version_not_supported")

    # a real WebSocket still opens, in any case
    with socket.create_connection(("127.0.0.1", svc.http_port),
                                  timeout=5) as s:
        s.sendall(head(ws[0], "Upgrade: WebSocket", *ws[1:]))
        line, hdrs, _, _ = read_reply(s)
        assert line.startswith("HTTP/1.1 101 "), line


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    out = tmp_path_factory.mktemp("tls") / "certs"
    src, _ = paths()
    subprocess.run([str(src / "scripts" / "make-cert"), "--out", str(out),
                    "--ip", "127.0.0.1"], check=True, capture_output=True,
                   timeout=60)
    return out


def test_tls_port(service_factory, certs):
    ctx = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    svc = service_factory(ssl_context=ctx,
                       httpctl_tls_cert=str(certs / "server.crt"),
                       httpctl_tls_key=str(certs / "server.key"),
                       httpctl_tls_plain="allow")

    # plain HTTP on the TLS port is read first too
    refused(svc.http_port, head("GET /%zz HTTP/1.1"), 400, "bad_request")
    refused(svc.http_port, head("GET /healthz HTTP/1.1", "Upgrade: foo"),
            400, "bad_request")
    with socket.create_connection(("127.0.0.1", svc.http_port),
                                  timeout=5) as s:
        s.sendall(GET)
        assert read_reply(s)[0] == "HTTP/1.1 200 OK"

    # over TLS, lws reads the request; what our callbacks see is ours
    def tls(data):
        raw = socket.create_connection(("127.0.0.1", svc.http_port),
                                       timeout=5)
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(data)
            line, hdrs, body, _ = read_reply(s)
            return line, hdrs, body

    line, _, body = tls(head("GET /healthz HTTP/9.9"))
    assert line.startswith("HTTP/1.1 505 "), line
    line, _, body = tls(head("GET /api/v1/ws?token=%s HTTP/1.1" % svc.token,
                             "Upgrade: h2c", "Connection: Upgrade"))
    assert line.startswith("HTTP/1.1 400 "), line
    assert json.loads(body)["error"]["code"] == "bad_request"
    assert tls(GET)[0] == "HTTP/1.1 200 OK"

    # pipelined over TLS: the spin of lws on a body behind another
    # request is stopped there too
    post = (head("POST /api/v1/calls HTTP/1.1",
                 "Authorization: Bearer %s" % svc.token,
                 "Content-Type: application/json", "Content-Length: 2")
            + b"{}")
    before = cpu_s(svc.proc.pid)
    raw = socket.create_connection(("127.0.0.1", svc.http_port), timeout=5)
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        assert pipelined(s, [GET, post, GET])[:1] == ["HTTP/1.1 200 OK"]
        assert closed(s)
    assert cpu_s(svc.proc.pid) - before < 1.0
    assert svc.api("GET", "/healthz", token=None)[0] == 200
