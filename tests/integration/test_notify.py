"""systemd's notify protocol without systemd: tokend serve with
NOTIFY_SOCKET naming a datagram socket the test binds, as systemd does for a
Type=notify unit. READY=1 comes once both pools accept, RELOADING=1 then
READY=1 around a SIGHUP (taken or refused), STOPPING=1 when SIGTERM drains."""
import os
import shutil
import signal
import socket

import pytest

from harness import DEPLOY, Tokend, children, reachable


@pytest.fixture
def notify_socket(workdir):
    path = os.path.join(workdir, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    yield path, s
    s.close()


def next_message(sock):
    """One datagram as {field: value}: READY=1 → {"READY": "1"}."""
    data = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in data.splitlines() if "=" in line)


def test_ready_reloading_stopping_at_the_right_moments(workdir, redis, notify_socket):
    path, sock = notify_socket
    config = os.path.join(workdir, "tokend.conf")
    shutil.copy(os.path.join(DEPLOY, "tokend.conf"), config)
    t = Tokend(workdir, redis.url, workers=2, config=config, env={"NOTIFY_SOCKET": path})
    t.start(wait=False)
    try:
        assert next_message(sock) == {"READY": "1"}
        # ready means serving: both sockets accept, every worker is forked
        # (2 management, 2 verify)
        assert reachable(t.socket) and reachable(t.verify_socket)
        assert len(children(t.pid)) == 4

        t.signal(signal.SIGHUP)
        msg = next_message(sock)
        assert msg["RELOADING"] == "1" and int(msg["MONOTONIC_USEC"]) > 0
        assert next_message(sock) == {"READY": "1"}

        # a reload refused (an invalid value) is over too: READY again
        with open(config, "w") as f:
            f.write("workers = many\n")
        t.signal(signal.SIGHUP)
        assert next_message(sock)["RELOADING"] == "1"
        assert next_message(sock) == {"READY": "1"}
        assert "reload refused" in t.log_text()

        t.signal(signal.SIGTERM)
        assert next_message(sock) == {"STOPPING": "1"}
        assert t.proc.wait(timeout=15) == 0
    finally:
        t.stop()


def test_without_notify_socket_nothing_is_sent(workdir, redis, notify_socket):
    """spawn-fcgi, mod_fcgid, a shell: no NOTIFY_SOCKET, no message, and
    tokend starts, reloads and stops as before."""
    path, sock = notify_socket
    t = Tokend(workdir, redis.url)
    t.env.pop("NOTIFY_SOCKET", None)
    t.start()
    try:
        t.signal(signal.SIGHUP)
    finally:
        assert t.stop() == 0
    sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        sock.recv(4096)
