"""A management worker's copies of the tokens it wrote (core/record_cache.h,
token_service.c): a change of a token this worker wrote last is judged on
its copy and written only if Redis still holds that very record (its
digest, compared by the write's script). So a copy made stale by anything
else (another worker or host, an operator in redis-cli, a write that leaves
the revision alone) costs a conflict and a second try on Redis's record:
never a lost change, never a refusal that Redis's record would not earn.
Through every view; one worker, so every change finds its copy."""
import socket
import threading

import pytest

from harness import pats_settled, running_stack
from test_rules_every_view import TOKEN_VIEWS, VIEW, http
from test_verify_cache import monitor_commands

SPACE = 9051


@pytest.fixture(scope="module")
def env():
    with running_stack(tokend_env={"TOKEND_WORKERS": "1"}) as stack:
        r = http(stack, "POST", "/v1/spaces", stack["admin"],
                 {"space": {"id": SPACE, "name": "copies"}})
        assert r.status_code == 201, r.text
        pats_settled(stack["redis"])
        # once first, so Redis holds the scripts (a first use is EVALSHA,
        # NOSCRIPT, EVAL, and keeps no copy)
        v, tid = made(stack, "storyblok")
        renamed(stack, v, tid, "warm")
        yield stack


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Writer(threading.Thread):
    """Sends one command (a format taking a counter) to Redis in a loop,
    as another writer would, until stopped; .last is its last value."""

    def __init__(self, port, make):
        super().__init__(daemon=True)
        self.port, self.make, self.stopped, self.last, self.n = port, make, False, None, 0

    def run(self):
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            f = s.makefile("rb")
            while not self.stopped and self.n < 200000:
                self.n += 1
                cmd, self.last = self.make(self.n)
                s.sendall(resp(*cmd))
                f.readline()

    def stop(self):
        self.stopped = True
        self.join(10)


def made(env, view):
    v = VIEW[view](env)
    r = v.create(env["admin"], SPACE, name="first")
    assert r.status_code in (200, 201), r.text
    return v, v.ident(v.one(r))


def key(tid):
    return f"{{s:{SPACE}}}:t:{tid}"


def renamed(env, v, tid, name):
    r = v.update(env["admin"], SPACE, tid, name=name)
    assert r.status_code == 200, r.text
    return r


@pytest.mark.parametrize("view", TOKEN_VIEWS)
def test_a_change_made_outside_is_never_written_over(env, view):
    v, tid = made(env, view)
    redis = env["redis"]
    renamed(env, v, tid, "second")         # this worker now holds its copy
    # another writer that leaves the revision alone (an operator, a script)
    redis.cli("HSET", key(tid), "d", "written outside tokend")
    cmds = monitor_commands(redis, lambda: renamed(env, v, tid, "third"))
    assert redis.cli("HGET", key(tid), "d") == "written outside tokend"
    assert redis.cli("HGET", key(tid), "n") == "third"
    # the copy was tried and found stale (the script refused it), then the
    # change was made again on Redis's record: read (HGETALL, HGET of the
    # space's min_cache), written (a management token also registers with
    # its maker, SADD, before each write, after its start)
    cmds = [c for _, c in cmds if c not in ("ping", "sadd")]
    assert cmds[-4:] == ["evalsha", "hgetall", "hget", "evalsha"], cmds


@pytest.mark.parametrize("view", TOKEN_VIEWS)
def test_a_change_by_another_worker_is_seen(env, view):
    """A copy older than Redis's revision (another worker changed the token):
    the change is made on the newer record, and says so."""
    v, tid = made(env, view)
    redis = env["redis"]
    renamed(env, v, tid, "second")
    redis.cli("EVAL", "redis.call('HSET', KEYS[1], 'n', 'by another worker') "
              "redis.call('HINCRBY', KEYS[1], 'rv', 1)", "1", key(tid))
    before = int(redis.cli("HGET", key(tid), "rv"))
    r = v.regenerate(env["admin"], SPACE, tid) if v.regenerate else \
        v.update(env["admin"], SPACE, tid, description="x")
    assert r.status_code == 200, r.text
    assert redis.cli("HGET", key(tid), "n") == "by another worker"
    assert int(redis.cli("HGET", key(tid), "rv")) == before + 1


@pytest.mark.parametrize("view", ("storyblok", "softwareone"))
def test_a_status_change_is_judged_on_redis_record_not_a_stale_copy(env, view):
    """Disabled here, enabled by another worker: the next disable here is a
    disable of an active token (200), not "only an active token can be
    disabled" judged on this worker's copy."""
    v, tid = made(env, view)
    redis = env["redis"]
    assert v.disable(env["admin"], SPACE, tid).status_code == 200
    assert redis.cli("HGET", key(tid), "s") == "d"
    redis.cli("EVAL", "redis.call('HDEL', KEYS[1], 's') redis.call('HINCRBY', KEYS[1], 'rv', 1)",
              "1", key(tid))
    r = v.disable(env["admin"], SPACE, tid)
    assert r.status_code == 200, r.text
    assert redis.cli("HGET", key(tid), "s") == "d"
    # and the refusal a disabled token earns is still given
    if view == "softwareone":
        assert v.disable(env["admin"], SPACE, tid).status_code == 400


def test_no_change_is_lost_under_a_writer_racing_it(env):
    """Writes landing between a change's script and its read back, or
    between two changes, are never written over (a copy cached after such
    a write is refused by the digest)."""
    redis = env["redis"]
    v, tid = made(env, "storyblok")
    for trial in range(8):
        renamed(env, v, tid, f"warm{trial}")
        w = Writer(redis.port, lambda i: (("HSET", key(tid), "d", f"outside-{i}"),
                                          f"outside-{i}"))
        w.start()
        for j in range(5):
            renamed(env, v, tid, f"n{trial}-{j}")
        w.stop()
        assert w.n > 0
        last = redis.cli("HGET", key(tid), "d")
        assert last == w.last
        renamed(env, v, tid, f"final{trial}")
        assert redis.cli("HGET", key(tid), "d") == last, trial
        assert redis.cli("HGET", key(tid), "n") == f"final{trial}"


def test_a_deleted_token_is_not_changed_back_to_life(env):
    v, tid = made(env, "storyblok")
    renamed(env, v, tid, "second")
    assert v.delete(env["admin"], SPACE, tid).status_code in (200, 204)
    assert v.update(env["admin"], SPACE, tid, name="again").status_code == 404
    assert v.get(env["admin"], SPACE, tid).status_code == 404


def test_after_a_stale_copy_the_token_is_read_first_for_a_while(env):
    """Another writer at the same token makes copies go stale again (each
    costing a third round trip): after one, the next changes here read the
    token first (two round trips: the start with the read, the write), then
    copies are kept again."""
    v, tid = made(env, "storyblok")
    redis = env["redis"]
    renamed(env, v, tid, "second")
    redis.cli("HSET", key(tid), "d", "outside")
    renamed(env, v, tid, "stale")          # the copy refused, made again
    shapes = []
    for i in range(12):
        cmds = monitor_commands(redis, lambda: renamed(env, v, tid, f"n{i}"))
        shapes.append(len([c for _, c in cmds if c == "evalsha"]))
    # the stale one's second try and the next 7 read first (COPY_REST = 8:
    # start + read, write), the 8th keeps a copy again, and the ones after
    # it take one script
    assert shapes == [2] * 8 + [1] * 4, shapes


@pytest.mark.parametrize("view", ("storyblok", "softwareone"))
def test_a_last_use_does_not_make_a_copy_stale_and_is_shown(env, view):
    """The fields Redis alone writes (a token's last use, its uses left) are
    never written back from a copy: their change keeps the copy good, and
    the change's answer shows them as the write found them."""
    v, tid = made(env, view)
    redis = env["redis"]
    renamed(env, v, tid, "second")
    redis.cli("HSET", key(tid), "lu", "1767225600000")     # 2026-01-01T00:00:00Z
    got = []
    cmds = monitor_commands(redis, lambda: got.append(renamed(env, v, tid, "third")))
    assert [c for _, c in cmds if c == "evalsha"] == ["evalsha"], cmds
    one = v.one(got[0])
    shown = one.get("last_used_at") or one.get("lastAccessAt")
    assert shown and shown.startswith("2026-01-01T00:00:00"), one
    assert redis.cli("HGET", key(tid), "lu") == "1767225600000"


def test_a_change_that_does_not_mint_registers_nothing_and_a_refused_one_neither(env):
    """A management token is registered with its maker when it is made its
    caller's (created, or its role or modules changed), before its write; a
    change that keeps its maker registers nothing again, and a change the
    space's bound refuses registers nothing at all."""
    redis = env["redis"]
    sid = SPACE + 1
    r = http(env, "POST", "/v1/spaces", env["admin"],
             {"space": {"id": sid, "name": "bound", "limits": {"record_bytes": 2048}}})
    assert r.status_code == 201, r.text
    v = VIEW["softwareone"](env)
    r = v.create(env["admin"], sid, name="m", modules=())
    assert r.status_code in (200, 201), r.text
    tid = v.ident(v.one(r))
    for fields, status in (({"name": "kept"}, 200), ({"description": "x" * 2400}, 400),
                           ({"description": "y" * 2400, "modules": [{"id": "MOD-1756"}]}, 400)):
        got = []
        cmds = monitor_commands(redis, lambda: got.append(
            v.update(env["admin"], sid, tid, **fields)))
        assert got[0].status_code == status, got[0].text
        assert "sadd" not in [c for _, c in cmds], (fields, cmds)
    # a change that makes it the caller's again registers it, once
    cmds = monitor_commands(redis, lambda: got.append(
        v.update(env["admin"], sid, tid, modules=[{"id": "MOD-1756"}])))
    assert got[-1].status_code == 200, got[-1].text
    assert [c for _, c in cmds].count("sadd") == 1, cmds
