#!/usr/bin/env bash
# `make run`: a private Redis, tokend and nginx, everything under ./var,
# in the foreground until Ctrl-C or SIGTERM, which stops all three cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
var=${TOKEND_VAR_DIR:-$root/var}
port=${PORT:-8080}
mkdir -p "$var/redis" "$var/nginx"

stop() {
    trap - INT TERM EXIT
    echo
    echo "stopping tokend, nginx and redis..."
    [ -n "${tokend_pid:-}" ] && kill -TERM "$tokend_pid" 2>/dev/null || true
    [ -n "${nginx_pid:-}" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true
    [ -n "${tokend_pid:-}" ] && wait "$tokend_pid" 2>/dev/null || true
    [ -n "${nginx_pid:-}" ] && wait "$nginx_pid" 2>/dev/null || true
    # redis last: tokend may still be finishing requests against it
    [ -n "${redis_pid:-}" ] && kill -TERM "$redis_pid" 2>/dev/null || true
    [ -n "${redis_pid:-}" ] && wait "$redis_pid" 2>/dev/null || true
    echo "stopped."
    exit "${1:-0}"
}
trap 'stop 0' INT TERM
trap 'stop 1' EXIT

wait_for() {	# wait_for WHAT COMMAND...: up to 5 s
    local what=$1; shift
    for _ in $(seq 50); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "make run: $what did not come up; see $var/*.log" >&2
    exit 1
}

if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
    echo "make run: 127.0.0.1:$port is already in use (another make run?); try PORT=8081 make run" >&2
    exit 1
fi

redis-server deploy/redis/redis.conf --port 0 \
    --unixsocket "$var/redis/redis.sock" --unixsocketperm 700 \
    --dir "$var/redis" --pidfile "$var/redis/redis.pid" --logfile "$var/redis/redis.log" &
redis_pid=$!
wait_for redis redis-cli -s "$var/redis/redis.sock" ping

TOKEND_CONFIG=$root/deploy/tokend.conf \
TOKEND_LISTEN=$var/tokend.sock \
TOKEND_REDIS_URL=unix://$var/redis/redis.sock \
    build/tokend serve 2>>"$var/tokend.log" &
tokend_pid=$!
wait_for tokend test -S "$var/tokend.sock"

deploy/nginx/render.sh "$var/nginx" "$port" "$var/tokend.sock"
nginx -p "$var/nginx" -e "$var/nginx/error.log" -c "$var/nginx/nginx.conf" &
nginx_pid=$!
wait_for nginx curl -sf "http://127.0.0.1:$port/v1/health"

cat <<EOT

tokend is running: http://127.0.0.1:$port   (Ctrl-C stops Redis, tokend and nginx)
  data and logs: $var   (tokend.log, nginx/, redis/)

  curl -s http://127.0.0.1:$port/v1/health
  curl -s http://127.0.0.1:$port/v1/version

EOT
# Any of the three exiting ends the run (the trap stops the others).
wait -n "$redis_pid" "$tokend_pid" "$nginx_pid" || true
echo "make run: a service exited; see $var/*.log" >&2
stop 1
