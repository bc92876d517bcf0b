#!/usr/bin/env bash
# Builds the C and C++ examples against the MediaCore library (-Wall -Wextra -Werror; C99
# -pedantic and C++17) — the shared library, the static library, and under AddressSanitizer +
# UndefinedBehaviorSanitizer — and runs each; the C call example also under valgrind's leak
# check. (scripts/c-packaging.sh checks the installed library: symbols, pkg-config, CMake.) scripts/bootstrap.sh installs valgrind and the speech sample the call sends.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p mediacore-ffi
# Absolute: it becomes the examples' rpath (CARGO_TARGET_DIR may be relative or absolute).
lib=$(realpath "${CARGO_TARGET_DIR:-target}/debug")
out=target/c-examples
mkdir -p "$out"
static_libs="-lpthread -ldl -lm"
expected="MediaCore $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
speech=data/generated/speech-a-48k.wav
[ -f "$speech" ] || { echo "missing $speech: run scripts/bootstrap.sh" >&2; exit 1; }

run() {
  local name=$1; shift
  local got
  got=$("$@")
  case "$got" in
    "$expected"*) echo "ok   $name: $got" ;;
    *) echo "FAIL $name: printed '$got', expected '$expected'" >&2; exit 1 ;;
  esac
}

# The call example: connected, B received A's packets, and wrote what it heard.
run_call() {
  local name=$1; shift
  local log="$out/$name.log" wav="$out/$name.wav"
  rm -f "$wav"
  if ! "$@" "$speech" "$wav" 2 >"$log" 2>&1; then
    cat "$log" >&2; echo "FAIL $name" >&2; exit 1
  fi
  grep -q '^call A: connected' "$log" && grep -q '^call B: connected' "$log" \
    && grep -qE '^ 2 s  B: received [1-9][0-9]+ ' "$log" && [ -s "$wav" ] \
    || { cat "$log" >&2; echo "FAIL $name: no call" >&2; exit 1; }
  echo "ok   $name: $(grep '^ 2 s' "$log")"
}

CFLAGS="-std=c99 -Wall -Wextra -Werror -pedantic -Iinclude"
CXXFLAGS="-std=c++17 -Wall -Wextra -Werror -Iinclude"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
gcc $CFLAGS examples/c/version.c -L$lib -lmediacore -Wl,-rpath,"$lib" -o $out/version-c-shared
run "C, shared library" $out/version-c-shared
gcc $CFLAGS examples/c/version.c $lib/libmediacore.a $static_libs -o $out/version-c-static
run "C, static library" $out/version-c-static
g++ $CXXFLAGS examples/cpp/version.cpp $lib/libmediacore.a $static_libs -o $out/version-cpp-static
run "C++, static library" $out/version-cpp-static
gcc $CFLAGS $SAN examples/c/version.c $lib/libmediacore.a $static_libs -o $out/version-c-asan
run "C, static library, ASan+UBSan" $out/version-c-asan

gcc $CFLAGS examples/c/call.c -L$lib -lmediacore -Wl,-rpath,"$lib" -o $out/call-c-shared
run_call call-c-shared $out/call-c-shared
gcc $CFLAGS $SAN examples/c/call.c $lib/libmediacore.a $static_libs -o $out/call-c-asan
# detect_leaks: the whole process, Rust side included, must free what it allocates.
ASAN_OPTIONS=detect_leaks=1 run_call call-c-asan $out/call-c-asan
command -v valgrind >/dev/null || { echo "valgrind is missing: run scripts/bootstrap.sh" >&2; exit 1; }
# --undef-value-errors=no: ring's AES-GCM assembly (DTLS, SRTP) writes bytes memcheck cannot
# track and compares tags in constant time, which it reports as uninitialised (false
# positives); invalid accesses and leaks are still checked (and ASan above checks memory too).
run_call call-c-valgrind valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
  --undef-value-errors=no --error-exitcode=9 $out/call-c-shared

# --- C++ through include/mediacore.hpp (RAII handles, exceptions): the version and call
# examples, shared and under ASan+UBSan with leak detection.
g++ $CXXFLAGS $SAN examples/cpp/version.cpp $lib/libmediacore.a $static_libs -o $out/version-cpp-asan
run "C++, static library, ASan+UBSan" $out/version-cpp-asan
g++ $CXXFLAGS examples/cpp/call.cpp -L$lib -lmediacore -Wl,-rpath,"$lib" -o $out/call-cpp-shared
run_call call-cpp-shared $out/call-cpp-shared
g++ $CXXFLAGS $SAN examples/cpp/call.cpp $lib/libmediacore.a $static_libs -o $out/call-cpp-asan
ASAN_OPTIONS=detect_leaks=1 run_call call-cpp-asan $out/call-cpp-asan
