#!/usr/bin/env python3
"""make bench-hosts: what tokend asks of a Redis Cluster per request, and
what 1, 2 and 3 tokend hosts serve together, as hosts: network namespaces
joined by veth pairs to a bridge of their own (tests/integration/
test_hosts.py's helpers; other names than the tests', so both can run at
once). Root only.

  tb-c1  10.79.0.11  primary            tb-k1  10.79.0.21  nginx + tokend (+ a cache-off one)
  tb-c2  10.79.0.12  primary            tb-k2  10.79.0.22  nginx + tokend (+ a cache-off one)
  tb-c3  10.79.0.13  primary            tb-k3  10.79.0.23  nginx + tokend (+ a cache-off one)
  tb-c4  10.79.0.14  replica
  tb-c5  10.79.0.15  replica        (each Redis node on port 6379, its cluster
  tb-c6  10.79.0.16  replica         bus on 16379; bridge tdbr2, 10.79.0.0/24)

Each host runs the shipped nginx site in front of a tokend with 2
management and 2 verify workers, and a second nginx + tokend with the verify
cache off (TOKEND_VERIFY_CACHE_ENTRIES=0). SPACES spaces (spread over the
three primaries by their {s:<id>} slot) get TOKENS tokens each. For each
scenario (verify cached, verify cache off, list, update, create) and 1, 2
and 3 hosts, one wrk per host runs at once from the root namespace against
that host's nginx over the bridge, BENCH_SECONDS (5) each; INFO commandstats
and INFO cpu of every primary, taken before and after (the INFO calls
themselves left out, the idle rate measured first subtracted), give Redis
commands and Redis CPU per request. One request of each kind is also watched
with MONITOR on every primary, and redis-benchmark measures what one primary
does per second. Prints a Markdown report and writes bench/LAST_RUN_HOSTS.md.

All the hosts, Redis nodes and wrk share this machine's cores: the figures
are costs per request and what scales, not a fleet's throughput. Every wait
is bounded; the namespaces, links and processes go at the end, also after a
failure (a run killed by the watchdog leaves them to the next run, which
removes them first)."""
import datetime
import faulthandler
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import requests  # noqa: E402

from cluster import RedisCluster  # noqa: E402
from harness import Tokend, children, create_admin_pat  # noqa: E402
from test_hosts import HostNginx, make_network, remove_network  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNS = int(os.environ.get("BENCH_HOSTS_CONNS", "16"))      # per host (one wrk each)
SPACES = int(os.environ.get("BENCH_HOSTS_SPACES", "30"))
TOKENS = 10                     # per space: 0-4 verified, 5-9 updated
WORKERS = 2                     # management workers per tokend, and verify workers
RB_REQUESTS = int(os.environ.get("BENCH_RB_REQUESTS", "100000"))
BRIDGE = "tdbr2"
NET = "10.79.0"
REDIS = {f"tb-c{i}": 10 + i for i in range(1, 7)}
HOSTS = {"tb-k1": 21, "tb-k2": 22, "tb-k3": 23}
NAMESPACES = {**REDIS, **HOSTS}
FIRST_SPACE = 101
# the bench writes as fast as it can: above the bounds a real space has
UNBOUND = {"rate_limit": 1000000, "limits": {"write_rate": 1000000, "tokens": 1000000}}
# the shipped deploy/tokend.conf's Redis timeouts (the harness's are the tests' shorter ones)
TOKEND_ENV = {"TOKEND_ACCESS_LOG": "off", "TOKEND_VERIFY_WORKERS": str(WORKERS),
              "TOKEND_REDIS_CONNECT_TIMEOUT_MS": "250", "TOKEND_REDIS_COMMAND_TIMEOUT_MS": "1000",
              "TOKEND_REDIS_RETRY_INTERVAL_MS": "100"}
NOT_COUNTED = ("info", "monitor")       # this script's own commands


class Deadline(Exception):
    pass


def on_signal(signum, frame):
    raise Deadline(f"signal {signum}: stopping, cleaning up")


def crc16(data):
    """CRC16-CCITT (XMODEM), the cluster's key hash."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def slot_of(tag):
    return crc16(tag.encode()) % 16384


# --- wrk ---------------------------------------------------------------------

# Every script counts the statuses that are not 2xx (wrk counts them too, as
# "Non-2xx or 3xx responses") and prints them as "statuses: 429=3,503=1".
STATUS_LUA = """
statuses = {}
response = function(status, headers, body)
  if status >= 300 then statuses[status] = (statuses[status] or 0) + 1 end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("statuses")) do all[s] = (all[s] or 0) + n end
  end
  local out = {}
  for s, n in pairs(all) do table.insert(out, s .. "=" .. n) end
  io.write("statuses: " .. table.concat(out, ",") .. "\\n")
end
"""


def lua_script(path, reqs):
    """A wrk script cycling through reqs: (method, path, headers, body), each
    formatted once per thread."""
    def q(s):
        return "nil" if s is None else '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    items = ",\n".join("{%s, %s, {%s}, %s}" % (q(m), q(p), ", ".join(
        f"[{q(k)}] = {q(v)}" for k, v in h.items()), q(b)) for m, p, h, b in reqs)
    with open(path, "w") as f:
        f.write(STATUS_LUA + "local items = {\n" + items + "\n}\n" + """
local reqs, i = nil, 0
request = function()
  if reqs == nil then
    reqs = {}
    for k, it in ipairs(items) do reqs[k] = wrk.format(it[1], it[2], it[3], it[4]) end
  end
  i = i % #reqs + 1
  return reqs[i]
end
""")
    return path


def ms(v, unit):
    v = float(v)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


def parse_wrk(out, err):
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise AssertionError(f"wrk said: {out[-2000:]} {err[-2000:]}")

    def pct(p):
        v = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        return ms(*v.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    st = re.search(r"statuses: (\S*)", out)
    return {"rps": float(m.group(1)), "p50": pct(50), "p99": pct(99),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "sockerr": sum(map(int, sock.groups())) if sock else 0,
            "statuses": st.group(1) if st else ""}


def wrk_all(targets, seconds=SECONDS):
    """One wrk per (url, script) in targets, all at once; their results in order."""
    procs = [subprocess.Popen(["wrk", "-t", "1", "-c", str(CONNS), "-d", f"{seconds}s",
                               "--latency", "-s", script, url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for url, script in targets]
    out = []
    try:
        for p in procs:
            try:
                o, e = p.communicate(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                p.kill()
                o, e = p.communicate()
            out.append((o, e))
    finally:
        for p in procs:         # interrupted (signal, deadline): no wrk left running
            if p.poll() is None:
                p.kill()
                p.wait()
    return [parse_wrk(o, e) for o, e in out]


def cpu_of(proc):
    """CPU seconds (user + system) of a Tokend's or Nginx's process and its
    children (the workers), from /proc."""
    pids = [proc.proc.pid] + children(proc.proc.pid)
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])      # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


# --- Redis, as the bench sees it ---------------------------------------------

def snapshot(primaries):
    """Per primary: {command: calls} (INFO commandstats) and CPU seconds (INFO cpu)."""
    snap = {}
    for n in primaries:
        text = n.cli("INFO", "commandstats")
        calls = {c: int(k) for c, k in re.findall(r"cmdstat_(\S+?):calls=(\d+)", text)}
        cpu = n.cli("INFO", "cpu")
        used = sum(float(x) for x in re.findall(r"used_cpu_(?:sys|user):([\d.]+)", cpu))
        snap[n.name] = (calls, used, time.monotonic())
    return snap


def delta(before, after):
    """{primary: ({command: calls}, cpu seconds, wall seconds)} between two snapshots."""
    out = {}
    for name, (calls, cpu, t) in after.items():
        c0, cpu0, t0 = before[name]
        out[name] = ({c: k - c0.get(c, 0) for c, k in calls.items()
                      if c not in NOT_COUNTED and k - c0.get(c, 0)}, cpu - cpu0, t - t0)
    return out


def monitor_one(primaries, ip, do):
    """The commands every primary sees while do() makes one request from
    the host at ip: [(time, primary, COMMAND, [commands its script ran])],
    in time order; a script's commands belong to the command logged just
    before them on the same node, and go with it when that came from
    elsewhere. Left out: the workers' trust checks (ROLE + CLUSTER NODES,
    each worker every 250 ms per primary it caches from: a constant, not
    the request's; the idle rate counts them) and the keep-alive PINGs; a
    PING on a connection that sent one of the request's commands is kept
    (the write barrier). Only command names are kept (arguments hold
    secrets)."""
    mons = [(n, subprocess.Popen(["redis-cli", "-h", n.ip, "-p", str(n.port), "MONITOR"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                 errors="replace")) for n in primaries]
    time.sleep(0.3)
    try:
        do()
        time.sleep(0.3)
    finally:
        for _, p in mons:
            p.terminate()
    seen, pings, used = [], [], set()
    for n, p in mons:
        out = p.communicate(timeout=10)[0]
        last = None         # the entry the next script command belongs to
        for at, client, args in re.findall(r'^([\d.]+) \[\d+ ([^\]]+)\] (.*)$', out, re.M):
            words = re.findall(r'"((?:[^"\\]|\\.)*)"', args)
            if not words:
                continue
            cmd = words[0].upper()
            if cmd in ("CLIENT", "CLUSTER", "SCRIPT") and len(words) > 1:
                cmd += " " + words[1].upper()
            if client == "lua":
                if last is not None:
                    last[3].append(cmd)
            elif client.split(":")[0] == ip and cmd == "PING":
                pings.append((float(at), n.name, cmd, [], client))
                last = None
            elif client.split(":")[0] == ip and cmd not in ("ROLE", "CLUSTER INFO", "CLUSTER NODES"):
                last = (float(at), n.name, cmd, [])
                seen.append(last)
                used.add((n.name, client))
            else:
                last = None
    seen += [x[:4] for x in pings if (x[1], x[4]) in used]
    return sorted(seen)


def describe(seen):
    """MONITOR entries as 'EVALSHA (→ HGET, HSET) + HGETALL ×11', repeats
    counted; then how many commands were sent and run, on how many primaries."""
    if not seen:
        return "none"
    runs = []
    for _, _, cmd, inner in seen:
        w = cmd + (f" (→ {', '.join(inner)})" if inner else "")
        if runs and runs[-1][0] == w:
            runs[-1][1] += 1
        else:
            runs.append([w, 1])
    nodes = len({name for _, name, _, _ in seen})
    return (" + ".join(w + (f" ×{k}" if k > 1 else "") for w, k in runs) +
            f" — {len(seen)} sent, {len(seen) + sum(len(x[3]) for x in seen)} run, "
            f"on {nodes} primar{'y' if nodes == 1 else 'ies'}")


def redis_benchmark(node, tag, record):
    """Requests per second of one primary, 16 clients from the root namespace,
    for the commands tokend's requests are made of, on keys of its slots."""
    sha = node.cli("SCRIPT", "LOAD", "return redis.call('HGET', KEYS[1], ARGV[1])")
    node.cli("SET", f"{tag}:rb:g", "abc")
    cmds = {"GET": ["GET", f"{tag}:rb:g"], "SET": ["SET", f"{tag}:rb:s", "abc"],
            "HSET": ["HSET", f"{tag}:rb:h", "f", "abc"],
            "HGETALL (a token record)": ["HGETALL", record],
            "EVALSHA (one HGET)": ["EVALSHA", sha, "1", record, "s"],
            "ROLE (the trust check's first half)": ["ROLE"],
            "CLUSTER INFO (its second half)": ["CLUSTER", "INFO"],
            "CLUSTER NODES (asked too while the state is not ok)": ["CLUSTER", "NODES"]}
    out = {}
    for name, cmd in cmds.items():
        for pipe in (1, 16):
            r = subprocess.run(["redis-benchmark", "-h", node.ip, "-p", str(node.port), "-c", "16",
                                "-n", str(RB_REQUESTS), "-P", str(pipe), "-q", *cmd],
                               capture_output=True, text=True, timeout=120)
            v = re.findall(r"([\d.]+) requests per second", r.stdout.replace("\r", "\n"))
            out[(name, pipe)] = float(v[-1]) if v else None
    node.cli("DEL", f"{tag}:rb:g", f"{tag}:rb:s", f"{tag}:rb:h")
    return out


# --- the run -----------------------------------------------------------------

def main():
    faulthandler.dump_traceback_later(int(os.environ.get("BENCH_WATCHDOG", "900")), exit=True)
    if os.geteuid() != 0:
        sys.exit("bench/hosts.py: network namespaces need root")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(int(os.environ.get("BENCH_HOSTS_DEADLINE", "600")))
    started, load = time.monotonic(), os.getloadavg()[0]
    remove_network(BRIDGE, NAMESPACES)      # a run killed before its cleanup
    d = tempfile.mkdtemp(prefix="tokend-bench-hosts-")
    os.chmod(d, 0o755)
    c, procs, served = None, [], {}
    try:
        make_network(BRIDGE, NET, NAMESPACES)
        c = RedisCluster(d, addresses=[(f"{NET}.{last}", 6379, ns) for ns, last in REDIS.items()],
                         extra_args=["--protected-mode", "no"])
        c.start()
        url = c.url()
        admin = create_admin_pat(d, url)
        hosts = {}
        for ns, last in HOSTS.items():
            ip = f"{NET}.{last}"
            pair = {}
            for kind, extra, workers in (("cached", {}, WORKERS),
                                         ("nocache", {"TOKEND_VERIFY_CACHE_ENTRIES": "0"}, 1)):
                hd = os.path.join(d, ns, kind)
                os.makedirs(hd)
                shutil.copy(os.path.join(d, "keyring"), os.path.join(hd, "keyring"))
                os.chmod(os.path.join(hd, "keyring"), 0o600)
                t = Tokend(hd, url, workers=workers, env=dict(TOKEND_ENV, **extra))
                t.netns = ns
                n = HostNginx(hd, t, ip)
                procs += [n, t]
                served[(ns, n.base)] = (t, n)
                t.start()
                n.start()
                pair[kind] = n.base
            hosts[ns] = (ip, pair)
        primaries = sorted(c.primaries(), key=lambda n: n.name)
        s = requests.Session()
        s.headers["Authorization"] = admin
        k1 = hosts["tb-k1"][1]["cached"]

        # spaces and tokens, through the first host: as many spaces on
        # each primary (the first ids from FIRST_SPACE that make it so)
        owners = {nid: n.name for n in primaries for nid in [c.node_id(n)]}
        slots = c.slot_map(primaries[0])
        assert c.slot_of(f"{{s:{FIRST_SPACE}}}") == slot_of(f"s:{FIRST_SPACE}")
        sids, per = [], {n.name: 0 for n in primaries}
        for sid in range(FIRST_SPACE, FIRST_SPACE + 100 * SPACES):
            slot = slot_of(f"s:{sid}")
            o = next(owners[nid] for a, b, nid in slots if a <= slot <= b)
            if per[o] < SPACES // len(primaries):
                per[o] += 1
                sids.append(sid)
            if len(sids) == SPACES // len(primaries) * len(primaries):
                break
        assert len(sids) == SPACES // len(primaries) * len(primaries), per
        tokens = {}
        for sid in sids:
            r = s.post(k1 + "/v1/spaces", timeout=10,
                       json={"space": dict({"id": sid, "name": f"b{sid}"}, **UNBOUND)})
            assert r.status_code == 201, (sid, r.status_code, r.text)
            tokens[sid] = []
            for i in range(TOKENS):
                r = s.post(k1 + f"/v1/spaces/{sid}/api_keys", timeout=10,
                           json={"api_key": {"access": "public", "name": f"t{i}"}})
                assert r.status_code == 201, (sid, r.status_code, r.text)
                tokens[sid].append(r.json()["api_key"])
        owner = {sid: c.owner_of(key=f"{{s:{sid}}}:tokens").name for sid in sids}
        spread = {p.name: sum(1 for o in owner.values() if o == p.name) for p in primaries}
        assert spread == per, (spread, per)

        # the wrk scripts
        auth = {"Authorization": admin}
        js = dict(auth, **{"Content-Type": "application/json"})
        verify_reqs = [("GET", "/v1/verify", {"X-Original-URI": f"/v2/cdn/stories?token={k['token']}"},
                        None) for sid in sids for k in tokens[sid][:5]]
        scripts = {"verify": lua_script(os.path.join(d, "verify.lua"), verify_reqs),
                   "list": lua_script(os.path.join(d, "list.lua"), [
                       ("GET", f"/v1/spaces/{sid}/api_keys", auth, None) for sid in sids]),
                   "create": lua_script(os.path.join(d, "create.lua"), [
                       ("POST", f"/v1/spaces/{sid}/api_keys", js,
                        '{"api_key":{"access":"public","name":"bench"}}') for sid in sids])}
        # updates: each host its own third of the tokens (no compare-and-set
        # conflicts between hosts: those would be retries, not the cost of one)
        upd = [(sid, k["id"]) for sid in sids for k in tokens[sid][5:]]
        for j, ns in enumerate(HOSTS):
            scripts[f"update-{ns}"] = lua_script(os.path.join(d, f"update-{ns}.lua"), [
                ("PUT", f"/v1/spaces/{sid}/api_keys/{kid}", js, '{"api_key":{"min_cache":30}}')
                for i, (sid, kid) in enumerate(upd) if i % len(HOSTS) == j])
        list_size = len(s.get(k1 + f"/v1/spaces/{sids[0]}/api_keys", timeout=10).json()["api_keys"])

        # warm: every worker of every tokend connected to every primary and,
        # with the cache, holding every verified token
        wrk_all([(pair[kind] + path, scripts[what]) for _, pair in hosts.values()
                 for kind in pair for path, what in (("/v1/verify", "verify"),
                                                     ("/v1/spaces", "list"))], seconds=2)
        time.sleep(1)       # what the warm-up queued, answered

        # one request of each kind, as the primaries see it
        fresh = s.post(hosts["tb-k2"][1]["cached"] + f"/v1/spaces/{sids[0]}/api_keys", timeout=10,
                       json={"api_key": {"access": "public", "name": "fresh"}}).json()["api_key"]
        hot = tokens[sids[0]][0]

        def verify_at(base, tok):
            def go():
                r = requests.get(base + "/v1/verify", timeout=10,
                                 headers={"X-Original-URI": f"/v2/cdn/stories?token={tok}"})
                assert r.status_code == 200, (r.status_code, r.headers)
            return go

        def call(method, path, **kw):
            def go():
                r = s.request(method, k1 + path, timeout=10, **kw)
                assert r.status_code < 300, (method, path, r.status_code, r.text)
            return go
        one = {
            "verify, cache hit": verify_at(k1, hot["token"]),
            "verify, cache miss (a token this host never saw)": verify_at(k1, fresh["token"]),
            "verify, cache off": verify_at(hosts["tb-k1"][1]["nocache"], hot["token"]),
            f"list ({list_size} tokens)": call("GET", f"/v1/spaces/{sids[0]}/api_keys"),
            "update": call("PUT", f"/v1/spaces/{sids[0]}/api_keys/{tokens[sids[0]][5]['id']}",
                           json={"api_key": {"min_cache": 30}}),
            "create": call("POST", f"/v1/spaces/{sids[0]}/api_keys",
                           json={"api_key": {"access": "public", "name": "one"}}),
        }
        monitored = {}
        for name, do in one.items():
            if "miss" not in name:
                do()    # the steady state: scripts loaded on every node (no NOSCRIPT + EVAL)
            monitored[name] = describe(monitor_one(primaries, hosts["tb-k1"][0], do))

        # the idle rate (tokend's keep-alives, the cluster's own cron)
        b0 = snapshot(primaries)
        time.sleep(2)
        idle = delta(b0, snapshot(primaries))
        idle_cmds = sum(sum(cl.values()) / t for cl, _, t in idle.values())
        idle_cpu = sum(cpu / t for _, cpu, t in idle.values())

        scenarios = {
            "verify, cached": lambda ns: (hosts[ns][1]["cached"] + "/v1/verify", scripts["verify"]),
            "verify, cache off": lambda ns: (hosts[ns][1]["nocache"] + "/v1/verify",
                                             scripts["verify"]),
            f"list ({list_size} tokens)": lambda ns: (hosts[ns][1]["cached"] + "/v1/spaces",
                                                      scripts["list"]),
            "update": lambda ns: (hosts[ns][1]["cached"] + "/v1/spaces", scripts[f"update-{ns}"]),
            "create": lambda ns: (hosts[ns][1]["cached"] + "/v1/spaces", scripts["create"]),
        }
        results = {}
        for name, target in scenarios.items():
            for nh in (1, 2, 3):
                used = list(HOSTS)[:nh]
                targets = [target(ns) for ns in used]
                # the tokend and nginx behind each target (url: its nginx's base + path)
                behind = [next(tn for (ns, b), tn in served.items() if u.startswith(b + "/"))
                          for u, _ in targets]
                before, cpu0 = snapshot(primaries), [(cpu_of(t), cpu_of(n)) for t, n in behind]
                runs = wrk_all(targets)
                dd = delta(before, snapshot(primaries))
                cpu = [(cpu_of(t) - a, cpu_of(n) - b) for (t, n), (a, b) in zip(behind, cpu0)]
                results[(name, nh)] = (runs, dd, cpu)
                r = sum(x["rps"] for x in runs)
                print(f"{name}, {nh} host(s): {r:.0f} req/s", file=sys.stderr, flush=True)

        mine = next(sid for sid in sids if owner[sid] == primaries[0].name)
        rb = redis_benchmark(primaries[0], "{s:%d}" % mine,
                             "{s:%d}:t:%d" % (mine, tokens[mine][0]["id"]))
        conns = {p.name: int(re.search(r"connected_clients:(\d+)", p.cli("INFO", "clients"))
                             .group(1)) - 1 for p in primaries}
        text = report(results, idle_cmds, idle_cpu, spread, monitored, rb, conns, primaries,
                      list_size, time.monotonic() - started, (load, os.getloadavg()[0]))
    finally:
        signal.alarm(0)
        for p in procs:
            try:
                p.stop()
            except Exception as e:      # every process goes, whatever one does
                print(f"stopping {p}: {e}", file=sys.stderr)
        if c is not None:
            c.stop()
        remove_network(BRIDGE, NAMESPACES)
        shutil.rmtree(d, ignore_errors=True)
    if os.environ.get("BENCH_WRITE", "1") == "1":
        with open(os.path.join(ROOT, "bench", "LAST_RUN_HOSTS.md"), "w") as f:
            f.write(text)


def report(results, idle_cmds, idle_cpu, spread, monitored, rb, conns, primaries, list_size,
           took, load):
    def join(xs, fmt):
        return " / ".join(fmt.format(x) for x in xs)
    lines = ["| scenario | hosts | req/s total | req/s per host | p50 ms per host | p99 ms per host | "
             "non-2xx (statuses) | socket errors | Redis commands run / request | "
             "Redis CPU µs / request | commands/s per primary | tokend CPU µs / request | "
             "nginx CPU µs / request |",
             "|---|---:|---:|---|---|---|---|---:|---:|---:|---|---:|---:|"]
    per_name = {}
    for (name, nh), (runs, dd, hcpu) in results.items():
        reqs = sum(r["requests"] for r in runs)
        wall = max(t for _, _, t in dd.values())
        cmds = sum(sum(cl.values()) for cl, _, _ in dd.values())
        cpu = sum(x for _, x, _ in dd.values())
        per_req = max(0.0, cmds - idle_cmds * wall) / reqs
        cpu_req = max(0.0, cpu - idle_cpu * wall) / reqs * 1e6
        non2xx = sum(r["non2xx"] for r in runs)
        st = ",".join(r["statuses"] for r in runs if r["statuses"])
        lines.append(
            f"| {name} | {nh} | {sum(r['rps'] for r in runs):.0f} | "
            f"{join([r['rps'] for r in runs], '{:.0f}')} | "
            f"{join([r['p50'] for r in runs], '{:.2f}')} | {join([r['p99'] for r in runs], '{:.2f}')} | "
            f"{non2xx}{f' ({st})' if st else ''} | {sum(r['sockerr'] for r in runs)} | "
            f"{per_req:.2f} | {cpu_req:.1f} | "
            f"{join([sum(dd[p.name][0].values()) / dd[p.name][2] for p in primaries], '{:.0f}')} | "
            f"{sum(t for t, _ in hcpu) / reqs * 1e6:.1f} | {sum(n for _, n in hcpu) / reqs * 1e6:.1f} |")
        agg = per_name.setdefault(name, [{}, 0])
        for cl, _, _ in dd.values():
            for k, v in cl.items():
                agg[0][k] = agg[0].get(k, 0) + v
        agg[1] += reqs
    by_name = ["| scenario | commands per request, by name (≥ 0.005; scripts' inner calls included) |",
               "|---|---|"]
    for name, (cl, reqs) in per_name.items():
        items = sorted(((v / reqs, k.upper().replace("|", " ")) for k, v in cl.items()
                        if v / reqs >= 0.005), reverse=True)
        by_name.append(f"| {name} | {', '.join(f'{k} {v:.2f}' for v, k in items) or 'none'} |")
    cpu = "?"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    except (OSError, AttributeError):
        pass
    text = "\n".join([
        f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}), "
        f"{platform.release()}, by `make bench-hosts` ({took:.0f} s). A Redis Cluster of 3 primaries "
        f"+ 3 replicas (redis-server {redis_version()}) and 3 tokend hosts (nginx + tokend, "
        f"{WORKERS} management + {WORKERS} verify workers; the cache-off rows: a second tokend "
        f"per host with TOKEND_VERIFY_CACHE_ENTRIES=0), each in its own network namespace; one "
        f"wrk per host (1 thread, {CONNS} connections, {SECONDS} s) from the root namespace. "
        f"Everything shares these {os.cpu_count()} cores: the req/s are what this one machine "
        f"serves, not what more hosts would; the per-request figures are what to read. Load "
        f"average (1 min) {load[0]:.1f} at the start, {load[1]:.1f} at the end: above "
        f"{os.cpu_count() * 3 / 4:.1f} at the start means other work shared the cores.", "",
        f"{SPACES} spaces, {TOKENS} tokens each, spaces per primary "
        f"{' / '.join(f'{k} {v}' for k, v in spread.items())}; verify cycles through 5 tokens of "
        f"each space (150), list and create through the spaces, update through 5 other tokens of "
        f"each space (each host its own third). Redis figures: INFO commandstats and INFO cpu of "
        f"the three primaries before and after each run, its INFO calls left out, the idle rate "
        f"({idle_cmds:.1f} commands/s, {idle_cpu * 1000:.1f} ms CPU/s over the three) subtracted, "
        f"divided by the requests wrk made.", "", *lines, "", *by_name, "",
        "One request of each kind through tb-k1, as MONITOR on the three primaries sees it "
        "(→: the commands a script ran; left out: the workers' keep-alive PINGs and their "
        "trust checks, ROLE + CLUSTER NODES every 250 ms per worker per primary, counted in the "
        "idle rate; a PING on a connection the request used is its write barrier):", "",
        "| request | Redis commands |", "|---|---|",
        *[f"| {k} | {v} |" for k, v in monitored.items()], "",
        f"One primary ({primaries[0].name}), redis-benchmark from the root namespace over the "
        f"bridge, 16 clients, {RB_REQUESTS:,} requests:", "",
        "| command | req/s, -P 1 | req/s, -P 16 |", "|---|---:|---:|",
        *[f"| {name} | {fmt(rb[(name, 1)])} | {fmt(rb[(name, 16)])} |"
          for name in dict.fromkeys(n for n, _ in rb)], "",
        "Client connections on each primary at the end (INFO clients, replicas and this "
        f"script's own left out): {' / '.join(f'{k} {v}' for k, v in conns.items())} — 3 hosts × "
        f"(a tokend of {WORKERS}+{WORKERS} workers with the cache + one of 1+{WORKERS} without).", ""])
    print(text, flush=True)
    return text


def fmt(v):
    return "?" if v is None else f"{v:,.0f}"


def redis_version():
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"v=(\S+)", out)
    return m.group(1) if m else "?"


if __name__ == "__main__":
    main()
