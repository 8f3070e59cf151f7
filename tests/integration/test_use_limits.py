"""Use limits (Vault's num_uses, Unkey's remaining): a token with max_uses
pays one use per accepted verify, counted atomically in Redis, so concurrent
verifies on both workers never pass more than max_uses; at zero it is
refused 403 uses_exhausted; changing max_uses starts the count again."""
import concurrent.futures

import pytest
import requests

from harness import admin_with_space, running_stack

SPACE = 41


@pytest.fixture(scope="module")
def env():
    with running_stack() as stack:
        stack["s"] = admin_with_space(stack, SPACE, rate_limit=1000000,
                                      limits={"write_rate": 1000000})
        yield stack


def url(env, path=""):
    return env["nginx"].url(f"/v1/spaces/{SPACE}/api_keys{path}")


def new_key(env, **fields):
    r = env["s"].post(url(env), timeout=10, json={"api_key": dict({"access": "public"}, **fields)})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def verify(env, value, session=None):
    r = (session or requests).get(env["nginx"].url("/v1/verify"), timeout=10, headers={
        "X-Original-URI": "/v2/cdn/stories?token=" + value})
    return r.status_code, r.headers.get("X-Tokend-Reason")


def key_of(env, tid):
    return env["s"].get(url(env, f"/{tid}"), timeout=10).json()["api_key"]


def test_uses_run_out(env):
    k = new_key(env, max_uses=5)
    assert (k["max_uses"], k["remaining_uses"]) == (5, 5)
    assert [verify(env, k["token"])[0] for _ in range(5)] == [200] * 5
    assert verify(env, k["token"]) == (403, "uses_exhausted")
    assert key_of(env, k["id"])["remaining_uses"] == 0
    # a refusal for another reason takes no use
    k2 = new_key(env, max_uses=2, story_ids=[7])
    r = requests.get(env["nginx"].url("/v1/verify"), timeout=10, headers={
        "X-Original-URI": "/v2/cdn/stories/8?token=" + k2["token"]})
    assert r.status_code == 403 and r.headers["X-Tokend-Reason"] == "story_not_allowed"
    assert key_of(env, k2["id"])["remaining_uses"] == 2


def test_concurrent_verifies_never_pass_more_than_max_uses(env):
    k = new_key(env, max_uses=40)

    def burst(_):
        with requests.Session() as s:
            return [verify(env, k["token"], s)[0] for _ in range(15)]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = [c for got in pool.map(burst, range(8)) for c in got]
    assert codes.count(200) == 40, codes.count(200)
    assert codes.count(403) == 120 - 40
    assert key_of(env, k["id"])["remaining_uses"] == 0


def test_changing_max_uses_starts_again_and_other_edits_do_not(env):
    k = new_key(env, max_uses=3)
    assert verify(env, k["token"])[0] == 200
    r = env["s"].put(url(env, f"/{k['id']}"), timeout=10, json={"api_key": {"name": "renamed"}})
    assert r.status_code == 200 and r.json()["api_key"]["remaining_uses"] == 2
    assert [verify(env, k["token"])[0] for _ in range(3)] == [200, 200, 403]
    r = env["s"].put(url(env, f"/{k['id']}"), timeout=10, json={"api_key": {"max_uses": 4}})
    assert r.status_code == 200 and r.json()["api_key"]["remaining_uses"] == 4
    assert [verify(env, k["token"])[0] for _ in range(5)] == [200] * 4 + [403]
    r = env["s"].put(url(env, f"/{k['id']}"), timeout=10, json={"api_key": {"max_uses": None}})
    assert r.status_code == 200
    assert (r.json()["api_key"]["max_uses"], r.json()["api_key"]["remaining_uses"]) == (None, None)
    assert [verify(env, k["token"])[0] for _ in range(3)] == [200] * 3


def test_max_uses_is_checked(env):
    for bad in (0, -1, "5", 1.5, 10 ** 10):
        r = env["s"].post(url(env), timeout=10,
                          json={"api_key": {"access": "public", "max_uses": bad}})
        assert r.status_code == 422, (bad, r.text)
    assert new_key(env)["max_uses"] is None
