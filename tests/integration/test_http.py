"""Requests and responses through nginx: health, version, and every generic
error (404, 405, 413, 400, 415, 414) as JSON with a reason phrase and an
X-Request-Id, in the dialect of the path."""
import concurrent.futures
import http.client
import json
import re

import pytest
import requests

from harness import fcgi_request

JSON_CT = "application/json; charset=utf-8"


def get(stack, path, **kw):
    return requests.get(stack["nginx"].url(path), timeout=5, **kw)


def assert_json_response(r, status, reason):
    assert r.status_code == status
    assert r.reason == reason
    assert r.headers["Content-Type"] == JSON_CT
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", r.headers["X-Request-Id"])
    return r.json()


def test_health_ok(stack):
    body = assert_json_response(get(stack, "/v1/health"), 200, "OK")
    assert body["status"] == "ok"
    assert body["redis"] == "ok"


def test_version(stack):
    body = assert_json_response(get(stack, "/v1/version"), 200, "OK")
    assert body["name"] == "tokend"
    assert re.fullmatch(r"\d+\.\d+\.\d+", body["version"])


def test_trailing_slash_and_bare_query_and_unknown_params(stack):
    for path in ("/v1/health/", "/v1/health?", "/v1/health?foo=bar&&x"):
        assert get(stack, path).status_code == 200, path


def test_head_has_headers_and_no_body(stack):
    r = requests.head(stack["nginx"].url("/v1/version"), timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == JSON_CT
    assert int(r.headers["Content-Length"]) > 0
    assert r.content == b""


def test_unknown_path_404(stack):
    body = assert_json_response(get(stack, "/v1/nothing/here"), 404, "Not Found")
    assert body["code"] == "route_not_found"
    assert body["status"] == 404
    assert body["request_id"]


def test_wrong_method_405_with_allow(stack):
    r = requests.delete(stack["nginx"].url("/v1/health"), timeout=5)
    body = assert_json_response(r, 405, "Method Not Allowed")
    assert r.headers["Allow"] == "GET, HEAD"
    assert body["code"] == "method_not_allowed"


def test_oversize_body_413(stack):
    big = b'"' + b"a" * (1024 * 1024) + b'"'   # one byte over the 1 MiB default
    r = requests.get(stack["nginx"].url("/v1/version"), data=big,
                     headers={"Content-Type": "application/json"}, timeout=10)
    body = assert_json_response(r, 413, "Content Too Large")
    assert body["code"] == "payload_too_large"
    # the connection to tokend survives: the next request is served
    assert get(stack, "/v1/health").status_code == 200


def test_body_at_the_limit_is_accepted(stack):
    exact = b'"' + b"a" * (1024 * 1024 - 2) + b'"'   # exactly 1 MiB of valid JSON
    r = requests.get(stack["nginx"].url("/v1/version"), data=exact,
                     headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 200


def test_far_oversize_body_is_json_from_nginx(stack):
    huge = b"x" * (17 * 1024 * 1024)   # beyond nginx's client_max_body_size
    r = requests.post(stack["nginx"].url("/v1/version"), data=huge,
                      headers={"Content-Type": "application/json"}, timeout=20)
    assert r.status_code == 413
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["code"] == "payload_too_large"


@pytest.mark.parametrize("payload,why", [
    (b"{bad", "quoted object property"),
    (b'{"a":1', "end of data"),
    (b'{"a":1} trailing', "unexpected character"),
    (b"[" * 40 + b"]" * 40, "nesting too deep"),
    (b'{"a":"\xff\xfe"}', "utf-8"),
    (b'{"a":1}\x00', "NUL"),
    (b'{"a":1,"a":2}', "duplicate key"),
    (b"{'a':1}", "single-quoted"),
])
def test_malformed_json_400(stack, payload, why):
    r = requests.get(stack["nginx"].url("/v1/version"), data=payload,
                     headers={"Content-Type": "application/json"}, timeout=5)
    body = assert_json_response(r, 400, "Bad Request")
    assert body["code"] == "invalid_json"
    assert why in body["error"]


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", None])
def test_non_json_body_415(stack, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    r = requests.get(stack["nginx"].url("/v1/version"), data=b"a=1", headers=headers, timeout=5)
    body = assert_json_response(r, 415, "Unsupported Media Type")
    assert body["code"] == "unsupported_media_type"


def test_empty_body_needs_no_content_type(stack):
    r = requests.get(stack["nginx"].url("/v1/version"), headers={"Content-Type": "text/plain"},
                     timeout=5)
    assert r.status_code == 200


def test_vnd_api_json_accepted(stack):
    r = requests.get(stack["nginx"].url("/v1/version"), data=b"{}",
                     headers={"Content-Type": "application/vnd.api+json"}, timeout=5)
    assert r.status_code == 200


def test_long_uri_414(stack):
    r = get(stack, "/v1/health?q=" + "a" * 5000)
    body = assert_json_response(r, 414, "URI Too Long")
    assert body["code"] == "uri_too_long"


def raw_get(stack, target):
    """A request line sent as is (requests would re-encode a bad escape)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack["nginx"].port, timeout=5)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, r.reason, r.getheader("Content-Type"), r.read()
    finally:
        conn.close()


def test_malformed_escape_400(stack):
    # straight to tokend: its own JSON 400
    status, headers, body = fcgi_request(stack["tokend"].socket, uri="/v1/he%zzalth")
    assert status == 400
    assert headers["content-type"] == JSON_CT
    assert json.loads(body)["code"] == "bad_request"
    status, _, body = fcgi_request(stack["tokend"].socket, uri="/v1/health%00")
    assert status == 400
    # through nginx, which refuses it first: JSON all the same
    status, reason, ctype, body = raw_get(stack, "/v1/he%zzalth")
    assert (status, reason, ctype) == (400, "Bad Request", JSON_CT)
    assert json.loads(body)["code"] == "bad_request"


def test_nginx_own_errors_are_json(stack):
    status, reason, ctype, body = raw_get(stack, "/_tokend/400")
    assert (status, ctype) == (404, JSON_CT)
    assert json.loads(body)["code"] == "route_not_found"
    r = get(stack, "/v1/health", headers={"X-Big": "a" * 20000})
    assert r.status_code == 400 and r.reason == "Bad Request"
    assert r.json()["code"] == "header_too_large"


def test_errors_render_in_the_dialect_of_the_path(stack):
    dato = get(stack, "/access_tokens/1/nothing")
    assert dato.status_code == 404
    err = dato.json()["data"][0]
    assert err["type"] == "api_error"
    assert err["attributes"]["code"] == "INVALID_ENDPOINT"
    assert re.fullmatch(r"[0-9a-f]{6}", err["id"])

    so = get(stack, "/public/v1/accounts/nothing")
    assert so.status_code == 404
    problem = so.json()
    assert problem["title"] == "Not Found" and problem["status"] == 404
    assert problem["type"].startswith("https://tools.ietf.org/html/rfc9110#section-15.5.5")
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-00", problem["traceId"])

    sb = get(stack, "/v1/spaces/1/api_keys/2/x")
    assert sb.status_code == 404
    assert sb.json() == ["This record could not be found"]
    for r in (dato, so, sb):
        assert r.headers["Content-Type"] == JSON_CT


def test_request_id_matches_nginx_and_log(stack):
    r = get(stack, "/v1/version")
    rid = r.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)    # nginx's $request_id
    log = stack["tokend"].log_text()
    assert re.search(rf"access method=GET route=version status=200 us=\d+ rid={rid}", log)


def test_access_log_never_holds_secrets(stack):
    secret = "sb-SECRETTOKENVALUE-123"
    get(stack, f"/v1/health?token={secret}", headers={"Authorization": f"Bearer {secret}",
                                                      "X-Token": secret})
    requests.get(stack["nginx"].url("/v1/version"), data=json.dumps({"token": secret}),
                 headers={"Content-Type": "application/json"}, timeout=5)
    get(stack, f"/v1/nothing/{secret}")
    assert secret not in stack["tokend"].log_text()


def test_oversize_header_431(stack):
    r = get(stack, "/v1/health", headers={"X-Big": "a" * 8193})
    body = assert_json_response(r, 431, "Request Header Fields Too Large")
    assert body["code"] == "header_too_large"


def test_concurrent_requests_over_kept_connections(stack):
    """64 clients at once through nginx's keepalive pool into 2 workers."""
    url = stack["nginx"].url("/v1/health")

    def burst(_):
        with requests.Session() as s:
            return [s.get(url, timeout=10).status_code for _ in range(20)]

    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        codes = [c for batch in pool.map(burst, range(64)) for c in batch]
    assert codes == [200] * (64 * 20)
