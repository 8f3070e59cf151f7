#!/usr/bin/env bash
# `make run`: a private Redis, tokend and nginx, everything under ./var,
# in the foreground until Ctrl-C or SIGTERM, which stops all three cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
var=${TOKEND_VAR_DIR:-$root/var}
port=${PORT:-8080}
mkdir -p "$var/redis" "$var/nginx"

# One run per folder: a second would bind the same Redis socket, write the
# same AOF and RDB files, and remove the first one's sockets when it ends.
# The lock is held as long as this script or a service it started lives.
exec 9>>"$var/run.lock"
if ! flock -n 9; then
    echo "make run: tokend is already running from $var at $(cat "$var/run.url" 2>/dev/null || echo "an unknown URL"); nothing was started or changed" >&2
    trap - EXIT
    exit 1
fi

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
    rm -f "$var/run.url"
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

export TOKEND_CONFIG=$root/deploy/tokend.conf
export TOKEND_LISTEN=$var/tokend.sock
export TOKEND_VERIFY_LISTEN=$var/verify.sock
metrics_port=${METRICS_PORT:-$((port + 1000))}
export TOKEND_METRICS_LISTEN=127.0.0.1:$metrics_port
export TOKEND_REDIS_URL=unix://$var/redis/redis.sock
export TOKEND_KEYRING_FILE=$var/keyring
# first start: a signing key (mode 0600)
[ -s "$var/keyring" ] || build/tokend keys generate 2>/dev/null
build/tokend serve 2>>"$var/tokend.log" &
tokend_pid=$!
wait_for tokend test -S "$var/tokend.sock" -a -S "$var/verify.sock"

deploy/nginx/render.sh "$var/nginx" "$port" "$var/tokend.sock" "$var/verify.sock"
nginx -p "$var/nginx" -e "$var/nginx/error.log" -c "$var/nginx/nginx.conf" &
nginx_pid=$!
wait_for nginx curl -sf "http://127.0.0.1:$port/v1/health"

# first start (or a Redis wiped since): an admin personal access token,
# shown here and kept in var/admin.token (mode 0600)
admin_ok() {
    [ -s "$var/admin.token" ] && curl -sf -o /dev/null \
        -H "Authorization: $(cat "$var/admin.token")" "http://127.0.0.1:$port/v1/spaces"
}
if ! admin_ok; then
    (umask 077; build/tokend pat create --name admin --full > "$var/admin.token.new")
    mv "$var/admin.token.new" "$var/admin.token"
fi
admin=$(cat "$var/admin.token")
echo "http://127.0.0.1:$port" > "$var/run.url"

cat <<EOT

tokend is running: http://127.0.0.1:$port   (Ctrl-C stops Redis, tokend and nginx)
  console:       http://127.0.0.1:$port/console/   (sign in with the admin token below)
  metrics:       http://127.0.0.1:$metrics_port/metrics   (Prometheus)
  data and logs: $var   (tokend.log, nginx/, redis/)
  admin token:   $admin
                 (also in $var/admin.token)

  curl -s http://127.0.0.1:$port/v1/health
  export TOKEND_ADMIN=\$(cat $var/admin.token)
  curl -s -H "Authorization: \$TOKEND_ADMIN" -H 'Content-Type: application/json' \\
       -d '{"space":{"id":606,"name":"Demo","min_cache":60}}' http://127.0.0.1:$port/v1/spaces
  curl -s -H "Authorization: \$TOKEND_ADMIN" -H 'Content-Type: application/json' \\
       -d '{"api_key":{"access":"public","name":"website"}}' http://127.0.0.1:$port/v1/spaces/606/api_keys
  curl -s -H "Authorization: \$TOKEND_ADMIN" http://127.0.0.1:$port/v1/spaces/606/api_keys

EOT
# Any of the three exiting ends the run (the trap stops the others).
wait -n "$redis_pid" "$tokend_pid" "$nginx_pid" || true
echo "make run: a service exited; see $var/*.log" >&2
stop 1
