"""The audit trail: every management change, in any dialect, appends who,
what, when and which record to the space's activity log."""
import requests

from harness import running_stack


def test_every_change_is_logged_newest_first():
    with running_stack() as env:
        n, admin = env["nginx"], env["admin"]
        h = {"Authorization": admin}
        sid = 31
        assert requests.post(n.url("/v1/spaces"), headers=h, timeout=10,
                             json={"space": {"id": sid, "name": "audit"}}).status_code == 201
        sb = requests.post(n.url(f"/v1/spaces/{sid}/api_keys"), headers=h, timeout=10,
                           json={"api_key": {"access": "public"}}).json()["api_key"]
        requests.put(n.url(f"/v1/spaces/{sid}/api_keys/{sb['id']}"), headers=h, timeout=10,
                     json={"api_key": {"name": "x"}})
        requests.post(n.url(f"/v1/spaces/{sid}/api_keys/{sb['id']}/regenerate"), headers=h,
                      timeout=10)
        dato_h = {"Authorization": "Bearer " + admin, "X-Api-Version": "3", "X-Space-Id": str(sid)}
        dato = requests.post(n.url("/access_tokens"), headers=dato_h, timeout=10, json={
            "data": {"type": "access_token", "attributes": {
                "name": "d", "can_access_cda": True, "can_access_cda_preview": False,
                "can_access_cma": True}, "relationships": {"role": {"data": {
                    "type": "role", "id": "1"}}}}}).json()["data"]
        swo_h = {"Authorization": "Bearer " + dato["attributes"]["token"]}
        swo = requests.post(n.url("/public/v1/accounts/api-tokens"), headers=swo_h, timeout=10,
                            json={"name": "s"}).json()
        requests.post(n.url(f"/public/v1/accounts/api-tokens/{swo['id']}/disable"),
                      headers=swo_h, timeout=10)
        requests.delete(n.url(f"/v1/spaces/{sid}/api_keys/{sb['id']}"), headers=h, timeout=10)

        r = requests.get(n.url(f"/v1/spaces/{sid}/activities"), headers=h, timeout=10)
        assert r.status_code == 200
        acts = r.json()["activities"]
        got = [(a["action"], a["actor"]) for a in acts]
        pat = "pat:1"
        assert got == [
            ("api_key.delete", pat),
            ("api_token.disable", f"token:{dato['id']}"),
            ("api_token.create", f"token:{dato['id']}"),
            ("access_token.create", pat),
            ("api_key.regenerate", pat),
            ("api_key.update", pat),
            ("api_key.create", pat),
            ("space.create", pat),
        ]
        assert acts[0]["resource_id"] == sb["id"]
        assert all(a["at"].endswith("Z") for a in acts)
        r = requests.get(n.url(f"/v1/spaces/{sid}/activities?limit=2"), headers=h, timeout=10)
        assert [a["action"] for a in r.json()["activities"]] == ["api_key.delete",
                                                                 "api_token.disable"]
        assert requests.get(n.url(f"/v1/spaces/{sid}/activities?limit=0"), headers=h,
                            timeout=10).status_code == 422
        # the log is the space's: another space's credential cannot read it
        other = requests.post(n.url("/v1/personal_access_tokens"), headers=h, timeout=10, json={
            "personal_access_token": {"name": "o", "spaces": [999], "scopes": {"spaces": "read"}}
        }).json()["personal_access_token"]["token"]
        assert requests.get(n.url(f"/v1/spaces/{sid}/activities"), timeout=10,
                            headers={"Authorization": other}).status_code == 403
        # the stream is capped and goes with its space
        assert env["redis"].cli("TYPE", f"{{s:{sid}}}:activities") == "stream"
        assert requests.delete(n.url(f"/v1/spaces/{sid}"), headers=h, timeout=10).status_code == 200
        assert env["redis"].cli("EXISTS", f"{{s:{sid}}}:activities") == "0"
