#!/usr/bin/env bash
# Builds the C and C++ examples against the MediaCore library — the shared library, the
# static library, and once under AddressSanitizer — and runs each.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p mediacore-ffi
lib=target/debug
out=target/c-examples
mkdir -p "$out"
static_libs="-lpthread -ldl -lm"
expected="MediaCore $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"

run() {
  local name=$1; shift
  local got
  got=$("$@")
  case "$got" in
    "$expected"*) echo "ok   $name: $got" ;;
    *) echo "FAIL $name: printed '$got', expected '$expected'" >&2; exit 1 ;;
  esac
}

CFLAGS="-std=c99 -Wall -Wextra -Werror -pedantic -Iinclude"
CXXFLAGS="-std=c++17 -Wall -Wextra -Werror -Iinclude"
gcc $CFLAGS examples/c/version.c -L$lib -lmediacore -Wl,-rpath,"$PWD/$lib" -o $out/version-c-shared
run "C, shared library" $out/version-c-shared
gcc $CFLAGS examples/c/version.c $lib/libmediacore.a $static_libs -o $out/version-c-static
run "C, static library" $out/version-c-static
g++ $CXXFLAGS examples/cpp/version.cpp $lib/libmediacore.a $static_libs -o $out/version-cpp-static
run "C++, static library" $out/version-cpp-static
gcc $CFLAGS -fsanitize=address -g examples/c/version.c $lib/libmediacore.a $static_libs -o $out/version-c-asan
run "C, static library, AddressSanitizer" $out/version-c-asan
