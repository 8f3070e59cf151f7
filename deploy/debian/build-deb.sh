#!/bin/sh
# build-deb.sh TREE VERSION OUT — makes the Debian binary package OUT from
# TREE, a `make install` into DESTDIR=TREE with PREFIX=/usr and
# UNITDIR=/lib/systemd/system (so the package holds what make install
# installs), with dpkg's own tools: the binary stripped, man pages and the
# changelog compressed, the copyright file, the conffiles, the maintainer
# scripts beside this file, Depends from dpkg-shlibdeps, md5sums. No root
# needed (dpkg-deb --root-owner-group).
set -eu

tree=$(cd "$1" && pwd)
version=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
doc=$tree/usr/share/doc/tokend

if [ "$(dpkg-parsechangelog -l "$here/changelog" -S Version)" != "$version" ]; then
    echo "build-deb.sh: deploy/debian/changelog has no entry for $version (see tokend version)" >&2
    exit 1
fi
# file dates in the package from the changelog: the same sources make the same .deb
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$here/changelog" -S Timestamp)
export SOURCE_DATE_EPOCH

strip --strip-unneeded --remove-section=.comment --remove-section=.note "$tree/usr/sbin/tokend"
gzip -9n "$tree"/usr/share/man/man*/*
install -m 0644 "$here/copyright" "$doc/copyright"
gzip -9n < "$here/changelog" > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
# world-readable in the archive (it holds no secret as shipped); postinst
# makes it 0640 root:tokend through dpkg-statoverride
chmod 0644 "$tree/etc/tokend/tokend.conf"
find "$tree" -type d -exec chmod 0755 {} +

mkdir -p "$tree/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "$here/$script" "$tree/DEBIAN/$script"
done
(cd "$tree" && find etc -type f | sed 's|^|/|' | sort) > "$tree/DEBIAN/conffiles"
(cd "$tree" && find usr lib -type f | sort | xargs md5sum) > "$tree/DEBIAN/md5sums"

# dpkg-shlibdeps wants a debian/control beside it to run
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/debian"
printf 'Source: tokend\n\nPackage: tokend\nArchitecture: any\n' > "$scratch/debian/control"
shlibs=$(cd "$scratch" && dpkg-shlibdeps -O "$tree/usr/sbin/tokend" | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "build-deb.sh: dpkg-shlibdeps found no libraries" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
sed -e "s|@VERSION@|$version|" \
    -e "s|@ARCH@|$(dpkg --print-architecture)|" \
    -e "s|@MAINTAINER@|$(dpkg-parsechangelog -l "$here/changelog" -S Maintainer)|" \
    -e "s|@SIZE@|$size|" \
    -e "s|@DEPENDS@|adduser, $shlibs|" \
    "$here/control" > "$tree/DEBIAN/control"

dpkg-deb --root-owner-group --build "$tree" "$out" >/dev/null
echo "$out"
