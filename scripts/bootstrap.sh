#!/usr/bin/env bash
# Installs what `make run` and `make test` need on Debian 12 / Ubuntu, as root or with sudo:
#   apt: build tools, cmake + nasm (libopus, rav1e), clang/libclang (bindgen for the libsrtp
#        peer), OpenSSL headers (libsrtp peer), ALSA and dav1d headers (audio/video crates);
#        espeak-ng + sox (the speech samples the call demo and tests send), python3-venv
#        (a venv at .venv with the `pesq` package: ITU-T P.862 scores of received audio, and
#        aiosmtpd: the SMTP sink `make run` delivers email to);
#        libspeexdsp-dev (speexdsp's jitter buffer, a peer of the jitter bench);
#        chromium (the WebRTC peer of the interop tests), iproute2 (their network namespace),
#        coturn (the TURN server of the relay tests); valgrind (the C example's leak check);
#   cargo: cargo-fuzz and cbindgen; the nightly toolchain (used only for fuzzing).
# Idempotent and silent when everything is already present.
set -euo pipefail

APT_PACKAGES=(
  build-essential pkg-config cmake nasm clang libclang-dev libssl-dev
  libasound2-dev libdav1d-dev espeak-ng sox python3 python3-venv python3-dev
  libspeexdsp-dev chromium iproute2 coturn valgrind
)

say() { printf 'bootstrap: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@" || { say "needs root for: $*  (run as root or allow sudo)"; exit 1; }
  else
    say "needs root for: $*  (run as root or install sudo)"
    exit 1
  fi
}

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || { say "Rust is missing: install it from https://rustup.rs"; exit 1; }

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  say "installing the nightly toolchain (for cargo fuzz only)"
  # Not fatal: without nightly, scripts/fuzz-smoke.sh runs cargo fuzz on stable with
  # RUSTC_BOOTSTRAP=1.
  rustup toolchain install nightly --profile minimal >/dev/null 2>&1 \
    || say "nightly unavailable; fuzzing will use stable with RUSTC_BOOTSTRAP=1"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz"
  cargo install --locked --quiet cargo-fuzz
fi

if ! command -v cbindgen >/dev/null 2>&1; then
  say "installing cbindgen"
  cargo install --locked --quiet cbindgen --version "^0.29"
fi

# PESQ (ITU-T P.862) for scoring received speech: the `pesq` package builds its C extension
# with gcc on first install (about 20 s).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! "$ROOT/.venv/bin/python" -c 'import pesq, numpy, aiosmtpd' >/dev/null 2>&1; then
  say "creating $ROOT/.venv with pesq, numpy and aiosmtpd"
  python3 -m venv "$ROOT/.venv"
  "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check pesq==0.0.4 numpy aiosmtpd==1.4.6
fi

"$ROOT/scripts/make-speech.sh"
