#!/usr/bin/env bash
# The C ABI under misuse (ffi/tests/misuse.c): NULL and stale handles, invalid values, wrong
# states, re-entrant callbacks. Built -Wall -Wextra -Werror -pedantic against the static
# library and run under AddressSanitizer + UndefinedBehaviorSanitizer with leak detection.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p mediacore-ffi
lib=${CARGO_TARGET_DIR:-target}/debug
out=target/c-examples
mkdir -p "$out"
gcc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude \
  -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g \
  ffi/tests/misuse.c "$lib/libmediacore.a" -lpthread -ldl -lm -o "$out/misuse-asan"
ASAN_OPTIONS=detect_leaks=1 "$out/misuse-asan"
