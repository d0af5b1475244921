"""DTMF both ways, with real processes.

In: RFC 2833 from a FakePhone (baresip sends it alongside its audio: the
fake phone's default source is a silence WAV, so frames flow), and SIP
INFO from linphonec, a second, independent SIP implementation registered
as a line of its own. The product tells the two methods apart itself
(baresip 1.0.0 raises one event for both).

Out: POST /api/v1/calls/{id}/dtmf sends RFC 2833 events to the phone.

HT802-style SIP INFO (Signal=5 / Duration=160, hook flash as Signal=16,
Signal=hf or application/hook-flash) comes from sipraw.RawPhone, SIP
built by hand on a UDP socket, since no test peer sends those bodies.
"""

from helpers import EventLog, api_ok, assert_error, assert_healthy, \
    phone_events, ring
from sipphone_test.sipraw import RawPhone

UNKNOWN_CALL = "call_000000000000"


def answered_call(service, log, phone, number="1234"):
    """The phone dials, the API answers; returns the call id once the
    phone sees the call established and RTP arriving."""
    m = phone.mark()
    since = log.mark()
    phone.dial(number)
    cid = log.wait("call.incoming", since=since,
                   line=phone.line)["data"]["call"]
    api_ok(service, "POST", "/api/v1/calls/%s/answer" % cid)
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    phone.wait_event("CALL_RTPESTAB", 5, since=m)
    return cid


def dtmf_events(log, cid):
    return [(e["data"]["digit"], e["data"]["method"])
            for e in log.find("dtmf", call=cid)]


# -- 1. RFC 2833 from the phone ----------------------------------------------

def test_rfc2833_from_the_phone(service, phone):
    log = EventLog(service)
    cid = answered_call(service, log, phone)
    phone.send_dtmf("159#")
    log.wait_count("dtmf", 4, timeout=10, call=cid)
    # the phone hangs up; every dtmf event of the call came before the end
    phone.hangup()
    log.wait("call.ended", call=cid)
    assert dtmf_events(log, cid) == [("1", "rfc2833"), ("5", "rfc2833"),
                                     ("9", "rfc2833"), ("#", "rfc2833")]
    ev = log.find("dtmf", call=cid)[0]
    assert ev["data"] == {"call": cid, "line": "100", "digit": "1",
                          "method": "rfc2833"}
    types = log.call_types(cid)
    assert types == ["call.incoming", "call.answered"] + ["dtmf"] * 4 + [
        "call.ended", "call.quality"]


# -- 2. SIP INFO from linphonec ----------------------------------------------

def test_sip_info_from_linphone(service, linphone_factory):
    log = EventLog(service)
    lp = linphone_factory(line="200", server=service.sip_server,
                          use_info=True, use_rfc2833=False)
    lp.wait_registered(10)
    log.wait("line.registered", line="200")
    line = api_ok(service, "GET", "/api/v1/lines/200")
    assert line["registered"] is True

    since = log.mark()
    lp.call("sip:4711@%s" % service.sip_server)
    inc = log.wait("call.incoming", since=since, line="200")
    cid = inc["data"]["call"]
    assert inc["data"]["dialed"] == "4711"
    api_ok(service, "POST", "/api/v1/calls/%s/answer" % cid)
    lp.wait_output(r"Call \d+ with .* connected", 5)
    lp.wait_output(r"Media streams established", 5)

    digits = "3*9"
    for d in digits:
        lp.send_dtmf(d)  # paced: linphonec drops digits sent quickly
        log.wait("dtmf", timeout=5, call=cid, digit=d)
    lp.hangup()
    ended = log.wait("call.ended", call=cid)
    assert ended["data"]["reason"] == "phone_hangup", ended
    # each digit once, in order, labelled as SIP INFO
    assert dtmf_events(log, cid) == [(d, "info") for d in digits]
    # baresip itself saw them as INFO (it logs this only for INFO)
    text = service.log_text()
    for d in digits:
        assert "received DTMF: '%s'" % d in text


# -- 3. DTMF to the phone ----------------------------------------------------

def test_dtmf_to_the_phone(service, phone):
    log = EventLog(service)
    cid = answered_call(service, log, phone)
    m = phone.mark()
    body = api_ok(service, "POST", "/api/v1/calls/%s/dtmf" % cid,
                  {"digits": "12#"}, 202)
    assert body == {"call": cid, "digits": "12#"}
    # a second request queues behind the first
    api_ok(service, "POST", "/api/v1/calls/%s/dtmf" % cid,
           {"digits": "*0D"}, 202)
    phone.wait_event(lambda e: e.get("type") == "CALL_DTMF_START"
                     and e.get("param") == "D", 10, since=m)
    assert phone_events(phone, "CALL_DTMF_START", m) == [
        "1", "2", "#", "*", "0", "D"]
    # nothing came back as a DTMF from the phone
    assert log.find("dtmf", call=cid) == []
    api_ok(service, "DELETE", "/api/v1/calls/%s" % cid)


def test_dtmf_request_errors(service, phone_factory):
    phone = phone_factory(line="100", answer="manual")
    phone.wait_registered(10)
    log = EventLog(service)

    # a ringing call (to the phone): not yet
    m = phone.mark()
    ringing = ring(service, phone)
    assert_error(service, "POST", "/api/v1/calls/%s/dtmf" % ringing,
                 {"digits": "1"}, 409, "call_not_active")
    phone.answer()
    log.wait("call.answered", call=ringing)
    phone.wait_event("CALL_RTPESTAB", 5, since=m)

    path = "/api/v1/calls/%s/dtmf" % ringing
    for body in ({"digits": ""}, {"digits": "x"}, {"digits": "1" * 40},
                 {"digits": "1" * 33}, {"digits": "12 3"}, {"digits": 5},
                 {"digits": None}, {}):
        assert_error(service, "POST", path, body, 400, "invalid_field")
    # at the limit: 32 digits are fine
    api_ok(service, "POST", path, {"digits": "1" * 32}, 202)
    assert_error(service, "POST", "/api/v1/calls/%s/dtmf" % UNKNOWN_CALL,
                 {"digits": "1"}, 404, "call_not_found")
    # the 32 digits start to go out (6.4 s in all); hanging up half-way
    # stops them cleanly
    phone.wait_event(lambda e: e.get("type") == "CALL_DTMF_START", 5,
                     since=m)
    api_ok(service, "POST", "/api/v1/calls/%s/hangup" % ringing)
    phone.wait_event("CALL_CLOSED", 5, since=m)
    sent = phone_events(phone, "CALL_DTMF_START", m)
    assert 1 <= len(sent) < 32 and set(sent) == {"1"}, sent
    assert_error(service, "POST", path, {"digits": "1"}, 409,
                 "call_not_active")
    assert_healthy(service)


def test_dtmf_to_a_ringing_call_from_the_phone(service, phone):
    log = EventLog(service)
    m = phone.mark()
    since = log.mark()
    phone.dial("1234")
    cid = log.wait("call.incoming", since=since)["data"]["call"]
    assert_error(service, "POST", "/api/v1/calls/%s/dtmf" % cid,
                 {"digits": "12#"}, 409, "call_not_active")
    api_ok(service, "POST", "/api/v1/calls/%s/hangup" % cid)
    phone.wait_event("CALL_CLOSED", 5, since=m)
    assert not phone_events(phone, "CALL_DTMF_START", m)


# -- 4. SIP INFO as an HT802 sends it, hook flash ----------------------------

def test_ht802_info_digits_and_hook_flash(service):
    log = EventLog(service)
    ua, cid = _raw_call(service, log)
    try:
        inc = log.find("call.incoming", call=cid)[0]["data"]
        assert (inc["line"], inc["dialed"]) == ("300", "8000")

        # a digit as the HT802 sends it
        assert ua.info("Signal=5\r\nDuration=160\r\n").status == 200
        log.wait("dtmf", call=cid, digit="5")
        # hook flash as RFC-2833-style event 16 in an INFO: a flash,
        # not the digit '1' baresip would read from it
        assert ua.info("Signal=16\r\nDuration=160\r\n").status == 200
        log.wait("call.flash", call=cid)
        assert ua.info("Signal=7\r\nDuration=160\r\n").status == 200
        log.wait("dtmf", call=cid, digit="7")
        # the other spellings of a flash some equipment uses
        ua.info("Signal=hf\r\nDuration=160\r\n")
        ua.info("", ctype="application/hook-flash")
        log.wait_count("call.flash", 3, call=cid)
        assert ua.info("Signal=#\r\nDuration=160\r\n").status == 200
        log.wait("dtmf", call=cid, digit="#")

        assert ua.bye().status == 200
        ended = log.wait("call.ended", call=cid)
        assert ended["data"]["reason"] == "phone_hangup", ended
        assert dtmf_events(log, cid) == [("5", "info"), ("7", "info"),
                                         ("#", "info")]
        flashes = log.find("call.flash", call=cid)
        assert [f["data"] for f in flashes] == [
            {"call": cid, "line": "300", "method": "info"}] * 3
        assert log.call_types(cid) == [
            "call.incoming", "call.answered", "dtmf", "call.flash", "dtmf",
            "call.flash", "call.flash", "dtmf", "call.ended",
            "call.quality"]
    finally:
        ua.close()


def _raw_call(service, log, line="300"):
    """A RawPhone registered as `line`, in an answered call; (ua, cid)."""
    ua = RawPhone(service.sip_server, line=line)
    assert ua.register().status == 200
    log.wait("line.registered", line=line)
    since = log.mark()
    ua.invite("8000")
    cid = log.wait("call.incoming", since=since, line=line)["data"]["call"]
    api_ok(service, "POST", "/api/v1/calls/%s/answer" % cid)
    ua.established()
    return ua, cid


def test_info_retransmission_counts_once(service):
    """A UDP retransmission of an INFO (same Call-ID, CSeq and branch: the
    phone did not get our 200 in time) is the same key press, not a new
    one: one dtmf / call.flash event each."""
    log = EventLog(service)
    ua, cid = _raw_call(service, log)
    try:
        assert ua.info("Signal=5\r\nDuration=160\r\n").status == 200
        assert ua.retransmit().status == 200
        assert ua.info("Signal=16\r\nDuration=160\r\n").status == 200
        assert ua.retransmit().status == 200
        assert ua.info("Signal=9\r\nDuration=160\r\n").status == 200
        log.wait("dtmf", call=cid, digit="9")
        assert ua.bye().status == 200
        log.wait("call.ended", call=cid)
        assert dtmf_events(log, cid) == [("5", "info"), ("9", "info")]
        assert len(log.find("call.flash", call=cid)) == 1
    finally:
        ua.close()


def test_info_outside_the_dialog_is_ignored(service):
    """An INFO with the call's Call-ID but not in its dialog (wrong
    To-tag) is refused by the SIP stack (481): it is no flash and labels
    no digit."""
    log = EventLog(service)
    ua, cid = _raw_call(service, log)
    try:
        for body in ("Signal=16\r\nDuration=160\r\n",
                     "Signal=hf\r\nDuration=160\r\n"):
            assert ua.info(body, to_tag="not-the-dialog").status == 481
        assert ua.info("Signal=4\r\nDuration=160\r\n").status == 200
        log.wait("dtmf", call=cid, digit="4")
        assert ua.bye().status == 200
        log.wait("call.ended", call=cid)
        assert log.find("call.flash", call=cid) == []
        assert dtmf_events(log, cid) == [("4", "info")]
    finally:
        ua.close()


def test_dtmf_goes_to_the_right_call(service, phone_factory):
    """Two calls at once: digits sent to one reach only its phone, digits
    from one phone are reported only on its call."""
    p100 = phone_factory(line="100")
    p101 = phone_factory(line="101")
    p100.wait_registered(10)
    p101.wait_registered(10)
    log = EventLog(service)
    c100 = answered_call(service, log, p100)
    c101 = answered_call(service, log, p101)
    m100, m101 = p100.mark(), p101.mark()
    api_ok(service, "POST", "/api/v1/calls/%s/dtmf" % c101,
           {"digits": "47"}, 202)
    p101.wait_event(lambda e: e.get("type") == "CALL_DTMF_START"
                    and e.get("param") == "7", 5, since=m101)
    p100.send_dtmf("8")
    log.wait("dtmf", call=c100, digit="8")
    assert phone_events(p101, "CALL_DTMF_START", m101) == ["4", "7"]
    assert phone_events(p100, "CALL_DTMF_START", m100) == []
    assert dtmf_events(log, c101) == []
    assert [e["data"]["line"] for e in log.find("dtmf")] == ["100"]
