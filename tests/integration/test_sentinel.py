"""tokend on Redis Sentinel (redis_url = redis-sentinel://…/mymaster), on
loopback: a primary, a replica and three sentinels from Debian's
redis-server (run with --sentinel, which is what Debian's redis-sentinel is).
kill -9 of the primary under writes: bounded 503s, then tokend answers again
by itself on the new primary with no acknowledged write lost
(redis_min_replica_acks = 1); a manual failover is followed at once
(+switch-master); writes that the replicas cannot confirm are 503."""
import os
import shutil
import subprocess
import tempfile
import threading

import pytest
import requests

from harness import (Nginx, RedisNode, Tokend, admin_with_space, create_admin_pat,
                     wait_until)

SPACE = 101
MASTER = "mymaster"


def sentinel_args(master_port, master_ip="127.0.0.1", down_after_ms=800):
    def args(node):
        conf = os.path.join(node.dir, "sentinel.conf")
        if not os.path.exists(conf):
            with open(conf, "w") as f:
                f.write(f"sentinel monitor {MASTER} {master_ip} {master_port} 2\n"
                        f"sentinel down-after-milliseconds {MASTER} {down_after_ms}\n"
                        f"sentinel failover-timeout {MASTER} 4000\n")
        return [conf, "--sentinel"]
    return args


@pytest.fixture
def topology():
    d = tempfile.mkdtemp(prefix="tokend-sentinel-")
    os.chmod(d, 0o755)
    nodes = []
    try:
        # no diskless-sync delay (Redis waits 5 s for more replicas by default)
        data = ["--appendonly", "yes", "--repl-diskless-sync-delay", "0"]
        primary = RedisNode(d, "a", lambda n: data).start()
        replica = RedisNode(d, "b", lambda n: data + ["--replicaof", "127.0.0.1",
                                                 str(primary.port)]).start()
        nodes += [primary, replica]
        wait_until(lambda: "master_link_status:up" in replica.cli("INFO", "replication"),
                   timeout=15, what="the replica in sync")
        sentinels = [RedisNode(d, f"s{i}", sentinel_args(primary.port)).start() for i in range(3)]
        nodes += sentinels
        # each sentinel sees the replica and the two others
        wait_until(lambda: all("num-other-sentinels\n2" in s.cli("SENTINEL", "master", MASTER)
                               and "num-slaves\n1" in s.cli("SENTINEL", "master", MASTER)
                               for s in sentinels), timeout=20, what="the sentinels to agree")
        url = "redis-sentinel://" + ",".join(f"127.0.0.1:{s.port}" for s in sentinels) + "/" + MASTER
        yield {"dir": d, "primary": primary, "replica": replica, "sentinels": sentinels, "url": url}
    finally:
        for n in nodes:
            n.stop()
        shutil.rmtree(d, ignore_errors=True)


def start_tokend(top, **env):
    d = top["dir"]
    t = Tokend(d, top["url"], env=dict({"TOKEND_REDIS_WAIT_TIMEOUT_MS": "300"}, **env)).start()
    n = Nginx(d, t.socket, t.verify_socket).start()
    return t, n


def stop_tokend(t, n):
    n.stop()
    t.stop()
    assert not t.sanitizer_reports(), t.log_text()[-4000:]


def make_token(s, n):
    r = s.post(n.url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10,
               json={"api_key": {"access": "public"}})
    return r


def verify(n, token):
    return requests.get(n.url("/v1/verify"), timeout=10,
                        headers={"X-Original-URI": f"/v2/cdn/stories?token={token}"})


def primary_port(top):
    return int(top["sentinels"][0].cli("SENTINEL", "get-master-addr-by-name", MASTER).split()[1])


def test_kill_9_of_the_primary_loses_no_acknowledged_write(topology):
    top = topology
    admin = create_admin_pat(top["dir"], f"redis://127.0.0.1:{top['primary'].port}/0")
    t, n = start_tokend(top, TOKEND_REDIS_MIN_REPLICA_ACKS="1")
    try:
        stack = {"nginx": n, "admin": admin}
        s = admin_with_space(stack, SPACE)
        doomed = make_token(s, n).json()["api_key"]
        assert s.delete(n.url(f"/v1/spaces/{SPACE}/api_keys/{doomed['id']}"),
                        timeout=10).status_code == 200
        acknowledged, statuses, stop = [], [], threading.Event()

        def writer():
            with requests.Session() as w:
                w.headers["Authorization"] = admin
                while not stop.is_set():
                    try:
                        r = make_token(w, n)
                    except requests.RequestException:
                        continue
                    statuses.append(r.status_code)
                    if r.status_code == 201:
                        acknowledged.append(r.json()["api_key"])

        threads = [threading.Thread(target=writer) for _ in range(3)]
        for th in threads:
            th.start()
        wait_until(lambda: len(acknowledged) >= 30, timeout=10, what="writes before the kill")
        old = top["primary"].port
        top["primary"].kill()
        wait_until(lambda: primary_port(top) != old, timeout=30, what="the failover")
        # the old primary comes back: the sentinels make it a replica of the
        # new one, so writes can be confirmed by a replica again
        top["primary"].start()
        wait_until(lambda: sum(1 for c in statuses[-20:] if c == 201) >= 10, timeout=30,
                   what="tokend writing again on its own")
        stop.set()
        for th in threads:
            th.join()
        # a bounded window of 503s (the primary gone, no replica to confirm),
        # nothing else
        assert set(statuses) <= {201, 503}, set(statuses)
        assert 503 in statuses
        # every acknowledged token is there, the acknowledged delete stays done
        for k in acknowledged:
            assert verify(n, k["token"]).status_code == 200, k["id"]
        assert verify(n, doomed["token"]).status_code == 401
        r = s.get(n.url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10)
        listed = {k["id"] for k in r.json()["api_keys"]}
        assert {k["id"] for k in acknowledged} <= listed
    finally:
        stop_tokend(t, n)


def test_a_manual_failover_is_followed_at_once(topology):
    top = topology
    admin = create_admin_pat(top["dir"], f"redis://127.0.0.1:{top['primary'].port}/0")
    t, n = start_tokend(top)
    try:
        s = admin_with_space({"nginx": n, "admin": admin}, SPACE)
        k = make_token(s, n).json()["api_key"]
        assert verify(n, k["token"]).status_code == 200
        old = primary_port(top)
        assert top["sentinels"][0].cli("SENTINEL", "FAILOVER", MASTER) == "OK"
        wait_until(lambda: primary_port(top) != old and
                   "role:master" in top["replica"].cli("INFO", "replication") and
                   "role:slave" in top["primary"].cli("INFO", "replication"),
                   timeout=30, what="the manual failover")
        # the next request on a worker reads the sentinel's +switch-master
        # message, already in its socket, and moves before sending anything
        wait_until(lambda: s.get(n.url("/v1/spaces"), timeout=10).status_code == 200 and
                   "has a new primary" in t.log_text(), timeout=10,
                   what="tokend hearing +switch-master")
        assert "READONLY" not in t.log_text()
        # the next write goes to the new primary (the old one refuses writes)
        r = make_token(s, n)
        assert r.status_code == 201, r.text
        assert s.delete(n.url(f"/v1/spaces/{SPACE}/api_keys/{k['id']}"),
                        timeout=10).status_code == 200
        assert verify(n, k["token"]).status_code == 401
    finally:
        stop_tokend(t, n)


def test_unconfirmed_writes_are_503(topology):
    """redis_min_replica_acks = 2 with one replica: no write can be confirmed."""
    top = topology
    admin = create_admin_pat(top["dir"], f"redis://127.0.0.1:{top['primary'].port}/0")
    t, n = start_tokend(top, TOKEND_REDIS_MIN_REPLICA_ACKS="2")
    try:
        r = requests.post(n.url("/v1/spaces"), headers={"Authorization": admin}, timeout=10,
                          json={"space": {"id": SPACE, "name": "x"}})
        assert r.status_code == 503, r.text
        assert "not confirmed by 2 replica(s)" in t.log_text()
        assert requests.get(n.url("/v1/health"), timeout=10).status_code == 200
    finally:
        stop_tokend(t, n)
