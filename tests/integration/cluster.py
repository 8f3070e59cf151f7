"""A Redis Cluster from Debian's redis-server (7.0) for the integration
tests (redis_url = redis-cluster://host:port[,host:port…]): N primaries with
one replica each, made by `redis-cli --cluster create`, each node a
RedisNode (on loopback with free ports, or one per network namespace).

What the tests need to ask it is asked live, never remembered: which nodes
are primaries (a failover changes that), which node owns a slot (a
migration changes that). A slot migration does the real steps an operator's
`redis-cli --cluster reshard` does (IMPORTING, MIGRATING, MIGRATE in
batches, SETSLOT NODE everywhere), in batches as small and slow as a test
wants, so requests land while some of the slot's keys have moved and some
have not. Every wait is bounded; stop() ends every node also after a
failure."""
import collections
import os
import subprocess
import time

from harness import RedisNode, free_ports, wait_until

SLOTS = 16384

# no diskless-sync delay (Redis waits 5 s for more replicas by default)
CLUSTER_ARGS = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "1000", "--appendonly", "yes",
                "--repl-diskless-sync-delay", "0"]


def running(node):
    return node.proc is not None and node.proc.poll() is None


def parse_nodes(text):
    """CLUSTER NODES: {id: {"addr": "ip:port", "flags": {...}, "master": id or None,
    "slots": [(first, last)], "myself": bool}}."""
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 8:
            continue
        flags = set(f[2].split(","))
        slots = []
        for s in f[8:]:
            if s.startswith("["):       # [slot->-id] / [slot-<-id]: a migration under way
                continue
            a, _, b = s.partition("-")
            slots.append((int(a), int(b or a)))
        out[f[0]] = {"addr": f[1].split("@")[0], "flags": flags,
                     "master": None if f[3] == "-" else f[3], "slots": slots,
                     "myself": "myself" in flags}
    return out


class RedisCluster:
    """2 * primaries redis-server nodes in cluster mode. addresses: one
    (ip, port, netns) per node (a cluster bus on port + 10000); by default
    loopback on free ports, each with a free bus port (cluster-port)."""

    def __init__(self, workdir, primaries=3, addresses=None, extra_args=()):
        self.nprimaries = primaries
        self.nodes = []
        ports = free_ports(4 * primaries)       # distinct: a clash would fail a node's bind
        for i in range(2 * primaries):
            if addresses:
                ip, port, ns = addresses[i]
                bus = port + 10000
            else:
                ip, port, ns = "127.0.0.1", ports[2 * i], None
                bus = ports[2 * i + 1]          # port + 10000 may be past 65535
            args = CLUSTER_ARGS + ["--cluster-port", str(bus), *extra_args]
            node = RedisNode(workdir, f"c{i + 1}", lambda n, a=args: a, ip=ip, port=port,
                             netns=ns)
            node.name, node.bus = f"c{i + 1}", bus
            self.nodes.append(node)
        self._ids = {}

    # --- life -------------------------------------------------------------

    def start(self, timeout=60):
        for n in self.nodes:
            n.start()
        r = subprocess.run(["redis-cli", "--cluster", "create",
                            *[f"{n.ip}:{n.port}" for n in self.nodes],
                            "--cluster-replicas", "1", "--cluster-yes"],
                           capture_output=True, text=True, timeout=timeout)
        assert r.returncode == 0 and "[OK] All 16384 slots covered" in r.stdout, \
            r.stdout[-3000:] + r.stderr[-2000:]
        self.wait_healthy(timeout=timeout)
        return self

    def stop(self):
        for n in self.nodes:
            try:
                n.stop()
            except Exception:           # every node goes, whatever one does
                n.kill()

    def kill(self, node):
        """kill -9: no goodbye to the others, no rewrite of its files."""
        node.kill()

    def restart(self, node):
        """The same port, dir and nodes.conf: it rejoins (a killed primary
        whose slots went to its replica comes back as that replica's replica)."""
        node.start()

    # --- what the cluster says, live --------------------------------------

    def running(self):
        return [n for n in self.nodes if running(n)]

    def node_id(self, node):
        if node.name not in self._ids:
            nid = node.cli("CLUSTER", "MYID")
            assert len(nid) == 40, (node.name, nid)
            self._ids[node.name] = nid
        return self._ids[node.name]

    def by_addr(self, addr):
        for n in self.nodes:
            if f"{n.ip}:{n.port}" == addr:
                return n
        raise AssertionError(f"no node at {addr}")

    def view(self, node):
        """node's CLUSTER NODES, parsed."""
        return parse_nodes(node.cli("CLUSTER", "NODES"))

    def slot_map(self, node):
        """node's idea of who owns which slots: sorted (first, last, owner id)."""
        return sorted((a, b, nid) for nid, e in self.view(node).items()
                      if "master" in e["flags"] for a, b in e["slots"])

    def role(self, node):
        """"master" or "slave" (ROLE's first line), "" when it does not answer."""
        return node.cli("ROLE").split("\n")[0] if running(node) else ""

    def primaries(self):
        """The running nodes that are primaries owning slots, asked now."""
        out = []
        for n in self.running():
            if self.role(n) != "master":
                continue
            me = [e for e in self.view(n).values() if e["myself"]]
            if me and me[0]["slots"]:
                out.append(n)
        return out

    def replicas_of(self, primary):
        pid = self.node_id(primary)
        return [n for n in self.running() if self.role(n) == "slave" and
                [e for e in self.view(n).values() if e["myself"]][0]["master"] == pid]

    def slot_of(self, key):
        for n in self.running():
            out = n.cli("CLUSTER", "KEYSLOT", key)
            if out.isdigit():
                return int(out)
        raise AssertionError(f"no node answers CLUSTER KEYSLOT {key}")

    def owner_of(self, key=None, slot=None):
        """The node owning key's (or slot's) slot, by the majority of the
        running nodes' views (a node just back may still hold an old one)."""
        slot = self.slot_of(key) if slot is None else slot
        votes = collections.Counter()
        for n in self.running():
            for a, b, nid in self.slot_map(n):
                if a <= slot <= b:
                    votes[nid] += 1
        assert votes, f"no running node knows who owns slot {slot}"
        owner = votes.most_common(1)[0][0]
        for n in self.nodes:
            if self.node_id(n) == owner:
                return n
        raise AssertionError(f"slot {slot} owned by unknown node {owner}")

    def keys(self, node, pattern="*"):
        """The keys on node matching pattern (SCAN, not KEYS)."""
        out = node.cli("--scan", "--pattern", pattern)
        return [k for k in out.split("\n") if k]

    def healthy(self):
        """Every running node says cluster_state:ok, all agree on the slot
        map, every slot covered, every replica's link to its primary up."""
        nodes = self.running()
        maps = []
        for n in nodes:
            if "cluster_state:ok" not in n.cli("CLUSTER", "INFO"):
                return False
            maps.append(self.slot_map(n))
        if not maps or any(m != maps[0] for m in maps):
            return False
        if sum(b - a + 1 for a, b, _ in maps[0]) != SLOTS:
            return False
        for n in nodes:
            info = n.cli("INFO", "replication")
            if "role:slave" in info and "master_link_status:up" not in info:
                return False
        return True

    def wait_healthy(self, timeout=30):
        wait_until(self.healthy, timeout=timeout, interval=0.2,
                   what="the cluster healthy (state ok, one slot map, replicas in sync)")

    def url(self, seeds=3, user_password=""):
        """redis-cluster://ip:port,… with seeds nodes: a primary, a replica,
        another primary (tokend reads the rest from CLUSTER SLOTS)."""
        n = self.nprimaries
        order = [self.nodes[0], self.nodes[n], self.nodes[1], self.nodes[n + 1]]
        auth = f"{user_password}@" if user_password else ""
        return "redis-cluster://" + auth + ",".join(f"{x.ip}:{x.port}" for x in order[:seeds])

    # --- resharding ---------------------------------------------------------

    def migrate_slot(self, slot, src, dst, batch=100, pause=0.0, on_batch=None,
                     max_rounds=2000):
        """Move slot from src to dst as redis-cli --cluster reshard does:
        IMPORTING on dst, MIGRATING on src, MIGRATE the keys batch at a time
        (pause seconds after each batch: requests meet a half-moved slot;
        on_batch(keys moved so far) after each), then SETSLOT NODE on dst,
        src and every other primary. Returns how many keys moved."""
        s, src_id, dst_id = str(slot), self.node_id(src), self.node_id(dst)
        assert src is not dst
        out = dst.cli("CLUSTER", "SETSLOT", s, "IMPORTING", src_id)
        assert out == "OK", f"SETSLOT IMPORTING on {dst.name}: {out}"
        out = src.cli("CLUSTER", "SETSLOT", s, "MIGRATING", dst_id)
        assert out == "OK", f"SETSLOT MIGRATING on {src.name}: {out}"
        moved = 0
        for _ in range(max_rounds):
            keys = [k for k in src.cli("CLUSTER", "GETKEYSINSLOT", s, str(batch)).split("\n") if k]
            if not keys:
                break
            out = src.cli("MIGRATE", dst.ip, str(dst.port), "", "0", "5000", "KEYS", *keys)
            assert out in ("OK", "NOKEY"), f"MIGRATE {keys} {src.name}->{dst.name}: {out}"
            moved += len(keys)
            if on_batch is not None:
                on_batch(moved)
            if pause:
                time.sleep(pause)
        else:
            raise AssertionError(f"slot {slot} still not empty on {src.name} "
                                 f"after {max_rounds} batches")
        others = [p for p in self.primaries() if p is not src and p is not dst]
        for n in [dst, src] + others:
            out = n.cli("CLUSTER", "SETSLOT", s, "NODE", dst_id)
            assert out == "OK", f"SETSLOT NODE on {n.name}: {out}"
        wait_until(lambda: all(any(a <= slot <= b and nid == dst_id
                                   for a, b, nid in self.slot_map(n))
                               for n in self.running()),
                   timeout=10, what=f"every node agreeing that {dst.name} owns slot {slot}")
        return moved
