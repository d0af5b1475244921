"""The HTTP surface of the real service: auth, origins, errors, bodies,
keep-alive, the event log's query, and bad input that must not hurt.

Every error status API.md lists that needs no phone is checked here;
call and line errors (409, 503 ...) are in test_calls.py.
"""

import json
import socket

import pytest

# Every /api/v1 route: (method, path)
ROUTES = [
    ("GET", "/api/v1/status"),
    ("GET", "/api/v1/lines"),
    ("GET", "/api/v1/lines/100"),
    ("GET", "/api/v1/calls"),
    ("POST", "/api/v1/calls"),
    ("GET", "/api/v1/calls/call_x"),
    ("DELETE", "/api/v1/calls/call_x"),
    ("POST", "/api/v1/calls/call_x/answer"),
    ("POST", "/api/v1/calls/call_x/hangup"),
    ("POST", "/api/v1/calls/call_x/dtmf"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/no-such-thing"),
]


def error_code(body):
    assert isinstance(body, dict) and "error" in body, body
    assert isinstance(body["error"].get("message"), str)
    return body["error"]["code"]


def http_request(method, path, headers=(), body=b""):
    head = "%s %s HTTP/1.1\r\nHost: t\r\n" % (method, path)
    head += "".join("%s: %s\r\n" % h for h in headers)
    return head.encode() + b"\r\n" + body


@pytest.mark.parametrize("method,path", ROUTES)
def test_every_api_route_needs_the_token(service, method, path):
    for token in (None, "wrong-token", service.token + "x", ""):
        status, headers, body = service.api(method, path, token=token)
        assert status == 401, (method, path, token, body)
        assert error_code(body) == "unauthorized"
        assert headers["WWW-Authenticate"].startswith("Bearer")


def test_healthz_needs_no_token(service):
    status, headers, body = service.api("GET", "/healthz", token=None)
    assert (status, body) == (200, {"status": "ok"})
    assert headers["Content-Type"] == "application/json"


def test_status_shape(service):
    status, _, body = service.api("GET", "/api/v1/status")
    assert status == 200
    assert body["version"] and body["lines"] == [] and body["calls"] == []
    assert isinstance(body["uptime_ms"], int) and body["uptime_ms"] >= 0


def test_not_found_and_method_not_allowed(service):
    status, _, body = service.api("GET", "/api/v1/lines/999")
    assert (status, error_code(body)) == (404, "line_not_found")
    status, _, body = service.api("GET", "/api/v1/calls/call_nope")
    assert (status, error_code(body)) == (404, "call_not_found")
    status, _, body = service.api("GET", "/api/v1/nothing/here")
    assert (status, error_code(body)) == (404, "not_found")

    status, headers, body = service.api("PUT", "/api/v1/calls", body={})
    assert (status, error_code(body)) == (405, "method_not_allowed")
    assert set(headers["Allow"].split(", ")) == {"GET", "POST"}
    status, headers, body = service.api("POST", "/api/v1/status")
    assert status == 405 and headers["Allow"] == "GET"
    status, _, _ = service.api("GET", "/api/v1/calls/call_x/answer")
    assert status == 405


def test_origins(service_factory):
    svc = service_factory(httpctl_origin="https://app.example")
    own = "http://127.0.0.1:%d" % svc.http_port

    status, _, body = svc.api("GET", "/api/v1/status",
                              headers={"Origin": "https://evil.example"})
    assert (status, error_code(body)) == (403, "origin_not_allowed")

    # the server's own page needs no CORS header
    status, headers, _ = svc.api("GET", "/api/v1/status",
                                 headers={"Origin": own,
                                          "Host": own[7:]})
    assert status == 200
    assert "Access-Control-Allow-Origin" not in headers

    status, headers, _ = svc.api("GET", "/api/v1/status",
                                 headers={"Origin": "https://app.example"})
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Vary"] == "Origin"

    # preflight: allowed origin 204, other 403, never a wildcard
    status, headers, _ = svc.api(
        "OPTIONS", "/api/v1/calls", token=None,
        headers={"Origin": "https://app.example",
                 "Access-Control-Request-Method": "POST"})
    assert status == 204
    assert "Authorization" in headers["Access-Control-Allow-Headers"]
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    status, headers, _ = svc.api(
        "OPTIONS", "/api/v1/calls", token=None,
        headers={"Origin": "https://evil.example"})
    assert status == 403
    assert "Access-Control-Allow-Origin" not in headers


def test_json_body_errors(service):
    cases = [
        (b"{\"line\":", "application/json", 400, "invalid_json"),
        (b"[\"100\"]", "application/json", 400, "invalid_json"),
        (b"\"100\"", "application/json", 400, "invalid_json"),
        (b"{\"a\":1,\"a\":2}", "application/json", 400, "invalid_json"),
        (b"\xff\xfe{}", "application/json", 400, "invalid_json"),
        (b"{\"line\":\"100\"}", "text/plain", 415, "unsupported_media_type"),
        (b"line=100", "application/x-www-form-urlencoded", 415,
         "unsupported_media_type"),
        (b"{\"line\":\"100\"}", None, 415, "unsupported_media_type"),
    ]
    for body, ctype, want, code in cases:
        headers = {"Content-Type": ctype} if ctype else {}
        status, _, reply = service.api("POST", "/api/v1/calls", body=body,
                                       headers=headers)
        assert (status, error_code(reply)) == (want, code), body

    # a valid body reaches the handler (and fails on the missing line)
    status, _, reply = service.api("POST", "/api/v1/calls",
                                   body={"line": 100})
    assert (status, error_code(reply)) == (400, "invalid_field")


def test_oversize_and_chunked_bodies(service):
    big = b"{\"pad\":\"" + b"x" * (70 * 1024) + b"\"}"
    raw = service.raw(http_request(
        "POST", "/api/v1/calls",
        [("Authorization", "Bearer " + service.token),
         ("Content-Type", "application/json"),
         ("Content-Length", str(len(big)))], big))
    assert raw.startswith(b"HTTP/1.1 413"), raw[:200]
    assert b"body_too_large" in raw

    # the limit is on the declared length too: nothing needs to be sent
    raw = service.raw(http_request(
        "POST", "/api/v1/calls",
        [("Authorization", "Bearer " + service.token),
         ("Content-Type", "application/json"),
         ("Content-Length", str(10 ** 9))]))
    assert raw.startswith(b"HTTP/1.1 413"), raw[:200]

    raw = service.raw(http_request(
        "POST", "/api/v1/calls",
        [("Authorization", "Bearer " + service.token),
         ("Content-Type", "application/json"),
         ("Transfer-Encoding", "chunked")], b"2\r\n{}\r\n0\r\n\r\n"))
    assert raw.startswith(b"HTTP/1.1 411"), raw[:200]
    assert b"length_required" in raw

    raw = service.raw(http_request(
        "POST", "/api/v1/calls",
        [("Authorization", "Bearer " + service.token),
         ("Content-Length", "12abc")]))
    assert raw.startswith(b"HTTP/1.1 400"), raw[:200]

    # a body just under the limit is read whole
    pad = b"{\"pad\":\"" + b"y" * (60 * 1024) + b"\"}"
    status, _, reply = service.api("POST", "/api/v1/calls", body=pad,
                                   headers={"Content-Type":
                                            "application/json"})
    assert (status, error_code(reply)) == (503, "no_line_registered")
    assert service.api("GET", "/healthz", token=None)[0] == 200


def test_post_without_body_is_an_empty_object(service):
    # no Content-Length and no chunking: a request without a body
    raw = service.raw(http_request(
        "POST", "/api/v1/calls",
        [("Authorization", "Bearer " + service.token)]))
    assert raw.startswith(b"HTTP/1.1 503"), raw[:200]
    assert b"no_line_registered" in raw


def test_keep_alive_serves_many_requests_on_one_connection(service):
    req = http_request("GET", "/api/v1/status",
                       [("Authorization", "Bearer " + service.token)])
    with socket.create_connection(("127.0.0.1", service.http_port),
                                  timeout=5) as s:
        f = s.makefile("rb")
        for _ in range(20):
            s.sendall(req)
            status = f.readline()
            assert status.startswith(b"HTTP/1.1 200"), status
            length = None
            while True:
                line = f.readline().strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
                assert not (name.lower() == b"connection"
                            and value.strip().lower() == b"close")
            assert json.loads(f.read(length))["lines"] == []


def test_event_log_query_errors(service):
    for query in ("after=abc", "after=-1", "after=", "limit=x",
                  "limit=1.5", "after=99999999999999999999"):
        status, _, body = service.api("GET", "/api/v1/events?" + query)
        assert (status, error_code(body)) == (400, "invalid_query"), query

    status, _, body = service.api("GET", "/api/v1/events?after=0&limit=5000")
    assert status == 200
    assert body == {"events": [], "next_after": 0}
    status, _, body = service.api("GET", "/api/v1/events?after=77")
    assert body == {"events": [], "next_after": 77}


def test_event_log_pages(service, phone_factory):
    # five lines registering give five line.registered events
    for line in ("301", "302", "303", "304", "305"):
        phone_factory(line=line).wait_registered(10)

    status, _, body = service.api("GET", "/api/v1/events?limit=2")
    assert status == 200
    page1 = body["events"]
    assert [e["seq"] for e in page1] == [1, 2]
    assert body["next_after"] == 2
    _, _, body = service.api("GET", "/api/v1/events?after=2&limit=100")
    seqs = [e["seq"] for e in body["events"]]
    assert seqs[:3] == [3, 4, 5] and body["next_after"] == seqs[-1]
    lines = sorted(e["data"]["line"] for e in page1 + body["events"]
                   if e["type"] == "line.registered")
    assert lines == ["301", "302", "303", "304", "305"]
    for ev in page1:
        assert set(ev) == {"id", "seq", "type", "timestamp", "data"}
        assert ev["id"].startswith("evt_")
        assert ev["timestamp"].endswith("Z") and len(ev["timestamp"]) == 24


def test_garbage_http_leaves_the_service_serving(service, phone):
    junk = [
        b"\x00\x01\x02garbage\r\n\r\n",
        b"GET /api/v1/status HTTP/9.9\r\n\r\n",
        b"GET " + b"/a" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /api/v1/status HTTP/1.1\r\nHost: t\r\nX: " + b"v" * 10000
        + b"\r\n\r\n",
        b"POST /api/v1/calls HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n"
        b"\r\n{",  # body never completes
        b"BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n",
    ]
    for data in junk:
        service.raw(data, timeout=1.0)

    # half-open connections that say nothing
    idle = [socket.create_connection(("127.0.0.1", service.http_port))
            for _ in range(20)]
    try:
        status, _, body = service.api("GET", "/api/v1/lines/100")
        assert status == 200 and body["registered"] is True
    finally:
        for s in idle:
            s.close()
    assert service.running
    assert service.api("GET", "/healthz", token=None)[0] == 200


def test_generated_token_is_kept_0600_and_never_logged(service_factory):
    # not on a terminal: the log says where the token is, never the token
    # (test_hygiene.py: shown once to a terminal)
    svc = service_factory(httpctl_token=None)
    path = svc.state_dir / "token"
    token = path.read_text().strip()
    assert (path.stat().st_mode & 0o777) == 0o600
    assert len(token) >= 32
    assert svc.api("GET", "/api/v1/status", token=token)[0] == 200
    assert token not in svc.log_text()
    assert "generated an API token: it is in %s" % path in svc.log_text()

    svc.restart()  # the token is kept, and still not logged
    assert path.read_text().strip() == token
    assert svc.api("GET", "/api/v1/status", token=token)[0] == 200
    assert token not in svc.log_text()
