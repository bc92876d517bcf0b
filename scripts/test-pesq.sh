#!/usr/bin/env bash
# Self-test of scripts/score_pesq.py on copies of speech-a made here: the scorer must give
# an identical copy ~4.64, undo a 137 ms delay (PESQ alone would punish it), rate a copy
# with 5 % of its 20 ms frames zeroed far lower, and refuse a silent or missing file with a
# message. Prints each figure. Needs scripts/bootstrap.sh (the venv and the samples).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
SCORE="$ROOT/scripts/score_pesq.py"
REF="$ROOT/data/generated/speech-a-48k.wav"
[ -x "$PY" ] && [ -s "$REF" ] || { echo "test-pesq: run scripts/bootstrap.sh first" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0

# score NAME FILE MIN MAX [LAG_MS]: prints the score and checks MIN <= score <= MAX (and the
# lag within 1 ms of LAG_MS when given).
score() {
  local out
  out="$("$PY" "$SCORE" "$REF" "$2" --json)"
  "$PY" - "$1" "$3" "$4" "${5:-}" "$out" <<'EOF' || fail=1
import json, sys
name, lo, hi, lag, out = sys.argv[1:]
r = json.loads(out)
ok = float(lo) <= r["pesq_wb"] <= float(hi)
if lag:
    ok = ok and abs(r["lag_ms"] - float(lag)) <= 1.0
print(f"  {name:<34} pesq_wb {r['pesq_wb']:.3f}  lag {r['lag_ms']:6.1f} ms  "
      f"(want {lo}..{hi}{', lag ' + lag + ' ms' if lag else ''})  {'ok' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
EOF
}

# refuse NAME FILE: the scorer must exit non-zero with a message on stderr.
refuse() {
  local err
  if err="$("$PY" "$SCORE" "$REF" "$2" 2>&1 >/dev/null)"; then
    echo "  $1: accepted, should have been refused  FAIL"
    fail=1
  else
    echo "  $1: refused: $err  ok"
  fi
}

cp "$REF" "$tmp/identical.wav"
sox -R "$REF" "$tmp/delayed.wav" pad 0.137 0
sox -R "$REF" -r 16000 "$tmp/ref-16k.wav"
sox -R "$REF" "$tmp/silent.wav" vol 0      # dither noise only, about -100 dBFS
sox -D "$REF" "$tmp/zeros.wav" vol 0       # exact zeros
"$PY" - "$REF" "$tmp/gaps.wav" <<'EOF'
# Zeroes 5 % of the 20 ms frames, chosen with a fixed seed.
import sys, wave
import numpy as np
with wave.open(sys.argv[1], "rb") as w:
    params, x = w.getparams(), np.frombuffer(w.readframes(w.getnframes()), "<i2").copy()
frame = params.framerate // 50
n = len(x) // frame
for i in np.random.default_rng(7).choice(n, size=n // 20, replace=False):
    x[i * frame:(i + 1) * frame] = 0
with wave.open(sys.argv[2], "wb") as w:
    w.setparams(params)
    w.writeframes(x.astype("<i2").tobytes())
EOF

echo "test-pesq: scripts/score_pesq.py against data/generated/speech-a-48k.wav"
score "identical copy" "$tmp/identical.wav" 4.55 4.70 0
score "delayed by 137 ms" "$tmp/delayed.wav" 4.50 4.70 137
score "resampled to 16 kHz" "$tmp/ref-16k.wav" 4.30 4.70 0
score "5 % of 20 ms frames zeroed" "$tmp/gaps.wav" 1.00 3.00
refuse "silent copy (dither only)" "$tmp/silent.wav"
refuse "all-zero copy" "$tmp/zeros.wav"
refuse "missing file" "$tmp/no-such.wav"
if [ "$fail" -ne 0 ]; then
  echo "test-pesq: FAILED" >&2
  exit 1
fi
echo "test-pesq: all checks passed"
