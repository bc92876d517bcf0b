#!/usr/bin/env bash
# Makes the two speech samples the call demo, tests and benchmarks send (one per
# direction): espeak-ng speech, 48 kHz mono 16-bit, normalised to -3 dBFS peak, with 0.3 s
# of silence at each end, in data/generated/. Deterministic; skipped when present.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/data/generated"
mkdir -p "$OUT"

make_one() { # name voice text
  local wav="$OUT/$1-48k.wav"
  [ -s "$wav" ] && return 0
  local tmp
  tmp="$(mktemp --suffix=.wav)"
  espeak-ng -v "$2" -s 150 -w "$tmp" "$3"
  sox -q "$tmp" -r 48000 -c 1 -b 16 "$wav" norm -3 pad 0.3 0.3
  rm -f "$tmp"
}

make_one speech-a en-us "The quick brown fox jumps over the lazy dog. Real time communication needs low latency and clear audio. Please call me back at five thirty this afternoon, and bring the quarterly report."
make_one speech-b en-gb "A jitter buffer smooths the arrival of packets over a busy network. When a packet is lost, the decoder conceals the gap. Thank you for calling, the meeting starts at nine tomorrow morning."
