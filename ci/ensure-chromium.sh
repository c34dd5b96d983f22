#!/usr/bin/env bash
# Makes sure headless Chromium (Debian's package) is installed before the
# `browser` tests open the HTML report in it. A fresh machine has none;
# Debian's mirror is reachable, so install it from there.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ci/ensure-chromium.sh: chromium is not installed; install it (apt-get install chromium) and run again" >&2
  exit 2
fi
echo "ci/ensure-chromium.sh: installing chromium"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
