"""The service fixtures do what they promise: the real product starts on
loopback with the rewritten config, phones register to it, teardown
stops everything. Product behaviour is tested elsewhere; these checks
only guard the harness."""

import json
import re


def test_service_answers_on_loopback_with_its_token(service):
    status, _, body = service.api("GET", "/healthz", token=None)
    assert (status, body) == (200, {"status": "ok"})
    status, headers, _ = service.api("GET", "/api/v1/status", token=None)
    assert status == 401
    assert headers.get("WWW-Authenticate", "").startswith("Bearer")
    status, _, body = service.api("GET", "/api/v1/status")
    assert status == 200 and "lines" in body
    raw = service.raw(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200")
    assert json.loads(raw.split(b"\r\n\r\n", 1)[1]) == {"status": "ok"}
    config = (service.confdir / "config").read_text()
    assert re.search(r"^sip_listen\s+127\.0\.0\.1:%d$" % service.sip_port,
                     config, re.M)
    assert re.search(r"^net_interface\s+127\.0\.0\.1$", config, re.M)


def test_service_factory_overrides(service_factory):
    svc = service_factory(httpctl_token=["first-token", "second-token"])
    for token in ("first-token", "second-token"):
        assert svc.api("GET", "/api/v1/status", token=token)[0] == 200
    assert svc.api("GET", "/api/v1/status")[0] == 401  # default replaced
    lines = (svc.confdir / "config").read_text().splitlines()
    assert [ln.split()[1] for ln in lines
            if ln.startswith("httpctl_token")] == ["first-token",
                                                   "second-token"]


def test_phone_fixture_registers_with_the_service(service, phone):
    status, _, body = service.api("GET", "/api/v1/lines/100")
    assert status == 200, body
    assert body["registered"] is True
    assert body["contact"].startswith("sip:100-0x")
    assert body["contact"].endswith("@127.0.0.1:%d" % phone.sip_port)
    assert body["user_agent"].startswith("baresip v1.0.0")
