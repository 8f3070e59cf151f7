"""Many tokend hosts on one Redis Cluster, as hosts: network namespaces
joined by veth pairs to a bridge of their own (test_hosts.py's helpers,
other names, so both modules can run side by side).

  td-c1  10.78.0.11  primary            td-k1  10.78.0.21  nginx + tokend
  td-c2  10.78.0.12  primary            td-k2  10.78.0.22  nginx + tokend
  td-c3  10.78.0.13  primary            td-k3  10.78.0.23  nginx + tokend
  td-c4  10.78.0.14  replica
  td-c5  10.78.0.15  replica        (each Redis node on port 6379, its
  td-c6  10.78.0.16  replica         cluster bus on 16379; bridge tdbr1)

Every host runs with redis_min_replica_acks = 1. A change through one host
is refused by the next request on the others; a slot moved under load from
every host, and a kill -9 of a primary under writes from every host, lose
no acknowledged write; a host cut off from every Redis node fails closed
(verify 403 store_unavailable, management 503) while the others go on, and
heals when the routes come back. The test talks to the hosts' nginx over
the bridge (10.78.0.1, the root namespace); every loop is bounded, and the
namespaces, links and processes go when the module ends, also when it
fails. Root only (CI runs as root)."""
import os
import shutil
import tempfile

import pytest
import requests

from cluster import RedisCluster
from harness import create_admin_pat, netns_prefix, wait_until
from test_cluster import REASONS, change, change_seen_elsewhere, kill_primary_under_writes, \
    migrate_under_load, new_space, new_token, verify, warm
from test_hosts import make_network, remove_network, sh, start_host

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

BRIDGE = "tdbr1"
NET = "10.78.0"
REDIS = {f"td-c{i}": 10 + i for i in range(1, 7)}        # c1..c3 primaries at first
HOSTS = {"td-k1": 21, "td-k2": 22, "td-k3": 23}
NAMESPACES = {**REDIS, **HOSTS}


@pytest.fixture(scope="module")
def net():
    remove_network(BRIDGE, NAMESPACES)      # a run killed before its cleanup
    d = tempfile.mkdtemp(prefix="tokend-hosts-cluster-")
    os.chmod(d, 0o755)
    c, hosts = None, {}
    try:
        make_network(BRIDGE, NET, NAMESPACES)
        # a private network: no protected mode (it only admits loopback)
        c = RedisCluster(d, addresses=[(f"{NET}.{last}", 6379, ns) for ns, last in REDIS.items()],
                         extra_args=["--protected-mode", "no"])
        c.start()
        url = c.url()
        admin = create_admin_pat(d, url)
        for ns, last in HOSTS.items():
            start_host(d, ns, f"{NET}.{last}", url, hosts)
        s = requests.Session()
        s.headers["Authorization"] = admin
        yield {"dir": d, "cluster": c, "hosts": hosts, "s": s, "admin": admin}
    finally:
        reports = []
        for t, n in hosts.values():
            n.stop()
            if t.proc is not None:
                t.stop()
                reports += t.sanitizer_reports()
        if c is not None:
            c.stop()
        remove_network(BRIDGE, NAMESPACES)
        shutil.rmtree(d, ignore_errors=True)
        assert not reports


def base(net, ns):
    return net["hosts"][ns][1].base


@pytest.mark.parametrize("how", list(REASONS))
def test_a_change_on_one_host_is_seen_by_the_next_request_on_the_others(net, how):
    sid = new_space(net, 4100 + list(REASONS).index(how), "td-k2")
    change_seen_elsewhere(net, sid, how, via="td-k1", others=["td-k2", "td-k3"])


def test_a_partition_fails_closed_and_heals(net):
    sid = new_space(net, 4200, "td-k1")
    k, later = new_token(net, sid, "td-k1"), new_token(net, sid, "td-k1")
    for ns in HOSTS:
        warm(net, ns, k["token"])
        warm(net, ns, later["token"])
    cut = [f"{NET}.{last}" for last in REDIS.values()]
    for ip in cut:
        sh(*netns_prefix("td-k3"), "ip", "route", "add", "blackhole", f"{ip}/32")
    try:
        # the cache is exact only while tracking lives: cut off, k3 refuses
        wait_until(lambda: verify(net, "td-k3", k["token"]).status_code == 403, timeout=10,
                   what="k3 failing closed")
        r = verify(net, "td-k3", k["token"])
        assert r.headers.get("X-Tokend-Reason") == "store_unavailable", dict(r.headers)
        r = net["s"].get(base(net, "td-k3") + f"/v1/spaces/{sid}/api_keys", timeout=10)
        assert r.status_code == 503, (r.status_code, r.text)
        # the others go on, reads and writes; a change k3 cannot hear of
        for ns in ("td-k1", "td-k2"):
            assert verify(net, ns, k["token"]).status_code == 200, ns
        fresh = new_token(net, sid, "td-k2")
        assert verify(net, "td-k1", fresh["token"]).status_code == 200
        change(net, "td-k1", sid, later, "disable")
        assert verify(net, "td-k2", later["token"]).status_code == 401
    finally:
        for ip in cut:
            sh(*netns_prefix("td-k3"), "ip", "route", "del", "blackhole", f"{ip}/32", check=False)
    # each worker reconnects at its next request (every redis_retry_interval_ms at most)
    wait_until(lambda: verify(net, "td-k3", k["token"]).status_code == 200 and
               verify(net, "td-k3", fresh["token"]).status_code == 200 and
               net["s"].get(base(net, "td-k3") + f"/v1/spaces/{sid}/api_keys",
                            timeout=10).status_code == 200, timeout=15, what="k3 healed")
    # what k3 had cached before the cut is not believed after it: the token
    # disabled meanwhile is refused by each of its verify workers
    for _ in range(6):
        v = verify(net, "td-k3", later["token"])
        assert v.status_code == 401 and v.headers.get("X-Tokend-Reason") == "disabled", \
            ("a change made during the partition", v.status_code,
             v.headers.get("X-Tokend-Reason"))


def test_a_slot_migrated_under_load_from_every_host(net):
    migrate_under_load(net, new_space(net, 4300, "td-k1"), verifiers=list(HOSTS),
                       creator="td-k1", lister="td-k2", updater="td-k3")


def test_kill_9_of_a_primary_under_load_from_every_host(net):
    kill_primary_under_writes(net, new_space(net, 4400, "td-k1"), writers=list(HOSTS))


def test_a_primary_cut_off_from_its_cluster_is_not_believed(net):
    """The primary owning a space is cut off from the other Redis nodes, not
    from the tokend hosts, which still reach it (and it answers them, and
    keeps their invalidation connections alive). Once its replica has taken
    over, a token deleted through one host is refused by the next verify on
    the others, whose caches held it from the old primary: tokend trusts a
    node only while it reaches a majority of the primaries."""
    c = net["cluster"]
    sid = new_space(net, 4500, "td-k1")
    k = new_token(net, sid, "td-k1")
    for ns in HOSTS:
        warm(net, ns, k["token"])
    victim = c.owner_of(f"{{s:{sid}}}")
    heir = c.replicas_of(victim)[0]
    cut = [n.ip for n in c.nodes if n is not victim]
    for ip in cut:
        sh(*netns_prefix(victim.netns), "ip", "route", "add", "blackhole", f"{ip}/32")
    try:
        wait_until(lambda: c.role(heir) == "master", timeout=30,
                   what=f"{heir.name} promoted while {victim.name} is cut off")
        url = base(net, "td-k1") + f"/v1/spaces/{sid}/api_keys/{k['id']}"
        # the first write may meet the old primary (CLUSTERDOWN: 503) and
        # send the host to the new map; bounded
        wait_until(lambda: net["s"].delete(url, timeout=10).status_code in (200, 404),
                   timeout=15, what="the delete taken by the new primary")
        assert heir.cli("EXISTS", f"{{s:{sid}}}:t:{k['id']}") == "0"
        for ns in ("td-k2", "td-k3", "td-k1"):
            for _ in range(4):      # each verify worker
                r = verify(net, ns, k["token"])
                assert r.status_code == 401, (ns, r.status_code, r.headers.get("X-Tokend-Reason"))
    finally:
        for ip in cut:
            sh(*netns_prefix(victim.netns), "ip", "route", "del", "blackhole", f"{ip}/32",
               check=False)
    # the old primary rejoins as the new one's replica
    c.wait_healthy(timeout=60)
