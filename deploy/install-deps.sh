#!/usr/bin/env bash
# Installs the Debian packages tokend needs. Idempotent and silent when
# everything is present; as non-root it names what is missing and fails.
#   install-deps.sh build|run|test|bench|all
set -euo pipefail

# dpkg-dev: make deb (dpkg-shlibdeps, dpkg-parsechangelog); libsystemd-dev:
# sd_notify (libsystemd0, its runtime, comes with it)
build=(gcc make pkg-config libfcgi-dev libjson-c-dev libhiredis-dev libssl-dev libsystemd-dev
       dpkg-dev)
run=(redis-server redis-tools nginx)
# lintian, adduser: the package test; mandoc, groff-base: the man page test;
# man-db: systemd-analyze verify runs man(1) on the unit's Documentation=;
# chromium: the console's browser test (tests/browser, playwright-core)
# python3-jsonschema: every answer of the suite against docs/openapi.json
test=(libcmocka-dev python3 python3-pytest python3-requests python3-jsonschema python3-prometheus-client apache2
      libapache2-mod-fcgid spawn-fcgi libfcgi-bin systemd clang libclang-rt-dev wrk lintian
      adduser mandoc groff-base man-db chromium)
# gnuplot-nox: make bench draws bench/verify-rps.svg and bench/verify-p99.svg
bench=(valgrind gnuplot-nox)

case "${1:-all}" in
    build) want=("${build[@]}") ;;
    run)   want=("${build[@]}" "${run[@]}") ;;
    test) want=("${build[@]}" "${run[@]}" "${test[@]}") ;;
    bench|all) want=("${build[@]}" "${run[@]}" "${test[@]}" "${bench[@]}") ;;
    *) echo "usage: $0 build|run|test|bench|all" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$pkg")
done
# Node.js for the official-client tests: any node >= 18 with npm will do
# (a NodeSource nodejs ships npm itself, Debian's splits it out)
# (and for make bench's peer, bench/peer)
if [ "${1:-all}" != build ] && [ "${1:-all}" != run ]; then
    node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if [ "$node_major" -lt 18 ] || ! command -v npm >/dev/null; then
        missing+=(nodejs npm)
    fi
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "tokend: missing Debian packages: ${missing[*]}" >&2
    echo "tokend: run as root:  apt-get install ${missing[*]}   (or: sudo make deps)" >&2
    exit 1
fi
echo "tokend: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Debian's maintainer scripts would start the freshly installed servers;
# tokend runs its own private instances instead.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[ $created_policy = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
