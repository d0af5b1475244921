"""Webhooks end to end: the real service POSTs to receivers on 127.0.0.1.

The receiver is Python's http.server in a thread; it records every request
(headers and raw body) and answers what each path is told to (a status
sequence, Retry-After, or no answer at all). Signatures are checked with
the verification snippets of docs/webhooks.md themselves: the Python one
is run here, the Node one with `node` when it is installed.

Events come from a fake phone (line.registered), from POST .../test
(webhook.test) and from endpoints that answer 410 (webhook.disabled), so
most tests need no phone. Waits poll a condition with a deadline; the
fixed-time waits are windows in which something must NOT happen.
"""

import base64
import http.client
import json
import re
import shutil
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from helpers import EventLog, api_ok, assert_error, assert_healthy
from sipphone_test.procs import wait_until
from sipphone_test.whreceiver import Receiver

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
WH_ID = re.compile(r"^wh_[0-9a-f]+$")
SECRET = re.compile(r"^whsec_[A-Za-z0-9+/]+={0,2}$")


# -- the doc's verification snippets -----------------------------------------

def doc_snippet(lang, marker):
    """The fenced ```lang block of docs/webhooks.md that contains marker."""
    text = DOCS.read_text()
    for block in re.findall(r"```%s\n(.*?)```" % lang, text, re.S):
        if marker in block:
            return block
    raise AssertionError("no %s block with %r in %s" % (lang, marker, DOCS))


def python_verifier():
    scope = {}
    exec(doc_snippet("python", "def verify_webhook"), scope)  # noqa: S102
    return scope["verify_webhook"]


verify_webhook = python_verifier()


NODE_HARNESS = """
let input = "";
process.stdin.on("data", (d) => { input += d; });
process.stdin.on("end", () => {
  const t = JSON.parse(input);
  const body = Buffer.from(t.body, "base64");
  process.stdout.write(verifyWebhook(t.secret, t.headers, body)
                       ? "valid" : "invalid");
});
"""


def node_verify(tmp_path, secret, headers, body):
    script = tmp_path / "verify.js"
    script.write_text(doc_snippet("js", "function verifyWebhook")
                      + NODE_HARNESS)
    arg = {"secret": secret,
           "headers": {k.lower(): v for k, v in headers.items()},
           "body": base64.b64encode(body).decode()}
    out = subprocess.run(["node", str(script)], input=json.dumps(arg),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout == "valid"


# -- the receiver ------------------------------------------------------------

# Receiver (tests/support/sipphone_test/whreceiver.py): answer(path,
# *statuses, retry_after=None), hang(path), requests(path) -> dicts
# {path, headers, body, event, at, ...}, wait(path, count, timeout).


# -- helpers -----------------------------------------------------------------

def create(service, url, events=("*",), **extra):
    body = {"url": url, "events": list(events)}
    body.update(extra)
    return api_ok(service, "POST", "/api/v1/webhooks", body, status=201)


def get(service, wid):
    return api_ok(service, "GET", "/api/v1/webhooks/%s" % wid)


def deliveries(service, wid, limit=None):
    path = "/api/v1/webhooks/%s/deliveries" % wid
    if limit is not None:
        path += "?limit=%d" % limit
    return api_ok(service, "GET", path)["deliveries"]


def wait_delivery(service, wid, event_id, pred, timeout=10.0):
    def check():
        for d in deliveries(service, wid):
            if d["event_id"] == event_id and pred(d):
                return d
        return None
    return wait_until(check, timeout, what="delivery of %s to %s"
                      % (event_id, wid))


def send_test(service, wid):
    return api_ok(service, "POST", "/api/v1/webhooks/%s/test" % wid,
                  status=202)


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


def raw_events(service):
    """GET /api/v1/events as the raw bytes of its body."""
    conn = http.client.HTTPConnection("127.0.0.1", service.http_port,
                                      timeout=10)
    try:
        conn.request("GET", "/api/v1/events?limit=1000",
                     headers={"Authorization": "Bearer %s" % service.token})
        resp = conn.getresponse()
        assert resp.status == 200
        return resp.read()
    finally:
        conn.close()


def assert_nothing(receiver, path, seconds, since=0):
    """No request to path arrives (after the first since) within seconds."""
    time.sleep(seconds)
    extra = receiver.requests(path)[since:]
    assert not extra, [r["event"] for r in extra]


# -- 1. endpoints: create, validate, list, get, delete -----------------------

BAD_CREATES = [
    ({"events": ["*"]}, '"url"'),
    ({"url": 5, "events": ["*"]}, '"url"'),
    ({"url": "ftp://example.com/x", "events": ["*"]}, "http:// or https://"),
    ({"url": "example.com/hook", "events": ["*"]}, "http:// or https://"),
    ({"url": "http:///path", "events": ["*"]}, "no host"),
    ({"url": "http://", "events": ["*"]}, "no host"),
    ({"url": "http://exa mple.com/", "events": ["*"]}, "space"),
    ({"url": "http://u:p@example.com/", "events": ["*"]}, "credentials"),
    ({"url": "http://example.com:0/", "events": ["*"]}, "port"),
    ({"url": "http://example.com:99999/", "events": ["*"]}, "port"),
    ({"url": "http://example.com/" + "a" * 2040, "events": ["*"]}, "2048"),
    ({"url": "https://example.com/"}, '"events"'),
    ({"url": "https://example.com/", "events": []}, '"events"'),
    ({"url": "https://example.com/", "events": "call.*"}, '"events"'),
    ({"url": "https://example.com/", "events": [7]}, '"events"[0]'),
    ({"url": "https://example.com/", "events": ["call.*", "Call.Ended"]},
     '"events"[1]'),
    ({"url": "https://example.com/", "events": ["call*"]}, '"events"[0]'),
    ({"url": "https://example.com/", "events": ["*.ended"]}, '"events"[0]'),
    ({"url": "https://example.com/", "events": ["call..ended"]},
     '"events"[0]'),
    ({"url": "https://example.com/", "events": ["call.*"],
      "description": 5}, '"description"'),
]


def test_create_validate_list_get_delete(service):
    for body, words in BAD_CREATES:
        err = assert_error(service, "POST", "/api/v1/webhooks", body, 400,
                           "invalid_field")
        assert words in err["message"], (body, err)

    url = "https://hooks.example.com/phone?token=abc"
    wh = create(service, url, ["call.*", "dtmf", "*"], description="bot")
    assert WH_ID.match(wh["id"]), wh
    assert wh["url"] == url and wh["events"] == ["call.*", "dtmf", "*"]
    assert wh["enabled"] is True and wh["description"] == "bot"
    assert abs(parse_time(wh["created_at"]) - time.time()) < 60
    assert SECRET.match(wh["secret"]), wh
    key = base64.b64decode(wh["secret"][len("whsec_"):])
    assert 24 <= len(key) <= 32

    other = create(service, "http://127.0.0.1:9/x", ["line.registered"])
    assert other["id"] != wh["id"] and other["secret"] != wh["secret"]

    # the secret is shown once: never listed, never in GET
    listed = api_ok(service, "GET", "/api/v1/webhooks")["webhooks"]
    assert [w["id"] for w in listed] == [wh["id"], other["id"]]
    assert all("secret" not in w for w in listed)
    one = get(service, wh["id"])
    assert "secret" not in one
    assert one == {k: v for k, v in wh.items() if k != "secret"}
    assert deliveries(service, wh["id"]) == []

    assert_error(service, "GET", "/api/v1/webhooks/wh_nope", status=404,
                 code="webhook_not_found")
    assert_error(service, "GET", "/api/v1/webhooks/wh_nope/deliveries",
                 status=404, code="webhook_not_found")
    assert_error(service, "GET", "/api/v1/webhooks/%s/deliveries?limit=x"
                 % wh["id"], status=400, code="invalid_query")

    gone = api_ok(service, "DELETE", "/api/v1/webhooks/%s" % wh["id"])
    assert gone["id"] == wh["id"] and "secret" not in gone
    assert_error(service, "GET", "/api/v1/webhooks/%s" % wh["id"],
                 status=404, code="webhook_not_found")
    assert_error(service, "DELETE", "/api/v1/webhooks/%s" % wh["id"],
                 status=404, code="webhook_not_found")
    listed = api_ok(service, "GET", "/api/v1/webhooks")["webhooks"]
    assert [w["id"] for w in listed] == [other["id"]]

    # the secret never reaches the log
    assert wh["secret"] not in service.log_text()
    assert other["secret"] not in service.log_text()


# -- 2. a phone registers: the signed event arrives --------------------------

def test_line_registered_is_delivered_signed(service, receiver,
                                             phone_factory):
    lines = create(service, receiver.url("/lines"), ["line.*"])
    calls = create(service, receiver.url("/calls"), ["call.*"])
    log = EventLog(service)

    phone_factory(line="100").wait_registered(10)
    event = log.wait("line.registered", line="100")

    req = receiver.wait("/lines")[0]
    hdrs, body = req["headers"], req["body"]
    assert req["event"] == event
    assert hdrs["Content-Type"] == "application/json"
    assert hdrs["User-Agent"].startswith("sipphone/")
    assert hdrs["webhook-id"] == event["id"]
    assert abs(int(hdrs["webhook-timestamp"]) - time.time()) < 60
    assert hdrs["webhook-signature"].startswith("v1,")

    # the stored envelope, byte for byte
    assert body in raw_events(service)

    # the doc's snippet verifies it, and nothing else
    assert verify_webhook(lines["secret"], hdrs, body)
    assert not verify_webhook(lines["secret"], hdrs, body + b" ")
    assert not verify_webhook(calls["secret"], hdrs, body)
    stale = dict(hdrs.items())
    stale["webhook-timestamp"] = str(int(time.time()) - 3600)
    assert not verify_webhook(lines["secret"], stale, body)

    (rec,) = [d for d in deliveries(service, lines["id"])
              if d["event_id"] == event["id"]]
    assert rec["seq"] == event["seq"] and rec["type"] == "line.registered"
    assert rec["attempt"] == 1 and rec["state"] == "delivered"
    assert rec["status_code"] == 200 and rec["error"] is None
    assert rec["next_attempt_at"] is None
    assert abs(parse_time(rec["at"]) - req["at"]) < 5

    # filters: call.* wants no line events
    assert receiver.requests("/calls") == []
    assert deliveries(service, calls["id"]) == []


@pytest.mark.allow_skip
def test_node_snippet_verifies(service, receiver, tmp_path):
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    wh = create(service, receiver.url("/node"))
    other = create(service, receiver.url("/other"))
    send_test(service, wh["id"])
    req = receiver.wait("/node")[0]
    hdrs, body = req["headers"], req["body"]

    assert node_verify(tmp_path, wh["secret"], hdrs, body)
    assert not node_verify(tmp_path, wh["secret"], hdrs,
                           body.replace(b"webhook", b"Webhook"))
    assert not node_verify(tmp_path, other["secret"], hdrs, body)
    old = dict(hdrs.items())
    old["webhook-timestamp"] = str(int(time.time()) - 3600)
    assert not node_verify(tmp_path, wh["secret"], old, body)


# -- 3. 410 disables ---------------------------------------------------------

def test_gone_disables_the_endpoint(service, receiver):
    receiver.answer("/gone", 410)
    gone = create(service, receiver.url("/gone"))
    watcher = create(service, receiver.url("/watch"), ["webhook.*"])
    log = EventLog(service)

    sent = send_test(service, gone["id"])
    req = receiver.wait("/gone")[0]
    assert req["headers"]["webhook-id"] == sent["event_id"]

    disabled = log.wait("webhook.disabled", webhook=gone["id"])
    # named by id: the URL may hold the receiver's token
    assert "url" not in disabled["data"]
    assert disabled["data"]["description"] == gone["description"]
    assert "410" in disabled["data"]["reason"]

    now = get(service, gone["id"])
    assert now["enabled"] is False and "410" in now["disabled_reason"]
    assert abs(parse_time(now["disabled_at"]) - time.time()) < 60

    (rec,) = deliveries(service, gone["id"])
    assert rec["event_id"] == sent["event_id"]
    assert rec["state"] == "failed" and rec["status_code"] == 410
    assert rec["next_attempt_at"] is None

    # others hear of it; the test itself went to /gone alone
    got = receiver.wait("/watch")[0]
    assert got["event"]["type"] == "webhook.disabled"
    assert got["event"]["data"]["webhook"] == gone["id"]

    # a disabled endpoint gets nothing more
    assert_error(service, "POST", "/api/v1/webhooks/%s/test" % gone["id"],
                 status=409, code="webhook_disabled")
    send_test(service, watcher["id"])
    receiver.wait("/watch", 2)
    assert len(receiver.requests("/gone")) == 1
    assert "webhook %s disabled" % gone["id"] in service.log_text()


# -- 4. a test event goes to its endpoint only -------------------------------

def test_test_event_goes_to_its_endpoint_only(service, receiver):
    a = create(service, receiver.url("/a"), ["*"])
    b = create(service, receiver.url("/b"), ["*"])
    c = create(service, receiver.url("/c"), ["webhook.test"])

    sent = send_test(service, a["id"])
    assert sent["webhook"] == a["id"] and sent["seq"] > 0
    req = receiver.wait("/a")[0]
    assert req["event"]["type"] == "webhook.test"
    assert req["event"]["id"] == sent["event_id"]
    assert req["event"]["seq"] == sent["seq"]
    assert req["event"]["data"] == {"webhook": a["id"]}
    assert verify_webhook(a["secret"], req["headers"], req["body"])

    # b's own test reaches b, and only b
    sent_b = send_test(service, b["id"])
    assert receiver.wait("/b")[0]["event"]["id"] == sent_b["event_id"]
    assert_nothing(receiver, "/c", 1.0)
    assert len(receiver.requests("/a")) == 1
    assert len(receiver.requests("/b")) == 1
    assert_error(service, "POST", "/api/v1/webhooks/wh_nope/test",
                 status=404, code="webhook_not_found")
    assert c["enabled"]


# -- 5. retries keep order; the deliveries list shows them -------------------

def test_retry_schedule_keeps_order(service, receiver):
    # two webhook.disabled events (from two endpoints that answer 410)
    # to an endpoint that fails the first attempt
    receiver.answer("/gone1", 410)
    receiver.answer("/gone2", 410)
    receiver.answer("/flaky", 503, 200, retry_after=1)
    flaky = create(service, receiver.url("/flaky"), ["webhook.disabled"])
    # (their filter keeps them from each other's webhook.disabled)
    gone1 = create(service, receiver.url("/gone1"), ["dtmf"])
    gone2 = create(service, receiver.url("/gone2"), ["dtmf"])
    log = EventLog(service)

    send_test(service, gone1["id"])
    first = log.wait("webhook.disabled", webhook=gone1["id"])
    receiver.wait("/flaky")
    send_test(service, gone2["id"])
    second = log.wait("webhook.disabled", webhook=gone2["id"])

    rec = wait_delivery(service, flaky["id"], first["id"],
                        lambda d: d["status_code"] == 503)
    assert rec["state"] == "pending" and rec["attempt"] == 1
    assert rec["error"].startswith("HTTP 503")
    # 5 s +-20 %: the Retry-After of 1 s is shorter, so the step wins
    wait = parse_time(rec["next_attempt_at"]) - parse_time(rec["at"])
    assert 3.9 <= wait <= 6.1, rec

    # the head blocks the later event
    assert_nothing(receiver, "/flaky", 2.0, since=1)

    reqs = receiver.wait("/flaky", 3, timeout=10)
    assert [r["event"]["id"] for r in reqs] == [first["id"], first["id"],
                                                second["id"]]
    assert reqs[1]["at"] - reqs[0]["at"] >= 3.9
    for r in reqs:
        assert verify_webhook(flaky["secret"], r["headers"], r["body"])
    # a new timestamp and signature per attempt, the same id
    assert reqs[0]["headers"]["webhook-id"] == reqs[1]["headers"][
        "webhook-id"]
    assert reqs[0]["headers"]["webhook-timestamp"] != reqs[1]["headers"][
        "webhook-timestamp"]

    wait_delivery(service, flaky["id"], second["id"],
                  lambda d: d["state"] == "delivered")
    recs = deliveries(service, flaky["id"])
    assert [d["event_id"] for d in recs] == [second["id"], first["id"]]
    assert recs[1]["attempt"] == 2 and recs[1]["state"] == "delivered"
    assert recs[1]["status_code"] == 200 and recs[1]["error"] is None
    assert recs[0]["attempt"] == 1
    assert len(deliveries(service, flaky["id"], limit=1)) == 1
    assert "attempt 1 of 8 failed: HTTP 503" in service.log_text()


# -- 6. retry: send an event again -------------------------------------------

def test_retry_sends_again(service, receiver):
    wh = create(service, receiver.url("/ok"))
    sent = send_test(service, wh["id"])
    receiver.wait("/ok")
    wait_delivery(service, wh["id"], sent["event_id"],
                  lambda d: d["state"] == "delivered")

    api_ok(service, "POST", "/api/v1/webhooks/%s/deliveries/%s/retry"
           % (wh["id"], sent["event_id"]), status=202)
    again = receiver.wait("/ok", 2)[1]
    assert again["headers"]["webhook-id"] == sent["event_id"]
    assert again["body"] == receiver.requests("/ok")[0]["body"]
    assert verify_webhook(wh["secret"], again["headers"], again["body"])

    assert_error(service, "POST", "/api/v1/webhooks/%s/deliveries/"
                 "evt_nope/retry" % wh["id"], status=404,
                 code="delivery_not_found")
    other = create(service, receiver.url("/other"))
    assert_error(service, "POST", "/api/v1/webhooks/%s/deliveries/%s/retry"
                 % (other["id"], sent["event_id"]), status=404,
                 code="delivery_not_found")


# -- 7. an endpoint that never answers delays no one -------------------------

def test_silent_endpoint_times_out_and_delays_nobody(service, receiver):
    receiver.hang("/silent")
    silent = create(service, receiver.url("/silent"))
    ok = create(service, receiver.url("/ok"))

    sent = send_test(service, silent["id"])
    receiver.wait("/silent")
    started = time.time()
    send_test(service, ok["id"])
    receiver.wait("/ok", timeout=2)
    assert time.time() - started < 2
    assert_healthy(service)

    rec = wait_delivery(service, silent["id"], sent["event_id"],
                        lambda d: d["error"] is not None, timeout=20)
    assert "no answer within 15 s" in rec["error"]
    assert rec["state"] == "pending" and rec["status_code"] is None
    assert time.time() - started >= 14


# -- 8. a restart repeats nothing acknowledged, keeps pending times ----------

def test_restart_keeps_the_outbox(service, receiver):
    receiver.answer("/gone", 410)
    receiver.answer("/down", 500)
    ok = create(service, receiver.url("/ok"), ["webhook.disabled"])
    down = create(service, receiver.url("/down"), ["webhook.disabled"])
    gone = create(service, receiver.url("/gone"), ["dtmf"])
    log = EventLog(service)

    send_test(service, gone["id"])
    event = log.wait("webhook.disabled", webhook=gone["id"])
    receiver.wait("/ok")
    rec = wait_delivery(service, down["id"], event["id"],
                        lambda d: d["status_code"] == 500)
    due = parse_time(rec["next_attempt_at"])

    service.restart()
    receiver.answer("/down", 200)

    # the pending attempt keeps its time
    retried = receiver.wait("/down", 2, timeout=15)[1]
    assert retried["event"]["id"] == event["id"]
    assert retried["at"] >= due - 0.5
    wait_delivery(service, down["id"], event["id"],
                  lambda d: d["state"] == "delivered" and d["attempt"] == 2)

    # what was acknowledged is not sent again
    assert_nothing(receiver, "/ok", 1.0, since=1)
    assert_nothing(receiver, "/gone", 0, since=1)
    assert [w["id"] for w in api_ok(service, "GET", "/api/v1/webhooks")[
        "webhooks"]] == [ok["id"], down["id"], gone["id"]]
    assert get(service, gone["id"])["enabled"] is False


# -- 9. https: verified ------------------------------------------------------

@pytest.fixture
def tls_receiver(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    rx = Receiver(str(cert), str(key))
    rx.cert = cert
    yield rx
    rx.close()


def test_https_is_verified(service_factory, tls_receiver):
    svc = service_factory(httpctl_webhook_ca=str(tls_receiver.cert))
    good = create(svc, tls_receiver.url("/ok", host="localhost"))
    wrong = create(svc, tls_receiver.url("/ok", host="127.0.0.1"))

    sent = send_test(svc, good["id"])
    req = tls_receiver.wait("/ok")[0]
    assert req["headers"]["webhook-id"] == sent["event_id"]
    assert verify_webhook(good["secret"], req["headers"], req["body"])

    # the certificate does not name 127.0.0.1: nothing is sent
    sent = send_test(svc, wrong["id"])
    rec = wait_delivery(svc, wrong["id"], sent["event_id"],
                        lambda d: d["error"] is not None)
    assert "TLS" in rec["error"] and rec["state"] == "pending"
    assert len(tls_receiver.requests("/ok")) == 1


def test_https_without_a_trusted_ca_sends_nothing(service, tls_receiver):
    # the system's CAs do not know this self-signed certificate
    wh = create(service, tls_receiver.url("/ok", host="localhost"))
    sent = send_test(service, wh["id"])
    rec = wait_delivery(service, wh["id"], sent["event_id"],
                        lambda d: d["error"] is not None)
    assert "TLS" in rec["error"]
    assert tls_receiver.requests("/ok") == []


# -- 10. the console ---------------------------------------------------------

def test_console_lists_webhooks(service, receiver):
    receiver.answer("/down", 500)
    down = create(service, receiver.url("/down?token=hush"))
    sent = send_test(service, down["id"])
    wait_delivery(service, down["id"], sent["event_id"],
                  lambda d: d["status_code"] == 500)

    since = service.log_size()
    service.proc.stdin.write(b"/webhooks\n")
    service.proc.stdin.flush()
    service.wait_log(r"%s  enabled  http://127\.0\.0\.1:%d  cursor \d+"
                     r"  pending 0  head -" % (down["id"], receiver.port),
                     since=since)
    assert "hush" not in service.log_text()
