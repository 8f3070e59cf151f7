"""The command line an operator uses: every command explains itself, names
what it cannot take, and keys and PATs can be listed, retired and revoked;
key rotation step by step, as the README's operations guide says."""
import os
import re
import signal
import subprocess

import pytest
import requests

from harness import DEPLOY, TOKEND_BIN, admin_with_space, fcgi_request, running_stack, wait_until

COMMANDS = ["serve", "check-config", "keys list", "keys generate", "keys retire", "pat create",
            "pat list", "pat revoke", "version"]
SPACE = 61


def tokend(*args, env=None, check_rc=None):
    r = subprocess.run([TOKEND_BIN, *args], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, **(env or {})))
    if check_rc is not None:
        assert r.returncode == check_rc, (r.returncode, r.stdout, r.stderr)
    return r


def test_help_lists_every_command_and_each_explains_itself():
    r = tokend("--help", check_rc=0)
    for c in COMMANDS:
        assert f"tokend {c}" in r.stdout
    for c in COMMANDS:
        r = tokend(*c.split(), "--help", check_rc=0)
        assert r.stdout.startswith(f"usage: tokend {c}")
        r = tokend(*c.split(), "--version", check_rc=0)
        assert re.fullmatch(r"tokend \d+\.\d+\.\d+\n", r.stdout)


@pytest.mark.parametrize("args,named", [
    (["serve", "--bogus"], "unknown option '--bogus'"),
    (["serve", "extra"], "unexpected argument 'extra'"),
    (["serve", "--config"], "--config needs a value"),
    (["keys"], "keys needs a subcommand, one of: list generate retire"),
    (["keys", "nope"], "unknown subcommand 'nope'"),
    (["pat", "list", "--name", "x"], "--name is not an option of this command"),
    (["keys", "retire"], "missing KID"),
    (["frob"], "unknown command 'frob'"),
])
def test_errors_name_the_bad_argument(args, named):
    r = tokend(*args, check_rc=2)
    assert named in r.stderr and r.stdout == ""


@pytest.fixture(scope="module")
def stack():
    with running_stack() as st:
        st["env"] = {"TOKEND_CONFIG": os.path.join(DEPLOY, "tokend.conf"),
                     "TOKEND_REDIS_URL": st["redis"].url,
                     "TOKEND_KEYRING_FILE": os.path.join(st["dir"], "keyring")}
        st["s"] = admin_with_space(st, SPACE)
        yield st


def make_token(stack):
    r = stack["s"].post(stack["nginx"].url(f"/v1/spaces/{SPACE}/api_keys"), timeout=10,
                        json={"api_key": {"access": "public"}})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]["token"]


def verify(stack, token):
    return requests.get(stack["nginx"].url("/v1/verify"), timeout=10,
                        headers={"X-Original-URI": f"/v2/cdn/stories?token={token}"})


def keys_table(stack):
    r = tokend("keys", "list", env=stack["env"], check_rc=0)
    rows = [l.split("\t") for l in r.stdout.splitlines()]
    assert rows[0] == ["KID", "ROLE", "TOKENS", "PATS"]
    return {int(k): (role, int(t), int(p)) for k, role, t, p in rows[1:]}


def test_access_log_names_the_client_and_the_acting_credential(stack):
    """Who called (the web server's REMOTE_ADDR) and as which credential (its
    id, never its value); a request with no credential logs cred=-."""
    r = stack["s"].get(stack["nginx"].url("/v1/spaces"), timeout=10)
    assert r.status_code == 200
    rid = r.headers["X-Request-Id"]
    r = requests.get(stack["nginx"].url("/v1/spaces"), timeout=10,
                     headers={"Authorization": "td_pat_nope"})
    assert r.status_code == 401
    rid401 = r.headers["X-Request-Id"]
    log = stack["tokend"].log_text()
    m = re.search(rf"route=spaces.list status=200 us=\d+ rid={rid} client=127\.0\.0\.1 "
                  rf"cred=pat:(\d+)$", log, re.M)
    assert m, log[-2000:]
    pats = tokend("pat", "list", env=stack["env"], check_rc=0).stdout
    assert f"\n{m.group(1)}\tadmin\t" in pats
    assert re.search(rf"rid={rid401} client=127\.0\.0\.1 cred=-$", log, re.M)
    assert stack["admin"] not in log
    # a REMOTE_ADDR that is not an address is not copied into the log
    status, _, _ = fcgi_request(stack["tokend"].socket, uri="/v1/health",
                                extra_env={"REMOTE_ADDR": "1.2.3.4 cred=pat:999 forged"})
    assert status == 200
    text = stack["tokend"].log_text()
    assert "forged" not in text and "pat:999" not in text


def test_pat_list_and_revoke(stack):
    env = stack["env"]
    r = stack["s"].post(stack["nginx"].url("/v1/personal_access_tokens"), timeout=10,
                        json={"personal_access_token": {"name": "ci", "spaces": [SPACE],
                                                        "scopes": {"access_tokens": "read"}}})
    assert r.status_code == 201, r.text
    pat = r.json()["personal_access_token"]
    value = pat["token"]
    out = tokend("pat", "list", env=env, check_rc=0).stdout
    assert value not in out and stack["admin"] not in out and "td_pat_" not in out
    rows = {int(l.split("\t")[0]): l.split("\t") for l in out.splitlines()[1:]}
    assert rows[pat["id"]][1:4] == ["ci", str(SPACE), "access_tokens:read"]
    assert any(r[1] == "admin" and r[2] == "all" and r[3] == "full" for r in rows.values())
    h = {"Authorization": value}
    assert requests.get(stack["nginx"].url(f"/v1/spaces/{SPACE}/api_keys"), headers=h,
                        timeout=10).status_code == 200
    r = tokend("pat", "revoke", str(pat["id"]), env=env, check_rc=0)
    assert f"revoked personal access token {pat['id']} (ci)" in r.stdout
    assert requests.get(stack["nginx"].url(f"/v1/spaces/{SPACE}/api_keys"), headers=h,
                        timeout=10).status_code == 401
    trail = stack["s"].get(stack["nginx"].url("/v1/activities"), timeout=10).json()
    entries = trail["activities"]
    assert any(a["action"] == "pat.delete" and a["actor"] == "cli"
               and a["resource_id"] in (pat["id"], str(pat["id"])) for a in entries), entries
    r = tokend("pat", "revoke", str(pat["id"]), env=env, check_rc=1)
    assert f"no personal access token {pat['id']}" in r.stderr
    tokend("pat", "revoke", "0", env=env, check_rc=2)


def reloaded(t, times):
    """Every worker of both pools has reloaded its configuration times times."""
    lines = [l for l in t.log_text().splitlines() if l.endswith("configuration reloaded")]
    return len(lines) >= times * (len(t.workers()) + len(t.verify_workers()))


def test_key_rotation_step_by_step(stack):
    """The README's procedure: generate, SIGHUP, regenerate what the old key
    signed (or let it expire), retire the old key, SIGHUP."""
    env, t = stack["env"], stack["tokend"]
    old = make_token(stack)
    before = keys_table(stack)
    assert list(before) == [1] and before[1][0] == "signs"
    assert before[1][1] >= 2 and before[1][2] >= 1      # the built-in token, ours; the admin PAT
    tokend("keys", "generate", env=env, check_rc=0)
    t.signal(signal.SIGHUP)
    wait_until(lambda: reloaded(t, 1), what="the workers reloaded")
    new = make_token(stack)
    table = keys_table(stack)
    assert table[1] == ("verifies", before[1][1], before[1][2])
    assert table[2] == ("signs", 1, 0)
    # the signing key cannot be retired
    r = tokend("keys", "retire", "2", "--yes", env=env, check_rc=1)
    assert "signs new tokens" in r.stderr
    # without --yes: says what it would revoke, changes nothing
    ring = open(env["TOKEND_KEYRING_FILE"]).read()
    r = tokend("keys", "retire", "1", env=env, check_rc=1)
    assert re.search(r"revokes \d+ token\(s\) and \d+ personal access token\(s\)", r.stderr)
    assert "--yes" in r.stderr and open(env["TOKEND_KEYRING_FILE"]).read() == ring
    assert verify(stack, old).status_code == 200
    # the admin PAT was signed by key 1: make the next admin first
    admin2 = tokend("pat", "create", "--name", "admin2", "--full", env=env, check_rc=0).stdout.strip()
    tokend("keys", "retire", "1", "--yes", env=env, check_rc=0)
    ring = open(env["TOKEND_KEYRING_FILE"]).read()
    assert ring.count("\n") == 1 and ring.startswith("2 ")
    assert os.stat(env["TOKEND_KEYRING_FILE"]).st_mode & 0o777 == 0o600
    t.signal(signal.SIGHUP)
    wait_until(lambda: reloaded(t, 2), what="the workers reloaded")
    assert verify(stack, old).status_code == 401
    assert verify(stack, old).headers["X-Tokend-Reason"] == "unknown_key"
    assert verify(stack, new).status_code == 200
    h = {"Authorization": admin2}
    assert requests.get(stack["nginx"].url("/v1/spaces"), headers=h, timeout=10).status_code == 200
    assert requests.get(stack["nginx"].url("/v1/spaces"), headers={"Authorization": stack["admin"]},
                        timeout=10).status_code == 401
    assert list(keys_table(stack)) == [2]
    tokend("keys", "retire", "7", "--yes", env=env, check_rc=1)


def test_config_file_with_trailing_comments_and_every_error_named(tmp_path):
    good = tmp_path / "good.conf"
    good.write_text("workers = 2 # two\nlisten = /tmp/x.sock   # a socket\n")
    keyring = tmp_path / "keyring"
    tokend("keys", "generate", env={"TOKEND_KEYRING_FILE": str(keyring),
                                    "TOKEND_CONFIG": str(good)}, check_rc=0)
    r = tokend("check-config", "--config", str(good),
               env={"TOKEND_KEYRING_FILE": str(keyring)}, check_rc=0)
    assert re.search(r"(?m)^workers = 2\t", r.stdout)
    # the output is a config file: it loads back to the same output
    printed = tmp_path / "printed.conf"
    printed.write_text(r.stdout)
    again = tokend("check-config", "--config", str(printed),
                   env={"TOKEND_KEYRING_FILE": str(keyring)}, check_rc=0)
    assert again.stdout.split("\n", 1)[1] == r.stdout.split("\n", 1)[1]
    bad = tmp_path / "bad.conf"
    bad.write_text("workers = many\nlisten = auto\nfrobs = 1\nbody_max_bytes = -1\n")
    r = tokend("check-config", "--config", str(bad), env={"TOKEND_KEYRING_FILE": str(keyring)},
               check_rc=1)
    for named in ("line 1: invalid value for workers", "line 3: unknown key 'frobs'",
                  "line 4: invalid value for body_max_bytes"):
        assert named in r.stderr
