#!/bin/sh
# install-system.sh BIN CONF (make install-system) — on a host without the
# Debian package, what its postinst does: the system user and group tokend,
# /var/lib/tokend (0750 tokend:tokend), the configuration readable by that
# group (0640 root:tokend, while it is still root's) and, when there is none,
# a signing key /var/lib/tokend/keyring (0600, owned by tokend). Nothing that
# exists is replaced, so running it again changes nothing. Root only, on
# this machine (not into a DESTDIR).
set -eu

bin=$1
conf=$2
state=/var/lib/tokend

if [ -n "${DESTDIR:-}" ]; then
    echo "install-system: not with DESTDIR: it makes a user on this machine" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-system: run as root (sudo make install-system)" >&2
    exit 1
fi

getent group tokend >/dev/null || groupadd --system tokend
if ! getent passwd tokend >/dev/null; then
    useradd --system --gid tokend --home-dir "$state" --no-create-home \
        --shell "$(command -v nologin || echo /bin/false)" \
        --comment "tokend access-token service" tokend
fi
[ -d "$state" ] || install -d -o tokend -g tokend -m 0750 "$state"
if [ "$(stat -c %G "$conf")" = root ]; then
    chown root:tokend "$conf"
    chmod 0640 "$conf"
fi
# made by the service user, so no root process writes into a directory that
# user owns; --config /dev/null: only the keyring's path matters here
if [ ! -e "$state/keyring" ]; then
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TOKEND_KEYRING_FILE="$state/keyring" \
        setpriv --reuid=tokend --regid=tokend --init-groups "$bin" keys generate --config /dev/null
fi
echo "install-system: user tokend, $state and its keyring are ready;" \
     "start with: systemctl daemon-reload && systemctl enable --now tokend" >&2
