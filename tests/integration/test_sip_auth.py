"""SIP digest auth (httpctl_sip_auth) against real SIP peers.

The service runs with passwords for lines 100 and 101. A stock baresip
(the fake HT802 port, with `auth_pass`) and linphonec (with an
auth_info) register and call through with them; a wrong password gets
neither a line nor a call. Hand-built requests (sipphone_test.sipraw)
check the challenges themselves: their headers, that an unknown user
gets exactly what a known one gets, stale and replayed nonces, the
gate's 407 to INVITEs and the ACK that follows. Debian's sipvicious
(svwar, svcrack, svmap) finds no line, cracks no password and leaves
the service and its phone as they were.
"""

import hashlib
import re
import secrets
import subprocess
import time

import pytest

from helpers import EventLog, api_ok, assert_healthy, phone_events, ring
from sipphone_test.fakephone import FakePhone
from sipphone_test.linphone import Linphone
from sipphone_test.service import Service
from sipphone_test.sipraw import RawPhone, SipUdpClient

REALM = "sipphone.test"
PASSWORDS = {"100": "Hunter2-" + secrets.token_hex(4),
             "101": "pa:ss-" + secrets.token_hex(4)}   # ':' is allowed
NONCE_RE = re.compile(r"^[0-9a-f]{64}$")


def auth_config(**more):
    cfg = {"httpctl_sip_auth": ["%s:%s" % kv for kv in PASSWORDS.items()],
           "httpctl_sip_realm": REALM}
    cfg.update(more)
    return cfg


@pytest.fixture
def auth_service(service_factory):
    """The service with passwords for lines 100 and 101."""
    return service_factory(**auth_config())


# -- a digest client ---------------------------------------------------------

def challenge_params(value):
    """{name: value} of a 'Digest k=v, k="v"' challenge; the scheme as
    '_scheme', the names in order as '_order'."""
    scheme, _, rest = value.partition(" ")
    params = {"_scheme": scheme, "_order": []}
    for m in re.finditer(r'\s*([A-Za-z0-9_-]+)=("([^"]*)"|[^,\s]+)\s*,?',
                         rest):
        name = m.group(1).lower()
        params[name] = m.group(3) if m.group(3) is not None else m.group(2)
        params["_order"].append(name)
    return params


def _h(algorithm, text):
    fn = hashlib.sha256 if algorithm == "SHA-256" else hashlib.md5
    return fn(text.encode("utf-8")).hexdigest()


def credentials(chal, method, uri, user, password, nc=1, cnonce=None,
                qop=True, username=None):
    """The Authorization value a client knowing password sends to the
    challenge chal (challenge_params())."""
    algorithm = chal.get("algorithm", "MD5")
    ha1 = _h(algorithm, "%s:%s:%s" % (username or user, chal["realm"],
                                       password))
    ha2 = _h(algorithm, "%s:%s" % (method, uri))
    cnonce = cnonce or secrets.token_hex(4)
    if qop:
        resp = _h(algorithm, "%s:%s:%08x:%s:auth:%s" % (
            ha1, chal["nonce"], nc, cnonce, ha2))
        extra = ', qop=auth, nc=%08x, cnonce="%s"' % (nc, cnonce)
    else:
        resp = _h(algorithm, "%s:%s:%s" % (ha1, chal["nonce"], ha2))
        extra = ""
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=%s%s' % (
                username or user, chal["realm"], chal["nonce"], uri, resp,
                algorithm, extra))


def register_uri(client):
    return "sip:%s:%d" % client.server


def challenged_register(client, line, expires=60):
    """REGISTER without credentials: the 401 and its challenge."""
    r = client.register(line, expires=expires)
    assert r.status == 401, r.raw
    chals = r.all("www-authenticate")
    assert len(chals) == 1, r.raw
    return r, challenge_params(chals[0])


def register_with(client, line, chal, password, nc=1, expires=60, **kw):
    auth = credentials(chal, "REGISTER", register_uri(client), line,
                       password, nc, **kw)
    return client.register(line, expires=expires,
                           headers={"Authorization": auth})


def registered_lines(svc):
    return {l["id"]: l for l in api_ok(svc, "GET", "/api/v1/lines")["lines"]
            if l["registered"]}


def stable(lines):
    """What must not change of registered lines (expires_s ticks)."""
    return {i: {k: l[k] for k in ("contact", "source", "user_agent",
                                   "registered_at")}
            for i, l in lines.items()}


def header_names(resp):
    """The header names of a response, in order, lower case."""
    head = resp.raw.decode("utf-8", "replace").split("\r\n\r\n")[0]
    return [h.split(":", 1)[0].strip().lower()
            for h in head.split("\r\n")[1:]]


# -- peers with passwords ----------------------------------------------------

class AuthPhone(FakePhone):
    """A fake HT802 port whose account has a password (baresip's
    auth_pass; the digest username is the line, as on an HT802 whose
    Authenticate ID is left empty)."""

    def __init__(self, password, **kwargs):
        super().__init__(**kwargs)
        self.password = password

    @property
    def account(self):
        return super().account + ";auth_pass=%s" % self.password


class AuthLinphone(Linphone):
    """linphonec with an auth_info for its line."""

    def __init__(self, password, **kwargs):
        super().__init__(**kwargs)
        self.password = password

    def rc_text(self):
        return super().rc_text() + (
            "[auth_info_0]\nusername=%s\nuserid=%s\npasswd=%s\nrealm=%s\n"
            % (self.line, self.line, self.password, REALM))


@pytest.fixture
def peers(request):
    """peers(peer) -> peer.start(); every peer is stopped at teardown,
    before the services they talk to (their logs printed on failure)."""
    started = []

    def start(peer):
        started.append(peer)
        return peer.start()

    yield start
    failed = getattr(request.node, "rep_call", None) is not None and \
        request.node.rep_call.failed
    for peer in reversed(started):
        peer.stop()
        if failed:
            print("\n--- %s %s log (tail) ---\n%s" % (
                type(peer).__name__, peer.line, peer.log_tail(40)))


def auth_phone(peers, svc, line, password, **kwargs):
    return peers(AuthPhone(password, server=svc.sip_server, line=line,
                           **kwargs))


# -- real phones ---------------------------------------------------------------

def test_baresip_phone_registers_and_calls_with_its_password(
        service_factory, peers):
    svc = service_factory(**auth_config(httpctl_log_level="debug"))
    log = EventLog(svc)
    phone = auth_phone(peers, svc, "100", PASSWORDS["100"], answer="manual")
    phone.wait_registered(10)
    log.wait("line.registered", line="100")
    line = api_ok(svc, "GET", "/api/v1/lines/100")
    assert line["registered"] is True
    assert line["source"].startswith("127.0.0.1:"), line

    # the API rings it (calls to the phone are not challenged) ...
    cid = ring(svc, phone)
    api_ok(svc, "DELETE", "/api/v1/calls/%s" % cid)
    log.wait("call.ended", call=cid)

    # ... and it calls: its INVITE gets a 407, baresip answers it
    m = phone.mark()
    since = log.mark()
    phone.dial("4711")
    inc = log.wait("call.incoming", since=since, line="100")
    assert inc["data"]["dialed"] == "4711"
    cid = inc["data"]["call"]
    api_ok(svc, "POST", "/api/v1/calls/%s/answer" % cid)
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    api_ok(svc, "DELETE", "/api/v1/calls/%s" % cid)
    log.wait("call.ended", call=cid)

    # both went through a challenge first
    text = svc.log_text()
    assert re.search(r"REGISTER from 127\.0\.0\.1:\d+: challenged", text)
    assert re.search(r"INVITE from 127\.0\.0\.1:\d+: challenged", text)


def test_baresip_phone_with_a_wrong_password_gets_no_line_and_no_call(
        auth_service, peers):
    svc = auth_service
    log = EventLog(svc)
    phone = auth_phone(peers, svc, "100", "not-the-password")
    ev = phone.wait_event(lambda e: e.get("type") in (
        "REGISTER_OK", "REGISTER_FAIL"), 10)
    assert ev["type"] == "REGISTER_FAIL", ev
    assert "403" in ev.get("param", ""), ev
    assert "100" not in registered_lines(svc)
    assert svc.wait_log(r"REGISTER for line 100 from 127\.0\.0\.1:\d+: "
                        r"wrong credentials")
    # the password never reaches the log
    assert "not-the-password" not in svc.log_text()
    assert PASSWORDS["100"] not in svc.log_text()

    # it dials: challenged, then refused; no call for the API
    m = phone.mark()
    phone.dial("4711")
    ev = phone.wait_event("CALL_CLOSED", 10, since=m)
    assert "403" in ev.get("param", ""), ev
    assert log.find("call.incoming") == []
    assert not phone_events(phone, "CALL_ESTABLISHED", m)


@pytest.mark.parametrize("sha256", ["no", "yes"])
def test_linphone_registers_and_calls_with_its_password(service_factory,
                                                        peers, sha256):
    svc = service_factory(**auth_config(httpctl_sip_sha256=sha256))
    log = EventLog(svc)
    lp = peers(AuthLinphone(PASSWORDS["101"], line="101",
                            server=svc.sip_server))
    lp.wait_registered(10)
    log.wait("line.registered", line="101")

    # linphone took the first algorithm offered: SHA-256 when offered
    sent = re.findall(r"^(?:Proxy-)?Authorization:\s+Digest ([^\r\n]*)",
                      lp.log_path.read_text(errors="replace"), re.M)
    assert sent
    algos = set()
    for cred in sent:
        m = re.search(r"algorithm=([A-Z0-9-]+)", cred)
        algos.add(m.group(1) if m else "MD5")
    assert algos == ({"SHA-256"} if sha256 == "yes" else {"MD5"}), algos

    # it dials (its INVITE is challenged with a 407) ...
    since = log.mark()
    lp.call("sip:4711@%s" % svc.sip_server)
    inc = log.wait("call.incoming", since=since, line="101")
    cid = inc["data"]["call"]
    api_ok(svc, "POST", "/api/v1/calls/%s/answer" % cid)
    lp.wait_output(r"Call \d+ with .* connected", 5)
    api_ok(svc, "DELETE", "/api/v1/calls/%s" % cid)
    log.wait("call.ended", call=cid)
    lp.wait_output(r"Call \d+ with .* ended", 5)

    # ... and the API rings it
    mark = lp.mark()
    cid = api_ok(svc, "POST", "/api/v1/calls", {"line": "101"}, 201)["id"]
    lp.wait_output(r"Receiving new incoming call", 5, since=mark)
    api_ok(svc, "DELETE", "/api/v1/calls/%s" % cid)
    log.wait("call.ended", call=cid)


# -- the challenges, by hand ---------------------------------------------------

def test_register_challenge_and_answer(auth_service):
    svc = auth_service
    with SipUdpClient(svc.sip_server) as c:
        r, chal = challenged_register(c, "100")
        assert chal["_scheme"] == "Digest"
        assert chal["_order"] == ["realm", "nonce", "algorithm", "qop"]
        assert chal["realm"] == REALM and chal["algorithm"] == "MD5"
        assert chal["qop"] == "auth"
        assert NONCE_RE.match(chal["nonce"]), chal
        assert r.header("contact") is None
        assert "100" not in registered_lines(svc)

        r = register_with(c, "100", chal, PASSWORDS["100"], expires=120)
        assert r.status == 200, r.raw
        assert r.header("contact"), r.raw
        line = registered_lines(svc)["100"]
        assert line["source"] == c.hostport

        # a retransmission of that very REGISTER: the same answer
        assert c.retransmit().status == 200

        # unregister: it needs credentials too
        r = c.register("100", headers={"Contact": "*", "Expires": "0"})
        assert r.status == 401
        assert "100" in registered_lines(svc)
        chal = challenge_params(r.header("www-authenticate"))
        auth = credentials(chal, "REGISTER", register_uri(c), "100",
                           PASSWORDS["100"])
        r = c.register("100", headers={"Contact": "*", "Expires": "0",
                                       "Authorization": auth})
        assert r.status == 200, r.raw
        assert "100" not in registered_lines(svc)


def test_register_without_qop(auth_service):
    """RFC 2069 clients answer without qop: good, once per nonce."""
    with SipUdpClient(auth_service.sip_server) as c:
        _, chal = challenged_register(c, "100")
        assert register_with(c, "100", chal, PASSWORDS["100"],
                             qop=False).status == 200
        r = register_with(c, "100", chal, PASSWORDS["100"], qop=False)
        assert r.status == 401
        assert challenge_params(r.header("www-authenticate")).get(
            "stale") == "true"


def test_unknown_user_gets_what_a_known_one_gets(auth_service):
    """svwar's question, asked by hand: 100 has a password, 555 does
    not exist. Same status, same headers in the same order, the same
    challenge but its nonce; then the same 403 for any password."""
    svc = auth_service
    answers = {}
    with SipUdpClient(svc.sip_server) as c:
        for line in ("100", "555"):
            r, chal = challenged_register(c, line)
            first = (r.status, r.reason, header_names(r),
                     {k: v for k, v in chal.items() if k != "nonce"})
            r = register_with(c, line, chal, "guess-" + line)
            second = (r.status, r.reason, header_names(r))
            # another line's password
            r = register_with(c, line, chal, PASSWORDS["101"], nc=2)
            third = (r.status, r.reason, header_names(r))
            answers[line] = (first, second, third)
    assert answers["100"] == answers["555"], answers
    assert answers["100"][1][0] == 403 and answers["100"][2][0] == 403
    assert registered_lines(svc) == {}
    # no line is made for a user that was only asked about
    lines = api_ok(svc, "GET", "/api/v1/lines")["lines"]
    assert "555" not in [l["id"] for l in lines]

    # the same for INVITEs
    answers = {}
    for line in ("100", "555"):
        with RawPhone(svc.sip_server, line=line) as ph:
            ph.invite("4711")
            r = ph.wait_answer()
            chal = challenge_params(r.header("proxy-authenticate"))
            answers[line] = (r.status, header_names(r),
                             {k: v for k, v in chal.items()
                              if k != "nonce"})
    assert answers["100"] == answers["555"], answers
    assert answers["100"][0] == 407


def test_stale_nonce(service_factory):
    """A nonce older than httpctl_sip_nonce_ttl, with the right password:
    401 stale=true, and a new nonce works. A wrong password on it is
    still a 403."""
    svc = service_factory(**auth_config(httpctl_sip_nonce_ttl="1"))
    with SipUdpClient(svc.sip_server) as c:
        _, chal = challenged_register(c, "100")
        born = time.monotonic()
        assert register_with(c, "100", chal, PASSWORDS["100"]).status \
            == 200
        # what is tested is the nonce's age itself: let it pass 1 s
        time.sleep(max(0.0, 1.2 - (time.monotonic() - born)))
        r = register_with(c, "100", chal, PASSWORDS["100"], nc=2)
        assert r.status == 401, r.raw
        fresh = challenge_params(r.header("www-authenticate"))
        assert fresh.get("stale") == "true"
        assert fresh["nonce"] != chal["nonce"]
        r = register_with(c, "100", chal, "wrong", nc=3)
        assert r.status == 403
        assert register_with(c, "100", fresh, PASSWORDS["100"]).status \
            == 200


def test_nonce_from_before_a_restart_is_stale(auth_service):
    svc = auth_service
    with SipUdpClient(svc.sip_server) as c:
        _, chal = challenged_register(c, "100")
        svc.restart()
        r = register_with(c, "100", chal, PASSWORDS["100"])
        assert r.status == 401, r.raw
        assert challenge_params(r.header("www-authenticate")).get(
            "stale") == "true"


def test_replayed_nonce_count(auth_service):
    """nonce-count must grow per nonce: the same count on another
    request is a replay (stale=true, a fresh challenge); a higher one is
    fine; a lower one is not."""
    svc = auth_service
    with SipUdpClient(svc.sip_server) as c:
        _, chal = challenged_register(c, "100")
        good = credentials(chal, "REGISTER", register_uri(c), "100",
                           PASSWORDS["100"], nc=1)
        assert c.register("100", expires=60,
                          headers={"Authorization": good}).status == 200

        # the same Authorization in a new request (a captured one,
        # sent again by someone else)
        with SipUdpClient(svc.sip_server) as spy:
            r = spy.register("100", expires=60,
                             headers={"Authorization": good})
            assert r.status == 401, r.raw
            assert challenge_params(r.header("www-authenticate")).get(
                "stale") == "true"
        assert registered_lines(svc)["100"]["source"] == c.hostport

        assert register_with(c, "100", chal, PASSWORDS["100"],
                             nc=3).status == 200
        r = register_with(c, "100", chal, PASSWORDS["100"], nc=2)
        assert r.status == 401
        assert register_with(c, "100", chal, PASSWORDS["100"],
                             nc=4).status == 200


def recv_count(svc, method, since=0):
    """SIP requests of method that reached libre (the SIP trace logs
    every message it gets at debug level)."""
    return len(re.findall(r"SIP recv UDP [^\n]*\n%s " % method,
                          svc.log_from(since)))


def test_invite_challenge_by_the_gate(service_factory):
    """The gate answers an INVITE without credentials with a 407 of its
    own (libre never sees it): a retransmission gets one too, with the
    same To tag; the ACK is absorbed. With credentials the call reaches
    the API; the same credentials again are a replay."""
    svc = service_factory(**auth_config(httpctl_log_level="debug"))
    log = EventLog(svc)
    since_log = svc.log_size()
    with RawPhone(svc.sip_server, line="100") as ph:
        _, chal = challenged_register(ph, "100")
        assert register_with(ph, "100", chal, PASSWORDS["100"]).status \
            == 200

        ph.invite("4711")
        r1 = ph.wait_answer()            # ACKed, in the INVITE's branch
        assert r1.status == 407, r1.raw
        assert r1.header("www-authenticate") is None
        chal = challenge_params(r1.header("proxy-authenticate"))
        assert chal["realm"] == REALM and NONCE_RE.match(chal["nonce"])
        assert ";tag=" in r1.header("to")
        assert ph.no_response(0.3)       # nothing answers the ACK

        r2 = ph.retransmit()
        assert r2.status == 407
        assert r2.header("to") == r1.header("to")
        assert challenge_params(r2.header("proxy-authenticate"))["nonce"] \
            != chal["nonce"]
        assert log.find("call.incoming") == []

        # the INVITE again, in the same call, with credentials
        call_id = r1.header("call-id")
        auth = credentials(chal, "INVITE", ph.uri("4711"), "100",
                           PASSWORDS["100"])
        ph.invite("4711", headers=[("Proxy-Authorization", auth)],
                  call_id=call_id)
        inc = log.wait("call.incoming", line="100")
        cid = inc["data"]["call"]
        api_ok(svc, "POST", "/api/v1/calls/%s/answer" % cid)
        ph.established()
        assert ph.bye().status == 200
        log.wait("call.ended", call=cid)

        # the same credentials in a new INVITE: a replay
        ph.invite("4711", headers=[("Proxy-Authorization", auth)])
        r = ph.wait_answer()
        assert r.status == 407, r.raw
        assert challenge_params(r.header("proxy-authenticate")).get(
            "stale") == "true"
        assert len(log.find("call.incoming")) == 1

        # a wrong password, as Authorization (after a 401): 403
        auth = credentials(chal, "INVITE", ph.uri("4711"), "100", "wrong")
        ph.invite("4711", headers=[("Authorization", auth)])
        assert ph.wait_answer().status == 403

    # libre saw only the INVITE with good credentials, and the ACK to
    # its 200: none of the others, none of the ACKs to the gate's answers
    assert recv_count(svc, "INVITE", since_log) == 1
    assert recv_count(svc, "ACK", since_log) == 1
    assert recv_count(svc, "REGISTER", since_log) == 2


def test_line_without_password_may_not_register_when_auth_is_on(
        auth_service, peers):
    """With any password configured, a line without one gets the
    challenge and can never answer it: no line by source address alone."""
    svc = auth_service
    phone = peers(FakePhone(server=svc.sip_server, line="300"))
    ev = phone.wait_event(lambda e: e.get("type") in (
        "REGISTER_OK", "REGISTER_FAIL"), 10)
    assert ev["type"] == "REGISTER_FAIL", ev
    assert "300" not in registered_lines(svc)


def test_bad_config_stops_the_service():
    """A bad value stops the service at start with a clear line, and no
    password in it."""
    for overrides, expect in (
            ({"httpctl_sip_auth": "100"}, "httpctl_sip_auth: not "
             "<line>:<password>"),
            ({"httpctl_sip_auth": ["100:a", "100:b"]}, "line '100' given "
             "twice"),
            ({"httpctl_sip_auth": "1@0:secretpw"}, "'1@0' needs a line id"),
            ({"httpctl_sip_rate": "fast"}, "httpctl_sip_rate: 'fast'"),
            ({"httpctl_sip_nonce_ttl": "0"}, "httpctl_sip_nonce_ttl: '0'"),
            ({"httpctl_sip_sha256": "maybe"}, "httpctl_sip_sha256: 'maybe'"),
            ({"httpctl_sip_realm": "a\\b"}, "httpctl_sip_realm: 'a\\b'")):
        svc = Service(overrides=overrides)
        try:
            with pytest.raises(RuntimeError, match="exited"):
                svc.start(timeout=10)
                pytest.fail("started with %r" % overrides)
            text = svc.log_text()
            assert expect in text, (overrides, svc.log_tail())
            assert "cannot start" in text
            assert "secretpw" not in text
        finally:
            svc.stop()
            svc.cleanup()


# -- sipvicious ------------------------------------------------------------------

def run_tool(*argv, timeout=120):
    p = subprocess.run(list(argv), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def test_svwar_enumerates_no_line(auth_service, peers):
    """A scan of 90-120 by REGISTER, INVITE and OPTIONS (with --force,
    past svwar's own doubts) finds nothing, although 100 is configured
    and registered; no line appears, the phone keeps it. (The scanner
    sends from the phone's own address, 127.0.0.1: the rate limit of a
    registered phone's address, ten times a stranger's, applies.)"""
    svc = auth_service
    phone = auth_phone(peers, svc, "100", PASSWORDS["100"])
    phone.wait_registered(10)
    before = registered_lines(svc)["100"]

    for extra in ([], ["--force"], ["--force", "-m", "INVITE"],
                  ["--force", "-m", "OPTIONS"]):
        code, out = run_tool("svwar", "-e90-120", "-p", str(svc.sip_port),
                             *extra, "127.0.0.1")
        assert code == 0, out
        assert "found nothing" in out, (extra, out)
        assert "exists" not in out and "| Extension" not in out, out

    lines = api_ok(svc, "GET", "/api/v1/lines")["lines"]
    assert [l["id"] for l in lines] == ["100"], lines
    now = registered_lines(svc)["100"]
    assert now["source"] == before["source"], now
    assert now["contact"] == before["contact"]


def test_svcrack_cracks_nothing(auth_service, peers, tmp_path):
    svc = auth_service
    phone = auth_phone(peers, svc, "100", PASSWORDS["100"])
    phone.wait_registered(10)
    before = registered_lines(svc)["100"]
    words = tmp_path / "words.txt"

    # the control: with the password in its list svcrack gets in (it
    # registers line 101, nobody's), so the run below is a real attempt.
    # (svcrack prints "[no password]" for a password with ':' in it.)
    words.write_text("1234\n%s\n" % PASSWORDS["101"])
    code, out = run_tool("svcrack", "-u101", "-d", str(words), "-p",
                         str(svc.sip_port), "127.0.0.1")
    assert re.search(r"\|\s*101\s*\|", out), out
    assert registered_lines(svc)["101"]["user_agent"] == "friendly-scanner"

    words.write_text("\n".join(["1234", "0000", "100", "password", "admin",
                                "secret", "hunter2", "Hunter2", "letmein",
                                "sipphone", REALM, "qwerty",
                                PASSWORDS["100"]]) + "\n")
    code, out = run_tool("svcrack", "-u100", "-d", str(words), "-p",
                         str(svc.sip_port), "127.0.0.1")
    assert code == 0, out
    assert "found nothing" in out, out
    assert "| Password" not in out
    assert registered_lines(svc)["100"]["source"] == before["source"]
    # after ten wrong guesses in a minute even the right password (last
    # in the list) is refused from that address
    assert svc.wait_log(r"127\.0\.0\.1 gave 10 wrong SIP credentials in"
                        r" a minute")


def test_svmap_leaves_the_service_and_its_phone_alone(auth_service, peers):
    svc = auth_service
    log = EventLog(svc)
    phone = auth_phone(peers, svc, "100", PASSWORDS["100"],
                       answer="manual")
    phone.wait_registered(10)
    before = stable(registered_lines(svc))

    code, out = run_tool("svmap", "-p", str(svc.sip_port), "127.0.0.1")
    assert code == 0, out
    assert "127.0.0.1:%d" % svc.sip_port in out, out

    assert_healthy(svc)
    assert stable(registered_lines(svc)) == before
    cid = ring(svc, phone)
    api_ok(svc, "DELETE", "/api/v1/calls/%s" % cid)
    log.wait("call.ended", call=cid)
