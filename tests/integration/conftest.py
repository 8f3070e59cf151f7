import os
import shutil
import tempfile

import pytest

import openapi_check
from harness import Nginx, Redis, Tokend, SANITIZED, create_admin_pat

# every answer a tokend route gives the suite is checked against docs/openapi.json
openapi_check.install()


@pytest.fixture
def workdir():
    # world-traversable: Apache's children and spawn-fcgi'd workers run as nobody
    d = tempfile.mkdtemp(prefix="tokend-it-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def redis(workdir):
    r = Redis(workdir).start()
    yield r
    r.stop()


def _check_sanitizers(t):
    reports = t.sanitizer_reports()
    assert not reports, f"sanitizer reports in tokend's log: {reports}\n{t.log_text()[-4000:]}"


@pytest.fixture
def tokend(workdir, redis):
    t = Tokend(workdir, redis.url).start()
    yield t
    t.stop()
    _check_sanitizers(t)


@pytest.fixture
def nginx(workdir, tokend):
    n = Nginx(workdir, tokend.socket, tokend.verify_socket).start()
    yield n
    n.stop()


@pytest.fixture(scope="module")
def stack():
    """One Redis + tokend + nginx shared by a module's read-only tests."""
    d = tempfile.mkdtemp(prefix="tokend-it-")
    os.chmod(d, 0o755)
    r = Redis(d).start()
    t = Tokend(d, r.url).start()
    n = Nginx(d, t.socket, t.verify_socket).start()
    yield {"redis": r, "tokend": t, "nginx": n, "dir": d}
    n.stop()
    t.stop()
    r.stop()
    _check_sanitizers(t)
    shutil.rmtree(d, ignore_errors=True)


def pytest_report_header(config):
    return f"tokend binary: {os.environ.get('TOKEND_BIN', 'build/tokend')} (sanitized: {SANITIZED})"


@pytest.fixture
def compat_env(workdir, redis, tokend, nginx):
    """A stack with an admin PAT, for the official clients."""
    return {"nginx": nginx, "admin": create_admin_pat(workdir, redis.url)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    openapi_check.set_current_test(item.nodeid)
    yield
    openapi_check.set_current_test(None)


def pytest_sessionfinish(session, exitstatus):
    """The answers that disagree with docs/openapi.json fail the session."""
    failures = openapi_check.session_failures()
    if not failures:
        return
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    write = tr.write_line if tr else print
    write(f"\n{len(failures)} answer(s) disagree with docs/openapi.json "
          "(tests/integration/openapi_check.py):")
    for f in failures[:200]:
        write("  " + f)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
