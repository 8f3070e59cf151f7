"""The DatoCMS view (/access_tokens, /roles) through nginx: every route,
every error code, and the same tokens seen through the Storyblok view."""
import pytest
import requests

from harness import Nginx, Tokend, create_admin_pat, running_stack

JSON_CT = "application/json; charset=utf-8"


@pytest.fixture(scope="module")
def env():
    with running_stack() as stack:
        for sid in (77, 78):
            assert requests.post(stack["nginx"].url("/v1/spaces"), timeout=10,
                                 headers={"Authorization": stack["admin"]},
                                 json={"space": {"id": sid, "name": f"p{sid}"}}).status_code == 201
        yield stack


def call(env, method, path, token=None, body=None, space=77, version="3", **headers):
    h = {"Content-Type": "application/json"}
    if version is not None:
        h["X-Api-Version"] = version
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if space is not None:
        h["X-Space-Id"] = str(space)
    h.update(headers)
    return requests.request(method, env["nginx"].url(path), json=body, headers=h, timeout=10)


def doc(name="t", cda=True, preview=False, cma=False, role="1", **extra):
    d = {"type": "access_token", "attributes": {"name": name, "can_access_cda": cda,
                                                "can_access_cda_preview": preview,
                                                "can_access_cma": cma}}
    if role is not None:
        d["relationships"] = {"role": {"data": {"type": "role", "id": role}}}
    d.update(extra)
    return {"data": d}


def error_code(r):
    assert r.headers["Content-Type"] == JSON_CT
    err = r.json()["data"][0]
    assert err["type"] == "api_error" and isinstance(err["attributes"]["details"], dict)
    return err["attributes"]["code"]


def create(env, **kw):
    r = call(env, "POST", "/access_tokens", env["admin"], doc(**kw))
    assert r.status_code == 201, r.text
    return r.json()["data"]


def test_create_find_list_shape(env):
    t = create(env, name="reader", cda=True, preview=True, cma=False, role="2")
    assert t["type"] == "access_token" and isinstance(t["id"], str)
    a = t["attributes"]
    assert (a["name"], a["can_access_cda"], a["can_access_cda_preview"], a["can_access_cma"],
            a["hardcoded_type"], a["last_cma_access"], a["last_cda_access"]) == (
        "reader", True, True, False, None, "never", "never")
    assert a["token"].startswith("td_prv_")
    assert t["relationships"] == {"role": {"data": {"type": "role", "id": "2"}}}
    found = call(env, "GET", f"/access_tokens/{t['id']}", env["admin"])
    assert found.status_code == 200 and found.json() == {"data": t}
    listed = call(env, "GET", "/access_tokens", env["admin"]).json()["data"]
    assert t in listed and [int(x["id"]) for x in listed] == sorted(int(x["id"]) for x in listed)


def test_one_token_two_views(env):
    """Created through DatoCMS, seen through Storyblok, and the other way."""
    admin = {"Authorization": env["admin"]}
    dato = create(env, name="both", cda=True, preview=True)
    sb = requests.get(env["nginx"].url(f"/v1/spaces/77/api_keys/{dato['id']}"), headers=admin,
                      timeout=10).json()["api_key"]
    assert (sb["name"], sb["access"], sb["token"]) == ("both", "private", dato["attributes"]["token"])
    r = requests.post(env["nginx"].url("/v1/spaces/77/api_keys"), headers=admin, timeout=10,
                      json={"api_key": {"access": "public", "name": "from storyblok"}})
    sb = r.json()["api_key"]
    d = call(env, "GET", f"/access_tokens/{sb['id']}", env["admin"]).json()["data"]["attributes"]
    assert (d["name"], d["can_access_cda"], d["can_access_cda_preview"], d["can_access_cma"],
            d["token"]) == ("from storyblok", True, False, False, sb["token"])
    # an update in one view shows in the other
    call(env, "PUT", f"/access_tokens/{sb['id']}", env["admin"],
         {"data": {"type": "access_token", "id": str(sb["id"]),
                   "attributes": {"can_access_cda_preview": True}}})
    again = requests.get(env["nginx"].url(f"/v1/spaces/77/api_keys/{sb['id']}"), headers=admin,
                         timeout=10).json()["api_key"]
    assert again["access"] == "private" and again["name"] == "from storyblok"


def test_update_is_partial_and_keeps_role_and_secret(env):
    t = create(env, name="u", role="2")
    r = call(env, "PUT", f"/access_tokens/{t['id']}", env["admin"],
             {"data": {"id": t["id"], "type": "access_token", "attributes": {"name": "u2"}}})
    assert r.status_code == 200
    u = r.json()["data"]
    assert u["attributes"]["name"] == "u2" and u["relationships"] == t["relationships"]
    assert u["attributes"]["token"] == t["attributes"]["token"]
    assert u["attributes"]["can_access_cda"] is True


def test_regenerate_changes_only_the_value_and_kills_the_old_one(env):
    t = create(env, name="rot", cda=True)
    old = t["attributes"]["token"]
    verify = lambda tok: requests.get(env["nginx"].url("/v1/verify"), timeout=10,  # noqa: E731
                                      headers={"X-Original-URI": f"/v2/cdn/stories?token={tok}"})
    assert verify(old).status_code == 200
    r = call(env, "POST", f"/access_tokens/{t['id']}/regenerate_token", env["admin"])
    assert r.status_code == 200
    new = r.json()["data"]
    assert new["attributes"]["token"] != old
    new["attributes"]["token"] = old
    assert new == t
    assert verify(old).status_code == 401
    assert verify(r.json()["data"]["attributes"]["token"]).status_code == 200


def test_destroy_returns_the_deleted_object(env):
    t = create(env, name="bye")
    r = call(env, "DELETE", f"/access_tokens/{t['id']}?destination_user_type=account&"
                            "destination_user_id=1", env["admin"])
    assert r.status_code == 200 and r.json()["data"]["id"] == t["id"]
    r = call(env, "GET", f"/access_tokens/{t['id']}", env["admin"])
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"


def test_space_token_acts_in_its_own_space_only(env):
    mgr = create(env, name="mgr", cma=True, role="1")["attributes"]["token"]
    r = call(env, "GET", "/access_tokens", mgr, space=None)
    assert r.status_code == 200 and all(x["attributes"]["token"] for x in r.json()["data"])
    # X-Space-Id cannot move it to another project
    r = call(env, "GET", "/access_tokens", mgr, space=78)
    assert r.status_code == 403 and error_code(r) == "INSUFFICIENT_PERMISSIONS"
    assert call(env, "GET", "/access_tokens", mgr, space=77).status_code == 200
    other = requests.get(env["nginx"].url("/v1/spaces/78/api_keys"), timeout=10,
                         headers={"Authorization": mgr})
    assert other.status_code == 403


def test_read_only_role_sees_no_secrets_and_cannot_write(env):
    ro = create(env, name="ro", cma=True, role="2")
    tok = ro["attributes"]["token"]
    r = call(env, "GET", "/access_tokens", tok, space=None)
    assert r.status_code == 200 and all(x["attributes"]["token"] is None for x in r.json()["data"])
    for method, path, body in [("POST", "/access_tokens", doc()),
                               ("PUT", f"/access_tokens/{ro['id']}", doc()),
                               ("POST", f"/access_tokens/{ro['id']}/regenerate_token", None),
                               ("DELETE", f"/access_tokens/{ro['id']}", None)]:
        r = call(env, method, path, tok, body, space=None)
        assert r.status_code == 403 and error_code(r) == "INSUFFICIENT_PERMISSIONS", path


def test_a_token_cannot_destroy_itself(env):
    me = create(env, name="me", cma=True, role="1")
    r = call(env, "DELETE", f"/access_tokens/{me['id']}", me["attributes"]["token"], space=None)
    assert r.status_code == 422 and error_code(r) == "CANNOT_DESTROY_CURRENT_USER"


@pytest.mark.parametrize("kw,status,code", [
    ({"version": None}, 422, "INVALID_API_VERSION"),
    ({"version": "2"}, 422, "INVALID_API_VERSION"),
    ({"token": None}, 401, "INVALID_SITE"),
    ({"token": "garbage"}, 401, "INVALID_AUTHORIZATION_HEADER"),
    ({"space": None}, 422, "INVALID_FIELD"),
    ({"space": 999}, 404, "NOT_FOUND"),
    ({"Accept": "text/html"}, 406, "INVALID_ACCEPT_HEADER"),
    ({"X-Environment": "sandbox-1"}, 404, "INVALID_ENVIRONMENT"),
])
def test_prelude_errors(env, kw, status, code):
    args = {"token": env["admin"]}
    args.update(kw)
    r = call(env, "GET", "/access_tokens", **args)
    assert r.status_code == status and error_code(r) == code


def test_accept_variants_that_allow_json(env):
    for accept in ("application/json", "*/*", "application/vnd.api+json", "application/*"):
        assert call(env, "GET", "/access_tokens", env["admin"], Accept=accept).status_code == 200
    assert call(env, "GET", "/access_tokens", env["admin"],
                **{"X-Environment": "main"}).status_code == 200


@pytest.mark.parametrize("body,code", [
    ({"data": {"type": "item", "attributes": {}}}, "INVALID_TYPE"),
    (doc(role=None), "INVALID_FIELD"),
    (doc(role="99"), "INVALID_FIELD"),
    (doc(cda="yes"), "INVALID_FIELD"),
    (doc(name=""), "INVALID_FIELD"),
    (doc(name="x" * 256), "INVALID_FIELD"),
    ({"data": {"type": "access_token", "attributes": {"name": "n"},
               "relationships": {"role": {"data": {"type": "role", "id": "1"}}}}},
     "INVALID_ATTRIBUTES"),
    ({"nodata": 1}, "INVALID_FORMAT"),
])
def test_create_validation(env, body, code):
    before = len(call(env, "GET", "/access_tokens", env["admin"]).json()["data"])
    r = call(env, "POST", "/access_tokens", env["admin"], body)
    assert r.status_code == 422 and error_code(r) == code
    assert len(call(env, "GET", "/access_tokens", env["admin"]).json()["data"]) == before


def test_update_errors(env):
    t = create(env)
    r = call(env, "PUT", f"/access_tokens/{t['id']}", env["admin"],
             {"data": {"type": "access_token", "id": "12345", "attributes": {}}})
    assert r.status_code == 422 and error_code(r) == "INVALID_FIELD"
    r = call(env, "PUT", "/access_tokens/999999", env["admin"], doc())
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    r = call(env, "PUT", "/access_tokens/abc", env["admin"], doc())
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"


def test_unknown_paths_and_methods_are_api_errors(env):
    r = call(env, "GET", "/access_tokens/1/nothing", env["admin"])
    assert r.status_code == 404 and error_code(r) == "INVALID_ENDPOINT"
    r = call(env, "PATCH", "/access_tokens", env["admin"])
    assert r.status_code == 405 and error_code(r) == "INVALID_ENDPOINT"


def test_roles(env):
    r = call(env, "GET", "/roles", env["admin"])
    assert r.status_code == 200
    roles = {x["id"]: x for x in r.json()["data"]}
    assert roles["1"]["attributes"]["can_manage_access_tokens"] is True
    assert roles["2"]["attributes"]["can_manage_access_tokens"] is False
    assert roles["1"]["type"] == "role"
    assert call(env, "GET", "/roles/2", env["admin"]).json()["data"] == roles["2"]
    r = call(env, "GET", "/roles/7", env["admin"])
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"


def test_management_only_token_cannot_read_content(env):
    t = create(env, name="cma only", cda=False, preview=False, cma=True)
    r = requests.get(env["nginx"].url("/v1/verify"), timeout=10, headers={
        "X-Original-URI": "/v2/cdn/stories?token=" + t["attributes"]["token"]})
    assert r.status_code == 401 and r.headers["X-Tokend-Reason"] == "no_delivery_access"


def test_built_in_token(env):
    listed = call(env, "GET", "/access_tokens", env["admin"], space=78).json()["data"]
    builtin = [t for t in listed if t["attributes"]["hardcoded_type"] == "readonly"]
    assert len(builtin) == 1
    b = builtin[0]
    assert b["attributes"]["name"] == "Read-only API token"
    assert b["relationships"]["role"]["data"] == {"type": "role", "id": "2"}
    r = call(env, "PUT", f"/access_tokens/{b['id']}", env["admin"],
             {"data": {"type": "access_token", "attributes": {"name": "mine"}}}, space=78)
    assert r.status_code == 422 and error_code(r) == "NON_EDITABLE_ACCESS_TOKEN"
    r = call(env, "POST", f"/access_tokens/{b['id']}/regenerate_token", env["admin"], space=78)
    assert r.status_code == 200
    # the built-in token is itself a (read-only) CMA credential for its project
    r = call(env, "GET", "/access_tokens", r.json()["data"]["attributes"]["token"], space=None)
    assert r.status_code == 200 and all(t["attributes"]["token"] is None for t in r.json()["data"])
    r = call(env, "DELETE", f"/access_tokens/{b['id']}", env["admin"], space=78)
    assert r.status_code == 200


def test_rate_limit_headers_on_every_answer_and_429(workdir, redis):
    """Counted in Redis per caller and project; every DatoCMS answer says
    where the caller stands, errors included."""
    admin = create_admin_pat(workdir, redis.url)
    t = Tokend(workdir, redis.url, env={"TOKEND_RATE_LIMIT_REQUESTS": "5",
                                        "TOKEND_RATE_LIMIT_WINDOW_MS": "60000"}).start()
    n = Nginx(workdir, t.socket, t.verify_socket).start()
    env = {"nginx": n, "admin": admin}
    try:
        requests.post(n.url("/v1/spaces"), headers={"Authorization": admin}, timeout=10,
                      json={"space": {"id": 5, "name": "rl"}})
        seen = []
        for _ in range(5):
            r = call(env, "GET", "/access_tokens", admin, space=5)
            assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "5"
            seen.append(int(r.headers["X-RateLimit-Remaining"]))
        assert seen == [4, 3, 2, 1, 0]
        r = call(env, "GET", "/access_tokens", admin, space=5)
        assert r.status_code == 429 and error_code(r) == "RATE_LIMIT_EXCEEDED"
        assert r.headers["X-RateLimit-Remaining"] == "0"
        assert 1 <= int(r.headers["X-RateLimit-Reset"]) <= 60
        # another caller has its own allowance; errors before a caller is known carry headers too
        other = create_admin_pat(workdir, redis.url)
        assert call(env, "GET", "/access_tokens", other, space=5).headers["X-RateLimit-Remaining"] == "4"
        for r in (call(env, "GET", "/access_tokens", admin, space=5, version=None),
                  call(env, "GET", "/access_tokens", "garbage", space=5),
                  call(env, "GET", "/access_tokens/1/x", admin, space=5)):
            assert r.status_code in (401, 404, 422)
            assert r.headers["X-RateLimit-Limit"] == "5" and "X-RateLimit-Remaining" in r.headers
    finally:
        n.stop()
        t.stop()
