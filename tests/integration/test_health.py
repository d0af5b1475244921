"""GET /api/v1/health follows what happens: lines, calls, clients, events.

The product runs on loopback with fake phones (a stock baresip each).
Every check waits for the health object to show the change, with a
deadline, never a fixed sleep.

Packet loss: nftables drops every 10th UDP packet that the fake phone
sends from its RTP port, on receipt (an input hook, so the phone's sends
succeed as on a real network). The rule lives in a table of its own,
named after this process and the port, and is deleted whatever happens.
netem (tc) would be the usual tool, but this kernel has no sch_netem; a
UDP relay would need the phone's SDP to point at it, which a stock
baresip cannot be told to do. nft needs root, as CI has; scripts/deps
test installs nftables.
"""

import os
import re
import shutil
import subprocess

import pytest

from helpers import EventLog, api_ok, wait_until, raw_ws
from sipphone_test.ports import free_port
from sipphone_test.whreceiver import Receiver

SECTIONS = ("status", "reasons", "sip", "audio", "websocket", "events")


# -- helpers -----------------------------------------------------------------

def health(service):
    return api_ok(service, "GET", "/api/v1/health")


def reason_codes(h):
    return [r["code"] for r in h["reasons"]]


def wait_health(service, pred, timeout=15.0, what="a health condition"):
    """Poll the health object until pred(h) holds; returns h."""
    last = {}

    def check():
        last["h"] = health(service)
        return last["h"] if pred(last["h"]) else None
    try:
        return wait_until(check, timeout, max_interval=0.5, what=what)
    except TimeoutError:
        raise TimeoutError("%s: last health %r" % (what, last.get("h"))) \
            from None


def even_port_pair():
    """A free even port whose odd neighbour is free too: an RTP port."""
    for _ in range(100):
        port = free_port(pair=True)
        if port % 2 == 0:
            return port
    raise RuntimeError("no free even port pair")


def call_from_phone(service, log, phone):
    """The phone dials, the API answers; returns the call id."""
    m = phone.mark()
    since = log.mark()
    phone.dial("1234")
    cid = log.wait("call.incoming", since=since, line=phone.line)["data"][
        "call"]
    api_ok(service, "POST", "/api/v1/calls/%s/answer" % cid)
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    return cid


def live_call(h, cid):
    for c in h["audio"]["calls"]:
        if c["call"] == cid:
            return c
    return None


def call_quality_known(service, cid):
    """Health once the call's RTCP figures are in (the phone's first
    sender report, about 5 s into the call)."""
    return wait_health(
        service, lambda h: (live_call(h, cid) or {}).get("quality") and
        live_call(h, cid)["quality"]["mos"] is not None, 20,
        "RTCP figures of %s" % cid)


def hang_up(service, log, cid):
    """Hang up over REST; returns the call.quality event's data."""
    api_ok(service, "POST", "/api/v1/calls/%s/hangup" % cid)
    log.wait("call.ended", call=cid)
    return log.wait("call.quality", call=cid)["data"]


class PacketLoss:
    """Drop every `every`-th UDP packet from source port `sport` as it is
    received (nftables, a table of its own)."""

    def __init__(self, sport, every=10):
        self.sport = sport
        self.every = every
        self.table = "sipphone_test_%d_%d" % (os.getpid(), sport)

    def _nft(self, *args, check=True):
        return subprocess.run(["nft"] + list(args), capture_output=True,
                              text=True, check=check, timeout=10)

    def __enter__(self):
        self._nft("add", "table", "inet", self.table)
        try:
            self._nft("add", "chain", "inet", self.table, "input",
                      "{ type filter hook input priority 0 ; "
                      "policy accept ; }")
            self._nft("add", "rule", "inet", self.table, "input", "udp",
                      "sport", str(self.sport), "numgen", "inc", "mod",
                      str(self.every), "0", "counter", "drop")
        except BaseException:
            self.remove()
            raise
        return self

    def dropped(self):
        out = self._nft("list", "table", "inet", self.table).stdout
        m = re.search(r"counter packets (\d+)", out)
        return int(m.group(1)) if m else 0

    def remove(self):
        self._nft("delete", "table", "inet", self.table, check=False)

    def __exit__(self, *exc):
        self.remove()


# -- 1. the shape, and the token ---------------------------------------------

def test_health_needs_a_token_and_has_the_four_sections(service):
    status, hdrs, body = service.api("GET", "/api/v1/health", token=None)
    assert status == 401, body
    assert hdrs["WWW-Authenticate"] == "Bearer"
    status, _, body = service.api("GET", "/api/v1/health", token="nope")
    assert status == 401, body

    # liveness stays open and says nothing more
    status, _, body = service.api("GET", "/healthz", token=None)
    assert (status, body) == (200, {"status": "ok"})

    h = health(service)
    for key in SECTIONS:
        assert key in h, h
    assert h["sip"]["lines_registered"] == 0
    assert h["sip"]["lines"] == []
    assert h["audio"]["calls"] == []
    assert h["audio"]["loss_degraded_pct"] == 5
    assert h["websocket"]["clients"] == 0
    ev = h["events"]
    assert ev["deliveries"] == {"ok": 0, "failed": 0, "abandoned": 0,
                                "pending": 0, "pending_more": False}
    assert ev["oldest_pending_age_ms"] is None

    # no line registered: degraded, and it says why
    assert h["status"] == "degraded"
    assert reason_codes(h) == ["no_line_registered"]
    assert h["reasons"][0]["message"]

    # a state change only by POST/DELETE: health takes neither
    status, _, _ = service.api("POST", "/api/v1/health", {})
    assert status == 405


# -- 2. registration ---------------------------------------------------------

def test_phone_registers_then_unregisters(service, phone_factory):
    h0 = health(service)
    assert reason_codes(h0) == ["no_line_registered"]
    published0 = h0["events"]["published"]

    phone = phone_factory(line="100", regint=600)
    phone.wait_registered(10)
    h = wait_health(service, lambda h: h["status"] == "ok", 10,
                    "status ok once line 100 registered")
    assert h["reasons"] == []
    sip = h["sip"]
    assert sip["lines_registered"] == 1
    line = sip["lines"][0]
    assert line["id"] == "100" and line["registered"] is True
    assert line["source"].startswith("127.0.0.1:")
    assert 500 < line["expires_s"] <= 600
    assert line["last_register_at"] == sip["last_register_at"]
    assert line["last_register_at"] is not None
    # line.registered went through the bus
    assert h["events"]["published"] > published0
    assert h["events"]["last_seq"] >= h["events"]["published"]

    # its first SIGTERM unregisters
    phone.stop()
    h = wait_health(service, lambda h: h["status"] == "degraded", 10,
                    "degraded once line 100 unregistered")
    assert reason_codes(h) == ["no_line_registered"]
    line = h["sip"]["lines"][0]
    assert line["registered"] is False and line["expires_s"] == 0
    assert h["sip"]["lines_registered"] == 0
    # it is still known, with its last REGISTER
    assert line["last_register_at"] is not None


# -- 3. call quality: a clean call, then one losing packets -------------------

@pytest.mark.allow_skip
def test_packet_loss_shows_in_health_and_lowers_mos(service, phone_factory):
    if os.geteuid() != 0:
        pytest.skip("dropping packets with nftables needs root")
    assert shutil.which("nft"), "nft missing: scripts/deps test installs" \
        " nftables"

    rtp = even_port_pair()
    phone = phone_factory(line="100", tone=440,
                          extra_config={"rtp_ports": "%d-%d"
                                        % (rtp, rtp + 1)})
    phone.wait_registered(10)
    log = EventLog(service)
    ws = service.ws({"audio": "pcmu"})

    try:
        # a clean call
        cid = call_from_phone(service, log, phone)
        h = call_quality_known(service, cid)
        q = live_call(h, cid)["quality"]
        assert q["rx_packets"] > 100 and q["tx_packets"] > 100
        assert q["lost"] == 0 and q["loss_pct"] == 0
        assert q["mos"] >= 4.3, q
        assert h["status"] == "ok", h["reasons"]
        clean = hang_up(service, log, cid)
        assert clean["mos"] >= 4.3 and clean["loss_pct"] == 0, clean

        # one with every 10th packet from the phone dropped
        with PacketLoss(rtp, every=10) as loss:
            cid = call_from_phone(service, log, phone)
            h = wait_health(
                service, lambda h: (((live_call(h, cid) or {})
                                     .get("quality") or {})
                                    .get("loss_pct") or 0) >= 5, 20,
                "loss of %s in health" % cid)
            q = live_call(h, cid)["quality"]
            assert 7 <= q["loss_pct"] <= 13, q
            assert q["lost"] > 0
            assert q["mos"] < clean["mos"] - 1, (q, clean)

            # degraded, naming the call
            assert h["status"] == "degraded"
            r = [r for r in h["reasons"] if r["code"] == "audio_loss"]
            assert len(r) == 1 and r[0]["call"] == cid, h["reasons"]
            assert r[0]["line"] == "100"

            lossy = hang_up(service, log, cid)
            assert loss.dropped() > 0

        assert 7 <= lossy["loss_pct"] <= 13, lossy
        assert lossy["lost"] > 0
        assert lossy["mos"] < clean["mos"] - 1, (lossy, clean)
        for key in ("rx_packets", "tx_packets", "jitter_ms", "tx_lost",
                    "tx_loss_pct", "rtt_ms", "line"):
            assert key in lossy, lossy
        assert lossy["line"] == "100"

        # the call object says the same
        call = api_ok(service, "GET", "/api/v1/calls/%s" % cid)
        assert call["quality"]["mos"] == lossy["mos"]
        assert call["quality"]["lost"] == lossy["lost"]

        # ended: health is ok again, the loss is in the counters
        h = wait_health(service, lambda h: h["status"] == "ok", 5,
                        "ok once the lossy call ended")
        assert h["audio"]["calls"] == []
        m = service.metrics()
        assert m['sipphone_rtp_packets_lost_total{direction="in"}'] >= \
            lossy["lost"]
        assert m["sipphone_call_mos_count"] == 2
        assert abs(m["sipphone_call_mos_sum"] - clean["mos"] -
                   lossy["mos"]) < 0.02
    finally:
        ws.close()


def test_call_quality_before_any_rtcp_report_and_unanswered_calls(
        service, phone):
    log = EventLog(service)

    # rung and refused: no audio, no call.quality, quality null
    since = log.mark()
    phone.dial("1234")
    refused = log.wait("call.incoming", since=since)["data"]["call"]
    c = live_call(health(service), refused)
    assert c["state"] == "ringing" and c["quality"] is None
    assert c["ws"] is None
    api_ok(service, "POST", "/api/v1/calls/%s/hangup" % refused)
    log.wait("call.ended", call=refused)
    assert api_ok(service, "GET", "/api/v1/calls/%s" % refused)[
        "quality"] is None

    # answered and ended at once: packet counts, no RTCP figures yet
    cid = call_from_phone(service, log, phone)
    c = live_call(health(service), cid)
    assert c["state"] == "active" and c["quality"] is not None
    data = hang_up(service, log, cid)
    assert data["mos"] is None and data["loss_pct"] is None
    assert data["lost"] is None and data["jitter_ms"] is None
    assert data["rx_packets"] >= 0 and data["tx_packets"] >= 0
    assert api_ok(service, "GET", "/api/v1/calls/%s" % cid)[
        "quality"] == {k: v for k, v in data.items()
                       if k not in ("call", "line")}
    assert not log.find("call.quality", call=refused)


# -- 4. a client that stops reading ------------------------------------------

def test_stalled_ws_client_drops_are_counted(service, phone_factory):
    phone = phone_factory(line="100", tone=1000)
    phone.wait_registered(10)
    log = EventLog(service)
    good = service.ws({"audio": "pcmu"})
    stalled = raw_ws(service, {"audio": "pcmu"})
    try:
        cid = call_from_phone(service, log, phone)

        # the stalled client's queue fills, then drops the oldest frames
        h = wait_health(
            service, lambda h: h["websocket"]["frames_dropped"] > 0, 40,
            "frames dropped for the stalled client")
        sessions = h["websocket"]["sessions"]
        assert len(sessions) == 2
        lagging = [s for s in sessions if s["frames_dropped"] > 0]
        assert len(lagging) == 1, sessions
        assert lagging[0]["queued_bytes"] > 0
        assert lagging[0]["audio"] == "pcmu" and lagging[0]["line"] == "100"
        # the call's own audio counts the drops it caused
        ws = live_call(h, cid)["ws"]
        assert ws["clients"] == 2 and ws["dropped"] > 0
        assert ws["frames"] > ws["dropped"]

        m = service.metrics()
        assert m["sipphone_ws_frames_dropped_total"] > 0
        assert m["sipphone_ws_clients"] == 2

        # the server gives up on it (1008): its counters stay counted
        dropped = h["websocket"]["frames_dropped"]
        h = wait_health(service, lambda h: h["websocket"]["clients"] == 1,
                        40, "the stalled client closed")
        assert {"code": 1008, "reason": "policy_violation", "count": 1} \
            in h["websocket"]["closes"], h["websocket"]["closes"]
        assert h["websocket"]["frames_dropped"] >= dropped
        assert h["websocket"]["opened"] == 2
        m = service.metrics()
        assert m['sipphone_ws_closes_total{code="1008",'
                 'reason="policy_violation"}'] == 1
        assert m["sipphone_ws_frames_dropped_total"] >= dropped

        # the good client lost nothing
        good_s = h["websocket"]["sessions"][0]
        assert good_s["frames_dropped"] == 0
        api_ok(service, "POST", "/api/v1/calls/%s/hangup" % cid)
    finally:
        stalled.close()
        good.close()


# -- 5. a failing webhook endpoint -------------------------------------------

def test_failing_webhook_degrades_until_it_delivers(service, phone):
    rx = Receiver()
    try:
        rx.answer("/hooks", 500)
        wh = api_ok(service, "POST", "/api/v1/webhooks",
                    {"url": rx.url("/hooks"), "events": ["*"]},
                    status=201)
        log = EventLog(service)
        # an event for it: a to_phone call that is hung up at once
        call = api_ok(service, "POST", "/api/v1/calls", {"line": "100"},
                      status=201)
        api_ok(service, "POST", "/api/v1/calls/%s/hangup" % call["id"])
        log.wait("call.ended", call=call["id"])
        rx.wait("/hooks")

        h = wait_health(service, lambda h: "webhook_failing" in
                        reason_codes(h), 10, "webhook_failing")
        assert h["status"] == "degraded"
        r = [r for r in h["reasons"] if r["code"] == "webhook_failing"]
        assert r[0]["webhook"] == wh["id"] and "500" in r[0]["message"]
        ev = h["events"]
        assert ev["deliveries"]["failed"] >= 1
        assert ev["deliveries"]["ok"] == 0
        # the head and what queued behind it (how many events a call hung
        # up at once makes depends on the phone's timing: at least one)
        assert ev["deliveries"]["pending"] >= 1
        assert ev["webhooks"]["failing"] == 1
        ep = ev["webhooks"]["endpoints"][0]
        assert ep["id"] == wh["id"] and ep["failing"] is True
        assert ep["failures"] >= 1 and "500" in ep["last_error"]
        assert ep["pending"] == ev["deliveries"]["pending"]
        age1 = ev["oldest_pending_age_ms"]
        assert age1 is not None and age1 >= 0
        h2 = wait_health(service, lambda h: (
            h["events"]["oldest_pending_age_ms"] or 0) > age1 + 200, 5,
            "the oldest pending event ages")
        m = service.metrics()
        assert m['sipphone_webhook_deliveries_total{result="failed"}'] >= 1
        assert m['sipphone_webhook_endpoints{state="failing"}'] == 1
        assert m["sipphone_webhook_pending_events"] == \
            h2["events"]["deliveries"]["pending"]
        assert m["sipphone_webhook_oldest_pending_age_seconds"] > 0
        assert m["sipphone_degraded"] == 1
        assert m['sipphone_degraded_reasons{code="webhook_failing"}'] == 1

        # the receiver recovers; a retry of the head event delivers it and
        # the rest follow
        rx.answer("/hooks", 200)
        first = api_ok(service, "GET", "/api/v1/webhooks/%s/deliveries"
                       % wh["id"])["deliveries"][-1]["event_id"]
        api_ok(service, "POST", "/api/v1/webhooks/%s/deliveries/%s/retry"
               % (wh["id"], first), status=202)
        h = wait_health(service, lambda h: h["status"] == "ok" and
                        h["events"]["deliveries"]["pending"] == 0, 15,
                        "ok once the backlog is delivered")
        # every event it owed is delivered (one or more: see above)
        assert h["events"]["deliveries"]["ok"] >= \
            h2["events"]["deliveries"]["pending"] >= 1
        assert h["events"]["oldest_pending_age_ms"] is None
        assert h["events"]["webhooks"]["endpoints"][0]["failing"] is False
    finally:
        rx.close()
