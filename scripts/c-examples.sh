#!/usr/bin/env bash
# Builds the C and C++ examples against the MediaCore library (-Wall -Wextra -Werror; C99
# -pedantic and C++17) — the shared library, the static library, and under AddressSanitizer +
# UndefinedBehaviorSanitizer — and runs each; the C call example also under valgrind's leak
# check. The platform example (identity, relay, chat with its real-time event, SMS) runs under
# ASan+UBSan with leak detection against the local service, started here on 127.0.0.1 (a free
# HTTPS port, a fresh data dir). scripts/bootstrap.sh installs valgrind and the speech sample
# the call sends.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p mediacore-ffi
lib=${CARGO_TARGET_DIR:-target}/debug
# The shared-library examples find the library here at run time (absolute: CARGO_TARGET_DIR
# may be relative or absolute).
lib_abs=$(cd "$lib" && pwd)
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
gcc $CFLAGS examples/c/version.c -L$lib -lmediacore -Wl,-rpath,"$lib_abs" -o $out/version-c-shared
run "C, shared library" $out/version-c-shared
gcc $CFLAGS examples/c/version.c $lib/libmediacore.a $static_libs -o $out/version-c-static
run "C, static library" $out/version-c-static
g++ $CXXFLAGS examples/cpp/version.cpp $lib/libmediacore.a $static_libs -o $out/version-cpp-static
run "C++, static library" $out/version-cpp-static
gcc $CFLAGS $SAN examples/c/version.c $lib/libmediacore.a $static_libs -o $out/version-c-asan
run "C, static library, ASan+UBSan" $out/version-c-asan

gcc $CFLAGS examples/c/call.c -L$lib -lmediacore -Wl,-rpath,"$lib_abs" -o $out/call-c-shared
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

# The platform example against the real local service.
cargo build --quiet -p mediacore-service
service_bin=${CARGO_TARGET_DIR:-target}/debug/mediacore-service
work=$(mktemp -d)
service_pid=""
stop_service() {
  [ -z "$service_pid" ] || { kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap stop_service EXIT
MEDIACORE_SERVICE_DATA_DIR="$work/data" \
MEDIACORE_SERVICE_LISTEN_ADDRESS=127.0.0.1 \
MEDIACORE_SERVICE_HTTPS_PORT=0 \
MEDIACORE_SERVICE_RELAY_URLS="stun:127.0.0.1:3478,turn:127.0.0.1:3478?transport=udp" \
  "$service_bin" >"$work/service.out" 2>"$work/service.err" &
service_pid=$!
for _ in $(seq 1 300); do
  grep -q '^ready$' "$work/service.out" 2>/dev/null && break
  kill -0 "$service_pid" 2>/dev/null || { cat "$work/service.err" >&2; echo "FAIL: the service exited at start" >&2; exit 1; }
  sleep 0.1
done
grep -q '^ready$' "$work/service.out" || { cat "$work/service.err" >&2; echo "FAIL: the service is not ready in 30 s" >&2; exit 1; }
connection=$(sed -n 's/^connection string: //p' "$work/service.out")
ca=$(sed -n 's/^CA certificate: //p' "$work/service.out")
[ -n "$connection" ] && [ -f "$ca" ] || { echo "FAIL: no connection string or CA from the service" >&2; exit 1; }

gcc $CFLAGS $SAN examples/c/platform.c $lib/libmediacore.a $static_libs -o $out/platform-c-asan
log="$out/platform-c-asan.log"
if ! ASAN_OPTIONS=detect_leaks=1 "$out/platform-c-asan" "$connection" "$ca" >"$log" 2>&1; then
  cat "$log" >&2; tail -20 "$work/service.err" >&2; echo "FAIL platform-c-asan" >&2; exit 1
fi
grep -qE '^user: 8:acs:' "$log" && grep -q '^relay: turn:' "$log" \
  && grep -q '^chat event: message "hello from C"' "$log" \
  && grep -q '^chat list: text Alice: hello from C$' "$log" \
  && [ "$(grep -c '^sms: .* accepted 202 ' "$log")" = 2 ] && grep -q '^sms: 12 refused 400 ' "$log" \
  && grep -q '^error: status -9 (MC_ERR_SERVICE): identity: issue token: HTTP 404 ' "$log" \
  && grep -q '^done$' "$log" \
  || { cat "$log" >&2; echo "FAIL platform-c-asan: unexpected output" >&2; exit 1; }
echo "ok   platform-c-asan: $(grep -c '' "$log") lines, chat event and SMS results as expected"
