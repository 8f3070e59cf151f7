#!/usr/bin/env python3
"""Instructions per request (valgrind --tool=callgrind), counted only inside
td_dispatch: stable across noisy runs where wall-clock numbers are not, so a
regression on the hot path shows as a number. Run by make bench after wrk;
CALLGRIND_REQUESTS (default 200) requests per scenario."""
import glob
import os
import re
import subprocess
import sys
import tempfile
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import requests  # noqa: E402

from harness import TOKEND_BIN, Nginx, Redis, Tokend, create_admin_pat, wait_until  # noqa: E402

N = int(os.environ.get("CALLGRIND_REQUESTS", "200"))
metrics_ir = 0


class CallgrindTokend(Tokend):
    """One worker under callgrind, collecting only inside td_dispatch."""

    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        self.out = os.path.join(self.workdir, "callgrind.out.%p")
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--trace-children=yes", "--collect-atstart=no",
             "--toggle-collect=td_dispatch", f"--callgrind-out-file={self.out}", TOKEND_BIN,
             "serve"], env=self.env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        wait_until(lambda: len(self.workers()) >= 1 and self.listening(), timeout=60,
                   what="tokend under valgrind")
        return self


def instructions(worker, action):
    """Ir of td_dispatch during action(), via callgrind_control zero/dump."""
    subprocess.run(["callgrind_control", "--zero", str(worker)], check=True,
                   capture_output=True)
    action()
    subprocess.run(["callgrind_control", "--dump", str(worker)], check=True,
                   capture_output=True)
    dumps = sorted(glob.glob(f"{worker_dir}/callgrind.out.{worker}*"), key=os.path.getmtime)
    text = open(dumps[-1]).read()
    global metrics_ir
    # what counting for the metrics costs (td_metrics_request, inclusive)
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", dumps[-1]],
                         capture_output=True, text=True).stdout
    m = re.search(r"^\s*([\d,]+)\s.*td_metrics_request", ann, re.M)
    metrics_ir = int(m.group(1).replace(",", "")) if m else 0
    if os.environ.get("CALLGRIND_DEBUG"):
        print("\n".join(l for l in ann.splitlines() if "metric" in l or "dispatch" in l))
    return int(re.search(r"^(?:summary|totals): (\d+)", text, re.M).group(1))


def scenarios(base, admin, tok, forged):
    s = requests.Session()
    verify = lambda t: lambda: [s.get(base + "/v1/verify", timeout=30, headers={  # noqa: E731
        "X-Original-URI": f"/v2/cdn/stories?token={t}"}) for _ in range(N)]
    create = lambda: [s.post(base + "/v1/spaces/1/api_keys", timeout=30, headers={  # noqa
        "Authorization": admin}, json={"api_key": {"access": "public"}}) for _ in range(N)]
    return {"verify, valid token": verify(tok), "verify, forged token": verify(forged),
            "create (Storyblok POST api_keys)": create}


def run(cache):
    global worker_dir
    d = tempfile.mkdtemp(prefix="tokend-callgrind-")
    os.chmod(d, 0o755)
    worker_dir = d
    redis = Redis(d).start()
    t = n = None
    try:
        admin = create_admin_pat(d, redis.url)
        t = CallgrindTokend(d, redis.url, workers=1, env={
            "TOKEND_ACCESS_LOG": "off", "TOKEND_VERIFY_CACHE_ENTRIES": "65536" if cache else "0",
            "TOKEND_VERIFY_LISTEN": "",     # one pool of one worker: every request on it
            "TOKEND_REDIS_COMMAND_TIMEOUT_MS": "5000", "TOKEND_IO_TIMEOUT_MS": "60000"}).start()
        n = Nginx(d, t.socket).start()
        h = {"Authorization": admin}
        requests.post(n.base + "/v1/spaces", headers=h, json={"space": {"id": 1, "name": "c"}},
                      timeout=30)
        tok = requests.post(n.base + "/v1/spaces/1/api_keys", headers=h, timeout=30, json={
            "api_key": {"access": "public"}}).json()["api_key"]["token"]
        forged = tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB")
        worker = t.workers()[0]
        out = {}
        for name, action in scenarios(n.base, admin, tok, forged).items():
            if not cache and "forged" in name:
                continue
            action()            # warm: caches, scripts, allocator
            out[name] = (instructions(worker, action) / N, metrics_ir / N)
        return out
    finally:
        if n is not None:
            n.stop()
        if t is not None:
            t.stop(timeout=60)
        redis.stop()
        shutil.rmtree(d, ignore_errors=True)


def main():
    rows = []
    for cache in (True, False):
        for name, (ir, metrics) in run(cache).items():
            if "verify" in name:
                name += ", cache on" if cache else ", cache off"
            elif not cache:
                continue
            rows.append(f"| {name} | {ir:,.0f} | {metrics:,.0f} |")
    text = "\n".join(["Instructions per request inside td_dispatch (callgrind, 1 worker, "
                      f"{N} requests after {N} warm-up), and of those the metrics' counting "
                      "(td_metrics_request):", "", "| request | instructions | metrics |",
                      "|---|---:|---:|", *rows, ""])
    print(text)
    return text


worker_dir = None

if __name__ == "__main__":
    main()
