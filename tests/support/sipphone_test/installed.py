"""The Debian package, unpacked to a temporary root and run from there.

dpkg-deb -x puts the package's files under ROOT; ROOT/usr/lib/baresip
links to the system's /usr/lib/baresip, standing in for the baresip-core
the package depends on (the package's links to the stock modules are
relative). What postinst would do is done here too: the state directory,
0700. The installed config (ROOT/etc/sipphone/config) is rewritten only
where it must be: ports on 127.0.0.1 and the two paths into ROOT. The
service runs with its cwd at / (module_path, not the working directory,
finds the modules) and the token it generates in the state directory is
the one the tests use.
"""

import os
import subprocess
import tempfile
from pathlib import Path

from .service import Service, rewrite_config

MODULE_DIR = "usr/lib/sipphone"
STATE_DIR = "var/lib/sipphone"
CONF_DIR = "etc/sipphone"
UNIT = "lib/systemd/system/sipphone.service"


def unpack(deb, root):
    """dpkg-deb -x DEB ROOT, plus the stand-in for baresip-core."""
    root = Path(root)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    stock = root / "usr/lib/baresip"
    if not stock.exists():
        stock.symlink_to("/usr/lib/baresip")
    return root


class InstalledService(Service):
    """The service as the package installs it, under root (unpacked)."""

    def __init__(self, root, workdir=None, **kwargs):
        self.root = Path(root)
        self.pristine = (self.root / CONF_DIR / "config").read_text()
        super().__init__(workdir=workdir or tempfile.mkdtemp(
            prefix="sipphone-installed-"), **kwargs)
        self.confdir = self.root / CONF_DIR
        self.state_dir = self.root / STATE_DIR

    def _choose_ports(self):
        super()._choose_ports()
        # only ports and paths: no net_interface, no token of ours
        self.overrides = {
            "sip_listen": "127.0.0.1:%d" % self.sip_port,
            "httpctl_listen": "127.0.0.1:%d" % self.http_port,
            "module_path": str(self.root / MODULE_DIR),
            "httpctl_state_dir": str(self.root / STATE_DIR),
        }
        self.overrides.update(self.user_overrides)

    def _write_conf(self):
        # as postinst makes it
        os.makedirs(self.root / STATE_DIR, mode=0o700, exist_ok=True)
        (self.root / CONF_DIR / "config").write_text(
            rewrite_config(self.pristine, self.overrides))

    @property
    def modules_dir(self):
        return self.root / MODULE_DIR

    @property
    def run_dir(self):
        return Path("/")

    def start(self, timeout=10.0):
        super().start(timeout)
        self.token = (self.root / STATE_DIR / "token").read_text().strip()
        return self
