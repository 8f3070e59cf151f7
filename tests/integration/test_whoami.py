"""GET /v1/whoami: the calling credential as the core identified it, and
the operations it may start (what the console offers), never more than the
API itself allows."""
import requests

from harness import running_stack

MAY_KEYS = {"spaces.list", "spaces.create", "spaces.update", "spaces.delete",
            "spaces.activities", "activities", "tokens.list", "tokens.create",
            "tokens.update", "tokens.regenerate", "tokens.status", "tokens.delete",
            "pats.list", "pats.create", "pats.delete", "roles.list", "roles.create"}


def test_whoami_names_each_kind_of_credential_and_what_it_may_do():
    with running_stack() as env:
        n, admin = env["nginx"], env["admin"]
        h = {"Authorization": admin}

        # no credential, or a forged one: 401 like every management route
        assert requests.get(n.url("/v1/whoami"), timeout=10).status_code == 401
        assert requests.get(n.url("/v1/whoami"), timeout=10,
                            headers={"Authorization": admin[:-2] + "AA"}).status_code == 401

        me = requests.get(n.url("/v1/whoami"), headers=h, timeout=10).json()
        assert me["kind"] == "personal_access_token" and me["id"] == 1
        assert me["spaces"] == "all" and me["full_permission"] is True
        assert me["expires_at"] is None and me["role"] is None
        assert me["scopes"] == {"spaces": "write", "access_tokens": "write",
                                "personal_access_tokens": "write"}
        assert set(me["may"]) == MAY_KEYS and all(me["may"].values())

        assert requests.post(n.url("/v1/spaces"), headers=h, timeout=10,
                             json={"space": {"id": 61, "name": "w"}}).status_code == 201
        ro = requests.post(n.url("/v1/personal_access_tokens"), headers=h, timeout=10, json={
            "personal_access_token": {"name": "ro", "spaces": [61],
                                      "scopes": {"access_tokens": "read"},
                                      "expires_at": "2099-01-01T00:00:00Z"}}).json()
        ro_h = {"Authorization": "Bearer " + ro["personal_access_token"]["token"]}
        me = requests.get(n.url("/v1/whoami"), headers=ro_h, timeout=10).json()
        assert me["kind"] == "personal_access_token"
        assert me["id"] == ro["personal_access_token"]["id"]
        assert me["spaces"] == [61] and me["full_permission"] is False
        assert me["scopes"] == {"access_tokens": "read"}
        assert me["expires_at"] == "2099-01-01T00:00:00.000Z"
        allowed = {k for k, v in me["may"].items() if v}
        assert allowed == {"tokens.list", "roles.list"}
        # and the API agrees with what whoami says it may not do
        assert requests.post(n.url("/v1/spaces/61/api_keys"), headers=ro_h, timeout=10,
                             json={"api_key": {"access": "public"}}).status_code == 403
        assert requests.get(n.url("/v1/spaces"), headers=ro_h, timeout=10).status_code == 403
        assert requests.get(n.url("/v1/spaces/61/api_keys"), headers=ro_h,
                            timeout=10).status_code == 200

        # a PAT for one space with every scope still creates no space and
        # reads no account trail: both are about every space
        one = requests.post(n.url("/v1/personal_access_tokens"), headers=h, timeout=10, json={
            "personal_access_token": {"name": "one", "spaces": [61], "scopes": {
                "spaces": "write", "access_tokens": "write",
                "personal_access_tokens": "write"}}}).json()["personal_access_token"]
        one_h = {"Authorization": one["token"]}
        may = requests.get(n.url("/v1/whoami"), headers=one_h, timeout=10).json()["may"]
        assert may["spaces.create"] is False and may["activities"] is False
        assert may["tokens.create"] and may["spaces.update"] and may["pats.create"]
        assert requests.post(n.url("/v1/spaces"), headers=one_h, timeout=10,
                             json={"space": {"name": "no"}}).status_code == 403
        assert requests.get(n.url("/v1/activities"), headers=one_h,
                            timeout=10).status_code == 403

        # a space token with the management right, through the read-only role
        tok = requests.get(n.url("/v1/spaces/61/api_keys/1"), headers=h,
                           timeout=10).json()["api_key"]
        me = requests.get(n.url("/v1/whoami"), timeout=10,
                          headers={"Authorization": tok["token"]}).json()
        assert me["kind"] == "token" and me["id"] == tok["id"]
        assert me["spaces"] == [61] and me["role"] == 2
        # never full permission, whatever the worker served before (the
        # admin's full PAT, on every worker)
        for _ in range(12):
            requests.get(n.url("/v1/whoami"), headers=h, timeout=10)
            assert requests.get(n.url("/v1/whoami"), timeout=10, headers={
                "Authorization": tok["token"]}).json()["full_permission"] is False
        assert me["may"]["tokens.list"] and not me["may"]["tokens.create"]
        assert not me["may"]["pats.create"] and not me["may"]["spaces.create"]
        # it never shows a value
        assert "token" not in me
