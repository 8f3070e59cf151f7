"""The verify path's own worker pool (verify_listen, verify_workers): its
processes, what its listener serves, that nginx sends verifies there, and the
point of it all: a verify answers while every management worker is busy."""
import os
import signal
import socket
import struct
import time

import pytest
import requests

from harness import (admin_with_space, fcgi_params, fcgi_record, fcgi_request, running_stack,
                     wait_until)

SPACE = 31


def hold_a_worker(socket_path):
    """A FastCGI request whose body never comes: the worker that takes it
    waits in the body read (one request at a time to completion) until
    io_timeout_ms, or until this socket closes."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(socket_path)
    begin = struct.pack(">HB5x", 1, 1)          # responder, keep the connection
    params = fcgi_params({"REQUEST_METHOD": "POST", "REQUEST_URI": "/v1/spaces",
                          "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "1000",
                          "SERVER_PROTOCOL": "HTTP/1.1"})
    s.sendall(fcgi_record(1, begin) + fcgi_record(4, params) + fcgi_record(4, b"")
              + fcgi_record(5, b"{"))
    return s


def token_for(stack):
    """A fresh public token in the stack's space (made once per stack)."""
    if "session" not in stack:
        stack["session"] = admin_with_space(stack, SPACE)
    r = stack["session"].post(stack["nginx"].url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10,
               json={"api_key": {"access": "public", "name": "pool"}})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]["token"]


def verify(stack, token, timeout):
    return requests.get(stack["nginx"].url("/v1/verify"), timeout=timeout,
                        headers={"X-Original-URI": f"/v2/cdn/stories?token={token}"})


def busy_main_pool(stack):
    """Every management worker stuck in a request; proven by a management
    call that gets no answer within a second. Returns the holding sockets."""
    held = [hold_a_worker(stack["tokend"].socket) for _ in range(2 * len(stack["tokend"].workers()) + 2)]
    time.sleep(0.3)
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(stack["nginx"].url("/v1/version"), timeout=1)
    return held


@pytest.fixture(scope="module")
def stack():
    with running_stack(tokend_env={"TOKEND_IO_TIMEOUT_MS": "4000"}) as st:
        yield st


def niceness(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def test_two_pools_of_processes(stack):
    t = stack["tokend"]
    assert len(t.workers()) == 2 and len(t.verify_workers()) == 2
    assert not set(t.workers()) & set(t.verify_workers())
    # management_nice (10): the CPU goes to verifies first
    base = niceness(t.pid)
    assert [niceness(p) - base for p in t.workers()] == [10, 10]
    assert [niceness(p) - base for p in t.verify_workers()] == [0, 0]
    assert os.path.exists(t.verify_socket)
    log = t.log_text()
    assert "tokend started: 2 management workers, 2 verify workers" in log


def test_verify_listener_serves_the_verify_path_only(stack):
    t = stack["tokend"]
    status, _, body = fcgi_request(t.verify_socket, uri="/v1/spaces",
                                   extra_env={"HTTP_AUTHORIZATION": stack["admin"]})
    assert status == 404 and b'"route_not_found"' in body and b"verify path only" in body
    status, _, body = fcgi_request(t.verify_socket, method="DELETE", uri="/v1/verify")
    assert status == 405
    for uri in ("/v1/health", "/v1/version"):
        status, _, _ = fcgi_request(t.verify_socket, uri=uri)
        assert status == 200, uri
    status, _, body = fcgi_request(t.verify_socket, method="POST", uri="/v1/verify",
                                   body=b'{"token":"td_pub_x","uri":"/v2/cdn/stories"}',
                                   content_type="application/json")
    assert status == 200 and b'"malformed_token"' in body
    # the main listener keeps the verify path too (a site file not yet split)
    status, _, _ = fcgi_request(t.socket, uri="/v1/verify")
    assert status == 401


def test_nginx_sends_verifies_to_the_verify_pool(stack):
    token = token_for(stack)
    t = stack["tokend"]
    mark = len(t.log_text())
    assert verify(stack, token, 10).status_code == 200
    assert requests.get(stack["nginx"].url("/v1/health"), timeout=10).status_code == 200
    wait_until(lambda: "route=health" in t.log_text()[mark:], what="access lines")
    lines = t.log_text()[mark:].splitlines()
    assert any(" verify-worker " in l and "route=verify " in l for l in lines), lines
    assert any(" worker " in l and "route=health " in l for l in lines), lines
    assert not any(" worker " in l and "route=verify " in l for l in lines), lines


def test_a_verify_answers_while_every_management_worker_is_busy(stack):
    token = token_for(stack)
    held = busy_main_pool(stack)
    try:
        for _ in range(20):
            r = verify(stack, token, 1)
            assert r.status_code == 200 and r.headers["X-Tokend-Space-Id"] == str(SPACE)
    finally:
        for h in held:
            h.close()
    wait_until(lambda: requests.get(stack["nginx"].url("/v1/version"), timeout=1).ok,
               timeout=10, what="the management pool back")


def test_a_dead_verify_worker_is_replaced(stack):
    t = stack["tokend"]
    victim, other = t.verify_workers()
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: victim not in t.verify_workers() and len(t.verify_workers()) == 2,
               timeout=10, what="a new verify worker")
    assert other in t.verify_workers() and len(t.workers()) == 2


def test_without_a_verify_pool_a_verify_waits_behind_management():
    """The control: one pool serves everything, so a verify queues behind
    the stuck management requests (what the pool above prevents)."""
    with running_stack(tokend_env={"TOKEND_IO_TIMEOUT_MS": "4000",
                                   "TOKEND_VERIFY_LISTEN": ""}) as st:
        assert st["tokend"].verify_workers() == [] and st["tokend"].verify_socket == st["tokend"].socket
        token = token_for(st)
        held = busy_main_pool(st)
        try:
            with pytest.raises(requests.exceptions.Timeout):
                verify(st, token, 1)
        finally:
            for h in held:
                h.close()
