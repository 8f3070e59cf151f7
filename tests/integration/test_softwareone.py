"""The SoftwareOne view (/public/v1/accounts/api-tokens) through nginx: the
exact requests of the official Python client (contract section 9), every
route and transition, RQL filters, projection, paging, ids and errors, and
the lifecycle seen from the other views and the verify path."""
import re

import pytest
import requests

from harness import running_stack

BASE = "/public/v1/accounts/api-tokens"
ACCOUNT = 9042


@pytest.fixture(scope="module")
def env():
    with running_stack() as stack:
        s = requests.Session()
        s.headers.update({"Authorization": "Bearer " + stack["admin"], "X-Space-Id": str(ACCOUNT)})
        r = s.post(stack["nginx"].url("/v1/spaces"), timeout=10,
                   json={"space": {"id": ACCOUNT, "name": "Acme"}})
        assert r.status_code == 201
        stack["s"] = s
        # the e2e suite's seed: a token with Access Management, acting as the client does
        seed = s.post(stack["nginx"].url(BASE), timeout=10, json=create_body("E2E Seeded Token"))
        assert seed.status_code == 201, seed.text
        stack["seed"] = seed.json()
        stack["client"] = requests.Session()
        stack["client"].headers.update({"Authorization": "Bearer " + seed.json()["token"],
                                        "Accept": "application/json",
                                        "User-Agent": "swo-marketplace-client/1.0"})
        yield stack


def create_body(name="E2E Test API Token"):
    # verbatim from the client's e2e conftest, with our account id
    return {"account": {"id": "ACC-0000-9042"}, "name": name,
            "description": "E2E API Token created during E2E tests", "icon": "",
            "modules": [{"id": "MOD-1756"}]}


def url(env, path):
    return env["nginx"].url(path)


def problem(r, status, title):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == status and body["title"] == title
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-00", body["traceId"])
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    return body


def test_create_shape_and_token_form(env):
    r = env["client"].post(url(env, BASE), json=create_body())
    assert r.status_code == 201
    t = r.json()
    assert re.fullmatch(r"TKN-\d{4}-\d{4}", t["id"])
    assert t["status"] == "Active" and t["name"] == "E2E Test API Token" and t["icon"] == ""
    assert re.fullmatch(r"idt:" + t["id"] + r":[A-Za-z0-9_-]{71}", t["token"])
    assert t["account"]["id"] == "ACC-0000-9042" and t["account"]["name"] == "Acme"
    assert {"id", "name", "type", "status"} <= set(t["account"])
    assert t["modules"] == [{"id": "MOD-1756", "name": "Access Management"}]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t["audit"]["created"]["at"])
    assert t["audit"]["created"]["by"]["id"] == env["seed"]["id"]
    assert None not in t.values()


def test_section_9_requests(env):
    """The query strings the official client sends, byte for byte."""
    c, seed = env["client"], env["seed"]
    sid = seed["id"]
    # svc.get("TKN-1", select=["+audit"])
    r = c.get(url(env, f"{BASE}/{sid}?select=%2Baudit"))
    assert r.status_code == 200 and r.json()["id"] == sid and "audit" in r.json()
    # svc.filter(id).filter(name).select("-name").iterate()
    q = f"?limit=100&offset=0&select=-name&and(eq(id,'{sid}'),eq(name,'E2E%20Seeded%20Token'))"
    r = c.get(url(env, BASE + q))
    assert r.status_code == 200
    body = r.json()
    assert body["$meta"]["pagination"] == {"offset": 0, "limit": 100, "total": 1}
    assert [t["id"] for t in body["data"]] == [sid]
    assert "name" not in body["data"][0] and "name" in body["$meta"]["omitted"]
    # svc.fetch_page(limit=10), then order_by("-audit.created.at")
    r = c.get(url(env, BASE + "?limit=10&offset=0"))
    assert r.status_code == 200 and set(r.json()["$meta"]["pagination"]) == {"offset", "limit", "total"}
    r = c.get(url(env, BASE + "?limit=10&offset=0&order=-audit.created.at"))
    ats = [t["id"] for t in r.json()["data"]]
    r2 = c.get(url(env, BASE + "?limit=10&offset=0&order=-audit.created.at&select=%2Baudit"))
    created = [t["audit"]["created"]["at"] for t in r2.json()["data"]]
    assert created == sorted(created, reverse=True) and len(ats) == len(created)
    # the client's unit-test query names fields api-tokens do not have: a 400 naming one
    r = c.get(url(env, BASE + "?limit=10&offset=5&order=-created,name&select=-audit,"
                  "product.agreements,-product.agreements.product&eq(status,'active')"))
    problem(r, 400, "Bad Request")
    # the e2e not-found id
    problem(c.get(url(env, f"{BASE}/TKN-0000-0000")), 404, "Not Found")


def test_lifecycle_and_transitions(env):
    c = env["client"]
    t = c.post(url(env, BASE), json=create_body("life")).json()
    tid, tok = t["id"], t["token"]
    own = requests.Session()
    own.headers["Authorization"] = "Bearer " + tok
    assert own.get(url(env, f"{BASE}/{tid}")).status_code == 200      # reads itself
    problem(c.post(url(env, f"{BASE}/{tid}/enable")), 400, "Bad Request")   # already Active
    r = c.post(url(env, f"{BASE}/{tid}/disable"))                      # no body, no Content-Type
    assert r.status_code == 200 and r.json()["status"] == "Disabled"
    assert "disabled" in c.get(url(env, f"{BASE}/{tid}?select=%2Baudit")).json()["audit"]
    assert own.get(url(env, f"{BASE}/{tid}")).status_code == 401       # refused at once
    problem(c.post(url(env, f"{BASE}/{tid}/disable")), 400, "Bad Request")
    r = c.post(url(env, f"{BASE}/{tid}/enable"))
    assert r.status_code == 200 and r.json()["status"] == "Active"
    assert own.get(url(env, f"{BASE}/{tid}")).status_code == 200
    r = c.delete(url(env, f"{BASE}/{tid}"))
    assert r.status_code == 204 and r.content == b""
    problem(c.get(url(env, f"{BASE}/{tid}")), 404, "Not Found")
    problem(c.delete(url(env, f"{BASE}/{tid}")), 404, "Not Found")
    problem(c.post(url(env, f"{BASE}/{tid}/enable")), 404, "Not Found")
    assert own.get(url(env, f"{BASE}/{tid}")).status_code == 401       # never again
    assert tid not in [x["id"] for x in c.get(url(env, BASE)).json()["data"]]
    # kept for audit in Redis, invisible in the other views
    num = int(tid[4:8] + tid[9:])
    assert env["redis"].cli("HGET", f"{{s:{ACCOUNT}}}:t:{num}", "s") == "D"
    admin = env["s"]
    assert admin.get(url(env, f"/v1/spaces/{ACCOUNT}/api_keys/{num}")).status_code == 404
    r = admin.get(url(env, f"/access_tokens/{num}"), headers={"X-Api-Version": "3"})
    assert r.status_code == 404


def test_disable_reaches_every_view_and_the_verify_path(env):
    admin = env["s"]
    key = admin.post(url(env, f"/v1/spaces/{ACCOUNT}/api_keys"), timeout=10,
                     json={"api_key": {"access": "public"}}).json()["api_key"]
    tid = "TKN-%04d-%04d" % (key["id"] // 10000, key["id"] % 10000)
    verify = lambda: requests.get(url(env, "/v1/verify"), timeout=10, headers={  # noqa: E731
        "X-Original-URI": "/v2/cdn/stories?token=" + key["token"]}).status_code
    assert verify() == 200
    assert env["client"].get(url(env, f"{BASE}/{tid}")).json()["token"] == key["token"]
    assert env["client"].post(url(env, f"{BASE}/{tid}/disable")).status_code == 200
    assert verify() == 401
    assert admin.get(url(env, f"/v1/spaces/{ACCOUNT}/api_keys/{key['id']}")).json()["api_key"][
        "status"] == "disabled"
    assert env["client"].post(url(env, f"{BASE}/{tid}/enable")).status_code == 200
    assert verify() == 200


def test_update_is_a_delta_and_ignores_read_only_fields(env):
    c = env["client"]
    t = c.post(url(env, BASE), json=create_body("upd")).json()
    body = create_body("upd-2")          # the e2e update sends the create body, account included
    body.update({"id": "TKN-9999-9999", "status": "Deleted", "token": "x", "audit": {}, "$meta": {}})
    r = c.put(url(env, f"{BASE}/{t['id']}"), json=body)
    assert r.status_code == 200
    u = r.json()
    assert (u["id"], u["status"], u["token"], u["name"]) == (t["id"], "Active", t["token"], "upd-2")
    r = c.put(url(env, f"{BASE}/{t['id']}"), json={"description": "only this"})
    assert r.json()["name"] == "upd-2" and r.json()["description"] == "only this"
    assert "updated" in c.get(url(env, f"{BASE}/{t['id']}?select=%2Baudit")).json()["audit"]


@pytest.mark.parametrize("body,field", [
    ({"account": {"id": "ACC-0000-9042"}}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "x", "description": "d" * 2001}, "description"),
    ({"name": "x", "modules": [{"id": "MOD-9999"}]}, "modules"),
    ({"name": "x", "modules": [{"id": "MOD-1756-1452"}]}, "modules"),
    ({"name": "x", "modules": "MOD-1756"}, "modules"),
    ({"name": "x", "account": {"id": "ACC-123-123"}}, "account"),
])
def test_create_validation(env, body, field):
    before = env["client"].get(url(env, BASE + "?limit=0")).json()["$meta"]["pagination"]["total"]
    r = env["client"].post(url(env, BASE), json=body)
    assert problem(r, 400, "Bad Request")["errors"][field]
    after = env["client"].get(url(env, BASE + "?limit=0")).json()["$meta"]["pagination"]["total"]
    assert after == before


def test_other_account_is_forbidden(env):
    body = create_body()
    body["account"]["id"] = "ACC-0000-0001"
    problem(env["client"].post(url(env, BASE), json=body), 403, "Forbidden")


# --- the account a create body names (issue 15, item 2) ---------------------

OTHER = 9043          # a second account, made by the first test that needs it


def other_account(env):
    r = env["s"].post(url(env, "/v1/spaces"), timeout=10,
                      json={"space": {"id": OTHER, "name": "Other"}})
    assert r.status_code in (201, 422), r.text       # 422: made by an earlier test
    return OTHER


def acc(n):
    return "ACC-%04d-%04d" % (n // 10000, n % 10000)


def as_pat(env, spaces):
    """A PAT for spaces ("all" or ids) that may write tokens, without X-Space-Id
    (one per module and spaces)."""
    key = ("pat", str(spaces))
    if key not in env:
        env[key] = make_pat(env, spaces)
    return env[key]


def make_pat(env, spaces):
    r = env["s"].post(url(env, "/v1/personal_access_tokens"), timeout=10, json={
        "personal_access_token": {"name": "multi", "spaces": spaces,
                                  "scopes": {"access_tokens": "write"}}})
    assert r.status_code == 201, r.text
    c = requests.Session()
    c.headers.update({"Authorization": "Bearer " + r.json()["personal_access_token"]["token"]})
    return c


def account_total(env, account):
    r = env["s"].get(url(env, BASE + "?limit=0"), headers={"X-Space-Id": str(account)})
    assert r.status_code == 200, r.text
    return r.json()["$meta"]["pagination"]["total"]


@pytest.mark.parametrize("spaces", ["all", "several"])
def test_body_account_selects_the_account_of_a_caller_that_reaches_several(env, spaces):
    other = other_account(env)
    c = as_pat(env, "all" if spaces == "all" else [ACCOUNT, other])
    for target in (ACCOUNT, other):
        before = account_total(env, target)
        r = c.post(url(env, BASE), timeout=10, json={"account": {"id": acc(target)},
                                                    "name": "b", "modules": []})
        assert r.status_code == 201, r.text
        assert r.json()["account"]["id"] == acc(target)
        assert account_total(env, target) == before + 1
        # X-Space-Id is still an alternative, and both may name the same account
        r = c.post(url(env, BASE), timeout=10, headers={"X-Space-Id": str(target)},
                   json={"name": "h", "modules": []})
        assert r.status_code == 201 and r.json()["account"]["id"] == acc(target), r.text
        r = c.post(url(env, BASE), timeout=10, headers={"X-Space-Id": str(target)},
                   json={"account": {"id": acc(target)}, "name": "hb", "modules": []})
        assert r.status_code == 201 and r.json()["account"]["id"] == acc(target), r.text
        assert account_total(env, target) == before + 3


def test_body_and_header_naming_different_accounts_is_400(env):
    other = other_account(env)
    for c in (as_pat(env, "all"), as_pat(env, [ACCOUNT, other]), env["client"]):
        before = (account_total(env, ACCOUNT), account_total(env, other))
        r = c.post(url(env, BASE), timeout=10, headers={"X-Space-Id": str(other)},
                   json={"account": {"id": acc(ACCOUNT)}, "name": "x", "modules": []})
        body = problem(r, 400, "Bad Request")
        assert "X-Space-Id" in body["errors"]["account"][0], body
        assert (account_total(env, ACCOUNT), account_total(env, other)) == before


@pytest.mark.parametrize("bad", ["ACC-123-123", "ACC-0000-0000", "TKN-0000-9042", "9042", 9042,
                                 None, ["ACC-0000-9042"]])
def test_malformed_body_account_is_400_for_every_caller(env, bad):
    other = other_account(env)
    before = account_total(env, ACCOUNT)
    for c in (as_pat(env, "all"), as_pat(env, [ACCOUNT, other]), env["client"]):
        r = c.post(url(env, BASE), timeout=10,
                   json={"account": {"id": bad}, "name": "x", "modules": []})
        body = problem(r, 400, "Bad Request")
        assert body["errors"]["account"] == ["account.id must look like ACC-1234-5678"], body
    assert account_total(env, ACCOUNT) == before
    r = env["client"].post(url(env, BASE), timeout=10, json={"account": "ACC-0000-9042", "name": "x"})
    assert problem(r, 400, "Bad Request")["errors"]["account"]


def test_unknown_body_account_is_404_or_403_outside_the_callers_reach(env):
    other = other_account(env)
    r = as_pat(env, "all").post(url(env, BASE), timeout=10,
                                json={"account": {"id": "ACC-0000-7777"}, "name": "x"})
    problem(r, 404, "Not Found")
    r = as_pat(env, [ACCOUNT, other]).post(url(env, BASE), timeout=10,
                                           json={"account": {"id": "ACC-0000-7777"}, "name": "x"})
    problem(r, 403, "Forbidden")
    assert env["redis"].cli("EXISTS", "{s:7777}:tokens").strip() == "0"


def test_several_accounts_and_none_named_is_400_naming_the_body(env):
    other = other_account(env)
    r = as_pat(env, [ACCOUNT, other]).post(url(env, BASE), timeout=10,
                                           json={"name": "x", "modules": []})
    body = problem(r, 400, "Bad Request")
    assert "account" in body["errors"] and "X-Space-Id" in body["errors"]["account"][0], body


@pytest.mark.parametrize("bad_id", ["TKN-1", "TKN-0000-000x", "TKN-00000-0001", "ACC-0000-0001",
                                    "tkn-0000-0001", "TKN-0000-0001-2", "%00", "TKN-9999-9999"])
def test_malformed_or_unknown_ids_are_404(env, bad_id):
    for method in ("GET", "PUT", "DELETE"):
        r = env["client"].request(method, url(env, f"{BASE}/{bad_id}"), json={"name": "x"})
        assert r.status_code in (404, 400) and r.status_code != 500
        if r.status_code == 404:
            assert r.json()["title"] == "Not Found"


def test_rql_filters_and_shortcuts(env):
    c, seed = env["client"], env["seed"]
    ids = lambda q: [t["id"] for t in c.get(url(env, BASE + "?" + q)).json()["data"]]  # noqa: E731
    assert ids(f"token={seed['token']}") == [seed["id"]]               # the old CLI's lookup
    assert ids(f"eq(token,'{seed['token']}')&limit=2") == [seed["id"]]
    assert seed["id"] in ids("any(modules,id=MOD-1756)")
    assert seed["id"] not in ids("any(modules,eq(id,'MOD-1234'))")
    assert seed["id"] in ids("ilike(name,'*seeded*')")
    assert seed["id"] in ids("eq(account.id,ACC-0000-9042)")
    assert seed["id"] in ids("in(status,(Active,Disabled))")
    assert seed["id"] not in ids("not(eq(status,Active))")
    assert seed["id"] in ids("eq(description,'E2E API Token created during E2E tests')")
    assert seed["id"] in ids("gt(audit.created.at,'2000-01-01T00:00:00.000Z')")
    assert seed["id"] in ids("name=E2E Seeded Token&status=Active")
    assert ids("eq(id,TKN-0000-0000)") == []
    assert ids("render()") == ids("")
    for bad in ("foo(x)", "eq(secret,1)", "rql=eq(a,b)", "eq(id,'x", "and(eq(id,1)"):
        body = problem(c.get(url(env, BASE + "?" + bad)), 400, "Bad Request")
        assert body["errors"]["rql"]


def test_pages_of_an_order_with_ties_cover_every_token_once(env):
    """order=status puts most tokens level: ties go by id, so walking the
    pages lists each token exactly once, and each page is the same twice."""
    c = env["client"]
    for i in range(5):
        c.post(url(env, BASE), json=create_body(f"tie{i}"))
    total = c.get(url(env, BASE + "?limit=0")).json()["$meta"]["pagination"]["total"]
    seen = []
    for offset in range(0, total, 2):
        page = c.get(url(env, BASE + f"?limit=2&offset={offset}&order=status")).json()["data"]
        again = c.get(url(env, BASE + f"?limit=2&offset={offset}&order=status")).json()["data"]
        assert [t["id"] for t in page] == [t["id"] for t in again]
        seen += [t["id"] for t in page]
    assert len(seen) == len(set(seen)) == total, seen
    ids = [int(i.replace("TKN-", "").replace("-", "")) for i in seen]
    statuses = [t["status"] for t in c.get(url(env, BASE + "?order=status&limit=100")).json()["data"]]
    assert statuses == sorted(statuses)
    assert all(a < b for (a, sa), (b, sb) in zip(zip(ids, statuses), zip(ids[1:], statuses[1:]))
               if sa == sb), ids


def test_projection_paging_and_meta(env):
    c = env["client"]
    for i in range(3):
        c.post(url(env, BASE), json=create_body(f"page{i}"))
    total = c.get(url(env, BASE + "?limit=0")).json()["$meta"]["pagination"]["total"]
    assert total >= 4
    r = c.get(url(env, BASE + "?limit=2&offset=1&order=name")).json()
    assert r["$meta"]["pagination"] == {"offset": 1, "limit": 2, "total": total}
    assert len(r["data"]) == 2 and r["$meta"]["omitted"] == ["modules", "audit"]
    names = [t["name"] for t in c.get(url(env, BASE + "?order=name")).json()["data"]]
    assert names == sorted(names)
    assert c.get(url(env, BASE + "?limit=500")).json()["$meta"]["pagination"]["limit"] == 100
    r = c.get(url(env, BASE + "?select=+modules,+audit,-description")).json()
    assert r["$meta"]["omitted"] == ["description"] and "audit" in r["data"][0]
    assert "description" not in r["data"][0]
    for q in ("limit=-1", "limit=x", "offset=1.5", "select=+nothing", "order=-nothing"):
        problem(c.get(url(env, BASE + "?" + q)), 400, "Bad Request")


def test_modules_catalogue(env):
    r = env["client"].get(url(env, "/public/v1/accounts/modules"))
    assert r.status_code == 200
    mods = {m["id"]: m for m in r.json()["data"]}
    assert mods["MOD-1756"]["name"] == "Access Management"
    assert "MOD-1234" in mods
    assert r.json()["$meta"]["pagination"]["total"] == len(mods)
    assert env["client"].get(url(env, "/public/v1/accounts/modules/MOD-1756")).json() == mods["MOD-1756"]
    problem(env["client"].get(url(env, "/public/v1/accounts/modules/MOD-0000")), 404, "Not Found")


def test_modules_grant_scopes(env):
    c = env["client"]
    body = create_body("no modules")
    body["modules"] = []
    weak = c.post(url(env, BASE), json=body).json()
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + weak["token"]
    assert s.get(url(env, f"{BASE}/{weak['id']}")).status_code == 200   # itself: always
    problem(s.get(url(env, BASE)), 403, "Forbidden")
    problem(s.post(url(env, BASE), json=create_body()), 403, "Forbidden")


def test_unauthenticated_is_401_problem(env):
    problem(requests.get(url(env, BASE)), 401, "Unauthorized")
    problem(requests.get(url(env, BASE), headers={"Authorization": "Bearer idt:TKN-0000-0001:x"}),
            401, "Unauthorized")
