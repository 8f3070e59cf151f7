"""Leak reports (POST /v1/credentials/revoke, GitHub's credential revocation
API) through nginx: every genuine credential among the reported strings is
refused on the very next request on every worker, forged strings cost no
Redis I/O, the answer never tells genuine from forged, the audit trail names
the reporting address, reports are rate-limited per address and bounded, a
revoked PAT takes what it minted with it, and the README's regular
expression matches every kind of tokend token."""
import concurrent.futures
import http.client
import json
import os
import re

import pytest
import requests

from harness import running_stack, settle_last_use

REVOKE = "/v1/credentials/revoke"
SPACE = 4401
BUILTIN = "Read-only API token"
DATO = {"X-Api-Version": "3", "X-Space-Id": str(SPACE)}
ACCESS_KINDS = ("public", "private", "asset", "release", "theme")

# README, "Leak reports": every tokend token, and the same without lookaround
# (RE2, Hyperscan) with the token in group 1
TOKEN_RE = (r"(?<![A-Za-z0-9_-])(?:td_(?:pub|prv|ast|rel|thm|pat)_|idt:TKN-[0-9]{4}-[0-9]{4}:)"
            r"A[A-Za-z0-9_-]{69}[AEIMQUYcgkosw048](?![A-Za-z0-9_-])")
TOKEN_RE2 = (r"(?:^|[^A-Za-z0-9_-])((?:td_(?:pub|prv|ast|rel|thm|pat)_|idt:TKN-[0-9]{4}-[0-9]{4}:)"
             r"A[A-Za-z0-9_-]{69}[AEIMQUYcgkosw048])(?:$|[^A-Za-z0-9_-])")


@pytest.fixture(scope="module")
def env():
    # a generous rate here; test_rate_limit_is_per_address has its own stack
    with running_stack(tokend_env={"TOKEND_LEAK_REPORT_RATE": "100000",
                                   "TOKEND_RATE_LIMIT_REQUESTS": "100000",
                                   "TOKEND_SPACE_WRITE_RATE": "100000"}) as stack:
        s = requests.Session()
        s.headers["Authorization"] = stack["admin"]
        stack["s"] = s
        assert call(stack, "POST", "/v1/spaces",
                    body={"space": {"id": SPACE, "name": "leaks"}}).status_code == 201
        yield stack


def call(env, method, path, cred=None, body=None, headers=None):
    h = dict(headers or {})
    if cred is not None:
        h["Authorization"] = "Bearer " + cred
    s = env["s"] if cred is None and "Authorization" not in h else requests
    return s.request(method, env["nginx"].url(path), json=body, headers=h, timeout=30)


def report(env, strings, source=None):
    """The report as sent by a client at source (an address on loopback):
    (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", env["nginx"].port, timeout=30,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request("POST", REVOKE, body=json.dumps({"credentials": strings}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), json.loads(r.read() or b"null")
    finally:
        conn.close()


def tkn(tid):
    return "TKN-%04d-%04d" % (tid // 10000, tid % 10000)


def command_counts(redis):
    stats = redis.cli("INFO", "commandstats")
    # INFO is ours; PING is each worker's keepalive on its invalidation
    # connection (every 250 ms), no request's doing
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"cmdstat_(\w+):calls=(\d+)", stats)
            if m.group(1) not in ("info", "ping")}


def commands_executed(redis):
    return sum(command_counts(redis).values())


def verify(env, value):
    """(status, reason) of a verify of value, as nginx's auth_request asks."""
    r = requests.get(env["nginx"].url("/v1/verify"), timeout=10,
                     headers={"X-Token": value, "X-Original-URI": "/v2/cdn/stories/1"})
    return r.status_code, r.headers.get("X-Tokend-Reason", "ok" if r.status_code == 200 else None)


def on_every_worker(fn, value, n=48):
    """fn(value) from 8 clients at once, n times: both workers answer."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: fn(value), range(n)))


def api_key(env, access, name="k"):
    r = call(env, "POST", f"/v1/spaces/{SPACE}/api_keys",
             body={"api_key": {"access": access, "name": name}})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def dato_manager(env, cred=None):
    doc = {"data": {"type": "access_token",
                    "attributes": {"name": "m", "can_access_cda": True,
                                   "can_access_cda_preview": False, "can_access_cma": True},
                    "relationships": {"role": {"data": {"type": "role", "id": "1"}}}}}
    r = call(env, "POST", "/access_tokens", cred, doc, DATO)
    assert r.status_code == 201, r.text
    d = r.json()["data"]
    return int(d["id"]), d["attributes"]["token"]


def swo_token(env):
    r = call(env, "POST", "/public/v1/accounts/api-tokens",
             body={"name": "w", "modules": [{"id": "MOD-1756"}]}, headers={"X-Space-Id": str(SPACE)})
    assert r.status_code == 201, r.text
    o = r.json()
    return int(o["id"][4:8] + o["id"][9:]), o["token"]


def make_pat(env, cred=None, **fields):
    body = {"name": "p", "spaces": "all",
            "scopes": {"spaces": "read", "access_tokens": "write",
                       "personal_access_tokens": "write"}}
    body.update(fields)
    r = call(env, "POST", "/v1/personal_access_tokens", cred, {"personal_access_token": body})
    assert r.status_code == 201, r.text
    p = r.json()["personal_access_token"]
    return p["id"], p["token"]


def builtin(env):
    keys = call(env, "GET", f"/v1/spaces/{SPACE}/api_keys").json()["api_keys"]
    (k,) = [k for k in keys if k["name"] == BUILTIN]
    return k


def manages(env, kind, value):
    """The status of a management call made with value."""
    if kind == "pat":
        return call(env, "GET", "/v1/personal_access_tokens", value).status_code
    if kind == "swo":
        return call(env, "GET", "/public/v1/accounts/api-tokens", value).status_code
    return call(env, "GET", "/access_tokens", value, headers={"X-Api-Version": "3"}).status_code


def trail(env, space=None):
    path = f"/v1/spaces/{space}/activities" if space else "/v1/activities"
    r = call(env, "GET", path + "?limit=1000")
    assert r.status_code == 200, r.text
    return r.json()["activities"]


def forgeries(values):
    """Strings shaped like tokend tokens that this server never signed: a
    flipped tag character, another TKN id in front of a genuine payload, a
    genuine payload under another prefix, and free-form junk."""
    out = []
    for v in values:
        for at in (-2, -40):      # in the tag; in the secret
            out.append(v[:at] + ("B" if v[at] != "B" else "C") + v[at + 1:])
        if v.startswith("idt:"):
            out.append("idt:TKN-9999-9999:" + v[18:])
        else:
            out.append(("td_prv_" if v[:7] != "td_prv_" else "td_pub_") + v[7:])
    assert not set(out) & set(values)
    return out + ["td_pub_" + "A" * 71, "ghp_" + "x" * 36, "", "idt:TKN-0000-0001:" + "A" * 71]


# --- the rules ---------------------------------------------------------------------------


def test_genuine_credentials_of_every_kind_are_refused_at_once_on_every_worker(env):
    keys = {a: api_key(env, a) for a in ACCESS_KINDS}
    dato_id, dato = dato_manager(env)
    swo_id, swo = swo_token(env)
    pat_id, pat = make_pat(env)
    # a delivery token the next verify reads: warm on every worker first
    for k in keys.values():
        assert all(r[1] not in ("disabled", "unknown_token")
                   for r in on_every_worker(lambda v: verify(env, v), k["token"]))
    for kind, value in (("dato", dato), ("swo", swo), ("pat", pat)):
        assert set(on_every_worker(lambda v: manages(env, kind, v), value, 16)) == {200}
    strings = [k["token"] for k in keys.values()] + [dato, swo, pat]
    status, _, body = report(env, strings)
    assert (status, body) == (202, {"received": len(strings)})
    for k in keys.values():
        assert set(on_every_worker(lambda v: verify(env, v), k["token"])) == {(401, "disabled")}
        assert call(env, "GET", f"/v1/spaces/{SPACE}/api_keys/{k['id']}").json()[
            "api_key"]["status"] == "disabled"
    assert set(on_every_worker(lambda v: verify(env, v), dato)) == {(401, "disabled")}
    for kind, value in (("dato", dato), ("swo", swo), ("pat", pat)):
        assert set(on_every_worker(lambda v: manages(env, kind, v), value, 16)) == {401}, kind
    swo_view = call(env, "GET", f"/public/v1/accounts/api-tokens/{tkn(swo_id)}?select=%2Baudit",
                    headers={"X-Space-Id": str(SPACE)}).json()
    assert swo_view["status"] == "Disabled"
    assert swo_view["audit"]["disabled"]["by"]["id"] == "leak-report:127.0.0.1"
    assert call(env, "GET", f"/v1/personal_access_tokens/{pat_id}").status_code == 404
    # the owner can enable a reported token again, and its value is unchanged
    r = call(env, "PUT", f"/v1/spaces/{SPACE}/api_keys/{keys['public']['id']}",
             body={"api_key": {"status": "active"}})
    assert r.status_code == 200 and r.json()["api_key"]["token"] == keys["public"]["token"]
    assert verify(env, keys["public"]["token"]) == (200, "ok")
    assert dato_id > 0


def test_a_built_in_token_gets_a_new_value_instead(env):
    """No view can enable a built-in token again, so a reported one keeps
    working under a new value; the reported value is refused at once."""
    old = builtin(env)
    assert verify(env, old["token"]) == (200, "ok")
    assert report(env, [old["token"]])[0] == 202
    assert set(on_every_worker(lambda v: verify(env, v), old["token"])) == {(401, "regenerated")}
    new = builtin(env)
    assert new["id"] == old["id"] and new["status"] == "active" and new["token"] != old["token"]
    assert verify(env, new["token"]) == (200, "ok")


def test_only_a_current_value_counts(env):
    """An old value (regenerated) or a token already disabled is left as it is."""
    k = api_key(env, "public")
    r = call(env, "POST", f"/v1/spaces/{SPACE}/api_keys/{k['id']}/regenerate")
    new = r.json()["api_key"]
    before = call(env, "GET", f"/v1/spaces/{SPACE}/api_keys/{k['id']}").json()
    assert report(env, [k["token"]])[0] == 202
    assert call(env, "GET", f"/v1/spaces/{SPACE}/api_keys/{k['id']}").json() == before
    assert verify(env, new["token"]) == (200, "ok")
    assert report(env, [new["token"]])[0] == 202
    disabled = call(env, "GET", f"/v1/spaces/{SPACE}/api_keys/{k['id']}").json()
    assert disabled["api_key"]["status"] == "disabled"
    n = len(trail(env, SPACE))
    assert report(env, [new["token"], new["token"]])[0] == 202     # again: nothing more
    assert call(env, "GET", f"/v1/spaces/{SPACE}/api_keys/{k['id']}").json() == disabled
    assert len(trail(env, SPACE)) == n


def test_forged_strings_cost_no_redis_io(env):
    genuine = [api_key(env, a)["token"] for a in ACCESS_KINDS] + [swo_token(env)[1],
                                                                  make_pat(env)[1]]
    forged = forgeries(genuine)
    forged = (forged * (1000 // len(forged) + 1))[:1000]
    assert all(re.fullmatch(TOKEN_RE, f) for f in forged[:len(genuine) * 2])
    # an empty report costs its rate check; 1,000 forged strings cost nothing more
    settle_last_use()
    c0 = command_counts(env["redis"])
    assert report(env, [])[::2] == (202, {"received": 0})
    c1 = command_counts(env["redis"])
    status, _, body = report(env, forged)
    assert (status, body) == (202, {"received": 1000})
    c2 = command_counts(env["redis"])
    empty = {k: v - c0.get(k, 0) for k, v in c1.items() if v != c0.get(k, 0)}
    full = {k: v - c1.get(k, 0) for k, v in c2.items() if v != c1.get(k, 0)}
    assert full == empty, "a forged string cost Redis I/O"
    for g in genuine[:5]:
        assert verify(env, g) != (401, "disabled")


def test_the_answer_is_the_same_for_genuine_and_forged_lists(env):
    genuine = [api_key(env, a)["token"] for a in ACCESS_KINDS] + [dato_manager(env)[1]]
    forged = forgeries(genuine)[:len(genuine)]
    a = report(env, genuine)
    b = report(env, forged)
    skip = {"Date", "X-Request-Id", "X-RateLimit-Remaining"}
    assert a[0] == b[0] == 202 and a[2] == b[2] == {"received": len(genuine)}
    assert {k: v for k, v in a[1].items() if k not in skip} == \
        {k: v for k, v in b[1].items() if k not in skip}


def test_the_audit_entry_names_the_reporting_address(env):
    k = api_key(env, "public")
    pat_id, pat = make_pat(env)
    assert report(env, [k["token"], pat], source="127.0.0.2")[0] == 202
    entries = [e for e in trail(env, SPACE) if e["resource_id"] == k["id"]]
    assert entries[0]["action"] == "token.leak_reported"
    assert entries[0]["actor"] == "leak-report:127.0.0.2"
    acct = [e for e in trail(env) if e["resource_id"] == pat_id and e["action"] == "pat.leak_reported"]
    assert [e["actor"] for e in acct] == ["leak-report:127.0.0.2"]
    got = call(env, "GET", f"/v1/spaces/{SPACE}/api_keys/{k['id']}").json()["api_key"]
    assert got["status"] == "disabled"


def test_a_revoked_pat_takes_what_it_minted(env):
    maker_id, maker = make_pat(env, name="maker")
    child_id, child = make_pat(env, maker, name="child")
    grandchild_id, grandchild = make_pat(env, child, name="grandchild")
    dato_id, dato = dato_manager(env, maker)
    for value in (maker, child, grandchild):
        assert manages(env, "pat", value) == 200
    assert manages(env, "dato", dato) == 200
    assert report(env, [maker])[0] == 202
    for value in (maker, child, grandchild):
        assert manages(env, "pat", value) == 401
    assert manages(env, "dato", dato) == 401
    for pid in (maker_id, child_id, grandchild_id):
        assert call(env, "GET", f"/v1/personal_access_tokens/{pid}").status_code == 404
    assert call(env, "GET", f"/v1/spaces/{SPACE}/api_keys/{dato_id}").status_code == 404
    acct = {(e["action"], e["resource_id"]): e["actor"] for e in trail(env)}
    assert acct[("pat.leak_reported", maker_id)] == "leak-report:127.0.0.1"
    assert acct[("pat.revoke", child_id)] == acct[("pat.revoke", grandchild_id)] == \
        "leak-report:127.0.0.1"
    assert ("token.revoke", dato_id) in {(e["action"], e["resource_id"]) for e in trail(env, SPACE)}


def test_a_report_is_not_undone_by_concurrent_updates(env):
    """The disable is a compare-and-set write: renames racing with it on both
    workers re-read the record, and none writes the token active again."""
    for _ in range(3):
        k = api_key(env, "public")
        path = f"/v1/spaces/{SPACE}/api_keys/{k['id']}"

        def rename(i):
            r = call(env, "PUT", path, body={"api_key": {"name": f"n{i}"}})
            assert r.status_code in (200, 409), r.text

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            renames = [pool.submit(rename, i) for i in range(60)]
            assert report(env, [k["token"]])[0] == 202
            for f in renames:
                f.result()
        assert call(env, "GET", path).json()["api_key"]["status"] == "disabled"
        assert verify(env, k["token"]) == (401, "disabled")


@pytest.mark.parametrize("body,why", [
    ({"credentials": ["td_pub_x"] * 1001}, "at most 1000"),
    ({"credentials": ["x" * 257]}, "256 bytes"),
    ({"credentials": ["td_pub_" + "A" * 100000]}, "256 bytes"),
    ({"credentials": ["ok", 1]}, "list of strings"),
    ({"credentials": [None]}, "list of strings"),
    ({"credentials": "td_pub_x"}, "list of strings"),
    ({"tokens": []}, "list of strings"),
    (["td_pub_x"], "list of strings"),
    (None, "list of strings"),
])
def test_a_report_of_another_shape_is_422(env, body, why):
    k = api_key(env, "public")
    if isinstance(body, dict) and isinstance(body.get("credentials"), list):
        body["credentials"].append(k["token"])
    settle_last_use()
    before = commands_executed(env["redis"])
    r = requests.post(env["nginx"].url(REVOKE), timeout=30,
                      data=json.dumps(body) if body is not None else None,
                      headers={"Content-Type": "application/json"})
    assert commands_executed(env["redis"]) == before, "a refused report touched Redis"
    assert r.status_code == 422, r.text
    e = r.json()
    assert e["status"] == 422 and e["code"] == "invalid_field" and e["field"] == "credentials"
    assert why in e["error"] and e["request_id"]
    assert verify(env, k["token"]) == (200, "ok")


def test_a_full_report_is_taken(env):
    k = api_key(env, "public")
    status, _, body = report(env, ["td_pub_x"] * 999 + [k["token"]])
    assert (status, body) == (202, {"received": 1000})
    assert verify(env, k["token"]) == (401, "disabled")
    assert requests.post(env["nginx"].url(REVOKE), data="{", timeout=10,
                         headers={"Content-Type": "application/json"}).status_code == 400


def test_the_readme_documents_these_expressions():
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
    assert TOKEN_RE in readme.splitlines()
    assert "`" + TOKEN_RE2 + "`." in readme


def test_the_regular_expression_matches_every_kind_of_token(env):
    values = [api_key(env, a)["token"] for a in ACCESS_KINDS]
    values += [dato_manager(env)[1], swo_token(env)[1], make_pat(env)[1], builtin(env)["token"]]
    prefixes = {v[:7] if v.startswith("td_") else v[:4] for v in values}
    assert prefixes == {"td_pub_", "td_prv_", "td_ast_", "td_rel_", "td_thm_", "td_pat_", "idt:"}
    for v in values:
        assert re.fullmatch(TOKEN_RE, v), v
    # found in text, each once; one run into other token characters is no token
    text = "a: " + "\n b: '".join(values) + "'\nx" + values[0] + " " + values[1] + "x"
    assert re.findall(TOKEN_RE, text) == values
    # the form without lookaround takes one boundary character on each side
    assert [m.group(1) for m in re.finditer(TOKEN_RE2, ", ".join(values))] == values
    # a token inside a longer run of token characters is not one
    assert not re.search(TOKEN_RE, "x" + values[0]) and not re.search(TOKEN_RE, values[0] + "A")


def test_rate_limit_is_per_address():
    with running_stack(tokend_env={"TOKEND_LEAK_REPORT_RATE": "3"}) as env:
        for _ in range(3):
            status, headers, _ = report(env, [], source="127.0.0.2")
            assert status == 202 and headers["X-RateLimit-Limit"] == "3"
        status, headers, body = report(env, ["td_pub_x"], source="127.0.0.2")
        assert status == 429 and int(headers["Retry-After"]) >= 1, body
        assert body["code"] == "rate_limit_exceeded" and body["status"] == 429
        # another address has its own allowance
        assert report(env, [], source="127.0.0.3")[0] == 202
