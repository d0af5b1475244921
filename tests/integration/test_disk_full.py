"""A full disk under the event log: calls go on, nothing floods, writing
resumes by itself.

The state directory is a small tmpfs of its own (we run as root:
`mount -t tmpfs`, unmounted at teardown whatever happens). A file fills
it to the last byte; then the real service, with a fake HT802 port
(baresip) on line 100, a WebSocket client and a webhook receiver:

  - calls rung over the API keep working and the WebSocket client gets
    every event of each, live;
  - once the store's writes fail (SQLite's WAL may have room for a few
    events first, so calls are made until they do), GET /api/v1/health
    says degraded, code store_full, with the count of events waiting;
    /metrics counts them; GET /api/v1/events does not list them yet; the
    log says so in a few lines, not one per event;
  - the filling file removed, the waiting events are written within
    seconds (no restart): the log lists them in seq order with no gap,
    health is ok again, the webhook receiver gets them, and the next
    call's events are written at once.
"""

import errno
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers import EventLog, api_ok, wait_until

DISK = "4m"


@pytest.fixture
def small_disk():
    """A fresh tmpfs of DISK bytes, mode 0700; unmounted at teardown."""
    where = Path(tempfile.mkdtemp(prefix="sipphone-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o",
                    "size=%s,mode=0700" % DISK, "tmpfs", str(where)],
                   check=True)
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)]).returncode:
            subprocess.run(["umount", "-l", str(where)], check=True)
        where.rmdir()


def fill(path):
    """Write path until the file system is full; returns its size."""
    size = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 16, 1 << 12, 1):
            block = b"\0" * chunk
            while True:
                try:
                    n = f.write(block)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                    break
                size += n
                if n < chunk:
                    break
    return size


def health(svc):
    return api_ok(svc, "GET", "/api/v1/health")


def store_reason(h):
    for r in h["reasons"]:
        if r["code"] in ("store_full", "store_error"):
            return r
    return None


def metric(svc, name):
    status, _, text = svc.api("GET", "/metrics")
    assert status == 200, text
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    assert m, "%s not in /metrics" % name
    return float(m.group(1))


def ws_events(ws, since=0):
    return [t["event"] for t in ws.texts[since:]
            if isinstance(t, dict) and t.get("type") == "event"]


def call(svc, ws, log_types=("call.ringing", "call.answered",
                             "call.ended")):
    """Ring line 100 (the phone answers by itself), hang up; returns the
    events of the call the WebSocket client got, live."""
    since = ws.mark()[0]
    cid = api_ok(svc, "POST", "/api/v1/calls", {"line": "100"},
                 status=201)["id"]

    def got(type_):
        return ws.wait_text(lambda t: isinstance(t, dict)
                            and t.get("type") == "event"
                            and t["event"]["type"] == type_
                            and t["event"]["data"].get("call") == cid,
                            timeout=10, since=since)

    got("call.answered")
    api_ok(svc, "POST", "/api/v1/calls/%s/hangup" % cid)
    got("call.ended")
    evs = [e for e in ws_events(ws, since) if e["data"].get("call") == cid]
    assert [e["type"] for e in evs if e["type"] in log_types] == \
        list(log_types)
    return evs


def listed_ids(svc):
    return {e["id"] for e in EventLog(svc, after=0).poll()}


def test_a_full_disk_loses_no_call_and_heals_itself(
        small_disk, service_factory, phone_factory, receiver):
    svc = service_factory(httpctl_state_dir=str(small_disk))
    phone = phone_factory(server=svc.sip_server, line="100")
    phone.wait_registered(10)
    wh = api_ok(svc, "POST", "/api/v1/webhooks",
                {"url": receiver.url("/h"), "events": ["call.*"]},
                status=201)
    ws = svc.ws()
    try:
        assert store_reason(health(svc)) is None
        assert (small_disk / "events.db").exists()

        # the disk full to the last byte
        log_at = svc.log_size()
        filler = small_disk / "filler"
        assert fill(filler) > 0
        assert os.statvfs(small_disk).f_bavail == 0

        # calls until the store cannot write (the WAL may hold a few)
        calls = []
        for _ in range(10):
            calls.append(call(svc, ws))
            if store_reason(health(svc)):
                break
        reason = store_reason(health(svc))
        assert reason, "the store never failed:\n%s" % svc.log_tail(30)

        # one more call while it cannot: it works, the WebSocket client
        # gets its events live, the log does not have them yet
        during = call(svc, ws)
        h = health(svc)
        reason = store_reason(h)
        assert h["status"] == "degraded"
        assert reason["code"] == "store_full"
        assert reason["pending"] >= len(during) and reason["lost"] == 0
        assert "No space left on device" in reason["message"]
        assert h["events"]["store"]["writing"] is False
        assert h["events"]["store"]["pending"] == reason["pending"]
        assert h["events"]["store_errors"] >= reason["pending"]
        assert metric(svc, "sipphone_event_store_pending") == \
            reason["pending"]
        assert metric(svc, "sipphone_event_store_errors_total") >= \
            reason["pending"]
        assert metric(svc, "sipphone_degraded") == 1
        listed = listed_ids(svc)
        assert not {e["id"] for e in during} & listed

        # the log said so, in a few lines, not one per event
        failing = svc.log_from(log_at)
        assert failing.count("cannot write the event log") == 1
        assert len(re.findall(r"^.*evstore.*$", failing, re.M)) <= 12, \
            failing

        # space again: what waited is written, by itself
        filler.unlink()
        wait_until(lambda: store_reason(health(svc)) is None or None, 10,
                   what="the store writing again")
        h = health(svc)
        assert h["status"] == "ok", h["reasons"]
        store = h["events"]["store"]
        assert store["writing"] is True and store["pending"] == 0
        assert store["written_late"] >= len(during)
        assert store["lost"] == 0
        svc.wait_log(r"writing again after \d+ s: \d+ events written late,"
                     r" 0 lost")

        # every event the client got is in the log, in order, no gap
        # (EventLog checks that seq grows by one)
        got = [e for c in calls + [during] for e in c]
        assert {e["id"] for e in got} <= listed_ids(svc)

        # and the next call's events are written at once
        after = call(svc, ws)
        assert {e["id"] for e in after} <= listed_ids(svc)

        # the webhook gets the events written late, too
        want = [e["id"] for e in got + after if e["type"] == "call.ended"]
        receiver.wait_acked("/h", want, timeout=20)
        assert api_ok(svc, "GET", "/api/v1/webhooks/%s" % wh["id"]
                      )["enabled"] is True
    finally:
        ws.close()
