"""The vendors' official npm clients (pinned in tests/compat/package.json),
run unchanged against tokend given only a base URL and a PAT."""
import os
import subprocess

import pytest

from harness import ROOT

COMPAT = os.path.join(ROOT, "tests", "compat")


def run_node(script, env, admin_pat, space):
    r = subprocess.run(["node", script], cwd=COMPAT, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, TOKEND_BASE=env["nginx"].base, TOKEND_PAT=admin_pat,
                                TOKEND_SPACE=str(space)))
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.fixture
def space(compat_env):
    import requests
    r = requests.post(compat_env["nginx"].url("/v1/spaces"), timeout=10,
                      headers={"Authorization": compat_env["admin"]},
                      json={"space": {"name": "compat", "min_cache": 0}})
    assert r.status_code == 201, r.text
    return r.json()["space"]["id"]


def test_storyblok_js_client(compat_env, space):
    out = run_node("storyblok-js-client.mjs", compat_env, compat_env["admin"], space)
    assert "ok" in out


def test_storyblok_management_api_client(compat_env, space):
    out = run_node("management-api-client.mjs", compat_env, compat_env["admin"], space)
    assert "ok" in out
