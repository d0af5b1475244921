"""Service: the real product (baresip + httpctl + wsaudio) on loopback.

The repo's conf/ is copied to a temp dir and config keys are rewritten
(SIP, HTTP and state on 127.0.0.1 / temp paths, a random token); baresip
runs with cwd $SIPPHONE_BUILD/modules, because conf/config leaves
module_path unset and so loads modules from ".".
"""

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from . import procs
from .ports import free_port
from .wsclient import WSClient

_DEFAULT = object()


class PortBusy(RuntimeError):
    """baresip found a port taken."""


def paths():
    """(source dir, build dir) from SIPPHONE_SRC / SIPPHONE_BUILD, with the
    repo root and its build/ as fallbacks."""
    src = Path(os.environ.get("SIPPHONE_SRC")
               or Path(__file__).resolve().parents[3])
    build = Path(os.environ.get("SIPPHONE_BUILD") or src / "build")
    return src, build


def rewrite_config(text, overrides):
    """Set config keys: a str value replaces every line of that key (at the
    first one's place, else at the end), a list repeats the key, None
    removes it. Comment lines are left alone."""
    lines = text.splitlines()
    todo = dict(overrides)
    out = []
    for line in lines:
        words = line.split(None, 1)
        key = words[0] if words and not words[0].startswith("#") else None
        if key in overrides:
            if key in todo:
                out += _lines(key, todo.pop(key))
            continue
        out.append(line)
    for key, value in todo.items():
        out += _lines(key, value)
    return "\n".join(out) + "\n"


def _lines(key, value):
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return ["%-24s%s" % (key, v) for v in values]


class Service(procs.Child):
    """One running sipphone service.

    overrides: config keys to set (see rewrite_config).
    ssl_context: speak https:// and wss:// with it (for a service with
    httpctl_tls_cert/key among its overrides); None: http:// and ws://.
    env: variables added to baresip's environment (NOTIFY_SOCKET, ...).
    Attributes: sip_port, http_port, base_url, token, confdir, state_dir,
    log_path, proc.
    """

    LOG_TAIL_LINES = 60

    def __init__(self, overrides=None, src=None, build=None,
                 baresip="baresip", workdir=None, ssl_context=None,
                 env=None):
        self.ssl_context = ssl_context
        self.env = dict(env or {})
        dsrc, dbuild = paths()
        self.src = Path(src or dsrc)
        self.build = Path(build or dbuild)
        self.baresip = baresip
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="sipphone-"))
        self.confdir = self.workdir / "conf"
        self.state_dir = self.workdir / "state"
        self.log_path = self.workdir / "baresip.log"
        self.token = "test-" + secrets.token_hex(16)
        self.user_overrides = dict(overrides or {})
        self._auto_ports = not ({"sip_listen", "httpctl_listen"}
                                & set(self.user_overrides))
        self.proc = None
        self._choose_ports()
        self._write_conf()

    def _choose_ports(self):
        self.sip_port = free_port(udp_and_tcp=True, pair=True)
        self.http_port = free_port(udp_and_tcp=False)
        self.overrides = {
            "sip_listen": "127.0.0.1:%d" % self.sip_port,
            "net_interface": "127.0.0.1",
            "httpctl_listen": "127.0.0.1:%d" % self.http_port,
            "httpctl_token": self.token,
            "httpctl_state_dir": str(self.state_dir),
        }
        self.overrides.update(self.user_overrides)
        # an overridden address still tells where to connect
        for key, attr in (("sip_listen", "sip_port"),
                          ("httpctl_listen", "http_port")):
            value = self.overrides.get(key)
            if isinstance(value, str) and value.rpartition(":")[2].isdigit():
                setattr(self, attr, int(value.rpartition(":")[2]))

    @property
    def base_url(self):
        return "%s://127.0.0.1:%d" % (
            "https" if self.ssl_context else "http", self.http_port)

    @property
    def ws_url(self):
        return "%s://127.0.0.1:%d/api/v1/ws" % (
            "wss" if self.ssl_context else "ws", self.http_port)

    @property
    def sip_server(self):
        """HOST:PORT for phones to register with."""
        return "127.0.0.1:%d" % self.sip_port

    @property
    def modules_dir(self):
        return self.build / "modules"

    @property
    def run_dir(self):
        """baresip's working directory: the modules, as conf/config sets
        no module_path."""
        return self.modules_dir

    def _write_conf(self):
        src_conf = self.src / "conf"
        shutil.copytree(src_conf, self.confdir, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("state"))
        text = (src_conf / "config").read_text()
        (self.confdir / "config").write_text(
            rewrite_config(text, self.overrides))

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout=10.0):
        """Start baresip and wait until GET /healthz answers 200.

        Ports this object chose are chosen again (twice) if baresip finds
        one taken; restart() keeps them.
        """
        if not (self.modules_dir / "httpctl.so").exists():
            raise RuntimeError("%s/httpctl.so not built (run scripts/build)"
                               % self.modules_dir)
        for attempt in range(3):
            try:
                return self._start_once(timeout)
            except PortBusy:
                self.stop(1.0)
                if attempt == 2 or not self._auto_ports:
                    raise
                self._choose_ports()
                self._write_conf()
                self.log_path.unlink(missing_ok=True)

    def launch(self):
        """Start baresip and return at once (start() waits for /healthz)."""
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = procs.spawn([self.baresip, "-f", str(self.confdir)],
                                self.log_path, cwd=str(self.run_dir),
                                env=env)
        return self

    def _start_once(self, timeout):
        log_start = self.log_size()
        self.launch()

        def healthy():
            if "Address already in use" in self.log_from(log_start):
                raise PortBusy("a port is in use\n--- log:\n%s"
                               % self.log_tail())
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "baresip exited with %s before /healthz answered\n"
                    "--- log:\n%s" % (self.proc.returncode, self.log_tail()))
            try:
                return self.api("GET", "/healthz", token=None,
                                timeout=1.0)[0] == 200
            except OSError:
                return False

        try:
            procs.wait_until(healthy, timeout, what="GET /healthz == 200")
        except TimeoutError as exc:
            log = self.log_tail()
            self.stop()
            raise TimeoutError("%s\n--- log:\n%s" % (exc, log)) from None
        except Exception:
            self.stop()
            raise
        return self

    def stop(self, timeout=10.0):
        """SIGTERM, wait timeout, SIGKILL; returns the exit code."""
        return procs.stop(self.proc, timeout)

    def restart(self, timeout=10.0, sig=signal.SIGTERM):
        """Stop and start again with the same config, ports and state.
        sig: how to stop (signal.SIGKILL: as if it crashed)."""
        procs.stop(self.proc, 10.0, sig)
        return self._start_once(timeout)

    def cleanup(self):
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- log ---------------------------------------------------------------

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_log(self, regex, timeout=10.0, since=0):
        """Wait until the log (from byte offset since) matches regex;
        returns the re.Match."""
        rx = re.compile(regex, re.M)

        def found():
            try:
                with open(self.log_path, "rb") as f:
                    f.seek(since)
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                return None
            return rx.search(text)

        try:
            return procs.wait_until(found, timeout, what=repr(regex))
        except TimeoutError as exc:
            raise TimeoutError("%s in the service log\n--- log:\n%s"
                               % (exc, self.log_tail())) from None

    def log_from(self, offset):
        """The log from a byte offset (a log_size()) on."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_size(self):
        """Current log size, for wait_log(since=...)."""
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    # -- HTTP --------------------------------------------------------------

    def api(self, method, path, body=None, token=_DEFAULT, headers=None,
            timeout=10.0):
        """One HTTP request; returns (status, headers, body).

        body: dict/list (sent as JSON), str or bytes (sent as is).
        token: default the service's token; None sends no Authorization.
        The reply body is parsed JSON if it parses, else text.
        """
        hdrs = {}
        if token is _DEFAULT:
            token = self.token
        if token is not None:
            hdrs["Authorization"] = "Bearer %s" % token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        elif isinstance(body, str):
            body = body.encode("utf-8")
        hdrs.update(headers or {})
        if self.ssl_context:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", self.http_port, timeout=timeout,
                context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port,
                                              timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.headers, _parse(data)
        finally:
            conn.close()

    def metrics(self):
        """{series: value} of GET /metrics (with the token)."""
        status, _, body = self.api("GET", "/metrics")
        assert status == 200, body
        values = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                series, _, value = line.rpartition(" ")
                values[series] = float(value)
        return values

    def ws(self, query=None, token=_DEFAULT, headers=None):
        """A connected WSClient on /api/v1/ws; token goes in the query
        (default the service's; None: none). Raises HandshakeError."""
        params = dict(query or {})
        if token is _DEFAULT:
            token = self.token
        if token is not None:
            params["token"] = token
        url = self.ws_url
        if params:
            url += "?" + urlencode(params)
        return WSClient(url, headers=headers,
                        ssl_context=self.ssl_context).connect()

    def raw(self, data, timeout=5.0):
        """Send raw bytes over a new TCP connection; return the bytes of
        one HTTP response (by Content-Length or chunked), or all bytes
        until the server closes or timeout passes."""
        deadline = time.monotonic() + timeout
        buf = b""
        with socket.create_connection(("127.0.0.1", self.http_port),
                                      timeout=timeout) as s:
            if data:
                s.sendall(data)
            while not _complete(buf):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                buf += chunk
        return buf


def _parse(data):
    text = data.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _complete(buf):
    """True once buf holds a whole HTTP response."""
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    if m:
        return len(body) >= int(m.group(1))
    if re.search(rb"(?im)^transfer-encoding:\s*chunked\s*$", head):
        return body.endswith(b"0\r\n\r\n")
    status = re.match(rb"HTTP/\d\.\d (\d+)", head)
    if status and (status.group(1) in (b"204", b"304")
                   or status.group(1).startswith(b"1")):
        return True
    return False
