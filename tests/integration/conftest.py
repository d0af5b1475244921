"""Fixtures for integration tests: the real service, fake phones, linphonec.

Every process runs on 127.0.0.1 with free ports and is stopped after the
test, pass or fail; on failure the logs' tails are printed. A skipped
test fails the run unless it is marked @pytest.mark.allow_skip.
"""

import os
import sys
from pathlib import Path

import pytest

_LIB = Path(__file__).resolve().parents[1] / "support"
sys.path.insert(0, str(_LIB))

from sipphone_test import ports  # noqa: E402
from sipphone_test.fakephone import FakePhone  # noqa: E402
from sipphone_test.linphone import Linphone  # noqa: E402
from sipphone_test.service import Service  # noqa: E402
from sipphone_test.whreceiver import Receiver  # noqa: E402


# -- skips count as failures -------------------------------------------------

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_skip: a skip of this test is expected and does "
        "not fail the run")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if (rep.skipped and not hasattr(rep, "wasxfail")
            and item.get_closest_marker("allow_skip") is None):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) \
            else str(rep.longrepr)
        rep.outcome = "failed"
        rep.longrepr = ("unexpected skip (mark the test allow_skip if it "
                        "is expected): %s" % reason)


def pytest_sessionfinish(session, exitstatus):
    """A skip outside a test (a module-level skip) fails the run too."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if any(getattr(r, "when", "collect") == "collect" for r in skipped) \
            and session.exitstatus == 0:
        session.exitstatus = 1


def _failed(request):
    rep = getattr(request.node, "rep_call", None)
    setup = getattr(request.node, "rep_setup", None)
    return (rep is not None and rep.failed) or (setup is not None
                                                 and setup.failed)


# -- helpers -----------------------------------------------------------------

@pytest.fixture
def free_port():
    """free_port(udp_and_tcp=True, pair=False) -> a free 127.0.0.1 port."""
    return ports.free_port


@pytest.fixture
def service_factory(request):
    """service_factory(start=True, ssl_context=None, baresip="baresip",
    **overrides) -> a Service, started unless start is False.

    overrides are config keys: a value None removes the key, a list
    repeats it. ssl_context is the test's for HTTPS requests; baresip
    the program to start. All services are stopped at teardown.
    """
    started = []

    def make(start=True, ssl_context=None, baresip="baresip", **overrides):
        svc = Service(overrides=overrides, ssl_context=ssl_context,
                      baresip=baresip)
        started.append(svc)
        return svc.start() if start else svc

    yield make
    failed = _failed(request)
    for svc in started:
        svc.stop()
        if failed:
            print("\n--- service log %s (tail) ---\n%s"
                  % (svc.log_path, svc.log_tail(80)))
        else:
            svc.cleanup()


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 (sipphone_test/whreceiver.py)."""
    rx = Receiver()
    yield rx
    rx.close()


@pytest.fixture
def service(service_factory):
    """The sipphone service with the repo's config on loopback."""
    return service_factory()


@pytest.fixture
def phone_factory(request):
    """phone_factory(**kwargs) -> a started FakePhone.

    server defaults to the `service` fixture's SIP address (starting it);
    other kwargs go to FakePhone (line, regint, tone, play, record,
    answer, ...). Every phone is stopped at teardown, before the service
    it registered with (so it can unregister).
    """
    def make(**kwargs):
        if "server" not in kwargs:
            kwargs["server"] = request.getfixturevalue("service").sip_server
        ph = FakePhone(**kwargs)
        # registered now, so it runs before the service's teardown
        request.node.addfinalizer(
            lambda: _stop_peer(request, ph, _phone_report))
        return ph.start()

    return make


def _stop_peer(request, peer, report):
    """Stop a phone at teardown; when the test failed, keep its files and
    print report(peer)."""
    failed = _failed(request)
    if failed:
        peer.keep = True
    peer.stop()
    if failed:
        print(report(peer))


def _phone_report(ph):
    return "\n--- fake phone %s log %s (tail) ---\n%s" % (
        ph.line, ph.log_path, ph.log_tail(40))


@pytest.fixture
def phone(phone_factory):
    """A fake HT802 port registered to the service as line 100."""
    ph = phone_factory(line="100")
    ph.wait_registered(10)
    return ph


@pytest.fixture
def linphone_factory(request):
    """linphone_factory(**kwargs) -> a started Linphone (see Linphone for
    kwargs: line, server, use_info, use_rfc2833, play, record, ...).
    Every one is stopped at teardown."""
    def make(**kwargs):
        lp = Linphone(**kwargs)
        request.node.addfinalizer(
            lambda: _stop_peer(request, lp, _linphone_report))
        return lp.start()

    return make


def _linphone_report(lp):
    return ("\n--- linphonec %s output ---\n%s\n--- log %s (tail) ---\n%s"
            % (lp.line, "\n".join(lp.output[-40:]), lp.log_path,
               lp.log_tail(30)))


@pytest.fixture
def ws_factory(request):
    """ws_factory(query=None, token=<service token>, headers=None) -> a
    WSClient connected to the service's /api/v1/ws; closed at teardown."""
    def make(query=None, **kwargs):
        svc = request.getfixturevalue("service")
        ws = svc.ws(query, **kwargs)
        request.node.addfinalizer(ws.close)
        return ws

    return make


@pytest.fixture(scope="session")
def build_dir():
    return Path(os.environ.get("SIPPHONE_BUILD", _LIB.parents[1] / "build"))
