"""The registrar (httpctl reg.c / regmsg.c / line.c) against real processes.

Fake HT802 ports (stock baresip) and hand-built REGISTERs from a UDP
socket (sipphone_test.sipraw) register with the real service; every
outcome is read back through REST (GET /api/v1/lines, /api/v1/events)
and the SIP replies themselves. Waits poll a real condition with a
deadline; nothing sleeps to synchronise.
"""

import email.utils
import os
import re
import socket
from datetime import datetime, timezone

import pytest

from sipphone_test.procs import wait_until
from sipphone_test.sipraw import SipUdpClient, contact_params

BARESIP_UA = "baresip v1.0.0"

# what a rejected REGISTER must leave as it was (expires_s ticks down)
STABLE = ("id", "registered", "contact", "source", "user_agent", "state",
          "call", "registered_at", "last_register_at", "transport")


# -- helpers -----------------------------------------------------------------

def get_line(svc, line_id):
    status, _, body = svc.api("GET", "/api/v1/lines/%s" % line_id)
    assert status == 200, (status, body)
    return body


def all_lines(svc):
    status, _, body = svc.api("GET", "/api/v1/lines")
    assert status == 200, (status, body)
    return body["lines"]


def stable(line):
    return {k: line.get(k) for k in STABLE}


def events(svc, after=0, type_=None):
    status, _, body = svc.api("GET", "/api/v1/events?after=%d&limit=1000"
                              % after)
    assert status == 200, (status, body)
    return [e for e in body["events"] if type_ is None or e["type"] == type_]


def last_seq(svc):
    """The seq of the newest event (0: none yet)."""
    status, _, st = svc.api("GET", "/api/v1/status")
    assert status == 200, (status, st)
    return st["last_event_seq"]


def line_events(svc, after=0):
    return [e for e in events(svc, after) if e["type"].startswith("line.")]


def wait_line(svc, line_id, pred, timeout=5.0, what=None):
    """Poll GET /api/v1/lines/{id} until pred(line); return the line."""
    def check():
        status, _, body = svc.api("GET", "/api/v1/lines/%s" % line_id)
        return body if status == 200 and pred(body) else None
    return wait_until(check, timeout, what=what or "line %s" % line_id)


def wait_event(svc, type_, pred=lambda e: True, after=0, timeout=5.0):
    def check():
        for e in events(svc, after, type_):
            if pred(e):
                return e
        return None
    return wait_until(check, timeout, what="event %s" % type_)


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc)


def healthz(svc):
    return svc.api("GET", "/healthz", token=None)[0]


def contact_of(resp):
    """(uri, expires) of the one Contact in a 200, or None if none."""
    values = resp.all("contact")
    if not values:
        return None
    assert len(values) == 1, values
    uri, params = contact_params(values[0])
    return uri, int(params["expires"])


def assert_date_now(resp):
    date = resp.header("date")
    assert date, "no Date header in %s:\n%s" % (resp, resp.raw.decode())
    when = email.utils.parsedate_to_datetime(date)
    assert date.endswith("GMT"), date
    assert abs((when - datetime.now(timezone.utc)).total_seconds()) < 60, \
        date


# -- 1. a fake phone registers ----------------------------------------------

def test_phone_registers_line_and_event(service, phone):
    line = get_line(service, "100")
    assert re.fullmatch(r"sip:100-0x[0-9a-f]+@127\.0\.0\.1:%d"
                        % phone.sip_port, line["contact"]), line
    assert line["registered"] is True
    assert line["source"] == "127.0.0.1:%d" % phone.sip_port
    assert line["user_agent"].startswith(BARESIP_UA), line
    assert 0 < line["expires_s"] <= 60, line  # regint 60 asked, granted
    assert line["state"] == "idle" and line["call"] is None, line
    assert line["transport"] == "udp"
    assert line["registered_at"] == line["last_register_at"]
    assert abs((parse_time(line["registered_at"])
                - datetime.now(timezone.utc)).total_seconds()) < 30

    assert [ln["id"] for ln in all_lines(service)] == ["100"]
    assert all_lines(service)[0]["contact"] == line["contact"]

    regs = wait_event(service, "line.registered")
    assert regs["id"].startswith("evt_") and isinstance(regs["seq"], int)
    parse_time(regs["timestamp"])
    data = regs["data"]
    assert data["line"] == "100"
    assert data["contact"] == line["contact"]
    assert data["source"] == line["source"]
    assert data["user_agent"] == line["user_agent"]
    assert 0 < data["expires_s"] <= 60, data
    assert len(events(service, 0, "line.registered")) == 1


# -- 2. refresh --------------------------------------------------------------

def test_refresh_is_silent_and_resets_expiry(service_factory, phone_factory):
    svc = service_factory(httpctl_reg_expires="1-3600")
    ph = phone_factory(server=svc.sip_server, line="100", regint=3)
    ph.wait_registered(5)
    first = get_line(svc, "100")
    assert first["registered"] and 0 < first["expires_s"] <= 3, first

    seen = []  # every poll: the line must stay registered throughout

    def refreshed(after):
        line = get_line(svc, "100")
        seen.append(line)
        return line if line["last_register_at"] > after else None

    # before the refresh the lifetime visibly runs down ...
    wait_line(svc, "100", lambda ln: ln["expires_s"] <= 1, 4,
              "expires_s to run down to 1")
    # ... and the refresh (baresip re-registers at 90 % of 3 s) resets it
    one = wait_until(lambda: refreshed(first["last_register_at"]), 5,
                     what="a refresh (last_register_at advances)")
    assert one["expires_s"] >= 2, one
    # a second refresh: by then the first binding's 3 s are long over
    two = wait_until(lambda: refreshed(one["last_register_at"]), 5,
                     what="a second refresh")
    assert all(ln["registered"] for ln in seen), \
        [(ln["registered"], ln["expires_s"]) for ln in seen]
    assert two["registered_at"] == first["registered_at"]
    assert two["contact"] == first["contact"]

    # refresh is silent: one line.registered, no line.unregistered
    assert [e["type"] for e in line_events(svc)] == ["line.registered"]


# -- 3. unregister -----------------------------------------------------------

def test_phone_stop_unregisters_and_line_stays_listed(service, phone):
    before = get_line(service, "100")
    seq = last_seq(service)
    assert phone.stop() == 0  # the first SIGTERM unregisters, then exits

    line = wait_line(service, "100", lambda ln: not ln["registered"], 5,
                     "line 100 registered:false")
    assert line["expires_s"] == 0
    assert line["contact"] == before["contact"]  # kept after unregister
    assert line["source"] == before["source"]
    assert line["state"] == "idle" and line["call"] is None
    assert [ln["id"] for ln in all_lines(service)] == ["100"]
    assert all_lines(service)[0]["registered"] is False

    ev = wait_event(service, "line.unregistered", after=seq)
    assert ev["data"]["line"] == "100"
    assert ev["data"]["reason"] == "unregister", ev
    assert [e["type"] for e in line_events(service, seq)] == \
        ["line.unregistered"]


# -- 4. expiry ---------------------------------------------------------------

def test_binding_expires_without_refresh(service_factory, phone_factory):
    svc = service_factory(httpctl_reg_expires="1-3600")
    # line 100: a fake phone with a 2 s expiry that dies without a word
    ph = phone_factory(server=svc.sip_server, line="100", regint=2)
    ph.wait_registered(5)
    # line 101: a raw client asks for 2 s once, then stays silent
    with SipUdpClient(svc.sip_server) as raw:
        resp = raw.register("101", expires=2)
    assert resp.status == 200, resp.raw
    assert contact_of(resp) == ("sip:101@%s" % raw.hostport, 2)
    assert get_line(svc, "100")["registered"]
    assert get_line(svc, "101")["registered"]

    ph.proc.kill()  # SIGKILL: no unregister
    ph.proc.wait(5)

    for line_id in ("100", "101"):
        line = wait_line(svc, line_id, lambda ln: not ln["registered"], 6,
                         "line %s to expire" % line_id)
        assert line["expires_s"] == 0
        assert line["contact"]  # kept
    unregs = {e["data"]["line"]: e for e in events(svc, 0,
                                                   "line.unregistered")}
    assert set(unregs) == {"100", "101"}, unregs
    assert all(e["data"]["reason"] == "expired" for e in unregs.values()), \
        unregs
    # the raw binding lived its granted 2 s, not less and not much more
    reg101 = [e for e in events(svc, 0, "line.registered")
              if e["data"]["line"] == "101"]
    assert len(reg101) == 1
    lived = (parse_time(unregs["101"]["timestamp"])
             - parse_time(reg101[0]["timestamp"])).total_seconds()
    assert 1.9 <= lived <= 3.0, lived


# -- 5. two lines ------------------------------------------------------------

def test_two_lines_register_side_by_side(service, phone_factory):
    p100 = phone_factory(line="100")
    p101 = phone_factory(line="101")
    p100.wait_registered(5)
    p101.wait_registered(5)

    lines = {ln["id"]: ln for ln in all_lines(service)}
    assert list(lines) == ["100", "101"]
    for ph in (p100, p101):
        ln = lines[ph.line]
        assert ln["registered"] is True
        assert re.fullmatch(r"sip:%s-0x[0-9a-f]+@127\.0\.0\.1:%d"
                            % (ph.line, ph.sip_port), ln["contact"]), ln
        assert ln["source"] == "127.0.0.1:%d" % ph.sip_port
    regs = events(service, 0, "line.registered")
    assert sorted(e["data"]["line"] for e in regs) == ["100", "101"]

    seq = last_seq(service)
    assert p101.stop() == 0
    wait_line(service, "101", lambda ln: not ln["registered"], 5)
    after = {ln["id"]: ln for ln in all_lines(service)}
    assert list(after) == ["100", "101"]
    assert stable(after["100"]) == stable(lines["100"])
    assert after["100"]["expires_s"] > 0
    assert after["101"]["contact"] == lines["101"]["contact"]
    assert [(e["type"], e["data"]["line"], e["data"].get("reason"))
            for e in line_events(service, seq)] == \
        [("line.unregistered", "101", "unregister")]


# -- 6. raw SIP --------------------------------------------------------------

@pytest.fixture
def raw(service):
    """A raw SIP client of the default service (expiry 60-3600 s)."""
    with SipUdpClient(service.sip_server) as client:
        yield client


def test_raw_register_reply_lists_binding_with_expires_and_date(service,
                                                                 raw):
    ours = "sip:100@%s" % raw.hostport
    resp = raw.register("100", expires=120, user_agent="Grandstream HT802 "
                        "1.0.51.2")
    assert resp.status == 200, resp.raw
    assert contact_of(resp) == (ours, 120)
    assert_date_now(resp)

    line = get_line(service, "100")
    assert line["registered"] is True
    assert line["contact"] == ours
    assert line["source"] == raw.hostport
    assert line["user_agent"] == "Grandstream HT802 1.0.51.2"
    assert 118 <= line["expires_s"] <= 120, line
    ev = wait_event(service, "line.registered")
    assert ev["data"] == {"line": "100", "contact": ours,
                          "source": raw.hostport,
                          "user_agent": "Grandstream HT802 1.0.51.2",
                          "expires_s": ev["data"]["expires_s"]}
    assert 118 <= ev["data"]["expires_s"] <= 120

    # no Contact: a query, answered with the current binding, changes nothing
    query = raw.register("100", contact=None)
    assert query.status == 200, query.raw
    uri, left = contact_of(query)
    assert uri == ours and 0 < left <= 120
    assert_date_now(query)
    assert stable(get_line(service, "100")) == stable(line)

    # above the maximum: granted the maximum, in the reply and the line
    big = raw.register("100", expires=7200,
                       user_agent="Grandstream HT802 1.0.51.2")
    assert big.status == 200, big.raw
    assert contact_of(big) == (ours, 3600)
    line = get_line(service, "100")
    assert 3590 <= line["expires_s"] <= 3600, line
    param = raw.register("100", contact="<%s>;expires=86400" % ours,
                         user_agent="Grandstream HT802 1.0.51.2")
    assert param.status == 200 and contact_of(param) == (ours, 3600)

    # both were refreshes of the same binding: still one event
    assert [e["type"] for e in line_events(service)] == ["line.registered"]


@pytest.mark.parametrize("how", ["Expires: 0", "Contact ;expires=0",
                                 "Contact: * with Expires: 0"])
def test_raw_expires_zero_removes_binding(service, raw, how):
    ours = "sip:100@%s" % raw.hostport
    assert raw.register("100", expires=120).status == 200
    seq = last_seq(service)

    if how == "Expires: 0":
        resp = raw.register("100", expires=0)
    elif how == "Contact ;expires=0":
        # the Contact's parameter wins over the Expires header
        resp = raw.register("100", contact="<%s>;expires=0" % ours,
                            expires=3600)
    else:
        resp = raw.register("100", headers={"Contact": "*", "Expires": "0"})
    assert resp.status == 200, resp.raw
    assert contact_of(resp) is None, "no binding left to list:\n%s" \
        % resp.raw.decode()
    assert_date_now(resp)

    line = get_line(service, "100")
    assert line["registered"] is False and line["expires_s"] == 0, line
    assert line["contact"] == ours  # the line stays, with its last contact
    assert [(e["type"], e["data"]) for e in line_events(service, seq)] == \
        [("line.unregistered", {"line": "100", "reason": "unregister"})]


def test_raw_star_without_expires_zero_is_400(service, raw):
    assert raw.register("100", expires=120).status == 200
    before = get_line(service, "100")
    seq = last_seq(service)
    for expires in (None, 3600):
        resp = raw.register("100", expires=expires,
                            headers={"Contact": "*"})
        assert resp.status == 400, (expires, resp.raw)
    after = get_line(service, "100")
    assert stable(after) == stable(before)
    assert after["registered"] is True
    assert line_events(service, seq) == []


def test_raw_expires_below_minimum_is_423_with_min_expires(service, raw):
    assert raw.register("100", expires=120).status == 200
    before = get_line(service, "100")
    seq = last_seq(service)
    ours = "sip:100@%s" % raw.hostport

    for kwargs in ({"expires": 30},
                   {"contact": "<%s>;expires=59" % ours, "expires": 3600}):
        resp = raw.register("100", **kwargs)
        assert resp.status == 423, (kwargs, resp.raw)
        assert resp.header("min-expires") == "60", resp.raw
        assert stable(get_line(service, "100")) == stable(before)

    # a new line asking too little is not created
    resp = raw.register("101", expires=59)
    assert resp.status == 423 and resp.header("min-expires") == "60"
    assert [ln["id"] for ln in all_lines(service)] == ["100"]
    assert line_events(service, seq) == []


def test_raw_unregister_of_unknown_line_or_old_contact_changes_nothing(
        service, raw):
    ours = "sip:100@%s" % raw.hostport
    assert raw.register("100", expires=120).status == 200
    before = get_line(service, "100")
    seq = last_seq(service)

    # a late unregister of a Contact that is no longer the binding
    resp = raw.register("100", contact="<sip:100@127.0.0.1:9>", expires=0)
    assert resp.status == 200, resp.raw
    assert contact_of(resp)[0] == ours  # the binding that stands
    # an unregister of a line never seen creates no line
    resp = raw.register("105", expires=0)
    assert resp.status == 200 and contact_of(resp) is None, resp.raw

    assert stable(get_line(service, "100")) == stable(before)
    assert [ln["id"] for ln in all_lines(service)] == ["100"]
    assert line_events(service, seq) == []


def test_raw_retransmitted_register_is_not_processed_twice(service, raw):
    """A REGISTER that UDP delivers again (same branch) after a newer one
    gets its first answer again and does not undo the newer binding."""
    first = "sip:100@127.0.0.1:1111"
    data, branch = raw.build("REGISTER", "sip:%s" % service.sip_server,
                             raw.register_headers("100", "<%s>" % first,
                                                  expires=120))
    raw.send(data)
    assert contact_of(raw.wait_response(branch)) == (first, 120)
    newer = raw.register("100", contact="<sip:100@127.0.0.1:2222>",
                         expires=120)
    assert newer.status == 200
    raw.send(data)  # the retransmission
    assert raw.wait_response(branch).status == 200
    line = get_line(service, "100")
    assert line["contact"] == "sip:100@127.0.0.1:2222", line
    assert [e["data"]["contact"]
            for e in events(service, 0, "line.registered")] == \
        [first, "sip:100@127.0.0.1:2222"]


def _malformed(hostport):
    """name -> REGISTER kwargs for line 100 from the client at hostport;
    each one would change line 100 (unbind it, rebind it elsewhere) or
    add a line if it were taken as well-formed."""
    ours = "<sip:100@%s>" % hostport
    other = "<sip:100@127.0.0.1:9>"
    return {
        "no user in To": {"headers": {"To": "<sip:127.0.0.1>"},
                          "expires": 0},
        "bad line id": {"headers": {"To": "<sip:10$0@127.0.0.1>"}},
        "line id of 33 chars": {"headers": {"To": "<sip:%s@127.0.0.1>"
                                            % ("1" * 33)}},
        "two Contact headers": {"headers": {"Contact": [ours, other]},
                                "expires": 0},
        "two Contacts in one header": {
            "headers": {"Contact": "%s, %s" % (other, ours)}},
        "non-numeric Expires": {"expires": "abc"},
        "Expires with trailing junk": {"contact": other,
                                       "expires": "3600abc"},
        "negative Expires": {"expires": "-1"},
        "non-numeric Contact expires": {"contact": ours + ";expires=zero"},
        "Contact not a sip URI": {"contact": "<tel:100>", "expires": 120},
        "Contact without host": {"contact": "<sip:100@>", "expires": 120},
    }


MALFORMED = sorted(_malformed("127.0.0.1:9"))


@pytest.mark.parametrize("case", MALFORMED)
def test_raw_malformed_register_is_400_and_changes_nothing(service, raw,
                                                           case):
    assert raw.register("100", expires=120).status == 200
    before = get_line(service, "100")
    seq = last_seq(service)

    resp = raw.register("100", **_malformed(raw.hostport)[case])
    assert resp.status == 400, "%s: %s" % (case, resp.raw.decode())

    after = get_line(service, "100")
    assert stable(after) == stable(before), case
    assert after["registered"] is True
    assert [ln["id"] for ln in all_lines(service)] == ["100"]
    assert line_events(service, seq) == []
    # the registrar still answers the same client normally
    again = raw.register("100", contact=None)
    assert again.status == 200 and contact_of(again)[0] == before["contact"]


# -- 7. allow list -----------------------------------------------------------

def test_register_from_outside_allow_list_is_403(service_factory,
                                                 phone_factory):
    svc = service_factory(httpctl_reg_allow="10.0.0.0/8")
    since = svc.log_size()
    with SipUdpClient(svc.sip_server) as raw:
        resp = raw.register("100", expires=120)
        assert resp.status == 403, resp.raw
        # an unregister or a query from outside is refused as well
        assert raw.register("100", contact=None).status == 403
    svc.wait_log(r"REGISTER from 127\.0\.0\.1:%d refused" % raw.port, 5,
                 since)
    ph = phone_factory(server=svc.sip_server, line="101")
    with pytest.raises(RuntimeError, match="403"):
        ph.wait_registered(5)
    assert all_lines(svc) == []
    assert events(svc) == []
    assert healthz(svc) == 200

    # the list is really read: with loopback listed the same REGISTER passes
    ok = service_factory(httpctl_reg_allow="10.0.0.0/8,127.0.0.1")
    with SipUdpClient(ok.sip_server) as raw:
        assert raw.register("100", expires=120).status == 200
    assert get_line(ok, "100")["registered"] is True

    # the key may be repeated: its lines make one list
    rep = service_factory(httpctl_reg_allow=["10.0.0.0/8", "127.0.0.1"])
    with SipUdpClient(rep.sip_server) as raw:
        assert raw.register("100", expires=120).status == 200
    assert get_line(rep, "100")["registered"] is True


# -- 8. bad input on the SIP port --------------------------------------------

def _bad_inputs(svc):
    """name -> callable that sends it."""
    def udp(data):
        def send():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(data, ("127.0.0.1", svc.sip_port))
        return send

    def tcp(data):
        def send():
            with socket.create_connection(("127.0.0.1", svc.sip_port),
                                          timeout=2) as s:
                s.sendall(data)
        return send

    head = ("REGISTER sip:%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-junk1\r\n"
            "From: <sip:100@%s>;tag=1\r\nTo: <sip:100@%s>\r\n"
            % ((svc.sip_server,) * 3)).encode()
    junk = bytes(range(256)) * 234  # 59 904 bytes
    return [
        ("garbage bytes", udp(os.urandom(700))),
        ("blank lines", udp(b"\r\n\r\n\r\n")),
        ("request line only", udp(b"REGISTER\r\n\r\n")),
        ("truncated SIP message", udp(head[:len(head) - 12])),
        ("Content-Length beyond the datagram",
         udp(head + b"Call-ID: j1\r\nCSeq: 1 REGISTER\r\n"
             b"Content-Length: 5000\r\n\r\nshort")),
        ("stray response", udp(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP "
                               b"127.0.0.1:9;branch=z9hG4bK-none\r\n"
                               b"CSeq: 1 INVITE\r\n\r\n")),
        ("60 KB datagram of junk", udp(junk)),
        ("60 KB REGISTER header", udp(head + b"X-Junk: " + b"a" * 60000
                                      + b"\r\n\r\n")),
        ("garbage over TCP", tcp(os.urandom(2000) + junk)),
    ]


def test_bad_sip_input_leaves_service_lines_and_call_alone(service,
                                                           phone_factory):
    caller = phone_factory(line="100")
    other = phone_factory(line="101")
    caller.wait_registered(5)
    other.wait_registered(5)
    # line 103 is known but no longer registered
    with SipUdpClient(service.sip_server) as gone:
        assert gone.register("103", expires=120).status == 200
        assert gone.register("103", expires=0).status == 200
    assert get_line(service, "103")["registered"] is False

    # an active call from the phone on line 100
    seq = last_seq(service)
    caller.dial("1234")
    incoming = wait_event(service, "call.incoming", after=seq)
    call_id = incoming["data"]["call"]
    assert incoming["data"]["line"] == "100"
    status, _, call = service.api("POST", "/api/v1/calls/%s/answer"
                                  % call_id)
    assert status == 200 and call["state"] == "active", (status, call)
    caller.wait_event("CALL_ESTABLISHED", 5)
    mark = caller.mark()
    seq = last_seq(service)
    lines_before = {ln["id"]: stable(ln) for ln in all_lines(service)}
    assert lines_before["100"]["state"] == "in_call"
    assert lines_before["100"]["call"] == call_id

    probe = SipUdpClient(service.sip_server)

    def still_fine(what):
        assert service.running, "service exited after %s" % what
        assert healthz(service) == 200, what
        # the SIP port still answers (and has read what came before)
        resp = probe.register("100", contact=None)
        assert resp.status == 200, (what, resp.raw)
        assert contact_of(resp)[0] == lines_before["100"]["contact"], what
        status, _, body = service.api("GET", "/api/v1/calls/%s" % call_id)
        assert status == 200 and body["state"] == "active", (what, body)
        now = {ln["id"]: stable(ln) for ln in all_lines(service)}
        assert now == lines_before, what

    try:
        for what, send in _bad_inputs(service):
            send()
            still_fine(what)

        # INVITEs from a line never seen (102) and from one that
        # unregistered (103): 403, and no call
        for line_id in ("102", "103"):
            stranger = phone_factory(line=line_id, regint=0)
            stranger.dial("5555")
            closed = stranger.wait_event("CALL_CLOSED", 5)
            assert closed["param"].startswith("403"), (line_id, closed)
            status, _, calls = service.api("GET",
                                           "/api/v1/calls?state=all")
            assert [c["id"] for c in calls["calls"]] == [call_id], calls
            still_fine("INVITE from unregistered line %s" % line_id)
    finally:
        probe.close()

    # nothing ended or unregistered meanwhile
    assert not [e for e in caller.events[mark:]
                if e.get("type") == "CALL_CLOSED"], caller.events[mark:]
    assert [e["type"] for e in events(service, seq)] == [], \
        events(service, seq)
