"""scripts/run, the README's first command: a copy of conf/ with keys
changed works (no build path written into it), the token is generated
(its output, not a terminal here, says where, never the token: see
test_hygiene.py for a terminal), and SIGINT/SIGTERM stop it cleanly."""

import http.client
import os
import shutil
import signal

import pytest

from sipphone_test import ports, procs
from sipphone_test.service import rewrite_config, paths

SRC, BUILD = paths()


def start_run(confdir, log_path):
    env = dict(os.environ, SIPPHONE_BUILD=str(BUILD))
    return procs.spawn([str(SRC / "scripts" / "run"), "--conf",
                        str(confdir)], log_path, env=env)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_with_a_copied_conf_and_stop(tmp_path, sig):
    conf = tmp_path / "myconf"
    shutil.copytree(SRC / "conf", conf,
                    ignore=shutil.ignore_patterns("state"))
    sip = ports.free_port(pair=True)
    http_port = ports.free_port()
    text = (conf / "config").read_text()
    assert "module_path" not in text.split("#")[0]
    (conf / "config").write_text(rewrite_config(text, {
        "sip_listen": "127.0.0.1:%d" % sip,
        "net_interface": "127.0.0.1",
        "httpctl_listen": "127.0.0.1:%d" % http_port,
    }))

    log = tmp_path / "run.log"
    proc = start_run(conf, log)
    try:
        token_file = conf / "state" / "token"
        procs.wait_until(token_file.exists, 60, what="the token file")
        token = token_file.read_text().strip()

        def ready():
            try:
                c = http.client.HTTPConnection("127.0.0.1", http_port,
                                               timeout=1)
                c.request("GET", "/api/v1/status",
                          headers={"Authorization": "Bearer " + token})
                return c.getresponse().status == 200
            except OSError:
                return False
        procs.wait_until(ready, 60, what="GET /api/v1/status")
        output = log.read_text(errors="replace")
        assert token not in output
        assert "generated an API token: it is in %s" % token_file in output
        assert (token_file.stat().st_mode & 0o777) == 0o600

        proc.send_signal(sig)
        assert proc.wait(15) == 0, log.read_text(errors="replace")[-2000:]
    finally:
        procs.stop(proc)
