"""Address binding (allowed_cidrs, as Vault's bound_cidrs and Stripe's IP
restrictions): a token or PAT bound to address ranges works only from
them — on the verify path (nginx auth_request, the FastCGI authorizer,
GET and POST /v1/verify, with the verify cache's hit path) and as a
management credential in every dialect — and a bound maker's minted
management credentials stay within its ranges.

Clients bind their source address to 127.0.0.2 (inside the ranges) or
127.0.0.3 (outside): Linux routes all of 127.0.0.0/8 to lo, so nginx on
127.0.0.1 sees them as $remote_addr. 127.0.0.9 is the one trusted proxy
(trusted_proxies), whose X-Forwarded-For names the client.
"""
import contextlib
import os
import re

import pytest
import requests
from requests.adapters import HTTPAdapter

from harness import (DEPLOY, admin_with_space, docroot_with, running_stack, start_authorizer,
                     wait_until)
from test_rules_every_view import VIEW, redis_state
from test_verify import CdnNginx

SPACE = 808
INSIDE, OUTSIDE, PROXY = "127.0.0.2", "127.0.0.3", "127.0.0.9"
MOD_ACCESS = "MOD-1756"


class SourceAddress(HTTPAdapter):
    """Connections from one local address."""

    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


_sessions = {}


def from_(address):
    """A session whose requests come from address."""
    if address not in _sessions:
        s = requests.Session()
        s.mount("http://", SourceAddress(address))
        _sessions[address] = s
    return _sessions[address]


def call(env, address, method, path, cred=None, body=None, headers=None, base=None):
    h = dict(headers or {})
    if cred is not None:
        h["Authorization"] = "Bearer " + cred
    return from_(address).request(method, (base or env["api"]) + path, json=body, headers=h,
                                  timeout=10)


def view(name, env, address=INSIDE):
    """The rules suite's adapter for a view, its requests from address."""
    class FromAddress(VIEW[name]):
        def call(self, method, path, cred, body=None, headers=None):
            return globals()["call"](self.env, address, method, path, cred, body, headers)
    return FromAddress(env)


@pytest.fixture(scope="module")
def env():
    # many writes to one space: its shared write rate is not what is tested here
    with running_stack(CdnNginx, tokend_env={"TOKEND_TRUSTED_PROXIES": PROXY + "/32",
                                             "TOKEND_SPACE_WRITE_RATE": "1000000"}) as stack:
        s = admin_with_space(stack, SPACE)
        stack.update({"s": s, "api": stack["nginx"].base})
        yield stack


def key(env, **fields):
    """A public api_key the admin makes with fields."""
    r = view("storyblok", env).create(env["admin"], SPACE, **fields)
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def pat(env, cred=None, address=INSIDE, **fields):
    body = {"name": "bound", "spaces": [SPACE],
            "scopes": {"spaces": "read", "access_tokens": "write"}}
    body.update(fields)
    r = call(env, address, "POST", "/v1/personal_access_tokens", cred or env["admin"],
             {"personal_access_token": body})
    assert r.status_code == 201, r.text
    return r.json()["personal_access_token"]


def dato(env, cred=None, address=INSIDE, **attributes):
    """A DatoCMS management token (admin role): the whole response."""
    attrs = {"name": "m", "can_access_cda": True, "can_access_cda_preview": False,
             "can_access_cma": True}
    attrs.update(attributes)
    return call(env, address, "POST", "/access_tokens", cred or env["admin"],
                {"data": {"type": "access_token", "attributes": attrs,
                          "relationships": {"role": {"data": {"type": "role", "id": "1"}}}}},
                {"X-Api-Version": "3", "X-Space-Id": str(SPACE)})


def swo(env, cred=None, address=INSIDE, **fields):
    body = {"name": "w", "modules": [{"id": MOD_ACCESS}]}
    body.update(fields)
    return call(env, address, "POST", "/public/v1/accounts/api-tokens", cred or env["admin"],
                body, {"X-Space-Id": str(SPACE)})


@contextlib.contextmanager
def redis_unchanged(env, *patterns):
    """Redis holds the same records after the block (rate-limit counters and
    the last use workers write after answering aside: redis_state)."""
    before = [redis_state(env, p) for p in patterns]
    yield
    assert [redis_state(env, p) for p in patterns] == before, "Redis changed under a refused call"


def unchanged(env, space):
    return redis_unchanged(env, f"{{s:{space}}}:*")


def pats_unchanged(env):
    return redis_unchanged(env, "{pats}:*")


def verify_get(env, address, token, headers=None):
    h = {"X-Original-URI": "/v2/cdn/stories?token=" + token}
    h.update(headers or {})
    return from_(address).get(env["api"] + "/v1/verify", headers=h, timeout=10)


def verify_post(env, address, token, **extra):
    return from_(address).post(env["api"] + "/v1/verify", timeout=10,
                               json=dict({"token": token, "uri": "/v2/cdn/stories"}, **extra))


def cdn(env, address, token):
    return from_(address).get(f"http://127.0.0.1:{env['nginx'].cdn}/v2/cdn/stories",
                              params={"token": token}, timeout=10)


def calls(redis, command):
    m = re.search(rf"cmdstat_{command}:calls=(\d+)", redis.cli("INFO", "commandstats"))
    return int(m.group(1)) if m else 0


# --- the verify path ------------------------------------------------------------

def test_bound_token_verifies_only_from_its_ranges_through_auth_request(env):
    bound, free = key(env, allowed_cidrs=[INSIDE + "/32"]), key(env)
    assert bound["allowed_cidrs"] == ["127.0.0.2/32"] and free["allowed_cidrs"] == []
    r = cdn(env, INSIDE, bound["token"])
    assert r.status_code == 200, r.text
    r = cdn(env, OUTSIDE, bound["token"])
    assert r.status_code == 403 and r.headers["X-Tokend-Reason"] == "address_not_allowed"
    assert cdn(env, OUTSIDE, free["token"]).status_code == 200


def test_get_verify_answers_address_not_allowed(env):
    bound = key(env, allowed_cidrs=["10.0.0.0/8", "127.0.0.2/32", "2001:db8::/32"])
    r = verify_get(env, INSIDE, bound["token"])
    assert r.status_code == 200 and r.headers["X-Tokend-Token-Id"] == str(bound["id"])
    r = verify_get(env, OUTSIDE, bound["token"])
    assert r.status_code == 403 and r.headers["X-Tokend-Reason"] == "address_not_allowed"
    assert "X-Tokend-Token-Id" not in r.headers


def test_post_verify_judges_the_caller_or_the_named_remote_addr(env):
    bound = key(env, allowed_cidrs=[INSIDE])
    r = verify_post(env, INSIDE, bound["token"])
    assert r.status_code == 200 and r.json()["valid"] is True, r.text
    r = verify_post(env, OUTSIDE, bound["token"])
    assert r.json() == {"valid": False, "reason": "address_not_allowed", "token": None}
    # a program verifying for its own client names that client's address,
    # if it is trusted as a proxy is
    r = verify_post(env, PROXY, bound["token"], remote_addr=INSIDE)
    assert r.json().get("valid") is True, r.text
    assert verify_post(env, PROXY, bound["token"], remote_addr="::ffff:127.0.0.2").json()[
        "valid"] is True
    assert verify_post(env, PROXY, bound["token"], remote_addr=OUTSIDE).json()[
        "reason"] == "address_not_allowed"
    # anyone else naming an address inside a stolen token's ranges: refused,
    # and no use taken, nothing told about the token
    for caller in (OUTSIDE, INSIDE):
        r = verify_post(env, caller, bound["token"], remote_addr=INSIDE)
        assert r.status_code == 422 and r.json()["field"] == "remote_addr", r.text
        assert "trusted_proxies" in r.text and bound["token"] not in r.text
    assert verify_post(env, OUTSIDE, bound["token"], remote_addr=None).json()[
        "reason"] == "address_not_allowed"
    for bad in ("127.0.0.2/32", "127.000.0.2", "fe80::1%lo", "", " 127.0.0.2", 5, ["127.0.0.2"],
                "x" * 5000):
        r = verify_post(env, INSIDE, bound["token"], remote_addr=bad)
        assert r.status_code == 422 and r.json()["field"] == "remote_addr", (bad, r.text)


def test_cached_verify_checks_the_ranges_too(env):
    bound = key(env, allowed_cidrs=[INSIDE])
    for _ in range(40):                    # every worker reads and caches it
        assert verify_get(env, INSIDE, bound["token"]).status_code == 200
    before = calls(env["redis"], "hgetall")
    for _ in range(20):
        r = verify_get(env, OUTSIDE, bound["token"])
        assert r.status_code == 403 and r.headers["X-Tokend-Reason"] == "address_not_allowed"
        assert verify_get(env, INSIDE, bound["token"]).status_code == 200
    # at most one read per worker that had not seen it yet: the rest, refusals
    # included, were answered from the cache
    assert calls(env["redis"], "hgetall") - before <= len(env["tokend"].workers())
    # a change of the ranges is seen by the very next verify, cached or not
    r = env["s"].put(env["api"] + f"/v1/spaces/{SPACE}/api_keys/{bound['id']}", timeout=10,
                     json={"api_key": {"allowed_cidrs": [OUTSIDE]}})
    assert r.status_code == 200 and r.json()["api_key"]["allowed_cidrs"] == ["127.0.0.3/32"]
    assert verify_get(env, OUTSIDE, bound["token"]).status_code == 200
    assert verify_get(env, INSIDE, bound["token"]).status_code == 403
    r = env["s"].put(env["api"] + f"/v1/spaces/{SPACE}/api_keys/{bound['id']}", timeout=10,
                     json={"api_key": {"allowed_cidrs": None}})
    assert r.status_code == 200 and r.json()["api_key"]["allowed_cidrs"] == []
    assert verify_get(env, INSIDE, bound["token"]).status_code == 200
    assert verify_get(env, OUTSIDE, bound["token"]).status_code == 200


def test_refused_by_address_takes_no_use(env):
    bound = key(env, allowed_cidrs=[INSIDE], max_uses=2)
    assert verify_get(env, OUTSIDE, bound["token"]).status_code == 403
    assert verify_get(env, INSIDE, bound["token"]).status_code == 200
    assert verify_get(env, INSIDE, bound["token"]).status_code == 200
    assert verify_get(env, INSIDE, bound["token"]).headers["X-Tokend-Reason"] == "uses_exhausted"


def test_fastcgi_authorizer_judges_the_clients_address(env):
    from test_deploy import Apache
    bound, free = key(env, allowed_cidrs=[INSIDE]), key(env)
    tport, authz = start_authorizer(env["dir"], env["redis"].url)
    docroot = docroot_with(env["dir"], {"v2/cdn/stories": '{"stories":[]}'})
    apache = Apache(env["dir"], "authorizer", str(tport), docroot)
    try:
        url = apache.url("/v2/cdn/stories")
        wait_until(lambda: requests.get(url, timeout=5).status_code == 401, timeout=15,
                   what="Apache with the authorizer")
        r = from_(INSIDE).get(url, params={"token": bound["token"]}, timeout=10)
        assert r.status_code == 200 and r.json() == {"stories": []}
        r = from_(OUTSIDE).get(url, params={"token": bound["token"]}, timeout=10)
        assert r.status_code == 403 and r.json()["reason"] == "address_not_allowed"
        assert from_(OUTSIDE).get(url, params={"token": free["token"]},
                                  timeout=10).status_code == 200
    finally:
        apache.stop()
        authz.stop()
    assert not authz.sanitizer_reports(), authz.log_text()[-4000:]


# --- management, in every dialect ------------------------------------------------

# (dialect, method, path, headers): one read each dialect answers
DIALECT_CALLS = {
    "storyblok": ("GET", f"/v1/spaces/{SPACE}/api_keys", {}),
    "datocms": ("GET", "/access_tokens", {"X-Api-Version": "3", "X-Space-Id": str(SPACE)}),
    "softwareone": ("GET", "/public/v1/accounts/api-tokens", {"X-Space-Id": str(SPACE)}),
    "admin": ("GET", f"/v1/spaces/{SPACE}", {}),
}


def address_refused(dialect, r):
    """r is dialect's 403 for a credential used from outside its ranges."""
    assert r.status_code == 403, (dialect, r.status_code, r.text[:300])
    body = r.json()
    if dialect == "storyblok":
        assert "address" in body["error"], body
    elif dialect == "datocms":
        assert body["data"][0]["attributes"]["code"] == "ADDRESS_NOT_ALLOWED", body
    elif dialect == "softwareone":
        assert body["status"] == 403 and "address" in body["detail"] and body["traceId"], body
    else:
        assert body["code"] == "address_not_allowed" and body["status"] == 403, body


@pytest.fixture(scope="module")
def bound_credentials(env):
    """A PAT, a DatoCMS management token and a SoftwareOne token, each bound to INSIDE."""
    p = pat(env, allowed_cidrs=[INSIDE + "/32"])
    d = dato(env, allowed_cidrs=[INSIDE])
    w = swo(env, allowedCidrs=[INSIDE])
    assert d.status_code == 201 and w.status_code == 201, (d.text, w.text)
    assert p["allowed_cidrs"] == ["127.0.0.2/32"]
    assert d.json()["data"]["attributes"]["allowed_cidrs"] == ["127.0.0.2/32"]
    assert w.json()["allowedCidrs"] == ["127.0.0.2/32"]
    return {"pat": p["token"], "datocms": d.json()["data"]["attributes"]["token"],
            "softwareone": w.json()["token"]}


@pytest.mark.parametrize("cred", ["pat", "datocms", "softwareone"])
@pytest.mark.parametrize("dialect", sorted(DIALECT_CALLS))
def test_bound_credential_is_refused_elsewhere_in_every_dialect(env, bound_credentials, cred,
                                                               dialect):
    method, path, headers = DIALECT_CALLS[dialect]
    value = bound_credentials[cred]
    inside = call(env, INSIDE, method, path, value, headers=headers)
    if cred == "softwareone" and dialect == "admin":
        # its modules grant no spaces scope: refused as any such caller is
        assert inside.status_code == 403 and inside.json()["code"] == "forbidden", inside.text
    else:
        assert inside.status_code == 200, (cred, dialect, inside.text[:300])
    address_refused(dialect, call(env, OUTSIDE, method, path, value, headers=headers))
    # the unbound admin works from anywhere
    assert call(env, OUTSIDE, method, path, env["admin"], headers=headers).status_code == 200


def test_refused_management_call_changes_nothing(env, bound_credentials):
    with unchanged(env, SPACE):
        r = view("storyblok", env, OUTSIDE).create(bound_credentials["pat"], SPACE)
        address_refused("storyblok", r)
        r = view("datocms", env, OUTSIDE).create(bound_credentials["datocms"], SPACE)
        address_refused("datocms", r)
    with pats_unchanged(env):
        r = call(env, OUTSIDE, "POST", "/v1/personal_access_tokens", bound_credentials["pat"],
                 {"personal_access_token": {"name": "x", "spaces": [SPACE],
                                            "scopes": {"access_tokens": "read"}}})
        address_refused("admin", r)


# --- trusted proxies and X-Forwarded-For -----------------------------------------

def test_x_forwarded_for_counts_only_from_a_trusted_proxy(env):
    bound, free = key(env, allowed_cidrs=[INSIDE]), key(env)
    xff = lambda v: {"X-Forwarded-For": v}  # noqa: E731
    ok = lambda a, h, t=bound: verify_get(env, a, t["token"], h).status_code  # noqa: E731
    # the proxy speaks for the client
    assert ok(PROXY, xff(INSIDE)) == 200
    assert ok(PROXY, xff(OUTSIDE)) == 403
    # anyone else's X-Forwarded-For is a spoof: their own address counts
    assert ok(OUTSIDE, xff(INSIDE)) == 403
    # the rightmost hop that is not a trusted proxy is the client
    assert ok(PROXY, xff(f"{INSIDE}, {PROXY}")) == 200
    assert ok(PROXY, xff(f"{INSIDE}, {OUTSIDE}")) == 403
    assert ok(PROXY, xff(f"{OUTSIDE}, {INSIDE}")) == 200      # left of it: the client's to write
    assert ok(PROXY, xff(f"garbage, {INSIDE}")) == 200
    # a trusted proxy forwarding nothing is the client itself
    assert ok(PROXY, {}) == 403
    # malformed: the address is unknown, so a bound token fails closed; others pass
    for bad in (f"{INSIDE}, nonsense", f"{INSIDE},", f"{INSIDE}:8080", "[::1]", ",,"):
        r = verify_get(env, PROXY, bound["token"], xff(bad))
        assert r.status_code == 403 and r.headers["X-Tokend-Reason"] == "address_not_allowed", bad
        assert ok(PROXY, xff(bad), free) == 200, bad
    # through the CDN's auth_request too
    r = from_(PROXY).get(f"http://127.0.0.1:{env['nginx'].cdn}/v2/cdn/stories",
                         params={"token": bound["token"]}, headers=xff(INSIDE), timeout=10)
    assert r.status_code == 200


def test_x_forwarded_for_for_management(env, bound_credentials):
    method, path, headers = DIALECT_CALLS["storyblok"]
    value = bound_credentials["pat"]
    assert call(env, PROXY, method, path, value,
                headers={"X-Forwarded-For": INSIDE}).status_code == 200
    address_refused("storyblok", call(env, OUTSIDE, method, path, value,
                                      headers={"X-Forwarded-For": INSIDE}))
    address_refused("storyblok", call(env, PROXY, method, path, value,
                                      headers={"X-Forwarded-For": "not-an-address"}))


# --- every view sets, clears and shows it ------------------------------------------

RANGES = ["10.0.0.0/8", "2001:DB8::/32", "127.0.0.2", "::ffff:1.2.3.0/120"]
SHOWN = ["10.0.0.0/8", "2001:db8::/32", "127.0.0.2/32", "::ffff:1.2.3.0/120"]
STORED = ",".join(SHOWN)


def stored(env, tid):
    return env["redis"].cli("HGET", f"{{s:{SPACE}}}:t:{tid}", "ac")


def test_storyblok_sets_clears_and_shows(env):
    k = key(env, allowed_cidrs=RANGES)
    assert k["allowed_cidrs"] == SHOWN and stored(env, k["id"]) == STORED
    r = env["s"].get(env["api"] + f"/v1/spaces/{SPACE}/api_keys/{k['id']}", timeout=10)
    assert r.json()["api_key"]["allowed_cidrs"] == SHOWN
    listed = env["s"].get(env["api"] + f"/v1/spaces/{SPACE}/api_keys", timeout=10).json()
    assert [x for x in listed["api_keys"] if x["id"] == k["id"]][0]["allowed_cidrs"] == SHOWN
    for empty in ([], None):
        r = env["s"].put(env["api"] + f"/v1/spaces/{SPACE}/api_keys/{k['id']}", timeout=10,
                         json={"api_key": {"allowed_cidrs": empty}})
        assert r.status_code == 200 and r.json()["api_key"]["allowed_cidrs"] == []
        assert stored(env, k["id"]) == ""           # left out of the record
        r = env["s"].put(env["api"] + f"/v1/spaces/{SPACE}/api_keys/{k['id']}", timeout=10,
                         json={"api_key": {"allowed_cidrs": RANGES}})
        assert r.json()["api_key"]["allowed_cidrs"] == SHOWN
    # an update that does not name it keeps it
    r = env["s"].put(env["api"] + f"/v1/spaces/{SPACE}/api_keys/{k['id']}", timeout=10,
                     json={"api_key": {"name": "renamed"}})
    assert r.json()["api_key"]["allowed_cidrs"] == SHOWN


def test_datocms_sets_clears_and_shows(env):
    v = view("datocms", env)
    r = dato(env, allowed_cidrs=RANGES)
    assert r.status_code == 201, r.text
    tid = int(r.json()["data"]["id"])
    assert r.json()["data"]["attributes"]["allowed_cidrs"] == SHOWN
    assert stored(env, tid) == STORED
    assert v.get(env["admin"], SPACE, tid).json()["data"]["attributes"]["allowed_cidrs"] == SHOWN
    r = v.update(env["admin"], SPACE, tid, allowed_cidrs=[])
    assert r.status_code == 200 and r.json()["data"]["attributes"]["allowed_cidrs"] == []
    r = v.update(env["admin"], SPACE, tid, allowed_cidrs=["192.168.0.0/16"])
    assert r.json()["data"]["attributes"]["allowed_cidrs"] == ["192.168.0.0/16"]
    r = v.update(env["admin"], SPACE, tid, allowed_cidrs=None)
    assert r.json()["data"]["attributes"]["allowed_cidrs"] == []
    listed = v.list(env["admin"], SPACE).json()["data"]
    assert all(o["attributes"]["allowed_cidrs"] is not None for o in listed)


def test_softwareone_sets_clears_and_shows(env):
    v = view("softwareone", env)
    r = swo(env, allowedCidrs=RANGES)
    assert r.status_code == 201, r.text
    o = r.json()
    tid = v.ident(o)
    assert o["allowedCidrs"] == SHOWN and stored(env, tid) == STORED
    assert v.get(env["admin"], SPACE, tid).json()["allowedCidrs"] == SHOWN
    assert "allowedCidrs" not in v.get(env["admin"], SPACE, tid, "?select=-allowedCidrs").json()
    r = v.update(env["admin"], SPACE, tid, allowedCidrs=None)
    assert r.status_code == 200 and r.json()["allowedCidrs"] == []
    r = v.update(env["admin"], SPACE, tid, allowedCidrs=["::1"])
    assert r.json()["allowedCidrs"] == ["::1/128"]
    r = v.update(env["admin"], SPACE, tid, allowedCidrs=[])
    assert r.json()["allowedCidrs"] == []
    assert all(x["allowedCidrs"] == [] or x["allowedCidrs"]
               for x in v.list(env["admin"], SPACE).json()["data"])


def test_pats_set_and_show(env):
    p = pat(env, allowed_cidrs=RANGES)
    assert p["allowed_cidrs"] == SHOWN
    assert env["redis"].cli("HGET", f"{{pats}}:p:{p['id']}", "ac") == STORED
    r = env["s"].get(env["api"] + f"/v1/personal_access_tokens/{p['id']}", timeout=10)
    assert r.json()["personal_access_token"]["allowed_cidrs"] == SHOWN
    assert pat(env)["allowed_cidrs"] == []
    assert pat(env, allowed_cidrs=None)["allowed_cidrs"] == []


# --- bad ranges: 4xx in each dialect, Redis unchanged --------------------------------

BAD = [
    ["10.0.0.1/33"], ["010.0.0.1/8"], ["::1/129"], ["1.2.3.4/"], ["fe80::1%eth0/64"],
    ["10.0.0.1/8"],                                   # host bits past the prefix
    [f"10.0.{i}.0/24" for i in range(65)],             # more than 64
    [5], [None], [["10.0.0.0/8"]], ["1" * 100000], ["10.0.0.0/8 "], "10.0.0.0/8", {"a": 1}, 7,
]


@pytest.mark.parametrize("bad", BAD, ids=lambda b: repr(b)[:24])
def test_bad_ranges_are_refused_in_every_dialect(env, bad):
    k = key(env, name="target")
    d = dato(env)
    w = swo(env)
    dv, wv = view("datocms", env), view("softwareone", env)
    did, wid = int(d.json()["data"]["id"]), wv.ident(w.json())
    a = env["admin"]
    with unchanged(env, SPACE):
        for r in (view("storyblok", env).create(a, SPACE, allowed_cidrs=bad),
                  view("storyblok", env).update(a, SPACE, k["id"], allowed_cidrs=bad)):
            assert r.status_code == 422 and list(r.json()) == ["allowed_cidrs"], r.text[:300]
            assert isinstance(r.json()["allowed_cidrs"][0], str)
        for r in (dato(env, allowed_cidrs=bad), dv.update(a, SPACE, did, allowed_cidrs=bad)):
            err = r.json()["data"][0]["attributes"]
            assert r.status_code == 422 and err["code"] == "INVALID_FIELD", r.text[:300]
            assert err["details"]["field"] == "allowed_cidrs"
        for r in (swo(env, allowedCidrs=bad), wv.update(a, SPACE, wid, allowedCidrs=bad)):
            assert r.status_code == 400 and "allowedCidrs" in r.json()["errors"], r.text[:300]
    with pats_unchanged(env):
        r = call(env, INSIDE, "POST", "/v1/personal_access_tokens", a,
                 {"personal_access_token": {"name": "p", "spaces": [SPACE],
                                            "scopes": {"access_tokens": "read"},
                                            "allowed_cidrs": bad}})
        assert r.status_code == 422 and r.json()["field"] == "allowed_cidrs", r.text[:300]


def test_sixty_four_ranges_fit_and_count_towards_the_record_bound(env):
    many = [f"10.0.{i}.0/24" for i in range(64)]
    k = key(env, allowed_cidrs=many)
    assert len(k["allowed_cidrs"]) == 64 and k["allowed_cidrs"][63] == "10.0.63.0/24"
    # 64 ranges of 43 characters outgrow a space bound to 2048 bytes a record
    small = admin_with_space(env, SPACE + 1, limits={"record_bytes": 2048})
    wide = [f"2001:db8:1234:5678:9abc:def0:1234:{i:04x}/128" for i in range(64)]
    url = env["api"] + f"/v1/spaces/{SPACE + 1}/api_keys"
    r = small.post(url, json={"api_key": {"access": "public", "allowed_cidrs": wide}}, timeout=10)
    assert r.status_code == 422 and "too large" in r.json()["base"][0], r.text
    r = small.post(url, json={"api_key": {"access": "public", "allowed_cidrs": wide[:8]}},
                   timeout=10)
    assert r.status_code == 201, r.text


# --- minted credentials stay within their maker's ranges ----------------------------

def test_bound_maker_mints_only_within_its_ranges(env):
    maker = pat(env, allowed_cidrs=["127.0.0.0/24"],
                scopes={"spaces": "read", "access_tokens": "write",
                        "personal_access_tokens": "write"})["token"]

    def mint_pat(ranges):
        fields = {} if ranges is ... else {"allowed_cidrs": ranges}
        body = dict({"name": "minted", "spaces": [SPACE], "scopes": {"access_tokens": "read"}},
                    **fields)
        return call(env, INSIDE, "POST", "/v1/personal_access_tokens", maker,
                    {"personal_access_token": body})

    with pats_unchanged(env):
        for ranges in (..., None, [], ["10.0.0.0/8"], ["127.0.0.0/16"], ["127.0.0.2", "::1"]):
            r = mint_pat(ranges)
            assert r.status_code == 403 and r.json()["field"] == "allowed_cidrs", (ranges, r.text)
    r = mint_pat(["127.0.0.2/32", "127.0.0.128/25"])
    assert r.status_code == 201, r.text
    with unchanged(env, SPACE):
        r = dato(env, cred=maker)                              # unbound: would escape
        assert r.status_code == 403, r.text
        assert r.json()["data"][0]["attributes"]["details"]["field"] == "allowed_cidrs"
        r = swo(env, cred=maker, allowedCidrs=["0.0.0.0/0"])
        assert r.status_code == 403 and "allowedCidrs" in r.json()["errors"], r.text
    d = dato(env, cred=maker, allowed_cidrs=[INSIDE])
    assert d.status_code == 201, d.text
    w = swo(env, cred=maker, allowedCidrs=[OUTSIDE])
    assert w.status_code == 201, w.text
    # delivery tokens are no credential: a bound maker makes them unbound
    r = view("storyblok", env).create(maker, SPACE)
    assert r.status_code == 201 and r.json()["api_key"]["allowed_cidrs"] == []
    # nor may it unbind or widen a management token it reaches
    did = int(d.json()["data"]["id"])
    dv = view("datocms", env)
    with unchanged(env, SPACE):
        for ranges in ([], None, ["127.0.0.0/8"]):
            r = dv.update(maker, SPACE, did, allowed_cidrs=ranges)
            assert r.status_code == 403, (ranges, r.text)
    assert dv.update(maker, SPACE, did, allowed_cidrs=["127.0.0.5"]).status_code == 200
    # a management token the admin left unbound holds more than the bound maker:
    # its value is not shown to it, nor may it change it
    free = dato(env)
    fid = int(free.json()["data"]["id"])
    assert dv.get(maker, SPACE, fid).json()["data"]["attributes"]["token"] is None
    assert dv.update(maker, SPACE, fid, name="x").status_code == 403


def test_narrowing_a_maker_binds_what_it_minted_at_once(env):
    maker_r = dato(env, allowed_cidrs=["127.0.0.0/24"])
    maker_id = int(maker_r.json()["data"]["id"])
    maker = maker_r.json()["data"]["attributes"]["token"]
    minted = dato(env, cred=maker, allowed_cidrs=[OUTSIDE])
    assert minted.status_code == 201, minted.text
    value = minted.json()["data"]["attributes"]["token"]
    method, path, headers = DIALECT_CALLS["datocms"]
    assert call(env, OUTSIDE, method, path, value, headers=headers).status_code == 200
    r = view("datocms", env).update(env["admin"], SPACE, maker_id, allowed_cidrs=[INSIDE])
    assert r.status_code == 200, r.text
    address_refused("datocms", call(env, OUTSIDE, method, path, value, headers=headers))


def test_a_credential_cannot_bind_itself_away_from_where_it_calls(env):
    r = dato(env, allowed_cidrs=["127.0.0.0/29"])
    tid, value = int(r.json()["data"]["id"]), r.json()["data"]["attributes"]["token"]
    dv = view("datocms", env)
    with unchanged(env, SPACE):
        r = dv.update(value, SPACE, tid, allowed_cidrs=[OUTSIDE])
        assert r.status_code == 422, r.text
        assert r.json()["data"][0]["attributes"]["code"] == "CANNOT_DESTROY_CURRENT_USER"
        r = dv.update(value, SPACE, tid, allowed_cidrs=["127.0.0.0/24"])   # wider: minting more
        assert r.status_code == 403, r.text
    r = dv.update(value, SPACE, tid, allowed_cidrs=[INSIDE])               # narrower, still here
    assert r.status_code == 200 and r.json()["data"]["attributes"]["allowed_cidrs"] == [
        "127.0.0.2/32"]


# --- the shipped configs pass the client's address -----------------------------------

def blocks(text, opener):
    """(header, body, start, end) of each `opener ... {` block, braces matched."""
    for m in re.finditer(opener + r"\s*([^{;]*)\{", text):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        yield m.group(1).strip(), text[m.end():i - 1], m.start(), i


PASSES_ADDR = r"fastcgi_param\s+REMOTE_ADDR\s+\$remote_addr\s*;"


def test_every_nginx_location_reaching_tokend_passes_remote_addr():
    """A location's fastcgi_param lines replace its server's, so each location
    reaching tokend passes REMOTE_ADDR itself, or sets no fastcgi_param and
    inherits a server that does."""
    checked = 0
    for name in sorted(os.listdir(os.path.join(DEPLOY, "nginx"))):
        if not name.endswith(".conf"):
            continue
        text = re.sub(r"#[^\n]*", "", open(os.path.join(DEPLOY, "nginx", name)).read())
        for _, server, _, _ in blocks(text, r"\bserver"):
            locs = list(blocks(server, r"\blocation"))
            outside = server
            for _, _, a, b in reversed(locs):
                outside = outside[:a] + outside[b:]
            for header, body, _, _ in locs:
                if "fastcgi_pass" not in body:
                    continue
                checked += 1
                params = body if "fastcgi_param" in body else outside
                assert re.search(PASSES_ADDR, params), \
                    f"{name}: location {header} does not pass REMOTE_ADDR"
    assert checked >= 3
