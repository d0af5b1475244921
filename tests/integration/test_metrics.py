"""GET /metrics: the Prometheus text format, read strictly, and its
counters following what happens.

The format is checked by a strict parser of the text exposition format
0.0.4 written here (parse_metrics). Prometheus's own `promtool check
metrics` (Debian's `prometheus` package, about 100 MB, so not a test
dependency) passed on the same output by hand: see docs/operations.md.
"""

import re

import pytest

from helpers import EventLog, api_ok, wait_until
from sipphone_test.service import Service

CTYPE = "text/plain; version=0.0.4; charset=utf-8"

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
FLOAT_RE = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\Z"
                      r"|[-+]?Inf\Z|NaN\Z")
TYPES = ("counter", "gauge", "summary", "histogram", "untyped")

# Families the service must always expose
FAMILIES = {
    "sipphone_build_info": "gauge",
    "sipphone_start_time_seconds": "gauge",
    "sipphone_uptime_seconds": "gauge",
    "sipphone_lines_registered": "gauge",
    "sipphone_lines_known": "gauge",
    "sipphone_line_registered": "gauge",
    "sipphone_line_expiry_seconds": "gauge",
    "sipphone_line_last_register_timestamp_seconds": "gauge",
    "sipphone_calls_total": "counter",
    "sipphone_calls_answered_total": "counter",
    "sipphone_calls_ended_total": "counter",
    "sipphone_calls_current": "gauge",
    "sipphone_calls_talk_seconds_total": "counter",
    "sipphone_rtp_packets_received_total": "counter",
    "sipphone_rtp_packets_sent_total": "counter",
    "sipphone_rtp_packets_lost_total": "counter",
    "sipphone_call_mos": "summary",
    "sipphone_live_call_mos": "gauge",
    "sipphone_live_call_loss_ratio": "gauge",
    "sipphone_live_call_jitter_seconds": "gauge",
    "sipphone_ws_clients": "gauge",
    "sipphone_ws_connections_total": "counter",
    "sipphone_ws_closes_total": "counter",
    "sipphone_ws_messages_sent_total": "counter",
    "sipphone_ws_frames_sent_total": "counter",
    "sipphone_ws_frames_dropped_total": "counter",
    "sipphone_ws_queued_bytes": "gauge",
    "sipphone_ws_talk_dropped_seconds_total": "counter",
    "sipphone_ws_talk_underruns_total": "counter",
    "sipphone_events_published_total": "counter",
    "sipphone_event_store_errors_total": "counter",
    "sipphone_event_last_seq": "gauge",
    "sipphone_webhook_deliveries_total": "counter",
    "sipphone_webhook_events_abandoned_total": "counter",
    "sipphone_webhook_endpoints": "gauge",
    "sipphone_webhook_pending_events": "gauge",
    "sipphone_webhook_oldest_pending_age_seconds": "gauge",
    "sipphone_degraded": "gauge",
    "sipphone_degraded_reasons": "gauge",
    "sipphone_event_store_lost_total": "counter",
    "sipphone_event_store_pending": "gauge",
    "sipphone_http_accept_pauses_total": "counter",
    "sipphone_http_connections": "gauge",
    "sipphone_http_connections_refused_total": "counter",
    "sipphone_lines_full_total": "counter",
    "sipphone_lines_takeovers_refused_total": "counter",
    "sipphone_sip_auth_total": "counter",
    "sipphone_sip_dialogs_traced": "gauge",
    "sipphone_sip_dropped_total": "counter",
    "sipphone_sip_received_total": "counter",
    "sipphone_webhook_events_dropped_total": "counter",
}


# -- a strict parser of the text format 0.0.4 --------------------------------

class FormatError(AssertionError):
    pass


def _labels(text, pos, where):
    """Parse {a="x",b="y"} from text[pos] == "{"; returns (dict, end)."""
    labels = {}
    pos += 1
    if text[pos:pos + 1] == "}":
        return labels, pos + 1
    while True:
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(text, pos)
        if not m:
            raise FormatError("%s: bad label name at %d" % (where, pos))
        name = m.group(0)
        if name.startswith("__"):
            raise FormatError("%s: reserved label name %s" % (where, name))
        if name in labels:
            raise FormatError("%s: label %s twice" % (where, name))
        pos = m.end()
        if text[pos:pos + 2] != '="':
            raise FormatError("%s: expected =\" after %s" % (where, name))
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                raise FormatError("%s: unterminated label value" % where)
            c = text[pos]
            if c == "\\":
                esc = text[pos + 1:pos + 2]
                if esc not in ("\\", '"', "n"):
                    raise FormatError("%s: bad escape \\%s" % (where, esc))
                value.append("\n" if esc == "n" else esc)
                pos += 2
            elif c == '"':
                pos += 1
                break
            elif c == "\n":
                raise FormatError("%s: newline in a label value" % where)
            else:
                value.append(c)
                pos += 1
        labels[name] = "".join(value)
        if text[pos:pos + 1] == ",":
            pos += 1
            if text[pos:pos + 1] == "}":
                raise FormatError("%s: trailing comma" % where)
            continue
        if text[pos:pos + 1] == "}":
            return labels, pos + 1
        raise FormatError("%s: expected , or } at %d" % (where, pos))


def _family_of(name, fam):
    """Does sample `name` belong to family fam (name, type)?"""
    fname, ftype = fam
    if name == fname:
        return ftype != "histogram"
    suffixes = {"summary": ("_sum", "_count"),
                "histogram": ("_bucket", "_sum", "_count")}
    return any(name == fname + s for s in suffixes.get(ftype, ()))


def parse_metrics(text):
    """Parse an exposition strictly; returns {family: {"type", "help",
    "samples": [(name, labels, value)]}}. Raises FormatError.

    Beyond the format, our own rules: every family has HELP and TYPE,
    counters end in _total, names start with sipphone_.
    """
    if not text.endswith("\n"):
        raise FormatError("the text must end with a newline")
    fams = {}
    current = None            # the family samples may belong to now
    done = set()              # families whose block has ended
    series = set()
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = "line %d %r" % (n, line)
        if not line.strip():
            raise FormatError("%s: empty line" % where)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[0] != "#" or \
                    parts[1] not in ("HELP", "TYPE"):
                continue          # a plain comment
            kind, name = parts[1], parts[2]
            if not NAME_RE.match(name):
                raise FormatError("%s: bad metric name" % where)
            if name in done:
                raise FormatError("%s: family %s is split" % (where, name))
            if current and current[0] != name:
                done.add(current[0])
            fam = fams.setdefault(name, {"type": None, "help": None,
                                         "samples": []})
            if fam["samples"]:
                raise FormatError("%s: %s after samples" % (where, kind))
            if kind == "HELP":
                if fam["help"] is not None:
                    raise FormatError("%s: second HELP" % where)
                doc = parts[3] if len(parts) > 3 else ""
                if not re.fullmatch(r"([^\\]|\\[\\n])*", doc):
                    raise FormatError("%s: bad escape in HELP" % where)
                fam["help"] = doc
            else:
                if fam["type"] is not None:
                    raise FormatError("%s: second TYPE" % where)
                if len(parts) != 4 or parts[3] not in TYPES:
                    raise FormatError("%s: bad TYPE" % where)
                fam["type"] = parts[3]
            current = (name, fam["type"] or "untyped")
            continue

        m = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*").match(line)
        if not m:
            raise FormatError("%s: bad sample name" % where)
        name, pos = m.group(0), m.end()
        labels = {}
        if line[pos:pos + 1] == "{":
            labels, pos = _labels(line, pos, where)
        rest = line[pos:]
        if not rest.startswith(" "):
            raise FormatError("%s: no blank before the value" % where)
        words = rest[1:].split(" ")
        if len(words) not in (1, 2) or not FLOAT_RE.match(words[0]) or \
                (len(words) == 2 and not re.match(r"-?\d+\Z", words[1])):
            raise FormatError("%s: bad value or timestamp" % where)
        value = float(words[0].replace("Inf", "inf"))
        if not current or not _family_of(name, current):
            raise FormatError("%s: sample outside its family's block "
                              "(or no TYPE before it)" % where)
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            raise FormatError("%s: duplicate series" % where)
        series.add(key)
        fam = fams[current[0]]
        if fam["type"] == "counter" and not value >= 0:
            raise FormatError("%s: negative or NaN counter" % where)
        fam["samples"].append((name, labels, value))

    for name, fam in fams.items():
        if fam["help"] is None or fam["type"] is None:
            raise FormatError("%s: HELP and TYPE are both needed" % name)
        if not name.startswith("sipphone_"):
            raise FormatError("%s: not a sipphone_ name" % name)
        if fam["type"] == "counter" and not name.endswith("_total"):
            raise FormatError("%s: a counter must end in _total" % name)
        if fam["type"] != "counter" and name.endswith("_total"):
            raise FormatError("%s: only counters end in _total" % name)
    return fams


def values(fams):
    """{(sample name, sorted labels): value}"""
    return {(name, tuple(sorted(labels.items()))): v
            for fam in fams.values() for name, labels, v in fam["samples"]}


def value(fams, name, **labels):
    return values(fams)[(name, tuple(sorted(labels.items())))]


def assert_monotonic(before, after):
    """Every counter series of before is in after, not smaller."""
    a = values(after)
    for fname, fam in before.items():
        if fam["type"] not in ("counter", "summary"):
            continue
        for name, labels, v in fam["samples"]:
            key = (name, tuple(sorted(labels.items())))
            assert key in a, "counter %s%r disappeared" % (name, labels)
            assert a[key] >= v, "counter %s%r went back: %r -> %r" % (
                name, labels, v, a[key])


def scrape(service, token=True):
    status, hdrs, body = service.api(
        "GET", "/metrics", token=service.token if token else None)
    assert status == 200, body
    assert hdrs["Content-Type"] == CTYPE
    assert isinstance(body, str)
    return body


def scrape_parsed(service):
    return parse_metrics(scrape(service))


# -- 1. the parser itself ----------------------------------------------------

GOOD = ('# HELP sipphone_x_total X, with \\\\ and \\n.\n'
        '# TYPE sipphone_x_total counter\n'
        'sipphone_x_total{a="q\\"\\\\\\n",b=""} 1\n'
        'sipphone_x_total{a="r"} 2.5e3 1700000000000\n'
        '# HELP sipphone_s S\n# TYPE sipphone_s summary\n'
        'sipphone_s_sum 1.5\nsipphone_s_count 2\n'
        '# HELP sipphone_g G\n# TYPE sipphone_g gauge\nsipphone_g -Inf\n')


BAD = [
    "sipphone_x_total 1\n",                                   # no TYPE
    GOOD.replace("counter\n", "counter\n# TYPE sipphone_x_total gauge\n"),
    GOOD + "sipphone_x_total 3\n",                    # split family
    GOOD.replace('a="r"', 'a="q\\"\\\\\\n",b=""'),    # duplicate series
    GOOD.replace('b=""', 'b="\\t"'),                  # bad escape
    GOOD.replace('b=""}', 'b="",}'),                  # trailing comma
    GOOD.replace('{a="r"}', '{__a="r"}'),             # reserved label
    GOOD.replace("2.5e3", "2,5"),                     # bad value
    GOOD.replace("2.5e3", "-1"),                      # negative counter
    GOOD.replace("sipphone_x_total", "sipphone_x"),   # counter, no _total
    GOOD.replace("sipphone_g", "sipphone_g_total"),   # _total, no counter
    GOOD.replace("sipphone_s_count", "sipphone_s_bucket"),
    GOOD.replace("# HELP sipphone_g G\n", ""),        # no HELP
    GOOD.replace("1.5\n", "1.5\n\n"),                 # empty line
    GOOD[:-1],                                        # no final newline
    GOOD.replace("sipphone_g -Inf", "sipphone_g  1"),
]


@pytest.mark.parametrize("bad", BAD, ids=range(len(BAD)))
def test_the_parser_refuses_what_it_must(bad):
    parse_metrics(GOOD)
    with pytest.raises(FormatError):
        parse_metrics(bad)


def test_the_parser_reads_what_it_must():
    fams = parse_metrics(GOOD)
    assert value(fams, "sipphone_x_total", a='q"\\\n', b="") == 1
    assert value(fams, "sipphone_x_total", a="r") == 2500
    assert value(fams, "sipphone_s_count") == 2
    assert value(fams, "sipphone_g") == float("-inf")
    assert fams["sipphone_x_total"]["help"] == "X, with \\\\ and \\n."


# -- 2. auth -----------------------------------------------------------------

def test_metrics_need_a_token_by_default(service):
    for token in (None, "wrong"):
        status, hdrs, body = service.api("GET", "/metrics", token=token)
        assert status == 401, body
        assert hdrs["WWW-Authenticate"] == "Bearer"
        assert body["error"]["code"] == "unauthorized"
    scrape(service)


def test_loopback_mode_needs_no_token_from_loopback(service_factory):
    svc = service_factory(httpctl_metrics="loopback")
    parse_metrics(scrape(svc, token=False))
    parse_metrics(scrape(svc, token=True))
    status, _, body = svc.api("GET", "/metrics", token="wrong")
    assert status == 200          # from loopback, no token is needed
    # the API itself still wants its token
    status, _, _ = svc.api("GET", "/api/v1/health", token=None)
    assert status == 401


@pytest.mark.parametrize("key,val", [("httpctl_metrics", "open"),
                                     ("httpctl_loss_degraded", "0"),
                                     ("httpctl_loss_degraded", "101")])
def test_a_bad_setting_stops_the_service(key, val):
    svc = Service(overrides={key: val})
    try:
        # wsaudio may open the web server before httpctl reads its
        # settings: /healthz can answer a moment before the exit
        try:
            svc.start()
        except RuntimeError:
            pass
        wait_until(lambda: svc.proc.poll() is not None, 10,
                   what="the service to exit")
        assert svc.proc.returncode != 0
        assert "httpctl: %s" % key in svc.log_text(), svc.log_tail()
    finally:
        svc.stop()
        svc.cleanup()


# -- 3. the exposition, and its counters as calls happen ---------------------

def test_metrics_parse_strictly_and_move_with_calls(service, phone_factory):
    first = scrape_parsed(service)
    for name, type_ in FAMILIES.items():
        assert name in first, "family %s missing" % name
        assert first[name]["type"] == type_, name
    assert value(first, "sipphone_lines_registered") == 0
    assert value(first, "sipphone_degraded") == 1
    assert value(first, "sipphone_degraded_reasons",
                 code="no_line_registered") == 1
    (name, labels, v), = first["sipphone_build_info"]["samples"]
    assert labels["baresip"] == "1.0.0" and labels["version"] and v == 1

    phone = phone_factory(line="100", tone=440)
    phone.wait_registered(10)
    log = EventLog(service)
    ws = service.ws({"audio": "pcmu"})
    try:
        # a call from the phone, answered over the API
        m = phone.mark()
        since = log.mark()
        phone.dial("1234")
        cid = log.wait("call.incoming", since=since)["data"]["call"]
        api_ok(service, "POST", "/api/v1/calls/%s/answer" % cid)
        phone.wait_event("CALL_ESTABLISHED", 5, since=m)
        ws.wait_binary(100, 10, since=ws.mark()[1])

        mid = scrape_parsed(service)
        assert_monotonic(first, mid)
        assert value(mid, "sipphone_calls_current",
                     direction="from_phone", state="active") == 1
        assert value(mid, "sipphone_line_registered", line="100") == 1
        assert value(mid, "sipphone_rtp_packets_received_total") > 50
        assert value(mid, "sipphone_ws_clients") == 1

        api_ok(service, "POST", "/api/v1/calls/%s/hangup" % cid)
        log.wait("call.quality", call=cid)

        # a call to the phone, which answers by itself
        call = api_ok(service, "POST", "/api/v1/calls", {"line": "100"},
                      status=201)
        log.wait("call.answered", call=call["id"])
        api_ok(service, "POST", "/api/v1/calls/%s/hangup" % call["id"])
        log.wait("call.ended", call=call["id"])
    finally:
        ws.close()

    after = wait_until(
        lambda: (lambda f: f if value(f, "sipphone_ws_clients") == 0
                 else None)(scrape_parsed(service)), 5,
        what="the WebSocket client gone from the metrics")
    assert_monotonic(first, after)
    assert_monotonic(mid, after)

    def delta(name, **labels):
        return value(after, name, **labels) - value(first, name, **labels)

    assert delta("sipphone_calls_total", direction="from_phone") == 1
    assert delta("sipphone_calls_total", direction="to_phone") == 1
    assert delta("sipphone_calls_answered_total",
                 direction="from_phone") == 1
    assert delta("sipphone_calls_answered_total", direction="to_phone") == 1
    assert delta("sipphone_calls_ended_total", direction="from_phone",
                 reason="api_hangup") == 1
    assert delta("sipphone_calls_ended_total", direction="to_phone",
                 reason="api_hangup") == 1
    for d in ("from_phone", "to_phone"):
        for st in ("ringing", "active"):
            assert value(after, "sipphone_calls_current", direction=d,
                         state=st) == 0
    assert delta("sipphone_calls_talk_seconds_total") > 1
    assert delta("sipphone_rtp_packets_received_total") > 50
    assert delta("sipphone_rtp_packets_sent_total") > 50
    assert delta("sipphone_events_published_total") >= 8
    assert delta("sipphone_event_last_seq") == \
        delta("sipphone_events_published_total")
    assert delta("sipphone_ws_connections_total") == 1
    assert delta("sipphone_ws_frames_sent_total") >= 100
    assert delta("sipphone_ws_messages_sent_total") > \
        delta("sipphone_ws_frames_sent_total")
    assert value(after, "sipphone_ws_closes_total", code="1000",
                 reason="normal") == 1
    assert value(after, "sipphone_lines_registered") == 1
    assert value(after, "sipphone_degraded") == 0
    assert after["sipphone_degraded_reasons"]["samples"] == []
    expiry = value(after, "sipphone_line_expiry_seconds", line="100")
    assert 0 < expiry <= 60
