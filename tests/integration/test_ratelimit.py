"""Management rate limits: one GCRA bucket per caller and space in Redis,
shared by every worker; per-space limits; 429 in each dialect's shape with
Retry-After; the verify path is never limited."""
import contextlib

import pytest
import requests

from harness import Nginx, Tokend, create_admin_pat


def test_rate_limits_across_dialects_and_spaces(workdir, redis):
    admin = create_admin_pat(workdir, redis.url)
    t = Tokend(workdir, redis.url, workers=2, env={"TOKEND_RATE_LIMIT_REQUESTS": "3",
                                                   "TOKEND_RATE_LIMIT_WINDOW_MS": "60000"}).start()
    n = Nginx(workdir, t.socket, t.verify_socket).start()
    try:
        h = {"Authorization": admin}
        # creating spaces counts against the admin's bucket of "no one space" (0)
        assert requests.post(n.url("/v1/spaces"), headers=h, timeout=10, json={
            "space": {"id": 1, "name": "limited", "rate_limit": 5}}).status_code == 201
        assert requests.post(n.url("/v1/spaces"), headers=h, timeout=10, json={
            "space": {"id": 2, "name": "default"}}).status_code == 201
        r = requests.get(n.url("/v1/spaces/1"), headers=h, timeout=10)
        assert r.json()["space"]["rate_limit"] == 5

        # Storyblok, space 1 (limit 5): the GET above used one call
        codes = [requests.get(n.url("/v1/spaces/1/api_keys"), headers=h, timeout=10)
                 for _ in range(5)]
        assert [c.status_code for c in codes] == [200, 200, 200, 200, 429]
        assert codes[0].headers["X-RateLimit-Limit"] == "5"
        assert [c.headers["X-RateLimit-Remaining"] for c in codes[:4]] == ["3", "2", "1", "0"]
        limited = codes[-1]
        assert limited.json() == {"error": "Too many requests"}
        assert 1 <= int(limited.headers["Retry-After"]) <= 12     # 60 s / 5 calls
        assert limited.headers["X-RateLimit-Reset"] == limited.headers["Retry-After"]

        # space 2 has the deployment default of 3, and its own bucket
        codes = [requests.get(n.url("/v1/spaces/2/api_keys"), headers=h, timeout=10).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]

        # another caller in space 1 has its own allowance; SoftwareOne answers a problem
        key = create_admin_pat(workdir, redis.url)
        s = {"Authorization": "Bearer " + key, "X-Space-Id": "1"}
        codes = [requests.get(n.url("/public/v1/accounts/api-tokens"), headers=s, timeout=10)
                 for _ in range(6)]
        assert [c.status_code for c in codes] == [200] * 5 + [429]
        body = codes[-1].json()
        assert body["status"] == 429 and body["title"] == "Too Many Requests"
        assert int(codes[-1].headers["Retry-After"]) >= 1
        # the same caller is limited in DatoCMS too (one bucket per caller and space)
        r = requests.get(n.url("/access_tokens"), timeout=10,
                         headers=dict(s, **{"X-Api-Version": "3"}))
        assert r.status_code == 429
        assert r.json()["data"][0]["attributes"]["code"] == "RATE_LIMIT_EXCEEDED"

        # the verify path is never limited
        pub = requests.post(n.url("/v1/spaces/1/api_keys"), timeout=10,
                            headers={"Authorization": create_admin_pat(workdir, redis.url)},
                            json={"api_key": {"access": "public"}}).json()["api_key"]["token"]
        for _ in range(20):
            assert requests.get(n.url("/v1/verify"), timeout=10, headers={
                "X-Original-URI": "/v2/cdn/stories?token=" + pub}).status_code == 200

        # a space's limit can be raised: the caller's debt is then repaid at the new rate
        root = {"Authorization": create_admin_pat(workdir, redis.url)}
        assert requests.put(n.url("/v1/spaces/2"), headers=root, timeout=10,
                            json={"space": {"rate_limit": 100}}).status_code == 200
        r = requests.get(n.url("/v1/spaces/2/api_keys"), headers=h, timeout=10)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) <= 1     # 60 s / 100 calls, not 20 s
            import time
            time.sleep(1.0)
            r = requests.get(n.url("/v1/spaces/2/api_keys"), headers=h, timeout=10)
        assert r.status_code == 200
        assert requests.put(n.url("/v1/spaces/2"), headers=root, timeout=10,
                            json={"space": {"rate_limit": 0}}).status_code == 422
    finally:
        n.stop()
        t.stop()


# Each view's calls about one token: (method, path, body) builders, and how a
# 429 reads. The start of these calls (the limiters, the space) rides on the
# create's write or the token's read: they must count and refuse as any call.
def _views(sid):
    dato = {"X-Api-Version": "3", "X-Space-Id": str(sid)}
    swo = {"X-Space-Id": str(sid)}
    tkn = lambda tid: "TKN-%04d-%04d" % (tid // 10000, tid % 10000)  # noqa: E731
    return {
        "storyblok": {
            "create": ("POST", f"/v1/spaces/{sid}/api_keys", {"api_key": {"access": "public"}}, {}),
            "get": lambda t: ("GET", f"/v1/spaces/{sid}/api_keys/{t}", None, {}),
            "update": lambda t: ("PUT", f"/v1/spaces/{sid}/api_keys/{t}",
                                 {"api_key": {"name": "renamed"}}, {}),
            "delete": lambda t: ("DELETE", f"/v1/spaces/{sid}/api_keys/{t}", None, {}),
            "id": lambda r: r.json()["api_key"]["id"],
            "name": lambda r: r.json()["api_key"]["name"],
            "limited": lambda r: r.json()["error"].startswith("Too many"),
        },
        "datocms": {
            "create": ("POST", "/access_tokens", {"data": {"type": "access_token", "attributes": {
                "name": "d", "can_access_cda": True, "can_access_cda_preview": False,
                "can_access_cma": False}, "relationships": {"role": {"data": {
                    "type": "role", "id": "2"}}}}}, dato),
            "get": lambda t: ("GET", f"/access_tokens/{t}", None, dato),
            "update": lambda t: ("PUT", f"/access_tokens/{t}", {"data": {
                "type": "access_token", "id": str(t), "attributes": {"name": "renamed"}}}, dato),
            "delete": lambda t: ("DELETE", f"/access_tokens/{t}", None, dato),
            "id": lambda r: int(r.json()["data"]["id"]),
            "name": lambda r: r.json()["data"]["attributes"]["name"],
            "limited": lambda r: r.json()["data"][0]["attributes"]["code"] == "RATE_LIMIT_EXCEEDED",
        },
        "softwareone": {
            "create": ("POST", "/public/v1/accounts/api-tokens", {"name": "s", "modules": []}, swo),
            "get": lambda t: ("GET", f"/public/v1/accounts/api-tokens/{tkn(t)}", None, swo),
            "update": lambda t: ("PUT", f"/public/v1/accounts/api-tokens/{tkn(t)}",
                                 {"name": "renamed"}, swo),
            "delete": lambda t: ("DELETE", f"/public/v1/accounts/api-tokens/{tkn(t)}", None, swo),
            "id": lambda r: int(r.json()["id"][4:8] + r.json()["id"][9:]),
            "name": lambda r: r.json()["name"],
            "limited": lambda r: r.json()["status"] == 429 and r.json()["title"] == "Too Many Requests",
        },
    }


@contextlib.contextmanager
def limited(workdir, redis, limit, workers=1, spaces=((1, {}),)):
    """tokend allowing `limit` calls per caller and space (in a 10-minute
    window) behind nginx, with spaces (id, own fields) made by a root PAT:
    (nginx, root headers, call), where call((method, path, body, headers))
    is a call by a caller of its own (the root's calls are not its)."""
    admin = create_admin_pat(workdir, redis.url)
    t = Tokend(workdir, redis.url, workers=workers, env={
        "TOKEND_RATE_LIMIT_REQUESTS": str(limit), "TOKEND_RATE_LIMIT_WINDOW_MS": "600000"}).start()
    n = Nginx(workdir, t.socket, t.verify_socket).start()
    try:
        root = {"Authorization": admin}
        for sid, own in spaces:
            assert requests.post(n.url("/v1/spaces"), headers=root, timeout=10, json={
                "space": dict({"id": sid, "name": f"s{sid}"}, **own)}).status_code == 201
        h = {"Authorization": "Bearer " + create_admin_pat(workdir, redis.url)}

        def call(spec):
            method, path, body, headers = spec
            return requests.request(method, n.url(path), json=body, timeout=10,
                                    headers=dict(h, **headers))
        yield n, root, call
    finally:
        n.stop()
        t.stop()


@pytest.mark.parametrize("view", ["storyblok", "datocms", "softwareone"])
def test_calls_about_one_token_count_and_are_refused_in_every_view(workdir, redis, view):
    """A create, a read, an update and a delete each take one call of the
    caller's allowance (and the writes one of the space's shared write rate);
    the call past it is 429 in the view's shape and changes nothing."""
    # space 1: the deployment's 4 calls per caller; space 2: 2 writes in all
    with limited(workdir, redis, 4, workers=2, spaces=(
            (1, {}), (2, {"rate_limit": 100, "limits": {"write_rate": 2}}))) as (n, root, call):
        v = _views(1)[view]
        made = call(v["create"])
        assert made.status_code == 201, made.text
        tid = v["id"](made)
        got = [made, call(v["get"](tid)), call(v["update"](tid))]
        assert [r.status_code for r in got] == [201, 200, 200], [r.text for r in got]
        assert [r.headers["X-RateLimit-Remaining"] for r in got] == ["3", "2", "1"]
        last = call(v["get"](tid))
        assert last.status_code == 200 and last.headers["X-RateLimit-Remaining"] == "0"
        for spec in (v["get"](tid), v["update"](tid), v["delete"](tid), v["create"],
                     v["get"](98765432)):
            r = call(spec)
            assert r.status_code == 429 and v["limited"](r), r.text
            assert int(r.headers["Retry-After"]) >= 1
        # nothing changed: the token is there, under its first update's name
        r = requests.get(n.url(f"/v1/spaces/1/api_keys/{tid}"), headers=root, timeout=10)
        assert r.status_code == 200 and r.json()["api_key"]["name"] == "renamed", r.text
        keys = requests.get(n.url("/v1/spaces/1/api_keys"), headers=root, timeout=10).json()
        assert len(keys["api_keys"]) == 2   # the space's built-in token and this one

        # space 2 takes two writes from everyone together; reads go on
        v = _views(2)[view]
        made = call(v["create"])
        assert made.status_code == 201, made.text
        tid = v["id"](made)
        assert call(v["update"](tid)).status_code == 200
        for spec in (v["update"](tid), v["delete"](tid), v["create"]):
            r = call(spec)
            assert r.status_code == 429 and v["limited"](r), r.text
        r = call(v["get"](tid))
        assert r.status_code == 200 and v["name"](r) == "renamed", r.text


BAD_CREATE = {
    "storyblok": lambda sid: ("POST", f"/v1/spaces/{sid}/api_keys",
                              {"api_key": {"access": "bogus"}}, {}),
    "datocms": lambda sid: ("POST", "/access_tokens", {"data": {"type": "access_token"}},
                            {"X-Api-Version": "3", "X-Space-Id": str(sid)}),
    "softwareone": lambda sid: ("POST", "/public/v1/accounts/api-tokens", {"name": 5},
                                {"X-Space-Id": str(sid)}),
}


@pytest.mark.parametrize("view", ["storyblok", "datocms", "softwareone"])
def test_calls_that_fail_before_their_first_round_trip_still_count(workdir, redis, view):
    """A bad body or a token id that cannot exist fails before the call's
    first Redis round trip, which carries its start: the start is taken
    then, so such calls count, are refused past the allowance (429 before
    their own error) and show the caller's real allowance."""
    with limited(workdir, redis, 3) as (n, root, call):
        v = _views(1)[view]
        got = [call(BAD_CREATE[view](1)) for _ in range(2)] + [call(v["get"](98765432))]
        assert [r.status_code for r in got] == \
            [400 if view == "softwareone" else 422] * 2 + [404], [r.text for r in got]
        assert [r.headers["X-RateLimit-Remaining"] for r in got] == ["2", "1", "0"]
        for spec in (BAD_CREATE[view](1), v["get"](98765432), v["create"]):
            r = call(spec)
            assert r.status_code == 429 and v["limited"](r), r.text
            assert r.headers["X-RateLimit-Remaining"] == "0"
        # a bad body naming no space that exists is 404 first, as at a call's begin
        r = call(BAD_CREATE[view](424242))
        assert r.status_code in (404, 429), r.text


BAD_UPDATE = {
    "storyblok": lambda t: ("PUT", f"/v1/spaces/1/api_keys/{t}", {"api_key": {"access": "bogus"}},
                            {}),
    "datocms": lambda t: ("PUT", f"/access_tokens/{t}", {"data": {"type": "wrong", "id": str(t)}},
                          {"X-Api-Version": "3", "X-Space-Id": "1"}),
    "softwareone": lambda t: ("PUT", "/public/v1/accounts/api-tokens/TKN-%04d-%04d"
                              % (t // 10000, t % 10000), {"name": 5}, {"X-Space-Id": "1"}),
}


@pytest.mark.parametrize("view", ["storyblok", "datocms", "softwareone"])
def test_refused_changes_count_in_every_view(workdir, redis, view):
    """An update whose body the view refuses still takes one call of the
    caller's allowance, and past it is 429 before its own error."""
    with limited(workdir, redis, 3) as (n, root, call):
        v = _views(1)[view]
        made = call(v["create"])
        assert made.status_code == 201, made.text
        tid = v["id"](made)
        got = [call(BAD_UPDATE[view](tid)) for _ in range(3)]
        assert [r.status_code for r in got] == [400 if view == "softwareone" else 422] * 2 + \
            [429], [r.text for r in got]
        assert v["limited"](got[-1]), got[-1].text


def test_refused_creates_of_management_tokens_write_nothing(workdir, redis):
    """A management token a PAT makes is registered with its maker before it
    is written: a create refused by a limiter, or about a space that does not
    exist, must register nothing (else the maker's set grows by refusals)."""
    with limited(workdir, redis, 3) as (n, root, call):
        make = lambda sid: call(("POST", "/public/v1/accounts/api-tokens",  # noqa: E731
                                 {"name": "m", "modules": []}, {"X-Space-Id": str(sid)}))

        def written():
            sets = redis.cli("KEYS", "{pats}:m:*").split()
            return redis.cli("GET", "{tokens}:seq"), sum(int(redis.cli("SCARD", k)) for k in sets)

        assert [make(1).status_code for _ in range(3)] == [201] * 3
        before = written()
        assert before[1] >= 3
        assert [make(1).status_code for _ in range(20)] == [429] * 20
        assert make(999).status_code == 404     # a Marketplace API token: management
        assert written() == before
