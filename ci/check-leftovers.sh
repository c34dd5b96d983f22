#!/usr/bin/env bash
# Fails when containers or volumes labelled by the harness are left on the engine.
set -euo pipefail
containers=$(docker ps -aq --filter label=restart-harness.run | wc -l)
volumes=$(docker volume ls -q --filter label=restart-harness.run | wc -l)
if [ "$containers" -ne 0 ] || [ "$volumes" -ne 0 ]; then
  echo "ci/check-leftovers.sh: $containers container(s) and $volumes volume(s) labelled restart-harness.run were left:" >&2
  docker ps -a --filter label=restart-harness.run >&2
  docker volume ls --filter label=restart-harness.run >&2
  echo "remove them with: cargo run -p restart-harness -- clean" >&2
  exit 1
fi
echo "ci/check-leftovers.sh: no harness containers or volumes left"
