"""tokend on Redis Cluster (redis_url = redis-cluster://host:port,…), on
loopback: three primaries and three replicas from Debian's redis-server
(cluster.py), two tokend "hosts" (a and b: each its own tokend, nginx and
directory, one keyring) in front of it.

  c1 c2 c3  primaries (slots split three ways by redis-cli --cluster create)
  c4 c5 c6  one replica each
  a, b      tokend + nginx, redis_url = redis-cluster://c1,c4,c2

A space's keys share the hash tag {s:ID}, so spaces spread over the
primaries; each token must still verify and list on every host. A change
made through a is refused by b's next verify although b had the token
cached. A slot moved between primaries under load (in small batches: the
requests meet it half-moved), a manual failover and a kill -9 of a primary
are followed with no acknowledged write lost (redis_min_replica_acks = 1)
and at most a short window of refusals, which is counted (printed with -s);
a dead primary takes out only its own slots' tokens, and only until its
replica is promoted; a write waits for a replica of the primary that took
it. Malformed redis-cluster:// URLs are refused by check-config.

The kill -9 tests and the replica-stopping one have a cluster each; the
others share one (calm) and leave it healthy."""
import collections
import contextlib
import math
import os
import re
import shutil
import tempfile
import threading
import time

import pytest
import requests

from cluster import RedisCluster
from harness import Nginx, Tokend, create_admin_pat, free_port, wait_until
from test_process import run_check_config

TOKEN_VIEWS_HEADERS = {"datocms": {"X-Api-Version": "3"}, "softwareone": {}}
REASONS = {"delete": "unknown_token", "disable": "disabled", "regenerate": "regenerated",
           "expire": "expired"}


# --- the topology ---------------------------------------------------------------

def start_host(d, name, url, **env):
    """tokend + nginx in d/name, with d's keyring (every host signs and reads
    the same tokens)."""
    hd = os.path.join(d, name)
    os.makedirs(hd)
    shutil.copy(os.path.join(d, "keyring"), os.path.join(hd, "keyring"))
    os.chmod(os.path.join(hd, "keyring"), 0o600)
    t = Tokend(hd, url, env=dict({"TOKEND_REDIS_WAIT_TIMEOUT_MS": "300"}, **env))
    t.start()
    try:
        n = Nginx(hd, t.socket, t.verify_socket).start()
    except BaseException:
        t.stop()
        raise
    return t, n


@contextlib.contextmanager
def cluster_stack(hosts=("a", "b"), **env):
    """A cluster, an admin PAT made through it, and tokend hosts on it; every
    process stopped at the end, also on failure; a sanitizer report in a
    host's log fails the test."""
    d = tempfile.mkdtemp(prefix="tokend-cluster-")
    os.chmod(d, 0o755)
    c = RedisCluster(d)
    running = {}
    reports = []
    try:
        c.start()
        admin = create_admin_pat(d, c.url())
        for name in hosts:
            running[name] = start_host(d, name, c.url(), **env)
        s = requests.Session()
        s.headers["Authorization"] = admin
        yield {"dir": d, "cluster": c, "hosts": running, "admin": admin, "s": s}
    finally:
        for t, n in running.values():
            n.stop()
            t.stop()
            if t.sanitizer_reports():
                reports.append(t.log_text()[-4000:])
        c.stop()
        shutil.rmtree(d, ignore_errors=True)
    assert not reports, reports[0]


@pytest.fixture(scope="module")
def calm():
    """One cluster and two hosts for the tests that leave it healthy."""
    with cluster_stack() as st:
        yield st


# --- small helpers ----------------------------------------------------------------

def base(st, host):
    return st["hosts"][host][1].base


def log(st, host):
    return st["hosts"][host][0].log_text()


def new_space(st, sid, host="a"):
    r = st["s"].post(base(st, host) + "/v1/spaces", timeout=10,
                     json={"space": {"id": sid, "name": f"s{sid}"}})
    assert r.status_code == 201, (sid, r.status_code, r.text)
    return sid


def post_token(s, st, host, sid, name="t"):
    return s.post(base(st, host) + f"/v1/spaces/{sid}/api_keys", timeout=10,
                  json={"api_key": {"access": "public", "name": name}})


def new_token(st, sid, host="a", name="t"):
    r = post_token(st["s"], st, host, sid, name)
    assert r.status_code == 201, (sid, host, r.status_code, r.text)
    return r.json()["api_key"]


def verify(st, host, token, session=None):
    return (session or requests).get(base(st, host) + "/v1/verify", timeout=10,
                                     headers={"X-Original-URI": f"/v2/cdn/stories?token={token}"})


def warm(st, host, token, n=8):
    """host's verify workers (two) read the token and cache it."""
    for _ in range(n):
        r = verify(st, host, token)
        assert r.status_code == 200, (host, r.status_code, r.headers.get("X-Tokend-Reason"))


def listed(st, host, sid, view="storyblok"):
    """The token ids of space sid as host lists them through a view."""
    if view == "storyblok":
        r = st["s"].get(base(st, host) + f"/v1/spaces/{sid}/api_keys", timeout=10)
        assert r.status_code == 200, (sid, host, view, r.status_code, r.text)
        return {k["id"] for k in r.json()["api_keys"]}
    h = dict(TOKEN_VIEWS_HEADERS[view], **{"X-Space-Id": str(sid)})
    path = "/access_tokens" if view == "datocms" else "/public/v1/accounts/api-tokens"
    r = st["s"].get(base(st, host) + path, timeout=10, headers=h)
    assert r.status_code == 200, (sid, host, view, r.status_code, r.text)
    if view == "datocms":
        return {int(o["id"]) for o in r.json()["data"]}
    return {int(o["id"][4:8] + o["id"][9:]) for o in r.json()["data"]}        # TKN-0000-0002


def change(st, host, sid, k, how):
    url = base(st, host) + f"/v1/spaces/{sid}/api_keys/{k['id']}"
    if how == "delete":
        r = st["s"].delete(url, timeout=10)
    elif how == "disable":
        r = st["s"].put(url, timeout=10, json={"api_key": {"status": "disabled"}})
    elif how == "regenerate":
        r = st["s"].post(url + "/regenerate", timeout=10)
    else:
        r = st["s"].put(url, timeout=10, json={"api_key": {"expires_at": "2020-01-01T00:00:00Z"}})
    assert r.status_code == 200, (how, r.status_code, r.text)
    return r


class Recorder:
    """(operation, host, status, start, end) of every request a load thread
    makes; thread-safe enough (list.append)."""

    def __init__(self):
        self.rows = []
        self.stop = threading.Event()

    def note(self, op, host, status, t0, detail=None):
        self.rows.append((op, host, status, t0, time.monotonic(), detail))

    def summary(self, since=0.0):
        """{(op, host, status): n} and a few refusals with what they said."""
        counts = collections.Counter((o, h, s) for o, h, s, t0, _, _ in self.rows if t0 >= since)
        odd = [(o, h, s, d) for o, h, s, t0, _, d in self.rows
               if t0 >= since and s not in (200, 201)]
        return f"{dict(counts)} refusals: {odd[:8]}"

    def count(self, op=None, status=None, since=0.0, host=None):
        return sum(1 for o, h, s, t0, _, _ in self.rows
                   if (op is None or o == op) and (status is None or s == status)
                   and (host is None or h == host) and t0 >= since)


def run_threads(targets):
    threads = [threading.Thread(target=f, args=a, daemon=True) for f, *a in targets]
    for th in threads:
        th.start()
    return threads


def wait_load(st, rec, predicate, timeout, what):
    """wait_until, and on a timeout what the load saw and the hosts' logs."""
    try:
        wait_until(predicate, timeout=timeout, interval=0.05, what=what)
    except AssertionError as e:
        logs = {h: t.log_text()[-1500:] for h, (t, _) in st["hosts"].items()}
        raise AssertionError(f"{e}\nload: {rec.summary()}\nlogs: {logs}") from None


def error_lines(st, n=12):
    """The last n lines of each host's log that are not access lines."""
    return {h: [l for l in t.log_text().splitlines() if " access " not in l][-n:]
            for h, (t, _) in st["hosts"].items()}


def join(rec, threads):
    rec.stop.set()
    for th in threads:
        th.join(timeout=30)
    assert not any(th.is_alive() for th in threads), "a load thread did not end"


# --- tests --------------------------------------------------------------------------

SPREAD = list(range(3001, 3031))


def test_spaces_spread_over_every_primary_and_every_token_reads_back_everywhere(calm):
    st, c = calm, calm["cluster"]
    made = {}
    for i, sid in enumerate(SPREAD):
        host = "ab"[i % 2]
        new_space(st, sid, host)
        made[sid] = [new_token(st, sid, "ab"[(i + j) % 2], f"t{j}") for j in range(3)]
    # each space's keys sit on the primary owning {s:ID}'s slot, and the 30
    # spaces cover all three primaries
    primaries = c.primaries()
    assert len(primaries) == 3, [p.name for p in primaries]
    per_primary = {p.name: len(c.keys(p, "{s:*")) for p in primaries}
    assert all(v > 0 for v in per_primary.values()), per_primary
    owners = {}
    for sid, keys in made.items():
        owner = c.owner_of(f"{{s:{sid}}}")
        owners.setdefault(owner.name, []).append(sid)
        for k in keys:
            assert owner.cli("EXISTS", f"{{s:{sid}}}:t:{k['id']}") == "1", \
                (sid, k["id"], owner.name, per_primary)
    assert len(owners) == 3, owners
    # every token verifies on both hosts, and lists in every view on both
    for sid, keys in made.items():
        for k in keys:
            for host in "ab":
                r = verify(st, host, k["token"])
                assert r.status_code == 200, (sid, k["id"], host, r.status_code,
                                              r.headers.get("X-Tokend-Reason"))
        ids = {k["id"] for k in keys}
        for host in "ab":
            for view in ("storyblok", "datocms", "softwareone"):
                got = listed(st, host, sid, view)
                assert ids <= got, (sid, host, view, "missing", ids - got)
                # besides them only the space's built-in token, nothing of another space
                assert len(got - ids) == 1, (sid, host, view, "extra", got - ids)
    # the PATs' and the spaces' directories answer too, wherever they live
    r = st["s"].get(base(st, "b") + "/v1/spaces", timeout=10)
    assert r.status_code == 200, r.text
    seen = {sp["id"] for sp in r.json()["spaces"]}
    assert set(SPREAD) <= seen, set(SPREAD) - seen


def change_seen_elsewhere(st, sid, how, via, others):
    """A token cached by every host's verify workers, changed through via:
    the very next verify on each of others (and on via) refuses it, for the
    change's reason; a regenerated token's new value verifies there."""
    k = new_token(st, sid, via)
    for host in [*others, via]:
        warm(st, host, k["token"])
    r = change(st, via, sid, k, how)
    for host in [*others, via]:
        v = verify(st, host, k["token"])
        assert v.status_code == 401 and v.headers.get("X-Tokend-Reason") == REASONS[how], \
            (how, f"changed through {via}, verified on {host}", v.status_code,
             v.headers.get("X-Tokend-Reason"))
    if how == "regenerate":
        fresh = r.json()["api_key"]["token"]
        assert fresh != k["token"]
        for host in others:
            assert verify(st, host, fresh).status_code == 200, host


@pytest.mark.parametrize("how", list(REASONS))
def test_a_change_through_a_is_refused_by_the_next_verify_on_b(calm, how):
    change_seen_elsewhere(calm, new_space(calm, 3100 + list(REASONS).index(how)), how,
                          via="a", others=["b"])


def test_a_dead_first_seed_is_passed_over(calm):
    """The seed list is tried in order until one answers CLUSTER SLOTS."""
    st, c = calm, calm["cluster"]
    url = c.url().replace("redis-cluster://", f"redis-cluster://127.0.0.1:{free_port()},")
    t, n = start_host(st["dir"], "deadseed", url)
    try:
        sid = new_space(st, 3150)
        r = st["s"].post(n.base + f"/v1/spaces/{sid}/api_keys", timeout=10,
                         json={"api_key": {"access": "public"}})
        assert r.status_code == 201, (r.status_code, r.text, t.log_text()[-2000:])
        k = r.json()["api_key"]
        assert requests.get(n.base + "/v1/verify", timeout=10, headers={
            "X-Original-URI": f"/v2/cdn/stories?token={k['token']}"}).status_code == 200
    finally:
        n.stop()
        t.stop()
    assert not t.sanitizer_reports(), t.log_text()[-4000:]


# --- scenarios (test_hosts_cluster.py runs them across network namespaces) ----------

def load(rec, op, host, call, auth=None, pause=0.002, judge=None):
    """A load thread's body: call(session, i) until rec.stop (4000 times at
    most), every answer noted; judge(response, i) may name a worse status
    than the HTTP one (a 200 list missing tokens)."""
    with requests.Session() as w:
        if auth:
            w.headers["Authorization"] = auth
        for i in range(4000):
            if rec.stop.is_set():
                return
            t0 = time.monotonic()
            try:
                r = call(w, i)
            except requests.RequestException as e:
                rec.note(op, host, "exc", t0, repr(e))
                continue
            status = (judge(r, i) if judge else None) or r.status_code
            rec.note(op, host, status, t0, r.headers.get("X-Tokend-Reason") or r.text[:160])
            # a refusal: a breath longer (an outage is not hammered)
            time.sleep(pause if status in (200, 201) else 0.02)


def refusals(rows):
    return [(o, h, s, d) for o, h, s, _, _, d in rows]


def migrate_under_load(st, sid, verifiers, creator, lister, updater, batch=2, pause=0.1):
    """Verifies (one thread per host in verifiers), creates, lists and
    updates of space sid while its slot moves to another primary batch keys
    at a time with a pause after each: requests meet the slot half-moved
    (ASK for one key; TRYAGAIN for a script whose keys are split, which
    lasts as long as the move, as GETKEYSINSLOT gives :activities first and
    :tokens last). Nothing but the success codes before and after the move;
    while it lasts, reads (verify, list) still never refused nor short of a
    token, and a write refused only with 503 after tokend waited out
    TRYAGAIN (redis_command_timeout_ms): so at most one refusal per writer
    per such wait. Every token created lists and verifies everywhere, every
    update acknowledged last is what the token carries. Returns the
    refusals in the window."""
    c = st["cluster"]
    budget = int(next(iter(st["hosts"].values()))[0].env["TOKEND_REDIS_COMMAND_TIMEOUT_MS"]) / 1e3
    hosts = list(st["hosts"])
    before = [new_token(st, sid, hosts[i % len(hosts)], f"pre{i}") for i in range(24)]
    pre_ids = {k["id"] for k in before}
    slot = c.slot_of(f"{{s:{sid}}}")
    src = c.owner_of(slot=slot)
    dst = [p for p in c.primaries() if p is not src][0]
    keys_before = int(src.cli("CLUSTER", "COUNTKEYSINSLOT", str(slot)))
    assert keys_before >= len(before), (slot, src.name, keys_before)
    rec, created, names = Recorder(), [], {}
    space_keys = f"/v1/spaces/{sid}/api_keys"

    def created_one(r, i):
        if r.status_code == 201:
            created.append(r.json()["api_key"])

    def whole_list(r, i):
        if r.status_code == 200:
            missing = pre_ids - {k["id"] for k in r.json()["api_keys"]}
            if missing:         # a list that quietly skips what it could not reach
                return f"200 without {sorted(missing)}"

    def updated(r, i):
        tid = before[i % len(before)]["id"]
        # an update refused may still have landed: its token's name is then unknown
        names[tid] = f"u{i}" if r.status_code == 200 else None

    expected = {"verify": 200, "create": 201, "list": 200, "update": 200}
    targets = [(load, rec, "verify", h,
                lambda w, i, h=h: verify(st, h, before[i % len(before)]["token"], w))
               for h in verifiers]
    targets += [
        (load, rec, "create", creator,
         lambda w, i: post_token(w, st, creator, sid, f"during{i}"), st["admin"], 0.002,
         created_one),
        (load, rec, "list", lister,
         lambda w, i: w.get(base(st, lister) + space_keys, timeout=10), st["admin"], 0.002,
         whole_list),
        (load, rec, "update", updater,
         lambda w, i: w.put(base(st, updater) + f"{space_keys}/{before[i % len(before)]['id']}",
                            timeout=10, json={"api_key": {"name": f"u{i}"}}),
         st["admin"], 0.002, updated),
    ]
    threads = run_threads(targets)
    t_start = t_end = None
    try:
        wait_load(st, rec, lambda: all(rec.count(op, code) >= 5
                                       for op, code in expected.items()),
                  20, "load before the migration")
        t_start = time.monotonic()
        moved = c.migrate_slot(slot, src, dst, batch=batch, pause=pause)
        t_end = time.monotonic()
        wait_load(st, rec, lambda: all(rec.count(op, code, since=t_end) >= 5
                                       for op, code in expected.items()),
                  20, "load after the migration")
    finally:
        join(rec, threads)
    bad = [r for r in rec.rows if r[2] != expected[r[0]]]
    window = [r for r in bad if r[4] >= t_start and r[3] <= t_end]
    outside = [r for r in bad if r not in window]
    print(f"\nslot {slot} {src.name}->{dst.name}: {moved} keys in {t_end - t_start:.1f}s, "
          f"{len(rec.rows)} requests, {len(window)} refused in the window: "
          f"{refusals(window)[:10]}")
    if window:
        for h, lines in error_lines(st).items():
            print(f"{h}:", *lines, sep="\n  ")
    assert moved >= keys_before, (moved, keys_before)
    assert not outside, ("refused outside the migration window", refusals(outside)[:10])
    reads = [r for r in window if r[0] in ("verify", "list")]
    assert not reads, ("a read refused while the slot moved", refusals(reads)[:10])
    assert all(r[2] == 503 for r in window), ("a write refused otherwise than 503",
                                               refusals(window)[:10])
    hasty = [r for r in window if r[4] - r[3] < 0.8 * budget]
    assert not hasty, ("a write refused before tokend waited TRYAGAIN out",
                       [(o, h, s, round(t1 - t0, 3), d) for o, h, s, t0, t1, d in hasty][:10],
                       error_lines(st))
    bound = 2 * math.ceil((t_end - t_start) / (0.8 * budget))      # two writers
    assert len(window) <= bound, (f"{len(window)} refused while the slot moved",
                                  refusals(window)[:10], error_lines(st))
    # the slot is dst's now, all of it
    assert c.owner_of(slot=slot) is dst, (slot, c.owner_of(slot=slot).name, dst.name)
    assert src.cli("CLUSTER", "COUNTKEYSINSLOT", str(slot)) == "0"
    assert dst.cli("EXISTS", f"{{s:{sid}}}:space") == "1"
    # no write lost: every created token lists and verifies everywhere, every
    # token carries its last acknowledged name
    assert len(created) >= 5, len(created)
    final = st["s"].get(base(st, hosts[0]) + space_keys, timeout=10)
    assert final.status_code == 200, final.text
    by_id = {k["id"]: k for k in final.json()["api_keys"]}
    lost = {k["id"] for k in created} - set(by_id)
    assert not lost, ("created during the migration, then gone", sorted(lost))
    for k in created:
        for host in hosts:
            r = verify(st, host, k["token"])
            assert r.status_code == 200, (k["id"], host, r.status_code,
                                          r.headers.get("X-Tokend-Reason"))
    for tid, name in names.items():
        assert name is None or by_id[tid]["name"] == name, (tid, by_id[tid]["name"], name)
    # the hosts' caches follow the slot: a token cached from src, disabled
    # through one host on dst, is refused by the next verify everywhere
    k = before[0]
    for host in hosts:
        warm(st, host, k["token"], 4)
    change(st, hosts[0], sid, k, "disable")
    for host in hosts:
        v = verify(st, host, k["token"])
        assert v.status_code == 401 and v.headers.get("X-Tokend-Reason") == "disabled", \
            ("after the migration", host, v.status_code, v.headers.get("X-Tokend-Reason"))
    return window


def kill_primary_under_writes(st, sid, writers):
    """One writer thread per entry of writers (a host name) making tokens
    in sid; the primary holding sid is killed (-9), its replica promoted,
    the killed node restarted. Only 201 and 503, some 503, every host
    writing again by itself once the old primary is back as the new one's
    replica (redis_min_replica_acks = 1: until then no write can be
    confirmed), no 201'd token lost, the acknowledged delete still done."""
    c, hosts = st["cluster"], list(st["hosts"])
    doomed = new_token(st, sid, hosts[0])
    change(st, hosts[-1], sid, doomed, "delete")
    victim = c.owner_of(f"{{s:{sid}}}")
    heir = c.replicas_of(victim)[0]
    rec, acknowledged = Recorder(), []

    def kept(host):
        def judge(r, i):
            if r.status_code == 201:
                acknowledged.append((host, r.json()["api_key"]))
        return judge

    threads = run_threads([(load, rec, "create", h,
                            lambda w, i, h=h: post_token(w, st, h, sid, f"{h}{i}"),
                            st["admin"], 0.002, kept(h)) for h in writers])
    try:
        wait_load(st, rec, lambda: all(rec.count("create", 201, host=h) >= 10 for h in writers),
                  20, "writes from every host before the kill")
        c.kill(victim)
        killed = time.monotonic()
        wait_until(lambda: c.role(heir) == "master" and c.owner_of(f"{{s:{sid}}}") is heir,
                   timeout=20, what=f"{heir.name} promoted in place of the killed {victim.name}")
        promoted = time.monotonic()
        c.restart(victim)
        wait_until(lambda: c.role(victim) == "slave" and
                   "master_link_status:up" in victim.cli("INFO", "replication"),
                   timeout=30, what=f"{victim.name} back as a replica")
        back = time.monotonic()
        wait_load(st, rec, lambda: all(rec.count("create", 201, since=back, host=h) >= 10
                                       for h in writers),
                  30, "every host writing again on its own")
    finally:
        join(rec, threads)
    statuses = collections.Counter(r[2] for r in rec.rows)
    print(f"\nkill -9 {victim.name}: {heir.name} promoted after {promoted - killed:.1f}s, "
          f"{victim.name} back after {back - killed:.1f}s; writes {dict(statuses)}")
    assert set(statuses) <= {201, 503}, [r for r in refusals(rec.rows) if r[2] not in (201, 503)][:10]
    assert statuses[503] > 0, "no write was refused although the primary died"
    assert c.replicas_of(heir) == [victim], \
        ("the killed node rejoins as the new primary's replica",
         [p.name for p in c.replicas_of(heir)])
    c.wait_healthy()
    for i, (host, k) in enumerate(acknowledged):
        other = hosts[i % len(hosts)]
        r = verify(st, other, k["token"])
        assert r.status_code == 200, ("an acknowledged token lost", host, other, k["id"],
                                      r.status_code, r.headers.get("X-Tokend-Reason"),
                                      heir.cli("EXISTS", f"{{s:{sid}}}:t:{k['id']}"))
    r = verify(st, hosts[0], doomed["token"])
    assert r.status_code == 401, ("the acknowledged delete undone", r.status_code)
    lost = {k["id"] for _, k in acknowledged} - listed(st, hosts[-1], sid)
    assert not lost, ("acknowledged, not listed", sorted(lost)[:20])
    # the hosts' caches follow the promoted node: a token cached from it,
    # deleted through one host, is refused by the next verify everywhere
    _, k = acknowledged[-1]
    for host in hosts:
        warm(st, host, k["token"], 4)
    change(st, hosts[0], sid, k, "delete")
    for host in hosts:
        v = verify(st, host, k["token"])
        assert v.status_code == 401 and v.headers.get("X-Tokend-Reason") == "unknown_token", \
            ("after the failover", host, v.status_code, v.headers.get("X-Tokend-Reason"))
    return statuses


MIGRATING = 3200


def test_a_slot_migrated_under_load(calm):
    migrate_under_load(calm, new_space(calm, MIGRATING), verifiers="ab", creator="a",
                       lister="b", updater="a")


FAILOVER = 3300
FAILOVER_ERROR_BOUND = 24       # four load threads over the switch (10 seen in a CI run)
FAILOVER_WINDOW_S = 2.0


def test_a_manual_failover_is_followed(calm):
    """CLUSTER FAILOVER on the replica of the primary holding a space: a
    cached token keeps verifying and lists keep answering (at most a short
    window of refusals), the next revocation is seen at once on both hosts,
    writes land on the new primary."""
    st, c = calm, calm["cluster"]
    sid = new_space(st, FAILOVER)
    k = new_token(st, sid, "a")
    other = new_token(st, sid, "b")
    for host in "ab":
        warm(st, host, k["token"])
    old = c.owner_of(f"{{s:{sid}}}")
    replica = c.replicas_of(old)[0]
    rec = Recorder()
    threads = run_threads(
        [(load, rec, "verify", h, lambda w, i, h=h: verify(st, h, k["token"], w), None, 0.01)
         for h in "ab"] +
        [(load, rec, "list", h,
          lambda w, i, h=h: w.get(base(st, h) + f"/v1/spaces/{sid}/api_keys", timeout=10),
          st["admin"], 0.02) for h in "ab"])
    try:
        wait_load(st, rec, lambda: rec.count("verify", 200) >= 10 and
                  rec.count("list", 200) >= 4, 10, "load before the failover")
        asked = time.monotonic()
        assert replica.cli("CLUSTER", "FAILOVER") == "OK"
        wait_until(lambda: c.role(replica) == "master" and c.role(old) == "slave" and
                   c.owner_of(f"{{s:{sid}}}") is replica, timeout=20,
                   what=f"{replica.name} promoted in place of {old.name}")
        switched = time.monotonic()
        wait_load(st, rec, lambda: all(rec.count(op, 200, since=switched, host=h) >= 5
                                       for op in ("verify", "list") for h in "ab"),
                  20, "both hosts answering after the failover")
    finally:
        join(rec, threads)
    refused = [r for r in rec.rows if r[2] != 200]
    print(f"\nfailover {old.name}->{replica.name} in {switched - asked:.1f}s: "
          f"{len(rec.rows)} requests, {len(refused)} refused: {refusals(refused)[:10]}")
    if refused:
        for h, lines in error_lines(st).items():
            print(f"{h}:", *lines, sep="\n  ")
    assert not [r for r in refused if r[0] == "verify" and r[2] == 401], \
        ("a valid cached token was refused as unknown", refusals(refused)[:10])
    # refusals only while the roles switch (and a moment after), and few
    late = [r for r in refused if r[3] < asked or r[3] > switched + FAILOVER_WINDOW_S]
    assert not late, ("refused outside the failover", refusals(late)[:10])
    assert len(refused) <= FAILOVER_ERROR_BOUND, refusals(refused)[:10]
    # after the switch: a revocation is seen at once everywhere, writes land
    change(st, "a", sid, k, "delete")
    for host in "ba":
        v = verify(st, host, k["token"])
        assert v.status_code == 401 and v.headers.get("X-Tokend-Reason") == "unknown_token", \
            (host, v.status_code, v.headers.get("X-Tokend-Reason"))
    assert verify(st, "b", other["token"]).status_code == 200
    fresh = new_token(st, sid, "b")
    assert replica.cli("EXISTS", f"{{s:{sid}}}:t:{fresh['id']}") == "1"
    assert verify(st, "a", fresh["token"]).status_code == 200
    c.wait_healthy()


BUSY = 3400


def test_kill_9_of_a_primary_under_writes_loses_no_acknowledged_token():
    """Two hosts (two writers each) with redis_min_replica_acks = 1, on a
    cluster of their own (this one is left with a node restarted)."""
    with cluster_stack(TOKEND_REDIS_MIN_REPLICA_ACKS="1") as st:
        kill_primary_under_writes(st, new_space(st, BUSY), writers="aabb")


def test_a_dead_primary_takes_out_only_its_own_tokens_until_its_replica_takes_over():
    """A token cached on both hosts in a space on each primary, verified
    without a pause from both; one primary killed (-9). The tokens of the
    other two primaries verify throughout from the caches (their nodes'
    tracking lives on; a cache refilled while the cluster is down may
    refuse a few, failing closed);
    the dead one's fail closed (403 store_unavailable, never 401, never
    stale), and only until its replica is promoted: then they verify again,
    without a restart of anything."""
    with cluster_stack() as st:
        c = st["cluster"]
        per, sid = {}, 3500
        while len(per) < 3:         # a space on each primary
            sid += 1
            owner = c.owner_of(f"{{s:{sid}}}")
            if owner.name not in per:
                new_space(st, sid)
                per[owner.name] = dict(new_token(st, sid, "a"), space=f"{{s:{sid}}}")
        for k in per.values():
            for host in "ab":
                warm(st, host, k["token"])
        victim = c.nodes[0]
        assert victim.name in per, per
        heir = c.replicas_of(victim)[0]
        # replication is asynchronous here (no redis_min_replica_acks): the
        # test is about the token the heir holds, so it holds it before the kill
        offset = lambda n: int(re.search(  # noqa: E731
            r"master_repl_offset:(\d+)", n.cli("INFO", "replication")).group(1))
        made = offset(victim)
        wait_until(lambda: offset(heir) >= made, what=f"{heir.name} caught up")
        rec = Recorder()
        threads = run_threads([(load, rec, "verify", (h, name),
                                lambda w, i, h=h, k=k: verify(st, h, k["token"], w), None, 0.01)
                               for h in "ab" for name, k in per.items()])
        try:
            wait_load(st, rec, lambda: rec.count("verify", 200) >= 30, 10, "verifies before")
            killed = time.monotonic()
            c.kill(victim)
            wait_until(lambda: c.role(heir) == "master" and
                       c.owner_of(per[victim.name]["space"]) is heir, timeout=20,
                       what=f"{heir.name} promoted in place of the killed {victim.name}")
            promoted = time.monotonic()
            wait_load(st, rec, lambda: all(rec.count("verify", 200, since=promoted,
                                                     host=(h, victim.name)) >= 5 for h in "ab"),
                      10, "the dead primary's tokens verifying again")
        finally:
            join(rec, threads)
        # the other primaries' tokens verify throughout, from the caches: a
        # worker that has to read one while the cluster is down (Redis's
        # cluster-require-full-coverage: every node answers CLUSTERDOWN until
        # the promotion) fails closed, and only then
        others = [r for r in rec.rows if r[1][1] != victim.name and r[2] != 200]
        assert all(
            r[2] == 403 and r[5] == "store_unavailable" and killed <= r[3] <= promoted + 1.0
            for r in others), ("a token of a living primary refused", refusals(others)[:10])
        mine = [r for r in rec.rows if r[1][1] == victim.name and r[2] != 200]
        print(f"\nkill -9 {victim.name}: {heir.name} promoted after {promoted - killed:.1f}s; "
              f"its tokens refused {len(mine)} times "
              f"({collections.Counter((r[2], r[5]) for r in mine)})")
        assert all(r[2] == 403 and r[5] == "store_unavailable" for r in mine), \
            ("the dead primary's token refused otherwise than failing closed", refusals(mine)[:10])
        early = [r for r in mine if r[4] < killed]
        late = [r for r in mine if r[3] > promoted + 1.0]
        assert not early and not late, ("refused outside kill..promotion+1s",
                                        refusals(early + late)[:10])


def test_a_write_waits_for_a_replica_of_the_node_that_took_it():
    """redis_min_replica_acks = 1: WAIT goes to the primary that took the
    write. With one primary's replica stopped, an update in a space on that
    primary is 503 (not confirmed) while one in a space elsewhere is 200 and
    reads go on; with the replica back, the same update is 200 again."""
    with cluster_stack(TOKEND_REDIS_MIN_REPLICA_ACKS="1") as st:
        c = st["cluster"]
        pats = c.owner_of("{pats}")         # PATs are read on every call: leave them be
        lonely = [p for p in c.primaries() if p is not pats][0]
        spaces, sid = {}, 3600
        while len(spaces) < 2:
            sid += 1
            on_lonely = c.owner_of(f"{{s:{sid}}}") is lonely
            if on_lonely not in spaces:
                new_space(st, sid)
                spaces[on_lonely] = (sid, new_token(st, sid, "a"))
        replica = c.replicas_of(lonely)[0]
        replica.stop()
        wait_until(lambda: "connected_slaves:0" in lonely.cli("INFO", "replication"),
                   timeout=10, what=f"{lonely.name} without its replica")

        def rename(on_lonely, name):
            sid, k = spaces[on_lonely]
            return st["s"].put(base(st, "b") + f"/v1/spaces/{sid}/api_keys/{k['id']}",
                               timeout=10, json={"api_key": {"name": name}})

        r = rename(True, "unconfirmed")
        assert r.status_code == 503, (r.status_code, r.text)
        assert "not confirmed by 1 replica(s)" in log(st, "b"), error_lines(st)
        r = rename(False, "confirmed")
        assert r.status_code == 200, (r.status_code, r.text, error_lines(st))
        for on_lonely in (True, False):
            assert verify(st, "a", spaces[on_lonely][1]["token"]).status_code == 200
        replica.start()
        wait_until(lambda: rename(True, "confirmed again").status_code == 200, timeout=20,
                   what=f"writes on {lonely.name} confirmed again by {replica.name}")


@pytest.mark.parametrize("url", [
    "redis-cluster://",
    "redis-cluster://h:0",
    "redis-cluster://h:65536",
    "redis-cluster://h:6379/3",
    "redis-cluster://h:6379/mymaster",
    "redis-cluster://h:6379,:6380",
    "redis-cluster://" + ",".join(f"h{i}:7000" for i in range(9)),      # 8 seeds at most
])
def test_a_malformed_cluster_url_is_refused(workdir, url):
    r = run_check_config({"TOKEND_REDIS_URL": url}, workdir=workdir)
    assert r.returncode != 0, (url, r.stdout)
    assert "redis_url" in r.stderr, (url, r.stderr)
    # refused for what is wrong in it, not as an unknown scheme
    assert "want redis://," not in r.stderr, (url, r.stderr)


def test_a_cluster_url_passes_check_config_without_its_password(workdir):
    url = "redis-cluster://tokend:s3cret-pw@10.0.0.1:7000,10.0.0.2:7001,10.0.0.3"
    r = run_check_config({"TOKEND_REDIS_URL": url}, workdir=workdir)
    assert r.returncode == 0, r.stderr
    assert "s3cret-pw" not in r.stdout + r.stderr
    line = [l for l in r.stdout.splitlines() if l.startswith("redis_url = ")]
    assert line and "10.0.0.2:7001" in line[0], r.stdout
