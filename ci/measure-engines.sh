#!/usr/bin/env bash
# Wall time of the whole Docker table on one engine against two: the host's
# engine alone at -j JOBS, the same at -j 2*JOBS (as many scenarios at once
# as two engines run), then the host's and a second dockerd this script
# starts on the host (its own socket, data root and containerd; vfs) at
# -j JOBS each; each RUNS times; prints each run, the medians and the ratios.
# Needs root (it starts dockerd). Builds the harness first so that only the
# runs are timed; the image build of the first run on each engine is not
# timed either (a run before the timed ones builds it).
#
#   bash ci/measure-engines.sh [RUNS] [JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
jobs=${2:-2}
cargo build -q -p restart-harness
harness=target/debug/restart-harness
first=${DOCKER_HOST:-unix:///var/run/docker.sock}

dir=$(mktemp -d /tmp/rh-e2-XXXXXX)
echo '{}' > "$dir/daemon.json"
dockerd --config-file "$dir/daemon.json" -H "unix://$dir/docker.sock" \
    --data-root "$dir/data" --exec-root "$dir/x" --pidfile "$dir/docker.pid" \
    --storage-driver vfs --bridge=none --iptables=false --ip6tables=false \
    > "$dir/dockerd.log" 2>&1 &
engine=$!
stop_engine() { kill "$engine" 2>/dev/null || true; wait "$engine" 2>/dev/null || true; rm -rf "$dir"; }
trap stop_engine EXIT
second="unix://$dir/docker.sock"
deadline=$((SECONDS + 60))
until docker -H "$second" version >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "ci/measure-engines.sh: the second engine did not answer within 60 s:" >&2
        tail -20 "$dir/dockerd.log" >&2
        exit 2
    fi
    # Polling the engine's own answer; there is no event to wait on from outside.
    sleep 0.2
done

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Untimed: builds the reference image on both engines.
"$harness" run --backend docker --docker-host "$first" --docker-host "$second" \
    --filter '^core-container-restart$' > /dev/null

measure() {
    local label=$1
    shift
    local times=()
    for i in $(seq 1 "$runs"); do
        local start end t
        start=$(date +%s.%N)
        "$harness" run --backend docker -j "$jobs" "$@" > "$dir/out.txt" || {
            cat "$dir/out.txt" >&2
            exit 1
        }
        end=$(date +%s.%N)
        t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
        times+=("$t")
        printf '%s run %s: %.1f s (%s)\n' "$label" "$i" "$t" "$(grep -E '^[0-9]+ passed' "$dir/out.txt")" >&2
    done
    printf '%s\n' "${times[@]}" | median
}

one=$(measure "one engine" --docker-host "$first")
wide=$(jobs=$((2 * jobs)) measure "one engine, twice the jobs" --docker-host "$first")
two=$(measure "two engines" --docker-host "$first" --docker-host "$second")
printf 'one engine (-j %s): median %.1f s of %s runs\n' "$jobs" "$one" "$runs"
printf 'one engine (-j %s): median %.1f s of %s runs\n' "$((2 * jobs))" "$wide" "$runs"
printf 'two engines (-j %s each): median %.1f s of %s runs\n' "$jobs" "$two" "$runs"
awk -v a="$one" -v w="$wide" -v b="$two" \
    'BEGIN { printf "two engines / one: %.2f; / one at twice the jobs: %.2f\n", b / a, b / w }'
