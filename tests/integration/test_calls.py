"""Calls over REST with real processes.

The product (baresip + httpctl) runs on loopback; a FakePhone (a stock
baresip set up like one HT802 port) registers as a line, dials the
service or is rung by it. Every step waits for an observable event (the
service's event log, the fake phone's ctrl_tcp events) with a deadline.
"""

import re
import time

import pytest

from helpers import (EventLog, api_ok, assert_error, assert_healthy,
                     phone_events, ring)
from sipphone_test.sipraw import RawPhone

UNKNOWN_CALL = "call_000000000000"
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def dial_from_phone(log, phone, number="1234"):
    """The phone dials; returns the call id of call.incoming."""
    since = log.mark()
    phone.dial(number)
    ev = log.wait("call.incoming", since=since, line=phone.line)
    return ev["data"]["call"]


def get_call(service, cid):
    return api_ok(service, "GET", "/api/v1/calls/%s" % cid)


def get_line(service, line):
    return api_ok(service, "GET", "/api/v1/lines/%s" % line)


def active_ids(service, state=None):
    path = "/api/v1/calls" + ("?state=%s" % state if state else "")
    return [c["id"] for c in api_ok(service, "GET", path)["calls"]]


def answered_call(service, log, phone, number="1234"):
    """A call from the phone, answered over REST; returns its id."""
    m = phone.mark()
    cid = dial_from_phone(log, phone, number)
    api_ok(service, "POST", "/api/v1/calls/%s/answer" % cid)
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    return cid


# -- 1. a call from the phone ------------------------------------------------

def test_call_from_phone_answered_by_api_then_phone_hangs_up(service, phone):
    log = EventLog(service)
    m = phone.mark()
    phone.dial("1234")
    inc = log.wait("call.incoming", line="100")
    data = inc["data"]
    cid = data["call"]
    assert re.match(r"^call_[0-9a-f]{12}$", cid), data
    assert data["dialed"] == "1234"
    assert data["from"].startswith("sip:100@"), data
    assert inc["id"].startswith("evt_") and TIME_RE.match(inc["timestamp"])

    # the API shows it ringing, from the phone
    calls = api_ok(service, "GET", "/api/v1/calls")["calls"]
    assert [c["id"] for c in calls] == [cid]
    call = calls[0]
    assert call["state"] == "ringing"
    assert call["direction"] == "from_phone"
    assert call["line"] == "100" and call["dialed"] == "1234"
    assert call["from"] == data["from"]
    assert TIME_RE.match(call["started_at"]), call
    assert call["answered_at"] is None and call["ended_at"] is None
    assert call["end_reason"] is None and call["duration_ms"] == 0
    line = get_line(service, "100")
    assert (line["state"], line["call"]) == ("ringing", cid)
    # the phone hears ringback (180), nothing is answered yet
    phone.wait_event("CALL_RINGING", 5, since=m)
    assert not phone_events(phone, "CALL_ESTABLISHED", m)

    # answer over REST
    body = api_ok(service, "POST", "/api/v1/calls/%s/answer" % cid)
    assert body["id"] == cid and body["state"] == "active", body
    assert body["answered_by"] == "api"
    assert TIME_RE.match(body["answered_at"]), body
    ans = log.wait("call.answered", call=cid)
    assert ans["data"] == {"call": cid, "line": "100", "by": "api"}
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    line = get_line(service, "100")
    assert (line["state"], line["call"]) == ("in_call", cid)
    # the product's audio reaches the phone: RTP flows both ways
    phone.wait_event("CALL_RTPESTAB", 5, since=m)

    # the phone hangs up (BYE)
    phone.hangup()
    ended = log.wait("call.ended", call=cid)
    assert ended["data"]["reason"] == "phone_hangup", ended
    assert ended["data"]["line"] == "100"
    assert ended["data"]["duration_ms"] > 0, ended
    call = get_call(service, cid)
    assert call["state"] == "ended" and call["end_reason"] == "phone_hangup"
    assert TIME_RE.match(call["ended_at"]), call
    assert call["duration_ms"] == ended["data"]["duration_ms"]
    assert call["answered_by"] == "api"
    # no longer active, still in the recent list
    assert cid not in active_ids(service)
    assert cid in active_ids(service, "all")
    line = get_line(service, "100")
    assert (line["state"], line["call"]) == ("idle", None)
    # the event sequence of this call, in order
    assert log.call_types(cid) == [
        "call.incoming", "call.answered", "call.ended", "call.quality"]


@pytest.mark.parametrize("method,suffix", [("POST", "/hangup"),
                                           ("DELETE", "")],
                         ids=["post_hangup", "delete"])
def test_api_hangs_up_an_answered_call(service, phone, method, suffix):
    log = EventLog(service)
    m = phone.mark()
    cid = answered_call(service, log, phone)
    body = api_ok(service, method, "/api/v1/calls/%s%s" % (cid, suffix))
    # ended on return
    assert body["id"] == cid and body["state"] == "ended", body
    assert body["end_reason"] == "api_hangup"
    assert body["ended_at"] is not None
    ended = log.wait("call.ended", call=cid)
    assert ended["data"]["reason"] == "api_hangup"
    assert ended["data"]["duration_ms"] >= 0
    phone.wait_event("CALL_CLOSED", 5, since=m)
    assert get_call(service, cid)["state"] == "ended"
    assert get_line(service, "100")["state"] == "idle"
    assert active_ids(service) == []


# -- 2. any number reaches the API -------------------------------------------

def test_any_number_reaches_the_api(service, phone):
    log = EventLog(service)
    for number in ("0", "911", "*47", "004930123456789012345678"):
        m = phone.mark()
        cid = dial_from_phone(log, phone, number)
        inc = log.find("call.incoming", call=cid)[0]
        assert inc["data"]["dialed"] == number
        assert get_call(service, cid)["dialed"] == number
        api_ok(service, "POST", "/api/v1/calls/%s/hangup" % cid)
        phone.wait_event("CALL_CLOSED", 5, since=m)
        log.wait("call.ended", call=cid)
    assert [e["data"]["dialed"] for e in log.find("call.incoming")] == [
        "0", "911", "*47", "004930123456789012345678"]


# -- 3. hang up while ringing ------------------------------------------------

def test_api_rejects_a_ringing_call_from_the_phone(service, phone):
    log = EventLog(service)
    m = phone.mark()
    cid = dial_from_phone(log, phone)
    phone.wait_event("CALL_RINGING", 5, since=m)
    body = api_ok(service, "POST", "/api/v1/calls/%s/hangup" % cid)
    assert body["state"] == "ended" and body["end_reason"] == "api_hangup"
    assert body["answered_at"] is None and body["duration_ms"] == 0
    closed = phone.wait_event("CALL_CLOSED", 5, since=m)
    # a final error response to its INVITE, not a BYE
    assert re.match(r"^[4-6]\d\d ", closed.get("param") or ""), closed
    assert not phone_events(phone, "CALL_ESTABLISHED", m)
    ended = log.wait("call.ended", call=cid)
    assert ended["data"]["reason"] == "api_hangup"
    assert ended["data"]["duration_ms"] == 0
    assert not log.find("call.answered", call=cid)


def test_phone_hangs_up_before_answer(service, phone):
    log = EventLog(service)
    m = phone.mark()
    cid = dial_from_phone(log, phone)
    phone.wait_event("CALL_RINGING", 5, since=m)
    phone.hangup()  # CANCEL
    ended = log.wait("call.ended", call=cid)
    assert ended["data"]["reason"] == "phone_hangup", ended
    assert ended["data"]["duration_ms"] == 0
    call = get_call(service, cid)
    assert call["state"] == "ended" and call["end_reason"] == "phone_hangup"
    assert call["answered_at"] is None and call["answered_by"] is None
    assert call["duration_ms"] == 0
    assert not log.find("call.answered", call=cid)
    assert get_line(service, "100")["state"] == "idle"
    # too late to answer it
    assert_error(service, "POST", "/api/v1/calls/%s/answer" % cid,
                 status=409, code="call_not_ringing")


# -- 4. the API rings the phone ----------------------------------------------

def test_api_rings_phone_answered_by_phone(service, phone_factory):
    phone = phone_factory(line="100", answer="manual")
    phone.wait_registered(10)
    log = EventLog(service)
    m = phone.mark()
    body = api_ok(service, "POST", "/api/v1/calls", {"line": "100"}, 201)
    cid = body["id"]
    assert body["state"] == "ringing" and body["direction"] == "to_phone"
    assert body["line"] == "100" and body["answered_at"] is None
    assert body["dialed"] is None
    assert body["from"].startswith("sip:"), body
    assert TIME_RE.match(body["started_at"])

    phone.wait_event("CALL_INCOMING", 5, since=m)
    ringing = log.wait("call.ringing", call=cid)
    assert ringing["data"] == {"call": cid, "line": "100"}
    line = get_line(service, "100")
    assert (line["state"], line["call"]) == ("ringing", cid)
    assert get_call(service, cid)["state"] == "ringing"

    phone.answer()
    ans = log.wait("call.answered", call=cid)
    assert ans["data"]["by"] == "phone"
    call = get_call(service, cid)
    assert call["state"] == "active" and call["answered_by"] == "phone"
    assert get_line(service, "100")["state"] == "in_call"
    phone.wait_event("CALL_RTPESTAB", 5, since=m)

    phone.hangup()
    ended = log.wait("call.ended", call=cid)
    assert ended["data"]["reason"] == "phone_hangup", ended
    assert ended["data"]["duration_ms"] > 0
    assert log.call_types(cid) == [
        "call.ringing", "call.answered", "call.ended", "call.quality"]
    assert get_line(service, "100")["state"] == "idle"


def test_api_rings_auto_answer_phone(service, phone):
    log = EventLog(service)
    m = phone.mark()
    body = api_ok(service, "POST", "/api/v1/calls", {"line": "100"}, 201)
    cid = body["id"]
    assert body["state"] == "ringing" and body["direction"] == "to_phone"
    ans = log.wait("call.answered", call=cid)
    assert ans["data"]["by"] == "phone"
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    # nobody picked up: the phone answered by itself (no CALL_INCOMING).
    # baresip still sends 180 before its 200, so a call.ringing may come,
    # but never after the answer
    assert not phone_events(phone, "CALL_INCOMING", m)
    types = log.call_types(cid)
    assert types in (["call.answered"], ["call.ringing", "call.answered"]), \
        types
    assert get_call(service, cid)["state"] == "active"
    api_ok(service, "DELETE", "/api/v1/calls/%s" % cid)
    closed = phone.wait_event("CALL_CLOSED", 5, since=m)
    assert closed["param"] == "Connection reset by peer", closed
    assert log.wait("call.ended", call=cid)["data"]["reason"] == "api_hangup"


def test_ring_timeout_ends_with_no_answer(service, phone_factory):
    phone = phone_factory(line="100", answer="manual")
    phone.wait_registered(10)
    log = EventLog(service)
    m = phone.mark()
    t0 = time.monotonic()
    body = api_ok(service, "POST", "/api/v1/calls",
                  {"line": "100", "ring_timeout_s": 2}, 201)
    cid = body["id"]
    phone.wait_event("CALL_INCOMING", 5, since=m)
    log.wait("call.ringing", call=cid)
    ended = log.wait("call.ended", timeout=10, call=cid)
    elapsed = time.monotonic() - t0
    assert ended["data"]["reason"] == "no_answer", ended
    assert ended["data"]["duration_ms"] == 0
    assert 1.8 <= elapsed <= 6.0, elapsed
    # the phone stops ringing
    phone.wait_event("CALL_CLOSED", 5, since=m)
    assert not phone_events(phone, "CALL_ESTABLISHED", m)
    call = get_call(service, cid)
    assert call["state"] == "ended" and call["end_reason"] == "no_answer"
    assert call["answered_at"] is None
    assert get_line(service, "100")["state"] == "idle"


def test_dial_without_line_when_exactly_one_registered(service,
                                                       phone_factory):
    phone = phone_factory(line="100", answer="manual")
    phone.wait_registered(10)
    log = EventLog(service)
    m = phone.mark()
    body = api_ok(service, "POST", "/api/v1/calls", {}, 201)
    assert body["line"] == "100" and body["state"] == "ringing"
    cid = body["id"]
    phone.wait_event("CALL_INCOMING", 5, since=m)
    log.wait("call.ringing", call=cid)
    # a POST without a body works as {} too
    assert_error(service, "POST", "/api/v1/calls", None, 409, "line_busy")
    # hang up while it rings: the phone stops ringing
    body = api_ok(service, "POST", "/api/v1/calls/%s/hangup" % cid)
    assert body["state"] == "ended" and body["end_reason"] == "api_hangup"
    phone.wait_event("CALL_CLOSED", 5, since=m)
    assert log.wait("call.ended", call=cid)["data"]["reason"] == \
        "api_hangup"
    assert not phone_events(phone, "CALL_ESTABLISHED", m)


# -- 5. errors ---------------------------------------------------------------

def test_dial_errors_without_registered_lines(service, phone_factory):
    log = EventLog(service)
    assert_error(service, "POST", "/api/v1/calls", {}, 503,
                 "no_line_registered")
    assert_error(service, "POST", "/api/v1/calls", {"line": "100"}, 404,
                 "line_not_found")
    # a line that registered, then unregistered
    phone = phone_factory(line="100")
    phone.wait_registered(10)
    assert phone.stop() == 0
    log.wait("line.unregistered", line="100")
    assert get_line(service, "100")["registered"] is False
    assert_error(service, "POST", "/api/v1/calls", {}, 503,
                 "no_line_registered")
    assert_error(service, "POST", "/api/v1/calls", {"line": "100"}, 503,
                 "line_not_registered")
    assert active_ids(service, "all") == []
    assert log.types(prefix="call.") == []
    assert_healthy(service)


def test_dial_request_errors(service, phone_factory):
    p100 = phone_factory(line="100", answer="manual")
    p101 = phone_factory(line="101", answer="manual")
    p100.wait_registered(10)
    p101.wait_registered(10)
    log = EventLog(service)
    m100, m101 = p100.mark(), p101.mark()

    for body, status, code in [
            ({}, 400, "line_required"),
            ({"line": None}, 400, "line_required"),
            ({"line": "999"}, 404, "line_not_found"),
            ({"line": 100}, 400, "invalid_field"),
            ({"line": ["100"]}, 400, "invalid_field"),
            ({"line": "100", "ring_timeout_s": 0}, 400, "invalid_field"),
            ({"line": "100", "ring_timeout_s": "x"}, 400, "invalid_field"),
            ({"line": "100", "ring_timeout_s": -1}, 400, "invalid_field"),
            ({"line": "100", "ring_timeout_s": 601}, 400, "invalid_field"),
            ({"line": "100", "ring_timeout_s": 1.5}, 400, "invalid_field"),
    ]:
        assert_error(service, "POST", "/api/v1/calls", body, status, code)
    status, _, reply = service.api("POST", "/api/v1/calls", "[1]",
                                   headers={"Content-Type":
                                            "application/json"})
    assert (status, reply["error"]["code"]) == (400, "invalid_json"), reply

    # none of that created a call or rang a phone
    assert active_ids(service, "all") == []
    assert log.types(prefix="call.") == []
    assert not phone_events(p100, "CALL_INCOMING", m100)
    assert not phone_events(p101, "CALL_INCOMING", m101)

    # and the service still works: ring 101
    assert_healthy(service)
    body = api_ok(service, "POST", "/api/v1/calls",
                  {"line": "101", "ring_timeout_s": 600}, 201)
    p101.wait_event("CALL_INCOMING", 5, since=m101)
    log.wait("call.ringing", call=body["id"])
    api_ok(service, "DELETE", "/api/v1/calls/%s" % body["id"])
    p101.wait_event("CALL_CLOSED", 5, since=m101)
    assert not phone_events(p100, "CALL_INCOMING", m100)


def test_call_state_errors(service, phone_factory):
    phone = phone_factory(line="100", answer="manual")
    phone.wait_registered(10)
    log = EventLog(service)

    # a call to the phone, ringing
    m = phone.mark()
    to_phone = ring(service, phone)
    assert_error(service, "POST", "/api/v1/calls", {"line": "100"}, 409,
                 "line_busy")
    # only calls from the phone are answered over the API
    assert_error(service, "POST", "/api/v1/calls/%s/answer" % to_phone,
                 {}, 409, "call_not_ringing")
    api_ok(service, "POST", "/api/v1/calls/%s/hangup" % to_phone)
    phone.wait_event("CALL_CLOSED", 5, since=m)
    # an ended call: answer, hangup and DELETE are 409, GET is 200
    assert_error(service, "POST", "/api/v1/calls/%s/answer" % to_phone,
                 {}, 409, "call_not_ringing")
    assert_error(service, "POST", "/api/v1/calls/%s/hangup" % to_phone,
                 {}, 409, "call_ended")
    assert_error(service, "DELETE", "/api/v1/calls/%s" % to_phone,
                 None, 409, "call_ended")
    assert get_call(service, to_phone)["state"] == "ended"

    # a call from the phone: busy while it rings and while it is active
    m = phone.mark()
    from_phone = dial_from_phone(log, phone)
    assert_error(service, "POST", "/api/v1/calls", {"line": "100"}, 409,
                 "line_busy")
    api_ok(service, "POST", "/api/v1/calls/%s/answer" % from_phone)
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    assert_error(service, "POST", "/api/v1/calls/%s/answer" % from_phone,
                 {}, 409, "call_not_ringing")
    assert_error(service, "POST", "/api/v1/calls", {"line": "100"}, 409,
                 "line_busy")
    assert_error(service, "POST", "/api/v1/calls", {}, 409, "line_busy")
    assert active_ids(service) == [from_phone]
    phone.hangup()
    log.wait("call.ended", call=from_phone)
    assert_error(service, "POST", "/api/v1/calls/%s/hangup" % from_phone,
                 {}, 409, "call_ended")

    # unknown call ids
    for method, suffix in [("GET", ""), ("DELETE", ""),
                           ("POST", "/answer"), ("POST", "/hangup")]:
        assert_error(service, method,
                     "/api/v1/calls/%s%s" % (UNKNOWN_CALL, suffix),
                     {} if method == "POST" else None, 404,
                     "call_not_found")

    # the list: active only by default, ended ones with state=all
    assert active_ids(service) == []
    assert active_ids(service, "active") == []
    assert active_ids(service, "all") == [to_phone, from_phone]
    ended = api_ok(service, "GET", "/api/v1/calls?state=all")["calls"]
    assert [c["state"] for c in ended] == ["ended", "ended"]
    assert_error(service, "GET", "/api/v1/calls?state=bogus", None, 400,
                 "invalid_query")
    assert_healthy(service)

    # still takes calls after all that
    m = phone.mark()
    cid = dial_from_phone(log, phone, "42")
    api_ok(service, "POST", "/api/v1/calls/%s/answer" % cid)
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    api_ok(service, "DELETE", "/api/v1/calls/%s" % cid)
    phone.wait_event("CALL_CLOSED", 5, since=m)


# -- 6. only registered lines may call ---------------------------------------

def test_call_from_unregistered_line_is_refused(service, phone,
                                                phone_factory):
    log = EventLog(service)
    # line 300 never registers (regint=0), while line 100 is registered
    intruder = phone_factory(line="300", regint=0)
    m = intruder.mark()
    intruder.dial("1234")
    closed = intruder.wait_event("CALL_CLOSED", 5, since=m)
    assert (closed.get("param") or "").startswith("403"), closed
    assert not phone_events(intruder, "CALL_ESTABLISHED", m)
    assert active_ids(service, "all") == []
    assert log.types(prefix="call.") == []
    assert get_line(service, "100")["state"] == "idle"
    assert_error(service, "GET", "/api/v1/lines/300", None, 404)
    assert_healthy(service)
    # the registered line still calls
    answered_call(service, log, phone)


def test_call_after_failed_registration_is_refused(service_factory,
                                                   phone_factory):
    # REGISTER from 127.0.0.1 is not allowed: the phone's registration
    # fails (403), then it calls anyway
    service = service_factory(httpctl_reg_allow="10.0.0.0/8")
    log = EventLog(service)
    ph = phone_factory(line="100", server=service.sip_server)
    with pytest.raises(RuntimeError, match="403"):
        ph.wait_registered(10)
    m = ph.mark()
    ph.dial("1234")
    closed = ph.wait_event("CALL_CLOSED", 5, since=m)
    assert (closed.get("param") or "").startswith("403"), closed
    assert active_ids(service, "all") == []
    assert log.types(prefix="call.") == []
    assert api_ok(service, "GET", "/api/v1/lines")["lines"] == []
    assert_healthy(service)


def test_second_call_on_a_busy_line_is_refused(service, phone,
                                               phone_factory):
    """One call per line: a second INVITE from the same line gets 486 and
    leaves the first call alone."""
    log = EventLog(service)
    cid = answered_call(service, log, phone)
    twin = phone_factory(line="100", regint=0)
    m = twin.mark()
    twin.dial("555")
    closed = twin.wait_event("CALL_CLOSED", 5, since=m)
    assert (closed.get("param") or "").startswith("486"), closed
    assert log.types(prefix="call.") == ["call.incoming", "call.answered"]
    assert active_ids(service) == [cid]
    assert get_call(service, cid)["state"] == "active"
    api_ok(service, "DELETE", "/api/v1/calls/%s" % cid)


# -- more ways a call ends ---------------------------------------------------

def test_phone_declines_a_call_from_the_api(service, phone_factory):
    phone = phone_factory(line="100", answer="manual")
    phone.wait_registered(10)
    log = EventLog(service)
    cid = ring(service, phone)
    log.wait("call.ringing", call=cid)
    phone.hangup()  # baresip rejects a call it has not answered: 486
    ended = log.wait("call.ended", call=cid)
    assert ended["data"]["reason"] == "busy", ended
    assert ended["data"]["sip_code"] == 486, ended
    assert ended["data"]["duration_ms"] == 0
    call = get_call(service, cid)
    assert (call["end_reason"], call["sip_code"]) == ("busy", 486)
    assert get_line(service, "100")["state"] == "idle"


def test_unanswered_call_from_phone_times_out(service_factory,
                                              phone_factory):
    service = service_factory(call_local_timeout="2")
    log = EventLog(service)
    phone = phone_factory(line="100", server=service.sip_server)
    phone.wait_registered(10)
    m = phone.mark()
    t0 = time.monotonic()
    cid = dial_from_phone(log, phone)
    ended = log.wait("call.ended", timeout=10, call=cid)
    assert ended["data"]["reason"] == "timeout", ended
    assert ended["data"]["duration_ms"] == 0
    assert 1.5 <= time.monotonic() - t0 <= 6.0
    phone.wait_event("CALL_CLOSED", 5, since=m)


# -- two lines at once -------------------------------------------------------

def test_two_lines_call_at_once(service, phone_factory):
    """Both HT802 ports in calls at the same time: each call keeps its own
    line, state and phone."""
    p100 = phone_factory(line="100")
    p101 = phone_factory(line="101")
    p100.wait_registered(10)
    p101.wait_registered(10)
    log = EventLog(service)
    m100, m101 = p100.mark(), p101.mark()
    c100 = dial_from_phone(log, p100, "100100")
    c101 = dial_from_phone(log, p101, "101101")
    assert c100 != c101
    assert sorted(active_ids(service)) == sorted([c100, c101])

    # answer 101's call only
    api_ok(service, "POST", "/api/v1/calls/%s/answer" % c101)
    p101.wait_event("CALL_ESTABLISHED", 5, since=m101)
    assert get_call(service, c100)["state"] == "ringing"
    assert get_line(service, "100")["state"] == "ringing"
    assert (get_line(service, "101")["state"],
            get_line(service, "101")["call"]) == ("in_call", c101)
    assert not phone_events(p100, "CALL_ESTABLISHED", m100)

    # 100 gives up; 101's call goes on
    p100.hangup()
    assert log.wait("call.ended", call=c100)["data"]["reason"] == \
        "phone_hangup"
    assert get_call(service, c101)["state"] == "active"
    assert active_ids(service) == [c101]

    # line 100 is free again for a call to the phone while 101 talks
    body = api_ok(service, "POST", "/api/v1/calls", {"line": "100"}, 201)
    log.wait("call.answered", call=body["id"], by="phone")
    p100.wait_event("CALL_ESTABLISHED", 5, since=m100)
    assert {c["line"]: c["id"] for c in
            api_ok(service, "GET", "/api/v1/calls")["calls"]} == {
        "100": body["id"], "101": c101}
    for cid in (c101, body["id"]):
        api_ok(service, "DELETE", "/api/v1/calls/%s" % cid)
    p100.wait_event("CALL_CLOSED", 5, since=m100)
    p101.wait_event("CALL_CLOSED", 5, since=m101)
    assert active_ids(service) == []


# -- a call only from the address its line registered from ------------------

def test_call_taken_only_from_the_address_its_line_registered_from(
        service, phone):
    """An INVITE as line 100 from 127.0.0.2, while line 100 is registered
    from 127.0.0.1, is refused (403) and makes no call; a line calling
    from the address it registered from is taken; and once line 100
    re-registers from 127.0.0.2 (the device moved; a live binding moves
    only once it is gone), its calls from there are taken and those from
    the old address are not."""
    log = EventLog(service)
    assert get_line(service, "100")["source"] == \
        "127.0.0.1:%d" % phone.sip_port
    with RawPhone(service.sip_server, line="100", host="127.0.0.2") as other, \
            RawPhone(service.sip_server, line="101") as local:
        # line 100 from an address that is not its own
        since = service.log_size()
        other.invite("1234")
        refused = other.wait_answer()
        assert refused.status == 403, refused.raw
        service.wait_log(r"rejecting call from sip:100@\S+ at 127\.0\.0\.2:"
                         r"%d: line 100 registered from 127\.0\.0\.1:%d"
                         % (other.port, phone.sip_port), 5, since)
        assert active_ids(service, "all") == []
        assert log.types(prefix="call.") == []
        assert get_line(service, "100")["state"] == "idle"

        # the same kind of INVITE from 127.0.0.1, as the line registered
        # from there: taken
        assert local.register().status == 200
        since = log.mark()
        local.invite("2345")
        inc = log.wait("call.incoming", since=since, line="101")
        cid = inc["data"]["call"]
        assert inc["data"]["dialed"] == "2345"
        assert active_ids(service, "all") == [cid]
        api_ok(service, "DELETE", "/api/v1/calls/%s" % cid)
        assert local.wait_answer().status >= 400  # rejected, and ACKed
        log.wait("call.ended", call=cid)

        # line 100 moves to 127.0.0.2: not while its binding from
        # 127.0.0.1 lives; once that is unregistered (from there), it
        # may, and its calls from there are taken
        assert other.register().status == 403
        assert local.register("100", headers={
            "Contact": "*", "Expires": "0"}).status == 200
        assert other.register().status == 200
        line = get_line(service, "100")
        assert (line["registered"], line["source"]) == (True,
                                                        other.hostport)
        since = log.mark()
        other.invite("3456")
        cid = log.wait("call.incoming", since=since,
                       line="100")["data"]["call"]
        api_ok(service, "POST", "/api/v1/calls/%s/answer" % cid)
        other.established()
        assert get_call(service, cid)["state"] == "active"
        assert other.bye().status == 200
        ended = log.wait("call.ended", call=cid)
        assert ended["data"]["reason"] == "phone_hangup", ended

    # ... and the old address no longer calls as line 100
    m = phone.mark()
    since = log.mark()
    phone.dial("1234")
    closed = phone.wait_event("CALL_CLOSED", 5, since=m)
    assert (closed.get("param") or "").startswith("403"), closed
    assert log.types(since=since, prefix="call.") == []
    assert_healthy(service)


# -- caller ID on the phone ---------------------------------------------------

def test_caller_id_shown_on_the_phone(service_factory, phone_factory):
    """POST /calls and WS dial take "caller":{"name","number"}: the
    phone's INVITE has From "<name>" <sip:<number>@...>; the config's
    httpctl_caller_name (with spaces) and _number are the default;
    bad values get 400 invalid_field."""
    svc = service_factory(httpctl_caller_name="Front door",
                          httpctl_caller_number="200")
    phone = phone_factory(line="100", answer="manual",
                          server=svc.sip_server)
    phone.wait_registered(10)

    def ring_as(body):
        m = phone.mark()
        call = api_ok(svc, "POST", "/api/v1/calls", body, 201)
        ev = phone.wait_event("CALL_INCOMING", 5, since=m)
        api_ok(svc, "DELETE", "/api/v1/calls/%s" % call["id"], None, 200)
        phone.wait_event("CALL_CLOSED", 5, since=m)
        return call, ev

    # the config's default
    call, ev = ring_as({"line": "100"})
    assert ev.get("peerdisplayname") == "Front door", ev
    assert ev["peeruri"].startswith("sip:200@"), ev
    assert call["from"].startswith("sip:200@"), call

    # per call, UTF-8 included; a null number keeps the default's
    call, ev = ring_as({"line": "100", "caller": {"name": "Tür 2",
                                                  "number": None}})
    assert ev.get("peerdisplayname") == "Tür 2", ev
    assert ev["peeruri"].startswith("sip:200@"), ev
    call, ev = ring_as({"line": "100", "caller": {"number": "+4930123"}})
    assert ev.get("peerdisplayname") == "Front door", ev
    assert ev["peeruri"].startswith("sip:+4930123@"), ev

    # over the WebSocket
    m = phone.mark()
    ws = svc.ws({"audio": "none"})
    try:
        ws.send_json({"type": "command", "id": "d1", "command": "dial",
                      "args": {"line": "100", "caller": {
                          "name": "Gate", "number": "7"}}})
        resp = ws.wait_text(lambda t: t.get("id") == "d1", 5)
        assert resp["ok"] is True, resp
        ev = phone.wait_event("CALL_INCOMING", 5, since=m)
        assert ev.get("peerdisplayname") == "Gate", ev
        assert ev["peeruri"].startswith("sip:7@"), ev
    finally:
        ws.close()
    call_id = resp["result"]["id"]
    api_ok(svc, "DELETE", "/api/v1/calls/%s" % call_id, None, 200)

    for bad in ({"name": 'a"b'}, {"name": ""}, {"name": "x" * 65},
                {"name": "a\nb"}, {"number": "12a"}, {"number": ""},
                {"number": 200}, "Front door"):
        assert_error(svc, "POST", "/api/v1/calls",
                     {"line": "100", "caller": bad}, 400, "invalid_field")
    assert_healthy(svc)
