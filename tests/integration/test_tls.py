"""HTTPS and WSS on the API port (httpctl_tls_cert, httpctl_tls_key,
httpctl_tls_plain) with real processes.

A CA and a server certificate for localhost and 127.0.0.1 are made once
by scripts/make-cert. The service runs on loopback as in the other
tests, through the harness's Service with an ssl_context: https:// and
wss:// with that CA (its start waits for GET /healthz over HTTPS).

Covered: the files make-cert writes; curl (Debian's, OpenSSL) with the
CA: /healthz, an authenticated request, the console page, HTTP/1.1
(never h2), and the certificate really checked (no CA: refused); a WSS
client: the hello, events, and a call's audio both ways; plain HTTP on
the TLS port for each httpctl_tls_plain setting; TLS 1.0 and 1.1 refused
and 1.2 and 1.3 served, with the system's OpenSSL policy out of the way;
bad certificate settings stop the service with a log line that names the
file and the reason.

Waits are on conditions with deadlines (GET /healthz, events, frames,
the phone's recording).
"""

import http.client
import json
import os
import re
import socket
import ssl
import stat
import subprocess
import time
from pathlib import Path

import pytest

from helpers import EventLog, api_ok, wait_until
from sipphone_test import audio
from sipphone_test.ports import free_port
from sipphone_test.service import Service, _parse, paths
from sipphone_test.wsclient import HandshakeError, WSClient

RATE = 8000
LINE = "100"
_DEFAULT = object()


# -- certificates ------------------------------------------------------------

def make_cert(out, *args):
    """Run scripts/make-cert --out out ARGS; returns its stdout."""
    src, _ = paths()
    res = subprocess.run([str(src / "scripts" / "make-cert"), "--out",
                          str(out)] + list(args), capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


class Certs:
    def __init__(self, path):
        self.dir = Path(path)
        self.ca = self.dir / "ca.crt"
        self.cert = self.dir / "server.crt"
        self.key = self.dir / "server.key"

    def overrides(self):
        return {"httpctl_tls_cert": str(self.cert),
                "httpctl_tls_key": str(self.key)}


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    out = tmp_path_factory.mktemp("tls") / "certs"
    make_cert(out, "--host", "localhost", "--ip", "127.0.0.1")
    return Certs(out)


# -- the service over TLS ----------------------------------------------------

@pytest.fixture
def tls_factory(request, certs):
    """tls_factory(start=True, cafile=certs.ca, **overrides) -> a
    Service over TLS with certs' certificate unless the overrides set
    others; stopped at teardown, its log printed if the test failed."""
    made = []

    def make(start=True, cafile=None, **overrides):
        ov = certs.overrides()
        ov.update(overrides)
        cafile = str(cafile or certs.ca)
        svc = Service(overrides=ov, ssl_context=ssl.create_default_context(
            cafile=cafile))
        svc.cafile = cafile
        made.append(svc)
        return svc.start() if start else svc

    yield make
    rep = getattr(request.node, "rep_call", None)
    failed = rep is not None and rep.failed
    for svc in made:
        svc.stop()
        if failed:
            print("\n--- service log %s (tail) ---\n%s"
                  % (svc.log_path, svc.log_tail(60)))
        else:
            svc.cleanup()


def curl(svc, path, *args, cafile=_DEFAULT, scheme="https"):
    """curl a path of the service; returns (exit code, body, the -w
    line: status and HTTP version)."""
    cmd = ["curl", "-sS", "-o", "-", "-w", "\\n%{http_code} %{http_version}",
           "%s://127.0.0.1:%d%s" % (scheme, svc.http_port, path)]
    if cafile is _DEFAULT:
        cafile = svc.cafile
    if cafile:
        cmd += ["--cacert", str(cafile)]
    res = subprocess.run(cmd + list(args), capture_output=True, text=True,
                         timeout=20)
    body, _, tail = res.stdout.rpartition("\n")
    return res.returncode, body, tail, res.stderr


def plain(svc, request):
    """One raw plain-HTTP exchange on the TLS port: (status, headers with
    lower-case names, body, whether the server closed afterwards)."""
    with socket.create_connection(("127.0.0.1", svc.http_port),
                                  timeout=5) as s:
        s.sendall(request)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            buf += chunk
            head, sep, body = buf.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if sep and m and len(body) >= int(m.group(1)):
                s.settimeout(2)
                try:
                    closed = s.recv(1) == b""
                except socket.timeout:
                    closed = False
                break
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), hdrs, _parse(body), closed


def get(path, host="127.0.0.1", extra=""):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n"
            % (path, host, extra)).encode()


def upgrade(path, host, token=None):
    q = "?token=" + token if token else ""
    return ("GET %s%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            % (path, q, host)).encode()


def assert_https_required(reply, closed=True):
    status, hdrs, body, was_closed = reply
    assert status == 400, reply
    assert body["error"]["code"] == "https_required", body
    assert hdrs["content-type"].startswith("application/json"), hdrs
    assert was_closed == closed, reply


# -- scripts/make-cert -------------------------------------------------------

def test_make_cert_files_names_and_modes(certs, tmp_path):
    for f, mode in (("ca.key", 0o600), ("server.key", 0o600),
                    ("ca.crt", 0o644), ("server.crt", 0o644)):
        assert stat.S_IMODE(os.stat(certs.dir / f).st_mode) == mode, f

    # the server certificate verifies against the CA, for what was asked
    for check in (["-verify_hostname", "localhost"],
                  ["-verify_ip", "127.0.0.1"]):
        res = subprocess.run(["openssl", "verify", "-CAfile",
                              str(certs.ca), "-purpose", "sslserver"]
                             + check + [str(certs.cert)],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
    res = subprocess.run(["openssl", "verify", "-CAfile", str(certs.ca),
                          "-verify_hostname", "example.com",
                          str(certs.cert)], capture_output=True, text=True)
    assert res.returncode != 0

    # defaults: this machine's name, NAME.local, and localhost; it says
    # which lines go into the config
    out = make_cert(tmp_path / "d")
    text = subprocess.run(["openssl", "x509", "-noout", "-ext",
                           "subjectAltName", "-in",
                           str(tmp_path / "d" / "server.crt")],
                          capture_output=True, text=True).stdout
    host = socket.gethostname()
    for name in ("DNS:" + host, "DNS:localhost", "IP Address:127.0.0.1"):
        assert name in text, text
    if "." not in host:
        assert "DNS:%s.local" % host in text, text
    assert "httpctl_tls_cert\t%s/server.crt" % (tmp_path / "d") in out
    assert "httpctl_tls_key\t%s/server.key" % (tmp_path / "d") in out

    # run again: the CA is kept (devices trust it already), the server
    # pair is new
    ca, key = (tmp_path / "d" / "ca.crt").read_bytes(), \
        (tmp_path / "d" / "server.key").read_bytes()
    out = make_cert(tmp_path / "d", "--host", "pi.local", "--ip",
                    "192.168.1.50")
    assert "reused" in out
    assert (tmp_path / "d" / "ca.crt").read_bytes() == ca
    assert (tmp_path / "d" / "server.key").read_bytes() != key

    # the CA vouches only for local names and private addresses: a name
    # outside them is refused, and the old pair is left alone
    key = (tmp_path / "d" / "server.key").read_bytes()
    res = subprocess.run([str(paths()[0] / "scripts" / "make-cert"),
                          "--out", str(tmp_path / "d"), "--host",
                          "example.com"], capture_output=True, text=True)
    assert res.returncode == 1 and "example.com" in res.stderr, res
    assert (tmp_path / "d" / "server.key").read_bytes() == key


# -- HTTPS -------------------------------------------------------------------

def test_https_with_curl_and_the_ca(tls_factory):
    svc = tls_factory()
    assert re.search(r"REST and WebSocket API on https://127\.0\.0\.1:%d"
                     % svc.http_port, svc.log_text())

    rc, body, tail, err = curl(svc, "/healthz")
    assert (rc, json.loads(body), tail) == (0, {"status": "ok"}, "200 1.1")

    # HTTP/1.1 even to a client that offers h2 (curl does by default):
    # the server speaks no h2
    rc, body, tail, err = curl(
        svc, "/api/v1/status", "-H", "Authorization: Bearer " + svc.token)
    assert rc == 0, err
    assert tail == "200 1.1"
    assert json.loads(body)["baresip"] == "1.0.0"

    # the token is still required over TLS
    rc, body, tail, err = curl(svc, "/api/v1/status")
    assert tail.startswith("401"), (body, tail)

    # the certificate is checked: without the CA curl refuses it
    rc, body, tail, err = curl(svc, "/healthz", cafile=None)
    assert rc == 60, (rc, err)           # CURLE_PEER_FAILED_VERIFICATION

    # and so does Python's client, through the harness
    assert api_ok(svc, "GET", "/api/v1/lines")["lines"] == []


def test_console_page_over_https(tls_factory):
    svc = tls_factory()
    rc, body, tail, err = curl(svc, "/")
    assert rc == 0, err
    assert tail == "200 1.1"
    assert "<html" in body.lower()
    # its scripts too (the page opens wss:// when loaded over https)
    srcs = re.findall(r'src="([^"]+\.js)"', body)
    assert srcs, body[:400]
    for src in srcs:
        rc, js, tail, err = curl(svc, "/" + src.lstrip("/"))
        assert (rc, tail) == (0, "200 1.1"), (src, err)
        assert js


def test_many_requests_on_one_connection(tls_factory):
    # keep-alive over TLS: lws parks a connection after each reply and
    # serves the next request once it gets POLLOUT, decrypted bytes may
    # wait inside OpenSSL; either, missed, would cost SERVICE_INTERVAL_MS
    svc = tls_factory()
    conn = http.client.HTTPSConnection("127.0.0.1", svc.http_port,
                                       timeout=5, context=svc.ssl_context)
    times = []
    try:
        for i in range(50):
            t0 = time.monotonic()
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (200, b'{"status":"ok"}')
            times.append(time.monotonic() - t0)
    finally:
        conn.close()
    times.sort()
    assert times[len(times) // 2] < 0.02, times


# -- WSS ---------------------------------------------------------------------

def test_wss_hello_and_events(tls_factory, phone_factory):
    svc = tls_factory()
    log = EventLog(svc)
    ws = svc.ws({"audio": "none"})
    try:
        hello = ws.wait_text(lambda m: isinstance(m, dict)
                             and m.get("type") == "hello", 5)
        assert hello["protocol"] == "sipphone.v1"
        assert hello["audio"] == {"format": "none"}

        phone = phone_factory(line=LINE, server=svc.sip_server)
        phone.wait_registered(10)
        msg = ws.wait_text(lambda m: isinstance(m, dict)
                           and m.get("type") == "event"
                           and m["event"]["type"] == "line.registered", 10)
        assert msg["event"] == log.wait("line.registered", line=LINE)

        # a command round trip
        ws.send_json({"type": "command", "id": "x1", "command": "hangup",
                      "args": {"call": "call_000000000000"}})
        resp = ws.wait_text(lambda m: isinstance(m, dict)
                            and m.get("id") == "x1", 5)
        assert resp["ok"] is False and \
            resp["error"]["code"] == "call_not_found", resp
    finally:
        ws.close()

    # the token is still required over WSS
    with pytest.raises(HandshakeError) as info:
        svc.ws(token="wrong").close()
    assert info.value.status == 401


def sine(freq, seconds, amplitude=0.5):
    return audio.sine(freq, seconds, RATE, amplitude)


def test_call_audio_both_ways_over_wss(tls_factory, phone_factory):
    svc = tls_factory()
    phone = phone_factory(line=LINE, server=svc.sip_server, tone=1000,
                          record=True)
    phone.wait_registered(10)
    ws = svc.ws({"audio": "pcmu"})
    try:
        ws.wait_text(lambda m: isinstance(m, dict)
                     and m.get("type") == "hello", 5)
        log = EventLog(svc)
        m = phone.mark()
        cid = api_ok(svc, "POST", "/api/v1/calls", {"line": LINE},
                     201)["id"]
        log.wait("call.answered", call=cid)
        phone.wait_event("CALL_ESTABLISHED", 5, since=m)

        # phone -> WSS: 20 ms PCMU frames of its 1000 Hz tone
        frames = ws.wait_binary(60, timeout=10)
        assert {len(f) for f in frames} == {160}
        pcm = audio.ulaw_decode(b"".join(frames[10:60]))
        assert abs(audio.dominant_frequency(pcm, RATE) - 1000) <= 5

        # WSS -> phone, sent at real-time pace while frames keep coming
        # in (the client reads and writes one TLS connection at once)
        seconds = 2.0
        data = audio.ulaw_encode(sine(440, seconds, 0.4))
        n0 = len(audio.read_wav(phone.recordings()[-1]).samples)
        t0 = time.monotonic()
        for i in range(0, len(data), 320):
            ahead = i / RATE - (time.monotonic() - t0)
            if ahead > 0.3:
                time.sleep(ahead - 0.3)
            ws.send_binary(data[i:i + 320])
        phone.wait_audio(n0 / RATE + seconds + 1.0, timeout=15)
        rec = audio.read_wav(phone.recordings()[-1]).samples
        loud = [i for i, x in enumerate(rec) if abs(x) > 0.01]
        assert loud, "the phone heard nothing"
        heard = rec[loud[0]:loud[-1] + 1]
        assert abs(len(heard) - len(data)) <= 2, (len(heard), len(data))
        seg = heard[RATE // 4:RATE // 4 + RATE]
        assert abs(audio.dominant_frequency(seg, RATE) - 440) <= 3
        assert ws.closed is False
    finally:
        ws.close()


# -- plain HTTP on the TLS port ----------------------------------------------

def test_plain_http_refused_by_default(tls_factory):
    svc = tls_factory()
    host = "127.0.0.1:%d" % svc.http_port
    assert_https_required(plain(svc, get("/healthz", host)))
    assert_https_required(plain(svc, get("/", host)))
    assert_https_required(plain(svc, upgrade("/api/v1/ws", host)))

    # a token sent in clear is refused, and the log says it travelled so
    since = svc.log_size()
    assert_https_required(plain(svc, get(
        "/api/v1/status", host, "Authorization: Bearer %s\r\n"
        % svc.token)))
    svc.wait_log(r"API token came over plain HTTP", since=since)
    assert_https_required(plain(svc, upgrade("/api/v1/ws", host,
                                             svc.token)))

    # curl's view: a 400 over http://, and https:// still works
    rc, body, tail, err = curl(svc, "/healthz", scheme="http", cafile=None)
    assert tail.startswith("400"), (body, tail)
    assert curl(svc, "/healthz")[2] == "200 1.1"


def test_plain_http_redirect(tls_factory):
    svc = tls_factory(httpctl_tls_plain="redirect")
    host = "127.0.0.1:%d" % svc.http_port

    # a browser's GET: 307 to the same URL over https, path and query kept
    for path, want in (("/", "/"), ("/index.html?a=1&b=x%20y",
                                    "/index.html?a=1&b=x%20y"),
                       ("/a%20b/c", "/a%20b/c")):
        status, hdrs, body, closed = plain(svc, get(path, host))
        assert status == 307, (path, status, body)
        assert hdrs["location"] == "https://%s%s" % (host, want), hdrs
        assert closed

    # curl follows it to the page over TLS
    rc, body, tail, err = curl(svc, "/healthz", "-L", scheme="http")
    assert (rc, tail) == (0, "200 1.1"), (rc, tail, err)
    assert json.loads(body) == {"status": "ok"}

    # anything else is refused: credentials, other methods, WebSocket,
    # a Host that cannot go into a URL
    assert_https_required(plain(svc, get(
        "/api/v1/status", host, "Authorization: Bearer x\r\n")))
    assert_https_required(plain(svc, get("/api/v1/events?token=x", host)))
    assert_https_required(plain(svc, (
        "POST /api/v1/calls HTTP/1.1\r\nHost: %s\r\nContent-Type: "
        "application/json\r\nContent-Length: 2\r\n\r\n{}" % host)
        .encode()))
    assert_https_required(plain(svc, upgrade("/api/v1/ws", host)))
    assert_https_required(plain(svc, get("/", "evil.example/x?")))


def test_plain_http_allow(tls_factory):
    svc = tls_factory(httpctl_tls_plain="allow")
    assert re.search(r"httpctl_tls_plain allow: plain HTTP is served too",
                     svc.log_text())
    rc, body, tail, err = curl(svc, "/api/v1/status", "-H",
                               "Authorization: Bearer " + svc.token,
                               scheme="http", cafile=None)
    assert (rc, tail) == (0, "200 1.1"), (rc, tail, err)
    assert curl(svc, "/healthz")[2] == "200 1.1"

    url = "ws://127.0.0.1:%d/api/v1/ws?token=%s" % (svc.http_port,
                                                    svc.token)
    ws = WSClient(url).connect()
    try:
        hello = ws.wait_text(lambda m: isinstance(m, dict)
                             and m.get("type") == "hello", 5)
        assert hello["protocol"] == "sipphone.v1"
    finally:
        ws.close()


# -- protocol versions -------------------------------------------------------

def s_client(port, version):
    """Try a handshake at one TLS version with a client willing to do any
    (no system policy, security level 0); returns the protocol
    negotiated, or None."""
    env = dict(os.environ, OPENSSL_CONF="/dev/null")
    res = subprocess.run(["openssl", "s_client", "-connect",
                          "127.0.0.1:%d" % port, "-" + version,
                          "-cipher", "DEFAULT:@SECLEVEL=0", "-brief"],
                         input="", capture_output=True, text=True,
                         env=env, timeout=15)
    m = re.search(r"Protocol version: (\S+)", res.stdout + res.stderr)
    return m.group(1) if res.returncode == 0 and m else None


def test_tls_1_0_and_1_1_refused(tls_factory, certs, monkeypatch):
    # control: this client does speak TLS 1.1 to a server that allows it
    port = free_port(udp_and_tcp=False)
    env = dict(os.environ, OPENSSL_CONF="/dev/null")
    srv = subprocess.Popen(
        ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
         "-cert", str(certs.cert), "-key", str(certs.key), "-tls1_1",
         "-cipher", "DEFAULT:@SECLEVEL=0", "-naccept", "1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=env)
    try:
        assert srv.stdout.readline().strip() in (b"ACCEPT",
                                                 b"Using default temp "
                                                 b"DH parameters")
        wait_until(lambda: s_client(port, "tls1_1") == "TLSv1.1", 5,
                   what="a TLS 1.1 handshake with openssl s_server")
    finally:
        srv.kill()
        srv.wait()

    # the service, also without the system's OpenSSL policy (Debian's
    # asks for TLS 1.2 already): the limit is its own (the minimum
    # version, and cipher suites that exist from TLS 1.2 on)
    monkeypatch.setenv("OPENSSL_CONF", "/dev/null")
    svc = tls_factory()
    assert s_client(svc.http_port, "tls1") is None
    assert s_client(svc.http_port, "tls1_1") is None
    assert s_client(svc.http_port, "tls1_2") == "TLSv1.2"
    assert s_client(svc.http_port, "tls1_3") == "TLSv1.3"
    assert svc.running


# -- bad settings stop the service -------------------------------------------

def fails_to_start(svc, pattern):
    """The service exits (code 1) before it answers, and its log has a
    line matching pattern."""
    with pytest.raises(RuntimeError, match="exited with 1"):
        svc.start(timeout=10)
    assert re.search(pattern, svc.log_text()), svc.log_tail(20)


def test_missing_files(tls_factory, certs, tmp_path):
    nowhere = tmp_path / "nowhere.pem"
    fails_to_start(
        tls_factory(start=False, httpctl_tls_cert=str(nowhere)),
        r"TLS certificate %s: No such file or directory" % nowhere)
    fails_to_start(
        tls_factory(start=False, httpctl_tls_key=str(nowhere)),
        r"TLS key %s: No such file or directory" % nowhere)
    fails_to_start(
        tls_factory(start=False, httpctl_tls_cert=str(tmp_path)),
        r"TLS certificate %s: Is a directory" % tmp_path)


def test_unreadable_key(tls_factory, certs, tmp_path):
    key = tmp_path / "server.key"
    key.write_bytes(certs.key.read_bytes())
    key.chmod(0)
    svc = tls_factory(start=False, httpctl_tls_key=str(key))
    if os.geteuid() == 0:
        # root reads any file: run the service without that power
        wrapper = tmp_path / "baresip-nodac"
        wrapper.write_text("#!/bin/sh\nexec setpriv --bounding-set "
                           "-dac_override,-dac_read_search baresip "
                           "\"$@\"\n")
        wrapper.chmod(0o755)
        svc.baresip = str(wrapper)
    fails_to_start(svc, r"TLS key %s: Permission denied" % key)


def test_not_pem_and_mismatched_and_encrypted(tls_factory, certs,
                                              tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("this is not a certificate\n")
    fails_to_start(tls_factory(start=False, httpctl_tls_cert=str(junk)),
                   r"TLS certificate %s: no PEM certificate in it" % junk)
    fails_to_start(tls_factory(start=False, httpctl_tls_key=str(junk)),
                   r"TLS key %s: no PEM private key in it" % junk)
    # the certificate as the key
    fails_to_start(
        tls_factory(start=False, httpctl_tls_key=str(certs.cert)),
        r"TLS key %s: no PEM private key in it" % certs.cert)

    # a key of another certificate
    other = tmp_path / "other"
    make_cert(other, "--host", "localhost", "--ip", "127.0.0.1")
    fails_to_start(
        tls_factory(start=False, httpctl_tls_key=str(other / "server.key")),
        r"TLS key %s: does not match the certificate in %s"
        % (other / "server.key", certs.cert))

    # a key with a passphrase: said so, and no prompt
    enc = tmp_path / "enc.key"
    subprocess.run(["openssl", "pkey", "-in", str(certs.key), "-aes256",
                    "-passout", "pass:secret", "-out", str(enc)],
                   check=True)
    fails_to_start(tls_factory(start=False, httpctl_tls_key=str(enc)),
                   r"TLS key %s: it is encrypted" % enc)


def test_both_keys_or_neither_and_plain_setting(tls_factory, certs):
    fails_to_start(tls_factory(start=False, httpctl_tls_key=None),
                   r"httpctl_tls_cert is set but httpctl_tls_key is not")
    fails_to_start(tls_factory(start=False, httpctl_tls_cert=None),
                   r"httpctl_tls_key is set but httpctl_tls_cert is not")
    fails_to_start(tls_factory(start=False, httpctl_tls_plain="maybe"),
                   r"httpctl_tls_plain: 'maybe' is not refuse, redirect"
                   r" or allow")


def test_relative_paths_are_from_the_config_dir(tls_factory, certs):
    svc = tls_factory(start=False, httpctl_tls_cert="tls/server.crt",
                      httpctl_tls_key="tls/server.key")
    (svc.confdir / "tls").mkdir()
    for f in ("server.crt", "server.key"):
        (svc.confdir / "tls" / f).write_bytes((certs.dir / f).read_bytes())
    svc.start()
    assert curl(svc, "/healthz")[2] == "200 1.1"
