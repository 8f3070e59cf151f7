"""Last use: every token and PAT records when it was last accepted (verify
and management auth), as last_used_at (Storyblok, admin) and lastAccessAt
(SoftwareOne, filterable with RQL). Workers note uses in memory and write a
credential's time at most once per last_used_interval, after answering."""
import time

import pytest
import requests

from harness import admin_with_space, running_stack

SPACE = 51
SWO = "/public/v1/accounts/api-tokens"


@pytest.fixture(scope="module")
def env():
    with running_stack(tokend_env={"TOKEND_LAST_USED_INTERVAL": "1"}) as stack:
        stack["s"] = admin_with_space(stack, SPACE)
        yield stack


def url(env, path=""):
    return env["nginx"].url(f"/v1/spaces/{SPACE}/api_keys{path}")


def new_key(env):
    r = env["s"].post(url(env), timeout=10, json={"api_key": {"access": "public"}})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def verify(env, value):
    return requests.get(env["nginx"].url("/v1/verify"), timeout=10, headers={
        "X-Original-URI": "/v2/cdn/stories?token=" + value}).status_code


def ms(iso):
    if iso is None:
        return None
    base, frac = iso.rstrip("Z").split(".")
    return int(time.mktime(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) - time.timezone) * 1000 + \
        int(frac)


def last_used(env, tid):
    return ms(env["s"].get(url(env, f"/{tid}"), timeout=10).json()["api_key"]["last_used_at"])


def eventually(fn, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    return fn()


def test_a_verify_is_recorded_soon_after(env):
    k = new_key(env)
    assert k["last_used_at"] is None
    t0 = int(time.time() * 1000)
    assert verify(env, k["token"]) == 200
    t1 = int(time.time() * 1000)
    got = eventually(lambda: last_used(env, k["id"]))
    assert got is not None and t0 - 5 <= got <= t1 + 5, (t0, got, t1)
    # a refused verify is no use
    before = last_used(env, k["id"])
    requests.get(env["nginx"].url("/v1/verify"), timeout=10, headers={
        "X-Original-URI": "/v2/cdn/stories?version=draft&token=" + k["token"]})
    time.sleep(1.5)
    assert last_used(env, k["id"]) == before
    # a later use, past the interval, moves it
    time.sleep(1.1)
    assert verify(env, k["token"]) == 200
    assert eventually(lambda: (last_used(env, k["id"]) or 0) > before)


def test_writes_never_lose_or_resurrect(env):
    k = new_key(env)
    assert verify(env, k["token"]) == 200
    got = eventually(lambda: last_used(env, k["id"]))
    # a rename (a compare-and-set write of the whole record) keeps it
    assert env["s"].put(url(env, f"/{k['id']}"), timeout=10,
                        json={"api_key": {"name": "renamed"}}).status_code == 200
    assert last_used(env, k["id"]) == got
    # a use just before a delete never brings the record back
    gone = new_key(env)
    assert verify(env, gone["token"]) == 200
    assert env["s"].delete(url(env, f"/{gone['id']}"), timeout=10).status_code == 200
    time.sleep(1.5)
    assert env["redis"].cli("EXISTS", f"{{s:{SPACE}}}:t:{gone['id']}") == "0"


def test_management_auth_is_a_use_and_softwareone_filters_on_it(env):
    n = env["nginx"]
    p = env["s"].post(n.url("/v1/personal_access_tokens"), timeout=10, json={
        "personal_access_token": {"name": "u", "spaces": [SPACE], "scopes": {
            "access_tokens": "write", "spaces": "read"}}}).json()["personal_access_token"]
    assert p["last_used_at"] is None
    h = {"Authorization": p["token"], "X-Space-Id": str(SPACE)}
    used = requests.post(n.url(SWO), headers=h, timeout=10,
                         json={"name": "used", "modules": [{"id": "MOD-1756"}]}).json()
    idle = requests.post(n.url(SWO), headers=h, timeout=10,
                         json={"name": "idle", "modules": []}).json()
    pat_lu = eventually(lambda: env["s"].get(n.url(f"/v1/personal_access_tokens/{p['id']}"),
                                             timeout=10).json()["personal_access_token"][
        "last_used_at"])
    assert pat_lu is not None
    # the SoftwareOne token authenticates a call: a use
    assert requests.get(n.url(SWO), headers={"Authorization": used["token"]},
                        timeout=10).status_code == 200

    def listed(q):
        r = requests.get(n.url(SWO) + "?" + q, headers=h, timeout=10)
        assert r.status_code == 200, r.text
        return {x["name"] for x in r.json()["data"]}

    assert eventually(lambda: "used" in listed("ne(lastAccessAt,null())"))
    assert "idle" in listed("eq(lastAccessAt,null())")
    assert "idle" not in listed("ne(lastAccessAt,null())")
    one = requests.get(n.url(f"{SWO}/{used['id']}"), headers=h, timeout=10).json()
    assert one["lastAccessAt"].endswith("Z")
    assert "lastAccessAt" not in requests.get(n.url(f"{SWO}/{idle['id']}"), headers=h,
                                              timeout=10).json()
