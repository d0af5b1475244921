"""Webhook attempt history and the retention bound, end to end.

The real service and a stdlib receiver on 127.0.0.1
(sipphone_test/whreceiver.py); events come from REGISTERs sent on a raw
SIP socket (line.registered, a new contact each time) and from
POST .../test.

  1. a receiver that answers 500, then does not answer, then 200: the
     delivery record lists the three attempts newest first, each with
     its status (or null), error (or null) and duration (the silent one
     lasts the 15 s timeout).
  2. twelve attempts at one event: the record lists the newest ten.
  3. an endpoint that fails forever, with httpctl_events_keep 5 and
     httpctl_webhook_give_up 2 s: what it owes is given up after 2 s,
     each event recorded as failed ("dropped by retention") and counted
     in /metrics and /api/v1/health; the event log goes back to 5
     events after each burst instead of growing; the endpoint stays
     enabled and gets new events once its receiver is back. The WAL is
     checkpointed into events.db as the service runs. The endpoint's
     URL carries a token that shows up in no log line and no event.

The retry schedule steps 5 s then 5 min; POST .../retry makes an attempt
due now, which is how tests 1 and 2 pace their attempts. Waits poll a
condition with a deadline.
"""

import os
import re
from datetime import datetime, timezone

import pytest

from helpers import EventLog, api_ok, wait_until
from sipphone_test.sipraw import SipUdpClient

POST_TIMEOUT_MS = 15000
KEPT = 10


@pytest.fixture
def sip_factory():
    made = []

    def make(svc):
        sip = SipUdpClient(svc.sip_server)
        made.append(sip)
        return sip

    yield make
    for sip in made:
        sip.close()


def create(svc, url, events=("*",), description=None):
    body = {"url": url, "events": list(events)}
    if description is not None:
        body["description"] = description
    return api_ok(svc, "POST", "/api/v1/webhooks", body, status=201)


def deliveries(svc, wid):
    return api_ok(svc, "GET", "/api/v1/webhooks/%s/deliveries?limit=1000"
                  % wid)["deliveries"]


def record(svc, wid, event_id, pred=lambda r: True, timeout=10.0):
    def check():
        for r in deliveries(svc, wid):
            if r["event_id"] == event_id and pred(r):
                return r
        return None
    return wait_until(check, timeout, what="a record of %s at %s"
                      % (event_id, wid))


def retry(svc, wid, event_id):
    api_ok(svc, "POST", "/api/v1/webhooks/%s/deliveries/%s/retry"
           % (wid, event_id), {}, status=202)


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


def metric(svc, name):
    status, _, text = svc.api("GET", "/metrics")
    assert status == 200, text
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    assert m, "%s not in /metrics" % name
    return float(m.group(1))


def endpoint_health(svc, wid):
    health = api_ok(svc, "GET", "/api/v1/health")
    for ep in health["events"]["webhooks"]["endpoints"]:
        if ep["id"] == wid:
            return health, ep
    raise AssertionError("%s not in /api/v1/health" % wid)


def register(sip, line, n):
    r = sip.register(line, contact="<sip:%s-%d@%s>" % (line, n,
                                                       sip.hostport),
                     expires=600)
    assert r.status == 200, r.raw


# -- 1. 500, no answer, 200: three attempts, newest first --------------------

def test_each_attempt_is_listed_newest_first(service, receiver):
    wh = create(service, receiver.url("/h"))
    receiver.secret("/h", wh["secret"])
    receiver.answer("/h", 500)

    sent = api_ok(service, "POST", "/api/v1/webhooks/%s/test" % wh["id"],
                  {}, status=202)
    eid = sent["event_id"]
    record(service, wh["id"], eid, lambda r: r["status_code"] == 500)

    # the second attempt is not answered: it lasts the 15 s timeout
    receiver.hang("/h")
    retry(service, wh["id"], eid)
    receiver.wait("/h", 2)
    record(service, wh["id"], eid, lambda r: len(r["attempts"]) == 2,
           timeout=25)
    receiver.unhang("/h")
    receiver.answer("/h", 200)

    # the third succeeds: the failures before it stay in the record
    retry(service, wh["id"], eid)
    rec = record(service, wh["id"], eid,
                 lambda r: r["state"] == "delivered")

    assert rec["status_code"] == 200 and rec["error"] is None
    ok, silent, failed = rec["attempts"]
    assert (ok["status_code"], ok["error"]) == (200, None)
    assert silent["status_code"] is None
    assert silent["error"] == "no answer within 15 s"
    assert failed["status_code"] == 500
    assert failed["error"].startswith("HTTP 500")

    # newest first, and the record's own fields are the newest attempt
    times = [parse_time(a["at"]) for a in rec["attempts"]]
    assert times == sorted(times, reverse=True)
    assert rec["at"] == ok["at"]

    # durations: start to outcome
    assert POST_TIMEOUT_MS - 500 <= silent["duration_ms"] \
        <= POST_TIMEOUT_MS + 3000
    for a in (ok, failed):
        assert isinstance(a["duration_ms"], int)
        assert 0 <= a["duration_ms"] < 2000
    assert set(ok) == {"at", "status_code", "error", "duration_ms"}

    # every request was the same event, signed, three times
    reqs = receiver.requests("/h")
    assert [r["id"] for r in reqs] == [eid] * 3
    assert all(r["valid"] for r in reqs)


# -- 2. at most ten ----------------------------------------------------------

def test_a_record_keeps_the_newest_ten_attempts(service, receiver):
    receiver.answer("/h", 500)
    wh = create(service, receiver.url("/h"))
    sent = api_ok(service, "POST", "/api/v1/webhooks/%s/test" % wh["id"],
                  {}, status=202)
    eid = sent["event_id"]

    # twelve attempts, one after another: each retry once the record
    # shows the attempt before it
    prev = None
    for n in range(1, 13):
        if n > 1:
            retry(service, wh["id"], eid)
        rec = record(service, wh["id"], eid,
                     lambda r, n=n, prev=prev: r["at"] != prev and
                     len(r["attempts"]) == min(n, KEPT))
        prev = rec["at"]

    rx = [r["at"] for r in receiver.requests("/h")]
    assert len(rx) == 12
    atts = rec["attempts"]
    assert len(atts) == KEPT
    assert all(a["status_code"] == 500 for a in atts)

    # the newest ten, newest first: attempts 12 down to 3. An attempt
    # begins (at, ms) before its request arrives, and after the one
    # before it was answered.
    times = [parse_time(a["at"]) for a in atts]
    assert times == sorted(times, reverse=True)
    assert rx[10] < times[0] <= rx[11]
    assert rx[1] < times[-1] <= rx[2]


# -- 3. retention wins over an endpoint that fails forever -------------------

def test_an_endpoint_failing_forever_does_not_hold_the_log(
        service_factory, receiver, sip_factory):
    svc = service_factory(httpctl_events_keep="5",
                          httpctl_webhook_give_up="2")
    sip = sip_factory(svc)
    token = "tok-" + "7f3c9a1e5b"
    dead = create(svc, receiver.url("/dead") + "?token=" + token,
                  description="the bot")
    receiver.stop()
    log = EventLog(svc)

    def listed():
        return api_ok(svc, "GET", "/api/v1/events?after=0&limit=1000"
                      )["events"]

    given = set()
    n = 0
    for burst in range(3):
        ids = []
        for _ in range(12):
            n += 1
            register(sip, "101", n)
        ids = [e["id"] for e in log.find("line.registered")][-12:]

        # each one is given up, and recorded as such
        def all_dropped(ids=ids):
            recs = {r["event_id"]: r for r in deliveries(svc, dead["id"])}
            return all(i in recs and recs[i]["state"] == "failed"
                       and recs[i]["attempts"][0]["error"]
                       == "dropped by retention" for i in ids) or None
        wait_until(all_dropped, 15, what="burst %d given up" % burst)
        given |= set(ids)

        # and the log goes back to the newest 5
        wait_until(lambda: len(listed()) <= 5 or None, 10,
                   what="the log trimmed to 5 after burst %d" % burst)

    # what was given up: a failed record each, visible in health and
    # metrics
    recs = {r["event_id"]: r for r in deliveries(svc, dead["id"])}
    for eid in given:
        r = recs[eid]
        assert r["state"] == "failed" and r["next_attempt_at"] is None
        assert r["error"] == "dropped by retention"
        assert r["status_code"] is None
        drop = r["attempts"][0]
        assert drop["error"] == "dropped by retention"
        assert drop["duration_ms"] == 0 and drop["status_code"] is None
    health, ep = endpoint_health(svc, dead["id"])
    assert ep["dropped"] == len(given) == 36
    assert health["events"]["webhooks"]["dropped"] == 36
    assert metric(svc, "sipphone_webhook_events_dropped_total") == 36
    svc.wait_log(r"webhook %s: \d+ events \(seq \d+ to \d+\) given up"
                 % dead["id"])

    # the endpoint is still enabled: its receiver back, it gets what
    # comes next
    assert api_ok(svc, "GET", "/api/v1/webhooks/%s" % dead["id"]
                  )["enabled"] is True
    receiver.start()
    n += 1
    register(sip, "101", n)
    new = log.find("line.registered")[-1]
    receiver.wait_acked("/dead", [new["id"]], timeout=15)

    # the WAL is checkpointed into events.db while the service runs (it
    # is not only at exit), so it can be cut back after a burst
    db = os.path.join(svc.overrides["httpctl_state_dir"], "events.db")
    wait_until(lambda: os.path.getsize(db) > 4096 or None, 15,
               what="a checkpoint into events.db")

    # the URL's token is in no log line and no event
    assert token not in svc.log_text()
    assert all(token not in str(e) for e in log.find())
