"""Each deployment recipe in deploy/ exercised as shipped: Apache with
mod_fcgid and with mod_proxy_fcgi, spawn-fcgi behind nginx, the systemd unit,
redis.conf's persistence, and `make run` itself (twice in a row)."""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import requests

from harness import (DEPLOY, ROOT, TOKEND_BIN, Nginx, Tokend, alive, children,
                     create_admin_pat, free_port, make_keyring, wait_until)

IS_ROOT = os.geteuid() == 0


class Apache:
    def __init__(self, workdir, mode, *args):
        self.dir = os.path.join(workdir, "apache-" + mode)
        self.port = free_port()
        subprocess.run([os.path.join(DEPLOY, "apache", "render.sh"), mode, self.dir,
                        str(self.port), *args], check=True)
        self.proc = subprocess.Popen(["apache2", "-f", os.path.join(self.dir, "httpd.conf"),
                                      "-DFOREGROUND"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def error_log(self):
        path = os.path.join(self.dir, "error.log")
        return open(path, errors="replace").read() if os.path.exists(path) else ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def private_binary(workdir):
    """A copy of tokend that Apache's user can execute wherever the build is."""
    path = os.path.join(workdir, "tokend")
    shutil.copy(TOKEND_BIN, path)
    os.chmod(path, 0o755)
    return path


def config_file(workdir, redis_url, extra="", keyring_owner=None):
    path = os.path.join(workdir, "tokend.conf")
    with open(os.path.join(DEPLOY, "tokend.conf")) as f:
        text = f.read()
    text = re.sub(r"(?m)^redis_url = .*$", f"redis_url = {redis_url}", text)
    keyring = make_keyring(workdir)
    if keyring_owner is not None:
        os.chown(keyring, keyring_owner, -1)
    text = re.sub(r"(?m)^keyring_file = .*$", f"keyring_file = {keyring}", text)
    assert f"keyring_file = {keyring}" in text
    with open(path, "w") as f:
        f.write(text + extra)
    os.chmod(path, 0o644)
    return path


def assert_health(url):
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.json()["redis"] == "ok"
    return r


def assert_json_404(url):
    r = requests.get(url, timeout=10)
    assert r.status_code == 404
    assert r.json()["code"] == "route_not_found"


def manage_through(base, admin, space):
    """Real management traffic through a recipe: Authorization must reach
    tokend. A space and a token (Storyblok view), the space's tokens through
    the DatoCMS view, the token verified (GET /v1/verify) and, revoked,
    refused. Returns the token."""
    h = {"Authorization": admin}
    r = requests.post(base + "/v1/spaces", headers=h, timeout=10,
                      json={"space": {"id": space, "name": "recipe"}})
    assert r.status_code == 201, r.text
    r = requests.post(base + f"/v1/spaces/{space}/api_keys", headers=h, timeout=10,
                      json={"api_key": {"access": "public", "name": "site"}})
    assert r.status_code == 201, r.text
    key = r.json()["api_key"]
    r = requests.get(base + "/access_tokens", timeout=10,
                     headers=dict(h, **{"X-Api-Version": "3", "X-Space-Id": str(space)}))
    assert r.status_code == 200, r.text
    assert str(key["id"]) in [t["id"] for t in r.json()["data"]]
    check = lambda: requests.get(base + "/v1/verify", timeout=10, headers={  # noqa: E731
        "X-Original-URI": f"/v2/cdn/stories?token={key['token']}"}).status_code
    assert check() == 200
    assert requests.delete(base + f"/v1/spaces/{space}/api_keys/{key['id']}", headers=h,
                           timeout=10).status_code == 200
    assert check() == 401
    return key


@pytest.mark.skipif(os.environ.get("TOKEND_SANITIZED") == "1",
                    reason="the copy Apache runs is the plain build")
def test_apache_mod_fcgid(workdir, redis):
    """Apache spawns tokend itself; tokend serves the socket on fd 0."""
    import pwd
    owner = pwd.getpwnam("nobody").pw_uid if IS_ROOT else None   # Apache runs tokend as nobody
    apache = Apache(workdir, "fcgid", private_binary(workdir),
                    config_file(workdir, redis.url, keyring_owner=owner))
    try:
        wait_until(lambda: requests.get(apache.url("/v1/health"), timeout=5).status_code == 200,
                   timeout=15, what="Apache + mod_fcgid")
        assert_health(apache.url("/v1/health"))
        assert_json_404(apache.url("/v1/nothing"))
        r = requests.delete(apache.url("/v1/health"), timeout=10)
        assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
        manage_through(apache.url(""), create_admin_pat(workdir, redis.url), 91)
        log = apache.error_log()
        assert "serving the listening socket inherited on fd 0" in log
        assert "access method=GET route=health status=200" in log
        assert "route=dato.list status=200" in log and "route=api_keys.create status=201" in log
    finally:
        apache.stop()


def test_apache_mod_proxy_fcgi(workdir, redis):
    env = {"TOKEND_SOCKET_OWNER": "nobody:nogroup"} if IS_ROOT else {"TOKEND_SOCKET_MODE": "0666"}
    tokend = Tokend(workdir, redis.url, env=env).start()
    apache = Apache(workdir, "proxy-fcgi", tokend.socket, tokend.verify_socket)
    try:
        wait_until(lambda: requests.get(apache.url("/v1/health"), timeout=5).status_code == 200,
                   timeout=15, what="Apache + mod_proxy_fcgi")
        assert_health(apache.url("/v1/health?x=1"))
        assert_json_404(apache.url("/v1/nothing"))
        r = requests.get(apache.url("/v1/version"), data=b"{x",
                         headers={"Content-Type": "application/json"}, timeout=10)
        assert r.status_code == 400 and r.json()["code"] == "invalid_json"
        manage_through(apache.url(""), create_admin_pat(workdir, redis.url), 92)
        # the verify path went to the verify pool (ProxyPassMatch), the rest not
        log = tokend.log_text()
        assert any(" verify-worker " in l and "route=verify " in l for l in log.splitlines())
        assert not any(" verify-worker " in l and "route=api_keys" in l for l in log.splitlines())
    finally:
        apache.stop()
        assert tokend.stop() == 0


def test_spawn_fcgi_behind_nginx(workdir, redis):
    sock = os.path.join(workdir, "spawned.sock")
    env = dict(os.environ, TOKEND_CONFIG=config_file(workdir, redis.url), TOKEND_WORKERS="2")
    log = open(os.path.join(workdir, "spawned.log"), "wb")
    proc = subprocess.Popen([os.path.join(DEPLOY, "spawn-fcgi", "spawn-fcgi.sh"), sock, TOKEND_BIN],
                            env=env, stdout=log, stderr=log)
    nginx = None
    try:
        wait_until(lambda: os.path.exists(sock) and len(children(proc.pid)) == 2,
                   what="spawn-fcgi'd tokend")
        nginx = Nginx(workdir, sock).start()
        assert_health(nginx.url("/v1/health"))
        manage_through(nginx.base, create_admin_pat(workdir, redis.url), 93)
        text = open(os.path.join(workdir, "spawned.log")).read()
        assert "serving the listening socket inherited on fd 0" in text
        # tokend is the process spawn-fcgi exec'd: SIGTERM stops it cleanly
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if nginx:
            nginx.stop()
        if proc.poll() is None:
            proc.kill()
        log.close()


def test_systemd_unit_verifies_and_is_sandboxed(workdir):
    unit = os.path.join(workdir, "tokend.service")
    with open(os.path.join(DEPLOY, "systemd", "tokend.service")) as f:
        text = f.read()
    assert "ExecStart=/usr/local/sbin/tokend serve" in text
    with open(unit, "w") as f:
        f.write(text.replace("/usr/local/sbin/tokend", TOKEND_BIN))
    # verify runs man(1) on each Documentation=man: page: the repository's
    man = os.path.join(workdir, "man")
    for page, section in (("tokend.8", "man8"), ("tokend.conf.5", "man5")):
        os.makedirs(os.path.join(man, section), exist_ok=True)
        os.symlink(os.path.join(ROOT, "man", page), os.path.join(man, section, page))
    r = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                       timeout=30, env=dict(os.environ, MANPATH=man))
    problems = [l for l in r.stderr.splitlines()
                if "tokend.service" in l and "Special user" not in l
                and "user tokend" not in l.lower()]
    assert r.returncode == 0 and not problems, r.stderr
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit],
                       capture_output=True, text=True, timeout=30)
    m = re.search(r"Overall exposure level for tokend.service: ([\d.]+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 2.5, r.stdout
    # the unit's own preflight: the shipped config must pass check-config
    r = subprocess.run([TOKEND_BIN, "check-config", "--config",
                        os.path.join(DEPLOY, "tokend.conf")], capture_output=True, text=True,
                       env=dict(os.environ, TOKEND_KEYRING_FILE=make_keyring(workdir)))
    assert r.returncode == 0, r.stderr


def test_redis_conf_keeps_acknowledged_writes_after_kill_9(redis):
    """deploy/redis/redis.conf turns the AOF on: a write Redis acknowledged
    survives kill -9 and a restart."""
    assert redis.cli("CONFIG", "GET", "appendonly").split() == ["appendonly", "yes"]
    assert redis.cli("CONFIG", "GET", "maxmemory-policy").split()[-1] == "noeviction"
    # a bound, so a full Redis refuses writes (the 503 test_faults shows)
    # instead of meeting the OOM killer
    assert int(redis.cli("CONFIG", "GET", "maxmemory").split()[-1]) == 1024 ** 3
    assert redis.cli("SET", "tokend:probe", "kept") == "OK"
    redis.stop(sig=signal.SIGKILL)
    redis.start()
    assert redis.cli("GET", "tokend:probe") == "kept"


def test_make_run_twice_in_a_row(workdir):
    """deploy/run.sh (what `make run` starts) comes up, answers health, and
    stops all three services on SIGTERM; the second run works the same."""
    var = os.path.join(workdir, "var")
    for attempt in range(2):
        port, metrics_port = free_port(), free_port()
        env = dict(os.environ, PORT=str(port), TOKEND_VAR_DIR=var, METRICS_PORT=str(metrics_port))
        out_path = os.path.join(workdir, f"run{attempt}.out")
        out_file = open(out_path, "wb")
        proc = subprocess.Popen([os.path.join(DEPLOY, "run.sh")], env=env, cwd=ROOT,
                                stdout=out_file, stderr=subprocess.STDOUT,
                                start_new_session=True)
        output = lambda: open(out_path, "rb").read()  # noqa: E731
        try:
            wait_until(lambda: b"tokend is running" in output(), timeout=20,
                       what=f"make run #{attempt + 1}")
            assert requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=5).status_code == 200
            assert b"curl -s http://127.0.0.1:%d/v1/health" % port in output()
            # the metrics URL it prints answers Prometheus's scrape
            assert b"http://127.0.0.1:%d/metrics" % metrics_port in output()
            m = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
            assert m.status_code == 200 and 'route="health",status="200"' in m.text
            services = descendants(proc.pid)
            assert len(services) >= 3
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, output()
            assert b"stopped." in output()
            wait_until(lambda: not any(alive(p) for p in services), what="services to stop")
            assert not os.path.exists(os.path.join(var, "tokend.sock"))
            assert os.path.exists(os.path.join(var, "redis", "appendonlydir"))
        finally:
            out_file.close()
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_make_run_a_second_time_in_the_same_folder_touches_nothing(workdir):
    var = os.path.join(workdir, "var")
    port, port2 = free_port(), free_port()
    out_path = os.path.join(workdir, "first.out")
    out_file = open(out_path, "wb")
    first = subprocess.Popen([os.path.join(DEPLOY, "run.sh")], cwd=ROOT,
                             env=dict(os.environ, PORT=str(port), TOKEND_VAR_DIR=var,
                                      METRICS_PORT=str(free_port())),
                             stdout=out_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: b"tokend is running" in open(out_path, "rb").read(), timeout=20,
                   what="the first make run")
        files = {p: os.stat(os.path.join(var, p)).st_mtime_ns
                 for p in ("tokend.sock", "verify.sock", "redis/redis.sock", "keyring",
                           "admin.token")}
        second = subprocess.run([os.path.join(DEPLOY, "run.sh")], cwd=ROOT, timeout=30,
                                env=dict(os.environ, PORT=str(port2), TOKEND_VAR_DIR=var,
                                         METRICS_PORT=str(free_port())),
                                capture_output=True, text=True)
        assert second.returncode == 1
        assert "already running" in second.stderr and f"http://127.0.0.1:{port}" in second.stderr
        assert {p: os.stat(os.path.join(var, p)).st_mtime_ns for p in files} == files
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port2}/v1/health", timeout=2)
        assert requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=5).status_code == 200
    finally:
        first.send_signal(signal.SIGTERM)
        try:
            first.wait(timeout=30)
        finally:
            out_file.close()
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
                first.wait()


def descendants(pid):
    out = []
    for c in children(pid):
        out.append(c)
        out.extend(descendants(c))
    return out


def test_make_install_honours_prefix_and_destdir(workdir):
    dest = os.path.join(workdir, "stage")
    r = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", "PREFIX=/opt/tokend",
                        ], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    binary = os.path.join(dest, "opt", "tokend", "sbin", "tokend")
    assert os.access(binary, os.X_OK)
    assert subprocess.run([binary, "version"], capture_output=True, text=True).stdout.startswith(
        "tokend ")
    conf = os.path.join(dest, "etc", "tokend", "tokend.conf")
    assert os.stat(conf).st_mode & 0o777 == 0o640
    # the unit names this install's binary, the rest as shipped
    unit = open(os.path.join(dest, "opt", "tokend", "lib", "systemd", "system",
                             "tokend.service")).read()
    assert "ExecStart=/opt/tokend/sbin/tokend serve --config /etc/tokend/tokend.conf" in unit
    assert "file:///opt/tokend/share/doc/tokend/README.md" in unit
    for path in ("share/man/man8/tokend.8", "share/man/man5/tokend.conf.5",
                 "share/doc/tokend/README.md"):
        assert os.path.exists(os.path.join(dest, "opt", "tokend", path)), path
    # an existing config is never overwritten
    with open(conf, "w") as f:
        f.write("workers = 3\n")
    subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", "PREFIX=/opt/tokend"], cwd=ROOT,
                   check=True, capture_output=True, timeout=300)
    assert open(conf).read() == "workers = 3\n"
    # uninstall takes what install put, and leaves the operator's config
    subprocess.run(["make", "-s", "uninstall", f"DESTDIR={dest}", "PREFIX=/opt/tokend"], cwd=ROOT,
                   check=True, capture_output=True, timeout=300)
    assert not os.path.exists(binary)
    left = sorted(os.path.relpath(os.path.join(d, f), dest)
                  for d, _, files in os.walk(dest) for f in files)
    assert left == ["etc/tokend/tokend.conf"], left


def test_install_deps_is_silent_and_idempotent():
    for _ in range(2):
        r = subprocess.run([os.path.join(DEPLOY, "install-deps.sh"), "test"], capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "" and r.stderr == ""
