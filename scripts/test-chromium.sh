#!/usr/bin/env bash
# Runs the Chromium interop tests (media-core/tests/chromium_interop.rs) in a network
# namespace that holds only `lo`, so that every packet of the call stays on loopback.
# Needs root for `unshare -n` (scripts/bootstrap.sh installs chromium and iproute2).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "chromium is missing: run scripts/bootstrap.sh" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "the Chromium tests need root for unshare -n" >&2; exit 1; }
# Build outside the namespace (it has no network), run inside.
cargo test --quiet -p media-core --test chromium_interop --no-run
exec unshare -n bash -c 'ip link set lo up && cargo test --offline -p media-core --test chromium_interop -- --ignored --nocapture "$@"' -- "$@"
