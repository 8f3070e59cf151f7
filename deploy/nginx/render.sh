#!/usr/bin/env bash
# Renders a private nginx setup: render.sh DIR PORT SOCKET VERIFY_SOCKET [CDN SHIM ORIGIN]
# writes DIR/nginx.conf and DIR/tokend.conf (the shipped site file with its
# listen port and socket paths replaced: VERIFY_SOCKET is tokend's
# verify_listen, or SOCKET again for a tokend without a verify pool) and,
# given three more ports, the CDN
# example (tokend-cdn.conf) on them; start it with
#   nginx -p DIR -e DIR/error.log -c DIR/nginx.conf
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# the console from this checkout (the shipped path is the installed one)
console=$(cd "$here/../../console" && pwd)
dir=$1 port=$2 socket=$3 verify_socket=$4
mkdir -p "$dir/tmp"
user=""
# nginx started as root runs its workers as nobody, who may not reach a
# socket inside a private directory; a private instance keeps the caller.
[ "$(id -u)" = 0 ] && user="user root;"
# logs go to DIR too (access logs in the shipped "tokend" format)
sed -e "s|unix:/run/tokend/tokend.sock|unix:$socket|" \
    -e "s|unix:/run/tokend/verify.sock|unix:$verify_socket|" \
    -e "s|listen 127.0.0.1:8080;|listen 127.0.0.1:$port;|" \
    -e "s|/var/log/nginx/|$dir/|g" \
    -e "s|alias /usr/share/tokend/console/;|alias $console/;|" \
    "$here/tokend.conf" > "$dir/tokend.conf"
grep -q "unix:$socket;" "$dir/tokend.conf" && grep -q "unix:$verify_socket;" "$dir/tokend.conf" &&
    grep -q "listen 127.0.0.1:$port;" "$dir/tokend.conf" &&
    grep -q "access_log $dir/tokend.access.log tokend;" "$dir/tokend.conf" &&
    grep -q "alias $console/;" "$dir/tokend.conf" &&
    ! grep -q /var/log/ "$dir/tokend.conf" || {
    echo "render.sh: tokend.conf no longer has the lines to rewrite" >&2; exit 1; }
if [ $# -ge 7 ]; then
    cdn=$5 shim=$6 origin=$7
    mkdir -p "$dir/cache"
    sed -e "s|/var/cache/nginx/tokend-cdn|$dir/cache|" \
        -e "s|listen 127.0.0.1:8090;|listen 127.0.0.1:$cdn;|" \
        -e "s|listen 127.0.0.1:8091;|listen 127.0.0.1:$shim;|" \
        -e "s|proxy_pass http://127.0.0.1:8091\\\$|proxy_pass http://127.0.0.1:$shim\$|" \
        -e "s|proxy_pass http://127.0.0.1:8092;|proxy_pass http://127.0.0.1:$origin;|" \
        -e "s|/var/log/nginx/|$dir/|g" \
        "$here/tokend-cdn.conf" > "$dir/cdn.extra.conf"
    grep -q "listen 127.0.0.1:$cdn;" "$dir/cdn.extra.conf" && grep -q "127.0.0.1:$origin;" "$dir/cdn.extra.conf" &&
        grep -q "proxy_pass http://127.0.0.1:$shim\$tokend_origin_uri;" "$dir/cdn.extra.conf" &&
        ! grep -q /var/log/ "$dir/cdn.extra.conf" || {
        echo "render.sh: tokend-cdn.conf no longer has the lines to rewrite" >&2; exit 1; }
fi
sed -e "s|@DIR@|$dir|g" -e "s|@USER@|$user|" "$here/standalone.conf.in" > "$dir/nginx.conf"
