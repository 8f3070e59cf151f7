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
and at most a short window of refusals, which is counted. Malformed
redis-cluster:// URLs are refused by check-config."""
import contextlib
import os
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

    def count(self, op=None, status=None, since=0.0, host=None):
        return sum(1 for o, h, s, t0, _, _ in self.rows
                   if (op is None or o == op) and (status is None or s == status)
                   and (host is None or h == host) and t0 >= since)


def run_threads(targets):
    threads = [threading.Thread(target=f, args=a, daemon=True) for f, *a in targets]
    for th in threads:
        th.start()
    return threads


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
                assert ids <= got, (sid, host, view, ids - got)
    # the PATs' and the spaces' directories answer too, wherever they live
    r = st["s"].get(base(st, "b") + "/v1/spaces", timeout=10)
    assert r.status_code == 200, r.text
    seen = {sp["id"] for sp in r.json()["spaces"]}
    assert set(SPREAD) <= seen, set(SPREAD) - seen


@pytest.mark.parametrize("how", ["delete", "disable", "regenerate", "expire"])
def test_a_change_through_a_is_refused_by_the_next_verify_on_b(calm, how):
    st = calm
    sid = 3100 + list(REASONS).index(how)
    new_space(st, sid)
    k = new_token(st, sid, "a")
    warm(st, "b", k["token"])
    warm(st, "a", k["token"], 4)
    r = change(st, "a", sid, k, how)
    for host in ("b", "a"):
        v = verify(st, host, k["token"])
        assert v.status_code == 401 and v.headers.get("X-Tokend-Reason") == REASONS[how], \
            (how, host, v.status_code, v.headers.get("X-Tokend-Reason"))
    if how == "regenerate":
        fresh = r.json()["api_key"]["token"]
        assert fresh != k["token"]
        assert verify(st, "b", fresh).status_code == 200


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


MIGRATING = 3200
MIGRATION_ERROR_BOUND = 3     # refusals allowed while the slot is half-moved


def test_a_slot_migrated_under_load(calm):
    """Verifies (both hosts), creates (a), lists (b) and updates (a) of one
    space while its slot moves to another primary two keys at a time, with
    a pause after each batch: a request meets keys on both nodes (ASK, and
    TRYAGAIN for a script whose keys are split). Nothing but the success
    codes before and after; at most MIGRATION_ERROR_BOUND refusals in the
    window; no 5xx ever; no write lost."""
    st, c = calm, calm["cluster"]
    sid = new_space(st, MIGRATING)
    before = [new_token(st, sid, "ab"[i % 2], f"pre{i}") for i in range(24)]
    slot = c.slot_of(f"{{s:{sid}}}")
    src = c.owner_of(slot=slot)
    dst = [p for p in c.primaries() if p is not src][0]
    keys_before = int(src.cli("CLUSTER", "COUNTKEYSINSLOT", str(slot)))
    assert keys_before >= 24, keys_before
    rec, created, names = Recorder(), [], {}
    pre_ids = {k["id"] for k in before}

    def verifier(host):
        with requests.Session() as w:
            for i in range(4000):
                if rec.stop.is_set():
                    return
                t0 = time.monotonic()
                try:
                    r = verify(st, host, before[i % len(before)]["token"], w)
                except requests.RequestException as e:
                    rec.note("verify", host, "exc", t0, repr(e))
                    continue
                rec.note("verify", host, r.status_code, t0, r.headers.get("X-Tokend-Reason"))

    def creator(host):
        with requests.Session() as w:
            w.headers["Authorization"] = st["admin"]
            for i in range(4000):
                if rec.stop.is_set():
                    return
                t0 = time.monotonic()
                try:
                    r = post_token(w, st, host, sid, f"during{i}")
                except requests.RequestException as e:
                    rec.note("create", host, "exc", t0, repr(e))
                    continue
                rec.note("create", host, r.status_code, t0, r.text[:200])
                if r.status_code == 201:
                    created.append(r.json()["api_key"])

    def lister(host):
        with requests.Session() as w:
            w.headers["Authorization"] = st["admin"]
            for _ in range(4000):
                if rec.stop.is_set():
                    return
                t0 = time.monotonic()
                try:
                    r = w.get(base(st, host) + f"/v1/spaces/{sid}/api_keys", timeout=10)
                except requests.RequestException as e:
                    rec.note("list", host, "exc", t0, repr(e))
                    continue
                status = r.status_code
                if status == 200:
                    missing = pre_ids - {k["id"] for k in r.json()["api_keys"]}
                    if missing:         # a list that silently skips keys it could not reach
                        status = "200-missing"
                        rec.note("list", host, status, t0, sorted(missing))
                        continue
                rec.note("list", host, status, t0, r.text[:200])

    def updater(host):
        with requests.Session() as w:
            w.headers["Authorization"] = st["admin"]
            for i in range(4000):
                if rec.stop.is_set():
                    return
                k = before[i % len(before)]
                t0 = time.monotonic()
                try:
                    r = w.put(base(st, host) + f"/v1/spaces/{sid}/api_keys/{k['id']}",
                              timeout=10, json={"api_key": {"name": f"u{i}"}})
                except requests.RequestException as e:
                    rec.note("update", host, "exc", t0, repr(e))
                    continue
                rec.note("update", host, r.status_code, t0, r.text[:200])
                if r.status_code == 200:
                    names[k["id"]] = f"u{i}"

    threads = run_threads([(verifier, "a"), (verifier, "b"), (creator, "a"), (lister, "b"),
                           (updater, "a")])
    expected = {"verify": 200, "create": 201, "list": 200, "update": 200}
    try:
        wait_until(lambda: all(rec.count(op, code) >= 5 for op, code in expected.items()),
                   timeout=20, what="load before the migration")
        t_start = time.monotonic()
        moved = c.migrate_slot(slot, src, dst, batch=2, pause=0.1)
        t_end = time.monotonic()
        wait_until(lambda: all(rec.count(op, code, since=t_end) >= 5
                               for op, code in expected.items()),
                   timeout=20, what="load after the migration")
    finally:
        join(rec, threads)
    window = [r for r in rec.rows if r[2] != expected[r[0]] and r[4] >= t_start and r[3] <= t_end]
    outside = [r for r in rec.rows if r[2] != expected[r[0]] and not (r[4] >= t_start and
                                                                     r[3] <= t_end)]
    print(f"\nslot {slot} {src.name}->{dst.name}: {moved} keys in {t_end - t_start:.1f}s; "
          f"{len(rec.rows)} requests, {len(window)} refused in the window: "
          f"{[(o, h, s, d) for o, h, s, _, _, d in window][:10]}")
    assert moved >= keys_before, (moved, keys_before)
    assert not outside, outside[:10]
    assert not [r for r in rec.rows if isinstance(r[2], int) and r[2] >= 500 and
                r[0] == "verify"], "a verify answered 5xx"
    assert len(window) <= MIGRATION_ERROR_BOUND, \
        (len(window), [(o, h, s, d) for o, h, s, _, _, d in window][:10], log(st, "a")[-3000:])
    # the slot is dst's now, all of it
    assert c.owner_of(slot=slot) is dst
    assert src.cli("CLUSTER", "COUNTKEYSINSLOT", str(slot)) == "0"
    assert dst.cli("EXISTS", f"{{s:{sid}}}:space") == "1"
    # no write lost: every created token lists and verifies on both hosts,
    # every token carries its last acknowledged name
    assert len(created) >= 5, len(created)
    final = st["s"].get(base(st, "a") + f"/v1/spaces/{sid}/api_keys", timeout=10)
    assert final.status_code == 200, final.text
    by_id = {k["id"]: k for k in final.json()["api_keys"]}
    assert {k["id"] for k in created} <= set(by_id), {k["id"] for k in created} - set(by_id)
    for k in created:
        for host in "ab":
            r = verify(st, host, k["token"])
            assert r.status_code == 200, (k["id"], host, r.status_code,
                                          r.headers.get("X-Tokend-Reason"))
    for tid, name in names.items():
        assert by_id[tid]["name"] == name, (tid, by_id[tid]["name"], name)


FAILOVER = 3300


def test_a_manual_failover_is_followed(calm):
    """CLUSTER FAILOVER on the replica of the primary holding a space: a
    cached token keeps verifying (at most a short window of refusals), the
    next revocation is seen at once on both hosts, writes go on."""
    st, c = calm, calm["cluster"]
    sid = new_space(st, FAILOVER)
    k = new_token(st, sid, "a")
    other = new_token(st, sid, "b")
    for host in "ab":
        warm(st, host, k["token"])
    old = c.owner_of(f"{{s:{sid}}}")
    replica = c.replicas_of(old)[0]
    rec = Recorder()

    def verifier(host):
        with requests.Session() as w:
            for _ in range(4000):
                if rec.stop.is_set():
                    return
                t0 = time.monotonic()
                try:
                    r = verify(st, host, k["token"], w)
                except requests.RequestException as e:
                    rec.note("verify", host, "exc", t0, repr(e))
                    continue
                rec.note("verify", host, r.status_code, t0, r.headers.get("X-Tokend-Reason"))
                time.sleep(0.01)

    def lister(host):
        with requests.Session() as w:
            w.headers["Authorization"] = st["admin"]
            for _ in range(4000):
                if rec.stop.is_set():
                    return
                t0 = time.monotonic()
                try:
                    r = w.get(base(st, host) + f"/v1/spaces/{sid}/api_keys", timeout=10)
                except requests.RequestException as e:
                    rec.note("list", host, "exc", t0, repr(e))
                    continue
                rec.note("list", host, r.status_code, t0, r.text[:200])
                time.sleep(0.02)

    threads = run_threads([(verifier, "a"), (verifier, "b"), (lister, "a"), (lister, "b")])
    try:
        wait_until(lambda: rec.count("verify", 200) >= 10 and rec.count("list", 200) >= 4,
                   timeout=10, what="load before the failover")
        assert replica.cli("CLUSTER", "FAILOVER") == "OK"
        wait_until(lambda: c.role(replica) == "master" and c.role(old) == "slave" and
                   c.owner_of(f"{{s:{sid}}}") is replica, timeout=20,
                   what=f"{replica.name} promoted in place of {old.name}")
        switched = time.monotonic()
        wait_until(lambda: all(rec.count(op, 200, since=switched, host=h) >= 5
                               for op in ("verify", "list") for h in "ab"),
                   timeout=20, what="both hosts answering after the failover")
    finally:
        join(rec, threads)
    refused = [r for r in rec.rows if r[2] != 200]
    print(f"\nfailover {old.name}->{replica.name}: {len(rec.rows)} requests, "
          f"{len(refused)} refused: {[(o, h, s, d) for o, h, s, _, _, d in refused][:10]}")
    assert len(refused) <= 4, [(o, h, s, d) for o, h, s, _, _, d in refused][:10]
    assert not [r for r in refused if r[0] == "verify" and r[2] == 401], \
        "a valid cached token was called unknown"
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
    """Two hosts writing to one space with redis_min_replica_acks = 1; the
    primary holding it is killed. Only 201 and 503 (no replica to confirm,
    or no primary); then both write again by themselves once the replica is
    promoted and the killed node is back as its replica; every 201'd token
    is there."""
    with cluster_stack(TOKEND_REDIS_MIN_REPLICA_ACKS="1") as st:
        c = st["cluster"]
        sid = new_space(st, BUSY)
        doomed = new_token(st, sid, "a")
        change(st, "b", sid, doomed, "delete")
        victim = c.owner_of(f"{{s:{sid}}}")
        heir = c.replicas_of(victim)[0]
        rec, acknowledged = Recorder(), []

        def writer(host):
            with requests.Session() as w:
                w.headers["Authorization"] = st["admin"]
                for i in range(3000):
                    if rec.stop.is_set():
                        return
                    t0 = time.monotonic()
                    try:
                        r = post_token(w, st, host, sid, f"{host}{i}")
                    except requests.RequestException as e:
                        rec.note("create", host, "exc", t0, repr(e))
                        continue
                    rec.note("create", host, r.status_code, t0, r.text[:200])
                    if r.status_code == 201:
                        acknowledged.append((host, r.json()["api_key"]))

        threads = run_threads([(writer, "a"), (writer, "a"), (writer, "b"), (writer, "b")])
        try:
            wait_until(lambda: rec.count("create", 201, host="a") >= 15 and
                       rec.count("create", 201, host="b") >= 15, timeout=15,
                       what="writes from both hosts before the kill")
            c.kill(victim)
            wait_until(lambda: c.role(heir) == "master" and
                       c.owner_of(f"{{s:{sid}}}") is heir, timeout=20,
                       what=f"{heir.name} promoted in place of the killed {victim.name}")
            c.restart(victim)
            wait_until(lambda: c.role(victim) == "slave" and
                       "master_link_status:up" in victim.cli("INFO", "replication"),
                       timeout=30, what=f"{victim.name} back as a replica")
            back = time.monotonic()
            wait_until(lambda: rec.count("create", 201, since=back, host="a") >= 10 and
                       rec.count("create", 201, since=back, host="b") >= 10,
                       timeout=30, what="both hosts writing again on their own")
        finally:
            join(rec, threads)
        statuses = {r[2] for r in rec.rows}
        n503 = rec.count("create", 503)
        print(f"\nkill -9 {victim.name}: {len(rec.rows)} writes, {len(acknowledged)} 201, "
              f"{n503} 503, statuses {statuses}")
        assert statuses <= {201, 503}, [(h, s, d) for o, h, s, _, _, d in rec.rows
                                        if s not in (201, 503)][:10]
        assert n503 > 0, "no write was refused although the primary died"
        assert [p for p in c.replicas_of(heir)] == [victim], \
            ("the killed node rejoins as the new primary's replica",
             [p.name for p in c.replicas_of(heir)])
        c.wait_healthy()
        # every acknowledged token is there, seen from both hosts; the
        # acknowledged delete stays done
        for i, (host, k) in enumerate(acknowledged):
            other = "ab"[i % 2]
            r = verify(st, other, k["token"])
            assert r.status_code == 200, (host, other, k["id"], r.status_code,
                                          r.headers.get("X-Tokend-Reason"),
                                          heir.cli("EXISTS", f"{{s:{sid}}}:t:{k['id']}"))
        assert verify(st, "a", doomed["token"]).status_code == 401
        got = listed(st, "b", sid)
        lost = {k["id"] for _, k in acknowledged} - got
        assert not lost, sorted(lost)[:20]


@pytest.mark.parametrize("url", [
    "redis-cluster://",
    "redis-cluster://h:0",
    "redis-cluster://h:65536",
    "redis-cluster://h:6379/3",
    "redis-cluster://h:6379/mymaster",
    "redis-cluster://h:6379,:6380",
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
