"""Access control audit: a credential of space A can touch nothing of space
B through any dialect; read-scoped credentials cannot write; expired PATs
are refused everywhere; a PAT's secret appears nowhere after creation."""
import base64
import requests
import pytest

from harness import running_stack
from test_hostile import redis_state
from test_tokens import DUMP_ALL

A, B = 5101, 5102
DATO = {"X-Api-Version": "3"}


@pytest.fixture(scope="module")
def env():
    with running_stack() as stack:
        n, admin = stack["nginx"], stack["admin"]
        h = {"Authorization": admin}
        for sid in (A, B):
            assert requests.post(n.url("/v1/spaces"), headers=h, timeout=10,
                                 json={"space": {"id": sid, "name": f"s{sid}"}}).status_code == 201
        stack["tokB"] = requests.post(n.url(f"/v1/spaces/{B}/api_keys"), headers=h, timeout=10,
                                      json={"api_key": {"access": "public", "name": "b"}}
                                      ).json()["api_key"]
        pat = lambda body: requests.post(n.url("/v1/personal_access_tokens"), headers=h,  # noqa
                                         timeout=10, json={"personal_access_token": body}
                                         ).json()["personal_access_token"]["token"]
        stack["patA"] = pat({"name": "a", "spaces": [A], "scopes": {
            "spaces": "write", "access_tokens": "write", "personal_access_tokens": "write"}})
        stack["reader"] = pat({"name": "r", "spaces": "all", "scopes": {
            "spaces": "read", "access_tokens": "read"}})
        stack["expired"] = pat({"name": "e", "full_permission": True,
                                "expires_at": "2001-01-01T00:00:00Z"})
        r = requests.post(n.url("/access_tokens"), timeout=10, headers=dict(
            DATO, Authorization="Bearer " + admin, **{"X-Space-Id": str(A)}),
            json={"data": {"type": "access_token", "attributes": {
                "name": "dato A", "can_access_cda": True, "can_access_cda_preview": True,
                "can_access_cma": True}, "relationships": {"role": {"data": {
                    "type": "role", "id": "1"}}}}})
        stack["datoA"] = r.json()["data"]["attributes"]["token"]
        r = requests.post(n.url("/public/v1/accounts/api-tokens"), timeout=10, headers={
            "Authorization": "Bearer " + admin, "X-Space-Id": str(A)},
            json={"name": "swo A", "modules": [{"id": "MOD-1756"}]})
        stack["swoA"] = r.json()["token"]
        yield stack


def space_b_state(env):
    """All of Redis but the rate-limit counters: nothing may change."""
    return redis_state(env)


def attempts_on_b(env):
    tid = env["tokB"]["id"]
    tkn = "TKN-%04d-%04d" % (tid // 10000, tid % 10000)
    sb = f"/v1/spaces/{B}/api_keys"
    body_sb = {"api_key": {"access": "private", "name": "pwned"}}
    body_dato = {"data": {"type": "access_token", "id": str(tid),
                          "attributes": {"name": "pwned"}}}
    return [
        ("GET", sb, {}, None), ("POST", sb, {}, body_sb), ("GET", f"{sb}/{tid}", {}, None),
        ("PUT", f"{sb}/{tid}", {}, body_sb), ("DELETE", f"{sb}/{tid}", {}, None),
        ("POST", f"{sb}/{tid}/regenerate", {}, None),
        ("GET", f"/v1/spaces/{B}", {}, None), ("PUT", f"/v1/spaces/{B}", {}, {"space": {"name": "x"}}),
        ("DELETE", f"/v1/spaces/{B}", {}, None),
        ("GET", "/access_tokens", dict(DATO, **{"X-Space-Id": str(B)}), None),
        ("GET", f"/access_tokens/{tid}", dict(DATO, **{"X-Space-Id": str(B)}), None),
        ("PUT", f"/access_tokens/{tid}", dict(DATO, **{"X-Space-Id": str(B)}), body_dato),
        ("POST", f"/access_tokens/{tid}/regenerate_token", dict(DATO, **{"X-Space-Id": str(B)}), None),
        ("DELETE", f"/access_tokens/{tid}", dict(DATO, **{"X-Space-Id": str(B)}), None),
        ("GET", "/public/v1/accounts/api-tokens", {"X-Space-Id": str(B)}, None),
        ("GET", f"/public/v1/accounts/api-tokens/{tkn}", {"X-Space-Id": str(B)}, None),
        ("PUT", f"/public/v1/accounts/api-tokens/{tkn}", {"X-Space-Id": str(B)}, {"name": "pwned"}),
        ("POST", f"/public/v1/accounts/api-tokens/{tkn}/disable", {"X-Space-Id": str(B)}, None),
        ("POST", f"/public/v1/accounts/api-tokens/{tkn}/enable", {"X-Space-Id": str(B)}, None),
        ("DELETE", f"/public/v1/accounts/api-tokens/{tkn}", {"X-Space-Id": str(B)}, None),
        ("POST", "/public/v1/accounts/api-tokens", {"X-Space-Id": str(B)},
         {"name": "x", "account": {"id": "ACC-0000-%04d" % B}}),
    ]


@pytest.mark.parametrize("who", ["patA", "datoA", "swoA"])
def test_space_a_credentials_touch_nothing_of_space_b(env, who):
    before = space_b_state(env)
    for method, path, headers, body in attempts_on_b(env):
        r = requests.request(method, env["nginx"].url(path), json=body, timeout=10,
                             headers=dict(headers, Authorization="Bearer " + env[who]))
        assert r.status_code in (403, 404), (who, method, path, r.status_code, r.text[:200])
    got = requests.get(env["nginx"].url(f"/v1/spaces/{B}/api_keys/{env['tokB']['id']}"),
                       headers={"Authorization": env["admin"]}, timeout=10).json()["api_key"]
    assert got == env["tokB"]
    assert space_b_state(env) == before


def test_space_tokens_lists_only_show_their_own_space(env):
    for who in ("datoA", "swoA"):
        r = requests.get(env["nginx"].url("/access_tokens" if who == "datoA"
                                          else "/public/v1/accounts/api-tokens"),
                         headers=dict(DATO, Authorization="Bearer " + env[who]), timeout=10)
        assert r.status_code == 200
        ids = [int(t["id"]) if who == "datoA" else int(t["id"][4:8] + t["id"][9:])
               for t in r.json()["data"]]
        assert env["tokB"]["id"] not in ids and ids


def test_read_scoped_credentials_cannot_write(env):
    before = space_b_state(env)
    reader = "Bearer " + env["reader"]
    tid = env["tokB"]["id"]
    tkn = "TKN-%04d-%04d" % (tid // 10000, tid % 10000)
    for method, path, headers, body in [
        ("POST", f"/v1/spaces/{B}/api_keys", {}, {"api_key": {"access": "public"}}),
        ("PUT", f"/v1/spaces/{B}/api_keys/{tid}", {}, {"api_key": {"name": "x"}}),
        ("DELETE", f"/v1/spaces/{B}/api_keys/{tid}", {}, None),
        ("POST", f"/v1/spaces/{B}/api_keys/{tid}/regenerate", {}, None),
        ("PUT", f"/v1/spaces/{B}", {}, {"space": {"name": "x"}}),
        ("POST", "/access_tokens", dict(DATO, **{"X-Space-Id": str(B)}), {"data": {}}),
        ("DELETE", f"/access_tokens/{tid}", dict(DATO, **{"X-Space-Id": str(B)}), None),
        ("POST", f"/public/v1/accounts/api-tokens/{tkn}/disable", {"X-Space-Id": str(B)}, None),
        ("DELETE", f"/public/v1/accounts/api-tokens/{tkn}", {"X-Space-Id": str(B)}, None),
        ("POST", "/v1/personal_access_tokens", {}, {"personal_access_token": {"name": "x"}}),
    ]:
        r = requests.request(method, env["nginx"].url(path), json=body, timeout=10,
                             headers=dict(headers, Authorization=reader))
        assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
    assert requests.get(env["nginx"].url(f"/v1/spaces/{B}/api_keys"), timeout=10,
                        headers={"Authorization": reader}).status_code == 200
    assert space_b_state(env) == before


def test_expired_pat_is_refused_in_every_dialect(env):
    tok = "Bearer " + env["expired"]
    for path, headers in ((f"/v1/spaces/{B}/api_keys", {}), ("/v1/spaces", {}),
                          ("/access_tokens", dict(DATO, **{"X-Space-Id": str(B)})),
                          ("/public/v1/accounts/api-tokens", {"X-Space-Id": str(B)}),
                          ("/v1/personal_access_tokens", {})):
        r = requests.get(env["nginx"].url(path), headers=dict(headers, Authorization=tok),
                         timeout=10)
        assert r.status_code == 401, path


def test_pat_secret_appears_nowhere_after_creation(env):
    h = {"Authorization": env["admin"]}
    r = requests.post(env["nginx"].url("/v1/personal_access_tokens"), headers=h, timeout=10,
                      json={"personal_access_token": {"name": "secret", "full_permission": True}})
    created = r.json()["personal_access_token"]
    token = created["token"]
    payload = base64.urlsafe_b64decode(token[7:] + "=")
    secret = payload[21:37]
    forms = [token, token[7:], secret.hex(), base64.b64encode(secret).decode().rstrip("="),
             base64.urlsafe_b64encode(secret).decode().rstrip("=")]
    # use it, list it, read it, through every dialect
    texts = []
    for path, headers in (("/v1/personal_access_tokens", {}),
                          (f"/v1/personal_access_tokens/{created['id']}", {}),
                          (f"/v1/spaces/{B}/api_keys", {}),
                          ("/access_tokens", dict(DATO, **{"X-Space-Id": str(B)})),
                          ("/public/v1/accounts/api-tokens", {"X-Space-Id": str(B)})):
        r = requests.get(env["nginx"].url(path), headers=dict(headers, Authorization=token),
                         timeout=10)
        assert r.status_code == 200, path
        texts.append(r.text)
    texts.append(env["tokend"].log_text())
    texts.append(env["redis"].cli("EVAL", DUMP_ALL, "0"))
    for text in texts:
        for form in forms:
            assert form not in text
