#!/usr/bin/env bash
# Builds the harness image (harness/image/Dockerfile): restart-harness and the
# reference gateway compiled statically (glibc, +crt-static, as the gateway
# image is), the gateway also with its mutants, and the adapters. Prints the
# tag. The tag is the crate's version and a hash of the three binaries, the
# adapters and the Dockerfile; an unchanged tag is not rebuilt.
#
#   bash ci/harness-image.sh [REPOSITORY]     (default restart-harness/harness)
set -euo pipefail
cd "$(dirname "$0")/.."

repo=${1:-restart-harness/harness}
target=x86_64-unknown-linux-gnu
# The same target dirs the harness uses for the gateway image: one cache.
export RUSTFLAGS="-C target-feature=+crt-static"
unset CARGO_ENCODED_RUSTFLAGS
cargo build -q --release --locked --target "$target" --target-dir target/static \
    -p restart-harness -p gateway >&2
cargo build -q --release --locked --target "$target" --target-dir target/static-mutants \
    -p gateway --features mutants >&2

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "target/static/$target/release/restart-harness" "target/static/$target/release/gateway" "$ctx/"
cp "target/static-mutants/$target/release/gateway" "$ctx/gateway-mutants"
cp -r adapters "$ctx/adapters"
cp harness/image/Dockerfile "$ctx/Dockerfile"
mkdir -m 1777 "$ctx/tmp"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' harness/Cargo.toml | head -1)
hash=$(cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
tag="$repo:$version-$hash"
if ! docker image inspect "$tag" >/dev/null 2>&1; then
    docker build -q -t "$tag" "$ctx" >&2
fi
echo "$tag"
