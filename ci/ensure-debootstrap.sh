#!/usr/bin/env bash
# Makes sure debootstrap is installed before the upstream tests build the hermes
# images from Debian packages (adapters/hermes/image/build.sh). A fresh machine
# has none; Debian's mirror is reachable, so install it from there.
set -euo pipefail

if command -v debootstrap >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ci/ensure-debootstrap.sh: debootstrap is not installed; install it (apt-get install debootstrap) and run again" >&2
  exit 2
fi
echo "ci/ensure-debootstrap.sh: installing debootstrap"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
command -v debootstrap >/dev/null
