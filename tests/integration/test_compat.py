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


def test_datocms_cma_client(compat_env, space):
    import requests
    base = compat_env["nginx"].base

    def dato_token(role, cma=True):
        r = requests.post(base + "/access_tokens", timeout=10, headers={
            "Authorization": "Bearer " + compat_env["admin"], "X-Api-Version": "3",
            "X-Space-Id": str(space), "Content-Type": "application/vnd.api+json"},
            json={"data": {"type": "access_token", "attributes": {
                "name": f"role {role}", "can_access_cda": True, "can_access_cda_preview": True,
                "can_access_cma": cma}, "relationships": {"role": {"data": {"type": "role",
                                                                              "id": role}}}}})
        assert r.status_code == 201, r.text
        return r.json()["data"]["attributes"]["token"]

    r = subprocess.run(["node", "datocms-cma-client.cjs"], cwd=COMPAT, capture_output=True,
                       text=True, timeout=120,
                       env=dict(os.environ, TOKEND_BASE=base, TOKEND_DATO_TOKEN=dato_token("1"),
                                TOKEND_READONLY_TOKEN=dato_token("2")))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "roles (create, find, list, update, duplicate, destroy)" in r.stdout
