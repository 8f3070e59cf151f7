"""Rotation with a grace window (Stripe's and Unkey's "roll key"): a
regenerate may keep the replaced value working for grace_seconds; during the
window both values verify (and authenticate, for a management token), after
it the old one is refused on the very next request on every worker, whatever
their verify caches hold; a second regenerate ends an open window."""
import time

import pytest
import requests

from harness import admin_with_space, running_stack

SPACE = 31


@pytest.fixture(scope="module")
def env():
    with running_stack() as stack:
        stack["s"] = admin_with_space(stack, SPACE)
        yield stack


def url(env, path=""):
    return env["nginx"].url(f"/v1/spaces/{SPACE}/api_keys{path}")


def new_key(env, **fields):
    r = env["s"].post(url(env), timeout=10, json={"api_key": dict({"access": "public"}, **fields)})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def regenerate(env, tid, body=None):
    return env["s"].post(url(env, f"/{tid}/regenerate"), json=body, timeout=10)


def verify_all(env, value, n=12):
    """Several verifies on fresh connections: nginx spreads them over both
    workers (and their caches)."""
    return {requests.get(env["nginx"].url("/v1/verify"), timeout=10, headers={
        "X-Original-URI": "/v2/cdn/stories?token=" + value}).status_code for _ in range(n)}


def epoch_ms(iso):
    base, frac = iso.rstrip("Z").split(".")
    return int(time.mktime(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) - time.timezone) * 1000 + \
        int(frac)


def test_both_values_verify_during_the_window_and_only_the_new_after(env):
    k = new_key(env)
    assert verify_all(env, k["token"]) == {200}          # both workers cache the old value
    before = int(time.time() * 1000)
    r = regenerate(env, k["id"], {"grace_seconds": 2})
    assert r.status_code == 200, r.text
    new = r.json()["api_key"]
    until = epoch_ms(new["previous_expires_at"])
    assert before + 2000 <= until <= int(time.time() * 1000) + 2000
    assert new["token"] != k["token"]
    assert verify_all(env, k["token"]) == {200}
    assert verify_all(env, new["token"]) == {200}
    # the stored record says so too
    got = env["s"].get(url(env, f"/{k['id']}"), timeout=10).json()["api_key"]
    assert got["previous_expires_at"] == new["previous_expires_at"]
    while time.time() * 1000 < until + 20:
        time.sleep(0.02)
    assert verify_all(env, k["token"], 20) == {401}
    r = requests.get(env["nginx"].url("/v1/verify"), timeout=10,
                     headers={"X-Original-URI": "/v2/cdn/stories?token=" + k["token"]})
    assert r.headers["X-Tokend-Reason"] == "regenerated"
    assert verify_all(env, new["token"]) == {200}
    assert env["s"].get(url(env, f"/{k['id']}"), timeout=10).json()["api_key"][
        "previous_expires_at"] is None


def test_without_grace_the_old_value_is_refused_at_once(env):
    k = new_key(env)
    assert verify_all(env, k["token"]) == {200}
    for body in (None, {}, {"grace_seconds": 0}, {"grace_seconds": None}):
        r = regenerate(env, k["id"], body)
        assert r.status_code == 200, r.text
        assert r.json()["api_key"]["previous_expires_at"] is None
        assert verify_all(env, k["token"]) == {401}
        k = r.json()["api_key"]


def test_a_second_regenerate_ends_the_open_window(env):
    a = new_key(env)
    b = regenerate(env, a["id"], {"grace_seconds": 600}).json()["api_key"]
    assert verify_all(env, a["token"]) == {200}
    c = regenerate(env, a["id"], {"grace_seconds": 600}).json()["api_key"]
    assert verify_all(env, a["token"]) == {401}           # its window ended at once
    assert verify_all(env, b["token"]) == {200}           # the value just replaced
    assert verify_all(env, c["token"]) == {200}
    d = regenerate(env, a["id"], {"grace_seconds": 0}).json()["api_key"]
    assert verify_all(env, b["token"]) == {401}
    assert verify_all(env, c["token"]) == {401}
    assert verify_all(env, d["token"]) == {200}


def test_the_window_is_bounded_and_checked(env):
    k = new_key(env)
    for body, status in (({"grace_seconds": -1}, 422), ({"grace_seconds": 604801}, 422),
                         ({"grace_seconds": "60"}, 422), ({"grace_seconds": 1.5}, 422),
                         ([1], 422)):
        r = regenerate(env, k["id"], body)
        assert r.status_code == status, (body, r.text)
    assert verify_all(env, k["token"], 4) == {200}           # nothing happened
    r = regenerate(env, k["id"], {"grace_seconds": 604800})
    assert r.status_code == 200, r.text


def test_the_trail_records_the_window(env):
    k = new_key(env)
    assert regenerate(env, k["id"], {"grace_seconds": 30}).status_code == 200
    acts = env["s"].get(env["nginx"].url(f"/v1/spaces/{SPACE}/activities?limit=5"),
                        timeout=10).json()["activities"]
    assert (acts[0]["action"], acts[0]["resource_id"]) == ("api_key.regenerate_with_grace",
                                                           k["id"])


def test_a_management_token_authenticates_with_either_value_in_its_window(env):
    n = env["nginx"]
    r = env["s"].post(n.url("/access_tokens"), timeout=10,
                      headers={"X-Api-Version": "3", "X-Space-Id": str(SPACE)}, json={
        "data": {"type": "access_token", "attributes": {
            "name": "m", "can_access_cda": False, "can_access_cda_preview": False,
            "can_access_cma": True},
            "relationships": {"role": {"data": {"type": "role", "id": "1"}}}}})
    assert r.status_code == 201, r.text
    tid, old = int(r.json()["data"]["id"]), r.json()["data"]["attributes"]["token"]
    new = regenerate(env, tid, {"grace_seconds": 600}).json()["api_key"]["token"]
    for value in (old, new):
        assert requests.get(url(env), headers={"Authorization": value},
                            timeout=10).status_code == 200
    regenerate(env, tid, {"grace_seconds": 0})
    assert requests.get(url(env), headers={"Authorization": old}, timeout=10).status_code == 401
