#!/usr/bin/env bash
# Makes sure a Docker Engine answers before the docker tests run.
# The tests themselves fail loudly without one; this only starts the daemon where
# the machine has one installed but not running, and waits for it with a deadline.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "ci/ensure-docker.sh: no Docker daemon answers and dockerd is not installed; install Docker Engine" >&2
  exit 2
fi
echo "ci/ensure-docker.sh: starting dockerd (log: /tmp/dockerd.log)"
nohup dockerd >/tmp/dockerd.log 2>&1 &
deadline=$((SECONDS + 60))
until docker info >/dev/null 2>&1; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "ci/ensure-docker.sh: dockerd did not answer within 60 s; last log lines:" >&2
    tail -20 /tmp/dockerd.log >&2
    exit 2
  fi
  # Polling the daemon's own answer; there is no event to wait on from outside.
  sleep 0.5
done
echo "ci/ensure-docker.sh: dockerd is up"
