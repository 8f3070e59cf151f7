"""The process model: Redis outages, crashed workers, graceful stop, reload,
listen modes, and check-config."""
import concurrent.futures
import json
import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from harness import (DEPLOY, TOKEND_BIN, Nginx, Tokend, alive, fcgi_request, free_port,
                     make_keyring, wait_until)


def health(nginx, timeout=5):
    return requests.get(nginx.url("/v1/health"), timeout=timeout)


def test_redis_down_gives_503_quickly_then_recovers(redis, tokend, nginx):
    assert health(nginx).status_code == 200
    redis.stop()
    started = time.monotonic()
    r = health(nginx)
    elapsed = time.monotonic() - started
    assert r.status_code == 503
    assert r.reason == "Service Unavailable"
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.json() == {"status": "unavailable", "redis": "down", "version": r.json()["version"]}
    # connect timeout is 200 ms here; a refused connection must not wait at all
    assert elapsed < 0.5, elapsed
    # every worker answers 503 while Redis is away (none hangs, none dies)
    workers = tokend.workers()
    assert [health(nginx).status_code for _ in range(20)] == [503] * 20
    redis.start()
    returned = time.monotonic()
    wait_until(lambda: all(health(nginx).status_code == 200 for _ in range(10)),
               timeout=1.0, what="recovery within 1 s of Redis returning")
    assert time.monotonic() - returned < 1.0
    assert tokend.workers() == workers          # no worker was restarted for it
    assert "redis unavailable" in tokend.log_text()
    assert "redis reachable again" in tokend.log_text()


def test_unresponsive_redis_times_out(workdir, redis):
    """A Redis that accepts but never answers: 503 after the command timeout,
    not a hang."""
    import socket
    black_hole = socket.socket()
    black_hole.bind(("127.0.0.1", 0))
    black_hole.listen(16)
    port = black_hole.getsockname()[1]
    t = Tokend(workdir, f"redis://127.0.0.1:{port}/0").start()
    n = Nginx(workdir, t.socket, t.verify_socket).start()
    try:
        started = time.monotonic()
        r = health(n)
        assert r.status_code == 503
        assert time.monotonic() - started < 2.0   # 500 ms command timeout + margin
    finally:
        n.stop()
        t.stop()
        black_hole.close()


def test_killed_worker_is_replaced(tokend, nginx):
    before = tokend.workers()
    assert len(before) == 2
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: victim not in tokend.workers() and len(tokend.workers()) == 2,
               what="a replacement worker")
    assert [health(nginx).status_code for _ in range(20)] == [200] * 20
    assert before[1] in tokend.workers()        # the other worker was untouched
    assert "killed by signal 9; replacing it" in tokend.log_text()


def test_sigterm_drains_in_flight_request(tokend):
    """A request whose body is still arriving when SIGTERM comes is finished
    and answered; then tokend exits 0 and removes its socket."""
    body = b'{"slow": "' + b"x" * 64 + b'"}'
    half = len(body) // 2
    sent_half = threading.Event()
    result = {}

    def writer(stdin):
        stdin.write(body[:half])
        stdin.flush()
        sent_half.set()
        time.sleep(0.6)                      # SIGTERM lands meanwhile
        stdin.write(body[half:])
        stdin.flush()

    def client():
        result["r"] = fcgi_request(tokend.socket, uri="/v1/version", body=body,
                                   content_type="application/json", stdin_writer=writer)

    th = threading.Thread(target=client)
    th.start()
    assert sent_half.wait(5)
    time.sleep(0.2)
    tokend.signal(signal.SIGTERM)
    th.join(10)
    status, headers, payload = result["r"]
    assert status == 200
    assert json.loads(payload)["name"] == "tokend"
    assert tokend.proc.wait(timeout=10) == 0
    assert not os.path.exists(tokend.socket)


def test_sigterm_under_load_loses_nothing_in_flight(tokend, nginx):
    stop = threading.Event()
    codes = []

    def load():
        with requests.Session() as s:
            while not stop.is_set():
                try:
                    codes.append(s.get(nginx.url("/v1/version"), timeout=5).status_code)
                except requests.RequestException:
                    codes.append("error")

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    tokend.signal(signal.SIGTERM)
    assert tokend.proc.wait(timeout=10) == 0
    stop.set()
    for t in threads:
        t.join()
    # before the stop everything succeeded; after it nginx answers its JSON 503
    assert codes.count(200) > 50
    assert set(codes) <= {200, 503}, set(codes)


def test_sighup_reloads_without_dropping_requests(workdir, redis):
    conf = os.path.join(workdir, "tokend.conf")
    with open(os.path.join(DEPLOY, "tokend.conf")) as f:
        shipped = f.read()
    with open(conf, "w") as f:
        f.write(shipped)
    t = Tokend(workdir, redis.url, config=conf).start()
    n = Nginx(workdir, t.socket, t.verify_socket).start()
    try:
        payload = json.dumps({"pad": "x" * 200})
        big = lambda: requests.get(n.url("/v1/version"), data=payload, timeout=5,  # noqa: E731
                                   headers={"Content-Type": "application/json"}).status_code
        assert big() == 200
        workers = t.workers()
        stop = threading.Event()
        codes = []

        def load():
            with requests.Session() as s:
                while not stop.is_set():
                    codes.append(s.get(n.url("/v1/health"), timeout=5).status_code)

        threads = [threading.Thread(target=load) for _ in range(6)]
        for th in threads:
            th.start()
        with open(conf, "w") as f:
            f.write(shipped.replace("body_max_bytes = 1048576", "body_max_bytes = 100"))
        t.signal(signal.SIGHUP)
        wait_until(lambda: big() == 413, what="the reloaded body_max_bytes")
        # an invalid file is refused and the running configuration stays
        with open(conf, "w") as f:
            f.write(shipped.replace("body_max_bytes = 1048576", "body_max_bytes = lots"))
        t.signal(signal.SIGHUP)
        time.sleep(0.5)
        stop.set()
        for th in threads:
            th.join()
        assert big() == 413
        assert len(codes) > 100 and set(codes) == {200}
        assert t.workers() == workers              # reloaded in place, not restarted
        assert "reload refused" in t.log_text() and "body_max_bytes" in t.log_text()
        assert t.proc.poll() is None
    finally:
        n.stop()
        assert t.stop() == 0


def test_one_worker_many_kept_connections(workdir, redis):
    """nginx keeps up to 32 idle connections per nginx worker; one tokend
    worker must serve all of them, not block on an idle one."""
    t = Tokend(workdir, redis.url, workers=1).start()
    n = Nginx(workdir, t.socket, t.verify_socket).start()
    try:
        def burst(_):
            with requests.Session() as s:
                return [s.get(n.url("/v1/health"), timeout=5).status_code for _ in range(10)]

        with concurrent.futures.ThreadPoolExecutor(48) as pool:
            codes = [c for b in pool.map(burst, range(48)) for c in b]
        assert codes == [200] * 480
    finally:
        n.stop()
        t.stop()


def test_tcp_listen(workdir, redis):
    port = free_port()
    t = Tokend(workdir, redis.url, listen=f"127.0.0.1:{port}").start()
    try:
        status, headers, body = fcgi_request(f"127.0.0.1:{port}", uri="/v1/health")
        assert status == 200
        assert json.loads(body)["redis"] == "ok"
    finally:
        assert t.stop() == 0


def test_unix_socket_mode_and_stale_socket(workdir, redis):
    sock = os.path.join(workdir, "tokend.sock")
    # a stale socket file left by a crash is replaced
    import socket
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(sock)
    stale.close()
    t = Tokend(workdir, redis.url, env={"TOKEND_SOCKET_MODE": "0600"}).start()
    try:
        assert os.stat(sock).st_mode & 0o777 == 0o600
        assert fcgi_request(sock)[0] == 200
        # a live socket is not stolen by a second instance
        second = Tokend(workdir, redis.url)
        second.log_path = os.path.join(workdir, "second.log")
        second.start(wait=False)
        assert second.proc.wait(timeout=5) == 1
        assert "Address already in use" in second.log_text()
        assert fcgi_request(sock)[0] == 200
    finally:
        t.stop()


def run_check_config(env_extra, config=None, workdir=None):
    env = {"PATH": os.environ["PATH"], "TOKEND_CONFIG": config or os.path.join(DEPLOY, "tokend.conf")}
    if workdir is not None:
        env["TOKEND_KEYRING_FILE"] = make_keyring(workdir)
    env.update(env_extra)
    return subprocess.run([TOKEND_BIN, "check-config"], env=env, capture_output=True, text=True,
                          timeout=10)


def test_check_config_prints_effective_values_redacted(workdir):
    pw = os.path.join(workdir, "redis.pw")
    with open(pw, "w") as f:
        f.write("hunter2-secret\n")
    r = run_check_config({"TOKEND_WORKERS": "3", "TOKEND_REDIS_PASSWORD_FILE": pw,
                          "TOKEND_REDIS_URL": "redis://:urlsecret@127.0.0.1:6379/1"},
                         workdir=workdir)
    assert r.returncode == 0, r.stderr
    lines = dict(l.split(" = ", 1) for l in r.stdout.splitlines() if " = " in l)
    assert lines["workers"].split("\t")[0] == "3"
    assert lines["listen"].split("\t")[0] == '"auto"'
    assert "hunter2" not in r.stdout and "urlsecret" not in r.stdout
    assert lines["# redis_password"].startswith("(redacted)")
    assert lines["redis_url"].startswith('"redis://127.0.0.1:6379/1"\t')
    assert "credentials are set and left out" in lines["redis_url"]
    assert "# keyring: 1 key(s), signing with key id 1" in r.stdout
    key_line = open(make_keyring(workdir)).read().split()[1]
    assert key_line not in r.stdout                     # the key itself is never printed


@pytest.mark.parametrize("key,value", [
    ("TOKEND_WORKERS", "many"), ("TOKEND_BODY_MAX_BYTES", "-5"), ("TOKEND_LISTEN", "nope"),
    ("TOKEND_REDIS_URL", "mysql://x"), ("TOKEND_SOCKET_MODE", "999"),
])
def test_check_config_rejects_and_names_invalid_values(workdir, key, value):
    r = run_check_config({key: value}, workdir=workdir)
    assert r.returncode != 0
    assert key in r.stderr or key[7:].lower() in r.stderr


def test_check_config_names_bad_file_keys(workdir):
    conf = os.path.join(workdir, "bad.conf")
    with open(conf, "w") as f:
        f.write("workers = 2\nredis_timeout = 5\n")
    r = run_check_config({}, config=conf, workdir=workdir)
    assert r.returncode != 0
    assert "line 2" in r.stderr and "redis_timeout" in r.stderr
    r = run_check_config({"TOKEND_KEYRING_FILE": os.path.join(workdir, "nokeys")})
    assert r.returncode != 0 and "keys generate" in r.stderr
    r = run_check_config({}, config=os.path.join(workdir, "missing.conf"))
    assert r.returncode != 0 and "missing.conf" in r.stderr


def test_secrets_never_from_argv():
    r = subprocess.run([TOKEND_BIN, "serve", "--redis-password", "x"], capture_output=True,
                       text=True, timeout=5)
    assert r.returncode == 2 and "unknown option '--redis-password'" in r.stderr


def test_redis_password_and_database_from_url(workdir, redis):
    redis.cli("CONFIG", "SET", "requirepass", "pw-for-test")
    base = f"redis://:pw-for-test@127.0.0.1:{redis.port}/3"
    t = Tokend(workdir, base).start()
    try:
        status, _, body = fcgi_request(t.socket)
        assert status == 200, body
        # the worker's connection is on database 3: its client entry says so
        clients = subprocess.run(["redis-cli", "-p", str(redis.port), "-a", "pw-for-test",
                                  "--no-auth-warning", "CLIENT", "LIST"],
                                 capture_output=True, text=True).stdout
        assert "db=3" in clients
    finally:
        t.stop()
    try:
        log = refused_auth(workdir, f"redis://:wrong@127.0.0.1:{redis.port}/0", "wrong.log")
        assert "pw-for-test" not in log and "wrong" not in log.replace("wrong.log", "")
    finally:
        redis.cli("-a", "pw-for-test", "--no-auth-warning", "CONFIG", "SET", "requirepass", "")


def refused_auth(workdir, url, log_name):
    """A tokend whose Redis credentials are refused: 503, and its log says
    why without them. Returns the log."""
    wrong = Tokend(workdir, url)
    wrong.log_path = os.path.join(workdir, log_name)
    wrong.start()
    try:
        status, _, _ = fcgi_request(wrong.socket)
        assert status == 503 and "AUTH refused" in wrong.log_text()
        return wrong.log_text()
    finally:
        wrong.stop()


def test_redis_acl_user_from_url(workdir, redis):
    """redis://user:password@host: AUTH with the ACL user, not the default one."""
    redis.cli("ACL", "SETUSER", "tokend-acl", "on", ">acl-pw", "~*", "&*", "+@all")
    t = Tokend(workdir, f"redis://tokend-acl:acl-pw@127.0.0.1:{redis.port}/0").start()
    try:
        status, _, body = fcgi_request(t.socket)
        assert status == 200, body
        clients = redis.cli("CLIENT", "LIST")
        assert "user=tokend-acl" in clients
        r = run_check_config({"TOKEND_REDIS_URL": f"redis://tokend-acl:acl-pw@127.0.0.1:{redis.port}/0"},
                             workdir=workdir)
        assert r.returncode == 0 and "acl-pw" not in r.stdout and "tokend-acl" not in r.stdout
    finally:
        t.stop()
    try:
        log = refused_auth(workdir, f"redis://tokend-acl:nope@127.0.0.1:{redis.port}/0",
                           "wrong-acl.log")
        assert "nope" not in log
    finally:
        redis.cli("ACL", "DELUSER", "tokend-acl")


def test_rediss_is_refused_naming_the_reason(workdir):
    r = run_check_config({"TOKEND_REDIS_URL": "rediss://:pw@redis.example:6380/0"}, workdir=workdir)
    assert r.returncode != 0
    assert "TLS" in r.stderr and "stunnel" in r.stderr and "pw" not in r.stderr.replace("stunnel", "")
