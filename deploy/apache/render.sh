#!/usr/bin/env bash
# Renders a private Apache setup around a shipped recipe:
#   render.sh fcgid DIR PORT TOKEND_BIN TOKEND_CONFIG
#   render.sh proxy-fcgi DIR PORT SOCKET VERIFY_SOCKET
#   render.sh authorizer DIR PORT TOKEND_PORT DOCROOT
# with tokend-console.conf beside fcgid and proxy-fcgi (the console from
# this checkout); then: apache2 -f DIR/httpd.conf -DFOREGROUND
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=$1 dir=$2 port=$3
mods=/usr/lib/apache2/modules
mkdir -p "$dir/run"
user=""
[ "$(id -u)" = 0 ] && user=$'User nobody\nGroup nogroup'
# every recipe builds its redacted log lines with SetEnvIfExpr
common="LoadModule setenvif_module $mods/mod_setenvif.so"
case "$mode" in
fcgid)
    bin=$4 config=$5
    # mod_fcgid creates its IPC directory itself, owned by Apache's user
    modules="LoadModule fcgid_module $mods/mod_fcgid.so"
    modules+=$'\n'"FcgidIPCDir \"$dir/fcgid\""
    modules+=$'\n'"FcgidProcessTableFile \"$dir/fcgid/shm\""
    sed -e "s|/usr/local/sbin/tokend|$bin|" -e "s|/etc/tokend/tokend.conf|$config|" \
        "$here/tokend-fcgid.conf" > "$dir/tokend-site.conf"
    grep -q "$bin virtual" "$dir/tokend-site.conf"
    ;;
proxy-fcgi)
    socket=$4 verify_socket=$5
    modules="LoadModule proxy_module $mods/mod_proxy.so"
    modules+=$'\n'"LoadModule proxy_fcgi_module $mods/mod_proxy_fcgi.so"
    sed -e "s|unix:/run/tokend/tokend.sock|unix:$socket|" \
        -e "s|unix:/run/tokend/verify.sock|unix:$verify_socket|" \
        "$here/tokend-proxy-fcgi.conf" > "$dir/tokend-site.conf"
    grep -q "unix:$socket|" "$dir/tokend-site.conf" && grep -q "unix:$verify_socket|" "$dir/tokend-site.conf"
    ;;
authorizer)
    tport=$4 docroot=$5
    modules="LoadModule authnz_fcgi_module $mods/mod_authnz_fcgi.so"
    modules+=$'\n'"LoadModule headers_module $mods/mod_headers.so"
    modules+=$'\n'"LoadModule authn_core_module $mods/mod_authn_core.so"
    modules+=$'\n'"LoadModule authz_user_module $mods/mod_authz_user.so"
    modules+=$'\n'"DocumentRoot \"$docroot\""
    modules+=$'\n'"<Directory \"$docroot\">"$'\n'"Require all granted"$'\n'"</Directory>"
    sed -e "s|fcgi://127.0.0.1:9000/|fcgi://127.0.0.1:$tport/|" \
        "$here/tokend-authorizer.conf" > "$dir/tokend-site.conf"
    grep -q "127.0.0.1:$tport/" "$dir/tokend-site.conf"
    ;;
*) echo "usage: $0 fcgid|proxy-fcgi|authorizer DIR PORT ..." >&2; exit 2 ;;
esac
# the console beside tokend (fcgid, proxy-fcgi), from this checkout
if [ "$mode" != authorizer ]; then
    console=$(cd "$here/../../console" && pwd)
    for m in alias dir headers; do
        grep -q "mod_$m.so" <<<"$modules" || modules+=$'\n'"LoadModule ${m}_module $mods/mod_$m.so"
    done
    sed -e "s|/usr/share/tokend/console|$console|g" "$here/tokend-console.conf" >> "$dir/tokend-site.conf"
    grep -q "Alias \"/console/\" \"$console/\"" "$dir/tokend-site.conf"
fi
awk -v dir="$dir" -v port="$port" -v common="$common" -v modules="$modules" -v user="$user" '
    { gsub(/@DIR@/, dir); gsub(/@PORT@/, port) }
    /^@MODULES@$/ { print common; print modules; next }
    /^@USER@$/ { print user; next }
    { print }' "$here/standalone.conf.in" > "$dir/httpd.conf"
