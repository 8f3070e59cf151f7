"""Many tokend hosts on one Redis Sentinel set, as hosts: network namespaces
joined by veth pairs to a bridge, each "host" with its own address.

  td-r1  10.77.0.11  the primary            td-h1  10.77.0.21  nginx + tokend
  td-r2  10.77.0.12  the replica            td-h2  10.77.0.22  nginx + tokend
  td-s   10.77.0.13  three sentinels        td-h3  10.77.0.23  nginx + tokend

The test talks to the hosts' nginx over the bridge (10.77.0.1, the root
namespace); traffic goes only to loopback and to these addresses, every loop
is bounded, and the namespaces, links and processes go when the module
ends, also when it fails. Root only (CI runs as root)."""
import os
import shutil
import subprocess
import tempfile
import threading

import pytest
import requests

from harness import (Nginx, RedisNode, Tokend, create_admin_pat, netns_prefix, wait_until)
from test_sentinel import MASTER, sentinel_args

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

BRIDGE = "tdbr0"
NET = "10.77.0"
HOSTS = {"td-h1": 21, "td-h2": 22, "td-h3": 23}
REDIS = {"td-r1": 11, "td-r2": 12, "td-s": 13}
SPACE = 111


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=20)


def make_network(bridge=BRIDGE, net=NET, namespaces=None):
    """A bridge (net.1/24) and one namespace per entry of namespaces ({name:
    last byte of its address}; by default this module's)."""
    sh("ip", "link", "add", bridge, "type", "bridge")
    sh("ip", "addr", "add", f"{net}.1/24", "dev", bridge)
    sh("ip", "link", "set", bridge, "up")
    for ns, last in (namespaces or {**REDIS, **HOSTS}).items():
        sh("ip", "netns", "add", ns)
        outer = "v" + ns.replace("-", "")
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "link", "set", outer, "master", bridge, "up")
        sh(*netns_prefix(ns), "ip", "addr", "add", f"{net}.{last}/24", "dev", "eth0")
        sh(*netns_prefix(ns), "ip", "link", "set", "eth0", "up")
        sh(*netns_prefix(ns), "ip", "link", "set", "lo", "up")


def remove_network(bridge=BRIDGE, namespaces=None):
    """Everything make_network made, and any process still inside (a
    namespace lives while a process does, and its links with it)."""
    for ns in (namespaces or {**REDIS, **HOSTS}):
        pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", ns, check=False)
        sh("ip", "link", "del", "v" + ns.replace("-", ""), check=False)
    sh("ip", "link", "del", bridge, check=False)


class HostNginx(Nginx):
    """The shipped nginx site on the host's own address."""

    def __init__(self, workdir, tokend, ip):
        super().__init__(workdir, tokend.socket, tokend.verify_socket)
        self.netns, self.ip = tokend.netns, ip
        self.base = f"http://{ip}:{self.port}"

    def before_launch(self):
        path = os.path.join(self.dir, "tokend.conf")
        text = open(path).read()
        assert f"listen 127.0.0.1:{self.port};" in text
        with open(path, "w") as f:
            f.write(text.replace(f"listen 127.0.0.1:{self.port};", f"listen {self.ip}:{self.port};"))

    def _up(self):
        return requests.get(self.base + "/v1/health", timeout=2).status_code in (200, 503)


def start_host(d, ns, ip, url, hosts):
    """A tokend host in namespace ns: its own directory with the shared
    keyring, tokend (redis_min_replica_acks = 1) and the shipped nginx on ip,
    recorded in hosts[ns] before they start (so a failure still stops them)."""
    hd = os.path.join(d, ns)
    os.makedirs(hd)
    shutil.copy(os.path.join(d, "keyring"), os.path.join(hd, "keyring"))
    os.chmod(os.path.join(hd, "keyring"), 0o600)
    t = Tokend(hd, url, env={"TOKEND_REDIS_MIN_REPLICA_ACKS": "1",
                             "TOKEND_REDIS_WAIT_TIMEOUT_MS": "300"})
    t.netns = ns
    n = HostNginx(hd, t, ip)
    hosts[ns] = (t, n)
    t.start()
    n.start()


@pytest.fixture(scope="module")
def net():
    remove_network()        # a run killed before its cleanup
    d = tempfile.mkdtemp(prefix="tokend-hosts-")
    os.chmod(d, 0o755)
    nodes, hosts = [], {}
    try:
        make_network()
        # a private network: no protected mode (it only admits loopback)
        data = ["--appendonly", "yes", "--repl-diskless-sync-delay", "0", "--protected-mode", "no"]
        primary = RedisNode(d, "r1", lambda n: data, ip=f"{NET}.11", port=6379, netns="td-r1")
        nodes.append(primary)
        primary.start()
        replica = RedisNode(d, "r2", lambda n: data + ["--replicaof", f"{NET}.11", "6379"],
                            ip=f"{NET}.12", port=6379, netns="td-r2")
        nodes.append(replica)
        replica.start()
        wait_until(lambda: "master_link_status:up" in replica.cli("INFO", "replication"),
                   timeout=15, what="the replica in sync")
        sentinels = [RedisNode(d, f"s{i}", lambda n, a=sentinel_args(6379, f"{NET}.11", 1500):
                               a(n) + ["--protected-mode", "no"], ip=f"{NET}.13",
                               port=26379 + i, netns="td-s") for i in range(3)]
        for s in sentinels:
            nodes.append(s)
            s.start()
        wait_until(lambda: all("num-other-sentinels\n2" in s.cli("SENTINEL", "master", MASTER)
                               and "num-slaves\n1" in s.cli("SENTINEL", "master", MASTER)
                               for s in sentinels), timeout=30, what="the sentinels to agree")
        url = "redis-sentinel://" + ",".join(f"{NET}.13:{26379 + i}" for i in range(3)) + "/" + MASTER
        admin = create_admin_pat(d, f"redis://{NET}.11:6379/0")
        for ns, last in HOSTS.items():
            start_host(d, ns, f"{NET}.{last}", url, hosts)
        s = requests.Session()
        s.headers["Authorization"] = admin
        r = s.post(hosts["td-h1"][1].base + "/v1/spaces", timeout=10,
                   json={"space": {"id": SPACE, "name": "hosts"}})
        assert r.status_code == 201, r.text
        yield {"dir": d, "primary": primary, "replica": replica, "sentinels": sentinels,
               "hosts": hosts, "s": s, "admin": admin}
    finally:
        reports = []
        for t, n in hosts.values():
            n.stop()
            t.stop()
            reports += t.sanitizer_reports()
        for node in nodes:
            node.stop()
        remove_network()
        shutil.rmtree(d, ignore_errors=True)
        assert not reports


def base(net, ns):
    return net["hosts"][ns][1].base


def new_token(net, ns="td-h1"):
    r = net["s"].post(base(net, ns) + f"/v1/spaces/{SPACE}/api_keys", timeout=10,
                      json={"api_key": {"access": "public"}})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def verify(net, ns, token):
    return requests.get(base(net, ns) + "/v1/verify", timeout=10,
                        headers={"X-Original-URI": f"/v2/cdn/stories?token={token}"})


def warm_everywhere(net, token):
    """Each host's verify workers read it (and cache it) first."""
    for ns in HOSTS:
        for _ in range(4):
            assert verify(net, ns, token).status_code == 200


@pytest.mark.parametrize("change", ["delete", "disable", "regenerate", "expire"])
def test_a_change_on_host_a_is_seen_by_the_next_request_on_b_and_c(net, change):
    k = new_token(net)
    warm_everywhere(net, k["token"])
    url = base(net, "td-h1") + f"/v1/spaces/{SPACE}/api_keys/{k['id']}"
    if change == "delete":
        r = net["s"].delete(url, timeout=10)
    elif change == "disable":
        r = net["s"].put(url, timeout=10, json={"api_key": {"status": "disabled"}})
    elif change == "regenerate":
        r = net["s"].post(url + "/regenerate", timeout=10)
    else:
        r = net["s"].put(url, timeout=10, json={"api_key": {"expires_at": "2020-01-01T00:00:00Z"}})
    assert r.status_code == 200, r.text
    for ns in ("td-h2", "td-h3"):
        assert verify(net, ns, k["token"]).status_code == 401, (change, ns)


def test_a_partition_fails_closed_and_heals(net):
    k = new_token(net)
    warm_everywhere(net, k["token"])
    cut = [f"{NET}.{last}" for last in REDIS.values()]
    for ip in cut:
        sh(*netns_prefix("td-h3"), "ip", "route", "add", "blackhole", f"{ip}/32")
    try:
        # the cache is exact only while tracking lives: cut off, h3 refuses
        wait_until(lambda: verify(net, "td-h3", k["token"]).status_code == 403, timeout=10,
                   what="h3 failing closed")
        r = verify(net, "td-h3", k["token"])
        assert r.headers["X-Tokend-Reason"] == "store_unavailable"
        r = net["s"].get(base(net, "td-h3") + f"/v1/spaces/{SPACE}/api_keys", timeout=10)
        assert r.status_code == 503
        assert verify(net, "td-h1", k["token"]).status_code == 200     # the others go on
    finally:
        for ip in cut:
            sh(*netns_prefix("td-h3"), "ip", "route", "del", "blackhole", f"{ip}/32", check=False)
    # each worker reconnects at its next request (every redis_retry_interval_ms at most)
    wait_until(lambda: verify(net, "td-h3", k["token"]).status_code == 200 and
               net["s"].get(base(net, "td-h3") + f"/v1/spaces/{SPACE}/api_keys",
                            timeout=10).status_code == 200, timeout=15, what="h3 healed")


def test_kill_9_of_the_primary_under_load_from_every_host(net):
    old = net["sentinels"][0].cli("SENTINEL", "get-master-addr-by-name", MASTER).split()[0]
    acknowledged, statuses, stop = [], [], threading.Event()

    def writer(ns):
        with requests.Session() as w:
            w.headers["Authorization"] = net["admin"]
            for _ in range(3000):           # bounded
                if stop.is_set():
                    return
                try:
                    r = w.post(base(net, ns) + f"/v1/spaces/{SPACE}/api_keys", timeout=10,
                               json={"api_key": {"access": "public"}})
                except requests.RequestException:
                    continue
                statuses.append(r.status_code)
                if r.status_code == 201:
                    acknowledged.append((ns, r.json()["api_key"]))

    threads = [threading.Thread(target=writer, args=(ns,)) for ns in HOSTS]
    for th in threads:
        th.start()
    try:
        wait_until(lambda: len(acknowledged) >= 30, timeout=15, what="writes from every host")
        net["primary"].kill()
        wait_until(lambda: net["sentinels"][0].cli("SENTINEL", "get-master-addr-by-name",
                                                   MASTER).split()[0] != old,
                   timeout=30, what="the failover")
        # the old primary returns as a replica of the new one: writes can be
        # confirmed again (redis_min_replica_acks = 1)
        net["primary"].start()
        mark = len(statuses)
        wait_until(lambda: all(any(ns2 == ns for ns2, _ in acknowledged[-60:]) for ns in HOSTS)
                   and statuses[mark:].count(201) >= 30, timeout=40,
                   what="every host writing again on its own")
    finally:
        stop.set()
        for th in threads:
            th.join()
    assert set(statuses) <= {201, 503}, set(statuses)
    assert 503 in statuses
    # the old primary, back, is made a replica by the sentinels (until then
    # it is a second primary with old data, and a host may read from it:
    # Sentinel's window, see the README) and copies the new one
    wait_until(lambda: "role:slave" in net["primary"].cli("INFO", "replication") and
               "master_link_status:up" in net["primary"].cli("INFO", "replication"),
               timeout=30, what="the old primary a replica again")
    # no acknowledged token lost, whichever host made it, seen from every host
    for i, (ns, k) in enumerate(acknowledged):
        r = verify(net, list(HOSTS)[i % 3], k["token"])
        if r.status_code != 200:
            seen = {h: verify(net, h, k["token"]).headers.get("X-Tokend-Reason", "ok")
                    for h in HOSTS}
            keys = {n.ip: n.cli("EXISTS", f"{{s:{SPACE}}}:t:{k['id']}") +
                    n.cli("ROLE").split("\n")[0] for n in (net["primary"], net["replica"])}
            if os.environ.get("HOSTS_DEBUG"):
                shutil.copytree(net["dir"], "/tmp/hostsdbg", dirs_exist_ok=True)
            raise AssertionError((ns, k["id"], r.headers.get("X-Tokend-Reason"), seen, keys))
