"""Hostile input across every route and dialect: each request gets a 4xx
JSON answer in the route's dialect — never a 5xx, a crash or a hang — and
nothing in Redis changes."""
import os
import random
import socket
import struct
import threading
import time

import pytest
import requests

from harness import Tokend, fcgi_params, fcgi_record, fcgi_request, running_stack
from test_tokens import DUMP_ALL

SPACE = 4242


@pytest.fixture(scope="module")
def env():
    with running_stack() as stack:
        h = {"Authorization": stack["admin"]}
        n = stack["nginx"]
        assert requests.post(n.url("/v1/spaces"), headers=h, timeout=10,
                             json={"space": {"id": SPACE, "name": "hostile"}}).status_code == 201
        key = requests.post(n.url(f"/v1/spaces/{SPACE}/api_keys"), headers=h, timeout=10,
                            json={"api_key": {"access": "public"}}).json()["api_key"]
        stack["key"] = key
        yield stack


def redis_state(env):
    """Everything in Redis but the rate-limit counters the requests tick."""
    dump = env["redis"].cli("EVAL", DUMP_ALL, "0").split("\n")
    out, skip = [], False
    for line in dump:
        if line.startswith("{rl:") or (line.startswith("{s:") and ":rl:" in line):
            skip = True
            continue
        if skip:          # the counter's value follows its key
            skip = False
            continue
        out.append(line)
    return sorted(out)


def dialect_of(path):
    if path.startswith("/v1/verify"):
        return "verify"
    if path.startswith("/access_tokens"):
        return "datocms"
    if path.startswith("/public/"):
        return "softwareone"
    if "/api_keys" in path:
        return "storyblok"
    return "admin"


def check_shape(dialect, body, status):
    if dialect == "datocms":
        assert body["data"][0]["type"] == "api_error"
    elif dialect == "softwareone":
        assert body["status"] == status and "title" in body
    elif dialect == "storyblok":
        assert isinstance(body, (list, dict))
    elif dialect == "verify":
        assert body.get("valid") is False or "error" in body
    else:
        assert "error" in body


def cases(env):
    admin, key = env["admin"], env["key"]
    bad_tag = key["token"][:-6] + ("AAAAAA" if not key["token"].endswith("AAAAAA") else "BBBBBB")
    dato = {"X-Api-Version": "3", "X-Space-Id": str(SPACE)}
    swo = {"X-Space-Id": str(SPACE)}
    sb = f"/v1/spaces/{SPACE}/api_keys"
    tid = key["id"]
    rng = random.Random(7)
    bodies = {
        "truncated": b'{"api_key":{"access":"pub',
        "deep": b"[" * 200 + b"]" * 200,
        "deep_obj": b'{"a":' * 100 + b"1" + b"}" * 100,
        "wrong_type_array": b"[1,2,3]",
        "wrong_type_string": b'"api_key"',
        "wrong_type_number": b"12345",
        "huge_number": b'{"api_key":{"access":"public","min_cache":1e400}}',
        "huge_int": b'{"api_key":{"access":"public","min_cache":99999999999999999999999}}',
        "negative": b'{"api_key":{"access":"public","min_cache":-5,"branch_id":-1}}',
        "invalid_utf8": b'{"api_key":{"access":"public","name":"\xc3\x28"}}',
        "nul": b'{"api_key":{"access":"public","name":"a\x00b"}}',
        "escaped_nul": b'{"api_key":{"access":"public","name":"a\\u0000b"}}',
        "dup_keys": b'{"api_key":{"access":"public","access":"nope"}}',
        "dup_keys_valid": (b'{"api_key":{"access":"public","access":"private"},'
                           b'"space":{"name":"a","name":"b"},"personal_access_token":'
                           b'{"name":"a","name":"b","full_permission":true},'
                           b'"data":{"type":"access_token","type":"access_token"},'
                           b'"name":"x","name":"y","token":"t","token":"u"}'),
        "dup_wrapper": b'{"api_key":{"access":"public"},"api_key":{"access":"private"}}',
        "single_quotes": b"{'api_key':{'access':'public'}}",
        "nan": b'{"api_key":{"access":"public","min_cache":NaN}}',
        "comments": b'{"api_key":{/*x*/"access":"public"}}',
        "trailing": b'{"api_key":{"access":"public"}} {}',
        "empty_object": b"{}",
        "null": b"null",
        # dates: only YYYY-MM-DDTHH:MM:SS[.f]Z on a day the month has
        "date_feb30": b'{"api_key":{"access":"public","expires_at":"2030-02-30T00:00:00Z"}}',
        "date_feb29": b'{"api_key":{"access":"public","expires_at":"2031-02-29T00:00:00Z"}}',
        "date_unpadded": b'{"api_key":{"access":"public","expires_at":"2030-2-3T0:0:0Z"}}',
        "date_space": b'{"api_key":{"access":"public","expires_at":" 2030-02-03T00:00:00Z"}}',
        "date_bare_dot": b'{"api_key":{"access":"public","expires_at":"2030-02-03T00:00:00.Z"}}',
        "date_hour24": b'{"api_key":{"access":"public","expires_at":"2030-02-03T24:00:00Z"}}',
        "date_offset": b'{"api_key":{"access":"public","expires_at":"2030-02-03T00:00:00+01:00"}}',
        # UTF-8 that is not: overlong '/', a surrogate, beyond U+10FFFF, C1
        "overlong": b'{"api_key":{"access":"public","name":"a\xc0\xafb"}}',
        "surrogate": b'{"api_key":{"access":"public","name":"a\xed\xa0\x80b"}}',
        "beyond_max": b'{"api_key":{"access":"public","name":"a\xf4\x90\x80\x80b"}}',
        "c1": b'{"api_key":{"access":"public","name":"a\xc2\x85b"}}',
        # ids past what JavaScript holds
        "id_2_53": b'{"space":{"id":9007199254740992,"name":"x"},"api_key":{"access":"public",'
                   b'"story_ids":[9007199254740992]}}',
        "id_top": b'{"space":{"id":9223372036854775806,"name":"x"},"api_key":{"access":"public",'
                  b'"branch_id":9223372036854775806}}',
    }
    routes = [
        ("POST", sb, {}, "storyblok"),
        ("PUT", f"{sb}/{tid}", {}, "storyblok"),
        ("POST", "/v1/spaces", {}, "admin"),
        ("PUT", f"/v1/spaces/{SPACE}", {}, "admin"),
        ("POST", "/v1/personal_access_tokens", {}, "admin"),
        ("POST", "/access_tokens", dato, "datocms"),
        ("PUT", f"/access_tokens/{tid}", dato, "datocms"),
        ("POST", "/public/v1/accounts/api-tokens", swo, "softwareone"),
        ("POST", "/v1/verify", {}, "admin"),
    ]
    out = []
    for method, path, extra, _ in routes:
        for name, body in bodies.items():
            if name.startswith("id_") and method == "PUT" and path.startswith("/v1/spaces/"):
                continue      # an update ignores the id; the name in it is a rename
            out.append((f"{name}:{method} {path}", method, path,
                        dict(extra, **{"Authorization": "Bearer " + admin,
                                       "Content-Type": "application/json"}), body))
        out.append((f"10MB:{method} {path}", method, path,
                    dict(extra, **{"Authorization": "Bearer " + admin,
                                   "Content-Type": "application/json"}), b" " * (10 * 1024 * 1024)))
        out.append((f"form:{method} {path}", method, path,
                    dict(extra, **{"Authorization": "Bearer " + admin,
                                   "Content-Type": "application/x-www-form-urlencoded"}), b"a=1"))
    # ids in paths: negative, overflowing, not numbers
    for bad_id in ("-1", "9223372036854775808", "1e3", "0x10", "%2F", "%2E%2E", "TKN-1",
                   "99999999999", "9007199254740992", "0", "007"):
        for path, extra in ((f"{sb}/{bad_id}", {}), (f"/v1/spaces/{bad_id}", {}),
                            (f"/v1/spaces/{bad_id}/api_keys", {}), (f"/access_tokens/{bad_id}", dato),
                            (f"/public/v1/accounts/api-tokens/{bad_id}", swo),
                            (f"/v1/personal_access_tokens/{bad_id}", {})):
            out.append((f"id {bad_id}:{path}", "GET", path,
                        dict(extra, Authorization="Bearer " + admin), None))
    # wrong methods
    for method, path, extra in (("PATCH", sb, {}), ("DELETE", "/v1/spaces", {}),
                                ("PATCH", "/access_tokens", dato),
                                ("PATCH", "/public/v1/accounts/api-tokens", swo),
                                ("PUT", "/v1/verify", {}), ("OPTIONS", "/v1/health", {}),
                                ("BREW", "/v1/health", {}), ("TRACE", "/v1/health", {}),
                                ("TRACE", sb, {})):
        out.append((f"method {method} {path}", method, path,
                    dict(extra, Authorization="Bearer " + admin), None))
    # long paths, queries, headers
    out.append(("long path", "GET", "/v1/" + "a" * 3000, {}, None))
    # beyond nginx's large_client_header_buffers: nginx's own 414, in JSON
    out.append(("raw uri too long", "GET", "/v1/" + "a" * 20000, {}, None))

    out.append(("long query", "GET", sb + "?" + "q=" + "a" * 5000,
                {"Authorization": admin}, None))
    out.append(("many params", "GET", sb + "?" + "&".join(f"p{i}=1" for i in range(80)),
                {"Authorization": admin}, None))
    out.append(("long header", "GET", sb, {"Authorization": admin, "X-Long": "h" * 9000}, None))
    # sent as is (requests would repair a bad escape)
    for target in (sb + "?a=%zz", sb + "?a=%4", sb + "/%zz", "/access_tokens/%G1",
                   "/public/v1/accounts/api-tokens?eq(name,%zz)"):
        out.append(("raw bad escape " + target, "GET", target,
                    dict(dato, Authorization="Bearer " + admin), None))
    out.append(("nul escape", "GET", sb + "?a=%00", {"Authorization": admin}, None))
    # garbage tokens of every length, and valid prefixes with broken tags, on every dialect
    tokens = ["", "x", bad_tag, "td_pub_" + "A" * 71, "td_pat_" + "A" * 71,
              "idt:TKN-0000-0001:" + "A" * 71, "idt:TKN-0000-0001:short", key["token"][:-1],
              key["token"] + "A", "Bearer", "Basic dXNlcjpwYXNz"]
    tokens += ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz_-:0123456789") for _ in range(n))
               for n in (1, 7, 8, 18, 40, 71, 78, 79, 89, 200, 511, 512, 513, 4000)]
    for tok in tokens:
        for path, extra in ((sb, {}), ("/access_tokens", dato),
                            ("/public/v1/accounts/api-tokens", swo), ("/v1/spaces", {}),
                            ("/v1/verify?token=" + requests.utils.quote(tok), {})):
            out.append((f"token {tok[:20]!r}:{path[:30]}", "GET", path,
                        dict(extra, Authorization=tok), None))
    return out


class RawResponse:
    def __init__(self, status, headers, body):
        self.status_code, self.headers, self.text = status, headers, body.decode("latin-1")
        self._body = body

    def json(self):
        import json
        return json.loads(self._body)


def raw_request(env, method, target, headers):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", env["nginx"].port, timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        return RawResponse(r.status, dict(r.getheaders()), r.read())
    finally:
        conn.close()


def test_hostile_requests(env):
    before = redis_state(env)
    workers = env["tokend"].workers()
    all_cases = cases(env)
    assert len(all_cases) >= 200
    s = requests.Session()
    failures = []
    for name, method, path, headers, body in all_cases:
        try:
            if name.startswith("raw "):
                r = raw_request(env, method, path, headers)
            else:
                r = s.request(method, env["nginx"].url(path), headers=headers, data=body,
                              timeout=20)
        except (requests.RequestException, OSError) as e:
            failures.append((name, repr(e)))
            continue
        if not 400 <= r.status_code < 500:
            failures.append((name, r.status_code, r.text[:200]))
            continue
        try:
            payload = r.json()
        except ValueError:
            failures.append((name, "not JSON", r.text[:200]))
            continue
        if not r.headers.get("Content-Type", "").startswith("application/json"):
            failures.append((name, "content type", r.headers.get("Content-Type")))
        # nginx's own refusals (bad URI, huge header) speak tokend's admin shape
        nginx_level = name.startswith("long header") or (
            name.startswith("raw ") and r.json().get("code") == "bad_request" and "request_id" not in r.json())
        try:
            check_shape("admin" if nginx_level else dialect_of(path), payload, r.status_code)
        except (AssertionError, KeyError, IndexError, TypeError):
            failures.append((name, "shape", r.status_code, r.text[:200]))
    assert not failures, "\n".join(map(str, failures[:20]))
    assert redis_state(env) == before
    assert env["tokend"].workers() == workers         # no worker died on the way


def test_slow_loris_body_gets_408_and_frees_the_worker(workdir, redis):
    """A body that trickles in slower than io_timeout_ms: 408 JSON, the
    connection is dropped, other requests are served meanwhile."""
    t = Tokend(workdir, redis.url, workers=1, env={"TOKEND_IO_TIMEOUT_MS": "500"}).start()
    try:
        result = {}

        def writer(stdin):
            stdin.write(b'{"api_key":')
            stdin.flush()
            time.sleep(2.0)          # stalls past the 500 ms timeout

        th = threading.Thread(target=lambda: result.update(r=fcgi_request(
            t.socket, method="POST", uri="/v1/spaces/1/api_keys", body=b"x" * 100,
            content_type="application/json", stdin_writer=writer)))
        th.start()
        time.sleep(0.8)
        # the one worker is free again: a health request is answered
        status, _, _ = fcgi_request(t.socket, uri="/v1/health")
        assert status == 200
        th.join(10)
        status, headers, body = result["r"]
        assert status == 408 and b"not received in time" in body
    finally:
        t.stop()


def test_a_peer_that_never_closes_does_not_hold_the_worker(workdir, redis):
    """A request without FCGI_KEEP_CONN is answered and its connection closed
    by tokend at once: libfcgi's own close waits up to 2 s for the peer to
    close first, and a peer that never does held the one worker that long."""
    t = Tokend(workdir, redis.url, workers=1, env={"TOKEND_VERIFY_LISTEN": ""}).start()
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(t.socket)
        s.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 0))       # responder, flags 0
                  + fcgi_record(4, fcgi_params({"REQUEST_METHOD": "GET",
                                                "REQUEST_URI": "/v1/health"}))
                  + fcgi_record(4, b"") + fcgi_record(5, b""))
        s.settimeout(5)
        got = b""
        while True:             # to tokend's end of the stream; this side stays open
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        assert b"Status: 200" in got and got[-16:-8][:2] == b"\x01\x03"   # END_REQUEST
        started = time.monotonic()
        status, _, _ = fcgi_request(t.socket, uri="/v1/health")
        assert status == 200 and time.monotonic() - started < 1.0
        s.close()
    finally:
        t.stop()


def health_request(keep):
    return (fcgi_record(1, struct.pack(">HB5x", 1, 1 if keep else 0))
            + fcgi_record(4, fcgi_params({"REQUEST_METHOD": "GET", "REQUEST_URI": "/v1/health"}))
            + fcgi_record(4, b"") + fcgi_record(5, b""))


def read_until_end_request(s):
    """The records of one response, through FCGI_END_REQUEST."""
    got = b""
    while True:
        pos = 0
        while len(got) - pos >= 8:
            kind, length, padding = got[pos + 1], struct.unpack(">H", got[pos + 4:pos + 6])[0], \
                got[pos + 6]
            if len(got) - pos < 8 + length + padding:
                break
            if kind == 3:
                return got
            pos += 8 + length + padding
        chunk = s.recv(65536)
        assert chunk, "connection closed before FCGI_END_REQUEST"
        got += chunk


def kept_connection(path):
    """A FastCGI connection to path that has had one request answered and
    stays open (FCGI_KEEP_CONN)."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(5)
    s.sendall(health_request(keep=True))
    assert b"Status: 200" in read_until_end_request(s)
    return s


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_full_worker_takes_the_next_connection_when_one_ends(workdir, redis):
    """With every connection slot taken, a new connection waits in the
    listen queue (the worker neither spins on it nor drops it) and is served
    as soon as a kept connection ends."""
    t = Tokend(workdir, redis.url, workers=1, env={"TOKEND_VERIFY_LISTEN": "",
                                                   "TOKEND_WORKER_CONNECTIONS": "2"}).start()
    held = []
    try:
        for _ in range(2):
            held.append(kept_connection(t.socket))
        waiting = socket.socket(socket.AF_UNIX)
        waiting.connect(t.socket)
        waiting.sendall(health_request(keep=True))
        worker = t.workers()[0]
        before = cpu_seconds(worker)
        waiting.settimeout(0.7)
        with pytest.raises(socket.timeout):
            waiting.recv(1)
        assert cpu_seconds(worker) - before < 0.3      # not a busy loop over the listener
        held.pop().close()
        waiting.settimeout(2)
        assert b"Status: 200" in read_until_end_request(waiting)
        held.append(waiting)
    finally:
        for s in held:
            s.close()
        t.stop()


def socket_fds(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


def test_kept_connections_opened_one_by_one_spread_over_the_workers(workdir, redis):
    """A new connection wakes one idle worker (EPOLLEXCLUSIVE), and a kept
    connection stays with the worker that accepted it: each accept sends that
    worker to the back of the listener's queue, so connections opened while
    every worker idles do not all land on one (30 of 30 did)."""
    t = Tokend(workdir, redis.url, workers=3, env={"TOKEND_VERIFY_LISTEN": ""}).start()
    held = []
    try:
        workers = t.workers()
        assert len(workers) == 3
        base = {w: socket_fds(w) for w in workers}
        for _ in range(30):
            held.append(kept_connection(t.socket))
            time.sleep(0.02)        # every worker back in epoll_pwait
        # (a worker's Redis connections may open or close meanwhile: ±2)
        spread = sorted(socket_fds(w) - base[w] for w in workers)
        assert spread[0] >= 5 and spread[-1] <= 20, spread
    finally:
        for s in held:
            s.close()
        t.stop()


def test_nginx_own_answers_are_json(env):
    """What nginx answers by itself in the shipped site file is JSON too."""
    for method, target, headers, status in (
            ("TRACE", "/v1/health", {}, 405),
            ("GET", "/v1/" + "a" * 20000, {}, 414),
            ("POST", "/v1/spaces", {"Transfer-Encoding": "bogus"}, 501)):
        r = raw_request(env, method, target, headers)
        assert r.status_code == status, (method, target[:20], r.status_code, r.text[:200])
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json()["status"] == status
