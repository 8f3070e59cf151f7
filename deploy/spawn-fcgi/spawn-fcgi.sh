#!/usr/bin/env bash
# spawn-fcgi.sh SOCKET [TOKEND_BIN] — tokend on a spawn-fcgi socket, in the
# foreground. The config comes from $TOKEND_CONFIG (default /etc/tokend/tokend.conf).
set -euo pipefail
socket=${1:?usage: $0 SOCKET [TOKEND_BIN]}
bin=${2:-/usr/local/sbin/tokend}
exec spawn-fcgi -s "$socket" -M 0660 -n -- "$bin"
