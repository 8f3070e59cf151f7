"""docs/openapi.json: a valid OpenAPI 3.1 document, served byte for byte at
GET /v1/openapi.json, naming every route of src/api/routes.c; and the
checker (openapi_check.py) that holds every answer of the suite to it
really fails on drift."""
import json
import os
import re
import subprocess

import pytest
import requests

import openapi_check
from harness import ROOT

COMPAT = os.path.join(ROOT, "tests", "compat")
DOC = openapi_check.DOCUMENT


def validate(path):
    return subprocess.run(["node", "validate-openapi.cjs", path], cwd=COMPAT, capture_output=True,
                          text=True, timeout=120)


def test_document_is_valid_openapi_3_1():
    r = validate(DOC)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OpenAPI 3.1" in r.stdout


def test_validator_refuses_a_broken_document(workdir):
    """The validator is real: an operation without responses and a dangling
    $ref are refused."""
    doc = openapi_check.load_document()
    del doc["paths"]["/v1/version"]["get"]["responses"]
    doc["paths"]["/v1/health"]["get"]["responses"]["200"] = {"$ref": "#/components/responses/Nope"}
    path = os.path.join(workdir, "broken.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    r = validate(path)
    assert r.returncode != 0, r.stdout


def test_served_document_is_the_repository_file(stack):
    """No credential; exactly the bytes of docs/openapi.json (embedded at
    build time), as application/json; HEAD answers the headers."""
    with open(DOC, "rb") as f:
        want = f.read()
    r = requests.get(stack["nginx"].url("/v1/openapi.json"), timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.content == want
    h = requests.head(stack["nginx"].url("/v1/openapi.json"), timeout=10)
    assert h.status_code == 200 and h.content == b""
    assert int(h.headers["Content-Length"]) == len(want)


def routes_in_table():
    """(method, path) of every row of src/api/routes.c's route tables."""
    with open(os.path.join(ROOT, "src", "api", "routes.c")) as f:
        text = f.read()
    out = set()
    for methods, pattern in re.findall(r'\{\s*"[^"]+",\s*([A-Z_ |]+),\s*"([^"]+)"', text):
        pattern = pattern.replace("{*", "{")
        for m in re.findall(r"TD_METHOD_([A-Z]+)", methods):
            out.add((m.lower(), pattern))
    return out


def routes_in_document():
    doc = openapi_check.load_document()
    return {(m, p) for p, item in doc["paths"].items() for m in item
            if m in ("get", "put", "post", "patch", "delete")}


def test_every_route_is_documented_and_nothing_else():
    table = routes_in_table()
    assert len(table) > 40
    doc = routes_in_document()
    assert table - doc == set(), "routes without an operation in docs/openapi.json"
    assert doc - table == set(), "operations in docs/openapi.json that no route serves"


@pytest.fixture(scope="module")
def checker():
    return openapi_check.Checker(openapi_check.load_document())


JSON = "application/json; charset=utf-8"


def test_checker_passes_answers_as_documented(checker):
    ok = [
        ("GET", "http://127.0.0.1:1/v1/version", 200, JSON, b'{"name":"tokend","version":"0.1.0","build":"x"}'),
        ("GET", "/v1/spaces/7/api_keys/9/", 404, JSON, b'["This record could not be found"]'),
        ("POST", "/v1/spaces/7/api_keys", 422, JSON, b'{"access":["can\'t be blank"]}'),
        ("DELETE", "/public/v1/accounts/api-tokens/TKN-0000-0001", 204, JSON, b""),
        ("HEAD", "/v1/health", 200, JSON, b""),
        ("PATCH", "/v1/version", 405, JSON,
         b'{"error":"method not allowed","code":"method_not_allowed","status":405,"request_id":"r"}'),
        ("GET", "/v1/version", 414, "application/json",
         b'{"error":"request target too long","code":"uri_too_long","status":414}\n'),
        # not tokend routes: never judged
        ("GET", "/v2/cdn/stories/1?token=x", 418, "text/html", b"<html>"),
        ("GET", "/metrics", 200, "text/plain", b"# HELP"),
    ]
    for case in ok:
        assert checker.check(*case) is None, case


@pytest.mark.parametrize("method,target,status,ctype,body,why", [
    ("GET", "/v1/version", 418, JSON, b'{"error":"x","code":"x","status":418,"request_id":"r"}',
     "status 418 is not documented"),
    ("GET", "/v1/health", 200, JSON, b'{"status":1,"redis":"ok","version":"0.1.0"}',
     "does not match"),
    # tokend's shape where the Storyblok dialect is documented
    ("GET", "/v1/spaces/7/api_keys/9", 404, JSON,
     b'{"error":"not found","code":"not_found","status":404,"request_id":"r"}', "does not match"),
    # a SoftwareOne problem without its traceId
    ("GET", "/public/v1/accounts/api-tokens/TKN-0000-0001", 404, JSON,
     b'{"type":"t","title":"Not Found","status":404,"detail":"d"}', "does not match"),
    ("GET", "/access_tokens", 200, "text/html", b"<html>", "Content-Type"),
    ("GET", "/v1/spaces", 200, JSON, b"{not json", "not JSON"),
    ("DELETE", "/public/v1/accounts/api-tokens/TKN-0000-0001", 204, JSON, b"{}", "no body"),
    ("PATCH", "/v1/version", 200, JSON, b"{}", "not an operation"),
])
def test_checker_fails_on_drift(checker, method, target, status, ctype, body, why):
    problem = checker.check(method, target, status, ctype, body)
    assert problem is not None and why in problem, problem


def test_recorder_reports_every_disagreement(checker):
    """What pytest_sessionfinish fails the session on: every recorded answer
    that disagrees, named with its test."""
    rec = openapi_check.Recorder()
    rec.dump = None
    rec.add("GET", "/v1/version", 200, {"content-type": JSON}, b'{"name":"x"}', test="t1")
    rec.add("GET", "/v1/version", 599, {"content-type": JSON}, b"{}", test="t2")
    rec.add("GET", "/v1/health", 200, {"content-type": JSON},
            b'{"status":"ok","redis":"ok","version":"0.1.0"}', test="t3")
    failures = rec.failures(checker)
    assert len(failures) == 2
    assert "[t1]" in failures[0] and "[t2]" in failures[1]
