#!/usr/bin/env bash
# The upstream matrix: the whole table against every release given of a target
# built per release (TARGET: hermes, the default, or dockerd), one JSON report
# per release in OUT (default target/upstream-matrix/TARGET), then a markdown
# matrix (release x scenario) on stdout. Releases whose image cannot be built
# are listed with the builder's reason. Used for docs/upstream-hermes.md and
# docs/upstream-dockerd.md. Default releases: hermes-agent 0.13.0 to 0.19.0 on
# PyPI; Debian's docker.io 20.10.24 (bookworm) and 26.1.5 (trixie).
#
#   bash ci/upstream-matrix.sh [VERSION...]
#   TARGET=dockerd bash ci/upstream-matrix.sh
#   FILTER=core-kill-storm bash ci/upstream-matrix.sh   # some scenarios only
#   PARTITION=2/3 bash ci/upstream-matrix.sh            # this CI job's share of the
#                                                       # releases (round-robin), one of 3
set -euo pipefail
cd "$(dirname "$0")/.."

target=${TARGET:-hermes}
out=${OUT:-target/upstream-matrix/$target}
mkdir -p "$out"
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  case $target in
    hermes) versions=(0.13.0 0.14.0 0.15.0 0.15.1 0.15.2 0.16.0 0.17.0 0.18.0 0.18.1 0.18.2 0.19.0) ;;
    dockerd) versions=(20.10.24 26.1.5) ;;
    *) echo "ci/upstream-matrix.sh: no default releases for TARGET=$target: name them" >&2; exit 2 ;;
  esac
fi
if [ -n "${PARTITION:-}" ]; then
  k=${PARTITION%/*} n=${PARTITION#*/}
  if ! [[ $k =~ ^[0-9]+$ && $n =~ ^[0-9]+$ ]] || [ "$k" -lt 1 ] || [ "$k" -gt "$n" ]; then
    echo "ci/upstream-matrix.sh: PARTITION=$PARTITION: write K/N with 1 <= K <= N (PARTITION=1/3)" >&2
    exit 2
  fi
  mine=()
  for i in "${!versions[@]}"; do
    if [ $((i % n + 1)) -eq "$k" ]; then mine+=("${versions[$i]}"); fi
  done
  if [ ${#mine[@]} -eq 0 ]; then
    echo "ci/upstream-matrix.sh: partition $PARTITION holds none of the ${#versions[@]} releases: nothing to run (a shard, not a verdict)" >&2
    exit 0
  fi
  versions=("${mine[@]}")
fi
cargo build -q -p restart-harness
# A copy: rebuilding the workspace while the matrix runs must not change it.
bin=$(mktemp -d)/restart-harness
cp target/debug/restart-harness "$bin"
for v in "${versions[@]}"; do
  t0=$SECONDS
  if ! "$bin" image build --target "$target@$v" >"$out/$v.build.txt" 2>&1; then
    echo "$target@$v: image not built: $(grep -E 'error' "$out/$v.build.txt" | tail -1)" >&2
    continue
  fi
  # Exit 1 (a scenario failed) is a result here, not a failure of the script.
  "$bin" run --target "$target@$v" -j "${JOBS:-3}" ${FILTER:+--filter "$FILTER"} --json "$out/$v.json" >"$out/$v.txt" 2>&1 || true
  echo "$target@$v: $(grep -E '^[0-9]+ passed, ' "$out/$v.txt" | tail -1 | head -c 200) [$((SECONDS - t0)) s]" >&2
done
python3 ci/upstream-matrix.py "$out" "${versions[@]}"
