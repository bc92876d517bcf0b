#!/usr/bin/env python3
"""WB-PESQ (ITU-T P.862.2) of a degraded speech file against its reference.

    .venv/bin/python scripts/score_pesq.py REF.wav DEG.wav [--json]

Both files are 16-bit PCM WAV at 48 or 16 kHz (mono, or the first channel is used).
They are brought to 16 kHz (windowed-sinc low-pass and decimation by 3 with numpy), the
degraded signal is aligned to the reference by cross-correlation (a call adds tens to
hundreds of ms of delay, and PESQ is not delay-invariant), trimmed or zero-padded to the
reference's length, and scored with the `pesq` package (the ITU reference code).
Prints `pesq_wb: X.XXX` and `lag_ms: N`, or a JSON object with --json. Exit status 1
with a message when a file is unusable, either signal is silent (RMS below -70 dBFS: a
lag found on silence is noise, and PESQ returns NaN rather than an error code for a silent
degraded signal), or PESQ reports an error.
"""
import json
import sys
import wave

import numpy as np
from pesq import PesqError, pesq

RATE = 16000
MAX_LAG_S = 1.0
# Below this RMS (about 10 LSB of 16-bit full scale) a signal counts as silent.
SILENT_DBFS = -70.0


def fail(message):
    print(f"score_pesq.py: {message}", file=sys.stderr)
    sys.exit(1)


def read(path):
    try:
        with wave.open(path, "rb") as w:
            if w.getsampwidth() != 2:
                fail(f"{path}: not 16-bit PCM")
            rate, channels = w.getframerate(), w.getnchannels()
            data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    except (OSError, wave.Error, EOFError) as e:
        fail(f"{path}: {e}")
    x = data.reshape(-1, channels)[:, 0].astype(np.float64)
    if rate == 48000:
        # Low-pass at 7.6 kHz (windowed sinc, 121 taps), then keep every third sample.
        n = np.arange(-60, 61)
        h = np.sinc(2 * 7600 / 48000 * n) * np.hamming(len(n))
        h /= h.sum()
        x = np.convolve(x, h, mode="same")[::3]
    elif rate != RATE:
        fail(f"{path}: sample rate {rate} (need 48000 or 16000)")
    return x


def check_not_silent(path, x):
    rms = np.sqrt(np.mean(np.square(x))) if len(x) else 0.0
    dbfs = 20 * np.log10(rms / 32768) if rms > 0 else -np.inf
    if dbfs < SILENT_DBFS:
        fail(f"{path}: silent (RMS {dbfs:.1f} dBFS); nothing to score")


def align(ref, deg):
    """Shifts `deg` so that it lines up with `ref`; returns it and the lag in samples."""
    n = 1 << int(np.ceil(np.log2(len(ref) + len(deg))))
    corr = np.fft.irfft(np.fft.rfft(deg, n) * np.conj(np.fft.rfft(ref, n)), n)
    max_lag = int(MAX_LAG_S * RATE)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    window = np.concatenate([corr[: max_lag + 1], corr[n - max_lag :]])
    lag = int(lags[int(np.argmax(window))])
    if lag >= 0:
        out = deg[lag:]
    else:
        out = np.concatenate([np.zeros(-lag), deg])
    out = out[: len(ref)]
    if len(out) < len(ref):
        out = np.concatenate([out, np.zeros(len(ref) - len(out))])
    return out, lag


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        fail("usage: score_pesq.py REF.wav DEG.wav [--json]")
    ref, deg = read(args[0]), read(args[1])
    check_not_silent(args[0], ref)
    check_not_silent(args[1], deg)
    deg, lag = align(ref, deg)
    to16 = lambda x: np.clip(np.round(x), -32768, 32767).astype(np.int16)
    score = pesq(RATE, to16(ref), to16(deg), "wb", on_error=PesqError.RETURN_VALUES)
    if not np.isfinite(score) or score < 0:
        fail(f"PESQ could not score {args[1]} (error {score}: silent or too short?)")
    lag_ms = 1000.0 * lag / RATE
    if "--json" in sys.argv:
        print(json.dumps({"pesq_wb": round(float(score), 3), "lag_ms": lag_ms}))
    else:
        print(f"pesq_wb: {score:.3f}\nlag_ms: {lag_ms:.1f}")


if __name__ == "__main__":
    main()
