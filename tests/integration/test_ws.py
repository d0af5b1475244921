"""The WebSocket API (/api/v1/ws) with real processes.

The product (baresip + httpctl + wsaudio) runs on loopback; FakePhones (a
stock baresip set up like one HT802 port) register lines, dial the service
and are rung by it. Clients are sipphone_test.wsclient.WSClient (RFC 6455,
stdlib only) or, where a misbehaving client is needed, a raw socket.

Covered: the upgrade's refusals (401/403/400/404 with the JSON error body),
the hello, events (the same envelopes, in the same gapless order, as GET
/api/v1/events, to every client), the commands driving a real call
(answer, dtmf, hangup, dial) and their errors, bad input that must leave
the socket open, messages that must close it (1009, 1007), and a client
that stops reading while audio flows (closed with 1008, nobody else
disturbed).

Every step waits for an observable condition with a deadline; the one
fixed-time wait is the documented observation window of the stalled
client test, which counts audio frames over wall-clock time.
"""

import itertools
import json
import re
import struct
import time

import pytest

from helpers import (EventLog, api_ok, assert_healthy, phone_events,
                     raw_ws)
from sipphone_test.wsclient import (BINARY, CLOSE, CONT, TEXT,
                                    HandshakeError, WSClient, encode_frame)

UNKNOWN_CALL = "call_000000000000"
SESSION_RE = re.compile(r"^ws_[0-9a-f]+$")
CALL_RE = re.compile(r"^call_[0-9a-f]{12}$")
PCMU_AUDIO = {"format": "pcmu", "rate": 8000, "channels": 1, "ptime": 20}
L16_AUDIO = {"format": "l16", "rate": 8000, "channels": 1, "ptime": 20}
FRAMES_PER_S = 50          # 20 ms frames

_ids = itertools.count(1)
_AUTO = object()


# -- helpers -----------------------------------------------------------------

def refusal(service, query=None, path="/api/v1/ws", token=None,
            headers=None):
    """Open a socket that must be refused; returns the HandshakeError
    (status, headers with lower-case names, body parsed as JSON)."""
    params = dict(query or {})
    if token is not None:
        params["token"] = token
    url = "ws://127.0.0.1:%d%s" % (service.http_port, path)
    if params:
        url += "?" + "&".join("%s=%s" % kv for kv in params.items())
    ws = WSClient(url, headers=headers)
    with pytest.raises(HandshakeError) as info:
        ws.connect()
        ws.close()
    exc = info.value
    exc.json = json.loads(exc.body)
    return exc


def assert_refused(exc, status, code):
    assert exc.status == status, (exc.status, exc.body)
    assert exc.headers.get("content-type", "").startswith(
        "application/json"), exc.headers
    err = exc.json["error"]
    assert err["code"] == code, exc.json
    assert isinstance(err["message"], str) and err["message"], exc.json


def hello_of(ws, timeout=5):
    """The first message of a session: its hello."""
    first = ws.wait_text(None, timeout, since=0)
    assert isinstance(first, dict) and first.get("type") == "hello", \
        ws.texts[:3]
    return first


def assert_hello(hello, line, audio):
    assert set(hello) == {"type", "protocol", "session", "line", "audio"}, \
        hello
    assert hello["type"] == "hello"
    assert hello["protocol"] == "sipphone.v1"
    assert SESSION_RE.match(hello["session"]), hello
    assert hello["line"] == line, hello
    assert hello["audio"] == audio, hello


def command(ws, name, args=None, id=_AUTO, timeout=10.0, raw=None):
    """Send one command; returns its response (matched by id)."""
    if id is _AUTO:
        id = "c%d" % next(_ids)
    msg = {"type": "command", "id": id, "command": name}
    if args is not None:
        msg["args"] = args
    since = ws.mark()[0]
    ws.send_json(msg if raw is None else raw)
    resp = ws.wait_text(lambda t: isinstance(t, dict)
                        and t.get("type") == "response"
                        and t.get("id") == id, timeout, since)
    assert set(resp) == ({"type", "id", "ok", "result"} if resp["ok"]
                         else {"type", "id", "ok", "error"}), resp
    return resp


def ok(ws, name, args=None, **kw):
    resp = command(ws, name, args, **kw)
    assert resp["ok"] is True, (name, args, resp)
    return resp["result"]


def refused(ws, name, args, code, **kw):
    resp = command(ws, name, args, **kw)
    assert resp["ok"] is False, (name, args, resp)
    assert_error_obj(resp["error"], code)
    return resp["error"]


def assert_error_obj(err, code):
    assert set(err) == {"code", "message"}, err
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"], err


def next_text(ws, since, timeout=5.0):
    """The first text message at index >= since."""
    return ws.wait_text(None, timeout, since)


def assert_alive(ws, quiet_since=None):
    """The socket still works: a valid command gets its response. With
    quiet_since, no message other than that response came since then."""
    resp = command(ws, "hangup", {"call": UNKNOWN_CALL})
    assert resp["ok"] is False
    assert_error_obj(resp["error"], "call_not_found")
    assert not ws.closed
    if quiet_since is not None:
        extra = [t for t in ws.texts[quiet_since:] if t is not resp]
        assert extra == [], extra


def ws_events(ws, since=0):
    return [t["event"] for t in ws.texts[since:]
            if isinstance(t, dict) and t.get("type") == "event"]


def wait_ws_event(ws, type_, since=0, timeout=10.0, **data):
    msg = ws.wait_text(
        lambda t: isinstance(t, dict) and t.get("type") == "event"
        and t["event"]["type"] == type_
        and all(t["event"]["data"].get(k) == v for k, v in data.items()),
        timeout, since)
    return msg["event"]


def wait_ws_seq(ws, seq, timeout=10.0):
    """Wait until the socket has seen the event with that seq."""
    ws.wait_text(lambda t: isinstance(t, dict) and t.get("type") == "event"
                 and t["event"]["seq"] >= seq, timeout)


def send_fragments(ws, opcode, parts):
    """One message in several frames (first opcode, then continuations)."""
    frames = b""
    for i, part in enumerate(parts):
        f = bytearray(encode_frame(opcode if i == 0 else CONT, part))
        if i < len(parts) - 1:
            f[0] &= 0x7F           # not the final fragment
        frames += bytes(f)
    with ws._send_lock:
        ws._sock.sendall(frames)


def second_socket_works(service, line=None):
    ws = service.ws({"audio": "none"})
    try:
        assert_hello(hello_of(ws), line, {"format": "none"})
        assert_alive(ws)
    finally:
        ws.close()


# -- 1. refusals -------------------------------------------------------------

def test_upgrade_refusals_and_auth(service_factory):
    svc = service_factory(httpctl_origin="https://app.example")
    tok = svc.token

    # no token at all
    exc = refusal(svc)
    assert_refused(exc, 401, "unauthorized")
    assert exc.headers.get("www-authenticate", "").startswith("Bearer"), \
        exc.headers
    # a wrong token in the query
    exc = refusal(svc, token="wrong-" + tok)
    assert_refused(exc, 401, "unauthorized")
    assert exc.headers.get("www-authenticate", "").startswith("Bearer")
    # a wrong Bearer header (and no query token)
    exc = refusal(svc, headers={"Authorization": "Bearer nope"})
    assert_refused(exc, 401, "unauthorized")
    assert exc.headers.get("www-authenticate", "").startswith("Bearer")

    # the right Bearer header without a query token works
    ws = svc.ws(token=None, headers={"Authorization": "Bearer %s" % tok})
    assert_hello(hello_of(ws), None, PCMU_AUDIO)
    ws.close()

    # a browser origin that is not allowed, even with a good token
    exc = refusal(svc, token=tok, headers={"Origin": "https://evil.example"})
    assert_refused(exc, 403, "origin_not_allowed")
    # the configured origin and the server's own are allowed
    for origin in ("https://app.example", "http://127.0.0.1:%d"
                   % svc.http_port):
        ws = svc.ws(headers={"Origin": origin})
        assert_hello(hello_of(ws), None, PCMU_AUDIO)
        ws.close()

    # a bad audio value
    exc = refusal(svc, {"audio": "bogus"}, token=tok)
    assert_refused(exc, 400, "invalid_query")
    # another path
    exc = refusal(svc, path="/api/v1/wsx", token=tok)
    assert_refused(exc, 404, "not_found")

    assert_healthy(svc)


# -- 2. hello ----------------------------------------------------------------

def test_hello(service, phone_factory, ws_factory):
    # no line registered: line null; the three audio formats
    seen = set()
    for query, audio in (({}, PCMU_AUDIO), ({"audio": "pcmu"}, PCMU_AUDIO),
                         ({"audio": "l16"}, L16_AUDIO),
                         ({"audio": "none"}, {"format": "none"})):
        hello = hello_of(ws_factory(query))
        assert_hello(hello, None, audio)
        seen.add(hello["session"])
    assert len(seen) == 4, "session ids must differ: %r" % seen

    phone = phone_factory(line="100")
    phone.wait_registered(10)
    assert_hello(hello_of(ws_factory()), "100", PCMU_AUDIO)
    assert_hello(hello_of(ws_factory({"audio": "none"})), "100",
                 {"format": "none"})
    # a line named in the query is the session's line
    assert_hello(hello_of(ws_factory({"line": "101"})), "101", PCMU_AUDIO)
    assert_hello(hello_of(ws_factory({"line": "101", "audio": "l16"})),
                 "101", L16_AUDIO)


# -- 3. events ---------------------------------------------------------------

def test_events_are_the_event_log_in_order(service, phone_factory,
                                           ws_factory):
    log = EventLog(service)
    ws1 = ws_factory({"audio": "none"})
    ws2 = ws_factory()
    hello_of(ws1)
    hello_of(ws2)

    # a phone registers: line.registered, the same envelope as the log's
    phone = phone_factory(line="100", answer="auto")
    phone.wait_registered(10)
    reg = wait_ws_event(ws1, "line.registered", line="100")
    assert set(reg) == {"id", "seq", "type", "timestamp", "data"}, reg
    assert reg["id"].startswith("evt_"), reg
    logged = log.wait("line.registered", line="100")
    assert reg == logged
    assert wait_ws_event(ws2, "line.registered", line="100") == logged

    # a whole call: from the phone, answered and hung up over WS
    m = phone.mark()
    phone.dial("1234")
    inc = wait_ws_event(ws1, "call.incoming", line="100")
    cid = inc["data"]["call"]
    assert CALL_RE.match(cid), inc
    assert inc["data"]["dialed"] == "1234"
    ok(ws1, "answer", {"call": cid})
    ans = wait_ws_event(ws1, "call.answered", call=cid)
    assert ans["data"]["by"] == "api"
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    ok(ws1, "hangup", {"call": cid})
    ended = wait_ws_event(ws1, "call.ended", call=cid)
    assert ended["data"]["reason"] == "api_hangup"
    phone.wait_event("CALL_CLOSED", 5, since=m)

    # everything the log holds from the registration on came to both
    # sockets, in seq order, without gaps, as the same envelopes
    logged = log.find(since=0)
    last = logged[-1]["seq"]
    wait_ws_seq(ws1, last)
    wait_ws_seq(ws2, last)
    for ws in (ws1, ws2):
        got = ws_events(ws)
        seqs = [e["seq"] for e in got]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
        assert [e for e in got if e["seq"] <= last] == logged
    n = min(len(ws_events(ws1)), len(ws_events(ws2)))
    assert ws_events(ws1)[:n] == ws_events(ws2)[:n]
    call_types = [e["type"] for e in logged
                  if e["type"].startswith("call.")]
    assert call_types == ["call.incoming", "call.answered", "call.ended",
                          "call.quality"]
    # any event about this call names it by its id
    wrong = [(e["type"], e["data"]["call"]) for e in logged
             if "call" in e["data"] and e["data"]["call"] != cid]
    assert wrong == [], "events naming call %s by another id: %r" % (
        cid, wrong)


# -- 4. commands drive a real call -------------------------------------------

def test_commands_drive_a_call_from_the_phone(service, phone_factory,
                                              ws_factory):
    ws = ws_factory({"audio": "none"})
    hello_of(ws)
    # nothing registered yet: nothing to dial, nothing to answer
    refused(ws, "dial", None, "no_line_registered")
    refused(ws, "answer", None, "call_not_found")

    phone = phone_factory(line="100", answer="auto")
    phone.wait_registered(10)
    log = EventLog(service)
    m = phone.mark()
    phone.dial("1234")
    cid = wait_ws_event(ws, "call.incoming", line="100")["data"]["call"]

    # an unknown call, a call id of the wrong type
    refused(ws, "answer", {"call": UNKNOWN_CALL}, "call_not_found")
    refused(ws, "answer", {"call": 5}, "invalid_field")
    # dtmf needs an active call; a ringing one is not
    refused(ws, "dtmf", {"digits": "1"}, "call_not_found")

    # answer without "call": the one ringing call fits
    call = ok(ws, "answer")
    assert call["id"] == cid and call["state"] == "active", call
    assert call["direction"] == "from_phone" and call["line"] == "100"
    assert call["answered_by"] == "api", call
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    phone.wait_event("CALL_RTPESTAB", 5, since=m)
    assert api_ok(service, "GET", "/api/v1/calls/%s" % cid)["state"] \
        == "active"

    # nothing rings now; the active call is no ringing one
    refused(ws, "answer", None, "call_not_found")
    refused(ws, "answer", {"call": cid}, "call_not_ringing")

    # dtmf to the phone, without "call"; bad digits first
    for bad in ("12x", "", 12, "1" * 33):
        refused(ws, "dtmf", {"digits": bad}, "invalid_field")
    refused(ws, "dtmf", {}, "invalid_field")
    md = phone.mark()
    assert ok(ws, "dtmf", {"digits": "12"}) == {"call": cid, "digits": "12"}
    phone.wait_event(lambda e: e.get("type") == "CALL_DTMF_START"
                     and e.get("param") == "2", 10, since=md)
    assert phone_events(phone, "CALL_DTMF_START", md) == ["1", "2"]

    # hangup without "call"
    ended = ok(ws, "hangup")
    assert ended["id"] == cid and ended["state"] == "ended", ended
    assert ended["end_reason"] == "api_hangup", ended
    ev = wait_ws_event(ws, "call.ended", call=cid)
    assert ev["data"]["reason"] == "api_hangup"
    phone.wait_event("CALL_CLOSED", 5, since=m)
    refused(ws, "hangup", {"call": cid}, "call_ended")
    refused(ws, "hangup", None, "call_not_found")
    assert log.wait("call.ended", call=cid)["data"]["reason"] == "api_hangup"


def test_commands_ring_the_phone(service, phone_factory, ws_factory):
    phone = phone_factory(line="100", answer="auto")
    phone.wait_registered(10)
    ws = ws_factory({"audio": "none"})
    hello_of(ws)
    m = phone.mark()

    # dial without args: the one registered line
    call = ok(ws, "dial")
    cid = call["id"]
    assert CALL_RE.match(cid), call
    assert call["state"] == "ringing" and call["direction"] == "to_phone"
    assert call["line"] == "100", call
    # the phone answers by itself
    ans = wait_ws_event(ws, "call.answered", call=cid)
    assert ans["data"]["by"] == "phone"
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    # the line is busy now; dial argument errors
    refused(ws, "dial", {"line": "100"}, "line_busy")
    refused(ws, "dial", {"line": "999"}, "line_not_found")
    refused(ws, "dial", {"line": 100}, "invalid_field")
    refused(ws, "dial", {"ring_timeout_s": 0}, "invalid_field")

    # hangup by call id
    ended = ok(ws, "hangup", {"call": cid})
    assert ended["id"] == cid and ended["state"] == "ended"
    assert ended["end_reason"] == "api_hangup"
    assert wait_ws_event(ws, "call.ended", call=cid)["data"]["reason"] \
        == "api_hangup"
    phone.wait_event("CALL_CLOSED", 5, since=m)

    # dial with a line and a ring timeout, hung up while it rings or after
    call = ok(ws, "dial", {"line": "100", "ring_timeout_s": 30})
    assert call["state"] == "ringing" and call["line"] == "100"
    ended = ok(ws, "hangup", {"call": call["id"]})
    assert ended["state"] == "ended", ended


def test_command_ids_are_echoed(service, ws_factory):
    ws = ws_factory({"audio": "none"})
    hello_of(ws)
    for id_ in ("abc-1", "", 42, 0, -7):
        resp = command(ws, "hangup", {"call": UNKNOWN_CALL}, id=id_)
        assert resp["id"] == id_ and type(resp["id"]) is type(id_), resp
        assert resp["ok"] is False


def test_call_required_when_two_calls_fit(service, phone_factory,
                                          ws_factory):
    p100 = phone_factory(line="100")
    p101 = phone_factory(line="101")
    p100.wait_registered(10)
    p101.wait_registered(10)
    ws = ws_factory({"audio": "none"})
    hello_of(ws)
    refused(ws, "dial", None, "line_required")
    p100.dial("1")
    p101.dial("2")
    c100 = wait_ws_event(ws, "call.incoming", line="100")["data"]["call"]
    c101 = wait_ws_event(ws, "call.incoming", line="101")["data"]["call"]
    refused(ws, "answer", None, "call_required")
    refused(ws, "hangup", None, "call_required")
    assert ok(ws, "answer", {"call": c101})["state"] == "active"
    # one rings, one is active: answer fits the ringing one; then both
    # are active: hangup and dtmf fit both
    assert ok(ws, "answer")["id"] == c100
    refused(ws, "hangup", None, "call_required")
    refused(ws, "dtmf", {"digits": "1"}, "call_required")
    for cid in (c100, c101):
        assert ok(ws, "hangup", {"call": cid})["state"] == "ended"


# -- 5. bad input ------------------------------------------------------------

def test_bad_messages_leave_the_socket_open(service, ws_factory):
    ws = ws_factory({"audio": "none"})
    hello_of(ws)
    cases = [
        # (what is sent, the answer's type, its id, its error code)
        ("not json", "response", None, "invalid_json"),
        ('{"type":"command",', "response", None, "invalid_json"),
        ("[1, 2]", "response", None, "invalid_message"),
        ('{"type":"nope","id":"t1"}', "response", "t1", "invalid_message"),
        ('{"id":"t2","command":"answer"}', "response", "t2",
         "invalid_message"),
        ('{"type":"command","id":"t3"}', "response", "t3",
         "unknown_command"),
        ('{"type":"command","id":"t4","command":"explode"}', "response",
         "t4", "unknown_command"),
        ('{"type":"command","id":"t5","command":5}', "response", "t5",
         "unknown_command"),
        ('{"type":"command","id":"t6","command":"answer","args":5}',
         "response", "t6", "invalid_field"),
        ('{"type":"command","id":"t7","command":"dial","args":[]}',
         "response", "t7", "invalid_field"),
    ]
    for sent, type_, id_, code in cases:
        since = ws.mark()[0]
        ws.send_text(sent)
        msg = next_text(ws, since)
        assert msg.get("type") == type_, (sent, msg)
        assert msg["id"] == id_, (sent, msg)
        assert msg["ok"] is False, (sent, msg)
        assert_error_obj(msg["error"], code)
        assert_alive(ws, quiet_since=since + 1)

    # binary on an audio=none session
    since = ws.mark()[0]
    ws.send_binary(b"\xff" * 160)
    msg = next_text(ws, since)
    assert set(msg) == {"type", "error"}, msg
    assert msg["type"] == "error"
    assert_error_obj(msg["error"], "audio_disabled")
    assert_alive(ws, quiet_since=since + 1)

    # L16: an odd byte count is an error, an even one is not
    l16 = ws_factory({"audio": "l16"})
    assert_hello(hello_of(l16), None, L16_AUDIO)
    since = l16.mark()[0]
    l16.send_binary(b"\x00\x01\x02")
    msg = next_text(l16, since)
    assert msg["type"] == "error", msg
    assert_error_obj(msg["error"], "invalid_audio")
    assert_alive(l16, quiet_since=since + 1)
    since = l16.mark()[0]
    l16.send_binary(b"\x00\x00" * 160)
    assert_alive(l16, quiet_since=since)

    # PCMU: any length is audio
    pcmu = ws_factory({"audio": "pcmu"})
    hello_of(pcmu)
    since = pcmu.mark()[0]
    pcmu.send_binary(b"\xff" * 77)
    assert_alive(pcmu, quiet_since=since)

    # a command split over several frames is one message
    since = ws.mark()[0]
    send_fragments(ws, TEXT, [b'{"type":"command",', b'"id":"frag",',
                              b'"command":"answer"}'])
    msg = next_text(ws, since)
    assert msg["id"] == "frag", msg
    assert_error_obj(msg["error"], "call_not_found")
    assert_alive(ws)
    assert_healthy(service)


def test_json_that_is_no_object_is_invalid_message(service, ws_factory):
    """Valid JSON that is not an object (RFC 8259 allows any value at
    the top) is an invalid message, like an array, not invalid JSON."""
    ws = ws_factory({"audio": "none"})
    hello_of(ws)
    got = {}
    for sent in ('[{"type":"command"}]', '"command"', "5", "null", "true"):
        since = ws.mark()[0]
        ws.send_text(sent)
        msg = next_text(ws, since)
        assert msg["type"] == "response" and msg["id"] is None, msg
        assert msg["ok"] is False
        got[sent] = msg["error"]["code"]
        assert_alive(ws, quiet_since=since + 1)
    assert got == dict.fromkeys(got, "invalid_message"), got


def test_oversized_message_closes_1009(service, ws_factory):
    ws = ws_factory({"audio": "none"})
    hello_of(ws)
    other = ws_factory({"audio": "none"})
    hello_of(other)
    ws.send_text('{"type":"command","id":"big","command":"answer",'
                 '"args":{"pad":"%s"}}' % ("x" * (70 * 1024)))
    assert ws.wait_closed(10) == 1009
    assert not any(isinstance(t, dict) and t.get("id") == "big"
                   for t in ws.texts)
    # the same size in fragments of 30 KiB
    ws = ws_factory({"audio": "none"})
    hello_of(ws)
    send_fragments(ws, TEXT, [b"x" * (30 * 1024)] * 3)
    assert ws.wait_closed(10) == 1009
    # the other client and the service are fine
    assert_alive(other)
    assert_healthy(service)
    second_socket_works(service)


def test_invalid_utf8_closes_1007(service, ws_factory):
    ws = ws_factory({"audio": "none"})
    hello_of(ws)
    other = ws_factory({"audio": "none"})
    hello_of(other)
    ws._send_frame(TEXT, b"\xff\xfe")
    assert ws.wait_closed(10) == 1007
    assert_alive(other)
    assert_healthy(service)
    second_socket_works(service)


# -- 6. audio sessions: clear/mark, a client that stops reading --------------

def test_clear_and_mark_need_audio(service, ws_factory):
    ws = ws_factory({"audio": "none"})
    hello_of(ws)
    refused(ws, "clear", None, "audio_disabled")
    refused(ws, "mark", {"name": "m1"}, "audio_disabled")
    assert_alive(ws)
    # an audio session has them
    au = ws_factory({"audio": "pcmu"})
    hello_of(au)
    assert ok(au, "clear") == {"cleared_ms": 0}
    since = au.mark()[0]
    assert ok(au, "mark", {"name": "m1"}) == {"name": "m1", "queued_ms": 0}
    au.wait_text(lambda t: isinstance(t, dict) and t.get("type") == "mark"
                 and t.get("name") == "m1", 5, since)
    refused(au, "mark", {}, "invalid_field")




def read_until_close(s, timeout):
    """Read frames until a close frame (returns its code) or EOF (None);
    also returns how many binary frames came before."""
    deadline = time.monotonic() + timeout
    buf = b""
    binaries = 0

    def need(n):
        nonlocal buf
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no close frame or EOF within %.0fs"
                                   % timeout)
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise EOFError
            buf += chunk

    try:
        while True:
            need(2)
            op, n = buf[0] & 0x0F, buf[1] & 0x7F
            hdr = 2
            if n == 126:
                need(4)
                n, hdr = struct.unpack("!H", buf[2:4])[0], 4
            elif n == 127:
                need(10)
                n, hdr = struct.unpack("!Q", buf[2:10])[0], 10
            need(hdr + n)
            payload, buf = buf[hdr:hdr + n], buf[hdr + n:]
            if op == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] \
                    if len(payload) >= 2 else 1005
                return code, binaries
            if op == BINARY:
                binaries += 1
    except EOFError:
        return None, binaries


def test_client_that_stops_reading_is_closed_others_undisturbed(
        service, phone_factory, ws_factory):
    phone = phone_factory(line="100", tone=1000)
    phone.wait_registered(10)
    log = EventLog(service)
    good = ws_factory({"audio": "pcmu"})
    assert_hello(hello_of(good), "100", PCMU_AUDIO)
    log0 = service.log_size()
    stalled = raw_ws(service, {"audio": "pcmu"})
    port = stalled.getsockname()[1]
    opened = service.wait_log(r"WebSocket (ws_[0-9a-f]+) from "
                              r"127\.0\.0\.1:%d:" % port, 5, since=log0)
    sid = opened.group(1)

    try:
        # a call with audio: the phone plays a 1000 Hz tone
        m = phone.mark()
        phone.dial("1234")
        cid = log.wait("call.incoming", line="100")["data"]["call"]
        ok(good, "answer", {"call": cid})
        phone.wait_event("CALL_ESTABLISHED", 5, since=m)
        good.wait_binary(1, 5, since=good.mark()[1])

        # Observation window (the one deliberate fixed-time wait here):
        # sample the good client's frame count once a second, wall clock,
        # until the server has given up on the stalled client (log) and
        # for a few seconds after, at most 40 s.
        stall_rx = re.compile(
            r"web: 127\.0\.0\.1:%d: WebSocket (client took nothing for"
            r"|send queue)" % port)
        closed_rx = re.compile(r"WebSocket %s closed \((\d+)\)" % sid)
        t0 = time.monotonic()
        samples = [(t0, len(good.binaries))]
        decided = released = None
        while time.monotonic() - t0 < 40:
            time.sleep(1.0)
            now = time.monotonic()
            samples.append((now, len(good.binaries)))
            text = service.log_from(log0)
            if decided is None and stall_rx.search(text):
                decided = now - t0
            rel = closed_rx.search(text)
            if released is None and rel:
                released = (now - t0, int(rel.group(1)))
            if decided is not None and now - t0 >= decided + 5:
                break
        elapsed = samples[-1][0] - t0
        frames = samples[-1][1] - samples[0][1]

        # the good client got ~50 frames/s all along
        assert frames >= 0.9 * FRAMES_PER_S * elapsed, \
            "good client: %d frames in %.1f s" % (frames, elapsed)
        for (ta, na), (tb, nb) in zip(samples[::2], samples[2::2]):
            assert nb - na >= 0.75 * FRAMES_PER_S * (tb - ta), \
                "good client starved %.1f-%.1f s: %d frames" % (
                    ta - t0, tb - t0, nb - na)
        assert all(len(b) == 160 for b in good.binaries), \
            {len(b) for b in good.binaries}
        assert not good.closed
        # the server gave up on the stalled one (queue stuck 5 s)
        assert decided is not None and decided <= 30, \
            "no 'took nothing for' / 'send queue' log line for port %d " \
            "within %.0f s\n%s" % (port, elapsed, service.log_tail(30))
        # the call is undisturbed
        call = api_ok(service, "GET", "/api/v1/calls/%s" % cid)
        assert call["state"] == "active", call
        assert not phone_events(phone, "CALL_CLOSED", m)
        assert_alive(good)

        # the stalled client, reading at last, finds a close (1008) or EOF
        code, _ = read_until_close(stalled, 30)
        assert code in (1008, None), code
        service.wait_log(r"WebSocket %s closed \(1008\)" % sid, 10,
                         since=log0)

        # the service, the call and a new client are fine
        assert_healthy(service)
        n = len(good.binaries)
        good.wait_binary(10, 5, since=n)
        second_socket_works(service, "100")
        ended = ok(good, "hangup", {"call": cid})
        assert ended["state"] == "ended" and \
            ended["end_reason"] == "api_hangup"
    finally:
        stalled.close()

    # Checked last so that the checks above still run: the server must
    # release a client it gave up on by itself, not wait for the client
    # to read again (a vanished client that never reads nor closes would
    # hold its socket and session forever).
    assert released is not None and released[1] == 1008, \
        "the server decided to close stalled session %s at %.0f s but " \
        "had not released it %.0f s later while the client did not read " \
        "(it closed only once the client read again)" \
        % (sid, decided or -1, elapsed - (decided or 0))
