"""The manual pages in man/ against the binary they describe: every key
`tokend check-config` prints has its entry in tokend.conf(5), every command
and option `tokend --help` lists has its entry in tokend(8), and both pages
pass mandoc's lint and groff's warnings (groff is what man(1) renders
with on Debian)."""
import os
import re
import subprocess

import pytest

from harness import DEPLOY, ROOT, TOKEND_BIN, make_keyring

MAN = os.path.join(ROOT, "man")
PAGES = ["tokend.8", "tokend.conf.5"]


def source(page):
    with open(os.path.join(MAN, page)) as f:
        return f.read()


def config_keys(workdir):
    r = subprocess.run([TOKEND_BIN, "check-config", "--config", os.path.join(DEPLOY, "tokend.conf")],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, TOKEND_KEYRING_FILE=make_keyring(workdir)))
    assert r.returncode == 0, r.stderr
    keys = re.findall(r"(?m)^([a-z0-9_]+) = ", r.stdout)
    assert len(keys) >= 30, r.stdout
    return keys


def usage():
    r = subprocess.run([TOKEND_BIN, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def commands(text):
    """The command words of each usage line: `tokend keys retire KID [...]`
    gives "keys retire" (placeholders are upper case, options start with -;
    a line like `tokend [COMMAND] --help` names none)."""
    found = []
    for line in text.split("\n\n")[0].splitlines():  # the usage block, not the prose after it
        m = re.match(r"^(?:usage:)?\s*tokend((?: [a-z][a-z-]*)+)", line)
        if m:
            found.append(m.group(1).strip())
    return found


def test_every_config_key_has_an_entry_in_tokend_conf_5(workdir):
    page = source("tokend.conf.5")
    missing = [k for k in config_keys(workdir)
               if not re.search(rf"(?m)^\.It Cm {re.escape(k)}(?: |$)", page)]
    assert not missing, f"keys without an entry in man/tokend.conf.5: {missing}"


def test_every_command_and_option_of_the_usage_is_in_tokend_8():
    text, page = usage(), source("tokend.8")
    cmds = commands(text)
    assert {"serve", "check-config", "keys generate", "pat create", "version"} <= set(cmds), text
    for cmd in cmds:
        # in the synopsis, and described under COMMANDS
        assert re.search(rf"(?m)^\.Cm {re.escape(cmd)}$", page), f"{cmd} not in the SYNOPSIS"
        assert re.search(rf"(?m)^\.It Cm {re.escape(cmd)}(?: |$)", page), \
            f"{cmd} not under COMMANDS"
    options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", text)) | {"--help", "--version"}
    for opt in sorted(options):
        assert re.search(rf"(?m)^\.It Fl {re.escape(opt[1:])}\b", page), \
            f"{opt} not under OPTIONS"


@pytest.mark.parametrize("page", PAGES)
def test_mandoc_lint_is_clean(page):
    # -W warning: errors and warnings; the style level also flags pages
    # that SEE ALSO names but this machine lacks
    r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", os.path.join(MAN, page)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and not r.stdout and not r.stderr, r.stdout + r.stderr


@pytest.mark.parametrize("page", PAGES)
def test_groff_renders_without_warnings(page):
    r = subprocess.run(["groff", "-mandoc", "-ww", "-z", os.path.join(MAN, page)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and not r.stderr, r.stderr
