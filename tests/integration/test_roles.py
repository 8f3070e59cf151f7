"""DatoCMS roles through nginx: the CRUD of a space's own roles beside the
two built-in ones, what a token's role lets it do (can_manage_access_tokens,
can_access_audit_log, after inheritance), the rules on changing a role (no
credential raises one past itself or cuts its own access), in-use deletes
refused without a race, spaces kept apart, and hostile input answered in the
DatoCMS error shape with Redis left as it was."""
import threading

import pytest
import requests

from harness import admin_with_space, running_stack

JSON_CT = "application/json; charset=utf-8"
A, B, LIMITS, GONE = 41, 42, 43, 44   # spaces

FLAGS = ["can_edit_favicon", "can_edit_site", "can_edit_schema", "can_manage_menu",
         "can_edit_environment", "can_promote_environments", "can_manage_users",
         "can_manage_shared_filters", "can_manage_search_indexes",
         "can_manage_upload_collections", "can_manage_build_triggers", "can_manage_webhooks",
         "can_manage_environments", "can_manage_sso", "can_access_audit_log",
         "can_manage_workflows", "can_manage_access_tokens", "can_perform_site_search",
         "can_access_build_events_log", "can_access_search_index_events_log"]
LISTS = ["positive_item_type_permissions", "negative_item_type_permissions",
         "positive_upload_permissions", "negative_upload_permissions",
         "positive_build_trigger_permissions", "negative_build_trigger_permissions",
         "positive_search_index_permissions", "negative_search_index_permissions"]


# the suite writes more to one space than a space's default write rate
ROOMY = {"TOKEND_SPACE_WRITE_RATE": "1000000"}


@pytest.fixture(scope="module")
def env():
    with running_stack(tokend_env=ROOMY) as stack:
        for sid in (A, B, LIMITS):
            admin_with_space(stack, sid)
        yield stack


def call(env, method, path, token=None, body=None, space=A, version="3"):
    h = {"Content-Type": "application/json"}
    if version is not None:
        h["X-Api-Version"] = version
    h["Authorization"] = "Bearer " + (token or env["admin"])
    if space is not None:
        h["X-Space-Id"] = str(space)
    return requests.request(method, env["nginx"].url(path), json=body, headers=h, timeout=10)


def error_code(r):
    assert r.headers["Content-Type"] == JSON_CT
    err = r.json()["data"][0]
    assert err["type"] == "api_error" and isinstance(err["attributes"]["details"], dict)
    return err["attributes"]["code"]


def role_doc(name=None, inherits=None, rid=None, **attrs):
    if name is not None:
        attrs["name"] = name
    d = {"type": "role", "attributes": attrs}
    if rid is not None:
        d["id"] = rid
    if inherits is not None:
        d["relationships"] = {"inherits_permissions_from": {
            "data": [{"type": "role", "id": str(i)} for i in inherits]}}
    return {"data": d}


def make_role(env, name, space=A, token=None, inherits=None, **attrs):
    r = call(env, "POST", "/roles", token, role_doc(name, inherits, **attrs), space=space)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def make_token(env, role, cma=True, space=A, token=None, name="t"):
    r = call(env, "POST", "/access_tokens", token, {"data": {
        "type": "access_token",
        "attributes": {"name": name, "can_access_cda": True, "can_access_cda_preview": False,
                       "can_access_cma": cma},
        "relationships": {"role": {"data": {"type": "role", "id": str(role)}}}}}, space=space)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def role_state(env, space=A):
    """Every role key of a space, with its content: what a refused request
    must leave as it was."""
    cli = env["redis"].cli
    out = {}
    for key in sorted(cli("KEYS", f"{{s:{space}}}:role*").split()):
        kind = cli("TYPE", key)
        out[key] = (cli("HGETALL", key) if kind == "hash"
                    else cli("ZRANGE", key, "0", "-1") if kind == "zset" else cli("GET", key))
    return out


def trail(env, space=A, limit=5):
    r = requests.get(env["nginx"].url(f"/v1/spaces/{space}/activities?limit={limit}"),
                     headers={"Authorization": env["admin"]}, timeout=10)
    return [(a["action"], a["resource_id"]) for a in r.json()["activities"]]


def test_builtin_roles_are_listed_whole(env):
    r = call(env, "GET", "/roles")
    assert r.status_code == 200 and r.headers["Content-Type"] == JSON_CT
    roles = r.json()["data"]
    assert [x["id"] for x in roles[:2]] == ["1", "2"]
    admin, ro = roles[0], roles[1]
    assert (admin["type"], admin["attributes"]["name"], ro["attributes"]["name"]) == (
        "role", "Admin", "Read-only")
    for role in (admin, ro):
        assert set(role["attributes"]) == {"name", "environments_access", *FLAGS, *LISTS}
        assert role["relationships"] == {"inherits_permissions_from": {"data": []}}
        assert set(role["meta"]["final_permissions"]) == {"environments_access", *FLAGS, *LISTS}
    assert all(admin["attributes"][f] is True for f in FLAGS)
    # Read-only: no flag but the audit log, which it always read
    assert [f for f in FLAGS if ro["attributes"][f]] == ["can_access_audit_log"]
    assert call(env, "GET", "/roles/2").json()["data"] == ro


def test_create_find_update_duplicate_destroy(env):
    perms = [{"action": "all", "environment": "main", "item_type": None,
              "on_creator": "anyone", "localization_scope": "all"}]
    neg = [{"action": "delete", "environment": "main", "item_type": "34"}]
    made = make_role(env, "Editor", can_edit_schema=True, environments_access="primary_only",
                     positive_item_type_permissions=perms, negative_item_type_permissions=neg,
                     positive_build_trigger_permissions=[{"build_trigger": None}],
                     negative_build_trigger_permissions=[], inherits=[2])
    rid = made["id"]
    assert int(rid) > 2
    a = made["attributes"]
    assert (a["name"], a["can_edit_schema"], a["can_manage_access_tokens"],
            a["environments_access"]) == ("Editor", True, False, "primary_only")
    assert a["positive_item_type_permissions"] == perms
    assert a["negative_item_type_permissions"] == neg
    assert a["positive_build_trigger_permissions"] == [{"build_trigger": None}]
    assert a["positive_upload_permissions"] == []
    assert made["relationships"]["inherits_permissions_from"]["data"] == [
        {"type": "role", "id": "2"}]
    # declared vs effective: the audit log comes from Read-only
    assert a["can_access_audit_log"] is False
    assert made["meta"]["final_permissions"]["can_access_audit_log"] is True
    assert made["meta"]["final_permissions"]["environments_access"] == "all"

    found = call(env, "GET", f"/roles/{rid}")
    assert found.status_code == 200 and found.json()["data"] == made
    assert made in call(env, "GET", "/roles").json()["data"]

    # a partial update: what is not sent stays
    r = call(env, "PUT", f"/roles/{rid}", body=role_doc("Editor 2", rid=rid,
                                                         can_manage_access_tokens=True))
    assert r.status_code == 200, r.text
    u = r.json()["data"]["attributes"]
    assert (u["name"], u["can_manage_access_tokens"], u["can_edit_schema"],
            u["positive_item_type_permissions"]) == ("Editor 2", True, True, perms)
    # lists sent replace the stored ones, pairs together
    r = call(env, "PUT", f"/roles/{rid}", body=role_doc(
        rid=rid, positive_item_type_permissions=[], negative_item_type_permissions=[]))
    assert r.json()["data"]["attributes"]["positive_item_type_permissions"] == []

    # duplicate: every attribute, "(duplicate #N)", a new id
    r = call(env, "POST", f"/roles/{rid}/duplicate")
    assert r.status_code == 201, r.text
    dup = r.json()["data"]
    assert dup["id"] != rid and dup["attributes"]["name"] == "Editor 2 (duplicate #1)"
    src = call(env, "GET", f"/roles/{rid}").json()["data"]
    for part in ("relationships", "meta"):
        assert dup[part] == src[part]
    assert {k: v for k, v in dup["attributes"].items() if k != "name"} == {
        k: v for k, v in src["attributes"].items() if k != "name"}
    dup2 = call(env, "POST", f"/roles/{rid}/duplicate").json()["data"]
    assert dup2["attributes"]["name"] == "Editor 2 (duplicate #2)"
    # a built-in one too
    adm = call(env, "POST", "/roles/1/duplicate").json()["data"]
    assert adm["attributes"]["name"] == "Admin (duplicate #1)"
    assert all(adm["attributes"][f] for f in FLAGS)

    for x in (dup2["id"], dup["id"], adm["id"]):
        assert call(env, "DELETE", f"/roles/{x}").status_code == 200
    r = call(env, "DELETE", f"/roles/{rid}")
    assert r.status_code == 200 and r.json()["data"]["id"] == rid
    r = call(env, "GET", f"/roles/{rid}")
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    assert trail(env, limit=9) == [
        ("role.delete", int(rid)), ("role.delete", int(adm["id"])),
        ("role.delete", int(dup["id"])), ("role.delete", int(dup2["id"])),
        ("role.duplicate", int(adm["id"])), ("role.duplicate", int(dup2["id"])),
        ("role.duplicate", int(dup["id"])), ("role.update", int(rid)),
        ("role.update", int(rid))]
    assert f"{{s:{A}}}:role:{rid}" not in role_state(env)


def test_names_are_unique_in_a_space(env):
    make_role(env, "Unique")
    before = role_state(env)
    for name in ("Unique", "Admin", "Read-only"):
        r = call(env, "POST", "/roles", body=role_doc(name))
        assert r.status_code == 422 and error_code(r) == "INVALID_FIELD", name
        assert r.json()["data"][0]["attributes"]["details"]["field"] == "name"
    assert role_state(env) == before
    # another space may use it
    make_role(env, "Unique", space=B)


def test_builtin_roles_cannot_change_or_go(env):
    before = role_state(env)
    for rid in ("1", "2"):
        r = call(env, "PUT", f"/roles/{rid}", body=role_doc("x", rid=rid))
        assert r.status_code == 422 and error_code(r) == "INVALID_FIELD"
        r = call(env, "DELETE", f"/roles/{rid}")
        assert r.status_code == 422 and error_code(r) == "DELETE_RESTRICTION"
    assert role_state(env) == before


def test_a_role_in_use_cannot_be_deleted(env):
    role = make_role(env, "Held")
    rid = role["id"]
    tok = make_token(env, rid, cma=False, name="holder")
    use = lambda: env["redis"].cli("HGET", f"{{s:{A}}}:role_use", rid)  # noqa: E731
    assert use() == "1"
    before = role_state(env)
    r = call(env, "DELETE", f"/roles/{rid}")
    assert r.status_code == 422 and error_code(r) == "DELETE_RESTRICTION"
    assert role_state(env) == before
    # moved to another role, the role is free
    r = call(env, "PUT", f"/access_tokens/{tok['id']}", body={"data": {
        "type": "access_token", "id": tok["id"],
        "relationships": {"role": {"data": {"type": "role", "id": "2"}}}}})
    assert r.status_code == 200 and use() == "0"
    # a role another role inherits from is in use too
    child = make_role(env, "Child", inherits=[rid])
    r = call(env, "DELETE", f"/roles/{rid}")
    assert r.status_code == 422 and error_code(r) == "DELETE_RESTRICTION"
    assert call(env, "DELETE", f"/roles/{child['id']}").status_code == 200
    # every way a token goes releases its role: DatoCMS delete, SoftwareOne
    # soft delete, the cascade of its maker's delete
    t1 = make_token(env, rid, cma=False, name="a")
    t2 = make_token(env, rid, cma=False, name="b")
    maker = make_token(env, 1, cma=True, name="maker")
    t3 = make_token(env, rid, cma=False, token=maker["attributes"]["token"], name="c")
    minted = make_token(env, rid, cma=True, token=maker["attributes"]["token"], name="d")
    assert use() == "4"
    assert call(env, "DELETE", f"/access_tokens/{t1['id']}").status_code == 200
    r = requests.delete(env["nginx"].url(f"/public/v1/accounts/api-tokens/TKN-0000-{int(t2['id']):04d}"),
                        headers={"Authorization": "Bearer " + env["admin"], "X-Space-Id": str(A)},
                        timeout=10)
    assert r.status_code == 204, r.text
    assert call(env, "DELETE", f"/access_tokens/{t3['id']}").status_code == 200
    assert use() == "1"
    assert call(env, "DELETE", f"/access_tokens/{maker['id']}").status_code == 200  # cascades
    r = call(env, "GET", f"/access_tokens/{minted['id']}")
    assert r.status_code == 404
    assert use() == "0"
    assert call(env, "DELETE", f"/roles/{rid}").status_code == 200


def test_delete_never_races_a_token_taking_the_role(env):
    """A delete and a token create naming the role, at once, through both
    workers: exactly one wins, and the use count is what tokens hold."""
    for i in range(15):
        rid = make_role(env, f"race {i}")["id"]
        got = {}

        def create():
            got["create"] = call(env, "POST", "/access_tokens", body={"data": {
                "type": "access_token",
                "attributes": {"name": "r", "can_access_cda": True,
                               "can_access_cda_preview": False, "can_access_cma": False},
                "relationships": {"role": {"data": {"type": "role", "id": rid}}}}})

        def delete():
            got["delete"] = call(env, "DELETE", f"/roles/{rid}")

        threads = [threading.Thread(target=create), threading.Thread(target=delete)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        c, d = got["create"].status_code, got["delete"].status_code
        assert (c, d) in ((201, 422), (422, 200)), (c, d, got["create"].text, got["delete"].text)
        if c == 201:
            assert error_code(got["delete"]) == "DELETE_RESTRICTION"
            assert env["redis"].cli("HGET", f"{{s:{A}}}:role_use", rid) == "1"
            call(env, "DELETE", f"/access_tokens/{got['create'].json()['data']['id']}")
            assert call(env, "DELETE", f"/roles/{rid}").status_code == 200
        else:
            assert error_code(got["create"]) == "INVALID_FIELD"
        assert env["redis"].cli("HGET", f"{{s:{A}}}:role_use", rid) in ("", "0")


def test_concurrent_updates_are_compare_and_set(env):
    rid = make_role(env, "Busy")["id"]
    done = []

    def flip(flag):
        for _ in range(10):
            r = call(env, "PUT", f"/roles/{rid}", body=role_doc(rid=rid, **{flag: True}))
            # a 409 is a change not made; any other answer is a change made
            done.append(r.status_code)
            assert r.status_code in (200, 409), r.text

    threads = [threading.Thread(target=flip, args=(f,))
               for f in ("can_edit_site", "can_edit_schema", "can_manage_menu")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # no write was lost: each flag set by its writer is there, and the
    # revision counted every write made
    a = call(env, "GET", f"/roles/{rid}").json()["data"]["attributes"]
    assert a["can_edit_site"] and a["can_edit_schema"] and a["can_manage_menu"]
    assert env["redis"].cli("HGET", f"{{s:{A}}}:role:{rid}", "rv") == str(done.count(200))


def test_roles_per_space_are_bounded(env):
    for i in range(100):
        make_role(env, f"r{i}", space=LIMITS)
    before = role_state(env, LIMITS)
    r = call(env, "POST", "/roles", body=role_doc("one too many"), space=LIMITS)
    assert r.status_code == 422 and error_code(r) == "PLAN_UPGRADE_REQUIRED"
    r = call(env, "POST", "/roles/1/duplicate", space=LIMITS)
    assert r.status_code == 422 and error_code(r) == "PLAN_UPGRADE_REQUIRED"
    assert role_state(env, LIMITS) == before
    assert len(call(env, "GET", "/roles", space=LIMITS).json()["data"]) == 102


def test_can_manage_access_tokens_governs_writes(env):
    reader = make_token(env, make_role(env, "Reader")["id"])["attributes"]["token"]
    writer_role = make_role(env, "Writer", can_manage_access_tokens=True)
    writer = make_token(env, writer_role["id"])["attributes"]["token"]
    # a reader lists (without values), writes nothing: tokens nor roles
    r = call(env, "GET", "/access_tokens", reader, space=None)
    assert r.status_code == 200 and all(t["attributes"]["token"] is None for t in r.json()["data"])
    assert call(env, "GET", "/roles", reader, space=None).status_code == 200
    token_doc = {"data": {"type": "access_token", "attributes": {
        "name": "x", "can_access_cda": True, "can_access_cda_preview": False,
        "can_access_cma": False}, "relationships": {"role": {"data": {"type": "role", "id": "2"}}}}}
    for method, path, body in (("POST", "/access_tokens", token_doc),
                               ("POST", "/roles", role_doc("no")),
                               ("POST", "/roles/1/duplicate", None),
                               ("PUT", f"/roles/{writer_role['id']}",
                                role_doc(rid=writer_role["id"], name="no")),
                               ("DELETE", f"/roles/{writer_role['id']}", None)):
        r = call(env, method, path, reader, body, space=None)
        assert r.status_code == 403 and error_code(r) == "INSUFFICIENT_PERMISSIONS", path
    # a writer creates tokens and roles, and sees values
    t = make_token(env, writer_role["id"], cma=False, token=writer, space=None)
    assert t["attributes"]["token"]
    made = make_role(env, "Writer made", token=writer, space=None, can_manage_access_tokens=True)
    # the reader's role raised: the very next request may write
    r = call(env, "PUT", f"/roles/{made['id']}", writer, role_doc(rid=made["id"], name="W2"),
             space=None)
    assert r.status_code == 200
    roles = call(env, "GET", "/roles", space=A).json()["data"]
    reader_role = [x for x in roles if x["attributes"]["name"] == "Reader"][0]["id"]
    assert call(env, "PUT", f"/roles/{reader_role}", body=role_doc(
        rid=reader_role, can_manage_access_tokens=True)).status_code == 200
    make_token(env, 2, cma=False, token=reader, space=None)


def test_can_access_audit_log_governs_the_trail(env):
    path = f"/v1/spaces/{A}/activities"
    no_log = make_role(env, "No log", can_manage_access_tokens=True)
    tok = make_token(env, no_log["id"])["attributes"]["token"]
    get = lambda t: requests.get(env["nginx"].url(path), headers={"Authorization": t},  # noqa: E731
                                 timeout=10)
    assert get(tok).status_code == 403
    call(env, "PUT", f"/roles/{no_log['id']}", body=role_doc(rid=no_log["id"],
                                                             can_access_audit_log=True))
    assert get(tok).status_code == 200
    # through inheritance as well
    call(env, "PUT", f"/roles/{no_log['id']}", body=role_doc(
        rid=no_log["id"], can_access_audit_log=False, inherits=[2]))
    assert get(tok).status_code == 200
    call(env, "PUT", f"/roles/{no_log['id']}", body=role_doc(rid=no_log["id"], inherits=[]))
    assert get(tok).status_code == 403
    # the built-in roles keep what they always had
    for builtin in (1, 2):
        assert get(make_token(env, builtin)["attributes"]["token"]).status_code == 200


def test_no_role_past_its_maker_and_no_self_cut(env):
    # a writer without the audit log
    wrole = make_role(env, "Mid", can_manage_access_tokens=True)
    w = make_token(env, wrole["id"])["attributes"]["token"]
    refused = lambda r, code: (r.status_code in (403, 422) and error_code(r) == code)  # noqa: E731
    # may make no role granting the trail, directly or by inheritance
    assert refused(call(env, "POST", "/roles", w, role_doc("up", can_access_audit_log=True),
                        space=None), "INSUFFICIENT_PERMISSIONS")
    for parent in (1, 2):
        assert refused(call(env, "POST", "/roles", w, role_doc("up", inherits=[parent]),
                            space=None), "INSUFFICIENT_PERMISSIONS")
        assert refused(call(env, "POST", f"/roles/{parent}/duplicate", w, space=None),
                       "INSUFFICIENT_PERMISSIONS")
    # nor change or delete a role above it
    above = make_role(env, "Above", can_access_audit_log=True)
    before = role_state(env)
    assert refused(call(env, "PUT", f"/roles/{above['id']}", w,
                        role_doc(rid=above["id"], name="lowered"), space=None),
                   "INSUFFICIENT_PERMISSIONS")
    assert refused(call(env, "DELETE", f"/roles/{above['id']}", w, space=None),
                   "INSUFFICIENT_PERMISSIONS")
    # nor raise its own role, nor lower or delete it
    assert refused(call(env, "PUT", f"/roles/{wrole['id']}", w,
                        role_doc(rid=wrole["id"], can_access_audit_log=True), space=None),
                   "INSUFFICIENT_PERMISSIONS")
    assert refused(call(env, "PUT", f"/roles/{wrole['id']}", w,
                        role_doc(rid=wrole["id"], can_manage_access_tokens=False), space=None),
                   "CANNOT_DESTROY_CURRENT_USER")
    assert refused(call(env, "DELETE", f"/roles/{wrole['id']}", w, space=None),
                   "CANNOT_DESTROY_CURRENT_USER")
    assert role_state(env) == before
    # its own role's other flags it may change
    assert call(env, "PUT", f"/roles/{wrole['id']}", w, role_doc(
        rid=wrole["id"], can_edit_site=True), space=None).status_code == 200
    # what it minted cannot lower its maker's role either
    m = make_token(env, wrole["id"], token=w, space=None)["attributes"]["token"]
    sub = make_role(env, "Sub", token=w, space=None, can_manage_access_tokens=True)
    r = call(env, "PUT", f"/roles/{wrole['id']}", m, role_doc(rid=wrole["id"], inherits=[]),
             space=None)
    assert r.status_code == 200
    assert refused(call(env, "PUT", f"/roles/{wrole['id']}", m,
                        role_doc(rid=wrole["id"], can_manage_access_tokens=False), space=None),
                   "CANNOT_DESTROY_CURRENT_USER")
    # a role it made, it may lower and delete
    assert call(env, "PUT", f"/roles/{sub['id']}", m, role_doc(
        rid=sub["id"], can_manage_access_tokens=False), space=None).status_code == 200
    assert call(env, "DELETE", f"/roles/{sub['id']}", m, space=None).status_code == 200
    # a cycle of inheritance is refused
    c1 = make_role(env, "C1")
    c2 = make_role(env, "C2", inherits=[c1["id"]])
    r = call(env, "PUT", f"/roles/{c1['id']}", body=role_doc(rid=c1["id"], inherits=[c2["id"]]))
    assert r.status_code == 422 and error_code(r) == "INVALID_FIELD"


def test_roles_are_their_space_s(env):
    own = make_role(env, "Only in A")
    b_before = role_state(env, B)
    # B does not see it, cannot use it, and has only its own ids
    r = call(env, "GET", f"/roles/{own['id']}", space=B)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    assert own["id"] not in [x["id"] for x in call(env, "GET", "/roles", space=B).json()["data"]]
    for method in ("PUT", "DELETE"):
        r = call(env, method, f"/roles/{own['id']}", body=role_doc(rid=own["id"], name="x"),
                 space=B)
        assert r.status_code == 404, method
    r = call(env, "POST", f"/roles/{own['id']}/duplicate", space=B)
    assert r.status_code == 404
    r = call(env, "POST", "/access_tokens", body={"data": {
        "type": "access_token", "attributes": {"name": "x", "can_access_cda": True,
                                               "can_access_cda_preview": False,
                                               "can_access_cma": False},
        "relationships": {"role": {"data": {"type": "role", "id": own["id"]}}}}}, space=B)
    assert r.status_code == 422 and error_code(r) == "INVALID_FIELD"
    r = call(env, "POST", "/roles", body=role_doc("inherits A's", inherits=[own["id"]]), space=B)
    assert r.status_code == 422 and error_code(r) == "INVALID_FIELD"
    assert role_state(env, B) == b_before
    # a token of A manages A's roles only
    admin_a = make_token(env, 1)["attributes"]["token"]
    r = call(env, "GET", "/roles", admin_a, space=B)
    assert r.status_code == 403 and error_code(r) == "INSUFFICIENT_PERMISSIONS"
    r = call(env, "POST", "/roles", admin_a, role_doc("sneak"), space=B)
    assert r.status_code == 403
    assert role_state(env, B) == b_before


BAD_DOCS = [
    ({"data": {"type": "role", "attributes": {"name": 5}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {"name": "x", "can_edit_site": "yes"}}},
     "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {"name": "x", "can_edit_site": 1}}},
     "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {"name": "x", "can_edit_site": None}}},
     "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {"name": "x", "environments_access": "mars"}}},
     "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {"name": "x", "is_admin": True}}},
     "INVALID_ATTRIBUTES"),
    ({"data": {"type": "role", "attributes": {"name": "x", "": True}}}, "INVALID_ATTRIBUTES"),
    ({"data": {"type": "role", "attributes": {}}}, "INVALID_ATTRIBUTES"),   # no name
    ({"data": {"type": "role", "attributes": []}}, "INVALID_ATTRIBUTES"),
    ({"data": {"type": "role", "attributes": {"name": ""}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {"name": "x" * 201}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {"name": "a\u0001b"}}}, "INVALID_FIELD"),
    ({"data": {"type": "access_token", "attributes": {"name": "x"}}}, "INVALID_TYPE"),
    ({"role": {"name": "x"}}, "INVALID_FORMAT"),
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_upload_permissions": []}}}, "INVALID_FIELD"),   # pair
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_item_type_permissions": {},
        "negative_item_type_permissions": []}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_item_type_permissions": ["all"],
        "negative_item_type_permissions": []}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_item_type_permissions": [{"environment": "main"}],
        "negative_item_type_permissions": []}}}, "INVALID_FIELD"),   # no action
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_item_type_permissions": [{"action": "fly", "environment": "main"}],
        "negative_item_type_permissions": []}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_item_type_permissions": [
            {"action": "all", "environment": "main", "admin": True}],
        "negative_item_type_permissions": []}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_item_type_permissions": [
            {"action": "all", "environment": "main", "item_type": "<script>"}],
        "negative_item_type_permissions": []}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_item_type_permissions": [
            {"action": "all", "environment": "m" * 65}],
        "negative_item_type_permissions": []}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_build_trigger_permissions": [{"build_trigger": 7}],
        "negative_build_trigger_permissions": []}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_upload_permissions": [{"action": "publish", "environment": "main"}],
        "negative_upload_permissions": []}}}, "INVALID_FIELD"),
    # bounded: entries, bytes, inherited roles
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_search_index_permissions": [{}] * 101,
        "negative_search_index_permissions": []}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_item_type_permissions": [
            {"action": "all", "environment": "e" * 64, "item_type": "i" * 64,
             "workflow": "w" * 64} for _ in range(100)],
        "negative_item_type_permissions": []}}}, "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {
        "name": "x", "positive_search_index_permissions": [{}] * 100000,
        "negative_search_index_permissions": []}}}, "INVALID_FIELD"),
    (role_doc("x", inherits=list(range(3, 20))), "INVALID_FIELD"),
    (role_doc("x", inherits=[999]), "INVALID_FIELD"),
    (role_doc("x", inherits=["01"]), "INVALID_FIELD"),
    (role_doc("x", inherits=["1", "1"]), "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {"name": "x"}, "relationships": {
        "inherits_permissions_from": {"data": [{"type": "access_token", "id": "1"}]}}}},
     "INVALID_FIELD"),
    ({"data": {"type": "role", "attributes": {"name": "x"}, "relationships": {
        "owner": {"data": None}}}}, "INVALID_RELATIONSHIP"),
    ({"data": {"type": "role", "attributes": {"name": "x"}, "relationships": []}},
     "INVALID_RELATIONSHIP"),
]


def target(env):
    """A role of space A the bad documents aim at (made once)."""
    for x in call(env, "GET", "/roles").json()["data"]:
        if x["attributes"]["name"] == "Target":
            return x["id"]
    return make_role(env, "Target")["id"]


@pytest.mark.parametrize("doc,code", BAD_DOCS, ids=range(len(BAD_DOCS)))
def test_bad_documents_change_nothing(env, doc, code):
    rid = target(env)
    before = role_state(env)
    r = call(env, "POST", "/roles", body=doc)
    assert r.status_code == 422 and error_code(r) == code, r.text
    assert role_state(env) == before
    if code != "INVALID_ATTRIBUTES" or "name" in str(doc):   # an update needs no name
        data = doc.get("data")
        if isinstance(data, dict):
            data = dict(data, id=rid)
        r = call(env, "PUT", f"/roles/{rid}", body={"data": data} if data else doc)
        assert 400 <= r.status_code < 500 and error_code(r), r.text
        assert role_state(env) == before


@pytest.mark.parametrize("bad", ["0", "01", "abc", "9223372036854775808", "-3",
                                 "9007199254740992", "3.0", "%20"])
def test_bad_ids_in_the_path_are_404(env, bad):
    before = role_state(env)
    for method, path, body in (("GET", f"/roles/{bad}", None),
                               ("PUT", f"/roles/{bad}", role_doc("x")),
                               ("DELETE", f"/roles/{bad}", None),
                               ("POST", f"/roles/{bad}/duplicate", None)):
        r = call(env, method, path, body=body)
        assert r.status_code == 404 and error_code(r) in ("NOT_FOUND", "INVALID_ENDPOINT"), (
            method, path, r.text)
    assert role_state(env) == before


def test_names_are_strict_utf8(env):
    """Bytes that are not strict UTF-8 never reach a role: json-c refuses
    some, and the core's validator (RFC 3629: no overlong forms, no
    surrogates) what json-c lets through."""
    before = role_state(env)
    for raw, status, code in ((b"\xc0\xae", 422, "INVALID_FIELD"),
                              (b"\xed\xa0\x80", 422, "INVALID_FIELD"),
                              (b"\xff", 400, "INVALID_JSON_BODY")):
        r = requests.post(env["nginx"].url("/roles"), timeout=10,
                          data=b'{"data":{"type":"role","attributes":{"name":"' + raw + b'"}}}',
                          headers={"Content-Type": "application/json", "X-Api-Version": "3",
                                   "X-Space-Id": str(A), "Authorization": env["admin"]})
        assert r.status_code == status and error_code(r) == code, raw
    assert role_state(env) == before


def test_role_ids_have_one_spelling_in_token_documents_too(env):
    """A token's role is named by its one spelling ("01" is no role), and
    so is a token in the DatoCMS path."""
    r = call(env, "POST", "/access_tokens", body={"data": {
        "type": "access_token", "attributes": {"name": "x", "can_access_cda": True,
                                               "can_access_cda_preview": False,
                                               "can_access_cma": False},
        "relationships": {"role": {"data": {"type": "role", "id": "01"}}}}})
    assert r.status_code == 422 and error_code(r) == "INVALID_FIELD"
    t = make_token(env, 2, cma=False)
    assert call(env, "GET", f"/access_tokens/{t['id']}").status_code == 200
    r = call(env, "GET", f"/access_tokens/0{t['id']}")
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"


def test_datocms_headers_are_required(env):
    before = role_state(env)
    r = call(env, "POST", "/roles", body=role_doc("v"), version=None)
    assert r.status_code == 422 and error_code(r) == "INVALID_API_VERSION"
    r = requests.post(env["nginx"].url("/roles"), json=role_doc("v"), timeout=10,
                      headers={"X-Api-Version": "3", "X-Space-Id": str(A)})
    assert r.status_code == 401 and error_code(r) == "INVALID_SITE"
    # a PAT for all spaces names its project
    r = call(env, "POST", "/roles", body=role_doc("v"), space=None)
    assert r.status_code == 422 and error_code(r) == "INVALID_FIELD"
    assert role_state(env) == before


def test_deleting_a_space_deletes_its_roles():
    with running_stack() as stack:
        s = admin_with_space(stack, GONE)
        rid = make_role(stack, "Doomed", space=GONE)["id"]
        make_role(stack, "Heir", space=GONE, inherits=[rid])
        make_token(stack, rid, space=GONE)
        assert stack["redis"].cli("KEYS", f"{{s:{GONE}}}:role*")
        assert s.delete(stack["nginx"].url(f"/v1/spaces/{GONE}"), timeout=10).status_code == 200
        # nothing of it is left but rate counters, which expire on their own
        left = stack["redis"].cli("KEYS", f"{{s:{GONE}}}:*").split()
        assert [k for k in left if ":rl:" not in k] == []
        # made again, the space starts with the built-in roles only
        admin_with_space(stack, GONE)
        assert [x["id"] for x in call(stack, "GET", "/roles", space=GONE).json()["data"]] == [
            "1", "2"]


def test_lists_hold_tokens_of_custom_roles_anywhere_in_them():
    """A token holding a space's own role, then more tokens after it: every
    view's list answers (the role table is read before the list's replies,
    never between them)."""
    with running_stack(tokend_env=ROOMY) as st:
        admin_with_space(st, 913)
        role = make_role(st, "listed", space=913)
        make_token(st, role["id"], cma=False, space=913, name="holds a role")
        for i in range(3):
            make_token(st, 2, cma=False, space=913, name=f"after {i}")
        h = {"Authorization": st["admin"], "X-Space-Id": "913", "X-Api-Version": "3"}
        sb = requests.get(st["nginx"].url("/v1/spaces/913/api_keys"), headers=h, timeout=10)
        assert sb.status_code == 200 and len(sb.json()["api_keys"]) == 5, sb.text
        dato = requests.get(st["nginx"].url("/access_tokens"), headers=h, timeout=10)
        assert dato.status_code == 200 and len(dato.json()["data"]) == 5, dato.text
        swo = requests.get(st["nginx"].url("/public/v1/accounts/api-tokens"), headers=h, timeout=10)
        assert swo.status_code == 200 and swo.json()["$meta"]["pagination"]["total"] == 5, swo.text
        roles = call(st, "GET", "/roles", space=913)
        assert roles.status_code == 200 and len(roles.json()["data"]) == 3
