#!/usr/bin/env bash
# build.sh VERSION TAG
#
# Builds the docker image TAG: Docker Engine VERSION from Debian's docker.io
# package (the suite that ships it: ./suites), with containerd, runc and
# busybox-static, in a debootstrap minbase root, plus our files (./rootfs:
# /usr/local/sbin/machine-init, the entrypoint, and the profile-* and
# supervisor-* commands). One layer: the root is `docker import`ed with the
# metadata of ./image-config. Needs root (debootstrap, chroot) and a Debian
# mirror; nothing is pulled from a registry. See ../README.md.
#
# stderr: one line per phase with its duration; on failure a last line
# "dockerd-image: error: ..." naming the fix, and exit 1 (usage errors: 2).
#
# Environment (optional):
#   DOCKERD_IMAGE_DEBIAN_MIRROR           Debian mirror for debootstrap and apt
#                                         (default http://deb.debian.org/debian)
#   DOCKERD_IMAGE_DEBIAN_SECURITY_MIRROR  mirror of SUITE-security (default
#                                         http://deb.debian.org/debian-security;
#                                         "none": build without security updates)
set -euo pipefail

prog=dockerd-image
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mirror=${DOCKERD_IMAGE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DOCKERD_IMAGE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

note() { echo "$prog: $*" >&2; }
die() { echo "$prog: error: $*" >&2; exit 1; }
ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
phase() { # phase NAME START_MS
  local d=$(($(ms) - $2))
  note "$(printf '%-44s %4d.%01ds' "$1" $((d / 1000)) $((d % 1000 / 100)))"
}
show_tail() { # show_tail FILE LABEL: last lines of a log, for context
  tail -n 15 "$1" | sed "s/^/  $2| /" >&2 || true
}

if [ "$#" -ne 2 ] || [ -z "$2" ]; then
  echo "usage: build.sh VERSION TAG   (e.g. build.sh 26.1.5 restart-harness/dockerd:26.1.5)" >&2
  exit 2
fi
version=$1
tag=$2

# VERSION -> suite (./suites: "VERSION-PREFIX SUITE" lines)
suite=
known=
while read -r prefix s _; do
  case "$prefix" in '' | '#'*) continue ;; esac
  known="$known${known:+, }$prefix ($s)"
  if [ -z "$suite" ] && [[ $version == "$prefix"* ]]; then suite=$s; fi
done <"$here/suites"
[[ $version =~ ^[0-9]+(\.[0-9]+)+$ ]] && [ -n "$suite" ] ||
  die "unknown VERSION '$version': known docker.io versions are $known (add a line 'VERSION SUITE' to image/suites for another)"

pkgs=()
while read -r p only _; do
  case "$p" in '' | '#'*) continue ;; esac
  if [ -z "$only" ] || [ "$only" = "$suite" ]; then pkgs+=("$p"); fi
done <"$here/packages"

[ "$(id -u)" -eq 0 ] || die "build.sh needs root (debootstrap, chroot, mount): run it as root"
command -v debootstrap >/dev/null 2>&1 ||
  die "debootstrap not found: install it with 'bash ci/ensure-debootstrap.sh' (or apt-get install debootstrap)"
command -v docker >/dev/null 2>&1 || die "docker not found: install Docker Engine"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "cannot reach the Docker daemon: start dockerd (or set DOCKER_HOST)"

tmp=
job=
stop_job() { # ends the background job (its own session: every process in it)
  [ -n "$job" ] || return 0
  kill -TERM -- "-$job" 2>/dev/null || true
  local i
  for i in $(seq 50); do kill -0 -- "-$job" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$job" 2>/dev/null || true
  wait "$job" 2>/dev/null || true
  job=
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e +o pipefail
  stop_job
  if [ -n "$tmp" ] && [ -d "$tmp" ]; then
    # debootstrap and this script mount proc (sys, dev) inside the root;
    # unmount them (deepest first) and never recurse into a mount
    grep -o " $tmp/[^ ]*" /proc/mounts | sort -r | while read -r m; do
      umount -l "$m"
    done
    rm -rf --one-file-system "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# run_job LOG CMD...: CMD in a session of its own, in the background, so that
# a TERM/INT to this script acts at once (cleanup kills the whole session)
run_job() {
  local log=$1 rc=0
  shift
  setsid "$@" >"$log" 2>&1 </dev/null &
  job=$!
  wait "$job" || rc=$?
  job=
  return "$rc"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dockerd-image.XXXXXX")
root=$tmp/root
t_all=$(ms)

# ---------------------------------------------------------------------------
t0=$(ms)
mkdir "$root"
run_job "$tmp/debootstrap.log" debootstrap --variant=minbase "$suite" "$root" "$mirror" || {
  show_tail "$tmp/debootstrap.log" debootstrap
  die "debootstrap $suite failed (see above): check that $mirror is reachable (or set DOCKERD_IMAGE_DEBIAN_MIRROR) and the disk has ~1 GiB free"
}
phase "debootstrap --variant=minbase $suite" "$t0"

# ---------------------------------------------------------------------------
t0=$(ms)
{
  echo "deb $mirror $suite main"
  echo "deb $mirror $suite-updates main"
  if [ "$security" != none ]; then echo "deb $security $suite-security main"; fi
} >"$root/etc/apt/sources.list"
rm -f "$root/etc/apt/sources.list.d/debian.sources"
# the packages try to start their services at install: forbid it
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
if [ ! -c "$root/dev/null" ]; then mount --bind /dev "$root/dev"; fi
run_job "$tmp/apt.log" chroot "$root" /usr/bin/env -i \
  PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
  /bin/sh -c 'apt-get update && apt-get install -y --no-install-recommends "$@"' sh "${pkgs[@]}" || {
  show_tail "$tmp/apt.log" apt
  die "apt-get install ${pkgs[*]} on $suite failed (see above): check that $mirror${security:+ and $security} are reachable (DOCKERD_IMAGE_DEBIAN_MIRROR; DOCKERD_IMAGE_DEBIAN_SECURITY_MIRROR=none builds without $suite-security)"
}
installed=$(chroot "$root" dpkg-query -W -f '${Version}' docker.io 2>/dev/null) || installed='(none)'
for m in dev proc; do
  if mountpoint -q "$root/$m"; then umount "$root/$m"; fi
done
rm -f "$root/usr/sbin/policy-rc.d"
[[ $installed == "$version+"* ]] ||
  die "$suite installed docker.io $installed, not $version+...: fix the line of $version in image/suites (the suite's docker.io version: apt-cache policy docker.io)"
phase "apt-get install docker.io $installed" "$t0"

# ---------------------------------------------------------------------------
t0=$(ms)
cp -a "$here/rootfs/." "$root/"
chown -R 0:0 "$root/usr/local"
# the inner image's root: busybox-static's binary and /bin/sh, owned by root
mkdir -p "$tmp/inner/bin" "$root/usr/share/restart-harness"
busybox=$root/usr/bin/busybox
[ -f "$busybox" ] || busybox=$root/bin/busybox
install -m 0755 "$busybox" "$tmp/inner/bin/busybox"
ln -s busybox "$tmp/inner/bin/sh"
tar -C "$tmp/inner" --numeric-owner --owner=0 --group=0 -cf "$root/usr/share/restart-harness/inner.tar" bin
# trim what an image does not need (apt caches and lists, logs, docs)
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/cache/debconf/*-old \
  "$root"/var/lib/dpkg/*-old "$root"/var/log/* "$root"/tmp/* "$root"/run/* \
  "$root"/usr/share/man/* "$root"/usr/share/info/* "$root/etc/resolv.conf"
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
echo machine >"$root/etc/hostname"
phase "our files, inner.tar, trim" "$t0"

# ---------------------------------------------------------------------------
t0=$(ms)
changes=(--change "LABEL restart-harness.dockerd-version=$version restart-harness.debian-suite=$suite")
while IFS= read -r line; do
  case "$line" in '' | '#'*) ;; *) changes+=(--change "$line") ;; esac
done <"$here/image-config"
# shellcheck disable=SC2016 # expanded by the job's bash
run_job "$tmp/import.log" bash -c 'set -o pipefail
tar -C "$1" --numeric-owner -c . |
  docker import --message "restart-harness dockerd docker.io $3" "${@:4}" - "$2"' \
  import "$root" "$tag" "$installed" "${changes[@]}" || {
  show_tail "$tmp/import.log" import
  die "docker import of the root as $tag failed (see above): check the Docker daemon's disk space and that TAG is a valid image name"
}
phase "docker import -> $tag" "$t0"
phase "total" "$t_all"
