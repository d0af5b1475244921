"""Log levels: set in the config, changed at run time (REST and console),
and they change what is printed. Secrets never reach the log."""

from helpers import api_ok, assert_error
from sipphone_test.sipraw import SipUdpClient


def register(service, line):
    with SipUdpClient(service.sip_server) as raw:
        assert raw.register(line, expires=120).status == 200


def bad_register(service):
    """A REGISTER refused with 400: the registrar says so at warning."""
    with SipUdpClient(service.sip_server) as raw:
        assert raw.register("100", contact="*", expires=3600).status == 400


def test_config_level_and_runtime_changes(service_factory):
    svc = service_factory(httpctl_log_level="warning")
    assert api_ok(svc, "GET", "/api/v1/log") == {"level": "warning"}

    # info lines are not printed at warning, warnings are
    since = svc.log_size()
    register(svc, "100")
    assert api_ok(svc, "GET", "/api/v1/lines/100")["registered"]
    bad_register(svc)
    svc.wait_log(r"httpctl: bad REGISTER from", since=since)
    assert "line 100 registered" not in svc.log_from(since)

    # debug: SIP messages in full
    assert api_ok(svc, "POST", "/api/v1/log", {"level": "debug"}) == {
        "level": "debug"}
    since = svc.log_size()
    register(svc, "101")
    svc.wait_log(r"httpctl: SIP recv UDP .*\nREGISTER sip:", since=since)
    svc.wait_log(r"line 101 registered", since=since)

    # error: neither info nor warning lines
    since = svc.log_size()
    api_ok(svc, "POST", "/api/v1/log", {"level": "error"})
    svc.wait_log(r"log level is now error", since=since)
    since = svc.log_size()
    register(svc, "102")
    bad_register(svc)
    assert api_ok(svc, "GET", "/api/v1/lines/102")["registered"]
    assert svc.log_from(since) == ""

    # the console sets it too
    since = svc.log_size()
    svc.proc.stdin.write(b"/loglevel info\n")
    svc.proc.stdin.flush()
    svc.wait_log(r"log level is now info", since=since)
    assert api_ok(svc, "GET", "/api/v1/log") == {"level": "info"}


def test_bad_levels(service_factory):
    svc = service_factory()
    assert_error(svc, "POST", "/api/v1/log", {"level": "loud"}, 400,
                 "invalid_field")
    assert_error(svc, "POST", "/api/v1/log", {}, 400, "invalid_field")
    assert api_ok(svc, "GET", "/api/v1/log") == {"level": "info"}

    # a bad level in the config stops the service at start
    from sipphone_test.service import Service
    bad = Service(overrides={"httpctl_log_level": "loud"})
    try:
        try:
            bad.start(timeout=5)
            raise AssertionError("started with httpctl_log_level loud")
        except RuntimeError:
            pass
        assert "httpctl_log_level: 'loud' is not" in bad.log_text()
    finally:
        bad.stop()
        bad.cleanup()


def test_secrets_never_logged(service_factory):
    svc = service_factory(httpctl_log_level="debug")
    created = api_ok(svc, "POST", "/api/v1/webhooks",
                     {"url": "http://127.0.0.1:9/hook", "events": ["*"]},
                     status=201)
    register(svc, "100")
    svc.api("GET", "/api/v1/status")
    svc.ws().close()
    text = svc.log_text()
    assert created["secret"] not in text
    assert created["secret"][len("whsec_"):] not in text
    assert svc.token not in text
