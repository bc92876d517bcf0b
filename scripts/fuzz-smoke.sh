#!/usr/bin/env bash
# Runs every cargo-fuzz target (or those named) for N seconds each, starting from the seed
# corpora in fuzz/corpus/<target> (left untouched: new inputs go to fuzz/scratch/<target>).
# Fails on the first crash, leak or timeout, and prints one summary line per target.
# The targets are every [[bin]] of fuzz/Cargo.toml (`cargo fuzz list`): the RTP, RTCP,
# SRTP and SRTCP parsers, STUN as the call transport receives it (stun_parse), remote
# SDP as a call accepts it (sdp_parse), and request bodies through the local service's
# router (service_request).
#   scripts/fuzz-smoke.sh [seconds] [target...]      (default: 30 s, all targets)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-30}
shift || true

if ! command -v cargo-fuzz >/dev/null 2>&1 && ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: cargo-fuzz is missing: run scripts/bootstrap.sh (cargo install cargo-fuzz)" >&2
  exit 1
fi
# cargo fuzz needs nightly flags; without a nightly toolchain, stable with RUSTC_BOOTSTRAP=1
# works too (measured on this machine kind).
if rustup run nightly rustc --version >/dev/null 2>&1; then
  fuzz=(cargo +nightly fuzz)
else
  echo "fuzz-smoke: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1" >&2
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <("${fuzz[@]}" list)
fi

"${fuzz[@]}" build >/dev/null 2>build.log || { cat build.log >&2; exit 1; }
rm -f build.log
for t in "${targets[@]}"; do
  # A target without committed seeds still runs (libFuzzer refuses a missing directory).
  mkdir -p "scratch/$t" "corpus/$t"
  log="scratch/$t.log"
  if ! "${fuzz[@]}" run "$t" "scratch/$t" "corpus/$t" -- \
      -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
    echo "FAIL fuzz $t: see fuzz/$log and fuzz/artifacts/$t/" >&2
    tail -40 "$log" >&2
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  echo "ok   fuzz $t: ${execs:-?} runs in ${secs} s, ${cov:-cov: ?}, no crash"
done
