"""Protocol polish and the state directory's hygiene.

- Every answer's status line says HTTP/1.1, refusals included: a refused
  WebSocket upgrade as Python's websockets (401 and 403 as statuses, not
  as a protocol error) and curl see it, a request in HTTP/1.0, the API's
  errors.
- Bytes that are no HTTP request get a JSON 400 (501 for a request line
  with a method nobody knows), then the close.
- The state directory is 0700 and its files 0600 at every start, even
  when they were made otherwise; one owned by another user stops the
  service with a clear line.
- A generated token is never in the log; it is shown once, and only on a
  terminal.
"""

import json
import os
import pty
import re
import socket
import subprocess

import pytest

from helpers import read_to_close, wait_until, ws_status
from sipphone_test import procs

WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def exchange(port, data, timeout=5.0):
    """Send data on a new connection; every byte until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return read_to_close(s, timeout)


def parse(reply):
    """(status line, headers lower-cased, body) of one reply"""
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        hdrs[name.strip().lower()] = value.strip()
    return lines[0], hdrs, body


def upgrade(path, origin=None):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: %s\r\n%s\r\n"
            % (path, WS_KEY, "Origin: %s\r\n" % origin if origin else "")
            ).encode()


# -- HTTP/1.1 everywhere ------------------------------------------------------

def test_websockets_sees_401_and_403(service_factory):
    svc = service_factory()
    url = svc.ws_url + "?token="

    assert ws_status(url + "wrong") == 401
    assert ws_status(url + svc.token, origin="http://evil.example") == 403
    assert ws_status(url + svc.token) == 101

    for path, origin, status in (
            ("/api/v1/ws?token=wrong", None, 401),
            ("/api/v1/ws?token=" + svc.token, "http://evil.example", 403),
            ("/nowhere?token=" + svc.token, None, 404)):
        line, hdrs, body = parse(exchange(svc.http_port,
                                          upgrade(path, origin)))
        assert line.startswith("HTTP/1.1 %d " % status), line
        assert hdrs["connection"] == "close"
        assert json.loads(body)["error"]["code"]


def test_curl_sees_http_11(service_factory):
    svc = service_factory()

    def curl(*args):
        out = subprocess.run(["curl", "-sS", "-i", "--max-time", "5"]
                             + list(args), capture_output=True, timeout=10)
        return out.stdout.decode("latin-1")

    out = curl("-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
               "-H", "Sec-WebSocket-Version: 13",
               "-H", "Sec-WebSocket-Key: " + WS_KEY,
               svc.ws_url.replace("ws://", "http://") + "?token=wrong")
    assert out.startswith("HTTP/1.1 401 Unauthorized\r\n"), out[:200]
    assert "unauthorized" in out

    # an HTTP/1.0 client gets HTTP/1.1, and is told the connection closes
    out = curl("--http1.0", svc.base_url + "/healthz")
    assert out.startswith("HTTP/1.1 200 OK\r\n"), out[:200]
    assert re.search(r"(?im)^connection: close\r$", out), out


def test_http_10_keep_alive_is_said(service_factory):
    svc = service_factory()
    req = b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    with socket.create_connection(("127.0.0.1", svc.http_port), 5) as s:
        for _ in range(2):            # the connection stays for another
            s.sendall(req)
            reply = s.recv(4096)
            line, hdrs, body = parse(reply)
            assert line == "HTTP/1.1 200 OK"
            assert hdrs["connection"] == "keep-alive"
            assert json.loads(body) == {"status": "ok"}


def test_every_refusal_is_http_11(service_factory):
    svc = service_factory()
    port, tok = svc.http_port, svc.token
    auth = "Authorization: Bearer %s\r\n" % tok
    cases = [
        (401, "GET /api/v1/status HTTP/1.1\r\nHost: t\r\n\r\n"),
        (403, "GET /api/v1/status HTTP/1.1\r\nHost: t\r\n%sOrigin: "
              "http://evil.example\r\n\r\n" % auth),
        (404, "GET /api/v1/nowhere HTTP/1.1\r\nHost: t\r\n%s\r\n" % auth),
        (405, "PUT /api/v1/status HTTP/1.1\r\nHost: t\r\n%s"
              "Content-Length: 0\r\n\r\n" % auth),
        (411, "POST /api/v1/calls HTTP/1.1\r\nHost: t\r\n%s"
              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % auth),
        (413, "POST /api/v1/calls HTTP/1.1\r\nHost: t\r\n%s"
              "Content-Length: 99999999\r\n\r\n" % auth),
        (415, "POST /api/v1/calls HTTP/1.1\r\nHost: t\r\n%s"
              "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
              % auth),
        (401, "GET /api/v1/status HTTP/1.0\r\n\r\n"),
    ]
    for status, req in cases:
        req = req.replace("HTTP/1.1\r\n", "HTTP/1.1\r\nConnection: close\r\n")
        line, hdrs, body = parse(exchange(port, req.encode()))
        assert line.startswith("HTTP/1.1 %d " % status), (req, line)
        assert json.loads(body)["error"]["code"], body


def test_bytes_that_are_no_http_get_400(service_factory):
    svc = service_factory()
    since = svc.log_size()
    cases = [
        (b"\x00\x01\x02\xff\xfegarbage\r\n\r\n", 400, "not an HTTP request"),
        (b"hello there\r\n\r\n", 400, "not an HTTP request"),
        # a TLS ClientHello on the plain port
        (bytes.fromhex("160301020001000001fc0303") + os.urandom(32), 400,
         "use http://"),
        (b"BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n", 501,
         "HTTP method not supported"),
    ]
    for data, status, message in cases * 5:
        line, hdrs, body = parse(exchange(svc.http_port, data))
        assert line.startswith("HTTP/1.1 %d " % status), (data, line)
        assert hdrs["content-type"] == "application/json"
        assert hdrs["connection"] == "close"
        assert message in json.loads(body)["error"]["message"]

    assert svc.api("GET", "/healthz", token=None)[0] == 200
    # 20 of them, one log line (at most one every 10 s)
    assert svc.log_from(since).count("no HTTP request") == 1


# -- the state directory ------------------------------------------------------

def modes(path):
    return {p.name: p.lstat().st_mode & 0o7777
            for p in [path] + sorted(path.iterdir())}


def test_state_dir_is_made_private_at_start(service_factory):
    svc = service_factory(start=False, httpctl_token=None)
    state = svc.state_dir
    state.mkdir(mode=0o755)
    os.chmod(state, 0o755)
    for name in ("events.db", "events.db-wal", "notes"):
        (state / name).touch()
        os.chmod(state / name, 0o644)
    os.symlink("/etc/hostname", state / "link")

    old = os.umask(0o022)
    try:
        svc.start()
    finally:
        os.umask(old)

    m = modes(state)
    assert m.pop(state.name) == 0o700
    assert m.pop("link") == 0o777       # a symbolic link is left alone
    assert (os.stat("/etc/hostname").st_mode & 0o077) != 0
    assert set(m) >= {"events.db", "events.db-wal", "events.db-shm",
                      "token", "notes"}
    assert set(m.values()) == {0o600}, m
    log = svc.log_text()
    assert "%s was mode 0755: now 0700" % state in log
    assert "%s/events.db was mode 0644: now 0600" % state in log


def test_new_state_dir_files_are_private_whatever_the_umask(service_factory):
    old = os.umask(0o000)
    try:
        svc = service_factory(httpctl_token=None)
    finally:
        os.umask(old)
    token = (svc.state_dir / "token").read_text().strip()
    assert svc.api("GET", "/api/v1/status", token=token)[0] == 200
    m = modes(svc.state_dir)
    assert m.pop(svc.state_dir.name) == 0o700
    assert {"events.db", "events.db-wal", "events.db-shm", "token"} <= set(m)
    assert set(m.values()) == {0o600}, m


def test_state_dir_of_another_user_stops_the_service(service_factory,
                                                     tmp_path):
    if os.geteuid() == 0:
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o700)
        os.chown(theirs, 65534, 65534)
    else:
        theirs = "/usr/share"           # root's: refused, never changed
    svc = service_factory(start=False, httpctl_state_dir=str(theirs))
    with pytest.raises(RuntimeError, match="exited with 1"):
        svc.start()
    assert re.search(r"httpctl: %s belongs to uid \d+, not to the service's"
                     r" uid %d" % (re.escape(str(theirs)), os.geteuid()),
                     svc.log_text())

    if os.geteuid() == 0:
        # a file of another user in a directory of ours is refused too
        mine = tmp_path / "mine"
        mine.mkdir(mode=0o700)
        (mine / "token").write_text("test-token-of-someone-else\n")
        os.chown(mine / "token", 65534, 65534)
        svc = service_factory(start=False, httpctl_state_dir=str(mine))
        with pytest.raises(RuntimeError, match="exited with 1"):
            svc.start()
        assert "%s/token belongs to uid 65534" % mine in svc.log_text()


# -- the token ----------------------------------------------------------------

def test_generated_token_is_shown_only_on_a_terminal(service_factory,
                                                     monkeypatch):
    svc = service_factory(start=False, httpctl_token=None)
    master, slave = pty.openpty()
    shown = bytearray()

    def spawn_with_a_terminal(argv, log_path, cwd=None, env=None):
        """procs.spawn(), but stderr is a terminal (stdout: the log)"""
        log = open(log_path, "ab", buffering=0)
        try:
            return subprocess.Popen(procs.die_with_parent(argv), cwd=cwd,
                                    env=env, stdin=subprocess.PIPE,
                                    stdout=log, stderr=slave,
                                    start_new_session=True)
        finally:
            log.close()

    monkeypatch.setattr(procs, "spawn", spawn_with_a_terminal)
    os.set_blocking(master, False)
    try:
        svc.start()
        token = (svc.state_dir / "token").read_text().strip()

        def on_terminal():
            try:
                shown.extend(os.read(master, 4096))
            except OSError:
                pass
            return token.encode() in shown

        wait_until(on_terminal, 5, what="the token on the terminal")
    finally:
        svc.stop()
        os.close(slave)
        os.close(master)

    assert b"the API token (shown this once): " + token.encode() in shown
    assert token not in svc.log_text()
    assert "generated an API token: it is in %s/token" % svc.state_dir \
        in svc.log_text()
