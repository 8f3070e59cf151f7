"""The verify path: nginx auth_request in front of a cached content API
(deploy/nginx/tokend-cdn.conf), Apache's FastCGI authorizer
(deploy/apache/tokend-authorizer.conf), GET and POST /v1/verify, every
rule allowed and refused, and revocation on the very next request."""
import base64
import os
import re
import signal
import subprocess
import time

import pytest
import requests

from harness import (DEPLOY, Nginx, Tokend, create_admin_pat, docroot_with, free_port,
                     running_stack, settle_last_use, start_authorizer, wait_until)
from test_tokens import commands_executed


class CdnNginx(Nginx):
    """nginx with tokend.conf plus the CDN example, and a test origin whose
    answers change on every request ($msec), so a cache hit is visible."""

    def start(self):
        self.cdn, self.shim, self.origin = free_port(), free_port(), free_port()
        return super().start(self.cdn, self.shim, self.origin)

    def before_launch(self):
        with open(os.path.join(self.dir, "origin.extra.conf"), "w") as f:
            f.write("server { listen 127.0.0.1:%d; location / { default_type application/json;"
                    " return 200 '{\"uri\":\"$request_uri\",\"at\":\"$msec\"}'; } }\n" % self.origin)

    def content(self, path, **kw):
        return requests.get(f"http://127.0.0.1:{self.cdn}{path}", timeout=10, **kw)


@pytest.fixture(scope="module")
def env():
    with running_stack(CdnNginx) as stack:
        s = requests.Session()
        s.headers["Authorization"] = stack["admin"]
        api = stack["nginx"].base
        assert s.post(api + "/v1/spaces", timeout=10, json={
            "space": {"id": 606, "name": "cdn", "min_cache": 60}}).status_code == 201
        stack.update({"s": s, "api": api})
        yield stack


def key(env, **fields):
    body = {"access": "public"}
    body.update(fields)
    r = env["s"].post(env["api"] + "/v1/spaces/606/api_keys", json={"api_key": body}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def update(env, k, **fields):
    r = env["s"].put(env["api"] + f"/v1/spaces/606/api_keys/{k['id']}", json={"api_key": fields},
                     timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["api_key"]


def content(env, path, token, **params):
    params["token"] = token
    q = "&".join(f"{k}={v}" for k, v in params.items())
    return env["nginx"].content(f"{path}?{q}")


def verify(env, token=None, uri="/v2/cdn/stories", headers=None):
    h = {"X-Original-URI": uri + (("&" if "?" in uri else "?") + f"token={token}" if token else "")}
    h.update(headers or {})
    return requests.get(env["api"] + "/v1/verify", headers=h, timeout=10)


# --- through nginx auth_request with the cache ------------------------------

def test_published_content_is_cached_for_min_cache(env):
    k = key(env)                                   # inherits the space's 60 s
    a = content(env, "/v2/cdn/stories", k["token"], version="published")
    b = content(env, "/v2/cdn/stories", k["token"], version="published")
    assert a.status_code == b.status_code == 200
    assert a.headers["X-Cache-Status"] == "MISS" and b.headers["X-Cache-Status"] == "HIT"
    assert a.json()["at"] == b.json()["at"]


def test_min_cache_zero_is_never_cached(env):
    k = key(env, min_cache=0)
    a = content(env, "/v2/cdn/stories", k["token"])
    time.sleep(0.01)
    b = content(env, "/v2/cdn/stories", k["token"])
    assert a.status_code == b.status_code == 200
    assert a.json()["at"] != b.json()["at"]


def test_drafts_need_preview_and_are_never_cached(env):
    public, preview = key(env), key(env, access="private")
    r = content(env, "/v2/cdn/stories", public["token"], version="draft")
    assert r.status_code == 401 and r.json() == {"error": "Unauthorized"}
    a = content(env, "/v2/cdn/stories", preview["token"], version="draft")
    time.sleep(0.01)
    b = content(env, "/v2/cdn/stories", preview["token"], version="draft")
    assert a.status_code == b.status_code == 200
    assert a.headers["X-Cache-Status"] == "BYPASS" and a.json()["at"] != b.json()["at"]
    assert content(env, "/v2/cdn/stories", preview["token"]).status_code == 200


def test_forged_tokens_are_refused_without_redis(env):
    k = key(env)
    payload = bytearray(base64.urlsafe_b64decode(k["token"][7:] + "="))
    payload[20] ^= 1                               # another token id, same tag
    other_id = k["token"][:7] + base64.urlsafe_b64encode(bytes(payload)).decode().rstrip("=")
    for bad in (k["token"][:-3] + "AAA", other_id, "td_pub_" + "x" * 71, "nonsense",
                k["token"].replace("td_pub_", "td_prv_")):
        if bad == k["token"][:-3] + "AAA":
            settle_last_use()     # once: key() above was a management call
        before = commands_executed(env["redis"])
        assert content(env, "/v2/cdn/stories", bad).status_code == 401
        assert commands_executed(env["redis"]) == before, bad


@pytest.mark.parametrize("change", ["delete", "disable", "regenerate", "expire"])
def test_revocation_applies_to_the_very_next_request(env, change):
    k = key(env, min_cache=60)
    assert content(env, "/v2/cdn/stories", k["token"]).status_code == 200   # now cached
    if change == "delete":
        assert env["s"].delete(env["api"] + f"/v1/spaces/606/api_keys/{k['id']}",
                               timeout=10).status_code == 200
    elif change == "disable":
        assert update(env, k, status="disabled")["status"] == "disabled"
    elif change == "regenerate":
        r = env["s"].post(env["api"] + f"/v1/spaces/606/api_keys/{k['id']}/regenerate", timeout=10)
        assert r.status_code == 200
        new = r.json()["api_key"]["token"]
        assert new != k["token"] and new.startswith("td_pub_")
        assert content(env, "/v2/cdn/stories", new).status_code == 200
    else:
        update(env, k, expires_at="2001-01-01T00:00:00Z")
    r = content(env, "/v2/cdn/stories", k["token"])
    assert r.status_code == 401, change
    if change == "disable":
        update(env, k, status="active")
        assert content(env, "/v2/cdn/stories", k["token"]).status_code == 200


def test_future_expiry_still_passes(env):
    k = key(env, expires_at="2099-01-01T00:00:00Z")
    assert content(env, "/v2/cdn/stories", k["token"]).status_code == 200


@pytest.mark.parametrize("path,params,status", [
    ("/v2/cdn/stories/42", {}, 200),
    ("/v2/cdn/stories/43", {}, 403),
    ("/v2/cdn/stories/posts/a-slug", {}, 403),
    ("/v2/cdn/stories", {"by_ids": "42,7"}, 200),
    ("/v2/cdn/stories", {"by_ids": "42,43"}, 403),
    ("/v2/cdn/stories", {"by_ids": "42,x"}, 403),
    ("/v2/cdn/stories", {"id": "7"}, 200),
    ("/v2/cdn/stories", {"id": "8"}, 403),
    ("/v2/cdn/stories", {}, 403),
    ("/v2/cdn/links", {}, 200),
    # embedded stories the rules cannot see
    ("/v2/cdn/stories/42", {"resolve_relations": "page.related"}, 403),
    ("/v2/cdn/stories", {"by_ids": "42", "resolve_links": "url"}, 403),
])
def test_story_restrictions(env, path, params, status):
    k = key(env, story_ids=[42, 7])
    assert content(env, path, k["token"], **params).status_code == status


def test_unrestricted_token_reads_any_story(env):
    k = key(env)
    for path in ("/v2/cdn/stories/43", "/v2/cdn/stories/posts/a-slug", "/v2/cdn/stories"):
        assert content(env, path, k["token"]).status_code == 200


@pytest.mark.parametrize("access,release_ids,release,status", [
    ("release", [7], "7", 200),
    ("release", [7], "8", 403),
    ("public", [], "7", 403),
    ("private", [], "7", 200),
    ("private", [9], "7", 403),
    ("release", [7], "x", 403),
])
def test_release_restrictions(env, access, release_ids, release, status):
    k = key(env, access=access, release_ids=release_ids)
    assert content(env, "/v2/cdn/stories", k["token"], from_release=release).status_code == status


def test_branch_binding(env):
    k = key(env, branch_id=5)
    assert content(env, "/v2/cdn/stories", k["token"], branch_id="5").status_code == 200
    assert content(env, "/v2/cdn/stories", k["token"], branch_id="6").status_code == 403
    assert content(env, "/v2/cdn/stories", k["token"]).status_code == 200
    free = key(env)
    assert content(env, "/v2/cdn/stories", free["token"], branch_id="6").status_code == 200


def test_asset_tokens_are_for_assets(env):
    asset, public, preview = key(env, access="asset"), key(env), key(env, access="private")
    assert content(env, "/v2/cdn/assets/me", asset["token"], filename="a.png").status_code == 200
    assert content(env, "/v2/cdn/stories", asset["token"]).status_code == 403
    assert content(env, "/v2/cdn/assets/me", public["token"]).status_code == 403
    assert content(env, "/v2/cdn/assets/me", preview["token"]).status_code == 200


# --- GET /v1/verify directly ------------------------------------------------

def test_verify_headers_and_token_sources(env):
    k = key(env, access="private", min_cache=30)
    r = verify(env, k["token"], "/v2/cdn/stories?version=draft")
    assert r.status_code == 200
    assert (r.headers["X-Tokend-Token-Id"], r.headers["X-Tokend-Space-Id"],
            r.headers["X-Tokend-Access"], r.headers["X-Tokend-Min-Cache"],
            r.headers["X-Tokend-Draft"]) == (str(k["id"]), "606", "private", "30", "1")
    for h in ({"Authorization": k["token"]}, {"Authorization": "Bearer " + k["token"]},
              {"X-Token": k["token"]}):
        r = verify(env, None, "/v2/cdn/stories", headers=h)
        assert r.status_code == 200 and r.headers["X-Tokend-Token-Id"] == str(k["id"])
    r = verify(env, None, "/v2/cdn/stories")
    assert r.status_code == 401 and r.headers["X-Tokend-Reason"] == "missing_token"


def test_verify_answers_only_200_401_403(env, admin_pat=None):
    k = key(env)
    pat = create_admin_pat(env["dir"], env["redis"].url)
    cases = [
        ({"X-Original-URI": "/v2/cdn/stories?token=" + pat}, 401, "not_a_delivery_token"),
        ({"X-Original-URI": "no-slash?token=" + k["token"]}, 403, "bad_uri"),
        ({"X-Original-URI": "/a%zz?token=" + k["token"]}, 403, "bad_uri"),
        ({"X-Original-URI": "/x?token=" + "A" * 4000}, 401, "malformed_token"),
        ({"X-Original-URI": "/x?token=%00"}, 403, "bad_uri"),
        ({"X-Token": "\u00e9".encode().decode("latin-1")}, 401, "malformed_token"),
    ]
    for headers, status, reason in cases:
        r = requests.get(env["api"] + "/v1/verify", headers=headers, timeout=10)
        assert (r.status_code, r.headers.get("X-Tokend-Reason")) == (status, reason), headers
    # even tokend's generic errors (a header over 8 KiB: 431 elsewhere) are refusals here
    r = requests.get(env["api"] + "/v1/verify", timeout=10,
                     headers={"X-Original-URI": "/x?token=" + "a" * 9000})
    assert r.status_code == 403 and r.json()["code"] == "header_too_large"
    r = requests.get(env["api"] + "/v1/verify?q=" + "a" * 5000, timeout=10)
    assert r.status_code == 403 and r.json()["code"] == "uri_too_long"


def test_post_verify_for_programs(env):
    k = key(env, access="private", min_cache=15)
    url = env["api"] + "/v1/verify"
    r = requests.post(url, json={"token": k["token"], "uri": "/v2/cdn/stories?version=draft",
                                 "method": "GET"}, timeout=10)
    assert r.status_code == 200
    assert r.json() == {"valid": True, "reason": "ok", "token": {
        "id": k["id"], "space_id": 606, "access": "private", "min_cache": 15}}
    public = key(env)
    r = requests.post(url, json={"token": public["token"], "uri": "/v2/cdn/stories?version=draft"},
                      timeout=10)
    assert r.json()["valid"] is False and r.json()["reason"] == "draft_not_allowed"
    r = requests.post(url, json={"token": "garbage"}, timeout=10)
    assert r.json() == {"valid": False, "reason": "malformed_token", "token": None}
    for body in ({}, {"token": 5}, {"token": k["token"], "uri": 5},
                 {"token": k["token"], "method": "DELETE"}, {"token": k["token"], "uri": "/%zz"}):
        assert requests.post(url, json=body, timeout=10).status_code == 422, body


def test_verify_never_logs_the_token(env):
    k = key(env)
    content(env, "/v2/cdn/stories", k["token"])
    verify(env, k["token"])
    requests.post(env["api"] + "/v1/verify", json={"token": k["token"]}, timeout=10)
    assert k["token"] not in env["tokend"].log_text()
    assert k["token"][7:30] not in env["tokend"].log_text()


# --- Redis down: fail closed by default, open when configured ----------------

def test_redis_outage_fails_closed_by_default_and_open_on_request(workdir, redis):
    admin = create_admin_pat(workdir, redis.url)
    closed = Tokend(workdir, redis.url).start()
    n = Nginx(workdir, closed.socket, closed.verify_socket).start()
    s = requests.Session()
    s.headers["Authorization"] = admin
    s.post(n.url("/v1/spaces"), json={"space": {"id": 1, "name": "x"}}, timeout=10)
    pub = s.post(n.url("/v1/spaces/1/api_keys"), json={"api_key": {"access": "public"}},
                 timeout=10).json()["api_key"]["token"]
    hdr = {"X-Original-URI": "/v2/cdn/stories?token=" + pub}
    assert requests.get(n.url("/v1/verify"), headers=hdr, timeout=10).status_code == 200
    redis.stop()
    r = requests.get(n.url("/v1/verify"), headers=hdr, timeout=10)
    assert r.status_code == 403 and r.headers["X-Tokend-Reason"] == "store_unavailable"
    n.stop()
    closed.stop()
    opened = Tokend(workdir, redis.url, env={"TOKEND_VERIFY_FAIL_OPEN": "on"}).start()
    n = Nginx(workdir, opened.socket, opened.verify_socket).start()
    try:
        r = requests.get(n.url("/v1/verify"), headers=hdr, timeout=10)
        assert r.status_code == 200 and r.headers["X-Tokend-Degraded"] == "1"
        assert r.headers["X-Tokend-Access"] == "public"
        draft = {"X-Original-URI": "/v2/cdn/stories?version=draft&token=" + pub}
        assert requests.get(n.url("/v1/verify"), headers=draft, timeout=10).status_code == 401
        forged = {"X-Original-URI": "/v2/cdn/stories?token=" + pub[:-2] + "AA"}
        assert requests.get(n.url("/v1/verify"), headers=forged, timeout=10).status_code == 401
    finally:
        n.stop()
        opened.stop()
        redis.start()


# --- Apache mod_authnz_fcgi: the FastCGI Authorizer role ----------------------

def test_apache_fastcgi_authorizer(workdir, redis):
    from test_deploy import Apache
    admin = create_admin_pat(workdir, redis.url)
    sock = Tokend(workdir, redis.url).start()          # management API over nginx
    n = Nginx(workdir, sock.socket, sock.verify_socket).start()
    tport, authz = start_authorizer(workdir, redis.url)
    docroot = docroot_with(workdir, {"v2/cdn/stories": '{"stories":[]}'})
    apache = Apache(workdir, "authorizer", str(tport), docroot)
    try:
        s = requests.Session()
        s.headers["Authorization"] = admin
        s.post(n.url("/v1/spaces"), json={"space": {"id": 9, "name": "a", "min_cache": 60}},
               timeout=10)
        mk = lambda **f: s.post(n.url("/v1/spaces/9/api_keys"), timeout=10,  # noqa: E731
                                json={"api_key": dict({"access": "public"}, **f)}).json()["api_key"]
        pub, prv = mk(), mk(access="private")
        url = apache.url("/v2/cdn/stories")
        wait_until(lambda: requests.get(url, timeout=5).status_code == 401, timeout=15,
                   what="Apache with the authorizer")
        r = requests.get(url, params={"token": pub["token"]}, timeout=10)
        assert r.status_code == 200 and r.json() == {"stories": []}
        assert r.headers["Cache-Control"] == "public, max-age=60"
        r = requests.get(url, params={"token": pub["token"], "version": "draft"}, timeout=10)
        assert r.status_code == 401 and r.json()["reason"] == "draft_not_allowed"
        r = requests.get(url, params={"token": prv["token"], "version": "draft"}, timeout=10)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
        r = requests.get(url, headers={"X-Token": pub["token"]}, timeout=10)
        assert r.status_code == 200
        story = mk(story_ids=[1])
        r = requests.get(url, params={"token": story["token"]}, timeout=10)
        assert r.status_code == 403 and r.json()["reason"] == "story_not_allowed"
        assert s.delete(n.url(f"/v1/spaces/9/api_keys/{pub['id']}"), timeout=10).status_code == 200
        r = requests.get(url, params={"token": pub["token"]}, timeout=10)
        assert r.status_code == 401 and r.json()["reason"] == "unknown_token"
        assert "route=authorize status=200" in authz.log_text()
    finally:
        apache.stop()
        authz.stop()
        n.stop()
        sock.stop()


def test_readme_and_code_share_the_rules_table():
    from harness import ROOT
    header = open(os.path.join(ROOT, "include", "tokend", "core", "verify.h")).read()
    rows = header[header.index(" *   URI"):header.index(" */\n#ifndef")].rstrip().split("\n")
    readme = open(os.path.join(ROOT, "README.md")).read()
    assert len(rows) >= 8
    for row in rows:
        assert row[3:] in readme, row
