#!/usr/bin/env bash
# mkrootfs.sh ROOT: lay the base rootfs of the hermes image into the empty
# directory ROOT (as root, on the host). Called by ../build.sh; part of the
# base recipe hash, like every file in this folder.
set -euo pipefail

root=${1:?usage: mkrootfs.sh ROOT}
root=$(realpath -- "$root")
[ "$root" != / ] || { echo "mkrootfs.sh: refusing to use / as ROOT" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mirror=${HERMES_IMAGE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
hid=10000

pkgs=$(grep -v -e '^#' -e '^[[:space:]]*$' "$here/packages" | paste -sd, -)

# 1. Debian 13 with python3.13, s6 2.13, execline.
debootstrap --variant=minbase --include="$pkgs" trixie "$root" "$mirror"

# 2. Our files: /init, /command/with-contenv, the s6-svscan SIGTERM script.
cp -a "$here/rootfs/." "$root/"
chown -R 0:0 "$root/init" "$root/command" "$root/etc/restart-harness"

# 3. /command: the s6 programs (what s6-overlay puts there and hermes_cli
#    calls by absolute path), as links to Debian's /usr/bin ones.
for f in "$root"/usr/bin/s6-* "$root/usr/bin/execlineb"; do
  ln -sfn "/usr/bin/${f##*/}" "$root/command/${f##*/}"
done

# 4. The hermes user and group (uid/gid 10000, home = the volume).
chroot "$root" groupadd -g "$hid" hermes
chroot "$root" useradd -u "$hid" -g "$hid" -d /opt/data -M -s /bin/sh -c hermes hermes
install -d -o "$hid" -g "$hid" -m 0755 "$root/opt/data"
install -d -o 0 -g 0 -m 0755 "$root/opt/hermes"

# 5. Trim what an image does not need.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/var/log/* "$root"/tmp/* "$root"/run/*
