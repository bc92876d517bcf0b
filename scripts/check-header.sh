#!/usr/bin/env bash
# Fails when include/mediacore.h is not what cbindgen generates from ffi/ now.
# `make header` regenerates it.
set -euo pipefail
cd "$(dirname "$0")/.."
fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
cbindgen --quiet --config ffi/cbindgen.toml --crate mediacore-ffi --output "$fresh" ffi
if ! diff -u include/mediacore.h "$fresh"; then
  echo "include/mediacore.h is stale: run 'make header' and commit it" >&2
  exit 1
fi
echo "include/mediacore.h is fresh"
