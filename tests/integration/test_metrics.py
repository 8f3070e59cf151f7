"""Prometheus metrics on metrics_listen: scraped during traffic and parsed
with the real Prometheus parser (python3-prometheus-client), the counts
checked against the traffic sent, summed over every worker of both pools."""
import os
import signal

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from harness import admin_with_space, free_port, running_stack, wait_until

SPACE = 71


@pytest.fixture(scope="module")
def stack():
    port = free_port()
    with running_stack(tokend_env={"TOKEND_METRICS_LISTEN": f"127.0.0.1:{port}"}) as st:
        st["metrics"] = f"http://127.0.0.1:{port}/metrics"
        st["s"] = admin_with_space(st, SPACE)
        yield st


def scrape(stack):
    r = requests.get(stack["metrics"], timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def verify(stack, token):
    return requests.get(stack["nginx"].url("/v1/verify"), timeout=10,
                        headers={"X-Original-URI": f"/v2/cdn/stories?token={token}"})


def test_counts_match_the_traffic(stack):
    r = stack["s"].post(stack["nginx"].url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10,
                        json={"api_key": {"access": "public"}})
    token = r.json()["api_key"]["token"]
    forged = token[:-4] + "AAAA"
    before = scrape(stack)
    for _ in range(25):
        assert verify(stack, token).status_code == 200
    for _ in range(7):
        assert verify(stack, forged).status_code == 401
    for _ in range(5):
        assert stack["s"].get(stack["nginx"].url(f"/v1/spaces/{SPACE}/api_keys"),
                              timeout=10).status_code == 200
    for _ in range(3):
        assert requests.get(stack["nginx"].url("/v1/nothing"), timeout=10).status_code == 404
    after = scrape(stack)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("tokend_requests_total", route="verify", status="200") == 25
    assert delta("tokend_requests_total", route="verify", status="401") == 7
    assert delta("tokend_requests_total", route="api_keys.list", status="200") == 5
    assert delta("tokend_requests_total", route="-", status="404") == 3
    assert delta("tokend_verify_total", reason="ok") == 25
    assert delta("tokend_verify_total", reason="forged_token") == 7
    # the 25 verifies of one token come from the cache but for the first on
    # each verify worker (2) and the one after each worker's last-use write
    # of it, which Redis invalidates in both (2 x 2); forged ones read nothing
    hits, misses = delta("tokend_verify_cache_hits_total"), delta("tokend_verify_cache_misses_total")
    assert hits + misses == 25 and 1 <= misses <= 6
    assert delta("tokend_request_duration_seconds_count", **{"class": "verify"}) == 32
    assert delta("tokend_request_duration_seconds_bucket", **{"class": "verify", "le": "+Inf"}) == 32
    assert delta("tokend_request_duration_seconds_sum", **{"class": "verify"}) > 0
    assert delta("tokend_request_duration_seconds_count", **{"class": "management"}) >= 8
    version = requests.get(stack["nginx"].url("/v1/version"), timeout=10).json()["version"]
    assert value(after, "tokend_build_info", version=version) == 1


def test_a_change_counts_an_invalidation(stack):
    r = stack["s"].post(stack["nginx"].url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10,
                        json={"api_key": {"access": "public"}})
    key = r.json()["api_key"]
    for _ in range(4):
        assert verify(stack, key["token"]).status_code == 200
    before = scrape(stack)
    assert stack["s"].delete(stack["nginx"].url(f"/v1/spaces/{SPACE}/api_keys/{key['id']}"),
                             timeout=10).status_code == 200
    wait_until(lambda: verify(stack, key["token"]).status_code == 401, what="the delete seen")
    after = scrape(stack)
    assert value(after, "tokend_verify_cache_invalidations_total") > \
        value(before, "tokend_verify_cache_invalidations_total")


def test_worker_restarts_are_counted(stack):
    t = stack["tokend"]
    before = value(scrape(stack), "tokend_worker_restarts_total")
    victim = t.verify_workers()[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: victim not in t.verify_workers() and len(t.verify_workers()) == 2,
               timeout=10, what="the worker replaced")
    assert value(scrape(stack), "tokend_worker_restarts_total") == before + 1


def test_only_get_metrics_is_served(stack):
    base = stack["metrics"].rsplit("/", 1)[0]
    r = requests.get(base + "/other", timeout=10)
    assert r.status_code == 404 and r.json()["code"] == "route_not_found"
    r = requests.post(stack["metrics"], data=b"x", timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    r = requests.head(stack["metrics"], timeout=10)
    assert r.status_code == 200 and r.text == ""
    assert requests.get(stack["metrics"] + "?x=1", timeout=10).status_code == 200


def test_hostile_scrapes_are_bounded(stack):
    """A head over 4 KiB, one that never ends, garbage: closed without an
    answer (or 405), and the next scrape is served."""
    import socket
    host, port = stack["metrics"].split("//")[1].split("/")[0].split(":")
    for payload in (b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 5000, b"\x00\xff" * 100 + b"\r\n\r\n"):
        with socket.create_connection((host, int(port)), timeout=5) as s:
            try:
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
                got = s.recv(4096)
            except (ConnectionResetError, BrokenPipeError, OSError) as e:
                # closed by the process before we were done: closed without an answer
                assert not isinstance(e, socket.timeout), e
                got = b""
            assert got == b"" or got.startswith(b"HTTP/1.1 405"), got[:80]
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"GET /metr")            # never finished: the process gives up after 2 s
        r = requests.get(stack["metrics"], timeout=10)
        assert r.status_code == 200
