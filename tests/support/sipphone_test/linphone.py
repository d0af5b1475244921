"""Linphone: linphonec (Debian's linphone-cli) as an independent SIP phone.

Driven through its stdin, one command per line; its stdout is read line by
line (it flushes every message). linphonec ignores SIGTERM: stop() sends
`quit`, then SIGKILL. liblinphone answers every INVITE with 503 unless
$HOME/.local/share/linphone exists, so each instance gets its own HOME.

DTMF: one digit per command. linphonec drops digits sent in quick
succession (and with use_info=1 plus use_rfc2833=1 it sends each digit
twice), so send_dtmf() keeps `dtmf_spacing` seconds between digits.
"""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from . import procs
from .ports import free_port

PROMPT = "linphonec> "


class Linphone(procs.Child):
    """One linphonec process.

    line: SIP user. server: "HOST:PORT" of a registrar to register with
      (None: no registration; calls go to full URIs).
    use_info / use_rfc2833: DTMF methods. autoanswer: answer every call.
    play / record: WAV files for what it sends / hears (file mode).
    """

    def __init__(self, line="500", server=None, regint=60, sip_port=None,
                 rtp_port=None, use_info=True, use_rfc2833=False,
                 autoanswer=False, play=None, record=None, keep=False,
                 dtmf_spacing=1.6, linphonec="linphonec"):
        self.line = str(line)
        self.server = server
        self.regint = int(regint)
        self.sip_port = sip_port
        self.rtp_port = rtp_port
        self.use_info = use_info
        self.use_rfc2833 = use_rfc2833
        self.autoanswer = autoanswer
        self.play = os.path.abspath(play) if play else None
        self.record = os.path.abspath(record) if record else None
        self.keep = keep
        self.dtmf_spacing = dtmf_spacing
        self.linphonec = linphonec
        self.workdir = Path(tempfile.mkdtemp(prefix="linphone-"))
        self.home = self.workdir / "home"
        self.rc_path = self.workdir / "linphonerc"
        self.log_path = self.workdir / "linphonec.log"
        self.output = []
        self._cond = threading.Condition()
        self._last_dtmf = 0.0
        self.proc = None
        self._reader = None

    @property
    def uri(self):
        """A SIP URI that reaches this linphonec directly."""
        return "sip:%s@127.0.0.1:%d" % (self.line, self.sip_port)

    def rc_text(self):
        """The linphonerc given with -c."""
        sip = {
            "sip_port": self.sip_port, "sip_tcp_port": -1,
            "sip_tls_port": -1, "contact": "sip:%s@127.0.0.1" % self.line,
            "guess_hostname": 0, "use_info": int(self.use_info),
            "use_rfc2833": int(self.use_rfc2833), "inc_timeout": 60,
            "register_only_when_network_is_up": 0,
        }
        sections = [
            ("sip", sip),
            ("rtp", {"audio_rtp_port": self.rtp_port,
                     "bind_address": "127.0.0.1"}),
            ("video", {"enabled": 0, "capture": 0, "display": 0}),
            ("net", {"firewall_policy": 0}),
        ]
        if self.server:
            sip["default_proxy"] = 0
            sections.append(("proxy_0", {
                "reg_proxy": "<sip:%s>" % self.server,
                "reg_identity": "sip:%s@%s" % (
                    self.line, self.server.rsplit(":", 1)[0]),
                "reg_expires": self.regint, "reg_sendregister": 1,
                "publish": 0, "dial_escape_plus": 0}))
        return "".join("[%s]\n%s" % (name, "".join(
            "%s=%s\n" % kv for kv in keys.items()))
            for name, keys in sections)

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout=10.0):
        """Start linphonec in file mode; returns when it took commands."""
        if self.sip_port is None:
            self.sip_port = free_port(udp_and_tcp=True)
        if self.rtp_port is None:
            self.rtp_port = free_port(udp_and_tcp=True, pair=True)
        (self.home / ".local" / "share" / "linphone").mkdir(parents=True)
        self.rc_path.write_text(self.rc_text())
        env = dict(os.environ, HOME=str(self.home), LANG="C.UTF-8")
        argv = [self.linphonec, "-c", str(self.rc_path), "-d", "4",
                "-l", str(self.log_path)]
        if self.autoanswer:
            argv.append("-a")
        self.proc = subprocess.Popen(
            procs.die_with_parent(argv), env=env, cwd=str(self.workdir),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name="linphonec %s" % self.line)
        self._reader.start()
        try:
            self.command("soundcard use files")
            self.wait_output(r"Using wav files instead of soundcard",
                             timeout)
            if self.play:
                self.command("play %s" % self.play)
            if self.record:
                self.command("record %s" % self.record)
        except Exception:
            self.stop()
            raise
        return self

    def _read(self):
        for raw in self.proc.stdout:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            while text.startswith(PROMPT):
                text = text[len(PROMPT):]
            with self._cond:
                self.output.append(text)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def stop(self, timeout=5.0):
        """`quit`, then SIGKILL after timeout (it ignores SIGTERM)."""
        if self.proc is None:
            if not self.keep:
                shutil.rmtree(self.workdir, ignore_errors=True)
            return None
        if self.proc.poll() is None:
            try:
                self.command("quit")
            except OSError:
                pass
        code = procs.stop(self.proc, timeout, sig=None)
        if self._reader is not None:
            self._reader.join(2)
        if self.proc.stdout:
            self.proc.stdout.close()
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return code

    # -- commands ----------------------------------------------------------

    def command(self, line):
        """Write one command line to linphonec."""
        self.proc.stdin.write(line.encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def call(self, uri):
        """Call a SIP URI (or a number at the registrar)."""
        self.command("call %s" % uri)

    def answer(self):
        self.command("answer")

    def hangup(self):
        self.command("terminate")

    def send_dtmf(self, digit):
        """Send one DTMF digit, at least dtmf_spacing s after the last."""
        if len(digit) != 1 or digit not in "0123456789*#ABCD":
            raise ValueError("one DTMF digit at a time, got %r" % digit)
        wait = self._last_dtmf + self.dtmf_spacing - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # documented pacing, see module docstring
        self.command(digit)
        self._last_dtmf = time.monotonic()

    # -- output ------------------------------------------------------------

    def mark(self):
        """Index of the next output line (for wait_output(since=...))."""
        with self._cond:
            return len(self.output)

    def wait_output(self, pattern, timeout=10.0, since=0):
        """First output line at index >= since matching regex pattern;
        returns the re.Match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = since
        with self._cond:
            while True:
                while i < len(self.output):
                    m = rx.search(self.output[i])
                    if m:
                        return m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError(
                        "linphonec %s: no line matching %r within %.1fs; "
                        "output:\n%s" % (self.line, pattern, timeout,
                                         "\n".join(self.output[since:])))
                self._cond.wait(left)

    def registration_status(self, timeout=5.0):
        """Ask `status register`: "ok", "progress" (or failing) or "none"."""
        since = self.mark()
        self.command("status register")
        m = self.wait_output(r"^registered(, identity=|=(-?\d+))", timeout,
                             since)
        if m.group(1).startswith(","):
            return "ok"
        return "progress" if m.group(2) == "-1" else "none"

    def wait_registered(self, timeout=10.0):
        """Poll `status register` until registered (linphonec prints no
        registration message by itself)."""
        deadline = time.monotonic() + timeout
        interval = 0.05
        while True:
            status = self.registration_status(max(1.0, timeout))
            if status == "ok":
                return
            if status == "none":
                raise RuntimeError("linphonec %s has no registrar" % self.line)
            if time.monotonic() + interval > deadline:
                raise TimeoutError("linphonec %s not registered within "
                                   "%.1fs\n--- log:\n%s" % (
                                       self.line, timeout, self.log_tail()))
            time.sleep(interval)
            interval = min(interval * 2, 0.5)

