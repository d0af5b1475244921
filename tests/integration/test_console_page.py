"""The operator console (GET /) in a real browser, against the real service.

Debian's chromium, headless, driven by playwright-core through
tests/browser/driver.mjs (one JSON command a line on stdin, one answer a
line on stdout). The service and a FakePhone come from the harness; what
the page shows is checked in the page (its DOM, and the snapshot
window.sipphoneConsole.stats() gives), what it does is checked where it
ends up (the fake phone's events and recordings, the service's API).

The browser has a fake microphone (Chromium's beep): Talk is tested too.
Screenshots go to $SIPPHONE_BUILD/test-artifacts/console/ (not
committed). A missing chromium, node or playwright-core fails the tests:
the page is the product here, and an unchecked page is not "passing".
"""

import itertools
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from helpers import EventLog, api_ok, phone_events
from sipphone_test import audio, procs

SRC = Path(os.environ.get("SIPPHONE_SRC")
           or Path(__file__).resolve().parents[2])
BROWSER_DIR = SRC / "tests" / "browser"
DRIVER = BROWSER_DIR / "driver.mjs"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

DESKTOP = dict(width=1280, height=900)
PHONE = dict(width=390, height=844, mobile=True)


# -- the browser ---------------------------------------------------------

class BrowserError(AssertionError):
    pass


class Browser:
    """driver.mjs in its own process group: call(op, **args) -> result."""

    def __init__(self, log_path, artifacts):
        self.artifacts = artifacts
        self.log_path = log_path
        self.logs = []            # what the pages said (console, errors)
        self._answers = queue.Queue()
        self._ids = itertools.count(1)
        self._err = open(log_path, "ab")
        self.proc = subprocess.Popen(
            procs.die_with_parent(["node", str(DRIVER)]),
            cwd=str(BROWSER_DIR), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._err,
            start_new_session=True, env=dict(os.environ, CHROMIUM=CHROMIUM))
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        ready = self._answers.get(timeout=60)
        if not ready.get("ready"):
            self.stop()
            raise BrowserError("the browser did not start: %s\n%s"
                               % (ready, procs.tail(log_path)))
        self.version = ready["version"]

    def _read(self):
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "log" in msg:
                self.logs.append(msg)
            else:
                self._answers.put(msg)
        self._answers.put({"ready": False, "ok": False,
                           "error": "the driver exited"})

    def call(self, op, timeout=10.0, **args):
        cid = next(self._ids)
        msg = dict(args, id=cid, op=op, timeout=int(timeout * 1000))
        self.proc.stdin.write((json.dumps(msg) + "\n").encode())
        self.proc.stdin.flush()
        while True:
            try:
                ans = self._answers.get(timeout=timeout + 15)
            except queue.Empty:
                raise BrowserError("%s: the driver did not answer" % op) \
                    from None
            if ans.get("id") in (cid, None):
                break
        if not ans.get("ok"):
            raise BrowserError("%s %s: %s\n--- page log (tail):\n%s" % (
                op, _short(args), ans.get("error"), self.page_log(30)))
        return ans.get("result")

    def page_log(self, n=40):
        return "\n".join("%s %s: %s" % (m["log"], m.get("type", ""),
                                        m["text"]) for m in self.logs[-n:])

    def page_errors(self):
        return [m["text"] for m in self.logs if m["log"] == "pageerror"]

    # -- shortcuts -----------------------------------------------------

    def open(self, url, size=DESKTOP, **kw):
        self.logs.clear()
        return self.call("open", url=url, **dict(size, **kw))

    def click(self, selector, timeout=10.0):
        return self.call("click", timeout, selector=selector)

    def wait(self, selector, timeout=10.0, state="visible"):
        return self.call("wait", timeout, selector=selector, state=state)

    def wait_fn(self, expr, arg=None, timeout=10.0):
        return self.call("wait_fn", timeout, expr=expr, arg=arg)

    def eval(self, expr, arg=None):
        return self.call("eval", expr=expr, arg=arg)

    def text(self, selector, timeout=10.0):
        return self.call("text", timeout, selector=selector)

    def stats(self):
        return self.eval("return window.sipphoneConsole.stats()")

    def wait_stats(self, expr, timeout=10.0):
        """Wait until expr (JS, over `s`, the page's stats) is truthy."""
        return self.wait_fn("const s = window.sipphoneConsole.stats(); "
                            "return (%s) ? s : null" % expr,
                            timeout=timeout)

    def screenshot(self, name, full_page=True):
        path = self.artifacts / ("%s.png" % name)
        self.call("screenshot", 20.0, path=str(path), full_page=full_page)
        assert path.stat().st_size > 1000
        return path

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"op":"quit"}\n')
                self.proc.stdin.flush()
            except OSError:
                pass
        procs.stop(self.proc, 10.0, sig=None)
        self._err.close()


def _short(args):
    s = json.dumps(args)
    return s if len(s) < 300 else s[:297] + "..."


def _npm_ci():
    """playwright-core from the lock file when node_modules lacks it
    (ctest's integration.browser_npm_ci fixture does the same first)."""
    if (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return
    if not shutil.which("npm"):
        pytest.fail("npm is missing: scripts/deps test installs it")
    res = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"],
                         cwd=str(BROWSER_DIR), capture_output=True,
                         text=True, timeout=300)
    if res.returncode:
        pytest.fail("npm ci in tests/browser failed:\n%s%s"
                    % (res.stdout, res.stderr))


@pytest.fixture(scope="module")
def artifacts(build_dir):
    path = Path(build_dir).resolve() / "test-artifacts" / "console"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser(artifacts):
    """One headless chromium for the module; each test opens its page."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("%s is missing: scripts/deps test installs Debian's "
                    "chromium (the console tests need a real browser)"
                    % CHROMIUM)
    if not shutil.which("node"):
        pytest.fail("node is missing: scripts/deps test installs it")
    _npm_ci()
    br = Browser(artifacts / "driver.log", artifacts)
    yield br
    br.stop()


@pytest.fixture
def page(browser, request):
    """The browser, checked after the test: no uncaught error in a page."""
    yield browser
    errors = browser.page_errors() + [
        m["text"] for m in browser.logs
        if "Content Security Policy" in m["text"]]
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        print("\n--- page log (tail) ---\n%s" % browser.page_log(60))
    assert not errors, "errors in the page:\n%s" % "\n".join(errors)


def login(page, svc, size=DESKTOP, **kw):
    """Open the console, paste the token, wait for the live socket."""
    page.open(svc.base_url + "/", size, **kw)
    page.call("fill", selector="#token", value=svc.token)
    page.click("#login-form button[type=submit]")
    page.wait("#console")
    page.wait_fn("return document.getElementById('conn').dataset.state"
                 " === 'live'")


def line_sel(line, **data):
    return '[data-line="%s"]' % line + "".join(
        '[data-%s="%s"]' % (k, v) for k, v in data.items())


# -- serving the page ----------------------------------------------------

ASSETS = {
    "/": "text/html; charset=utf-8",
    "/index.html": "text/html; charset=utf-8",
    "/app.js": "text/javascript; charset=utf-8",
    "/audio.js": "text/javascript; charset=utf-8",
    "/dsp.js": "text/javascript; charset=utf-8",
    "/worklet.js": "text/javascript; charset=utf-8",
    "/app.css": "text/css; charset=utf-8",
    "/favicon.svg": "image/svg+xml",
}


def test_static_files_need_no_token_and_carry_security_headers(service):
    for path, ctype in ASSETS.items():
        status, hdrs, body = service.api("GET", path, token=None)
        assert status == 200, (path, status, body)
        assert hdrs["Content-Type"] == ctype, path
        assert hdrs["Cache-Control"] == "no-cache", path
        assert hdrs["X-Content-Type-Options"] == "nosniff", path
        csp = hdrs["Content-Security-Policy"]
        for part in ("default-src 'self'", "connect-src 'self' ws: wss:",
                     "frame-ancestors 'none'", "object-src 'none'"):
            assert part in csp, (path, csp)
        assert "unsafe" not in csp
        src = SRC / "modules" / "httpctl" / "www" / "assets" / (
            "index.html" if path == "/" else path[1:])
        assert body == src.read_text(), path
    # the page files are not the API: the API still wants its token
    status, _, _ = service.api("GET", "/api/v1/status", token=None)
    assert status == 401
    status, _, body = service.api("GET", "/nothing.js", token=None)
    assert status == 404 and body["error"]["code"] == "not_found"
    status, hdrs, _ = service.api("POST", "/", body={}, token=None)
    assert status == 405 and hdrs["Allow"] == "GET"


def test_audio_code_on_simulated_clocks():
    """dsp.js in node (tests/browser/dsp.test.mjs): mu-law, the capture
    filter and resampler, the playout's drift, jitter and stall handling
    over minutes of simulated audio."""
    if not shutil.which("node"):
        pytest.fail("node is missing: scripts/deps test installs it")
    res = subprocess.run(["node", "--test", "--test-reporter=tap",
                          str(BROWSER_DIR / "dsp.test.mjs")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "# fail 0" in res.stdout, \
        res.stdout[-6000:] + res.stderr[-2000:]
    assert "# pass 8" in res.stdout, res.stdout[-2000:]


# -- login -----------------------------------------------------------------

def test_wrong_token_shows_a_clear_error(service, page):
    page.open(service.base_url + "/")
    page.wait("#login")
    page.screenshot("login-desktop")
    page.call("fill", selector="#token", value="not-the-token")
    page.click("#login-form button[type=submit]")
    page.wait("#login-error")
    text = page.text("#login-error")
    assert "Wrong token" in text and "401" in text, text
    assert page.eval("return document.getElementById('console').hidden")
    assert page.eval("return sessionStorage.length") == 0
    assert "token" not in page.eval("return location.href")
    page.screenshot("login-wrong-token-desktop")

    # the phone-sized page says the same
    page.open(service.base_url + "/", PHONE)
    page.call("fill", selector="#token", value="still-wrong")
    page.click("#login-form button[type=submit]")
    page.wait("#login-error")
    page.screenshot("login-wrong-token-phone")


def test_login_shows_the_registered_line(service, phone, page):
    line = api_ok(service, "GET", "/api/v1/lines/100")
    login(page, service)
    sel = line_sel("100", registered="true", state="idle")
    page.wait(sel)
    assert page.text(sel + " .contact") == line["contact"]
    assert page.text(sel + " .ua") == line["user_agent"]
    assert page.text(sel + " .source") == line["source"]
    assert page.text(sel + " .badge.reg") == "registered"
    assert page.text(sel + " .badge.state") == "idle"
    # the expiry counts down (regint 60: under a minute)
    exp = page.text(sel + " .expires")
    assert exp.endswith(" s") and 0 < int(exp.split()[0]) <= 60, exp

    # the token: in the tab's session storage, in no address
    assert page.eval("return sessionStorage.getItem('sipphone.token')") \
        == service.token
    assert service.token not in page.eval("return location.href")

    # the event log replayed the registration from /api/v1/events
    page.wait('#events li[data-type="line.registered"]')
    page.screenshot("idle-desktop")

    # a reload logs in again from session storage, no form
    page.call("goto", url=service.base_url + "/")
    page.wait(sel)
    assert page.eval("return document.getElementById('login').hidden")

    # log out: the token is gone
    page.click("#logout")
    page.wait("#login")
    assert page.eval("return sessionStorage.length") == 0

    login(page, service, PHONE)
    page.wait(sel)
    page.screenshot("idle-phone")

    # the line goes away live: the fake phone unregisters
    phone.stop()
    page.wait(line_sel("100", registered="false"), timeout=40)
    assert page.text(line_sel("100") + " .badge.reg") == "not registered"
    page.wait('#events li[data-type="line.unregistered"]')


def test_the_token_in_the_websocket_address_is_not_logged(service, page):
    login(page, service)
    service.wait_log(r"WebSocket ws_[0-9a-f]+ from")
    assert service.token not in service.log_text()


def test_reconnects_after_a_service_restart(service, phone_factory, page):
    login(page, service)
    first = page.stats()["hello"]["session"]
    service.restart()
    # the socket comes back by itself, with a new session
    s = page.wait_stats("s.ws === 'live' && s.hello && s.hello.session "
                        "!== %s" % json.dumps(first), timeout=30)
    assert s["hello"]["protocol"] == "sipphone.v1"
    # and events flow again: a phone that registers now shows up
    phone = phone_factory(line="101")
    phone.wait_registered(10)
    page.wait(line_sel("101", registered="true", state="idle"))
    page.wait('#events li[data-type="line.registered"]:not(.replayed)')


# -- calls -----------------------------------------------------------------

def test_ring_the_phone_it_answers_then_hang_up(service, phone_factory,
                                                 page):
    phone = phone_factory(line="100", answer="manual")
    phone.wait_registered(10)
    log = EventLog(service)
    login(page, service)
    page.click(line_sel("100", state="idle") + " .ring")

    # ringing: the line, the call card, the event
    page.wait(line_sel("100", state="ringing"))
    page.wait('.call[data-state="ringing"][data-direction="to_phone"]')
    assert page.text(line_sel("100") + " .badge.state") == "ringing"
    ev = log.wait("call.ringing", line="100")
    cid = ev["data"]["call"]
    phone.wait_event("CALL_INCOMING")
    page.wait('#events li[data-type="call.ringing"]')
    page.screenshot("ringing-the-phone-desktop")

    # the handset is lifted
    phone.answer()
    page.wait(line_sel("100", state="in_call"))
    page.wait('.call[data-call="%s"][data-state="active"]' % cid)
    assert page.text(line_sel("100") + " .badge.state") == "in call"
    t1 = page.wait_fn("const t = document.querySelector('.call .timer')"
                      ".textContent; return t === '0:02' ? t : null",
                      timeout=5)
    assert t1 == "0:02"
    # no Answer button on a call the page made
    assert not page.eval("return !document.querySelector('.call .answer')"
                         ".hidden")

    page.click('.call[data-call="%s"] .hangup' % cid)
    page.wait(line_sel("100", state="idle"))
    page.wait('#last-call[data-reason="api_hangup"]')
    assert "hung up from the API" in page.text("#last-call")
    assert page.eval("return document.querySelectorAll('.call').length") == 0
    phone.wait_event("CALL_CLOSED")
    ended = log.wait("call.ended", call=cid)
    assert ended["data"]["reason"] == "api_hangup"
    page.wait('#events li[data-type="call.ended"]')
    page.screenshot("after-hangup-desktop")


def test_call_from_the_phone_answer_keypad_and_dtmf(service, phone, page):
    log = EventLog(service)
    login(page, service, PHONE)
    phone.dial("1234")

    # the banner: dialed digits, Answer and Hang up
    banner = '.call.incoming[data-direction="from_phone"]'
    page.wait(banner)
    assert page.text(banner + " .dialed") == "1234"
    assert page.text(banner + " .call-title") == "Incoming call"
    page.wait(banner + " .answer")
    page.wait(line_sel("100", state="ringing"), state="attached")
    assert "1234" in page.eval("return document.title")
    page.screenshot("incoming-call-phone")

    page.click(banner + " .answer")
    cid = log.wait("call.answered", by="api")["data"]["call"]
    page.wait('.call[data-call="%s"][data-state="active"]' % cid)
    phone.wait_event("CALL_ESTABLISHED")

    # keypad -> the phone (RFC 2833)
    m = phone.mark()
    for d in ("1", "2", "#", "0"):
        page.click('#keypad button[data-digit="%s"]' % d)
    phone.wait_event(lambda e: e.get("type") == "CALL_DTMF_START"
                     and e.get("param") == "0", 10, since=m)
    assert phone_events(phone, "CALL_DTMF_START", m) == ["1", "2", "#", "0"]
    assert page.text("#dtmf-tx") == "12#0"
    # the computer's keyboard types digits too
    m = phone.mark()
    page.call("press", selector="body", key="9")
    phone.wait_event(lambda e: e.get("type") == "CALL_DTMF_START", 10,
                     since=m)
    assert phone_events(phone, "CALL_DTMF_START", m) == ["9"]
    assert page.text("#dtmf-tx") == "12#09"

    # the phone's digits appear live
    phone.send_dtmf("58*")
    page.wait_fn("return document.getElementById('dtmf-rx').textContent"
                 " === '58*'")
    page.wait('#events li[data-type="dtmf"]')
    assert [e["data"]["digit"] for e in log.find("dtmf", call=cid)] == \
        ["5", "8", "*"]
    page.screenshot("in-call-dtmf-phone")

    # the phone hangs up: the end reason shows
    phone.hangup()
    page.wait('#last-call[data-reason="phone_hangup"]')
    page.wait(line_sel("100", state="idle"))
    assert "the phone hung up" in page.text("#last-call")
    assert "1234" in page.text("#last-call")
    # the digits of the last call stay readable
    assert page.text("#dtmf-rx") == "58*"
    page.screenshot("after-phone-hangup-phone")


def test_hang_up_an_incoming_call_unanswered(service, phone, page):
    log = EventLog(service)
    login(page, service)
    phone.dial("55")
    banner = '.call.incoming[data-direction="from_phone"]'
    page.wait(banner)
    page.screenshot("incoming-call-desktop")
    page.click(banner + " .hangup")
    ended = log.wait("call.ended")
    assert ended["data"]["reason"] == "api_hangup"
    page.wait('#last-call[data-reason="api_hangup"]')
    page.wait(line_sel("100", state="idle"))


# -- audio -----------------------------------------------------------------

def start_call_from_page(page, service, phone):
    """Ring line 100 from the page; the fake phone answers by itself."""
    log = EventLog(service)
    page.click(line_sel("100", state="idle") + " .ring")
    cid = log.wait("call.answered", line="100")["data"]["call"]
    page.wait('.call[data-call="%s"][data-state="active"]' % cid)
    return cid


NO_WORKLET = """
Object.defineProperty(BaseAudioContext.prototype, 'audioWorklet',
                      {get() { return undefined; }});
"""


@pytest.mark.parametrize("engine", ["worklet", "scriptprocessor"])
def test_listen_plays_the_phone_audio(service, phone_factory, page, engine):
    phone = phone_factory(line="100", tone=440)
    phone.wait_registered(10)
    # scriptprocessor: what a browser without AudioWorklet (a plain
    # http:// page from another machine) runs
    page.open(service.base_url + "/", DESKTOP,
              init=NO_WORKLET if engine == "scriptprocessor" else None)
    page.call("fill", selector="#token", value=service.token)
    page.click("#login-form button[type=submit]")
    page.wait(line_sel("100", registered="true"))
    start_call_from_page(page, service, phone)

    page.click("#listen")            # a user gesture: audio may start
    page.wait('#listen[aria-pressed="true"]')
    s = page.wait_stats("s.audio.playout && s.audio.playout.playedMs > 1500"
                        " && s.audio.out.peak > 0.05", timeout=15)
    ctx = s["audio"]["context"]
    assert ctx["state"] == "running", ctx
    assert ctx["worklet"] is (engine == "worklet")
    play = s["audio"]["playout"]
    # the page got frames and the analyser after the playout heard them
    assert s["audio"]["rx"]["frames"] >= 75
    assert s["audio"]["rx"]["peak"] > 0.05
    assert s["audio"]["out"]["peak"] > 0.05
    # low latency: the buffer never holds more than its bound (240 ms:
    # above it the backlog is dropped); drift over minutes is
    # dsp.test.mjs's part (a loaded test machine makes frames bursty)
    assert play["bufferMs"] <= 260, play

    # a second later: still playing, still bounded
    time.sleep(1.0)                  # let the audio clock run
    s2 = page.stats()["audio"]["playout"]
    assert s2["playedMs"] > play["playedMs"] + 500, (play, s2)
    assert s2["bufferMs"] <= 260, s2
    assert s2["frames"] > play["frames"] + 25, (play, s2)
    meter = page.eval("return Number(document.getElementById('meter-rx')"
                      ".dataset.db)")
    assert meter > -40, meter
    page.screenshot("listening-%s-desktop" % engine)

    page.click("#listen")
    page.wait('#listen[aria-pressed="false"]')


def test_talk_reaches_the_phone_and_mute_stops_it(service, phone_factory,
                                                   page):
    phone = phone_factory(line="100", record=True)
    phone.wait_registered(10)
    login(page, service)
    start_call_from_page(page, service, phone)

    page.click("#talk")              # Chromium's fake microphone: a beep
    page.wait('#talk[aria-pressed="true"]')
    s = page.wait_stats("s.audio.talk.sent >= 150 && s.audio.tx.peak > 0.01",
                        timeout=15)
    assert s["audio"]["context"]["state"] == "running"
    # 8 kHz frames of 20 ms: the page sends at real-time pace
    t0, n0 = time.monotonic(), s["audio"]["talk"]["sent"]
    s = page.wait_stats("s.audio.talk.sent >= %d" % (n0 + 150), timeout=8)
    rate = (s["audio"]["talk"]["sent"] - n0) / (time.monotonic() - t0)
    assert 30 < rate < 70, rate
    # the queue checks (a mark every 2 s) see the service's queue short
    page.wait_stats("s.audio.talk.checks >= 2 && s.audio.talk.queueMs "
                    "!== null && s.audio.talk.queueMs <= 200", timeout=10)

    # the phone heard the beep
    path = phone.wait_audio(4.0, timeout=15)
    heard = audio.read_wav(path).samples
    assert audio.rms(heard) > 0.002, audio.rms(heard)
    assert max(abs(x) for x in heard) > 0.05
    page.screenshot("talking-desktop")

    # mute: nothing more is sent
    page.click("#mute")
    page.wait('#mute[aria-pressed="true"]')
    time.sleep(0.3)                  # frames already in flight
    n1 = page.stats()["audio"]["talk"]["sent"]
    time.sleep(1.0)                  # one second muted
    assert page.stats()["audio"]["talk"]["sent"] == n1
    page.click("#mute")
    page.wait_stats("s.audio.talk.sent > %d" % (n1 + 20), timeout=5)

    page.click("#talk")
    page.wait('#talk[aria-pressed="false"]')


# -- event log and webhooks ----------------------------------------------

def test_event_log_replays_recent_events_and_follows(service, phone, page):
    # events from before the page was opened
    cid = api_ok(service, "POST", "/api/v1/calls", {"line": "100"},
                 201)["id"]
    log = EventLog(service, after=0)
    log.wait("call.answered", call=cid)
    api_ok(service, "DELETE", "/api/v1/calls/%s" % cid)
    log.wait("call.ended", call=cid)
    # an answered call's last word is its quality summary
    last = log.wait("call.quality", call=cid)["seq"]

    login(page, service)
    page.wait('#events li.replayed[data-seq="%d"]' % last)
    replayed = page.eval("return [...document.querySelectorAll('#events "
                         "li')].map(li => li.dataset.type)")
    assert replayed[0] == "call.quality"
    assert "call.ended" in replayed and "call.answered" in replayed

    # live: newest first, not marked replayed
    phone.dial("77")
    ev = log.wait("call.incoming")
    page.wait('#events li[data-seq="%d"]:not(.replayed)' % ev["seq"])
    first = page.eval("return document.querySelector('#events li')"
                      ".dataset.seq")
    assert int(first) == ev["seq"]
    assert "dialed 77" in page.text('#events li[data-seq="%d"]' % ev["seq"])
    api_ok(service, "DELETE", "/api/v1/calls/%s" % ev["data"]["call"])


def test_webhooks_section_only_when_the_api_answers(service, page):
    status, _, _ = service.api("GET", "/api/v1/webhooks")
    wid = None
    if status == 200:
        # this service has the webhooks API: an endpoint nobody listens on
        wid = api_ok(service, "POST", "/api/v1/webhooks",
                     {"url": "http://127.0.0.1:9/hook",
                      "events": ["call.*"]}, 201)["id"]
    login(page, service)
    page.wait_stats("s.webhookProbes >= 1")
    hidden = page.eval("return document.getElementById('webhooks-card')"
                       ".hidden")
    # shown exactly when the service has the webhooks API
    assert hidden is (status != 200), status
    if wid:
        assert page.text('[data-webhook="%s"] .url' % wid) == \
            "http://127.0.0.1:9/hook"

    # a service that has it (answered by the browser: the page's part)
    hooks = {"webhooks": [{
        "id": "wh_1", "url": "https://example.test/hook",
        "description": "the bot", "events": ["call.*", "dtmf"],
        "enabled": True, "created_at": "2026-11-26T07:00:00.000Z",
        "disabled_at": None, "disabled_reason": None}]}
    deliveries = {"deliveries": [     # the latest attempt first
        {"event_id": "evt_2", "seq": 42, "type": "call.ended",
         "attempt": 2, "state": "pending", "status_code": 503,
         "error": "HTTP 503 Service Unavailable",
         "at": "2026-11-26T07:18:15.000Z",
         "next_attempt_at": "2026-11-26T07:23:15.000Z"},
        {"event_id": "evt_1", "seq": 41, "type": "call.incoming",
         "attempt": 1, "state": "delivered", "status_code": 200,
         "error": None, "at": "2026-11-26T07:18:10.977Z",
         "next_attempt_at": None}]}
    page.open(service.base_url + "/", DESKTOP, routes=[
        {"pattern": "**/api/v1/webhooks", "body": hooks},
        {"pattern": "**/api/v1/webhooks/wh_1/deliveries*",
         "body": deliveries}])
    page.call("fill", selector="#token", value=service.token)
    page.click("#login-form button[type=submit]")
    page.wait("#webhooks-card")
    page.wait('[data-webhook="wh_1"] .deliveries')
    assert page.text('[data-webhook="wh_1"] .url') == \
        "https://example.test/hook"
    assert page.eval("return document.querySelectorAll("
                     "'[data-webhook=\"wh_1\"] tbody tr').length") == 2
    assert page.text('[data-webhook="wh_1"] tr[data-state="pending"] '
                     'td:nth-child(4)') == "503"
    assert page.text('[data-webhook="wh_1"] tr[data-state="pending"] '
                     'td:nth-child(1)') == "call.ended"
    assert page.text('[data-webhook="wh_1"] .desc') == "the bot"
    assert "1 pending · 1 delivered" in page.text(
        '[data-webhook="wh_1"] .counts')
    page.screenshot("webhooks-mocked-desktop")
    page.call("viewport", width=390, height=844)
    page.screenshot("webhooks-mocked-phone-width")
