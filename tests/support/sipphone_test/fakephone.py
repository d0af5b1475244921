"""FakePhone: a stock baresip 1.0.0 set up like one HT802 port.

It registers <sip:LINE@SERVER>;regint=N, answers calls (auto or manual),
dials, sends RFC 2833 DTMF, plays a tone or a WAV file and records what it
hears, all driven over ctrl_tcp. No sound card: the player is an aubridge
device that nothing reads; the sndfile filter records the decoded audio.

The account is created with the `uanew` command after the ctrl_tcp client
has connected, so that no event of the first registration is missed
(ctrl_tcp only sends events to a connected client).
"""

import os
import shutil
import signal
import struct
import subprocess
import tempfile
from pathlib import Path

from . import procs
from .audio import wav_params
from .ctrl import CtrlClient
from .ports import free_port

STOCK_MODULES = "/usr/lib/baresip/modules"
AUDIO_PATH = "/usr/share/baresip"


def _split_hostport(value, default_port=None):
    host, sep, port = value.rpartition(":")
    if not sep and default_port is not None:
        return value, default_port
    if not (host and port.isdigit() and 0 < int(port) < 65535):
        raise ValueError("expected HOST:PORT, got %r" % value)
    return host, int(port)


def _is_loopback(host):
    return host == "localhost" or host.startswith("127.")


class PortBusy(Exception):
    """baresip could not bind a port (another process took it)."""


class FakePhone(procs.Child):
    """One fake HT802 port: a second baresip driven over ctrl_tcp.

    server: "HOST:PORT" of the registrar / call target.
    line: SIP user; regint: registration interval in s (0: no REGISTER).
    listen: "HOST:PORT" for SIP (default 127.0.0.1 and a free port pair).
    tone: sine frequency in Hz (ausine); play: WAV file (aufile; the call
      ends when the file ends); echo: send back what it hears. With none
      of them the phone sends silence (an all-zero WAV, see `silence_s`).
    record: directory (or True: <workdir>/rec) for sndfile recordings.
    answer: "auto" or "manual" (account answermode).
    ctrl_port: ctrl_tcp port (default free).
    keep: keep the temporary directory after stop().
    on_event: callable(event dict), called from the reader thread.
    """

    def __init__(self, server="127.0.0.1:5060", line="100", regint=60,
                 listen=None, tone=None, play=None, echo=False,
                 record=None, answer="auto", ctrl_port=None, keep=False,
                 silence_s=600, on_event=None, baresip="baresip",
                 modules=STOCK_MODULES, extra_config=None):
        if answer not in ("auto", "manual", "early"):
            raise ValueError("answer must be auto, manual or early")
        if sum(bool(x) for x in (tone, play, echo)) > 1:
            raise ValueError("tone, play and echo exclude each other")
        self.server = server
        self.line = str(line)
        self.regint = int(regint)
        self.tone = tone
        self.play = os.path.abspath(play) if play else None
        self.echo = echo
        self.answer_mode = answer
        self.keep = keep
        self.silence_s = silence_s
        self.on_event = on_event
        self.baresip = baresip
        self.modules = modules
        self.extra_config = dict(extra_config or {})
        if listen:
            self.sip_host, self.sip_port = _split_hostport(listen)
        else:
            self.sip_host, self.sip_port = "127.0.0.1", None
        self.ctrl_port = ctrl_port
        self.workdir = Path(tempfile.mkdtemp(prefix="fakephone-"))
        if record is True:
            record = self.workdir / "rec"
        self.record_dir = Path(record).resolve() if record else None
        self.log_path = self.workdir / "baresip.log"
        self.proc = None
        self.ctrl = None

    # -- addresses ---------------------------------------------------------

    @property
    def aor(self):
        """The account's address of record, sip:LINE@SERVER."""
        return "sip:%s@%s" % (self.line, self.server)

    @property
    def account(self):
        """The account line given to baresip."""
        return ("<%s>;regint=%d;answermode=%s;audio_codecs=PCMU/8000/1"
                ";ptime=20" % (self.aor, self.regint, self.answer_mode))

    @property
    def uri(self):
        """A SIP URI that reaches this phone directly."""
        return "sip:%s@%s:%d" % (self.line, self.sip_host, self.sip_port)

    # -- configuration -----------------------------------------------------

    def _source(self):
        """(audio_source, ausrc_srate, ausrc_channels)."""
        if self.tone:
            return "ausine,%d" % int(self.tone), 48000, 2
        if self.play:
            rate, ch, bits = wav_params(self.play)
            if bits != 16:
                raise ValueError("%s: aufile needs 16-bit PCM" % self.play)
            return "aufile,%s" % self.play, rate, ch
        if self.echo:
            return "aubridge,fp-audio", 8000, 1
        path = self.workdir / "silence.wav"
        _write_silence(path, self.silence_s)
        return "aufile,%s" % path, 8000, 1

    def config_text(self):
        """The baresip config file for this phone."""
        src, srate, ch = self._source()
        server_host = _split_hostport(self.server, 5060)[0]
        lines = [
            ("poll_method", "epoll"),
            ("sip_listen", "%s:%d" % (self.sip_host, self.sip_port)),
            ("call_local_timeout", "120"),
            ("call_max_calls", "4"),
            ("audio_path", AUDIO_PATH),
            ("audio_player", "aubridge,fp-audio" if self.echo
             else "aubridge,fp-play"),
            ("audio_source", src),
            ("audio_alert", "aubridge,fp-alert"),
            ("ausrc_srate", str(srate)),
            ("ausrc_channels", str(ch)),
            ("auplay_srate", "8000"),
            ("auplay_channels", "1"),
            ("audio_level", "no"),
            ("rtcp_mux", "no"),
            ("jitter_buffer_delay", "1-4"),
            ("rtp_stats", "no"),
            ("module_path", self.modules),
            ("module", "g711.so"),
            ("module", "aubridge.so"),
            ("module", "ausine.so"),
            ("module", "aufile.so"),
        ]
        if _is_loopback(self.sip_host) or _is_loopback(server_host):
            # without it baresip puts eth0's address in its SDP
            lines.append(("net_interface", "127.0.0.1"))
        if self.record_dir:
            lines += [("module", "sndfile.so"),
                      ("snd_path", str(self.record_dir))]
        lines += [
            ("module_app", "menu.so"),
            ("module_app", "ctrl_tcp.so"),
            ("ctrl_tcp_listen", "127.0.0.1:%d" % self.ctrl_port),
            ("menu_bell", "no"),
            ("statmode_default", "off"),
        ]
        for key, value in self.extra_config.items():
            lines = [kv for kv in lines if kv[0] != key]
            values = value if isinstance(value, (list, tuple)) else [value]
            lines += [(key, str(v)) for v in values if v is not None]
        return "".join("%-24s%s\n" % kv for kv in lines)

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout=10.0):
        """Start baresip, connect ctrl_tcp and create the account.

        Ports chosen here are tried again (twice) if another process took
        one between the choice and baresip's bind.
        """
        auto_sip, auto_ctrl = self.sip_port is None, self.ctrl_port is None
        for attempt in range(3):
            if auto_sip:
                self.sip_port = free_port(udp_and_tcp=True, pair=True)
            if auto_ctrl:
                self.ctrl_port = free_port(udp_and_tcp=False)
            try:
                self._start_once(timeout)
                return self
            except Exception as exc:
                log = procs.tail(self.log_path)
                busy = isinstance(exc, PortBusy) and (auto_sip or auto_ctrl)
                self._halt()
                if busy and attempt < 2:
                    self.log_path.unlink(missing_ok=True)
                    continue
                self.stop()
                raise RuntimeError("fake phone %s did not start: %s\n"
                                   "--- log:\n%s" % (self.line, exc, log)
                                   ) from exc

    def _start_once(self, timeout):
        if self.record_dir:
            self.record_dir.mkdir(parents=True, exist_ok=True)
        confdir = self.workdir / "conf"
        confdir.mkdir(exist_ok=True)
        (confdir / "config").write_text(self.config_text())
        self.proc = procs.spawn([self.baresip, "-f", str(confdir)],
                                self.log_path, cwd=str(self.workdir))

        def ready():
            log = self.log_path.read_text(errors="replace")
            if "Address already in use" in log or \
                    "ctrl_tcp: failed to listen" in log:
                raise PortBusy("SIP port %d/%d or ctrl_tcp port %d in use"
                               % (self.sip_port, self.sip_port + 1,
                                  self.ctrl_port))
            if self.proc.poll() is not None:
                raise RuntimeError("baresip exited with %s"
                                   % self.proc.returncode)
            return "baresip is ready." in log

        procs.wait_until(ready, timeout, what="baresip is ready")
        self.ctrl = CtrlClient("127.0.0.1", self.ctrl_port,
                               on_event=self.on_event)
        self.ctrl.connect(timeout, alive=lambda: self.proc.poll() is None)
        reply = self.ctrl.command("uanew", self.account)
        if not reply.get("ok"):
            raise RuntimeError("uanew failed: %s" % reply.get("data"))

    def _halt(self):
        """Kill a half-started baresip (no unregistering needed)."""
        procs.stop(self.proc, 0.5, sig=signal.SIGKILL)
        if self.ctrl is not None:
            self.ctrl.close()
            self.ctrl = None
        self.proc = None

    def stop(self, timeout=10.0):
        """Stop baresip; returns its exit code.

        The first SIGTERM makes baresip unregister and exit once its SIP
        transactions end (up to 32 s if the registrar is gone); after
        timeout a second SIGTERM makes it exit at once; SIGKILL is last.
        """
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    pass
            code = procs.stop(self.proc, 3.0)
        if self.ctrl is not None:
            self.ctrl.close()
        if not self.keep:
            # recordings under the temp dir (record=True) go with it
            shutil.rmtree(self.workdir, ignore_errors=True)
        return code

    # -- commands ----------------------------------------------------------

    def command(self, command, params=None, timeout=10.0):
        """Run a menu command over ctrl_tcp; raise if it fails."""
        reply = self.ctrl.command(command, params, timeout)
        if not reply.get("ok"):
            raise RuntimeError("%s %s failed: %s" % (
                command, params or "", reply.get("data")))
        return reply

    def dial(self, number):
        """Call NUMBER (a user at the server) or a full sip: URI."""
        return self.command("dial", number)

    def answer(self):
        return self.command("accept")

    def hangup(self):
        return self.command("hangup")

    def send_dtmf(self, digits):
        """Send digits as RFC 2833 events (only possible in a call)."""
        return self.command("sndcode", digits)

    # -- events ------------------------------------------------------------

    @property
    def events(self):
        return list(self.ctrl.events) if self.ctrl else []

    def mark(self):
        """Index of the next event (for wait_event(since=...))."""
        return self.ctrl.mark()

    def wait_event(self, predicate, timeout=10.0, since=0):
        """Wait for an event: predicate is a type name or a callable."""
        if isinstance(predicate, str):
            name = predicate
            predicate = lambda e: e.get("type") == name  # noqa: E731
        try:
            return self.ctrl.wait_event(predicate, timeout, since)
        except TimeoutError as exc:
            raise TimeoutError("%s\n--- %s log:\n%s" % (
                exc, self.line, self.log_tail())) from None

    def wait_registered(self, timeout=10.0, since=0):
        """Wait for REGISTER_OK; fail early on REGISTER_FAIL."""
        ev = self.wait_event(lambda e: e.get("type") in (
            "REGISTER_OK", "REGISTER_FAIL"), timeout, since)
        if ev["type"] == "REGISTER_FAIL":
            raise RuntimeError("registration failed: %s" % ev.get("param"))
        return ev

    # -- audio -------------------------------------------------------------

    def recordings(self, kind="dec"):
        """Recorded WAV files, oldest first: "dec" is what the phone heard,
        "enc" what it sent."""
        if not self.record_dir or not self.record_dir.exists():
            return []
        return sorted(self.record_dir.glob("dump-*-%s.wav" % kind),
                      key=lambda p: (p.stat().st_mtime, p.name))

    def wait_audio(self, seconds, kind="dec", timeout=10.0):
        """Wait until the newest recording holds `seconds` of audio (8 kHz
        16-bit mono: PCMU calls); returns its path. Use it to let audio
        flow for a while in a call."""
        want = 44 + int(seconds * 8000) * 2

        def enough():
            recs = self.recordings(kind)
            if recs and recs[-1].stat().st_size >= want:
                return recs[-1]
            return None
        return procs.wait_until(enough, timeout, what="%.1f s of %s audio"
                                % (seconds, kind))

    def wait_recordings(self, count=1, kind="dec", timeout=10.0):
        """Wait until `count` recordings are complete (sndfile writes the
        WAV sizes when the call's audio stream is destroyed); returns
        them, oldest first."""
        def done():
            recs = [p for p in self.recordings(kind) if _finalised(p)]
            return recs if len(recs) >= count else None
        return procs.wait_until(done, timeout,
                                what="%d finished %s recording(s)"
                                % (count, kind))


def _finalised(path):
    """True once a WAV's RIFF size covers more than its header."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return len(head) == 8 and struct.unpack("<I", head[4:8])[0] > 36


def _write_silence(path, seconds, rate=8000):
    """An all-zero 16-bit mono WAV (aufile ends the call at its end)."""
    data_len = int(seconds * rate) * 2
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + data_len) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2,
                                       2, 16))
        f.write(b"data" + struct.pack("<I", data_len))
        f.truncate(44 + data_len)
