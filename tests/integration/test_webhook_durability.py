"""Webhook durability end to end: real service, real receivers, real faults.

Every test runs the product (baresip + our modules) and a stdlib HTTP
receiver on 127.0.0.1 (sipphone_test/whreceiver.py) that checks the
Standard Webhooks signature of every request with the endpoint's secret
and records its webhook-id, body and arrival time. Events come from
realistic sources: REGISTERs on a raw SIP socket (line.registered, a new
contact each time; line.unregistered), a raw phone's short call (call.*,
dtmf, audio.*), and a fake phone in a call with audio to a WebSocket.

  1. a flaky receiver (500 to the first attempt of some events): every
     event arrives, in seq order per endpoint, acknowledged exactly once;
     repeats are only of attempts that failed.
  2. a receiver that never answers stalls neither another endpoint nor
     the audio to a WebSocket; it times out at 15 s.
  3. kill -9 with deliveries pending (receiver down, and one request in
     flight): after a restart every event is delivered, none that was
     acknowledged before the kill again; seq goes on. Killed while 300
     events stream to a fast receiver: all arrive, in order, at most the
     one in flight acknowledged twice.
  4. events.db deleted: the service starts fresh (seq 1, and no
     endpoints: they live in the same file). Not a sound store (garbage,
     damaged pages, truncated, a foreign SQLite file): the service
     starts, healthy, with a fresh store; the bad file is moved aside,
     never deleted, not even an earlier one moved aside in the same
     second (evstore.c says so; docs/ do not say it yet).
  5. retention (httpctl_events_keep 5): events an endpoint still owes
     are kept past the limit; once none is owed, a trim drops them.

What the retry schedule lets a test do: after a failed attempt the next
one is 5 s later (+-20 %), then 5 min. So a failing event costs ~5 s and
only the first attempt of an event can fail within a short test.
Retry-After cannot shorten that: a Retry-After is honoured only when it
asks for longer than the step. Test 1 therefore fails the first attempt
of two events only (~10 s); the ordering is still exercised, as every
later event queues behind a failing head.

Waits poll a condition with a deadline. Fixed-time waits are only where
time passing is the point: test 2 samples the WebSocket's frame count
once a second through the 15 s the hung request lasts, and publishes
an event every other second meanwhile.
"""

import os
import re
import signal
import sqlite3
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone

import pytest

from helpers import EventLog, api_ok, assert_healthy, wait_until
from sipphone_test.sipraw import RawPhone, SipUdpClient
from sipphone_test.whreceiver import Receiver

STEP_S = 5.0          # the first retry step
JITTER = 0.2          # +-20 %
POST_TIMEOUT_S = 15.0
FRAMES_PER_S = 50


# -- tools -------------------------------------------------------------------


@pytest.fixture
def receivers():
    """receivers() -> a new Receiver; all are closed at teardown."""
    made = []

    def make(**kwargs):
        rx = Receiver(**kwargs)
        made.append(rx)
        return rx

    yield make
    for rx in made:
        rx.close()


class Lines:
    """Events from REGISTERs sent on a raw SIP socket, as an ATA sends
    them: register(line) publishes one line.registered (a new contact
    each time, so a second one is a move), unregister(line) one
    line.unregistered. Each returns once the registrar answered 200."""

    def __init__(self, svc):
        self.svc = svc
        self.sip = SipUdpClient(svc.sip_server)
        self.n = 0

    def register(self, line):
        self.n += 1
        contact = "<sip:%s-%d@%s>" % (line, self.n, self.sip.hostport)
        r = self.sip.register(line, contact=contact, expires=600)
        assert r.status == 200, r.raw

    def unregister(self, line):
        r = self.sip.register(line, headers={"Contact": "*",
                                             "Expires": "0"})
        assert r.status == 200, r.raw

    def close(self):
        self.sip.close()


@pytest.fixture
def lines_factory():
    made = []

    def make(svc):
        lines = Lines(svc)
        made.append(lines)
        return lines

    yield make
    for lines in made:
        lines.close()


def create(svc, url, events=("*",)):
    return api_ok(svc, "POST", "/api/v1/webhooks",
                  {"url": url, "events": list(events)}, status=201)


def hook(svc, rx, path, events=("*",)):
    """An endpoint at rx's path; rx checks its signatures."""
    wh = create(svc, rx.url(path), events)
    rx.secret(path, wh["secret"])
    return wh


def deliveries(svc, wid):
    return api_ok(svc, "GET", "/api/v1/webhooks/%s/deliveries?limit=1000"
                  % wid)["deliveries"]


def wait_delivery(svc, wid, event_id, pred, timeout=10.0):
    def check():
        for d in deliveries(svc, wid):
            if d["event_id"] == event_id and pred(d):
                return d
        return None
    return wait_until(check, timeout, what="a delivery of %s to %s"
                      % (event_id, wid))


def last_seq(svc):
    return api_ok(svc, "GET", "/api/v1/status")["last_event_seq"]


def log_events(svc, after=0):
    """The event log after seq `after`, every page."""
    return EventLog(svc, after=after).poll()


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


def wait_all_acked(svc, rx, path, after, want=lambda ev: True,
                   timeout=30.0):
    """Wait until every event of the log after seq `after` that `want`
    picks was acknowledged at path (the log is read again each time:
    events published meanwhile count too); returns those events."""
    def done():
        evs = [e for e in log_events(svc, after) if want(e)]
        acked = {r["id"] for r in rx.acked(path)}
        return evs if evs and all(e["id"] in acked for e in evs) else None
    try:
        return wait_until(done, timeout, what="all events at %s" % path)
    except TimeoutError:
        evs = [e for e in log_events(svc, after) if want(e)]
        acked = {r["id"] for r in rx.acked(path)}
        raise TimeoutError(
            "%d of %d events not acknowledged at %s within %.0f s: %s\n"
            "--- service log:\n%s" % (
                sum(e["id"] not in acked for e in evs), len(evs), path,
                timeout, [(e["seq"], e["type"]) for e in evs
                          if e["id"] not in acked][:10],
                svc.log_tail(30))) from None


def assert_delivered_once_in_order(rx, path, events):
    """The requests to path: each signed right, in seq order (a request
    never goes back to an older event), every event acknowledged exactly
    once with the body the log holds, nothing else sent; returns
    {event id: [its requests]}."""
    reqs = rx.requests(path)
    assert reqs, "nothing came to %s" % path
    bad = [(r["id"], r["headers"].get("webhook-signature")) for r in reqs
           if r["valid"] is not True]
    assert not bad, "signatures that do not verify: %r" % bad
    seqs = [r["event"]["seq"] for r in reqs]
    assert seqs == sorted(seqs), "out of seq order at %s: %r" % (path, seqs)

    by_id = {e["id"]: e for e in events}
    extra = [r["event"]["seq"] for r in reqs if r["id"] not in by_id]
    assert not extra, "events sent that are not owed: %r" % extra
    acked = [r["id"] for r in rx.acked(path)]
    twice = [i for i, n in Counter(acked).items() if n > 1]
    assert not twice, "acknowledged more than once: %r" % [
        by_id[i]["seq"] for i in twice]
    assert acked == [e["id"] for e in events], \
        "acknowledged %r, the log has %r" % (
            [by_id[i]["seq"] for i in acked], [e["seq"] for e in events])

    per_id = {}
    for r in reqs:
        assert r["event"] == by_id[r["id"]], (r["event"], by_id[r["id"]])
        assert r["headers"]["webhook-id"] == r["event"]["id"]
        per_id.setdefault(r["id"], []).append(r)
    return per_id


# -- 1. a flaky receiver: in order, each acknowledged once -------------------

def raw_call(svc, log, line="300"):
    """A short call from a raw phone: registered, dials, answered over
    the API, two DTMF digits by INFO, hangs up."""
    ua = RawPhone(svc.sip_server, line=line)
    try:
        assert ua.register().status == 200
        since = log.mark()
        ua.invite("1234")
        cid = log.wait("call.incoming", since=since, line=line)["data"][
            "call"]
        api_ok(svc, "POST", "/api/v1/calls/%s/answer" % cid)
        ua.established()
        assert ua.info("Signal=5\r\nDuration=160\r\n").status == 200
        assert ua.info("Signal=9\r\nDuration=160\r\n").status == 200
        log.wait("dtmf", call=cid, digit="9")
        assert ua.bye().status == 200
        log.wait("call.ended", call=cid)
        assert ua.register(expires=0, headers={"Contact": "*"}).status \
            == 200
    finally:
        ua.close()
    return cid


def test_flaky_receiver_gets_every_event_once_in_order(service, receiver,
                                                        lines_factory):
    flaky = hook(service, receiver, "/flaky", ["*"])
    steady = hook(service, receiver, "/steady", ["line.*"])
    start = last_seq(service)
    log = EventLog(service, after=start)
    lines = lines_factory(service)

    # the first attempt of two events fails: the burst's first event and
    # its call.ended; the events after each queue behind it
    def unlucky(ev):
        return ev["seq"] == start + 1 or ev["type"] == "call.ended"
    receiver.fail_first("/flaky", 1, status=500, when=unlucky)

    # the burst: six lines register, three move, a short call, three
    # lines unregister
    for n in range(101, 107):
        lines.register(str(n))
    for n in range(101, 104):
        lines.register(str(n))
    raw_call(service, log)
    for n in range(104, 107):
        lines.unregister(str(n))

    events = wait_all_acked(service, receiver, "/flaky", start,
                            timeout=4 * STEP_S + 10)
    types = Counter(e["type"] for e in events)
    assert types["line.registered"] == 10 and types["line.unregistered"] \
        == 4 and types["call.ended"] == 1 and types["dtmf"] == 2, types

    per_id = assert_delivered_once_in_order(receiver, "/flaky", events)
    for ev in events:
        reqs = per_id[ev["id"]]
        if unlucky(ev):
            # one failed attempt, then the 5 s step (+-20 %)
            assert [r["status"] for r in reqs] == [500, 200], \
                (ev["seq"], [r["status"] for r in reqs])
            gap = reqs[1]["at"] - reqs[0]["at"]
            assert STEP_S * (1 - JITTER) - 0.1 <= gap \
                <= STEP_S * (1 + JITTER) + 1.5, (ev["seq"], gap)
            assert int(reqs[0]["headers"]["webhook-timestamp"]) < \
                int(reqs[1]["headers"]["webhook-timestamp"])
            assert reqs[0]["body"] == reqs[1]["body"]
        else:
            assert [r["status"] for r in reqs] == [200], \
                (ev["seq"], [r["status"] for r in reqs])

    # the records say the same
    recs = {d["event_id"]: d for d in deliveries(service, flaky["id"])}
    for ev in events:
        d = recs[ev["id"]]
        assert d["state"] == "delivered" and d["status_code"] == 200, d
        assert d["attempt"] == (2 if unlucky(ev) else 1), d
        assert d["next_attempt_at"] is None and d["error"] is None, d

    # the other endpoint got its line.* events at once, in order, once,
    # while /flaky waited on its failing head
    line_events = [e for e in events if e["type"].startswith("line.")]
    wait_all_acked(service, receiver, "/steady", start,
                   want=lambda e: e["type"].startswith("line."))
    per_id = assert_delivered_once_in_order(receiver, "/steady",
                                            line_events)
    late = [(e["seq"], round(per_id[e["id"]][0]["at"]
                             - parse_time(e["timestamp"]), 3))
            for e in line_events
            if per_id[e["id"]][0]["at"] - parse_time(e["timestamp"]) > 1.0]
    assert not late, "held back at /steady (seq, s): %r" % late
    assert len(deliveries(service, steady["id"])) == len(line_events)


# -- 2. an endpoint that never answers stalls nobody -------------------------

def test_hung_endpoint_stalls_neither_others_nor_audio(
        service, receiver, phone_factory, lines_factory):
    phone = phone_factory(line="100", tone=1000)
    phone.wait_registered(10)
    ws = service.ws({"audio": "pcmu"})
    try:
        log = EventLog(service)
        cid = api_ok(service, "POST", "/api/v1/calls", {"line": "100"},
                     201)["id"]
        log.wait("call.answered", call=cid)
        ws.wait_binary(10, timeout=5)

        # A never answers; B is healthy
        receiver.hang("/silent")
        silent = hook(service, receiver, "/silent")
        hook(service, receiver, "/live")
        start = last_seq(service)
        lines = lines_factory(service)
        lines.register("201")
        hung = receiver.wait("/silent")[0]

        # Observation window (time passing is the point): from the hung
        # request to its timeout, sample the WebSocket's frame count each
        # second and publish an event every other second.
        t0 = hung["at"]
        samples = [(time.time(), len(ws.binaries))]
        timed_out = None
        while time.time() - t0 < POST_TIMEOUT_S + 5:
            time.sleep(1.0)
            samples.append((time.time(), len(ws.binaries)))
            if len(samples) % 2 == 0:
                lines.register("201")
            rec = [d for d in deliveries(service, silent["id"])
                   if d["event_id"] == hung["id"]]
            if rec and rec[0]["error"]:
                timed_out = (time.time(), rec[0])
                break
        assert timed_out is not None, "no timeout of the hung request " \
            "within %.0f s" % (POST_TIMEOUT_S + 5)

        # A: timed out at 15 s (seen by a poll once a second), to be
        # tried again
        when, rec = timed_out
        assert POST_TIMEOUT_S - 0.5 <= when - t0 <= POST_TIMEOUT_S + 2.0, \
            when - t0
        assert "no answer within 15 s" in rec["error"], rec
        assert rec["state"] == "pending" and rec["status_code"] is None
        assert rec["attempt"] == 1 and rec["next_attempt_at"], rec
        assert len(receiver.requests("/silent")) == 1

        # B: every event within 1 s of its publication, in order, once
        events = wait_all_acked(service, receiver, "/live", start)
        assert len(events) >= 7, [e["seq"] for e in events]
        per_id = assert_delivered_once_in_order(receiver, "/live", events)
        lag = [round(per_id[e["id"]][0]["at"] - parse_time(e["timestamp"]),
                     3) for e in events]
        assert max(lag) < 1.0, "B's lag (s): %r" % lag

        # the audio went on at 50 frames/s all along
        (ta, na), (tb, nb) = samples[0], samples[-1]
        assert nb - na >= 0.9 * FRAMES_PER_S * (tb - ta), \
            "%d frames in %.1f s" % (nb - na, tb - ta)
        for (ta, na), (tb, nb) in zip(samples[::2], samples[2::2]):
            assert nb - na >= 0.75 * FRAMES_PER_S * (tb - ta), \
                "audio starved %.1f-%.1f s: %d frames" % (
                    ta - t0, tb - t0, nb - na)
        assert not ws.closed
        call = api_ok(service, "GET", "/api/v1/calls/%s" % cid)
        assert call["state"] == "active", call
        assert_healthy(service)
    finally:
        ws.close()


# -- 3. kill -9 with deliveries pending --------------------------------------

def test_sigkill_loses_nothing_and_repeats_nothing_acknowledged(
        service, receiver, lines_factory):
    hook_ = hook(service, receiver, "/hook")
    slow = hook(service, receiver, "/slow")
    receiver.hang("/slow")       # its first request is in flight at the kill
    start = last_seq(service)
    lines = lines_factory(service)

    # three events acknowledged, and their outcome written
    for n in range(101, 104):
        lines.register(str(n))
    before = log_events(service, start)
    assert len(before) == 3
    receiver.wait_acked("/hook", [e["id"] for e in before])
    for e in before:
        wait_delivery(service, hook_["id"], e["id"],
                      lambda d: d["state"] == "delivered")
    in_flight = receiver.wait("/slow")[0]
    assert in_flight["id"] == before[0]["id"]

    # the receiver goes down: five more events wait, the head's first
    # attempt failed (refused) with the next one pending
    receiver.stop()
    for n in range(104, 109):
        lines.register(str(n))
    pending = log_events(service, start)[3:]
    assert len(pending) == 5
    head = wait_delivery(service, hook_["id"], pending[0]["id"],
                         lambda d: d["error"] is not None)
    assert head["state"] == "pending" and head["attempt"] == 1, head
    assert "could not connect" in head["error"], head
    last = last_seq(service)
    assert last == start + 8
    old = log_events(service)

    # kill -9
    os.kill(service.proc.pid, signal.SIGKILL)
    assert service.proc.wait(5) == -signal.SIGKILL

    # the receiver comes back; the service restarts on the same state
    receiver.unhang("/slow")
    receiver.start()
    service.restart()
    assert_healthy(service)

    everything = before + pending
    receiver.wait_acked("/hook", [e["id"] for e in everything],
                        timeout=STEP_S * (1 + JITTER) + 15)
    receiver.wait_acked("/slow", [e["id"] for e in everything], timeout=15)

    # /hook: each event acknowledged once, in order; the three
    # acknowledged before the kill were not sent again
    per_id = assert_delivered_once_in_order(receiver, "/hook", everything)
    for e in before:
        assert len(per_id[e["id"]]) == 1, (e["seq"], len(per_id[e["id"]]))
    for e in pending:
        assert [r["status"] for r in per_id[e["id"]]] == [200], e["seq"]

    # /slow: the request in flight at the kill had no answer: sent again
    # (at least once), then the rest, each acknowledged once
    per_id = assert_delivered_once_in_order(receiver, "/slow", everything)
    first = per_id[before[0]["id"]]
    assert [r["status"] for r in first] == [None, 200], \
        [r["status"] for r in first]
    assert first[0]["body"] == first[1]["body"]
    # the attempt cut short was never written down: it does not count
    rec = wait_delivery(service, slow["id"], before[0]["id"],
                        lambda d: d["state"] == "delivered")
    assert rec["attempt"] == 1, rec

    # seq goes on; the log kept everything
    assert last_seq(service) == last
    lines.register("109")
    new = log_events(service, last)
    assert [e["seq"] for e in new] == [last + 1], new
    assert log_events(service)[:len(old)] == old
    receiver.wait_acked("/hook", [new[0]["id"]])
    assert [r["event"]["seq"] for r in receiver.acked("/hook")][-1] == \
        last + 1
    assert "events up to seq %d" % last in service.log_text()


def test_sigkill_mid_stream_repeats_at_most_the_request_in_flight(
        service, receiver, lines_factory):
    """kill -9 while events stream to a fast receiver: after the restart
    all arrive, in order; the only event acknowledged twice can be the
    one whose 2xx the service had not yet written down (at most one per
    endpoint)."""
    hook(service, receiver, "/hook")
    start = last_seq(service)
    lines = lines_factory(service)
    for i in range(300):
        lines.register(str(100 + i % 8))
    receiver.wait("/hook", 40, timeout=10)
    os.kill(service.proc.pid, signal.SIGKILL)
    assert service.proc.wait(5) == -signal.SIGKILL
    acked_before = len(receiver.acked("/hook"))

    service.restart()
    events = wait_all_acked(service, receiver, "/hook", start, timeout=30)
    assert len(events) == 300
    assert acked_before < 300, "all delivered before the kill: no test"
    print("acknowledged before the kill: %d of 300" % acked_before)

    reqs = receiver.requests("/hook")
    assert all(r["valid"] for r in reqs)
    seqs = [r["event"]["seq"] for r in reqs]
    assert seqs == sorted(seqs), "out of order"
    twice = [i for i, n in Counter(r["id"] for r in receiver.acked(
        "/hook")).items() if n > 1]
    assert len(twice) <= 1, "acknowledged twice: %r" % twice
    assert [r["id"] for r in receiver.acked("/hook") if r["id"] not in
            twice] == [e["id"] for e in events if e["id"] not in twice]


# -- 4. the store deleted, or not a sound store ------------------------------

STORE_FILES = ("events.db", "events.db-wal", "events.db-shm")
MOVED = re.compile(r"evstore: (\S+) was not a sound event store: moved to "
                   r"(\S+\.corrupt-\d+); starting a fresh one")


def filled(svc, rx, lines):
    """An endpoint and a few events delivered; returns the endpoint."""
    wh = hook(svc, rx, "/hook")
    start = last_seq(svc)
    for n in range(101, 104):
        lines.register(str(n))
    wait_all_acked(svc, rx, "/hook", start)
    return wh


def assert_fresh(svc, lines):
    """A fresh store: no events, no endpoints, the next event is seq 1."""
    assert_healthy(svc)
    assert last_seq(svc) == 0
    assert log_events(svc) == []
    assert api_ok(svc, "GET", "/api/v1/webhooks")["webhooks"] == []
    lines.register("110")
    assert [e["seq"] for e in log_events(svc)] == [1]


def test_store_deleted_starts_fresh(service, receiver, lines_factory):
    """What the product does: endpoints live in events.db with the log,
    so deleting the file forgets them too; seq starts again at 1 (a
    receiver that dedups on webhook-id is safe: ids are random)."""
    lines = lines_factory(service)
    wh = filled(service, receiver, lines)
    old_ids = {e["id"] for e in log_events(service)}
    service.stop()
    for name in STORE_FILES:
        (service.state_dir / name).unlink(missing_ok=True)

    service.start()
    assert_fresh(service, lines)
    assert not old_ids & {e["id"] for e in log_events(service)}
    assert api_ok(service, "GET", "/api/v1/webhooks/%s" % wh["id"],
                  status=404)["error"]["code"] == "webhook_not_found"
    assert "events up to seq 0" in service.log_text()
    assert not MOVED.search(service.log_text())


def garbage(data):
    return b"this is not an SQLite database. " * 64


def damaged_pages(data):
    # the 100-byte header intact, every page after it overwritten
    return data[:100] + bytes((i * 7 + 13) & 0xff
                              for i in range(len(data) - 100))


def truncated(data):
    # what a write cut short leaves: the first page of several
    assert len(data) > 8192
    return data[:4096]


def foreign_sqlite(data):
    # a sound SQLite file that is not our store (another program's, or a
    # copy put there by mistake), with a table named events
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "other.db")
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE events (name TEXT, at TEXT)")
        con.execute("INSERT INTO events VALUES ('boot', 'now')")
        con.commit()
        con.close()
        with open(path, "rb") as f:
            return f.read()


@pytest.mark.parametrize("damage", [garbage, damaged_pages, truncated,
                                    foreign_sqlite],
                         ids=lambda f: f.__name__)
def test_unsound_store_is_moved_aside(service, receiver, lines_factory,
                                      damage):
    lines = lines_factory(service)
    filled(service, receiver, lines)
    service.stop()
    db = service.state_dir / "events.db"
    for name in STORE_FILES[1:]:
        (service.state_dir / name).unlink(missing_ok=True)
    bad = damage(db.read_bytes())
    db.write_bytes(bad)

    since = service.log_size()
    service.start()        # raises if the service exits or never answers
    m = service.wait_log(MOVED.pattern, timeout=5, since=since)
    assert m.group(1) == str(db), m.group(0)
    aside = service.state_dir / os.path.basename(m.group(2))
    assert aside.exists(), sorted(os.listdir(service.state_dir))
    assert aside.read_bytes() == bad        # kept, never deleted
    assert_fresh(service, lines)


def test_moving_aside_keeps_an_earlier_file_moved_aside(service,
                                                        lines_factory):
    """Two unsound stores in the same second (a store damaged again just
    after it was replaced): the second must not overwrite the first.
    The earlier one is stood in for by files named as a move-aside of
    each second around now would be."""
    lines = lines_factory(service)
    lines.register("101")
    service.stop()
    db = service.state_dir / "events.db"
    for name in STORE_FILES[1:]:
        (service.state_dir / name).unlink(missing_ok=True)
    db.write_bytes(garbage(b""))
    now = int(time.time())
    earlier = {}
    for t in range(now - 2, now + 30):
        path = service.state_dir / ("events.db.corrupt-%d" % t)
        path.write_bytes(b"an earlier store moved aside at %d" % t)
        earlier[path] = path.read_bytes()

    since = service.log_size()
    service.start()
    m = service.wait_log(MOVED.pattern, timeout=5, since=since)
    assert_fresh(service, lines)
    lost = [p.name for p, data in earlier.items()
            if not p.exists() or p.read_bytes() != data]
    assert not lost, "overwritten by the move aside (%s): %r" % (
        m.group(2), lost)
    asides = [p for p in service.state_dir.iterdir()
              if p.name.startswith("events.db.corrupt-")
              and p.read_bytes() == garbage(b"")]
    assert len(asides) == 1, sorted(os.listdir(service.state_dir))


# -- 5. retention keeps what an endpoint owes --------------------------------

def test_retention_keeps_what_an_endpoint_still_owes(
        service_factory, receivers, lines_factory):
    svc = service_factory(httpctl_events_keep="5")
    lines = lines_factory(svc)
    # three events nobody owes
    for n in range(101, 104):
        lines.register(str(n))
    start = last_seq(svc)

    # two endpoints whose receivers are down (connection refused)
    rx_a, rx_b = receivers(), receivers()
    a = hook(svc, rx_a, "/a")
    b = hook(svc, rx_b, "/b")
    rx_a.stop()
    rx_b.stop()
    for i in range(12):
        lines.register("104" if i % 2 else "105")
    owed = log_events(svc, start)
    assert len(owed) == 12
    for wh in (a, b):
        wait_delivery(svc, wh["id"], owed[0]["id"],
                      lambda d: d["error"] is not None)

    def listed_seqs():
        return [e["seq"] for e in log_events(svc)]

    owed_seqs = [e["seq"] for e in owed]

    # trim runs at start: 12 events owed stay, past the limit of 5; the
    # three nobody owed go (so the trim did run)
    svc.restart()
    wait_until(lambda: listed_seqs() == owed_seqs, 5,
               what="the log trimmed to the owed events")

    # A's receiver comes back: A delivers all (its retry keeps its time)
    rx_a.start()
    wait_all_acked(svc, rx_a, "/a", start,
                   timeout=STEP_S * (1 + JITTER) + 15)
    assert_delivered_once_in_order(rx_a, "/a", owed)

    # B still owes them all: kept
    # (the trim at start runs in the loop's first round, before the API
    # answers: the first restart above showed it running)
    svc.restart()
    assert_healthy(svc)
    assert listed_seqs() == owed_seqs
    assert b["id"] in [w["id"] for w in api_ok(
        svc, "GET", "/api/v1/webhooks")["webhooks"]]

    # no endpoint owes anything any more: the next trim keeps the newest 5
    api_ok(svc, "DELETE", "/api/v1/webhooks/%s" % b["id"])
    svc.restart()
    wait_until(lambda: listed_seqs() == owed_seqs[-5:], 5,
               what="the log trimmed to the newest 5 events")
    assert last_seq(svc) == owed_seqs[-1]
    lines.register("106")
    assert listed_seqs()[-1] == owed_seqs[-1] + 1
