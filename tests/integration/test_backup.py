"""The README's backup and restore procedure, step by step: a snapshot of
Redis over its connection plus a copy of the keyring, restored on a fresh
Redis and a fresh tokend, serves every token as before; either half alone
does not (the keyring without the data knows no token, the data without
the keyring verifies none)."""
import os
import shutil
import subprocess

import requests

from harness import (DEPLOY, TOKEND_BIN, Nginx, Redis, Tokend, admin_with_space,
                     running_stack, wait_until)

SPACE = 81


def verify(nginx, token):
    return requests.get(nginx.url("/v1/verify"), timeout=10,
                        headers={"X-Original-URI": f"/v2/cdn/stories?token={token}"})


def restore(workdir, rdb, keyring):
    """A fresh Redis loading the snapshot (AOF off for the load, then on:
    Redis rewrites the AOF from the data), a fresh tokend on that keyring."""
    os.makedirs(workdir)
    r = Redis(workdir)
    shutil.copy(rdb, os.path.join(r.dir, "dump.rdb"))
    r.proc = subprocess.Popen(
        ["redis-server", os.path.join(DEPLOY, "redis", "redis.conf"), "--port", str(r.port),
         "--bind", "127.0.0.1", "--dir", r.dir, "--appendonly", "no",
         "--logfile", os.path.join(r.dir, "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: r.cli("PING") == "PONG", what="the restored redis")
    assert r.cli("CONFIG", "SET", "appendonly", "yes") == "OK"
    # Redis rewrites the AOF from the data in a child: done before going on
    wait_until(lambda: "aof_rewrite_in_progress:0" in r.cli("INFO", "persistence") and
               "aof_rewrite_scheduled:0" in r.cli("INFO", "persistence"),
               timeout=20, what="the AOF rewritten")
    shutil.copy(keyring, os.path.join(workdir, "keyring"))
    os.chmod(os.path.join(workdir, "keyring"), 0o600)
    t = Tokend(workdir, r.url).start()
    n = Nginx(workdir, t.socket, t.verify_socket).start()
    return r, t, n


def test_backup_and_restore(tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir()
    with running_stack() as st:
        s = admin_with_space(st, SPACE)
        made = [s.post(st["nginx"].url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10,
                       json={"api_key": {"access": "public", "name": f"k{i}"}}).json()["api_key"]
                for i in range(3)]
        # the backup: a consistent snapshot over the connection, and the keyring
        subprocess.run(["redis-cli", "-p", str(st["redis"].port), "--rdb",
                        str(backup / "tokend.rdb")], check=True, capture_output=True, timeout=30)
        shutil.copy(os.path.join(st["dir"], "keyring"), backup / "keyring")
        admin = st["admin"]
    for step in ("both", "data only"):
        d = str(tmp_path / step.replace(" ", "-"))
        keyring = backup / "keyring"
        if step == "data only":        # a keyring that is not the backed-up one
            other = tmp_path / "other-keyring"
            subprocess.run([TOKEND_BIN, "keys", "generate"], check=True, capture_output=True,
                           env=dict(os.environ, TOKEND_KEYRING_FILE=str(other)))
            keyring = other
        r, t, n = restore(d, backup / "tokend.rdb", keyring)
        try:
            for k in made:
                expected = 200 if step == "both" else 401
                assert verify(n, k["token"]).status_code == expected, step
            got = requests.get(n.url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10,
                               headers={"Authorization": admin})
            if step == "both":
                assert got.status_code == 200
                assert {k["name"] for k in got.json()["api_keys"]} >= {"k0", "k1", "k2"}
                # the restored Redis writes its AOF again
                assert r.cli("CONFIG", "GET", "appendonly").split()[-1] == "yes"
            else:
                assert got.status_code == 401
        finally:
            n.stop()
            t.stop()
            r.stop()
