"""Lines on a hostile LAN: ownership, maddr, bounds, UTF-8 and floods.

Hand-built SIP from UDP sockets on 127.0.0.1 and 127.0.0.2 (both
loopback on Linux) against the real service. Figures (time, CPU, memory)
are printed, never asserted; what is asserted is behaviour: who may
change a line, where INVITEs go, how many lines and dialog notes the
service keeps, and that every list endpoint keeps answering.

The floods switch the gate's per-source rate limit off
(httpctl_sip_rate off), so that every request reaches the registrar and
the SIP trace; they are about what those keep, not about the gate.
"""

import re
import secrets
import socket
import time
from collections import Counter

from helpers import EventLog, api_ok, assert_healthy, wait_until
from sipphone_test.procs import cpu_s, rss_kb
from sipphone_test.sipraw import RawPhone, SipResponse, SipUdpClient

FFFD = "\ufffd"
STABLE = ("id", "registered", "contact", "source", "user_agent", "state",
          "call", "registered_at", "last_register_at", "transport")


# -- helpers -----------------------------------------------------------------

def get_line(svc, line_id):
    return api_ok(svc, "GET", "/api/v1/lines/%s" % line_id)


def stable(line):
    return {k: line.get(k) for k in STABLE}






def lists_answer(svc):
    """Every endpoint that lists lines or calls answers 200 with JSON."""
    for path in ("/api/v1/lines", "/api/v1/status", "/api/v1/health",
                 "/api/v1/calls?state=all"):
        status, _, body = svc.api("GET", path)
        assert status == 200 and isinstance(body, dict), (path, status,
                                                          body)
    status, _, body = svc.api("GET", "/metrics")
    assert status == 200, body


def pipelined(client, requests, window=50, timeout=5.0):
    """Send requests (bytes, branch) from client's socket, at most
    `window` unanswered at a time; returns {branch: status}."""
    answers = {}
    pending = set()
    todo = list(requests)
    deadline = time.monotonic() + timeout
    while todo or pending:
        while todo and len(pending) < window:
            data, branch = todo.pop(0)
            client.send(data)
            pending.add(branch)
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("%d requests unanswered" % len(pending))
        client.sock.settimeout(left)
        data, _ = client.sock.recvfrom(65536)
        if not data.startswith(b"SIP/2.0 "):
            continue
        resp = SipResponse(data)
        if resp.status < 200:
            continue
        m = re.search(r"branch=([^;,\s]+)", resp.header("via") or "")
        if m and m.group(1) in pending:
            pending.discard(m.group(1))
            answers[m.group(1)] = resp.status
            deadline = time.monotonic() + timeout
    return answers


def registers(client, users, expires=120):
    return [client.build("REGISTER", "sip:%s:%d" % client.server,
                         client.register_headers(user, expires=expires))
            for user in users]


def read_request(sock, method, timeout=5.0):
    """The next request of that method arriving on sock (others are
    passed over); raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no %s within %.1fs" % (method, timeout))
        sock.settimeout(left)
        try:
            data, src = sock.recvfrom(65536)
        except socket.timeout:
            continue
        if data.startswith(method.encode() + b" "):
            return data, src


def reply_to(sock, request, src, status, reason):
    """Answer a request from the service (Via, From, To with a tag,
    Call-ID and CSeq copied)."""
    head = request.decode("utf-8", "replace").split("\r\n\r\n")[0]
    lines = []
    for line in head.split("\r\n")[1:]:
        name = line.partition(":")[0].strip().lower()
        if name in ("via", "v", "from", "f", "call-id", "i", "cseq"):
            lines.append(line)
        elif name in ("to", "t"):
            lines.append(line if ";tag=" in line
                         else line + ";tag=" + secrets.token_hex(4))
    sock.sendto(("SIP/2.0 %d %s\r\n%s\r\nContent-Length: 0\r\n\r\n"
                 % (status, reason, "\r\n".join(lines))).encode(), src)


# -- ownership ---------------------------------------------------------------

def test_takeover_from_another_address_is_refused(service):
    with SipUdpClient(service.sip_server) as owner, \
            SipUdpClient(service.sip_server, host="127.0.0.2") as other:
        assert owner.register("100", expires=120).status == 200
        before = get_line(service, "100")
        log = EventLog(service)
        since = service.log_size()

        resp = other.register("100", expires=120)
        assert resp.status == 403, resp.raw
        ev = log.wait("line.takeover_refused")
        assert ev["data"] == {"line": "100", "source": other.hostport}
        service.wait_log(r"line 100: REGISTER from 127\.0\.0\.2:%d refused:"
                         r" the line is registered from 127\.0\.0\.1:%d"
                         % (other.port, owner.port), 5, since)

        # nor may it remove the binding
        assert other.register("100", expires=0).status == 403
        assert other.register("100", headers={
            "Contact": "*", "Expires": "0"}).status == 403
        after = get_line(service, "100")
        assert stable(after) == stable(before)
        assert after["registered"] is True

        # said once a minute per line and address, counted every time
        assert len(log.find("line.takeover_refused")) == 1
        assert service.metrics()[
            "sipphone_lines_takeovers_refused_total"] == 3
        assert [e["type"] for e in log.find()] == ["line.takeover_refused"]

        # the owner's address from another port (a rebooted phone) may
        with SipUdpClient(service.sip_server) as rebooted:
            assert rebooted.register("100", expires=120).status == 200
            assert get_line(service, "100")["source"] == rebooted.hostport
            # once it unregisters, the line is anyone's
            assert rebooted.register("100", expires=0).status == 200
        assert other.register("100", expires=120).status == 200
        line = get_line(service, "100")
        assert (line["registered"], line["source"]) == (True,
                                                        other.hostport)
    assert_healthy(service)


def test_contact_maddr_is_never_followed(service):
    """A Contact with ;maddr= (with its own host, or another) still rings
    the phone at the address it registered from, never at maddr."""
    trap = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    trap.bind(("127.0.0.3", 0))
    trap_port = trap.getsockname()[1]
    try:
        with SipUdpClient(service.sip_server) as phone:
            for contact in ("<sip:100@192.0.2.1:%d;maddr=127.0.0.3>"
                            % trap_port,
                            "<sip:100@%s;maddr=127.0.0.3>" % phone.hostport):
                assert phone.register("100", contact=contact,
                                      expires=120).status == 200
                assert get_line(service, "100")["contact"] == \
                    contact.strip("<>")
                log = EventLog(service)
                cid = api_ok(service, "POST", "/api/v1/calls",
                             {"line": "100"}, 201)["id"]

                invite, src = read_request(phone.sock, "INVITE")
                assert b"maddr" not in invite.split(b"\r\n")[0], invite
                reply_to(phone.sock, invite, src, 486, "Busy Here")
                ended = log.wait("call.ended", call=cid)
                assert ended["data"]["reason"] == "busy", ended

                trap.settimeout(0.3)
                try:
                    data, _ = trap.recvfrom(65536)
                    raise AssertionError("maddr got %r" % data[:80])
                except socket.timeout:
                    pass
    finally:
        trap.close()
    assert_healthy(service)


# -- UTF-8 -------------------------------------------------------------------

def test_non_utf8_user_agent_keeps_lists_working(service):
    log = EventLog(service)
    with SipUdpClient(service.sip_server) as c:
        data, branch = c.build("REGISTER", "sip:%s" % service.sip_server,
                               c.register_headers("100", expires=120,
                                                  user_agent="UA-MARK"))
        c.send(data.replace(b"UA-MARK", b"\xff\xfe"))
        assert c.wait_response(branch).status == 200

        data, branch = c.build("REGISTER", "sip:%s" % service.sip_server,
                               c.register_headers("101", expires=120,
                                                  user_agent="UA-MARK"))
        c.send(data.replace(b"UA-MARK", b"HT802 \xc0\xaf \xed\xa0\x80"
                            b" caf\xc3\xa9 \x1b[0m"))
        assert c.wait_response(branch).status == 200

    lists_answer(service)
    assert get_line(service, "100")["user_agent"] == FFFD * 2
    assert get_line(service, "101")["user_agent"] == \
        "HT802 %s %s caf\u00e9 %s[0m" % (FFFD * 2, FFFD * 3, FFFD)
    lines = api_ok(service, "GET", "/api/v1/lines")["lines"]
    assert [ln["user_agent"] for ln in lines] == [
        FFFD * 2, get_line(service, "101")["user_agent"]]
    ev = log.wait("line.registered", line="100")
    assert ev["data"]["user_agent"] == FFFD * 2

    # and the same after a restart, from the store
    service.restart()
    lists_answer(service)
    assert get_line(service, "100")["user_agent"] == FFFD * 2


def test_non_utf8_caller_name_and_digits_keep_lists_working(service):
    log = EventLog(service)
    with RawPhone(service.sip_server, line="300") as ph:
        assert ph.register().status == 200
        uri = ph.uri("DIAL-MARK")
        call_id = "sipraw-%s@%s" % (secrets.token_hex(8), ph.host)
        headers = ph.phone_headers("INVITE", "<%s>" % uri, call_id,
                                   ph.next_cseq())
        headers = [(n, '"NAME-MARK" ' + v if n == "From" else v)
                   for n, v in headers]
        data, branch = ph.build("INVITE", uri, headers + [
            ("Content-Type", "application/sdp")], ph.sdp())
        ph.send(data.replace(b"NAME-MARK", b"\xff\xfe caller")
                .replace(b"DIAL-MARK", b"12\xff"))

        inc = log.wait("call.incoming", line="300")
        cid = inc["data"]["call"]
        assert inc["data"]["dialed"] == "12" + FFFD, inc
        lists_answer(service)
        call = api_ok(service, "GET", "/api/v1/calls/%s" % cid)
        assert call["dialed"] == "12" + FFFD
        assert call["from"].startswith("sip:300@"), call

        api_ok(service, "DELETE", "/api/v1/calls/%s" % cid)
        log.wait("call.ended", call=cid)
        resp = ph.wait_response(branch, cseq=None)
        assert resp.status >= 400, resp
    lists_answer(service)


# -- bounds ------------------------------------------------------------------

def test_5000_users_leave_a_bounded_table(service_factory):
    svc = service_factory(httpctl_sip_rate="off")
    pid = svc.proc.pid
    with SipUdpClient(svc.sip_server) as c:
        rss0, cpu0, t0 = rss_kb(pid), cpu_s(pid), time.monotonic()
        answers = pipelined(c, registers(c, ["u%d" % i
                                             for i in range(5000)]))
        t1, cpu1, rss1 = time.monotonic(), cpu_s(pid), rss_kb(pid)

        assert Counter(answers.values()) == {200: 64, 503: 4936}
        lines = api_ok(svc, "GET", "/api/v1/lines")["lines"]
        assert len(lines) == 64 and all(ln["registered"] for ln in lines)
        m = svc.metrics()
        assert m["sipphone_lines_known"] == 64
        assert m["sipphone_lines_full_total"] == 4936

        # a known line keeps working; a new one is still refused
        known = lines[0]["id"]
        assert c.register(known, expires=120).status == 200
        assert c.register("stranger", expires=120).status == 503

        # a second wave of other users changes nothing
        answers = pipelined(c, registers(c, ["v%d" % i
                                             for i in range(5000)]))
        rss2 = rss_kb(pid)
        assert Counter(answers.values()) == {503: 5000}
        assert len(api_ok(svc, "GET", "/api/v1/lines")["lines"]) == 64

        took = []
        for _ in range(20):
            s = time.monotonic()
            status, _, _ = svc.api("GET", "/api/v1/lines")
            took.append(time.monotonic() - s)
            assert status == 200
    took.sort()
    print("\n5000 REGISTERs of new users: %.2f s, service CPU %.2f s;"
          " VmRSS %d kB -> %d kB (%+d kB), after 5000 more %d kB (%+d kB);"
          " GET /api/v1/lines (64 lines) median %.2f ms, max %.2f ms" % (
              t1 - t0, cpu1 - cpu0, rss0, rss1, rss1 - rss0, rss2,
              rss2 - rss1, took[10] * 1000, took[-1] * 1000))
    lists_answer(svc)
    assert_healthy(svc)


def info(client, call_id, cseq=1):
    """An INFO with a DTMF digit outside any dialog (a stranger's)."""
    headers = [("Max-Forwards", "70"),
               ("From", "<sip:flood@%s>;tag=%s" % (client.hostport,
                                                  secrets.token_hex(4))),
               ("To", "<sip:sipphone@%s:%d>;tag=x" % client.server),
               ("Call-ID", call_id), ("CSeq", "%d INFO" % cseq),
               ("Content-Type", "application/dtmf-relay")]
    return client.build("INFO", "sip:sipphone@%s:%d" % client.server,
                        headers, "Signal=5\r\nDuration=160\r\n")


def test_stray_info_floods_leave_nothing_behind(service_factory):
    svc = service_factory(httpctl_sip_rate="off")
    pid = svc.proc.pid
    rss = [rss_kb(pid)]
    with SipUdpClient(svc.sip_server, host="127.0.0.2") as c:
        for _ in range(3):
            answers = pipelined(c, [info(c, "stray-" + secrets.token_hex(8))
                                    for _ in range(5000)])
            assert Counter(answers.values()) == {481: 5000}
            assert svc.metrics()["sipphone_sip_dialogs_traced"] == 0
            rss.append(rss_kb(pid))
    print("\n3 floods of 5000 stray INFOs, new Call-IDs: VmRSS %s kB"
          " (%+d kB from the first flood to the third)"
          % (" -> ".join(str(r) for r in rss), rss[3] - rss[1]))

    # the trace still follows a call's own INFO, and forgets it after
    log = EventLog(svc)
    with RawPhone(svc.sip_server, line="300") as ph:
        assert ph.register().status == 200
        ph.invite("1234")
        cid = log.wait("call.incoming", line="300")["data"]["call"]
        api_ok(svc, "POST", "/api/v1/calls/%s/answer" % cid)
        ph.established()
        assert ph.info("Signal=5\r\nDuration=160\r\n").status == 200
        digit = log.wait("dtmf", call=cid)
        assert digit["data"]["method"] == "info", digit
        assert svc.metrics()["sipphone_sip_dialogs_traced"] == 1
        assert ph.bye().status == 200
        log.wait("call.ended", call=cid)
    wait_until(lambda: svc.metrics()["sipphone_sip_dialogs_traced"] == 0, 5,
               what="the call's notes gone")
    assert_healthy(svc)
