#!/usr/bin/env bash
# Explore one target seed after seed until a wall-time budget is spent, and
# print one line per seed: agreed, or the divergence it found (shrunk, written
# to OUT/). Options after OUT go to every `explore`. For the long explores
# that do not belong in CI:
#   bash ci/explore-seeds.sh hermes@0.17.0 10 /tmp/explore-hermes
#   bash ci/explore-seeds.sh hermes@0.17.0 10 /tmp/explore-hermes \
#     --except-claim operator-stop-is-recorded      # past finding 3
# Each divergence is then read against the target's known findings
# (docs/upstream-hermes.md for hermes); a new one is a finding to write up.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: ci/explore-seeds.sh TARGET MINUTES [OUT]}
minutes=${2:?usage: ci/explore-seeds.sh TARGET MINUTES [OUT]}
out=${3:-explored-$target}
shift $(( $# < 3 ? $# : 3 ))
harness=${RESTART_HARNESS:-target/debug/restart-harness}
[ -x "$harness" ] || cargo build -q -p restart-harness
mkdir -p "$out"

deadline=$((SECONDS + minutes * 60))
seed=1
while [ "$SECONDS" -lt "$deadline" ]; do
  left=$((deadline - SECONDS))
  log="$out/seed-$seed.log"
  set +e
  "$harness" explore --target "$target" --seed "$seed" --budget "${left}s" \
    --shrink-budget 60s --out "$out" "$@" >"$log" 2>&1
  code=$?
  set -e
  case $code in
    0) echo "seed $seed: agreed ($(grep -E '^[0-9]+ schedules agreed' "$log"))" ;;
    1) echo "seed $seed: DIVERGED: $(grep -m1 '^DIVERGENCE' "$log" | sed 's/^DIVERGENCE in //')"
       grep -A12 '^shrunk from' "$log" | grep -E '^  [0-9]+\. ' | sed 's/^/    /' ;;
    *) echo "seed $seed: no verdict (exit $code): $(tail -1 "$log")" ;;
  esac
  seed=$((seed + 1))
done
