"""A management worker keeps the PATs it was called with, so a caller's
PAT costs no Redis round trip after its first call, and stays exact: Redis
client tracking drops an entry when its key changes, before any call is
answered, however the PAT changed (deleted through tokend on another
worker, or by hand in Redis)."""
import contextlib

import pytest
import requests

from harness import Nginx, Tokend, create_admin_pat, pats_settled, wait_until
from test_verify_cache import monitor_commands, tracking_data_connections


@contextlib.contextmanager
def served(workdir, redis, workers, **env):
    """An admin PAT, then tokend (workers management workers) behind nginx:
    (nginx, admin)."""
    admin = create_admin_pat(workdir, redis.url)
    t = Tokend(workdir, redis.url, workers=workers, env=env).start()
    n = Nginx(workdir, t.socket, t.verify_socket).start()
    try:
        yield n, admin
    finally:
        n.stop()
        t.stop()


def pat_of(n, admin, name, **scopes):
    r = requests.post(n.url("/v1/personal_access_tokens"), timeout=10,
                      headers={"Authorization": admin}, json={"personal_access_token": {
                          "name": name, "spaces": "all",
                          "scopes": scopes or {"spaces": "write", "access_tokens": "write"}}})
    assert r.status_code == 201, r.text
    return r.json()["personal_access_token"]


def commands(redis, action):
    """The commands Redis ran while action ran, keepalive PINGs left out."""
    return [c for _, c in monitor_commands(redis, action) if c != "ping"]


def fresh_get(n, token, path):
    """One call on a connection of its own (nginx spreads them over the workers)."""
    with requests.Session() as s:
        return s.get(n.url(path), headers={"Authorization": token}, timeout=10)


def test_a_known_pat_costs_no_round_trip(workdir, redis):
    with served(workdir, redis, 1) as (n, admin):
        h = {"Authorization": admin}
        assert requests.post(n.url("/v1/spaces"), headers=h, timeout=10, json={
            "space": {"id": 1, "name": "one"}}).status_code == 201
        # the first call read the PAT (tracked) and noted its use, whose write
        # (lu, at most once a minute) dropped it; the next call read it again,
        # and the ones after find it in the worker
        pats_settled(redis)
        assert requests.get(n.url("/v1/spaces/1"), headers=h, timeout=10).status_code == 200
        got = []
        cmds = commands(redis, lambda: got.append(requests.post(
            n.url("/v1/spaces/1/api_keys"), headers=h, timeout=10,
            json={"api_key": {"access": "public"}})))
        assert got[0].status_code == 201, got[0].text
        assert cmds == ["evalsha"], cmds
        tid = got[0].json()["api_key"]["id"]
        cmds = commands(redis, lambda: got.append(requests.get(
            n.url(f"/v1/spaces/1/api_keys/{tid}"), headers=h, timeout=10)))
        assert got[1].status_code == 200 and cmds == ["evalsha"], (cmds, got[1].text)


def test_a_deleted_pat_is_refused_at_once_by_every_worker(workdir, redis):
    with served(workdir, redis, 3) as (n, admin):
        p = pat_of(n, admin, "doomed")
        # the workers have served it, and (its first use written) keep it:
        # thirty more calls read no PAT
        for _ in range(30):
            assert fresh_get(n, p["token"], "/v1/spaces").status_code == 200
        pats_settled(redis)
        for _ in range(30):
            assert fresh_get(n, p["token"], "/v1/spaces").status_code == 200
        cmds = commands(redis, lambda: [fresh_get(n, p["token"], "/v1/spaces")
                                        for _ in range(30)])
        assert "hgetall" not in cmds, cmds
        r = requests.delete(n.url(f"/v1/personal_access_tokens/{p['id']}"), timeout=10,
                            headers={"Authorization": admin})
        assert r.status_code == 200, r.text
        codes = [fresh_get(n, p["token"], "/v1/spaces").status_code for _ in range(30)]
        assert codes == [401] * 30, codes
        # the admin's own PAT, kept all along, still works everywhere
        assert all(fresh_get(n, admin, "/v1/spaces").status_code == 200 for _ in range(10))


def test_a_pat_changed_in_redis_by_hand_is_seen_on_the_next_call(workdir, redis):
    """No tokend write, no barrier: Redis's own invalidation is what drops it."""
    with served(workdir, redis, 1) as (n, admin):
        p = pat_of(n, admin, "narrowed")
        h = {"Authorization": p["token"]}
        assert requests.get(n.url("/v1/spaces"), headers=h, timeout=10).status_code == 200
        key = "{pats}:p:%d" % p["id"]
        # its scopes taken away: spaces:read gone ("sc" holds the scope bits)
        assert redis.cli("HSET", key, "sc", "0") in ("0", "1")
        assert requests.get(n.url("/v1/spaces"), headers=h, timeout=10).status_code == 403
        redis.cli("DEL", key)
        assert requests.get(n.url("/v1/spaces"), headers=h, timeout=10).status_code == 401


def test_without_the_cache_every_call_reads_the_pat(workdir, redis):
    """verify_cache_entries = 0 turns the PAT cache off too."""
    with served(workdir, redis, 1, TOKEND_VERIFY_CACHE_ENTRIES="0") as (n, admin):
        h = {"Authorization": admin}
        assert requests.get(n.url("/v1/spaces"), headers=h, timeout=10).status_code == 200
        cmds = commands(redis, lambda: requests.get(n.url("/v1/spaces"), headers=h, timeout=10))
        assert cmds[0] == "hgetall", cmds


@pytest.mark.parametrize("how", ["killed", "idle timeout"])
def test_a_pat_deleted_after_its_reader_closed_is_refused(workdir, redis, how):
    """Redis forgets what a closed data connection read and tells no one:
    a PAT deleted after its worker's data connection closed (CLIENT KILL,
    Redis's idle `timeout`) is still refused on the very next call."""
    with served(workdir, redis, 1) as (n, admin):
        p = pat_of(n, admin, "victim")
        h = {"Authorization": p["token"]}
        assert requests.get(n.url("/v1/spaces"), headers=h, timeout=10).status_code == 200
        pats_settled(redis)
        assert requests.get(n.url("/v1/spaces"), headers=h, timeout=10).status_code == 200
        if how == "killed":
            ids = tracking_data_connections(redis)
            assert ids
            for cid in ids:
                redis.cli("CLIENT", "KILL", "ID", cid)
        else:
            redis.cli("CONFIG", "SET", "timeout", "1")
            try:
                wait_until(lambda: not tracking_data_connections(redis), timeout=10,
                           what="the idle data connection closed")
            finally:
                redis.cli("CONFIG", "SET", "timeout", "0")
        assert redis.cli("DEL", "{pats}:p:%d" % p["id"]) == "1"
        # refused, or 503 while a worker that met the closed connection
        # first waits out its retry interval; never served
        for path in ("/v1/spaces", "/v1/personal_access_tokens", "/v1/spaces"):
            r = requests.get(n.url(path), headers=h, timeout=10)
            assert r.status_code in (401, 503), (path, r.status_code, r.text[:200])
        wait_until(lambda: requests.get(n.url("/v1/spaces"), headers=h,
                                        timeout=10).status_code == 401, what="a plain 401")
        wait_until(lambda: requests.get(n.url("/v1/spaces"), headers={"Authorization": admin},
                                        timeout=10).status_code == 200, what="the admin served")
