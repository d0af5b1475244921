"""Restarts: registrations persist, calls the service dies with end.

The real service is stopped (SIGTERM) or killed (SIGKILL, as a crash or
a power cut would) and started again on the same ports and state
directory; a fake HT802 port (stock baresip) that registered before stays
up and does not register again (its interval is long). What it and the
API see after the restart is checked.
"""

import signal
import time

from helpers import EventLog, api_ok, assert_healthy, wait_until
from sipphone_test.sipraw import SipUdpClient

LONG_REGINT = 900  # s: the phone does not re-register during a test


def get_line(svc, line_id):
    return api_ok(svc, "GET", "/api/v1/lines/%s" % line_id)


def all_events(svc):
    return EventLog(svc, after=0).poll()


def ring_and_answer(svc, phone, log):
    """POST /calls to the line of a phone in auto-answer mode: the phone
    gets the INVITE (at the stored contact) and answers. Returns the
    call id."""
    m = phone.mark()
    since = log.mark()
    cid = api_ok(svc, "POST", "/api/v1/calls", {"line": phone.line},
                 201)["id"]
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    log.wait("call.answered", since=since, call=cid)
    return cid


def assert_restored(svc, before, line_id="100"):
    line = get_line(svc, line_id)
    assert line["registered"] is True, line
    for key in ("contact", "source", "user_agent", "transport",
                "registered_at", "last_register_at"):
        assert line[key] == before[key], (key, line, before)
    assert 0 < line["expires_s"] <= before["expires_s"], (line, before)
    return line


def check_rings_after(svc, phone, sig):
    before = get_line(svc, "100")
    registers = len([e for e in phone.events
                     if e.get("type") == "REGISTER_OK"])

    svc.restart(sig=sig)

    assert_restored(svc, before)
    log = EventLog(svc)
    cid = ring_and_answer(svc, phone, log)
    api_ok(svc, "POST", "/api/v1/calls/%s/hangup" % cid)
    log.wait("call.ended", call=cid)

    # and it did so without registering again
    assert get_line(svc, "100")["last_register_at"] == \
        before["last_register_at"]
    assert len([e for e in phone.events
                if e.get("type") == "REGISTER_OK"]) == registers
    assert svc.log_text().count("line 100 restored") == 1
    assert_healthy(svc)


def test_sigterm_keeps_the_registration_and_the_phone_rings(
        service_factory, phone_factory):
    svc = service_factory()
    phone = phone_factory(server=svc.sip_server, line="100",
                          regint=LONG_REGINT)
    phone.wait_registered(10)
    check_rings_after(svc, phone, signal.SIGTERM)


def test_kill_9_keeps_the_registration_and_the_phone_rings(
        service_factory, phone_factory):
    svc = service_factory()
    phone = phone_factory(server=svc.sip_server, line="100",
                          regint=LONG_REGINT)
    phone.wait_registered(10)
    check_rings_after(svc, phone, signal.SIGKILL)


def test_call_live_at_kill_9_ends_once_after_the_restart(service_factory,
                                                         phone_factory):
    svc = service_factory()
    phone = phone_factory(server=svc.sip_server, line="100",
                          regint=LONG_REGINT)
    phone.wait_registered(10)
    log = EventLog(svc)
    cid = ring_and_answer(svc, phone, log)
    answered = time.monotonic()
    # the call lives a while before the crash: long enough for its row to
    # be stamped alive after the answer (every 5 s)
    lived = wait_until(lambda: (lambda d: d if d >= 6000 else None)(
        api_ok(svc, "GET", "/api/v1/calls/%s" % cid)["duration_ms"]),
        10, what="6 s of call")

    svc.restart(sig=signal.SIGKILL)
    killed = time.monotonic()
    ws = svc.ws({"audio": "none"})
    try:
        ws.wait_text(lambda m: m.get("type") == "hello", 5)

        # the API says at once that it ended
        call = api_ok(svc, "GET", "/api/v1/calls/%s" % cid)
        assert call["state"] == "ended", call
        assert call["end_reason"] == "service_restart", call
        assert call["ended_at"] and call["answered_at"], call
        assert api_ok(svc, "GET", "/api/v1/calls")["calls"] == []
        assert get_line(svc, "100")["state"] == "idle"

        # ... and so does an event, on the WebSocket and in the log
        msg = ws.wait_text(lambda m: m.get("type") == "event" and
                           m["event"]["type"] == "call.ended", 15)
    finally:
        ws.close()
    ev = msg["event"]
    assert ev["data"]["call"] == cid and ev["data"]["line"] == "100", ev
    assert ev["data"]["reason"] == "service_restart", ev
    # from the answer to the last time it was seen alive (5 s or less
    # before the crash), never beyond the restart
    assert lived - 5500 <= ev["data"]["duration_ms"] <= \
        (killed - answered) * 1000 + 1000, (lived, ev)

    ended = [e for e in all_events(svc)
             if e["type"] == "call.ended" and e["data"]["call"] == cid]
    assert [e["id"] for e in ended] == [ev["id"]], ended

    # once: neither a clean restart nor another crash says it again
    svc.restart()
    svc.restart(sig=signal.SIGKILL)
    EventLog(svc).poll()
    ended = [e for e in all_events(svc)
             if e["type"] == "call.ended" and e["data"]["call"] == cid]
    assert len(ended) == 1, ended
    assert svc.log_text().count("%s on line 100 was live" % cid) == 1
    assert_healthy(svc)


def test_sigterm_ends_live_calls_before_exit(service_factory,
                                             phone_factory):
    svc = service_factory()
    phone = phone_factory(server=svc.sip_server, line="100",
                          regint=LONG_REGINT)
    phone.wait_registered(10)
    log = EventLog(svc)
    cid = ring_and_answer(svc, phone, log)
    seq = log.poll()[-1]["seq"]

    svc.restart()

    # ended by the run that had it, reason shutdown, and only so
    after = EventLog(svc, after=seq).poll()
    ended = [e for e in after if e["type"] == "call.ended"]
    assert [(e["data"]["call"], e["data"]["reason"]) for e in ended] == \
        [(cid, "shutdown")], after
    call = api_ok(svc, "GET", "/api/v1/calls/%s" % cid, status=404)
    assert "error" in call
    assert "was live when the service stopped" not in svc.log_text()


def test_expired_bindings_are_dropped(service_factory, phone_factory):
    svc = service_factory(httpctl_reg_expires="1-3600")
    phone = phone_factory(server=svc.sip_server, line="100",
                          regint=LONG_REGINT)
    phone.wait_registered(10)
    with SipUdpClient(svc.sip_server) as raw:
        assert raw.register("101", expires=2).status == 200
    assert get_line(svc, "101")["registered"] is True
    registered = time.monotonic()
    seq = EventLog(svc).after

    svc.stop()
    # down for longer than line 101's binding had left
    while time.monotonic() < registered + 2.5:
        time.sleep(0.1)
    svc.start()

    line = get_line(svc, "101")
    assert line["registered"] is False and line["expires_s"] == 0, line
    assert line["contact"] == "sip:101@%s" % raw.hostport
    assert get_line(svc, "100")["registered"] is True
    lines = api_ok(svc, "GET", "/api/v1/lines")["lines"]
    assert [(ln["id"], ln["registered"]) for ln in lines] == \
        [("100", True), ("101", False)]

    after = EventLog(svc, after=seq).poll()
    assert [(e["type"], e["data"]) for e in after
            if e["type"].startswith("line.")] == \
        [("line.unregistered", {"line": "101", "reason": "expired"})]
    status, _, body = svc.api("POST", "/api/v1/calls", {"line": "101"})
    assert status == 503, body
