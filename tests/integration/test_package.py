"""The Debian package and its systemd unit.

scripts/package builds the .deb once for this module (into a temp dir);
the tests read it with dpkg-deb, lintian and systemd-analyze, then unpack
it to a temporary root and start the service from there, with the paths
of the installed layout (see sipphone_test/installed.py). Installing it
for real (dpkg -i, a systemd that starts it) is not done here.
"""

import gzip
import os
import re
import stat
import subprocess

import pytest

from sipphone_test import procs
from sipphone_test.installed import (CONF_DIR, STATE_DIR, UNIT,
                                     InstalledService, unpack)
from sipphone_test.service import paths

SRC, BUILD = paths()

# lintian warnings kept on purpose (docs/install.md says why); any other
# warning, and every error, fails
LINTIAN_KEPT = {
    # secrets may go in it: root:sipphone 0640, set by postinst
    ("non-standard-file-perm", "etc/sipphone/config"),
}

# the unit's sandbox may not get weaker unnoticed (1.4 when written)
EXPOSURE_MAX = 2.0


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=600,
                          **kwargs)


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    out = tmp_path_factory.mktemp("deb")
    env = dict(os.environ, SIPPHONE_BUILD=str(BUILD))
    res = run([str(SRC / "scripts/package"), "--out", str(out)], env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    path = res.stdout.strip()
    # the path alone on stdout, of a file in --out
    assert "\n" not in path and path.endswith(".deb"), res.stdout
    assert os.path.dirname(path) == str(out) and os.path.isfile(path)
    return path


@pytest.fixture(scope="module")
def listing(deb):
    """dpkg-deb -c: {path: (mode, owner, link target or None)}"""
    res = run(["dpkg-deb", "-c", deb])
    assert res.returncode == 0, res.stderr
    files = {}
    for line in res.stdout.splitlines():
        mode, owner, _size, _date, _time, rest = line.split(None, 5)
        name, _, target = rest.partition(" -> ")
        files[name.lstrip("./").rstrip("/")] = (mode, owner, target or None)
    return files


@pytest.fixture(scope="module")
def root(deb, tmp_path_factory):
    return unpack(deb, tmp_path_factory.mktemp("root"))


def field(deb, name):
    res = run(["dpkg-deb", "-f", deb, name])
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


# -- what is in it -----------------------------------------------------------

def test_files_and_modes(listing):
    expect = {
        "etc/sipphone/config": "-rw-r-----",
        "lib/systemd/system/sipphone.service": "-rw-r--r--",
        "usr/lib/sipphone/httpctl.so": "-rw-r--r--",
        "usr/lib/sipphone/wsaudio.so": "-rw-r--r--",
        "usr/lib/sipphone/libsipphone.so": "-rw-r--r--",
        "usr/share/doc/sipphone/copyright": "-rw-r--r--",
        "usr/share/doc/sipphone/changelog.gz": "-rw-r--r--",
        "usr/share/doc/sipphone/README.md": "-rw-r--r--",
        "usr/share/doc/sipphone/docs/install.md": "-rw-r--r--",
        "etc/sipphone": "drwxr-xr-x",
        "usr/lib/sipphone": "drwxr-xr-x",
    }
    for path, mode in expect.items():
        assert path in listing, path
        assert listing[path][0] == mode, (path, listing[path])

    for path, (mode, owner, target) in listing.items():
        assert owner == "root/root", (path, owner)
        # no state in the package: postinst makes it, purge removes it
        assert not path.startswith(("var/", "usr/local", "home/")), path
        if mode[0] == "l":
            # Debian: links within /usr are relative
            assert not target.startswith("/"), (path, target)
        elif mode[0] == "-" and not path.startswith("usr/share/doc"):
            assert "x" not in mode and "w" not in mode[4:], (path, mode)


def test_stock_modules_linked_beside_ours(listing):
    stock = sorted(f for f in os.listdir("/usr/lib/baresip/modules")
                   if f.endswith(".so"))
    assert stock
    for name in stock:
        mode, _, target = listing["usr/lib/sipphone/" + name]
        assert mode[0] == "l" and target == "../baresip/modules/" + name


def test_installed_config_has_installed_paths(root, listing):
    text = (root / CONF_DIR / "config").read_text()
    keys = {}
    for line in text.splitlines():
        words = line.split()
        if words and not words[0].startswith("#"):
            keys.setdefault(words[0], []).append(words[1])

    assert keys["module_path"] == ["/usr/lib/sipphone"]
    assert keys["httpctl_state_dir"] == ["/var/lib/sipphone"]
    # a service has no terminal for the console
    assert "stdio.so" not in keys["module"]
    # nor a call status line for the journal every 100 ms
    assert keys["statmode_default"] == ["off"]
    # every module it loads is in module_path
    for mod in keys["module"] + keys.get("module_app", []):
        assert "usr/lib/sipphone/" + mod in listing, mod

    # otherwise the repo's settings
    src = (SRC / "conf/config").read_text()
    for key in ("sip_listen", "httpctl_listen", "audio_source",
                "jitter_buffer_delay", "wsaudio_format"):
        assert re.search(r"(?m)^%s\s" % key, src)
        assert keys[key] == re.findall(r"(?m)^%s\s+(\S+)" % key, src), key


def test_control_fields(deb):
    assert field(deb, "Package") == "sipphone"
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    assert field(deb, "Architecture") == arch

    depends = [d.strip() for d in field(deb, "Depends").split(",")]
    # ours, plus dpkg-shlibdeps' reading of the ELF files
    for want in ("baresip-core (>= 1.0.0)", "baresip-core (<< 1.0.1~)",
                 "adduser"):
        assert want in depends, depends
    names = {d.split()[0] for d in depends}
    for lib in ("libc6", "libre0", "libwebsockets17", "libjansson4",
                "libsqlite3-0", "libsystemd0", "libcurl4", "libssl3"):
        assert lib in names, (lib, depends)


def test_control_files(deb, tmp_path):
    run(["dpkg-deb", "-e", deb, str(tmp_path)]).check_returncode()
    assert (tmp_path / "conffiles").read_text().split() == \
        ["/etc/sipphone/config"]
    for script in ("postinst", "prerm", "postrm"):
        path = tmp_path / script
        assert stat.S_IMODE(path.stat().st_mode) == 0o755, script
        assert run(["sh", "-n", str(path)]).returncode == 0, script
    postinst = (tmp_path / "postinst").read_text()
    assert "adduser --system" in postinst
    assert "-m 0700" in postinst and "/var/lib/sipphone" in postinst
    assert "rm -rf /var/lib/sipphone" in (tmp_path / "postrm").read_text()


def test_changelog_names_this_version(deb, root):
    with gzip.open(root / "usr/share/doc/sipphone/changelog.gz", "rt") as f:
        top = f.readline()
    assert top.startswith("sipphone (%s) " % field(deb, "Version")), top


def test_lintian_no_errors_and_only_kept_warnings(deb):
    res = run(["lintian", "--no-tag-display-limit", deb])
    tags = [line for line in res.stdout.splitlines()
            if re.match(r"^[EWIPXON]: ", line)]
    errors = [t for t in tags if t.startswith("E:")]
    assert not errors, res.stdout
    warnings = set()
    for t in tags:
        if t.startswith("W:"):
            m = re.match(r"^W: sipphone: (\S+) .*\[(.*)\]$", t)
            assert m, t
            warnings.add((m.group(1), m.group(2)))
    assert warnings <= LINTIAN_KEPT, warnings - LINTIAN_KEPT


# -- the unit ----------------------------------------------------------------

def unit_keys(path):
    keys = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            k, _, v = line.partition("=")
            keys.setdefault(k.strip(), []).append(v.strip())
    return keys


def test_systemd_analyze_verify_accepts_the_unit(root):
    unit = root / UNIT
    # no systemd as PID 1 needed: it reads the file (and checks that
    # ExecStart's /usr/bin/baresip exists)
    res = run(["systemd-analyze", "verify", str(unit)])
    assert res.returncode == 0 and not res.stderr.strip(), res.stderr


def test_unit_runs_the_installed_layout(root):
    keys = unit_keys(root / UNIT)
    assert keys["Type"] == ["notify"]
    assert keys["ExecStart"] == ["/usr/bin/baresip -f /etc/sipphone"]
    assert keys["User"] == ["sipphone"]
    assert keys["StateDirectory"] == ["sipphone"]
    assert keys["StateDirectoryMode"] == ["0700"]
    assert keys["Restart"] == ["on-failure"]
    assert int(keys["WatchdogSec"][0]) > 0
    assert keys["NoNewPrivileges"] == ["yes"]
    assert keys["ProtectSystem"] == ["strict"]
    assert keys["CapabilityBoundingSet"] == [""]
    # the config's state dir is the one systemd makes writable
    config = (root / CONF_DIR / "config").read_text()
    assert re.search(r"(?m)^httpctl_state_dir\s+/var/lib/%s\s"
                     % keys["StateDirectory"][0], config)


def test_security_exposure(root):
    res = run(["systemd-analyze", "security", "--offline=true",
               str(root / UNIT)])
    m = re.search(r"Overall exposure level for sipphone\.service: "
                  r"([0-9.]+)", res.stdout)
    assert m, res.stdout + res.stderr
    assert float(m.group(1)) <= EXPOSURE_MAX, res.stdout


# -- the installed layout runs -----------------------------------------------

def test_installed_layout_starts_and_answers(root, tmp_path):
    conf_files = sorted(os.listdir(root / CONF_DIR))
    svc = InstalledService(root, workdir=tmp_path)
    try:
        svc.start()
        status, _, body = svc.api("GET", "/healthz", token=None)
        assert (status, body) == (200, {"status": "ok"})
        # the token it made in the state dir opens the API
        status, _, body = svc.api("GET", "/api/v1/status")
        assert status == 200, body

        state = root / STATE_DIR
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        assert stat.S_IMODE((state / "token").stat().st_mode) == 0o600
        # nothing written next to the config (the unit's /etc is
        # read-only)
        assert sorted(os.listdir(root / CONF_DIR)) == conf_files

        # a clean stop, in seconds
        assert procs.stop(svc.proc, 5.0) == 0, svc.log_tail()
        log = svc.log_text()
        assert "module stdio.so" not in log, log
    finally:
        svc.stop()
        if svc.proc and svc.proc.returncode not in (0, None):
            print(svc.log_tail())
