#!/usr/bin/env bash
# build.sh VERSION TAG
#
# Builds the docker image TAG: hermes-agent==VERSION (from PyPI, with its
# pinned deps) in the venv /opt/hermes/.venv, on top of a cached base image
# restart-harness/hermes-base:<12 hex of the base recipe in base/>, which is
# built (debootstrap trixie + base/rootfs; needs root and debootstrap) only
# when that tag is missing. See ../README.md.
#
# stderr: one line per phase with its duration; on failure a last line
# "hermes-image: error: ..." naming the fix, and a non-zero exit.
#
# Environment (optional):
#   HERMES_IMAGE_DEBIAN_MIRROR  Debian mirror for debootstrap
#                               (default http://deb.debian.org/debian)
#   HERMES_IMAGE_CA_BUNDLE      CA bundle pip must trust inside the build
#                               container (default $PIP_CERT, else
#                               /etc/ssl/certs/ca-certificates.crt); it is
#                               bind-mounted, never part of an image layer.
set -euo pipefail

prog=hermes-image
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

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
  echo "usage: build.sh VERSION TAG   (e.g. build.sh 0.17.0 restart-harness/hermes:0.17.0)" >&2
  exit 2
fi
version=$1
tag=$2
[[ $version =~ ^[0-9]+(\.[0-9A-Za-z]+)+$ ]] ||
  die "bad VERSION '$version': give a hermes-agent release such as 0.17.0"

command -v docker >/dev/null 2>&1 || die "docker not found: install Docker Engine"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "cannot reach the Docker daemon: start dockerd (or set DOCKER_HOST)"

tmp=
cid=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e +o pipefail
  if [ -n "$cid" ]; then docker rm -f -v "$cid" >/dev/null 2>&1 || true; fi
  if [ -n "$tmp" ] && [ -d "$tmp" ]; then
    # debootstrap mounts proc/sys inside the target; never recurse into them
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
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hermes-image.XXXXXX")
t_all=$(ms)

# ---------------------------------------------------------------------------
# Base image: tag = hash of every file under base/ (path, exec bit, content).
base_hash=$(
  cd "$here/base" &&
    find . \( -type f -o -type l \) -print | LC_ALL=C sort | while IFS= read -r f; do
      if [ -L "$f" ]; then
        printf 'l %s %s\n' "$f" "$(readlink "$f")"
      else
        x=-
        [ -x "$f" ] && x=x
        printf 'f %s %s %s\n' "$f" "$x" "$(sha256sum <"$f" | cut -d' ' -f1)"
      fi
    done | sha256sum | cut -c1-12
)
base_tag=restart-harness/hermes-base:$base_hash

t0=$(ms)
if docker image inspect "$base_tag" >/dev/null 2>&1; then
  phase "base $base_tag: present" "$t0"
else
  [ "$(id -u)" -eq 0 ] ||
    die "building the base image $base_tag needs root (debootstrap, chroot): run build.sh as root"
  command -v debootstrap >/dev/null 2>&1 ||
    die "debootstrap not found: install it with 'apt-get update && apt-get install -y debootstrap'"
  mkdir "$tmp/root"
  if ! "$here/base/mkrootfs.sh" "$tmp/root" >"$tmp/mkrootfs.log" 2>&1; then
    show_tail "$tmp/mkrootfs.log" mkrootfs
    die "base rootfs failed (debootstrap trixie, see above): check that ${HERMES_IMAGE_DEBIAN_MIRROR:-http://deb.debian.org/debian} is reachable and the disk has ~1 GiB free"
  fi
  phase "base: debootstrap trixie + our files" "$t0"

  t0=$(ms)
  # image metadata from base/image-config: docker import takes ENV, VOLUME,
  # ENTRYPOINT, LABEL...; STOPSIGNAL only a (metadata-only, legacy) build.
  changes=(--change "LABEL restart-harness.base-hash=$base_hash")
  late=()
  while IFS= read -r line; do
    case "$line" in
      '' | '#'*) ;;
      STOPSIGNAL*) late+=("$line") ;;
      *) changes+=(--change "$line") ;;
    esac
  done <"$here/base/image-config"
  base_id=$(tar -C "$tmp/root" --numeric-owner -c . |
    docker import "${changes[@]}" --message "restart-harness hermes base $base_hash" -) ||
    die "docker import of the base rootfs failed: check the Docker daemon's disk space"
  printf '%s\n' "FROM $base_id" "${late[@]}" |
    DOCKER_BUILDKIT=0 docker build -q -t "$base_tag" - >"$tmp/meta.log" 2>&1 || {
    show_tail "$tmp/meta.log" build
    die "setting the base image metadata failed (see above): check base/image-config"
  }
  rm -rf --one-file-system "$tmp/root"
  phase "base: docker import -> $base_tag" "$t0"
fi

# ---------------------------------------------------------------------------
# Release layer: a container of the base (host network, so that pip reaches
# PyPI whatever the bridge allows; the CA bundle bind-mounted read-only at
# /mnt) makes the venv, then `docker commit` turns its diff into one layer.
t0=$(ms)
mkdir "$tmp/ca"
ca=${HERMES_IMAGE_CA_BUNDLE:-${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}}
if [ -f "$ca" ]; then cp "$ca" "$tmp/ca/ca.crt"; fi
chmod 0755 "$tmp" "$tmp/ca"

# shellcheck disable=SC2016 # expanded by the container's sh
script='set -u
[ -f /mnt/ca.crt ] && export PIP_CERT=/mnt/ca.crt
python3 -m venv /opt/hermes/.venv || exit 3
/opt/hermes/.venv/bin/pip install --no-input --no-cache-dir --disable-pip-version-check \
  --progress-bar off "hermes-agent==$1" || exit 3
/opt/hermes/.venv/bin/python -c "import hermes_cli.container_boot, hermes_cli.service_manager" || exit 4
rm -rf /root/.cache /tmp/* /tmp/.[!.]* 2>/dev/null
exit 0'

cid=$(docker create --network host --entrypoint /bin/sh -v "$tmp/ca:/mnt:ro" \
  --name "restart-harness-hermes-build-$$-$RANDOM" "$base_tag" -c "$script" sh "$version")
rc=0
# in the background, so that a TERM/INT to this script acts at once (cleanup
# removes the container) instead of after pip
docker start -a "$cid" >"$tmp/pip.log" 2>&1 &
wait $! || rc=$?
if [ "$rc" -ne 0 ]; then
  show_tail "$tmp/pip.log" pip
  if grep -q -E 'No matching distribution found|Could not find a version that satisfies' "$tmp/pip.log"; then
    die "hermes-agent==$version does not install from PyPI on python 3.13: pick a release listed by 'pip index versions hermes-agent'"
  elif [ "$rc" -eq 4 ]; then
    die "hermes-agent==$version installs but has no hermes_cli.container_boot (no s6 container support; it came in 0.15.0): pick a release >= 0.15.0"
  fi
  die "installing hermes-agent==$version into /opt/hermes/.venv failed (exit $rc, pip output above): fix the cause shown there (network to PyPI; CA bundle: set HERMES_IMAGE_CA_BUNDLE)"
fi
phase "release: venv + pip install hermes-agent==$version" "$t0"

t0=$(ms)
docker commit \
  --change 'ENTRYPOINT ["/init"]' \
  --change 'CMD []' \
  --change "LABEL restart-harness.recipe=hermes restart-harness.hermes-version=$version restart-harness.base=$base_tag" \
  --message "restart-harness hermes-agent==$version" \
  "$cid" "$tag" >/dev/null || die "docker commit of $tag failed: check the Docker daemon's disk space"
docker rm -v "$cid" >/dev/null
cid=
phase "release: commit -> $tag" "$t0"
phase "total" "$t_all"
