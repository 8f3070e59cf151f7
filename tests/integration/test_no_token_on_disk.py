"""No token value on disk: every shipped web-server config — the nginx site
file (deploy/nginx/tokend.conf), the CDN recipe with its cache
(tokend-cdn.conf), Apache's FastCGI authorizer, mod_fcgid and
mod_proxy_fcgi recipes — serves real traffic carrying real token values
(valid, revoked, forged, drafts; in ?token=, ?%74oken=, a second token
parameter, Authorization, X-Token, a Referer, SoftwareOne's eq(token,'…')
filter), including failures (tokend down, an origin error); then every file
under the servers' directories (logs, cache, temporary files) is searched
for each value, its payload and its percent-encoded spelling."""
import os
import urllib.parse

import pytest
import requests

from harness import (SANITIZED, docroot_with, raw_request, running_stack, start_authorizer,
                     wait_until)
from test_uri_spellings import SpellingCdn

SPACE = 77
IS_ROOT = os.geteuid() == 0
SO = "/public/v1/accounts/api-tokens"


def payload(token):
    """The secret part: after td_xxx_, or after idt:TKN-NNNN-NNNN:."""
    return token.rsplit(":", 1)[1] if token.startswith("idt:") else token[7:]


def encoded(token):
    return "".join("%%%02X" % b for b in token.encode())


def with_token(target, token, name="token"):
    return target + ("&" if "?" in target else "?") + f"{name}={token}"


def content_traffic(port, t):
    """Content requests (CDN, authorizer): (target, headers) → status."""
    ref = {"Referer": "https://shop.example/page?token=" + t["public"]}
    out = {}
    reqs = [
        (with_token("/v2/cdn/stories", t["public"]), {}),
        (with_token("/v2/cdn/stories", t["public"]), {}),                  # a cache hit
        (with_token("/v2/cdn/stories/5", t["story5"]), {}),
        (with_token("/v2/cdn/stories/123", t["story5"]), {}),              # 403
        (with_token("/v2/cdn%2Fstories/5", t["story5"]), {}),              # bad_uri
        (with_token("/v2/cdn/stories?version=draft", t["public"]), {}),    # 401
        (with_token("/v2/cdn/stories?version=draft", t["preview"]), {}),   # a draft
        (with_token("/v2/cdn/stories?%76ersion=draft", t["preview"], "%74oken"), {}),
        (with_token("/v2/cdn/stories?cv=2", t["public"], "%74oken"), {}),
        (with_token(with_token("/v2/cdn/stories", t["public"]), t["preview"]), {}),  # twice
        (with_token("/v2/cdn/stories", encoded(t["public"])), {}),
        (with_token("/v2/cdn/stories", t["revoked"]), {}),
        (with_token("/v2/cdn/stories", t["forged"]), {}),
        (with_token("/v2/cdn/stories", t["pat"]), {}),
        (with_token("/v2/cdn/stories", t["idt"]), {}),
        ("/v2/cdn/stories&token=" + t["public"], {}),                       # "&" for "?"
        ("/v2/cdn/stories?filter_query=eq(token,'%s')" % t["public"], {}),
        ("/v2/cdn/stories", {"Authorization": t["public"]}),
        ("/v2/cdn/stories", {"Authorization": "Bearer " + t["preview"]}),
        ("/v2/cdn/stories", {"X-Token": t["public"]}),
        ("/v2/cdn/stories", {"Authorization": "Basic " + t["public"]}),
        (with_token("/v2/cdn/origin-error", t["public"]), {}),             # the origin fails
    ]
    for target, headers in reqs:
        out[target, tuple(headers.items())] = raw_request(port, target, dict(ref, **headers))[0]
    return out


def management_traffic(port, t):
    """Management and direct verify requests (site file, fcgid, proxy-fcgi)."""
    ref = {"Referer": "https://admin.example/?token=" + t["public"]}
    pat = {"Authorization": "Bearer " + t["pat"], "X-Space-Id": str(SPACE)}
    out = {}
    reqs = [
        (SO + "?eq(token,'%s')" % t["idt"], pat),
        (SO + "?and(eq(token,'%s'),eq(status,'Active'))" % urllib.parse.quote(t["idt"]), pat),
        (SO + "?token=" + t["idt"], pat),
        (SO, {"Authorization": "Bearer " + t["idt"]}),
        (f"/v1/spaces/{SPACE}/api_keys", pat),
        (f"/v1/spaces/{SPACE}/api_keys", {"Authorization": t["revoked"]}),
        ("/v1/spaces", {"Authorization": t["forged"]}),
        (with_token("/v1/verify", t["public"]), {}),
        (with_token("/v1/verify", t["preview"], "%74oken"), {}),
        ("/v1/verify", {"X-Original-URI": with_token("/v2/cdn/stories", t["public"])}),
        ("/v1/verify", {"X-Token": t["public"]}),
        (with_token("/v1/spaces", t["pat"]), {}),
        ("/v1/health&token=" + t["public"], {}),
    ]
    for target, headers in reqs:
        out[target, tuple(headers.items())] = raw_request(port, target, dict(ref, **headers))[0]
    r = requests.post(f"http://127.0.0.1:{port}/v1/verify", json={"token": t["public"]},
                      headers=ref, timeout=10)
    out["POST /v1/verify"] = r.status_code
    return out


@pytest.fixture(scope="module")
def disk():
    from test_deploy import Apache, config_file, private_binary
    sock_env = ({"TOKEND_SOCKET_OWNER": "nobody:nogroup"} if IS_ROOT
                else {"TOKEND_SOCKET_MODE": "0666"})         # Apache's user reaches it
    with running_stack(SpellingCdn, tokend_env=sock_env) as stack:
        d, redis, nginx, tokend = stack["dir"], stack["redis"], stack["nginx"], stack["tokend"]
        tport, authz = start_authorizer(d, redis.url)
        docroot = docroot_with(d, {"v2/cdn/stories": '{"stories":[]}'})
        apaches = {"apache-authorizer": Apache(d, "authorizer", str(tport), docroot),
                   "apache-proxy-fcgi": Apache(d, "proxy-fcgi", tokend.socket, tokend.verify_socket)}
        if not SANITIZED:     # Apache runs its own copy of tokend: the plain build
            import pwd
            owner = pwd.getpwnam("nobody").pw_uid if IS_ROOT else None
            apaches["apache-fcgid"] = Apache(d, "fcgid", private_binary(d),
                                             config_file(d, redis.url, keyring_owner=owner))
        try:
            s = requests.Session()
            s.headers["Authorization"] = stack["admin"]
            api = nginx.base
            assert s.post(api + "/v1/spaces", timeout=10, json={
                "space": {"id": SPACE, "name": "disk", "min_cache": 60}}).status_code == 201

            def key(**fields):
                r = s.post(api + f"/v1/spaces/{SPACE}/api_keys", timeout=10,
                           json={"api_key": dict({"access": "public"}, **fields)})
                assert r.status_code == 201, r.text
                return r.json()["api_key"]

            t = {"public": key()["token"], "preview": key(access="private")["token"],
                 "story5": key(story_ids=[5])["token"], "pat": stack["admin"]}
            gone = key()
            assert s.delete(api + f"/v1/spaces/{SPACE}/api_keys/{gone['id']}",
                            timeout=10).status_code == 200
            t["revoked"] = gone["token"]
            t["forged"] = t["public"][:-3] + ("AAA" if not t["public"].endswith("AAA") else "BBB")
            r = s.post(api + SO, timeout=10, headers={"X-Space-Id": str(SPACE)}, json={
                "account": {"id": "ACC-0000-%04d" % SPACE}, "name": "so",
                "modules": [{"id": "MOD-1756"}]})
            assert r.status_code == 201, r.text
            t["idt"] = r.json()["token"]
            assert t["idt"].startswith("idt:TKN-")
            for name, a in apaches.items():
                wait_until(lambda: requests.get(a.url("/v2/cdn/stories" if "authorizer" in name
                                                      else "/v1/health"),
                                                timeout=5).status_code in (200, 401),
                           timeout=15, what=name)

            seen = {"nginx-cdn": content_traffic(nginx.cdn, t),
                    "nginx-site": management_traffic(nginx.port, t),
                    "apache-authorizer": content_traffic(apaches["apache-authorizer"].port, t)}
            for name in ("apache-proxy-fcgi", "apache-fcgid"):
                if name in apaches:
                    seen[name] = management_traffic(apaches[name].port, t)
            # the traffic did what it says: allowed, refused, drafts, errors
            cdn = seen["nginx-cdn"]
            assert cdn[with_token("/v2/cdn/stories", t["public"]), ()] == 200
            assert cdn[with_token("/v2/cdn/stories?version=draft", t["preview"]), ()] == 200
            assert cdn[with_token("/v2/cdn/stories", t["revoked"]), ()] == 401
            assert cdn[with_token("/v2/cdn/stories/123", t["story5"]), ()] == 403
            assert cdn[with_token("/v2/cdn/origin-error", t["public"]), ()] == 502
            authz_seen = seen["apache-authorizer"]
            assert authz_seen[with_token("/v2/cdn/stories", t["public"]), ()] == 200
            for name in ("nginx-site", "apache-proxy-fcgi", "apache-fcgid"):
                if name in seen:
                    assert seen[name][SO + "?eq(token,'%s')" % t["idt"],
                                      tuple({"Authorization": "Bearer " + t["pat"],
                                             "X-Space-Id": str(SPACE)}.items())] == 200, name
                    assert seen[name][with_token("/v1/verify", t["public"]), ()] == 200, name

            # failures: tokend down behind nginx, mod_proxy_fcgi and the authorizer
            tokend.stop()
            authz.stop()
            ref = {"Referer": "https://x.example/?token=" + t["public"]}
            content, api_call = with_token("/v2/cdn/stories", t["public"]), with_token(
                "/v1/spaces", t["public"])
            assert raw_request(nginx.cdn, content, ref)[0] == 500
            assert raw_request(nginx.port, api_call, ref)[0] == 503
            assert raw_request(apaches["apache-proxy-fcgi"].port, api_call, ref)[0] == 503
            assert raw_request(apaches["apache-authorizer"].port, content, ref)[0] == 500
        finally:
            for a in apaches.values():
                a.stop()
            nginx.stop()            # every log line written before the files are read
            if authz.proc is not None:
                authz.stop()
        assert not authz.sanitizer_reports(), authz.log_text()[-4000:]
        places = {"nginx-site": [nginx.dir], "nginx-cdn": [nginx.dir],
                  "tokend": [tokend.log_path, authz.log_path]}
        places.update({name: [a.dir] for name, a in apaches.items()})
        yield {"tokens": t, "places": places, "nginx": nginx, "apaches": apaches}


def files_under(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
        for root, _, files in os.walk(p):
            for name in files:
                path = os.path.join(root, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    yield path


CONFIGS = ["nginx-site", "nginx-cdn", "apache-authorizer", "apache-proxy-fcgi",
           pytest.param("apache-fcgid", marks=pytest.mark.skipif(
               SANITIZED, reason="the copy Apache runs is the plain build")),
           "tokend"]


@pytest.mark.parametrize("config", CONFIGS)
def test_no_token_value_on_disk(disk, config):
    needles = set()
    for tok in disk["tokens"].values():
        needles |= {tok, payload(tok), encoded(tok), payload(tok)[20:52]}
    found = []
    for path in files_under(disk["places"][config]):
        with open(path, "rb") as f:
            data = f.read()
        for needle in needles:
            i = data.find(needle.encode())
            if i >= 0:
                found.append(f"{path}: …{data[max(0, i - 60):i + 20]!r}")
                break
    assert not found, "token values on disk:\n" + "\n".join(found)


def text(path):
    with open(path, errors="replace") as f:
        return f.read()


def test_the_logs_saw_the_traffic(disk):
    """The search above is not vacuous: the access logs hold every request,
    redacted, and the cache holds the published answers."""
    n = disk["nginx"].dir
    site = text(os.path.join(n, "tokend.access.log"))
    cdn = text(os.path.join(n, "tokend-cdn.access.log"))
    assert "GET /v2/cdn/stories?token=[redacted] HTTP/1.1\" 200" in cdn
    assert "GET /v2/cdn/stories?[redacted] HTTP/1.1\" 403" in cdn          # the token twice
    assert "GET [redacted] HTTP/1.1\" 401" in cdn                          # "&" for "?"
    assert "\"https://shop.example/page?token=[redacted]\"" in cdn
    assert "\" 500 " in cdn and "\" 502 " in cdn                           # the failures
    assert "GET /v1/verify?token=[redacted] HTTP/1.1\" 200" in site
    assert f"GET {SO}?[redacted] HTTP/1.1\" 200" in site                     # eq(token,'…')
    assert "up=502" in site                                                # tokend down
    keys = [line for p in files_under([os.path.join(n, "cache")])
            for line in open(p, "rb").read(4096).split(b"\n") if line.startswith(b"KEY: ")]
    assert b"KEY: %d 60 /v2/cdn/stories" % SPACE in keys
    for name, a in disk["apaches"].items():
        log = text(os.path.join(a.dir, "tokend-access.log"))
        if name == "apache-authorizer":
            assert "\"GET /v2/cdn/stories?token=[redacted] HTTP/1.1\" 200" in log
        else:
            assert "\"GET /v1/verify?token=[redacted] HTTP/1.1\" 200" in log
            assert f"\"GET {SO}?[redacted] HTTP/1.1\" 200" in log
        assert "\"https://" in log and "token=[redacted]\"" in log
