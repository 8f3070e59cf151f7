"""The Debian package (`make deb`) and `make install-system`, installed for
real on this machine: the user tokend, /var/lib/tokend and its keyring with
the right owners and modes, the configuration readable by the service user
only, `tokend serve` as that user answering /v1/health over FastCGI against a
real Redis, a reinstall that keeps the keyring and a changed conffile, and
remove + purge leaving the machine as it was. Root only (CI runs as root);
each test purges what it installed, pass or fail."""
import glob
import grp
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import pytest

from harness import ROOT, SANITIZED, Redis, fcgi_request, reachable, wait_until

IS_ROOT = os.geteuid() == 0
HAS_DPKG = shutil.which("dpkg") is not None
STATE = "/var/lib/tokend"
KEYRING = STATE + "/keyring"
CONF = "/etc/tokend/tokend.conf"
BIN = "/usr/sbin/tokend"
UNIT = "/lib/systemd/system/tokend.service"

needs_root = pytest.mark.skipif(not IS_ROOT, reason="installs on this machine: needs root "
                                "(CI runs make test as root)")
needs_dpkg = pytest.mark.skipif(not HAS_DPKG, reason="no dpkg: not a Debian machine")
# the package holds build/tokend; test-integration runs these once
plain_build_only = pytest.mark.skipif(SANITIZED, reason="the package holds the plain build: "
                                      "checked in test-integration")


def run(*args, check=True, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)
    if check:
        assert r.returncode == 0, f"{args}: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def dpkg(*args):
    """dpkg, waiting out another dpkg or apt holding the lock (shared machine)."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for _ in range(60):
        r = subprocess.run(["dpkg", *args], capture_output=True, text=True, timeout=120,
                           env=env, stdin=subprocess.DEVNULL)
        if r.returncode == 0 or "lock" not in r.stderr:
            break
        time.sleep(2)
    assert r.returncode == 0, f"dpkg {' '.join(args)}: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def exists_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def exists_group(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def installed():
    r = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", "tokend"],
                       capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else ""


@pytest.fixture
def clean_machine():
    """Refuses to run over a tokend this machine has of its own."""
    found = [what for what, there in [
        ("the package tokend", installed() not in ("", "not-installed")),
        ("a user tokend", exists_user("tokend")), ("a group tokend", exists_group("tokend")),
        ("/etc/tokend", os.path.lexists("/etc/tokend")), (STATE, os.path.lexists(STATE)),
    ] if there]
    if found:
        pytest.skip("this machine has a tokend of its own (" + ", ".join(found) +
                    "): not installing over it")


def package_version():
    with open(os.path.join(ROOT, "include", "tokend", "api", "admin.h")) as f:
        return re.search(r'#define TD_VERSION "([^"]+)"', f.read()).group(1)


@pytest.fixture(scope="module")
def deb():
    """build/tokend_<version>_<arch>.deb, made by `make deb` as CI would."""
    run("make", "-s", "deb", cwd=ROOT, timeout=600)
    arch = run("dpkg", "--print-architecture").stdout.strip()
    path = os.path.join(ROOT, "build", f"tokend_{package_version()}_{arch}.deb")
    assert os.path.exists(path)
    return path


def package_paths(deb_path):
    """Every path the package holds, directories included, from the archive."""
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb_path], capture_output=True,
                         check=True).stdout
    listing = subprocess.run(["tar", "-t"], input=tar, capture_output=True,
                             check=True).stdout.decode()
    # entries read ./usr/sbin/tokend, ./usr/sbin/
    return sorted({p[1:].rstrip("/") for p in listing.split()} - {""})


def systemd_traces():
    """What deb-systemd-helper may leave: enable links, mask links, state."""
    found = []
    for base in ("/etc/systemd/system", "/var/lib/systemd"):
        for dirpath, dirnames, filenames in os.walk(base):
            found += [os.path.join(dirpath, n) for n in dirnames + filenames if "tokend" in n]
    return sorted(found)


def machine_state(paths):
    overrides = run("dpkg-statoverride", "--list", check=False).stdout
    return {
        "package": installed(),
        "user": exists_user("tokend"),
        "group": exists_group("tokend"),
        "statoverrides": [l for l in overrides.splitlines() if "tokend" in l],
        "systemd": systemd_traces(),
        "paths": {p: os.path.lexists(p) for p in paths + ["/etc/tokend", STATE]},
    }


def mode_owner(path):
    st = os.stat(path)
    return (stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name,
            grp.getgrgid(st.st_gid).gr_name)


def as_tokend(*args):
    return ["setpriv", "--reuid=tokend", "--regid=tokend", "--init-groups", *args]


def serve_health_as_tokend(binary):
    """`tokend serve` as the user tokend with the installed configuration,
    on sockets in a directory of its own and a private Redis: /v1/health on
    both pools answers 200 with Redis up; SIGTERM stops it cleanly."""
    d = tempfile.mkdtemp(prefix="tokend-pkg-")
    os.chmod(d, 0o755)
    run_dir = os.path.join(d, "run")
    os.mkdir(run_dir, 0o750)
    os.chown(run_dir, pwd.getpwnam("tokend").pw_uid, grp.getgrnam("tokend").gr_gid)
    redis = Redis(d).start()
    log_path = os.path.join(d, "tokend.log")
    proc = None
    try:
        sock, verify = os.path.join(run_dir, "tokend.sock"), os.path.join(run_dir, "verify.sock")
        metrics = os.path.join(run_dir, "metrics.sock")     # not the shipped port: it may be taken
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TOKEND_LISTEN": sock,
               "TOKEND_VERIFY_LISTEN": verify, "TOKEND_METRICS_LISTEN": "unix:" + metrics,
               "TOKEND_REDIS_URL": redis.url, "TOKEND_WORKERS": "1",
               "TOKEND_VERIFY_WORKERS": "1"}
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(as_tokend(binary, "serve"), env=env, stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL)
        wait_until(lambda: reachable(sock) and reachable(verify) and reachable(metrics),
                   timeout=10, what="tokend serve as the user tokend")
        for address in (sock, verify):
            status, headers, body = fcgi_request(address, uri="/v1/health")
            assert status == 200, body
            assert json.loads(body)["redis"] == "ok"
        # the workers are the service user's, not root's
        for child in open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split():
            assert os.stat(f"/proc/{child}").st_uid == pwd.getpwnam("tokend").pw_uid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, open(log_path).read()
        assert not any(os.path.exists(p) for p in (sock, verify, metrics))
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        redis.stop()
        shutil.rmtree(d, ignore_errors=True)


def purge():
    if installed() not in ("", "not-installed"):
        dpkg("--purge", "tokend")


@needs_dpkg
@plain_build_only
def test_lintian_finds_no_errors_or_warnings(deb):
    r = run("lintian", "--fail-on", "error,warning", "--info", deb, check=False, timeout=300)
    problems = [l for l in r.stdout.splitlines() if l[:2] in ("E:", "W:")]
    assert r.returncode == 0 and not problems, r.stdout + r.stderr


@needs_root
@needs_dpkg
@plain_build_only
def test_package_installs_serves_and_purges_to_a_clean_machine(deb, clean_machine):
    paths = package_paths(deb)
    assert BIN in paths and CONF in paths and UNIT in paths
    assert "/usr/share/man/man8/tokend.8.gz" in paths
    assert "/usr/share/man/man5/tokend.conf.5.gz" in paths
    assert "/usr/share/doc/tokend/copyright" in paths
    assert "/usr/share/tokend/console/index.html" in paths   # the nginx recipe's alias
    before = machine_state(paths)
    try:
        dpkg("-i", deb)
        listed = sorted(p for p in run("dpkg", "-L", "tokend").stdout.split() if p != "/.")
        assert listed == paths
        assert run("dpkg-query", "-W", "-f=${Conffiles}", "tokend").stdout.split()[0] == CONF

        user = pwd.getpwnam("tokend")
        assert user.pw_uid < 1000 and user.pw_dir == STATE
        assert grp.getgrgid(user.pw_gid).gr_name == "tokend"
        assert mode_owner(STATE) == (0o750, "tokend", "tokend")
        assert mode_owner(KEYRING) == (0o600, "tokend", "tokend")
        assert len(open(KEYRING).read().splitlines()) == 1
        assert mode_owner(CONF) == (0o640, "root", "tokend")

        # the unit's preflight, as root and as the service user
        for cmd in ([BIN, "check-config"], as_tokend(BIN, "check-config")):
            r = run(*cmd)
            assert f'keyring_file = "{KEYRING}"' in r.stdout
            assert "# keyring: 1 key(s), signing with key id 1" in r.stdout
        unit = open(UNIT).read()
        assert f"ExecStart={BIN} serve --config {CONF}" in unit
        assert not [l for l in unit.splitlines() if "/usr/local" in l], unit
        r = run("systemd-analyze", "verify", UNIT, check=False, timeout=60)
        problems = [l for l in r.stderr.splitlines() if "tokend.service" in l]
        assert r.returncode == 0 and not problems, r.stderr

        serve_health_as_tokend(BIN)

        # key rotation as root (README, Operations) leaves the keyring the service
        # user's; no Redis here, so retire cannot count what it revokes
        no_redis = dict(os.environ, TOKEND_REDIS_URL="redis://127.0.0.1:1/0")
        run(BIN, "keys", "generate", env=no_redis)
        run(BIN, "keys", "retire", "1", "--yes", env=no_redis)
        assert mode_owner(KEYRING) == (0o600, "tokend", "tokend")
        r = run(*as_tokend(BIN, "check-config"))
        assert "# keyring: 1 key(s), signing with key id 2" in r.stdout

        dpkg("--remove", "tokend")
        assert not os.path.exists(BIN)
        # remove keeps what is the operator's: configuration, user, keyring
        assert os.path.exists(CONF) and os.path.exists(KEYRING) and exists_user("tokend")
        dpkg("--purge", "tokend")
        assert machine_state(paths) == before
    finally:
        purge()


@needs_root
@needs_dpkg
@plain_build_only
def test_package_reinstall_keeps_keyring_and_a_changed_conffile(deb, clean_machine):
    try:
        dpkg("-i", deb)
        keyring = open(KEYRING).read()
        with open(CONF, "a") as f:
            f.write("# the operator's change\n")
        conf = open(CONF).read()
        dpkg("-i", deb)
        assert open(KEYRING).read() == keyring
        assert mode_owner(KEYRING) == (0o600, "tokend", "tokend")
        assert open(CONF).read() == conf
        assert mode_owner(CONF) == (0o640, "root", "tokend")
        assert not glob.glob(CONF + ".dpkg-*")
    finally:
        purge()
    assert not exists_user("tokend") and not os.path.exists(STATE)


@needs_root
@plain_build_only
def test_make_install_system_makes_user_state_and_keyring_once(clean_machine):
    stage = tempfile.mkdtemp(prefix="tokend-install-")
    os.chmod(stage, 0o755)     # the service user reads the config in it
    prefix, sysconf = os.path.join(stage, "usr"), os.path.join(stage, "etc")
    args = ["make", "-s", "install-system", f"PREFIX={prefix}", f"SYSCONFDIR={sysconf}"]
    try:
        r = run(*args, f"DESTDIR={stage}/dest", cwd=ROOT, check=False, timeout=300)
        assert r.returncode != 0 and "not with DESTDIR" in r.stderr
        assert not exists_user("tokend")

        run(*args, cwd=ROOT, timeout=300)
        binary, conf = os.path.join(prefix, "sbin", "tokend"), os.path.join(sysconf, "tokend",
                                                                             "tokend.conf")
        assert pwd.getpwnam("tokend").pw_uid < 1000
        assert mode_owner(STATE) == (0o750, "tokend", "tokend")
        assert mode_owner(KEYRING) == (0o600, "tokend", "tokend")
        assert mode_owner(conf) == (0o640, "root", "tokend")
        r = run(*as_tokend(binary, "check-config", "--config", conf))
        assert "# keyring: 1 key(s)" in r.stdout
        unit = open(os.path.join(prefix, "lib", "systemd", "system", "tokend.service")).read()
        assert f"ExecStart={binary} serve --config {conf}" in unit

        keyring = open(KEYRING).read()
        run(*args, cwd=ROOT, timeout=300)
        assert open(KEYRING).read() == keyring
    finally:
        for cmd in (["userdel", "tokend"], ["groupdel", "tokend"]):
            subprocess.run(cmd, capture_output=True)
        shutil.rmtree(STATE, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)
    assert not exists_user("tokend") and not exists_group("tokend")
