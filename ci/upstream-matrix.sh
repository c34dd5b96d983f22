#!/usr/bin/env bash
# The upstream matrix: the whole table against every hermes-agent release given
# (default: every release from 0.13.0 to 0.19.0 on PyPI), one JSON report per
# release in OUT (default target/upstream-matrix), then a markdown matrix
# (release x scenario) on stdout. Releases whose image cannot be built are
# listed with the builder's reason. Used for docs/upstream-hermes.md.
#
#   bash ci/upstream-matrix.sh [VERSION...]
set -euo pipefail
cd "$(dirname "$0")/.."

out=${OUT:-target/upstream-matrix}
mkdir -p "$out"
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  versions=(0.13.0 0.14.0 0.15.0 0.15.1 0.15.2 0.16.0 0.17.0 0.18.0 0.18.1 0.18.2 0.19.0)
fi
cargo build -q -p restart-harness
# A copy: rebuilding the workspace while the matrix runs must not change it.
bin=$(mktemp -d)/restart-harness
cp target/debug/restart-harness "$bin"
for v in "${versions[@]}"; do
  t0=$SECONDS
  if ! "$bin" image build --target "hermes@$v" >"$out/$v.build.txt" 2>&1; then
    echo "hermes@$v: image not built: $(grep -E 'error' "$out/$v.build.txt" | tail -1)" >&2
    continue
  fi
  # Exit 1 (a scenario failed) is a result here, not a failure of the script.
  "$bin" run --target "hermes@$v" -j "${JOBS:-3}" --json "$out/$v.json" >"$out/$v.txt" 2>&1 || true
  echo "hermes@$v: $(tail -1 "$out/$v.txt" | head -c 200) [$((SECONDS - t0)) s]" >&2
done
python3 ci/upstream-matrix.py "$out" "${versions[@]}"
