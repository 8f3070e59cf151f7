#!/usr/bin/env python3
"""make bench: Redis, tokend and nginx on loopback, driven by wrk, against the
floors of this architecture measured in the same run. Prints one table and
writes bench/RESULTS.md.  BENCH_SECONDS (default 5) per run."""
import datetime
import faulthandler
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import requests  # noqa: E402

from harness import CLONE, Nginx, Tokend, create_admin_pat, free_port, wait_until  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNS = [1, 16, 64]
# tokend's worker processes, and the floor responders' processes (same count)
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count())))
FLOOR = os.path.join(ROOT, "build", "bench-floor")
PEER = "peer: Node.js verifier (http + ioredis)"
# the series of bench/verify-rps.svg and bench/verify-p99.svg
# (gnuplot line styles: tokend and the peer solid, the floors dashed grey)
PLOTTED = {"verify valid, hot (cache)": "lc rgb '#6a3d9a' lw 3 pt 7 ps 0.9",
           "verify valid, cache off": "lc rgb '#1b9e77' lw 3 pt 7 ps 0.9",
           PEER: "lc rgb '#d62728' lw 3 pt 5 ps 0.9",
           "nginx return 200": "lc rgb '#bbbbbb' lw 2 dt 2 pt 6",
           "floor: constant FastCGI": "lc rgb '#888888' lw 2 dt 3 pt 6",
           "floor: HMAC + HGETALL": "lc rgb '#333333' lw 2 dt 4 pt 6"}
LABELS = {"verify valid, hot (cache)": "tokend verify, hot (cache)",
          "verify valid, cache off": "tokend verify, cache off"}


class BenchRedis:
    def __init__(self, d):
        self.dir, self.sock, self.port = d, os.path.join(d, "redis.sock"), free_port()
        self.url = f"unix://{self.sock}"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", os.path.join(ROOT, "deploy", "redis", "redis.conf"), "--port",
             str(self.port), "--unixsocket", self.sock, "--dir", self.dir, "--logfile",
             os.path.join(self.dir, "redis.log")], stdout=subprocess.DEVNULL)
        wait_until(lambda: self.cli("PING") == "PONG", what="redis")
        return self

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-s", self.sock, *args], capture_output=True,
                              text=True, errors="backslashreplace").stdout.strip()

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def wrk(url, conns, headers=(), script=None):
    cmd = ["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns), "-d", f"{SECONDS}s",
           "--latency"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct(50), "p99": pct(99),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def main():
    faulthandler.dump_traceback_later(int(os.environ.get("BENCH_WATCHDOG", "100000")), exit=True)
    d = tempfile.mkdtemp(prefix="tokend-bench-")
    os.chmod(d, 0o755)
    redis = BenchRedis(d).start()
    admin = create_admin_pat(d, redis.url)
    # as shipped: a management pool and a verify pool of WORKERS each
    tokend = Tokend(d, redis.url, workers=WORKERS,
                    env={"TOKEND_ACCESS_LOG": "off",
                         "TOKEND_VERIFY_WORKERS": str(WORKERS)}).start()
    # the same tokend without its verify cache, on the same keys and data
    nd = os.path.join(d, "nocache")
    os.makedirs(nd)
    nocache = Tokend(nd, redis.url, workers=WORKERS, env={
        "TOKEND_ACCESS_LOG": "off", "TOKEND_VERIFY_CACHE_ENTRIES": "0",
        "TOKEND_VERIFY_WORKERS": str(WORKERS),
        "TOKEND_KEYRING_FILE": tokend.env["TOKEND_KEYRING_FILE"]}).start()
    # the process model: the same tokend with 1 and 4 workers
    others = []
    for w in (1, 4):
        wd = os.path.join(d, f"w{w}")
        os.makedirs(wd)
        others.append(Tokend(wd, redis.url, workers=w, env={
            "TOKEND_ACCESS_LOG": "off", "TOKEND_VERIFY_LISTEN": "",
            "TOKEND_KEYRING_FILE": tokend.env["TOKEND_KEYRING_FILE"]}).start())
    fenv = dict(os.environ, FLOOR_PROCS=str(WORKERS), REDIS_URL_PATH=redis.sock)
    floors = [subprocess.Popen([FLOOR, "const", os.path.join(d, "floor-const.sock")], env=fenv),
              subprocess.Popen([FLOOR, "hmac", os.path.join(d, "floor-hmac.sock")], env=fenv)]
    # threads per process vs processes, on the constant responder
    for procs, threads in ((1, 64), (4, 16)):
        floors.append(subprocess.Popen(
            [FLOOR, "const", os.path.join(d, f"floor-{procs}x{threads}.sock")],
            env=dict(fenv, FLOOR_PROCS=str(procs), FLOOR_THREADS=str(threads))))
    # the peer: as many node processes as the floors, on tokend's keyring
    floors.append(subprocess.Popen(
        ["node", os.path.join(ROOT, "bench", "peer", "verifier.js")],
        env=dict(os.environ, PEER_SOCKET=os.path.join(d, "peer.sock"), PEER_PROCS=str(WORKERS),
                 REDIS_SOCKET=redis.sock, KEYRING_FILE=tokend.env["TOKEND_KEYRING_FILE"])))
    nginx = Nginx(d, tokend.socket, tokend.verify_socket)
    bport = free_port()

    def extra():
        with open(os.path.join(nginx.dir, "bench.extra.conf"), "w") as f:
            f.write(open(os.path.join(ROOT, "bench", "nginx-floors.conf")).read()
                    .replace("@DIR@", d).replace("@PORT@", str(bport)))
    nginx.before_launch = extra
    nginx.start()
    base, fbase = nginx.base, f"http://127.0.0.1:{bport}"
    h = {"Authorization": admin}
    try:
        # the create and update scenarios write as fast as they can: above
        # the tenant bounds a real space has (per caller, per space, tokens)
        unbound = {"rate_limit": 1000000, "limits": {"write_rate": 1000000, "tokens": 1000000}}
        requests.post(base + "/v1/spaces", headers=h,
                      json={"space": dict({"id": 1, "name": "b"}, **unbound)})
        requests.post(base + "/v1/spaces", headers=h, json={"space": {"id": 2, "name": "list"}})
        requests.post(base + "/v1/spaces", headers=h, json={"space": {"id": 4, "name": "1k"}})
        mk = lambda **f: requests.post(base + "/v1/spaces/1/api_keys", headers=h, json={  # noqa
            "api_key": dict({"access": "public"}, **f)}).json()["api_key"]
        pub, prv, gone = mk(), mk(access="private"), mk()
        fresh = mk()    # never updated: the memory step clones it as created
        requests.delete(base + f"/v1/spaces/1/api_keys/{gone['id']}", headers=h)
        forged = pub["token"][:-4] + "AAAA"
        # the peer answers like tokend: 200 for a valid token, 401 for a forged one
        peer = lambda tok: requests.get(fbase + "/peer/verify", headers={  # noqa: E731
            "X-Original-URI": f"/v2/cdn/stories?token={tok}"}).status_code
        wait_until(lambda: peer(pub["token"]) == 200, timeout=15, what="the peer")
        if peer(forged) != 401 or peer("x") != 401:
            raise AssertionError("the peer takes a forged token")
        # a 10,000-token space for the list scenario
        clone(redis, "{s:2}:tokens", "{s:1}:t:%d" % pub["id"], "{s:2}:t:", 10000, 100000000)
        clone(redis, "{s:4}:tokens", "{s:1}:t:%d" % pub["id"], "{s:4}:t:", 1000, 150000000)

        post = os.path.join(d, "post.lua")
        with open(post, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = \'{"api_key":{"access":"public"}}\'\n'
                    'wrk.headers["Content-Type"] = "application/json"\n')
        put = os.path.join(d, "put.lua")
        with open(put, "w") as f:
            f.write('wrk.method = "PUT"\nwrk.body = \'{"api_key":{"min_cache":30}}\'\n'
                    'wrk.headers["Content-Type"] = "application/json"\n')
        auth = [f"Authorization: {admin}"]
        verify = base + "/v1/verify"
        uri = lambda tok, q="": [f"X-Original-URI: /v2/cdn/stories?{q}token={tok}"]  # noqa: E731
        floors_def = {
            "nginx return 200": (fbase + "/return200", [], None),
            "floor: constant FastCGI": (fbase + "/floor/const", [], None),
            "floor: HMAC + HGETALL": (fbase + "/floor/hmac", [], None),
        }
        uncached = fbase + "/nocache/v1/verify"
        scenarios = {
            "verify valid, cache off": (uncached, uri(pub["token"]), None,
                                        "floor: HMAC + HGETALL"),
            PEER: (fbase + "/peer/verify", uri(pub["token"]), None, "floor: HMAC + HGETALL"),
            "verify draft, preview, cache off": (uncached, uri(prv["token"], "version=draft&"),
                                                 None, "floor: HMAC + HGETALL"),
            "verify revoked, cache off": (uncached, uri(gone["token"]), None,
                                          "floor: HMAC + HGETALL"),
            "verify valid, hot (cache)": (verify, uri(pub["token"]), None,
                                          "floor: constant FastCGI"),
            "verify draft, preview, hot (cache)": (verify, uri(prv["token"], "version=draft&"),
                                                   None, "floor: constant FastCGI"),
            "verify revoked, hot (cache)": (verify, uri(gone["token"]), None,
                                            "floor: constant FastCGI"),
            "verify forged": (verify, uri(forged), None, "floor: constant FastCGI"),
            "create": (base + "/v1/spaces/1/api_keys", auth, post, "floor: HMAC + HGETALL"),
            "update": (base + f"/v1/spaces/1/api_keys/{pub['id']}", auth, put,
                       "floor: HMAC + HGETALL"),
            "list 1,000": (base + "/v1/spaces/4/api_keys", auth, None, "floor: HMAC + HGETALL"),
            "list 10,000": (base + "/v1/spaces/2/api_keys", auth, None, "floor: HMAC + HGETALL"),
        }
        # the worst admissible SoftwareOne filter (16 ilike over 2,000-character
        # descriptions), on 150 tokens of space 5
        requests.post(base + "/v1/spaces", headers=h,
                      json={"space": dict({"id": 5, "name": "rql"}, **unbound)})
        swo = base + "/public/v1/accounts/api-tokens"
        for i in range(150):
            requests.post(swo, headers=dict(h, **{"X-Space-Id": "5"}),
                          json={"name": f"t{i}", "description": "a" * 2000, "modules": []})
        worst = swo + "?or(" + ",".join("ilike(description,%27*" + "a" * 200 + "%20b%27)"
                                        for _ in range(16)) + ")"
        results = {}
        only = re.compile(os.environ.get("BENCH_ONLY", ""))
        for name, (url, hdrs, script) in floors_def.items():
            for c in CONNS:
                results[(name, c)] = wrk(url, c, hdrs, script)
        for name, (url, hdrs, script, _) in scenarios.items():
            if not only.search(name):
                continue
            if name == PEER:    # V8 compiles the hot path first: not measured
                wrk(url, 16, hdrs, script)
            for c in CONNS if not name.startswith("list") else [1, 16]:
                results[(name, c)] = wrk(url, c, hdrs, script)
        # verify (a tokend's verify pool) while every worker of the same
        # tokend's management pool is kept busy: by the worst admissible filter
        # (each list stopped by the work budget), then by 10,000-token lists
        # and creates; for the cached tokend and the cache-off one
        nbase = fbase + "/nocache"
        worst_query = worst.split("?", 1)[1]
        loads = {
            "worst-filter lists (400 query too expensive)": lambda b: [
                ["-H", "X-Space-Id: 5", b + "/public/v1/accounts/api-tokens?" + worst_query]],
            "10,000-token lists and creates": lambda b: [
                [b + "/v1/spaces/2/api_keys"], ["-s", post, b + "/v1/spaces/1/api_keys"]],
        }
        measured = {"hot (cache)": (verify, base), "cache off": (uncached, nbase)}
        for load, clients in loads.items():
            for variant, (vurl, mbase) in measured.items():
                name = f"verify valid, {variant}, under {load}"
                if not only.search(name):
                    continue
                busy = [subprocess.Popen(
                    ["wrk", "-t", "1", "-c", str(WORKERS), "-d", f"{SECONDS + 2}s",
                     "-H", f"Authorization: {admin}", *c], stdout=subprocess.PIPE, text=True)
                    for c in clients(mbase)]
                time.sleep(1)
                results[(name, 16)] = wrk(vurl, 16, uri(pub["token"]))
                rps = sum(float(re.search(r"Requests/sec:\s+([\d.]+)", b.communicate()[0]).group(1))
                          for b in busy)
                results[(f"{load} ({variant})", WORKERS)] = {"rps": rps, "p50": 0.0, "p99": 0.0,
                                                            "non2xx": 0}
        # issue 19's targets: each point measured right after its floor, twice
        # over (floor, tokend, floor, tokend): on a box shared with nginx,
        # Redis and wrk, runs minutes apart differ by more than the gaps
        targets = {}
        if os.environ.get("BENCH_TARGETS", "1") == "1":
            nk = fbase + "/no-keepalive"
            points = [
                ("verify forged", verify, uri(forged), fbase + "/floor/const", 0.95),
                ("verify valid, hot (cache)", verify, uri(pub["token"]), fbase + "/floor/const",
                 0.95),
                ("verify valid, cache off", uncached, uri(pub["token"]), fbase + "/floor/hmac",
                 1.0),
                ("verify forged, no upstream keepalive", nk + "/v1/verify", uri(forged),
                 nk + "/floor/const", 0.95),
                ("verify valid, hot (cache), no upstream keepalive", nk + "/v1/verify",
                 uri(pub["token"]), nk + "/floor/const", 0.95),
                ("verify valid, cache off, no upstream keepalive", nk + "/nocache/v1/verify",
                 uri(pub["token"]), nk + "/floor/hmac", 1.0),
            ]
            for name, url, hdrs, floor_url, goal in points:
                for c in CONNS:
                    runs = [(wrk(floor_url, c), wrk(url, c, hdrs)) for _ in range(2)]
                    targets[(name, c)] = (runs, goal)
        model = {}
        if os.environ.get("BENCH_MODEL", "1") == "1":
            hot = uri(pub["token"])
            variants = {
                f"tokend {WORKERS} workers, keepalive + fastcgi_keep_conn (shipped)": verify,
                f"tokend {WORKERS} workers, no upstream keepalive":
                    fbase + "/model/no-keepalive/v1/verify",
                f"tokend {WORKERS} workers, keepalive, fastcgi_keep_conn off":
                    fbase + "/model/keepalive-no-keep-conn/v1/verify",
                "tokend 1 worker": fbase + "/model/w1/v1/verify",
                "tokend 4 workers": fbase + "/model/w4/v1/verify",
                f"floor constant, {WORKERS} processes x 64 threads": fbase + "/floor/const",
                f"floor constant, {WORKERS} processes x 64 threads, no upstream keepalive":
                    fbase + "/no-keepalive/floor/const",
                "floor constant, 1 process x 64 threads": fbase + "/model/floor-1x64/v1/verify",
                "floor constant, 4 processes x 16 threads":
                    fbase + "/model/floor-4x16/v1/verify",
            }
            for name, url in variants.items():
                for c in (16, 64):
                    model[(name, c)] = wrk(url, c, hot if "tokend" in name else [])
            for w, prefix in ((1, fbase + "/model/w1"), (WORKERS, base), (4, fbase + "/model/w4")):
                for c in (16, 64):
                    model[(f"create, tokend {w} worker(s)", c)] = wrk(
                        prefix + "/v1/spaces/1/api_keys", c, auth, post)
        rb = subprocess.run(["redis-benchmark", "-s", redis.sock, "-t", "get", "-n", "100000",
                             "-c", "16", "-q"], capture_output=True, text=True).stdout
        rb = re.findall(r"GET: ([\d.]+) requests per second", rb.replace("\r", "\n"))
        memory = {}
        for n in [int(x) for x in os.environ.get("BENCH_MEMORY_TOKENS", "100000,1000000").split(",")]:
            before = int(re.search(r"used_memory:(\d+)", redis.cli("INFO", "memory")).group(1))
            clone(redis, "{s:3}:tokens", "{s:1}:t:%d" % fresh["id"], "{s:3}:t:", n, 200000000)
            after = int(re.search(r"used_memory:(\d+)", redis.cli("INFO", "memory")).group(1))
            memory[n] = (after - before) / n
            clone(redis, "{s:3}:tokens", "", "{s:3}:t:", n, 200000000, script=DROP)
        text = report(results, floors_def, scenarios, rb[-1] if rb else "?", memory, model,
                      targets)
        if os.environ.get("BENCH_WRITE", "1") == "1":
            plot(results, d)
    finally:
        nginx.stop()
        tokend.stop()
        nocache.stop()
        for t in others:
            t.stop()
        for f in floors:
            f.terminate()
        redis.stop()
        shutil.rmtree(d, ignore_errors=True)
    if os.environ.get("BENCH_CALLGRIND", "1") == "1":
        import callgrind
        text += "\n" + callgrind.main()
    if os.environ.get("BENCH_WRITE", "1") == "1":
        with open(os.path.join(ROOT, "bench", "LAST_RUN.md"), "w") as f:
            f.write(text)


# Removes what CLONE made.
DROP = """
local n, start = tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, n do
  redis.call('UNLINK', ARGV[1] .. (start + i))
  redis.call('ZREM', KEYS[1], start + i)
end
return n
"""


def clone(redis, index, source, prefix, n, start, chunk=20000, script=None):
    """n copies of one token record, in scripts of chunk records each (one
    script of a million would block Redis for minutes)."""
    for first in range(0, n, chunk):
        subprocess.run(["redis-cli", "-s", redis.sock, "EVAL", script or CLONE, "2", index,
                        source or index, prefix,
                        str(min(chunk, n - first)), str(start + first)],
                       check=True, capture_output=True)


def plot(results, d):
    """bench/verify-rps.svg and bench/verify-p99.svg: req/s and p99 against
    connections for tokend's verify, the peer and the floors (gnuplot)."""
    if shutil.which("gnuplot") is None:
        print("gnuplot missing (deploy/install-deps.sh bench): no plots", file=sys.stderr)
        return
    series = [n for n in PLOTTED if all((n, c) in results for c in CONNS)]
    data = os.path.join(d, "plot.dat")
    with open(data, "w") as f:
        for n in series:
            f.write(f"# {n}\n")
            for c in CONNS:
                r = results[(n, c)]
                f.write(f"{c} {r['rps']:.0f} {r['p99']:.3f}\n")
            f.write("\n\n")
    stamp = (f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
             f"{SECONDS} s per point")
    for what, col, ylabel in (("rps", 2, "requests/s"), ("p99", 3, "p99 latency (ms)")):
        out = os.path.join(ROOT, "bench", f"verify-{what}.svg")
        plots = ", ".join(f"'{data}' index {i} using 1:{col} with linespoints {PLOTTED[n]} "
                          f"title \"{LABELS.get(n, n)}\"" for i, n in enumerate(series))
        script = "\n".join([
            "set terminal svg size 900,620 dynamic font 'sans,12' background '#ffffff'",
            f"set output '{out}'",
            f"set title \"{'Verify throughput' if what == 'rps' else 'Verify p99 latency'}"
            f" (make bench, {stamp})\"",
            "set logscale x 2", "set xrange [0.8:80]",
            "set xtics ('1 connection' 1, '16' 16, '64 connections (wrk)' 64)",
            "unset xlabel", f"set ylabel '{ylabel}'", "set yrange [0:*]",
            "set grid", "set key below box font ',11' maxrows 3", f"plot {plots}", ""])
        subprocess.run(["gnuplot"], input=script, text=True, check=True)


# which floor row each process-model row of tokend is read against (tails)
MODEL_FLOOR = {"keepalive + fastcgi_keep_conn": "processes x 64 threads",
               "no upstream keepalive": "processes x 64 threads, no upstream keepalive",
               "fastcgi_keep_conn off": "processes x 64 threads, no upstream keepalive",
               "tokend 1 worker": "floor constant, 1 process x 64 threads",
               "tokend 4 workers": "floor constant, 4 processes x 16 threads"}


def model_floor(name, model):
    """The floor row of the same process model as tokend's row name."""
    for key, floor in MODEL_FLOOR.items():
        if key in name:
            if floor.startswith("floor"):
                return floor
            return f"floor constant, {WORKERS} {floor}"
    return None


def tail_note(name, c, r, model):
    floor = model_floor(name, model) if name.startswith("tokend") else None
    f = model.get((floor, c))
    if f is None:
        return ""
    verdict = "≤ (met)" if r["p99"] <= f["p99"] else "> (not met)"
    return f"{verdict} {f['p99']:.2f} ms"


def targets_table(targets):
    lines = ["Targets (issue 19): each point measured right after its floor, twice; ratio of the "
             "summed req/s; p99 the worse of the two runs.", "",
             "| scenario | conns | floor req/s | tokend req/s | ratio | goal | floor p99 ms | "
             "tokend p99 ms |", "|---|---:|---:|---:|---:|---|---:|---:|"]
    for (name, c), (runs, goal) in targets.items():
        f = sum(r[0]["rps"] for r in runs) / len(runs)
        t = sum(r[1]["rps"] for r in runs) / len(runs)
        fp, tp = max(r[0]["p99"] for r in runs), max(r[1]["p99"] for r in runs)
        lines.append(f"| {name} | {c} | {f:.0f} | {t:.0f} | {t / f:.2f} | "
                     f"{'met' if t / f >= goal else 'not met'} (≥ {goal:.2f}) | {fp:.2f} | "
                     f"{tp:.2f} |")
    return lines + [""]


def report(results, floors_def, scenarios, redis_rps, memory, model, targets=None):
    lines = ["| scenario | conns | req/s | p50 ms | p99 ms | floor | ratio |",
             "|---|---:|---:|---:|---:|---|---:|"]
    for name in floors_def:
        for c in CONNS:
            r = results[(name, c)]
            lines.append(f"| {name} | {c} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                         "— | 1.00 |")
    for name, (_, _, _, floor) in scenarios.items():
        for c in CONNS:
            if (name, c) not in results:
                continue
            r, f = results[(name, c)], results[(floor, c)]
            expected_refusals = "forged" in name or "revoked" in name
            note = f" ({r['non2xx']} non-2xx)" if r["non2xx"] and not expected_refusals else ""
            lines.append(f"| {name}{note} | {c} | {r['rps']:.0f} | {r['p50']:.2f} | "
                         f"{r['p99']:.2f} | {floor} | {r['rps'] / f['rps']:.2f} |")
    for variant in ("hot (cache)", "cache off"):
        idle = results.get((f"verify valid, {variant}", 16))
        for load, what in (("worst-filter lists (400 query too expensive)",
                            "the worst admissible filter (each list refused 400 by its work budget)"),
                           ("10,000-token lists and creates", "10,000-token lists and creates")):
            busy = results.get((f"verify valid, {variant}, under {load}", 16))
            lists = results.get((f"{load} ({variant})", WORKERS))
            if idle and busy and lists:
                lines += ["", f"Verify {variant} (its own pool) while every management worker serves "
                          f"{what}, {lists['rps']:.0f}/s from {WORKERS} clients per load: "
                          f"{busy['rps']:.0f} req/s, p50 {busy['p50']:.2f} ms, p99 {busy['p99']:.2f} ms "
                          f"at 16 connections: p50 {busy['p50'] / idle['p50']:.2f}x, "
                          f"p99 {busy['p99'] / idle['p99']:.2f}x idle (goal: p99 within 2x)."]
    for c in CONNS:
        p = results.get((PEER, c))
        off, hot = results.get(("verify valid, cache off", c)), results.get(
            ("verify valid, hot (cache)", c))
        if p and off and hot:
            if c == CONNS[0]:
                lines += ["", "tokend against the peer (a Node.js auth_request verifier doing "
                          "one HMAC and one HGETALL, as many processes as tokend's workers):"]
            lines.append(f"- {c} connection(s): cache-off verify {off['rps'] / p['rps']:.2f}x the "
                         f"peer's req/s (p99 {off['p99']:.2f} vs {p['p99']:.2f} ms), cached verify "
                         f"{hot['rps'] / p['rps']:.2f}x (p99 {hot['p99']:.2f} ms)")
    cpu = "?"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    except (OSError, AttributeError):
        pass
    text = "\n".join([
        f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}), "
        f"{platform.release()}; nginx, Redis, tokend ({os.cpu_count()} workers) and wrk on the same "
        f"machine; {SECONDS} s per run.", "", *lines, "",
        f"Redis round trip (redis-benchmark GET, 16 clients, Unix socket): {redis_rps} req/s.",
        "",
        "Redis memory per token (INFO used_memory delta / tokens, records cloned from a real one):",
        *[f"- {n:,} tokens: {v:.0f} bytes" for n, v in memory.items()], "",
        *(["Process model (verify of a hot valid token; floors: the constant responder):", "",
           "| variant | conns | req/s | p50 ms | p99 ms | p99 vs its floor's |",
           "|---|---:|---:|---:|---:|---|",
           *[f"| {n} | {c} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
             f"{tail_note(n, c, r, model)} |" for (n, c), r in model.items()], ""]
          if model else []),
        *(targets_table(targets) if targets else [])])
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
