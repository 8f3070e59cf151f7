"""What a management write costs Redis: the commands each one sends
(MONITOR), so a round trip added by a change shows here, not first in a
benchmark. The caller's PAT is in the worker's PAT cache (test_pat_cache.py)
after its first calls; then a create is the id counter and one script that
takes the call's rate limits, reads the space, checks, and writes the token,
its index and its activity entry; an update is one script that takes the
same start and reads the token, and one compare-and-set script that also
writes the activity entry. One worker, so every call finds its cache."""
import pytest

from harness import admin_with_space, pats_settled, running_stack
from test_verify_cache import monitor_commands

SPACE = 77


@pytest.fixture(scope="module")
def env():
    with running_stack(tokend_env={"TOKEND_WORKERS": "1"}) as stack:
        stack["s"] = admin_with_space(stack, SPACE)
        pats_settled(stack["redis"])
        # read once more, it stays in the worker's cache
        assert stack["s"].get(stack["nginx"].url(f"/v1/spaces/{SPACE}"), timeout=10).ok
        yield stack


def commands_of(env, action):
    """The commands sent while action ran, keepalive PINGs left out."""
    return [cmd for _, cmd in monitor_commands(env["redis"], action) if cmd != "ping"]


def test_a_create_is_two_commands(env):
    n, s = env["nginx"], env["s"]
    got = []
    cmds = commands_of(env, lambda: got.append(s.post(
        n.url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10,
        json={"api_key": {"access": "public"}})))
    assert got[0].status_code == 201, got[0].text
    # the id, then one script: the limiters, the space, the checks, the
    # record, its index and the activity entry
    assert cmds == ["incr", "evalsha"], cmds


def test_an_update_is_two_commands_before_the_barrier(env):
    n, s = env["nginx"], env["s"]
    k = s.post(n.url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10,
               json={"api_key": {"access": "public"}}).json()["api_key"]
    # once first, so Redis holds the script (a first use is EVALSHA, NOSCRIPT, EVAL)
    assert s.put(n.url(f"/v1/spaces/{SPACE}/api_keys/{k['id']}"), timeout=10,
                 json={"api_key": {"name": "first"}}).status_code == 200
    got = []
    cmds = commands_of(env, lambda: got.append(s.put(
        n.url(f"/v1/spaces/{SPACE}/api_keys/{k['id']}"), timeout=10,
        json={"api_key": {"name": "renamed"}})))
    assert got[0].status_code == 200, got[0].text
    # the limiters, the space and the token in one script, then the write (a
    # worker with the verify cache then sends the write barrier's PING, left out here)
    assert cmds == ["evalsha", "evalsha"], cmds
    # and the activity entry was written by the update's script
    r = s.get(n.url(f"/v1/spaces/{SPACE}/activities"), timeout=10)
    assert r.status_code == 200, r.text
    assert (r.json()["activities"][0]["action"], r.json()["activities"][0]["resource_id"]) == \
        ("api_key.update", k["id"]), r.text[:500]
