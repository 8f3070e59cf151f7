"""Real processes for the integration tests: redis-server, tokend, nginx,
Apache and spawn-fcgi, each on free loopback ports inside a temporary
directory, started from the configs shipped in deploy/."""
import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time

import tempfile

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
TOKEND_BIN = os.environ.get("TOKEND_BIN", os.path.join(ROOT, "build", "tokend"))
SANITIZED = os.environ.get("TOKEND_SANITIZED") == "1"

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    """n distinct free ports (held open together while chosen)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_until(predicate, timeout=5.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def children(pid):
    """Direct children of pid, from /proc."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def process_name(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def reachable(address):
    """A Unix socket path or host:port that accepts a connection."""
    if address.startswith("/"):
        if not os.path.exists(address):
            return False
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(address)
        return True
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=1):
        return True


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Redis:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.proc = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", os.path.join(DEPLOY, "redis", "redis.conf"),
             "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.cli("PING") == "PONG", what="redis")
        return self

    def cli(self, *args):
        # values may be binary (token secrets are stored raw)
        out = subprocess.run(["redis-cli", "-p", str(self.port), *args],
                             capture_output=True, text=True, errors="backslashreplace",
                             timeout=5)
        return out.stdout.strip()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
        self.proc = None


def netns_prefix(ns):
    """The command prefix that runs a program in network namespace ns."""
    return ["ip", "netns", "exec", ns] if ns else []


class RedisNode:
    """A redis-server (or, with --sentinel in its arguments, a sentinel) on
    ip:port, optionally inside a network namespace, its arguments from
    args(node) at each start."""

    def __init__(self, workdir, name, args, ip="127.0.0.1", port=None, netns=None):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.ip, self.port, self.netns = ip, port or free_port(), netns
        self.args = args
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            netns_prefix(self.netns) + ["redis-server", *self.args(self), "--port", str(self.port),
                                        "--bind", self.ip, "--dir", self.dir,
                                        "--logfile", os.path.join(self.dir, "log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # a busy machine (the sanitizer run) can take a while to start one
            wait_until(lambda: self.cli("PING") == "PONG", timeout=15,
                       what=f"redis on {self.ip}:{self.port}")
        except AssertionError:
            log = os.path.join(self.dir, "log")
            tail = open(log, errors="replace").read()[-1500:] if os.path.exists(log) else ""
            raise AssertionError(f"redis on {self.ip}:{self.port} (exit {self.proc.poll()}): "
                                 f"{tail}") from None
        return self

    def cli(self, *args):
        try:
            return subprocess.run(["redis-cli", "-h", self.ip, "-p", str(self.port), *args],
                                  capture_output=True, text=True, timeout=5).stdout.strip()
        except subprocess.TimeoutExpired:
            return ""       # busy or gone: the callers' wait_until asks again

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def make_keyring(workdir):
    """A keyring made by `tokend keys generate`, as an operator would."""
    path = os.path.join(workdir, "keyring")
    if not os.path.exists(path):
        subprocess.run([TOKEND_BIN, "keys", "generate"], check=True, capture_output=True,
                       env=dict(os.environ, TOKEND_KEYRING_FILE=path,
                                TOKEND_CONFIG=os.path.join(DEPLOY, "tokend.conf")))
    return path


def create_admin_pat(workdir, redis_url):
    """The first PAT, bootstrapped with `tokend pat create --full` (printed once)."""
    out = subprocess.run([TOKEND_BIN, "pat", "create", "--name", "admin", "--full"], check=True,
                         capture_output=True, text=True,
                         env=dict(os.environ, TOKEND_KEYRING_FILE=make_keyring(workdir),
                                  TOKEND_REDIS_URL=redis_url,
                                  TOKEND_CONFIG=os.path.join(DEPLOY, "tokend.conf")))
    return out.stdout.strip()


class Tokend:
    """tokend serve with the shipped deploy/tokend.conf and TOKEND_* overrides:
    as shipped, the verify path has its own pool (verify.sock, 2 workers)
    unless listen is TCP or env sets TOKEND_VERIFY_LISTEN (empty: no pool)."""

    def __init__(self, workdir, redis_url, workers=2, listen=None, env=None, config=None):
        self.workdir = workdir
        self.redis_url = redis_url
        self.socket = os.path.join(workdir, "tokend.sock")
        self.listen = listen or self.socket
        env = dict(env or {})
        if "TOKEND_VERIFY_LISTEN" not in env:
            env["TOKEND_VERIFY_LISTEN"] = (os.path.join(workdir, "verify.sock")
                                           if self.listen.startswith("/") else "")
        env.setdefault("TOKEND_VERIFY_WORKERS", "2")
        # the shipped file's metrics port would clash between test instances
        env.setdefault("TOKEND_METRICS_LISTEN", "")
        # where the verify path is served: the verify pool's address, else the main one
        self.verify_listen = env["TOKEND_VERIFY_LISTEN"] or self.listen
        self.verify_socket = self.verify_listen if self.verify_listen.startswith("/") else None
        self.log_path = os.path.join(workdir, "tokend.log")
        self.env = dict(os.environ)
        self.env.update({
            "TOKEND_CONFIG": config or os.path.join(DEPLOY, "tokend.conf"),
            "TOKEND_LISTEN": self.listen,
            "TOKEND_REDIS_URL": redis_url,
            "TOKEND_KEYRING_FILE": make_keyring(workdir),
            "TOKEND_WORKERS": str(workers),
            "TOKEND_SOCKET_MODE": "0660",
            "TOKEND_REDIS_CONNECT_TIMEOUT_MS": "200",
            "TOKEND_REDIS_COMMAND_TIMEOUT_MS": "500",
            "TOKEND_REDIS_RETRY_INTERVAL_MS": "50",
            "TOKEND_SHUTDOWN_TIMEOUT_MS": "5000",
            # suites hammer the management API; the rate-limit tests set their own
            "TOKEND_RATE_LIMIT_REQUESTS": "1000000",
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
            "UBSAN_OPTIONS": "print_stacktrace=1",
        })
        self.env.update(env)
        self.proc = None

    netns = None        # a network namespace to run in (multi-host tests)

    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(netns_prefix(self.netns) + [TOKEND_BIN, "serve"], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        if wait:
            wait_until(lambda: self.listening() and self.all_workers_named(), what="tokend")
        return self

    def all_workers_named(self):
        """Every worker of both pools started and named (a verify worker is
        "tokend-verify" only once it has set its name)."""
        want_verify = int(self.env["TOKEND_VERIFY_WORKERS"]) if self.env["TOKEND_VERIFY_LISTEN"] \
            else 0
        return (len(self.verify_workers()) == want_verify and
                len(self.workers()) == int(self.env["TOKEND_WORKERS"]))

    def listening(self):
        return reachable(self.listen) and reachable(self.verify_listen)

    @property
    def pid(self):
        return self.proc.pid

    def workers(self):
        """The workers of the main pool (not the verify pool's, nor the
        metrics process)."""
        return [p for p in children(self.proc.pid)
                if process_name(p) not in ("tokend-verify", "tokend-metrics")]

    def verify_workers(self):
        return [p for p in children(self.proc.pid) if process_name(p) == "tokend-verify"]

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        rc = self.proc.returncode if self.proc else None
        if self.proc:
            self.log.close()
        self.proc = None
        return rc

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def sanitizer_reports(self):
        text = self.log_text()
        return [m for m in SANITIZER_MARKERS if m in text]


class Nginx:
    """nginx with deploy/nginx/tokend.conf, rendered by deploy/nginx/render.sh."""

    def __init__(self, workdir, socket_path, verify_socket=None):
        self.dir = os.path.join(workdir, "nginx")
        self.port = free_port()
        self.socket = socket_path
        # upstream tokend_verify: tokend's verify pool, else the same socket
        self.verify_socket = verify_socket or socket_path
        self.netns = None   # a network namespace to run in (multi-host tests)
        self.proc = None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self, *extra_ports):
        subprocess.run([os.path.join(DEPLOY, "nginx", "render.sh"), self.dir, str(self.port),
                        self.socket, self.verify_socket, *map(str, extra_ports)], check=True)
        self.before_launch()
        self.proc = subprocess.Popen(
            netns_prefix(self.netns) + ["nginx", "-p", self.dir, "-e", os.path.join(self.dir, "error.log"),
             "-c", os.path.join(self.dir, "nginx.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._up, what="nginx")
        return self

    def before_launch(self):
        """Room for extra config files next to the rendered ones."""

    def _up(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def url(self, path):
        return self.base + path

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# Callables (method, target, status, lower-cased headers, body) that see every
# answer fcgi_request gets: openapi_check.py records them (and what goes
# through http.client, raw_request included, by itself).
RESPONSE_HOOKS = []


def _seen(method, target, status, headers, body):
    for hook in RESPONSE_HOOKS:
        hook(method, target, status, headers, body)


def raw_request(port, target, headers=None, method="GET", timeout=10):
    """One request with exactly this request target (requests and urllib3
    normalize dot segments and escapes): (status, lower-cased headers, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.putrequest(method, target, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def fcgi_request(address, method="GET", uri="/v1/health", body=b"", content_type=None,
                 extra_env=None, stdin_writer=None, timeout=20):
    """One request straight to tokend's FastCGI socket through libfcgi's own
    client, cgi-fcgi (CGI environment in, CGI response out)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "REQUEST_METHOD": method, "REQUEST_URI": uri,
           "CONTENT_LENGTH": str(len(body)), "SERVER_PROTOCOL": "HTTP/1.1"}
    if content_type:
        env["CONTENT_TYPE"] = content_type
    env.update(extra_env or {})
    proc = subprocess.Popen(["cgi-fcgi", "-bind", "-connect", address], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if stdin_writer is not None:
        stdin_writer(proc.stdin)
    else:
        proc.stdin.write(body)
    proc.stdin.close()
    out = proc.stdout.read()
    proc.wait(timeout=timeout)
    status, headers, body = parse_cgi_response(out)
    if status is not None:
        _seen(method, uri, status, headers, body)
    return status, headers, body


def parse_cgi_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    m = re.match(r"(\d{3})", headers.get("status", ""))
    return (int(m.group(1)) if m else None), headers, body


def fcgi_record(kind, body, request_id=1):
    """One FastCGI record (version 1, no padding), for raw-socket tests."""
    return struct.pack(">BBHHBB", 1, kind, request_id, len(body), 0, 0) + body


def fcgi_params(pairs):
    """FCGI_PARAMS content: names and values under 128 bytes each."""
    out = b""
    for k, v in pairs.items():
        k, v = k.encode(), v.encode()
        out += bytes([len(k), len(v)]) + k + v
    return out


@contextlib.contextmanager
def running_stack(nginx_class=None, tokend_env=None):
    """Redis + tokend + nginx in a fresh directory, with an admin PAT; a
    sanitizer report in tokend's log fails the module that used it."""
    d = tempfile.mkdtemp(prefix="tokend-it-")
    os.chmod(d, 0o755)
    r = Redis(d).start()
    t = n = None
    try:
        admin = create_admin_pat(d, r.url)
        t = Tokend(d, r.url, env=tokend_env).start()
        n = (nginx_class or Nginx)(d, t.socket, t.verify_socket).start()
        yield {"dir": d, "redis": r, "tokend": t, "nginx": n, "admin": admin}
    finally:
        if n is not None:
            n.stop()
        if t is not None:
            t.stop()
        r.stop()
        reports, log = (t.sanitizer_reports(), t.log_text()) if t is not None else ([], "")
        shutil.rmtree(d, ignore_errors=True)
    assert not reports, log[-4000:]


def start_authorizer(workdir, redis_url):
    """A tokend whose verify pool listens on a TCP port for Apache's FastCGI
    authorizer (mod_authnz_fcgi speaks only TCP), as the recipe says, logging
    to its own file: (port, tokend)."""
    port = free_port()
    authz = Tokend(workdir, redis_url, listen=os.path.join(workdir, "authz.sock"),
                   env={"TOKEND_VERIFY_LISTEN": f"127.0.0.1:{port}"})
    authz.log_path = os.path.join(workdir, "authorizer.log")
    authz.start()
    return port, authz


def docroot_with(workdir, files):
    """A document root holding files ({relative path: content}), readable by
    Apache's user."""
    docroot = os.path.join(workdir, "docroot")
    for rel, content in files.items():
        os.makedirs(os.path.dirname(os.path.join(docroot, rel)), exist_ok=True)
        with open(os.path.join(docroot, rel), "w") as f:
            f.write(content)
    for root, dirs, names in os.walk(docroot):
        for x in dirs + names:
            os.chmod(os.path.join(root, x), 0o755)
    return docroot


def settle_last_use():
    """Lets the workers' last-use writes go out (each worker writes what a
    request noted at most a second later, from its loop): after this, the
    Redis commands a refused request causes are its own."""
    time.sleep(1.3)


# Copies one token record n times under new ids (start at ARGV[3]) into an
# index, like n tokens created through the API (same fields and sizes):
# KEYS[1] the index, KEYS[2] the record, ARGV[1] the key prefix, ARGV[2] n.
CLONE = """
local src = redis.call('HGETALL', KEYS[2])
local n, start = tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, n do
  local id = start + i
  redis.call('HSET', ARGV[1] .. id, unpack(src))
  redis.call('ZADD', KEYS[1], id, id)
end
return n
"""


def pats_settled(redis):
    """Waits until every PAT's first use is written (its "lu", at most once a
    minute after): that write drops it from the workers' PAT caches, so a
    test counting round trips reads it once more before it stays cached."""
    pats = redis.cli("KEYS", "{pats}:p:*").split()
    assert pats
    wait_until(lambda: all(redis.cli("HEXISTS", k, "lu") == "1" for k in pats),
               what="the PATs' last use")


def admin_with_space(stack, space_id, **fields):
    """A session authenticated as the stack's admin, and a space it made
    (fields beyond id and name: rate_limit, limits, ...)."""
    s = requests.Session()
    s.headers["Authorization"] = stack["admin"]
    r = s.post(stack["nginx"].url("/v1/spaces"), timeout=10,
               json={"space": dict({"id": space_id, "name": f"s{space_id}"}, **fields)})
    assert r.status_code == 201, r.text
    return s

