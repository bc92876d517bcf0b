#!/usr/bin/env bash
# Makes the two speech samples the call demo, tests and benchmarks send (one per
# direction): espeak-ng speech, 48 kHz mono 16-bit, with 0.3 s of silence at each end, in
# data/generated/. Regenerated only when a sample is missing or this script changed.
#
# Level: normalised to -3 dBFS peak, which puts the speech at about -23 dBFS RMS. Speech
# from espeak-ng has a crest factor near 20 dB, so -20 dBFS RMS would need peaks at 0 dBFS
# and leave no headroom for the codec's overshoot.
#
# Deterministic: espeak-ng is, and `sox -R` seeds sox's dither with a fixed value (without
# it every run dithers differently and PESQ figures move in the second decimal).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/data/generated"
STAMP="$OUT/.make-speech.sha256"
mkdir -p "$OUT"

hash="$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
if [ -s "$OUT/speech-a-48k.wav" ] && [ -s "$OUT/speech-b-48k.wav" ] \
  && [ "$(cat "$STAMP" 2>/dev/null)" = "$hash" ]; then
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

make_one() { # name voice text
  espeak-ng -v "$2" -s 150 -w "$tmp/$1.wav" "$3"
  # Written beside the target and renamed, so an interrupted run leaves no half file.
  sox -R -q "$tmp/$1.wav" -r 48000 -c 1 -b 16 "$tmp/$1-48k.wav" norm -3 pad 0.3 0.3
  mv "$tmp/$1-48k.wav" "$OUT/$1-48k.wav"
}

make_one speech-a en-us "The quick brown fox jumps over the lazy dog. Real time communication needs low latency and clear audio. Please call me back at five thirty this afternoon, and bring the quarterly report."
make_one speech-b en-gb "A jitter buffer smooths the arrival of packets over a busy network. When a packet is lost, the decoder conceals the gap. Thank you for calling, the meeting starts at nine tomorrow morning."
echo "$hash" >"$STAMP"
