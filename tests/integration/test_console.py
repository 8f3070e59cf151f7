"""The management console (console/), served by the shipped nginx recipe at
/console/ and driven in Debian's Chromium (headless, playwright-core from
tests/browser/): sign in, spaces, tokens shown once and verified through
nginx, regenerate, disable, delete, PATs, a name holding markup shown as
text, a read-only credential offered no write, the security headers."""
import json
import re
import os
import shutil
import subprocess

import pytest
import requests

from harness import running_stack

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROWSER = os.path.join(ROOT, "tests", "browser")
SHOTS = os.path.join(ROOT, "build", "console")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def have_browser():
    return (shutil.which("node") and os.path.exists(CHROMIUM) and
            os.path.isdir(os.path.join(BROWSER, "node_modules", "playwright-core")))


def test_console_is_static_with_a_strict_policy():
    with running_stack() as env:
        n = env["nginx"]
        for path, ctype in (("/console/", "text/html"), ("/console/app.js", "text/javascript"),
                            ("/console/app.css", "text/css")):
            r = requests.get(n.url(path), timeout=10)
            assert r.status_code == 200, path
            assert r.headers["Content-Type"].startswith(ctype)
            assert r.headers["Content-Security-Policy"] == CSP
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert r.headers["Referrer-Policy"] == "no-referrer"
            assert r.headers["X-Frame-Options"] == "DENY"
        r = requests.get(n.url("/console"), timeout=10, allow_redirects=False)
        assert r.status_code == 301 and r.headers["Location"] == "/console/"
        # a missing file is nginx's JSON 404, still under the policy
        r = requests.get(n.url("/console/missing.js"), timeout=10)
        assert r.status_code == 404
        # nothing inline for the policy to refuse, nothing from elsewhere
        html = requests.get(n.url("/console/"), timeout=10).text
        assert "<script>" not in html and "style=" not in html and "<style" not in html
        assert "http://" not in html and "https://" not in html
        js = requests.get(n.url("/console/app.js"), timeout=10).text
        assert not re.search(r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write|"
                             r"\beval\(|new Function|setTimeout\(['\"]|localStorage\.|"
                             r"document\.cookie", js)


@pytest.mark.skipif(not have_browser(), reason="needs node, chromium and make browser-deps")
def test_console_in_a_real_browser():
    with running_stack() as env:
        n, admin = env["nginx"], env["admin"]
        base = n.url("").rstrip("/")
        proc = subprocess.run(
            ["node", os.path.join(BROWSER, "console.mjs")], cwd=ROOT, timeout=120,
            capture_output=True, text=True,
            env=dict(os.environ, TOKEND_URL=base, TOKEND_ADMIN=admin, SPACE_ID="4242",
                     SHOTS=SHOTS, CHROMIUM=CHROMIUM))
        lines = proc.stdout.strip().splitlines()
        assert proc.returncode == 0 and lines, proc.stderr[-4000:] + proc.stdout[-2000:]
        report = json.loads(lines[-1])
        assert report["steps"][-1] == "done"

        # what the page showed, checked again from here through nginx
        def verify(token):
            return requests.get(n.url("/v1/verify"), timeout=10, headers={
                "X-Original-URI": "/v2/cdn/stories?token=" + token}).status_code

        vals = report["values"]
        assert report["verify"]["created"] == 200
        assert verify(vals["created"]) == 401          # regenerated since
        assert verify(vals["regenerated"]) == 401      # disabled, then deleted
        assert report["verify"]["old_after_regenerate"] == 401
        assert report["verify"]["new_after_regenerate"] == 200
        h = {"Authorization": admin}
        keys = requests.get(n.url("/v1/spaces/4242/api_keys"), headers=h, timeout=10).json()
        names = [k["name"] for k in keys["api_keys"]]
        assert names == ["Read-only API token", "<img src=x onerror=alert(1)>"]
        assert report["xssText"] == "<img src=x onerror=alert(1)>"
        assert report["dialogs"] == [] and report["foreign"] == []
        assert report["readonly"]["actions"] == 0
        space = requests.get(n.url("/v1/spaces/4242"), headers=h, timeout=10).json()["space"]
        assert space["min_cache"] == 120
        pats = requests.get(n.url("/v1/personal_access_tokens"), headers=h, timeout=10).json()
        assert sorted(p["name"] for p in pats["personal_access_tokens"]) == ["admin", "reader"]
        acts = requests.get(n.url("/v1/spaces/4242/activities"), headers=h, timeout=10).json()
        assert {"api_key.create", "api_key.regenerate", "api_key.update", "api_key.delete",
                "space.update"} <= {a["action"] for a in acts["activities"]}
        for shot in ("spaces", "tokens", "tokens-list", "create", "activity", "pats", "readonly", "narrow"):
            assert os.path.getsize(os.path.join(SHOTS, shot + ".png")) > 5000, shot
