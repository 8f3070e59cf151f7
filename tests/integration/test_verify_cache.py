"""The per-worker verify cache (verify_cache_entries, on by default): a hot
token is verified without any Redis command, and it stays exact — every
change, through any API, any worker, redis-cli, a flush, a lost
invalidation connection or a Redis restart, is seen by the very next
request."""
import re
import subprocess
import threading
import time

import pytest
import requests

from harness import running_stack, wait_until

SPACE = 707


@pytest.fixture(scope="module")
def env():
    with running_stack() as stack:
        s = requests.Session()
        s.headers["Authorization"] = stack["admin"]
        api = stack["nginx"].base
        assert s.post(api + "/v1/spaces", timeout=10, json={
            "space": {"id": SPACE, "name": "cache", "min_cache": 60}}).status_code == 201
        stack.update({"s": s, "api": api})
        yield stack


def key(env, **fields):
    r = env["s"].post(env["api"] + f"/v1/spaces/{SPACE}/api_keys", timeout=10,
                      json={"api_key": dict({"access": "public"}, **fields)})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def verify(env, token, query=""):
    return requests.get(env["api"] + "/v1/verify", timeout=10, headers={
        "X-Original-URI": f"/v2/cdn/stories?{query}token={token}"})


def calls(redis, command):
    m = re.search(rf"cmdstat_{command}:calls=(\d+)", redis.cli("INFO", "commandstats"))
    return int(m.group(1)) if m else 0


def pubsub_clients(redis):
    return len([line for line in redis.cli("CLIENT", "LIST", "TYPE", "pubsub").splitlines()
                if line.strip()])


def warm(env, token, n=40):
    """Enough verifies that every worker has read the token once."""
    for _ in range(n):
        assert verify(env, token).status_code == 200


def test_hot_token_needs_no_redis_command(env):
    k = key(env)
    warm(env, k["token"])
    before = calls(env["redis"], "hgetall")
    for _ in range(200):
        r = verify(env, k["token"])
        assert r.status_code == 200 and r.headers["X-Tokend-Min-Cache"] == "60"
    # at most one read per worker that had not seen it yet
    assert calls(env["redis"], "hgetall") - before <= len(env["tokend"].workers())


def test_deleted_token_is_cached_as_absent_and_a_new_one_is_not_confused(env):
    k = key(env)
    warm(env, k["token"], 10)
    assert env["s"].delete(env["api"] + f"/v1/spaces/{SPACE}/api_keys/{k['id']}",
                           timeout=10).status_code == 200
    for _ in range(20):
        assert verify(env, k["token"]).headers["X-Tokend-Reason"] == "unknown_token"
    fresh = key(env)
    assert verify(env, fresh["token"]).status_code == 200


def change(env, k, how):
    s, base = env["s"], env["api"] + f"/v1/spaces/{SPACE}/api_keys/{k['id']}"
    if how == "delete":
        assert s.delete(base, timeout=10).status_code == 200
        return "unknown_token"
    if how == "disable":
        assert s.put(base, json={"api_key": {"status": "disabled"}}, timeout=10).status_code == 200
        return "disabled"
    if how == "regenerate":
        assert s.post(base + "/regenerate", timeout=10).status_code == 200
        return "regenerated"
    if how == "expire":
        assert s.put(base, json={"api_key": {"expires_at": "2001-01-01T00:00:00Z"}},
                     timeout=10).status_code == 200
        return "expired"
    if how == "restrict":
        assert s.put(base, json={"api_key": {"story_ids": [1]}}, timeout=10).status_code == 200
        return "story_not_allowed"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["delete", "disable", "regenerate", "expire", "restrict"])
def test_change_is_seen_by_the_very_next_request_under_load(env, how):
    """Both workers hold the token and are busy verifying it from other
    connections when the change lands; the request after the API's answer
    must see it, every time."""
    for _ in range(15):
        k = key(env)
        warm(env, k["token"], 8)
        stop = threading.Event()

        def hammer():
            with requests.Session() as h:
                while not stop.is_set():
                    h.get(env["api"] + "/v1/verify", timeout=10, headers={
                        "X-Original-URI": f"/v2/cdn/stories?token={k['token']}"})
        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            reason = change(env, k, how)
            r = verify(env, k["token"])
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert r.status_code in (401, 403), (how, r.status_code)
        assert r.headers["X-Tokend-Reason"] == reason


def test_space_min_cache_change_reaches_cached_tokens(env):
    k = key(env)
    warm(env, k["token"], 10)
    assert env["s"].put(env["api"] + f"/v1/spaces/{SPACE}", timeout=10,
                        json={"space": {"min_cache": 5}}).status_code == 200
    assert verify(env, k["token"]).headers["X-Tokend-Min-Cache"] == "5"
    assert env["s"].put(env["api"] + f"/v1/spaces/{SPACE}", timeout=10,
                        json={"space": {"min_cache": 60}}).status_code == 200
    assert verify(env, k["token"]).headers["X-Tokend-Min-Cache"] == "60"


def test_writes_from_outside_tokend_are_seen(env):
    k = key(env)
    warm(env, k["token"], 10)
    env["redis"].cli("HSET", f"{{s:{SPACE}}}:t:{k['id']}", "s", "d")
    assert verify(env, k["token"]).headers["X-Tokend-Reason"] == "disabled"
    env["redis"].cli("HDEL", f"{{s:{SPACE}}}:t:{k['id']}", "s")
    assert verify(env, k["token"]).status_code == 200
    env["redis"].cli("DEL", f"{{s:{SPACE}}}:t:{k['id']}")
    assert verify(env, k["token"]).headers["X-Tokend-Reason"] == "unknown_token"


def test_lost_invalidation_connection_empties_the_cache_and_tracking_resumes(env):
    k = key(env)
    warm(env, k["token"], 10)
    assert int(env["redis"].cli("CLIENT", "KILL", "TYPE", "pubsub")) >= 1
    env["redis"].cli("HSET", f"{{s:{SPACE}}}:t:{k['id']}", "s", "d")   # nobody is told
    assert verify(env, k["token"]).headers["X-Tokend-Reason"] == "disabled"
    env["redis"].cli("HDEL", f"{{s:{SPACE}}}:t:{k['id']}", "s")
    assert verify(env, k["token"]).status_code == 200
    assert "verify cache emptied and paused" in env["tokend"].log_text()
    # tracking is set up again: hot again, exact again
    wait_until(lambda: verify(env, k["token"]) and pubsub_clients(env["redis"]) >= 1,
               what="invalidation connections back")
    warm(env, k["token"], 40)
    before = calls(env["redis"], "hgetall")
    for _ in range(50):
        assert verify(env, k["token"]).status_code == 200
    assert calls(env["redis"], "hgetall") - before <= len(env["tokend"].workers())
    change(env, k, "disable")
    assert verify(env, k["token"]).headers["X-Tokend-Reason"] == "disabled"


def tracking_data_connections(redis):
    """The ids of the clients that track their reads (CLIENT LIST flag t):
    the workers' data connections, not their invalidation connections."""
    ids = []
    for line in redis.cli("CLIENT", "LIST").splitlines():
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        if "t" in f.get("flags", ""):
            ids.append(f["id"])
    return ids


@pytest.mark.parametrize("how", ["killed", "idle timeout"])
def test_a_closed_data_connection_takes_what_it_tracked_with_it(env, how):
    """Redis forgets what a closed connection read, and tells no one: the
    invalidation connection lives on, so a change after the close is never
    announced. The worker sees its data connection closed before it answers
    from the cache."""
    k = key(env)
    warm(env, k["token"], 40)
    if how == "killed":
        ids = tracking_data_connections(env["redis"])
        assert ids
        for cid in ids:
            env["redis"].cli("CLIENT", "KILL", "ID", cid)
    else:       # Redis's `timeout` closes idle clients, never pub/sub ones
        env["redis"].cli("CONFIG", "SET", "timeout", "1")
        try:
            wait_until(lambda: not tracking_data_connections(env["redis"]), timeout=10,
                       what="the idle data connections closed")
        finally:
            env["redis"].cli("CONFIG", "SET", "timeout", "0")
    env["redis"].cli("HSET", f"{{s:{SPACE}}}:t:{k['id']}", "s", "d")   # nobody is told
    # refused: as disabled, or failing closed while a worker that met the
    # closed connection first waits out its retry interval; never passed
    reasons = [verify(env, k["token"]).headers.get("X-Tokend-Reason") for _ in range(10)]
    assert set(reasons) <= {"disabled", "store_unavailable"}, reasons
    wait_until(lambda: verify(env, k["token"]).headers.get("X-Tokend-Reason") == "disabled",
               what="the disabled token read again")
    env["redis"].cli("HDEL", f"{{s:{SPACE}}}:t:{k['id']}", "s")
    warm(env, k["token"], 10)


def test_redis_restart_forgets_everything(env):
    k = key(env)
    warm(env, k["token"], 10)
    env["redis"].stop()
    env["redis"].start()
    wait_until(lambda: verify(env, k["token"]).status_code == 200, what="verify after restart")
    change(env, k, "delete")
    assert verify(env, k["token"]).headers["X-Tokend-Reason"] == "unknown_token"


def monitor_commands(redis, action, lines_too=False):
    """The commands Redis ran, as (client address, command) pairs (with
    lines_too, the whole MONITOR line third), while action ran."""
    proc = subprocess.Popen(["redis-cli", "-p", str(redis.port), "MONITOR"],
                            stdout=subprocess.PIPE, text=True,
                            errors="backslashreplace")
    try:
        assert proc.stdout.readline().strip() == "OK"
        action()
        redis.cli("ECHO", "monitor-end")
        lines = []
        for line in proc.stdout:
            if '"monitor-end"' in line:
                break
            lines.append(line)
    finally:
        proc.kill()
        proc.wait()
    out = []
    for line in lines:
        m = re.match(r'[\d.]+ \[\d+ ([^\]]+)\] "(\w+)"', line)
        if m and not m.group(1).startswith("lua"):
            # a worker's last-use write of the acting PAT ({pats}:…) is not
            # the change under test
            if m.group(2).lower() in ("evalsha", "eval") and '"{pats}' in line:
                continue
            out.append((m.group(1), m.group(2).lower()) + ((line,) if lines_too else ()))
    return out


@pytest.mark.parametrize("how", ["update", "delete", "regenerate", "space"])
def test_a_change_is_followed_by_a_round_trip_before_the_answer(env, how):
    """The write barrier: after the script that changes a record, the
    writing connection makes one more round trip before the API answers, so
    Redis has flushed the invalidations to the other workers by then."""
    k = key(env)
    base = env["api"] + f"/v1/spaces/{SPACE}/api_keys/{k['id']}"
    act = {
        "update": lambda: env["s"].put(base, json={"api_key": {"name": "x"}}, timeout=10),
        "delete": lambda: env["s"].delete(base, timeout=10),
        "regenerate": lambda: env["s"].post(base + "/regenerate", timeout=10),
        "space": lambda: env["s"].put(env["api"] + f"/v1/spaces/{SPACE}", timeout=10,
                                      json={"space": {"min_cache": 60}}),
    }[how]
    cmds = monitor_commands(env["redis"], lambda: act().raise_for_status(), lines_too=True)
    by_client, callers = {}, set()
    for client, c, line in cmds:
        by_client.setdefault(client, []).append(c)
        # the API call's connection: its start takes the caller's rate limiter
        # ({s:…}:rl:…); another worker flushing last-use times sends scripts
        # too, and may be the last to send one (an ASan run's CI saw it)
        if ":rl:" in line:
            callers.add(client)
    assert len(callers) == 1, by_client
    mine = by_client[callers.pop()]
    last_write = max(i for i, c in enumerate(mine) if c in ("evalsha", "eval"))
    assert len(mine) > last_write + 1, mine


def test_redis_refusing_tracking_turns_the_cache_off_quietly_until_it_allows_it(env):
    k = key(env)
    r = env["redis"]
    assert r.cli("ACL", "SETUSER", "default", "-client|tracking") == "OK"
    try:
        r.cli("CLIENT", "KILL", "TYPE", "pubsub")     # tracking must be set up again
        before = calls(r, "hgetall")
        for _ in range(30):
            assert verify(env, k["token"]).status_code == 200
            time.sleep(0.05)    # past the 1 s retry pause: retried, refused again
        assert calls(r, "hgetall") - before == 30           # every verify reads Redis
        log = env["tokend"].log_text()
        # said once per worker (of both pools: each keeps its cache), not
        # once per retry
        workers = len(env["tokend"].workers()) + len(env["tokend"].verify_workers())
        assert 1 <= log.count("verify cache off until Redis allows client tracking") <= workers
        assert log.count("NOPERM") <= workers    # the reason, once too
        change(env, k, "disable")
        assert verify(env, k["token"]).headers["X-Tokend-Reason"] == "disabled"
    finally:
        assert r.cli("ACL", "SETUSER", "default", "+@all") == "OK"
    k = key(env)
    warm(env, k["token"], 10)

    def cached():
        before = calls(r, "hgetall")
        for _ in range(10):
            verify(env, k["token"])
        return calls(r, "hgetall") == before
    wait_until(cached, timeout=5, what="tracking accepted again")
    assert "verify cache on: Redis client tracking accepted" in env["tokend"].log_text()


def test_flushall_is_seen(env):
    """Last in this module: it wipes the data set."""
    k = key(env)
    warm(env, k["token"], 10)
    env["redis"].cli("FLUSHALL")
    assert verify(env, k["token"]).headers["X-Tokend-Reason"] == "unknown_token"


def test_cache_off_reads_redis_on_every_verify():
    with running_stack(tokend_env={"TOKEND_VERIFY_CACHE_ENTRIES": "0"}) as stack:
        s = requests.Session()
        s.headers["Authorization"] = stack["admin"]
        api = stack["nginx"].base
        s.post(api + "/v1/spaces", json={"space": {"id": 1, "name": "x"}}, timeout=10)
        tok = s.post(api + "/v1/spaces/1/api_keys", json={"api_key": {"access": "public"}},
                     timeout=10).json()["api_key"]["token"]
        env = {"api": api}
        before = calls(stack["redis"], "hgetall")
        for _ in range(30):
            assert verify(env, tok).status_code == 200
        assert calls(stack["redis"], "hgetall") - before == 30
        assert pubsub_clients(stack["redis"]) == 0
