"""Every rule decided once, seen the same way through every view.

tokend serves the same tokens through three dialects (Storyblok api_keys,
DatoCMS access_tokens, SoftwareOne api-tokens) plus its own admin routes.
Each rule below is run through every view it applies to, through small
per-view adapters (create/list/get/update/delete/disable/regenerate in the
view's own shape, and `value()` for the token value a view shows), so a rule
that holds in one dialect and not in another fails in that dialect's case.

The core raises one error; each view renders it (see `refused`):

    kind             storyblok          datocms                          softwareone   admin
    unauthenticated  401                401                              401           401
    forbidden        403 {"error"}      403 INSUFFICIENT_PERMISSIONS     403 problem   403 forbidden
    invalid field    422 {"f":["m"]}    422 INVALID_FIELD/_ATTRIBUTES    400 errors.f  422 field f
    built-in edit    422                422 NON_EDITABLE_ACCESS_TOKEN    400           -
    self             422                422 CANNOT_DESTROY_CURRENT_USER  400           422
    not found        404 [..]           404 NOT_FOUND                    404 problem   404

Every refused call is also checked to have changed nothing: the space's
records in Redis (rate-limit counters aside) and the admin's view of them.
One stack serves the module (each test makes its own spaces); the Redis
fault test has its own.
"""
import calendar
import contextlib
import itertools
import re
import time

import pytest
import requests

from harness import running_stack

NOT_FOUND = ["This record could not be found"]
BUILTIN_NAME = "Read-only API token"
MOD_ACCESS = "MOD-1756"          # Access Management: read and write the account's tokens
TOKEN_VIEWS = ("storyblok", "datocms", "softwareone")


@pytest.fixture(scope="module")
def env():
    with running_stack() as stack:
        yield stack


# --- small helpers ----------------------------------------------------------

_space_ids = itertools.count(64001)


def http(env, method, path, cred=None, body=None, headers=None):
    h = dict(headers or {})
    if cred is not None:
        h["Authorization"] = "Bearer " + cred
    return requests.request(method, env["nginx"].url(path), json=body, headers=h, timeout=10)


def new_space(env):
    sid = next(_space_ids)
    r = http(env, "POST", "/v1/spaces", env["admin"], {"space": {"id": sid, "name": f"s{sid}"}})
    assert r.status_code == 201, r.text
    return sid


def make_pat(env, cred, **fields):
    """POST /v1/personal_access_tokens as cred; the raw response."""
    body = {"name": "pat"}
    body.update(fields)
    return http(env, "POST", "/v1/personal_access_tokens", cred, {"personal_access_token": body})


def pat(env, cred=None, **fields):
    """A PAT made by cred (the admin by default): its object, token included."""
    r = make_pat(env, cred or env["admin"], **fields)
    assert r.status_code == 201, r.text
    return r.json()["personal_access_token"]


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def epoch(s):
    """An API time (…Z, with or without .sss) as whole unix seconds."""
    assert isinstance(s, str), s
    return calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))


def tkn(tid):
    return "TKN-%04d-%04d" % (tid // 10000, tid % 10000)


def admin_key(env, space, tid):
    """The admin's Storyblok read of one token (the reference view)."""
    return http(env, "GET", f"/v1/spaces/{space}/api_keys/{tid}", env["admin"])


def builtin_token(env, space):
    """The space's built-in "Read-only API token", value included, as the admin lists it."""
    r = http(env, "GET", f"/v1/spaces/{space}/api_keys", env["admin"])
    assert r.status_code == 200, r.text
    found = [k for k in r.json()["api_keys"] if k["name"] == BUILTIN_NAME]
    assert len(found) == 1 and found[0]["token"], r.text
    return found[0]


def delivery_token(env, space, cred=None, name="d"):
    r = http(env, "POST", f"/v1/spaces/{space}/api_keys", cred or env["admin"],
             {"api_key": {"access": "public", "name": name}})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def dato_manager(env, space, cred=None, role="1", name="m", send_space=True):
    """A management token made through DatoCMS (can_access_cma, role): (id, value)."""
    r = VIEW["datocms"](env).create(cred or env["admin"], space if send_space else None,
                                    name=name, cma=True, role=role)
    assert r.status_code == 201, r.text
    d = r.json()["data"]
    return int(d["id"]), d["attributes"]["token"]


def swo_manager(env, space, cred=None, name="w"):
    """A SoftwareOne token with Access Management: (id, value)."""
    r = VIEW["softwareone"](env).create(cred or env["admin"], space, name=name)
    assert r.status_code == 201, r.text
    o = r.json()
    return int(o["id"][4:8] + o["id"][9:]), o["token"]


def verifies(env, value):
    r = requests.get(env["nginx"].url("/v1/verify"), timeout=10,
                     headers={"X-Token": value, "X-Original-URI": "/v2/cdn/stories/1"})
    return r.status_code


# --- what must not change when a call is refused -----------------------------

DUMP = """
local out = {}
local keys = redis.call('KEYS', ARGV[1])
table.sort(keys)
for _, k in ipairs(keys) do
  if not string.find(k, ':rl:', 1, true) and string.sub(k, 1, 4) ~= '{rl:' then
    local t = redis.call('TYPE', k).ok
    local line = k .. ' ' .. t
    if t == 'hash' then
      local h, kv = redis.call('HGETALL', k), {}
      -- but "lu", the last use a worker writes after answering a call
      for i = 1, #h, 2 do
        if h[i] ~= 'lu' then kv[#kv + 1] = h[i] .. '=' .. h[i + 1] end
      end
      table.sort(kv)
      line = line .. ' ' .. table.concat(kv, ' ')
    elseif t == 'zset' then
      line = line .. ' ' .. table.concat(redis.call('ZRANGE', k, 0, -1, 'WITHSCORES'), ' ')
    elseif t == 'set' then
      local m = redis.call('SMEMBERS', k)
      table.sort(m)
      line = line .. ' ' .. table.concat(m, ' ')
    elseif t == 'list' then
      line = line .. ' ' .. table.concat(redis.call('LRANGE', k, 0, -1), ' ')
    elseif t == 'string' then
      line = line .. ' ' .. redis.call('GET', k)
    elseif t == 'stream' then
      line = line .. ' ' .. redis.call('XLEN', k)
    end
    out[#out + 1] = line
  end
end
return out
"""


def redis_state(env, pattern):
    return env["redis"].cli("EVAL", DUMP, "0", pattern)


def without_last_use(view):
    """A view without last_used_at: a credential refused by a rule was still
    accepted, and its use is noted (after the answer, by its worker)."""
    if isinstance(view, dict):
        return {k: without_last_use(v) for k, v in view.items() if k != "last_used_at"}
    if isinstance(view, list):
        return [without_last_use(v) for v in view]
    return view


@contextlib.contextmanager
def unchanged(env, space):
    """The space's records in Redis and the admin's list of its tokens are the
    same after the block as before it."""
    def state():
        r = http(env, "GET", f"/v1/spaces/{space}/api_keys", env["admin"])
        assert r.status_code == 200, r.text
        return redis_state(env, f"{{s:{space}}}:*"), without_last_use(r.json())

    before = state()
    yield
    after = state()
    assert after[0] == before[0], "Redis changed under a refused call"
    assert after[1] == before[1], "the admin's view changed under a refused call"


@contextlib.contextmanager
def pats_unchanged(env):
    """No PAT made, changed or revoked by the block."""
    def state():
        r = http(env, "GET", "/v1/personal_access_tokens", env["admin"])
        assert r.status_code == 200, r.text
        return redis_state(env, "{pats}:*"), without_last_use(r.json())

    before = state()
    yield
    after = state()
    assert after[0] == before[0], "PAT records in Redis changed under a refused call"
    assert after[1] == before[1], "the admin's PAT list changed under a refused call"


# --- the views ----------------------------------------------------------------

class View:
    name = ""

    def __init__(self, env):
        self.env = env

    def call(self, method, path, cred, body=None, headers=None):
        return http(self.env, method, path, cred, body, headers)


class Storyblok(View):
    """/v1/spaces/{space}/api_keys; the space is in the path."""
    name = "storyblok"

    def path(self, space, tid=None, tail=""):
        p = f"/v1/spaces/{space}/api_keys"
        return p + (f"/{tid}" if tid is not None else "") + tail

    def create(self, cred, space, name="t", **fields):
        body = {"access": "public", "name": name}
        body.update(fields)
        return self.call("POST", self.path(space), cred, {"api_key": body})

    def list(self, cred, space):
        return self.call("GET", self.path(space), cred)

    def get(self, cred, space, tid):
        return self.call("GET", self.path(space, tid), cred)

    def update(self, cred, space, tid, **fields):
        return self.call("PUT", self.path(space, tid), cred, {"api_key": fields})

    def delete(self, cred, space, tid):
        return self.call("DELETE", self.path(space, tid), cred)

    def disable(self, cred, space, tid):
        return self.update(cred, space, tid, status="disabled")

    def enable(self, cred, space, tid):
        return self.update(cred, space, tid, status="active")

    def regenerate(self, cred, space, tid):
        return self.call("POST", self.path(space, tid, "/regenerate"), cred)

    def items(self, r):
        return r.json()["api_keys"]

    def one(self, r):
        return r.json()["api_key"]

    def value(self, o):
        return o["token"]

    def ident(self, o):
        return o["id"]


class DatoCMS(View):
    """/access_tokens; the space is X-Space-Id (None: no header)."""
    name = "datocms"

    def headers(self, space):
        h = {"X-Api-Version": "3"}
        if space is not None:
            h["X-Space-Id"] = str(space)
        return h

    def create(self, cred, space, name="t", cma=False, role="2", preview=False):
        doc = {"data": {"type": "access_token",
                        "attributes": {"name": name, "can_access_cda": True,
                                       "can_access_cda_preview": preview, "can_access_cma": cma},
                        "relationships": {"role": {"data": {"type": "role", "id": role}}}}}
        return self.call("POST", "/access_tokens", cred, doc, self.headers(space))

    def list(self, cred, space):
        return self.call("GET", "/access_tokens", cred, None, self.headers(space))

    def get(self, cred, space, tid):
        return self.call("GET", f"/access_tokens/{tid}", cred, None, self.headers(space))

    def update(self, cred, space, tid, **attributes):
        doc = {"data": {"type": "access_token", "id": str(tid), "attributes": attributes}}
        return self.call("PUT", f"/access_tokens/{tid}", cred, doc, self.headers(space))

    def delete(self, cred, space, tid):
        return self.call("DELETE", f"/access_tokens/{tid}", cred, None, self.headers(space))

    disable = enable = None           # DatoCMS tokens have no status

    def regenerate(self, cred, space, tid):
        return self.call("POST", f"/access_tokens/{tid}/regenerate_token", cred, None,
                         self.headers(space))

    def items(self, r):
        return r.json()["data"]

    def one(self, r):
        return r.json()["data"]

    def value(self, o):
        return o["attributes"]["token"]

    def ident(self, o):
        return int(o["id"])


class SoftwareOne(View):
    """/public/v1/accounts/api-tokens; the space is X-Space-Id (None: no header)."""
    name = "softwareone"
    BASE = "/public/v1/accounts/api-tokens"

    def headers(self, space):
        return {"X-Space-Id": str(space)} if space is not None else {}

    def create(self, cred, space, name="t", modules=(MOD_ACCESS,), **fields):
        body = {"name": name, "modules": [{"id": m} for m in modules]}
        body.update(fields)
        return self.call("POST", self.BASE, cred, body, self.headers(space))

    def list(self, cred, space):
        return self.call("GET", self.BASE, cred, None, self.headers(space))

    def get(self, cred, space, tid, query=""):
        return self.call("GET", f"{self.BASE}/{tkn(tid)}{query}", cred, None, self.headers(space))

    def update(self, cred, space, tid, **fields):
        return self.call("PUT", f"{self.BASE}/{tkn(tid)}", cred, fields, self.headers(space))

    def delete(self, cred, space, tid):
        return self.call("DELETE", f"{self.BASE}/{tkn(tid)}", cred, None, self.headers(space))

    def disable(self, cred, space, tid):
        return self.call("POST", f"{self.BASE}/{tkn(tid)}/disable", cred, None, self.headers(space))

    def enable(self, cred, space, tid):
        return self.call("POST", f"{self.BASE}/{tkn(tid)}/enable", cred, None, self.headers(space))

    regenerate = None                 # not part of this API

    def items(self, r):
        return r.json()["data"]

    def one(self, r):
        return r.json()

    def value(self, o):
        return o.get("token") or None     # "" or absent: not shown

    def ident(self, o):
        return int(o["id"][4:8] + o["id"][9:])


VIEW = {"storyblok": Storyblok, "datocms": DatoCMS, "softwareone": SoftwareOne}

STATUS = {
    "unauthenticated": {"storyblok": 401, "datocms": 401, "softwareone": 401, "admin": 401},
    "forbidden": {"storyblok": 403, "datocms": 403, "softwareone": 403, "admin": 403},
    "invalid": {"storyblok": 422, "datocms": 422, "softwareone": 400, "admin": 422},
    "builtin": {"storyblok": 422, "datocms": 422, "softwareone": 400},
    "self": {"storyblok": 422, "datocms": 422, "softwareone": 400, "admin": 422},
    "not_found": {"storyblok": 404, "datocms": 404, "softwareone": 404, "admin": 404},
}
DATO_CODES = {
    "unauthenticated": {"INVALID_AUTHORIZATION_HEADER", "INVALID_SITE"},
    "forbidden": {"INSUFFICIENT_PERMISSIONS"},
    "invalid": {"INVALID_FIELD", "INVALID_ATTRIBUTES"},
    "builtin": {"NON_EDITABLE_ACCESS_TOKEN"},
    "self": {"CANNOT_DESTROY_CURRENT_USER"},
    "not_found": {"NOT_FOUND"},
}


def refused(view, r, kind, field=None):
    """r is `view`'s rendering of the core error `kind` (naming `field`)."""
    want = STATUS[kind][view]
    assert r.status_code == want, \
        f"{view}: {kind} should be {want}, got {r.status_code} {r.text[:300]}"
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    body = r.json()
    if view == "storyblok":
        if want == 404:
            assert body == NOT_FOUND, body
        elif want == 422:
            assert isinstance(body, dict) and body, body
            assert all(isinstance(v, list) and v for v in body.values()), body
            if field is not None:
                assert field in body, body
        else:
            assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    elif view == "datocms":
        err = body["data"][0]
        assert err["type"] == "api_error", body
        assert err["attributes"]["code"] in DATO_CODES[kind], body
        if field is not None:
            assert err["attributes"]["details"].get("field") == field, body
    elif view == "softwareone":
        assert body["status"] == want and body["title"] and body["traceId"], body
        if field is not None:
            assert field in body.get("errors", {}), body
    else:
        assert isinstance(body.get("error"), str) and body.get("status") == want, body
        if kind == "forbidden":
            assert body.get("code") == "forbidden", body
        if field is not None:
            assert body.get("field") == field, body


def management_refuses(env, value, space):
    """value is no management credential in any view (401 everywhere)."""
    for name in TOKEN_VIEWS:
        refused(name, VIEW[name](env).list(value, space), "unauthenticated")


# --- 1. read-only callers ------------------------------------------------------

@pytest.mark.parametrize("caller", ["builtin", "read_pat"])
@pytest.mark.parametrize("view", TOKEN_VIEWS)
def test_read_only_caller_sees_no_token_values(env, view, caller):
    """Rule: only a caller that may write tokens sees token values, in every
    view, in lists and single reads; a read-only caller can neither create nor
    regenerate a token."""
    v = VIEW[view](env)
    s = new_space(env)
    builtin = builtin_token(env, s)
    d = delivery_token(env, s)
    m_id, m_value = dato_manager(env, s, role="1")
    values = {builtin["id"]: builtin["token"], d["id"]: d["token"], m_id: m_value}
    ro = builtin["token"] if caller == "builtin" else pat(
        env, name="ro", spaces=[s], scopes={"access_tokens": "read"})["token"]
    admin = env["admin"]

    # the admin sees every value (so this test can fail)
    r = v.list(admin, s)
    assert r.status_code == 200, r.text
    shown = {v.ident(o): v.value(o) for o in v.items(r)}
    assert {k: shown.get(k) for k in values} == values
    for tid, value in values.items():
        r = v.get(admin, s, tid)
        assert r.status_code == 200 and v.value(v.one(r)) == value, r.text

    # the read-only caller sees none, anywhere in the answer
    r = v.list(ro, s)
    assert r.status_code == 200, r.text
    listed = {v.ident(o): v.value(o) for o in v.items(r)}
    assert set(values) <= set(listed), r.text
    assert all(x is None for x in listed.values()), f"{view} list shows values: {listed}"
    assert not any(value in r.text for value in values.values())
    for tid in values:
        r = v.get(ro, s, tid)
        assert r.status_code == 200, r.text
        assert v.value(v.one(r)) is None, f"{view} get {tid} shows {v.value(v.one(r))}"
        assert not any(value in r.text for value in values.values())

    with unchanged(env, s):
        refused(view, v.create(ro, s, name="nope"), "forbidden")
        if v.regenerate is not None:
            refused(view, v.regenerate(ro, s, d["id"]), "forbidden")
    assert verifies(env, d["token"]) == 200


# --- 2. the built-in token ---------------------------------------------------------

@pytest.mark.parametrize("view,edit", [("storyblok", "name"), ("datocms", "name"),
                                       ("softwareone", "name"), ("softwareone", "modules"),
                                       ("softwareone", "disable")])
def test_builtin_token_refuses_edits(env, view, edit):
    """Rule: the built-in token's attributes (name, modules, status) cannot be
    edited in any view, so it can never gain the right to create tokens."""
    v = VIEW[view](env)
    s = new_space(env)
    b = builtin_token(env, s)
    admin = env["admin"]
    with unchanged(env, s):
        if edit == "name":
            r = v.update(admin, s, b["id"], name="renamed")
        elif edit == "modules":
            r = v.update(admin, s, b["id"], modules=[{"id": MOD_ACCESS}])
        else:
            r = v.disable(admin, s, b["id"])
        refused(view, r, "builtin")
        for name in TOKEN_VIEWS:
            refused(name, VIEW[name](env).create(b["token"], s, name="x"), "forbidden")
    sb = admin_key(env, s, b["id"]).json()["api_key"]
    assert (sb["name"], sb["status"]) == (BUILTIN_NAME, "active")
    swo = VIEW["softwareone"](env).get(admin, s, b["id"]).json()
    assert (swo["name"], swo["modules"], swo["status"]) == (BUILTIN_NAME, [], "Active")


@pytest.mark.parametrize("view,action", [("storyblok", "regenerate"), ("datocms", "regenerate"),
                                         ("storyblok", "delete"), ("datocms", "delete"),
                                         ("softwareone", "delete")])
def test_builtin_token_can_be_regenerated_and_deleted(env, view, action):
    """Rule: regenerate and delete stay allowed on the built-in token."""
    v = VIEW[view](env)
    s = new_space(env)
    b = builtin_token(env, s)
    if action == "regenerate":
        r = v.regenerate(env["admin"], s, b["id"])
        assert r.status_code == 200, r.text
        new = v.value(v.one(r))
        assert new and new != b["token"]
        assert admin_key(env, s, b["id"]).json()["api_key"]["token"] == new
        management_refuses(env, b["token"], s)
    else:
        r = v.delete(env["admin"], s, b["id"])
        assert r.status_code == (204 if view == "softwareone" else 200), r.text
        refused("storyblok", admin_key(env, s, b["id"]), "not_found")
        management_refuses(env, b["token"], s)


# --- 3. minted PATs --------------------------------------------------------------------

MAKER_SCOPES = {"access_tokens": "write", "spaces": "read", "personal_access_tokens": "write"}


@pytest.mark.parametrize("case", ["no_expiry", "later_expiry", "scope_it_lacks",
                                  "space_it_lacks", "all_spaces", "full_permission",
                                  "earlier_expiry_and_fewer_scopes"])
def test_minted_pat_never_exceeds_its_maker(env, case):
    """Rule: a PAT made by a PAT gets no scope, space, permission or lifetime
    its maker lacks; without expires_at it inherits the maker's expiry."""
    s, other = new_space(env), new_space(env)
    exp = int(time.time()) + 3600
    maker = pat(env, name="A", spaces=[s], scopes=MAKER_SCOPES, expires_at=iso(exp))
    assert epoch(maker["expires_at"]) == exp
    narrow = {"spaces": [s], "scopes": {"access_tokens": "read"}}
    bodies = {
        "no_expiry": narrow,
        "later_expiry": dict(narrow, expires_at=iso(exp + 3600)),
        "scope_it_lacks": {"spaces": [s], "scopes": {"spaces": "write"}},
        "space_it_lacks": {"spaces": [other], "scopes": {"access_tokens": "read"}},
        "all_spaces": {"spaces": "all", "scopes": {"access_tokens": "read"}},
        "full_permission": {"full_permission": True},
        "earlier_expiry_and_fewer_scopes": dict(narrow, expires_at=iso(exp - 1800)),
    }
    if case in ("no_expiry", "earlier_expiry_and_fewer_scopes"):
        r = make_pat(env, maker["token"], name="child", **bodies[case])
        assert r.status_code == 201, r.text
        child = r.json()["personal_access_token"]
        want = exp if case == "no_expiry" else exp - 1800
        assert child["expires_at"] is not None, "the child outlives its maker"
        assert epoch(child["expires_at"]) == want
        got = http(env, "GET", f"/v1/personal_access_tokens/{child['id']}", env["admin"])
        assert epoch(got.json()["personal_access_token"]["expires_at"]) == want
        assert http(env, "GET", f"/v1/spaces/{s}/api_keys", child["token"]).status_code == 200
    else:
        with pats_unchanged(env):
            refused("admin", make_pat(env, maker["token"], name="child", **bodies[case]),
                    "forbidden")


# --- 4. minted management tokens ---------------------------------------------------------

def test_admin_role_token_exceeds_a_tokens_only_pat(env):
    """Rule: a management token gets no permission its maker lacks: the Admin
    role reads spaces and activities, which a tokens-only PAT cannot."""
    s = new_space(env)
    maker = pat(env, name="tok", spaces=[s], scopes={"access_tokens": "write"})["token"]
    with unchanged(env, s):
        r = VIEW["datocms"](env).create(maker, s, name="admin", cma=True, role="1")
        refused("datocms", r, "forbidden")


def test_access_management_module_fits_a_tokens_only_pat(env):
    """Rule: Access Management (token read/write only) is within a PAT with
    access_tokens:write, so SoftwareOne lets it mint one."""
    s = new_space(env)
    maker = pat(env, name="tok", spaces=[s], scopes={"access_tokens": "write"})["token"]
    r = VIEW["softwareone"](env).create(maker, s, name="w")
    assert r.status_code == 201, r.text
    assert r.json()["modules"] == [{"id": MOD_ACCESS, "name": "Access Management"}]


@pytest.mark.parametrize("view", ["datocms", "softwareone"])
def test_minted_management_token_inherits_the_pat_expiry(env, view):
    """Rule: a management token minted by an expiring PAT expires with it
    (read back through the Storyblok view)."""
    s = new_space(env)
    exp = int(time.time()) + 3600
    maker = pat(env, name="exp", spaces=[s], expires_at=iso(exp),
                scopes={"access_tokens": "write", "spaces": "read"})["token"]
    if view == "datocms":
        tid, _ = dato_manager(env, s, cred=maker, role="2")
    else:
        tid, _ = swo_manager(env, s, cred=maker)
    got = admin_key(env, s, tid)
    assert got.status_code == 200, got.text
    expires = got.json()["api_key"]["expires_at"]
    assert expires is not None, "the minted token outlives its maker"
    assert epoch(expires) == exp


def test_activities_need_spaces_read_for_a_pat_and_what_it_minted(env):
    """Rule: without spaces:read a PAT cannot read the activities, and neither
    can a management token it minted."""
    s = new_space(env)
    maker = pat(env, name="tok", spaces=[s], scopes={"access_tokens": "write"})["token"]
    _, w = swo_manager(env, s, cred=maker)
    assert http(env, "GET", f"/v1/spaces/{s}/activities", env["admin"]).status_code == 200
    refused("admin", http(env, "GET", f"/v1/spaces/{s}/activities", maker), "forbidden")
    refused("admin", http(env, "GET", f"/v1/spaces/{s}/activities", w), "forbidden")


# --- 5. revocation cascades --------------------------------------------------------------

def test_deleting_a_pat_revokes_what_it_minted(env):
    """Rule: revoking a PAT revokes the PATs and management tokens it minted
    (logged in the space's activities); delivery tokens are not credentials
    and stay."""
    s = new_space(env)
    admin = env["admin"]
    a = pat(env, name="A", spaces=[s], scopes=MAKER_SCOPES)
    b = pat(env, a["token"], name="B", spaces=[s], scopes={"spaces": "read"})
    m_id, m = dato_manager(env, s, cred=a["token"], role="2")
    w_id, w = swo_manager(env, s, cred=a["token"])
    d = delivery_token(env, s, cred=a["token"])
    # all of them work before
    assert http(env, "GET", "/v1/spaces", b["token"]).status_code == 200
    for value in (m, w):
        assert VIEW["datocms"](env).list(value, None).status_code == 200
    assert verifies(env, d["token"]) == 200

    def about_m():
        r = http(env, "GET", f"/v1/spaces/{s}/activities", admin)
        assert r.status_code == 200, r.text
        return [x for x in r.json()["activities"] if x["resource_id"] == m_id]

    before = about_m()
    r = http(env, "DELETE", f"/v1/personal_access_tokens/{a['id']}", admin)
    assert r.status_code == 200, r.text

    refused("admin", http(env, "GET", "/v1/spaces", b["token"]), "unauthenticated")
    for value in (m, w):
        management_refuses(env, value, s)
    listed = [k["id"] for k in http(env, "GET", f"/v1/spaces/{s}/api_keys",
                                    admin).json()["api_keys"]]
    assert m_id not in listed and w_id not in listed and d["id"] in listed
    for tid in (m_id, w_id):
        for name in TOKEN_VIEWS:
            refused(name, VIEW[name](env).get(admin, s, tid), "not_found")
    assert admin_key(env, s, d["id"]).status_code == 200
    assert verifies(env, d["token"]) == 200
    after = about_m()
    new = after[:len(after) - len(before)]       # newest first: the entries since
    assert new, "no activity for the cascaded deletion of M"
    assert all(x["action"] not in [b["action"] for b in before] for x in new), new


def account_trail(env, cred=None):
    r = http(env, "GET", "/v1/activities", cred or env["admin"])
    assert r.status_code == 200, r.text
    return [(x["action"], x["actor"], x["resource_id"]) for x in r.json()["activities"]]


def test_the_account_trail_records_pats_and_spaces(env):
    """Rule: PATs made, deleted and revoked by a cascade, and spaces made and
    deleted, are recorded in the account's trail (GET /v1/activities), which
    outlives any space; only a credential for all spaces with spaces:read and
    personal_access_tokens:read may read it."""
    admin = env["admin"]
    before = len(account_trail(env))
    s = new_space(env)
    a = pat(env, name="A", spaces="all", scopes={"spaces": "read", "personal_access_tokens": "write"})
    b = pat(env, a["token"], name="B", spaces="all", scopes={"spaces": "read"})
    assert http(env, "DELETE", f"/v1/personal_access_tokens/{a['id']}", admin).status_code == 200
    assert http(env, "DELETE", f"/v1/spaces/{s}", admin).status_code == 200
    got = account_trail(env)
    assert got[:len(got) - before] == [
        ("space.delete", "pat:1", s),
        ("pat.revoke", "pat:1", b["id"]),
        ("pat.delete", "pat:1", a["id"]),
        ("pat.create", f"pat:{a['id']}", b["id"]),
        ("pat.create", "pat:1", a["id"]),
        ("space.create", "pat:1", s),
    ]
    assert account_trail(env, admin)[:1] == got[:1]
    # readers: all spaces, spaces:read and personal_access_tokens:read
    reader = pat(env, name="r", spaces="all",
                 scopes={"spaces": "read", "personal_access_tokens": "read"})
    assert account_trail(env, reader["token"]) == account_trail(env)
    s2 = new_space(env)
    for name, spaces, scopes in (
            ("one space", [s2], {"spaces": "read", "personal_access_tokens": "read"}),
            ("no pats:read", "all", {"spaces": "read"}),
            ("no spaces:read", "all", {"personal_access_tokens": "read"})):
        cred = pat(env, name=name, spaces=spaces, scopes=scopes)["token"]
        refused("admin", http(env, "GET", "/v1/activities", cred), "forbidden")
    m_id, m = dato_manager(env, s2, role="1")
    refused("admin", http(env, "GET", "/v1/activities", m), "forbidden")
    refused("admin", http(env, "GET", "/v1/activities"), "unauthenticated")
    assert http(env, "GET", "/v1/activities?limit=1001", admin).status_code == 422


@pytest.mark.parametrize("view", TOKEN_VIEWS)
def test_deleting_a_management_token_revokes_what_it_minted(env, view):
    """Rule: deleting a management token, in any view, revokes the management
    tokens it minted."""
    s = new_space(env)
    m1_id, m1 = dato_manager(env, s, role="1", name="m1")
    m2_id, m2 = dato_manager(env, s, cred=m1, role="2", name="m2", send_space=False)
    assert VIEW["datocms"](env).list(m2, None).status_code == 200
    r = VIEW[view](env).delete(env["admin"], s, m1_id)
    assert r.status_code == (204 if view == "softwareone" else 200), r.text
    management_refuses(env, m2, s)
    refused("storyblok", admin_key(env, s, m2_id), "not_found")


def test_a_token_raised_again_by_another_maker_leaves_its_first_makers_tree(env):
    """Rule: a management token given new scopes by another credential is that
    one's mint now: revoking its first maker leaves it working."""
    s = new_space(env)
    m1_id, m1 = dato_manager(env, s, role="1", name="m1")
    m2_id, m2 = dato_manager(env, s, cred=m1, role="1", name="m2", send_space=False)
    m3_id, m3 = dato_manager(env, s, cred=m2, role="2", name="m3", send_space=False)

    def set_role(cred, tid, role):
        doc = {"data": {"type": "access_token", "id": str(tid), "attributes": {},
                        "relationships": {"role": {"data": {"type": "role", "id": role}}}}}
        r = http(env, "PUT", f"/access_tokens/{tid}", cred, doc,
                 VIEW["datocms"](env).headers(s))
        assert r.status_code == 200, r.text

    set_role(env["admin"], m2_id, "2")
    assert http(env, "DELETE", f"/v1/spaces/{s}/api_keys/{m1_id}", env["admin"]).status_code == 200
    assert VIEW["datocms"](env).list(m2, None).status_code == 200
    assert VIEW["datocms"](env).list(m3, None).status_code == 200   # m2's own mint stays too
    # and revoking its new maker's tree takes it
    m4_id, m4 = dato_manager(env, s, role="1", name="m4")
    set_role(m4, m2_id, "1")
    assert http(env, "DELETE", f"/v1/spaces/{s}/api_keys/{m4_id}", env["admin"]).status_code == 200
    management_refuses(env, m2, s)
    management_refuses(env, m3, s)


def test_an_expiring_pat_takes_what_it_minted_with_it(env):
    """Rule: a PAT minted without expiry by an expiring PAT stops working when
    its maker expires."""
    exp = int(time.time()) + 2
    a2 = pat(env, name="A2", spaces="all", expires_at=iso(exp),
             scopes={"spaces": "read", "personal_access_tokens": "write"})
    b2 = pat(env, a2["token"], name="B2", spaces="all", scopes={"spaces": "read"})
    assert http(env, "GET", "/v1/spaces", b2["token"]).status_code == 200
    deadline = time.monotonic() + 4
    status = None
    while time.monotonic() < deadline:
        status = http(env, "GET", "/v1/spaces", b2["token"]).status_code
        if status == 401 and time.time() >= exp:
            break
        time.sleep(0.1)
    assert time.time() >= exp, "B2 refused before its maker expired"
    assert status == 401, "B2 still works after its maker expired"


def test_a_minted_credential_needs_every_maker_above_it(env):
    """Rule: a minted credential works only while every credential above it
    works, so a cascade cut short (here: the maker's record removed behind
    tokend's back, with no cascade at all) leaves no live orphan; and a
    disabled maker's children are refused until it is enabled again."""
    s = new_space(env)
    a = pat(env, name="A", spaces=[s], scopes=MAKER_SCOPES)
    b = pat(env, a["token"], name="B", spaces=[s], scopes=MAKER_SCOPES)
    c = pat(env, b["token"], name="C", spaces=[s], scopes={"spaces": "read"})
    m_id, m = dato_manager(env, s, cred=b["token"], role="2")
    assert http(env, "GET", "/v1/spaces", c["token"]).status_code == 200
    assert VIEW["datocms"](env).list(m, None).status_code == 200
    assert env["redis"].cli("DEL", f"{{pats}}:p:{a['id']}") == "1"
    refused("admin", http(env, "GET", "/v1/spaces", b["token"]), "unauthenticated")
    refused("admin", http(env, "GET", "/v1/spaces", c["token"]), "unauthenticated")
    management_refuses(env, m, s)

    sw = VIEW["softwareone"](env)
    m1_id, m1 = dato_manager(env, s, role="1", name="m1")
    m2_id, m2 = dato_manager(env, s, cred=m1, role="2", name="m2", send_space=False)
    assert sw.disable(env["admin"], s, m1_id).status_code == 200
    management_refuses(env, m2, s)
    assert sw.enable(env["admin"], s, m1_id).status_code == 200
    assert VIEW["datocms"](env).list(m2, None).status_code == 200


def test_minting_depth_is_bounded(env):
    """Rule: a chain of makers is at most 8 deep (each use reads every maker
    above), so the 8th minted credential cannot mint a 9th."""
    cred = env["admin"]
    scopes = {"spaces": "read", "personal_access_tokens": "write"}
    for depth in range(1, 9):
        cred = pat(env, cred, name=f"d{depth}", spaces="all", scopes=scopes)["token"]
        assert http(env, "GET", "/v1/spaces", cred).status_code == 200, depth
    refused("admin", make_pat(env, cred, name="d9", spaces="all", scopes={"spaces": "read"}),
            "forbidden")


# --- 6. one set of limits -------------------------------------------------------------------

@pytest.mark.parametrize("op", ["create", "update"])
@pytest.mark.parametrize("view", ["storyblok", "softwareone"])
def test_one_description_limit(env, view, op):
    """Rule: descriptions hold up to 2000 characters in every view that has them."""
    v = VIEW[view](env)
    s = new_space(env)
    ok, too_long = "d" * 2000, "d" * 2001
    if op == "create":
        r = v.create(env["admin"], s, name="desc", description=ok)
        assert r.status_code == 201, r.text[:300]
        tid = v.ident(v.one(r))
        with unchanged(env, s):
            refused(view, v.create(env["admin"], s, name="desc", description=too_long),
                    "invalid", "description")
    else:
        tid = v.ident(v.one(v.create(env["admin"], s, name="desc")))
        r = v.update(env["admin"], s, tid, description=ok)
        assert r.status_code == 200, r.text[:300]
        with unchanged(env, s):
            refused(view, v.update(env["admin"], s, tid, description=too_long),
                    "invalid", "description")
    assert admin_key(env, s, tid).json()["api_key"]["description"] == ok


def test_a_description_from_softwareone_saves_back_through_storyblok(env):
    """Rule: what one view accepts, every other view can store back."""
    s = new_space(env)
    desc = ("é" + "a" * 9) * 200                       # 2000 characters, 2200 bytes
    r = VIEW["softwareone"](env).create(env["admin"], s, name="rt", description=desc)
    assert r.status_code == 201, r.text[:300]
    tid = VIEW["softwareone"](env).ident(r.json())
    got = admin_key(env, s, tid).json()["api_key"]
    r = VIEW["storyblok"](env).update(env["admin"], s, tid, description=got["description"])
    assert r.status_code == 200, r.text[:300]
    assert r.json()["api_key"]["description"] == desc
    assert VIEW["softwareone"](env).get(env["admin"], s, tid).json()["description"] == desc


@pytest.mark.parametrize("op", ["create", "update"])
@pytest.mark.parametrize("view", TOKEN_VIEWS)
def test_one_name_limit(env, view, op):
    """Rule: names hold up to 200 characters in every view."""
    v = VIEW[view](env)
    s = new_space(env)
    ok, too_long = "n" * 200, "n" * 201
    if op == "create":
        r = v.create(env["admin"], s, name=ok)
        assert r.status_code == 201, r.text[:300]
        tid = v.ident(v.one(r))
        with unchanged(env, s):
            refused(view, v.create(env["admin"], s, name=too_long), "invalid", "name")
    else:
        tid = v.ident(v.one(v.create(env["admin"], s, name="short")))
        r = v.update(env["admin"], s, tid, name=ok)
        assert r.status_code == 200, r.text[:300]
        with unchanged(env, s):
            refused(view, v.update(env["admin"], s, tid, name=too_long), "invalid", "name")
    assert admin_key(env, s, tid).json()["api_key"]["name"] == ok


# --- 7. self-delete and self-disable -------------------------------------------------------

@pytest.mark.parametrize("view", TOKEN_VIEWS)
def test_a_token_cannot_delete_itself(env, view):
    """Rule: a credential cannot delete itself, in any view."""
    s = new_space(env)
    m_id, m = dato_manager(env, s, role="1")
    with unchanged(env, s):
        refused(view, VIEW[view](env).delete(m, s, m_id), "self")
    assert admin_key(env, s, m_id).json()["api_key"]["status"] == "active"
    assert VIEW["datocms"](env).list(m, None).status_code == 200


@pytest.mark.parametrize("view", ["storyblok", "softwareone"])
def test_a_token_cannot_disable_itself(env, view):
    """Rule: a credential cannot disable itself, in any view with a status."""
    s = new_space(env)
    m_id, m = dato_manager(env, s, role="1")
    with unchanged(env, s):
        refused(view, VIEW[view](env).disable(m, s, m_id), "self")
    assert admin_key(env, s, m_id).json()["api_key"]["status"] == "active"
    assert VIEW["datocms"](env).list(m, None).status_code == 200


def test_a_pat_cannot_revoke_itself(env):
    """Rule: a PAT cannot delete itself (422), and keeps working."""
    s = new_space(env)
    p = pat(env, name="me", spaces=[s], scopes={"personal_access_tokens": "write"})
    with pats_unchanged(env):
        r = http(env, "DELETE", f"/v1/personal_access_tokens/{p['id']}", p["token"])
        refused("admin", r, "self")
    r = http(env, "GET", "/v1/personal_access_tokens", p["token"])
    assert r.status_code == 200 and p["id"] in [x["id"] for x in
                                               r.json()["personal_access_tokens"]]


# what a view's update can send to end a credential's own access (a
# SoftwareOne update carries no status, expiry or management right)
CUT_OFF = {
    "storyblok": {"expires_at": "2000-01-01T00:00:00Z"},
    "storyblok_status": {"status": "disabled"},
    "datocms": {"can_access_cma": False},
}


@pytest.mark.parametrize("case", sorted(CUT_OFF))
def test_a_token_cannot_cut_off_its_own_access_by_update(env, case):
    """Rule: no update ends the caller's own access: not its status, its
    expiry, nor its management right, in any view that can send them."""
    view = case.split("_")[0]
    v = VIEW[view](env)
    s = new_space(env)
    m_id, m = dato_manager(env, s, role="1")
    change = CUT_OFF[case]
    with unchanged(env, s):
        refused(view, v.update(m, s, m_id, **change), "self")
    assert VIEW["datocms"](env).list(m, None).status_code == 200
    # another credential may make the same change
    assert v.update(env["admin"], s, m_id, **change).status_code == 200


@pytest.mark.parametrize("view", TOKEN_VIEWS)
def test_a_token_cannot_delete_or_disable_its_maker(env, view):
    """Rule: a minted credential cannot delete or disable a maker above it
    (the cascade, or the check at use, would revoke the caller too)."""
    v = VIEW[view](env)
    s = new_space(env)
    m1_id, m1 = dato_manager(env, s, role="1", name="m1")
    m2_id, m2 = dato_manager(env, s, cred=m1, role="1", name="m2", send_space=False)
    m3_id, m3 = dato_manager(env, s, cred=m2, role="1", name="m3", send_space=False)
    with unchanged(env, s):
        refused(view, v.delete(m3, s, m1_id), "self")
        refused(view, v.delete(m3, s, m2_id), "self")
        if v.disable is not None:
            refused(view, v.disable(m3, s, m1_id), "self")
    assert VIEW["datocms"](env).list(m3, None).status_code == 200
    # downwards is fine: m1 deletes m2, and m3 goes with it
    r = v.delete(m1, s, m2_id)
    assert r.status_code in (200, 204), r.text
    management_refuses(env, m3, s)


def test_a_token_cannot_change_the_role_of_itself_or_its_maker(env):
    """Rule: a management token cannot give itself or a maker above it another
    role (it would be re-minted under the caller: its own maker, or a cycle,
    and no one could call again), nor take over its maker by regenerating it."""
    s = new_space(env)
    m1_id, m1 = dato_manager(env, s, role="1", name="m1")
    m2_id, m2 = dato_manager(env, s, cred=m1, role="1", name="m2", send_space=False)
    dato = VIEW["datocms"](env)
    for target in (m2_id, m1_id):
        doc = {"data": {"type": "access_token", "id": str(target), "attributes": {},
                        "relationships": {"role": {"data": {"type": "role", "id": "2"}}}}}
        with unchanged(env, s):
            refused("datocms", http(env, "PUT", f"/access_tokens/{target}", m2, doc,
                                    dato.headers(s)), "self")
    with unchanged(env, s):
        refused("storyblok", VIEW["storyblok"](env).regenerate(m2, s, m1_id), "self")
        refused("datocms", dato.regenerate(m2, s, m1_id), "self")
    assert dato.list(m1, None).status_code == 200
    assert dato.list(m2, None).status_code == 200
    # rolling its own value is fine
    r = VIEW["storyblok"](env).regenerate(m2, s, m2_id)
    assert r.status_code == 200, r.text


def test_a_pat_cannot_delete_its_maker(env):
    """Rule: a PAT cannot delete the PAT that made it, nor that one's maker."""
    s = new_space(env)
    a = pat(env, name="A", spaces=[s], scopes=MAKER_SCOPES)
    b = pat(env, a["token"], name="B", spaces=[s], scopes=MAKER_SCOPES)
    c = pat(env, b["token"], name="C", spaces=[s], scopes=MAKER_SCOPES)
    with pats_unchanged(env):
        for maker in (a, b):
            r = http(env, "DELETE", f"/v1/personal_access_tokens/{maker['id']}", c["token"])
            refused("admin", r, "self")
    assert http(env, "GET", "/v1/spaces", c["token"]).status_code == 200


@pytest.mark.parametrize("view", TOKEN_VIEWS)
def test_an_expiring_caller_takes_no_lasting_credential(env, view):
    """Rule: a caller that expires neither sees the value of, nor regenerates,
    enables or changes, a management token that outlives it (it would hold a
    lasting copy of a credential); delivery tokens it may."""
    v = VIEW[view](env)
    s = new_space(env)
    e = pat(env, name="E", spaces=[s], expires_at=iso(int(time.time()) + 3600),
            scopes={"access_tokens": "write", "spaces": "read"})["token"]
    m_id, m = dato_manager(env, s, role="1")
    d = delivery_token(env, s)
    r = v.get(e, s, m_id)
    assert r.status_code == 200 and v.value(v.one(r)) is None, r.text
    r = v.list(e, s)
    assert m not in r.text
    shown = {v.ident(o): v.value(o) for o in v.items(r)}
    assert shown[d["id"]] == d["token"] and shown[m_id] is None, shown
    with unchanged(env, s):
        if v.regenerate is not None:
            refused(view, v.regenerate(e, s, m_id), "forbidden")
        refused(view, v.update(e, s, m_id, name="mine"), "forbidden")
        refused(view, v.delete(e, s, m_id), "forbidden")
    # the same token, given an expiry within the caller's, is within reach
    r = http(env, "PUT", f"/v1/spaces/{s}/api_keys/{m_id}", env["admin"],
             {"api_key": {"expires_at": iso(int(time.time()) + 60)}})
    assert r.status_code == 200, r.text
    r = v.get(e, s, m_id)
    assert v.value(v.one(r)) == m, r.text


def test_space_zero_and_unusual_id_spellings_name_no_space(env):
    """Rule: a path names a space by its one spelling: id 0, leading zeros or
    a sign match nothing (404), and no earlier request's space stands in."""
    s, other = new_space(env), new_space(env)
    p = pat(env, name="bound", spaces=[s],
            scopes={"spaces": "write", "access_tokens": "write"})["token"]
    d = delivery_token(env, s)
    # the worker's last space is `other`
    assert http(env, "GET", f"/v1/spaces/{other}", env["admin"]).status_code == 200
    before = http(env, "GET", f"/v1/spaces/{other}", env["admin"]).json()
    for spelled in ("0", "00", f"0{s}", f"+{s}", "-0"):
        for cred in (p, env["admin"]):
            refused("admin", http(env, "GET", f"/v1/spaces/{spelled}", cred), "not_found")
            refused("admin", http(env, "PUT", f"/v1/spaces/{spelled}", cred,
                                  {"space": {"name": "taken"}}), "not_found")
        refused("storyblok", http(env, "GET", f"/v1/spaces/{spelled}/api_keys/{d['id']}",
                                  env["admin"]), "not_found")
    refused("storyblok", http(env, "GET", f"/v1/spaces/{s}/api_keys/0{d['id']}",
                              env["admin"]), "not_found")
    # X-Space-Id too: "0<id>" names no space (the admin reaches every space,
    # so it must name one: 422), and a bound credential naming it is refused
    for view in ("datocms", "softwareone"):
        r = VIEW[view](env).list(env["admin"], f"0{s}")
        assert r.status_code in (400, 422), (view, r.status_code, r.text)
        assert VIEW[view](env).list(env["admin"], s).status_code == 200
    assert http(env, "GET", f"/v1/spaces/{other}", env["admin"]).json() == before


# --- 8. status changes are stamped ------------------------------------------------------

@pytest.mark.parametrize("view", ["storyblok", "softwareone"])
def test_status_changes_are_stamped_in_every_view(env, view):
    """Rule: a disable or enable, in any view, sets the status every view
    shows and stamps audit.disabled / audit.enabled (at, by)."""
    v = VIEW[view](env)
    swo = VIEW["softwareone"](env)
    s = new_space(env)
    d = delivery_token(env, s)
    admin = env["admin"]
    first = swo.get(admin, s, d["id"], "?select=%2Baudit").json()["audit"]
    creator = first["created"]["by"]["id"]
    assert "disabled" not in first and "enabled" not in first
    for action, sb_status, swo_status in (("disable", "disabled", "Disabled"),
                                          ("enable", "active", "Active")):
        r = getattr(v, action)(admin, s, d["id"])
        assert r.status_code == 200, r.text
        assert admin_key(env, s, d["id"]).json()["api_key"]["status"] == sb_status
        got = swo.get(admin, s, d["id"], "?select=%2Baudit").json()
        assert got["status"] == swo_status
        stamp = got["audit"].get(action + "d")
        assert stamp is not None, f"{action} through {view} not stamped: {got['audit']}"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp["at"]), stamp
        assert stamp["by"]["id"] == creator, stamp
    assert verifies(env, d["token"]) == 200


# --- 9. one order of checks ----------------------------------------------------------------

ADMIN_ROUTES = [("GET", "/v1/spaces"), ("GET", "/v1/personal_access_tokens")]


@pytest.mark.parametrize("view", TOKEN_VIEWS + ("admin",))
def test_unauthenticated_is_401_before_anything_else(env, view):
    """Rule: no credential, a garbage one or a delivery token is 401 in every
    view, before the space is looked at."""
    s = new_space(env)
    d = delivery_token(env, s)
    for cred in (None, "garbage", d["token"]):
        if view == "admin":
            for method, path in ADMIN_ROUTES:
                refused("admin", http(env, method, path, cred), "unauthenticated")
            continue
        v = VIEW[view](env)
        for space in (s, 999999):
            refused(view, v.list(cred, space), "unauthenticated")
            refused(view, v.create(cred, space, name="x"), "unauthenticated")


@pytest.mark.parametrize("view", TOKEN_VIEWS)
def test_a_space_outside_the_caller_is_403(env, view):
    """Rule: a PAT for S1 asking about S2 (existing or not) is 403 in every
    view, and changes nothing there."""
    v = VIEW[view](env)
    s1, s2 = new_space(env), new_space(env)
    d2 = delivery_token(env, s2)
    p = pat(env, name="s1", spaces=[s1], scopes={"access_tokens": "write"})["token"]
    assert v.list(p, s1).status_code == 200
    with unchanged(env, s2):
        for space in (s2, 999999):
            refused(view, v.list(p, space), "forbidden")
            refused(view, v.create(p, space, name="x"), "forbidden")
        refused(view, v.get(p, s2, d2["id"]), "forbidden")


@pytest.mark.parametrize("who", ["admin", "all_spaces_pat"])
@pytest.mark.parametrize("view", ["datocms", "softwareone"])
def test_a_multi_space_caller_must_name_the_space(env, view, who):
    """Rule: a caller reaching several spaces names one in X-Space-Id (or, on a
    SoftwareOne create, in the body's account.id), or gets the view's
    invalid-field error naming where."""
    v = VIEW[view](env)
    s = new_space(env)
    cred = env["admin"] if who == "admin" else pat(
        env, name="all", spaces="all", scopes={"access_tokens": "write"})["token"]
    assert v.list(cred, s).status_code == 200
    refused(view, v.list(cred, None), "invalid", "X-Space-Id")
    with unchanged(env, s):
        refused(view, v.create(cred, None, name="x"), "invalid",
                "account" if view == "softwareone" else "X-Space-Id")


@pytest.mark.parametrize("view", TOKEN_VIEWS)
def test_an_unknown_space_is_404(env, view):
    """Rule: a space that does not exist is 404 in every view (for a caller
    that reaches all spaces)."""
    v = VIEW[view](env)
    cred = pat(env, name="all", spaces="all", scopes={"access_tokens": "write"})["token"]
    known = new_space(env)
    tid = v.ident(v.one(v.create(env["admin"], known)))
    for c in (cred, env["admin"]):
        refused(view, v.list(c, 999999), "not_found")
        refused(view, v.create(c, 999999, name="x"), "not_found")
        # a call about one token reads the space with the token: either gone is 404
        for space, t in ((999999, tid), (999999, 1), (known, 98765432)):
            for call in (v.get, v.delete, v.regenerate, v.disable,
                         lambda c_, s_, t_: v.update(c_, s_, t_, name="y")):
                if call is not None:
                    refused(view, call(c, space, t), "not_found")
    assert redis_state(env, "{s:999999}:*") == ""
    assert admin_key(env, known, tid).json()["api_key"]["name"] == "t"


# --- 10. Redis answering an error ----------------------------------------------------------

def test_redis_error_reply_is_a_503():
    """Rule: a Redis error reply (here WRONGTYPE) is a 503 JSON answer, never a
    crash; the sanitizer check of the stack catches a use-after-free."""
    with running_stack() as stack:
        s = new_space(stack)
        assert http(stack, "GET", f"/v1/spaces/{s}/activities", stack["admin"]).status_code == 200
        workers = sorted(stack["tokend"].workers())
        assert stack["redis"].cli("SET", f"{{s:{s}}}:activities", "not a stream") == "OK"
        for _ in range(3):
            r = http(stack, "GET", f"/v1/spaces/{s}/activities", stack["admin"])
            assert r.status_code == 503, r.text
            assert r.headers["Content-Type"].startswith("application/json")
            assert r.json()["status"] == 503 and r.json()["error"]
        assert http(stack, "GET", "/v1/health").status_code == 200
        assert http(stack, "GET", f"/v1/spaces/{s}", stack["admin"]).status_code == 200
        assert sorted(stack["tokend"].workers()) == workers, "a worker died"
