#!/usr/bin/env bash
# Wall time of the whole scenario table on the process backend at -j 1 and -j 2:
# the median of 5 runs each. Builds the harness and the gateway first so that
# only the runs are timed.
#
#   bash ci/measure-table.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
cargo build -q -p gateway -p restart-harness
gateway=target/debug/gateway
harness=target/debug/restart-harness

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

for jobs in 1 2; do
    times=()
    for i in $(seq 1 "$runs"); do
        start=$(date +%s.%N)
        "$harness" run --backend process --gateway "$gateway" -j "$jobs" > /dev/null
        end=$(date +%s.%N)
        t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
        times+=("$t")
        printf -- '-j %s run %s: %.2f s\n' "$jobs" "$i" "$t"
    done
    m=$(printf '%s\n' "${times[@]}" | median)
    printf -- '-j %s: median %.2f s of %s runs\n' "$jobs" "$m" "$runs"
done
