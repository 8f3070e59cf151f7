"""What a management write costs Redis: the commands each one sends
(MONITOR), so a round trip added by a change shows here, not first in a
benchmark. The caller's PAT is in the worker's PAT cache (test_pat_cache.py)
after its first calls; then a create is one script that takes the call's
rate limits, reads the space, checks, takes the token's id from the sequence
and writes the token, its index and its activity entry; an update is one script that takes the
same start and reads the token, and one compare-and-set script that also
writes the activity entry and returns the record as written; a later change
of the same token on that worker starts from that copy (checked whole by the
write: test_token_copies.py): one script. One worker, so every call finds
its cache."""
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


def test_a_create_is_one_command(env):
    n, s = env["nginx"], env["s"]
    got = []
    cmds = commands_of(env, lambda: got.append(s.post(
        n.url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10,
        json={"api_key": {"access": "public"}})))
    assert got[0].status_code == 201, got[0].text
    # one script: the limiters, the space, the checks, the id, the record,
    # its index and the activity entry
    assert cmds == ["evalsha"], cmds


def test_a_refused_create_takes_no_id(env):
    """The id is taken inside the script once every check passed: refused
    creates (no such space, over the space's size bound) leave no gap."""
    n, s = env["nginx"], env["s"]
    url = n.url(f"/v1/spaces/{SPACE}/api_keys")
    first = s.post(url, timeout=10, json={"api_key": {"access": "public"}})
    assert first.status_code == 201, first.text
    assert s.post(n.url("/v1/spaces/987654/api_keys"), timeout=10,
                  json={"api_key": {"access": "public"}}).status_code == 404
    too_large = s.post(url, timeout=10, json={"api_key": {
        "access": "public", "story_ids": [2 ** 53 - 1 - i for i in range(1000)]}})
    assert too_large.status_code == 422 and "too large" in too_large.text, too_large.text
    second = s.post(url, timeout=10, json={"api_key": {"access": "public"}})
    assert second.status_code == 201, second.text
    assert second.json()["api_key"]["id"] == first.json()["api_key"]["id"] + 1


def test_an_update_is_one_script_then_one_round_trip(env):
    n, s = env["nginx"], env["s"]
    warm, k = (s.post(n.url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10,
                      json={"api_key": {"access": "public"}}).json()["api_key"] for _ in range(2))
    # once first, so Redis holds the script (a first use is EVALSHA, NOSCRIPT, EVAL)
    assert s.put(n.url(f"/v1/spaces/{SPACE}/api_keys/{warm['id']}"), timeout=10,
                 json={"api_key": {"name": "warm"}}).status_code == 200
    url = n.url(f"/v1/spaces/{SPACE}/api_keys/{k['id']}")
    got = []
    # the first change: the start with the token's read, then the write (a
    # worker with the verify cache then sends the write barrier's PING,
    # left out here)
    cmds = commands_of(env, lambda: got.append(s.put(
        url, timeout=10, json={"api_key": {"name": "first"}})))
    assert got[0].status_code == 200, got[0].text
    assert cmds == ["evalsha", "evalsha"], cmds
    # every change after it on this worker: one script (the start, the
    # space, the compare-and-set against the copy, the activity entry, the
    # record as written): one round trip
    for body, action in (({"api_key": {"name": "renamed"}}, "update"),
                         ({"api_key": {"name": "again"}}, "update")):
        cmds = commands_of(env, lambda: got.append(s.put(url, timeout=10, json=body)))
        assert got[-1].status_code == 200 and got[-1].json()["api_key"]["name"] == \
            body["api_key"]["name"], got[-1].text
        assert cmds == ["evalsha"], cmds
        r = s.get(n.url(f"/v1/spaces/{SPACE}/activities"), timeout=10)
        assert r.status_code == 200, r.text
        assert (r.json()["activities"][0]["action"], r.json()["activities"][0]["resource_id"]) \
            == ("api_key." + action, k["id"]), r.text[:500]
    # a regenerate, too
    cmds = commands_of(env, lambda: got.append(s.post(url + "/regenerate", timeout=10)))
    assert got[-1].status_code == 200, got[-1].text
    assert cmds == ["evalsha"], cmds
