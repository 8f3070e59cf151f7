"""Every spelling of a content URI gets its canonical form's answer or is
refused, through the shipped CDN recipe (deploy/nginx/tokend-cdn.conf:
auth_request, the cache, an origin that echoes the URI it received) and
through Apache's FastCGI authorizer (deploy/apache/tokend-authorizer.conf,
a static docroot). Requests go out byte for byte (harness.raw_request):
requests/urllib3 would resolve the dot segments before sending them."""
import json
import os
import time

import pytest
import requests

from harness import docroot_with, raw_request, running_stack, start_authorizer, wait_until
from test_verify import CdnNginx

SPACE = 515


class SpellingCdn(CdnNginx):
    """The CDN recipe in front of a test origin that echoes the URI it
    received and the time ($msec: a cache hit is visible), takes request
    lines of 8 KiB and more (as the recipe asks of an origin), and fails on
    one path (the connection closed: an origin error)."""

    def before_launch(self):
        with open(os.path.join(self.dir, "origin.extra.conf"), "w") as f:
            f.write("server { listen 127.0.0.1:%d; large_client_header_buffers 4 16k;\n"
                    "  location / { default_type application/json;"
                    " return 200 '{\"uri\":\"$request_uri\",\"at\":\"$msec\"}'; }\n"
                    "  location /v2/cdn/origin-error { return 444; }\n}\n" % self.origin)


@pytest.fixture(scope="module")
def env():
    from test_deploy import Apache
    with running_stack(SpellingCdn) as stack:
        d, redis = stack["dir"], stack["redis"]
        # Apache with the authorizer comes up while the tokens are made
        tport, authz = start_authorizer(d, redis.url)
        docroot = docroot_with(d, {rel: '{"file":"/%s"}' % rel for rel in (
            "v2/cdn/stories/5", "v2/cdn/stories/123", "v2/cdn/stories/1",
            "v2/cdn/assets/x.png", "v2/cdn/stories/index")})
        apache = Apache(d, "authorizer", str(tport), docroot)
        try:
            s = requests.Session()
            s.headers["Authorization"] = stack["admin"]
            api = stack["nginx"].base
            assert s.post(api + "/v1/spaces", timeout=10, json={
                "space": {"id": SPACE, "name": "spellings", "min_cache": 60}}).status_code == 201

            def key(**fields):
                r = s.post(api + f"/v1/spaces/{SPACE}/api_keys", timeout=10,
                           json={"api_key": dict({"access": "public"}, **fields)})
                assert r.status_code == 201, r.text
                return r.json()["api_key"]["token"]

            stack["tokens"] = {"story5": key(story_ids=[5]), "public": key(),
                               "preview": key(access="private"), "asset": key(access="asset")}
            stack["apache"] = apache
            stack["authz"] = authz
            wait_until(lambda: requests.get(apache.url("/v2/cdn/stories/5"),
                                            timeout=5).status_code == 401,
                       timeout=15, what="Apache with the authorizer")
            yield stack
        finally:
            apache.stop()
            authz.stop()
        reports = authz.sanitizer_reports()
        assert not reports, authz.log_text()[-4000:]


def cdn(env, target, token=None, headers=None):
    """(status, headers, json or None) of a content request through the CDN."""
    if token is not None:
        target += ("&" if "?" in target else "?") + "token=" + token
    status, h, body = raw_request(env["nginx"].cdn, target, headers)
    return status, h, (json.loads(body) if status == 200 else None)


def apache(env, target, token=None):
    if token is not None:
        target += ("&" if "?" in target else "?") + "token=" + token
    return raw_request(env["apache"].port, target)


# spellings refused to the token restricted to story 5, with tokend's reason
REFUSED = [
    ("/v2/cdn/stories/123", "story_not_allowed"),
    ("/v2/cdn/./stories/123", "story_not_allowed"),
    ("/v2/cdn/%2e/stories/123", "story_not_allowed"),
    ("/v2/cdn/%2E%2E/cdn/stories/123", "story_not_allowed"),
    ("/v2//cdn/stories/123", "story_not_allowed"),
    ("/v2/cdn/stories/x/../123", "story_not_allowed"),
    ("/v2/cdn/stories/x/%2e%2e/123", "story_not_allowed"),
    ("/v2/cdn/stories/5/../123", "story_not_allowed"),
    ("/v2/cdn/STORIES/123", "story_not_allowed"),
    ("/v2/cdn%2Fstories/123", "bad_uri"),
    ("/v2/cdn/stories%2F123", "bad_uri"),
    ("/v2/cdn/stories%2f123", "bad_uri"),
    ("/v2/cdn/stories%5C123", "bad_uri"),
    ("/v2/cdn/stories/123;x", "bad_uri"),
    ("/v2/cdn/stories/5;x", "bad_uri"),
    ("/v2/cdn/stories/5%3Bx", "bad_uri"),
    ("/v2/cdn/stories/%C0%AE%C0%AE/123", "bad_uri"),
    ("/v2/cdn/stories/%252e%252e/123", "bad_uri"),
    ("/v2/cdn/stories/%2e%2e/%2e%2e/%2e%2e/%2e%2e/123", "bad_uri"),
    ("/v2/cdn/stories/5?by_ids=5&by_ids=123", "bad_uri"),
    ("/v2/cdn/stories?by_ids=5&BY_IDS=123", "bad_uri"),
    ("/v2/cdn/stories?by_ids=5&by.ids=123", "bad_uri"),
    ("/v2/cdn/stories?by_ids=5;by_ids=123", "bad_uri"),
    ("/v2/cdn/stories?by_ids=5&by%5Fids=123", "bad_uri"),
    ("/v2/cdn/stories?by_ids[]=123", "bad_uri"),
    ("/v2/cdn/stories/5" + "/a" * 15, "bad_uri"),          # 17 segments
    ("/v2/cdn/stories/5?version=published&version=draft", "bad_uri"),
]
# what nginx itself refuses (400) before asking tokend: ".." above the root
NGINX_400 = {"/v2/cdn/stories/%2e%2e/%2e%2e/%2e%2e/%2e%2e/123"}
# what Apache refuses (404) before asking tokend: an encoded slash
APACHE_404 = {"/v2/cdn%2Fstories/123", "/v2/cdn/stories%2F123", "/v2/cdn/stories%2f123"}

ALLOWED = [
    ("/v2/cdn/stories/5", "/v2/cdn/stories/5"),
    ("/v2/cdn/./stories/5", "/v2/cdn/stories/5"),
    ("/v2/cdn/%2e/stories/5", "/v2/cdn/stories/5"),
    ("/v2//cdn///stories/5", "/v2/cdn/stories/5"),
    ("/v2/cdn/stories/x/../5", "/v2/cdn/stories/5"),
    ("/v2/%63dn/%73tories/%35", "/v2/cdn/stories/5"),
    ("/v2/cdn/stories?by_ids=5", "/v2/cdn/stories?by_ids=5"),
    ("/v2/cdn/stories?%62y_ids=%35", "/v2/cdn/stories?by_ids=5"),
]


@pytest.mark.parametrize("target,reason", REFUSED)
def test_refused_spellings_through_the_cdn(env, target, reason):
    status, h, _ = cdn(env, target, env["tokens"]["story5"])
    if target in NGINX_400:
        assert status == 400
    else:
        assert (status, h.get("x-tokend-reason")) == (403, reason), target


@pytest.mark.parametrize("target,reason", REFUSED)
def test_refused_spellings_by_tokend_itself(env, target, reason):
    """Whatever the web server does first, tokend refuses the spelling too."""
    r = requests.get(env["nginx"].url("/v1/verify"), timeout=10, headers={
        "X-Original-URI": target + ("&" if "?" in target else "?") + "token="
        + env["tokens"]["story5"]})
    assert (r.status_code, r.headers.get("X-Tokend-Reason")) == (403, reason), target


@pytest.mark.parametrize("target,canonical", ALLOWED)
def test_allowed_spellings_reach_the_origin_in_canonical_form(env, target, canonical):
    status, h, body = cdn(env, target, env["tokens"]["story5"])
    assert status == 200, (target, h.get("x-tokend-reason"))
    assert body["uri"] == canonical          # what the origin received: no token, one spelling


def test_every_spelling_shares_the_canonical_cache_entry(env):
    tok = env["tokens"]["story5"]
    first = cdn(env, "/v2/cdn/stories/5?cv=1", tok)
    for spelling in ("/v2/cdn/./stories/5?cv=1", "/v2//cdn/stories/x/../5?cv=%31",
                     "/v2/cdn/stories/5?%74oken=" + tok + "&cv=1"):
        status, h, body = cdn(env, spelling, None if "oken=" in spelling else tok)
        assert status == 200 and h["x-cache-status"] == "HIT", spelling
        assert body == first[2]


def test_path_deeper_than_the_rules_judge(env):
    tok = env["tokens"]["public"]
    assert cdn(env, "/v2/cdn/stories/a" + "/b" * 12, tok)[0] == 200          # 16 segments
    status, h, _ = cdn(env, "/v2/cdn/stories/a" + "/b" * 13, tok)           # 17
    assert (status, h.get("x-tokend-reason")) == (403, "bad_uri")


def test_kind_rules_see_through_dot_segments(env):
    t = env["tokens"]
    status, h, _ = cdn(env, "/v2/cdn/assets/../stories/1", t["asset"])
    assert (status, h.get("x-tokend-reason")) == (403, "assets_only")
    status, h, _ = cdn(env, "/v2/cdn/stories/../assets/x.png", t["public"])
    assert (status, h.get("x-tokend-reason")) == (403, "asset_token_required")
    status, _, body = cdn(env, "/v2/cdn/stories/../assets/x.png", t["asset"])
    assert status == 200 and body["uri"] == "/v2/cdn/assets/x.png"


DRAFTS = ["version=draft", "%76ersion=draft", "version=%64raft", "%76ersion=%64%72%61%66%74",
          "version=Draft", "version=published%20", "version=", "version"]


@pytest.mark.parametrize("spelling", DRAFTS)
def test_any_spelling_of_a_draft_is_a_draft_and_never_cached(env, spelling):
    t = env["tokens"]
    target = f"/v2/cdn/stories?dq={DRAFTS.index(spelling)}&{spelling}"
    status, h, _ = cdn(env, target, t["public"])
    assert (status, h.get("x-tokend-reason")) == (401, "draft_not_allowed"), spelling
    seen = []
    for _ in range(2):
        status, h, body = cdn(env, target, t["preview"])
        assert status == 200 and h["x-cache-status"] != "HIT", spelling
        seen.append(body["at"])
        time.sleep(0.002)
    assert seen[0] != seen[1]                 # the origin answered both times
    assert not [k for k in cache_keys(env) if "dq=" in k]      # and nothing was stored


def cache_keys(env):
    """The KEY line of every file in the CDN's cache."""
    keys = []
    for root, _, files in os.walk(os.path.join(env["nginx"].dir, "cache")):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                head = f.read(16384)
            start = head.find(b"\nKEY: ") + 6
            if start >= 6:
                keys.append(head[start:head.find(b"\n", start)].decode("latin-1"))
    return keys


def test_published_spellings_are_published_and_cached(env):
    tok = env["tokens"]["public"]
    a = cdn(env, "/v2/cdn/stories?pq=1&version=published", tok)
    b = cdn(env, "/v2/cdn/stories?pq=1&%76ersion=%70ublished", tok)
    assert a[0] == b[0] == 200
    assert a[1]["x-cache-status"] == "MISS" and b[1]["x-cache-status"] == "HIT"
    assert a[2]["uri"] == "/v2/cdn/stories?pq=1&version=published"


def test_a_long_canonical_uri_reaches_the_origin(env):
    # a 2,016-byte path and a query whose raw "{" are escaped to %7B: a
    # canonical URI of 6 KiB (past nginx's default 4 KiB FastCGI header
    # buffer) judged, forwarded and cached
    path = "/v2/cdn/stories/" + "a" * 2000
    canonical = path + "?big=" + "%7B" * 1364
    target = path + "?big=" + "{" * 1364
    assert len(canonical) > 6000
    status, h, body = cdn(env, target, env["tokens"]["public"])
    assert status == 200, h.get("x-tokend-reason")
    assert body["uri"] == canonical
    # the site file's /v1/verify answers it too (an auth_request from elsewhere)
    r = requests.get(env["nginx"].url("/v1/verify"), timeout=10, headers={
        "X-Original-URI": target + "&token=" + env["tokens"]["public"]})
    assert r.status_code == 200 and r.headers["X-Tokend-Uri"] == canonical
    # a canonical form over 8 KiB is refused, never cut short
    status, h, _ = cdn(env, "/v2/cdn/stories?big=" + "{" * 2800, env["tokens"]["public"])
    assert (status, h.get("x-tokend-reason")) == (403, "bad_uri")


def test_an_origin_error_is_not_an_answer(env):
    status, _, _ = cdn(env, "/v2/cdn/origin-error", env["tokens"]["public"])
    assert status == 502


# --- Apache, tokend as the FastCGI authorizer, a static docroot ----------------

@pytest.mark.parametrize("target,reason", REFUSED)
def test_refused_spellings_through_apache(env, target, reason):
    status, h, body = apache(env, target, env["tokens"]["story5"])
    # tokend refuses (403 with its reason), or Apache does before asking it:
    # never the file
    assert b'"file"' not in body
    if target in APACHE_404:
        assert status == 404, target          # AllowEncodedSlashes Off
    elif target in NGINX_400:
        assert status == 400, target          # ".." above the root
    else:
        assert (status, json.loads(body)["reason"]) == (403, reason), target


@pytest.mark.parametrize("target,canonical", ALLOWED[:6])
def test_allowed_spellings_through_apache(env, target, canonical):
    status, h, body = apache(env, target, env["tokens"]["story5"])
    assert status == 200, (target, body)
    assert json.loads(body) == {"file": canonical}
    assert h["cache-control"] == "public, max-age=60"


def test_apache_kind_rules_and_drafts(env):
    t = env["tokens"]
    assert apache(env, "/v2/cdn/assets/../stories/1", t["asset"])[0] == 403
    assert apache(env, "/v2/cdn/stories/../assets/x.png", t["public"])[0] == 403
    for spelling in DRAFTS[:4]:
        status, _, body = apache(env, "/v2/cdn/stories/5?" + spelling, t["public"])
        assert status == 401 and b"draft_not_allowed" in body, spelling
        status, h, _ = apache(env, "/v2/cdn/stories/5?" + spelling, t["preview"])
        assert status == 200 and h["cache-control"] == "no-store", spelling
    status, h, _ = apache(env, "/v2/cdn/stories/5?%76ersion=%70ublished", t["public"])
    assert status == 200 and h["cache-control"] == "public, max-age=60"
