#!/usr/bin/env bash
# Fails when the tests left containers or volumes labelled by the harness.
#
#   ci/check-leftovers.sh snapshot FILE   record what is there before the tests
#   ci/check-leftovers.sh check FILE      fail on anything labelled that is new since
#
# Objects that were there before (a killed earlier run on a reused machine) are
# reported but not blamed on this run; `restart-harness clean` removes them.
set -euo pipefail

list() {
  { docker ps -aq --no-trunc --filter label=restart-harness.run | sed 's/^/container /'
    docker volume ls -q --filter label=restart-harness.run | sed 's/^/volume /'; } | sort
}

case "${1:-}" in
  snapshot)
    list >"$2"
    if [ -s "$2" ]; then
      echo "ci/check-leftovers.sh: $(wc -l <"$2") harness object(s) were already on the engine (an earlier killed run?): remove them with 'cargo run -p restart-harness -- clean'"
    fi
    ;;
  check)
    new=$(comm -13 "$2" <(list))
    if [ -n "$new" ]; then
      echo "ci/check-leftovers.sh: the tests left these harness objects on the engine:" >&2
      echo "$new" >&2
      echo "remove them with: cargo run -p restart-harness -- clean" >&2
      exit 1
    fi
    echo "ci/check-leftovers.sh: the tests left no harness containers or volumes"
    ;;
  *)
    echo "usage: ci/check-leftovers.sh snapshot|check FILE" >&2
    exit 2
    ;;
esac
