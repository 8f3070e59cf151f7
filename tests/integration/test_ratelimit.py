"""Management rate limits: one GCRA bucket per caller and space in Redis,
shared by every worker; per-space limits; 429 in each dialect's shape with
Retry-After; the verify path is never limited."""
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
