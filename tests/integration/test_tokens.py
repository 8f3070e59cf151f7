"""The tokens core through nginx: spaces, the Storyblok api_keys API, personal
access tokens, authentication and scopes, signing, and what Redis holds."""
import base64
import concurrent.futures
import os
import re
import signal
import subprocess
import time

import pytest
import requests

from harness import DEPLOY, TOKEND_BIN, make_keyring, running_stack, settle_last_use, wait_until

NOT_FOUND = ["This record could not be found"]


@pytest.fixture(scope="module")
def env():
    with running_stack() as stack:
        yield stack


class Client:
    def __init__(self, env, token):
        self.base = env["nginx"].base
        self.s = requests.Session()
        if token is not None:
            self.s.headers["Authorization"] = token

    def call(self, method, path, body=None, **kw):
        if body is not None:
            kw["json"] = body
        return self.s.request(method, self.base + path, timeout=30, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.call("DELETE", path, body, **kw)


@pytest.fixture(scope="module")
def admin(env):
    return Client(env, env["admin"])


_next_space = [1000]


def new_space(admin, **fields):
    _next_space[0] += 1
    body = {"id": _next_space[0], "name": f"space {_next_space[0]}"}
    body.update(fields)
    r = admin.post("/v1/spaces", {"space": body})
    assert r.status_code == 201, r.text
    return r.json()["space"]["id"]


def made_keys(admin, space):
    """The space's tokens without the built-in one every space starts with."""
    keys = admin.get(f"/v1/spaces/{space}/api_keys").json()["api_keys"]
    return [k for k in keys if k["name"] != "Read-only API token"]


def new_key(admin, space, **fields):
    body = {"access": "public"}
    body.update(fields)
    r = admin.post(f"/v1/spaces/{space}/api_keys", {"api_key": body})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def make_pat(admin, **fields):
    body = {"name": "pat"}
    body.update(fields)
    r = admin.post("/v1/personal_access_tokens", {"personal_access_token": body})
    assert r.status_code == 201, r.text
    return r.json()["personal_access_token"]


def token_payload(token):
    b64 = token[7:]
    return base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))


# --- spaces ---------------------------------------------------------------

def test_space_create_get_update_list(admin):
    r = admin.post("/v1/spaces", {"space": {"id": 288868932106293, "name": "Big id", "min_cache": 30}})
    assert r.status_code == 201 and r.reason == "Created"
    sp = r.json()["space"]
    assert sp["id"] == 288868932106293 and sp["name"] == "Big id" and sp["min_cache"] == 30
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sp["created_at"])
    r = admin.put(f"/v1/spaces/{sp['id']}", {"space": {"min_cache": 90}})
    assert r.status_code == 200
    assert r.json()["space"]["min_cache"] == 90 and r.json()["space"]["name"] == "Big id"
    assert admin.get(f"/v1/spaces/{sp['id']}").json()["space"]["min_cache"] == 90
    ids = [s["id"] for s in admin.get("/v1/spaces").json()["spaces"]]
    assert sp["id"] in ids


def test_space_ids_never_collide(admin):
    chosen = new_space(admin)
    r = admin.post("/v1/spaces", {"space": {"id": chosen, "name": "again"}})
    assert r.status_code == 422
    assert r.json()["field"] == "id" and r.json()["error"] == "has already been taken"
    taken = {s["id"] for s in admin.get("/v1/spaces").json()["spaces"]}
    auto = [admin.post("/v1/spaces", {"space": {"name": f"auto{i}"}}).json()["space"]["id"]
            for i in range(3)]
    assert len(set(auto)) == 3
    assert not set(auto) & taken        # automatic ids step over caller-chosen ones


def test_ids_stay_within_what_javascript_holds(admin):
    """Ids are 1..2^53-1, so every client keeps them exact, and a chosen id
    at the top leaves automatic ids working."""
    top = 2 ** 53 - 1
    for bad in (2 ** 53, 2 ** 63 - 1, 0, -1):
        r = admin.post("/v1/spaces", {"space": {"id": bad, "name": "too big"}})
        assert r.status_code == 422 and r.json()["field"] == "id", (bad, r.text)
    r = admin.post("/v1/spaces", {"space": {"id": top, "name": "the top"}})
    assert r.status_code == 201, r.text
    assert admin.get(f"/v1/spaces/{top}").json()["space"]["id"] == top
    assert admin.get(f"/v1/spaces/{top + 1}").status_code == 404
    auto = [admin.post("/v1/spaces", {"space": {"name": f"after top {i}"}}) for i in range(2)]
    assert [r.status_code for r in auto] == [201, 201], [r.text for r in auto]
    assert all(r.json()["space"]["id"] < top for r in auto)
    assert admin.delete(f"/v1/spaces/{top}").status_code == 200
    r = admin.post("/v1/spaces", {"space": {"name": "after the top is gone"}})
    assert r.status_code == 201 and r.json()["space"]["id"] < top
    # ids inside records are bounded the same way
    sid = r.json()["space"]["id"]
    for field, value in (("story_ids", [2 ** 53]), ("release_ids", [2 ** 53]), ("branch_id", 2 ** 53)):
        r = admin.post(f"/v1/spaces/{sid}/api_keys", {"api_key": {"access": "public", field: value}})
        assert r.status_code == 422, (field, r.text)
    r = admin.post(f"/v1/spaces/{sid}/api_keys", {"api_key": {"access": "public",
                                                               "story_ids": [top]}})
    assert r.status_code == 201 and r.json()["api_key"]["story_ids"] == [top]


def test_dense_chosen_ids_move_the_counter(admin):
    """An import of spaces with their own ids, one after another, moves the
    automatic counter past them (no collision walk on the next auto id)."""
    auto = admin.post("/v1/spaces", {"space": {"name": "probe"}}).json()["space"]["id"]
    chosen = [auto + i for i in range(1, 21)]
    for cid in chosen:
        assert admin.post("/v1/spaces", {"space": {"id": cid, "name": f"i{cid}"}}).status_code == 201
    nxt = admin.post("/v1/spaces", {"space": {"name": "next"}}).json()["space"]["id"]
    assert nxt == chosen[-1] + 1


@pytest.mark.parametrize("body,field", [
    ({"space": {}}, "name"),
    ({"space": {"name": ""}}, "name"),
    ({"space": {"name": "x" * 256}}, "name"),
    ({"space": {"name": "ok", "min_cache": -1}}, "min_cache"),
    ({"space": {"name": "ok", "min_cache": "60"}}, "min_cache"),
    ({"space": {"name": "ok", "id": -5}}, "id"),
    ({"space": {"name": "ok", "id": 99999999999999999999}}, "id"),
    ({"space": "nope"}, "space"),
    ({}, "space"),
])
def test_space_validation_422(admin, body, field):
    r = admin.post("/v1/spaces", body)
    assert r.status_code == 422 and r.reason == "Unprocessable Entity"
    assert r.json()["field"] == field


def test_space_delete_deletes_its_tokens(env, admin):
    space = new_space(admin)
    for _ in range(3):
        new_key(admin, space)
    assert env["redis"].cli("EXISTS", f"{{s:{space}}}:tokens") == "1"
    r = admin.delete(f"/v1/spaces/{space}")
    assert r.status_code == 200 and r.json()["space"]["id"] == space
    # nothing but rate counters, which expire within one window by themselves
    left = env["redis"].cli("KEYS", f"{{s:{space}}}*").split()
    assert [k for k in left if ":rl:" not in k] == []
    assert admin.get(f"/v1/spaces/{space}").status_code == 404
    assert admin.get(f"/v1/spaces/{space}/api_keys").json() == NOT_FOUND
    assert space not in [s["id"] for s in admin.get("/v1/spaces").json()["spaces"]]


# --- Storyblok api_keys -----------------------------------------------------

def test_create_defaults_and_shape(admin):
    space = new_space(admin, min_cache=60)
    r = admin.post(f"/v1/spaces/{space}/api_keys", {"api_key": {"access": "public"}})
    assert r.status_code == 201 and r.reason == "Created"
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    key = r.json()["api_key"]
    assert {k: key[k] for k in ("access", "branch_id", "name", "space_id", "story_ids",
                                "min_cache", "release_ids")} == {
        "access": "public", "branch_id": None, "name": None, "space_id": space,
        "story_ids": [], "min_cache": 60, "release_ids": []}
    assert isinstance(key["id"], int) and key["id"] > 0
    assert re.fullmatch(r"td_pub_[A-Za-z0-9_-]{71}", key["token"])


@pytest.mark.parametrize("access,prefix", [("public", "td_pub_"), ("private", "td_prv_"),
                                           ("asset", "td_ast_"), ("release", "td_rel_"),
                                           ("theme", "td_thm_")])
def test_every_access_kind(admin, access, prefix):
    space = new_space(admin)
    key = new_key(admin, space, access=access, name=f"{access} key", branch_id=32198,
                  story_ids=[123, 1234], release_ids=[7], min_cache=0)
    assert key["token"].startswith(prefix)
    assert (key["access"], key["name"], key["branch_id"], key["story_ids"], key["release_ids"],
            key["min_cache"]) == (access, f"{access} key", 32198, [123, 1234], [7], 0)


@pytest.mark.parametrize("body,expected", [
    ({"api_key": {"name": "x"}}, {"access": ["can't be blank"]}),
    ({"api_key": {"access": "bogus"}}, {"access": ["is not included in the list"]}),
    ({"api_key": {"access": 5}}, {"access": ["is not included in the list"]}),
    ({"api_key": {"access": "public", "min_cache": 31536001}},
     {"min_cache": ["must be between 0 and 31536000"]}),
    ({"api_key": {"access": "public", "min_cache": "abc"}}, {"min_cache": ["is not a number"]}),
    ({"api_key": {"access": "public", "story_ids": "1,2"}}, {"story_ids": ["must be an array of ids"]}),
    ({"api_key": {"access": "public", "story_ids": [1, -2]}}, {"story_ids": ["must be an array of ids"]}),
    ({"api_key": {"access": "public", "story_ids": list(range(1, 1002))}},
     {"story_ids": ["is too long (maximum is 1000 ids)"]}),
    ({"api_key": {"access": "public", "name": "n" * 256}}, {"name": ["is too long"]}),
    ({"api_key": {"access": "public", "name": "a\u0001b"}},
     {"name": ["must not contain control characters"]}),
    ({"api_key": {"access": "public", "branch_id": 0}}, {"branch_id": ["is out of range"]}),
    ({"api_key": {"access": "public", "expires_at": "tomorrow"}},
     {"expires_at": ["must be a time like 2030-01-31T12:00:00Z"]}),
    ({"access": "public"}, {"api_key": ["can't be blank"]}),
])
def test_create_validation_is_rails_shaped(env, admin, body, expected):
    space = new_space(admin)
    before = env["redis"].cli("ZCARD", f"{{s:{space}}}:tokens")
    r = admin.post(f"/v1/spaces/{space}/api_keys", body)
    assert r.status_code == 422
    assert r.json() == expected
    assert env["redis"].cli("ZCARD", f"{{s:{space}}}:tokens") == before


def test_update_is_a_partial_merge(admin):
    space = new_space(admin)
    key = new_key(admin, space, name="keep me", story_ids=[1])
    r = admin.put(f"/v1/spaces/{space}/api_keys/{key['id']}", {"api_key": {"min_cache": 120}})
    assert r.status_code == 200
    got = r.json()["api_key"]
    assert got["min_cache"] == 120 and got["name"] == "keep me" and got["story_ids"] == [1]
    assert got["token"] == key["token"]          # an update never changes the value
    r = admin.put(f"/v1/spaces/{space}/api_keys/{key['id']}",
                  {"api_key": {"access": "private", "name": None, "story_ids": []}})
    got = r.json()["api_key"]
    assert (got["access"], got["name"], got["story_ids"]) == ("private", None, [])
    assert admin.get(f"/v1/spaces/{space}/api_keys/{key['id']}").json()["api_key"] == got
    r = admin.put(f"/v1/spaces/{space}/api_keys/{key['id']}", {"api_key": {"access": None}})
    assert r.status_code == 422 and r.json() == {"access": ["can't be blank"]}


def test_unknown_ids_are_404_arrays(admin):
    space = new_space(admin)
    for method, path in [("GET", f"/v1/spaces/{space}/api_keys/999999"),
                         ("PUT", f"/v1/spaces/{space}/api_keys/999999"),
                         ("DELETE", f"/v1/spaces/{space}/api_keys/999999"),
                         ("GET", "/v1/spaces/99999999/api_keys"),
                         ("POST", "/v1/spaces/99999999/api_keys")]:
        r = admin.call(method, path, {"api_key": {"access": "public"}})
        assert r.status_code == 404 and r.json() == NOT_FOUND, (method, path)


def test_delete_returns_the_deleted_object_and_tolerates_a_body(admin):
    space = new_space(admin)
    key = new_key(admin, space, name="bye")
    r = admin.delete(f"/v1/spaces/{space}/api_keys/{key['id']}", {})
    assert r.status_code == 200
    assert r.json()["api_key"]["id"] == key["id"] and r.json()["api_key"]["name"] == "bye"
    assert admin.get(f"/v1/spaces/{space}/api_keys/{key['id']}").status_code == 404
    assert made_keys(admin, space) == []


def test_list_all_in_id_order_with_any_query(admin):
    space = new_space(admin)
    made = [new_key(admin, space, name=str(i))["id"] for i in range(5)]
    for q in ("", "?", "?per_page=2&version=published&page=1"):
        r = admin.get(f"/v1/spaces/{space}/api_keys{q}")
        assert r.status_code == 200
        ids = [k["id"] for k in r.json()["api_keys"]]
        assert ids == sorted(ids) and ids[1:] == sorted(made)   # the built-in one comes first


def test_list_of_ten_thousand(env, admin):
    """Every token of a 10,000-token space, ordered by id, in one answer."""
    space = new_space(admin, limits={"write_rate": 1000000, "tokens": 20000})
    base = env["nginx"].base
    token = env["admin"]

    def create(chunk):
        with requests.Session() as s:
            s.headers["Authorization"] = token
            return [s.post(f"{base}/v1/spaces/{space}/api_keys", timeout=30,
                           json={"api_key": {"access": "public"}}).status_code for _ in range(chunk)]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = [c for batch in pool.map(create, [625] * 16) for c in batch]
    assert codes == [201] * 10000
    r = admin.get(f"/v1/spaces/{space}/api_keys")
    assert r.status_code == 200
    keys = r.json()["api_keys"]
    ids = [k["id"] for k in keys]
    assert len(ids) == 10001 and ids == sorted(ids)       # with the built-in token
    assert len({k["token"] for k in keys}) == 10001


# --- authentication and scopes ---------------------------------------------

def test_missing_garbage_and_delivery_tokens_are_401(env, admin):
    space = new_space(admin)
    key = new_key(admin, space)
    for auth in (None, "", "Bearer", "garbage", "td_pat_" + "A" * 71, key["token"],
                 "Bearer " + key["token"], "x" * 5000):
        c = Client(env, auth)
        r = c.get(f"/v1/spaces/{space}/api_keys")
        assert r.status_code == 401, auth
        assert r.json() == {"error": "Unauthorized"}


def test_bearer_and_raw_forms(env):
    raw = Client(env, env["admin"]).get("/v1/spaces")
    bearer = Client(env, "Bearer " + env["admin"]).get("/v1/spaces")
    lower = Client(env, "bearer  " + env["admin"]).get("/v1/spaces")
    assert raw.status_code == bearer.status_code == lower.status_code == 200


def commands_executed(redis):
    stats = redis.cli("INFO", "commandstats")
    # INFO is ours; PING is each worker's keepalive on its invalidation
    # connection (every 250 ms), no request's doing
    return sum(int(m.group(2)) for m in re.finditer(r"cmdstat_(\w+):calls=(\d+)", stats)
               if m.group(1) not in ("info", "ping"))


def test_forged_token_is_refused_before_any_redis_io(env, admin):
    pat = env["admin"]
    forged = pat[:-5] + ("AAAAA" if not pat.endswith("AAAAA") else "BBBBB")
    tampered_id = bytearray(token_payload(pat))
    tampered_id[20] ^= 1      # another PAT id, same tag
    tampered = pat[:7] + base64.urlsafe_b64encode(bytes(tampered_id)).decode().rstrip("=")
    client = Client(env, None)
    settle_last_use()
    for bad in (forged, tampered, "td_pat_" + "A" * 71):
        before = commands_executed(env["redis"])
        r = client.get("/v1/spaces", headers={"Authorization": bad})
        assert r.status_code == 401
        assert commands_executed(env["redis"]) == before, bad
    # control: a valid token does reach Redis
    before = commands_executed(env["redis"])
    assert admin.get("/v1/spaces").status_code == 200
    assert commands_executed(env["redis"]) > before


def test_space_bound_pat_cannot_touch_another_space(env, admin):
    a, b = new_space(admin), new_space(admin)
    key_b = new_key(admin, b)
    pat = make_pat(admin, spaces=[a], scopes={"spaces": "read", "access_tokens": "write"})
    c = Client(env, pat["token"])
    assert c.get(f"/v1/spaces/{a}/api_keys").status_code == 200
    assert c.post(f"/v1/spaces/{a}/api_keys", {"api_key": {"access": "public"}}).status_code == 201
    for method, path in [("GET", f"/v1/spaces/{b}/api_keys"),
                         ("POST", f"/v1/spaces/{b}/api_keys"),
                         ("PUT", f"/v1/spaces/{b}/api_keys/{key_b['id']}"),
                         ("DELETE", f"/v1/spaces/{b}/api_keys/{key_b['id']}"),
                         ("GET", f"/v1/spaces/{b}"),
                         ("GET", "/v1/spaces/424242424242/api_keys")]:
        r = c.call(method, path, {"api_key": {"access": "private"}})
        assert r.status_code == 403, (method, path)
    assert admin.get(f"/v1/spaces/{b}/api_keys/{key_b['id']}").json()["api_key"]["access"] == "public"
    assert [s["id"] for s in c.get("/v1/spaces").json()["spaces"]] == [a]
    assert c.post("/v1/spaces", {"space": {"name": "mine"}}).status_code == 403


def test_scopes_are_enforced(env, admin):
    space = new_space(admin)
    reader = Client(env, make_pat(admin, spaces="all", scopes={"access_tokens": "read"})["token"])
    assert reader.get(f"/v1/spaces/{space}/api_keys").status_code == 200
    assert reader.post(f"/v1/spaces/{space}/api_keys",
                       {"api_key": {"access": "public"}}).status_code == 403
    assert reader.get("/v1/spaces").status_code == 403
    assert reader.get("/v1/personal_access_tokens").status_code == 403


def test_pat_value_shown_once_and_never_stored(env, admin):
    pat = make_pat(admin, spaces="all", scopes={"spaces": "read"})
    assert re.fullmatch(r"td_pat_[A-Za-z0-9_-]{71}", pat["token"])
    listed = [p for p in admin.get("/v1/personal_access_tokens").json()["personal_access_tokens"]
              if p["id"] == pat["id"]]
    assert listed and "token" not in listed[0]
    one = admin.get(f"/v1/personal_access_tokens/{pat['id']}").json()["personal_access_token"]
    assert "token" not in one
    assert one["scopes"] == {"spaces": "read"} and one["spaces"] == "all"
    assert one["created_by"] == "pat:1"


def test_pat_cannot_grant_more_than_it_holds(env, admin):
    space = new_space(admin)
    limited = Client(env, make_pat(admin, spaces=[space], scopes={
        "personal_access_tokens": "write", "access_tokens": "read"})["token"])
    for body in ({"name": "x", "full_permission": True},
                 {"name": "x", "spaces": "all", "scopes": {"access_tokens": "read"}},
                 {"name": "x", "spaces": [space], "scopes": {"access_tokens": "write"}},
                 {"name": "x", "spaces": [space + 1], "scopes": {"access_tokens": "read"}}):
        r = limited.post("/v1/personal_access_tokens", {"personal_access_token": body})
        assert r.status_code == 403, body
    ok = limited.post("/v1/personal_access_tokens", {"personal_access_token": {
        "name": "narrower", "spaces": [space], "scopes": {"access_tokens": "read"}}})
    assert ok.status_code == 201


@pytest.mark.parametrize("body,field", [
    ({"name": ""}, "name"),
    ({"name": "x", "spaces": "all"}, "scopes"),
    ({"name": "x", "spaces": "all", "scopes": {}}, "scopes"),
    ({"name": "x", "spaces": "all", "scopes": {"stories": "read"}}, "scopes"),
    ({"name": "x", "spaces": "all", "scopes": {"spaces": "admin"}}, "scopes"),
    ({"name": "x", "spaces": [], "scopes": {"spaces": "read"}}, "spaces"),
    ({"name": "x", "spaces": "some", "scopes": {"spaces": "read"}}, "spaces"),
    ({"name": "x", "full_permission": "yes"}, "full_permission"),
    ({"name": "x", "full_permission": True, "expires_at": "soon"}, "expires_at"),
])
def test_pat_validation(admin, body, field):
    r = admin.post("/v1/personal_access_tokens", {"personal_access_token": body})
    assert r.status_code == 422 and r.json()["field"] == field


def test_revoked_and_expired_pats_are_401(env, admin):
    pat = make_pat(admin, spaces="all", scopes={"spaces": "read"})
    c = Client(env, pat["token"])
    assert c.get("/v1/spaces").status_code == 200
    r = admin.delete(f"/v1/personal_access_tokens/{pat['id']}")
    assert r.status_code == 200 and "token" not in r.json()["personal_access_token"]
    assert c.get("/v1/spaces").status_code == 401
    assert admin.get(f"/v1/personal_access_tokens/{pat['id']}").status_code == 404
    past = make_pat(admin, spaces="all", scopes={"spaces": "read"},
                    expires_at="2001-01-01T00:00:00Z")
    assert Client(env, past["token"]).get("/v1/spaces").status_code == 401
    future = make_pat(admin, spaces="all", scopes={"spaces": "read"},
                      expires_at="2099-01-01T00:00:00.000Z")
    assert Client(env, future["token"]).get("/v1/spaces").status_code == 200


DUMP_ALL = """
local out, cursor = {}, "0"
repeat
  local r = redis.call('SCAN', cursor, 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    out[#out + 1] = k
    local t = redis.call('TYPE', k).ok
    if t == 'hash' then
      -- but "lu", the last use a worker writes after answering a call
      local h = redis.call('HGETALL', k)
      for i = 1, #h, 2 do
        if h[i] ~= 'lu' then out[#out + 1] = h[i]; out[#out + 1] = h[i + 1] end
      end
    elseif t == 'zset' then
      for _, v in ipairs(redis.call('ZRANGE', k, 0, -1)) do out[#out + 1] = v end
    elseif t == 'string' then
      out[#out + 1] = redis.call('GET', k)
    end
  end
until cursor == "0"
return table.concat(out, "\\n")
"""


def test_redis_holds_no_usable_token(env, admin):
    """Scan every key and value: no token string, no token payload, no PAT
    secret in any encoding."""
    space = new_space(admin)
    keys = [new_key(admin, space, access=a) for a in ("public", "private", "asset")]
    pats = [make_pat(admin, spaces=[space], scopes={"access_tokens": "read"}) for _ in range(2)]
    r = env["redis"]
    text = r.cli("EVAL", DUMP_ALL, "0")
    assert f"{{s:{space}}}:space" in text           # the dump did see the data
    # the persistence files on disk too (what a stolen backup holds)
    for root, _, files in os.walk(r.dir):
        for name in files:
            if "appendonly" in name or name.endswith(".rdb"):
                text += open(os.path.join(root, name), "rb").read().decode("latin-1")
    forbidden = []
    for k in keys:
        forbidden += [k["token"], k["token"][7:], k["token"][7:40]]
    for p in pats:
        secret = token_payload(p["token"])[21:37]
        forbidden += [p["token"], p["token"][7:], secret.hex(),
                      base64.b64encode(secret).decode().rstrip("="),
                      base64.urlsafe_b64encode(secret).decode().rstrip("=")]
    leaks = [f for f in forbidden if f in text]
    assert not leaks
    # and the key material is not there either
    key_b64 = open(make_keyring(env["dir"])).read().split()[1]
    assert key_b64 not in text


def test_key_rotation_and_revocation_by_dropping_a_key(env, admin):
    ring = make_keyring(env["dir"])
    space = new_space(admin)
    old_key = new_key(admin, space)
    assert int.from_bytes(token_payload(old_key["token"])[1:5], "big") == 1
    subprocess.run([TOKEND_BIN, "keys", "generate"], check=True, capture_output=True,
                   env=dict(os.environ, TOKEND_KEYRING_FILE=ring,
                            TOKEND_CONFIG=os.path.join(DEPLOY, "tokend.conf")))
    env["tokend"].signal(signal.SIGHUP)

    def signed_by_2():
        k = new_key(admin, space)
        return int.from_bytes(token_payload(k["token"])[1:5], "big") == 2

    wait_until(signed_by_2, what="the new key to sign")
    # key 1 still verifies: the admin PAT (signed by 1) keeps working
    listed = {k["id"]: k["token"] for k in admin.get(f"/v1/spaces/{space}/api_keys").json()["api_keys"]}
    assert listed[old_key["id"]] == old_key["token"]
    new_pat = make_pat(admin, full_permission=True)
    # drop key 1: everything it signed is revoked at once
    lines = open(ring).read().splitlines()
    with open(ring, "w") as f:
        f.write("\n".join(l for l in lines if not l.startswith("1 ")) + "\n")
    t = env["tokend"]
    done = lambda pid: t.log_text().count(  # noqa: E731  (its reloads so far)
        f"tokend[{pid}] worker info reload: configuration reloaded")
    reloads = {pid: done(pid) for pid in t.workers()}
    env["tokend"].signal(signal.SIGHUP)
    wait_until(lambda: admin.get("/v1/spaces").status_code == 401, what="key 1 to be dropped")
    # by every management worker, not only the one that answered (a busy
    # machine can hold another's SIGHUP back for a while)
    wait_until(lambda: all(done(pid) > n for pid, n in reloads.items()),
               what="every worker's reload")
    c2 = Client(env, new_pat["token"])
    assert c2.get("/v1/spaces").status_code == 200
    listed = {k["id"]: k["token"] for k in c2.get(f"/v1/spaces/{space}/api_keys").json()["api_keys"]}
    assert listed[old_key["id"]] is None
    env["admin"] = new_pat["token"]
    admin.s.headers["Authorization"] = new_pat["token"]


def test_scripts_survive_a_flushed_script_cache(env, admin):
    """Scripts run by SHA; after SCRIPT FLUSH (or a Redis restart) the store
    re-sends them and the write still happens, once."""
    space = new_space(admin)
    assert env["redis"].cli("SCRIPT", "FLUSH") == "OK"
    key = new_key(admin, space, name="after flush")
    assert made_keys(admin, space) == [key]
    assert env["redis"].cli("SCRIPT", "FLUSH") == "OK"
    assert admin.delete(f"/v1/spaces/{space}/api_keys/{key['id']}").status_code == 200
    assert made_keys(admin, space) == []


def test_every_space_has_a_built_in_token(env, admin):
    space = new_space(admin)
    keys = admin.get(f"/v1/spaces/{space}/api_keys").json()["api_keys"]
    assert len(keys) == 1 and keys[0]["name"] == "Read-only API token"
    assert keys[0]["access"] == "private" and keys[0]["token"].startswith("td_prv_")
    r = admin.put(f"/v1/spaces/{space}/api_keys/{keys[0]['id']}", {"api_key": {"name": "x"}})
    assert r.status_code == 422 and r.json() == {"api_key": ["is a built-in token and cannot be edited"]}
    r = admin.post(f"/v1/spaces/{space}/api_keys/{keys[0]['id']}/regenerate")
    assert r.status_code == 200 and r.json()["api_key"]["token"] != keys[0]["token"]
    assert admin.delete(f"/v1/spaces/{space}/api_keys/{keys[0]['id']}").status_code == 200
